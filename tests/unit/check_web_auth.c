/*
 * Unit tests for web_auth: the token (cookie or Bearer), the Host check
 * against DNS rebinding, and which targets the proxy must not forward to
 * because they are the view itself.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "web_auth.h"
#include "unit.h"

static const char tok[] = "00112233445566778899aabbccddeeff";

START_TEST(token_hex_is_lowercase_and_whole)
{
	unsigned char	b[WEB_TOKEN_BYTES];
	char		hex[WEB_TOKEN_HEX + 1];
	size_t		i;

	for (i = 0; i < sizeof b; i++)
		b[i] = (unsigned char)(i * 0x11);
	web_auth_token_hex(b, hex);
	ck_assert_str_eq(hex, tok);
}
END_TEST

START_TEST(token_compare_needs_every_byte)
{
	char	t[WEB_TOKEN_HEX + 1];

	ck_assert(web_auth_token_eq(tok, strlen(tok), tok));
	memcpy(t, tok, sizeof t);
	t[WEB_TOKEN_HEX - 1] = '0';
	ck_assert(!web_auth_token_eq(t, strlen(t), tok));
	t[WEB_TOKEN_HEX - 1] = 'f';
	t[0] = '1';
	ck_assert(!web_auth_token_eq(t, strlen(t), tok));
	/* A prefix, a longer string, empty. */
	ck_assert(!web_auth_token_eq(tok, WEB_TOKEN_HEX - 1, tok));
	ck_assert(!web_auth_token_eq("00112233445566778899aabbccddeeff0",
	    WEB_TOKEN_HEX + 1, tok));
	ck_assert(!web_auth_token_eq("", 0, tok));
}
END_TEST

START_TEST(cookie_or_bearer_carries_the_token)
{
	ck_assert(web_auth_request_ok("patchscope_token="
	    "00112233445566778899aabbccddeeff", NULL, tok));
	ck_assert(web_auth_request_ok("a=1; patchscope_token="
	    "00112233445566778899aabbccddeeff; b=2", NULL, tok));
	/* Another run's cookie first (another port): one must match. */
	ck_assert(web_auth_request_ok("patchscope_token=ffff; "
	    "patchscope_token=00112233445566778899aabbccddeeff", NULL, tok));
	ck_assert(web_auth_request_ok(NULL, "Bearer "
	    "00112233445566778899aabbccddeeff", tok));
	ck_assert(web_auth_request_ok("x=y", "bearer "
	    "00112233445566778899aabbccddeeff ", tok));
	ck_assert(!web_auth_request_ok(NULL, NULL, tok));
	ck_assert(!web_auth_request_ok("xpatchscope_token="
	    "00112233445566778899aabbccddeeff", NULL, tok));
	ck_assert(!web_auth_request_ok("patchscope_token=", NULL, tok));
	ck_assert(!web_auth_request_ok(NULL, "Basic "
	    "00112233445566778899aabbccddeeff", tok));
	ck_assert(!web_auth_request_ok(NULL, "Bearer", tok));
	ck_assert(!web_auth_request_ok("patchscope_token="
	    "00112233445566778899aabbccddeefe", "Bearer x", tok));
}
END_TEST

START_TEST(host_must_name_the_view)
{
	ck_assert(web_auth_host_ok("127.0.0.1:8000", "127.0.0.1", 8000));
	ck_assert(web_auth_host_ok("localhost:8000", "127.0.0.1", 8000));
	ck_assert(web_auth_host_ok("LocalHost:8000", "127.0.0.1", 8000));
	ck_assert(web_auth_host_ok("[::1]:8000", "::1", 8000));
	ck_assert(web_auth_host_ok("localhost:8000", "::1", 8000));
	/* A rebound name, another port, another address. */
	ck_assert(!web_auth_host_ok("evil.example:8000", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("127.0.0.1:8001", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("127.0.0.2:8000", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("[::1]:8000", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("127.0.0.1", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("127.0.0.1:08000", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("127.0.0.1:8000x", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("127.0.0.1:", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok(NULL, "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("[127.0.0.1]:8000", "127.0.0.1", 8000));
	ck_assert(!web_auth_host_ok("[::1:8000", "::1", 8000));
	ck_assert(!web_auth_host_ok("[::1]x8000", "::1", 8000));
	ck_assert(!web_auth_host_ok("::1:8000", "::1", 8000));
	ck_assert(!web_auth_host_ok("localhost.evil:8000", "127.0.0.1", 8000));
	/* Port 80: browsers leave it out. */
	ck_assert(web_auth_host_ok("localhost", "127.0.0.1", 80));
	/* Bound to every address: any numeric address, no name. */
	ck_assert(web_auth_host_ok("192.0.2.7:9000", "0.0.0.0", 9000));
	ck_assert(!web_auth_host_ok("myhost:9000", "0.0.0.0", 9000));
	ck_assert(web_auth_host_ok("192.0.2.7:9000", "192.0.2.7", 9000));
}
END_TEST

START_TEST(loopback_addresses_are_known)
{
	ck_assert(web_auth_is_loopback("127.0.0.1"));
	ck_assert(web_auth_is_loopback("127.9.9.9"));
	ck_assert(web_auth_is_loopback("::1"));
	ck_assert(web_auth_is_loopback("localhost"));
	ck_assert(!web_auth_is_loopback("0.0.0.0"));
	ck_assert(!web_auth_is_loopback("::"));
	ck_assert(!web_auth_is_loopback("192.0.2.1"));
	ck_assert(!web_auth_is_loopback("example.test"));
}
END_TEST

START_TEST(every_spelling_of_the_view_is_refused)
{
	ck_assert(web_auth_is_view("127.0.0.1", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("localhost", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("LOCALHOST.", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("app.localhost", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("127.1", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("2130706433", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("0x7f.1", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("127.0.0.1.", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("0.0.0.0", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("::1", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("::", 8000, "127.0.0.1", 8000));
	ck_assert(web_auth_is_view("::ffff:127.0.0.1", 8000, "127.0.0.1",
	    8000));
	ck_assert(web_auth_is_view("192.0.2.7", 8000, "192.0.2.7", 8000));
	/* Another port, another machine. */
	ck_assert(!web_auth_is_view("127.0.0.1", 8001, "127.0.0.1", 8000));
	ck_assert(!web_auth_is_view("example.test", 8000, "127.0.0.1", 8000));
	ck_assert(!web_auth_is_view("notlocalhost", 8000, "127.0.0.1", 8000));
	ck_assert(!web_auth_is_view("192.0.2.7", 8000, "127.0.0.1", 8000));
	ck_assert(!web_auth_is_view("::ffff:192.0.2.7", 8000, "127.0.0.1",
	    8000));
	ck_assert(!web_auth_is_view("", 8000, "127.0.0.1", 8000));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("web_auth");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, token_hex_is_lowercase_and_whole);
	tcase_add_test(tc, token_compare_needs_every_byte);
	tcase_add_test(tc, cookie_or_bearer_carries_the_token);
	tcase_add_test(tc, host_must_name_the_view);
	tcase_add_test(tc, loopback_addresses_are_known);
	tcase_add_test(tc, every_spelling_of_the_view_is_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
