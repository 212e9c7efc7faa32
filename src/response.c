/*
 * response: annotation and learning on the way to the client.
 *
 * A response of the profile API is either streamed (its diagnoses only in
 * X-Patchscope-Diagnosis headers, a copy kept up to --max-body-buffer to
 * learn the profile from), or, when it is an error answer to a PATCH with
 * diagnoses, held whole so that they can be added to its errors array.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <llhttp.h>

#include "annotate.h"
#include "body.h"
#include "buf.h"
#include "capture.h"
#include "conn.h"
#include "fault_serve.h"
#include "half.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "response.h"
#include "profile.h"

/* Decide what happens to a final response of the profile API. */
void
response_inspect(struct conn *conn, int no_body)
{
	const struct options	*opts = conn->proxy->opts;
	struct half		*o = &conn->origin;
	int			 json;

	if (!opts->no_annotate)
		annotate_headers(&conn->cap.diags, &o->headers);
	if (!conn->api || no_body)
		return;
	json = body_is_json(http_headers_get(&o->headers, HTTP_CONTENT_TYPE));
	response_decide(conn, json);
}

/* Keep a JSON answer of the profile API to learn from, or hold it. */
void
response_decide(struct conn *conn, int json)
{
	const struct options	*opts = conn->proxy->opts;
	int			 status = conn->resp_status;

	if (json && status >= 200 && status < 300 &&
	    (conn->method == HTTP_GET || conn->method == HTTP_PATCH))
		conn->cap.learn_resp = 1;
	if (json && status >= 400 && conn->cap.diags.n > 0 &&
	    !opts->no_annotate) {
		conn->hold_resp = 1;
		conn->origin.hold = 1;
		conn->cap.learn_resp = 0;
	}
}

/* The body length a head's Content-Length gives, or -1. */
static int64_t
response_length(const struct half *o)
{
	const char	*cl = http_headers_get(&o->headers, HTTP_CONTENT_LENGTH);
	char		*end;
	long long	 v;

	if (cl == NULL)
		return -1;
	errno = 0;
	v = strtoll(cl, &end, 10);
	if (end == cl || *end != '\0' || errno != 0 || v < 0)
		return -1;
	return (int64_t)v;
}

/* Send the response head as it stands in the origin half's headers. */
void
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
	conn->client.cork_head = conn->client.corked;
	if (conn->fault != NULL)
		fault_serve_head_sent(conn, response_length(o));
}

/*
 * Send a head made ahead (its start, then its per-request end), as
 * response_send_head sends one from the origin half's headers.
 */
void
response_send_prebuilt(struct conn *conn, const char *head, size_t len,
    const char *tail, size_t taillen)
{
	half_write(&conn->client, head, len);
	half_write(&conn->client, tail, taillen);
	conn->resp_started = 1;
	conn->client.cork_head = conn->client.corked;
	if (conn->fault != NULL)
		fault_serve_head_sent(conn, (int64_t)conn->origin.body_bytes);
}

/* A held response grew past --max-body-buffer: send it on unannotated. */
void
response_release(struct conn *conn)
{
	struct half	*o = &conn->origin;
	struct buf	*held = &conn->cap.resp.raw;

	conn->hold_resp = 0;
	o->hold = 0;
	if (conn->cap.diags.n > 0)
		log_info("[#%" PRIu64 "] note: the error body is larger than "
		    "--max-body-buffer; diagnoses were not added to it",
		    conn->id);
	response_send_head(conn);
	half_relay_out(o, held->data, held->len);
	/* A recording keeps the first part. */
	if (!conn->cap.keep_resp)
		buf_reset(held);
}

/*
 * Learn the profile an answer shows (its actions, anchors, fields), unless
 * this connection learned from exactly this answer (same URL, same bytes)
 * last time: a client polling a profile then costs a hash, not a parse.
 */
static void
response_learn(struct conn *conn, const struct buf *body)
{
	struct proxy	*p = conn->proxy;
	struct buf	 key = { NULL, 0, 0 };
	uint64_t	 h;

	h = profile_answer_hash(buf_str(&conn->client.url), body->data,
	    body->len);
	if (h == conn->learned_hash)
		return;
	conn->learned_hash = h;
	conn_profile_key(conn, &key);
	profile_learn(p->rules, p->snapshots, buf_str(&key), &conn->ref,
	    body->data, body->len);
	buf_free(&key);
}

/* The whole response is in: send a held one annotated; learn from it. */
void
response_complete(struct conn *conn)
{
	struct half		*o = &conn->origin;
	const struct buf	*dec;
	struct buf		 out = { NULL, 0, 0 };
	const char		*cause;

	if (!conn->hold_resp && !conn->cap.learn_resp)
		return;
	dec = capture_response_decoded(&conn->cap, http_headers_get(
	    &o->headers, HTTP_CONTENT_ENCODING), &cause);
	if (dec == NULL)
		log_info("[#%" PRIu64 "] note: response body not inspected: "
		    "%s", conn->id, cause);
	if (conn->hold_resp) {
		conn->hold_resp = 0;
		o->hold = 0;
		http_headers_remove(&o->headers, HTTP_TRANSFER_ENCODING);
		if (dec != NULL && annotate_errors(dec->data, dec->len,
		    &conn->cap.diags, &out) == 0)
			http_headers_remove(&o->headers, HTTP_CONTENT_ENCODING);
		else
			buf_add(&out, conn->cap.resp.raw.data,
			    conn->cap.resp.raw.len);
		http_headers_set_length(&o->headers, out.len);
		response_send_head(conn);
		half_write(&conn->client, out.data, out.len);
	} else if (dec != NULL)
		response_learn(conn, dec);
	buf_free(&out);
}
