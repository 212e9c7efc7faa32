/*
 * replay: the index of a cassette's exchanges and the matching of live
 * requests against it.
 *
 * A request reduces to its parts (struct rp_req): method, origin, raw
 * path, query parameters sorted by (name, value), the --match-header
 * values and the canonical body (JSON re-dumped compact with sorted keys,
 * else the raw bytes). Everything but the origin, with a 64-bit hash
 * standing in for the body, is the "loose key". Entries with the same
 * loose key form a group; within a group, entries with the same origin
 * form a sequence, served in entry order, the last one repeating.
 *
 * Open-addressing tables find a group by loose key, an interned origin by
 * its text and a sequence by (group, origin): a lookup is O(1) in the
 * number of entries. Canonical bodies are not kept; a hash hit is
 * confirmed by recomputing the recorded body's canonical form. Two more
 * tables list the entries by method and path and by path: only a miss
 * reads them, to name the nearest entry, comparing at most
 * RP_MAX_CANDIDATES of them in detail.
 *
 * The index owns every exchange added, each allocated on its own so that
 * a pointer handed out (replay_entry, a hit) stays valid while more are
 * added, and a copy of the method and URL of the first RP_MAX_MISSES
 * misses (later ones are only counted).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "exchange.h"
#include "http.h"
#include "replay.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

#define RP_NONE			((size_t)-1)
#define RP_MAX_MISSES		1000	/* misses listed in the report */
#define RP_MAX_CANDIDATES	1000	/* entries compared for the nearest */
#define RP_MAX_BODY_DIFFS	20	/* body differences listed */
#define RP_MAX_DEPTH		64	/* JSON levels compared one by one */
#define RP_COPY_DEPTH		16	/* levels of a value quoted */
#define RP_MAX_STRING		200	/* bytes of a string quoted */
#define RP_MSG_ITEMS		6	/* differences named in the message */

#define RP_FNV_OFFSET		0xcbf29ce484222325ULL
#define RP_FNV_PRIME		0x100000001b3ULL

/* A hash table of indexes into one of the index's arrays. */
struct rp_slot {
	uint64_t	 hash;
	size_t		 val;		/* array index + 1; 0: empty slot */
};

struct rp_table {
	struct rp_slot	*slot;
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 n;
};

struct rp_origin {
	char	*text;		/* "https://host:443", "" when none */
	char	*host;		/* lower case, IPv6 without brackets */
	int	 port;
};

/* The entries of one group that share an origin, in entry order. */
struct rp_seq {
	size_t	 group;
	size_t	 origin;
	size_t	 next;		/* the group's next sequence, or RP_NONE */
	size_t	*entries;
	size_t	 n;
	size_t	 cap;
	size_t	 served;
};

struct rp_group {
	char		*key;		/* loose key without the body */
	size_t		 keylen;
	uint64_t	 body_hash;
	size_t		 first;		/* its sequences, in order of origin */
	size_t		 last;
};

/* The entries with one method and path, or one path, in entry order. */
struct rp_list {
	char	*key;
	size_t	 keylen;
	size_t	*v;
	size_t	 n;
	size_t	 cap;
};

struct rp_entry {
	struct exchange	*x;
	size_t		 seq;
	int		 served;
};

struct rp_miss {
	char	*method;
	char	*url;
	size_t	 nearest;
};

struct replay_index {
	char		**headers;	/* match header names */
	size_t		  nheaders;

	struct rp_entry	 *entries;
	size_t		  n;
	size_t		  cap;
	size_t		  nserved;	/* entries served at least once */

	struct rp_group	 *groups;
	size_t		  ngroups;
	size_t		  capgroups;
	struct rp_seq	 *seqs;
	size_t		  nseqs;
	size_t		  capseqs;
	struct rp_origin *origins;
	size_t		  norigins;
	size_t		  caporigins;
	struct rp_list	 *lists;
	size_t		  nlists;
	size_t		  caplists;

	struct rp_table	  t_group;	/* loose key -> group */
	struct rp_table	  t_origin;	/* origin text -> origin */
	struct rp_table	  t_seq;	/* (group, origin) -> sequence */
	struct rp_table	  t_mpath;	/* method and path -> list */
	struct rp_table	  t_path;	/* path -> list */

	struct buf	  scratch;	/* keys being looked up */

	struct rp_miss	 *misses;
	size_t		  nmisses;	/* kept */
	size_t		  capmisses;
	size_t		  misses_total;
};

/* The parts of a request that matching compares. */
struct rp_req {
	const char	*method;
	const char	*url;
	char		*scheme;	/* NULL when the URL names no origin */
	char		*host;
	int		 port;
	char		*origin;	/* "scheme://host:port", or "" */
	const char	*path;		/* in url (or a static "/") */
	size_t		 pathlen;
	struct uri_query query;		/* decoded, sorted ('+': space) */
	char		**hvals;	/* per match header; NULL: absent */
	size_t		 nhvals;
	const char	*body;		/* canonical body */
	size_t		 bodylen;
	char		*body_owned;	/* body, when it was re-dumped */
	json_t		*doc;		/* the body parsed, when JSON */
	size_t		 rawlen;	/* the body's bytes as sent */
	uint64_t	 body_hash;
};

/* A comparison in progress: counts differences, lists them when asked. */
struct rp_diffs {
	json_t	*out;		/* array of differences, or NULL: count */
	size_t	 count;
	size_t	 stop;		/* give up counting at this many */
	size_t	 nbody;		/* body differences found */
	struct buf ptr;		/* JSON Pointer being compared */
};

static void *
rp_grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap == 0 ? 2 : *cap * 2;
	return xreallocarray(v, *cap, size);
}

static uint64_t
rp_hash(const void *data, size_t len, uint64_t h)
{
	const unsigned char	*p = data;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= RP_FNV_PRIME;
	}
	return h;
}

/* Spread FNV's bits over the low end, which picks the slot. */
static uint64_t
rp_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*
 * Find the value whose hash is h and that eq_cb accepts; return RP_NONE
 * when there is none.
 */
static size_t
rp_table_find(const struct rp_table *t, uint64_t h,
    int (*eq_cb)(const void *, size_t), const void *ctx)
{
	size_t	i, mask;

	if (t->cap == 0)
		return RP_NONE;
	mask = t->cap - 1;
	for (i = (size_t)h & mask; t->slot[i].val != 0; i = (i + 1) & mask)
		if (t->slot[i].hash == h && eq_cb(ctx, t->slot[i].val - 1))
			return t->slot[i].val - 1;
	return RP_NONE;
}

/* Add a value (not already there), keeping the load at most a half. */
static void
rp_table_put(struct rp_table *t, uint64_t h, size_t v)
{
	struct rp_table	 old = *t;
	size_t		 i, mask;

	if ((t->n + 1) * 2 > t->cap) {
		t->cap = old.cap == 0 ? 16 : old.cap * 2;
		t->slot = xcalloc(t->cap, sizeof *t->slot);
		t->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.slot[i].val != 0)
				rp_table_put(t, old.slot[i].hash,
				    old.slot[i].val - 1);
		free(old.slot);
	}
	mask = t->cap - 1;
	for (i = (size_t)h & mask; t->slot[i].val != 0; i = (i + 1) & mask)
		continue;
	t->slot[i].hash = h;
	t->slot[i].val = v + 1;
	t->n++;
}

static void
rp_table_free(struct rp_table *t)
{
	free(t->slot);
	memset(t, 0, sizeof *t);
}

static int
rp_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	c;

	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* A JSON string of len bytes; bytes that are not UTF-8 become '?'. */
static json_t *
rp_jstr(const char *s, size_t len)
{
	json_t	*v;
	char	*copy;
	size_t	 i;

	v = json_stringn(s, len);
	if (v != NULL)
		return v;
	copy = xstrndup(s, len);
	for (i = 0; i < len; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	v = json_stringn(copy, len);
	free(copy);
	return v;
}

/* A JSON string, or null for NULL. */
static json_t *
rp_jstrz(const char *s)
{
	return s == NULL ? json_null() : rp_jstr(s, strlen(s));
}

/*
 * Take the URL apart (uri_split). Lenient: a URL with no "scheme://" is
 * all path and query, with an empty origin; a port that is not one is
 * the scheme's default.
 */
static void
rp_url_split(struct rp_req *r)
{
	struct uri_parts	 u;
	size_t			 i;
	int			 port;

	uri_split(r->url, &u);
	if (u.scheme.p == NULL)
		r->origin = xstrdup("");
	else {
		r->scheme = xstrndup(u.scheme.p, u.scheme.len);
		for (i = 0; r->scheme[i] != '\0'; i++)
			if (r->scheme[i] >= 'A' && r->scheme[i] <= 'Z')
				r->scheme[i] += 'a' - 'A';
		r->host = xstrndup(u.host.p, u.host.len);
		for (i = 0; r->host[i] != '\0'; i++)
			if (r->host[i] >= 'A' && r->host[i] <= 'Z')
				r->host[i] += 'a' - 'A';
		r->port = uri_default_port(u.scheme.p, u.scheme.len);
		port = uri_port(u.port);
		if (port >= 0 && port <= 65535)
			r->port = port;
		r->origin = xasprintf(strchr(r->host, ':') != NULL ?
		    "%s://[%s]:%d" : "%s://%s:%d", r->scheme, r->host,
		    r->port);
	}
	r->path = u.path.p;
	r->pathlen = u.path.len;
	if (u.path.len == 0 && r->scheme != NULL) {
		r->path = "/";
		r->pathlen = 1;
	}
	/* Form decoding: "a+b" and "a%20b" are the same value. */
	if (u.query.p != NULL)
		uri_query_parse(&r->query, u.query.p, u.query.len,
		    URI_DECODE_PLUS);
}

/* Return all values of a header joined with ", ", or NULL when absent. */
static char *
rp_header_join(const struct http_headers *h, const char *name)
{
	struct buf	b = { NULL, 0, 0 };
	size_t		i, found = 0;

	for (i = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, name) != 0)
			continue;
		if (found++ > 0)
			buf_adds(&b, ", ");
		buf_adds(&b, h->v[i].value);
	}
	if (found == 0)
		return NULL;
	if (b.data == NULL)
		return xstrdup("");
	return b.data;
}

/* Does a Content-Type name JSON ("application/json", "...+json")? */
static int
rp_type_is_json(const char *ct)
{
	size_t	len;

	len = strcspn(ct, ";");
	while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	return len >= 5 && (strncasecmp(ct + len - 5, "/json", 5) == 0 ||
	    strncasecmp(ct + len - 5, "+json", 5) == 0);
}

/*
 * Set the canonical body: JSON dumped compact with sorted keys when the
 * bytes parse as JSON (tried when they start like an object or array, or
 * the Content-Type says JSON), else the bytes as they are.
 */
static void
rp_body_canon(const struct exchange *x, struct rp_req *r)
{
	const struct exchange_body	*b = &x->req_body;
	const char			*ct;
	json_error_t			 err;
	json_t				*doc;
	size_t				 i;
	int				 tryjson = 0;

	r->body = "";
	r->bodylen = 0;
	r->rawlen = b->data != NULL ? b->len : 0;
	if (r->rawlen == 0)
		return;
	for (i = 0; i < b->len; i++)
		if (strchr(" \t\r\n", b->data[i]) == NULL ||
		    b->data[i] == '\0')
			break;
	if (i < b->len && (b->data[i] == '{' || b->data[i] == '['))
		tryjson = 1;
	ct = http_headers_get(&x->req_headers, "Content-Type");
	if (ct != NULL && rp_type_is_json(ct))
		tryjson = 1;
	if (tryjson) {
		doc = json_loadb(b->data, b->len,
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (doc != NULL) {
			r->body_owned = json_dumps(doc, JSON_COMPACT |
			    JSON_SORT_KEYS | JSON_ENCODE_ANY);
			if (r->body_owned != NULL) {
				r->body = r->body_owned;
				r->bodylen = strlen(r->body_owned);
				r->doc = doc;
				return;
			}
			json_decref(doc);
		}
	}
	r->body = b->data;
	r->bodylen = b->len;
}

/* Reduce an exchange's request to the parts matching compares. */
static void
rp_req_parse(const struct replay_index *idx, const struct exchange *x,
    struct rp_req *r)
{
	size_t	i;

	memset(r, 0, sizeof *r);
	r->method = x->method != NULL ? x->method : "";
	r->url = x->url != NULL ? x->url : "";
	rp_url_split(r);
	r->nhvals = idx->nheaders;
	if (idx->nheaders > 0) {
		r->hvals = xcalloc(idx->nheaders, sizeof *r->hvals);
		for (i = 0; i < idx->nheaders; i++)
			r->hvals[i] = rp_header_join(&x->req_headers,
			    idx->headers[i]);
	}
	rp_body_canon(x, r);
	r->body_hash = rp_hash(r->body, r->bodylen, RP_FNV_OFFSET);
}

static void
rp_req_free(struct rp_req *r)
{
	size_t	i;

	free(r->scheme);
	free(r->host);
	free(r->origin);
	uri_query_free(&r->query);
	for (i = 0; i < r->nhvals; i++)
		free(r->hvals[i]);
	free(r->hvals);
	free(r->body_owned);
	json_decref(r->doc);
	memset(r, 0, sizeof *r);
}

/* Append a field to a key: its length (as bytes), then its bytes. */
static void
rp_key_add(struct buf *b, const char *data, size_t len)
{
	buf_add(b, &len, sizeof len);
	buf_add(b, data, len);
}

/* Write the loose key: length-prefixed fields, so no two keys collide. */
static void
rp_loose_key(const struct rp_req *r, struct buf *b)
{
	size_t	i;

	rp_key_add(b, r->method, strlen(r->method));
	rp_key_add(b, r->path, r->pathlen);
	buf_add(b, &r->query.n, sizeof r->query.n);
	for (i = 0; i < r->query.n; i++) {
		rp_key_add(b, r->query.v[i].name.p, r->query.v[i].name.len);
		rp_key_add(b, r->query.v[i].value.p, r->query.v[i].value.len);
	}
	for (i = 0; i < r->nhvals; i++) {
		if (r->hvals[i] == NULL)
			buf_add(b, "-", 1);
		else {
			buf_add(b, "+", 1);
			rp_key_add(b, r->hvals[i], strlen(r->hvals[i]));
		}
	}
}

/* Is the canonical request body of x the same as r's? */
static int
rp_body_equal(const struct exchange *x, const struct rp_req *r)
{
	struct rp_req	c;
	int		eq;

	memset(&c, 0, sizeof c);
	rp_body_canon(x, &c);
	eq = c.bodylen == r->bodylen && memcmp(c.body, r->body,
	    r->bodylen) == 0;
	free(c.body_owned);
	json_decref(c.doc);
	return eq;
}

struct rp_group_ctx {
	const struct replay_index	*idx;
	const struct buf		*key;
	const struct rp_req		*r;
};

static int
rp_group_eq_cb(const void *arg, size_t v)
{
	const struct rp_group_ctx	*ctx = arg;
	const struct replay_index	*idx = ctx->idx;
	const struct rp_group		*g = &idx->groups[v];
	size_t				 entry;

	if (g->keylen != ctx->key->len || g->body_hash != ctx->r->body_hash ||
	    memcmp(g->key, ctx->key->data, g->keylen) != 0)
		return 0;
	entry = idx->seqs[g->first].entries[0];
	return rp_body_equal(idx->entries[entry].x, ctx->r);
}

struct rp_origin_ctx {
	const struct replay_index	*idx;
	const char			*text;
};

static int
rp_origin_eq_cb(const void *arg, size_t v)
{
	const struct rp_origin_ctx	*ctx = arg;

	return strcmp(ctx->idx->origins[v].text, ctx->text) == 0;
}

struct rp_seq_ctx {
	const struct replay_index	*idx;
	size_t				 group;
	size_t				 origin;
};

static int
rp_seq_eq_cb(const void *arg, size_t v)
{
	const struct rp_seq_ctx	*ctx = arg;

	return ctx->idx->seqs[v].group == ctx->group &&
	    ctx->idx->seqs[v].origin == ctx->origin;
}

struct rp_list_ctx {
	const struct replay_index	*idx;
	const struct buf		*key;
};

static int
rp_list_eq_cb(const void *arg, size_t v)
{
	const struct rp_list_ctx	*ctx = arg;
	const struct rp_list		*l = &ctx->idx->lists[v];

	return l->keylen == ctx->key->len &&
	    memcmp(l->key, ctx->key->data, l->keylen) == 0;
}

static uint64_t
rp_seq_hash(size_t group, size_t origin)
{
	return rp_mix((uint64_t)group * 0x9e3779b97f4a7c15ULL ^ origin);
}

/* Find the group of r's loose key (written into key), or RP_NONE. */
static size_t
rp_group_find(const struct replay_index *idx, const struct rp_req *r,
    struct buf *key, uint64_t *h)
{
	struct rp_group_ctx	ctx = { idx, key, r };

	buf_reset(key);
	rp_loose_key(r, key);
	*h = rp_mix(rp_hash(key->data, key->len, r->body_hash));
	return rp_table_find(&idx->t_group, *h, rp_group_eq_cb, &ctx);
}

static size_t
rp_origin_find(const struct replay_index *idx, const char *text,
    uint64_t *h)
{
	struct rp_origin_ctx	ctx = { idx, text };

	*h = rp_mix(rp_hash(text, strlen(text), RP_FNV_OFFSET));
	return rp_table_find(&idx->t_origin, *h, rp_origin_eq_cb, &ctx);
}

static size_t
rp_seq_find(const struct replay_index *idx, size_t group, size_t origin)
{
	struct rp_seq_ctx	ctx = { idx, group, origin };

	return rp_table_find(&idx->t_seq, rp_seq_hash(group, origin),
	    rp_seq_eq_cb, &ctx);
}

/* The list keys: the path, or the method and the path. */
static void
rp_list_key(const struct rp_req *r, int with_method, struct buf *key)
{
	buf_reset(key);
	if (with_method)
		rp_key_add(key, r->method, strlen(r->method));
	buf_add(key, r->path, r->pathlen);
}

static const struct rp_list *
rp_list_find(const struct replay_index *idx, const struct rp_req *r,
    int with_method)
{
	struct buf		key = { NULL, 0, 0 };
	struct rp_list_ctx	ctx = { idx, &key };
	size_t			l;

	rp_list_key(r, with_method, &key);
	l = rp_table_find(with_method ? &idx->t_mpath : &idx->t_path,
	    rp_mix(rp_hash(key.data, key.len, RP_FNV_OFFSET)), rp_list_eq_cb,
	    &ctx);
	buf_free(&key);
	return l == RP_NONE ? NULL : &idx->lists[l];
}

static void
rp_list_add(struct replay_index *idx, const struct rp_req *r,
    int with_method, size_t entry)
{
	struct rp_table		*t = with_method ? &idx->t_mpath : &idx->t_path;
	struct buf		*key = &idx->scratch;
	struct rp_list_ctx	 ctx = { idx, key };
	struct rp_list		*l;
	uint64_t		 h;
	size_t			 i;

	rp_list_key(r, with_method, key);
	h = rp_mix(rp_hash(key->data, key->len, RP_FNV_OFFSET));
	i = rp_table_find(t, h, rp_list_eq_cb, &ctx);
	if (i == RP_NONE) {
		idx->lists = rp_grow(idx->lists, &idx->caplists, idx->nlists,
		    sizeof *idx->lists);
		i = idx->nlists++;
		l = &idx->lists[i];
		memset(l, 0, sizeof *l);
		l->key = xmalloc(key->len + 1);
		memcpy(l->key, key->data, key->len);
		l->keylen = key->len;
		rp_table_put(t, h, i);
	}
	l = &idx->lists[i];
	l->v = rp_grow(l->v, &l->cap, l->n, sizeof *l->v);
	l->v[l->n++] = entry;
}

/* Return an empty index. */
struct replay_index *
replay_new(const char *const *match_headers, size_t n)
{
	struct replay_index	*idx;
	size_t			 i;

	idx = xcalloc(1, sizeof *idx);
	if (n > 0) {
		idx->headers = xcalloc(n, sizeof *idx->headers);
		for (i = 0; i < n; i++)
			idx->headers[i] = xstrdup(match_headers[i]);
	}
	idx->nheaders = n;
	return idx;
}

/* Free the index and everything it holds. */
void
replay_free(struct replay_index *idx)
{
	size_t	i;

	if (idx == NULL)
		return;
	for (i = 0; i < idx->nheaders; i++)
		free(idx->headers[i]);
	free(idx->headers);
	for (i = 0; i < idx->n; i++) {
		exchange_free(idx->entries[i].x);
		free(idx->entries[i].x);
	}
	free(idx->entries);
	for (i = 0; i < idx->ngroups; i++)
		free(idx->groups[i].key);
	free(idx->groups);
	for (i = 0; i < idx->nseqs; i++)
		free(idx->seqs[i].entries);
	free(idx->seqs);
	for (i = 0; i < idx->norigins; i++) {
		free(idx->origins[i].text);
		free(idx->origins[i].host);
	}
	free(idx->origins);
	for (i = 0; i < idx->nlists; i++) {
		free(idx->lists[i].key);
		free(idx->lists[i].v);
	}
	free(idx->lists);
	rp_table_free(&idx->t_group);
	rp_table_free(&idx->t_origin);
	rp_table_free(&idx->t_seq);
	rp_table_free(&idx->t_mpath);
	rp_table_free(&idx->t_path);
	for (i = 0; i < idx->nmisses; i++) {
		free(idx->misses[i].method);
		free(idx->misses[i].url);
	}
	free(idx->misses);
	buf_free(&idx->scratch);
	free(idx);
}

/* Add an exchange as the next entry. */
size_t
replay_add(struct replay_index *idx, struct exchange *x)
{
	struct rp_req	 r;
	struct rp_group	*g;
	struct rp_seq	*s;
	struct rp_origin *o;
	uint64_t	 h;
	size_t		 entry, gi, oi, si;

	idx->entries = rp_grow(idx->entries, &idx->cap, idx->n,
	    sizeof *idx->entries);
	entry = idx->n++;
	idx->entries[entry].x = xmalloc(sizeof *x);
	*idx->entries[entry].x = *x;
	exchange_init(x);
	idx->entries[entry].served = 0;
	rp_req_parse(idx, idx->entries[entry].x, &r);

	gi = rp_group_find(idx, &r, &idx->scratch, &h);
	if (gi == RP_NONE) {
		idx->groups = rp_grow(idx->groups, &idx->capgroups,
		    idx->ngroups, sizeof *idx->groups);
		gi = idx->ngroups++;
		g = &idx->groups[gi];
		g->key = xmalloc(idx->scratch.len);
		memcpy(g->key, idx->scratch.data, idx->scratch.len);
		g->keylen = idx->scratch.len;
		g->body_hash = r.body_hash;
		g->first = g->last = RP_NONE;
		rp_table_put(&idx->t_group, h, gi);
	}

	oi = rp_origin_find(idx, r.origin, &h);
	if (oi == RP_NONE) {
		idx->origins = rp_grow(idx->origins, &idx->caporigins,
		    idx->norigins, sizeof *idx->origins);
		oi = idx->norigins++;
		o = &idx->origins[oi];
		o->text = xstrdup(r.origin);
		o->host = xstrdup(r.host != NULL ? r.host : "");
		o->port = r.port;
		rp_table_put(&idx->t_origin, h, oi);
	}

	si = rp_seq_find(idx, gi, oi);
	if (si == RP_NONE) {
		idx->seqs = rp_grow(idx->seqs, &idx->capseqs, idx->nseqs,
		    sizeof *idx->seqs);
		si = idx->nseqs++;
		s = &idx->seqs[si];
		memset(s, 0, sizeof *s);
		s->group = gi;
		s->origin = oi;
		s->next = RP_NONE;
		g = &idx->groups[gi];
		if (g->last == RP_NONE)
			g->first = si;
		else
			idx->seqs[g->last].next = si;
		g->last = si;
		rp_table_put(&idx->t_seq, rp_seq_hash(gi, oi), si);
	}
	s = &idx->seqs[si];
	s->entries = rp_grow(s->entries, &s->cap, s->n, sizeof *s->entries);
	s->entries[s->n++] = entry;
	idx->entries[entry].seq = si;

	rp_list_add(idx, &r, 1, entry);
	rp_list_add(idx, &r, 0, entry);
	rp_req_free(&r);
	return entry;
}

/* Return the number of entries. */
size_t
replay_count(const struct replay_index *idx)
{
	return idx->n;
}

/* Return entry i. */
const struct exchange *
replay_entry(const struct replay_index *idx, size_t i)
{
	return i < idx->n ? idx->entries[i].x : NULL;
}

/*
 * Pick the sequence of a group for an origin-form request: the only one;
 * else the first whose host (and port, when given) the Host header names;
 * else the first.
 */
static size_t
rp_pick_by_host(const struct replay_index *idx, size_t gi,
    const struct exchange *req)
{
	const struct rp_group	*g = &idx->groups[gi];
	const struct rp_origin	*o;
	struct uri_parts	 u;
	const char		*host;
	size_t			 si;
	int			 port;

	if (idx->seqs[g->first].next == RP_NONE)
		return g->first;
	host = http_headers_get(&req->req_headers, "Host");
	if (host == NULL)
		return g->first;
	/* A bare IPv6 address is a host; a port that is not one, none. */
	memset(&u, 0, sizeof u);
	uri_hostport_split(host, strlen(host), URI_BARE_IPV6, &u);
	port = uri_port(u.port);
	for (si = g->first; si != RP_NONE; si = idx->seqs[si].next) {
		o = &idx->origins[idx->seqs[si].origin];
		if (strlen(o->host) == u.host.len &&
		    strncasecmp(o->host, u.host.p, u.host.len) == 0 &&
		    (port == -1 || port == o->port))
			return si;
	}
	return g->first;
}

static size_t	rp_nearest(const struct replay_index *, const struct rp_req *,
		    int);

static void
rp_miss_add(struct replay_index *idx, const struct exchange *req,
    const struct rp_req *r, int origin_form)
{
	struct rp_miss	*m;

	idx->misses_total++;
	if (idx->nmisses >= RP_MAX_MISSES)
		return;
	idx->misses = rp_grow(idx->misses, &idx->capmisses, idx->nmisses,
	    sizeof *idx->misses);
	m = &idx->misses[idx->nmisses++];
	m->method = xstrdup(r->method);
	m->url = xstrdup(req->url != NULL ? req->url : "");
	m->nearest = rp_nearest(idx, r, origin_form);
}

/* Find the answer for a live request. */
int
replay_match(struct replay_index *idx, const struct exchange *req,
    int origin_form, struct replay_hit *hit)
{
	struct rp_req	 r;
	struct rp_seq	*s;
	uint64_t	 h;
	size_t		 gi, oi, si = RP_NONE, entry;

	rp_req_parse(idx, req, &r);
	gi = rp_group_find(idx, &r, &idx->scratch, &h);
	if (gi != RP_NONE && origin_form)
		si = rp_pick_by_host(idx, gi, req);
	else if (gi != RP_NONE) {
		oi = rp_origin_find(idx, r.origin, &h);
		if (oi != RP_NONE)
			si = rp_seq_find(idx, gi, oi);
	}
	if (si == RP_NONE) {
		rp_miss_add(idx, req, &r, origin_form);
		rp_req_free(&r);
		return -1;
	}
	rp_req_free(&r);

	s = &idx->seqs[si];
	entry = s->entries[s->served < s->n ? s->served : s->n - 1];
	s->served++;
	if (!idx->entries[entry].served) {
		idx->entries[entry].served = 1;
		idx->nserved++;
	}
	hit->x = idx->entries[entry].x;
	hit->entry = entry;
	hit->nth = s->served < s->n ? s->served : s->n;
	hit->of = s->n;
	return 0;
}

/* Count a difference; in listing mode, keep item (else it is dropped). */
static void
rp_diff_add(struct rp_diffs *d, json_t *item)
{
	d->count++;
	if (d->out != NULL && item != NULL)
		json_array_append_new(d->out, item);
	else
		json_decref(item);
}

/* Compare a recorded and a received value of a named or whole field. */
static void
rp_diff_field(struct rp_diffs *d, const char *field, json_t *name,
    json_t *recorded, json_t *received)
{
	json_t	*item;

	if (d->out == NULL) {
		rp_diff_add(d, NULL);
		json_decref(name);
		json_decref(recorded);
		json_decref(received);
		return;
	}
	item = json_object();
	json_object_set_new(item, "field", json_string(field));
	if (name != NULL)
		json_object_set_new(item, "name", name);
	json_object_set_new(item, "recorded", recorded);
	json_object_set_new(item, "received", received);
	rp_diff_add(d, item);
}

/* Join the values of one name's run of parameters with ",". */
static json_t *
rp_param_values(const struct uri_param *p, size_t n)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v;
	size_t		 i;

	if (n == 0)
		return json_null();
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_add(&b, ",", 1);
		buf_add(&b, p[i].value.p, p[i].value.len);
	}
	v = rp_jstr(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return v;
}

/* Compare the query parameters name by name (both lists are sorted). */
static void
rp_diff_query(struct rp_diffs *d, const struct rp_req *a,
    const struct rp_req *b)
{
	const struct uri_query	*qa = &a->query, *qb = &b->query;
	const struct uri_param	*pa, *pb, *name;
	size_t			 i = 0, j = 0, i2, j2, k;
	int			 c, same;

	while ((i < qa->n || j < qb->n) && d->count < d->stop) {
		pa = i < qa->n ? &qa->v[i] : NULL;
		pb = j < qb->n ? &qb->v[j] : NULL;
		if (pa == NULL)
			c = 1;
		else if (pb == NULL)
			c = -1;
		else
			c = uri_span_cmp(pa->name, pb->name);
		name = c <= 0 ? pa : pb;
		for (i2 = i; c <= 0 && i2 < qa->n &&
		    uri_span_cmp(qa->v[i2].name, name->name) == 0; i2++)
			continue;
		for (j2 = j; c >= 0 && j2 < qb->n &&
		    uri_span_cmp(qb->v[j2].name, name->name) == 0; j2++)
			continue;
		same = i2 - i == j2 - j;
		for (k = 0; same && k < i2 - i; k++)
			same = uri_span_cmp(qa->v[i + k].value,
			    qb->v[j + k].value) == 0;
		if (!same && d->out == NULL)
			rp_diff_add(d, NULL);
		else if (!same)
			rp_diff_field(d, "query", rp_jstr(name->name.p,
			    name->name.len), i2 > i ?
			    rp_param_values(&qa->v[i], i2 - i) :
			    json_null(), j2 > j ?
			    rp_param_values(&qb->v[j], j2 - j) :
			    json_null());
		i = i2;
		j = j2;
	}
}

/* A copy of a value for a report: long strings and deep nesting cut. */
static json_t *
rp_json_quote(json_t *v, int depth)
{
	const char	*s, *key;
	json_t		*copy, *item;
	struct buf	 b = { NULL, 0, 0 };
	size_t		 len, i;

	if (v == NULL)
		return json_null();
	if (json_is_string(v)) {
		s = json_string_value(v);
		len = json_string_length(v);
		if (len <= RP_MAX_STRING)
			return json_copy(v);
		/* Cut on a character boundary: jansson strings are UTF-8. */
		len = RP_MAX_STRING;
		while (len > 0 && UTF8_IS_CONT(s[len]))
			len--;
		buf_add(&b, s, len);
		buf_adds(&b, "...");
		copy = rp_jstr(b.data, b.len);
		buf_free(&b);
		return copy;
	}
	if (!json_is_object(v) && !json_is_array(v))
		return json_copy(v);
	if (depth >= RP_COPY_DEPTH)
		return json_string("...");
	if (json_is_array(v)) {
		copy = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(copy, rp_json_quote(item,
			    depth + 1));
		return copy;
	}
	copy = json_object();
	json_object_foreach(v, key, item)
		json_object_set_new(copy, key, rp_json_quote(item, depth + 1));
	return copy;
}

/* A body difference at the current pointer. */
static void
rp_diff_body(struct rp_diffs *d, json_t *a, json_t *b)
{
	json_t	*item;

	d->nbody++;
	if (d->out == NULL || d->nbody > RP_MAX_BODY_DIFFS) {
		rp_diff_add(d, NULL);
		return;
	}
	item = json_object();
	json_object_set_new(item, "field", json_string("body"));
	json_object_set_new(item, "pointer", rp_jstr(d->ptr.data != NULL ?
	    d->ptr.data : "", d->ptr.len));
	json_object_set_new(item, "recorded", rp_json_quote(a, 0));
	json_object_set_new(item, "received", rp_json_quote(b, 0));
	rp_diff_add(d, item);
}

static void
rp_ptr_cut(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

/* Append "/key" to the pointer, escaping '~' and '/' (RFC 6901). */
static void
rp_ptr_key(struct buf *b, const char *key)
{
	buf_add(b, "/", 1);
	for (; *key != '\0'; key++) {
		if (*key == '~')
			buf_add(b, "~0", 2);
		else if (*key == '/')
			buf_add(b, "~1", 2);
		else
			buf_add(b, key, 1);
	}
}

static int
rp_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char **
rp_sorted_keys(json_t *o, size_t *n)
{
	const char	**keys;
	const char	 *key;
	json_t		 *v;
	size_t		  i = 0;

	*n = json_object_size(o);
	keys = xcalloc(*n + 1, sizeof *keys);
	json_object_foreach(o, key, v)
		keys[i++] = key;
	qsort(keys, *n, sizeof *keys, rp_str_cmp);
	return keys;
}

static void	rp_diff_json(struct rp_diffs *, json_t *, json_t *, int);

/* Compare two objects key by key, in key order. */
static void
rp_diff_object(struct rp_diffs *d, json_t *a, json_t *b, int depth)
{
	const char	**ka, **kb, *key;
	size_t		  na, nb, i = 0, j = 0, len = d->ptr.len;
	int		  c;

	ka = rp_sorted_keys(a, &na);
	kb = rp_sorted_keys(b, &nb);
	while ((i < na || j < nb) && d->count < d->stop) {
		if (i == na)
			c = 1;
		else if (j == nb)
			c = -1;
		else
			c = strcmp(ka[i], kb[j]);
		key = c <= 0 ? ka[i] : kb[j];
		rp_ptr_key(&d->ptr, key);
		if (c == 0)
			rp_diff_json(d, json_object_get(a, key),
			    json_object_get(b, key), depth + 1);
		else if (c < 0)
			rp_diff_body(d, json_object_get(a, key), NULL);
		else
			rp_diff_body(d, NULL, json_object_get(b, key));
		rp_ptr_cut(&d->ptr, len);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	free(ka);
	free(kb);
}

/*
 * Compare two JSON values: objects by key, arrays by index, anything else
 * (or anything below RP_MAX_DEPTH levels) as a whole.
 */
static void
rp_diff_json(struct rp_diffs *d, json_t *a, json_t *b, int depth)
{
	size_t	na, nb, i, len = d->ptr.len;

	if (d->count >= d->stop)
		return;
	if (depth < RP_MAX_DEPTH && json_is_object(a) && json_is_object(b))
		rp_diff_object(d, a, b, depth);
	else if (depth < RP_MAX_DEPTH && json_is_array(a) &&
	    json_is_array(b)) {
		na = json_array_size(a);
		nb = json_array_size(b);
		for (i = 0; (i < na || i < nb) && d->count < d->stop; i++) {
			buf_printf(&d->ptr, "/%zu", i);
			if (i < na && i < nb)
				rp_diff_json(d, json_array_get(a, i),
				    json_array_get(b, i), depth + 1);
			else
				rp_diff_body(d, json_array_get(a, i),
				    json_array_get(b, i));
			rp_ptr_cut(&d->ptr, len);
		}
	} else if (!json_equal(a, b))
		rp_diff_body(d, a, b);
}

/*
 * Compare a recorded request (a) with a received one (b): count the
 * differences, stopping at d->stop, and list them when d->out is set.
 */
static void
rp_compare(const struct replay_index *idx, const struct rp_req *a,
    const struct rp_req *b, int origin_form, struct rp_diffs *d)
{
	json_t	*item;
	size_t	 i;

	if (strcmp(a->method, b->method) != 0)
		rp_diff_field(d, "method", NULL, rp_jstrz(a->method),
		    rp_jstrz(b->method));
	if (!origin_form && strcmp(a->origin, b->origin) != 0)
		rp_diff_field(d, "origin", NULL, rp_jstrz(a->origin),
		    rp_jstrz(b->origin));
	if (rp_bytes_cmp(a->path, a->pathlen, b->path, b->pathlen) != 0)
		rp_diff_field(d, "path", NULL, rp_jstr(a->path, a->pathlen),
		    rp_jstr(b->path, b->pathlen));
	if (uri_query_cmp(&a->query, &b->query) != 0)
		rp_diff_query(d, a, b);
	for (i = 0; i < idx->nheaders && d->count < d->stop; i++) {
		if (a->hvals[i] == NULL && b->hvals[i] == NULL)
			continue;
		if (a->hvals[i] != NULL && b->hvals[i] != NULL &&
		    strcmp(a->hvals[i], b->hvals[i]) == 0)
			continue;
		rp_diff_field(d, "header", rp_jstrz(idx->headers[i]),
		    rp_jstrz(a->hvals[i]), rp_jstrz(b->hvals[i]));
	}
	if (d->count >= d->stop || (a->bodylen == b->bodylen &&
	    memcmp(a->body, b->body, a->bodylen) == 0))
		return;
	if (a->doc != NULL && b->doc != NULL) {
		buf_reset(&d->ptr);
		rp_diff_json(d, a->doc, b->doc, 0);
		/* Equal as JSON values, different canonically: say where. */
		if (d->nbody == 0)
			rp_diff_body(d, a->doc, b->doc);
		if (d->out != NULL && d->nbody > RP_MAX_BODY_DIFFS) {
			item = json_pack("{s:s, s:s, s:I}", "field", "body",
			    "pointer", "", "more",
			    (json_int_t)(d->nbody - RP_MAX_BODY_DIFFS));
			json_array_append_new(d->out, item);
		}
		return;
	}
	d->count++;
	if (d->out != NULL) {
		item = json_pack("{s:s, s:I, s:I}", "field", "body",
		    "recorded_bytes", (json_int_t)a->rawlen,
		    "received_bytes", (json_int_t)b->rawlen);
		json_array_append_new(d->out, item);
	}
}

/*
 * Return the recorded entry nearest to r: among those with its method and
 * path, else its path, else all; the fewest differences, then the
 * earliest. RP_NONE when the cassette is empty.
 */
static size_t
rp_nearest(const struct replay_index *idx, const struct rp_req *r,
    int origin_form)
{
	const struct rp_list	*l;
	struct rp_diffs		 d;
	struct rp_req		 c;
	size_t			 n, i, e, best = RP_NONE, bestn = RP_NONE;

	l = rp_list_find(idx, r, 1);
	if (l == NULL)
		l = rp_list_find(idx, r, 0);
	n = l != NULL ? l->n : idx->n;
	if (n > RP_MAX_CANDIDATES)
		n = RP_MAX_CANDIDATES;
	for (i = 0; i < n && bestn != 0; i++) {
		e = l != NULL ? l->v[i] : i;
		rp_req_parse(idx, idx->entries[e].x, &c);
		memset(&d, 0, sizeof d);
		d.stop = bestn;
		rp_compare(idx, &c, r, origin_form, &d);
		if (d.count < bestn) {
			best = e;
			bestn = d.count;
		}
		buf_free(&d.ptr);
		rp_req_free(&c);
	}
	return best;
}

/* Name a difference for the message: "query fields", "body /a/0". */
static void
rp_msg_item(struct buf *b, json_t *item)
{
	const char	*field, *name, *ptr;

	field = json_string_value(json_object_get(item, "field"));
	name = json_string_value(json_object_get(item, "name"));
	ptr = json_string_value(json_object_get(item, "pointer"));
	buf_adds(b, field);
	if (name != NULL)
		buf_printf(b, " %s", name);
	else if (ptr != NULL && *ptr != '\0')
		buf_printf(b, " %s", ptr);
}

/* The body of a miss answer. */
json_t *
replay_miss_report(const struct replay_index *idx,
    const struct exchange *req, int origin_form)
{
	struct rp_req	 r, c;
	struct rp_diffs	 d;
	struct buf	 msg = { NULL, 0, 0 };
	json_t		*doc, *near = json_null(), *request;
	size_t		 best, i, n;

	rp_req_parse(idx, req, &r);
	buf_printf(&msg, "no recorded exchange matches %s ", r.method);
	buf_add(&msg, r.path, r.pathlen);
	best = rp_nearest(idx, &r, origin_form);
	if (best == RP_NONE)
		buf_adds(&msg, "; the cassette has no entries");
	else {
		rp_req_parse(idx, idx->entries[best].x, &c);
		memset(&d, 0, sizeof d);
		d.stop = RP_NONE;
		d.out = json_array();
		rp_compare(idx, &c, &r, origin_form, &d);
		buf_printf(&msg, "; the nearest is entry %zu (%s %s)", best,
		    c.method, c.url);
		/* The "more" item, after RP_MAX_BODY_DIFFS, is never named. */
		n = json_array_size(d.out);
		for (i = 0; i < n && i < RP_MSG_ITEMS; i++) {
			buf_adds(&msg, i == 0 ? ", which differs in: " : ", ");
			rp_msg_item(&msg, json_array_get(d.out, i));
		}
		if (d.count > i)
			buf_printf(&msg, " and %zu more", d.count - i);
		json_decref(near);
		near = json_object();
		json_object_set_new(near, "entry", json_integer(
		    (json_int_t)best));
		json_object_set_new(near, "method", rp_jstrz(c.method));
		json_object_set_new(near, "url", rp_jstrz(c.url));
		json_object_set_new(near, "differences", d.out);
		buf_free(&d.ptr);
		rp_req_free(&c);
	}
	request = json_object();
	json_object_set_new(request, "method", rp_jstrz(r.method));
	json_object_set_new(request, "url", rp_jstrz(r.url));
	doc = json_object();
	json_object_set_new(doc, "source", json_string("patchscope"));
	json_object_set_new(doc, "status", json_integer(404));
	json_object_set_new(doc, "error", json_string("replay_miss"));
	json_object_set_new(doc, "message", rp_jstr(msg.data, msg.len));
	json_object_set_new(doc, "request", request);
	json_object_set_new(doc, "nearest", near);
	buf_free(&msg);
	rp_req_free(&r);
	return doc;
}

/* The end-of-run report. */
json_t *
replay_report(const struct replay_index *idx)
{
	const struct exchange	*x;
	const struct rp_miss	*m;
	json_t			*doc, *unused, *misses;
	size_t			 i;

	unused = json_array();
	for (i = 0; i < idx->n; i++) {
		if (idx->entries[i].served)
			continue;
		x = idx->entries[i].x;
		json_array_append_new(unused, json_pack("{s:I, s:o, s:o}",
		    "entry", (json_int_t)i, "method", rp_jstrz(x->method),
		    "url", rp_jstrz(x->url)));
	}
	misses = json_array();
	for (i = 0; i < idx->nmisses; i++) {
		m = &idx->misses[i];
		json_array_append_new(misses, json_pack("{s:o, s:o, s:o}",
		    "method", rp_jstrz(m->method), "url", rp_jstrz(m->url),
		    "nearest", m->nearest == RP_NONE ? json_null() :
		    json_integer((json_int_t)m->nearest)));
	}
	doc = json_object();
	json_object_set_new(doc, "entries", json_integer((json_int_t)idx->n));
	json_object_set_new(doc, "served",
	    json_integer((json_int_t)idx->nserved));
	json_object_set_new(doc, "unused", unused);
	json_object_set_new(doc, "misses", misses);
	if (idx->misses_total > idx->nmisses)
		json_object_set_new(doc, "misses_total",
		    json_integer((json_int_t)idx->misses_total));
	return doc;
}

/* Is some entry unused, or did some request miss? */
int
replay_stale(const struct replay_index *idx)
{
	return idx->nserved < idx->n || idx->misses_total > 0;
}
