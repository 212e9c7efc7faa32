/*
 * cmd_doctor: doctor, which runs each client it finds (curl, Python
 * requests, Node, git, Java, Go) through a patchscope proxy with the
 * environment `env` prints, against patchscope's own doctor origin
 * (doctor_serve.c), and prints a table: the client, its version, whether
 * it went through the proxy, whether it trusted the CA, and what to set
 * when not. The proxy is the one at --listen when one answers there,
 * else one started on a free port for the check (a child process: this
 * process only waits for clients, one at a time, each with a time limit).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ca.h"
#include "client_env.h"
#include "cmd.h"
#include "doctor.h"
#include "doctor_run.h"
#include "doctor_serve.h"
#include "log.h"
#include "options.h"
#include "xmalloc.h"

extern char	**environ;

static int	cmd_doctor(struct options *);

const struct cmd_entry cmd_doctor_entry = {
	.mode = OPTIONS_DOCTOR,
	.summary = "check which clients go through the proxy and trust its "
	    "CA",
	.args = "[--listen ADDR:PORT] [--ca-dir DIR]",
	.about =
	    "Run each client found on this machine (curl, Python requests, "
	    "Node, git,\nJava, Go) through patchscope with the environment "
	    "that `patchscope env`\nprints, and print a table: the client, "
	    "its version, whether it went\nthrough the proxy, whether it "
	    "trusted patchscope's CA, and what to set\nwhen not. The "
	    "clients ask for " DOCTOR_HOST ", a name that\nonly patchscope "
	    "answers: a client that skips the proxy cannot reach it.\n",
	.notes =
	    "With --listen, the patchscope proxy running there is checked "
	    "(give the\nsame --ca-dir it uses); when none answers there, or "
	    "without --listen,\none is started on a free port for the check. "
	    "Java and Go are slow to\nstart: the whole check can take half a "
	    "minute.\n\n"
	    "Exit status: 0 when every installed client passed, 1 when one "
	    "failed,\n2 when the check could not run.\n",
	.run = cmd_doctor
};

/* The environment of a client: ours, with the client variables set. */
static char **
cmd_doctor_envp(const struct client_env *env, const char *tmp)
{
	char	**envp;
	size_t	  n = 0, i, j, len;
	int	  ours;

	for (i = 0; environ[i] != NULL; i++)
		n++;
	envp = xcalloc(n + env->n + 3, sizeof *envp);
	n = 0;
	for (i = 0; environ[i] != NULL; i++) {
		ours = strncmp(environ[i], "GOCACHE=", 8) == 0 ||
		    strncmp(environ[i], "GIT_TERMINAL_PROMPT=", 20) == 0;
		for (j = 0; j < env->n && !ours; j++) {
			len = strlen(env->names[j]);
			ours = strncmp(environ[i], env->names[j], len) == 0 &&
			    environ[i][len] == '=';
		}
		if (!ours)
			envp[n++] = xstrdup(environ[i]);
	}
	for (j = 0; j < env->n; j++)
		envp[n++] = xasprintf("%s=%s", env->names[j], env->values[j]);
	/* Go builds the probe: its cache goes with the check. */
	envp[n++] = xasprintf("GOCACHE=%s/gocache", tmp);
	envp[n++] = xstrdup("GIT_TERMINAL_PROMPT=0");
	envp[n] = NULL;
	return envp;
}

/* The last line of a run's output that is not empty, for a message. */
static void
cmd_doctor_last_line(const struct buf *out, struct doctor_result *r)
{
	const char	*s = buf_str(out), *end = s + out->len, *start;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' '))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	if (end > start)
		doctor_note(r, start, (size_t)(end - start));
}

/* Run argv; 0 with out filled, or -1 (a message noted in r). */
static int
cmd_doctor_exec(const char *const *argv, char **envp, const char *tmp,
    unsigned timeout_s, struct buf *out, int *status,
    struct doctor_result *r)
{
	char	*cause = NULL;
	int	 timed_out;

	buf_reset(out);
	if (doctor_run((char *const *)argv, envp, tmp, timeout_s * 1000, out,
	    status, &timed_out, &cause) == -1) {
		doctor_note(r, cause, strlen(cause));
		free(cause);
		return -1;
	}
	if (timed_out)
		r->timed_out = 1;
	return 0;
}

/* The version of curl or git: word n of the first line of PROG --version. */
static void
cmd_doctor_version(const char *prog, int word, char **envp, const char *tmp,
    struct doctor_result *r)
{
	const char	*argv[] = { prog, "--version", NULL };
	struct buf	 out = { NULL, 0, 0 };
	const char	*s, *e;
	int		 status, i;

	if (cmd_doctor_exec(argv, envp, tmp, 5, &out, &status, r) == 0 &&
	    status == 0) {
		s = buf_str(&out);
		for (i = 0; i < word && s != NULL; i++)
			if ((s = strchr(s, ' ')) != NULL)
				s++;
		if (s != NULL) {
			e = s + strcspn(s, " \n");
			snprintf(r->version, sizeof r->version, "%.*s",
			    (int)(e - s), s);
		}
	}
	buf_free(&out);
}

/* curl or git: one run per scheme, judged by status (and messages). */
static void
cmd_doctor_tool(const struct doctor_client *c, char **envp, const char *tmp,
    struct doctor_result *r)
{
	static const char *const schemes[] = { "https", "http" };
	const char	*curl[] = { "curl", "-sS", "-o", "/dev/null",
	    "--max-time", "8", NULL, NULL };
	const char	*git[] = { "git", "ls-remote", NULL, NULL };
	struct buf	 out = { NULL, 0, 0 };
	enum doctor_outcome o;
	char		*url;
	size_t		 i;
	int		 status, rc;

	cmd_doctor_version(c->program, c->kind == DOCTOR_CURL ? 1 : 2, envp,
	    tmp, r);
	for (i = 0; i < 2 && !r->timed_out; i++) {
		url = xasprintf("%s://" DOCTOR_HOST "/%s%s", schemes[i],
		    c->name, c->kind == DOCTOR_GIT ? "/doctor.git" : "");
		curl[6] = git[2] = url;
		rc = cmd_doctor_exec(c->kind == DOCTOR_CURL ? curl : git, envp,
		    tmp, c->timeout_s, &out, &status, r);
		free(url);
		if (rc == -1)
			break;
		o = c->kind == DOCTOR_CURL ? doctor_curl_outcome(status) :
		    doctor_git_outcome(status, buf_str(&out));
		if (o != DOCTOR_OK)
			cmd_doctor_last_line(&out, r);
		if (i == 0)
			r->https = o;
		else
			r->http = o;
	}
	buf_free(&out);
}

/* A probe program: written to tmp, run, its lines read. */
static void
cmd_doctor_probe(const struct doctor_client *c, char **envp, const char *tmp,
    struct doctor_result *r)
{
	const char	*argv[4] = { c->program, NULL, NULL, NULL };
	struct buf	 out = { NULL, 0, 0 };
	char		*cause = NULL;
	int		 status;

	if (doctor_write(tmp, c->file, c->source, &cause) == -1) {
		doctor_note(r, cause, strlen(cause));
		free(cause);
		return;
	}
	if (strcmp(c->program, "go") == 0) {
		argv[1] = "run";
		argv[2] = c->file;
	} else
		argv[1] = c->file;
	if (cmd_doctor_exec(argv, envp, tmp, c->timeout_s, &out, &status,
	    r) == 0) {
		doctor_parse(out.data != NULL ? out.data : "", out.len, r);
		if (r->https == DOCTOR_NOT_RUN && r->http == DOCTOR_NOT_RUN)
			cmd_doctor_last_line(&out, r);
	}
	buf_free(&out);
}

/* Print the table; return the number of installed clients that failed. */
static int
cmd_doctor_table(const struct doctor_result *res)
{
	struct doctor_row	 row;
	char			 version[80];
	size_t			 i;
	int			 failed = 0;

	printf("%-7s %-22s %-11s %-14s %s\n", "CLIENT", "VERSION", "PROXY",
	    "TRUSTS CA", "WHAT TO SET");
	for (i = 0; i < doctor_nclients; i++) {
		const struct doctor_client *c = &doctor_clients[i];

		doctor_verdict(c, &res[i], &row);
		if (!res[i].installed) {
			snprintf(version, sizeof version, "not installed");
			printf("%-7s %-22s %-11s %-14s (install %s to check "
			    "it)\n", c->name, version, "-", "-", c->package);
			continue;
		}
		snprintf(version, sizeof version, "%s",
		    res[i].version[0] != '\0' ? res[i].version : "?");
		if (!row.pass)
			failed++;
		printf("%-7s %-22s %-11s %-14s %s\n", c->name, version,
		    row.proxy, row.trust, row.pass ? "-" : row.fix);
	}
	return failed;
}

/* Print the end of the log of the proxy doctor started (about to go). */
static void
cmd_doctor_proxy_log(const char *logpath)
{
	char	 tail[2048];
	FILE	*f;
	size_t	 n = 0;
	long	 size;

	if ((f = fopen(logpath, "r")) == NULL)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
		fseek(f, size > (long)sizeof tail - 1 ?
		    size - (long)sizeof tail + 1 : 0, SEEK_SET);
		n = fread(tail, 1, sizeof tail - 1, f);
	}
	fclose(f);
	tail[n] = '\0';
	fputs(tail, stderr);
	if (n > 0 && tail[n - 1] != '\n')
		fputc('\n', stderr);
}

/* doctor: find the proxy, run every client, print the table. */
static int
cmd_doctor(struct options *o)
{
	struct doctor_result	*res;
	struct doctor_proxy	 px = { -1, -1, NULL, 0 };
	struct client_env	 env;
	struct ca		*ca = NULL;
	char			*dir, *tmp = NULL, *cause = NULL, *why = NULL;
	char			*logpath = NULL, **envp = NULL;
	size_t			 i;
	int			 rc = 2, failed, st;

	log_init(LOG_LEVEL_WARN);
	signal(SIGPIPE, SIG_IGN);
	/* Interrupted: stop the client and our proxy, remove the files. */
	doctor_catch_signals();
	res = xcalloc(doctor_nclients, sizeof *res);
	if ((dir = ca_default_dir(o->ca_dir)) == NULL) {
		fprintf(stderr, "patchscope: no CA directory: set "
		    "PATCHSCOPE_HOME or HOME, or pass --ca-dir DIR\n");
		goto out;
	}
	if ((ca = ca_open(dir, 16, &cause)) == NULL ||
	    (tmp = doctor_tmpdir(&cause)) == NULL)
		goto fail;
	if (o->listen_given) {
		if (doctor_proxy_check(o->listen_host, o->listen_port, &why)) {
			px.host = xstrdup(o->listen_host);
			px.port = o->listen_port;
		} else {
			fprintf(stderr, "patchscope: %s; checking through a "
			    "proxy started for the check instead\n", why);
			free(why);
		}
	}
	if (px.host == NULL) {
		logpath = xasprintf("%s/proxy.log", tmp);
		if (doctor_proxy_start(&px, dir, logpath, &cause) == -1) {
			fprintf(stderr, "patchscope: %s\n", cause);
			free(cause);
			cmd_doctor_proxy_log(logpath);
			goto out;
		}
	}
	if (client_env_build(&env, px.host, px.port, ca, &cause) == -1)
		goto fail;
	envp = cmd_doctor_envp(&env, tmp);
	client_env_free(&env);

	printf("Clients through the patchscope proxy at %s%s%s:%d (%s), CA "
	    "in %s:\n\n", strchr(px.host, ':') != NULL ? "[" : "", px.host,
	    strchr(px.host, ':') != NULL ? "]" : "", px.port,
	    px.pid > 0 ? "started for this check" : "already running", dir);
	fflush(stdout);
	for (i = 0; i < doctor_nclients; i++) {
		const struct doctor_client *c = &doctor_clients[i];

		if (doctor_signal != 0)
			break;
		res[i].installed = doctor_which(c->program);
		if (!res[i].installed)
			continue;
		if (c->kind == DOCTOR_PROGRAM)
			cmd_doctor_probe(c, envp, tmp, &res[i]);
		else
			cmd_doctor_tool(c, envp, tmp, &res[i]);
	}
	if (doctor_signal != 0)
		goto out;
	failed = cmd_doctor_table(res);
	if (failed > 0)
		printf("\n%d installed client%s did not pass: set what the "
		    "last column says\n(`eval \"$(patchscope env)\"` sets "
		    "all of patchscope's variables).\n", failed,
		    failed == 1 ? "" : "s");
	rc = failed > 0 ? 1 : 0;
	goto out;

fail:
	fprintf(stderr, "patchscope: %s\n", cause);
	free(cause);
out:
	/* A proxy of ours that does not stop cleanly is a failure too. */
	if ((st = doctor_proxy_stop(&px)) != 0 && logpath != NULL) {
		fprintf(stderr, "patchscope: the proxy started for the check "
		    "exited with status %d; the end of its log:\n", st);
		cmd_doctor_proxy_log(logpath);
		rc = 2;
	}
	if (envp != NULL) {
		for (i = 0; envp[i] != NULL; i++)
			free(envp[i]);
		free(envp);
	}
	if (tmp != NULL) {
		doctor_rmtree(tmp);
		free(tmp);
	}
	free(logpath);
	free(res);
	ca_free(ca);
	free(dir);
	doctor_reraise();
	return rc;
}
