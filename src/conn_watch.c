/*
 * conn_watch: the shell side of client_watch. When an exchange ends, what
 * the client got (a whole answer or not, its status, its Retry-After) is
 * put as client_watch needs it, and the diagnoses it earns join the
 * exchange's own before the sinks see it: they reach the log and the
 * cassette entry, and the run's report.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>

#include "capture.h"
#include "client_watch.h"
#include "conn.h"
#include "http.h"
#include "netaddr.h"
#include "redact.h"
#include "xmalloc.h"

/* Note the client's address (without its port) for the watch. */
void
conn_watch_peer(struct conn *conn, const struct sockaddr *sa, int salen)
{
	if (salen < 0)
		salen = 0;
	netaddr_ip(sa, (socklen_t)salen, conn->peer, sizeof conn->peer);
}

/* Why the client did not get the whole answer, or NULL when it did. */
static const char *
conn_watch_lost(const struct conn *conn, const struct capture_info *info)
{
	const char	*f = conn->cap.fault;

	if (f != NULL) {
		if (strncmp(f, "reset", 5) == 0)
			return "the connection was reset";
		if (strncmp(f, "truncate", 8) == 0)
			return "the answer was cut short";
		if (strncmp(f, "hang", 4) == 0)
			return "no answer came";
		if (strncmp(f, "drop-response", 13) == 0)
			return "the connection closed before the answer";
	}
	if (info->status == 499 || info->status == 0)
		return "no answer came before the client gave up";
	if (info->code != NULL && conn->resp_started &&
	    conn->cap.status != 0 && !conn->cap.answered)
		return "the answer was cut short";
	return NULL;
}

static double
conn_watch_secs(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

void
conn_watch_exchange(struct conn *conn, const struct capture_info *info)
{
	struct proxy		*p = conn->proxy;
	struct capture		*cap = &conn->cap;
	struct client_event	 ev;
	struct timespec		 now;
	const char		*url;
	char			*shown;

	if (p->watch == NULL || cap->method == NULL)
		return;
	memset(&ev, 0, sizeof ev);
	ev.client = conn->peer;
	ev.conn_id = conn->id;
	ev.method = cap->method;
	ev.status = info->status == 499 ? 0 : info->status;
	ev.lost = conn_watch_lost(conn, info);
	ev.complete = ev.lost == NULL;
	ev.retry_after = -1;
	if (ev.complete && (ev.status == 429 || ev.status == 503))
		ev.retry_after = client_watch_retry_after(
		    http_headers_get(&cap->resp_headers, "Retry-After"),
		    time(NULL));
	/* Nothing pending and nothing to remember: no URL to format. */
	if (!client_watch_needs(p->watch, &ev))
		return;
	url = capture_url(cap);
	if (url == NULL)
		return;
	/* Keys and findings hold the URL as the log would show it. */
	shown = redact_url(p->redactor, url);
	ev.url = shown;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ev.start = conn_watch_secs(&cap->t_start);
	ev.end = conn_watch_secs(&now);
	client_watch_exchange(p->watch, &ev, &cap->diags);
	free(shown);
}
