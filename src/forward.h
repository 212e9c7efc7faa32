/*
 * forward: what a request becomes when patchscope passes it to its origin
 * (proxy and record): the origin half, the upstream connection (pooled,
 * retried once when a pooled one was stale), the response head on its way
 * back, and --guard, which holds a PATCH until its body is checked.
 */
#ifndef PATCHSCOPE_FORWARD_H
#define PATCHSCOPE_FORWARD_H

struct conn;

/* Set up the connection's origin half (once, at accept). */
void	forward_origin_init(struct conn *);
/* This exchange goes to the cassette: keep both bodies and the headers. */
void	forward_record_begin(struct conn *);
/*
 * Send a request held whole (--guard, a replay miss with --fallback) to
 * its origin, with a Content-Length.
 */
void	forward_release(struct conn *);

/* --guard found errors: answer 422 in the API's error shape, keep alive. */
void	forward_guard_answer(struct conn *);

#endif
