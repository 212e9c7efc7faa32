/* Unit tests for options: listen addresses, durations, sizes, limits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "unit.h"

/* getopt wants char **; build one from literals (freed by argv_free). */
static char **
argv_dup(const char *const *src)
{
	char	**v;
	int	  n = 0, i;

	while (src[n] != NULL)
		n++;
	v = calloc((size_t)n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = strdup(src[i]);
	return v;
}

static void
argv_free(char **v)
{
	int	i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

START_TEST(defaults_match_the_design)
{
	struct options	o;

	options_defaults(&o);
	ck_assert_str_eq(o.listen_host, "127.0.0.1");
	ck_assert_int_eq(o.listen_port, 8080);
	ck_assert_uint_eq(o.connect_timeout_ms, 10000);
	ck_assert_uint_eq(o.response_timeout_ms, 60000);
	ck_assert_uint_eq(o.idle_timeout_ms, 60000);
	ck_assert_uint_eq(o.header_timeout_ms, 10000);
	ck_assert_uint_eq(o.max_header_bytes, 65536);
	ck_assert_uint_eq(o.max_body_buffer, 16u * 1024 * 1024);
	ck_assert_uint_eq(o.max_connections, 1024);
	options_free(&o);
}
END_TEST

START_TEST(listen_forms)
{
	char	*host, *cause = NULL;
	int	 port;

	ck_assert_int_eq(options_parse_listen("127.0.0.1:0", &host, &port,
	    &cause), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(port, 0);
	free(host);
	ck_assert_int_eq(options_parse_listen("[::1]:9090", &host, &port,
	    &cause), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(port, 9090);
	free(host);
	ck_assert_int_eq(options_parse_listen(":81", &host, &port, &cause), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	free(host);
}
END_TEST

START_TEST(listen_rejects_bad_forms)
{
	static const char *bad[] = {
		"8080", "host:", "host:65536", "host:-1", "host:8o", "::1:80",
		"[::1]80", "[::1",
	};
	char	*host, *cause;
	int	 port;
	size_t	 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		ck_assert_msg(options_parse_listen(bad[i], &host, &port,
		    &cause) == -1, "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_nonnull(strstr(cause, bad[i]));
		free(cause);
	}
}
END_TEST

START_TEST(seconds_allow_fractions_and_reject_nonsense)
{
	unsigned	 ms;
	char		*cause = NULL;

	ck_assert_int_eq(options_parse_seconds("0.5", &ms, &cause), 0);
	ck_assert_uint_eq(ms, 500);
	ck_assert_int_eq(options_parse_seconds("60", &ms, &cause), 0);
	ck_assert_uint_eq(ms, 60000);
	ck_assert_int_eq(options_parse_seconds("0.0001", &ms, &cause), 0);
	ck_assert_uint_eq(ms, 1);
	ck_assert_int_eq(options_parse_seconds("0", &ms, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_seconds("-1", &ms, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_seconds("10s", &ms, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_seconds("nan", &ms, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_seconds("86401", &ms, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_seconds("", &ms, &cause), -1);
	free(cause);
}
END_TEST

START_TEST(sizes_take_binary_suffixes)
{
	size_t	 n;
	char	*cause = NULL;

	ck_assert_int_eq(options_parse_size("65536", &n, &cause), 0);
	ck_assert_uint_eq(n, 65536);
	ck_assert_int_eq(options_parse_size("64K", &n, &cause), 0);
	ck_assert_uint_eq(n, 65536);
	ck_assert_int_eq(options_parse_size("16MiB", &n, &cause), 0);
	ck_assert_uint_eq(n, 16u * 1024 * 1024);
	ck_assert_int_eq(options_parse_size("1g", &n, &cause), 0);
	ck_assert_uint_eq(n, 1024u * 1024 * 1024);
	ck_assert_int_eq(options_parse_size("0", &n, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_size("-5", &n, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_size("5X", &n, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_size("99999999999999999999", &n,
	    &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_size("2048G", &n, &cause), -1);
	free(cause);
}
END_TEST

START_TEST(parse_reads_every_option)
{
	struct options	 o;
	char		*cause = NULL;
	static const char *args[] = { "proxy", "-l", "127.0.0.1:0",
	    "--connect-timeout", "1.5", "--response-timeout", "2",
	    "--idle-timeout", "3", "--header-timeout", "4",
	    "--max-header-bytes", "8K", "--max-body-buffer", "1M",
	    "--max-connections", "7", "-q", NULL };

	char		**argv = argv_dup(args);

	options_defaults(&o);
	ck_assert_int_eq(options_parse(&o, 18, argv, &cause), 0);
	argv_free(argv);
	ck_assert_int_eq(o.listen_port, 0);
	ck_assert_uint_eq(o.connect_timeout_ms, 1500);
	ck_assert_uint_eq(o.response_timeout_ms, 2000);
	ck_assert_uint_eq(o.idle_timeout_ms, 3000);
	ck_assert_uint_eq(o.header_timeout_ms, 4000);
	ck_assert_uint_eq(o.max_header_bytes, 8192);
	ck_assert_uint_eq(o.max_body_buffer, 1024 * 1024);
	ck_assert_uint_eq(o.max_connections, 7);
	ck_assert_int_eq(o.log_level, LOG_LEVEL_WARN);
	options_free(&o);
}
END_TEST

static void
expect_parse_error(const char *const *args, int argc, const char *needle)
{
	struct options	 o;
	char		*cause = NULL, **argv = argv_dup(args);

	options_defaults(&o);
	ck_assert_int_eq(options_parse(&o, argc, argv, &cause), -1);
	argv_free(argv);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, needle) != NULL, "\"%s\" lacks \"%s\"",
	    cause, needle);
	free(cause);
	options_free(&o);
}

START_TEST(parse_errors_name_the_cause)
{
	static const char *a1[] = { "proxy", "--bogus", NULL };
	static const char *a2[] = { "proxy", "--listen", NULL };
	static const char *a3[] = { "proxy", "--max-connections", "0", NULL };
	static const char *a4[] = { "proxy", "--max-header-bytes", "10", NULL };
	static const char *a5[] = { "proxy", "stray", NULL };
	static const char *a6[] = { "proxy", "--idle-timeout", "soon", NULL };

	expect_parse_error(a1, 2, "unknown option --bogus");
	expect_parse_error(a2, 2, "needs a value");
	expect_parse_error(a3, 3, "--max-connections");
	expect_parse_error(a4, 3, "--max-header-bytes");
	expect_parse_error(a5, 2, "unexpected argument \"stray\"");
	expect_parse_error(a6, 3, "--idle-timeout: bad duration \"soon\"");
}
END_TEST

static Suite *
options_suite(void)
{
	Suite	*s = suite_create("options");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, defaults_match_the_design);
	tcase_add_test(tc, listen_forms);
	tcase_add_test(tc, listen_rejects_bad_forms);
	tcase_add_test(tc, seconds_allow_fractions_and_reject_nonsense);
	tcase_add_test(tc, sizes_take_binary_suffixes);
	tcase_add_test(tc, parse_reads_every_option);
	tcase_add_test(tc, parse_errors_name_the_cause);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(options_suite());
}
