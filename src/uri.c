/*
 * uri: URLs read one way everywhere (RFC 3986, as lenient as HTTP
 * clients are).
 *
 * uri_split takes a URL apart without judging it: http_url_parse checks
 * what a proxy may accept, replay matches whatever a cassette holds, and
 * redaction must find the same query in both. Percent-decoding keeps a
 * '%' that is not followed by two hex digits, so decoding never fails and
 * never lengthens; the few ways callers differ ('+' as a space in forms,
 * "%00" kept where the result is a C string) are flags, never copies.
 *
 * Nothing here keeps a pointer: spans point into the caller's string,
 * and a parsed query owns its decoded bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "uri.h"
#include "xmalloc.h"

#define URI_PORT_MAX	65535

static int
uri_scheme_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static int
uri_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* Return the value of a hex digit, or -1. */
int
uri_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
uri_span_set(struct uri_span *sp, const char *p, const char *end)
{
	sp->p = p;
	sp->len = (size_t)(end - p);
}

/* Split an authority into host and port. */
void
uri_hostport_split(const char *s, size_t len, int flags,
    struct uri_parts *parts)
{
	const char	*end = s + len, *rb = NULL, *colon;

	if (len > 0 && s[0] == '[')
		rb = memchr(s, ']', len);
	if (rb != NULL) {
		parts->ipv6 = 1;
		uri_span_set(&parts->host, s + 1, rb);
		uri_span_set(&parts->port, rb + 1, end);
		return;
	}
	parts->ipv6 = 0;
	colon = memchr(s, ':', len);
	if (colon != NULL && (flags & URI_BARE_IPV6) &&
	    memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
		colon = NULL;
	if (colon == NULL)
		colon = end;
	uri_span_set(&parts->host, s, colon);
	uri_span_set(&parts->port, colon, end);
}

/* Split a URL. */
void
uri_split(const char *url, struct uri_parts *parts)
{
	const char	*sep, *p, *auth, *auth_end, *host, *rest;

	memset(parts, 0, sizeof *parts);
	sep = strstr(url, "://");
	for (p = url; sep != NULL && p < sep; p++)
		if (!uri_scheme_char((unsigned char)*p))
			sep = NULL;
	rest = url;
	if (sep != NULL && sep != url) {
		uri_span_set(&parts->scheme, url, sep);
		auth = sep + 3;
		auth_end = auth + strcspn(auth, "/?#");
		/*
		 * Userinfo holds no '@' (RFC 3986 3.2.1): the first one ends
		 * it, and a host with another '@' is for strict callers to
		 * refuse ("a@b@c" is read two ways by different clients).
		 */
		host = memchr(auth, '@', (size_t)(auth_end - auth));
		if (host != NULL) {
			uri_span_set(&parts->userinfo, auth, host);
			host++;
		} else
			host = auth;
		uri_hostport_split(host, (size_t)(auth_end - host), 0, parts);
		rest = auth_end;
	}
	p = rest + strcspn(rest, "?#");
	uri_span_set(&parts->path, rest, p);
	if (*p == '?') {
		rest = p + 1;
		p = rest + strcspn(rest, "#");
		uri_span_set(&parts->query, rest, p);
	}
	if (*p == '#')
		uri_span_set(&parts->fragment, p + 1, p + 1 + strlen(p + 1));
}

/* Return a port number. */
int
uri_port(struct uri_span port)
{
	size_t	i;
	int	n = 0;

	if (port.len < 2 || port.p[0] != ':')
		return -1;
	for (i = 1; i < port.len; i++) {
		if (port.p[i] < '0' || port.p[i] > '9')
			return -1;
		if (n <= URI_PORT_MAX)
			n = n * 10 + (port.p[i] - '0');
	}
	return n > URI_PORT_MAX ? URI_PORT_MAX + 1 : n;
}

/* Return a scheme's default port. */
int
uri_default_port(const char *scheme, size_t len)
{
	if (len == 4 && strncasecmp(scheme, "http", 4) == 0)
		return 80;
	if (len == 5 && strncasecmp(scheme, "https", 5) == 0)
		return 443;
	return 0;
}

/* Percent-decode into out. */
size_t
uri_decode(const char *s, size_t len, char *out, int flags)
{
	size_t	i, n = 0;
	int	hi, lo;
	char	c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '%' && i + 2 < len) {
			hi = uri_hex_value((unsigned char)s[i + 1]);
			lo = uri_hex_value((unsigned char)s[i + 2]);
			if (hi >= 0 && lo >= 0 && ((hi | lo) != 0 ||
			    !(flags & URI_DECODE_KEEP_NUL))) {
				out[n++] = (char)(hi << 4 | lo);
				i += 2;
				continue;
			}
		} else if (c == '+' && (flags & URI_DECODE_PLUS))
			c = ' ';
		out[n++] = c;
	}
	return n;
}

/* Append the decoded form to b. */
void
uri_decode_buf(struct buf *b, const char *s, size_t len, int flags)
{
	size_t	old = b->len;

	/* Copy, then decode in place: the output never overtakes the
	 * input. */
	buf_add(b, s, len);
	b->len = old + uri_decode(b->data + old, len, b->data + old, flags);
	b->data[b->len] = '\0';
}

/* Append s with the bytes flags name percent-encoded. */
void
uri_encode(struct buf *b, const char *s, size_t len, int flags)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, run = 0;
	char			 e[3];
	int			 enc;

	for (i = 0; i < len; i++) {
		enc = ((flags & URI_ENCODE_CONTROL) &&
		    (p[i] < 0x20 || p[i] == 0x7f)) ||
		    ((flags & URI_ENCODE_PERCENT) && p[i] == '%') ||
		    ((flags & URI_ENCODE_COMPONENT) && !uri_unreserved(p[i]));
		if (!enc) {
			run++;
			continue;
		}
		buf_add(b, s + i - run, run);
		run = 0;
		e[0] = '%';
		e[1] = hex[p[i] >> 4];
		e[2] = hex[p[i] & 0xf];
		buf_add(b, e, sizeof e);
	}
	if (run > 0)
		buf_add(b, s + len - run, run);
}

/* Read one query field. */
const char *
uri_query_field(const char *s, const char *end, struct uri_param *f)
{
	const char	*amp, *eq;

	amp = memchr(s, '&', (size_t)(end - s));
	if (amp == NULL)
		amp = end;
	eq = memchr(s, '=', (size_t)(amp - s));
	if (eq == NULL) {
		uri_span_set(&f->name, s, amp);
		f->value.p = NULL;
		f->value.len = 0;
	} else {
		uri_span_set(&f->name, s, eq);
		uri_span_set(&f->value, eq + 1, amp);
	}
	return amp;
}

/* Compare two spans as bytes. */
int
uri_span_cmp(struct uri_span a, struct uri_span b)
{
	size_t	n = a.len < b.len ? a.len : b.len;
	int	c;

	c = n > 0 ? memcmp(a.p, b.p, n) : 0;
	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

static int
uri_param_cmp(const void *a, const void *b)
{
	const struct uri_param	*pa = a, *pb = b;
	int			 c;

	c = uri_span_cmp(pa->name, pb->name);
	if (c != 0)
		return c;
	return uri_span_cmp(pa->value, pb->value);
}

/* Parse a query into its sorted, decoded fields. */
void
uri_query_parse(struct uri_query *q, const char *s, size_t len, int flags)
{
	const char		*end = s + len, *p, *amp;
	struct uri_param	 raw, *f;
	size_t			 n = 1, used = 0;

	memset(q, 0, sizeof *q);
	for (p = s; p < end; p++)
		if (*p == '&')
			n++;
	q->v = xcalloc(n, sizeof *q->v);
	q->buf = xmalloc(len + 1);
	for (p = s; p < end; p = amp + 1) {
		amp = uri_query_field(p, end, &raw);
		if (amp == p)
			continue;
		f = &q->v[q->n++];
		f->name.p = q->buf + used;
		f->name.len = uri_decode(raw.name.p, raw.name.len,
		    q->buf + used, flags);
		used += f->name.len;
		/* No '=' reads as an empty value: "a" is "a=". */
		f->value.p = q->buf + used;
		f->value.len = 0;
		if (raw.value.p != NULL) {
			f->value.len = uri_decode(raw.value.p, raw.value.len,
			    q->buf + used, flags);
			used += f->value.len;
		}
	}
	if (q->n > 1)
		qsort(q->v, q->n, sizeof *q->v, uri_param_cmp);
}

/* Free a parsed query. */
void
uri_query_free(struct uri_query *q)
{
	free(q->v);
	free(q->buf);
	memset(q, 0, sizeof *q);
}

/* Compare two parsed queries. */
int
uri_query_cmp(const struct uri_query *a, const struct uri_query *b)
{
	size_t	i;
	int	c;

	for (i = 0; i < a->n && i < b->n; i++) {
		c = uri_param_cmp(&a->v[i], &b->v[i]);
		if (c != 0)
			return c;
	}
	return a->n < b->n ? -1 : a->n > b->n;
}
