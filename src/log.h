/*
 * log: the one logging API. Everything goes to stderr; only main.c writes
 * to stdout.
 */
#ifndef PATCHSCOPE_LOG_H
#define PATCHSCOPE_LOG_H

#include <stdarg.h>

struct capture_info;
struct event_base;
struct exchange;

enum log_level {
	LOG_LEVEL_WARN = 0,	/* warnings and errors only (--quiet) */
	LOG_LEVEL_INFO,		/* one line per exchange (default) */
	LOG_LEVEL_DEBUG		/* connection state changes (--verbose) */
};

/* Set the level and route libevent's own messages into this log. */
void	log_init(enum log_level);
/* Return nonzero when messages at level would be written. */
int	log_enabled(enum log_level);
/* Log at info level (per-exchange lines). */
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log at debug level. */
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log a warning with strerror(errno) appended. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log a warning. */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Write one line to stderr as it is (a JSON log record), no prefix. */
void	log_raw(const char *line);
/* Return nonzero when stderr is a terminal (colour is then welcome). */
int	log_is_tty(void);
/*
 * While base's loop runs, collect lines and write them once per loop pass
 * (or when 16 KiB wait); warnings and errors still go out at once.
 */
void	log_buffer_start(struct event_base *);
/* Write what is waiting; lines go out at once from now on. */
void	log_buffer_stop(void);
/* Write what is waiting (also run at exit). */
void	log_flush(void);
/*
 * The log's sink of finished exchanges: one line per exchange (or one JSON
 * object with json), and its diagnoses compiler style under it; color
 * paints their severities.
 */
void	log_exchange(const struct exchange *, const struct capture_info *,
	    int json, int color);
/* Log an error with strerror(errno) and exit 2. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* Log an error and exit 2. */
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
