/*
 * main: the command line. Picks a command from the table, parses its
 * options, runs it, and turns failures into exit codes: 0 success, 1 a
 * finding, 2 usage or I/O error. The only module that writes to stdout.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "api.h"
#include "body.h"
#include "buf.h"
#include "ca.h"
#include "cassette.h"
#include "diagnose.h"
#include "exchange.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "proxy.h"
#include "recorder.h"
#include "redact.h"
#include "replay.h"
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
static int	cmd_record(int, char **);
static int	cmd_replay(int, char **);
static int	cmd_show(int, char **);
static int	cmd_ca(int, char **);
static int	cmd_env(int, char **);
static int	cmd_lint(int, char **);

static const struct command commands[] = {
	{ "proxy", "patchscope proxy [OPTIONS]",
	  "forward HTTP(S) proxy: relays every exchange and logs it",
	  cmd_proxy },
	{ "record", "patchscope record [OPTIONS] -c FILE",
	  "the same, and records every exchange to a HAR cassette",
	  cmd_record },
	{ "replay", "patchscope replay [OPTIONS] -c FILE",
	  "answer from a cassette; nothing leaves the machine", cmd_replay },
	{ "show", "patchscope show [--json] FILE",
	  "print a cassette as a readable transcript, with diagnoses",
	  cmd_show },
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
		fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].summary);
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

#define CASSETTE_MAX_FILE	((size_t)4 << 30)	/* 4 GiB */

/* A cassette's bytes: mapped from the file, or read when it cannot be. */
struct cassette_text {
	const char	*data;
	size_t		 len;
	void		*map;
	struct buf	 copy;
};

/* Map (or read) a whole cassette; -1 with *cause set. */
static int
cassette_text_open(const char *path, struct cassette_text *t, char **cause)
{
	struct stat	 st;
	char		 chunk[65536];
	ssize_t		 n;
	int		 fd;

	memset(t, 0, sizeof *t);
	t->data = "";
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) != 0) {
		*cause = xasprintf("cannot read %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > CASSETTE_MAX_FILE) {
		*cause = xasprintf("%s is larger than 4 GiB", path);
		close(fd);
		return -1;
	}
	/* Mapped, the file costs no copy (a 200 MB cassette, 200 MB less). */
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		t->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0);
		if (t->map != MAP_FAILED) {
			t->data = t->map;
			t->len = (size_t)st.st_size;
			close(fd);
			return 0;
		}
		t->map = NULL;
	}
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || t->copy.len + (size_t)n > CASSETTE_MAX_FILE) {
			*cause = n < 0 ? xasprintf("cannot read %s: %s", path,
			    strerror(errno)) : xasprintf("%s is larger than 4 "
			    "GiB", path);
			buf_free(&t->copy);
			close(fd);
			return -1;
		}
		buf_add(&t->copy, chunk, (size_t)n);
	}
	close(fd);
	t->data = t->copy.data != NULL ? t->copy.data : "";
	t->len = t->copy.len;
	return 0;
}

static void
cassette_text_close(struct cassette_text *t)
{
	if (t->map != NULL)
		munmap(t->map, t->len);
	buf_free(&t->copy);
	memset(t, 0, sizeof *t);
}

struct load_ctx {
	struct replay_index	*idx;
	struct redactor		*redactor;
	size_t			 skipped;	/* entries with no response */
};

/* Index one cassette entry, redacted as live requests will be. */
static int
load_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct load_ctx	*ctx = arg;

	(void)index;
	(void)cause;
	/*
	 * Live requests are redacted before matching, so the recorded ones
	 * must be too (a cassette made with --no-redact, or by a browser).
	 * Responses are served as recorded.
	 */
	redact_request(ctx->redactor, x);
	/* Keep the numbering of log.entries: index every entry. */
	if (x->status == 0)
		ctx->skipped++;
	replay_add(ctx->idx, x);
	exchange_free(x);
	return 0;
}

/* Load the cassette to replay; NULL after printing why. */
static struct replay_index *
load_replay(const struct options *opts, struct redactor *redactor)
{
	struct load_ctx		 ctx;
	struct cassette_text	 text;
	struct timespec		 t0, t1;
	char			*cause = NULL;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (cassette_text_open(opts->cassette, &text, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		return NULL;
	}
	ctx.idx = replay_new((const char *const *)opts->match_headers,
	    opts->n_match_headers);
	ctx.redactor = redactor;
	ctx.skipped = 0;
	if (cassette_parse(text.data, text.len, load_entry_cb, &ctx, NULL,
	    &cause) != 0) {
		fprintf(stderr, "patchscope: %s: %s (the file is left as it "
		    "is)\n", opts->cassette, cause);
		free(cause);
		cassette_text_close(&text);
		replay_free(ctx.idx);
		return NULL;
	}
	cassette_text_close(&text);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("replay: %zu entries from %s (%.0f ms)",
	    replay_count(ctx.idx), opts->cassette,
	    (double)(t1.tv_sec - t0.tv_sec) * 1000.0 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	if (ctx.skipped > 0)
		log_info("replay: %zu entries have no response (status 0) and "
		    "never match", ctx.skipped);
	return ctx.idx;
}

/*
 * Say which entries were never served and which requests missed: in the
 * log, and as JSON in --report FILE. Return 1 when --strict and the
 * cassette is stale, 2 when the report cannot be written, else 0.
 */
static int
replay_finish(const struct options *opts, struct replay_index *idx)
{
	json_t		*report, *v;
	size_t		 i, unused, misses;
	FILE		*f;
	int		 rc = 0;

	report = replay_report(idx);
	unused = json_array_size(json_object_get(report, "unused"));
	v = json_object_get(report, "misses_total");
	misses = v != NULL ? (size_t)json_integer_value(v) :
	    json_array_size(json_object_get(report, "misses"));
	log_info("replay: %zu entries, %" JSON_INTEGER_FORMAT " served, %zu "
	    "never used, %zu request(s) missed", replay_count(idx),
	    json_integer_value(json_object_get(report, "served")), unused,
	    misses);
	for (i = 0; i < unused && i < 20; i++) {
		v = json_array_get(json_object_get(report, "unused"), i);
		log_info("replay:   unused entry %" JSON_INTEGER_FORMAT ": %s %s",
		    json_integer_value(json_object_get(v, "entry")),
		    json_string_value(json_object_get(v, "method")),
		    json_string_value(json_object_get(v, "url")));
	}
	for (i = 0; i < json_array_size(json_object_get(report, "misses")) &&
	    i < 20; i++) {
		v = json_array_get(json_object_get(report, "misses"), i);
		log_info("replay:   missed: %s %s",
		    json_string_value(json_object_get(v, "method")),
		    json_string_value(json_object_get(v, "url")));
	}
	if (opts->report_file != NULL) {
		f = fopen(opts->report_file, "w");
		if (f == NULL || json_dumpf(report, f, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) != 0 || fputc('\n', f) == EOF ||
		    fclose(f) != 0) {
			fprintf(stderr, "patchscope: cannot write the report "
			    "to %s: %s\n", opts->report_file, strerror(errno));
			rc = 2;
		}
	}
	if (rc == 0 && opts->strict && (unused > 0 || misses > 0)) {
		log_warnx("replay --strict: the cassette is stale (%zu unused "
		    "entries, %zu misses)", unused, misses);
		rc = 1;
	}
	json_decref(report);
	return rc;
}

static const char *serve_intro[] = {
	[OPTIONS_PROXY] =
	    "Usage: patchscope proxy [OPTIONS]\n\n"
	    "Run a forward HTTP proxy. Point a client at it (for example\n"
	    "http_proxy=http://127.0.0.1:8080) and every exchange is relayed\n"
	    "and logged on stderr.\n\nOptions:\n",
	[OPTIONS_RECORD] =
	    "Usage: patchscope record [OPTIONS] -c FILE\n\n"
	    "Run the proxy and append every exchange (plain and intercepted "
	    "HTTPS) to\nFILE, a HAR 1.2 cassette that browsers' devtools and "
	    "HAR viewers open.\nSecrets (Authorization, cookies, API keys, "
	    "tokens in queries and JSON)\nare replaced by redacted:<hash> "
	    "before anything is written. The file is\nvalid at every moment "
	    "and is brought up to date every second.\n\nOptions:\n",
	[OPTIONS_REPLAY] =
	    "Usage: patchscope replay [OPTIONS] -c FILE\n\n"
	    "Answer requests from a cassette; nothing leaves the machine. "
	    "Send requests\nstraight to it (a test's base URL, e.g. "
	    "http://127.0.0.1:PORT), through it as\na proxy (http_proxy), or "
	    "over HTTPS through it (https_proxy, trusting the\nCA of "
	    "'patchscope ca'). A request that matches no recorded one gets "
	    "404 with\nX-Patchscope-Replay: miss and a JSON body naming the "
	    "nearest recorded request\nand how it differs.\n\nOptions:\n",
};

/* proxy, record and replay: serve until SIGINT or SIGTERM. */
static int
serve(enum options_mode mode, int argc, char **argv)
{
	static const char	*names[] = { "proxy ", "record ", "replay " };
	struct options		 opts;
	struct event_base	*base;
	struct proxy		*proxy;
	struct event		*sigint, *sigterm;
	struct event_config	*cfg;
	struct recorder		*rec = NULL;
	struct replay_index	*idx = NULL;
	struct redactor		*redactor;
	char			*cause = NULL;
	size_t			 recorded;
	int			 rc = 0, loaded;

	options_defaults(&opts);
	opts.mode = mode;
	if (options_parse(&opts, argc, argv, &cause) != 0) {
		usage_error(names[mode], cause);
		free(cause);
		options_free(&opts);
		return 2;
	}
	if (opts.help) {
		printf("%s%s%s", serve_intro[mode],
		    mode == OPTIONS_RECORD ? options_usage_record() :
		    mode == OPTIONS_REPLAY ? options_usage_replay() : "",
		    options_usage());
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
	/* The cassette first: one that cannot be read changes nothing. */
	loaded = 1;
	if (mode == OPTIONS_REPLAY) {
		redactor = proxy_redactor_new(&opts);
		idx = load_replay(&opts, redactor);
		redact_free(redactor);
		loaded = idx != NULL;
	}
	if (loaded && (mode == OPTIONS_RECORD ||
	    (mode == OPTIONS_REPLAY && opts.fallback_proxy))) {
		rec = recorder_open(base, opts.cassette, opts.no_redact, &cause);
		if (rec == NULL) {
			fprintf(stderr, "patchscope: %s\n", cause);
			free(cause);
			loaded = 0;
		}
	}
	proxy = loaded ? proxy_new(base, &opts, &cause) : NULL;
	if (proxy == NULL) {
		if (loaded) {
			fprintf(stderr, "patchscope: %s\n", cause);
			free(cause);
		}
		(void)recorder_close(rec, NULL);
		replay_free(idx);
		event_base_free(base);
		options_free(&opts);
		return 2;
	}
	if (opts.no_redact)
		log_warnx("--no-redact: credentials and secrets are stored in "
		    "%s as they are; do not attach it to a ticket or commit it",
		    opts.cassette);
	if (rec != NULL) {
		proxy_set_recorder(proxy, rec);
		log_info("recording to %s", opts.cassette);
	}
	if (idx != NULL)
		proxy_set_replay(proxy, idx);
	if (strncmp(proxy_address(proxy), "127.", 4) != 0 &&
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
	if (rec != NULL) {
		recorded = recorder_added(rec);
		if (recorder_close(rec, &cause) != 0) {
			fprintf(stderr, "patchscope: %s: the last exchanges "
			    "could not be saved\n", cause);
			free(cause);
			rc = 2;
		} else
			log_info("cassette: %zu exchange(s) recorded to %s",
			    recorded, opts.cassette);
	}
	if (idx != NULL) {
		loaded = replay_finish(&opts, idx);
		if (rc == 0)
			rc = loaded;
		replay_free(idx);
	}
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	options_free(&opts);
	log_info("stopped");
	return rc;
}

static int
cmd_proxy(int argc, char **argv)
{
	return serve(OPTIONS_PROXY, argc, argv);
}

static int
cmd_record(int argc, char **argv)
{
	return serve(OPTIONS_RECORD, argc, argv);
}

static int
cmd_replay(int argc, char **argv)
{
	return serve(OPTIONS_REPLAY, argc, argv);
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

	optind = 0;	/* glibc: a full reset of getopt */
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

	optind = 0;	/* glibc: a full reset of getopt */
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

/* What show carries from entry to entry. */
struct show_ctx {
	int			 json;
	struct rules		*rules;
	struct snapshot_store	*snapshots;
	struct buf		 out;
};

/* Headers a support engineer reads past; show leaves them out. */
static const char *show_quiet_headers[] = {
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control",
	"Connection", "Content-Length", "Date", "ETag", "Expires", "Host",
	"Keep-Alive", "Last-Modified", "Pragma", "Server", "User-Agent",
	"Vary", "Via"
};

static int
show_quiet(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof show_quiet_headers /
	    sizeof show_quiet_headers[0]; i++)
		if (strcasecmp(name, show_quiet_headers[i]) == 0)
			return 1;
	return 0;
}

#define SHOW_MAX_BODY	(64 * 1024)	/* bytes of a body printed */

/* Nonzero when len bytes are text a terminal can show. */
static int
show_printable(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 && p[i] != '\n' &&
		    p[i] != '\r' && p[i] != '\t')
			return 0;
	return 1;
}

/* A body, indented: pretty JSON, else text, else a note. */
static void
show_body(struct buf *b, const struct exchange_body *body)
{
	json_t		*doc;
	char		*text, *line, *save = NULL;

	if (body->data == NULL || body->len == 0)
		return;
	doc = body->truncated ? NULL : json_loadb(body->data, body->len,
	    JSON_DECODE_ANY, NULL);
	if (doc != NULL) {
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_ENCODE_ANY);
		json_decref(doc);
	} else if (show_printable(body->data, body->len))
		text = xstrndup(body->data, body->len < SHOW_MAX_BODY ?
		    body->len : SHOW_MAX_BODY);
	else {
		buf_printf(b, "    (%zu bytes of binary data)\n", body->len);
		text = NULL;
	}
	if (text != NULL) {
		if (strlen(text) > SHOW_MAX_BODY)
			text[SHOW_MAX_BODY] = '\0';
		for (line = strtok_r(text, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			buf_printf(b, "    %s\n", line);
		if (body->len > SHOW_MAX_BODY)
			buf_printf(b, "    ... (%zu bytes in all)\n", body->len);
		free(text);
	}
	if (body->truncated)
		buf_printf(b, "    (truncated when recorded: %zu of %llu "
		    "bytes kept)\n", body->len, (unsigned long long)body->size);
	if (body->decoded_from != NULL)
		buf_printf(b, "    (sent %s-encoded; shown decoded)\n",
		    body->decoded_from);
}

static void
show_headers(struct buf *b, const struct http_headers *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		if (!show_quiet(h->v[i].name))
			buf_printf(b, "  %s: %s\n", h->v[i].name,
			    h->v[i].value);
}

/* The diagnoses of an entry: recorded ones, else worked out now. */
static json_t *
show_diagnoses(struct show_ctx *ctx, const struct exchange *x,
    const struct http_url *u, int api, const char *account,
    const char *profile, const char *fields)
{
	struct diag_list	 diags = { NULL, 0, 0 };
	const struct snapshot	*snap;
	json_t			*out;
	size_t			 i;

	(void)u;
	if (x->diagnoses != NULL)
		return json_incref(x->diagnoses);
	if (!api || strcmp(x->method, "PATCH") != 0 || x->req_body.data == NULL)
		return NULL;
	snap = snapshot_store_get(ctx->snapshots, "show",
	    account != NULL ? account : "", profile);
	diagnose_patch(x->req_body.data, x->req_body.len, fields, snap,
	    ctx->rules, &diags);
	out = json_array();
	for (i = 0; i < diags.n; i++)
		json_array_append_new(out, diag_to_json(&diags.v[i]));
	diag_list_free(&diags);
	return out;
}

/* Learn the profile from a GET or PATCH answer, for later PATCHes. */
static void
show_learn(struct show_ctx *ctx, const struct exchange *x, const char *account,
    const char *profile, const char *fields)
{
	struct snapshot	*snap;
	json_t		*doc;

	if (x->status < 200 || x->status > 299 || x->resp_body.data == NULL ||
	    x->resp_body.truncated)
		return;
	doc = json_loadb(x->resp_body.data, x->resp_body.len, 0, NULL);
	if (json_is_object(doc)) {
		rules_learn(ctx->rules, doc);
		snap = snapshot_new(doc, fields);
		if (snap != NULL)
			snapshot_store_put(ctx->snapshots, "show",
			    account != NULL ? account : "", profile, snap);
	}
	json_decref(doc);
}

static json_t *
show_headers_json(const struct http_headers *h)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < h->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "name",
		    h->v[i].name, "value", h->v[i].value));
	return a;
}

static json_t *
show_body_json(const struct exchange_body *body)
{
	json_t	*doc;

	if (body->data == NULL)
		return json_null();
	doc = body->truncated ? NULL : json_loadb(body->data, body->len,
	    JSON_DECODE_ANY, NULL);
	if (doc != NULL)
		return doc;
	doc = json_stringn(body->data, body->len);
	return doc != NULL ? doc : json_sprintf("(%zu bytes of binary data)",
	    body->len);
}

/*
 * Write a transcript to the terminal: a cassette is somebody else's file,
 * and an escape sequence in a header or a recorded diagnosis must not
 * drive the terminal. Control bytes other than newline and tab are shown
 * as \xNN.
 */
static void
show_write_safe(const struct buf *b)
{
	const unsigned char	*p = (const unsigned char *)b->data;
	size_t			 i, from = 0;

	for (i = 0; i < b->len; i++) {
		if ((p[i] >= 0x20 && p[i] != 0x7f) || p[i] == '\n' ||
		    p[i] == '\t')
			continue;
		fwrite(p + from, 1, i - from, stdout);
		printf("\\x%02x", p[i]);
		from = i + 1;
	}
	fwrite(p + from, 1, b->len - from, stdout);
}

/* Print one entry as soon as it is read. */
static int
show_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct show_ctx		*ctx = arg;
	struct buf		*b = &ctx->out;
	struct http_url		 u;
	const char		*errstr;
	char			*account = NULL, *profile = NULL, *fields = NULL;
	char			*line;
	json_t			*diags, *o;
	size_t			 i;
	int			 api = 0, have_url;

	(void)cause;
	have_url = http_url_parse(x->url, &u, &errstr) == 0;
	if (have_url)
		api = api_profile_target(u.target, &account, &profile,
		    &fields) == 0;
	diags = show_diagnoses(ctx, x, &u, api, account, profile, fields);
	buf_reset(b);
	if (ctx->json) {
		o = json_pack("{s:I, s:s, s:f, s:s, s:s, s:i, s:s, s:{s:o, s:o}, "
		    "s:{s:o, s:o}, s:o}", "entry", (json_int_t)index,
		    "started", x->started != NULL ? x->started : "",
		    "time_ms", x->time_ms, "method", x->method, "url", x->url,
		    "status", x->status, "reason", x->reason != NULL ?
		    x->reason : "", "request", "headers",
		    show_headers_json(&x->req_headers), "body",
		    show_body_json(&x->req_body), "response", "headers",
		    show_headers_json(&x->resp_headers), "body",
		    show_body_json(&x->resp_body), "diagnoses",
		    diags != NULL ? json_incref(diags) : json_array());
		if (o != NULL && x->answered_by != NULL)
			json_object_set_new(o, "answered_by",
			    json_string(x->answered_by));
		if (o != NULL && x->error != NULL)
			json_object_set_new(o, "error", json_string(x->error));
		line = o != NULL ? json_dumps(o, JSON_COMPACT |
		    JSON_PRESERVE_ORDER) : NULL;
		if (line != NULL)
			buf_printf(b, "%s\n", line);
		free(line);
		json_decref(o);
	} else {
		buf_printf(b, "=== entry %zu  %s  %.1f ms\n", index,
		    x->started != NULL ? x->started : "", x->time_ms);
		buf_printf(b, "%s %s\n", x->method, x->url);
		show_headers(b, &x->req_headers);
		show_body(b, &x->req_body);
		buf_printf(b, "\n-> %d %s", x->status,
		    x->reason != NULL ? x->reason : "");
		if (x->answered_by != NULL)
			buf_printf(b, "  (answered by patchscope%s%s)",
			    x->error != NULL ? ": " : "",
			    x->error != NULL ? x->error : "");
		else if (x->error != NULL)
			buf_printf(b, "  (cut off: %s)", x->error);
		buf_adds(b, "\n");
		show_headers(b, &x->resp_headers);
		show_body(b, &x->resp_body);
		if (diags != NULL && json_array_size(diags) > 0) {
			buf_adds(b, "\n  diagnoses:\n");
			for (i = 0; i < json_array_size(diags); i++) {
				buf_adds(b, "    ");
				if (diag_format_json(json_array_get(diags, i),
				    b) == 0)
					buf_adds(b, "\n");
			}
		}
		buf_adds(b, "\n");
	}
	if (ctx->json)
		fwrite(b->data, 1, b->len, stdout);
	else
		show_write_safe(b);
	if (api && (strcmp(x->method, "GET") == 0 ||
	    strcmp(x->method, "PATCH") == 0))
		show_learn(ctx, x, account, profile, fields);
	json_decref(diags);
	free(account);
	free(profile);
	free(fields);
	if (have_url)
		http_url_free(&u);
	exchange_free(x);
	return 0;
}

static int
cmd_show(int argc, char **argv)
{
	static const struct option	 lopts[] = {
		{ "json",	no_argument,	   NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct show_ctx			 ctx;
	struct cassette_text		 text;
	char				*cause = NULL;
	int				 ch, rc = 2;

	memset(&ctx, 0, sizeof ctx);
	memset(&text, 0, sizeof text);
	optind = 0;	/* glibc: a full reset of getopt */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			ctx.json = 1;
			break;
		case 'h':
			printf("Usage: patchscope show [--json] FILE\n\n"
			    "Print a cassette as a transcript to read top to "
			    "bottom: each exchange's\nrequest, status, the "
			    "headers that matter, bodies (JSON pretty-printed)"
			    "\nand its diagnoses. A PATCH recorded without "
			    "diagnoses is checked now,\nagainst the profile "
			    "as the cassette's earlier answers show it.\n\n"
			    "  --json   one JSON object per exchange, one per "
			    "line\n\n"
			    "Exit status: 0 shown, 2 usage error or a file "
			    "that is not a cassette.\n");
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
		cause = xasprintf(optind >= argc ? "missing FILE (a cassette)" :
		    "more than one FILE");
		goto usage;
	}
	log_init(LOG_LEVEL_WARN);
	if (cassette_text_open(argv[optind], &text, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		goto done;
	}
	ctx.rules = rules_builtin();
	ctx.snapshots = snapshot_store_new(1024);
	if (cassette_parse(text.data, text.len, show_entry_cb, &ctx, NULL,
	    &cause) != 0) {
		fflush(stdout);
		fprintf(stderr, "patchscope: %s: %s\n", argv[optind], cause);
		goto done;
	}
	rc = 0;
	goto done;
usage:
	usage_error("show ", cause);
done:
	fflush(stdout);
	free(cause);
	cassette_text_close(&text);
	buf_free(&ctx.out);
	rules_free(ctx.rules);
	if (ctx.snapshots != NULL)
		snapshot_store_free(ctx.snapshots);
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
