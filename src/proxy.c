/*
 * proxy: the server's front door: the listener, accepting with a back-off
 * when file descriptors run out, the sinks that finished exchanges go to,
 * and a graceful shutdown. Each accepted socket becomes a conn (conn.c).
 *
 * Invariants:
 * - Closed connections wait on the dead list until the reaper frees them
 *   from the loop, so no callback up a stack touches freed memory.
 * - The mode (forward or replay) is set once, before the loop runs.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>

#include "ca.h"
#include "capture.h"
#include "cassette.h"
#include "client_watch.h"
#include "conn.h"
#include "exchange.h"
#include "fault_serve.h"
#include "half.h"
#include "log.h"
#include "options.h"
#include "profile.h"
#include "proxy.h"
#include "recorder.h"
#include "redact.h"
#include "replay.h"
#include "rules.h"
#include "snapshot.h"
#include "upstream.h"
#include "web_auth.h"
#include "xmalloc.h"

#define SHUTDOWN_DEADLINE_MS	5000
#define POOL_MAX_IDLE		256
#define ACCEPT_RETRY_MS		1000
#define SNAPSHOTS		1024	/* profiles remembered */
#define LEAF_CACHE		1024	/* minted certificates kept */

static void
reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;
	struct conn	*conn;

	(void)fd;
	(void)what;
	while ((conn = TAILQ_FIRST(&p->dead)) != NULL) {
		TAILQ_REMOVE(&p->dead, conn, entry);
		conn_free(conn);
	}
}

static void
set_nodelay(evutil_socket_t fd)
{
	int	one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The log's sink: one line per exchange. */
static void
log_sink_cb(void *arg, const struct exchange *x,
    const struct capture_info *info)
{
	struct proxy	*p = arg;

	log_exchange(x, info, p->opts->log_json, p->color);
}

/* The log wants every exchange unless it is quiet (-q). */
static int
log_sink_wants(void *arg, const struct capture_info *info)
{
	(void)arg;
	(void)info;
	return log_enabled(LOG_LEVEL_INFO);
}

/* The recorder and the replay index want recorded exchanges only. */
static int
record_sink_wants(void *arg, const struct capture_info *info)
{
	(void)arg;
	return info->record;
}

/* The recorder's sink: a recorded exchange becomes a HAR entry. */
static void
recorder_sink_cb(void *arg, const struct exchange *x,
    const struct capture_info *info)
{
	if (!info->record)
		return;
	recorder_add_exchange(arg, x);
}

/* The replay index's sink: a miss forwarded and recorded hits next time. */
static void
replay_sink_cb(void *arg, const struct exchange *x,
    const struct capture_info *info)
{
	struct exchange	copy;

	if (!info->record)
		return;
	/* The index keeps its own copy (replay_add takes it over). */
	exchange_init(&copy);
	exchange_copy(&copy, x);
	replay_add(arg, &copy);
	exchange_free(&copy);
}

/* Add a sink of finished exchanges. */
static void
proxy_add_sink(struct proxy *p, void (*cb)(void *, const struct exchange *,
    const struct capture_info *), int (*wants)(void *,
    const struct capture_info *), void *arg)
{
	if (p->nsinks == PROXY_MAX_SINKS)
		fatalx("too many exchange sinks");
	p->sinks[p->nsinks].exchange = cb;
	p->sinks[p->nsinks].wants = wants;
	p->sinks[p->nsinks].arg = arg;
	p->nsinks++;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct proxy	*p = arg;
	struct conn	*conn;

	(void)l;
	set_nodelay(fd);
	conn = conn_new(p, fd);
	if (conn != NULL)
		conn_watch_peer(conn, sa, salen);
}

static void
accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;

	(void)fd;
	(void)what;
	if (p->listener != NULL && !p->draining)
		evconnlistener_enable(p->listener);
}

/* Out of file descriptors: pause accepting for a moment instead of dying. */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct proxy	*p = arg;
	struct timeval	 tv = { ACCEPT_RETRY_MS / 1000, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	log_warnx("accept failed: %s; pausing new connections for a moment",
	    evutil_socket_error_to_string(err));
	evconnlistener_disable(l);
	evtimer_add(p->accept_retry, &tv);
}

/* A redactor with the built-in lists plus the options' additions. */
struct redactor *
proxy_redactor_new(const struct options *opts)
{
	struct redactor	*r = redact_new();
	size_t		 i;

	for (i = 0; i < opts->n_redact_headers; i++)
		redact_add_header(r, opts->redact_headers[i]);
	for (i = 0; i < opts->n_redact_queries; i++)
		redact_add_query(r, opts->redact_queries[i]);
	for (i = 0; i < opts->n_redact_json_keys; i++)
		redact_add_json_key(r, opts->redact_json_keys[i]);
	if (opts->no_redact)
		redact_disable(r);
	return r;
}

/* Bind and start accepting. */
struct proxy *
proxy_new(struct event_base *base, const struct options *opts, char **cause)
{
	struct proxy		*p;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4;
	struct sockaddr_in6	*s6;
	socklen_t		 sslen;
	int			 sl;
	char			*spec, *ca_dir, host[INET6_ADDRSTRLEN];
	const char		*h = opts->listen_host;
	evutil_socket_t		 fd;
	int			 port;

	if (strcmp(h, "localhost") == 0)
		h = "127.0.0.1";
	memset(&ss, 0, sizeof ss);
	s4 = (struct sockaddr_in *)&ss;
	s6 = (struct sockaddr_in6 *)&ss;
	if (evutil_inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)opts->listen_port);
		sl = sizeof *s4;
	} else if (evutil_inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)opts->listen_port);
		sl = sizeof *s6;
	} else {
		*cause = xasprintf("cannot listen on \"%s\": not a numeric IP "
		    "address (use e.g. 127.0.0.1 or [::1])", h);
		return NULL;
	}
	spec = strchr(h, ':') != NULL ?
	    xasprintf("[%s]:%d", h, opts->listen_port) :
	    xasprintf("%s:%d", h, opts->listen_port);
	p = xcalloc(1, sizeof *p);
	p->base = base;
	p->opts = opts;
	p->mode = PROXY_FORWARD;
	TAILQ_INIT(&p->conns);
	TAILQ_INIT(&p->dead);
	p->listener = evconnlistener_new_bind(base, accept_cb, p,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    511, (struct sockaddr *)&ss, sl);
	if (p->listener == NULL) {
		*cause = xasprintf("cannot listen on %s: %s", spec,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		goto fail;
	}
	free(spec);
	spec = NULL;
	/* The address is ours; now the rules and the CA. */
	if (opts->rules_file != NULL) {
		p->rules = rules_load(opts->rules_file, cause);
		if (p->rules == NULL)
			goto fail;
	} else
		p->rules = rules_builtin();
	p->snapshots = snapshot_store_new(SNAPSHOTS);
	p->watch = client_watch_new();
	p->redactor = proxy_redactor_new(opts);
	p->color = log_is_tty();
	proxy_add_sink(p, log_sink_cb, log_sink_wants, p);
	ca_dir = ca_default_dir(opts->ca_dir);
	p->ca = ca_open(ca_dir, LEAF_CACHE, cause);
	free(ca_dir);
	if (p->ca == NULL)
		goto fail;
	p->upstream_tls = upstream_tls_ctx_new(opts->upstream_ca,
	    opts->insecure_upstream, cause);
	if (p->upstream_tls == NULL)
		goto fail;
	if (opts->insecure_upstream)
		log_warnx("--insecure-upstream: origins' certificates are not "
		    "checked; anyone between patchscope and an origin can "
		    "read and change that traffic");
	evconnlistener_set_error_cb(p->listener, accept_error_cb);
	fd = evconnlistener_get_fd(p->listener);
	sslen = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		port = ntohs(s6->sin6_port);
		p->address = xasprintf("[%s]:%d", host, port);
	} else {
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		port = ntohs(s4->sin_port);
		p->address = xasprintf("%s:%d", host, port);
	}
	p->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (p->dns == NULL) {
		/* No resolv.conf: names in /etc/hosts and literals still work. */
		p->dns = evdns_base_new(base, 0);
		evdns_base_load_hosts(p->dns, NULL);
	}
	p->pool = upstream_pool_new(base, p->dns, p->upstream_tls,
	    opts->idle_timeout_ms, POOL_MAX_IDLE);
	if (upstream_pool_set_resolve(p->pool, opts->resolve, opts->n_resolve,
	    1, cause) == -1) {
		upstream_pool_free(p->pool);
		evdns_base_free(p->dns, 0);
		goto fail;
	}
	p->accept_retry = evtimer_new(base, accept_retry_cb, p);
	p->reaper = event_new(base, -1, 0, reaper_cb, p);
	p->faults = fault_serve_new(opts);
	return p;
fail:
	free(spec);
	rules_free(p->rules);
	if (p->snapshots != NULL)
		snapshot_store_free(p->snapshots);
	redact_free(p->redactor);
	client_watch_free(p->watch);
	if (p->listener != NULL)
		evconnlistener_free(p->listener);
	upstream_tls_ctx_free(p->upstream_tls);
	ca_free(p->ca);
	free(p);
	return NULL;
}

/* The bound address. */
const char *
proxy_address(const struct proxy *p)
{
	return p->address;
}

static void
shutdown_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;

	(void)fd;
	(void)what;
	log_warnx("shutdown: %u connection(s) still busy after %d s; "
	    "closing them", p->nconns, SHUTDOWN_DEADLINE_MS / 1000);
	event_base_loopexit(p->base, NULL);
}

/* Begin a graceful stop. */
void
proxy_shutdown(struct proxy *p)
{
	struct conn	*conn, *next;
	struct timeval	 tv;
	char		*cause = NULL;

	if (p->draining)
		return;
	p->draining = 1;
	log_info("shutting down: %u connection(s) open", p->nconns);
	if (p->listener != NULL) {
		evconnlistener_free(p->listener);
		p->listener = NULL;
	}
	upstream_pool_free(p->pool);
	p->pool = upstream_pool_new(p->base, p->dns, p->upstream_tls,
	    p->opts->idle_timeout_ms, 0);
	if (upstream_pool_set_resolve(p->pool, p->opts->resolve,
	    p->opts->n_resolve, 0, &cause) == -1)
		free(cause);
	for (conn = TAILQ_FIRST(&p->conns); conn != NULL; conn = next) {
		next = TAILQ_NEXT(conn, entry);
		if ((conn->state == CONN_WAIT_REQUEST ||
		    conn->state == CONN_HANDSHAKE) &&
		    half_input_len(&conn->client) == 0)
			conn_close(conn, "shutting down");
		else if (conn->state == CONN_FAULT)
			fault_serve_shutdown(conn);
	}
	tv.tv_sec = SHUTDOWN_DEADLINE_MS / 1000;
	tv.tv_usec = 0;
	p->shutdown_timer = evtimer_new(p->base, shutdown_deadline_cb, p);
	evtimer_add(p->shutdown_timer, &tv);
	proxy_maybe_done(p);
}

/* Free everything. */
void
proxy_free(struct proxy *p)
{
	struct conn	*conn;

	if (p == NULL)
		return;
	p->draining = 1;
	while ((conn = TAILQ_FIRST(&p->conns)) != NULL)
		conn_close(conn, "shutting down");
	reaper_cb(-1, 0, p);
	if (p->listener != NULL)
		evconnlistener_free(p->listener);
	upstream_pool_free(p->pool);
	if (p->dns != NULL)
		evdns_base_free(p->dns, 1);
	if (p->accept_retry != NULL)
		event_free(p->accept_retry);
	if (p->shutdown_timer != NULL)
		event_free(p->shutdown_timer);
	if (p->reaper != NULL)
		event_free(p->reaper);
	upstream_tls_ctx_free(p->upstream_tls);
	ca_free(p->ca);
	rules_free(p->rules);
	if (p->snapshots != NULL)
		snapshot_store_free(p->snapshots);
	redact_free(p->redactor);
	client_watch_free(p->watch);
	profile_seed_free(p->seed);
	fault_serve_free(p->faults);
	free(p->address);
	free(p->web_host);
	free(p);
}

/* The run's findings on how clients reacted to failures (a new reference). */
struct json_t *
proxy_client_report(const struct proxy *p)
{
	return client_watch_report(p->watch);
}

/* Record exchanges to rec from now on. */
void
proxy_set_recorder(struct proxy *p, struct recorder *rec)
{
	p->recorder = rec;
	proxy_add_sink(p, recorder_sink_cb, record_sink_wants, rec);
	if (p->replay != NULL)
		proxy_add_sink(p, replay_sink_cb, record_sink_wants, p->replay);
}

/*
 * Answer from idx. For each profile the cassette shows, its first answer
 * (a GET, or a PATCH that returned the profile) is noted: a PATCH replayed
 * before any answer of this run showed the profile is checked against
 * that, learned when first needed.
 */
void
proxy_set_replay(struct proxy *p, struct replay_index *idx)
{
	p->mode = PROXY_REPLAY;
	p->replay = idx;
	p->seed = profile_seed_new(idx);
	if (p->recorder != NULL)
		proxy_add_sink(p, replay_sink_cb, record_sink_wants, idx);
}

/* Keep exchanges whole for the web view, and refuse requests aimed at it. */
void
proxy_add_viewer(struct proxy *p, void (*cb)(void *, const struct exchange *,
    const struct capture_info *), int (*wants)(void *,
    const struct capture_info *), void *arg, const char *web_host,
    int web_port)
{
	proxy_add_sink(p, cb, wants, arg);
	p->view = 1;
	free(p->web_host);
	p->web_host = xstrdup(web_host);
	p->web_port = web_port;
}

/* Would a request to host:port reach the web view? */
int
proxy_is_web_view(const struct proxy *p, const char *host, int port)
{
	return p->web_host != NULL && host != NULL &&
	    web_auth_is_view(host, port, p->web_host, p->web_port);
}
