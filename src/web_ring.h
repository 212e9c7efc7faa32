/*
 * web_ring: the last exchanges the web view keeps, as their JSON text,
 * each with an id (1, 2, ...). Pure: memory only.
 *
 * The ring holds at most keep entries and at most max_bytes of text (the
 * newest entry is always kept); adding past either drops the oldest, and
 * the count of dropped entries only grows. Kept ids are consecutive:
 * oldest() .. newest().
 */
#ifndef PATCHSCOPE_WEB_RING_H
#define PATCHSCOPE_WEB_RING_H

#include <stddef.h>
#include <stdint.h>

struct web_ring;

/* One kept entry (owned by the ring). */
struct web_ring_entry {
	uint64_t	 id;
	char		*text;
	size_t		 len;
};

/* Return a new empty ring (keep at least 1; max_bytes 0: no byte cap). */
struct web_ring *web_ring_new(size_t keep, size_t max_bytes);
/* Free the ring and its entries (NULL is fine). */
void	web_ring_free(struct web_ring *);
/*
 * Add an entry whose text (len bytes, malloc'd) the ring takes over, with
 * the id web_ring_next_id() returned before the call. Return that id.
 */
uint64_t web_ring_add(struct web_ring *, char *text, size_t len);
/* The id the next entry gets. */
uint64_t web_ring_next_id(const struct web_ring *);
/* The oldest and newest kept ids (0 and 0 when empty). */
uint64_t web_ring_oldest(const struct web_ring *);
uint64_t web_ring_newest(const struct web_ring *);
/* How many entries were dropped since the ring was made. */
uint64_t web_ring_dropped(const struct web_ring *);
/* How many entries may be kept, and how many are. */
size_t	web_ring_keep(const struct web_ring *);
size_t	web_ring_count(const struct web_ring *);
/* The bytes of text kept. */
size_t	web_ring_bytes(const struct web_ring *);
/* The kept entry with this id, or NULL when it is not kept. */
const struct web_ring_entry *web_ring_get(const struct web_ring *,
	    uint64_t id);
/*
 * Where a client that has seen every id up to after resumes: the first
 * kept id after it (or next_id when none is kept yet). *missed is set to
 * nonzero when some ids after `after` were dropped before it could see
 * them.
 */
uint64_t web_ring_resume(const struct web_ring *, uint64_t after,
	    int *missed);

#endif
