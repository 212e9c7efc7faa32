/*
 * annotate: put diagnoses where a client sees them.
 *
 * The cassette keeps what the origin sent; annotation is applied on the way
 * to the client only. Header values are bounded because clients and servers
 * reject oversized heads; the total count tells a client what was left out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "annotate.h"
#include "buf.h"
#include "diagnose.h"
#include "http.h"
#include "uri.h"

/*
 * Append text as it may go in a header value: a path comes from the keys
 * of the client's body, and a key may hold CR, LF or other control bytes
 * (response splitting): those are percent-encoded, as in a URI fragment.
 */
static void
annotate_header_text(struct buf *b, const char *text)
{
	uri_encode(b, text, strlen(text),
	    URI_ENCODE_CONTROL | URI_ENCODE_PERCENT);
}

/* Add the diagnosis headers. */
void
annotate_headers(const struct diag_list *l, struct http_headers *h)
{
	struct buf	 v = { NULL, 0, 0 };
	char		 total[32];
	size_t		 i, len;

	if (l->n == 0)
		return;
	for (i = 0; i < l->n && i < ANNOTATE_MAX_HEADERS; i++) {
		buf_reset(&v);
		buf_printf(&v, "%s %s", diag_severity_name(l->v[i].severity),
		    l->v[i].code);
		if (l->v[i].path[0] != '\0') {
			buf_add(&v, " ", 1);
			annotate_header_text(&v, l->v[i].path);
		}
		len = v.len > ANNOTATE_MAX_HEADER_LEN ?
		    ANNOTATE_MAX_HEADER_LEN : v.len;
		http_headers_add(h, HTTP_LIT(HTTP_X_DIAGNOSIS), v.data, len);
	}
	snprintf(total, sizeof total, "%zu", l->n);
	http_headers_add(h, HTTP_LIT(HTTP_X_DIAGNOSES), total, strlen(total));
	buf_free(&v);
}

static void
annotate_dump(json_t *doc, struct buf *out)
{
	char	*text;

	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL) {
		buf_adds(out, text);
		free(text);
	}
}

/* Append diagnoses to an API error's errors array. */
int
annotate_errors(const char *body, size_t len, const struct diag_list *l,
    struct buf *out)
{
	json_t		*doc, *errors;
	json_error_t	 err;
	size_t		 i;

	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (doc == NULL)
		return -1;
	errors = json_object_get(doc, "errors");
	if (!json_is_object(doc) || !json_is_array(errors)) {
		json_decref(doc);
		return -1;
	}
	for (i = 0; i < l->n; i++)
		json_array_append_new(errors, diag_to_json(&l->v[i]));
	annotate_dump(doc, out);
	json_decref(doc);
	return 0;
}

/* The 422 answer of --guard, in the API's own error shape. */
void
annotate_guard_body(const struct diag_list *l, struct buf *out)
{
	json_t	*doc, *errors;
	size_t	 i, nerr = 0;
	char	 msg[160];

	for (i = 0; i < l->n; i++)
		if (l->v[i].severity == DIAG_ERROR)
			nerr++;
	snprintf(msg, sizeof msg, "patchscope --guard did not send this PATCH: "
	    "%zu error%s found (see errors)", nerr, nerr == 1 ? "" : "s");
	errors = json_array();
	for (i = 0; i < l->n; i++)
		json_array_append_new(errors, diag_to_json(&l->v[i]));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:i}",
	    "type", "PatchscopeGuard", "code", "patchscope_guard",
	    "message", msg, "status", "UNPROCESSABLE_ENTITY",
	    "errors", errors, "httpStatusCode", 422);
	annotate_dump(doc, out);
	json_decref(doc);
}
