/*
 * diagnose_text: text that is safe to show, for the diagnose module.
 *
 * Values quoted from a body (or learned from a profile) go into messages
 * escaped as in JSON and shortened (diag_escape, diag_q), so that a message
 * is one line of valid UTF-8 that can go into logs, headers and JSON as it
 * is. Paths are JSON Pointers (RFC 6901) built as the walk goes, with
 * control characters %-encoded; they compare segment by segment. The JSON
 * text of a body is scanned for nesting before jansson parses it, so that
 * jansson's recursion stays shallow.
 *
 * The quoting slots and the path belong to the walk (struct diag_ctx);
 * everything else here works on what it is given and keeps nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diagnose.h"
#include "diagnose_local.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * Append len bytes of s escaped for a message: control characters (and,
 * when quotes is set, quotes and backslashes) escaped as in JSON, invalid
 * UTF-8 as U+FFFD, at most max code points (then "...").
 */
void
diag_escape(struct buf *b, const char *s, size_t len, size_t max,
    int quotes)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, count = 0;

	while (i < len) {
		if (count++ == max) {
			buf_adds(b, "...");
			break;
		}
		n = utf8_seq_len(s + i, len - i);
		if (n == 0)
			buf_adds(b, UTF8_REPLACEMENT);
		else if (quotes && (p[i] == '"' || p[i] == '\\'))
			buf_printf(b, "\\%c", p[i]);
		else if (p[i] == '\n')
			buf_adds(b, "\\n");
		else if (p[i] == '\r')
			buf_adds(b, "\\r");
		else if (p[i] == '\t')
			buf_adds(b, "\\t");
		else if (p[i] < 0x20 || p[i] == 0x7f)
			buf_printf(b, "\\u%04x", p[i]);
		else
			buf_add(b, p + i, n);
		i += n > 0 ? n : 1;
	}
}

/* Quote s into scratch buffer slot for a message; valid until reused. */
const char *
diag_q(struct diag_ctx *c, int slot, const char *s, size_t max)
{
	struct buf	*b = &c->q[slot];

	buf_reset(b);
	buf_add(b, "\"", 1);
	diag_escape(b, s, strlen(s), max, 1);
	buf_add(b, "\"", 1);
	return buf_str(b);
}

/* Escape a known value (a type, say) into slot, without quotes. */
const char *
diag_bare(struct diag_ctx *c, int slot, const char *s)
{
	struct buf	*b = &c->q[slot];

	buf_reset(b);
	diag_escape(b, s, strlen(s), DIAG_QUOTE_MAX, 1);
	return buf_str(b);
}

/*
 * A message is one line: values quoted from the body (or learned from a
 * profile) may hold newlines or other control bytes; write them escaped,
 * as in JSON. Takes msg over and returns the line.
 */
char *
diag_one_line(char *msg)
{
	struct buf		 b = { NULL, 0, 0 };
	const unsigned char	*p;

	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (*p == '\0')
		return msg;
	diag_escape(&b, msg, strlen(msg), SIZE_MAX, 0);
	free(msg);
	msg = xstrdup(buf_str(&b));
	buf_free(&b);
	return msg;
}

/*
 * Append a key to the path, escaped as RFC 6901 says ("~" as "~0", "/" as
 * "~1"); return the old length for diag_path_pop(). A control character
 * in a key is written %XX, as in a pointer's URI fragment form (RFC 6901
 * section 6), so that a path is always safe in a header or a log line.
 */
size_t
diag_path_key(struct diag_ctx *c, const char *key)
{
	size_t		old = c->path.len;
	unsigned char	ch;

	buf_add(&c->path, "/", 1);
	for (; *key != '\0'; key++) {
		ch = (unsigned char)*key;
		if (ch == '~')
			buf_adds(&c->path, "~0");
		else if (ch == '/')
			buf_adds(&c->path, "~1");
		else
			uri_encode(&c->path, key, 1, URI_ENCODE_CONTROL);
	}
	return old;
}

/* Append an array index to the path; return the old length. */
size_t
diag_path_index(struct diag_ctx *c, size_t i)
{
	size_t	old = c->path.len;

	buf_printf(&c->path, "/%zu", i);
	return old;
}

/* Cut the path back to old bytes. */
void
diag_path_pop(struct diag_ctx *c, size_t old)
{
	c->path.len = old;
	if (c->path.data != NULL)
		c->path.data[old] = '\0';
}

/* "an object", "a string", ... for messages. */
const char *
diag_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/*
 * Scan len bytes of JSON text for nesting deeper than DIAG_MAX_DEPTH, the
 * way a parser would see it (brackets inside strings do not count). Return
 * nonzero and the line and column (as jansson counts them: code points
 * from 1) of the bracket that goes too deep.
 */
int
diag_too_deep(const char *s, size_t len, int *line, int *col)
{
	size_t	i, depth = 0;
	int	in_str = 0, esc = 0;

	*line = 1;
	*col = 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 0;
		} else if (!UTF8_IS_CONT(s[i]))
			(*col)++;
		if (in_str) {
			if (esc)
				esc = 0;
			else if (s[i] == '\\')
				esc = 1;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '[' || s[i] == '{') {
			if (++depth > DIAG_MAX_DEPTH)
				return 1;
		} else if ((s[i] == ']' || s[i] == '}') && depth > 0)
			depth--;
	}
	return 0;
}

/* JSON's whitespace (RFC 8259 section 2); strchr() would match NUL too. */
int
diag_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* jansson's error text, which may quote raw bytes, made safe to show. */
char *
diag_error_text(const json_error_t *err)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*r;

	diag_escape(&b, err->text, strlen(err->text), JSON_ERROR_TEXT_LENGTH,
	    0);
	r = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

/*
 * Advice for the slips jansson names poorly. err->position is the byte
 * just past the token it stopped at, so a one-byte token is the byte
 * before it: a '}' or ']' right after a comma (whitespace between) is a
 * trailing comma, and a "'" is a string in single quotes. A typographic
 * quote (U+2018, U+2019, U+201C, U+201D: E2 80 98, 99, 9C, 9D) is JSON
 * copied from a forum post or a word processor, as the seed thread's is.
 */
const char *
diag_syntax_hint(const char *s, size_t len, const json_error_t *err)
{
	size_t	pos, i;

	if (err->position <= 0 || (size_t)err->position > len)
		return "";
	pos = (size_t)err->position - 1;
	if (pos >= 2 && memcmp(s + pos - 2, "\xe2\x80", 2) == 0 &&
	    strchr("\x98\x99\x9c\x9d", s[pos]) != NULL && s[pos] != '\0')
		return "; JSON takes straight double quotes (\"), not "
		    "typographic ones as a forum or a word processor writes "
		    "them";
	if (s[pos] == '\'')
		return "; JSON strings take double quotes, not single ones";
	if (s[pos] != '}' && s[pos] != ']')
		return "";
	for (i = pos; i > 0 && diag_is_space(s[i - 1]); i--)
		;
	if (i == 0 || s[i - 1] != ',')
		return "";
	return s[pos] == '}' ? "; a comma before '}' has nothing after it: "
	    "JSON allows no trailing comma" : "; a comma before ']' has "
	    "nothing after it: JSON allows no trailing comma";
}

/*
 * Compare two segments of a pointer: array indices (all digits) first, as
 * numbers, then other keys by byte. Index-like keys of an object go first
 * too: ordering them by number but by byte against other keys ("10" <
 * "1a" < "9" < "10") would give qsort no total order.
 */
static int
diag_segment_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	int	num_a, num_b, r;

	num_a = la > 0 && strspn(a, "0123456789") >= la;
	num_b = lb > 0 && strspn(b, "0123456789") >= lb;
	if (num_a != num_b)
		return num_a ? -1 : 1;
	if (num_a && la != lb)
		return la < lb ? -1 : 1;
	r = memcmp(a, b, la < lb ? la : lb);
	if (r != 0)
		return r;
	return la < lb ? -1 : la > lb;
}

/* "" first, then pointers (segment-wise), then other paths. */
int
diag_path_cmp(const char *a, const char *b)
{
	int	ca, cb, r;
	size_t	la, lb;

	ca = *a == '\0' ? 0 : *a == '/' ? 1 : 2;
	cb = *b == '\0' ? 0 : *b == '/' ? 1 : 2;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (ca != 1)
		return strcmp(a, b);
	while (*a == '/' && *b == '/') {
		a++;
		b++;
		la = strcspn(a, "/");
		lb = strcspn(b, "/");
		r = diag_segment_cmp(a, la, b, lb);
		if (r != 0)
			return r;
		a += la;
		b += lb;
	}
	return *a == '\0' ? (*b == '\0' ? 0 : -1) : 1;
}
