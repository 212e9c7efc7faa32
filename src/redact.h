/*
 * redact: secrets out of an exchange before it is written or logged.
 * Pure: strings and jansson values in, the same out; no I/O.
 *
 * A secret value is replaced in place by its marker, "redacted:" and the
 * first 12 hex digits of the SHA-256 of the value: the same value always
 * gives the same marker, so replay can tell two credentials apart (and a
 * live request redacted the same way matches its recording) while neither
 * is stored. A value that already is a marker is left as it is.
 */
#ifndef PATCHSCOPE_REDACT_H
#define PATCHSCOPE_REDACT_H

#include <stddef.h>

struct buf;
struct exchange;
struct http_headers;
struct json_t;

#define REDACT_PREFIX		"redacted:"
#define REDACT_MARKER_LEN	(sizeof REDACT_PREFIX - 1 + 12)

/* What to redact beyond the built-in lists (see redact.c). */
struct redactor;

/* Return a redactor with the built-in lists only; free with redact_free. */
struct redactor *redact_new(void);
void	redact_free(struct redactor *);
/* Add a header name, query parameter name or JSON key (case-insensitive,
 * compared whole) to redact. */
void	redact_add_header(struct redactor *, const char *name);
void	redact_add_query(struct redactor *, const char *name);
void	redact_add_json_key(struct redactor *, const char *name);
/* Turn redaction off (--no-redact): every redact_* call changes nothing. */
void	redact_disable(struct redactor *);
int	redact_disabled(const struct redactor *);

/* Write the marker of len bytes of value into out (REDACT_MARKER_LEN + 1). */
void	redact_marker(const char *value, size_t len, char *out);
/* Return nonzero when s (len bytes) is a marker. */
int	redact_is_marker(const char *s, size_t len);

/* Return nonzero when a header of this name has its value redacted. */
int	redact_header_name(const struct redactor *, const char *name);
/* Return nonzero when a query parameter (or form field) of this name is
 * redacted. */
int	redact_query_name(const struct redactor *, const char *name,
	    size_t len);
/* Return nonzero when a JSON member of this key has its value redacted. */
int	redact_json_key(const struct redactor *, const char *key);

/*
 * Redact a header list in place: secret headers' values become markers;
 * Cookie keeps each cookie's name and marks its value; Set-Cookie keeps
 * the name and attributes and marks the value.
 */
void	redact_headers(const struct redactor *, struct http_headers *);
/*
 * Redact the query of a URL or target ("...?a=1&token=x"): the value of each
 * secret parameter becomes its marker (computed on the percent-decoded
 * value). Return a new string the caller frees.
 */
char	*redact_url(const struct redactor *, const char *url);
/*
 * Redact a JSON value in place: the value of every secret key at any depth
 * (a string, number or boolean becomes the marker of its text; in an object
 * or array under a secret key every such scalar is marked), and the values
 * of webhook action headers ("actions"[i]."headers") whose names are secret
 * headers or look like secrets.
 */
void	redact_json(const struct redactor *, struct json_t *);
/*
 * Redact a body of len bytes given its Content-Type: JSON is parsed,
 * redacted and written back compactly only when something changed; an
 * application/x-www-form-urlencoded body is redacted like a query. Return
 * 1 with the new body in out, or 0 when the body is unchanged (out alone).
 */
int	redact_body(const struct redactor *, const char *content_type,
	    const char *body, size_t len, struct buf *out);
/*
 * Redact a whole exchange in place: the URL, both header lists, both
 * bodies, and every string in the diagnoses that contains one of the
 * secret values found, so no secret survives anywhere in it.
 */
void	redact_exchange(const struct redactor *, struct exchange *);
/*
 * Redact only the request side of an exchange (URL, request headers and
 * body, diagnoses), as replay matches it; the response is left as it is.
 */
void	redact_request(const struct redactor *, struct exchange *);
/*
 * The request headers h of a request with this url and no body, redacted
 * as redact_request would redact them, when it would leave the url as it
 * is (nothing in it to redact, no secret of the headers in it). Return
 * them (h itself when redaction is off, else the last few lists are
 * remembered: valid until the next call), or NULL when the shortcut does
 * not apply: redact the whole request then.
 */
const struct http_headers *redact_request_nobody(const struct redactor *,
	    const char *url, const struct http_headers *h);

/*
 * A set of secret values to replace wherever else they occur, for callers
 * that find secrets themselves (sanitize): values are copied in, and
 * wiped when the set is freed.
 */
struct redact_set;

/* Return an empty set; free with redact_set_free. */
struct redact_set *redact_set_new(void);
/* Wipe and free a set (NULL is fine). */
void	redact_set_free(struct redact_set *);
/*
 * Add a copy of len bytes of s; values shorter than 4 bytes (too likely
 * to occur by chance) and markers are not kept.
 */
void	redact_set_add(struct redact_set *, const char *s, size_t len);
/* Return the number of values kept (duplicates counted once indexed). */
size_t	redact_set_count(const struct redact_set *);
/*
 * Append to out the len bytes of s with each value of the set replaced by
 * its marker (the longest where several start at one place; markers
 * already there are stepped over whole). Return 1 when a value occurred
 * (out written), else 0 (out untouched).
 */
int	redact_set_scrub(struct redact_set *, const char *s, size_t len,
	    struct buf *out);

#endif
