/*
 * xmalloc: allocation that cannot fail for our own bookkeeping.
 *
 * Running out of memory for a connection struct leaves nothing sensible to
 * do, so these abort. Everything sized by a peer is bounded by a limit first.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void
oom(size_t n)
{
	fprintf(stderr, "patchscope: out of memory (%zu bytes)\n", n);
	abort();
}

/* Allocate size bytes or abort. */
void *
xmalloc(size_t size)
{
	void	*p;

	p = malloc(size == 0 ? 1 : size);
	if (p == NULL)
		oom(size);
	return p;
}

/* Allocate n zeroed elements or abort. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
	if (p == NULL)
		oom(n * size);
	return p;
}

/* Resize to n elements of size bytes or abort; overflow aborts too. */
void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	p = realloc(ptr, n * size == 0 ? 1 : n * size);
	if (p == NULL)
		oom(n * size);
	return p;
}

/* Duplicate s or abort. */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* Duplicate len bytes of s, NUL-terminated, or abort. */
char *
xstrndup(const char *s, size_t len)
{
	char	*p;

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Format into a new string or abort. */
char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return s;
}
