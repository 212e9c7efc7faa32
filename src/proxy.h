/*
 * proxy: the listener and the client-connection state machine of the
 * forward proxy. One libevent loop drives every connection.
 */
#ifndef PATCHSCOPE_PROXY_H
#define PATCHSCOPE_PROXY_H

struct event_base;
struct options;
struct proxy;

/*
 * Bind the listening socket and start accepting. Return the proxy, or NULL
 * with *cause set (caller frees) when the address cannot be used. The
 * options must outlive the proxy.
 */
struct proxy *proxy_new(struct event_base *, const struct options *,
	    char **cause);
/* Return the bound address as "ADDR:PORT" (the real port when 0 was asked). */
const char *proxy_address(const struct proxy *);
/*
 * Stop accepting, close idle connections, let in-flight exchanges finish
 * within the shutdown deadline, then make the event loop return.
 */
void	proxy_shutdown(struct proxy *);
/* Close every connection and free the proxy (NULL is fine). */
void	proxy_free(struct proxy *);

#endif
