/*
 * xmalloc: allocation wrappers for patchscope's own structures.
 *
 * They abort with a message on out-of-memory. Sizes that the network controls
 * are limited before they reach these functions (see options.h).
 */
#ifndef PATCHSCOPE_XMALLOC_H
#define PATCHSCOPE_XMALLOC_H

#include <stddef.h>

/* Allocate size bytes; never returns NULL. */
void	*xmalloc(size_t size);
/* Allocate n zeroed elements of size bytes; never returns NULL. */
void	*xcalloc(size_t n, size_t size);
/* Resize ptr to n elements of size bytes, checking for overflow. */
void	*xreallocarray(void *ptr, size_t n, size_t size);
/* Duplicate a string; the caller frees it. */
char	*xstrdup(const char *s);
/* Duplicate len bytes of s as a NUL-terminated string. */
char	*xstrndup(const char *s, size_t len);
/* Format into a new string; the caller frees it. */
char	*xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
