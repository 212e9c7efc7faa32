/*
 * sanitize_splice: the redacted values written back into the text they
 * came from, so that a sanitized file differs from its input only where
 * a value was redacted (a HAR's spacing, key order, numbers as written
 * and other tools' fields stay byte for byte, and a diff of the two files
 * shows the redactions alone).
 *
 * The text was parsed by jansson into a; b is a copy of a in which some
 * scalars were replaced. jansson keeps members in the order they were
 * read (and duplicates are refused when parsing), so a walk of a in order
 * meets the values of the text in order: the walk follows the text with a
 * small lexer, and each scalar where b differs from a is replaced by b's
 * JSON text. Depth is what jansson accepted when parsing (it refuses
 * deeper nesting), so the recursion is bounded.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "sanitize_local.h"

struct splice {
	const char	*s;
	size_t		 len;
	size_t		 pos;		/* the lexer's place in s */
	size_t		 copied;	/* s[0, copied) is in out */
	struct buf	*out;
	int		 changed;
};

static void
splice_space(struct splice *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	    p->s[p->pos] == '\r'))
		p->pos++;
}

/* Step over the character c after blanks; -1 when another one is there. */
static int
splice_expect(struct splice *p, char c)
{
	splice_space(p);
	if (p->pos >= p->len || p->s[p->pos] != c)
		return -1;
	p->pos++;
	return 0;
}

/* Step over the string token at pos; -1 when there is none. */
static int
splice_string(struct splice *p)
{
	size_t	i;

	splice_space(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return -1;
	for (i = p->pos + 1; i < p->len; i++) {
		if (p->s[i] == '\\')
			i++;
		else if (p->s[i] == '"') {
			p->pos = i + 1;
			return 0;
		}
	}
	return -1;
}

/* Step over the scalar at pos (a string, number or literal). */
static int
splice_scalar(struct splice *p)
{
	size_t	start;

	splice_space(p);
	if (p->pos < p->len && p->s[p->pos] == '"')
		return splice_string(p);
	start = p->pos;
	while (p->pos < p->len && (isalnum((unsigned char)p->s[p->pos]) ||
	    p->s[p->pos] == '.' || p->s[p->pos] == '-' ||
	    p->s[p->pos] == '+'))
		p->pos++;
	return p->pos > start ? 0 : -1;
}

/* Write b's JSON text in place of the scalar s[start, pos). */
static int
splice_replace(struct splice *p, size_t start, json_t *b)
{
	char	*text;

	text = json_dumps(b, JSON_ENCODE_ANY);
	if (text == NULL)
		return -1;
	buf_add(p->out, p->s + p->copied, start - p->copied);
	buf_adds(p->out, text);
	free(text);
	p->copied = p->pos;
	p->changed = 1;
	return 0;
}

static int	splice_value(struct splice *, json_t *, json_t *);

static int
splice_object(struct splice *p, json_t *a, json_t *b)
{
	void	*ia, *ib;
	int	 first = 1;

	if (!json_is_object(b) || json_object_size(a) != json_object_size(b) ||
	    splice_expect(p, '{') != 0)
		return -1;
	ia = json_object_iter(a);
	ib = json_object_iter(b);
	while (ia != NULL && ib != NULL) {
		if ((!first && splice_expect(p, ',') != 0) ||
		    splice_string(p) != 0 || splice_expect(p, ':') != 0 ||
		    strcmp(json_object_iter_key(ia),
		    json_object_iter_key(ib)) != 0 ||
		    splice_value(p, json_object_iter_value(ia),
		    json_object_iter_value(ib)) != 0)
			return -1;
		first = 0;
		ia = json_object_iter_next(a, ia);
		ib = json_object_iter_next(b, ib);
	}
	return ia == NULL && ib == NULL ? splice_expect(p, '}') : -1;
}

static int
splice_array(struct splice *p, json_t *a, json_t *b)
{
	size_t	i;

	if (!json_is_array(b) || json_array_size(a) != json_array_size(b) ||
	    splice_expect(p, '[') != 0)
		return -1;
	for (i = 0; i < json_array_size(a); i++)
		if ((i > 0 && splice_expect(p, ',') != 0) ||
		    splice_value(p, json_array_get(a, i),
		    json_array_get(b, i)) != 0)
			return -1;
	return splice_expect(p, ']');
}

/* Follow the value a in the text; replace it where b differs. */
static int
splice_value(struct splice *p, json_t *a, json_t *b)
{
	size_t	start;

	if (json_is_object(a))
		return splice_object(p, a, b);
	if (json_is_array(a))
		return splice_array(p, a, b);
	splice_space(p);
	start = p->pos;
	if (splice_scalar(p) != 0)
		return -1;
	if (a == b || json_equal(a, b))
		return 0;
	return splice_replace(p, start, b);
}

/* Write text with b's differing scalars in place of a's. */
int
sanitize_splice(const char *text, size_t len, json_t *a, json_t *b,
    struct buf *out, int *changed)
{
	struct splice	p = { text, len, 0, 0, out, 0 };

	if (splice_value(&p, a, b) != 0)
		return -1;
	splice_space(&p);
	if (p.pos != len)
		return -1;
	buf_add(out, text + p.copied, len - p.copied);
	*changed = p.changed;
	return 0;
}
