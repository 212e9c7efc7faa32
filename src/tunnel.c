/*
 * tunnel: CONNECT.
 *
 * Interception: patchscope answers 200 itself, puts a TLS layer made by
 * ca_accept() (a certificate for the CONNECT host, signed by its CA) over
 * the client's socket, and parses the requests that arrive inside as
 * https://host:port requests. A --no-intercept host instead gets a plain
 * connection to its origin and raw bytes both ways, logged in one line
 * when the tunnel closes; nothing inside it is seen.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "buf.h"
#include "ca.h"
#include "capture.h"
#include "conn.h"
#include "half.h"
#include "http.h"
#include "log.h"
#include "request.h"
#include "options.h"
#include "tunnel.h"
#include "upstream.h"
#include "uri.h"
#include "xmalloc.h"

/* The answer to a CONNECT that patchscope takes on. */
static const char connect_ok[] = "HTTP/1.1 200 Connection established\r\n"
    "Via: 1.1 patchscope\r\n\r\n";

static int	tunnel_start(struct conn *);

const struct handler tunnel_handler = {
	"tunnel", tunnel_start, NULL
};

/* The URL of a request inside an intercepted tunnel. */
int
tunnel_target(struct conn *conn, const char *path)
{
	struct uri_parts hp;
	const char	*host, *errstr;
	char		*url;
	int		 rc;

	if (request_host(conn, &host) != 0)
		return -1;
	if (host != NULL && (host[0] == '\0' ||
	    strpbrk(host, "/?#@") != NULL)) {
		conn_fail(conn, 400, "bad_request", "bad Host header");
		return -1;
	}
	if (host != NULL)
		url = xasprintf("https://%s%s", host, path);
	else if (strchr(conn->tunnel.host, ':') != NULL)
		url = xasprintf("https://[%s]:%d%s", conn->tunnel.host,
		    conn->tunnel.port, path);
	else
		url = xasprintf("https://%s:%d%s", conn->tunnel.host,
		    conn->tunnel.port, path);
	if (host == NULL)
		host = conn->tunnel.host;
	rc = http_url_parse(url, &conn->target, &errstr);
	free(url);
	if (rc != 0) {
		conn_fail(conn, 400, "bad_request", "bad request in the "
		    "tunnel: %s", errstr);
		return -1;
	}
	/* A Host without a port means the tunnel's port. */
	memset(&hp, 0, sizeof hp);
	uri_hostport_split(host, strlen(host), 0, &hp);
	if (conn->target.port == 443 && hp.port.len == 0)
		conn->target.port = conn->tunnel.port;
	request_target_known(conn);
	if (conn->target.port != conn->tunnel.port) {
		conn_fail(conn, 400, "host_mismatch", "the Host header (%.100s) "
		    "names another port than the CONNECT target (%d)", host,
		    conn->tunnel.port);
		return -1;
	}
	return 0;
}

/* Log the one line of a raw tunnel. */
void
tunnel_log(struct conn *conn)
{
	log_info("[#%" PRIu64 "] CONNECT %s:%d -> tunnel (not intercepted) "
	    "(up %" PRIu64 " B, down %" PRIu64 " B, %.1f ms)", conn->id,
	    conn->tunnel.host, conn->tunnel.port, conn->client.body_bytes,
	    conn->origin.body_bytes, capture_elapsed_ms(&conn->cap));
}

/* Move what one side of a raw tunnel sent to the other side. */
void
tunnel_relay(struct half *from)
{
	struct evbuffer	*in = bufferevent_get_input(from->bev);

	if (from->peer->bev == NULL)
		return;
	from->body_bytes += evbuffer_get_length(in);
	evbuffer_add_buffer(bufferevent_get_output(from->peer->bev), in);
	conn_touch(from->arg);
	half_throttle_check(from);
}

/* The origin answered a --no-intercept CONNECT: open the tunnel. */
static void
tunnel_open(struct conn *conn)
{
	half_write(&conn->client, connect_ok, sizeof connect_ok - 1);
	conn->resp_started = 1;
	conn->resp_status = 200;
	conn_set_state(conn, CONN_TUNNEL);
	conn_arm(conn, TIMER_IDLE);
	/* Bytes the client sent behind its CONNECT go first. */
	if (half_input_len(&conn->client) > 0)
		tunnel_relay(&conn->client);
	bufferevent_enable(conn->client.bev, EV_READ);
}

static void
tunnel_origin_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;

	(void)bev;
	tunnel_relay(&conn->origin);
}

static void
tunnel_origin_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*conn = arg;

	(void)bev;
	conn_origin_drained(conn);
}

static void
tunnel_origin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn		*conn = arg;
	enum upstream_error	 kind;
	char			*msg;
	int			 one = 1;

	if (what & BEV_EVENT_CONNECTED) {
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof one);
		conn->origin.connected = 1;
		tunnel_open(conn);
		return;
	}
	if (conn->state == CONN_CONNECT) {
		msg = upstream_connect_error(bev, conn->origin_name,
		    conn->origin_port, &kind);
		conn_fail(conn, 502, upstream_error_code(kind), "%s", msg);
		free(msg);
		return;
	}
	/* Send the client what the origin said last, then close. */
	tunnel_log(conn);
	conn_drain(conn);
}

/* --no-intercept: connect first; 200 and raw bytes once connected. */
static int
tunnel_raw(struct conn *conn)
{
	struct half	*o = &conn->origin;
	char		*cause = NULL;

	conn->raw_tunnel = 1;
	conn->origin_tls = 0;
	if (upstream_host_invalid(conn->origin_host)) {
		conn_fail(conn, 502, "upstream_dns",
		    "could not resolve host \"%s\": names under .invalid do "
		    "not exist (RFC 6761)", conn->origin_host);
		return -1;
	}
	o->plain = 1;
	o->bev = upstream_connect(conn->proxy->pool, 0, conn->origin_name,
	    conn->origin_host, conn->origin_port, &cause);
	if (o->bev == NULL) {
		conn_fail(conn, 502, "upstream_unreachable", "%s", cause);
		free(cause);
		return -1;
	}
	conn_set_state(conn, CONN_CONNECT);
	conn_arm(conn, TIMER_CONNECT);
	bufferevent_setcb(o->bev, tunnel_origin_read_cb,
	    tunnel_origin_write_cb, tunnel_origin_event_cb, conn);
	bufferevent_setwatermark(o->bev, EV_WRITE, HALF_RELAY_LOW, 0);
	bufferevent_set_max_single_read(o->bev, HALF_SINGLE_IO);
	bufferevent_set_max_single_write(o->bev, HALF_SINGLE_IO);
	bufferevent_enable(o->bev, EV_READ | EV_WRITE);
	return 1;
}

/* Intercept: 200 at once, then TLS with the client as the CONNECT host. */
static int
tunnel_intercept(struct conn *conn)
{
	struct proxy		*p = conn->proxy;
	struct half		*c = &conn->client;
	struct bufferevent	*under = c->bev, *bev;

	half_write(c, connect_ok, sizeof connect_ok - 1);
	/* ca_accept owns the socket bufferevent from here on. */
	c->bev = NULL;
	bev = ca_accept(p->ca, p->base, under, conn->tunnel.host);
	if (bev == NULL) {
		http_url_free(&conn->tunnel);
		conn_close(conn, "could not set up TLS for the client");
		return -1;
	}
	c->bev = bev;
	c->plain = 0;
	conn->have_tunnel = 1;
	half_parser_init(c);
	conn_client_setcb(conn);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	/* A ClientHello sent right behind the CONNECT is already here. */
	under = bufferevent_get_underlying(bev);
	if (under != NULL &&
	    evbuffer_get_length(bufferevent_get_input(under)) > 0)
		bufferevent_trigger(under, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
	log_debug("[#%" PRIu64 "] CONNECT %s:%d: intercepting TLS", conn->id,
	    conn->tunnel.host, conn->tunnel.port);
	conn_set_state(conn, CONN_HANDSHAKE);
	conn_arm(conn, TIMER_HEADER);
	return 1;
}

/*
 * Answer CONNECT. Return 1 (the client's bytes are no longer HTTP to parse
 * here) or -1 after an error answer.
 */
static int
tunnel_start(struct conn *conn)
{
	const char	*errstr;

	if (conn->have_tunnel) {
		conn_fail(conn, 400, "bad_request",
		    "CONNECT inside an HTTPS tunnel is not supported");
		return -1;
	}
	if (http_authority_parse(buf_str(&conn->client.url), &conn->tunnel,
	    &errstr) != 0) {
		conn_fail(conn, 400, "bad_request", "bad CONNECT target: %s",
		    errstr);
		return -1;
	}
	conn->target.scheme = xstrdup(conn->tunnel.scheme);
	conn->target.host = xstrdup(conn->tunnel.host);
	conn->target.port = conn->tunnel.port;
	conn->target.target = xstrdup("/");
	request_target_known(conn);
	conn->origin_host = xstrdup(conn->tunnel.host);
	conn->origin_name = xstrdup(conn->tunnel.host);
	conn->origin_port = conn->tunnel.port;
	/* Replay never opens a connection to an origin. */
	if (conn->proxy->mode != PROXY_REPLAY &&
	    options_no_intercept(conn->proxy->opts, conn->tunnel.host))
		return tunnel_raw(conn);
	return tunnel_intercept(conn);
}
