/*
 * sanitize_text: what a sanitize run counted, and its one-line summary.
 * Redacted values are counted by place and, within a place, by name (a
 * header's, a cookie's, a parameter's, a JSON key's), the first
 * SANITIZE_MAX_NAMES names kept with their first spelling, any case
 * matching; names are printed with everything but printable ASCII
 * escaped, so a hostile name cannot drive a terminal. Values are never
 * kept here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "sanitize.h"
#include "sanitize_local.h"
#include "xmalloc.h"

/* Bytes of a name kept for the summary. */
#define SANITIZE_NAME_LEN	64

/* The summary's words for each place, singular and plural. */
static const char *place_words[SANITIZE_NPLACES][2] = {
	[SANITIZE_REQUEST_HEADER] =	{ "request header", "request headers" },
	[SANITIZE_RESPONSE_HEADER] =	{ "response header",
					  "response headers" },
	[SANITIZE_COOKIE] =		{ "cookie", "cookies" },
	[SANITIZE_QUERY] =		{ "query parameter",
					  "query parameters" },
	[SANITIZE_FORM] =		{ "form field", "form fields" },
	[SANITIZE_JSON] =		{ "JSON key", "JSON keys" },
	[SANITIZE_OTHER] =		{ "other copy of those values",
					  "other copies of those values" },
};

/* Add count values of a name to a tally. */
void
sanitize_tally_add(struct sanitize_tally *t, const char *name, size_t len,
    size_t count)
{
	size_t	i;

	t->total += count;
	if (name == NULL || count == 0)
		return;
	if (len > SANITIZE_NAME_LEN)
		len = SANITIZE_NAME_LEN;
	for (i = 0; i < t->n; i++)
		if (strlen(t->v[i].name) == len &&
		    strncasecmp(t->v[i].name, name, len) == 0) {
			t->v[i].count += count;
			return;
		}
	if (t->n == SANITIZE_MAX_NAMES || memchr(name, '\0', len) != NULL)
		return;
	t->v[t->n].name = xstrndup(name, len);
	t->v[t->n].count = count;
	t->n++;
}

/* Free the names of a tally. */
void
sanitize_tally_free(struct sanitize_tally *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].name);
	memset(t, 0, sizeof *t);
}

static size_t
tally_count(const struct sanitize_tally *t, const char *name)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i].name, name) == 0)
			return t->v[i].count;
	return 0;
}

static size_t
tally_named(const struct sanitize_tally *t)
{
	size_t	i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->v[i].count;
	return n;
}

/* Add the larger count of each name of a and b to the report; free a
 * and b. */
void
sanitize_tally_merge(struct sanitize_tally *to, struct sanitize_tally *a,
    struct sanitize_tally *b)
{
	size_t	i, ca, cb, ra, rb;

	for (i = 0; i < a->n; i++) {
		ca = a->v[i].count;
		cb = tally_count(b, a->v[i].name);
		sanitize_tally_add(to, a->v[i].name, strlen(a->v[i].name),
		    ca > cb ? ca : cb);
	}
	for (i = 0; i < b->n; i++)
		if (tally_count(a, b->v[i].name) == 0)
			sanitize_tally_add(to, b->v[i].name,
			    strlen(b->v[i].name), b->v[i].count);
	ra = a->total - tally_named(a);
	rb = b->total - tally_named(b);
	sanitize_tally_add(to, NULL, 0, ra > rb ? ra : rb);
	sanitize_tally_free(a);
	sanitize_tally_free(b);
}

/* Return how many values were redacted. */
size_t
sanitize_report_total(const struct sanitize_report *rep)
{
	size_t	i, n = 0;

	for (i = 0; i < SANITIZE_NPLACES; i++)
		n += rep->places[i].total;
	return n;
}

/* Append a name for a person: printable ASCII as is, the rest escaped. */
static void
text_name(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 0x20 && *s < 0x7f)
			buf_add(out, s, 1);
		else
			buf_printf(out, "\\x%02x", (unsigned char)*s);
	}
}

static void
text_place(struct buf *out, const struct sanitize_tally *t,
    enum sanitize_place p)
{
	size_t	i, rest = t->total - tally_named(t);

	buf_printf(out, "%zu %s", t->total, place_words[p][t->total != 1]);
	if (t->n == 0)
		return;
	buf_adds(out, " (");
	for (i = 0; i < t->n; i++) {
		if (i > 0)
			buf_adds(out, ", ");
		text_name(out, t->v[i].name);
		if (t->v[i].count > 1)
			buf_printf(out, " x%zu", t->v[i].count);
	}
	if (rest > 0)
		buf_printf(out, ", %zu more", rest);
	buf_adds(out, ")");
}

/* Append the one-line summary. */
void
sanitize_report_text(const struct sanitize_report *rep, const char *verb,
    struct buf *out)
{
	size_t	i, done = 0, places = 0;

	for (i = 0; i < SANITIZE_NPLACES; i++)
		places += rep->places[i].total > 0;
	if (places == 0) {
		buf_printf(out, "nothing to redact in %zu entr%s", rep->entries,
		    rep->entries == 1 ? "y" : "ies");
		return;
	}
	buf_printf(out, "%s ", verb);
	for (i = 0; i < SANITIZE_NPLACES; i++) {
		if (rep->places[i].total == 0)
			continue;
		if (done > 0)
			buf_adds(out, done + 1 == places ? " and " : ", ");
		text_place(out, &rep->places[i], (enum sanitize_place)i);
		done++;
	}
	buf_printf(out, ", in %zu of %zu entr%s", rep->entries_changed,
	    rep->entries, rep->entries == 1 ? "y" : "ies");
}

/* Free a report's names. */
void
sanitize_report_free(struct sanitize_report *rep)
{
	size_t	i;

	for (i = 0; i < SANITIZE_NPLACES; i++)
		sanitize_tally_free(&rep->places[i]);
	memset(rep, 0, sizeof *rep);
}
