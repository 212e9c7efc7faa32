/* Unit tests for http: URLs, header lists, hop-by-hop rules, heads. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "unit.h"

static void
add(struct http_headers *h, const char *n, const char *v)
{
	http_headers_add(h, n, strlen(n), v, strlen(v));
}

START_TEST(url_parses_host_port_and_target)
{
	struct http_url	 u;
	const char	*err = NULL;

	ck_assert_int_eq(http_url_parse("http://Example.COM:8081/v1/a/profiles/p?fields=id",
	    &u, &err), 0);
	ck_assert_str_eq(u.scheme, "http");
	ck_assert_str_eq(u.host, "example.com");
	ck_assert_int_eq(u.port, 8081);
	ck_assert_str_eq(u.target, "/v1/a/profiles/p?fields=id");
	http_url_free(&u);
}
END_TEST

START_TEST(url_defaults_port_and_path)
{
	struct http_url	 u;
	const char	*err = NULL;

	ck_assert_int_eq(http_url_parse("http://api.test", &u, &err), 0);
	ck_assert_int_eq(u.port, 80);
	ck_assert_str_eq(u.target, "/");
	http_url_free(&u);
	ck_assert_int_eq(http_url_parse("HTTPS://api.test?x=1", &u, &err), 0);
	ck_assert_str_eq(u.scheme, "https");
	ck_assert_int_eq(u.port, 443);
	ck_assert_str_eq(u.target, "/?x=1");
	http_url_free(&u);
}
END_TEST

START_TEST(url_accepts_ipv6_and_drops_userinfo)
{
	struct http_url	 u;
	const char	*err = NULL;

	ck_assert_int_eq(http_url_parse("http://user:pw@[::1]:9/x", &u, &err),
	    0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 9);
	ck_assert_str_eq(u.target, "/x");
	http_url_free(&u);
}
END_TEST

START_TEST(url_rejects_bad_input)
{
	static const char *bad[] = {
		"/relative", "ftp://host/", "http://", "http://:80/",
		"http://host:0/", "http://host:65536/", "http://host:x/",
		"http://ho st/", "http://[::1/", "http://[zz]/",
		"http://host/#frag", "http://host:/", "1ttp://h/",
	};
	struct http_url	 u;
	const char	*err;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		ck_assert_msg(http_url_parse(bad[i], &u, &err) == -1,
		    "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_null(u.host);
	}
}
END_TEST

START_TEST(connect_targets_need_host_and_port)
{
	static const char *bad[] = {
		"example.test", "example.test:", "example.test:0",
		"example.test:99999", "http://example.test:443",
		"example.test:443/x", "user@example.test:443", "[::1]",
		":443", "exa mple.test:443",
	};
	struct http_url	 u;
	const char	*err;
	size_t		 i;

	ck_assert_int_eq(http_authority_parse("API.example.test:8443", &u,
	    &err), 0);
	ck_assert_str_eq(u.scheme, "https");
	ck_assert_str_eq(u.host, "api.example.test");
	ck_assert_int_eq(u.port, 8443);
	ck_assert_str_eq(u.target, "/");
	http_url_free(&u);
	ck_assert_int_eq(http_authority_parse("[::1]:443", &u, &err), 0);
	ck_assert_str_eq(u.host, "::1");
	http_url_free(&u);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		ck_assert_msg(http_authority_parse(bad[i], &u, &err) == -1,
		    "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(err);
	}
}
END_TEST

START_TEST(host_header_matching_uses_default_ports)
{
	struct http_url	 u;
	const char	*err;

	ck_assert_int_eq(http_url_parse("http://api.test/x", &u, &err), 0);
	ck_assert(http_host_matches("api.test", &u));
	ck_assert(http_host_matches("API.test:80", &u));
	ck_assert(!http_host_matches("api.test:8080", &u));
	ck_assert(!http_host_matches("evil.test", &u));
	ck_assert(!http_host_matches("api.test.evil", &u));
	ck_assert(!http_host_matches("api.test:", &u));
	http_url_free(&u);
	ck_assert_int_eq(http_url_parse("http://[::1]:8080/", &u, &err), 0);
	ck_assert(http_host_matches("[::1]:8080", &u));
	ck_assert(!http_host_matches("[::1]", &u));
	http_url_free(&u);
}
END_TEST

START_TEST(authority_omits_default_port)
{
	struct http_url	 u;
	struct buf	 b = { NULL, 0, 0 };
	const char	*err;

	ck_assert_int_eq(http_url_parse("http://h.test:80/", &u, &err), 0);
	http_url_authority(&b, &u);
	ck_assert_str_eq(buf_str(&b), "h.test");
	http_url_free(&u);
	buf_reset(&b);
	ck_assert_int_eq(http_url_parse("http://[::1]:81/", &u, &err), 0);
	http_url_authority(&b, &u);
	ck_assert_str_eq(buf_str(&b), "[::1]:81");
	http_url_free(&u);
	buf_free(&b);
}
END_TEST

START_TEST(headers_lookup_is_case_insensitive)
{
	struct http_headers	h = { NULL, 0, 0 };

	add(&h, "Content-Type", "application/json");
	add(&h, "X-Dup", "1");
	add(&h, "x-dup", "2");
	ck_assert_str_eq(http_headers_get(&h, "content-type"),
	    "application/json");
	ck_assert_uint_eq(http_headers_count(&h, "X-DUP"), 2);
	ck_assert_ptr_null(http_headers_get(&h, "Missing"));
	http_headers_remove(&h, "x-Dup");
	ck_assert_uint_eq(h.n, 1);
	http_headers_clear(&h);
	ck_assert_uint_eq(h.n, 0);
}
END_TEST

START_TEST(strip_hop_drops_fixed_set_and_connection_tokens)
{
	struct http_headers	h = { NULL, 0, 0 };
	int			close;

	add(&h, "Host", "h");
	add(&h, "Connection", "keep-alive, X-Private , close");
	add(&h, "X-Private", "secret");
	add(&h, "Keep-Alive", "timeout=5");
	add(&h, "Proxy-Connection", "keep-alive");
	add(&h, "TE", "trailers");
	add(&h, "Trailer", "X-T");
	add(&h, "Upgrade", "websocket");
	add(&h, "Proxy-Authorization", "Basic eA==");
	add(&h, "Accept", "*/*");
	close = http_headers_strip_hop(&h);
	ck_assert_int_eq(close, 1);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_str_eq(h.v[0].name, "Host");
	ck_assert_str_eq(h.v[1].name, "Accept");
	http_headers_clear(&h);
}
END_TEST

START_TEST(strip_hop_bounds_connection_tokens)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct buf		 tokens = { NULL, 0, 0 };
	int			 i;

	/* 20000 repeats of one name still strip that one header... */
	for (i = 0; i < 20000; i++)
		buf_adds(&tokens, "x-a,");
	add(&h, "Connection", buf_str(&tokens));
	add(&h, "X-A", "1");
	add(&h, "X-Keep", "2");
	ck_assert_int_eq(http_headers_strip_hop(&h), 0);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(h.v[0].name, "X-Keep");
	http_headers_clear(&h);
	/* ...and "close" is seen even past the bound on distinct names. */
	buf_reset(&tokens);
	for (i = 0; i < 100; i++)
		buf_printf(&tokens, "x-%d,", i);
	buf_adds(&tokens, "close");
	add(&h, "Connection", buf_str(&tokens));
	add(&h, "X-3", "3");
	ck_assert_int_eq(http_headers_strip_hop(&h), 1);
	ck_assert_uint_eq(h.n, 0);
	http_headers_clear(&h);
	buf_free(&tokens);
}
END_TEST

START_TEST(strip_hop_never_drops_framing_headers)
{
	struct http_headers	h = { NULL, 0, 0 };
	int			close;

	add(&h, "Connection", "Content-Length, Transfer-Encoding");
	add(&h, "Content-Length", "5");
	close = http_headers_strip_hop(&h);
	ck_assert_int_eq(close, 0);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_str_eq(http_headers_get(&h, "Content-Length"), "5");
	http_headers_clear(&h);
}
END_TEST

START_TEST(token_chars_exclude_space_and_separators)
{
	const char	*ok = "Content-Type!#$%&'*+-.^_`|~09az";
	const char	*bad = " \t:;,()/<>=?@[]{}\"\\\x7f";

	for (; *ok != '\0'; ok++)
		ck_assert_msg(http_token_char((unsigned char)*ok), "%c", *ok);
	for (; *bad != '\0'; bad++)
		ck_assert_msg(!http_token_char((unsigned char)*bad), "%c", *bad);
	ck_assert(!http_token_char(0));
	ck_assert(!http_token_char(0x80));
}
END_TEST

START_TEST(header_table_flags)
{
	ck_assert(http_header_flags("proxy-authorization") & HTTP_HDR_HOP);
	ck_assert(http_header_flags("proxy-authorization") & HTTP_HDR_SECRET);
	ck_assert(http_header_flags("AUTHORIZATION") & HTTP_HDR_SECRET);
	ck_assert(!(http_header_flags("Authorization") & HTTP_HDR_HOP));
	ck_assert_int_eq(http_header_flags("Content-Type"), 0);
}
END_TEST

START_TEST(heads_serialize_in_order)
{
	struct http_headers	h = { NULL, 0, 0 };
	struct buf		b = { NULL, 0, 0 };

	add(&h, "Host", "h.test");
	add(&h, "Accept", "*/*");
	http_request_head(&b, "PATCH", "/v1/p", &h);
	ck_assert_str_eq(buf_str(&b),
	    "PATCH /v1/p HTTP/1.1\r\nHost: h.test\r\nAccept: */*\r\n\r\n");
	buf_reset(&b);
	http_response_head(&b, 431, http_reason(431), &h);
	ck_assert_str_eq(buf_str(&b), "HTTP/1.1 431 Request Header Fields "
	    "Too Large\r\nHost: h.test\r\nAccept: */*\r\n\r\n");
	ck_assert_str_eq(http_reason(799), "");
	http_headers_clear(&h);
	buf_free(&b);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, url_parses_host_port_and_target);
	tcase_add_test(tc, url_defaults_port_and_path);
	tcase_add_test(tc, url_accepts_ipv6_and_drops_userinfo);
	tcase_add_test(tc, url_rejects_bad_input);
	tcase_add_test(tc, connect_targets_need_host_and_port);
	tcase_add_test(tc, host_header_matching_uses_default_ports);
	tcase_add_test(tc, authority_omits_default_port);
	tcase_add_test(tc, headers_lookup_is_case_insensitive);
	tcase_add_test(tc, strip_hop_drops_fixed_set_and_connection_tokens);
	tcase_add_test(tc, strip_hop_bounds_connection_tokens);
	tcase_add_test(tc, strip_hop_never_drops_framing_headers);
	tcase_add_test(tc, token_chars_exclude_space_and_separators);
	tcase_add_test(tc, header_table_flags);
	tcase_add_test(tc, heads_serialize_in_order);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(http_suite());
}
