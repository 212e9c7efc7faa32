/*
 * main: the command line. Picks a command from the table, parses its
 * options, runs it, and turns failures into exit codes: 0 success, 1 a
 * finding, 2 usage or I/O error. The only module that writes to stdout.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "options.h"
#include "proxy.h"

struct command {
	const char	*name;
	const char	*usage;
	const char	*summary;
	int		(*run)(int, char **);
};

static int	cmd_proxy(int, char **);

static const struct command commands[] = {
	{ "proxy", "patchscope proxy [OPTIONS]",
	  "forward HTTP proxy: relays every exchange and logs it", cmd_proxy },
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
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
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
