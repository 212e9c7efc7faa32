/* tlsload: a small HTTPS load generator for tests/bench/run --tls.
 *
 * wrk cannot send CONNECT, so this measures the two HTTPS figures of the
 * benchmark the same way whether it talks to the TLS origin straight or
 * through patchscope as an HTTPS proxy (CONNECT, then TLS inside the
 * tunnel):
 *
 *   keepalive  -c N kept-alive TLS connections, each sending GETs one after
 *              the other (a closed loop, like wrk); requests/s.
 *   connect    -c N clients, each in a loop: TCP connect, [CONNECT], a full
 *              TLS handshake (no session resumption), one GET, close; new
 *              TLS connections/s.
 *
 * Like wrk it runs -t threads (default 2), each an epoll loop over its share
 * of the connections, with non-blocking sockets and OpenSSL.  It verifies
 * the server's certificate (--cafile, host name or IP check) and offers ALPN
 * http/1.1.  Output, for the run script: one `BENCH {json}` line and one
 * `BENCHKV key=value ...` line, as bench.lua prints for wrk.
 *
 * Build: cc -O2 -pthread -o tlsload tlsload.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_KEEPALIVE, MODE_CONNECT };

static struct {
	enum mode mode;
	const char *target;     /* host:port of the origin */
	char target_host[256];
	char target_port[16];
	const char *proxy;      /* host:port of the proxy, or NULL */
	char proxy_host[256];
	char proxy_port[16];
	const char *sni;        /* name to send and check; NULL: target host */
	const char *cafile;
	const char *path;
	char extra_headers[4096];
	int connections;
	int threads;
	double duration;
	double warmup;
	int sni_is_ip;
} opt = {
	.path = "/",
	.connections = 50,
	.threads = 2,
	.duration = 10,
	.warmup = 0,
};

static SSL_CTX *ctx;
static char request[8192];
static size_t request_len;
static char connect_request[1024];
static size_t connect_request_len;
static atomic_int phase; /* 0 warm-up, 1 measuring, 2 stop */
static struct addrinfo *connect_addr;

enum state {
	ST_IDLE,        /* waiting to (re)connect after an error */
	ST_TCP,         /* non-blocking connect in progress */
	ST_PROXY_SEND,  /* sending CONNECT */
	ST_PROXY_RECV,  /* reading the answer to CONNECT */
	ST_TLS,         /* TLS handshake */
	ST_SEND,        /* sending the GET */
	ST_RECV,        /* reading the response */
};

struct conn {
	enum state st;
	int fd;
	SSL *ssl;
	uint32_t events;        /* what epoll waits for now */
	size_t sent;            /* bytes of the current plain write */
	size_t len;             /* bytes in buf */
	size_t want;            /* total response size once the head is read */
	int close_after;
	int status;
	double t_conn;          /* start of the connection (connect mode) */
	double t_req;           /* start of the request */
	double retry_at;        /* ST_IDLE: when to try again */
	char buf[16384];
};

struct worker {
	pthread_t thread;
	int ep;
	struct conn *conns;
	int nconns;
	uint64_t done;          /* requests (keepalive) or connections (connect) */
	uint64_t errors;
	uint64_t status_errors;
	uint64_t bytes;
	uint32_t *lat;          /* latencies in microseconds, measured phase */
	size_t nlat, caplat;
	char last_error[256];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "tlsload: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static void split_hostport(const char *s, char *host, size_t hlen, char *port,
			   size_t plen)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1])
		die("not HOST:PORT: %s", s);
	size_t n = (size_t)(colon - s);
	if (n >= hlen || strlen(colon + 1) >= plen)
		die("too long: %s", s);
	memcpy(host, s, n);
	host[n] = 0;
	strcpy(port, colon + 1);
}

static void record(struct worker *w, double seconds)
{
	if (atomic_load_explicit(&phase, memory_order_relaxed) != 1)
		return;
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? 2 * w->caplat : 16384;
		w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
		if (!w->lat)
			die("%s", "out of memory");
	}
	double us = seconds * 1e6;
	w->lat[w->nlat++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

static int measuring(void)
{
	return atomic_load_explicit(&phase, memory_order_relaxed) == 1;
}

static void watch(struct worker *w, struct conn *c, uint32_t events)
{
	if (c->events == events)
		return;
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(w->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
	c->events = events;
}

static void drop(struct conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd); /* also removes it from epoll */
		c->fd = -1;
	}
	c->events = 0;
}

static void start(struct worker *w, struct conn *c);

static void fail(struct worker *w, struct conn *c, const char *what)
{
	int err = errno;
	unsigned long e = ERR_peek_last_error();
	char buf[200] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	snprintf(w->last_error, sizeof w->last_error, "%s%s%s", what,
		 (e || err) ? ": " : "", e ? buf : (err ? strerror(err) : ""));
	ERR_clear_error();
	if (measuring())
		w->errors++;
	drop(c);
	c->st = ST_IDLE;
	c->retry_at = now_s() + 0.01;
}

/* Start a new connection (non-blocking connect). */
static void start(struct worker *w, struct conn *c)
{
	c->fd = socket(connect_addr->ai_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail(w, c, "socket");
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (opt.mode == MODE_CONNECT) {
		/* Reset on close: no TIME_WAIT pile-up on the client's ports. */
		struct linger lg = { 1, 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	c->t_conn = now_s();
	c->len = c->sent = 0;
	c->events = 0;
	if (connect(c->fd, connect_addr->ai_addr, connect_addr->ai_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		fail(w, c, "connect");
		return;
	}
	c->st = ST_TCP;
	watch(w, c, EPOLLOUT);
}

static void begin_tls(struct worker *w, struct conn *c)
{
	c->ssl = SSL_new(ctx);
	if (!c->ssl) {
		fail(w, c, "SSL_new");
		return;
	}
	SSL_set_fd(c->ssl, c->fd);
	const char *name = opt.sni ? opt.sni : opt.target_host;
	if (!opt.sni_is_ip)
		SSL_set_tlsext_host_name(c->ssl, name);
	X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
	if (opt.sni_is_ip)
		X509_VERIFY_PARAM_set1_ip_asc(vp, name);
	else
		X509_VERIFY_PARAM_set1_host(vp, name, 0);
	SSL_set_connect_state(c->ssl);
	c->st = ST_TLS;
}

/* Parse the response head in c->buf; 1 when the head is complete (c->want
 * set), 0 when more is needed, -1 on a malformed or unsupported answer. */
static int parse_head(struct conn *c)
{
	c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = 0;
	char *end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return c->len >= sizeof c->buf - 1 ? -1 : 0;
	if (sscanf(c->buf, "HTTP/1.%*d %d", &c->status) != 1)
		return -1;
	long clen = -1;
	c->close_after = 0;
	for (char *p = strstr(c->buf, "\r\n"); p && p < end;
	     p = strstr(p + 2, "\r\n")) {
		char *line = p + 2;
		if (strncasecmp(line, "content-length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "connection:", 11) == 0 &&
			 strncasecmp(line + 11 + strspn(line + 11, " "), "close",
				     5) == 0)
			c->close_after = 1;
	}
	if (clen < 0)
		return -1; /* the benchmark origin always sends Content-Length */
	c->want = (size_t)(end - c->buf) + 4 + (size_t)clen;
	return 1;
}

static int ssl_wait(struct worker *w, struct conn *c, int r, const char *what)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		watch(w, c, EPOLLIN);
		return 0;
	case SSL_ERROR_WANT_WRITE:
		watch(w, c, EPOLLOUT);
		return 0;
	default:
		fail(w, c, what);
		return -1;
	}
}

/* Move c along as far as it goes without blocking. */
static void drive(struct worker *w, struct conn *c)
{
	for (;;) {
		if (atomic_load_explicit(&phase, memory_order_relaxed) == 2)
			return;
		switch (c->st) {
		case ST_IDLE:
			return;
		case ST_TCP: {
			int err = 0;
			socklen_t l = sizeof err;
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (err) {
				errno = err;
				fail(w, c, "connect");
				return;
			}
			if (opt.proxy) {
				c->st = ST_PROXY_SEND;
				c->sent = 0;
			} else {
				begin_tls(w, c);
				if (c->st != ST_TLS)
					return;
			}
			break;
		}
		case ST_PROXY_SEND: {
			ssize_t n = send(c->fd, connect_request + c->sent,
					 connect_request_len - c->sent, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN) {
					watch(w, c, EPOLLOUT);
					return;
				}
				fail(w, c, "CONNECT");
				return;
			}
			c->sent += (size_t)n;
			if (c->sent == connect_request_len) {
				c->st = ST_PROXY_RECV;
				c->len = 0;
			}
			break;
		}
		case ST_PROXY_RECV: {
			ssize_t n = recv(c->fd, c->buf + c->len,
					 sizeof c->buf - 1 - c->len, 0);
			if (n < 0 && errno == EAGAIN) {
				watch(w, c, EPOLLIN);
				return;
			}
			if (n <= 0) {
				fail(w, c, "CONNECT answer");
				return;
			}
			c->len += (size_t)n;
			c->buf[c->len] = 0;
			char *end = strstr(c->buf, "\r\n\r\n");
			if (!end) {
				if (c->len == sizeof c->buf - 1) {
					errno = 0;
					fail(w, c, "CONNECT answer too long");
					return;
				}
				break;
			}
			if (strncmp(c->buf, "HTTP/1.", 7) != 0 || c->buf[9] != '2' ||
			    (size_t)(end + 4 - c->buf) != c->len) {
				errno = 0;
				fail(w, c, "CONNECT not answered 2xx");
				return;
			}
			begin_tls(w, c);
			if (c->st != ST_TLS)
				return;
			break;
		}
		case ST_TLS: {
			int r = SSL_do_handshake(c->ssl);
			if (r != 1) {
				ssl_wait(w, c, r, "TLS handshake");
				return;
			}
			c->st = ST_SEND;
			c->t_req = now_s();
			break;
		}
		case ST_SEND: {
			int r = SSL_write(c->ssl, request, (int)request_len);
			if (r <= 0) {
				ssl_wait(w, c, r, "write");
				return;
			}
			c->st = ST_RECV;
			c->len = 0;
			c->want = 0;
			break;
		}
		case ST_RECV: {
			char *dst = c->want ? c->buf : c->buf + c->len;
			size_t room = c->want ? sizeof c->buf - 1
					      : sizeof c->buf - 1 - c->len;
			int r = SSL_read(c->ssl, dst, (int)room);
			if (r <= 0) {
				ssl_wait(w, c, r, "read");
				return;
			}
			if (c->want) {
				c->len += (size_t)r; /* body bytes past the buffer */
			} else {
				c->len += (size_t)r;
				int h = parse_head(c);
				if (h < 0) {
					errno = 0;
					fail(w, c, "bad response");
					return;
				}
				if (h == 0)
					break;
			}
			if (c->len < c->want)
				break;
			/* One response done. */
			double t = now_s();
			if (measuring()) {
				w->bytes += c->len;
				if (c->status >= 400)
					w->status_errors++;
			}
			if (opt.mode == MODE_KEEPALIVE) {
				if (measuring())
					w->done++;
				record(w, t - c->t_req);
				if (c->close_after) {
					drop(c);
					start(w, c);
					return;
				}
				c->st = ST_SEND;
				c->t_req = t;
			} else {
				if (measuring())
					w->done++;
				record(w, t - c->t_conn);
				SSL_shutdown(c->ssl); /* close_notify, no wait */
				drop(c);
				start(w, c);
				return;
			}
			break;
		}
		}
	}
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	for (int i = 0; i < w->nconns; i++) {
		w->conns[i].fd = -1;
		start(w, &w->conns[i]);
	}
	while (atomic_load(&phase) < 2) {
		int n = epoll_wait(w->ep, evs, 256, 10);
		for (int i = 0; i < n; i++)
			drive(w, evs[i].data.ptr);
		double t = now_s();
		for (int i = 0; i < w->nconns; i++)
			if (w->conns[i].st == ST_IDLE && w->conns[i].retry_at <= t)
				start(w, &w->conns[i]);
	}
	for (int i = 0; i < w->nconns; i++)
		drop(&w->conns[i]);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tlsload keepalive|connect --target HOST:PORT --cafile FILE\n"
		"               [--proxy HOST:PORT] [--sni NAME] [--path PATH]\n"
		"               [-H 'Name: value']... [-c CONNECTIONS] [-t THREADS]\n"
		"               [-d SECS] [--warmup SECS]\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "keepalive") == 0)
		opt.mode = MODE_KEEPALIVE;
	else if (strcmp(argv[1], "connect") == 0)
		opt.mode = MODE_CONNECT;
	else if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	} else {
		usage(stderr);
		return 2;
	}
	size_t hl = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			die("%s needs a value", a);
		const char *v = argv[++i];
		if (strcmp(a, "--target") == 0)
			opt.target = v;
		else if (strcmp(a, "--proxy") == 0)
			opt.proxy = v;
		else if (strcmp(a, "--sni") == 0)
			opt.sni = v;
		else if (strcmp(a, "--cafile") == 0)
			opt.cafile = v;
		else if (strcmp(a, "--path") == 0)
			opt.path = v;
		else if (strcmp(a, "-H") == 0) {
			int n = snprintf(opt.extra_headers + hl,
					 sizeof opt.extra_headers - hl, "%s\r\n", v);
			if (n < 0 || (size_t)n >= sizeof opt.extra_headers - hl)
				die("%s", "headers too long");
			hl += (size_t)n;
		} else if (strcmp(a, "-c") == 0)
			opt.connections = atoi(v);
		else if (strcmp(a, "-t") == 0)
			opt.threads = atoi(v);
		else if (strcmp(a, "-d") == 0)
			opt.duration = atof(v);
		else if (strcmp(a, "--warmup") == 0)
			opt.warmup = atof(v);
		else
			die("unknown option %s", a);
	}
	if (!opt.target || !opt.cafile)
		die("%s", "--target and --cafile are required");
	if (opt.connections < 1 || opt.threads < 1 || opt.duration <= 0)
		die("%s", "-c, -t and -d must be positive");
	if (opt.threads > opt.connections)
		opt.threads = opt.connections;
	split_hostport(opt.target, opt.target_host, sizeof opt.target_host,
		       opt.target_port, sizeof opt.target_port);
	if (opt.proxy)
		split_hostport(opt.proxy, opt.proxy_host, sizeof opt.proxy_host,
			       opt.proxy_port, sizeof opt.proxy_port);
	{
		const char *name = opt.sni ? opt.sni : opt.target_host;
		unsigned char tmp[16];
		opt.sni_is_ip = inet_pton(AF_INET, name, tmp) == 1 ||
				inet_pton(AF_INET6, name, tmp) == 1;
	}

	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	int gai = getaddrinfo(opt.proxy ? opt.proxy_host : opt.target_host,
			      opt.proxy ? opt.proxy_port : opt.target_port,
			      &hints, &connect_addr);
	if (gai)
		die("cannot resolve: %s", gai_strerror(gai));

	request_len = (size_t)snprintf(
		request, sizeof request,
		"GET %s HTTP/1.1\r\nHost: %s\r\n%s%s\r\n", opt.path, opt.target,
		opt.extra_headers,
		opt.mode == MODE_CONNECT ? "Connection: close\r\n" : "");
	connect_request_len = (size_t)snprintf(
		connect_request, sizeof connect_request,
		"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", opt.target, opt.target);

	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_load_verify_locations(ctx, opt.cafile, NULL) != 1)
		die("cannot load CA file %s", opt.cafile);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Every handshake in connect mode is a full one. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);

	struct worker *ws = calloc((size_t)opt.threads, sizeof *ws);
	if (!ws)
		die("%s", "out of memory");
	atomic_store(&phase, opt.warmup > 0 ? 0 : 1);
	for (int i = 0; i < opt.threads; i++) {
		struct worker *w = &ws[i];
		w->nconns = opt.connections / opt.threads +
			    (i < opt.connections % opt.threads);
		w->conns = calloc((size_t)w->nconns, sizeof *w->conns);
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (!w->conns || w->ep < 0)
			die("%s", "cannot set up a thread");
		if (pthread_create(&w->thread, NULL, run_worker, w) != 0)
			die("%s", "cannot start a thread");
	}
	if (opt.warmup > 0) {
		usleep((useconds_t)(opt.warmup * 1e6));
		atomic_store(&phase, 1);
	}
	double t0 = now_s();
	usleep((useconds_t)(opt.duration * 1e6));
	atomic_store(&phase, 2);
	double elapsed = now_s() - t0;
	uint64_t done = 0, errors = 0, status_errors = 0, bytes = 0;
	size_t nlat = 0;
	const char *last_error = "";
	for (int i = 0; i < opt.threads; i++) {
		pthread_join(ws[i].thread, NULL);
		done += ws[i].done;
		errors += ws[i].errors;
		status_errors += ws[i].status_errors;
		bytes += ws[i].bytes;
		nlat += ws[i].nlat;
		if (ws[i].errors && ws[i].last_error[0])
			last_error = ws[i].last_error;
	}
	uint32_t *all = malloc((nlat ? nlat : 1) * sizeof *all);
	if (!all)
		die("%s", "out of memory");
	size_t k = 0;
	double sum = 0;
	for (int i = 0; i < opt.threads; i++)
		for (size_t j = 0; j < ws[i].nlat; j++) {
			all[k++] = ws[i].lat[j];
			sum += ws[i].lat[j];
		}
	qsort(all, nlat, sizeof *all, cmp_u32);
#define PCT(p) (nlat ? all[(size_t)((double)(nlat - 1) * (p) / 100.0)] : 0)
	double rate = done / elapsed;
	printf("BENCH {\"mode\": \"%s\", \"via_proxy\": %s, \"connections\": %d, "
	       "\"threads\": %d, \"%s\": %llu, \"duration_us\": %.0f, \"bytes\": %llu, "
	       "\"rate\": %.1f, \"latency_us\": {\"min\": %u, \"mean\": %.1f, "
	       "\"p50\": %u, \"p90\": %u, \"p99\": %u, \"p99_9\": %u, \"max\": %u}, "
	       "\"errors\": %llu, \"status_errors\": %llu}\n",
	       opt.mode == MODE_KEEPALIVE ? "keepalive" : "connect",
	       opt.proxy ? "true" : "false", opt.connections, opt.threads,
	       opt.mode == MODE_KEEPALIVE ? "requests" : "tls_connections",
	       (unsigned long long)done, elapsed * 1e6, (unsigned long long)bytes,
	       rate, nlat ? all[0] : 0, nlat ? sum / nlat : 0.0, PCT(50), PCT(90),
	       PCT(99), PCT(99.9), nlat ? all[nlat - 1] : 0,
	       (unsigned long long)errors, (unsigned long long)status_errors);
	printf("BENCHKV rps=%.1f p50_us=%u p99_us=%u requests=%llu errors=%llu "
	       "status_errors=%llu\n",
	       rate, PCT(50), PCT(99), (unsigned long long)done,
	       (unsigned long long)errors, (unsigned long long)status_errors);
	if (errors && last_error[0])
		fprintf(stderr, "tlsload: %llu errors; the last: %s\n",
			(unsigned long long)errors, last_error);
	fflush(stdout);
	return 0;
}
