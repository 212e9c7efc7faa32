/*
 * diagnose: say exactly why a PATCH of a profile would fail or lose data.
 *
 * diagnose_patch() parses the body once with jansson (after a linear scan
 * that refuses nesting deeper than DIAG_MAX_DEPTH, so jansson's recursion
 * stays shallow), then walks it: top-level keys through diag_top_checks,
 * each action through the generic field checks and diag_field_checks.
 * Checks that need to know the profile (actions.partial, action.id.unknown,
 * actions.fields-projection) run only with a snapshot: without one nothing
 * is claimed about what the profile holds.
 *
 * Work is bounded: every check is O(1) or linear in its value, and once
 * DIAG_MAX diagnoses are kept the rest are only counted, so suggestions
 * (edit distances) are computed at most DIAG_MAX times. Diagnoses are
 * generated top-level first, then action by action, and sorted at the end.
 *
 * Messages quote values from the body through diag_q(): escaped,
 * shortened, valid UTF-8, so they can go into logs, headers and JSON as
 * they are.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "diagnose.h"
#include "rules.h"
#include "snapshot.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

#define DIAG_QUOTE_MAX		64	/* code points of a quoted value */
#define DIAG_ID_QUOTE_MAX	256	/* ... of an id named in a message */
#define DIAG_SUGGEST_MAX	128	/* longest value worth a suggestion */
#define DIAG_SUGGEST_DUMP	200	/* longest body offered as its string */
#define DIAG_FAR		UINT_MAX	/* score: too far to suggest */

enum diag_code_id {
	DC_JSON_SYNTAX,
	DC_ACTIONS_TYPE,
	DC_ACTIONS_PARTIAL,
	DC_ACTIONS_PROJECTION,
	DC_ANCHOR_UNKNOWN,
	DC_TYPE_UNKNOWN,
	DC_FIELD_MISSING,
	DC_FIELD_TYPE,
	DC_FIELD_UNKNOWN,
	DC_ID_UNKNOWN,
	DC_ID_DUPLICATE,
	DC_WEBHOOK_METHOD,
	DC_WEBHOOK_URL,
	DC_WEBHOOK_BODY,
	DC_WEBHOOK_PLACEHOLDER,
	DC_HEADERS_TYPE,
	DC_PROFILE_HEADERS,
	DC_QUERY_FIELDS,
	DC_TRUNCATED,
	DC_COUNT
};

/* Every code, its severity, and (in docs/diagnoses.md) its meaning. */
static const struct diag_code_info {
	const char		*name;
	enum diag_severity	 severity;
} diag_codes[DC_COUNT] = {
	[DC_JSON_SYNTAX] =		{ "json.syntax", DIAG_ERROR },
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
	[DC_TRUNCATED] =		{ "diagnoses.truncated", DIAG_INFO },
};

static const char *const diag_severity_names[] = {
	[DIAG_ERROR] = "error",
	[DIAG_WARNING] = "warning",
	[DIAG_INFO] = "info",
};

/* The walk's state. */
struct diag_ctx {
	const struct rules	*rules;
	const struct snapshot	*snap;
	struct diag_list	*out;
	size_t			 found;		/* kept or not */
	struct buf		 path;		/* where the walk is */
	struct buf		 q[3];		/* values quoted for messages */
	json_t			*ids;		/* PATCH action id -> index */
	size_t			 index;		/* of the action in hand */
	const json_t		*action;	/* the action in hand */
	const char		*type;		/* its "type", when a string */
	int			 type_known;
};

/* A check of one key of an action, for actions of one type (or any). */
struct diag_field_check {
	const char	*field;
	const char	*type;		/* NULL: every type */
	int		 owns_type;	/* checks the JSON type itself */
	void		(*check)(struct diag_ctx *, const json_t *);
};

/* A check of one top-level key of the body. */
struct diag_top_check {
	const char	*key;
	void		(*check)(struct diag_ctx *, const json_t *root,
			    const json_t *v);
};

static void	diag_check_type(struct diag_ctx *, const json_t *);
static void	diag_check_anchor(struct diag_ctx *, const json_t *);
static void	diag_check_headers(struct diag_ctx *, const json_t *);
static void	diag_check_method(struct diag_ctx *, const json_t *);
static void	diag_check_url(struct diag_ctx *, const json_t *);
static void	diag_check_body(struct diag_ctx *, const json_t *);
static void	diag_check_profile_headers(struct diag_ctx *, const json_t *,
		    const json_t *);
static void	diag_check_actions(struct diag_ctx *, const json_t *,
		    const json_t *);

static const struct diag_field_check diag_field_checks[] = {
	{ "type",	NULL,		0, diag_check_type },
	{ "anchor",	NULL,		0, diag_check_anchor },
	{ "headers",	NULL,		1, diag_check_headers },
	{ "subject",	"WEBHOOK",	0, diag_check_method },
	{ "to",		"WEBHOOK",	0, diag_check_url },
	{ "body",	"WEBHOOK",	0, diag_check_body },
};

/* In this order, so that they are found before the per-action flood. */
static const struct diag_top_check diag_top_checks[] = {
	{ "headers",	diag_check_profile_headers },
	{ "actions",	diag_check_actions },
};

#define NITEMS(a)	(sizeof (a) / sizeof (a)[0])

/*
 * Append len bytes of s escaped for a message: control characters (and,
 * when quotes is set, quotes and backslashes) escaped as in JSON, invalid
 * UTF-8 as U+FFFD, at most max code points (then "...").
 */
static void
diag_escape(struct buf *b, const char *s, size_t len, size_t max,
    int quotes)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, count = 0;

	while (i < len) {
		if (count++ == max) {
			buf_adds(b, "...");
			break;
		}
		n = utf8_seq_len(s + i, len - i);
		if (n == 0)
			buf_adds(b, UTF8_REPLACEMENT);
		else if (quotes && (p[i] == '"' || p[i] == '\\'))
			buf_printf(b, "\\%c", p[i]);
		else if (p[i] == '\n')
			buf_adds(b, "\\n");
		else if (p[i] == '\r')
			buf_adds(b, "\\r");
		else if (p[i] == '\t')
			buf_adds(b, "\\t");
		else if (p[i] < 0x20 || p[i] == 0x7f)
			buf_printf(b, "\\u%04x", p[i]);
		else
			buf_add(b, p + i, n);
		i += n > 0 ? n : 1;
	}
}

/* Quote s into scratch buffer slot for a message; valid until reused. */
static const char *
diag_q(struct diag_ctx *c, int slot, const char *s, size_t max)
{
	struct buf	*b = &c->q[slot];

	buf_reset(b);
	buf_add(b, "\"", 1);
	diag_escape(b, s, strlen(s), max, 1);
	buf_add(b, "\"", 1);
	return buf_str(b);
}

/* Escape a known value (a type, say) into slot, without quotes. */
static const char *
diag_bare(struct diag_ctx *c, int slot, const char *s)
{
	struct buf	*b = &c->q[slot];

	buf_reset(b);
	diag_escape(b, s, strlen(s), DIAG_QUOTE_MAX, 1);
	return buf_str(b);
}

/* Is there room for one more diagnosis? Checks that compute a suggestion
 * ask first, so that past DIAG_MAX nothing costly is done. */
static int
diag_room(const struct diag_ctx *c)
{
	return c->found < DIAG_MAX;
}

/*
 * Past DIAG_MAX, count a diagnosis that is due without building it, and
 * return nonzero: for checks whose message costs more than a few bytes.
 */
static int
diag_skip(struct diag_ctx *c)
{
	if (diag_room(c))
		return 0;
	c->found++;
	return 1;
}

/*
 * A message is one line: values quoted from the body (or learned from a
 * profile) may hold newlines or other control bytes; write them escaped,
 * as in JSON. Takes msg over and returns the line.
 */
static char *
diag_one_line(char *msg)
{
	struct buf		 b = { NULL, 0, 0 };
	const unsigned char	*p;

	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (*p == '\0')
		return msg;
	diag_escape(&b, msg, strlen(msg), SIZE_MAX, 0);
	free(msg);
	msg = xstrdup(buf_str(&b));
	buf_free(&b);
	return msg;
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

static void
diag_emit(struct diag_ctx *c, enum diag_code_id code, const char *suggestion,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
diag_emit(struct diag_ctx *c, enum diag_code_id code, const char *suggestion,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_emitv(c, code, NULL, suggestion, fmt, ap);
	va_end(ap);
}

static void
diag_emit_at(struct diag_ctx *c, enum diag_code_id code, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
diag_emit_at(struct diag_ctx *c, enum diag_code_id code, const char *path,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_emitv(c, code, path, NULL, fmt, ap);
	va_end(ap);
}

/*
 * Append a key to the path, escaped as RFC 6901 says ("~" as "~0", "/" as
 * "~1"); return the old length for diag_path_pop(). A control character
 * in a key is written %XX, as in a pointer's URI fragment form (RFC 6901
 * section 6), so that a path is always safe in a header or a log line.
 */
static size_t
diag_path_key(struct diag_ctx *c, const char *key)
{
	size_t		old = c->path.len;
	unsigned char	ch;

	buf_add(&c->path, "/", 1);
	for (; *key != '\0'; key++) {
		ch = (unsigned char)*key;
		if (ch == '~')
			buf_adds(&c->path, "~0");
		else if (ch == '/')
			buf_adds(&c->path, "~1");
		else
			uri_encode(&c->path, key, 1, URI_ENCODE_CONTROL);
	}
	return old;
}

static size_t
diag_path_index(struct diag_ctx *c, size_t i)
{
	size_t	old = c->path.len;

	buf_printf(&c->path, "/%zu", i);
	return old;
}

static void
diag_path_pop(struct diag_ctx *c, size_t old)
{
	c->path.len = old;
	if (c->path.data != NULL)
		c->path.data[old] = '\0';
}

/* "an object", "a string", ... for messages. */
static const char *
diag_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/*
 * Suggestions: the known value nearest to what was written. Case is
 * ignored; a value may also match the part of a known value after a '_' or
 * '-' ("CANCELED" -> "BOOKING_CANCELLED"), or be a piece of one
 * ("CANCEL"). Ties go to the value first in byte order.
 */
struct diag_suggest {
	const char	*value;
	size_t		 len;
	const char	*best;
	unsigned	 score;
};

/* Edits allowed between a written value and a known one of len bytes. */
static size_t
diag_suggest_limit(size_t len)
{
	if (len < 8)
		return 1;
	return len < 12 ? 2 : 3;
}

/* Optimal string alignment distance, case-insensitive; both <= 128. */
static size_t
diag_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t	rows[3][DIAG_SUGGEST_MAX + 2];
	size_t	*p2 = rows[0], *p1 = rows[1], *cur = rows[2], *t;
	size_t	i, j, cost, v;

	for (j = 0; j <= lb; j++)
		p1[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			v = p1[j - 1] + cost;
			if (p1[j] + 1 < v)
				v = p1[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1])
			    == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) &&
			    p2[j - 2] + 1 < v)
				v = p2[j - 2] + 1;
			cur[j] = v;
		}
		t = p2;
		p2 = p1;
		p1 = cur;
		cur = t;
	}
	return p1[lb];
}

/* Score form (a known value or a part of it) against the written value;
 * DIAG_FAR when too far. */
static unsigned
diag_suggest_form(const struct diag_suggest *s, const char *form)
{
	size_t	len = strlen(form), limit, d;

	limit = diag_suggest_limit(len);
	if (s->len > len + limit || len > s->len + limit)
		return DIAG_FAR;
	d = diag_distance(s->value, s->len, form, len);
	return d <= limit ? (unsigned)d : DIAG_FAR;
}

static void
diag_suggest_cb(const char *cand, void *arg)
{
	struct diag_suggest	*s = arg;
	const char		*p;
	unsigned		 score = DIAG_FAR, d;

	if (strlen(cand) > DIAG_SUGGEST_MAX)
		return;
	if (strcasecmp(cand, s->value) == 0)
		score = 0;
	d = score != 0 ? diag_suggest_form(s, cand) : DIAG_FAR;
	if (d != DIAG_FAR)
		score = 10 + 10 * d;
	for (p = cand; score > 10 && *p != '\0'; p++) {
		if ((*p != '_' && *p != '-') || p[1] == '\0')
			continue;
		d = diag_suggest_form(s, p + 1);
		if (d != DIAG_FAR && 15 + 10 * d < score)
			score = 15 + 10 * d;
	}
	if (score == DIAG_FAR && s->len >= 4 && strcasestr(cand, s->value))
		score = 1000 + (unsigned)strlen(cand);
	if (score < s->score || (score == s->score && score != DIAG_FAR &&
	    strcmp(cand, s->best) < 0)) {
		s->score = score;
		s->best = cand;
	}
}

/* The known value of kind nearest to value (rules' storage), or NULL. */
static const char *
diag_suggest(struct diag_ctx *c, const char *kind, const char *type,
    const char *value)
{
	struct diag_suggest	s;

	if (!diag_room(c))
		return NULL;
	s.value = value;
	s.len = strlen(value);
	s.best = NULL;
	s.score = DIAG_FAR;
	if (s.len == 0 || s.len > DIAG_SUGGEST_MAX)
		return NULL;
	rules_each(c->rules, kind, type, diag_suggest_cb, &s);
	return s.best;
}

/* Collect known values as "A, B, C" into b (bounded by the rules). */
static void
diag_join_cb(const char *value, void *arg)
{
	struct buf	*b = arg;

	if (b->len > 0)
		buf_adds(b, ", ");
	buf_adds(b, value);
}

/* What a message says of a value neither built in nor seen. */
static const char	diag_unseen[] =
    "neither in the built-in list nor seen in a GET response";

/*
 * Scan len bytes of JSON text for nesting deeper than DIAG_MAX_DEPTH, the
 * way a parser would see it (brackets inside strings do not count). Return
 * nonzero and the line and column (as jansson counts them: code points
 * from 1) of the bracket that goes too deep.
 */
static int
diag_too_deep(const char *s, size_t len, int *line, int *col)
{
	size_t	i, depth = 0;
	int	in_str = 0, esc = 0;

	*line = 1;
	*col = 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 0;
		} else if (!UTF8_IS_CONT(s[i]))
			(*col)++;
		if (in_str) {
			if (esc)
				esc = 0;
			else if (s[i] == '\\')
				esc = 1;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '[' || s[i] == '{') {
			if (++depth > DIAG_MAX_DEPTH)
				return 1;
		} else if ((s[i] == ']' || s[i] == '}') && depth > 0)
			depth--;
	}
	return 0;
}

/* jansson's error text, which may quote raw bytes, made safe to show. */
static char *
diag_error_text(const json_error_t *err)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*r;

	diag_escape(&b, err->text, strlen(err->text), JSON_ERROR_TEXT_LENGTH,
	    0);
	r = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

/* Type of the action in hand, by rules or by the profile's own actions. */
static int
diag_type_known(const struct diag_ctx *c, const char *type)
{
	return type != NULL && (rules_type(c->rules, type) != RULES_UNKNOWN ||
	    snapshot_knows(c->snap, "type", type));
}

/* action.type.unknown */
static void
diag_check_type(struct diag_ctx *c, const json_t *v)
{
	const char	*type = json_string_value(v), *sug;
	struct buf	 known = { NULL, 0, 0 };

	if (type == NULL || c->type_known || diag_skip(c))
		return;
	sug = diag_suggest(c, "type", NULL, type);
	if (sug != NULL)
		diag_emit(c, DC_TYPE_UNKNOWN, sug, "%s is not a known action "
		    "type", diag_q(c, 0, type, DIAG_QUOTE_MAX));
	else {
		rules_each(c->rules, "type", NULL, diag_join_cb, &known);
		diag_emit(c, DC_TYPE_UNKNOWN, NULL, "%s is not a known action "
		    "type (%s: %s)", diag_q(c, 0, type, DIAG_QUOTE_MAX),
		    diag_unseen, buf_str(&known));
	}
	buf_free(&known);
}

/* action.anchor.unknown */
static void
diag_check_anchor(struct diag_ctx *c, const json_t *v)
{
	const char	*anchor = json_string_value(v), *sug;

	if (anchor == NULL ||
	    rules_anchor(c->rules, anchor) != RULES_UNKNOWN ||
	    snapshot_knows(c->snap, "anchor", anchor))
		return;
	sug = diag_suggest(c, "anchor", NULL, anchor);
	if (sug != NULL)
		diag_emit(c, DC_ANCHOR_UNKNOWN, sug, "%s is not a known anchor",
		    diag_q(c, 0, anchor, DIAG_QUOTE_MAX));
	else
		diag_emit(c, DC_ANCHOR_UNKNOWN, NULL, "%s is not a known "
		    "anchor (%s)", diag_q(c, 0, anchor, DIAG_QUOTE_MAX),
		    diag_unseen);
}

/* action.headers.type: an object whose values are strings. */
static void
diag_check_headers(struct diag_ctx *c, const json_t *v)
{
	const char	*name;
	const json_t	*h;
	size_t		 old;

	if (!json_is_object(v)) {
		diag_emit(c, DC_HEADERS_TYPE, NULL, "headers must be an object "
		    "of header names to string values, not %s",
		    diag_json_kind(v));
		return;
	}
	json_object_foreach((json_t *)v, name, h) {
		if (json_is_string(h))
			continue;
		old = diag_path_key(c, name);
		diag_emit(c, DC_HEADERS_TYPE, NULL, "header %s must have a "
		    "string value, not %s", diag_q(c, 0, name, DIAG_QUOTE_MAX),
		    diag_json_kind(h));
		diag_path_pop(c, old);
	}
}

/* action.webhook.method: a webhook's subject is its HTTP method. */
static void
diag_check_method(struct diag_ctx *c, const json_t *v)
{
	const char	*m = json_string_value(v), *sug;
	struct buf	 known = { NULL, 0, 0 };

	if (m == NULL || rules_method(c->rules, m) != RULES_UNKNOWN ||
	    diag_skip(c))
		return;
	sug = diag_suggest(c, "method", NULL, m);
	rules_each(c->rules, "method", NULL, diag_join_cb, &known);
	diag_emit(c, DC_WEBHOOK_METHOD, sug, "a webhook's subject is its HTTP "
	    "method, one of %s; %s is not one", buf_str(&known),
	    diag_q(c, 0, m, DIAG_QUOTE_MAX));
	buf_free(&known);
}

/*
 * Is s an absolute http(s) URL: scheme, "://", a non-empty host, an
 * optional numeric port, and no spaces or control characters? Placeholders
 * ("https://example.com/{ID}") are fine anywhere.
 */
static int
diag_is_http_url(const char *s)
{
	struct uri_parts	 u;
	const char		*p, *colon, *end;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	uri_split(s, &u);
	if (uri_default_port(u.scheme.p, u.scheme.len) == 0 ||
	    u.host.p == NULL)
		return 0;
	/* "[v6" with no ']' is no host; an empty one is none either. */
	if (!u.ipv6 && (u.host.len == 0 || u.host.p[0] == '['))
		return 0;
	/* Only digits after the port's ':', if any. */
	end = u.port.p + u.port.len;
	colon = memchr(u.port.p, ':', u.port.len);
	for (p = colon != NULL ? colon + 1 : end; p < end; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* action.webhook.url, and placeholders in the URL. */
static void	diag_placeholders(struct diag_ctx *, const char *, size_t);

static void
diag_check_url(struct diag_ctx *c, const json_t *v)
{
	const char	*to = json_string_value(v);
	char		*sug = NULL;

	if (to == NULL)
		return;
	diag_placeholders(c, to, json_string_length(v));
	if (diag_is_http_url(to))
		return;
	/* "webhookURL.com" most likely wants a scheme in front. */
	if (strstr(to, "://") == NULL && strchr(to, '.') != NULL &&
	    strcspn(to, " \t\r\n") == strlen(to) && to[0] != '/')
		sug = xasprintf("https://%s", to);
	if (sug != NULL && !diag_is_http_url(sug)) {
		free(sug);
		sug = NULL;
	}
	diag_emit(c, DC_WEBHOOK_URL, sug, "a webhook's \"to\" must be an "
	    "absolute http:// or https:// URL; %s is not",
	    diag_q(c, 0, to, DIAG_QUOTE_MAX));
	free(sug);
}

/* Unknown placeholders, each named once per string. */
struct diag_placeholder_walk {
	struct diag_ctx	*c;
	json_t		*seen;		/* created on the first unknown one */
};

static void
diag_placeholder_cb(const char *name, size_t namelen, size_t off, void *arg)
{
	struct diag_placeholder_walk	*w = arg;
	struct diag_ctx			*c = w->c;
	const char			*sug;
	char				*n, *braced = NULL;

	(void)off;
	n = xstrndup(name, namelen);
	if (rules_placeholder(c->rules, n) != RULES_UNKNOWN ||
	    snapshot_knows(c->snap, "placeholder", n))
		goto out;
	if (w->seen == NULL)
		w->seen = json_object();
	if (json_object_get(w->seen, n) != NULL)
		goto out;
	json_object_set_new(w->seen, n, json_true());
	sug = diag_suggest(c, "placeholder", NULL, n);
	if (sug != NULL) {
		braced = xasprintf("{%s}", sug);
		diag_emit(c, DC_WEBHOOK_PLACEHOLDER, braced, "{%s} is not a "
		    "known placeholder", n);
	} else
		diag_emit(c, DC_WEBHOOK_PLACEHOLDER, NULL, "{%s} is not a "
		    "known placeholder (%s; accounts can define their own)",
		    n, diag_unseen);
out:
	free(braced);
	free(n);
}

static void
diag_placeholders(struct diag_ctx *c, const char *s, size_t len)
{
	struct diag_placeholder_walk	w = { c, NULL };

	rules_placeholders(s, len, diag_placeholder_cb, &w);
	json_decref(w.seen);
}

/*
 * Fill a webhook template's placeholders so that it can be parsed: inside
 * a JSON string with zeros ("{ID}" -> "0000"), outside with a number
 * ({ID} -> 1000). Same length, so jansson's line and column are the
 * template's own.
 */
static void
diag_fill(const char *s, size_t len, struct buf *out)
{
	char	*f;
	size_t	 i, n;
	int	 in_str = 0;

	buf_add(out, s, len);
	f = out->data + out->len - len;
	for (i = 0; i < len; i++) {
		if (in_str && s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '"')
			in_str = !in_str;
		if (s[i] != '{')
			continue;
		n = rules_placeholder_len(s + i, len - i);
		if (n == 0)
			continue;
		memset(f + i, '0', n);
		if (!in_str)
			f[i] = '1';
		i += n - 1;
	}
}

/* action.webhook.body (+ placeholders): the body is a JSON text. */
static void
diag_check_body(struct diag_ctx *c, const json_t *v)
{
	const char	*body = json_string_value(v);
	size_t		 len = json_string_length(v), i;
	struct buf	 filled = { NULL, 0, 0 };
	json_error_t	 err;
	json_t		*doc;
	char		*text;
	int		 line, col;

	if (body == NULL)
		return;
	diag_placeholders(c, body, len);
	/* An empty body (a GET webhook, say) has nothing to parse. */
	for (i = 0; i < len && strchr(" \t\r\n", body[i]) != NULL; i++)
		;
	if (i == len)
		return;
	diag_fill(body, len, &filled);
	if (diag_too_deep(filled.data, filled.len, &line, &col)) {
		diag_emit(c, DC_WEBHOOK_BODY, NULL, "the webhook body nests "
		    "arrays and objects more than %d deep (line %d, column "
		    "%d of the template)", DIAG_MAX_DEPTH, line, col);
		goto out;
	}
	doc = json_loadb(filled.data, filled.len, JSON_DECODE_ANY, &err);
	if (doc == NULL) {
		text = diag_error_text(&err);
		diag_emit(c, DC_WEBHOOK_BODY, NULL, "the webhook body is not "
		    "JSON once its placeholders are filled in: line %d, column "
		    "%d of the template: %s", err.line, err.column, text);
		free(text);
	}
	json_decref(doc);
out:
	buf_free(&filled);
}

/* Does v have the JSON type named want ("string", "integer", ...)? */
static int
diag_json_is(const json_t *v, const char *want)
{
	if (strcmp(want, "string") == 0)
		return json_is_string(v);
	if (strcmp(want, "integer") == 0)
		return json_is_integer(v);
	if (strcmp(want, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(want, "object") == 0)
		return json_is_object(v);
	return 1;
}

/* Is s an integer as JSON writes one ("30", "-1440"), and short? */
static int
diag_is_integer_text(const char *s)
{
	const char	*d = *s == '-' ? s + 1 : s;
	size_t		 n = strspn(d, "0123456789");

	return n > 0 && n < 16 && d[n] == '\0' && (d[0] != '0' || n == 1);
}

/* action.field.type, with a hint for the usual slips. */
static void
diag_check_field_type(struct diag_ctx *c, const char *key, const json_t *v)
{
	const char	*want, *s;
	char		*dump = NULL;
	struct buf	 hint = { NULL, 0, 0 };

	want = rules_field_type(c->rules, key);
	if (want == NULL || diag_json_is(v, want))
		return;
	s = json_string_value(v);
	if (s != NULL && strcmp(want, "integer") == 0 &&
	    diag_is_integer_text(s))
		buf_printf(&hint, ": write %s, not \"%s\"", s, s);
	else if (s != NULL && strcmp(want, "boolean") == 0 &&
	    (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
		buf_printf(&hint, ": write %s, not \"%s\"", s, s);
	else if (json_is_real(v) && strcmp(want, "integer") == 0)
		buf_adds(&hint, ": minutes are whole numbers");
	else if (strcmp(key, "body") == 0 && (json_is_object(v) ||
	    json_is_array(v))) {
		/* The API takes a webhook body as JSON text in a string. */
		buf_adds(&hint, ": the API takes the body as JSON text inside "
		    "a string");
		if (diag_room(c)) {
			dump = json_dumps(v, JSON_COMPACT);
			if (dump != NULL && strlen(dump) > DIAG_SUGGEST_DUMP) {
				free(dump);
				dump = NULL;
			}
		}
	}
	diag_emit(c, DC_FIELD_TYPE, dump, "%s must be %s%s, not %s%s",
	    diag_q(c, 0, key, DIAG_QUOTE_MAX),
	    strcmp(want, "integer") == 0 || strcmp(want, "object") == 0 ?
	    "an " : "a ", want, diag_json_kind(v), buf_str(&hint));
	free(dump);
	buf_free(&hint);
}

/* action.field.unknown: neither in the rules nor in the profile. */
static void
diag_check_field_known(struct diag_ctx *c, const char *key)
{
	const char	*type = c->type_known ? c->type : NULL, *sug;

	if (rules_field(c->rules, type, key) != RULES_UNKNOWN ||
	    snapshot_knows(c->snap, "field", key))
		return;
	sug = diag_suggest(c, "field", type, key);
	if (sug != NULL)
		diag_emit(c, DC_FIELD_UNKNOWN, sug, "%s is not a known field "
		    "of %s actions", diag_q(c, 0, key, DIAG_QUOTE_MAX),
		    type != NULL ? diag_bare(c, 1, type) : "any");
	else
		diag_emit(c, DC_FIELD_UNKNOWN, NULL, "%s is not a known field "
		    "of %s actions (%s)", diag_q(c, 0, key, DIAG_QUOTE_MAX),
		    type != NULL ? diag_bare(c, 1, type) : "any", diag_unseen);
}

/* Append "a", "a and b", "a, b and c" (quoted) to b. */
static void
diag_list_names(struct diag_ctx *c, struct buf *b, const char *const *names,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(b, i + 1 == n ? " and " : ", ");
		buf_adds(b, diag_q(c, 2, names[i], DIAG_ID_QUOTE_MAX));
	}
}

/* action.field.missing */
static void
diag_check_required(struct diag_ctx *c, const json_t *a)
{
	const char *const	*req;
	const char		**missing = NULL;
	struct buf		 names = { NULL, 0, 0 }, known = { NULL, 0, 0 };
	size_t			 i, n = 0;

	if (json_object_get(a, "type") == NULL) {
		if (diag_skip(c))
			return;
		rules_each(c->rules, "type", NULL, diag_join_cb, &known);
		diag_emit(c, DC_FIELD_MISSING, NULL, "the action has no "
		    "\"type\" (one of %s)", buf_str(&known));
		buf_free(&known);
		return;
	}
	if (c->type == NULL)
		return;
	req = rules_required(c->rules, c->type);
	if (req == NULL)
		return;
	for (i = 0; req[i] != NULL; i++)
		;
	missing = xcalloc(i + 1, sizeof *missing);
	for (i = 0; req[i] != NULL; i++)
		if (json_object_get(a, req[i]) == NULL)
			missing[n++] = req[i];
	if (n > 0) {
		diag_list_names(c, &names, missing, n);
		diag_emit(c, DC_FIELD_MISSING, NULL, "an action of type %s "
		    "needs %s", diag_bare(c, 0, c->type), buf_str(&names));
	}
	free(missing);
	buf_free(&names);
}

/* action.id.duplicate and action.id.unknown */
static void
diag_check_id(struct diag_ctx *c, const json_t *a)
{
	const char	*id;
	size_t		 first, old;

	id = json_string_value(json_object_get(a, "id"));
	if (id == NULL)
		return;
	old = diag_path_key(c, "id");
	first = (size_t)json_integer_value(json_object_get(c->ids, id));
	if (first != c->index)
		diag_emit(c, DC_ID_DUPLICATE, NULL, "action id %s is also used "
		    "by /actions/%zu; each action may appear once",
		    diag_q(c, 0, id, DIAG_ID_QUOTE_MAX), first);
	else if (c->snap != NULL && snapshot_knows(c->snap, "field", "id") &&
	    !snapshot_has_id(c->snap, id))
		diag_emit(c, DC_ID_UNKNOWN, NULL, "the profile has no action "
		    "with id %s (ids are assigned by the server: leave \"id\" "
		    "out of a new action)",
		    diag_q(c, 0, id, DIAG_ID_QUOTE_MAX));
	diag_path_pop(c, old);
}

/* Collect the fields a fetched-looking action lacks; see below. */
struct diag_projection {
	const struct snapshot	*snap;
	const json_t		*action;
	const char		**lost;
	size_t			 n;
	size_t			 cap;
};

static void
diag_projection_cb(const char *field, void *arg)
{
	struct diag_projection	*p = arg;

	if (strcmp(field, "id") == 0 || snapshot_has_field(p->snap, field) ||
	    json_object_get(p->action, field) != NULL)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->lost = xreallocarray(p->lost, p->cap, sizeof *p->lost);
	}
	p->lost[p->n++] = field;
}

/*
 * actions.fields-projection: an action sent back as a GET with a narrow
 * "fields" returned it (same id, no key the GET left out) lacks the fields
 * that GET left out; the API replaces the action whole, so they go.
 */
static void
diag_check_projection(struct diag_ctx *c, const json_t *a)
{
	struct diag_projection	 p = { c->snap, a, NULL, 0, 0 };
	const json_t		*fetched, *v;
	const char		*id, *type, *key, *fields;
	struct buf		 names = { NULL, 0, 0 };

	id = json_string_value(json_object_get(a, "id"));
	if (c->snap == NULL || id == NULL)
		return;
	fetched = snapshot_action(c->snap, id);
	if (fetched == NULL)
		return;
	json_object_foreach((json_t *)a, key, v)
		if (!snapshot_has_field(c->snap, key))
			return;
	type = c->type_known ? c->type :
	    json_string_value(json_object_get(fetched, "type"));
	if (type == NULL || rules_type(c->rules, type) == RULES_UNKNOWN)
		return;
	rules_each(c->rules, "field", type, diag_projection_cb, &p);
	if (p.n > 0) {
		diag_list_names(c, &names, p.lost, p.n);
		fields = snapshot_fields(c->snap);
		diag_emit(c, DC_ACTIONS_PROJECTION, NULL, "action %s is sent "
		    "back as fetched by a GET %s%s, which left out %s: the API "
		    "replaces the action whole, so they would be lost (GET "
		    "with fields=actions.*,actions.headers.* first, or send "
		    "them)", diag_q(c, 0, id, DIAG_ID_QUOTE_MAX),
		    fields != NULL ? "with fields=" : "without \"fields\"",
		    fields != NULL ? diag_q(c, 1, fields, 512) : "",
		    buf_str(&names));
	}
	free(p.lost);
	buf_free(&names);
}

/* Does fc apply to key of the action in hand? */
static int
diag_check_applies(const struct diag_ctx *c, const struct diag_field_check *fc,
    const char *key)
{
	return strcmp(fc->field, key) == 0 && (fc->type == NULL ||
	    (c->type != NULL && strcmp(fc->type, c->type) == 0));
}

/* Every check of one key of the action in hand. */
static void
diag_check_field(struct diag_ctx *c, const char *key, const json_t *v)
{
	size_t	i;
	int	owned = 0;

	for (i = 0; i < NITEMS(diag_field_checks); i++)
		if (diag_check_applies(c, &diag_field_checks[i], key) &&
		    diag_field_checks[i].owns_type)
			owned = 1;
	if (!owned)
		diag_check_field_type(c, key, v);
	diag_check_field_known(c, key);
	for (i = 0; i < NITEMS(diag_field_checks); i++)
		if (diag_check_applies(c, &diag_field_checks[i], key))
			diag_field_checks[i].check(c, v);
}

/* Diagnose action i of the PATCH. */
static void
diag_action(struct diag_ctx *c, size_t i, const json_t *a)
{
	const char	*key;
	const json_t	*v;
	size_t		 old, oldk;

	old = diag_path_index(c, i);
	if (!json_is_object(a)) {
		diag_emit(c, DC_ACTIONS_TYPE, NULL, "each action must be an "
		    "object, not %s", diag_json_kind(a));
		goto out;
	}
	c->index = i;
	c->action = a;
	c->type = json_string_value(json_object_get(a, "type"));
	c->type_known = diag_type_known(c, c->type);
	diag_check_required(c, a);
	diag_check_projection(c, a);
	diag_check_id(c, a);
	json_object_foreach((json_t *)a, key, v) {
		oldk = diag_path_key(c, key);
		diag_check_field(c, key, v);
		diag_path_pop(c, oldk);
	}
out:
	diag_path_pop(c, old);
}

/*
 * actions.partial: the API replaces the whole array, so every fetched
 * action whose id the PATCH does not carry would be deleted.
 */
static void
diag_check_partial(struct diag_ctx *c, const json_t *actions)
{
	struct buf	 names = { NULL, 0, 0 };
	json_t		*listed;
	const char	*id;
	size_t		 i, n = 0, total;

	(void)actions;
	if (c->snap == NULL)
		return;
	listed = json_object();
	total = snapshot_count(c->snap);
	for (i = 0; i < total; i++) {
		id = snapshot_action_id(c->snap, i);
		if (id == NULL || json_object_get(c->ids, id) != NULL ||
		    json_object_get(listed, id) != NULL)
			continue;
		json_object_set_new(listed, id, json_true());
		if (n++ > 0)
			buf_adds(&names, ", ");
		buf_add(&names, "\"", 1);
		diag_escape(&names, id, strlen(id), DIAG_ID_QUOTE_MAX, 1);
		buf_add(&names, "\"", 1);
	}
	if (n > 0)
		diag_emit(c, DC_ACTIONS_PARTIAL, NULL, "the API replaces the "
		    "whole \"actions\" array: this PATCH would delete %zu of "
		    "the profile's %zu action%s (%s); send every action to "
		    "keep, with its id", n, total, total == 1 ? "" : "s",
		    buf_str(&names));
	json_decref(listed);
	buf_free(&names);
}

/* "actions": an array of action objects, all of them. */
static void
diag_check_actions(struct diag_ctx *c, const json_t *root, const json_t *v)
{
	const json_t	*a;
	const char	*id;
	size_t		 i;

	(void)root;
	if (!json_is_array(v)) {
		diag_emit(c, DC_ACTIONS_TYPE, NULL, "\"actions\" must be an "
		    "array of action objects, not %s", diag_json_kind(v));
		return;
	}
	/* Ids first: partial and duplicate checks need them all. */
	json_array_foreach(v, i, a) {
		id = json_string_value(json_object_get(a, "id"));
		if (id != NULL && json_object_get(c->ids, id) == NULL)
			json_object_set_new(c->ids, id,
			    json_integer((json_int_t)i));
	}
	diag_check_partial(c, v);
	json_array_foreach(v, i, a)
		diag_action(c, i, a);
}

/* Does the PATCH's actions array hold a webhook? */
static int
diag_has_webhook(const json_t *actions)
{
	const json_t	*a;
	const char	*type;
	size_t		 i;

	json_array_foreach(actions, i, a) {
		type = json_string_value(json_object_get(a, "type"));
		if (type != NULL && strcmp(type, "WEBHOOK") == 0)
			return 1;
	}
	return 0;
}

/* profile.headers.misplaced: webhook headers belong in each action. */
static void
diag_check_profile_headers(struct diag_ctx *c, const json_t *root,
    const json_t *v)
{
	(void)v;
	if (!diag_has_webhook(json_object_get(root, "actions")) &&
	    !snapshot_knows(c->snap, "type", "WEBHOOK"))
		return;
	diag_emit(c, DC_PROFILE_HEADERS, NULL, "webhook headers belong inside "
	    "each webhook action (\"actions\": [{..., \"headers\": {...}}]); "
	    "on the profile they are not sent with any webhook");
}

/* Compare two segments of a pointer: array indices as numbers. */
static int
diag_segment_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	int	num_a, num_b, r;

	num_a = la > 0 && strspn(a, "0123456789") >= la;
	num_b = lb > 0 && strspn(b, "0123456789") >= lb;
	if (num_a && num_b && la != lb)
		return la < lb ? -1 : 1;
	r = memcmp(a, b, la < lb ? la : lb);
	if (r != 0)
		return r;
	return la < lb ? -1 : la > lb;
}

/* "" first, then pointers (segment-wise), then other paths. */
static int
diag_path_cmp(const char *a, const char *b)
{
	int	ca, cb, r;
	size_t	la, lb;

	ca = *a == '\0' ? 0 : *a == '/' ? 1 : 2;
	cb = *b == '\0' ? 0 : *b == '/' ? 1 : 2;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (ca != 1)
		return strcmp(a, b);
	while (*a == '/' && *b == '/') {
		a++;
		b++;
		la = strcspn(a, "/");
		lb = strcspn(b, "/");
		r = diag_segment_cmp(a, la, b, lb);
		if (r != 0)
			return r;
		a += la;
		b += lb;
	}
	return *a == '\0' ? (*b == '\0' ? 0 : -1) : 1;
}

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

/* Diagnose a PATCH body; see diagnose.h. */
void
diagnose_patch(const char *body, size_t len, const char *fields,
    const struct snapshot *snap, const struct rules *rules,
    struct diag_list *out)
{
	struct diag_ctx	 c;
	json_error_t	 err;
	json_t		*root = NULL;
	const json_t	*v;
	char		*text;
	size_t		 first = out->n, i;
	int		 line, col;

	memset(&c, 0, sizeof c);
	c.rules = rules;
	c.snap = snap;
	c.out = out;
	c.ids = json_object();
	if (fields != NULL)
		diag_emit_at(&c, DC_QUERY_FIELDS, "query:fields", "\"fields\" "
		    "on a PATCH only shapes the response: the update takes "
		    "every key of the body, whatever \"fields\" says");
	for (i = 0; i < len && strchr(" \t\r\n", body[i]) != NULL; i++)
		;
	if (i == len) {
		diag_emit(&c, DC_JSON_SYNTAX, NULL, "the body is empty; a "
		    "profile PATCH needs a JSON object");
		goto done;
	}
	if (diag_too_deep(body, len, &line, &col)) {
		diag_emit(&c, DC_JSON_SYNTAX, NULL, "invalid JSON at line %d, "
		    "column %d: arrays and objects nested more than %d deep",
		    line, col, DIAG_MAX_DEPTH);
		goto done;
	}
	root = json_loadb(body, len, 0, &err);
	if (root == NULL) {
		text = diag_error_text(&err);
		diag_emit(&c, DC_JSON_SYNTAX, NULL, "invalid JSON at line %d, "
		    "column %d: %s", err.line, err.column, text);
		free(text);
		goto done;
	}
	if (!json_is_object(root)) {
		diag_emit(&c, DC_JSON_SYNTAX, NULL, "the body is %s, but a "
		    "profile PATCH body must be a JSON object",
		    diag_json_kind(root));
		goto done;
	}
	for (i = 0; i < NITEMS(diag_top_checks); i++) {
		v = json_object_get(root, diag_top_checks[i].key);
		if (v == NULL)
			continue;
		diag_path_key(&c, diag_top_checks[i].key);
		diag_top_checks[i].check(&c, root, v);
		diag_path_pop(&c, 0);
	}
done:
	if (out->n - first > 1)
		qsort(out->v + first, out->n - first, sizeof *out->v,
		    diag_cmp);
	/* The note on what was left out comes last, after the sorted list. */
	if (c.found > DIAG_MAX)
		diag_emit_at(&c, DC_TRUNCATED, "", "%zu more diagnoses were "
		    "left out (at most %d are reported per body)",
		    c.found - DIAG_MAX, DIAG_MAX);
	json_decref(root);
	json_decref(c.ids);
	buf_free(&c.path);
	for (i = 0; i < NITEMS(c.q); i++)
		buf_free(&c.q[i]);
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
	if ((size_t)s >= NITEMS(diag_severity_names))
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
	const char	*sev = json_string_value(json_object_get(o, "severity"));

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
