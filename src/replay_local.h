/*
 * replay_local: what the files of the replay module share, and nothing
 * else includes. replay.c is the index and the matching; replay_miss.c
 * reports what did not match: the nearest entry to a missed request, with
 * each difference, and the end-of-run report; replay_session.c keeps the
 * sequence positions of each --session-header session. Callers use
 * replay.h.
 *
 * The index's arrays and tables are described at the top of replay.c.
 */
#ifndef PATCHSCOPE_REPLAY_LOCAL_H
#define PATCHSCOPE_REPLAY_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "uri.h"

struct arena;
struct exchange;
struct json_t;

#define RP_NONE			((size_t)-1)

/* A hash table of indexes into one of the index's arrays. */
struct rp_slot {
	uint64_t	 hash;
	size_t		 val;		/* array index + 1; 0: empty slot */
};

struct rp_table {
	struct rp_slot	*slot;
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 n;
};

struct rp_origin {
	char	*text;		/* "https://host:443", "" when none */
	char	*host;		/* lower case, IPv6 without brackets */
	int	 port;
};

/*
 * Entry numbers in order: most lists hold one, kept in place with no
 * allocation (v is NULL while n <= 1). Read them with rp_at.
 */
struct rp_nums {
	size_t	 one;
	size_t	*v;
	size_t	 n;
	size_t	 cap;
};

static inline size_t
rp_at(const struct rp_nums *l, size_t i)
{
	return l->v != NULL ? l->v[i] : l->one;
}

/* The entries of one group that share an origin, in entry order. */
struct rp_seq {
	size_t		 group;
	size_t		 origin;
	size_t		 next;	/* the group's next sequence, or RP_NONE */
	struct rp_nums	 entries;
	size_t		 served;
};

struct rp_group {
	char		*key;		/* loose key without the body */
	size_t		 keylen;
	uint64_t	 body_hash;
	size_t		 first;		/* its sequences, in order of origin */
	size_t		 last;
};

/* The entries with one method and path, or one path, in entry order. */
struct rp_list {
	char		*key;
	size_t		 keylen;
	struct rp_nums	 entries;
};

struct rp_entry {
	struct exchange		*x;
	size_t			 seq;
	int			 served;
	struct replay_answer	*answer;	/* built when first served */
};

struct rp_miss {
	char	*method;
	char	*url;
	char	*session;	/* the session header's value, or NULL */
	size_t	 nearest;
};

/* How far one session has gone in one sequence. */
struct rp_pos {
	size_t	 seq;
	size_t	 served;
};

/*
 * A session: one value of the --session-header header, with its own
 * position in each sequence it has used. Sessions sit in an array whose
 * slots are reused; a free slot has no value. prev and next link the
 * sessions in use from the most to the least recently used, and the free
 * slots (next only).
 */
struct rp_session {
	char		*value;		/* NUL-terminated; NULL: a free slot */
	size_t		 len;
	uint64_t	 hash;
	struct rp_pos	*pos;
	size_t		 npos;
	size_t		 cappos;
	struct rp_table	 t_pos;		/* sequence -> pos */
	size_t		 prev;
	size_t		 next;
};

/* The sessions of an index (replay_session.c); all zero when off. */
struct rp_sessions {
	char		 *header;	/* NULL: one shared position */
	size_t		  max;		/* sessions kept at most */
	struct rp_session *v;
	size_t		  n;		/* slots made */
	size_t		  cap;
	size_t		  live;		/* slots in use */
	struct rp_table	  t;		/* value -> slot */
	size_t		  first;	/* most recently used, or RP_NONE */
	size_t		  last;		/* least recently used, or RP_NONE */
	size_t		  free;		/* a free slot, or RP_NONE */
	size_t		  npos;		/* positions in all sessions */
	size_t		  seen;		/* sessions begun */
	size_t		  forgotten;	/* sessions dropped to make room */
};

struct replay_index {
	struct arena	 *arena;	/* the entries, the keys */
	char		**headers;	/* match header names */
	size_t		  nheaders;

	struct rp_entry	 *entries;
	size_t		  n;
	size_t		  cap;
	size_t		  nserved;	/* entries served at least once */
	size_t		  nunanswered;	/* entries with no response (status
					   0: a reset, a hang): never matched,
					   never listed as unused */

	struct rp_group	 *groups;
	size_t		  ngroups;
	size_t		  capgroups;
	struct rp_seq	 *seqs;
	size_t		  nseqs;
	size_t		  capseqs;
	struct rp_origin *origins;
	size_t		  norigins;
	size_t		  caporigins;
	struct rp_list	 *lists;
	size_t		  nlists;
	size_t		  caplists;

	struct rp_table	  t_group;	/* loose key -> group */
	struct rp_table	  t_origin;	/* origin text -> origin */
	struct rp_table	  t_seq;	/* (group, origin) -> sequence */
	struct rp_table	  t_mpath;	/* method and path -> list */
	struct rp_table	  t_path;	/* path -> list */

	struct buf	  scratch;	/* keys being looked up */

	struct rp_miss	 *misses;
	size_t		  nmisses;	/* kept */
	size_t		  capmisses;
	size_t		  misses_total;

	struct rp_sessions sessions;
};

/* The parts of a request that matching compares. */
struct rp_req {
	const char	*method;
	const char	*url;
	char		*scheme;	/* NULL when the URL names no origin */
	char		*host;
	int		 port;
	char		*origin;	/* "scheme://host:port", or "" */
	const char	*path;		/* in url (or a static "/") */
	size_t		 pathlen;
	struct uri_query query;		/* decoded, sorted ('+': space) */
	char		**hvals;	/* per match header; NULL: absent */
	size_t		 nhvals;
	const char	*body;		/* canonical body */
	size_t		 bodylen;
	char		*body_owned;	/* body, when it was re-dumped */
	struct json_t	*doc;		/* the body parsed, when JSON */
	size_t		 rawlen;	/* the body's bytes as sent */
	uint64_t	 body_hash;
};

/* replay.c */

/* Make room for element n of an array of *cap elements of size bytes. */
void	*replay_grow(void *v, size_t *cap, size_t n, size_t size);
/* Spread a hash's bits over its low end (which picks a table slot). */
uint64_t replay_mix(uint64_t h);
/*
 * Find the value whose hash is h and that eq_cb accepts in a table;
 * return RP_NONE when there is none.
 */
size_t	replay_table_find(const struct rp_table *, uint64_t h,
	    int (*eq_cb)(const void *, size_t), const void *ctx);
/* Add a value (not already there). */
void	replay_table_put(struct rp_table *, uint64_t h, size_t v);
/* Free a table's slots and empty it. */
void	replay_table_free(struct rp_table *);

/*
 * Reduce x's request to the parts matching compares, into *r (which may
 * point into x: x must outlive it). Free with replay_req_free.
 */
void	replay_req_parse(const struct replay_index *,
	    const struct exchange *x, struct rp_req *r);
/* Free what r holds and zero it. */
void	replay_req_free(struct rp_req *r);
/*
 * Return the list of entries with r's method and path (with_method) or
 * with its path alone, or NULL when there are none.
 */
const struct rp_list *replay_list_find(const struct replay_index *,
	    const struct rp_req *r, int with_method);

/* replay_session.c */

/*
 * Return the session value of req: its first --session-header header,
 * or NULL for the shared default session (no header, an empty value, a
 * value longer than REPLAY_SESSION_VALUE_MAX, or sessions off).
 */
const char *replay_session_value(const struct replay_index *,
	    const struct exchange *req);
/*
 * Return where the session of *value (NULL: the default) stands in
 * sequence si: the session is begun or marked most recently used, the
 * least recently used ones forgotten past the limits (*forgot set to
 * how many), and *value set to the session's own copy. The pointers are
 * valid until the next call.
 */
size_t	*replay_session_served(struct replay_index *, const char **value,
	    size_t si, size_t *forgot);
/* Free the sessions. */
void	replay_sessions_free(struct rp_sessions *);

/* replay_miss.c */

/*
 * Return the recorded entry nearest to r: among those with its method and
 * path, else its path, else all; the fewest differences, then the
 * earliest. RP_NONE when the cassette is empty.
 */
size_t	replay_miss_nearest(const struct replay_index *,
	    const struct rp_req *r, int origin_form);

#endif
