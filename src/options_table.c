/*
 * options_table: the data of options.c. Every command (its name and what
 * its command line may hold) and every option (its names, the commands
 * that take it, how its value is checked and stored, its help), once each.
 * The parser, the checks and --help are options.c's.
 */
#include "config.h"

#include <stddef.h>

#include "options.h"
#include "options_local.h"

#define CMD(m)		OPTIONS_CMD(OPTIONS_##m)
#define CASSETTE	(CMD(RECORD) | CMD(REPLAY))
#define ALL		(OPTIONS_CMD(OPTIONS_NMODES) - 1)
#define FIELD(f)	.field = offsetof(struct options, f)
#define LIST(f)		FIELD(f), .count = offsetof(struct options, n_##f)

/*
 * The commands: their names, and what their command lines may hold. A
 * command whose --help ends the parse ignores what follows it (the GNU
 * standards, 4.8.2); the others check the whole line first.
 */
const struct options_command options_commands[OPTIONS_NMODES] = {
	[OPTIONS_PROXY] =	{ "proxy",	OPTIONS_SERVE,	0, 0 },
	[OPTIONS_RECORD] =	{ "record",	OPTIONS_SERVE,	0, 0 },
	[OPTIONS_REPLAY] =	{ "replay",	OPTIONS_SERVE,	0, 0 },
	[OPTIONS_SHOW] =	{ "show",	CMD(SHOW),	1, 1 },
	[OPTIONS_LINT] =	{ "lint",	CMD(LINT),	1, 1 },
	[OPTIONS_CA] =		{ "ca",		CMD(CA),	0, 0 },
	[OPTIONS_ENV] =		{ "env",	CMD(ENV),	0, 0 },
	[OPTIONS_DIFF] =	{ "diff",	CMD(DIFF),	1, 1 },
	[OPTIONS_DRIFT] =	{ "drift",	CMD(DRIFT),	0, 0 },
	[OPTIONS_VIEW] =	{ "view",	CMD(VIEW),	1, 1 },
	[OPTIONS_REPORT] =	{ "report",	CMD(REPORT),	1, 1 },
	[OPTIONS_DOCTOR] =	{ "doctor",	CMD(DOCTOR),	0, 0 },
	[OPTIONS_SANITIZE] =	{ "sanitize",	CMD(SANITIZE),	1, 1 },
};

/*
 * Every option, once. A command recognises the options of its "known" set
 * above: one it recognises but does not take (proxy -c) is refused as
 * being for the commands that do; any other is an unknown option. The
 * serving commands know each other's options.
 */
const struct options_spec options_table[] = {
	{ .name = "cassette", .letter = 'c', .arg = "FILE",
	  .commands = CASSETTE | CMD(DRIFT), .kind = OPTIONS_STRING,
	  FIELD(cassette),
	  .help = "the HAR file to record to (created, or\n"
	    "appended to)",
	  .alt_commands = CMD(REPLAY),
	  .alt_help = "the HAR file to answer from",
	  .alt2_commands = CMD(DRIFT),
	  .alt2_help = "the cassette whose requests are sent again" },
	{ .name = "redact-header", .arg = "NAME",
	  .commands = CASSETTE | CMD(SANITIZE), .kind = OPTIONS_NAME, LIST(redact_headers),
	  .help = "also redact this header's value" },
	{ .name = "redact-query", .arg = "NAME",
	  .commands = CASSETTE | CMD(SANITIZE), .kind = OPTIONS_NAME, LIST(redact_queries),
	  .help = "also redact this query parameter's value" },
	{ .name = "redact-json-key", .arg = "NAME",
	  .commands = CASSETTE | CMD(SANITIZE), .kind = OPTIONS_NAME, LIST(redact_json_keys),
	  .help = "also redact this JSON key's value, at any depth" },
	{ .name = "no-redact",
	  .commands = CASSETTE, .kind = OPTIONS_FLAG, FIELD(no_redact),
	  .help = "store secrets as they are (prints a warning;\n"
	    "never attach such a cassette to a ticket)" },
	{ .name = "fallback", .arg = "error|proxy",
	  .commands = CMD(REPLAY), .kind = OPTIONS_CHOICE,
	  FIELD(fallback),
	  .help = "older names: error is --record=none, proxy\n"
	    "is --record=new" },
	{ .name = "match-header", .arg = "NAME",
	  .commands = CMD(REPLAY), .kind = OPTIONS_NAME, LIST(match_headers),
	  .help = "requests must also agree on this header" },
	{ .name = "report", .arg = "FILE",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_STRING, FIELD(report_file),
	  .help = "write the run's report as JSON to FILE on exit:\n"
	    "what clients did wrong after failures, and in\n"
	    "replay the unused entries and the misses" },
	{ .name = "strict",
	  .commands = CMD(REPLAY), .kind = OPTIONS_FLAG, FIELD(strict),
	  .help = "exit 1 when an entry was never used or a\n"
	    "request missed" },
	{ .name = "snapshot", .arg = "FILE",
	  .commands = CMD(LINT), .kind = OPTIONS_STRING, FIELD(snapshot_file),
	  .help = "the body of a GET of the profile (an object\n"
	    "with \"actions\"): then actions that the PATCH\n"
	    "would delete, and ids the profile does not\n"
	    "have, are found too" },
	{ .name = "header", .arg = "'NAME: VALUE'",
	  .commands = CMD(DRIFT), .kind = OPTIONS_HEADER, LIST(headers),
	  .help = "send this header with every request, in place\n"
	    "of a recorded one (a credential that was\n"
	    "redacted); an empty VALUE removes the header;\n"
	    "repeatable" },
	{ .name = "values",
	  .commands = CMD(DRIFT), .kind = OPTIONS_FLAG, FIELD(values),
	  .help = "also report changed plain values (info)" },
	{ .name = "update",
	  .commands = CMD(DRIFT), .kind = OPTIONS_FLAG, FIELD(update),
	  .help = "rewrite the drifted entries with the live\n"
	    "exchanges (redacted), crash-safely; the other\n"
	    "entries are kept byte for byte" },
	{ .name = "allow-writes",
	  .commands = CMD(DRIFT), .kind = OPTIONS_FLAG, FIELD(allow_writes),
	  .help = "also send the requests that change data (all\n"
	    "but GET and HEAD); says so before it starts" },
	{ .name = "listen", .letter = 'l', .arg = "ADDR:PORT",
	  .commands = OPTIONS_SERVE | CMD(ENV) | CMD(DOCTOR),
	  .kind = OPTIONS_LISTEN,
	  .help = "where to accept clients (default\n"
	    OPTIONS_DEFAULT_LISTEN "); port 0 picks a free port",
	  .alt_commands = CMD(ENV),
	  .alt_help = "where the proxy listens (default "
	    OPTIONS_DEFAULT_LISTEN ")",
	  .alt2_commands = CMD(DOCTOR),
	  .alt2_help = "check the patchscope proxy running there\n"
	    "(default: start one on a free port)" },
	{ .name = "connect-timeout", .arg = "SECS",
	  .commands = OPTIONS_SERVE | CMD(DRIFT), .kind = OPTIONS_SECONDS,
	  FIELD(connect_timeout_ms),
	  .help = "give up connecting to an origin (default 10)" },
	{ .name = "response-timeout", .arg = "SECS",
	  .commands = OPTIONS_SERVE | CMD(DRIFT), .kind = OPTIONS_SECONDS,
	  FIELD(response_timeout_ms),
	  .help = "wait this long for the first byte of an\n"
	    "origin's response, then answer 504 (default 60)",
	  .alt2_commands = CMD(DRIFT),
	  .alt2_help = "wait this long for an origin's answer, and\n"
	    "between its bytes (default 60)" },
	{ .name = "idle-timeout", .arg = "SECS",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_SECONDS,
	  FIELD(idle_timeout_ms),
	  .help = "close idle keep-alive connections and stalled\n"
	    "transfers (default 60)" },
	{ .name = "header-timeout", .arg = "SECS",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_SECONDS,
	  FIELD(header_timeout_ms),
	  .help = "a client must send its request headers in time,\n"
	    "else 408 (default 10)" },
	{ .name = "max-header-bytes", .arg = "SIZE",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_SIZE,
	  FIELD(max_header_bytes), .lo = 1024, .hi = 1024 * 1024,
	  .help = "largest request head, else 431 (default 64K)" },
	{ .name = "max-body-buffer", .arg = "SIZE",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_SIZE,
	  FIELD(max_body_buffer), .lo = 1, .hi = 1024 * 1024 * 1024,
	  .help = "most body held in memory for inspection\n"
	    "(default 16M)" },
	{ .name = "max-connections", .arg = "N",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_COUNT,
	  FIELD(max_connections), .hi = 100000,
	  .help = "most client connections at once, else 503\n"
	    "(default 1024)" },
	{ .name = "ca-dir", .arg = "DIR",
	  .commands = OPTIONS_SERVE | CMD(CA) | CMD(ENV) | CMD(DOCTOR),
	  .kind = OPTIONS_STRING, FIELD(ca_dir),
	  .help = "where patchscope's CA lives (default\n"
	    "$PATCHSCOPE_HOME, else ~/.patchscope)",
	  .alt_commands = CMD(CA) | CMD(ENV) | CMD(DOCTOR),
	  .alt_help = "where the CA lives (default $PATCHSCOPE_HOME,\n"
	    "else ~/.patchscope); created if missing" },
	{ .name = "dir", .arg = "DIR",
	  .commands = CMD(CA) | CMD(ENV), .kind = OPTIONS_STRING,
	  FIELD(ca_dir),
	  .help = "the same as --ca-dir" },
	{ .name = "upstream-ca", .arg = "FILE",
	  .commands = OPTIONS_SERVE | CMD(DRIFT), .kind = OPTIONS_STRING,
	  FIELD(upstream_ca),
	  .help = "also trust this CA (PEM) for origins' TLS" },
	{ .name = "insecure-upstream",
	  .commands = OPTIONS_SERVE | CMD(DRIFT), .kind = OPTIONS_FLAG,
	  FIELD(insecure_upstream),
	  .help = "do not verify origins' certificates" },
	{ .name = "no-intercept", .arg = "HOST,...",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_HOSTS,
	  LIST(no_intercept),
	  .help = "tunnel HTTPS to these hosts without decrypting" },
	{ .name = "guard",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_FLAG, FIELD(guard),
	  .help = "do not send a profile PATCH with error-level\n"
	    "diagnoses; answer 422 with them" },
	{ .name = "no-annotate",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_FLAG, FIELD(no_annotate),
	  .help = "never change a response (diagnoses are logged)" },
	{ .name = "log-json",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_FLAG, FIELD(log_json),
	  .help = "log one JSON object per exchange" },
	{ .name = "rules", .arg = "FILE",
	  .commands = OPTIONS_SERVE | CMD(LINT), .kind = OPTIONS_STRING,
	  FIELD(rules_file),
	  .help = "known types, anchors, fields and placeholders\n"
	    "(default: the built-in rules)" },
	{ .name = "json",
	  .commands = CMD(LINT) | CMD(SHOW) | CMD(DIFF) | CMD(DRIFT),
	  .kind = OPTIONS_FLAG,
	  FIELD(json),
	  .help = "print {\"diagnoses\": [...]} instead of text",
	  .alt_commands = CMD(SHOW),
	  .alt_help = "one JSON object per exchange, one per line",
	  .alt2_commands = CMD(DIFF) | CMD(DRIFT),
	  .alt2_help = "print one JSON object instead of text" },
	{ .name = "verbose", .letter = 'v',
	  .commands = OPTIONS_SERVE | CMD(DRIFT), .kind = OPTIONS_LEVEL,
	  FIELD(log_level), .lo = LOG_LEVEL_DEBUG,
	  .help = "also log connection details",
	  .alt2_commands = CMD(DRIFT),
	  .alt2_help = "also list the entries that did not drift,\n"
	    "and log connection details" },
	{ .name = "quiet", .letter = 'q',
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_LEVEL, FIELD(log_level),
	  .lo = LOG_LEVEL_WARN,
	  .help = "log only warnings and errors" },
	{ .name = "fault", .arg = "SPEC",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_FAULT, LIST(faults),
	  .help = "inject a fault: 'MATCH=KIND[:ARG][,SELECT]'\n"
	    "MATCH: [METHOD ]PATH-GLOB, * for all\n"
	    "KIND: latency:MS, status:CODE[:retry-after=S],\n"
	    "reset, truncate, hang, drop-response\n"
	    "SELECT: times=N, every=N or rate=P\n"
	    "(repeatable: the first matching spec decides)" },
	{ .name = "seed", .arg = "N",
	  .commands = OPTIONS_SERVE, .kind = OPTIONS_SEED, FIELD(seed),
	  .help = "seed --fault's rate choices (default: from\n"
	    "the clock, logged) to repeat a run" },
	{ .name = "web", .arg = "ADDR:PORT",
	  .commands = OPTIONS_SERVE | CMD(VIEW), .kind = OPTIONS_STRING,
	  FIELD(web),
	  .help = "also serve a live web view of the exchanges\n"
	    "there (port 0 picks a free port); prints\n"
	    "'web on URL' with the URL to open, which holds\n"
	    "the run's access token",
	  .alt_commands = CMD(VIEW),
	  .alt_help = "where to serve the view (default 127.0.0.1:0,\n"
	    "a free port)" },
	{ .name = "web-keep", .arg = "N",
	  .commands = OPTIONS_SERVE | CMD(VIEW), .kind = OPTIONS_COUNT,
	  FIELD(web_keep), .hi = 1000000,
	  .help = "the web view keeps the last N exchanges\n"
	    "(default 10000; bodies as --max-body-buffer)",
	  .alt_commands = CMD(VIEW),
	  .alt_help = "show at most the last N entries (default\n"
	    "10000)" },
	{ .name = "web-allow-remote",
	  .commands = OPTIONS_SERVE | CMD(VIEW), .kind = OPTIONS_FLAG,
	  FIELD(web_allow_remote),
	  .help = "let --web listen on an address other machines\n"
	    "can reach (they still need the token)" },
	{ .name = "output", .letter = 'o', .arg = "FILE",
	  .commands = CMD(REPORT) | CMD(SANITIZE), .kind = OPTIONS_STRING,
	  FIELD(output),
	  .help = "write the report there (default: the cassette's\n"
	    "name with .html in place of .har)",
	  .alt_commands = CMD(SANITIZE),
	  .alt_help = "write the redacted HAR to FILE (default: stdout);\n"
	    "FILE may be the input itself: it is then replaced\n"
	    "crash-safely" },
	{ .name = "resolve", .arg = "HOST:PORT=ADDR:PORT",
	  .commands = OPTIONS_SERVE | CMD(DRIFT), .kind = OPTIONS_RESOLVE,
	  LIST(resolve),
	  .help = "connect to ADDR:PORT (a numeric address,\n"
	    "[IPv6] in brackets) whenever the origin\n"
	    "HOST:PORT is asked for; the TLS name and the\n"
	    "Host header stay HOST (a local fake answering\n"
	    "for the real API's name); repeatable" },
	{ .name = "help", .letter = 'h',
	  .commands = ALL, .kind = OPTIONS_FLAG,
	  FIELD(help),
	  .help = "show this help" },
	{ .name = "record", .arg = "none|new|once|all",
	  .commands = CMD(REPLAY), .kind = OPTIONS_CHOICE,
	  FIELD(record_mode),
	  .help = "none: a request that matches nothing gets\n"
	    "404 and a miss report (default); new: it is\n"
	    "forwarded and appended to FILE; once: if FILE\n"
	    "does not exist, forward and record every\n"
	    "request, else as none; all: forward and record\n"
	    "every request to a new file that replaces FILE\n"
	    "when the run ends cleanly (FILE is untouched\n"
	    "until then)" },
	{ .name = "session-header", .arg = "NAME",
	  .commands = CMD(REPLAY), .kind = OPTIONS_STRING,
	  FIELD(session_header),
	  .help = "keep the place in each run of identical\n"
	    "requests per value of this request header, so\n"
	    "parallel test workers each get the recorded\n"
	    "order; requests without it share one place" },
	{ .name = "check",
	  .commands = CMD(SANITIZE), .kind = OPTIONS_FLAG, FIELD(check),
	  .help = "write nothing; exit 1 when the file holds\n"
	    "anything patchscope would redact, 0 when clean" },
	{ .name = NULL }
};
_Static_assert(sizeof options_table / sizeof options_table[0] <=
    OPTIONS_MAX + 1, "options_table has more rows than OPTIONS_MAX");
