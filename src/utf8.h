/*
 * utf8: the one UTF-8 validator (RFC 3629) and the helpers built on it.
 * Pure: no sockets, no printing.
 */
#ifndef PATCHSCOPE_UTF8_H
#define PATCHSCOPE_UTF8_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* utf8_valid and utf8_sanitize flags. */
#define UTF8_NO_NUL	0x1	/* a NUL byte counts as invalid */

/* Is byte c a continuation byte (10xxxxxx), not the start of a character? */
#define UTF8_IS_CONT(c)		(((unsigned char)(c) & 0xc0) == 0x80)

/* The replacement character U+FFFD, as UTF-8. */
#define UTF8_REPLACEMENT	"\xef\xbf\xbd"

/*
 * Return the length (1 to 4) of the valid UTF-8 sequence at s, which has
 * avail bytes (at least 1), or 0 when it is not one: a stray or truncated
 * byte, an overlong form, a surrogate or a code point past U+10FFFF.
 */
size_t	utf8_seq_len(const char *s, size_t avail);
/* Return nonzero when len bytes of s are valid UTF-8 (flags: UTF8_*). */
int	utf8_valid(const char *s, size_t len, int flags);
/*
 * Append len bytes of s to b with each byte that is not part of a valid
 * sequence (and each NUL, with UTF8_NO_NUL) replaced by U+FFFD.
 */
void	utf8_sanitize(struct buf *, const char *s, size_t len, int flags);
/*
 * Write code point cp (at most U+10FFFF, not a surrogate) as UTF-8 at out,
 * which has room for 4 bytes; return the number of bytes written.
 */
size_t	utf8_encode(uint32_t cp, char *out);

#endif
