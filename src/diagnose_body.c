/*
 * diagnose_body: a PATCH body that is JSON but not an object
 * (body.not-object). The API takes an object whose keys are the profile's
 * fields to update; anything else gets its bare 400. The message names
 * what was sent, and the usual reasons for sending it get their own
 * advice: the "actions" array sent bare (the suggestion wraps it), a JSON
 * Patch (RFC 6902) sent to an API that takes the new values, an object
 * inside brackets, an object encoded twice (a string of JSON text).
 *
 * Work is linear in the body: each test looks at the items once, and a
 * string is parsed again only after the same nesting scan as a body.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "diagnose.h"
#include "diagnose_local.h"

/* What the "actions" array is wrapped in; also the suggestion. */
static const char diag_wrap[] = "{\"actions\": [...]}";

/* Keys that only an action has, among what a body would hold. */
static const char *const diag_action_keys[] = { "type", "anchor", "id" };

/* "a JSON array", "JSON null", ... for the message. */
static const char *
diag_body_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY:
		return json_array_size(v) == 0 ? "an empty JSON array" :
		    "a JSON array";
	case JSON_STRING:
		return "a JSON string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a JSON number";
	case JSON_TRUE:
		return "JSON true";
	case JSON_FALSE:
		return "JSON false";
	case JSON_NULL:
		return "JSON null";
	default:
		return "a JSON object";
	}
}

/* Is a an array of actions: every item an object with an action's key?
 * An empty array is one too (it is what "actions": [] would hold). */
static int
diag_is_actions(const json_t *a)
{
	const json_t	*v;
	size_t		 i, k;

	json_array_foreach(a, i, v) {
		if (!json_is_object(v))
			return 0;
		for (k = 0; k < DIAG_NITEMS(diag_action_keys); k++)
			if (json_object_get(v, diag_action_keys[k]) != NULL)
				break;
		if (k == DIAG_NITEMS(diag_action_keys))
			return 0;
	}
	return 1;
}

/* Is a a JSON Patch (RFC 6902): operations with string "op" and "path"? */
static int
diag_is_json_patch(const json_t *a)
{
	const json_t	*v;
	size_t		 i;

	if (json_array_size(a) == 0)
		return 0;
	json_array_foreach(a, i, v)
		if (!json_is_string(json_object_get(v, "op")) ||
		    !json_is_string(json_object_get(v, "path")))
			return 0;
	return 1;
}

/* Does the string v hold a JSON object or array (encoded twice)? */
int
diag_holds_json(const json_t *v)
{
	const char	*s = json_string_value(v);
	size_t		 len = json_string_length(v), i;
	json_error_t	 err;
	json_t		*doc;
	int		 line, col;

	for (i = 0; i < len && diag_is_space(s[i]); i++)
		;
	if (i == len || (s[i] != '{' && s[i] != '['))
		return 0;
	if (diag_too_deep(s, len, &line, &col))
		return 0;
	doc = json_loadb(s, len, 0, &err);
	json_decref(doc);
	return doc != NULL;
}

/* body.not-object; see diagnose_local.h. */
void
diag_body_not_object(struct diag_ctx *c, const json_t *root)
{
	const char	*what = diag_body_kind(root);

	if (json_is_array(root) && diag_is_actions(root))
		diag_emit(c, DC_BODY_NOT_OBJECT, diag_wrap, "the body is %s, "
		    "but the API expects an object: %s", what,
		    json_array_size(root) == 0 ? "to send actions, wrap them "
		    "as {\"actions\": [...]} (and mind that an empty "
		    "\"actions\" array deletes every action of the profile)" :
		    "its items are actions, so wrap the array as "
		    "{\"actions\": [...]}");
	else if (json_is_array(root) && diag_is_json_patch(root))
		diag_emit(c, DC_BODY_NOT_OBJECT, NULL, "the body is %s, but the "
		    "API expects an object: this looks like a JSON Patch (RFC "
		    "6902), which the API does not take; send the new values "
		    "instead, as {\"actions\": [...]} with every action to "
		    "keep", what);
	else if (json_is_array(root) && json_array_size(root) == 1 &&
	    json_is_object(json_array_get(root, 0)))
		diag_emit(c, DC_BODY_NOT_OBJECT, NULL, "the body is %s, but the "
		    "API expects an object: send the object inside it, "
		    "without the brackets", what);
	else if (json_is_string(root) && diag_holds_json(root))
		diag_emit(c, DC_BODY_NOT_OBJECT, NULL, "the body is %s, but the "
		    "API expects an object: the string holds JSON text, so the "
		    "body was encoded twice (a JSON text turned into JSON "
		    "again); send the JSON text itself", what);
	else
		diag_emit(c, DC_BODY_NOT_OBJECT, NULL, "the body is %s, but the "
		    "API expects an object", what);
}
