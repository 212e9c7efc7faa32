/*
 * recorder: appends HAR entries to a cassette file, crash-safely, at a
 * cost per write that follows what is new, not the size of the file. The
 * first write of a session rewrites the file (FILE.tmp, synced, renamed
 * over FILE); later ones write the new entries in place over the closing
 * brackets, then the brackets, then fdatasync. Writes happen at most about
 * once a second and at close. A kill -9 loses at most the entries of the
 * last second; it may leave the file cut inside its entries array, which
 * the loader takes with the entries before the cut (cassette_parse). A
 * failed write (disk full) keeps the entries in memory and is tried again.
 */
#ifndef PATCHSCOPE_RECORDER_H
#define PATCHSCOPE_RECORDER_H

#include <stddef.h>

struct event_base;
struct exchange;
struct json_t;
struct recorder;

/*
 * Open path for appending: an existing cassette is checked (it must load;
 * one cut off by a crash is taken, with a warning, and made whole at the
 * first write) and its bytes are kept (members after the entries move
 * before them at the first write); a missing one is created at once,
 * empty, so a bad path fails now. private: create the file readable by its owner only
 * (used with --no-redact). Return the recorder, or NULL with *cause set
 * (caller frees).
 */
struct recorder *recorder_open(struct event_base *, const char *path,
	    int private, char **cause);
/* Queue an entry (a HAR entry object; a reference is taken). */
void	recorder_add(struct recorder *, struct json_t *entry);
/* Queue an exchange's entry (the same text as recorder_add of its
 * cassette_entry_encode, written without the tree). */
void	recorder_add_exchange(struct recorder *, const struct exchange *);
/* Write what is queued now. Return 0, or -1 with *cause set. */
int	recorder_flush(struct recorder *, char **cause);
/* Return how many entries were added since open, and how many are on disk. */
size_t	recorder_added(const struct recorder *);
size_t	recorder_written(const struct recorder *);
/* Return the cassette's path. */
const char *recorder_path(const struct recorder *);
/*
 * Flush and free (NULL is fine). Return 0, or -1 with *cause set (when
 * cause is not NULL) when the last entries could not be written.
 */
int	recorder_close(struct recorder *, char **cause);

#endif
