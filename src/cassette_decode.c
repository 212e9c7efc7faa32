/*
 * cassette_decode: a HAR entry, as a jansson tree, back into an exchange.
 *
 * This is the decoder that says what an entry means: the loader's fast
 * decoder (cassette_fast.c) takes only entries it reads exactly as this one
 * would, and leaves the rest to it. Decoding type-checks every field it
 * reads and refuses header text that could split a message on the wire
 * (CR, LF, NUL), since replay sends what it loads. An error names the field
 * by its path from the entry ("request.headers[2].name is not a string").
 * What it puts in the exchange is the exchange's; it keeps nothing of the
 * tree.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cassette.h"
#include "cassette_local.h"
#include "exchange.h"
#include "http.h"
#include "xmalloc.h"

/*
 * Base64 (RFC 4648 4), as cassette.c writes it.
 */

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
char *
cassette_decode_b64(const char *s, size_t len, size_t *outlen)
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
int
cassette_decode_token_ok(const char *s, size_t len)
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
	return cassette_decode_token_ok(s, strlen(s));
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
		data = cassette_decode_b64(text, tlen, &len);
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
int
cassette_decode_url_ok(const char *url)
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
	if (!cassette_decode_url_ok(url))
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
	    dec_strdup(e, "", "_error", 0, &x->error, cause) == -1 ||
	    dec_strdup(e, "", "_fault", 0, &x->fault, cause) == -1)
		return -1;
	if (d != NULL)
		x->diagnoses = json_deep_copy(d);
	return 0;
}
