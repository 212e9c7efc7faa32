/*
 * log: timestamped lines on stderr.
 *
 * Each line starts with the local time to the millisecond; connection lines
 * carry "[#id]" (added by the caller). libevent's warnings are routed here so
 * that nothing else writes to stderr behind our back.
 *
 * While the server's loop runs (log_buffer_start), lines are collected and
 * written together once per loop pass, or as soon as LOG_BUF_BYTES are
 * waiting: a busy proxy then costs a write(2) per pass (per PIPE_BUF bytes
 * of lines), not one per exchange. Each write holds whole lines and, where
 * the lines allow, at most PIPE_BUF bytes, so two processes sharing a
 * terminal, a file or a pipe never see each other's lines cut. Warnings and errors
 * go out at once (with what was waiting before them), and what is waiting
 * is written at exit, including exit() after a fatal error.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "buf.h"
#include "capture.h"
#include "diagnose.h"
#include "exchange.h"
#include "log.h"

#define LOG_BUF_BYTES	16384	/* written when this much is waiting */
#define LOG_LINE_BYTES	1024	/* a line formatted without malloc */

static enum log_level log_level = LOG_LEVEL_INFO;

/* Lines waiting for the end of the loop pass. */
static struct {
	struct event	*flush;		/* NULL: lines go out at once */
	int		 pending;	/* flush is active */
	size_t		 len;
	char		 buf[LOG_BUF_BYTES];
} log_out;

static void	log_vwrite(const char *, const char *, va_list, int)
		    __attribute__((format(printf, 2, 0)));

/*
 * Write all of p to stderr (a line, or lines, whole). A full pipe or a
 * non-blocking stderr is waited for (a moment at a time) rather than cut.
 */
static void
log_write_all(const char *p, size_t len)
{
	struct pollfd	pfd;
	ssize_t		n;

	while (len > 0) {
		n = write(STDERR_FILENO, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			pfd.fd = STDERR_FILENO;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 1000) > 0)
				continue;
			return;
		}
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Write whole lines, at most PIPE_BUF bytes a write where the lines allow:
 * POSIX keeps such a write to a pipe in one piece, so another process
 * sharing the pipe (2>&1 | tee) never lands inside one of our lines.
 */
static void
log_write_lines(const char *p, size_t len)
{
	const char	*nl;
	size_t		 n;

	while (len > 0) {
		n = len <= PIPE_BUF ? len : PIPE_BUF;
		/* The last line end within the first n bytes. */
		nl = n < len ? memrchr(p, '\n', n) : p + n - 1;
		if (nl == NULL)
			/* One line longer than PIPE_BUF: it goes out whole. */
			nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) + 1 : len;
		log_write_all(p, n);
		p += n;
		len -= n;
	}
}

/* Write what is waiting. */
void
log_flush(void)
{
	int	saved = errno;

	if (log_out.len > 0) {
		log_write_lines(log_out.buf, log_out.len);
		log_out.len = 0;
	}
	errno = saved;
}

static void
log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_out.pending = 0;
	log_flush();
}

/* Send out one whole line (with its newline): now, or at the pass's end. */
static void
log_emit(const char *line, size_t len, int now)
{
	if (log_out.flush == NULL) {
		/* Anything stdio holds for stderr goes first. */
		fflush(stderr);
		log_write_lines(line, len);
		return;
	}
	if (log_out.len + len > sizeof log_out.buf)
		log_flush();
	if (len > sizeof log_out.buf)
		log_write_lines(line, len);
	else {
		memcpy(log_out.buf + log_out.len, line, len);
		log_out.len += len;
	}
	if (now)
		log_flush();
	else if (!log_out.pending && log_out.len > 0) {
		log_out.pending = 1;
		event_active(log_out.flush, EV_TIMEOUT, 1);
	}
}

/* Collect lines and write them once per pass of base's loop. */
void
log_buffer_start(struct event_base *base)
{
	static int	registered;

	if (log_out.flush != NULL)
		return;
	log_out.flush = event_new(base, -1, 0, log_flush_cb, NULL);
	if (log_out.flush == NULL)
		return;
	if (!registered && atexit(log_flush) == 0)
		registered = 1;
}

/* Write what is waiting; lines go out at once from now on. */
void
log_buffer_stop(void)
{
	log_flush();
	if (log_out.flush != NULL)
		event_free(log_out.flush);
	log_out.flush = NULL;
	log_out.pending = 0;
}

static void
log_vwrite(const char *tag, const char *fmt, va_list ap, int with_errno)
{
	struct timeval	tv;
	struct tm	tm;
	struct buf	big = { NULL, 0, 0 };
	va_list		ap2;
	char		stamp[32], line[LOG_LINE_BYTES], *p = line;
	int		saved = errno, n, m;
	size_t		len;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	n = snprintf(line, sizeof line, "%s.%03d %s", stamp,
	    (int)(tv.tv_usec / 1000), tag);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	va_copy(ap2, ap);
	m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap2);
	va_end(ap2);
	if (m < 0)
		m = 0;
	len = (size_t)n + (size_t)m;
	if (len + 64 >= sizeof line) {
		/* A long line: format it again where it fits. */
		buf_add(&big, line, (size_t)n);
		buf_vprintf(&big, fmt, ap);
		p = big.data;
		len = big.len;
	}
	if (with_errno) {
		if (p == line)
			len += (size_t)snprintf(line + len, sizeof line - len,
			    ": %s", strerror(saved));
		else {
			buf_printf(&big, ": %s", strerror(saved));
			p = big.data;
			len = big.len;
		}
	}
	if (p == line)
		line[len++] = '\n';
	else {
		buf_add(&big, "\n", 1);
		p = big.data;
		len = big.len;
	}
	/* Warnings and errors are seen at once. */
	log_emit(p, len, *tag == 'w' || *tag == 'e');
	buf_free(&big);
	errno = saved;
}

static void
log_event_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

/* Set the level and route libevent's messages here. */
void
log_init(enum log_level level)
{
	log_level = level;
	event_set_log_callback(log_event_cb);
	setvbuf(stderr, NULL, _IOLBF, 0);
}

/* Nonzero when level is enabled. */
int
log_enabled(enum log_level level)
{
	return level <= log_level;
}

/* Info-level line. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite("", fmt, ap, 0);
	va_end(ap);
}

/* Debug-level line. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite("debug: ", fmt, ap, 0);
	va_end(ap);
}

/* A line as it is. */
void
log_raw(const char *line)
{
	struct buf	b = { NULL, 0, 0 };

	buf_adds(&b, line);
	buf_add(&b, "\n", 1);
	log_emit(b.data, b.len, 0);
	buf_free(&b);
}

/* Is stderr a terminal? */
int
log_is_tty(void)
{
	return isatty(STDERR_FILENO);
}

/* Warning with errno. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("warning: ", fmt, ap, 1);
	va_end(ap);
}

/* Warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("warning: ", fmt, ap, 0);
	va_end(ap);
}

/* Error with errno, then exit 2. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("error: ", fmt, ap, 1);
	va_end(ap);
	exit(2);
}

/* Error, then exit 2. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("error: ", fmt, ap, 0);
	va_end(ap);
	exit(2);
}

/* The JSON record of an exchange, for --log-json. */
static void
log_exchange_json(const struct exchange *x, const struct capture_info *info)
{
	json_t	*rec;
	char	*line;

	rec = json_pack("{s:I, s:s, s:s, s:i, s:I, s:I, s:f, s:o}",
	    "id", (json_int_t)info->conn_id, "method",
	    x->method != NULL ? x->method : "-", "url", x->url, "status",
	    info->status, "req_bytes", (json_int_t)info->req_bytes,
	    "resp_bytes", (json_int_t)info->resp_bytes, "ms", info->ms,
	    "diagnoses", x->diagnoses != NULL ? json_incref(x->diagnoses) :
	    json_array());
	if (rec == NULL)
		return;
	if (info->code != NULL) {
		json_object_set_new(rec, "error", json_string(info->code));
		json_object_set_new(rec, "message",
		    json_string(info->message));
	}
	if (x->fault != NULL)
		json_object_set_new(rec, "fault", json_string(x->fault));
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line != NULL)
		log_raw(line);
	free(line);
	json_decref(rec);
}

/* The diagnoses of an exchange, compiler style, under its line. */
static void
log_exchange_diags(const struct exchange *x, const struct capture_info *info,
    int color)
{
	static const char	*colors[] = {
		[DIAG_ERROR] = "\033[1;31m", [DIAG_WARNING] = "\033[1;33m",
		[DIAG_INFO] = "\033[1;36m"
	};
	struct buf		 line = { NULL, 0, 0 };
	const char		*code;
	json_t			*d;
	size_t			 i;
	int			 lost = 0;

	for (i = 0; i < json_array_size(x->diagnoses); i++) {
		d = json_array_get(x->diagnoses, i);
		buf_reset(&line);
		if (diag_format_json(d, &line) != 0)
			continue;
		if (color)
			log_info("[#%" PRIu64 "]   %s%s\033[0m", info->conn_id,
			    colors[diag_severity_json(d)], buf_str(&line));
		else
			log_info("[#%" PRIu64 "]   %s", info->conn_id,
			    buf_str(&line));
		code = json_string_value(json_object_get(d, "code"));
		if (code != NULL && strcmp(code, "actions.partial") == 0)
			lost = 1;
	}
	/* The API takes such a PATCH silently: that is the data loss. */
	if (lost && x->status >= 200 && x->status < 300)
		log_warnx("[#%" PRIu64 "] the API accepted a PATCH whose "
		    "actions array left out existing actions: they are now "
		    "deleted (see actions.partial above)", info->conn_id);
	buf_free(&line);
}

/* One info line per exchange: what, where, outcome, bytes, time. */
void
log_exchange(const struct exchange *x, const struct capture_info *info,
    int json, int color)
{
	const char	*method = x->method != NULL ? x->method : "-";
	const char	*fault = x->fault != NULL ? " fault=" : "";
	const char	*kind = x->fault != NULL ? x->fault : "";

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	if (json)
		log_exchange_json(x, info);
	else if (info->code != NULL)
		log_info("[#%" PRIu64 "] %s %s -> %d %s: %s (req %" PRIu64
		    " B, resp %" PRIu64 " B, %.1f ms)%s%s", info->conn_id,
		    method, x->url, info->status, info->code, info->message,
		    info->req_bytes, info->resp_bytes, info->ms, fault, kind);
	else
		log_info("[#%" PRIu64 "] %s %s -> %d (req %" PRIu64
		    " B, resp %" PRIu64 " B, %.1f ms)%s%s", info->conn_id,
		    method, x->url, info->status, info->req_bytes,
		    info->resp_bytes, info->ms, fault, kind);
	if (!json && x->diagnoses != NULL)
		log_exchange_diags(x, info, color);
}
