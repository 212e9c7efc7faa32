/*
 * cmd_drift: drift, a cassette's requests sent again to the live API and
 * each answer compared with the recorded one, by shape.
 *
 * The run has three stages, so that nothing is sent unless everything
 * that can be known beforehand is right: load the cassette and decide
 * each entry's fate (sent, or skipped with a warning); check that every
 * redacted credential a request needs is supplied with --header (else
 * stop, exit 2) and, with --allow-writes, say on stderr what will change
 * data where; then send the requests one at a time (drift_fetch.c),
 * compare (drift.c) and print each drifted entry as it is found. With
 * --update the drifted entries are written back, redacted, crash-safely,
 * every other byte of the file kept. Only this file prints; drift.c
 * decides and drift_fetch.c moves bytes.
 *
 * Exit status: 0 nothing drifted, 1 something did, 2 an error (usage, a
 * cassette that cannot be read, an origin that cannot be reached, a file
 * that cannot be written).
 */
#include "config.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "cmd.h"
#include "drift.h"
#include "drift_fetch.h"
#include "exchange.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "redact.h"
#include "upstream.h"
#include "utf8.h"
#include "xmalloc.h"

/* Body bytes of a live answer kept (recording's default limit). */
#define DRIFT_MAX_BODY	(16 * 1024 * 1024)

static int	cmd_drift(struct options *);

const struct cmd_entry cmd_drift_entry = {
	.mode = OPTIONS_DRIFT,
	.summary = "send a cassette's requests again; report how the live "
	    "API drifted",
	.args = "[OPTIONS] -c FILE",
	.about =
	    "Send the GET and HEAD requests of a cassette again to the live "
	    "origins\nthey were recorded from, and compare each answer with "
	    "the recorded one:\nthe status, then the JSON body by shape (keys "
	    "added or removed, types\nchanged, new values of an action's "
	    "\"type\" or \"anchor\"), each named by its\nJSON Pointer. Plain "
	    "values count only with --values.\n"
	    "\n"
	    "Credentials were redacted when the cassette was recorded: give "
	    "each one\nthe requests need with --header 'NAME: VALUE' (drift "
	    "stops and names it\notherwise). It is sent, never printed, and "
	    "redacted again by --update.\n",
	.notes =
	    "Severities: error (status changed, key removed, type changed), "
	    "warning\n(key added, new enum value), info (plain value, with "
	    "--values).\n"
	    "Exit status: 0 nothing drifted, 1 something drifted, 2 usage "
	    "error, a\ncassette that cannot be read or an origin that cannot "
	    "be reached.\n",
	.run = cmd_drift
};

/* One entry of the cassette and what became of it. */
struct drift_item {
	struct exchange		 x;		/* as recorded */
	size_t			 index;		/* in log.entries */
	enum drift_plan		 plan;
	const char		*skip;		/* why it is not sent */
	int			 live_status;	/* 0 until it was sent */
	struct drift_changes	 changes;
	char			*text;		/* --update: its new entry */
};

struct drift_run {
	const struct options	*opts;
	struct drift_item	*v;
	size_t			 n;
	size_t			 cap;
	struct redactor		*redactor;
	size_t			 checked;
	size_t			 drifted;
	size_t			 skipped;
	json_t			*entries;	/* --json */
	struct buf		 out;
};

/* Keep every entry; decide later. */
static int
drift_load_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct drift_run	*run = arg;
	struct drift_item	*it;

	(void)cause;
	if (run->n == run->cap) {
		run->cap = run->cap ? run->cap * 2 : 64;
		run->v = xreallocarray(run->v, run->cap, sizeof *run->v);
	}
	it = &run->v[run->n++];
	memset(it, 0, sizeof *it);
	it->x = *x;		/* the exchange is ours now */
	exchange_init(x);
	it->index = index;
	return 0;
}

/* A string for JSON output; invalid UTF-8 (never from a cassette) mended. */
static json_t *
drift_json_str(const char *s)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*j;

	j = json_stringn(s, strlen(s));
	if (j != NULL)
		return j;
	utf8_sanitize(&b, s, strlen(s), UTF8_NO_NUL);
	j = json_string(buf_str(&b));
	buf_free(&b);
	return j;
}

/* "entry 3 (GET https://...)", escaped, into b. */
static void
drift_entry_name(struct buf *b, const struct drift_item *it)
{
	buf_printf(b, "entry %zu (", it->index);
	drift_escape(b, it->x.method, strlen(it->x.method));
	buf_adds(b, " ");
	drift_escape(b, it->x.url, strlen(it->x.url));
	buf_adds(b, ")");
}

/* One line on stderr: "patchscope: " and what b holds. */
static void
drift_stderr(struct buf *b)
{
	fflush(stdout);
	fprintf(stderr, "patchscope: %s\n", buf_str(b));
	buf_reset(b);
}

/* Decide each entry's fate; say why an entry is skipped. */
static void
drift_plan_all(struct drift_run *run)
{
	struct buf		 b = { NULL, 0, 0 };
	struct drift_item	*it;
	size_t			 i;

	for (i = 0; i < run->n; i++) {
		it = &run->v[i];
		drift_learn_redactions(&it->x, run->redactor);
		it->plan = drift_plan_entry(&it->x, run->opts->allow_writes,
		    &it->skip);
		if (it->plan == DRIFT_SEND)
			continue;
		run->skipped++;
		buf_adds(&b, "warning: ");
		drift_entry_name(&b, it);
		buf_printf(&b, " is skipped: %s", it->skip);
		drift_stderr(&b);
	}
	buf_free(&b);
}

/*
 * --allow-writes: say on stderr, before anything is sent, how many
 * requests that change data go out and to which origins.
 */
static void
drift_writes_notice(struct drift_run *run)
{
	struct buf		 b = { NULL, 0, 0 };
	struct http_url		 u;
	const char		*err;
	char			**origins = NULL;
	size_t			 i, k, n = 0, writes = 0;

	for (i = 0; i < run->n; i++) {
		if (run->v[i].plan != DRIFT_SEND ||
		    drift_method_safe(run->v[i].x.method) ||
		    http_url_parse(run->v[i].x.url, &u, &err) != 0)
			continue;
		writes++;
		buf_reset(&b);
		buf_printf(&b, "%s://", u.scheme);
		http_url_authority(&b, &u);
		http_url_free(&u);
		for (k = 0; k < n && strcmp(origins[k], buf_str(&b)) != 0; k++)
			continue;
		if (k == n) {
			origins = xreallocarray(origins, n + 1,
			    sizeof *origins);
			origins[n++] = xstrdup(buf_str(&b));
		}
	}
	buf_reset(&b);
	if (writes > 0) {
		buf_printf(&b, "--allow-writes: %zu request%s that change%s "
		    "data will be sent to ", writes, writes == 1 ? "" : "s",
		    writes == 1 ? "s" : "");
		for (k = 0; k < n; k++) {
			if (k > 0)
				buf_adds(&b, ", ");
			drift_escape(&b, origins[k], strlen(origins[k]));
		}
		drift_stderr(&b);
	}
	for (k = 0; k < n; k++)
		free(origins[k]);
	free(origins);
	buf_free(&b);
}

/*
 * Every credential the requests need is supplied, and --allow-writes says
 * what it will do. Return 0, or 2 after printing why nothing is sent.
 */
static int
drift_preflight(struct drift_run *run)
{
	const struct options	*o = run->opts;
	struct buf		 b = { NULL, 0, 0 };
	struct drift_item	*it;
	const char		*name;
	size_t			 i;

	for (i = 0; i < run->n; i++) {
		it = &run->v[i];
		if (it->plan != DRIFT_SEND)
			continue;
		name = drift_missing_header(&it->x, o->headers, o->n_headers);
		if (name == NULL)
			continue;
		drift_entry_name(&b, it);
		buf_adds(&b, " was recorded with a redacted ");
		drift_escape(&b, name, strlen(name));
		buf_adds(&b, " header; supply it with --header '");
		drift_escape(&b, name, strlen(name));
		buf_adds(&b, ": VALUE'");
		drift_stderr(&b);
		buf_free(&b);
		return 2;
	}
	drift_writes_notice(run);
	if (o->insecure_upstream) {
		buf_adds(&b, "warning: --insecure-upstream: origins' "
		    "certificates are not checked; anyone between patchscope "
		    "and an origin can read and change that traffic");
		drift_stderr(&b);
	}
	buf_free(&b);
	return 0;
}

/* Print an entry's result as text, or add it to the JSON. */
static void
drift_report(struct drift_run *run, struct drift_item *it)
{
	const struct drift_changes	*c = &it->changes;
	struct buf			*b = &run->out;
	json_t				*o, *list;
	size_t				 i;

	if (run->opts->json) {
		list = json_array();
		for (i = 0; i < c->n; i++)
			json_array_append_new(list,
			    drift_change_json(&c->v[i]));
		o = json_pack("{s:I, s:o, s:o, s:[i, i], s:o}",
		    "index", (json_int_t)it->index,
		    "method", drift_json_str(it->x.method),
		    "url", drift_json_str(it->x.url),
		    "status", it->x.status, it->live_status,
		    "changes", list);
		if (o != NULL && c->dropped > 0)
			json_object_set_new(o, "more_changes",
			    json_integer((json_int_t)c->dropped));
		if (o != NULL && c->body_skipped)
			json_object_set_new(o, "body_compared", json_false());
		json_array_append_new(run->entries, o);
		return;
	}
	if (c->n == 0 && !log_enabled(LOG_LEVEL_DEBUG))
		return;
	buf_reset(b);
	buf_adds(b, c->n > 0 ? "~ " : "= ");
	drift_escape(b, it->x.method, strlen(it->x.method));
	buf_adds(b, " ");
	drift_escape(b, it->x.url, strlen(it->x.url));
	buf_printf(b, " (entry %zu%s)\n", it->index, c->body_skipped ?
	    "; body not compared: cut or in an unknown coding" : "");
	for (i = 0; i < c->n; i++)
		drift_change_text(b, &c->v[i]);
	if (c->dropped > 0)
		buf_printf(b, "    ... and %zu more changes\n", c->dropped);
	fwrite(b->data, 1, b->len, stdout);
	fflush(stdout);
}

/* Send one entry again and compare; -1 after printing why it failed. */
static int
drift_check(struct drift_run *run, const struct drift_fetch_conf *conf,
    struct drift_item *it)
{
	const struct options	*o = run->opts;
	struct http_headers	 h = { NULL, 0, 0 };
	struct drift_answer	 a;
	struct exchange		 live;
	struct http_url		 u;
	struct buf		 req = { NULL, 0, 0 }, msg = { NULL, 0, 0 };
	const char		*err;
	char			*cause = NULL;
	int			 rc = -1;

	memset(&a, 0, sizeof a);
	exchange_init(&live);
	if (http_url_parse(it->x.url, &u, &err) != 0) {
		/* drift_plan_entry checked it: never, but never silently. */
		drift_entry_name(&msg, it);
		buf_printf(&msg, ": its URL cannot be read: %s", err);
		drift_stderr(&msg);
		buf_free(&msg);
		return -1;
	}
	drift_request_headers(&it->x, &u, o->headers, o->n_headers, &h);
	http_request_head(&req, it->x.method, u.target, &h);
	if (it->x.req_body.data != NULL)
		buf_add(&req, it->x.req_body.data, it->x.req_body.len);
	log_debug("drift: entry %zu: %s %s", it->index, it->x.method,
	    u.target);
	if (drift_fetch(conf, &u, it->x.method, &req, &a, &cause) != 0) {
		drift_entry_name(&msg, it);
		buf_adds(&msg, ": ");
		drift_escape(&msg, cause, strlen(cause));
		drift_stderr(&msg);
		goto done;
	}
	it->live_status = a.status;
	drift_live_exchange(&it->x, &h, &a, DRIFT_MAX_BODY, &live);
	/* Nothing of the live exchange is shown or kept unredacted. */
	redact_exchange(run->redactor, &live);
	exchange_fix_length(&live.req_headers, &live.req_body);
	exchange_fix_length(&live.resp_headers, &live.resp_body);
	drift_compare(&it->x, &live, run->redactor, o->values ? DRIFT_VALUES :
	    0, &it->changes);
	run->checked++;
	if (it->changes.n > 0) {
		run->drifted++;
		if (o->update) {
			buf_reset(&msg);
			drift_doc_entry_text(&live, &msg);
			it->text = xstrdup(buf_str(&msg));
		}
	}
	drift_report(run, it);
	rc = 0;
done:
	/* The request held the supplied credentials. */
	if (req.data != NULL)
		explicit_bzero(req.data, req.len);
	buf_free(&req);
	buf_free(&msg);
	free(cause);
	http_headers_clear(&h);
	http_url_free(&u);
	drift_answer_free(&a);
	exchange_free(&live);
	return rc;
}

/* Send every planned entry; 0, or 2 when one could not be. */
static int
drift_send_all(struct drift_run *run)
{
	const struct options	*o = run->opts;
	struct drift_fetch_conf	 conf;
	struct event_base	*base;
	struct evdns_base	*dns;
	struct ssl_ctx_st	*tls;
	char			*cause = NULL;
	size_t			 i;
	int			 rc = 0;

	/* An origin that closes while we write must not kill drift. */
	signal(SIGPIPE, SIG_IGN);
	tls = upstream_tls_ctx_new(o->upstream_ca, o->insecure_upstream,
	    &cause);
	if (tls == NULL) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		return 2;
	}
	base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "patchscope: cannot start an event loop\n");
		upstream_tls_ctx_free(tls);
		return 2;
	}
	dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (dns == NULL) {
		/* No resolv.conf: /etc/hosts and literals still work. */
		dns = evdns_base_new(base, 0);
		if (dns != NULL)
			evdns_base_load_hosts(dns, NULL);
	}
	memset(&conf, 0, sizeof conf);
	conf.base = base;
	conf.pool = upstream_pool_new(base, dns, tls, 1000, 0);
	/* Checked by options: the values parse. */
	if (upstream_pool_set_resolve(conf.pool, o->resolve, o->n_resolve, 1,
	    &cause) == -1) {
		fprintf(stderr, "patchscope: %s\n", cause);
		free(cause);
		cause = NULL;
		rc = 2;
	}
	conf.connect_ms = o->connect_timeout_ms;
	conf.response_ms = o->response_timeout_ms;
	conf.max_body = DRIFT_MAX_BODY;
	for (i = 0; i < run->n && rc == 0; i++)
		if (run->v[i].plan == DRIFT_SEND &&
		    drift_check(run, &conf, &run->v[i]) != 0)
			rc = 2;
	/* Let freed connections finish closing before the loop goes. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	upstream_pool_free(conf.pool);
	if (dns != NULL)
		evdns_base_free(dns, 0);
	event_base_free(base);
	upstream_tls_ctx_free(tls);
	return rc;
}

/* The text summary, or the one JSON object. */
static void
drift_summary(struct drift_run *run)
{
	json_t		*o, *skipped, *s;
	char		*text;
	size_t		 i;

	if (!run->opts->json) {
		printf("%zu request%s, %zu drifted, %zu skipped\n",
		    run->checked, run->checked == 1 ? "" : "s", run->drifted,
		    run->skipped);
		fflush(stdout);
		return;
	}
	skipped = json_array();
	for (i = 0; i < run->n; i++) {
		if (run->v[i].plan != DRIFT_SKIP)
			continue;
		s = json_pack("{s:I, s:o, s:o, s:s}",
		    "index", (json_int_t)run->v[i].index,
		    "method", drift_json_str(run->v[i].x.method),
		    "url", drift_json_str(run->v[i].x.url),
		    "reason", run->v[i].skip);
		json_array_append_new(skipped, s);
	}
	o = json_pack("{s:o, s:O, s:I, s:I, s:o}",
	    "cassette", drift_json_str(run->opts->cassette),
	    "entries", run->entries,
	    "drifted", (json_int_t)run->drifted,
	    "checked", (json_int_t)run->checked,
	    "skipped", skipped);
	text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
	if (text != NULL)
		printf("%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(o);
}

/* Count a document's entries (the new cassette is checked before use). */
static int
drift_count_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	(void)index;
	(void)cause;
	(*(size_t *)arg)++;
	exchange_free(x);
	return 0;
}

/*
 * Replace the file at path (a symlink's target: the link stays) with
 * text: a temporary file in its directory, fsync, rename, fsync of the
 * directory. Refuse when the file changed since it was read (was).
 */
static int
drift_replace(const char *path, const struct stat *was, const struct buf *text,
    char **cause)
{
	struct stat	 now, lst;
	char		 real[PATH_MAX];

	if (lstat(path, &lst) != 0 || realpath(path, real) == NULL) {
		*cause = xasprintf("cannot find %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(lst.st_mode))
		fprintf(stderr, "patchscope: %s is a symbolic link: its target "
		    "%s is updated, the link is left as it is\n", path, real);
	if (stat(real, &now) != 0 || now.st_dev != was->st_dev ||
	    now.st_ino != was->st_ino || now.st_size != was->st_size ||
	    now.st_mtim.tv_sec != was->st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != was->st_mtim.tv_nsec) {
		*cause = xasprintf("%s changed while drift ran; it is left as "
		    "it is", path);
		return -1;
	}
	return cmd_file_replace(real, path, "drift", was->st_mode & 07777,
	    text->data, text->len, cause);
}

/* --update: the drifted entries written back, every other byte kept. */
static int
drift_update(struct drift_run *run, const struct cmd_file *doc,
    const struct stat *was)
{
	struct cassette_span	*spans = NULL;
	struct buf		 text = { NULL, 0, 0 };
	const char		**texts;
	char			*cause = NULL;
	size_t			 i, n = 0, count = 0;
	int			 rc = 2;

	texts = xcalloc(run->n + 1, sizeof *texts);
	if (drift_doc_entries(doc->data, doc->len, &spans, &n, &cause) != 0)
		goto done;
	if (n != run->n) {
		cause = xasprintf("found %zu entries' bytes, not %zu", n,
		    run->n);
		goto done;
	}
	for (i = 0; i < run->n; i++)
		texts[i] = run->v[i].text;
	drift_doc_rewrite(doc->data, doc->len, spans, n, texts, &text);
	if (cassette_parse(text.data, text.len, drift_count_cb, &count, NULL,
	    &cause) != 0 || count != run->n) {
		free(cause);
		cause = xasprintf("the rewritten cassette did not load back");
		goto done;
	}
	if (drift_replace(run->opts->cassette, was, &text, &cause) != 0)
		goto done;
	fprintf(stderr, "patchscope: %s: %zu drifted entr%s updated\n",
	    run->opts->cassette, run->drifted, run->drifted == 1 ? "y" : "ies");
	rc = 0;
done:
	if (rc != 0)
		fprintf(stderr, "patchscope: %s: not updated: %s\n",
		    run->opts->cassette, cause);
	free(cause);
	free(spans);
	free(texts);
	buf_free(&text);
	return rc;
}

/* Check the --header lines: none may set what drift sets itself. */
static int
drift_check_headers(const struct options *o)
{
	const char	*own;
	char		*name, *value, *msg;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < o->n_headers && rc == 0; i++) {
		drift_header_split(o->headers[i], &name, &value);
		own = drift_header_reserved(name);
		if (own != NULL) {
			msg = xasprintf("--header %s: drift sets this header "
			    "itself", own);
			rc = cmd_usage_error("drift", msg);
			free(msg);
		}
		free(name);
		free(value);
	}
	return rc;
}

/* drift: send the cassette's requests again and report the drift. */
static int
cmd_drift(struct options *opts)
{
	struct drift_run	 run;
	struct cassette_layout	 layout;
	struct cmd_file		 doc;
	struct stat		 was;
	char			*cause = NULL, *name, *value;
	size_t			 i;
	int			 rc;

	if (opts->cassette == NULL)
		return cmd_usage_error("drift", "missing -c FILE (the cassette "
		    "whose requests are sent again)");
	rc = drift_check_headers(opts);
	if (rc != 0)
		return rc;
	log_init(opts->log_level == LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_WARN);
	memset(&run, 0, sizeof run);
	memset(&doc, 0, sizeof doc);
	run.opts = opts;
	run.entries = json_array();
	run.redactor = redact_new();
	rc = 2;
	for (i = 0; i < opts->n_headers; i++) {
		drift_header_split(opts->headers[i], &name, &value);
		redact_add_header(run.redactor, name);
		free(name);
		explicit_bzero(value, strlen(value));
		free(value);
	}
	if (stat(opts->cassette, &was) != 0 ||
	    cmd_file_open(opts->cassette, &doc, &cause) != 0) {
		if (cause == NULL)
			cause = xasprintf("cannot read %s: %s", opts->cassette,
			    strerror(errno));
		fprintf(stderr, "patchscope: %s\n", cause);
		goto done;
	}
	if (cassette_parse(doc.data, doc.len, drift_load_cb, &run, &layout,
	    &cause) != 0) {
		fprintf(stderr, "patchscope: %s: %s\n", opts->cassette, cause);
		goto done;
	}
	if (layout.cut) {
		cause = cassette_cut_message(&layout);
		fprintf(stderr, "patchscope: %s: %s%s\n", opts->cassette, cause,
		    opts->update ? "; --update needs a whole cassette" : "");
		if (opts->update)
			goto done;
	}
	drift_plan_all(&run);
	if (drift_preflight(&run) != 0 || drift_send_all(&run) != 0)
		goto done;
	drift_summary(&run);
	rc = run.drifted > 0 ? 1 : 0;
	if (opts->update && run.drifted > 0 &&
	    drift_update(&run, &doc, &was) != 0)
		rc = 2;
done:
	free(cause);
	for (i = 0; i < run.n; i++) {
		exchange_free(&run.v[i].x);
		drift_changes_free(&run.v[i].changes);
		free(run.v[i].text);
	}
	free(run.v);
	json_decref(run.entries);
	buf_free(&run.out);
	redact_free(run.redactor);
	cmd_file_close(&doc);
	return rc;
}
