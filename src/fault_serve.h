/*
 * fault_serve: what --fault does to a request on a live connection, in
 * proxy, record and replay. The fault is chosen once, when the request
 * head is in (fault.c decides which); status, reset and hang answer in
 * place of the handler (nothing is forwarded or matched), latency holds
 * the request before the handler starts, truncate and drop-response let
 * the handler run and cut or drop what goes back to the client.
 */
#ifndef PATCHSCOPE_FAULT_SERVE_H
#define PATCHSCOPE_FAULT_SERVE_H

#include <stdint.h>

struct conn;
struct fault_set;
struct options;

/*
 * The faults of a run, from --fault and --seed (the seed from the clock
 * without --seed, logged so the run can be repeated); NULL when there are
 * none. The specs were checked when the options were parsed.
 */
struct fault_set *fault_serve_new(const struct options *);
/* Free the faults of a run (NULL is fine). */
void	fault_serve_free(struct fault_set *);
/*
 * The head is in and conn->handler chosen: pick the request's fault, if
 * any, and start what it becomes. Return as a handler's start does.
 */
int	fault_serve_start(struct conn *);
/* The connection's timer ran out in CONN_FAULT (latency's wait is over). */
void	fault_serve_timer(struct conn *);
/*
 * The answer's head went to the client; body_len is its body's length
 * (-1: not known from the head). For truncate, let about half of the body
 * through, then nothing.
 */
void	fault_serve_head_sent(struct conn *, int64_t body_len);
/*
 * forward: an origin's answer head is in (after response_inspect). For
 * truncate, hold an answer of no known length whole, so that its head can
 * say its full length.
 */
void	fault_serve_response_head(struct conn *, int no_body);
/* The proxy shuts down: end a request held by hang (logged). */
void	fault_serve_shutdown(struct conn *);

#endif
