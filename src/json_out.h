/*
 * json_out: jansson values as cassette text, without json_dumps.
 */
#ifndef PATCHSCOPE_JSON_OUT_H
#define PATCHSCOPE_JSON_OUT_H

#include <stddef.h>

struct buf;
struct json_t;

/*
 * Append v to out exactly as json_dumps(v, JSON_INDENT(2) |
 * JSON_PRESERVE_ORDER) writes it, with margin more spaces at the start of
 * every line but the first (whose margin is the caller's to write).
 */
void	json_out_indented(struct buf *out, const struct json_t *v,
	    size_t margin);

#endif
