/*
 * Unit tests for profile: which profile a request names, the store key,
 * learning from answers, the poll hash, the replay seed and checking a
 * PATCH. The seed story's cassette (cassettes/seed-story.har) is the real
 * data: its recorded diagnoses are what the live proxy found, so checking
 * its PATCHes again must find the same codes.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "diagnose.h"
#include "exchange.h"
#include "http.h"
#include "profile.h"
#include "replay.h"
#include "rules.h"
#include "snapshot.h"
#include "xmalloc.h"
#include "unit.h"

#define ORIGIN		"http://127.0.0.1:41581"
/* The seed story's first GET: its "fields" and (part of) its answer. */
#define SEED_FIELDS	"id,actions,actions.id,actions.type,actions.anchor," \
			"actions.to,actions.body,headers,headers.x-auth-token"
#define SEED_FIELDS_Q	"id%2Cactions%2Cactions.id%2Cactions.type%2C" \
			"actions.anchor%2Cactions.to%2Cactions.body%2C" \
			"headers%2Cheaders.x-auth-token"
static const char SEED_GET[] = "{\"id\": \"p1\", \"actions\": ["
    "{\"id\": \"act_1\", \"type\": \"WEBHOOK\", \"anchor\": "
    "\"BOOKING_CREATED\", \"to\": \"https://crm.example.com/hooks/booking\", "
    "\"body\": \"{\\\"id\\\": \\\"{ID}\\\", "
    "\\\"start\\\": \\\"{START-ISO}\\\"}\"},"
    "{\"id\": \"act_2\", \"type\": \"EMAIL\", \"anchor\": \"BOOKING_CREATED\", "
    "\"to\": \"{EMAIL}\", \"body\": \"Hi {FNAME} {ZZ-OWN-PLACEHOLDER}\"},"
    "{\"id\": \"act_3\", \"type\": \"WEBHOOK\", \"anchor\": "
    "\"BOOKING_CANCELLED\", \"to\": \"https://crm.example.com/hooks/cancel\", "
    "\"body\": \"{\\\"id\\\": \\\"{ID}\\\"}\"}]}";
/* The answer to a PATCH of the profile's settings: no actions in it. */
static const char NEW_GET[] = "{\"actions\": [{\"id\": \"act_9\"}]}";
static const char PATCH_ANSWER[] = "{\"id\": \"p1\", \"accountId\": \"acc1\", "
    "\"title\": \"Discovery call\", \"status\": \"ONLINE\"}";
/* The seed story's broken PATCH: one action kept, one misspelled anchor. */
static const char BAD_PATCH[] = "{\"actions\": [{\"id\": \"act_1\", "
    "\"type\": \"WEBHOOK\", \"anchor\": \"BOOKING_CREATED\", "
    "\"to\": \"https://crm.example.com/hooks/booking\", "
    "\"subject\": \"POST\", \"body\": \"{}\"}, {\"type\": \"WEBHOOK\", "
    "\"anchor\": \"BOOKING_CANCELED\", \"to\": \"https://webhookURL.com\", "
    "\"subject\": \"POST\", \"body\": \"{}\"}]}";

/* Where the source tree is (make check sets it; else the current dir). */
static const char *
srcdir(void)
{
	const char	*d = getenv("PATCHSCOPE_SRCDIR");

	return d != NULL ? d : ".";
}

/* A recorded exchange with a response; NULL ctype or body: none. */
static void
answer(struct exchange *x, const char *method, const char *url, int status,
    const char *ctype, const char *body)
{
	exchange_init(x);
	x->method = method != NULL ? xstrdup(method) : NULL;
	x->url = url != NULL ? xstrdup(url) : NULL;
	x->http_version = xstrdup("HTTP/1.1");
	x->status = status;
	if (ctype != NULL)
		http_headers_add(&x->resp_headers,
		    HTTP_LIT(HTTP_CONTENT_TYPE), ctype, strlen(ctype));
	if (body != NULL)
		exchange_body_set(&x->resp_body, body, strlen(body));
}

/* Add such an answer to idx. */
static void
add(struct replay_index *idx, const char *method, const char *url,
    int status, const char *ctype, const char *body)
{
	struct exchange	x;

	answer(&x, method, url, status, ctype, body);
	replay_add(idx, &x);
}

static int
load_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	(void)index;
	(void)cause;
	replay_add(arg, x);
	return 0;
}

/* The seed story's cassette as a replay index. */
static struct replay_index *
seed_story(void)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct buf		 text = { NULL, 0, 0 };
	char			*path, *cause = NULL, chunk[4096];
	size_t			 n;
	FILE			*f;

	path = xasprintf("%s/cassettes/seed-story.har", srcdir());
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&text, chunk, n);
	fclose(f);
	ck_assert_msg(cassette_parse(text.data, text.len, load_entry_cb, idx,
	    NULL, &cause) == 0, "%s: %s", path, cause);
	ck_assert_uint_eq(replay_count(idx), 4);
	buf_free(&text);
	free(path);
	return idx;
}

/* The codes of a diagnosis list, joined with ",". */
static char *
codes(const struct diag_list *d)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*s;
	size_t		 i;

	for (i = 0; i < d->n; i++)
		buf_printf(&b, "%s%s", i > 0 ? "," : "", d->v[i].code);
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/* The codes of a recorded entry's diagnoses, joined with ",". */
static char *
recorded_codes(const struct exchange *x)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*s;
	size_t		 i;

	ck_assert_ptr_nonnull(x->diagnoses);
	for (i = 0; i < json_array_size(x->diagnoses); i++)
		buf_printf(&b, "%s%s", i > 0 ? "," : "", json_string_value(
		    json_object_get(json_array_get(x->diagnoses, i), "code")));
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/* Check a PATCH body; return its codes. */
static char *
check_codes(struct rules *rules, struct snapshot_store *store,
    struct profile_seed *seed, const char *key, const char *url,
    const char *body, size_t len)
{
	struct diag_list	 d = { NULL, 0, 0 };
	struct profile_ref	 ref;
	char			*s;

	ck_assert_int_eq(profile_ref_from_url(url, &ref), 0);
	profile_check(rules, store, seed, key, &ref, body, len, &d);
	s = codes(&d);
	diag_list_free(&d);
	profile_ref_free(&ref);
	return s;
}

START_TEST(ref_parse_names_account_profile_and_fields)
{
	struct profile_ref	ref;

	ck_assert_int_eq(profile_ref_parse("/v1/acc1/profiles/p1?fields="
	    SEED_FIELDS_Q, &ref), 0);
	ck_assert_str_eq(ref.account, "acc1");
	ck_assert_str_eq(ref.profile, "p1");
	ck_assert_str_eq(ref.fields, SEED_FIELDS);
	profile_ref_free(&ref);
	ck_assert_ptr_null(ref.account);
	ck_assert_ptr_null(ref.profile);
	ck_assert_ptr_null(ref.fields);

	ck_assert_int_eq(profile_ref_parse("/v1/profiles/p2", &ref), 0);
	ck_assert_ptr_null(ref.account);
	ck_assert_str_eq(ref.profile, "p2");
	ck_assert_ptr_null(ref.fields);
	profile_ref_free(&ref);

	ck_assert_int_eq(profile_ref_parse("https://api.example.com/v1/acc1/"
	    "profiles/p1?fields=actions.%2A", &ref), 0);
	ck_assert_str_eq(ref.account, "acc1");
	ck_assert_str_eq(ref.fields, "actions.*");
	profile_ref_free(&ref);
	/* Freeing twice, or an empty ref, is fine. */
	profile_ref_free(&ref);
}
END_TEST

START_TEST(ref_parse_refuses_targets_that_name_no_profile)
{
	static const char	*bad[] = {
		"/v1/acc1/other/p1", "/_fake/echo", "/v1/acc1/profiles/",
		"/v1//profiles/p1", "/v2/profiles/p1", "", "*", "example:443"
	};
	struct profile_ref	ref;
	size_t			i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&ref, 0xa5, sizeof ref);
		ck_assert_msg(profile_ref_parse(bad[i], &ref) == -1, "%s",
		    bad[i]);
		ck_assert_ptr_null(ref.account);
		ck_assert_ptr_null(ref.profile);
		ck_assert_ptr_null(ref.fields);
	}
	ck_assert_int_eq(profile_ref_parse(NULL, &ref), -1);
	ck_assert_ptr_null(ref.profile);
}
END_TEST

START_TEST(ref_from_url_needs_an_absolute_profile_url)
{
	struct profile_ref	ref;

	ck_assert_int_eq(profile_ref_from_url(ORIGIN "/v1/acc1/profiles/p1"
	    "?fields=" SEED_FIELDS_Q, &ref), 0);
	ck_assert_str_eq(ref.account, "acc1");
	ck_assert_str_eq(ref.profile, "p1");
	ck_assert_str_eq(ref.fields, SEED_FIELDS);
	profile_ref_free(&ref);
	ck_assert_int_eq(profile_ref_from_url("/v1/acc1/profiles/p1", &ref),
	    -1);
	ck_assert_ptr_null(ref.profile);
	ck_assert_int_eq(profile_ref_from_url("ftp://h/v1/profiles/p1", &ref),
	    -1);
	ck_assert_int_eq(profile_ref_from_url(ORIGIN "/_fake/echo", &ref), -1);
	ck_assert_int_eq(profile_ref_from_url(NULL, &ref), -1);
	ck_assert_ptr_null(ref.profile);
}
END_TEST

START_TEST(key_names_the_origin_host_and_port)
{
	struct buf	b = { NULL, 0, 0 };

	profile_key(&b, "api.example.com", 443, 0);
	ck_assert_str_eq(buf_str(&b), "api.example.com:443");
	buf_reset(&b);
	profile_key(&b, NULL, 80, 0);
	ck_assert_str_eq(buf_str(&b), ":80");
	/* It appends. */
	buf_reset(&b);
	buf_adds(&b, "k=");
	profile_key(&b, "127.0.0.1", 41581, 0);
	ck_assert_str_eq(buf_str(&b), "k=127.0.0.1:41581");
	buf_free(&b);
}
END_TEST

START_TEST(key_in_replay_is_one_for_every_host)
{
	struct buf	b = { NULL, 0, 0 };

	profile_key(&b, "api.example.com", 443, 1);
	ck_assert_str_eq(buf_str(&b), PROFILE_KEY_REPLAY);
	ck_assert_str_eq(buf_str(&b), "replay");
	buf_reset(&b);
	profile_key(&b, NULL, 0, 1);
	ck_assert_str_eq(buf_str(&b), "replay");
	buf_free(&b);
}
END_TEST

START_TEST(learn_keeps_the_snapshot_and_teaches_the_rules)
{
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	const struct snapshot	*snap;
	struct profile_ref	 ref;

	ck_assert_int_eq(rules_placeholder(rules, "ZZ-OWN-PLACEHOLDER"),
	    RULES_UNKNOWN);
	ck_assert_int_eq(profile_ref_parse("/v1/acc1/profiles/p1?fields="
	    SEED_FIELDS_Q, &ref), 0);
	ck_assert_int_eq(profile_learn(rules, store, "h:1", &ref, SEED_GET,
	    strlen(SEED_GET)), 1);
	ck_assert_uint_eq(snapshot_store_count(store), 1);
	snap = snapshot_store_get(store, "h:1", "acc1", "p1");
	ck_assert_ptr_nonnull(snap);
	ck_assert_uint_eq(snapshot_count(snap), 3);
	ck_assert(snapshot_has_id(snap, "act_3"));
	ck_assert_str_eq(snapshot_fields(snap), SEED_FIELDS);
	ck_assert_ptr_null(snapshot_store_get(store, "h:2", "acc1", "p1"));
	ck_assert_int_eq(rules_placeholder(rules, "ZZ-OWN-PLACEHOLDER"),
	    RULES_LEARNED);
	profile_ref_free(&ref);
	snapshot_store_free(store);
	rules_free(rules);
}
END_TEST

START_TEST(learn_reads_len_bytes_only)
{
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	struct profile_ref	 ref;
	char			*body;

	body = xasprintf("%s trailing bytes past len", SEED_GET);
	ck_assert_int_eq(profile_ref_parse("/v1/acc1/profiles/p1", &ref), 0);
	ck_assert_int_eq(profile_learn(rules, store, "h:1", &ref, body,
	    strlen(SEED_GET)), 1);
	ck_assert_int_eq(profile_learn(rules, store, "h:2", &ref, body,
	    strlen(body)), 0);
	ck_assert_uint_eq(snapshot_store_count(store), 1);
	free(body);
	profile_ref_free(&ref);
	snapshot_store_free(store);
	rules_free(rules);
}
END_TEST

START_TEST(learn_without_account_keeps_it_under_the_empty_one)
{
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	struct profile_ref	 ref;

	ck_assert_int_eq(profile_ref_parse("/v1/profiles/p1", &ref), 0);
	ck_assert_int_eq(profile_learn(rules, store, "h:1", &ref, SEED_GET,
	    strlen(SEED_GET)), 1);
	ck_assert_ptr_nonnull(snapshot_store_get(store, "h:1", "", "p1"));
	ck_assert_ptr_nonnull(snapshot_store_get(store, "h:1", NULL, "p1"));
	/* Without fields, only the default set counts as included. */
	ck_assert_ptr_null(snapshot_fields(snapshot_store_get(store, "h:1", "",
	    "p1")));
	profile_ref_free(&ref);
	snapshot_store_free(store);
	rules_free(rules);
}
END_TEST

START_TEST(learn_replaces_what_an_older_answer_showed)
{
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	struct profile_ref	 ref;

	ck_assert_int_eq(profile_ref_parse("/v1/acc1/profiles/p1?fields="
	    SEED_FIELDS_Q, &ref), 0);
	profile_learn(rules, store, "h:1", &ref, SEED_GET, strlen(SEED_GET));
	profile_ref_free(&ref);
	ck_assert_int_eq(profile_ref_parse("/v1/acc1/profiles/p1?fields="
	    "actions.*", &ref), 0);
	ck_assert_int_eq(profile_learn(rules, store, "h:1", &ref,
	    NEW_GET,
	    strlen(NEW_GET)), 1);
	ck_assert_uint_eq(snapshot_store_count(store), 1);
	ck_assert_str_eq(snapshot_fields(snapshot_store_get(store, "h:1",
	    "acc1", "p1")), "actions.*");
	ck_assert(snapshot_has_id(snapshot_store_get(store, "h:1", "acc1",
	    "p1"), "act_9"));
	profile_ref_free(&ref);
	snapshot_store_free(store);
	rules_free(rules);
}
END_TEST

START_TEST(learn_ignores_a_body_that_is_not_a_json_object)
{
	static const char	*bad[] = {
		"not json", "{\"actions\": [", "", "[{\"actions\": []}]",
		"\"a string\"", "42", "null"
	};
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	struct profile_ref	 ref;
	size_t			 i;

	ck_assert_int_eq(profile_ref_parse("/v1/acc1/profiles/p1", &ref), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(profile_learn(rules, store, "h:1", &ref, bad[i],
		    strlen(bad[i])) == 0, "%s", bad[i]);
	ck_assert_int_eq(profile_learn(rules, store, "h:1", &ref, NULL, 0), 0);
	ck_assert_uint_eq(snapshot_store_count(store), 0);
	profile_ref_free(&ref);
	snapshot_store_free(store);
	rules_free(rules);
}
END_TEST

START_TEST(learn_from_an_answer_without_actions_keeps_no_snapshot)
{
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	struct profile_ref	 ref;

	ck_assert_int_eq(profile_ref_parse("/v1/acc1/profiles/p1", &ref), 0);
	ck_assert_int_eq(profile_learn(rules, store, "h:1", &ref, PATCH_ANSWER,
	    strlen(PATCH_ANSWER)), 0);
	ck_assert_int_eq(profile_learn(rules, store, "h:1", &ref,
	    "{\"actions\": {}}",
	    strlen("{\"actions\": {}}")), 0);
	ck_assert_uint_eq(snapshot_store_count(store), 0);
	/* What was known before stays known. */
	profile_learn(rules, store, "h:1", &ref, SEED_GET, strlen(SEED_GET));
	profile_learn(rules, store, "h:1", &ref, PATCH_ANSWER,
	    strlen(PATCH_ANSWER));
	ck_assert(snapshot_has_id(snapshot_store_get(store, "h:1", "acc1",
	    "p1"), "act_1"));
	profile_ref_free(&ref);
	snapshot_store_free(store);
	rules_free(rules);
}
END_TEST

START_TEST(answer_hash_is_fnv1a_of_url_then_body)
{
	/* Published FNV-1a 64-bit vectors: "", "a", "foobar". */
	ck_assert_uint_eq(profile_answer_hash(NULL, NULL, 0),
	    0xcbf29ce484222325ULL);
	ck_assert_uint_eq(profile_answer_hash("", "", 0),
	    0xcbf29ce484222325ULL);
	ck_assert_uint_eq(profile_answer_hash("a", NULL, 0),
	    0xaf63dc4c8601ec8cULL);
	ck_assert_uint_eq(profile_answer_hash("", "a", 1),
	    0xaf63dc4c8601ec8cULL);
	ck_assert_uint_eq(profile_answer_hash("foo", "bar", 3),
	    0x85944171f73967e8ULL);
	ck_assert_uint_eq(profile_answer_hash("foobar", "", 0),
	    0x85944171f73967e8ULL);
}
END_TEST

START_TEST(answer_hash_tells_a_repeated_poll_from_a_change)
{
	const char	*url = ORIGIN "/v1/acc1/profiles/p1";
	uint64_t	 h;
	char		*changed;

	h = profile_answer_hash(url, SEED_GET, strlen(SEED_GET));
	/* The same answer polled again: the same hash, nothing to learn. */
	ck_assert_uint_eq(profile_answer_hash(url, SEED_GET,
	    strlen(SEED_GET)), h);
	changed = xstrdup(SEED_GET);
	changed[strlen(changed) - 5] = 'X';
	ck_assert_uint_ne(profile_answer_hash(url, changed, strlen(changed)),
	    h);
	ck_assert_uint_ne(profile_answer_hash(ORIGIN "/v1/acc1/profiles/p2",
	    SEED_GET, strlen(SEED_GET)), h);
	ck_assert_uint_ne(profile_answer_hash(url, SEED_GET,
	    strlen(SEED_GET) - 1), h);
	/* Bytes past len do not count; a NUL inside does. */
	ck_assert_uint_eq(profile_answer_hash(url, "{}xyz", 2),
	    profile_answer_hash(url, "{}", 2));
	ck_assert_uint_ne(profile_answer_hash(url, "{}\0", 3),
	    profile_answer_hash(url, "{}", 2));
	free(changed);
}
END_TEST

START_TEST(answer_ref_takes_a_json_profile_answer)
{
	static const struct {
		const char	*method;
		int		 status;
		const char	*ctype;
	} ok[] = {
		{ "GET", 200, "application/json" },
		{ "PATCH", 200, "application/json; charset=utf-8" },
		{ "GET", 204, "Application/JSON" },
		{ "GET", 299, "application/problem+json" },
	};
	struct exchange		x;
	struct profile_ref	ref;
	size_t			i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		answer(&x, ok[i].method, ORIGIN "/v1/acc1/profiles/p1?fields="
		    SEED_FIELDS_Q, ok[i].status, ok[i].ctype, SEED_GET);
		ck_assert_msg(profile_answer_ref(&x, 0, &ref) == 0, "%zu", i);
		ck_assert_str_eq(ref.account, "acc1");
		ck_assert_str_eq(ref.profile, "p1");
		ck_assert_str_eq(ref.fields, SEED_FIELDS);
		profile_ref_free(&ref);
		exchange_free(&x);
	}
}
END_TEST

START_TEST(answer_ref_refuses_a_status_other_than_2xx)
{
	static const int	 bad[] = { 0, 101, 199, 300, 304, 400, 404,
		500 };
	struct exchange		 x;
	struct profile_ref	 ref;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		answer(&x, "GET", ORIGIN "/v1/acc1/profiles/p1", bad[i],
		    "application/json", SEED_GET);
		memset(&ref, 0xa5, sizeof ref);
		ck_assert_msg(profile_answer_ref(&x, PROFILE_ANY_TYPE,
		    &ref) == -1, "%d", bad[i]);
		ck_assert_ptr_null(ref.profile);
		exchange_free(&x);
	}
}
END_TEST

START_TEST(answer_ref_refuses_methods_but_get_and_patch)
{
	static const char	*bad[] = { "POST", "PUT", "DELETE", "HEAD",
		"get", "patch", "" };
	struct exchange		 x;
	struct profile_ref	 ref;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		answer(&x, bad[i], ORIGIN "/v1/acc1/profiles/p1", 200,
		    "application/json", SEED_GET);
		ck_assert_msg(profile_answer_ref(&x, PROFILE_ANY_TYPE,
		    &ref) == -1, "%s", bad[i]);
		exchange_free(&x);
	}
	answer(&x, NULL, ORIGIN "/v1/acc1/profiles/p1", 200,
	    "application/json", SEED_GET);
	ck_assert_int_eq(profile_answer_ref(&x, PROFILE_ANY_TYPE, &ref), -1);
	exchange_free(&x);
}
END_TEST

START_TEST(answer_ref_needs_a_json_type_unless_any_type)
{
	static const char	*other[] = { "text/plain", "text/json",
		"application/jsonp", "application/x-json", NULL };
	struct exchange		 x;
	struct profile_ref	 ref;
	size_t			 i;

	for (i = 0; i < sizeof other / sizeof other[0]; i++) {
		answer(&x, "GET", ORIGIN "/v1/acc1/profiles/p1", 200, other[i],
		    SEED_GET);
		ck_assert_msg(profile_answer_ref(&x, 0, &ref) == -1, "%s",
		    other[i] != NULL ? other[i] : "(none)");
		/* `show` learns whatever the type. */
		ck_assert_int_eq(profile_answer_ref(&x, PROFILE_ANY_TYPE, &ref),
		    0);
		ck_assert_str_eq(ref.profile, "p1");
		profile_ref_free(&ref);
		exchange_free(&x);
	}
}
END_TEST

START_TEST(answer_ref_refuses_a_truncated_or_missing_body)
{
	struct exchange		x;
	struct profile_ref	ref;

	answer(&x, "GET", ORIGIN "/v1/acc1/profiles/p1", 200,
	    "application/json", SEED_GET);
	x.resp_body.truncated = 1;
	x.resp_body.size = x.resp_body.len + 100;
	ck_assert_int_eq(profile_answer_ref(&x, PROFILE_ANY_TYPE, &ref), -1);
	ck_assert_ptr_null(ref.profile);
	exchange_free(&x);
	answer(&x, "GET", ORIGIN "/v1/acc1/profiles/p1", 200,
	    "application/json", NULL);
	ck_assert_int_eq(profile_answer_ref(&x, PROFILE_ANY_TYPE, &ref), -1);
	exchange_free(&x);
	/* An empty body is a body (that will not parse). */
	answer(&x, "GET", ORIGIN "/v1/acc1/profiles/p1", 200,
	    "application/json", "");
	ck_assert_int_eq(profile_answer_ref(&x, 0, &ref), 0);
	profile_ref_free(&ref);
	exchange_free(&x);
}
END_TEST

START_TEST(answer_ref_refuses_a_url_that_names_no_profile)
{
	static const char	*bad[] = { ORIGIN "/_fake/echo",
		ORIGIN "/v1/acc1/profiles", ORIGIN "/v1/acc1/profiles/p1/x",
		"/v1/acc1/profiles/p1", "not a url", NULL };
	struct exchange		 x;
	struct profile_ref	 ref;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		answer(&x, "GET", bad[i], 200, "application/json", SEED_GET);
		ck_assert_msg(profile_answer_ref(&x, PROFILE_ANY_TYPE,
		    &ref) == -1, "%s", bad[i] != NULL ? bad[i] : "(null)");
		ck_assert_ptr_null(ref.profile);
		exchange_free(&x);
	}
}
END_TEST

START_TEST(learn_answer_learns_what_answer_ref_takes)
{
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	struct exchange		 x;

	answer(&x, "GET", ORIGIN "/v1/acc1/profiles/p1?fields=" SEED_FIELDS_Q,
	    200, "text/plain", SEED_GET);
	ck_assert_int_eq(profile_learn_answer(rules, store, "k", &x, 0), 0);
	ck_assert_uint_eq(snapshot_store_count(store), 0);
	ck_assert_int_eq(profile_learn_answer(rules, store, "k", &x,
	    PROFILE_ANY_TYPE), 1);
	ck_assert_str_eq(snapshot_fields(snapshot_store_get(store, "k", "acc1",
	    "p1")), SEED_FIELDS);
	exchange_free(&x);
	/* A 400 answer is never learned, even when it looks like a profile. */
	answer(&x, "PATCH", ORIGIN "/v1/acc1/profiles/p2", 400,
	    "application/json", SEED_GET);
	ck_assert_int_eq(profile_learn_answer(rules, store, "k", &x,
	    PROFILE_ANY_TYPE), 0);
	ck_assert_ptr_null(snapshot_store_get(store, "k", "acc1", "p2"));
	exchange_free(&x);
	/* A 2xx JSON answer that is not an object teaches nothing. */
	answer(&x, "GET", ORIGIN "/v1/acc1/profiles/p3", 200,
	    "application/json", "[1, 2]");
	ck_assert_int_eq(profile_learn_answer(rules, store, "k", &x, 0), 0);
	exchange_free(&x);
	ck_assert_uint_eq(snapshot_store_count(store), 1);
	snapshot_store_free(store);
	rules_free(rules);
}
END_TEST

START_TEST(seed_of_the_story_is_its_first_get)
{
	struct replay_index	*idx = seed_story();
	struct profile_seed	*seed = profile_seed_new(idx);
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	const struct snapshot	*snap;

	/* Entries 0 and 2 (GET) and 3 (PATCH, 200) show acc1/p1. */
	ck_assert_uint_eq(profile_seed_count(seed), 1);
	snap = profile_seed_snapshot(seed, rules, store, "acc1", "p1");
	ck_assert_ptr_nonnull(snap);
	/* Entry 0's projection, not entry 2's "actions.*". */
	ck_assert_str_eq(snapshot_fields(snap), SEED_FIELDS);
	ck_assert_ptr_eq(snap, snapshot_store_get(store, PROFILE_KEY_REPLAY,
	    "acc1", "p1"));
	snapshot_store_free(store);
	rules_free(rules);
	profile_seed_free(seed);
	replay_free(idx);
}
END_TEST

START_TEST(seed_picks_the_first_answer_of_each_profile)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct profile_seed	*seed;
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(64);
	const struct snapshot	*snap;
	char			 url[128], profile[32];
	int			 i;

	/* Answers that show no profile to learn from come first. */
	add(idx, "GET", ORIGIN "/v1/a/profiles/p0?fields=404", 404,
	    "application/json", SEED_GET);
	add(idx, "POST", ORIGIN "/v1/a/profiles/p0?fields=post", 200,
	    "application/json", SEED_GET);
	add(idx, "GET", ORIGIN "/v1/a/profiles/p0?fields=text", 200,
	    "text/plain", SEED_GET);
	add(idx, "GET", ORIGIN "/_fake/echo?fields=echo", 200,
	    "application/json", SEED_GET);
	/* Then, round after round, an answer of each of ten profiles in
	 * reverse order, so sorting has to keep the first by entry. */
	for (i = 0; i < 30; i++) {
		snprintf(url, sizeof url, ORIGIN "/v1/a/profiles/p%d"
		    "?fields=round%d", 9 - i % 10, i / 10);
		add(idx, i % 2 == 0 ? "GET" : "PATCH", url, 200,
		    "application/json", SEED_GET);
	}
	/* The short form is another account (""). */
	add(idx, "GET", ORIGIN "/v1/profiles/p1?fields=short", 200,
	    "application/json", SEED_GET);
	seed = profile_seed_new(idx);
	ck_assert_uint_eq(profile_seed_count(seed), 11);
	for (i = 0; i < 10; i++) {
		snprintf(profile, sizeof profile, "p%d", i);
		snap = profile_seed_snapshot(seed, rules, store, "a", profile);
		ck_assert_msg(snap != NULL, "%s", profile);
		ck_assert_str_eq(snapshot_fields(snap), "round0");
	}
	snap = profile_seed_snapshot(seed, rules, store, NULL, "p1");
	ck_assert_ptr_nonnull(snap);
	ck_assert_str_eq(snapshot_fields(snap), "short");
	ck_assert_ptr_eq(profile_seed_snapshot(seed, rules, store, "", "p1"),
	    snap);
	ck_assert_uint_eq(snapshot_store_count(store), 11);
	snapshot_store_free(store);
	rules_free(rules);
	profile_seed_free(seed);
	replay_free(idx);
}
END_TEST

START_TEST(seed_is_learned_once)
{
	struct replay_index	*idx = seed_story();
	struct profile_seed	*seed = profile_seed_new(idx);
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	const struct snapshot	*first;

	first = profile_seed_snapshot(seed, rules, store, "acc1", "p1");
	ck_assert_ptr_nonnull(first);
	/* Asked again, the store answers: the same snapshot, not a new one. */
	ck_assert_ptr_eq(profile_seed_snapshot(seed, rules, store, "acc1",
	    "p1"), first);
	ck_assert_uint_eq(snapshot_store_count(store), 1);
	snapshot_store_free(store);
	rules_free(rules);
	profile_seed_free(seed);
	replay_free(idx);
}
END_TEST

START_TEST(seed_gives_way_to_what_this_run_learned)
{
	struct replay_index	*idx = seed_story();
	struct profile_seed	*seed = profile_seed_new(idx);
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	struct profile_ref	 ref;

	ck_assert_int_eq(profile_ref_parse("/v1/acc1/profiles/p1?fields="
	    "actions.*", &ref), 0);
	ck_assert_int_eq(profile_learn(rules, store, PROFILE_KEY_REPLAY, &ref,
	    NEW_GET,
	    strlen(NEW_GET)), 1);
	ck_assert_str_eq(snapshot_fields(profile_seed_snapshot(seed, rules,
	    store, "acc1", "p1")), "actions.*");
	profile_ref_free(&ref);
	snapshot_store_free(store);
	rules_free(rules);
	profile_seed_free(seed);
	replay_free(idx);
}
END_TEST

START_TEST(seed_knows_nothing_of_other_profiles)
{
	struct replay_index	*idx = seed_story();
	struct profile_seed	*seed = profile_seed_new(idx);
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);

	ck_assert_ptr_null(profile_seed_snapshot(seed, rules, store, "acc2",
	    "p1"));
	ck_assert_ptr_null(profile_seed_snapshot(seed, rules, store, NULL,
	    "p1"));
	ck_assert_ptr_null(profile_seed_snapshot(seed, rules, store, "acc1",
	    "p2"));
	ck_assert_ptr_null(profile_seed_snapshot(seed, rules, store, "acc",
	    "1p1"));
	ck_assert_uint_eq(snapshot_store_count(store), 0);
	snapshot_store_free(store);
	rules_free(rules);
	profile_seed_free(seed);
	replay_free(idx);
}
END_TEST

START_TEST(seed_of_a_cassette_without_profile_answers_is_empty)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct profile_seed	*seed;
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);

	seed = profile_seed_new(idx);
	ck_assert_uint_eq(profile_seed_count(seed), 0);
	ck_assert_ptr_null(profile_seed_snapshot(seed, rules, store, "acc1",
	    "p1"));
	profile_seed_free(seed);
	add(idx, "PATCH", ORIGIN "/v1/acc1/profiles/p1", 400,
	    "application/json", "{\"errors\": []}");
	add(idx, "GET", ORIGIN "/v1/acc1/profiles/p1", 200,
	    "application/json", NULL);
	seed = profile_seed_new(idx);
	ck_assert_uint_eq(profile_seed_count(seed), 0);
	ck_assert_ptr_null(profile_seed_snapshot(seed, rules, store, "acc1",
	    "p1"));
	profile_seed_free(seed);
	profile_seed_free(NULL);
	snapshot_store_free(store);
	rules_free(rules);
	replay_free(idx);
}
END_TEST

START_TEST(seed_whose_first_answer_has_no_actions_knows_no_snapshot)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct profile_seed	*seed;
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);

	/* The first answer is the profile's settings; a later GET is not
	 * looked at (as the proxy has always done). */
	add(idx, "PATCH", ORIGIN "/v1/acc1/profiles/p1", 200,
	    "application/json", PATCH_ANSWER);
	add(idx, "GET", ORIGIN "/v1/acc1/profiles/p1", 200,
	    "application/json", SEED_GET);
	seed = profile_seed_new(idx);
	ck_assert_uint_eq(profile_seed_count(seed), 1);
	ck_assert_ptr_null(profile_seed_snapshot(seed, rules, store, "acc1",
	    "p1"));
	ck_assert_uint_eq(snapshot_store_count(store), 0);
	profile_seed_free(seed);
	snapshot_store_free(store);
	rules_free(rules);
	replay_free(idx);
}
END_TEST

START_TEST(check_finds_what_the_live_proxy_recorded)
{
	struct replay_index	*idx = seed_story();
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	const struct exchange	*get = replay_entry(idx, 0);
	const struct exchange	*patch = replay_entry(idx, 1);
	struct profile_ref	 ref;
	char			*got, *want;

	/* The GET was learned live under its origin's key. */
	ck_assert_int_eq(profile_answer_ref(get, 0, &ref), 0);
	ck_assert_int_eq(profile_learn(rules, store, "127.0.0.1:41581", &ref,
	    get->resp_body.data, get->resp_body.len), 1);
	profile_ref_free(&ref);
	got = check_codes(rules, store, NULL, "127.0.0.1:41581", patch->url,
	    patch->req_body.data, patch->req_body.len);
	want = recorded_codes(patch);
	ck_assert_str_eq(got, want);
	ck_assert_ptr_nonnull(strstr(got, "actions.partial"));
	ck_assert_ptr_nonnull(strstr(got, "actions.fields-projection"));
	free(got);
	/* Under another origin nothing is known: no data-loss warnings. */
	got = check_codes(rules, store, NULL, "127.0.0.1:1", patch->url,
	    patch->req_body.data, patch->req_body.len);
	ck_assert_ptr_null(strstr(got, "actions.partial"));
	ck_assert_ptr_nonnull(strstr(got, "action.anchor.unknown"));
	free(got);
	free(want);
	snapshot_store_free(store);
	rules_free(rules);
	replay_free(idx);
}
END_TEST

START_TEST(check_in_replay_falls_back_to_the_seed)
{
	struct replay_index	*idx = seed_story();
	struct profile_seed	*seed = profile_seed_new(idx);
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	const struct exchange	*patch = replay_entry(idx, 1);
	char			*got, *want;

	got = check_codes(rules, store, seed, PROFILE_KEY_REPLAY, patch->url,
	    patch->req_body.data, patch->req_body.len);
	want = recorded_codes(patch);
	ck_assert_str_eq(got, want);
	/* The seed is now known to the store. */
	ck_assert_ptr_nonnull(snapshot_store_get(store, PROFILE_KEY_REPLAY,
	    "acc1", "p1"));
	free(got);
	free(want);
	snapshot_store_free(store);
	rules_free(rules);
	profile_seed_free(seed);
	replay_free(idx);
}
END_TEST

START_TEST(check_without_a_seed_knows_only_the_store)
{
	struct replay_index	*idx = seed_story();
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	char			*got;

	got = check_codes(rules, store, NULL, PROFILE_KEY_REPLAY,
	    ORIGIN "/v1/acc1/profiles/p1", BAD_PATCH, strlen(BAD_PATCH));
	ck_assert_str_eq(got, "action.anchor.unknown");
	free(got);
	ck_assert_uint_eq(snapshot_store_count(store), 0);
	snapshot_store_free(store);
	rules_free(rules);
	replay_free(idx);
}
END_TEST

START_TEST(check_of_a_body_that_is_not_json_is_json_syntax)
{
	struct rules		*rules = rules_builtin();
	struct snapshot_store	*store = snapshot_store_new(16);
	char			*got;

	got = check_codes(rules, store, NULL, "h:1",
	    ORIGIN "/v1/acc1/profiles/p1", "{\"actions\": [", 13);
	ck_assert_str_eq(got, "json.syntax");
	free(got);
	got = check_codes(rules, store, NULL, "h:1",
	    ORIGIN "/v1/acc1/profiles/p1", NULL, 0);
	ck_assert_str_eq(got, "json.syntax");
	free(got);
	/* The "fields" of the PATCH's own URL is diagnosed too. */
	got = check_codes(rules, store, NULL, "h:1",
	    ORIGIN "/v1/acc1/profiles/p1?fields=actions", "{}", 2);
	ck_assert_str_eq(got, "query.fields.ignored");
	free(got);
	snapshot_store_free(store);
	rules_free(rules);
}
END_TEST

/* Read a cassette as `show` does: check each PATCH, then learn. */
struct show_run {
	struct rules		*rules;
	struct snapshot_store	*store;
	size_t			 patches;
};

static int
show_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct show_run		*run = arg;
	struct profile_ref	 ref;
	char			*got, *want;

	(void)cause;
	if (strcmp(x->method, "PATCH") == 0 && x->req_body.data != NULL) {
		ck_assert_int_eq(profile_ref_from_url(x->url, &ref), 0);
		profile_ref_free(&ref);
		got = check_codes(run->rules, run->store, NULL,
		    PROFILE_KEY_SHOW, x->url, x->req_body.data,
		    x->req_body.len);
		want = recorded_codes(x);
		ck_assert_msg(strcmp(got, want) == 0, "entry %zu: %s, "
		    "recorded %s", index, got, want);
		free(got);
		free(want);
		run->patches++;
	}
	profile_learn_answer(run->rules, run->store, PROFILE_KEY_SHOW, x,
	    PROFILE_ANY_TYPE);
	exchange_free(x);
	return 0;
}

START_TEST(show_reading_in_order_finds_what_was_recorded)
{
	struct show_run	 run;
	struct buf	 text = { NULL, 0, 0 };
	char		*path, *cause = NULL, chunk[4096];
	size_t		 n;
	FILE		*f;

	run.rules = rules_builtin();
	run.store = snapshot_store_new(1024);
	run.patches = 0;
	path = xasprintf("%s/cassettes/seed-story.har", srcdir());
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&text, chunk, n);
	fclose(f);
	ck_assert_int_eq(cassette_parse(text.data, text.len, show_entry_cb,
	    &run, NULL, &cause), 0);
	/* Entry 1 against entry 0's GET; entry 3 against entry 2's. */
	ck_assert_uint_eq(run.patches, 2);
	ck_assert_str_eq(snapshot_fields(snapshot_store_get(run.store,
	    PROFILE_KEY_SHOW, "acc1", "p1")), "actions.*");
	buf_free(&text);
	free(path);
	snapshot_store_free(run.store);
	rules_free(run.rules);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("profile");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, ref_parse_names_account_profile_and_fields);
	tcase_add_test(tc, ref_parse_refuses_targets_that_name_no_profile);
	tcase_add_test(tc, ref_from_url_needs_an_absolute_profile_url);
	tcase_add_test(tc, key_names_the_origin_host_and_port);
	tcase_add_test(tc, key_in_replay_is_one_for_every_host);
	tcase_add_test(tc, learn_keeps_the_snapshot_and_teaches_the_rules);
	tcase_add_test(tc, learn_reads_len_bytes_only);
	tcase_add_test(tc, learn_without_account_keeps_it_under_the_empty_one);
	tcase_add_test(tc, learn_replaces_what_an_older_answer_showed);
	tcase_add_test(tc, learn_ignores_a_body_that_is_not_a_json_object);
	tcase_add_test(tc,
	    learn_from_an_answer_without_actions_keeps_no_snapshot);
	tcase_add_test(tc, answer_hash_is_fnv1a_of_url_then_body);
	tcase_add_test(tc, answer_hash_tells_a_repeated_poll_from_a_change);
	tcase_add_test(tc, answer_ref_takes_a_json_profile_answer);
	tcase_add_test(tc, answer_ref_refuses_a_status_other_than_2xx);
	tcase_add_test(tc, answer_ref_refuses_methods_but_get_and_patch);
	tcase_add_test(tc, answer_ref_needs_a_json_type_unless_any_type);
	tcase_add_test(tc, answer_ref_refuses_a_truncated_or_missing_body);
	tcase_add_test(tc, answer_ref_refuses_a_url_that_names_no_profile);
	tcase_add_test(tc, learn_answer_learns_what_answer_ref_takes);
	tcase_add_test(tc, seed_of_the_story_is_its_first_get);
	tcase_add_test(tc, seed_picks_the_first_answer_of_each_profile);
	tcase_add_test(tc, seed_is_learned_once);
	tcase_add_test(tc, seed_gives_way_to_what_this_run_learned);
	tcase_add_test(tc, seed_knows_nothing_of_other_profiles);
	tcase_add_test(tc, seed_of_a_cassette_without_profile_answers_is_empty);
	tcase_add_test(tc,
	    seed_whose_first_answer_has_no_actions_knows_no_snapshot);
	tcase_add_test(tc, check_finds_what_the_live_proxy_recorded);
	tcase_add_test(tc, check_in_replay_falls_back_to_the_seed);
	tcase_add_test(tc, check_without_a_seed_knows_only_the_store);
	tcase_add_test(tc, check_of_a_body_that_is_not_json_is_json_syntax);
	tcase_add_test(tc, show_reading_in_order_finds_what_was_recorded);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
