/*
 * cassette: HAR 1.2 entries from exchanges, and the layout of the text of
 * a cassette (a new, empty one; an entry to go in at the place the loader
 * found). The rest of the module: cassette_decode.c (an entry back into an
 * exchange, from a jansson tree), cassette_scan.c (the loader) and
 * cassette_fast.c (its fast decoder); cassette_local.h is what they share.
 *
 * Encoding never hands jansson a string that is not valid UTF-8: bodies that
 * are not UTF-8 (or hold NUL) go in base64, and header or URL text that is
 * not UTF-8 has its bad bytes replaced by U+FFFD. The entry returned is the
 * caller's, and shares nothing with the exchange.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "http.h"
#include "json_out.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

#define CASSETTE_EPOCH		"1970-01-01T00:00:00.000Z"

/*
 * Text (valid UTF-8, see utf8.h) and base64 (cassette_decode.c reads it).
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
 * The text of a cassette, laid out as the loader reads it back: entries
 * go at cassette_layout.insert_at.
 */

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
		memset(layout, 0, sizeof *layout);
		layout->insert_at = out->len;
		layout->prefix[0].len = out->len;
		layout->tail[0].off = out->len;
	}
	cassette_closing(out);
	if (layout != NULL)
		layout->tail[0].len = out->len - layout->tail[0].off;
	free(text);
}

/* Append the bytes after the last entry, as cassette_empty lays them out. */
void
cassette_closing(struct buf *out)
{
	buf_adds(out, "\n    ]\n  }\n}\n");
}

/* Say where a cut document ends and which entries are used. */
char *
cassette_cut_message(const struct cassette_layout *l)
{
	int	one = l->nentries == 1;

	if (l->cut_in_entry)
		return xasprintf("the cassette ends in the middle of entry "
		    "%zu (a recording cut off); the %zu complete %s before it "
		    "%s used", l->nentries, l->nentries, one ? "entry" :
		    "entries", one ? "is" : "are");
	return xasprintf("the cassette ends after entry %zu, without its "
	    "closing brackets (a recording cut off); its %zu %s %s used",
	    l->nentries - 1, l->nentries, one ? "entry" : "entries",
	    one ? "is" : "are");
}

/* Append an entry's text, indented for the entries array. */
void
cassette_entry_text(const json_t *entry, int first, struct buf *out)
{
	buf_adds(out, first ? "\n      " : ",\n      ");
	json_out_indented(out, entry, 6);
}
