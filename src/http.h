/*
 * http: the HTTP/1.1 message model (header lists, absolute URLs) and the
 * pure rules a proxy applies to them (hop-by-hop filtering, Host checks,
 * head serialization). No sockets here; llhttp does the framing in proxy.c.
 */
#ifndef PATCHSCOPE_HTTP_H
#define PATCHSCOPE_HTTP_H

#include <stddef.h>

struct buf;

/*
 * A string literal followed by its length, for the header names and values
 * patchscope writes itself: http_headers_add(h, HTTP_LIT(HTTP_VIA), ...).
 */
#define HTTP_LIT(s)	(s), (sizeof(s) - 1)

/* Header names patchscope reads or writes itself. */
#define HTTP_CONNECTION		"Connection"
#define HTTP_CONTENT_ENCODING	"Content-Encoding"
#define HTTP_CONTENT_LENGTH	"Content-Length"
#define HTTP_CONTENT_TYPE	"Content-Type"
#define HTTP_HOST		"Host"
#define HTTP_TRANSFER_ENCODING	"Transfer-Encoding"
#define HTTP_VIA		"Via"
#define HTTP_X_DIAGNOSES	"X-Patchscope-Diagnoses"
#define HTTP_X_DIAGNOSIS	"X-Patchscope-Diagnosis"
#define HTTP_X_ERROR		"X-Patchscope-Error"
#define HTTP_X_REPLAY		"X-Patchscope-Replay"
#define HTTP_X_REPLAY_ENTRY	"X-Patchscope-Replay-Entry"
#define HTTP_X_REPLAY_SEQUENCE	"X-Patchscope-Replay-Sequence"

struct http_header {
	char	*name;
	char	*value;
};

struct http_headers {
	struct http_header	*v;
	size_t			 n;
	size_t			 cap;
};

/* Header table flags (see http.c). */
#define HTTP_HDR_HOP		0x1	/* hop-by-hop: never forwarded */
#define HTTP_HDR_SECRET		0x2	/* credentials: never logged or kept */

struct http_url {
	char	*scheme;	/* lower case: "http" or "https" */
	char	*host;		/* lower case; IPv6 without brackets */
	int	 port;
	char	*target;	/* origin-form: path and query, at least "/" */
};

/* Return nonzero when c may appear in a token such as a header name. */
int	http_token_char(int c);
/* Append a header; name and value are copied. */
void	http_headers_add(struct http_headers *, const char *name, size_t,
	    const char *value, size_t);
/* Return the first value of name (case-insensitive), or NULL. */
const char *http_headers_get(const struct http_headers *, const char *name);
/* Count the headers called name. */
size_t	http_headers_count(const struct http_headers *, const char *name);
/* Set Content-Length to len: every earlier one is removed. */
void	http_headers_set_length(struct http_headers *, size_t len);
/* Remove every header called name. */
void	http_headers_remove(struct http_headers *, const char *name);
/* Free all headers; the list is empty and reusable afterwards. */
void	http_headers_clear(struct http_headers *);
/* Nonzero when both lists hold the same headers, names and values byte
 * for byte, in the same order. */
int	http_headers_equal(const struct http_headers *,
	    const struct http_headers *);
/* Return the table flags of a header name (HTTP_HDR_*). */
int	http_header_flags(const char *name);
/*
 * Remove hop-by-hop headers: the fixed set in the table and every header
 * that Connection names (RFC 9110 7.6.1). Return nonzero when the message's
 * Connection header asked for "close".
 */
int	http_headers_strip_hop(struct http_headers *);

/*
 * Parse an absolute-form request target ("http://host:port/path?q").
 * Return 0, or -1 with *errstr set to a static message. Userinfo is
 * dropped. The caller frees with http_url_free.
 */
int	http_url_parse(const char *, struct http_url *, const char **errstr);
/*
 * Parse a CONNECT target ("host:port", "[v6]:port"; the port is required)
 * into u with scheme "https" and target "/". Return 0, or -1 with *errstr.
 */
int	http_authority_parse(const char *, struct http_url *, const char **);
/* Free the members of a parsed URL. */
void	http_url_free(struct http_url *);
/* Return nonzero when a Host header value names the URL's host and port. */
int	http_host_matches(const char *host, const struct http_url *);
/* Write the absolute URL: "scheme://" authority target. */
void	http_url_format(struct buf *, const struct http_url *);
/* Write the URL's authority as a Host value ("h", "h:p", "[v6]:p"). */
void	http_url_authority(struct buf *, const struct http_url *);

/* Serialize "METHOD target HTTP/1.1" and the headers, ending in CRLF CRLF. */
void	http_request_head(struct buf *, const char *method, const char *target,
	    const struct http_headers *);
/* Serialize "HTTP/1.1 status reason" and the headers, ending in CRLF CRLF. */
void	http_response_head(struct buf *, int status, const char *reason,
	    const struct http_headers *);
/* Return the standard reason phrase for status ("" when unknown). */
const char *http_reason(int status);

#endif
