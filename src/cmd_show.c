/*
 * cmd_show: show, a cassette printed for a person to read top to bottom
 * (or as one JSON object per exchange). Entries are printed as they are
 * parsed; a PATCH recorded without diagnoses is checked against the
 * profile as the cassette's earlier answers show it. Text from the
 * cassette never reaches the terminal as control bytes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "profile.h"
#include "buf.h"
#include "cassette.h"
#include "cmd.h"
#include "diagnose.h"
#include "exchange.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "rules.h"
#include "snapshot.h"
#include "utf8.h"
#include "xmalloc.h"

static int	cmd_show(struct options *);

const struct cmd_entry cmd_show_entry = {
	.mode = OPTIONS_SHOW,
	.summary = "print a cassette as a readable transcript, with diagnoses",
	.args = "[--json] FILE",
	.about =
	    "Print a cassette as a transcript to read top to bottom: each "
	    "exchange's\nrequest, status, the headers that matter, bodies "
	    "(JSON pretty-printed)\nand its diagnoses. A PATCH recorded "
	    "without diagnoses is checked now,\nagainst the profile as the "
	    "cassette's earlier answers show it.\n",
	.notes =
	    "Exit status: 0 shown, 2 usage error or a file that is not a "
	    "cassette.\n",
	.run = cmd_show
};

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
			buf_printf(b, "    ... (%zu bytes in all)\n",
			    body->len);
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

/*
 * The profile as the cassette's earlier answers show it: a stand-in for
 * the profile module, kept self-contained so that one profile_* call can
 * replace it. Return the diagnoses of x (the recorded ones, else for a
 * PATCH of a profile those found now against what the earlier GETs and
 * PATCHes showed of it; NULL when there are none to show), then learn from
 * x's answer for the entries after it.
 */
static json_t *
show_profile_diagnoses(struct show_ctx *ctx, const struct exchange *x)
{
	struct diag_list	 diags = { NULL, 0, 0 };
	struct profile_ref	 ref;
	json_t			*out = NULL;
	size_t			 i;
	int			 api;

	api = profile_ref_from_url(x->url, &ref) == 0;
	if (x->diagnoses != NULL)
		out = json_incref(x->diagnoses);
	else if (api && strcmp(x->method, "PATCH") == 0 &&
	    x->req_body.data != NULL) {
		profile_check(ctx->rules, ctx->snapshots, NULL,
		    PROFILE_KEY_SHOW, &ref, x->req_body.data, x->req_body.len,
		    &diags);
		out = json_array();
		for (i = 0; i < diags.n; i++)
			json_array_append_new(out, diag_to_json(&diags.v[i]));
		diag_list_free(&diags);
	}
	/* A GET or PATCH answer holds the profile as it now is. */
	if (api)
		profile_learn_answer(ctx->rules, ctx->snapshots,
		    PROFILE_KEY_SHOW, x, PROFILE_ANY_TYPE);
	profile_ref_free(&ref);
	return out;
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
 * drive the terminal. Control bytes other than newline and tab, C1
 * controls (U+0080..U+009F: U+009B is a CSI too) and bytes that are not
 * UTF-8 are shown as \xNN, each byte.
 */
static void
show_write_safe(const struct buf *b)
{
	const unsigned char	*p = (const unsigned char *)b->data;
	size_t			 i = 0, from = 0, n;

	while (i < b->len) {
		if ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' ||
		    p[i] == '\t') {
			i++;
			continue;
		}
		n = p[i] >= 0x80 ? utf8_seq_len(b->data + i, b->len - i) : 0;
		if (n > 0 && !(n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			i += n;
			continue;
		}
		fwrite(p + from, 1, i - from, stdout);
		for (n = n > 0 ? n : 1; n > 0; n--)
			printf("\\x%02x", p[i++]);
		from = i;
	}
	fwrite(p + from, 1, b->len - from, stdout);
}

/* Print one entry as soon as it is read. */
static int
show_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct show_ctx		*ctx = arg;
	struct buf		*b = &ctx->out;
	char			*line;
	json_t			*diags, *o;
	size_t			 i;

	(void)cause;
	diags = show_profile_diagnoses(ctx, x);
	buf_reset(b);
	if (ctx->json) {
		o = json_pack("{s:I, s:s, s:f, s:s, s:s, s:i, s:s, "
		    "s:{s:o, s:o}, s:{s:o, s:o}, s:o}",
		    "entry", (json_int_t)index, "started", x->started != NULL ? x->started : "",
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
		if (o != NULL && x->fault != NULL)
			json_object_set_new(o, "fault", json_string(x->fault));
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
		if (x->fault != NULL)
			buf_printf(b, "  (fault: %s)", x->fault);
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
	json_decref(diags);
	exchange_free(x);
	return 0;
}

/* show: print a cassette as a transcript, or as JSON lines. */
static int
cmd_show(struct options *opts)
{
	struct show_ctx		 ctx;
	struct cassette_layout	 layout;
	struct cmd_file		 text;
	char			*cause = NULL;
	int			 rc = 2;

	if (opts->n_operands != 1)
		return cmd_usage_error("show", opts->n_operands == 0 ?
		    "missing FILE (a cassette)" : "more than one FILE");
	memset(&ctx, 0, sizeof ctx);
	ctx.json = opts->json;
	log_init(LOG_LEVEL_WARN);
	if (cmd_file_open(opts->operands[0], &text, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		goto done;
	}
	ctx.rules = rules_builtin();
	ctx.snapshots = snapshot_store_new(1024);
	if (cassette_parse(text.data, text.len, show_entry_cb, &ctx, &layout,
	    &cause) != 0) {
		fflush(stdout);
		fprintf(stderr, "patchscope: %s: %s\n", opts->operands[0],
		    cause);
		goto done;
	}
	if (layout.cut) {
		fflush(stdout);
		cause = cassette_cut_message(&layout);
		fprintf(stderr, "patchscope: %s: %s\n", opts->operands[0],
		    cause);
	}
	rc = 0;
done:
	fflush(stdout);
	free(cause);
	cmd_file_close(&text);
	buf_free(&ctx.out);
	rules_free(ctx.rules);
	if (ctx.snapshots != NULL)
		snapshot_store_free(ctx.snapshots);
	return rc;
}
