/*
 * sanitize_body: bodies, queries and forms in a HAR being sanitized.
 *
 * What is redacted, and how, is the redact module's, so a sanitized file
 * holds the markers record would have written: redact_url and
 * redact_body rewrite queries and forms, redact_json the JSON bodies.
 * What this file adds is what sanitize must say and remember: which
 * names were redacted (the summary) and which values (each is then
 * replaced wherever else it occurs, redact_set). A JSON body keeps its
 * own layout: only the redacted values change (sanitize_splice.c).
 *
 * Nothing here keeps a pointer into the caller's data.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "body.h"
#include "buf.h"
#include "redact.h"
#include "sanitize_local.h"
#include "uri.h"
#include "xmalloc.h"

enum body_kind {
	BODY_OTHER,
	BODY_JSON,
	BODY_FORM,
};

/* Count the secret fields of a query; note their values. */
size_t
sanitize_query_scan(struct sanitize_walk *w, const char *q, size_t len,
    struct sanitize_tally *t)
{
	struct uri_param	 f;
	struct buf		 name = { NULL, 0, 0 }, value = { NULL, 0, 0 };
	const char		*p = q, *end = q + len, *amp;
	size_t			 n = 0;

	for (;;) {
		amp = uri_query_field(p, end, &f);
		buf_reset(&name);
		buf_reset(&value);
		if (f.value.p != NULL) {
			/* As redact_walk.c: '+' is not decoded. */
			uri_decode_buf(&name, f.name.p, f.name.len, 0);
			uri_decode_buf(&value, f.value.p, f.value.len, 0);
		}
		if (f.value.p != NULL && value.len > 0 &&
		    !redact_is_marker(value.data, value.len) &&
		    redact_query_name(w->r, buf_str(&name), name.len)) {
			sanitize_tally_add(t, name.data, name.len, 1);
			redact_set_add(w->secrets, value.data, value.len);
			redact_set_add(w->secrets, f.value.p, f.value.len);
			n++;
		}
		if (amp == end)
			break;
		p = amp + 1;
	}
	buf_free(&name);
	buf_free(&value);
	return n;
}

/* What redaction takes a body for, as redact_walk.c decides it. */
static enum body_kind
body_kind(const char *ct, const char *body, size_t len)
{
	size_t	i = 0;

	if (ct == NULL) {
		while (i < len && (body[i] == ' ' || body[i] == '\t' ||
		    body[i] == '\r' || body[i] == '\n'))
			i++;
		return i < len && (body[i] == '{' || body[i] == '[') ?
		    BODY_JSON : BODY_OTHER;
	}
	if (body_is_json(ct))
		return BODY_JSON;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strcspn(ct, "; \t") == 33 &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return BODY_FORM;
	return BODY_OTHER;
}

static int
secret_key(const struct redactor *r, const char *key)
{
	/* Webhook action headers go by the header lists as well. */
	return redact_json_key(r, key) || redact_header_name(r, key);
}

/*
 * Count and note what redact_json changed between a (the body as sent)
 * and b (redacted): a secret key once however much lies under it (the
 * outermost, when secret keys nest), the values under it noted; a string
 * outside secret keys that changed is a URL whose query was redacted.
 * Return the number of scalars that differ.
 */
static size_t
body_diff(struct sanitize_walk *w, json_t *a, json_t *b, int inside)
{
	const char	*key, *s;
	json_t		*va, *vb;
	size_t		 i, n = 0, c;
	int		 secret;
	struct uri_parts u;

	if (json_is_object(a) && json_is_object(b)) {
		json_object_foreach(a, key, va) {
			vb = json_object_get(b, key);
			if (vb == NULL)
				continue;
			secret = !inside && secret_key(w->r, key);
			c = body_diff(w, va, vb, inside || secret);
			if (secret && c > 0)
				sanitize_tally_add(&w->rep->places[
				    SANITIZE_JSON], key, strlen(key), 1);
			n += c;
		}
		return n;
	}
	if (json_is_array(a) && json_is_array(b)) {
		for (i = 0; i < json_array_size(a); i++)
			n += body_diff(w, json_array_get(a, i),
			    json_array_get(b, i), inside);
		return n;
	}
	if (json_equal(a, b))
		return 0;
	if (json_is_string(a)) {
		s = json_string_value(a);
		if (inside)
			redact_set_add(w->secrets, s, json_string_length(a));
		else {
			uri_split(s, &u);
			if (u.query.p != NULL)
				sanitize_query_scan(w, u.query.p, u.query.len,
				    &w->rep->places[SANITIZE_QUERY]);
		}
	}
	return 1;
}

/* A JSON body that parses: redacted as a tree, written back in place. */
static int
body_json(struct sanitize_walk *w, json_t *a, const char *body, size_t len,
    struct buf *out)
{
	struct buf	 text = { NULL, 0, 0 };
	json_t		*b;
	int		 changed = 0;

	b = json_deep_copy(a);
	if (b == NULL)
		return 0;
	redact_json(w->r, b);
	if (!json_equal(a, b) &&
	    sanitize_splice(body, len, a, b, &text, &changed) == 0 &&
	    changed) {
		body_diff(w, a, b, 0);
		buf_add(out, text.data, text.len);
	} else if (!json_equal(a, b)) {
		/* Not expected: the text did not follow its own parse.
		 * Fall back on record's way (the body compacted). */
		changed = redact_body(w->r, "application/json", body, len,
		    out);
		if (changed)
			body_diff(w, a, b, 0);
	}
	buf_free(&text);
	json_decref(b);
	return changed;
}

/* Redact a body as record does; count and note. */
int
sanitize_body(struct sanitize_walk *w, const char *ct, const char *body,
    size_t len, struct buf *out)
{
	json_error_t	 err;
	json_t		*a;
	int		 changed;

	if (len == 0)
		return 0;
	switch (body_kind(ct, body, len)) {
	case BODY_JSON:
		/* The flags redact_walk.c parses with: a duplicate key would
		 * hide its first value, and goes the lexical way. */
		a = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
		if (a != NULL) {
			changed = body_json(w, a, body, len, out);
			json_decref(a);
			return changed;
		}
		/* Text that is not JSON: redacted lexically (by key, but no
		 * tree to name them from). */
		changed = redact_body(w->r, ct != NULL ? ct :
		    "application/json", body, len, out);
		if (changed)
			sanitize_tally_add(&w->rep->places[SANITIZE_JSON],
			    NULL, 0, 1);
		return changed;
	case BODY_FORM:
		changed = redact_body(w->r, ct, body, len, out);
		if (changed)
			sanitize_query_scan(w, body, len, &w->f_text);
		return changed;
	default:
		return 0;
	}
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_value(unsigned char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(b64_alphabet, c)) == NULL)
		return -1;
	return (int)(p - b64_alphabet);
}

/* Decode strict base64; -1 when s is not. */
int
sanitize_b64_decode(const char *s, size_t len, struct buf *out)
{
	unsigned char	 q[3];
	size_t		 i, k, pad;
	int		 v[4], j;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (j = 0; j < 4; j++) {
			k = i + (size_t)j;
			if (s[k] == '=' && i + 4 == len && j >= 2 &&
			    (j == 3 || s[k + 1] == '=')) {
				v[j] = 0;
				pad++;
			} else if ((v[j] = b64_value((unsigned char)s[k])) < 0)
				return -1;
		}
		q[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		q[1] = (unsigned char)((v[1] & 0xf) << 4 | v[2] >> 2);
		q[2] = (unsigned char)((v[2] & 0x3) << 6 | v[3]);
		buf_add(out, q, 3 - pad);
	}
	return 0;
}

/* Append the base64 of p. */
void
sanitize_b64_encode(const unsigned char *p, size_t len, struct buf *out)
{
	char		 q[4];
	unsigned long	 v;
	size_t		 i;

	for (i = 0; i < len; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = b64_alphabet[v >> 18];
		q[1] = b64_alphabet[(v >> 12) & 0x3f];
		q[2] = i + 1 < len ? b64_alphabet[(v >> 6) & 0x3f] : '=';
		q[3] = i + 2 < len ? b64_alphabet[v & 0x3f] : '=';
		buf_add(out, q, 4);
	}
}
