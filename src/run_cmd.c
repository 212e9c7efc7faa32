/*
 * run_cmd: "-- CMD [ARGS...]", CMD run as a shell runs a job (see
 * run_cmd.h).
 *
 * CMD gets a process group of its own, and the terminal's foreground
 * when patchscope holds it: Ctrl-C then reaches CMD once, from the
 * terminal, and patchscope, in its own group, keeps serving while CMD
 * cleans up; Ctrl-Z stops CMD, then patchscope, as a shell expects of a
 * job. A SIGINT, SIGTERM or SIGHUP sent to patchscope itself (kill, a CI
 * timeout, a closed terminal) is passed on to CMD's group (cmd_serve
 * calls run_cmd_signal). Whether exec worked is learnt from a
 * close-on-exec pipe: it closes on a successful exec, or carries exec's
 * errno. CMD's end is seen from the loop (libevent's SIGCHLD event),
 * never from a blocking wait, so the proxy serves until then. Every
 * descriptor patchscope opens is close-on-exec, so CMD inherits only
 * what patchscope inherited.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <event2/event.h>

#include "ca.h"
#include "client_env.h"
#include "listen_addr.h"
#include "log.h"
#include "options.h"
#include "run_cmd.h"
#include "xmalloc.h"

extern char **environ;

struct run_cmd {
	struct event	*sigchld;
	pid_t		 pid;		/* CMD and its process group; -1 once
					   reaped */
	int		 status;	/* as a shell gives it; -1 running */
	int		 terminal;	/* CMD has the terminal's foreground */
	char		*name;		/* argv[0], for the log */
	void		(*done)(void *);
	void		*arg;
};

/* The exit code, or 128+N for signal N. */
int
run_cmd_wait_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

/* 127 for a command that is not there, else 126 (POSIX 2.8.2). */
int
run_cmd_exec_status(int err)
{
	return err == ENOENT || err == ENOTDIR ? 127 : 126;
}

/* CMD's status wins when it failed. */
int
run_cmd_exit(int cmd_status, int serve_status)
{
	return cmd_status != 0 ? cmd_status : serve_status;
}

/* Does "NAME=VALUE" name a variable that env sets? */
static int
run_cmd_env_has(const struct client_env *env, const char *entry)
{
	size_t	i, len = strcspn(entry, "=");

	for (i = 0; i < env->n; i++)
		if (strlen(env->names[i]) == len &&
		    strncmp(env->names[i], entry, len) == 0)
			return 1;
	return 0;
}

/* environ without env's names, then env. */
char **
run_cmd_envp(char *const *src, const struct client_env *env)
{
	char	**envp;
	size_t	  n = 0, i, k = 0;

	while (src != NULL && src[n] != NULL)
		n++;
	envp = xreallocarray(NULL, n + env->n + 1, sizeof *envp);
	for (i = 0; i < n; i++)
		if (!run_cmd_env_has(env, src[i]))
			envp[k++] = xstrdup(src[i]);
	for (i = 0; i < env->n; i++)
		envp[k++] = xasprintf("%s=%s", env->names[i], env->values[i]);
	envp[k] = NULL;
	return envp;
}

void
run_cmd_envp_free(char **envp)
{
	size_t	i;

	if (envp == NULL)
		return;
	for (i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

/*
 * Give the terminal's foreground to process group pgid. SIGTTOU is
 * ignored around it: a process in a background group that calls
 * tcsetpgrp is otherwise stopped (POSIX tcsetpgrp).
 */
static void
run_cmd_foreground(pid_t pgid)
{
	struct sigaction	 ign, old;

	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGTTOU, &ign, &old);
	(void)tcsetpgrp(STDIN_FILENO, pgid);
	sigaction(SIGTTOU, &old, NULL);
}

/*
 * In the child: a process group of its own (the terminal's foreground
 * when terminal), default signal dispositions and an empty mask, the
 * environment envp, then exec. patchscope has one thread, so the child
 * may call what it likes before exec; on failure exec's errno goes to fd
 * and the child exits 127.
 */
static void
run_cmd_child(char **argv, char **envp, int fd, int terminal)
{
	struct sigaction	 dfl;
	sigset_t		 none;
	int			 sig, err;

	(void)setpgid(0, 0);
	if (terminal)
		run_cmd_foreground(getpid());
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = envp;
	execvp(argv[0], argv);
	err = errno;
	/* Single-threaded: free is safe here, and no leak checker objects. */
	environ = NULL;
	run_cmd_envp_free(envp);
	while (write(fd, &err, sizeof err) == -1 && errno == EINTR)
		;
	_exit(127);
}

/* Take the terminal back from CMD once it has ended. */
static void
run_cmd_terminal_back(struct run_cmd *run)
{
	if (!run->terminal)
		return;
	run_cmd_foreground(getpgrp());
	run->terminal = 0;
}

/*
 * CMD, in the terminal's foreground, was stopped (Ctrl-Z): do what its
 * shell expects of a job, as sudo does. Take the terminal back and stop
 * patchscope with the same signal, so the shell sees the job stopped and
 * gives the prompt back. When continued (fg, bg), give CMD the terminal
 * again if patchscope has it (fg), and continue CMD. In a process group
 * that no shell controls (orphaned) the stop signal is discarded, and CMD
 * simply goes on.
 */
static void
run_cmd_stopped(struct run_cmd *run, int sig)
{
	/* SIGSTOP is someone's (a debugger's), who will continue CMD. */
	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) {
		log_info("%s was stopped (%s)", run->name, strsignal(sig));
		return;
	}
	log_info("%s was stopped (%s): stopping too", run->name,
	    strsignal(sig));
	log_flush();
	run_cmd_foreground(getpgrp());
	(void)kill(getpid(), sig);
	/* Continued. */
	run->terminal = tcgetpgrp(STDIN_FILENO) == getpgrp();
	if (run->terminal)
		run_cmd_foreground(run->pid);
	log_info("continuing %s%s", run->name, run->terminal ? "" :
	    " in the background");
	run_cmd_signal(run, SIGCONT);
}

/* SIGCHLD: reap CMD if it has ended, then tell the caller. */
static void
run_cmd_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run_cmd	*run = arg;
	pid_t		 r;
	int		 wstatus;

	(void)sig;
	(void)what;
	if (run->pid == -1)
		return;
	do
		r = waitpid(run->pid, &wstatus, WNOHANG |
		    (run->terminal ? WUNTRACED : 0));
	while (r == -1 && errno == EINTR);
	if (r != run->pid)
		return;		/* another child, or CMD still runs */
	if (WIFSTOPPED(wstatus)) {
		run_cmd_stopped(run, WSTOPSIG(wstatus));
		return;
	}
	run->pid = -1;
	run->status = run_cmd_wait_status(wstatus);
	run_cmd_terminal_back(run);
	if (WIFSIGNALED(wstatus))
		log_info("%s ended by signal %d (%s): exit status %d",
		    run->name, WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
		    run->status);
	else
		log_info("%s exited with status %d", run->name, run->status);
	run->done(run->arg);
}

/* Wait for exec's verdict on the pipe: 0, or the errno it failed with. */
static int
run_cmd_exec_result(int fd)
{
	ssize_t	n;
	int	err = 0;

	do
		n = read(fd, &err, sizeof err);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof err ? err : 0;
}

/*
 * JAVA_TOOL_OPTIONS also carries what the user had there (a coverage
 * agent, -Xmx...): theirs first, then ours, since the JVM lets a later
 * -Dname win, so the proxy and the trust store stay patchscope's.
 */
static void
run_cmd_java_keep(struct client_env *env)
{
	const char	*theirs = getenv("JAVA_TOOL_OPTIONS");
	const char	*ours = client_env_get(env, "JAVA_TOOL_OPTIONS");
	char		*both;

	if (theirs == NULL || theirs[strspn(theirs, " \t\n")] == '\0' ||
	    ours == NULL)
		return;
	both = xasprintf("%s %s", theirs, ours);
	client_env_set(env, "JAVA_TOOL_OPTIONS", both);
	free(both);
}

/*
 * The variables of `env` for the proxy at address, plus PATCHSCOPE_URL.
 * Return 0, or -1 with *cause.
 */
static int
run_cmd_env(const struct options *opts, const char *address,
    struct client_env *env, char **cause)
{
	struct ca	*ca;
	char		 host[64], *dir, *url;
	int		 port, rc;

	url = listen_addr_base_url(address);
	if (url == NULL || listen_addr_client(address, host, sizeof host,
	    &port) != 0) {
		*cause = xasprintf("cannot tell the command where patchscope "
		    "listens (%s)", address);
		free(url);
		return -1;
	}
	dir = ca_default_dir(opts->ca_dir);
	ca = ca_open(dir, 1, cause);
	free(dir);
	rc = ca != NULL ? client_env_build(env, host, port, ca, cause) : -1;
	ca_free(ca);
	if (rc == 0) {
		client_env_set(env, "PATCHSCOPE_URL", url);
		run_cmd_java_keep(env);
	}
	free(url);
	return rc;
}

/* Start CMD. */
struct run_cmd *
run_cmd_start(struct event_base *base, const struct options *opts,
    const char *address, void (*done)(void *), void *arg, int *status,
    char **cause)
{
	struct run_cmd		*run;
	struct client_env	 env;
	char			**envp;
	int			 fds[2], err, wstatus;

	*status = 2;
	if (run_cmd_env(opts, address, &env, cause) != 0)
		return NULL;
	envp = run_cmd_envp(environ, &env);
	client_env_free(&env);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		*cause = xasprintf("cannot run %s: pipe: %s", opts->command[0],
		    strerror(errno));
		run_cmd_envp_free(envp);
		return NULL;
	}
	run = xcalloc(1, sizeof *run);
	run->status = -1;
	run->name = xstrdup(opts->command[0]);
	run->done = done;
	run->arg = arg;
	/* Before the fork, so an early end is not missed. */
	run->sigchld = evsignal_new(base, SIGCHLD, run_cmd_sigchld_cb, run);
	if (run->sigchld == NULL || evsignal_add(run->sigchld, NULL) != 0) {
		*cause = xasprintf("cannot run %s: cannot watch for its end",
		    run->name);
		goto fail;
	}
	/* Only when patchscope's group is the terminal's foreground. */
	run->terminal = isatty(STDIN_FILENO) &&
	    tcgetpgrp(STDIN_FILENO) == getpgrp();
	fflush(stdout);
	fflush(stderr);
	run->pid = fork();
	if (run->pid == -1) {
		*cause = xasprintf("cannot run %s: fork: %s", run->name,
		    strerror(errno));
		goto fail;
	}
	if (run->pid == 0)
		run_cmd_child(opts->command, envp, fds[1], run->terminal);
	/* Both sides set the group, as shells do: whichever runs first. */
	(void)setpgid(run->pid, run->pid);
	if (run->terminal)
		run_cmd_foreground(run->pid);
	close(fds[1]);
	fds[1] = -1;
	err = run_cmd_exec_result(fds[0]);
	close(fds[0]);
	fds[0] = -1;
	if (err != 0) {
		while (waitpid(run->pid, &wstatus, 0) == -1 && errno == EINTR)
			;
		run->pid = -1;
		run_cmd_terminal_back(run);
		*status = run_cmd_exec_status(err);
		if (err == ENOENT && strchr(run->name, '/') == NULL)
			*cause = xasprintf("cannot run \"%s\": command not "
			    "found (in PATH)", run->name);
		else
			*cause = xasprintf("cannot run \"%s\": %s",
			    run->name, strerror(err));
		goto fail;
	}
	run_cmd_envp_free(envp);
	log_info("running %s (pid %ld) with PATCHSCOPE_URL and the proxy "
	    "variables set", run->name, (long)run->pid);
	return run;
fail:
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	run_cmd_envp_free(envp);
	run->pid = -1;
	(void)run_cmd_finish(run);
	return NULL;
}

/* Pass sig on to CMD's group. */
int
run_cmd_signal(struct run_cmd *run, int sig)
{
	if (run->pid == -1)
		return -1;
	/* The group: what Ctrl-C reaches; CMD alone if it left it. */
	if (kill(-run->pid, sig) == -1)
		(void)kill(run->pid, sig);
	return 0;
}

/* Kill and reap a CMD that still runs, free, return its status. */
int
run_cmd_finish(struct run_cmd *run)
{
	pid_t	r;
	int	wstatus, status;

	if (run->pid != -1) {
		log_warnx("%s still runs as patchscope stops: killing it",
		    run->name);
		run_cmd_signal(run, SIGKILL);
		do
			r = waitpid(run->pid, &wstatus, 0);
		while (r == -1 && errno == EINTR);
		run->status = r == run->pid ? run_cmd_wait_status(wstatus) :
		    128 + SIGKILL;
		run->pid = -1;
	}
	run_cmd_terminal_back(run);
	if (run->sigchld != NULL)
		event_free(run->sigchld);
	status = run->status;
	free(run->name);
	free(run);
	return status;
}
