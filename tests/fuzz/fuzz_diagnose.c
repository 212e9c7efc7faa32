/*
 * fuzz_diagnose: the diagnoses engine on any PATCH body (JSON or not) and
 * any snapshot, and the formatting of what it finds.
 *
 * Input: four parts separated by NUL bytes (missing ones are absent):
 *   the PATCH body, the GET body the snapshot is made from, the GET's
 *   "fields" value, the PATCH's "fields" value.
 * A snapshot body that is a JSON object is also learned by a fresh copy of
 * the built-in rules, as the proxy learns from GET answers.
 *
 * Checked: every diagnosis has a code, a message without a newline that is
 * valid UTF-8, and a path; at most DIAG_MAX + 1 come back; the JSON form
 * formats exactly as the diagnosis does.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diagnose.h"
#include "rules.h"
#include "snapshot.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct rules	*builtin;

/* Split off the part before the next NUL; NULL when there is none left. */
static char *
next_part(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t	*z;
	char		*s;

	if (*p == NULL)
		return NULL;
	z = memchr(*p, 0, (size_t)(end - *p));
	*len = (size_t)((z != NULL ? z : end) - *p);
	s = xstrndup((const char *)*p, *len);
	*p = z != NULL ? z + 1 : NULL;
	return s;
}

static void
check(const struct diagnosis *d)
{
	struct buf	 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	json_t		*j, *m;

	if (d->code == NULL || d->code[0] == '\0' || d->message == NULL ||
	    d->path == NULL || strchr(d->message, '\n') != NULL) {
		fprintf(stderr, "fuzz_diagnose: bad diagnosis [%s] %s: %s\n",
		    d->code ? d->code : "(null)", d->path ? d->path : "(null)",
		    d->message ? d->message : "(null)");
		abort();
	}
	m = json_string(d->message);
	if (m == NULL) {
		fprintf(stderr, "fuzz_diagnose: [%s] message is not UTF-8\n",
		    d->code);
		abort();
	}
	json_decref(m);
	j = diag_to_json(d);
	diag_format(d, &a);
	if (j == NULL || diag_format_json(j, &b) != 0 ||
	    strcmp(buf_str(&a), buf_str(&b)) != 0) {
		fprintf(stderr, "fuzz_diagnose: the JSON form formats "
		    "differently:\n  %s\n  %s\n", buf_str(&a), buf_str(&b));
		abort();
	}
	(void)diag_severity_json(j);
	json_decref(j);
	buf_free(&a);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t		*p = data, *end = data + len;
	char			*body, *snapbody, *snapfields, *fields;
	size_t			 bodylen, snaplen, n, i;
	struct snapshot		*snap = NULL;
	struct rules		*rules, *learned = NULL;
	struct diag_list	 list = { NULL, 0, 0 };
	json_t			*doc = NULL;

	if (builtin == NULL)
		builtin = rules_builtin();
	rules = builtin;
	body = next_part(&p, end, &bodylen);
	snapbody = next_part(&p, end, &snaplen);
	snapfields = next_part(&p, end, &n);
	fields = next_part(&p, end, &n);
	if (snapbody != NULL)
		doc = json_loadb(snapbody, snaplen, 0, NULL);
	if (json_is_object(doc)) {
		snap = snapshot_new(doc, snapfields);
		learned = rules = rules_builtin();
		rules_learn(learned, doc);
	}
	diagnose_patch(body, bodylen, fields, snap, rules, &list);
	if (list.n > DIAG_MAX + 1) {
		fprintf(stderr, "fuzz_diagnose: %zu diagnoses\n", list.n);
		abort();
	}
	for (i = 0; i < list.n; i++)
		check(&list.v[i]);
	(void)diag_list_has_errors(&list);
	diag_list_free(&list);
	if (snap != NULL) {
		for (i = 0; i < snapshot_count(snap); i++)
			(void)snapshot_action_id(snap, i);
		(void)snapshot_has_field(snap, "headers");
		(void)snapshot_knows(snap, "placeholder", "EMAIL");
	}
	snapshot_free(snap);
	rules_free(learned);
	json_decref(doc);
	free(body);
	free(snapbody);
	free(snapfields);
	free(fields);
	return 0;
}
