/*
 * upstream: origin connections and the idle pool.
 *
 * Ownership: a bufferevent handed out by upstream_pool_take or
 * upstream_connect belongs to the caller; one given back with
 * upstream_pool_put belongs to the pool, which closes it when the origin
 * closes it, sends anything unexpected, or it sits idle past the timeout.
 */
#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "log.h"
#include "upstream.h"
#include "xmalloc.h"

struct idle_conn {
	struct upstream_pool	*pool;
	struct idle_conn	*prev, *next;
	char			*host;
	int			 port;
	struct bufferevent	*bev;
	struct event		*timer;
};

struct upstream_pool {
	struct event_base	*base;
	struct evdns_base	*dns;
	unsigned		 idle_ms;
	unsigned		 max_idle;
	unsigned		 nidle;
	struct idle_conn	*head;	/* most recently returned first */
	struct idle_conn	*tail;
};

/* Create a pool. */
struct upstream_pool *
upstream_pool_new(struct event_base *base, struct evdns_base *dns,
    unsigned idle_ms, unsigned max_idle)
{
	struct upstream_pool	*p;

	p = xcalloc(1, sizeof *p);
	p->base = base;
	p->dns = dns;
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
upstream_pool_take(struct upstream_pool *p, const char *host, int port)
{
	struct idle_conn	*ic;
	struct bufferevent	*bev;

	for (ic = p->head; ic != NULL; ic = ic->next) {
		if (ic->port != port || strcmp(ic->host, host) != 0)
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
upstream_pool_put(struct upstream_pool *p, const char *host, int port,
    struct bufferevent *bev)
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

/* Start a connection to host:port. */
struct bufferevent *
upstream_connect(struct upstream_pool *p, const char *host, int port,
    char **cause)
{
	struct bufferevent	*bev;

	bev = bufferevent_socket_new(p->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
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

/* Describe why a connect failed. */
char *
upstream_connect_error(struct bufferevent *bev, const char *host, int port,
    int *is_dns)
{
	int	dns_err, err;

	dns_err = bufferevent_socket_get_dns_error(bev);
	if (dns_err != 0) {
		*is_dns = 1;
		return xasprintf("could not resolve host \"%s\": %s", host,
		    evutil_gai_strerror(dns_err));
	}
	*is_dns = 0;
	err = EVUTIL_SOCKET_ERROR();
	if (err == 0)
		return xasprintf("could not connect to %s:%d", host, port);
	return xasprintf("could not connect to %s:%d: %s", host, port,
	    evutil_socket_error_to_string(err));
}
