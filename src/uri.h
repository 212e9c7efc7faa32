/*
 * uri: the one reading of URLs that redaction, matching, recording and the
 * proxy share: splitting, percent-decoding and -encoding, query fields.
 * Pure: no sockets, no printing. Splitting never allocates: the pieces
 * point into the string split.
 */
#ifndef PATCHSCOPE_URI_H
#define PATCHSCOPE_URI_H

#include <stddef.h>

struct buf;

/* A piece of a string; p is NULL when the piece is absent. */
struct uri_span {
	const char	*p;
	size_t		 len;
};

/*
 * A URL taken apart. Without a "scheme://" prefix there is no scheme,
 * userinfo, host or port: the whole string is path, query and fragment.
 */
struct uri_parts {
	struct uri_span	scheme;		/* before "://", as written */
	struct uri_span	userinfo;	/* before the authority's first '@' */
	struct uri_span	host;		/* an IPv6 literal without brackets */
	struct uri_span	port;		/* after the host: ":80", "" or junk */
	struct uri_span	path;		/* up to '?' or '#'; may be empty */
	struct uri_span	query;		/* after '?', up to '#' */
	struct uri_span	fragment;	/* after '#' */
	int		ipv6;		/* the host was in brackets */
};

/* uri_hostport_split flags. */
#define URI_BARE_IPV6		0x1	/* "::1" (two colons, no brackets) is
					   a host with no port */

/* A query field ("name=value"); value.p is NULL when there is no '='. */
struct uri_param {
	struct uri_span	name;
	struct uri_span	value;
};

/* A query as a sorted list of decoded fields (see uri_query_parse). */
struct uri_query {
	struct uri_param	*v;
	size_t			 n;
	char			*buf;	/* the decoded bytes v points into */
};

/* uri_decode flags. */
#define URI_DECODE_PLUS		0x1	/* '+' is a space (form encoding) */
#define URI_DECODE_KEEP_NUL	0x2	/* "%00" stays as it is (the result
					   is to be a C string) */

/* uri_encode flags: which bytes become %XX. */
#define URI_ENCODE_CONTROL	0x1	/* below 0x20, and 0x7f */
#define URI_ENCODE_PERCENT	0x2	/* '%' itself */
#define URI_ENCODE_COMPONENT	0x4	/* all but RFC 3986 unreserved */

/*
 * Split url into its pieces (lenient: nothing is refused; callers check
 * what they need). A scheme is one or more of [A-Za-z0-9+.-] before the
 * first "://"; the authority runs to the first '/', '?' or '#'.
 */
void	uri_split(const char *url, struct uri_parts *);
/*
 * Split an authority without userinfo ("host", "host:port", "[v6]:port";
 * len bytes of s) into the host, port and ipv6 members of parts; the
 * others are left as they are. flags: URI_BARE_IPV6.
 */
void	uri_hostport_split(const char *s, size_t len, int flags,
	    struct uri_parts *);
/*
 * Return the number of a port piece (":" then decimal digits only), 65536
 * for one past 65535, or -1 for one that is empty or malformed.
 */
int	uri_port(struct uri_span port);
/* Return a scheme's default port: 80 for http, 443 for https, else 0. */
int	uri_default_port(const char *scheme, size_t len);

/*
 * Percent-decode len bytes of s into out, which has room for len bytes
 * (decoding never lengthens). A '%' not followed by two hex digits stays
 * as it is. flags: URI_DECODE_*. Return the number of bytes written.
 */
size_t	uri_decode(const char *s, size_t len, char *out, int flags);
/* Append the percent-decoded form of len bytes of s to b (as uri_decode). */
void	uri_decode_buf(struct buf *, const char *s, size_t len, int flags);
/* Append len bytes of s to b with the bytes flags name as %XX (upper case). */
void	uri_encode(struct buf *, const char *s, size_t len, int flags);

/*
 * Read the query field that starts at s (it ends at the next '&' or at
 * end) into *f, undecoded; return where it ends: end, or its '&'.
 */
const char *uri_query_field(const char *s, const char *end,
	    struct uri_param *f);
/*
 * Parse len bytes of a query (no '?') into q: its non-empty fields,
 * decoded with flags (URI_DECODE_*), sorted by name then value, a field
 * without '=' having an empty value; the order-free form replay matching
 * compares. Free with uri_query_free.
 */
void	uri_query_parse(struct uri_query *q, const char *s, size_t len,
	    int flags);
/* Free a parsed query; it is empty and reusable afterwards. */
void	uri_query_free(struct uri_query *);
/* Compare two parsed queries field by field: <0, 0 (the same) or >0. */
int	uri_query_cmp(const struct uri_query *, const struct uri_query *);
/* Compare two spans as bytes, a prefix first: <0, 0 or >0. */
int	uri_span_cmp(struct uri_span, struct uri_span);

/* Return the value of a hex digit (0-9, a-f, A-F), or -1. */
int	uri_hex_value(int c);

#endif
