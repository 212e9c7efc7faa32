/* Unit tests for uri: splitting, ports, percent-coding, query fields. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"
#include "uri.h"

/* Assert that a span holds exactly want (NULL: the span is absent). */
static void
span_is(struct uri_span sp, const char *want, const char *what)
{
	if (want == NULL) {
		ck_assert_msg(sp.p == NULL, "%s: present", what);
		return;
	}
	ck_assert_msg(sp.p != NULL, "%s: absent", what);
	ck_assert_msg(sp.len == strlen(want) && memcmp(sp.p, want,
	    sp.len) == 0, "%s: \"%.*s\", not \"%s\"", what, (int)sp.len,
	    sp.p, want);
}

static struct uri_span
span(const char *s)
{
	struct uri_span	sp = { s, s != NULL ? strlen(s) : 0 };

	return sp;
}

START_TEST(split_takes_an_absolute_url_apart)
{
	struct uri_parts	p;

	uri_split("HTTPS://user:pw@Api.Test:8443/v1/a?x=1&y#frag", &p);
	span_is(p.scheme, "HTTPS", "scheme");
	span_is(p.userinfo, "user:pw", "userinfo");
	span_is(p.host, "Api.Test", "host");
	span_is(p.port, ":8443", "port");
	span_is(p.path, "/v1/a", "path");
	span_is(p.query, "x=1&y", "query");
	span_is(p.fragment, "frag", "fragment");
	ck_assert_int_eq(p.ipv6, 0);
}
END_TEST

START_TEST(split_without_scheme_is_all_path_and_query)
{
	struct uri_parts	p;

	uri_split("/v1/profiles/p?fields=id", &p);
	span_is(p.scheme, NULL, "scheme");
	span_is(p.host, NULL, "host");
	span_is(p.port, NULL, "port");
	span_is(p.path, "/v1/profiles/p", "path");
	span_is(p.query, "fields=id", "query");
	span_is(p.fragment, NULL, "fragment");
	/* "//host" is a path here: only "scheme://" starts an authority. */
	uri_split("//host/x", &p);
	span_is(p.host, NULL, "host");
	span_is(p.path, "//host/x", "path");
	/* An empty scheme is none. */
	uri_split("://host/x", &p);
	span_is(p.scheme, NULL, "scheme");
	span_is(p.path, "://host/x", "path");
}
END_TEST

START_TEST(split_needs_scheme_characters_before_the_separator)
{
	struct uri_parts	p;

	uri_split("/go?to=http://evil.test/", &p);
	span_is(p.scheme, NULL, "scheme");
	span_is(p.path, "/go", "path");
	span_is(p.query, "to=http://evil.test/", "query");
	uri_split("h2c+x.y-z://h/", &p);
	span_is(p.scheme, "h2c+x.y-z", "scheme");
	span_is(p.host, "h", "host");
}
END_TEST

START_TEST(split_empty_path_and_query_only)
{
	struct uri_parts	p;

	uri_split("http://h", &p);
	span_is(p.host, "h", "host");
	span_is(p.port, "", "port");
	span_is(p.path, "", "path");
	span_is(p.query, NULL, "query");
	uri_split("http://h?q", &p);
	span_is(p.path, "", "path");
	span_is(p.query, "q", "query");
	uri_split("http://h/p?", &p);
	span_is(p.query, "", "query");
}
END_TEST

START_TEST(split_question_mark_in_fragment_is_no_query)
{
	struct uri_parts	p;

	uri_split("/p#a?b", &p);
	span_is(p.path, "/p", "path");
	span_is(p.query, NULL, "query");
	span_is(p.fragment, "a?b", "fragment");
	uri_split("http://h#x", &p);
	span_is(p.host, "h", "host");
	span_is(p.path, "", "path");
	span_is(p.fragment, "x", "fragment");
}
END_TEST

START_TEST(split_userinfo_ends_at_the_first_at_sign)
{
	struct uri_parts	p;

	uri_split("http://a@b@c:1/x@y", &p);
	span_is(p.userinfo, "a", "userinfo");
	span_is(p.host, "b@c", "host");
	span_is(p.port, ":1", "port");
	span_is(p.path, "/x@y", "path");
	uri_split("http://@h/", &p);
	span_is(p.userinfo, "", "userinfo");
	span_is(p.host, "h", "host");
}
END_TEST

START_TEST(split_ipv6_literals_lose_their_brackets)
{
	struct uri_parts	p;

	uri_split("http://[::1]:8080/", &p);
	ck_assert_int_eq(p.ipv6, 1);
	span_is(p.host, "::1", "host");
	span_is(p.port, ":8080", "port");
	uri_split("http://[::1]x/", &p);
	span_is(p.host, "::1", "host");
	span_is(p.port, "x", "port");
	/* No closing bracket: an ordinary host, up to the first ':'. */
	uri_split("http://[::1/", &p);
	ck_assert_int_eq(p.ipv6, 0);
	span_is(p.host, "[", "host");
	span_is(p.port, "::1", "port");
}
END_TEST

START_TEST(hostport_bare_ipv6_only_when_asked)
{
	struct uri_parts	p;

	memset(&p, 0, sizeof p);
	uri_hostport_split("::1", 3, 0, &p);
	span_is(p.host, "", "host");
	span_is(p.port, "::1", "port");
	uri_hostport_split("::1", 3, URI_BARE_IPV6, &p);
	span_is(p.host, "::1", "host");
	span_is(p.port, "", "port");
	uri_hostport_split("h:80", 4, URI_BARE_IPV6, &p);
	span_is(p.host, "h", "host");
	span_is(p.port, ":80", "port");
	uri_hostport_split("[fe80::1]:443", 13, URI_BARE_IPV6, &p);
	ck_assert_int_eq(p.ipv6, 1);
	span_is(p.host, "fe80::1", "host");
	span_is(p.port, ":443", "port");
	uri_hostport_split("", 0, 0, &p);
	span_is(p.host, "", "host");
	span_is(p.port, "", "port");
}
END_TEST

START_TEST(port_reads_colon_and_digits_only)
{
	ck_assert_int_eq(uri_port(span(":80")), 80);
	ck_assert_int_eq(uri_port(span(":0")), 0);
	ck_assert_int_eq(uri_port(span(":00443")), 443);
	ck_assert_int_eq(uri_port(span(":65535")), 65535);
	ck_assert_int_eq(uri_port(span(":65536")), 65536);
	ck_assert_int_eq(uri_port(span(":99999999999999999999")), 65536);
	ck_assert_int_eq(uri_port(span("")), -1);
	ck_assert_int_eq(uri_port(span(NULL)), -1);
	ck_assert_int_eq(uri_port(span(":")), -1);
	ck_assert_int_eq(uri_port(span("80")), -1);
	ck_assert_int_eq(uri_port(span(":+80")), -1);
	ck_assert_int_eq(uri_port(span(":-1")), -1);
	ck_assert_int_eq(uri_port(span(":8 ")), -1);
	ck_assert_int_eq(uri_port(span(":8x")), -1);
	ck_assert_int_eq(uri_port(span("x")), -1);
}
END_TEST

START_TEST(default_ports_by_scheme)
{
	ck_assert_int_eq(uri_default_port("http", 4), 80);
	ck_assert_int_eq(uri_default_port("HTTPS", 5), 443);
	ck_assert_int_eq(uri_default_port("https", 4), 80);
	ck_assert_int_eq(uri_default_port("ftp", 3), 0);
	ck_assert_int_eq(uri_default_port("", 0), 0);
}
END_TEST

/* Decode s with flags; return a static copy (NULs shown as "\0"). */
static const char *
dec(const char *s, int flags)
{
	static char	out[256];
	char		tmp[256];
	size_t		n, i, o = 0;

	n = uri_decode(s, strlen(s), tmp, flags);
	ck_assert_uint_le(n, strlen(s));
	for (i = 0; i < n; i++) {
		if (tmp[i] == '\0') {
			out[o++] = '\\';
			out[o++] = '0';
		} else
			out[o++] = tmp[i];
	}
	out[o] = '\0';
	return out;
}

START_TEST(decode_hex_escapes_in_either_case)
{
	ck_assert_str_eq(dec("a%20b%2Fc%2fd", 0), "a b/c/d");
	ck_assert_str_eq(dec("%E2%82%AC", 0), "\xe2\x82\xac");
	ck_assert_str_eq(dec("", 0), "");
}
END_TEST

START_TEST(decode_keeps_truncated_and_invalid_escapes)
{
	ck_assert_str_eq(dec("%4", 0), "%4");
	ck_assert_str_eq(dec("a%", 0), "a%");
	ck_assert_str_eq(dec("%zz%4g%g4", 0), "%zz%4g%g4");
	ck_assert_str_eq(dec("%%41", 0), "%A");
	ck_assert_str_eq(dec("100%", URI_DECODE_PLUS), "100%");
	/* An escape is not decoded twice. */
	ck_assert_str_eq(dec("%2541", 0), "%41");
}
END_TEST

START_TEST(decode_plus_is_a_space_only_in_forms)
{
	ck_assert_str_eq(dec("a+b%2B", 0), "a+b+");
	ck_assert_str_eq(dec("a+b%2B", URI_DECODE_PLUS), "a b+");
}
END_TEST

START_TEST(decode_nul_is_a_byte_unless_kept)
{
	ck_assert_str_eq(dec("a%00b", 0), "a\\0b");
	ck_assert_str_eq(dec("a%00b", URI_DECODE_KEEP_NUL), "a%00b");
	ck_assert_str_eq(dec("%00%01", URI_DECODE_KEEP_NUL), "%00\x01");
}
END_TEST

START_TEST(decode_buf_appends_and_terminates)
{
	struct buf	b = { NULL, 0, 0 };

	uri_decode_buf(&b, "", 0, 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	buf_adds(&b, "x=");
	uri_decode_buf(&b, "a+%41%4", 7, URI_DECODE_PLUS);
	ck_assert_str_eq(b.data, "x=a A%4");
	ck_assert_uint_eq(b.len, 7);
	buf_free(&b);
}
END_TEST

START_TEST(encode_only_what_the_flags_name)
{
	struct buf	b = { NULL, 0, 0 };

	uri_encode(&b, "a\r\nb%c\x7f~", 8, URI_ENCODE_CONTROL);
	ck_assert_str_eq(buf_str(&b), "a%0D%0Ab%c%7F~");
	buf_reset(&b);
	uri_encode(&b, "a\tb%", 4, URI_ENCODE_CONTROL | URI_ENCODE_PERCENT);
	ck_assert_str_eq(buf_str(&b), "a%09b%25");
	buf_reset(&b);
	uri_encode(&b, "a b/\xc3\xa9-._~", 10, URI_ENCODE_COMPONENT);
	ck_assert_str_eq(buf_str(&b), "a%20b%2F%C3%A9-._~");
	buf_reset(&b);
	uri_encode(&b, "x\0y", 3, URI_ENCODE_CONTROL);
	ck_assert_str_eq(buf_str(&b), "x%00y");
	buf_reset(&b);
	uri_encode(&b, "", 0, URI_ENCODE_COMPONENT);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(encode_then_decode_gives_the_bytes_back)
{
	struct buf	b = { NULL, 0, 0 };
	char		all[256], out[256 * 3];
	size_t		i, n;

	for (i = 0; i < sizeof all; i++)
		all[i] = (char)i;
	uri_encode(&b, all, sizeof all, URI_ENCODE_COMPONENT);
	n = uri_decode(b.data, b.len, out, 0);
	ck_assert_uint_eq(n, sizeof all);
	ck_assert(memcmp(out, all, n) == 0);
	buf_free(&b);
}
END_TEST

START_TEST(query_fields_split_on_ampersand_keep_empties)
{
	static const char	 q[] = "a=1&&b&=x&c=";
	const char		*p = q, *end = q + strlen(q), *amp;
	struct uri_param	 f[8];
	size_t			 n = 0;

	for (;;) {
		amp = uri_query_field(p, end, &f[n++]);
		if (amp == end)
			break;
		p = amp + 1;
	}
	ck_assert_uint_eq(n, 5);
	span_is(f[0].name, "a", "0 name");
	span_is(f[0].value, "1", "0 value");
	span_is(f[1].name, "", "1 name");
	span_is(f[1].value, NULL, "1 value");
	span_is(f[2].name, "b", "2 name");
	span_is(f[2].value, NULL, "2 value");
	span_is(f[3].name, "", "3 name");
	span_is(f[3].value, "x", "3 value");
	span_is(f[4].name, "c", "4 name");
	span_is(f[4].value, "", "4 value");
	/* Only the first '=' separates. */
	p = "k=v=w";
	uri_query_field(p, p + 5, &f[0]);
	span_is(f[0].value, "v=w", "value");
}
END_TEST

START_TEST(query_parse_sorts_decoded_fields)
{
	struct uri_query	q;
	const char		*s = "b=2&a=x+y&&a=%41&c";

	uri_query_parse(&q, s, strlen(s), URI_DECODE_PLUS);
	ck_assert_uint_eq(q.n, 4);
	span_is(q.v[0].name, "a", "0 name");
	span_is(q.v[0].value, "A", "0 value");
	span_is(q.v[1].name, "a", "1 name");
	span_is(q.v[1].value, "x y", "1 value");
	span_is(q.v[2].name, "b", "2 name");
	span_is(q.v[3].name, "c", "3 name");
	span_is(q.v[3].value, "", "3 value");
	uri_query_free(&q);
	ck_assert_ptr_null(q.v);
	uri_query_parse(&q, "", 0, 0);
	ck_assert_uint_eq(q.n, 0);
	uri_query_free(&q);
}
END_TEST

START_TEST(query_compare_is_order_free)
{
	struct uri_query	a, b, c, d;

	uri_query_parse(&a, "x=1&y=2&x=0", 11, URI_DECODE_PLUS);
	uri_query_parse(&b, "x=0&y=%32&x=1", 13, URI_DECODE_PLUS);
	uri_query_parse(&c, "x=0&y=2", 7, URI_DECODE_PLUS);
	uri_query_parse(&d, "y&x=1&x=0&", 10, URI_DECODE_PLUS);
	ck_assert_int_eq(uri_query_cmp(&a, &b), 0);
	ck_assert_int_lt(uri_query_cmp(&a, &c), 0);
	ck_assert_int_gt(uri_query_cmp(&c, &a), 0);
	ck_assert_int_ne(uri_query_cmp(&a, &d), 0);
	uri_query_free(&a);
	uri_query_free(&b);
	uri_query_free(&c);
	uri_query_free(&d);
	/* "a" and "a=" are the same field; "a+b" and "a%20b" in a form. */
	uri_query_parse(&a, "a&k=a+b", 7, URI_DECODE_PLUS);
	uri_query_parse(&b, "k=a%20b&a=", 10, URI_DECODE_PLUS);
	ck_assert_int_eq(uri_query_cmp(&a, &b), 0);
	uri_query_free(&a);
	uri_query_free(&b);
}
END_TEST

START_TEST(span_compare_orders_prefix_first)
{
	ck_assert_int_eq(uri_span_cmp(span("ab"), span("ab")), 0);
	ck_assert_int_lt(uri_span_cmp(span("a"), span("ab")), 0);
	ck_assert_int_gt(uri_span_cmp(span("b"), span("ab")), 0);
	ck_assert_int_eq(uri_span_cmp(span(NULL), span("")), 0);
}
END_TEST

static Suite *
uri_suite(void)
{
	Suite	*s = suite_create("uri");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, split_takes_an_absolute_url_apart);
	tcase_add_test(tc, split_without_scheme_is_all_path_and_query);
	tcase_add_test(tc, split_needs_scheme_characters_before_the_separator);
	tcase_add_test(tc, split_empty_path_and_query_only);
	tcase_add_test(tc, split_question_mark_in_fragment_is_no_query);
	tcase_add_test(tc, split_userinfo_ends_at_the_first_at_sign);
	tcase_add_test(tc, split_ipv6_literals_lose_their_brackets);
	tcase_add_test(tc, hostport_bare_ipv6_only_when_asked);
	tcase_add_test(tc, port_reads_colon_and_digits_only);
	tcase_add_test(tc, default_ports_by_scheme);
	tcase_add_test(tc, decode_hex_escapes_in_either_case);
	tcase_add_test(tc, decode_keeps_truncated_and_invalid_escapes);
	tcase_add_test(tc, decode_plus_is_a_space_only_in_forms);
	tcase_add_test(tc, decode_nul_is_a_byte_unless_kept);
	tcase_add_test(tc, decode_buf_appends_and_terminates);
	tcase_add_test(tc, encode_only_what_the_flags_name);
	tcase_add_test(tc, encode_then_decode_gives_the_bytes_back);
	tcase_add_test(tc, query_fields_split_on_ampersand_keep_empties);
	tcase_add_test(tc, query_parse_sorts_decoded_fields);
	tcase_add_test(tc, query_compare_is_order_free);
	tcase_add_test(tc, span_compare_orders_prefix_first);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(uri_suite());
}
