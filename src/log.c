/*
 * log: timestamped lines on stderr.
 *
 * Each line starts with the local time to the millisecond; connection lines
 * carry "[#id]" (added by the caller). libevent's warnings are routed here so
 * that nothing else writes to stderr behind our back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

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
