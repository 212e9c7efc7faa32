/*
 * drift: which recorded requests are sent again and what they carry, and
 * how a live answer differs from the recorded one (see drift.h).
 *
 * A cassette is somebody else's file: every string in an exchange may be
 * anything. Nothing here trusts a length it did not compute. The changes
 * own their path and their two values (references taken from jdiff's
 * trees, which are freed before drift_compare returns).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "body.h"
#include "buf.h"
#include "drift.h"
#include "exchange.h"
#include "http.h"
#include "jdiff.h"
#include "redact.h"
#include "uri.h"
#include "xmalloc.h"

/* Deepest JSON walked to learn redacted keys (cassettes allow 64). */
#define DRIFT_MAX_DEPTH		64

/* The kinds of change: their words and severities (DESIGN.md). */
static const struct {
	const char		*name;
	enum drift_severity	 severity;
} drift_kinds[] = {
	[DRIFT_STATUS] =	{ "status",	DRIFT_ERROR },
	[DRIFT_ADDED] =		{ "added",	DRIFT_WARNING },
	[DRIFT_REMOVED] =	{ "removed",	DRIFT_ERROR },
	[DRIFT_TYPE] =		{ "type",	DRIFT_ERROR },
	[DRIFT_ENUM] =		{ "enum",	DRIFT_WARNING },
	[DRIFT_VALUE] =		{ "value",	DRIFT_INFO },
};

/* Headers drift writes itself; --header may not name them. */
static const char *drift_own_headers[] = {
	"Host", "Content-Length", "Transfer-Encoding", "Content-Encoding",
	"Expect",
};

/* Return a severity's word. */
const char *
drift_severity_name(enum drift_severity s)
{
	switch (s) {
	case DRIFT_ERROR:
		return "error";
	case DRIFT_WARNING:
		return "warning";
	case DRIFT_INFO:
		break;
	}
	return "info";
}

/* Return a kind's word. */
const char *
drift_kind_name(enum drift_kind k)
{
	if ((size_t)k >= sizeof drift_kinds / sizeof drift_kinds[0])
		return "value";
	return drift_kinds[k].name;
}

/* Return the severity of a kind of change. */
enum drift_severity
drift_severity_of(enum drift_kind k)
{
	if ((size_t)k >= sizeof drift_kinds / sizeof drift_kinds[0])
		return DRIFT_INFO;
	return drift_kinds[k].severity;
}

/* GET and HEAD only read (RFC 9110 9.2.1 names more, DESIGN.md these). */
int
drift_method_safe(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* Is there a marker at s (n bytes left), after its "redacted" word? */
static int
drift_marker_at(const char *s, size_t n)
{
	size_t	i, sep;

	if (n >= 1 && s[0] == ':')
		sep = 1;
	else if (n >= 3 && s[0] == '%' && s[1] == '3' &&
	    (s[2] == 'A' || s[2] == 'a'))
		sep = 3;
	else
		return 0;
	if (n < sep + 12)
		return 0;
	for (i = sep; i < sep + 12; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return 0;
	return 1;
}

/* Does s hold a marker, as written or with its colon percent-encoded? */
int
drift_has_marker(const char *s, size_t len)
{
	static const char	 word[] = "redacted";
	const size_t		 wlen = sizeof word - 1;
	const char		*p = s, *end = s + len;

	if (s == NULL)
		return 0;
	while ((size_t)(end - p) > wlen) {
		p = memchr(p, 'r', (size_t)(end - p) - wlen);
		if (p == NULL)
			return 0;
		if (memcmp(p, word, wlen) == 0 &&
		    drift_marker_at(p + wlen, (size_t)(end - p) - wlen))
			return 1;
		p++;
	}
	return 0;
}

/* Decide whether an entry is sent again. */
enum drift_plan
drift_plan_entry(const struct exchange *x, int allow_writes,
    const char **reason)
{
	struct http_url	 u;
	const char	*err;

	*reason = NULL;
	if (x->status == 0)
		*reason = "no answer was recorded";
	else if (x->answered_by != NULL)
		*reason = "patchscope answered it when it was recorded, not "
		    "the origin";
	else if (strcmp(x->method, "CONNECT") == 0)
		*reason = "a CONNECT is not sent again";
	else if (!drift_method_safe(x->method) && !allow_writes)
		*reason = "it changes data (send it with --allow-writes)";
	else if (http_url_parse(x->url, &u, &err) != 0)
		*reason = "its URL cannot be read";
	else {
		http_url_free(&u);
		if (drift_has_marker(x->url, strlen(x->url)))
			*reason = "its URL holds a redacted value, which "
			    "cannot be supplied";
		else if (x->req_body.truncated)
			*reason = "its body was cut when it was recorded";
		else if (drift_has_marker(x->req_body.data, x->req_body.len))
			*reason = "its body holds a redacted value, which "
			    "cannot be supplied";
	}
	return *reason != NULL ? DRIFT_SKIP : DRIFT_SEND;
}

/* Split "NAME: VALUE" (checked already) into its name and trimmed value. */
void
drift_header_split(const char *line, char **name, char **value)
{
	const char	*colon = strchr(line, ':'), *v, *end;

	if (colon == NULL)
		colon = line + strlen(line);
	*name = xstrndup(line, (size_t)(colon - line));
	v = *colon == ':' ? colon + 1 : colon;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*value = xstrndup(v, (size_t)(end - v));
}

/* The name of a header drift sets itself, or NULL. */
const char *
drift_header_reserved(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof drift_own_headers /
	    sizeof drift_own_headers[0]; i++)
		if (strcasecmp(name, drift_own_headers[i]) == 0)
			return drift_own_headers[i];
	if ((http_header_flags(name) & HTTP_HDR_HOP) != 0)
		return name;
	return NULL;
}

/* Does a --header line give this header? */
static int
drift_lines_name(char *const *lines, size_t n, const char *name)
{
	size_t	i, len = strlen(name);

	for (i = 0; i < n; i++)
		if (strncasecmp(lines[i], name, len) == 0 &&
		    lines[i][len] == ':')
			return 1;
	return 0;
}

/* The first redacted request header no --header line replaces. */
const char *
drift_missing_header(const struct exchange *x, char *const *lines, size_t n)
{
	const struct http_header	*h;
	size_t				 i;

	for (i = 0; i < x->req_headers.n; i++) {
		h = &x->req_headers.v[i];
		if (!drift_has_marker(h->value, strlen(h->value)) ||
		    drift_header_reserved(h->name) != NULL ||
		    drift_lines_name(lines, n, h->name))
			continue;
		return h->name;
	}
	return NULL;
}

/* The headers of the live request. */
void
drift_request_headers(const struct exchange *x, const struct http_url *u,
    char *const *lines, size_t n, struct http_headers *out)
{
	struct http_headers	 rest = { NULL, 0, 0 };
	struct buf		 host = { NULL, 0, 0 };
	char			*name, *value;
	size_t			 i;

	exchange_headers_copy(&rest, &x->req_headers);
	http_headers_strip_hop(&rest);
	for (i = 0; i < sizeof drift_own_headers /
	    sizeof drift_own_headers[0]; i++)
		http_headers_remove(&rest, drift_own_headers[i]);
	/* The answer is decoded to be compared: ask only for what we can. */
	if (http_headers_get(&rest, "Accept-Encoding") != NULL) {
		http_headers_remove(&rest, "Accept-Encoding");
		http_headers_add(&rest, HTTP_LIT("Accept-Encoding"),
		    HTTP_LIT("gzip, deflate"));
	}
	for (i = 0; i < n; i++) {
		drift_header_split(lines[i], &name, &value);
		http_headers_remove(&rest, name);
		free(name);
		free(value);
	}
	for (i = 0; i < n; i++) {
		drift_header_split(lines[i], &name, &value);
		if (*value != '\0')
			http_headers_add(&rest, name, strlen(name), value,
			    strlen(value));
		free(name);
		explicit_bzero(value, strlen(value));
		free(value);
	}
	http_url_authority(&host, u);
	http_headers_add(out, HTTP_LIT(HTTP_HOST), host.data, host.len);
	buf_free(&host);
	exchange_headers_copy(out, &rest);
	http_headers_clear(&rest);
	if (x->req_body.data != NULL &&
	    (x->req_body.len > 0 || !drift_method_safe(x->method)))
		http_headers_set_length(out, x->req_body.len);
	http_headers_add(out, HTTP_LIT(HTTP_CONNECTION), HTTP_LIT("close"));
}

/* Learn the headers of a list whose values hold markers. */
static void
drift_learn_headers(const struct http_headers *h, struct redactor *r)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		if (drift_has_marker(h->v[i].value, strlen(h->v[i].value)) &&
		    !redact_header_name(r, h->v[i].name))
			redact_add_header(r, h->v[i].name);
}

/* Learn the JSON keys whose values are markers, at any depth. */
static void
drift_learn_json(const json_t *v, struct redactor *r, int depth)
{
	const char	*key;
	json_t		*m;
	size_t		 i;

	if (depth > DRIFT_MAX_DEPTH)
		return;
	if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			drift_learn_json(m, r, depth + 1);
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach((json_t *)v, key, m) {
		if (json_is_string(m) && redact_is_marker(json_string_value(m),
		    json_string_length(m)) && !redact_json_key(r, key))
			redact_add_json_key(r, key);
		drift_learn_json(m, r, depth + 1);
	}
}

static void
drift_learn_body(const struct exchange_body *b, struct redactor *r)
{
	json_t	*doc;

	if (b->data == NULL || b->truncated ||
	    !drift_has_marker(b->data, b->len))
		return;
	doc = json_loadb(b->data, b->len, JSON_DECODE_ANY, NULL);
	if (doc != NULL)
		drift_learn_json(doc, r, 0);
	json_decref(doc);
}

/* Teach r what the recording of x redacted. */
void
drift_learn_redactions(const struct exchange *x, struct redactor *r)
{
	drift_learn_headers(&x->req_headers, r);
	drift_learn_headers(&x->resp_headers, r);
	drift_learn_body(&x->req_body, r);
	drift_learn_body(&x->resp_body, r);
}

/* Free what an answer holds. */
void
drift_answer_free(struct drift_answer *a)
{
	free(a->reason);
	http_headers_clear(&a->headers);
	buf_free(&a->body);
	free(a->server_ip);
	free(a->started);
	memset(a, 0, sizeof *a);
}

/* Store the answer's body as recording does (capture_store_body). */
static void
drift_store_body(struct drift_answer *a, size_t max, struct exchange *live)
{
	struct exchange_body	*body = &live->resp_body;
	struct buf		 dec = { NULL, 0, 0 };
	const char		*enc, *cause;

	if (a->body.len == 0 && a->wire_bytes == 0)
		return;
	enc = http_headers_get(&live->resp_headers, HTTP_CONTENT_ENCODING);
	if (enc != NULL && !a->truncated && strcasecmp(enc, "identity") != 0 &&
	    body_decode(enc, a->body.data != NULL ? a->body.data : "",
	    a->body.len, max, &dec, &cause) == 0) {
		exchange_body_set(body, dec.data != NULL ? dec.data : "",
		    dec.len);
		body->decoded_from = xstrdup(enc);
		http_headers_remove(&live->resp_headers, HTTP_CONTENT_ENCODING);
	} else
		exchange_body_set(body, a->body.data != NULL ? a->body.data :
		    "", a->body.len);
	buf_free(&dec);
	if (a->truncated) {
		body->truncated = 1;
		body->size = a->wire_bytes > body->len ? a->wire_bytes :
		    body->len + 1;
	}
	http_headers_remove(&live->resp_headers, HTTP_TRANSFER_ENCODING);
	http_headers_set_length(&live->resp_headers, body->len);
}

/* Fill live with the request sent and the answer a (taken). */
void
drift_live_exchange(const struct exchange *recorded,
    const struct http_headers *sent, struct drift_answer *a, size_t max,
    struct exchange *live)
{
	live->started = a->started;
	a->started = NULL;
	live->send_ms = a->send_ms;
	live->wait_ms = a->wait_ms;
	live->receive_ms = a->receive_ms;
	live->time_ms = a->send_ms + a->wait_ms + a->receive_ms;
	live->server_ip = a->server_ip;
	a->server_ip = NULL;
	live->method = xstrdup(recorded->method);
	live->url = xstrdup(recorded->url);
	live->http_version = xstrdup("HTTP/1.1");
	exchange_headers_copy(&live->req_headers, sent);
	http_headers_strip_hop(&live->req_headers);
	if (recorded->req_body.data != NULL) {
		exchange_body_set(&live->req_body, recorded->req_body.data,
		    recorded->req_body.len);
		live->req_wire_bytes = recorded->req_body.len;
	}
	live->status = a->status;
	live->reason = a->reason != NULL ? a->reason :
	    xstrdup(http_reason(a->status));
	a->reason = NULL;
	live->resp_headers = a->headers;
	memset(&a->headers, 0, sizeof a->headers);
	http_headers_strip_hop(&live->resp_headers);
	drift_store_body(a, max, live);
	live->resp_wire_bytes = a->wire_bytes;
	/* The same request: what was said of it still holds. */
	if (recorded->diagnoses != NULL)
		live->diagnoses = json_incref(recorded->diagnoses);
	drift_answer_free(a);
}

/* Add a change; past DRIFT_MAX_CHANGES it is only counted. */
static void
drift_add(struct drift_changes *out, enum drift_kind kind, const char *path,
    json_t *recorded, json_t *live)
{
	struct drift_change	*c;

	if (out->n >= DRIFT_MAX_CHANGES) {
		out->dropped++;
		json_decref(recorded);
		json_decref(live);
		return;
	}
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 8;
		out->v = xreallocarray(out->v, out->cap, sizeof *out->v);
	}
	c = &out->v[out->n++];
	c->kind = kind;
	c->severity = drift_severity_of(kind);
	c->path = xstrdup(path);
	c->recorded = recorded;
	c->live = live;
}

/* A body that is JSON, parsed (NULL when it is not, or is empty). */
static json_t *
drift_body_json(const struct exchange *x)
{
	const struct exchange_body	*b = &x->resp_body;
	const char			*ctype;
	size_t				 i = 0;

	if (b->data == NULL || b->len == 0)
		return NULL;
	while (i < b->len && isspace((unsigned char)b->data[i]))
		i++;
	ctype = http_headers_get(&x->resp_headers, HTTP_CONTENT_TYPE);
	/* "123" is JSON too, but only a JSON answer's counts as JSON. */
	if (i == b->len || (!body_is_json(ctype) && b->data[i] != '{' &&
	    b->data[i] != '['))
		return NULL;
	return json_loadb(b->data, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    NULL);
}

/* Is a body still in a Content-Encoding drift could not undo? */
static int
drift_body_coded(const struct exchange *x)
{
	const char	*enc;

	enc = http_headers_get(&x->resp_headers, HTTP_CONTENT_ENCODING);
	return enc != NULL && strcasecmp(enc, "identity") != 0;
}

static enum drift_kind
drift_kind_of(enum jdiff_kind k)
{
	switch (k) {
	case JDIFF_ADDED:
		return DRIFT_ADDED;
	case JDIFF_REMOVED:
		return DRIFT_REMOVED;
	case JDIFF_TYPE:
		return DRIFT_TYPE;
	case JDIFF_ENUM:
		return DRIFT_ENUM;
	case JDIFF_VALUE:
		break;
	}
	return DRIFT_VALUE;
}

/* Compare two JSON bodies (either may be NULL: not JSON). */
static void
drift_compare_bodies(json_t *rec, json_t *live, unsigned flags,
    struct drift_changes *out)
{
	struct jdiff		 d;
	struct jdiff_change	*c;
	size_t			 i;

	if (rec == NULL || live == NULL) {
		/* JSON on one side only: the body changed type as a whole. */
		drift_add(out, DRIFT_TYPE, "", json_incref(rec),
		    json_incref(live));
		return;
	}
	jdiff_init(&d);
	jdiff_compare(&d, rec, live, (flags & DRIFT_VALUES) ? JDIFF_VALUES :
	    0);
	for (i = 0; i < d.n; i++) {
		c = &d.v[i];
		drift_add(out, drift_kind_of(c->kind), c->path,
		    json_incref(c->a), json_incref(c->b));
	}
	out->dropped += d.dropped;
	jdiff_free(&d);
}

/* Compare a live answer with the recorded one. */
void
drift_compare(const struct exchange *recorded, const struct exchange *live,
    const struct redactor *r, unsigned flags, struct drift_changes *out)
{
	json_t	*rec_doc, *live_doc;

	if (recorded->status != live->status) {
		drift_add(out, DRIFT_STATUS, "",
		    json_integer(recorded->status), json_integer(live->status));
		return;
	}
	/* A body cut (at the limit, or by a failure) is not compared. */
	if (recorded->resp_body.truncated || live->resp_body.truncated ||
	    recorded->error != NULL || drift_body_coded(recorded) ||
	    drift_body_coded(live)) {
		out->body_skipped = 1;
		return;
	}
	rec_doc = drift_body_json(recorded);
	live_doc = drift_body_json(live);
	if (rec_doc != NULL)
		redact_json(r, rec_doc);
	if (rec_doc != NULL || live_doc != NULL)
		drift_compare_bodies(rec_doc, live_doc, flags, out);
	json_decref(rec_doc);
	json_decref(live_doc);
}

/* Free the changes. */
void
drift_changes_free(struct drift_changes *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		json_decref(l->v[i].recorded);
		json_decref(l->v[i].live);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}
