/*
 * Unit tests for web_json and web_report: the entries the web view's page
 * reads, the documents and events around them, and report's single file,
 * with hostile text in every field.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "http.h"
#include "web_json.h"
#include "web_report.h"
#include "xmalloc.h"
#include "unit.h"

#define HOSTILE	"</script><script>alert(1)</script><!--&amp;\xe2\x80\xa8" \
	"\xe2\x80\xa9\"\\\x01"

static void
hdr(struct http_headers *h, const char *name, const char *value)
{
	http_headers_add(h, name, strlen(name), value, strlen(value));
}

/* An exchange with hostile text wherever the traffic puts text. */
static void
hostile_exchange(struct exchange *x)
{
	exchange_init(x);
	x->started = xstrdup("2026-12-03T09:14:03.402Z");
	x->time_ms = 12.5;
	x->method = xstrdup("PATCH");
	x->url = xstrdup("http://api.test/v1/%3C/script%3E?q=" HOSTILE);
	x->http_version = xstrdup("HTTP/1.1");
	hdr(&x->req_headers, "X-Evil", HOSTILE);
	hdr(&x->req_headers, HOSTILE, "name too");
	exchange_body_set(&x->req_body, "{\"a\": \"" HOSTILE "\"}",
	    strlen("{\"a\": \"" HOSTILE "\"}"));
	x->status = 400;
	x->reason = xstrdup(HOSTILE);
	hdr(&x->resp_headers, "Content-Type", "text/html");
	exchange_body_set(&x->resp_body, HOSTILE "\xff\xfe binary", strlen(
	    HOSTILE "\xff\xfe binary"));
	x->resp_body.truncated = 1;
	x->resp_body.size = 99999;
	x->diagnoses = json_pack("[{s:s, s:s}]", "code", "actions.partial",
	    "message", HOSTILE);
	x->error = xstrdup("upstream_closed");
	x->fault = xstrdup("status:503");
	x->answered_by = xstrdup("patchscope");
}

/* Parse text as JSON or fail the test. */
static json_t *
parse(const char *text, size_t len)
{
	json_error_t	 e;
	json_t		*v = json_loadb(text, len, 0, &e);

	ck_assert_msg(v != NULL, "not JSON: %s: %.*s", e.text, (int)len, text);
	return v;
}

START_TEST(entry_is_the_cassette_entry_plus_id)
{
	struct exchange	 x;
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v, *har;

	hostile_exchange(&x);
	web_json_entry(&b, &x, 42, NULL);
	ck_assert_ptr_null(memchr(b.data, '\n', b.len));
	v = parse(b.data, b.len);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "_id")), 42);
	ck_assert_ptr_null(json_object_get(v, "_replay"));
	/* Without the view's field, it is the cassette's entry exactly. */
	json_object_del(v, "_id");
	har = cassette_entry_encode(&x);
	ck_assert(json_equal(v, har));
	ck_assert_str_eq(json_string_value(json_object_get(v, "_fault")),
	    "status:503");
	ck_assert_str_eq(json_string_value(json_object_get(v, "_error")),
	    "upstream_closed");
	ck_assert_str_eq(json_string_value(json_object_get(v, "_answeredBy")),
	    "patchscope");
	ck_assert_ptr_nonnull(json_object_get(v, "_diagnoses"));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(json_object_get(
	    v, "response"), "content"), "_truncated"));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    v, "request"), "method")), "PATCH");
	json_decref(v);
	json_decref(har);
	buf_free(&b);
	exchange_free(&x);
}
END_TEST

START_TEST(entry_says_replay_hit_or_miss)
{
	struct exchange	 x;
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v;

	hostile_exchange(&x);
	web_json_entry(&b, &x, 1, "hit");
	v = parse(b.data, b.len);
	ck_assert_str_eq(json_string_value(json_object_get(v, "_replay")),
	    "hit");
	json_decref(v);
	buf_reset(&b);
	web_json_entry(&b, &x, 2, "miss");
	v = parse(b.data, b.len);
	ck_assert_str_eq(json_string_value(json_object_get(v, "_replay")),
	    "miss");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "_id")), 2);
	json_decref(v);
	buf_free(&b);
	exchange_free(&x);
}
END_TEST

START_TEST(compact_keeps_strings_and_drops_layout)
{
	const char	*in = "{\n  \"a b\": [ 1, \"x \\\" y\\\\\" ],\n"
			    "  \"c\":\t{ }\n}";
	struct buf	 b = { NULL, 0, 0 };

	web_json_compact(&b, in, strlen(in));
	ck_assert_str_eq(buf_str(&b), "{\"a b\":[1,\"x \\\" y\\\\\"],\"c\":{}}");
	buf_free(&b);
}
END_TEST

START_TEST(script_escape_lets_no_tag_through)
{
	struct exchange	 x;
	struct buf	 b = { NULL, 0, 0 }, e = { NULL, 0, 0 };
	json_t		*v, *w;

	hostile_exchange(&x);
	web_json_entry(&b, &x, 7, "miss");
	web_json_script_escape(&e, b.data, b.len);
	ck_assert_ptr_null(memchr(e.data, '<', e.len));
	ck_assert_ptr_null(memchr(e.data, '>', e.len));
	ck_assert_ptr_null(memchr(e.data, '&', e.len));
	ck_assert_ptr_null(strstr(e.data, "\xe2\x80\xa8"));
	ck_assert_ptr_null(strstr(e.data, "\xe2\x80\xa9"));
	ck_assert_ptr_nonnull(strstr(e.data, "\\u003c/script\\u003e"));
	/* The same value once parsed. */
	v = parse(b.data, b.len);
	w = parse(e.data, e.len);
	ck_assert(json_equal(v, w));
	json_decref(v);
	json_decref(w);
	buf_free(&b);
	buf_free(&e);
	exchange_free(&x);
}
END_TEST

START_TEST(script_escape_of_a_cut_sequence_is_left_alone)
{
	struct buf	b = { NULL, 0, 0 };

	web_json_script_escape(&b, "\"\xe2\x80\"", 4);
	ck_assert_int_eq(b.len, 4);
	ck_assert_int_eq(memcmp(b.data, "\"\xe2\x80\"", 4), 0);
	buf_free(&b);
}
END_TEST

START_TEST(document_and_events_have_the_contract_shape)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v;

	web_json_doc_begin(&b, "live", 10, 3);
	web_json_doc_entry(&b, "{\"_id\":4}", 9, 1);
	web_json_doc_entry(&b, "{\"_id\":5}", 9, 0);
	web_json_doc_end(&b);
	v = parse(b.data, b.len);
	ck_assert_str_eq(json_string_value(json_object_get(v, "mode")), "live");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "keep")), 10);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "dropped")), 3);
	ck_assert_int_eq(json_array_size(json_object_get(v, "exchanges")), 2);
	json_decref(v);
	buf_reset(&b);
	web_json_sse_exchange(&b, 5, "{\"_id\":5}", 9);
	ck_assert_str_eq(buf_str(&b),
	    "id: 5\nevent: exchange\ndata: {\"_id\":5}\n\n");
	buf_reset(&b);
	web_json_sse_dropped(&b, 3, 4);
	ck_assert_str_eq(buf_str(&b),
	    "event: dropped\ndata: {\"dropped\":3,\"oldest\":4}\n\n");
	buf_free(&b);
}
END_TEST

static const char page[] = "<!doctype html>\n<html><head>\n"
    "<link rel=\"stylesheet\" href=\"app.css\">\n"
    "<script src=\"app.js\" defer></script>\n"
    "</head><body><main></main>\n</body></html>\n";

START_TEST(report_inlines_under_hashes)
{
	struct web_report_file	 html = { page, sizeof page - 1 };
	struct web_report_file	 css = { "main{color:red}", 15 };
	struct web_report_file	 js = { "run();", 6 };
	const char		*data = "{\"x\":\"" HOSTILE "\"}";
	struct buf		 b = { NULL, 0, 0 };
	char			*cause = NULL, hjs[45], hcss[45], *csp;
	const char		*p, *q;

	ck_assert_int_eq(web_report_build(&b, &html, &css, &js, data,
	    strlen(data), &cause), 0);
	web_report_sha256_b64("run();", 6, hjs);
	web_report_sha256_b64("main{color:red}", 15, hcss);
	csp = xasprintf("script-src 'sha256-%s'; style-src 'sha256-%s'; "
	    "img-src data:; base-uri 'none'; form-action 'none'", hjs, hcss);
	ck_assert_ptr_nonnull(strstr(b.data, csp));
	ck_assert_ptr_nonnull(strstr(b.data, "default-src 'none'"));
	ck_assert_ptr_nonnull(strstr(b.data, "<style>main{color:red}</style>"));
	ck_assert_ptr_nonnull(strstr(b.data, "<script>run();</script>"));
	ck_assert_ptr_nonnull(strstr(b.data, "<link rel=\"icon\" "
	    "href=\"data:,\">"));
	ck_assert_ptr_null(strstr(b.data, "app.js"));
	ck_assert_ptr_null(strstr(b.data, "app.css"));
	/* The data block holds no '<' and ends before the script. */
	p = strstr(b.data, "<script type=\"application/json\" "
	    "id=\"patchscope-data\">");
	ck_assert_ptr_nonnull(p);
	p = strchr(p, '>') + 1;
	q = strstr(p, "</script>");
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_null(memchr(p, '<', (size_t)(q - p)));
	ck_assert_ptr_nonnull(strstr(q, "<script>run();</script>\n</body>"));
	/* The traffic's own "</script>" is nowhere in the file. */
	ck_assert_int_eq(strstr(b.data, "</script><script>alert") == NULL, 1);
	free(csp);
	buf_free(&b);
}
END_TEST

START_TEST(report_refuses_a_page_without_its_markers)
{
	struct web_report_file	 html = { "<html><body></body></html>", 26 };
	struct web_report_file	 css = { "", 0 }, js = { "", 0 };
	struct buf		 b = { NULL, 0, 0 };
	char			*cause = NULL;

	ck_assert_int_eq(web_report_build(&b, &html, &css, &js, "{}", 2,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "index.html"));
	free(cause);
	cause = NULL;
	html.data = page;
	html.len = sizeof page - 1;
	js.data = "x = '</SCRIPT>';";
	js.len = strlen(js.data);
	ck_assert_int_eq(web_report_build(&b, &html, &css, &js, "{}", 2,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "app.js"));
	free(cause);
	cause = NULL;
	js.data = "";
	js.len = 0;
	css.data = "a{}</style >";
	css.len = strlen(css.data);
	ck_assert_int_eq(web_report_build(&b, &html, &css, &js, "{}", 2,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "app.css"));
	free(cause);
	buf_free(&b);
}
END_TEST

START_TEST(sha256_base64_matches_known_digest)
{
	char	out[45];

	/* printf abc | openssl dgst -sha256 -binary | base64 */
	web_report_sha256_b64("abc", 3, out);
	ck_assert_str_eq(out, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
	web_report_sha256_b64("", 0, out);
	ck_assert_str_eq(out, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("web_json");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, entry_is_the_cassette_entry_plus_id);
	tcase_add_test(tc, entry_says_replay_hit_or_miss);
	tcase_add_test(tc, compact_keeps_strings_and_drops_layout);
	tcase_add_test(tc, script_escape_lets_no_tag_through);
	tcase_add_test(tc, script_escape_of_a_cut_sequence_is_left_alone);
	tcase_add_test(tc, document_and_events_have_the_contract_shape);
	tcase_add_test(tc, report_inlines_under_hashes);
	tcase_add_test(tc, report_refuses_a_page_without_its_markers);
	tcase_add_test(tc, sha256_base64_matches_known_digest);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
