/*
 * diagnose: the rules engine. A pure function from a PATCH body of the
 * profile API (plus its query, what is known of the profile, and the rules)
 * to a list of diagnoses. No sockets, no printing, no global state.
 * Every code is documented in docs/diagnoses.md (its anchor is the code).
 */
#ifndef PATCHSCOPE_DIAGNOSE_H
#define PATCHSCOPE_DIAGNOSE_H

#include <stddef.h>

struct buf;
struct rules;
struct snapshot;
struct json_t;

/* Most diagnoses kept per body; past it one info "diagnoses.truncated". */
#define DIAG_MAX	200
/* Deepest nesting of arrays and objects a body (or webhook template) may
 * have; deeper is json.syntax (action.webhook.body), and is not parsed. */
#define DIAG_MAX_DEPTH	64

enum diag_severity {
	DIAG_ERROR,	/* the API will reject it, or data will be lost */
	DIAG_WARNING,	/* probably wrong */
	DIAG_INFO	/* advice */
};

struct diagnosis {
	enum diag_severity	 severity;
	char			*code;		/* "action.anchor.unknown" */
	char			*path;		/* JSON Pointer, "" = whole
						   body, or "query:fields" */
	char			*message;	/* one sentence for a person,
						   valid UTF-8, no newline */
	char			*suggestion;	/* NULL, or the value meant:
						   "BOOKING_CANCELLED" */
};

struct diag_list {
	struct diagnosis	*v;
	size_t			 n;
	size_t			 cap;
};

/*
 * Diagnose a PATCH body of len bytes. fields is the decoded value of the
 * request's "fields" query parameter (NULL when absent), snap what is known
 * of the profile (NULL when nothing is), rules the known values. Appends to
 * out, the new entries ordered by path (pointers segment by segment, array
 * indices numerically; "" first, "query:..." last), then code; at most
 * DIAG_MAX of them (the first found, top-level ones first, then action by
 * action), then, if more were found, one "diagnoses.truncated" info with
 * the empty path that says how many were left out. Never fails: a body
 * that is not JSON is itself a diagnosis (json.syntax). Time is linear in
 * len; recursion is bounded by DIAG_MAX_DEPTH.
 */
void	diagnose_patch(const char *body, size_t len, const char *fields,
	    const struct snapshot *snap, const struct rules *rules,
	    struct diag_list *out);
/*
 * Append a diagnosis of code (one of diag_code()'s, with its severity) at
 * path, with suggestion (may be NULL) and a message made from fmt (made
 * one line). For checks outside diagnose_patch(), such as the client's
 * reaction to a failure. Return -1, appending nothing, for an unknown code.
 */
int	diag_list_add(struct diag_list *, const char *code, const char *path,
	    const char *suggestion, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Free every diagnosis; the list is empty and reusable afterwards. */
void	diag_list_free(struct diag_list *);
/* Return nonzero when the list holds an error-level diagnosis. */
int	diag_list_has_errors(const struct diag_list *);
/* Return "error", "warning" or "info". */
const char *diag_severity_name(enum diag_severity);
/*
 * Append the compiler-style line for d (no newline):
 * error[action.anchor.unknown] /actions/3/anchor: "BOOKING_CANCELED" is not
 * a known anchor; did you mean "BOOKING_CANCELLED"?
 * With the empty path: error[json.syntax]: invalid JSON at line 1, ...
 */
void	diag_format(const struct diagnosis *, struct buf *);
/*
 * Return a new JSON object {"source": "patchscope", "severity", "code",
 * "path", "message", "suggestion"?} (caller owns the reference).
 */
struct json_t *diag_to_json(const struct diagnosis *);
/*
 * Format the JSON form of a diagnosis (as diag_to_json makes, or as read
 * from a cassette) like diag_format. Return -1 and append nothing when it
 * lacks a code or a message.
 */
int	diag_format_json(const struct json_t *, struct buf *);
/* Return the severity the JSON form names (unknown: DIAG_INFO). */
enum diag_severity diag_severity_json(const struct json_t *);
/*
 * The i-th code patchscope can report (diagnose_patch()'s and the others),
 * with its severity (for docs and tests); NULL past the last.
 */
const char *diag_code(size_t i, enum diag_severity *severity);

#endif
