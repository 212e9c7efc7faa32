/*
 * cmd_diff: diff, two cassettes aligned by request and what changed
 * between them, for a person (text) or a program (--json). The
 * alignment, the comparison and the text are the diff module's (diff.c,
 * diff_text.c); this file loads the two files, prints and picks the exit
 * status: 0 the same, 1 different, 2 a usage error or a file that is not
 * a cassette.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "cmd.h"
#include "diff.h"
#include "exchange.h"
#include "log.h"
#include "options.h"
#include "xmalloc.h"

static int	cmd_diff(struct options *);

const struct cmd_entry cmd_diff_entry = {
	.mode = OPTIONS_DIFF,
	.summary = "align two cassettes and say what changed between them",
	.args = "[--json] A B",
	.about =
	    "Align the entries of cassettes A and B by request (method, "
	    "URL, the query\nin any order; identical requests in recorded "
	    "order) and print the entries\nonly in A (-), only in B (+) and "
	    "those that changed (~): status, request\nand response bodies "
	    "by JSON Pointer, the headers that matter, credentials\n"
	    "(\"a different credential\" when the redaction markers "
	    "differ), faults,\nand diagnoses that appeared or went away. "
	    "Entries are numbered from 0,\nas show numbers them.\n",
	.notes =
	    "Exit status: 0 the same, 1 different, 2 usage error or a file "
	    "that is not a\ncassette.\n",
	.run = cmd_diff
};

/* One cassette, loaded whole. */
struct diff_file {
	const char	*name;
	struct exchange	*v;
	size_t		 n;
	size_t		 cap;
};

/* Keep each entry the loader hands over. */
static int
diff_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct diff_file	*f = arg;

	(void)index;
	(void)cause;
	if (f->n == f->cap) {
		f->cap = f->cap == 0 ? 64 : f->cap * 2;
		f->v = xreallocarray(f->v, f->cap, sizeof *f->v);
	}
	/* The loader's struct is its own; what it points to is ours now. */
	f->v[f->n++] = *x;
	return 0;
}

/* Load a cassette; print one line and return -1 when it cannot be. */
static int
diff_load(struct diff_file *f)
{
	struct cassette_layout	 layout;
	struct cmd_file		 text;
	char			*cause = NULL;
	int			 rc = -1;

	if (cmd_file_open(f->name, &text, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		goto done;
	}
	if (cassette_parse(text.data, text.len, diff_entry_cb, f, &layout,
	    &cause) != 0) {
		fprintf(stderr, "patchscope: %s: %s\n", f->name, cause);
		goto done;
	}
	if (layout.cut) {
		cause = cassette_cut_message(&layout);
		fprintf(stderr, "patchscope: %s: %s\n", f->name, cause);
	}
	rc = 0;
done:
	free(cause);
	cmd_file_close(&text);
	return rc;
}

static void
diff_file_free(struct diff_file *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		exchange_free(&f->v[i]);
	free(f->v);
}

/* diff: compare two cassettes. */
static int
cmd_diff(struct options *opts)
{
	struct diff_file	 fa, fb;
	struct diff_side	 sa, sb;
	struct diff_report	 r;
	struct buf		 out = { NULL, 0, 0 };
	json_t			*doc;
	int			 rc = 2;

	if (opts->n_operands != 2)
		return cmd_usage_error("diff", opts->n_operands < 2 ?
		    "missing A and B (the two cassettes to compare)" :
		    "more than two cassettes (diff compares A and B)");
	log_init(LOG_LEVEL_WARN);
	memset(&fa, 0, sizeof fa);
	memset(&fb, 0, sizeof fb);
	memset(&r, 0, sizeof r);
	fa.name = opts->operands[0];
	fb.name = opts->operands[1];
	if (diff_load(&fa) != 0 || diff_load(&fb) != 0)
		goto done;
	diff_report_build(&r, fa.v, fa.n, fb.v, fb.n);
	if (opts->json) {
		doc = diff_report_json(&r, fa.v, fb.v, fa.name, fb.name);
		if (diff_json_text(&out, doc) != 0) {
			json_decref(doc);
			fprintf(stderr, "patchscope: cannot encode the report "
			    "as JSON\n");
			goto done;
		}
		json_decref(doc);
	} else {
		sa.name = fa.name;
		sa.v = fa.v;
		sa.n = fa.n;
		sb.name = fb.name;
		sb.v = fb.v;
		sb.n = fb.n;
		diff_report_text(&out, &r, &sa, &sb);
	}
	fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
	rc = diff_report_same(&r) ? 0 : 1;
done:
	if (fflush(stdout) != 0 && rc != 2) {
		fprintf(stderr, "patchscope: cannot write the report\n");
		rc = 2;
	}
	buf_free(&out);
	diff_report_free(&r);
	diff_file_free(&fa);
	diff_file_free(&fb);
	return rc;
}
