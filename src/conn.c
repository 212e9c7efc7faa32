/*
 * conn: the life of one client connection.
 *
 * A connection is one struct conn with two halves, the client and the
 * origin (half.c parses and relays; it reports to the ops here and in
 * forward.c). This file holds the state machine, the one timer and what
 * its expiry means in each state, the one way out (conn_close), patchscope's
 * own answers (conn_answer, conn_fail), and the end of each exchange, which
 * the capture hands to the sinks.
 *
 * Invariants:
 * - conn_close() is the one way out. It logs, frees both bufferevents and
 *   moves the conn to the proxy's dead list; the struct is freed later from
 *   the loop, so callers up the stack may still look at conn->state.
 * - The origin bufferevent belongs to the conn while an exchange runs and
 *   to the upstream pool between exchanges.
 * - The timer records what it waits for (enum conn_timer); activity only
 *   stamps a time, and the idle deadline is pushed back when it fires.
 */
#include "config.h"

#include <sys/socket.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>
#include <llhttp.h>

#include "annotate.h"
#include "buf.h"
#include "ca.h"
#include "capture.h"
#include "conn.h"
#include "diagnose.h"
#include "fault.h"
#include "fault_serve.h"
#include "half.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "forward.h"
#include "profile.h"
#include "request.h"
#include "response.h"
#include "tunnel.h"
#include "upstream.h"
#include "xmalloc.h"

#define LINGER_MS		2000	/* read after the last answer */
#define FLUSH_POLL_MS		20	/* wait for TLS bytes to leave */
#define KEEP_BUF_BYTES		8192	/* buffers kept between exchanges */

static const char *conn_state_names[] = {
	"wait-request", "handshake", "read-head", "read-held", "connect",
	"wait-response", "relay-response", "drain", "linger", "tunnel",
	"fault", "closed"
};

static void	client_begin(struct half *);
static int	client_head(struct half *);
static int	client_body(struct half *, const char *, size_t);
static void	client_done(struct half *);
static void	client_error(struct half *, enum half_error, const char *);
static int	client_stopped(struct half *);

static const struct half_ops client_ops = {
	client_begin, client_head, client_body, client_done, client_error,
	client_stopped
};

static void
monotonic_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static double
elapsed_ms(const struct timespec *from)
{
	struct timespec	now;

	monotonic_now(&now);
	return (double)(now.tv_sec - from->tv_sec) * 1000.0 +
	    (double)(now.tv_nsec - from->tv_nsec) / 1e6;
}

/* Move to a state; logs old -> new at debug level. */
void
conn_set_state(struct conn *conn, enum conn_state state)
{
	if (conn->state == state)
		return;
	log_debug("[#%" PRIu64 "] %s -> %s", conn->id,
	    conn_state_names[conn->state], conn_state_names[state]);
	conn->state = state;
}

static void
timer_add(struct conn *conn, unsigned ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(conn->timer, &tv);
}

/* How long a timer of this kind runs. */
static unsigned
timer_ms(const struct conn *conn, enum conn_timer kind)
{
	const struct options	*opts = conn->proxy->opts;

	switch (kind) {
	case TIMER_HEADER:
		return opts->header_timeout_ms;
	case TIMER_IDLE:
		return opts->idle_timeout_ms;
	case TIMER_CONNECT:
		return opts->connect_timeout_ms;
	case TIMER_RESPONSE:
		return opts->response_timeout_ms;
	case TIMER_LINGER:
		return LINGER_MS;
	case TIMER_FLUSH:
		return FLUSH_POLL_MS;
	case TIMER_FAULT:
		return conn->fault != NULL ? conn->fault->ms : 0;
	}
	return opts->idle_timeout_ms;
}

/* Arm the one timer for what it waits for, counting from now. */
void
conn_arm(struct conn *conn, enum conn_timer kind)
{
	conn->timer_kind = kind;
	if (kind != TIMER_FLUSH)
		monotonic_now(&conn->last_activity);
	timer_add(conn, timer_ms(conn, kind));
}

/* Note progress on a transfer; the idle timer is pushed back lazily. */
void
conn_touch(struct conn *conn)
{
	monotonic_now(&conn->last_activity);
}

/* Forget the last exchange: a new request begins. */
static void
conn_reset_exchange(struct conn *conn)
{
	buf_recycle(&conn->upstream_head, KEEP_BUF_BYTES);
	if (conn->have_target)
		http_url_free(&conn->target);
	conn->have_target = 0;
	conn->handler = NULL;
	conn->method = -1;
	conn->req_has_body = 0;
	conn->resp_status = 0;
	conn->resp_started = 0;
	conn->interims = 0;
	conn->origin_reused = 0;
	conn->retried = 0;
	free(conn->origin_host);
	conn->origin_host = NULL;
	free(conn->origin_name);
	conn->origin_name = NULL;
	profile_ref_free(&conn->ref);
	conn->api = conn->inspect_req = conn->hold_resp = 0;
	conn->origin_form = 0;
	conn->fault = NULL;
	conn->client.out_left = -1;
	capture_begin(&conn->cap, conn->proxy->opts->max_body_buffer);
	half_reset_message(&conn->origin);
}

/* The origin took bytes: note progress, let the client read again. */
void
conn_origin_drained(struct conn *conn)
{
	conn_touch(conn);
	if (conn->state != CONN_DRAIN)
		half_unthrottle(&conn->client);
}

/* Give the origin connection back to the pool (reusable) or close it. */
void
conn_origin_release(struct conn *conn, int reusable)
{
	struct half	*o = &conn->origin;

	if (o->bev == NULL)
		return;
	if (reusable && !conn->proxy->draining) {
		upstream_pool_put(conn->proxy->pool, conn->origin_tls,
		    conn->origin_name, conn->origin_host, conn->origin_port,
		    o->bev);
	} else
		bufferevent_free(o->bev);
	o->bev = NULL;
	o->throttled = 0;
	o->paused = 0;
	o->connected = 0;
	buf_reset(&o->cork);
	/* Nothing more goes out to the origin: let the client read again. */
	half_unthrottle(&conn->client);
}

/* Return nonzero once the last answer is given (or the conn is gone). */
int
conn_finishing(const struct conn *conn)
{
	return conn->state == CONN_CLOSED || conn->state == CONN_DRAIN ||
	    conn->state == CONN_LINGER;
}

void
proxy_maybe_done(struct proxy *p)
{
	if (p->draining && p->nconns == 0)
		event_base_loopexit(p->base, NULL);
}

/* Close once, logging why: the one way out. */
void
conn_close(struct conn *conn, const char *fmt, ...)
{
	struct proxy	*p = conn->proxy;
	va_list		 ap;
	char		*why;

	if (conn->state == CONN_CLOSED)
		return;
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	if (log_enabled(LOG_LEVEL_DEBUG) || conn->state == CONN_RELAY_RESPONSE ||
	    conn->state == CONN_WAIT_RESPONSE || conn->state == CONN_CONNECT ||
	    conn->state == CONN_READ_HELD)
		log_info("[#%" PRIu64 "] closed: %s (%d exchanges)", conn->id,
		    why != NULL ? why : "?", conn->exchanges);
	free(why);
	conn_set_state(conn, CONN_CLOSED);
	evtimer_del(conn->timer);
	event_del(conn->resume);
	if (conn->client.bev != NULL)
		bufferevent_free(conn->client.bev);
	conn->client.bev = NULL;
	if (conn->origin.bev != NULL)
		bufferevent_free(conn->origin.bev);
	conn->origin.bev = NULL;
	TAILQ_REMOVE(&p->conns, conn, entry);
	TAILQ_INSERT_TAIL(&p->dead, conn, entry);
	p->nconns--;
	event_active(p->reaper, EV_TIMEOUT, 1);
	if (p->listener != NULL && !p->draining)
		evconnlistener_enable(p->listener);
	proxy_maybe_done(p);
}

/* Free a closed connection (from the loop, never up a callback stack). */
void
conn_free(struct conn *conn)
{
	event_free(conn->timer);
	event_free(conn->resume);
	conn_reset_exchange(conn);
	if (conn->have_tunnel || conn->raw_tunnel)
		http_url_free(&conn->tunnel);
	buf_free(&conn->upstream_head);
	capture_free(&conn->cap);
	half_free_buffers(&conn->client);
	half_free_buffers(&conn->origin);
	free(conn);
}

/*
 * The last answer is out: half-close, then read and discard what the client
 * still sends for a moment. Closing at once with unread input makes the
 * kernel send a reset, which can destroy the answer before the client
 * reads it (the client may still be uploading a body we refused).
 */
static void
conn_linger(struct conn *conn)
{
	struct bufferevent	*bev = conn->client.bev, *under;

	if (conn->state != CONN_LINGER) {
		conn_set_state(conn, CONN_LINGER);
		monotonic_now(&conn->last_activity);
	}
	evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
	/* Under TLS, encrypted bytes may still wait in the socket layer. */
	under = bufferevent_get_underlying(bev);
	if (under != NULL && evbuffer_get_length(
	    bufferevent_get_output(under)) > 0 &&
	    elapsed_ms(&conn->last_activity) < LINGER_MS) {
		conn_arm(conn, TIMER_FLUSH);
		return;
	}
	if (shutdown(bufferevent_getfd(bev), SHUT_WR) != 0) {
		conn_close(conn, "answered and closed");
		return;
	}
	bufferevent_enable(bev, EV_READ);
	conn_arm(conn, TIMER_LINGER);
}

/* Stop parsing the client, flush what is queued, then close. */
void
conn_drain(struct conn *conn)
{
	struct bufferevent	*bev = conn->client.bev;

	conn_set_state(conn, CONN_DRAIN);
	conn_origin_release(conn, 0);
	/* The last answer may sit in the cork of a parse pass: send it. */
	half_uncork(&conn->client);
	bufferevent_enable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	conn_arm(conn, TIMER_IDLE);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_linger(conn);
}

/* Answer the client with patchscope's own message. */
void
conn_answer(struct conn *conn, int status, struct http_headers *h,
    const char *body, size_t len)
{
	struct buf	head = { NULL, 0, 0 };

	if (http_headers_get(h, HTTP_CONTENT_LENGTH) == NULL)
		http_headers_set_length(h, len);
	if (conn->close_after || !conn->client_keepalive ||
	    conn->proxy->draining) {
		conn->close_after = 1;
		http_headers_add(h, HTTP_LIT(HTTP_CONNECTION),
		    HTTP_LIT("close"));
	}
	http_response_head(&head, status, http_reason(status), h);
	/* --fault truncate cuts the body: the head goes first, alone. */
	if (conn->fault != NULL) {
		half_write(&conn->client, head.data, head.len);
		fault_serve_head_sent(conn, conn->method != HTTP_HEAD ?
		    (int64_t)len : 0);
		buf_reset(&head);
	}
	/* The length describes the body; a HEAD answer goes without it. */
	if (conn->method != HTTP_HEAD)
		buf_add(&head, body, len);
	half_write(&conn->client, head.data, head.len);
	conn->resp_started = 1;
	conn->resp_status = status;
	buf_free(&head);
}

/* Answer with a JSON error and close, or just close mid-response. */
void
conn_fail(struct conn *conn, int status, const char *code, const char *fmt,
    ...)
{
	struct http_headers	 h = { NULL, 0, 0 };
	va_list			 ap;
	char			*msg, *body, *text;
	json_t			*obj;

	if (conn_finishing(conn))
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (conn->resp_started && conn->client.cork_head &&
	    conn->client.corked) {
		/* Nothing has left yet: the client can still get an answer. */
		buf_reset(&conn->client.cork);
		conn->client.cork_head = 0;
		conn->resp_started = 0;
	}
	if (conn->resp_started) {
		/* Cut off mid-response: keep what came, marked. */
		if (!conn->origin.msg_done)
			conn->cap.resp.truncated = 1;
		conn_exchange_done(conn, conn->resp_status, code,
		    msg != NULL ? msg : "?");
		conn_close(conn, "%s", msg != NULL ? msg : code);
		free(msg);
		return;
	}
	obj = json_pack("{s:s, s:i, s:s, s:s}", "source", "patchscope",
	    "status", status, "error", code, "message",
	    msg != NULL ? msg : code);
	text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	body = xasprintf("%s\n", text != NULL ? text : "{}");
	free(text);
	http_headers_add(&h, HTTP_LIT(HTTP_CONTENT_TYPE),
	    HTTP_LIT("application/json"));
	http_headers_add(&h, HTTP_LIT(HTTP_X_ERROR), code, strlen(code));
	capture_own_answer(&conn->cap, status, &h, body, strlen(body), 0);
	conn_exchange_done(conn, status, code, msg != NULL ? msg : "?");
	conn->close_after = 1;
	conn_answer(conn, status, &h, body, strlen(body));
	conn->exchanges++;
	http_headers_clear(&h);
	free(body);
	free(msg);
	conn_drain(conn);
}

/* Hand the exchange to the sinks (code/message: patchscope's error). */
void
conn_exchange_done(struct conn *conn, int status, const char *code,
    const char *message)
{
	struct proxy		*p = conn->proxy;
	struct capture_info	 info;

	memset(&info, 0, sizeof info);
	info.conn_id = conn->id;
	info.status = status;
	info.code = code;
	info.message = message;
	info.req_bytes = conn->client.body_bytes;
	info.resp_bytes = conn->origin.body_bytes;
	conn_watch_exchange(conn, &info);
	capture_finish(&conn->cap, p->redactor, p->sinks, p->nsinks, &info,
	    buf_str(&conn->client.url));
}

/* Both messages are done (or the response ended the exchange early). */
void
conn_exchange_finish(struct conn *conn)
{
	struct half	*c = &conn->client, *o = &conn->origin;
	int		 reusable;

	response_complete(conn);
	conn->exchanges++;
	conn_exchange_done(conn, conn->resp_status, NULL, NULL);
	reusable = o->bev != NULL && llhttp_should_keep_alive(&o->parser) &&
	    c->msg_done && half_input_len(o) == 0;
	conn_origin_release(conn, reusable);
	if (conn->close_after || !conn->client_keepalive ||
	    conn->proxy->draining || !c->msg_done) {
		conn_drain(conn);
		return;
	}
	conn_set_state(conn, CONN_WAIT_REQUEST);
	conn_arm(conn, TIMER_IDLE);
	half_resume(c);
	half_unthrottle(c);
	if (half_input_len(c) > 0)
		event_active(conn->resume, EV_TIMEOUT, 1);
}

/* The key of a profile's snapshot: host:port, or "replay". */
void
conn_profile_key(struct conn *conn, struct buf *key)
{
	profile_key(key, conn->origin_name, conn->origin_port,
	    conn->proxy->mode == PROXY_REPLAY);
}

/* Client half ops. */

static void
client_begin(struct half *c)
{
	struct conn	*conn = c->arg;

	conn_reset_exchange(conn);
	if (conn->state == CONN_WAIT_REQUEST ||
	    conn->state == CONN_HANDSHAKE) {
		conn_set_state(conn, CONN_READ_HEAD);
		/* The first request's clock started at accept. */
		if (conn->exchanges > 0)
			conn_arm(conn, TIMER_HEADER);
	}
}

static int
client_head(struct half *c)
{
	return request_head(c->arg);
}

static int
client_body(struct half *c, const char *data, size_t len)
{
	struct conn	*conn = c->arg;

	if (capture_request_body(&conn->cap, conn->inspect_req, data,
	    len) == 0)
		return 0;
	/* Over --max-body-buffer: too big to check or to hold whole. */
	conn->inspect_req = 0;
	if (c->hold) {
		conn->cap.req.truncated = 1;
		return -1;
	}
	/* A recording keeps the part that fits. */
	capture_cut(&conn->cap, &conn->cap.req, data, len, 1);
	return 0;
}

static void
client_done(struct half *c)
{
	struct conn	*conn = c->arg;

	capture_request_done(&conn->cap);
	if (conn->inspect_req)
		request_diagnose(conn);
	if (conn->handler != NULL && conn->handler->request_done != NULL)
		conn->handler->request_done(conn);
	if (conn_finishing(conn) || conn->state == CONN_WAIT_REQUEST)
		return;
	if (conn->origin.msg_done || conn->state == CONN_WAIT_RESPONSE)
		conn_arm(conn, TIMER_RESPONSE);
	if (conn->origin.msg_done)
		conn_exchange_finish(conn);
}

static void
client_error(struct half *c, enum half_error err, const char *detail)
{
	struct conn		*conn = c->arg;
	const struct options	*opts = conn->proxy->opts;

	switch (err) {
	case HALF_ERR_BODY_REFUSED:
		if (conn->proxy->mode == PROXY_REPLAY)
			conn_fail(conn, 413, "body_too_large", "replay matches "
			    "whole requests, and this body is larger than "
			    "--max-body-buffer (%zu bytes); raise the limit",
			    opts->max_body_buffer);
		else
			conn_fail(conn, 413, "body_too_large", "--guard cannot "
			    "check a PATCH body larger than --max-body-buffer "
			    "(%zu bytes); raise the limit or run without "
			    "--guard", opts->max_body_buffer);
		return;
	case HALF_ERR_REJECTED:
		conn_fail(conn, 400, "bad_request", "malformed request: %s",
		    detail);
		return;
	case HALF_ERR_HEAD_TOO_LARGE:
		conn_fail(conn, 431, "headers_too_large", "the request head is "
		    "larger than --max-header-bytes (%zu bytes) or has more "
		    "than %d header lines", opts->max_header_bytes,
		    OPTIONS_MAX_HEADERS);
		return;
	case HALF_ERR_MALFORMED:
		break;
	}
	if (conn->resp_started)
		/* Mid-body with an answer under way: nothing to repair. */
		conn_close(conn, "malformed request body: %s", detail);
	else if (c->head_done)
		conn_fail(conn, 400, "bad_request", "malformed request body: "
		    "%s", detail);
	else
		conn_fail(conn, 400, "bad_request", "malformed request: %s",
		    detail);
}

/* Nothing to parse once finishing, nor while latency holds a request. */
static int
client_stopped(struct half *c)
{
	struct conn	*conn = c->arg;

	return conn_finishing(conn) || (conn->state == CONN_FAULT &&
	    conn->fault->kind == FAULT_LATENCY);
}

/* Client bufferevent callbacks. */

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;

	if (conn->state == CONN_DRAIN || conn->state == CONN_LINGER ||
	    (conn->state == CONN_FAULT && conn->client.msg_done)) {
		/*
		 * Nothing more is parsed; unread input is thrown away (and
		 * a hung request still sees the client close).
		 */
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	if (conn->state == CONN_TUNNEL) {
		tunnel_relay(&conn->client);
		return;
	}
	/* A raw tunnel still connecting: hold the bytes for later. */
	if (conn->raw_tunnel)
		return;
	conn_touch(conn);
	half_fill(&conn->client);
	half_parse(&conn->client);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;

	if (conn->state == CONN_DRAIN) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_linger(conn);
		else
			conn_touch(conn);
		return;
	}
	if (conn->state == CONN_LINGER)
		return;
	conn_touch(conn);
	half_unthrottle(&conn->origin);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*conn = arg;
	char		 why[256];
	int		 reset;

	if (what & BEV_EVENT_CONNECTED) {
		/* The client's TLS handshake is done. */
		if (conn->state == CONN_HANDSHAKE)
			conn_set_state(conn, CONN_WAIT_REQUEST);
		log_debug("[#%" PRIu64 "] TLS with the client for %s "
		    "established", conn->id, conn->tunnel.host);
		return;
	}
	if (conn->state == CONN_HANDSHAKE) {
		ca_tls_error(bev, why, sizeof why);
		/* An alert about our certificate means the CA is not trusted. */
		log_warnx("[#%" PRIu64 "] TLS handshake with the client for "
		    "%s:%d failed: %s%s", conn->id, conn->tunnel.host,
		    conn->tunnel.port, why, strstr(why, "unknown ca") != NULL ||
		    strstr(why, "certificate") != NULL ? " (the client does "
		    "not trust patchscope's CA: see 'patchscope env')" : "");
		conn_close(conn, "TLS handshake failed");
		return;
	}
	if (conn->state == CONN_TUNNEL) {
		tunnel_log(conn);
		conn_close(conn, "client closed the tunnel");
		return;
	}
	if (conn->state == CONN_LINGER) {
		conn_close(conn, "answered and closed");
		return;
	}
	reset = (what & BEV_EVENT_EOF) == 0;
	if (reset)
		snprintf(why, sizeof why, "client connection error: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(why, sizeof why, "client closed the connection");
	if (conn->state == CONN_WAIT_REQUEST) {
		conn_close(conn, "%s", why);
		return;
	}
	/*
	 * A client that closes (or resets) mid-exchange has given up (or
	 * only half-closed, which HTTP clients rarely do): stop fetching
	 * from the origin, as nginx does, rather than stream a body nobody
	 * reads. The exchange is logged, and recorded as far as it got.
	 */
	if (conn->resp_started && !conn->origin.msg_done)
		conn->cap.resp.truncated = 1;
	if (conn->state != CONN_DRAIN)
		conn_exchange_done(conn, conn->resp_status != 0 ?
		    conn->resp_status : 499, "client_closed", reset ?
		    "the client reset the connection mid-exchange" :
		    "the client closed the connection mid-exchange");
	conn_close(conn, "%s", why);
}

/* Set the client's bufferevent callbacks (after a TLS layer is added). */
void
conn_client_setcb(struct conn *conn)
{
	struct bufferevent	*bev = conn->client.bev;

	bufferevent_setcb(bev, client_read_cb, client_write_cb,
	    client_event_cb, conn);
	bufferevent_setwatermark(bev, EV_WRITE, HALF_RELAY_LOW, 0);
	/* Pipelined requests wait in the input: bound it. */
	bufferevent_setwatermark(bev, EV_READ, 0, HALF_RELAY_HIGH);
}

/*
 * Activity only stamps a time (conn_touch); when the timer fires, push the
 * deadline back to --idle-timeout after the last activity. Return nonzero
 * when it was pushed back, 0 when the connection really was idle.
 */
static int
conn_idle_rearm(struct conn *conn)
{
	unsigned	idle_ms = conn->proxy->opts->idle_timeout_ms;
	double		idle = elapsed_ms(&conn->last_activity);

	if (idle + 1 >= idle_ms)
		return 0;
	timer_add(conn, idle_ms - (unsigned)idle);
	return 1;
}

/* A request (head or held body) is late, or the origin is. */
static void
conn_timeout_exchange(struct conn *conn)
{
	const struct options	*opts = conn->proxy->opts;

	if (conn->state == CONN_WAIT_RESPONSE && conn->client.msg_done &&
	    conn->timer_kind == TIMER_RESPONSE) {
		conn_fail(conn, 504, "upstream_timeout", "%s:%d did not "
		    "answer within --response-timeout (%.1f s)",
		    conn->origin_host, conn->origin_port,
		    opts->response_timeout_ms / 1000.0);
		return;
	}
	if (conn_idle_rearm(conn))
		return;
	if (!conn->client.msg_done && !conn->resp_started &&
	    conn->client.throttled) {
		conn_fail(conn, 504, "upstream_timeout", "%s:%d stopped "
		    "reading the request body for --idle-timeout (%.1f s)",
		    conn->origin_name, conn->origin_port,
		    opts->idle_timeout_ms / 1000.0);
		return;
	}
	if (!conn->client.msg_done && !conn->resp_started) {
		conn_fail(conn, 408, "request_timeout", "the request body "
		    "stopped arriving for --idle-timeout (%.1f s)",
		    opts->idle_timeout_ms / 1000.0);
		return;
	}
	conn_fail(conn, 504, "transfer_stalled", "no data moved for "
	    "--idle-timeout (%.1f s)", opts->idle_timeout_ms / 1000.0);
}

/* The one timer: what expiry means depends on the state. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn		*conn = arg;
	const struct options	*opts = conn->proxy->opts;

	(void)fd;
	(void)what;
	switch (conn->state) {
	case CONN_HANDSHAKE:
		log_warnx("[#%" PRIu64 "] TLS handshake with the client for "
		    "%s:%d did not finish within --header-timeout", conn->id,
		    conn->tunnel.host, conn->tunnel.port);
		conn_close(conn, "TLS handshake timed out");
		return;
	case CONN_WAIT_REQUEST:
		if (conn->exchanges == 0 && half_input_len(&conn->client) > 0) {
			conn_fail(conn, 408, "request_timeout",
			    "the request head did not arrive within "
			    "--header-timeout (%.1f s)",
			    opts->header_timeout_ms / 1000.0);
			return;
		}
		conn_close(conn, "idle");
		return;
	case CONN_READ_HEAD:
		conn_fail(conn, 408, "request_timeout",
		    "the request head did not arrive within --header-timeout "
		    "(%.1f s)", opts->header_timeout_ms / 1000.0);
		return;
	case CONN_CONNECT:
		conn_fail(conn, 504, "upstream_connect_timeout",
		    "could not connect to %s:%d within --connect-timeout "
		    "(%.1f s)", conn->origin_host, conn->origin_port,
		    opts->connect_timeout_ms / 1000.0);
		return;
	case CONN_READ_HELD:
	case CONN_WAIT_RESPONSE:
	case CONN_RELAY_RESPONSE:
		conn_timeout_exchange(conn);
		return;
	case CONN_DRAIN:
		if (conn_idle_rearm(conn))
			return;
		conn_close(conn, "client did not read the last answer");
		return;
	case CONN_LINGER:
		if (conn->timer_kind == TIMER_FLUSH) {
			conn_linger(conn);
			return;
		}
		conn_close(conn, "answered and closed");
		return;
	case CONN_TUNNEL:
		if (conn_idle_rearm(conn))
			return;
		tunnel_log(conn);
		conn_close(conn, "tunnel idle for --idle-timeout");
		return;
	case CONN_FAULT:
		/* Latency is "at least MS": the loop's clock may run early. */
		if (conn->timer_kind == TIMER_FAULT && conn->fault != NULL &&
		    elapsed_ms(&conn->fault_at) < conn->fault->ms) {
			timer_add(conn, conn->fault->ms - (unsigned)
			    elapsed_ms(&conn->fault_at));
			return;
		}
		fault_serve_timer(conn);
		return;
	case CONN_CLOSED:
		return;
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*conn = arg;

	(void)fd;
	(void)what;
	half_parse(&conn->client);
}

/* Set up a connection on an accepted socket; NULL when it cannot be. */
struct conn *
conn_new(struct proxy *p, int fd)
{
	struct conn	*conn;

	conn = xcalloc(1, sizeof *conn);
	conn->proxy = p;
	conn->id = ++p->next_id;
	conn->method = -1;
	conn->state = CONN_WAIT_REQUEST;
	half_init(&conn->client, conn, &client_ops, &conn->origin, 1,
	    p->opts->max_header_bytes);
	forward_origin_init(conn);
	conn->timer = evtimer_new(p->base, conn_timer_cb, conn);
	conn->resume = event_new(p->base, -1, 0, resume_cb, conn);
	conn->client.bev = bufferevent_socket_new(p->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (conn->client.bev == NULL) {
		log_warnx("could not set up a client connection");
		evutil_closesocket(fd);
		event_free(conn->timer);
		event_free(conn->resume);
		free(conn);
		return NULL;
	}
	conn->client.plain = 1;
	conn->client.connected = 1;
	half_parser_init(&conn->client);
	capture_begin(&conn->cap, p->opts->max_body_buffer);
	TAILQ_INSERT_TAIL(&p->conns, conn, entry);
	p->nconns++;
	conn_client_setcb(conn);
	bufferevent_set_max_single_read(conn->client.bev, HALF_SINGLE_IO);
	bufferevent_set_max_single_write(conn->client.bev, HALF_SINGLE_IO);
	bufferevent_enable(conn->client.bev, EV_READ | EV_WRITE);
	log_debug("[#%" PRIu64 "] accepted", conn->id);
	if (p->nconns > p->opts->max_connections) {
		conn_fail(conn, 503, "too_many_connections",
		    "patchscope already has --max-connections (%u) client "
		    "connections open", p->opts->max_connections);
		return conn;
	}
	conn_arm(conn, TIMER_HEADER);
	return conn;
}
