/*
 * arena: memory handed out in pieces from large blocks and given back all
 * at once, for many small things that live and die together (the strings
 * and header lists of a loaded cassette's entries). A piece costs no
 * allocator header and no rounding beyond 8 bytes.
 */
#ifndef PATCHSCOPE_ARENA_H
#define PATCHSCOPE_ARENA_H

#include <stddef.h>

struct arena;

/* Return an empty arena; free it with arena_free. */
struct arena *arena_new(void);
/* Free every piece and the arena (NULL is fine). */
void	arena_free(struct arena *);
/* Return size bytes aligned for any object (size 0: a valid pointer);
 * aborts on out-of-memory, as xmalloc. */
void	*arena_alloc(struct arena *, size_t size);
/* Return a copy of len bytes of data followed by a NUL. */
char	*arena_memdup(struct arena *, const void *data, size_t len);
/* Return a copy of s, or NULL when s is NULL. */
char	*arena_strdup(struct arena *, const char *s);
/* Return the bytes the arena holds from the system (its blocks). */
size_t	 arena_size(const struct arena *);

#endif
