/*
 * web_ring: the web view's kept exchanges, a circular array of their
 * texts (see web_ring.h).
 *
 * Invariants: count <= keep; the kept entries are v[(head + i) % keep]
 * for i < count, with ids next_id - count .. next_id - 1; bytes is the
 * sum of their lengths.
 */
#include "config.h"

#include <stdlib.h>

#include "web_ring.h"
#include "xmalloc.h"

struct web_ring {
	struct web_ring_entry	*v;
	size_t			 keep;
	size_t			 head;		/* index of the oldest */
	size_t			 count;
	size_t			 bytes;
	size_t			 max_bytes;	/* 0: no cap */
	uint64_t		 next_id;
	uint64_t		 dropped;
};

/* An empty ring for keep entries. */
struct web_ring *
web_ring_new(size_t keep, size_t max_bytes)
{
	struct web_ring	*r = xcalloc(1, sizeof *r);

	r->keep = keep > 0 ? keep : 1;
	r->v = xcalloc(r->keep, sizeof *r->v);
	r->max_bytes = max_bytes;
	r->next_id = 1;
	return r;
}

/* Drop the oldest entry. */
static void
web_ring_drop(struct web_ring *r)
{
	struct web_ring_entry	*e = &r->v[r->head];

	r->bytes -= e->len;
	free(e->text);
	e->text = NULL;
	e->len = 0;
	r->head = (r->head + 1) % r->keep;
	r->count--;
	r->dropped++;
}

/* Free everything. */
void
web_ring_free(struct web_ring *r)
{
	if (r == NULL)
		return;
	while (r->count > 0)
		web_ring_drop(r);
	free(r->v);
	free(r);
}

/* Add an entry, dropping the oldest past the caps. */
uint64_t
web_ring_add(struct web_ring *r, char *text, size_t len)
{
	struct web_ring_entry	*e;

	if (r->count == r->keep)
		web_ring_drop(r);
	while (r->count > 0 && r->max_bytes > 0 &&
	    r->bytes + len > r->max_bytes)
		web_ring_drop(r);
	e = &r->v[(r->head + r->count) % r->keep];
	e->id = r->next_id++;
	e->text = text;
	e->len = len;
	r->count++;
	r->bytes += len;
	return e->id;
}

/* The id the next entry gets. */
uint64_t
web_ring_next_id(const struct web_ring *r)
{
	return r->next_id;
}

/* The oldest kept id, or 0. */
uint64_t
web_ring_oldest(const struct web_ring *r)
{
	return r->count > 0 ? r->next_id - r->count : 0;
}

/* The newest kept id, or 0. */
uint64_t
web_ring_newest(const struct web_ring *r)
{
	return r->count > 0 ? r->next_id - 1 : 0;
}

/* Entries dropped so far. */
uint64_t
web_ring_dropped(const struct web_ring *r)
{
	return r->dropped;
}

/* The most entries kept. */
size_t
web_ring_keep(const struct web_ring *r)
{
	return r->keep;
}

/* The entries kept now. */
size_t
web_ring_count(const struct web_ring *r)
{
	return r->count;
}

/* The bytes of text kept now. */
size_t
web_ring_bytes(const struct web_ring *r)
{
	return r->bytes;
}

/* The entry with this id, if kept. */
const struct web_ring_entry *
web_ring_get(const struct web_ring *r, uint64_t id)
{
	uint64_t	oldest = r->next_id - r->count;

	if (r->count == 0 || id < oldest || id >= r->next_id)
		return NULL;
	return &r->v[(r->head + (size_t)(id - oldest)) % r->keep];
}

/* The first id a client that saw up to after gets next. */
uint64_t
web_ring_resume(const struct web_ring *r, uint64_t after, int *missed)
{
	uint64_t	oldest = r->next_id - r->count;

	*missed = 0;
	/* An id from another run (after a restart): start afresh. */
	if (after >= r->next_id)
		after = 0;
	if (after + 1 >= oldest)
		return after + 1;
	/* Ids after + 1 .. oldest - 1 were dropped. */
	*missed = 1;
	return oldest;
}
