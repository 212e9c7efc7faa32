/*
 * json_out: jansson values as cassette text, without json_dumps.
 */
#ifndef PATCHSCOPE_JSON_OUT_H
#define PATCHSCOPE_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct buf;

/*
 * Append v to out exactly as json_dumps(v, JSON_INDENT(2) |
 * JSON_PRESERVE_ORDER) writes it, with margin more spaces at the start of
 * every line but the first (whose margin is the caller's to write).
 */
void	json_out_indented(struct buf *out, const json_t *v, size_t margin);

/*
 * A writer of the same text without a tree: open a container, then for
 * each member a key (objects) or an item (arrays) followed by its value,
 * then close it. Strings are written as they are given (the caller makes
 * them UTF-8). Up to JSON_WRITER_MAX_DEPTH levels of its own; a value
 * written from a tree (json_writer_value) may nest deeper.
 */
#define JSON_WRITER_MAX_DEPTH	64

struct json_writer {
	struct buf	*out;
	size_t		 margin;
	size_t		 depth;
	uint64_t	 had_item;	/* bit d-1: level d has a member */
};

void	json_writer_init(struct json_writer *, struct buf *out, size_t margin);
/* Open or close a container: bracket is '{', '[', '}' or ']'. */
void	json_writer_open(struct json_writer *, char bracket);
void	json_writer_close(struct json_writer *, char bracket);
/* Start an object member (its value follows) or an array item. */
void	json_writer_key(struct json_writer *, const char *key);
void	json_writer_item(struct json_writer *);
/* Values. */
void	json_writer_string(struct json_writer *, const char *s, size_t len);
void	json_writer_int(struct json_writer *, json_int_t);
void	json_writer_real(struct json_writer *, double);
void	json_writer_value(struct json_writer *, const json_t *);

#endif
