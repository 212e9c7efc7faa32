/*
 * fault_serve: --fault on a live connection, in proxy, record and replay.
 *
 * A request's fault is chosen once, in fault_serve_start(), when its head
 * is in and its handler (forward or replay) known: conn->fault points at
 * the spec (the proxy's set owns it) and the capture notes the spec's
 * KIND[:ARG], so the exchange carries it to every sink (the log line, the
 * cassette's "_fault"). What each kind does:
 *
 * - status: fault_handler takes the request: the rest of it is read (and
 *   dropped: nothing is forwarded or matched), then patchscope answers in
 *   the API's error shape, with Retry-After when asked; keep-alive.
 * - reset: the exchange is handed on, then the socket is closed with
 *   SO_LINGER 0, so the kernel answers with a reset and nothing else.
 * - hang: fault_handler in CONN_FAULT with no timer: the request is read,
 *   nothing is answered, and no timeout ends it; it ends when the client
 *   closes (logged as client_closed) or patchscope shuts down.
 * - latency: CONN_FAULT with the timer set to MS: the client half stops
 *   parsing (client_stopped), the body waits in its input; then the
 *   handler starts and parsing goes on.
 * - truncate: the handler runs and the connection closes after the
 *   answer; once the answer's head is out, the client half lets half of
 *   the body through and drops the rest (half.out_left). An origin's
 *   answer of no known length is held whole first, so that its head can
 *   say its full length.
 * - drop-response: the handler runs (the origin gets the request and its
 *   whole answer is read and recorded; in replay the entry is served, so
 *   its sequence moves on), but the client half lets nothing through and
 *   the connection closes when the exchange ends.
 *
 * status, reset and hang take no recorded answer in replay: the entry's
 * place in its sequence is left for the next request.
 */
#include "config.h"

#include <sys/socket.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <llhttp.h>

#include "annotate.h"
#include "buf.h"
#include "capture.h"
#include "conn.h"
#include "fault.h"
#include "fault_serve.h"
#include "forward.h"
#include "half.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "xmalloc.h"

static int	fault_start(struct conn *);
static void	fault_request_done(struct conn *);

const struct handler fault_handler = {
	"fault", fault_start, fault_request_done
};

/* The faults of a run, from --fault and --seed; NULL when none. */
struct fault_set *
fault_serve_new(const struct options *opts)
{
	struct fault_set	*set;
	struct timespec		 ts;
	uint64_t		 seed;
	char			*cause;
	size_t			 i;

	if (opts->n_faults == 0)
		return NULL;
	if (opts->have_seed)
		seed = opts->seed;
	else {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000000u +
		    (uint64_t)ts.tv_nsec;
		seed ^= (uint64_t)getpid() << 40;
		/* Small numbers are easier to pass back with --seed. */
		seed %= 1000000000000ULL;
	}
	set = xmalloc(sizeof *set);
	fault_set_init(set, seed);
	for (i = 0; i < opts->n_faults; i++) {
		/* Checked when the options were parsed: cannot fail. */
		if (fault_set_add(set, opts->faults[i], &cause) != 0)
			fatalx("--fault '%s': %s", opts->faults[i], cause);
		log_info("fault: %s", opts->faults[i]);
	}
	/* The seed matters only to rate=: say it only then. */
	for (i = 0; i < set->n; i++)
		if (set->v[i].select == FAULT_RATE) {
			log_info("fault: rate choices follow --seed %" PRIu64
			    "%s", seed, opts->have_seed ? "" : " (from the "
			    "clock; give it to repeat this run's choices)");
			break;
		}
	return set;
}

/* Free the faults of a run. */
void
fault_serve_free(struct fault_set *set)
{
	if (set == NULL)
		return;
	fault_set_free(set);
	free(set);
}

/* A recording keeps faulted exchanges too (replay records only misses). */
static void
fault_record(struct conn *conn)
{
	if (conn->proxy->recorder != NULL && conn->proxy->mode == PROXY_FORWARD)
		forward_record_begin(conn);
}

/*
 * reset: hand the exchange on (no answer: status 0), then close with
 * SO_LINGER 0: the kernel resets the connection instead of closing it.
 */
static void
fault_reset(struct conn *conn)
{
	struct bufferevent	*under;
	struct linger		 l;
	int			 fd;

	fault_record(conn);
	conn->exchanges++;
	conn_exchange_done(conn, 0, NULL, NULL);
	/* Under a TLS filter, the socket is the underlying one's. */
	under = bufferevent_get_underlying(conn->client.bev);
	fd = bufferevent_getfd(under != NULL ? under : conn->client.bev);
	l.l_onoff = 1;
	l.l_linger = 0;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
	    sizeof l) != 0)
		log_debug("[#%" PRIu64 "] fault reset: SO_LINGER not set; the "
		    "connection is closed instead", conn->id);
	conn_close(conn, "reset by --fault");
}

/* Pick the request's fault, if any, and start what it becomes. */
int
fault_serve_start(struct conn *conn)
{
	const struct fault_spec	*f;

	f = fault_set_pick(conn->proxy->faults, llhttp_method_name(
	    (llhttp_method_t)conn->method), conn->target.target);
	if (f == NULL)
		return conn->handler->start(conn);
	conn->fault = f;
	capture_fault(&conn->cap, f->canon);
	log_debug("[#%" PRIu64 "] fault %s (--fault '%s')", conn->id,
	    f->canon, f->text);
	switch (f->kind) {
	case FAULT_STATUS:
	case FAULT_HANG:
		conn->handler = &fault_handler;
		break;
	case FAULT_RESET:
		fault_reset(conn);
		return -1;
	case FAULT_LATENCY:
		/* client_stopped holds the parse until the timer runs out. */
		conn_set_state(conn, CONN_FAULT);
		clock_gettime(CLOCK_MONOTONIC, &conn->fault_at);
		conn_arm(conn, TIMER_FAULT);
		/*
		 * Read nothing meanwhile: with the parse held, a body that
		 * filled the input to its mark would wake the read callback
		 * again and again (a busy loop for the whole wait).
		 */
		half_throttle(&conn->client);
		return 0;
	case FAULT_TRUNCATE:
		conn->close_after = 1;
		break;
	case FAULT_DROP_RESPONSE:
		conn->close_after = 1;
		conn->client.out_left = 0;
		break;
	}
	return conn->handler->start(conn);
}

/* latency: the wait is over; start the handler and parse on. */
void
fault_serve_timer(struct conn *conn)
{
	if (conn->fault == NULL || conn->fault->kind != FAULT_LATENCY)
		return;
	conn_set_state(conn, CONN_READ_HEAD);
	half_unthrottle(&conn->client);
	if (conn->handler->start(conn) != 0 || conn_finishing(conn))
		return;
	half_parse_after_head(&conn->client);
}

/* status and hang: the request is theirs; nothing is forwarded. */
static int
fault_start(struct conn *conn)
{
	fault_record(conn);
	if (conn->fault->kind == FAULT_HANG) {
		/* No timer: only the client or a shutdown ends it. */
		conn_set_state(conn, CONN_FAULT);
		evtimer_del(conn->timer);
		/* Shutting down already: it ends as a hang would then. */
		if (conn->proxy->draining) {
			fault_serve_shutdown(conn);
			return -1;
		}
		return 0;
	}
	/* The body is read and dropped (no origin to relay it to). */
	conn_set_state(conn, CONN_READ_HELD);
	conn_arm(conn, TIMER_IDLE);
	return 0;
}

/* status: the whole request is in; answer in the API's error shape. */
static void
fault_request_done(struct conn *conn)
{
	const struct fault_spec	*f = conn->fault;
	struct http_headers	 h = { NULL, 0, 0 };
	struct buf		 body = { NULL, 0, 0 };
	char			 num[32];

	if (f->kind != FAULT_STATUS)
		return;		/* hang: nothing, ever */
	fault_status_body(f, &body);
	http_headers_add(&h, HTTP_LIT(HTTP_CONTENT_TYPE),
	    HTTP_LIT("application/json"));
	if (f->retry_after >= 0) {
		snprintf(num, sizeof num, "%ld", f->retry_after);
		http_headers_add(&h, HTTP_LIT("Retry-After"), num,
		    strlen(num));
	}
	http_headers_add(&h, HTTP_LIT("X-Patchscope-Fault"), f->canon,
	    strlen(f->canon));
	/* The cassette keeps the answer as patchscope's own. */
	capture_own_answer(&conn->cap, f->status, &h, body.data, body.len, 0);
	http_headers_set_length(&h, body.len);
	if (!conn->proxy->opts->no_annotate)
		annotate_headers(&conn->cap.diags, &h);
	conn_answer(conn, f->status, &h, body.data, body.len);
	conn->origin.msg_done = 1;
	http_headers_clear(&h);
	buf_free(&body);
	conn_exchange_finish(conn);
}

/* truncate: the head is out; let about half of the body follow it. */
void
fault_serve_head_sent(struct conn *conn, int64_t body_len)
{
	if (conn->fault == NULL || conn->fault->kind != FAULT_TRUNCATE ||
	    conn->client.out_left >= 0)
		return;
	/* No length in the head (a held answer too large to hold whole). */
	if (body_len < 0)
		body_len = (int64_t)conn->cap.resp.raw.len;
	conn->client.out_left = body_len / 2;
}

/* truncate: an answer of no known length is held whole, then cut. */
void
fault_serve_response_head(struct conn *conn, int no_body)
{
	if (conn->fault == NULL || conn->fault->kind != FAULT_TRUNCATE ||
	    no_body || conn->hold_resp ||
	    http_headers_get(&conn->origin.headers,
	    HTTP_CONTENT_LENGTH) != NULL)
		return;
	/* response_complete sends it with its Content-Length. */
	conn->hold_resp = 1;
	conn->origin.hold = 1;
	conn->cap.learn_resp = 0;
}

/* The proxy shuts down: a hung request ends now, logged. */
void
fault_serve_shutdown(struct conn *conn)
{
	if (conn->state != CONN_FAULT || conn->fault == NULL ||
	    conn->fault->kind != FAULT_HANG)
		return;
	conn->exchanges++;
	conn_exchange_done(conn, 0, "shutting_down", "patchscope shut down "
	    "while --fault hang held the request");
	conn_close(conn, "shutting down");
}
