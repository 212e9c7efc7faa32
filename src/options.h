/*
 * options: the command line of every command, parsed into a plain struct
 * from one table of options (options_table). Pure: no sockets, no
 * printing; errors travel up as a message.
 */
#ifndef PATCHSCOPE_OPTIONS_H
#define PATCHSCOPE_OPTIONS_H

#include <stddef.h>

#include "log.h"

#define OPTIONS_DEFAULT_LISTEN		"127.0.0.1:8080"
#define OPTIONS_MAX_HEADERS		512	/* header lines per message */

/* Which command the options are for; the first three serve. */
enum options_mode {
	OPTIONS_PROXY,
	OPTIONS_RECORD,
	OPTIONS_REPLAY,
	OPTIONS_SHOW,
	OPTIONS_LINT,
	OPTIONS_CA,
	OPTIONS_ENV,
	OPTIONS_DIFF,
	OPTIONS_DRIFT,
	OPTIONS_VIEW,
	OPTIONS_REPORT,
	OPTIONS_DOCTOR,
	OPTIONS_SANITIZE,
	OPTIONS_NMODES
};

/* A set of commands, as bits: OPTIONS_CMD(OPTIONS_LINT) | ... */
#define OPTIONS_CMD(mode)	(1u << (mode))
#define OPTIONS_SERVE		(OPTIONS_CMD(OPTIONS_PROXY) | \
	OPTIONS_CMD(OPTIONS_RECORD) | OPTIONS_CMD(OPTIONS_REPLAY))

struct options {
	enum options_mode mode;		/* set before options_parse */
	char		*listen_host;	/* numeric address or "localhost" */
	int		 listen_port;	/* 0 picks a free port */
	unsigned	 connect_timeout_ms;
	unsigned	 response_timeout_ms;
	unsigned	 idle_timeout_ms;
	unsigned	 header_timeout_ms;
	size_t		 max_header_bytes;
	size_t		 max_body_buffer;
	unsigned	 max_connections;
	enum log_level	 log_level;
	int		 help;		/* --help was given */
	char		*ca_dir;	/* NULL: $PATCHSCOPE_HOME or ~/.patchscope */
	char		*upstream_ca;	/* extra trust anchor for origins */
	int		 insecure_upstream;
	char		**no_intercept;	/* hosts tunnelled untouched */
	size_t		 n_no_intercept;
	int		 guard;		/* hold PATCHes with errors */
	int		 no_annotate;	/* never change a response */
	int		 log_json;	/* one JSON object per exchange */
	char		*rules_file;	/* NULL: the built-in rules */

	/* Cassettes (record, replay). */
	char		*cassette;	/* -c FILE */
	char		**redact_headers;	/* --redact-header */
	size_t		 n_redact_headers;
	char		**redact_queries;	/* --redact-query */
	size_t		 n_redact_queries;
	char		**redact_json_keys;	/* --redact-json-key */
	size_t		 n_redact_json_keys;
	int		 no_redact;	/* --no-redact: store secrets */
	int		 fallback;	/* replay --fallback: 0 error, 1 proxy,
					   -1 not given */
	char		**match_headers;	/* --match-header */
	size_t		 n_match_headers;
	char		*report_file;	/* replay --report FILE */
	int		 strict;	/* replay: stale cassette exits 1 */

	/* Faults (proxy, record, replay). */
	char		**faults;	/* --fault SPEC, each one checked */
	size_t		 n_faults;
	unsigned long long seed;	/* --seed N */
	int		 have_seed;	/* --seed was given */

	/* show, lint. */
	int		 json;		/* --json */
	char		*snapshot_file;	/* lint --snapshot FILE */
	char		**operands;	/* after the options (in argv) */
	int		 n_operands;

	/* drift. */
	char		**headers;	/* --header "NAME: VALUE" */
	size_t		 n_headers;
	int		 values;	/* --values: plain values count */
	int		 update;	/* --update: rewrite drifted entries */
	int		 allow_writes;	/* --allow-writes: send non-GET/HEAD */

	/* replay: record modes and sessions (replay_record.h). */
	int		 record_mode;	/* --record: 0 none, 1 new, 2 once,
					   3 all; -1 not given */
	char		*session_header;	/* --session-header NAME */
	/* The web view (proxy, record, replay, view), report. */
	char		*web;		/* --web ADDR:PORT, or NULL */
	unsigned	 web_keep;	/* --web-keep N; 0: the default */
	int		 web_allow_remote; /* --web on a non-loopback ADDR */
	char		*output;	/* report, sanitize: -o FILE */
	/* --resolve (serving commands, drift), doctor. */
	char		**resolve;	/* HOST:PORT=ADDR:PORT, each checked */
	size_t		 n_resolve;
	int		 listen_given;	/* --listen was on the command line */
	/* sanitize. */
	int		 check;		/* --check: write nothing, exit 1 if
					   anything would be redacted */
	/* -- CMD [ARGS...] (proxy, record, replay). */
	char		**command;	/* CMD and its arguments (in argv), NULL
					   when there was no "--" */
	int		 n_command;
};

/* What an option's value is and where it goes in struct options. */
enum options_kind {
	OPTIONS_FLAG,		/* no value: the int field becomes 1 */
	OPTIONS_LEVEL,		/* no value: log_level becomes lo */
	OPTIONS_STRING,		/* a copy of the value (char *) */
	OPTIONS_NAME,		/* appended to a list: 1 to 256 bytes */
	OPTIONS_HOSTS,		/* HOST[,HOST...], lower-cased, to a list */
	OPTIONS_LISTEN,		/* ADDR:PORT into listen_host, listen_port */
	OPTIONS_SECONDS,	/* a duration, in ms (unsigned) */
	OPTIONS_SIZE,		/* bytes within [lo, hi] (size_t) */
	OPTIONS_COUNT,		/* a whole number within [1, hi] (unsigned) */
	OPTIONS_CHOICE,		/* a word of arg "a|b": its index (int) */
	OPTIONS_FAULT,		/* a --fault spec, checked, to a list */
	OPTIONS_SEED,		/* 0 to 2^64-1 (unsigned long long), and
				   have_seed set */
	OPTIONS_HEADER,		/* "NAME: VALUE", appended to a list */
	OPTIONS_RESOLVE		/* HOST:PORT=ADDR:PORT, checked, to a list */
};

/* One option: one row of options_table. */
struct options_spec {
	const char	*name;		/* long name, without "--" */
	int		 letter;	/* short name, or 0 */
	const char	*arg;		/* the value's name; NULL: takes none */
	unsigned	 commands;	/* OPTIONS_CMD bits of who takes it */
	enum options_kind kind;
	size_t		 field;		/* offsetof(struct options, ...) */
	size_t		 count;		/* lists: offsetof their count */
	unsigned long long lo, hi;	/* bounds, or the level to set */
	const char	*help;		/* --help text; '\n' between lines */
	unsigned	 alt_commands;	/* these print alt_help instead */
	const char	*alt_help;
	unsigned	 alt2_commands;	/* these print alt2_help instead */
	const char	*alt2_help;
};

/* Every option of every command, in --help order; ends with a NULL name. */
extern const struct options_spec options_table[];

/* Fill in the documented defaults. */
void	options_defaults(struct options *);
/* Free what options_parse allocated. */
void	options_free(struct options *);
/*
 * Parse the options of command o->mode (argv[0] is the command name);
 * operands are left in o->operands. For a serving command, what follows
 * "--" is the command to run (o->command), and the port becomes 0 unless
 * --listen was given. Return 0, or -1 with *cause set to a message the
 * caller frees.
 */
int	options_parse(struct options *, int argc, char **argv, char **cause);
/* Split "ADDR:PORT" (or "[v6]:PORT" or ":PORT"); -1 and *cause on error. */
int	options_parse_listen(const char *, char **host, int *port, char **cause);
/* Parse seconds (fractions allowed) into milliseconds; -1 and *cause. */
int	options_parse_seconds(const char *, unsigned *ms, char **cause);
/* Parse a byte size with optional K, M or G suffix; -1 and *cause. */
int	options_parse_size(const char *, size_t *, char **cause);
/*
 * Check a header line given on the command line ("NAME: VALUE"): a header
 * name, a colon, a value without control characters (may be empty).
 * Return 0, or -1 with *cause set.
 */
int	options_parse_header(const char *, char **cause);
/* Parse a positive count up to max; -1 and *cause. */
int	options_parse_count(const char *, unsigned max, unsigned *,
	    char **cause);
/* Return nonzero when host is in the --no-intercept list. */
int	options_no_intercept(const struct options *, const char *host);
/* Return the name of a command ("proxy"). */
const char *options_name(enum options_mode);
/* Return the --help lines of the options of a command; the caller frees. */
char	*options_usage(enum options_mode);

#endif
