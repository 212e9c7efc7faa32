/*
 * options: parse the serving commands' options with getopt_long.
 *
 * Every value is checked here, so the shell only ever sees sane limits:
 * timeouts within (0, 1 day], sizes within their documented bounds.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"
#include "xmalloc.h"

#define MAX_TIMEOUT_MS	(24u * 3600u * 1000u)

enum {
	OPT_CONNECT_TIMEOUT = 256,
	OPT_RESPONSE_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_HEADER_TIMEOUT,
	OPT_MAX_HEADER_BYTES,
	OPT_MAX_BODY_BUFFER,
	OPT_MAX_CONNECTIONS,
	OPT_CA_DIR,
	OPT_UPSTREAM_CA,
	OPT_INSECURE_UPSTREAM,
	OPT_NO_INTERCEPT,
	OPT_GUARD,
	OPT_NO_ANNOTATE,
	OPT_LOG_JSON,
	OPT_RULES,
	OPT_REDACT_HEADER,
	OPT_REDACT_QUERY,
	OPT_REDACT_JSON_KEY,
	OPT_NO_REDACT,
	OPT_FALLBACK,
	OPT_MATCH_HEADER,
	OPT_REPORT,
	OPT_STRICT
};

static const struct option long_options[] = {
	{ "listen",		required_argument, NULL, 'l' },
	{ "connect-timeout",	required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "response-timeout",	required_argument, NULL, OPT_RESPONSE_TIMEOUT },
	{ "idle-timeout",	required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "header-timeout",	required_argument, NULL, OPT_HEADER_TIMEOUT },
	{ "max-header-bytes",	required_argument, NULL, OPT_MAX_HEADER_BYTES },
	{ "max-body-buffer",	required_argument, NULL, OPT_MAX_BODY_BUFFER },
	{ "max-connections",	required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "ca-dir",		required_argument, NULL, OPT_CA_DIR },
	{ "upstream-ca",	required_argument, NULL, OPT_UPSTREAM_CA },
	{ "insecure-upstream",	no_argument,	   NULL, OPT_INSECURE_UPSTREAM },
	{ "no-intercept",	required_argument, NULL, OPT_NO_INTERCEPT },
	{ "guard",		no_argument,	   NULL, OPT_GUARD },
	{ "no-annotate",	no_argument,	   NULL, OPT_NO_ANNOTATE },
	{ "log-json",		no_argument,	   NULL, OPT_LOG_JSON },
	{ "rules",		required_argument, NULL, OPT_RULES },
	{ "cassette",		required_argument, NULL, 'c' },
	{ "redact-header",	required_argument, NULL, OPT_REDACT_HEADER },
	{ "redact-query",	required_argument, NULL, OPT_REDACT_QUERY },
	{ "redact-json-key",	required_argument, NULL, OPT_REDACT_JSON_KEY },
	{ "no-redact",		no_argument,	   NULL, OPT_NO_REDACT },
	{ "fallback",		required_argument, NULL, OPT_FALLBACK },
	{ "match-header",	required_argument, NULL, OPT_MATCH_HEADER },
	{ "report",		required_argument, NULL, OPT_REPORT },
	{ "strict",		no_argument,	   NULL, OPT_STRICT },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
options_list_free(char ***list, size_t *n)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

/* Fill in the defaults documented in DESIGN.md. */
void
options_defaults(struct options *o)
{
	memset(o, 0, sizeof *o);
	o->listen_host = xstrdup("127.0.0.1");
	o->listen_port = 8080;
	o->connect_timeout_ms = 10 * 1000;
	o->response_timeout_ms = 60 * 1000;
	o->idle_timeout_ms = 60 * 1000;
	o->header_timeout_ms = 10 * 1000;
	o->max_header_bytes = 65536;
	o->max_body_buffer = 16 * 1024 * 1024;
	o->max_connections = 1024;
	o->log_level = LOG_LEVEL_INFO;
}

/* Free allocated members. */
void
options_free(struct options *o)
{
	free(o->listen_host);
	o->listen_host = NULL;
	free(o->ca_dir);
	o->ca_dir = NULL;
	free(o->upstream_ca);
	o->upstream_ca = NULL;
	free(o->rules_file);
	o->rules_file = NULL;
	options_list_free(&o->no_intercept, &o->n_no_intercept);
	free(o->cassette);
	o->cassette = NULL;
	options_list_free(&o->redact_headers, &o->n_redact_headers);
	options_list_free(&o->redact_queries, &o->n_redact_queries);
	options_list_free(&o->redact_json_keys, &o->n_redact_json_keys);
	options_list_free(&o->match_headers, &o->n_match_headers);
	free(o->report_file);
	o->report_file = NULL;
}

/* Append a copy of s to a list. */
static void
options_list_add(char ***list, size_t *n, const char *s)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = xstrdup(s);
}

/*
 * Add a name given to --redact-header and the like: a header name or key
 * of at most 256 bytes, no control characters.
 */
static int
options_add_name(char ***list, size_t *n, const char *s, char **cause)
{
	const char	*p;

	if (*s == '\0' || strlen(s) > 256) {
		*cause = xasprintf("expected a name of 1 to 256 characters");
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*cause = xasprintf("\"%s\" contains a control "
			    "character", s);
			return -1;
		}
	options_list_add(list, n, s);
	return 0;
}

/* Add the comma-separated hosts of --no-intercept, lower-cased. */
static int
options_add_no_intercept(struct options *o, const char *list, char **cause)
{
	const char	*p = list, *end;
	char		*host;
	size_t		 len, i;

	while (*p != '\0') {
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		if (len == 0 || len > 253) {
			*cause = xasprintf("bad host list \"%s\": expected "
			    "HOST[,HOST...]", list);
			return -1;
		}
		host = xstrndup(p, len);
		for (i = 0; i < len; i++)
			host[i] = (char)tolower((unsigned char)host[i]);
		options_list_add(&o->no_intercept, &o->n_no_intercept, host);
		free(host);
		p = *end == ',' ? end + 1 : end;
	}
	if (o->n_no_intercept == 0) {
		*cause = xasprintf("expected HOST[,HOST...]");
		return -1;
	}
	return 0;
}

/* Is host (any case) listed in --no-intercept? */
int
options_no_intercept(const struct options *o, const char *host)
{
	size_t	i;

	for (i = 0; i < o->n_no_intercept; i++)
		if (strcasecmp(o->no_intercept[i], host) == 0)
			return 1;
	return 0;
}

/* Split ADDR:PORT. */
int
options_parse_listen(const char *s, char **host, int *port, char **cause)
{
	const char	*colon, *h, *hend;
	char		*end;
	long		 p;

	*host = NULL;
	if (*s == '[') {
		hend = strchr(s, ']');
		if (hend == NULL || hend[1] != ':') {
			*cause = xasprintf("bad listen address \"%s\": "
			    "expected [IPV6]:PORT", s);
			return -1;
		}
		h = s + 1;
		colon = hend + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			*cause = xasprintf("bad listen address \"%s\": "
			    "expected ADDR:PORT, e.g. 127.0.0.1:8080", s);
			return -1;
		}
		h = s;
		hend = colon;
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*cause = xasprintf("bad listen address \"%s\": write "
			    "IPv6 addresses in brackets, e.g. [::1]:8080", s);
			return -1;
		}
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 ||
	    p > 65535) {
		*cause = xasprintf("bad listen address \"%s\": the port must "
		    "be a number from 0 to 65535", s);
		return -1;
	}
	if (hend == h)
		*host = xstrdup("127.0.0.1");
	else
		*host = xstrndup(h, (size_t)(hend - h));
	*port = (int)p;
	return 0;
}

/* Seconds with optional fraction, into milliseconds. */
int
options_parse_seconds(const char *s, unsigned *ms, char **cause)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v <= 0 || v * 1000 > MAX_TIMEOUT_MS) {
		*cause = xasprintf("bad duration \"%s\": expected seconds "
		    "greater than 0 and at most 86400, e.g. 10 or 0.5", s);
		return -1;
	}
	*ms = (unsigned)(v * 1000 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

/* Byte size with K/M/G (binary) suffix, optionally followed by "iB" or "B". */
int
options_parse_size(const char *s, size_t *out, char **cause)
{
	unsigned long long	 v, mult = 1;
	char			*end;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mult = 1024ULL;
		end++;
		break;
	case 'M':
		mult = 1024ULL * 1024;
		end++;
		break;
	case 'G':
		mult = 1024ULL * 1024 * 1024;
		end++;
		break;
	}
	if (mult != 1 && (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0))
		end += strlen(end);
	else if (mult == 1 && strcasecmp(end, "B") == 0)
		end++;
	if (*end != '\0' || v == 0 || v > (1ULL << 40) / mult)
		goto bad;
	*out = (size_t)(v * mult);
	return 0;
bad:
	*cause = xasprintf("bad size \"%s\": expected a positive number of "
	    "bytes, optionally with K, M or G (e.g. 65536 or 16M)", s);
	return -1;
}

/* Positive count up to max. */
int
options_parse_count(const char *s, unsigned max, unsigned *out, char **cause)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0 ||
	    v == 0 || v > max) {
		*cause = xasprintf("bad number \"%s\": expected a whole number "
		    "from 1 to %u", s, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
options_prefix(const char *name, int rc, char **cause)
{
	char	*c;

	if (rc == 0)
		return 0;
	c = xasprintf("--%s: %s", name, *cause);
	free(*cause);
	*cause = c;
	return -1;
}

static int	options_mode_check(enum options_mode, int, const char *,
		    char **);

/* Parse argv of a serving command. */
int
options_parse(struct options *o, int argc, char **argv, char **cause)
{
	int	 ch, idx, rc;
	char	*host;

	*cause = NULL;
	optind = 0;	/* glibc: a full reset of getopt */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":l:c:vqh", long_options,
	    &idx)) != -1) {
		rc = 0;
		if (options_mode_check(o->mode, ch, argv[optind - 1],
		    cause) != 0)
			return -1;
		switch (ch) {
		case 'l':
			rc = options_parse_listen(optarg, &host,
			    &o->listen_port, cause);
			if (rc == 0) {
				free(o->listen_host);
				o->listen_host = host;
			}
			rc = options_prefix("listen", rc, cause);
			break;
		case OPT_CONNECT_TIMEOUT:
			rc = options_prefix("connect-timeout",
			    options_parse_seconds(optarg,
			    &o->connect_timeout_ms, cause), cause);
			break;
		case OPT_RESPONSE_TIMEOUT:
			rc = options_prefix("response-timeout",
			    options_parse_seconds(optarg,
			    &o->response_timeout_ms, cause), cause);
			break;
		case OPT_IDLE_TIMEOUT:
			rc = options_prefix("idle-timeout",
			    options_parse_seconds(optarg,
			    &o->idle_timeout_ms, cause), cause);
			break;
		case OPT_HEADER_TIMEOUT:
			rc = options_prefix("header-timeout",
			    options_parse_seconds(optarg,
			    &o->header_timeout_ms, cause), cause);
			break;
		case OPT_MAX_HEADER_BYTES:
			rc = options_prefix("max-header-bytes",
			    options_parse_size(optarg, &o->max_header_bytes,
			    cause), cause);
			if (rc == 0 && (o->max_header_bytes < 1024 ||
			    o->max_header_bytes > 1024 * 1024)) {
				*cause = xasprintf("--max-header-bytes: must "
				    "be from 1K to 1M");
				rc = -1;
			}
			break;
		case OPT_MAX_BODY_BUFFER:
			rc = options_prefix("max-body-buffer",
			    options_parse_size(optarg, &o->max_body_buffer,
			    cause), cause);
			if (rc == 0 && o->max_body_buffer > 1024 * 1024 * 1024) {
				*cause = xasprintf("--max-body-buffer: must "
				    "be at most 1G");
				rc = -1;
			}
			break;
		case OPT_MAX_CONNECTIONS:
			rc = options_prefix("max-connections",
			    options_parse_count(optarg, 100000,
			    &o->max_connections, cause), cause);
			break;
		case OPT_CA_DIR:
			free(o->ca_dir);
			o->ca_dir = xstrdup(optarg);
			break;
		case OPT_UPSTREAM_CA:
			free(o->upstream_ca);
			o->upstream_ca = xstrdup(optarg);
			break;
		case OPT_INSECURE_UPSTREAM:
			o->insecure_upstream = 1;
			break;
		case OPT_NO_INTERCEPT:
			rc = options_prefix("no-intercept",
			    options_add_no_intercept(o, optarg, cause), cause);
			break;
		case OPT_GUARD:
			o->guard = 1;
			break;
		case OPT_NO_ANNOTATE:
			o->no_annotate = 1;
			break;
		case OPT_LOG_JSON:
			o->log_json = 1;
			break;
		case OPT_RULES:
			free(o->rules_file);
			o->rules_file = xstrdup(optarg);
			break;
		case 'c':
			free(o->cassette);
			o->cassette = xstrdup(optarg);
			break;
		case OPT_REDACT_HEADER:
			rc = options_prefix("redact-header", options_add_name(
			    &o->redact_headers, &o->n_redact_headers, optarg,
			    cause), cause);
			break;
		case OPT_REDACT_QUERY:
			rc = options_prefix("redact-query", options_add_name(
			    &o->redact_queries, &o->n_redact_queries, optarg,
			    cause), cause);
			break;
		case OPT_REDACT_JSON_KEY:
			rc = options_prefix("redact-json-key", options_add_name(
			    &o->redact_json_keys, &o->n_redact_json_keys,
			    optarg, cause), cause);
			break;
		case OPT_NO_REDACT:
			o->no_redact = 1;
			break;
		case OPT_FALLBACK:
			if (strcmp(optarg, "error") == 0)
				o->fallback_proxy = 0;
			else if (strcmp(optarg, "proxy") == 0)
				o->fallback_proxy = 1;
			else {
				*cause = xasprintf("--fallback: expected "
				    "\"error\" or \"proxy\", not \"%s\"",
				    optarg);
				rc = -1;
			}
			break;
		case OPT_MATCH_HEADER:
			rc = options_prefix("match-header", options_add_name(
			    &o->match_headers, &o->n_match_headers, optarg,
			    cause), cause);
			break;
		case OPT_REPORT:
			free(o->report_file);
			o->report_file = xstrdup(optarg);
			break;
		case OPT_STRICT:
			o->strict = 1;
			break;
		case 'v':
			o->log_level = LOG_LEVEL_DEBUG;
			break;
		case 'q':
			o->log_level = LOG_LEVEL_WARN;
			break;
		case 'h':
			o->help = 1;
			break;
		case ':':
			*cause = xasprintf("option %s needs a value",
			    argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0)
				*cause = xasprintf("unknown option -%c",
				    optopt);
			else
				*cause = xasprintf("unknown option %s",
				    argv[optind - 1]);
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (optind < argc) {
		*cause = xasprintf("unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (o->mode != OPTIONS_PROXY && o->cassette == NULL && !o->help) {
		*cause = xasprintf("missing -c FILE (the cassette to %s)",
		    o->mode == OPTIONS_RECORD ? "record to" : "replay");
		return -1;
	}
	return 0;
}

/*
 * Refuse an option that its command does not take: the cassette options
 * belong to record and replay, the matching ones to replay alone.
 */
static int
options_mode_check(enum options_mode mode, int ch, const char *arg,
    char **cause)
{
	const char	*only = NULL;

	switch (ch) {
	case 'c':
	case OPT_REDACT_HEADER:
	case OPT_REDACT_QUERY:
	case OPT_REDACT_JSON_KEY:
	case OPT_NO_REDACT:
		if (mode == OPTIONS_PROXY)
			only = "record and replay";
		break;
	case OPT_FALLBACK:
	case OPT_MATCH_HEADER:
	case OPT_REPORT:
	case OPT_STRICT:
		if (mode != OPTIONS_REPLAY)
			only = "replay";
		break;
	}
	if (only == NULL)
		return 0;
	*cause = xasprintf("option %.*s is for %s only", (int)strcspn(arg, "="),
	    arg, only);
	return -1;
}

/* Usage text of the serving options. */
const char *
options_usage(void)
{
	return
	"  -l, --listen ADDR:PORT      where to accept clients (default "
	    OPTIONS_DEFAULT_LISTEN ");\n"
	"                              port 0 picks a free port\n"
	"      --connect-timeout SECS  give up connecting to an origin "
	    "(default 10)\n"
	"      --response-timeout SECS wait this long for the first byte of "
	    "an\n"
	"                              origin's response, then answer 504 "
	    "(default 60)\n"
	"      --idle-timeout SECS     close idle keep-alive connections and "
	    "stalled\n"
	"                              transfers (default 60)\n"
	"      --header-timeout SECS   a client must send its request headers "
	    "in time,\n"
	"                              else 408 (default 10)\n"
	"      --max-header-bytes SIZE largest request head, else 431 "
	    "(default 64K)\n"
	"      --max-body-buffer SIZE  most body held in memory for "
	    "inspection (default 16M)\n"
	"      --max-connections N     most client connections at once, "
	    "else 503 (default 1024)\n"
	"      --ca-dir DIR            where patchscope's CA lives (default\n"
	"                              $PATCHSCOPE_HOME, else ~/.patchscope)\n"
	"      --upstream-ca FILE      also trust this CA (PEM) for origins' "
	    "TLS\n"
	"      --insecure-upstream     do not verify origins' certificates\n"
	"      --no-intercept HOST,... tunnel HTTPS to these hosts without "
	    "decrypting\n"
	"      --guard                 do not send a profile PATCH with "
	    "error-level\n"
	"                              diagnoses; answer 422 with them\n"
	"      --no-annotate           never change a response (diagnoses "
	    "are logged)\n"
	"      --log-json              log one JSON object per exchange\n"
	"      --rules FILE            known types, anchors, fields and "
	    "placeholders\n"
	"                              (default: the built-in rules)\n"
	"  -v, --verbose               also log connection details\n"
	"  -q, --quiet                 log only warnings and errors\n"
	"  -h, --help                  show this help\n";
}

/* Usage text of the options of record. */
const char *
options_usage_record(void)
{
	return
	"  -c, --cassette FILE         the HAR file to record to (created, or "
	    "appended to)\n"
	"      --redact-header NAME    also redact this header's value\n"
	"      --redact-query NAME     also redact this query parameter's "
	    "value\n"
	"      --redact-json-key NAME  also redact this JSON key's value, at "
	    "any depth\n"
	"      --no-redact             store secrets as they are (prints a "
	    "warning;\n"
	"                              never attach such a cassette to a "
	    "ticket)\n";
}

/* Usage text of the options of replay. */
const char *
options_usage_replay(void)
{
	return
	"  -c, --cassette FILE         the HAR file to answer from\n"
	"      --fallback=error|proxy  on a miss: answer 404 with a miss "
	    "report\n"
	"                              (default), or forward the request and "
	    "append\n"
	"                              the exchange to the cassette\n"
	"      --match-header NAME     requests must also agree on this "
	    "header\n"
	"      --report FILE           write the run's report (unused entries, "
	    "misses)\n"
	"                              as JSON to FILE on exit\n"
	"      --strict                exit 1 when an entry was never used or "
	    "a\n"
	"                              request missed\n"
	"      --redact-header NAME, --redact-query NAME, --redact-json-key "
	    "NAME,\n"
	"      --no-redact             as for record: live requests are "
	    "redacted the\n"
	"                              same way before they are matched\n";
}
