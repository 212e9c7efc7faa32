/*
 * fuzz_sanitize: sanitize_har (what `patchscope sanitize` runs) on any
 * bytes, with a redactor that has names of its own besides the built-in
 * lists.
 *
 * Input: a HAR document. Checked, when it is accepted: the output is JSON
 * with the input's shape (sanitize_splice kept every other byte where it
 * was), and sanitizing it again changes nothing and finds nothing
 * (idempotence, the promise --check relies on). When it is refused, a
 * cause is given and nothing is output.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "redact.h"
#include "sanitize.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct redactor	*redactor;

static void
fail(const char *what, const struct buf *a, const struct buf *b)
{
	fprintf(stderr, "fuzz_sanitize: %s\n--- first\n%s\n--- second\n%s\n",
	    what, buf_str(a), buf_str(b));
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sanitize_report	 rep, rep2;
	struct buf		 out = { NULL, 0, 0 }, again = { NULL, 0, 0 };
	struct buf		 line = { NULL, 0, 0 }, in = { NULL, 0, 0 };
	json_error_t		 err;
	json_t			*doc;
	char			*cause = NULL;
	size_t			 skip;

	if (redactor == NULL) {
		redactor = redact_new();
		redact_add_header(redactor, "X-Fuzz");
		redact_add_query(redactor, "q");
		redact_add_json_key(redactor, "k");
	}
	buf_add(&in, data, len);
	if (sanitize_har(redactor, (const char *)data, len, &out, &rep,
	    &cause) != 0) {
		if (cause == NULL || out.len != 0)
			fail("refused without a cause, or with output", &in,
			    &out);
		free(cause);
		goto done;
	}
	sanitize_report_text(&rep, "redacted", &line);
	/* A UTF-8 byte order mark of the input is kept; JSON follows it. */
	skip = out.len >= 3 && memcmp(buf_str(&out), "\xef\xbb\xbf", 3) == 0 ?
	    3 : 0;
	doc = json_loadb(buf_str(&out) + skip, out.len - skip,
	    JSON_REJECT_DUPLICATES, &err);
	if (doc == NULL)
		fail("the output is not JSON", &in, &out);
	json_decref(doc);
	if (sanitize_har(redactor, buf_str(&out), out.len, &again, &rep2,
	    &cause) != 0) {
		fprintf(stderr, "fuzz_sanitize: %s\n", cause);
		fail("the output is refused", &out, &again);
	}
	if (again.len != out.len || memcmp(buf_str(&again), buf_str(&out),
	    out.len) != 0 || sanitize_report_total(&rep2) != 0)
		fail("sanitizing twice changed something", &out, &again);
	sanitize_report_free(&rep2);
done:
	sanitize_report_free(&rep);
	buf_free(&out);
	buf_free(&again);
	buf_free(&line);
	buf_free(&in);
	return 0;
}
