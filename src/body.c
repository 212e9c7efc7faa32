/*
 * body: decode bodies with zlib for inspection.
 *
 * Invariant: out never grows past max bytes, whatever the compressed input
 * claims (a small gzip bomb stops at the limit with an error).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "body.h"
#include "buf.h"

#define BODY_CHUNK	16384

/* Inflate with windowBits wbits (31 gzip, 15 zlib, -15 raw deflate). */
static int
body_inflate(int wbits, const char *data, size_t len, size_t max,
    struct buf *out, const char **cause)
{
	z_stream	 z;
	unsigned char	 chunk[BODY_CHUNK];
	size_t		 start = out->len, got;
	int		 rc;

	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, wbits) != Z_OK) {
		*cause = "cannot start zlib";
		return -1;
	}
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof chunk;
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			*cause = "the compressed body is corrupt";
			goto fail;
		}
		got = sizeof chunk - z.avail_out;
		if (out->len - start + got > max) {
			*cause = "the body is larger than the inspection limit "
			    "once decompressed";
			goto fail;
		}
		buf_add(out, chunk, got);
		/* Stop when input is used up without progress. */
		if (rc == Z_OK && z.avail_in == 0 && got == 0) {
			*cause = "the compressed body is truncated";
			goto fail;
		}
	} while (rc != Z_STREAM_END);
	inflateEnd(&z);
	return 0;
fail:
	inflateEnd(&z);
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}

/* Decode a body. */
int
body_decode(const char *encoding, const char *data, size_t len, size_t max,
    struct buf *out, const char **cause)
{
	if (encoding == NULL || *encoding == '\0' ||
	    strcasecmp(encoding, "identity") == 0) {
		if (len > max) {
			*cause = "the body is larger than the inspection limit";
			return -1;
		}
		buf_add(out, data, len);
		return 0;
	}
	if (strcasecmp(encoding, "gzip") == 0 ||
	    strcasecmp(encoding, "x-gzip") == 0)
		return body_inflate(15 + 16, data, len, max, out, cause);
	if (strcasecmp(encoding, "deflate") == 0) {
		/* RFC 9110 8.4.1.2 means zlib; some servers send raw. */
		if (len >= 2 && ((unsigned char)data[0] & 0x0f) == 8 &&
		    (((unsigned char)data[0] << 8) |
		    (unsigned char)data[1]) % 31 == 0)
			return body_inflate(15, data, len, max, out, cause);
		return body_inflate(-15, data, len, max, out, cause);
	}
	*cause = "the body's Content-Encoding is not gzip or deflate";
	return -1;
}

/* Is this a JSON media type? */
int
body_is_json(const char *ct)
{
	const char	*end, *plus;
	size_t		 len;

	if (ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	end = ct + strcspn(ct, "; ");
	len = (size_t)(end - ct);
	if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	/* Structured syntax suffix, RFC 6839: application/problem+json. */
	plus = memchr(ct, '+', len);
	return plus != NULL && (size_t)(end - plus) == 5 &&
	    strncasecmp(plus, "+json", 5) == 0 &&
	    strncasecmp(ct, "application/", 12) == 0;
}
