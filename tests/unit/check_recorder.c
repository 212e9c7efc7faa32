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

#include <sys/stat.h>
#include <sys/types.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

/* Queue the HAR entry of a GET of url; the recorder takes its reference. */
static void
add(struct recorder *r, const char *url)
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
	recorder_add(r, entry);
	json_decref(entry);
	exchange_free(&x);
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

START_TEST(flush_replaces_the_file_by_rename)
{
	char		*path = test_path("c.har"), *tmp = tmp_of(path);
	struct recorder	*r;
	ino_t		 ino;

	r = open_ok(NULL, path, 0);
	ino = inode_of(path);
	add(r, U1);
	flush_ok(r);
	/* A new file took the old one's name; the temporary one is gone. */
	ck_assert_uint_ne(inode_of(path), ino);
	ck_assert(!exists(tmp));
	/* A stale FILE.tmp (a crash mid-write) is written over. */
	write_all(tmp, "half a cassette", 15, 0644);
	add(r, U2);
	flush_ok(r);
	ck_assert(!exists(tmp));
	close_ok(r);
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

START_TEST(failed_flush_keeps_the_file_and_the_entries_for_a_retry)
{
	char		*path = test_path("c.har"), *tmp = tmp_of(path);
	char		*cause = NULL, *got;
	struct buf	 before = { NULL, 0, 0 }, after = { NULL, 0, 0 };
	struct recorder	*r;

	r = open_ok(NULL, path, 0);
	add(r, U1);
	flush_ok(r);
	read_all(path, &before);

	/* FILE.tmp cannot be created: the write fails, even for root. */
	ck_assert_int_eq(mkdir(tmp, 0755), 0);
	add(r, U2);
	add(r, U3);
	ck_assert_int_eq(recorder_flush(r, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, tmp));
	free(cause);
	cause = NULL;
	/* The cassette is as it was; the entries wait in memory. */
	read_all(path, &after);
	ck_assert_uint_eq(after.len, before.len);
	ck_assert_int_eq(memcmp(after.data, before.data, before.len), 0);
	ck_assert_uint_eq(recorder_added(r), 3);
	ck_assert_uint_eq(recorder_written(r), 1);
	/* Still failing: still kept. */
	ck_assert_int_eq(recorder_flush(r, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_uint_eq(recorder_written(r), 1);

	/* The disk is back: the next flush writes them, in order. */
	ck_assert_int_eq(rmdir(tmp), 0);
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

/* More time under Valgrind: make check-valgrind sets PATCHSCOPE_TIME_SCALE. */
static double
time_scale(void)
{
	const char	*v = getenv("PATCHSCOPE_TIME_SCALE");
	double		 f = v != NULL ? atof(v) : 1;

	return f >= 1 ? f : 1;
}

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
	ck_assert_double_lt(now_ms() - t0, 2500.0 * time_scale());
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
	tcase_add_test(tc, flush_replaces_the_file_by_rename);
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
	suite_add_tcase(s, tc);
	return unit_run(s);
}
