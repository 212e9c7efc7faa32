/*
 * diff: the alignment of two cassettes and the comparison of each pair
 * (see diff.h). Everything here is pure: the exchanges are only read, and
 * each difference becomes a jansson value that the diff command prints as
 * text or as JSON. Costs stay O(n log n) in the entries, headers and
 * diagnoses of hostile input: groups are found by sorting, never by
 * comparing every element with every other.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "diff.h"
#include "exchange.h"
#include "http.h"
#include "jdiff.h"
#include "redact.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

/* Headers whose change a person wants to hear about; the rest is noise. */
static const struct {
	const char	*name;
	int		 prefix;	/* any header whose name starts so */
} diff_headers[] = {
	{ "Content-Type", 0 },
	{ "Location", 0 },
	{ "Retry-After", 0 },
	{ "ETag", 0 },
	{ "Allow", 0 },
	{ "WWW-Authenticate", 0 },
	{ "X-Patchscope-", 1 },
};

/* A JSON string of s, repaired when it is not UTF-8; null for NULL. */
static json_t *
diff_jstr(const char *s)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v;

	if (s == NULL)
		return json_null();
	v = json_string(s);
	if (v != NULL)
		return v;
	utf8_sanitize(&b, s, strlen(s), UTF8_NO_NUL);
	v = json_string(buf_str(&b));
	buf_free(&b);
	return v != NULL ? v : json_string("");
}

/* A JSON string of len bytes of s (NUL bytes kept), repaired likewise. */
static json_t *
diff_jstrn(const char *s, size_t len)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v;

	v = json_stringn(s, len);
	if (v != NULL)
		return v;
	utf8_sanitize(&b, s, len, 0);
	v = json_stringn(buf_str(&b), b.len);
	buf_free(&b);
	return v != NULL ? v : json_string("");
}

/* Nonzero when s holds a redaction marker. */
static int
diff_has_marker(const char *s)
{
	return s != NULL && strstr(s, REDACT_PREFIX) != NULL;
}

/* The origin of a URL, "scheme://host[:port]"; "" when it has none. */
static char *
diff_origin(const char *url)
{
	struct http_url	 u;
	struct buf	 b = { NULL, 0, 0 };
	const char	*errstr;
	char		*s;

	if (http_url_parse(url, &u, &errstr) != 0)
		return xstrdup("");
	buf_printf(&b, "%s://", u.scheme);
	http_url_authority(&b, &u);
	http_url_free(&u);
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/* Alignment key: see diff.h. */
char *
diff_key(const struct exchange *x, int with_origin)
{
	struct http_url		 u;
	struct uri_query	 q;
	struct buf		 b = { NULL, 0, 0 };
	const struct uri_param	*f;
	const char		*errstr, *mark;
	size_t			 i, plen;
	char			*s;

	buf_printf(&b, "%s ", x->method != NULL ? x->method : "");
	if (x->url == NULL || http_url_parse(x->url, &u, &errstr) != 0) {
		buf_adds(&b, x->url != NULL ? x->url : "");
		goto done;
	}
	if (with_origin) {
		buf_printf(&b, "%s://", u.scheme);
		http_url_authority(&b, &u);
	}
	plen = strcspn(u.target, "?#");
	buf_add(&b, u.target, plen);
	if (u.target[plen] == '?') {
		uri_query_parse(&q, u.target + plen + 1,
		    strcspn(u.target + plen + 1, "#"), URI_DECODE_PLUS);
		for (i = 0; i < q.n; i++) {
			f = &q.v[i];
			buf_adds(&b, i == 0 ? "?" : "&");
			uri_encode(&b, f->name.p, f->name.len,
			    URI_ENCODE_COMPONENT);
			buf_adds(&b, "=");
			/* Two credentials are one request told apart later. */
			mark = REDACT_PREFIX;
			if (f->value.len >= strlen(mark) &&
			    memcmp(f->value.p, mark, strlen(mark)) == 0)
				buf_adds(&b, mark);
			else
				uri_encode(&b, f->value.p, f->value.len,
				    URI_ENCODE_COMPONENT);
		}
		uri_query_free(&q);
	}
	http_url_free(&u);
done:
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/* A body as JSON, or NULL when it is absent, cut or not JSON. */
static json_t *
diff_body_json(const struct exchange_body *body)
{
	if (body->data == NULL || body->len == 0 || body->truncated)
		return NULL;
	return json_loadb(body->data, body->len, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, NULL);
}

/* A body's whole size: what was sent, even when only part was kept. */
static uint64_t
diff_body_size(const struct exchange_body *body)
{
	if (body->data == NULL)
		return 0;
	return body->size > body->len ? body->size : body->len;
}

/* Nonzero when v is a string that starts with a redaction marker. */
static int
diff_is_marker(const json_t *v)
{
	return json_is_string(v) && strncmp(json_string_value(v),
	    REDACT_PREFIX, strlen(REDACT_PREFIX)) == 0;
}

/*
 * Compare two bodies into ops: JSON ones (or JSON and none) by JSON
 * Pointer, values included; others as bytes. Return the changes jdiff
 * found past its limit.
 */
static size_t
diff_body(json_t *ops, const struct exchange_body *a,
    const struct exchange_body *b)
{
	struct jdiff		 d;
	struct jdiff_change	*c;
	json_t			*ja, *jb, *op;
	const char		*kind;
	size_t			 i, dropped, alen, blen;

	alen = a->data != NULL ? a->len : 0;
	blen = b->data != NULL ? b->len : 0;
	if (alen == 0 && blen == 0)
		return 0;
	ja = diff_body_json(a);
	jb = diff_body_json(b);
	if ((ja == NULL && alen > 0) || (jb == NULL && blen > 0)) {
		if (alen != blen || a->truncated != b->truncated ||
		    diff_body_size(a) != diff_body_size(b) ||
		    memcmp(a->data, b->data, alen) != 0)
			json_array_append_new(ops, json_pack("{s:s, s:s, s:I, "
			    "s:I}", "op", "text", "path", "", "a",
			    (json_int_t)diff_body_size(a), "b",
			    (json_int_t)diff_body_size(b)));
		json_decref(ja);
		json_decref(jb);
		return 0;
	}
	jdiff_init(&d);
	jdiff_compare(&d, ja, jb, JDIFF_VALUES);
	for (i = 0; i < d.n; i++) {
		c = &d.v[i];
		kind = jdiff_kind_name(c->kind);
		if (c->kind == JDIFF_VALUE && diff_is_marker(c->a) &&
		    diff_is_marker(c->b))
			kind = "credential";
		op = json_pack("{s:s, s:s}", "op", kind, "path", c->path);
		if (c->a != NULL)
			json_object_set(op, "a", c->a);
		if (c->b != NULL)
			json_object_set(op, "b", c->b);
		json_array_append_new(ops, op);
	}
	dropped = d.dropped;
	jdiff_free(&d);
	json_decref(ja);
	json_decref(jb);
	return dropped;
}

/* Nonzero when a header's name is one diff_headers lists. */
static int
diff_header_matters(const char *name)
{
	size_t	i, len;

	for (i = 0; i < sizeof diff_headers / sizeof diff_headers[0]; i++) {
		len = strlen(diff_headers[i].name);
		if (diff_headers[i].prefix ? strncasecmp(name,
		    diff_headers[i].name, len) == 0 : strcasecmp(name,
		    diff_headers[i].name) == 0)
			return 1;
	}
	return 0;
}

/* One header of A or B that is compared. */
struct diff_hdr {
	const struct http_header	*h;
	int				 in_b;
	size_t				 pos;	/* A's, then B's */
};

static int
diff_hdr_cmp(const void *x, const void *y)
{
	const struct diff_hdr	*p = x, *q = y;
	int			 c;

	c = strcasecmp(p->h->name, q->h->name);
	if (c != 0)
		return c;
	return p->pos < q->pos ? -1 : p->pos > q->pos;
}

static int
diff_change_pos_cmp(const void *x, const void *y)
{
	const json_t	*p = *(json_t *const *)x, *q = *(json_t *const *)y;
	json_int_t	 a, b;

	a = json_integer_value(json_object_get(p, "_pos"));
	b = json_integer_value(json_object_get(q, "_pos"));
	return a < b ? -1 : a > b;
}

/* Every value of one name's group on one side, joined by ", ". */
static int
diff_hdr_join(const struct diff_hdr *g, size_t n, int in_b, struct buf *out)
{
	size_t	i;
	int	found = 0;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		if (g[i].in_b != in_b)
			continue;
		if (found)
			buf_adds(out, ", ");
		buf_adds(out, g[i].h->value);
		found = 1;
	}
	return found;
}

/*
 * Compare the headers that matter of one side ("request", "response"):
 * those diff_headers lists and those holding a redaction marker, by name
 * (case-insensitive), all values of a name together. Append the changes
 * to out in the order the names first appear.
 */
static void
diff_headers_side(json_t *out, const char *side,
    const struct http_headers *ha, const struct http_headers *hb)
{
	struct diff_hdr		*v;
	struct buf		 va = { NULL, 0, 0 }, vb = { NULL, 0, 0 };
	json_t			**changes, *c;
	const char		*op;
	size_t			 i, j, n = 0, nc = 0;
	int			 in_a, in_b;

	v = xreallocarray(NULL, ha->n + hb->n + 1, sizeof *v);
	for (i = 0; i < ha->n + hb->n; i++) {
		const struct http_header *h = i < ha->n ? &ha->v[i] :
		    &hb->v[i - ha->n];

		if (!diff_header_matters(h->name) &&
		    !diff_has_marker(h->value))
			continue;
		v[n].h = h;
		v[n].in_b = i >= ha->n;
		v[n].pos = i;
		n++;
	}
	qsort(v, n, sizeof *v, diff_hdr_cmp);
	changes = xreallocarray(NULL, n + 1, sizeof *changes);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcasecmp(v[i].h->name,
		    v[j].h->name) == 0; j++)
			;
		in_a = diff_hdr_join(v + i, j - i, 0, &va);
		in_b = diff_hdr_join(v + i, j - i, 1, &vb);
		if (in_a && in_b && strcmp(buf_str(&va), buf_str(&vb)) == 0)
			continue;
		if (!in_a)
			op = "added";
		else if (!in_b)
			op = "removed";
		else if (diff_has_marker(buf_str(&va)) &&
		    diff_has_marker(buf_str(&vb)))
			op = "credential";
		else
			op = "value";
		c = json_pack("{s:s, s:o, s:s, s:I}", "side", side, "name",
		    diff_jstr(v[i].h->name), "op", op, "_pos",
		    (json_int_t)v[i].pos);
		if (in_a)
			json_object_set_new(c, "a", diff_jstr(buf_str(&va)));
		if (in_b)
			json_object_set_new(c, "b", diff_jstr(buf_str(&vb)));
		changes[nc++] = c;
	}
	qsort(changes, nc, sizeof *changes, diff_change_pos_cmp);
	for (i = 0; i < nc; i++) {
		json_object_del(changes[i], "_pos");
		json_array_append_new(out, changes[i]);
	}
	free(changes);
	free(v);
	buf_free(&va);
	buf_free(&vb);
}

/*
 * The query fields whose redaction markers differ (the keys already agree
 * on everything else): each as a "credential" change.
 */
static void
diff_query(json_t *out, const char *url_a, const char *url_b)
{
	struct uri_query	 qa, qb;
	const char		*pa, *pb;
	size_t			 i, plen = strlen(REDACT_PREFIX);

	pa = strchr(url_a, '?');
	pb = strchr(url_b, '?');
	if (pa == NULL || pb == NULL)
		return;
	uri_query_parse(&qa, pa + 1, strcspn(pa + 1, "#"), URI_DECODE_PLUS);
	uri_query_parse(&qb, pb + 1, strcspn(pb + 1, "#"), URI_DECODE_PLUS);
	for (i = 0; i < qa.n && qa.n == qb.n; i++) {
		const struct uri_param *fa = &qa.v[i], *fb = &qb.v[i];

		if (uri_span_cmp(fa->value, fb->value) == 0 ||
		    fa->value.len < plen || fb->value.len < plen ||
		    memcmp(fa->value.p, REDACT_PREFIX, plen) != 0 ||
		    memcmp(fb->value.p, REDACT_PREFIX, plen) != 0)
			continue;
		json_array_append_new(out, json_pack("{s:o, s:s, s:o, s:o}",
		    "name", diff_jstrn(fa->name.p, fa->name.len), "op",
		    "credential", "a", diff_jstrn(fa->value.p, fa->value.len),
		    "b", diff_jstrn(fb->value.p, fb->value.len)));
	}
	uri_query_free(&qa);
	uri_query_free(&qb);
}

/* One diagnosis of an entry, for matching by code and path. */
struct diff_diag {
	const char	*code;
	const char	*path;
	size_t		 idx;
	int		 in_b;
	int		 matched;
};

static const char *
diff_diag_field(const json_t *d, const char *key)
{
	const char	*s = json_string_value(json_object_get(d, key));

	return s != NULL ? s : "";
}

static int
diff_diag_cmp(const void *x, const void *y)
{
	const struct diff_diag	*p = x, *q = y;
	int			 c;

	c = strcmp(p->code, q->code);
	if (c == 0)
		c = strcmp(p->path, q->path);
	if (c != 0)
		return c;
	if (p->in_b != q->in_b)
		return p->in_b - q->in_b;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

static int
diff_diag_idx_cmp(const void *x, const void *y)
{
	const struct diff_diag	*p = x, *q = y;

	if (p->in_b != q->in_b)
		return p->in_b - q->in_b;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/*
 * Diagnoses by code and path, as multisets: those of B that A does not
 * have appeared, those of A that B does not have are gone. Return
 * {"appeared": [...], "gone": [...]}, each in its entry's order.
 */
static json_t *
diff_diagnoses(const json_t *da, const json_t *db)
{
	struct diff_diag	*v;
	const json_t		*src;
	json_t			*out, *appeared, *gone;
	size_t			 na, nb, n, i, j, k, m;

	na = json_is_array(da) ? json_array_size(da) : 0;
	nb = json_is_array(db) ? json_array_size(db) : 0;
	appeared = json_array();
	gone = json_array();
	out = json_pack("{s:o, s:o}", "appeared", appeared, "gone", gone);
	n = na + nb;
	v = xreallocarray(NULL, n + 1, sizeof *v);
	for (i = 0; i < n; i++) {
		src = i < na ? json_array_get(da, i) :
		    json_array_get(db, i - na);
		v[i].code = diff_diag_field(src, "code");
		v[i].path = diff_diag_field(src, "path");
		v[i].in_b = i >= na;
		v[i].idx = i < na ? i : i - na;
		v[i].matched = 0;
	}
	qsort(v, n, sizeof *v, diff_diag_cmp);
	/*
	 * In a run of one code and path, A's come first, then B's: the
	 * first of A's meets the first of B's, and so on.
	 */
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && strcmp(v[i].code, v[j].code) == 0 &&
		    strcmp(v[i].path, v[j].path) == 0; j++)
			;
		for (k = i; k < j && !v[k].in_b; k++)
			;
		for (m = 0; i + m < k && k + m < j; m++)
			v[i + m].matched = v[k + m].matched = 1;
	}
	qsort(v, n, sizeof *v, diff_diag_idx_cmp);
	for (i = 0; i < n; i++)
		if (!v[i].matched)
			json_array_append(v[i].in_b ? appeared : gone,
			    json_array_get(v[i].in_b ? db : da, v[i].idx));
	free(v);
	return out;
}

/* The entry's "_fault", as the cassette writes it, or NULL. */
static json_t *
diff_fault(const struct exchange *x)
{
	struct exchange	 head = *x;
	json_t		*entry, *f;

	/* The bodies are not needed to encode the entry's extras. */
	memset(&head.req_body, 0, sizeof head.req_body);
	memset(&head.resp_body, 0, sizeof head.resp_body);
	entry = cassette_entry_encode(&head);
	f = json_object_get(entry, "_fault");
	if (f != NULL)
		json_incref(f);
	json_decref(entry);
	return f;
}

/* Set key to [a, b] (null for NULL) on o when a and b differ. */
static int
diff_strings(json_t *o, const char *key, const char *a, const char *b)
{
	if ((a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0))
		return 0;
	json_object_set_new(o, key, json_pack("[o, o]", diff_jstr(a),
	    diff_jstr(b)));
	return 1;
}

/* Compare one pair: see diff.h. */
json_t *
diff_pair(const struct exchange *a, const struct exchange *b, size_t ai,
    size_t bi)
{
	json_t	*o, *req, *resp, *query, *headers, *diags, *fa, *fb;
	size_t	 dropped;
	int	 differ = 0;

	o = json_pack("{s:o, s:o}", "method", diff_jstr(a->method), "url",
	    diff_jstr(a->url));
	if (a->url != NULL && b->url != NULL && strcmp(a->url, b->url) != 0)
		json_object_set_new(o, "b_url", diff_jstr(b->url));
	json_object_set_new(o, "a_index", json_integer((json_int_t)ai));
	json_object_set_new(o, "b_index", json_integer((json_int_t)bi));
	if (a->status != b->status) {
		json_object_set_new(o, "status", json_pack("[i, i]",
		    a->status, b->status));
		differ = 1;
	}
	differ |= diff_strings(o, "error", a->error, b->error);
	fa = diff_fault(a);
	fb = diff_fault(b);
	if (!json_equal(fa, fb) && (fa != NULL || fb != NULL)) {
		json_object_set_new(o, "fault", json_pack("[O, O]",
		    fa != NULL ? fa : json_null(), fb != NULL ? fb :
		    json_null()));
		differ = 1;
	}
	json_decref(fa);
	json_decref(fb);

	req = json_array();
	resp = json_array();
	query = json_array();
	headers = json_array();
	json_object_set_new(o, "request", req);
	dropped = diff_body(req, &a->req_body, &b->req_body);
	if (dropped > 0)
		json_object_set_new(o, "request_dropped",
		    json_integer((json_int_t)dropped));
	json_object_set_new(o, "response", resp);
	dropped = diff_body(resp, &a->resp_body, &b->resp_body);
	if (dropped > 0)
		json_object_set_new(o, "response_dropped",
		    json_integer((json_int_t)dropped));
	json_object_set_new(o, "query", query);
	if (a->url != NULL && b->url != NULL)
		diff_query(query, a->url, b->url);
	json_object_set_new(o, "headers", headers);
	diff_headers_side(headers, "request", &a->req_headers,
	    &b->req_headers);
	diff_headers_side(headers, "response", &a->resp_headers,
	    &b->resp_headers);
	diags = diff_diagnoses(a->diagnoses, b->diagnoses);
	json_object_set_new(o, "diagnoses", diags);
	if (differ || json_array_size(req) > 0 || json_array_size(resp) > 0 ||
	    json_array_size(query) > 0 || json_array_size(headers) > 0 ||
	    json_array_size(json_object_get(diags, "appeared")) > 0 ||
	    json_array_size(json_object_get(diags, "gone")) > 0)
		return o;
	json_decref(o);
	return NULL;
}

/* An entry's key and index, sorted to find equal requests. */
struct diff_keyed {
	char	*key;
	size_t	 idx;
};

static int
diff_keyed_cmp(const void *x, const void *y)
{
	const struct diff_keyed	*p = x, *q = y;
	int			 c;

	c = strcmp(p->key, q->key);
	if (c != 0)
		return c;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/*
 * The one origin all of a cassette's entries share (caller frees), or
 * NULL when they have several (or none).
 */
static char *
diff_one_origin(const struct exchange *x, size_t n)
{
	char	*first = NULL, *o;
	size_t	 i;

	for (i = 0; i < n; i++) {
		o = diff_origin(x[i].url != NULL ? x[i].url : "");
		if (first == NULL)
			first = o;
		else if (strcmp(first, o) != 0) {
			free(o);
			free(first);
			return NULL;
		} else
			free(o);
	}
	return first;
}

/* The entries of one side with their keys, sorted by key, then index. */
static struct diff_keyed *
diff_keyed(const struct exchange *x, size_t n, int with_origin)
{
	struct diff_keyed	*k;
	size_t			 i;

	k = xreallocarray(NULL, n + 1, sizeof *k);
	for (i = 0; i < n; i++) {
		k[i].key = diff_key(&x[i], with_origin);
		k[i].idx = i;
	}
	qsort(k, n, sizeof *k, diff_keyed_cmp);
	return k;
}

static void
diff_keyed_free(struct diff_keyed *k, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

static void
diff_item_add(struct diff_report *r, size_t a, size_t b)
{
	r->v[r->n].a = a;
	r->v[r->n].b = b;
	r->v[r->n].change = NULL;
	r->n++;
}

/* Align and compare: see diff.h. */
void
diff_report_build(struct diff_report *r, const struct exchange *a,
    size_t na, const struct exchange *b, size_t nb)
{
	struct diff_keyed	*ka, *kb;
	size_t			*pa, *pb, i, j, next_b = 0;
	char			*oa, *ob;
	int			 c, with_origin = 1;

	memset(r, 0, sizeof *r);
	oa = diff_one_origin(a, na);
	ob = diff_one_origin(b, nb);
	if (oa != NULL && ob != NULL && strcmp(oa, ob) != 0) {
		r->origin_a = oa;
		r->origin_b = ob;
		with_origin = 0;
	} else {
		free(oa);
		free(ob);
	}
	ka = diff_keyed(a, na, with_origin);
	kb = diff_keyed(b, nb, with_origin);
	pa = xreallocarray(NULL, na + 1, sizeof *pa);
	pb = xreallocarray(NULL, nb + 1, sizeof *pb);
	for (i = 0; i < na; i++)
		pa[i] = DIFF_NONE;
	for (j = 0; j < nb; j++)
		pb[j] = DIFF_NONE;
	/* Equal keys sort by index: the k-th of a key meets the k-th. */
	for (i = 0, j = 0; i < na && j < nb;) {
		c = strcmp(ka[i].key, kb[j].key);
		if (c == 0) {
			pa[ka[i].idx] = kb[j].idx;
			pb[kb[j].idx] = ka[i].idx;
			i++;
			j++;
		} else if (c < 0)
			i++;
		else
			j++;
	}
	r->v = xreallocarray(NULL, na + nb + 1, sizeof *r->v);
	for (i = 0; i < na; i++) {
		if (pa[i] == DIFF_NONE) {
			diff_item_add(r, i, DIFF_NONE);
			r->only_a++;
			continue;
		}
		for (; next_b < pa[i]; next_b++)
			if (pb[next_b] == DIFF_NONE) {
				diff_item_add(r, DIFF_NONE, next_b);
				r->only_b++;
			}
		diff_item_add(r, i, pa[i]);
		r->v[r->n - 1].change = diff_pair(&a[i], &b[pa[i]], i, pa[i]);
		if (r->v[r->n - 1].change != NULL)
			r->changed++;
		else
			r->same++;
	}
	for (; next_b < nb; next_b++)
		if (pb[next_b] == DIFF_NONE) {
			diff_item_add(r, DIFF_NONE, next_b);
			r->only_b++;
		}
	free(pa);
	free(pb);
	diff_keyed_free(ka, na);
	diff_keyed_free(kb, nb);
}

/* Free a report. */
void
diff_report_free(struct diff_report *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		json_decref(r->v[i].change);
	free(r->v);
	free(r->origin_a);
	free(r->origin_b);
	memset(r, 0, sizeof *r);
}

/* Nonzero when nothing differs. */
int
diff_report_same(const struct diff_report *r)
{
	return r->changed == 0 && r->only_a == 0 && r->only_b == 0 &&
	    r->origin_a == NULL;
}

/* An entry of one cassette only, for the --json document. */
static json_t *
diff_only_json(const struct exchange *x, size_t idx)
{
	return json_pack("{s:I, s:o, s:o, s:i}", "index", (json_int_t)idx,
	    "method", diff_jstr(x->method), "url", diff_jstr(x->url),
	    "status", x->status);
}

/* The --json document: see diff.h. */
json_t *
diff_report_json(const struct diff_report *r, const struct exchange *a,
    const struct exchange *b, const char *name_a, const char *name_b)
{
	json_t			*doc, *only_a, *only_b, *changed;
	const struct diff_item	*it;
	size_t			 i;

	only_a = json_array();
	only_b = json_array();
	changed = json_array();
	for (i = 0; i < r->n; i++) {
		it = &r->v[i];
		if (it->b == DIFF_NONE)
			json_array_append_new(only_a, diff_only_json(&a[it->a],
			    it->a));
		else if (it->a == DIFF_NONE)
			json_array_append_new(only_b, diff_only_json(&b[it->b],
			    it->b));
		else if (it->change != NULL)
			json_array_append(changed, it->change);
	}
	doc = json_pack("{s:o, s:o, s:b}", "a", diff_jstr(name_a), "b",
	    diff_jstr(name_b), "same", diff_report_same(r));
	if (r->origin_a != NULL)
		json_object_set_new(doc, "origin", json_pack("{s:o, s:o}",
		    "a", diff_jstr(r->origin_a), "b",
		    diff_jstr(r->origin_b)));
	json_object_set_new(doc, "only_a", only_a);
	json_object_set_new(doc, "only_b", only_b);
	json_object_set_new(doc, "changed", changed);
	json_object_set_new(doc, "counts", json_pack("{s:I, s:I, s:I, s:I}",
	    "same", (json_int_t)r->same, "changed", (json_int_t)r->changed,
	    "only_a", (json_int_t)r->only_a, "only_b", (json_int_t)r->only_b));
	return doc;
}
