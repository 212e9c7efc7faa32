/*
 * cassette_local: what the four files of the cassette module share, and
 * nothing else includes. cassette.c encodes exchanges into HAR entries and
 * lays out the text of a cassette; cassette_decode.c decodes an entry from
 * a jansson tree, naming what is wrong with it; cassette_scan.c is the
 * loader: a byte scanner that checks a whole document and hands each entry
 * to cassette_fast.c, the fast decoder, or else to cassette_decode.c.
 * Callers use cassette.h.
 */
#ifndef PATCHSCOPE_CASSETTE_LOCAL_H
#define PATCHSCOPE_CASSETTE_LOCAL_H

#include <stddef.h>

struct exchange;

/* cassette_decode.c */

/*
 * Decode base64 into a new buffer of *outlen bytes plus a NUL (caller
 * frees). Padding may be left out; anything else outside the alphabet is
 * refused. Return NULL when s is not base64.
 */
char	*cassette_decode_b64(const char *s, size_t len, size_t *outlen);
/* Return nonzero when s is a non-empty HTTP token (RFC 9110 5.6.2). */
int	 cassette_decode_token_ok(const char *s, size_t len);
/* Return nonzero when url is an absolute http or https URL. */
int	 cassette_decode_url_ok(const char *url);

/* cassette_scan.c */

/* A buffer that strings are decoded into, one after the other. */
struct cassette_scratch {
	char	*p;
	size_t	 cap;
};

/*
 * Where the members of one object are, for the object that holds the
 * entries (log, at the top; entries, in log): the member that leads to
 * the entries (its name's first byte and the end of its value), the
 * first member after it (0 when none) and the end of the last member.
 */
struct cassette_marks {
	size_t	start;
	size_t	end;
	size_t	next;
	size_t	last;
};

/*
 * A walk over the bytes of a document (or of one entry, for the fast
 * decoder). Each scan function starts on the first byte of what it reads
 * (whitespace already skipped) and stops just past its end.
 */
struct cassette_scan {
	const char	*p;
	size_t		 len;
	size_t		 off;
	int		 depth;
	char		*cause;

	/* What the walk found. */
	int		 log_seen;
	int		 version_seen;
	int		 entries_seen;
	size_t		 nentries;
	size_t		 insert_at;
	struct cassette_marks top;	/* the top object's, about "log" */
	struct cassette_marks log;	/* log's, about "entries" */
	int		 eof;		/* the walk failed at the end of the
					   bytes: more could have made sense */
	int		 in_entries;	/* the walk is inside log.entries */
	size_t		 entries_end;	/* just past its "]", once seen */
	size_t		 cut_entry;	/* where the entry being read begins,
					   or 0 between entries */
	int		 cut;		/* the document was found cut off */

	int		(*fn)(struct exchange *, size_t, void *, char **);
	void		*arg;

	/* The fast decoder's: member names, pair names, other strings. */
	struct cassette_scratch	 scratch[3];
};

/* Return the current byte, or -1 at the end. */
static inline int
cassette_scan_peek(const struct cassette_scan *s)
{
	if (s->off >= s->len)
		return -1;
	return (unsigned char)s->p[s->off];
}

/* Step over whitespace. */
void	cassette_scan_ws(struct cassette_scan *s);
/* Scan any value; return 0, or -1 with s->cause set. */
int	cassette_scan_value(struct cassette_scan *s);
/* Scan a number (RFC 8259 6); return 0, or -1 with s->cause set. */
int	cassette_scan_number(struct cassette_scan *s);
/*
 * Step over the string at the current byte; set *raw and *rawlen to its
 * text between the quotes, escapes and all, and *esc when it has escapes.
 * The scanner has checked it. Return -1 when there is no string there.
 */
int	cassette_scan_raw(struct cassette_scan *s, const char **raw,
	    size_t *rawlen, int *esc);

/* cassette_fast.c */

/*
 * Decode the entry in [p, p + len), checked by the scanner, into x (empty)
 * with the three scratch buffers sc. Return 0, or -1 when it is not
 * handled (decode it with cassette_entry_decode): x may then hold part of
 * the entry.
 */
int	cassette_fast_entry(const char *p, size_t len,
	    struct cassette_scratch *sc, struct exchange *x);

#endif
