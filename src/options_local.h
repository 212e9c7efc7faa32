/*
 * What options.c and options_table.c share: the command table and the
 * bound on the option table's size.
 */
#ifndef OPTIONS_LOCAL_H
#define OPTIONS_LOCAL_H

#include "options.h"

#define OPTIONS_MAX	64	/* rows in options_table */

/*
 * The commands: their names, and what their command lines may hold. A
 * command whose --help ends the parse ignores what follows it (the GNU
 * standards, 4.8.2); the others check the whole line first.
 */
struct options_command {
	const char	*name;
	unsigned	 known;		/* options it recognises */
	int		 operands;	/* takes arguments after its options */
	int		 help_ends;	/* --help ends the parse */
};

extern const struct options_command options_commands[OPTIONS_NMODES];

#endif /* OPTIONS_LOCAL_H */
