/* Unit tests for rules: the built-in data, parsing, learning, lookups. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "rules.h"
#include "unit.h"

/* Where the source tree is (make check sets it; else the current dir). */
static const char *
srcdir(void)
{
	const char	*d = getenv("PATCHSCOPE_SRCDIR");

	return d != NULL ? d : ".";
}

/* rules_each into "a,b,c". */
static void
join_cb(const char *value, void *arg)
{
	struct buf	*b = arg;

	if (b->len > 0)
		buf_add(b, ",", 1);
	buf_adds(b, value);
}

static char *
each(const struct rules *r, const char *kind, const char *type)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*s;

	rules_each(r, kind, type, join_cb, &b);
	s = strdup(buf_str(&b));
	buf_free(&b);
	return s;
}

static json_t *
load(const char *text)
{
	json_error_t	 err;
	json_t		*j = json_loads(text, 0, &err);

	ck_assert_msg(j != NULL, "bad test JSON: %s", err.text);
	return j;
}

START_TEST(builtin_knows_the_seed_values)
{
	struct rules	*r = rules_builtin();

	ck_assert_int_eq(rules_type(r, "WEBHOOK"), RULES_BUILTIN);
	ck_assert_int_eq(rules_type(r, "EMAIL"), RULES_BUILTIN);
	ck_assert_int_eq(rules_type(r, "SMS"), RULES_BUILTIN);
	ck_assert_int_eq(rules_type(r, "webhook"), RULES_UNKNOWN);
	ck_assert_int_eq(rules_anchor(r, "BOOKING_CREATED"), RULES_BUILTIN);
	ck_assert_int_eq(rules_anchor(r, "BOOKING_CANCELLED"), RULES_BUILTIN);
	ck_assert_int_eq(rules_anchor(r, "BOOKING_CANCELED"), RULES_UNKNOWN);
	ck_assert_int_eq(rules_placeholder(r, "START-LOCAL-DATE"),
	    RULES_BUILTIN);
	ck_assert_int_eq(rules_placeholder(r, "CANCEL-LINK"), RULES_BUILTIN);
	ck_assert_int_eq(rules_placeholder(r, "{ID}"), RULES_UNKNOWN);
	ck_assert_int_eq(rules_method(r, "POST"), RULES_BUILTIN);
	ck_assert_int_eq(rules_method(r, "post"), RULES_UNKNOWN);
	ck_assert_int_eq(rules_anchor(r, NULL), RULES_UNKNOWN);
	rules_free(r);
}
END_TEST

START_TEST(builtin_required_fields_per_type)
{
	struct rules		*r = rules_builtin();
	const char *const	*req;
	struct buf		 b = { NULL, 0, 0 };
	size_t			 i;

	req = rules_required(r, "WEBHOOK");
	ck_assert_ptr_nonnull(req);
	for (i = 0; req[i] != NULL; i++)
		join_cb(req[i], &b);
	ck_assert_str_eq(buf_str(&b), "type,anchor,to,subject,body");
	buf_reset(&b);
	req = rules_required(r, "SMS");
	for (i = 0; req[i] != NULL; i++)
		join_cb(req[i], &b);
	ck_assert_str_eq(buf_str(&b), "type,anchor,to,body");
	ck_assert_ptr_null(rules_required(r, "CHAT"));
	ck_assert_ptr_null(rules_required(r, NULL));
	buf_free(&b);
	rules_free(r);
}
END_TEST

START_TEST(builtin_field_types_and_fields_per_type)
{
	struct rules	*r = rules_builtin();

	ck_assert_str_eq(rules_field_type(r, "offsetMinutes"), "integer");
	ck_assert_str_eq(rules_field_type(r, "body"), "string");
	ck_assert_str_eq(rules_field_type(r, "attachIcs"), "boolean");
	ck_assert_str_eq(rules_field_type(r, "headers"), "object");
	ck_assert_ptr_null(rules_field_type(r, "offsetMinute"));
	ck_assert_int_eq(rules_field(r, "WEBHOOK", "headers"), RULES_BUILTIN);
	ck_assert_int_eq(rules_field(r, "EMAIL", "headers"), RULES_UNKNOWN);
	ck_assert_int_eq(rules_field(r, "SMS", "subject"), RULES_UNKNOWN);
	/* No type, or an unknown one: does any type allow it? */
	ck_assert_int_eq(rules_field(r, NULL, "headers"), RULES_BUILTIN);
	ck_assert_int_eq(rules_field(r, "CHAT", "subject"), RULES_BUILTIN);
	ck_assert_int_eq(rules_field(r, NULL, "offsetMinute"), RULES_UNKNOWN);
	rules_free(r);
}
END_TEST

START_TEST(builtin_matches_the_data_file)
{
	struct rules	*a = rules_builtin(), *b;
	char		*path, *cause = NULL, *x, *y;
	static const char *const kinds[] = {
		"type", "anchor", "placeholder", "method", "field"
	};
	size_t		 i;

	if (asprintf(&path, "%s/data/rules.json", srcdir()) < 0)
		ck_abort();
	b = rules_load(path, &cause);
	ck_assert_msg(b != NULL, "%s", cause);
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		x = each(a, kinds[i], NULL);
		y = each(b, kinds[i], NULL);
		ck_assert_str_eq(x, y);
		free(x);
		free(y);
	}
	free(path);
	rules_free(a);
	rules_free(b);
}
END_TEST

START_TEST(each_lists_builtin_in_file_order_then_learned)
{
	struct rules	*r = rules_builtin();
	json_t		*get;
	char		*s;

	s = each(r, "anchor", NULL);
	ck_assert_str_eq(s, "BOOKING_CREATED,BOOKING_CANCELLED,"
	    "BOOKING_RESCHEDULED,BEFORE_BOOKING,AFTER_BOOKING,NO_SHOW");
	free(s);
	get = load("{\"actions\": [{\"type\": \"WEBHOOK\", \"anchor\": "
	    "\"BOOKING_PAID\"}]}");
	rules_learn(r, get);
	s = each(r, "anchor", NULL);
	ck_assert_str_eq(s, "BOOKING_CREATED,BOOKING_CANCELLED,"
	    "BOOKING_RESCHEDULED,BEFORE_BOOKING,AFTER_BOOKING,NO_SHOW,"
	    "BOOKING_PAID");
	free(s);
	s = each(r, "field", "SMS");
	ck_assert_str_eq(s, "id,type,status,anchor,offsetMinutes,title,to,"
	    "body");
	free(s);
	json_decref(get);
	rules_free(r);
}
END_TEST

START_TEST(learning_adds_what_a_get_shows)
{
	struct rules	*r = rules_builtin(), *fresh = rules_builtin();
	json_t		*get;

	get = load("{\"id\": \"p1\", \"actions\": [{\"id\": \"a1\", \"type\": "
	    "\"WEBHOOK\", \"anchor\": \"BOOKING_PAID\", \"subject\": \"HEAD\", "
	    "\"location\": \"x\", "
	    "\"body\": \"{\\\"l\\\": \\\"{MEETING-LINK}\\\", "
	    "\\\"id\\\": \\\"{ID}\\\"}\"}, {\"type\": \"CHAT\", \"anchor\": "
	    "\"BOOKING_CREATED\", \"channel\": \"#x\"}, 7, null]}");
	rules_learn(r, get);
	ck_assert_int_eq(rules_anchor(r, "BOOKING_PAID"), RULES_LEARNED);
	ck_assert_int_eq(rules_anchor(r, "BOOKING_CREATED"), RULES_BUILTIN);
	ck_assert_int_eq(rules_method(r, "HEAD"), RULES_LEARNED);
	ck_assert_int_eq(rules_field(r, "WEBHOOK", "location"), RULES_LEARNED);
	ck_assert_int_eq(rules_field(r, "EMAIL", "location"), RULES_UNKNOWN);
	ck_assert_int_eq(rules_type(r, "CHAT"), RULES_LEARNED);
	ck_assert_int_eq(rules_field(r, "CHAT", "channel"), RULES_LEARNED);
	ck_assert_int_eq(rules_field(r, "CHAT", "location"), RULES_UNKNOWN);
	ck_assert_int_eq(rules_placeholder(r, "MEETING-LINK"), RULES_LEARNED);
	ck_assert_int_eq(rules_placeholder(r, "ID"), RULES_BUILTIN);
	/* A learned type requires nothing. */
	ck_assert_ptr_nonnull(rules_required(r, "CHAT"));
	ck_assert_ptr_null(rules_required(r, "CHAT")[0]);
	/* Copies of the built-in rules do not share what was learned. */
	ck_assert_int_eq(rules_anchor(fresh, "BOOKING_PAID"), RULES_UNKNOWN);
	json_decref(get);
	rules_free(r);
	rules_free(fresh);
}
END_TEST

START_TEST(learning_ignores_what_is_not_a_profile)
{
	struct rules	*r = rules_builtin();
	json_t		*j;

	j = load("{\"actions\": {\"type\": \"CHAT\"}}");
	rules_learn(r, j);
	json_decref(j);
	j = load("[{\"actions\": [{\"type\": \"CHAT\"}]}]");
	rules_learn(r, j);
	json_decref(j);
	rules_learn(r, NULL);
	ck_assert_int_eq(rules_type(r, "CHAT"), RULES_UNKNOWN);
	rules_free(r);
}
END_TEST

START_TEST(learning_is_bounded)
{
	struct rules	*r = rules_builtin();
	json_t		*get, *actions, *a;
	char		 name[64], *s, *p;
	size_t		 i, n;
	char		 longv[RULES_MAX_VALUE + 2];

	get = json_object();
	actions = json_array();
	memset(longv, 'A', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	a = json_pack("{s:s}", "anchor", longv);
	json_array_append_new(actions, a);
	for (i = 0; i < 3 * RULES_MAX_LEARNED; i++) {
		snprintf(name, sizeof name, "ANCHOR_%zu", i);
		json_array_append_new(actions, json_pack("{s:s}", "anchor",
		    name));
	}
	json_object_set_new(get, "actions", actions);
	rules_learn(r, get);
	ck_assert_int_eq(rules_anchor(r, longv), RULES_UNKNOWN);
	ck_assert_int_eq(rules_anchor(r, "ANCHOR_0"), RULES_LEARNED);
	snprintf(name, sizeof name, "ANCHOR_%d", 3 * RULES_MAX_LEARNED - 1);
	ck_assert_int_eq(rules_anchor(r, name), RULES_UNKNOWN);
	s = each(r, "anchor", NULL);
	for (n = 0, p = s; *p != '\0'; p++)
		n += *p == ',';
	/* The built-in six plus learned ones (one key "anchor" learned as a
	 * field counts against the same budget). */
	ck_assert_uint_le(n + 1, 6 + RULES_MAX_LEARNED);
	ck_assert_uint_ge(n + 1, RULES_MAX_LEARNED);
	free(s);
	json_decref(get);
	rules_free(r);
}
END_TEST

START_TEST(parse_accepts_plain_arrays_and_comments)
{
	static const char text[] = "{\"_comment\": \"x\", \"types\": {"
	    "\"_comment\": \"y\", \"CHAT\": {\"fields\": [\"type\", "
	    "\"anchor\", "
	    "\"channel\"], \"required\": [\"type\"]}}, \"anchors\": "
	    "[\"ON_CALL\"], \"fieldTypes\": {\"_c\": 1, \"channel\": "
	    "\"string\"}}";
	struct rules	*r;
	char		*cause = NULL;

	r = rules_parse(text, strlen(text), &cause);
	ck_assert_msg(r != NULL, "%s", cause);
	ck_assert_int_eq(rules_type(r, "CHAT"), RULES_BUILTIN);
	ck_assert_int_eq(rules_type(r, "_comment"), RULES_UNKNOWN);
	ck_assert_int_eq(rules_anchor(r, "ON_CALL"), RULES_BUILTIN);
	ck_assert_str_eq(rules_field_type(r, "channel"), "string");
	ck_assert_str_eq(rules_required(r, "CHAT")[0], "type");
	ck_assert_int_eq(rules_method(r, "POST"), RULES_UNKNOWN);
	rules_free(r);
}
END_TEST

START_TEST(parse_rejects_bad_rules_with_a_cause)
{
	static const struct {
		const char	*text;
		const char	*cause;
	} bad[] = {
		{ "{", "rules: line 1" },
		{ "[]", "must be a JSON object" },
		{ "{\"anchors\": []}", "\"types\" is missing" },
		{ "{\"types\": {\"A\": {\"fields\": []}}}",
		  "\"anchors\" is missing" },
		{ "{\"types\": {}, \"anchors\": []}", "non-empty object" },
		{ "{\"types\": {\"A\": {\"fields\": []}}, \"anchors\": [], "
		  "\"anchor\": []}", "unknown key \"anchor\"" },
		{ "{\"types\": {\"A\": {\"fields\": [\"x\"], \"required\": "
		  "[\"y\"]}}, \"anchors\": []}",
		  "type \"A\": required field \"y\" is not in \"fields\"" },
		{ "{\"types\": {\"A\": {\"fields\": [1]}}, \"anchors\": []}",
		  "\"fields\" item 0" },
		{ "{\"types\": {\"A\": {}}, \"anchors\": []}",
		  "\"fields\" must be an array" },
		{ "{\"types\": {\"A\": {\"fields\": [], \"required\": 3}}, "
		  "\"anchors\": []}", "\"required\" must be an array" },
		{ "{\"types\": {\"A\": 1}, \"anchors\": []}",
		  "type \"A\" must be an object" },
		{ "{\"types\": {\"A\": {\"fields\": []}}, \"anchors\": [\"\"]}",
		  "\"anchors\" item 0 must be a non-empty string" },
		{ "{\"types\": {\"A\": {\"fields\": []}}, \"anchors\": {}}",
		  "\"anchors\" must be an array" },
		{ "{\"types\": {\"A\": {\"fields\": []}}, \"anchors\": [], "
		  "\"fieldTypes\": {\"x\": \"float\"}}",
		  "field \"x\": type must be one of" },
		{ "{\"types\": {\"A\": {\"fields\": []}}, \"anchors\": [], "
		  "\"anchors\": []}", "duplicate" },
	};
	struct rules	*r;
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		r = rules_parse(bad[i].text, strlen(bad[i].text), &cause);
		ck_assert_msg(r == NULL, "accepted %s", bad[i].text);
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strstr(cause, bad[i].cause) != NULL,
		    "%s: cause \"%s\" lacks \"%s\"", bad[i].text, cause,
		    bad[i].cause);
		free(cause);
	}
}
END_TEST

START_TEST(load_names_the_file_in_its_errors)
{
	char	 path[] = "/tmp/check_rules_XXXXXX";
	char	*cause = NULL;
	int	 fd;

	ck_assert_ptr_null(rules_load("/nonexistent/rules.json", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/rules.json"));
	free(cause);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\n  \"types\": 1,\n", 16), 16);
	close(fd);
	cause = NULL;
	ck_assert_ptr_null(rules_load(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, path));
	ck_assert_ptr_nonnull(strstr(cause, "line 3"));
	free(cause);
	unlink(path);
}
END_TEST

START_TEST(placeholder_grammar)
{
	static const struct {
		const char	*s;
		size_t		 len;
	} cases[] = {
		{ "{ID}", 4 }, { "{START-LOCAL-DATE}x", 18 },
		{ "{a_b-1}", 7 }, { "{}", 0 }, { "{ \"a\": 1}", 0 },
		{ "{\"id\"}", 0 }, { "{1A}", 0 }, { "{ID", 0 }, { "ID}", 0 },
		{ "{I D}", 0 },
	};
	char	 longest[80];
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(rules_placeholder_len(cases[i].s,
		    strlen(cases[i].s)) == cases[i].len, "%s", cases[i].s);
	/* A name of 64 characters is the longest. */
	memset(longest, 'A', sizeof longest);
	longest[0] = '{';
	longest[65] = '}';
	ck_assert_uint_eq(rules_placeholder_len(longest, 66), 66);
	longest[65] = 'A';
	longest[66] = '}';
	ck_assert_uint_eq(rules_placeholder_len(longest, 67), 0);
	/* The length given bounds the scan. */
	ck_assert_uint_eq(rules_placeholder_len("{ID}", 3), 0);
}
END_TEST

static void
collect_cb(const char *name, size_t namelen, size_t off, void *arg)
{
	struct buf	*b = arg;

	buf_printf(b, "%s%.*s@%zu", b->len > 0 ? "," : "", (int)namelen, name,
	    off);
}

START_TEST(placeholders_found_in_a_template)
{
	static const char body[] = "{ \"startsAt\": \"{START-LOCAL-DATE}\",\n"
	    "\"id\" : {ID}, \"x\": \"{{REF}}\"}";
	struct buf	b = { NULL, 0, 0 };

	rules_placeholders(body, strlen(body), collect_cb, &b);
	ck_assert_str_eq(buf_str(&b), "START-LOCAL-DATE@15,ID@43,REF@56");
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("rules");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, builtin_knows_the_seed_values);
	tcase_add_test(tc, builtin_required_fields_per_type);
	tcase_add_test(tc, builtin_field_types_and_fields_per_type);
	tcase_add_test(tc, builtin_matches_the_data_file);
	tcase_add_test(tc, each_lists_builtin_in_file_order_then_learned);
	tcase_add_test(tc, learning_adds_what_a_get_shows);
	tcase_add_test(tc, learning_ignores_what_is_not_a_profile);
	tcase_add_test(tc, learning_is_bounded);
	tcase_add_test(tc, parse_accepts_plain_arrays_and_comments);
	tcase_add_test(tc, parse_rejects_bad_rules_with_a_cause);
	tcase_add_test(tc, load_names_the_file_in_its_errors);
	tcase_add_test(tc, placeholder_grammar);
	tcase_add_test(tc, placeholders_found_in_a_template);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
