/*
 * Unit tests for exchange: the plain struct of one HTTP exchange, its
 * bodies and header lists, and keeping Content-Length true to a stored body.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exchange.h"
#include "http.h"
#include "xmalloc.h"
#include "unit.h"

static void
hdr(struct http_headers *h, const char *name, const char *value)
{
	http_headers_add(h, name, strlen(name), value, strlen(value));
}

/* Assert that h holds exactly the name: value pairs in want, in order. */
static void
headers_are(const struct http_headers *h, const char *const *want, size_t n)
{
	size_t	i;

	ck_assert_uint_eq(h->n, n);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(h->v[i].name, want[2 * i]);
		ck_assert_str_eq(h->v[i].value, want[2 * i + 1]);
	}
}

/* Assert that every member of x is zero or NULL. */
static void
assert_empty(const struct exchange *x)
{
	struct exchange	zero;

	memset(&zero, 0, sizeof zero);
	ck_assert_ptr_null(x->started);
	ck_assert_ptr_null(x->server_ip);
	ck_assert_ptr_null(x->method);
	ck_assert_ptr_null(x->url);
	ck_assert_ptr_null(x->http_version);
	ck_assert_ptr_null(x->req_headers.v);
	ck_assert_uint_eq(x->req_headers.n, 0);
	ck_assert_ptr_null(x->req_body.data);
	ck_assert_ptr_null(x->req_body.decoded_from);
	ck_assert_ptr_null(x->reason);
	ck_assert_ptr_null(x->resp_headers.v);
	ck_assert_ptr_null(x->resp_body.data);
	ck_assert_ptr_null(x->diagnoses);
	ck_assert_ptr_null(x->answered_by);
	ck_assert_ptr_null(x->error);
	ck_assert_int_eq(x->status, 0);
	/* Nothing else either (padding aside, the struct is all zero). */
	ck_assert_int_eq(memcmp(x, &zero, sizeof zero), 0);
}

START_TEST(init_makes_an_empty_exchange)
{
	struct exchange	x;

	memset(&x, 0xa5, sizeof x);
	exchange_init(&x);
	assert_empty(&x);
	exchange_free(&x);
	assert_empty(&x);
}
END_TEST

START_TEST(free_releases_every_member_and_leaves_it_reusable)
{
	struct exchange	x;

	exchange_init(&x);
	x.started = xstrdup("2026-12-02T15:00:00.000Z");
	x.time_ms = 12.5;
	x.send_ms = 1;
	x.wait_ms = 10;
	x.receive_ms = 1.5;
	x.server_ip = xstrdup("127.0.0.1");
	x.method = xstrdup("PATCH");
	x.url = xstrdup("http://127.0.0.1:41581/v1/acc1/profiles/p1");
	x.http_version = xstrdup("HTTP/1.1");
	hdr(&x.req_headers, "Content-Type", "application/json");
	hdr(&x.req_headers, "Content-Encoding", "gzip");
	exchange_body_set(&x.req_body, "{\"actions\": []}", 15);
	x.req_body.decoded_from = xstrdup("gzip");
	x.req_wire_bytes = 35;
	x.status = 400;
	x.reason = xstrdup("Bad Request");
	hdr(&x.resp_headers, "Content-Type", "application/json");
	exchange_body_set(&x.resp_body, "{\"errors\": []}", 14);
	x.resp_wire_bytes = 14;
	x.diagnoses = json_pack("[{s:s}]", "code", "actions.partial");
	x.answered_by = xstrdup("patchscope");
	x.error = xstrdup("upstream_tls");
	exchange_free(&x);
	assert_empty(&x);
	/* Reusable: fill again, free again. */
	x.method = xstrdup("GET");
	hdr(&x.resp_headers, "Via", "1.1 patchscope");
	exchange_free(&x);
	assert_empty(&x);
}
END_TEST

START_TEST(free_of_a_partly_filled_exchange)
{
	struct exchange	x;

	/* What a request cut off before its response leaves behind. */
	exchange_init(&x);
	x.method = xstrdup("GET");
	x.url = xstrdup("http://h/");
	hdr(&x.req_headers, "Host", "h");
	x.error = xstrdup("client_closed");
	exchange_free(&x);
	assert_empty(&x);

	/* Only a response body, only diagnoses. */
	exchange_init(&x);
	exchange_body_set(&x.resp_body, "partial", 7);
	x.resp_body.truncated = 1;
	x.resp_body.size = 1000;
	exchange_free(&x);
	assert_empty(&x);
	exchange_init(&x);
	x.diagnoses = json_array();
	exchange_free(&x);
	assert_empty(&x);
}
END_TEST

START_TEST(free_of_an_empty_exchange_twice)
{
	struct exchange	x;

	exchange_init(&x);
	exchange_free(&x);
	exchange_free(&x);
	assert_empty(&x);
}
END_TEST

START_TEST(body_set_copies_the_bytes_and_ends_them_with_nul)
{
	struct exchange_body	b;
	char			src[] = "{\"id\": \"p1\"}";

	memset(&b, 0, sizeof b);
	exchange_body_set(&b, src, strlen(src));
	ck_assert_ptr_nonnull(b.data);
	ck_assert_ptr_ne(b.data, src);
	ck_assert_uint_eq(b.len, strlen(src));
	ck_assert_uint_eq(b.size, strlen(src));
	ck_assert_int_eq(b.truncated, 0);
	ck_assert_ptr_null(b.decoded_from);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_str_eq(b.data, src);
	/* A copy: changing the source changes nothing. */
	src[1] = 'X';
	ck_assert_str_eq(b.data, "{\"id\": \"p1\"}");
	exchange_body_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.size, 0);
}
END_TEST

START_TEST(body_set_takes_only_len_bytes_and_keeps_nul_bytes)
{
	struct exchange_body	b;
	static const char	bin[] = { 'a', '\0', 'b', '\0', 'c', 'd' };

	memset(&b, 0, sizeof b);
	exchange_body_set(&b, bin, 5);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_int_eq(memcmp(b.data, bin, 5), 0);
	ck_assert_int_eq(b.data[5], '\0');
	exchange_body_free(&b);
}
END_TEST

START_TEST(body_set_of_nothing_is_an_empty_body_not_none)
{
	struct exchange_body	b;

	memset(&b, 0, sizeof b);
	exchange_body_set(&b, "", 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.size, 0);
	exchange_body_free(&b);
	/* NULL with no bytes is fine too. */
	exchange_body_set(&b, NULL, 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(b.len, 0);
	exchange_body_free(&b);
}
END_TEST

START_TEST(body_set_replaces_the_body_and_clears_truncation)
{
	struct exchange_body	b;

	memset(&b, 0, sizeof b);
	exchange_body_set(&b, "first body, longer", 18);
	b.truncated = 1;
	b.size = 5000;
	b.decoded_from = xstrdup("gzip");
	exchange_body_set(&b, "second", 6);
	ck_assert_str_eq(b.data, "second");
	ck_assert_uint_eq(b.len, 6);
	ck_assert_uint_eq(b.size, 6);
	ck_assert_int_eq(b.truncated, 0);
	/* The coding it had on the wire is the caller's to keep or drop
	 * (redact rewrites a decoded body in place and keeps it). */
	ck_assert_str_eq(b.decoded_from, "gzip");
	exchange_body_free(&b);
	ck_assert_ptr_null(b.decoded_from);
	ck_assert_int_eq(b.truncated, 0);
}
END_TEST

START_TEST(body_free_of_an_empty_body_twice)
{
	struct exchange_body	b;

	memset(&b, 0, sizeof b);
	exchange_body_free(&b);
	exchange_body_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

/*
 * Setting a body from its own bytes (cutting it to its first n bytes, say)
 * copies before it frees (it once read freed memory; ASan and valgrind
 * see a regression).
 */
START_TEST(body_set_from_its_own_bytes_cuts_it)
{
	struct exchange_body	b;

	memset(&b, 0, sizeof b);
	exchange_body_set(&b, "0123456789", 10);
	exchange_body_set(&b, b.data, 4);
	ck_assert_str_eq(b.data, "0123");
	exchange_body_set(&b, b.data + 1, 2);
	ck_assert_str_eq(b.data, "12");
	exchange_body_free(&b);
}
END_TEST

START_TEST(fix_length_gives_the_stored_body_length)
{
	static const char *const	 want[] = {
		"Content-Type", "application/json",
		"Vary", "Accept-Encoding",
		"Content-Length", "14"
	};
	struct http_headers		 h = { NULL, 0, 0 };
	struct exchange_body		 b;

	/* A gzip body of 40 bytes on the wire, 14 once decoded. */
	memset(&b, 0, sizeof b);
	hdr(&h, "Content-Type", "application/json");
	hdr(&h, "Content-Length", "40");
	hdr(&h, "Vary", "Accept-Encoding");
	exchange_body_set(&b, "{\"errors\": []}", 14);
	exchange_fix_length(&h, &b);
	/* The header is written anew, after the others. */
	headers_are(&h, want, 3);
	ck_assert_str_eq(http_headers_get(&h, "content-length"), "14");
	http_headers_clear(&h);
	exchange_body_free(&b);
}
END_TEST

START_TEST(fix_length_keeps_one_header_whatever_the_spelling)
{
	static const char *const	 want[] = {
		"Content-Type", "text/plain",
		"Content-Length", "3"
	};
	struct http_headers		 h = { NULL, 0, 0 };
	struct exchange_body		 b;

	memset(&b, 0, sizeof b);
	hdr(&h, "content-length", "10");
	hdr(&h, "Content-Type", "text/plain");
	hdr(&h, "CONTENT-LENGTH", "10");
	exchange_body_set(&b, "abc", 3);
	exchange_fix_length(&h, &b);
	headers_are(&h, want, 2);
	ck_assert_uint_eq(http_headers_count(&h, "Content-Length"), 1);
	http_headers_clear(&h);
	exchange_body_free(&b);
}
END_TEST

START_TEST(fix_length_of_an_empty_or_cut_body)
{
	struct http_headers	h = { NULL, 0, 0 };
	struct exchange_body	b;

	memset(&b, 0, sizeof b);
	hdr(&h, "Content-Length", "7");
	exchange_body_set(&b, "", 0);
	exchange_fix_length(&h, &b);
	ck_assert_str_eq(http_headers_get(&h, "Content-Length"), "0");
	/* A body cut when recorded: the header gives what is kept. */
	exchange_body_set(&b, "0123456789", 10);
	b.truncated = 1;
	b.size = 1 << 20;
	exchange_fix_length(&h, &b);
	ck_assert_str_eq(http_headers_get(&h, "Content-Length"), "10");
	ck_assert_uint_eq(h.n, 1);
	http_headers_clear(&h);
	exchange_body_free(&b);
}
END_TEST

START_TEST(fix_length_adds_nothing_to_a_message_without_one)
{
	static const char *const	 want[] = {
		"Content-Type", "application/json",
		"Transfer-Encoding", "chunked"
	};
	struct http_headers		 h = { NULL, 0, 0 };
	struct exchange_body		 b;

	/* A chunked message keeps its framing header and gets no length. */
	memset(&b, 0, sizeof b);
	hdr(&h, "Content-Type", "application/json");
	hdr(&h, "Transfer-Encoding", "chunked");
	exchange_body_set(&b, "{}", 2);
	exchange_fix_length(&h, &b);
	headers_are(&h, want, 2);
	http_headers_clear(&h);
	/* No headers at all. */
	exchange_fix_length(&h, &b);
	ck_assert_uint_eq(h.n, 0);
	exchange_body_free(&b);
}
END_TEST

START_TEST(fix_length_leaves_transfer_encoding_alone)
{
	struct http_headers	h = { NULL, 0, 0 };
	struct exchange_body	b;

	/* Only Content-Length is its business. */
	memset(&b, 0, sizeof b);
	hdr(&h, "Transfer-Encoding", "chunked");
	hdr(&h, "Content-Length", "99");
	exchange_body_set(&b, "{}", 2);
	exchange_fix_length(&h, &b);
	ck_assert_str_eq(http_headers_get(&h, "Transfer-Encoding"), "chunked");
	ck_assert_str_eq(http_headers_get(&h, "Content-Length"), "2");
	ck_assert_uint_eq(h.n, 2);
	http_headers_clear(&h);
	exchange_body_free(&b);
}
END_TEST

START_TEST(fix_length_leaves_a_message_with_no_stored_body_alone)
{
	struct http_headers	h = { NULL, 0, 0 };
	struct exchange_body	b;

	/* A HEAD answer, or a body not kept: the header stays as sent. */
	memset(&b, 0, sizeof b);
	hdr(&h, "Content-Length", "1234");
	exchange_fix_length(&h, &b);
	ck_assert_str_eq(http_headers_get(&h, "Content-Length"), "1234");
	ck_assert_uint_eq(h.n, 1);
	http_headers_clear(&h);
}
END_TEST

START_TEST(fix_length_of_a_large_body)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct exchange_body	 b;
	char			*big;
	size_t			 n = 3 * 1024 * 1024 + 7;

	memset(&b, 0, sizeof b);
	big = xmalloc(n);
	memset(big, 'x', n);
	hdr(&h, "Content-Length", "1");
	exchange_body_set(&b, big, n);
	exchange_fix_length(&h, &b);
	ck_assert_str_eq(http_headers_get(&h, "Content-Length"), "3145735");
	free(big);
	http_headers_clear(&h);
	exchange_body_free(&b);
}
END_TEST

START_TEST(headers_copy_appends_copies_in_order)
{
	static const char *const	 want[] = {
		"Via", "1.1 patchscope",
		"Accept", "application/json",
		"X-Dup", "1",
		"X-Dup", "2",
		"X-Empty", ""
	};
	struct http_headers		 src = { NULL, 0, 0 };
	struct http_headers		 dst = { NULL, 0, 0 };

	hdr(&dst, "Via", "1.1 patchscope");
	hdr(&src, "Accept", "application/json");
	hdr(&src, "X-Dup", "1");
	hdr(&src, "X-Dup", "2");
	hdr(&src, "X-Empty", "");
	exchange_headers_copy(&dst, &src);
	headers_are(&dst, want, 5);
	/* Copies: the source may go. */
	ck_assert_ptr_ne(dst.v[1].name, src.v[0].name);
	ck_assert_ptr_ne(dst.v[1].value, src.v[0].value);
	http_headers_clear(&src);
	headers_are(&dst, want, 5);
	/* Copying an empty list changes nothing. */
	exchange_headers_copy(&dst, &src);
	headers_are(&dst, want, 5);
	http_headers_clear(&dst);
}
END_TEST

START_TEST(headers_copy_into_an_exchange_is_freed_with_it)
{
	struct http_headers	src = { NULL, 0, 0 };
	struct exchange		x;

	exchange_init(&x);
	hdr(&src, "Content-Type", "application/json");
	hdr(&src, "Content-Length", "2");
	exchange_headers_copy(&x.resp_headers, &src);
	exchange_body_set(&x.resp_body, "{}", 2);
	exchange_fix_length(&x.resp_headers, &x.resp_body);
	ck_assert_str_eq(http_headers_get(&x.resp_headers, "Content-Length"),
	    "2");
	/* The source's own strings are untouched. */
	ck_assert_str_eq(http_headers_get(&src, "Content-Length"), "2");
	http_headers_clear(&src);
	exchange_free(&x);
	assert_empty(&x);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("exchange");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, init_makes_an_empty_exchange);
	tcase_add_test(tc, free_releases_every_member_and_leaves_it_reusable);
	tcase_add_test(tc, free_of_a_partly_filled_exchange);
	tcase_add_test(tc, free_of_an_empty_exchange_twice);
	tcase_add_test(tc, body_set_copies_the_bytes_and_ends_them_with_nul);
	tcase_add_test(tc, body_set_takes_only_len_bytes_and_keeps_nul_bytes);
	tcase_add_test(tc, body_set_of_nothing_is_an_empty_body_not_none);
	tcase_add_test(tc, body_set_replaces_the_body_and_clears_truncation);
	tcase_add_test(tc, body_free_of_an_empty_body_twice);
	tcase_add_test(tc, body_set_from_its_own_bytes_cuts_it);
	tcase_add_test(tc, fix_length_gives_the_stored_body_length);
	tcase_add_test(tc, fix_length_keeps_one_header_whatever_the_spelling);
	tcase_add_test(tc, fix_length_of_an_empty_or_cut_body);
	tcase_add_test(tc, fix_length_adds_nothing_to_a_message_without_one);
	tcase_add_test(tc, fix_length_leaves_transfer_encoding_alone);
	tcase_add_test(tc,
	    fix_length_leaves_a_message_with_no_stored_body_alone);
	tcase_add_test(tc, fix_length_of_a_large_body);
	tcase_add_test(tc, headers_copy_appends_copies_in_order);
	tcase_add_test(tc, headers_copy_into_an_exchange_is_freed_with_it);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
