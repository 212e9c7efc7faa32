/*
 * api: recognise profile API request targets by path shape, on any host.
 *
 * A target is origin-form ("/v1/acc/profiles/p?fields=...") or absolute-form
 * ("https://host/v1/..."). Segments are matched exactly (the API's paths are
 * case-sensitive); an empty segment ("//", a trailing "/") is not a profile
 * URL. Everything returned is a fresh string the caller frees.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "buf.h"
#include "uri.h"
#include "xmalloc.h"

#define API_MAX_SEGMENTS	4	/* "v1", account, "profiles", profile */

struct api_segment {
	const char	*p;
	size_t		 len;
};

/*
 * Percent-decode a path segment into a fresh string: '+' is a '+' in a
 * path, and "%00" stays as it is (a NUL cannot live in a C string).
 */
static char *
api_decode_dup(const char *s, size_t len)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*r;

	uri_decode_buf(&b, s, len, URI_DECODE_KEEP_NUL);
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
 * Collect the value of every "fields" parameter of the query, joined with
 * "," as servers that take a list do; NULL when there is none. In a query
 * '+' stands for a space (form encoding).
 */
static char *
api_query_fields(struct uri_span query)
{
	struct buf		 name = { NULL, 0, 0 }, val = { NULL, 0, 0 };
	struct uri_param	 f;
	const char		*p = query.p, *end = query.p + query.len, *amp;
	char			*r = NULL;
	int			 found = 0;

	while (p < end) {
		amp = uri_query_field(p, end, &f);
		p = amp + (amp < end);
		buf_reset(&name);
		uri_decode_buf(&name, f.name.p, f.name.len,
		    URI_DECODE_KEEP_NUL | URI_DECODE_PLUS);
		if (strcmp(buf_str(&name), "fields") != 0)
			continue;
		if (found)
			buf_add(&val, ",", 1);
		if (f.value.p != NULL)
			uri_decode_buf(&val, f.value.p, f.value.len,
			    URI_DECODE_KEEP_NUL | URI_DECODE_PLUS);
		found = 1;
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
	struct uri_parts	 u;
	const char		*p, *path_end, *slash;
	size_t			 nseg = 0;
	int			 rc = -1;

	*account = *profile = *fields = NULL;
	uri_split(target, &u);
	/* Origin-form, or absolute-form with an http(s) scheme. */
	if (u.scheme.p != NULL && uri_default_port(u.scheme.p,
	    u.scheme.len) == 0)
		goto out;
	p = u.path.p;
	path_end = p + u.path.len;
	if (p == path_end || *p != '/')
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
		*account = api_decode_dup(seg[1].p, seg[1].len);
	*profile = api_decode_dup(seg[nseg - 1].p, seg[nseg - 1].len);
	if (u.query.p != NULL)
		*fields = api_query_fields(u.query);
	rc = 0;
out:
	return rc;
}
