/*
 * Unit tests for cassette: HAR entries to and from exchanges (round trips,
 * every refused shape with its exact cause) and the loader (syntax errors
 * with their place, nesting limit, layout for appending, real exports in
 * tests/data/cassette/). The loader's fast decoder is checked against
 * json_loadb and cassette_entry_decode, entry by entry: the same exchange
 * or the same error, and which of the two ways was taken (told by what
 * jansson allocated).
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "http.h"
#include "xmalloc.h"
#include "unit.h"

/* Where the source tree is (make check sets it; else the current dir). */
static const char *
srcdir(void)
{
	const char	*d = getenv("PATCHSCOPE_SRCDIR");

	return d != NULL ? d : ".";
}

static void
hdr(struct http_headers *h, const char *name, const char *value)
{
	http_headers_add(h, name, strlen(name), value, strlen(value));
}

/* An exchange with every field set, text bodies. */
static void
full_exchange(struct exchange *x)
{
	exchange_init(x);
	x->started = xstrdup("2024-05-02T09:14:03.402Z");
	x->time_ms = 87.5;
	x->send_ms = 0.25;
	x->wait_ms = 84;
	x->receive_ms = 3.25;
	x->server_ip = xstrdup("203.0.113.9");
	x->method = xstrdup("PATCH");
	x->url = xstrdup("https://api.example.test:8443/v1/a/profiles/p"
	    "?fields=actions&q=caf%C3%A9&raw=%FF&flag");
	x->http_version = xstrdup("HTTP/1.1");
	hdr(&x->req_headers, "Host", "api.example.test:8443");
	hdr(&x->req_headers, "Content-Type", "application/json");
	hdr(&x->req_headers, "Cookie", "a=1; b=2");
	hdr(&x->req_headers, "Cookie", "c=3");
	exchange_body_set(&x->req_body, "{\"actions\": []}", 15);
	x->req_wire_bytes = 15;
	x->status = 400;
	x->reason = xstrdup("Bad Request");
	hdr(&x->resp_headers, "Content-Type", "application/json");
	hdr(&x->resp_headers, "Set-Cookie", "sid=xyz; Path=/; HttpOnly");
	hdr(&x->resp_headers, "Location", "https://elsewhere.test/");
	exchange_body_set(&x->resp_body, "{\"errors\": [], \"caf\xc3\xa9\": 1}",
	    26);
	x->resp_wire_bytes = 26;
}

static void
headers_eq(const struct http_headers *a, const struct http_headers *b)
{
	size_t	i;

	ck_assert_uint_eq(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		ck_assert_str_eq(a->v[i].name, b->v[i].name);
		ck_assert_str_eq(a->v[i].value, b->v[i].value);
	}
}

static void
body_eq(const struct exchange_body *a, const struct exchange_body *b)
{
	if (a->data == NULL) {
		ck_assert_ptr_null(b->data);
		return;
	}
	ck_assert_ptr_nonnull(b->data);
	ck_assert_uint_eq(a->len, b->len);
	ck_assert_int_eq(memcmp(a->data, b->data, a->len), 0);
	ck_assert_int_eq(b->data[b->len], '\0');
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_int_eq(a->truncated, b->truncated);
	if (a->decoded_from == NULL)
		ck_assert_ptr_null(b->decoded_from);
	else
		ck_assert_str_eq(a->decoded_from, b->decoded_from);
}

static void
opt_str_eq(const char *a, const char *b)
{
	if (a == NULL)
		ck_assert_ptr_null(b);
	else {
		ck_assert_ptr_nonnull(b);
		ck_assert_str_eq(a, b);
	}
}

/* Encode x, go through text (as a cassette would), decode into y. */
static void
round_trip(const struct exchange *x, struct exchange *y)
{
	json_t		*e, *back;
	json_error_t	 err;
	char		*text, *cause = NULL;

	e = cassette_entry_encode(x);
	ck_assert_ptr_nonnull(e);
	text = json_dumps(e, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	ck_assert_ptr_nonnull(text);
	back = json_loads(text, 0, &err);
	ck_assert_msg(back != NULL, "%s", err.text);
	exchange_init(y);
	ck_assert_msg(cassette_entry_decode(back, y, &cause) == 0, "%s",
	    cause);
	json_decref(back);
	json_decref(e);
	free(text);
}

static void
exchange_eq(const struct exchange *x, const struct exchange *y)
{
	opt_str_eq(x->started, y->started);
	ck_assert(x->time_ms == y->time_ms);
	ck_assert(x->send_ms == y->send_ms);
	ck_assert(x->wait_ms == y->wait_ms);
	ck_assert(x->receive_ms == y->receive_ms);
	opt_str_eq(x->server_ip, y->server_ip);
	ck_assert_str_eq(x->method, y->method);
	ck_assert_str_eq(x->url, y->url);
	opt_str_eq(x->http_version, y->http_version);
	headers_eq(&x->req_headers, &y->req_headers);
	body_eq(&x->req_body, &y->req_body);
	ck_assert_uint_eq(x->req_wire_bytes, y->req_wire_bytes);
	ck_assert_int_eq(x->status, y->status);
	opt_str_eq(x->reason, y->reason);
	headers_eq(&x->resp_headers, &y->resp_headers);
	body_eq(&x->resp_body, &y->resp_body);
	ck_assert_uint_eq(x->resp_wire_bytes, y->resp_wire_bytes);
	if (x->diagnoses == NULL)
		ck_assert_ptr_null(y->diagnoses);
	else
		ck_assert(json_equal(x->diagnoses, y->diagnoses));
	opt_str_eq(x->answered_by, y->answered_by);
	opt_str_eq(x->error, y->error);
	opt_str_eq(x->fault, y->fault);
}

static const char *
keys_of(const json_t *o, struct buf *b)
{
	const char	*k;
	json_t		*v;

	buf_reset(b);
	json_object_foreach((json_t *)o, k, v)
		buf_printf(b, "%s ", k);
	return buf_str(b);
}

static const char *
sget(const json_t *o, const char *path)
{
	char		 key[64];
	const char	*dot;

	for (;;) {
		dot = strchr(path, '.');
		if (dot == NULL)
			return json_string_value(json_object_get(o, path));
		snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
}

START_TEST(encode_writes_har_fields_in_order)
{
	struct exchange	 x;
	struct buf	 b = { NULL, 0, 0 };
	json_t		*e, *req, *resp, *a;

	full_exchange(&x);
	e = cassette_entry_encode(&x);
	ck_assert_str_eq(keys_of(e, &b), "startedDateTime time request "
	    "response cache timings serverIPAddress ");
	req = json_object_get(e, "request");
	ck_assert_str_eq(keys_of(req, &b), "method url httpVersion cookies "
	    "headers queryString postData headersSize bodySize ");
	ck_assert_str_eq(keys_of(json_object_get(req, "postData"), &b),
	    "mimeType text ");
	ck_assert_str_eq(sget(req, "postData.mimeType"), "application/json");
	ck_assert_int_eq(json_integer_value(json_object_get(req,
	    "headersSize")), -1);
	ck_assert_int_eq(json_integer_value(json_object_get(req,
	    "bodySize")), 15);
	resp = json_object_get(e, "response");
	ck_assert_str_eq(keys_of(resp, &b), "status statusText httpVersion "
	    "cookies headers content redirectURL headersSize bodySize ");
	ck_assert_str_eq(keys_of(json_object_get(resp, "content"), &b),
	    "size mimeType text ");
	ck_assert_str_eq(sget(resp, "statusText"), "Bad Request");
	ck_assert_str_eq(sget(resp, "redirectURL"), "https://elsewhere.test/");
	ck_assert_int_eq(json_integer_value(json_object_get(
	    json_object_get(resp, "content"), "size")), 26);
	ck_assert_str_eq(keys_of(json_object_get(e, "timings"), &b),
	    "send wait receive ");
	ck_assert_int_eq(json_integer_value(json_object_get(
	    json_object_get(e, "timings"), "wait")), 84);
	ck_assert(json_real_value(json_object_get(json_object_get(e,
	    "timings"), "send")) == 0.25);
	ck_assert_uint_eq(json_object_size(json_object_get(e, "cache")), 0);
	/* Both Cookie headers, each pair. */
	a = json_object_get(req, "cookies");
	ck_assert_uint_eq(json_array_size(a), 3);
	ck_assert_str_eq(sget(json_array_get(a, 1), "name"), "b");
	ck_assert_str_eq(sget(json_array_get(a, 1), "value"), "2");
	ck_assert_str_eq(sget(json_array_get(a, 2), "name"), "c");
	/* Set-Cookie: its leading pair only. */
	a = json_object_get(resp, "cookies");
	ck_assert_uint_eq(json_array_size(a), 1);
	ck_assert_str_eq(sget(json_array_get(a, 0), "name"), "sid");
	ck_assert_str_eq(sget(json_array_get(a, 0), "value"), "xyz");
	a = json_object_get(req, "headers");
	ck_assert_uint_eq(json_array_size(a), 4);
	ck_assert_str_eq(sget(json_array_get(a, 3), "value"), "c=3");
	json_decref(e);
	exchange_free(&x);
	buf_free(&b);
}
END_TEST

START_TEST(encode_decodes_query_strings_when_utf8)
{
	struct exchange	 x;
	json_t		*e, *q;

	full_exchange(&x);
	e = cassette_entry_encode(&x);
	q = json_object_get(json_object_get(e, "request"), "queryString");
	ck_assert_uint_eq(json_array_size(q), 4);
	ck_assert_str_eq(sget(json_array_get(q, 0), "name"), "fields");
	ck_assert_str_eq(sget(json_array_get(q, 0), "value"), "actions");
	ck_assert_str_eq(sget(json_array_get(q, 1), "value"), "caf\xc3\xa9");
	/* %FF alone is not UTF-8: kept as written. */
	ck_assert_str_eq(sget(json_array_get(q, 2), "value"), "%FF");
	ck_assert_str_eq(sget(json_array_get(q, 3), "name"), "flag");
	ck_assert_str_eq(sget(json_array_get(q, 3), "value"), "");
	json_decref(e);
	exchange_free(&x);
}
END_TEST

START_TEST(encode_splits_cookies_and_skips_nameless_ones)
{
	struct exchange	 x;
	json_t		*e, *c;

	exchange_init(&x);
	x.method = xstrdup("GET");
	x.url = xstrdup("http://h.test/");
	hdr(&x.req_headers, "cookie", " ; flag ; =x; a=b=c;");
	hdr(&x.resp_headers, "Set-Cookie", "k = v ; Secure");
	hdr(&x.resp_headers, "Set-Cookie", "; Path=/");
	e = cassette_entry_encode(&x);
	c = json_object_get(json_object_get(e, "request"), "cookies");
	ck_assert_uint_eq(json_array_size(c), 2);
	ck_assert_str_eq(sget(json_array_get(c, 0), "name"), "flag");
	ck_assert_str_eq(sget(json_array_get(c, 0), "value"), "");
	ck_assert_str_eq(sget(json_array_get(c, 1), "name"), "a");
	ck_assert_str_eq(sget(json_array_get(c, 1), "value"), "b=c");
	c = json_object_get(json_object_get(e, "response"), "cookies");
	ck_assert_uint_eq(json_array_size(c), 1);
	ck_assert_str_eq(sget(json_array_get(c, 0), "name"), "k");
	ck_assert_str_eq(sget(json_array_get(c, 0), "value"), "v");
	json_decref(e);
	exchange_free(&x);
}
END_TEST

START_TEST(encode_defaults_when_fields_are_unknown)
{
	struct exchange	 x;
	struct buf	 b = { NULL, 0, 0 };
	json_t		*e, *resp;

	exchange_init(&x);
	x.method = xstrdup("GET");
	x.url = xstrdup("http://h.test/");
	x.time_ms = -5;
	e = cassette_entry_encode(&x);
	ck_assert_str_eq(sget(e, "startedDateTime"),
	    "1970-01-01T00:00:00.000Z");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "time")), 0);
	ck_assert_str_eq(sget(e, "request.httpVersion"), "HTTP/1.1");
	ck_assert_ptr_null(json_object_get(json_object_get(e, "request"),
	    "postData"));
	ck_assert_ptr_null(json_object_get(e, "serverIPAddress"));
	ck_assert_ptr_null(json_object_get(e, "_diagnoses"));
	ck_assert_ptr_null(json_object_get(e, "_answeredBy"));
	ck_assert_ptr_null(json_object_get(e, "_error"));
	resp = json_object_get(e, "response");
	ck_assert_int_eq(json_integer_value(json_object_get(resp, "status")),
	    0);
	ck_assert_str_eq(sget(resp, "statusText"), "");
	ck_assert_str_eq(sget(resp, "redirectURL"), "");
	ck_assert_str_eq(keys_of(json_object_get(resp, "content"), &b),
	    "size mimeType ");
	ck_assert_str_eq(sget(resp, "content.mimeType"), "x-unknown");
	json_decref(e);
	exchange_free(&x);
	buf_free(&b);
}
END_TEST

START_TEST(encode_replaces_invalid_utf8_in_header_text)
{
	struct exchange	 x;
	json_t		*e;
	char		*text;

	exchange_init(&x);
	x.method = xstrdup("GET");
	x.url = xstrdup("http://h.test/\xff");
	x.reason = xstrdup("B\xe9" "ad");
	hdr(&x.req_headers, "X-Latin", "caf\xe9");
	e = cassette_entry_encode(&x);
	ck_assert_str_eq(sget(e, "request.url"), "http://h.test/\xef\xbf\xbd");
	ck_assert_str_eq(sget(e, "response.statusText"), "B\xef\xbf\xbd" "ad");
	ck_assert_str_eq(sget(json_array_get(json_object_get(json_object_get(
	    e, "request"), "headers"), 0), "value"), "caf\xef\xbf\xbd");
	text = json_dumps(e, 0);
	ck_assert_ptr_nonnull(text);
	free(text);
	json_decref(e);
	exchange_free(&x);
}
END_TEST

START_TEST(round_trip_keeps_text_bodies_and_headers)
{
	struct exchange	 x, y;

	full_exchange(&x);
	round_trip(&x, &y);
	exchange_eq(&x, &y);
	exchange_free(&x);
	exchange_free(&y);
}
END_TEST

START_TEST(round_trip_keeps_binary_bodies_in_base64)
{
	static const char	 bin[] = "\x89PNG\r\n\x1a\n\0\0\xff\xfe";
	struct exchange		 x, y;
	json_t			*e;
	size_t			 n;

	/* Every length modulo 3, to cover each base64 padding. */
	for (n = 0; n < sizeof bin; n++) {
		full_exchange(&x);
		exchange_body_set(&x.resp_body, bin, n);
		exchange_body_set(&x.req_body, bin + 8, n < 4 ? n : 4);
		e = cassette_entry_encode(&x);
		if (n > 0) {
			ck_assert_str_eq(sget(e, "response.content.encoding"),
			    "base64");
		}
		if (n == 4)
			ck_assert_str_eq(sget(e, "response.content.text"),
			    "iVBORw==");
		if (n > 0)
			ck_assert_str_eq(sget(e,
			    "request.postData._encoding"), "base64");
		json_decref(e);
		round_trip(&x, &y);
		exchange_eq(&x, &y);
		exchange_free(&x);
		exchange_free(&y);
	}
}
END_TEST

START_TEST(round_trip_keeps_truncation_and_decoded_coding)
{
	struct exchange	 x, y;
	json_t		*e;

	full_exchange(&x);
	x.resp_body.truncated = 1;
	x.resp_body.size = 1 << 20;
	x.resp_body.decoded_from = xstrdup("gzip");
	x.req_body.decoded_from = xstrdup("deflate");
	x.req_body.truncated = 1;
	x.req_body.size = 99999;
	e = cassette_entry_encode(&x);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_object_get(e, "response"), "content"), "_truncated")),
	    1 << 20);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_object_get(e, "response"), "content"), "size")), 1 << 20);
	ck_assert_str_eq(sget(e, "response.content._decodedFrom"), "gzip");
	ck_assert_str_eq(sget(e, "request.postData._decodedFrom"), "deflate");
	json_decref(e);
	round_trip(&x, &y);
	exchange_eq(&x, &y);
	exchange_free(&x);
	exchange_free(&y);
}
END_TEST

START_TEST(round_trip_keeps_diagnoses_and_patchscope_answers)
{
	struct exchange	 x, y;
	json_t		*e;

	full_exchange(&x);
	x.diagnoses = json_pack("[{s:s, s:s, s:s}]", "code",
	    "actions.partial", "severity", "error", "path", "/actions");
	x.answered_by = xstrdup("patchscope");
	x.error = xstrdup("upstream_tls");
	x.fault = xstrdup("status:503:retry-after=2");
	x.status = 502;
	free(x.reason);
	x.reason = NULL;
	e = cassette_entry_encode(&x);
	/* A copy: the entry does not share the exchange's array. */
	ck_assert_ptr_ne(json_object_get(e, "_diagnoses"), x.diagnoses);
	ck_assert(json_equal(json_object_get(e, "_diagnoses"), x.diagnoses));
	ck_assert_str_eq(sget(e, "_answeredBy"), "patchscope");
	ck_assert_str_eq(sget(e, "_error"), "upstream_tls");
	ck_assert_str_eq(sget(e, "_fault"), "status:503:retry-after=2");
	json_decref(e);
	round_trip(&x, &y);
	exchange_eq(&x, &y);
	exchange_free(&x);
	exchange_free(&y);
}
END_TEST

START_TEST(round_trip_without_bodies_keeps_them_absent)
{
	struct exchange	 x, y;

	full_exchange(&x);
	exchange_body_free(&x.req_body);
	exchange_body_free(&x.resp_body);
	exchange_body_set(&x.req_body, "", 0);
	round_trip(&x, &y);
	exchange_eq(&x, &y);
	ck_assert_ptr_nonnull(y.req_body.data);
	ck_assert_ptr_null(y.resp_body.data);
	exchange_free(&x);
	exchange_free(&y);
}
END_TEST

/* Decode an entry given as JSON text; return the cause or NULL. */
static char *
decode_text(const char *text, struct exchange *x)
{
	json_error_t	 err;
	json_t		*e;
	char		*cause = NULL;
	int		 rc;

	e = json_loads(text, JSON_ALLOW_NUL, &err);
	ck_assert_msg(e != NULL, "%s: %s", text, err.text);
	exchange_init(x);
	rc = cassette_entry_decode(e, x, &cause);
	json_decref(e);
	ck_assert_int_eq(rc, cause == NULL ? 0 : -1);
	return cause;
}

#define REQ	"\"request\": {\"method\": \"GET\", " \
		"\"url\": \"http://h.test/\"}"
#define RESP	"\"response\": {\"status\": 200}"

static const struct {
	const char	*entry;
	const char	*cause;
} bad_entries[] = {
	{ "[]", "the entry is not an object" },
	{ "{" RESP "}", "request is missing" },
	{ "{" REQ "}", "response is missing" },
	{ "{\"request\": [], " RESP "}", "request is not an object" },
	{ "{\"request\": {\"url\": \"http://h/\"}, " RESP "}",
	  "request.method is missing" },
	{ "{\"request\": {\"method\": \"GE T\", \"url\": \"http://h/\"}, "
	  RESP "}", "request.method is not an HTTP token" },
	{ "{\"request\": {\"method\": 7, \"url\": \"http://h/\"}, " RESP "}",
	  "request.method is not a string" },
	{ "{\"request\": {\"method\": \"GET\"}, " RESP "}",
	  "request.url is missing" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"/v1/x\"}, " RESP "}",
	  "request.url is not an absolute http or https URL" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"ftp://h/\"}, "
	  RESP "}", "request.url is not an absolute http or https URL" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"http://h/a b\"}, "
	  RESP "}", "request.url is not an absolute http or https URL" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\\u0000\"},"
	  RESP "}", "request.url contains a NUL byte" },
	{ "{" REQ ", \"response\": {}}", "response.status is missing" },
	{ "{" REQ ", \"response\": {\"status\": \"200\"}}",
	  "response.status is not an integer" },
	{ "{" REQ ", \"response\": {\"status\": 99}}",
	  "response.status is not 0 or in 100..599" },
	{ "{" REQ ", \"response\": {\"status\": 600}}",
	  "response.status is not 0 or in 100..599" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"headers\": {}}}",
	  "response.headers is not an array" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"headers\": [1]}}",
	  "response.headers[0] is not an object" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"headers\": ["
	  "{\"name\": \"A\", \"value\": \"1\"}, {\"name\": \"B\", \"value\": "
	  "\"2\"}, {\"name\": \"C\", \"value\": 3}]}}",
	  "response.headers[2].value is not a string" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"headers\": ["
	  "{\"value\": \"1\"}]}}", "response.headers[0].name is missing" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"headers\": ["
	  "{\"name\": \"X\", \"value\": \"a\\r\\nSet-Cookie: x=1\"}]}}",
	  "response.headers[0].value contains CR or LF" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"headers\": ["
	  "{\"name\": \"X\", \"value\": \"a\\nb\"}]}}",
	  "response.headers[0].value contains CR or LF" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"headers\": ["
	  "{\"name\": \"X\", \"value\": \"a\\u0000b\"}]}}",
	  "response.headers[0].value contains a NUL byte" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	  "\"headers\": [{\"name\": \"X\\rY\", \"value\": \"1\"}]}, " RESP "}",
	  "request.headers[0].name contains CR or LF" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	  "\"headers\": [{\"name\": \"X Y\", \"value\": \"1\"}]}, " RESP "}",
	  "request.headers[0].name is not an HTTP token" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	  "\"headers\": [{\"name\": \"\", \"value\": \"1\"}]}, " RESP "}",
	  "request.headers[0].name is not an HTTP token" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"statusText\": "
	  "\"OK\\r\\nX: y\"}}", "response.statusText contains CR or LF" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	  "{\"text\": \"%%%%\", \"encoding\": \"base64\"}}}",
	  "response.content.text is not valid base64" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	  "{\"text\": \"QUJD=\", \"encoding\": \"base64\"}}}",
	  "response.content.text is not valid base64" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	  "{\"text\": \"QR==\", \"encoding\": \"base64\"}}}",
	  "response.content.text is not valid base64" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	  "{\"text\": \"QQ\", \"encoding\": \"gzip\"}}}",
	  "response.content.encoding is not \"base64\"" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	  "{\"text\": 5}}}", "response.content.text is not a string" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	  "{\"text\": \"abc\", \"_truncated\": 2}}}",
	  "response.content._truncated is less than the length of the text" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	  "{\"text\": \"abc\", \"_truncated\": \"9\"}}}",
	  "response.content._truncated is not an integer" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": []}}",
	  "response.content is not an object" },
	{ "{\"request\": {\"method\": \"POST\", \"url\": \"http://h/\", "
	  "\"postData\": {\"text\": \"!\", \"_encoding\": \"base64\"}}, "
	  RESP "}", "request.postData.text is not valid base64" },
	{ "{\"request\": {\"method\": \"POST\", \"url\": \"http://h/\", "
	  "\"postData\": \"x\"}, " RESP "}",
	  "request.postData is not an object" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	  "\"cookies\": [{\"name\": \"a\"}]}, " RESP "}",
	  "request.cookies[0].value is missing" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	  "\"queryString\": 1}, " RESP "}",
	  "request.queryString is not an array" },
	{ "{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	  "\"bodySize\": 1.5}, " RESP "}",
	  "request.bodySize is not an integer" },
	{ "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	  "{\"text\": \"a\", \"_decodedFrom\": \"gz\\u0000\"}}}",
	  "response.content._decodedFrom contains a NUL byte" },
	{ "{" REQ ", " RESP ", \"time\": \"5\"}", "time is not a number" },
	{ "{" REQ ", " RESP ", \"startedDateTime\": 0}",
	  "startedDateTime is not a string" },
	{ "{" REQ ", " RESP ", \"timings\": {\"wait\": true}}",
	  "timings.wait is not a number" },
	{ "{" REQ ", " RESP ", \"timings\": 3}", "timings is not an object" },
	{ "{" REQ ", " RESP ", \"_diagnoses\": {}}",
	  "_diagnoses is not an array" },
	{ "{" REQ ", " RESP ", \"_answeredBy\": 1}",
	  "_answeredBy is not a string" },
	{ "{" REQ ", " RESP ", \"_error\": []}", "_error is not a string" },
	{ "{" REQ ", " RESP ", \"_fault\": 503}", "_fault is not a string" },
	{ "{" REQ ", " RESP ", \"serverIPAddress\": 1}",
	  "serverIPAddress is not a string" },
};

START_TEST(decode_names_the_bad_field)
{
	struct exchange	 x;
	char		*cause;

	cause = decode_text(bad_entries[_i].entry, &x);
	ck_assert_msg(cause != NULL, "accepted: %s", bad_entries[_i].entry);
	ck_assert_str_eq(cause, bad_entries[_i].cause);
	free(cause);
	exchange_free(&x);
}
END_TEST

START_TEST(decode_accepts_minimal_entry_with_defaults)
{
	struct exchange	 x;

	ck_assert_ptr_null(decode_text("{" REQ ", " RESP "}", &x));
	ck_assert_str_eq(x.method, "GET");
	ck_assert_str_eq(x.url, "http://h.test/");
	ck_assert_int_eq(x.status, 200);
	ck_assert_ptr_null(x.started);
	ck_assert_ptr_null(x.http_version);
	ck_assert_ptr_null(x.reason);
	ck_assert_ptr_null(x.req_body.data);
	ck_assert_ptr_null(x.resp_body.data);
	ck_assert_ptr_null(x.diagnoses);
	ck_assert_uint_eq(x.req_headers.n, 0);
	ck_assert(x.time_ms == 0);
	exchange_free(&x);
}
END_TEST

START_TEST(decode_reads_devtools_shapes)
{
	struct exchange	 x;

	/* HTTP/2 pseudo-headers are skipped, "" reason is none, -1 is 0,
	   null is absent, unpadded base64 is fine. */
	ck_assert_ptr_null(decode_text("{\"request\": {\"method\": \"GET\", "
	    "\"url\": \"https://h.test/x\", \"httpVersion\": \"http/2.0\", "
	    "\"headers\": [{\"name\": \":authority\", \"value\": \"h.test\"}, "
	    "{\"name\": \"accept\", \"value\": \"*/*\"}], \"bodySize\": -1}, "
	    "\"response\": {\"status\": 0, \"statusText\": \"\", "
	    "\"content\": {\"size\": 3, \"text\": \"QUI\", \"encoding\": "
	    "\"base64\"}, \"_error\": null}, \"timings\": {\"send\": -1, "
	    "\"wait\": 2.5}, \"_error\": null, \"serverIPAddress\": null}",
	    &x));
	ck_assert_uint_eq(x.req_headers.n, 1);
	ck_assert_str_eq(x.req_headers.v[0].name, "accept");
	ck_assert_str_eq(x.http_version, "http/2.0");
	ck_assert_ptr_null(x.reason);
	ck_assert_int_eq(x.status, 0);
	ck_assert_uint_eq(x.req_wire_bytes, 0);
	ck_assert(x.send_ms == 0);
	ck_assert(x.wait_ms == 2.5);
	ck_assert_ptr_null(x.error);
	ck_assert_ptr_null(x.server_ip);
	ck_assert_uint_eq(x.resp_body.len, 2);
	ck_assert_str_eq(x.resp_body.data, "AB");
	exchange_free(&x);
}
END_TEST

START_TEST(decode_keeps_nul_bytes_of_text_bodies)
{
	struct exchange	 x;

	ck_assert_ptr_null(decode_text("{" REQ ", \"response\": {\"status\": "
	    "200, \"content\": {\"text\": \"a\\u0000b\", \"_truncated\": 10}}}",
	    &x));
	ck_assert_uint_eq(x.resp_body.len, 3);
	ck_assert_int_eq(memcmp(x.resp_body.data, "a\0b", 4), 0);
	ck_assert_int_eq(x.resp_body.truncated, 1);
	ck_assert_uint_eq(x.resp_body.size, 10);
	exchange_free(&x);
}
END_TEST

/* --- the loader ---------------------------------------------------------- */

struct got {
	struct exchange	*v[16];
	size_t		 n;
	size_t		 stop_at;	/* refuse this index (if nonzero) */
};

static int
collect_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct got	*g = arg;

	ck_assert_uint_eq(index, g->n);
	if (g->stop_at != 0 && index == g->stop_at) {
		exchange_free(x);
		*cause = xstrdup("stop here");
		return -1;
	}
	/* The storage is the loader's: move what x holds out of it. */
	ck_assert_uint_lt(g->n, 16);
	g->v[g->n] = xmalloc(sizeof *x);
	*g->v[g->n++] = *x;
	exchange_init(x);
	return 0;
}

static void
got_free(struct got *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++) {
		exchange_free(g->v[i]);
		free(g->v[i]);
	}
	g->n = 0;
}

/* Parse a document; return the cause (caller frees) or NULL. */
static char *
parse(const char *doc, size_t len, struct got *g,
    struct cassette_layout *layout)
{
	char	*cause = (char *)1;
	int	 rc;

	rc = cassette_parse(doc, len, collect_cb, g, layout, &cause);
	if (rc == 0) {
		ck_assert_ptr_null(cause);
		return NULL;
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_null(strchr(cause, '\n'));
	return cause;
}

#define ENTRY	"{" REQ ", " RESP "}"

static const struct {
	const char	*doc;
	const char	*cause;
} bad_docs[] = {
	{ "", "the file is empty" },
	{ " \n\t ", "the file is empty" },
	{ "hello", "line 1, column 1: expected a value" },
	{ "<html>", "line 1, column 1: expected a value" },
	{ "[1, 2]", "not a HAR file: the top-level value is not an object" },
	{ "[1, 2", "line 1, column 6: unexpected end of the file" },
	{ "{}", "not a HAR file: the top-level object has no \"log\"" },
	{ "{\"lag\": {\"entries\": []}}",
	  "not a HAR file: the top-level object has no \"log\"" },
	{ "{\"log\": []}", "not a HAR file: \"log\" is not an object" },
	{ "{\"log\": {\"version\": \"1.2\"}}", "log.entries is missing" },
	{ "{\"log\": {\"entries\": {}}}", "log.entries is not an array" },
	{ "{\"log\": {\"version\": 1.2, \"entries\": []}}",
	  "log.version is not a string" },
	{ "{\"log\": {\"entries\": []}, \"log\": {\"entries\": []}}",
	  "line 1, column 33: \"log\" appears twice" },
	{ "{\"log\": {\"entries\": [], \"entries\": []}}",
	  "line 1, column 36: log.entries appears twice" },
	{ "{\"log\": {\"entries\": [1]}}", "entry 0 is not an object" },
	{ "{\"log\": {\"version\": \"a\", \"version\": \"b\", "
	  "\"entries\": []}}", "line 1, column 37: log.version appears twice" },
	{ "{\"log\": {\"entries\": [" ENTRY ", {" REQ "}]}}",
	  "entry 1: response is missing" },
	{ "{\"log\": {\"entries\": [" ENTRY ", {" REQ ", \"response\": "
	  "{\"status\": 200, \"headers\": 5}}]}}",
	  "entry 1: response.headers is not an array" },
	{ "{\n  \"log\": {\n    \"entries\": [\n" ENTRY "\n    ]\n  }\n} x",
	  "line 7, column 3: unexpected text after the end of the document" },
	{ "{\"log\": {\"entries\": []}}}",
	  "line 1, column 25: unexpected text after the end of the document" },
	{ "{\n  \"log\": {\n    \"entries\": [\n  {\"request\": {\"method\": "
	  "\"GET\", \"url\"",
	  "line 4, column 38: unexpected end of the file" },
	{ "{\"log\": {\n\"entries\": [\n{\"a\": 1 \"b\": 2}]}}",
	  "line 3, column 9: expected ',' or '}'" },
	{ "{\"log\": {\"x\": [1 2], \"entries\": []}}",
	  "line 1, column 18: expected ',' or ']'" },
	{ "{\"log\" {}}", "line 1, column 8: expected ':'" },
	{ "{\"log\": {\"entries\": [], }}",
	  "line 1, column 25: expected a string (a member name)" },
	{ "{log: {}}", "line 1, column 2: expected a string (a member name)" },
	{ "{\"log\": {\"x\": tru, \"entries\": []}}",
	  "line 1, column 15: expected a value" },
	{ "{\"log\": {\"x\": 01, \"entries\": []}}",
	  "line 1, column 16: expected ',' or '}'" },
	{ "{\"log\": {\"x\": -, \"entries\": []}}",
	  "line 1, column 16: bad number" },
	{ "{\"log\": {\"x\": 1.e5, \"entries\": []}}",
	  "line 1, column 17: bad number" },
	{ "{\"log\": {\"x\": \"a\tb\", \"entries\": []}}",
	  "line 1, column 17: control character in a string (escape it)" },
	{ "{\"log\": {\"x\": \"a\\qb\", \"entries\": []}}",
	  "line 1, column 18: bad escape in a string" },
	{ "{\"log\": {\"x\": \"\\u12G4\", \"entries\": []}}",
	  "line 1, column 20: bad \\u escape in a string" },
	{ "{\"log\": {\"x\": \"\\udc00\", \"entries\": []}}",
	  "line 1, column 16: lone UTF-16 surrogate in a string" },
	{ "{\"log\": {\"x\": \"\\ud800x\", \"entries\": []}}",
	  "line 1, column 16: lone UTF-16 surrogate in a string" },
	{ "{\"log\": {\"x\": \"\\ud800\\u0041\", \"entries\": []}}",
	  "line 1, column 16: lone UTF-16 surrogate in a string" },
	/* Columns count characters: "é" is one. */
	{ "{\"log\": {\"x\": \"\xc3\xa9\xff\", \"entries\": []}}",
	  "line 1, column 17: invalid UTF-8 in a string" },
	{ "{\"log\": {\"x\": \"\xc0\xaf\", \"entries\": []}}",
	  "line 1, column 16: invalid UTF-8 in a string" },
	{ "{\"log\": {\"x\": \"\xed\xa0\x80\", \"entries\": []}}",
	  "line 1, column 16: invalid UTF-8 in a string" },
	/* Jansson's own refusals inside an entry are placed too. */
	{ "{\"log\": {\"entries\": [\n{" REQ ", " RESP ", \"time\": 1e999}"
	  "]}}",
	  "entry 0: line 2, column 98: real number overflow near '1e999'" },
};

START_TEST(parse_names_the_place_and_reason)
{
	struct got	 g = { { NULL }, 0, 0 };
	char		*cause;

	cause = parse(bad_docs[_i].doc, strlen(bad_docs[_i].doc), &g, NULL);
	ck_assert_msg(cause != NULL, "accepted: %s", bad_docs[_i].doc);
	ck_assert_str_eq(cause, bad_docs[_i].cause);
	free(cause);
	got_free(&g);
}
END_TEST

START_TEST(parse_refuses_invalid_utf8_in_entry_text)
{
	struct got	 g = { { NULL }, 0, 0 };
	char		*cause;
	static const char doc[] = "{\"log\": {\"entries\": [{" REQ ", "
	    "\"response\": {\"status\": 200, \"content\": {\"text\": "
	    "\"ok \xff\"}}}]}}";

	cause = parse(doc, sizeof doc - 1, &g, NULL);
	ck_assert_str_eq(cause, "line 1, column 130: invalid UTF-8 in a "
	    "string");
	free(cause);
	ck_assert_uint_eq(g.n, 0);
}
END_TEST

START_TEST(parse_handles_a_nul_byte_in_the_file)
{
	struct got	 g = { { NULL }, 0, 0 };
	static const char doc[] = "{\"log\": {\"entries\": []}}\0";
	char		*cause;

	cause = parse(doc, sizeof doc - 1, &g, NULL);
	ck_assert_str_eq(cause, "line 1, column 25: unexpected text after "
	    "the end of the document");
	free(cause);
	cause = parse(doc, 9, &g, NULL);
	ck_assert_str_eq(cause, "line 1, column 10: unexpected end of the "
	    "file");
	free(cause);
}
END_TEST

START_TEST(parse_refuses_a_nul_byte_escaped_with_a_backslash)
{
	struct got	 g = { { NULL }, 0, 0 };
	static const char doc[] = "{\"log\": {\"x\": \"a\\\0b\", "
	    "\"entries\": []}}";
	static const char entry[] = "{\"log\": {\"entries\": [{\"a\": "
	    "\"\\\0\"}]}}";
	char		*cause;

	cause = parse(doc, sizeof doc - 1, &g, NULL);
	ck_assert_str_eq(cause, "line 1, column 18: bad escape in a string");
	free(cause);
	cause = parse(entry, sizeof entry - 1, &g, NULL);
	ck_assert_str_eq(cause, "line 1, column 30: bad escape in a string");
	free(cause);
	ck_assert_uint_eq(g.n, 0);
}
END_TEST

/*
 * The scanner goes 8 bytes at a time through spaces and plain text: what
 * stops a run is found wherever it is in the 8, and up to the last byte.
 */
START_TEST(parse_finds_a_bad_byte_anywhere_in_a_run)
{
	static const char *const bad[] = { "\x01", "\xff", "\t" };
	static const char *const why[] = {
		"control character in a string (escape it)",
		"invalid UTF-8 in a string",
		"control character in a string (escape it)",
	};
	struct got	 g = { { NULL }, 0, 0 };
	struct buf	 b = { NULL, 0, 0 };
	char		*cause, *want;
	size_t		 k, i;

	for (k = 0; k < 20; k++) {
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			buf_reset(&b);
			buf_printf(&b, "{\"log\": {\"x\": \"%.*s%s\", "
			    "\"entries\": []}}", (int)k,
			    "aaaaaaaaaaaaaaaaaaaaaaaa", bad[i]);
			cause = parse(b.data, b.len, &g, NULL);
			want = xasprintf("line 1, column %zu: %s", 16 + k,
			    why[i]);
			ck_assert_str_eq(cause, want);
			free(want);
			free(cause);
		}
		/* Spaces, then the end of the file. */
		buf_reset(&b);
		buf_printf(&b, "{\"log\": {\"entries\": []}%*s", (int)k, "");
		cause = parse(b.data, b.len, &g, NULL);
		want = xasprintf("line 1, column %zu: unexpected end of the "
		    "file", 24 + k);
		ck_assert_str_eq(cause, want);
		free(want);
		free(cause);
		/* Unfinished: the string runs to the end of the file. */
		buf_reset(&b);
		buf_printf(&b, "{\"log\": {\"x\": \"%.*s", (int)k,
		    "aaaaaaaaaaaaaaaaaaaaaaaa");
		cause = parse(b.data, b.len, &g, NULL);
		want = xasprintf("line 1, column %zu: unexpected end of the "
		    "file", 16 + k);
		ck_assert_str_eq(cause, want);
		free(want);
		free(cause);
	}
	ck_assert_uint_eq(g.n, 0);
	buf_free(&b);
}
END_TEST

/* A document nested depth levels deep: {"log": {"x": [[...]], ...}}. */
static char *
nested(int depth, size_t *len)
{
	struct buf	 b = { NULL, 0, 0 };
	int		 i;

	buf_adds(&b, "{\"log\": {\"x\": ");
	for (i = 2; i < depth; i++)
		buf_adds(&b, "[");
	for (i = 2; i < depth; i++)
		buf_adds(&b, "]");
	buf_adds(&b, ", \"entries\": []}}");
	*len = b.len;
	return b.data;
}

START_TEST(parse_refuses_nesting_past_the_limit)
{
	struct got	 g = { { NULL }, 0, 0 };
	char		*doc, *cause;
	size_t		 len;

	doc = nested(CASSETTE_MAX_DEPTH, &len);
	ck_assert_ptr_null(parse(doc, len, &g, NULL));
	free(doc);
	doc = nested(CASSETTE_MAX_DEPTH + 1, &len);
	cause = parse(doc, len, &g, NULL);
	ck_assert_str_eq(cause, "line 1, column 77: nested deeper than 64 "
	    "levels");
	free(cause);
	free(doc);
	/* Inside an entry too, before jansson sees it. */
	doc = xasprintf("{\"log\": {\"entries\": [{\"a\": %s1%s}]}}",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	cause = parse(doc, strlen(doc), &g, NULL);
	ck_assert_str_eq(cause, "line 1, column 88: nested deeper than 64 "
	    "levels");
	free(cause);
	free(doc);
}
END_TEST

START_TEST(parse_takes_a_1mib_body)
{
	struct got	 g = { { NULL }, 0, 0 };
	struct buf	 b = { NULL, 0, 0 };
	char		*big;
	size_t		 n = 1 << 20;

	big = xmalloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	big[10] = '\xc3';
	big[11] = '\xa9';
	buf_printf(&b, "{\"log\": {\"entries\": [{" REQ ", \"response\": "
	    "{\"status\": 200, \"content\": {\"text\": \"%s\"}}}]}}", big);
	ck_assert_ptr_null(parse(b.data, b.len, &g, NULL));
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.v[0]->resp_body.len, n);
	ck_assert_int_eq(memcmp(g.v[0]->resp_body.data, big, n), 0);
	got_free(&g);
	buf_free(&b);
	free(big);
}
END_TEST

START_TEST(parse_stops_when_the_callback_refuses)
{
	struct got	 g = { { NULL }, 0, 1 };
	char		*cause;
	static const char doc[] = "{\"log\": {\"entries\": [" ENTRY ", "
	    ENTRY ", " ENTRY "]}}";

	cause = parse(doc, sizeof doc - 1, &g, NULL);
	ck_assert_str_eq(cause, "stop here");
	ck_assert_uint_eq(g.n, 1);
	free(cause);
	got_free(&g);
	/* With no callback the entries are only checked. */
	ck_assert_int_eq(cassette_parse(doc, sizeof doc - 1, NULL, NULL,
	    NULL, &cause), 0);
	ck_assert_ptr_null(cause);
}
END_TEST

static int
refuse_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	(void)index;
	(void)arg;
	(void)cause;
	exchange_free(x);
	return -1;
}

START_TEST(parse_names_the_entry_a_silent_callback_refused)
{
	static const char doc[] = "{\"log\": {\"entries\": [" ENTRY "]}}";
	char		*cause;

	ck_assert_int_eq(cassette_parse(doc, sizeof doc - 1, refuse_cb, NULL,
	    NULL, &cause), -1);
	ck_assert_str_eq(cause, "entry 0: refused");
	free(cause);
}
END_TEST

START_TEST(parse_finds_where_entries_go)
{
	struct got		 g = { { NULL }, 0, 0 };
	struct cassette_layout	 l;
	static const char	 empty[] = "\xef\xbb\xbf{\"log\": "
	    "{\"creator\": {}, \"entries\" : [ \n ], \"pages\": []}}\n";
	static const char	 two[] = "{\"log\": {\"entries\": [" ENTRY
	    " ,\n" ENTRY "  ], \"version\": \"x\"}}";

	ck_assert_ptr_null(parse(empty, sizeof empty - 1, &g, &l));
	ck_assert_uint_eq(l.nentries, 0);
	ck_assert_int_eq(empty[l.insert_at - 1], '[');
	ck_assert_ptr_null(parse(two, sizeof two - 1, &g, &l));
	ck_assert_uint_eq(l.nentries, 2);
	ck_assert_str_eq(two + l.insert_at, "  ], \"version\": \"x\"}}");
	ck_assert_uint_eq(g.n, 2);
	got_free(&g);
}
END_TEST

START_TEST(empty_cassette_is_exact)
{
	struct buf		 b = { NULL, 0, 0 };
	struct cassette_layout	 l = { .insert_at = 99, .nentries = 99 };
	struct got		 g = { { NULL }, 0, 0 };

	cassette_empty(&b, "0.3.1", &l);
	ck_assert_str_eq(buf_str(&b), "{\n  \"log\": {\n    \"version\": "
	    "\"1.2\",\n    \"creator\": {\n      \"name\": \"patchscope\",\n"
	    "      \"version\": \"0.3.1\"\n    },\n    \"entries\": [\n    ]\n"
	    "  }\n}\n");
	ck_assert_uint_eq(l.nentries, 0);
	ck_assert_int_eq(b.data[l.insert_at - 1], '[');
	ck_assert_ptr_null(parse(b.data, b.len, &g, NULL));
	/* A version with quotes, controls or bad bytes stays one string. */
	buf_reset(&b);
	cassette_empty(&b, "1\"2\n\xff", &l);
	ck_assert_ptr_nonnull(strstr(buf_str(&b),
	    "\"version\": \"1\\\"2\\n\xef\xbf\xbd\"\n"));
	ck_assert_ptr_null(parse(b.data, b.len, &g, NULL));
	buf_free(&b);
}
END_TEST

START_TEST(entry_text_is_indented_without_trailing_newline)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*e;
	const char	*p;

	e = json_pack("{s:i, s:[i]}", "a", 1, "b", 2);
	cassette_entry_text(e, 1, &b);
	ck_assert_str_eq(buf_str(&b), "\n      {\n        \"a\": 1,\n"
	    "        \"b\": [\n          2\n        ]\n      }");
	buf_reset(&b);
	cassette_entry_text(e, 0, &b);
	ck_assert_int_eq(strncmp(buf_str(&b), ",\n      {\n", 10), 0);
	for (p = strchr(b.data + 2, '\n'); p != NULL; p = strchr(p + 1, '\n'))
		ck_assert_int_eq(strncmp(p + 1, "      ", 6), 0);
	ck_assert_int_ne(b.data[b.len - 1], '\n');
	json_decref(e);
	buf_free(&b);
}
END_TEST

/* Insert n entries (status 200 + base) into doc at l->insert_at. */
static void
insert_entries(struct buf *doc, struct cassette_layout *l, int base, int n)
{
	struct buf	 out = { NULL, 0, 0 };
	struct exchange	 x;
	json_t		*e;
	int		 i;

	buf_add(&out, doc->data, l->insert_at);
	for (i = 0; i < n; i++) {
		full_exchange(&x);
		x.status = 200 + base + i;
		if (i == 1)
			exchange_body_set(&x.resp_body, "\0\x01\xff", 3);
		e = cassette_entry_encode(&x);
		cassette_entry_text(e, l->nentries == 0 && i == 0, &out);
		json_decref(e);
		exchange_free(&x);
	}
	buf_add(&out, doc->data + l->insert_at, doc->len - l->insert_at);
	buf_free(doc);
	*doc = out;
}

START_TEST(appended_entries_parse_back_in_order)
{
	struct buf		 doc = { NULL, 0, 0 };
	struct cassette_layout	 l, l2;
	struct got		 g = { { NULL }, 0, 0 };
	size_t			 i;

	cassette_empty(&doc, "test", &l);
	insert_entries(&doc, &l, 0, 3);
	ck_assert_ptr_null(parse(doc.data, doc.len, &g, &l2));
	ck_assert_uint_eq(l2.nentries, 3);
	ck_assert_uint_eq(g.n, 3);
	got_free(&g);
	insert_entries(&doc, &l2, 3, 2);
	ck_assert_ptr_null(parse(doc.data, doc.len, &g, &l));
	ck_assert_uint_eq(l.nentries, 5);
	ck_assert_uint_eq(g.n, 5);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(g.v[i]->status, 200 + (int)i);
	ck_assert_uint_eq(g.v[4]->resp_body.len, 3);
	ck_assert_int_eq(memcmp(g.v[4]->resp_body.data, "\0\x01\xff", 3), 0);
	ck_assert_str_eq(g.v[0]->url, "https://api.example.test:8443/v1/a/"
	    "profiles/p?fields=actions&q=caf%C3%A9&raw=%FF&flag");
	/* The file stays in the shape cassette_empty gave it. */
	ck_assert_str_eq(doc.data + doc.len - 13, "\n    ]\n  }\n}\n");
	ck_assert_ptr_nonnull(strstr(doc.data, "\"entries\": [\n      {\n"
	    "        \"startedDateTime\""));
	got_free(&g);
	buf_free(&doc);
}
END_TEST

/* Read a whole file (plus a NUL); the caller frees. */
static char *
read_path(const char *path, size_t *len)
{
	char	*data;
	FILE	*f;
	long	 n;

	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	data = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

static char *
read_data(const char *name, size_t *len)
{
	char	*path, *data;

	path = xasprintf("%s/tests/data/cassette/%s", srcdir(), name);
	data = read_path(path, len);
	free(path);
	return data;
}

START_TEST(devtools_export_loads)
{
	struct got		 g = { { NULL }, 0, 0 };
	struct cassette_layout	 l;
	struct exchange		*x;
	char			*data;
	size_t			 len;

	data = read_data("chrome-two-entries.har", &len);
	ck_assert_ptr_null(parse(data, len, &g, &l));
	ck_assert_uint_eq(l.nentries, 2);
	ck_assert_int_eq(data[l.insert_at - 1], '}');
	ck_assert_uint_eq(g.n, 2);
	x = g.v[0];
	ck_assert_str_eq(x->method, "PATCH");
	ck_assert_str_eq(x->url, "https://api.example.test/v1/acc-1/profiles/"
	    "p-7?fields=actions");
	ck_assert_uint_eq(x->req_headers.n, 3);
	ck_assert_str_eq(x->req_headers.v[0].name, "accept");
	ck_assert_int_eq(x->status, 400);
	ck_assert_ptr_null(x->reason);
	ck_assert_str_eq(x->server_ip, "[2001:db8::7]");
	ck_assert_ptr_nonnull(strstr(x->req_body.data, "BOOKING_CANCELED"));
	ck_assert_ptr_nonnull(strstr(x->resp_body.data,
	    "caligraph_invalid_payload"));
	ck_assert(x->wait_ms == 84.9);
	ck_assert_uint_eq(x->req_wire_bytes, 72);
	x = g.v[1];
	ck_assert_uint_eq(x->resp_body.len, 6);
	ck_assert_int_eq(memcmp(x->resp_body.data, "\0\0\1\0\xff\0", 6), 0);
	got_free(&g);
	free(data);
}
END_TEST

/* --- the fast decoder against json_loadb and cassette_entry_decode ------- */

/* Allocations jansson made since the count was last reset. */
static size_t	json_allocs;

static void *
count_malloc(size_t n)
{
	json_allocs++;
	return malloc(n);
}

static void
count_free(void *p)
{
	free(p);
}

static int
differs(const char **field, const char *name)
{
	*field = name;
	return 0;
}

static int
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Numbers are equal bit for bit: -0 is not 0. */
static int
ms_equal(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static int
body_equal(const struct exchange_body *a, const struct exchange_body *b)
{
	if ((a->data == NULL) != (b->data == NULL) || a->len != b->len ||
	    a->size != b->size || a->truncated != b->truncated ||
	    !str_equal(a->decoded_from, b->decoded_from))
		return 0;
	/* The NUL after the bytes too. */
	return a->data == NULL || memcmp(a->data, b->data, a->len + 1) == 0;
}

/*
 * Return nonzero when a and b hold the same exchange, field for field;
 * else set *field to the name of the first one that differs.
 */
static int
exchange_equal(const struct exchange *a, const struct exchange *b,
    const char **field)
{
	if (!str_equal(a->started, b->started))
		return differs(field, "started");
	if (!ms_equal(a->time_ms, b->time_ms))
		return differs(field, "time_ms");
	if (!ms_equal(a->send_ms, b->send_ms))
		return differs(field, "send_ms");
	if (!ms_equal(a->wait_ms, b->wait_ms))
		return differs(field, "wait_ms");
	if (!ms_equal(a->receive_ms, b->receive_ms))
		return differs(field, "receive_ms");
	if (!str_equal(a->server_ip, b->server_ip))
		return differs(field, "server_ip");
	if (!str_equal(a->method, b->method))
		return differs(field, "method");
	if (!str_equal(a->url, b->url))
		return differs(field, "url");
	if (!str_equal(a->http_version, b->http_version))
		return differs(field, "http_version");
	if (!http_headers_equal(&a->req_headers, &b->req_headers))
		return differs(field, "req_headers");
	if (!body_equal(&a->req_body, &b->req_body))
		return differs(field, "req_body");
	if (a->req_wire_bytes != b->req_wire_bytes)
		return differs(field, "req_wire_bytes");
	if (a->status != b->status)
		return differs(field, "status");
	if (!str_equal(a->reason, b->reason))
		return differs(field, "reason");
	if (!http_headers_equal(&a->resp_headers, &b->resp_headers))
		return differs(field, "resp_headers");
	if (!body_equal(&a->resp_body, &b->resp_body))
		return differs(field, "resp_body");
	if (a->resp_wire_bytes != b->resp_wire_bytes)
		return differs(field, "resp_wire_bytes");
	if ((a->diagnoses == NULL) != (b->diagnoses == NULL) ||
	    (a->diagnoses != NULL && !json_equal(a->diagnoses, b->diagnoses)))
		return differs(field, "diagnoses");
	if (!str_equal(a->answered_by, b->answered_by))
		return differs(field, "answered_by");
	if (!str_equal(a->error, b->error))
		return differs(field, "error");
	if (!str_equal(a->fault, b->fault))
		return differs(field, "fault");
	return 1;
}

/* Which way the loader is expected to decode an entry. */
enum way {
	WAY_FAST,	/* the fast decoder: no tree of the entry */
	WAY_SLOW	/* json_loadb and cassette_entry_decode */
};

/*
 * Decode the text of an entry with json_loadb and cassette_entry_decode,
 * then load it as the only entry of a cassette: both must give the same
 * exchange, or the loader the same error, and the loader must have gone
 * the expected way (told by what jansson allocated).
 */
static void
both_ways(const char *text, size_t len, enum way way)
{
	struct got	 g = { { NULL }, 0, 0 };
	struct buf	 doc = { NULL, 0, 0 };
	struct exchange	 slow;
	json_error_t	 err;
	json_t		*e, *d;
	const char	*field = "";
	char		*slow_cause = NULL, *cause, *want;
	size_t		 load_allocs, parse_allocs;
	int		 diagnoses = 0;

	json_set_alloc_funcs(count_malloc, count_free);
	exchange_init(&slow);
	json_allocs = 0;
	e = json_loadb(text, len, JSON_ALLOW_NUL, &err);
	load_allocs = json_allocs;
	if (e != NULL) {
		d = json_object_get(e, "_diagnoses");
		diagnoses = d != NULL && !json_is_null(d);
		cassette_entry_decode(e, &slow, &slow_cause);
		json_decref(e);
	}
	buf_adds(&doc, "{\"log\": {\"entries\": [");
	buf_add(&doc, text, len);
	buf_adds(&doc, "]}}");
	json_allocs = 0;
	cause = parse(doc.data, doc.len, &g, NULL);
	parse_allocs = json_allocs;
	if (e == NULL) {
		/* jansson's own refusal, placed in the file. */
		ck_assert_msg(cause != NULL, "accepted: %.200s", text);
		ck_assert_msg(strncmp(cause, "entry 0: line ", 14) == 0 &&
		    strlen(cause) > strlen(err.text) && strcmp(cause +
		    strlen(cause) - strlen(err.text), err.text) == 0,
		    "%s: %s", cause, err.text);
	} else if (slow_cause != NULL) {
		want = xasprintf("entry 0: %s", slow_cause);
		ck_assert_msg(cause != NULL, "accepted: %.200s", text);
		ck_assert_str_eq(cause, want);
		free(want);
	} else {
		ck_assert_msg(cause == NULL, "%s: %.200s", cause, text);
		ck_assert_uint_eq(g.n, 1);
		ck_assert_msg(exchange_equal(&slow, g.v[0], &field),
		    "%s differs: %.200s", field, text);
	}
	if (way == WAY_SLOW)
		ck_assert_msg(parse_allocs >= load_allocs, "not deferred "
		    "(%zu < %zu): %.200s", parse_allocs, load_allocs, text);
	else if (!diagnoses)
		ck_assert_msg(parse_allocs == 0, "deferred (%zu): %.200s",
		    parse_allocs, text);
	else
		ck_assert_msg(parse_allocs > 0 && parse_allocs < load_allocs,
		    "deferred (%zu >= %zu): %.200s", parse_allocs,
		    load_allocs, text);
	free(slow_cause);
	free(cause);
	exchange_free(&slow);
	got_free(&g);
	buf_free(&doc);
}

/* Entries the fast decoder reads itself. */
static const char *const fast_entries[] = {
	"{" REQ ", " RESP "}",
	/* Every escape, in names and values. */
	"{\"request\": {\"method\": \"G\\u0045T\", \"url\": \"https:\\/\\/"
	"h.test\\/a?q=caf\\u00e9&x=\\ud83d\\ude00\", \"httpVersion\": "
	"\"HTTP\\/1.1\", \"headers\": [{\"name\": \"X-\\u0041\", \"value\": "
	"\"\\\"q\\\" \\\\ \\/ \\t \\u20ac \\ud834\\udd1e\"}]}, \"response\": "
	"{\"status\": 200, \"statusText\": \"O\\u004b\", \"content\": "
	"{\"text\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u0001\\u007f\\u0080"
	"\\u07ff\\u0800\\uffff\\ud800\\udc00\\udbff\\udfff end\"}}}",
	"{\"\\u0072equest\": {\"m\\u0065thod\": \"GET\", \"url\": "
	"\"http://h/\"}, \"resp\\u006fnse\": {\"st\\u0061tus\": 204}, "
	"\"\\u00e9t\\u00e9\": 1}",
	/* Raw UTF-8 and a NUL in a body. */
	"{" REQ ", \"response\": {\"status\": 200, \"statusText\": "
	"\"Gr\xc3\xbc\xc3\x9f \xf0\x9f\x98\x80\", \"content\": {\"text\": "
	"\"a\\u0000b\xe2\x82\xac\"}}}",
	/* base64, padded or not, on both sides. */
	"{\"request\": {\"method\": \"POST\", \"url\": \"http://h/\", "
	"\"postData\": {\"mimeType\": \"image/png\", \"text\": \"AAE\", "
	"\"_encoding\": \"base64\"}}, \"response\": {\"status\": 200, "
	"\"content\": {\"size\": 4, \"text\": \"AAEC/w==\", \"encoding\": "
	"\"base64\"}}}",
	/* "encoding" is no key of postData, nor "_encoding" of content. */
	"{\"request\": {\"method\": \"POST\", \"url\": \"http://h/\", "
	"\"postData\": {\"text\": \"!\", \"encoding\": \"base64\"}}, "
	"\"response\": {\"status\": 200, \"content\": {\"text\": \"!\", "
	"\"_encoding\": 5}}}",
	/* Truncation and the coding a body had. */
	"{\"request\": {\"method\": \"POST\", \"url\": \"http://h/\", "
	"\"postData\": {\"text\": \"\", \"_truncated\": 0, \"_decodedFrom\": "
	"\"br\"}}, \"response\": {\"status\": 200, \"content\": {\"size\": "
	"1000, \"mimeType\": \"text/plain\", \"text\": \"abc\", "
	"\"_truncated\": 1000, \"_decodedFrom\": \"gzip\"}}}",
	/* Without text a response has no body: the rest is not looked at. */
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"encoding\": "
	"\"gzip\", \"_decodedFrom\": \"x\\u0000\", \"_truncated\": -5, "
	"\"size\": 3}}}",
	/* Without text a request has an empty one. */
	"{\"request\": {\"method\": \"POST\", \"url\": \"http://h/\", "
	"\"postData\": {\"mimeType\": \"application/json\"}}, " RESP "}",
	/* Cookies and query pairs: only NUL is refused there. */
	"{\"request\": {\"method\": \"GET\", \"url\": \"http://h/?q=1\", "
	"\"cookies\": [{\"name\": \"a\", \"value\": \"1\\r\\n2\", \"path\": "
	"\"/\", \"httpOnly\": true, \"expires\": null}], \"queryString\": "
	"[{\"name\": \"q\", \"value\": \"caf\\u00e9\"}]}, \"response\": "
	"{\"status\": 200, \"cookies\": [{\"name\": \"s\", \"value\": "
	"\"x\\ny\"}]}}",
	/* Pseudo-headers are not fields; their text is still checked. */
	"{\"request\": {\"method\": \"GET\", \"url\": \"https://h/\", "
	"\"headers\": [{\"name\": \":authority\", \"value\": \"h\"}, "
	"{\"name\": \"accept\", \"value\": \"*/*\", \"comment\": \"\"}]}, "
	"\"response\": {\"status\": 200, \"headers\": [{\"name\": "
	"\":status\", \"value\": \"200\"}, {\"name\": \"a\", \"value\": "
	"\"\"}, {\"name\": \"a\", \"value\": \"2\"}]}}",
	/* Numbers as jansson reads them. */
	"{" REQ ", \"response\": {\"status\": -0, \"bodySize\": -1, "
	"\"headersSize\": -9223372036854775808, \"content\": {\"size\": "
	"9223372036854775807, \"text\": \"\"}}, \"time\": 1e2, \"timings\": "
	"{\"send\": -0.0, \"wait\": 1E-400, \"receive\": 2.5e+3, "
	"\"blocked\": -1, \"ssl\": 0.123456789012345678901234567890}}",
	"{" REQ ", " RESP ", \"time\": 12345678901234567, \"timings\": "
	"{\"send\": 0.1, \"wait\": 1.7976931348623157e308, \"receive\": "
	"4.9e-324}}",
	"{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	"\"bodySize\": 9223372036854775807}, \"response\": {\"status\": 599, "
	"\"bodySize\": 12}}",
	"{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	"\"bodySize\": -5}, \"response\": {\"status\": 100, \"bodySize\": "
	"-9223372036854775808}}",
	/* null is absent wherever a member is optional. */
	"{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	"\"httpVersion\": null, \"cookies\": null, \"headers\": null, "
	"\"queryString\": null, \"postData\": null, \"headersSize\": null, "
	"\"bodySize\": null}, \"response\": {\"status\": 0, \"statusText\": "
	"null, \"httpVersion\": null, \"cookies\": null, \"headers\": null, "
	"\"content\": {\"size\": null, \"mimeType\": null, \"text\": null, "
	"\"encoding\": null, \"_truncated\": null, \"_decodedFrom\": null}, "
	"\"redirectURL\": null, \"headersSize\": null, \"bodySize\": null}, "
	"\"startedDateTime\": null, \"time\": null, \"cache\": null, "
	"\"timings\": {\"send\": null, \"wait\": null, \"receive\": null}, "
	"\"serverIPAddress\": null, \"_diagnoses\": null, \"_answeredBy\": "
	"null, \"_error\": null, \"_fault\": null}",
	"{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	"\"postData\": {\"text\": null, \"_encoding\": null}}, " RESP ", "
	"\"timings\": null}",
	/* The response first; the request's version wins. */
	"{\"response\": {\"httpVersion\": \"HTTP/2\", \"status\": 200, "
	"\"statusText\": \"\"}, \"request\": {\"url\": \"http://h/\", "
	"\"method\": \"GET\", \"httpVersion\": \"HTTP/1.0\"}}",
	"{\"response\": {\"httpVersion\": \"HTTP/2\", \"status\": 200}, "
	REQ "}",
	/* Members nobody reads, of every kind, twice even. */
	"{\"pageref\": \"p\", \"_x\": {\"a\": [1, -2.5e10, true, false, null, "
	"{\"b\\u00e9\": \"c\", \"\": {}}, []], \"a\": 2}, \"connection\": "
	"\"443\", \"_transferSize\": 12345678901234567890.5, \"_e\": 1e-400, "
	"\"_e\": 1E+300, " REQ ", \"cache\": {\"beforeRequest\": {\"x\": "
	"[1, 2]}}, " RESP "}",
	/* Everything patchscope writes. */
	"{\"startedDateTime\": \"2024-05-02T09:14:03.402Z\", \"time\": 87.5, "
	"\"request\": {\"method\": \"PATCH\", \"url\": \"https://h/p\", "
	"\"httpVersion\": \"HTTP/1.1\", \"cookies\": [], \"headers\": [], "
	"\"queryString\": [], \"headersSize\": -1, \"bodySize\": 0}, "
	"\"response\": {\"status\": 502, \"statusText\": \"Bad Gateway\", "
	"\"httpVersion\": \"HTTP/1.1\", \"cookies\": [], \"headers\": [], "
	"\"content\": {\"size\": 0, \"mimeType\": \"x-unknown\"}, "
	"\"redirectURL\": \"\", \"headersSize\": -1, \"bodySize\": 0}, "
	"\"cache\": {}, \"timings\": {\"send\": 0, \"wait\": 84, "
	"\"receive\": 3.25}, \"serverIPAddress\": \"203.0.113.9\", "
	"\"_diagnoses\": [{\"code\": \"actions.partial\", \"n\": 1.5e3, "
	"\"m\": \"\\u00e9\\u0000\", \"k\": {\"a\": 1, \"a\": [null]}}], "
	"\"_answeredBy\": \"patchscope\", \"_error\": \"upstream_tls\", "
	"\"_fault\": \"drop-response\"}",
	/* Whitespace anywhere it may be. */
	"{ \t\r\n\"request\" \n: {\"method\":\"GET\" ,\"url\"\t:\"http://h/\" "
	"}\n,\n\"response\":{ \"status\" : 200 ,\"headers\" : [ { \"name\" "
	": \"a\" , \"value\" : \"b\" } ] } \n}",
};

/* Entries it leaves to json_loadb and cassette_entry_decode. */
static const char *const slow_entries[] = {
	/* Numbers that are not integers, or that jansson refuses. */
	"{" REQ ", \"response\": {\"status\": 1e2}}",
	"{" REQ ", \"response\": {\"status\": 200.0}}",
	"{" REQ ", \"response\": {\"status\": \"200\"}}",
	"{" REQ ", \"response\": {\"status\": null}}",
	"{" REQ ", \"response\": {\"status\": 99999999999999999999}}",
	"{" REQ ", \"response\": {\"status\": 600}}",
	"{" REQ ", " RESP ", \"time\": 1e999}",
	"{" REQ ", " RESP ", \"x\": -9223372036854775809}",
	"{" REQ ", " RESP ", \"cache\": {\"x\": [1e400]}}",
	"{" REQ ", \"response\": {\"status\": 200, \"bodySize\": 1.0}}",
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"text\": "
	"\"abc\", \"_truncated\": 2.5}}}",
	/* A member twice: jansson keeps the last. */
	"{\"request\": {\"method\": \"POST\", \"method\": \"GET\", \"url\": "
	"\"http://h/\"}, " RESP "}",
	"{" REQ ", " RESP ", \"request\": {\"method\": \"PUT\", \"url\": "
	"\"http://i/\"}}",
	"{" REQ ", \"response\": {\"status\": 200, \"headers\": [{\"name\": "
	"\"a\", \"value\": \"1\", \"value\": \"2\"}]}}",
	"{" REQ ", \"response\": {\"st\\u0061tus\": 201, \"status\": 200}}",
	/* Names with NUL: jansson refuses them anywhere. */
	"{" REQ ", " RESP ", \"a\\u0000b\": 1}",
	"{" REQ ", " RESP ", \"cache\": {\"\\u0000\": 1}}",
	"{" REQ ", " RESP ", \"_diagnoses\": [{\"\\u0000\": 1}]}",
	/* What cassette_entry_decode refuses. */
	"{" REQ ", \"response\": {\"status\": 200, \"headers\": [{\"name\": "
	"\"X\", \"value\": \"a\\r\\nb\"}]}}",
	"{" REQ ", \"response\": {\"status\": 200, \"headers\": [{\"name\": "
	"\"X\\u0000\", \"value\": \"a\"}]}}",
	"{" REQ ", \"response\": {\"status\": 200, \"headers\": [{\"name\": "
	"\"\", \"value\": \"a\"}]}}",
	"{" REQ ", \"response\": {\"status\": 200, \"headers\": [null]}}",
	"{" REQ ", \"response\": {\"status\": 200, \"cookies\": [{\"name\": "
	"\"a\", \"value\": \"\\u0000\"}]}}",
	"{\"request\": {\"method\": \"G T\", \"url\": \"http://h/\"}, " RESP
	"}",
	"{\"request\": {\"method\": \"GET\", \"url\": \"h/\"}, " RESP "}",
	"{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\\n\"}, "
	RESP "}",
	"{\"request\": null, " RESP "}",
	"{\"request\": {\"method\": \"GET\", \"url\": \"http://h/\", "
	"\"httpVersion\": \"1\\r\"}, " RESP "}",
	"{" REQ "}",
	"{" REQ ", \"response\": {\"status\": 200, \"statusText\": \"a\\nb\"}}",
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"text\": "
	"\"QUJD=\", \"encoding\": \"base64\"}}}",
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"text\": "
	"\"QQ\", \"encoding\": \"gzip\"}}}",
	/* strcmp stops at the NUL: jansson's way takes it as base64. */
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"text\": "
	"\"QQ\", \"encoding\": \"base64\\u0000x\"}}}",
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"text\": "
	"\"abc\", \"_truncated\": 2}}}",
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"text\": "
	"\"a\", \"_decodedFrom\": \"g\\u0000\"}}}",
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"text\": "
	"\"a\", \"mimeType\": \"t\\u0000\"}}}",
	"{" REQ ", \"response\": {\"status\": 200, \"content\": {\"size\": "
	"\"1\"}}}",
	"{" REQ ", \"response\": {\"status\": 200, \"content\": []}}",
	"{" REQ ", \"response\": {\"status\": 200, \"redirectURL\": "
	"\"\\u0000\"}}",
	"{\"request\": {\"method\": \"POST\", \"url\": \"http://h/\", "
	"\"postData\": {\"_decodedFrom\": \"g\\u0000\"}}, " RESP "}",
	"{" REQ ", " RESP ", \"startedDateTime\": \"\\u0000\"}",
	"{" REQ ", " RESP ", \"time\": \"5\"}",
	"{" REQ ", " RESP ", \"cache\": []}",
	"{" REQ ", " RESP ", \"timings\": {\"wait\": true}}",
	"{" REQ ", " RESP ", \"_diagnoses\": {}}",
	"{" REQ ", " RESP ", \"_diagnoses\": [1e999]}",
	"{" REQ ", " RESP ", \"_answeredBy\": 1}",
	"{" REQ ", " RESP ", \"_error\": \"a\\u0000\"}",
	"{" REQ ", " RESP ", \"serverIPAddress\": false}",
};

START_TEST(fast_decoder_reads_entries_as_jansson_does)
{
	both_ways(fast_entries[_i], strlen(fast_entries[_i]), WAY_FAST);
}
END_TEST

START_TEST(fast_decoder_leaves_what_it_is_unsure_of)
{
	both_ways(slow_entries[_i], strlen(slow_entries[_i]), WAY_SLOW);
}
END_TEST

START_TEST(fast_decoder_unescapes_to_utf8)
{
	struct got	 g = { { NULL }, 0, 0 };
	static const char doc[] = "{\"log\": {\"entries\": [{" REQ ", "
	    "\"response\": {\"status\": 200, \"headers\": [{\"name\": \"X\", "
	    "\"value\": \"\\u00e9\\u20ac\\ud83d\\ude00\\t\\/\"}], \"content\": "
	    "{\"text\": \"\\u0000\\\"\"}}}]}}";

	json_set_alloc_funcs(count_malloc, count_free);
	json_allocs = 0;
	ck_assert_ptr_null(parse(doc, sizeof doc - 1, &g, NULL));
	ck_assert_uint_eq(json_allocs, 0);
	ck_assert_str_eq(g.v[0]->resp_headers.v[0].value,
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\t/");
	ck_assert_uint_eq(g.v[0]->resp_body.len, 2);
	ck_assert_int_eq(memcmp(g.v[0]->resp_body.data, "\0\"", 3), 0);
	got_free(&g);
}
END_TEST

START_TEST(fast_decoder_finds_quotes_anywhere_in_a_run)
{
	struct buf	 b = { NULL, 0, 0 };
	size_t		 k;

	for (k = 0; k < 20; k++) {
		buf_reset(&b);
		buf_printf(&b, "{" REQ ", \"response\": {\"status\": 200, "
		    "\"headers\": [{\"name\": \"%.*sX\", \"value\": "
		    "\"%.*s\\\"%.*s\\\\\"}], \"content\": {\"text\": "
		    "\"%.*s\\u00e9\xc3\xa9\"}}}", (int)(k % 8 + 1),
		    "XXXXXXXXXXXXXXXXXXXXXXXX", (int)k,
		    "vvvvvvvvvvvvvvvvvvvvvvvv", (int)(20 - k),
		    "wwwwwwwwwwwwwwwwwwwwwwww", (int)k,
		    "tttttttttttttttttttttttt");
		both_ways(b.data, b.len, WAY_FAST);
	}
	buf_free(&b);
}
END_TEST

START_TEST(fast_decoder_takes_huge_strings)
{
	struct buf	 b = { NULL, 0, 0 };
	size_t		 i;

	/* A 1 MiB body with escapes, a header past the kept scratch. */
	buf_adds(&b, "{" REQ ", \"response\": {\"status\": 200, \"headers\": "
	    "[{\"name\": \"X-Big\", \"value\": \"");
	for (i = 0; i < 100000; i++)
		buf_adds(&b, i % 1000 == 0 ? "\\u00e9" : "v");
	buf_adds(&b, "\"}], \"content\": {\"text\": \"");
	for (i = 0; i < (1 << 20) / 16; i++)
		buf_adds(&b, i % 7 == 0 ? "0123456789\\\"\\n\\\\" :
		    "0123456789abcdef");
	buf_adds(&b, "\"}}}");
	both_ways(b.data, b.len, WAY_FAST);
	/* Mostly escapes: what they do not fill is given back. */
	buf_reset(&b);
	buf_adds(&b, "{" REQ ", \"response\": {\"status\": 200, \"content\": "
	    "{\"text\": \"");
	for (i = 0; i < 10000; i++)
		buf_adds(&b, "\\u0041");
	buf_adds(&b, "\"}}}");
	both_ways(b.data, b.len, WAY_FAST);
	buf_free(&b);
}
END_TEST

START_TEST(fast_decoder_takes_the_deepest_diagnoses)
{
	struct got	 g = { { NULL }, 0, 0 };
	struct buf	 b = { NULL, 0, 0 };
	char		*cause;
	int		 i;

	/* Document, log, entries, entry, _diagnoses: 5 levels; 64 in all. */
	buf_adds(&b, "{" REQ ", " RESP ", \"_diagnoses\": ");
	for (i = 5; i <= CASSETTE_MAX_DEPTH; i++)
		buf_adds(&b, i == 40 ? "{\"a\": " : "[");
	buf_adds(&b, "-1.5e-7");
	for (i = CASSETTE_MAX_DEPTH; i >= 5; i--)
		buf_adds(&b, i == 40 ? "}" : "]");
	buf_adds(&b, ", \"cache\": {\"a\": [[[[[[{\"b\": {}}]]]]]]}}");
	both_ways(b.data, b.len, WAY_FAST);
	/* One more level is past the limit. */
	buf_reset(&b);
	buf_adds(&b, "{\"log\": {\"entries\": [{" REQ ", " RESP ", "
	    "\"_diagnoses\": ");
	for (i = 5; i <= CASSETTE_MAX_DEPTH + 1; i++)
		buf_adds(&b, "[");
	for (i = 5; i <= CASSETTE_MAX_DEPTH + 1; i++)
		buf_adds(&b, "]");
	buf_adds(&b, "}]}}");
	cause = parse(b.data, b.len, &g, NULL);
	ck_assert_ptr_nonnull(strstr(cause, "nested deeper than 64 levels"));
	free(cause);
	buf_free(&b);
}
END_TEST

/* Exchanges a whole file gave, in order. */
struct keep {
	struct exchange	*v;
	size_t		 n;
	size_t		 cap;
};

static int
keep_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct keep	*k = arg;

	(void)cause;
	ck_assert_uint_eq(index, k->n);
	ck_assert_uint_lt(k->n, k->cap);
	k->v[k->n++] = *x;
	exchange_init(x);
	return 0;
}

/*
 * Check each entry of a cassette file both ways, each by its own text,
 * and the whole file against json_loadb.
 */
static void
file_both_ways(const char *path)
{
	struct cassette_layout	 l;
	struct keep		 k;
	json_error_t		 err;
	json_t			*doc, *entries, *e;
	struct exchange		 slow;
	const char		*p, *end, *field = "";
	char			*data, *cause;
	size_t			 len, i, n = 0;

	data = read_path(path, &len);
	end = data + len;
	p = strstr(data, "\"entries\"");
	ck_assert_ptr_nonnull(p);
	p = strchr(p, '[') + 1;
	for (;;) {
		p += strspn(p, " \t\r\n");
		if (*p == ']')
			break;
		/* jansson says where the entry ends. */
		e = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK |
		    JSON_ALLOW_NUL, &err);
		ck_assert_msg(e != NULL, "%s: %s", path, err.text);
		json_decref(e);
		both_ways(p, (size_t)err.position, WAY_FAST);
		p += err.position;
		p += strspn(p, " \t\r\n");
		if (*p == ',')
			p++;
		n++;
	}
	ck_assert_uint_gt(n, 0);

	/* The whole file: the same exchanges, in order. */
	doc = json_loadb(data, len, JSON_ALLOW_NUL, &err);
	ck_assert_msg(doc != NULL, "%s: %s", path, err.text);
	entries = json_object_get(json_object_get(doc, "log"), "entries");
	ck_assert_uint_eq(json_array_size(entries), n);
	k.v = xcalloc(n, sizeof *k.v);
	k.n = 0;
	k.cap = n;
	ck_assert_int_eq(cassette_parse(data, len, keep_cb, &k, &l, &cause),
	    0);
	ck_assert_uint_eq(l.nentries, n);
	json_array_foreach(entries, i, e) {
		exchange_init(&slow);
		ck_assert_int_eq(cassette_entry_decode(e, &slow, &cause), 0);
		ck_assert_msg(exchange_equal(&slow, &k.v[i], &field),
		    "%s: entry %zu: %s differs", path, i, field);
		exchange_free(&slow);
		exchange_free(&k.v[i]);
	}
	free(k.v);
	json_decref(doc);
	free(data);
}

START_TEST(fast_decoder_reads_real_cassettes_as_jansson_does)
{
	struct dirent	*d;
	DIR		*dir;
	char		*path;
	size_t		 n = 0, len;

	path = xasprintf("%s/tests/data/cassette", srcdir());
	dir = opendir(path);
	ck_assert_msg(dir != NULL, "cannot open %s", path);
	free(path);
	while ((d = readdir(dir)) != NULL) {
		len = strlen(d->d_name);
		if (len < 4 || strcmp(d->d_name + len - 4, ".har") != 0)
			continue;
		path = xasprintf("%s/tests/data/cassette/%s", srcdir(),
		    d->d_name);
		file_both_ways(path);
		free(path);
		n++;
	}
	closedir(dir);
	ck_assert_uint_gt(n, 0);
	path = xasprintf("%s/cassettes/seed-story.har", srcdir());
	file_both_ways(path);
	free(path);
}
END_TEST

/* Decode the text of one entry with json_loadb and cassette_entry_decode. */
static int
decode_alone(const char *text, struct exchange *x)
{
	json_error_t	 err;
	json_t		*e;
	char		*cause = NULL;
	int		 rc;

	exchange_init(x);
	e = json_loadb(text, strlen(text), JSON_ALLOW_NUL, &err);
	if (e == NULL)
		return -1;
	rc = cassette_entry_decode(e, x, &cause);
	json_decref(e);
	free(cause);
	if (rc == -1)
		exchange_free(x);
	return rc;
}

/*
 * One file whose entries take turns between the fast decoder and the slow
 * way, with strings longer than the scratch the loader keeps from one
 * entry to the next: each entry comes out as it does alone.
 */
START_TEST(parse_mixes_fast_and_slow_entries)
{
	const size_t		 nf = sizeof fast_entries /
				    sizeof fast_entries[0];
	const size_t		 ns = sizeof slow_entries /
				    sizeof slow_entries[0];
	struct buf		 doc = { NULL, 0, 0 };
	struct buf		 big = { NULL, 0, 0 }, bigslow = { NULL, 0, 0 };
	struct cassette_layout	 l;
	struct keep		 k;
	struct exchange		 alone;
	const char		**texts, *field = "";
	char			*cause;
	size_t			 i, n = 0, nslow = 0;

	/* A 200 KB header value; the same again with a member twice. */
	buf_adds(&big, "{" REQ ", \"response\": {\"status\": 200, "
	    "\"headers\": [{\"name\": \"X-Big\", \"value\": \"");
	for (i = 0; i < 20000; i++)
		buf_adds(&big, i % 100 == 0 ? "\\u00e9" : "0123456789");
	buf_adds(&big, "\"}]}");
	buf_add(&bigslow, big.data, big.len);
	buf_adds(&big, "}");
	buf_adds(&bigslow, ", \"time\": 1, \"time\": 2}");

	texts = xcalloc(2 * (nf + ns) + 4, sizeof *texts);
	for (i = 0; i < nf || i < ns; i++) {
		texts[n++] = fast_entries[i % nf];
		if (i % 4 == 0)
			texts[n++] = i % 8 == 0 ? big.data : bigslow.data;
		if (i < ns && decode_alone(slow_entries[i], &alone) == 0) {
			exchange_free(&alone);
			texts[n++] = slow_entries[i];
			nslow++;
		}
	}
	ck_assert_uint_gt(nslow, 0);
	buf_adds(&doc, "{\"log\": {\"entries\": [");
	for (i = 0; i < n; i++) {
		buf_adds(&doc, i == 0 ? "\n" : ",\n");
		buf_adds(&doc, texts[i]);
	}
	buf_adds(&doc, "\n]}}");

	k.v = xcalloc(n, sizeof *k.v);
	k.n = 0;
	k.cap = n;
	cause = NULL;
	ck_assert_msg(cassette_parse(doc.data, doc.len, keep_cb, &k, &l,
	    &cause) == 0, "%s", cause);
	ck_assert_uint_eq(k.n, n);
	ck_assert_uint_eq(l.nentries, n);
	ck_assert_int_eq(doc.data[l.insert_at], '\n');
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(decode_alone(texts[i], &alone), 0);
		ck_assert_msg(exchange_equal(&alone, &k.v[i], &field),
		    "entry %zu: %s differs: %.200s", i, field, texts[i]);
		exchange_free(&alone);
		exchange_free(&k.v[i]);
	}
	free(k.v);
	free(texts);
	buf_free(&doc);
	buf_free(&big);
	buf_free(&bigslow);
}
END_TEST

/*
 * A recording cut off mid-write: a document that ends inside its entries
 * array or in the closing brackets after it, after at least one complete
 * entry, loads with the entries before the cut when the caller can be
 * told (a layout). The last entry has escapes, a surrogate pair, UTF-8 of
 * 2 and 4 bytes, literals and numbers, so the cut falls inside each.
 */
static const char cut_doc[] =
    "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"entries\": [\n"
    "      " ENTRY ",\n      " ENTRY ",\n      {" REQ ", " RESP ", "
    "\"_x\": [true, false, null, -1.5e+3, 0, "
    "\"\\ud83d\\ude00 \\u00e9 \\n \xc3\xa9\xf0\x9f\x98\x80\"]}\n"
    "    ]\n  }\n}\n";

START_TEST(parse_takes_a_cut_after_complete_entries)
{
	struct got		 g = { { NULL }, 0, 0 };
	struct cassette_layout	 l;
	const char		*last, *end_last;
	char			*cause, *msg, *want;
	size_t			 len = sizeof cut_doc - 1, cut, whole;

	/* The third entry: from its "{" to just past its "}". */
	last = strstr(cut_doc, ",\n      {\"request\"");
	last = strstr(last + 1, ",\n      {\"request\"");
	ck_assert_ptr_nonnull(last);
	end_last = strstr(last, "]}\n    ]") + 2;
	/* Up to the last "}": past it, the document is whole. */
	for (cut = (size_t)(last - cut_doc); cut < len - 1; cut++) {
		whole = cut >= (size_t)(end_last - cut_doc) ? 3 : 2;
		memset(&l, 0xff, sizeof l);
		cause = parse(cut_doc, cut, &g, &l);
		ck_assert_msg(cause == NULL, "cut at %zu: %s", cut, cause);
		ck_assert_uint_eq(g.n, whole);
		ck_assert_int_eq(l.cut, 1);
		ck_assert_uint_eq(l.nentries, whole);
		ck_assert_int_eq(l.cut_in_entry,
		    cut > (size_t)(last - cut_doc) + 8 && whole == 2);
		/* New entries go just after the last complete one. */
		ck_assert_int_eq(cut_doc[l.insert_at - 1], '}');
		ck_assert_uint_eq(l.prefix[0].off, 0);
		ck_assert_uint_eq(l.prefix[0].len, l.insert_at);
		msg = cassette_cut_message(&l);
		want = whole == 2 && l.cut_in_entry ?
		    xstrdup("the cassette ends in the middle of entry 2 (a "
		    "recording cut off); the 2 complete entries before it "
		    "are used") : xasprintf("the cassette ends after entry "
		    "%zu, without its closing brackets (a recording cut "
		    "off); its %zu entries are used", whole - 1, whole);
		ck_assert_str_eq(msg, want);
		free(want);
		free(msg);
		got_free(&g);
		/* Without a layout to say so, a cut is an error. */
		cause = parse(cut_doc, cut, &g, NULL);
		ck_assert_msg(cause != NULL && strstr(cause,
		    "unexpected end of the file") != NULL, "cut at %zu: %s",
		    cut, cause != NULL ? cause : "accepted");
		free(cause);
		got_free(&g);
	}
	/* Whole, it is not cut. */
	ck_assert_ptr_null(parse(cut_doc, len, &g, &l));
	ck_assert_int_eq(l.cut, 0);
	ck_assert_uint_eq(g.n, 3);
	got_free(&g);
}
END_TEST

/* A cut anywhere else, or damage before the end, is refused as before. */
START_TEST(parse_refuses_other_cuts_and_damage)
{
	struct got		 g = { { NULL }, 0, 0 };
	struct cassette_layout	 l;
	struct buf		 b = { NULL, 0, 0 };
	const char		*second;
	char			*cause, *plain;
	size_t			 cut, first;
	static const char	 after[] = "{\"log\": {\"entries\": [" ENTRY
	    "], \"pages\": [{\"id\": \"p\"}]}, \"x\": 1}";

	/* In the header, and inside the first entry: no complete entry. */
	second = strstr(cut_doc, ",\n      {\"request\"");
	first = (size_t)(second - cut_doc);
	for (cut = 0; cut < first; cut++) {
		cause = parse(cut_doc, cut, &g, &l);
		ck_assert_msg(cause != NULL, "cut at %zu accepted", cut);
		ck_assert_uint_eq(g.n, 0);
		plain = parse(cut_doc, cut, &g, NULL);
		ck_assert_str_eq(cause, plain);
		free(cause);
		free(plain);
	}
	/* Inside the members after the entries, and after log. */
	for (cut = (size_t)(strstr(after, "], \"pages\"") - after) + 2;
	    cut < sizeof after - 1; cut++) {
		cause = parse(after, cut, &g, &l);
		ck_assert_msg(cause != NULL, "cut at %zu accepted", cut);
		free(cause);
		got_free(&g);
	}
	/* A damaged middle entry, the file whole. */
	buf_add(&b, cut_doc, sizeof cut_doc - 1);
	b.data[first + 20] = '#';
	cause = parse(b.data, b.len, &g, &l);
	got_free(&g);
	plain = parse(b.data, b.len, &g, NULL);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, plain);
	free(cause);
	free(plain);
	got_free(&g);
	/* Damage at the very end of the last entry, not a cut. */
	buf_reset(&b);
	buf_add(&b, cut_doc, (size_t)(strstr(cut_doc, "]}\n    ]") -
	    cut_doc));
	buf_adds(&b, "x");
	cause = parse(b.data, b.len, &g, &l);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_null(strstr(cause, "end of the file"));
	free(cause);
	got_free(&g);
	/* A bad UTF-8 byte, or a lone surrogate, at the very end. */
	buf_reset(&b);
	buf_add(&b, cut_doc, (size_t)(strstr(cut_doc, "\xc3\xa9") -
	    cut_doc));
	buf_adds(&b, "\xff");
	cause = parse(b.data, b.len, &g, &l);
	ck_assert_ptr_nonnull(strstr(cause, "invalid UTF-8"));
	free(cause);
	got_free(&g);
	buf_reset(&b);
	buf_add(&b, cut_doc, (size_t)(strstr(cut_doc, "\\ude00") -
	    cut_doc));
	buf_adds(&b, "x");
	cause = parse(b.data, b.len, &g, &l);
	ck_assert_ptr_nonnull(strstr(cause, "lone UTF-16 surrogate"));
	free(cause);
	got_free(&g);
	/* Trailing NUL bytes are not a cut (a complete document or not). */
	buf_reset(&b);
	buf_add(&b, cut_doc, 200);
	buf_add(&b, "\0\0\0", 3);
	cause = parse(b.data, b.len, &g, &l);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_null(strstr(cause, "end of the file"));
	free(cause);
	got_free(&g);
	buf_free(&b);
}
END_TEST

/*
 * The layout moves members after log.entries, and after log, to before
 * it, so only closing brackets follow the entries; every byte is kept.
 */
START_TEST(parse_lays_out_members_after_the_entries_before_them)
{
	static const char	 doc[] = "{\n  \"log\": {\n    \"entries\": "
	    "[\n      " ENTRY "\n    ],\n    \"pages\": [{\"id\": \"p\"}],\n"
	    "    \"comment\": \"c\"\n  },\n  \"_tool\": {\"k\": [1, 2]}\n}\n";
	static const char	 want[] = "{\n  \"_tool\": {\"k\": [1, 2]},\n"
	    "  \"log\": {\n    \"pages\": [{\"id\": \"p\"}],\n    \"comment\": "
	    "\"c\",\n    \"entries\": [\n      " ENTRY "NEW\n    ]\n  }\n}\n";
	static const char	 plain[] = "{\"log\": {\"entries\": [" ENTRY
	    "]}}";
	struct got		 g = { { NULL }, 0, 0 };
	struct cassette_layout	 l;
	struct buf		 b = { NULL, 0, 0 };
	char			*cause;
	size_t			 i;

	cause = parse(doc, sizeof doc - 1, &g, &l);
	ck_assert_ptr_null(cause);
	got_free(&g);
	ck_assert_int_eq(l.cut, 0);
	for (i = 0; i < CASSETTE_PREFIX_SPANS; i++)
		buf_add(&b, doc + l.prefix[i].off, l.prefix[i].len);
	buf_adds(&b, "NEW");
	for (i = 0; i < CASSETTE_TAIL_SPANS; i++)
		buf_add(&b, doc + l.tail[i].off, l.tail[i].len);
	ck_assert_str_eq(buf_str(&b), want);
	ck_assert_uint_eq(b.len, sizeof doc - 1 + 3);

	/* Nothing after the entries: the document as it is, split. */
	buf_reset(&b);
	ck_assert_ptr_null(parse(plain, sizeof plain - 1, &g, &l));
	got_free(&g);
	ck_assert_uint_eq(l.prefix[0].len, l.insert_at);
	for (i = 1; i < CASSETTE_PREFIX_SPANS; i++)
		buf_add(&b, plain + l.prefix[i].off, l.prefix[i].len);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(l.tail[0].off, l.insert_at);
	ck_assert_uint_eq(l.tail[0].len + l.tail[1].len + l.tail[2].len,
	    sizeof plain - 1 - l.insert_at);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cassette");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, encode_writes_har_fields_in_order);
	tcase_add_test(tc, encode_decodes_query_strings_when_utf8);
	tcase_add_test(tc, encode_splits_cookies_and_skips_nameless_ones);
	tcase_add_test(tc, encode_defaults_when_fields_are_unknown);
	tcase_add_test(tc, encode_replaces_invalid_utf8_in_header_text);
	tcase_add_test(tc, round_trip_keeps_text_bodies_and_headers);
	tcase_add_test(tc, round_trip_keeps_binary_bodies_in_base64);
	tcase_add_test(tc, round_trip_keeps_truncation_and_decoded_coding);
	tcase_add_test(tc, round_trip_keeps_diagnoses_and_patchscope_answers);
	tcase_add_test(tc, round_trip_without_bodies_keeps_them_absent);
	tcase_add_loop_test(tc, decode_names_the_bad_field, 0,
	    (int)(sizeof bad_entries / sizeof bad_entries[0]));
	tcase_add_test(tc, decode_accepts_minimal_entry_with_defaults);
	tcase_add_test(tc, decode_reads_devtools_shapes);
	tcase_add_test(tc, decode_keeps_nul_bytes_of_text_bodies);
	tcase_add_loop_test(tc, parse_names_the_place_and_reason, 0,
	    (int)(sizeof bad_docs / sizeof bad_docs[0]));
	tcase_add_test(tc, parse_refuses_invalid_utf8_in_entry_text);
	tcase_add_test(tc, parse_handles_a_nul_byte_in_the_file);
	tcase_add_test(tc, parse_refuses_a_nul_byte_escaped_with_a_backslash);
	tcase_add_test(tc, parse_finds_a_bad_byte_anywhere_in_a_run);
	tcase_add_test(tc, parse_refuses_nesting_past_the_limit);
	tcase_add_test(tc, parse_takes_a_1mib_body);
	tcase_add_test(tc, parse_stops_when_the_callback_refuses);
	tcase_add_test(tc, parse_names_the_entry_a_silent_callback_refused);
	tcase_add_test(tc, parse_finds_where_entries_go);
	tcase_add_test(tc, empty_cassette_is_exact);
	tcase_add_test(tc, entry_text_is_indented_without_trailing_newline);
	tcase_add_test(tc, appended_entries_parse_back_in_order);
	tcase_add_test(tc, devtools_export_loads);
	tcase_add_loop_test(tc, fast_decoder_reads_entries_as_jansson_does, 0,
	    (int)(sizeof fast_entries / sizeof fast_entries[0]));
	tcase_add_loop_test(tc, fast_decoder_leaves_what_it_is_unsure_of, 0,
	    (int)(sizeof slow_entries / sizeof slow_entries[0]));
	tcase_add_test(tc, fast_decoder_unescapes_to_utf8);
	tcase_add_test(tc, fast_decoder_finds_quotes_anywhere_in_a_run);
	tcase_add_test(tc, fast_decoder_takes_huge_strings);
	tcase_add_test(tc, fast_decoder_takes_the_deepest_diagnoses);
	tcase_add_test(tc, fast_decoder_reads_real_cassettes_as_jansson_does);
	tcase_add_test(tc, parse_mixes_fast_and_slow_entries);
	tcase_add_test(tc, parse_takes_a_cut_after_complete_entries);
	tcase_add_test(tc, parse_refuses_other_cuts_and_damage);
	tcase_add_test(tc, parse_lays_out_members_after_the_entries_before_them);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
