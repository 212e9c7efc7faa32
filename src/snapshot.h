/*
 * snapshot: what is known of one profile from a GET of it seen by the proxy
 * (or a cassette, or `lint --snapshot`): its actions and their ids, which
 * fields the GET's "fields" projection included, and the values its actions
 * use. A store keeps the latest snapshot per (host, account, profile),
 * bounded. Pure.
 */
#ifndef PATCHSCOPE_SNAPSHOT_H
#define PATCHSCOPE_SNAPSHOT_H

#include <stddef.h>

struct json_t;
struct snapshot;
struct snapshot_store;

/*
 * Make a snapshot from a GET response body (a JSON object; the snapshot
 * keeps its own copy) and the decoded value of the GET's "fields" query
 * parameter (NULL when absent). Return NULL when body has no "actions"
 * array (nothing is then known of them).
 */
struct snapshot *snapshot_new(const struct json_t *body, const char *fields);
/* Free (NULL is fine). */
void	snapshot_free(struct snapshot *);
/* Number of actions, and the id of action i (NULL when it has none). */
size_t	snapshot_count(const struct snapshot *);
const char *snapshot_action_id(const struct snapshot *, size_t i);
/* Return nonzero when the snapshot holds an action with this id. */
int	snapshot_has_id(const struct snapshot *, const char *id);
/* The action with this id as fetched (borrowed), or NULL. */
const struct json_t *snapshot_action(const struct snapshot *, const char *id);
/*
 * Return nonzero when the GET's projection included field of the actions
 * (e.g. "headers"). "actions" alone or "actions.*" includes every field;
 * "actions.X" (or "actions.X.Y") includes X. Without a "fields" parameter,
 * or one that does not name actions, the API returns a smaller default set,
 * so only id, type, anchor, status and title count as included then. A
 * field present in any fetched action always counts as included.
 */
int	snapshot_has_field(const struct snapshot *, const char *field);
/* The "fields" value of the GET, or NULL. */
const char *snapshot_fields(const struct snapshot *);
/*
 * Return nonzero when a fetched action uses value: kind "type", "anchor",
 * "field" (a key of an action) or "placeholder" (in a string of an action,
 * without braces).
 */
int	snapshot_knows(const struct snapshot *, const char *kind,
	    const char *value);

/* A bounded store of snapshots keyed by host, account and profile. */
struct snapshot_store *snapshot_store_new(size_t max);
/* Free the store and every snapshot in it (NULL is fine). */
void	snapshot_store_free(struct snapshot_store *);
/*
 * Keep snap (the store owns it) as the latest for the key, replacing and
 * freeing an older one. When the store is full, the entry put longest ago
 * goes. A NULL snap leaves what is known alone. NULL host or account count
 * as "".
 */
void	snapshot_store_put(struct snapshot_store *, const char *host,
	    const char *account, const char *profile, struct snapshot *);
/* The latest snapshot for the key (borrowed), or NULL. */
const struct snapshot *snapshot_store_get(const struct snapshot_store *,
	    const char *host, const char *account, const char *profile);
/* Number of snapshots held. */
size_t	snapshot_store_count(const struct snapshot_store *);

#endif
