/*
 * Unit tests for arena: pieces are aligned, distinct and keep their bytes
 * while many more are cut; large pieces get blocks of their own; copies
 * end in a NUL; everything goes with arena_free.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "unit.h"

START_TEST(pieces_are_aligned_and_keep_their_bytes)
{
	struct arena	*a = arena_new();
	unsigned char	*p[2000];
	size_t		 i, j;

	for (i = 0; i < 2000; i++) {
		p[i] = arena_alloc(a, i % 37);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % 8, 0);
		memset(p[i], (int)(i & 0xff), i % 37);
	}
	/* Every piece still holds what was written: none overlap. */
	for (i = 0; i < 2000; i++)
		for (j = 0; j < i % 37; j++)
			ck_assert_uint_eq(p[i][j], i & 0xff);
	arena_free(a);
}
END_TEST

START_TEST(large_pieces_get_their_own_block)
{
	struct arena	*a = arena_new();
	char		*small, *big, *after;
	size_t		 before;

	small = arena_alloc(a, 16);
	before = arena_size(a);
	big = arena_alloc(a, 1024 * 1024);
	memset(big, 'x', 1024 * 1024);
	ck_assert_uint_ge(arena_size(a), before + 1024 * 1024);
	/* The block being cut is still the one cut from. */
	after = arena_alloc(a, 16);
	ck_assert_ptr_eq(after, small + 16);
	ck_assert_int_eq(big[1024 * 1024 - 1], 'x');
	arena_free(a);
}
END_TEST

START_TEST(copies_end_in_a_nul)
{
	struct arena	*a = arena_new();
	char		*s;

	s = arena_memdup(a, "abc\0def", 7);
	ck_assert_int_eq(memcmp(s, "abc\0def", 8), 0);
	s = arena_memdup(a, NULL, 0);
	ck_assert_str_eq(s, "");
	ck_assert_ptr_null(arena_strdup(a, NULL));
	ck_assert_str_eq(arena_strdup(a, "hello"), "hello");
	arena_free(a);
	arena_free(NULL);
}
END_TEST

START_TEST(many_small_pieces_cost_little_beyond_their_size)
{
	struct arena	*a = arena_new();
	size_t		 i;

	for (i = 0; i < 100000; i++)
		arena_strdup(a, "0123456789abcde");	/* 16 bytes */
	/* 1.6 MB of pieces in 256 KiB blocks: at most a block more. */
	ck_assert_uint_le(arena_size(a), 1600000 + 2 * 256 * 1024);
	arena_free(a);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("arena");
	TCase	*tc = tcase_create("arena");

	tcase_add_test(tc, pieces_are_aligned_and_keep_their_bytes);
	tcase_add_test(tc, large_pieces_get_their_own_block);
	tcase_add_test(tc, copies_end_in_a_nul);
	tcase_add_test(tc, many_small_pieces_cost_little_beyond_their_size);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
