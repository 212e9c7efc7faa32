/*
 * redact_local: what the three files of the redact module share, and
 * nothing else includes. redact.c is the redactor, the secret names and
 * markers; redact_walk.c finds secrets where they sit and replaces them;
 * redact_scrub.c replaces them wherever else they occur and redacts whole
 * exchanges. Callers use redact.h.
 */
#ifndef PATCHSCOPE_REDACT_LOCAL_H
#define PATCHSCOPE_REDACT_LOCAL_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct http_headers;
struct json_t;
struct redact_secrets;
struct redactor;

/* JSON containers nested deeper than this are not looked into. */
#define REDACT_MAX_DEPTH	64

/* One pass of redaction: what it counts and what it collects. */
struct redact_walk {
	const struct redactor	*r;
	struct redact_secrets	*found;		/* NULL: collect nothing */
	int			 changed;	/* values replaced */
};

/* redact.c */

/* Return the redactor's serial number: new with every change to it. */
uint64_t redact_serial(const struct redactor *);

/* redact_walk.c */

/*
 * Write url with its query redacted into out (the whole URL either way).
 * Return nonzero when it changed.
 */
int	redact_walk_url(struct redact_walk *, const char *url,
	    struct buf *out);
/* Redact each header of h in place. */
void	redact_walk_headers(struct redact_walk *, struct http_headers *h);
/*
 * Redact a body of len bytes given its Content-Type (ct, NULL when none).
 * JSON that parses comes back in *doc (the caller's), redacted in place;
 * any other new text is appended to out. Return nonzero when something
 * changed.
 */
int	redact_walk_body(struct redact_walk *, const char *ct,
	    const char *body, size_t len, struct json_t **doc,
	    struct buf *out);
/*
 * Append doc to out, compact and in its order; should jansson fail,
 * append nothing (an empty body leaks no secret).
 */
void	redact_walk_dump(struct json_t *doc, struct buf *out);

/* redact_scrub.c */

/*
 * Note a value the walk replaced, for the scrub: a copy goes into
 * w->found, unless that is NULL, the value is too short to scrub or it
 * already is a marker.
 */
void	redact_scrub_note(struct redact_walk *w, const char *s, size_t len);

#endif
