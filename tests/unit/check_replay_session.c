/*
 * Unit tests for replay's sessions (--session-header): each session's own
 * place in each sequence, the shared default session, values that count
 * as none, forgetting the least recently used past the limit (and the
 * table staying whole through many forgettings), unused entries and
 * misses with sessions, and the record modes of replay_record (--record
 * and --fallback resolved, header names checked).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exchange.h"
#include "http.h"
#include "replay.h"
#include "replay_record.h"
#include "xmalloc.h"
#include "unit.h"

#define URL	"https://api.example.com/v1/acc/profiles/p1"

/* Add a recorded GET of url whose answer's body is body. */
static size_t
add(struct replay_index *idx, const char *url, const char *body)
{
	struct exchange	x;
	size_t		e;

	exchange_init(&x);
	x.status = 200;
	x.method = xstrdup("GET");
	x.url = xstrdup(url);
	exchange_body_set(&x.resp_body, body, strlen(body));
	e = replay_add(idx, &x);
	exchange_free(&x);
	return e;
}

/*
 * Match GET url with header name: value (none when value is NULL);
 * return the entry, or -1 on a miss. hit may be NULL.
 */
static long
get_as(struct replay_index *idx, const char *url, const char *name,
    const char *value, struct replay_hit *hit)
{
	struct replay_hit	h;
	struct exchange		x;
	long			rc;

	if (hit == NULL)
		hit = &h;
	exchange_init(&x);
	x.method = xstrdup("GET");
	x.url = xstrdup(url);
	if (value != NULL)
		http_headers_add(&x.req_headers, name, strlen(name), value,
		    strlen(value));
	rc = replay_match(idx, &x, 0, hit) == 0 ? (long)hit->entry : -1;
	exchange_free(&x);
	return rc;
}

static long
get_s(struct replay_index *idx, const char *value)
{
	return get_as(idx, URL, "X-Test-Session", value, NULL);
}

/* Three recorded answers to the same GET, and another GET once. */
static struct replay_index *
three(size_t max)
{
	struct replay_index	*idx = replay_new(NULL, 0);

	add(idx, URL, "{\"n\": 1}");
	add(idx, URL, "{\"n\": 2}");
	add(idx, URL, "{\"n\": 3}");
	add(idx, URL "/other", "{}");
	replay_set_session_header(idx, "X-Test-Session", max);
	return idx;
}

static void
json_check(json_t *got, const char *want)
{
	json_error_t	 err;
	json_t		*w;
	char		*a, *b;

	w = json_loads(want, 0, &err);
	ck_assert_msg(w != NULL, "bad expected JSON: %s", err.text);
	if (!json_equal(got, w)) {
		a = json_dumps(got, JSON_SORT_KEYS);
		b = json_dumps(w, JSON_SORT_KEYS);
		ck_abort_msg("got %s\nwant %s", a, b);
	}
	json_decref(w);
	json_decref(got);
}

START_TEST(each_session_gets_the_recorded_order)
{
	struct replay_index	*idx = three(REPLAY_SESSIONS_MAX);
	struct replay_hit	 hit;

	ck_assert_int_eq(get_as(idx, URL, "X-Test-Session", "w1", &hit), 0);
	ck_assert_uint_eq(hit.nth, 1);
	ck_assert_uint_eq(hit.of, 3);
	ck_assert_str_eq(hit.session, "w1");
	ck_assert_uint_eq(hit.forgotten, 0);
	ck_assert_int_eq(get_s(idx, "w2"), 0);
	ck_assert_int_eq(get_s(idx, "w1"), 1);
	ck_assert_int_eq(get_s(idx, "w2"), 1);
	ck_assert_int_eq(get_s(idx, "w2"), 2);
	ck_assert_int_eq(get_as(idx, URL, "X-Test-Session", "w1", &hit), 2);
	ck_assert_uint_eq(hit.nth, 3);
	/* After the last, the last repeats, per session. */
	ck_assert_int_eq(get_as(idx, URL, "X-Test-Session", "w1", &hit), 2);
	ck_assert_uint_eq(hit.nth, 3);
	/* Another sequence has its own place in the same session. */
	ck_assert_int_eq(get_as(idx, URL "/other", "X-Test-Session", "w1",
	    NULL), 3);
	/* The header's name is matched in any case. */
	ck_assert_int_eq(get_as(idx, URL, "x-test-session", "w3", NULL), 0);
	ck_assert_int_eq(get_as(idx, URL, "X-TEST-SESSION", "w3", NULL), 1);
	/* Values are compared byte for byte. */
	ck_assert_int_eq(get_s(idx, "W3"), 0);
	replay_free(idx);
}
END_TEST

START_TEST(requests_without_the_header_share_the_default_place)
{
	struct replay_index	*idx = three(REPLAY_SESSIONS_MAX);
	struct replay_hit	 hit;
	char			 longv[REPLAY_SESSION_VALUE_MAX + 2];

	ck_assert_int_eq(get_as(idx, URL, NULL, NULL, &hit), 0);
	ck_assert_ptr_null(hit.session);
	ck_assert_int_eq(get_s(idx, "w1"), 0);
	ck_assert_int_eq(get_s(idx, NULL), 1);
	/* An empty value and one too long are no value. */
	ck_assert_int_eq(get_s(idx, ""), 2);
	memset(longv, 'x', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	ck_assert_int_eq(get_as(idx, URL, "X-Test-Session", longv, &hit), 2);
	ck_assert_ptr_null(hit.session);
	/* One byte less is a session of its own. */
	longv[REPLAY_SESSION_VALUE_MAX] = '\0';
	ck_assert_int_eq(get_as(idx, URL, "X-Test-Session", longv, &hit), 0);
	ck_assert_ptr_nonnull(hit.session);
	/* Another header is not the session header. */
	ck_assert_int_eq(get_as(idx, URL, "X-Other", "w1", NULL), 2);
	ck_assert_int_eq(get_s(idx, "w1"), 1);
	replay_free(idx);

	/* Without a session header, the header changes nothing. */
	idx = replay_new(NULL, 0);
	add(idx, URL, "1");
	add(idx, URL, "2");
	ck_assert_int_eq(get_s(idx, "w1"), 0);
	ck_assert_int_eq(get_s(idx, "w2"), 1);
	json_check(replay_report(idx), "{\"entries\": 2, \"served\": 2, "
	    "\"unused\": [], \"misses\": []}");
	replay_free(idx);
}
END_TEST

START_TEST(the_session_header_is_matched_only_when_asked)
{
	const char		*names[] = { "X-Test-Session" };
	struct replay_index	*idx = replay_new(names, 1);
	struct exchange		 x;

	/* Recorded with the header: --match-header makes it a key. */
	exchange_init(&x);
	x.status = 200;
	x.method = xstrdup("GET");
	x.url = xstrdup(URL);
	http_headers_add(&x.req_headers, HTTP_LIT("X-Test-Session"),
	    HTTP_LIT("w1"));
	replay_add(idx, &x);
	exchange_free(&x);
	replay_set_session_header(idx, "X-Test-Session", 8);
	ck_assert_int_eq(get_s(idx, "w2"), -1);
	ck_assert_int_eq(get_s(idx, NULL), -1);
	ck_assert_int_eq(get_s(idx, "w1"), 0);
	replay_free(idx);
}
END_TEST

START_TEST(the_least_recently_used_session_is_forgotten)
{
	struct replay_index	*idx = three(3);
	struct replay_hit	 hit;
	json_t			*report;

	ck_assert_int_eq(get_s(idx, "a"), 0);
	ck_assert_int_eq(get_s(idx, "b"), 0);
	ck_assert_int_eq(get_s(idx, "c"), 0);
	ck_assert_int_eq(get_s(idx, "a"), 1);	/* a is now the latest */
	ck_assert_uint_eq(replay_sessions_forgotten(idx), 0);
	/* d makes room: b was used least recently. */
	ck_assert_int_eq(get_as(idx, URL, "X-Test-Session", "d", &hit), 0);
	ck_assert_uint_eq(hit.forgotten, 1);
	ck_assert_uint_eq(replay_sessions_forgotten(idx), 1);
	ck_assert_int_eq(get_s(idx, "a"), 2);	/* kept */
	ck_assert_int_eq(get_s(idx, "c"), 1);	/* kept */
	/* b comes back as new, and d, now the oldest, makes room. */
	ck_assert_int_eq(get_as(idx, URL, "X-Test-Session", "b", &hit), 0);
	ck_assert_uint_eq(hit.forgotten, 1);
	ck_assert_int_eq(get_s(idx, "d"), 0);	/* new again; a goes */
	ck_assert_int_eq(get_s(idx, "c"), 2);	/* kept all along */
	ck_assert_int_eq(get_s(idx, "a"), 0);	/* new again; b goes */
	ck_assert_uint_eq(replay_sessions_forgotten(idx), 4);
	/* The default session is never forgotten. */
	ck_assert_int_eq(get_s(idx, NULL), 0);
	ck_assert_int_eq(get_s(idx, NULL), 1);
	report = replay_report(idx);
	json_check(json_incref(json_object_get(report, "sessions")),
	    "{\"header\": \"X-Test-Session\", \"begun\": 7, \"kept\": 3, "
	    "\"forgotten\": 4, \"max\": 3}");
	json_decref(report);
	replay_free(idx);
}
END_TEST

START_TEST(a_flood_of_sessions_stays_bounded_and_findable)
{
	struct replay_index	*idx = three(REPLAY_SESSIONS_MAX);
	json_t			*report;
	char			 v[32];
	size_t			 i, n = 4 * REPLAY_SESSIONS_MAX + 123;

	for (i = 0; i < n; i++) {
		snprintf(v, sizeof v, "worker-%zu", i);
		ck_assert_int_eq(get_s(idx, v), 0);
	}
	ck_assert_uint_eq(replay_sessions_forgotten(idx),
	    n - REPLAY_SESSIONS_MAX);
	/* The latest ones are all still found, with their place kept. */
	for (i = n - REPLAY_SESSIONS_MAX; i < n; i++) {
		snprintf(v, sizeof v, "worker-%zu", i);
		ck_assert_msg(get_s(idx, v) == 1, "session %s lost", v);
	}
	ck_assert_uint_eq(replay_sessions_forgotten(idx),
	    n - REPLAY_SESSIONS_MAX);
	/* An old one is new again. */
	ck_assert_int_eq(get_s(idx, "worker-0"), 0);
	report = replay_report(idx);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    report, "sessions"), "kept")), REPLAY_SESSIONS_MAX);
	json_decref(report);
	replay_free(idx);
}
END_TEST

START_TEST(places_in_all_are_bounded_too)
{
	struct replay_index	*idx = replay_new(NULL, 0);
	struct replay_hit	 hit;
	char			 url[128];
	size_t			 i, n = 600;

	/* Two answers to each of 600 GETs: 600 sequences. */
	for (i = 0; i < 2 * n; i++) {
		snprintf(url, sizeof url, URL "/%zu", i % n);
		add(idx, url, "{}");
	}
	/* 4 sessions: at most 4 * 256 = 1024 places in all. */
	replay_set_session_header(idx, "X-Test-Session", 4);
	for (i = 0; i < n; i++) {
		snprintf(url, sizeof url, URL "/%zu", i);
		ck_assert_int_eq(get_as(idx, url, "X-Test-Session", "a", NULL),
		    (long)i);
	}
	ck_assert_uint_eq(replay_sessions_forgotten(idx), 0);
	/* b's places push a's out (b, in use, is never forgotten). */
	for (i = 0; i < n; i++) {
		snprintf(url, sizeof url, URL "/%zu", i);
		ck_assert_int_eq(get_as(idx, url, "X-Test-Session", "b", &hit),
		    (long)i);
		ck_assert_uint_eq(hit.forgotten, i == 1024 - n ? 1 : 0);
	}
	ck_assert_uint_eq(replay_sessions_forgotten(idx), 1);
	/* b kept its places; a starts again. */
	ck_assert_int_eq(get_as(idx, URL "/0", "X-Test-Session", "b", NULL),
	    (long)n);
	ck_assert_int_eq(get_as(idx, URL "/0", "X-Test-Session", "a", NULL),
	    0);
	replay_free(idx);
}
END_TEST

START_TEST(an_entry_is_used_when_any_session_used_it)
{
	struct replay_index	*idx = three(REPLAY_SESSIONS_MAX);

	ck_assert(replay_stale(idx));
	ck_assert_int_eq(get_s(idx, "a"), 0);
	ck_assert_int_eq(get_s(idx, "b"), 0);
	ck_assert_int_eq(get_s(idx, "b"), 1);
	ck_assert_int_eq(get_as(idx, URL "/other", NULL, NULL, NULL), 3);
	json_check(replay_report(idx), "{\"entries\": 4, \"served\": 3, "
	    "\"unused\": [{\"entry\": 2, \"method\": \"GET\", \"url\": \""
	    URL "\"}], \"misses\": [], \"sessions\": {\"header\": "
	    "\"X-Test-Session\", \"begun\": 2, \"kept\": 2, \"forgotten\": 0, "
	    "\"max\": 4096}}");
	ck_assert(replay_stale(idx));
	ck_assert_int_eq(get_s(idx, "c"), 0);
	ck_assert_int_eq(get_s(idx, "a"), 1);
	ck_assert_int_eq(get_s(idx, "a"), 2);
	ck_assert(!replay_stale(idx));
	replay_free(idx);
}
END_TEST

START_TEST(misses_name_their_session)
{
	struct replay_index	*idx = three(REPLAY_SESSIONS_MAX);
	struct exchange		 x;
	json_t			*doc, *report;
	const char		*msg;

	ck_assert_int_eq(get_as(idx, URL "/nope", "X-Test-Session", "w\"7",
	    NULL), -1);
	ck_assert_int_eq(get_as(idx, URL "/nope", NULL, NULL, NULL), -1);
	report = replay_report(idx);
	json_check(json_incref(json_object_get(report, "misses")),
	    "[{\"method\": \"GET\", \"url\": \"" URL "/nope\", \"nearest\": 0, "
	    "\"session\": \"w\\\"7\"}, {\"method\": \"GET\", \"url\": \"" URL
	    "/nope\", \"nearest\": 0, \"session\": null}]");
	json_decref(report);

	exchange_init(&x);
	x.method = xstrdup("GET");
	x.url = xstrdup(URL "/nope");
	http_headers_add(&x.req_headers, HTTP_LIT("X-Test-Session"),
	    HTTP_LIT("w\"7\x01"));
	doc = replay_miss_report(idx, &x, 0);
	exchange_free(&x);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "session")),
	    "w\"7\x01");
	msg = json_string_value(json_object_get(doc, "message"));
	ck_assert_msg(strstr(msg, "(session \"w\\x227\\x01\")") != NULL,
	    "message: %s", msg);
	json_decref(doc);

	exchange_init(&x);
	x.method = xstrdup("GET");
	x.url = xstrdup(URL "/nope");
	doc = replay_miss_report(idx, &x, 0);
	exchange_free(&x);
	ck_assert(json_is_null(json_object_get(doc, "session")));
	ck_assert_ptr_null(strstr(json_string_value(json_object_get(doc,
	    "message")), "session"));
	json_decref(doc);
	replay_free(idx);

	/* Without sessions the report has no session at all. */
	idx = replay_new(NULL, 0);
	ck_assert_int_eq(get_s(idx, "w1"), -1);
	report = replay_report(idx);
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(
	    report, "misses"), 0), "session"));
	ck_assert_ptr_null(json_object_get(report, "sessions"));
	json_decref(report);
	replay_free(idx);
}
END_TEST

/* replay_record_mode's answer for (record, fallback), or -1 refused. */
static int
mode_of(int record, int fallback, char **cause)
{
	enum replay_record	mode;

	if (replay_record_mode(record, fallback, &mode, cause) != 0)
		return -1;
	ck_assert_ptr_null(*cause);
	return (int)mode;
}

START_TEST(record_modes_and_their_old_names)
{
	char	*cause = NULL;

	ck_assert_int_eq(mode_of(-1, -1, &cause), REPLAY_RECORD_NONE);
	ck_assert_int_eq(mode_of(-1, 0, &cause), REPLAY_RECORD_NONE);
	ck_assert_int_eq(mode_of(-1, 1, &cause), REPLAY_RECORD_NEW);
	ck_assert_int_eq(mode_of(REPLAY_RECORD_NONE, -1, &cause),
	    REPLAY_RECORD_NONE);
	ck_assert_int_eq(mode_of(REPLAY_RECORD_NEW, -1, &cause),
	    REPLAY_RECORD_NEW);
	ck_assert_int_eq(mode_of(REPLAY_RECORD_ONCE, -1, &cause),
	    REPLAY_RECORD_ONCE);
	ck_assert_int_eq(mode_of(REPLAY_RECORD_ALL, -1, &cause),
	    REPLAY_RECORD_ALL);
	/* Saying the same thing twice is fine. */
	ck_assert_int_eq(mode_of(REPLAY_RECORD_NONE, 0, &cause),
	    REPLAY_RECORD_NONE);
	ck_assert_int_eq(mode_of(REPLAY_RECORD_NEW, 1, &cause),
	    REPLAY_RECORD_NEW);
	/* Contradictions name both. */
	ck_assert_int_eq(mode_of(REPLAY_RECORD_ONCE, 1, &cause), -1);
	ck_assert_str_eq(cause, "--record=once and --fallback=proxy "
	    "contradict each other (--fallback=proxy means --record=new); "
	    "give one of them");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(mode_of(REPLAY_RECORD_NEW, 0, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "--record=new and "
	    "--fallback=error"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(mode_of(REPLAY_RECORD_ALL, 0, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(mode_of(REPLAY_RECORD_NONE, 1, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(mode_of(7, -1, &cause), -1);
	free(cause);
}
END_TEST

START_TEST(session_header_names_are_tokens)
{
	char	*cause = NULL, name[300];

	ck_assert_int_eq(replay_record_header_check("X-Test-Session", &cause),
	    0);
	ck_assert_int_eq(replay_record_header_check("x_worker.id~1", &cause),
	    0);
	ck_assert_int_eq(replay_record_header_check("X Test", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "\"X Test\" is not a header "
	    "name"));
	free(cause);
	ck_assert_int_eq(replay_record_header_check("X-Test:", &cause), -1);
	free(cause);
	ck_assert_int_eq(replay_record_header_check("", &cause), -1);
	free(cause);
	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	ck_assert_int_eq(replay_record_header_check(name, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "1 to 256"));
	free(cause);
	name[256] = '\0';
	ck_assert_int_eq(replay_record_header_check(name, &cause), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("replay_session");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, each_session_gets_the_recorded_order);
	tcase_add_test(tc, requests_without_the_header_share_the_default_place);
	tcase_add_test(tc, the_session_header_is_matched_only_when_asked);
	tcase_add_test(tc, the_least_recently_used_session_is_forgotten);
	tcase_add_test(tc, a_flood_of_sessions_stays_bounded_and_findable);
	tcase_add_test(tc, places_in_all_are_bounded_too);
	tcase_add_test(tc, an_entry_is_used_when_any_session_used_it);
	tcase_add_test(tc, misses_name_their_session);
	tcase_add_test(tc, record_modes_and_their_old_names);
	tcase_add_test(tc, session_header_names_are_tokens);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
