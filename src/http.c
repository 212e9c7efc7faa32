/*
 * http: header lists, absolute URLs and the proxy's header rules.
 *
 * Pure functions over plain structs. Header names and values come from llhttp
 * in strict mode, so they hold no CR, LF or NUL; this module still never
 * trusts lengths it did not compute itself.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "http.h"
#include "uri.h"
#include "xmalloc.h"

/* What patchscope knows about particular headers (lengths compared
 * first: this table is looked at for every header of every message). */
#define HDR(name, flags)	{ name, sizeof name - 1, flags }
static const struct {
	const char	*name;
	size_t		 len;
	int		 flags;
} header_table[] = {
	HDR("Connection",		HTTP_HDR_HOP),
	HDR("Keep-Alive",		HTTP_HDR_HOP),
	HDR("Proxy-Connection",		HTTP_HDR_HOP),
	HDR("Proxy-Authenticate",	HTTP_HDR_HOP),
	HDR("Proxy-Authorization",	HTTP_HDR_HOP | HTTP_HDR_SECRET),
	HDR("TE",			HTTP_HDR_HOP),
	HDR("Trailer",			HTTP_HDR_HOP),
	HDR("Upgrade",			HTTP_HDR_HOP),
	HDR("Authorization",		HTTP_HDR_SECRET),
	HDR("Cookie",			HTTP_HDR_SECRET),
	HDR("Set-Cookie",		HTTP_HDR_SECRET),
	HDR("X-Auth-Token",		HTTP_HDR_SECRET),
	HDR("X-Api-Key",		HTTP_HDR_SECRET),
};
#undef HDR

/* Connection headers naming more headers than this: the rest is ignored. */
#define HTTP_MAX_CONNECTION_TOKENS	64

/* tchar of RFC 9110 5.6.2. */
int
http_token_char(int c)
{
	return c > 0 && c < 127 && (isalnum(c) ||
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Append a header. */
void
http_headers_add(struct http_headers *h, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	h->v[h->n].name = xstrndup(name, nlen);
	h->v[h->n].value = xstrndup(value, vlen);
	h->n++;
}

/* First value of name, or NULL. */
const char *
http_headers_get(const struct http_headers *h, const char *name)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			return h->v[i].value;
	return NULL;
}

/* Number of headers called name. */
size_t
http_headers_count(const struct http_headers *h, const char *name)
{
	size_t	i, n = 0;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			n++;
	return n;
}

/* Remove every header called name, keeping the order of the rest. */
void
http_headers_remove(struct http_headers *h, const char *name)
{
	size_t	i, j = 0;

	for (i = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, name) == 0) {
			free(h->v[i].name);
			free(h->v[i].value);
			continue;
		}
		h->v[j++] = h->v[i];
	}
	h->n = j;
}

/*
 * Write the decimal digits of v into out (at least 21 bytes), a NUL after
 * them; return their number. (printf costs a hundred times more, and the
 * heads of answers are full of numbers.)
 */
static size_t
http_put_num(char *out, unsigned long long v)
{
	char	digits[24];
	size_t	n = 0, i;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	out[n] = '\0';
	return n;
}

/* Set Content-Length to len: every earlier one is removed. */
void
http_headers_set_length(struct http_headers *h, size_t len)
{
	char	num[32];

	http_headers_remove(h, HTTP_CONTENT_LENGTH);
	http_headers_add(h, HTTP_LIT(HTTP_CONTENT_LENGTH), num,
	    http_put_num(num, len));
}

/* The same headers, byte for byte, in the same order? */
int
http_headers_equal(const struct http_headers *a,
    const struct http_headers *b)
{
	size_t	i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) != 0 ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return 0;
	return 1;
}

/* Free all headers. */
void
http_headers_clear(struct http_headers *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

static int
http_header_flags_len(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof header_table / sizeof header_table[0]; i++)
		if (header_table[i].len == len &&
		    strcasecmp(header_table[i].name, name) == 0)
			return header_table[i].flags;
	return 0;
}

/* Table flags of a header name. */
int
http_header_flags(const char *name)
{
	return http_header_flags_len(name, strlen(name));
}

/* Is name (of length len) lit, a constant, ignoring case? */
#define NAME_IS(name, len, lit) \
	((len) == sizeof(lit) - 1 && strcasecmp((name), (lit)) == 0)

/* Call fn on each comma-separated token of a list value, trimmed. */
static void
http_list_each(const char *value, void (*fn)(const char *, size_t, void *),
    void *arg)
{
	const char	*p = value, *start, *end;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > start)
			fn(start, (size_t)(end - start), arg);
	}
}

struct strip_state {
	struct http_headers	*named;	/* names listed in Connection */
	int			 close;
};

static void
http_strip_collect(const char *tok, size_t len, void *arg)
{
	struct strip_state	*st = arg;
	size_t			 i;

	if (len == 5 && strncasecmp(tok, "close", 5) == 0)
		st->close = 1;
	/* Bounded and without repeats: a peer controls this list. */
	if (st->named->n >= HTTP_MAX_CONNECTION_TOKENS)
		return;
	for (i = 0; i < st->named->n; i++)
		if (strlen(st->named->v[i].name) == len &&
		    strncasecmp(st->named->v[i].name, tok, len) == 0)
			return;
	http_headers_add(st->named, tok, len, "", 0);
}

/* Drop hop-by-hop headers and those named by Connection. */
int
http_headers_strip_hop(struct http_headers *h)
{
	struct http_headers	named = { NULL, 0, 0 };
	struct strip_state	st = { &named, 0 };
	size_t			i, j = 0, k, len;
	int			drop;

	for (i = 0; i < h->n; i++) {
		len = strlen(h->v[i].name);
		if (NAME_IS(h->v[i].name, len, "Connection") ||
		    NAME_IS(h->v[i].name, len, "Proxy-Connection"))
			http_list_each(h->v[i].value, http_strip_collect, &st);
	}
	for (i = 0; i < h->n; i++) {
		len = strlen(h->v[i].name);
		drop = (http_header_flags_len(h->v[i].name, len) &
		    HTTP_HDR_HOP) != 0;
		for (k = 0; !drop && k < named.n; k++)
			if (strcasecmp(named.v[k].name, h->v[i].name) == 0)
				drop = 1;
		/* Framing headers are the proxy's business, never a peer's. */
		if (NAME_IS(h->v[i].name, len, "Content-Length") ||
		    NAME_IS(h->v[i].name, len, "Transfer-Encoding"))
			drop = 0;
		if (drop) {
			free(h->v[i].name);
			free(h->v[i].value);
			continue;
		}
		h->v[j++] = h->v[i];
	}
	h->n = j;
	http_headers_clear(&named);
	return st.close;
}

static int
http_host_char(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_';
}

/* Set *errstr for a URL that uri_split found no "scheme://" in. */
static int
http_url_no_scheme(const char *url, const char **errstr)
{
	const char	*sep;

	sep = strstr(url, "://");
	if (sep == NULL)
		*errstr = "not an absolute URL";
	else if (sep == url)
		*errstr = "only http:// and https:// URLs can be proxied";
	else
		*errstr = "bad URL scheme";
	return -1;
}

/*
 * Parse an absolute-form target: uri_split takes it apart, this decides
 * what a proxy accepts.
 */
int
http_url_parse(const char *url, struct http_url *u, const char **errstr)
{
	struct uri_parts	 p;
	size_t			 i;
	int			 port;

	memset(u, 0, sizeof *u);
	uri_split(url, &p);
	if (p.scheme.p == NULL)
		return http_url_no_scheme(url, errstr);
	for (i = 0; i < p.scheme.len; i++)
		if (!isalpha((unsigned char)p.scheme.p[i])) {
			*errstr = "bad URL scheme";
			return -1;
		}
	port = uri_default_port(p.scheme.p, p.scheme.len);
	if (port == 0) {
		*errstr = "only http:// and https:// URLs can be proxied";
		return -1;
	}
	u->scheme = xstrdup(port == 443 ? "https" : "http");
	if (*p.path.p == '#') {
		*errstr = "a request target must not carry a #fragment";
		goto fail;
	}
	/* Userinfo is deprecated in http URLs (RFC 9110 4.2.4): dropped. */
	if (p.ipv6) {
		for (i = 0; i < p.host.len; i++)
			if (!isxdigit((unsigned char)p.host.p[i]) &&
			    p.host.p[i] != ':' && p.host.p[i] != '.')
				break;
		if (p.host.len == 0 || i < p.host.len) {
			*errstr = "bad IPv6 address in URL";
			goto fail;
		}
	} else if (p.host.len > 0 && p.host.p[0] == '[') {
		*errstr = "bad IPv6 address in URL";	/* no ']' */
		goto fail;
	} else if (p.host.len == 0) {
		*errstr = "URL has no host";
		goto fail;
	} else {
		for (i = 0; i < p.host.len; i++)
			if (!http_host_char((unsigned char)p.host.p[i])) {
				*errstr = "bad character in URL host";
				goto fail;
			}
	}
	u->host = xstrndup(p.host.p, p.host.len);
	for (i = 0; u->host[i] != '\0'; i++)
		u->host[i] = (char)tolower((unsigned char)u->host[i]);
	if (p.port.len > 0) {
		port = uri_port(p.port);
		if (port < 1 || port > 65535) {
			*errstr = "bad port in URL";
			goto fail;
		}
	}
	u->port = port;
	if (p.fragment.p != NULL) {
		*errstr = "a request target must not carry a #fragment";
		goto fail;
	}
	if (*p.path.p == '/')
		u->target = xstrdup(p.path.p);
	else
		u->target = xasprintf("/%s", p.path.p);
	return 0;
fail:
	http_url_free(u);
	return -1;
}

/* Parse a CONNECT target. */
int
http_authority_parse(const char *s, struct http_url *u, const char **errstr)
{
	char	*url;
	int	 rc;

	memset(u, 0, sizeof *u);
	if (strpbrk(s, "/?#@") != NULL || strstr(s, "://") != NULL) {
		*errstr = "a CONNECT target is host:port, nothing else";
		return -1;
	}
	/* The port is required (RFC 9110 9.3.6): a ':' after any ']'. */
	if (strrchr(s, ':') == NULL || strrchr(s, ']') > strrchr(s, ':')) {
		*errstr = "a CONNECT target needs a port (host:443)";
		return -1;
	}
	url = xasprintf("https://%s/", s);
	rc = http_url_parse(url, u, errstr);
	free(url);
	return rc;
}

/* Free a parsed URL. */
void
http_url_free(struct http_url *u)
{
	free(u->scheme);
	free(u->host);
	free(u->target);
	memset(u, 0, sizeof *u);
}

/* Does a Host value name the URL's host and port? */
int
http_host_matches(const char *host, const struct http_url *u)
{
	struct uri_parts	p;
	int			port;

	memset(&p, 0, sizeof p);
	uri_hostport_split(host, strlen(host), 0, &p);
	if (p.host.len != strlen(u->host) ||
	    strncasecmp(p.host.p, u->host, p.host.len) != 0)
		return 0;
	port = uri_default_port(u->scheme, strlen(u->scheme));
	if (p.port.len > 0) {
		port = uri_port(p.port);
		if (port < 1 || port > 65535)
			return 0;
	}
	return port == u->port;
}

/* Write the absolute URL: "scheme://" authority target. */
void
http_url_format(struct buf *b, const struct http_url *u)
{
	buf_adds(b, u->scheme);
	buf_add(b, "://", 3);
	http_url_authority(b, u);
	buf_adds(b, u->target);
}

/* Host value for the URL. */
void
http_url_authority(struct buf *b, const struct http_url *u)
{
	int	dflt = uri_default_port(u->scheme, strlen(u->scheme));
	char	num[24];

	if (strchr(u->host, ':') != NULL) {
		buf_add(b, "[", 1);
		buf_adds(b, u->host);
		buf_add(b, "]", 1);
	} else
		buf_adds(b, u->host);
	if (u->port != dflt) {
		buf_add(b, ":", 1);
		if (u->port < 0) {
			buf_add(b, "-", 1);
			buf_add(b, num, http_put_num(num,
			    -(unsigned long long)u->port));
		} else
			buf_add(b, num, http_put_num(num,
			    (unsigned long long)u->port));
	}
}

static void
http_head_headers(struct buf *b, const struct http_headers *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++) {
		buf_adds(b, h->v[i].name);
		buf_add(b, ": ", 2);
		buf_adds(b, h->v[i].value);
		buf_add(b, "\r\n", 2);
	}
	buf_add(b, "\r\n", 2);
}

/* Serialize a request head. */
void
http_request_head(struct buf *b, const char *method, const char *target,
    const struct http_headers *h)
{
	buf_adds(b, method);
	buf_add(b, " ", 1);
	buf_adds(b, target);
	buf_add(b, " HTTP/1.1\r\n", 11);
	http_head_headers(b, h);
}

/* Serialize a response head. */
void
http_response_head(struct buf *b, int status, const char *reason,
    const struct http_headers *h)
{
	char	line[16];

	/* The status is three digits in every answer patchscope sends. */
	if (status >= 100 && status <= 999) {
		memcpy(line, "HTTP/1.1 ", 9);
		http_put_num(line + 9, (unsigned long long)status);
		line[12] = ' ';
		buf_add(b, line, 13);
		buf_adds(b, reason);
		buf_add(b, "\r\n", 2);
	} else
		buf_printf(b, "HTTP/1.1 %03d %s\r\n", status, reason);
	http_head_headers(b, h);
}

/* Standard reason phrases (RFC 9110 section 15). */
const char *
http_reason(int status)
{
	static const struct {
		int		 status;
		const char	*reason;
	} reasons[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
		{ 202, "Accepted" },
		{ 204, "No Content" }, { 304, "Not Modified" },
		{ 301, "Moved Permanently" }, { 302, "Found" },
		{ 303, "See Other" }, { 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 413, "Content Too Large" }, { 422, "Unprocessable Content" },
		{ 431, "Request Header Fields Too Large" },
		{ 409, "Conflict" }, { 410, "Gone" },
		{ 412, "Precondition Failed" }, { 423, "Locked" },
		{ 425, "Too Early" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	size_t	i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "";
}
