/*
 * web_json: the data the web view's page reads, as text. Pure: an
 * exchange in, JSON text out; no sockets, no printing.
 *
 * The contract with the page (src/web/app.js), also in
 * docs/architecture.md ("The web view's data"):
 * - An exchange is one JSON object: the HAR 1.2 entry exactly as the
 *   cassette encoder writes it (redacted; with _diagnoses, _answeredBy,
 *   _error, _fault and the bodies' _truncated), on one line, plus
 *   "_id": N (an integer, 1 for the first exchange of the run or of the
 *   files, increasing by one) and, in replay, "_replay": "hit" or "miss"
 *   (a miss forwarded by --fallback=proxy is a "miss" too).
 * - GET /api/exchanges?after=N answers {"mode": "live" | "view",
 *   "keep": K, "dropped": D, "exchanges": [entry, ...]}: the kept entries
 *   with _id > N in _id order, as many as fit in about 4 MiB (at least
 *   one; ask again after the last _id until none comes); D counts the
 *   exchanges dropped from the view (the oldest, past --web-keep) since
 *   it started.
 * - GET /api/events is a text/event-stream: "retry: 1000" first, then per
 *   exchange "id: N\nevent: exchange\ndata: ENTRY\n\n"; when the entries
 *   after the client's Last-Event-ID were partly dropped, first
 *   "event: dropped\ndata: {"dropped": D, "oldest": ID}\n\n" (ID: the
 *   oldest entry still kept); ": keep-alive" comments every 15 s.
 * - report's file holds the same document as /api/exchanges with mode
 *   "report", keep and dropped 0, escaped for a <script> element
 *   (web_json_script_escape).
 */
#ifndef PATCHSCOPE_WEB_JSON_H
#define PATCHSCOPE_WEB_JSON_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct exchange;

/*
 * Append the one-line JSON text of x's HAR entry with "_id": id and, when
 * replay is not NULL, "_replay": replay ("hit" or "miss").
 */
void	web_json_entry(struct buf *out, const struct exchange *x,
	    uint64_t id, const char *replay);
/*
 * Append JSON text of len bytes with the whitespace outside its strings
 * removed (the text must be valid JSON, as the cassette encoder writes).
 */
void	web_json_compact(struct buf *out, const char *json, size_t len);
/*
 * Append JSON text made safe inside an HTML <script> element: '<', '>',
 * '&', U+2028 and U+2029 (which only occur inside strings) become \u003c,
 * \u003e, \u0026, \u2028 and \u2029, so no byte of it can end the element
 * or open a comment; the value it parses to is unchanged.
 */
void	web_json_script_escape(struct buf *out, const char *json, size_t len);

/* The exchanges document: begin, one call per entry, end. */
void	web_json_doc_begin(struct buf *out, const char *mode, uint64_t keep,
	    uint64_t dropped);
void	web_json_doc_entry(struct buf *out, const char *entry, size_t len,
	    int first);
void	web_json_doc_end(struct buf *out);

/* Append one server-sent event of an exchange entry. */
void	web_json_sse_exchange(struct buf *out, uint64_t id, const char *entry,
	    size_t len);
/* Append the event that says entries were dropped (oldest: still kept). */
void	web_json_sse_dropped(struct buf *out, uint64_t dropped,
	    uint64_t oldest);

#endif
