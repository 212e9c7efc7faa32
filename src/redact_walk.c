/*
 * redact_walk: the walk that finds secrets where they sit and replaces
 * them by their markers: the values of secret headers (each cookie of
 * Cookie, the pair of Set-Cookie), of secret query parameters and form
 * fields, of JSON members whose keys look secret, of webhook action
 * headers. A pass is a struct redact_walk: it counts the values it
 * replaced and, for redact_exchange, notes each one for the scrub
 * (redact_scrub.c).
 *
 * Rules that keep the output stable and the input harmless:
 * - an empty value and a value that already is a marker stay as they are,
 *   so redacting twice changes nothing;
 * - a string that is a URL with a query (http:// or https://, or a path
 *   starting "/"), as a JSON value or a header value (Location), has its
 *   query redacted like a request's;
 * - JSON is walked REDACT_MAX_DEPTH levels deep; deeper parts are left as
 *   they are (hostile nesting costs nothing; scrubbing still reaches them
 *   in redact_exchange);
 * - a JSON body that does not parse (cut off by the body limit, or the
 *   syntax error a user came to diagnose) is redacted lexically: the
 *   scalar after each "secret-key": is marked, containers are not.
 *
 * Nothing here keeps a pointer into the caller's data.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "body.h"
#include "buf.h"
#include "http.h"
#include "redact.h"
#include "redact_local.h"
#include "uri.h"
#include "xmalloc.h"

enum redact_kind {
	REDACT_OTHER,
	REDACT_JSON,
	REDACT_FORM,
};

/* Put v's marker in m and note v; return 0 when v stays (empty, marker). */
static int
redact_value(struct redact_walk *w, const char *v, size_t len,
    char m[REDACT_MARKER_LEN + 1])
{
	if (len == 0 || redact_is_marker(v, len))
		return 0;
	redact_marker(v, len, m);
	redact_scrub_note(w, v, len);
	w->changed++;
	return 1;
}

static int
redact_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Append [s, end) with the value inside its blanks replaced by its
 * marker. Return nonzero when it was. */
static int
redact_span(struct redact_walk *w, const char *s, const char *end,
    struct buf *out)
{
	const char	*vs = s, *ve = end;
	char		 m[REDACT_MARKER_LEN + 1];

	while (vs < ve && redact_is_space(*vs))
		vs++;
	while (ve > vs && redact_is_space(ve[-1]))
		ve--;
	if (!redact_value(w, vs, (size_t)(ve - vs), m)) {
		buf_add(out, s, (size_t)(end - s));
		return 0;
	}
	buf_add(out, s, (size_t)(vs - s));
	buf_add(out, m, REDACT_MARKER_LEN);
	buf_add(out, ve, (size_t)(end - ve));
	return 1;
}

/* Append a cookie pair ("name=value", or a nameless "value") with its
 * value marked. */
static int
redact_cookie_pair(struct redact_walk *w, const char *s, const char *end,
    struct buf *out)
{
	const char	*eq;

	eq = memchr(s, '=', (size_t)(end - s));
	if (eq == NULL)
		return redact_span(w, s, end, out);
	buf_add(out, s, (size_t)(eq + 1 - s));
	return redact_span(w, eq + 1, end, out);
}

/* Cookie (RFC 6265 4.2): "a=1; b=2", each value marked. */
static int
redact_cookies(struct redact_walk *w, const char *v, struct buf *out)
{
	const char	*end;
	int		 changed = 0;

	for (;;) {
		end = v + strcspn(v, ";");
		changed |= redact_cookie_pair(w, v, end, out);
		if (*end == '\0')
			break;
		buf_add(out, ";", 1);
		v = end + 1;
	}
	return changed;
}

/* Set-Cookie (RFC 6265 4.1): the pair's value marked, attributes kept. */
static int
redact_set_cookie(struct redact_walk *w, const char *v, struct buf *out)
{
	const char	*end;
	int		 changed;

	end = v + strcspn(v, ";");
	changed = redact_cookie_pair(w, v, end, out);
	buf_adds(out, end);
	return changed;
}

/*
 * Append a secret parameter's value, marked on its percent-decoded bytes.
 * '+' is not decoded (replay's matching reads it as a space): the markers
 * in cassettes already written hash it as '+'.
 */
static int
redact_param_value(struct redact_walk *w, const char *v, size_t len,
    struct buf *out)
{
	struct buf	 d = { NULL, 0, 0 };
	char		 m[REDACT_MARKER_LEN + 1];
	int		 changed;

	uri_decode_buf(&d, v, len, 0);
	changed = redact_value(w, d.data, d.len, m);
	if (changed) {
		/* The encoded form may be what occurs elsewhere. */
		redact_scrub_note(w, v, len);
		buf_add(out, m, REDACT_MARKER_LEN);
	} else
		buf_add(out, v, len);
	buf_free(&d);
	return changed;
}

static int
redact_param_name(const struct redactor *r, const char *name, size_t len)
{
	struct buf	d = { NULL, 0, 0 };
	int		secret;

	uri_decode_buf(&d, name, len, 0);
	secret = redact_query_name(r, d.data, d.len);
	buf_free(&d);
	return secret;
}

/* Append a query ("a=1&b=2", no "?" or "#") with secret values marked. */
static int
redact_query(struct redact_walk *w, const char *q, size_t len,
    struct buf *out)
{
	struct uri_param	 f;
	const char		*p = q, *end = q + len, *amp;
	int			 changed = 0;

	for (;;) {
		amp = uri_query_field(p, end, &f);
		if (f.value.p != NULL &&
		    redact_param_name(w->r, f.name.p, f.name.len)) {
			buf_add(out, p, (size_t)(f.value.p - p));
			changed |= redact_param_value(w, f.value.p,
			    f.value.len, out);
		} else
			buf_add(out, p, (size_t)(amp - p));
		if (amp == end)
			break;
		buf_add(out, "&", 1);
		p = amp + 1;
	}
	return changed;
}

/* Write url with its query redacted into out; return nonzero when it
 * changed (out holds the whole URL either way). */
int
redact_walk_url(struct redact_walk *w, const char *url, struct buf *out)
{
	struct uri_parts	u;
	int			changed;

	uri_split(url, &u);
	if (u.query.p == NULL) {
		buf_adds(out, url);
		return 0;
	}
	buf_add(out, url, (size_t)(u.query.p - url));
	changed = redact_query(w, u.query.p, u.query.len, out);
	buf_adds(out, u.query.p + u.query.len);
	return changed;
}

/* Return nonzero when s is an absolute http(s) URL or a path with a
 * query: worth redacting as a URL wherever it appears. */
static int
redact_is_url(const char *s)
{
	if (strchr(s, '?') == NULL)
		return 0;
	return strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0 || s[0] == '/';
}

/* Redact one header in place. */
static void
redact_header(struct redact_walk *w, struct http_header *h)
{
	struct buf	 b = { NULL, 0, 0 };
	const char	*sp;
	int		 changed;

	if (!redact_header_name(w->r, h->name)) {
		if (!redact_is_url(h->value))
			return;
		changed = redact_walk_url(w, h->value, &b);
	} else if (strcasecmp(h->name, "Cookie") == 0)
		changed = redact_cookies(w, h->value, &b);
	else if (strcasecmp(h->name, "Set-Cookie") == 0)
		changed = redact_set_cookie(w, h->value, &b);
	else {
		changed = redact_span(w, h->value, h->value +
		    strlen(h->value), &b);
		/* "Bearer TOKEN": the token alone may occur elsewhere. */
		sp = strchr(h->value, ' ');
		if (changed && sp != NULL)
			redact_scrub_note(w, sp + 1, strlen(sp + 1));
	}
	if (changed) {
		free(h->value);
		h->value = b.data;
	} else
		buf_free(&b);
}

/* Redact each header in place. */
void
redact_walk_headers(struct redact_walk *w, struct http_headers *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		redact_header(w, &h->v[i]);
}

/* Redact a header list in place. */
void
redact_headers(const struct redactor *r, struct http_headers *h)
{
	struct redact_walk	w = { r, NULL, 0 };

	if (redact_disabled(r))
		return;
	redact_walk_headers(&w, h);
}

/* Return a copy of url with its query redacted. */
char *
redact_url(const struct redactor *r, const char *url)
{
	struct redact_walk	w = { r, NULL, 0 };
	struct buf		b = { NULL, 0, 0 };

	if (redact_disabled(r))
		return xstrdup(url);
	redact_walk_url(&w, url, &b);
	return b.data;
}

/* Return the marked copy of a scalar, or NULL when it stays (null, empty,
 * a marker). Only strings are noted for the scrub: "true" or "1" would
 * match everywhere. */
static json_t *
redact_scalar(struct redact_walk *w, json_t *v)
{
	char	 m[REDACT_MARKER_LEN + 1];
	char	*text;

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (!redact_value(w, json_string_value(v),
		    json_string_length(v), m))
			return NULL;
		return json_string(m);
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
	case JSON_FALSE:
		text = json_dumps(v, JSON_ENCODE_ANY);
		if (text == NULL)
			return NULL;
		redact_marker(text, strlen(text), m);
		free(text);
		w->changed++;
		return json_string(m);
	default:
		return NULL;
	}
}

/* Mark every scalar of v (under a secret key). Return the replacement of a
 * scalar v, or NULL (containers change in place). */
static json_t *
redact_all(struct redact_walk *w, json_t *v, int depth)
{
	const char	*key;
	json_t		*m, *e;
	size_t		 i;

	if (json_is_object(v) || json_is_array(v)) {
		if (depth >= REDACT_MAX_DEPTH)
			return NULL;
		/* Setting an existing key keeps the iteration valid. */
		json_object_foreach(v, key, e)
			if ((m = redact_all(w, e, depth + 1)) != NULL)
				json_object_set_new(v, key, m);
		json_array_foreach(v, i, e)
			if ((m = redact_all(w, e, depth + 1)) != NULL)
				json_array_set_new(v, i, m);
		return NULL;
	}
	return redact_scalar(w, v);
}

/* A string that is a URL gets its query redacted. */
static void
redact_json_string(struct redact_walk *w, json_t *s)
{
	struct buf	 b = { NULL, 0, 0 };
	const char	*v = json_string_value(s);

	if (strlen(v) == json_string_length(s) && redact_is_url(v) &&
	    redact_walk_url(w, v, &b))
		json_string_setn(s, b.data, b.len);
	buf_free(&b);
}

/* Walk v: under a secret key mark everything, elsewhere go on looking. */
static void
redact_json_walk(struct redact_walk *w, json_t *v, int depth)
{
	const char	*key;
	json_t		*m, *e;
	size_t		 i;

	if (json_is_string(v)) {
		redact_json_string(w, v);
		return;
	}
	if (depth >= REDACT_MAX_DEPTH)
		return;
	json_object_foreach(v, key, e) {
		if (!redact_json_key(w->r, key))
			redact_json_walk(w, e, depth + 1);
		else if ((m = redact_all(w, e, depth + 1)) != NULL)
			json_object_set_new(v, key, m);
	}
	json_array_foreach(v, i, e)
		redact_json_walk(w, e, depth + 1);
}

/* Webhook actions: {"actions": [{"headers": {"Authorization": ...}}]}. */
static void
redact_json_actions(struct redact_walk *w, json_t *root)
{
	const char	*key;
	json_t		*actions, *action, *headers, *e, *m;
	size_t		 i;

	/* Depths: root 0, actions 1, action 2, headers 3, values 4. */
	actions = json_object_get(root, "actions");
	json_array_foreach(actions, i, action) {
		headers = json_object_get(action, "headers");
		json_object_foreach(headers, key, e)
			if (redact_header_name(w->r, key) &&
			    (m = redact_all(w, e, 4)) != NULL)
				json_object_set_new(headers, key, m);
	}
}

static void
redact_json_doc(struct redact_walk *w, json_t *v)
{
	redact_json_actions(w, v);
	redact_json_walk(w, v, 0);
}

/* Redact a JSON value in place. */
void
redact_json(const struct redactor *r, json_t *v)
{
	struct redact_walk	w = { r, NULL, 0 };

	if (redact_disabled(r) || v == NULL)
		return;
	redact_json_doc(&w, v);
}

/* Return the end of the JSON string token whose quote is at s[i]: after
 * its closing quote, or len when it is cut off. */
static size_t
redact_lex_string(const char *s, size_t i, size_t len)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

static size_t
redact_lex_space(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
	    s[i] == '\n'))
		i++;
	return i;
}

/* Decode a string token (quotes included); one that is cut off or bad
 * gives its raw inner bytes. */
static void
redact_lex_decode(const char *tok, size_t len, struct buf *out)
{
	json_error_t	 err;
	json_t		*s;
	size_t		 n;

	/* Only escapes need jansson; most tokens have none. */
	s = NULL;
	if (memchr(tok + 1, '\\', len - 1) != NULL)
		s = json_loadb(tok, len, JSON_DECODE_ANY, &err);
	if (json_is_string(s))
		buf_add(out, json_string_value(s), json_string_length(s));
	else {
		n = len - 1;
		if (n > 0 && tok[len - 1] == '"')
			n--;
		buf_add(out, tok + 1, n);
	}
	json_decref(s);
}

static int
redact_lex_key(const struct redactor *r, const char *tok, size_t len)
{
	struct buf	k = { NULL, 0, 0 };
	int		secret;

	redact_lex_decode(tok, len, &k);
	/* No tree here to tell webhook headers apart: take both lists. */
	secret = redact_json_key(r, k.data) || redact_header_name(r, k.data);
	buf_free(&k);
	return secret;
}

/* Mark the scalar token at s[vs] into m; return its end, or vs when it is
 * no scalar to mark (null, a container, a marker, an empty string). */
static size_t
redact_lex_value(struct redact_walk *w, const char *s, size_t vs,
    size_t len, char m[REDACT_MARKER_LEN + 1])
{
	struct buf	d = { NULL, 0, 0 };
	size_t		ve = vs;
	int		marked;

	if (s[vs] == '"') {
		ve = redact_lex_string(s, vs, len);
		redact_lex_decode(s + vs, ve - vs, &d);
		marked = redact_value(w, d.data, d.len, m);
		buf_free(&d);
		return marked ? ve : vs;
	}
	if (s[vs] != '-' && s[vs] != 't' && s[vs] != 'f' &&
	    !isdigit((unsigned char)s[vs]))
		return vs;
	while (ve < len && (isalnum((unsigned char)s[ve]) ||
	    s[ve] == '.' || s[ve] == '-' || s[ve] == '+'))
		ve++;
	redact_marker(s + vs, ve - vs, m);
	w->changed++;
	return ve;
}

/*
 * Redact JSON text that does not parse: after each string followed by ":"
 * whose text is a secret key, a string, number or literal becomes its
 * marker. Write the new text into out only when something changed.
 */
static int
redact_json_text(struct redact_walk *w, const char *s, size_t len,
    struct buf *out)
{
	char	m[REDACT_MARKER_LEN + 1];
	size_t	i = 0, copied = 0, end, k, vs, ve;
	int	changed = 0;

	while (i < len) {
		if (s[i] != '"') {
			i++;
			continue;
		}
		end = redact_lex_string(s, i, len);
		k = redact_lex_space(s, end, len);
		if (k == len || s[k] != ':' ||
		    !redact_lex_key(w->r, s + i, end - i)) {
			i = end;
			continue;
		}
		vs = redact_lex_space(s, k + 1, len);
		if (vs == len)
			break;
		ve = redact_lex_value(w, s, vs, len, m);
		if (ve == vs) {
			i = vs;
			continue;
		}
		buf_add(out, s + copied, vs - copied);
		buf_printf(out, "\"%s\"", m);
		copied = i = ve;
		changed = 1;
	}
	if (!changed)
		return 0;
	buf_add(out, s + copied, len - copied);
	return 1;
}

static enum redact_kind
redact_body_kind(const char *ct, const char *body, size_t len)
{
	size_t	i;

	if (ct == NULL) {
		/* No type said: JSON when it looks like it. */
		i = redact_lex_space(body, 0, len);
		return i < len && (body[i] == '{' || body[i] == '[') ?
		    REDACT_JSON : REDACT_OTHER;
	}
	if (body_is_json(ct))
		return REDACT_JSON;
	while (redact_is_space(*ct))
		ct++;
	if (strcspn(ct, "; \t") == 33 &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return REDACT_FORM;
	return REDACT_OTHER;
}

/*
 * Redact a body. JSON that parses comes back in *doc, redacted in place
 * (the caller writes it out); any other new text goes into out. Return
 * nonzero when something changed.
 */
int
redact_walk_body(struct redact_walk *w, const char *ct, const char *body,
    size_t len, json_t **doc, struct buf *out)
{
	json_error_t	err;
	int		before = w->changed;

	*doc = NULL;
	if (body == NULL || len == 0)
		return 0;
	switch (redact_body_kind(ct, body, len)) {
	case REDACT_JSON:
		/* A duplicate key would hide its first value from the tree,
		 * and so from redaction: such text goes the lexical way. */
		*doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
		if (*doc == NULL)
			return redact_json_text(w, body, len, out);
		redact_json_doc(w, *doc);
		return w->changed != before;
	case REDACT_FORM:
		return redact_query(w, body, len, out);
	default:
		return 0;
	}
}

static int
redact_dump_cb(const char *data, size_t len, void *arg)
{
	buf_add(arg, data, len);
	return 0;
}

/* Write doc compactly in its order. Should jansson fail, write nothing:
 * an empty body leaks no secret. */
void
redact_walk_dump(json_t *doc, struct buf *out)
{
	size_t	start = out->len;

	if (json_dump_callback(doc, redact_dump_cb, out,
	    JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
}

/* Redact a body given its Content-Type. */
int
redact_body(const struct redactor *r, const char *content_type,
    const char *body, size_t len, struct buf *out)
{
	struct redact_walk	 w = { r, NULL, 0 };
	struct buf		 text = { NULL, 0, 0 };
	json_t			*doc;
	int			 changed;

	if (redact_disabled(r))
		return 0;
	changed = redact_walk_body(&w, content_type, body, len, &doc, &text);
	if (changed && doc != NULL)
		redact_walk_dump(doc, out);
	else if (changed)
		buf_add(out, text.data, text.len);
	json_decref(doc);
	buf_free(&text);
	return changed;
}
