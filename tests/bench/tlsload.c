/* tlsload: a small HTTPS load generator for tests/bench/run --tls.
 *
 * wrk cannot send CONNECT, so this measures the two HTTPS figures of the
 * benchmark the same way whether it talks to the TLS origin straight or
 * through patchscope as an HTTPS proxy (CONNECT, then TLS inside the
 * tunnel):
 *
 *   keepalive  N threads, each with one kept-alive TLS connection, sending
 *              GETs one after the other (a closed loop, like wrk); requests/s.
 *   connect    N threads, each in a loop: TCP connect, [CONNECT], a full TLS
 *              handshake (no session resumption), one GET, close; new TLS
 *              connections/s.
 *
 * Both verify the server's certificate (--cafile, host name / IP check).
 * Output, for the run script: one `BENCH {json}` line and one
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
	double duration;
	double warmup;
	int sni_is_ip;
} opt = {
	.path = "/",
	.connections = 50,
	.duration = 10,
	.warmup = 0,
};

static SSL_CTX *ctx;
static char request[8192];
static size_t request_len;
static atomic_int phase; /* 0 warm-up, 1 measuring, 2 stop */
static struct addrinfo *connect_addr;

struct worker {
	pthread_t thread;
	uint64_t done;          /* requests (keepalive) or connections (connect) */
	uint64_t errors;
	uint64_t status_errors;
	uint64_t bytes;
	uint32_t *lat;          /* latencies in microseconds, measured phase */
	size_t nlat, caplat;
	char last_error[256];
	char buf[65536];        /* one response at a time */
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
	if (atomic_load(&phase) != 1)
		return;
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? 2 * w->caplat : 4096;
		w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
		if (!w->lat)
			die("%s", "out of memory");
	}
	double us = seconds * 1e6;
	w->lat[w->nlat++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

static void set_error(struct worker *w, const char *what)
{
	int err = errno;
	unsigned long e = ERR_peek_last_error();
	char buf[200] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	snprintf(w->last_error, sizeof w->last_error, "%s%s%s", what,
		 (e || err) ? ": " : "", e ? buf : (err ? strerror(err) : ""));
	ERR_clear_error();
	if (atomic_load(&phase) == 1)
		w->errors++;
}

static int tcp_connect(void)
{
	int fd = socket(connect_addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, connect_addr->ai_addr, connect_addr->ai_addrlen) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (opt.mode == MODE_CONNECT) {
		/* Reset on close: no TIME_WAIT pile-up on the client's ports. */
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	return fd;
}

/* Send CONNECT and read the answer's head; 0 when it is a 2xx. */
static int proxy_connect(int fd)
{
	char buf[2048];
	int n = snprintf(buf, sizeof buf,
			 "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", opt.target,
			 opt.target);
	if (write(fd, buf, (size_t)n) != n)
		return -1;
	/* Read byte by byte up to the blank line: nothing may be read past
	 * it (the TLS server speaks only after our ClientHello anyway). */
	size_t len = 0;
	while (len < sizeof buf - 1) {
		ssize_t r = read(fd, buf + len, 1);
		if (r <= 0)
			return -1;
		len++;
		if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	buf[len] = 0;
	if (strncmp(buf, "HTTP/1.", 7) != 0 || buf[9] != '2') {
		errno = 0;
		return -2;
	}
	return 0;
}

static SSL *tls_connect(int fd)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	SSL_set_fd(ssl, fd);
	const char *name = opt.sni ? opt.sni : opt.target_host;
	if (!opt.sni_is_ip)
		SSL_set_tlsext_host_name(ssl, name);
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	if (opt.sni_is_ip)
		X509_VERIFY_PARAM_set1_ip_asc(vp, name);
	else
		X509_VERIFY_PARAM_set1_host(vp, name, 0);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* Send the request and read one response (Content-Length or chunked is not
 * needed: the benchmark origin answers with Content-Length).  Returns the
 * status, 0 on a connection error; *close set when the server closes. */
static int exchange(SSL *ssl, struct worker *w, int *close_after)
{
	char *buf = w->buf;
	const size_t bufsize = sizeof w->buf;
	if (SSL_write(ssl, request, (int)request_len) != (int)request_len)
		return 0;
	size_t len = 0;
	char *end = NULL;
	while (!end) {
		if (len == bufsize - 1)
			return 0;
		int r = SSL_read(ssl, buf + len, (int)(bufsize - 1 - len));
		if (r <= 0)
			return 0;
		len += (size_t)r;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	size_t head = (size_t)(end - buf) + 4;
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return 0;
	long clen = -1;
	*close_after = 0;
	for (char *p = strstr(buf, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
		char *line = p + 2;
		if (strncasecmp(line, "content-length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "connection:", 11) == 0 &&
			 strncasecmp(line + 11 + strspn(line + 11, " "), "close", 5) == 0)
			*close_after = 1;
	}
	if (clen < 0)
		return 0; /* not what the benchmark origin sends */
	size_t want = head + (size_t)clen;
	while (len < want) {
		int r = SSL_read(ssl, buf, (int)(bufsize - 1));
		if (r <= 0)
			return 0;
		len += (size_t)r;
	}
	if (atomic_load(&phase) == 1)
		w->bytes += len;
	return status;
}

static void close_conn(SSL *ssl, int fd)
{
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
}

static int open_conn(struct worker *w, int *fdp, SSL **sslp)
{
	int fd = tcp_connect();
	if (fd < 0) {
		set_error(w, "connect");
		return -1;
	}
	if (opt.proxy) {
		int r = proxy_connect(fd);
		if (r < 0) {
			set_error(w, r == -2 ? "CONNECT not answered 2xx"
					     : "CONNECT");
			close(fd);
			return -1;
		}
	}
	SSL *ssl = tls_connect(fd);
	if (!ssl) {
		set_error(w, "TLS handshake");
		close(fd);
		return -1;
	}
	*fdp = fd;
	*sslp = ssl;
	return 0;
}

static void *run_keepalive(void *arg)
{
	struct worker *w = arg;
	int fd = -1;
	SSL *ssl = NULL;
	while (atomic_load(&phase) < 2) {
		if (!ssl && open_conn(w, &fd, &ssl) < 0) {
			usleep(10000);
			continue;
		}
		int close_after = 0;
		double t0 = now_s();
		int status = exchange(ssl, w, &close_after);
		double t1 = now_s();
		if (status == 0) {
			set_error(w, "exchange");
			close_conn(ssl, fd);
			ssl = NULL;
			fd = -1;
			continue;
		}
		if (atomic_load(&phase) == 1) {
			w->done++;
			if (status >= 400)
				w->status_errors++;
		}
		record(w, t1 - t0);
		if (close_after) {
			close_conn(ssl, fd);
			ssl = NULL;
			fd = -1;
		}
	}
	close_conn(ssl, fd);
	return NULL;
}

static void *run_connect(void *arg)
{
	struct worker *w = arg;
	while (atomic_load(&phase) < 2) {
		int fd = -1;
		SSL *ssl = NULL;
		double t0 = now_s();
		if (open_conn(w, &fd, &ssl) < 0) {
			usleep(10000);
			continue;
		}
		int close_after = 0;
		int status = exchange(ssl, w, &close_after);
		double t1 = now_s();
		close_conn(ssl, fd);
		if (status == 0) {
			set_error(w, "exchange");
			continue;
		}
		if (atomic_load(&phase) == 1) {
			w->done++;
			if (status >= 400)
				w->status_errors++;
		}
		record(w, t1 - t0);
	}
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
		"               [-H 'Name: value']... [-c N] [-d SECS] [--warmup SECS]\n");
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
		else if (strcmp(a, "-d") == 0)
			opt.duration = atof(v);
		else if (strcmp(a, "--warmup") == 0)
			opt.warmup = atof(v);
		else
			die("unknown option %s", a);
	}
	if (!opt.target || !opt.cafile)
		die("%s", "--target and --cafile are required");
	if (opt.connections < 1 || opt.duration <= 0)
		die("%s", "-c and -d must be positive");
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

	struct worker *ws = calloc((size_t)opt.connections, sizeof *ws);
	if (!ws)
		die("%s", "out of memory");
	atomic_store(&phase, opt.warmup > 0 ? 0 : 1);
	for (int i = 0; i < opt.connections; i++) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 512 * 1024);
		if (pthread_create(&ws[i].thread, &attr,
				   opt.mode == MODE_KEEPALIVE ? run_keepalive
							      : run_connect,
				   &ws[i]) != 0)
			die("%s", "cannot start a thread");
		pthread_attr_destroy(&attr);
	}
	if (opt.warmup > 0) {
		usleep((useconds_t)(opt.warmup * 1e6));
		atomic_store(&phase, 1);
	}
	double t0 = now_s();
	usleep((useconds_t)(opt.duration * 1e6));
	atomic_store(&phase, 2);
	double elapsed = now_s() - t0;
	/* Threads blocked on a dead peer would hang the join; the measured
	 * figures are taken now, and the process exits after a grace period. */
	uint64_t done = 0, errors = 0, status_errors = 0, bytes = 0;
	size_t nlat = 0;
	const char *last_error = "";
	for (int i = 0; i < opt.connections; i++) {
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 5;
		pthread_timedjoin_np(ws[i].thread, NULL, &dl);
		done += ws[i].done;
		errors += ws[i].errors;
		status_errors += ws[i].status_errors;
		bytes += ws[i].bytes;
		nlat += ws[i].nlat;
		if (ws[i].errors && ws[i].last_error[0])
			last_error = ws[i].last_error;
	}
	uint32_t *all = malloc((nlat ? nlat : 1) * sizeof *all);
	size_t k = 0;
	double sum = 0;
	for (int i = 0; i < opt.connections; i++)
		for (size_t j = 0; j < ws[i].nlat; j++) {
			all[k++] = ws[i].lat[j];
			sum += ws[i].lat[j];
		}
	qsort(all, nlat, sizeof *all, cmp_u32);
#define PCT(p) (nlat ? all[(size_t)((double)(nlat - 1) * (p) / 100.0)] : 0)
	double rate = done / elapsed;
	printf("BENCH {\"mode\": \"%s\", \"via_proxy\": %s, \"connections\": %d, "
	       "\"%s\": %llu, \"duration_us\": %.0f, \"bytes\": %llu, \"rate\": %.1f, "
	       "\"latency_us\": {\"min\": %u, \"mean\": %.1f, \"p50\": %u, \"p90\": %u, "
	       "\"p99\": %u, \"p99_9\": %u, \"max\": %u}, "
	       "\"errors\": %llu, \"status_errors\": %llu}\n",
	       opt.mode == MODE_KEEPALIVE ? "keepalive" : "connect",
	       opt.proxy ? "true" : "false", opt.connections,
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
	_exit(0);
}
