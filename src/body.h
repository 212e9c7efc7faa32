/*
 * body: decoding message bodies for inspection (Content-Encoding gzip,
 * deflate in both its zlib and raw forms, identity). Pure: bytes in, bytes
 * out, bounded by the caller's limit.
 */
#ifndef PATCHSCOPE_BODY_H
#define PATCHSCOPE_BODY_H

#include <stddef.h>

struct buf;

/*
 * Decode len bytes coded as encoding (a Content-Encoding value; NULL or
 * "identity" for none) into out, producing at most max bytes. Return 0, or
 * -1 with *cause set to a static message (unknown coding, corrupt data,
 * larger than max once decoded).
 */
int	body_decode(const char *encoding, const char *data, size_t len,
	    size_t max, struct buf *out, const char **cause);
/* Return nonzero when a Content-Type value names JSON (application/json,
 * application/problem+json, ...). */
int	body_is_json(const char *content_type);

#endif
