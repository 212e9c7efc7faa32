/*
 * Unit tests for recorder: the crash-safe cassette writer. Each test works
 * in its own directory under one temporary directory that the fixture
 * makes and removes (in the parent, so a failed test leaves nothing).
 *
 * Writes are made to fail in ways root cannot bypass (the tests may run as
 * root, where a read-only directory stops nothing): a directory where
 * FILE.tmp goes (open gives EISDIR), or a directory where the cassette was
 * (its bytes cannot be copied).
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "http.h"
#include "recorder.h"
#include "xmalloc.h"
#include "unit.h"

static char	 top[] = "/tmp/check_recorder.XXXXXX";
static int	 ntest;

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(top));
}

static void
teardown(void)
{
	nftw(top, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Where the source tree is (make check sets it; else the current dir). */
static const char *
srcdir(void)
{
	const char	*d = getenv("PATCHSCOPE_SRCDIR");

	return d != NULL ? d : ".";
}

/* A fresh directory for this test; return the path of name in it. */
static char *
test_path(const char *name)
{
	char	*dir, *path;

	dir = xasprintf("%s/t%d.%ld", top, ntest++, (long)getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	path = xasprintf("%s/%s", dir, name);
	free(dir);
	return path;
}

static void
read_all(const char *path, struct buf *b)
{
	char	 chunk[4096];
	size_t	 n;
	FILE	*f;

	buf_reset(b);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(b, chunk, n);
	fclose(f);
}

static void
write_all(const char *path, const char *data, size_t len, mode_t mode)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static int
url_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct buf	*urls = arg;

	(void)index;
	(void)cause;
	buf_printf(urls, "%s %s\n", x->method, x->url);
	exchange_free(x);
	return 0;
}

/*
 * Load the cassette at path as `cassette` does; return its entries as
 * "METHOD URL" lines (caller frees).
 */
static char *
load(const char *path)
{
	struct buf	 text = { NULL, 0, 0 }, urls = { NULL, 0, 0 };
	char		*cause = NULL, *s;

	read_all(path, &text);
	ck_assert_msg(cassette_parse(text.data != NULL ? text.data : "",
	    text.len, url_cb, &urls, NULL, &cause) == 0, "%s: %s", path,
	    cause);
	s = xstrdup(buf_str(&urls));
	buf_free(&text);
	buf_free(&urls);
	return s;
}

/* Return the HAR entry of a GET of url (a new reference). */
static json_t *
entry_of(const char *url)
{
	struct exchange	 x;
	json_t		*entry;

	exchange_init(&x);
	x.started = xstrdup("2026-12-02T15:00:00.000Z");
	x.method = xstrdup("GET");
	x.url = xstrdup(url);
	x.http_version = xstrdup("HTTP/1.1");
	x.status = 200;
	x.reason = xstrdup("OK");
	http_headers_add(&x.resp_headers, HTTP_LIT(HTTP_CONTENT_TYPE),
	    HTTP_LIT("application/json"));
	exchange_body_set(&x.resp_body, "{\"id\": \"p1\"}", 12);
	entry = cassette_entry_encode(&x);
	ck_assert_ptr_nonnull(entry);
	exchange_free(&x);
	return entry;
}

/* Queue the HAR entry of a GET of url; the recorder takes its reference. */
static void
add(struct recorder *r, const char *url)
{
	json_t	*entry = entry_of(url);

	recorder_add(r, entry);
	json_decref(entry);
}

static struct recorder *
open_ok(struct event_base *base, const char *path, int private)
{
	struct recorder	*r;
	char		*cause = NULL;

	r = recorder_open(base, path, private, &cause);
	ck_assert_msg(r != NULL, "%s", cause);
	return r;
}

static void
close_ok(struct recorder *r)
{
	char	*cause = NULL;

	ck_assert_msg(recorder_close(r, &cause) == 0, "%s", cause);
	ck_assert_ptr_null(cause);
}

static void
flush_ok(struct recorder *r)
{
	char	*cause = NULL;

	ck_assert_msg(recorder_flush(r, &cause) == 0, "%s", cause);
}

static int
exists(const char *path)
{
	struct stat	st;

	return lstat(path, &st) == 0;
}

static mode_t
mode_of(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static ino_t
inode_of(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

static char *
tmp_of(const char *path)
{
	return xasprintf("%s.tmp", path);
}

#define U1	"http://127.0.0.1:41581/v1/acc1/profiles/p1"
#define U2	"http://127.0.0.1:41581/v1/acc1/profiles/p2"
#define U3	"https://api.example.com/v1/profiles/p3?fields=actions"

START_TEST(open_creates_an_empty_cassette_at_once)
{
	char		*path = test_path("new.har"), *tmp = tmp_of(path);
	struct recorder	*r;
	char		*got;

	r = open_ok(NULL, path, 0);
	ck_assert(exists(path));
	ck_assert(!exists(tmp));
	ck_assert_str_eq(recorder_path(r), path);
	got = load(path);
	ck_assert_str_eq(got, "");
	free(got);
	ck_assert_uint_eq(recorder_added(r), 0);
	ck_assert_uint_eq(recorder_written(r), 0);
	ck_assert_uint_eq(mode_of(path), 0644);
	close_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "");
	free(got);
	free(tmp);
	free(path);
}
END_TEST

START_TEST(flush_writes_entries_that_load_back_in_order)
{
	char		*path = test_path("c.har"), *tmp = tmp_of(path);
	struct recorder	*r;
	char		*got;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	add(r, U2);
	add(r, U3);
	flush_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\nGET " U3 "\n");
	free(got);
	ck_assert(!exists(tmp));
	/* More entries go after those. */
	add(r, U3);
	flush_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\nGET " U3 "\nGET " U3
	    "\n");
	free(got);
	close_ok(r);
	free(tmp);
	free(path);
}
END_TEST

START_TEST(counts_follow_what_is_added_and_written)
{
	char		*path = test_path("c.har");
	struct recorder	*r;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	add(r, U2);
	ck_assert_uint_eq(recorder_added(r), 2);
	ck_assert_uint_eq(recorder_written(r), 0);
	flush_ok(r);
	ck_assert_uint_eq(recorder_added(r), 2);
	ck_assert_uint_eq(recorder_written(r), 2);
	add(r, U3);
	ck_assert_uint_eq(recorder_added(r), 3);
	ck_assert_uint_eq(recorder_written(r), 2);
	flush_ok(r);
	ck_assert_uint_eq(recorder_written(r), 3);
	close_ok(r);
	free(path);
}
END_TEST

START_TEST(flush_of_nothing_writes_nothing)
{
	char		*path = test_path("c.har");
	struct recorder	*r;
	struct buf	 before = { NULL, 0, 0 }, after = { NULL, 0, 0 };
	ino_t		 ino;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	flush_ok(r);
	read_all(path, &before);
	ino = inode_of(path);
	/* A rewrite would rename a new file (a new inode) over it. */
	flush_ok(r);
	flush_ok(r);
	ck_assert_uint_eq(inode_of(path), ino);
	read_all(path, &after);
	ck_assert_uint_eq(after.len, before.len);
	ck_assert_int_eq(memcmp(after.data, before.data, before.len), 0);
	/* Closing with nothing queued does not rewrite either. */
	close_ok(r);
	ck_assert_uint_eq(inode_of(path), ino);
	buf_free(&before);
	buf_free(&after);
	free(path);
}
END_TEST

START_TEST(first_flush_replaces_the_file_by_rename_then_appends)
{
	char		*path = test_path("c.har"), *tmp = tmp_of(path), *got;
	struct recorder	*r;
	ino_t		 ino;

	r = open_ok(NULL, path, 0);
	ino = inode_of(path);
	/* A stale FILE.tmp (a crash mid-write) is written over. */
	write_all(tmp, "half a cassette", 15, 0644);
	add(r, U1);
	flush_ok(r);
	/* A new file took the old one's name; the temporary one is gone. */
	ck_assert_uint_ne(inode_of(path), ino);
	ck_assert(!exists(tmp));
	/* Later flushes write into that file, in place. */
	ino = inode_of(path);
	add(r, U2);
	flush_ok(r);
	ck_assert_uint_eq(inode_of(path), ino);
	ck_assert(!exists(tmp));
	close_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\n");
	free(got);
	free(tmp);
	free(path);
}
END_TEST

START_TEST(open_existing_keeps_its_entries_and_bytes)
{
	char			*path = test_path("story.har"), *src, *got;
	char			*want, *cause = NULL;
	struct buf		 orig = { NULL, 0, 0 }, now = { NULL, 0, 0 };
	struct cassette_layout	 layout;
	struct recorder		*r;
	ino_t			 ino;

	/* A cassette written by someone else: its own layout and spacing. */
	src = xasprintf("%s/cassettes/seed-story.har", srcdir());
	read_all(src, &orig);
	free(src);
	write_all(path, orig.data, orig.len, 0640);
	ck_assert_int_eq(cassette_parse(orig.data, orig.len, url_cb, &now,
	    &layout, &cause), 0);
	ck_assert_uint_eq(layout.nentries, 4);
	want = xstrdup(buf_str(&now));
	ino = inode_of(path);

	/* Opened and closed with nothing added: not touched. */
	r = open_ok(NULL, path, 0);
	ck_assert_uint_eq(recorder_written(r), 0);
	close_ok(r);
	ck_assert_uint_eq(inode_of(path), ino);
	read_all(path, &now);
	ck_assert_uint_eq(now.len, orig.len);
	ck_assert_int_eq(memcmp(now.data, orig.data, orig.len), 0);

	/* One entry added: the bytes before and after it are the old ones. */
	r = open_ok(NULL, path, 1);
	add(r, U3);
	close_ok(r);
	read_all(path, &now);
	ck_assert_uint_gt(now.len, orig.len);
	ck_assert_int_eq(memcmp(now.data, orig.data, layout.insert_at), 0);
	ck_assert_int_eq(memcmp(now.data + now.len - (orig.len -
	    layout.insert_at), orig.data + layout.insert_at, orig.len -
	    layout.insert_at), 0);
	got = load(path);
	ck_assert_int_eq(strncmp(got, want, strlen(want)), 0);
	ck_assert_str_eq(got + strlen(want), "GET " U3 "\n");
	/* Its mode is its own (private applies to a new file). */
	ck_assert_uint_eq(mode_of(path), 0640);
	free(got);
	free(want);
	buf_free(&orig);
	buf_free(&now);
	free(path);
}
END_TEST

START_TEST(reopen_appends_after_the_entries_it_wrote)
{
	char		*path = test_path("c.har"), *got;
	struct recorder	*r;

	r = open_ok(NULL, path, 0);
	close_ok(r);
	/* An empty entries array, then one that has entries. */
	r = open_ok(NULL, path, 0);
	add(r, U1);
	close_ok(r);
	r = open_ok(NULL, path, 0);
	ck_assert_uint_eq(recorder_added(r), 0);
	add(r, U2);
	add(r, U3);
	close_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\nGET " U3 "\n");
	free(got);
	free(path);
}
END_TEST

START_TEST(open_an_empty_file_makes_a_new_cassette)
{
	char		*path = test_path("made-by-mktemp.har"), *got;
	struct recorder	*r;

	/* mktemp makes 0600: that is taken as asking for privacy. */
	write_all(path, "", 0, 0600);
	r = open_ok(NULL, path, 0);
	ck_assert_uint_eq(mode_of(path), 0600);
	add(r, U1);
	close_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\n");
	ck_assert_uint_eq(mode_of(path), 0600);
	free(got);
	free(path);

	path = test_path("touched.har");
	write_all(path, "", 0, 0644);
	r = open_ok(NULL, path, 0);
	close_ok(r);
	ck_assert_uint_eq(mode_of(path), 0644);
	got = load(path);
	ck_assert_str_eq(got, "");
	free(got);
	free(path);
}
END_TEST

START_TEST(private_makes_the_file_readable_by_its_owner_only)
{
	char		*path = test_path("secret.har");
	struct recorder	*r;
	mode_t		 old;

	/* Whatever the umask. */
	old = umask(0);
	r = open_ok(NULL, path, 1);
	ck_assert_uint_eq(mode_of(path), 0600);
	add(r, U1);
	flush_ok(r);
	ck_assert_uint_eq(mode_of(path), 0600);
	add(r, U2);
	close_ok(r);
	ck_assert_uint_eq(mode_of(path), 0600);
	umask(old);
	free(path);
}
END_TEST

START_TEST(open_refuses_what_is_not_a_cassette)
{
	char		*path = test_path("notes.txt"), *cause = NULL, *dir;
	struct buf	 now = { NULL, 0, 0 };

	write_all(path, "not json\n", 9, 0644);
	ck_assert_ptr_null(recorder_open(NULL, path, 0, &cause));
	ck_assert_ptr_nonnull(strstr(cause, path));
	ck_assert_ptr_nonnull(strstr(cause, "left as it is"));
	free(cause);
	read_all(path, &now);
	ck_assert_str_eq(buf_str(&now), "not json\n");
	buf_free(&now);
	free(path);

	/* A directory. */
	dir = test_path("");
	cause = NULL;
	ck_assert_ptr_null(recorder_open(NULL, dir, 0, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not a regular file"));
	free(cause);

	/* A directory that does not exist: fails at open, not later. */
	path = xasprintf("%s/missing/c.har", dir);
	cause = NULL;
	ck_assert_ptr_null(recorder_open(NULL, path, 0, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "cannot create"));
	free(cause);
	free(path);
	free(dir);
}
END_TEST

/*
 * Flush with this process allowed to write files up to size bytes only
 * (RLIMIT_FSIZE holds for root too): a write past it stops there, then
 * fails with EFBIG, as on a full disk. No assertion runs meanwhile: Check
 * writes its own messages to a file.
 */
static int
flush_with_file_size_limit(struct recorder *r, size_t size, char **cause)
{
	struct rlimit	rl, old;
	int		rc, set;

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)size;
	/* Even a passing assertion writes to Check's file: none until the
	 * limit is lifted again (its file may be past size already). */
	set = setrlimit(RLIMIT_FSIZE, &rl);
	rc = set == 0 ? recorder_flush(r, cause) : 0;
	(void)setrlimit(RLIMIT_FSIZE, &old);
	ck_assert_int_eq(set, 0);
	return rc;
}

START_TEST(failed_flush_keeps_the_file_and_the_entries_for_a_retry)
{
	char		*path = test_path("c.har"), *tmp = tmp_of(path);
	char		*cause = NULL, *got;
	struct buf	 before = { NULL, 0, 0 }, after = { NULL, 0, 0 };
	struct recorder	*r;

	r = open_ok(NULL, path, 0);
	read_all(path, &before);
	/* The first flush (a whole new file): FILE.tmp cannot be created,
	 * the write fails, even for root. */
	ck_assert_int_eq(mkdir(tmp, 0755), 0);
	add(r, U1);
	ck_assert_int_eq(recorder_flush(r, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, tmp));
	free(cause);
	cause = NULL;
	read_all(path, &after);
	ck_assert_str_eq(buf_str(&after), buf_str(&before));
	ck_assert_uint_eq(recorder_written(r), 0);
	ck_assert_int_eq(rmdir(tmp), 0);
	flush_ok(r);
	read_all(path, &before);

	/* An append: the disk fills up in the middle of the new entries. */
	add(r, U2);
	add(r, U3);
	ck_assert_int_eq(flush_with_file_size_limit(r, before.len + 100,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, path));
	ck_assert_ptr_nonnull(strstr(cause, strerror(EFBIG)));
	free(cause);
	cause = NULL;
	/* The cassette is as it was; the entries wait in memory. */
	read_all(path, &after);
	ck_assert_uint_eq(after.len, before.len);
	ck_assert_int_eq(memcmp(after.data, before.data, before.len), 0);
	ck_assert_uint_eq(recorder_added(r), 3);
	ck_assert_uint_eq(recorder_written(r), 1);
	/* Still failing: still kept. */
	ck_assert_int_eq(flush_with_file_size_limit(r, before.len + 100,
	    &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_uint_eq(recorder_written(r), 1);
	read_all(path, &after);
	ck_assert_uint_eq(after.len, before.len);

	/* The disk is back: the next flush writes them, in order. */
	ck_assert_int_eq(recorder_flush(r, &cause), 0);
	ck_assert_uint_eq(recorder_written(r), 3);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\nGET " U3 "\n");
	free(got);
	ck_assert(!exists(tmp));
	close_ok(r);
	buf_free(&before);
	buf_free(&after);
	free(tmp);
	free(path);
}
END_TEST

START_TEST(failed_write_leaves_no_tmp_behind)
{
	char		*path = test_path("c.har"), *tmp = tmp_of(path);
	char		*aside, *cause = NULL, *got;
	struct recorder	*r;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	flush_ok(r);
	/* The cassette's name now holds a directory: its bytes cannot be
	 * copied into FILE.tmp, which is then removed. */
	aside = xasprintf("%s.aside", path);
	ck_assert_int_eq(rename(path, aside), 0);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	add(r, U2);
	ck_assert_int_eq(recorder_flush(r, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert(!exists(tmp));
	ck_assert_uint_eq(recorder_written(r), 1);
	/* Put back, the retry succeeds. */
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(rename(aside, path), 0);
	ck_assert_int_eq(recorder_flush(r, &cause), 0);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\n");
	free(got);
	close_ok(r);
	free(aside);
	free(tmp);
	free(path);
}
END_TEST

START_TEST(close_flushes_what_is_queued)
{
	char		*path = test_path("c.har"), *got;
	struct recorder	*r;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	add(r, U2);
	close_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\n");
	free(got);
	ck_assert_int_eq(recorder_close(NULL, NULL), 0);
	free(path);
}
END_TEST

START_TEST(close_says_when_the_last_entries_were_lost)
{
	char		*path = test_path("c.har"), *tmp = tmp_of(path);
	char		*cause = NULL, *got;
	struct recorder	*r;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	ck_assert_int_eq(mkdir(tmp, 0755), 0);
	ck_assert_int_eq(recorder_close(r, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, tmp));
	free(cause);
	/* Without a place for the cause, only the status says it. */
	r = open_ok(NULL, path, 0);
	add(r, U2);
	ck_assert_int_eq(recorder_close(r, NULL), -1);
	ck_assert_int_eq(rmdir(tmp), 0);
	got = load(path);
	ck_assert_str_eq(got, "");
	free(got);
	free(tmp);
	free(path);
}
END_TEST

/* The clock of the timed guard below (bounded by unit_time_scale()). */
static double
now_ms(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

START_TEST(timer_flushes_within_a_second)
{
	char			*path = test_path("c.har"), *got;
	struct event_base	*base = event_base_new();
	struct recorder		*r;
	double			 t0;

	ck_assert_ptr_nonnull(base);
	r = open_ok(base, path, 0);
	t0 = now_ms();
	add(r, U1);
	add(r, U2);
	/* The loop ends when the one timer has run, about 0.9 s on. */
	ck_assert_int_eq(event_base_dispatch(base), 1);
	ck_assert_double_lt(now_ms() - t0, 2500.0 * unit_time_scale());
	ck_assert_uint_eq(recorder_written(r), 2);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\n");
	free(got);
	close_ok(r);
	event_base_free(base);
	free(path);
}
END_TEST

START_TEST(timer_retries_a_failed_flush_every_second)
{
	char			*path = test_path("c.har"), *tmp = tmp_of(path);
	char			*got;
	struct event_base	*base = event_base_new();
	struct recorder		*r;

	r = open_ok(base, path, 0);
	ck_assert_int_eq(mkdir(tmp, 0755), 0);
	add(r, U1);
	/* The timer's flush fails (a warning goes to stderr)... */
	ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_uint_eq(recorder_written(r), 0);
	ck_assert_uint_eq(recorder_added(r), 1);
	/* ...and it is tried again a second later, now with success. */
	ck_assert_int_eq(rmdir(tmp), 0);
	ck_assert_int_eq(event_base_dispatch(base), 1);
	ck_assert_uint_eq(recorder_written(r), 1);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\n");
	free(got);
	close_ok(r);
	event_base_free(base);
	free(tmp);
	free(path);
}
END_TEST

/*
 * A symbolic link planted at FILE.tmp (in a directory others can write,
 * such as /tmp) must not make a flush overwrite the file it points to, nor
 * leave FILE a link to it (FILE.tmp is created fresh, O_EXCL|O_NOFOLLOW).
 */
START_TEST(flush_does_not_follow_a_link_at_the_tmp_path)
{
	char		*path = test_path("c.har"), *tmp = tmp_of(path);
	char		*victim, *cause = NULL;
	struct buf	 now = { NULL, 0, 0 };
	struct recorder	*r;
	struct stat	 st;

	victim = xasprintf("%s.victim", path);
	write_all(victim, "precious\n", 9, 0644);
	r = open_ok(NULL, path, 0);
	ck_assert_int_eq(symlink(victim, tmp), 0);
	add(r, U1);
	(void)recorder_flush(r, &cause);
	free(cause);
	read_all(victim, &now);
	ck_assert_str_eq(buf_str(&now), "precious\n");
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	close_ok(r);
	buf_free(&now);
	free(victim);
	free(tmp);
	free(path);
}
END_TEST

/* Write a cassette of n entries (GETs of url) at path, as the recorder lays
 * it out. */
static void
make_cassette(const char *path, size_t n, const char *url)
{
	struct cassette_layout	 l;
	struct buf		 b = { NULL, 0, 0 }, empty = { NULL, 0, 0 };
	json_t			*e = entry_of(url);
	size_t			 i;

	cassette_empty(&empty, "test", &l);
	buf_add(&b, empty.data, l.insert_at);
	for (i = 0; i < n; i++)
		cassette_entry_text(e, i == 0, &b);
	cassette_closing(&b);
	write_all(path, b.data, b.len, 0644);
	json_decref(e);
	buf_free(&b);
	buf_free(&empty);
}

/* Return the bytes this process has passed to write calls (Linux). */
static long long
bytes_written(void)
{
	char		 line[128];
	long long	 n = -1;
	FILE		*f;

	f = fopen("/proc/self/io", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "wchar: %lld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static off_t
size_of(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/*
 * After the first flush, what a flush writes is the new entries and the
 * closing bytes: the same for a cassette of 10 entries and one of 20,000
 * (counted from the kernel's count of bytes written, and the file's
 * growth).
 */
START_TEST(flush_cost_follows_what_is_new_not_the_file)
{
	static const size_t	 sizes[] = { 10, 20000 };
	static const size_t	 closing = sizeof "\n    ]\n  }\n}\n" - 1;
	char			*path;
	struct recorder		*r;
	long long		 w0, w1, per_flush[2];
	off_t			 s0, s1;
	size_t			 k, i, n;
	char			*got, *p, *cause = NULL;
	int			 rc;
	ino_t			 ino;

	if (bytes_written() < 0)
		return;		/* no /proc/self/io: nothing to count */
	for (k = 0; k < 2; k++) {
		path = test_path("big.har");
		make_cassette(path, sizes[k], U1);
		r = open_ok(NULL, path, 0);
		ck_assert_uint_eq(recorder_written(r), 0);
		/* The first flush of a session writes the whole file. */
		add(r, U2);
		w0 = bytes_written();
		flush_ok(r);
		w1 = bytes_written();
		ck_assert_int_ge(w1 - w0, (long long)size_of(path));
		ino = inode_of(path);
		for (i = 0; i < 5; i++) {
			add(r, U3);
			add(r, U2);
			s0 = size_of(path);
			/* No assertion in between: Check writes for each. */
			w0 = bytes_written();
			rc = recorder_flush(r, &cause);
			w1 = bytes_written();
			ck_assert_msg(rc == 0, "%s", cause);
			s1 = size_of(path);
			/* The two entries, written over the closing bytes,
			 * then those bytes again: nothing else. */
			ck_assert_int_eq(w1 - w0, (long long)(s1 - s0) +
			    (long long)closing);
			ck_assert_int_lt(w1 - w0, 4096);
			if (i == 0)
				per_flush[k] = w1 - w0;
			ck_assert_int_eq(w1 - w0, per_flush[k]);
		}
		ck_assert_uint_eq(inode_of(path), ino);
		close_ok(r);
		/* And it loads, with every entry. */
		got = load(path);
		for (n = 0, p = got; (p = strchr(p, '\n')) != NULL; p++)
			n++;
		ck_assert_uint_eq(n, sizes[k] + 11);
		free(got);
		free(path);
	}
	ck_assert_int_eq(per_flush[0], per_flush[1]);
}
END_TEST

/* Return the text of the entry of a GET of url, as it goes in a file. */
static char *
entry_text(const char *url, int first)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*e = entry_of(url);
	char		*s;

	cassette_entry_text(e, first, &b);
	json_decref(e);
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/*
 * Appending to another tool's HAR keeps every byte of it: its fields in
 * entries, in log and at the top. Members after the entries move before
 * them at the first flush (JSON does not order members), so that a cut
 * append could only ever lose closing brackets.
 */
START_TEST(append_keeps_other_tools_bytes_and_fields)
{
	char		*path = test_path("devtools.har"), *theirs, *want2;
	char		*want3, *doc, *p;
	struct buf	 now = { NULL, 0, 0 };
	struct recorder	*r;
	json_t		*e, *before, *after, *entries;
	json_error_t	 err;
	const char	*kept[] = { "\"_tool\": {\"k\": [1, 2]}",
	    "\"pages\": [{\"id\": \"page_1\", \"title\": \"t\"}]",
	    "\"comment\": \"kept\"", "\"_after\": \"x\"",
	    "\"_c\": true", NULL };
	size_t		 i;

	e = entry_of(U1);
	json_object_set_new(e, "_custom", json_string("theirs"));
	theirs = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(e);
	doc = xasprintf("{\"_tool\": {\"k\": [1, 2]},\n \"log\": {"
	    "\"version\": \"1.2\", \"creator\": {\"name\": \"Other\", "
	    "\"version\": \"9\", \"_c\": true},\n  \"entries\": [%s\n  ],\n"
	    "  \"pages\": [{\"id\": \"page_1\", \"title\": \"t\"}],\n  "
	    "\"comment\": \"kept\"},\n \"_after\": \"x\"}\n", theirs);
	kept[5] = theirs;
	write_all(path, doc, strlen(doc), 0644);
	before = json_loads(doc, 0, &err);
	ck_assert_ptr_nonnull(before);

	r = open_ok(NULL, path, 0);
	add(r, U2);
	flush_ok(r);		/* the whole file, laid out again */
	add(r, U3);
	flush_ok(r);		/* in place */
	close_ok(r);

	read_all(path, &now);
	want2 = entry_text(U2, 0);
	want3 = entry_text(U3, 0);
	/* Every byte kept, the two entries added, nothing else. */
	ck_assert_uint_eq(now.len, strlen(doc) + strlen(want2) +
	    strlen(want3));
	for (i = 0; i < sizeof kept / sizeof kept[0]; i++)
		ck_assert_msg(strstr(buf_str(&now), kept[i]) != NULL,
		    "lost: %s", kept[i]);
	/* After the last entry, only closing brackets and whitespace. */
	p = strstr(buf_str(&now), want3);
	ck_assert_ptr_nonnull(p);
	p += strlen(want3);
	ck_assert_uint_eq(strspn(p, " \n]}"), strlen(p));
	/* As JSON: the same document with two more entries. */
	after = json_loadb(now.data, now.len, 0, &err);
	ck_assert_msg(after != NULL, "%s", err.text);
	entries = json_object_get(json_object_get(before, "log"), "entries");
	json_array_append_new(entries, entry_of(U2));
	json_array_append_new(entries, entry_of(U3));
	ck_assert(json_equal(before, after));
	p = load(path);
	ck_assert_str_eq(p, "GET " U1 "\nGET " U2 "\nGET " U3 "\n");
	free(p);
	json_decref(before);
	json_decref(after);
	free(want2);
	free(want3);
	free(theirs);
	free(doc);
	buf_free(&now);
	free(path);
}
END_TEST

/* Write the first len bytes of b to path (a file cut off by a crash). */
static void
write_cut(const char *path, const struct buf *b, size_t len)
{
	write_all(path, b->data, len, 0644);
}

/*
 * A cassette cut off by a kill in the middle of an append opens, with the
 * entries before the cut; it is left as it is until something is written,
 * and the first flush makes it whole again.
 */
START_TEST(a_cut_cassette_opens_and_is_made_whole)
{
	char		*path = test_path("c.har"), *got, *p;
	struct buf	 whole = { NULL, 0, 0 }, now = { NULL, 0, 0 };
	struct recorder	*r;
	json_t		*doc;
	json_error_t	 err;
	size_t		 cut;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	add(r, U2);
	flush_ok(r);
	add(r, U3);
	close_ok(r);
	read_all(path, &whole);

	/* Cut in the middle of the third entry. */
	p = strstr(whole.data, U3);
	ck_assert_ptr_nonnull(p);
	cut = (size_t)(p - whole.data) + 5;
	write_cut(path, &whole, cut);
	r = open_ok(NULL, path, 0);
	ck_assert_uint_eq(recorder_written(r), 0);
	close_ok(r);
	read_all(path, &now);
	ck_assert_uint_eq(now.len, cut);	/* nothing written: untouched */
	r = open_ok(NULL, path, 0);
	add(r, U1);
	flush_ok(r);
	add(r, U3);
	close_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\nGET " U1 "\nGET " U3
	    "\n");
	free(got);
	doc = json_load_file(path, 0, &err);
	ck_assert_msg(doc != NULL, "%s", err.text);
	json_decref(doc);

	/* Cut in its closing brackets only. */
	write_cut(path, &whole, whole.len - 4);
	r = open_ok(NULL, path, 0);
	add(r, U2);
	close_ok(r);
	got = load(path);
	ck_assert_str_eq(got, "GET " U1 "\nGET " U2 "\nGET " U3 "\nGET " U2
	    "\n");
	free(got);
	buf_free(&whole);
	buf_free(&now);
	free(path);
}
END_TEST

/*
 * Between flushes, the file must be the one the recorder wrote: changed
 * or replaced by another program, it is not written into (the entries
 * wait in memory).
 */
START_TEST(append_leaves_a_file_another_program_changed)
{
	char		*path = test_path("c.har"), *aside, *cause = NULL;
	struct buf	 before = { NULL, 0, 0 }, after = { NULL, 0, 0 };
	struct recorder	*r;
	int		 fd;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	flush_ok(r);
	/* Someone appends to it. */
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, " ", 1), 1);
	close(fd);
	read_all(path, &before);
	add(r, U2);
	ck_assert_int_eq(recorder_flush(r, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "changed by another program"));
	free(cause);
	cause = NULL;
	read_all(path, &after);
	ck_assert_str_eq(buf_str(&after), buf_str(&before));
	ck_assert_uint_eq(recorder_written(r), 1);
	/* Someone puts another file in its place (an editor saving it). */
	aside = xasprintf("%s.new", path);
	write_all(aside, before.data, before.len - 1, 0644);
	ck_assert_int_eq(rename(aside, path), 0);
	ck_assert_int_eq(recorder_flush(r, &cause), -1);
	free(cause);
	cause = NULL;
	read_all(path, &after);
	ck_assert_uint_eq(after.len, before.len - 1);
	ck_assert_int_eq(recorder_close(r, &cause), -1);
	free(cause);
	free(aside);
	buf_free(&before);
	buf_free(&after);
	free(path);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("recorder");
	TCase	*tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, open_creates_an_empty_cassette_at_once);
	tcase_add_test(tc, flush_writes_entries_that_load_back_in_order);
	tcase_add_test(tc, counts_follow_what_is_added_and_written);
	tcase_add_test(tc, flush_of_nothing_writes_nothing);
	tcase_add_test(tc, first_flush_replaces_the_file_by_rename_then_appends);
	tcase_add_test(tc, open_existing_keeps_its_entries_and_bytes);
	tcase_add_test(tc, reopen_appends_after_the_entries_it_wrote);
	tcase_add_test(tc, open_an_empty_file_makes_a_new_cassette);
	tcase_add_test(tc, private_makes_the_file_readable_by_its_owner_only);
	tcase_add_test(tc, open_refuses_what_is_not_a_cassette);
	tcase_add_test(tc,
	    failed_flush_keeps_the_file_and_the_entries_for_a_retry);
	tcase_add_test(tc, failed_write_leaves_no_tmp_behind);
	tcase_add_test(tc, close_flushes_what_is_queued);
	tcase_add_test(tc, close_says_when_the_last_entries_were_lost);
	tcase_add_test(tc, timer_flushes_within_a_second);
	tcase_add_test(tc, timer_retries_a_failed_flush_every_second);
	tcase_add_test(tc, flush_does_not_follow_a_link_at_the_tmp_path);
	tcase_add_test(tc, flush_cost_follows_what_is_new_not_the_file);
	tcase_add_test(tc, append_keeps_other_tools_bytes_and_fields);
	tcase_add_test(tc, a_cut_cassette_opens_and_is_made_whole);
	tcase_add_test(tc, append_leaves_a_file_another_program_changed);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
