/*
 * client_watch: diagnoses of how a client reacts to a failure.
 *
 * Two kinds of state are pending, each under a key made of the client's
 * address and the request:
 *   a wait   (client, method, URL): an answer said "Retry-After: S"; the
 *            same request may not start before that answer ended plus S;
 *   a doubt  (client, path): a PATCH got no complete answer (or a 500,
 *            502 or 504), so the client cannot know whether it applied;
 *            a GET or HEAD of the path clears it, another PATCH of the
 *            path before that is unsafe.
 * States live in one list, most recently touched last; past
 * CLIENT_WATCH_MAX_PENDING the oldest is forgotten, so memory is bounded
 * whatever the traffic. A state is dropped as soon as it is settled.
 */
#include "config.h"

#include <sys/queue.h>

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "client_watch.h"
#include "diagnose.h"
#include "hash.h"
#include "xmalloc.h"

enum cw_kind {
	CW_WAIT,
	CW_DOUBT
};

struct cw_state {
	TAILQ_ENTRY(cw_state)	 entry;
	enum cw_kind		 kind;
	uint64_t		 hash;
	char			*key;
	double			 told;		/* CW_WAIT: the answer's end */
	double			 wait;		/* CW_WAIT: its Retry-After */
	int			 status;	/* the answer's status */
	char			*why;		/* CW_DOUBT: how it was lost */
};

TAILQ_HEAD(cw_list, cw_state);

struct client_watch {
	struct cw_list	 states;
	size_t		 nstates;
	json_t		*findings;
	size_t		 total;
};

static void
cw_state_free(struct client_watch *w, struct cw_state *st)
{
	TAILQ_REMOVE(&w->states, st, entry);
	w->nstates--;
	free(st->key);
	free(st->why);
	free(st);
}

static struct cw_state *
cw_find(struct client_watch *w, enum cw_kind kind, const char *key)
{
	struct cw_state	*st;
	uint64_t	 h = hash_str(HASH_FNV_OFFSET, key);

	TAILQ_FOREACH(st, &w->states, entry)
		if (st->kind == kind && st->hash == h &&
		    strcmp(st->key, key) == 0)
			return st;
	return NULL;
}

/* The state of key, made (or moved last) to be set. */
static struct cw_state *
cw_put(struct client_watch *w, enum cw_kind kind, const char *key)
{
	struct cw_state	*st;

	st = cw_find(w, kind, key);
	if (st != NULL) {
		TAILQ_REMOVE(&w->states, st, entry);
		TAILQ_INSERT_TAIL(&w->states, st, entry);
		free(st->why);
		st->why = NULL;
		return st;
	}
	if (w->nstates >= CLIENT_WATCH_MAX_PENDING)
		cw_state_free(w, TAILQ_FIRST(&w->states));
	st = xcalloc(1, sizeof *st);
	st->kind = kind;
	st->key = xstrdup(key);
	st->hash = hash_str(HASH_FNV_OFFSET, key);
	TAILQ_INSERT_TAIL(&w->states, st, entry);
	w->nstates++;
	return st;
}

static void
cw_drop(struct client_watch *w, enum cw_kind kind, const char *key)
{
	struct cw_state	*st = cw_find(w, kind, key);

	if (st != NULL)
		cw_state_free(w, st);
}

struct client_watch *
client_watch_new(void)
{
	struct client_watch	*w = xcalloc(1, sizeof *w);

	TAILQ_INIT(&w->states);
	w->findings = json_array();
	if (w->findings == NULL)
		abort();
	return w;
}

void
client_watch_free(struct client_watch *w)
{
	if (w == NULL)
		return;
	while (!TAILQ_EMPTY(&w->states))
		cw_state_free(w, TAILQ_FIRST(&w->states));
	json_decref(w->findings);
	free(w);
}

/* The URL without its query or fragment. */
static void
cw_path(struct buf *b, const char *url)
{
	buf_add(b, url, strcspn(url, "?#"));
}

/* Keys: the client, then the method (a wait) and the URL or its path. */
static void
cw_key(struct buf *b, const struct client_event *ev, enum cw_kind kind)
{
	buf_reset(b);
	buf_adds(b, ev->client != NULL ? ev->client : "-");
	buf_add(b, "\n", 1);
	if (kind == CW_WAIT) {
		buf_adds(b, ev->method);
		buf_add(b, "\n", 1);
		buf_adds(b, ev->url);
	} else
		cw_path(b, ev->url);
}

/* Keep a finding for the report. */
static void
cw_finding(struct client_watch *w, const struct client_event *ev,
    const struct diagnosis *d)
{
	json_t	*o;

	w->total++;
	if (json_array_size(w->findings) >= CLIENT_WATCH_MAX_FINDINGS)
		return;
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}",
	    "code", d->code, "severity", diag_severity_name(d->severity),
	    "client", ev->client != NULL ? ev->client : "-",
	    "connection", (json_int_t)ev->conn_id, "method", ev->method,
	    "url", ev->url, "message", d->message);
	if (o != NULL)
		json_array_append_new(w->findings, o);
}

/* Seconds for a message: "0.3 s", "2 s". */
static void
cw_secs(char *out, size_t n, double s)
{
	if (s < 0)
		s = 0;
	if (s < 10 && s != (double)(long)s)
		snprintf(out, n, "%.1f s", s);
	else
		snprintf(out, n, "%.0f s", s);
}

/* An answer that leaves the client unsure whether the request applied. */
static int
cw_ambiguous(const struct client_event *ev)
{
	return !ev->complete || ev->status == 0 || ev->status == 500 ||
	    ev->status == 502 || ev->status == 504;
}

static int
cw_is(const char *method, const char *want)
{
	return method != NULL && strcmp(method, want) == 0;
}

/* client.retry.early: before the Retry-After it was given. */
static size_t
cw_check_wait(struct client_watch *w, const struct client_event *ev,
    const char *key, struct diag_list *out)
{
	struct cw_state	*st = cw_find(w, CW_WAIT, key);
	char		 after[32], wait[32];
	size_t		 n = out->n;

	if (st == NULL)
		return 0;
	/* Sent before that answer was over: not a retry of it. */
	if (ev->start + CLIENT_WATCH_SLACK < st->told)
		return 0;
	if (ev->start + CLIENT_WATCH_SLACK >= st->told + st->wait)
		return 0;
	cw_secs(after, sizeof after, ev->start - st->told);
	cw_secs(wait, sizeof wait, st->wait);
	diag_list_add(out, "client.retry.early", "", NULL,
	    "%s was sent again %s after a %d answer that asked the client to "
	    "wait %s (Retry-After); wait at least that long before retrying",
	    ev->method, after, st->status, wait);
	return out->n - n;
}

/* client.retry.unsafe: a PATCH again while the last one is in doubt. */
static size_t
cw_check_doubt(struct client_watch *w, const struct client_event *ev,
    const char *key, struct diag_list *out)
{
	struct cw_state	*st;
	size_t		 n = out->n;

	if (!cw_is(ev->method, "PATCH"))
		return 0;
	st = cw_find(w, CW_DOUBT, key);
	if (st == NULL)
		return 0;
	diag_list_add(out, "client.retry.unsafe", "", NULL,
	    "PATCH was sent again after the last PATCH of this URL failed "
	    "ambiguously (%s), with no GET of it in between: the first may "
	    "already have been applied; GET the profile to see, then decide "
	    "whether to send it again", st->why != NULL ? st->why : "?");
	return out->n - n;
}

/* Remember what ev's answer tells about later requests. */
static void
cw_learn(struct client_watch *w, const struct client_event *ev,
    struct buf *key)
{
	struct cw_state	*st;
	char		 why[64];

	cw_key(key, ev, CW_WAIT);
	if ((ev->status == 429 || ev->status == 503) && ev->complete &&
	    ev->retry_after >= 0) {
		st = cw_put(w, CW_WAIT, buf_str(key));
		st->told = ev->end;
		st->wait = ev->retry_after;
		st->status = ev->status;
	} else
		cw_drop(w, CW_WAIT, buf_str(key));

	cw_key(key, ev, CW_DOUBT);
	if (cw_is(ev->method, "PATCH")) {
		if (cw_ambiguous(ev)) {
			st = cw_put(w, CW_DOUBT, buf_str(key));
			if (ev->lost != NULL)
				st->why = xstrdup(ev->lost);
			else {
				snprintf(why, sizeof why, "a %d answer",
				    ev->status);
				st->why = xstrdup(why);
			}
		} else
			cw_drop(w, CW_DOUBT, buf_str(key));
	} else if ((cw_is(ev->method, "GET") || cw_is(ev->method, "HEAD")) &&
	    ev->complete && ev->status >= 200 && ev->status < 500)
		/* The client looked: whatever it learned, it knows. */
		cw_drop(w, CW_DOUBT, buf_str(key));
}

int
client_watch_needs(const struct client_watch *w, const struct client_event *ev)
{
	if (w->nstates > 0)
		return 1;
	return cw_ambiguous(ev) || ev->status == 429 || ev->status == 503;
}

size_t
client_watch_exchange(struct client_watch *w, const struct client_event *ev,
    struct diag_list *out)
{
	struct buf	key;
	size_t		n = 0, i;

	if (ev->method == NULL || ev->url == NULL)
		return 0;
	memset(&key, 0, sizeof key);
	cw_key(&key, ev, CW_WAIT);
	n += cw_check_wait(w, ev, buf_str(&key), out);
	cw_key(&key, ev, CW_DOUBT);
	n += cw_check_doubt(w, ev, buf_str(&key), out);
	for (i = out->n - n; i < out->n; i++)
		cw_finding(w, ev, &out->v[i]);
	cw_learn(w, ev, &key);
	buf_free(&key);
	return n;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
cw_days(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"; -1 when it is not one. */
static int64_t
cw_http_date(const char *s)
{
	static const char	months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char			mon[4];
	int			d, y, hh, mm, ss, n = 0, m;
	const char		*p;

	if (strlen(s) != 29 || s[3] != ',' ||
	    sscanf(s + 4, " %2d %3s %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &hh,
	    &mm, &ss, &n) != 6 || n != 25)
		return -1;
	p = strstr(months, mon);
	if (p == NULL || strlen(mon) != 3 || (p - months) % 3 != 0)
		return -1;
	m = (int)(p - months) / 3 + 1;
	if (d < 1 || d > 31 || y < 1970 || hh > 23 || mm > 59 || ss > 60 ||
	    hh < 0 || mm < 0 || ss < 0)
		return -1;
	return cw_days(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

double
client_watch_retry_after(const char *value, time_t now)
{
	const char	*s = value;
	double		 v = 0;
	int64_t		 t;

	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (isdigit((unsigned char)*s)) {
		for (; isdigit((unsigned char)*s); s++)
			if (v < 1e9)
				v = v * 10 + (*s - '0');
		while (*s == ' ' || *s == '\t')
			s++;
		return *s == '\0' ? v : -1;
	}
	t = cw_http_date(s);
	if (t < 0)
		return -1;
	return t > (int64_t)now ? (double)(t - (int64_t)now) : 0;
}

size_t
client_watch_count(const struct client_watch *w)
{
	return w->total;
}

json_t *
client_watch_report(const struct client_watch *w)
{
	json_t	*o;

	o = json_pack("{s:I, s:O}", "total", (json_int_t)w->total,
	    "findings", w->findings);
	if (o == NULL)
		abort();
	return o;
}
