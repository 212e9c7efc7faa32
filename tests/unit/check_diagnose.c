/*
 * Unit tests for diagnose: one or more per code, near misses that must not
 * fire, the seed thread's exact story, hostile bodies, and the data cases
 * in tests/data/diagnose/.
 *
 * Payloads are written with ' for " and ` for \" (a quote inside a JSON
 * string, as in a webhook body), so that they stay readable: tpl() turns
 * them into JSON.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "diagnose.h"
#include "rules.h"
#include "snapshot.h"
#include "unit.h"

/* The seed thread's GET: its fields, and the profile it returned. */
static const char SEED_GET_FIELDS[] = "id,actions,actions.id,actions.type,"
    "actions.anchor,actions.to,actions.body,headers,headers.x-auth-token";
static const char SEED_PATCH_FIELDS[] = "actions,actions.type,"
    "actions.anchor,actions.to,actions.body,actions.headers,"
    "actions.headers.x-auth-token";
static const char SEED_GET[] = "{'id': 'p1', 'actions': ["
    "{'id': 'act_1', 'type': 'WEBHOOK', 'anchor': 'BOOKING_CREATED', "
    "'to': 'https://crm.example.com/hooks/booking', "
    "'body': '{`id`: `{ID}`, `start`: `{START-ISO}`, `email`: `{EMAIL}`}'},"
    "{'id': 'act_2', 'type': 'EMAIL', 'anchor': 'BOOKING_CREATED', "
    "'to': '{EMAIL}', 'body': 'Hi {FNAME}, see you tomorrow. {CANCEL-LINK}'},"
    "{'id': 'act_3', 'type': 'WEBHOOK', 'anchor': 'BOOKING_CANCELLED', "
    "'to': 'https://crm.example.com/hooks/cancel', "
    "'body': '{`id`: `{ID}`, `ref`: `{REF}`}'}]}";

/* The webhook action the thread's answer showed, headers closed. */
#define SEED_EXAMPLE_ACTION \
    "{'type': 'WEBHOOK', 'status': 'TEMPLATE', 'anchor': 'BOOKING_CREATED', " \
    "'offsetMinutes': 0, 'title': 'Booking created API call', " \
    "'to': 'https://webhookURL.com', 'subject': 'POST', " \
    "'body': '{ `startsAt`: `{START-LOCAL-DATE}`,\\n`id` : `{ID}`,\\n" \
    "`ref`: `{REF}`,\\n`rescheduleLink`: `{RESCHEDULE-LINK}`,\\n" \
    "`cancellationLink` : `{CANCEL-LINK}`,\\n `endsAt`: `{END-LOCAL-TIME}`," \
    "\\n `timeZone`: `{TIMEZONE}`, \\n`firstName`: `{FNAME}`, \\n" \
    "`email`: `{EMAIL}` \\n}', " \
    "'attachIcs': false, " \
    "'headers': {'test': 'test1234', 'another': 'headerhere'}}"

/* The same, hung on the misspelt anchor of the thread. */
#define SEED_CANCELED_ACTION \
    "{'type': 'WEBHOOK', 'status': 'TEMPLATE', 'anchor': 'BOOKING_CANCELED', " \
    "'offsetMinutes': 0, 'title': 'Booking cancelled API call', " \
    "'to': 'https://webhookURL.com', 'subject': 'POST', " \
    "'body': '{`id` : `{ID}`, `ref`: `{REF}`}', 'attachIcs': false, " \
    "'headers': {'test': 'test1234'}}"

/* Where the source tree is (make check sets it; else the current dir). */
static const char *
srcdir(void)
{
	const char	*d = getenv("PATCHSCOPE_SRCDIR");

	return d != NULL ? d : ".";
}

/* ' -> ", ` -> \" */
static char *
tpl(const char *s)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*r;

	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_add(&b, "\"", 1);
		else if (*s == '`')
			buf_add(&b, "\\\"", 2);
		else
			buf_add(&b, s, 1);
	}
	r = strdup(buf_str(&b));
	buf_free(&b);
	return r;
}

/* One diagnose_patch() call with what it needs, and its result. */
struct run {
	struct rules	*rules;
	struct snapshot	*snap;
	struct diag_list l;
	struct buf	 summary;	/* "severity code[ path]\n" each */
};

/* Teach the rules a GET (as the proxy does) and keep it as snapshot. */
static void
run_get(struct run *r, const char *get, const char *get_fields)
{
	json_error_t	 err;
	char		*text = tpl(get);
	json_t		*doc = json_loads(text, 0, &err);

	ck_assert_msg(doc != NULL, "bad test GET: %s", err.text);
	rules_learn(r->rules, doc);
	snapshot_free(r->snap);
	r->snap = snapshot_new(doc, get_fields);
	json_decref(doc);
	free(text);
}

static void
run_summarise(struct run *r)
{
	size_t	i;

	buf_reset(&r->summary);
	for (i = 0; i < r->l.n; i++)
		buf_printf(&r->summary, "%s %s%s%s\n",
		    diag_severity_name(r->l.v[i].severity), r->l.v[i].code,
		    r->l.v[i].path[0] != '\0' ? " " : "", r->l.v[i].path);
}

/* Diagnose raw body bytes. */
static void
run_raw(struct run *r, const char *body, size_t len, const char *fields)
{
	diagnose_patch(body, len, fields, r->snap, r->rules, &r->l);
	run_summarise(r);
}

/* Diagnose a templated body, after an optional GET. */
static void
run(struct run *r, const char *body, const char *fields, const char *get,
    const char *get_fields)
{
	char	*text = tpl(body);

	memset(r, 0, sizeof *r);
	r->rules = rules_builtin();
	if (get != NULL)
		run_get(r, get, get_fields);
	run_raw(r, text, strlen(text), fields);
	free(text);
}

static void
run_free(struct run *r)
{
	diag_list_free(&r->l);
	snapshot_free(r->snap);
	rules_free(r->rules);
	buf_free(&r->summary);
}

static const struct diagnosis *
find(const struct run *r, const char *code, const char *path)
{
	size_t	i;

	for (i = 0; i < r->l.n; i++)
		if (strcmp(r->l.v[i].code, code) == 0 &&
		    strcmp(r->l.v[i].path, path) == 0)
			return &r->l.v[i];
	return NULL;
}

/* Assert that code fired at path, and return it. */
#define expect(r, code, path) expect_at(r, code, path, __LINE__)

static const struct diagnosis *
expect_at(const struct run *r, const char *code, const char *path, int line)
{
	const struct diagnosis	*d = find(r, code, path);

	ck_assert_msg(d != NULL, "line %d: no %s at %s; got:\n%s", line, code,
	    path, buf_str(&r->summary));
	return d;
}

/* Assert the whole list, in order. */
#define expect_only(r, s) \
	ck_assert_msg(strcmp(buf_str(&(r)->summary), s) == 0, \
	    "expected:\n%sgot:\n%s", s, buf_str(&(r)->summary))

#define expect_clean(r)	expect_only(r, "")

static int
contains(const char *s, const char *part)
{
	return strstr(s, part) != NULL;
}

#define expect_in(s, part) \
	ck_assert_msg(contains(s, part), "\"%s\" lacks \"%s\"", s, part)

/*
 * The two complexity guards below (no quadratic blow-up) time themselves
 * against a bound multiplied by unit_time_scale() (sanitizers, Valgrind).
 */
static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* --- the seed story ---------------------------------------------------- */

/*
 * Found by fuzz_diagnose: a type learned from a profile held a newline, and
 * the message quoting it did too. Messages and formatted lines are one line.
 */
START_TEST(messages_stay_on_one_line_whatever_was_learned)
{
	static const char	 body[] = "{\"actions\": [{}, {\"a\\nb\": 1}]}";
	struct run		 r;
	struct buf		 line = { NULL, 0, 0 };
	size_t			 i;

	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_get(&r, "{'actions': [{'type': '\\n\\u001b[31m'}]}", NULL);
	run_raw(&r, body, strlen(body), NULL);
	ck_assert_uint_gt(r.l.n, 0);
	for (i = 0; i < r.l.n; i++) {
		ck_assert_ptr_null(strpbrk(r.l.v[i].message, "\n\r\033"));
		buf_reset(&line);
		diag_format(&r.l.v[i], &line);
		ck_assert_ptr_null(strpbrk(buf_str(&line), "\n\r\033"));
	}
	buf_free(&line);
	run_free(&r);
}
END_TEST

START_TEST(seed_partial_patch_names_lost_ids_and_bad_anchor)
{
	struct run		 r;
	const struct diagnosis	*d;
	struct buf		 line = { NULL, 0, 0 };

	/* The thread: existing actions kept as fetched (act_2), misconfigured
	 * ones removed, new ones appended without an id. */
	run(&r, "{'actions': ["
	    "{'id': 'act_2', 'type': 'EMAIL', 'anchor': 'BOOKING_CREATED', "
	    "'to': '{EMAIL}', 'body': 'Hi {FNAME}, see you tomorrow. "
	    "{CANCEL-LINK}'}, "
	    SEED_EXAMPLE_ACTION ", " SEED_CANCELED_ACTION "]}",
	    SEED_PATCH_FIELDS, SEED_GET, SEED_GET_FIELDS);
	d = expect(&r, "actions.partial", "/actions");
	ck_assert_int_eq(d->severity, DIAG_ERROR);
	expect_in(d->message, "\"act_1\", \"act_3\"");
	ck_assert(!contains(d->message, "act_2"));
	d = expect(&r, "action.anchor.unknown", "/actions/2/anchor");
	ck_assert_int_eq(d->severity, DIAG_ERROR);
	ck_assert_str_eq(d->suggestion, "BOOKING_CANCELLED");
	diag_format(d, &line);
	ck_assert_str_eq(buf_str(&line), "error[action.anchor.unknown] "
	    "/actions/2/anchor: \"BOOKING_CANCELED\" is not a known anchor; "
	    "did you mean \"BOOKING_CANCELLED\"?");
	d = expect(&r, "query.fields.ignored", "query:fields");
	ck_assert_int_eq(d->severity, DIAG_INFO);
	/* The GET's narrow fields also lost act_2's subject and more: that
	 * is true of the thread too, and said once each. */
	expect_only(&r,
	    "error actions.partial /actions\n"
	    "error action.field.missing /actions/0\n"
	    "error actions.fields-projection /actions/0\n"
	    "error action.anchor.unknown /actions/2/anchor\n"
	    "info query.fields.ignored query:fields\n");
	d = expect(&r, "actions.fields-projection", "/actions/0");
	expect_in(d->message, "\"subject\"");
	expect_in(d->message, SEED_GET_FIELDS);
	buf_free(&line);
	run_free(&r);
}
END_TEST

START_TEST(seed_corrected_full_patch_is_clean)
{
	struct run	r;

	run(&r, "{'actions': ["
	    "{'id': 'act_1', 'type': 'WEBHOOK', 'status': 'TEMPLATE', "
	    "'anchor': 'BOOKING_CREATED', 'offsetMinutes': 0, 'title': 'CRM', "
	    "'to': 'https://crm.example.com/hooks/booking', 'subject': 'POST', "
	    "'body': '{`id`: `{ID}`, `start`: `{START-ISO}`, `email`: "
	    "`{EMAIL}`}', 'attachIcs': false, "
	    "'headers': {'x-auth-token': 'secret'}}, "
	    "{'id': 'act_2', 'type': 'EMAIL', 'status': 'TEMPLATE', "
	    "'anchor': 'BOOKING_CREATED', 'offsetMinutes': -1440, "
	    "'title': 'Reminder', 'to': '{EMAIL}', 'subject': 'Tomorrow', "
	    "'body': 'Hi {FNAME}, see you tomorrow. {CANCEL-LINK}', "
	    "'attachIcs': true}, "
	    "{'id': 'act_3', 'type': 'WEBHOOK', 'status': 'TEMPLATE', "
	    "'anchor': 'BOOKING_CANCELLED', 'offsetMinutes': 0, "
	    "'title': 'CRM cancel', "
	    "'to': 'https://crm.example.com/hooks/cancel', "
	    "'subject': 'POST', 'body': '{`id`: `{ID}`, `ref`: `{REF}`}', "
	    "'attachIcs': false}, "
	    SEED_EXAMPLE_ACTION "]}", NULL, SEED_GET, SEED_GET_FIELDS);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

START_TEST(seed_example_webhook_action_is_clean)
{
	struct run	r;

	run(&r, "{'actions': [" SEED_EXAMPLE_ACTION "]}", NULL, NULL, NULL);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

START_TEST(seed_refetched_actions_sent_back_are_clean)
{
	static const char get[] = "{'actions': [{'id': 'act_1', 'type': "
	    "'WEBHOOK', 'status': 'TEMPLATE', 'anchor': 'BOOKING_CREATED', "
	    "'offsetMinutes': 0, 'title': 't', 'to': 'https://h.example/x', "
	    "'subject': 'POST', 'body': '{`id`: `{ID}`}', 'attachIcs': false, "
	    "'headers': {'x-auth-token': 'k'}}]}";
	struct run	r;

	/* The thread's second GET, then the same actions back. */
	run(&r, get, NULL, get, "actions,actions.*,actions.headers,"
	    "actions.headers.*");
	expect_clean(&r);
	run_free(&r);
}
END_TEST

/* --- json.syntax ------------------------------------------------------- */

START_TEST(syntax_error_gives_line_and_column)
{
	static const char body[] = "{\n  \"actions\": [\n    {\"type\": "
	    "\"WEBHOOK\",}\n  ]\n}";
	struct run		 r;
	const struct diagnosis	*d;
	struct buf		 line = { NULL, 0, 0 };

	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_raw(&r, body, strlen(body), NULL);
	expect_only(&r, "error json.syntax\n");
	d = &r.l.v[0];
	expect_in(d->message, "line 3, column 24");
	diag_format(d, &line);
	/* The whole body: no path in the line. */
	ck_assert(strncmp(buf_str(&line), "error[json.syntax]: invalid JSON "
	    "at line 3", 36) == 0);
	buf_free(&line);
	run_free(&r);
}
END_TEST

START_TEST(empty_or_blank_body_is_a_syntax_error)
{
	struct run	r;

	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_raw(&r, "", 0, NULL);
	run_raw(&r, " \r\n\t", 4, NULL);
	expect_only(&r, "error json.syntax\nerror json.syntax\n");
	expect_in(r.l.v[0].message, "empty");
	run_free(&r);
}
END_TEST

/* --- body.not-object --------------------------------------------------- */

START_TEST(body_not_an_object_names_what_it_is)
{
	static const struct {
		const char	*body;
		const char	*kind;
	} cases[] = {
		{ "42", "a JSON number" },
		{ "-1.5e3", "a JSON number" },
		{ "null", "JSON null" },
		{ "true", "JSON true" },
		{ " false\n", "JSON false" },
		{ "'hello'", "a JSON string" },
		{ "'{not json'", "a JSON string" },
		{ "[1, 2]", "a JSON array" },
		{ "[{'title': 'a'}, {'title': 'b'}]", "a JSON array" },
	};
	struct run		 r;
	struct buf		 want = { NULL, 0, 0 }, line = { NULL, 0, 0 };
	const struct diagnosis	*d;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		run(&r, cases[i].body, NULL, NULL, NULL);
		expect_only(&r, "error body.not-object\n");
		d = &r.l.v[0];
		ck_assert_int_eq(d->severity, DIAG_ERROR);
		ck_assert_str_eq(d->path, "");
		ck_assert_msg(d->suggestion == NULL, "%s", cases[i].body);
		buf_reset(&want);
		buf_printf(&want, "the body is %s, but the API expects an "
		    "object", cases[i].kind);
		ck_assert_str_eq(d->message, buf_str(&want));
		run_free(&r);
	}
	/* An object in brackets: send the object. */
	run(&r, "[{'actions': []}]", NULL, NULL, NULL);
	expect_only(&r, "error body.not-object\n");
	diag_format(&r.l.v[0], &line);
	ck_assert_str_eq(buf_str(&line), "error[body.not-object]: the body is "
	    "a JSON array, but the API expects an object: send the object "
	    "inside it, without the brackets");
	run_free(&r);
	/* Still a syntax error when it is not JSON at all. */
	run(&r, "[{'type': 'WEBHOOK',}]", NULL, NULL, NULL);
	expect_only(&r, "error json.syntax\n");
	run_free(&r);
	buf_free(&want);
	buf_free(&line);
}
END_TEST

START_TEST(bare_actions_array_is_to_be_wrapped)
{
	struct run		 r;
	struct buf		 line = { NULL, 0, 0 };
	const struct diagnosis	*d;

	/* The thread's action, sent as the actions array alone. */
	run(&r, "[" SEED_EXAMPLE_ACTION "]", NULL, NULL, NULL);
	expect_only(&r, "error body.not-object\n");
	d = &r.l.v[0];
	ck_assert_str_eq(d->suggestion, "{\"actions\": [...]}");
	diag_format(d, &line);
	ck_assert_str_eq(buf_str(&line), "error[body.not-object]: the body is "
	    "a JSON array, but the API expects an object: its items are "
	    "actions, so wrap the array as {\"actions\": [...]}; did you mean "
	    "\"{\\\"actions\\\": [...]}\"?");
	run_free(&r);
	/* With the profile known: still this one diagnosis, nothing about
	 * the actions the profile holds. */
	run(&r, "[{'id': 'act_1'}, {'anchor': 'BOOKING_CANCELED'}, "
	    "{'type': 'SMS'}]", NULL, SEED_GET, SEED_GET_FIELDS);
	expect_only(&r, "error body.not-object\n");
	ck_assert_str_eq(r.l.v[0].suggestion, "{\"actions\": [...]}");
	run_free(&r);
	/* Empty: wrap, and mind what an empty "actions" does. */
	run(&r, " [ ] ", NULL, NULL, NULL);
	expect_only(&r, "error body.not-object\n");
	d = &r.l.v[0];
	ck_assert_str_eq(d->suggestion, "{\"actions\": [...]}");
	expect_in(d->message, "the body is an empty JSON array, but the API "
	    "expects an object");
	expect_in(d->message, "deletes every action");
	run_free(&r);
	/* One item that is no action: no wrapping offered. */
	run(&r, "[" SEED_EXAMPLE_ACTION ", 1]", NULL, NULL, NULL);
	expect_only(&r, "error body.not-object\n");
	ck_assert_ptr_null(r.l.v[0].suggestion);
	run_free(&r);
	run(&r, "[" SEED_EXAMPLE_ACTION ", {'title': 'x'}]", NULL, NULL,
	    NULL);
	ck_assert_ptr_null(r.l.v[0].suggestion);
	run_free(&r);
	buf_free(&line);
}
END_TEST

START_TEST(json_patch_and_twice_encoded_bodies_are_named)
{
	struct run	r;
	char		*inner, *outer;
	json_t		*s;

	run(&r, "[{'op': 'replace', 'path': '/actions/0/anchor', "
	    "'value': 'BOOKING_CANCELLED'}]", NULL, NULL, NULL);
	expect_only(&r, "error body.not-object\n");
	expect_in(r.l.v[0].message, "JSON Patch (RFC 6902)");
	ck_assert_ptr_null(r.l.v[0].suggestion);
	run_free(&r);
	/* json.dumps() of the JSON text: a string holding the object. */
	inner = tpl("{'actions': [" SEED_EXAMPLE_ACTION "]}");
	s = json_string(inner);
	outer = json_dumps(s, JSON_ENCODE_ANY);
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_raw(&r, outer, strlen(outer), NULL);
	expect_only(&r, "error body.not-object\n");
	expect_in(r.l.v[0].message, "the body is a JSON string, but the API "
	    "expects an object: the string holds JSON text, so the body was "
	    "encoded twice");
	run_free(&r);
	/* Nested too deep inside the string: only named a string. */
	free(outer);
	json_decref(s);
	inner = realloc(inner, 200);
	memset(inner, '[', 199);
	inner[199] = '\0';
	s = json_string(inner);
	outer = json_dumps(s, JSON_ENCODE_ANY);
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_raw(&r, outer, strlen(outer), NULL);
	expect_only(&r, "error body.not-object\n");
	ck_assert_str_eq(r.l.v[0].message, "the body is a JSON string, but "
	    "the API expects an object");
	run_free(&r);
	free(outer);
	free(inner);
	json_decref(s);
}
END_TEST

START_TEST(syntax_hints_for_trailing_comma_quotes_and_bom)
{
	static const char bom[] = "\xef\xbb\xbf{\"actions\": []}";
	static const char single[] = "{'actions': []}";
	struct run	r;

	run(&r, "{'actions': [{'type': 'WEBHOOK', 'anchor': 'NO_SHOW',\n  }]}",
	    NULL, NULL, NULL);
	expect_only(&r, "error json.syntax\n");
	expect_in(r.l.v[0].message, "invalid JSON at line 2, column 3: ");
	expect_in(r.l.v[0].message, "; a comma before '}' has nothing after "
	    "it: JSON allows no trailing comma");
	run_free(&r);
	run(&r, "{'actions': [1, 2, ]}", NULL, NULL, NULL);
	expect_in(r.l.v[0].message, "; a comma before ']' has nothing after "
	    "it: JSON allows no trailing comma");
	run_free(&r);
	/* Copied from the thread, as a forum shows it. */
	run(&r, "{\xe2\x80\x9c" "actions\xe2\x80\x9d: []}", NULL, NULL, NULL);
	expect_only(&r, "error json.syntax\n");
	expect_in(r.l.v[0].message, "; JSON takes straight double quotes "
	    "(\"), not typographic ones");
	run_free(&r);
	/* No comma before the bracket: no such hint. */
	run(&r, "{'actions' ]}", NULL, NULL, NULL);
	expect_only(&r, "error json.syntax\n");
	ck_assert(!contains(r.l.v[0].message, "comma"));
	run_free(&r);
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_raw(&r, single, strlen(single), NULL);
	expect_only(&r, "error json.syntax\n");
	expect_in(r.l.v[0].message, "JSON strings take double quotes");
	diag_list_free(&r.l);
	run_raw(&r, bom, strlen(bom), NULL);
	expect_only(&r, "error json.syntax\n");
	expect_in(r.l.v[0].message, "byte order mark (the bytes EF BB BF");
	ck_assert_ptr_null(strstr(r.l.v[0].message, "\xef\xbb\xbf"));
	diag_list_free(&r.l);
	/* Only at the start: inside a string it is a character. */
	run_raw(&r, "{\"title\": \"\xef\xbb\xbf\"}", 16, NULL);
	expect_clean(&r);
	/* A NUL is no whitespace: not "empty". */
	run_raw(&r, "\0\0", 2, NULL);
	expect_only(&r, "error json.syntax\n");
	ck_assert(!contains(r.l.v[0].message, "empty"));
	run_free(&r);
}
END_TEST

START_TEST(trailing_garbage_and_bad_bytes_are_syntax_errors)
{
	static const char bad_utf8[] = "{\"title\": \"\xff\xfe\"}";
	struct run	r;
	json_t		*j;

	run(&r, "{'actions': []} x", NULL, NULL, NULL);
	expect_only(&r, "error json.syntax\n");
	run_free(&r);
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_raw(&r, bad_utf8, sizeof bad_utf8 - 1, NULL);
	run_raw(&r, "{\"a\": 1}\0{", 10, NULL);
	expect_only(&r, "error json.syntax\nerror json.syntax\n");
	/* Messages stay valid UTF-8, so they make JSON. */
	j = diag_to_json(&r.l.v[0]);
	ck_assert_ptr_nonnull(json_object_get(j, "message"));
	json_decref(j);
	run_free(&r);
}
END_TEST

START_TEST(deep_nesting_is_refused_without_recursing)
{
	struct run	 r;
	size_t		 n = 100000, i;
	char		*body;

	body = malloc(2 * n + 16);
	memset(body, '[', n);
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_raw(&r, body, n, NULL);
	/* Objects too, closed properly: still too deep. */
	for (i = 0; i < n; i++)
		body[i] = i % 2 == 0 ? '[' : '{';
	run_raw(&r, body, n, NULL);
	expect_only(&r, "error json.syntax\nerror json.syntax\n");
	expect_in(r.l.v[0].message, "nested more than 64 deep");
	expect_in(r.l.v[0].message, "line 1, column 65");
	free(body);
	run_free(&r);
}
END_TEST

START_TEST(nesting_at_limit_and_brackets_in_strings_pass)
{
	struct buf	b = { NULL, 0, 0 };
	struct run	r;
	int		i;

	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	/* 64 levels: the body object and 63 arrays. */
	buf_adds(&b, "{\"x\": ");
	for (i = 0; i < 63; i++)
		buf_adds(&b, "[");
	for (i = 0; i < 63; i++)
		buf_adds(&b, "]");
	buf_adds(&b, ", \"y\": \"");
	for (i = 0; i < 1000; i++)
		buf_adds(&b, "[{\\\"");
	buf_adds(&b, "\"}");
	run_raw(&r, b.data, b.len, NULL);
	expect_clean(&r);
	buf_free(&b);
	run_free(&r);
}
END_TEST

/* --- actions.partial --------------------------------------------------- */

START_TEST(partial_names_every_missing_id)
{
	struct buf	 get = { NULL, 0, 0 };
	struct run	 r;
	const struct diagnosis *d;
	char		 id[32];
	int		 i;

	buf_adds(&get, "{'actions': [");
	for (i = 0; i < 40; i++)
		buf_printf(&get, "%s{'id': 'a%d', 'type': 'SMS', 'anchor': "
		    "'NO_SHOW', 'to': '{EMAIL}', 'body': 'x'}", i ? ", " : "",
		    i);
	buf_adds(&get, "]}");
	run(&r, "{'actions': [{'id': 'a7', 'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'to': '{EMAIL}', 'body': 'x'}]}", NULL, buf_str(&get),
	    "actions.*");
	expect_only(&r, "error actions.partial /actions\n");
	d = &r.l.v[0];
	expect_in(d->message, "delete 39 of the profile's 40 actions");
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "\"a%d\"", i);
		if (i == 7)
			ck_assert(!contains(d->message, id));
		else
			expect_in(d->message, id);
	}
	buf_free(&get);
	run_free(&r);
}
END_TEST

START_TEST(partial_is_never_claimed_without_a_snapshot)
{
	struct run	r;

	run(&r, "{'actions': []}", NULL, NULL, NULL);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

START_TEST(partial_not_claimed_when_actions_are_left_alone)
{
	struct run	r;

	run(&r, "{'title': 'New title'}", NULL, SEED_GET, "actions.*");
	expect_clean(&r);
	run_free(&r);
}
END_TEST

START_TEST(empty_actions_array_deletes_them_all)
{
	struct run	r;

	run(&r, "{'actions': []}", NULL, SEED_GET, "actions.*");
	expect_only(&r, "error actions.partial /actions\n");
	expect_in(r.l.v[0].message, "delete 3 of the profile's 3 actions "
	    "(\"act_1\", \"act_2\", \"act_3\")");
	run_free(&r);
}
END_TEST

START_TEST(every_action_kept_plus_a_new_one_is_clean)
{
	struct run	r;

	run(&r, "{'actions': [{'id': 'a1', 'type': 'SMS', 'anchor': "
	    "'NO_SHOW', 'to': '{EMAIL}', 'body': 'x'}, {'type': 'SMS', "
	    "'anchor': 'BOOKING_CREATED', 'to': '{EMAIL}', 'body': 'y'}]}",
	    NULL, "{'actions': [{'id': 'a1', 'type': 'SMS', 'anchor': "
	    "'NO_SHOW', 'to': '{EMAIL}', 'body': 'x'}]}", "actions.*");
	expect_clean(&r);
	run_free(&r);
}
END_TEST

/* --- action.anchor.unknown --------------------------------------------- */

START_TEST(anchor_suggested_by_distance_case_and_fragment)
{
	static const struct {
		const char	*written;
		const char	*suggested;
	} cases[] = {
		{ "BOOKING_CANCELED", "BOOKING_CANCELLED" },
		{ "CANCELED", "BOOKING_CANCELLED" },
		{ "CANCELLED", "BOOKING_CANCELLED" },
		{ "canceled", "BOOKING_CANCELLED" },
		{ "booking_cancelled", "BOOKING_CANCELLED" },
		{ "CREATED", "BOOKING_CREATED" },
		{ "BOOKING_CRAETED", "BOOKING_CREATED" },
		{ "RESCHEDULED", "BOOKING_RESCHEDULED" },
		{ "NOSHOW", "NO_SHOW" },
		{ "CANCEL", "BOOKING_CANCELLED" },
	};
	struct run	r;
	char		body[256];
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(body, sizeof body, "{'actions': [{'type': 'SMS', "
		    "'anchor': '%s', 'to': 'x', 'body': 'y'}]}",
		    cases[i].written);
		run(&r, body, NULL, NULL, NULL);
		expect_only(&r, "error action.anchor.unknown "
		    "/actions/0/anchor\n");
		ck_assert_msg(r.l.v[0].suggestion != NULL &&
		    strcmp(r.l.v[0].suggestion, cases[i].suggested) == 0,
		    "%s: suggested %s", cases[i].written,
		    r.l.v[0].suggestion ? r.l.v[0].suggestion : "nothing");
		run_free(&r);
	}
}
END_TEST

START_TEST(anchor_far_from_any_says_it_is_only_unlisted)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'SMS', 'anchor': 'PAYMENT_RECEIVED', "
	    "'to': 'x', 'body': 'y'}]}", NULL, NULL, NULL);
	expect_only(&r, "error action.anchor.unknown /actions/0/anchor\n");
	ck_assert_ptr_null(r.l.v[0].suggestion);
	expect_in(r.l.v[0].message, "\"PAYMENT_RECEIVED\" is not a known "
	    "anchor");
	expect_in(r.l.v[0].message, "neither in the built-in list nor seen "
	    "in a GET response");
	run_free(&r);
}
END_TEST

START_TEST(anchor_learned_from_a_get_is_accepted)
{
	struct run	 r;
	char		*body;

	/* A GET of another profile taught the rules. */
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_get(&r, "{'actions': [{'type': 'WEBHOOK', 'anchor': "
	    "'PAYMENT_RECEIVED'}]}", "actions.*");
	snapshot_free(r.snap);
	r.snap = NULL;
	body = tpl("{'actions': [{'type': 'SMS', 'anchor': "
	    "'PAYMENT_RECEIVED', 'to': 'x', 'body': 'y'}]}");
	run_raw(&r, body, strlen(body), NULL);
	free(body);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

START_TEST(anchor_in_snapshot_accepted_without_learning)
{
	struct rules	*rules = rules_builtin();
	struct snapshot	*snap;
	struct diag_list l = { NULL, 0, 0 };
	json_t		*get;
	char		*body;

	get = json_pack("{s:[{s:s,s:s,s:s,s:s,s:s}]}", "actions", "id", "a",
	    "type", "SMS", "anchor", "PAYMENT_RECEIVED", "to", "x", "body",
	    "y");
	snap = snapshot_new(get, "actions.*");
	body = json_dumps(get, 0);
	diagnose_patch(body, strlen(body), NULL, snap, rules, &l);
	ck_assert_uint_eq(l.n, 0);
	free(body);
	json_decref(get);
	snapshot_free(snap);
	rules_free(rules);
}
END_TEST

START_TEST(guessed_anchors_are_accepted)
{
	static const char *const anchors[] = {
		"BOOKING_RESCHEDULED", "BEFORE_BOOKING", "AFTER_BOOKING",
		"NO_SHOW",
	};
	struct run	r;
	char		body[256];
	size_t		i;

	for (i = 0; i < sizeof anchors / sizeof anchors[0]; i++) {
		snprintf(body, sizeof body, "{'actions': [{'type': 'SMS', "
		    "'anchor': '%s', 'to': 'x', 'body': 'y'}]}", anchors[i]);
		run(&r, body, NULL, NULL, NULL);
		expect_clean(&r);
		run_free(&r);
	}
}
END_TEST

/* --- action.type.unknown ----------------------------------------------- */

START_TEST(type_unknown_with_and_without_suggestion)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'WEBHOK', 'anchor': 'NO_SHOW'}, "
	    "{'type': 'webhook', 'anchor': 'NO_SHOW'}, "
	    "{'type': 'FAX', 'anchor': 'NO_SHOW'}]}", NULL, NULL, NULL);
	expect_only(&r,
	    "error action.type.unknown /actions/0/type\n"
	    "error action.type.unknown /actions/1/type\n"
	    "error action.type.unknown /actions/2/type\n");
	ck_assert_str_eq(r.l.v[0].suggestion, "WEBHOOK");
	ck_assert_str_eq(r.l.v[1].suggestion, "WEBHOOK");
	ck_assert_ptr_null(r.l.v[2].suggestion);
	expect_in(r.l.v[2].message, "WEBHOOK, EMAIL, SMS");
	run_free(&r);
}
END_TEST

START_TEST(type_learned_from_a_get_is_accepted)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'CHAT', 'anchor': 'NO_SHOW', "
	    "'channel': '#x'}]}", NULL, "{'actions': [{'id': 'c', 'type': "
	    "'CHAT', 'anchor': 'NO_SHOW', 'channel': '#y'}]}", "actions.*");
	/* The fetched action is left out: that, and only that, is found. */
	expect_only(&r, "error actions.partial /actions\n");
	run_free(&r);
}
END_TEST

/* --- action.field.missing ---------------------------------------------- */

START_TEST(missing_required_fields_are_named)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'WEBHOOK', 'anchor': 'NO_SHOW', "
	    "'to': 'https://h.example/'}, {'anchor': 'NO_SHOW'}, "
	    "{'type': 'SMS', 'to': 'x', 'body': 'y'}]}", NULL, NULL, NULL);
	expect_only(&r,
	    "error action.field.missing /actions/0\n"
	    "error action.field.missing /actions/1\n"
	    "error action.field.missing /actions/2\n");
	expect_in(r.l.v[0].message, "type WEBHOOK needs \"subject\" and "
	    "\"body\"");
	expect_in(r.l.v[1].message, "no \"type\"");
	expect_in(r.l.v[2].message, "needs \"anchor\"");
	run_free(&r);
}
END_TEST

START_TEST(sms_without_subject_is_complete)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'to': '{EMAIL}', 'body': 'See you {FNAME}'}]}", NULL, NULL, NULL);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

/* --- action.field.type ------------------------------------------------- */

START_TEST(field_types_are_checked_with_hints)
{
	struct run		 r;
	const struct diagnosis	*d;

	run(&r, "{'actions': [{'type': 'WEBHOOK', 'anchor': 'NO_SHOW', "
	    "'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': {'id': '{ID}'}, 'offsetMinutes': '30', "
	    "'attachIcs': 'false', 'title': 7, 'status': null}, "
	    "{'type': 'SMS', 'anchor': 'NO_SHOW', 'to': 'x', 'body': 'y', "
	    "'offsetMinutes': 1.5}]}", NULL, NULL, NULL);
	expect_only(&r,
	    "error action.field.type /actions/0/attachIcs\n"
	    "error action.field.type /actions/0/body\n"
	    "error action.field.type /actions/0/offsetMinutes\n"
	    "error action.field.type /actions/0/status\n"
	    "error action.field.type /actions/0/title\n"
	    "error action.field.type /actions/1/offsetMinutes\n");
	d = find(&r, "action.field.type", "/actions/0/offsetMinutes");
	expect_in(d->message, "must be an integer, not a string: write 30, "
	    "not \"30\"");
	d = find(&r, "action.field.type", "/actions/0/body");
	expect_in(d->message, "must be a string, not an object");
	ck_assert_str_eq(d->suggestion, "{\"id\":\"{ID}\"}");
	d = find(&r, "action.field.type", "/actions/0/attachIcs");
	expect_in(d->message, "write false, not \"false\"");
	d = find(&r, "action.field.type", "/actions/0/status");
	expect_in(d->message, "not null");
	run_free(&r);
}
END_TEST

/* --- action.field.unknown ---------------------------------------------- */

START_TEST(unknown_field_warns_with_suggestion)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'to': 'x', 'body': 'y', 'offsetMinute': 5, 'colour': 'red', "
	    "'Title': 't'}]}", NULL, NULL, NULL);
	expect_only(&r,
	    "warning action.field.unknown /actions/0/Title\n"
	    "warning action.field.unknown /actions/0/colour\n"
	    "warning action.field.unknown /actions/0/offsetMinute\n");
	ck_assert_str_eq(r.l.v[0].suggestion, "title");
	ck_assert_ptr_null(r.l.v[1].suggestion);
	ck_assert_str_eq(r.l.v[2].suggestion, "offsetMinutes");
	ck_assert(!diag_list_has_errors(&r.l));
	run_free(&r);
}
END_TEST

START_TEST(field_of_another_type_warns)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'EMAIL', 'anchor': 'NO_SHOW', "
	    "'to': 'x', 'subject': 's', 'body': 'y', 'headers': {}}]}", NULL,
	    NULL, NULL);
	expect_only(&r, "warning action.field.unknown /actions/0/headers\n");
	run_free(&r);
}
END_TEST

START_TEST(field_seen_in_the_profile_is_known)
{
	struct run	r;

	run(&r, "{'actions': [{'id': 'a', 'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'to': 'x', 'body': 'y', 'location': 'z'}]}", NULL,
	    "{'actions': [{'id': 'a', 'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'to': 'x', 'body': 'y', 'location': 'w'}]}", "actions.*");
	expect_clean(&r);
	run_free(&r);
}
END_TEST

START_TEST(field_key_is_escaped_in_the_path_and_message)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'to': 'x', 'body': 'y', 'a/b~c': 1}]}", NULL, NULL, NULL);
	expect_only(&r, "warning action.field.unknown /actions/0/a~1b~0c\n");
	run_free(&r);
	/* A control character cannot reach a header or a log line raw. */
	run(&r, "{'actions': [{'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'to': 'x', 'body': 'y', 'a\\r\\nX-Evil: 1': 1}]}", NULL, NULL,
	    NULL);
	expect_only(&r, "warning action.field.unknown "
	    "/actions/0/a%0D%0AX-Evil: 1\n");
	expect_in(r.l.v[0].message, "\"a\\r\\nX-Evil: 1\"");
	run_free(&r);
}
END_TEST

/* --- action.id.unknown, action.id.duplicate ---------------------------- */

START_TEST(id_unknown_only_with_a_snapshot)
{
	static const char body[] = "{'actions': [{'id': 'act_9', 'type': "
	    "'SMS', 'anchor': 'NO_SHOW', 'to': 'x', 'body': 'y'}]}";
	struct run	r;

	run(&r, body, NULL, NULL, NULL);
	expect_clean(&r);
	run_free(&r);
	run(&r, body, NULL, "{'actions': [{'id': 'act_9x', 'type': 'SMS', "
	    "'anchor': 'NO_SHOW', 'to': 'x', 'body': 'y'}]}", "actions.*");
	expect(&r, "action.id.unknown", "/actions/0/id");
	expect_in(find(&r, "action.id.unknown", "/actions/0/id")->message,
	    "\"act_9\"");
	run_free(&r);
	/* A GET whose projection left ids out knows no ids. */
	run(&r, "{'actions': [{'id': 'act_9', 'type': 'SMS', 'anchor': "
	    "'NO_SHOW', 'to': 'x', 'body': 'y'}]}", NULL,
	    "{'actions': [{'type': 'SMS'}]}", "actions.type");
	ck_assert_ptr_null(find(&r, "action.id.unknown", "/actions/0/id"));
	run_free(&r);
}
END_TEST

START_TEST(id_twice_is_a_duplicate)
{
	struct run	r;

	run(&r, "{'actions': [{'id': 'a', 'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'to': 'x', 'body': 'y'}, {'id': 'b', 'type': 'SMS', 'anchor': "
	    "'NO_SHOW', 'to': 'x', 'body': 'y'}, {'id': 'a', 'type': 'SMS', "
	    "'anchor': 'NO_SHOW', 'to': 'x', 'body': 'y'}]}", NULL, NULL, NULL);
	expect_only(&r, "error action.id.duplicate /actions/2/id\n");
	expect_in(r.l.v[0].message, "/actions/0");
	run_free(&r);
}
END_TEST

/* --- webhook checks ---------------------------------------------------- */

#define WEBHOOK(fields) "{'actions': [{'type': 'WEBHOOK', 'anchor': " \
    "'BOOKING_CREATED', " fields "}]}"

START_TEST(webhook_subject_must_be_a_method)
{
	struct run	r;

	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'post', "
	    "'body': '{}'"), NULL, NULL, NULL);
	expect_only(&r, "error action.webhook.method /actions/0/subject\n");
	ck_assert_str_eq(r.l.v[0].suggestion, "POST");
	run_free(&r);
	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'New booking', "
	    "'body': '{}'"), NULL, NULL, NULL);
	expect_only(&r, "error action.webhook.method /actions/0/subject\n");
	ck_assert_ptr_null(r.l.v[0].suggestion);
	expect_in(r.l.v[0].message, "GET, POST, PUT, PATCH, DELETE");
	run_free(&r);
}
END_TEST

START_TEST(email_subject_is_free_text)
{
	struct run	r;

	run(&r, "{'actions': [{'type': 'EMAIL', 'anchor': 'NO_SHOW', "
	    "'to': '{EMAIL}', 'subject': 'post', 'body': 'not { json'}]}",
	    NULL, NULL, NULL);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

START_TEST(webhook_to_must_be_an_absolute_http_url)
{
	static const struct {
		const char	*to;
		const char	*suggestion;
	} bad[] = {
		{ "webhookURL.com", "https://webhookURL.com" },
		{ "ftp://h.example/x", NULL },
		{ "https://", NULL },
		{ "https:///x", NULL },
		{ "https://h.example:port/", NULL },
		{ "https://h.example/a b", NULL },
		{ "/hooks/x", NULL },
		{ "", NULL },
		/* Pasted with a space or a line break: trimmed. */
		{ " https://h.example/x", "https://h.example/x" },
		{ "https://h.example/x\\r\\n", "https://h.example/x" },
		{ "webhookURL.com ", "https://webhookURL.com" },
		{ " /hooks/x ", NULL },
	};
	static const char *const good[] = {
		"https://webhookURL.com", "http://127.0.0.1:9000/hook",
		"HTTPS://h.example", "https://h.example/{ID}?ref={REF}",
		"http://[::1]:8080/x", "https://user@h.example/",
	};
	struct run	r;
	char		body[256];
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(body, sizeof body, WEBHOOK("'to': '%s', 'subject': "
		    "'POST', 'body': '{}'"), bad[i].to);
		run(&r, body, NULL, NULL, NULL);
		expect_only(&r, "error action.webhook.url /actions/0/to\n");
		if (bad[i].suggestion == NULL)
			ck_assert_msg(r.l.v[0].suggestion == NULL, "%s",
			    bad[i].to);
		else
			ck_assert_str_eq(r.l.v[0].suggestion,
			    bad[i].suggestion);
		run_free(&r);
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(body, sizeof body, WEBHOOK("'to': '%s', 'subject': "
		    "'POST', 'body': '{}'"), good[i]);
		run(&r, body, NULL, NULL, NULL);
		expect_clean(&r);
		run_free(&r);
	}
	/* The message says why, when the reason cannot be seen. */
	run(&r, WEBHOOK("'to': 'https://h.example/x\\n', 'subject': 'POST', "
	    "'body': '{}'"), NULL, NULL, NULL);
	ck_assert_str_eq(r.l.v[0].message, "a webhook's \"to\" must be an "
	    "absolute http:// or https:// URL; \"https://h.example/x\\n\" is "
	    "not (it starts or ends with a space or a line break)");
	run_free(&r);
	run(&r, WEBHOOK("'to': 'webhookURL.com', 'subject': 'POST', "
	    "'body': '{}'"), NULL, NULL, NULL);
	ck_assert(!contains(r.l.v[0].message, "space"));
	run_free(&r);
}
END_TEST

START_TEST(webhook_body_must_be_json_once_filled)
{
	struct run	r;

	/* The thread's body, with the comma after {REF} lost. */
	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '{ `startsAt`: `{START-LOCAL-DATE}`,\\n`ref`: `{REF}`\\n"
	    "`id` : `{ID}`}'"), NULL, NULL, NULL);
	expect_only(&r, "error action.webhook.body /actions/0/body\n");
	expect_in(r.l.v[0].message, "line 3, column");
	run_free(&r);
	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '{`id`: {ID'"), NULL, NULL, NULL);
	expect_only(&r, "error action.webhook.body /actions/0/body\n");
	run_free(&r);
}
END_TEST

START_TEST(webhook_placeholders_inside_strings_are_clean)
{
	static const char *const good[] = {
		"{`id`: `{ID}`, `ref`: `{REF}`}",
		"[`{START}`, `{END}`]",
		"{`x`: `a {FNAME} b {LNAME}`, `greeting`: `Hi {FNAME}!`}",
		"{`esc`: `\\\\` {ID}`}",
		"{`esc`: `\\\\\\\\`, `n`: `{ID}`}",
		"{`{ID}`: 1}",
		"",
		"  ",
		"{ }",
		"`just a string with {EMAIL}`",
		"{`a`: `{`, `b`: `}`, `c`: {}, `d`: [{}]}",
		"{`n`: 1, `id`: `{ID}`}",
	};
	struct run	r;
	char		body[512];
	size_t		i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(body, sizeof body, WEBHOOK("'to': "
		    "'https://h.example/', 'subject': 'POST', 'body': '%s'"),
		    good[i]);
		run(&r, body, NULL, NULL, NULL);
		ck_assert_msg(r.l.n == 0, "%s: %s", good[i],
		    buf_str(&r.summary));
		run_free(&r);
	}
	/* An unknown code inside text is only the placeholder warning. */
	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '{`greeting`: `Hi {FIRST-NAME}!`}'"), NULL, NULL, NULL);
	expect_only(&r, "warning action.webhook.placeholder /actions/0/body\n");
	run_free(&r);
}
END_TEST

/* The thread's template, with the two placeholders of the issue bare. */
START_TEST(webhook_unquoted_placeholder_is_named_where_it_is)
{
	struct run		 r;
	struct buf		 line = { NULL, 0, 0 };
	const struct diagnosis	*d;

	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '{`startsAt`: {START-LOCAL-DATE}, `email`: `{EMAIL}`}'"),
	    NULL, NULL, NULL);
	expect_only(&r, "error action.webhook.body /actions/0/body\n");
	d = &r.l.v[0];
	ck_assert_str_eq(d->suggestion, "\"{START-LOCAL-DATE}\"");
	diag_format(d, &line);
	ck_assert_str_eq(buf_str(&line), "error[action.webhook.body] "
	    "/actions/0/body: placeholder {START-LOCAL-DATE} at line 1, "
	    "column 14 of the template is not inside quotes, but the API "
	    "fills it in with text (a date, a name, a link), so the webhook "
	    "body would not be JSON: quote it; did you mean "
	    "\"\\\"{START-LOCAL-DATE}\\\"\"?");
	run_free(&r);
	/* Several, over lines, after multi-byte text: columns count code
	 * points, as jansson's do. */
	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '{`caf\xc3\xa9`: {EMAIL},\\n `n`: [{ID}, {REF}]}'"),
	    NULL, NULL, NULL);
	expect_only(&r, "error action.webhook.body /actions/0/body\n");
	d = &r.l.v[0];
	ck_assert_str_eq(d->suggestion, "\"{EMAIL}\"");
	expect_in(d->message, "placeholder {EMAIL} at line 1, column 10 of "
	    "the template is not inside quotes");
	expect_in(d->message, "quote it (2 more are not quoted either: {ID} "
	    "at line 2, column 8, {REF} at line 2, column 14)");
	run_free(&r);
	/* Two: "is". */
	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '[{START}, {END}]'"), NULL, NULL, NULL);
	expect_in(r.l.v[0].message, "(1 more is not quoted either: {END} at "
	    "line 1, column 11)");
	run_free(&r);
	buf_free(&line);
}
END_TEST

START_TEST(webhook_unquoted_placeholder_edges)
{
	static const struct {
		const char	*tpl;
		const char	*want;		/* summary */
		const char	*part;		/* in the first message */
	} cases[] = {
		/* The whole template, and a number's sign: still text. */
		{ "{ID}", "E", "{ID} at line 1, column 1" },
		{ "{`n`: -{ID}}", "EE", "{ID} at line 1, column 8" },
		/* As a key. */
		{ "{ {CUSTOM-Q1}: 1}", "EW", "{CUSTOM-Q1} at line 1, column 3" },
		/* At the very end, after the object: two faults. */
		{ "{`a`: 1} {ID}", "EE", "{ID} at line 1, column 10" },
		{ "{`a`: 1}{ID}", "EE", "{ID} at line 1, column 9" },
		/* Unterminated: not a placeholder, only a syntax error. */
		{ "{`a`: {ID", "E", "not JSON once" },
		{ "{`a`: `{ID", "E", "not JSON once" },
		{ "{`a`: {ID}", "EE", "{ID} at line 1, column 7" },
		{ "{`a`: {}", "E", "not JSON once" },
		/* After an escaped quote, still inside the string. */
		{ "{`a`: `\\\\`{ID}\\\\``}", "", NULL },
	};
	struct run	r;
	struct buf	sum = { NULL, 0, 0 };
	char		body[512];
	size_t		i, k;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(body, sizeof body, WEBHOOK("'to': "
		    "'https://h.example/', 'subject': 'POST', 'body': '%s'"),
		    cases[i].tpl);
		run(&r, body, NULL, NULL, NULL);
		buf_reset(&sum);
		for (k = 0; k < r.l.n; k++)
			buf_add(&sum, r.l.v[k].severity == DIAG_ERROR ? "E" :
			    "W", 1);
		ck_assert_msg(strcmp(buf_str(&sum), cases[i].want) == 0,
		    "%s: %s", cases[i].tpl, buf_str(&r.summary));
		if (cases[i].part != NULL) {
			ck_assert_str_eq(r.l.v[0].path, "/actions/0/body");
			for (k = 0; k < r.l.n; k++)
				if (contains(r.l.v[k].message, cases[i].part))
					break;
			ck_assert_msg(k < r.l.n, "%s: no \"%s\" in:\n%s",
			    cases[i].tpl, cases[i].part, r.l.v[0].message);
		}
		run_free(&r);
	}
	buf_free(&sum);
}
END_TEST

/* Raw text: single quotes and NUL bytes cannot go through tpl(). */
START_TEST(webhook_template_single_quotes_and_nul_bytes)
{
	static const char single[] = "{\"actions\": [{\"type\": \"WEBHOOK\", "
	    "\"anchor\": \"NO_SHOW\", \"to\": \"https://h.example/\", "
	    "\"subject\": \"POST\", \"body\": \"{'id': '{ID}'}\"}]}";
	static const char raw_nul[] = "{\"actions\": [{\"type\": \"WEBHOOK\", "
	    "\"anchor\": \"NO_SHOW\", \"to\": \"https://h.example/\", "
	    "\"subject\": \"POST\", \"body\": \"{\\\"a\\\": \0{ID}}\"}]}";
	static const char esc_nul[] = "{\"actions\": [{\"type\": \"WEBHOOK\", "
	    "\"anchor\": \"NO_SHOW\", \"to\": \"https://h.example/\", "
	    "\"subject\": \"POST\", \"body\": \"{\\\"a\\\": \\u0000{ID}}\"}]}";
	struct run	r;

	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	/* '{ID}' is quoted, with the wrong quotes: said once, as that. */
	run_raw(&r, single, sizeof single - 1, NULL);
	expect_only(&r, "error action.webhook.body /actions/0/body\n");
	expect_in(r.l.v[0].message, "line 1, column 2 of the template");
	expect_in(r.l.v[0].message, "JSON strings take double quotes");
	diag_list_free(&r.l);
	/* Typographic quotes, from a forum post. */
	run_free(&r);
	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '{`id`: \xe2\x80\x98{ID}\xe2\x80\x99}'"), NULL, NULL,
	    NULL);
	expect_only(&r, "error action.webhook.body /actions/0/body\n"
	    "error action.webhook.body /actions/0/body\n");
	expect_in(r.l.v[1].message, "line 1, column 8 of the template");
	expect_in(r.l.v[1].message, "; JSON takes straight double quotes");
	diag_list_free(&r.l);
	/* A NUL byte in the PATCH, raw or escaped, never reaches a
	 * template: the body is refused first, whole. */
	run_raw(&r, raw_nul, sizeof raw_nul - 1, NULL);
	run_raw(&r, esc_nul, sizeof esc_nul - 1, NULL);
	expect_only(&r, "error json.syntax\nerror json.syntax\n");
	run_free(&r);
}
END_TEST

/* A 1 MiB template of unquoted placeholders: one diagnosis, fast. */
START_TEST(webhook_huge_template_is_one_diagnosis_fast)
{
	struct buf	 b = { NULL, 0, 0 };
	struct run	 r;
	double		 t0, ms;
	size_t		 n = 0;

	buf_adds(&b, "{\"actions\": [{\"type\": \"WEBHOOK\", \"anchor\": "
	    "\"NO_SHOW\", \"to\": \"https://h.example/\", \"subject\": "
	    "\"POST\", \"body\": \"[");
	while (b.len < 1024 * 1024) {
		buf_adds(&b, n == 0 ? "{START-LOCAL-DATE}" :
		    ", {START-LOCAL-DATE}");
		n++;
	}
	buf_adds(&b, "]\"}]}");
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	t0 = now_ms();
	run_raw(&r, b.data, b.len, NULL);
	ms = now_ms() - t0;
	buf_free(&b);
	expect_only(&r, "error action.webhook.body /actions/0/body\n");
	buf_printf(&b, "%zu more are not quoted either", n - 1);
	expect_in(r.l.v[0].message, buf_str(&b));
	buf_reset(&b);
	buf_printf(&b, ", and %zu more)", n - 5);
	expect_in(r.l.v[0].message, buf_str(&b));
	ck_assert_msg(ms < 1024 * unit_time_scale(), "%zu placeholders: %.1f ms",
	    n, ms);
	buf_free(&b);
	run_free(&r);
}
END_TEST

START_TEST(webhook_body_too_deep_is_refused)
{
	struct buf	b = { NULL, 0, 0 };
	struct run	r;
	int		i;

	buf_adds(&b, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '"));
	for (i = 0; i < 100000; i++)
		buf_adds(&b, "[");
	buf_adds(&b, "'}]}");
	run(&r, buf_str(&b), NULL, NULL, NULL);
	expect_only(&r, "error action.webhook.body /actions/0/body\n");
	expect_in(r.l.v[0].message, "more than 64 deep");
	buf_free(&b);
	run_free(&r);
}
END_TEST

START_TEST(webhook_placeholder_unknown_warns_once_each)
{
	struct run	r;

	run(&r, WEBHOOK("'to': 'https://h.example/{CUSTOM-Q1}', "
	    "'subject': 'POST', 'body': '{`a`: `{START_ISO}`, "
	    "`b`: `{START_ISO}`, `c`: `{CUSTOM-Q1}`}'"), NULL, NULL, NULL);
	expect_only(&r,
	    "warning action.webhook.placeholder /actions/0/body\n"
	    "warning action.webhook.placeholder /actions/0/body\n"
	    "warning action.webhook.placeholder /actions/0/to\n");
	/* Sorted by message at one path: {CUSTOM-Q1} before {START_ISO}. */
	ck_assert_ptr_null(r.l.v[0].suggestion);
	expect_in(r.l.v[0].message, "accounts can define their own");
	ck_assert_str_eq(r.l.v[1].suggestion, "{START-ISO}");
	ck_assert(!diag_list_has_errors(&r.l));
	run_free(&r);
}
END_TEST

START_TEST(webhook_placeholder_learned_is_known)
{
	struct run	r;

	run(&r, WEBHOOK("'to': 'https://h.example/', 'subject': 'POST', "
	    "'body': '{`q`: `{CUSTOM-Q1}`}'"), NULL, "{'actions': [{'type': "
	    "'EMAIL', 'body': 'Answer: {CUSTOM-Q1}'}]}", "actions.*");
	expect_clean(&r);
	run_free(&r);
}
END_TEST

/* --- actions.type ------------------------------------------------------ */

START_TEST(actions_must_be_an_array_of_objects)
{
	struct run	r;
	char		*inner, *body;
	json_t		*doc;

	run(&r, "{'actions': null}", NULL, NULL, NULL);
	expect_only(&r, "error actions.type /actions\n");
	ck_assert_str_eq(r.l.v[0].message, "\"actions\" must be an array of "
	    "action objects, not null");
	run_free(&r);
	run(&r, "{'actions': [1, 'x', [], " SEED_EXAMPLE_ACTION "]}", NULL,
	    NULL, NULL);
	expect_only(&r, "error actions.type /actions/0\n"
	    "error actions.type /actions/1\n"
	    "error actions.type /actions/2\n");
	ck_assert_str_eq(r.l.v[1].message, "each action must be an object, "
	    "not a string");
	run_free(&r);
	/* The array passed through json.dumps() on its own. */
	run(&r, "{'actions': '[{`type`: `WEBHOOK`}]'}", NULL, NULL, NULL);
	expect_only(&r, "error actions.type /actions\n");
	ck_assert_str_eq(r.l.v[0].message, "\"actions\" must be an array of "
	    "action objects, not a string: the string holds JSON text, so the "
	    "array was encoded twice; send the array itself");
	run_free(&r);
	run(&r, "{'actions': '[not json'}", NULL, NULL, NULL);
	ck_assert_str_eq(r.l.v[0].message, "\"actions\" must be an array of "
	    "action objects, not a string");
	run_free(&r);
	/* Each action passed through json.dumps() on its own. */
	inner = tpl(SEED_EXAMPLE_ACTION);
	doc = json_pack("{s:[s]}", "actions", inner);
	body = json_dumps(doc, 0);
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_raw(&r, body, strlen(body), NULL);
	expect_only(&r, "error actions.type /actions/0\n");
	ck_assert_str_eq(r.l.v[0].message, "each action must be an object, "
	    "not a string: the string holds JSON text, so the action was "
	    "encoded twice; send the object itself");
	run_free(&r);
	free(body);
	free(inner);
	json_decref(doc);
}
END_TEST

/* --- action.headers.type ----------------------------------------------- */

START_TEST(headers_must_be_an_object_of_strings)
{
	struct run	r;

	run(&r, "{'actions': [" "{'type': 'WEBHOOK', 'anchor': 'NO_SHOW', "
	    "'to': 'https://h.example/', 'subject': 'POST', 'body': '{}', "
	    "'headers': ['x-auth-token: k']}, "
	    "{'type': 'WEBHOOK', 'anchor': 'NO_SHOW', "
	    "'to': 'https://h.example/', 'subject': 'POST', 'body': '{}', "
	    "'headers': {'x-auth-token': 'k', 'x-n': 1, 'x-o': {}}}]}",
	    NULL, NULL, NULL);
	expect_only(&r,
	    "error action.headers.type /actions/0/headers\n"
	    "error action.headers.type /actions/1/headers/x-n\n"
	    "error action.headers.type /actions/1/headers/x-o\n");
	expect_in(r.l.v[0].message, "not an array");
	run_free(&r);
}
END_TEST

/* --- actions.fields-projection ----------------------------------------- */

START_TEST(projection_fires_for_action_sent_back_narrowly)
{
	struct run	r;

	run(&r, "{'actions': [{'id': 'act_1', 'type': 'WEBHOOK', 'anchor': "
	    "'BOOKING_CREATED', 'to': 'https://crm.example.com/hooks/booking', "
	    "'body': '{`id`: `{ID}`, `start`: `{START-ISO}`, `email`: "
	    "`{EMAIL}`}'}, {'id': 'act_2', 'type': 'EMAIL', 'anchor': "
	    "'BOOKING_CREATED', 'to': '{EMAIL}', 'subject': 'Hi', 'body': "
	    "'Hi {FNAME}'}, {'id': 'act_3', 'type': 'WEBHOOK', 'anchor': "
	    "'BOOKING_CANCELLED', "
	    "'to': 'https://crm.example.com/hooks/cancel', "
	    "'body': '{`id`: `{ID}`, `ref`: `{REF}`}', 'subject': 'POST'}]}",
	    NULL, SEED_GET, SEED_GET_FIELDS);
	/* act_1 as fetched: projection (and the subject it lacks);
	 * act_2 and act_3 carry a field the GET did not: built by hand. */
	expect_only(&r,
	    "error action.field.missing /actions/0\n"
	    "error actions.fields-projection /actions/0\n");
	expect_in(r.l.v[1].message, "\"status\", \"offsetMinutes\", \"title\", "
	    "\"subject\", \"attachIcs\" and \"headers\"");
	run_free(&r);
}
END_TEST

START_TEST(projection_silent_when_the_get_included_everything)
{
	struct run	r;

	run(&r, "{'actions': [{'id': 'act_2', 'type': 'EMAIL', 'anchor': "
	    "'BOOKING_CREATED', 'to': '{EMAIL}', 'subject': 'x', 'body': "
	    "'Hi {FNAME}'}]}", NULL, SEED_GET, "actions.*");
	expect_only(&r, "error actions.partial /actions\n");
	run_free(&r);
}
END_TEST

START_TEST(projection_without_fields_uses_the_default_set)
{
	struct run	r;

	run(&r, "{'actions': [{'id': 'a', 'type': 'SMS', 'anchor': 'NO_SHOW', "
	    "'title': 't'}]}", NULL, "{'actions': [{'id': 'a', 'type': 'SMS', "
	    "'anchor': 'NO_SHOW', 'title': 't'}]}", NULL);
	expect(&r, "actions.fields-projection", "/actions/0");
	expect_in(find(&r, "actions.fields-projection", "/actions/0")->message,
	    "without \"fields\"");
	run_free(&r);
}
END_TEST

/* --- profile.headers.misplaced ----------------------------------------- */

START_TEST(profile_headers_with_webhooks_are_misplaced)
{
	struct run	r;

	run(&r, "{'headers': {'x-auth-token': 'k'}, 'actions': ["
	    SEED_EXAMPLE_ACTION "]}", NULL, NULL, NULL);
	expect_only(&r, "warning profile.headers.misplaced /headers\n");
	run_free(&r);
	/* Webhooks known from the profile count too. */
	run(&r, "{'headers': {'x-auth-token': 'k'}}", NULL, SEED_GET,
	    "actions.*");
	expect_only(&r, "warning profile.headers.misplaced /headers\n");
	run_free(&r);
}
END_TEST

START_TEST(profile_headers_without_webhooks_are_left_alone)
{
	struct run	r;

	run(&r, "{'headers': {'x': 'y'}, 'actions': [{'type': 'SMS', "
	    "'anchor': 'NO_SHOW', 'to': 'x', 'body': 'y'}]}", NULL, NULL, NULL);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

/* --- query.fields.ignored ---------------------------------------------- */

START_TEST(fields_on_a_patch_is_only_advice)
{
	struct run	r;

	run(&r, "{'title': 'x'}", "", NULL, NULL);
	expect_only(&r, "info query.fields.ignored query:fields\n");
	ck_assert(!diag_list_has_errors(&r.l));
	run_free(&r);
	run(&r, "{'title': 'x'}", NULL, NULL, NULL);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

/* --- order, bounds, speed ---------------------------------------------- */

START_TEST(order_is_by_path_then_code_with_numeric_indices)
{
	struct buf	b = { NULL, 0, 0 };
	struct run	r;
	int		i;

	buf_adds(&b, "{'headers': {}, 'actions': [");
	for (i = 0; i < 12; i++)
		buf_printf(&b, "%s{'type': 'SMS', 'anchor': 'X%d', 'to': 'x', "
		    "'body': 'y'}", i ? ", " : "", i);
	buf_adds(&b, ", {'type': 'WEBHOOK', 'anchor': 'NO_SHOW', 'to': 'x', "
	    "'subject': 'POST', 'body': '{', 'zz': 1}]}");
	run(&r, buf_str(&b), "x", NULL, NULL);
	expect_only(&r,
	    "error action.anchor.unknown /actions/0/anchor\n"
	    "error action.anchor.unknown /actions/1/anchor\n"
	    "error action.anchor.unknown /actions/2/anchor\n"
	    "error action.anchor.unknown /actions/3/anchor\n"
	    "error action.anchor.unknown /actions/4/anchor\n"
	    "error action.anchor.unknown /actions/5/anchor\n"
	    "error action.anchor.unknown /actions/6/anchor\n"
	    "error action.anchor.unknown /actions/7/anchor\n"
	    "error action.anchor.unknown /actions/8/anchor\n"
	    "error action.anchor.unknown /actions/9/anchor\n"
	    "error action.anchor.unknown /actions/10/anchor\n"
	    "error action.anchor.unknown /actions/11/anchor\n"
	    "error action.webhook.body /actions/12/body\n"
	    "error action.webhook.url /actions/12/to\n"
	    "warning action.field.unknown /actions/12/zz\n"
	    "warning profile.headers.misplaced /headers\n"
	    "info query.fields.ignored query:fields\n");
	buf_free(&b);
	run_free(&r);
}
END_TEST

/*
 * Keys that look like indices ("9", "10") beside others ("1a", "-x") at
 * one level: the order is one total order, whatever the order of the keys
 * in the body (index-like keys first, by number, then the others by byte).
 * The path comparison used to mix both rules ("10" < "1a" < "9" < "10"),
 * so the order followed the body's and qsort was handed no total order.
 */
START_TEST(order_of_mixed_keys_does_not_follow_the_body)
{
	static const char *const	 keys[] = { "10", "1a", "9", "-x" };
	struct buf			 b = { NULL, 0, 0 };
	struct run			 r;
	size_t				 i, k;

	for (i = 0; i < 4; i++) {
		buf_reset(&b);
		buf_adds(&b, "{'actions': [{'type': 'SMS', 'anchor': "
		    "'BOOKING_CREATED', 'to': 'x', 'body': 'y'");
		for (k = 0; k < 4; k++)
			buf_printf(&b, ", '%s': 1", keys[(i + k) % 4]);
		buf_adds(&b, "}]}");
		run(&r, buf_str(&b), NULL, NULL, NULL);
		expect_only(&r,
		    "warning action.field.unknown /actions/0/9\n"
		    "warning action.field.unknown /actions/0/10\n"
		    "warning action.field.unknown /actions/0/-x\n"
		    "warning action.field.unknown /actions/0/1a\n");
		run_free(&r);
	}
	buf_free(&b);
}
END_TEST

START_TEST(appends_after_what_the_list_already_holds)
{
	struct run	r;

	run(&r, "{'title': 'x'}", "a", NULL, NULL);
	run_raw(&r, "[", 1, NULL);
	expect_only(&r, "info query.fields.ignored query:fields\n"
	    "error json.syntax\n");
	diag_list_free(&r.l);
	ck_assert_uint_eq(r.l.n, 0);
	run_raw(&r, "{}", 2, NULL);
	expect_clean(&r);
	run_free(&r);
}
END_TEST

/* A body of n actions, each with an id and given anchor, about 130 bytes. */
static void
many_actions(struct buf *b, size_t n, const char *anchor)
{
	size_t	i;

	buf_adds(b, "{\"actions\": [");
	for (i = 0; i < n; i++)
		buf_printf(b, "%s{\"id\": \"act_%zu\", \"type\": \"WEBHOOK\", "
		    "\"anchor\": \"%s\", \"to\": \"https://h.example/%zu\", "
		    "\"subject\": \"POST\", "
		    "\"body\": \"{\\\"id\\\": \\\"{ID}\\\"}\"}",
		    i ? ", " : "", i, anchor, i);
	buf_adds(b, "]}");
}

START_TEST(many_errors_are_capped_with_a_note)
{
	struct buf	 b = { NULL, 0, 0 };
	struct run	 r;
	double		 t0;

	many_actions(&b, 20000, "BOOKING_CANCELED");
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	t0 = now_ms();
	run_raw(&r, b.data, b.len, NULL);
	ck_assert_msg(now_ms() - t0 < 2000 * unit_time_scale(), "took %.0f ms",
	    now_ms() - t0);
	ck_assert_uint_eq(r.l.n, DIAG_MAX + 1);
	ck_assert_str_eq(r.l.v[0].path, "/actions/0/anchor");
	ck_assert_str_eq(r.l.v[DIAG_MAX - 1].path, "/actions/199/anchor");
	/* The note comes last. */
	ck_assert_str_eq(r.l.v[DIAG_MAX].code, "diagnoses.truncated");
	ck_assert_str_eq(r.l.v[DIAG_MAX].path, "");
	ck_assert_int_eq(r.l.v[DIAG_MAX].severity, DIAG_INFO);
	expect_in(r.l.v[DIAG_MAX].message, "19800 more diagnoses were left "
	    "out");
	buf_free(&b);
	run_free(&r);
}
END_TEST

START_TEST(one_mebibyte_patch_is_diagnosed_fast)
{
	struct buf	 b = { NULL, 0, 0 }, get = { NULL, 0, 0 };
	struct run	 r;
	json_t		*doc;
	double		 t0, ms;
	size_t		 n = 0;

	while (b.len < 1024 * 1024) {
		buf_reset(&b);
		n += 500;
		many_actions(&b, n, "BOOKING_CREATED");
	}
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	doc = json_loadb(b.data, b.len, 0, NULL);
	r.snap = snapshot_new(doc, "actions.*");
	json_decref(doc);
	t0 = now_ms();
	run_raw(&r, b.data, b.len, "actions.id");
	ms = now_ms() - t0;
	expect_only(&r, "info query.fields.ignored query:fields\n");
	/* Well under a millisecond per KiB, even under the sanitizers. */
	ck_assert_msg(ms < b.len / 1024.0 * unit_time_scale(),
	    "%zu actions, %zu bytes: %.1f ms",
	    n, b.len, ms);
	buf_free(&b);
	buf_free(&get);
	run_free(&r);
}
END_TEST

START_TEST(mutated_bodies_never_crash_and_repeat_exactly)
{
	struct run	 r;
	struct buf	 first = { NULL, 0, 0 };
	char		*seed, *m;
	size_t		 len, i, k, at;
	unsigned	 x = 12345;

	seed = tpl("{'headers': {'a': 1}, 'actions': [{'id': 'act_2', "
	    "'type': 'EMAIL', 'anchor': 'BOOKING_CREATED', 'to': '{EMAIL}', "
	    "'body': 'Hi {FNAME}'}, " SEED_EXAMPLE_ACTION ", "
	    SEED_CANCELED_ACTION "]}");
	len = strlen(seed);
	m = malloc(len + 1);
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	run_get(&r, SEED_GET, SEED_GET_FIELDS);
	/* A fixed pseudo-random walk: flip, drop or duplicate bytes. */
	for (i = 0; i < 2000; i++) {
		memcpy(m, seed, len + 1);
		for (k = 0; k < 1 + i % 4; k++) {
			x = x * 1103515245 + 12345;
			at = (x >> 8) % len;
			m[at] = "{}[]\",:\\0a {"[(x >> 20) % 13];
		}
		diag_list_free(&r.l);
		run_raw(&r, m, len, i % 2 ? "x" : NULL);
		buf_reset(&first);
		buf_adds(&first, buf_str(&r.summary));
		diag_list_free(&r.l);
		run_raw(&r, m, len, i % 2 ? "x" : NULL);
		ck_assert_str_eq(buf_str(&first), buf_str(&r.summary));
	}
	free(m);
	free(seed);
	buf_free(&first);
	run_free(&r);
}
END_TEST

/* --- output ------------------------------------------------------------ */

START_TEST(format_is_the_compiler_style_line)
{
	struct diagnosis	d = {
		DIAG_ERROR, (char *)"action.anchor.unknown",
		(char *)"/actions/3/anchor",
		(char *)"\"BOOKING_CANCELED\" is not a known anchor",
		(char *)"BOOKING_CANCELLED"
	};
	struct buf		b = { NULL, 0, 0 };

	diag_format(&d, &b);
	ck_assert_str_eq(buf_str(&b), "error[action.anchor.unknown] "
	    "/actions/3/anchor: \"BOOKING_CANCELED\" is not a known anchor; "
	    "did you mean \"BOOKING_CANCELLED\"?");
	buf_reset(&b);
	d.severity = DIAG_INFO;
	d.path = (char *)"";
	d.suggestion = (char *)"a\"b";
	diag_format(&d, &b);
	ck_assert_str_eq(buf_str(&b), "info[action.anchor.unknown]: "
	    "\"BOOKING_CANCELED\" is not a known anchor; did you mean "
	    "\"a\\\"b\"?");
	buf_reset(&b);
	d.severity = DIAG_WARNING;
	d.suggestion = NULL;
	diag_format(&d, &b);
	ck_assert_str_eq(buf_str(&b), "warning[action.anchor.unknown]: "
	    "\"BOOKING_CANCELED\" is not a known anchor");
	buf_free(&b);
}
END_TEST

START_TEST(to_json_has_the_documented_shape)
{
	struct diagnosis	d = {
		DIAG_WARNING, (char *)"action.field.unknown",
		(char *)"/actions/0/offsetMinute", (char *)"m",
		(char *)"offsetMinutes"
	};
	json_t			*j;
	char			*s;

	j = diag_to_json(&d);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"source\":\"patchscope\",\"severity\":"
	    "\"warning\",\"code\":\"action.field.unknown\",\"path\":"
	    "\"/actions/0/offsetMinute\",\"message\":\"m\",\"suggestion\":"
	    "\"offsetMinutes\"}");
	free(s);
	json_decref(j);
	d.suggestion = NULL;
	j = diag_to_json(&d);
	ck_assert_ptr_null(json_object_get(j, "suggestion"));
	ck_assert_uint_eq(json_object_size(j), 5);
	json_decref(j);
}
END_TEST

START_TEST(severity_names_and_error_test)
{
	struct diag_list	l = { NULL, 0, 0 };

	ck_assert_str_eq(diag_severity_name(DIAG_ERROR), "error");
	ck_assert_str_eq(diag_severity_name(DIAG_WARNING), "warning");
	ck_assert_str_eq(diag_severity_name(DIAG_INFO), "info");
	ck_assert(!diag_list_has_errors(&l));
	diag_list_free(&l);
}
END_TEST

START_TEST(docs_cover_every_code)
{
	struct buf	 doc = { NULL, 0, 0 };
	enum diag_severity sev;
	const char	*code;
	char		*path, anchor[128], chunk[4096], sevline[160];
	FILE		*f;
	size_t		 i, n;

	if (asprintf(&path, "%s/docs/diagnoses.md", srcdir()) < 0)
		ck_abort();
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&doc, chunk, n);
	fclose(f);
	for (i = 0; (code = diag_code(i, &sev)) != NULL; i++) {
		snprintf(anchor, sizeof anchor, "<a id=\"%s\"></a>", code);
		ck_assert_msg(contains(buf_str(&doc), anchor), "%s is not "
		    "documented", code);
		snprintf(sevline, sizeof sevline, "Severity: **%s**",
		    diag_severity_name(sev));
		ck_assert_msg(contains(strstr(buf_str(&doc), anchor), sevline),
		    "%s: no severity line", code);
	}
	ck_assert_uint_ge(i, 19);
	free(path);
	buf_free(&doc);
}
END_TEST

/* --- data cases: the files in tests/data/diagnose/ ---------------------- */

static int
case_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run one data case; return NULL or what went wrong (caller frees). */
static char *
data_case(const char *path)
{
	struct run	 r;
	json_error_t	 err;
	json_t		*c, *v, *snap;
	struct buf	 want = { NULL, 0, 0 };
	char		*body, *why = NULL;
	const char	*fields;
	size_t		 i;

	c = json_load_file(path, 0, &err);
	if (c == NULL)
		return strdup(err.text);
	memset(&r, 0, sizeof r);
	r.rules = rules_builtin();
	snap = json_object_get(c, "snapshot");
	if (snap != NULL) {
		rules_learn(r.rules, snap);
		r.snap = snapshot_new(snap, json_string_value(
		    json_object_get(c, "snapshotFields")));
	}
	fields = json_string_value(json_object_get(c, "fields"));
	v = json_object_get(c, "bodyText");
	if (v != NULL)
		body = strdup(json_string_value(v));
	else
		body = json_dumps(json_object_get(c, "body"), JSON_ENCODE_ANY);
	run_raw(&r, body, strlen(body), fields);
	json_array_foreach(json_object_get(c, "expect"), i, v)
		buf_printf(&want, "%s\n", json_string_value(v));
	if (strcmp(buf_str(&want), buf_str(&r.summary)) != 0 &&
	    asprintf(&why, "expected:\n%sgot:\n%s", buf_str(&want),
	    buf_str(&r.summary)) < 0)
		why = NULL;
	free(body);
	buf_free(&want);
	json_decref(c);
	run_free(&r);
	return why;
}

START_TEST(data_cases_give_their_expected_codes)
{
	char		*dir, **names = NULL, *path, *why;
	struct dirent	*e;
	DIR		*d;
	size_t		 n = 0, i, len;

	if (asprintf(&dir, "%s/tests/data/diagnose", srcdir()) < 0)
		ck_abort();
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, case_name_cmp);
	ck_assert_uint_gt(n, 0);
	for (i = 0; i < n; i++) {
		if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
			ck_abort();
		why = data_case(path);
		ck_assert_msg(why == NULL, "%s: %s", names[i], why);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("diagnose");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, seed_partial_patch_names_lost_ids_and_bad_anchor);
	tcase_add_test(tc, seed_corrected_full_patch_is_clean);
	tcase_add_test(tc, seed_example_webhook_action_is_clean);
	tcase_add_test(tc, seed_refetched_actions_sent_back_are_clean);
	tcase_add_test(tc, syntax_error_gives_line_and_column);
	tcase_add_test(tc, empty_or_blank_body_is_a_syntax_error);
	tcase_add_test(tc, body_not_an_object_names_what_it_is);
	tcase_add_test(tc, bare_actions_array_is_to_be_wrapped);
	tcase_add_test(tc, json_patch_and_twice_encoded_bodies_are_named);
	tcase_add_test(tc, syntax_hints_for_trailing_comma_quotes_and_bom);
	tcase_add_test(tc, trailing_garbage_and_bad_bytes_are_syntax_errors);
	tcase_add_test(tc, deep_nesting_is_refused_without_recursing);
	tcase_add_test(tc, nesting_at_limit_and_brackets_in_strings_pass);
	tcase_add_test(tc, partial_names_every_missing_id);
	tcase_add_test(tc, partial_is_never_claimed_without_a_snapshot);
	tcase_add_test(tc, partial_not_claimed_when_actions_are_left_alone);
	tcase_add_test(tc, empty_actions_array_deletes_them_all);
	tcase_add_test(tc, every_action_kept_plus_a_new_one_is_clean);
	tcase_add_test(tc, anchor_suggested_by_distance_case_and_fragment);
	tcase_add_test(tc, anchor_far_from_any_says_it_is_only_unlisted);
	tcase_add_test(tc, anchor_learned_from_a_get_is_accepted);
	tcase_add_test(tc, anchor_in_snapshot_accepted_without_learning);
	tcase_add_test(tc, guessed_anchors_are_accepted);
	tcase_add_test(tc, type_unknown_with_and_without_suggestion);
	tcase_add_test(tc, type_learned_from_a_get_is_accepted);
	tcase_add_test(tc, missing_required_fields_are_named);
	tcase_add_test(tc, sms_without_subject_is_complete);
	tcase_add_test(tc, field_types_are_checked_with_hints);
	tcase_add_test(tc, unknown_field_warns_with_suggestion);
	tcase_add_test(tc, field_of_another_type_warns);
	tcase_add_test(tc, field_seen_in_the_profile_is_known);
	tcase_add_test(tc, field_key_is_escaped_in_the_path_and_message);
	tcase_add_test(tc, id_unknown_only_with_a_snapshot);
	tcase_add_test(tc, id_twice_is_a_duplicate);
	tcase_add_test(tc, webhook_subject_must_be_a_method);
	tcase_add_test(tc, email_subject_is_free_text);
	tcase_add_test(tc, webhook_to_must_be_an_absolute_http_url);
	tcase_add_test(tc, webhook_body_must_be_json_once_filled);
	tcase_add_test(tc, webhook_placeholders_inside_strings_are_clean);
	tcase_add_test(tc, webhook_unquoted_placeholder_is_named_where_it_is);
	tcase_add_test(tc, webhook_unquoted_placeholder_edges);
	tcase_add_test(tc, webhook_template_single_quotes_and_nul_bytes);
	tcase_add_test(tc, webhook_huge_template_is_one_diagnosis_fast);
	tcase_add_test(tc, webhook_body_too_deep_is_refused);
	tcase_add_test(tc, webhook_placeholder_unknown_warns_once_each);
	tcase_add_test(tc, webhook_placeholder_learned_is_known);
	tcase_add_test(tc, actions_must_be_an_array_of_objects);
	tcase_add_test(tc, headers_must_be_an_object_of_strings);
	tcase_add_test(tc, projection_fires_for_action_sent_back_narrowly);
	tcase_add_test(tc, projection_silent_when_the_get_included_everything);
	tcase_add_test(tc, projection_without_fields_uses_the_default_set);
	tcase_add_test(tc, profile_headers_with_webhooks_are_misplaced);
	tcase_add_test(tc, profile_headers_without_webhooks_are_left_alone);
	tcase_add_test(tc, fields_on_a_patch_is_only_advice);
	tcase_add_test(tc, order_is_by_path_then_code_with_numeric_indices);
	tcase_add_test(tc, order_of_mixed_keys_does_not_follow_the_body);
	tcase_add_test(tc, appends_after_what_the_list_already_holds);
	tcase_add_test(tc, many_errors_are_capped_with_a_note);
	tcase_add_test(tc, one_mebibyte_patch_is_diagnosed_fast);
	tcase_add_test(tc, mutated_bodies_never_crash_and_repeat_exactly);
	tcase_add_test(tc, format_is_the_compiler_style_line);
	tcase_add_test(tc, to_json_has_the_documented_shape);
	tcase_add_test(tc, severity_names_and_error_test);
	tcase_add_test(tc, docs_cover_every_code);
	tcase_add_test(tc, messages_stay_on_one_line_whatever_was_learned);
	tcase_add_test(tc, data_cases_give_their_expected_codes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
