/*
 * cmd: the commands of the patchscope program. Each command file
 * (cmd_serve.c, cmd_show.c, cmd_lint.c, cmd_ca.c) defines the entries of
 * its commands; main.c lists them, parses a command's options with the
 * option table (options.h), prints its --help and runs it. Commands are
 * the only code that writes to stdout or chooses an exit status: 0
 * success, 1 a finding, 2 a usage or I/O error.
 */
#ifndef PATCHSCOPE_CMD_H
#define PATCHSCOPE_CMD_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "options.h"

/* One command: what main.c needs to list it, explain it and run it. */
struct cmd_entry {
	enum options_mode	 mode;	  /* its name and options */
	const char		*summary; /* its line in patchscope --help */
	const char		*args;	  /* after "Usage: patchscope NAME " */
	const char		*about;	  /* paragraphs before the options */
	const char		*notes;	  /* after the options, or NULL */
	int			(*run)(struct options *); /* exit status */
};

extern const struct cmd_entry cmd_proxy_entry;
extern const struct cmd_entry cmd_record_entry;
extern const struct cmd_entry cmd_replay_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_ca_entry;
extern const struct cmd_entry cmd_env_entry;
extern const struct cmd_entry cmd_lint_entry;
extern const struct cmd_entry cmd_diff_entry;
extern const struct cmd_entry cmd_drift_entry;
extern const struct cmd_entry cmd_view_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_doctor_entry;
extern const struct cmd_entry cmd_sanitize_entry;

/*
 * Print a usage error as DESIGN.md promises: one line on stderr naming the
 * cause and pointing to the command's --help (cmd NULL: patchscope's).
 * Return 2, the exit status of a usage error.
 */
int	cmd_usage_error(const char *cmd, const char *cause);

/* A whole file's bytes: mapped, or read when it cannot be mapped. */
struct cmd_file {
	const char	*data;		/* never NULL once open */
	size_t		 len;
	void		*map;
	struct buf	 copy;
};

/*
 * Map (or read) a whole file of at most 4 GiB, such as a cassette. Return
 * 0, or -1 with *cause set to a message the caller frees.
 */
int	cmd_file_open(const char *path, struct cmd_file *, char **cause);
/* Unmap or free what cmd_file_open holds. */
void	cmd_file_close(struct cmd_file *);
/*
 * Replace the file target with len bytes of data, crash-safely: a
 * temporary file beside it (.NAME.TAG-XXXXXX), given mode, fsync, rename
 * over target, fsync of the directory; a crash leaves the old file or the
 * new one. shown is the name errors give (the path the user typed).
 * Return 0, or -1 with *cause set ("cannot write SHOWN: ..."); nothing
 * is left behind.
 */
int	cmd_file_replace(const char *target, const char *shown,
	    const char *tag, mode_t mode, const char *data, size_t len,
	    char **cause);

#endif
