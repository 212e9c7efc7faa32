/* Unit tests for body: gzip and deflate decoding, limits, JSON types. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "body.h"
#include "buf.h"
#include "unit.h"
#include "unit_zlib.h"

START_TEST(identity_passes_through_within_the_limit)
{
	struct buf	 b = { NULL, 0, 0 };
	const char	*cause = NULL;

	ck_assert_int_eq(body_decode(NULL, "{}", 2, 10, &b, &cause), 0);
	ck_assert_str_eq(buf_str(&b), "{}");
	buf_reset(&b);
	ck_assert_int_eq(body_decode("identity", "abc", 3, 2, &b, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	buf_free(&b);
}
END_TEST

START_TEST(gzip_and_both_deflates_decode)
{
	static const int	 wbits[] = { 31, 15, -15 };
	static const char	*names[] = { "gzip", "deflate", "deflate" };
	const char		*text = "{\"actions\": [{\"id\": \"act_1\"}]}";
	unsigned char		 z[256];
	struct buf		 b = { NULL, 0, 0 };
	const char		*cause;
	size_t			 i, n;

	for (i = 0; i < 3; i++) {
		n = unit_squeeze(wbits[i], text, z, sizeof z);
		buf_reset(&b);
		cause = NULL;
		ck_assert_msg(body_decode(names[i], (const char *)z, n, 1024,
		    &b, &cause) == 0, "%zu: %s", i, cause);
		ck_assert_str_eq(buf_str(&b), text);
	}
	buf_free(&b);
}
END_TEST

START_TEST(decoding_stops_at_the_limit)
{
	char		*text = malloc(1 << 20);
	unsigned char	*z = malloc(1 << 20);
	struct buf	 b = { NULL, 0, 0 };
	const char	*cause = NULL;
	size_t		 n;

	memset(text, 'a', (1 << 20) - 1);
	text[(1 << 20) - 1] = '\0';
	n = unit_squeeze(31, text, z, 1 << 20);
	/* A megabyte that compresses to about a kilobyte: a small bomb. */
	ck_assert_uint_lt(n, 4096);
	ck_assert_int_eq(body_decode("gzip", (const char *)z, n, 65536, &b,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "limit"));
	ck_assert_uint_eq(b.len, 0);
	free(text);
	free(z);
	buf_free(&b);
}
END_TEST

START_TEST(corrupt_truncated_and_unknown_codings_fail)
{
	unsigned char	 z[256];
	struct buf	 b = { NULL, 0, 0 };
	const char	*cause;
	size_t		 n;

	n = unit_squeeze(31, "{\"a\": 1}", z, sizeof z);
	cause = NULL;
	ck_assert_int_eq(body_decode("gzip", (const char *)z, n / 2, 1024, &b,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	cause = NULL;
	ck_assert_int_eq(body_decode("gzip", "not gzip at all", 15, 1024, &b,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	cause = NULL;
	ck_assert_int_eq(body_decode("br", "x", 1, 1024, &b, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "Content-Encoding"));
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(json_media_types)
{
	ck_assert(body_is_json("application/json"));
	ck_assert(body_is_json("Application/JSON; charset=utf-8"));
	ck_assert(body_is_json("application/problem+json"));
	ck_assert(!body_is_json("text/json+html"));
	ck_assert(!body_is_json("text/plain"));
	ck_assert(!body_is_json("application/jsonx"));
	ck_assert(!body_is_json(NULL));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("body");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, identity_passes_through_within_the_limit);
	tcase_add_test(tc, gzip_and_both_deflates_decode);
	tcase_add_test(tc, decoding_stops_at_the_limit);
	tcase_add_test(tc, corrupt_truncated_and_unknown_codings_fail);
	tcase_add_test(tc, json_media_types);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
