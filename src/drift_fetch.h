/*
 * drift_fetch: one request to a live origin and its answer, for drift.
 * The shell under cmd_drift.c: patchscope's upstream code connects (DNS,
 * TLS with the origins' context and the name checked), llhttp reads the
 * answer, all on the caller's libevent loop, one request at a time.
 */
#ifndef PATCHSCOPE_DRIFT_FETCH_H
#define PATCHSCOPE_DRIFT_FETCH_H

#include <stddef.h>

struct buf;
struct drift_answer;
struct event_base;
struct http_url;
struct upstream_pool;

/* Where and how long drift_fetch may wait. */
struct drift_fetch_conf {
	struct event_base	*base;
	struct upstream_pool	*pool;		/* connects (no reuse) */
	unsigned		 connect_ms;	/* --connect-timeout */
	unsigned		 response_ms;	/* --response-timeout: for the
						   answer, and between its
						   bytes */
	size_t			 max_body;	/* body bytes kept; past it the
						   answer is cut (truncated) */
};

/*
 * Send request (a serialized head and body) to the origin of u, with TLS
 * for https, and read one answer into a (empty; the caller frees it with
 * drift_answer_free, also on failure). Runs conf->base's loop until the
 * answer is in. Return 0, or -1 with *cause set (caller frees) to one
 * line naming the origin and what failed: the name, the connection, the
 * TLS handshake or certificate, a timeout, an answer that is not HTTP.
 */
int	drift_fetch(const struct drift_fetch_conf *, const struct http_url *u,
	    const char *method, const struct buf *request,
	    struct drift_answer *a, char **cause);

#endif
