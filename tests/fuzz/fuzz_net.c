/*
 * fuzz_net: one client connection and a loopback origin, both driven on the
 * proxy's event loop, for the network fuzz targets.
 *
 * Invariants: every call of fuzz_client returns with its socket closed and
 * its events freed; origin connections own a copy of the answer they write,
 * so no input buffer of libFuzzer is used after its run; nothing waits on
 * the wall clock longer than FUZZ_DEADLINE_S.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"
#include "fuzz_net.h"

/* Quiet loop passes (1 ms apart) before a late half-close. */
#define SETTLE_QUIET		3
#define SETTLE_TICKS_MAX	2000
/* Request bytes an origin connection keeps looking at. */
#define ORIGIN_MAX_REQUEST	(1024 * 1024)

static char	fuzz_home_dir[256];
static int	fuzz_say_fd = 2;

/* Ignore SIGPIPE, keep stderr for findings, start the log. */
void
fuzz_net_init(void)
{
	int	fd;

	signal(SIGPIPE, SIG_IGN);
	if ((fd = dup(2)) >= 0)
		fuzz_say_fd = fd;
	log_init(fuzz_log_level());
}

/* One line on the saved stderr. */
void
fuzz_say(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	dprintf(fuzz_say_fd, "fuzz: ");
	vdprintf(fuzz_say_fd, fmt, ap);
	dprintf(fuzz_say_fd, "\n");
	va_end(ap);
}

static void
fuzz_home_remove(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[512];

	if (fuzz_home_dir[0] == '\0' || (d = opendir(fuzz_home_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", fuzz_home_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(fuzz_home_dir);
}

/* Make the scratch home once; removed at exit. */
const char *
fuzz_home(void)
{
	const char	*tmp = getenv("TMPDIR");

	if (fuzz_home_dir[0] != '\0')
		return fuzz_home_dir;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(fuzz_home_dir, sizeof fuzz_home_dir,
	    "%s/patchscope-fuzz-XXXXXX", tmp);
	if (mkdtemp(fuzz_home_dir) == NULL) {
		fuzz_say("mkdtemp: %s", strerror(errno));
		abort();
	}
	atexit(fuzz_home_remove);
	return fuzz_home_dir;
}

/* PATCHSCOPE_FUZZ_LOG=warn|info|debug. */
enum log_level
fuzz_log_level(void)
{
	const char	*v = getenv("PATCHSCOPE_FUZZ_LOG");

	if (v != NULL && strcmp(v, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (v != NULL && strcmp(v, "info") == 0)
		return LOG_LEVEL_INFO;
	return LOG_LEVEL_WARN;
}

/* Bits 0-1: write size; bit 2: late half-close. */
void
fuzz_plan_from_byte(uint8_t b, struct fuzz_plan *plan)
{
	static const size_t	chunks[] = { 0, 1, 7, 64 };

	plan->chunk = chunks[b & 3];
	plan->late_shutdown = (b & 4) != 0;
	plan->wait_answer = 0;
}

/* How many bytes the next write may take. */
static size_t
plan_next_write(const struct fuzz_plan *plan, size_t off, size_t left)
{
	if (plan->chunk == 0 || off >= FUZZ_CHUNKED_MAX || left <= plan->chunk)
		return left;
	return plan->chunk;
}

static int
addr_parse(const char *addr, struct sockaddr_in *sin)
{
	const char	*colon = strrchr(addr, ':');
	char		 host[64];

	if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/* --- the client ------------------------------------------------------- */

struct client {
	struct event_base	*base;
	int			 fd;
	const uint8_t		*data;
	size_t			 len;
	size_t			 off;
	struct fuzz_plan	 plan;
	struct event		*rev;
	struct event		*wev;
	struct event		*next;		/* next chunk, a pass later */
	struct event		*settle;	/* late half-close */
	struct event		*deadline;
	int			 shut;
	int			 done;
	int			 timed_out;
	size_t			 received;
	size_t			 last_received;
	int			 quiet;
	int			 ticks;
	char			 head[8];
};

static void
client_deadline_arm(struct client *c)
{
	struct timeval	tv = { FUZZ_DEADLINE_S, 0 };

	evtimer_add(c->deadline, &tv);
}

static void
client_shut(struct client *c)
{
	if (c->shut)
		return;
	c->shut = 1;
	(void)shutdown(c->fd, SHUT_WR);
	evtimer_del(c->settle);
	client_deadline_arm(c);
}

static void
client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	static char	 sink[65536];
	ssize_t		 n;
	size_t		 keep;

	(void)what;
	for (;;) {
		n = recv(fd, sink, sizeof sink, 0);
		if (n > 0) {
			if (c->received < sizeof c->head) {
				keep = sizeof c->head - c->received;
				if (keep > (size_t)n)
					keep = (size_t)n;
				memcpy(c->head + c->received, sink, keep);
			}
			c->received += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		/* EOF, or a reset: the proxy is done with us. */
		c->done = 1;
		event_base_loopbreak(c->base);
		return;
	}
}

static void
client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	struct timeval	 now = { 0, 0 }, tick = { 0, 1000 };
	size_t		 want;
	ssize_t		 n;

	(void)what;
	if (c->off < c->len) {
		want = plan_next_write(&c->plan, c->off, c->len - c->off);
		n = send(fd, c->data + c->off, want, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			event_add(c->wev, NULL);
			return;
		}
		if (n < 0) {
			/* The proxy closed on us (EPIPE, ECONNRESET). */
			c->off = c->len;
			client_shut(c);
			return;
		}
		c->off += (size_t)n;
		if (c->off < c->len) {
			if (c->plan.chunk != 0 && c->off < FUZZ_CHUNKED_MAX)
				evtimer_add(c->next, &now);
			else
				event_add(c->wev, NULL);
			return;
		}
	}
	if (c->plan.late_shutdown)
		evtimer_add(c->settle, &tick);
	else
		client_shut(c);
}

static void
client_next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;

	(void)fd;
	(void)what;
	event_add(c->wev, NULL);
}

/* Half-close once the answer has stopped growing for a few passes. */
static void
client_settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;

	(void)fd;
	(void)what;
	c->ticks++;
	if (c->received != c->last_received) {
		c->last_received = c->received;
		c->quiet = 0;
	} else
		c->quiet++;
	if ((c->quiet >= SETTLE_QUIET &&
	    (c->received > 0 || !c->plan.wait_answer)) ||
	    c->ticks >= SETTLE_TICKS_MAX)
		client_shut(c);
}

static void
client_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;

	(void)fd;
	(void)what;
	c->timed_out = 1;
	event_base_loopbreak(c->base);
}

/* One connection through the proxy; see fuzz_net.h. */
size_t
fuzz_client(struct event_base *base, const char *addr, const uint8_t *data,
    size_t len, const struct fuzz_plan *plan)
{
	struct client		c;
	struct sockaddr_in	sin;
	int			i;

	memset(&c, 0, sizeof c);
	c.base = base;
	c.data = data;
	c.len = len;
	c.plan = *plan;
	if (addr_parse(addr, &sin) != 0) {
		fuzz_say("bad proxy address %s", addr);
		abort();
	}
	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c.fd < 0 || (connect(c.fd, (struct sockaddr *)&sin, sizeof sin) !=
	    0 && errno != EINPROGRESS)) {
		fuzz_say("connect to the proxy: %s", strerror(errno));
		abort();
	}
	c.rev = event_new(base, c.fd, EV_READ | EV_PERSIST, client_read_cb,
	    &c);
	c.wev = event_new(base, c.fd, EV_WRITE, client_write_cb, &c);
	c.next = evtimer_new(base, client_next_cb, &c);
	c.settle = event_new(base, -1, EV_PERSIST, client_settle_cb, &c);
	c.deadline = evtimer_new(base, client_deadline_cb, &c);
	event_add(c.rev, NULL);
	event_add(c.wev, NULL);
	client_deadline_arm(&c);
	while (!c.done && !c.timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	if (c.timed_out) {
		fuzz_say("the proxy kept the connection open %d s "
		    "after the client's last byte (%zu of %zu bytes sent, %zu "
		    "received, %s)", FUZZ_DEADLINE_S, c.off, c.len,
		    c.received, c.shut ? "half-closed" : "not half-closed");
		abort();
	}
	if (c.received > 0 && memcmp(c.head, "HTTP/1.", c.received < 7 ?
	    c.received : 7) != 0) {
		fuzz_say("the proxy's answer does not start with "
		    "HTTP/1.: \"%.*s\"", (int)(c.received < 8 ? c.received :
		    8), c.head);
		abort();
	}
	event_free(c.rev);
	event_free(c.wev);
	event_free(c.next);
	event_free(c.settle);
	event_free(c.deadline);
	close(c.fd);
	/* Let the proxy see the close and free the connection. */
	for (i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	return c.received;
}

/* --- the origin --------------------------------------------------------- */

struct origin_conn {
	LIST_ENTRY(origin_conn)	 entry;
	struct fuzz_origin	*origin;
	int			 fd;
	struct event		*rev;
	struct event		*wev;
	struct event		*next;
	struct buf		 in;
	uint8_t			*answer;
	size_t			 len;
	size_t			 off;
	struct fuzz_plan	 plan;
	int			 answering;
	int			 shut;
};

struct fuzz_origin {
	struct event_base		*base;
	int				 fd;
	int				 port;
	struct event			*lev;
	uint8_t				*answer;
	size_t				 len;
	struct fuzz_plan		 plan;
	LIST_HEAD(, origin_conn)	 conns;
};

static void
origin_conn_free(struct origin_conn *oc)
{
	LIST_REMOVE(oc, entry);
	event_free(oc->rev);
	event_free(oc->wev);
	event_free(oc->next);
	close(oc->fd);
	buf_free(&oc->in);
	free(oc->answer);
	free(oc);
}

/* Find name (lower case, with its colon) at a line start of the head. */
static const char *
head_field(const char *head, size_t len, const char *name)
{
	size_t	n = strlen(name), i;

	for (i = 0; i + 2 + n <= len; i++) {
		if (head[i] == '\r' && head[i + 1] == '\n' &&
		    strncasecmp(head + i + 2, name, n) == 0)
			return head + i + 2 + n;
	}
	return NULL;
}

/* Nonzero when the bytes read hold a whole request. */
static int
request_complete(const struct buf *in)
{
	const char	*end, *v;
	size_t		 head;
	unsigned long	 cl;

	if (in->len == 0 ||
	    (end = memmem(in->data, in->len, "\r\n\r\n", 4)) == NULL)
		return 0;
	head = (size_t)(end - in->data) + 4;
	if ((v = head_field(in->data, head, "content-length:")) != NULL) {
		cl = strtoul(v, NULL, 10);
		return in->len - head >= cl;
	}
	if (head_field(in->data, head, "transfer-encoding:") != NULL)
		return in->len >= head + 5 &&
		    memcmp(in->data + in->len - 5, "0\r\n\r\n", 5) == 0;
	return 1;
}

static void
origin_conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn	*oc = arg;
	struct timeval		 now = { 0, 0 };
	size_t			 want;
	ssize_t			 n;

	(void)what;
	if (oc->off < oc->len) {
		want = plan_next_write(&oc->plan, oc->off, oc->len - oc->off);
		n = send(fd, oc->answer + oc->off, want, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			event_add(oc->wev, NULL);
			return;
		}
		if (n < 0) {
			origin_conn_free(oc);
			return;
		}
		oc->off += (size_t)n;
		if (oc->off < oc->len) {
			if (oc->plan.chunk != 0 && oc->off < FUZZ_CHUNKED_MAX)
				evtimer_add(oc->next, &now);
			else
				event_add(oc->wev, NULL);
			return;
		}
	}
	/* All written: half-close, and read on until the proxy closes. */
	oc->shut = 1;
	(void)shutdown(fd, SHUT_WR);
}

static void
origin_conn_next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn	*oc = arg;

	(void)fd;
	(void)what;
	event_add(oc->wev, NULL);
}

static void
origin_conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_conn	*oc = arg;
	char			 chunk[16384];
	ssize_t			 n;

	(void)what;
	for (;;) {
		n = recv(fd, chunk, sizeof chunk, 0);
		if (n > 0) {
			if (oc->in.len + (size_t)n <= ORIGIN_MAX_REQUEST)
				buf_add(&oc->in, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* The proxy closed (or reset) its side. */
		if (!oc->answering || oc->shut || n < 0) {
			origin_conn_free(oc);
			return;
		}
		event_del(oc->rev);
		break;
	}
	if (!oc->answering && request_complete(&oc->in)) {
		oc->answering = 1;
		event_add(oc->wev, NULL);
	}
}

static void
origin_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fuzz_origin	*o = arg;
	struct origin_conn	*oc;
	int			 s;

	(void)what;
	while ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
	    0) {
		oc = xcalloc(1, sizeof *oc);
		oc->origin = o;
		oc->fd = s;
		oc->len = o->len;
		oc->answer = xmalloc(o->len + 1);
		if (o->len > 0)
			memcpy(oc->answer, o->answer, o->len);
		oc->plan = o->plan;
		oc->rev = event_new(o->base, s, EV_READ | EV_PERSIST,
		    origin_conn_read_cb, oc);
		oc->wev = event_new(o->base, s, EV_WRITE, origin_conn_write_cb,
		    oc);
		oc->next = evtimer_new(o->base, origin_conn_next_cb, oc);
		event_add(oc->rev, NULL);
		LIST_INSERT_HEAD(&o->conns, oc, entry);
	}
}

/* Listen on a free loopback port. */
struct fuzz_origin *
fuzz_origin_new(struct event_base *base)
{
	struct fuzz_origin	*o;
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof sin;

	o = xcalloc(1, sizeof *o);
	o->base = base;
	LIST_INIT(&o->conns);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	o->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (o->fd < 0 || bind(o->fd, (struct sockaddr *)&sin, sizeof sin) !=
	    0 || listen(o->fd, 64) != 0 ||
	    getsockname(o->fd, (struct sockaddr *)&sin, &sl) != 0) {
		fuzz_say("origin socket: %s", strerror(errno));
		abort();
	}
	o->port = ntohs(sin.sin_port);
	o->lev = event_new(base, o->fd, EV_READ | EV_PERSIST, origin_accept_cb,
	    o);
	event_add(o->lev, NULL);
	return o;
}

/* The listening port. */
int
fuzz_origin_port(const struct fuzz_origin *o)
{
	return o->port;
}

/* The answer for the next connections. */
void
fuzz_origin_set(struct fuzz_origin *o, const uint8_t *data, size_t len,
    const struct fuzz_plan *plan)
{
	free(o->answer);
	o->answer = xmalloc(len + 1);
	if (len > 0)
		memcpy(o->answer, data, len);
	o->len = len;
	o->plan = *plan;
}

/* Close every connection. */
void
fuzz_origin_reset(struct fuzz_origin *o)
{
	struct origin_conn	*oc;

	while ((oc = LIST_FIRST(&o->conns)) != NULL)
		origin_conn_free(oc);
	free(o->answer);
	o->answer = NULL;
	o->len = 0;
}
