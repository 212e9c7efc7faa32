/*
 * json_out: write a jansson value as text, byte for byte what
 * json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) writes, with every
 * line after a given margin.
 *
 * The recorder writes each cassette entry this way. json_dumps costs more
 * than building the entry: it goes through a callback and a growing
 * string buffer per call, and the margin took another pass over its text.
 * Here the text goes straight into the caller's buffer. Keys come in the
 * order jansson keeps them (insertion order, as JSON_PRESERVE_ORDER
 * dumps them since jansson 2.14); strings are escaped as jansson escapes
 * them (", \ and control characters; "/" and non-ASCII as they are);
 * reals as jansson prints them. tests/unit/check_json_out.c holds the
 * two outputs equal over real cassettes and awkward values.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "json_out.h"

#define JSON_OUT_INDENT	2

static void
json_out_newline(struct buf *out, size_t margin, size_t depth)
{
	static const char	spaces[] = "                                ";
	size_t			n = margin + depth * JSON_OUT_INDENT, k;

	buf_add(out, "\n", 1);
	while (n > 0) {
		k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
		buf_add(out, spaces, k);
		n -= k;
	}
}

/* A string, escaped as jansson escapes it. */
static void
json_out_string(struct buf *out, const char *s, size_t len)
{
	static const char	hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, run = 0;
	char			 esc[6];
	const char		*text;
	size_t			 tlen;

	buf_add(out, "\"", 1);
	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
			continue;
		if (i > run)
			buf_add(out, s + run, i - run);
		run = i + 1;
		tlen = 2;
		switch (p[i]) {
		case '"':
			text = "\\\"";
			break;
		case '\\':
			text = "\\\\";
			break;
		case '\b':
			text = "\\b";
			break;
		case '\f':
			text = "\\f";
			break;
		case '\n':
			text = "\\n";
			break;
		case '\r':
			text = "\\r";
			break;
		case '\t':
			text = "\\t";
			break;
		default:
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 0xf];
			text = esc;
			tlen = 6;
			break;
		}
		buf_add(out, text, tlen);
	}
	if (len > run)
		buf_add(out, s + run, len - run);
	buf_add(out, "\"", 1);
}

/*
 * A real as jansson prints it: %.17g, ".0" added when that looks like an
 * integer, no "+" and no leading zeros in the exponent.
 */
static void
json_out_real(struct buf *out, double v)
{
	char	num[64], *e, *from, *to;
	int	n;

	n = snprintf(num, sizeof num - 3, "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof num - 3)
		return;
	if (strchr(num, '.') == NULL && strchr(num, 'e') == NULL) {
		num[n++] = '.';
		num[n++] = '0';
		num[n] = '\0';
	}
	e = strchr(num, 'e');
	if (e != NULL) {
		to = e + 1;
		if (*to == '-')
			to++;
		from = to;
		if (*from == '+')
			from++;
		while (*from == '0' && from[1] != '\0')
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(num);
	}
	buf_add(out, num, (size_t)n);
}

static void
json_out_value(struct buf *out, const json_t *v, size_t margin,
    size_t depth)
{
	const char	*key;
	json_t		*item;
	size_t		 i, n;
	char		 num[32];
	int		 first;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (json_object_size(v) == 0) {
			buf_add(out, "{}", 2);
			break;
		}
		buf_add(out, "{", 1);
		first = 1;
		json_object_foreach((json_t *)(uintptr_t)v, key, item) {
			if (!first)
				buf_add(out, ",", 1);
			first = 0;
			json_out_newline(out, margin, depth + 1);
			json_out_string(out, key, strlen(key));
			buf_add(out, ": ", 2);
			json_out_value(out, item, margin, depth + 1);
		}
		json_out_newline(out, margin, depth);
		buf_add(out, "}", 1);
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (n == 0) {
			buf_add(out, "[]", 2);
			break;
		}
		buf_add(out, "[", 1);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_add(out, ",", 1);
			json_out_newline(out, margin, depth + 1);
			json_out_value(out, json_array_get(v, i), margin,
			    depth + 1);
		}
		json_out_newline(out, margin, depth);
		buf_add(out, "]", 1);
		break;
	case JSON_STRING:
		json_out_string(out, json_string_value(v),
		    json_string_length(v));
		break;
	case JSON_INTEGER:
		n = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		buf_add(out, num, n);
		break;
	case JSON_REAL:
		json_out_real(out, json_real_value(v));
		break;
	case JSON_TRUE:
		buf_add(out, "true", 4);
		break;
	case JSON_FALSE:
		buf_add(out, "false", 5);
		break;
	case JSON_NULL:
		buf_add(out, "null", 4);
		break;
	}
}

/* Append v as JSON_INDENT(2) text with a margin (see json_out.h). */
void
json_out_indented(struct buf *out, const json_t *v, size_t margin)
{
	json_out_value(out, v, margin, 0);
}

/*
 * The writer: the same text, written as it goes instead of from a tree.
 * Each open container remembers whether it has had an item (a bit per
 * level): the first item goes on a new line, the next ones after a comma,
 * and a container that stayed empty closes on its own line as "{}" or
 * "[]" (jansson's layout).
 */
void
json_writer_init(struct json_writer *w, struct buf *out, size_t margin)
{
	w->out = out;
	w->margin = margin;
	w->depth = 0;
	w->had_item = 0;
}

static void
json_writer_next(struct json_writer *w)
{
	uint64_t	bit;

	if (w->depth == 0)
		return;
	bit = (uint64_t)1 << (w->depth - 1);
	if (w->had_item & bit)
		buf_add(w->out, ",", 1);
	w->had_item |= bit;
	json_out_newline(w->out, w->margin, w->depth);
}

void
json_writer_open(struct json_writer *w, char bracket)
{
	buf_add(w->out, &bracket, 1);
	if (w->depth < JSON_WRITER_MAX_DEPTH)
		w->depth++;
	w->had_item &= ~((uint64_t)1 << (w->depth - 1));
}

void
json_writer_close(struct json_writer *w, char bracket)
{
	uint64_t	bit;

	if (w->depth > 0) {
		bit = (uint64_t)1 << (w->depth - 1);
		if (w->had_item & bit)
			json_out_newline(w->out, w->margin, w->depth - 1);
		w->had_item &= ~bit;
		w->depth--;
	}
	buf_add(w->out, &bracket, 1);
}

void
json_writer_key(struct json_writer *w, const char *key)
{
	json_writer_next(w);
	json_out_string(w->out, key, strlen(key));
	buf_add(w->out, ": ", 2);
}

void
json_writer_item(struct json_writer *w)
{
	json_writer_next(w);
}

void
json_writer_string(struct json_writer *w, const char *s, size_t len)
{
	json_out_string(w->out, s, len);
}

void
json_writer_int(struct json_writer *w, json_int_t v)
{
	char	num[32];
	int	n;

	n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, v);
	buf_add(w->out, num, (size_t)n);
}

void
json_writer_real(struct json_writer *w, double v)
{
	json_out_real(w->out, v);
}

void
json_writer_value(struct json_writer *w, const json_t *v)
{
	json_out_value(w->out, v, w->margin, w->depth);
}
