/*
 * capture: the exchange as the unit of work.
 *
 * The connection code tells the capture what it sees as it happens: the
 * request head, body bytes it was asked to keep, the end of the request,
 * the response head and body, an answer patchscope made itself. Each body
 * is decoded at most once, when first needed (to diagnose a PATCH, to
 * learn a profile, to match a replayed request, or for the cassette), and
 * the decoded bytes serve every later use.
 *
 * When the exchange ends, capture_finish() builds one struct exchange,
 * redacts it once, and hands it to each sink in order. Only exchanges that
 * a sink needs whole (recorded ones, or those with diagnoses) get their
 * headers and bodies copied; the others carry just what the log line shows.
 * No sink sees the connection.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "body.h"
#include "buf.h"
#include "capture.h"
#include "diagnose.h"
#include "exchange.h"
#include "http.h"
#include "redact.h"
#include "uri.h"
#include "xmalloc.h"

#define KEEP_BUF_BYTES		8192	/* buffers kept between exchanges */

static void
capture_body_reset(struct capture_body *b)
{
	buf_recycle(&b->raw, KEEP_BUF_BYTES);
	buf_recycle(&b->dec, KEEP_BUF_BYTES);
	b->truncated = 0;
	b->decoded = 0;
	b->cause = NULL;
	free(b->coding);
	b->coding = NULL;
}

static void
capture_body_free(struct capture_body *b)
{
	capture_body_reset(b);
	buf_free(&b->raw);
	buf_free(&b->dec);
}

/* Start a new exchange now (clears the last one, keeps small buffers). */
void
capture_begin(struct capture *cap, size_t max_body)
{
	cap->record = cap->keep_req = cap->keep_resp = cap->learn_resp = 0;
	cap->max_body = max_body;
	cap->method = NULL;
	cap->target = NULL;
	free(cap->url);
	cap->url = NULL;
	cap->http10 = 0;
	http_headers_clear(&cap->req_headers);
	capture_body_reset(&cap->req);
	cap->status = 0;
	free(cap->reason);
	cap->reason = NULL;
	http_headers_clear(&cap->resp_headers);
	capture_body_reset(&cap->resp);
	cap->answered = cap->guard = 0;
	free(cap->server_ip);
	cap->server_ip = NULL;
	diag_list_free(&cap->diags);
	cap->diagnosed = 0;
	free(cap->fault);
	cap->fault = NULL;
	cap->view = 0;
	cap->replay = NULL;
	clock_gettime(CLOCK_MONOTONIC, &cap->t_start);
	clock_gettime(CLOCK_REALTIME, &cap->t_wall);
	memset(&cap->t_req_done, 0, sizeof cap->t_req_done);
	memset(&cap->t_resp_head, 0, sizeof cap->t_resp_head);
}

/* Free everything the capture holds. */
void
capture_free(struct capture *cap)
{
	capture_begin(cap, 0);
	capture_body_free(&cap->req);
	capture_body_free(&cap->resp);
}

/* Return milliseconds since the exchange began. */
double
capture_elapsed_ms(const struct capture *cap)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - cap->t_start.tv_sec) * 1000.0 +
	    (double)(now.tv_nsec - cap->t_start.tv_nsec) / 1e6;
}

/* Note the request's method (a static string) and version. */
void
capture_request(struct capture *cap, const char *method, int http10)
{
	cap->method = method;
	cap->http10 = http10;
}

/* Note the request's target once it is known (borrowed). */
void
capture_request_target(struct capture *cap, const struct http_url *target)
{
	free(cap->url);
	cap->url = NULL;
	cap->target = target;
}

/* Note the request's absolute URL (a copy is kept). */
void
capture_request_url(struct capture *cap, const char *url)
{
	free(cap->url);
	cap->url = xstrdup(url);
	cap->target = NULL;
}

/* The request's absolute URL, formatted from its target once; or NULL. */
const char *
capture_url(struct capture *cap)
{
	struct buf	b = { NULL, 0, 0 };

	if (cap->url == NULL && cap->target != NULL) {
		http_url_format(&b, cap->target);
		cap->url = b.data != NULL ? b.data : xstrdup("");
	}
	return cap->url;
}

/* Record the request's headers as they are sent on (Via dropped). */
void
capture_request_headers(struct capture *cap, const struct http_headers *h)
{
	http_headers_clear(&cap->req_headers);
	exchange_headers_copy(&cap->req_headers, h);
	http_headers_remove(&cap->req_headers, HTTP_VIA);
}

/* Mark a body cut at the limit, keeping the part of data that fits. */
void
capture_cut(struct capture *cap, struct capture_body *b, const char *data,
    size_t len, int keep_part)
{
	if (b->truncated)
		return;
	if (keep_part && b->raw.len < cap->max_body)
		buf_add(&b->raw, data, cap->max_body - b->raw.len < len ?
		    cap->max_body - b->raw.len : len);
	b->truncated = 1;
}

/* Keep request body bytes when asked to; 1 when they would not fit. */
int
capture_request_body(struct capture *cap, int inspect, const char *data,
    size_t len)
{
	if ((!inspect && !cap->keep_req) || cap->req.truncated)
		return 0;
	if (cap->req.raw.len + len > cap->max_body)
		return 1;
	buf_add(&cap->req.raw, data, len);
	return 0;
}

/* The request is complete. */
void
capture_request_done(struct capture *cap)
{
	clock_gettime(CLOCK_MONOTONIC, &cap->t_req_done);
}

/* Decode a kept body once; later calls return the same bytes. */
static const struct buf *
capture_decoded(struct capture_body *b, size_t max, const char *enc,
    const char **cause)
{
	if (b->decoded == 0) {
		if (enc == NULL || *enc == '\0' ||
		    strcasecmp(enc, "identity") == 0) {
			/* Nothing to decode: the raw bytes are the body. */
			b->decoded = b->raw.len <= max ? 1 : -1;
			b->cause = "the body is larger than the inspection "
			    "limit";
		} else if (body_decode(enc, b->raw.data, b->raw.len, max,
		    &b->dec, &b->cause) == 0) {
			b->decoded = 1;
			b->coding = xstrdup(enc);
		} else
			b->decoded = -1;
	}
	if (b->decoded < 0) {
		*cause = b->cause;
		return NULL;
	}
	return b->coding != NULL ? &b->dec : &b->raw;
}

/* Return the request body decoded, or NULL with *cause. */
const struct buf *
capture_request_decoded(struct capture *cap, const char *enc,
    const char **cause)
{
	return capture_decoded(&cap->req, cap->max_body, enc, cause);
}

/* Note the final response head (status, reason, headers as sent). */
void
capture_response(struct capture *cap, int status, const char *reason,
    const struct http_headers *h)
{
	cap->status = status;
	free(cap->reason);
	cap->reason = xstrdup(reason);
	clock_gettime(CLOCK_MONOTONIC, &cap->t_resp_head);
	if (cap->record || cap->view) {
		http_headers_clear(&cap->resp_headers);
		exchange_headers_copy(&cap->resp_headers, h);
	}
}

/* Keep response body bytes when asked to; 1 when they would not fit. */
int
capture_response_body(struct capture *cap, int hold, const char *data,
    size_t len)
{
	if ((!hold && !cap->learn_resp && !cap->keep_resp) ||
	    cap->resp.truncated)
		return 0;
	if (cap->resp.raw.len + len > cap->max_body)
		return 1;
	buf_add(&cap->resp.raw, data, len);
	return 0;
}

/* Return the response body decoded, or NULL with *cause. */
const struct buf *
capture_response_decoded(struct capture *cap, const char *enc,
    const char **cause)
{
	return capture_decoded(&cap->resp, cap->max_body, enc, cause);
}

/* patchscope answered itself with status, headers and body. */
void
capture_own_answer(struct capture *cap, int status,
    const struct http_headers *h, const char *body, size_t len, int guard)
{
	cap->answered = 1;
	cap->guard = guard;
	cap->status = status;
	free(cap->reason);
	cap->reason = xstrdup(http_reason(status));
	http_headers_clear(&cap->resp_headers);
	exchange_headers_copy(&cap->resp_headers, h);
	capture_body_reset(&cap->resp);
	buf_add(&cap->resp.raw, body, len);
}

/* Note the --fault applied to the exchange. */
void
capture_fault(struct capture *cap, const char *fault)
{
	free(cap->fault);
	cap->fault = xstrdup(fault);
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

/* The time an exchange started, as HAR wants it (ISO 8601, UTC, ms). */
static char *
capture_started(const struct timespec *t)
{
	struct tm	tm;
	char		date[32];

	gmtime_r(&t->tv_sec, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%03ldZ", date, t->tv_nsec / 1000000);
}

/*
 * Store a message body as the cassette keeps it: decoded from its
 * Content-Encoding when that works, cut at --max-body-buffer (marked), and
 * with headers that describe the stored bytes (Content-Length true, no
 * Transfer-Encoding, no Content-Encoding once decoded).
 */
/*
 * Give the exchange the kept bytes themselves when take is set (the
 * exchange is the capture's last use of them): a body near
 * --max-body-buffer is then not held twice while the sinks run.
 */
static void
capture_body_give(struct exchange_body *body, struct buf *raw, int take)
{
	if (!take || raw->data == NULL) {
		exchange_body_set(body, raw->data != NULL ? raw->data : "",
		    raw->len);
		return;
	}
	free(body->data);
	body->data = raw->data;		/* NUL-terminated, as buf keeps it */
	body->len = raw->len;
	body->size = raw->len;
	body->truncated = 0;
	raw->data = NULL;
	raw->len = 0;
	raw->cap = 0;
}

static void
capture_store_body(struct capture_body *b, size_t max, uint64_t wire,
    struct exchange_body *body, struct http_headers *h, int take)
{
	const struct buf	*dec = NULL;
	const char		*enc, *cause;

	if (b->raw.len == 0 && wire == 0)
		return;
	enc = http_headers_get(h, HTTP_CONTENT_ENCODING);
	/* Decoded already (to diagnose it) though no header is kept. */
	if (enc == NULL && b->decoded == 1 && b->coding != NULL)
		enc = b->coding;
	if (enc != NULL && !b->truncated && strcasecmp(enc, "identity") != 0)
		dec = capture_decoded(b, max, enc, &cause);
	if (dec != NULL && b->coding != NULL) {
		exchange_body_set(body, dec->data != NULL ? dec->data : "",
		    dec->len);
		body->decoded_from = xstrdup(enc);
		http_headers_remove(h, HTTP_CONTENT_ENCODING);
	} else
		capture_body_give(body, &b->raw, take);
	if (b->truncated) {
		body->truncated = 1;
		body->size = wire > body->len ? wire : body->len + 1;
	}
	http_headers_remove(h, HTTP_TRANSFER_ENCODING);
	http_headers_set_length(h, body->len);
}

/* Fill x's request (method, URL, version, headers, body). */
static void
capture_fill_request(struct capture *cap, struct exchange *x,
    const struct http_headers *h, uint64_t wire, int take)
{
	x->method = xstrdup(cap->method != NULL ? cap->method : "GET");
	x->url = xstrdup(capture_url(cap) != NULL ? cap->url : "");
	x->http_version = xstrdup(cap->http10 ? "HTTP/1.0" : "HTTP/1.1");
	exchange_headers_copy(&x->req_headers, h);
	capture_store_body(&cap->req, cap->max_body, wire, &x->req_body,
	    &x->req_headers, take);
	x->req_wire_bytes = wire;
}

/* Keep the exchange whole for the web view. */
void
capture_view_begin(struct capture *cap, const struct http_headers *h)
{
	cap->view = 1;
	cap->keep_req = 1;
	cap->keep_resp = 1;
	if (h != NULL && cap->req_headers.n == 0)
		capture_request_headers(cap, h);
}

/* Fill x with the request as replay matches it: decoded and redacted. */
void
capture_request_exchange(struct capture *cap, const struct redactor *r,
    struct exchange *x)
{
	capture_fill_request(cap, x, &cap->req_headers, cap->req.raw.len, 0);
	redact_request(r, x);
	/* Redaction may have rewritten the body: keep the length true. */
	exchange_fix_length(&x->req_headers, &x->req_body);
}

/* Fill x whole: both messages as the origin saw and sent them. */
static void
capture_fill(struct capture *cap, struct exchange *x,
    const struct capture_info *info)
{
	struct timespec	now;
	json_t		*diags;
	size_t		 i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	x->started = capture_started(&cap->t_wall);
	x->time_ms = capture_elapsed_ms(cap);
	x->send_ms = span_ms(&cap->t_start, &cap->t_req_done);
	x->wait_ms = span_ms(&cap->t_req_done, &cap->t_resp_head);
	x->receive_ms = span_ms(&cap->t_resp_head, &now);
	if (cap->server_ip != NULL)
		x->server_ip = xstrdup(cap->server_ip);
	capture_fill_request(cap, x, &cap->req_headers, info->req_bytes, 1);
	if (cap->answered) {
		x->status = cap->status;
		x->reason = xstrdup(http_reason(cap->status));
		exchange_headers_copy(&x->resp_headers, &cap->resp_headers);
		x->resp_wire_bytes = cap->resp.raw.len;
		capture_store_body(&cap->resp, cap->max_body,
		    cap->resp.raw.len, &x->resp_body, &x->resp_headers, 1);
		x->answered_by = xstrdup("patchscope");
		if (cap->guard)
			x->error = xstrdup("patchscope_guard");
	} else if (info->record || cap->view) {
		x->status = cap->status;
		x->reason = xstrdup(cap->reason != NULL ? cap->reason :
		    http_reason(cap->status));
		exchange_headers_copy(&x->resp_headers, &cap->resp_headers);
		capture_store_body(&cap->resp, cap->max_body, info->resp_bytes,
		    &x->resp_body, &x->resp_headers, 1);
		x->resp_wire_bytes = info->resp_bytes;
	} else
		x->status = info->status;
	if (info->code != NULL) {
		free(x->error);
		x->error = xstrdup(info->code);
	}
	if (cap->fault != NULL)
		x->fault = xstrdup(cap->fault);
	if (cap->diags.n > 0 || cap->diagnosed) {
		diags = json_array();
		for (i = 0; i < cap->diags.n; i++)
			json_array_append_new(diags,
			    diag_to_json(&cap->diags.v[i]));
		x->diagnoses = diags;
	}
}

/* The URL of a request the log may show when none is known. */
static char *
capture_log_target(const char *target)
{
	struct uri_parts	u;

	if (target == NULL || target[0] != '/' || strlen(target) >= 200)
		return xstrdup("-");
	uri_split(target, &u);
	return xstrndup(u.path.p, u.path.len);
}

/* The exchange is over: build it, redact it, hand it to each sink. */
void
capture_finish(struct capture *cap, const struct redactor *r,
    const struct capture_sink *sinks, size_t nsinks, struct capture_info *info,
    const char *target)
{
	struct exchange	x;
	size_t		i;
	int		keep;

	info->ms = capture_elapsed_ms(cap);
	/*
	 * No response at all (the client left first): nothing to keep,
	 * unless a --fault made it so (a reset, a hang): that is kept.
	 */
	keep = (cap->url != NULL || cap->target != NULL) &&
	    (cap->answered || cap->status != 0 || cap->fault != NULL);
	info->record = cap->record && keep;
	info->full = info->record || (cap->view && keep) || cap->diags.n > 0;
	info->replay = cap->replay;
	/* No sink wants it (-q, nothing recorded): nothing to build. */
	for (i = 0; i < nsinks; i++)
		if (sinks[i].wants == NULL || sinks[i].wants(sinks[i].arg, info))
			break;
	if (i == nsinks) {
		cap->record = 0;
		return;
	}
	exchange_init(&x);
	if (info->full) {
		capture_fill(cap, &x, info);
		redact_exchange(r, &x);
		/* Redaction may have rewritten a body: keep the length true. */
		exchange_fix_length(&x.req_headers, &x.req_body);
		exchange_fix_length(&x.resp_headers, &x.resp_body);
	} else {
		if (cap->method != NULL)
			x.method = xstrdup(cap->method);
		x.url = capture_url(cap) != NULL ? redact_url(r, cap->url) :
		    capture_log_target(target);
		x.status = info->status;
		x.time_ms = info->ms;
		x.req_wire_bytes = info->req_bytes;
		x.resp_wire_bytes = info->resp_bytes;
		if (info->code != NULL)
			x.error = xstrdup(info->code);
		if (cap->fault != NULL)
			x.fault = xstrdup(cap->fault);
	}
	for (i = 0; i < nsinks; i++)
		if (sinks[i].wants == NULL || sinks[i].wants(sinks[i].arg, info))
			sinks[i].exchange(sinks[i].arg, &x, info);
	cap->record = 0;
	exchange_free(&x);
}
