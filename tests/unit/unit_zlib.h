/*
 * unit_zlib.h: compressing test data, for the Check programs that decode
 * Content-Encoding (check_body, check_capture, check_drift).
 */
#ifndef PATCHSCOPE_UNIT_ZLIB_H
#define PATCHSCOPE_UNIT_ZLIB_H

#include <check.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

/*
 * Compress text into out (cap bytes) with zlib's windowBits wbits (31
 * gzip, 15 zlib, -15 raw deflate); return the compressed length.
 */
static inline size_t
unit_squeeze(int wbits, const char *text, unsigned char *out, size_t cap)
{
	z_stream	z;

	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

#endif
