/*
 * redact: secrets out of an exchange before it is written or logged.
 *
 * A secret is found by where it sits: the value of a header of a known or
 * secret-looking name (each cookie of Cookie, the pair of Set-Cookie), of a
 * query parameter or form field, of a JSON member whose key looks secret
 * (at any depth; everything under it), of a webhook action header. It is
 * replaced by its marker (see redact.h). redact_exchange then scrubs: each
 * secret value it replaced, wherever else it occurs in the exchange (URL,
 * headers, bodies, diagnoses), becomes its marker too.
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
 * The redactor owns copies of the names added to it. Nothing here keeps a
 * pointer into the caller's data.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "body.h"
#include "buf.h"
#include "exchange.h"
#include "http.h"
#include "redact.h"
#include "sha256.h"
#include "uri.h"
#include "xmalloc.h"

/* JSON containers nested deeper than this are not looked into. */
#define REDACT_MAX_DEPTH	64
/* Secret values shorter than this are not scrubbed from other places:
 * too likely to occur by chance. */
#define REDACT_SCRUB_MIN	4

/*
 * A name (header, parameter, field, key) looks secret when, lower-cased and
 * stripped to letters and digits, it contains one of these. "auth" is
 * checked apart (redact_auth_word). The log's URLs go through the same
 * lists (redact_url), so a log line and a cassette show the same markers.
 */
static const char *redact_words[] = {
	"token", "secret", "password", "passwd", "apikey", "signature",
	"credential", "privatekey", "sessionid", "cookie",
};

/* Headers whose names look secret but whose values are not credentials. */
static const char *redact_plain_headers[] = {
	"Access-Control-Allow-Credentials",	/* "true" */
	"WWW-Authenticate",			/* a challenge */
	"Proxy-Authenticate",			/* a challenge */
};

struct redact_names {
	char	**v;
	size_t	  n;
};

struct redactor {
	int			disabled;
	struct redact_names	headers;
	struct redact_names	queries;
	struct redact_names	keys;
};

/*
 * The secret values replaced so far, for the scrub. A body may hold many
 * (a list of API keys), so the scrub does not try each at each place:
 * redact_secrets_index chains them by a hash of their first
 * REDACT_SCRUB_MIN bytes, longest first.
 */
struct redact_secret {
	char	*s;
	size_t	 len;
	char	 marker[REDACT_MARKER_LEN + 1];
	size_t	 next;			/* in its chain; REDACT_NONE ends */
};

#define REDACT_NONE	((size_t)-1)

struct redact_secrets {
	struct redact_secret	*v;
	size_t			 n;
	size_t			 cap;
	size_t			*head;		/* chain heads, mask + 1 */
	size_t			 mask;
};

/* One pass of redaction: what it counts and what it collects. */
struct redact_walk {
	const struct redactor	*r;
	struct redact_secrets	*found;		/* NULL: collect nothing */
	int			 changed;	/* values replaced */
};

/* A body between redaction and scrub in redact_exchange. */
struct redact_pending {
	json_t		*doc;		/* the parsed JSON body, or NULL */
	struct buf	 text;		/* else the new text, when changed */
	int		 changed;
};

enum redact_kind {
	REDACT_OTHER,
	REDACT_JSON,
	REDACT_FORM,
};

/*
 * "auth" counts, but not where it only begins "author" (author,
 * authorName, authority); "authoriz" (authorization) counts again.
 */
static int
redact_auth_word(const char *norm)
{
	const char	*p;

	for (p = strstr(norm, "auth"); p != NULL; p = strstr(p + 1, "auth"))
		if (strncmp(p, "author", 6) != 0 ||
		    strncmp(p, "authoriz", 8) == 0)
			return 1;
	return 0;
}

static int
redact_looks_secret(const char *name, size_t len)
{
	char	 small[64], *norm = small;
	size_t	 i, n = 0;
	int	 hit;

	/* Called for every JSON key of a body: no allocation when short. */
	if (len >= sizeof small)
		norm = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		if (isalnum((unsigned char)name[i]))
			norm[n++] = (char)tolower((unsigned char)name[i]);
	norm[n] = '\0';
	hit = redact_auth_word(norm);
	for (i = 0; !hit && i < sizeof redact_words / sizeof redact_words[0];
	    i++)
		hit = strstr(norm, redact_words[i]) != NULL;
	if (norm != small)
		free(norm);
	return hit;
}

static void
redact_names_add(struct redact_names *l, const char *name)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = xstrdup(name);
}

static int
redact_names_has(const struct redact_names *l, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == len &&
		    strncasecmp(l->v[i], name, len) == 0)
			return 1;
	return 0;
}

static void
redact_names_free(struct redact_names *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Return a redactor with the built-in lists only. */
struct redactor *
redact_new(void)
{
	return xcalloc(1, sizeof(struct redactor));
}

/* Free a redactor (NULL is fine). */
void
redact_free(struct redactor *r)
{
	if (r == NULL)
		return;
	redact_names_free(&r->headers);
	redact_names_free(&r->queries);
	redact_names_free(&r->keys);
	free(r);
}

/* Redact headers of this name too. */
void
redact_add_header(struct redactor *r, const char *name)
{
	redact_names_add(&r->headers, name);
}

/* Redact query parameters and form fields of this name too. */
void
redact_add_query(struct redactor *r, const char *name)
{
	redact_names_add(&r->queries, name);
}

/* Redact JSON members of this key too. */
void
redact_add_json_key(struct redactor *r, const char *name)
{
	redact_names_add(&r->keys, name);
}

/* Make every rewriting call a no-op. */
void
redact_disable(struct redactor *r)
{
	r->disabled = 1;
}

/* Return nonzero when redaction is off. */
int
redact_disabled(const struct redactor *r)
{
	return r->disabled;
}

/* Write the marker of a value. */
void
redact_marker(const char *value, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 d[SHA256_DIGEST_LEN];
	char			*p;
	int			 i;

	sha256(value, len, d);
	memcpy(out, REDACT_PREFIX, sizeof REDACT_PREFIX - 1);
	p = out + sizeof REDACT_PREFIX - 1;
	for (i = 0; i < 6; i++) {
		*p++ = hex[d[i] >> 4];
		*p++ = hex[d[i] & 0xf];
	}
	*p = '\0';
}

/* Return nonzero when s is a marker. */
int
redact_is_marker(const char *s, size_t len)
{
	size_t	i;

	if (len != REDACT_MARKER_LEN ||
	    memcmp(s, REDACT_PREFIX, sizeof REDACT_PREFIX - 1) != 0)
		return 0;
	for (i = sizeof REDACT_PREFIX - 1; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return 0;
	return 1;
}

/* Return nonzero when a header of this name is redacted. */
int
redact_header_name(const struct redactor *r, const char *name)
{
	size_t	i, len = strlen(name);

	if (redact_names_has(&r->headers, name, len) ||
	    (http_header_flags(name) & HTTP_HDR_SECRET) != 0)
		return 1;
	for (i = 0; i < sizeof redact_plain_headers /
	    sizeof redact_plain_headers[0]; i++)
		if (strcasecmp(name, redact_plain_headers[i]) == 0)
			return 0;
	return redact_looks_secret(name, len);
}

/* Return nonzero when a query parameter or form field is redacted. */
int
redact_query_name(const struct redactor *r, const char *name, size_t len)
{
	return redact_names_has(&r->queries, name, len) ||
	    redact_looks_secret(name, len);
}

/* Return nonzero when a JSON member's value is redacted. */
int
redact_json_key(const struct redactor *r, const char *key)
{
	size_t	len = strlen(key);

	return redact_names_has(&r->keys, key, len) ||
	    redact_looks_secret(key, len);
}

/* Note a replaced value for the scrub (short ones are not kept;
 * duplicates go at indexing). */
static void
redact_found(struct redact_walk *w, const char *s, size_t len)
{
	struct redact_secrets	*f = w->found;

	if (f == NULL || len < REDACT_SCRUB_MIN || redact_is_marker(s, len))
		return;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = xreallocarray(f->v, f->cap, sizeof *f->v);
	}
	f->v[f->n].s = xstrndup(s, len);
	f->v[f->n].len = len;
	f->n++;
}

static int
redact_secret_cmp(const void *a, const void *b)
{
	const struct redact_secret	*x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

/* Hash the first REDACT_SCRUB_MIN (4) bytes of s. */
static size_t
redact_prefix_hash(const char *s)
{
	uint32_t	k;

	memcpy(&k, s, sizeof k);
	k ^= k >> 16;
	k *= 0x7feb352dU;
	k ^= k >> 15;
	k *= 0x846ca68bU;
	k ^= k >> 16;
	return k;
}

/* Drop duplicates, compute markers, and chain the secrets by prefix with
 * the longest first in each chain. */
static void
redact_secrets_index(struct redact_secrets *f)
{
	size_t	i, h, n = 0, size = 16;

	qsort(f->v, f->n, sizeof *f->v, redact_secret_cmp);
	for (i = 0; i < f->n; i++) {
		if (n > 0 && redact_secret_cmp(&f->v[n - 1], &f->v[i]) == 0)
			free(f->v[i].s);
		else
			f->v[n++] = f->v[i];
	}
	f->n = n;
	while (size < 2 * n)
		size *= 2;
	f->head = xreallocarray(NULL, size, sizeof *f->head);
	f->mask = size - 1;
	for (i = 0; i < size; i++)
		f->head[i] = REDACT_NONE;
	/* Shortest first, each put in front: chains run longest first. */
	for (i = 0; i < n; i++) {
		redact_marker(f->v[i].s, f->v[i].len, f->v[i].marker);
		h = redact_prefix_hash(f->v[i].s) & f->mask;
		f->v[i].next = f->head[h];
		f->head[h] = i;
	}
}

static void
redact_secrets_free(struct redact_secrets *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].s);
	free(f->v);
	free(f->head);
}

/* Put v's marker in m and note v; return 0 when v stays (empty, marker). */
static int
redact_value(struct redact_walk *w, const char *v, size_t len,
    char m[REDACT_MARKER_LEN + 1])
{
	if (len == 0 || redact_is_marker(v, len))
		return 0;
	redact_marker(v, len, m);
	redact_found(w, v, len);
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
		redact_found(w, v, len);
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
static int
redact_url_walk(struct redact_walk *w, const char *url, struct buf *out)
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
		changed = redact_url_walk(w, h->value, &b);
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
			redact_found(w, sp + 1, strlen(sp + 1));
	}
	if (changed) {
		free(h->value);
		h->value = b.data;
	} else
		buf_free(&b);
}

static void
redact_headers_walk(struct redact_walk *w, struct http_headers *h)
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

	if (r->disabled)
		return;
	redact_headers_walk(&w, h);
}

/* Return a copy of url with its query redacted. */
char *
redact_url(const struct redactor *r, const char *url)
{
	struct redact_walk	w = { r, NULL, 0 };
	struct buf		b = { NULL, 0, 0 };

	if (r->disabled)
		return xstrdup(url);
	redact_url_walk(&w, url, &b);
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
	    redact_url_walk(w, v, &b))
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

	if (r->disabled || v == NULL)
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
static int
redact_body_walk(struct redact_walk *w, const char *ct, const char *body,
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
static void
redact_dump(json_t *doc, struct buf *out)
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

	if (r->disabled)
		return 0;
	changed = redact_body_walk(&w, content_type, body, len, &doc, &text);
	if (changed && doc != NULL)
		redact_dump(doc, out);
	else if (changed)
		buf_add(out, text.data, text.len);
	json_decref(doc);
	buf_free(&text);
	return changed;
}

/*
 * Return nonzero when a marker starts inside s[i + 1, i + n): a secret
 * matched there would cut the marker ("=red" in "=redacted:...").
 */
static int
redact_marker_inside(const char *s, size_t len, size_t i, size_t n)
{
	const char	*p, *end = s + i + n;

	for (p = s + i + 1; p < end; p++) {
		p = memchr(p, REDACT_PREFIX[0], (size_t)(end - p));
		if (p == NULL)
			return 0;
		if ((size_t)(s + len - p) >= REDACT_MARKER_LEN &&
		    redact_is_marker(p, REDACT_MARKER_LEN))
			return 1;
	}
	return 0;
}

/*
 * Copy len bytes of s into out with each found secret replaced by its
 * marker, the longest where several start at one place; markers already
 * there are stepped over whole. Return nonzero (out written) when some
 * secret occurred. Linear in len when prefixes differ.
 */
static int
redact_scrub(const struct redact_secrets *f, const char *s, size_t len,
    struct buf *out)
{
	const struct redact_secret	*e;
	size_t				 i = 0, j, copied = 0;
	int				 changed = 0;

	while (len - i >= REDACT_SCRUB_MIN) {
		if (s[i] == REDACT_PREFIX[0] && len - i >= REDACT_MARKER_LEN &&
		    redact_is_marker(s + i, REDACT_MARKER_LEN)) {
			i += REDACT_MARKER_LEN;
			continue;
		}
		e = NULL;
		for (j = f->head[redact_prefix_hash(s + i) & f->mask];
		    j != REDACT_NONE; j = f->v[j].next) {
			if (f->v[j].len <= len - i &&
			    memcmp(f->v[j].s, s + i, f->v[j].len) == 0 &&
			    !redact_marker_inside(s, len, i, f->v[j].len)) {
				e = &f->v[j];
				break;
			}
		}
		if (e == NULL) {
			i++;
			continue;
		}
		buf_add(out, s + copied, i - copied);
		buf_add(out, e->marker, REDACT_MARKER_LEN);
		i += e->len;
		copied = i;
		changed = 1;
	}
	if (changed)
		buf_add(out, s + copied, len - copied);
	return changed;
}

static void
redact_scrub_str(const struct redact_secrets *f, char **sp)
{
	struct buf	b = { NULL, 0, 0 };

	if (*sp != NULL && redact_scrub(f, *sp, strlen(*sp), &b)) {
		free(*sp);
		*sp = b.data;
	} else
		buf_free(&b);
}

/* Scrub every string of a JSON value (to REDACT_MAX_DEPTH); object keys
 * stay. Return nonzero when one changed. */
static int
redact_scrub_json(const struct redact_secrets *f, json_t *v, int depth)
{
	struct buf	 b = { NULL, 0, 0 };
	const char	*key;
	json_t		*e;
	size_t		 i;
	int		 changed = 0;

	if (json_is_string(v)) {
		changed = redact_scrub(f, json_string_value(v),
		    json_string_length(v), &b);
		if (changed)
			json_string_setn(v, b.data, b.len);
		buf_free(&b);
		return changed;
	}
	if (depth >= REDACT_MAX_DEPTH)
		return 0;
	json_object_foreach(v, key, e)
		changed |= redact_scrub_json(f, e, depth + 1);
	json_array_foreach(v, i, e)
		changed |= redact_scrub_json(f, e, depth + 1);
	return changed;
}

static void
redact_scrub_headers(const struct redact_secrets *f, struct http_headers *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		redact_scrub_str(f, &h->v[i].value);
}

/* Scrub a body: the parsed tree's strings, else its (new) text. */
static void
redact_scrub_body(const struct redact_secrets *f,
    const struct exchange_body *b, struct redact_pending *p)
{
	struct buf	 out = { NULL, 0, 0 };
	const char	*s = b->data;
	size_t		 len = b->len;

	if (p->doc != NULL) {
		p->changed |= redact_scrub_json(f, p->doc, 0);
		return;
	}
	if (p->changed) {
		s = p->text.data;
		len = p->text.len;
	}
	if (s != NULL && redact_scrub(f, s, len, &out)) {
		buf_free(&p->text);
		p->text = out;
		p->changed = 1;
	} else
		buf_free(&out);
}

/* Put a changed body back: a truncated one keeps its flag, and its whole
 * size moves by what its kept part grew or shrank. */
static void
redact_body_finish(struct exchange_body *b, struct redact_pending *p)
{
	struct buf	 out = { NULL, 0, 0 };
	uint64_t	 size = b->size;
	size_t		 old = b->len;
	int		 truncated = b->truncated;

	if (p->changed) {
		if (p->doc != NULL)
			redact_dump(p->doc, &out);
		else
			buf_add(&out, p->text.data, p->text.len);
		exchange_body_set(b, out.data, out.len);
		if (truncated && size >= old) {
			b->truncated = 1;
			b->size = size - old + out.len;
		}
	}
	json_decref(p->doc);
	buf_free(&p->text);
	buf_free(&out);
}

/*
 * One pass over the exchange: redact every place, then scrub what was
 * found wherever else it occurs. Return nonzero when something was found.
 */
static int
redact_exchange_pass(const struct redactor *r, struct exchange *x)
{
	struct redact_secrets	 found = { NULL, 0, 0, NULL, 0 };
	struct redact_walk	 w = { r, &found, 0 };
	struct redact_pending	 req = { NULL, { NULL, 0, 0 }, 0 };
	struct redact_pending	 resp = { NULL, { NULL, 0, 0 }, 0 };
	struct buf		 b = { NULL, 0, 0 };
	int			 changed;

	if (x->url != NULL && redact_url_walk(&w, x->url, &b)) {
		free(x->url);
		x->url = b.data;
	} else
		buf_free(&b);
	redact_headers_walk(&w, &x->req_headers);
	redact_headers_walk(&w, &x->resp_headers);
	req.changed = redact_body_walk(&w,
	    http_headers_get(&x->req_headers, "Content-Type"),
	    x->req_body.data, x->req_body.len, &req.doc, &req.text);
	resp.changed = redact_body_walk(&w,
	    http_headers_get(&x->resp_headers, "Content-Type"),
	    x->resp_body.data, x->resp_body.len, &resp.doc, &resp.text);

	if (found.n > 0) {
		redact_secrets_index(&found);
		redact_scrub_str(&found, &x->url);
		redact_scrub_str(&found, &x->reason);
		redact_scrub_str(&found, &x->error);
		redact_scrub_headers(&found, &x->req_headers);
		redact_scrub_headers(&found, &x->resp_headers);
		redact_scrub_body(&found, &x->req_body, &req);
		redact_scrub_body(&found, &x->resp_body, &resp);
		if (x->diagnoses != NULL)
			redact_scrub_json(&found, x->diagnoses, 0);
	}
	redact_body_finish(&x->req_body, &req);
	redact_body_finish(&x->resp_body, &resp);
	changed = found.n > 0;
	redact_secrets_free(&found);
	return changed;
}

/* Redact a whole exchange in place, then scrub what was found. */
void
redact_exchange(const struct redactor *r, struct exchange *x)
{
	int	pass;

	if (r->disabled)
		return;
	/*
	 * Scrubbing a secret that holds "=" or ";" can give a header a new
	 * shape (another cookie value) that the next pass would redact:
	 * repeat until a pass finds nothing, so redacting twice changes
	 * nothing (a cassette is redacted again when it is loaded).
	 */
	for (pass = 0; pass < 4; pass++)
		if (!redact_exchange_pass(r, x))
			break;
}

/* Redact the request side alone: the response is set aside meanwhile. */
void
redact_request(const struct redactor *r, struct exchange *x)
{
	struct http_headers	 rh = x->resp_headers;
	struct exchange_body	 rb = x->resp_body;

	memset(&x->resp_headers, 0, sizeof x->resp_headers);
	memset(&x->resp_body, 0, sizeof x->resp_body);
	redact_exchange(r, x);
	x->resp_headers = rh;
	x->resp_body = rb;
}
