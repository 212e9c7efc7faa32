/*
 * utf8: RFC 3629 UTF-8, checked byte by byte.
 *
 * Cassettes (JSON), diagnoses and log lines all need text that is valid
 * UTF-8; they check it here so that they agree on what valid means: no
 * overlong forms, no surrogates (U+D800 to U+DFFF), nothing past
 * U+10FFFF. A NUL byte is valid UTF-8; callers that hand text to C
 * strings or to jansson refuse it with UTF8_NO_NUL.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "utf8.h"

/* Return the length of the valid sequence at s. */
size_t
utf8_seq_len(const char *s, size_t avail)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, i;
	uint32_t		 cp;

	if (p[0] < 0x80)
		return 1;
	/* 0xc0 and 0xc1 could only start overlong forms. */
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (avail < n)
		return 0;
	cp = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* Is s valid UTF-8? */
int
utf8_valid(const char *s, size_t len, int flags)
{
	size_t	i, n;

	for (i = 0; i < len; i += n) {
		if (s[i] == '\0' && (flags & UTF8_NO_NUL))
			return 0;
		n = utf8_seq_len(s + i, len - i);
		if (n == 0)
			return 0;
	}
	return 1;
}

/* Append s with invalid bytes replaced by U+FFFD. */
void
utf8_sanitize(struct buf *b, const char *s, size_t len, int flags)
{
	size_t	i, n;

	for (i = 0; i < len; i += n) {
		n = s[i] == '\0' && (flags & UTF8_NO_NUL) ? 0 :
		    utf8_seq_len(s + i, len - i);
		if (n == 0) {
			buf_adds(b, UTF8_REPLACEMENT);
			n = 1;
		} else
			buf_add(b, s + i, n);
	}
}

/* Write a code point as UTF-8. */
size_t
utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}
