/*
 * Unit tests for web_ring: what the web view keeps, what it drops, and
 * where a client resumes (after=N, Last-Event-ID), across drops too.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_ring.h"
#include "xmalloc.h"
#include "unit.h"

/* Add n entries whose text is their id. */
static void
add(struct web_ring *r, int n)
{
	char	*t;
	int	 i;

	for (i = 0; i < n; i++) {
		t = xasprintf("%llu",
		    (unsigned long long)web_ring_next_id(r));
		web_ring_add(r, t, strlen(t));
	}
}

START_TEST(keeps_the_last_n_and_counts_the_dropped)
{
	struct web_ring			*r = web_ring_new(3, 0);
	const struct web_ring_entry	*e;

	ck_assert_uint_eq(web_ring_oldest(r), 0);
	ck_assert_uint_eq(web_ring_newest(r), 0);
	ck_assert_ptr_null(web_ring_get(r, 1));
	add(r, 2);
	ck_assert_uint_eq(web_ring_count(r), 2);
	ck_assert_uint_eq(web_ring_dropped(r), 0);
	add(r, 5);
	ck_assert_uint_eq(web_ring_count(r), 3);
	ck_assert_uint_eq(web_ring_keep(r), 3);
	ck_assert_uint_eq(web_ring_dropped(r), 4);
	ck_assert_uint_eq(web_ring_oldest(r), 5);
	ck_assert_uint_eq(web_ring_newest(r), 7);
	ck_assert_uint_eq(web_ring_next_id(r), 8);
	ck_assert_ptr_null(web_ring_get(r, 4));
	ck_assert_ptr_null(web_ring_get(r, 8));
	e = web_ring_get(r, 6);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->id, 6);
	ck_assert_str_eq(e->text, "6");
	ck_assert_uint_eq(web_ring_bytes(r), 3);
	web_ring_free(r);
}
END_TEST

START_TEST(byte_cap_drops_the_oldest_but_keeps_the_newest)
{
	struct web_ring	*r = web_ring_new(100, 10);
	char		*big = xstrdup("0123456789abcdef");

	add(r, 9);		/* "1".."9": 9 bytes */
	ck_assert_uint_eq(web_ring_count(r), 9);
	add(r, 1);		/* "10": 11 bytes, over the cap */
	ck_assert_uint_eq(web_ring_bytes(r), 10);
	ck_assert_uint_eq(web_ring_oldest(r), 2);
	ck_assert_uint_eq(web_ring_dropped(r), 1);
	/* One entry over the whole cap is still kept, alone. */
	web_ring_add(r, big, strlen(big));
	ck_assert_uint_eq(web_ring_count(r), 1);
	ck_assert_uint_eq(web_ring_oldest(r), 11);
	ck_assert_uint_eq(web_ring_dropped(r), 10);
	web_ring_free(r);
}
END_TEST

START_TEST(resume_after_an_id_gives_the_next_one)
{
	struct web_ring	*r = web_ring_new(5, 0);
	int		 missed;

	ck_assert_uint_eq(web_ring_resume(r, 0, &missed), 1);
	ck_assert_int_eq(missed, 0);
	add(r, 4);
	ck_assert_uint_eq(web_ring_resume(r, 0, &missed), 1);
	ck_assert_int_eq(missed, 0);
	ck_assert_uint_eq(web_ring_resume(r, 2, &missed), 3);
	ck_assert_int_eq(missed, 0);
	/* Up to date: the next id, not kept yet. */
	ck_assert_uint_eq(web_ring_resume(r, 4, &missed), 5);
	ck_assert_int_eq(missed, 0);
	ck_assert_ptr_null(web_ring_get(r, 5));
	web_ring_free(r);
}
END_TEST

START_TEST(resume_across_drops_says_so_and_starts_at_the_oldest)
{
	struct web_ring	*r = web_ring_new(3, 0);
	int		 missed;

	add(r, 10);		/* kept: 8, 9, 10 */
	ck_assert_uint_eq(web_ring_resume(r, 0, &missed), 8);
	ck_assert_int_eq(missed, 1);
	ck_assert_uint_eq(web_ring_resume(r, 6, &missed), 8);
	ck_assert_int_eq(missed, 1);
	/* Saw 7, the last dropped one: nothing missed. */
	ck_assert_uint_eq(web_ring_resume(r, 7, &missed), 8);
	ck_assert_int_eq(missed, 0);
	ck_assert_uint_eq(web_ring_resume(r, 9, &missed), 10);
	ck_assert_int_eq(missed, 0);
	ck_assert_uint_eq(web_ring_resume(r, 10, &missed), 11);
	ck_assert_int_eq(missed, 0);
	web_ring_free(r);
}
END_TEST

START_TEST(wraps_many_times_without_losing_order)
{
	struct web_ring			*r = web_ring_new(7, 0);
	const struct web_ring_entry	*e;
	uint64_t			 id;
	char				 want[32];

	add(r, 1000);
	ck_assert_uint_eq(web_ring_dropped(r), 993);
	for (id = web_ring_oldest(r); id <= web_ring_newest(r); id++) {
		e = web_ring_get(r, id);
		ck_assert_ptr_nonnull(e);
		snprintf(want, sizeof want, "%llu", (unsigned long long)id);
		ck_assert_str_eq(e->text, want);
	}
	web_ring_free(r);
	web_ring_free(NULL);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("web_ring");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, keeps_the_last_n_and_counts_the_dropped);
	tcase_add_test(tc, byte_cap_drops_the_oldest_but_keeps_the_newest);
	tcase_add_test(tc, resume_after_an_id_gives_the_next_one);
	tcase_add_test(tc, resume_across_drops_says_so_and_starts_at_the_oldest);
	tcase_add_test(tc, wraps_many_times_without_losing_order);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
