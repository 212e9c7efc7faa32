/*
 * sanitize: patchscope's redaction applied to a HAR file that any tool
 * wrote (browser devtools, other proxies, patchscope itself). Pure: bytes
 * in, bytes out and a count of what was redacted, by place; no I/O.
 *
 * The output is the input with only the redacted values changed: every
 * other byte (spacing, key order, numbers as written, fields of other
 * tools) stays as it was. See sanitize.c for the places looked at.
 */
#ifndef PATCHSCOPE_SANITIZE_H
#define PATCHSCOPE_SANITIZE_H

#include <stddef.h>

#include "buf.h"

struct redactor;

/* Where a redacted value sat, as the summary groups them. */
enum sanitize_place {
	SANITIZE_REQUEST_HEADER,	/* request.headers, by header name */
	SANITIZE_RESPONSE_HEADER,	/* response.headers, by header name */
	SANITIZE_COOKIE,		/* request/response.cookies, by name */
	SANITIZE_QUERY,			/* URLs and queryString, by parameter */
	SANITIZE_FORM,			/* postData.params and form bodies */
	SANITIZE_JSON,			/* JSON bodies, by key */
	SANITIZE_OTHER,			/* a found value copied elsewhere */
	SANITIZE_NPLACES
};

/* Names kept per place; more are counted as "others". */
#define SANITIZE_MAX_NAMES	16

/* The redacted values of one place, by name (first spelling kept). */
struct sanitize_tally {
	struct sanitize_name {
		char	*name;
		size_t	 count;
	}		 v[SANITIZE_MAX_NAMES];
	size_t		 n;		/* names in v */
	size_t		 total;		/* values, named or not */
};

/* What a run redacted. */
struct sanitize_report {
	struct sanitize_tally	 places[SANITIZE_NPLACES];
	size_t			 entries;	/* in log.entries */
	size_t			 entries_changed;
	size_t			 passes;	/* until nothing changed */
};

/* The most input sanitize_har takes (it holds the file parsed twice). */
#define SANITIZE_MAX_INPUT	((size_t)256 << 20)

/*
 * Redact the HAR document text (len bytes) with r: the redacted document
 * goes into out (the input's bytes when nothing was redacted), what was
 * redacted into rep (zeroed first; free with sanitize_report_free).
 * Return 0, or -1 with *cause set to a one-line message the caller frees
 * (not JSON, not a HAR, an entry of the wrong shape: "entry 3:
 * request.headers[2].value is not a string"); out is then empty.
 */
int	sanitize_har(const struct redactor *r, const char *text, size_t len,
	    struct buf *out, struct sanitize_report *rep, char **cause);
/* Return the number of values rep says were redacted. */
size_t	sanitize_report_total(const struct sanitize_report *);
/*
 * Append the one-line summary of rep to out, without a newline: verb
 * ("redacted") then "3 request headers (Authorization x2, Cookie) and 1
 * query parameter (api_key), in 2 of 5 entries", or "nothing to redact in
 * 5 entries". Names are printed escaped; values never are.
 */
void	sanitize_report_text(const struct sanitize_report *, const char *verb,
	    struct buf *out);
/* Free what a report holds; it is zeroed. */
void	sanitize_report_free(struct sanitize_report *);

#endif
