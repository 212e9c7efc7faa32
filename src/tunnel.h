/*
 * tunnel: what a CONNECT becomes. An intercepted host gets "200" at once,
 * then TLS with patchscope's CA, and each request inside is parsed like any
 * other; a --no-intercept host gets a raw byte tunnel to its origin.
 */
#ifndef PATCHSCOPE_TUNNEL_H
#define PATCHSCOPE_TUNNEL_H

struct conn;
struct half;

/*
 * The URL of a request inside an intercepted tunnel: https, the name from
 * the Host header (else the CONNECT host), the CONNECT port, the path.
 * Return 0, or -1 after answering with an error.
 */
int	tunnel_target(struct conn *, const char *path);
/* Move what one side of a raw tunnel sent to the other side. */
void	tunnel_relay(struct half *from);
/* Log the one line of a raw tunnel. */
void	tunnel_log(struct conn *);

#endif
