/*
 * fault: the --fault specs, 'MATCH=KIND[:ARG][,times=N|,every=N|,rate=P]'.
 * Pure: parsing (errors that name the place), path globs, and which
 * request gets which fault (per-spec counters, a small seeded generator
 * for rate). What each kind does to a connection is fault_serve.c's.
 */
#ifndef PATCHSCOPE_FAULT_H
#define PATCHSCOPE_FAULT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define FAULT_SPEC_MAX		1024	/* bytes of one spec */
#define FAULT_MAX_MS		86400000u	/* latency: one day */
#define FAULT_MAX_RETRY_AFTER	86400u	/* seconds */

enum fault_kind {
	FAULT_LATENCY,		/* the request waits MS ms, then goes on */
	FAULT_STATUS,		/* patchscope answers CODE itself */
	FAULT_RESET,		/* the connection is reset, nothing answered */
	FAULT_TRUNCATE,		/* the answer's body is cut about half way */
	FAULT_HANG,		/* nothing is ever answered */
	FAULT_DROP_RESPONSE	/* handled (sent, or served), answer lost */
};

/* Which of the requests a spec matches it applies to. */
enum fault_select {
	FAULT_ALL,		/* every one */
	FAULT_TIMES,		/* the first n */
	FAULT_EVERY,		/* the nth, 2nth, ... */
	FAULT_RATE		/* each with probability rate */
};

struct fault_spec {
	char		*text;		/* as given */
	char		*method;	/* NULL: any method */
	char		*glob;		/* against the path, no query */
	enum fault_kind	 kind;
	unsigned	 ms;		/* latency */
	int		 status;	/* status: the code */
	long		 retry_after;	/* status: seconds, -1: none */
	char		*canon;		/* KIND[:ARG] in canonical form:
					   "status:503:retry-after=2" */
	enum fault_select select;
	uint64_t	 n;		/* times, every */
	double		 rate;		/* rate: 0..1 */
	uint64_t	 matched;	/* requests matched so far */
	uint64_t	 rng;		/* rate: the generator's state */
};

struct fault_set {
	struct fault_spec *v;
	size_t		 n;
	uint64_t	 seed;
};

/*
 * Parse one spec into *spec (its own strings; free with fault_spec_free).
 * Return 0, or -1 with *cause (caller frees) saying what is wrong and at
 * which column (1-based), e.g. 'unknown kind "stat" at column 10 (known:
 * latency, status, reset, truncate, hang, drop-response)'.
 */
int	fault_spec_parse(const char *text, struct fault_spec *spec,
	    char **cause);
/* Free what a parsed spec holds. */
void	fault_spec_free(struct fault_spec *);

/* Start an empty set whose rate choices follow seed. */
void	fault_set_init(struct fault_set *, uint64_t seed);
/* Parse and append a spec; -1 with *cause as fault_spec_parse. */
int	fault_set_add(struct fault_set *, const char *text, char **cause);
/* Free every spec of the set; it is empty afterwards. */
void	fault_set_free(struct fault_set *);
/*
 * Choose the fault of a request: the first spec whose method and glob
 * match decides (its counter moves on); return it when its selection
 * takes this request, else NULL. target: the request target, whose query
 * is not matched; method: its method as sent ("PATCH").
 */
const struct fault_spec *fault_set_pick(struct fault_set *,
	    const char *method, const char *target);

/* Return nonzero when glob matches the len bytes of s ('*', '?'). */
int	fault_glob_match(const char *glob, const char *s, size_t len);
/* Step a splitmix64 generator; return its next value. */
uint64_t fault_rng_next(uint64_t *state);

/*
 * Append the body of a status fault's answer, in the API's error shape
 * ({"type": "PatchscopeFault", "code": "patchscope_fault", "message",
 * "status": "SERVICE_UNAVAILABLE", "errors": [], "httpStatusCode"}).
 */
void	fault_status_body(const struct fault_spec *, struct buf *out);

#endif
