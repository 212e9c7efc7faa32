/*
 * replay_serve: answer requests from a cassette, never from an origin.
 *
 * The request is held whole (its body is part of what matches), then the
 * capture gives it decoded and redacted, as the cassette's requests were
 * recorded, and the replay index picks the answer. A recorded answer goes
 * through the same inspection as a live one (diagnosis headers, errors
 * array, learning the profile); patchscope's own recorded answers (guard,
 * errors) are sent as they were.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <llhttp.h>

#include "annotate.h"
#include "buf.h"
#include "capture.h"
#include "conn.h"
#include "diagnose.h"
#include "exchange.h"
#include "forward.h"
#include "half.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "redact.h"
#include "replay.h"
#include "replay_serve.h"
#include "request.h"
#include "response.h"
#include "xmalloc.h"

static int	replay_start(struct conn *);
static void	replay_request_done(struct conn *);

const struct handler replay_handler = {
	"replay", replay_start, replay_request_done
};

/* A request sent as to a server: its URL from the Host header. */
int
replay_target(struct conn *conn, const char *path)
{
	const char	*host, *errstr;
	struct buf	 url = { NULL, 0, 0 };
	int		 rc;

	if (request_host(conn, &host) != 0)
		return -1;
	if (host == NULL || *host == '\0')
		host = "localhost";
	buf_add(&url, "http://", 7);
	buf_adds(&url, host);
	buf_adds(&url, path);
	rc = http_url_parse(url.data, &conn->target, &errstr);
	buf_free(&url);
	if (rc != 0) {
		conn_fail(conn, 400, "bad_request", "bad request target or "
		    "Host header: %s", errstr);
		return -1;
	}
	request_target_known(conn);
	conn->origin_form = 1;
	return 0;
}

/* The request head is in: hold it whole, since all of it is matched. */
static int
replay_start(struct conn *conn)
{
	conn->client.hold = 1;
	conn->cap.keep_req = 1;
	capture_request_headers(&conn->cap, &conn->client.headers);
	conn_set_state(conn, CONN_READ_HELD);
	conn_arm(conn, TIMER_IDLE);
	return 0;
}

/*
 * The common hit: a body to send, no diagnoses to annotate or hold it
 * for, nothing recorded, no Content-Encoding. Send the prebuilt head, the
 * per-request headers and the body (one write: the client is corked),
 * and do what replay_hit would do beside. Return -1 when it is not that
 * case (nothing done).
 */
static int
replay_hit_fast(struct conn *conn, const struct replay_hit *hit)
{
	const struct exchange		*x = hit->x;
	const struct replay_answer	*a = hit->answer;
	struct half			*o = &conn->origin;
	const char			*reason, *connection = NULL;
	char				 tail[REPLAY_TAIL_MAX];
	size_t				 taillen;

	if (a == NULL || a->encoded || conn->method == HTTP_HEAD ||
	    x->status < 200 || x->status == 204 || x->status == 304 ||
	    conn->cap.diags.n > 0 || conn->cap.record || conn->cap.view)
		return -1;
	conn->resp_status = x->status;
	http_headers_clear(&o->headers);
	reason = x->reason != NULL && *x->reason != '\0' ? x->reason :
	    http_reason(x->status);
	buf_reset(&o->reason);
	buf_adds(&o->reason, reason);
	if (conn->close_after || !conn->client_keepalive ||
	    conn->proxy->draining) {
		conn->close_after = 1;
		connection = "close";
	} else if (conn->client_http10)
		connection = "keep-alive";
	taillen = replay_answer_tail(tail, hit, connection);
	/* Only the status and reason: the headers are kept when recorded. */
	capture_response(&conn->cap, x->status, reason, &o->headers);
	o->body_bytes = x->resp_body.data == NULL ? 0 : x->resp_body.len;
	log_debug("[#%" PRIu64 "] replay: entry %zu (%zu of %zu)", conn->id,
	    hit->entry, hit->nth, hit->of);
	/* No diagnoses: no annotation, nothing held; maybe a profile. */
	if (x->answered_by == NULL && conn->api)
		response_decide(conn, a->json);
	if (conn->cap.learn_resp && o->body_bytes > 0)
		buf_add(&conn->cap.resp.raw, x->resp_body.data,
		    x->resp_body.len);
	response_send_prebuilt(conn, a->head, a->headlen, tail, taillen);
	if (o->body_bytes > 0)
		half_write(&conn->client, x->resp_body.data, x->resp_body.len);
	o->msg_done = 1;
	conn_exchange_finish(conn);
	return 0;
}

/* Answer from a recorded exchange, annotated as a live one would be. */
static void
replay_hit(struct conn *conn, const struct replay_hit *hit)
{
	const struct exchange	*x = hit->x;
	struct half		*o = &conn->origin;
	char			 num[64];
	int			 no_body;

	conn->cap.replay = "hit";
	if (replay_hit_fast(conn, hit) == 0)
		return;
	conn->resp_status = x->status;
	no_body = conn->method == HTTP_HEAD || x->status == 204 ||
	    x->status == 304 || x->status < 200;
	http_headers_clear(&o->headers);
	exchange_headers_copy(&o->headers, &x->resp_headers);
	http_headers_strip_hop(&o->headers);
	if (!no_body)
		http_headers_set_length(&o->headers, x->resp_body.len);
	buf_reset(&o->reason);
	buf_adds(&o->reason, x->reason != NULL && *x->reason != '\0' ?
	    x->reason : http_reason(x->status));
	http_headers_add(&o->headers, HTTP_LIT(HTTP_X_REPLAY),
	    HTTP_LIT("hit"));
	snprintf(num, sizeof num, "%zu", hit->entry);
	http_headers_add(&o->headers, HTTP_LIT(HTTP_X_REPLAY_ENTRY), num,
	    strlen(num));
	snprintf(num, sizeof num, "%zu/%zu", hit->nth, hit->of);
	http_headers_add(&o->headers, HTTP_LIT(HTTP_X_REPLAY_SEQUENCE), num,
	    strlen(num));
	if (conn->close_after || !conn->client_keepalive ||
	    conn->proxy->draining) {
		conn->close_after = 1;
		http_headers_add(&o->headers, HTTP_LIT(HTTP_CONNECTION),
		    HTTP_LIT("close"));
	} else if (conn->client_http10)
		http_headers_add(&o->headers, HTTP_LIT(HTTP_CONNECTION),
		    HTTP_LIT("keep-alive"));
	capture_response(&conn->cap, x->status, buf_str(&o->reason),
	    &o->headers);
	o->body_bytes = no_body || x->resp_body.data == NULL ? 0 :
	    x->resp_body.len;
	log_debug("[#%" PRIu64 "] replay: entry %zu (%zu of %zu)", conn->id,
	    hit->entry, hit->nth, hit->of);
	/* patchscope's own recorded answer (guard, error) is as it was. */
	if (x->answered_by != NULL) {
		if (!conn->proxy->opts->no_annotate)
			annotate_headers(&conn->cap.diags, &o->headers);
	} else
		response_inspect(conn, no_body);
	/* What is held, learned from or viewed needs the body captured. */
	if ((conn->hold_resp || conn->cap.learn_resp || conn->cap.view) &&
	    o->body_bytes > 0)
		buf_add(&conn->cap.resp.raw, x->resp_body.data,
		    x->resp_body.len);
	if (!conn->hold_resp) {
		response_send_head(conn);
		if (o->body_bytes > 0)
			half_write(&conn->client, x->resp_body.data,
			    x->resp_body.len);
	}
	o->msg_done = 1;
	conn_exchange_finish(conn);
}

/* No recorded exchange matches: 404 with the miss report; keep alive. */
static void
replay_miss(struct conn *conn, const struct exchange *req)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct buf		 body = { NULL, 0, 0 };
	json_t			*report;
	char			*text;
	const char		*msg;

	report = replay_miss_report(conn->proxy->replay, req,
	    conn->origin_form);
	msg = json_string_value(json_object_get(report, "message"));
	log_info("[#%" PRIu64 "] replay miss: %s", conn->id,
	    msg != NULL ? msg : "no recorded exchange matches");
	text = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(report);
	buf_adds(&body, text != NULL ? text : "{}");
	buf_add(&body, "\n", 1);
	free(text);
	http_headers_add(&h, HTTP_LIT(HTTP_CONTENT_TYPE),
	    HTTP_LIT("application/json"));
	http_headers_set_length(&h, body.len);
	http_headers_add(&h, HTTP_LIT(HTTP_X_REPLAY), HTTP_LIT("miss"));
	http_headers_add(&h, HTTP_LIT(HTTP_X_ERROR), HTTP_LIT("replay_miss"));
	if (!conn->proxy->opts->no_annotate)
		annotate_headers(&conn->cap.diags, &h);
	/* The web view shows the miss report as patchscope's answer. */
	if (conn->cap.view)
		capture_own_answer(&conn->cap, 404, &h, body.data, body.len, 0);
	conn_answer(conn, 404, &h, body.data, body.len);
	conn->origin.msg_done = 1;
	http_headers_clear(&h);
	buf_free(&body);
	conn_exchange_finish(conn);
}

/*
 * --fallback=proxy with a request sent as to a server: send it to the
 * cassette's (first) origin. Return 0, or -1 after an error answer.
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
	http_headers_remove(&conn->client.headers, HTTP_HOST);
	http_url_authority(&authority, &conn->target);
	http_headers_add(&conn->client.headers, HTTP_LIT(HTTP_HOST),
	    authority.data, authority.len);
	buf_free(&authority);
	capture_request_target(&conn->cap, &conn->target);
	free(conn->origin_host);
	free(conn->origin_name);
	conn->origin_host = xstrdup(conn->target.host);
	conn->origin_name = xstrdup(conn->target.host);
	conn->origin_port = conn->target.port;
	conn->origin_tls = strcmp(conn->target.scheme, "https") == 0;
	conn->origin_form = 0;
	return 0;
}

/* A miss with --fallback=proxy: forward it, and record it if recording. */
static void
replay_fallback(struct conn *conn)
{
	struct proxy	*p = conn->proxy;

	log_info("[#%" PRIu64 "] replay miss: forwarding it "
	    "(--fallback=proxy)%s", conn->id, p->recorder != NULL ?
	    " and appending the exchange to the cassette" : "");
	if (conn->origin_form && replay_fallback_origin(conn) != 0)
		return;
	if (p->recorder != NULL)
		forward_record_begin(conn);
	forward_release(conn);
}

/*
 * The request as matching reads it, without building and redacting a
 * whole exchange, for a request with no body whose URL redaction leaves
 * as it is (redact_request_nobody): the method, the URL and the headers
 * redacted, all borrowed (req must not be freed; it is valid until the
 * next request). Return 0, or -1 when the request needs the whole way
 * (capture_request_exchange), req untouched.
 */
static int
replay_request_view(struct conn *conn, struct exchange *req)
{
	struct proxy			*p = conn->proxy;
	struct capture			*cap = &conn->cap;
	const struct http_headers	*h;
	struct buf			 url = { NULL, 0, 0 };

	if (cap->req.raw.len != 0)
		return -1;
	/* The URL the log shows too: formatted once, kept in the capture. */
	if (cap->url == NULL && cap->target != NULL) {
		http_url_format(&url, cap->target);
		capture_request_url(cap, buf_str(&url));
		buf_free(&url);
	}
	h = redact_request_nobody(p->redactor, cap->url != NULL ? cap->url :
	    "", &cap->req_headers);
	if (h == NULL)
		return -1;
	/* What capture_request_exchange would fill in, read-only. */
	req->method = (char *)(uintptr_t)(cap->method != NULL ? cap->method :
	    "GET");
	req->url = (char *)(uintptr_t)(cap->url != NULL ? cap->url : "");
	req->http_version = (char *)(uintptr_t)(cap->http10 ? "HTTP/1.0" :
	    "HTTP/1.1");
	req->req_headers = *h;
	return 0;
}

/* The whole request is in: answer it from the cassette. */
static void
replay_request_done(struct conn *conn)
{
	struct proxy		*p = conn->proxy;
	struct half		*c = &conn->client;
	struct exchange		 req;
	struct replay_hit	 hit;
	int			 owned;

	if (p->opts->guard && diag_list_has_errors(&conn->cap.diags)) {
		forward_guard_answer(conn);
		return;
	}
	exchange_init(&req);
	owned = replay_request_view(conn, &req) != 0;
	if (owned)
		capture_request_exchange(&conn->cap, p->redactor, &req);
	/* The head and the body of the answer leave in one write. */
	c->corked = 1;
	conn->cap.replay = "miss";
	if (replay_match(p->replay, &req, conn->origin_form, &hit) == 0)
		replay_hit(conn, &hit);
	else if (p->opts->fallback_proxy)
		replay_fallback(conn);
	else
		replay_miss(conn, &req);
	if (conn->state != CONN_CLOSED && c->bev != NULL)
		half_uncork(c);
	else
		half_discard_cork(c);
	if (owned)
		exchange_free(&req);
}
