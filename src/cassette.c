/*
 * cassette: HAR 1.2 entries from exchanges, and the layout of the text of
 * a cassette (a new, empty one; an entry to go in at the place the loader
 * found). The rest of the module: cassette_decode.c (an entry back into an
 * exchange, from a jansson tree), cassette_scan.c (the loader) and
 * cassette_fast.c (its fast decoder); cassette_local.h is what they share.
 *
 * An entry is written once, as text, straight from the exchange
 * (cassette_entry_write: what the recorder does with every exchange); the
 * jansson entry (cassette_entry_encode) is that text parsed, so the two
 * can never disagree. The text is always valid UTF-8: bodies that are not
 * UTF-8 (or hold NUL) go in base64, and header or URL text that is not
 * UTF-8 has its bad bytes replaced by U+FFFD. A body goes from the
 * exchange into the text in one pass (base64 included), so a large one is
 * not held twice more on the way.
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

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Append the base64 of len bytes (RFC 4648 4, padded) to out. */
static void
b64_append(struct buf *out, const unsigned char *p, size_t len)
{
	char		 chunk[4096], *o;
	size_t		 i;
	uint32_t	 v;

	o = chunk;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 0x3f];
		*o++ = b64_alphabet[(v >> 6) & 0x3f];
		*o++ = b64_alphabet[v & 0x3f];
		if (o == chunk + sizeof chunk) {
			buf_add(out, chunk, sizeof chunk);
			o = chunk;
		}
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
	buf_add(out, chunk, (size_t)(o - chunk));
}

/*
 * Encoding.
 */

/* Trim spaces and tabs around [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

typedef void cookie_fn(void *, const char *, size_t, const char *, size_t);

/* Report the name=value pair in [s, e), if it has a name. */
static void
cookie_pair(const char *s, const char *e, cookie_fn *fn, void *arg)
{
	const char	*eq, *ne, *vs;

	trim(&s, &e);
	eq = memchr(s, '=', (size_t)(e - s));
	ne = eq != NULL ? eq : e;
	vs = eq != NULL ? eq + 1 : e;
	trim(&s, &ne);
	trim(&vs, &e);
	if (ne > s)
		fn(arg, s, (size_t)(ne - s), vs, (size_t)(e - vs));
}

/*
 * Report the cookies of a message: every pair of each Cookie header
 * ("a=1; b=2"), or the leading pair of each Set-Cookie header.
 */
static void
cookie_pairs(const struct http_headers *h, int set, cookie_fn *fn,
    void *arg)
{
	const char	*name = set ? "set-cookie" : "cookie";
	const char	*p, *end;
	size_t		 i;

	for (i = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, name) != 0)
			continue;
		p = h->v[i].value;
		for (;;) {
			end = p + strcspn(p, ";");
			cookie_pair(p, end, fn, arg);
			if (set || *end == '\0')
				break;
			p = end + 1;
		}
	}
}

/*
 * A query part as HAR keeps it: percent-decoded into b ('+' stays: HAR
 * keeps what the URL says) if that gives UTF-8 without NUL; else NULL, and
 * the part goes as it is (made UTF-8).
 */
static const char *
query_part(struct buf *b, struct uri_span part)
{
	buf_reset(b);
	uri_decode_buf(b, part.p, part.len, 0);
	return utf8_valid(b->data, b->len, UTF8_NO_NUL) ? buf_str(b) : NULL;
}

typedef void query_fn(void *, struct uri_span name,
    const struct uri_span *value);

/* Report the name=value pairs of a URL's query (value NULL: no "="). */
static void
query_pairs(const char *url, query_fn *fn, void *arg)
{
	struct uri_parts	 parts;
	struct uri_param	 f;
	const char		*p, *end, *amp;

	if (url == NULL)
		return;
	uri_split(url, &parts);
	if (parts.query.p == NULL)
		return;
	end = parts.query.p + parts.query.len;
	for (p = parts.query.p; p < end; p = amp + 1) {
		amp = uri_query_field(p, end, &f);
		if (amp > p)
			fn(arg, f.name, f.value.p != NULL ? &f.value : NULL);
	}
}

static void
w_strn(struct json_writer *w, const char *s, size_t len)
{
	struct buf	b = { NULL, 0, 0 };

	if (utf8_valid(s, len, UTF8_NO_NUL)) {
		json_writer_string(w, s, len);
		return;
	}
	utf8_sanitize(&b, s, len, UTF8_NO_NUL);
	json_writer_string(w, buf_str(&b), b.len);
	buf_free(&b);
}

static void
w_str(struct json_writer *w, const char *s)
{
	w_strn(w, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static void
w_key_str(struct json_writer *w, const char *key, const char *s)
{
	json_writer_key(w, key);
	w_str(w, s);
}

static void
w_ms(struct json_writer *w, double v)
{
	if (!isfinite(v) || v < 0)
		v = 0;
	if (v < 9007199254740992.0 && (double)(json_int_t)v == v)
		json_writer_int(w, (json_int_t)v);
	else
		json_writer_real(w, v);
}

static void
w_u64(struct json_writer *w, uint64_t v)
{
	json_writer_int(w, v > (uint64_t)INT64_MAX ? INT64_MAX :
	    (json_int_t)v);
}

static void
w_pair(void *arg, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	struct json_writer	*w = arg;

	json_writer_item(w);
	json_writer_open(w, '{');
	json_writer_key(w, "name");
	w_strn(w, name, nlen);
	json_writer_key(w, "value");
	w_strn(w, value, vlen);
	json_writer_close(w, '}');
}

static void
w_headers(struct json_writer *w, const struct http_headers *h)
{
	size_t	i;

	json_writer_key(w, "headers");
	json_writer_open(w, '[');
	for (i = 0; i < h->n; i++)
		w_pair(w, h->v[i].name, strlen(h->v[i].name), h->v[i].value,
		    strlen(h->v[i].value));
	json_writer_close(w, ']');
}

static void
w_cookies(struct json_writer *w, const struct http_headers *h, int set)
{
	json_writer_key(w, "cookies");
	json_writer_open(w, '[');
	cookie_pairs(h, set, w_pair, w);
	json_writer_close(w, ']');
}

static void
w_query_part(struct json_writer *w, struct uri_span part)
{
	struct buf	 b = { NULL, 0, 0 };
	const char	*text;

	text = query_part(&b, part);
	if (text != NULL)
		json_writer_string(w, text, b.len);
	else
		w_strn(w, part.p, part.len);
	buf_free(&b);
}

static void
w_query_pair(void *arg, struct uri_span name, const struct uri_span *value)
{
	struct json_writer	*w = arg;

	json_writer_item(w);
	json_writer_open(w, '{');
	json_writer_key(w, "name");
	w_query_part(w, name);
	json_writer_key(w, "value");
	if (value != NULL)
		w_query_part(w, *value);
	else
		json_writer_string(w, "", 0);
	json_writer_close(w, '}');
}

static void
w_body(struct json_writer *w, const struct exchange_body *b,
    const char *enc_key)
{
	json_writer_key(w, "text");
	if (utf8_valid(b->data, b->len, UTF8_NO_NUL))
		json_writer_string(w, b->data, b->len);
	else {
		/* Base64 needs no escaping: straight into the text. */
		buf_add(w->out, "\"", 1);
		b64_append(w->out, (const unsigned char *)b->data, b->len);
		buf_add(w->out, "\"", 1);
		w_key_str(w, enc_key, "base64");
	}
	if (b->decoded_from != NULL)
		w_key_str(w, "_decodedFrom", b->decoded_from);
	if (b->truncated) {
		json_writer_key(w, "_truncated");
		w_u64(w, b->size);
	}
}

static void
w_request(struct json_writer *w, const struct exchange *x)
{
	json_writer_key(w, "request");
	json_writer_open(w, '{');
	w_key_str(w, "method", x->method);
	w_key_str(w, "url", x->url);
	w_key_str(w, "httpVersion", x->http_version != NULL ?
	    x->http_version : "HTTP/1.1");
	w_cookies(w, &x->req_headers, 0);
	w_headers(w, &x->req_headers);
	json_writer_key(w, "queryString");
	json_writer_open(w, '[');
	query_pairs(x->url, w_query_pair, w);
	json_writer_close(w, ']');
	if (x->req_body.data != NULL) {
		json_writer_key(w, "postData");
		json_writer_open(w, '{');
		w_key_str(w, "mimeType", http_headers_get(&x->req_headers,
		    "Content-Type"));
		w_body(w, &x->req_body, "_encoding");
		json_writer_close(w, '}');
	}
	json_writer_key(w, "headersSize");
	json_writer_int(w, -1);
	json_writer_key(w, "bodySize");
	w_u64(w, x->req_wire_bytes);
	json_writer_close(w, '}');
}

static void
w_response(struct json_writer *w, const struct exchange *x)
{
	const char	*ct;

	json_writer_key(w, "response");
	json_writer_open(w, '{');
	json_writer_key(w, "status");
	json_writer_int(w, x->status);
	w_key_str(w, "statusText", x->reason);
	w_key_str(w, "httpVersion", x->http_version != NULL ?
	    x->http_version : "HTTP/1.1");
	w_cookies(w, &x->resp_headers, 1);
	w_headers(w, &x->resp_headers);
	json_writer_key(w, "content");
	json_writer_open(w, '{');
	json_writer_key(w, "size");
	w_u64(w, x->resp_body.data != NULL ? x->resp_body.size : 0);
	ct = http_headers_get(&x->resp_headers, "Content-Type");
	w_key_str(w, "mimeType", ct != NULL ? ct : "x-unknown");
	if (x->resp_body.data != NULL)
		w_body(w, &x->resp_body, "encoding");
	json_writer_close(w, '}');
	w_key_str(w, "redirectURL", http_headers_get(&x->resp_headers,
	    "Location"));
	json_writer_key(w, "headersSize");
	json_writer_int(w, -1);
	json_writer_key(w, "bodySize");
	w_u64(w, x->resp_wire_bytes);
	json_writer_close(w, '}');
}

/* Write an exchange's entry object. */
static void
w_entry(struct json_writer *w, const struct exchange *x)
{
	json_writer_open(w, '{');
	w_key_str(w, "startedDateTime", x->started != NULL ? x->started :
	    CASSETTE_EPOCH);
	json_writer_key(w, "time");
	w_ms(w, x->time_ms);
	w_request(w, x);
	w_response(w, x);
	json_writer_key(w, "cache");
	json_writer_open(w, '{');
	json_writer_close(w, '}');
	json_writer_key(w, "timings");
	json_writer_open(w, '{');
	json_writer_key(w, "send");
	w_ms(w, x->send_ms);
	json_writer_key(w, "wait");
	w_ms(w, x->wait_ms);
	json_writer_key(w, "receive");
	w_ms(w, x->receive_ms);
	json_writer_close(w, '}');
	if (x->server_ip != NULL)
		w_key_str(w, "serverIPAddress", x->server_ip);
	if (x->diagnoses != NULL) {
		json_writer_key(w, "_diagnoses");
		json_writer_value(w, x->diagnoses);
	}
	if (x->answered_by != NULL)
		w_key_str(w, "_answeredBy", x->answered_by);
	if (x->error != NULL)
		w_key_str(w, "_error", x->error);
	if (x->fault != NULL)
		w_key_str(w, "_fault", x->fault);
	json_writer_close(w, '}');
}

/* Append an exchange's entry text, indented for the entries array. */
void
cassette_entry_write(const struct exchange *x, int first, struct buf *out)
{
	struct json_writer	w;

	buf_adds(out, first ? "\n      " : ",\n      ");
	json_writer_init(&w, out, 6);
	w_entry(&w, x);
}

/* Return the HAR entry of an exchange: its text, parsed. */
json_t *
cassette_entry_encode(const struct exchange *x)
{
	struct json_writer	 w;
	struct buf		 text = { NULL, 0, 0 };
	json_t			*entry;

	json_writer_init(&w, &text, 0);
	w_entry(&w, x);
	entry = json_loadb(text.data, text.len, JSON_ALLOW_NUL, NULL);
	buf_free(&text);
	/* Only out of memory makes valid text fail to parse. */
	if (entry == NULL)
		abort();
	return entry;
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
	struct json_writer	w;

	buf_adds(out, "{\n  \"log\": {\n    \"version\": \"1.2\",\n"
	    "    \"creator\": {\n      \"name\": \"patchscope\",\n"
	    "      \"version\": ");
	json_writer_init(&w, out, 0);
	w_str(&w, version);
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
