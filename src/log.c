/*
 * log: timestamped lines on stderr.
 *
 * Each line starts with the local time to the millisecond; connection lines
 * carry "[#id]" (added by the caller). libevent's warnings are routed here so
 * that nothing else writes to stderr behind our back.
 */
#include "config.h"

#include <errno.h>
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

static enum log_level log_level = LOG_LEVEL_INFO;

static void	log_vwrite(const char *, const char *, va_list, int)
		    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(const char *tag, const char *fmt, va_list ap, int with_errno)
{
	struct timeval	tv;
	struct tm	tm;
	char		stamp[32];
	int		saved = errno;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03d %s", stamp, (int)(tv.tv_usec / 1000), tag);
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	funlockfile(stderr);
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
	flockfile(stderr);
	fputs(line, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
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

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	if (json)
		log_exchange_json(x, info);
	else if (info->code != NULL)
		log_info("[#%" PRIu64 "] %s %s -> %d %s: %s (req %" PRIu64
		    " B, resp %" PRIu64 " B, %.1f ms)", info->conn_id, method,
		    x->url, info->status, info->code, info->message,
		    info->req_bytes, info->resp_bytes, info->ms);
	else
		log_info("[#%" PRIu64 "] %s %s -> %d (req %" PRIu64
		    " B, resp %" PRIu64 " B, %.1f ms)", info->conn_id, method,
		    x->url, info->status, info->req_bytes, info->resp_bytes,
		    info->ms);
	if (!json && x->diagnoses != NULL)
		log_exchange_diags(x, info, color);
}
