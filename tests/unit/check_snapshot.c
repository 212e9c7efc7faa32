/* Unit tests for snapshot: what a GET showed, and the bounded store. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "snapshot.h"
#include "unit.h"

/* The seed thread's GET, as the fake API answers it. */
static const char SEED_FIELDS[] = "id,actions,actions.id,actions.type,"
    "actions.anchor,actions.to,actions.body,headers,headers.x-auth-token";
static const char SEED_GET[] = "{\"id\": \"p1\", \"actions\": ["
    "{\"id\": \"act_1\", \"type\": \"WEBHOOK\", \"anchor\": "
    "\"BOOKING_CREATED\", \"to\": \"https://crm.example.com/hooks/booking\", "
    "\"body\": \"{\\\"id\\\": \\\"{ID}\\\", "
    "\\\"start\\\": \\\"{START-ISO}\\\"}\"},"
    "{\"id\": \"act_2\", \"type\": \"EMAIL\", \"anchor\": \"BOOKING_CREATED\", "
    "\"to\": \"{EMAIL}\", \"body\": \"Hi {FNAME}\"},"
    "{\"id\": \"act_3\", \"type\": \"WEBHOOK\", \"anchor\": "
    "\"BOOKING_CANCELLED\", \"to\": \"https://crm.example.com/hooks/cancel\", "
    "\"body\": \"{\\\"id\\\": \\\"{ID}\\\"}\"}]}";

static json_t *
load(const char *text)
{
	json_error_t	 err;
	json_t		*j = json_loads(text, 0, &err);

	ck_assert_msg(j != NULL, "bad test JSON: %s", err.text);
	return j;
}

static struct snapshot *
snap_of(const char *text, const char *fields)
{
	json_t		*j = load(text);
	struct snapshot	*s = snapshot_new(j, fields);

	json_decref(j);
	return s;
}

START_TEST(needs_an_actions_array)
{
	ck_assert_ptr_null(snap_of("{\"id\": \"p1\"}", NULL));
	ck_assert_ptr_null(snap_of("{\"actions\": {}}", NULL));
	ck_assert_ptr_null(snap_of("[]", NULL));
	snapshot_free(NULL);
}
END_TEST

START_TEST(indexes_actions_by_id)
{
	struct snapshot	*s;

	s = snap_of("{\"actions\": [{\"id\": \"a\", \"n\": 1}, {\"type\": "
	    "\"SMS\"}, 5, {\"id\": \"a\", \"n\": 2}, {\"id\": 7}]}", NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(snapshot_count(s), 5);
	ck_assert_str_eq(snapshot_action_id(s, 0), "a");
	ck_assert_ptr_null(snapshot_action_id(s, 1));
	ck_assert_ptr_null(snapshot_action_id(s, 2));
	ck_assert_ptr_null(snapshot_action_id(s, 4));
	ck_assert_ptr_null(snapshot_action_id(s, 99));
	ck_assert(snapshot_has_id(s, "a"));
	ck_assert(!snapshot_has_id(s, "b"));
	ck_assert(!snapshot_has_id(s, NULL));
	/* The first of two actions with one id is the one kept. */
	ck_assert_int_eq(json_integer_value(json_object_get(
	    snapshot_action(s, "a"), "n")), 1);
	ck_assert_ptr_null(snapshot_action(s, "b"));
	snapshot_free(s);
}
END_TEST

START_TEST(keeps_its_own_copy)
{
	json_t		*j = load(SEED_GET);
	struct snapshot	*s = snapshot_new(j, NULL);

	json_object_set_new(json_array_get(json_object_get(j, "actions"), 0),
	    "id", json_string("changed"));
	json_decref(j);
	ck_assert(snapshot_has_id(s, "act_1"));
	ck_assert_str_eq(snapshot_action_id(s, 0), "act_1");
	snapshot_free(s);
}
END_TEST

START_TEST(seed_projection_leaves_out_subject_and_headers)
{
	struct snapshot	*s = snap_of(SEED_GET, SEED_FIELDS);
	static const char *const in[] = {
		"id", "type", "anchor", "to", "body"
	};
	static const char *const out[] = {
		"subject", "headers", "title", "status", "offsetMinutes",
		"attachIcs"
	};
	size_t		 i;

	for (i = 0; i < sizeof in / sizeof in[0]; i++)
		ck_assert_msg(snapshot_has_field(s, in[i]), "%s", in[i]);
	for (i = 0; i < sizeof out / sizeof out[0]; i++)
		ck_assert_msg(!snapshot_has_field(s, out[i]), "%s", out[i]);
	ck_assert_str_eq(snapshot_fields(s), SEED_FIELDS);
	snapshot_free(s);
}
END_TEST

START_TEST(star_or_bare_actions_include_every_field)
{
	static const char *const all[] = {
		"actions.*", "actions", " actions ", "id,actions",
		"actions,actions.*,actions.headers,actions.headers.*", "*",
	};
	struct snapshot	*s;
	size_t		 i;

	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		s = snap_of("{\"actions\": []}", all[i]);
		ck_assert_msg(snapshot_has_field(s, "headers"), "%s", all[i]);
		ck_assert_msg(snapshot_has_field(s, "subject"), "%s", all[i]);
		snapshot_free(s);
	}
}
END_TEST

START_TEST(named_subfields_include_only_those)
{
	struct snapshot	*s;

	s = snap_of("{\"actions\": []}", "actions,actions.id, actions.type ,"
	    "actions.headers.x-auth-token");
	ck_assert(snapshot_has_field(s, "id"));
	ck_assert(snapshot_has_field(s, "type"));
	ck_assert(snapshot_has_field(s, "headers"));
	ck_assert(!snapshot_has_field(s, "anchor"));
	ck_assert(!snapshot_has_field(s, "x-auth-token"));
	snapshot_free(s);
}
END_TEST

START_TEST(without_fields_only_the_default_set_counts)
{
	static const char *const fieldsv[] = { NULL, "id,title", "" };
	struct snapshot	*s;
	size_t		 i;

	for (i = 0; i < sizeof fieldsv / sizeof fieldsv[0]; i++) {
		s = snap_of("{\"actions\": []}", fieldsv[i]);
		ck_assert(snapshot_has_field(s, "id"));
		ck_assert(snapshot_has_field(s, "anchor"));
		ck_assert(snapshot_has_field(s, "title"));
		ck_assert(!snapshot_has_field(s, "body"));
		ck_assert(!snapshot_has_field(s, "headers"));
		if (fieldsv[i] == NULL)
			ck_assert_ptr_null(snapshot_fields(s));
		snapshot_free(s);
	}
}
END_TEST

START_TEST(fields_present_in_the_data_count_as_included)
{
	struct snapshot	*s;

	s = snap_of("{\"actions\": [{\"id\": \"a\", \"headers\": {}}]}",
	    "actions.id");
	ck_assert(snapshot_has_field(s, "headers"));
	ck_assert(!snapshot_has_field(s, "body"));
	snapshot_free(s);
}
END_TEST

START_TEST(knows_the_values_its_actions_use)
{
	struct snapshot	*s = snap_of(SEED_GET, SEED_FIELDS);

	ck_assert(snapshot_knows(s, "type", "EMAIL"));
	ck_assert(!snapshot_knows(s, "type", "SMS"));
	ck_assert(snapshot_knows(s, "anchor", "BOOKING_CANCELLED"));
	ck_assert(!snapshot_knows(s, "anchor", "BOOKING_CANCELED"));
	ck_assert(snapshot_knows(s, "field", "body"));
	ck_assert(!snapshot_knows(s, "field", "subject"));
	ck_assert(snapshot_knows(s, "placeholder", "START-ISO"));
	ck_assert(snapshot_knows(s, "placeholder", "FNAME"));
	ck_assert(!snapshot_knows(s, "placeholder", "REF"));
	ck_assert(!snapshot_knows(s, "colour", "EMAIL"));
	ck_assert(!snapshot_knows(s, "type", NULL));
	ck_assert(!snapshot_knows(NULL, "type", "EMAIL"));
	snapshot_free(s);
}
END_TEST

static struct snapshot *
snap_with_id(const char *id)
{
	json_t		*j = json_pack("{s:[{s:s}]}", "actions", "id", id);
	struct snapshot	*s = snapshot_new(j, NULL);

	json_decref(j);
	return s;
}

static const char *
first_id(const struct snapshot *s)
{
	return s != NULL ? snapshot_action_id(s, 0) : NULL;
}

START_TEST(store_replaces_the_snapshot_of_a_profile)
{
	struct snapshot_store	*st = snapshot_store_new(4);

	snapshot_store_put(st, "h:443", "acc1", "p1", snap_with_id("old"));
	snapshot_store_put(st, "h:443", "acc1", "p1", snap_with_id("new"));
	ck_assert_uint_eq(snapshot_store_count(st), 1);
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h:443", "acc1",
	    "p1")), "new");
	/* A GET that showed no actions leaves what is known alone. */
	snapshot_store_put(st, "h:443", "acc1", "p1", NULL);
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h:443", "acc1",
	    "p1")), "new");
	snapshot_store_free(st);
	snapshot_store_free(NULL);
}
END_TEST

START_TEST(store_keys_on_host_account_and_profile)
{
	struct snapshot_store	*st = snapshot_store_new(8);

	snapshot_store_put(st, "h:443", "acc1", "p1", snap_with_id("a"));
	snapshot_store_put(st, "h:80", "acc1", "p1", snap_with_id("b"));
	snapshot_store_put(st, "h:443", "acc2", "p1", snap_with_id("c"));
	snapshot_store_put(st, "h:443", NULL, "p1", snap_with_id("d"));
	snapshot_store_put(st, "h:443", "acc1p", "1", snap_with_id("e"));
	ck_assert_uint_eq(snapshot_store_count(st), 5);
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h:443", "acc1",
	    "p1")), "a");
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h:80", "acc1",
	    "p1")), "b");
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h:443", "acc2",
	    "p1")), "c");
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h:443", "",
	    "p1")), "d");
	ck_assert_ptr_null(snapshot_store_get(st, "h:443", "acc1", "p2"));
	ck_assert_ptr_null(snapshot_store_get(st, NULL, "acc1", "p1"));
	snapshot_store_free(st);
}
END_TEST

/* Many evictions through the hash index: what is kept is always found. */
START_TEST(store_index_survives_churn)
{
	struct snapshot_store	*st = snapshot_store_new(16);
	char			 p[16], id[16];
	int			 i, j;

	for (i = 0; i < 5000; i++) {
		snprintf(p, sizeof p, "p%d", i);
		snprintf(id, sizeof id, "%d", i);
		snapshot_store_put(st, "h", "a", p, snap_with_id(id));
		if (i % 7 == 0) {
			/* Refresh an older one now and then. */
			snprintf(p, sizeof p, "p%d", i - (i % 5));
			snapshot_store_put(st, "h", "a", p, snap_with_id(id));
		}
		ck_assert_uint_le(snapshot_store_count(st), 16);
	}
	/* The 10 put last are there, with their own snapshots. */
	for (j = 4990; j < 5000; j++) {
		snprintf(p, sizeof p, "p%d", j);
		ck_assert_ptr_nonnull(snapshot_store_get(st, "h", "a", p));
	}
	ck_assert_ptr_null(snapshot_store_get(st, "h", "a", "p0"));
	ck_assert_ptr_null(snapshot_store_get(st, "h", "a", "p4000"));
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h", "a", "p4999")),
	    "4999");
	snapshot_store_free(st);
}
END_TEST

START_TEST(store_is_bounded_and_drops_the_oldest)
{
	struct snapshot_store	*st = snapshot_store_new(3);
	char			 p[16];
	int			 i;

	snapshot_store_put(st, "h", "a", "p0", snap_with_id("0"));
	snapshot_store_put(st, "h", "a", "p1", snap_with_id("1"));
	snapshot_store_put(st, "h", "a", "p2", snap_with_id("2"));
	/* Putting p0 again makes it the newest; p1 is now the oldest. */
	snapshot_store_put(st, "h", "a", "p0", snap_with_id("0b"));
	snapshot_store_put(st, "h", "a", "p3", snap_with_id("3"));
	ck_assert_uint_eq(snapshot_store_count(st), 3);
	ck_assert_ptr_null(snapshot_store_get(st, "h", "a", "p1"));
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h", "a", "p0")),
	    "0b");
	ck_assert_ptr_nonnull(snapshot_store_get(st, "h", "a", "p2"));
	ck_assert_ptr_nonnull(snapshot_store_get(st, "h", "a", "p3"));
	for (i = 0; i < 100; i++) {
		snprintf(p, sizeof p, "q%d", i);
		snapshot_store_put(st, "h", "a", p, snap_with_id(p));
	}
	ck_assert_uint_eq(snapshot_store_count(st), 3);
	ck_assert_str_eq(first_id(snapshot_store_get(st, "h", "a", "q99")),
	    "q99");
	ck_assert_ptr_null(snapshot_store_get(st, "h", "a", "q96"));
	snapshot_store_free(st);
}
END_TEST

START_TEST(store_of_size_zero_keeps_nothing)
{
	struct snapshot_store	*st = snapshot_store_new(0);

	snapshot_store_put(st, "h", "a", "p", snap_with_id("x"));
	ck_assert_uint_eq(snapshot_store_count(st), 0);
	ck_assert_ptr_null(snapshot_store_get(st, "h", "a", "p"));
	snapshot_store_free(st);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("snapshot");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, needs_an_actions_array);
	tcase_add_test(tc, indexes_actions_by_id);
	tcase_add_test(tc, keeps_its_own_copy);
	tcase_add_test(tc, seed_projection_leaves_out_subject_and_headers);
	tcase_add_test(tc, star_or_bare_actions_include_every_field);
	tcase_add_test(tc, named_subfields_include_only_those);
	tcase_add_test(tc, without_fields_only_the_default_set_counts);
	tcase_add_test(tc, fields_present_in_the_data_count_as_included);
	tcase_add_test(tc, knows_the_values_its_actions_use);
	tcase_add_test(tc, store_replaces_the_snapshot_of_a_profile);
	tcase_add_test(tc, store_keys_on_host_account_and_profile);
	tcase_add_test(tc, store_is_bounded_and_drops_the_oldest);
	tcase_add_test(tc, store_index_survives_churn);
	tcase_add_test(tc, store_of_size_zero_keeps_nothing);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
