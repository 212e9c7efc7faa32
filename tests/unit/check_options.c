/*
 * Unit tests for options: listen addresses, durations, sizes, limits, and
 * the option table that drives every command's parsing and --help.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
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

/* A value the row accepts, for parsing it where it is taken. */
static const char *
good_value(const struct options_spec *spec)
{
	switch (spec->kind) {
	case OPTIONS_NAME:
		return "X-Name";
	case OPTIONS_HOSTS:
		return "a.example,b.example";
	case OPTIONS_LISTEN:
		return "127.0.0.1:0";
	case OPTIONS_SECONDS:
		return "1.5";
	case OPTIONS_SIZE:
		return "64K";
	case OPTIONS_COUNT:
		return "7";
	case OPTIONS_CHOICE:
		/* The last word: "proxy" of "error|proxy". */
		return strrchr(spec->arg, '|') + 1;
	case OPTIONS_STRING:
		return "some-file";
	case OPTIONS_FAULT:
		return "PATCH /v1/*=status:503";
	case OPTIONS_SEED:
		return "42";
	case OPTIONS_HEADER:
		return "Authorization: Basic eA==";
	case OPTIONS_RESOLVE:
		return "api.example.com:443=127.0.0.1:8443";
	default:
		return NULL;
	}
}

/*
 * Parse {cmd, args...} as command mode; the cause, or NULL on success.
 * The argv built is freed, or left in *keep (o->operands point into it).
 */
static char *
parse_keep(enum options_mode mode, const char *const *args,
    struct options *o, char ***keep)
{
	char	**argv, *cause = NULL;
	int	  argc = 0;

	while (args[argc] != NULL)
		argc++;
	argv = argv_dup(args);
	options_defaults(o);
	o->mode = mode;
	if (options_parse(o, argc, argv, &cause) == 0) {
		ck_assert_ptr_null(cause);
		cause = NULL;
	} else
		ck_assert_ptr_nonnull(cause);
	if (keep != NULL)
		*keep = argv;
	else
		argv_free(argv);
	return cause;
}

static char *
parse_as(enum options_mode mode, const char *const *args, struct options *o)
{
	return parse_keep(mode, args, o, NULL);
}

/* Does the usage text list --name as an option (not inside another)? */
static int
usage_lists(const char *usage, const char *name)
{
	const char	*p;
	size_t		 len = strlen(name);

	for (p = usage; (p = strstr(p, " --")) != NULL; p += 3)
		if (strncmp(p + 3, name, len) == 0 &&
		    (p[3 + len] == ' ' || p[3 + len] == '=' ||
		    p[3 + len] == '\n'))
			return 1;
	return 0;
}

START_TEST(table_names_are_unique_and_rows_complete)
{
	const struct options_spec	*a, *b;
	size_t				 i, j, n = 0;

	for (i = 0; options_table[i].name != NULL; i++) {
		a = &options_table[i];
		n++;
		ck_assert_msg(a->commands != 0, "--%s: no command", a->name);
		ck_assert_msg(a->help != NULL && *a->help != '\0',
		    "--%s: no help", a->name);
		ck_assert_msg((a->arg == NULL) == (a->kind == OPTIONS_FLAG ||
		    a->kind == OPTIONS_LEVEL), "--%s: value and kind disagree",
		    a->name);
		ck_assert_msg((a->alt_commands & ~a->commands) == 0 &&
		    (a->alt_commands != 0) == (a->alt_help != NULL),
		    "--%s: alt_help for commands that do not take it", a->name);
		for (j = i + 1; options_table[j].name != NULL; j++) {
			b = &options_table[j];
			ck_assert_msg(strcmp(a->name, b->name) != 0,
			    "--%s is in the table twice", a->name);
			ck_assert_msg(a->letter == 0 || a->letter != b->letter,
			    "-%c is both --%s and --%s", a->letter, a->name,
			    b->name);
		}
	}
	ck_assert_uint_ge(n, 31);
}
END_TEST

START_TEST(usage_lists_exactly_the_options_a_command_takes)
{
	const struct options_spec	*spec;
	char				*usage, *line, *save = NULL, *copy;
	char				 flag[4];
	int				 m;
	size_t				 i;

	for (m = 0; m < OPTIONS_NMODES; m++) {
		usage = options_usage((enum options_mode)m);
		for (i = 0; options_table[i].name != NULL; i++) {
			spec = &options_table[i];
			ck_assert_msg(usage_lists(usage, spec->name) ==
			    ((spec->commands & OPTIONS_CMD(m)) != 0),
			    "%s --help and --%s", options_name(m), spec->name);
			if (spec->letter == 0 ||
			    (spec->commands & OPTIONS_CMD(m)) == 0)
				continue;
			snprintf(flag, sizeof flag, "-%c,", spec->letter);
			ck_assert_msg(strstr(usage, flag) != NULL,
			    "%s --help lacks %s", options_name(m), flag);
		}
		/* Lines fit a terminal of 80 columns. */
		copy = strdup(usage);
		for (line = strtok_r(copy, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			ck_assert_msg(strlen(line) < 80, "%s --help: \"%s\"",
			    options_name(m), line);
		free(copy);
		free(usage);
	}
}
END_TEST

START_TEST(every_command_takes_its_options)
{
	const struct options_spec	*spec;
	const char			*args[8];
	struct options			 o;
	char				 opt[64], *cause;
	int				 m, n;
	size_t				 i;

	for (i = 0; options_table[i].name != NULL; i++) {
		spec = &options_table[i];
		for (m = 0; m < OPTIONS_NMODES; m++) {
			if ((spec->commands & OPTIONS_CMD(m)) == 0)
				continue;
			n = 0;
			args[n++] = options_name(m);
			if ((m == OPTIONS_RECORD || m == OPTIONS_REPLAY) &&
			    strcmp(spec->name, "cassette") != 0) {
				args[n++] = "-c";
				args[n++] = "x.har";
			}
			snprintf(opt, sizeof opt, "--%s", spec->name);
			args[n++] = opt;
			if (spec->arg != NULL)
				args[n++] = good_value(spec);
			args[n] = NULL;
			cause = parse_as((enum options_mode)m, args, &o);
			ck_assert_msg(cause == NULL, "%s --%s: %s",
			    options_name(m), spec->name, cause);
			if (spec->kind == OPTIONS_STRING)
				ck_assert_str_eq(*(char **)((char *)&o +
				    spec->field), "some-file");
			options_free(&o);
		}
	}
}
END_TEST

START_TEST(other_commands_refuse_them)
{
	const struct options_spec	*spec;
	const char			*args[4];
	struct options			 o;
	char				 opt[64], *cause;
	int				 m, short_form;
	size_t				 i;

	for (i = 0; options_table[i].name != NULL; i++) {
		spec = &options_table[i];
		for (m = 0; m < OPTIONS_NMODES; m++) {
			if ((spec->commands & OPTIONS_CMD(m)) != 0)
				continue;
			for (short_form = 0; short_form < 2; short_form++) {
				if (short_form && spec->letter == 0)
					continue;
				if (short_form)
					snprintf(opt, sizeof opt, "-%c",
					    spec->letter);
				else
					snprintf(opt, sizeof opt, "--%s",
					    spec->name);
				args[0] = options_name(m);
				args[1] = opt;
				args[2] = spec->arg != NULL ? "x" : NULL;
				args[3] = NULL;
				cause = parse_as((enum options_mode)m, args,
				    &o);
				ck_assert_msg(cause != NULL, "%s took %s",
				    options_name(m), opt);
				/*
				 * A serving command names who takes one of
				 * the serving options; the rest are unknown.
				 */
				if ((OPTIONS_CMD(m) & OPTIONS_SERVE) != 0 &&
				    (spec->commands & OPTIONS_SERVE) != 0)
					ck_assert_msg(strstr(cause, " only") !=
					    NULL, "%s %s: %s", options_name(m),
					    opt, cause);
				else
					ck_assert_msg(strstr(cause, "unknown "
					    "option") != NULL, "%s %s: %s",
					    options_name(m), opt, cause);
				ck_assert_msg(strstr(cause, opt) != NULL,
				    "%s %s: %s", options_name(m), opt, cause);
				free(cause);
				options_free(&o);
			}
		}
	}
}
END_TEST

static void
expect_refusal(enum options_mode mode, const char *const *args,
    const char *message)
{
	struct options	 o;
	char		*cause;

	cause = parse_as(mode, args, &o);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, message);
	free(cause);
	options_free(&o);
}

START_TEST(refusals_say_what_is_wrong)
{
	static const char *a1[] = { "proxy", "-c", "x.har", NULL };
	static const char *a2[] = { "record", "-c", "x.har", "--strict",
	    NULL };
	static const char *a3[] = { "proxy", "--cass", "x.har", NULL };
	static const char *a4[] = { "proxy", "--json", NULL };
	static const char *a5[] = { "proxy", "--guard=1", NULL };
	static const char *a6[] = { "replay", "-c", "x", "--fallback=maybe",
	    NULL };
	static const char *a7[] = { "proxy", "--max-body-buffer", "2G",
	    NULL };
	static const char *a8[] = { "ca", "--listen", "127.0.0.1:1", NULL };
	static const char *a9[] = { "lint", "-q", "x", NULL };

	expect_refusal(OPTIONS_PROXY, a1,
	    "option -c is for record and replay only");
	expect_refusal(OPTIONS_RECORD, a2,
	    "option --strict is for replay only");
	expect_refusal(OPTIONS_PROXY, a3,
	    "option --cassette is for record and replay only");
	expect_refusal(OPTIONS_PROXY, a4, "unknown option --json");
	expect_refusal(OPTIONS_PROXY, a5,
	    "option --guard does not take a value");
	expect_refusal(OPTIONS_REPLAY, a6,
	    "--fallback: expected \"error\" or \"proxy\", not \"maybe\"");
	expect_refusal(OPTIONS_PROXY, a7,
	    "--max-body-buffer: must be at most 1G");
	expect_refusal(OPTIONS_CA, a8, "unknown option --listen");
	expect_refusal(OPTIONS_LINT, a9, "unknown option -q");
}
END_TEST

START_TEST(drift_header_lines_are_checked)
{
	static const char *ok[] = { "drift", "-c", "x.har", "--header",
	    "Authorization: Basic eA==", "--header", "X-Empty:", "--header",
	    "X-Tab:\tv", "--values", "--update", "--allow-writes", NULL };
	static const char *a1[] = { "drift", "--header", "NoColon", NULL };
	static const char *a2[] = { "drift", "--header", ": v", NULL };
	static const char *a3[] = { "drift", "--header", "Bad Name: v", NULL };
	static const char *a4[] = { "drift", "--header", "X-A: a\rb", NULL };
	static const char *a5[] = { "drift", "--header", "X-A: a\x7f", NULL };
	static const char *a6[] = { "proxy", "--header", "X-A: b", NULL };
	static const char *a7[] = { "proxy", "--header=2", NULL };
	static const char *a8[] = { "proxy", "--header-t", "2", NULL };
	struct options	 o;
	char		*cause;

	ck_assert_ptr_null(parse_as(OPTIONS_DRIFT, ok, &o));
	ck_assert_uint_eq(o.n_headers, 3);
	ck_assert_str_eq(o.headers[0], "Authorization: Basic eA==");
	ck_assert_str_eq(o.headers[1], "X-Empty:");
	ck_assert_int_eq(o.values, 1);
	ck_assert_int_eq(o.update, 1);
	ck_assert_int_eq(o.allow_writes, 1);
	ck_assert_str_eq(o.cassette, "x.har");
	options_free(&o);
	expect_refusal(OPTIONS_DRIFT, a1, "--header: expected 'NAME: VALUE' "
	    "(a header line of at most 8192 bytes), not \"NoColon\"");
	expect_refusal(OPTIONS_DRIFT, a2, "--header: expected 'NAME: VALUE' "
	    "(a header line of at most 8192 bytes), not \": v\"");
	expect_refusal(OPTIONS_DRIFT, a3,
	    "--header: \"Bad Name\" is not a header name");
	expect_refusal(OPTIONS_DRIFT, a4,
	    "--header: the value of X-A contains a control character");
	expect_refusal(OPTIONS_DRIFT, a5,
	    "--header: the value of X-A contains a control character");
	expect_refusal(OPTIONS_PROXY, a6, "unknown option --header");
	expect_refusal(OPTIONS_PROXY, a7, "unknown option --header");
	/* An abbreviation of --header-timeout is still one. */
	ck_assert_ptr_null(parse_as(OPTIONS_PROXY, a8, &o));
	ck_assert_uint_eq(o.header_timeout_ms, 2000);
	options_free(&o);
	cause = NULL;
	ck_assert_int_eq(options_parse_header("X-Long: x", &cause), 0);
	ck_assert_ptr_null(cause);
}
END_TEST

START_TEST(drift_help_says_what_its_shared_options_do)
{
	char	*drift = options_usage(OPTIONS_DRIFT);
	char	*proxy = options_usage(OPTIONS_PROXY);
	char	*replay = options_usage(OPTIONS_REPLAY);

	ck_assert_ptr_nonnull(strstr(drift, "the cassette whose requests are "
	    "sent again"));
	ck_assert_ptr_nonnull(strstr(drift, "also list the entries that did "
	    "not drift"));
	ck_assert_ptr_nonnull(strstr(drift, "print one JSON object instead"));
	ck_assert_ptr_nonnull(strstr(drift, "--upstream-ca FILE"));
	ck_assert_ptr_null(strstr(drift, "answer 504"));
	ck_assert_ptr_nonnull(strstr(proxy, "answer 504"));
	ck_assert_ptr_nonnull(strstr(proxy, "also log connection details"));
	ck_assert_ptr_nonnull(strstr(replay, "the HAR file to answer from"));
	free(drift);
	free(proxy);
	free(replay);
}
END_TEST

START_TEST(operands_are_left_for_show_and_lint)
{
	static const char *a1[] = { "lint", "p.json", "--json", "--snapshot",
	    "s.json", NULL };
	static const char *a2[] = { "show", "a.har", "b.har", NULL };
	static const char *a3[] = { "env", "stray", NULL };
	struct options	 o;
	char		**argv;

	ck_assert_ptr_null(parse_keep(OPTIONS_LINT, a1, &o, &argv));
	ck_assert_int_eq(o.n_operands, 1);
	ck_assert_str_eq(o.operands[0], "p.json");
	ck_assert_int_eq(o.json, 1);
	ck_assert_str_eq(o.snapshot_file, "s.json");
	options_free(&o);
	argv_free(argv);
	ck_assert_ptr_null(parse_keep(OPTIONS_SHOW, a2, &o, &argv));
	ck_assert_int_eq(o.n_operands, 2);
	ck_assert_str_eq(o.operands[1], "b.har");
	options_free(&o);
	argv_free(argv);
	expect_refusal(OPTIONS_ENV, a3, "unexpected argument \"stray\"");
}
END_TEST

START_TEST(help_ends_the_parse_of_show_and_lint_only)
{
	static const char *a1[] = { "show", "--help", "--bogus", NULL };
	static const char *a2[] = { "lint", "--help", NULL };
	static const char *a3[] = { "proxy", "--help", "--bogus", NULL };
	static const char *a4[] = { "record", "--help", NULL };
	struct options	 o;

	ck_assert_ptr_null(parse_as(OPTIONS_SHOW, a1, &o));
	ck_assert_int_eq(o.help, 1);
	options_free(&o);
	ck_assert_ptr_null(parse_as(OPTIONS_LINT, a2, &o));
	ck_assert_int_eq(o.help, 1);
	options_free(&o);
	expect_refusal(OPTIONS_PROXY, a3, "unknown option --bogus");
	/* --help needs no -c. */
	ck_assert_ptr_null(parse_as(OPTIONS_RECORD, a4, &o));
	options_free(&o);
}
END_TEST

/* -- CMD: what follows "--" is the command, untouched; port 0. */
START_TEST(double_dash_takes_the_command_to_run)
{
	static const char *a1[] = { "replay", "-c", "x.har", "--strict", "--",
	    "pytest", "-x", "--listen", "1.2.3.4:5", "-c", NULL };
	static const char *a2[] = { "proxy", "--listen", "127.0.0.1:9000",
	    "--", "./client", NULL };
	static const char *a3[] = { "record", "-c", "--", NULL };
	static const char *a4[] = { "proxy", "--", "--help", NULL };
	struct options	  o;
	char		**argv;

	ck_assert_ptr_null(parse_keep(OPTIONS_REPLAY, a1, &o, &argv));
	ck_assert_int_eq(o.n_command, 5);
	ck_assert_str_eq(o.command[0], "pytest");
	ck_assert_str_eq(o.command[2], "--listen");
	ck_assert_str_eq(o.command[4], "-c");
	ck_assert_str_eq(o.cassette, "x.har");
	ck_assert_int_eq(o.strict, 1);
	ck_assert_int_eq(o.listen_port, 0);
	ck_assert_str_eq(o.listen_host, "127.0.0.1");
	options_free(&o);
	argv_free(argv);
	/* --listen given: kept. */
	ck_assert_ptr_null(parse_keep(OPTIONS_PROXY, a2, &o, &argv));
	ck_assert_int_eq(o.n_command, 1);
	ck_assert_int_eq(o.listen_port, 9000);
	options_free(&o);
	argv_free(argv);
	/* "--" as an option's value is no separator. */
	ck_assert_ptr_null(parse_as(OPTIONS_RECORD, a3, &o));
	ck_assert_ptr_null(o.command);
	ck_assert_str_eq(o.cassette, "--");
	ck_assert_int_eq(o.listen_port, 8080);
	options_free(&o);
	/* CMD's --help is CMD's. */
	ck_assert_ptr_null(parse_keep(OPTIONS_PROXY, a4, &o, &argv));
	ck_assert_int_eq(o.help, 0);
	ck_assert_int_eq(o.n_command, 1);
	options_free(&o);
	argv_free(argv);
}
END_TEST

/* "--" alone, and words before it, are usage errors. */
START_TEST(double_dash_needs_a_command)
{
	static const char *a1[] = { "replay", "-c", "x.har", "--", NULL };
	static const char *a2[] = { "proxy", "stray", "--", "cmd", NULL };
	static const char *a3[] = { "replay", "--", "cmd", NULL };
	static const char *a4[] = { "show", "--", "x.har", NULL };
	struct options	 o;

	expect_refusal(OPTIONS_REPLAY, a1, "\"--\" must be followed by a "
	    "command to run: -- CMD [ARGS...]");
	expect_refusal(OPTIONS_PROXY, a2, "unexpected argument \"stray\"");
	expect_refusal(OPTIONS_REPLAY, a3, "missing -c FILE (the cassette to "
	    "replay)");
	/* Other commands keep "--" as the end of options. */
	ck_assert_ptr_null(parse_as(OPTIONS_SHOW, a4, &o));
	ck_assert_ptr_null(o.command);
	ck_assert_int_eq(o.n_operands, 1);
	options_free(&o);
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
	tc = tcase_create("table");
	tcase_add_test(tc, table_names_are_unique_and_rows_complete);
	tcase_add_test(tc, usage_lists_exactly_the_options_a_command_takes);
	tcase_add_test(tc, every_command_takes_its_options);
	tcase_add_test(tc, other_commands_refuse_them);
	tcase_add_test(tc, refusals_say_what_is_wrong);
	tcase_add_test(tc, drift_header_lines_are_checked);
	tcase_add_test(tc, drift_help_says_what_its_shared_options_do);
	tcase_add_test(tc, operands_are_left_for_show_and_lint);
	tcase_add_test(tc, help_ends_the_parse_of_show_and_lint_only);
	tcase_add_test(tc, double_dash_takes_the_command_to_run);
	tcase_add_test(tc, double_dash_needs_a_command);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(options_suite());
}
