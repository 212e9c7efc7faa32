/*
 * Unit tests for replay: keys (origin, order-free query, JSON bodies,
 * match headers), sequences, origin-form requests, the miss report and
 * the end-of-run report, a 100,000-entry index, and the answers' heads
 * serialized once.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "exchange.h"
#include "http.h"
#include "replay.h"
#include "xmalloc.h"
#include "unit.h"

/* Fill x with a request (answered 200); body NULL: none. */
static void
mk(struct exchange *x, const char *method, const char *url, const char *body)
{
	exchange_init(x);
	x->status = 200;
	x->method = xstrdup(method);
	x->url = xstrdup(url);
	if (body != NULL)
		exchange_body_set(&x->req_body, body, strlen(body));
}

static void
hdr(struct exchange *x, const char *name, const char *value)
{
	http_headers_add(&x->req_headers, name, strlen(name), value,
	    strlen(value));
}

/* Add a request to the index; return its entry number. */
static size_t
add(struct replay_index *idx, const char *method, const char *url,
    const char *body)
{
	struct exchange	x;
	size_t		e;

	mk(&x, method, url, body);
	e = replay_add(idx, &x);
	exchange_free(&x);
	return e;
}

/* Match a request; return the entry number, or -1 on a miss. */
static long
match(struct replay_index *idx, struct exchange *req, int origin_form,
    struct replay_hit *hit)
{
	struct replay_hit	h;
	long			rc;

	if (hit == NULL)
		hit = &h;
	rc = replay_match(idx, req, origin_form, hit) == 0 ?
	    (long)hit->entry : -1;
	exchange_free(req);
	return rc;
}

static long
get(struct replay_index *idx, const char *method, const char *url,
    const char *body)
{
	struct exchange	x;

	mk(&x, method, url, body);
	return match(idx, &x, 0, NULL);
}

/* Assert that got equals the JSON text want; got is released. */
static void
json_check(json_t *got, const char *want)
{
	json_error_t	 err;
	json_t		*w;
	char		*a, *b;

	w = json_loads(want, 0, &err);
	ck_assert_msg(w != NULL, "bad expected JSON: %s", err.text);
	if (!json_equal(got, w)) {
		a = json_dumps(got, JSON_SORT_KEYS);
		b = json_dumps(w, JSON_SORT_KEYS);
		ck_abort_msg("got %s\nwant %s", a, b);
	}
	json_decref(w);
	json_decref(got);
}

/* The miss report of a request, with the request released. */
static json_t *
report_of(struct replay_index *idx, struct exchange *req, int origin_form)
{
	json_t	*doc;

	doc = replay_miss_report(idx, req, origin_form);
	exchange_free(req);
	ck_assert_ptr_nonnull(doc);
	return doc;
}

#define API	"https://api.example.com/v1/acc/profiles/p1"

START_TEST(exact_key_matches_and_moves_the_exchange)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;

	mk(&x, "GET", API "?x=1", NULL);
	ck_assert_uint_eq(replay_add(idx, &x), 0);
	ck_assert_ptr_null(x.method);
	ck_assert_ptr_null(x.url);
	ck_assert_uint_eq(add(idx, "POST", API "?x=1", NULL), 1);
	ck_assert_uint_eq(replay_count(idx), 2);
	ck_assert_str_eq(replay_entry(idx, 1)->method, "POST");
	ck_assert_ptr_null(replay_entry(idx, 2));

	ck_assert_int_eq(get(idx, "GET", API "?x=1", NULL), 0);
	ck_assert_int_eq(get(idx, "POST", API "?x=1", NULL), 1);
	/* Host case and an explicit default port do not matter. */
	ck_assert_int_eq(get(idx, "GET",
	    "https://API.Example.COM:443/v1/acc/profiles/p1?x=1", NULL), 0);
	/* The method is exact; path, query and scheme count. */
	ck_assert_int_eq(get(idx, "get", API "?x=1", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", API "/?x=1", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", API "?x=2", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", API, NULL), -1);
	ck_assert_int_eq(get(idx, "GET",
	    "http://api.example.com/v1/acc/profiles/p1?x=1", NULL), -1);
	/* A fragment is not part of the key. */
	ck_assert_int_eq(get(idx, "GET", API "?x=1#frag", NULL), 0);
	replay_free(idx);
	replay_free(NULL);
}
END_TEST

START_TEST(query_order_does_not_matter)
{
	struct replay_index	*idx = replay_new(NULL, 0);

	add(idx, "GET", API "?a=1&b=2&c=%20x&flag", NULL);
	ck_assert_int_eq(get(idx, "GET", API "?flag&c=+x&b=2&a=1", NULL), 0);
	ck_assert_int_eq(get(idx, "GET", API "?b=2&%61=1&flag&c=%20x", NULL),
	    0);
	ck_assert_int_eq(get(idx, "GET", API "?a=1&b=2&c=x&flag", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", API "?a=1&b=2&c=%20x", NULL), -1);
	replay_free(idx);
}
END_TEST

START_TEST(duplicated_params_are_kept)
{
	struct replay_index	*idx = replay_new(NULL, 0);

	add(idx, "GET", API "?f=a&f=b", NULL);
	ck_assert_int_eq(get(idx, "GET", API "?f=b&f=a", NULL), 0);
	ck_assert_int_eq(get(idx, "GET", API "?f=a", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", API "?f=a&f=b&f=b", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", API "?f=a,b", NULL), -1);
	replay_free(idx);
}
END_TEST

START_TEST(json_bodies_match_as_json)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;

	add(idx, "PATCH", API, "{\"a\":1,\"b\":[1,{\"c\":\"d\",\"e\":null}]}");
	ck_assert_int_eq(get(idx, "PATCH", API,
	    "\n {\"b\": [1, {\"e\": null, \"c\": \"d\"}],\n\t\"a\": 1}\n"), 0);
	/* Arrays keep their order; values and types count. */
	ck_assert_int_eq(get(idx, "PATCH", API,
	    "{\"b\":[{\"c\":\"d\",\"e\":null},1],\"a\":1}"), -1);
	ck_assert_int_eq(get(idx, "PATCH", API,
	    "{\"b\":[1,{\"c\":\"d\",\"e\":null}],\"a\":\"1\"}"), -1);

	/* A scalar is JSON when the Content-Type says so. */
	mk(&x, "POST", API, "\"hello\"");
	hdr(&x, "Content-Type", "application/json; charset=utf-8");
	replay_add(idx, &x);
	mk(&x, "POST", API, "  \"hello\" ");
	hdr(&x, "content-type", "application/merge-patch+json");
	ck_assert_int_eq(match(idx, &x, 0, NULL), 1);
	mk(&x, "POST", API, "  \"hello\" ");
	ck_assert_int_eq(match(idx, &x, 0, NULL), -1);
	replay_free(idx);
}
END_TEST

START_TEST(other_bodies_match_by_bytes)
{
	struct replay_index	*idx = replay_new(NULL, 0);

	add(idx, "POST", API, "a=1&b=2");
	add(idx, "POST", API, "{not json");
	add(idx, "DELETE", API, NULL);
	ck_assert_int_eq(get(idx, "POST", API, "a=1&b=2"), 0);
	ck_assert_int_eq(get(idx, "POST", API, "b=2&a=1"), -1);
	ck_assert_int_eq(get(idx, "POST", API, "{not json"), 1);
	ck_assert_int_eq(get(idx, "POST", API, "{not  json"), -1);
	/* No body and an empty body are the same. */
	ck_assert_int_eq(get(idx, "DELETE", API, ""), 2);
	ck_assert_int_eq(get(idx, "DELETE", API, NULL), 2);
	ck_assert_int_eq(get(idx, "DELETE", API, " "), -1);
	replay_free(idx);
}
END_TEST

START_TEST(sequence_in_recorded_order_then_last_repeats)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct replay_hit	 hit;
	struct exchange		 x;
	const size_t		 want[][3] = {
		{ 0, 1, 3 }, { 1, 2, 3 }, { 3, 3, 3 }, { 3, 3, 3 }
	};
	size_t			 i;

	add(idx, "GET", API, NULL);
	add(idx, "GET", API, NULL);
	add(idx, "GET", API "/other", NULL);
	add(idx, "GET", API, NULL);
	for (i = 0; i < 4; i++) {
		mk(&x, "GET", API, NULL);
		ck_assert_int_eq(match(idx, &x, 0, &hit), (long)want[i][0]);
		ck_assert_uint_eq(hit.nth, want[i][1]);
		ck_assert_uint_eq(hit.of, want[i][2]);
		ck_assert_ptr_eq(hit.x, replay_entry(idx, want[i][0]));
	}
	mk(&x, "GET", API "/other", NULL);
	ck_assert_int_eq(match(idx, &x, 0, &hit), 2);
	ck_assert_uint_eq(hit.nth, 1);
	ck_assert_uint_eq(hit.of, 1);
	replay_free(idx);
}
END_TEST

START_TEST(interleaved_sequences_keep_separate_counters)
{
	struct replay_index	*idx = replay_new(NULL, 0);

	add(idx, "GET", API, NULL);
	add(idx, "PATCH", API, "{\"a\":1}");
	add(idx, "GET", API, NULL);
	add(idx, "PATCH", API, "{\"a\":1}");
	ck_assert_int_eq(get(idx, "GET", API, NULL), 0);
	ck_assert_int_eq(get(idx, "PATCH", API, "{\"a\": 1}"), 1);
	ck_assert_int_eq(get(idx, "GET", API, NULL), 2);
	ck_assert_int_eq(get(idx, "GET", API, NULL), 2);
	ck_assert_int_eq(get(idx, "PATCH", API, "{\"a\":1}"), 3);
	ck_assert_int_eq(get(idx, "PATCH", API, "{\"a\":1}"), 3);
	replay_free(idx);
}
END_TEST

/* A recorded response: status, reason, headers "Name: value" pairs. */
static void
mk_resp(struct exchange *x, int status, const char *reason,
    const char *const *h, size_t nh, const char *body)
{
	size_t	i;

	exchange_init(x);
	x->method = xstrdup("GET");
	x->url = xstrdup(API);
	x->status = status;
	x->reason = reason != NULL ? xstrdup(reason) : NULL;
	for (i = 0; i + 1 < nh; i += 2)
		http_headers_add(&x->resp_headers, h[i], strlen(h[i]), h[i + 1],
		    strlen(h[i + 1]));
	if (body != NULL)
		exchange_body_set(&x->resp_body, body, strlen(body));
}

START_TEST(answer_head_strips_hop_headers_and_sets_length)
{
	static const char *const h[] = {
		"Server", "fake/1.0",
		"Connection", "X-Hop, close",
		"Keep-Alive", "timeout=5",
		"X-Hop", "1",
		"Content-Length", "999",
		"Content-Type", "application/json; charset=utf-8",
	};
	struct exchange		 x;
	struct replay_answer	*a;

	mk_resp(&x, 200, "OK", h, sizeof h / sizeof h[0], "{\"id\":1}");
	a = replay_answer_new(&x);
	ck_assert_uint_eq(a->headlen, strlen(a->head));
	ck_assert_str_eq(a->head, "HTTP/1.1 200 OK\r\n"
	    "Server: fake/1.0\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 8\r\n");
	ck_assert_int_eq(a->json, 1);
	ck_assert_int_eq(a->encoded, 0);
	replay_answer_free(a);
	exchange_free(&x);
}
END_TEST

/* HEAD, 204, 304: no body, so the recorded headers stay as they were. */
START_TEST(answer_head_without_a_body_keeps_the_recorded_length)
{
	static const char *const h[] = {
		"Content-Length", "325",
		"Content-Encoding", "gzip",
		"ETag", "\"v1\"",
	};
	struct exchange		x;
	struct replay_answer	a;
	struct buf		b = { NULL, 0, 0 };

	mk_resp(&x, 304, NULL, h, sizeof h / sizeof h[0], NULL);
	memset(&a, 0, sizeof a);
	replay_answer_head(&x, 0, &b, &a);
	ck_assert_str_eq(buf_str(&b), "HTTP/1.1 304 Not Modified\r\n"
	    "Content-Length: 325\r\nContent-Encoding: gzip\r\n"
	    "ETag: \"v1\"\r\n");
	ck_assert_int_eq(a.json, 0);
	ck_assert_int_eq(a.encoded, 1);
	buf_free(&b);
	exchange_free(&x);
	/* An empty body still has its Content-Length: 0. */
	mk_resp(&x, 200, "", NULL, 0, "");
	replay_answer_head(&x, 1, &b, NULL);
	ck_assert_str_eq(buf_str(&b), "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 0\r\n");
	buf_free(&b);
	exchange_free(&x);
}
END_TEST

START_TEST(answer_tail_has_the_hit_and_connection)
{
	struct replay_hit	hit;
	char			out[REPLAY_TAIL_MAX];
	size_t			n;

	memset(&hit, 0, sizeof hit);
	hit.entry = 12;
	hit.nth = 3;
	hit.of = 40;
	n = replay_answer_tail(out, &hit, NULL);
	out[n] = '\0';
	ck_assert_str_eq(out, "X-Patchscope-Replay: hit\r\n"
	    "X-Patchscope-Replay-Entry: 12\r\n"
	    "X-Patchscope-Replay-Sequence: 3/40\r\n\r\n");
	hit.entry = 0;
	hit.nth = hit.of = (size_t)-1;
	n = replay_answer_tail(out, &hit, "keep-alive");
	ck_assert_uint_lt(n, REPLAY_TAIL_MAX);
	out[n] = '\0';
	ck_assert_str_eq(out, "X-Patchscope-Replay: hit\r\n"
	    "X-Patchscope-Replay-Entry: 0\r\n"
	    "X-Patchscope-Replay-Sequence: 18446744073709551615/"
	    "18446744073709551615\r\nConnection: keep-alive\r\n\r\n");
}
END_TEST

/* The prebuilt head and its tail are the bytes of the head built header
 * by header, as replay_serve.c builds it when it cannot use them. */
START_TEST(answer_is_the_head_built_header_by_header)
{
	static const char *const h[] = {
		"Date", "Sat, 28 Nov 2026 09:00:00 GMT",
		"content-length", "1",
		"Proxy-Connection", "keep-alive",
		"Content-Type", "text/plain",
		"Trailer", "X-T",
		"Vary", "Accept",
	};
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;
	struct http_headers	 o = { NULL, 0, 0 };
	struct buf		 slow = { NULL, 0, 0 }, fast = { NULL, 0, 0 };
	struct replay_hit	 hit;
	char			 tail[REPLAY_TAIL_MAX];
	const struct replay_answer *first;

	mk_resp(&x, 201, "Made", h, sizeof h / sizeof h[0], "hello");
	replay_add(idx, &x);
	exchange_free(&x);
	mk(&x, "GET", API, NULL);
	ck_assert_int_eq(replay_match(idx, &x, 0, &hit), 0);
	ck_assert_ptr_nonnull(hit.answer);
	first = hit.answer;
	exchange_headers_copy(&o, &hit.x->resp_headers);
	http_headers_strip_hop(&o);
	http_headers_set_length(&o, hit.x->resp_body.len);
	http_headers_add(&o, HTTP_LIT(HTTP_X_REPLAY), HTTP_LIT("hit"));
	http_headers_add(&o, HTTP_LIT(HTTP_X_REPLAY_ENTRY), HTTP_LIT("0"));
	http_headers_add(&o, HTTP_LIT(HTTP_X_REPLAY_SEQUENCE),
	    HTTP_LIT("1/1"));
	http_headers_add(&o, HTTP_LIT(HTTP_CONNECTION), HTTP_LIT("close"));
	http_response_head(&slow, 201, "Made", &o);
	buf_add(&fast, hit.answer->head, hit.answer->headlen);
	buf_add(&fast, tail, replay_answer_tail(tail, &hit, "close"));
	ck_assert_str_eq(buf_str(&fast), buf_str(&slow));
	ck_assert_int_eq(hit.answer->json, 0);
	/* Built once: the next hit has the same one. */
	ck_assert_int_eq(replay_match(idx, &x, 0, &hit), 0);
	ck_assert_ptr_eq(hit.answer, first);
	http_headers_clear(&o);
	buf_free(&slow);
	buf_free(&fast);
	exchange_free(&x);
	replay_free(idx);
}
END_TEST

START_TEST(origin_form_uses_the_only_origin)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;

	add(idx, "GET", API "?a=1", NULL);
	mk(&x, "GET", "http://127.0.0.1:8099/v1/acc/profiles/p1?a=1", NULL);
	hdr(&x, "Host", "127.0.0.1:8099");
	ck_assert_int_eq(match(idx, &x, 1, NULL), 0);
	mk(&x, "GET", "http://localhost/v1/acc/profiles/p1?a=1", NULL);
	ck_assert_int_eq(match(idx, &x, 1, NULL), 0);
	/* As an absolute-form request, the origin counts. */
	mk(&x, "GET", "http://localhost/v1/acc/profiles/p1?a=1", NULL);
	ck_assert_int_eq(match(idx, &x, 0, NULL), -1);
	mk(&x, "GET", "http://localhost/v1/acc/profiles/p1?a=2", NULL);
	ck_assert_int_eq(match(idx, &x, 1, NULL), -1);
	replay_free(idx);
}
END_TEST

START_TEST(origin_form_host_header_picks_among_origins)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;
	const struct {
		const char	*host;		/* NULL: no Host header */
		long		 entry;
	} cases[] = {
		{ "b.example.com:8080", 1 },
		{ "B.Example.com", 1 },
		{ "b.example.com:9999", 0 },
		{ "a.example.com", 0 },
		{ "[::1]:8443", 2 },
		{ "[::1]", 2 },
		{ "nowhere.example", 0 },
		{ NULL, 0 },
	};
	size_t			 i;

	add(idx, "GET", "https://a.example.com/v1/x", NULL);
	add(idx, "GET", "http://b.example.com:8080/v1/x", NULL);
	add(idx, "GET", "https://[::1]:8443/v1/x", NULL);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mk(&x, "GET", "http://localhost/v1/x", NULL);
		if (cases[i].host != NULL)
			hdr(&x, "Host", cases[i].host);
		ck_assert_msg(match(idx, &x, 1, NULL) == cases[i].entry,
		    "Host %s", cases[i].host);
	}
	replay_free(idx);
}
END_TEST

START_TEST(absolute_form_compares_scheme_host_and_port)
{
	struct replay_index	*idx = replay_new(NULL, 0);

	add(idx, "GET", "http://a.example:8080/x", NULL);
	add(idx, "GET", "http://[::1]:8080/x", NULL);
	add(idx, "GET", "https://user@c.example/x", NULL);
	ck_assert_int_eq(get(idx, "GET", "http://a.example:8081/x", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", "http://a.example/x", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", "https://a.example:8080/x", NULL),
	    -1);
	ck_assert_int_eq(get(idx, "GET", "http://a.example:8080/x", NULL), 0);
	ck_assert_int_eq(get(idx, "GET", "http://[::1]:8080/x", NULL), 1);
	ck_assert_int_eq(get(idx, "GET", "http://[::1]/x", NULL), -1);
	ck_assert_int_eq(get(idx, "GET", "https://c.example:443/x", NULL), 2);
	replay_free(idx);
}
END_TEST

START_TEST(match_headers_present_absent_or_different)
{
	const char *const	 names[] = { "X-Tenant", "Accept" };
	struct replay_index	*idx = replay_new(names, 2);
	struct exchange		 x;
	const struct {
		const char	*tenant;	/* NULL: absent */
		long		 entry;
	} cases[] = {
		{ "t1", 0 }, { NULL, 1 }, { "", 2 }, { "t2", -1 },
	};
	size_t			 i;

	mk(&x, "GET", API, NULL);
	hdr(&x, "X-Tenant", "t1");
	replay_add(idx, &x);
	mk(&x, "GET", API, NULL);
	replay_add(idx, &x);
	mk(&x, "GET", API, NULL);
	hdr(&x, "X-Tenant", "");
	replay_add(idx, &x);
	mk(&x, "GET", API, NULL);
	hdr(&x, "Accept", "a");
	hdr(&x, "X-Other", "ignored");
	hdr(&x, "accept", "b");
	replay_add(idx, &x);

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mk(&x, "GET", API, NULL);
		hdr(&x, "X-Other", "not compared");
		if (cases[i].tenant != NULL)
			hdr(&x, "x-tenant", cases[i].tenant);
		ck_assert_msg(match(idx, &x, 0, NULL) == cases[i].entry,
		    "X-Tenant %s", cases[i].tenant);
	}
	/* Repeated headers compare as their values joined with ", ". */
	mk(&x, "GET", API, NULL);
	hdr(&x, "ACCEPT", "a, b");
	ck_assert_int_eq(match(idx, &x, 0, NULL), 3);
	mk(&x, "GET", API, NULL);
	hdr(&x, "Accept", "b");
	hdr(&x, "Accept", "a");
	ck_assert_int_eq(match(idx, &x, 0, NULL), -1);
	replay_free(idx);
}
END_TEST

START_TEST(miss_report_names_a_method_difference)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;

	add(idx, "GET", API, NULL);
	mk(&x, "PATCH", "http://localhost/v1/acc/profiles/p1", NULL);
	json_check(report_of(idx, &x, 1), "{\"source\": \"patchscope\", "
	    "\"status\": 404, \"error\": \"replay_miss\", \"message\": "
	    "\"no recorded exchange matches PATCH /v1/acc/profiles/p1; the "
	    "nearest is entry 0 (GET " API "), which differs in: method\", "
	    "\"request\": {\"method\": \"PATCH\", \"url\": "
	    "\"http://localhost/v1/acc/profiles/p1\"}, \"nearest\": "
	    "{\"entry\": 0, \"method\": \"GET\", \"url\": \"" API "\", "
	    "\"differences\": [{\"field\": \"method\", \"recorded\": \"GET\", "
	    "\"received\": \"PATCH\"}]}}");
	replay_free(idx);
}
END_TEST

START_TEST(miss_report_names_origin_and_path_differences)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;
	json_t			*doc;

	add(idx, "GET", "https://a.example/v1/one", NULL);
	mk(&x, "GET", "http://b.example/v1/two", NULL);
	doc = report_of(idx, &x, 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "message")),
	    "no recorded exchange matches GET /v1/two; the nearest is entry 0 "
	    "(GET https://a.example/v1/one), which differs in: origin, path");
	json_check(json_incref(json_object_get(doc, "nearest")),
	    "{\"entry\": 0, \"method\": \"GET\", \"url\": "
	    "\"https://a.example/v1/one\", \"differences\": ["
	    "{\"field\": \"origin\", \"recorded\": \"https://a.example:443\", "
	    "\"received\": \"http://b.example:80\"}, "
	    "{\"field\": \"path\", \"recorded\": \"/v1/one\", "
	    "\"received\": \"/v1/two\"}]}");
	json_decref(doc);

	/* Origin-form: the origin is not a difference. */
	mk(&x, "GET", "http://b.example/v1/two", NULL);
	doc = report_of(idx, &x, 1);
	ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(doc,
	    "nearest"), "differences")), 1);
	json_decref(doc);
	replay_free(idx);
}
END_TEST

START_TEST(miss_report_names_query_parameters)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;
	json_t			*doc;

	add(idx, "GET", API "?fields=actions&b=1&f=x&f=y", NULL);
	mk(&x, "GET", API "?b=1&c=2&f=y", NULL);
	doc = report_of(idx, &x, 0);
	json_check(json_incref(json_object_get(doc, "nearest")),
	    "{\"entry\": 0, \"method\": \"GET\", \"url\": \"" API
	    "?fields=actions&b=1&f=x&f=y\", \"differences\": ["
	    "{\"field\": \"query\", \"name\": \"c\", \"recorded\": null, "
	    "\"received\": \"2\"}, "
	    "{\"field\": \"query\", \"name\": \"f\", \"recorded\": \"x,y\", "
	    "\"received\": \"y\"}, "
	    "{\"field\": \"query\", \"name\": \"fields\", \"recorded\": "
	    "\"actions\", \"received\": null}]}");
	json_decref(doc);
	replay_free(idx);
}
END_TEST

START_TEST(miss_report_names_body_fields_by_pointer)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;
	json_t			*doc;

	add(idx, "PATCH", API, "{\"actions\": [{\"id\": \"1\", \"anchor\": "
	    "\"BOOKING_CANCELLED\"}], \"a/b~c\": 1, \"gone\": [1]}");
	mk(&x, "PATCH", API, "{\"actions\": [{\"id\": \"1\", \"anchor\": "
	    "\"BOOKING_CANCELED\"}, {\"x\": 1}], \"a/b~c\": 2}");
	doc = report_of(idx, &x, 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "message")),
	    "no recorded exchange matches PATCH /v1/acc/profiles/p1; the "
	    "nearest is entry 0 (PATCH " API "), which differs in: "
	    "body /a~1b~0c, body /actions/0/anchor, body /actions/1, "
	    "body /gone");
	json_check(json_incref(json_object_get(json_object_get(doc,
	    "nearest"), "differences")), "["
	    "{\"field\": \"body\", \"pointer\": \"/a~1b~0c\", \"recorded\": 1, "
	    "\"received\": 2}, "
	    "{\"field\": \"body\", \"pointer\": \"/actions/0/anchor\", "
	    "\"recorded\": \"BOOKING_CANCELLED\", \"received\": "
	    "\"BOOKING_CANCELED\"}, "
	    "{\"field\": \"body\", \"pointer\": \"/actions/1\", \"recorded\": "
	    "null, \"received\": {\"x\": 1}}, "
	    "{\"field\": \"body\", \"pointer\": \"/gone\", \"recorded\": [1], "
	    "\"received\": null}]");
	json_decref(doc);
	replay_free(idx);
}
END_TEST

START_TEST(miss_report_caps_body_differences_and_long_strings)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;
	struct buf		 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	json_t			*doc, *diffs, *last;
	const char		*s;
	char			 big[301];
	int			 i;

	memset(big, 'z', 300);
	big[300] = '\0';
	buf_adds(&a, "{");
	buf_adds(&b, "{");
	for (i = 0; i < 25; i++) {
		buf_printf(&a, "\"k%02d\": %d, ", i, i);
		buf_printf(&b, "\"k%02d\": %d, ", i, i + 100);
	}
	buf_printf(&a, "\"s\": \"%s\"}", big);
	buf_adds(&b, "\"s\": \"short\"}");
	add(idx, "POST", API, a.data);
	mk(&x, "POST", API, b.data);
	doc = report_of(idx, &x, 0);
	diffs = json_object_get(json_object_get(doc, "nearest"),
	    "differences");
	ck_assert_uint_eq(json_array_size(diffs), 21);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    diffs, 0), "pointer")), "/k00");
	last = json_array_get(diffs, 20);
	json_check(json_incref(last),
	    "{\"field\": \"body\", \"pointer\": \"\", \"more\": 6}");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(doc,
	    "message")), "body /k05 and 20 more"));
	json_decref(doc);

	/* The long string alone: cut to 200 bytes and "...". */
	buf_reset(&b);
	buf_adds(&b, a.data);
	b.data[b.len - 3] = 'y';
	mk(&x, "POST", API, b.data);
	doc = report_of(idx, &x, 0);
	diffs = json_object_get(json_object_get(doc, "nearest"),
	    "differences");
	ck_assert_uint_eq(json_array_size(diffs), 1);
	s = json_string_value(json_object_get(json_array_get(diffs, 0),
	    "recorded"));
	ck_assert_uint_eq(strlen(s), 203);
	ck_assert_str_eq(s + 200, "...");
	json_decref(doc);
	buf_free(&a);
	buf_free(&b);
	replay_free(idx);
}
END_TEST

START_TEST(miss_report_survives_deep_json)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;
	struct buf		 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	struct buf		 ptr = { NULL, 0, 0 };
	json_t			*doc, *diff;
	int			 i;

	for (i = 0; i < 1000; i++) {
		buf_adds(&a, "[");
		buf_adds(&b, "[");
	}
	buf_adds(&a, "1");
	buf_adds(&b, "2");
	for (i = 0; i < 1000; i++) {
		buf_adds(&a, "]");
		buf_adds(&b, "]");
	}
	for (i = 0; i < 64; i++)
		buf_adds(&ptr, "/0");
	add(idx, "PUT", API, a.data);
	mk(&x, "PUT", API, b.data);
	doc = report_of(idx, &x, 0);
	diff = json_array_get(json_object_get(json_object_get(doc, "nearest"),
	    "differences"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(diff, "pointer")),
	    ptr.data);
	ck_assert(json_is_array(json_object_get(diff, "recorded")));
	json_decref(doc);
	mk(&x, "PUT", API, a.data);
	ck_assert_int_eq(match(idx, &x, 0, NULL), 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&ptr);
	replay_free(idx);
}
END_TEST

START_TEST(miss_report_names_headers_and_raw_bodies)
{
	const char *const	 names[] = { "X-Tenant", "X-Mode" };
	struct replay_index	*idx = replay_new(names, 2);
	struct exchange		 x;
	json_t			*doc;

	mk(&x, "POST", API, "a=1");
	hdr(&x, "X-Tenant", "t1");
	replay_add(idx, &x);
	mk(&x, "POST", API, "{\"a\": 1}");
	hdr(&x, "X-Tenant", "t2");
	hdr(&x, "X-Mode", "m");
	doc = report_of(idx, &x, 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "message")),
	    "no recorded exchange matches POST /v1/acc/profiles/p1; the "
	    "nearest is entry 0 (POST " API "), which differs in: "
	    "header X-Tenant, header X-Mode, body");
	json_check(json_incref(json_object_get(json_object_get(doc,
	    "nearest"), "differences")), "["
	    "{\"field\": \"header\", \"name\": \"X-Tenant\", \"recorded\": "
	    "\"t1\", \"received\": \"t2\"}, "
	    "{\"field\": \"header\", \"name\": \"X-Mode\", \"recorded\": null, "
	    "\"received\": \"m\"}, "
	    "{\"field\": \"body\", \"recorded_bytes\": 3, "
	    "\"received_bytes\": 8}]");
	json_decref(doc);
	replay_free(idx);
}
END_TEST

START_TEST(miss_report_for_an_empty_cassette)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;

	mk(&x, "GET", "http://localhost/v1/x?a=1", NULL);
	json_check(report_of(idx, &x, 1), "{\"source\": \"patchscope\", "
	    "\"status\": 404, \"error\": \"replay_miss\", \"message\": "
	    "\"no recorded exchange matches GET /v1/x; the cassette has no "
	    "entries\", \"request\": {\"method\": \"GET\", \"url\": "
	    "\"http://localhost/v1/x?a=1\"}, \"nearest\": null}");
	replay_free(idx);
}
END_TEST

START_TEST(nearest_prefers_same_path_then_fewest_then_earliest)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct exchange		 x;
	json_t			*doc;

	add(idx, "GET", API "/b", NULL);
	add(idx, "POST", API "/b", "{\"a\": 2, \"b\": 1, \"c\": 1}");
	add(idx, "POST", API "/b", "{\"a\": 1, \"b\": 1, \"c\": 2}");
	add(idx, "POST", API "/b", "{\"a\": 1, \"b\": 1, \"c\": 2}");
	add(idx, "POST", API "/c", "{\"a\": 1, \"b\": 1, \"c\": 3}");
	mk(&x, "POST", API "/b", "{\"a\": 1, \"b\": 1, \"c\": 3}");
	doc = report_of(idx, &x, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    doc, "nearest"), "entry")), 2);
	json_decref(doc);
	/* No entry with that method and path: one with the path. */
	mk(&x, "DELETE", API "/b", NULL);
	doc = report_of(idx, &x, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    doc, "nearest"), "entry")), 0);
	json_decref(doc);
	/* Nothing with the path: the fewest differences of all. */
	mk(&x, "POST", API "/d", "{\"a\": 1, \"b\": 1, \"c\": 3}");
	doc = report_of(idx, &x, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    doc, "nearest"), "entry")), 4);
	json_decref(doc);
	replay_free(idx);
}
END_TEST

START_TEST(report_lists_unused_entries_and_misses)
{
	struct replay_index	*idx = replay_new(NULL, 0);

	add(idx, "GET", "https://a.example/one", NULL);
	add(idx, "GET", "https://a.example/two", NULL);
	add(idx, "PUT", "https://a.example/one", "x");
	ck_assert(replay_stale(idx));
	ck_assert_int_eq(get(idx, "GET", "https://a.example/one", NULL), 0);
	ck_assert_int_eq(get(idx, "GET", "https://a.example/one", NULL), 0);
	ck_assert_int_eq(get(idx, "PUT", "https://a.example/one", "y"), -1);
	ck_assert_int_eq(get(idx, "GET", "https://b.example/zzz", NULL), -1);
	json_check(replay_report(idx), "{\"entries\": 3, \"served\": 1, "
	    "\"unused\": [{\"entry\": 1, \"method\": \"GET\", \"url\": "
	    "\"https://a.example/two\"}, {\"entry\": 2, \"method\": \"PUT\", "
	    "\"url\": \"https://a.example/one\"}], \"misses\": ["
	    "{\"method\": \"PUT\", \"url\": \"https://a.example/one\", "
	    "\"nearest\": 2}, {\"method\": \"GET\", \"url\": "
	    "\"https://b.example/zzz\", \"nearest\": 0}]}");
	ck_assert(replay_stale(idx));
	replay_free(idx);

	idx = replay_new(NULL, 0);
	add(idx, "GET", "https://a.example/one", NULL);
	ck_assert(replay_stale(idx));
	ck_assert_int_eq(get(idx, "GET", "https://a.example/one", NULL), 0);
	ck_assert(!replay_stale(idx));
	json_check(replay_report(idx), "{\"entries\": 1, \"served\": 1, "
	    "\"unused\": [], \"misses\": []}");
	ck_assert_int_eq(get(idx, "GET", "https://a.example/two", NULL), -1);
	ck_assert(replay_stale(idx));
	replay_free(idx);
}
END_TEST

START_TEST(entries_with_no_response_never_match_and_are_not_unused)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct replay_hit	 hit;
	struct exchange		 x;
	json_t			*report;

	/* A reset recorded (status 0), then the retry's answer. */
	mk(&x, "PATCH", API, "{}");
	x.status = 0;
	x.fault = xstrdup("reset");
	ck_assert_uint_eq(replay_add(idx, &x), 0);
	exchange_free(&x);
	add(idx, "PATCH", API, "{}");
	ck_assert_ptr_nonnull(replay_entry(idx, 0));
	ck_assert_str_eq(replay_entry(idx, 0)->fault, "reset");
	ck_assert_uint_eq(replay_count(idx), 2);
	mk(&x, "PATCH", API, "{}");
	ck_assert_int_eq(match(idx, &x, 0, &hit), 1);
	ck_assert_uint_eq(hit.nth, 1);
	ck_assert_uint_eq(hit.of, 1);
	ck_assert(!replay_stale(idx));
	json_check(replay_report(idx), "{\"entries\": 2, \"served\": 1, "
	    "\"unused\": [], \"misses\": []}");
	/* A miss never names it as the nearest. */
	mk(&x, "PATCH", API "/x", "{}");
	ck_assert_int_eq(match(idx, &x, 0, &hit), -1);
	report = replay_report(idx);
	json_check(json_incref(json_object_get(report, "misses")), "[{\"method\": \"PATCH\", \"url\": \"" API "/x\", "
	    "\"nearest\": 1}]");
	json_decref(report);
	replay_free(idx);
}
END_TEST

START_TEST(report_caps_the_miss_list)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	json_t			*doc;
	int			 i;

	for (i = 0; i < 1005; i++)
		ck_assert_int_eq(get(idx, "GET", "http://a/x", NULL), -1);
	doc = replay_report(idx);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "misses")),
	    1000);
	ck_assert_int_eq(json_integer_value(json_object_get(doc,
	    "misses_total")), 1005);
	ck_assert(json_is_null(json_object_get(json_array_get(
	    json_object_get(doc, "misses"), 0), "nearest")));
	json_decref(doc);
	replay_free(idx);
}
END_TEST

START_TEST(hundred_thousand_entries_index_and_match)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct replay_hit	 hit;
	struct exchange		 x;
	char			 url[128], body[64];
	size_t			 i, n = 100000;

	for (i = 0; i < n; i++) {
		snprintf(url, sizeof url, "https://api.example.com/v1/acc/"
		    "profiles/p%zu?fields=actions&n=%zu", i % 1000, i / 1000);
		snprintf(body, sizeof body, "{\"i\": %zu}", i % 7);
		mk(&x, i % 2 ? "PATCH" : "GET", url, i % 2 ? body : NULL);
		ck_assert_uint_eq(replay_add(idx, &x), i);
	}
	ck_assert_uint_eq(replay_count(idx), n);
	for (i = n; i-- > 0;) {
		snprintf(url, sizeof url, "https://api.example.com/v1/acc/"
		    "profiles/p%zu?n=%zu&fields=actions", i % 1000, i / 1000);
		snprintf(body, sizeof body, "{ \"i\" : %zu }", i % 7);
		mk(&x, i % 2 ? "PATCH" : "GET", url, i % 2 ? body : NULL);
		ck_assert_int_eq(match(idx, &x, 0, &hit), (long)i);
		ck_assert_uint_eq(hit.of, 1);
	}
	ck_assert(!replay_stale(idx));
	replay_free(idx);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("replay");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, exact_key_matches_and_moves_the_exchange);
	tcase_add_test(tc, query_order_does_not_matter);
	tcase_add_test(tc, duplicated_params_are_kept);
	tcase_add_test(tc, json_bodies_match_as_json);
	tcase_add_test(tc, other_bodies_match_by_bytes);
	tcase_add_test(tc, sequence_in_recorded_order_then_last_repeats);
	tcase_add_test(tc, interleaved_sequences_keep_separate_counters);
	tcase_add_test(tc, origin_form_uses_the_only_origin);
	tcase_add_test(tc, origin_form_host_header_picks_among_origins);
	tcase_add_test(tc, absolute_form_compares_scheme_host_and_port);
	tcase_add_test(tc, match_headers_present_absent_or_different);
	tcase_add_test(tc, miss_report_names_a_method_difference);
	tcase_add_test(tc, miss_report_names_origin_and_path_differences);
	tcase_add_test(tc, miss_report_names_query_parameters);
	tcase_add_test(tc, miss_report_names_body_fields_by_pointer);
	tcase_add_test(tc, miss_report_caps_body_differences_and_long_strings);
	tcase_add_test(tc, miss_report_survives_deep_json);
	tcase_add_test(tc, miss_report_names_headers_and_raw_bodies);
	tcase_add_test(tc, miss_report_for_an_empty_cassette);
	tcase_add_test(tc, nearest_prefers_same_path_then_fewest_then_earliest);
	tcase_add_test(tc, report_lists_unused_entries_and_misses);
	tcase_add_test(tc,
	    entries_with_no_response_never_match_and_are_not_unused);
	tcase_add_test(tc, report_caps_the_miss_list);
	tcase_add_test(tc, hundred_thousand_entries_index_and_match);
	tcase_add_test(tc, answer_head_strips_hop_headers_and_sets_length);
	tcase_add_test(tc, answer_head_without_a_body_keeps_the_recorded_length);
	tcase_add_test(tc, answer_tail_has_the_hit_and_connection);
	tcase_add_test(tc, answer_is_the_head_built_header_by_header);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
