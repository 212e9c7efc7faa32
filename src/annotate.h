/*
 * annotate: how diagnoses reach the client — response headers, entries in
 * the API's own "errors" array, and the --guard answer. Pure: header lists,
 * buffers and jansson values in, the same out.
 */
#ifndef PATCHSCOPE_ANNOTATE_H
#define PATCHSCOPE_ANNOTATE_H

#include <stddef.h>

struct buf;
struct diag_list;
struct http_headers;

#define ANNOTATE_MAX_HEADERS	20	/* X-Patchscope-Diagnosis lines */
#define ANNOTATE_MAX_HEADER_LEN	256	/* bytes in one such value */

/*
 * Add one "X-Patchscope-Diagnosis: <severity> <code> <path>" per diagnosis
 * (the path left out when empty), at most ANNOTATE_MAX_HEADERS, each value
 * cut to ANNOTATE_MAX_HEADER_LEN, and "X-Patchscope-Diagnoses: <total>".
 * Adds nothing for an empty list.
 */
void	annotate_headers(const struct diag_list *, struct http_headers *);
/*
 * When body (len bytes, already decoded) is a JSON object with an "errors"
 * array, append every diagnosis to it as an object with "source":
 * "patchscope" and write the new body to out; return 0. Return -1 and leave
 * out alone when the body is not such an object.
 */
int	annotate_errors(const char *body, size_t len, const struct diag_list *,
	    struct buf *out);
/*
 * Write the --guard answer to out: the API's error shape, status 422, with
 * the diagnoses as its errors.
 */
void	annotate_guard_body(const struct diag_list *, struct buf *out);

#endif
