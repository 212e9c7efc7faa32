/*
 * jdiff: the differences between two JSON values, by JSON Pointer.
 *
 * One walk over a and b together, in document order. Before it, a is
 * walked once for the values of its known enums (strings under a key
 * "type" or "anchor"), kept sorted so that a value of b is looked up in
 * O(log n): a document of many actions costs no quadratic time. Both
 * walks stop at JDIFF_MAX_DEPTH. The list keeps at most JDIFF_MAX_CHANGES
 * changes; past that, changes are only counted. Each change owns its path
 * and a reference to each side's value.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "jdiff.h"
#include "xmalloc.h"

/* Object keys whose string values are enums of the API. */
static const char *const jdiff_enum_keys[] = { "type", "anchor" };
#define JDIFF_NENUMS	(sizeof jdiff_enum_keys / sizeof jdiff_enum_keys[0])

/* One value of a's enums. */
struct jdiff_known {
	size_t		 key;	/* index in jdiff_enum_keys */
	const char	*s;	/* in a's string (not a copy) */
	size_t		 len;
};

/* What one jdiff_compare carries through its walk. */
struct jdiff_walk {
	struct jdiff		*d;
	unsigned		 flags;
	struct buf		 path;
	struct jdiff_known	*known;
	size_t			 nknown;
	size_t			 capknown;
	/* How many of a's values each enum key has. */
	size_t			 nper[JDIFF_NENUMS];
	size_t			 found;
};

/* An empty list. */
void
jdiff_init(struct jdiff *d)
{
	memset(d, 0, sizeof *d);
}

/* Free every change and the list's array. */
void
jdiff_free(struct jdiff *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].path);
		json_decref(d->v[i].a);
		json_decref(d->v[i].b);
	}
	free(d->v);
	jdiff_init(d);
}

/* The kind's word. */
const char *
jdiff_kind_name(enum jdiff_kind kind)
{
	switch (kind) {
	case JDIFF_ADDED:
		return "added";
	case JDIFF_REMOVED:
		return "removed";
	case JDIFF_TYPE:
		return "type";
	case JDIFF_VALUE:
		return "value";
	case JDIFF_ENUM:
		return "enum";
	}
	return "unknown";
}

/* The word of a value's JSON type, with integer and real one "number". */
const char *
jdiff_type_name(const json_t *v)
{
	if (v == NULL)
		return "absent";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* The index of an enum key, or -1 for any other key (or none). */
static int
jdiff_enum_key(const char *key, size_t len)
{
	size_t	i;

	for (i = 0; i < JDIFF_NENUMS; i++)
		if (strlen(jdiff_enum_keys[i]) == len &&
		    memcmp(jdiff_enum_keys[i], key, len) == 0)
			return (int)i;
	return -1;
}

/* Append a key to the path, escaped as RFC 6901 section 3 says. */
static void
jdiff_path_key(struct buf *path, const char *key, size_t len)
{
	size_t	i, from = 0;

	buf_adds(path, "/");
	for (i = 0; i < len; i++) {
		if (key[i] != '~' && key[i] != '/')
			continue;
		buf_add(path, key + from, i - from);
		buf_adds(path, key[i] == '~' ? "~0" : "~1");
		from = i + 1;
	}
	buf_add(path, key + from, len - from);
}

/* Cut the path back to len bytes. */
static void
jdiff_path_cut(struct buf *path, size_t len)
{
	path->len = len;
	if (path->data != NULL)
		path->data[len] = '\0';
}

/* Record one change at the current path, or count it past the limit. */
static void
jdiff_add(struct jdiff_walk *w, enum jdiff_kind kind, const json_t *a,
    const json_t *b)
{
	struct jdiff		*d = w->d;
	struct jdiff_change	*c;

	w->found++;
	if (d->n >= JDIFF_MAX_CHANGES) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 16 : d->cap * 2;
		d->v = xreallocarray(d->v, d->cap, sizeof *d->v);
	}
	c = &d->v[d->n++];
	c->kind = kind;
	c->path = xstrdup(buf_str(&w->path));
	/* jansson counts references even of values handed out as const. */
	c->a = a != NULL ? json_incref((json_t *)a) : NULL;
	c->b = b != NULL ? json_incref((json_t *)b) : NULL;
}

static int
jdiff_known_cmp(const void *x, const void *y)
{
	const struct jdiff_known	*p = x, *q = y;
	size_t				 n;
	int				 c;

	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	n = p->len < q->len ? p->len : q->len;
	if ((c = memcmp(p->s, q->s, n)) != 0)
		return c;
	return p->len < q->len ? -1 : p->len > q->len;
}

/* Gather a's enum values: strings under an enum key, at any depth. */
static void
jdiff_collect(struct jdiff_walk *w, const json_t *v, int key, int depth)
{
	struct jdiff_known	*k;
	const char		*name;
	json_t			*child;
	size_t			 i, len;

	if (key >= 0 && json_is_string(v)) {
		if (w->nknown == w->capknown) {
			w->capknown = w->capknown == 0 ? 16 : w->capknown * 2;
			w->known = xreallocarray(w->known, w->capknown,
			    sizeof *w->known);
		}
		k = &w->known[w->nknown++];
		k->key = (size_t)key;
		k->s = json_string_value(v);
		k->len = json_string_length(v);
		w->nper[key]++;
		return;
	}
	if (depth >= JDIFF_MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		json_object_keylen_foreach((json_t *)v, name, len, child)
			jdiff_collect(w, child, jdiff_enum_key(name, len),
			    depth + 1);
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			jdiff_collect(w, json_array_get(v, i), -1, depth + 1);
	}
}

/* Nonzero when v, under enum key (or -1), is an enum value a lacks. */
static int
jdiff_new_enum(const struct jdiff_walk *w, const json_t *v, int key)
{
	struct jdiff_known	k;

	if (key < 0 || !json_is_string(v) || w->nper[key] == 0)
		return 0;
	k.key = (size_t)key;
	k.s = json_string_value(v);
	k.len = json_string_length(v);
	return bsearch(&k, w->known, w->nknown, sizeof *w->known,
	    jdiff_known_cmp) == NULL;
}

/* Report the enum values a lacks in b's v, which has no partner in a. */
static void
jdiff_scan(struct jdiff_walk *w, const json_t *v, int key, int depth)
{
	const char	*name;
	json_t		*child;
	size_t		 i, len, at = w->path.len;

	if (jdiff_new_enum(w, v, key)) {
		jdiff_add(w, JDIFF_ENUM, NULL, v);
		return;
	}
	if (depth >= JDIFF_MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		json_object_keylen_foreach((json_t *)v, name, len, child) {
			jdiff_path_key(&w->path, name, len);
			jdiff_scan(w, child, jdiff_enum_key(name, len),
			    depth + 1);
			jdiff_path_cut(&w->path, at);
		}
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			buf_printf(&w->path, "/%zu", i);
			jdiff_scan(w, json_array_get(v, i), -1, depth + 1);
			jdiff_path_cut(&w->path, at);
		}
	}
}

/* Nonzero when a and b, of one type, hold the same plain value. */
static int
jdiff_plain_equal(const json_t *a, const json_t *b)
{
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a)) == 0;
	case JSON_INTEGER:
	case JSON_REAL:
		/* 1 and 1.0 are one number. */
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return json_number_value(a) == json_number_value(b);
	case JSON_TRUE:
	case JSON_FALSE:
		return json_typeof(a) == json_typeof(b);
	default:
		return 1;
	}
}

static void	jdiff_walk(struct jdiff_walk *, const json_t *,
		    const json_t *, int, int);

/* Two objects: a's keys in a's order, then those only in b. */
static void
jdiff_objects(struct jdiff_walk *w, const json_t *a, const json_t *b,
    int depth)
{
	const char	*name;
	json_t		*child;
	size_t		 len, at = w->path.len;

	json_object_keylen_foreach((json_t *)a, name, len, child) {
		jdiff_path_key(&w->path, name, len);
		jdiff_walk(w, child, json_object_getn(b, name, len),
		    jdiff_enum_key(name, len), depth + 1);
		jdiff_path_cut(&w->path, at);
	}
	json_object_keylen_foreach((json_t *)b, name, len, child) {
		if (json_object_getn(a, name, len) != NULL)
			continue;
		jdiff_path_key(&w->path, name, len);
		jdiff_walk(w, NULL, child, jdiff_enum_key(name, len),
		    depth + 1);
		jdiff_path_cut(&w->path, at);
	}
}

/*
 * Two arrays, by index. Elements past the shorter one are added or
 * removed with JDIFF_VALUES; without it a length is data, and only the
 * enum values of b's extra elements count.
 */
static void
jdiff_arrays(struct jdiff_walk *w, const json_t *a, const json_t *b,
    int depth)
{
	size_t	i, na = json_array_size(a), nb = json_array_size(b);
	size_t	at = w->path.len;

	for (i = 0; i < na || i < nb; i++) {
		if (i >= nb && (w->flags & JDIFF_VALUES) == 0)
			break;
		buf_printf(&w->path, "/%zu", i);
		/* json_array_get past the end is NULL: absent. */
		if ((i < na && i < nb) || (w->flags & JDIFF_VALUES))
			jdiff_walk(w, json_array_get(a, i),
			    json_array_get(b, i), -1, depth + 1);
		else
			jdiff_scan(w, json_array_get(b, i), -1, depth + 1);
		jdiff_path_cut(&w->path, at);
	}
}

/* Compare a and b (either NULL) at the current path; key: their key's. */
static void
jdiff_walk(struct jdiff_walk *w, const json_t *a, const json_t *b, int key,
    int depth)
{
	if (a == NULL && b == NULL)
		return;
	if (a == NULL || b == NULL) {
		jdiff_add(w, a == NULL ? JDIFF_ADDED : JDIFF_REMOVED, a, b);
		if (b != NULL)
			jdiff_scan(w, b, key, depth);
		return;
	}
	if (strcmp(jdiff_type_name(a), jdiff_type_name(b)) != 0) {
		jdiff_add(w, JDIFF_TYPE, a, b);
		jdiff_scan(w, b, key, depth);
		return;
	}
	if (json_is_object(a) || json_is_array(a)) {
		if (depth >= JDIFF_MAX_DEPTH) {
			if ((w->flags & JDIFF_VALUES) && !json_equal(a, b))
				jdiff_add(w, JDIFF_VALUE, a, b);
		} else if (json_is_object(a))
			jdiff_objects(w, a, b, depth);
		else
			jdiff_arrays(w, a, b, depth);
		return;
	}
	if (jdiff_plain_equal(a, b))
		return;
	if (jdiff_new_enum(w, b, key))
		jdiff_add(w, JDIFF_ENUM, a, b);
	else if (w->flags & JDIFF_VALUES)
		jdiff_add(w, JDIFF_VALUE, a, b);
}

/* Add the differences between a and b to d; return how many were found. */
size_t
jdiff_compare(struct jdiff *d, const json_t *a, const json_t *b,
    unsigned flags)
{
	struct jdiff_walk	w;

	memset(&w, 0, sizeof w);
	w.d = d;
	w.flags = flags;
	if (a != NULL) {
		jdiff_collect(&w, a, -1, 0);
		if (w.nknown > 1)
			qsort(w.known, w.nknown, sizeof *w.known,
			    jdiff_known_cmp);
	}
	jdiff_walk(&w, a, b, -1, 0);
	buf_free(&w.path);
	free(w.known);
	return w.found;
}
