/*
 * drift_fetch: one request to a live origin, one answer back.
 *
 * The connection is made by upstream_connect (DNS, TLS with the origins'
 * context: system roots, --upstream-ca, the name checked), the request
 * goes out with "Connection: close", and llhttp (strict, as everywhere in
 * patchscope) reads the answer. One timer: --connect-timeout until the
 * connection (and TLS handshake) is up, then --response-timeout, armed
 * again by every byte that arrives. The struct fetch lives on the stack
 * of drift_fetch, which runs the loop until the answer is in or failed:
 * no callback outlives it, since the bufferevent and the timer are freed
 * before it returns.
 *
 * Everything from the origin is hostile: the head is bounded
 * (FETCH_MAX_HEAD bytes, FETCH_MAX_HEADERS lines), the body is kept up to
 * max_body and then cut, interim answers are bounded too.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <llhttp.h>

#include "buf.h"
#include "drift.h"
#include "drift_fetch.h"
#include "http.h"
#include "log.h"
#include "netaddr.h"
#include "upstream.h"
#include "xmalloc.h"

#define FETCH_MAX_HEAD		(64 * 1024)	/* bytes of an answer's head */
#define FETCH_MAX_HEADERS	512		/* its header lines */
#define FETCH_MAX_INTERIM	100		/* 1xx answers before it */
#define FETCH_READ_CHUNK	16384

struct fetch {
	const struct drift_fetch_conf	*conf;
	const struct http_url		*u;
	int				 head_method;	/* HEAD: no body */
	struct bufferevent		*bev;
	struct event			*timer;
	llhttp_t			 parser;
	struct drift_answer		*a;

	/* The head being read. */
	struct buf			 field;
	struct buf			 value;
	int				 in_value;
	size_t				 head_bytes;
	int				 interims;
	int				 head_done;
	int				 got_bytes;
	const char			*why;	/* what a callback refused */

	/* How it went. */
	int				 connected;
	int				 done;
	char				*cause;
	struct timespec			 t0, t_sent, t_head;
};

static llhttp_settings_t	fetch_settings;

static double
fetch_ms(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec == 0 && a->tv_nsec == 0)
		return 0;
	return (double)(b->tv_sec - a->tv_sec) * 1000.0 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Fail the fetch (the first cause stands). */
static void
fetch_fail(struct fetch *f, char *cause)
{
	if (f->cause == NULL && !f->done)
		f->cause = cause;
	else
		free(cause);
	f->done = 1;
}

static void
fetch_arm(struct fetch *f, unsigned ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(f->timer, &tv);
}

/* Head bytes counted against the limit; -1 past it. */
static int
fetch_head_count(struct fetch *f, size_t len)
{
	f->head_bytes += len;
	if (f->head_bytes <= FETCH_MAX_HEAD)
		return 0;
	f->why = "its head is larger than 64 KiB";
	return -1;
}

static void
fetch_push_header(struct fetch *f)
{
	if (f->field.len > 0)
		http_headers_add(&f->a->headers, f->field.data, f->field.len,
		    buf_str(&f->value), f->value.len);
	buf_reset(&f->field);
	buf_reset(&f->value);
	f->in_value = 0;
}

static int
fetch_status_cb(llhttp_t *p, const char *at, size_t len)
{
	struct fetch	*f = p->data;
	struct buf	 b = { NULL, 0, 0 };

	if (fetch_head_count(f, len) != 0)
		return HPE_USER;
	if (f->a->reason != NULL)
		buf_adds(&b, f->a->reason);
	buf_add(&b, at, len);
	free(f->a->reason);
	f->a->reason = b.data;
	return 0;
}

static int
fetch_field_cb(llhttp_t *p, const char *at, size_t len)
{
	struct fetch	*f = p->data;
	size_t		 i;

	if (f->in_value)
		fetch_push_header(f);
	if (fetch_head_count(f, len + 4) != 0)
		return HPE_USER;
	for (i = 0; i < len; i++)
		if (!http_token_char((unsigned char)at[i])) {
			f->why = "a header name holds a character a name "
			    "cannot have";
			return HPE_USER;
		}
	if (f->field.len == 0 && f->a->headers.n >= FETCH_MAX_HEADERS) {
		f->why = "it has more than 512 header lines";
		return HPE_USER;
	}
	buf_add(&f->field, at, len);
	return 0;
}

static int
fetch_value_cb(llhttp_t *p, const char *at, size_t len)
{
	struct fetch	*f = p->data;

	if (fetch_head_count(f, len) != 0)
		return HPE_USER;
	buf_add(&f->value, at, len);
	f->in_value = 1;
	return 0;
}

static int
fetch_headers_done_cb(llhttp_t *p)
{
	struct fetch	*f = p->data;
	int		 status = p->status_code;

	fetch_push_header(f);
	if (status == 101) {
		f->why = "it switched protocols (101)";
		return -1;
	}
	if (status >= 100 && status < 200) {
		/* An interim answer: the final one follows. */
		if (++f->interims > FETCH_MAX_INTERIM) {
			f->why = "it sent more than 100 interim (1xx) "
			    "answers";
			return -1;
		}
		http_headers_clear(&f->a->headers);
		free(f->a->reason);
		f->a->reason = NULL;
		return 0;
	}
	f->head_done = 1;
	f->a->status = status;
	clock_gettime(CLOCK_MONOTONIC, &f->t_head);
	/* RFC 9110 9.3.2: an answer to HEAD has no body, whatever it says. */
	return f->head_method ? 1 : 0;
}

static int
fetch_body_cb(llhttp_t *p, const char *at, size_t len)
{
	struct fetch	*f = p->data;
	size_t		 room;

	f->a->wire_bytes += len;
	room = f->conf->max_body - f->a->body.len;
	if (len > room) {
		/* Kept as far as it fits, marked cut, as recording does. */
		buf_add(&f->a->body, at, room);
		f->a->truncated = 1;
		f->done = 1;
		return HPE_PAUSED;
	}
	buf_add(&f->a->body, at, len);
	return 0;
}

static int
fetch_message_done_cb(llhttp_t *p)
{
	struct fetch	*f = p->data;

	if (!f->head_done) {
		/* An interim answer ended: read the next head afresh. */
		f->head_bytes = 0;
		return 0;
	}
	f->done = 1;
	return HPE_PAUSED;
}

static void
fetch_settings_init(void)
{
	static int	done;

	if (done)
		return;
	done = 1;
	llhttp_settings_init(&fetch_settings);
	fetch_settings.on_status = fetch_status_cb;
	fetch_settings.on_header_field = fetch_field_cb;
	fetch_settings.on_header_value = fetch_value_cb;
	fetch_settings.on_headers_complete = fetch_headers_done_cb;
	fetch_settings.on_body = fetch_body_cb;
	fetch_settings.on_message_complete = fetch_message_done_cb;
}

/* What was wrong with the answer (ours, else llhttp's), as one line. */
static void
fetch_parse_error(struct fetch *f, llhttp_errno_t err)
{
	const char	*why = f->why;

	if (why == NULL)
		why = llhttp_get_error_reason(&f->parser);
	fetch_fail(f, xasprintf("the answer of %s:%d is not valid HTTP: %s",
	    f->u->host, f->u->port, why != NULL && *why != '\0' ? why :
	    llhttp_errno_name(err)));
}

static void
fetch_read_cb(struct bufferevent *bev, void *arg)
{
	struct fetch	*f = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		 chunk[FETCH_READ_CHUNK];
	llhttp_errno_t	 err;
	int		 n;

	fetch_arm(f, f->conf->response_ms);
	while (!f->done) {
		n = evbuffer_remove(in, chunk, sizeof chunk);
		if (n <= 0)
			break;
		f->got_bytes = 1;
		err = llhttp_execute(&f->parser, chunk, (size_t)n);
		if (err == HPE_PAUSED && f->done)
			break;
		if (err != HPE_OK)
			fetch_parse_error(f, err);
	}
}

/* The origin's address, for the entry (HAR serverIPAddress). */
static void
fetch_peer_ip(struct fetch *f)
{
	char	*ip = netaddr_peer_ip(bufferevent_getfd(f->bev));

	if (ip != NULL) {
		free(f->a->server_ip);
		f->a->server_ip = ip;
	}
}

static void
fetch_write_cb(struct bufferevent *bev, void *arg)
{
	struct fetch	*f = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    f->t_sent.tv_sec == 0)
		clock_gettime(CLOCK_MONOTONIC, &f->t_sent);
}

/* The origin closed: an answer read until close ends here. */
static void
fetch_eof(struct fetch *f)
{
	llhttp_errno_t	err;

	if (!f->got_bytes) {
		fetch_fail(f, xasprintf("%s:%d closed the connection without "
		    "answering", f->u->host, f->u->port));
		return;
	}
	err = llhttp_finish(&f->parser);
	if (f->done)
		return;
	/* A body short of its length or last chunk ends in "EOF state". */
	if (err != HPE_OK && err != HPE_PAUSED &&
	    err != HPE_INVALID_EOF_STATE) {
		fetch_parse_error(f, err);
		return;
	}
	fetch_fail(f, xasprintf("%s:%d closed the connection before its "
	    "answer was complete", f->u->host, f->u->port));
}

static void
fetch_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fetch		*f = arg;
	enum upstream_error	 kind;
	char			*msg, to[64];
	int			 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		f->connected = 1;
		fetch_peer_ip(f);
		fetch_arm(f, f->conf->response_ms);
		log_debug("drift: connected to %s:%d", f->u->host, f->u->port);
		return;
	}
	if (!f->connected) {
		msg = upstream_connect_error(bev, f->u->host, f->u->port,
		    &kind);
		/* Say where a --resolve mapping actually sent it. */
		if (upstream_pool_mapped(f->conf->pool, f->u->host, f->u->port,
		    to, sizeof to) != NULL) {
			fetch_fail(f, xasprintf("%s (--resolve sends it to "
			    "%s)", msg, to));
			free(msg);
		} else
			fetch_fail(f, msg);
		return;
	}
	/* Bytes that came with the close are read first. */
	fetch_read_cb(bev, f);
	if (f->done)
		return;
	if (what & BEV_EVENT_EOF)
		fetch_eof(f);
	else
		fetch_fail(f, xasprintf("the connection to %s:%d failed: %s",
		    f->u->host, f->u->port, err != 0 ?
		    evutil_socket_error_to_string(err) : "reset"));
}

static void
fetch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch	*f = arg;

	(void)fd;
	(void)what;
	if (!f->connected)
		fetch_fail(f, xasprintf("could not connect to %s:%d within "
		    "%.3g s (--connect-timeout)", f->u->host, f->u->port,
		    f->conf->connect_ms / 1000.0));
	else
		fetch_fail(f, xasprintf("%s:%d sent nothing for %.3g s "
		    "(--response-timeout)", f->u->host, f->u->port,
		    f->conf->response_ms / 1000.0));
}

/* The wall clock now, as HAR's startedDateTime. */
static char *
fetch_started(void)
{
	struct timespec	 t;
	struct tm	 tm;
	char		 date[32];

	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%03ldZ", date, t.tv_nsec / 1000000);
}

/* Send one request and read its answer. */
int
drift_fetch(const struct drift_fetch_conf *conf, const struct http_url *u,
    const char *method, const struct buf *request, struct drift_answer *a,
    char **cause)
{
	struct fetch	f;
	struct timespec	now;
	int		tls = strcmp(u->scheme, "https") == 0;

	memset(&f, 0, sizeof f);
	f.conf = conf;
	f.u = u;
	f.a = a;
	f.head_method = strcmp(method, "HEAD") == 0;
	fetch_settings_init();
	llhttp_init(&f.parser, HTTP_RESPONSE, &fetch_settings);
	f.parser.data = &f;
	a->started = fetch_started();
	clock_gettime(CLOCK_MONOTONIC, &f.t0);
	if (upstream_host_invalid(u->host)) {
		*cause = xasprintf("could not resolve host \"%s\": names under "
		    ".invalid never resolve", u->host);
		return -1;
	}
	f.bev = upstream_connect(conf->pool, tls, u->host, u->host, u->port,
	    cause);
	if (f.bev == NULL)
		return -1;
	f.timer = evtimer_new(conf->base, fetch_timer_cb, &f);
	if (f.timer == NULL) {
		bufferevent_free(f.bev);
		*cause = xasprintf("cannot make a timer for %s:%d", u->host,
		    u->port);
		return -1;
	}
	bufferevent_setcb(f.bev, fetch_read_cb, fetch_write_cb,
	    fetch_event_cb, &f);
	bufferevent_enable(f.bev, EV_READ | EV_WRITE);
	bufferevent_write(f.bev, request->data, request->len);
	fetch_arm(&f, conf->connect_ms);
	while (!f.done)
		if (event_base_loop(conf->base, EVLOOP_ONCE) != 0) {
			fetch_fail(&f, xasprintf("the event loop stopped "
			    "while waiting for %s:%d", u->host, u->port));
			break;
		}
	clock_gettime(CLOCK_MONOTONIC, &now);
	a->send_ms = fetch_ms(&f.t0, &f.t_sent);
	a->wait_ms = f.t_sent.tv_sec != 0 ? fetch_ms(&f.t_sent, &f.t_head) : 0;
	a->receive_ms = f.t_head.tv_sec != 0 ? fetch_ms(&f.t_head, &now) : 0;
	event_free(f.timer);
	bufferevent_free(f.bev);
	buf_free(&f.field);
	buf_free(&f.value);
	if (f.cause != NULL) {
		*cause = f.cause;
		return -1;
	}
	return 0;
}
