/*
 * Unit tests for diff: alignment keys, the pairing of identical requests
 * in recorded order, the reading order, and what a pair reports (status,
 * bodies by JSON Pointer or as text, the headers that matter, credentials,
 * diagnoses by code and path), the --json document.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diff.h"
#include "exchange.h"
#include "http.h"
#include "unit.h"
#include "xmalloc.h"

#define ORIGIN	"http://127.0.0.1:5000"

/* An exchange: method, URL, status and optional bodies. */
static void
ex(struct exchange *x, const char *method, const char *url, int status,
    const char *req, const char *resp)
{
	exchange_init(x);
	x->method = xstrdup(method);
	x->url = xstrdup(url);
	x->status = status;
	if (req != NULL)
		exchange_body_set(&x->req_body, req, strlen(req));
	if (resp != NULL)
		exchange_body_set(&x->resp_body, resp, strlen(resp));
}

static void
hdr(struct http_headers *h, const char *name, const char *value)
{
	http_headers_add(h, name, strlen(name), value, strlen(value));
}

static void
free_all(struct exchange *x, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		exchange_free(&x[i]);
}

/* The pair's object as compact JSON, to compare whole. */
static char *
dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);
}

START_TEST(key_orders_the_query_and_hides_marker_hashes)
{
	struct exchange	 a, b;
	char		*ka, *kb;

	ex(&a, "GET", ORIGIN "/v1/p?b=2&a=1&tok=redacted:111111111111", 200,
	    NULL, NULL);
	ex(&b, "GET", ORIGIN "/v1/p?tok=redacted%3A222222222222&a=1&b=2", 200,
	    NULL, NULL);
	ka = diff_key(&a, 1);
	kb = diff_key(&b, 1);
	ck_assert_str_eq(ka, "GET " ORIGIN "/v1/p?a=1&b=2&tok=redacted:");
	ck_assert_str_eq(ka, kb);
	free(ka);
	free(kb);
	ka = diff_key(&a, 0);
	ck_assert_str_eq(ka, "GET /v1/p?a=1&b=2&tok=redacted:");
	free(ka);
	exchange_free(&a);
	exchange_free(&b);

	/* The method, the path, a value, a default port. */
	ex(&a, "PATCH", "http://h/v1/p?a=1", 200, NULL, NULL);
	ex(&b, "PATCH", "http://h:80/v1/p?a=2", 200, NULL, NULL);
	ka = diff_key(&a, 1);
	kb = diff_key(&b, 1);
	ck_assert_str_eq(ka, "PATCH http://h/v1/p?a=1");
	ck_assert_str_eq(kb, "PATCH http://h/v1/p?a=2");
	free(ka);
	free(kb);
	exchange_free(&a);
	exchange_free(&b);

	/* Encoded so that a field's bytes cannot pass for two fields. */
	ex(&a, "GET", "http://h/p?a=x%26b%3Dy", 200, NULL, NULL);
	ka = diff_key(&a, 1);
	ck_assert_str_eq(ka, "GET http://h/p?a=x%26b%3Dy");
	free(ka);
	exchange_free(&a);
}
END_TEST

START_TEST(identical_requests_pair_in_recorded_order)
{
	struct exchange		a[3], b[3];
	struct diff_report	r;

	ex(&a[0], "GET", ORIGIN "/x", 200, NULL, "{\"n\": 1}");
	ex(&a[1], "GET", ORIGIN "/y", 200, NULL, NULL);
	ex(&a[2], "GET", ORIGIN "/x", 200, NULL, "{\"n\": 2}");
	/* /y moved first; the two /x kept their order. */
	ex(&b[0], "GET", ORIGIN "/y", 200, NULL, NULL);
	ex(&b[1], "GET", ORIGIN "/x", 200, NULL, "{\"n\": 1}");
	ex(&b[2], "GET", ORIGIN "/x", 200, NULL, "{\"n\": 2}");
	diff_report_build(&r, a, 3, b, 3);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(r.same, 3);
	ck_assert(diff_report_same(&r));
	ck_assert_uint_eq(r.v[0].a, 0);
	ck_assert_uint_eq(r.v[0].b, 1);
	ck_assert_uint_eq(r.v[1].a, 1);
	ck_assert_uint_eq(r.v[1].b, 0);
	ck_assert_uint_eq(r.v[2].a, 2);
	ck_assert_uint_eq(r.v[2].b, 2);
	diff_report_free(&r);

	/* The two /x swapped: the first meets the first, both changed. */
	exchange_body_set(&b[1].resp_body, "{\"n\": 2}", 8);
	exchange_body_set(&b[2].resp_body, "{\"n\": 1}", 8);
	diff_report_build(&r, a, 3, b, 3);
	ck_assert(!diff_report_same(&r));
	ck_assert_uint_eq(r.changed, 2);
	ck_assert_uint_eq(r.same, 1);
	ck_assert_ptr_nonnull(r.v[0].change);
	ck_assert_ptr_null(r.v[1].change);
	ck_assert_int_eq(json_integer_value(json_object_get(r.v[2].change,
	    "b_index")), 2);
	diff_report_free(&r);
	free_all(a, 3);
	free_all(b, 3);
}
END_TEST

START_TEST(entries_only_in_one_side_in_reading_order)
{
	struct exchange		a[3], b[4];
	struct diff_report	r;
	json_t			*doc;
	char			*s;

	ex(&a[0], "GET", ORIGIN "/1", 200, NULL, NULL);
	ex(&a[1], "DELETE", ORIGIN "/gone", 204, NULL, NULL);
	ex(&a[2], "GET", ORIGIN "/3", 200, NULL, NULL);
	ex(&b[0], "GET", ORIGIN "/1", 200, NULL, NULL);
	ex(&b[1], "POST", ORIGIN "/new", 201, NULL, NULL);
	ex(&b[2], "GET", ORIGIN "/3", 200, NULL, NULL);
	ex(&b[3], "GET", ORIGIN "/1", 200, NULL, NULL);
	diff_report_build(&r, a, 3, b, 4);
	ck_assert_uint_eq(r.only_a, 1);
	ck_assert_uint_eq(r.only_b, 2);
	ck_assert_uint_eq(r.same, 2);
	ck_assert_uint_eq(r.n, 5);
	/* A's order, B's own entries before the pair that follows them. */
	ck_assert_uint_eq(r.v[0].a, 0);
	ck_assert_uint_eq(r.v[1].a, 1);
	ck_assert_uint_eq(r.v[1].b, DIFF_NONE);
	ck_assert_uint_eq(r.v[2].a, DIFF_NONE);
	ck_assert_uint_eq(r.v[2].b, 1);
	ck_assert_uint_eq(r.v[3].a, 2);
	ck_assert_uint_eq(r.v[4].a, DIFF_NONE);
	ck_assert_uint_eq(r.v[4].b, 3);
	doc = diff_report_json(&r, a, b, "a.har", "b.har");
	s = dump(doc);
	ck_assert_str_eq(s, "{\"a\":\"a.har\",\"b\":\"b.har\",\"same\":false,"
	    "\"only_a\":[{\"index\":1,\"method\":\"DELETE\",\"url\":\""
	    ORIGIN "/gone\",\"status\":204}],\"only_b\":[{\"index\":1,"
	    "\"method\":\"POST\",\"url\":\"" ORIGIN "/new\",\"status\":201},"
	    "{\"index\":3,\"method\":\"GET\",\"url\":\"" ORIGIN "/1\","
	    "\"status\":200}],\"changed\":[],\"counts\":{\"same\":2,"
	    "\"changed\":0,\"only_a\":1,\"only_b\":2}}");
	free(s);
	json_decref(doc);
	diff_report_free(&r);
	free_all(a, 3);
	free_all(b, 4);

	/* Empty cassettes are the same as each other. */
	diff_report_build(&r, NULL, 0, NULL, 0);
	ck_assert(diff_report_same(&r));
	ck_assert_uint_eq(r.n, 0);
	diff_report_free(&r);
}
END_TEST

START_TEST(pair_reports_status_and_bodies_by_pointer)
{
	struct exchange	 a, b;
	json_t		*c;
	char		*s;

	ex(&a, "PATCH", ORIGIN "/v1/acc/profiles/p", 400,
	    "{\"actions\": [{\"anchor\": \"BOOKING_CANCELLED\"}, "
	    "{\"anchor\": \"BOOKING_CANCELED\"}]}", "{\"errors\": []}");
	ex(&b, "PATCH", ORIGIN "/v1/acc/profiles/p", 200,
	    "{\"actions\": [{\"anchor\": \"BOOKING_CANCELLED\"}, "
	    "{\"anchor\": \"BOOKING_CANCELLED\"}]}", "not json");
	c = diff_pair(&a, &b, 4, 5);
	ck_assert_ptr_nonnull(c);
	s = dump(c);
	ck_assert_str_eq(s, "{\"method\":\"PATCH\",\"url\":\"" ORIGIN
	    "/v1/acc/profiles/p\",\"a_index\":4,\"b_index\":5,"
	    "\"status\":[400,200],\"request\":[{\"op\":\"value\","
	    "\"path\":\"/actions/1/anchor\",\"a\":\"BOOKING_CANCELED\","
	    "\"b\":\"BOOKING_CANCELLED\"}],\"response\":[{\"op\":\"text\","
	    "\"path\":\"\",\"a\":14,\"b\":8}],\"query\":[],\"headers\":[],"
	    "\"diagnoses\":{\"appeared\":[],\"gone\":[]}}");
	free(s);
	json_decref(c);

	/* The same, and a new enum value the other way round. */
	c = diff_pair(&a, &a, 0, 0);
	ck_assert_ptr_null(c);
	c = diff_pair(&b, &a, 0, 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(c, "request"), 0), "op")), "enum");
	json_decref(c);
	exchange_free(&a);
	exchange_free(&b);

	/* A body in one only: added whole when JSON, else text. */
	ex(&a, "POST", ORIGIN "/p", 200, NULL, NULL);
	ex(&b, "POST", ORIGIN "/p", 200, "{\"x\": 1}", "plain");
	c = diff_pair(&a, &b, 0, 0);
	s = dump(json_object_get(c, "request"));
	ck_assert_str_eq(s, "[{\"op\":\"added\",\"path\":\"\","
	    "\"b\":{\"x\":1}}]");
	free(s);
	s = dump(json_object_get(c, "response"));
	ck_assert_str_eq(s, "[{\"op\":\"text\",\"path\":\"\",\"a\":0,"
	    "\"b\":5}]");
	free(s);
	json_decref(c);
	exchange_free(&a);
	exchange_free(&b);

	/* Equal text bodies, and a cut one against the whole. */
	ex(&a, "GET", ORIGIN "/p", 200, NULL, "same text");
	ex(&b, "GET", ORIGIN "/p", 200, NULL, "same text");
	ck_assert_ptr_null(diff_pair(&a, &b, 0, 0));
	b.resp_body.truncated = 1;
	b.resp_body.size = 4096;
	c = diff_pair(&a, &b, 0, 0);
	s = dump(json_object_get(c, "response"));
	ck_assert_str_eq(s, "[{\"op\":\"text\",\"path\":\"\",\"a\":9,"
	    "\"b\":4096}]");
	free(s);
	json_decref(c);
	exchange_free(&a);
	exchange_free(&b);
}
END_TEST

START_TEST(pair_reports_only_the_headers_that_matter)
{
	struct exchange	 a, b;
	json_t		*c;
	char		*s;

	ex(&a, "GET", ORIGIN "/p", 200, NULL, NULL);
	ex(&b, "GET", ORIGIN "/p", 200, NULL, NULL);
	hdr(&a.resp_headers, "Date", "Mon, 01 Jan 2026 00:00:00 GMT");
	hdr(&b.resp_headers, "Date", "Tue, 02 Jan 2026 00:00:00 GMT");
	hdr(&a.resp_headers, "Server", "one");
	hdr(&b.resp_headers, "X-Request-Id", "abc");
	hdr(&a.resp_headers, "Content-Length", "10");
	hdr(&b.resp_headers, "content-type", "application/json");
	hdr(&a.resp_headers, "Content-Type", "application/json");
	ck_assert_ptr_null(diff_pair(&a, &b, 0, 0));

	hdr(&a.resp_headers, "ETag", "\"1\"");
	hdr(&b.resp_headers, "ETag", "\"2\"");
	hdr(&b.resp_headers, "Retry-After", "5");
	hdr(&a.resp_headers, "X-Patchscope-Diagnosis", "error a /x");
	hdr(&a.resp_headers, "x-patchscope-diagnosis", "error b");
	hdr(&b.req_headers, "Authorization", "redacted:222222222222");
	hdr(&a.req_headers, "Authorization", "redacted:111111111111");
	hdr(&a.req_headers, "Cookie", "s=redacted:111111111111");
	hdr(&b.req_headers, "Cookie", "s=redacted:111111111111");
	hdr(&a.req_headers, "X-Api-Key", "redacted:333333333333");
	c = diff_pair(&a, &b, 0, 0);
	s = dump(json_object_get(c, "headers"));
	ck_assert_str_eq(s, "["
	    "{\"side\":\"request\",\"name\":\"Authorization\","
	    "\"op\":\"credential\",\"a\":\"redacted:111111111111\","
	    "\"b\":\"redacted:222222222222\"},"
	    "{\"side\":\"request\",\"name\":\"X-Api-Key\",\"op\":\"removed\","
	    "\"a\":\"redacted:333333333333\"},"
	    "{\"side\":\"response\",\"name\":\"ETag\",\"op\":\"value\","
	    "\"a\":\"\\\"1\\\"\",\"b\":\"\\\"2\\\"\"},"
	    "{\"side\":\"response\",\"name\":\"X-Patchscope-Diagnosis\","
	    "\"op\":\"removed\",\"a\":\"error a /x, error b\"},"
	    "{\"side\":\"response\",\"name\":\"Retry-After\","
	    "\"op\":\"added\",\"b\":\"5\"}]");
	free(s);
	json_decref(c);
	exchange_free(&a);
	exchange_free(&b);
}
END_TEST

START_TEST(pair_reports_credentials_in_query_and_body)
{
	struct exchange	 a, b;
	json_t		*c;
	char		*s;

	ex(&a, "POST", ORIGIN "/p?key=redacted:111111111111&z=1", 200,
	    "{\"h\": {\"x-auth-token\": \"redacted:111111111111\"}}", NULL);
	ex(&b, "POST", ORIGIN "/p?z=1&key=redacted:222222222222", 200,
	    "{\"h\": {\"x-auth-token\": \"redacted:222222222222\"}}", NULL);
	c = diff_pair(&a, &b, 0, 0);
	ck_assert_ptr_nonnull(c);
	s = dump(json_object_get(c, "query"));
	ck_assert_str_eq(s, "[{\"name\":\"key\",\"op\":\"credential\","
	    "\"a\":\"redacted:111111111111\","
	    "\"b\":\"redacted:222222222222\"}]");
	free(s);
	s = dump(json_object_get(c, "request"));
	ck_assert_str_eq(s, "[{\"op\":\"credential\",\"path\":"
	    "\"/h/x-auth-token\",\"a\":\"redacted:111111111111\","
	    "\"b\":\"redacted:222222222222\"}]");
	free(s);
	ck_assert_str_eq(json_string_value(json_object_get(c, "b_url")),
	    ORIGIN "/p?z=1&key=redacted:222222222222");
	json_decref(c);
	exchange_free(&b);

	/* The query in another order is the same request, and no change. */
	ex(&b, "POST", ORIGIN "/p?z=1&key=redacted:111111111111", 200,
	    "{\"h\": {\"x-auth-token\": \"redacted:111111111111\"}}", NULL);
	ck_assert_ptr_null(diff_pair(&a, &b, 0, 0));
	exchange_free(&a);
	exchange_free(&b);
}
END_TEST

START_TEST(pair_reports_diagnoses_by_code_and_path)
{
	struct exchange	 a, b;
	json_t		*c;
	char		*s;

	ex(&a, "PATCH", ORIGIN "/p", 400, NULL, NULL);
	ex(&b, "PATCH", ORIGIN "/p", 400, NULL, NULL);
	a.diagnoses = json_loads("[{\"severity\": \"error\", \"code\": "
	    "\"action.anchor.unknown\", \"path\": \"/actions/3/anchor\", "
	    "\"message\": \"one\"}, {\"severity\": \"error\", \"code\": "
	    "\"actions.partial\", \"path\": \"/actions\"}, {\"code\": "
	    "\"x.twice\", \"path\": \"/a\"}, {\"code\": \"x.twice\", "
	    "\"path\": \"/a\"}]", 0, NULL);
	/* Messages may change; code and path are what count. */
	b.diagnoses = json_loads("[{\"severity\": \"warning\", \"code\": "
	    "\"client.retry.early\", \"path\": \"\"}, {\"severity\": "
	    "\"error\", \"code\": \"actions.partial\", \"path\": "
	    "\"/actions\", \"message\": \"other words\"}, {\"code\": "
	    "\"x.twice\", \"path\": \"/a\"}, {\"code\": 5}]", 0, NULL);
	c = diff_pair(&a, &b, 0, 0);
	s = dump(json_object_get(c, "diagnoses"));
	ck_assert_str_eq(s, "{\"appeared\":[{\"severity\":\"warning\","
	    "\"code\":\"client.retry.early\",\"path\":\"\"},{\"code\":5}],"
	    "\"gone\":[{\"severity\":\"error\",\"code\":"
	    "\"action.anchor.unknown\",\"path\":\"/actions/3/anchor\","
	    "\"message\":\"one\"},{\"code\":\"x.twice\",\"path\":\"/a\"}]}");
	free(s);
	/* Nothing else differs, and no fault was recorded. */
	ck_assert_ptr_null(json_object_get(c, "status"));
	ck_assert_ptr_null(json_object_get(c, "fault"));
	json_decref(c);
	json_decref(b.diagnoses);
	b.diagnoses = json_deep_copy(a.diagnoses);
	ck_assert_ptr_null(diff_pair(&a, &b, 0, 0));
	exchange_free(&a);
	exchange_free(&b);
}
END_TEST

START_TEST(pair_reports_patchscope_errors)
{
	struct exchange	 a, b;
	json_t		*c;
	char		*s;

	ex(&a, "GET", ORIGIN "/p", 200, NULL, NULL);
	ex(&b, "GET", ORIGIN "/p", 502, NULL, NULL);
	b.error = xstrdup("upstream_connect");
	c = diff_pair(&a, &b, 0, 0);
	s = dump(json_object_get(c, "error"));
	ck_assert_str_eq(s, "[null,\"upstream_connect\"]");
	free(s);
	json_decref(c);
	exchange_free(&a);
	exchange_free(&b);
}
END_TEST

START_TEST(one_origin_each_aligns_without_it)
{
	struct exchange		a[2], b[2];
	struct diff_report	r;
	json_t			*doc;
	char			*s;

	ex(&a[0], "GET", "http://127.0.0.1:41581/v1/p", 200, NULL, NULL);
	ex(&a[1], "GET", "http://127.0.0.1:41581/v1/q", 200, NULL, NULL);
	ex(&b[0], "GET", "http://127.0.0.1:5000/v1/p", 200, NULL, NULL);
	ex(&b[1], "GET", "http://127.0.0.1:5000/v1/q", 200, NULL, NULL);
	diff_report_build(&r, a, 2, b, 2);
	ck_assert_str_eq(r.origin_a, "http://127.0.0.1:41581");
	ck_assert_str_eq(r.origin_b, "http://127.0.0.1:5000");
	ck_assert_uint_eq(r.only_a + r.only_b, 0);
	/* Paired, and the URL in B named; the origin counts as a change. */
	ck_assert_uint_eq(r.changed, 0);
	ck_assert_uint_eq(r.same, 2);
	ck_assert(!diff_report_same(&r));
	doc = diff_report_json(&r, a, b, "a", "b");
	s = dump(json_object_get(doc, "origin"));
	ck_assert_str_eq(s, "{\"a\":\"http://127.0.0.1:41581\","
	    "\"b\":\"http://127.0.0.1:5000\"}");
	free(s);
	json_decref(doc);
	diff_report_free(&r);

	/* Several origins in a cassette: the origin is part of the key. */
	free(b[1].url);
	b[1].url = xstrdup("http://other:5000/v1/q");
	diff_report_build(&r, a, 2, b, 2);
	ck_assert_ptr_null(r.origin_a);
	ck_assert_uint_eq(r.only_a, 2);
	ck_assert_uint_eq(r.only_b, 2);
	diff_report_free(&r);
	free_all(a, 2);
	free_all(b, 2);
}
END_TEST

START_TEST(hostile_strings_stay_valid_json)
{
	struct exchange	 a, b;
	json_t		*c;
	char		*s;

	/* Not UTF-8 in a header value: repaired, never a NULL member. */
	ex(&a, "GET", ORIGIN "/p", 200, NULL, NULL);
	ex(&b, "GET", ORIGIN "/p", 200, NULL, NULL);
	hdr(&a.resp_headers, "Location", "/a\xff");
	hdr(&b.resp_headers, "Location", "/b");
	c = diff_pair(&a, &b, 0, 0);
	s = dump(json_object_get(c, "headers"));
	ck_assert_str_eq(s, "[{\"side\":\"response\",\"name\":\"Location\","
	    "\"op\":\"value\",\"a\":\"/a\xef\xbf\xbd\",\"b\":\"/b\"}]");
	free(s);
	json_decref(c);
	exchange_free(&a);
	exchange_free(&b);
}
END_TEST

/* diff_text_put's rendering of s, NUL-terminated for comparing. */
static char *
put(const char *s, size_t len, size_t max)
{
	struct buf	b = { NULL, 0, 0 };

	diff_text_put(&b, s, len, max);
	return b.data != NULL ? b.data : strdup("");
}

#define ck_assert_put(s, max, want) do {				\
	char	*got_ = put(s, sizeof s - 1, max);			\
	ck_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

START_TEST(text_escapes_control_characters_and_cuts)
{
	ck_assert_put("plain /v1/p?a=1", 80, "plain /v1/p?a=1");
	ck_assert_put("a\x1b[2Jb\x07", 80, "a\\x1b[2Jb\\x07");
	ck_assert_put("\n\r\t\x7f", 80, "\\x0a\\x0d\\x09\\x7f");
	ck_assert_put("nul\0byte", 80, "nul\\x00byte");
	/* C1 controls, CSI among them, written as UTF-8. */
	ck_assert_put("\xc2\x9b" "2J\xc2\x80\xc2\x9f", 80,
	    "\\u009b2J\\u0080\\u009f");
	/* Other text stays as it is: U+00A0, accents, a euro sign. */
	ck_assert_put("\xc2\xa0\xc3\xa9\xe2\x82\xac", 80,
	    "\xc2\xa0\xc3\xa9\xe2\x82\xac");
	/* Bytes that are not UTF-8, and a sequence cut short. */
	ck_assert_put("a\xff" "b\xe2\x82", 80, "a\\xffb\\xe2\\x82");
	/* Cut by characters, not bytes; exactly max is not cut. */
	ck_assert_put("abcdef", 3, "abc...");
	ck_assert_put("abc", 3, "abc");
	ck_assert_put("\xc3\xa9\xc3\xa9\xc3\xa9", 2, "\xc3\xa9\xc3\xa9...");
	ck_assert_put("\x1b\x1b\x1b", 2, "\\x1b\\x1b...");
}
END_TEST

START_TEST(text_report_reads_top_to_bottom)
{
	struct exchange		a[2], b[2];
	struct diff_side	sa = { "a.har", a, 2 }, sb = { "b.har", b, 2 };
	struct diff_report	r;
	struct buf		out = { NULL, 0, 0 };

	ex(&a[0], "GET", ORIGIN "/gone", 0, NULL, NULL);
	ex(&a[1], "PATCH", ORIGIN "/p", 0,
	    "{\"a\": \"BOOKING_CANCELED\", \"t\": [1]}", NULL);
	ex(&b[0], "PATCH", ORIGIN "/p", 200,
	    "{\"a\": \"BOOKING_CANCELLED\", \"t\": {}}", NULL);
	ex(&b[1], "POST", ORIGIN "/new\xc2\x9b", 201, NULL, NULL);
	a[1].diagnoses = json_loads("[{\"severity\": \"error\", \"code\": "
	    "\"action.anchor.unknown\", \"path\": \"/a\"}]", 0, NULL);
	hdr(&b[0].req_headers, "Authorization", "redacted:222222222222");
	hdr(&a[1].req_headers, "Authorization", "redacted:111111111111");
	diff_report_build(&r, a, 2, b, 2);
	diff_report_text(&out, &r, &sa, &sb);
	ck_assert_str_eq(out.data,
	    "A: a.har (2 entries)\n"
	    "B: b.har (2 entries)\n"
	    "- GET " ORIGIN "/gone (A #0): no answer\n"
	    "~ PATCH " ORIGIN "/p (A #1, B #0)\n"
	    "    status none -> 200\n"
	    "    request /a: \"BOOKING_CANCELED\" -> \"BOOKING_CANCELLED\"\n"
	    "    request /t: type array -> object, [1] -> {}\n"
	    "    request header Authorization: a different credential\n"
	    "    diagnosis gone: error action.anchor.unknown /a\n"
	    "+ POST " ORIGIN "/new\\u009b (B #1): 201\n"
	    "different: 1 changed, 1 only in A, 1 only in B, 0 the same\n");
	buf_free(&out);
	diff_report_free(&r);
	free_all(a, 2);
	free_all(b, 2);
}
END_TEST

START_TEST(json_text_is_printable_ascii)
{
	struct buf	 out = { NULL, 0, 0 };
	json_t		*doc;
	size_t		 i;

	doc = json_pack("{s:s}", "v", "\x7f\xc3\xa9\x1b\xc2\x9b");
	ck_assert_int_eq(diff_json_text(&out, doc), 0);
	ck_assert_str_eq(out.data, "{\n  \"v\": "
	    "\"\\u007F\\u00E9\\u001B\\u009B\"\n}\n");
	for (i = 0; i < out.len; i++)
		ck_assert(out.data[i] == '\n' || (out.data[i] >= 0x20 &&
		    out.data[i] < 0x7f));
	buf_free(&out);
	json_decref(doc);
}
END_TEST

static Suite *
diff_suite(void)
{
	Suite	*s = suite_create("diff");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, key_orders_the_query_and_hides_marker_hashes);
	tcase_add_test(tc, identical_requests_pair_in_recorded_order);
	tcase_add_test(tc, entries_only_in_one_side_in_reading_order);
	tcase_add_test(tc, pair_reports_status_and_bodies_by_pointer);
	tcase_add_test(tc, pair_reports_only_the_headers_that_matter);
	tcase_add_test(tc, pair_reports_credentials_in_query_and_body);
	tcase_add_test(tc, pair_reports_diagnoses_by_code_and_path);
	tcase_add_test(tc, pair_reports_patchscope_errors);
	tcase_add_test(tc, one_origin_each_aligns_without_it);
	tcase_add_test(tc, hostile_strings_stay_valid_json);
	tcase_add_test(tc, text_escapes_control_characters_and_cuts);
	tcase_add_test(tc, text_report_reads_top_to_bottom);
	tcase_add_test(tc, json_text_is_printable_ascii);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(diff_suite());
}
