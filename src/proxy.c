/*
 * proxy: listener and client connections of the HTTP/1.1 forward proxy.
 *
 * A connection is one struct conn with two halves: the client and the origin.
 * Each half has its bufferevent and an llhttp parser (requests on the client
 * half, responses on the origin half); body bytes parsed on one half are
 * written to half->peer, so one relay function serves both directions.
 *
 * Invariants:
 * - llhttp owns framing. Callbacks only record what they saw and relay body
 *   bytes; state changes that can free things happen in half_parse() after
 *   llhttp_execute() returns, never inside a parser callback.
 * - A parser is paused at the end of each message, so a pipelined request
 *   waits in the client's input buffer until the previous response is done.
 * - When a peer's output grows past RELAY_HIGH the half stops reading and
 *   resumes when that output drains below RELAY_LOW: memory per connection
 *   is bounded whatever the body size.
 * - conn_close() is the one way out. It logs, frees both bufferevents and
 *   moves the conn to the dead list; the struct itself is freed later from
 *   the loop, so callers up the stack may still test conn->closed.
 * - The origin bufferevent belongs to the conn while an exchange runs and to
 *   the upstream pool between exchanges.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>
#include <llhttp.h>

#include "annotate.h"
#include "api.h"
#include "body.h"
#include "buf.h"
#include "ca.h"
#include "cassette.h"
#include "diagnose.h"
#include "exchange.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "proxy.h"
#include "recorder.h"
#include "redact.h"
#include "replay.h"
#include "rules.h"
#include "snapshot.h"
#include "upstream.h"
#include "xmalloc.h"

#define RELAY_HIGH		(256 * 1024)	/* stop reading the source */
#define RELAY_LOW		(64 * 1024)	/* resume reading */
#define SINGLE_IO		(64 * 1024)	/* bytes per read or write call */
#define SHUTDOWN_DEADLINE_MS	5000
#define POOL_MAX_IDLE		256
#define ACCEPT_RETRY_MS		1000
#define LINGER_MS		2000	/* read after the last answer */
#define FLUSH_POLL_MS		20	/* wait for TLS bytes to leave */
#define MAX_INTERIM		8	/* 1xx responses before the final one */
#define KEEP_BUF_BYTES		8192	/* buffers kept between exchanges */
#define SNAPSHOTS		1024	/* profiles remembered */
#define LEAF_CACHE		1024	/* minted certificates kept */

enum conn_state {
	CONN_WAIT_REQUEST,	/* keep-alive: no byte of a request yet */
	CONN_READ_HEAD,		/* reading the request head */
	CONN_CONNECT,		/* connecting to the origin */
	CONN_WAIT_RESPONSE,	/* request going out, no response byte yet */
	CONN_RELAY_RESPONSE,	/* response head sent on, body streaming */
	CONN_DRAIN,		/* flushing a last answer, then close */
	CONN_LINGER,		/* answer sent; discard input until EOF */
	CONN_TUNNEL,		/* CONNECT without interception: raw bytes */
	CONN_CLOSED
};

static const char *conn_state_names[] = {
	"wait-request", "read-head", "connect", "wait-response",
	"relay-response", "drain", "linger", "tunnel", "closed"
};

struct conn;

/* Replay: the cassette entry that first shows a profile. */
struct replay_seed {
	char	*key;		/* account NUL profile */
	size_t	 keylen;
	size_t	 entry;
};

struct half {
	struct conn		*conn;
	struct half		*peer;
	const char		*name;		/* "client" or "origin" */
	struct bufferevent	*bev;
	llhttp_t		 parser;
	int			 paused;	/* parser stopped at message end */
	int			 throttled;	/* reading off for backpressure */
	int			 chunked_out;	/* re-chunk body sent to peer */
	int			 plain;		/* a TCP socket, no TLS layer */
	int			 corked;	/* collect writes in cork */
	struct buf		 cork;		/* writes held during a parse */
	int			 connected;	/* the socket may be written */
	uint64_t		 body_bytes;	/* body bytes parsed this message */
	/* Head being parsed. */
	struct buf		 field;
	struct buf		 value;
	int			 in_value;
	struct http_headers	 headers;
	struct buf		 reason;	/* response reason phrase */
	size_t			 head_bytes;	/* head bytes seen by callbacks */
	size_t			 raw_head_bytes;/* head bytes fed to llhttp */
	int			 head_done;
	int			 msg_done;
	const char		*reject;	/* why a callback stopped llhttp */
	const char		*exec_start;	/* input given to llhttp_execute */
	char			 exec_prev;	/* last byte of the input before
						   that is not a blank */
};

struct proxy {
	struct event_base	*base;
	struct evdns_base	*dns;
	const struct options	*opts;
	struct evconnlistener	*listener;
	struct upstream_pool	*pool;
	struct ca		*ca;
	struct rules		*rules;
	struct snapshot_store	*snapshots;
	struct redactor		*redactor;	/* for the log and cassettes */
	struct recorder		*recorder;	/* record; replay --fallback */
	struct replay_index	*replay;	/* replay: answer from it */
	struct replay_seed	*seeds;		/* replay: first answer of each
						   profile, sorted by key */
	size_t			 nseeds;
	int			 color;		/* stderr is a terminal */
	struct ssl_ctx_st	*upstream_tls;
	struct event		*accept_retry;
	struct event		*shutdown_timer;
	struct event		*reaper;
	TAILQ_HEAD(, conn)	 conns;
	TAILQ_HEAD(, conn)	 dead;
	unsigned		 nconns;
	uint64_t		 next_id;
	int			 draining;
	char			*address;
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct proxy		*proxy;
	uint64_t		 id;
	enum conn_state		 state;
	int			 closed;
	struct half		 client;
	struct half		 origin;
	struct event		*timer;
	struct event		*resume;	/* parse pipelined input later */
	struct timespec		 last_activity;
	unsigned		 timer_ms;	/* what the timer counts */

	/* The exchange in progress. */
	struct timespec		 t_start;
	struct timespec		 t_wall;	/* t_start on the calendar */
	struct timespec		 t_req_done;	/* request fully read */
	struct timespec		 t_resp_head;	/* response head in */
	int			 origin_form;	/* replay: GET /path, no URL */
	struct buf		 url;
	struct http_url		 target;
	int			 have_target;
	int			 method;
	struct buf		 upstream_head;	/* kept for one retry */
	int			 client_keepalive;
	int			 client_http10;
	int			 req_has_body;
	int			 resp_status;
	int			 resp_started;	/* a response head went out */
	int			 head_corked;	/* ... but is still in the cork */
	int			 interim;	/* parsing a 1xx response */
	int			 interims;	/* 1xx responses so far */
	int			 close_after;	/* close once the answer is out */
	int			 origin_reused;
	int			 retried;
	int			 exchanges;
	char			*origin_host;	/* where to connect */
	char			*origin_name;	/* TLS name: SNI, certificate */
	int			 origin_port;
	int			 origin_tls;

	/* After CONNECT: where the tunnel goes and how. */
	struct http_url		 tunnel;
	int			 have_tunnel;	/* intercepting TLS */
	int			 handshaking;	/* client TLS handshake running */
	int			 raw_tunnel;	/* --no-intercept: bytes only */
	int			 linger_flushing;/* TLS bytes still leaving */

	/* Profile API inspection of the exchange in progress. */
	int			 api;		/* a profile URL */
	char			*api_account;
	char			*api_profile;
	char			*api_fields;	/* the "fields" parameter */
	int			 inspect_req;	/* keep the PATCH body */
	int			 hold_req;	/* --guard: send only if clean */
	int			 guard_overflow;/* held body over the limit */
	struct buf		 req_body;
	int			 req_truncated;
	struct diag_list	 diags;
	int			 capture_resp;	/* keep a copy to learn from */
	int			 hold_resp;	/* keep it all to annotate */
	struct buf		 resp_body;
	int			 resp_truncated;
	uint64_t		 learned_hash;	/* last profile body learned */

	/* Recording of the exchange in progress. */
	int			 rec;		/* goes to the cassette */
	int			 keep_req;	/* keep the request body */
	int			 rec_resp;	/* keep the response body */
	int			 own_answer;	/* patchscope answered itself */
	int			 diagnosed;	/* the PATCH body was checked */
	char			*rec_url;	/* absolute URL */
	struct http_headers	 rec_req_headers;
	struct http_headers	 rec_resp_headers;
	char			*server_ip;
};

static llhttp_settings_t request_settings;

/* The answer to a CONNECT that patchscope takes on. */
static const char connect_ok[] = "HTTP/1.1 200 Connection established\r\n"
    "Via: 1.1 patchscope\r\n\r\n";
static llhttp_settings_t response_settings;

static void	conn_close(struct conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	conn_fail(struct conn *, int, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static void	half_parse(struct half *);
static void	origin_start(struct conn *);
static void	exchange_finish(struct conn *);
static void	set_nodelay(evutil_socket_t);
static void	half_write(struct half *, const void *, size_t);
static void	half_uncork(struct half *);
static void	tunnel_open(struct conn *);
static void	tunnel_log(struct conn *);
static void	tunnel_relay(struct half *);
static void	half_relay_out(struct half *, const char *, size_t);
static void	response_release(struct conn *);
static void	response_send_head(struct conn *);
static void	response_inspect(struct conn *, int);
static void	response_complete(struct conn *);
static void	request_diagnose(struct conn *);
static void	request_release(struct conn *);
static void	replay_answer(struct conn *);
static const struct snapshot *replay_seed_snapshot(struct proxy *,
		    const char *, const char *);
static void	guard_answer(struct conn *);

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

static void
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

/* Arm the connection's one timer: ms from now, counting from now. */
static void
conn_arm(struct conn *conn, unsigned ms)
{
	conn->timer_ms = ms;
	monotonic_now(&conn->last_activity);
	timer_add(conn, ms);
}

/* Note progress on a transfer; the idle timer is pushed back lazily. */
static void
conn_touch(struct conn *conn)
{
	monotonic_now(&conn->last_activity);
}

static void
half_init(struct half *h, struct conn *conn, struct half *peer,
    const char *name)
{
	h->conn = conn;
	h->peer = peer;
	h->name = name;
}

/* Forget the head and counters of the last message. */
/* Empty a buffer; give its memory back when one exchange made it big. */
static void
buf_recycle(struct buf *b)
{
	if (b->cap > KEEP_BUF_BYTES)
		buf_free(b);
	else
		buf_reset(b);
}

static void
half_reset_message(struct half *h)
{
	buf_recycle(&h->field);
	buf_recycle(&h->value);
	buf_recycle(&h->reason);
	if (!h->corked)
		buf_recycle(&h->cork);
	http_headers_clear(&h->headers);
	h->in_value = 0;
	h->head_bytes = h->raw_head_bytes = 0;
	h->head_done = h->msg_done = 0;
	h->reject = NULL;
	h->body_bytes = 0;
	h->chunked_out = 0;
}

static void
half_free_buffers(struct half *h)
{
	buf_free(&h->field);
	buf_free(&h->value);
	buf_free(&h->reason);
	buf_free(&h->cork);
	http_headers_clear(&h->headers);
}

static void
conn_reset_exchange(struct conn *conn)
{
	buf_recycle(&conn->url);
	buf_recycle(&conn->upstream_head);
	if (conn->have_target)
		http_url_free(&conn->target);
	conn->have_target = 0;
	conn->method = -1;
	conn->req_has_body = 0;
	conn->resp_status = 0;
	conn->resp_started = 0;
	conn->head_corked = 0;
	conn->interim = 0;
	conn->interims = 0;
	conn->origin_reused = 0;
	conn->retried = 0;
	free(conn->origin_host);
	conn->origin_host = NULL;
	free(conn->origin_name);
	conn->origin_name = NULL;
	free(conn->api_account);
	free(conn->api_profile);
	free(conn->api_fields);
	conn->api_account = conn->api_profile = conn->api_fields = NULL;
	conn->api = conn->inspect_req = conn->hold_req = 0;
	conn->guard_overflow = conn->req_truncated = 0;
	conn->capture_resp = conn->hold_resp = conn->resp_truncated = 0;
	conn->origin_form = 0;
	conn->rec = conn->keep_req = conn->rec_resp = conn->own_answer = 0;
	conn->diagnosed = 0;
	memset(&conn->t_req_done, 0, sizeof conn->t_req_done);
	memset(&conn->t_resp_head, 0, sizeof conn->t_resp_head);
	free(conn->rec_url);
	conn->rec_url = NULL;
	free(conn->server_ip);
	conn->server_ip = NULL;
	http_headers_clear(&conn->rec_req_headers);
	http_headers_clear(&conn->rec_resp_headers);
	buf_recycle(&conn->req_body);
	buf_recycle(&conn->resp_body);
	diag_list_free(&conn->diags);
	half_reset_message(&conn->client);
	half_reset_message(&conn->origin);
}

static void
origin_release(struct conn *conn, int reusable)
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
	if (conn->client.throttled && conn->client.bev != NULL) {
		conn->client.throttled = 0;
		bufferevent_enable(conn->client.bev, EV_READ);
	}
}

/* Nonzero once the connection has given its last answer (or is gone). */
static int
conn_finishing(const struct conn *conn)
{
	return conn->closed || conn->state == CONN_DRAIN ||
	    conn->state == CONN_LINGER;
}

static void
proxy_maybe_done(struct proxy *p)
{
	if (p->draining && p->nconns == 0)
		event_base_loopexit(p->base, NULL);
}

/* Close the connection once, logging why. */
static void
conn_close(struct conn *conn, const char *fmt, ...)
{
	struct proxy	*p = conn->proxy;
	va_list		 ap;
	char		*why;

	if (conn->closed)
		return;
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	if (log_enabled(LOG_LEVEL_DEBUG) || conn->state == CONN_RELAY_RESPONSE ||
	    conn->state == CONN_WAIT_RESPONSE || conn->state == CONN_CONNECT)
		log_info("[#%" PRIu64 "] closed: %s (%d exchanges)", conn->id,
		    why != NULL ? why : "?", conn->exchanges);
	free(why);
	conn_set_state(conn, CONN_CLOSED);
	conn->closed = 1;
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

static void
conn_free(struct conn *conn)
{
	event_free(conn->timer);
	event_free(conn->resume);
	conn_reset_exchange(conn);
	if (conn->have_tunnel || conn->raw_tunnel)
		http_url_free(&conn->tunnel);
	buf_free(&conn->url);
	buf_free(&conn->upstream_head);
	buf_free(&conn->req_body);
	buf_free(&conn->resp_body);
	half_free_buffers(&conn->client);
	half_free_buffers(&conn->origin);
	free(conn);
}

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

/* The absolute URL of the current request ("" when there is none yet). */
static void
conn_abs_url(struct conn *conn, struct buf *b)
{
	if (!conn->have_target)
		return;
	buf_printf(b, "%s://", conn->target.scheme);
	http_url_authority(b, &conn->target);
	buf_adds(b, conn->target.target);
}

/* The URL of the current request as it may appear in a log line. */
static void
conn_log_url(struct conn *conn, const struct exchange *x, struct buf *b)
{
	struct buf	 raw = { NULL, 0, 0 };
	char		*safe;

	if (x != NULL && x->url != NULL)
		buf_adds(b, x->url);
	else if (conn->have_target) {
		conn_abs_url(conn, &raw);
		safe = redact_url(conn->proxy->redactor, buf_str(&raw));
		buf_adds(b, safe);
		free(safe);
		buf_free(&raw);
	} else if (conn->url.len > 0 && conn->url.len < 200 &&
	    conn->url.data[0] == '/')
		buf_add(b, conn->url.data, strcspn(conn->url.data, "?"));
	else
		buf_adds(b, "-");
}

/* The diagnoses as JSON: the redacted ones of x, else the list's. */
static json_t *
conn_diags_json(struct conn *conn, const struct exchange *x)
{
	json_t	*diags;
	size_t	 i;

	if (x != NULL && x->diagnoses != NULL)
		return json_incref(x->diagnoses);
	diags = json_array();
	for (i = 0; i < conn->diags.n; i++)
		json_array_append_new(diags, diag_to_json(&conn->diags.v[i]));
	return diags;
}

/* The JSON record of an exchange, for --log-json. */
static void
conn_log_json(struct conn *conn, const struct exchange *x, const char *method,
    const char *url, int status, const char *code, const char *message)
{
	json_t	*rec;
	char	*line;

	rec = json_pack("{s:I, s:s, s:s, s:i, s:I, s:I, s:f, s:o}",
	    "id", (json_int_t)conn->id, "method", method, "url", url,
	    "status", status, "req_bytes", (json_int_t)conn->client.body_bytes,
	    "resp_bytes", (json_int_t)conn->origin.body_bytes,
	    "ms", elapsed_ms(&conn->t_start), "diagnoses",
	    conn_diags_json(conn, x));
	if (rec == NULL)
		return;
	if (code != NULL) {
		json_object_set_new(rec, "error", json_string(code));
		json_object_set_new(rec, "message", json_string(message));
	}
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line != NULL)
		log_raw(line);
	free(line);
	json_decref(rec);
}

/* The diagnoses of an exchange, compiler style, under its line. */
static void
conn_log_diags(struct conn *conn, const struct exchange *x)
{
	static const char	*colors[] = {
		[DIAG_ERROR] = "\033[1;31m", [DIAG_WARNING] = "\033[1;33m",
		[DIAG_INFO] = "\033[1;36m"
	};
	struct buf		 line = { NULL, 0, 0 };
	const char		*code;
	json_t			*diags, *d;
	size_t			 i;
	int			 lost = 0;

	if (conn->diags.n == 0)
		return;
	diags = conn_diags_json(conn, x);
	for (i = 0; i < json_array_size(diags); i++) {
		d = json_array_get(diags, i);
		buf_reset(&line);
		if (diag_format_json(d, &line) != 0)
			continue;
		if (conn->proxy->color)
			log_info("[#%" PRIu64 "]   %s%s\033[0m", conn->id,
			    colors[diag_severity_json(d)], buf_str(&line));
		else
			log_info("[#%" PRIu64 "]   %s", conn->id,
			    buf_str(&line));
		code = json_string_value(json_object_get(d, "code"));
		if (code != NULL && strcmp(code, "actions.partial") == 0)
			lost = 1;
	}
	json_decref(diags);
	/* The API takes such a PATCH silently: that is the data loss. */
	if (lost && conn->resp_status >= 200 && conn->resp_status < 300)
		log_warnx("[#%" PRIu64 "] the API accepted a PATCH whose "
		    "actions array left out existing actions: they are now "
		    "deleted (see actions.partial above)", conn->id);
	buf_free(&line);
}

/* One info line per exchange: what, where, outcome, bytes, time. */
static void
conn_log_exchange(struct conn *conn, const struct exchange *x, int status,
    const char *code, const char *message)
{
	struct buf	 url = { NULL, 0, 0 };
	const char	*method;

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	conn_log_url(conn, x, &url);
	method = conn->method >= 0 ?
	    llhttp_method_name((llhttp_method_t)conn->method) : "-";
	if (conn->proxy->opts->log_json)
		conn_log_json(conn, x, method, buf_str(&url), status, code,
		    message);
	else if (code != NULL)
		log_info("[#%" PRIu64 "] %s %s -> %d %s: %s (req %" PRIu64
		    " B, resp %" PRIu64 " B, %.1f ms)", conn->id, method,
		    buf_str(&url), status, code, message,
		    conn->client.body_bytes, conn->origin.body_bytes,
		    elapsed_ms(&conn->t_start));
	else
		log_info("[#%" PRIu64 "] %s %s -> %d (req %" PRIu64
		    " B, resp %" PRIu64 " B, %.1f ms)", conn->id, method,
		    buf_str(&url), status, conn->client.body_bytes,
		    conn->origin.body_bytes, elapsed_ms(&conn->t_start));
	if (!conn->proxy->opts->log_json)
		conn_log_diags(conn, x);
	buf_free(&url);
}

/* Milliseconds from a to b, 0 when either is unset or b is earlier. */
static double
span_ms(const struct timespec *a, const struct timespec *b)
{
	double	ms;

	if ((a->tv_sec == 0 && a->tv_nsec == 0) ||
	    (b->tv_sec == 0 && b->tv_nsec == 0))
		return 0;
	ms = (double)(b->tv_sec - a->tv_sec) * 1000.0 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
	return ms > 0 ? ms : 0;
}

/*
 * Store a message body as the cassette keeps it: decoded from its
 * Content-Encoding when that works, cut at --max-body-buffer (marked), and
 * with headers that describe the stored bytes (Content-Length true, no
 * Transfer-Encoding, no Content-Encoding once decoded).
 */
static void
conn_store_body(struct conn *conn, struct exchange_body *body,
    struct http_headers *h, const struct buf *raw, int truncated,
    uint64_t wire)
{
	struct buf	 dec = { NULL, 0, 0 };
	const char	*enc, *cause;
	char		 len[32];

	if (raw->len == 0 && wire == 0)
		return;
	enc = http_headers_get(h, "Content-Encoding");
	if (enc != NULL && !truncated && strcasecmp(enc, "identity") != 0 &&
	    body_decode(enc, raw->data, raw->len,
	    conn->proxy->opts->max_body_buffer, &dec, &cause) == 0) {
		exchange_body_set(body, dec.data != NULL ? dec.data : "",
		    dec.len);
		body->decoded_from = xstrdup(enc);
		http_headers_remove(h, "Content-Encoding");
	} else
		exchange_body_set(body, raw->data != NULL ? raw->data : "",
		    raw->len);
	buf_free(&dec);
	if (truncated) {
		body->truncated = 1;
		body->size = wire > body->len ? wire : body->len + 1;
	}
	http_headers_remove(h, "Transfer-Encoding");
	http_headers_remove(h, "Content-Length");
	snprintf(len, sizeof len, "%zu", body->len);
	http_headers_add(h, "Content-Length", 14, len, strlen(len));
}

/* The time an exchange started, as HAR wants it (ISO 8601, UTC, ms). */
static char *
conn_started(const struct timespec *t)
{
	struct tm	tm;
	char		date[32];

	gmtime_r(&t->tv_sec, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%03ldZ", date, t->tv_nsec / 1000000);
}

/*
 * Fill x with the exchange in progress as it goes to the cassette and the
 * log: request and response as the origin saw and sent them, before any
 * annotation. own_h/own_body: patchscope answered itself (an error or the
 * guard), with these. code: patchscope's error code, if any.
 */
static void
conn_exchange(struct conn *conn, struct exchange *x, int status,
    const char *code, const struct http_headers *own_h, const char *own_body)
{
	struct half	*c = &conn->client, *o = &conn->origin;
	struct buf	 url = { NULL, 0, 0 }, own = { NULL, 0, 0 };
	struct timespec	 now;
	json_t		*diags;

	monotonic_now(&now);
	x->started = conn_started(&conn->t_wall);
	x->time_ms = elapsed_ms(&conn->t_start);
	x->send_ms = span_ms(&conn->t_start, &conn->t_req_done);
	x->wait_ms = span_ms(&conn->t_req_done, &conn->t_resp_head);
	x->receive_ms = span_ms(&conn->t_resp_head, &now);
	if (conn->server_ip != NULL)
		x->server_ip = xstrdup(conn->server_ip);
	x->method = xstrdup(conn->method >= 0 ?
	    llhttp_method_name((llhttp_method_t)conn->method) : "GET");
	conn_abs_url(conn, &url);
	x->url = xstrdup(buf_str(&url));
	buf_free(&url);
	x->http_version = xstrdup(conn->client_http10 ? "HTTP/1.0" :
	    "HTTP/1.1");
	exchange_headers_copy(&x->req_headers, conn->rec ?
	    &conn->rec_req_headers : &c->headers);
	conn_store_body(conn, &x->req_body, &x->req_headers, &conn->req_body,
	    conn->req_truncated, c->body_bytes);
	x->req_wire_bytes = c->body_bytes;
	if (own_h != NULL) {
		x->status = status;
		x->reason = xstrdup(http_reason(status));
		exchange_headers_copy(&x->resp_headers, own_h);
		buf_adds(&own, own_body);
		conn_store_body(conn, &x->resp_body, &x->resp_headers, &own, 0,
		    own.len);
		x->resp_wire_bytes = own.len;
		x->answered_by = xstrdup("patchscope");
		if (conn->own_answer)
			x->error = xstrdup("patchscope_guard");
		buf_free(&own);
	} else if (conn->rec) {
		x->status = conn->resp_status;
		x->reason = xstrdup(o->reason.len > 0 ? buf_str(&o->reason) :
		    http_reason(conn->resp_status));
		exchange_headers_copy(&x->resp_headers,
		    &conn->rec_resp_headers);
		conn_store_body(conn, &x->resp_body, &x->resp_headers,
		    &conn->resp_body, conn->resp_truncated, o->body_bytes);
		x->resp_wire_bytes = o->body_bytes;
	} else
		x->status = status;
	if (code != NULL)
		x->error = xstrdup(code);
	if (conn->diags.n > 0 || conn->diagnosed) {
		diags = conn_diags_json(conn, NULL);
		x->diagnoses = diags;
	}
}

/*
 * An exchange is over: log it (its redacted form when it has diagnoses or
 * is recorded, so no secret reaches the log) and append it to the
 * cassette when recording. own_h/own_body: patchscope's own answer.
 */
static void
conn_exchange_done(struct conn *conn, int status, const char *code,
    const char *message, const struct http_headers *own_h,
    const char *own_body)
{
	struct proxy	*p = conn->proxy;
	struct exchange	 x;
	json_t		*entry;
	int		 rec, have;

	/* No response at all (the client left first): nothing to keep. */
	rec = conn->rec && p->recorder != NULL && conn->have_target &&
	    (own_h != NULL || conn->resp_status != 0);
	have = rec || conn->diags.n > 0;
	exchange_init(&x);
	if (have) {
		conn_exchange(conn, &x, status, code, own_h, own_body);
		redact_exchange(p->redactor, &x);
		/* Redaction may have rewritten a body: keep the length true. */
		exchange_fix_length(&x.req_headers, &x.req_body);
		exchange_fix_length(&x.resp_headers, &x.resp_body);
	}
	conn_log_exchange(conn, have ? &x : NULL, status, code, message);
	if (rec) {
		entry = cassette_entry_encode(&x);
		if (entry != NULL)
			recorder_add(p->recorder, entry);
		json_decref(entry);
		if (p->replay != NULL)
			replay_add(p->replay, &x);
	}
	conn->rec = 0;
	exchange_free(&x);
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
		conn->linger_flushing = 1;
		timer_add(conn, FLUSH_POLL_MS);
		return;
	}
	conn->linger_flushing = 0;
	if (shutdown(bufferevent_getfd(bev), SHUT_WR) != 0) {
		conn_close(conn, "answered and closed");
		return;
	}
	bufferevent_enable(bev, EV_READ);
	conn_arm(conn, LINGER_MS);
}

/* Stop parsing the client, flush what is queued, then close. */
static void
conn_drain(struct conn *conn)
{
	struct bufferevent	*bev = conn->client.bev;

	conn_set_state(conn, CONN_DRAIN);
	origin_release(conn, 0);
	/* The last answer may sit in the cork of a parse pass: send it. */
	half_uncork(&conn->client);
	bufferevent_enable(bev, EV_READ);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	conn_arm(conn, conn->proxy->opts->idle_timeout_ms);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_linger(conn);
}

/*
 * Answer the client with a JSON error and close, or just close when a
 * response is already under way (nothing else can be said then).
 */
static void
conn_fail(struct conn *conn, int status, const char *code, const char *fmt,
    ...)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct buf		 head = { NULL, 0, 0 };
	va_list			 ap;
	char			*msg, *body, *text, len[32];
	json_t			*obj;

	if (conn_finishing(conn))
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (conn->resp_started && conn->head_corked && conn->client.corked) {
		/* Nothing has left yet: the client can still get an answer. */
		buf_reset(&conn->client.cork);
		conn->resp_started = 0;
		conn->head_corked = 0;
	}
	if (conn->resp_started) {
		/* Cut off mid-response: keep what came, marked. */
		conn->resp_truncated = conn->resp_truncated ||
		    !conn->origin.msg_done;
		conn_exchange_done(conn, conn->resp_status, code,
		    msg != NULL ? msg : "?", NULL, NULL);
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
	http_headers_add(&h, "Content-Type", 12, "application/json", 16);
	http_headers_add(&h, "X-Patchscope-Error", 18, code, strlen(code));
	conn_exchange_done(conn, status, code, msg != NULL ? msg : "?", &h,
	    body);
	snprintf(len, sizeof len, "%zu", strlen(body));
	http_headers_add(&h, "Content-Length", 14, len, strlen(len));
	http_headers_add(&h, "Connection", 10, "close", 5);
	http_response_head(&head, status, http_reason(status), &h);
	/* The length describes the body; a HEAD answer goes without it. */
	if (conn->method != HTTP_HEAD)
		buf_adds(&head, body);
	half_write(&conn->client, head.data, head.len);
	conn->resp_started = 1;
	conn->resp_status = status;
	conn->exchanges++;
	http_headers_clear(&h);
	buf_free(&head);
	free(body);
	free(msg);
	conn_drain(conn);
}

/*
 * Send bytes to a half. When nothing is queued, try the socket first: a
 * small answer then costs one writev and no event registration, which is
 * most of a keep-alive exchange's system calls. What the socket does not
 * take (or any error, which the bufferevent then reports) is queued.
 */
static void
half_writev(struct half *h, struct iovec *iov, int n)
{
	struct evbuffer	*out;
	ssize_t		 r = 0;
	size_t		 left;
	int		 i;

	if (h->bev == NULL)
		return;
	if (h->corked) {
		for (i = 0; i < n; i++)
			buf_add(&h->cork, iov[i].iov_base, iov[i].iov_len);
		return;
	}
	out = bufferevent_get_output(h->bev);
	if (h->plain && h->connected && evbuffer_get_length(out) == 0) {
		r = writev(bufferevent_getfd(h->bev), iov, n);
		if (r < 0)
			r = 0;
	}
	left = (size_t)r;
	for (i = 0; i < n; i++) {
		if (left >= iov[i].iov_len) {
			left -= iov[i].iov_len;
			continue;
		}
		evbuffer_add(out, (const char *)iov[i].iov_base + left,
		    iov[i].iov_len - left);
		left = 0;
	}
}

/* Send what was held while corked. */
static void
half_uncork(struct half *h)
{
	struct iovec	iov;

	h->corked = 0;
	if (h == &h->conn->client)
		h->conn->head_corked = 0;
	if (h->cork.len == 0)
		return;
	iov.iov_base = h->cork.data;
	iov.iov_len = h->cork.len;
	half_writev(h, &iov, 1);
	buf_reset(&h->cork);
}

static void
half_write(struct half *h, const void *data, size_t len)
{
	struct iovec	iov;

	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	half_writev(h, &iov, 1);
}

/* Write body bytes parsed on h to its peer, re-chunked when needed. */
static void
half_relay(struct half *h, const char *data, size_t len)
{
	h->body_bytes += len;
	half_relay_out(h, data, len);
}

/* Write body bytes to h's peer in the framing it uses; bound its output. */
static void
half_relay_out(struct half *h, const char *data, size_t len)
{
	struct half	*to = h->peer;
	struct iovec	 iov[3];
	char		 size[32], crlf[] = "\r\n";
	int		 n;

	if (to->bev == NULL || len == 0)
		return;
	if (h->chunked_out) {
		n = snprintf(size, sizeof size, "%zx\r\n", len);
		iov[0].iov_base = size;
		iov[0].iov_len = (size_t)n;
		iov[1].iov_base = (void *)(uintptr_t)data;
		iov[1].iov_len = len;
		iov[2].iov_base = crlf;
		iov[2].iov_len = 2;
		half_writev(to, iov, 3);
	} else
		half_write(to, data, len);
	if (!h->throttled && evbuffer_get_length(
	    bufferevent_get_output(to->bev)) > RELAY_HIGH) {
		h->throttled = 1;
		bufferevent_disable(h->bev, EV_READ);
	}
}

/* llhttp callbacks shared by both halves: collect the head. */

static int
head_count(struct half *h, size_t len)
{
	struct conn	*conn = h->conn;

	h->head_bytes += len;
	if (h->head_bytes > conn->proxy->opts->max_header_bytes)
		return -1;
	return 0;
}

static void
head_push(struct half *h)
{
	if (h->field.len > 0 && !h->head_done)
		http_headers_add(&h->headers, h->field.data, h->field.len,
		    buf_str(&h->value), h->value.len);
	buf_reset(&h->field);
	buf_reset(&h->value);
	h->in_value = 0;
}

static int
on_url_cb(llhttp_t *parser, const char *at, size_t len)
{
	struct half	*h = parser->data;

	if (head_count(h, len) != 0)
		return HPE_USER;
	buf_add(&h->conn->url, at, len);
	return 0;
}

static int
on_status_cb(llhttp_t *parser, const char *at, size_t len)
{
	struct half	*h = parser->data;

	if (head_count(h, len) != 0)
		return HPE_USER;
	buf_add(&h->reason, at, len);
	return 0;
}

static int
on_header_field_cb(llhttp_t *parser, const char *at, size_t len)
{
	struct half	*h = parser->data;
	size_t		 i;

	if (h->in_value)
		head_push(h);
	if (head_count(h, len + 4) != 0)
		return HPE_USER;
	/*
	 * A field name is a token (RFC 9110 5.1). llhttp lets whitespace
	 * before the colon through; RFC 9112 5.1 requires a 400 for it, since
	 * servers disagree on what such a name means.
	 */
	for (i = 0; i < len; i++)
		if (!http_token_char((unsigned char)at[i])) {
			h->reject = "a header name contains whitespace or a "
			    "character that is not allowed in a name";
			return HPE_USER;
		}
	if (h->field.len == 0 && h->headers.n >= OPTIONS_MAX_HEADERS)
		return HPE_USER;
	buf_add(&h->field, at, len);
	return 0;
}

static int
on_header_value_cb(llhttp_t *parser, const char *at, size_t len)
{
	struct half	*h = parser->data;
	const char	*p;
	char		 prev;

	if (head_count(h, len) != 0)
		return HPE_USER;
	/*
	 * Obsolete line folding (a value continued on a line that starts
	 * with a space) reaches us as a second value span that starts right
	 * after a line end; llhttp drops the CRLF itself, so a folded response
	 * value is already joined with a space. RFC 9112 5.2: a request with
	 * one is rejected.
	 */
	/*
	 * After an empty first line ("X-A:" CRLF SP "two") llhttp skips the
	 * fold's blanks too: look back past them.
	 */
	p = at;
	while (p > h->exec_start && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	prev = p > h->exec_start ? p[-1] : h->exec_prev;
	if (h == &h->conn->client && prev == '\n') {
		h->reject = "a header value continues on the next line "
		    "(obsolete line folding, RFC 9112 5.2)";
		return HPE_USER;
	}
	buf_add(&h->value, at, len);
	h->in_value = 1;
	return 0;
}

static int
on_body_cb(llhttp_t *parser, const char *at, size_t len)
{
	struct half	*h = parser->data;
	struct conn	*conn = h->conn;
	size_t		 max = conn->proxy->opts->max_body_buffer;

	if (h == &conn->client && (conn->inspect_req || conn->keep_req) &&
	    !conn->req_truncated) {
		if (conn->req_body.len + len > max) {
			conn->req_truncated = 1;
			conn->inspect_req = 0;
			if (conn->hold_req) {
				conn->guard_overflow = 1;
				return HPE_USER;
			}
			/* A recording keeps the part that fits. */
			buf_add(&conn->req_body, at, max - conn->req_body.len);
		} else
			buf_add(&conn->req_body, at, len);
	}
	if (h == &conn->origin && (conn->hold_resp || conn->capture_resp ||
	    conn->rec_resp) && !conn->resp_truncated) {
		if (conn->resp_body.len + len <= max)
			buf_add(&conn->resp_body, at, len);
		else {
			/* Too big to annotate: send what is held, then relay. */
			if (conn->hold_resp)
				response_release(conn);
			if (conn->rec_resp)
				buf_add(&conn->resp_body, at,
				    max - conn->resp_body.len);
			conn->capture_resp = 0;
			conn->resp_truncated = 1;
		}
		if (conn->hold_resp) {
			h->body_bytes += len;
			return 0;
		}
	}
	half_relay(h, at, len);
	return 0;
}

static int
on_message_complete_cb(llhttp_t *parser)
{
	struct half	*h = parser->data;
	struct conn	*conn = h->conn;

	if (h == &conn->origin && conn->interim) {
		/* A 1xx is over; the final response follows. */
		conn->interim = 0;
		half_reset_message(h);
		return 0;
	}
	if (h->chunked_out && h->peer->bev != NULL &&
	    !(h == &conn->origin && conn->hold_resp))
		half_write(h->peer, "0\r\n\r\n", 5);
	if (h == &conn->client)
		monotonic_now(&conn->t_req_done);
	h->msg_done = 1;
	return HPE_PAUSED;
}

/* Client half. */

static int
on_request_begin_cb(llhttp_t *parser)
{
	struct half	*h = parser->data;
	struct conn	*conn = h->conn;

	conn_reset_exchange(conn);
	monotonic_now(&conn->t_start);
	clock_gettime(CLOCK_REALTIME, &conn->t_wall);
	if (conn->state == CONN_WAIT_REQUEST) {
		conn_set_state(conn, CONN_READ_HEAD);
		/* The first request's clock started at accept. */
		if (conn->exchanges > 0)
			conn_arm(conn, conn->proxy->opts->header_timeout_ms);
	}
	return 0;
}

static int
on_request_headers_cb(llhttp_t *parser)
{
	struct half	*h = parser->data;
	struct conn	*conn = h->conn;

	head_push(h);
	h->head_done = 1;
	conn->method = parser->method;
	/*
	 * Upgrade is hop-by-hop and never forwarded, so the request is an
	 * ordinary one: keep llhttp from treating what follows as another
	 * protocol.
	 */
	if (parser->method != HTTP_CONNECT)
		parser->upgrade = 0;
	return HPE_PAUSED;
}

/*
 * The URL of a request inside an intercepted tunnel: https, the name from
 * the Host header (else the CONNECT host), the CONNECT port, the path.
 * Return 0, or -1 after answering with an error.
 */
static int
tunnel_target(struct conn *conn, const char *path)
{
	const char	*host, *errstr;
	char		*url;
	int		 rc;

	if (http_headers_count(&conn->client.headers, "Host") > 1) {
		conn_fail(conn, 400, "bad_request",
		    "the request has more than one Host header");
		return -1;
	}
	host = http_headers_get(&conn->client.headers, "Host");
	if (host != NULL && (host[0] == '\0' ||
	    strpbrk(host, "/?#@") != NULL)) {
		conn_fail(conn, 400, "bad_request", "bad Host header");
		return -1;
	}
	if (host != NULL)
		url = xasprintf("https://%s%s", host, path);
	else if (strchr(conn->tunnel.host, ':') != NULL)
		url = xasprintf("https://[%s]:%d%s", conn->tunnel.host,
		    conn->tunnel.port, path);
	else
		url = xasprintf("https://%s:%d%s", conn->tunnel.host,
		    conn->tunnel.port, path);
	if (host == NULL)
		host = conn->tunnel.host;
	rc = http_url_parse(url, &conn->target, &errstr);
	free(url);
	if (rc != 0) {
		conn_fail(conn, 400, "bad_request", "bad request in the "
		    "tunnel: %s", errstr);
		return -1;
	}
	conn->have_target = 1;
	/* A Host without a port means the tunnel's port. */
	if (conn->target.port == 443 && (strrchr(host, ':') == NULL ||
	    strrchr(host, ']') > strrchr(host, ':')))
		conn->target.port = conn->tunnel.port;
	if (conn->target.port != conn->tunnel.port) {
		conn_fail(conn, 400, "host_mismatch", "the Host header (%.100s) "
		    "names another port than the CONNECT target (%d)", host,
		    conn->tunnel.port);
		return -1;
	}
	return 0;
}

/*
 * Replay: a request sent straight to patchscope as to a server ("GET
 * /v1/..."), as a test with a base URL does. Its URL is made from the Host
 * header (else "localhost") and the path; matching then ignores the
 * origin. Return 0, or -1 after answering with an error.
 */
static int
replay_target(struct conn *conn, const char *path)
{
	const char	*host, *errstr;
	char		*url;
	int		 rc;

	if (http_headers_count(&conn->client.headers, "Host") > 1) {
		conn_fail(conn, 400, "bad_request",
		    "the request has more than one Host header");
		return -1;
	}
	host = http_headers_get(&conn->client.headers, "Host");
	if (host == NULL || *host == '\0')
		host = "localhost";
	url = xasprintf("http://%s%s", host, path);
	rc = http_url_parse(url, &conn->target, &errstr);
	free(url);
	if (rc != 0) {
		conn_fail(conn, 400, "bad_request", "bad request target or "
		    "Host header: %s", errstr);
		return -1;
	}
	conn->have_target = 1;
	conn->origin_form = 1;
	return 0;
}

/*
 * Work out where a request goes: the absolute URL of a proxy request, or,
 * inside an intercepted tunnel, the CONNECT target plus the path. Return 0,
 * or -1 after answering with an error.
 */
static int
request_target(struct conn *conn)
{
	const char	*errstr, *scheme_end, *url = buf_str(&conn->url);

	if (conn->have_tunnel) {
		if (url[0] != '/') {
			conn_fail(conn, 400, "bad_request", "inside an HTTPS "
			    "tunnel a request names a path (GET /x), not a "
			    "URL");
			return -1;
		}
		return tunnel_target(conn, url);
	}
	/* "scheme://..." with a scheme other than http. */
	scheme_end = strstr(url, "://");
	if (scheme_end != NULL && scheme_end > url &&
	    strspn(url, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") ==
	    (size_t)(scheme_end - url) && strncasecmp(url, "http://", 7) != 0) {
		conn_fail(conn, 400, "unsupported_scheme",
		    "%.*s:// URLs cannot be sent to the proxy in absolute "
		    "form; only http:// URLs are (for https, clients use "
		    "CONNECT: set https_proxy)",
		    (int)((scheme_end - url) > 16 ? 16 : (scheme_end - url)),
		    url);
		return -1;
	}
	if (url[0] == '/' && conn->proxy->replay != NULL)
		return replay_target(conn, url);
	if (url[0] == '\0' || url[0] == '/' || url[0] == '*') {
		conn_fail(conn, 400, "not_a_proxy_request",
		    "patchscope is a forward proxy: send absolute-form "
		    "requests (GET http://host/path), e.g. by setting "
		    "http_proxy=http://%s", proxy_address(conn->proxy));
		return -1;
	}
	if (http_url_parse(url, &conn->target, &errstr) != 0) {
		conn_fail(conn, 400, "bad_request", "bad request URL: %s",
		    errstr);
		return -1;
	}
	conn->have_target = 1;
	return 0;
}

static void	client_read_cb(struct bufferevent *, void *);
static void	client_write_cb(struct bufferevent *, void *);
static void	client_event_cb(struct bufferevent *, short, void *);

/* Log the one line of a --no-intercept tunnel. */
static void
tunnel_log(struct conn *conn)
{
	log_info("[#%" PRIu64 "] CONNECT %s:%d -> tunnel (not intercepted) "
	    "(up %" PRIu64 " B, down %" PRIu64 " B, %.1f ms)", conn->id,
	    conn->tunnel.host, conn->tunnel.port, conn->client.body_bytes,
	    conn->origin.body_bytes, elapsed_ms(&conn->t_start));
}

/*
 * Answer CONNECT. Intercepted hosts: 200 at once, then TLS with the client
 * and each request inside goes to https://host:port. --no-intercept hosts:
 * connect first, then 200 and raw bytes both ways. Return 1 (the client's
 * bytes are no longer HTTP to parse here) or -1 after an error answer.
 */
static int
connect_begin(struct conn *conn)
{
	struct proxy		*p = conn->proxy;
	struct half		*c = &conn->client;
	struct bufferevent	*under = c->bev, *bev;
	const char		*errstr;

	if (conn->have_tunnel) {
		conn_fail(conn, 400, "bad_request",
		    "CONNECT inside an HTTPS tunnel is not supported");
		return -1;
	}
	if (http_authority_parse(buf_str(&conn->url), &conn->tunnel,
	    &errstr) != 0) {
		conn_fail(conn, 400, "bad_request", "bad CONNECT target: %s",
		    errstr);
		return -1;
	}
	conn->target.scheme = xstrdup(conn->tunnel.scheme);
	conn->target.host = xstrdup(conn->tunnel.host);
	conn->target.port = conn->tunnel.port;
	conn->target.target = xstrdup("/");
	conn->have_target = 1;
	conn->origin_host = xstrdup(conn->tunnel.host);
	conn->origin_name = xstrdup(conn->tunnel.host);
	conn->origin_port = conn->tunnel.port;
	if (options_no_intercept(p->opts, conn->tunnel.host) &&
	    p->replay == NULL) {
		conn->raw_tunnel = 1;
		conn->origin_tls = 0;
		origin_start(conn);
		return conn_finishing(conn) ? -1 : 1;
	}
	half_write(c, connect_ok, sizeof connect_ok - 1);
	/* ca_accept owns the socket bufferevent from here on. */
	c->bev = NULL;
	bev = ca_accept(p->ca, p->base, under, conn->tunnel.host);
	if (bev == NULL) {
		http_url_free(&conn->tunnel);
		conn_close(conn, "could not set up TLS for the client");
		return -1;
	}
	c->bev = bev;
	c->plain = 0;
	c->paused = 0;
	conn->have_tunnel = 1;
	conn->handshaking = 1;
	llhttp_init(&c->parser, HTTP_REQUEST, &request_settings);
	c->parser.data = c;
	bufferevent_setcb(bev, client_read_cb, client_write_cb,
	    client_event_cb, conn);
	bufferevent_setwatermark(bev, EV_WRITE, RELAY_LOW, 0);
	bufferevent_setwatermark(bev, EV_READ, 0, RELAY_HIGH);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	/* A ClientHello sent right behind the CONNECT is already here. */
	under = bufferevent_get_underlying(bev);
	if (under != NULL &&
	    evbuffer_get_length(bufferevent_get_input(under)) > 0)
		bufferevent_trigger(under, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
	log_debug("[#%" PRIu64 "] CONNECT %s:%d: intercepting TLS", conn->id,
	    conn->tunnel.host, conn->tunnel.port);
	conn_set_state(conn, CONN_WAIT_REQUEST);
	conn_arm(conn, p->opts->header_timeout_ms);
	return 1;
}

/*
 * This exchange goes to the cassette: keep both bodies (up to the limit)
 * and the request's headers as they are sent on, without our Via.
 */
static void
conn_record_begin(struct conn *conn)
{
	conn->rec = 1;
	conn->keep_req = 1;
	conn->rec_resp = 1;
	http_headers_clear(&conn->rec_req_headers);
	exchange_headers_copy(&conn->rec_req_headers, &conn->client.headers);
	http_headers_remove(&conn->rec_req_headers, "Via");
}

/* Is this a request of the profile API, and what to do with its bodies? */
static void
request_classify(struct conn *conn)
{
	if (api_profile_target(conn->target.target, &conn->api_account,
	    &conn->api_profile, &conn->api_fields) != 0)
		return;
	conn->api = 1;
	if (conn->method == HTTP_PATCH) {
		conn->inspect_req = 1;
		conn->hold_req = conn->proxy->opts->guard;
	}
}

/*
 * Refuse what two servers could frame differently (request smuggling):
 * a version other than HTTP/1.0 or 1.1, and any Transfer-Encoding but a
 * single "chunked" (RFC 9112 6.1 lets a proxy refuse other codings; an
 * origin that reads "identity, chunked" its own way would see another
 * body). llhttp already refuses chunked with Content-Length, and chunked
 * not last. Return 0, or -1 after answering 400.
 */
static int
request_check_framing(struct conn *conn)
{
	struct half	*c = &conn->client;
	const char	*te, *v;
	size_t		 i, len;

	if (c->parser.http_major != 1 || c->parser.http_minor > 1) {
		conn_fail(conn, 400, "bad_request", "HTTP/%u.%u requests are not "
		    "supported: patchscope speaks HTTP/1.0 and HTTP/1.1",
		    c->parser.http_major, c->parser.http_minor);
		return -1;
	}
	if (http_headers_count(&c->headers, "Transfer-Encoding") == 0)
		return 0;
	te = NULL;
	for (i = 0; i < c->headers.n; i++)
		if (strcasecmp(c->headers.v[i].name, "Transfer-Encoding") == 0)
			te = te == NULL ? c->headers.v[i].value : "";
	v = te + strspn(te, " \t");
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len != 7 || strncasecmp(v, "chunked", 7) != 0) {
		conn_fail(conn, 400, "bad_request", "Transfer-Encoding other "
		    "than a single \"chunked\" is not accepted (RFC 9112 6.1): "
		    "servers could frame such a body differently");
		return -1;
	}
	return 0;
}

/*
 * Check the request head, decide where it goes, and send the head on.
 * Return 0, or -1 after answering the client with an error.
 */
static int
request_begin(struct conn *conn)
{
	struct proxy		*p = conn->proxy;
	struct half		*c = &conn->client;
	llhttp_t		*parser = &c->parser;
	const struct options	*opts = p->opts;
	struct buf		 authority = { NULL, 0, 0 };
	const char		*host;

	conn->client_keepalive = llhttp_should_keep_alive(parser);
	conn->client_http10 = parser->http_major == 1 &&
	    parser->http_minor == 0;
	conn->req_has_body = (parser->flags & F_CHUNKED) != 0 ||
	    ((parser->flags & F_CONTENT_LENGTH) != 0 &&
	    parser->content_length > 0);
	c->chunked_out = (parser->flags & F_CHUNKED) != 0;
	if (c->head_bytes > opts->max_header_bytes) {
		conn_fail(conn, 431, "headers_too_large",
		    "the request head is larger than --max-header-bytes "
		    "(%zu bytes)", opts->max_header_bytes);
		return -1;
	}
	if (request_check_framing(conn) != 0)
		return -1;
	if (conn->method == HTTP_CONNECT)
		return connect_begin(conn);
	if (!conn->client_http10 && http_headers_count(&c->headers,
	    "Host") == 0) {
		conn_fail(conn, 400, "bad_request", "an HTTP/1.1 request must "
		    "have a Host header (RFC 9112 3.2)");
		return -1;
	}
	if (request_target(conn) != 0)
		return -1;
	if (http_headers_count(&c->headers, "Host") > 1) {
		conn_fail(conn, 400, "bad_request",
		    "the request has more than one Host header");
		return -1;
	}
	host = http_headers_get(&c->headers, "Host");
	if (host != NULL && !conn->have_tunnel && !conn->origin_form &&
	    !http_host_matches(host, &conn->target)) {
		conn_fail(conn, 400, "host_mismatch",
		    "the Host header (%.100s) names another server than the "
		    "request URL", host);
		return -1;
	}
	/* RFC 9112 3.2.2: the proxy's Host comes from the target URI. */
	http_headers_strip_hop(&c->headers);
	http_headers_remove(&c->headers, "Host");
	http_url_authority(&authority, &conn->target);
	http_headers_add(&c->headers, "Host", 4, authority.data,
	    authority.len);
	buf_free(&authority);
	request_classify(conn);
	if (p->recorder != NULL && p->replay == NULL)
		conn_record_begin(conn);
	http_headers_add(&c->headers, "Via", 3, "1.1 patchscope", 14);
	/*
	 * Inside a tunnel the CONNECT target says where to connect and the
	 * Host header which name the origin must prove (they differ with
	 * curl --connect-to, or a test host mapped to 127.0.0.1).
	 */
	conn->origin_host = xstrdup(conn->have_tunnel ? conn->tunnel.host :
	    conn->target.host);
	conn->origin_name = xstrdup(conn->target.host);
	conn->origin_port = conn->target.port;
	conn->origin_tls = strcmp(conn->target.scheme, "https") == 0;
	if (p->replay != NULL) {
		/* Replay: the whole request is needed to match it. */
		conn->hold_req = 1;
		conn->keep_req = 1;
	}
	if (conn->hold_req) {
		/* --guard: read the whole PATCH before anything is sent. */
		conn_set_state(conn, CONN_WAIT_RESPONSE);
		conn_arm(conn, opts->idle_timeout_ms);
		return 0;
	}
	http_request_head(&conn->upstream_head,
	    llhttp_method_name((llhttp_method_t)conn->method),
	    conn->target.target, &c->headers);
	origin_start(conn);
	return conn_finishing(conn) ? -1 : 0;
}

static void origin_read_cb(struct bufferevent *, void *);
static void origin_write_cb(struct bufferevent *, void *);
static void origin_event_cb(struct bufferevent *, short, void *);

/* RFC 6761 6.4: names under .invalid never resolve; do not ask DNS. */
static int
host_is_invalid(const char *host)
{
	size_t	len = strlen(host);

	if (len > 0 && host[len - 1] == '.')
		len--;
	return (len == 7 && strncasecmp(host, "invalid", 7) == 0) ||
	    (len > 8 && strncasecmp(host + len - 8, ".invalid", 8) == 0);
}

/* Get an origin connection (pooled or new) and send the request head. */
static void
origin_start(struct conn *conn)
{
	struct proxy	*p = conn->proxy;
	struct half	*o = &conn->origin;
	char		*cause = NULL;

	llhttp_init(&o->parser, HTTP_RESPONSE, &response_settings);
	o->parser.data = o;
	o->paused = 0;
	if (host_is_invalid(conn->origin_host)) {
		conn_fail(conn, 502, "upstream_dns",
		    "could not resolve host \"%s\": names under .invalid do "
		    "not exist (RFC 6761)", conn->origin_host);
		return;
	}
	o->bev = NULL;
	if (!conn->retried && !conn->raw_tunnel)
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
		conn_arm(conn, p->opts->connect_timeout_ms);
	} else {
		conn_set_state(conn, CONN_WAIT_RESPONSE);
		conn_arm(conn, p->opts->idle_timeout_ms);
	}
	bufferevent_setcb(o->bev, origin_read_cb, origin_write_cb,
	    origin_event_cb, conn);
	bufferevent_setwatermark(o->bev, EV_WRITE, RELAY_LOW, 0);
	bufferevent_set_max_single_read(o->bev, SINGLE_IO);
	bufferevent_set_max_single_write(o->bev, SINGLE_IO);
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

/* Response head is complete: decide framing and send it to the client. */
static int
on_response_headers_cb(llhttp_t *parser)
{
	struct half	*o = parser->data;
	int		 status = parser->status_code;

	head_push(o);
	o->head_done = 1;
	/*
	 * No body follows these whatever Content-Length says (RFC 9110 6.4.1);
	 * llhttp reads the flag when it resumes.
	 */
	if (o->conn->method == HTTP_HEAD || status == 204 || status == 304)
		parser->flags |= F_SKIPBODY;
	return HPE_PAUSED;
}

/* Remember the origin's address for the cassette (HAR serverIPAddress). */
static void
conn_peer_ip(struct conn *conn)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	char			 ip[INET6_ADDRSTRLEN];
	evutil_socket_t		 fd;

	if (conn->origin.bev == NULL)
		return;
	fd = bufferevent_getfd(conn->origin.bev);
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip,
		    sizeof ip);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    ip, sizeof ip);
	else
		return;
	free(conn->server_ip);
	conn->server_ip = xstrdup(ip);
}

static void
response_begin(struct conn *conn)
{
	struct half	*o = &conn->origin, *c = &conn->client;
	llhttp_t	*parser = &o->parser;
	struct buf	 head = { NULL, 0, 0 };
	int		 status = parser->status_code, no_body;
	const char	*reason;

	if (status == 101) {
		conn_fail(conn, 502, "upstream_bad_response",
		    "the origin switched protocols, which patchscope does not "
		    "relay");
		return;
	}
	conn_touch(conn);
	reason = o->reason.len > 0 ? buf_str(&o->reason) : http_reason(status);
	http_headers_strip_hop(&o->headers);
	if (status >= 100 && status < 200) {
		/* Interim answer (100 Continue): pass on to 1.1 clients. */
		if (++conn->interims > MAX_INTERIM) {
			conn_fail(conn, 502, "upstream_bad_response",
			    "the origin sent more than %d interim (1xx) "
			    "responses", MAX_INTERIM);
			return;
		}
		conn->interim = 1;
		if (!conn->client_http10) {
			http_response_head(&head, status, reason, &o->headers);
			half_write(c, head.data, head.len);
		}
		buf_free(&head);
		return;
	}
	conn->resp_status = status;
	monotonic_now(&conn->t_resp_head);
	if (conn->rec) {
		exchange_headers_copy(&conn->rec_resp_headers, &o->headers);
		conn_peer_ip(conn);
	}
	no_body = conn->method == HTTP_HEAD || status == 204 || status == 304;
	if (no_body)
		o->chunked_out = 0;
	else if (parser->flags & F_CHUNKED) {
		if (conn->client_http10) {
			http_headers_remove(&o->headers, "Transfer-Encoding");
			conn->close_after = 1;
		} else
			o->chunked_out = 1;
	} else if (!(parser->flags & F_CONTENT_LENGTH)) {
		/* Read until the origin closes. */
		if (!conn->client_http10 &&
		    !(parser->flags & F_TRANSFER_ENCODING)) {
			http_headers_add(&o->headers, "Transfer-Encoding", 17,
			    "chunked", 7);
			o->chunked_out = 1;
		} else
			conn->close_after = 1;
	}
	http_headers_add(&o->headers, "Via", 3, "1.1 patchscope", 14);
	if (conn->close_after || !conn->client_keepalive ||
	    conn->proxy->draining) {
		conn->close_after = 1;
		http_headers_add(&o->headers, "Connection", 10, "close", 5);
	} else if (conn->client_http10)
		http_headers_add(&o->headers, "Connection", 10, "keep-alive",
		    10);
	buf_free(&head);
	response_inspect(conn, no_body);
	conn_set_state(conn, CONN_RELAY_RESPONSE);
	conn_arm(conn, conn->proxy->opts->idle_timeout_ms);
	if (!conn->hold_resp)
		response_send_head(conn);
}

/* Send the response head as it stands in the origin half's headers. */
static void
response_send_head(struct conn *conn)
{
	struct half	*o = &conn->origin;
	struct buf	 head = { NULL, 0, 0 };
	int		 status = conn->resp_status;

	http_response_head(&head, status, o->reason.len > 0 ?
	    buf_str(&o->reason) : http_reason(status), &o->headers);
	half_write(&conn->client, head.data, head.len);
	buf_free(&head);
	conn->resp_started = 1;
	conn->head_corked = conn->client.corked;
}

/*
 * Decide what happens to a final response of the profile API: diagnosis
 * headers on it, a copy kept to learn from (a GET's or PATCH's profile), or
 * the whole body held to add the diagnoses to the API's errors array.
 */
static void
response_inspect(struct conn *conn, int no_body)
{
	const struct options	*opts = conn->proxy->opts;
	struct half		*o = &conn->origin;
	int			 json, status = conn->resp_status;

	if (!opts->no_annotate)
		annotate_headers(&conn->diags, &o->headers);
	if (!conn->api || no_body)
		return;
	json = body_is_json(http_headers_get(&o->headers, "Content-Type"));
	if (json && status >= 200 && status < 300 &&
	    (conn->method == HTTP_GET || conn->method == HTTP_PATCH))
		conn->capture_resp = 1;
	if (json && status >= 400 && conn->diags.n > 0 && !opts->no_annotate) {
		conn->hold_resp = 1;
		conn->capture_resp = 0;
	}
}

/* A held response grew past --max-body-buffer: send it on unannotated. */
static void
response_release(struct conn *conn)
{
	struct half	*o = &conn->origin;

	conn->hold_resp = 0;
	conn->resp_truncated = 1;
	log_info("[#%" PRIu64 "] note: the error body is larger than "
	    "--max-body-buffer; diagnoses were not added to it", conn->id);
	response_send_head(conn);
	half_relay_out(o, conn->resp_body.data, conn->resp_body.len);
	/* A recording keeps the first part. */
	if (!conn->rec_resp)
		buf_reset(&conn->resp_body);
}

/* The key of a profile's snapshot: host:port, account, profile. */
static void
snapshot_key(struct conn *conn, struct buf *host)
{
	/* Replay answers for the cassette's hosts, whatever the URL says. */
	if (conn->proxy->replay != NULL) {
		buf_adds(host, "replay");
		return;
	}
	buf_printf(host, "%s:%d", conn->origin_name != NULL ?
	    conn->origin_name : "", conn->origin_port);
}

/*
 * Return nonzero when this connection learned from exactly this profile
 * answer (same bytes, same URL) last time: a client polling a profile then
 * costs a hash, not a parse. Otherwise remember it and return 0.
 */
static int
learned_before(struct conn *conn, const struct buf *body)
{
	const unsigned char	*p;
	uint64_t		 h = 1469598103934665603ULL;	/* FNV-1a */
	size_t			 i;

	for (p = (const unsigned char *)buf_str(&conn->url); *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (i = 0; i < body->len; i++)
		h = (h ^ (unsigned char)body->data[i]) * 1099511628211ULL;
	if (conn->learned_hash == h)
		return 1;
	conn->learned_hash = h;
	return 0;
}

/* The whole response is in: annotate a held one; learn from a copy. */
static void
response_complete(struct conn *conn)
{
	struct proxy	*p = conn->proxy;
	struct half	*o = &conn->origin;
	struct buf	 dec = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	struct buf	 host = { NULL, 0, 0 };
	const char	*enc, *cause;
	struct snapshot	*snap;
	json_t		*doc;
	json_error_t	 jerr;
	char		 len[32];
	int		 decoded;

	if (!conn->hold_resp && !conn->capture_resp)
		return;
	enc = http_headers_get(&o->headers, "Content-Encoding");
	decoded = body_decode(enc, conn->resp_body.data, conn->resp_body.len,
	    p->opts->max_body_buffer, &dec, &cause) == 0;
	if (!decoded)
		log_info("[#%" PRIu64 "] note: response body not inspected: "
		    "%s", conn->id, cause);
	if (conn->hold_resp) {
		conn->hold_resp = 0;
		http_headers_remove(&o->headers, "Transfer-Encoding");
		http_headers_remove(&o->headers, "Content-Length");
		if (decoded && annotate_errors(dec.data, dec.len, &conn->diags,
		    &out) == 0)
			http_headers_remove(&o->headers, "Content-Encoding");
		else
			buf_add(&out, conn->resp_body.data, conn->resp_body.len);
		snprintf(len, sizeof len, "%zu", out.len);
		http_headers_add(&o->headers, "Content-Length", 14, len,
		    strlen(len));
		response_send_head(conn);
		half_write(&conn->client, out.data, out.len);
	} else if (decoded && !learned_before(conn, &dec)) {
		doc = json_loadb(dec.data, dec.len, 0, &jerr);
		if (json_is_object(doc)) {
			rules_learn(p->rules, doc);
			snap = snapshot_new(doc, conn->api_fields);
			if (snap != NULL) {
				snapshot_key(conn, &host);
				snapshot_store_put(p->snapshots, buf_str(&host),
				    conn->api_account != NULL ?
				    conn->api_account : "", conn->api_profile,
				    snap);
			}
		}
		json_decref(doc);
	}
	buf_free(&dec);
	buf_free(&out);
	buf_free(&host);
}

/* Diagnose the PATCH body now that it is complete. */
static void
request_diagnose(struct conn *conn)
{
	struct proxy		*p = conn->proxy;
	const struct snapshot	*snap;
	struct buf		 dec = { NULL, 0, 0 }, host = { NULL, 0, 0 };
	const char		*enc, *cause;

	conn->inspect_req = 0;
	conn->diagnosed = 1;
	enc = http_headers_get(&conn->client.headers, "Content-Encoding");
	if (body_decode(enc, conn->req_body.data, conn->req_body.len,
	    p->opts->max_body_buffer, &dec, &cause) != 0) {
		log_info("[#%" PRIu64 "] note: PATCH body not inspected: %s",
		    conn->id, cause);
		buf_free(&dec);
		return;
	}
	snapshot_key(conn, &host);
	snap = snapshot_store_get(p->snapshots, buf_str(&host),
	    conn->api_account != NULL ? conn->api_account : "",
	    conn->api_profile);
	if (snap == NULL && p->replay != NULL)
		snap = replay_seed_snapshot(p, conn->api_account,
		    conn->api_profile);
	diagnose_patch(buf_str(&dec), dec.len, conn->api_fields, snap,
	    p->rules, &conn->diags);
	buf_free(&dec);
	buf_free(&host);
}

/* --guard found errors: answer 422 in the API's error shape, keep alive. */
static void
guard_answer(struct conn *conn)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct buf		 head = { NULL, 0, 0 }, body = { NULL, 0, 0 };
	char			 len[32];

	annotate_guard_body(&conn->diags, &body);
	buf_add(&body, "\n", 1);
	snprintf(len, sizeof len, "%zu", body.len);
	http_headers_add(&h, "Content-Type", 12, "application/json", 16);
	/* The cassette keeps this answer as patchscope's own. */
	conn->own_answer = 1;
	http_headers_clear(&conn->rec_resp_headers);
	exchange_headers_copy(&conn->rec_resp_headers, &h);
	buf_reset(&conn->resp_body);
	buf_add(&conn->resp_body, body.data, body.len);
	http_headers_add(&h, "Content-Length", 14, len, strlen(len));
	annotate_headers(&conn->diags, &h);
	if (!conn->client_keepalive || conn->proxy->draining) {
		conn->close_after = 1;
		http_headers_add(&h, "Connection", 10, "close", 5);
	}
	http_response_head(&head, 422, http_reason(422), &h);
	buf_add(&head, body.data, body.len);
	half_write(&conn->client, head.data, head.len);
	conn->resp_status = 422;
	conn->resp_started = 1;
	conn->origin.msg_done = 1;
	http_headers_clear(&h);
	buf_free(&head);
	buf_free(&body);
	exchange_finish(conn);
}

/* --guard found no error: send the held PATCH with a Content-Length. */
static void
request_release(struct conn *conn)
{
	struct half	*c = &conn->client;
	char		 len[32];

	conn->hold_req = 0;
	http_headers_remove(&c->headers, "Transfer-Encoding");
	http_headers_remove(&c->headers, "Content-Length");
	snprintf(len, sizeof len, "%zu", conn->req_body.len);
	http_headers_add(&c->headers, "Content-Length", 14, len, strlen(len));
	c->chunked_out = 0;
	conn->req_has_body = conn->req_body.len > 0;
	http_request_head(&conn->upstream_head,
	    llhttp_method_name((llhttp_method_t)conn->method),
	    conn->target.target, &c->headers);
	origin_start(conn);
	if (conn_finishing(conn))
		return;
	half_write(&conn->origin, conn->req_body.data, conn->req_body.len);
}

/* The live request as replay matches it: decoded, redacted. */
static void
replay_request(struct conn *conn, struct exchange *x)
{
	struct buf	url = { NULL, 0, 0 };

	x->method = xstrdup(llhttp_method_name((llhttp_method_t)conn->method));
	conn_abs_url(conn, &url);
	x->url = xstrdup(buf_str(&url));
	buf_free(&url);
	exchange_headers_copy(&x->req_headers, &conn->client.headers);
	http_headers_remove(&x->req_headers, "Via");
	conn_store_body(conn, &x->req_body, &x->req_headers, &conn->req_body,
	    conn->req_truncated, conn->client.body_bytes);
	redact_exchange(conn->proxy->redactor, x);
}

/* Answer from a recorded exchange, annotated as a live one would be. */
static void
replay_serve(struct conn *conn, const struct replay_hit *hit)
{
	const struct exchange	*x = hit->x;
	struct half		*o = &conn->origin;
	char			 num[64];
	int			 no_body;

	conn->resp_status = x->status;
	no_body = conn->method == HTTP_HEAD || x->status == 204 ||
	    x->status == 304 || x->status < 200;
	http_headers_clear(&o->headers);
	exchange_headers_copy(&o->headers, &x->resp_headers);
	http_headers_strip_hop(&o->headers);
	if (!no_body) {
		http_headers_remove(&o->headers, "Content-Length");
		snprintf(num, sizeof num, "%zu", x->resp_body.len);
		http_headers_add(&o->headers, "Content-Length", 14, num,
		    strlen(num));
	}
	buf_reset(&o->reason);
	buf_adds(&o->reason, x->reason != NULL && *x->reason != '\0' ?
	    x->reason : http_reason(x->status));
	http_headers_add(&o->headers, "X-Patchscope-Replay", 19, "hit", 3);
	snprintf(num, sizeof num, "%zu", hit->entry);
	http_headers_add(&o->headers, "X-Patchscope-Replay-Entry", 25, num,
	    strlen(num));
	snprintf(num, sizeof num, "%zu/%zu", hit->nth, hit->of);
	http_headers_add(&o->headers, "X-Patchscope-Replay-Sequence", 28, num,
	    strlen(num));
	if (!conn->client_keepalive || conn->proxy->draining) {
		conn->close_after = 1;
		http_headers_add(&o->headers, "Connection", 10, "close", 5);
	} else if (conn->client_http10)
		http_headers_add(&o->headers, "Connection", 10, "keep-alive",
		    10);
	buf_reset(&conn->resp_body);
	if (!no_body && x->resp_body.data != NULL)
		buf_add(&conn->resp_body, x->resp_body.data, x->resp_body.len);
	o->body_bytes = conn->resp_body.len;
	monotonic_now(&conn->t_resp_head);
	log_debug("[#%" PRIu64 "] replay: entry %zu (%zu of %zu)", conn->id,
	    hit->entry, hit->nth, hit->of);
	/* patchscope's own recorded answer (guard, error) is as it was. */
	if (x->answered_by != NULL) {
		if (!conn->proxy->opts->no_annotate)
			annotate_headers(&conn->diags, &o->headers);
	} else
		response_inspect(conn, no_body);
	if (!conn->hold_resp) {
		response_send_head(conn);
		half_write(&conn->client, conn->resp_body.data,
		    conn->resp_body.len);
	}
	o->msg_done = 1;
	exchange_finish(conn);
}

/* No recorded exchange matches: 404 with the miss report; keep alive. */
static void
replay_miss(struct conn *conn, const struct exchange *req)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct buf		 head = { NULL, 0, 0 };
	json_t			*report;
	char			*text, len[32];
	const char		*msg;

	report = replay_miss_report(conn->proxy->replay, req,
	    conn->origin_form);
	msg = json_string_value(json_object_get(report, "message"));
	log_info("[#%" PRIu64 "] replay miss: %s", conn->id,
	    msg != NULL ? msg : "no recorded exchange matches");
	text = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(report);
	buf_adds(&conn->resp_body, text != NULL ? text : "{}");
	buf_add(&conn->resp_body, "\n", 1);
	free(text);
	snprintf(len, sizeof len, "%zu", conn->resp_body.len);
	http_headers_add(&h, "Content-Type", 12, "application/json", 16);
	http_headers_add(&h, "Content-Length", 14, len, strlen(len));
	http_headers_add(&h, "X-Patchscope-Replay", 19, "miss", 4);
	http_headers_add(&h, "X-Patchscope-Error", 18, "replay_miss", 11);
	if (!conn->proxy->opts->no_annotate)
		annotate_headers(&conn->diags, &h);
	if (!conn->client_keepalive || conn->proxy->draining) {
		conn->close_after = 1;
		http_headers_add(&h, "Connection", 10, "close", 5);
	}
	http_response_head(&head, 404, http_reason(404), &h);
	if (conn->method != HTTP_HEAD)
		buf_add(&head, conn->resp_body.data, conn->resp_body.len);
	half_write(&conn->client, head.data, head.len);
	conn->resp_status = 404;
	conn->resp_started = 1;
	conn->origin.msg_done = 1;
	http_headers_clear(&h);
	buf_free(&head);
	exchange_finish(conn);
}

/*
 * replay --fallback=proxy with a request sent as to a server: send it to
 * the cassette's (first) origin. Return 0, or -1 after an error answer.
 */
static int
replay_fallback_origin(struct conn *conn)
{
	const struct exchange	*first;
	struct http_url		 u;
	struct buf		 authority = { NULL, 0, 0 };
	const char		*errstr;

	first = replay_entry(conn->proxy->replay, 0);
	if (first == NULL || first->url == NULL ||
	    http_url_parse(first->url, &u, &errstr) != 0) {
		conn_fail(conn, 502, "replay_miss", "no recorded exchange "
		    "matches, and the cassette names no origin to forward "
		    "the request to");
		return -1;
	}
	free(conn->target.scheme);
	free(conn->target.host);
	conn->target.scheme = u.scheme;
	conn->target.host = u.host;
	conn->target.port = u.port;
	free(u.target);
	http_headers_remove(&conn->client.headers, "Host");
	http_url_authority(&authority, &conn->target);
	http_headers_add(&conn->client.headers, "Host", 4, authority.data,
	    authority.len);
	buf_free(&authority);
	free(conn->origin_host);
	free(conn->origin_name);
	conn->origin_host = xstrdup(conn->target.host);
	conn->origin_name = xstrdup(conn->target.host);
	conn->origin_port = conn->target.port;
	conn->origin_tls = strcmp(conn->target.scheme, "https") == 0;
	conn->origin_form = 0;
	return 0;
}

/* The whole request is in: answer it from the cassette. */
static void
replay_answer(struct conn *conn)
{
	struct proxy		*p = conn->proxy;
	struct exchange		 req;
	struct replay_hit	 hit;

	exchange_init(&req);
	replay_request(conn, &req);
	/* The head and the body of the answer leave in one write. */
	conn->client.corked = 1;
	if (replay_match(p->replay, &req, conn->origin_form, &hit) == 0)
		replay_serve(conn, &hit);
	else if (p->opts->fallback_proxy) {
		log_info("[#%" PRIu64 "] replay miss: forwarding it "
		    "(--fallback=proxy)%s", conn->id, p->recorder != NULL ?
		    " and appending the exchange to the cassette" : "");
		if (!conn->origin_form || replay_fallback_origin(conn) == 0) {
			if (p->recorder != NULL)
				conn_record_begin(conn);
			request_release(conn);
		}
	} else
		replay_miss(conn, &req);
	if (!conn->closed && conn->client.bev != NULL)
		half_uncork(&conn->client);
	else {
		conn->client.corked = 0;
		buf_reset(&conn->client.cork);
	}
	exchange_free(&req);
}

/* Map an llhttp error on a half to an answer. */
static void
half_parse_error(struct half *h, llhttp_errno_t err)
{
	struct conn		*conn = h->conn;
	const struct options	*opts = conn->proxy->opts;
	const char		*reason = llhttp_get_error_reason(&h->parser);

	if (reason == NULL)
		reason = llhttp_errno_name(err);
	if (err == HPE_USER && conn->guard_overflow &&
	    conn->proxy->replay != NULL) {
		conn_fail(conn, 413, "body_too_large", "replay matches whole "
		    "requests, and this body is larger than --max-body-buffer "
		    "(%zu bytes); raise the limit", opts->max_body_buffer);
		return;
	}
	if (err == HPE_USER && conn->guard_overflow) {
		conn_fail(conn, 413, "body_too_large", "--guard cannot check a "
		    "PATCH body larger than --max-body-buffer (%zu bytes); "
		    "raise the limit or run without --guard",
		    opts->max_body_buffer);
		return;
	}
	if (err == HPE_USER && h->reject != NULL) {
		if (h == &conn->client)
			conn_fail(conn, 400, "bad_request",
			    "malformed request: %s", h->reject);
		else
			conn_fail(conn, 502, "upstream_bad_response",
			    "the origin sent a malformed response: %s",
			    h->reject);
		return;
	}
	if (h == &conn->client) {
		if (err == HPE_USER && !h->head_done) {
			conn_fail(conn, 431, "headers_too_large",
			    "the request head is larger than "
			    "--max-header-bytes (%zu bytes) or has more than "
			    "%d header lines", opts->max_header_bytes,
			    OPTIONS_MAX_HEADERS);
			return;
		}
		if (conn->resp_started || h->head_done) {
			/* Mid-body: the request cannot be repaired. */
			if (!conn->resp_started)
				conn_fail(conn, 400, "bad_request",
				    "malformed request body: %s", reason);
			else
				conn_close(conn, "malformed request body: %s",
				    reason);
			return;
		}
		conn_fail(conn, 400, "bad_request", "malformed request: %s",
		    reason);
		return;
	}
	if (err == HPE_USER && !h->head_done)
		conn_fail(conn, 502, "upstream_bad_response",
		    "the origin's response head is too large");
	else
		conn_fail(conn, 502, "upstream_bad_response",
		    "the origin sent a malformed response: %s", reason);
}

static void	half_parse_input(struct half *);

/*
 * Feed a half's input to its parser until paused, empty or failed. What
 * the pass sends to the peer (a head and the body behind it, say) goes out
 * in one write at the end.
 */
static void
half_parse(struct half *h)
{
	struct half	*peer = h->peer;

	peer->corked = 1;
	half_parse_input(h);
	if (peer->bev != NULL)
		half_uncork(peer);
	else {
		peer->corked = 0;
		buf_reset(&peer->cork);
	}
}

static void
half_parse_input(struct half *h)
{
	struct conn		*conn = h->conn;
	struct evbuffer		*in;
	const char		*data, *pos;
	size_t			 len, used;
	llhttp_errno_t		 err;
	int			 kick = 0;

	while (!conn_finishing(conn) && h->bev != NULL && !h->paused) {
		in = bufferevent_get_input(h->bev);
		len = evbuffer_get_contiguous_space(in);
		/*
		 * After a pause at the end of a head, run the parser once
		 * even with no input: a message without a body completes
		 * only then.
		 */
		if (len == 0 && !kick)
			return;
		kick = 0;
		data = len > 0 ?
		    (const char *)evbuffer_pullup(in, (ev_ssize_t)len) : "";
		h->exec_start = data;
		err = llhttp_execute(&h->parser, data, len);
		if (conn->closed)
			return;
		used = len;
		if (err == HPE_PAUSED) {
			pos = llhttp_get_error_pos(&h->parser);
			if (pos != NULL && pos >= data && pos <= data + len)
				used = (size_t)(pos - data);
		}
		if (!h->head_done || err == HPE_PAUSED)
			h->raw_head_bytes += used;
		/* The last byte before the next input, blanks skipped. */
		for (pos = data + used; pos > data; pos--)
			if (pos[-1] != ' ' && pos[-1] != '\t') {
				h->exec_prev = pos[-1];
				break;
			}
		evbuffer_drain(in, used);
		if (err == HPE_OK) {
			if (h == &conn->client && !h->head_done &&
			    h->raw_head_bytes >
			    conn->proxy->opts->max_header_bytes) {
				half_parse_error(h, HPE_USER);
				return;
			}
			continue;
		}
		if (err != HPE_PAUSED) {
			half_parse_error(h, err);
			return;
		}
		llhttp_resume(&h->parser);
		if (h->msg_done) {
			/* Keep the parser stopped until the exchange ends. */
			h->paused = 1;
			if (h == &conn->client) {
				if (conn->inspect_req)
					request_diagnose(conn);
				if (conn->hold_req) {
					if (conn->proxy->opts->guard &&
					    diag_list_has_errors(&conn->diags)) {
						guard_answer(conn);
						return;
					}
					if (conn->proxy->replay != NULL)
						replay_answer(conn);
					else
						request_release(conn);
					if (conn_finishing(conn) ||
					    conn->state == CONN_WAIT_REQUEST)
						return;
				}
				if (conn->origin.msg_done || conn->state ==
				    CONN_WAIT_RESPONSE)
					conn_arm(conn,
					    conn->proxy->opts->response_timeout_ms);
				if (conn->origin.msg_done)
					exchange_finish(conn);
			} else if (conn->client.msg_done)
				exchange_finish(conn);
			else {
				/* Answered before the request ended. */
				conn->close_after = 1;
				exchange_finish(conn);
			}
			return;
		}
		/* Paused at the end of a head. */
		if (h == &conn->client) {
			if (request_begin(conn) != 0)
				return;
		} else {
			response_begin(conn);
			if (conn_finishing(conn))
				return;
		}
		kick = 1;
	}
}

/* Both messages are done (or the response ended the exchange early). */
static void
exchange_finish(struct conn *conn)
{
	struct half	*c = &conn->client, *o = &conn->origin;
	int		 reusable;

	response_complete(conn);
	conn->exchanges++;
	conn_exchange_done(conn, conn->resp_status, NULL, NULL,
	    conn->own_answer ? &conn->rec_resp_headers : NULL,
	    conn->own_answer ? buf_str(&conn->resp_body) : NULL);
	reusable = o->bev != NULL && llhttp_should_keep_alive(&o->parser) &&
	    c->msg_done && evbuffer_get_length(
	    bufferevent_get_input(o->bev)) == 0;
	origin_release(conn, reusable);
	if (conn->close_after || !conn->client_keepalive ||
	    conn->proxy->draining || !c->msg_done) {
		conn_drain(conn);
		return;
	}
	conn_set_state(conn, CONN_WAIT_REQUEST);
	conn_arm(conn, conn->proxy->opts->idle_timeout_ms);
	c->paused = 0;
	if (c->throttled) {
		c->throttled = 0;
		bufferevent_enable(c->bev, EV_READ);
	}
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		event_active(conn->resume, EV_TIMEOUT, 1);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*conn = arg;

	(void)fd;
	(void)what;
	half_parse(&conn->client);
}

/*
 * libevent 2.1 reads at most 4 KiB per call on a socket bufferevent, which
 * costs a loop round trip per 4 KiB of body. When the socket has more, take
 * up to SINGLE_IO bytes now. Plain sockets only: never under a TLS layer.
 */
static void
half_fill(struct half *h)
{
	struct evbuffer		*in;
	struct evbuffer_iovec	 vec[2];
	evutil_socket_t		 fd;
	ssize_t			 r;
	size_t			 left;
	int			 i, n;

	if (h->bev == NULL || h->throttled || !h->plain)
		return;
	in = bufferevent_get_input(h->bev);
	/* Less than a full 4 KiB read means the socket is drained: skip. */
	if (evbuffer_get_length(in) < 4096 ||
	    evbuffer_get_length(in) >= SINGLE_IO)
		return;
	fd = bufferevent_getfd(h->bev);
	if (fd < 0)
		return;
	/* A bufferevent keeps its input's end frozen outside its reads. */
	evbuffer_unfreeze(in, 0);
	n = evbuffer_reserve_space(in, SINGLE_IO, vec, 2);
	if (n > 0) {
		r = readv(fd, (struct iovec *)vec, n);
		/* EOF and errors are seen by the bufferevent's next read. */
		left = r > 0 ? (size_t)r : 0;
		for (i = 0; i < n; i++) {
			if (vec[i].iov_len > left)
				vec[i].iov_len = left;
			left -= vec[i].iov_len;
		}
		evbuffer_commit_space(in, vec, r > 0 ? n : 0);
	}
	evbuffer_freeze(in, 0);
}

/* Move what one side of a raw tunnel sent to the other side. */
static void
tunnel_relay(struct half *from)
{
	struct evbuffer	*in = bufferevent_get_input(from->bev);
	struct evbuffer	*out;

	if (from->peer->bev == NULL)
		return;
	out = bufferevent_get_output(from->peer->bev);
	from->body_bytes += evbuffer_get_length(in);
	evbuffer_add_buffer(out, in);
	conn_touch(from->conn);
	if (!from->throttled && evbuffer_get_length(out) > RELAY_HIGH) {
		from->throttled = 1;
		bufferevent_disable(from->bev, EV_READ);
	}
}

/* The origin answered a --no-intercept CONNECT: open the tunnel. */
static void
tunnel_open(struct conn *conn)
{
	half_write(&conn->client, connect_ok, sizeof connect_ok - 1);
	conn->resp_started = 1;
	conn->resp_status = 200;
	conn_set_state(conn, CONN_TUNNEL);
	conn_arm(conn, conn->proxy->opts->idle_timeout_ms);
	/* Bytes the client sent behind its CONNECT go first. */
	if (evbuffer_get_length(bufferevent_get_input(conn->client.bev)) > 0)
		tunnel_relay(&conn->client);
	bufferevent_enable(conn->client.bev, EV_READ);
}

/* Client side bufferevent callbacks. */

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;

	if (conn->state == CONN_DRAIN || conn->state == CONN_LINGER) {
		/* Nothing more is parsed; unread input is thrown away. */
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
	struct half	*o = &conn->origin;

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
	if (o->throttled && o->bev != NULL) {
		o->throttled = 0;
		bufferevent_enable(o->bev, EV_READ);
	}
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*conn = arg;
	char		 why[256];
	int		 reset;

	if (what & BEV_EVENT_CONNECTED) {
		/* The client's TLS handshake is done. */
		conn->handshaking = 0;
		log_debug("[#%" PRIu64 "] TLS with the client for %s "
		    "established", conn->id, conn->tunnel.host);
		return;
	}
	if (conn->handshaking) {
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
	conn->resp_truncated = conn->resp_truncated ||
	    (conn->resp_started && !conn->origin.msg_done);
	if (conn->state != CONN_DRAIN)
		conn_exchange_done(conn, conn->resp_status != 0 ?
		    conn->resp_status : 499, "client_closed", reset ?
		    "the client reset the connection mid-exchange" :
		    "the client closed the connection mid-exchange", NULL,
		    NULL);
	conn_close(conn, "%s", why);
}

/* Origin side bufferevent callbacks. */

static void
origin_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;

	(void)bev;
	if (conn->state == CONN_TUNNEL) {
		tunnel_relay(&conn->origin);
		return;
	}
	conn_touch(conn);
	half_fill(&conn->origin);
	half_parse(&conn->origin);
}

static void
origin_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;
	struct half	*c = &conn->client;

	(void)bev;
	conn_touch(conn);
	if (c->throttled && c->bev != NULL && conn->state != CONN_DRAIN) {
		c->throttled = 0;
		bufferevent_enable(c->bev, EV_READ);
	}
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
	struct conn	*conn = arg;
	struct half		*o = &conn->origin;
	char			*msg;
	enum upstream_error	 kind;
	int			 err;
	static const char	*codes[] = {
		[UPSTREAM_ERR_CONNECT] = "upstream_unreachable",
		[UPSTREAM_ERR_DNS] = "upstream_dns",
		[UPSTREAM_ERR_TLS] = "upstream_tls",
	};

	if (what & BEV_EVENT_CONNECTED) {
		set_nodelay(bufferevent_getfd(bev));
		conn->origin.connected = 1;
		if (conn->raw_tunnel) {
			tunnel_open(conn);
			return;
		}
		conn_set_state(conn, CONN_WAIT_RESPONSE);
		conn_arm(conn, conn->client.msg_done ?
		    conn->proxy->opts->response_timeout_ms :
		    conn->proxy->opts->idle_timeout_ms);
		return;
	}
	if (conn->state == CONN_CONNECT) {
		msg = upstream_connect_error(bev, conn->origin_name,
		    conn->origin_port, &kind);
		conn_fail(conn, 502, codes[kind], "%s", msg);
		free(msg);
		return;
	}
	err = (what & BEV_EVENT_ERROR) ? EVUTIL_SOCKET_ERROR() : 0;
	if (conn->state == CONN_TUNNEL) {
		/* Send the client what the origin said last, then close. */
		tunnel_log(conn);
		conn_drain(conn);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* A body delimited by the close ends here. */
		if (o->head_done && !o->msg_done && !o->paused &&
		    llhttp_message_needs_eof(&o->parser)) {
			llhttp_finish(&o->parser);
			if (o->msg_done) {
				o->paused = 1;
				if (!conn->client.msg_done)
					conn->close_after = 1;
				exchange_finish(conn);
				return;
			}
		}
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

/* The one timer: what expiry means depends on the state. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn		*conn = arg;
	const struct options	*opts = conn->proxy->opts;

	(void)fd;
	(void)what;
	switch (conn->state) {
	case CONN_WAIT_REQUEST:
		if (conn->handshaking) {
			log_warnx("[#%" PRIu64 "] TLS handshake with the "
			    "client for %s:%d did not finish within "
			    "--header-timeout", conn->id, conn->tunnel.host,
			    conn->tunnel.port);
			conn_close(conn, "TLS handshake timed out");
			return;
		}
		if (conn->exchanges == 0 && evbuffer_get_length(
		    bufferevent_get_input(conn->client.bev)) > 0) {
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
	case CONN_WAIT_RESPONSE:
		if (conn->client.msg_done &&
		    conn->timer_ms == opts->response_timeout_ms) {
			conn_fail(conn, 504, "upstream_timeout",
			    "%s:%d did not answer within --response-timeout "
			    "(%.1f s)", conn->origin_host, conn->origin_port,
			    opts->response_timeout_ms / 1000.0);
			return;
		}
		/* FALLTHROUGH */
	case CONN_RELAY_RESPONSE:
		if (conn_idle_rearm(conn))
			return;
		if (!conn->client.msg_done && !conn->resp_started &&
		    conn->client.throttled) {
			conn_fail(conn, 504, "upstream_timeout",
			    "%s:%d stopped reading the request body for "
			    "--idle-timeout (%.1f s)", conn->origin_name,
			    conn->origin_port, opts->idle_timeout_ms / 1000.0);
			return;
		}
		if (!conn->client.msg_done && !conn->resp_started) {
			conn_fail(conn, 408, "request_timeout",
			    "the request body stopped arriving for "
			    "--idle-timeout (%.1f s)",
			    opts->idle_timeout_ms / 1000.0);
			return;
		}
		conn_fail(conn, 504, "transfer_stalled",
		    "no data moved for --idle-timeout (%.1f s)",
		    opts->idle_timeout_ms / 1000.0);
		return;
	case CONN_DRAIN:
		if (conn_idle_rearm(conn))
			return;
		conn_close(conn, "client did not read the last answer");
		return;
	case CONN_LINGER:
		if (conn->linger_flushing) {
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
	case CONN_CLOSED:
		return;
	}
}

static void
set_nodelay(evutil_socket_t fd)
{
	int	one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct proxy	*p = arg;
	struct conn	*conn;

	(void)l;
	(void)sa;
	(void)salen;
	set_nodelay(fd);
	conn = xcalloc(1, sizeof *conn);
	conn->proxy = p;
	conn->id = ++p->next_id;
	conn->method = -1;
	conn->state = CONN_WAIT_REQUEST;
	half_init(&conn->client, conn, &conn->origin, "client");
	half_init(&conn->origin, conn, &conn->client, "origin");
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
		return;
	}
	conn->client.plain = 1;
	conn->client.connected = 1;
	llhttp_init(&conn->client.parser, HTTP_REQUEST, &request_settings);
	conn->client.parser.data = &conn->client;
	monotonic_now(&conn->t_start);
	TAILQ_INSERT_TAIL(&p->conns, conn, entry);
	p->nconns++;
	bufferevent_setcb(conn->client.bev, client_read_cb, client_write_cb,
	    client_event_cb, conn);
	bufferevent_setwatermark(conn->client.bev, EV_WRITE, RELAY_LOW, 0);
	/* Pipelined requests wait in the input: bound it. */
	bufferevent_setwatermark(conn->client.bev, EV_READ, 0, RELAY_HIGH);
	bufferevent_set_max_single_read(conn->client.bev, SINGLE_IO);
	bufferevent_set_max_single_write(conn->client.bev, SINGLE_IO);
	bufferevent_enable(conn->client.bev, EV_READ | EV_WRITE);
	log_debug("[#%" PRIu64 "] accepted", conn->id);
	if (p->nconns > p->opts->max_connections) {
		conn_fail(conn, 503, "too_many_connections",
		    "patchscope already has --max-connections (%u) client "
		    "connections open", p->opts->max_connections);
		return;
	}
	conn_arm(conn, p->opts->header_timeout_ms);
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

static void
settings_init(void)
{
	static int	done;

	if (done)
		return;
	done = 1;
	llhttp_settings_init(&request_settings);
	request_settings.on_message_begin = on_request_begin_cb;
	request_settings.on_url = on_url_cb;
	request_settings.on_header_field = on_header_field_cb;
	request_settings.on_header_value = on_header_value_cb;
	request_settings.on_headers_complete = on_request_headers_cb;
	request_settings.on_body = on_body_cb;
	request_settings.on_message_complete = on_message_complete_cb;
	llhttp_settings_init(&response_settings);
	response_settings.on_status = on_status_cb;
	response_settings.on_header_field = on_header_field_cb;
	response_settings.on_header_value = on_header_value_cb;
	response_settings.on_headers_complete = on_response_headers_cb;
	response_settings.on_body = on_body_cb;
	response_settings.on_message_complete = on_message_complete_cb;
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

	settings_init();
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
	p->redactor = proxy_redactor_new(opts);
	p->color = log_is_tty();
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
	p->accept_retry = evtimer_new(base, accept_retry_cb, p);
	p->reaper = event_new(base, -1, 0, reaper_cb, p);
	return p;
fail:
	free(spec);
	rules_free(p->rules);
	if (p->snapshots != NULL)
		snapshot_store_free(p->snapshots);
	redact_free(p->redactor);
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
	for (conn = TAILQ_FIRST(&p->conns); conn != NULL; conn = next) {
		next = TAILQ_NEXT(conn, entry);
		if (conn->state == CONN_WAIT_REQUEST && evbuffer_get_length(
		    bufferevent_get_input(conn->client.bev)) == 0)
			conn_close(conn, "shutting down");
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
	size_t		 i;

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
	for (i = 0; i < p->nseeds; i++)
		free(p->seeds[i].key);
	free(p->seeds);
	free(p->address);
	free(p);
}

/* Record exchanges to rec from now on. */
void
proxy_set_recorder(struct proxy *p, struct recorder *rec)
{
	p->recorder = rec;
}

/* The seed key of a cassette entry that answers with a profile, or -1. */
static int
replay_seed_key(const struct exchange *x, struct buf *key, char **fields)
{
	struct http_url	 u;
	const char	*errstr;
	char		*account, *profile;
	int		 rc = -1;

	*fields = NULL;
	if (x->status < 200 || x->status > 299 || x->resp_body.data == NULL ||
	    x->resp_body.truncated || (strcmp(x->method, "GET") != 0 &&
	    strcmp(x->method, "PATCH") != 0) ||
	    !body_is_json(http_headers_get(&x->resp_headers, "Content-Type")) ||
	    http_url_parse(x->url, &u, &errstr) != 0)
		return -1;
	if (api_profile_target(u.target, &account, &profile, fields) == 0) {
		buf_adds(key, account != NULL ? account : "");
		buf_add(key, "", 1);
		buf_adds(key, profile);
		free(account);
		free(profile);
		rc = 0;
	}
	http_url_free(&u);
	return rc;
}

/* Compare seeds by key alone (bsearch). */
static int
replay_seed_key_cmp(const void *a, const void *b)
{
	const struct replay_seed	*x = a, *y = b;
	size_t				 n;
	int				 c;

	n = x->keylen < y->keylen ? x->keylen : y->keylen;
	c = memcmp(x->key, y->key, n);
	if (c != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/* Compare seeds by key, then entry (qsort: the first entry first). */
static int
replay_seed_cmp(const void *a, const void *b)
{
	const struct replay_seed	*x = a, *y = b;
	int				 c;

	c = replay_seed_key_cmp(a, b);
	if (c != 0)
		return c;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/*
 * Replay: what is known of a profile that no answer of this run has shown
 * yet comes from the cassette's first answer with it, learned now. Return
 * the snapshot, or NULL when the cassette has none.
 */
static const struct snapshot *
replay_seed_snapshot(struct proxy *p, const char *account, const char *profile)
{
	const struct exchange	*x;
	struct replay_seed	 want, *seed;
	struct snapshot		*snap;
	struct buf		 key = { NULL, 0, 0 };
	char			*fields = NULL;
	json_t			*doc;

	buf_adds(&key, account != NULL ? account : "");
	buf_add(&key, "", 1);
	buf_adds(&key, profile);
	want.key = key.data;
	want.keylen = key.len;
	want.entry = 0;
	seed = p->nseeds == 0 ? NULL : bsearch(&want, p->seeds, p->nseeds,
	    sizeof *p->seeds, replay_seed_key_cmp);
	buf_reset(&key);
	if (seed == NULL || (x = replay_entry(p->replay, seed->entry)) == NULL ||
	    replay_seed_key(x, &key, &fields) != 0) {
		buf_free(&key);
		return NULL;
	}
	doc = json_loadb(x->resp_body.data, x->resp_body.len, 0, NULL);
	if (json_is_object(doc)) {
		rules_learn(p->rules, doc);
		snap = snapshot_new(doc, fields);
		if (snap != NULL)
			snapshot_store_put(p->snapshots, "replay",
			    account != NULL ? account : "", profile, snap);
	}
	json_decref(doc);
	free(fields);
	buf_free(&key);
	return snapshot_store_get(p->snapshots, "replay",
	    account != NULL ? account : "", profile);
}

/*
 * Answer from idx. For each profile the cassette shows, note its first
 * answer (a GET, or a PATCH that returned the profile): a PATCH replayed
 * before any answer of this run showed the profile is checked against
 * that, learned when first needed.
 */
void
proxy_set_replay(struct proxy *p, struct replay_index *idx)
{
	struct buf	 key = { NULL, 0, 0 };
	char		*fields;
	size_t		 i, n, cap = 0;

	p->replay = idx;
	for (i = 0; i < replay_count(idx); i++) {
		buf_reset(&key);
		if (replay_seed_key(replay_entry(idx, i), &key, &fields) != 0)
			continue;
		free(fields);
		if (p->nseeds == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			p->seeds = xreallocarray(p->seeds, cap,
			    sizeof *p->seeds);
		}
		p->seeds[p->nseeds].key = xmalloc(key.len);
		memcpy(p->seeds[p->nseeds].key, key.data, key.len);
		p->seeds[p->nseeds].keylen = key.len;
		p->seeds[p->nseeds++].entry = i;
	}
	buf_free(&key);
	/* Sorted by key, then entry: keep each key's first entry. */
	if (p->nseeds > 1)
		qsort(p->seeds, p->nseeds, sizeof *p->seeds, replay_seed_cmp);
	for (i = n = 0; i < p->nseeds; i++) {
		if (n > 0 && replay_seed_key_cmp(&p->seeds[n - 1],
		    &p->seeds[i]) == 0) {
			free(p->seeds[i].key);
			continue;
		}
		p->seeds[n++] = p->seeds[i];
	}
	p->nseeds = n;
}
