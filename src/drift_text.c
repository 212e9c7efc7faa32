/*
 * drift_text: drift's changes written for a person at a terminal and as
 * JSON for machines. Paths, values, URLs and methods come from a cassette
 * or a live answer, both somebody else's bytes: nothing reaches a
 * terminal as a control character (drift_escape).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "drift.h"
#include "jdiff.h"
#include "utf8.h"
#include "xmalloc.h"

/* Bytes of a value shown on a change's line. */
#define DRIFT_VALUE_MAX		80

static void
drift_hex(struct buf *b, unsigned char c)
{
	static const char	hex[] = "0123456789abcdef";
	char			esc[4];

	esc[0] = '\\';
	esc[1] = 'x';
	esc[2] = hex[c >> 4];
	esc[3] = hex[c & 0xf];
	buf_add(b, esc, sizeof esc);
}

/* Append s for a terminal: controls and stray bytes as \xNN. */
void
drift_escape(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, from = 0, n;

	while (i < len) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			i++;
			continue;
		}
		n = p[i] >= 0x80 ? utf8_seq_len(s + i, len - i) : 0;
		/* U+0080..U+009F (C2 80..C2 9F) are the C1 controls. */
		if (n > 0 && !(n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			i += n;
			continue;
		}
		buf_add(b, s + from, i - from);
		n = n > 0 ? n : 1;
		while (n-- > 0)
			drift_hex(b, p[i++]);
		from = i;
	}
	buf_add(b, s + from, len - from);
}

/* Where a cut of at most max bytes of s (len) may end: not mid-character. */
static size_t
drift_cut_at(const char *s, size_t len, size_t max)
{
	size_t	n = max;

	if (len <= max)
		return len;
	while (n > 0 && UTF8_IS_CONT(s[n]))
		n--;
	return n;
}

/* Append a value as one line of JSON, cut to about max bytes. */
void
drift_value_text(struct buf *b, const json_t *v, size_t max)
{
	char	*text;
	size_t	 len, cut;

	if (v == NULL) {
		buf_adds(b, "(none)");
		return;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_PRESERVE_ORDER);
	if (text == NULL) {
		buf_printf(b, "(%s)", jdiff_type_name(v));
		return;
	}
	len = strlen(text);
	cut = drift_cut_at(text, len, max);
	drift_escape(b, text, cut);
	if (cut < len)
		buf_adds(b, "...");
	free(text);
}

/* A value's JSON type, or "not JSON" for a body that is not. */
static const char *
drift_type(const json_t *v)
{
	return v != NULL ? jdiff_type_name(v) : "not JSON";
}

/* Append a path; the whole body's is shown as "(body)". */
static void
drift_path_text(struct buf *b, const char *path)
{
	if (*path == '\0')
		buf_adds(b, "(body)");
	else
		drift_escape(b, path, strlen(path));
}

/* Append one change as an indented line. */
void
drift_change_text(struct buf *b, const struct drift_change *c)
{
	buf_printf(b, "    %s %s", drift_severity_name(c->severity),
	    drift_kind_name(c->kind));
	if (c->kind == DRIFT_STATUS) {
		buf_printf(b, " %lld -> %lld\n", c->recorded != NULL ?
		    (long long)json_integer_value(c->recorded) : 0LL,
		    c->live != NULL ?
		    (long long)json_integer_value(c->live) : 0LL);
		return;
	}
	buf_adds(b, " ");
	drift_path_text(b, c->path);
	switch (c->kind) {
	case DRIFT_ADDED:
		buf_printf(b, " (%s)", drift_type(c->live));
		break;
	case DRIFT_REMOVED:
		buf_printf(b, " (was %s)", drift_type(c->recorded));
		break;
	case DRIFT_TYPE:
		buf_printf(b, ": %s -> %s", drift_type(c->recorded),
		    drift_type(c->live));
		break;
	case DRIFT_ENUM:
		buf_adds(b, ": new value ");
		drift_value_text(b, c->live, DRIFT_VALUE_MAX);
		break;
	case DRIFT_VALUE:
	case DRIFT_STATUS:
		buf_adds(b, ": ");
		drift_value_text(b, c->recorded, DRIFT_VALUE_MAX);
		buf_adds(b, " -> ");
		drift_value_text(b, c->live, DRIFT_VALUE_MAX);
		break;
	}
	buf_adds(b, "\n");
}

/* Return a change as a JSON object. */
json_t *
drift_change_json(const struct drift_change *c)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "severity",
	    json_string(drift_severity_name(c->severity)));
	json_object_set_new(o, "kind", json_string(drift_kind_name(c->kind)));
	json_object_set_new(o, "path", json_stringn(c->path,
	    strlen(c->path)));
	json_object_set(o, "recorded", c->recorded != NULL ? c->recorded :
	    json_null());
	json_object_set(o, "live", c->live != NULL ? c->live : json_null());
	return o;
}
