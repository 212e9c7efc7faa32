/*
 * cmd_serve: proxy, record and replay, the commands that start the server.
 * They load what the run needs first (a replay cassette, a recorder), so a
 * file that cannot be used changes nothing; then they start the proxy,
 * print the one "listening on ADDR:PORT" line on stdout, serve until
 * SIGINT or SIGTERM, and say what the run did (cassette written, replay
 * report). The server is used only through proxy.h.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "cassette.h"
#include "cmd.h"
#include "exchange.h"
#include "log.h"
#include "options.h"
#include "proxy.h"
#include "recorder.h"
#include "redact.h"
#include "replay.h"
#include "replay_record.h"
#include "web.h"
#include "run_cmd.h"

/* What --help says of -- CMD, the same for the three commands. */
#define CMD_SERVE_RUN_NOTES \
	"With -- CMD [ARGS...], run CMD under patchscope and serve until it " \
	"ends:\nlisten on a free port (unless --listen is given), start " \
	"CMD with the\nvariables 'patchscope env' prints and " \
	"PATCHSCOPE_URL=http://127.0.0.1:PORT\n(the base URL of requests " \
	"sent straight to patchscope), pass SIGINT,\nSIGTERM and SIGHUP on " \
	"to it; when it ends, stop, save the cassette and\nreport. Standard " \
	"output is CMD's alone: the \"listening on\" line goes to\nthe " \
	"log.\n" \
	"Exit status: CMD's when it fails (128+N when signal N ended it, 127 " \
	"when\nit is not found, 126 when it cannot be run); else 1 when " \
	"replay --strict\nfound unused entries or misses; else 0. 2 when " \
	"patchscope cannot start\n(CMD is then not run).\n"

static int	cmd_serve(struct options *);
static json_t	*cmd_serve_report_replay(const struct options *,
		    struct replay_index *, int *);

const struct cmd_entry cmd_proxy_entry = {
	.mode = OPTIONS_PROXY,
	.summary = "forward HTTP(S) proxy: relays every exchange and logs it",
	.args = "[OPTIONS] [-- CMD [ARGS...]]",
	.about =
	    "Run a forward HTTP proxy. Point a client at it (for example\n"
	    "http_proxy=http://127.0.0.1:8080) and every exchange is relayed\n"
	    "and logged on stderr.\n",
	.notes = CMD_SERVE_RUN_NOTES
	    "Example: patchscope proxy -- ./my-client\n",
	.run = cmd_serve
};

const struct cmd_entry cmd_record_entry = {
	.mode = OPTIONS_RECORD,
	.summary = "the same, and records every exchange to a HAR cassette",
	.args = "[OPTIONS] -c FILE [-- CMD [ARGS...]]",
	.about =
	    "Run the proxy and append every exchange (plain and intercepted "
	    "HTTPS) to\nFILE, a HAR 1.2 cassette that browsers' devtools and "
	    "HAR viewers open.\nSecrets (Authorization, cookies, API keys, "
	    "tokens in queries and JSON)\nare replaced by redacted:<hash> "
	    "before anything is written. The file is\nvalid at every moment "
	    "and is brought up to date every second.\n",
	.notes = CMD_SERVE_RUN_NOTES
	    "Example: patchscope record -c ticket.har -- ./my-client\n",
	.run = cmd_serve
};

const struct cmd_entry cmd_replay_entry = {
	.mode = OPTIONS_REPLAY,
	.summary = "answer from a cassette; nothing leaves the machine",
	.args = "[OPTIONS] -c FILE [-- CMD [ARGS...]]",
	.about =
	    "Answer requests from a cassette; nothing leaves the machine. "
	    "Send requests\nstraight to it (a test's base URL, e.g. "
	    "http://127.0.0.1:PORT), through it as\na proxy (http_proxy), or "
	    "over HTTPS through it (https_proxy, trusting the\nCA of "
	    "'patchscope ca'). A request that matches no recorded one gets "
	    "404 with\nX-Patchscope-Replay: miss and a JSON body naming the "
	    "nearest recorded request\nand how it differs.\n",
	.notes =
	    "Live requests are redacted as record redacts (--redact-header,\n"
	    "--redact-query, --redact-json-key, --no-redact) before they are\n"
	    "matched.\n"
	    "\n" CMD_SERVE_RUN_NOTES
	    "Example: patchscope replay -c tests/api.har --strict -- pytest\n"
	    "See patchscope(1), RUNNING A COMMAND.\n",
	.run = cmd_serve
};

/* What the signal callbacks act on: the proxy, and -- CMD if it runs. */
struct cmd_serve_run {
	struct proxy	*proxy;
	struct run_cmd	*cmd;
};

static void
cmd_serve_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct cmd_serve_run	*run = arg;

	(void)what;
	log_info("received %s", sig == SIGINT ? "SIGINT" : sig == SIGHUP ?
	    "SIGHUP" : "SIGTERM");
	/* -- CMD: serve until it ends; the signal is for it. */
	if (run->cmd != NULL && run_cmd_signal(run->cmd, (int)sig) == 0) {
		log_info("passed it on to the command; serving until it ends");
		return;
	}
	proxy_shutdown(run->proxy);
}

/* -- CMD has ended: stop serving. */
static void
cmd_serve_cmd_done_cb(void *arg)
{
	proxy_shutdown(arg);
}

struct cmd_serve_loader {
	struct replay_index	*idx;
	struct redactor		*redactor;
	size_t			 skipped;	/* entries with no response */
};

/* Index one cassette entry, redacted as live requests will be. */
static int
cmd_serve_load_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct cmd_serve_loader	*ctx = arg;

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

/*
 * Load the cassette to replay (an empty index when load is 0: a record
 * mode begins it); NULL after printing why.
 */
static struct replay_index *
cmd_serve_load(const struct options *opts, struct redactor *redactor,
    int load)
{
	struct cmd_serve_loader	 ctx;
	struct cassette_layout	 layout;
	struct cmd_file		 text;
	struct timespec		 t0, t1;
	char			*cause = NULL;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!load) {
		ctx.idx = replay_new((const char *const *)opts->match_headers,
		    opts->n_match_headers);
		if (opts->session_header != NULL)
			replay_set_session_header(ctx.idx,
			    opts->session_header, REPLAY_SESSIONS_MAX);
		return ctx.idx;
	}
	if (cmd_file_open(opts->cassette, &text, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		return NULL;
	}
	ctx.idx = replay_new((const char *const *)opts->match_headers,
	    opts->n_match_headers);
	if (opts->session_header != NULL)
		replay_set_session_header(ctx.idx, opts->session_header,
		    REPLAY_SESSIONS_MAX);
	ctx.redactor = redactor;
	ctx.skipped = 0;
	if (cassette_parse(text.data, text.len, cmd_serve_load_cb, &ctx,
	    &layout, &cause) != 0) {
		fprintf(stderr, "patchscope: %s: %s (the file is left as it "
		    "is)\n", opts->cassette, cause);
		free(cause);
		cmd_file_close(&text);
		replay_free(ctx.idx);
		return NULL;
	}
	cmd_file_close(&text);
	if (layout.cut) {
		cause = cassette_cut_message(&layout);
		log_warnx("%s: %s", opts->cassette, cause);
		free(cause);
	}
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

/* Say in the log what clients did wrong after failures. */
static void
cmd_serve_report_clients(const json_t *clients)
{
	const json_t	*v, *list = json_object_get(clients, "findings");
	json_int_t	 total;
	size_t		 i;

	total = json_integer_value(json_object_get(clients, "total"));
	if (total == 0)
		return;
	log_warnx("clients: %" JSON_INTEGER_FORMAT " finding(s) on how they "
	    "handled failures (docs/diagnoses.md, \"The client's reaction to "
	    "failures\")", total);
	for (i = 0; i < json_array_size(list) && i < 20; i++) {
		v = json_array_get(list, i);
		log_warnx("clients:   %s[%s] %s (connection %" JSON_INTEGER_FORMAT
		    ") %s %s: %s",
		    json_string_value(json_object_get(v, "severity")),
		    json_string_value(json_object_get(v, "code")),
		    json_string_value(json_object_get(v, "client")),
		    json_integer_value(json_object_get(v, "connection")),
		    json_string_value(json_object_get(v, "method")),
		    json_string_value(json_object_get(v, "url")),
		    json_string_value(json_object_get(v, "message")));
	}
}

/*
 * The run's report. Replay: which entries were never served and which
 * requests missed. Every serving command: what clients did wrong after
 * failures (clients, taken over). In the log, and as JSON in --report
 * FILE. Return 1 when --strict and the cassette is stale, 2 when the
 * report cannot be written, else 0.
 */
static int
cmd_serve_report(const struct options *opts, struct replay_index *idx,
    json_t *clients)
{
	json_t		*report;
	FILE		*f;
	int		 rc = 0;

	report = idx != NULL ? cmd_serve_report_replay(opts, idx, &rc) :
	    json_object();
	cmd_serve_report_clients(clients);
	json_object_set_new(report, "client", clients);
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
	json_decref(report);
	return rc;
}

/*
 * Replay's part of the report, logged; *rc is set to 1 when --strict and
 * the cassette is stale.
 */
static json_t *
cmd_serve_report_replay(const struct options *opts, struct replay_index *idx,
    int *rc)
{
	json_t		*report, *v;
	size_t		 i, unused, misses;

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
		log_info("replay:   unused entry %" JSON_INTEGER_FORMAT
		    ": %s %s",
		    json_integer_value(json_object_get(v, "entry")),
		    json_string_value(json_object_get(v, "method")),
		    json_string_value(json_object_get(v, "url")));
	}
	for (i = 0; i < json_array_size(json_object_get(report, "misses")) &&
	    i < 20; i++) {
		v = json_array_get(json_object_get(report, "misses"), i);
		log_info("replay:   missed: %s %s%s%s%s",
		    json_string_value(json_object_get(v, "method")),
		    json_string_value(json_object_get(v, "url")),
		    json_is_string(json_object_get(v, "session")) ?
		    " (session \"" : "",
		    json_is_string(json_object_get(v, "session")) ?
		    json_string_value(json_object_get(v, "session")) : "",
		    json_is_string(json_object_get(v, "session")) ? "\")" : "");
	}
	if ((v = json_object_get(report, "sessions")) != NULL)
		log_info("replay: %" JSON_INTEGER_FORMAT " session(s) of %s "
		    "begun, %" JSON_INTEGER_FORMAT " forgotten to make room",
		    json_integer_value(json_object_get(v, "begun")),
		    json_string_value(json_object_get(v, "header")),
		    json_integer_value(json_object_get(v, "forgotten")));
	if (opts->strict && (unused > 0 || misses > 0)) {
		log_warnx("replay --strict: the cassette is stale (%zu unused "
		    "entries, %zu misses)", unused, misses);
		*rc = 1;
	}
	return report;
}

/*
 * proxy, record and replay: serve until SIGINT or SIGTERM, or with
 * -- CMD until CMD ends.
 */
static int
cmd_serve(struct options *opts)
{
	enum options_mode	 mode = opts->mode;
	struct event_base	*base;
	struct proxy		*proxy;
	struct event		*sigint, *sigterm, *sighup = NULL;
	struct cmd_serve_run	 run = { NULL, NULL };
	struct event_config	*cfg;
	struct recorder		*rec = NULL;
	struct replay_index	*idx = NULL;
	struct redactor		*redactor;
	struct replay_record_plan plan;
	struct web		*web = NULL;
	json_t			*clients;
	char			*cause = NULL;
	size_t			 recorded;
	int			 rc = 0, loaded, cmd_rc = 0, created = 0;

	if (opts->web == NULL && (opts->web_keep != 0 || opts->web_allow_remote))
		return cmd_usage_error(options_name(mode), "--web-keep and "
		    "--web-allow-remote go with --web ADDR:PORT");
	log_init(opts->log_level);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * The epoll changelist folds the add/remove of a write event within
	 * one loop pass into nothing: keep-alive exchanges then cost far
	 * fewer epoll_ctl calls. We never dup() a descriptor, the one case
	 * the changelist gets wrong.
	 */
	cfg = event_config_new();
	if (cfg != NULL)
		event_config_set_flag(cfg,
		    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = cfg != NULL ? event_base_new_with_config(cfg) : NULL;
	if (cfg != NULL)
		event_config_free(cfg);
	if (base == NULL) {
		fprintf(stderr, "patchscope: cannot create the event loop\n");
		return 2;
	}
	/* replay --record: once on a new file and all serve as record. */
	memset(&plan, 0, sizeof plan);
	if (mode == OPTIONS_REPLAY && replay_record_plan(opts, &plan,
	    &cause) != 0) {
		rc = plan.usage ? cmd_usage_error("replay", cause) : 2;
		if (!plan.usage)
			fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		(void)replay_record_finish(&plan, 0, 0, NULL);
		event_base_free(base);
		return rc;
	}
	if (plan.forward_all)
		mode = OPTIONS_RECORD;
	/* The cassette first: one that cannot be read changes nothing. */
	loaded = 1;
	if (mode == OPTIONS_REPLAY) {
		redactor = proxy_redactor_new(opts);
		idx = cmd_serve_load(opts, redactor, plan.load);
		redact_free(redactor);
		loaded = idx != NULL;
	}
	if (loaded && (mode == OPTIONS_RECORD || plan.record_to != NULL)) {
		created = replay_record_absent(plan.record_to != NULL ?
		    plan.record_to : opts->cassette);
		rec = recorder_open(base, plan.record_to != NULL ?
		    plan.record_to : opts->cassette, opts->no_redact, &cause);
		if (rec == NULL) {
			fprintf(stderr, "patchscope: %s\n", cause);
			free(cause);
			loaded = 0;
		}
	}
	/* --web: its own listener, before the proxy makes its CA. */
	if (loaded && opts->web != NULL) {
		web = web_open(base, opts, "live", &cause);
		if (web == NULL) {
			fprintf(stderr, "patchscope: %s\n", cause);
			free(cause);
			loaded = 0;
		}
	}
	proxy = loaded ? proxy_new(base, opts, &cause) : NULL;
	if (proxy == NULL) {
		if (loaded) {
			fprintf(stderr, "patchscope: %s\n", cause);
			free(cause);
		}
		(void)recorder_close(rec, NULL);
		/* Could not start: a cassette it began is not left behind. */
		if (rec != NULL && created)
			(void)unlink(plan.record_to != NULL ? plan.record_to :
			    opts->cassette);
		(void)replay_record_finish(&plan, 0, 0, NULL);
		replay_free(idx);
		web_free(web);
		event_base_free(base);
		return 2;
	}
	if (opts->no_redact)
		log_warnx("--no-redact: credentials and secrets are stored in "
		    "%s as they are; do not attach it to a ticket or commit it",
		    opts->cassette);
	if (rec != NULL) {
		proxy_set_recorder(proxy, rec);
		log_info("recording to %s", recorder_path(rec));
	}
	if (idx != NULL)
		proxy_set_replay(proxy, idx);
	if (web != NULL)
		web_attach(web, proxy);
	if (strncmp(proxy_address(proxy), "127.", 4) != 0 &&
	    strncmp(proxy_address(proxy), "[::1]:", 6) != 0)
		log_warnx("listening on %s, which is not a loopback address: "
		    "other machines can use this proxy", proxy_address(proxy));
	run.proxy = proxy;
	sigint = evsignal_new(base, SIGINT, cmd_serve_signal_cb, &run);
	sigterm = evsignal_new(base, SIGTERM, cmd_serve_signal_cb, &run);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	/* -- CMD: a hang-up (terminal closed) is CMD's too, not our end. */
	if (opts->command != NULL) {
		sighup = evsignal_new(base, SIGHUP, cmd_serve_signal_cb, &run);
		evsignal_add(sighup, NULL);
	}
	/* With -- CMD, stdout is CMD's alone: the lines go to the log. */
	if (opts->command != NULL) {
		log_info("listening on %s", proxy_address(proxy));
		if (web != NULL)
			log_info("web on %s", web_url(web));
	} else {
		printf("listening on %s\n", proxy_address(proxy));
		if (web != NULL)
			printf("web on %s\n", web_url(web));
	}
	fflush(stdout);
	if (opts->command != NULL) {
		run.cmd = run_cmd_start(base, opts, proxy_address(proxy),
		    cmd_serve_cmd_done_cb, proxy, &cmd_rc, &cause);
		if (run.cmd == NULL) {
			/* Stop as cleanly as after a run: flushed, reported. */
			fprintf(stderr, "patchscope: %s\n", cause);
			free(cause);
			cause = NULL;
			proxy_shutdown(proxy);
		}
	}
	log_buffer_start(base);
	event_base_dispatch(base);
	log_buffer_stop();
	if (run.cmd != NULL)
		cmd_rc = run_cmd_finish(run.cmd);
	clients = proxy_client_report(proxy);
	proxy_free(proxy);
	recorded = 0;
	web_free(web);
	if (rec != NULL) {
		recorded = recorder_added(rec);
		if (recorder_close(rec, &cause) != 0) {
			fprintf(stderr, "patchscope: %s: the last exchanges "
			    "could not be saved\n", cause);
			free(cause);
			rc = 2;
		} else
			log_info("cassette: %zu exchange(s) recorded to %s",
			    recorded, plan.record_to != NULL ?
			    plan.record_to : opts->cassette);
	}
	if (replay_record_finish(&plan, rc == 0, recorded, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		rc = 2;
	}
	loaded = cmd_serve_report(opts, idx, clients);
	if (rc == 0)
		rc = loaded;
	rc = run_cmd_exit(cmd_rc, rc);
	replay_free(idx);
	event_free(sigint);
	event_free(sigterm);
	if (sighup != NULL)
		event_free(sighup);
	event_base_free(base);
	log_info("stopped");
	return rc;
}
