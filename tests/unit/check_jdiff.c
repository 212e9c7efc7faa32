/*
 * Unit tests for jdiff: every kind of change, shape against values mode,
 * enums new and moved, JSON Pointer escaping, arrays, absent sides, and
 * the bounds on changes and depth.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "jdiff.h"
#include "unit.h"

static json_t *
J(const char *text)
{
	json_error_t	 err;
	json_t		*v;

	v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	ck_assert_msg(v != NULL, "test JSON does not parse: %s (%s)",
	    err.text, text);
	return v;
}

/* Compare two documents given as text; return the count found. */
static size_t
cmp(struct jdiff *d, const char *a, const char *b, unsigned flags)
{
	json_t	*ja, *jb;
	size_t	 n;

	ja = a != NULL ? J(a) : NULL;
	jb = b != NULL ? J(b) : NULL;

	n = jdiff_compare(d, ja, jb, flags);
	/* The list holds references of its own. */
	json_decref(ja);
	json_decref(jb);
	return n;
}

/* The list as "kind path" lines, to compare in one assertion. */
static char *
lines(const struct jdiff *d)
{
	struct buf	b = { NULL, 0, 0 };
	size_t		i;

	for (i = 0; i < d->n; i++)
		buf_printf(&b, "%s %s\n", jdiff_kind_name(d->v[i].kind),
		    d->v[i].path);
	return strdup(b.data != NULL ? b.data : "");
}

#define ck_assert_changes(d, want) do {					\
	char	*got_ = lines(d);					\
	ck_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

START_TEST(equal_documents_have_no_changes)
{
	static const char *docs[] = {
		"{}", "[]", "null", "true", "\"x\"", "0",
		"{\"a\": [1, {\"b\": null}], \"type\": \"EMAIL\"}",
	};
	struct jdiff	d;
	size_t		i;

	jdiff_init(&d);
	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		ck_assert_uint_eq(cmp(&d, docs[i], docs[i], 0), 0);
		ck_assert_uint_eq(cmp(&d, docs[i], docs[i], JDIFF_VALUES), 0);
	}
	/* 1 and 1.0 are one number. */
	ck_assert_uint_eq(cmp(&d, "{\"n\": 1}", "{\"n\": 1.0}",
	    JDIFF_VALUES), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(d.dropped, 0);
	jdiff_free(&d);
}
END_TEST

START_TEST(keys_added_and_removed_in_order)
{
	struct jdiff	d;

	jdiff_init(&d);
	/* a's keys in a's order, then b's own keys in b's order. */
	ck_assert_uint_eq(cmp(&d, "{\"b\": 1, \"x\": 0, \"a\": 1}",
	    "{\"d\": 1, \"x\": 0, \"c\": 1}", 0), 4);
	ck_assert_changes(&d, "removed /b\nremoved /a\nadded /d\nadded /c\n");
	ck_assert_ptr_null(d.v[2].a);
	ck_assert_int_eq(json_integer_value(d.v[2].b), 1);
	ck_assert_ptr_null(d.v[0].b);
	ck_assert_int_eq(json_integer_value(d.v[0].a), 1);
	jdiff_free(&d);

	/* Nested, the same in values mode. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "{\"p\": {\"q\": {\"r\": 1}}}",
	    "{\"p\": {\"q\": {\"s\": 1}}}", JDIFF_VALUES), 2);
	ck_assert_changes(&d, "removed /p/q/r\nadded /p/q/s\n");
	jdiff_free(&d);
}
END_TEST

START_TEST(types_group_numbers_and_booleans)
{
	struct jdiff	d;

	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "{\"n\": 1, \"f\": true, \"s\": \"x\", "
	    "\"o\": {}, \"a\": [], \"z\": null}", "{\"n\": 2.5, \"f\": false, "
	    "\"s\": 1, \"o\": [], \"a\": {}, \"z\": \"\"}", 0), 4);
	ck_assert_changes(&d, "type /s\ntype /o\ntype /a\ntype /z\n");
	ck_assert_str_eq(jdiff_type_name(d.v[0].a), "string");
	ck_assert_str_eq(jdiff_type_name(d.v[0].b), "number");
	ck_assert_str_eq(jdiff_type_name(d.v[1].a), "object");
	ck_assert_str_eq(jdiff_type_name(d.v[1].b), "array");
	ck_assert_str_eq(jdiff_type_name(d.v[3].a), "null");
	jdiff_free(&d);

	/* The same pair with values: the number and the boolean changed. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "{\"n\": 1, \"f\": true}",
	    "{\"n\": 2.5, \"f\": false}", JDIFF_VALUES), 2);
	ck_assert_changes(&d, "value /n\nvalue /f\n");
	ck_assert_str_eq(jdiff_type_name(d.v[1].a), "boolean");
	ck_assert_str_eq(jdiff_type_name(d.v[1].b), "boolean");
	jdiff_free(&d);

	/* A different type at the root. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "[1]", "{\"a\": 1}", JDIFF_VALUES), 1);
	ck_assert_changes(&d, "type \n");
	jdiff_free(&d);
}
END_TEST

START_TEST(plain_values_count_only_with_the_flag)
{
	struct jdiff	d;

	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "{\"title\": \"a\", \"n\": 3}",
	    "{\"title\": \"b\", \"n\": 4}", 0), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(cmp(&d, "{\"title\": \"a\", \"n\": 3}",
	    "{\"title\": \"b\", \"n\": 4}", JDIFF_VALUES), 2);
	ck_assert_changes(&d, "value /title\nvalue /n\n");
	ck_assert_str_eq(json_string_value(d.v[0].a), "a");
	ck_assert_str_eq(json_string_value(d.v[0].b), "b");
	jdiff_free(&d);

	/* Strings are compared whole, NUL bytes included. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "\"a\\u0000b\"", "\"a\\u0000c\"",
	    JDIFF_VALUES), 1);
	ck_assert_uint_eq(cmp(&d, "\"a\\u0000b\"", "\"a\\u0000b\"",
	    JDIFF_VALUES), 0);
	ck_assert_uint_eq(cmp(&d, "\"a\"", "\"a\\u0000\"", JDIFF_VALUES), 1);
	jdiff_free(&d);
}
END_TEST

START_TEST(arrays_by_index_lengths_only_with_values)
{
	struct jdiff	d;

	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "[1, 2, 3]", "[1]", JDIFF_VALUES), 2);
	ck_assert_changes(&d, "removed /1\nremoved /2\n");
	ck_assert_int_eq(json_integer_value(d.v[1].a), 3);
	jdiff_free(&d);

	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "[1]", "[1, 7, 8]", JDIFF_VALUES), 2);
	ck_assert_changes(&d, "added /1\nadded /2\n");
	ck_assert_int_eq(json_integer_value(d.v[1].b), 8);
	jdiff_free(&d);

	/* By shape, a length is data: only shared elements are compared. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "[1, 2, 3]", "[1]", 0), 0);
	ck_assert_uint_eq(cmp(&d, "[1]", "[4, 5, 6]", 0), 0);
	ck_assert_uint_eq(cmp(&d, "{\"v\": [{\"x\": 1}, {\"x\": 2}]}",
	    "{\"v\": [{\"x\": \"1\"}]}", 0), 1);
	ck_assert_changes(&d, "type /v/0/x\n");
	jdiff_free(&d);

	/* Elements compared in place: one changed in the middle. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "[{\"a\": 1}, {\"a\": 2}, {\"a\": 3}]",
	    "[{\"a\": 1}, {\"b\": 2}, {\"a\": 3}]", 0), 2);
	ck_assert_changes(&d, "removed /1/a\nadded /1/b\n");
	jdiff_free(&d);
}
END_TEST

#define ACTIONS_A							\
	"{\"actions\": ["						\
	"{\"id\": \"act_1\", \"type\": \"WEBHOOK\", "			\
	"\"anchor\": \"BOOKING_CREATED\"}, "				\
	"{\"id\": \"act_3\", \"type\": \"WEBHOOK\", "			\
	"\"anchor\": \"BOOKING_CANCELLED\"}]}"

START_TEST(enum_new_value_is_reported_in_both_modes)
{
	struct jdiff	 d;
	const char	*b = "{\"actions\": ["
	    "{\"id\": \"act_1\", \"type\": \"WEBHOOK\", "
	    "\"anchor\": \"BOOKING_CANCELED\"}, "
	    "{\"id\": \"act_3\", \"type\": \"WEBHOOK\", "
	    "\"anchor\": \"BOOKING_CANCELLED\"}]}";

	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, ACTIONS_A, b, 0), 1);
	ck_assert_uint_eq(cmp(&d, ACTIONS_A, b, JDIFF_VALUES), 1);
	ck_assert_changes(&d, "enum /actions/0/anchor\n"
	    "enum /actions/0/anchor\n");
	ck_assert_str_eq(json_string_value(d.v[0].a), "BOOKING_CREATED");
	ck_assert_str_eq(json_string_value(d.v[0].b), "BOOKING_CANCELED");
	jdiff_free(&d);
}
END_TEST

START_TEST(enum_value_moved_is_a_plain_value)
{
	struct jdiff	 d;
	/* act_1 takes the anchor that act_3 already has in a. */
	const char	*b = "{\"actions\": ["
	    "{\"id\": \"act_1\", \"type\": \"WEBHOOK\", "
	    "\"anchor\": \"BOOKING_CANCELLED\"}, "
	    "{\"id\": \"act_3\", \"type\": \"WEBHOOK\", "
	    "\"anchor\": \"BOOKING_CANCELLED\"}]}";

	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, ACTIONS_A, b, 0), 0);
	ck_assert_uint_eq(cmp(&d, ACTIONS_A, b, JDIFF_VALUES), 1);
	ck_assert_changes(&d, "value /actions/0/anchor\n");
	jdiff_free(&d);
}
END_TEST

START_TEST(enum_in_an_element_without_partner)
{
	struct jdiff	 d;
	const char	*b = "{\"actions\": ["
	    "{\"id\": \"act_1\", \"type\": \"WEBHOOK\", "
	    "\"anchor\": \"BOOKING_CREATED\"}, "
	    "{\"id\": \"act_3\", \"type\": \"WEBHOOK\", "
	    "\"anchor\": \"BOOKING_CANCELLED\"}, "
	    "{\"type\": \"SMS\", \"anchor\": \"BOOKING_CREATED\"}, "
	    "{\"type\": \"WEBHOOK\", \"anchor\": \"BOOKING_RESCHEDULED\"}]}";

	/* Shape: the length is not reported, the new values are. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, ACTIONS_A, b, 0), 2);
	ck_assert_changes(&d, "enum /actions/2/type\nenum /actions/3/anchor\n");
	ck_assert_ptr_null(d.v[0].a);
	ck_assert_str_eq(json_string_value(d.v[0].b), "SMS");
	jdiff_free(&d);

	/* Values: each element is added, then its new values named. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, ACTIONS_A, b, JDIFF_VALUES), 4);
	ck_assert_changes(&d, "added /actions/2\nenum /actions/2/type\n"
	    "added /actions/3\nenum /actions/3/anchor\n");
	jdiff_free(&d);

	/* A new key with a new value; a changed type of an enum key. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "{\"type\": \"A\", \"x\": {\"y\": 1}}",
	    "{\"type\": \"A\", \"x\": {\"y\": 1, \"type\": \"B\"}}", 0), 2);
	ck_assert_changes(&d, "added /x/type\nenum /x/type\n");
	jdiff_free(&d);
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "{\"type\": \"A\", \"x\": {\"type\": 1}}",
	    "{\"type\": \"A\", \"x\": {\"type\": \"Z\"}}", 0), 2);
	ck_assert_changes(&d, "type /x/type\nenum /x/type\n");
	jdiff_free(&d);
}
END_TEST

START_TEST(enum_needs_values_of_that_key_in_a)
{
	struct jdiff	d;

	jdiff_init(&d);
	/* a knows no anchors: nothing to call new. */
	ck_assert_uint_eq(cmp(&d, "{\"actions\": []}",
	    "{\"actions\": [{\"anchor\": \"X\"}]}", 0), 0);
	/* An absent a knows nothing either. */
	ck_assert_uint_eq(cmp(&d, NULL, "{\"type\": \"X\"}", 0), 1);
	ck_assert_changes(&d, "added \n");
	jdiff_free(&d);

	/* Only "type" and "anchor" are enums; the key name must match. */
	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "{\"status\": \"A\", \"anchor\": \"Q\"}",
	    "{\"status\": \"B\", \"anchor\": \"Q\"}", 0), 0);
	ck_assert_uint_eq(cmp(&d, "{\"type\": \"A\", \"anchor\": \"Q\"}",
	    "{\"type\": \"Q\", \"anchor\": \"Q\"}", 0), 1);
	ck_assert_changes(&d, "enum /type\n");
	/* A value of a known anywhere in a, at any depth. */
	ck_assert_uint_eq(cmp(&d, "[{\"p\": [{\"type\": \"T2\"}]}, "
	    "{\"type\": \"T1\"}]", "[{\"p\": []}, {\"type\": \"T2\"}]", 0),
	    0);
	jdiff_free(&d);
}
END_TEST

START_TEST(paths_escape_tilde_and_slash)
{
	struct jdiff	d;

	jdiff_init(&d);
	ck_assert_uint_eq(cmp(&d, "{\"a/b\": 1, \"m~n\": 1, \"\": 1, "
	    "\"~1\": 1, \"x\": {\"/\": [0, {\"~\": 1}]}}", "{\"x\": {\"/\": "
	    "[0, {\"~\": \"s\"}]}}", 0), 5);
	ck_assert_changes(&d, "removed /a~1b\nremoved /m~0n\nremoved /\n"
	    "removed /~01\ntype /x/~1/1/~0\n");
	jdiff_free(&d);
}
END_TEST

START_TEST(absent_sides)
{
	struct jdiff	 d;
	json_t		*v = J("{\"a\": [1]}");

	jdiff_init(&d);
	ck_assert_uint_eq(jdiff_compare(&d, NULL, NULL, JDIFF_VALUES), 0);
	ck_assert_uint_eq(jdiff_compare(&d, NULL, v, 0), 1);
	ck_assert_uint_eq(jdiff_compare(&d, v, NULL, 0), 1);
	ck_assert_changes(&d, "added \nremoved \n");
	ck_assert_ptr_eq(d.v[0].b, v);
	ck_assert_ptr_null(d.v[0].a);
	ck_assert_ptr_eq(d.v[1].a, v);
	ck_assert_ptr_null(d.v[1].b);
	/* The list keeps v alive after the caller lets it go. */
	json_decref(v);
	ck_assert_uint_eq(json_array_size(json_object_get(d.v[0].b, "a")), 1);
	jdiff_free(&d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_ptr_null(d.v);
	/* Free twice, and free an empty list. */
	jdiff_free(&d);
}
END_TEST

START_TEST(changes_past_the_limit_are_counted)
{
	struct jdiff	 d;
	json_t		*a = json_object(), *b = json_object();
	char		 key[32];
	size_t		 i;

	for (i = 0; i < JDIFF_MAX_CHANGES + 500; i++) {
		snprintf(key, sizeof key, "k%zu", i);
		json_object_set_new(a, key, json_integer((json_int_t)i));
		json_object_set_new(b, key, json_string("s"));
	}
	jdiff_init(&d);
	ck_assert_uint_eq(jdiff_compare(&d, a, b, 0), JDIFF_MAX_CHANGES + 500);
	ck_assert_uint_eq(d.n, JDIFF_MAX_CHANGES);
	ck_assert_uint_eq(d.dropped, 500);
	ck_assert_str_eq(d.v[JDIFF_MAX_CHANGES - 1].path, "/k999");
	/* A second comparison into a full list only counts. */
	ck_assert_uint_eq(jdiff_compare(&d, a, b, 0), JDIFF_MAX_CHANGES + 500);
	ck_assert_uint_eq(d.n, JDIFF_MAX_CHANGES);
	ck_assert_uint_eq(d.dropped, JDIFF_MAX_CHANGES + 1000);
	jdiff_free(&d);
	ck_assert_uint_eq(d.dropped, 0);
	json_decref(a);
	json_decref(b);
}
END_TEST

/* [[[...[leaf]...]]] nested depth deep, as text. */
static json_t *
nested(int depth, const char *leaf)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v;
	int		 i;

	for (i = 0; i < depth; i++)
		buf_adds(&b, "[");
	buf_adds(&b, leaf);
	for (i = 0; i < depth; i++)
		buf_adds(&b, "]");
	v = J(b.data);
	buf_free(&b);
	return v;
}

START_TEST(depth_is_bounded)
{
	struct jdiff	 d;
	json_t		*a, *b;
	size_t		 i, slashes = 0;

	a = nested(1000, "1");
	b = nested(1000, "\"x\"");

	jdiff_init(&d);
	/* By shape, the type change under the bound is not looked for. */
	ck_assert_uint_eq(jdiff_compare(&d, a, b, 0), 0);
	/* With values, the pair where the walk stopped differs. */
	ck_assert_uint_eq(jdiff_compare(&d, a, b, JDIFF_VALUES), 1);
	ck_assert_int_eq(d.v[0].kind, JDIFF_VALUE);
	for (i = 0; d.v[0].path[i] != '\0'; i++)
		slashes += d.v[0].path[i] == '/';
	ck_assert_uint_eq(slashes, JDIFF_MAX_DEPTH);
	ck_assert_uint_eq(jdiff_compare(&d, a, a, JDIFF_VALUES), 0);
	jdiff_free(&d);
	json_decref(a);
	json_decref(b);

	/* Within the bound, the change is found where it is. */
	a = nested(JDIFF_MAX_DEPTH - 1, "1");
	b = nested(JDIFF_MAX_DEPTH - 1, "\"x\"");
	jdiff_init(&d);
	ck_assert_uint_eq(jdiff_compare(&d, a, b, 0), 1);
	ck_assert_int_eq(d.v[0].kind, JDIFF_TYPE);
	ck_assert_uint_eq(strlen(d.v[0].path), 2 * (JDIFF_MAX_DEPTH - 1));
	jdiff_free(&d);
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(names_of_kinds_and_types)
{
	json_t	*v;

	ck_assert_str_eq(jdiff_kind_name(JDIFF_ADDED), "added");
	ck_assert_str_eq(jdiff_kind_name(JDIFF_REMOVED), "removed");
	ck_assert_str_eq(jdiff_kind_name(JDIFF_TYPE), "type");
	ck_assert_str_eq(jdiff_kind_name(JDIFF_VALUE), "value");
	ck_assert_str_eq(jdiff_kind_name(JDIFF_ENUM), "enum");
	ck_assert_str_eq(jdiff_type_name(NULL), "absent");
	v = J("[{}, [], \"s\", 1, 1.5, true, false, null]");
	ck_assert_str_eq(jdiff_type_name(json_array_get(v, 0)), "object");
	ck_assert_str_eq(jdiff_type_name(json_array_get(v, 1)), "array");
	ck_assert_str_eq(jdiff_type_name(json_array_get(v, 2)), "string");
	ck_assert_str_eq(jdiff_type_name(json_array_get(v, 3)), "number");
	ck_assert_str_eq(jdiff_type_name(json_array_get(v, 4)), "number");
	ck_assert_str_eq(jdiff_type_name(json_array_get(v, 5)), "boolean");
	ck_assert_str_eq(jdiff_type_name(json_array_get(v, 6)), "boolean");
	ck_assert_str_eq(jdiff_type_name(json_array_get(v, 7)), "null");
	json_decref(v);
}
END_TEST

static Suite *
jdiff_suite(void)
{
	Suite	*s = suite_create("jdiff");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, equal_documents_have_no_changes);
	tcase_add_test(tc, keys_added_and_removed_in_order);
	tcase_add_test(tc, types_group_numbers_and_booleans);
	tcase_add_test(tc, plain_values_count_only_with_the_flag);
	tcase_add_test(tc, arrays_by_index_lengths_only_with_values);
	tcase_add_test(tc, enum_new_value_is_reported_in_both_modes);
	tcase_add_test(tc, enum_value_moved_is_a_plain_value);
	tcase_add_test(tc, enum_in_an_element_without_partner);
	tcase_add_test(tc, enum_needs_values_of_that_key_in_a);
	tcase_add_test(tc, paths_escape_tilde_and_slash);
	tcase_add_test(tc, absent_sides);
	tcase_add_test(tc, changes_past_the_limit_are_counted);
	tcase_add_test(tc, depth_is_bounded);
	tcase_add_test(tc, names_of_kinds_and_types);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(jdiff_suite());
}
