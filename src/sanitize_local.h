/*
 * sanitize_local: what the files of the sanitize module share, and
 * nothing else includes. sanitize.c walks the HAR document and its
 * places; sanitize_body.c redacts bodies and counts queries and forms;
 * sanitize_splice.c writes the changed values back into the original
 * text; sanitize_text.c counts and says what was redacted. Callers use
 * sanitize.h.
 */
#ifndef PATCHSCOPE_SANITIZE_LOCAL_H
#define PATCHSCOPE_SANITIZE_LOCAL_H

#include <stddef.h>

#include "sanitize.h"

struct buf;
struct json_t;
struct redact_set;
struct redactor;

/* One pass over a document: where it is, what it found and counted. */
struct sanitize_walk {
	const struct redactor	*r;
	struct redact_set	*secrets;	/* values replaced, to scrub */
	struct sanitize_report	*rep;
	char			*cause;		/* the first error, or NULL */
	size_t			 entry;		/* its index in log.entries */
	/*
	 * A query's fields are in the URL and in queryString, a form's in
	 * the body and in postData.params: each side is counted apart and
	 * the larger count of each name goes to the report at the entry's
	 * end, so a field is counted once.
	 */
	struct sanitize_tally	 q_url, q_list, f_text, f_list;
};

/* sanitize_text.c */

/* Add count values of this name (len bytes; NULL: no name) to t. */
void	sanitize_tally_add(struct sanitize_tally *t, const char *name,
	    size_t len, size_t count);
/* Free the names of t; it is zeroed. */
void	sanitize_tally_free(struct sanitize_tally *t);
/*
 * Add to "to" the larger count of each name of a and b (a field
 * seen in two places of one entry is counted once), then free a and b.
 */
void	sanitize_tally_merge(struct sanitize_tally *to,
	    struct sanitize_tally *a, struct sanitize_tally *b);

/* sanitize_body.c */

/*
 * Count into t the fields of a query or form body (len bytes, no '?')
 * that redaction marks, and note their values (percent-decoded and as
 * written) as secrets. Return how many there are.
 */
size_t	sanitize_query_scan(struct sanitize_walk *, const char *q,
	    size_t len, struct sanitize_tally *t);
/*
 * Redact a body of len bytes given its type (ct, NULL when unknown) as
 * record does: JSON by key (in place: its other bytes kept), a form by
 * field; count what was redacted and note the values. Return 1 with the
 * new body in out, else 0 (out untouched).
 */
int	sanitize_body(struct sanitize_walk *, const char *ct,
	    const char *body, size_t len, struct buf *out);
/* Decode strict base64 (padded, no blanks) into out; -1 when it is not. */
int	sanitize_b64_decode(const char *s, size_t len, struct buf *out);
/* Append the base64 of len bytes of p to out. */
void	sanitize_b64_encode(const unsigned char *p, size_t len,
	    struct buf *out);

/* sanitize_splice.c */

/*
 * Write text (len bytes, the JSON that a was parsed from) into out with
 * each scalar where b differs from a replaced by b's JSON text; every
 * other byte is copied. a and b have the same containers and keys in the
 * same order (only scalars differ). Set *changed when one did. Return 0,
 * or -1 when the text does not follow a (out is then unusable).
 */
int	sanitize_splice(const char *text, size_t len, struct json_t *a,
	    struct json_t *b, struct buf *out, int *changed);

#endif
