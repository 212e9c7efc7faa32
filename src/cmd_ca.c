/*
 * cmd_ca: ca and env, the commands that set up a client to trust
 * patchscope. ca creates the certificate authority if it is missing and
 * prints its certificate's path; env prints the shell exports that send a
 * shell's clients through the proxy and make them trust that CA.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "client_env.h"
#include "cmd.h"
#include "log.h"
#include "options.h"
#include "xmalloc.h"

static int	cmd_ca(struct options *);
static int	cmd_env(struct options *);

const struct cmd_entry cmd_ca_entry = {
	.mode = OPTIONS_CA,
	.summary = "create patchscope's CA if missing; print its certificate's "
	    "path",
	.args = "[--dir DIR]",
	.about =
	    "Create patchscope's certificate authority if it does not exist "
	    "yet, and\nprint the path of its certificate (ca.pem). Clients "
	    "must trust this\ncertificate for patchscope to read their HTTPS "
	    "traffic.\n",
	.run = cmd_ca
};

const struct cmd_entry cmd_env_entry = {
	.mode = OPTIONS_ENV,
	.summary = "print shell exports that send clients through the "
	    "proxy",
	.args = "[--listen ADDR:PORT] [--ca-dir DIR]",
	.about =
	    "Print shell commands that send this shell's curl, Python "
	    "requests, Node,\ngit, Java and Go through patchscope and make "
	    "them trust its CA:\n\n  eval \"$(patchscope env)\"\n",
	.notes =
	    "NO_PROXY is left alone: unset it if it lists the hosts you want "
	    "to see.\nJava (JAVA_TOOL_OPTIONS) gets a trust store written "
	    "next to the CA,\ntruststore.jks. Node honours NODE_USE_ENV_PROXY "
	    "from 22.21 and 24.0 only.\nGo and Java never use a proxy for "
	    "loopback addresses: test them with the\nreal host name and "
	    "--resolve HOST:PORT=127.0.0.1:PORT on the proxy.\n",
	.run = cmd_env
};

/* Open (or create) the CA in dir; print why and return NULL on failure. */
static struct ca *
cmd_ca_open(const char *dir)
{
	struct ca	*ca;
	char		*path, *cause = NULL;

	path = ca_default_dir(dir);
	ca = ca_open(path, 16, &cause);
	if (ca == NULL) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
	}
	free(path);
	return ca;
}

/* ca: print the path of the CA's certificate, creating the CA first. */
static int
cmd_ca(struct options *opts)
{
	struct ca	*ca;

	log_init(LOG_LEVEL_WARN);
	if ((ca = cmd_ca_open(opts->ca_dir)) == NULL)
		return 2;
	printf("%s\n", ca_cert_path(ca));
	ca_free(ca);
	return 0;
}

/* Print one export line, single-quoted for any POSIX shell. */
static void
cmd_env_export(const char *name, const char *value)
{
	const char	*p;

	printf("export %s='", name);
	for (p = value; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	printf("'\n");
}

/* env: the exports for the proxy at --listen and the CA in --ca-dir. */
static int
cmd_env(struct options *opts)
{
	struct client_env	 env;
	struct ca		*ca;
	char			*cause = NULL;
	size_t			 i;

	log_init(LOG_LEVEL_WARN);
	if ((ca = cmd_ca_open(opts->ca_dir)) == NULL)
		return 2;
	if (client_env_build(&env, opts->listen_host, opts->listen_port, ca,
	    &cause) == -1) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		ca_free(ca);
		return 2;
	}
	for (i = 0; i < env.n; i++)
		cmd_env_export(env.names[i], env.values[i]);
	client_env_free(&env);
	ca_free(ca);
	return 0;
}
