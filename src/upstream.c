/*
 * upstream: origin connections and the idle pool.
 *
 * Ownership: a bufferevent handed out by upstream_pool_take or
 * upstream_connect belongs to the caller; one given back with
 * upstream_pool_put belongs to the pool, which closes it when the origin
 * closes it, sends anything unexpected, or it sits idle past the timeout.
 */
#include "config.h"

#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
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
};

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
	free(p);
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

/* The TLS client context for origins. */
SSL_CTX *
upstream_tls_ctx_new(const char *extra_ca, int insecure, char **cause)
{
	static const unsigned char	 alpn[] = "\x08http/1.1";
	SSL_CTX				*ctx;
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
	struct bufferevent	*bev;
	SSL			*ssl = NULL;
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
	if (bufferevent_socket_connect_hostname(bev, p->dns, AF_UNSPEC, host,
	    port) != 0) {
		*cause = xasprintf("could not connect to %s:%d: %s", host,
		    port, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
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
