/*
 * exchange: construction and destruction of the plain exchange struct the
 * cassette core works on (see exchange.h), and its copies in an arena (a
 * replay index's entries: see exchange_copy_arena). Pure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "exchange.h"
#include "xmalloc.h"

/* Zero an exchange. */
void
exchange_init(struct exchange *x)
{
	memset(x, 0, sizeof *x);
}

/* Free a body's members. */
void
exchange_body_free(struct exchange_body *b)
{
	free(b->data);
	free(b->decoded_from);
	memset(b, 0, sizeof *b);
}

/* Copy bytes into a body. */
void
exchange_body_set(struct exchange_body *b, const char *data, size_t len)
{
	char	*copy;

	/* data may point into the old bytes: copy before freeing them. */
	copy = xmalloc(len + 1);
	if (len > 0)
		memcpy(copy, data, len);
	copy[len] = '\0';
	free(b->data);
	b->data = copy;
	b->len = len;
	b->size = len;
	b->truncated = 0;
}

/* Copy headers. */
void
exchange_headers_copy(struct http_headers *dst, const struct http_headers *src)
{
	size_t	i;

	for (i = 0; i < src->n; i++)
		http_headers_add(dst, src->v[i].name, strlen(src->v[i].name),
		    src->v[i].value, strlen(src->v[i].value));
}

/* Keep Content-Length true to the stored body. */
void
exchange_fix_length(struct http_headers *h, const struct exchange_body *body)
{
	if (body->data == NULL ||
	    http_headers_get(h, HTTP_CONTENT_LENGTH) == NULL)
		return;
	http_headers_set_length(h, body->len);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
body_copy(struct exchange_body *dst, const struct exchange_body *src)
{
	if (src->data != NULL)
		exchange_body_set(dst, src->data, src->len);
	dst->size = src->size;
	dst->truncated = src->truncated;
	dst->decoded_from = dup_or_null(src->decoded_from);
}

/* Copy src into dst, an initialized empty exchange. */
void
exchange_copy(struct exchange *dst, const struct exchange *src)
{
	dst->started = dup_or_null(src->started);
	dst->time_ms = src->time_ms;
	dst->send_ms = src->send_ms;
	dst->wait_ms = src->wait_ms;
	dst->receive_ms = src->receive_ms;
	dst->server_ip = dup_or_null(src->server_ip);
	dst->method = dup_or_null(src->method);
	dst->url = dup_or_null(src->url);
	dst->http_version = dup_or_null(src->http_version);
	exchange_headers_copy(&dst->req_headers, &src->req_headers);
	body_copy(&dst->req_body, &src->req_body);
	dst->req_wire_bytes = src->req_wire_bytes;
	dst->status = src->status;
	dst->reason = dup_or_null(src->reason);
	exchange_headers_copy(&dst->resp_headers, &src->resp_headers);
	body_copy(&dst->resp_body, &src->resp_body);
	dst->resp_wire_bytes = src->resp_wire_bytes;
	if (src->diagnoses != NULL)
		dst->diagnoses = json_deep_copy(src->diagnoses);
	dst->answered_by = dup_or_null(src->answered_by);
	dst->error = dup_or_null(src->error);
	dst->fault = dup_or_null(src->fault);
}

/* Free everything. */
void
exchange_free(struct exchange *x)
{
	free(x->started);
	free(x->server_ip);
	free(x->method);
	free(x->url);
	free(x->http_version);
	http_headers_clear(&x->req_headers);
	exchange_body_free(&x->req_body);
	free(x->reason);
	http_headers_clear(&x->resp_headers);
	exchange_body_free(&x->resp_body);
	json_decref(x->diagnoses);
	free(x->answered_by);
	free(x->error);
	free(x->fault);
	exchange_init(x);
}

static void
headers_copy_arena(struct http_headers *dst, const struct http_headers *src,
    struct arena *a)
{
	size_t	i;

	memset(dst, 0, sizeof *dst);
	if (src->n == 0)
		return;
	dst->v = arena_alloc(a, src->n * sizeof *dst->v);
	for (i = 0; i < src->n; i++) {
		dst->v[i].name = arena_strdup(a, src->v[i].name);
		dst->v[i].value = arena_strdup(a, src->v[i].value);
	}
	dst->n = dst->cap = src->n;
}

static void
body_copy_arena(struct exchange_body *dst, const struct exchange_body *src,
    struct arena *a)
{
	*dst = *src;
	if (src->data != NULL)
		dst->data = arena_memdup(a, src->data, src->len);
	dst->decoded_from = arena_strdup(a, src->decoded_from);
}

/* Copy src into dst with everything but the diagnoses in the arena. */
void
exchange_copy_arena(struct exchange *dst, const struct exchange *src,
    struct arena *a)
{
	*dst = *src;
	dst->started = arena_strdup(a, src->started);
	dst->server_ip = arena_strdup(a, src->server_ip);
	dst->method = arena_strdup(a, src->method);
	dst->url = arena_strdup(a, src->url);
	dst->http_version = arena_strdup(a, src->http_version);
	headers_copy_arena(&dst->req_headers, &src->req_headers, a);
	body_copy_arena(&dst->req_body, &src->req_body, a);
	dst->reason = arena_strdup(a, src->reason);
	headers_copy_arena(&dst->resp_headers, &src->resp_headers, a);
	body_copy_arena(&dst->resp_body, &src->resp_body, a);
	dst->diagnoses = json_incref(src->diagnoses);
	dst->answered_by = arena_strdup(a, src->answered_by);
	dst->error = arena_strdup(a, src->error);
	dst->fault = arena_strdup(a, src->fault);
}

/* Drop an arena copy's reference to its diagnoses; zero it. */
void
exchange_free_arena(struct exchange *x)
{
	json_decref(x->diagnoses);
	exchange_init(x);
}
