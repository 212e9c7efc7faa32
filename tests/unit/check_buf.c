/* Unit tests for buf: growth, formatting, reset. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

START_TEST(empty_buffer_reads_as_empty_string)
{
	struct buf	b = { NULL, 0, 0 };

	ck_assert_str_eq(buf_str(&b), "");
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(grows_past_initial_capacity)
{
	struct buf	b = { NULL, 0, 0 };
	size_t		i;

	for (i = 0; i < 10000; i++)
		buf_add(&b, "ab", 2);
	ck_assert_uint_eq(b.len, 20000);
	ck_assert_uint_eq(strlen(buf_str(&b)), 20000);
	ck_assert(b.cap > b.len);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(printf_appends_and_keeps_binary)
{
	struct buf	b = { NULL, 0, 0 };

	buf_add(&b, "a\0b", 3);
	buf_printf(&b, "%d-%s", 42, "x");
	ck_assert_uint_eq(b.len, 7);
	ck_assert_int_eq(memcmp(b.data, "a\0b42-x", 7), 0);
	buf_reset(&b);
	buf_adds(&b, "z");
	ck_assert_str_eq(buf_str(&b), "z");
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, empty_buffer_reads_as_empty_string);
	tcase_add_test(tc, grows_past_initial_capacity);
	tcase_add_test(tc, printf_appends_and_keeps_binary);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
