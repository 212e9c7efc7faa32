/*
 * fuzz_cassette: the HAR cassette loader (cassette_parse and
 * cassette_entry_decode) on any bytes, and the writer on what it loads.
 *
 * Input: a cassette document. Checked, for every entry the loader accepts:
 * its encoding decodes again and encodes to the same JSON (a round trip of
 * a decoded exchange never fails); the entries written into a new cassette
 * load back the same; and an entry appended at the place the loader
 * reports (as `record` does to an existing file) gives a document that
 * loads with one entry more.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct ctx {
	json_t		*entries;	/* encoded entries, in order */
	struct buf	 text;		/* their text, for a new file */
	size_t		 n;
};

static void
dump_both(const char *what, const json_t *a, const json_t *b)
{
	char	*sa = json_dumps(a, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	char	*sb = json_dumps(b, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

	fprintf(stderr, "fuzz_cassette: %s\n--- first\n%s\n--- second\n%s\n",
	    what, sa ? sa : "(null)", sb ? sb : "(null)");
	free(sa);
	free(sb);
}

/* Encode, decode and encode again; abort unless both encodings agree. */
static json_t *
round_trip(const struct exchange *x, size_t index)
{
	struct exchange	 y;
	json_t		*e1, *e2;
	char		*cause = NULL;

	e1 = cassette_entry_encode(x);
	if (e1 == NULL) {
		fprintf(stderr, "fuzz_cassette: entry %zu does not encode\n",
		    index);
		abort();
	}
	exchange_init(&y);
	if (cassette_entry_decode(e1, &y, &cause) != 0) {
		dump_both(cause, e1, NULL);
		fprintf(stderr, "fuzz_cassette: entry %zu: its own encoding "
		    "does not decode: %s\n", index, cause);
		abort();
	}
	e2 = cassette_entry_encode(&y);
	if (!json_equal(e1, e2)) {
		dump_both("decoding and encoding again changed the entry", e1,
		    e2);
		abort();
	}
	json_decref(e2);
	exchange_free(&y);
	return e1;
}

static int
entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct ctx	*c = arg;
	json_t		*e;

	(void)cause;
	if (index != c->n) {
		fprintf(stderr, "fuzz_cassette: entry %zu came as %zu\n", c->n,
		    index);
		abort();
	}
	e = round_trip(x, index);
	cassette_entry_text(e, index == 0, &c->text);
	json_array_append_new(c->entries, e);
	c->n++;
	exchange_free(x);
	return 0;
}

/* The second load: each entry must be what was written. */
static int
again_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct ctx	*first = arg;
	json_t		*e;

	(void)cause;
	e = cassette_entry_encode(x);
	if (index < json_array_size(first->entries) &&
	    !json_equal(e, json_array_get(first->entries, index))) {
		dump_both("an entry written to a cassette loads differently",
		    json_array_get(first->entries, index), e);
		abort();
	}
	json_decref(e);
	exchange_free(x);
	return 0;
}

static int
skip_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	(void)index;
	(void)arg;
	(void)cause;
	exchange_free(x);
	return 0;
}

static size_t
load(const char *what, const char *text, size_t len, void *arg,
    int (*fn)(struct exchange *, size_t, void *, char **))
{
	struct cassette_layout	 layout;
	char			*cause = NULL;

	if (cassette_parse(text, len, fn, arg, &layout, &cause) != 0) {
		fprintf(stderr, "fuzz_cassette: %s does not load: %s\n--- "
		    "text\n%.*s\n", what, cause, (int)len, text);
		abort();
	}
	return layout.nentries;
}

/* One small exchange to append. */
static json_t *
extra_entry(void)
{
	struct exchange	 x;
	json_t		*e;

	exchange_init(&x);
	x.started = xstrdup("2026-01-01T00:00:00.000Z");
	x.method = xstrdup("GET");
	x.url = xstrdup("http://127.0.0.1:9/v1/profiles/p1");
	x.http_version = xstrdup("HTTP/1.1");
	x.status = 204;
	x.reason = xstrdup("No Content");
	e = cassette_entry_encode(&x);
	exchange_free(&x);
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static json_t		*extra;
	struct ctx		 c;
	struct cassette_layout	 layout;
	struct buf		 doc = { NULL, 0, 0 }, add = { NULL, 0, 0 };
	struct buf		 appended = { NULL, 0, 0 };
	char			*cause = NULL;
	size_t			 n, i, k, entry_len, closing_len;

	if (extra == NULL)
		extra = extra_entry();
	memset(&c, 0, sizeof c);
	c.entries = json_array();
	if (cassette_parse((const char *)data, len, entry_cb, &c, &layout,
	    &cause) != 0) {
		free(cause);
		goto out;
	}
	if (layout.nentries != c.n || layout.insert_at > len) {
		fprintf(stderr, "fuzz_cassette: layout says %zu entries at "
		    "%zu; %zu were seen in %zu bytes\n", layout.nentries,
		    layout.insert_at, c.n, len);
		abort();
	}

	/* The entries in a new cassette load back the same. */
	cassette_empty(&doc, "fuzz", &layout);
	buf_add(&add, doc.data, layout.insert_at);
	buf_add(&add, c.text.data != NULL ? c.text.data : "", c.text.len);
	buf_add(&add, doc.data + layout.insert_at, doc.len - layout.insert_at);
	n = load("a new cassette of its entries", add.data, add.len, &c,
	    again_cb);
	if (n != c.n) {
		fprintf(stderr, "fuzz_cassette: %zu entries written, %zu "
		    "loaded\n", c.n, n);
		abort();
	}

	/* Appending where the loader says, as record does. */
	if (cassette_parse((const char *)data, len, skip_cb, NULL, &layout,
	    &cause) != 0) {
		fprintf(stderr, "fuzz_cassette: the second load failed: %s\n",
		    cause);
		abort();
	}
	/* Laid out again (members after the entries before them), and a
	 * cut one closed: as the recorder's first write does. */
	for (i = 0; i < CASSETTE_PREFIX_SPANS; i++)
		buf_add(&appended, data + layout.prefix[i].off,
		    layout.prefix[i].len);
	k = appended.len;
	cassette_entry_text(extra, layout.nentries == 0, &appended);
	entry_len = appended.len - k;
	k = appended.len;
	if (layout.cut)
		cassette_closing(&appended);
	closing_len = appended.len - k;
	for (i = 0; i < CASSETTE_TAIL_SPANS; i++)
		buf_add(&appended, data + layout.tail[i].off,
		    layout.tail[i].len);
	/* Every byte kept, unless it was after a cut. */
	k = appended.len - entry_len;
	if (layout.cut ? k != layout.insert_at + closing_len : k != len) {
		fprintf(stderr, "fuzz_cassette: %zu bytes laid out of %zu\n",
		    k, len);
		abort();
	}
	n = load("the cassette with one entry appended", appended.data,
	    appended.len, &c, again_cb);
	if (n != c.n + 1) {
		fprintf(stderr, "fuzz_cassette: %zu entries after appending "
		    "to %zu\n", n, c.n);
		abort();
	}
out:
	json_decref(c.entries);
	buf_free(&c.text);
	buf_free(&doc);
	buf_free(&add);
	buf_free(&appended);
	return 0;
}
