/*
 * recorder: the crash-safe cassette writer (see recorder.h).
 *
 * The file is kept as three parts: the bytes before the point where
 * entries go (on disk only; copied at each flush), the entries queued since
 * the last flush (in memory, already as text), and the short tail after
 * the entries array (in memory). A flush writes prefix + queued + tail to
 * FILE.tmp, fsyncs it, renames it over FILE and fsyncs the directory
 * (Redis's rdbSave), so a reader or a crash only ever sees the old file or
 * the new one. Flushes happen from a timer, at most about once a second.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "log.h"
#include "recorder.h"
#include "xmalloc.h"

#define FLUSH_INTERVAL_MS	900	/* leaves room for the write itself */
#define COPY_CHUNK		(256 * 1024)
#define MAX_CASSETTE		((size_t)4 << 30)	/* 4 GiB */

struct recorder {
	char		*path;
	char		*tmp;
	struct event	*timer;
	size_t		 insert_at;	/* where entries go in the file */
	size_t		 nentries;	/* entries in the file */
	struct buf	 tail;		/* the file's bytes after insert_at */
	struct buf	 queued;	/* entries' text not yet on disk */
	size_t		 nqueued;
	size_t		 added;
	mode_t		 mode;
	struct timespec	 last_flush;
	int		 failing;	/* the last flush failed */
};

static double
since_ms(const struct timespec *t)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1000.0 +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

/* Read a whole file into b; -1 with *cause (ENOENT left in errno). */
static int
read_file(const char *path, struct buf *b, char **cause)
{
	char	chunk[65536];
	ssize_t	n;
	int	fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		*cause = xasprintf("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*cause = xasprintf("cannot read %s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (b->len + (size_t)n > MAX_CASSETTE) {
			*cause = xasprintf("%s is larger than 4 GiB", path);
			close(fd);
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy the first len bytes of path into fd. */
static int
copy_prefix(const char *path, int out, size_t len)
{
	char	*chunk;
	ssize_t	 n;
	size_t	 want;
	int	 in, rc = -1;

	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in == -1)
		return -1;
	chunk = xmalloc(COPY_CHUNK);
	while (len > 0) {
		want = len < COPY_CHUNK ? len : COPY_CHUNK;
		n = read(in, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* the file shrank under us */
			goto out;
		}
		if (write_all(out, chunk, (size_t)n) != 0)
			goto out;
		len -= (size_t)n;
	}
	rc = 0;
out:
	free(chunk);
	close(in);
	return rc;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void
sync_dir(const char *path)
{
	char	*copy, *dir;
	int	 fd;

	copy = xstrdup(path);
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/*
 * Write prefix (the first prefix_len bytes of the current file, or of
 * initial when it is not NULL), the queued entries and the tail to the
 * temporary file, sync it and rename it over the cassette.
 */
static int
write_file(struct recorder *r, const struct buf *initial, char **cause)
{
	int	fd;

	/*
	 * A fresh file, never one found there: a link planted at FILE.tmp
	 * would otherwise be followed and the file it names overwritten.
	 */
	if (unlink(r->tmp) != 0 && errno != ENOENT && errno != EISDIR)
		log_debug("unlink %s: %s", r->tmp, strerror(errno));
	fd = open(r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    r->mode);
	if (fd == -1) {
		*cause = xasprintf("cannot create %s: %s", r->tmp,
		    strerror(errno));
		return -1;
	}
	(void)fchmod(fd, r->mode);
	if ((initial != NULL ? write_all(fd, initial->data, r->insert_at) :
	    copy_prefix(r->path, fd, r->insert_at)) != 0 ||
	    write_all(fd, r->queued.data, r->queued.len) != 0 ||
	    write_all(fd, r->tail.data, r->tail.len) != 0 ||
	    fsync(fd) != 0) {
		*cause = xasprintf("cannot write %s: %s", r->tmp,
		    strerror(errno));
		close(fd);
		unlink(r->tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(r->tmp, r->path) != 0) {
		*cause = xasprintf("cannot replace %s: %s", r->path,
		    strerror(errno));
		unlink(r->tmp);
		return -1;
	}
	sync_dir(r->path);
	return 0;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct recorder	*r = arg;
	struct timeval	 retry = { 1, 0 };
	char		*cause = NULL;

	(void)fd;
	(void)what;
	if (recorder_flush(r, &cause) != 0) {
		if (!r->failing)
			log_warnx("cassette: %s; %zu exchange(s) kept in memory "
			    "and tried again every second", cause, r->nqueued);
		r->failing = 1;
		free(cause);
		evtimer_add(r->timer, &retry);
	} else if (r->failing) {
		log_info("cassette: %s written again", r->path);
		r->failing = 0;
	}
}

static int
count_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	(void)index;
	(void)arg;
	(void)cause;
	exchange_free(x);
	return 0;
}

/* Open a cassette for appending. */
struct recorder *
recorder_open(struct event_base *base, const char *path, int private,
    char **cause)
{
	struct recorder		*r;
	struct cassette_layout	 layout;
	struct buf		 text = { NULL, 0, 0 };
	struct stat		 st;
	char			*why = NULL;
	int			 exists;

	exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		*cause = xasprintf("%s is not a regular file", path);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->path = xstrdup(path);
	r->tmp = xasprintf("%s.tmp", path);
	/* An empty file (made by mktemp, say) is a new cassette. */
	if (exists && st.st_size == 0) {
		exists = 0;
		private = private || (st.st_mode & 077) == 0;
	}
	if (exists) {
		r->mode = st.st_mode & 07777;
		if (read_file(path, &text, cause) != 0)
			goto fail;
		if (cassette_parse(text.data != NULL ? text.data : "", text.len,
		    count_entry_cb, NULL, &layout, &why) != 0) {
			*cause = xasprintf("%s: %s (the file is left as it "
			    "is)", path, why);
			free(why);
			goto fail;
		}
	} else {
		r->mode = private ? 0600 : 0644;
		cassette_empty(&text, PACKAGE_VERSION, &layout);
	}
	r->insert_at = layout.insert_at;
	r->nentries = layout.nentries;
	buf_add(&r->tail, text.data + layout.insert_at,
	    text.len - layout.insert_at);
	if (!exists && write_file(r, &text, cause) != 0)
		goto fail;
	buf_free(&text);
	if (base != NULL)
		r->timer = evtimer_new(base, flush_cb, r);
	clock_gettime(CLOCK_MONOTONIC, &r->last_flush);
	return r;
fail:
	buf_free(&text);
	buf_free(&r->tail);
	free(r->path);
	free(r->tmp);
	free(r);
	return NULL;
}

/* Queue an entry and make sure a flush is due within a second. */
void
recorder_add(struct recorder *r, json_t *entry)
{
	double		 wait;
	struct timeval	 tv;

	cassette_entry_text(entry, r->nentries + r->nqueued == 0, &r->queued);
	r->nqueued++;
	r->added++;
	if (r->timer == NULL || evtimer_pending(r->timer, NULL))
		return;
	wait = FLUSH_INTERVAL_MS - since_ms(&r->last_flush);
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec * 1000) * 1000);
	evtimer_add(r->timer, &tv);
}

/* Write what is queued. */
int
recorder_flush(struct recorder *r, char **cause)
{
	if (r->nqueued == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &r->last_flush);
	if (write_file(r, NULL, cause) != 0)
		return -1;
	r->insert_at += r->queued.len;
	r->nentries += r->nqueued;
	r->nqueued = 0;
	buf_reset(&r->queued);
	return 0;
}

size_t
recorder_added(const struct recorder *r)
{
	return r->added;
}

size_t
recorder_written(const struct recorder *r)
{
	return r->added - r->nqueued;
}

const char *
recorder_path(const struct recorder *r)
{
	return r->path;
}

/* Flush and free. */
int
recorder_close(struct recorder *r, char **cause)
{
	char	*why = NULL;
	int	 rc;

	if (r == NULL)
		return 0;
	rc = recorder_flush(r, &why);
	if (cause != NULL)
		*cause = why;
	else
		free(why);
	if (r->timer != NULL)
		event_free(r->timer);
	buf_free(&r->tail);
	buf_free(&r->queued);
	free(r->path);
	free(r->tmp);
	free(r);
	return rc;
}
