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
	.summary = "print shell exports that send curl, Python, Node and git "
	    "through the proxy",
	.args = "[--listen ADDR:PORT] [--ca-dir DIR]",
	.about =
	    "Print shell commands that send this shell's curl, Python "
	    "requests, Node\nand git through patchscope and make them trust "
	    "its CA:\n\n  eval \"$(patchscope env)\"\n",
	.notes =
	    "NO_PROXY is left alone: unset it if it lists the hosts you want "
	    "to see.\n",
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
	static const char	*proxy_vars[] = {
		"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"
	};
	static const char	*bundle_vars[] = {
		"CURL_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
		"GIT_SSL_CAINFO"
	};
	struct ca		*ca;
	const char		*bundle;
	char			*cause = NULL, *url;
	size_t			 i;

	log_init(LOG_LEVEL_WARN);
	if ((ca = cmd_ca_open(opts->ca_dir)) == NULL)
		return 2;
	if ((bundle = ca_write_bundle(ca, &cause)) == NULL) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		ca_free(ca);
		return 2;
	}
	url = strchr(opts->listen_host, ':') != NULL ?
	    xasprintf("http://[%s]:%d", opts->listen_host, opts->listen_port) :
	    xasprintf("http://%s:%d", opts->listen_host, opts->listen_port);
	for (i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
		cmd_env_export(proxy_vars[i], url);
	/* Tools that take one file get the system store plus our CA. */
	for (i = 0; i < sizeof bundle_vars / sizeof bundle_vars[0]; i++)
		cmd_env_export(bundle_vars[i], bundle);
	cmd_env_export("NODE_EXTRA_CA_CERTS", ca_cert_path(ca));
	cmd_env_export("NODE_USE_ENV_PROXY", "1");
	free(url);
	ca_free(ca);
	return 0;
}
