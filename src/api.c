/*
 * api: recognise profile API request targets by path shape, on any host.
 *
 * A target is origin-form ("/v1/acc/profiles/p?fields=...") or absolute-form
 * ("https://host/v1/..."). Segments are matched exactly (the API's paths are
 * case-sensitive); an empty segment ("//", a trailing "/") is not a profile
 * URL. Everything returned is a fresh string the caller frees.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "buf.h"
#include "xmalloc.h"

#define API_MAX_SEGMENTS	4	/* "v1", account, "profiles", profile */

struct api_segment {
	const char	*p;
	size_t		 len;
};

static int
api_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode len bytes of s into out. A '%' not followed by two hex
 * digits is kept as it is, and so is "%00": a NUL cannot live in a C string.
 * In a query, '+' stands for a space (form encoding).
 */
static void
api_decode(const char *s, size_t len, int plus, struct buf *out)
{
	size_t	i;
	int	hi, lo;
	char	c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '%' && i + 2 < len) {
			hi = api_hex((unsigned char)s[i + 1]);
			lo = api_hex((unsigned char)s[i + 2]);
			if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
				c = (char)(hi << 4 | lo);
				i += 2;
			}
		} else if (c == '+' && plus)
			c = ' ';
		buf_add(out, &c, 1);
	}
}

static char *
api_decode_dup(const char *s, size_t len, int plus)
{
	struct buf	b = { NULL, 0, 0 };
	char		*r;

	api_decode(s, len, plus, &b);
	r = xstrdup(buf_str(&b));
	buf_free(&b);
	return r;
}

static int
api_segment_is(const struct api_segment *seg, const char *word)
{
	return seg->len == strlen(word) && memcmp(seg->p, word, seg->len) == 0;
}

/*
 * Collect the value of every "fields" parameter of the query [q, end),
 * joined with "," as servers that take a list do; NULL when there is none.
 */
static char *
api_query_fields(const char *q, size_t len)
{
	struct buf	 name = { NULL, 0, 0 }, val = { NULL, 0, 0 };
	const char	*end = q + len, *amp, *eq;
	char		*r = NULL;
	int		 found = 0;

	while (q < end) {
		amp = memchr(q, '&', (size_t)(end - q));
		if (amp == NULL)
			amp = end;
		eq = memchr(q, '=', (size_t)(amp - q));
		if (eq == NULL)
			eq = amp;
		buf_reset(&name);
		api_decode(q, (size_t)(eq - q), 1, &name);
		if (strcmp(buf_str(&name), "fields") == 0) {
			if (found)
				buf_add(&val, ",", 1);
			if (eq < amp)
				api_decode(eq + 1, (size_t)(amp - eq - 1), 1,
				    &val);
			found = 1;
		}
		q = amp + (amp < end);
	}
	if (found)
		r = xstrdup(buf_str(&val));
	buf_free(&name);
	buf_free(&val);
	return r;
}

/* Recognise a profile API target; see api.h. */
int
api_profile_target(const char *target, char **account, char **profile,
    char **fields)
{
	struct api_segment	 seg[API_MAX_SEGMENTS];
	const char		*p, *path_end, *q = NULL, *q_end = NULL, *slash;
	size_t			 nseg = 0;
	int			 rc = -1;

	*account = *profile = *fields = NULL;
	p = target;
	/* Absolute form: skip "scheme://authority". */
	if (strncasecmp(p, "http://", 7) == 0 ||
	    strncasecmp(p, "https://", 8) == 0) {
		p = strstr(p, "://") + 3;
		p += strcspn(p, "/?#");
	}
	path_end = p + strcspn(p, "?#");
	if (*path_end == '?') {
		q = path_end + 1;
		q_end = q + strcspn(q, "#");
	}
	if (*p != '/')
		goto out;
	/* Split "/a/b/c" into at most API_MAX_SEGMENTS non-empty segments. */
	while (p < path_end) {
		p++;
		slash = memchr(p, '/', (size_t)(path_end - p));
		if (slash == NULL)
			slash = path_end;
		if (slash == p || nseg == API_MAX_SEGMENTS)
			goto out;
		seg[nseg].p = p;
		seg[nseg].len = (size_t)(slash - p);
		nseg++;
		p = slash;
	}
	if (nseg < 3 || !api_segment_is(&seg[0], "v1") ||
	    !api_segment_is(&seg[nseg - 2], "profiles"))
		goto out;
	if (nseg == 4)
		*account = api_decode_dup(seg[1].p, seg[1].len, 0);
	*profile = api_decode_dup(seg[nseg - 1].p, seg[nseg - 1].len, 0);
	if (q != NULL)
		*fields = api_query_fields(q, (size_t)(q_end - q));
	rc = 0;
out:
	return rc;
}
