/*
 * replay_session: the sequence positions of --session-header sessions.
 *
 * Without a session header, each sequence keeps one position (rp_seq's
 * served) and nothing here runs. With one, each value of that request
 * header is a session with its own position in every sequence it has
 * used (an rp_pos, found by sequence in the session's own table), so
 * parallel test workers sharing one replay server each get the recorded
 * order. A request without the header uses the shared position.
 *
 * Clients choose the values, so what is kept is bounded: at most max
 * sessions and RP_PLACES_EACH times max positions in all (a million with
 * the default 4096 sessions); past either, the least
 * recently used sessions are forgotten (a forgotten session that comes
 * back starts its sequences again). Values are at most
 * REPLAY_SESSION_VALUE_MAX bytes (longer ones count as no value; the
 * server refuses them first). Sessions live in an array of slots that
 * are reused, found by value through an open-addressing table with
 * deletion, and linked from the most to the least recently used: a
 * lookup, a use and a forgetting are O(1).
 *
 * Pure: no I/O. The index owns the sessions (struct rp_sessions).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "hash.h"
#include "http.h"
#include "replay.h"
#include "replay_local.h"
#include "xmalloc.h"

#define RP_PLACES_EACH		256	/* places in all: this many times the
					   sessions kept */

/*
 * Remove the value v (hash h) from a table of linear probing, moving
 * back the entries after it that would no longer be found (Knuth's
 * algorithm R): no tombstones, so a table whose values come and go
 * stays as fast as a fresh one.
 */
static void
rp_table_del(struct rp_table *t, uint64_t h, size_t v)
{
	size_t	i, j, home, mask;

	if (t->cap == 0)
		return;
	mask = t->cap - 1;
	for (i = (size_t)h & mask; t->slot[i].val != v + 1;
	    i = (i + 1) & mask)
		if (t->slot[i].val == 0)
			return;
	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (t->slot[j].val == 0)
			break;
		home = (size_t)t->slot[j].hash & mask;
		/* Leave it when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slot[i] = t->slot[j];
		i = j;
	}
	t->slot[i].val = 0;
	t->slot[i].hash = 0;
	t->n--;
}

/* Keep positions per value of the header name. */
void
replay_set_session_header(struct replay_index *idx, const char *name,
    size_t max)
{
	struct rp_sessions	*ss = &idx->sessions;

	free(ss->header);
	ss->header = name != NULL ? xstrdup(name) : NULL;
	ss->max = max > 0 ? max : 1;
	ss->first = ss->last = ss->free = RP_NONE;
}

/* Return how many sessions were forgotten. */
size_t
replay_sessions_forgotten(const struct replay_index *idx)
{
	return idx->sessions.forgotten;
}

/* The session value of a request, or NULL for the default session. */
const char *
replay_session_value(const struct replay_index *idx,
    const struct exchange *req)
{
	const char	*v;
	size_t		 len;

	if (idx->sessions.header == NULL)
		return NULL;
	v = http_headers_get(&req->req_headers, idx->sessions.header);
	if (v == NULL)
		return NULL;
	len = strnlen(v, REPLAY_SESSION_VALUE_MAX + 1);
	if (len == 0 || len > REPLAY_SESSION_VALUE_MAX)
		return NULL;
	return v;
}

struct rp_session_ctx {
	const struct rp_sessions	*ss;
	const char			*value;
	size_t				 len;
};

static int
rp_session_eq_cb(const void *arg, size_t v)
{
	const struct rp_session_ctx	*ctx = arg;
	const struct rp_session		*s = &ctx->ss->v[v];

	return s->len == ctx->len && memcmp(s->value, ctx->value,
	    ctx->len) == 0;
}

struct rp_pos_ctx {
	const struct rp_session		*s;
	size_t				 seq;
};

static int
rp_pos_eq_cb(const void *arg, size_t v)
{
	const struct rp_pos_ctx	*ctx = arg;

	return ctx->s->pos[v].seq == ctx->seq;
}

/* Take slot i out of the list of sessions in use. */
static void
rp_session_unlink(struct rp_sessions *ss, size_t i)
{
	struct rp_session	*s = &ss->v[i];

	if (s->prev != RP_NONE)
		ss->v[s->prev].next = s->next;
	else
		ss->first = s->next;
	if (s->next != RP_NONE)
		ss->v[s->next].prev = s->prev;
	else
		ss->last = s->prev;
	s->prev = s->next = RP_NONE;
}

/* Put slot i first: the most recently used. */
static void
rp_session_push(struct rp_sessions *ss, size_t i)
{
	struct rp_session	*s = &ss->v[i];

	s->prev = RP_NONE;
	s->next = ss->first;
	if (ss->first != RP_NONE)
		ss->v[ss->first].prev = i;
	ss->first = i;
	if (ss->last == RP_NONE)
		ss->last = i;
}

/* Forget the least recently used session; its slot becomes free. */
static void
rp_session_forget(struct rp_sessions *ss)
{
	size_t			 i = ss->last;
	struct rp_session	*s = &ss->v[i];

	rp_session_unlink(ss, i);
	rp_table_del(&ss->t, s->hash, i);
	ss->npos -= s->npos;
	free(s->value);
	free(s->pos);
	replay_table_free(&s->t_pos);
	memset(s, 0, sizeof *s);
	s->prev = RP_NONE;
	s->next = ss->free;
	ss->free = i;
	ss->live--;
	ss->forgotten++;
}

/* Return the slot of value's session, begun if new, made most recent. */
static size_t
rp_session_get(struct rp_sessions *ss, const char *value, size_t *forgot)
{
	struct rp_session_ctx	 ctx = { ss, value, strlen(value) };
	struct rp_session	*s;
	uint64_t		 h;
	size_t			 i;

	h = replay_mix(hash_bytes(HASH_FNV_OFFSET, value, ctx.len));
	i = replay_table_find(&ss->t, h, rp_session_eq_cb, &ctx);
	if (i != RP_NONE) {
		if (ss->first != i) {
			rp_session_unlink(ss, i);
			rp_session_push(ss, i);
		}
		return i;
	}
	while (ss->live >= ss->max) {
		rp_session_forget(ss);
		(*forgot)++;
	}
	if (ss->free != RP_NONE) {
		i = ss->free;
		ss->free = ss->v[i].next;
	} else {
		ss->v = replay_grow(ss->v, &ss->cap, ss->n, sizeof *ss->v);
		i = ss->n++;
	}
	s = &ss->v[i];
	memset(s, 0, sizeof *s);
	s->value = xstrndup(value, ctx.len);
	s->len = ctx.len;
	s->hash = h;
	replay_table_put(&ss->t, h, i);
	rp_session_push(ss, i);
	ss->live++;
	ss->seen++;
	return i;
}

/* Where a session stands in sequence si. */
size_t *
replay_session_served(struct replay_index *idx, const char **value,
    size_t si, size_t *forgot)
{
	struct rp_sessions	*ss = &idx->sessions;
	struct rp_session	*s;
	struct rp_pos_ctx	 ctx;
	uint64_t		 h;
	size_t			 i, p;

	*forgot = 0;
	if (*value == NULL)
		return &idx->seqs[si].served;
	i = rp_session_get(ss, *value, forgot);
	s = &ss->v[i];
	*value = s->value;
	ctx.s = s;
	ctx.seq = si;
	h = replay_mix((uint64_t)si * 0x9e3779b97f4a7c15ULL);
	p = replay_table_find(&s->t_pos, h, rp_pos_eq_cb, &ctx);
	if (p != RP_NONE)
		return &s->pos[p].served;
	/* A new position: make room among the other sessions first. */
	while (ss->npos >= ss->max * RP_PLACES_EACH && ss->last != i) {
		rp_session_forget(ss);
		(*forgot)++;
	}
	s->pos = replay_grow(s->pos, &s->cappos, s->npos, sizeof *s->pos);
	p = s->npos++;
	s->pos[p].seq = si;
	s->pos[p].served = 0;
	replay_table_put(&s->t_pos, h, p);
	ss->npos++;
	return &s->pos[p].served;
}

/* Free the sessions. */
void
replay_sessions_free(struct rp_sessions *ss)
{
	size_t	i;

	for (i = 0; i < ss->n; i++) {
		free(ss->v[i].value);
		free(ss->v[i].pos);
		replay_table_free(&ss->v[i].t_pos);
	}
	free(ss->v);
	replay_table_free(&ss->t);
	free(ss->header);
	memset(ss, 0, sizeof *ss);
}
