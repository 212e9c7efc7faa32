/*
 * cassette: HAR 1.2 entries to and from exchanges, and the cassette loader.
 *
 * Encoding never hands jansson a string that is not valid UTF-8: bodies that
 * are not UTF-8 (or hold NUL) go in base64, and header or URL text that is
 * not UTF-8 has its bad bytes replaced by U+FFFD. Decoding type-checks every
 * field it reads and refuses header text that could split a message on the
 * wire (CR, LF, NUL), since replay sends what it loads.
 *
 * The loader does not build a tree of the document: a small scanner walks
 * the bytes (bounded recursion, CASSETTE_MAX_DEPTH) and checks the syntax
 * of everything, including UTF-8 in strings. Each element of log.entries,
 * once checked, goes to the fast decoder, which reads it straight into an
 * exchange; what that one does not handle for sure (any error, anything
 * unusual) goes by its byte range to json_loadb and cassette_entry_decode,
 * which name the error. Both ways give the same exchange for an entry. At
 * most one entry is in memory twice at a time. The exchange handed to the
 * callback lives in the loader's storage for the length of the call; what
 * it holds is the callback's from then on (exchange_free it, or move it out
 * and exchange_init it, as replay_add does).
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "http.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

#define CASSETTE_EPOCH		"1970-01-01T00:00:00.000Z"
#define CASSETTE_KEY_MAX	16	/* longest member name the loader
					   looks for, plus one */
#define CASSETTE_SCRATCH_KEEP	65536	/* bytes of scratch kept from one
					   entry to the next */

/*
 * Text (valid UTF-8, see utf8.h) and base64.
 */

/* Return a JSON string of s; bytes that are not UTF-8 become U+FFFD. */
static json_t *
enc_strn(const char *s, size_t len)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*j;

	if (utf8_valid(s, len, UTF8_NO_NUL))
		return json_stringn(s, len);
	utf8_sanitize(&b, s, len, UTF8_NO_NUL);
	j = json_stringn(buf_str(&b), b.len);
	buf_free(&b);
	return j;
}

/* Return a JSON string of s, "" when s is NULL. */
static json_t *
enc_str(const char *s)
{
	if (s == NULL)
		return json_string("");
	return enc_strn(s, strlen(s));
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Return the base64 of len bytes (RFC 4648 4, padded); the caller frees. */
static char *
b64_encode(const unsigned char *p, size_t len, size_t *outlen)
{
	char		*out, *o;
	size_t		 i;
	uint32_t	 v;

	out = xmalloc((len + 2) / 3 * 4 + 1);
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 0x3f];
		*o++ = b64_alphabet[(v >> 6) & 0x3f];
		*o++ = b64_alphabet[v & 0x3f];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 0x3f];
		*o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 0x3f] : '=';
		*o++ = '=';
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode base64 into a new buffer of *outlen bytes plus a NUL. Padding may
 * be left out; anything else outside the alphabet is refused. Return NULL
 * when s is not base64.
 */
static char *
b64_decode(const char *s, size_t len, size_t *outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned char		*out;
	uint32_t		 v = 0;
	size_t			 i, n = 0, bits = 0;
	int			 d;

	if (len % 4 == 0 && len > 0 && p[len - 1] == '=') {
		len--;
		if (p[len - 1] == '=')
			len--;
	}
	if (len % 4 == 1)
		return NULL;
	out = xmalloc(len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		d = b64_value(p[i]);
		if (d < 0) {
			free(out);
			return NULL;
		}
		v = (v << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	/* The bits left over must be zero (RFC 4648 3.5, canonical). */
	if ((v & ((1u << bits) - 1)) != 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	*outlen = n;
	return (char *)out;
}

/*
 * Encoding.
 */

/* Return a JSON number: an integer when the value is whole, else a real. */
static json_t *
enc_ms(double v)
{
	if (!isfinite(v) || v < 0)
		v = 0;
	if (v < 9007199254740992.0 && (double)(json_int_t)v == v)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static json_t *
enc_u64(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ?
	    INT64_MAX : (json_int_t)v);
}

static json_t *
enc_pair(const char *name, size_t nlen, const char *value, size_t vlen)
{
	json_t	*o = json_object();

	json_object_set_new(o, "name", enc_strn(name, nlen));
	json_object_set_new(o, "value", enc_strn(value, vlen));
	return o;
}

static json_t *
enc_headers(const struct http_headers *h)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < h->n; i++)
		json_array_append_new(a, enc_pair(h->v[i].name,
		    strlen(h->v[i].name), h->v[i].value,
		    strlen(h->v[i].value)));
	return a;
}

/* Trim spaces and tabs around [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* Append the name=value pair in [s, e) to cookies, if it has a name. */
static void
enc_cookie(json_t *cookies, const char *s, const char *e)
{
	const char	*eq, *ne, *vs;

	trim(&s, &e);
	eq = memchr(s, '=', (size_t)(e - s));
	ne = eq != NULL ? eq : e;
	vs = eq != NULL ? eq + 1 : e;
	trim(&s, &ne);
	trim(&vs, &e);
	if (ne > s)
		json_array_append_new(cookies, enc_pair(s, (size_t)(ne - s),
		    vs, (size_t)(e - vs)));
}

/*
 * Return the cookies of a message: every pair of each Cookie header
 * ("a=1; b=2"), or the leading pair of each Set-Cookie header.
 */
static json_t *
enc_cookies(const struct http_headers *h, int set)
{
	json_t		*a = json_array();
	const char	*name = set ? "set-cookie" : "cookie";
	const char	*p, *end;
	size_t		 i;

	for (i = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, name) != 0)
			continue;
		p = h->v[i].value;
		for (;;) {
			end = p + strcspn(p, ";");
			enc_cookie(a, p, end);
			if (set || *end == '\0')
				break;
			p = end + 1;
		}
	}
	return a;
}

/*
 * Return a query part as JSON: percent-decoded ('+' stays: HAR keeps what
 * the URL says) if that gives UTF-8 without NUL, else as it is.
 */
static json_t *
enc_query_part(struct uri_span part)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*j;

	uri_decode_buf(&b, part.p, part.len, 0);
	if (utf8_valid(b.data, b.len, UTF8_NO_NUL))
		j = json_stringn(b.data, b.len);
	else
		j = enc_strn(part.p, part.len);
	buf_free(&b);
	return j;
}

/* Return the queryString of a URL: its query's name=value pairs. */
static json_t *
enc_query(const char *url)
{
	json_t			*a = json_array(), *o;
	struct uri_parts	 parts;
	struct uri_param	 f;
	const char		*p, *end, *amp;

	if (url == NULL)
		return a;
	uri_split(url, &parts);
	if (parts.query.p == NULL)
		return a;
	end = parts.query.p + parts.query.len;
	for (p = parts.query.p; p < end; p = amp + 1) {
		amp = uri_query_field(p, end, &f);
		if (amp > p) {
			o = json_object();
			json_object_set_new(o, "name", enc_query_part(f.name));
			json_object_set_new(o, "value", f.value.p != NULL ?
			    enc_query_part(f.value) : json_string(""));
			json_array_append_new(a, o);
		}
	}
	return a;
}

/*
 * Put a body's text into o: as it is when it is UTF-8 without NUL, else in
 * base64 with enc_key ("encoding" or "_encoding") set.
 */
static void
enc_body(json_t *o, const struct exchange_body *b, const char *enc_key)
{
	char	*text;
	size_t	 len;

	if (utf8_valid(b->data, b->len, UTF8_NO_NUL))
		json_object_set_new(o, "text", json_stringn(b->data, b->len));
	else {
		text = b64_encode((const unsigned char *)b->data, b->len,
		    &len);
		json_object_set_new(o, "text", json_stringn(text, len));
		json_object_set_new(o, enc_key, json_string("base64"));
		free(text);
	}
	if (b->decoded_from != NULL)
		json_object_set_new(o, "_decodedFrom",
		    enc_str(b->decoded_from));
	if (b->truncated)
		json_object_set_new(o, "_truncated", enc_u64(b->size));
}

static json_t *
enc_request(const struct exchange *x)
{
	json_t		*r = json_object(), *pd;
	const char	*ct;

	json_object_set_new(r, "method", enc_str(x->method));
	json_object_set_new(r, "url", enc_str(x->url));
	json_object_set_new(r, "httpVersion", enc_str(x->http_version != NULL ?
	    x->http_version : "HTTP/1.1"));
	json_object_set_new(r, "cookies", enc_cookies(&x->req_headers, 0));
	json_object_set_new(r, "headers", enc_headers(&x->req_headers));
	json_object_set_new(r, "queryString", enc_query(x->url));
	if (x->req_body.data != NULL) {
		pd = json_object();
		ct = http_headers_get(&x->req_headers, "Content-Type");
		json_object_set_new(pd, "mimeType", enc_str(ct));
		enc_body(pd, &x->req_body, "_encoding");
		json_object_set_new(r, "postData", pd);
	}
	json_object_set_new(r, "headersSize", json_integer(-1));
	json_object_set_new(r, "bodySize", enc_u64(x->req_wire_bytes));
	return r;
}

static json_t *
enc_response(const struct exchange *x)
{
	json_t		*r = json_object(), *c;
	const char	*ct;

	json_object_set_new(r, "status", json_integer(x->status));
	json_object_set_new(r, "statusText", enc_str(x->reason));
	json_object_set_new(r, "httpVersion", enc_str(x->http_version != NULL ?
	    x->http_version : "HTTP/1.1"));
	json_object_set_new(r, "cookies", enc_cookies(&x->resp_headers, 1));
	json_object_set_new(r, "headers", enc_headers(&x->resp_headers));
	c = json_object();
	json_object_set_new(c, "size", enc_u64(x->resp_body.data != NULL ?
	    x->resp_body.size : 0));
	ct = http_headers_get(&x->resp_headers, "Content-Type");
	json_object_set_new(c, "mimeType", enc_str(ct != NULL ? ct :
	    "x-unknown"));
	if (x->resp_body.data != NULL)
		enc_body(c, &x->resp_body, "encoding");
	json_object_set_new(r, "content", c);
	json_object_set_new(r, "redirectURL",
	    enc_str(http_headers_get(&x->resp_headers, "Location")));
	json_object_set_new(r, "headersSize", json_integer(-1));
	json_object_set_new(r, "bodySize", enc_u64(x->resp_wire_bytes));
	return r;
}

/* Return the HAR entry of an exchange. */
json_t *
cassette_entry_encode(const struct exchange *x)
{
	json_t	*e = json_object(), *t;

	json_object_set_new(e, "startedDateTime", enc_str(x->started != NULL ?
	    x->started : CASSETTE_EPOCH));
	json_object_set_new(e, "time", enc_ms(x->time_ms));
	json_object_set_new(e, "request", enc_request(x));
	json_object_set_new(e, "response", enc_response(x));
	json_object_set_new(e, "cache", json_object());
	t = json_object();
	json_object_set_new(t, "send", enc_ms(x->send_ms));
	json_object_set_new(t, "wait", enc_ms(x->wait_ms));
	json_object_set_new(t, "receive", enc_ms(x->receive_ms));
	json_object_set_new(e, "timings", t);
	if (x->server_ip != NULL)
		json_object_set_new(e, "serverIPAddress",
		    enc_str(x->server_ip));
	/* A copy, so that later changes to the exchange leave it alone. */
	if (x->diagnoses != NULL)
		json_object_set_new(e, "_diagnoses",
		    json_deep_copy(x->diagnoses));
	if (x->answered_by != NULL)
		json_object_set_new(e, "_answeredBy", enc_str(x->answered_by));
	if (x->error != NULL)
		json_object_set_new(e, "_error", enc_str(x->error));
	return e;
}

/*
 * Decoding. Every getter takes the path of the object it reads from ("" for
 * the entry itself) to name the field in its message.
 */

static int
dec_fail(char **cause, const char *path, const char *key, const char *why)
{
	*cause = xasprintf("%s%s%s %s", path, path[0] != '\0' ? "." : "",
	    key, why);
	return -1;
}

/* Fetch member key of o, which must have JSON type type when present. */
static int
dec_get(const json_t *o, const char *path, const char *key, json_type type,
    int required, const json_t **out, char **cause)
{
	static const char *const what[] = {
		[JSON_OBJECT] = "is not an object",
		[JSON_ARRAY] = "is not an array",
		[JSON_STRING] = "is not a string",
		[JSON_INTEGER] = "is not an integer",
		[JSON_REAL] = "is not a number",
		[JSON_TRUE] = "is not a boolean",
		[JSON_FALSE] = "is not a boolean",
		[JSON_NULL] = "is not null",
	};
	const json_t	*v;

	v = json_object_get(o, key);
	*out = NULL;
	/* An optional field set to null (exporters do that) is absent. */
	if (v == NULL || (json_is_null(v) && !required)) {
		if (required)
			return dec_fail(cause, path, key, "is missing");
		return 0;
	}
	/* JSON_REAL stands for any number. */
	if (type == JSON_REAL ? !json_is_number(v) : json_typeof(v) != type)
		return dec_fail(cause, path, key, what[type]);
	*out = v;
	return 0;
}

/*
 * Fetch a string member that will become a C string: it must hold no NUL
 * and, with wire set, no CR or LF either. *out is NULL when it is absent.
 */
static int
dec_string(const json_t *o, const char *path, const char *key, int required,
    int wire, const char **out, char **cause)
{
	const json_t	*v;
	const char	*s;
	size_t		 len;

	*out = NULL;
	if (dec_get(o, path, key, JSON_STRING, required, &v, cause) == -1)
		return -1;
	if (v == NULL)
		return 0;
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len)
		return dec_fail(cause, path, key, "contains a NUL byte");
	if (wire && strpbrk(s, "\r\n") != NULL)
		return dec_fail(cause, path, key, "contains CR or LF");
	*out = s;
	return 0;
}

/* Copy an optional string member into *dst (left alone when absent). */
static int
dec_strdup(const json_t *o, const char *path, const char *key, int wire,
    char **dst, char **cause)
{
	const char	*s;

	if (dec_string(o, path, key, 0, wire, &s, cause) == -1)
		return -1;
	if (s != NULL)
		*dst = xstrdup(s);
	return 0;
}

/* Read an optional number of milliseconds; negative (HAR's -1) is 0. */
static int
dec_ms(const json_t *o, const char *path, const char *key, double *dst,
    char **cause)
{
	const json_t	*v;

	if (dec_get(o, path, key, JSON_REAL, 0, &v, cause) == -1)
		return -1;
	if (v != NULL)
		*dst = json_number_value(v) > 0 ? json_number_value(v) : 0;
	return 0;
}

/* Read an optional byte count; HAR's -1 (unknown) reads as 0. */
static int
dec_bytes(const json_t *o, const char *path, const char *key, uint64_t *dst,
    char **cause)
{
	const json_t	*v;

	if (dec_get(o, path, key, JSON_INTEGER, 0, &v, cause) == -1)
		return -1;
	if (v != NULL)
		*dst = json_integer_value(v) > 0 ?
		    (uint64_t)json_integer_value(v) : 0;
	return 0;
}

/* Return nonzero when s is a non-empty HTTP token (RFC 9110 5.6.2). */
static int
token_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!http_token_char((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
dec_token(const char *s)
{
	return token_ok(s, strlen(s));
}

/* Check one {name, value} pair at path p; with h set, add it as a header. */
static int
dec_pair(const json_t *e, const char *p, struct http_headers *h,
    char **cause)
{
	const char	*name, *value;

	if (!json_is_object(e))
		return dec_fail(cause, "", p, "is not an object");
	if (dec_string(e, p, "name", 1, h != NULL, &name, cause) == -1 ||
	    dec_string(e, p, "value", 1, h != NULL, &value, cause) == -1)
		return -1;
	/* Devtools list HTTP/2 pseudo-headers (":authority"): not fields. */
	if (h == NULL || name[0] == ':')
		return 0;
	if (!dec_token(name))
		return dec_fail(cause, p, "name", "is not an HTTP token");
	http_headers_add(h, name, strlen(name), value, strlen(value));
	return 0;
}

/*
 * Check an optional array of {name, value} string pairs; with h set, they
 * are header fields: add them to h.
 */
static int
dec_pairs(const json_t *o, const char *path, const char *key,
    struct http_headers *h, char **cause)
{
	const json_t	*a, *e;
	char		*p;
	size_t		 i;
	int		 rc;

	if (dec_get(o, path, key, JSON_ARRAY, 0, &a, cause) == -1)
		return -1;
	json_array_foreach(a, i, e) {
		p = xasprintf("%s.%s[%zu]", path, key, i);
		rc = dec_pair(e, p, h, cause);
		free(p);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/*
 * Decode a body from o (request.postData or response.content): text,
 * base64 when enc_key says so, the coding it had and the truncation note.
 * With no text, the body is empty when empty_ok is set, else absent.
 */
static int
dec_body(const json_t *o, const char *path, const char *enc_key,
    int empty_ok, struct exchange_body *b, char **cause)
{
	const json_t	*t, *enc, *trunc, *from;
	const char	*text, *es;
	char		*data;
	size_t		 len, tlen;

	if (dec_get(o, path, "text", JSON_STRING, 0, &t, cause) == -1 ||
	    dec_get(o, path, enc_key, JSON_STRING, 0, &enc, cause) == -1 ||
	    dec_get(o, path, "_truncated", JSON_INTEGER, 0, &trunc,
	    cause) == -1 ||
	    dec_get(o, path, "_decodedFrom", JSON_STRING, 0, &from,
	    cause) == -1)
		return -1;
	text = t != NULL ? json_string_value(t) : "";
	tlen = t != NULL ? json_string_length(t) : 0;
	if (t == NULL && !empty_ok)
		return 0;
	if (enc != NULL) {
		es = json_string_value(enc);
		if (strcmp(es, "base64") != 0)
			return dec_fail(cause, path, enc_key,
			    "is not \"base64\"");
		data = b64_decode(text, tlen, &len);
		if (data == NULL)
			return dec_fail(cause, path, "text",
			    "is not valid base64");
		free(b->data);
		b->data = data;
		b->len = len;
		b->size = len;
		b->truncated = 0;
	} else
		exchange_body_set(b, text, tlen);
	if (trunc != NULL) {
		if (json_integer_value(trunc) < 0 ||
		    (uint64_t)json_integer_value(trunc) < b->len)
			return dec_fail(cause, path, "_truncated",
			    "is less than the length of the text");
		b->truncated = 1;
		b->size = (uint64_t)json_integer_value(trunc);
	}
	if (from != NULL) {
		if (strlen(json_string_value(from)) !=
		    json_string_length(from))
			return dec_fail(cause, path, "_decodedFrom",
			    "contains a NUL byte");
		free(b->decoded_from);
		b->decoded_from = xstrdup(json_string_value(from));
	}
	return 0;
}

/* Return nonzero when url is an absolute http or https URL. */
static int
url_ok(const char *url)
{
	struct http_url	 u;
	const char	*errstr;
	const char	*p;

	/* Nothing that a request line could not carry. */
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	if (http_url_parse(url, &u, &errstr) == -1)
		return 0;
	http_url_free(&u);
	return 1;
}

static int
dec_url(const char *url, char **cause)
{
	if (!url_ok(url))
		return dec_fail(cause, "request", "url",
		    "is not an absolute http or https URL");
	return 0;
}

static int
dec_request(const json_t *r, struct exchange *x, char **cause)
{
	const json_t	*pd;
	const char	*method, *url, *s;

	if (dec_string(r, "request", "method", 1, 1, &method, cause) == -1 ||
	    dec_string(r, "request", "url", 1, 1, &url, cause) == -1)
		return -1;
	if (!dec_token(method))
		return dec_fail(cause, "request", "method",
		    "is not an HTTP token");
	if (dec_url(url, cause) == -1)
		return -1;
	x->method = xstrdup(method);
	x->url = xstrdup(url);
	if (dec_strdup(r, "request", "httpVersion", 1, &x->http_version,
	    cause) == -1 ||
	    dec_pairs(r, "request", "cookies", NULL, cause) == -1 ||
	    dec_pairs(r, "request", "headers", &x->req_headers, cause) == -1 ||
	    dec_pairs(r, "request", "queryString", NULL, cause) == -1 ||
	    dec_get(r, "request", "postData", JSON_OBJECT, 0, &pd,
	    cause) == -1)
		return -1;
	if (pd != NULL) {
		if (dec_string(pd, "request.postData", "mimeType", 0, 0, &s,
		    cause) == -1 ||
		    dec_body(pd, "request.postData", "_encoding", 1,
		    &x->req_body, cause) == -1)
			return -1;
	}
	if (dec_get(r, "request", "headersSize", JSON_INTEGER, 0, &pd,
	    cause) == -1)
		return -1;
	return dec_bytes(r, "request", "bodySize", &x->req_wire_bytes, cause);
}

static int
dec_response(const json_t *r, struct exchange *x, char **cause)
{
	const json_t	*v, *c;
	const char	*s;
	json_int_t	 status;

	if (dec_get(r, "response", "status", JSON_INTEGER, 1, &v,
	    cause) == -1)
		return -1;
	status = json_integer_value(v);
	if (status != 0 && (status < 100 || status > 599))
		return dec_fail(cause, "response", "status",
		    "is not 0 or in 100..599");
	x->status = (int)status;
	if (dec_string(r, "response", "statusText", 0, 1, &s, cause) == -1)
		return -1;
	/* HTTP/2 has no reason phrase: "" means none. */
	if (s != NULL && s[0] != '\0')
		x->reason = xstrdup(s);
	if (dec_string(r, "response", "httpVersion", 0, 1, &s, cause) == -1)
		return -1;
	if (x->http_version == NULL && s != NULL)
		x->http_version = xstrdup(s);
	if (dec_pairs(r, "response", "cookies", NULL, cause) == -1 ||
	    dec_pairs(r, "response", "headers", &x->resp_headers,
	    cause) == -1 ||
	    dec_get(r, "response", "content", JSON_OBJECT, 0, &c,
	    cause) == -1)
		return -1;
	if (c != NULL) {
		if (dec_get(c, "response.content", "size", JSON_INTEGER, 0,
		    &v, cause) == -1 ||
		    dec_string(c, "response.content", "mimeType", 0, 0, &s,
		    cause) == -1 ||
		    dec_body(c, "response.content", "encoding", 0,
		    &x->resp_body, cause) == -1)
			return -1;
	}
	if (dec_string(r, "response", "redirectURL", 0, 0, &s, cause) == -1 ||
	    dec_get(r, "response", "headersSize", JSON_INTEGER, 0, &v,
	    cause) == -1)
		return -1;
	return dec_bytes(r, "response", "bodySize", &x->resp_wire_bytes,
	    cause);
}

/* Fill x from a HAR entry. */
int
cassette_entry_decode(const json_t *e, struct exchange *x, char **cause)
{
	const json_t	*r, *t, *d;

	*cause = NULL;
	if (!json_is_object(e)) {
		*cause = xstrdup("the entry is not an object");
		return -1;
	}
	if (dec_get(e, "", "request", JSON_OBJECT, 1, &r, cause) == -1 ||
	    dec_request(r, x, cause) == -1 ||
	    dec_get(e, "", "response", JSON_OBJECT, 1, &r, cause) == -1 ||
	    dec_response(r, x, cause) == -1 ||
	    dec_strdup(e, "", "startedDateTime", 0, &x->started,
	    cause) == -1 ||
	    dec_ms(e, "", "time", &x->time_ms, cause) == -1 ||
	    dec_get(e, "", "cache", JSON_OBJECT, 0, &t, cause) == -1 ||
	    dec_get(e, "", "timings", JSON_OBJECT, 0, &t, cause) == -1)
		return -1;
	if (t != NULL && (dec_ms(t, "timings", "send", &x->send_ms,
	    cause) == -1 ||
	    dec_ms(t, "timings", "wait", &x->wait_ms, cause) == -1 ||
	    dec_ms(t, "timings", "receive", &x->receive_ms, cause) == -1))
		return -1;
	if (dec_strdup(e, "", "serverIPAddress", 0, &x->server_ip,
	    cause) == -1 ||
	    dec_get(e, "", "_diagnoses", JSON_ARRAY, 0, &d, cause) == -1 ||
	    dec_strdup(e, "", "_answeredBy", 0, &x->answered_by,
	    cause) == -1 ||
	    dec_strdup(e, "", "_error", 0, &x->error, cause) == -1)
		return -1;
	if (d != NULL)
		x->diagnoses = json_deep_copy(d);
	return 0;
}

/*
 * The loader's scanner. Each scan function starts on the first byte of what
 * it reads (whitespace already skipped) and stops just past its end.
 */

/* A buffer that strings are decoded into, one after the other. */
struct scratch {
	char	*p;
	size_t	 cap;
};

struct scan {
	const char	*p;
	size_t		 len;
	size_t		 off;
	int		 depth;
	char		*cause;

	/* What the walk found. */
	int		 log_seen;
	int		 version_seen;
	int		 entries_seen;
	size_t		 nentries;
	size_t		 insert_at;

	int		(*fn)(struct exchange *, size_t, void *, char **);
	void		*arg;

	/* The fast decoder's: member names, pair names, other strings. */
	struct scratch	 scratch[3];
};

/* What is done with the value of a member named key. */
typedef int (*scan_member_fn)(struct scan *, const char *key);

/* Set the cause to "line L, column C: why" for byte offset at. */
static int
scan_fail_at(struct scan *s, size_t at, const char *why)
{
	size_t	i, line = 1, col = 1;

	if (at > s->len)
		at = s->len;
	/* Columns count characters, not bytes. */
	for (i = 0; i < at; i++) {
		if (s->p[i] == '\n') {
			line++;
			col = 1;
		} else if (!UTF8_IS_CONT(s->p[i]))
			col++;
	}
	free(s->cause);
	s->cause = xasprintf("line %zu, column %zu: %s", line, col, why);
	return -1;
}

/* Fail at the current byte, or at the end of the file if it is reached. */
static int
scan_fail(struct scan *s, const char *why)
{
	if (s->off >= s->len)
		why = "unexpected end of the file";
	return scan_fail_at(s, s->off, why);
}

static int
scan_fail_plain(struct scan *s, char *msg)
{
	free(s->cause);
	s->cause = msg;
	return -1;
}

/* Return the current byte, or -1 at the end. */
static int
scan_peek(const struct scan *s)
{
	if (s->off >= s->len)
		return -1;
	return (unsigned char)s->p[s->off];
}

/*
 * Eight bytes at a time, for the long runs of indentation and plain text
 * in a cassette. load8 reads them at any alignment, the first one in the
 * low byte. A mask marks bytes with their high bit; swar_first gives the
 * index of the first marked one. The borrows in swar_zero only mark bytes
 * after a marked one (Hacker's Delight, 6-1), so the first one is right.
 */
#define SWAR_ONES	0x0101010101010101ULL
#define SWAR_HIGHS	0x8080808080808080ULL

static inline uint64_t
load8(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 |
	    (uint64_t)u[3] << 24 | (uint64_t)u[4] << 32 |
	    (uint64_t)u[5] << 40 | (uint64_t)u[6] << 48 |
	    (uint64_t)u[7] << 56;
}

/* Mark the bytes of w that are 0. */
static inline uint64_t
swar_zero(uint64_t w)
{
	return (w - SWAR_ONES) & ~w & SWAR_HIGHS;
}

/* Mark the bytes of w that are c. */
static inline uint64_t
swar_is(uint64_t w, unsigned char c)
{
	return swar_zero(w ^ (c * SWAR_ONES));
}

/* Mark the bytes of w that stop a run of plain text in a string. */
static inline uint64_t
swar_special(uint64_t w)
{
	/* Below 0x20, from 0x80 up, '"' and '\\'. */
	return (((w - 0x20 * SWAR_ONES) | w) & SWAR_HIGHS) | swar_is(w, '"') |
	    swar_is(w, '\\');
}

/* Return the index of the first byte that m (nonzero) has a bit of. */
static inline size_t
swar_first(uint64_t m)
{
	return (size_t)__builtin_ctzll(m) / 8;
}

static void
scan_ws(struct scan *s)
{
	const char	*p = s->p;
	size_t		 off = s->off;
	uint64_t	 m;

	/*
	 * On a local offset: s->off could share bytes with what p points
	 * to, as far as the compiler knows, so it would be stored each time.
	 */
	for (;;) {
		/* Runs of spaces (indentation) go by 8 at a time. */
		if (s->len - off >= 8) {
			m = load8(p + off) ^ ' ' * SWAR_ONES;
			if (m == 0) {
				off += 8;
				continue;
			}
			off += swar_first(m);
		}
		if (off == s->len || (p[off] != ' ' && p[off] != '\t' &&
		    p[off] != '\n' && p[off] != '\r'))
			break;
		off++;
	}
	s->off = off;
}

/* The value of a hex digit of a \u escape, or -1. */
static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read the four hex digits of a \u escape at off. */
static int
scan_hex4(struct scan *s, unsigned *v)
{
	int	d, i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		d = hex_value(scan_peek(s));
		if (d < 0)
			return scan_fail(s, "bad \\u escape in a string");
		*v = *v << 4 | (unsigned)d;
		s->off++;
	}
	return 0;
}

/*
 * Scan a string. With key set, also decode it into key (CASSETTE_KEY_MAX
 * bytes); a name that is longer or not ASCII comes out as "", which names
 * nothing the loader looks for.
 */
static int
scan_string(struct scan *s, char *key)
{
	size_t		 n = 0, seq, i;
	uint64_t	 m;
	unsigned	 u, lo;
	int		 c, ascii = 1;

	s->off++;
	for (;;) {
		/* Most of a value is printable ASCII: skip it in one go. */
		if (key == NULL) {
			for (i = s->off; s->len - i >= 8; i += 8) {
				m = swar_special(load8(s->p + i));
				if (m != 0) {
					i += swar_first(m);
					break;
				}
			}
			for (; i < s->len &&
			    (unsigned char)s->p[i] - 0x20u < 0x60u &&
			    s->p[i] != '"' && s->p[i] != '\\'; i++)
				;
			s->off = i;
		}
		c = scan_peek(s);
		if (c == -1)
			return scan_fail(s, "unexpected end of the file");
		if (c == '"')
			break;
		if (c < 0x20)
			return scan_fail(s,
			    "control character in a string (escape it)");
		if (c == '\\') {
			s->off++;
			c = scan_peek(s);
			if (c == 'u') {
				s->off++;
				if (scan_hex4(s, &u) == -1)
					return -1;
				if (u >= 0xdc00 && u <= 0xdfff)
					return scan_fail_at(s, s->off - 6,
					    "lone UTF-16 surrogate in a "
					    "string");
				if (u >= 0xd800 && u <= 0xdbff) {
					if (s->len - s->off < 2 ||
					    s->p[s->off] != '\\' ||
					    s->p[s->off + 1] != 'u')
						return scan_fail_at(s,
						    s->off - 6, "lone UTF-16 "
						    "surrogate in a string");
					s->off += 2;
					if (scan_hex4(s, &lo) == -1)
						return -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return scan_fail_at(s,
						    s->off - 12, "lone UTF-16 "
						    "surrogate in a string");
				}
				/* A name with NUL names nothing either. */
				if (u >= 0x80 || u == 0)
					ascii = 0;
				c = (int)u;
			} else if (c == '"' || c == '\\' || c == '/' ||
			    c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
			    c == 't') {
				s->off++;
				c = c == 'b' ? '\b' : c == 'f' ? '\f' :
				    c == 'n' ? '\n' : c == 'r' ? '\r' :
				    c == 't' ? '\t' : c;
			} else
				return scan_fail(s, "bad escape in a string");
		} else if (c >= 0x80) {
			seq = utf8_seq_len(s->p + s->off, s->len - s->off);
			if (seq == 0)
				return scan_fail(s,
				    "invalid UTF-8 in a string");
			s->off += seq;
			ascii = 0;
			continue;
		} else
			s->off++;
		if (key != NULL && n < CASSETTE_KEY_MAX - 1)
			key[n] = (char)c;
		n++;
	}
	s->off++;
	if (key != NULL) {
		if (!ascii || n >= CASSETTE_KEY_MAX)
			n = 0;
		key[n] = '\0';
	}
	return 0;
}

static int
scan_digits(struct scan *s)
{
	int	c = scan_peek(s);

	if (c < '0' || c > '9')
		return scan_fail(s, "bad number");
	while ((c = scan_peek(s)) >= '0' && c <= '9')
		s->off++;
	return 0;
}

/* Scan a number (RFC 8259 6). */
static int
scan_number(struct scan *s)
{
	int	c;

	if (scan_peek(s) == '-')
		s->off++;
	if (scan_peek(s) == '0')
		s->off++;
	else if (scan_digits(s) == -1)
		return -1;
	if (scan_peek(s) == '.') {
		s->off++;
		if (scan_digits(s) == -1)
			return -1;
	}
	c = scan_peek(s);
	if (c == 'e' || c == 'E') {
		s->off++;
		c = scan_peek(s);
		if (c == '+' || c == '-')
			s->off++;
		if (scan_digits(s) == -1)
			return -1;
	}
	return 0;
}

static int
scan_literal(struct scan *s, const char *word)
{
	size_t	n = strlen(word);

	if (s->len - s->off < n || memcmp(s->p + s->off, word, n) != 0)
		return scan_fail(s, "expected a value");
	s->off += n;
	return 0;
}

static int	scan_value(struct scan *);

/* Enter an object or array, refusing to go past CASSETTE_MAX_DEPTH. */
static int
scan_enter(struct scan *s)
{
	char	why[64];

	if (s->depth == CASSETTE_MAX_DEPTH) {
		snprintf(why, sizeof why, "nested deeper than %d levels",
		    CASSETTE_MAX_DEPTH);
		return scan_fail(s, why);
	}
	s->depth++;
	s->off++;
	scan_ws(s);
	return 0;
}

/* Scan an object, handing each member's value to member. */
static int
scan_object(struct scan *s, scan_member_fn member)
{
	char	key[CASSETTE_KEY_MAX];

	if (scan_enter(s) == -1)
		return -1;
	if (scan_peek(s) == '}') {
		s->off++;
		s->depth--;
		return 0;
	}
	for (;;) {
		if (scan_peek(s) != '"')
			return scan_fail(s,
			    "expected a string (a member name)");
		if (scan_string(s, key) == -1)
			return -1;
		scan_ws(s);
		if (scan_peek(s) != ':')
			return scan_fail(s, "expected ':'");
		s->off++;
		scan_ws(s);
		if (member(s, key) == -1)
			return -1;
		scan_ws(s);
		if (scan_peek(s) == '}')
			break;
		if (scan_peek(s) != ',')
			return scan_fail(s, "expected ',' or '}'");
		s->off++;
		scan_ws(s);
	}
	s->off++;
	s->depth--;
	return 0;
}

static int
scan_any_member(struct scan *s, const char *key)
{
	(void)key;
	return scan_value(s);
}

static int	scan_entry(struct scan *, size_t);

/* Scan an array; with entries set, hand each element to scan_entry. */
static int
scan_array(struct scan *s, int entries)
{
	size_t	i;

	/* Until an entry is seen, new ones go just after the "[". */
	if (entries)
		s->insert_at = s->off + 1;
	if (scan_enter(s) == -1)
		return -1;
	if (scan_peek(s) == ']') {
		s->off++;
		s->depth--;
		return 0;
	}
	for (i = 0;; i++) {
		if (entries) {
			if (scan_entry(s, i) == -1)
				return -1;
		} else if (scan_value(s) == -1)
			return -1;
		scan_ws(s);
		if (scan_peek(s) == ']')
			break;
		if (scan_peek(s) != ',')
			return scan_fail(s, "expected ',' or ']'");
		s->off++;
		scan_ws(s);
	}
	s->off++;
	s->depth--;
	return 0;
}

/* Scan any value. */
static int
scan_value(struct scan *s)
{
	int	c = scan_peek(s);

	switch (c) {
	case '{':
		return scan_object(s, scan_any_member);
	case '[':
		return scan_array(s, 0);
	case '"':
		return scan_string(s, NULL);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return scan_number(s);
		return scan_fail(s, "expected a value");
	}
}

/*
 * The fast decoder: a pull parser that reads an entry the scanner has
 * checked (syntax, UTF-8, escapes, nesting) straight into an exchange,
 * without a jansson tree. It takes only what it is sure of. A member of a
 * type it does not expect, a member that comes twice, a number it cannot
 * read exactly as jansson does, a member name jansson refuses (NUL), any
 * value cassette_entry_decode would refuse: for all of these it answers
 * "not handled" (-1), and scan_entry decodes the entry the slow way, which
 * names the error. So an entry it handles comes out field for field as
 * json_loadb and cassette_entry_decode would make it.
 */

struct fast {
	struct scan	 s;		/* over the entry's bytes alone */
	struct exchange	*x;
	struct scratch	*key;		/* member names */
	struct scratch	*name;		/* names of {name, value} pairs */
	struct scratch	*text;		/* other strings that are not kept */
	char		*resp_version;	/* response.httpVersion */
};

/* What fast_string refuses in a string. */
#define FAST_NUL	0x1	/* a NUL byte: it becomes a C string */
#define FAST_WIRE	0x2	/* NUL, CR or LF: it goes on the wire */

/* Read the value of member id (its index in the table) at the current byte. */
typedef int (*fast_member_fn)(struct fast *, size_t id, void *arg);

enum {
	FE_REQUEST, FE_RESPONSE, FE_STARTED, FE_TIME, FE_CACHE, FE_TIMINGS,
	FE_SERVER_IP, FE_DIAGNOSES, FE_ANSWERED_BY, FE_ERROR, FE_N
};
static const char *const fast_entry_keys[FE_N] = {
	[FE_REQUEST] = "request",
	[FE_RESPONSE] = "response",
	[FE_STARTED] = "startedDateTime",
	[FE_TIME] = "time",
	[FE_CACHE] = "cache",
	[FE_TIMINGS] = "timings",
	[FE_SERVER_IP] = "serverIPAddress",
	[FE_DIAGNOSES] = "_diagnoses",
	[FE_ANSWERED_BY] = "_answeredBy",
	[FE_ERROR] = "_error",
};

enum {
	FR_METHOD, FR_URL, FR_VERSION, FR_COOKIES, FR_HEADERS, FR_QUERY,
	FR_POST_DATA, FR_HEADERS_SIZE, FR_BODY_SIZE, FR_N
};
static const char *const fast_request_keys[FR_N] = {
	[FR_METHOD] = "method",
	[FR_URL] = "url",
	[FR_VERSION] = "httpVersion",
	[FR_COOKIES] = "cookies",
	[FR_HEADERS] = "headers",
	[FR_QUERY] = "queryString",
	[FR_POST_DATA] = "postData",
	[FR_HEADERS_SIZE] = "headersSize",
	[FR_BODY_SIZE] = "bodySize",
};

enum {
	FS_STATUS, FS_STATUS_TEXT, FS_VERSION, FS_COOKIES, FS_HEADERS,
	FS_CONTENT, FS_REDIRECT, FS_HEADERS_SIZE, FS_BODY_SIZE, FS_N
};
static const char *const fast_response_keys[FS_N] = {
	[FS_STATUS] = "status",
	[FS_STATUS_TEXT] = "statusText",
	[FS_VERSION] = "httpVersion",
	[FS_COOKIES] = "cookies",
	[FS_HEADERS] = "headers",
	[FS_CONTENT] = "content",
	[FS_REDIRECT] = "redirectURL",
	[FS_HEADERS_SIZE] = "headersSize",
	[FS_BODY_SIZE] = "bodySize",
};

/* request.postData has no size; it must stay last. */
enum {
	FB_TEXT, FB_ENCODING, FB_TRUNCATED, FB_DECODED_FROM, FB_MIME_TYPE,
	FB_SIZE, FB_N
};
static const char *const fast_content_keys[FB_N] = {
	[FB_TEXT] = "text",
	[FB_ENCODING] = "encoding",
	[FB_TRUNCATED] = "_truncated",
	[FB_DECODED_FROM] = "_decodedFrom",
	[FB_MIME_TYPE] = "mimeType",
	[FB_SIZE] = "size",
};
static const char *const fast_post_data_keys[FB_SIZE] = {
	[FB_TEXT] = "text",
	[FB_ENCODING] = "_encoding",
	[FB_TRUNCATED] = "_truncated",
	[FB_DECODED_FROM] = "_decodedFrom",
	[FB_MIME_TYPE] = "mimeType",
};

enum { FT_SEND, FT_WAIT, FT_RECEIVE, FT_N };
static const char *const fast_timings_keys[FT_N] = {
	[FT_SEND] = "send",
	[FT_WAIT] = "wait",
	[FT_RECEIVE] = "receive",
};

enum { FP_NAME, FP_VALUE, FP_N };
static const char *const fast_pair_keys[FP_N] = {
	[FP_NAME] = "name",
	[FP_VALUE] = "value",
};

/* A body's members, kept until its object ends (dec_body's order). */
struct fast_body {
	char		*text;		/* NULL: none */
	size_t		 tlen;
	int		 enc;		/* -1 none, 1 "base64", 0 other */
	int		 has_trunc;
	json_int_t	 trunc;
	char		*from;		/* NULL: none */
	size_t		 flen;
};

/* A {name, value} pair, in the scratch buffers until it is added. */
struct fast_pair {
	int	 flags;		/* for fast_string */
	char	*name;
	size_t	 nlen;
	char	*value;
	size_t	 vlen;
};

/* Return room for n bytes in sc (its contents are lost). */
static char *
scratch_get(struct scratch *sc, size_t n)
{
	if (sc->cap < n) {
		free(sc->p);
		sc->cap = n < 256 ? 256 : n;
		sc->p = xmalloc(sc->cap);
	}
	return sc->p;
}

static void
scratch_free(struct scratch *sc)
{
	free(sc->p);
	sc->p = NULL;
	sc->cap = 0;
}

/* Return the value of the four hex digits at p (checked by the scanner). */
static uint32_t
fast_hex4(const char *p)
{
	uint32_t	v = 0;
	int		i;

	for (i = 0; i < 4; i++)
		v = v << 4 | (uint32_t)hex_value((unsigned char)p[i]);
	return v;
}

/*
 * Undo the escapes of the raw text of a string (n bytes, checked by the
 * scanner) into dst, which has room for n bytes: no escape is shorter
 * than what it stands for. Return the length.
 */
static size_t
fast_unescape(const char *p, size_t n, char *dst)
{
	const char	*end = p + n;
	char		*o = dst;
	uint32_t	 u, lo;

	while (p < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			u = fast_hex4(p + 1);
			p += 4;
			/* The scanner saw the low half follow. */
			if (u >= 0xd800 && u <= 0xdbff) {
				lo = fast_hex4(p + 3);
				p += 6;
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			o += utf8_encode(u, o);
			break;
		default:
			/* " \ / */
			*o++ = *p;
			break;
		}
		p++;
	}
	return (size_t)(o - dst);
}

/*
 * Step over the string at the current byte; set *raw and *rawlen to its
 * text between the quotes, escapes and all, and *esc when it has escapes.
 * The scanner has checked it.
 */
static int
fast_raw(struct scan *s, const char **raw, size_t *rawlen, int *esc)
{
	const char	*p = s->p;
	size_t		 i = s->off + 1;
	uint64_t	 m;

	*esc = 0;
	if (scan_peek(s) != '"')
		return -1;
	for (;;) {
		if (s->len - i >= 8) {
			m = swar_is(load8(p + i), '"') |
			    swar_is(load8(p + i), '\\');
			if (m == 0) {
				i += 8;
				continue;
			}
			i += swar_first(m);
		}
		if (i >= s->len)
			return -1;
		if (p[i] == '"')
			break;
		if (p[i] == '\\') {
			/* The byte escaped is never the last one. */
			if (s->len - i < 2)
				return -1;
			*esc = 1;
			i++;
		}
		i++;
	}
	*raw = p + s->off + 1;
	*rawlen = i - s->off - 1;
	s->off = i + 1;
	return 0;
}

/*
 * Read the string at the current byte into sc, or into a new buffer the
 * caller frees when sc is NULL: *out gets it NUL-terminated, *len its
 * length. flags (FAST_NUL, FAST_WIRE) say what is refused.
 */
static int
fast_string(struct fast *f, struct scratch *sc, int flags, char **out,
    size_t *len)
{
	const char	*raw;
	char		*dst;
	size_t		 rawlen, n;
	int		 esc;

	*out = NULL;
	if (fast_raw(&f->s, &raw, &rawlen, &esc) == -1)
		return -1;
	dst = sc != NULL ? scratch_get(sc, rawlen + 1) : xmalloc(rawlen + 1);
	if (!esc) {
		memcpy(dst, raw, rawlen);
		dst[rawlen] = '\0';
		*out = dst;
		*len = rawlen;
		return 0;
	}
	n = fast_unescape(raw, rawlen, dst);
	dst[n] = '\0';
	/* Only escapes make NUL, CR and LF: the scanner refuses them raw. */
	if (((flags & (FAST_NUL | FAST_WIRE)) != 0 &&
	    memchr(dst, '\0', n) != NULL) || ((flags & FAST_WIRE) != 0 &&
	    (memchr(dst, '\r', n) != NULL || memchr(dst, '\n', n) != NULL))) {
		if (sc == NULL)
			free(dst);
		return -1;
	}
	/* Give back what escapes left unused in a big buffer. */
	if (sc == NULL && rawlen - n > 4096)
		dst = xreallocarray(dst, n + 1, 1);
	*out = dst;
	*len = n;
	return 0;
}

/* Step over null at the current byte; return nonzero if it is there. */
static int
fast_null(struct fast *f)
{
	if (scan_peek(&f->s) != 'n')
		return 0;
	f->s.off += 4;
	return 1;
}

/* Read an optional string as fast_string does; null gives *out NULL. */
static int
fast_opt_string(struct fast *f, struct scratch *sc, int flags, char **out,
    size_t *len)
{
	*out = NULL;
	*len = 0;
	if (fast_null(f))
		return 0;
	return fast_string(f, sc, flags, out, len);
}

/*
 * Read the number at the current byte as jansson does: without fraction or
 * exponent an integer into *iv (*isint set), else a real into *dv. With dv
 * NULL only check it. Refuse what jansson refuses (an integer past
 * json_int_t, a real past a double) and what this cannot read for sure.
 */
static int
fast_number(struct fast *f, int *isint, json_int_t *iv, double *dv)
{
	const char		*a = f->s.p + f->s.off, *e, *q;
	unsigned long long	 u = 0, d;
	char			 small[64], *copy, *end;
	double			 v;
	size_t			 n;
	int			 neg, exp = 0, ok;

	if (scan_number(&f->s) == -1)
		return -1;
	e = f->s.p + f->s.off;
	n = (size_t)(e - a);
	*isint = 1;
	for (q = a; q < e; q++) {
		if (*q == '.')
			*isint = 0;
		else if (*q == 'e' || *q == 'E') {
			*isint = 0;
			exp = 1;
		}
	}
	if (*isint) {
		neg = *a == '-';
		for (q = a + neg; q < e; q++) {
			d = (unsigned long long)(*q - '0');
			if (u > (ULLONG_MAX - d) / 10)
				return -1;
			u = u * 10 + d;
		}
		if (u > (unsigned long long)LLONG_MAX + (neg ? 1 : 0))
			return -1;
		if (iv != NULL)
			*iv = neg ? (json_int_t)(0 - u) : (json_int_t)u;
		return 0;
	}
	/* Fewer than 300 digits and no exponent: far from DBL_MAX. */
	if (dv == NULL && !exp && n < 300)
		return 0;
	copy = n < sizeof small ? small : xmalloc(n + 1);
	memcpy(copy, a, n);
	copy[n] = '\0';
	v = strtod(copy, &end);
	/* A locale with another decimal point stops strtod early. */
	ok = end == copy + n && !isinf(v);
	if (copy != small)
		free(copy);
	if (!ok)
		return -1;
	if (dv != NULL)
		*dv = v;
	return 0;
}

/* Read an optional integer member; *present says whether it is there. */
static int
fast_int(struct fast *f, json_int_t *v, int *present)
{
	int	isint;

	*present = 0;
	if (fast_null(f))
		return 0;
	if (fast_number(f, &isint, v, NULL) == -1 || !isint)
		return -1;
	*present = 1;
	return 0;
}

/* Read an optional number of milliseconds into *dst, as dec_ms does. */
static int
fast_ms(struct fast *f, double *dst)
{
	json_int_t	iv;
	double		dv;
	int		isint;

	if (fast_null(f))
		return 0;
	if (fast_number(f, &isint, &iv, &dv) == -1)
		return -1;
	if (isint)
		dv = (double)iv;
	*dst = dv > 0 ? dv : 0;
	return 0;
}

/*
 * Read a member name and the ':' after it; *id becomes its index in names
 * (n when it is none of them). jansson refuses a name with a NUL byte.
 */
static int
fast_key(struct fast *f, const char *const *names, size_t n, size_t *id)
{
	const char	*raw, *key;
	char		*k;
	size_t		 rawlen, len, i, j;
	int		 esc;

	if (fast_raw(&f->s, &raw, &rawlen, &esc) == -1)
		return -1;
	key = raw;
	len = rawlen;
	if (esc) {
		k = scratch_get(f->key, rawlen);
		len = fast_unescape(raw, rawlen, k);
		if (memchr(k, '\0', len) != NULL)
			return -1;
		key = k;
	}
	/* key holds no NUL, so a name's end stops the comparison. */
	for (i = 0; i < n; i++) {
		for (j = 0; j < len && names[i][j] == key[j]; j++)
			;
		if (j == len && names[i][len] == '\0')
			break;
	}
	*id = i;
	scan_ws(&f->s);
	if (scan_peek(&f->s) != ':')
		return -1;
	f->s.off++;
	scan_ws(&f->s);
	return 0;
}

/*
 * Step over any value, checking what jansson checks and the scanner does
 * not: numbers in range, no NUL in member names.
 */
static int
fast_skip(struct fast *f)
{
	json_int_t	 iv;
	const char	*raw;
	size_t		 id, rawlen;
	int		 c, isint, close, esc;

	c = scan_peek(&f->s);
	switch (c) {
	case '"':
		return fast_raw(&f->s, &raw, &rawlen, &esc);
	case 't':
	case 'n':
		f->s.off += 4;
		return 0;
	case 'f':
		f->s.off += 5;
		return 0;
	case '{':
	case '[':
		break;
	default:
		return fast_number(f, &isint, &iv, NULL);
	}
	close = c == '{' ? '}' : ']';
	if (f->s.depth == CASSETTE_MAX_DEPTH)
		return -1;
	f->s.depth++;
	f->s.off++;
	scan_ws(&f->s);
	while (scan_peek(&f->s) != close) {
		if ((c == '{' && fast_key(f, NULL, 0, &id) == -1) ||
		    fast_skip(f) == -1)
			return -1;
		scan_ws(&f->s);
		if (scan_peek(&f->s) == ',') {
			f->s.off++;
			scan_ws(&f->s);
		} else if (scan_peek(&f->s) != close)
			return -1;
	}
	f->s.off++;
	f->s.depth--;
	return 0;
}

/*
 * Read the object at the current byte: the value of each member named in
 * names goes to fn (a second one is not handled), the others are skipped.
 * The members whose bits are in required must be there.
 */
static int
fast_object(struct fast *f, const char *const *names, size_t n,
    uint32_t required, fast_member_fn fn, void *arg)
{
	uint32_t	seen = 0;
	size_t		id;

	if (scan_peek(&f->s) != '{')
		return -1;
	f->s.off++;
	scan_ws(&f->s);
	while (scan_peek(&f->s) != '}') {
		if (fast_key(f, names, n, &id) == -1)
			return -1;
		if (id < n) {
			if (seen & (1u << id))
				return -1;
			seen |= 1u << id;
			if (fn(f, id, arg) == -1)
				return -1;
		} else if (fast_skip(f) == -1)
			return -1;
		scan_ws(&f->s);
		if (scan_peek(&f->s) == ',') {
			f->s.off++;
			scan_ws(&f->s);
		} else if (scan_peek(&f->s) != '}')
			return -1;
	}
	f->s.off++;
	return (seen & required) == required ? 0 : -1;
}

static int
fast_pair_cb(struct fast *f, size_t id, void *arg)
{
	struct fast_pair	*p = arg;

	if (id == FP_NAME)
		return fast_string(f, f->name, p->flags, &p->name, &p->nlen);
	return fast_string(f, f->text, p->flags, &p->value, &p->vlen);
}

/* Check a {name, value} pair as dec_pair does; with h set, add it to h. */
static int
fast_pair(struct fast *f, struct http_headers *h)
{
	struct fast_pair	p;

	p.flags = h != NULL ? FAST_WIRE : FAST_NUL;
	if (fast_object(f, fast_pair_keys, FP_N, 1u << FP_NAME |
	    1u << FP_VALUE, fast_pair_cb, &p) == -1)
		return -1;
	/* Devtools list HTTP/2 pseudo-headers (":authority"): not fields. */
	if (h == NULL || (p.nlen > 0 && p.name[0] == ':'))
		return 0;
	if (!token_ok(p.name, p.nlen))
		return -1;
	http_headers_add(h, p.name, p.nlen, p.value, p.vlen);
	return 0;
}

/* Read an optional array of pairs as dec_pairs does. */
static int
fast_pairs(struct fast *f, struct http_headers *h)
{
	if (fast_null(f))
		return 0;
	if (scan_peek(&f->s) != '[')
		return -1;
	f->s.off++;
	scan_ws(&f->s);
	while (scan_peek(&f->s) != ']') {
		if (fast_pair(f, h) == -1)
			return -1;
		scan_ws(&f->s);
		if (scan_peek(&f->s) == ',') {
			f->s.off++;
			scan_ws(&f->s);
		} else if (scan_peek(&f->s) != ']')
			return -1;
	}
	f->s.off++;
	return 0;
}

static int
fast_body_cb(struct fast *f, size_t id, void *arg)
{
	struct fast_body	*st = arg;
	json_int_t		 v;
	char			*s;
	size_t			 len;
	int			 present;

	switch (id) {
	case FB_TEXT:
		return fast_opt_string(f, NULL, 0, &st->text, &st->tlen);
	case FB_ENCODING:
		if (fast_opt_string(f, f->text, 0, &s, &len) == -1)
			return -1;
		if (s != NULL)
			st->enc = len == 6 && memcmp(s, "base64", 6) == 0;
		return 0;
	case FB_TRUNCATED:
		return fast_int(f, &st->trunc, &st->has_trunc);
	case FB_DECODED_FROM:
		return fast_opt_string(f, NULL, 0, &st->from, &st->flen);
	case FB_MIME_TYPE:
		return fast_opt_string(f, f->text, FAST_NUL, &s, &len);
	default:
		return fast_int(f, &v, &present);
	}
}

/*
 * Read an optional body object (names: fast_content_keys or
 * fast_post_data_keys) into b as dec_body does.
 */
static int
fast_body(struct fast *f, const char *const *names, size_t n, int empty_ok,
    struct exchange_body *b)
{
	struct fast_body	 st = { NULL, 0, -1, 0, 0, NULL, 0 };
	char			*data;
	size_t			 len;
	int			 rc = -1;

	if (fast_null(f))
		return 0;
	if (fast_object(f, names, n, 0, fast_body_cb, &st) == -1)
		goto out;
	if (st.text == NULL && !empty_ok) {
		rc = 0;
		goto out;
	}
	if (st.text == NULL)
		st.text = xstrdup("");
	if (st.enc != -1) {
		if (st.enc != 1)
			goto out;
		data = b64_decode(st.text, st.tlen, &len);
		if (data == NULL)
			goto out;
		b->data = data;
		b->len = len;
	} else {
		b->data = st.text;
		b->len = st.tlen;
		st.text = NULL;
	}
	b->size = b->len;
	b->truncated = 0;
	if (st.has_trunc) {
		if (st.trunc < 0 || (uint64_t)st.trunc < b->len)
			goto out;
		b->truncated = 1;
		b->size = (uint64_t)st.trunc;
	}
	if (st.from != NULL) {
		if (memchr(st.from, '\0', st.flen) != NULL)
			goto out;
		b->decoded_from = st.from;
		st.from = NULL;
	}
	rc = 0;
out:
	free(st.text);
	free(st.from);
	return rc;
}

static int
fast_request_cb(struct fast *f, size_t id, void *arg)
{
	struct exchange	*x = f->x;
	json_int_t	 v;
	size_t		 len;
	int		 present;

	(void)arg;
	switch (id) {
	case FR_METHOD:
		return fast_string(f, NULL, FAST_WIRE, &x->method, &len);
	case FR_URL:
		return fast_string(f, NULL, FAST_WIRE, &x->url, &len);
	case FR_VERSION:
		return fast_opt_string(f, NULL, FAST_WIRE, &x->http_version,
		    &len);
	case FR_COOKIES:
	case FR_QUERY:
		return fast_pairs(f, NULL);
	case FR_HEADERS:
		return fast_pairs(f, &x->req_headers);
	case FR_POST_DATA:
		return fast_body(f, fast_post_data_keys, FB_SIZE, 1,
		    &x->req_body);
	case FR_HEADERS_SIZE:
		return fast_int(f, &v, &present);
	default:
		if (fast_int(f, &v, &present) == -1)
			return -1;
		if (present)
			x->req_wire_bytes = v > 0 ? (uint64_t)v : 0;
		return 0;
	}
}

static int
fast_response_cb(struct fast *f, size_t id, void *arg)
{
	struct exchange	*x = f->x;
	json_int_t	 v;
	char		*s;
	size_t		 len;
	int		 present;

	(void)arg;
	switch (id) {
	case FS_STATUS:
		if (fast_null(f) || fast_int(f, &v, &present) == -1 ||
		    (v != 0 && (v < 100 || v > 599)))
			return -1;
		x->status = (int)v;
		return 0;
	case FS_STATUS_TEXT:
		if (fast_opt_string(f, NULL, FAST_WIRE, &x->reason,
		    &len) == -1)
			return -1;
		/* HTTP/2 has no reason phrase: "" means none. */
		if (x->reason != NULL && len == 0) {
			free(x->reason);
			x->reason = NULL;
		}
		return 0;
	case FS_VERSION:
		return fast_opt_string(f, NULL, FAST_WIRE, &f->resp_version,
		    &len);
	case FS_COOKIES:
		return fast_pairs(f, NULL);
	case FS_HEADERS:
		return fast_pairs(f, &x->resp_headers);
	case FS_CONTENT:
		return fast_body(f, fast_content_keys, FB_N, 0, &x->resp_body);
	case FS_REDIRECT:
		return fast_opt_string(f, f->text, FAST_NUL, &s, &len);
	case FS_HEADERS_SIZE:
		return fast_int(f, &v, &present);
	default:
		if (fast_int(f, &v, &present) == -1)
			return -1;
		if (present)
			x->resp_wire_bytes = v > 0 ? (uint64_t)v : 0;
		return 0;
	}
}

static int
fast_timings_cb(struct fast *f, size_t id, void *arg)
{
	struct exchange	*x = f->x;

	(void)arg;
	if (id == FT_SEND)
		return fast_ms(f, &x->send_ms);
	if (id == FT_WAIT)
		return fast_ms(f, &x->wait_ms);
	return fast_ms(f, &x->receive_ms);
}

static int
fast_entry_cb(struct fast *f, size_t id, void *arg)
{
	struct exchange	*x = f->x;
	json_error_t	 err;
	size_t		 len, start;

	(void)arg;
	switch (id) {
	case FE_REQUEST:
		if (fast_object(f, fast_request_keys, FR_N, 1u << FR_METHOD |
		    1u << FR_URL, fast_request_cb, NULL) == -1 ||
		    !dec_token(x->method) || !url_ok(x->url))
			return -1;
		return 0;
	case FE_RESPONSE:
		return fast_object(f, fast_response_keys, FS_N,
		    1u << FS_STATUS, fast_response_cb, NULL);
	case FE_STARTED:
		return fast_opt_string(f, NULL, FAST_NUL, &x->started, &len);
	case FE_TIME:
		return fast_ms(f, &x->time_ms);
	case FE_CACHE:
		if (fast_null(f))
			return 0;
		if (scan_peek(&f->s) != '{')
			return -1;
		return fast_skip(f);
	case FE_TIMINGS:
		if (fast_null(f))
			return 0;
		return fast_object(f, fast_timings_keys, FT_N, 0,
		    fast_timings_cb, NULL);
	case FE_SERVER_IP:
		return fast_opt_string(f, NULL, FAST_NUL, &x->server_ip,
		    &len);
	case FE_DIAGNOSES:
		/* Any JSON at all: jansson reads it, from its bytes alone. */
		if (fast_null(f))
			return 0;
		if (scan_peek(&f->s) != '[')
			return -1;
		start = f->s.off;
		if (scan_value(&f->s) == -1)
			return -1;
		x->diagnoses = json_loadb(f->s.p + start, f->s.off - start,
		    JSON_ALLOW_NUL, &err);
		return x->diagnoses != NULL ? 0 : -1;
	case FE_ANSWERED_BY:
		return fast_opt_string(f, NULL, FAST_NUL, &x->answered_by,
		    &len);
	default:
		return fast_opt_string(f, NULL, FAST_NUL, &x->error, &len);
	}
}

/*
 * Decode the entry in [p, p + len), checked by the scanner, into x (empty)
 * with the scratch buffers sc. Return 0, or -1 when it is not handled: x
 * may then hold part of the entry.
 */
static int
fast_entry(const char *p, size_t len, struct scratch *sc, struct exchange *x)
{
	struct fast	f;
	int		rc;

	memset(&f, 0, sizeof f);
	f.s.p = p;
	f.s.len = len;
	f.x = x;
	f.key = &sc[0];
	f.name = &sc[1];
	f.text = &sc[2];
	rc = fast_object(&f, fast_entry_keys, FE_N, 1u << FE_REQUEST |
	    1u << FE_RESPONSE, fast_entry_cb, NULL);
	/* request.httpVersion comes first, whatever the order of the text. */
	if (rc == 0 && x->http_version == NULL) {
		x->http_version = f.resp_version;
		f.resp_version = NULL;
	}
	free(f.resp_version);
	free(f.s.cause);
	return rc;
}

/* Load, decode and hand over entry i, which starts at the current byte. */
static int
scan_entry(struct scan *s, size_t i)
{
	struct exchange	 x;
	json_error_t	 err;
	json_t		*e;
	size_t		 start = s->off, k;
	char		*why = NULL, *msg;
	int		 rc;

	if (scan_value(s) == -1)
		return -1;
	if (s->p[start] != '{')
		return scan_fail_plain(s, xasprintf("entry %zu is not an "
		    "object", i));
	exchange_init(&x);
	rc = fast_entry(s->p + start, s->off - start, s->scratch, &x);
	/* Strings as long as the longest header would stay otherwise. */
	for (k = 0; k < sizeof s->scratch / sizeof s->scratch[0]; k++)
		if (s->scratch[k].cap > CASSETTE_SCRATCH_KEEP)
			scratch_free(&s->scratch[k]);
	if (rc == -1) {
		exchange_free(&x);
		/* NULs are allowed: strings are checked field by field. */
		e = json_loadb(s->p + start, s->off - start, JSON_ALLOW_NUL,
		    &err);
		if (e == NULL) {
			scan_fail_at(s, start + (size_t)(err.position > 0 ?
			    err.position - 1 : 0), err.text);
			msg = xasprintf("entry %zu: %s", i, s->cause);
			return scan_fail_plain(s, msg);
		}
		if (cassette_entry_decode(e, &x, &why) == -1) {
			json_decref(e);
			exchange_free(&x);
			msg = xasprintf("entry %zu: %s", i, why);
			free(why);
			return scan_fail_plain(s, msg);
		}
		json_decref(e);
	}
	s->nentries = i + 1;
	s->insert_at = s->off;
	if (s->fn == NULL)
		exchange_free(&x);
	else if (s->fn(&x, i, s->arg, &why) == -1) {
		if (why == NULL)
			why = xasprintf("entry %zu: refused", i);
		return scan_fail_plain(s, why);
	}
	return 0;
}

static int
scan_log_member(struct scan *s, const char *key)
{
	if (strcmp(key, "version") == 0) {
		if (s->version_seen++)
			return scan_fail(s, "log.version appears twice");
		if (scan_peek(s) != '"')
			return scan_fail_plain(s,
			    xstrdup("log.version is not a string"));
		return scan_string(s, NULL);
	}
	if (strcmp(key, "entries") == 0) {
		if (s->entries_seen++)
			return scan_fail(s, "log.entries appears twice");
		if (scan_peek(s) != '[')
			return scan_fail_plain(s,
			    xstrdup("log.entries is not an array"));
		return scan_array(s, 1);
	}
	return scan_value(s);
}

static int
scan_top_member(struct scan *s, const char *key)
{
	if (strcmp(key, "log") != 0)
		return scan_value(s);
	if (s->log_seen++)
		return scan_fail(s, "\"log\" appears twice");
	if (scan_peek(s) != '{')
		return scan_fail_plain(s,
		    xstrdup("not a HAR file: \"log\" is not an object"));
	if (scan_object(s, scan_log_member) == -1)
		return -1;
	if (!s->entries_seen)
		return scan_fail_plain(s, xstrdup("log.entries is missing"));
	return 0;
}

/* Parse a cassette document. */
int
cassette_parse(const char *data, size_t len,
    int (*fn)(struct exchange *, size_t, void *, char **), void *arg,
    struct cassette_layout *layout, char **cause)
{
	struct scan	 s;
	size_t		 k;
	int		 rc = -1;

	memset(&s, 0, sizeof s);
	s.p = data;
	s.len = len;
	s.fn = fn;
	s.arg = arg;
	*cause = NULL;

	/* A byte order mark is not JSON, but editors write one. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		s.off = 3;
	scan_ws(&s);
	if (s.off == len) {
		*cause = xstrdup("the file is empty");
		return -1;
	}
	if (scan_peek(&s) != '{') {
		if (scan_value(&s) == -1)
			goto out;
		scan_fail_plain(&s, xstrdup("not a HAR file: the top-level "
		    "value is not an object"));
		goto out;
	}
	if (scan_object(&s, scan_top_member) == -1)
		goto out;
	scan_ws(&s);
	if (s.off != len) {
		scan_fail(&s, "unexpected text after the end of the document");
		goto out;
	}
	if (!s.log_seen) {
		scan_fail_plain(&s, xstrdup("not a HAR file: the top-level "
		    "object has no \"log\""));
		goto out;
	}
	if (layout != NULL) {
		layout->insert_at = s.insert_at;
		layout->nentries = s.nentries;
	}
	rc = 0;
out:
	for (k = 0; k < sizeof s.scratch / sizeof s.scratch[0]; k++)
		scratch_free(&s.scratch[k]);
	if (rc == -1)
		*cause = s.cause;
	return rc;
}

/* Write an empty cassette. */
void
cassette_empty(struct buf *out, const char *version,
    struct cassette_layout *layout)
{
	json_t	*v;
	char	*text;

	v = enc_str(version);
	text = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(v);
	if (text == NULL)
		abort();
	buf_adds(out, "{\n  \"log\": {\n    \"version\": \"1.2\",\n"
	    "    \"creator\": {\n      \"name\": \"patchscope\",\n"
	    "      \"version\": ");
	buf_adds(out, text);
	buf_adds(out, "\n    },\n    \"entries\": [");
	if (layout != NULL) {
		layout->insert_at = out->len;
		layout->nentries = 0;
	}
	buf_adds(out, "\n    ]\n  }\n}\n");
	free(text);
}

/* Append an entry's text, indented for the entries array. */
void
cassette_entry_text(const json_t *entry, int first, struct buf *out)
{
	const char	*p, *nl;
	char		*text;

	text = json_dumps(entry, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	/*
	 * Only out of memory makes this fail (encode never puts invalid
	 * UTF-8 or non-finite numbers in); a missing entry would leave a
	 * comma with nothing before it, so do as xmalloc does.
	 */
	if (text == NULL)
		abort();
	buf_adds(out, first ? "\n" : ",\n");
	for (p = text;; p = nl + 1) {
		buf_adds(out, "      ");
		nl = strchr(p, '\n');
		if (nl == NULL) {
			buf_adds(out, p);
			break;
		}
		buf_add(out, p, (size_t)(nl - p + 1));
	}
	free(text);
}
