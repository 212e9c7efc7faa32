/*
 * replay_serve: what a request becomes in replay: held whole, matched
 * against the cassette, and answered with the recorded answer (annotated
 * as a live one would be), a 404 miss report, or, with --fallback=proxy,
 * forwarded to the origin and appended to the cassette.
 */
#ifndef PATCHSCOPE_REPLAY_SERVE_H
#define PATCHSCOPE_REPLAY_SERVE_H

struct conn;

/*
 * A request sent straight to patchscope as to a server ("GET /v1/..."),
 * as a test with a base URL does: its URL is made from the Host header
 * (else "localhost") and the path. Return 0, or -1 after an error answer.
 */
int	replay_target(struct conn *, const char *path);

#endif
