/*
 * cmd_web: view and report, the web view over cassettes.
 *
 * view loads every file first (one that cannot be read changes nothing:
 * one line, exit 2, before it listens), numbers the entries in file
 * order, then serves the page until SIGINT or SIGTERM. report writes one
 * HTML file holding the page and the data (web_report), crash-safely: a
 * temporary file next to the output, then rename. Both redact the
 * entries with the built-in lists first (a HAR from a browser holds its
 * cookies; patchscope's own cassettes are redacted already and stay as
 * they are).
 */
#include "config.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "cassette.h"
#include "cmd.h"
#include "exchange.h"
#include "log.h"
#include "options.h"
#include "redact.h"
#include "web.h"
#include "web_assets.h"
#include "web_json.h"
#include "web_report.h"
#include "xmalloc.h"

static int	cmd_view(struct options *);
static int	cmd_report(struct options *);

const struct cmd_entry cmd_view_entry = {
	.mode = OPTIONS_VIEW,
	.summary = "open cassettes in the web view (nothing is proxied)",
	.args = "[OPTIONS] FILE...",
	.about =
	    "Serve the web view over one or more cassettes: a table of the "
	    "recorded\nexchanges with their diagnoses, a filter, and each "
	    "request and answer in\ndetail. Prints 'web on URL': open that "
	    "URL (it holds the access token) in\na browser on this machine. "
	    "Entries are numbered in the order of the files\nand of their "
	    "entries. Serves until interrupted (Ctrl-C).\n",
	.notes =
	    "Secrets a cassette still holds (a HAR saved by a browser) are "
	    "redacted as\nrecord would before the view shows them.\n",
	.run = cmd_view
};

const struct cmd_entry cmd_report_entry = {
	.mode = OPTIONS_REPORT,
	.summary = "write a cassette as one HTML file to attach to a ticket",
	.args = "[OPTIONS] FILE",
	.about =
	    "Write FILE's exchanges as one self-contained HTML file: the web "
	    "view and\nthe (redacted) data in one file that opens from disk "
	    "in any browser and\nmakes no network request. Prints the path "
	    "written. An existing output file\nis replaced; the cassette "
	    "itself never is.\n",
	.run = cmd_report
};

/* What the loader of cassette entries needs. */
struct cmd_web_loader {
	struct web		*web;		/* view: the view to fill */
	struct buf		*doc;		/* report: the document */
	struct redactor		*redactor;
	size_t			 n;
};

/* One entry: redacted, then into the view or the document. */
static int
cmd_web_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct cmd_web_loader	*ctx = arg;

	(void)index;
	(void)cause;
	redact_exchange(ctx->redactor, x);
	if (ctx->web != NULL)
		web_add(ctx->web, x, NULL);
	else {
		if (ctx->n > 0)
			buf_add(ctx->doc, ",", 1);
		web_json_entry(ctx->doc, x, ctx->n + 1, NULL);
	}
	ctx->n++;
	exchange_free(x);
	return 0;
}

/*
 * Load one cassette into ctx. A cut or damaged file is refused: print
 * one line naming it and return -1.
 */
static int
cmd_web_load(const char *path, struct cmd_web_loader *ctx)
{
	struct cmd_file	 text;
	char		*cause = NULL;
	int		 rc;

	if (cmd_file_open(path, &text, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		return -1;
	}
	/* No layout: a cut document is an error, as any damage is. */
	rc = cassette_parse(text.data, text.len, cmd_web_entry_cb, ctx, NULL,
	    &cause);
	cmd_file_close(&text);
	if (rc != 0) {
		fprintf(stderr, "patchscope: %s: %s\n", path, cause);
		free(cause);
		return -1;
	}
	return 0;
}

static void
cmd_view_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("received %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopexit(arg, NULL);
}

/* view: serve the page over the files until SIGINT or SIGTERM. */
static int
cmd_view(struct options *opts)
{
	struct cmd_web_loader	 ctx;
	struct event_base	*base;
	struct event		*sigint, *sigterm;
	struct web		*web;
	char			*cause = NULL;
	unsigned		 keep;
	int			 i;

	if (opts->n_operands < 1)
		return cmd_usage_error("view", "expected one or more cassette "
		    "files");
	log_init(opts->log_level);
	signal(SIGPIPE, SIG_IGN);
	memset(&ctx, 0, sizeof ctx);
	ctx.web = web = web_new(opts, "view");
	ctx.redactor = redact_new();
	for (i = 0; i < opts->n_operands; i++)
		if (cmd_web_load(opts->operands[i], &ctx) != 0)
			break;
	redact_free(ctx.redactor);
	base = i == opts->n_operands ? event_base_new() : NULL;
	if (i == opts->n_operands && base == NULL)
		fprintf(stderr, "patchscope: cannot create the event loop\n");
	if (base == NULL || web_listen(web, base, &cause) != 0) {
		if (cause != NULL)
			fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		web_free(web);
		if (base != NULL)
			event_base_free(base);
		return 2;
	}
	keep = opts->web_keep > 0 ? opts->web_keep : WEB_DEFAULT_KEEP;
	if (ctx.n > keep)
		log_warnx("view: %zu entries; the view shows the last %u "
		    "(raise --web-keep to see them all)", ctx.n, keep);
	log_info("view: %zu entries from %d file(s)", ctx.n,
	    opts->n_operands);
	sigint = evsignal_new(base, SIGINT, cmd_view_signal_cb, base);
	sigterm = evsignal_new(base, SIGTERM, cmd_view_signal_cb, base);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	printf("web on %s\n", web_url(web));
	fflush(stdout);
	event_base_dispatch(base);
	web_free(web);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	log_info("stopped");
	return 0;
}

/* The default output: FILE with .har replaced by .html, or FILE.html. */
static char *
cmd_report_path(const char *in)
{
	size_t	len = strlen(in);

	if (len > 4 && strcmp(in + len - 4, ".har") == 0)
		return xasprintf("%.*s.html", (int)(len - 4), in);
	return xasprintf("%s.html", in);
}

/* Write text to path crash-safely, as a new file under the umask. */
static int
cmd_report_save(const char *path, const struct buf *text, char **cause)
{
	mode_t	mask;

	mask = umask(0);
	umask(mask);
	return cmd_file_replace(path, path, "report", 0666 & ~mask,
	    text->data, text->len, cause);
}

/* Is out the same file as in (when out exists)? */
static int
cmd_report_same(const char *in, const char *out)
{
	struct stat	a, b;

	if (strcmp(in, out) == 0)
		return 1;
	return stat(in, &a) == 0 && stat(out, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* report: the cassette as one HTML file. */
static int
cmd_report(struct options *opts)
{
	struct web_report_file	 h, c, j;
	struct cmd_web_loader	 ctx;
	struct buf		 doc = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	struct stat		 st;
	char			*path, *cause = NULL;
	int			 rc = 2;

	if (opts->n_operands != 1)
		return cmd_usage_error("report", "expected one cassette file");
	log_init(LOG_LEVEL_WARN);
	path = opts->output != NULL ? xstrdup(opts->output) :
	    cmd_report_path(opts->operands[0]);
	if (cmd_report_same(opts->operands[0], path)) {
		fprintf(stderr, "patchscope: %s is the cassette itself; name "
		    "another output with -o\n", path);
		free(path);
		return 2;
	}
	/* rename(2) would say "Not a directory" of "DIR/". */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "patchscope: %s is a directory; name the "
		    "output file with -o\n", path);
		free(path);
		return 2;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.doc = &doc;
	ctx.redactor = redact_new();
	web_json_doc_begin(&doc, "report", 0, 0);
	if (cmd_web_load(opts->operands[0], &ctx) != 0)
		goto done;
	web_json_doc_end(&doc);
	h.data = (const char *)web_index_html;
	h.len = web_index_html_len;
	c.data = (const char *)web_app_css;
	c.len = web_app_css_len;
	j.data = (const char *)web_app_js;
	j.len = web_app_js_len;
	if (web_report_build(&out, &h, &c, &j, doc.data, doc.len,
	    &cause) != 0 || cmd_report_save(path, &out, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		goto done;
	}
	printf("%s\n", path);
	rc = 0;
done:
	free(cause);
	free(path);
	buf_free(&doc);
	buf_free(&out);
	redact_free(ctx.redactor);
	return rc;
}
