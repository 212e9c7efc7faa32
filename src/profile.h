/*
 * profile: what patchscope decides about the profiles of the API it
 * watches -- which profile a request names, where what is known of a
 * profile is kept (the snapshot store key), learning a profile from an
 * answer (live, recorded, or a replayed cassette's first answer: the seed),
 * and checking a PATCH against what is known. Pure: no sockets, no
 * printing; bodies come in already decoded.
 */
#ifndef PATCHSCOPE_PROFILE_H
#define PATCHSCOPE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct diag_list;
struct exchange;
struct profile_seed;
struct replay_index;
struct rules;
struct snapshot;
struct snapshot_store;

/* Which profile a request names; every member is owned by the struct. */
struct profile_ref {
	char	*account;	/* NULL for "/v1/profiles/{id}" */
	char	*profile;
	char	*fields;	/* decoded "fields" parameter, or NULL */
};

/* The store key of replay mode, and of `show` reading a cassette. */
#define PROFILE_KEY_REPLAY	"replay"
#define PROFILE_KEY_SHOW	"show"

/* profile_answer_ref() flag: take an answer whatever its Content-Type. */
#define PROFILE_ANY_TYPE	0x1

/*
 * Fill ref from a request target (origin-form or absolute-form) when it
 * names a profile (see api_profile_target). Return 0 (free ref with
 * profile_ref_free), or -1 with every member of ref NULL.
 */
int	profile_ref_parse(const char *target, struct profile_ref *ref);
/*
 * Fill ref from the absolute URL of a recorded exchange, as the replay
 * seed and `show` read it (http_url_parse first, then its target). Return
 * 0, or -1 (not a URL, not a profile; NULL is fine) with ref all NULL.
 */
int	profile_ref_from_url(const char *url, struct profile_ref *ref);
/* Free the members of ref (NULL members are fine); it is all NULL after. */
void	profile_ref_free(struct profile_ref *ref);

/*
 * Append the snapshot store key of an origin to b: "host:port" (a NULL
 * host is ""), or PROFILE_KEY_REPLAY when replaying (replay answers for
 * the cassette's hosts, whatever the URL says).
 */
void	profile_key(struct buf *b, const char *host, int port, int replay);

/*
 * Learn from the decoded body of a profile answer (len bytes; NULL is
 * fine): when it is a JSON object, the rules learn its values and its
 * snapshot (when it has an "actions" array) replaces the one kept for
 * (key, ref's account, ref's profile). Return 1 when a snapshot was kept,
 * else 0 (not JSON, not an object, no "actions").
 */
int	profile_learn(struct rules *, struct snapshot_store *, const char *key,
	    const struct profile_ref *ref, const char *body, size_t len);
/*
 * Return the FNV-1a hash of url (NULL counts as "") then the len body
 * bytes: a connection that keeps the last one learns from a polled
 * profile answer only when it changed.
 */
uint64_t profile_answer_hash(const char *url, const char *body, size_t len);

/*
 * Return 0 and fill ref when a recorded exchange's answer shows a profile
 * to learn from: status 2xx, method GET or PATCH, a JSON Content-Type
 * (any with PROFILE_ANY_TYPE, as `show` does), a body that was not
 * truncated, a profile URL. Else -1, ref all NULL.
 */
int	profile_answer_ref(const struct exchange *, int flags,
	    struct profile_ref *ref);
/*
 * profile_learn() from a recorded exchange's response body when
 * profile_answer_ref(x, flags) accepts it. Return 1 when a snapshot was
 * kept, else 0.
 */
int	profile_learn_answer(struct rules *, struct snapshot_store *,
	    const char *key, const struct exchange *x, int flags);

/*
 * The replay seed: for each profile a cassette shows, its first answer
 * (a GET, or a PATCH that returned the profile). idx is borrowed and must
 * outlive the seed. Never NULL; free with profile_seed_free (NULL is fine).
 */
struct profile_seed *profile_seed_new(const struct replay_index *idx);
void	profile_seed_free(struct profile_seed *);
/* Return the number of profiles the seed knows a first answer of. */
size_t	profile_seed_count(const struct profile_seed *);
/*
 * What is known in replay of a profile (account NULL or ""): the store's
 * snapshot under PROFILE_KEY_REPLAY, else the seed's answer learned now
 * into rules and store (so once, unless the bounded store drops it).
 * Return the snapshot (borrowed from the store), or NULL when neither has
 * one.
 */
const struct snapshot *profile_seed_snapshot(struct profile_seed *,
	    struct rules *, struct snapshot_store *, const char *account,
	    const char *profile);

/*
 * Check a decoded PATCH body (len bytes; NULL is fine) sent to ref's
 * profile: diagnose it against the store's snapshot for (key, ref), or,
 * when there is none and seed is not NULL (replay), the seed's; append
 * the diagnoses to out (see diagnose_patch).
 */
void	profile_check(struct rules *, struct snapshot_store *,
	    struct profile_seed *seed, const char *key,
	    const struct profile_ref *ref, const char *body, size_t len,
	    struct diag_list *out);

#endif
