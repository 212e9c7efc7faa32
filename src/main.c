/*
 * main: the command line. Picks a command from the table, parses its
 * options, runs it, and turns failures into exit codes: 0 success, 1 a
 * finding, 2 usage or I/O error. The only module that writes to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "buf.h"
#include "ca.h"
#include "diagnose.h"
#include "log.h"
#include "options.h"
#include "proxy.h"
#include "rules.h"
#include "snapshot.h"
#include "xmalloc.h"

struct command {
	const char	*name;
	const char	*usage;
	const char	*summary;
	int		(*run)(int, char **);
};

static int	cmd_proxy(int, char **);
static int	cmd_ca(int, char **);
static int	cmd_env(int, char **);
static int	cmd_lint(int, char **);

static const struct command commands[] = {
	{ "proxy", "patchscope proxy [OPTIONS]",
	  "forward HTTP(S) proxy: relays every exchange and logs it",
	  cmd_proxy },
	{ "ca", "patchscope ca [--dir DIR]",
	  "create patchscope's CA if missing; print its certificate's path",
	  cmd_ca },
	{ "env", "patchscope env [--listen ADDR:PORT] [--ca-dir DIR]",
	  "print shell exports that send curl, Python, Node and git "
	  "through the proxy", cmd_env },
	{ "lint", "patchscope lint [--snapshot FILE] [--json] PAYLOAD|-",
	  "diagnose a profile PATCH body offline", cmd_lint },
};

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f,
	    "Usage: patchscope COMMAND [OPTIONS]\n"
	    "\n"
	    "patchscope sits between an HTTP client and the profile API, relays\n"
	    "every exchange and tells you what went wrong.\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-6s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
	    "\n"
	    "Quick start:\n"
	    "  patchscope proxy &\n"
	    "  eval \"$(patchscope env)\"   # this shell's clients now use it\n"
	    "\n"
	    "Run 'patchscope COMMAND --help' for a command's options.\n"
	    "  -h, --help     show this help\n"
	    "      --version  show the version\n"
	    "\n"
	    "Exit status: 0 success, 1 a finding, 2 usage or I/O error.\n"
	    "See patchscope(1) for details.\n");
}

/* One line on stderr naming the cause, as DESIGN.md promises; exit 2. */
static int
usage_error(const char *cmd, const char *cause)
{
	fprintf(stderr, "patchscope: %s (see 'patchscope %s--help')\n", cause,
	    cmd != NULL ? cmd : "");
	return 2;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("received %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	proxy_shutdown(arg);
}

static int
cmd_proxy(int argc, char **argv)
{
	struct options		 opts;
	struct event_base	*base;
	struct proxy		*proxy;
	struct event		*sigint, *sigterm;
	struct event_config	*cfg;
	char			*cause = NULL;

	options_defaults(&opts);
	if (options_parse(&opts, argc, argv, &cause) != 0) {
		usage_error("proxy ", cause);
		free(cause);
		options_free(&opts);
		return 2;
	}
	if (opts.help) {
		printf("Usage: patchscope proxy [OPTIONS]\n\n"
		    "Run a forward HTTP proxy. Point a client at it (for "
		    "example\nhttp_proxy=http://127.0.0.1:8080) and every "
		    "exchange is relayed\nand logged on stderr.\n\n"
		    "Options:\n%s", options_usage());
		options_free(&opts);
		return 0;
	}
	log_init(opts.log_level);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * The epoll changelist folds the add/remove of a write event within
	 * one loop pass into nothing: keep-alive exchanges then cost far
	 * fewer epoll_ctl calls. We never dup() a descriptor, the one case
	 * the changelist gets wrong.
	 */
	cfg = event_config_new();
	if (cfg != NULL)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = cfg != NULL ? event_base_new_with_config(cfg) : NULL;
	if (cfg != NULL)
		event_config_free(cfg);
	if (base == NULL) {
		fprintf(stderr, "patchscope: cannot create the event loop\n");
		options_free(&opts);
		return 2;
	}
	proxy = proxy_new(base, &opts, &cause);
	if (proxy == NULL) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		event_base_free(base);
		options_free(&opts);
		return 2;
	}
	if (strncmp(proxy_address(proxy), "127.", 4) != 0 &&
	    strcmp(proxy_address(proxy), "[::1]") != 0 &&
	    strncmp(proxy_address(proxy), "[::1]:", 6) != 0)
		log_warnx("listening on %s, which is not a loopback address: "
		    "other machines can use this proxy", proxy_address(proxy));
	sigint = evsignal_new(base, SIGINT, signal_cb, proxy);
	sigterm = evsignal_new(base, SIGTERM, signal_cb, proxy);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	printf("listening on %s\n", proxy_address(proxy));
	fflush(stdout);
	event_base_dispatch(base);
	proxy_free(proxy);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	options_free(&opts);
	log_info("stopped");
	return 0;
}

/* Parse the small option sets of ca and env; -1 after a usage error. */
static int
parse_small(int argc, char **argv, const char *cmd, const char **dir,
    const char **listen, int *help)
{
	static const struct option	 lopts[] = {
		{ "dir",	required_argument, NULL, 'd' },
		{ "ca-dir",	required_argument, NULL, 'd' },
		{ "listen",	required_argument, NULL, 'l' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char				*cause;
	int				 ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":l:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			*dir = optarg;
			break;
		case 'l':
			if (listen == NULL)
				goto unknown;
			*listen = optarg;
			break;
		case 'h':
			*help = 1;
			break;
		case ':':
			cause = xasprintf("option %s needs a value",
			    argv[optind - 1]);
			usage_error(cmd, cause);
			free(cause);
			return -1;
		default:
		unknown:
			cause = xasprintf("unknown option %s", argv[optind - 1]);
			usage_error(cmd, cause);
			free(cause);
			return -1;
		}
	}
	if (optind < argc) {
		cause = xasprintf("unexpected argument \"%s\"", argv[optind]);
		usage_error(cmd, cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Open (or create) the CA in dir; print why and return NULL on failure. */
static struct ca *
open_ca(const char *dir)
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

static int
cmd_ca(int argc, char **argv)
{
	struct ca	*ca;
	const char	*dir = NULL;
	int		 help = 0;

	if (parse_small(argc, argv, "ca ", &dir, NULL, &help) != 0)
		return 2;
	if (help) {
		printf("Usage: patchscope ca [--dir DIR]\n\n"
		    "Create patchscope's certificate authority if it does not "
		    "exist yet, and\nprint the path of its certificate "
		    "(ca.pem). Clients must trust this\ncertificate for "
		    "patchscope to read their HTTPS traffic.\n\n"
		    "  --dir DIR   where the CA lives (default $PATCHSCOPE_HOME, "
		    "else ~/.patchscope)\n");
		return 0;
	}
	log_init(LOG_LEVEL_WARN);
	if ((ca = open_ca(dir)) == NULL)
		return 2;
	printf("%s\n", ca_cert_path(ca));
	ca_free(ca);
	return 0;
}

/* Print one export line, single-quoted for any POSIX shell. */
static void
print_export(const char *name, const char *value)
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

static int
cmd_env(int argc, char **argv)
{
	static const char	*proxy_vars[] = {
		"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"
	};
	static const char	*bundle_vars[] = {
		"CURL_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
		"GIT_SSL_CAINFO"
	};
	struct ca		*ca;
	const char		*dir = NULL, *listen = OPTIONS_DEFAULT_LISTEN;
	const char		*bundle;
	char			*host, *cause = NULL, *url;
	int			 port, help = 0;
	size_t			 i;

	if (parse_small(argc, argv, "env ", &dir, &listen, &help) != 0)
		return 2;
	if (help) {
		printf("Usage: patchscope env [--listen ADDR:PORT] "
		    "[--ca-dir DIR]\n\n"
		    "Print shell commands that send this shell's curl, Python "
		    "requests, Node\nand git through patchscope and make them "
		    "trust its CA:\n\n"
		    "  eval \"$(patchscope env)\"\n\n"
		    "  -l, --listen ADDR:PORT  where the proxy listens (default "
		    OPTIONS_DEFAULT_LISTEN ")\n"
		    "      --ca-dir DIR        where the CA lives (default "
		    "$PATCHSCOPE_HOME, else\n"
		    "                          ~/.patchscope); created if "
		    "missing\n\n"
		    "NO_PROXY is left alone: unset it if it lists the hosts "
		    "you want to see.\n");
		return 0;
	}
	if (options_parse_listen(listen, &host, &port, &cause) != 0) {
		usage_error("env ", cause);
		free(cause);
		return 2;
	}
	log_init(LOG_LEVEL_WARN);
	if ((ca = open_ca(dir)) == NULL) {
		free(host);
		return 2;
	}
	if ((bundle = ca_write_bundle(ca, &cause)) == NULL) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		ca_free(ca);
		free(host);
		return 2;
	}
	url = strchr(host, ':') != NULL ?
	    xasprintf("http://[%s]:%d", host, port) :
	    xasprintf("http://%s:%d", host, port);
	for (i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
		print_export(proxy_vars[i], url);
	/* Tools that take one file get the system store plus our CA. */
	for (i = 0; i < sizeof bundle_vars / sizeof bundle_vars[0]; i++)
		print_export(bundle_vars[i], bundle);
	print_export("NODE_EXTRA_CA_CERTS", ca_cert_path(ca));
	print_export("NODE_USE_ENV_PROXY", "1");
	free(url);
	free(host);
	ca_free(ca);
	return 0;
}

#define LINT_MAX_INPUT	(64 * 1024 * 1024)

/* Read a whole file ("-": stdin) into b; -1 with a message on failure. */
static int
read_input(const char *path, struct buf *b)
{
	FILE	*f;
	char	 chunk[65536];
	size_t	 n;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "patchscope: cannot read %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b->len + n > LINT_MAX_INPUT) {
			fprintf(stderr, "patchscope: %s is larger than 64 MiB\n",
			    path);
			if (f != stdin)
				fclose(f);
			return -1;
		}
		buf_add(b, chunk, n);
	}
	if (ferror(f)) {
		fprintf(stderr, "patchscope: cannot read %s: %s\n", path,
		    strerror(errno));
		if (f != stdin)
			fclose(f);
		return -1;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

static int
cmd_lint(int argc, char **argv)
{
	static const struct option	 lopts[] = {
		{ "snapshot",	required_argument, NULL, 's' },
		{ "rules",	required_argument, NULL, 'r' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char			*snap_path = NULL, *rules_path = NULL;
	struct buf			 payload = { NULL, 0, 0 };
	struct buf			 snap_text = { NULL, 0, 0 }, line = { NULL, 0, 0 };
	struct diag_list		 diags = { NULL, 0, 0 };
	struct snapshot			*snap = NULL;
	struct rules			*rules = NULL;
	json_t				*doc = NULL, *out;
	json_error_t			 jerr;
	char				*cause = NULL, *text;
	int				 ch, json = 0, rc = 2;
	size_t				 i;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			snap_path = optarg;
			break;
		case 'r':
			rules_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("Usage: patchscope lint [--snapshot FILE] "
			    "[--rules FILE] [--json] PAYLOAD|-\n\n"
			    "Diagnose the JSON body of a profile PATCH without "
			    "sending it. PAYLOAD is a\nfile, or - for standard "
			    "input.\n\n"
			    "  --snapshot FILE  the body of a GET of the profile "
			    "(an object with\n"
			    "                   \"actions\"): then actions that "
			    "the PATCH would delete,\n"
			    "                   and ids the profile does not "
			    "have, are found too\n"
			    "  --rules FILE     known types, anchors, fields and "
			    "placeholders\n"
			    "                   (default: the built-in rules)\n"
			    "  --json           print {\"diagnoses\": [...]} "
			    "instead of text\n\n"
			    "Exit status: 0 no error, 1 errors found, 2 usage "
			    "or I/O error.\n");
			return 0;
		case ':':
			cause = xasprintf("option %s needs a value",
			    argv[optind - 1]);
			goto usage;
		default:
			cause = xasprintf("unknown option %s", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind != argc - 1) {
		cause = xasprintf(optind >= argc ? "missing PAYLOAD (a file, "
		    "or - for standard input)" : "more than one PAYLOAD");
		goto usage;
	}
	if (rules_path != NULL) {
		if ((rules = rules_load(rules_path, &cause)) == NULL) {
			fprintf(stderr, "patchscope: %s\n", cause);
			goto done;
		}
	} else
		rules = rules_builtin();
	if (snap_path != NULL) {
		if (read_input(snap_path, &snap_text) != 0)
			goto done;
		doc = json_loadb(buf_str(&snap_text), snap_text.len, 0, &jerr);
		if (!json_is_object(doc)) {
			fprintf(stderr, "patchscope: %s is not the JSON body of "
			    "a GET of a profile (line %d, column %d: %s)\n",
			    snap_path, jerr.line, jerr.column, doc == NULL ?
			    jerr.text : "not an object");
			goto done;
		}
		rules_learn(rules, doc);
		/* A saved GET is taken to hold every field of its actions. */
		snap = snapshot_new(doc, "actions.*");
		if (snap == NULL) {
			fprintf(stderr, "patchscope: %s has no \"actions\" "
			    "array: nothing is known of the profile's "
			    "actions\n", snap_path);
			goto done;
		}
	}
	if (read_input(argv[optind], &payload) != 0)
		goto done;
	diagnose_patch(buf_str(&payload), payload.len, NULL, snap, rules,
	    &diags);
	if (json) {
		out = json_array();
		for (i = 0; i < diags.n; i++)
			json_array_append_new(out, diag_to_json(&diags.v[i]));
		out = json_pack("{s:o}", "diagnoses", out);
		text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text != NULL ? text : "{}");
		free(text);
		json_decref(out);
	} else {
		for (i = 0; i < diags.n; i++) {
			buf_reset(&line);
			diag_format(&diags.v[i], &line);
			printf("%s\n", buf_str(&line));
		}
		if (diags.n == 0)
			fprintf(stderr, "patchscope: no problems found\n");
	}
	rc = diag_list_has_errors(&diags) ? 1 : 0;
	goto done;
usage:
	usage_error("lint ", cause);
done:
	free(cause);
	diag_list_free(&diags);
	snapshot_free(snap);
	json_decref(doc);
	rules_free(rules);
	buf_free(&payload);
	buf_free(&snap_text);
	buf_free(&line);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t	i;

	if (argc < 2)
		return usage_error(NULL, "missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("patchscope %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "patchscope: unknown command \"%s\" (see 'patchscope "
	    "--help')\n", argv[1]);
	return 2;
}
