/*
 * request: a request head has arrived on the client half. Check what two
 * servers could read differently, work out the target, classify it (a
 * profile of the API?) and choose, once, what the request becomes: a
 * tunnel, a forwarded request or a replayed one.
 */
#ifndef PATCHSCOPE_REQUEST_H
#define PATCHSCOPE_REQUEST_H

struct conn;

/*
 * The request head is complete: check it, choose the handler and start it.
 * Return 0 to go on parsing the body, nonzero to stop (answered, closed,
 * or the bytes that follow are not HTTP).
 */
int	request_head(struct conn *);

/*
 * Set *host to the request's Host header (NULL when it has none). Return
 * 0, or -1 after answering 400 when it has more than one.
 */
int	request_host(struct conn *, const char **host);

/* conn->target is set: note it, and give the exchange its URL. */
void	request_target_known(struct conn *);

/* The whole PATCH body is in: diagnose it (once, decoded). */
void	request_diagnose(struct conn *);

#endif
