/*
 * doctor_serve: the origin that `patchscope doctor` checks clients
 * against. Every serving patchscope answers requests for DOCTOR_HOST (and
 * names under it) itself, over HTTP and, once a CONNECT is intercepted,
 * over HTTPS with a leaf from its CA, like mitmproxy's mitm.it. The name is
 * under .invalid (RFC 6761), so a client that skips the proxy cannot
 * resolve it and fails: an answer proves the client went through
 * patchscope, an HTTPS answer that it trusts the CA.
 */
#ifndef PATCHSCOPE_DOCTOR_SERVE_H
#define PATCHSCOPE_DOCTOR_SERVE_H

struct conn;
struct handler;

#define DOCTOR_HOST	"doctor.patchscope.invalid"

/* Return nonzero when the request's target is DOCTOR_HOST or under it. */
int	doctor_serve_match(const struct conn *);

/*
 * The handler: reads and drops the request body, then answers 200 with
 * "patchscope doctor: PATH over SCHEME" (or, for a git client's
 * /info/refs, an empty repository), never forwarded nor recorded.
 */
extern const struct handler	doctor_serve_handler;

#endif
