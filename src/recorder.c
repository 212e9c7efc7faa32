/*
 * recorder: the crash-safe cassette writer (see recorder.h).
 *
 * The cost of a flush follows what is new, not the size of the file. As
 * Redis keeps two files that must not break, the recorder writes in two
 * ways (STYLE.md, "Files that must not break"):
 *
 * - The first flush of a session rewrites the whole file as rdbSave does:
 *   FILE.tmp (created fresh, O_EXCL|O_NOFOLLOW), fsync, rename over FILE,
 *   fsync the directory. It copies the old file's bytes by spans, laid out
 *   again (cassette_layout) so that only closing brackets and whitespace
 *   follow the entries: other tools' members after log.entries or after
 *   log move, bytes unchanged, to before it. A cassette cut off by an
 *   earlier crash is made whole here. From then on the recorder knows the
 *   file it wrote (device and inode), and a crash can only ever cut those
 *   closing bytes, never someone else's.
 * - Every later flush appends, as Redis's append-only file does: the
 *   closing bytes are cut off (ftruncate), one pwritev puts the queued
 *   entries where they were, followed by the closing bytes again, then
 *   fdatasync. It writes the new entries and a dozen bytes, whatever the
 *   size of the file.
 *
 * A kill -9 or a crash in the middle of an append can leave the file cut
 * inside its entries array, or without its closing brackets: always the
 * old file up to its last entry and the start of what was being written
 * (never new bytes then old ones, which the ftruncate first rules out). The loader
 * (cassette_parse) takes such a cut, after at least one complete entry,
 * with the entries before it and a warning, as Redis's aof-load-truncated
 * does; any other damage is still refused. The first write of a session is
 * whole (rename), so a cut always follows a complete entry. Entries that
 * were on disk more than a flush before a crash (at most about a second)
 * are never in the part a torn append rewrites.
 *
 * Before an append the file must still be the one written (same inode,
 * the size left): another program's changes are never written over (the
 * flush fails and is retried, entries kept in memory). When an append
 * fails (disk full), the closing bytes are put back and the file cut to
 * its old size, and the entries stay queued for the next try.
 *
 * Memory: the queued entries' text and the closing bytes. An existing file
 * is mapped to be checked at open, never copied into memory; it stays open
 * (read only) until the first flush has copied it.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
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

	/* Until the first flush: the file as opened, and how to lay it out. */
	int		 src;		/* read only; -1 once rewritten */
	struct cassette_span prefix[CASSETTE_PREFIX_SPANS];

	/* After it: the file this session wrote, appended to in place. */
	int		 appending;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 insert_at;	/* where the closing bytes start */
	int		 dirty;		/* a failed append may have left bytes
					   after insert_at */

	size_t		 nentries;	/* entries in the file */
	struct buf	 tail;		/* the closing bytes after the entries */
	struct buf	 queued;	/* entries' text not yet on disk */
	size_t		 nqueued;
	size_t		 added;
	mode_t		 mode;
	struct timespec	 last_flush;
	int		 failing;	/* the last flush failed */
};

static void	recorder_queued(struct recorder *);

static double
since_ms(const struct timespec *t)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1000.0 +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e6;
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

/* Write a and then b at off, in as few system calls as the kernel allows. */
static int
pwrite2_all(int fd, const struct buf *a, const struct buf *b, off_t off)
{
	struct iovec	 iov[2];
	struct iovec	*v = iov;
	ssize_t		 n;
	int		 cnt = 2;

	iov[0].iov_base = a->data;
	iov[0].iov_len = a->len;
	iov[1].iov_base = b->data;
	iov[1].iov_len = b->len;
	while (cnt > 0) {
		if (v->iov_len == 0) {
			v++;
			cnt--;
			continue;
		}
		n = pwritev(fd, v, cnt, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += n;
		while (cnt > 0 && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt > 0) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Copy the spans of the source file into fd. */
static int
copy_spans(int in, const struct cassette_span *span, size_t nspans, int out)
{
	char	*chunk;
	ssize_t	 n;
	size_t	 i, want, len;
	off_t	 off;
	int	 rc = -1;

	chunk = xmalloc(COPY_CHUNK);
	for (i = 0; i < nspans; i++) {
		off = (off_t)span[i].off;
		len = span[i].len;
		while (len > 0) {
			want = len < COPY_CHUNK ? len : COPY_CHUNK;
			n = pread(in, chunk, want, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = EIO;	/* it shrank */
				goto out;
			}
			if (write_all(out, chunk, (size_t)n) != 0)
				goto out;
			off += n;
			len -= (size_t)n;
		}
	}
	rc = 0;
out:
	free(chunk);
	return rc;
}

/* Append the bytes of the spans of the file in to b. */
static int
read_spans(int in, const struct cassette_span *span, size_t nspans,
    struct buf *b)
{
	char	chunk[4096];
	ssize_t	n;
	size_t	i, want, len;
	off_t	off;

	for (i = 0; i < nspans; i++) {
		off = (off_t)span[i].off;
		len = span[i].len;
		while (len > 0) {
			want = len < sizeof chunk ? len : sizeof chunk;
			n = pread(in, chunk, want, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				return -1;
			}
			buf_add(b, chunk, (size_t)n);
			off += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

static size_t
spans_len(const struct cassette_span *span, size_t nspans)
{
	size_t	i, n = 0;

	for (i = 0; i < nspans; i++)
		n += span[i].len;
	return n;
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
 * Write the whole file anew: the prefix (text when not NULL, else the
 * spans of the source file), the queued entries and the tail, to the
 * temporary file; sync it and rename it over the cassette. Remember the
 * new file, to append to it.
 */
static int
write_file(struct recorder *r, const struct buf *text, char **cause)
{
	struct stat	st;
	size_t		prefix_len;
	int		fd;

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
	prefix_len = text != NULL ? text->len :
	    spans_len(r->prefix, CASSETTE_PREFIX_SPANS);
	if ((text != NULL ? write_all(fd, text->data, text->len) :
	    copy_spans(r->src, r->prefix, CASSETTE_PREFIX_SPANS, fd)) != 0 ||
	    write_all(fd, r->queued.data, r->queued.len) != 0 ||
	    write_all(fd, r->tail.data, r->tail.len) != 0 ||
	    fsync(fd) != 0 || fstat(fd, &st) != 0) {
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
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->insert_at = (off_t)(prefix_len + r->queued.len);
	r->dirty = 0;
	return 0;
}

/*
 * Put the closing bytes back at insert_at and cut the file to its old
 * size, after a failed append. Best effort: if this fails too, the next
 * append writes over whatever is past insert_at (dirty).
 */
static void
append_undo(struct recorder *r, int fd)
{
	struct buf	none = { NULL, 0, 0 };

	if (pwrite2_all(fd, &r->tail, &none, r->insert_at) == 0 &&
	    ftruncate(fd, r->insert_at + (off_t)r->tail.len) == 0)
		r->dirty = 0;
	else
		r->dirty = 1;
}

/*
 * Append the queued entries in place: over the closing bytes, then the
 * closing bytes again, then fdatasync.
 */
static int
append_file(struct recorder *r, char **cause)
{
	struct stat	st;
	off_t		end = r->insert_at + (off_t)r->tail.len;
	int		fd;

	fd = open(r->path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		*cause = xasprintf("cannot open %s: %s", r->path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		*cause = xasprintf("cannot write %s: %s", r->path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != r->dev ||
	    st.st_ino != r->ino || (r->dirty ? st.st_size < r->insert_at :
	    st.st_size != end)) {
		*cause = xasprintf("%s was replaced or changed by another "
		    "program since patchscope wrote it; not writing into it",
		    r->path);
		close(fd);
		return -1;
	}
	/*
	 * The closing bytes go first, so that a write cut anywhere (a kill
	 * stops a write at a page boundary) leaves the file ending in what
	 * was written, never in new bytes followed by old ones.
	 */
	if (ftruncate(fd, r->insert_at) != 0 ||
	    pwrite2_all(fd, &r->queued, &r->tail, r->insert_at) != 0 ||
	    fdatasync(fd) != 0) {
		*cause = xasprintf("cannot write %s: %s", r->path,
		    strerror(errno));
		append_undo(r, fd);
		close(fd);
		return -1;
	}
	/* Synced: a failing close changes nothing on disk. */
	(void)close(fd);
	r->insert_at += (off_t)r->queued.len;
	r->dirty = 0;
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

/*
 * Map the existing cassette open as fd (size bytes) and check it; fill
 * layout. The map is dropped at once: pages of the file, not a copy.
 */
static int
check_existing(struct recorder *r, int fd, size_t size,
    struct cassette_layout *layout, char **cause)
{
	void	*map;
	char	*why = NULL, *msg;
	int	 rc;

	if (size > MAX_CASSETTE) {
		*cause = xasprintf("%s is larger than 4 GiB", r->path);
		return -1;
	}
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		*cause = xasprintf("cannot read %s: %s", r->path,
		    strerror(errno));
		return -1;
	}
	rc = cassette_parse(map, size, count_entry_cb, NULL, layout, &why);
	munmap(map, size);
	if (rc != 0) {
		*cause = xasprintf("%s: %s (the file is left as it is)",
		    r->path, why);
		free(why);
		return -1;
	}
	if (layout->cut) {
		msg = cassette_cut_message(layout);
		log_warnx("%s: %s; the file is made whole at the first write",
		    r->path, msg);
		free(msg);
	}
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
	int			 fd = -1, exists;

	r = xcalloc(1, sizeof *r);
	r->src = -1;
	r->path = xstrdup(path);
	r->tmp = xasprintf("%s.tmp", path);
	/* Non-blocking: a FIFO there must not hang the open. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	exists = fd != -1;
	if (!exists && errno != ENOENT) {
		*cause = xasprintf("cannot open %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (exists && fstat(fd, &st) != 0) {
		*cause = xasprintf("cannot read %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		*cause = xasprintf("%s is not a regular file", path);
		goto fail;
	}
	/* An empty file (made by mktemp, say) is a new cassette. */
	if (exists && st.st_size == 0) {
		exists = 0;
		private = private || (st.st_mode & 077) == 0;
		close(fd);
		fd = -1;
	}
	if (exists) {
		r->mode = st.st_mode & 07777;
		if (check_existing(r, fd, (size_t)st.st_size, &layout,
		    cause) != 0)
			goto fail;
		r->src = fd;
		fd = -1;
		memcpy(r->prefix, layout.prefix, sizeof r->prefix);
		r->nentries = layout.nentries;
		/* A cut cassette gets its closing bytes back at the first
		 * write; else they are its own, only whitespace and
		 * brackets: see cassette_layout. */
		if (layout.cut)
			cassette_closing(&r->tail);
		if (!layout.cut && read_spans(r->src, layout.tail,
		    CASSETTE_TAIL_SPANS, &r->tail) != 0) {
			*cause = xasprintf("cannot read %s: %s", path,
			    strerror(errno));
			goto fail;
		}
	} else {
		r->mode = private ? 0600 : 0644;
		cassette_empty(&text, PACKAGE_VERSION, &layout);
		buf_add(&r->tail, text.data + layout.insert_at,
		    text.len - layout.insert_at);
		text.len = layout.insert_at;
		if (write_file(r, &text, cause) != 0)
			goto fail;
		/* The first flush rewrites it too, from these bytes. */
		r->src = open(path, O_RDONLY | O_CLOEXEC);
		if (r->src == -1) {
			*cause = xasprintf("cannot open %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		r->prefix[0].len = layout.insert_at;
	}
	buf_free(&text);
	if (base != NULL)
		r->timer = evtimer_new(base, flush_cb, r);
	clock_gettime(CLOCK_MONOTONIC, &r->last_flush);
	return r;
fail:
	if (fd != -1)
		close(fd);
	if (r->src != -1)
		close(r->src);
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
	cassette_entry_text(entry, r->nentries + r->nqueued == 0, &r->queued);
	recorder_queued(r);
}

/* Queue an exchange's entry, written straight from the exchange. */
void
recorder_add_exchange(struct recorder *r, const struct exchange *x)
{
	cassette_entry_write(x, r->nentries + r->nqueued == 0, &r->queued);
	recorder_queued(r);
}

/* An entry was queued: count it and make sure a flush is coming. */
static void
recorder_queued(struct recorder *r)
{
	double		 wait;
	struct timeval	 tv;

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

/* Write what is queued: the whole file the first time, else in place. */
int
recorder_flush(struct recorder *r, char **cause)
{
	if (r->nqueued == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &r->last_flush);
	if (r->appending) {
		if (append_file(r, cause) != 0)
			return -1;
	} else {
		if (write_file(r, NULL, cause) != 0)
			return -1;
		close(r->src);
		r->src = -1;
		r->appending = 1;
	}
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
	if (r->src != -1)
		close(r->src);
	buf_free(&r->tail);
	buf_free(&r->queued);
	free(r->path);
	free(r->tmp);
	free(r);
	return rc;
}
