/*
 * replay_miss: what replay reports about requests that matched nothing.
 *
 * A miss answer names the recorded entry nearest to the request and each
 * difference from it: method, origin, path, a query parameter by name, a
 * --match-header header, or a body field by JSON Pointer (RFC 6901), with
 * the recorded and the received value. JSON bodies are compared as values,
 * key by key and index by index, RP_MAX_DEPTH levels deep; other bodies
 * only by their sizes. The nearest entry is looked for among the entries
 * with the request's method and path, else its path, else all, comparing
 * at most RP_MAX_CANDIDATES of them, each only until it has as many
 * differences as the best so far.
 *
 * The end-of-run report lists the entries never served and the misses
 * the index kept (replay.c records them as they happen).
 *
 * Nothing here changes the index. Every json_t returned is a new
 * reference for the caller; quoted values are copies, cut to
 * RP_MAX_STRING bytes and RP_COPY_DEPTH levels.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "exchange.h"
#include "replay.h"
#include "replay_local.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

#define RP_MAX_CANDIDATES	1000	/* entries compared for the nearest */
#define RP_MAX_BODY_DIFFS	20	/* body differences listed */
#define RP_MAX_DEPTH		64	/* JSON levels compared one by one */
#define RP_COPY_DEPTH		16	/* levels of a value quoted */
#define RP_MAX_STRING		200	/* bytes of a string quoted */
#define RP_MSG_ITEMS		6	/* differences named in the message */

/* A comparison in progress: counts differences, lists them when asked. */
struct rp_diffs {
	json_t	*out;		/* array of differences, or NULL: count */
	size_t	 count;
	size_t	 stop;		/* give up counting at this many */
	size_t	 nbody;		/* body differences found */
	struct buf ptr;		/* JSON Pointer being compared */
};

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

/* Return the recorded entry nearest to r, or RP_NONE. */
size_t
replay_miss_nearest(const struct replay_index *idx, const struct rp_req *r,
    int origin_form)
{
	const struct rp_list	*l;
	struct rp_diffs		 d;
	struct rp_req		 c;
	size_t			 n, i, e, best = RP_NONE, bestn = RP_NONE;

	l = replay_list_find(idx, r, 1);
	if (l == NULL)
		l = replay_list_find(idx, r, 0);
	n = l != NULL ? l->entries.n : idx->n;
	if (n > RP_MAX_CANDIDATES)
		n = RP_MAX_CANDIDATES;
	for (i = 0; i < n && bestn != 0; i++) {
		e = l != NULL ? rp_at(&l->entries, i) : i;
		/* No response (status 0): never an answer, never nearest. */
		if (idx->entries[e].x->status == 0)
			continue;
		replay_req_parse(idx, idx->entries[e].x, &c);
		memset(&d, 0, sizeof d);
		d.stop = bestn;
		rp_compare(idx, &c, r, origin_form, &d);
		if (d.count < bestn) {
			best = e;
			bestn = d.count;
		}
		buf_free(&d.ptr);
		replay_req_free(&c);
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

/*
 * Append a session value to a message, quoted: what a client sent is
 * printable ASCII there, anything else as \xNN.
 */
static void
rp_msg_quote(struct buf *b, const char *v)
{
	const unsigned char	*p;

	buf_adds(b, "\"");
	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			buf_printf(b, "\\x%02x", *p);
		else
			buf_add(b, (const char *)p, 1);
	buf_adds(b, "\"");
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
	const char	*session;
	size_t		 best, i, n;

	replay_req_parse(idx, req, &r);
	session = replay_session_value(idx, req);
	buf_printf(&msg, "no recorded exchange matches %s ", r.method);
	buf_add(&msg, r.path, r.pathlen);
	if (session != NULL) {
		buf_adds(&msg, " (session ");
		rp_msg_quote(&msg, session);
		buf_adds(&msg, ")");
	}
	best = replay_miss_nearest(idx, &r, origin_form);
	if (best == RP_NONE)
		buf_adds(&msg, "; the cassette has no entries");
	else {
		replay_req_parse(idx, idx->entries[best].x, &c);
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
		replay_req_free(&c);
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
	if (idx->sessions.header != NULL)
		json_object_set_new(doc, "session", session != NULL ?
		    rp_jstrz(session) : json_null());
	json_object_set_new(doc, "nearest", near);
	buf_free(&msg);
	replay_req_free(&r);
	return doc;
}

/* The end-of-run report. */
json_t *
replay_report(const struct replay_index *idx)
{
	const struct exchange	*x;
	const struct rp_miss	*m;
	const struct rp_sessions *ss = &idx->sessions;
	json_t			*doc, *unused, *misses, *item;
	size_t			 i;

	unused = json_array();
	for (i = 0; i < idx->n; i++) {
		if (idx->entries[i].served || idx->entries[i].x->status == 0)
			continue;
		x = idx->entries[i].x;
		json_array_append_new(unused, json_pack("{s:I, s:o, s:o}",
		    "entry", (json_int_t)i, "method", rp_jstrz(x->method),
		    "url", rp_jstrz(x->url)));
	}
	misses = json_array();
	for (i = 0; i < idx->nmisses; i++) {
		m = &idx->misses[i];
		item = json_pack("{s:o, s:o, s:o}",
		    "method", rp_jstrz(m->method), "url", rp_jstrz(m->url),
		    "nearest", m->nearest == RP_NONE ? json_null() :
		    json_integer((json_int_t)m->nearest));
		if (idx->sessions.header != NULL)
			json_object_set_new(item, "session", m->session !=
			    NULL ? rp_jstrz(m->session) : json_null());
		json_array_append_new(misses, item);
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
	if (ss->header != NULL)
		json_object_set_new(doc, "sessions", json_pack(
		    "{s:o, s:I, s:I, s:I, s:I}", "header",
		    rp_jstrz(ss->header), "begun", (json_int_t)ss->seen,
		    "kept", (json_int_t)ss->live, "forgotten",
		    (json_int_t)ss->forgotten, "max", (json_int_t)ss->max));
	return doc;
}

/* Is some entry unused, or did some request miss? */
int
replay_stale(const struct replay_index *idx)
{
	return idx->nserved + idx->nunanswered < idx->n ||
	    idx->misses_total > 0;
}
