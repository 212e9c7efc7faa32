/*
 * doctor_serve: patchscope's own answers for DOCTOR_HOST (see
 * doctor_serve.h). Chosen in request_head() before any other handler, so
 * no --fault, replay lookup or origin connection touches these requests;
 * they are logged like any exchange and never recorded.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "capture.h"
#include "conn.h"
#include "doctor_serve.h"
#include "half.h"
#include "http.h"
#include "log.h"

#define DOCTOR_PATH_SHOWN	200	/* bytes of the path echoed back */

static int	doctor_start(struct conn *);
static void	doctor_request_done(struct conn *);

const struct handler doctor_serve_handler = {
	"doctor", doctor_start, doctor_request_done
};

/* Is the target DOCTOR_HOST or a name under it (any case, final dot)? */
int
doctor_serve_match(const struct conn *conn)
{
	const char	*host = conn->target.host;
	size_t		 len, dlen = strlen(DOCTOR_HOST);

	if (host == NULL)
		return 0;
	len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == dlen)
		return strncasecmp(host, DOCTOR_HOST, dlen) == 0;
	return len > dlen && host[len - dlen - 1] == '.' &&
	    strncasecmp(host + len - dlen, DOCTOR_HOST, dlen) == 0;
}

/* Nothing is forwarded: read the body (dropped), then answer. */
static int
doctor_start(struct conn *conn)
{
	conn_set_state(conn, CONN_READ_HELD);
	conn_arm(conn, TIMER_IDLE);
	return 0;
}

/* Append one git pkt-line holding s. */
static void
doctor_pkt(struct buf *b, const char *s, size_t len)
{
	buf_printf(b, "%04zx", len + 4);
	buf_add(b, s, len);
}

/*
 * git's smart HTTP (gitprotocol-http(5)): the advertisement of an empty
 * repository, so `git ls-remote` through the proxy ends with success.
 */
static void
doctor_git_refs(struct buf *body, struct http_headers *h)
{
	static const char	 caps[] = "0000000000000000000000000000000000000000"
	    " capabilities^{}\0agent=patchscope-doctor\n";

	http_headers_add(h, HTTP_LIT(HTTP_CONTENT_TYPE),
	    HTTP_LIT("application/x-git-upload-pack-advertisement"));
	doctor_pkt(body, "# service=git-upload-pack\n", 26);
	buf_adds(body, "0000");
	doctor_pkt(body, caps, sizeof caps - 1);
	buf_adds(body, "0000");
}

/* The whole request is in: answer it. */
static void
doctor_request_done(struct conn *conn)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct buf		 body = { NULL, 0, 0 };
	const char		*path = conn->target.target, *q, *p;
	size_t			 len;

	if (path == NULL)
		path = "/";
	q = strchr(path, '?');
	len = q != NULL ? (size_t)(q - path) : strlen(path);
	if (len >= 10 && strncmp(path + len - 10, "/info/refs", 10) == 0 &&
	    q != NULL && strstr(q, "service=git-upload-pack") != NULL)
		doctor_git_refs(&body, &h);
	else {
		http_headers_add(&h, HTTP_LIT(HTTP_CONTENT_TYPE),
		    HTTP_LIT("text/plain; charset=utf-8"));
		buf_adds(&body, "patchscope doctor: ");
		/* The path is the client's: printable ASCII only, bounded. */
		for (p = path; p < path + len && p < path + DOCTOR_PATH_SHOWN;
		    p++)
			buf_add(&body, *p > 0x20 && *p < 0x7f ? p : "?", 1);
		buf_printf(&body, " over %s\n", conn->target.scheme);
	}
	capture_own_answer(&conn->cap, 200, &h, body.data, body.len, 0);
	http_headers_set_length(&h, body.len);
	log_debug("[#%" PRIu64 "] doctor: answered over %s", conn->id,
	    conn->target.scheme);
	conn_answer(conn, 200, &h, body.data, body.len);
	conn->origin.msg_done = 1;
	http_headers_clear(&h);
	buf_free(&body);
	conn_exchange_finish(conn);
}
