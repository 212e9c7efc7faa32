/*
 * main: the command table and the dispatch. Picks a command from the
 * table, parses its options with the option table (options.c), prints its
 * --help or a usage error, and runs it; the commands themselves live in
 * cmd_*.c. Exit status: 0 success, 1 a finding, 2 usage or I/O error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "options.h"

#define COPYRIGHT	"Copyright (C) 2026 The patchscope authors."
#define LICENSE		"License ISC: <https://opensource.org/licenses/ISC>."

/* The commands, in the order patchscope --help lists them. */
static const struct cmd_entry *const commands[] = {
	&cmd_proxy_entry,
	&cmd_record_entry,
	&cmd_replay_entry,
	&cmd_show_entry,
	&cmd_ca_entry,
	&cmd_env_entry,
	&cmd_lint_entry,
	&cmd_diff_entry,
	&cmd_drift_entry,
	&cmd_view_entry,
	&cmd_report_entry,
	&cmd_doctor_entry,
	&cmd_sanitize_entry,
};

/* patchscope --help: the commands and where to read more. */
static void
usage(void)
{
	size_t	i;

	printf("Usage: patchscope COMMAND [OPTIONS]\n"
	    "\n"
	    "patchscope sits between an HTTP client and the profile API, "
	    "relays\nevery exchange and tells you what went wrong.\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		printf("  %-8s %s\n", options_name(commands[i]->mode),
		    commands[i]->summary);
	printf("\n"
	    "Quick start:\n"
	    "  patchscope proxy &\n"
	    "  eval \"$(patchscope env)\"   # this shell's clients now use it\n"
	    "\n"
	    "Run 'patchscope COMMAND --help' for a command's options.\n"
	    "  -h, --help     show this help\n"
	    "      --version  show the version\n"
	    "\n"
	    "Exit status: 0 success, 1 a finding, 2 usage or I/O error.\n"
	    "See patchscope(1) for details.\n");
}

/* patchscope --version, as the GNU coding standards lay it out (4.8.1). */
static void
version(void)
{
	printf("%s %s\n"
	    COPYRIGHT "\n"
	    LICENSE "\n"
	    "This is free software: you are free to change and redistribute "
	    "it.\n"
	    "There is NO WARRANTY, to the extent permitted by law.\n",
	    PACKAGE_NAME, PACKAGE_VERSION);
}

/* patchscope COMMAND --help: its usage, what it does, its options. */
static void
command_help(const struct cmd_entry *c)
{
	char	*opts;

	opts = options_usage(c->mode);
	printf("Usage: patchscope %s %s\n\n%s\nOptions:\n%s",
	    options_name(c->mode), c->args, c->about, opts);
	if (c->notes != NULL)
		printf("\n%s", c->notes);
	free(opts);
}

/* Parse a command's options, then print its help or run it. */
static int
command_run(const struct cmd_entry *c, int argc, char **argv)
{
	struct options	 opts;
	char		*cause = NULL;
	int		 rc;

	options_defaults(&opts);
	opts.mode = c->mode;
	if (options_parse(&opts, argc, argv, &cause) != 0) {
		rc = cmd_usage_error(options_name(c->mode), cause);
		free(cause);
	} else if (opts.help) {
		command_help(c);
		rc = 0;
	} else
		rc = c->run(&opts);
	options_free(&opts);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t	i;

	if (argc < 2)
		return cmd_usage_error(NULL, "missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage();
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		version();
		return 0;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], options_name(commands[i]->mode)) == 0)
			return command_run(commands[i], argc - 1, argv + 1);
	fprintf(stderr, "patchscope: unknown command \"%s\" (see 'patchscope "
	    "--help')\n", argv[1]);
	return 2;
}
