/*
 * Unit tests for resolve: --resolve HOST:PORT=ADDR:PORT parsed (names
 * normalised, IPv6 in brackets on either side) and refused (each with the
 * reason it names), the lookup by the origin as a request writes it, the
 * log description, and the option on the command line.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "resolve.h"
#include "unit.h"
#include "xmalloc.h"

START_TEST(parse_reads_names_and_addresses)
{
	struct resolve_entry	 e;
	char			*cause = NULL;

	ck_assert_int_eq(resolve_parse("API.YouCanBook.me.:443=127.0.0.1:8443",
	    &e, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(e.host, "api.youcanbook.me");
	ck_assert_int_eq(e.port, 443);
	ck_assert_str_eq(e.addr, "127.0.0.1");
	ck_assert_int_eq(e.addr_port, 8443);
	resolve_entry_free(&e);

	ck_assert_int_eq(resolve_parse("[2001:db8::1]:80=[::1]:65535", &e,
	    &cause), 0);
	ck_assert_str_eq(e.host, "2001:db8::1");
	ck_assert_int_eq(e.port, 80);
	ck_assert_str_eq(e.addr, "::1");
	ck_assert_int_eq(e.addr_port, 65535);
	resolve_entry_free(&e);

	ck_assert_int_eq(resolve_parse("10.0.0.1:1=192.0.2.7:1", &e, &cause),
	    0);
	ck_assert_str_eq(e.host, "10.0.0.1");
	resolve_entry_free(&e);
}
END_TEST

/* Parse bad and expect exactly message. */
static void
refused(const char *bad, const char *message)
{
	struct resolve_entry	 e;
	char			*cause = NULL;

	ck_assert_msg(resolve_parse(bad, &e, &cause) == -1, "%s parsed", bad);
	ck_assert_ptr_null(e.host);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, message);
	free(cause);
}

START_TEST(parse_refuses_naming_the_reason)
{
	char	long_value[RESOLVE_SPEC_MAX + 2];

	refused("api.example.com:443", "'api.example.com:443': expected "
	    "HOST:PORT=ADDR:PORT");
	refused("api.example.com=127.0.0.1:1", "'api.example.com=127.0.0.1:1': "
	    "a port is missing (expected HOST:PORT=ADDR:PORT)");
	refused("a.com:0=127.0.0.1:1", "'a.com:0=127.0.0.1:1': a port must be "
	    "a number from 1 to 65535");
	refused("a.com:443=127.0.0.1:65536", "'a.com:443=127.0.0.1:65536': a "
	    "port must be a number from 1 to 65535");
	refused("a.com:+44=127.0.0.1:1", "'a.com:+44=127.0.0.1:1': a port must "
	    "be a number from 1 to 65535");
	refused("a.com:443=localhost:8443", "'a.com:443=localhost:8443': ADDR "
	    "must be a numeric IPv4 address or [IPv6] address, not a name");
	refused("a.com:443=::1:8443", "'a.com:443=::1:8443': an IPv6 address "
	    "must be in brackets ([::1]:PORT)");
	refused("a.com:443=[::1:8443", "'a.com:443=[::1:8443': an IPv6 "
	    "address has no closing ']'");
	refused("a.com:443=[::1]8443", "'a.com:443=[::1]8443': expected "
	    "':PORT' after ']'");
	refused("a.com:443=[10.0.0.1]:1", "'a.com:443=[10.0.0.1]:1': ADDR in "
	    "brackets is not an IPv6 address");
	refused("[a.com]:443=127.0.0.1:1", "'[a.com]:443=127.0.0.1:1': HOST in "
	    "brackets is not an IPv6 address");
	refused("a..com:443=127.0.0.1:1", "'a..com:443=127.0.0.1:1': the host "
	    "name has an empty label");
	refused("a b.com:443=127.0.0.1:1", "'a b.com:443=127.0.0.1:1': the "
	    "host name may hold only letters, digits, '-', '_' and '.'");
	refused(":443=127.0.0.1:1", "':443=127.0.0.1:1': a host or address "
	    "is missing before ':PORT'");
	refused("a\033.com:443=127.0.0.1:1", "'a?.com:443=127.0.0.1:1': the "
	    "host name may hold only letters, digits, '-', '_' and '.'");
	memset(long_value, 'a', sizeof long_value - 1);
	long_value[sizeof long_value - 1] = '\0';
	refused(long_value, "a --resolve value is longer than 600 bytes");
}
END_TEST

START_TEST(find_matches_the_origin_as_asked)
{
	struct resolve_entry	 v[2];
	char			*cause = NULL, line[128];

	ck_assert_int_eq(resolve_parse("api.example.com:443=127.0.0.1:8443",
	    &v[0], &cause), 0);
	ck_assert_int_eq(resolve_parse("[::1]:80=[::1]:8080", &v[1], &cause),
	    0);
	ck_assert_ptr_eq(resolve_find(v, 2, "API.example.COM", 443), &v[0]);
	ck_assert_ptr_eq(resolve_find(v, 2, "api.example.com.", 443), &v[0]);
	ck_assert_ptr_null(resolve_find(v, 2, "api.example.com", 80));
	ck_assert_ptr_null(resolve_find(v, 2, "x.api.example.com", 443));
	ck_assert_ptr_null(resolve_find(v, 2, "api.example.co", 443));
	ck_assert_ptr_eq(resolve_find(v, 2, "[::1]", 80), &v[1]);
	ck_assert_ptr_eq(resolve_find(v, 2, "::1", 80), &v[1]);
	ck_assert_ptr_null(resolve_find(v, 2, NULL, 80));
	ck_assert_ptr_null(resolve_find(v, 0, "api.example.com", 443));
	resolve_describe(&v[0], line, sizeof line);
	ck_assert_str_eq(line, "api.example.com:443 -> 127.0.0.1:8443");
	resolve_describe(&v[1], line, sizeof line);
	ck_assert_str_eq(line, "[::1]:80 -> [::1]:8080");
	resolve_entry_free(&v[0]);
	resolve_entry_free(&v[1]);
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

START_TEST(options_take_resolve_where_it_applies)
{
	static const char *const good[] = { "drift", "-c", "x.har",
	    "--resolve", "a.test:443=127.0.0.1:1", "--resolve",
	    "b.test:80=[::1]:2", NULL };
	static const char *const bad[] = { "record", "-c", "x.har",
	    "--resolve", "a.test:443=a.test:1", NULL };
	static const char *const notenv[] = { "env", "--resolve",
	    "a.test:443=127.0.0.1:1", NULL };
	struct options	 o;
	char		*cause = NULL;

	ck_assert_int_eq(parse_args(&o, OPTIONS_DRIFT, good, &cause), 0);
	ck_assert_uint_eq(o.n_resolve, 2);
	ck_assert_str_eq(o.resolve[0], "a.test:443=127.0.0.1:1");
	ck_assert_str_eq(o.resolve[1], "b.test:80=[::1]:2");
	ck_assert_int_eq(o.listen_given, 0);
	options_free(&o);

	ck_assert_int_eq(parse_args(&o, OPTIONS_RECORD, bad, &cause), -1);
	ck_assert_str_eq(cause, "--resolve: 'a.test:443=a.test:1': ADDR must "
	    "be a numeric IPv4 address or [IPv6] address, not a name");
	free(cause);
	options_free(&o);

	ck_assert_int_eq(parse_args(&o, OPTIONS_ENV, notenv, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	options_free(&o);
}
END_TEST

static Suite *
resolve_suite(void)
{
	Suite	*s = suite_create("resolve");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, parse_reads_names_and_addresses);
	tcase_add_test(tc, parse_refuses_naming_the_reason);
	tcase_add_test(tc, find_matches_the_origin_as_asked);
	tcase_add_test(tc, options_take_resolve_where_it_applies);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(resolve_suite());
}
