/*
 * drift: the decisions of `patchscope drift`, which sends a cassette's
 * requests again to the live API and says how the answers have drifted.
 * Pure: exchanges, header lists and jansson values in, lists and text
 * out; no sockets, no printing (cmd_drift.c and drift_fetch.c are the
 * shell).
 *
 * drift.c decides which entries are sent and what they carry (which
 * methods, redaction markers, the headers of the live request) and
 * compares a live answer with the recorded one; drift_text.c writes the
 * changes for a terminal and as JSON; drift_doc.c finds each entry's
 * bytes in a cassette and writes the cassette again with some entries
 * replaced, the others kept byte for byte.
 */
#ifndef PATCHSCOPE_DRIFT_H
#define PATCHSCOPE_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"

struct cassette_span;
struct exchange;
struct json_t;
struct redactor;

/* How much a change matters (DESIGN.md's words). */
enum drift_severity {
	DRIFT_INFO,		/* a plain value changed (--values) */
	DRIFT_WARNING,		/* a key added, a new enum value */
	DRIFT_ERROR		/* status, a key removed, a type changed */
};

/* What changed. */
enum drift_kind {
	DRIFT_STATUS,		/* the status code */
	DRIFT_ADDED,		/* a key only in the live answer */
	DRIFT_REMOVED,		/* a key only in the recorded answer */
	DRIFT_TYPE,		/* another JSON type (or JSON no more) */
	DRIFT_ENUM,		/* a "type" or "anchor" value never recorded */
	DRIFT_VALUE		/* a plain value (--values) */
};

/* Compare plain values too (--values). */
#define DRIFT_VALUES	0x1

/* At most this many changes are kept per entry; the rest are counted. */
#define DRIFT_MAX_CHANGES	1000

struct drift_change {
	enum drift_severity	 severity;
	enum drift_kind		 kind;
	char			*path;		/* JSON Pointer ("" the root) */
	struct json_t		*recorded;	/* owned; NULL when absent */
	struct json_t		*live;		/* owned; NULL when absent */
};

struct drift_changes {
	struct drift_change	*v;
	size_t			 n;
	size_t			 cap;
	size_t			 dropped;	/* past DRIFT_MAX_CHANGES */
	int			 body_skipped;	/* a body could not be compared
						   (cut when recorded, coded
						   in an unknown way) */
};

/* What becomes of an entry. */
enum drift_plan {
	DRIFT_SEND,		/* sent again and compared */
	DRIFT_SKIP		/* left out, for the reason given */
};

/* A live answer as drift_fetch reads it off the wire. */
struct drift_answer {
	int			 status;
	char			*reason;
	struct http_headers	 headers;	/* as the origin sent them */
	struct buf		 body;		/* de-chunked, still coded */
	int			 truncated;	/* body holds the first part */
	uint64_t		 wire_bytes;	/* body bytes read */
	char			*server_ip;	/* NULL when unknown */
	char			*started;	/* ISO 8601 UTC, milliseconds */
	double			 send_ms;	/* until the request was out */
	double			 wait_ms;	/* then until its head */
	double			 receive_ms;	/* then until its end */
};

/* drift.c */

/* Return a severity's word: "error", "warning", "info". */
const char *drift_severity_name(enum drift_severity);
/* Return a kind's word: "status", "added", "removed", "type", ... */
const char *drift_kind_name(enum drift_kind);
/* Return the severity of a kind of change (the table in DESIGN.md). */
enum drift_severity drift_severity_of(enum drift_kind);
/* Return nonzero when the method only reads (GET and HEAD). */
int	drift_method_safe(const char *method);
/*
 * Return nonzero when len bytes of s hold a redaction marker ("redacted:"
 * and 12 hex digits), as written or percent-encoded ("redacted%3A...").
 */
int	drift_has_marker(const char *s, size_t len);
/*
 * Decide whether a recorded entry is sent again: not when it has no
 * answer or patchscope answered it, when it changes data and allow_writes
 * is not set, when its URL cannot be read, when a query parameter or a
 * body value was redacted (a marker cannot be supplied), or when its body
 * was cut. Return DRIFT_SEND, or DRIFT_SKIP with *reason set to a static
 * phrase ("its body holds a redacted value, which cannot be supplied").
 */
enum drift_plan drift_plan_entry(const struct exchange *, int allow_writes,
	    const char **reason);
/*
 * Split a --header line ("NAME: VALUE", checked by the options) into a
 * new name and value (blanks around the value removed); caller frees both.
 */
void	drift_header_split(const char *line, char **name, char **value);
/*
 * Return the name of a header that drift sets itself and --header may
 * not (Host, Content-Length, Transfer-Encoding, Connection and the other
 * hop-by-hop headers), or NULL when name is free to give.
 */
const char *drift_header_reserved(const char *name);
/*
 * Return the name of the first request header of x whose value holds a
 * redaction marker and that no --header line (lines, n) replaces, or NULL.
 * The name points into x.
 */
const char *drift_missing_header(const struct exchange *x,
	    char *const *lines, size_t n);
/*
 * Make the headers of the live request for x to url u into out (empty):
 * the recorded ones without hop-by-hop headers, Host from the URL,
 * Accept-Encoding cut to the codings drift decodes (gzip, deflate), the
 * --header lines in place of recorded headers of their names (an empty
 * value removes the header), Content-Length for the recorded body, and
 * "Connection: close".
 */
void	drift_request_headers(const struct exchange *x,
	    const struct http_url *u, char *const *lines, size_t n,
	    struct http_headers *out);
/*
 * Teach r what the recording redacted beyond the built-in rules: every
 * header of x (request and response) whose value holds a marker, and every
 * JSON key of its bodies whose value is a marker, so a live exchange is
 * redacted as the recorded one was.
 */
void	drift_learn_redactions(const struct exchange *x, struct redactor *r);
/*
 * Fill live (empty) with the exchange drift made: the request of recorded
 * as sent (headers sent, body), and answer a, whose members it takes
 * (a is empty afterwards): hop-by-hop headers dropped, the body decoded
 * from gzip or deflate (at most max bytes) as recording stores it, with
 * a Content-Length true to it; the recorded diagnoses of the request are
 * kept. Not redacted yet.
 */
void	drift_live_exchange(const struct exchange *recorded,
	    const struct http_headers *sent, struct drift_answer *a,
	    size_t max, struct exchange *live);
/* Free what an answer holds; it is empty afterwards. */
void	drift_answer_free(struct drift_answer *);
/*
 * Compare the answer of live (redacted already) with that of recorded:
 * the status (a change is the only change reported then), then, when both
 * bodies are whole (not cut, not in a coding drift could not undo; else
 * out->body_skipped is set) and at least one is JSON, their shape with
 * jdiff (flags DRIFT_VALUES: plain values too); a body that is JSON on
 * one side only is a DRIFT_TYPE at "". The recorded body is redacted with
 * r first, as the live one was. Add the changes to out (initialised by
 * the caller).
 */
void	drift_compare(const struct exchange *recorded,
	    const struct exchange *live, const struct redactor *r,
	    unsigned flags, struct drift_changes *out);
/* Free the changes; the list is empty and reusable afterwards. */
void	drift_changes_free(struct drift_changes *);

/* drift_text.c */

/*
 * Append len bytes of s for a terminal: control characters, DEL, C1
 * controls and bytes that are not UTF-8 become \xNN.
 */
void	drift_escape(struct buf *, const char *s, size_t len);
/*
 * Append a JSON value as one line of JSON text, cut to about max bytes
 * ("..." marks a cut), escaped for a terminal.
 */
void	drift_value_text(struct buf *, const struct json_t *, size_t max);
/*
 * Append one change as an indented line for a terminal, e.g.
 * "    error    removed /actions/0/offsetMinutes (was number)\n".
 */
void	drift_change_text(struct buf *, const struct drift_change *);
/*
 * Return a change as a JSON object {"severity", "kind", "path",
 * "recorded", "live"} (a new reference; absent values are null).
 */
struct json_t *drift_change_json(const struct drift_change *);

/* drift_doc.c */

/*
 * Find the bytes of each entry of a cassette's log.entries (from its '{'
 * to its '}'). Return 0 with *spans (caller frees) and *n set, or -1
 * with *cause set (caller frees) when the document is not a whole HAR
 * log. The document should have been checked by cassette_parse.
 */
int	drift_doc_entries(const char *doc, size_t len,
	    struct cassette_span **spans, size_t *n, char **cause);
/*
 * Write the document again into out: each entry i whose texts[i] is not
 * NULL is replaced by that text, every other byte is kept as it is.
 */
void	drift_doc_rewrite(const char *doc, size_t len,
	    const struct cassette_span *spans, size_t n,
	    const char *const *texts, struct buf *out);
/*
 * Append the text of an entry for x as it replaces an entry in place: the
 * recorder's layout (an entry of log.entries), without the separator and
 * indentation before its '{'.
 */
void	drift_doc_entry_text(const struct exchange *x, struct buf *out);

#endif
