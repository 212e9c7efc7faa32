/*
 * replay: the index of a cassette's exchanges and the matching of live
 * requests against it. Pure: exchanges and jansson values in and out.
 *
 * Matching (docs/cassette.md): method, scheme, host, port, path, query
 * (order-free: parameters compared as a sorted list), body (JSON compared as
 * JSON, else bytes) and any --match-header headers. Requests are redacted
 * before they are indexed or matched, so a credential matches by its marker.
 * Identical requests (the same full key) get their recorded responses in
 * recorded order; after the last, the last repeats.
 *
 * With a session header (replay_set_session_header), each value of that
 * request header has its own position in every sequence, so parallel
 * test workers each get the recorded order; requests without it share
 * the default position. An entry is used when any session used it.
 *
 * An origin-form request (sent straight to replay, as a base URL) has no
 * scheme, host or port of its own: it matches on the rest, and when the
 * cassette holds several origins its Host header picks among them.
 */
#ifndef PATCHSCOPE_REPLAY_H
#define PATCHSCOPE_REPLAY_H

#include <stddef.h>

struct buf;
struct exchange;
struct json_t;
struct replay_index;

/* Return an empty index; match_headers (n names, copied) are compared too. */
struct replay_index *replay_new(const char *const *match_headers, size_t n);
/* Free the index and every exchange it holds (NULL is fine). */
void	replay_free(struct replay_index *);
/*
 * Add an exchange (already redacted) as the next entry; the index takes it
 * over (the struct's contents are moved and x is left empty). Return its
 * entry number (0-based, in the order added).
 */
size_t	replay_add(struct replay_index *, struct exchange *x);
#define REPLAY_SESSIONS_MAX	4096	/* sessions kept (the default) */
#define REPLAY_SESSION_VALUE_MAX 256	/* bytes of a session header value */

/*
 * Keep sequence positions per value of the request header name (copied),
 * for at most max sessions: past it the least recently used session is
 * forgotten (its next request starts its sequences again). Values longer
 * than REPLAY_SESSION_VALUE_MAX bytes are the caller's to refuse; here
 * they count as no value. Call before the first match.
 */
void	replay_set_session_header(struct replay_index *, const char *name,
	    size_t max);
/* Return how many sessions were forgotten to make room, in all. */
size_t	replay_sessions_forgotten(const struct replay_index *);

/* Return the number of entries. */
size_t	replay_count(const struct replay_index *);
/* Return entry i (0-based), or NULL. */
const struct exchange *replay_entry(const struct replay_index *, size_t i);

/* A recorded answer serialized once (replay_answer.c). */
struct replay_answer {
	char	*head;		/* the status line and the headers as sent,
				   Content-Length set, no blank line */
	size_t	 headlen;
	int	 json;		/* its Content-Type names JSON */
	int	 encoded;	/* it has a Content-Encoding */
};

/* The outcome of a lookup. */
struct replay_hit {
	const struct exchange	*x;	/* the recorded exchange to answer */
	size_t			 entry;	/* its entry number */
	size_t			 nth;	/* 1-based place in its sequence */
	size_t			 of;	/* length of the sequence */
	const struct replay_answer *answer; /* x's, prebuilt */
	const char		*session; /* the session's value, NULL for the
					     default; valid until the next
					     match */
	size_t			 forgotten; /* sessions this match forgot */
};

/* The longest tail replay_answer_tail writes, with its connection value. */
#define REPLAY_TAIL_MAX		256

/*
 * Append the head of x's answer as replay sends it, without its blank
 * line: the status line, the recorded headers less hop-by-hop ones, and
 * with_length, Content-Length of the body. Fill a's json and encoded when
 * a is not NULL.
 */
void	replay_answer_head(const struct exchange *x, int with_length,
	    struct buf *out, struct replay_answer *a);
/* Return x's answer, its head built with Content-Length; the caller owns
 * it (replay_answer_free). */
struct replay_answer *replay_answer_new(const struct exchange *x);
void	replay_answer_free(struct replay_answer *);
/*
 * Write the end of a hit's head into out (REPLAY_TAIL_MAX bytes, with a
 * connection value up to 16 bytes): the X-Patchscope-Replay headers,
 * Connection when not NULL, and the blank line. Return its length.
 */
size_t	replay_answer_tail(char *out, const struct replay_hit *hit,
	    const char *connection);

/*
 * Find the answer for a live request (already redacted the same way; only
 * its request part is read). origin_form: the request named no scheme,
 * host or port (its Host header, if any, picks among several origins).
 * Return 0 and fill *hit, advancing that sequence; or -1 on a miss (which
 * is remembered for replay_report). O(1) in the number of entries.
 */
int	replay_match(struct replay_index *, const struct exchange *req,
	    int origin_form, struct replay_hit *hit);
/*
 * Return the body of a miss answer (a new reference): the request as
 * received, the nearest recorded request and each difference: method,
 * origin, path, a query parameter by name, a header, or a body field by
 * JSON Pointer, each with the recorded and the received value; with a
 * session header, the request's "session" (null: the default).
 */
struct json_t *replay_miss_report(const struct replay_index *,
	    const struct exchange *req, int origin_form);
/*
 * Return the end-of-run report (a new reference): {"entries", "served",
 * "unused": [{entry, method, url}...], "misses": [{method, url,
 * nearest}...]}; with a session header, each miss has its "session" and
 * "sessions" is {"header", "begun", "kept", "forgotten", "max"}.
 */
struct json_t *replay_report(const struct replay_index *);
/* Return nonzero when some entry was never served or some request missed. */
int	replay_stale(const struct replay_index *);

#endif
