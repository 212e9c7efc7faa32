/*
 * diagnose_suggest: what the diagnose module says of a value it does not
 * know: the known value nearest to it (the suggestion, "did you mean"),
 * or the list of the known ones.
 *
 * Known values are the rules' (built in, or learned from GET answers);
 * a suggestion is the rules' own string, never a copy. An edit distance is
 * computed only while there is room for another diagnosis, and only for
 * values of at most DIAG_SUGGEST_MAX bytes, so its cost is bounded.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "diagnose_local.h"
#include "rules.h"

#define DIAG_FAR		UINT_MAX	/* score: too far to suggest */

/*
 * Suggestions: the known value nearest to what was written. Case is
 * ignored; a value may also match the part of a known value after a '_' or
 * '-' ("CANCELED" -> "BOOKING_CANCELLED"), or be a piece of one
 * ("CANCEL"). Ties go to the value first in byte order.
 */
struct diag_suggest {
	const char	*value;
	size_t		 len;
	const char	*best;
	unsigned	 score;
};

/* Edits allowed between a written value and a known one of len bytes. */
static size_t
diag_suggest_limit(size_t len)
{
	if (len < 8)
		return 1;
	return len < 12 ? 2 : 3;
}

/* Optimal string alignment distance, case-insensitive; both <= 128. */
static size_t
diag_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t	rows[3][DIAG_SUGGEST_MAX + 2];
	size_t	*p2 = rows[0], *p1 = rows[1], *cur = rows[2], *t;
	size_t	i, j, cost, v;

	for (j = 0; j <= lb; j++)
		p1[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			v = p1[j - 1] + cost;
			if (p1[j] + 1 < v)
				v = p1[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1])
			    == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) &&
			    p2[j - 2] + 1 < v)
				v = p2[j - 2] + 1;
			cur[j] = v;
		}
		t = p2;
		p2 = p1;
		p1 = cur;
		cur = t;
	}
	return p1[lb];
}

/* Score form (a known value or a part of it) against the written value;
 * DIAG_FAR when too far. */
static unsigned
diag_suggest_form(const struct diag_suggest *s, const char *form)
{
	size_t	len = strlen(form), limit, d;

	limit = diag_suggest_limit(len);
	if (s->len > len + limit || len > s->len + limit)
		return DIAG_FAR;
	d = diag_distance(s->value, s->len, form, len);
	return d <= limit ? (unsigned)d : DIAG_FAR;
}

static void
diag_suggest_cb(const char *cand, void *arg)
{
	struct diag_suggest	*s = arg;
	const char		*p;
	unsigned		 score = DIAG_FAR, d;

	if (strlen(cand) > DIAG_SUGGEST_MAX)
		return;
	if (strcasecmp(cand, s->value) == 0)
		score = 0;
	d = score != 0 ? diag_suggest_form(s, cand) : DIAG_FAR;
	if (d != DIAG_FAR)
		score = 10 + 10 * d;
	for (p = cand; score > 10 && *p != '\0'; p++) {
		if ((*p != '_' && *p != '-') || p[1] == '\0')
			continue;
		d = diag_suggest_form(s, p + 1);
		if (d != DIAG_FAR && 15 + 10 * d < score)
			score = 15 + 10 * d;
	}
	if (score == DIAG_FAR && s->len >= 4 && strcasestr(cand, s->value))
		score = 1000 + (unsigned)strlen(cand);
	if (score < s->score || (score == s->score && score != DIAG_FAR &&
	    strcmp(cand, s->best) < 0)) {
		s->score = score;
		s->best = cand;
	}
}

/* The known value of kind nearest to value (rules' storage), or NULL. */
const char *
diag_suggest(struct diag_ctx *c, const char *kind, const char *type,
    const char *value)
{
	struct diag_suggest	s;

	if (!diag_room(c))
		return NULL;
	s.value = value;
	s.len = strlen(value);
	s.best = NULL;
	s.score = DIAG_FAR;
	if (s.len == 0 || s.len > DIAG_SUGGEST_MAX)
		return NULL;
	rules_each(c->rules, kind, type, diag_suggest_cb, &s);
	return s.best;
}

/* Collect known values as "A, B, C" into b (bounded by the rules). */
void
diag_join_cb(const char *value, void *arg)
{
	struct buf	*b = arg;

	if (b->len > 0)
		buf_adds(b, ", ");
	buf_adds(b, value);
}

/* What a message says of a value neither built in nor seen. */
const char	diag_unseen[] =
    "neither in the built-in list nor seen in a GET response";
