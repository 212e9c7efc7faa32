/*
 * cassette_scan: the cassette loader. It does not build a tree of the
 * document: a small scanner walks the bytes (bounded recursion,
 * CASSETTE_MAX_DEPTH) and checks the syntax of everything, including UTF-8
 * in strings. Each element of log.entries, once checked, goes to the fast
 * decoder (cassette_fast.c), which reads it straight into an exchange; what
 * that one does not handle for sure (any error, anything unusual) goes by
 * its byte range to json_loadb and cassette_entry_decode, which name the
 * error. Both ways give the same exchange for an entry. At most one entry
 * is in memory twice at a time. The exchange handed to the callback lives
 * in the loader's storage for the length of the call; what it holds is the
 * callback's from then on (exchange_free it, or move it out and
 * exchange_init it, as replay_add does).
 *
 * The scanner's string and number readers also serve the fast decoder,
 * which walks an entry again with its own struct cassette_scan.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cassette.h"
#include "cassette_local.h"
#include "exchange.h"
#include "utf8.h"
#include "uri.h"
#include "xmalloc.h"

#define CASSETTE_KEY_MAX	16	/* longest member name the loader
					   looks for, plus one */
#define CASSETTE_SCRATCH_KEEP	65536	/* bytes of scratch kept from one
					   entry to the next */

/*
 * The loader's scanner. Each scan function starts on the first byte of what
 * it reads (whitespace already skipped) and stops just past its end.
 */

/*
 * What is done with the value of a member named key: return 0, 1 when it
 * is the member that leads to the entries, or -1.
 */
typedef int (*scan_member_fn)(struct cassette_scan *, const char *key);

/* Set the cause to "line L, column C: why" for byte offset at. */
static int
scan_fail_at(struct cassette_scan *s, size_t at, const char *why)
{
	size_t	i, line = 1, col = 1;

	if (at > s->len)
		at = s->len;
	/* Columns count characters, not bytes. */
	for (i = 0; i < at; i++) {
		if (s->p[i] == '\n') {
			line++;
			col = 1;
		} else if (!UTF8_IS_CONT(s->p[i]))
			col++;
	}
	free(s->cause);
	s->cause = xasprintf("line %zu, column %zu: %s", line, col, why);
	return -1;
}

/*
 * Fail at the current byte, or at the end of the file if it is reached:
 * then more bytes could have made sense of it (s->eof), which is how a
 * document cut off is told from a broken one.
 */
static int
scan_fail(struct cassette_scan *s, const char *why)
{
	if (s->off >= s->len) {
		why = "unexpected end of the file";
		s->eof = 1;
	}
	return scan_fail_at(s, s->off, why);
}

/* Fail at the end of the file: what is left is the start of something. */
static int
scan_fail_cut(struct cassette_scan *s)
{
	s->off = s->len;
	return scan_fail(s, NULL);
}

/*
 * Return nonzero when the n bytes at p (fewer than a whole character) are
 * the start of a valid UTF-8 sequence: a character cut by the end of the
 * file (RFC 3629 4, the first two bytes' ranges included).
 */
static int
utf8_cut(const unsigned char *p, size_t n)
{
	size_t		need, i;
	unsigned	lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (n >= need)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++) {
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return 1;
}

static int
scan_fail_plain(struct cassette_scan *s, char *msg)
{
	free(s->cause);
	s->cause = msg;
	return -1;
}

/*
 * Eight bytes at a time, for the long runs of indentation and plain text
 * in a cassette. load8 reads them at any alignment, the first one in the
 * low byte. A mask marks bytes with their high bit; swar_first gives the
 * index of the first marked one. The borrows in swar_zero only mark bytes
 * after a marked one (Hacker's Delight, 6-1), so the first one is right.
 */
#define SWAR_ONES	0x0101010101010101ULL
#define SWAR_HIGHS	0x8080808080808080ULL

static inline uint64_t
load8(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 |
	    (uint64_t)u[3] << 24 | (uint64_t)u[4] << 32 |
	    (uint64_t)u[5] << 40 | (uint64_t)u[6] << 48 |
	    (uint64_t)u[7] << 56;
}

/* Mark the bytes of w that are 0. */
static inline uint64_t
swar_zero(uint64_t w)
{
	return (w - SWAR_ONES) & ~w & SWAR_HIGHS;
}

/* Mark the bytes of w that are c. */
static inline uint64_t
swar_is(uint64_t w, unsigned char c)
{
	return swar_zero(w ^ (c * SWAR_ONES));
}

/* Mark the bytes of w that stop a run of plain text in a string. */
static inline uint64_t
swar_special(uint64_t w)
{
	/* Below 0x20, from 0x80 up, '"' and '\\'. */
	return (((w - 0x20 * SWAR_ONES) | w) & SWAR_HIGHS) | swar_is(w, '"') |
	    swar_is(w, '\\');
}

/* Return the index of the first byte that m (nonzero) has a bit of. */
static inline size_t
swar_first(uint64_t m)
{
	return (size_t)__builtin_ctzll(m) / 8;
}

/* Step over whitespace. */
void
cassette_scan_ws(struct cassette_scan *s)
{
	const char	*p = s->p;
	size_t		 off = s->off;
	uint64_t	 m;

	/*
	 * On a local offset: s->off could share bytes with what p points
	 * to, as far as the compiler knows, so it would be stored each time.
	 */
	for (;;) {
		/* Runs of spaces (indentation) go by 8 at a time. */
		if (s->len - off >= 8) {
			m = load8(p + off) ^ ' ' * SWAR_ONES;
			if (m == 0) {
				off += 8;
				continue;
			}
			off += swar_first(m);
		}
		if (off == s->len || (p[off] != ' ' && p[off] != '\t' &&
		    p[off] != '\n' && p[off] != '\r'))
			break;
		off++;
	}
	s->off = off;
}

/* Read the four hex digits of a \u escape at off. */
static int
scan_hex4(struct cassette_scan *s, unsigned *v)
{
	int	d, i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		d = uri_hex_value(cassette_scan_peek(s));
		if (d < 0)
			return scan_fail(s, "bad \\u escape in a string");
		*v = *v << 4 | (unsigned)d;
		s->off++;
	}
	return 0;
}

/*
 * Scan a string. With key set, also decode it into key (CASSETTE_KEY_MAX
 * bytes); a name that is longer or not ASCII comes out as "", which names
 * nothing the loader looks for.
 */
static int
scan_string(struct cassette_scan *s, char *key)
{
	size_t		 n = 0, seq, i;
	uint64_t	 m;
	unsigned	 u, lo;
	int		 c, ascii = 1;

	s->off++;
	for (;;) {
		/* Most of a value is printable ASCII: skip it in one go. */
		if (key == NULL) {
			for (i = s->off; s->len - i >= 8; i += 8) {
				m = swar_special(load8(s->p + i));
				if (m != 0) {
					i += swar_first(m);
					break;
				}
			}
			for (; i < s->len &&
			    (unsigned char)s->p[i] - 0x20u < 0x60u &&
			    s->p[i] != '"' && s->p[i] != '\\'; i++)
				;
			s->off = i;
		}
		c = cassette_scan_peek(s);
		if (c == -1)
			return scan_fail(s, "unexpected end of the file");
		if (c == '"')
			break;
		if (c < 0x20)
			return scan_fail(s,
			    "control character in a string (escape it)");
		if (c == '\\') {
			s->off++;
			c = cassette_scan_peek(s);
			if (c == 'u') {
				s->off++;
				if (scan_hex4(s, &u) == -1)
					return -1;
				if (u >= 0xdc00 && u <= 0xdfff)
					return scan_fail_at(s, s->off - 6,
					    "lone UTF-16 surrogate in a "
					    "string");
				if (u >= 0xd800 && u <= 0xdbff) {
					/* The low half cut off. */
					if (s->len - s->off == 0 ||
					    (s->len - s->off == 1 &&
					    s->p[s->off] == '\\'))
						return scan_fail_cut(s);
					if (s->len - s->off < 2 ||
					    s->p[s->off] != '\\' ||
					    s->p[s->off + 1] != 'u')
						return scan_fail_at(s,
						    s->off - 6, "lone UTF-16 "
						    "surrogate in a string");
					s->off += 2;
					if (scan_hex4(s, &lo) == -1)
						return -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return scan_fail_at(s,
						    s->off - 12, "lone UTF-16 "
						    "surrogate in a string");
				}
				/* A name with NUL names nothing either. */
				if (u >= 0x80 || u == 0)
					ascii = 0;
				c = (int)u;
			} else if (c == '"' || c == '\\' || c == '/' ||
			    c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
			    c == 't') {
				s->off++;
				c = c == 'b' ? '\b' : c == 'f' ? '\f' :
				    c == 'n' ? '\n' : c == 'r' ? '\r' :
				    c == 't' ? '\t' : c;
			} else
				return scan_fail(s, "bad escape in a string");
		} else if (c >= 0x80) {
			seq = utf8_seq_len(s->p + s->off, s->len - s->off);
			if (seq == 0 && utf8_cut((const unsigned char *)s->p +
			    s->off, s->len - s->off))
				return scan_fail_cut(s);
			if (seq == 0)
				return scan_fail(s,
				    "invalid UTF-8 in a string");
			s->off += seq;
			ascii = 0;
			continue;
		} else
			s->off++;
		if (key != NULL && n < CASSETTE_KEY_MAX - 1)
			key[n] = (char)c;
		n++;
	}
	s->off++;
	if (key != NULL) {
		if (!ascii || n >= CASSETTE_KEY_MAX)
			n = 0;
		key[n] = '\0';
	}
	return 0;
}

static int
scan_digits(struct cassette_scan *s)
{
	int	c = cassette_scan_peek(s);

	if (c < '0' || c > '9')
		return scan_fail(s, "bad number");
	while ((c = cassette_scan_peek(s)) >= '0' && c <= '9')
		s->off++;
	return 0;
}

/* Scan a number (RFC 8259 6). */
int
cassette_scan_number(struct cassette_scan *s)
{
	int	c;

	if (cassette_scan_peek(s) == '-')
		s->off++;
	if (cassette_scan_peek(s) == '0')
		s->off++;
	else if (scan_digits(s) == -1)
		return -1;
	if (cassette_scan_peek(s) == '.') {
		s->off++;
		if (scan_digits(s) == -1)
			return -1;
	}
	c = cassette_scan_peek(s);
	if (c == 'e' || c == 'E') {
		s->off++;
		c = cassette_scan_peek(s);
		if (c == '+' || c == '-')
			s->off++;
		if (scan_digits(s) == -1)
			return -1;
	}
	return 0;
}

static int
scan_literal(struct cassette_scan *s, const char *word)
{
	size_t	n = strlen(word);

	if (s->len - s->off < n && memcmp(s->p + s->off, word,
	    s->len - s->off) == 0)
		return scan_fail_cut(s);
	if (s->len - s->off < n || memcmp(s->p + s->off, word, n) != 0)
		return scan_fail(s, "expected a value");
	s->off += n;
	return 0;
}

/*
 * Strings the scanner has checked, read again by the fast decoder.
 */

/*
 * Step over the string at the current byte; set *raw and *rawlen to its
 * text between the quotes, escapes and all, and *esc when it has escapes.
 * The scanner has checked it.
 */
int
cassette_scan_raw(struct cassette_scan *s, const char **raw, size_t *rawlen,
    int *esc)
{
	const char	*p = s->p;
	size_t		 i = s->off + 1;
	uint64_t	 m;

	*esc = 0;
	if (cassette_scan_peek(s) != '"')
		return -1;
	for (;;) {
		if (s->len - i >= 8) {
			m = swar_is(load8(p + i), '"') |
			    swar_is(load8(p + i), '\\');
			if (m == 0) {
				i += 8;
				continue;
			}
			i += swar_first(m);
		}
		if (i >= s->len)
			return -1;
		if (p[i] == '"')
			break;
		if (p[i] == '\\') {
			/* The byte escaped is never the last one. */
			if (s->len - i < 2)
				return -1;
			*esc = 1;
			i++;
		}
		i++;
	}
	*raw = p + s->off + 1;
	*rawlen = i - s->off - 1;
	s->off = i + 1;
	return 0;
}

/*
 * Objects and arrays, and any value.
 */

/* Enter an object or array, refusing to go past CASSETTE_MAX_DEPTH. */
static int
scan_enter(struct cassette_scan *s)
{
	char	why[64];

	if (s->depth == CASSETTE_MAX_DEPTH) {
		snprintf(why, sizeof why, "nested deeper than %d levels",
		    CASSETTE_MAX_DEPTH);
		return scan_fail(s, why);
	}
	s->depth++;
	s->off++;
	cassette_scan_ws(s);
	return 0;
}

/*
 * Scan an object, handing each member's value to member; with marks set,
 * note where its members are.
 */
static int
scan_object(struct cassette_scan *s, scan_member_fn member,
    struct cassette_marks *marks)
{
	char	key[CASSETTE_KEY_MAX];
	size_t	start;
	int	rc;

	if (scan_enter(s) == -1)
		return -1;
	if (cassette_scan_peek(s) == '}') {
		s->off++;
		s->depth--;
		return 0;
	}
	for (;;) {
		if (cassette_scan_peek(s) != '"')
			return scan_fail(s,
			    "expected a string (a member name)");
		start = s->off;
		if (scan_string(s, key) == -1)
			return -1;
		cassette_scan_ws(s);
		if (cassette_scan_peek(s) != ':')
			return scan_fail(s, "expected ':'");
		s->off++;
		cassette_scan_ws(s);
		rc = member(s, key);
		if (rc == -1)
			return -1;
		if (marks != NULL) {
			if (rc == 1) {
				marks->start = start;
				marks->end = s->off;
			} else if (marks->end != 0 && marks->next == 0)
				marks->next = start;
			marks->last = s->off;
		}
		cassette_scan_ws(s);
		if (cassette_scan_peek(s) == '}')
			break;
		if (cassette_scan_peek(s) != ',')
			return scan_fail(s, "expected ',' or '}'");
		s->off++;
		cassette_scan_ws(s);
	}
	s->off++;
	s->depth--;
	return 0;
}

static int
scan_any_member(struct cassette_scan *s, const char *key)
{
	(void)key;
	return cassette_scan_value(s);
}

static int	scan_entry(struct cassette_scan *, size_t);

/* Scan an array; with entries set, hand each element to scan_entry. */
static int
scan_array(struct cassette_scan *s, int entries)
{
	size_t	i;

	/* Until an entry is seen, new ones go just after the "[". */
	if (entries) {
		s->insert_at = s->off + 1;
		s->in_entries = 1;
	}
	if (scan_enter(s) == -1)
		return -1;
	if (cassette_scan_peek(s) == ']') {
		s->off++;
		s->depth--;
		if (entries) {
			s->in_entries = 0;
			s->entries_end = s->off;
		}
		return 0;
	}
	for (i = 0;; i++) {
		if (entries) {
			if (scan_entry(s, i) == -1)
				return -1;
		} else if (cassette_scan_value(s) == -1)
			return -1;
		cassette_scan_ws(s);
		if (cassette_scan_peek(s) == ']')
			break;
		if (cassette_scan_peek(s) != ',')
			return scan_fail(s, "expected ',' or ']'");
		s->off++;
		cassette_scan_ws(s);
	}
	s->off++;
	s->depth--;
	if (entries) {
		s->in_entries = 0;
		s->entries_end = s->off;
	}
	return 0;
}

/* Scan any value. */
int
cassette_scan_value(struct cassette_scan *s)
{
	int	c = cassette_scan_peek(s);

	switch (c) {
	case '{':
		return scan_object(s, scan_any_member, NULL);
	case '[':
		return scan_array(s, 0);
	case '"':
		return scan_string(s, NULL);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return cassette_scan_number(s);
		return scan_fail(s, "expected a value");
	}
}

/*
 * The loader: the members of the document it looks for, and the entries.
 */

static void
scratch_free(struct cassette_scratch *sc)
{
	free(sc->p);
	sc->p = NULL;
	sc->cap = 0;
}

/* Load, decode and hand over entry i, which starts at the current byte. */
static int
scan_entry(struct cassette_scan *s, size_t i)
{
	struct exchange	 x;
	json_error_t	 err;
	json_t		*e;
	size_t		 start = s->off, k;
	char		*why = NULL, *msg;
	int		 rc;

	/* Where a cut would fall inside this entry; none before its "{". */
	s->cut_entry = s->off < s->len ? start : 0;
	if (cassette_scan_value(s) == -1)
		return -1;
	s->cut_entry = 0;
	if (s->p[start] != '{')
		return scan_fail_plain(s, xasprintf("entry %zu is not an "
		    "object", i));
	exchange_init(&x);
	rc = cassette_fast_entry(s->p + start, s->off - start, s->scratch, &x);
	/* Strings as long as the longest header would stay otherwise. */
	for (k = 0; k < sizeof s->scratch / sizeof s->scratch[0]; k++)
		if (s->scratch[k].cap > CASSETTE_SCRATCH_KEEP)
			scratch_free(&s->scratch[k]);
	if (rc == -1) {
		exchange_free(&x);
		/* NULs are allowed: strings are checked field by field. */
		e = json_loadb(s->p + start, s->off - start, JSON_ALLOW_NUL,
		    &err);
		if (e == NULL) {
			scan_fail_at(s, start + (size_t)(err.position > 0 ?
			    err.position - 1 : 0), err.text);
			msg = xasprintf("entry %zu: %s", i, s->cause);
			return scan_fail_plain(s, msg);
		}
		if (cassette_entry_decode(e, &x, &why) == -1) {
			json_decref(e);
			exchange_free(&x);
			msg = xasprintf("entry %zu: %s", i, why);
			free(why);
			return scan_fail_plain(s, msg);
		}
		json_decref(e);
	}
	s->nentries = i + 1;
	s->insert_at = s->off;
	if (s->fn == NULL)
		exchange_free(&x);
	else if (s->fn(&x, i, s->arg, &why) == -1) {
		if (why == NULL)
			why = xasprintf("entry %zu: refused", i);
		return scan_fail_plain(s, why);
	}
	return 0;
}

static int
scan_log_member(struct cassette_scan *s, const char *key)
{
	if (strcmp(key, "version") == 0) {
		if (s->version_seen++)
			return scan_fail(s, "log.version appears twice");
		if (cassette_scan_peek(s) != '"')
			return scan_fail_plain(s,
			    xstrdup("log.version is not a string"));
		return scan_string(s, NULL);
	}
	if (strcmp(key, "entries") == 0) {
		if (s->entries_seen++)
			return scan_fail(s, "log.entries appears twice");
		if (cassette_scan_peek(s) != '[')
			return scan_fail_plain(s,
			    xstrdup("log.entries is not an array"));
		return scan_array(s, 1) == -1 ? -1 : 1;
	}
	return cassette_scan_value(s);
}

static int
scan_top_member(struct cassette_scan *s, const char *key)
{
	if (strcmp(key, "log") != 0)
		return cassette_scan_value(s);
	if (s->log_seen++)
		return scan_fail(s, "\"log\" appears twice");
	if (cassette_scan_peek(s) != '{')
		return scan_fail_plain(s,
		    xstrdup("not a HAR file: \"log\" is not an object"));
	if (scan_object(s, scan_log_member, &s->log) == -1)
		return -1;
	if (!s->entries_seen)
		return scan_fail_plain(s, xstrdup("log.entries is missing"));
	return 1;
}

/*
 * Return nonzero when the walk failed at the end of the bytes with the
 * document cut off where an interrupted append cuts it: inside the
 * entries array, or after it with nothing but closing brackets and
 * whitespace, and after at least one complete entry (a recorder writes
 * the first entries of a session whole, by rename; see recorder.c).
 * Anything else cut off (the header, other members) is an error.
 */
static int
scan_is_cut(const struct cassette_scan *s)
{
	size_t	i;

	if (!s->eof || s->nentries == 0)
		return 0;
	if (s->in_entries)
		return 1;
	if (s->entries_end == 0)
		return 0;
	for (i = s->entries_end; i < s->len; i++)
		if (strchr(" \t\r\n}", s->p[i]) == NULL || s->p[i] == '\0')
			return 0;
	return 1;
}

/* Fill in where the entries are, and the document laid out again. */
static void
scan_layout(const struct cassette_scan *s, struct cassette_layout *l)
{
	const struct cassette_marks	*t = &s->top, *g = &s->log;
	struct cassette_span		*p = l->prefix, *q = l->tail;

	memset(l, 0, sizeof *l);
	l->insert_at = s->insert_at;
	l->nentries = s->nentries;
	if (s->cut) {
		l->cut = 1;
		l->cut_in_entry = s->cut_entry != 0;
		p[0].len = s->insert_at;
		return;
	}
	/*
	 * { [members after log] , "log": { [members after entries] ,
	 * "entries": [ ...  then  ] } }: each run of members keeps its
	 * bytes, and the separator before it goes after it.
	 */
	if (t->next == 0 && g->next == 0) {
		p[0].len = s->insert_at;
		q[0] = (struct cassette_span){ s->insert_at,
		    s->len - s->insert_at };
		return;
	}
	p[0].len = t->start;
	if (t->next != 0) {
		p[1] = (struct cassette_span){ t->next, t->last - t->next };
		p[2] = (struct cassette_span){ t->end, t->next - t->end };
	}
	p[3] = (struct cassette_span){ t->start, g->start - t->start };
	if (g->next != 0) {
		p[4] = (struct cassette_span){ g->next, g->last - g->next };
		p[5] = (struct cassette_span){ g->end, g->next - g->end };
	}
	p[6] = (struct cassette_span){ g->start, s->insert_at - g->start };
	q[0] = (struct cassette_span){ s->insert_at, g->end - s->insert_at };
	q[1] = (struct cassette_span){ g->last, t->end - g->last };
	q[2] = (struct cassette_span){ t->last, s->len - t->last };
}

/* Parse a cassette document. */
int
cassette_parse(const char *data, size_t len,
    int (*fn)(struct exchange *, size_t, void *, char **), void *arg,
    struct cassette_layout *layout, char **cause)
{
	struct cassette_scan	 s;
	size_t			 k;
	int			 rc = -1;

	memset(&s, 0, sizeof s);
	s.p = data;
	s.len = len;
	s.fn = fn;
	s.arg = arg;
	*cause = NULL;

	/* A byte order mark is not JSON, but editors write one. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		s.off = 3;
	cassette_scan_ws(&s);
	if (s.off == len) {
		*cause = xstrdup("the file is empty");
		return -1;
	}
	if (cassette_scan_peek(&s) != '{') {
		if (cassette_scan_value(&s) == -1)
			goto out;
		scan_fail_plain(&s, xstrdup("not a HAR file: the top-level "
		    "value is not an object"));
		goto out;
	}
	if (scan_object(&s, scan_top_member, &s.top) == -1) {
		/* Only a caller that is told of a cut gets one. */
		if (layout != NULL && scan_is_cut(&s)) {
			s.cut = 1;
			goto done;
		}
		goto out;
	}
	cassette_scan_ws(&s);
	if (s.off != len) {
		scan_fail(&s, "unexpected text after the end of the document");
		goto out;
	}
	if (!s.log_seen) {
		scan_fail_plain(&s, xstrdup("not a HAR file: the top-level "
		    "object has no \"log\""));
		goto out;
	}
done:
	if (layout != NULL)
		scan_layout(&s, layout);
	rc = 0;
out:
	for (k = 0; k < sizeof s.scratch / sizeof s.scratch[0]; k++)
		scratch_free(&s.scratch[k]);
	if (rc == -1)
		*cause = s.cause;
	else
		free(s.cause);
	return rc;
}
