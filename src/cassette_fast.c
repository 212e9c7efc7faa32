/*
 * cassette_fast: the loader's fast decoder, a pull parser that reads an
 * entry the scanner has checked (syntax, UTF-8, escapes, nesting) straight
 * into an exchange, without a jansson tree. It takes only what it is sure
 * of. A member of a type it does not expect, a member that comes twice, a
 * number it cannot read exactly as jansson does, a member name jansson
 * refuses (NUL), any value cassette_entry_decode would refuse: for all of
 * these it answers "not handled" (-1), and the loader decodes the entry the
 * slow way, which names the error. So an entry it handles comes out field
 * for field as json_loadb and cassette_entry_decode would make it.
 *
 * The strings it keeps are new buffers that go into the exchange; the
 * others (member names, pair names, text it only checks) are decoded into
 * the loader's scratch buffers, which it grows and the loader frees.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cassette.h"
#include "cassette_local.h"
#include "exchange.h"
#include "http.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

struct fast {
	struct cassette_scan	 s;	/* over the entry's bytes alone */
	struct exchange		*x;
	struct cassette_scratch	*key;	/* member names */
	struct cassette_scratch	*name;	/* names of {name, value} pairs */
	struct cassette_scratch	*text;	/* other strings that are not kept */
	char			*resp_version; /* response.httpVersion */
};

/* What fast_string refuses in a string. */
#define FAST_NUL	0x1	/* a NUL byte: it becomes a C string */
#define FAST_WIRE	0x2	/* NUL, CR or LF: it goes on the wire */

/* Read the value of member id (its index in the table) at the current byte. */
typedef int (*fast_member_fn)(struct fast *, size_t id, void *arg);

enum {
	FE_REQUEST, FE_RESPONSE, FE_STARTED, FE_TIME, FE_CACHE, FE_TIMINGS,
	FE_SERVER_IP, FE_DIAGNOSES, FE_ANSWERED_BY, FE_ERROR, FE_FAULT, FE_N
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
	[FE_FAULT] = "_fault",
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

/* Return the value of the four hex digits at p (checked by the scanner). */
static uint32_t
unescape_hex4(const char *p)
{
	uint32_t	v = 0;
	int		i;

	for (i = 0; i < 4; i++)
		v = v << 4 | (uint32_t)uri_hex_value((unsigned char)p[i]);
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
			u = unescape_hex4(p + 1);
			p += 4;
			/* The scanner saw the low half follow. */
			if (u >= 0xd800 && u <= 0xdbff) {
				lo = unescape_hex4(p + 3);
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

/* Return room for n bytes in sc (its contents are lost). */
static char *
scratch_get(struct cassette_scratch *sc, size_t n)
{
	if (sc->cap < n) {
		free(sc->p);
		sc->cap = n < 256 ? 256 : n;
		sc->p = xmalloc(sc->cap);
	}
	return sc->p;
}

/*
 * Read the string at the current byte into sc, or into a new buffer the
 * caller frees when sc is NULL: *out gets it NUL-terminated, *len its
 * length. flags (FAST_NUL, FAST_WIRE) say what is refused.
 */
static int
fast_string(struct fast *f, struct cassette_scratch *sc, int flags,
    char **out, size_t *len)
{
	const char	*raw;
	char		*dst;
	size_t		 rawlen, n;
	int		 esc;

	*out = NULL;
	if (cassette_scan_raw(&f->s, &raw, &rawlen, &esc) == -1)
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
	if (cassette_scan_peek(&f->s) != 'n')
		return 0;
	f->s.off += 4;
	return 1;
}

/* Read an optional string as fast_string does; null gives *out NULL. */
static int
fast_opt_string(struct fast *f, struct cassette_scratch *sc, int flags,
    char **out, size_t *len)
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

	if (cassette_scan_number(&f->s) == -1)
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

	if (cassette_scan_raw(&f->s, &raw, &rawlen, &esc) == -1)
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
	cassette_scan_ws(&f->s);
	if (cassette_scan_peek(&f->s) != ':')
		return -1;
	f->s.off++;
	cassette_scan_ws(&f->s);
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

	c = cassette_scan_peek(&f->s);
	switch (c) {
	case '"':
		return cassette_scan_raw(&f->s, &raw, &rawlen, &esc);
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
	cassette_scan_ws(&f->s);
	while (cassette_scan_peek(&f->s) != close) {
		if ((c == '{' && fast_key(f, NULL, 0, &id) == -1) ||
		    fast_skip(f) == -1)
			return -1;
		cassette_scan_ws(&f->s);
		if (cassette_scan_peek(&f->s) == ',') {
			f->s.off++;
			cassette_scan_ws(&f->s);
		} else if (cassette_scan_peek(&f->s) != close)
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

	if (cassette_scan_peek(&f->s) != '{')
		return -1;
	f->s.off++;
	cassette_scan_ws(&f->s);
	while (cassette_scan_peek(&f->s) != '}') {
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
		cassette_scan_ws(&f->s);
		if (cassette_scan_peek(&f->s) == ',') {
			f->s.off++;
			cassette_scan_ws(&f->s);
		} else if (cassette_scan_peek(&f->s) != '}')
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
	if (!cassette_decode_token_ok(p.name, p.nlen))
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
	if (cassette_scan_peek(&f->s) != '[')
		return -1;
	f->s.off++;
	cassette_scan_ws(&f->s);
	while (cassette_scan_peek(&f->s) != ']') {
		if (fast_pair(f, h) == -1)
			return -1;
		cassette_scan_ws(&f->s);
		if (cassette_scan_peek(&f->s) == ',') {
			f->s.off++;
			cassette_scan_ws(&f->s);
		} else if (cassette_scan_peek(&f->s) != ']')
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
		data = cassette_decode_b64(st.text, st.tlen, &len);
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
		    !cassette_decode_token_ok(x->method, strlen(x->method)) ||
		    !cassette_decode_url_ok(x->url))
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
		if (cassette_scan_peek(&f->s) != '{')
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
		if (cassette_scan_peek(&f->s) != '[')
			return -1;
		start = f->s.off;
		if (cassette_scan_value(&f->s) == -1)
			return -1;
		x->diagnoses = json_loadb(f->s.p + start, f->s.off - start,
		    JSON_ALLOW_NUL, &err);
		return x->diagnoses != NULL ? 0 : -1;
	case FE_ANSWERED_BY:
		return fast_opt_string(f, NULL, FAST_NUL, &x->answered_by,
		    &len);
	case FE_FAULT:
		return fast_opt_string(f, NULL, FAST_NUL, &x->fault, &len);
	default:
		return fast_opt_string(f, NULL, FAST_NUL, &x->error, &len);
	}
}

/*
 * Decode the entry in [p, p + len), checked by the scanner, into x (empty)
 * with the scratch buffers sc. Return 0, or -1 when it is not handled: x
 * may then hold part of the entry.
 */
int
cassette_fast_entry(const char *p, size_t len, struct cassette_scratch *sc,
    struct exchange *x)
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
