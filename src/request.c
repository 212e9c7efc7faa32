/*
 * request: from a parsed request head to a chosen handler.
 *
 * Everything here runs once per request, after llhttp has paused at the
 * end of the head. Errors are answered with conn_fail() and reported as a
 * nonzero return; nothing has been sent to an origin then.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>

#include "buf.h"
#include "capture.h"
#include "conn.h"
#include "doctor_serve.h"
#include "fault_serve.h"
#include "half.h"
#include "http.h"
#include "listen_addr.h"
#include "log.h"
#include "options.h"
#include "profile.h"
#include "proxy.h"
#include "replay_serve.h"
#include "request.h"
#include "tunnel.h"
#include "uri.h"
#include "xmalloc.h"

/*
 * Refuse what two servers could frame differently (request smuggling):
 * a version other than HTTP/1.0 or 1.1, and any Transfer-Encoding but a
 * single "chunked" (RFC 9112 6.1 lets a proxy refuse other codings; an
 * origin that reads "identity, chunked" its own way would see another
 * body). llhttp already refuses chunked with Content-Length, and chunked
 * not last. Return 0, or -1 after answering 400.
 */
static int
request_check_framing(struct conn *conn)
{
	struct half	*c = &conn->client;
	const char	*te, *v;
	size_t		 i, len;

	if (c->parser.http_major != 1 || c->parser.http_minor > 1) {
		conn_fail(conn, 400, "bad_request", "HTTP/%u.%u requests are not "
		    "supported: patchscope speaks HTTP/1.0 and HTTP/1.1",
		    c->parser.http_major, c->parser.http_minor);
		return -1;
	}
	if (http_headers_count(&c->headers, HTTP_TRANSFER_ENCODING) == 0)
		return 0;
	te = NULL;
	for (i = 0; i < c->headers.n; i++)
		if (strcasecmp(c->headers.v[i].name,
		    HTTP_TRANSFER_ENCODING) == 0)
			te = te == NULL ? c->headers.v[i].value : "";
	v = te + strspn(te, " \t");
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len != 7 || strncasecmp(v, "chunked", 7) != 0) {
		conn_fail(conn, 400, "bad_request", "Transfer-Encoding other "
		    "than a single \"chunked\" is not accepted (RFC 9112 6.1): "
		    "servers could frame such a body differently");
		return -1;
	}
	return 0;
}

/*
 * A request sent as to a server (GET /path): replay answers it; the
 * forward proxy needs absolute-form. Return 0, or -1 after answering.
 */
static int
request_origin_form(struct conn *conn, const char *url)
{
	if (url[0] == '/' && conn->proxy->mode == PROXY_REPLAY)
		return replay_target(conn, url);
	conn_fail(conn, 400, "not_a_proxy_request",
	    "patchscope is a forward proxy: send absolute-form "
	    "requests (GET http://host/path), e.g. by setting "
	    "http_proxy=http://%s", proxy_address(conn->proxy));
	return -1;
}

/* conn->target names patchscope: go on with its path, as origin-form. */
static int
request_self(struct conn *conn)
{
	char	*path;
	int	 rc;

	path = xstrdup(conn->target.target);
	http_url_free(&conn->target);
	rc = request_origin_form(conn, path);
	free(path);
	return rc;
}

/*
 * Work out where a request goes: the absolute URL of a proxy request, or,
 * inside an intercepted tunnel, the CONNECT target plus the path, or in
 * replay the path of a request sent as to a server. Return 0, or -1 after
 * answering with an error.
 */
static int
request_target(struct conn *conn)
{
	const char	*errstr, *url = buf_str(&conn->client.url);
	struct uri_parts parts;

	if (conn->have_tunnel) {
		if (url[0] != '/') {
			conn_fail(conn, 400, "bad_request", "inside an HTTPS "
			    "tunnel a request names a path (GET /x), not a "
			    "URL");
			return -1;
		}
		return tunnel_target(conn, url);
	}
	/* "scheme://..." with a scheme other than http. */
	uri_split(url, &parts);
	if (parts.scheme.p != NULL && (parts.scheme.len != 4 ||
	    strncasecmp(parts.scheme.p, "http", 4) != 0)) {
		conn_fail(conn, 400, "unsupported_scheme",
		    "%.*s:// URLs cannot be sent to the proxy in absolute "
		    "form; only http:// URLs are (for https, clients use "
		    "CONNECT: set https_proxy)",
		    (int)(parts.scheme.len > 16 ? 16 : parts.scheme.len),
		    parts.scheme.p);
		return -1;
	}
	if (url[0] == '\0' || url[0] == '/' || url[0] == '*')
		return request_origin_form(conn, url);
	if (http_url_parse(url, &conn->target, &errstr) != 0) {
		conn_fail(conn, 400, "bad_request", "bad request URL: %s",
		    errstr);
		return -1;
	}
	/*
	 * A URL naming patchscope itself (PATCHSCOPE_URL sent through the
	 * proxy variables): served as if sent straight here, never
	 * forwarded to ourselves in a loop.
	 */
	if (listen_addr_is_self(proxy_address(conn->proxy), conn->target.host,
	    conn->target.port))
		return request_self(conn);
	request_target_known(conn);
	return 0;
}

/* The request's one Host header, or NULL; -1 after a 400 for two. */
int
request_host(struct conn *conn, const char **host)
{
	*host = NULL;
	if (http_headers_count(&conn->client.headers, HTTP_HOST) > 1) {
		conn_fail(conn, 400, "bad_request",
		    "the request has more than one Host header");
		return -1;
	}
	*host = http_headers_get(&conn->client.headers, HTTP_HOST);
	return 0;
}

/* conn->target is set: note it, and give the exchange its URL. */
void
request_target_known(struct conn *conn)
{
	conn->have_target = 1;
	capture_request_target(&conn->cap, &conn->target);
}

/* Diagnose the complete PATCH body of the exchange. */
void
request_diagnose(struct conn *conn)
{
	struct proxy		*p = conn->proxy;
	const struct buf	*body;
	struct buf		 key = { NULL, 0, 0 };
	const char		*cause;

	conn->inspect_req = 0;
	conn->cap.diagnosed = 1;
	/* The exchange goes to the sinks whole: its headers say its coding. */
	if (conn->cap.req_headers.n == 0)
		capture_request_headers(&conn->cap, &conn->client.headers);
	body = capture_request_decoded(&conn->cap, http_headers_get(
	    &conn->client.headers, HTTP_CONTENT_ENCODING), &cause);
	if (body == NULL) {
		log_info("[#%" PRIu64 "] note: PATCH body not inspected: %s",
		    conn->id, cause);
		return;
	}
	conn_profile_key(conn, &key);
	profile_check(p->rules, p->snapshots, p->mode == PROXY_REPLAY ?
	    p->seed : NULL, buf_str(&key), &conn->ref, buf_str(body),
	    body->len, &conn->cap.diags);
	buf_free(&key);
}

/* Is this a request of the profile API, and is its body to be checked? */
static void
request_classify(struct conn *conn)
{
	if (profile_ref_parse(conn->target.target, &conn->ref) != 0)
		return;
	conn->api = 1;
	if (conn->method == HTTP_PATCH)
		conn->inspect_req = 1;
}

/*
 * The web view (--web) is no origin: a page could otherwise reach its
 * API through the proxy. Return 0, or -1 after answering 403.
 */
static int
request_web_view(struct conn *conn, const char *host, int port)
{
	if (!proxy_is_web_view(conn->proxy, host, port))
		return 0;
	conn_fail(conn, 403, "web_view_target", "patchscope does not "
	    "forward requests to its own web view (port %d): open that "
	    "address in a browser directly", port);
	return -1;
}

/* The same for a CONNECT target. */
static int
request_web_connect(struct conn *conn)
{
	struct http_url	 u;
	const char	*errstr;
	int		 rc;

	if (conn->proxy->web_port == 0 || http_authority_parse(
	    buf_str(&conn->client.url), &u, &errstr) != 0)
		return 0;
	rc = request_web_view(conn, u.host, u.port);
	http_url_free(&u);
	return rc;
}

/* The request head is complete: check it, choose the handler, start it. */
int
request_head(struct conn *conn)
{
	struct proxy		*p = conn->proxy;
	struct half		*c = &conn->client;
	llhttp_t		*parser = &c->parser;
	struct buf		 url = { NULL, 0, 0 };
	const char		*host;

	conn->method = c->method;
	conn->client_keepalive = llhttp_should_keep_alive(parser);
	conn->client_http10 = parser->http_major == 1 &&
	    parser->http_minor == 0;
	conn->req_has_body = (parser->flags & F_CHUNKED) != 0 ||
	    ((parser->flags & F_CONTENT_LENGTH) != 0 &&
	    parser->content_length > 0);
	c->chunked_out = (parser->flags & F_CHUNKED) != 0;
	capture_request(&conn->cap, llhttp_method_name(
	    (llhttp_method_t)conn->method), conn->client_http10);
	/* --web: kept whole, early refusals too (headers come later). */
	if (p->view)
		capture_view_begin(&conn->cap, NULL);
	if (c->head_bytes > p->opts->max_header_bytes) {
		conn_fail(conn, 431, "headers_too_large",
		    "the request head is larger than --max-header-bytes "
		    "(%zu bytes)", p->opts->max_header_bytes);
		return -1;
	}
	if (request_check_framing(conn) != 0)
		return -1;
	if (conn->method == HTTP_CONNECT) {
		if (request_web_connect(conn) != 0)
			return -1;
		conn->handler = &tunnel_handler;
		return conn->handler->start(conn);
	}
	if (!conn->client_http10 && http_headers_count(&c->headers,
	    HTTP_HOST) == 0) {
		conn_fail(conn, 400, "bad_request", "an HTTP/1.1 request must "
		    "have a Host header (RFC 9112 3.2)");
		return -1;
	}
	if (request_target(conn) != 0)
		return -1;
	if (request_host(conn, &host) != 0)
		return -1;
	if (!conn->have_tunnel && request_web_view(conn, conn->target.host,
	    conn->target.port) != 0)
		return -1;
	if (host != NULL && !conn->have_tunnel && !conn->origin_form &&
	    !http_host_matches(host, &conn->target)) {
		conn_fail(conn, 400, "host_mismatch",
		    "the Host header (%.100s) names another server than the "
		    "request URL", host);
		return -1;
	}
	/* RFC 9112 3.2.2: the proxy's Host comes from the target URI. */
	http_headers_strip_hop(&c->headers);
	http_headers_remove(&c->headers, HTTP_HOST);
	http_url_authority(&url, &conn->target);
	http_headers_add(&c->headers, HTTP_LIT(HTTP_HOST), url.data, url.len);
	buf_free(&url);
	request_classify(conn);
	http_headers_add(&c->headers, HTTP_LIT(HTTP_VIA),
	    HTTP_LIT("1.1 patchscope"));
	/*
	 * Inside a tunnel the CONNECT target says where to connect and the
	 * Host header which name the origin must prove (they differ with
	 * curl --connect-to, or a test host mapped to 127.0.0.1).
	 */
	conn->origin_host = xstrdup(conn->have_tunnel ? conn->tunnel.host :
	    conn->target.host);
	conn->origin_name = xstrdup(conn->target.host);
	conn->origin_port = conn->target.port;
	conn->origin_tls = strcmp(conn->target.scheme, "https") == 0;
	if (p->view)
		capture_view_begin(&conn->cap, &c->headers);
	conn->handler = p->mode == PROXY_REPLAY ? &replay_handler :
	    &forward_handler;
	/* doctor's own name: patchscope answers it, never faulted. */
	if (doctor_serve_match(conn)) {
		conn->handler = &doctor_serve_handler;
		return conn->handler->start(conn);
	}
	/* --fault: a fault may take the handler's place, or change it. */
	if (p->faults != NULL)
		return fault_serve_start(conn);
	return conn->handler->start(conn);
}
