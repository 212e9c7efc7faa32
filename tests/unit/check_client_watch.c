/*
 * Unit tests for client_watch: a retry before its Retry-After is early, one
 * after it is not; a PATCH sent again after an ambiguous failure is unsafe
 * unless a GET of the path came between; clients and requests are kept
 * apart; the state is bounded; Retry-After values parse (seconds and
 * HTTP-dates) and bad ones are refused; findings reach the report.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client_watch.h"
#include "diagnose.h"
#include "unit.h"

#define URL	"https://api.test/v1/acc/profiles/p1"

/* An exchange of client "10.0.0.1" from start to end with status. */
static struct client_event
ev(const char *method, const char *url, double start, double end,
    int status)
{
	struct client_event	e;

	memset(&e, 0, sizeof e);
	e.client = "10.0.0.1";
	e.conn_id = 7;
	e.method = method;
	e.url = url;
	e.start = start;
	e.end = end;
	e.status = status;
	e.complete = 1;
	e.retry_after = -1;
	return e;
}

/* Feed e; return the codes it earned, space-separated ("" for none). */
static const char *
feed(struct client_watch *w, const struct client_event *e)
{
	static char		codes[256];
	struct diag_list	l;
	size_t			i;

	memset(&l, 0, sizeof l);
	client_watch_exchange(w, e, &l);
	codes[0] = '\0';
	for (i = 0; i < l.n; i++) {
		ck_assert_str_eq(l.v[i].path, "");
		ck_assert_int_eq(l.v[i].severity, DIAG_WARNING);
		ck_assert_ptr_null(strchr(l.v[i].message, '\n'));
		if (i > 0)
			strcat(codes, " ");
		strncat(codes, l.v[i].code, sizeof codes - strlen(codes) - 2);
	}
	diag_list_free(&l);
	return codes;
}

START_TEST(retry_before_retry_after_is_early)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e = ev("GET", URL, 0, 0.1, 503);
	struct diag_list	 l;

	e.retry_after = 2;
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("GET", URL, 0.6, 0.7, 200);
	memset(&l, 0, sizeof l);
	ck_assert_uint_eq(client_watch_exchange(w, &e, &l), 1);
	ck_assert_str_eq(l.v[0].code, "client.retry.early");
	/* The message says how soon and what it was told. */
	ck_assert_msg(strstr(l.v[0].message, "0.5 s after a 503") != NULL,
	    "%s", l.v[0].message);
	ck_assert_msg(strstr(l.v[0].message, "wait 2 s") != NULL, "%s",
	    l.v[0].message);
	diag_list_free(&l);
	/* The 200 settled it: the next request is judged afresh. */
	e = ev("GET", URL, 0.8, 0.9, 200);
	ck_assert_str_eq(feed(w, &e), "");
	ck_assert_uint_eq(client_watch_count(w), 1);
	client_watch_free(w);
}
END_TEST

START_TEST(retry_after_retry_after_is_fine)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e = ev("PATCH", URL, 0, 1.0, 429);

	e.retry_after = 2;
	ck_assert_str_eq(feed(w, &e), "");
	/* Exactly on time, give or take the clock's slack. */
	e = ev("PATCH", URL, 3.0 - CLIENT_WATCH_SLACK / 2, 3.1, 200);
	ck_assert_str_eq(feed(w, &e), "");
	ck_assert_uint_eq(client_watch_count(w), 0);
	client_watch_free(w);
}
END_TEST

START_TEST(only_429_and_503_with_retry_after_ask_to_wait)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e;

	/* A 503 without Retry-After asks nothing. */
	e = ev("GET", URL, 0, 0.1, 503);
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("GET", URL, 0.2, 0.3, 200);
	ck_assert_str_eq(feed(w, &e), "");
	/* A 500 with Retry-After: not a "wait" answer either. */
	e = ev("GET", URL, 1, 1.1, 500);
	e.retry_after = 5;
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("GET", URL, 1.2, 1.3, 200);
	ck_assert_str_eq(feed(w, &e), "");
	client_watch_free(w);
}
END_TEST

START_TEST(requests_and_clients_are_kept_apart)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e = ev("GET", URL, 0, 0.1, 503);

	e.retry_after = 10;
	ck_assert_str_eq(feed(w, &e), "");
	/* Another URL, another method, another client: not retries. */
	e = ev("GET", URL "?fields=actions", 0.2, 0.3, 200);
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("HEAD", URL, 0.2, 0.3, 200);
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("GET", URL, 0.2, 0.3, 200);
	e.client = "10.0.0.2";
	ck_assert_str_eq(feed(w, &e), "");
	/* A request that began before the 503 ended is not a retry of it. */
	e = ev("GET", URL, 0.05, 0.3, 200);
	ck_assert_str_eq(feed(w, &e), "");
	client_watch_free(w);
}
END_TEST

START_TEST(patch_again_after_ambiguous_failure_is_unsafe)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e = ev("PATCH", URL, 0, 0.1, 0);
	struct diag_list	 l;

	e.complete = 0;
	e.lost = "the connection was reset";
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("PATCH", URL, 0.5, 0.6, 200);
	memset(&l, 0, sizeof l);
	ck_assert_uint_eq(client_watch_exchange(w, &e, &l), 1);
	ck_assert_str_eq(l.v[0].code, "client.retry.unsafe");
	ck_assert_msg(strstr(l.v[0].message, "connection was reset") != NULL,
	    "%s", l.v[0].message);
	diag_list_free(&l);
	/* That PATCH got a clear answer: the doubt is over. */
	e = ev("PATCH", URL, 1, 1.1, 200);
	ck_assert_str_eq(feed(w, &e), "");
	client_watch_free(w);
}
END_TEST

START_TEST(a_get_between_makes_the_retry_safe)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e = ev("PATCH", URL, 0, 0.1, 502);

	ck_assert_str_eq(feed(w, &e), "");
	/* The GET may carry a query: it is a look at the same profile. */
	e = ev("GET", URL "?fields=actions", 0.2, 0.3, 200);
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("PATCH", URL, 0.5, 0.6, 200);
	ck_assert_str_eq(feed(w, &e), "");
	/* A GET that itself failed tells the client nothing. */
	e = ev("PATCH", URL, 1, 1.1, 504);
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("GET", URL, 1.2, 1.3, 0);
	e.complete = 0;
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("PATCH", URL, 1.5, 1.6, 200);
	ck_assert_str_eq(feed(w, &e), "client.retry.unsafe");
	client_watch_free(w);
}
END_TEST

START_TEST(clear_failures_leave_no_doubt)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e;
	static const int	 clear[] = { 200, 204, 400, 404, 409, 422,
				    429, 503 };
	size_t			 i;

	for (i = 0; i < sizeof clear / sizeof clear[0]; i++) {
		e = ev("PATCH", URL, (double)i, (double)i + 0.1, clear[i]);
		ck_assert_str_eq(feed(w, &e), "");
	}
	/* A POST is not judged as a PATCH retry. */
	e = ev("POST", URL, 20, 20.1, 0);
	e.complete = 0;
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("POST", URL, 21, 21.1, 201);
	ck_assert_str_eq(feed(w, &e), "");
	client_watch_free(w);
}
END_TEST

START_TEST(both_at_once_and_in_the_report)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e = ev("PATCH", URL, 0, 0.1, 503);
	json_t			*r, *f;

	/* A 503 that asks to wait is clear, but a 500 before it left doubt. */
	e.status = 500;
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("PATCH", URL, 0.2, 0.3, 503);
	e.retry_after = 30;
	ck_assert_str_eq(feed(w, &e), "client.retry.unsafe");
	e = ev("PATCH", URL, 0.4, 0.5, 0);
	e.complete = 0;
	e.lost = "no answer came";
	ck_assert_str_eq(feed(w, &e), "client.retry.early");
	e = ev("PATCH", URL, 40, 40.1, 200);
	ck_assert_str_eq(feed(w, &e), "client.retry.unsafe");
	r = client_watch_report(w);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), 3);
	f = json_array_get(json_object_get(r, "findings"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(f, "code")),
	    "client.retry.early");
	ck_assert_str_eq(json_string_value(json_object_get(f, "client")),
	    "10.0.0.1");
	ck_assert_int_eq(json_integer_value(json_object_get(f, "connection")),
	    7);
	ck_assert_str_eq(json_string_value(json_object_get(f, "url")), URL);
	ck_assert_str_eq(json_string_value(json_object_get(f, "severity")),
	    "warning");
	json_decref(r);
	client_watch_free(w);
}
END_TEST

START_TEST(state_and_findings_are_bounded)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e;
	char			 url[96];
	size_t			 i;
	json_t			*r;

	/* More doubtful PATCHes than are remembered: the first is forgotten. */
	for (i = 0; i <= CLIENT_WATCH_MAX_PENDING; i++) {
		snprintf(url, sizeof url, URL "%zu", i);
		e = ev("PATCH", url, (double)i, (double)i, 502);
		ck_assert_str_eq(feed(w, &e), "");
	}
	e = ev("PATCH", URL "0", 5000, 5000, 200);
	ck_assert_str_eq(feed(w, &e), "");
	snprintf(url, sizeof url, URL "%d", CLIENT_WATCH_MAX_PENDING);
	e = ev("PATCH", url, 5001, 5001, 502);
	ck_assert_str_eq(feed(w, &e), "client.retry.unsafe");
	/* Findings past the limit are counted, not kept. */
	for (i = 0; i < CLIENT_WATCH_MAX_FINDINGS + 5; i++) {
		e = ev("PATCH", url, 6000 + (double)i, 6000 + (double)i, 502);
		feed(w, &e);
	}
	r = client_watch_report(w);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "total")),
	    CLIENT_WATCH_MAX_FINDINGS + 6);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "findings")),
	    CLIENT_WATCH_MAX_FINDINGS);
	json_decref(r);
	client_watch_free(w);
}
END_TEST

START_TEST(retry_after_values_parse)
{
	/* 2026-12-02 10:00:00 UTC */
	time_t	now = 1796205600;

	ck_assert_double_eq(client_watch_retry_after("2", now), 2);
	ck_assert_double_eq(client_watch_retry_after(" 120 ", now), 120);
	ck_assert_double_eq(client_watch_retry_after("0", now), 0);
	ck_assert_double_eq(client_watch_retry_after(
	    "Wed, 02 Dec 2026 10:00:30 GMT", now), 30);
	/* A date in the past asks for no wait. */
	ck_assert_double_eq(client_watch_retry_after(
	    "Wed, 02 Dec 2026 09:00:00 GMT", now), 0);
	ck_assert_double_eq(client_watch_retry_after(
	    "Thu, 01 Jan 1970 00:00:00 GMT", now), 0);
	/* Huge delays are capped, not overflowed. */
	ck_assert(client_watch_retry_after("99999999999999999999", now) > 0);
	/* Not a Retry-After. */
	ck_assert_double_eq(client_watch_retry_after(NULL, now), -1);
	ck_assert_double_eq(client_watch_retry_after("", now), -1);
	ck_assert_double_eq(client_watch_retry_after("-1", now), -1);
	ck_assert_double_eq(client_watch_retry_after("1.5", now), -1);
	ck_assert_double_eq(client_watch_retry_after("2 s", now), -1);
	ck_assert_double_eq(client_watch_retry_after("soon", now), -1);
	ck_assert_double_eq(client_watch_retry_after(
	    "Wed, 02 Foo 2026 10:00:30 GMT", now), -1);
	ck_assert_double_eq(client_watch_retry_after(
	    "Wed, 32 Dec 2026 10:00:30 GMT", now), -1);
	ck_assert_double_eq(client_watch_retry_after(
	    "Wed, 02 Dec 2026 10:00:30 UTC", now), -1);
	ck_assert_double_eq(client_watch_retry_after(
	    "Wed, 02 Dec 2026 10:00:30 GMT trailing", now), -1);
	ck_assert_double_eq(client_watch_retry_after(
	    "Wed, 02 ec 2026 10:00:30 GMT", now), -1);
}
END_TEST

START_TEST(events_without_a_request_are_ignored)
{
	struct client_watch	*w = client_watch_new();
	struct client_event	 e = ev(NULL, URL, 0, 0, 0);

	ck_assert_str_eq(feed(w, &e), "");
	e = ev("PATCH", NULL, 0, 0, 0);
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("PATCH", URL, 0, 0, 502);
	e.client = NULL;
	ck_assert_str_eq(feed(w, &e), "");
	e = ev("PATCH", URL, 1, 1, 200);
	e.client = NULL;
	ck_assert_str_eq(feed(w, &e), "client.retry.unsafe");
	client_watch_free(w);
	client_watch_free(NULL);
}
END_TEST

START_TEST(diag_list_add_knows_its_codes)
{
	struct diag_list	l;

	memset(&l, 0, sizeof l);
	ck_assert_int_eq(diag_list_add(&l, "no.such.code", "", NULL, "x"), -1);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_int_eq(diag_list_add(&l, "client.retry.unsafe", "", "s",
	    "two\nlines %d", 2), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.v[0].severity, DIAG_WARNING);
	ck_assert_ptr_null(strchr(l.v[0].message, '\n'));
	ck_assert_str_eq(l.v[0].suggestion, "s");
	diag_list_free(&l);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("client_watch");
	TCase	*tc = tcase_create("client_watch");

	tcase_add_test(tc, retry_before_retry_after_is_early);
	tcase_add_test(tc, retry_after_retry_after_is_fine);
	tcase_add_test(tc, only_429_and_503_with_retry_after_ask_to_wait);
	tcase_add_test(tc, requests_and_clients_are_kept_apart);
	tcase_add_test(tc, patch_again_after_ambiguous_failure_is_unsafe);
	tcase_add_test(tc, a_get_between_makes_the_retry_safe);
	tcase_add_test(tc, clear_failures_leave_no_doubt);
	tcase_add_test(tc, both_at_once_and_in_the_report);
	tcase_add_test(tc, state_and_findings_are_bounded);
	tcase_add_test(tc, retry_after_values_parse);
	tcase_add_test(tc, events_without_a_request_are_ignored);
	tcase_add_test(tc, diag_list_add_knows_its_codes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
