/*
 * diff: two cassettes' exchanges aligned by request, and what changed
 * between each aligned pair. Pure: exchanges in, plain structs and jansson
 * values out; the diff command (cmd_diff.c) loads the files and prints.
 *
 * Alignment: a request's key is its method and URL with the query
 * order-free (fields sorted, a redaction marker's hash left out, so that
 * two credentials do not split a pair); the k-th entry of a key in A pairs
 * with the k-th in B, the rest are only in A or only in B. When each
 * cassette talks to one origin and the two origins differ (two recordings
 * of the same test against servers on other ports), keys leave the origin
 * out, as replay does, and the report names both origins.
 */
#ifndef PATCHSCOPE_DIFF_H
#define PATCHSCOPE_DIFF_H

#include <stddef.h>

struct buf;
struct exchange;
struct json_t;

/* An index that is not there: the entry is only in the other cassette. */
#define DIFF_NONE	((size_t)-1)

/* One line of the report: a pair, or an entry of one cassette only. */
struct diff_item {
	size_t		 a;		/* index in A, or DIFF_NONE */
	size_t		 b;		/* index in B, or DIFF_NONE */
	/* A pair that differs: its "changed" object (diff_pair); else NULL */
	struct json_t	*change;
};

struct diff_report {
	/*
	 * Every entry of A and B once, in reading order: A's order, each
	 * entry only in B just before the first pair whose B index is
	 * greater than its own (else at the end).
	 */
	struct diff_item	*v;
	size_t			 n;
	/* Both set when the origins differ and keys left them out. */
	char			*origin_a;
	char			*origin_b;
	/* Pairs with no difference, pairs that differ, entries of one only. */
	size_t			 same;
	size_t			 changed;
	size_t			 only_a;
	size_t			 only_b;
};

/* One cassette as the report shows it. */
struct diff_side {
	const char		*name;	/* as the user named it */
	const struct exchange	*v;
	size_t			 n;
};

/*
 * Align a (na exchanges) with b (nb) and compare every pair into r.
 * Free with diff_report_free.
 */
void	diff_report_build(struct diff_report *r, const struct exchange *a,
	    size_t na, const struct exchange *b, size_t nb);
/* Free what a report holds; it is empty afterwards. */
void	diff_report_free(struct diff_report *);
/* Return nonzero when the report holds no difference at all. */
int	diff_report_same(const struct diff_report *);
/*
 * Return the --json document of a report (a new reference): {"a", "b"
 * (the names given), "same", "origin"?, "only_a", "only_b", "changed",
 * "counts"}, as patchscope(1) documents it.
 */
struct json_t *diff_report_json(const struct diff_report *,
	    const struct exchange *a, const struct exchange *b,
	    const char *name_a, const char *name_b);

/*
 * Append the report for a person: "A: NAME (N entries)", "B: ...", the
 * origins when they differ, a line per entry only in A ("- METHOD URL (A
 * #i): STATUS") or only in B ("+ ..."), per changed pair "~ METHOD URL (A
 * #i, B #j)" and an indented line per difference, and a last line of
 * counts ("same: ..." or "different: ..."). Strings from the cassettes
 * are escaped and cut as diff_text_put does.
 */
void	diff_report_text(struct buf *, const struct diff_report *,
	    const struct diff_side *a, const struct diff_side *b);
/*
 * Append the --json document as indented JSON of printable ASCII and a
 * newline. Return 0, or -1 when it cannot be encoded.
 */
int	diff_json_text(struct buf *, const struct json_t *doc);
/*
 * Append len bytes of s for a terminal: each control character (C0, DEL,
 * C1) and each byte that is not UTF-8 as \xNN or \uNNNN, and "..." in
 * place of what is past max characters.
 */
void	diff_text_put(struct buf *, const char *s, size_t len, size_t max);

/*
 * Return the alignment key of x (caller frees): method, a space, and the
 * URL with its query sorted and redaction markers' hashes left out; the
 * origin (scheme://host:port) only when with_origin is nonzero.
 */
char	*diff_key(const struct exchange *x, int with_origin);
/*
 * Compare two exchanges. Return NULL when nothing that matters differs,
 * else the "changed" object (a new reference) with "a_index" and
 * "b_index" set to ai and bi.
 */
struct json_t *diff_pair(const struct exchange *a, const struct exchange *b,
	    size_t ai, size_t bi);

#endif
