/* Unit tests for utf8: the validator, U+FFFD repair, the encoder. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"
#include "utf8.h"

static int
valid(const char *s, int flags)
{
	return utf8_valid(s, strlen(s), flags);
}

START_TEST(seq_len_counts_one_to_four_bytes)
{
	ck_assert_uint_eq(utf8_seq_len("a", 1), 1);
	ck_assert_uint_eq(utf8_seq_len("\xc2\x80", 2), 2);
	ck_assert_uint_eq(utf8_seq_len("\xdf\xbf", 2), 2);
	ck_assert_uint_eq(utf8_seq_len("\xe0\xa0\x80", 3), 3);
	ck_assert_uint_eq(utf8_seq_len("\xe2\x82\xac", 3), 3);
	ck_assert_uint_eq(utf8_seq_len("\xef\xbf\xbf", 3), 3);
	ck_assert_uint_eq(utf8_seq_len("\xf0\x90\x80\x80", 4), 4);
	ck_assert_uint_eq(utf8_seq_len("\xf4\x8f\xbf\xbf", 4), 4);
	/* Only the bytes of the first sequence count. */
	ck_assert_uint_eq(utf8_seq_len("\xc3\xa9xyz", 5), 2);
	ck_assert_uint_eq(utf8_seq_len("", 1), 1);
}
END_TEST

START_TEST(seq_len_refuses_stray_and_truncated_bytes)
{
	ck_assert_uint_eq(utf8_seq_len("\x80", 1), 0);
	ck_assert_uint_eq(utf8_seq_len("\xbf", 1), 0);
	ck_assert_uint_eq(utf8_seq_len("\xc3", 1), 0);
	ck_assert_uint_eq(utf8_seq_len("\xe2\x82", 2), 0);
	ck_assert_uint_eq(utf8_seq_len("\xf0\x90\x80", 3), 0);
	/* The bytes are there but avail says they are not. */
	ck_assert_uint_eq(utf8_seq_len("\xe2\x82\xac", 2), 0);
	/* A continuation byte that is not one. */
	ck_assert_uint_eq(utf8_seq_len("\xc3" "a", 2), 0);
	ck_assert_uint_eq(utf8_seq_len("\xe2\x28\xa1", 3), 0);
	ck_assert_uint_eq(utf8_seq_len("\xf0\x90\x28\xbc", 4), 0);
	ck_assert_uint_eq(utf8_seq_len("\xfe", 1), 0);
	ck_assert_uint_eq(utf8_seq_len("\xff", 1), 0);
}
END_TEST

START_TEST(seq_len_refuses_overlong_forms)
{
	ck_assert_uint_eq(utf8_seq_len("\xc0\xaf", 2), 0);
	ck_assert_uint_eq(utf8_seq_len("\xc1\xbf", 2), 0);
	ck_assert_uint_eq(utf8_seq_len("\xc0\x80", 2), 0);
	ck_assert_uint_eq(utf8_seq_len("\xe0\x80\xaf", 3), 0);
	ck_assert_uint_eq(utf8_seq_len("\xe0\x9f\xbf", 3), 0);
	ck_assert_uint_eq(utf8_seq_len("\xf0\x80\x80\xaf", 4), 0);
	ck_assert_uint_eq(utf8_seq_len("\xf0\x8f\xbf\xbf", 4), 0);
}
END_TEST

START_TEST(seq_len_refuses_surrogates_and_past_max)
{
	ck_assert_uint_eq(utf8_seq_len("\xed\x9f\xbf", 3), 3);	/* U+D7FF */
	ck_assert_uint_eq(utf8_seq_len("\xed\xa0\x80", 3), 0);	/* U+D800 */
	ck_assert_uint_eq(utf8_seq_len("\xed\xbf\xbf", 3), 0);	/* U+DFFF */
	ck_assert_uint_eq(utf8_seq_len("\xee\x80\x80", 3), 3);	/* U+E000 */
	ck_assert_uint_eq(utf8_seq_len("\xf4\x90\x80\x80", 4), 0);
	ck_assert_uint_eq(utf8_seq_len("\xf5\x80\x80\x80", 4), 0);
}
END_TEST

START_TEST(valid_checks_every_sequence)
{
	ck_assert(valid("", 0));
	ck_assert(valid("plain ascii", 0));
	ck_assert(valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0));
	ck_assert(!valid("caf\xc3", 0));
	ck_assert(!valid("a\xed\xa0\x80z", 0));
	ck_assert(!valid("\xc0\xaf", 0));
	ck_assert(!valid("ok\x80", 0));
}
END_TEST

START_TEST(valid_nul_only_when_allowed)
{
	ck_assert(utf8_valid("a\0b", 3, 0));
	ck_assert(!utf8_valid("a\0b", 3, UTF8_NO_NUL));
	ck_assert(utf8_valid("ab", 2, UTF8_NO_NUL));
}
END_TEST

START_TEST(sanitize_replaces_each_bad_byte)
{
	struct buf	b = { NULL, 0, 0 };

	utf8_sanitize(&b, "ok", 2, 0);
	ck_assert_str_eq(buf_str(&b), "ok");
	buf_reset(&b);
	utf8_sanitize(&b, "a\xff" "b\xc3", 4, 0);
	ck_assert_str_eq(buf_str(&b), "a" UTF8_REPLACEMENT "b"
	    UTF8_REPLACEMENT);
	buf_reset(&b);
	/* An overlong pair is two bad bytes; a good sequence after stays. */
	utf8_sanitize(&b, "\xc0\xaf\xc3\xa9", 4, 0);
	ck_assert_str_eq(buf_str(&b), UTF8_REPLACEMENT UTF8_REPLACEMENT
	    "\xc3\xa9");
	buf_reset(&b);
	utf8_sanitize(&b, "a\0b", 3, UTF8_NO_NUL);
	ck_assert_str_eq(buf_str(&b), "a" UTF8_REPLACEMENT "b");
	buf_reset(&b);
	utf8_sanitize(&b, "a\0b", 3, 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert(memcmp(b.data, "a\0b", 3) == 0);
	buf_free(&b);
}
END_TEST

START_TEST(encode_writes_shortest_form)
{
	char	o[4];

	ck_assert_uint_eq(utf8_encode(0x41, o), 1);
	ck_assert_int_eq(o[0], 'A');
	ck_assert_uint_eq(utf8_encode(0xe9, o), 2);
	ck_assert(memcmp(o, "\xc3\xa9", 2) == 0);
	ck_assert_uint_eq(utf8_encode(0x20ac, o), 3);
	ck_assert(memcmp(o, "\xe2\x82\xac", 3) == 0);
	ck_assert_uint_eq(utf8_encode(0x1f600, o), 4);
	ck_assert(memcmp(o, "\xf0\x9f\x98\x80", 4) == 0);
	ck_assert_uint_eq(utf8_encode(0x10ffff, o), 4);
	ck_assert(memcmp(o, "\xf4\x8f\xbf\xbf", 4) == 0);
}
END_TEST

START_TEST(encode_and_seq_len_agree_on_every_code_point)
{
	char		o[4];
	uint32_t	cp;
	size_t		n;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = utf8_encode(cp, o);
		ck_assert_uint_eq(utf8_seq_len(o, n), n);
	}
}
END_TEST

START_TEST(continuation_bytes_are_10xxxxxx)
{
	const char	*s = "a\xc3\xa9\xe2\x82\xac";
	size_t		 i, starts = 0;

	ck_assert(UTF8_IS_CONT('\x80'));
	ck_assert(UTF8_IS_CONT('\xbf'));
	ck_assert(!UTF8_IS_CONT('\x7f'));
	ck_assert(!UTF8_IS_CONT('\xc0'));
	for (i = 0; s[i] != '\0'; i++)
		starts += !UTF8_IS_CONT(s[i]);
	ck_assert_uint_eq(starts, 3);
}
END_TEST

static Suite *
utf8_suite(void)
{
	Suite	*s = suite_create("utf8");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, seq_len_counts_one_to_four_bytes);
	tcase_add_test(tc, seq_len_refuses_stray_and_truncated_bytes);
	tcase_add_test(tc, seq_len_refuses_overlong_forms);
	tcase_add_test(tc, seq_len_refuses_surrogates_and_past_max);
	tcase_add_test(tc, valid_checks_every_sequence);
	tcase_add_test(tc, valid_nul_only_when_allowed);
	tcase_add_test(tc, sanitize_replaces_each_bad_byte);
	tcase_add_test(tc, encode_writes_shortest_form);
	tcase_add_test(tc, encode_and_seq_len_agree_on_every_code_point);
	tcase_add_test(tc, continuation_bytes_are_10xxxxxx);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(utf8_suite());
}
