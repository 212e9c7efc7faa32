/*
 * drift_doc: where each entry of a cassette sits in its bytes, and the
 * cassette written again with some entries replaced (drift --update).
 * Every byte outside a replaced entry is kept: the other entries, the
 * whitespace between them, members the HAR log has besides entries.
 *
 * The walk goes over the structure that leads to log.entries, a member
 * at a time; jansson reads each token and each value it steps over
 * (JSON_DISABLE_EOF_CHECK reports how many bytes a value took), so no
 * second JSON scanner is kept here. The document was checked whole by
 * cassette_parse before: a walk that fails here is still an error, never
 * a guess.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "drift.h"
#include "xmalloc.h"

struct drift_walk {
	const char	*p;
	size_t		 len;
	size_t		 off;
	const char	*why;		/* what went wrong, at off */
};

static void
walk_ws(struct drift_walk *w)
{
	while (w->off < w->len && (w->p[w->off] == ' ' ||
	    w->p[w->off] == '\t' || w->p[w->off] == '\n' ||
	    w->p[w->off] == '\r'))
		w->off++;
}

/* Step over the byte c (after whitespace); -1 when it is not there. */
static int
walk_byte(struct drift_walk *w, char c, const char *why)
{
	walk_ws(w);
	if (w->off >= w->len || w->p[w->off] != c) {
		w->why = why;
		return -1;
	}
	w->off++;
	return 0;
}

/* Read the value at off with jansson; return it (a new reference). */
static json_t *
walk_value(struct drift_walk *w)
{
	json_error_t	 err;
	json_t		*v;

	walk_ws(w);
	v = json_loadb(w->p + w->off, w->len - w->off, JSON_DECODE_ANY |
	    JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err);
	if (v == NULL || err.position <= 0 ||
	    (size_t)err.position > w->len - w->off) {
		json_decref(v);
		w->why = "a value cannot be read";
		return NULL;
	}
	w->off += (size_t)err.position;
	return v;
}

/*
 * Walk an object's members up to the one called name, leaving off at its
 * value. Return 0, or -1 when there is none.
 */
static int
walk_to_member(struct drift_walk *w, const char *name)
{
	json_t	*key, *skip;
	int	 found;

	if (walk_byte(w, '{', "an object was expected") != 0)
		return -1;
	walk_ws(w);
	if (w->off < w->len && w->p[w->off] == '}') {
		w->why = "a member is missing";
		return -1;
	}
	for (;;) {
		walk_ws(w);
		key = w->off < w->len && w->p[w->off] == '"' ? walk_value(w) :
		    NULL;
		if (key == NULL || !json_is_string(key)) {
			json_decref(key);
			w->why = "a member name was expected";
			return -1;
		}
		found = strcmp(json_string_value(key), name) == 0;
		json_decref(key);
		if (walk_byte(w, ':', "':' was expected") != 0)
			return -1;
		if (found)
			return 0;
		skip = walk_value(w);
		if (skip == NULL)
			return -1;
		json_decref(skip);
		walk_ws(w);
		if (w->off < w->len && w->p[w->off] == ',') {
			w->off++;
			continue;
		}
		w->why = "a member is missing";
		return -1;
	}
}

/* Find the bytes of each entry of log.entries. */
int
drift_doc_entries(const char *doc, size_t len, struct cassette_span **spans,
    size_t *n, char **cause)
{
	struct drift_walk	 w = { doc, len, 0, NULL };
	struct cassette_span	*v = NULL;
	size_t			 count = 0, cap = 0, start;
	json_t			*entry;

	*spans = NULL;
	*n = 0;
	if (walk_to_member(&w, "log") != 0 ||
	    walk_to_member(&w, "entries") != 0 ||
	    walk_byte(&w, '[', "log.entries is not an array") != 0)
		goto fail;
	walk_ws(&w);
	if (w.off < w.len && w.p[w.off] == ']')
		goto done;
	for (;;) {
		walk_ws(&w);
		start = w.off;
		entry = walk_value(&w);
		if (entry == NULL)
			goto fail;
		if (!json_is_object(entry)) {
			json_decref(entry);
			w.why = "an entry is not an object";
			goto fail;
		}
		json_decref(entry);
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[count].off = start;
		v[count].len = w.off - start;
		count++;
		walk_ws(&w);
		if (w.off < w.len && w.p[w.off] == ',') {
			w.off++;
			continue;
		}
		if (walk_byte(&w, ']', "',' or ']' was expected after an "
		    "entry") != 0)
			goto fail;
		break;
	}
done:
	*spans = v;
	*n = count;
	return 0;
fail:
	free(v);
	*cause = xasprintf("cannot find the entries' bytes at byte %zu: %s",
	    w.off, w.why != NULL ? w.why : "unexpected input");
	return -1;
}

/* Write the document with the entries that have a text replaced. */
void
drift_doc_rewrite(const char *doc, size_t len,
    const struct cassette_span *spans, size_t n, const char *const *texts,
    struct buf *out)
{
	size_t	i, at = 0;

	for (i = 0; i < n; i++) {
		if (texts[i] == NULL || spans[i].off < at ||
		    spans[i].off + spans[i].len > len)
			continue;
		buf_add(out, doc + at, spans[i].off - at);
		buf_adds(out, texts[i]);
		at = spans[i].off + spans[i].len;
	}
	buf_add(out, doc + at, len - at);
}

/* The text of an entry in place: from its '{' to its '}'. */
void
drift_doc_entry_text(const struct exchange *x, struct buf *out)
{
	struct buf	 b = { NULL, 0, 0 };
	const char	*p;

	cassette_entry_write(x, 1, &b);
	p = buf_str(&b);
	while (*p == '\n' || *p == ' ')
		p++;
	buf_adds(out, p);
	buf_free(&b);
}
