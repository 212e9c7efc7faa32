/*
 * sanitize: patchscope's redaction for a HAR file from any tool.
 *
 * A browser's export (Chrome, Firefox) holds a request's secrets in more
 * places than patchscope's own cassettes: besides the URL, the headers and
 * the bodies, the cookies arrays (request and response), queryString,
 * postData.params, response.redirectURL, and extensions such as Chrome's
 * _webSocketMessages and _initiator. Each entry's places are redacted with
 * the redact module's rules and markers, as record would; then every
 * string of the document that is a URL with a query has its secret
 * parameters marked (an initiator's URL, a page's title), and every value
 * found so far is replaced wherever else it occurs (redact_set), in the
 * whole document: a page title, another entry, a base64 body (decoded
 * first). A value that already is a marker stays, so sanitizing twice
 * changes nothing; to be sure of that, a pass is repeated on its own
 * output until it changes nothing (SANITIZE_PASSES at most).
 *
 * The document is parsed (a), copied (b), b is redacted, and the values
 * where b differs from a are written into the input's text in place
 * (sanitize_splice.c): every other byte stays.
 *
 * Shape: the document is an object with log.entries an array; each entry
 * an object with a request object holding a url string; every headers,
 * cookies, queryString and postData.params present is an array of
 * objects with string name and value (a param may lack its value: a file
 * field); postData and response.content, when present, are objects whose
 * text is a string. A member that is null counts as absent. Anything
 * else there is an error naming the entry and the field: a file whose
 * secrets cannot be found is not called clean. Fields that no tool is
 * bound to (extensions) are only scrubbed.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "http.h"
#include "redact.h"
#include "sanitize.h"
#include "sanitize_local.h"
#include "uri.h"
#include "xmalloc.h"

/* Passes at most until one changes nothing (see the top). */
#define SANITIZE_PASSES		4

/* What a name/value array holds. */
enum pair_kind {
	PAIR_HEADER,
	PAIR_COOKIE,
	PAIR_QUERY,
	PAIR_PARAM,
};

/* Keep the first error of a pass, about the current entry; return -1. */
static int __attribute__((format(printf, 2, 3)))
walk_fail(struct sanitize_walk *w, const char *fmt, ...)
{
	struct buf	b = { NULL, 0, 0 };
	va_list		ap;

	if (w->cause != NULL)
		return -1;
	buf_printf(&b, "entry %zu", w->entry);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	w->cause = b.data;
	return -1;
}

static const char *
type_word(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	default:
		return "a string";
	}
}

/*
 * Find member key of obj, of type t: *out is NULL when it is absent or
 * null (some tools write "postData": null), an error when it is required.
 * Return -1 when it is there with another type.
 */
static int
walk_member(struct sanitize_walk *w, json_t *obj, const char *key,
    json_type t, const char *where, int required, json_t **out)
{
	*out = json_object_get(obj, key);
	if (json_is_null(*out))
		*out = NULL;
	if (*out == NULL)
		return required ? walk_fail(w, ": %s%s%s is missing", where,
		    *where != '\0' ? "." : "", key) : 0;
	if (json_typeof(*out) != t)
		return walk_fail(w, ": %s%s%s is not %s", where,
		    *where != '\0' ? "." : "", key, type_word(t));
	return 0;
}

/* Set a string's value; a failure (not expected: the new text is made of
 * the old one's pieces and ASCII markers) stops the pass. */
static int
walk_set(struct sanitize_walk *w, json_t *s, const char *v, size_t len)
{
	if (json_string_setn(s, v, len) != 0)
		return walk_fail(w, ": a redacted value is not valid UTF-8");
	return 0;
}

/* Redact the query of the URL string u; count its fields into t. */
static int
walk_url(struct sanitize_walk *w, json_t *u, struct sanitize_tally *t)
{
	struct uri_parts	 parts;
	const char		*s = json_string_value(u);
	char			*nu;
	int			 rc = 0;

	nu = redact_url(w->r, s);
	if (strcmp(nu, s) != 0) {
		uri_split(s, &parts);
		if (parts.query.p != NULL)
			sanitize_query_scan(w, parts.query.p, parts.query.len,
			    t);
		rc = walk_set(w, u, nu, strlen(nu));
	}
	free(nu);
	return rc;
}

/* Note the cookie values of a Cookie (set 0) or Set-Cookie header. */
static void
note_cookies(struct sanitize_walk *w, const char *v, int set)
{
	const char	*end, *eq, *vs, *ve;

	for (;;) {
		end = v + strcspn(v, ";");
		eq = memchr(v, '=', (size_t)(end - v));
		vs = eq != NULL ? eq + 1 : v;
		ve = end;
		while (vs < ve && (*vs == ' ' || *vs == '\t'))
			vs++;
		while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		redact_set_add(w->secrets, vs, (size_t)(ve - vs));
		if (set || *end == '\0')
			break;
		v = end + 1;
	}
}

/* Note what a secret header's value holds: the value, and the token of
 * "Bearer TOKEN" (it may occur alone elsewhere). */
static void
note_header(struct sanitize_walk *w, const char *name, const char *v)
{
	const char	*sp;

	if (strcasecmp(name, "Cookie") == 0)
		note_cookies(w, v, 0);
	else if (strcasecmp(name, "Set-Cookie") == 0)
		note_cookies(w, v, 1);
	else {
		redact_set_add(w->secrets, v, strlen(v));
		if ((sp = strchr(v, ' ')) != NULL)
			redact_set_add(w->secrets, sp + 1, strlen(sp + 1));
	}
}

/* One header: redacted as record redacts a header list of it alone. */
static int
pair_header(struct sanitize_walk *w, json_t *name, json_t *value,
    enum sanitize_place place)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct uri_parts	 u;
	const char		*n = json_string_value(name);
	const char		*v = json_string_value(value);
	int			 rc = 0;

	http_headers_add(&h, n, strlen(n), v, strlen(v));
	redact_headers(w->r, &h);
	if (strcmp(h.v[0].value, v) != 0) {
		if (redact_header_name(w->r, n)) {
			sanitize_tally_add(&w->rep->places[place], n,
			    strlen(n), 1);
			note_header(w, n, v);
		} else {
			/* A URL (Location, Referer) whose query changed. */
			uri_split(v, &u);
			if (u.query.p != NULL)
				sanitize_query_scan(w, u.query.p, u.query.len,
				    &w->rep->places[SANITIZE_QUERY]);
		}
		rc = walk_set(w, value, h.v[0].value, strlen(h.v[0].value));
	}
	http_headers_clear(&h);
	return rc;
}

/* A cookie, a query parameter or a form field: its value marked. */
static int
pair_value(struct sanitize_walk *w, json_t *name, json_t *value,
    enum pair_kind kind)
{
	struct buf	 dn = { NULL, 0, 0 }, dv = { NULL, 0, 0 };
	const char	*n = json_string_value(name);
	const char	*v = json_string_value(value);
	char		 m[REDACT_MARKER_LEN + 1];
	int		 rc = 0;

	if (kind == PAIR_COOKIE) {
		/* Every cookie is a credential, as in a Cookie header. */
		buf_add(&dv, v, strlen(v));
		buf_adds(&dn, n);
	} else {
		/* As in a URL: the marker of the percent-decoded value. */
		uri_decode_buf(&dn, n, strlen(n), 0);
		uri_decode_buf(&dv, v, strlen(v), 0);
		if (!redact_query_name(w->r, buf_str(&dn), dn.len))
			dv.len = 0;
	}
	if (dv.len > 0 && !redact_is_marker(dv.data, dv.len)) {
		redact_marker(dv.data, dv.len, m);
		redact_set_add(w->secrets, dv.data, dv.len);
		redact_set_add(w->secrets, v, strlen(v));
		sanitize_tally_add(kind == PAIR_COOKIE ?
		    &w->rep->places[SANITIZE_COOKIE] : kind == PAIR_QUERY ?
		    &w->q_list : &w->f_list, dn.data, dn.len, 1);
		rc = walk_set(w, value, m, REDACT_MARKER_LEN);
	}
	buf_free(&dn);
	buf_free(&dv);
	return rc;
}

/* Walk a name/value array (headers, cookies, queryString, params). */
static int
walk_pairs(struct sanitize_walk *w, json_t *parent, const char *key,
    const char *where, enum pair_kind kind, enum sanitize_place place)
{
	json_t	*arr, *item, *name, *value;
	size_t	 i;

	if (walk_member(w, parent, key, JSON_ARRAY, where, 0, &arr) != 0)
		return -1;
	json_array_foreach(arr, i, item) {
		if (!json_is_object(item))
			return walk_fail(w, ": %s.%s[%zu] is not an object",
			    where, key, i);
		name = json_object_get(item, "name");
		value = json_object_get(item, "value");
		if (!json_is_string(name))
			return walk_fail(w, ": %s.%s[%zu].name is %s", where,
			    key, i, name == NULL ? "missing" :
			    "not a string");
		if (value == NULL && kind == PAIR_PARAM)
			continue;	/* a file field */
		if (!json_is_string(value))
			return walk_fail(w, ": %s.%s[%zu].value is %s", where,
			    key, i, value == NULL ? "missing" :
			    "not a string");
		if ((kind == PAIR_HEADER ? pair_header(w, name, value,
		    place) : pair_value(w, name, value, kind)) != 0)
			return -1;
	}
	return 0;
}

/* The body's type: its mimeType, else the Content-Type of headers. */
static const char *
body_type(json_t *holder, json_t *side)
{
	const char	*ct = json_string_value(json_object_get(holder,
			    "mimeType"));
	json_t		*item;
	size_t		 i;

	if (ct != NULL && *ct != '\0')
		return ct;
	json_array_foreach(json_object_get(side, "headers"), i, item) {
		ct = json_string_value(json_object_get(item, "name"));
		if (ct != NULL && strcasecmp(ct, "content-type") == 0)
			return json_string_value(json_object_get(item,
			    "value"));
	}
	return NULL;
}

/* Return nonzero when holder says its text is base64. */
static int
body_base64(json_t *holder)
{
	const char	*e = json_string_value(json_object_get(holder,
			    "encoding"));

	if (e == NULL)
		e = json_string_value(json_object_get(holder, "_encoding"));
	return e != NULL && strcasecmp(e, "base64") == 0;
}

/* Redact the text of postData or response.content. */
static int
walk_body(struct sanitize_walk *w, json_t *holder, json_t *side,
    const char *where)
{
	struct buf	 raw = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	struct buf	 enc = { NULL, 0, 0 };
	json_t		*text;
	int		 rc = 0, b64;

	if (walk_member(w, holder, "text", JSON_STRING, where, 0, &text) != 0)
		return -1;
	if (text == NULL)
		return 0;
	b64 = body_base64(holder);
	if (b64 && sanitize_b64_decode(json_string_value(text),
	    json_string_length(text), &raw) != 0)
		goto done;	/* not base64 after all: text to scrub */
	if (!b64)
		buf_add(&raw, json_string_value(text),
		    json_string_length(text));
	if (sanitize_body(w, body_type(holder, side), buf_str(&raw), raw.len,
	    &out)) {
		if (b64) {
			sanitize_b64_encode((const unsigned char *)
			    buf_str(&out), out.len, &enc);
			rc = walk_set(w, text, buf_str(&enc), enc.len);
		} else
			rc = walk_set(w, text, buf_str(&out), out.len);
	}
done:
	buf_free(&raw);
	buf_free(&out);
	buf_free(&enc);
	return rc;
}

/* Chrome's _webSocketMessages: each frame's data is a body of no type
 * (JSON when it looks like it). Other shapes are another tool's. */
static int
walk_frames(struct sanitize_walk *w, json_t *entry)
{
	struct buf	 out = { NULL, 0, 0 };
	json_t		*frame, *data;
	size_t		 i;
	int		 rc = 0;

	json_array_foreach(json_object_get(entry, "_webSocketMessages"), i,
	    frame) {
		data = json_object_get(frame, "data");
		if (!json_is_string(data))
			continue;
		buf_reset(&out);
		if (sanitize_body(w, NULL, json_string_value(data),
		    json_string_length(data), &out) &&
		    (rc = walk_set(w, data, buf_str(&out), out.len)) != 0)
			break;
	}
	buf_free(&out);
	return rc;
}

static int
walk_request(struct sanitize_walk *w, json_t *req)
{
	json_t	*url, *post;

	if (walk_member(w, req, "url", JSON_STRING, "request", 1, &url) != 0 ||
	    walk_url(w, url, &w->q_url) != 0 ||
	    walk_pairs(w, req, "headers", "request", PAIR_HEADER,
	    SANITIZE_REQUEST_HEADER) != 0 ||
	    walk_pairs(w, req, "cookies", "request", PAIR_COOKIE, 0) != 0 ||
	    walk_pairs(w, req, "queryString", "request", PAIR_QUERY, 0) != 0 ||
	    walk_member(w, req, "postData", JSON_OBJECT, "request", 0,
	    &post) != 0)
		return -1;
	if (post == NULL)
		return 0;
	if (walk_pairs(w, post, "params", "request.postData", PAIR_PARAM,
	    0) != 0)
		return -1;
	return walk_body(w, post, req, "request.postData");
}

static int
walk_response(struct sanitize_walk *w, json_t *resp)
{
	json_t	*content, *redirect;

	if (walk_pairs(w, resp, "headers", "response", PAIR_HEADER,
	    SANITIZE_RESPONSE_HEADER) != 0 ||
	    walk_pairs(w, resp, "cookies", "response", PAIR_COOKIE, 0) != 0 ||
	    walk_member(w, resp, "content", JSON_OBJECT, "response", 0,
	    &content) != 0 ||
	    (content != NULL && walk_body(w, content, resp,
	    "response.content") != 0) ||
	    walk_member(w, resp, "redirectURL", JSON_STRING, "response", 0,
	    &redirect) != 0)
		return -1;
	if (redirect == NULL)
		return 0;
	return walk_url(w, redirect, &w->rep->places[SANITIZE_QUERY]);
}

/* Redact the places of one entry. */
static int
walk_entry(struct sanitize_walk *w, json_t *entry)
{
	json_t	*req, *resp;
	int	 rc = -1;

	if (!json_is_object(entry))
		return walk_fail(w, " is not an object");
	if (walk_member(w, entry, "request", JSON_OBJECT, "", 1, &req) != 0 ||
	    walk_request(w, req) != 0 ||
	    walk_member(w, entry, "response", JSON_OBJECT, "", 0, &resp) != 0 ||
	    (resp != NULL && walk_response(w, resp) != 0) ||
	    walk_frames(w, entry) != 0)
		goto done;
	rc = 0;
done:
	sanitize_tally_merge(&w->rep->places[SANITIZE_QUERY], &w->q_url,
	    &w->q_list);
	sanitize_tally_merge(&w->rep->places[SANITIZE_FORM], &w->f_text,
	    &w->f_list);
	return rc;
}

/* Return nonzero when s is a URL with a query, as redact_walk.c takes
 * one wherever it is: http(s)://...?..., or a path /...?... */
static int
is_url(const char *s)
{
	if (strchr(s, '?') == NULL)
		return 0;
	return strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0 || s[0] == '/';
}

/* Every string of v that is a URL with a query: its secrets marked. */
static int
walk_urls(struct sanitize_walk *w, json_t *v)
{
	const char	*key;
	json_t		*e;
	size_t		 i;

	if (json_is_string(v))
		return is_url(json_string_value(v)) ? walk_url(w, v,
		    &w->rep->places[SANITIZE_QUERY]) : 0;
	json_object_foreach(v, key, e)
		if (walk_urls(w, e) != 0)
			return -1;
	json_array_foreach(v, i, e)
		if (walk_urls(w, e) != 0)
			return -1;
	return 0;
}

/* Replace the found values in a string (base64 text decoded first). */
static int
scrub_string(struct sanitize_walk *w, json_t *s, int b64)
{
	struct buf	 raw = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	struct buf	 enc = { NULL, 0, 0 };
	int		 rc = 0;

	if (b64 && sanitize_b64_decode(json_string_value(s),
	    json_string_length(s), &raw) == 0) {
		if (redact_set_scrub(w->secrets, buf_str(&raw), raw.len,
		    &out)) {
			sanitize_b64_encode((const unsigned char *)out.data,
			    out.len, &enc);
			rc = walk_set(w, s, enc.data, enc.len) == 0 ? 1 : -1;
		}
	} else if (redact_set_scrub(w->secrets, json_string_value(s),
	    json_string_length(s), &out))
		rc = walk_set(w, s, out.data, out.len) == 0 ? 1 : -1;
	buf_free(&raw);
	buf_free(&out);
	buf_free(&enc);
	return rc;
}

/* Replace the found values in every string of v; count the strings. */
static int
walk_scrub(struct sanitize_walk *w, json_t *v, int b64)
{
	const char	*key;
	json_t		*e;
	size_t		 i;
	int		 rc;

	if (json_is_string(v)) {
		if ((rc = scrub_string(w, v, b64)) < 0)
			return -1;
		sanitize_tally_add(&w->rep->places[SANITIZE_OTHER], NULL, 0,
		    (size_t)rc);
		return 0;
	}
	json_object_foreach(v, key, e)
		if (walk_scrub(w, e, strcmp(key, "text") == 0 &&
		    body_base64(v)) != 0)
			return -1;
	json_array_foreach(v, i, e)
		if (walk_scrub(w, e, 0) != 0)
			return -1;
	return 0;
}

/* Check the document's shape down to log.entries; return that array. */
static json_t *
har_entries(json_t *doc, char **cause)
{
	json_t	*log, *entries;

	if (!json_is_object(doc)) {
		*cause = xstrdup("not a HAR file: the document is not a JSON "
		    "object");
		return NULL;
	}
	log = json_object_get(doc, "log");
	if (!json_is_object(log)) {
		*cause = xasprintf("not a HAR file: %s", log == NULL ?
		    "no \"log\" member" : "\"log\" is not an object");
		return NULL;
	}
	entries = json_object_get(log, "entries");
	if (!json_is_array(entries)) {
		*cause = xasprintf("not a HAR file: %s", entries == NULL ?
		    "no \"log.entries\" array" :
		    "\"log.entries\" is not an array");
		return NULL;
	}
	return entries;
}

/*
 * One pass: parse text, redact a copy, write it back into text in out.
 * Mark in changed[] the entries that changed. Return 1 when something
 * did, 0 when nothing (out empty), -1 with *cause.
 */
static int
sanitize_pass(struct sanitize_walk *w, const char *text, size_t len,
    unsigned char **changed, struct buf *out, char **cause)
{
	json_error_t	 err;
	json_t		*a, *b = NULL, *ea, *eb, *entry;
	size_t		 i;
	int		 rc = -1, any = 0;

	a = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (a == NULL) {
		/* jansson names its flag for NUL; a person needs the cause. */
		*cause = xasprintf("not JSON: line %d, column %d: %s",
		    err.line, err.column, strstr(err.text, "ALLOW_NUL") !=
		    NULL ? "a string holds \\u0000 (a NUL character), which "
		    "patchscope does not take" : err.text);
		return -1;
	}
	if ((ea = har_entries(a, cause)) == NULL)
		goto done;
	if (*changed == NULL) {
		w->rep->entries = json_array_size(ea);
		*changed = xcalloc(json_array_size(ea) + 1, 1);
	}
	b = json_deep_copy(a);
	eb = har_entries(b, cause);
	if (b == NULL || eb == NULL ||
	    json_array_size(ea) != w->rep->entries) {
		free(*cause);
		*cause = xstrdup("the document changed shape while it was "
		    "redacted");
		goto done;
	}
	json_array_foreach(eb, i, entry) {
		w->entry = i;
		if (walk_entry(w, entry) != 0)
			goto fail;
	}
	if (walk_urls(w, b) != 0 || walk_scrub(w, b, 0) != 0)
		goto fail;
	json_array_foreach(ea, i, entry)
		if (!json_equal(entry, json_array_get(eb, i)))
			(*changed)[i] = 1;
	if (json_equal(a, b)) {
		rc = 0;
		goto done;
	}
	if (sanitize_splice(text, len, a, b, out, &any) != 0) {
		*cause = xstrdup("the document could not be written back as "
		    "it was read");
		goto done;
	}
	rc = any;
	goto done;
fail:
	*cause = w->cause != NULL ? w->cause : xstrdup("cannot redact");
	w->cause = NULL;
done:
	json_decref(a);
	json_decref(b);
	return rc;
}

/* Redact a HAR document; the new text in out. */
int
sanitize_har(const struct redactor *r, const char *text, size_t len,
    struct buf *out, struct sanitize_report *rep, char **cause)
{
	struct sanitize_walk	 w;
	struct buf		 cur = { NULL, 0, 0 }, next = { NULL, 0, 0 };
	unsigned char		*changed = NULL;
	size_t			 i, bom = 0;
	int			 rc = -1, step;

	memset(rep, 0, sizeof *rep);
	memset(&w, 0, sizeof w);
	w.r = r;
	w.rep = rep;
	if (len > SANITIZE_MAX_INPUT) {
		*cause = xasprintf("larger than %zu MiB, the most sanitize "
		    "takes", SANITIZE_MAX_INPUT >> 20);
		return -1;
	}
	/* A byte order mark (some Windows tools write one) is kept apart. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		bom = 3;
	buf_add(&cur, text + bom, len - bom);
	for (rep->passes = 0; rep->passes < SANITIZE_PASSES;) {
		w.secrets = redact_set_new();
		buf_reset(&next);
		step = sanitize_pass(&w, buf_str(&cur), cur.len, &changed,
		    &next, cause);
		redact_set_free(w.secrets);
		w.secrets = NULL;
		rep->passes++;
		if (step < 0)
			goto done;
		if (step == 0)
			break;
		buf_free(&cur);
		cur = next;
		memset(&next, 0, sizeof next);
	}
	for (i = 0; i < rep->entries; i++)
		rep->entries_changed += changed[i];
	buf_add(out, text, bom);
	buf_add(out, buf_str(&cur), cur.len);
	rc = 0;
done:
	if (rc != 0)
		sanitize_report_free(rep);
	buf_free(&cur);
	buf_free(&next);
	free(changed);
	return rc;
}
