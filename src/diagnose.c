/*
 * diagnose: say exactly why a PATCH of a profile would fail or lose data.
 *
 * diagnose_patch() parses the body once with jansson (after a linear scan
 * that refuses nesting deeper than DIAG_MAX_DEPTH, so jansson's recursion
 * stays shallow). Any JSON value parses: one that is not an object is
 * body.not-object (diagnose_body.c). An object is walked: top-level keys
 * through diag_top_checks, each action through the generic field checks
 * and diag_field_checks.
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
 * they are. This file is the walk and the checks of an action; a
 * webhook's own keys are checked in diagnose_webhook.c, and the rest of the
 * module is listed in diagnose_local.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diagnose.h"
#include "diagnose_local.h"
#include "rules.h"
#include "snapshot.h"
#include "xmalloc.h"

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
static void	diag_check_profile_headers(struct diag_ctx *, const json_t *,
		    const json_t *);
static void	diag_check_actions(struct diag_ctx *, const json_t *,
		    const json_t *);

static const struct diag_field_check diag_field_checks[] = {
	{ "type",	NULL,		0, diag_check_type },
	{ "anchor",	NULL,		0, diag_check_anchor },
	{ "headers",	NULL,		1, diag_check_headers },
	{ "subject",	"WEBHOOK",	0, diag_webhook_method },
	{ "to",		"WEBHOOK",	0, diag_webhook_url },
	{ "body",	"WEBHOOK",	0, diag_webhook_body },
};

/* In this order, so that they are found before the per-action flood. */
static const struct diag_top_check diag_top_checks[] = {
	{ "headers",	diag_check_profile_headers },
	{ "actions",	diag_check_actions },
};

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

	for (i = 0; i < DIAG_NITEMS(diag_field_checks); i++)
		if (diag_check_applies(c, &diag_field_checks[i], key) &&
		    diag_field_checks[i].owns_type)
			owned = 1;
	if (!owned)
		diag_check_field_type(c, key, v);
	diag_check_field_known(c, key);
	for (i = 0; i < DIAG_NITEMS(diag_field_checks); i++)
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
		    "object, not %s%s", diag_json_kind(a),
		    json_is_string(a) && diag_room(c) && diag_holds_json(a) ?
		    ": the string holds JSON text, so the action was encoded "
		    "twice; send the object itself" : "");
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
		    "array of action objects, not %s%s", diag_json_kind(v),
		    json_is_string(v) && diag_holds_json(v) ? ": the string "
		    "holds JSON text, so the array was encoded twice; send the "
		    "array itself" : "");
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
	for (i = 0; i < len && diag_is_space(body[i]); i++)
		;
	if (i == len) {
		diag_emit(&c, DC_JSON_SYNTAX, NULL, "the body is empty; a "
		    "profile PATCH needs a JSON object");
		goto done;
	}
	/* RFC 8259 section 8.1: a JSON text sent over a network has none.
	 * jansson would only say "invalid token" near an invisible one. */
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		diag_emit(&c, DC_JSON_SYNTAX, NULL, "the body starts with a "
		    "byte order mark (the bytes EF BB BF, often written by "
		    "editors on Windows), which JSON sent over a network must "
		    "not have (RFC 8259, section 8.1): save the file without "
		    "it");
		goto done;
	}
	if (diag_too_deep(body, len, &line, &col)) {
		diag_emit(&c, DC_JSON_SYNTAX, NULL, "invalid JSON at line %d, "
		    "column %d: arrays and objects nested more than %d deep",
		    line, col, DIAG_MAX_DEPTH);
		goto done;
	}
	/* Any JSON value: one that is not an object is body.not-object. */
	root = json_loadb(body, len, JSON_DECODE_ANY, &err);
	if (root == NULL) {
		text = diag_error_text(&err);
		diag_emit(&c, DC_JSON_SYNTAX, NULL, "invalid JSON at line %d, "
		    "column %d: %s%s", err.line, err.column, text,
		    diag_syntax_hint(body, len, &err));
		free(text);
		goto done;
	}
	if (!json_is_object(root)) {
		diag_body_not_object(&c, root);
		goto done;
	}
	for (i = 0; i < DIAG_NITEMS(diag_top_checks); i++) {
		v = json_object_get(root, diag_top_checks[i].key);
		if (v == NULL)
			continue;
		diag_path_key(&c, diag_top_checks[i].key);
		diag_top_checks[i].check(&c, root, v);
		diag_path_pop(&c, 0);
	}
done:
	diag_list_sort(out, first);
	/* The note on what was left out comes last, after the sorted list. */
	if (c.found > DIAG_MAX)
		diag_emit_at(&c, DC_TRUNCATED, "", "%zu more diagnoses were "
		    "left out (at most %d are reported per body)",
		    c.found - DIAG_MAX, DIAG_MAX);
	json_decref(root);
	json_decref(c.ids);
	buf_free(&c.path);
	for (i = 0; i < DIAG_NITEMS(c.q); i++)
		buf_free(&c.q[i]);
}
