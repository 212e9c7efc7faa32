/*
 * buf: a growable byte buffer for building messages in the pure core.
 *
 * The shell copies a finished buffer into a bufferevent; the core never
 * touches sockets.
 */
#ifndef PATCHSCOPE_BUF_H
#define PATCHSCOPE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
};

/* Append len bytes. */
void	buf_add(struct buf *, const void *data, size_t len);
/* Append a NUL-terminated string. */
void	buf_adds(struct buf *, const char *s);
/* Append formatted text. */
void	buf_printf(struct buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append formatted text from a va_list (ap is used up). */
void	buf_vprintf(struct buf *, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Empty the buffer, keeping its memory. */
void	buf_reset(struct buf *);
/* Empty the buffer; give its memory back when it grew past keep bytes. */
void	buf_recycle(struct buf *, size_t keep);
/* Free the memory; the buffer is empty and reusable afterwards. */
void	buf_free(struct buf *);
/* Return the contents as a C string ("" when empty); valid until changed. */
const char *buf_str(const struct buf *);

#endif
