/*
 * rules: the known values of the profile API, built in and learned.
 *
 * A struct rules owns jansson objects used as sets: each maps a value to
 * its origin (RULES_BUILTIN or RULES_LEARNED as a JSON integer). jansson
 * objects keep insertion order, so rules_each() is deterministic: file order
 * first, then the order values were learned. Required-field lists are plain
 * NULL-terminated arrays owned by the rules, so callers can hold them.
 *
 * The built-in rules are the text of data/rules.json, compiled in as
 * rules_builtin_json (src/rules-data.c is generated from it at build time):
 * one source of truth, and nothing is read from disk at run time.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rules.h"
#include "xmalloc.h"

extern const char rules_builtin_json[];

/* The kinds of value kept in a set, in the order of r->sets. */
enum rules_kind {
	RK_TYPE,
	RK_ANCHOR,
	RK_PLACEHOLDER,
	RK_METHOD,
	RK_FIELD,	/* every field of every type */
	RK_COUNT
};

static const char *const rules_kind_names[RK_COUNT] = {
	"type", "anchor", "placeholder", "method", "field"
};

/* The JSON types a field may be constrained to; rules_field_type()
 * returns these very strings. */
static const char *const rules_json_types[] = {
	"string", "integer", "boolean", "object", NULL
};

struct rules {
	json_t	  *sets[RK_COUNT];
	json_t	  *type_fields;	/* type -> {field: origin} */
	json_t	  *field_types;	/* field -> index into rules_json_types */
	json_t	  *required;	/* type -> index into req */
	char	***req;		/* NULL-terminated lists of field names */
	size_t	   nreq;
	size_t	   nlearned;
};

/* A top-level key of the rules file and how to read it. */
struct rules_section {
	const char	*key;
	int		 mandatory;
	int		 kind;		/* for enum lists, else -1 */
	int		(*parse)(struct rules *, int, const json_t *,
			    char **);
};

static int	rules_parse_types(struct rules *, int, const json_t *, char **);
static int	rules_parse_field_types(struct rules *, int, const json_t *,
		    char **);
static int	rules_parse_list(struct rules *, int, const json_t *, char **);

static const struct rules_section rules_sections[] = {
	{ "types",		1, -1,		  rules_parse_types },
	{ "fieldTypes",		0, -1,		  rules_parse_field_types },
	{ "anchors",		1, RK_ANCHOR,	  rules_parse_list },
	{ "httpMethods",	0, RK_METHOD,	  rules_parse_list },
	{ "placeholders",	0, RK_PLACEHOLDER, rules_parse_list },
};

#define RULES_NSECTIONS	(sizeof rules_sections / sizeof rules_sections[0])

static struct rules *
rules_alloc(void)
{
	struct rules	*r;
	int		 k;

	r = xcalloc(1, sizeof *r);
	for (k = 0; k < RK_COUNT; k++)
		r->sets[k] = json_object();
	r->type_fields = json_object();
	r->field_types = json_object();
	r->required = json_object();
	return r;
}

/* Free (NULL is fine). */
void
rules_free(struct rules *r)
{
	size_t	i, j;
	int	k;

	if (r == NULL)
		return;
	for (k = 0; k < RK_COUNT; k++)
		json_decref(r->sets[k]);
	json_decref(r->type_fields);
	json_decref(r->field_types);
	json_decref(r->required);
	for (i = 0; i < r->nreq; i++) {
		for (j = 0; r->req[i][j] != NULL; j++)
			free(r->req[i][j]);
		free(r->req[i]);
	}
	free(r->req);
	free(r);
}

static int
rules_is_comment(const char *key)
{
	return key[0] == '_';
}

/* Add value to a set as built in (a duplicate is harmless). */
static void
rules_add(json_t *set, const char *value)
{
	json_object_set_new(set, value, json_integer(RULES_BUILTIN));
}

/*
 * An enum list is an array of strings, or an object whose "values" is one
 * (so that the file can carry a "_comment" next to it).
 */
static int
rules_parse_list(struct rules *r, int kind, const json_t *v, char **cause)
{
	const json_t	*item;
	size_t		 i;

	if (json_is_object(v))
		v = json_object_get(v, "values");
	if (!json_is_array(v)) {
		*cause = xstrdup("must be an array of strings, or an object "
		    "with \"values\"");
		return -1;
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			*cause = xasprintf("item %zu must be a non-empty "
			    "string", i);
			return -1;
		}
		rules_add(r->sets[kind], json_string_value(item));
	}
	return 0;
}

/* Read a type's "fields" or "required" array of strings into set/list. */
static int
rules_parse_names(const json_t *v, const char *what, json_t *set,
    char ***list, char **cause)
{
	const json_t	*item;
	size_t		 i, n;

	if (!json_is_array(v)) {
		*cause = xasprintf("\"%s\" must be an array of strings", what);
		return -1;
	}
	n = json_array_size(v);
	if (list != NULL)
		*list = xcalloc(n + 1, sizeof **list);
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			*cause = xasprintf("\"%s\" item %zu must be a "
			    "non-empty string", what, i);
			return -1;
		}
		if (set != NULL)
			rules_add(set, json_string_value(item));
		if (list != NULL)
			(*list)[i] = xstrdup(json_string_value(item));
	}
	return 0;
}

/* Keep a type's required list (NULL is fine) so that rules_free frees it. */
static void
rules_keep_required(struct rules *r, const char *type, char **req)
{
	if (req == NULL)
		return;
	r->req = xreallocarray(r->req, r->nreq + 1, sizeof *r->req);
	r->req[r->nreq] = req;
	json_object_set_new(r->required, type,
	    json_integer((json_int_t)r->nreq));
	r->nreq++;
}

/* "types": {TYPE: {"fields": [...], "required": [...]}, ...} */
static int
rules_parse_types(struct rules *r, int kind, const json_t *v, char **cause)
{
	const char	*name, *field;
	const json_t	*t, *o;
	json_t		*fields;
	char		**req, *why = NULL;
	size_t		 i;
	int		 rc;

	(void)kind;
	if (!json_is_object(v) || json_object_size(v) == 0) {
		*cause = xstrdup("must be a non-empty object of types");
		return -1;
	}
	json_object_foreach((json_t *)v, name, t) {
		if (rules_is_comment(name))
			continue;
		if (!json_is_object(t)) {
			*cause = xasprintf("type \"%s\" must be an object",
			    name);
			return -1;
		}
		fields = json_object();
		json_object_set_new(r->type_fields, name, fields);
		rules_add(r->sets[RK_TYPE], name);
		if (rules_parse_names(json_object_get(t, "fields"), "fields",
		    fields, NULL, &why) != 0)
			goto bad;
		req = NULL;
		o = json_object_get(t, "required");
		if (o == NULL) {
			req = xcalloc(1, sizeof *req);
			rc = 0;
		} else
			rc = rules_parse_names(o, "required", NULL, &req, &why);
		rules_keep_required(r, name, req);
		if (rc != 0)
			goto bad;
		for (i = 0; req[i] != NULL; i++) {
			if (json_object_get(fields, req[i]) == NULL) {
				why = xasprintf("required field \"%s\" is not "
				    "in \"fields\"", req[i]);
				goto bad;
			}
		}
		json_object_foreach(fields, field, o)
			rules_add(r->sets[RK_FIELD], field);
	}
	return 0;
bad:
	*cause = xasprintf("type \"%s\": %s", name, why);
	free(why);
	return -1;
}

/* "fieldTypes": {FIELD: "string" | "integer" | "boolean" | "object"} */
static int
rules_parse_field_types(struct rules *r, int kind, const json_t *v,
    char **cause)
{
	const char	*field, *s;
	const json_t	*t;
	size_t		 i;

	(void)kind;
	if (!json_is_object(v)) {
		*cause = xstrdup("must be an object of field: type");
		return -1;
	}
	json_object_foreach((json_t *)v, field, t) {
		if (rules_is_comment(field))
			continue;
		s = json_string_value(t);
		for (i = 0; s != NULL && rules_json_types[i] != NULL; i++)
			if (strcmp(s, rules_json_types[i]) == 0)
				break;
		if (s == NULL || rules_json_types[i] == NULL) {
			*cause = xasprintf("field \"%s\": type must be one of "
			    "string, integer, boolean, object", field);
			return -1;
		}
		json_object_set_new(r->field_types, field,
		    json_integer((json_int_t)i));
	}
	return 0;
}

/* Build rules from a parsed rules document; cause is prefixed by where. */
static struct rules *
rules_from_json(const json_t *root, const char *where, char **cause)
{
	struct rules	*r;
	const char	*key;
	const json_t	*v;
	char		*why = NULL;
	size_t		 i;

	r = rules_alloc();
	if (!json_is_object(root)) {
		why = xstrdup("the rules must be a JSON object");
		goto bad;
	}
	json_object_foreach((json_t *)root, key, v) {
		if (rules_is_comment(key))
			continue;
		for (i = 0; i < RULES_NSECTIONS; i++)
			if (strcmp(key, rules_sections[i].key) == 0)
				break;
		if (i == RULES_NSECTIONS) {
			why = xasprintf("unknown key \"%s\"", key);
			goto bad;
		}
	}
	for (i = 0; i < RULES_NSECTIONS; i++) {
		key = rules_sections[i].key;
		v = json_object_get(root, key);
		if (v == NULL && rules_sections[i].mandatory) {
			why = xasprintf("\"%s\" is missing", key);
			goto bad;
		}
		if (v == NULL)
			continue;
		if (rules_sections[i].parse(r, rules_sections[i].kind, v,
		    &why) != 0) {
			/* Name the section: "anchors" item 0 must be ... */
			*cause = xasprintf("%s: \"%s\" %s", where, key, why);
			free(why);
			why = NULL;
			goto bad;
		}
	}
	return r;
bad:
	if (why != NULL)
		*cause = xasprintf("%s: %s", where, why);
	free(why);
	rules_free(r);
	return NULL;
}

/* Parse rules from JSON text; see rules.h. */
struct rules *
rules_parse(const char *text, size_t len, char **cause)
{
	struct rules	*r;
	json_error_t	 err;
	json_t		*root;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		*cause = xasprintf("rules: line %d, column %d: %s", err.line,
		    err.column, err.text);
		return NULL;
	}
	r = rules_from_json(root, "rules", cause);
	json_decref(root);
	return r;
}

/* Load rules from a file; see rules.h. */
struct rules *
rules_load(const char *path, char **cause)
{
	struct rules	*r;
	json_error_t	 err;
	json_t		*root;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		if (err.line > 0)
			*cause = xasprintf("%s: line %d, column %d: %s", path,
			    err.line, err.column, err.text);
		else
			*cause = xasprintf("%s: %s", path, err.text);
		return NULL;
	}
	r = rules_from_json(root, path, cause);
	json_decref(root);
	return r;
}

/* Return a fresh copy of the built-in rules. */
struct rules *
rules_builtin(void)
{
	struct rules	*r;
	char		*cause = NULL;

	r = rules_parse(rules_builtin_json, strlen(rules_builtin_json),
	    &cause);
	/* data/rules.json is checked by the unit tests: this cannot fail. */
	if (r == NULL)
		abort();
	return r;
}

/* Add a learned value to set unless known, too long, or over budget. */
static void
rules_learn_value(struct rules *r, json_t *set, const char *value)
{
	if (json_object_get(set, value) != NULL ||
	    r->nlearned >= RULES_MAX_LEARNED ||
	    strlen(value) > RULES_MAX_VALUE || value[0] == '\0')
		return;
	json_object_set_new(set, value, json_integer(RULES_LEARNED));
	r->nlearned++;
}

static void
rules_learn_placeholder_cb(const char *name, size_t namelen, size_t off,
    void *arg)
{
	struct rules	*r = arg;
	char		*s;

	(void)off;
	s = xstrndup(name, namelen);
	rules_learn_value(r, r->sets[RK_PLACEHOLDER], s);
	free(s);
}

/* Learn from one action of a GET response. */
static void
rules_learn_action(struct rules *r, const json_t *a)
{
	const char	*type, *key;
	const json_t	*v;
	json_t		*fields = NULL;

	type = json_string_value(json_object_get(a, "type"));
	if (type != NULL && strlen(type) <= RULES_MAX_VALUE &&
	    type[0] != '\0') {
		rules_learn_value(r, r->sets[RK_TYPE], type);
		fields = json_object_get(r->type_fields, type);
		if (fields == NULL && r->nlearned < RULES_MAX_LEARNED &&
		    json_object_get(r->sets[RK_TYPE], type) != NULL) {
			fields = json_object();
			json_object_set_new(r->type_fields, type, fields);
		}
	}
	v = json_object_get(a, "anchor");
	if (json_is_string(v))
		rules_learn_value(r, r->sets[RK_ANCHOR], json_string_value(v));
	v = json_object_get(a, "subject");
	if (type != NULL && strcmp(type, "WEBHOOK") == 0 && json_is_string(v))
		rules_learn_value(r, r->sets[RK_METHOD], json_string_value(v));
	json_object_foreach((json_t *)a, key, v) {
		rules_learn_value(r, r->sets[RK_FIELD], key);
		if (fields != NULL)
			rules_learn_value(r, fields, key);
		if (json_is_string(v))
			rules_placeholders(json_string_value(v),
			    json_string_length(v), rules_learn_placeholder_cb,
			    r);
	}
}

/* Learn from a GET response of a profile; see rules.h. */
void
rules_learn(struct rules *r, const json_t *profile)
{
	const json_t	*actions, *a;
	size_t		 i;

	actions = json_object_get(profile, "actions");
	if (!json_is_array(actions))
		return;
	json_array_foreach(actions, i, a) {
		if (r->nlearned >= RULES_MAX_LEARNED)
			break;
		if (json_is_object(a))
			rules_learn_action(r, a);
	}
}

static enum rules_origin
rules_lookup(const json_t *set, const char *value)
{
	if (value == NULL)
		return RULES_UNKNOWN;
	return (enum rules_origin)json_integer_value(json_object_get(set,
	    value));
}

/* Is type a known action type? */
enum rules_origin
rules_type(const struct rules *r, const char *type)
{
	return rules_lookup(r->sets[RK_TYPE], type);
}

/* Is anchor known? */
enum rules_origin
rules_anchor(const struct rules *r, const char *anchor)
{
	return rules_lookup(r->sets[RK_ANCHOR], anchor);
}

/* Is placeholder known? */
enum rules_origin
rules_placeholder(const struct rules *r, const char *name)
{
	return rules_lookup(r->sets[RK_PLACEHOLDER], name);
}

/* Is method a known webhook method? */
enum rules_origin
rules_method(const struct rules *r, const char *method)
{
	return rules_lookup(r->sets[RK_METHOD], method);
}

/* The field set of type, or NULL for a NULL or unknown type. */
static const json_t *
rules_type_fields(const struct rules *r, const char *type)
{
	return type != NULL ? json_object_get(r->type_fields, type) : NULL;
}

/* Is field allowed in an action of type? */
enum rules_origin
rules_field(const struct rules *r, const char *type, const char *field)
{
	const json_t	*fields;

	fields = rules_type_fields(r, type);
	return rules_lookup(fields != NULL ? fields : r->sets[RK_FIELD],
	    field);
}

/* Call fn for each known value of kind; see rules.h. */
void
rules_each(const struct rules *r, const char *kind, const char *type,
    void (*fn)(const char *value, void *arg), void *arg)
{
	const json_t	*set = NULL, *v;
	const char	*value;
	int		 k;

	for (k = 0; k < RK_COUNT; k++)
		if (strcmp(kind, rules_kind_names[k]) == 0)
			set = r->sets[k];
	if (strcmp(kind, "field") == 0 && rules_type_fields(r, type) != NULL)
		set = rules_type_fields(r, type);
	if (set == NULL)
		return;
	json_object_foreach((json_t *)set, value, v)
		fn(value, arg);
}

/* Required fields of type; see rules.h. */
const char *const *
rules_required(const struct rules *r, const char *type)
{
	static const char *const none[] = { NULL };
	const json_t	*i;

	if (type == NULL || rules_type(r, type) == RULES_UNKNOWN)
		return NULL;
	i = json_object_get(r->required, type);
	if (i == NULL)
		return none;
	return (const char *const *)r->req[json_integer_value(i)];
}

/* The JSON type field must have, or NULL. */
const char *
rules_field_type(const struct rules *r, const char *field)
{
	const json_t	*i;

	i = json_object_get(r->field_types, field);
	return i != NULL ? rules_json_types[json_integer_value(i)] : NULL;
}

static int
rules_is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Length of the {PLACEHOLDER} at s, or 0; see rules.h. */
size_t
rules_placeholder_len(const char *s, size_t len)
{
	size_t	i;

	if (len < 3 || s[0] != '{')
		return 0;
	if (!((s[1] >= 'A' && s[1] <= 'Z') || (s[1] >= 'a' && s[1] <= 'z')))
		return 0;
	for (i = 2; i < len && i <= 65; i++) {
		if (s[i] == '}')
			return i + 1;
		if (!rules_is_name_char((unsigned char)s[i]))
			return 0;
	}
	return 0;
}

/* Call fn for each {PLACEHOLDER} in text; see rules.h. */
void
rules_placeholders(const char *text, size_t len,
    void (*fn)(const char *name, size_t namelen, size_t off, void *arg),
    void *arg)
{
	const char	*p, *end = text + len;
	size_t		 n;

	p = text;
	while (p < end) {
		p = memchr(p, '{', (size_t)(end - p));
		if (p == NULL)
			break;
		n = rules_placeholder_len(p, (size_t)(end - p));
		if (n > 0) {
			fn(p + 1, n - 2, (size_t)(p - text), arg);
			p += n;
		} else
			p++;
	}
}
