/*
 * replay_record: replay's record modes (see replay_record.h), decided at
 * start and finished at the end of the run.
 *
 * The plan says whether the cassette is answered from, whether every
 * request is forwarded (once on a new file, all: cmd_serve then serves
 * as `record` does) and which file the recorder appends to. Writes go to
 * a symbolic link's target, never over the link. For all, the recorder
 * writes a new file beside FILE (FILE.recording-XXXXXX, made with
 * mkstemp: never a file found there), which replay_record_finish renames
 * over FILE when the run ended cleanly and recorded something; until
 * then FILE is untouched, so a run that is killed loses nothing. The old
 * FILE is read first (it must be a cassette: a mistyped -c never
 * replaces some other file).
 *
 * The plan owns its strings until replay_record_finish.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cassette.h"
#include "exchange.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "replay.h"
#include "replay_record.h"
#include "xmalloc.h"

#define RR_MAX_CASSETTE		((size_t)4 << 30)	/* as the recorder */

static const char *const rr_names[] = { "none", "new", "once", "all" };

/* The mode of --record and --fallback, which must agree. */
int
replay_record_mode(int record, int fallback, enum replay_record *mode,
    char **cause)
{
	enum replay_record	alias;

	*cause = NULL;
	if (record < -1 || record > REPLAY_RECORD_ALL || fallback < -1 ||
	    fallback > 1) {
		*cause = xasprintf("bad --record or --fallback value");
		return -1;
	}
	alias = fallback == 1 ? REPLAY_RECORD_NEW : REPLAY_RECORD_NONE;
	if (record == -1) {
		*mode = alias;
		return 0;
	}
	if (fallback != -1 && (enum replay_record)record != alias) {
		*cause = xasprintf("--record=%s and --fallback=%s contradict "
		    "each other (--fallback=%s means --record=%s); give one "
		    "of them", rr_names[record], fallback ? "proxy" : "error",
		    fallback ? "proxy" : "error", rr_names[alias]);
		return -1;
	}
	*mode = (enum replay_record)record;
	return 0;
}

/* Can name be a request header's name? */
int
replay_record_header_check(const char *name, char **cause)
{
	size_t	i, len = strlen(name);

	if (len == 0 || len > 256) {
		*cause = xasprintf("--session-header: expected a header name "
		    "of 1 to 256 characters");
		return -1;
	}
	for (i = 0; i < len; i++)
		if (!http_token_char((unsigned char)name[i])) {
			*cause = xasprintf("--session-header: \"%.64s\" is not "
			    "a header name (letters, digits and "
			    "!#$%%&'*+-.^_`|~ only)", name);
			return -1;
		}
	return 0;
}

static int
rr_count_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	(void)index;
	(void)arg;
	(void)cause;
	exchange_free(x);
	return 0;
}

/*
 * Check that path (open as fd, st) is a cassette: all refuses to replace
 * anything else. The file is mapped, never copied.
 */
static int
rr_check_cassette(const char *path, int fd, const struct stat *st,
    char **cause)
{
	struct cassette_layout	 layout;
	void			*map;
	char			*why = NULL;
	int			 rc;

	if ((size_t)st->st_size > RR_MAX_CASSETTE) {
		*cause = xasprintf("%s is larger than 4 GiB", path);
		return -1;
	}
	map = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		*cause = xasprintf("cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = cassette_parse(map, (size_t)st->st_size, rr_count_cb, NULL,
	    &layout, &why);
	munmap(map, (size_t)st->st_size);
	if (rc != 0) {
		*cause = xasprintf("%s: %s (the file is left as it is; "
		    "--record=all replaces only a cassette)", path, why);
		free(why);
		return -1;
	}
	return 0;
}

/*
 * The file that writes to path go to: its target when it is a symbolic
 * link (said in the log), else path. NULL with *cause when a link's
 * target cannot be found.
 */
static char *
rr_write_path(const char *path, char **cause)
{
	struct stat	 lst;
	char		 real[PATH_MAX];

	if (lstat(path, &lst) != 0 || !S_ISLNK(lst.st_mode))
		return xstrdup(path);
	if (realpath(path, real) == NULL) {
		*cause = xasprintf("%s is a symbolic link whose target cannot "
		    "be found: %s", path, strerror(errno));
		return NULL;
	}
	log_info("%s is a symbolic link: its target %s is written, the link "
	    "is left as it is", path, real);
	return xstrdup(real);
}

/*
 * all: check FILE (when it exists) and create the new file beside its
 * target, with FILE's permissions (else 0644, 0600 with --no-redact).
 */
static int
rr_plan_all(const struct options *opts, struct replay_record_plan *plan,
    char **cause)
{
	struct stat	 st;
	int		 fd;

	plan->target = rr_write_path(opts->cassette, cause);
	if (plan->target == NULL)
		return -1;
	plan->target_mode = opts->no_redact ? 0600 : 0644;
	fd = open(plan->target, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno != ENOENT) {
		*cause = xasprintf("cannot open %s: %s", plan->target,
		    strerror(errno));
		return -1;
	}
	if (fd != -1) {
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			*cause = xasprintf("%s is not a regular file",
			    plan->target);
			close(fd);
			return -1;
		}
		if (st.st_size > 0 && rr_check_cassette(plan->target, fd, &st,
		    cause) != 0) {
			close(fd);
			return -1;
		}
		close(fd);
		plan->target_mode = st.st_mode & 07777;
	}
	plan->record_to = xasprintf("%s.recording-XXXXXX", plan->target);
	fd = mkstemp(plan->record_to);
	if (fd == -1) {
		*cause = xasprintf("cannot create a file beside %s: %s",
		    plan->target, strerror(errno));
		free(plan->record_to);
		plan->record_to = NULL;
		return -1;
	}
	(void)fchmod(fd, plan->target_mode);
	close(fd);
	log_info("record=all: every request is forwarded and recorded to %s; "
	    "it replaces %s when the run ends cleanly", plan->record_to,
	    opts->cassette);
	return 0;
}

/* Decide what the run does with its cassette. */
int
replay_record_plan(const struct options *opts,
    struct replay_record_plan *plan, char **cause)
{
	struct stat	st;
	int		exists;

	memset(plan, 0, sizeof *plan);
	*cause = NULL;
	if (replay_record_mode(opts->record_mode, opts->fallback,
	    &plan->mode, cause) != 0 || (opts->session_header != NULL &&
	    replay_record_header_check(opts->session_header, cause) != 0)) {
		plan->usage = 1;
		return -1;
	}
	if (stat(opts->cassette, &st) == 0)
		exists = !S_ISREG(st.st_mode) || st.st_size > 0;
	else if (errno == ENOENT)
		exists = 0;
	else {
		*cause = xasprintf("cannot open %s: %s", opts->cassette,
		    strerror(errno));
		return -1;
	}
	switch (plan->mode) {
	case REPLAY_RECORD_NONE:
		plan->load = 1;
		return 0;
	case REPLAY_RECORD_NEW:
		plan->load = exists;
		plan->record_to = rr_write_path(opts->cassette, cause);
		if (plan->record_to == NULL)
			return -1;
		log_info("record=new%s: %s; a request that matches nothing is "
		    "forwarded and appended to it", opts->record_mode == -1 ?
		    " (--fallback=proxy)" : "", exists ? "answering from "
		    "the cassette" : "the cassette does not exist yet");
		return 0;
	case REPLAY_RECORD_ONCE:
		if (exists) {
			plan->load = 1;
			log_info("record=once: %s exists, replaying it (a "
			    "request that matches nothing is a miss)",
			    opts->cassette);
			return 0;
		}
		plan->forward_all = 1;
		plan->fresh = replay_record_absent(opts->cassette);
		plan->record_to = rr_write_path(opts->cassette, cause);
		if (plan->record_to == NULL)
			return -1;
		log_info("record=once: %s does not exist, recording (every "
		    "request is forwarded and recorded)", opts->cassette);
		return 0;
	case REPLAY_RECORD_ALL:
		plan->forward_all = 1;
		return rr_plan_all(opts, plan, cause);
	}
	return 0;
}

/* Is there no file at path yet? */
int
replay_record_absent(const char *path)
{
	struct stat	st;

	return lstat(path, &st) != 0 && errno == ENOENT;
}

/* fsync the directory holding path, so a rename in it is durable. */
static void
rr_sync_dir(const char *path)
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

/* The run is over: for all, the new file in place of FILE. */
int
replay_record_finish(struct replay_record_plan *plan, int clean,
    size_t recorded, char **cause)
{
	int	rc = 0;

	if (plan->mode == REPLAY_RECORD_ALL && plan->record_to != NULL) {
		if (recorded == 0) {
			/* A run that could not start, or served nothing. */
			(void)unlink(plan->record_to);
			if (clean)
				log_info("record=all: nothing was recorded; "
				    "%s is left as it was", plan->target);
		} else if (!clean)
			log_warnx("record=all: the recording could not be "
			    "completed; %s is left as it was, and what was "
			    "recorded is in %s", plan->target,
			    plan->record_to);
		else if (chmod(plan->record_to, plan->target_mode) != 0 ||
		    rename(plan->record_to, plan->target) != 0) {
			if (cause != NULL)
				*cause = xasprintf("cannot replace %s with %s: "
				    "%s (it is left as it was)", plan->target,
				    plan->record_to, strerror(errno));
			rc = -1;
		} else {
			rr_sync_dir(plan->target);
			log_info("record=all: %s replaced by this run's %zu "
			    "exchange(s)", plan->target, recorded);
		}
	}
	if (plan->mode == REPLAY_RECORD_ONCE && plan->fresh &&
	    plan->record_to != NULL && recorded == 0 &&
	    unlink(plan->record_to) == 0 && clean)
		log_info("record=once: nothing was recorded; %s is not "
		    "created, so the next run records", plan->record_to);
	free(plan->record_to);
	free(plan->target);
	plan->record_to = plan->target = NULL;
	return rc;
}
