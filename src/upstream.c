/*
 * upstream: origin connections and the idle pool.
 *
 * Ownership: a bufferevent handed out by upstream_pool_take or
 * upstream_connect belongs to the caller; one given back with
 * upstream_pool_put belongs to the pool, which closes it when the origin
 * closes it, sends anything unexpected, or it sits idle past the timeout.
 *
 * --resolve changes only where a socket connects: the pool, the TLS name
 * and the session cache all key on the origin as the request asked for it,
 * so a mapped origin never shares a connection or a session with another.
 */
#include "config.h"

#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "resolve.h"
#include "upstream.h"
#include "xmalloc.h"

struct idle_conn {
	struct upstream_pool	*pool;
	struct idle_conn	*prev, *next;
	int			 tls;
	char			*name;
	char			*host;
	int			 port;
	struct bufferevent	*bev;
	struct event		*timer;
};

struct upstream_pool {
	struct event_base	*base;
	struct evdns_base	*dns;
	SSL_CTX			*tls_ctx;
	unsigned		 idle_ms;
	unsigned		 max_idle;
	unsigned		 nidle;
	struct idle_conn	*head;	/* most recently returned first */
	struct idle_conn	*tail;
	struct resolve_entry	*resolve;	/* --resolve, owned */
	size_t			 nresolve;
};

static void	upstream_pool_clear_resolve(struct upstream_pool *);

/* Create a pool. */
struct upstream_pool *
upstream_pool_new(struct event_base *base, struct evdns_base *dns,
    SSL_CTX *tls_ctx, unsigned idle_ms, unsigned max_idle)
{
	struct upstream_pool	*p;

	p = xcalloc(1, sizeof *p);
	p->base = base;
	p->dns = dns;
	p->tls_ctx = tls_ctx;
	p->idle_ms = idle_ms;
	p->max_idle = max_idle;
	return p;
}

static void
idle_unlink(struct idle_conn *ic)
{
	struct upstream_pool	*p = ic->pool;

	if (ic->prev != NULL)
		ic->prev->next = ic->next;
	else
		p->head = ic->next;
	if (ic->next != NULL)
		ic->next->prev = ic->prev;
	else
		p->tail = ic->prev;
	p->nidle--;
}

/* Unlink and free an idle entry; closes the connection when close_bev. */
static void
idle_free(struct idle_conn *ic, int close_bev)
{
	idle_unlink(ic);
	event_free(ic->timer);
	if (close_bev)
		bufferevent_free(ic->bev);
	free(ic->name);
	free(ic->host);
	free(ic);
}

static void
idle_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct idle_conn	*ic = arg;

	(void)fd;
	(void)what;
	log_debug("upstream %s:%d: idle connection closed", ic->host,
	    ic->port);
	idle_free(ic, 1);
}

/* Anything an idle origin sends (data, EOF, error) ends the connection. */
static void
idle_read_cb(struct bufferevent *bev, void *arg)
{
	struct idle_conn	*ic = arg;

	(void)bev;
	log_debug("upstream %s:%d: unexpected data on idle connection",
	    ic->host, ic->port);
	idle_free(ic, 1);
}

static void
idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct idle_conn	*ic = arg;

	(void)bev;
	(void)what;
	log_debug("upstream %s:%d: origin closed idle connection", ic->host,
	    ic->port);
	idle_free(ic, 1);
}

/* Close everything and free the pool. */
void
upstream_pool_free(struct upstream_pool *p)
{
	if (p == NULL)
		return;
	while (p->head != NULL)
		idle_free(p->head, 1);
	upstream_pool_clear_resolve(p);
	free(p);
}

/* Drop the pool's --resolve table. */
static void
upstream_pool_clear_resolve(struct upstream_pool *p)
{
	size_t	i;

	for (i = 0; i < p->nresolve; i++)
		resolve_entry_free(&p->resolve[i]);
	free(p->resolve);
	p->resolve = NULL;
	p->nresolve = 0;
}

/* Where --resolve sends host:port, as "ADDR:PORT" in out; NULL if nowhere. */
const char *
upstream_pool_mapped(const struct upstream_pool *p, const char *host,
    int port, char *out, size_t len)
{
	const struct resolve_entry	*e;

	if ((e = resolve_find(p->resolve, p->nresolve, host, port)) == NULL)
		return NULL;
	snprintf(out, len, "%s%s%s:%d", strchr(e->addr, ':') != NULL ? "[" :
	    "", e->addr, strchr(e->addr, ':') != NULL ? "]" : "",
	    e->addr_port);
	return out;
}

/* Take the --resolve specs (each checked by options already). */
int
upstream_pool_set_resolve(struct upstream_pool *p, char *const *specs,
    size_t n, int announce, char **cause)
{
	char	line[2 * RESOLVE_SPEC_MAX];
	size_t	i;

	upstream_pool_clear_resolve(p);
	if (n == 0)
		return 0;
	p->resolve = xcalloc(n, sizeof *p->resolve);
	for (i = 0; i < n; i++) {
		if (resolve_parse(specs[i], &p->resolve[i], cause) == -1) {
			upstream_pool_clear_resolve(p);
			return -1;
		}
		p->nresolve = i + 1;
		if (announce) {
			resolve_describe(&p->resolve[i], line, sizeof line);
			log_info("--resolve: connections to %s (TLS name and "
			    "Host unchanged)", line);
		}
	}
	return 0;
}

/* Take the most recently used idle connection to host:port. */
struct bufferevent *
upstream_pool_take(struct upstream_pool *p, int tls, const char *name,
    const char *host, int port)
{
	struct idle_conn	*ic;
	struct bufferevent	*bev;

	for (ic = p->head; ic != NULL; ic = ic->next) {
		if (ic->port != port || ic->tls != tls ||
		    strcmp(ic->host, host) != 0 || strcmp(ic->name, name) != 0)
			continue;
		bev = ic->bev;
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		idle_free(ic, 0);
		return bev;
	}
	return NULL;
}

/* Keep a finished connection for reuse. */
void
upstream_pool_put(struct upstream_pool *p, int tls, const char *name,
    const char *host, int port, struct bufferevent *bev)
{
	struct idle_conn	*ic;
	struct timeval		 tv;

	if (p->max_idle == 0) {
		bufferevent_free(bev);
		return;
	}
	while (p->nidle >= p->max_idle)
		idle_free(p->tail, 1);
	ic = xcalloc(1, sizeof *ic);
	ic->pool = p;
	ic->tls = tls;
	ic->name = xstrdup(name);
	ic->host = xstrdup(host);
	ic->port = port;
	ic->bev = bev;
	ic->timer = evtimer_new(p->base, idle_timeout_cb, ic);
	tv.tv_sec = p->idle_ms / 1000;
	tv.tv_usec = (p->idle_ms % 1000) * 1000;
	evtimer_add(ic->timer, &tv);
	bufferevent_setcb(bev, idle_read_cb, NULL, idle_event_cb, ic);
	bufferevent_set_timeouts(bev, NULL, NULL);
	bufferevent_enable(bev, EV_READ);
	ic->next = p->head;
	if (p->head != NULL)
		p->head->prev = ic;
	p->head = ic;
	if (p->tail == NULL)
		p->tail = ic;
	p->nidle++;
}

/* Idle connection count. */
unsigned
upstream_pool_idle(const struct upstream_pool *p)
{
	return p->nidle;
}

/*
 * TLS sessions to resume, per origin (TLS name and port): a new
 * connection to an origin that gave us a session (a TLS 1.3 ticket or a
 * 1.2 session) resumes it, which skips the certificate exchange and its
 * signatures on both sides. The cache belongs to the client SSL_CTX (an
 * SSL holds a reference to its context, so no connection outlives it);
 * the least recently stored entry makes room. A resumed session carries
 * the verification of the handshake that made it, for the same name.
 */
#define SESSION_SLOTS	64

struct session_slot {
	char		*key;		/* "name:port"; NULL when free */
	SSL_SESSION	*sess;
	uint64_t	 stored;
};

struct session_cache {
	struct session_slot	slot[SESSION_SLOTS];
	uint64_t		clock;
};

static int	session_cache_idx = -1;	/* SSL_CTX ex_data */
static int	session_key_idx = -1;	/* SSL ex_data: the slot's key */

static void
session_cache_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct session_cache	*c = ptr;
	size_t			 i;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (c == NULL)
		return;
	for (i = 0; i < SESSION_SLOTS; i++) {
		free(c->slot[i].key);
		SSL_SESSION_free(c->slot[i].sess);
	}
	free(c);
}

static void
session_key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static struct session_cache *
session_cache_of(SSL *ssl)
{
	return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), session_cache_idx);
}

/* OpenSSL hands over a new session: keep it under the connection's key. */
static int
session_new_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct session_cache	*c = session_cache_of(ssl);
	const char		*key = SSL_get_ex_data(ssl, session_key_idx);
	struct session_slot	*s, *oldest = NULL;
	size_t			 i;

	/*
	 * Keep a copy: OpenSSL marks the connection's own session object
	 * not resumable when the connection is freed without a TLS
	 * shutdown, which is how origin connections end.
	 */
	if (c == NULL || key == NULL || (sess = SSL_SESSION_dup(sess)) == NULL)
		return 0;
	for (i = 0; i < SESSION_SLOTS; i++) {
		s = &c->slot[i];
		if (s->key != NULL && strcmp(s->key, key) == 0)
			break;
		if (oldest == NULL || s->key == NULL ||
		    (oldest->key != NULL && s->stored < oldest->stored))
			oldest = s;
	}
	if (i == SESSION_SLOTS) {
		s = oldest;
		free(s->key);
		s->key = xstrdup(key);
	}
	SSL_SESSION_free(s->sess);
	s->sess = sess;
	s->stored = ++c->clock;
	return 0;			/* OpenSSL keeps its own reference */
}

/* Offer the session kept for key, if any; remember key for new ones. */
static void
session_offer(SSL *ssl, const char *name, int port)
{
	struct session_cache	*c = session_cache_of(ssl);
	char			*key;
	size_t			 i;

	if (c == NULL)
		return;
	key = xasprintf("%s:%d", name, port);
	if (SSL_set_ex_data(ssl, session_key_idx, key) != 1) {
		free(key);
		return;
	}
	for (i = 0; i < SESSION_SLOTS; i++) {
		if (c->slot[i].key == NULL || strcmp(c->slot[i].key, key) != 0)
			continue;
		if (SSL_SESSION_is_resumable(c->slot[i].sess))
			SSL_set_session(ssl, c->slot[i].sess);
		break;
	}
}

/* The TLS client context for origins. */
SSL_CTX *
upstream_tls_ctx_new(const char *extra_ca, int insecure, char **cause)
{
	static const unsigned char	 alpn[] = "\x08http/1.1";
	SSL_CTX				*ctx;
	struct session_cache		*cache;
	char				 err[256];

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		*cause = xasprintf("cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		log_warnx("the system trust store could not be loaded");
	if (extra_ca != NULL &&
	    SSL_CTX_load_verify_locations(ctx, extra_ca, NULL) != 1) {
		ERR_error_string_n(ERR_get_error(), err, sizeof err);
		*cause = xasprintf("cannot load --upstream-ca %s: %s (it must "
		    "be a readable file of PEM certificates)", extra_ca, err);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
	    NULL);
	if (session_cache_idx == -1)
		session_cache_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL,
		    NULL, session_cache_free);
	if (session_key_idx == -1)
		session_key_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    session_key_free);
	if (session_cache_idx != -1 && session_key_idx != -1) {
		cache = xcalloc(1, sizeof *cache);
		if (SSL_CTX_set_ex_data(ctx, session_cache_idx, cache) == 1) {
			SSL_CTX_set_session_cache_mode(ctx,
			    SSL_SESS_CACHE_CLIENT |
			    SSL_SESS_CACHE_NO_INTERNAL_STORE);
			SSL_CTX_sess_set_new_cb(ctx, session_new_cb);
		} else
			free(cache);
	}
	return ctx;
}

/* Free the origins' TLS context. */
void
upstream_tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

static int
is_ip_literal(const char *host)
{
	unsigned char	addr[16];

	return evutil_inet_pton(AF_INET, host, addr) == 1 ||
	    evutil_inet_pton(AF_INET6, host, addr) == 1;
}

/* Set SNI and the name the certificate must carry. */
static int
upstream_tls_name(SSL *ssl, const char *host)
{
	if (is_ip_literal(host))
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, host) != 1)
		return -1;
	return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

/* Start a connection to host:port. */
struct bufferevent *
upstream_connect(struct upstream_pool *p, int tls, const char *name,
    const char *host, int port, char **cause)
{
	const struct resolve_entry *to;
	struct bufferevent	*bev;
	SSL			*ssl = NULL;
	const char		*addr = host;
	int			 addr_port = port;
	const int		 opts = BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS;

	if (tls) {
		if (p->tls_ctx == NULL || (ssl = SSL_new(p->tls_ctx)) == NULL ||
		    upstream_tls_name(ssl, name) != 0) {
			*cause = xasprintf("could not set up TLS for %s:%d",
			    name, port);
			SSL_free(ssl);
			return NULL;
		}
		session_offer(ssl, name, port);
		/* The bufferevent owns the SSL from here on. */
		bev = bufferevent_openssl_socket_new(p->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, opts);
		if (bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else
		bev = bufferevent_socket_new(p->base, -1, opts);
	if (bev == NULL) {
		*cause = xasprintf("could not create a socket for %s:%d", host,
		    port);
		return NULL;
	}
	/*
	 * The callbacks are set by the caller after we return; with
	 * BEV_OPT_DEFER_CALLBACKS an immediate failure is reported later
	 * through them, not from inside this call.
	 */
	if ((to = resolve_find(p->resolve, p->nresolve, host, port)) != NULL) {
		addr = to->addr;
		addr_port = to->addr_port;
		log_debug("upstream %s:%d: connecting to %s port %d "
		    "(--resolve)", host, port, addr, addr_port);
	}
	if (bufferevent_socket_connect_hostname(bev, p->dns, AF_UNSPEC, addr,
	    addr_port) != 0) {
		*cause = xasprintf("could not connect to %s:%d: %s", host,
		    port, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

/* 1 when a TLS connection resumed a session, 0 when not, -1 for plain. */
int
upstream_tls_resumed(struct bufferevent *bev)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl == NULL)
		return -1;
	return SSL_session_reused(ssl) ? 1 : 0;
}

/* Describe why a connection attempt failed. */
char *
upstream_connect_error(struct bufferevent *bev, const char *host, int port,
    enum upstream_error *kind)
{
	SSL		*ssl;
	unsigned long	 tls_err;
	long		 verify;
	int		 dns_err, err;
	char		 buf[256];

	err = EVUTIL_SOCKET_ERROR();
	dns_err = bufferevent_socket_get_dns_error(bev);
	if (dns_err != 0) {
		*kind = UPSTREAM_ERR_DNS;
		return xasprintf("could not resolve host \"%s\": %s", host,
		    evutil_gai_strerror(dns_err));
	}
	ssl = bufferevent_openssl_get_ssl(bev);
	if (ssl != NULL) {
		verify = SSL_get_verify_result(ssl);
		tls_err = bufferevent_get_openssl_error(bev);
		if (verify != X509_V_OK) {
			*kind = UPSTREAM_ERR_TLS;
			return xasprintf("the certificate of %s:%d is not "
			    "trusted: %s (add its CA with --upstream-ca FILE, "
			    "or use --insecure-upstream)", host, port,
			    X509_verify_cert_error_string(verify));
		}
		/* libevent files socket errors here too, with no library. */
		if (tls_err != 0 && ERR_GET_LIB(tls_err) != 0) {
			*kind = UPSTREAM_ERR_TLS;
			ERR_error_string_n(tls_err, buf, sizeof buf);
			return xasprintf("the TLS handshake with %s:%d failed: "
			    "%s", host, port, buf);
		}
	}
	*kind = UPSTREAM_ERR_CONNECT;
	if (err == 0)
		return xasprintf("could not connect to %s:%d", host, port);
	return xasprintf("could not connect to %s:%d: %s", host, port,
	    evutil_socket_error_to_string(err));
}

/* RFC 6761 6.4: names under .invalid never resolve; do not ask DNS. */
int
upstream_host_invalid(const char *host)
{
	size_t	len = strlen(host);

	if (len > 0 && host[len - 1] == '.')
		len--;
	return (len == 7 && strncasecmp(host, "invalid", 7) == 0) ||
	    (len > 8 && strncasecmp(host + len - 8, ".invalid", 8) == 0);
}

/* Return patchscope's error code for a kind of failure ("upstream_dns"). */
const char *
upstream_error_code(enum upstream_error kind)
{
	switch (kind) {
	case UPSTREAM_ERR_DNS:
		return "upstream_dns";
	case UPSTREAM_ERR_TLS:
		return "upstream_tls";
	case UPSTREAM_ERR_CONNECT:
		break;
	}
	return "upstream_unreachable";
}
