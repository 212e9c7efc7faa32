/*
 * fuzz_rules: the rules loader (rules_parse, what --rules FILE reads) on
 * any bytes, then the rules it accepts at work: learning from a GET of a
 * profile and diagnosing a PATCH, as the proxy does.
 *
 * Input: three parts separated by NUL bytes (missing ones are absent):
 *   the rules document, the GET body learnt from (and the snapshot made of
 *   it), the PATCH body diagnosed with the rules.
 *
 * Checked: a refused document gives a cause, an accepted one none; every
 * value the rules list (rules_each) is known to them, as built in; each
 * type's required fields are fields of that type, and each field of a type
 * is a field; a field's JSON type is NULL or one of the four; learning
 * keeps built-in values built in, adds at most RULES_MAX_LEARNED values,
 * none empty or longer than RULES_MAX_VALUE, and a learned type requires
 * nothing; every {PLACEHOLDER} rules_placeholders reports is one for
 * rules_placeholder_len; every diagnosis has a code, a path and a message
 * without a newline.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "diagnose.h"
#include "rules.h"
#include "snapshot.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const kinds[] = {
	"type", "anchor", "placeholder", "method", "field"
};
#define NKINDS	(sizeof kinds / sizeof kinds[0])

struct walk {
	const struct rules	*r;
	const char		*kind;
	const char		*type;	/* kind "field": of this type */
	int			 learnt;	/* after rules_learn */
	size_t			 nlearned;
};

/* A text rules_placeholders scans. */
struct span {
	const char	*text;
	size_t		 len;
};

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

static enum rules_origin
lookup(const struct rules *r, const char *kind, const char *type,
    const char *value)
{
	if (strcmp(kind, "type") == 0)
		return rules_type(r, value);
	if (strcmp(kind, "anchor") == 0)
		return rules_anchor(r, value);
	if (strcmp(kind, "placeholder") == 0)
		return rules_placeholder(r, value);
	if (strcmp(kind, "method") == 0)
		return rules_method(r, value);
	return rules_field(r, type, value);
}

static void
each_value(const char *value, void *arg)
{
	struct walk		*w = arg;
	enum rules_origin	 o;
	const char		*ft;

	o = lookup(w->r, w->kind, w->type, value);
	if (o == RULES_UNKNOWN || (!w->learnt && o != RULES_BUILTIN)) {
		fprintf(stderr, "fuzz_rules: %s \"%s\"%s%s is listed but "
		    "looks up as %d\n", w->kind, value, w->type ? " of " : "",
		    w->type ? w->type : "", (int)o);
		abort();
	}
	if (o == RULES_LEARNED) {
		if (value[0] == '\0' || strlen(value) > RULES_MAX_VALUE) {
			fprintf(stderr, "fuzz_rules: learnt %s of %zu bytes\n",
			    w->kind, strlen(value));
			abort();
		}
		if (w->type == NULL)
			w->nlearned++;
	}
	if (strcmp(w->kind, "field") == 0) {
		if (w->type != NULL &&
		    rules_field(w->r, NULL, value) == RULES_UNKNOWN) {
			fprintf(stderr, "fuzz_rules: field \"%s\" of type "
			    "\"%s\" is not a field\n", value, w->type);
			abort();
		}
		ft = rules_field_type(w->r, value);
		if (ft != NULL && strcmp(ft, "string") != 0 &&
		    strcmp(ft, "integer") != 0 && strcmp(ft, "boolean") != 0 &&
		    strcmp(ft, "object") != 0) {
			fprintf(stderr, "fuzz_rules: field \"%s\" has type "
			    "\"%s\"\n", value, ft);
			abort();
		}
	}
}

/* For each type: its fields and its required fields. */
static void
each_type(const char *type, void *arg)
{
	struct walk		 w = *(struct walk *)arg;
	const char *const	*req;
	size_t			 i;

	w.kind = "field";
	w.type = type;
	rules_each(w.r, "field", type, each_value, &w);
	req = rules_required(w.r, type);
	if (req == NULL) {
		fprintf(stderr, "fuzz_rules: type \"%s\" has no required "
		    "list\n", type);
		abort();
	}
	if (rules_type(w.r, type) == RULES_LEARNED && req[0] != NULL) {
		fprintf(stderr, "fuzz_rules: learnt type \"%s\" requires "
		    "\"%s\"\n", type, req[0]);
		abort();
	}
	for (i = 0; req[i] != NULL; i++) {
		if (rules_field(w.r, type, req[i]) != RULES_BUILTIN) {
			fprintf(stderr, "fuzz_rules: type \"%s\" requires "
			    "\"%s\", not one of its fields\n", type, req[i]);
			abort();
		}
	}
}

/* Every listed value looks up as known; returns how many were learnt. */
static size_t
check_rules(const struct rules *r, int learnt)
{
	struct walk	w;
	size_t		k;

	memset(&w, 0, sizeof w);
	w.r = r;
	w.learnt = learnt;
	for (k = 0; k < NKINDS; k++) {
		w.kind = kinds[k];
		rules_each(r, kinds[k], NULL, each_value, &w);
	}
	rules_each(r, "type", NULL, each_type, &w);
	(void)rules_required(r, NULL);
	(void)rules_field(r, NULL, "type");
	return w.nlearned;
}

/* Built-in values stay built in after learning. */
static void
still_builtin(const char *value, void *arg)
{
	struct walk	*w = arg;

	if (lookup(w->r, w->kind, NULL, value) != RULES_BUILTIN) {
		fprintf(stderr, "fuzz_rules: built-in %s \"%s\" was changed "
		    "by learning\n", w->kind, value);
		abort();
	}
}

static void
placeholder_cb(const char *name, size_t namelen, size_t off, void *arg)
{
	const struct span	*s = arg;

	if (off >= s->len || name != s->text + off + 1 ||
	    rules_placeholder_len(s->text + off, s->len - off) !=
	    namelen + 2) {
		fprintf(stderr, "fuzz_rules: placeholder at %zu (%zu bytes) "
		    "is not one\n", off, namelen);
		abort();
	}
}

static void
check_diagnosis(const struct diagnosis *d)
{
	if (d->code == NULL || d->code[0] == '\0' || d->message == NULL ||
	    d->path == NULL || strchr(d->message, '\n') != NULL) {
		fprintf(stderr, "fuzz_rules: bad diagnosis [%s] %s: %s\n",
		    d->code ? d->code : "(null)", d->path ? d->path : "(null)",
		    d->message ? d->message : "(null)");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t		*p = data, *end = data + len;
	char			*text, *get, *patch, *cause = NULL;
	size_t			 textlen, getlen = 0, patchlen = 0, i, k;
	struct rules		*r, *before;
	struct snapshot		*snap = NULL;
	struct diag_list	 list = { NULL, 0, 0 };
	struct walk		 w;
	struct span		 span;
	json_t			*doc = NULL;

	text = next_part(&p, end, &textlen);
	get = next_part(&p, end, &getlen);
	patch = next_part(&p, end, &patchlen);

	span.text = text;
	span.len = textlen;
	rules_placeholders(text, textlen, placeholder_cb, &span);

	r = rules_parse(text, textlen, &cause);
	if (r == NULL) {
		if (cause == NULL || cause[0] == '\0') {
			fprintf(stderr, "fuzz_rules: refused without a "
			    "cause\n");
			abort();
		}
		free(cause);
		goto out;
	}
	if (cause != NULL) {
		fprintf(stderr, "fuzz_rules: accepted with a cause: %s\n",
		    cause);
		abort();
	}
	(void)check_rules(r, 0);

	if (get != NULL)
		doc = json_loadb(get, getlen, 0, NULL);
	if (json_is_object(doc)) {
		before = rules_parse(text, textlen, &cause);
		if (before == NULL) {
			fprintf(stderr, "fuzz_rules: accepted once, then "
			    "refused: %s\n", cause);
			abort();
		}
		rules_learn(r, doc);
		if (check_rules(r, 1) > RULES_MAX_LEARNED) {
			fprintf(stderr, "fuzz_rules: more than %d values "
			    "learnt\n", RULES_MAX_LEARNED);
			abort();
		}
		memset(&w, 0, sizeof w);
		w.r = r;
		for (k = 0; k < NKINDS; k++) {
			w.kind = kinds[k];
			rules_each(before, kinds[k], NULL, still_builtin, &w);
		}
		rules_free(before);
		snap = snapshot_new(doc, NULL);
	}
	if (patch != NULL) {
		diagnose_patch(patch, patchlen, NULL, snap, r, &list);
		if (list.n > DIAG_MAX + 1) {
			fprintf(stderr, "fuzz_rules: %zu diagnoses\n", list.n);
			abort();
		}
		for (i = 0; i < list.n; i++)
			check_diagnosis(&list.v[i]);
		diag_list_free(&list);
	}
	snapshot_free(snap);
	rules_free(r);
out:
	json_decref(doc);
	free(text);
	free(get);
	free(patch);
	return 0;
}
