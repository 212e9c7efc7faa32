/*
 * arena: pieces cut from blocks of ARENA_BLOCK bytes (a piece larger than
 * a quarter of that gets a block of its own, so that little is left
 * unused at the end of a block). The blocks are chained, newest first,
 * and freed together; nothing is freed alone.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "xmalloc.h"

#define ARENA_BLOCK	(256 * 1024)
#define ARENA_ALIGN	8

struct arena_block {
	struct arena_block	*next;
	size_t			 size;		/* bytes of data[] */
	size_t			 used;
	/* The data follows, aligned as a long double would be. */
	union {
		long double	 ld;
		void		*p;
		uint64_t	 u;
	} data[];
};

struct arena {
	struct arena_block	*head;		/* the one cut from */
	struct arena_block	*big;		/* pieces with a block each */
	size_t			 total;
};

/* Return an empty arena. */
struct arena *
arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

static void
arena_chain_free(struct arena_block *b)
{
	struct arena_block	*next;

	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
}

/* Free every block and the arena. */
void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	arena_chain_free(a->head);
	arena_chain_free(a->big);
	free(a);
}

static struct arena_block *
arena_block_new(struct arena *a, size_t size)
{
	struct arena_block	*b;

	/* Sizes come from bytes already in memory: this cannot happen. */
	if (size > SIZE_MAX - sizeof *b)
		abort();
	b = xmalloc(sizeof *b + size);
	b->size = size;
	b->used = 0;
	a->total += sizeof *b + size;
	return b;
}

/* Return size bytes, aligned. */
void *
arena_alloc(struct arena *a, size_t size)
{
	struct arena_block	*b;
	size_t			 need;

	if (size > SIZE_MAX - ARENA_ALIGN)
		abort();
	need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need > ARENA_BLOCK / 4) {
		b = arena_block_new(a, need);
		b->used = need;
		b->next = a->big;
		a->big = b;
		return b->data;
	}
	b = a->head;
	if (b == NULL || b->size - b->used < need) {
		b = arena_block_new(a, ARENA_BLOCK);
		b->next = a->head;
		a->head = b;
	}
	b->used += need;
	return (char *)b->data + b->used - need;
}

/* Return a NUL-terminated copy of len bytes. */
char *
arena_memdup(struct arena *a, const void *data, size_t len)
{
	char	*p;

	if (len == SIZE_MAX)
		abort();
	p = arena_alloc(a, len + 1);
	if (len > 0)
		memcpy(p, data, len);
	p[len] = '\0';
	return p;
}

/* Return a copy of s (NULL stays NULL). */
char *
arena_strdup(struct arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return arena_memdup(a, s, strlen(s));
}

/* Return the bytes held from the system. */
size_t
arena_size(const struct arena *a)
{
	return a->total;
}
