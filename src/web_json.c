/*
 * web_json: the web view's data as text (the contract is in web_json.h).
 *
 * An entry is the cassette encoder's own text (cassette_entry_write), so
 * the page sees exactly what a cassette holds, made one line by removing
 * the indentation outside strings (the encoder escapes every control
 * character inside them), with the view's fields added at its end.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cassette.h"
#include "web_json.h"

/* Append the entry of x, one line, with _id and _replay. */
void
web_json_entry(struct buf *out, const struct exchange *x, uint64_t id,
    const char *replay)
{
	struct buf	text = { NULL, 0, 0 };

	cassette_entry_write(x, 1, &text);
	web_json_compact(out, text.data, text.len);
	buf_free(&text);
	/* The entry is an object: the view's fields go before its '}'. */
	out->len--;
	buf_printf(out, ",\"_id\":%" PRIu64, id);
	if (replay != NULL && strcmp(replay, "hit") == 0)
		buf_adds(out, ",\"_replay\":\"hit\"");
	else if (replay != NULL)
		buf_adds(out, ",\"_replay\":\"miss\"");
	buf_add(out, "}", 1);
}

/* Drop the whitespace outside strings. */
void
web_json_compact(struct buf *out, const char *json, size_t len)
{
	size_t	i, run = 0;
	int	in_str = 0, esc = 0;
	char	c;

	for (i = 0; i < len; i++) {
		c = json[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
			buf_add(out, json + run, i - run);
			run = i + 1;
		} else if (c == '"')
			in_str = 1;
	}
	buf_add(out, json + run, len - run);
}

/* Escape what could end a <script> element or confuse a parser. */
void
web_json_script_escape(struct buf *out, const char *json, size_t len)
{
	const unsigned char	*s = (const unsigned char *)json;
	const char		*rep;
	size_t			 i, run = 0, skip;

	for (i = 0; i < len; i++) {
		rep = NULL;
		skip = 1;
		if (s[i] == '<')
			rep = "\\u003c";
		else if (s[i] == '>')
			rep = "\\u003e";
		else if (s[i] == '&')
			rep = "\\u0026";
		else if (s[i] == 0xe2 && i + 2 < len && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			/* U+2028, U+2029: line ends to old JavaScript. */
			rep = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			skip = 3;
		}
		if (rep == NULL)
			continue;
		buf_add(out, json + run, i - run);
		buf_adds(out, rep);
		i += skip - 1;
		run = i + 1;
	}
	buf_add(out, json + run, len - run);
}

/* Open the exchanges document. */
void
web_json_doc_begin(struct buf *out, const char *mode, uint64_t keep,
    uint64_t dropped)
{
	buf_printf(out, "{\"mode\":\"%s\",\"keep\":%" PRIu64 ",\"dropped\":%"
	    PRIu64 ",\"exchanges\":[", mode, keep, dropped);
}

/* Add one entry's text to the document. */
void
web_json_doc_entry(struct buf *out, const char *entry, size_t len,
    int first)
{
	if (!first)
		buf_add(out, ",", 1);
	buf_add(out, entry, len);
}

/* Close the exchanges document. */
void
web_json_doc_end(struct buf *out)
{
	buf_adds(out, "]}\n");
}

/* One event per exchange; the entry text holds no line end. */
void
web_json_sse_exchange(struct buf *out, uint64_t id, const char *entry,
    size_t len)
{
	buf_printf(out, "id: %" PRIu64 "\nevent: exchange\ndata: ", id);
	buf_add(out, entry, len);
	buf_adds(out, "\n\n");
}

/* The entries after the client's last one were partly dropped. */
void
web_json_sse_dropped(struct buf *out, uint64_t dropped, uint64_t oldest)
{
	buf_printf(out, "event: dropped\ndata: {\"dropped\":%" PRIu64
	    ",\"oldest\":%" PRIu64 "}\n\n", dropped, oldest);
}
