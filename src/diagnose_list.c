/*
 * diagnose_list: the diagnoses themselves. The table of codes (each with
 * its severity; docs/diagnoses.md has an anchor for each), recording a
 * diagnosis in a list, the order of a list, and the two forms a diagnosis
 * takes: the compiler-style line and the JSON object of an errors array
 * (also read back from a cassette).
 *
 * A list owns every string of its diagnoses. Recording keeps at most
 * DIAG_MAX per walk and only counts the rest (diagnose_patch says how many
 * in a last "diagnoses.truncated"); a message is made one line here,
 * whatever the values quoted in it hold.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diagnose.h"
#include "diagnose_local.h"
#include "xmalloc.h"

/* Every code, its severity, and (in docs/diagnoses.md) its meaning. */
static const struct diag_code_info {
	const char		*name;
	enum diag_severity	 severity;
} diag_codes[DC_COUNT] = {
	[DC_JSON_SYNTAX] =		{ "json.syntax", DIAG_ERROR },
	[DC_BODY_NOT_OBJECT] =		{ "body.not-object", DIAG_ERROR },
	[DC_ACTIONS_TYPE] =		{ "actions.type", DIAG_ERROR },
	[DC_ACTIONS_PARTIAL] =		{ "actions.partial", DIAG_ERROR },
	[DC_ACTIONS_PROJECTION] =	{ "actions.fields-projection",
					  DIAG_ERROR },
	[DC_ANCHOR_UNKNOWN] =		{ "action.anchor.unknown", DIAG_ERROR },
	[DC_TYPE_UNKNOWN] =		{ "action.type.unknown", DIAG_ERROR },
	[DC_FIELD_MISSING] =		{ "action.field.missing", DIAG_ERROR },
	[DC_FIELD_TYPE] =		{ "action.field.type", DIAG_ERROR },
	[DC_FIELD_UNKNOWN] =		{ "action.field.unknown",
					  DIAG_WARNING },
	[DC_ID_UNKNOWN] =		{ "action.id.unknown", DIAG_ERROR },
	[DC_ID_DUPLICATE] =		{ "action.id.duplicate", DIAG_ERROR },
	[DC_WEBHOOK_METHOD] =		{ "action.webhook.method", DIAG_ERROR },
	[DC_WEBHOOK_URL] =		{ "action.webhook.url", DIAG_ERROR },
	[DC_WEBHOOK_BODY] =		{ "action.webhook.body", DIAG_ERROR },
	[DC_WEBHOOK_PLACEHOLDER] =	{ "action.webhook.placeholder",
					  DIAG_WARNING },
	[DC_HEADERS_TYPE] =		{ "action.headers.type", DIAG_ERROR },
	[DC_PROFILE_HEADERS] =		{ "profile.headers.misplaced",
					  DIAG_WARNING },
	[DC_QUERY_FIELDS] =		{ "query.fields.ignored", DIAG_INFO },
	[DC_CLIENT_RETRY_EARLY] =	{ "client.retry.early", DIAG_WARNING },
	[DC_CLIENT_RETRY_UNSAFE] =	{ "client.retry.unsafe",
					  DIAG_WARNING },
	[DC_TRUNCATED] =		{ "diagnoses.truncated", DIAG_INFO },
};

static const char *const diag_severity_names[] = {
	[DIAG_ERROR] = "error",
	[DIAG_WARNING] = "warning",
	[DIAG_INFO] = "info",
};

/* Is there room for one more diagnosis? Checks that compute a suggestion
 * ask first, so that past DIAG_MAX nothing costly is done. */
int
diag_room(const struct diag_ctx *c)
{
	return c->found < DIAG_MAX;
}

/*
 * Past DIAG_MAX, count a diagnosis that is due without building it, and
 * return nonzero: for checks whose message costs more than a few bytes.
 */
int
diag_skip(struct diag_ctx *c)
{
	if (diag_room(c))
		return 0;
	c->found++;
	return 1;
}

static void	diag_emitv(struct diag_ctx *, enum diag_code_id, const char *,
		    const char *, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));

/* Record a diagnosis at the current path (or at path when not NULL). */
static void
diag_emitv(struct diag_ctx *c, enum diag_code_id code, const char *path,
    const char *suggestion, const char *fmt, va_list ap)
{
	struct diag_list	*l = c->out;
	struct diagnosis	*d;
	char			*msg;

	if (code != DC_TRUNCATED && c->found++ >= DIAG_MAX)
		return;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	msg = diag_one_line(msg);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	d = &l->v[l->n++];
	d->severity = diag_codes[code].severity;
	d->code = xstrdup(diag_codes[code].name);
	d->path = xstrdup(path != NULL ? path : buf_str(&c->path));
	d->message = msg;
	d->suggestion = suggestion != NULL ? xstrdup(suggestion) : NULL;
}

/* Record a diagnosis at the current path. */
void
diag_emit(struct diag_ctx *c, enum diag_code_id code, const char *suggestion,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_emitv(c, code, NULL, suggestion, fmt, ap);
	va_end(ap);
}

/* Record a diagnosis at path. */
void
diag_emit_at(struct diag_ctx *c, enum diag_code_id code, const char *path,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_emitv(c, code, path, NULL, fmt, ap);
	va_end(ap);
}

/* Append a diagnosis of a code of the table, outside a walk. */
int
diag_list_add(struct diag_list *l, const char *code, const char *path,
    const char *suggestion, const char *fmt, ...)
{
	struct diagnosis	*d;
	va_list			 ap;
	char			*msg;
	size_t			 i;

	for (i = 0; i < DC_COUNT; i++)
		if (strcmp(diag_codes[i].name, code) == 0)
			break;
	if (i == DC_COUNT)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	d = &l->v[l->n++];
	d->severity = diag_codes[i].severity;
	d->code = xstrdup(diag_codes[i].name);
	d->path = xstrdup(path);
	d->message = diag_one_line(msg);
	d->suggestion = suggestion != NULL ? xstrdup(suggestion) : NULL;
	return 0;
}

/* By path, then code, then message. */
static int
diag_cmp(const void *pa, const void *pb)
{
	const struct diagnosis	*a = pa, *b = pb;
	int			 r;

	r = diag_path_cmp(a->path, b->path);
	if (r == 0)
		r = strcmp(a->code, b->code);
	if (r == 0)
		r = strcmp(a->message, b->message);
	return r;
}

/* Sort the diagnoses from first on. */
void
diag_list_sort(struct diag_list *l, size_t first)
{
	if (l->n - first > 1)
		qsort(l->v + first, l->n - first, sizeof *l->v, diag_cmp);
}

/* Free every diagnosis. */
void
diag_list_free(struct diag_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].code);
		free(l->v[i].path);
		free(l->v[i].message);
		free(l->v[i].suggestion);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Does the list hold an error? */
int
diag_list_has_errors(const struct diag_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].severity == DIAG_ERROR)
			return 1;
	return 0;
}

/* "error", "warning" or "info". */
const char *
diag_severity_name(enum diag_severity s)
{
	if ((size_t)s >= DIAG_NITEMS(diag_severity_names))
		return "error";
	return diag_severity_names[s];
}

/* Append the compiler-style line for d. */
void
diag_format(const struct diagnosis *d, struct buf *b)
{
	buf_printf(b, "%s[%s]", diag_severity_name(d->severity), d->code);
	/* A path holds the body's keys, which may hold control bytes. */
	if (d->path[0] != '\0') {
		buf_add(b, " ", 1);
		diag_escape(b, d->path, strlen(d->path), SIZE_MAX, 0);
	}
	buf_printf(b, ": %s", d->message);
	if (d->suggestion != NULL) {
		buf_adds(b, "; did you mean \"");
		diag_escape(b, d->suggestion, strlen(d->suggestion), SIZE_MAX,
		    1);
		buf_adds(b, "\"?");
	}
}

/* Set key to a string, made valid UTF-8 if it somehow is not. */
static void
diag_json_set(json_t *o, const char *key, const char *s)
{
	struct buf	b = { NULL, 0, 0 };
	json_t		*v;

	v = json_string(s);
	if (v == NULL) {
		diag_escape(&b, s, strlen(s), SIZE_MAX, 0);
		v = json_string(buf_str(&b));
		buf_free(&b);
	}
	json_object_set_new(o, key, v);
}

/* Return d as a JSON object for an errors array. */
json_t *
diag_to_json(const struct diagnosis *d)
{
	json_t	*o;

	o = json_object();
	diag_json_set(o, "source", "patchscope");
	diag_json_set(o, "severity", diag_severity_name(d->severity));
	diag_json_set(o, "code", d->code);
	diag_json_set(o, "path", d->path);
	diag_json_set(o, "message", d->message);
	if (d->suggestion != NULL)
		diag_json_set(o, "suggestion", d->suggestion);
	return o;
}

/* The severity of a diagnosis in its JSON form. */
enum diag_severity
diag_severity_json(const json_t *o)
{
	const char	*sev;

	sev = json_string_value(json_object_get(o, "severity"));
	if (sev != NULL && strcmp(sev, "error") == 0)
		return DIAG_ERROR;
	if (sev != NULL && strcmp(sev, "warning") == 0)
		return DIAG_WARNING;
	return DIAG_INFO;
}

/* Format a diagnosis in its JSON form, borrowing its strings. */
int
diag_format_json(const json_t *o, struct buf *b)
{
	struct diagnosis	d;
	const char		*path, *sugg;

	d.severity = diag_severity_json(o);
	d.code = (char *)(uintptr_t)json_string_value(json_object_get(o,
	    "code"));
	d.message = (char *)(uintptr_t)json_string_value(json_object_get(o,
	    "message"));
	path = json_string_value(json_object_get(o, "path"));
	sugg = json_string_value(json_object_get(o, "suggestion"));
	d.path = (char *)(uintptr_t)(path != NULL ? path : "");
	d.suggestion = (char *)(uintptr_t)sugg;
	if (d.code == NULL || d.message == NULL)
		return -1;
	diag_format(&d, b);
	return 0;
}

/* The i-th code and its severity, or NULL. */
const char *
diag_code(size_t i, enum diag_severity *severity)
{
	if (i >= DC_COUNT)
		return NULL;
	if (severity != NULL)
		*severity = diag_codes[i].severity;
	return diag_codes[i].name;
}
