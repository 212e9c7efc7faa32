/*
 * web: the web view's HTTP server (see web.h), on libevent's evhttp.
 *
 * Every answer carries the same security headers (a strict
 * Content-Security-Policy, nosniff, no referrer, no caching, no framing).
 * Every request must name the view in its Host header (DNS rebinding);
 * only GET and HEAD are taken; /api/ needs the token (web_auth).
 *
 * Event streams: each client has a cursor, the next id it is owed. Its
 * stream is filled from the ring while less than WEB_SSE_LOW bytes wait
 * in its connection's output, and again each time that output drains, so
 * a slow client costs at most about WEB_SSE_LOW plus one entry, whatever
 * the traffic: it falls behind instead, and when the ring drops entries
 * it had not seen it gets a "dropped" event and goes on from the oldest
 * kept. A client that reads nothing for WEB_TIMEOUT_SECS is closed.
 *
 * Invariants: a struct web_client lives exactly as long as its evhttp
 * connection (freed in its close callback, which evhttp calls when the
 * connection ends, and for every connection in evhttp_free), and frees
 * its request when evhttp gave it back.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "buf.h"
#include "capture.h"
#include "log.h"
#include "options.h"
#include "proxy.h"
#include "web.h"
#include "web_assets.h"
#include "web_auth.h"
#include "web_json.h"
#include "web_ring.h"
#include "xmalloc.h"

#define WEB_MAX_CLIENTS		32		/* event streams at once */
#define WEB_SSE_LOW		(256 * 1024)	/* refill a stream below */
#define WEB_KEEPALIVE_SECS	15
#define WEB_TIMEOUT_SECS	60
#define WEB_MAX_HEAD		16384
#define WEB_MAX_BODY		4096
#define WEB_PAGE_BYTES		(4 * 1024 * 1024) /* of one /api/exchanges */
#define WEB_READ_HIGH		(4 * WEB_MAX_HEAD) /* input held at most */

#define WEB_CSP	"default-src 'none'; script-src 'self'; style-src 'self'; " \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

struct web_client {
	TAILQ_ENTRY(web_client)	 entry;
	struct web		*web;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	uint64_t		 next;		/* the next id it is owed */
};

struct web {
	struct event_base	*base;
	struct evhttp		*http;
	struct web_ring		*ring;
	const char		*mode;		/* "live" or "view" */
	const char		*spec;		/* --web ADDR:PORT */
	int			 allow_remote;
	char			 token[WEB_TOKEN_HEX + 1];
	char			*host;		/* bound: numeric, no [] */
	int			 port;
	char			*url;
	struct event		*keepalive;
	TAILQ_HEAD(, web_client) clients;
	unsigned		 nclients;
	size_t			 added;
};

/* The headers of every answer. */
static void
web_headers(struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", WEB_CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
}

/* Answer with a short text. */
static void
web_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add(evhttp_request_get_output_buffer(req), text,
	    strlen(text));
	evhttp_send_reply(req, code, reason, NULL);
}

/* Answer with one of the page's files. */
static void
web_file(struct evhttp_request *req, const unsigned char *data, size_t len,
    const char *type)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evbuffer_add(evhttp_request_get_output_buffer(req), data, len);
	evhttp_send_reply(req, 200, "OK", NULL);
}

/* Exactly one Host header, naming the view. */
static int
web_host_ok(const struct web *w, struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyval		*kv;
	const char		*host = NULL;
	int			 n = 0;

	TAILQ_FOREACH(kv, in, next)
		if (strcasecmp(kv->key, "Host") == 0) {
			host = kv->value;
			n++;
		}
	return n == 1 && web_auth_host_ok(host, w->host, w->port);
}

/*
 * A query parameter or header that holds an id: 0 when absent. Return 0,
 * or -1 when it is not a whole number.
 */
static int
web_id(const char *s, uint64_t *id)
{
	uint64_t	v = 0;

	*id = 0;
	if (s == NULL)
		return 0;
	if (*s == '\0' || strlen(s) > 19)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*id = v;
	return 0;
}

/* Read the id parameter name of the request's query; -1 when bad. */
static int
web_query_id(struct evhttp_request *req, const char *name, uint64_t *id)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*q = uri != NULL ? evhttp_uri_get_query(uri) :
				    NULL;
	struct evkeyvalq	 params;
	int			 rc;

	*id = 0;
	if (q == NULL)
		return 0;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(q, &params) != 0)
		return -1;
	rc = web_id(evhttp_find_header(&params, name), id);
	evhttp_clear_headers(&params);
	return rc;
}

/*
 * Does the request carry the token: in a cookie, a Bearer header or the
 * query's token parameter (the page's event stream: EventSource sends no
 * header of its own)?
 */
static int
web_token_ok(const struct web *w, struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*q = uri != NULL ? evhttp_uri_get_query(uri) :
				    NULL;
	const char		*t;
	struct evkeyvalq	 params;
	int			 ok;

	if (web_auth_request_ok(evhttp_find_header(in, "Cookie"),
	    evhttp_find_header(in, "Authorization"), w->token))
		return 1;
	if (q == NULL)
		return 0;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(q, &params) != 0)
		return 0;
	t = evhttp_find_header(&params, "token");
	ok = t != NULL && web_auth_token_eq(t, strlen(t), w->token);
	evhttp_clear_headers(&params);
	return ok;
}

/*
 * GET /api/exchanges?after=N: the kept entries after N, as many as fit in
 * WEB_PAGE_BYTES (at least one): each answer is a copy, so a client asks
 * again after the last id it got rather than have the whole ring copied.
 */
static void
web_exchanges(struct web *w, struct evhttp_request *req)
{
	struct evbuffer			*out;
	const struct web_ring_entry	*e;
	struct buf			 b = { NULL, 0, 0 };
	uint64_t			 after, id;
	int				 first;

	if (web_query_id(req, "after", &after) != 0) {
		web_text(req, 400, "Bad Request", "after must be a whole "
		    "number (an exchange's _id)\n");
		return;
	}
	out = evhttp_request_get_output_buffer(req);
	web_json_doc_begin(&b, w->mode, web_ring_keep(w->ring),
	    web_ring_dropped(w->ring));
	evbuffer_add(out, b.data, b.len);
	id = after + 1 > web_ring_oldest(w->ring) ? after + 1 :
	    web_ring_oldest(w->ring);
	for (first = 1; (e = web_ring_get(w->ring, id)) != NULL; id++) {
		if (!first && evbuffer_get_length(out) + e->len > WEB_PAGE_BYTES)
			break;
		if (!first)
			evbuffer_add(out, ",", 1);
		evbuffer_add(out, e->text, e->len);
		first = 0;
	}
	buf_reset(&b);
	web_json_doc_end(&b);
	evbuffer_add(out, b.data, b.len);
	buf_free(&b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", NULL);
}

/* Bytes waiting to leave on a client's connection. */
static size_t
web_client_pending(const struct web_client *c)
{
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(
				    c->evcon);

	return bev != NULL ? evbuffer_get_length(bufferevent_get_output(bev)) :
	    0;
}

static void	web_client_drained_cb(struct evhttp_connection *, void *);

/*
 * A stream reads nothing more from its client, so it has no read
 * timeout (evhttp's would close it after WEB_TIMEOUT_SECS of quiet);
 * what it writes must still leave within WEB_TIMEOUT_SECS.
 */
static void
web_client_timeouts(struct web_client *c)
{
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(
				    c->evcon);
	struct timeval		 tv = { WEB_TIMEOUT_SECS, 0 };

	if (bev != NULL)
		bufferevent_set_timeouts(bev, NULL, &tv);
}

/* Queue bytes on a client's stream; call back when they have left. */
static void
web_client_send(struct web_client *c, const char *data, size_t len)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL)
		fatalx("out of memory");
	evbuffer_add(b, data, len);
	evhttp_send_reply_chunk_with_cb(c->req, b, web_client_drained_cb, c);
	evbuffer_free(b);
}

/* Send what the client is owed, while little waits for it. */
static void
web_client_pump(struct web_client *c)
{
	struct web			*w = c->web;
	const struct web_ring_entry	*e;
	struct buf			 b = { NULL, 0, 0 };
	size_t				 pending = web_client_pending(c);
	int				 missed;

	while (pending + b.len < WEB_SSE_LOW &&
	    c->next < web_ring_next_id(w->ring)) {
		c->next = web_ring_resume(w->ring, c->next - 1, &missed);
		if (missed)
			web_json_sse_dropped(&b, web_ring_dropped(w->ring),
			    c->next);
		e = web_ring_get(w->ring, c->next);
		web_json_sse_exchange(&b, e->id, e->text, e->len);
		c->next++;
	}
	if (b.len > 0)
		web_client_send(c, b.data, b.len);
	buf_free(&b);
}

/* What waited on a stream has left: send more. */
static void
web_client_drained_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	web_client_pump(arg);
}

/*
 * The client's connection ends. evhttp frees it; the request too when
 * the view shuts down (evhttp_free), but when the client left or timed
 * out, evhttp first detaches the unfinished request from the connection
 * and leaves it to us (libevent 2.1, evhttp_connection_incoming_fail).
 */
static void
web_client_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct web_client	*c = arg;

	(void)evcon;
	if (evhttp_request_get_connection(c->req) == NULL)
		evhttp_request_free(c->req);
	TAILQ_REMOVE(&c->web->clients, c, entry);
	c->web->nclients--;
	log_debug("web: event stream closed (%u open)", c->web->nclients);
	free(c);
}

/* GET /api/events: the event stream, resumed after Last-Event-ID. */
static void
web_events(struct web *w, struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct web_client	*c;
	uint64_t		 last, q;
	int			 bad;

	bad = web_id(evhttp_find_header(in, "Last-Event-ID"), &last) != 0;
	bad |= web_query_id(req, "lastEventId", &q) != 0;
	if (bad) {
		web_text(req, 400, "Bad Request", "Last-Event-ID and "
		    "lastEventId must be whole numbers (an exchange's _id)\n");
		return;
	}
	if (last == 0)
		last = q;
	/* An id this view never gave (another run's): start afresh. */
	if (last >= web_ring_next_id(w->ring))
		last = 0;
	if (w->nclients >= WEB_MAX_CLIENTS) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "5");
		web_text(req, 503, "Service Unavailable", "too many event "
		    "streams are open on this view\n");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/event-stream; charset=utf-8");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->web = w;
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	c->next = last + 1;
	TAILQ_INSERT_TAIL(&w->clients, c, entry);
	w->nclients++;
	evhttp_connection_set_closecb(c->evcon, web_client_close_cb, c);
	evhttp_send_reply_start(req, 200, "OK");
	web_client_timeouts(c);
	web_client_send(c, "retry: 1000\n\n", 13);
	web_client_pump(c);
	log_debug("web: event stream opened after id %" PRIu64 " (%u open)",
	    last, w->nclients);
}

/* Every request: check it, then route it. */
static void
web_request_cb(struct evhttp_request *req, void *arg)
{
	struct web		*w = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ?
				    evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);

	web_headers(req);
	if (!web_host_ok(w, req)) {
		web_text(req, 403, "Forbidden", "the Host header must name "
		    "this view's own address\n");
		return;
	}
	/*
	 * An absolute-form target names its own host, which then counts
	 * instead of Host (RFC 9112 3.2.2): a browser sends one only to a
	 * proxy, which the view is not, so only a path is taken.
	 */
	if (uri == NULL || evhttp_uri_get_host(uri) != NULL ||
	    evhttp_uri_get_scheme(uri) != NULL) {
		web_text(req, 400, "Bad Request", "this view answers only "
		    "requests for a path (origin-form), not for a URL\n");
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		web_text(req, 405, "Method Not Allowed", "only GET and HEAD "
		    "are answered\n");
		return;
	}
	if (path == NULL || *path == '\0')
		path = "/";
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
		web_file(req, web_index_html, web_index_html_len,
		    "text/html; charset=utf-8");
	else if (strcmp(path, "/app.js") == 0)
		web_file(req, web_app_js, web_app_js_len,
		    "text/javascript; charset=utf-8");
	else if (strcmp(path, "/app.css") == 0)
		web_file(req, web_app_css, web_app_css_len,
		    "text/css; charset=utf-8");
	else if (strncmp(path, "/api/", 5) != 0)
		web_text(req, 404, "Not Found", "not found\n");
	else if (!web_token_ok(w, req))
		web_text(req, 403, "Forbidden", "this view needs its token: "
		    "open the address patchscope printed (web on ...)\n");
	else if (strcmp(path, "/api/exchanges") == 0)
		web_exchanges(w, req);
	else if (strcmp(path, "/api/events") == 0)
		web_events(w, req);
	else
		web_text(req, 404, "Not Found", "not found\n");
}

/* Every 15 s a comment on each stream, so proxies and the browser wait. */
static void
web_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct web		*w = arg;
	struct web_client	*c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&w->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (web_client_pending(c) < WEB_SSE_LOW)
			web_client_send(c, ": keep-alive\n\n", 14);
	}
}

/*
 * Every connection's bufferevent. evhttp stops reading requests while it
 * writes an answer, but leaves the socket's reading on: a client that
 * reads nothing and sends on would pile its bytes up in memory (gigabytes
 * a second over loopback) until the timeout. With a read high watermark
 * libevent stops reading there; evhttp's own limits (head, body) are
 * below it, so a request it takes always fits.
 */
static struct bufferevent *
web_bev_cb(struct event_base *base, void *arg)
{
	struct bufferevent	*bev;

	(void)arg;
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL)
		bufferevent_setwatermark(bev, EV_READ, 0, WEB_READ_HIGH);
	return bev;
}

/* A view that holds exchanges but does not listen yet. */
struct web *
web_new(const struct options *opts, const char *mode)
{
	struct web	*w = xcalloc(1, sizeof *w);

	w->mode = mode;
	w->spec = opts->web != NULL ? opts->web : "127.0.0.1:0";
	w->allow_remote = opts->web_allow_remote;
	w->ring = web_ring_new(opts->web_keep > 0 ? opts->web_keep :
	    WEB_DEFAULT_KEEP, WEB_MAX_BYTES);
	TAILQ_INIT(&w->clients);
	return w;
}

/* The run's token: 128 bits from the system's random source. */
static int
web_token(struct web *w, char **cause)
{
	unsigned char	b[WEB_TOKEN_BYTES];
	size_t		got = 0;
	ssize_t		n;

	while (got < sizeof b) {
		n = getrandom(b + got, sizeof b - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*cause = xasprintf("cannot make the web view's token: "
			    "getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	web_auth_token_hex(b, w->token);
	explicit_bzero(b, sizeof b);
	return 0;
}

/* The address the view really got, and its URL. */
static void
web_bound(struct web *w, struct evhttp_bound_socket *sock)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	const char		*show;

	memset(&ss, 0, sizeof ss);
	if (getsockname(evhttp_bound_socket_get_fd(sock),
	    (struct sockaddr *)&ss, &len) == 0)
		w->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	/* Bound to every address: the loopback one is the one to open. */
	show = strcmp(w->host, "0.0.0.0") == 0 ? "127.0.0.1" :
	    strcmp(w->host, "::") == 0 ? "::1" : w->host;
	w->url = strchr(show, ':') != NULL ?
	    xasprintf("http://[%s]:%d/#token=%s", show, w->port, w->token) :
	    xasprintf("http://%s:%d/#token=%s", show, w->port, w->token);
}

/* Bind the view and start serving on base. */
int
web_listen(struct web *w, struct event_base *base, char **cause)
{
	struct evhttp_bound_socket	*sock;
	struct timeval			 tv = { WEB_KEEPALIVE_SECS, 0 };
	char				*host = NULL, *why = NULL;
	int				 port;

	if (options_parse_listen(w->spec, &host, &port, &why) != 0) {
		*cause = xasprintf("--web: %s", why);
		free(why);
		return -1;
	}
	if (strcmp(host, "localhost") == 0) {
		free(host);
		host = xstrdup("127.0.0.1");
	}
	if (!w->allow_remote && !web_auth_is_loopback(host)) {
		*cause = xasprintf("--web %s: %s is not a loopback address; "
		    "the view shows every exchange, so other machines may "
		    "reach it only with --web-allow-remote", w->spec, host);
		free(host);
		return -1;
	}
	w->host = host;
	if (web_token(w, cause) != 0)
		return -1;
	w->base = base;
	w->http = evhttp_new(base);
	if (w->http == NULL)
		fatalx("cannot create the web view's HTTP server");
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(w->http, "text/plain; charset=utf-8");
	evhttp_set_max_headers_size(w->http, WEB_MAX_HEAD);
	evhttp_set_max_body_size(w->http, WEB_MAX_BODY);
	evhttp_set_timeout(w->http, WEB_TIMEOUT_SECS);
	evhttp_set_gencb(w->http, web_request_cb, w);
	evhttp_set_bevcb(w->http, web_bev_cb, NULL);
	sock = evhttp_bind_socket_with_handle(w->http, host, (uint16_t)port);
	if (sock == NULL) {
		*cause = xasprintf("cannot listen on --web %s: %s", w->spec,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return -1;
	}
	web_bound(w, sock);
	w->keepalive = event_new(base, -1, EV_PERSIST, web_keepalive_cb, w);
	event_add(w->keepalive, &tv);
	return 0;
}

/* web_new and web_listen. */
struct web *
web_open(struct event_base *base, const struct options *opts,
    const char *mode, char **cause)
{
	struct web	*w = web_new(opts, mode);

	if (web_listen(w, base, cause) != 0) {
		web_free(w);
		return NULL;
	}
	return w;
}

/* The URL to open. */
const char *
web_url(const struct web *w)
{
	return w->url;
}

/* Add an exchange: its text to the ring, then to every stream. */
void
web_add(struct web *w, const struct exchange *x, const char *replay)
{
	struct buf		 b = { NULL, 0, 0 };
	struct web_client	*c, *next;

	web_json_entry(&b, x, web_ring_next_id(w->ring), replay);
	/* Keep no slack: the ring's bytes are what it holds. */
	web_ring_add(w->ring, xreallocarray(b.data, b.len + 1, 1), b.len);
	w->added++;
	for (c = TAILQ_FIRST(&w->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		web_client_pump(c);
	}
}

/* How many exchanges were added, kept or not. */
size_t
web_added(const struct web *w)
{
	return w->added;
}

/* The proxy's sink: a finished exchange, whole. */
static void
web_sink_cb(void *arg, const struct exchange *x,
    const struct capture_info *info)
{
	if (info->full)
		web_add(arg, x, info->replay);
}

/* The view wants the exchanges the proxy kept whole. */
static int
web_sink_wants(void *arg, const struct capture_info *info)
{
	(void)arg;
	return info->full;
}

/* Show the proxy's exchanges. */
void
web_attach(struct web *w, struct proxy *p)
{
	proxy_add_viewer(p, web_sink_cb, web_sink_wants, w, w->host,
	    w->port);
}

/* Free the view; evhttp_free ends every stream (their close callbacks). */
void
web_free(struct web *w)
{
	if (w == NULL)
		return;
	if (w->http != NULL)
		evhttp_free(w->http);
	if (w->keepalive != NULL)
		event_free(w->keepalive);
	web_ring_free(w->ring);
	free(w->host);
	free(w->url);
	free(w);
}
