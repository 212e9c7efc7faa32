/*
 * upstream: connections to origin servers, and the pool of idle kept-alive
 * ones that later requests to the same host and port reuse.
 */
#ifndef PATCHSCOPE_UPSTREAM_H
#define PATCHSCOPE_UPSTREAM_H

struct bufferevent;
struct event_base;
struct evdns_base;
struct upstream_pool;

/* Create a pool; idle connections close after idle_ms; at most max_idle. */
struct upstream_pool *upstream_pool_new(struct event_base *,
	    struct evdns_base *, unsigned idle_ms, unsigned max_idle);
/* Close every idle connection and free the pool (NULL is fine). */
void	upstream_pool_free(struct upstream_pool *);
/*
 * Take an idle connection to host:port, or NULL when there is none. The
 * caller owns the bufferevent and must set its callbacks.
 */
struct bufferevent *upstream_pool_take(struct upstream_pool *,
	    const char *host, int port);
/* Give a connection with nothing pending back to the pool; it owns it now. */
void	upstream_pool_put(struct upstream_pool *, const char *host, int port,
	    struct bufferevent *);
/* Number of idle connections held. */
unsigned upstream_pool_idle(const struct upstream_pool *);
/*
 * Start connecting to host:port (name resolution included). Return a
 * bufferevent that reports BEV_EVENT_CONNECTED or an error through the
 * callbacks the caller sets, or NULL with *cause set (caller frees).
 */
struct bufferevent *upstream_connect(struct upstream_pool *, const char *host,
	    int port, char **cause);
/* Describe a failed connect for a person; the caller frees the string. */
char	*upstream_connect_error(struct bufferevent *, const char *host,
	    int port, int *is_dns);

#endif
