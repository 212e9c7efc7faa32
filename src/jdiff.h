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

/*
 * Nesting followed at most: objects and arrays deeper than this are not
 * walked; with JDIFF_VALUES such a pair that is not equal is one
 * JDIFF_VALUE at the depth where the walk stopped.
 */
#define JDIFF_MAX_DEPTH		128

/*
 * Each change holds a reference of its own to a and b (jdiff_free drops
 * it), so the compared documents may be freed before the list.
 */
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
 *
 * Objects are compared key by key (a's keys in a's order, then those only
 * in b, in b's order), arrays by index; without JDIFF_VALUES a difference
 * of array lengths is data, not shape, and is not reported. Integer and
 * real are one type, "number"; true and false one type, "boolean".
 * Enums: a string under an object key "type" or "anchor" anywhere in b
 * (a changed value, one added with its key or under a new element) is
 * JDIFF_ENUM when a has strings under a key of that name and none equal
 * to it; a changed one that a has elsewhere is a JDIFF_VALUE with
 * JDIFF_VALUES, else nothing. The number returned counts changes kept
 * and those only counted in dropped: 0 means a and b do not differ.
 */
size_t	jdiff_compare(struct jdiff *d, const struct json_t *a,
	    const struct json_t *b, unsigned flags);
/* The kind's word: "added", "removed", "type", "value", "enum". */
const char *jdiff_kind_name(enum jdiff_kind);
/*
 * The JSON type's word: "object", "array", "string", "number",
 * "boolean", "null" ("absent" for NULL).
 */
const char *jdiff_type_name(const struct json_t *);

#endif
