/*
 * diff_text: a diff report as text for a person, and the --json document
 * as text. Pure: both are written into a buffer that the diff command
 * prints. A cassette is somebody else's file: every string taken from one
 * goes through diff_text_put, which escapes control characters and cuts
 * what is too long, so that nothing it holds can drive a terminal or
 * flood it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diff.h"
#include "exchange.h"
#include "jdiff.h"
#include "utf8.h"

#define DIFF_VALUE_WIDTH	60	/* characters of a value shown */
#define DIFF_URL_WIDTH		200	/* characters of a URL shown */
#define DIFF_DUMP_MAX		1024	/* JSON bytes read per value */

/*
 * Append len bytes of s for a terminal: control characters (C0, DEL and
 * C1) and bytes that are not UTF-8 become \xNN or \uNNNN, and past max
 * characters the rest becomes "...".
 */
void
diff_text_put(struct buf *b, const char *s, size_t len, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, shown = 0;
	unsigned		 cp;

	while (i < len) {
		if (shown++ == max) {
			buf_adds(b, "...");
			return;
		}
		n = utf8_seq_len(s + i, len - i);
		if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			buf_printf(b, "\\x%02x", p[i]);
			i++;
			continue;
		}
		/* U+0080..U+009F: C1 controls (CSI is U+009B). */
		cp = n == 2 ? ((p[i] & 0x1fu) << 6) | (p[i + 1] & 0x3fu) : 0;
		if (n == 2 && cp < 0xa0)
			buf_printf(b, "\\u%04x", cp);
		else
			buf_add(b, s + i, n);
		i += n;
	}
}

static void
diff_puts(struct buf *b, const char *s, size_t max)
{
	diff_text_put(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0, max);
}

/* Where diff_put_value's dump goes: at most left more bytes. */
struct diff_dump {
	char	data[DIFF_DUMP_MAX];
	size_t	len;
};

static int
diff_dump_cb(const char *p, size_t n, void *arg)
{
	struct diff_dump	*d = arg;
	size_t			 room = sizeof d->data - d->len;

	memcpy(d->data + d->len, p, n < room ? n : room);
	d->len += n < room ? n : room;
	/* Enough to show: stop jansson's walk. */
	return d->len == sizeof d->data ? -1 : 0;
}

/*
 * A JSON value as compact JSON, escaped and cut (see diff_text_put). Only the
 * first DIFF_DUMP_MAX bytes are rendered: more than DIFF_VALUE_WIDTH
 * characters however many bytes each takes, so the cut shows.
 */
static void
diff_put_value(struct buf *b, const json_t *v)
{
	struct diff_dump	d;

	d.len = 0;
	json_dump_callback(v, diff_dump_cb, &d, JSON_COMPACT |
	    JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	diff_text_put(b, d.data, d.len, DIFF_VALUE_WIDTH);
}

/* "- METHOD URL (A #i)": an entry of one side only. */
static void
diff_print_only(struct buf *b, const struct exchange *x, char mark,
    char side, size_t idx)
{
	buf_printf(b, "%c ", mark);
	diff_puts(b, x->method, 32);
	buf_adds(b, " ");
	diff_puts(b, x->url, DIFF_URL_WIDTH);
	buf_printf(b, " (%c #%zu)", side, idx);
	if (x->status != 0)
		buf_printf(b, ": %d\n", x->status);
	else
		buf_adds(b, ": no answer\n");
}

/* The place of a body change: "request /a/b" or "request body". */
static void
diff_print_place(struct buf *b, const char *part, const char *path)
{
	buf_printf(b, "    %s ", part);
	if (path == NULL || *path == '\0')
		buf_adds(b, "body");
	else
		diff_puts(b, path, DIFF_URL_WIDTH);
	buf_adds(b, ": ");
}

/* One body's changes, a line each. */
static void
diff_print_body(struct buf *b, const json_t *change, const char *part)
{
	const json_t	*ops = json_object_get(change, part), *op, *va, *vb;
	const char	*kind;
	char		 key[32];
	json_int_t	 more;
	size_t		 i;

	json_array_foreach(ops, i, op) {
		kind = json_string_value(json_object_get(op, "op"));
		va = json_object_get(op, "a");
		vb = json_object_get(op, "b");
		diff_print_place(b, part, json_string_value(json_object_get(op,
		    "path")));
		if (strcmp(kind, "text") == 0)
			buf_printf(b, "text differs (%" JSON_INTEGER_FORMAT
			    " -> %" JSON_INTEGER_FORMAT " bytes)",
			    json_integer_value(va), json_integer_value(vb));
		else if (strcmp(kind, "credential") == 0)
			buf_adds(b, "a different credential");
		else if (strcmp(kind, "added") == 0 ||
		    strcmp(kind, "removed") == 0) {
			buf_printf(b, "%s ", kind);
			diff_put_value(b, va != NULL ? va : vb);
		} else {
			if (strcmp(kind, "type") == 0)
				buf_printf(b, "type %s -> %s, ",
				    jdiff_type_name(va), jdiff_type_name(vb));
			diff_put_value(b, va);
			buf_adds(b, " -> ");
			diff_put_value(b, vb);
			if (strcmp(kind, "enum") == 0)
				buf_adds(b, " (new: not in A's body)");
		}
		buf_adds(b, "\n");
	}
	snprintf(key, sizeof key, "%s_dropped", part);
	more = json_integer_value(json_object_get(change, key));
	if (more > 0)
		buf_printf(b, "    %s: %" JSON_INTEGER_FORMAT " more "
		    "differences not shown\n", part, more);
}

/* Headers and query fields, a line each. */
static void
diff_print_fields(struct buf *b, const json_t *change)
{
	const json_t	*h;
	const char	*op;
	size_t		 i;

	json_array_foreach(json_object_get(change, "query"), i, h) {
		buf_adds(b, "    query ");
		diff_puts(b, json_string_value(json_object_get(h, "name")),
		    DIFF_VALUE_WIDTH);
		buf_adds(b, ": a different credential\n");
	}
	json_array_foreach(json_object_get(change, "headers"), i, h) {
		op = json_string_value(json_object_get(h, "op"));
		buf_printf(b, "    %s header ",
		    json_string_value(json_object_get(h, "side")));
		diff_puts(b, json_string_value(json_object_get(h, "name")),
		    DIFF_VALUE_WIDTH);
		buf_adds(b, ": ");
		if (strcmp(op, "credential") == 0)
			buf_adds(b, "a different credential");
		else if (strcmp(op, "value") == 0) {
			diff_put_value(b, json_object_get(h, "a"));
			buf_adds(b, " -> ");
			diff_put_value(b, json_object_get(h, "b"));
		} else {
			buf_printf(b, "%s ", op);
			diff_put_value(b, json_object_get(h,
			    strcmp(op, "added") == 0 ? "b" : "a"));
		}
		buf_adds(b, "\n");
	}
}

/* "diagnosis gone: error code /path", a line each. */
static void
diff_print_diagnoses(struct buf *b, const json_t *change)
{
	static const char	*const which[] = { "appeared", "gone" };
	const json_t		*d, *list;
	const char		*path;
	size_t			 w, i;

	for (w = 0; w < 2; w++) {
		list = json_object_get(json_object_get(change, "diagnoses"),
		    which[w]);
		json_array_foreach(list, i, d) {
			buf_printf(b, "    diagnosis %s: ", which[w]);
			diff_puts(b, json_string_value(json_object_get(d,
			    "severity")), 16);
			buf_adds(b, " ");
			diff_puts(b, json_string_value(json_object_get(d,
			    "code")), DIFF_VALUE_WIDTH);
			path = json_string_value(json_object_get(d, "path"));
			if (path != NULL && *path != '\0') {
				buf_adds(b, " ");
				diff_puts(b, path, DIFF_URL_WIDTH);
			}
			buf_adds(b, "\n");
		}
	}
}

/* "[a, b]" of a changed field as "a -> b" ("none" for null). */
static void
diff_print_pair(struct buf *b, const char *label, const json_t *pair)
{
	size_t	i;

	if (!json_is_array(pair))
		return;
	buf_printf(b, "    %s ", label);
	for (i = 0; i < 2; i++) {
		if (i == 1)
			buf_adds(b, " -> ");
		if (json_is_null(json_array_get(pair, i)))
			buf_adds(b, "none");
		else if (json_is_string(json_array_get(pair, i)))
			diff_puts(b, json_string_value(json_array_get(pair,
			    i)), DIFF_VALUE_WIDTH);
		else
			diff_put_value(b, json_array_get(pair, i));
	}
	buf_adds(b, "\n");
}

/* A status, or "none" for 0: no answer was recorded (a reset, a hang). */
static void
diff_print_status(struct buf *b, const json_t *status)
{
	if (json_integer_value(status) == 0)
		buf_adds(b, "none");
	else
		buf_printf(b, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(status));
}

/* "~ METHOD URL (A #i, B #j)" and a line per difference. */
static void
diff_print_changed(struct buf *b, const json_t *c)
{
	const json_t	*status = json_object_get(c, "status");

	buf_adds(b, "~ ");
	diff_puts(b, json_string_value(json_object_get(c, "method")), 32);
	buf_adds(b, " ");
	diff_puts(b, json_string_value(json_object_get(c, "url")),
	    DIFF_URL_WIDTH);
	buf_printf(b, " (A #%" JSON_INTEGER_FORMAT ", B #%"
	    JSON_INTEGER_FORMAT ")\n",
	    json_integer_value(json_object_get(c, "a_index")),
	    json_integer_value(json_object_get(c, "b_index")));
	if (json_object_get(c, "b_url") != NULL) {
		buf_adds(b, "    in B: ");
		diff_puts(b, json_string_value(json_object_get(c, "b_url")),
		    DIFF_URL_WIDTH);
		buf_adds(b, "\n");
	}
	if (status != NULL) {
		buf_adds(b, "    status ");
		diff_print_status(b, json_array_get(status, 0));
		buf_adds(b, " -> ");
		diff_print_status(b, json_array_get(status, 1));
		buf_adds(b, "\n");
	}
	diff_print_pair(b, "error", json_object_get(c, "error"));
	diff_print_pair(b, "fault", json_object_get(c, "fault"));
	diff_print_body(b, c, "request");
	diff_print_body(b, c, "response");
	diff_print_fields(b, c);
	diff_print_diagnoses(b, c);
}

/* The text report: see diff.h. */
void
diff_report_text(struct buf *b, const struct diff_report *r,
    const struct diff_side *sa, const struct diff_side *sb)
{
	const struct diff_item	*it;
	size_t			 i;

	buf_adds(b, "A: ");
	diff_puts(b, sa->name, DIFF_URL_WIDTH);
	buf_printf(b, " (%zu entries)\nB: ", sa->n);
	diff_puts(b, sb->name, DIFF_URL_WIDTH);
	buf_printf(b, " (%zu entries)\n", sb->n);
	if (r->origin_a != NULL) {
		buf_adds(b, "origin ");
		diff_puts(b, r->origin_a, DIFF_URL_WIDTH);
		buf_adds(b, " -> ");
		diff_puts(b, r->origin_b, DIFF_URL_WIDTH);
		buf_adds(b, " (entries aligned by path and query)\n");
	}
	for (i = 0; i < r->n; i++) {
		it = &r->v[i];
		if (it->b == DIFF_NONE)
			diff_print_only(b, &sa->v[it->a], '-', 'A', it->a);
		else if (it->a == DIFF_NONE)
			diff_print_only(b, &sb->v[it->b], '+', 'B', it->b);
		else if (it->change != NULL)
			diff_print_changed(b, it->change);
	}
	if (diff_report_same(r))
		buf_printf(b, "same: %zu entries aligned, nothing differs\n",
		    r->same);
	else
		buf_printf(b, "different: %zu changed, %zu only in A, %zu "
		    "only in B, %zu the same\n", r->changed, r->only_a,
		    r->only_b, r->same);
}

/* The --json document as text: see diff.h. */
int
diff_json_text(struct buf *out, const json_t *doc)
{
	const char	*p, *del;
	char		*text;

	/*
	 * Printable ASCII only, so that a terminal shows it as it is:
	 * jansson escapes all but DEL, which can only be inside a string.
	 */
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
	if (text == NULL)
		return -1;
	for (p = text, del = strchr(p, 0x7f); del != NULL;
	    p = del + 1, del = strchr(p, 0x7f)) {
		buf_add(out, p, (size_t)(del - p));
		buf_adds(out, "\\u007F");
	}
	buf_printf(out, "%s\n", p);
	free(text);
	return 0;
}
