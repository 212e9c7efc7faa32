/* Unit tests for api: recognising profile API request targets. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "unit.h"

/* Run api_profile_target and keep the results for the assertions. */
struct target {
	int	 rc;
	char	*account;
	char	*profile;
	char	*fields;
};

static struct target
parse(const char *s)
{
	struct target	t;

	t.rc = api_profile_target(s, &t.account, &t.profile, &t.fields);
	return t;
}

static void
target_free(struct target *t)
{
	free(t->account);
	free(t->profile);
	free(t->fields);
}

START_TEST(long_form_gives_account_and_profile)
{
	struct target	t = parse("/v1/acc1/profiles/p1");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.account, "acc1");
	ck_assert_str_eq(t.profile, "p1");
	ck_assert_ptr_null(t.fields);
	target_free(&t);
}
END_TEST

START_TEST(short_form_has_no_account)
{
	struct target	t = parse("/v1/profiles/p1?fields=id");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_ptr_null(t.account);
	ck_assert_str_eq(t.profile, "p1");
	ck_assert_str_eq(t.fields, "id");
	target_free(&t);
}
END_TEST

START_TEST(seed_get_fields_are_read_whole)
{
	struct target	t = parse("/v1/acc1/profiles/p1?fields=id,actions,"
	    "actions.id,actions.type,actions.anchor,actions.to,actions.body,"
	    "headers,headers.x-auth-token");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.fields, "id,actions,actions.id,actions.type,"
	    "actions.anchor,actions.to,actions.body,headers,"
	    "headers.x-auth-token");
	target_free(&t);
}
END_TEST

START_TEST(fields_are_percent_decoded)
{
	struct target	t = parse("/v1/acc1/profiles/p1?a=1&fields=actions%2C"
	    "actions.%2A&b=2#frag");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.fields, "actions,actions.*");
	target_free(&t);
}
END_TEST

START_TEST(repeated_fields_are_joined_with_commas)
{
	struct target	t = parse("/v1/profiles/p1?fields=id&fields=actions");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.fields, "id,actions");
	target_free(&t);
}
END_TEST

START_TEST(empty_fields_is_present_but_empty)
{
	struct target	t = parse("/v1/profiles/p1?fields");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.fields, "");
	target_free(&t);
}
END_TEST

START_TEST(bad_escapes_and_nul_stay_literal)
{
	struct target	t = parse("/v1/a%20b/profiles/p%2F1?fields=x%zz%00%4");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.account, "a b");
	ck_assert_str_eq(t.profile, "p/1");
	ck_assert_str_eq(t.fields, "x%zz%00%4");
	target_free(&t);
}
END_TEST

START_TEST(plus_is_a_space_in_the_query_only)
{
	struct target	t = parse("/v1/a+b/profiles/p?fields=id,+title");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.account, "a+b");
	ck_assert_str_eq(t.fields, "id, title");
	target_free(&t);
}
END_TEST

START_TEST(absolute_form_is_recognised)
{
	struct target	t = parse("https://api.youcanbook.me/v1/acc1/profiles/"
	    "p1?fields=actions.*");

	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.account, "acc1");
	ck_assert_str_eq(t.profile, "p1");
	ck_assert_str_eq(t.fields, "actions.*");
	target_free(&t);
	t = parse("http://127.0.0.1:9000/v1/profiles/p2");
	ck_assert_int_eq(t.rc, 0);
	ck_assert_str_eq(t.profile, "p2");
	target_free(&t);
}
END_TEST

START_TEST(non_profile_targets_are_rejected)
{
	static const char *const bad[] = {
		"/v1/acc/profiles",
		"/v1/acc/profiles/",
		"/v1/acc/profiles/p/extra",
		"/v1/acc/profiles/p/",
		"/v2/acc/profiles/p",
		"/v1/profiles",
		"/v1//profiles/p",
		"/v1/acc/profile/p",
		"/V1/acc/profiles/p",
		"/v1/acc/accounts/p",
		"/",
		"",
		"*",
		"v1/acc/profiles/p",
		"https://host",
		"https://host?x=/v1/profiles/p",
		"/v1/a/b/profiles/p",
	};
	struct target	t;
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t = parse(bad[i]);
		ck_assert_msg(t.rc == -1, "accepted %s", bad[i]);
		ck_assert_ptr_null(t.account);
		ck_assert_ptr_null(t.profile);
		ck_assert_ptr_null(t.fields);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("api");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, long_form_gives_account_and_profile);
	tcase_add_test(tc, short_form_has_no_account);
	tcase_add_test(tc, seed_get_fields_are_read_whole);
	tcase_add_test(tc, fields_are_percent_decoded);
	tcase_add_test(tc, repeated_fields_are_joined_with_commas);
	tcase_add_test(tc, empty_fields_is_present_but_empty);
	tcase_add_test(tc, bad_escapes_and_nul_stay_literal);
	tcase_add_test(tc, plus_is_a_space_in_the_query_only);
	tcase_add_test(tc, absolute_form_is_recognised);
	tcase_add_test(tc, non_profile_targets_are_rejected);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
