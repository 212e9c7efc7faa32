/*
 * Unit tests for drift, the pure core of `patchscope drift`: severities,
 * redaction markers, which entries are sent, the headers of a live
 * request, what redaction learns from a recording, a live answer made
 * into an exchange, the comparison, the text and JSON of changes (hostile
 * bytes escaped), and the entries' bytes of a cassette rewritten.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "buf.h"
#include "cassette.h"
#include "drift.h"
#include "exchange.h"
#include "http.h"
#include "redact.h"
#include "xmalloc.h"
#include "unit.h"
#include "unit_zlib.h"

#define MARK	"redacted:0123456789ab"

static void
add(struct http_headers *h, const char *name, const char *value)
{
	http_headers_add(h, name, strlen(name), value, strlen(value));
}

/* A recorded GET of url answered 200 with a JSON body. */
static void
recorded(struct exchange *x, const char *method, const char *url,
    const char *body)
{
	exchange_init(x);
	x->method = xstrdup(method);
	x->url = xstrdup(url);
	x->http_version = xstrdup("HTTP/1.1");
	x->status = 200;
	x->reason = xstrdup("OK");
	add(&x->resp_headers, "Content-Type", "application/json");
	if (body != NULL)
		exchange_body_set(&x->resp_body, body, strlen(body));
}

/* The same, with another answer body (and status). */
static void
live_of(struct exchange *live, const struct exchange *rec, int status,
    const char *body)
{
	recorded(live, rec->method, rec->url, body);
	live->status = status;
}

/* Compare bodies a (recorded) and b (live) of one GET. */
static void
compare(const char *a, const char *b, unsigned flags,
    struct drift_changes *out)
{
	struct exchange	 rec, live;
	struct redactor	*r = redact_new();

	recorded(&rec, "GET", "https://api.test/v1/p", a);
	live_of(&live, &rec, 200, b);
	memset(out, 0, sizeof *out);
	drift_compare(&rec, &live, r, flags, out);
	exchange_free(&rec);
	exchange_free(&live);
	redact_free(r);
}

static const char *
text_of(const struct drift_change *c, struct buf *b)
{
	buf_reset(b);
	drift_change_text(b, c);
	return buf_str(b);
}

START_TEST(severities_follow_the_design)
{
	ck_assert_int_eq(drift_severity_of(DRIFT_STATUS), DRIFT_ERROR);
	ck_assert_int_eq(drift_severity_of(DRIFT_REMOVED), DRIFT_ERROR);
	ck_assert_int_eq(drift_severity_of(DRIFT_TYPE), DRIFT_ERROR);
	ck_assert_int_eq(drift_severity_of(DRIFT_ADDED), DRIFT_WARNING);
	ck_assert_int_eq(drift_severity_of(DRIFT_ENUM), DRIFT_WARNING);
	ck_assert_int_eq(drift_severity_of(DRIFT_VALUE), DRIFT_INFO);
	ck_assert_str_eq(drift_severity_name(DRIFT_ERROR), "error");
	ck_assert_str_eq(drift_severity_name(DRIFT_WARNING), "warning");
	ck_assert_str_eq(drift_severity_name(DRIFT_INFO), "info");
	ck_assert_str_eq(drift_kind_name(DRIFT_STATUS), "status");
	ck_assert_str_eq(drift_kind_name(DRIFT_ADDED), "added");
	ck_assert_str_eq(drift_kind_name(DRIFT_REMOVED), "removed");
	ck_assert_str_eq(drift_kind_name(DRIFT_TYPE), "type");
	ck_assert_str_eq(drift_kind_name(DRIFT_ENUM), "enum");
	ck_assert_str_eq(drift_kind_name(DRIFT_VALUE), "value");
	ck_assert(drift_method_safe("GET"));
	ck_assert(drift_method_safe("HEAD"));
	ck_assert(!drift_method_safe("PATCH"));
	ck_assert(!drift_method_safe("get"));
	ck_assert(!drift_method_safe("OPTIONS"));
}
END_TEST

START_TEST(markers_are_found_as_written_and_percent_encoded)
{
	static const char *yes[] = {
		MARK, "Basic " MARK, "a=1; session=" MARK "; b=2",
		"x=redacted%3A0123456789ab", "x=redacted%3a0123456789ab&y",
		"{\"token\": \"" MARK "\"}", "rredacted:ffffffffffff",
	};
	static const char *no[] = {
		"", "redacted", "redacted:", "redacted:0123456789a",
		"redacted:0123456789AB", "redacted:0123456789xb",
		"redacted%3B0123456789ab", "redacted%3",
		"REDACTED:0123456789ab",
		"not redacted at all",
	};
	size_t	i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_msg(drift_has_marker(yes[i], strlen(yes[i])), "%s",
		    yes[i]);
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		ck_assert_msg(!drift_has_marker(no[i], strlen(no[i])), "%s",
		    no[i]);
	/* The length is the bound, not a NUL. */
	ck_assert(!drift_has_marker(MARK, strlen(MARK) - 1));
	ck_assert(!drift_has_marker(NULL, 0));
}
END_TEST

START_TEST(plan_sends_safe_whole_requests_only)
{
	struct exchange	 x;
	const char	*why;

	recorded(&x, "GET", "https://api.test/v1/p?fields=id", "{}");
	ck_assert_int_eq(drift_plan_entry(&x, 0, &why), DRIFT_SEND);
	ck_assert_ptr_null(why);
	x.status = 0;
	ck_assert_int_eq(drift_plan_entry(&x, 0, &why), DRIFT_SKIP);
	ck_assert_str_eq(why, "no answer was recorded");
	x.status = 502;
	x.answered_by = xstrdup("patchscope");
	ck_assert_int_eq(drift_plan_entry(&x, 1, &why), DRIFT_SKIP);
	ck_assert_ptr_nonnull(strstr(why, "patchscope answered it"));
	exchange_free(&x);

	recorded(&x, "PATCH", "https://api.test/v1/p", "{}");
	exchange_body_set(&x.req_body, "{\"title\": \"t\"}", 14);
	ck_assert_int_eq(drift_plan_entry(&x, 0, &why), DRIFT_SKIP);
	ck_assert_str_eq(why, "it changes data (send it with --allow-writes)");
	ck_assert_int_eq(drift_plan_entry(&x, 1, &why), DRIFT_SEND);
	exchange_body_set(&x.req_body, "{\"password\": \"" MARK "\"}", 36);
	ck_assert_int_eq(drift_plan_entry(&x, 1, &why), DRIFT_SKIP);
	ck_assert_str_eq(why, "its body holds a redacted value, which cannot "
	    "be supplied");
	exchange_body_set(&x.req_body, "{}", 2);
	x.req_body.truncated = 1;
	ck_assert_int_eq(drift_plan_entry(&x, 1, &why), DRIFT_SKIP);
	ck_assert_str_eq(why, "its body was cut when it was recorded");
	exchange_free(&x);

	recorded(&x, "GET", "https://api.test/v1/p?api_key=" MARK, "{}");
	ck_assert_int_eq(drift_plan_entry(&x, 0, &why), DRIFT_SKIP);
	ck_assert_str_eq(why, "its URL holds a redacted value, which cannot be "
	    "supplied");
	exchange_free(&x);
	recorded(&x, "GET", "https://[::1/v1/p", "{}");
	ck_assert_int_eq(drift_plan_entry(&x, 0, &why), DRIFT_SKIP);
	ck_assert_str_eq(why, "its URL cannot be read");
	exchange_free(&x);
	recorded(&x, "CONNECT", "https://api.test:443/", "{}");
	ck_assert_int_eq(drift_plan_entry(&x, 1, &why), DRIFT_SKIP);
	exchange_free(&x);
}
END_TEST

START_TEST(header_lines_split_and_reserved_names)
{
	char	*name, *value;

	drift_header_split("Authorization:  Basic abc \t", &name, &value);
	ck_assert_str_eq(name, "Authorization");
	ck_assert_str_eq(value, "Basic abc");
	free(name);
	free(value);
	drift_header_split("X-Empty:", &name, &value);
	ck_assert_str_eq(name, "X-Empty");
	ck_assert_str_eq(value, "");
	free(name);
	free(value);
	drift_header_split("X-Colon: a:b", &name, &value);
	ck_assert_str_eq(value, "a:b");
	free(name);
	free(value);
	ck_assert_str_eq(drift_header_reserved("host"), "Host");
	ck_assert_str_eq(drift_header_reserved("CONTENT-LENGTH"),
	    "Content-Length");
	ck_assert_ptr_nonnull(drift_header_reserved("Transfer-Encoding"));
	ck_assert_ptr_nonnull(drift_header_reserved("Connection"));
	ck_assert_ptr_nonnull(drift_header_reserved("Keep-Alive"));
	ck_assert_ptr_nonnull(drift_header_reserved("Proxy-Authorization"));
	ck_assert_ptr_null(drift_header_reserved("Authorization"));
	ck_assert_ptr_null(drift_header_reserved("Cookie"));
	ck_assert_ptr_null(drift_header_reserved("X-Api-Key"));
}
END_TEST

START_TEST(missing_header_names_the_first_redacted_one_not_supplied)
{
	struct exchange	 x;
	char		 l1[] = "authorization: Basic eA==", l2[] =
	    "Authorization: Basic eA==", l3[] = "Cookie: s=1", l4[] =
	    "Authorization-X: y";
	char		*auth[] = { l1 }, *both[] = { l2, l3 };
	char		*prefix[] = { l4 };

	recorded(&x, "GET", "https://api.test/v1/p", "{}");
	add(&x.req_headers, "Accept", "application/json");
	ck_assert_ptr_null(drift_missing_header(&x, NULL, 0));
	/* Hop-by-hop headers are not sent again: nothing to supply. */
	add(&x.req_headers, "Proxy-Authorization", MARK);
	ck_assert_ptr_null(drift_missing_header(&x, NULL, 0));
	add(&x.req_headers, "Authorization", MARK);
	add(&x.req_headers, "Cookie", "a=1; s=" MARK);
	ck_assert_str_eq(drift_missing_header(&x, NULL, 0), "Authorization");
	ck_assert_str_eq(drift_missing_header(&x, prefix, 1), "Authorization");
	ck_assert_str_eq(drift_missing_header(&x, auth, 1), "Cookie");
	ck_assert_ptr_null(drift_missing_header(&x, both, 2));
	exchange_free(&x);
}
END_TEST

START_TEST(request_headers_as_sent_again)
{
	struct exchange		 x;
	struct http_headers	 out = { NULL, 0, 0 };
	struct http_url		 u;
	const char		*err;
	char			 l1[] = "Authorization: Basic eA==", l2[] =
	    "User-Agent:", l3[] = "X-Extra: one", l4[] = "x-extra: two";
	char			*lines[] = { l1, l2, l3, l4 };

	recorded(&x, "PATCH", "https://api.test:8443/v1/p?x=1", "{}");
	add(&x.req_headers, "Host", "elsewhere.test");
	add(&x.req_headers, "User-Agent", "rec/1");
	add(&x.req_headers, "Authorization", MARK);
	add(&x.req_headers, "Accept-Encoding", "br, zstd");
	add(&x.req_headers, "Content-Length", "99");
	add(&x.req_headers, "Content-Encoding", "gzip");
	add(&x.req_headers, "Keep-Alive", "timeout=5");
	add(&x.req_headers, "Accept", "application/json");
	exchange_body_set(&x.req_body, "{\"a\":1}", 7);
	ck_assert_int_eq(http_url_parse(x.url, &u, &err), 0);
	drift_request_headers(&x, &u, lines, 4, &out);
	ck_assert_uint_eq(out.n, 8);
	ck_assert_str_eq(out.v[0].name, "Host");
	ck_assert_str_eq(out.v[0].value, "api.test:8443");
	ck_assert_str_eq(out.v[1].name, "Accept");
	ck_assert_str_eq(out.v[2].name, "Accept-Encoding");
	ck_assert_str_eq(out.v[2].value, "gzip, deflate");
	ck_assert_str_eq(out.v[3].value, "Basic eA==");
	ck_assert_str_eq(out.v[4].name, "X-Extra");
	ck_assert_str_eq(out.v[4].value, "one");
	ck_assert_str_eq(out.v[5].name, "x-extra");
	ck_assert_str_eq(out.v[5].value, "two");
	ck_assert_str_eq(out.v[6].name, "Content-Length");
	ck_assert_str_eq(out.v[6].value, "7");
	ck_assert_str_eq(out.v[7].name, "Connection");
	ck_assert_str_eq(out.v[7].value, "close");
	ck_assert_ptr_null(http_headers_get(&out, "User-Agent"));
	ck_assert_ptr_null(http_headers_get(&out, "Keep-Alive"));
	ck_assert_ptr_null(http_headers_get(&out, "Content-Encoding"));
	http_headers_clear(&out);
	/* A PATCH with an empty body still says so; a GET says nothing. */
	exchange_body_set(&x.req_body, "", 0);
	drift_request_headers(&x, &u, NULL, 0, &out);
	ck_assert_str_eq(http_headers_get(&out, "Content-Length"), "0");
	ck_assert_str_eq(http_headers_get(&out, "Authorization"), MARK);
	http_headers_clear(&out);
	free(x.method);
	x.method = xstrdup("GET");
	drift_request_headers(&x, &u, NULL, 0, &out);
	ck_assert_ptr_null(http_headers_get(&out, "Content-Length"));
	http_headers_clear(&out);
	http_url_free(&u);
	exchange_free(&x);
}
END_TEST

START_TEST(redaction_learns_what_the_recording_redacted)
{
	struct exchange	 x;
	struct redactor	*r = redact_new();

	recorded(&x, "GET", "https://api.test/v1/p",
	    "{\"list\": [{\"partnerRef\": \"" MARK "\"}], \"plain\": \"v\"}");
	add(&x.req_headers, "X-Partner", MARK);
	add(&x.resp_headers, "X-Session-Handle", "h=" MARK);
	add(&x.resp_headers, "X-Plain", "v");
	ck_assert(!redact_header_name(r, "X-Partner"));
	ck_assert(!redact_json_key(r, "partnerRef"));
	drift_learn_redactions(&x, r);
	ck_assert(redact_header_name(r, "X-Partner"));
	ck_assert(redact_header_name(r, "x-session-handle"));
	ck_assert(!redact_header_name(r, "X-Plain"));
	ck_assert(redact_json_key(r, "partnerRef"));
	ck_assert(!redact_json_key(r, "plain"));
	ck_assert(!redact_json_key(r, "list"));
	exchange_free(&x);
	redact_free(r);
}
END_TEST

START_TEST(live_answer_stored_as_recording_stores_it)
{
	struct exchange		 rec, live;
	struct drift_answer	 a;
	struct http_headers	 sent = { NULL, 0, 0 };
	unsigned char		 z[256];
	size_t			 n;

	recorded(&rec, "GET", "https://api.test/v1/p", "{}");
	rec.diagnoses = json_pack("[{s:s}]", "code", "x");
	add(&sent, "Host", "api.test");
	add(&sent, "Connection", "close");
	memset(&a, 0, sizeof a);
	a.status = 200;
	a.started = xstrdup("2026-01-01T00:00:00.000Z");
	add(&a.headers, "Content-Type", "application/json");
	add(&a.headers, "Content-Encoding", "gzip");
	add(&a.headers, "Transfer-Encoding", "chunked");
	add(&a.headers, "Keep-Alive", "timeout=5");
	n = unit_squeeze(31, "{\"a\": 1}", z, sizeof z);
	buf_add(&a.body, z, n);
	a.wire_bytes = n;
	exchange_init(&live);
	drift_live_exchange(&rec, &sent, &a, 1024, &live);
	ck_assert_ptr_null(a.started);
	ck_assert_str_eq(live.method, "GET");
	ck_assert_str_eq(live.url, rec.url);
	ck_assert_str_eq(live.reason, "OK");
	ck_assert_str_eq(live.started, "2026-01-01T00:00:00.000Z");
	ck_assert_str_eq(live.resp_body.data, "{\"a\": 1}");
	ck_assert_str_eq(live.resp_body.decoded_from, "gzip");
	ck_assert_ptr_null(http_headers_get(&live.resp_headers,
	    "Content-Encoding"));
	ck_assert_ptr_null(http_headers_get(&live.resp_headers,
	    "Transfer-Encoding"));
	ck_assert_ptr_null(http_headers_get(&live.resp_headers, "Keep-Alive"));
	ck_assert_str_eq(http_headers_get(&live.resp_headers,
	    "Content-Length"), "8");
	ck_assert_ptr_null(http_headers_get(&live.req_headers, "Connection"));
	ck_assert_str_eq(http_headers_get(&live.req_headers, "Host"),
	    "api.test");
	ck_assert_ptr_eq(live.diagnoses, rec.diagnoses);
	exchange_free(&live);

	/* A cut answer is kept cut, and marked; a coding it cannot undo
	 * stays (and its header with it). */
	memset(&a, 0, sizeof a);
	a.status = 200;
	add(&a.headers, "Content-Encoding", "br");
	buf_add(&a.body, "abcd", 4);
	a.wire_bytes = 10;
	a.truncated = 1;
	exchange_init(&live);
	drift_live_exchange(&rec, &sent, &a, 4, &live);
	ck_assert(live.resp_body.truncated);
	ck_assert_uint_eq(live.resp_body.size, 10);
	ck_assert_uint_eq(live.resp_body.len, 4);
	ck_assert_str_eq(http_headers_get(&live.resp_headers,
	    "Content-Encoding"), "br");
	exchange_free(&live);
	http_headers_clear(&sent);
	exchange_free(&rec);
}
END_TEST

START_TEST(compare_status_alone_when_it_changed)
{
	struct exchange		 rec, live;
	struct drift_changes	 c;
	struct redactor		*r = redact_new();

	recorded(&rec, "GET", "https://api.test/v1/p", "{\"a\": 1}");
	live_of(&live, &rec, 404, "{\"error\": \"gone\"}");
	memset(&c, 0, sizeof c);
	drift_compare(&rec, &live, r, DRIFT_VALUES, &c);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(c.v[0].kind, DRIFT_STATUS);
	ck_assert_int_eq(c.v[0].severity, DRIFT_ERROR);
	ck_assert_int_eq(json_integer_value(c.v[0].recorded), 200);
	ck_assert_int_eq(json_integer_value(c.v[0].live), 404);
	drift_changes_free(&c);
	exchange_free(&rec);
	exchange_free(&live);
	redact_free(r);
}
END_TEST

START_TEST(compare_shape_with_severities)
{
	struct drift_changes	 c;

	compare("{\"id\": \"p1\", \"n\": 1, \"actions\": [{\"anchor\": \"A\"},"
	    " {\"anchor\": \"B\"}], \"gone\": true, \"title\": \"x\"}",
	    "{\"id\": \"p1\", \"n\": \"1\", \"actions\": [{\"anchor\": \"C\"}],"
	    " \"new\": null, \"title\": \"y\"}", 0, &c);
	ck_assert_uint_eq(c.n, 4);
	ck_assert_int_eq(c.v[0].kind, DRIFT_TYPE);
	ck_assert_str_eq(c.v[0].path, "/n");
	ck_assert_int_eq(c.v[0].severity, DRIFT_ERROR);
	ck_assert_int_eq(c.v[1].kind, DRIFT_ENUM);
	ck_assert_str_eq(c.v[1].path, "/actions/0/anchor");
	ck_assert_int_eq(c.v[1].severity, DRIFT_WARNING);
	ck_assert_int_eq(c.v[2].kind, DRIFT_REMOVED);
	ck_assert_str_eq(c.v[2].path, "/gone");
	ck_assert(json_is_true(c.v[2].recorded));
	ck_assert_ptr_null(c.v[2].live);
	ck_assert_int_eq(c.v[3].kind, DRIFT_ADDED);
	ck_assert_str_eq(c.v[3].path, "/new");
	ck_assert_int_eq(c.v[3].severity, DRIFT_WARNING);
	ck_assert(!c.body_skipped);
	drift_changes_free(&c);
	/* Plain values only with DRIFT_VALUES, as info. */
	compare("{\"title\": \"x\"}", "{\"title\": \"y\"}", 0, &c);
	ck_assert_uint_eq(c.n, 0);
	drift_changes_free(&c);
	compare("{\"title\": \"x\"}", "{\"title\": \"y\"}", DRIFT_VALUES, &c);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(c.v[0].kind, DRIFT_VALUE);
	ck_assert_int_eq(c.v[0].severity, DRIFT_INFO);
	drift_changes_free(&c);
	compare("{\"a\": [1, 2]}", "{\"a\": [1, 2]}", DRIFT_VALUES, &c);
	ck_assert_uint_eq(c.n, 0);
	drift_changes_free(&c);
}
END_TEST

START_TEST(compare_bodies_that_are_not_json)
{
	struct drift_changes	 c;
	struct exchange		 rec, live;
	struct redactor		*r = redact_new();

	/* JSON on one side only: the body's type changed. */
	compare("{\"a\": 1}", "<html>oops</html>", 0, &c);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(c.v[0].kind, DRIFT_TYPE);
	ck_assert_str_eq(c.v[0].path, "");
	ck_assert_ptr_nonnull(c.v[0].recorded);
	ck_assert_ptr_null(c.v[0].live);
	drift_changes_free(&c);
	compare(NULL, "[1]", 0, &c);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_ptr_null(c.v[0].recorded);
	drift_changes_free(&c);
	/* Text against text, or nothing against nothing: not compared. */
	compare("hello", "world", DRIFT_VALUES, &c);
	ck_assert_uint_eq(c.n, 0);
	drift_changes_free(&c);
	compare(NULL, NULL, DRIFT_VALUES, &c);
	ck_assert_uint_eq(c.n, 0);
	drift_changes_free(&c);

	/* Cut, coded or failed bodies are not compared, and it is said. */
	recorded(&rec, "GET", "https://api.test/v1/p", "{\"a\": 1}");
	live_of(&live, &rec, 200, "{\"b\"");
	live.resp_body.truncated = 1;
	memset(&c, 0, sizeof c);
	drift_compare(&rec, &live, r, 0, &c);
	ck_assert_uint_eq(c.n, 0);
	ck_assert(c.body_skipped);
	drift_changes_free(&c);
	live.resp_body.truncated = 0;
	add(&live.resp_headers, "Content-Encoding", "br");
	drift_compare(&rec, &live, r, 0, &c);
	ck_assert(c.body_skipped);
	drift_changes_free(&c);
	http_headers_remove(&live.resp_headers, "Content-Encoding");
	rec.error = xstrdup("upstream_closed");
	drift_compare(&rec, &live, r, 0, &c);
	ck_assert(c.body_skipped);
	ck_assert_uint_eq(c.n, 0);
	drift_changes_free(&c);
	exchange_free(&rec);
	exchange_free(&live);
	redact_free(r);
}
END_TEST

START_TEST(compare_redacts_the_recorded_body_as_the_live_one)
{
	struct drift_changes	 c;
	char			 live[128];
	char			 m[REDACT_MARKER_LEN + 1];

	/* A cassette made with --no-redact against a redacted live body. */
	redact_marker("s3cret", 6, m);
	snprintf(live, sizeof live, "{\"token\": \"%s\", \"n\": 1}", m);
	compare("{\"token\": \"s3cret\", \"n\": 1}", live, DRIFT_VALUES, &c);
	ck_assert_uint_eq(c.n, 0);
	drift_changes_free(&c);
	/* A secret that was a number is a marker string on both sides. */
	redact_marker("1234", 4, m);
	snprintf(live, sizeof live, "{\"password\": \"%s\"}", m);
	compare("{\"password\": 1234}", live, 0, &c);
	ck_assert_uint_eq(c.n, 0);
	drift_changes_free(&c);
}
END_TEST

START_TEST(changes_are_bounded)
{
	struct drift_changes	 c;
	struct buf		 a = { NULL, 0, 0 };
	size_t			 i;

	buf_adds(&a, "{");
	for (i = 0; i < DRIFT_MAX_CHANGES + 50; i++)
		buf_printf(&a, "%s\"k%zu\": 1", i > 0 ? ", " : "", i);
	buf_adds(&a, "}");
	compare(a.data, "{}", 0, &c);
	ck_assert_uint_eq(c.n, DRIFT_MAX_CHANGES);
	ck_assert_uint_eq(c.dropped, 50);
	drift_changes_free(&c);
	buf_free(&a);
}
END_TEST

START_TEST(escape_keeps_text_and_shows_controls)
{
	struct buf	b = { NULL, 0, 0 };

	drift_escape(&b, "plain /a~1b \xc3\xa9 \xf0\x9f\x98\x80",
	    strlen("plain /a~1b \xc3\xa9 \xf0\x9f\x98\x80"));
	ck_assert_str_eq(b.data, "plain /a~1b \xc3\xa9 \xf0\x9f\x98\x80");
	buf_reset(&b);
	drift_escape(&b, "\x1b[2J\r\n\t\x7f|\xc2\x9b|\xff|\xc3", 15);
	ck_assert_str_eq(b.data, "\\x1b[2J\\x0d\\x0a\\x09\\x7f|\\xc2\\x9b|"
	    "\\xff|\\xc3");
	buf_reset(&b);
	drift_escape(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_str_eq(b.data, "a\\x00b");
	buf_free(&b);
}
END_TEST

START_TEST(values_are_one_line_and_cut)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v;

	drift_value_text(&b, NULL, 10);
	ck_assert_str_eq(b.data, "(none)");
	buf_reset(&b);
	v = json_pack("{s:[i, s]}", "a", 1, "b\nc");
	drift_value_text(&b, v, 80);
	ck_assert_str_eq(b.data, "{\"a\":[1,\"b\\nc\"]}");
	json_decref(v);
	buf_reset(&b);
	v = json_string("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	drift_value_text(&b, v, 4);	/* "\"é" and half an é: cut before */
	ck_assert_str_eq(b.data, "\"\xc3\xa9...");
	json_decref(v);
	buf_free(&b);
}
END_TEST

START_TEST(change_lines_for_each_kind)
{
	struct drift_change	 c;
	struct buf		 b = { NULL, 0, 0 };
	char			 p_root[] = "", p_off[] =
	    "/actions/0/offsetMinutes", p_color[] = "/color", p_anchor[] =
	    "/actions/2/anchor", p_bell[] = "/a\x07";

	memset(&c, 0, sizeof c);
	c.kind = DRIFT_STATUS;
	c.severity = DRIFT_ERROR;
	c.path = p_root;
	c.recorded = json_integer(200);
	c.live = json_integer(503);
	ck_assert_str_eq(text_of(&c, &b), "    error status 200 -> 503\n");
	json_decref(c.recorded);
	json_decref(c.live);
	c.kind = DRIFT_REMOVED;
	c.path = p_off;
	c.recorded = json_integer(0);
	c.live = NULL;
	ck_assert_str_eq(text_of(&c, &b), "    error removed "
	    "/actions/0/offsetMinutes (was number)\n");
	c.kind = DRIFT_TYPE;
	c.live = json_string("0");
	ck_assert_str_eq(text_of(&c, &b), "    error type "
	    "/actions/0/offsetMinutes: number -> string\n");
	json_decref(c.live);
	c.path = p_root;
	c.live = NULL;
	ck_assert_str_eq(text_of(&c, &b), "    error type (body): number -> "
	    "not JSON\n");
	json_decref(c.recorded);
	c.kind = DRIFT_ADDED;
	c.severity = DRIFT_WARNING;
	c.path = p_color;
	c.recorded = NULL;
	c.live = json_object();
	ck_assert_str_eq(text_of(&c, &b),
	    "    warning added /color (object)\n");
	json_decref(c.live);
	c.kind = DRIFT_ENUM;
	c.path = p_anchor;
	c.recorded = json_string("BOOKING_CANCELLED");
	c.live = json_string("NO_SHOW\x1b");
	ck_assert_str_eq(text_of(&c, &b), "    warning enum /actions/2/anchor: "
	    "new value \"NO_SHOW\\u001B\"\n");
	c.kind = DRIFT_VALUE;
	c.severity = DRIFT_INFO;
	c.path = p_bell;
	ck_assert_str_eq(text_of(&c, &b), "    info value /a\\x07: "
	    "\"BOOKING_CANCELLED\" -> \"NO_SHOW\\u001B\"\n");
	json_decref(c.recorded);
	json_decref(c.live);
	buf_free(&b);
}
END_TEST

START_TEST(change_json_has_every_member)
{
	struct drift_change	 c;
	json_t			*o;
	char			*s, path[] = "/a~1b";

	memset(&c, 0, sizeof c);
	c.kind = DRIFT_REMOVED;
	c.severity = DRIFT_ERROR;
	c.path = path;
	c.recorded = json_integer(1);
	o = drift_change_json(&c);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(s, "{\"severity\":\"error\",\"kind\":\"removed\","
	    "\"path\":\"/a~1b\",\"recorded\":1,\"live\":null}");
	free(s);
	json_decref(o);
	json_decref(c.recorded);
}
END_TEST

/* A cassette document whose entries are the texts given. */
static void
document(struct buf *b, const char *const *entries, size_t n,
    const char *after)
{
	size_t	i;

	buf_adds(b, "{\n  \"log\" : {\"version\": \"1.2\", \"creator\": "
	    "{\"name\": \"x [\\\"]\", \"version\": \"1\"},\n"
	    "    \"pages\": [{\"id\": \"]}\"}], \"entries\" :\t[");
	for (i = 0; i < n; i++)
		buf_printf(b, "%s\n      %s", i > 0 ? "," : "", entries[i]);
	buf_printf(b, "\n    ]%s\n  }\n}\n", after);
}

#define ENTRY(method, status, text) \
	"{\"startedDateTime\": \"2026-01-01T00:00:00.000Z\", \"time\": 1, " \
	"\"request\": {\"method\": \"" method "\", \"url\": " \
	"\"https://api.test/v1/p\", \"httpVersion\": \"HTTP/1.1\", " \
	"\"headers\": [], \"queryString\": [], \"cookies\": [], " \
	"\"headersSize\": -1, \"bodySize\": 0}, \"response\": {\"status\": " \
	#status ", \"statusText\": \"OK\", \"httpVersion\": \"HTTP/1.1\", " \
	"\"headers\": [], \"cookies\": [], \"content\": {\"size\": 0, " \
	"\"mimeType\": \"application/json\", \"text\": \"" text "\"}, " \
	"\"redirectURL\": \"\", \"headersSize\": -1, \"bodySize\": 0}, " \
	"\"cache\": {}, \"timings\": {\"send\": 0, \"wait\": 0, " \
	"\"receive\": 0}}"

static int
count_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	(void)index;
	(void)cause;
	(*(size_t *)arg)++;
	exchange_free(x);
	return 0;
}

START_TEST(entries_are_found_byte_for_byte)
{
	static const char *const entries[] = {
		ENTRY("GET", 200, "{\\\"a\\\": [1, \\\"]\\\"]}"),
		ENTRY("HEAD", 204, ""),
		ENTRY("GET", 404, "} ] ,"),
	};
	struct buf		 doc = { NULL, 0, 0 };
	struct cassette_span	*spans;
	size_t			 n, i;
	char			*cause = NULL;

	document(&doc, entries, 3, ", \"comment\": \"after\"");
	ck_assert_int_eq(cassette_parse(doc.data, doc.len, NULL, NULL, NULL,
	    &cause), 0);
	ck_assert_int_eq(drift_doc_entries(doc.data, doc.len, &spans, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(spans[i].len, strlen(entries[i]));
		ck_assert(memcmp(doc.data + spans[i].off, entries[i],
		    spans[i].len) == 0);
	}
	free(spans);
	buf_reset(&doc);
	document(&doc, entries, 0, "");
	ck_assert_int_eq(drift_doc_entries(doc.data, doc.len, &spans, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 0);
	free(spans);
	buf_free(&doc);
}
END_TEST

START_TEST(entries_not_found_in_what_is_no_har_log)
{
	static const char *bad[] = {
		"", "[]", "{}", "{\"log\": 1}", "{\"log\": {}}",
		"{\"log\": {\"entries\": {}}}", "{\"log\": {\"entries\": [1]}}",
		"{\"log\": {\"entries\": [{}", "{\"log\" {\"entries\": []}}",
		"{\"lo\": {}, \"log\": {\"entries\": [{} {}]}}",
	};
	struct cassette_span	*spans;
	size_t			 i, n;
	char			*cause;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		ck_assert_msg(drift_doc_entries(bad[i], strlen(bad[i]), &spans,
		    &n, &cause) == -1, "%s", bad[i]);
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_nonnull(strstr(cause, "cannot find the entries"));
		ck_assert_ptr_null(spans);
		free(cause);
	}
}
END_TEST

START_TEST(rewrite_replaces_only_the_entries_given)
{
	static const char *const entries[] = {
		ENTRY("GET", 200, "one"), ENTRY("GET", 200, "two"),
		ENTRY("GET", 200, "three"),
	};
	static const char *const changed[] = {
		ENTRY("GET", 200, "one"), ENTRY("GET", 503, "TWO"),
		ENTRY("GET", 200, "three"),
	};
	const char		*texts[3] = { NULL, changed[1], NULL };
	const char		*none[3] = { NULL, NULL, NULL };
	struct buf		 doc = { NULL, 0, 0 }, want = { NULL, 0, 0 };
	struct buf		 out = { NULL, 0, 0 };
	struct cassette_span	*spans;
	size_t			 n;
	char			*cause = NULL;

	document(&doc, entries, 3, "");
	document(&want, changed, 3, "");
	ck_assert_int_eq(drift_doc_entries(doc.data, doc.len, &spans, &n,
	    &cause), 0);
	drift_doc_rewrite(doc.data, doc.len, spans, n, texts, &out);
	ck_assert_str_eq(out.data, want.data);
	buf_reset(&out);
	drift_doc_rewrite(doc.data, doc.len, spans, n, none, &out);
	ck_assert_str_eq(out.data, doc.data);
	free(spans);
	buf_free(&doc);
	buf_free(&want);
	buf_free(&out);
}
END_TEST

START_TEST(entry_text_fits_in_place_and_loads)
{
	static const char *const entries[] = {
		ENTRY("GET", 200, "one"), ENTRY("GET", 200, "two"),
	};
	struct exchange		 x;
	struct buf		 text = { NULL, 0, 0 }, doc = { NULL, 0, 0 };
	struct buf		 out = { NULL, 0, 0 };
	struct cassette_span	*spans;
	const char		*texts[2] = { NULL, NULL };
	size_t			 n, count = 0;
	char			*cause = NULL;

	recorded(&x, "GET", "https://api.test/v1/p", "{\"a\": 1}");
	x.started = xstrdup("2026-01-01T00:00:00.000Z");
	drift_doc_entry_text(&x, &text);
	ck_assert_int_eq(text.data[0], '{');
	ck_assert_int_eq(text.data[text.len - 1], '}');
	document(&doc, entries, 2, "");
	ck_assert_int_eq(drift_doc_entries(doc.data, doc.len, &spans, &n,
	    &cause), 0);
	texts[1] = text.data;
	drift_doc_rewrite(doc.data, doc.len, spans, n, texts, &out);
	ck_assert_int_eq(cassette_parse(out.data, out.len, count_cb, &count,
	    NULL, &cause), 0);
	ck_assert_uint_eq(count, 2);
	free(spans);
	buf_free(&text);
	buf_free(&doc);
	buf_free(&out);
	exchange_free(&x);
}
END_TEST

static Suite *
drift_suite(void)
{
	Suite	*s = suite_create("drift");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, severities_follow_the_design);
	tcase_add_test(tc, markers_are_found_as_written_and_percent_encoded);
	tcase_add_test(tc, plan_sends_safe_whole_requests_only);
	tcase_add_test(tc, header_lines_split_and_reserved_names);
	tcase_add_test(tc,
	    missing_header_names_the_first_redacted_one_not_supplied);
	tcase_add_test(tc, request_headers_as_sent_again);
	tcase_add_test(tc, redaction_learns_what_the_recording_redacted);
	tcase_add_test(tc, live_answer_stored_as_recording_stores_it);
	tcase_add_test(tc, compare_status_alone_when_it_changed);
	tcase_add_test(tc, compare_shape_with_severities);
	tcase_add_test(tc, compare_bodies_that_are_not_json);
	tcase_add_test(tc, compare_redacts_the_recorded_body_as_the_live_one);
	tcase_add_test(tc, changes_are_bounded);
	tcase_add_test(tc, escape_keeps_text_and_shows_controls);
	tcase_add_test(tc, values_are_one_line_and_cut);
	tcase_add_test(tc, change_lines_for_each_kind);
	tcase_add_test(tc, change_json_has_every_member);
	tcase_add_test(tc, entries_are_found_byte_for_byte);
	tcase_add_test(tc, entries_not_found_in_what_is_no_har_log);
	tcase_add_test(tc, rewrite_replaces_only_the_entries_given);
	tcase_add_test(tc, entry_text_fits_in_place_and_loads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(drift_suite());
}
