/*
 * exchange: construction and destruction of the plain exchange struct the
 * cassette core works on (see exchange.h). Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
	free(b->data);
	b->data = xmalloc(len + 1);
	if (len > 0)
		memcpy(b->data, data, len);
	b->data[len] = '\0';
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
	char	len[32];

	if (body->data == NULL || http_headers_get(h, "Content-Length") == NULL)
		return;
	http_headers_remove(h, "Content-Length");
	snprintf(len, sizeof len, "%zu", body->len);
	http_headers_add(h, HTTP_LIT(HTTP_CONTENT_LENGTH), len, strlen(len));
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
	exchange_init(x);
}
