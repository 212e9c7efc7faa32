/*
 * redact_scrub: the secret values a walk replaced, replaced again wherever
 * else they occur; and the redaction of whole exchanges.
 *
 * redact_exchange walks the URL, both header lists and both bodies
 * (redact_walk.c), noting each secret value it replaced, then scrubs the
 * exchange: each occurrence of one of them in the URL, the reason, the
 * error, a header value, a body (the strings of a parsed JSON body, else
 * its text) or a string of the diagnoses becomes the value's marker. The
 * longest secret wins where several start at one place; markers already
 * there are stepped over whole and never cut.
 *
 * A pass owns copies of the secrets it found and frees them at its end. A
 * body is held between the walk and the scrub (struct redact_pending) and
 * put back once.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "exchange.h"
#include "http.h"
#include "redact.h"
#include "redact_local.h"
#include "xmalloc.h"

/* Secret values shorter than this are not scrubbed from other places:
 * too likely to occur by chance. */
#define REDACT_SCRUB_MIN	4

/* Passes of redact_exchange at most (see there). */
#define REDACT_PASSES		4

/* Header lists whose redaction redact_request_nobody remembers. */
#define REDACT_HEAD_MEMO	4

/*
 * The secret values replaced so far, for the scrub. A body may hold many
 * (a list of API keys), so the scrub does not try each at each place:
 * redact_secrets_index chains them by a hash of their first
 * REDACT_SCRUB_MIN bytes, longest first.
 */
struct redact_secret {
	char	*s;
	size_t	 len;
	char	 marker[REDACT_MARKER_LEN + 1];
	size_t	 next;			/* in its chain; REDACT_NONE ends */
};

#define REDACT_NONE	((size_t)-1)

struct redact_secrets {
	struct redact_secret	*v;
	size_t			 n;
	size_t			 cap;
	size_t			*head;		/* chain heads, mask + 1 */
	size_t			 mask;
};

/* A body between redaction and scrub in redact_exchange. */
struct redact_pending {
	json_t		*doc;		/* the parsed JSON body, or NULL */
	struct buf	 text;		/* else the new text, when changed */
	int		 changed;
};

/* Note a replaced value for the scrub (short ones are not kept;
 * duplicates go at indexing). */
void
redact_scrub_note(struct redact_walk *w, const char *s, size_t len)
{
	struct redact_secrets	*f = w->found;

	if (f == NULL || len < REDACT_SCRUB_MIN || redact_is_marker(s, len))
		return;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = xreallocarray(f->v, f->cap, sizeof *f->v);
	}
	f->v[f->n].s = xstrndup(s, len);
	f->v[f->n].len = len;
	f->n++;
}

static int
redact_secret_cmp(const void *a, const void *b)
{
	const struct redact_secret	*x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

/* Hash the first REDACT_SCRUB_MIN (4) bytes of s. */
static size_t
redact_prefix_hash(const char *s)
{
	uint32_t	k;

	memcpy(&k, s, sizeof k);
	k ^= k >> 16;
	k *= 0x7feb352dU;
	k ^= k >> 15;
	k *= 0x846ca68bU;
	k ^= k >> 16;
	return k;
}

/* Drop duplicates, compute markers, and chain the secrets by prefix with
 * the longest first in each chain. */
static void
redact_secrets_index(struct redact_secrets *f)
{
	size_t	i, h, n = 0, size = 16;

	qsort(f->v, f->n, sizeof *f->v, redact_secret_cmp);
	for (i = 0; i < f->n; i++) {
		if (n > 0 && redact_secret_cmp(&f->v[n - 1], &f->v[i]) == 0)
			free(f->v[i].s);
		else
			f->v[n++] = f->v[i];
	}
	f->n = n;
	while (size < 2 * n)
		size *= 2;
	f->head = xreallocarray(NULL, size, sizeof *f->head);
	f->mask = size - 1;
	for (i = 0; i < size; i++)
		f->head[i] = REDACT_NONE;
	/* Shortest first, each put in front: chains run longest first. */
	for (i = 0; i < n; i++) {
		redact_marker(f->v[i].s, f->v[i].len, f->v[i].marker);
		h = redact_prefix_hash(f->v[i].s) & f->mask;
		f->v[i].next = f->head[h];
		f->head[h] = i;
	}
}

static void
redact_secrets_free(struct redact_secrets *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].s);
	free(f->v);
	free(f->head);
}

/* Append copies of the secrets of f to keep (only their text). */
static void
redact_secrets_keep(struct redact_secrets *keep,
    const struct redact_secrets *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		if (keep->n == keep->cap) {
			keep->cap = keep->cap ? keep->cap * 2 : 4;
			keep->v = xreallocarray(keep->v, keep->cap,
			    sizeof *keep->v);
		}
		keep->v[keep->n].s = xstrndup(f->v[i].s, f->v[i].len);
		keep->v[keep->n].len = f->v[i].len;
		keep->n++;
	}
}

/* Wipe and free what keep holds; it is empty afterwards. */
static void
redact_secrets_wipe(struct redact_secrets *keep)
{
	size_t	i;

	for (i = 0; i < keep->n; i++)
		explicit_bzero(keep->v[i].s, keep->v[i].len);
	redact_secrets_free(keep);
	memset(keep, 0, sizeof *keep);
}

/*
 * Return nonzero when a marker starts inside s[i + 1, i + n): a secret
 * matched there would cut the marker ("=red" in "=redacted:...").
 */
static int
redact_marker_inside(const char *s, size_t len, size_t i, size_t n)
{
	const char	*p, *end = s + i + n;

	for (p = s + i + 1; p < end; p++) {
		p = memchr(p, REDACT_PREFIX[0], (size_t)(end - p));
		if (p == NULL)
			return 0;
		if ((size_t)(s + len - p) >= REDACT_MARKER_LEN &&
		    redact_is_marker(p, REDACT_MARKER_LEN))
			return 1;
	}
	return 0;
}

/*
 * Copy len bytes of s into out with each found secret replaced by its
 * marker, the longest where several start at one place; markers already
 * there are stepped over whole. Return nonzero (out written) when some
 * secret occurred. Linear in len when prefixes differ.
 */
static int
redact_scrub(const struct redact_secrets *f, const char *s, size_t len,
    struct buf *out)
{
	const struct redact_secret	*e;
	size_t				 i = 0, j, copied = 0;
	int				 changed = 0;

	while (len - i >= REDACT_SCRUB_MIN) {
		if (s[i] == REDACT_PREFIX[0] && len - i >= REDACT_MARKER_LEN &&
		    redact_is_marker(s + i, REDACT_MARKER_LEN)) {
			i += REDACT_MARKER_LEN;
			continue;
		}
		e = NULL;
		for (j = f->head[redact_prefix_hash(s + i) & f->mask];
		    j != REDACT_NONE; j = f->v[j].next) {
			if (f->v[j].len <= len - i &&
			    memcmp(f->v[j].s, s + i, f->v[j].len) == 0 &&
			    !redact_marker_inside(s, len, i, f->v[j].len)) {
				e = &f->v[j];
				break;
			}
		}
		if (e == NULL) {
			i++;
			continue;
		}
		buf_add(out, s + copied, i - copied);
		buf_add(out, e->marker, REDACT_MARKER_LEN);
		i += e->len;
		copied = i;
		changed = 1;
	}
	if (changed)
		buf_add(out, s + copied, len - copied);
	return changed;
}

static void
redact_scrub_str(const struct redact_secrets *f, char **sp)
{
	struct buf	b = { NULL, 0, 0 };

	if (*sp != NULL && redact_scrub(f, *sp, strlen(*sp), &b)) {
		free(*sp);
		*sp = b.data;
	} else
		buf_free(&b);
}

/* Scrub every string of a JSON value (to REDACT_MAX_DEPTH); object keys
 * stay. Return nonzero when one changed. */
static int
redact_scrub_json(const struct redact_secrets *f, json_t *v, int depth)
{
	struct buf	 b = { NULL, 0, 0 };
	const char	*key;
	json_t		*e;
	size_t		 i;
	int		 changed = 0;

	if (json_is_string(v)) {
		changed = redact_scrub(f, json_string_value(v),
		    json_string_length(v), &b);
		if (changed)
			json_string_setn(v, b.data, b.len);
		buf_free(&b);
		return changed;
	}
	if (depth >= REDACT_MAX_DEPTH)
		return 0;
	json_object_foreach(v, key, e)
		changed |= redact_scrub_json(f, e, depth + 1);
	json_array_foreach(v, i, e)
		changed |= redact_scrub_json(f, e, depth + 1);
	return changed;
}

static void
redact_scrub_headers(const struct redact_secrets *f, struct http_headers *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		redact_scrub_str(f, &h->v[i].value);
}

/* Scrub a body: the parsed tree's strings, else its (new) text. */
static void
redact_scrub_body(const struct redact_secrets *f,
    const struct exchange_body *b, struct redact_pending *p)
{
	struct buf	 out = { NULL, 0, 0 };
	const char	*s = b->data;
	size_t		 len = b->len;

	if (p->doc != NULL) {
		p->changed |= redact_scrub_json(f, p->doc, 0);
		return;
	}
	if (p->changed) {
		s = p->text.data;
		len = p->text.len;
	}
	if (s != NULL && redact_scrub(f, s, len, &out)) {
		buf_free(&p->text);
		p->text = out;
		p->changed = 1;
	} else
		buf_free(&out);
}

/* Put a changed body back: a truncated one keeps its flag, and its whole
 * size moves by what its kept part grew or shrank. */
static void
redact_body_finish(struct exchange_body *b, struct redact_pending *p)
{
	struct buf	 out = { NULL, 0, 0 };
	uint64_t	 size = b->size;
	size_t		 old = b->len;
	int		 truncated = b->truncated;

	if (p->changed) {
		if (p->doc != NULL)
			redact_walk_dump(p->doc, &out);
		else
			buf_add(&out, p->text.data, p->text.len);
		exchange_body_set(b, out.data, out.len);
		if (truncated && size >= old) {
			b->truncated = 1;
			b->size = size - old + out.len;
		}
	}
	json_decref(p->doc);
	buf_free(&p->text);
	buf_free(&out);
}

/*
 * One pass over the exchange: redact every place, then scrub what was
 * found wherever else it occurs. Return nonzero when something was found.
 */
static int
redact_exchange_pass(const struct redactor *r, struct exchange *x,
    struct redact_secrets *keep)
{
	struct redact_secrets	 found = { NULL, 0, 0, NULL, 0 };
	struct redact_walk	 w = { r, &found, 0 };
	struct redact_pending	 req = { NULL, { NULL, 0, 0 }, 0 };
	struct redact_pending	 resp = { NULL, { NULL, 0, 0 }, 0 };
	struct buf		 b = { NULL, 0, 0 };
	int			 changed;

	if (x->url != NULL && redact_walk_url(&w, x->url, &b)) {
		free(x->url);
		x->url = b.data;
	} else
		buf_free(&b);
	redact_walk_headers(&w, &x->req_headers);
	redact_walk_headers(&w, &x->resp_headers);
	req.changed = redact_walk_body(&w,
	    http_headers_get(&x->req_headers, "Content-Type"),
	    x->req_body.data, x->req_body.len, &req.doc, &req.text);
	resp.changed = redact_walk_body(&w,
	    http_headers_get(&x->resp_headers, "Content-Type"),
	    x->resp_body.data, x->resp_body.len, &resp.doc, &resp.text);

	if (found.n > 0) {
		redact_secrets_index(&found);
		if (keep != NULL)
			redact_secrets_keep(keep, &found);
		redact_scrub_str(&found, &x->url);
		redact_scrub_str(&found, &x->reason);
		redact_scrub_str(&found, &x->error);
		redact_scrub_headers(&found, &x->req_headers);
		redact_scrub_headers(&found, &x->resp_headers);
		redact_scrub_body(&found, &x->req_body, &req);
		redact_scrub_body(&found, &x->resp_body, &resp);
		if (x->diagnoses != NULL)
			redact_scrub_json(&found, x->diagnoses, 0);
	}
	redact_body_finish(&x->req_body, &req);
	redact_body_finish(&x->resp_body, &resp);
	changed = found.n > 0;
	redact_secrets_free(&found);
	return changed;
}

/* Redact a whole exchange in place, then scrub what was found. */
void
redact_exchange(const struct redactor *r, struct exchange *x)
{
	int	pass;

	if (redact_disabled(r))
		return;
	/*
	 * Scrubbing a secret that holds "=" or ";" can give a header a new
	 * shape (another cookie value) that the next pass would redact:
	 * repeat until a pass finds nothing, so redacting twice changes
	 * nothing (a cassette is redacted again when it is loaded).
	 */
	for (pass = 0; pass < REDACT_PASSES; pass++)
		if (!redact_exchange_pass(r, x, NULL))
			break;
}

/* Redact the request side alone: the response is set aside meanwhile. */
void
redact_request(const struct redactor *r, struct exchange *x)
{
	struct http_headers	 rh = x->resp_headers;
	struct exchange_body	 rb = x->resp_body;

	memset(&x->resp_headers, 0, sizeof x->resp_headers);
	memset(&x->resp_body, 0, sizeof x->resp_body);
	redact_exchange(r, x);
	x->resp_headers = rh;
	x->resp_body = rb;
}

/*
 * The redaction of the last few request header lists, for
 * redact_request_nobody: a client sends the same headers with every
 * request. A slot keeps the headers as given, as redacted, and every
 * secret value that the passes over them found; its values are wiped when
 * it is reused. One thread only, as the whole program.
 */
static struct {
	uint64_t		 serial;	/* the redactor's; 0: empty */
	struct http_headers	 in;
	struct http_headers	 out;
	struct redact_secrets	 secrets;	/* text only, not indexed */
} head_memo[REDACT_HEAD_MEMO];
static size_t	head_memo_next;

/* Wipe the values of a header list (they may be credentials), free it. */
static void
redact_headers_wipe(struct http_headers *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		explicit_bzero(h->v[i].value, strlen(h->v[i].value));
	http_headers_clear(h);
}

/*
 * Return the slot that holds h redacted by r, filling the oldest slot
 * when none does: the passes of redact_exchange over an exchange of those
 * headers alone, the secrets of every pass kept.
 */
static size_t
redact_head_memo_get(const struct redactor *r, const struct http_headers *h)
{
	struct exchange	 x;
	size_t		 i, pass;

	for (i = 0; i < REDACT_HEAD_MEMO; i++)
		if (head_memo[i].serial == redact_serial(r) &&
		    http_headers_equal(&head_memo[i].in, h))
			return i;
	i = head_memo_next++ % REDACT_HEAD_MEMO;
	redact_headers_wipe(&head_memo[i].in);
	http_headers_clear(&head_memo[i].out);
	redact_secrets_wipe(&head_memo[i].secrets);
	exchange_init(&x);
	exchange_headers_copy(&x.req_headers, h);
	for (pass = 0; pass < REDACT_PASSES; pass++)
		if (!redact_exchange_pass(r, &x, &head_memo[i].secrets))
			break;
	head_memo[i].out = x.req_headers;
	memset(&x.req_headers, 0, sizeof x.req_headers);
	exchange_free(&x);
	exchange_headers_copy(&head_memo[i].in, h);
	head_memo[i].serial = redact_serial(r);
	return i;
}

/*
 * The headers of a request with no body, redacted as redact_request would
 * do it, when the URL stays as it is; else NULL.
 *
 * Why this is the same: redact_request on {url, h, no body} runs passes
 * that each walk the URL, the headers and the (empty) body, then scrub
 * the secrets the walk found from all of them. When the walk finds
 * nothing in the URL and no secret that the headers' passes find occurs
 * in it, each pass leaves the URL alone and finds exactly what the same
 * pass over the headers alone finds, so the headers come out the same,
 * after the same number of passes, as with no URL at all: the memo.
 */
const struct http_headers *
redact_request_nobody(const struct redactor *r, const char *url,
    const struct http_headers *h)
{
	struct redact_secrets	 found = { NULL, 0, 0, NULL, 0 };
	struct redact_walk	 w = { r, &found, 0 };
	struct buf		 b = { NULL, 0, 0 };
	size_t			 i, slot, len = strlen(url);
	int			 changed;

	if (redact_disabled(r))
		return h;
	changed = redact_walk_url(&w, url, &b);
	buf_free(&b);
	changed |= found.n > 0;
	redact_secrets_wipe(&found);
	if (changed)
		return NULL;
	slot = redact_head_memo_get(r, h);
	for (i = 0; i < head_memo[slot].secrets.n; i++)
		if (memmem(url, len, head_memo[slot].secrets.v[i].s,
		    head_memo[slot].secrets.v[i].len) != NULL)
			return NULL;
	return &head_memo[slot].out;
}

/*
 * A set of secrets for callers that find them themselves (sanitize): the
 * same chains and scrub as redact_exchange's, indexed again when values
 * were added since the last scrub.
 */
struct redact_set {
	struct redact_secrets	f;
	int			indexed;
};

/* Return an empty set. */
struct redact_set *
redact_set_new(void)
{
	return xcalloc(1, sizeof(struct redact_set));
}

/* Wipe and free a set. */
void
redact_set_free(struct redact_set *set)
{
	if (set == NULL)
		return;
	redact_secrets_wipe(&set->f);
	free(set);
}

/* Keep a copy of a secret value (not short ones, not markers). */
void
redact_set_add(struct redact_set *set, const char *s, size_t len)
{
	struct redact_secrets	*f = &set->f;

	if (len < REDACT_SCRUB_MIN || redact_is_marker(s, len))
		return;
	if (set->indexed) {
		free(f->head);
		f->head = NULL;
		set->indexed = 0;
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = xreallocarray(f->v, f->cap, sizeof *f->v);
	}
	f->v[f->n].s = xstrndup(s, len);
	f->v[f->n].len = len;
	f->n++;
}

/* Return how many values the set holds. */
size_t
redact_set_count(const struct redact_set *set)
{
	return set->f.n;
}

/* Replace each value of the set in s; 1 when one occurred. */
int
redact_set_scrub(struct redact_set *set, const char *s, size_t len,
    struct buf *out)
{
	if (set->f.n == 0)
		return 0;
	if (!set->indexed) {
		redact_secrets_index(&set->f);
		set->indexed = 1;
	}
	return redact_scrub(&set->f, s, len, out);
}
