/*
 * jdiff: the differences between two JSON values, each named by a JSON
 * Pointer (RFC 6901) into the values. Pure: no I/O. diff uses it to say
 * what changed between two recorded bodies; drift uses it, by shape, to
 * say how a live answer differs from a recorded one.
 */
#ifndef PATCHSCOPE_JDIFF_H
#define PATCHSCOPE_JDIFF_H

#include <stddef.h>

struct json_t;

/* What differs at a path. */
enum jdiff_kind {
	JDIFF_ADDED,		/* only in b */
	JDIFF_REMOVED,		/* only in a */
	JDIFF_TYPE,		/* both, of different JSON types */
	JDIFF_VALUE,		/* both, same type, another value (only
				   with JDIFF_VALUES, or for enums) */
	JDIFF_ENUM		/* a known enum's value (an action's "type",
				   "anchor") that a does not have */
};

/* Compare plain values too; without it only shape and enums count. */
#define JDIFF_VALUES	0x1

/* At most this many changes are kept; the rest are only counted. */
#define JDIFF_MAX_CHANGES	1000

struct jdiff_change {
	enum jdiff_kind	 kind;
	char		*path;		/* JSON Pointer; "" for the root */
	struct json_t	*a;		/* a's value there (a reference), or
					   NULL when added */
	struct json_t	*b;		/* b's value there, or NULL when
					   removed */
};

struct jdiff {
	struct jdiff_change	*v;
	size_t			 n;
	size_t			 cap;
	size_t			 dropped;	/* past JDIFF_MAX_CHANGES */
};

/* An empty list (may be freed). */
void	jdiff_init(struct jdiff *);
/* Free every change; the list is empty afterwards. */
void	jdiff_free(struct jdiff *);
/*
 * Add the differences between a and b (either may be NULL: absent) to d,
 * in document order, with flags JDIFF_*. Return the number added.
 */
size_t	jdiff_compare(struct jdiff *d, const struct json_t *a,
	    const struct json_t *b, unsigned flags);
/* The kind's word: "added", "removed", "type", "value", "enum". */
const char *jdiff_kind_name(enum jdiff_kind);
/* The JSON type's word: "object", "array", "string", "number", ... */
const char *jdiff_type_name(const struct json_t *);

#endif
