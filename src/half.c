/*
 * half: the llhttp glue of one side of a connection, its corked writes and
 * its back-pressure.
 *
 * Invariants:
 * - llhttp owns framing. The parser callbacks only record what they saw,
 *   ask the body op and relay body bytes; everything that can answer,
 *   close or free runs in half_parse_input() after llhttp_execute() has
 *   returned (the head, done and error ops), never inside a callback.
 * - A parser is paused at the end of each head and each message, so a
 *   pipelined request waits in the input until its owner resumes it.
 * - When the peer's output grows past HALF_RELAY_HIGH the half stops
 *   reading; its owner resumes it (half_unthrottle) when that output
 *   drains: memory per connection is bounded whatever the body size.
 * - During a parse pass the peer is corked: what the pass sends (a head
 *   and the body behind it) leaves in one write at the end.
 */
#include "config.h"

#include <sys/uio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <llhttp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "half.h"
#include "http.h"
#include "options.h"

#define KEEP_BUF_BYTES		8192	/* buffers kept between messages */
#define TLS_DIRECT_BYTES	16384	/* one TLS record at most */
#define HALF_CORK_BYPASS	16384	/* body writes this large skip the cork */
#define HALF_MAX_IOV		4	/* iovecs half_writev is given, plus one */

static llhttp_settings_t	request_settings;
static llhttp_settings_t	response_settings;

static void	half_parse_input(struct half *, int);

/* Set up a half owned by arg, reporting through ops. */
void
half_init(struct half *h, void *arg, const struct half_ops *ops,
    struct half *peer, int request, size_t max_head)
{
	h->arg = arg;
	h->ops = ops;
	h->peer = peer;
	h->request = request;
	h->max_head = max_head;
	h->method = -1;
	h->out_left = -1;
}

/* Forget the head and counters of the last message. */
void
half_reset_message(struct half *h)
{
	buf_recycle(&h->field, KEEP_BUF_BYTES);
	buf_recycle(&h->value, KEEP_BUF_BYTES);
	buf_recycle(&h->reason, KEEP_BUF_BYTES);
	buf_recycle(&h->url, KEEP_BUF_BYTES);
	if (!h->corked)
		buf_recycle(&h->cork, KEEP_BUF_BYTES);
	http_headers_clear(&h->headers);
	h->in_value = 0;
	h->head_bytes = h->raw_head_bytes = 0;
	h->head_done = h->msg_done = 0;
	h->reject = NULL;
	h->body_refused = 0;
	h->body_bytes = 0;
	h->chunked_out = 0;
	h->hold = 0;
	h->interim = 0;
}

/* Free the half's buffers (not its bufferevent). */
void
half_free_buffers(struct half *h)
{
	buf_free(&h->field);
	buf_free(&h->value);
	buf_free(&h->reason);
	buf_free(&h->url);
	buf_free(&h->cork);
	http_headers_clear(&h->headers);
}

/*
 * Write up to one TLS record straight through the half's SSL, as the
 * plain path writes straight to the socket. libevent's TLS bufferevent
 * only writes once the loop reports the socket writable: an epoll_ctl to
 * ask, a loop pass, the write, an epoll_ctl to stop asking, for every
 * answer of a kept-alive connection. Return the bytes written: all, or 0.
 *
 * Only on a TLS layer of its own over a socket (not a filter, whose
 * bytes go through another bufferevent) with the handshake done. When
 * SSL_write does not finish (the socket is full: the record waits inside
 * OpenSSL), the caller queues all the bytes and the bufferevent retries
 * the same write from its output, as OpenSSL requires and allows
 * (libevent sets SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER); on an error, the
 * bufferevent's own write meets it again and reports it.
 */
static size_t
half_tls_write(struct half *h, const struct iovec *iov, int n)
{
	SSL	*ssl;
	char	 joined[TLS_DIRECT_BYTES];
	const void *data;
	size_t	 len = 0;
	int	 i, r;

	if (bufferevent_getfd(h->bev) < 0 ||
	    (ssl = bufferevent_openssl_get_ssl(h->bev)) == NULL ||
	    !SSL_is_init_finished(ssl))
		return 0;
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len > sizeof joined - len)
			return 0;
		len += iov[i].iov_len;
	}
	if (len == 0)
		return 0;
	if (n == 1)
		data = iov[0].iov_base;
	else {
		len = 0;
		for (i = 0; i < n; i++) {
			memcpy(joined + len, iov[i].iov_base, iov[i].iov_len);
			len += iov[i].iov_len;
		}
		data = joined;
	}
	ERR_clear_error();
	r = SSL_write(ssl, data, (int)len);
	if (r > 0 && (size_t)r == len)
		return len;
	ERR_clear_error();
	return 0;
}

/*
 * Send bytes to a half. When nothing is queued, try the socket first: a
 * small answer then costs one writev (or one SSL_write) and no event
 * registration, which is most of a keep-alive exchange's system calls.
 * What the socket does not take (or any error, which the bufferevent then
 * reports) is queued.
 */
static void	half_writev_cork_bypass(struct half *, struct iovec *, int);

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
		for (i = 0, left = 0; i < n; i++)
			left += iov[i].iov_len;
		/*
		 * Body bytes of a large read go out at once, behind what the
		 * cork holds, in one writev: copying them into the cork first
		 * cost a pass over every byte of a streamed body.
		 */
		if (left >= HALF_CORK_BYPASS && n < HALF_MAX_IOV) {
			half_writev_cork_bypass(h, iov, n);
			return;
		}
		for (i = 0; i < n; i++)
			buf_add(&h->cork, iov[i].iov_base, iov[i].iov_len);
		return;
	}
	out = bufferevent_get_output(h->bev);
	if (h->plain && h->connected && evbuffer_get_length(out) == 0) {
		r = writev(bufferevent_getfd(h->bev), iov, n);
		if (r < 0)
			r = 0;
	} else if (!h->plain && evbuffer_get_length(out) == 0)
		r = (ssize_t)half_tls_write(h, iov, n);
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

/*
 * While corked: send what the cork holds, then iov, as one write (or
 * queued behind what is already queued, in the same order); the half
 * stays corked for what the parse pass sends next.
 */
static void
half_writev_cork_bypass(struct half *h, struct iovec *iov, int n)
{
	struct iovec	all[HALF_MAX_IOV];
	int		i, k = 0;

	if (h->cork.len > 0) {
		all[k].iov_base = h->cork.data;
		all[k].iov_len = h->cork.len;
		k++;
	}
	for (i = 0; i < n; i++)
		all[k++] = iov[i];
	h->corked = 0;
	half_writev(h, all, k);
	h->corked = 1;
	/* A message's head left with it. */
	h->cork_head = 0;
	buf_reset(&h->cork);
}

/* Send what was held while corked. */
void
half_uncork(struct half *h)
{
	struct iovec	iov;

	h->corked = 0;
	h->cork_head = 0;
	if (h->cork.len == 0)
		return;
	iov.iov_base = h->cork.data;
	iov.iov_len = h->cork.len;
	half_writev(h, &iov, 1);
	buf_reset(&h->cork);
}

/* Drop what was held while corked. */
void
half_discard_cork(struct half *h)
{
	h->corked = 0;
	h->cork_head = 0;
	buf_reset(&h->cork);
}

/*
 * Keep of n pieces what out_left still lets through (--fault truncate,
 * drop-response: the rest never leaves); return how many pieces remain.
 */
static int
half_limit(struct half *h, struct iovec *iov, int n)
{
	int	i;

	if (h->out_left < 0)
		return n;
	for (i = 0; i < n; i++) {
		if ((uint64_t)h->out_left >= iov[i].iov_len) {
			h->out_left -= (int64_t)iov[i].iov_len;
			continue;
		}
		iov[i].iov_len = (size_t)h->out_left;
		h->out_left = 0;
		return iov[i].iov_len > 0 ? i + 1 : i;
	}
	return n;
}

/* Send bytes (queued behind the cork during a parse pass). */
void
half_write(struct half *h, const void *data, size_t len)
{
	struct iovec	iov;

	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	if (half_limit(h, &iov, 1) > 0)
		half_writev(h, &iov, 1);
}

/* Stop reading h when its peer's output is over the high mark. */
void
half_throttle_check(struct half *h)
{
	if (!h->throttled && h->bev != NULL && h->peer->bev != NULL &&
	    evbuffer_get_length(bufferevent_get_output(h->peer->bev)) >
	    HALF_RELAY_HIGH) {
		h->throttled = 1;
		bufferevent_disable(h->bev, EV_READ);
	}
}

/* Stop reading h until half_unthrottle (a request held by --fault). */
void
half_throttle(struct half *h)
{
	if (!h->throttled && h->bev != NULL) {
		h->throttled = 1;
		bufferevent_disable(h->bev, EV_READ);
	}
}

/* Let a throttled half read again. */
void
half_unthrottle(struct half *h)
{
	if (h->throttled && h->bev != NULL) {
		h->throttled = 0;
		bufferevent_enable(h->bev, EV_READ);
	}
}

/* Write body bytes to h's peer in the framing it uses; bound its output. */
void
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
		n = half_limit(to, iov, 3);
		if (n > 0)
			half_writev(to, iov, n);
	} else
		half_write(to, data, len);
	half_throttle_check(h);
}

/* Return the bytes queued to leave on the half's socket. */
size_t
half_output_len(const struct half *h)
{
	if (h->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(h->bev));
}

/* Return the bytes waiting in the half's input. */
size_t
half_input_len(const struct half *h)
{
	if (h->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_input(h->bev));
}

/* llhttp callbacks shared by both kinds of half: collect the head. */

static int
head_count(struct half *h, size_t len)
{
	h->head_bytes += len;
	return h->head_bytes > h->max_head ? -1 : 0;
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

/* Keep a piece of the request target or reason phrase, within limits. */
static int
head_text(struct half *h, struct buf *b, const char *at, size_t len)
{
	if (head_count(h, len) != 0)
		return HPE_USER;
	buf_add(b, at, len);
	return 0;
}

static int
on_url_cb(llhttp_t *parser, const char *at, size_t len)
{
	struct half	*h = parser->data;

	return head_text(h, &h->url, at, len);
}

static int
on_status_cb(llhttp_t *parser, const char *at, size_t len)
{
	struct half	*h = parser->data;

	return head_text(h, &h->reason, at, len);
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
	/* An empty value ("X-A:" CRLF) comes as an empty span after its
	 * line end: legal (RFC 9110 5.5), not a fold. */
	if (len == 0) {
		h->in_value = 1;
		return 0;
	}
	/*
	 * Obsolete line folding (a value continued on a line that starts
	 * with a space) reaches us as a second value span that starts right
	 * after a line end; llhttp drops the CRLF itself, so a folded response
	 * value is already joined with a space. RFC 9112 5.2: a request with
	 * one is rejected. After an empty first line ("X-A:" CRLF SP "two")
	 * llhttp skips the fold's blanks too: look back past them.
	 */
	p = at;
	while (p > h->exec_start && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	prev = p > h->exec_start ? p[-1] : h->exec_prev;
	if (h->request && prev == '\n') {
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

	if (h->ops->body != NULL && h->ops->body(h, at, len) != 0) {
		h->body_refused = 1;
		return HPE_USER;
	}
	h->body_bytes += len;
	/* A body the owner holds leaves (if ever) in one piece later. */
	if (!h->hold)
		half_relay_out(h, at, len);
	return 0;
}

static int
on_message_complete_cb(llhttp_t *parser)
{
	struct half	*h = parser->data;

	if (h->interim) {
		/* A 1xx is over; the final response follows. */
		half_reset_message(h);
		return 0;
	}
	if (h->chunked_out && h->peer->bev != NULL && !h->hold)
		half_write(h->peer, "0\r\n\r\n", 5);
	h->msg_done = 1;
	return HPE_PAUSED;
}

static int
on_request_begin_cb(llhttp_t *parser)
{
	struct half	*h = parser->data;

	half_reset_message(h);
	if (h->ops->begin != NULL)
		h->ops->begin(h);
	return 0;
}

static int
on_request_headers_cb(llhttp_t *parser)
{
	struct half	*h = parser->data;

	head_push(h);
	h->head_done = 1;
	h->method = parser->method;
	/*
	 * Upgrade is hop-by-hop and never forwarded, so the request is an
	 * ordinary one: keep llhttp from treating what follows as another
	 * protocol.
	 */
	if (parser->method != HTTP_CONNECT)
		parser->upgrade = 0;
	return HPE_PAUSED;
}

static int
on_response_headers_cb(llhttp_t *parser)
{
	struct half	*h = parser->data;
	int		 status = parser->status_code;

	head_push(h);
	h->head_done = 1;
	h->interim = status >= 100 && status < 200 && status != 101;
	/*
	 * No body follows these whatever Content-Length says (RFC 9110 6.4.1);
	 * llhttp reads the flag when it resumes.
	 */
	if (h->peer->method == HTTP_HEAD || status == 204 || status == 304)
		parser->flags |= F_SKIPBODY;
	return HPE_PAUSED;
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

/* Start a new parser (at the start of a connection or a TLS layer). */
void
half_parser_init(struct half *h)
{
	settings_init();
	llhttp_init(&h->parser, h->request ? HTTP_REQUEST : HTTP_RESPONSE,
	    h->request ? &request_settings : &response_settings);
	h->parser.data = h;
	h->paused = 0;
}

/* Resume a parser paused at the end of a message. */
void
half_resume(struct half *h)
{
	h->paused = 0;
}

/* Classify an llhttp error and report it. */
static void
half_parse_error(struct half *h, llhttp_errno_t err)
{
	const char	*reason = llhttp_get_error_reason(&h->parser);

	if (reason == NULL)
		reason = llhttp_errno_name(err);
	if (err == HPE_USER && h->body_refused)
		h->ops->error(h, HALF_ERR_BODY_REFUSED, reason);
	else if (err == HPE_USER && h->reject != NULL)
		h->ops->error(h, HALF_ERR_REJECTED, h->reject);
	else if (err == HPE_USER && !h->head_done)
		h->ops->error(h, HALF_ERR_HEAD_TOO_LARGE, reason);
	else
		h->ops->error(h, HALF_ERR_MALFORMED, reason);
}

/*
 * Feed a half's input to its parser until paused, empty or failed. What
 * the pass sends to the peer (a head and the body behind it, say) goes out
 * in one write at the end.
 */
void
half_parse(struct half *h)
{
	struct half	*peer = h->peer;

	peer->corked = 1;
	half_parse_input(h, 0);
	if (peer->bev != NULL)
		half_uncork(peer);
	else
		half_discard_cork(peer);
}

/* Go on parsing after a head whose pass was stopped until now. */
void
half_parse_after_head(struct half *h)
{
	struct half	*peer = h->peer;

	peer->corked = 1;
	half_parse_input(h, 1);
	if (peer->bev != NULL)
		half_uncork(peer);
	else
		half_discard_cork(peer);
}

/*
 * The parse loop; kick: run the parser once even with no input (after a
 * pause at the end of a head).
 */
static void
half_parse_input(struct half *h, int kick)
{
	struct evbuffer		*in;
	const char		*data, *pos;
	size_t			 len, used;
	llhttp_errno_t		 err;

	while (!h->ops->stopped(h) && h->bev != NULL && !h->paused) {
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
		/* No callback closes, but never drain a freed buffer. */
		if (h->bev == NULL)
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
			/* llhttp counts no head limit: a request's is ours. */
			if (h->request && !h->head_done &&
			    h->raw_head_bytes > h->max_head) {
				h->ops->error(h, HALF_ERR_HEAD_TOO_LARGE,
				    "head too large");
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
			/* Stopped until the owner resumes it. */
			h->paused = 1;
			h->ops->done(h);
			return;
		}
		/* Paused at the end of a head. */
		if (h->ops->head(h) != 0 || h->ops->stopped(h))
			return;
		kick = 1;
	}
}

/* The peer closed the connection: end a body delimited by the close. */
int
half_eof(struct half *h)
{
	if (!h->head_done || h->msg_done || h->paused ||
	    !llhttp_message_needs_eof(&h->parser))
		return 0;
	llhttp_finish(&h->parser);
	if (!h->msg_done)
		return 0;
	h->paused = 1;
	return 1;
}

/*
 * libevent 2.1 reads at most 4 KiB per call on a socket bufferevent, which
 * costs a loop round trip per 4 KiB of body. When the socket has more, take
 * up to HALF_SINGLE_IO bytes now. Plain sockets only: never under TLS.
 */
void
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
	    evbuffer_get_length(in) >= HALF_SINGLE_IO)
		return;
	fd = bufferevent_getfd(h->bev);
	if (fd < 0)
		return;
	/* A bufferevent keeps its input's end frozen outside its reads. */
	evbuffer_unfreeze(in, 0);
	n = evbuffer_reserve_space(in, HALF_SINGLE_IO, vec, 2);
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
