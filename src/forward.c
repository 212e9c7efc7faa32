/*
 * forward: pass a request to its origin and the answer back.
 *
 * The origin half's bufferevent comes from the upstream pool or a new
 * connection; it belongs to the conn while the exchange runs and goes back
 * to the pool (conn_origin_release) when the exchange ends cleanly. The
 * request head is kept in conn->upstream_head so that a stale pooled
 * connection can be retried once on a fresh one (idempotent methods only).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <llhttp.h>

#include "annotate.h"
#include "buf.h"
#include "capture.h"
#include "conn.h"
#include "diagnose.h"
#include "fault_serve.h"
#include "forward.h"
#include "half.h"
#include "http.h"
#include "log.h"
#include "netaddr.h"
#include "options.h"
#include "response.h"
#include "upstream.h"
#include "xmalloc.h"

#define MAX_INTERIM		8	/* 1xx responses before the final one */

static int	origin_head(struct half *);
static int	origin_body(struct half *, const char *, size_t);
static void	origin_done(struct half *);
static void	origin_error(struct half *, enum half_error, const char *);
static int	origin_stopped(struct half *);
static void	origin_read_cb(struct bufferevent *, void *);
static void	origin_write_cb(struct bufferevent *, void *);
static void	origin_event_cb(struct bufferevent *, short, void *);

static const struct half_ops origin_ops = {
	NULL, origin_head, origin_body, origin_done, origin_error,
	origin_stopped
};

static int	forward_start(struct conn *);
static void	forward_request_done(struct conn *);

const struct handler forward_handler = {
	"forward", forward_start, forward_request_done
};

/* Set up the connection's origin half (once, at accept). */
void
forward_origin_init(struct conn *conn)
{
	half_init(&conn->origin, conn, &origin_ops, &conn->client, 0,
	    conn->proxy->opts->max_header_bytes);
}

static void
set_nodelay(evutil_socket_t fd)
{
	int	one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Get an origin connection (pooled or new) and send the request head. */
static void
origin_start(struct conn *conn)
{
	struct proxy	*p = conn->proxy;
	struct half	*o = &conn->origin;
	char		*cause = NULL;

	half_parser_init(o);
	if (upstream_host_invalid(conn->origin_host)) {
		conn_fail(conn, 502, "upstream_dns",
		    "could not resolve host \"%s\": names under .invalid do "
		    "not exist (RFC 6761)", conn->origin_host);
		return;
	}
	o->bev = NULL;
	if (!conn->retried)
		o->bev = upstream_pool_take(p->pool, conn->origin_tls,
		    conn->origin_name, conn->origin_host, conn->origin_port);
	conn->origin_reused = o->bev != NULL;
	o->plain = !conn->origin_tls;
	o->connected = conn->origin_reused;
	if (o->bev == NULL) {
		o->bev = upstream_connect(p->pool, conn->origin_tls,
		    conn->origin_name, conn->origin_host, conn->origin_port,
		    &cause);
		if (o->bev == NULL) {
			conn_fail(conn, 502, "upstream_unreachable", "%s",
			    cause);
			free(cause);
			return;
		}
		conn_set_state(conn, CONN_CONNECT);
		conn_arm(conn, TIMER_CONNECT);
	} else {
		conn_set_state(conn, CONN_WAIT_RESPONSE);
		conn_arm(conn, TIMER_IDLE);
	}
	bufferevent_setcb(o->bev, origin_read_cb, origin_write_cb,
	    origin_event_cb, conn);
	bufferevent_setwatermark(o->bev, EV_WRITE, HALF_RELAY_LOW, 0);
	/*
	 * A TLS bufferevent reserves its whole single-read size for every
	 * read, whatever arrived: 64 KiB allocated and freed per answer
	 * (and malloc consolidating its free lists each time) for a record
	 * of a few hundred bytes. A record holds 16 KiB at most.
	 */
	bufferevent_set_max_single_read(o->bev, conn->origin_tls ?
	    HALF_TLS_SINGLE_READ : HALF_SINGLE_IO);
	bufferevent_set_max_single_write(o->bev, HALF_SINGLE_IO);
	/*
	 * Enabling EV_WRITE re-adds the write event even with nothing to
	 * send, which costs a wake-up and two epoll_ctl calls: a pooled
	 * connection has it on already.
	 */
	if ((bufferevent_get_enabled(o->bev) & (EV_READ | EV_WRITE)) !=
	    (EV_READ | EV_WRITE))
		bufferevent_enable(o->bev, EV_READ | EV_WRITE);
	if (conn->upstream_head.len > 0)
		half_write(o, conn->upstream_head.data,
		    conn->upstream_head.len);
	log_debug("[#%" PRIu64 "] origin %s:%d (%s)", conn->id,
	    conn->origin_host, conn->origin_port,
	    conn->origin_reused ? "reused" : "new connection");
}

/* This exchange goes to the cassette: keep both bodies and the headers. */
void
forward_record_begin(struct conn *conn)
{
	conn->cap.record = 1;
	conn->cap.keep_req = 1;
	conn->cap.keep_resp = 1;
	capture_request_headers(&conn->cap, &conn->client.headers);
}

/* The request head is in: send it on, or hold a PATCH for --guard. */
static int
forward_start(struct conn *conn)
{
	struct half	*c = &conn->client;

	if (conn->proxy->recorder != NULL)
		forward_record_begin(conn);
	if (conn->inspect_req && conn->proxy->opts->guard) {
		/* --guard: read the whole PATCH before anything is sent. */
		c->hold = 1;
		conn_set_state(conn, CONN_READ_HELD);
		conn_arm(conn, TIMER_IDLE);
		return 0;
	}
	http_request_head(&conn->upstream_head,
	    llhttp_method_name((llhttp_method_t)conn->method),
	    conn->target.target, &c->headers);
	origin_start(conn);
	return conn_finishing(conn) ? -1 : 0;
}

/* --guard found errors: answer 422 in the API's error shape, keep alive. */
void
forward_guard_answer(struct conn *conn)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct buf		 body = { NULL, 0, 0 };

	annotate_guard_body(&conn->cap.diags, &body);
	buf_add(&body, "\n", 1);
	http_headers_add(&h, HTTP_LIT(HTTP_CONTENT_TYPE),
	    HTTP_LIT("application/json"));
	/* The cassette keeps this answer as patchscope's own. */
	capture_own_answer(&conn->cap, 422, &h, body.data, body.len, 1);
	http_headers_set_length(&h, body.len);
	annotate_headers(&conn->cap.diags, &h);
	conn_answer(conn, 422, &h, body.data, body.len);
	conn->origin.msg_done = 1;
	http_headers_clear(&h);
	buf_free(&body);
	conn_exchange_finish(conn);
}

/* Send a request held whole to its origin, with a Content-Length. */
void
forward_release(struct conn *conn)
{
	struct half		*c = &conn->client;
	const struct buf	*body = &conn->cap.req.raw;

	c->hold = 0;
	http_headers_remove(&c->headers, HTTP_TRANSFER_ENCODING);
	http_headers_set_length(&c->headers, body->len);
	c->chunked_out = 0;
	conn->req_has_body = body->len > 0;
	http_request_head(&conn->upstream_head,
	    llhttp_method_name((llhttp_method_t)conn->method),
	    conn->target.target, &c->headers);
	origin_start(conn);
	if (conn_finishing(conn))
		return;
	half_write(&conn->origin, body->data, body->len);
}

/* The whole request is in: a held one is checked, then sent or refused. */
static void
forward_request_done(struct conn *conn)
{
	if (!conn->client.hold)
		return;
	if (diag_list_has_errors(&conn->cap.diags))
		forward_guard_answer(conn);
	else
		forward_release(conn);
}

/* Remember the origin's address for the cassette (HAR serverIPAddress). */
static void
origin_peer_ip(struct conn *conn)
{
	char	*ip;

	if (conn->origin.bev == NULL)
		return;
	ip = netaddr_peer_ip(bufferevent_getfd(conn->origin.bev));
	if (ip == NULL)
		return;
	free(conn->cap.server_ip);
	conn->cap.server_ip = ip;
}

/* An interim (1xx) answer: pass it on to HTTP/1.1 clients. */
static int
origin_interim(struct conn *conn, int status, const char *reason)
{
	struct half	*o = &conn->origin;
	struct buf	 head = { NULL, 0, 0 };

	if (++conn->interims > MAX_INTERIM) {
		conn_fail(conn, 502, "upstream_bad_response", "the origin sent "
		    "more than %d interim (1xx) responses", MAX_INTERIM);
		return -1;
	}
	if (!conn->client_http10) {
		http_response_head(&head, status, reason, &o->headers);
		half_write(&conn->client, head.data, head.len);
	}
	buf_free(&head);
	return 0;
}

/* The response head is complete: decide framing and send it on. */
static int
origin_head(struct half *o)
{
	struct conn	*conn = o->arg;
	llhttp_t	*parser = &o->parser;
	int		 status = parser->status_code, no_body;
	const char	*reason;

	if (status == 101) {
		conn_fail(conn, 502, "upstream_bad_response",
		    "the origin switched protocols, which patchscope does not "
		    "relay");
		return -1;
	}
	conn_touch(conn);
	reason = o->reason.len > 0 ? buf_str(&o->reason) : http_reason(status);
	http_headers_strip_hop(&o->headers);
	if (o->interim)
		return origin_interim(conn, status, reason);
	conn->resp_status = status;
	capture_response(&conn->cap, status, reason, &o->headers);
	if (conn->cap.record)
		origin_peer_ip(conn);
	no_body = conn->method == HTTP_HEAD || status == 204 || status == 304;
	if (no_body)
		o->chunked_out = 0;
	else if (parser->flags & F_CHUNKED) {
		if (conn->client_http10) {
			http_headers_remove(&o->headers,
			    HTTP_TRANSFER_ENCODING);
			conn->close_after = 1;
		} else
			o->chunked_out = 1;
	} else if (!(parser->flags & F_CONTENT_LENGTH)) {
		/* Read until the origin closes. */
		if (!conn->client_http10 &&
		    !(parser->flags & F_TRANSFER_ENCODING)) {
			http_headers_add(&o->headers,
			    HTTP_LIT(HTTP_TRANSFER_ENCODING),
			    HTTP_LIT("chunked"));
			o->chunked_out = 1;
		} else
			conn->close_after = 1;
	}
	http_headers_add(&o->headers, HTTP_LIT(HTTP_VIA),
	    HTTP_LIT("1.1 patchscope"));
	if (conn->close_after || !conn->client_keepalive ||
	    conn->proxy->draining) {
		conn->close_after = 1;
		http_headers_add(&o->headers, HTTP_LIT(HTTP_CONNECTION),
		    HTTP_LIT("close"));
	} else if (conn->client_http10)
		http_headers_add(&o->headers, HTTP_LIT(HTTP_CONNECTION),
		    HTTP_LIT("keep-alive"));
	response_inspect(conn, no_body);
	if (conn->fault != NULL)
		fault_serve_response_head(conn, no_body);
	conn_set_state(conn, CONN_RELAY_RESPONSE);
	conn_arm(conn, TIMER_IDLE);
	if (!conn->hold_resp)
		response_send_head(conn);
	return 0;
}

static int
origin_body(struct half *o, const char *data, size_t len)
{
	struct conn	*conn = o->arg;

	if (capture_response_body(&conn->cap, conn->hold_resp, data,
	    len) == 0)
		return 0;
	/* Too big to annotate: send what is held, then relay the rest. */
	if (conn->hold_resp)
		response_release(conn);
	/* A recording keeps the part that fits; nothing is learned. */
	capture_cut(&conn->cap, &conn->cap.resp, data, len,
	    conn->cap.keep_resp);
	conn->cap.learn_resp = 0;
	return 0;
}

static void
origin_done(struct half *o)
{
	struct conn	*conn = o->arg;

	/* Answered before the request ended: this connection is done. */
	if (!conn->client.msg_done)
		conn->close_after = 1;
	conn_exchange_finish(conn);
}

static void
origin_error(struct half *o, enum half_error err, const char *detail)
{
	struct conn	*conn = o->arg;

	if (err == HALF_ERR_HEAD_TOO_LARGE)
		conn_fail(conn, 502, "upstream_bad_response",
		    "the origin's response head is too large");
	else
		conn_fail(conn, 502, "upstream_bad_response",
		    "the origin sent a malformed response: %s", detail);
}

static int
origin_stopped(struct half *o)
{
	return conn_finishing(o->arg);
}

static void
origin_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;

	(void)bev;
	conn_touch(conn);
	half_fill(&conn->origin);
	half_parse(&conn->origin);
}

static void
origin_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;

	(void)bev;
	conn_origin_drained(conn);
}

/* Retry once on a fresh connection when a reused one was stale. */
static int
origin_retry(struct conn *conn)
{
	/* RFC 9110 9.2.2: only idempotent requests are retried unasked. */
	static const int	 idempotent[] = {
		HTTP_GET, HTTP_HEAD, HTTP_OPTIONS, HTTP_TRACE, HTTP_PUT,
		HTTP_DELETE
	};
	size_t			 i;

	for (i = 0; i < sizeof idempotent / sizeof idempotent[0]; i++)
		if (conn->method == idempotent[i])
			break;
	if (i == sizeof idempotent / sizeof idempotent[0] ||
	    !conn->origin_reused || conn->retried || conn->resp_started ||
	    conn->req_has_body || conn->origin.body_bytes > 0 ||
	    conn->origin.head_bytes > 0)
		return 0;
	log_debug("[#%" PRIu64 "] pooled connection was stale; retrying",
	    conn->id);
	bufferevent_free(conn->origin.bev);
	conn->origin.bev = NULL;
	conn->retried = 1;
	origin_start(conn);
	return 1;
}

static void
origin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn		*conn = arg;
	struct half		*o = &conn->origin;
	char			*msg, to[64];
	enum upstream_error	 kind;
	int			 err;

	if (what & BEV_EVENT_CONNECTED) {
		set_nodelay(bufferevent_getfd(bev));
		o->connected = 1;
		if (conn->origin_tls)
			log_debug("[#%" PRIu64 "] TLS with %s:%d: %s", conn->id,
			    conn->origin_name, conn->origin_port,
			    upstream_tls_resumed(bev) == 1 ? "session resumed" :
			    "full handshake");
		conn_set_state(conn, CONN_WAIT_RESPONSE);
		conn_arm(conn, conn->client.msg_done ? TIMER_RESPONSE :
		    TIMER_IDLE);
		return;
	}
	if (conn->state == CONN_CONNECT) {
		msg = upstream_connect_error(bev, conn->origin_name,
		    conn->origin_port, &kind);
		/* Say where a --resolve mapping actually sent it. */
		if (upstream_pool_mapped(conn->proxy->pool, conn->origin_host,
		    conn->origin_port, to, sizeof to) != NULL)
			conn_fail(conn, 502, upstream_error_code(kind),
			    "%s (--resolve sends it to %s)", msg, to);
		else
			conn_fail(conn, 502, upstream_error_code(kind), "%s",
			    msg);
		free(msg);
		return;
	}
	err = (what & BEV_EVENT_ERROR) ? EVUTIL_SOCKET_ERROR() : 0;
	/* A body delimited by the close ends here. */
	if ((what & BEV_EVENT_EOF) && half_eof(o)) {
		if (!conn->client.msg_done)
			conn->close_after = 1;
		conn_exchange_finish(conn);
		return;
	}
	/* No response head at all (a held one has its status already). */
	if (!conn->resp_started && conn->resp_status == 0) {
		if (origin_retry(conn))
			return;
		if (err != 0)
			conn_fail(conn, 502, "upstream_unreachable",
			    "the connection to %s:%d failed before a response: "
			    "%s", conn->origin_host, conn->origin_port,
			    evutil_socket_error_to_string(err));
		else
			conn_fail(conn, 502, "upstream_unreachable",
			    "%s:%d closed the connection without answering",
			    conn->origin_host, conn->origin_port);
		return;
	}
	/*
	 * With the head already sent, conn_fail can only close; with the
	 * response held for annotation, the client is told with a 502.
	 */
	conn_fail(conn, conn->resp_started ? conn->resp_status : 502,
	    "upstream_closed", "the origin closed the connection "
	    "mid-response after %" PRIu64 " body bytes", o->body_bytes);
}
