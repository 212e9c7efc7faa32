/*
 * profile: learning profiles from answers, the replay seed and checking a
 * PATCH (see profile.h).
 *
 * What is known of a profile lives in two places the caller owns: the
 * rules (values learned from every profile answer) and a snapshot store
 * keyed by (key, account, profile), where key names the origin
 * ("host:port"), or the whole cassette in replay and `show`. This module
 * only decides what to learn and where it goes.
 *
 * The seed holds, for each (account, profile) a cassette shows, the entry
 * number of its first answer, sorted by key for bsearch; the answer itself
 * stays in the replay index and is parsed only when a PATCH needs it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "body.h"
#include "buf.h"
#include "diagnose.h"
#include "exchange.h"
#include "hash.h"
#include "http.h"
#include "profile.h"
#include "replay.h"
#include "rules.h"
#include "snapshot.h"
#include "xmalloc.h"

/* A profile's first answer in the cassette. */
struct profile_seed_entry {
	char	*key;		/* account NUL profile */
	size_t	 keylen;
	size_t	 entry;
};

struct profile_seed {
	const struct replay_index	*idx;
	struct profile_seed_entry	*v;
	size_t				 n;
};

/* The store takes a missing account as "". */
static const char *
profile_account(const char *account)
{
	return account != NULL ? account : "";
}

/* Fill ref from a target; see profile.h. */
int
profile_ref_parse(const char *target, struct profile_ref *ref)
{
	memset(ref, 0, sizeof *ref);
	if (target == NULL)
		return -1;
	return api_profile_target(target, &ref->account, &ref->profile,
	    &ref->fields);
}

/* Fill ref from a recorded exchange's URL. */
int
profile_ref_from_url(const char *url, struct profile_ref *ref)
{
	struct http_url	 u;
	const char	*errstr;
	int		 rc;

	memset(ref, 0, sizeof *ref);
	if (url == NULL || http_url_parse(url, &u, &errstr) != 0)
		return -1;
	rc = profile_ref_parse(u.target, ref);
	http_url_free(&u);
	return rc;
}

/* Free the members of ref. */
void
profile_ref_free(struct profile_ref *ref)
{
	free(ref->account);
	free(ref->profile);
	free(ref->fields);
	memset(ref, 0, sizeof *ref);
}

/* Append the snapshot store key of an origin. */
void
profile_key(struct buf *b, const char *host, int port, int replay)
{
	if (replay) {
		buf_adds(b, PROFILE_KEY_REPLAY);
		return;
	}
	buf_printf(b, "%s:%d", host != NULL ? host : "", port);
}

/* Learn from a decoded profile answer body. */
int
profile_learn(struct rules *rules, struct snapshot_store *store,
    const char *key, const struct profile_ref *ref, const char *body,
    size_t len)
{
	struct snapshot	*snap = NULL;
	json_t		*doc;

	if (body == NULL)
		return 0;
	doc = json_loadb(body, len, 0, NULL);
	if (json_is_object(doc)) {
		rules_learn(rules, doc);
		snap = snapshot_new(doc, ref->fields);
		if (snap != NULL)
			snapshot_store_put(store, key,
			    profile_account(ref->account), ref->profile, snap);
	}
	json_decref(doc);
	return snap != NULL;
}

/* Hash a profile answer for the poll shortcut. */
uint64_t
profile_answer_hash(const char *url, const char *body, size_t len)
{
	uint64_t	h;

	h = hash_str(HASH_FNV_OFFSET, url != NULL ? url : "");
	return hash_bytes(h, body, len);
}

/* Does a recorded exchange's answer show a profile to learn from? */
int
profile_answer_ref(const struct exchange *x, int flags,
    struct profile_ref *ref)
{
	memset(ref, 0, sizeof *ref);
	if (x->status < 200 || x->status > 299 || x->resp_body.data == NULL ||
	    x->resp_body.truncated || x->method == NULL ||
	    (strcmp(x->method, "GET") != 0 && strcmp(x->method, "PATCH") != 0))
		return -1;
	if ((flags & PROFILE_ANY_TYPE) == 0 && !body_is_json(
	    http_headers_get(&x->resp_headers, HTTP_CONTENT_TYPE)))
		return -1;
	return profile_ref_from_url(x->url, ref);
}

/* Learn from a recorded exchange's answer. */
int
profile_learn_answer(struct rules *rules, struct snapshot_store *store,
    const char *key, const struct exchange *x, int flags)
{
	struct profile_ref	 ref;
	int			 rc;

	if (profile_answer_ref(x, flags, &ref) != 0)
		return 0;
	rc = profile_learn(rules, store, key, &ref, x->resp_body.data,
	    x->resp_body.len);
	profile_ref_free(&ref);
	return rc;
}

/* Make a seed key: account NUL profile. */
static void
profile_seed_key(struct buf *key, const char *account, const char *profile)
{
	buf_adds(key, profile_account(account));
	buf_add(key, "", 1);
	buf_adds(key, profile);
}

/* Compare seed entries by key alone (bsearch). */
static int
profile_seed_key_cmp(const void *a, const void *b)
{
	const struct profile_seed_entry	*x = a, *y = b;
	size_t				 n;
	int				 c;

	n = x->keylen < y->keylen ? x->keylen : y->keylen;
	c = memcmp(x->key, y->key, n);
	if (c != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/* Compare seed entries by key, then entry (qsort: the first entry first). */
static int
profile_seed_cmp(const void *a, const void *b)
{
	const struct profile_seed_entry	*x = a, *y = b;
	int				 c;

	c = profile_seed_key_cmp(a, b);
	if (c != 0)
		return c;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* Note each profile's first answer in idx. */
struct profile_seed *
profile_seed_new(const struct replay_index *idx)
{
	struct profile_seed	*seed;
	struct profile_ref	 ref;
	struct buf		 key = { NULL, 0, 0 };
	size_t			 i, n, cap = 0;

	seed = xcalloc(1, sizeof *seed);
	seed->idx = idx;
	for (i = 0; i < replay_count(idx); i++) {
		if (profile_answer_ref(replay_entry(idx, i), 0, &ref) != 0)
			continue;
		buf_reset(&key);
		profile_seed_key(&key, ref.account, ref.profile);
		profile_ref_free(&ref);
		if (seed->n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			seed->v = xreallocarray(seed->v, cap, sizeof *seed->v);
		}
		seed->v[seed->n].key = xmalloc(key.len);
		memcpy(seed->v[seed->n].key, key.data, key.len);
		seed->v[seed->n].keylen = key.len;
		seed->v[seed->n++].entry = i;
	}
	buf_free(&key);
	/* Sorted by key, then entry: keep each key's first entry. */
	if (seed->n > 1)
		qsort(seed->v, seed->n, sizeof *seed->v, profile_seed_cmp);
	for (i = n = 0; i < seed->n; i++) {
		if (n > 0 && profile_seed_key_cmp(&seed->v[n - 1],
		    &seed->v[i]) == 0) {
			free(seed->v[i].key);
			continue;
		}
		seed->v[n++] = seed->v[i];
	}
	seed->n = n;
	return seed;
}

/* Free a seed. */
void
profile_seed_free(struct profile_seed *seed)
{
	size_t	i;

	if (seed == NULL)
		return;
	for (i = 0; i < seed->n; i++)
		free(seed->v[i].key);
	free(seed->v);
	free(seed);
}

/* Count the profiles a seed knows. */
size_t
profile_seed_count(const struct profile_seed *seed)
{
	return seed->n;
}

/* What replay knows of a profile: the store's, else the seed's. */
const struct snapshot *
profile_seed_snapshot(struct profile_seed *seed, struct rules *rules,
    struct snapshot_store *store, const char *account, const char *profile)
{
	const struct snapshot		*snap;
	const struct exchange		*x;
	struct profile_seed_entry	 want, *found;
	struct buf			 key = { NULL, 0, 0 };

	snap = snapshot_store_get(store, PROFILE_KEY_REPLAY,
	    profile_account(account), profile);
	if (snap != NULL || seed->n == 0)
		return snap;
	profile_seed_key(&key, account, profile);
	want.key = key.data;
	want.keylen = key.len;
	want.entry = 0;
	found = bsearch(&want, seed->v, seed->n, sizeof *seed->v,
	    profile_seed_key_cmp);
	buf_free(&key);
	if (found == NULL ||
	    (x = replay_entry(seed->idx, found->entry)) == NULL)
		return NULL;
	/* The entry's own account and profile are the key's. */
	profile_learn_answer(rules, store, PROFILE_KEY_REPLAY, x, 0);
	return snapshot_store_get(store, PROFILE_KEY_REPLAY,
	    profile_account(account), profile);
}

/* Diagnose a decoded PATCH body against what is known of its profile. */
void
profile_check(struct rules *rules, struct snapshot_store *store,
    struct profile_seed *seed, const char *key, const struct profile_ref *ref,
    const char *body, size_t len, struct diag_list *out)
{
	const struct snapshot	*snap;

	snap = snapshot_store_get(store, key, profile_account(ref->account),
	    ref->profile);
	if (snap == NULL && seed != NULL)
		snap = profile_seed_snapshot(seed, rules, store, ref->account,
		    ref->profile);
	diagnose_patch(body != NULL ? body : "", body != NULL ? len : 0,
	    ref->fields, snap, rules, out);
}
