/*
 * Unit tests for doctor: a probe's output read (versions, outcomes, CRLF,
 * junk and repeated lines ignored, text made printable), curl's and git's
 * failures told apart, Node versions that honour NODE_USE_ENV_PROXY, and
 * the verdict of a row (through the proxy or not, trusted or not, what to
 * set, a timeout, a client that is not installed).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "doctor.h"
#include "doctor_run.h"
#include "unit.h"

/* The table's entry named name. */
static const struct doctor_client *
client(const char *name)
{
	size_t	i;

	for (i = 0; i < doctor_nclients; i++)
		if (strcmp(doctor_clients[i].name, name) == 0)
			return &doctor_clients[i];
	ck_abort_msg("no client %s", name);
	return NULL;
}

START_TEST(parse_reads_versions_and_outcomes)
{
	static const char	out[] = "Picked up JAVA_TOOL_OPTIONS: -Dx=y\n"
	    "version 17.0.15\r\n"
	    "https tls javax.net.ssl.SSLHandshakeException: PKIX \033[31m\n"
	    "https ok 200\n"
	    "http ok 200\n"
	    "tunnel maybe\n"
	    "junk\n"
	    "httpx ok\n";
	struct doctor_result	r;

	memset(&r, 0, sizeof r);
	r.installed = 1;
	doctor_parse(out, sizeof out - 1, &r);
	ck_assert_str_eq(r.version, "17.0.15");
	/* The first line for a request counts. */
	ck_assert_int_eq(r.https, DOCTOR_TLS);
	ck_assert_int_eq(r.http, DOCTOR_OK);
	ck_assert_int_eq(r.tunnel, DOCTOR_NOT_RUN);
	ck_assert_str_eq(r.detail, "https tls javax.net.ssl."
	    "SSLHandshakeException: PKIX ?[31m");
	ck_assert_int_eq(r.installed, 1);

	memset(&r, 0, sizeof r);
	r.installed = 1;
	doctor_parse("missing requests\n", 17, &r);
	ck_assert_int_eq(r.installed, 0);

	/* No final newline, an empty input, a NUL in the middle. */
	memset(&r, 0, sizeof r);
	doctor_parse("http dns getaddrinfo", 20, &r);
	ck_assert_int_eq(r.http, DOCTOR_DNS);
	doctor_parse("", 0, &r);
	doctor_parse("https\0ok\nhttps error x", 22, &r);
	ck_assert_int_eq(r.https, DOCTOR_ERROR);
}
END_TEST

START_TEST(curl_and_git_failures_are_told_apart)
{
	ck_assert_int_eq(doctor_curl_outcome(0), DOCTOR_OK);
	ck_assert_int_eq(doctor_curl_outcome(6), DOCTOR_DNS);
	ck_assert_int_eq(doctor_curl_outcome(60), DOCTOR_TLS);
	ck_assert_int_eq(doctor_curl_outcome(35), DOCTOR_TLS);
	ck_assert_int_eq(doctor_curl_outcome(7), DOCTOR_ERROR);
	ck_assert_int_eq(doctor_curl_outcome(28), DOCTOR_ERROR);

	ck_assert_int_eq(doctor_git_outcome(0, ""), DOCTOR_OK);
	ck_assert_int_eq(doctor_git_outcome(128, "fatal: unable to access "
	    "'https://x/': Could not resolve host: x"), DOCTOR_DNS);
	ck_assert_int_eq(doctor_git_outcome(128, "fatal: unable to access "
	    "'https://x/': SSL certificate problem: unable to get local "
	    "issuer certificate"), DOCTOR_TLS);
	ck_assert_int_eq(doctor_git_outcome(128, "fatal: repository not "
	    "found"), DOCTOR_ERROR);
}
END_TEST

START_TEST(node_versions_that_honour_the_proxy_variable)
{
	ck_assert_int_eq(doctor_node_env_proxy("v20.20.2"), 0);
	ck_assert_int_eq(doctor_node_env_proxy("v22.20.9"), 0);
	ck_assert_int_eq(doctor_node_env_proxy("v22.21.0"), 1);
	ck_assert_int_eq(doctor_node_env_proxy("v23.11.0"), 0);
	ck_assert_int_eq(doctor_node_env_proxy("v24.0.0"), 1);
	ck_assert_int_eq(doctor_node_env_proxy("26.1.0"), 1);
	ck_assert_int_eq(doctor_node_env_proxy(""), 0);
	ck_assert_int_eq(doctor_node_env_proxy("vx"), 0);
}
END_TEST

START_TEST(verdicts_say_what_to_set)
{
	struct doctor_result	r;
	struct doctor_row	row;

	memset(&r, 0, sizeof r);
	r.installed = 1;
	r.https = r.http = DOCTOR_OK;
	doctor_verdict(client("curl"), &r, &row);
	ck_assert_int_eq(row.pass, 1);
	ck_assert_str_eq(row.proxy, "yes");
	ck_assert_str_eq(row.trust, "yes");
	ck_assert_str_eq(row.fix, "");

	/* Through the proxy, the CA refused. */
	r.https = DOCTOR_TLS;
	doctor_verdict(client("python"), &r, &row);
	ck_assert_int_eq(row.pass, 0);
	ck_assert_str_eq(row.proxy, "yes");
	ck_assert_str_eq(row.trust, "no");
	ck_assert_str_eq(row.fix, "set REQUESTS_CA_BUNDLE to patchscope's "
	    "bundle.pem");

	/* Node 20: no proxy, trust checked by hand. */
	memset(&r, 0, sizeof r);
	r.installed = 1;
	strcpy(r.version, "v20.20.2");
	r.https = r.http = DOCTOR_DNS;
	r.tunnel = DOCTOR_OK;
	doctor_verdict(client("node"), &r, &row);
	ck_assert_int_eq(row.pass, 0);
	ck_assert_str_eq(row.proxy, "no");
	ck_assert_str_eq(row.trust, "yes (by hand)");
	ck_assert_ptr_nonnull(strstr(row.fix, "this Node ignores "
	    "NODE_USE_ENV_PROXY"));
	ck_assert_ptr_nonnull(strstr(row.fix, "EnvHttpProxyAgent"));
	strcpy(r.version, "v24.1.0");
	doctor_verdict(client("node"), &r, &row);
	ck_assert_str_eq(row.fix, "set NODE_USE_ENV_PROXY=1 with HTTPS_PROXY "
	    "and HTTP_PROXY");

	/* https only, and an error kept as its text. */
	memset(&r, 0, sizeof r);
	r.installed = 1;
	r.https = DOCTOR_OK;
	r.http = DOCTOR_ERROR;
	strcpy(r.detail, "http error 502");
	doctor_verdict(client("go"), &r, &row);
	ck_assert_str_eq(row.proxy, "https only");
	ck_assert_ptr_nonnull(strstr(row.fix, "http error 502"));

	/* Out of time; not installed. */
	r.timed_out = 1;
	doctor_verdict(client("java"), &r, &row);
	ck_assert_int_eq(row.pass, 0);
	ck_assert_str_eq(row.fix, "it did not finish within 40 s");
	memset(&r, 0, sizeof r);
	doctor_verdict(client("git"), &r, &row);
	ck_assert_int_eq(row.pass, 0);
	ck_assert_str_eq(row.proxy, "-");
	ck_assert_str_eq(row.fix, "");

	/* Nothing printed at all. */
	memset(&r, 0, sizeof r);
	r.installed = 1;
	doctor_verdict(client("java"), &r, &row);
	ck_assert_str_eq(row.proxy, "?");
	ck_assert_ptr_nonnull(strstr(row.fix, "it printed no result"));
}
END_TEST

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A client that closes its output and then hangs is killed at the time
 * limit, not waited for; one that prints a flood is cut at 64 KiB.
 */
START_TEST(run_kills_a_client_that_hangs_after_closing_its_output)
{
	char		 sh[] = "sh", c[] = "-c";
	char		 hang_s[] = "exec >&- 2>&-; sleep 20";
	char		 flood_s[] = "yes garbage | head -c 300000; exit 3";
	char *const	 hang[] = { sh, c, hang_s, NULL };
	char *const	 flood[] = { sh, c, flood_s, NULL };
	struct buf	 out = { NULL, 0, 0 };
	char		*cause = NULL;
	double		 t0;
	int		 status, timed_out;

	t0 = now_s();
	ck_assert_int_eq(doctor_run(hang, NULL, NULL, 300, &out, &status,
	    &timed_out, &cause), 0);
	ck_assert_double_lt(now_s() - t0, 5.0);
	ck_assert_int_eq(timed_out, 1);
	ck_assert_int_eq(status, 128 + 9);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(doctor_run(flood, NULL, NULL, 10000, &out, &status,
	    &timed_out, &cause), 0);
	ck_assert_int_eq(timed_out, 0);
	ck_assert_int_eq(status, 3);
	ck_assert_uint_eq(out.len, 64 * 1024);
	buf_free(&out);
}
END_TEST

static Suite *
doctor_suite(void)
{
	Suite	*s = suite_create("doctor");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, parse_reads_versions_and_outcomes);
	tcase_add_test(tc, curl_and_git_failures_are_told_apart);
	tcase_add_test(tc, node_versions_that_honour_the_proxy_variable);
	tcase_add_test(tc, verdicts_say_what_to_set);
	tcase_add_test(tc, run_kills_a_client_that_hangs_after_closing_its_output);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(doctor_suite());
}
