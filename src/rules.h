/*
 * rules: what patchscope knows of the profile API's values — action types,
 * anchors, required and allowed fields per type, field types, webhook HTTP
 * methods, placeholders — loaded from a JSON rules file (data/rules.json,
 * built into the binary; --rules FILE replaces it), plus the values learned
 * from real GET responses at run time. Pure: no sockets, no printing.
 */
#ifndef PATCHSCOPE_RULES_H
#define PATCHSCOPE_RULES_H

#include <stddef.h>

struct json_t;
struct rules;

/* Where a known value comes from. */
enum rules_origin {
	RULES_UNKNOWN = 0,	/* neither built in nor seen */
	RULES_BUILTIN,		/* in the rules file */
	RULES_LEARNED		/* seen in a GET response this run */
};

/* Most values rules_learn() adds in all, and the longest it keeps. */
#define RULES_MAX_LEARNED	4096
#define RULES_MAX_VALUE		128

/* Parse rules from JSON text; NULL with *cause set (caller frees). */
struct rules *rules_parse(const char *text, size_t len, char **cause);
/* Load rules from a file; NULL with *cause naming the file and the fault. */
struct rules *rules_load(const char *path, char **cause);
/*
 * A fresh copy of the rules built into the binary (data/rules.json, embedded
 * as rules_builtin_json); never NULL. The caller frees it.
 */
struct rules *rules_builtin(void);
/* Free (NULL is fine). */
void	rules_free(struct rules *);
/*
 * Learn from the JSON body of a GET of a profile (an object, maybe with
 * "actions"): action types, anchors, field names per type, webhook methods,
 * placeholders in templates. Bounded: at most RULES_MAX_LEARNED values in
 * all, each at most RULES_MAX_VALUE bytes; past that, nothing more is added.
 */
void	rules_learn(struct rules *, const struct json_t *profile);
/* Is type a known action type? */
enum rules_origin rules_type(const struct rules *, const char *type);
/* Is anchor known (exact spelling)? */
enum rules_origin rules_anchor(const struct rules *, const char *anchor);
/* Is placeholder (without braces) known? */
enum rules_origin rules_placeholder(const struct rules *, const char *name);
/* Is method a known webhook HTTP method (a webhook's "subject")? */
enum rules_origin rules_method(const struct rules *, const char *method);
/*
 * Is field allowed in an action of type (or seen in one)? A NULL or unknown
 * type asks whether any type allows it.
 */
enum rules_origin rules_field(const struct rules *, const char *type,
	    const char *field);
/*
 * Call fn for each known anchor, type, placeholder, method or field of type
 * (every field when type is NULL or unknown), built-in values first in file
 * order, then learned ones; kind is "anchor", "type", "placeholder",
 * "method" or "field". The strings are the rules' own.
 */
void	rules_each(const struct rules *, const char *kind, const char *type,
	    void (*fn)(const char *value, void *arg), void *arg);
/* Required fields of an action type, NULL-terminated (storage of the
 * rules), or NULL for an unknown type; a learned type requires nothing. */
const char *const *rules_required(const struct rules *, const char *type);
/* The JSON type a field must have: "string", "integer", "boolean",
 * "object" or NULL when not constrained. */
const char *rules_field_type(const struct rules *, const char *field);

/*
 * Return the length, braces included, of the {PLACEHOLDER} that starts at
 * s (len bytes available), or 0 when there is none: '{', a letter, then up
 * to 63 letters, digits, '-' or '_', then '}'.
 */
size_t	rules_placeholder_len(const char *s, size_t len);
/* Call fn for each {PLACEHOLDER} in text: its name without braces (not
 * NUL-terminated), the name's length and the offset of its '{'. */
void	rules_placeholders(const char *text, size_t len,
	    void (*fn)(const char *name, size_t namelen, size_t off, void *arg),
	    void *arg);

#endif
