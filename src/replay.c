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
 * reads them (replay_miss.c), to name the nearest entry.
 *
 * The index owns every exchange added, packed with its strings, header
 * lists and bodies into the index's arena (one block per many entries,
 * never moved: a pointer handed out, by replay_entry or a hit, stays
 * valid while more are added; nothing may change them), along with the
 * keys of groups and lists; and a copy of the method and URL of the
 * first RP_MAX_MISSES misses (later ones are only counted). The structures are in
 * replay_local.h; the reports on misses and the end of a run are in
 * replay_miss.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arena.h"
#include "buf.h"
#include "exchange.h"
#include "hash.h"
#include "http.h"
#include "replay.h"
#include "replay_local.h"
#include "uri.h"
#include "xmalloc.h"

#define RP_MAX_MISSES		1000	/* misses listed in the report */


/* Make room for element n of an array of cap elements (doubling). */
void *
replay_grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap == 0 ? 2 : *cap * 2;
	return xreallocarray(v, *cap, size);
}

/* Append an entry number. */
static void
rp_nums_add(struct rp_nums *l, size_t v)
{
	if (l->n == 0) {
		l->one = v;
		l->n = 1;
		return;
	}
	if (l->v == NULL) {
		l->cap = 4;
		l->v = xreallocarray(NULL, l->cap, sizeof *l->v);
		l->v[0] = l->one;
	}
	l->v = replay_grow(l->v, &l->cap, l->n, sizeof *l->v);
	l->v[l->n++] = v;
}

/* Spread FNV's bits over the low end, which picks the slot. */
uint64_t
replay_mix(uint64_t h)
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
size_t
replay_table_find(const struct rp_table *t, uint64_t h,
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
void
replay_table_put(struct rp_table *t, uint64_t h, size_t v)
{
	struct rp_table	 old = *t;
	size_t		 i, mask;

	if ((t->n + 1) * 2 > t->cap) {
		t->cap = old.cap == 0 ? 16 : old.cap * 2;
		t->slot = xcalloc(t->cap, sizeof *t->slot);
		t->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.slot[i].val != 0)
				replay_table_put(t, old.slot[i].hash,
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

/* Free a table's slots and empty it. */
void
replay_table_free(struct rp_table *t)
{
	free(t->slot);
	memset(t, 0, sizeof *t);
}

/* Set r's origin text: "scheme://host:port", "[v6]" bracketed. */
static void
rp_origin_text(struct rp_req *r)
{
	struct buf	 b = { NULL, 0, 0 };
	char		 num[24];
	unsigned	 port;
	size_t		 n = 0;
	int		 v6 = strchr(r->host, ':') != NULL;

	buf_adds(&b, r->scheme);
	buf_add(&b, v6 ? "://[" : "://", v6 ? 4 : 3);
	buf_adds(&b, r->host);
	buf_add(&b, v6 ? "]:" : ":", v6 ? 2 : 1);
	/* A port is 0 to 65535 here (uri_default_port, or checked). */
	port = (unsigned)r->port;
	do {
		num[sizeof num - 1 - n++] = (char)('0' + port % 10);
		port /= 10;
	} while (port > 0 && n < sizeof num);
	buf_add(&b, num + sizeof num - n, n);
	r->origin = b.data;
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
		rp_origin_text(r);
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
void
replay_req_parse(const struct replay_index *idx, const struct exchange *x,
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
	r->body_hash = hash_bytes(HASH_FNV_OFFSET, r->body, r->bodylen);
}

/* Free a reduced request. */
void
replay_req_free(struct rp_req *r)
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
	entry = rp_at(&idx->seqs[g->first].entries, 0);
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
	return replay_mix((uint64_t)group * 0x9e3779b97f4a7c15ULL ^ origin);
}

/* Find the group of r's loose key (written into key), or RP_NONE. */
static size_t
rp_group_find(const struct replay_index *idx, const struct rp_req *r,
    struct buf *key, uint64_t *h)
{
	struct rp_group_ctx	ctx = { idx, key, r };

	buf_reset(key);
	rp_loose_key(r, key);
	*h = replay_mix(hash_bytes(r->body_hash, key->data, key->len));
	return replay_table_find(&idx->t_group, *h, rp_group_eq_cb, &ctx);
}

static size_t
rp_origin_find(const struct replay_index *idx, const char *text,
    uint64_t *h)
{
	struct rp_origin_ctx	ctx = { idx, text };

	*h = replay_mix(hash_bytes(HASH_FNV_OFFSET, text, strlen(text)));
	return replay_table_find(&idx->t_origin, *h, rp_origin_eq_cb, &ctx);
}

static size_t
rp_seq_find(const struct replay_index *idx, size_t group, size_t origin)
{
	struct rp_seq_ctx	ctx = { idx, group, origin };

	return replay_table_find(&idx->t_seq, rp_seq_hash(group, origin),
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

/* Return the list of entries with r's (method and) path. */
const struct rp_list *
replay_list_find(const struct replay_index *idx, const struct rp_req *r,
    int with_method)
{
	struct buf		key = { NULL, 0, 0 };
	struct rp_list_ctx	ctx = { idx, &key };
	size_t			l;

	rp_list_key(r, with_method, &key);
	l = replay_table_find(with_method ? &idx->t_mpath : &idx->t_path,
	    replay_mix(hash_bytes(HASH_FNV_OFFSET, key.data, key.len)),
	    rp_list_eq_cb, &ctx);
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
	h = replay_mix(hash_bytes(HASH_FNV_OFFSET, key->data, key->len));
	i = replay_table_find(t, h, rp_list_eq_cb, &ctx);
	if (i == RP_NONE) {
		idx->lists = replay_grow(idx->lists, &idx->caplists,
		    idx->nlists, sizeof *idx->lists);
		i = idx->nlists++;
		l = &idx->lists[i];
		memset(l, 0, sizeof *l);
		l->key = arena_memdup(idx->arena, key->data, key->len);
		l->keylen = key->len;
		replay_table_put(t, h, i);
	}
	rp_nums_add(&idx->lists[i].entries, entry);
}

/* Return an empty index. */
struct replay_index *
replay_new(const char *const *match_headers, size_t n)
{
	struct replay_index	*idx;
	size_t			 i;

	idx = xcalloc(1, sizeof *idx);
	idx->arena = arena_new();
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
		exchange_free_arena(idx->entries[i].x);
		replay_answer_free(idx->entries[i].answer);
	}
	free(idx->entries);
	free(idx->groups);
	for (i = 0; i < idx->nseqs; i++)
		free(idx->seqs[i].entries.v);
	free(idx->seqs);
	for (i = 0; i < idx->norigins; i++) {
		free(idx->origins[i].text);
		free(idx->origins[i].host);
	}
	free(idx->origins);
	for (i = 0; i < idx->nlists; i++)
		free(idx->lists[i].entries.v);
	free(idx->lists);
	replay_table_free(&idx->t_group);
	replay_table_free(&idx->t_origin);
	replay_table_free(&idx->t_seq);
	replay_table_free(&idx->t_mpath);
	replay_table_free(&idx->t_path);
	for (i = 0; i < idx->nmisses; i++) {
		free(idx->misses[i].method);
		free(idx->misses[i].url);
		free(idx->misses[i].session);
	}
	free(idx->misses);
	replay_sessions_free(&idx->sessions);
	buf_free(&idx->scratch);
	arena_free(idx->arena);
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

	idx->entries = replay_grow(idx->entries, &idx->cap, idx->n,
	    sizeof *idx->entries);
	entry = idx->n++;
	/* Packed into the arena: no allocation of its own per string. */
	idx->entries[entry].x = arena_alloc(idx->arena, sizeof *x);
	exchange_copy_arena(idx->entries[entry].x, x, idx->arena);
	exchange_free(x);
	idx->entries[entry].served = 0;
	idx->entries[entry].answer = NULL;
	/* No response to give (status 0): numbered, never matched. */
	if (idx->entries[entry].x->status == 0) {
		idx->entries[entry].seq = RP_NONE;
		idx->nunanswered++;
		return entry;
	}
	replay_req_parse(idx, idx->entries[entry].x, &r);

	gi = rp_group_find(idx, &r, &idx->scratch, &h);
	if (gi == RP_NONE) {
		idx->groups = replay_grow(idx->groups, &idx->capgroups,
		    idx->ngroups, sizeof *idx->groups);
		gi = idx->ngroups++;
		g = &idx->groups[gi];
		g->key = arena_memdup(idx->arena, idx->scratch.data,
		    idx->scratch.len);
		g->keylen = idx->scratch.len;
		g->body_hash = r.body_hash;
		g->first = g->last = RP_NONE;
		replay_table_put(&idx->t_group, h, gi);
	}

	oi = rp_origin_find(idx, r.origin, &h);
	if (oi == RP_NONE) {
		idx->origins = replay_grow(idx->origins, &idx->caporigins,
		    idx->norigins, sizeof *idx->origins);
		oi = idx->norigins++;
		o = &idx->origins[oi];
		o->text = xstrdup(r.origin);
		o->host = xstrdup(r.host != NULL ? r.host : "");
		o->port = r.port;
		replay_table_put(&idx->t_origin, h, oi);
	}

	si = rp_seq_find(idx, gi, oi);
	if (si == RP_NONE) {
		idx->seqs = replay_grow(idx->seqs, &idx->capseqs, idx->nseqs,
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
		replay_table_put(&idx->t_seq, rp_seq_hash(gi, oi), si);
	}
	s = &idx->seqs[si];
	rp_nums_add(&s->entries, entry);
	idx->entries[entry].seq = si;

	rp_list_add(idx, &r, 1, entry);
	rp_list_add(idx, &r, 0, entry);
	replay_req_free(&r);
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

/*
 * Remember a miss for the end-of-run report: the first RP_MAX_MISSES with
 * their nearest entry; later ones are only counted.
 */
static void
rp_miss_add(struct replay_index *idx, const struct exchange *req,
    const struct rp_req *r, int origin_form)
{
	struct rp_miss	*m;
	const char	*session;

	idx->misses_total++;
	if (idx->nmisses >= RP_MAX_MISSES)
		return;
	idx->misses = replay_grow(idx->misses, &idx->capmisses, idx->nmisses,
	    sizeof *idx->misses);
	m = &idx->misses[idx->nmisses++];
	m->method = xstrdup(r->method);
	m->url = xstrdup(req->url != NULL ? req->url : "");
	session = replay_session_value(idx, req);
	m->session = session != NULL ? xstrdup(session) : NULL;
	m->nearest = replay_miss_nearest(idx, r, origin_form);
}

/* Find the answer for a live request. */
int
replay_match(struct replay_index *idx, const struct exchange *req,
    int origin_form, struct replay_hit *hit)
{
	struct rp_req	 r;
	struct rp_seq	*s;
	const char	*session = NULL;
	uint64_t	 h;
	size_t		*served, gi, oi, si = RP_NONE, entry;

	replay_req_parse(idx, req, &r);
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
		replay_req_free(&r);
		return -1;
	}
	replay_req_free(&r);

	s = &idx->seqs[si];
	/* Without sessions: the shared position, and nothing else done. */
	hit->forgotten = 0;
	served = &s->served;
	if (idx->sessions.header != NULL) {
		session = replay_session_value(idx, req);
		served = replay_session_served(idx, &session, si,
		    &hit->forgotten);
	}
	entry = rp_at(&s->entries, *served < s->entries.n ? *served :
	    s->entries.n - 1);
	(*served)++;
	if (!idx->entries[entry].served) {
		idx->entries[entry].served = 1;
		idx->nserved++;
	}
	if (idx->entries[entry].answer == NULL)
		idx->entries[entry].answer =
		    replay_answer_new(idx->entries[entry].x);
	hit->answer = idx->entries[entry].answer;
	hit->x = idx->entries[entry].x;
	hit->entry = entry;
	hit->nth = *served < s->entries.n ? *served : s->entries.n;
	hit->of = s->entries.n;
	hit->session = session;
	return 0;
}
