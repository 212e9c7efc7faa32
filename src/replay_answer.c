/*
 * replay_answer: each recorded answer serialized once, so that a hit in
 * the common case (no diagnoses, nothing held) costs one copy of bytes
 * that are ready: the status line and the recorded headers as replay
 * sends them (hop-by-hop ones stripped, Content-Length set to the body),
 * then the few headers that differ per request, then the body.
 *
 * The head is built the first time an entry is served and kept with the
 * entry in the index (replay.c), freed with it. It is made with the same
 * functions as the answer built header by header (replay_serve.c), so the
 * two ways send the same bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "buf.h"
#include "exchange.h"
#include "http.h"
#include "replay.h"
#include "xmalloc.h"

/* Write the head of x's answer as replay sends it, but the blank line. */
void
replay_answer_head(const struct exchange *x, int with_length, struct buf *out,
    struct replay_answer *a)
{
	struct http_headers	 h = { NULL, 0, 0 };
	const char		*reason;

	exchange_headers_copy(&h, &x->resp_headers);
	http_headers_strip_hop(&h);
	if (with_length)
		http_headers_set_length(&h, x->resp_body.len);
	reason = x->reason != NULL && *x->reason != '\0' ? x->reason :
	    http_reason(x->status);
	http_response_head(out, x->status, reason, &h);
	/* The per-request headers go before the blank line. */
	out->len -= 2;
	out->data[out->len] = '\0';
	if (a != NULL) {
		a->json = body_is_json(http_headers_get(&h, HTTP_CONTENT_TYPE));
		a->encoded = http_headers_get(&h, HTTP_CONTENT_ENCODING) !=
		    NULL;
	}
	http_headers_clear(&h);
}

/* Return x's answer with its head prebuilt (with Content-Length). */
struct replay_answer *
replay_answer_new(const struct exchange *x)
{
	struct replay_answer	*a;
	struct buf		 head = { NULL, 0, 0 };

	a = xcalloc(1, sizeof *a);
	replay_answer_head(x, 1, &head, a);
	a->headlen = head.len;
	a->head = head.data;
	return a;
}

/* Free an answer (NULL is fine). */
void
replay_answer_free(struct replay_answer *a)
{
	if (a == NULL)
		return;
	free(a->head);
	free(a);
}

/* Append the decimal digits of v. */
static char *
replay_put_num(char *p, size_t v)
{
	char	digits[24];
	size_t	n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

static char *
replay_put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

/* Write the per-request end of a hit's head into out. */
size_t
replay_answer_tail(char *out, const struct replay_hit *hit,
    const char *connection)
{
	char	*p = out;

	p = replay_put(p, HTTP_LIT(HTTP_X_REPLAY ": hit\r\n"));
	p = replay_put(p, HTTP_LIT(HTTP_X_REPLAY_ENTRY ": "));
	p = replay_put_num(p, hit->entry);
	p = replay_put(p, HTTP_LIT("\r\n" HTTP_X_REPLAY_SEQUENCE ": "));
	p = replay_put_num(p, hit->nth);
	*p++ = '/';
	p = replay_put_num(p, hit->of);
	p = replay_put(p, "\r\n", 2);
	if (connection != NULL) {
		p = replay_put(p, HTTP_LIT(HTTP_CONNECTION ": "));
		p = replay_put(p, connection, strlen(connection));
		p = replay_put(p, "\r\n", 2);
	}
	p = replay_put(p, "\r\n", 2);
	return (size_t)(p - out);
}
