/*
 * Unit tests for the pure parts of -- CMD: exit statuses as shells give
 * them (run_cmd), CMD's environment, and patchscope's own address as its
 * clients name it (listen_addr).
 */
#include "config.h"

#include <sys/wait.h>
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_env.h"
#include "listen_addr.h"
#include "run_cmd.h"
#include "unit.h"

/* A real wait status: a child that exits code, or raises sig. */
static int
child_status(int code, int sig)
{
	pid_t	pid;
	int	wstatus;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (sig != 0) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		_exit(code);
	}
	ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
	return wstatus;
}

START_TEST(wait_status_is_the_shells)
{
	ck_assert_int_eq(run_cmd_wait_status(child_status(0, 0)), 0);
	ck_assert_int_eq(run_cmd_wait_status(child_status(3, 0)), 3);
	ck_assert_int_eq(run_cmd_wait_status(child_status(255, 0)), 255);
	ck_assert_int_eq(run_cmd_wait_status(child_status(0, SIGTERM)),
	    128 + SIGTERM);
	ck_assert_int_eq(run_cmd_wait_status(child_status(0, SIGKILL)), 137);
}
END_TEST

START_TEST(exec_failures_are_127_or_126)
{
	ck_assert_int_eq(run_cmd_exec_status(ENOENT), 127);
	ck_assert_int_eq(run_cmd_exec_status(ENOTDIR), 127);
	ck_assert_int_eq(run_cmd_exec_status(EACCES), 126);
	ck_assert_int_eq(run_cmd_exec_status(ENOEXEC), 126);
	ck_assert_int_eq(run_cmd_exec_status(EISDIR), 126);
}
END_TEST

START_TEST(the_commands_failure_wins)
{
	ck_assert_int_eq(run_cmd_exit(0, 0), 0);
	ck_assert_int_eq(run_cmd_exit(0, 1), 1);	/* --strict findings */
	ck_assert_int_eq(run_cmd_exit(0, 2), 2);	/* could not flush */
	ck_assert_int_eq(run_cmd_exit(3, 1), 3);
	ck_assert_int_eq(run_cmd_exit(130, 0), 130);
	ck_assert_int_eq(run_cmd_exit(127, 0), 127);
}
END_TEST

START_TEST(envp_replaces_and_adds_variables)
{
	static char	 e0[] = "PATH=/bin", e1[] = "HTTPS_PROXY=http://x:1",
			 e2[] = "HOME=/h", e3[] = "HTTPS_PROXY_X=kept",
			 e4[] = "EMPTY=";
	char *const	 src[] = { e0, e1, e2, e3, e4, NULL };
	struct client_env	  env;
	char			**envp;
	size_t			  n;

	memset(&env, 0, sizeof env);
	client_env_set(&env, "HTTPS_PROXY", "http://127.0.0.1:5");
	client_env_set(&env, "PATCHSCOPE_URL", "http://127.0.0.1:5");
	envp = run_cmd_envp(src, &env);
	for (n = 0; envp[n] != NULL; n++)
		;
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(envp[0], "PATH=/bin");
	ck_assert_str_eq(envp[1], "HOME=/h");
	ck_assert_str_eq(envp[2], "HTTPS_PROXY_X=kept");
	ck_assert_str_eq(envp[3], "EMPTY=");
	ck_assert_str_eq(envp[4], "HTTPS_PROXY=http://127.0.0.1:5");
	ck_assert_str_eq(envp[5], "PATCHSCOPE_URL=http://127.0.0.1:5");
	run_cmd_envp_free(envp);
	/* An empty environment. */
	envp = run_cmd_envp(NULL, &env);
	ck_assert_str_eq(envp[0], "HTTPS_PROXY=http://127.0.0.1:5");
	ck_assert_ptr_null(envp[2]);
	run_cmd_envp_free(envp);
	run_cmd_envp_free(NULL);
	client_env_free(&env);
}
END_TEST

START_TEST(base_url_names_a_reachable_address)
{
	char	*u, host[64];
	int	 port;

	u = listen_addr_base_url("127.0.0.1:8080");
	ck_assert_str_eq(u, "http://127.0.0.1:8080");
	free(u);
	u = listen_addr_base_url("0.0.0.0:1");
	ck_assert_str_eq(u, "http://127.0.0.1:1");
	free(u);
	u = listen_addr_base_url("[::]:443");
	ck_assert_str_eq(u, "http://[::1]:443");
	free(u);
	u = listen_addr_base_url("[::1]:2");
	ck_assert_str_eq(u, "http://[::1]:2");
	free(u);
	ck_assert_int_eq(listen_addr_client("10.0.0.1:3", host, sizeof host,
	    &port), 0);
	ck_assert_str_eq(host, "10.0.0.1");
	ck_assert_int_eq(port, 3);
	ck_assert_ptr_null(listen_addr_base_url("127.0.0.1"));
	ck_assert_ptr_null(listen_addr_base_url("127.0.0.1:"));
	ck_assert_ptr_null(listen_addr_base_url("127.0.0.1:65536"));
	ck_assert_ptr_null(listen_addr_base_url("[::1:80"));
	ck_assert_ptr_null(listen_addr_base_url(":80"));
	ck_assert_int_eq(listen_addr_client("127.0.0.1:80", host, 4, &port),
	    -1);
}
END_TEST

START_TEST(self_is_the_bound_address_and_port)
{
	/* Bound to one loopback address. */
	ck_assert(listen_addr_is_self("127.0.0.1:8080", "127.0.0.1", 8080));
	ck_assert(listen_addr_is_self("127.0.0.1:8080", "localhost", 8080));
	ck_assert(listen_addr_is_self("127.0.0.1:8080", "::ffff:127.0.0.1",
	    8080));
	ck_assert(!listen_addr_is_self("127.0.0.1:8080", "127.0.0.1", 8081));
	ck_assert(!listen_addr_is_self("127.0.0.1:8080", "127.0.0.2", 8080));
	ck_assert(!listen_addr_is_self("127.0.0.1:8080", "::1", 8080));
	ck_assert(!listen_addr_is_self("127.0.0.1:8080", "example.com",
	    8080));
	ck_assert(!listen_addr_is_self("127.0.0.2:8080", "localhost", 8080));
	ck_assert(listen_addr_is_self("[::1]:8080", "::1", 8080));
	ck_assert(listen_addr_is_self("[::1]:8080", "localhost", 8080));
	ck_assert(!listen_addr_is_self("[::1]:8080", "127.0.0.1", 8080));
	/* Wildcards: any loopback address of the families they take. */
	ck_assert(listen_addr_is_self("0.0.0.0:80", "127.0.0.1", 80));
	ck_assert(listen_addr_is_self("0.0.0.0:80", "127.1.2.3", 80));
	ck_assert(listen_addr_is_self("0.0.0.0:80", "localhost", 80));
	ck_assert(listen_addr_is_self("0.0.0.0:80", "0.0.0.0", 80));
	ck_assert(!listen_addr_is_self("0.0.0.0:80", "::1", 80));
	ck_assert(!listen_addr_is_self("0.0.0.0:80", "10.0.0.1", 80));
	ck_assert(listen_addr_is_self("[::]:80", "::1", 80));
	ck_assert(listen_addr_is_self("[::]:80", "127.0.0.1", 80));
	/* Another machine's address with our port is not us. */
	ck_assert(listen_addr_is_self("10.0.0.1:80", "10.0.0.1", 80));
	ck_assert(!listen_addr_is_self("10.0.0.1:80", "127.0.0.1", 80));
	ck_assert(!listen_addr_is_self("10.0.0.1:80", "localhost", 80));
	ck_assert(!listen_addr_is_self("bogus", "127.0.0.1", 80));
	ck_assert(!listen_addr_is_self("127.0.0.1:80", "", 80));
}
END_TEST

static Suite *
run_cmd_suite(void)
{
	Suite	*s = suite_create("run_cmd");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, wait_status_is_the_shells);
	tcase_add_test(tc, exec_failures_are_127_or_126);
	tcase_add_test(tc, the_commands_failure_wins);
	tcase_add_test(tc, envp_replaces_and_adds_variables);
	tcase_add_test(tc, base_url_names_a_reachable_address);
	tcase_add_test(tc, self_is_the_bound_address_and_port);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(run_cmd_suite());
}
