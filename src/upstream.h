/*
 * upstream: connections to origin servers, and the pool of idle kept-alive
 * ones that later requests to the same host and port reuse.
 */
#ifndef PATCHSCOPE_UPSTREAM_H
#define PATCHSCOPE_UPSTREAM_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct evdns_base;
struct ssl_ctx_st;
struct upstream_pool;

/* Why a connection attempt failed. */
enum upstream_error {
	UPSTREAM_ERR_CONNECT,	/* refused, reset, unreachable */
	UPSTREAM_ERR_DNS,	/* the name did not resolve */
	UPSTREAM_ERR_TLS	/* handshake failed or certificate untrusted */
};

/*
 * Make the TLS client context for origins: the system trust store, plus
 * extra_ca (a PEM file) when not NULL; no verification when insecure.
 * Return it (caller frees with SSL_CTX_free), or NULL with *cause set.
 */
struct ssl_ctx_st *upstream_tls_ctx_new(const char *extra_ca, int insecure,
	    char **cause);
/* Free a context from upstream_tls_ctx_new (NULL is fine). */
void	upstream_tls_ctx_free(struct ssl_ctx_st *);

/*
 * Create a pool; idle connections close after idle_ms; at most max_idle.
 * tls_ctx (not owned, may be NULL) is used for https origins.
 */
struct upstream_pool *upstream_pool_new(struct event_base *,
	    struct evdns_base *, struct ssl_ctx_st *tls_ctx, unsigned idle_ms,
	    unsigned max_idle);
/*
 * Send connections for the origins in specs (n --resolve values,
 * HOST:PORT=ADDR:PORT) to their addresses; the pool keeps its own parsed
 * copy, replacing any earlier one, and logs each mapping at info level
 * when announce is set. Return 0, or -1 with *cause set (caller frees)
 * for a value that does not parse; the pool then maps nothing.
 */
int	upstream_pool_set_resolve(struct upstream_pool *, char *const *specs,
	    size_t n, int announce, char **cause);
/*
 * When --resolve maps host:port, write the address it goes to ("ADDR:PORT",
 * IPv6 bracketed) into out and return out; else return NULL. For messages.
 */
const char *upstream_pool_mapped(const struct upstream_pool *,
	    const char *host, int port, char *out, size_t len);
/* Close every idle connection and free the pool (NULL is fine). */
void	upstream_pool_free(struct upstream_pool *);
/*
 * Take an idle connection to host:port, or NULL when there is none. The
 * caller owns the bufferevent and must set its callbacks.
 */
struct bufferevent *upstream_pool_take(struct upstream_pool *, int tls,
	    const char *name, const char *host, int port);
/*
 * Give a connection with nothing pending back to the pool; it owns it now.
 * name is the TLS name the connection proved (the host for plain ones).
 */
void	upstream_pool_put(struct upstream_pool *, int tls, const char *name,
	    const char *host, int port, struct bufferevent *);
/* Number of idle connections held. */
unsigned upstream_pool_idle(const struct upstream_pool *);
/*
 * Start connecting to host:port (name resolution included), with TLS when
 * tls is set (SNI and certificate checks for name). Return a bufferevent
 * that reports BEV_EVENT_CONNECTED (after the handshake, for TLS) or an
 * error through the callbacks the caller sets, or NULL with *cause set.
 */
struct bufferevent *upstream_connect(struct upstream_pool *, int tls,
	    const char *name, const char *host, int port, char **cause);
/*
 * For a connected TLS bufferevent: 1 when its handshake resumed a session
 * kept from an earlier connection to the same origin, 0 for a full
 * handshake; -1 when the connection is not TLS.
 */
int	upstream_tls_resumed(struct bufferevent *);
/* Return patchscope's error code for a kind of failure ("upstream_dns"). */
const char *upstream_error_code(enum upstream_error);
/* Return nonzero for names under .invalid, which never resolve. */
int	upstream_host_invalid(const char *host);
/*
 * Describe a failed connection attempt for a person and classify it. The
 * caller frees the string.
 */
char	*upstream_connect_error(struct bufferevent *, const char *host,
	    int port, enum upstream_error *);

#endif
