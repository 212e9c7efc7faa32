/*
 * options: the command line of the serving commands, parsed into a plain
 * struct. Pure: no sockets, no printing; errors travel up as a message.
 */
#ifndef PATCHSCOPE_OPTIONS_H
#define PATCHSCOPE_OPTIONS_H

#include <stddef.h>

#include "log.h"

#define OPTIONS_DEFAULT_LISTEN		"127.0.0.1:8080"
#define OPTIONS_MAX_HEADERS		512	/* header lines per message */

/* Which serving command the options are for. */
enum options_mode {
	OPTIONS_PROXY,
	OPTIONS_RECORD,
	OPTIONS_REPLAY
};

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
	int		 fallback_proxy;/* replay: forward misses, record */
	char		**match_headers;	/* --match-header */
	size_t		 n_match_headers;
	char		*report_file;	/* replay --report FILE */
	int		 strict;	/* replay: stale cassette exits 1 */
};

/* Fill in the documented defaults. */
void	options_defaults(struct options *);
/* Free what options_parse allocated. */
void	options_free(struct options *);
/*
 * Parse the options of a serving command (argv[0] is the command name).
 * Return 0, or -1 with *cause set to a message the caller frees.
 */
int	options_parse(struct options *, int argc, char **argv, char **cause);
/* Split "ADDR:PORT" (or "[v6]:PORT" or ":PORT"); -1 and *cause on error. */
int	options_parse_listen(const char *, char **host, int *port, char **cause);
/* Parse seconds (fractions allowed) into milliseconds; -1 and *cause. */
int	options_parse_seconds(const char *, unsigned *ms, char **cause);
/* Parse a byte size with optional K, M or G suffix; -1 and *cause. */
int	options_parse_size(const char *, size_t *, char **cause);
/* Parse a positive count up to max; -1 and *cause. */
int	options_parse_count(const char *, unsigned max, unsigned *,
	    char **cause);
/* Return nonzero when host is in the --no-intercept list. */
int	options_no_intercept(const struct options *, const char *host);
/* The usage text of the serving options, for --help. */
const char *options_usage(void);
/* The usage text of the options of record or replay only. */
const char *options_usage_record(void);
const char *options_usage_replay(void);

#endif
