/*
 * replay_record: replay's record modes, VCR's meaning (--record, and
 * --fallback, the older name of two of them), decided once at start:
 *
 *   none  answer from FILE; a miss gets the miss report (the default);
 *   new   answer from FILE; a miss is forwarded and appended to FILE
 *         (--fallback=proxy); a FILE that does not exist is begun;
 *   once  FILE does not exist (or is empty): record everything, as
 *         `record` does; else exactly none;
 *   all   forward everything, as `record` does, into a new file beside
 *         FILE, renamed over FILE when the run ends cleanly (a run that
 *         is killed, or records nothing, leaves FILE as it was).
 *
 * A FILE that is a symbolic link has its target written, the link kept
 * (a Kubernetes ConfigMap mounts files through links). none never writes.
 */
#ifndef PATCHSCOPE_REPLAY_RECORD_H
#define PATCHSCOPE_REPLAY_RECORD_H

#include <stddef.h>

struct options;

enum replay_record {
	REPLAY_RECORD_NONE,
	REPLAY_RECORD_NEW,
	REPLAY_RECORD_ONCE,
	REPLAY_RECORD_ALL
};

/* What a replay run does with its cassette (replay_record_plan). */
struct replay_record_plan {
	enum replay_record mode;
	int	 load;		/* answer from FILE (it exists) */
	int	 forward_all;	/* every request to its origin, as record */
	char	*record_to;	/* the file the recorder appends to, or NULL */
	char	*target;	/* all: the file replaced at the end */
	unsigned target_mode;	/* all: the permissions it gets */
	int	 usage;		/* the failure is a usage error */
	int	 fresh;		/* once: FILE did not exist; a run that
				   records nothing leaves none */
};

/*
 * Return the mode of --record (its index in "none|new|once|all", -1 when
 * not given) and --fallback (0 error, 1 proxy, -1 when not given): they
 * must agree (--fallback=proxy is new, --fallback=error is none). Return
 * 0, or -1 with *cause naming both (the caller frees).
 */
int	replay_record_mode(int record, int fallback, enum replay_record *,
	    char **cause);
/*
 * Return 0 when name can be a request header's name (a token of 1 to
 * 256 bytes, RFC 9110 5.1), else -1 with *cause set (the caller frees).
 */
int	replay_record_header_check(const char *name, char **cause);
/*
 * Decide what the replay run of opts does with its cassette, into *plan:
 * check --record, --fallback and --session-header, look at the file, log
 * the mode when it is not none, and for all create the new file beside
 * FILE. Return 0, or -1 with *cause set (plan->usage for a usage error);
 * nothing is written on failure.
 */
int	replay_record_plan(const struct options *,
	    struct replay_record_plan *plan, char **cause);
/*
 * The run is over (or could not start); clean: its recording was all
 * written; recorded: entries. For all, put the new file in place of FILE
 * (clean and something recorded), remove it (nothing recorded) or say
 * where it is. For once on a new FILE, remove FILE when nothing was
 * recorded: an empty cassette would answer every later run with misses. Free what plan holds. Return 0, or -1 with *cause set
 * (when cause is not NULL) when FILE could not be replaced.
 */
int	replay_record_finish(struct replay_record_plan *plan, int clean,
	    size_t recorded, char **cause);

/*
 * Is there no file at path yet? cmd_serve removes a cassette its
 * recorder created when the run cannot start: exit 2 writes nothing.
 */
int	replay_record_absent(const char *path);

#endif
