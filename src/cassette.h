/*
 * cassette: HAR 1.2 encoding and decoding of exchanges, and the cassette
 * loader. Pure: bytes and jansson values in and out; reading the file and
 * writing it safely are the caller's (main.c, recorder.c).
 *
 * A cassette is a HAR document {"log": {"version", "creator", "entries":
 * [...]}}. patchscope's own data rides in "_"-prefixed fields (HAR 1.2
 * allows them): see docs/cassette.md for every one.
 */
#ifndef PATCHSCOPE_CASSETTE_H
#define PATCHSCOPE_CASSETTE_H

#include <stddef.h>

struct buf;
struct exchange;
struct json_t;

/* Deepest nesting a cassette may have; deeper is refused. */
#define CASSETTE_MAX_DEPTH	64

/*
 * Return the HAR entry of an exchange (a new reference): request, response,
 * timings and "_" extras. Text bodies go in as text; bodies that are not
 * valid UTF-8 (or hold NUL) go in base64 ("encoding": "base64" on the
 * response content, "_encoding": "base64" on the request's postData). It
 * is cassette_entry_write's text, parsed.
 */
struct json_t *cassette_entry_encode(const struct exchange *);
/*
 * Fill x (initialised by the caller) from a HAR entry. Return 0, or -1 with
 * *cause set (caller frees) naming the field and what is wrong with it
 * ("response.status is missing", "request.url is not an absolute http or
 * https URL").
 */
int	cassette_entry_decode(const struct json_t *, struct exchange *x,
	    char **cause);

/* A byte range of a document. */
struct cassette_span {
	size_t	off;
	size_t	len;
};

#define CASSETTE_PREFIX_SPANS	7
#define CASSETTE_TAIL_SPANS	3

/* Where a document keeps its entries, found by cassette_parse. */
struct cassette_layout {
	size_t	insert_at;	/* byte offset where a new entry goes: just
				   after the last entry, or just after "["
				   when the array is empty */
	size_t	nentries;
	/*
	 * The document laid out again so that nothing but closing brackets
	 * and whitespace follows the entries: members after log.entries
	 * (in log) and after log (at the top) move, bytes unchanged, to just
	 * before it. The bytes of prefix, then new entries, then those of
	 * tail make the whole document with the entries added at the end.
	 * Spans may be empty; with no such members, prefix is [0, insert_at)
	 * and tail the rest.
	 */
	struct cassette_span prefix[CASSETTE_PREFIX_SPANS];
	struct cassette_span tail[CASSETTE_TAIL_SPANS];
	/*
	 * Set when the document was cut off inside its entries array (or in
	 * the closing brackets after it), as an interrupted append leaves
	 * it: the nentries complete entries before the cut are the
	 * document's, prefix is [0, insert_at) and tail is empty (see
	 * cassette_closing). cut_in_entry: the cut is inside entry nentries.
	 */
	int	cut;
	int	cut_in_entry;
};

/*
 * Parse a whole cassette document of len bytes, calling fn for each entry
 * in order with the decoded exchange (fn takes it over: it must free it or
 * keep it) and its index. Entries are parsed one at a time, so memory does
 * not grow with the document beyond the exchanges fn keeps. Return 0 and
 * fill *layout (may be NULL), or -1 with *cause set (caller frees) to one
 * line naming the place (line and column or entry number) and the reason:
 * not JSON, not a HAR log, too deeply nested, an entry missing fields. fn
 * returning -1 (with *cause set) stops the parse with that error.
 * A document cut off after at least one complete entry, inside the entries
 * array or in the closing brackets after it (a recording interrupted
 * mid-write), is taken with the entries before the cut and layout->cut
 * set (the caller warns: cassette_cut_message); with layout NULL it is an
 * error, as any other cut or damage is.
 */
int	cassette_parse(const char *data, size_t len,
	    int (*fn)(struct exchange *, size_t index, void *arg, char **cause),
	    void *arg, struct cassette_layout *layout, char **cause);

/*
 * Return one line saying where a cut document ends and which entries are
 * used (layout->cut set; caller frees).
 */
char	*cassette_cut_message(const struct cassette_layout *);
/* Append the bytes that close a cassette after its last entry. */
void	cassette_closing(struct buf *out);

/* Write the text of a new, empty cassette and where its entries go. */
void	cassette_empty(struct buf *out, const char *version,
	    struct cassette_layout *layout);
/*
 * Append an entry's text as it goes into a cassette at insert_at: indented
 * to sit in the entries array, preceded by "\n" when it is the first entry
 * of the array and by ",\n" otherwise, with no trailing newline.
 */
void	cassette_entry_text(const struct json_t *entry, int first,
	    struct buf *out);
/*
 * The same for an exchange, written straight from it (no jansson tree):
 * cassette_entry_text(cassette_entry_encode(x)) gives the same bytes.
 */
void	cassette_entry_write(const struct exchange *, int first,
	    struct buf *out);

#endif
