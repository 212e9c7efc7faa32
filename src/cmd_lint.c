/*
 * cmd_lint: lint, the diagnoses of a profile PATCH body without sending
 * it, optionally against a saved GET of the profile (--snapshot).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "diagnose.h"
#include "options.h"
#include "rules.h"
#include "snapshot.h"

static int	cmd_lint(struct options *);

const struct cmd_entry cmd_lint_entry = {
	.mode = OPTIONS_LINT,
	.summary = "diagnose a profile PATCH body offline",
	.args = "[--snapshot FILE] [--rules FILE] [--json] PAYLOAD|-",
	.about =
	    "Diagnose the JSON body of a profile PATCH without sending it. "
	    "PAYLOAD is a\nfile, or - for standard input.\n",
	.notes =
	    "Exit status: 0 no error, 1 errors found, 2 usage or I/O error.\n",
	.run = cmd_lint
};

#define LINT_MAX_INPUT	(64 * 1024 * 1024)

/* Read a whole file ("-": stdin) into b; -1 with a message on failure. */
static int
cmd_lint_read(const char *path, struct buf *b)
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
			fprintf(stderr, "patchscope: %s is larger than 64 "
			    "MiB\n", path);
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

/* lint: diagnose one PATCH body; 1 when it has an error-level finding. */
static int
cmd_lint(struct options *opts)
{
	const char		*snap_path = opts->snapshot_file;
	const char		*rules_path = opts->rules_file;
	struct buf		 payload = { NULL, 0, 0 };
	struct buf		 snap_text = { NULL, 0, 0 };
	struct buf		 line = { NULL, 0, 0 };
	struct diag_list	 diags = { NULL, 0, 0 };
	struct snapshot		*snap = NULL;
	struct rules		*rules = NULL;
	json_t			*doc = NULL, *out;
	json_error_t		 jerr;
	char			*cause = NULL, *text;
	int			 rc = 2;
	size_t			 i;

	if (opts->n_operands != 1)
		return cmd_usage_error("lint", opts->n_operands == 0 ?
		    "missing PAYLOAD (a file, or - for standard input)" :
		    "more than one PAYLOAD");
	if (rules_path != NULL) {
		if ((rules = rules_load(rules_path, &cause)) == NULL) {
			fprintf(stderr, "patchscope: %s\n", cause);
			goto done;
		}
	} else
		rules = rules_builtin();
	if (snap_path != NULL) {
		if (cmd_lint_read(snap_path, &snap_text) != 0)
			goto done;
		doc = json_loadb(buf_str(&snap_text), snap_text.len, 0, &jerr);
		if (!json_is_object(doc)) {
			fprintf(stderr, "patchscope: %s is not the JSON body "
			    "of a GET of a profile (line %d, column %d: %s)\n",
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
	if (cmd_lint_read(opts->operands[0], &payload) != 0)
		goto done;
	diagnose_patch(buf_str(&payload), payload.len, NULL, snap, rules,
	    &diags);
	if (opts->json) {
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
