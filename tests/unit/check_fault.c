/*
 * Unit tests for fault: --fault specs parsed (every field, the canonical
 * KIND[:ARG]) and refused (each with the column it names), path globs,
 * which request a set picks (method, glob, the first matching spec
 * deciding, times, every, rate reproducible from a seed), the status
 * answer's body in the API's error shape; --fault and --seed on the
 * command line; an exchange's fault through its copies.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "buf.h"
#include "exchange.h"
#include "fault.h"
#include "options.h"
#include "unit.h"
#include "xmalloc.h"

START_TEST(parse_reads_every_part)
{
	struct fault_spec	 f;
	char			*cause = NULL;

	ck_assert_int_eq(fault_spec_parse("PATCH /v1/*/profiles/*="
	    "status:503:retry-after=2,times=3", &f, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(f.text, "PATCH /v1/*/profiles/*=status:503:"
	    "retry-after=2,times=3");
	ck_assert_str_eq(f.method, "PATCH");
	ck_assert_str_eq(f.glob, "/v1/*/profiles/*");
	ck_assert_int_eq(f.kind, FAULT_STATUS);
	ck_assert_int_eq(f.status, 503);
	ck_assert_int_eq(f.retry_after, 2);
	ck_assert_str_eq(f.canon, "status:503:retry-after=2");
	ck_assert_int_eq(f.select, FAULT_TIMES);
	ck_assert_uint_eq(f.n, 3);
	fault_spec_free(&f);

	ck_assert_int_eq(fault_spec_parse("*=latency:200", &f, &cause), 0);
	ck_assert_ptr_null(f.method);
	ck_assert_str_eq(f.glob, "*");
	ck_assert_int_eq(f.kind, FAULT_LATENCY);
	ck_assert_uint_eq(f.ms, 200);
	ck_assert_str_eq(f.canon, "latency:200");
	ck_assert_int_eq(f.select, FAULT_ALL);
	fault_spec_free(&f);

	ck_assert_int_eq(fault_spec_parse("/x=status:429", &f, &cause), 0);
	ck_assert_int_eq(f.retry_after, -1);
	ck_assert_str_eq(f.canon, "status:429");
	fault_spec_free(&f);

	ck_assert_int_eq(fault_spec_parse("GET /a?b=drop-response,every=2",
	    &f, &cause), 0);
	ck_assert_str_eq(f.glob, "/a?b");
	ck_assert_int_eq(f.kind, FAULT_DROP_RESPONSE);
	ck_assert_str_eq(f.canon, "drop-response");
	ck_assert_int_eq(f.select, FAULT_EVERY);
	ck_assert_uint_eq(f.n, 2);
	fault_spec_free(&f);

	ck_assert_int_eq(fault_spec_parse("*=reset,rate=0.25", &f, &cause), 0);
	ck_assert_int_eq(f.kind, FAULT_RESET);
	ck_assert_int_eq(f.select, FAULT_RATE);
	ck_assert(f.rate == 0.25);
	fault_spec_free(&f);

	ck_assert_int_eq(fault_spec_parse("*=truncate,rate=1", &f, &cause), 0);
	ck_assert_int_eq(f.kind, FAULT_TRUNCATE);
	ck_assert(f.rate == 1.0);
	fault_spec_free(&f);

	ck_assert_int_eq(fault_spec_parse("*=hang,rate=0", &f, &cause), 0);
	ck_assert_int_eq(f.kind, FAULT_HANG);
	ck_assert(f.rate == 0.0);
	fault_spec_free(&f);

	ck_assert_int_eq(fault_spec_parse("*=status:200:retry-after=0", &f,
	    &cause), 0);
	ck_assert_str_eq(f.canon, "status:200:retry-after=0");
	fault_spec_free(&f);
	/* Canonical: leading zeros go. */
	ck_assert_int_eq(fault_spec_parse("*=latency:0050", &f, &cause), 0);
	ck_assert_str_eq(f.canon, "latency:50");
	fault_spec_free(&f);
}
END_TEST

START_TEST(parse_refuses_bad_specs_naming_the_column)
{
	static const struct {
		const char	*spec;
		const char	*cause;
	} bad[] = {
		{ "PATCH /x=stat:503", "unknown kind \"stat\" at column 10 "
		    "(known: latency, status, reset, truncate, hang, "
		    "drop-response)" },
		{ "/x", "expected MATCH=KIND, e.g. 'PATCH /v1/*=status:503' "
		    "or '*=latency:200'" },
		{ "=reset", "empty MATCH before \"=\" at column 1" },
		{ "PATCH=reset", "the path glob \"PATCH\" does not start with "
		    "/ or * at column 1" },
		{ "PATCH =reset", "no path glob after the method at column 7" },
		{ "patch /x=reset", "the method \"patch\" is not in upper case "
		    "letters at column 1" },
		{ "PATCH /x y=reset", "a space in the path glob at column 9" },
		{ "*=", "no KIND after \"=\" at column 3" },
		{ "*=latency", "latency needs an argument at column 10" },
		{ "*=latency:", "latency needs a whole number of milliseconds "
		    "from 1 to 86400000, not \"\" at column 11" },
		{ "*=latency:0", "latency needs a whole number" },
		{ "*=latency:-5", "not \"-5\" at column 11" },
		{ "*=latency:1e3", "not \"1e3\" at column 11" },
		{ "*=latency:86400001", "not \"86400001\"" },
		{ "*=latency:99999999999999999999999", "latency needs" },
		{ "*=status", "status needs an argument at column 9" },
		{ "*=status:99", "status needs a code from 100 to 599, not "
		    "\"99\" at column 10" },
		{ "*=status:600", "not \"600\" at column 10" },
		{ "*=status:5x3", "not \"5x3\"" },
		{ "*=status:101", "status 101 is an interim answer, not a "
		    "final one at column 10" },
		{ "*=status:204", "status 204 has no body" },
		{ "*=status:503:retry=1", "after status:503 only "
		    "\":retry-after=SECONDS\" may follow, not \"retry=1\" at "
		    "column 14" },
		{ "*=status:503:retry-after=x", "retry-after needs a whole "
		    "number of seconds from 0 to 86400, not \"x\" at column 26" },
		{ "*=status:503:retry-after=", "not \"\" at column 26" },
		{ "*=reset:1", "reset takes no argument, but \":1\" follows it "
		    "at column 8" },
		{ "*=drop-response:x", "drop-response takes no argument" },
		{ "*=Reset", "unknown kind \"Reset\" at column 3" },
		{ "*=reset,rate=1.5", "rate needs a probability from 0 to 1 "
		    "such as 0.25, not \"1.5\" at column 14" },
		{ "*=reset,rate=-0.1", "not \"-0.1\"" },
		{ "*=reset,rate=nan", "not \"nan\"" },
		{ "*=reset,rate=inf", "not \"inf\"" },
		{ "*=reset,rate=0x1p-1", "not \"0x1p-1\"" },
		{ "*=reset,rate=.", "not \".\"" },
		{ "*=reset,rate=0.5.1", "not \"0.5.1\"" },
		{ "*=reset,rate=", "not \"\" at column 14" },
		{ "*=reset,every=0", "every needs a whole number from 1 up, "
		    "not \"0\" at column 15" },
		{ "*=reset,times=0", "times needs a whole number from 1 up, "
		    "not \"0\" at column 15" },
		{ "*=reset,times=18446744073709551616", "times needs" },
		{ "*=reset,times", "unknown modifier \"times\" at column 9 "
		    "(known: times=N, every=N, rate=P)" },
		{ "*=reset,seed=1", "unknown modifier \"seed=1\" at column 9" },
		{ "*=reset,", "unknown modifier \"\" at column 9" },
		{ "*=reset,times=1,every=2", "a second modifier at column 16" },
		{ "/x\t=reset", "a byte that is not printable ASCII at column 3" },
		{ "/caf\xc3\xa9=reset", "not printable ASCII at column 5" },
	};
	struct fault_spec	 f;
	char			*cause, *big;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		ck_assert_msg(fault_spec_parse(bad[i].spec, &f, &cause) == -1,
		    "accepted %s", bad[i].spec);
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strstr(cause, bad[i].cause) != NULL,
		    "%s: got \"%s\", want \"%s\"", bad[i].spec, cause,
		    bad[i].cause);
		/* One line. */
		ck_assert_ptr_null(strchr(cause, '\n'));
		/* Nothing is left to free in the spec. */
		ck_assert_ptr_null(f.text);
		ck_assert_ptr_null(f.method);
		ck_assert_ptr_null(f.glob);
		ck_assert_ptr_null(f.canon);
		free(cause);
	}
	big = xmalloc(FAULT_SPEC_MAX + 8);
	memset(big, 'a', FAULT_SPEC_MAX + 7);
	big[0] = '/';
	memcpy(big + FAULT_SPEC_MAX, "=reset", 7);
	ck_assert_int_eq(fault_spec_parse(big, &f, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "longer than 1024"));
	free(cause);
	free(big);
}
END_TEST

START_TEST(glob_stars_and_questions)
{
	static const struct {
		const char	*glob;
		const char	*s;
		int		 match;
	} cases[] = {
		{ "*", "", 1 },
		{ "*", "/v1/a/profiles/p1", 1 },
		{ "/v1/*", "/v1/", 1 },
		{ "/v1/*", "/v1", 0 },
		{ "/v1/*", "/v1/a/b/c", 1 },
		{ "/v1/*/profiles/*", "/v1/acc1/profiles/p1", 1 },
		{ "/v1/*/profiles/*", "/v1/acc1/x/profiles/p1", 1 },
		{ "/v1/*/profiles/*", "/v1/acc1/profile/p1", 0 },
		{ "/v1/*/profiles/p?", "/v1/a/profiles/p1", 1 },
		{ "/v1/*/profiles/p?", "/v1/a/profiles/p", 0 },
		{ "/v1/*/profiles/p?", "/v1/a/profiles/p12", 0 },
		{ "/a*b*c", "/aXbYc", 1 },
		{ "/a*b*c", "/abcbc", 1 },
		{ "/a*b*c", "/aXbY", 0 },
		{ "/x", "/x", 1 },
		{ "/x", "/X", 0 },
		{ "/x", "/xy", 0 },
		{ "/x?", "/x", 0 },
		{ "**", "/anything", 1 },
		{ "/[a]", "/[a]", 1 },
		{ "/*/*/*/*/*/*/*/*/*/*/*/*/*/*/z",
		  "/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/y", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(fault_glob_match(cases[i].glob, cases[i].s,
		    strlen(cases[i].s)) == cases[i].match, "%s vs %s",
		    cases[i].glob, cases[i].s);
	/* Only len bytes count: the query is left out by the caller. */
	ck_assert_int_eq(fault_glob_match("/x", "/x?a=1", 2), 1);
	ck_assert_int_eq(fault_glob_match("/x*", "/x?a=1", 2), 1);
}
END_TEST

static struct fault_set *
set_of(uint64_t seed, const char *const *specs)
{
	struct fault_set	*set = xmalloc(sizeof *set);
	char			*cause;

	fault_set_init(set, seed);
	for (; *specs != NULL; specs++) {
		ck_assert_msg(fault_set_add(set, *specs, &cause) == 0, "%s: %s",
		    *specs, cause);
	}
	return set;
}

static void
set_free(struct fault_set *set)
{
	fault_set_free(set);
	free(set);
}

START_TEST(pick_by_method_and_path_first_spec_decides)
{
	static const char *const specs[] = {
		"PATCH /v1/*=status:503,times=1",
		"/v1/*=latency:10",
		"GET *=reset",
		NULL
	};
	struct fault_set	*set = set_of(1, specs);
	const struct fault_spec	*f;

	/* The first PATCH: spec 1. */
	f = fault_set_pick(set, "PATCH", "/v1/a/profiles/p1?fields=x");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->canon, "status:503");
	/* The second PATCH matches spec 1 again: it decides, no fault. */
	ck_assert_ptr_null(fault_set_pick(set, "PATCH", "/v1/a/profiles/p1"));
	ck_assert_uint_eq(set->v[0].matched, 2);
	ck_assert_uint_eq(set->v[1].matched, 0);
	/* GET of /v1/...: spec 2, not the GET spec after it. */
	f = fault_set_pick(set, "GET", "/v1/a/profiles/p1");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->canon, "latency:10");
	/* Methods match as sent: "patch" is another method. */
	f = fault_set_pick(set, "patch", "/v1/x");
	ck_assert_str_eq(f->canon, "latency:10");
	f = fault_set_pick(set, "GET", "/other?v1/x");
	ck_assert_str_eq(f->canon, "reset");
	ck_assert_ptr_null(fault_set_pick(set, "PUT", "/other"));
	/* The query is not part of the path matched. */
	ck_assert_ptr_null(fault_set_pick(set, "PUT", "/x?/v1/a"));
	set_free(set);
}
END_TEST

START_TEST(pick_times_and_every)
{
	static const char *const times[] = { "*=reset,times=3", NULL };
	static const char *const every[] = { "*=reset,every=3", NULL };
	struct fault_set	*set;
	int			 i;

	set = set_of(7, times);
	for (i = 1; i <= 10; i++)
		ck_assert_int_eq(fault_set_pick(set, "GET", "/a") != NULL,
		    i <= 3);
	set_free(set);
	set = set_of(7, every);
	for (i = 1; i <= 10; i++)
		ck_assert_int_eq(fault_set_pick(set, "GET", "/a") != NULL,
		    i % 3 == 0);
	set_free(set);
}
END_TEST

/* The picks of n requests as a string of 0 and 1. */
static void
picks(uint64_t seed, const char *spec, int n, char *out)
{
	const char *const	 specs[] = { spec, NULL };
	struct fault_set	*set = set_of(seed, specs);
	int			 i;

	for (i = 0; i < n; i++)
		out[i] = fault_set_pick(set, "GET", "/a") != NULL ? '1' : '0';
	out[n] = '\0';
	set_free(set);
}

START_TEST(pick_rate_follows_the_seed)
{
	char	a[201], b[201], c[201];
	int	i, ones = 0;

	picks(42, "*=reset,rate=0.5", 200, a);
	picks(42, "*=reset,rate=0.5", 200, b);
	picks(43, "*=reset,rate=0.5", 200, c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	for (i = 0; i < 200; i++)
		ones += a[i] == '1';
	ck_assert_int_gt(ones, 60);
	ck_assert_int_lt(ones, 140);
	picks(42, "*=reset,rate=0", 200, a);
	ck_assert_ptr_null(strchr(a, '1'));
	picks(42, "*=reset,rate=1", 200, a);
	ck_assert_ptr_null(strchr(a, '0'));
	picks(5, "*=reset,rate=0.1", 200, a);
	ones = 0;
	for (i = 0; i < 200; i++)
		ones += a[i] == '1';
	ck_assert_int_gt(ones, 5);
	ck_assert_int_lt(ones, 45);
}
END_TEST

START_TEST(pick_rate_of_a_spec_ignores_other_specs_traffic)
{
	static const char *const specs[] = {
		"/a=reset,rate=0.5", "/b=reset,rate=0.5", NULL
	};
	struct fault_set	*set = set_of(99, specs), *other;
	char			 alone[101], mixed[101];
	int			 i;

	for (i = 0; i < 100; i++)
		alone[i] = fault_set_pick(set, "GET", "/a") ? '1' : '0';
	alone[100] = '\0';
	other = set_of(99, specs);
	for (i = 0; i < 100; i++) {
		(void)fault_set_pick(other, "GET", "/b");
		mixed[i] = fault_set_pick(other, "GET", "/a") ? '1' : '0';
	}
	mixed[100] = '\0';
	ck_assert_str_eq(alone, mixed);
	set_free(set);
	set_free(other);
}
END_TEST

START_TEST(rng_is_splitmix64)
{
	uint64_t	state = 0;

	/* The reference sequence of splitmix64 from 0. */
	ck_assert_uint_eq(fault_rng_next(&state), 0xe220a8397b1dcdafULL);
	ck_assert_uint_eq(fault_rng_next(&state), 0x6e789e6aa1b965f4ULL);
	ck_assert_uint_eq(fault_rng_next(&state), 0x06c45d188009454fULL);
}
END_TEST

START_TEST(status_body_in_the_api_error_shape)
{
	static const int	 codes[] = { 503, 429, 500, 418, 200 };
	static const char	*names[] = { "SERVICE_UNAVAILABLE",
	    "TOO_MANY_REQUESTS", "INTERNAL_SERVER_ERROR", "STATUS_418", "OK" };
	struct fault_spec	 f;
	struct buf		 b = { NULL, 0, 0 };
	json_error_t		 err;
	json_t			*doc;
	char			*cause, spec[64];
	size_t			 i;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		snprintf(spec, sizeof spec, "PATCH /x=status:%d", codes[i]);
		ck_assert_int_eq(fault_spec_parse(spec, &f, &cause), 0);
		buf_reset(&b);
		fault_status_body(&f, &b);
		ck_assert_uint_gt(b.len, 0);
		ck_assert(b.data[b.len - 1] == '\n');
		doc = json_loadb(b.data, b.len, 0, &err);
		ck_assert_msg(doc != NULL, "%s", err.text);
		ck_assert_uint_eq(json_object_size(doc), 6);
		ck_assert_str_eq(json_string_value(json_object_get(doc,
		    "type")), "PatchscopeFault");
		ck_assert_str_eq(json_string_value(json_object_get(doc,
		    "code")), "patchscope_fault");
		ck_assert_str_eq(json_string_value(json_object_get(doc,
		    "status")), names[i]);
		ck_assert_int_eq(json_integer_value(json_object_get(doc,
		    "httpStatusCode")), codes[i]);
		ck_assert(json_is_array(json_object_get(doc, "errors")));
		ck_assert_uint_eq(json_array_size(json_object_get(doc,
		    "errors")), 0);
		ck_assert_ptr_nonnull(strstr(json_string_value(
		    json_object_get(doc, "message")), spec));
		json_decref(doc);
		fault_spec_free(&f);
	}
	buf_free(&b);
}
END_TEST

/* getopt wants char **; build one from literals. */
static int
parse_args(struct options *o, enum options_mode mode,
    const char *const *args, char **cause)
{
	char	*argv[16];
	int	 argc = 0, rc;

	while (args[argc] != NULL) {
		argv[argc] = xstrdup(args[argc]);
		argc++;
	}
	argv[argc] = NULL;
	options_defaults(o);
	o->mode = mode;
	rc = options_parse(o, argc, argv, cause);
	while (argc-- > 0)
		free(argv[argc]);
	return rc;
}

START_TEST(options_take_fault_and_seed)
{
	static const char *const good[] = { "replay", "-c", "x.har",
	    "--fault", "PATCH /v1/*=status:503", "--fault", "*=hang,rate=0.5",
	    "--seed", "18446744073709551615", NULL };
	static const char *const bad[] = { "proxy", "--fault",
	    "PATCH /x=stat:503", NULL };
	static const char *const seed[] = { "proxy", "--seed", "-1", NULL };
	static const char *const notshow[] = { "show", "--fault", "*=reset",
	    NULL };
	struct options	 o;
	char		*cause = NULL;

	ck_assert_int_eq(parse_args(&o, OPTIONS_REPLAY, good, &cause), 0);
	ck_assert_uint_eq(o.n_faults, 2);
	ck_assert_str_eq(o.faults[0], "PATCH /v1/*=status:503");
	ck_assert_str_eq(o.faults[1], "*=hang,rate=0.5");
	ck_assert_int_eq(o.have_seed, 1);
	ck_assert(o.seed == 18446744073709551615ULL);
	options_free(&o);

	ck_assert_int_eq(parse_args(&o, OPTIONS_PROXY, bad, &cause), -1);
	ck_assert_str_eq(cause, "--fault 'PATCH /x=stat:503': unknown kind "
	    "\"stat\" at column 10 (known: latency, status, reset, truncate, "
	    "hang, drop-response)");
	free(cause);
	options_free(&o);

	ck_assert_int_eq(parse_args(&o, OPTIONS_PROXY, seed, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "--seed: bad seed \"-1\""));
	free(cause);
	options_free(&o);

	ck_assert_int_eq(parse_args(&o, OPTIONS_SHOW, notshow, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "unknown option"));
	free(cause);
	options_free(&o);
}
END_TEST

START_TEST(exchange_copies_keep_the_fault)
{
	struct exchange	 x, y, z;
	struct arena	*a = arena_new();

	exchange_init(&x);
	exchange_init(&y);
	x.method = xstrdup("PATCH");
	x.fault = xstrdup("status:503:retry-after=2");
	exchange_copy(&y, &x);
	ck_assert_str_eq(y.fault, "status:503:retry-after=2");
	ck_assert_ptr_ne(y.fault, x.fault);
	exchange_copy_arena(&z, &x, a);
	ck_assert_str_eq(z.fault, "status:503:retry-after=2");
	ck_assert_ptr_ne(z.fault, x.fault);
	exchange_free_arena(&z);
	exchange_free(&x);
	ck_assert_ptr_null(x.fault);
	exchange_free(&y);
	arena_free(a);
}
END_TEST

static Suite *
fault_suite(void)
{
	Suite	*s = suite_create("fault");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, parse_reads_every_part);
	tcase_add_test(tc, parse_refuses_bad_specs_naming_the_column);
	tcase_add_test(tc, glob_stars_and_questions);
	tcase_add_test(tc, pick_by_method_and_path_first_spec_decides);
	tcase_add_test(tc, pick_times_and_every);
	tcase_add_test(tc, pick_rate_follows_the_seed);
	tcase_add_test(tc, pick_rate_of_a_spec_ignores_other_specs_traffic);
	tcase_add_test(tc, rng_is_splitmix64);
	tcase_add_test(tc, status_body_in_the_api_error_shape);
	tcase_add_test(tc, options_take_fault_and_seed);
	tcase_add_test(tc, exchange_copies_keep_the_fault);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(fault_suite());
}
