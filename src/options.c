/*
 * options: every command's options, from one table.
 *
 * options_table (in options_table.c) has one row per option: its names,
 * its value, the commands that take it, how the value is checked and
 * stored in struct options, and its help. From it come getopt_long's tables for each
 * command, the refusals of options a command does not take, and each
 * command's --help lines. Every value is checked here, so the shell only
 * ever sees sane limits: timeouts within (0, 1 day], sizes within their
 * documented bounds.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "fault.h"
#include "options.h"
#include "options_local.h"
#include "resolve.h"
#include "xmalloc.h"

#define MAX_TIMEOUT_MS	(24u * 3600u * 1000u)
#define HELP_COLUMN	30	/* where the help text starts in --help */

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
	o->fallback = -1;
	o->record_mode = -1;
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
	free(o->web);
	o->web = NULL;
	free(o->output);
	o->output = NULL;
	options_list_free(&o->no_intercept, &o->n_no_intercept);
	free(o->cassette);
	o->cassette = NULL;
	options_list_free(&o->redact_headers, &o->n_redact_headers);
	options_list_free(&o->redact_queries, &o->n_redact_queries);
	options_list_free(&o->redact_json_keys, &o->n_redact_json_keys);
	options_list_free(&o->match_headers, &o->n_match_headers);
	options_list_free(&o->faults, &o->n_faults);
	options_list_free(&o->headers, &o->n_headers);
	options_list_free(&o->resolve, &o->n_resolve);
	free(o->report_file);
	o->report_file = NULL;
	free(o->snapshot_file);
	o->snapshot_file = NULL;
	free(o->session_header);
	o->session_header = NULL;
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

#define OPTIONS_MAX_HEADER_LINE	8192	/* bytes of one --header */

/* Check "NAME: VALUE" as a header line to send. */
int
options_parse_header(const char *s, char **cause)
{
	const char	*colon = strchr(s, ':'), *p;
	size_t		 i;
	int		 shown;		/* bytes of the name in a message */

	if (colon == NULL || colon == s ||
	    strlen(s) > OPTIONS_MAX_HEADER_LINE) {
		*cause = xasprintf("expected 'NAME: VALUE' (a header line of at "
		    "most %d bytes), not \"%.64s\"", OPTIONS_MAX_HEADER_LINE,
		    s);
		return -1;
	}
	shown = colon - s > 64 ? 64 : (int)(colon - s);
	/* A field name is a token (RFC 9110 5.1): no spaces before ':'. */
	for (i = 0; s + i < colon; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("!#$%&'*+-.^_`|~", s[i]) == NULL) {
			*cause = xasprintf("\"%.*s\" is not a header name",
			    shown, s);
			return -1;
		}
	/* RFC 9110 5.5: no CR, LF, NUL or other controls in a value. */
	for (p = colon + 1; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
			*cause = xasprintf("the value of %.*s contains a "
			    "control character", shown, s);
			return -1;
		}
	return 0;
}

/* Add the comma-separated hosts of --no-intercept, lower-cased. */
static int
options_add_hosts(char ***hosts, size_t *n, const char *list, char **cause)
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
		options_list_add(hosts, n, host);
		free(host);
		p = *end == ',' ? end + 1 : end;
	}
	if (*n == 0) {
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

/* Write a size as the --help texts do: 1K, 1M, 1G, else bytes. */
static void
options_size_name(unsigned long long v, char *out, size_t len)
{
	if (v >= 1024 * 1024 * 1024 && v % (1024 * 1024 * 1024) == 0)
		snprintf(out, len, "%lluG", v / (1024 * 1024 * 1024));
	else if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
		snprintf(out, len, "%lluM", v / (1024 * 1024));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(out, len, "%lluK", v / 1024);
	else
		snprintf(out, len, "%llu", v);
}

/* A byte size within the row's bounds. */
static int
options_store_size(const struct options_spec *spec, const char *arg,
    size_t *out, char **cause)
{
	char	lo[32], hi[32];

	if (options_parse_size(arg, out, cause) != 0)
		return -1;
	if (*out >= spec->lo && *out <= spec->hi)
		return 0;
	options_size_name(spec->lo, lo, sizeof lo);
	options_size_name(spec->hi, hi, sizeof hi);
	if (spec->lo > 1)
		*cause = xasprintf("must be from %s to %s", lo, hi);
	else
		*cause = xasprintf("must be at most %s", hi);
	return -1;
}

/* One of the words of spec->arg ("error|proxy"): store its index. */
static int
options_store_choice(const struct options_spec *spec, const char *arg,
    int *out, char **cause)
{
	struct buf	 words = { NULL, 0, 0 };
	const char	*p = spec->arg, *end;
	size_t		 len;
	int		 i;

	for (i = 0; *p != '\0'; i++) {
		end = p + strcspn(p, "|");
		len = (size_t)(end - p);
		if (strlen(arg) == len && strncmp(arg, p, len) == 0) {
			*out = i;
			buf_free(&words);
			return 0;
		}
		if (i > 0)
			buf_adds(&words, *end == '\0' ? " or " : ", ");
		buf_printf(&words, "\"%.*s\"", (int)len, p);
		p = *end == '|' ? end + 1 : end;
	}
	*cause = xasprintf("expected %s, not \"%s\"", buf_str(&words), arg);
	buf_free(&words);
	return -1;
}

/* A --fault spec: checked now, so a bad one stops the run before it binds. */
static int
options_add_fault(struct options *o, const char *arg, char **cause)
{
	struct fault_spec	 spec;
	char			*why;

	if (fault_spec_parse(arg, &spec, &why) != 0) {
		*cause = xasprintf("--fault '%s': %s", arg, why);
		free(why);
		return -1;
	}
	fault_spec_free(&spec);
	options_list_add(&o->faults, &o->n_faults, arg);
	return 0;
}

/* --resolve: checked now, so a bad value stops the run before it binds. */
static int
options_add_resolve(char ***list, size_t *n, const char *arg, char **cause)
{
	struct resolve_entry	e;

	if (resolve_parse(arg, &e, cause) == -1)
		return -1;
	resolve_entry_free(&e);
	options_list_add(list, n, arg);
	return 0;
}

/* --seed: a whole number from 0 to 2^64-1. */
static int
options_parse_seed(struct options *o, const char *s, char **cause)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0) {
		*cause = xasprintf("bad seed \"%s\": expected a whole number "
		    "from 0 to 18446744073709551615", s);
		return -1;
	}
	o->seed = v;
	o->have_seed = 1;
	return 0;
}

/* Check arg as spec says and store it in o; -1 with *cause. */
static int
options_store(struct options *o, const struct options_spec *spec,
    const char *arg, char **cause)
{
	void	*field = (char *)o + spec->field;
	void	*count = (char *)o + spec->count;	/* lists only */
	char	**str = field, *host;
	int	 rc = 0;

	switch (spec->kind) {
	case OPTIONS_FLAG:
		*(int *)field = 1;
		break;
	case OPTIONS_LEVEL:
		*(enum log_level *)field = (enum log_level)spec->lo;
		break;
	case OPTIONS_STRING:
		free(*str);
		*str = xstrdup(arg);
		break;
	case OPTIONS_NAME:
		rc = options_add_name(field, count, arg, cause);
		break;
	case OPTIONS_HOSTS:
		rc = options_add_hosts(field, count, arg, cause);
		break;
	case OPTIONS_LISTEN:
		rc = options_parse_listen(arg, &host, &o->listen_port, cause);
		if (rc == 0) {
			free(o->listen_host);
			o->listen_host = host;
			o->listen_given = 1;
		}
		break;
	case OPTIONS_SECONDS:
		rc = options_parse_seconds(arg, field, cause);
		break;
	case OPTIONS_SIZE:
		rc = options_store_size(spec, arg, field, cause);
		break;
	case OPTIONS_COUNT:
		rc = options_parse_count(arg, (unsigned)spec->hi, field, cause);
		break;
	case OPTIONS_CHOICE:
		rc = options_store_choice(spec, arg, field, cause);
		break;
	case OPTIONS_FAULT:
		/* The message names the spec itself: no prefix. */
		return options_add_fault(o, arg, cause);
	case OPTIONS_SEED:
		rc = options_parse_seed(o, arg, cause);
		break;
	case OPTIONS_HEADER:
		rc = options_parse_header(arg, cause);
		if (rc == 0)
			options_list_add(field, count, arg);
		break;
	case OPTIONS_RESOLVE:
		rc = options_add_resolve(field, count, arg, cause);
		break;
	}
	return options_prefix(spec->name, rc, cause);
}

/* The names of the commands in a set: "replay", "record and replay". */
static char *
options_command_list(unsigned commands)
{
	struct buf	 b = { NULL, 0, 0 };
	unsigned	 left = commands;
	int		 m;
	char		*s;

	for (m = 0; m < OPTIONS_NMODES; m++) {
		if ((left & OPTIONS_CMD(m)) == 0)
			continue;
		left &= ~OPTIONS_CMD(m);
		if (b.len > 0)
			buf_adds(&b, left == 0 ? " and " : ", ");
		buf_adds(&b, options_commands[m].name);
	}
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/*
 * Build getopt_long's tables from the rows a command knows: long options
 * return 256 + their row, short ones their letter.
 */
static void
options_getopt_tables(unsigned known, struct option *longopts,
    char *shortopts)
{
	const struct options_spec	*spec;
	size_t				 i, n = 0;
	char				*s = shortopts;

	*s++ = ':';	/* a missing value returns ':' */
	for (i = 0; options_table[i].name != NULL; i++) {
		spec = &options_table[i];
		if ((spec->commands & known) == 0)
			continue;
		longopts[n].name = spec->name;
		longopts[n].has_arg = spec->arg != NULL ? required_argument :
		    no_argument;
		longopts[n].flag = NULL;
		longopts[n].val = 256 + (int)i;
		n++;
		if (spec->letter != 0) {
			*s++ = (char)spec->letter;
			if (spec->arg != NULL)
				*s++ = ':';
		}
	}
	memset(&longopts[n], 0, sizeof longopts[n]);
	*s = '\0';
}

/* The row getopt_long returned ch for; NULL if none. */
static const struct options_spec *
options_lookup(int ch, unsigned known)
{
	size_t	i;

	if (ch >= 256)
		return &options_table[ch - 256];
	for (i = 0; options_table[i].name != NULL; i++)
		if (options_table[i].letter == ch &&
		    (options_table[i].commands & known) != 0)
			return &options_table[i];
	return NULL;
}

/* The message for an option getopt_long did not accept. */
static char *
options_refused(int ch, char **argv)
{
	if (ch == ':')
		return xasprintf("option %s needs a value", argv[optind - 1]);
	if (optopt >= 256)
		return xasprintf("option --%s does not take a value",
		    options_table[optopt - 256].name);
	if (optopt != 0)
		return xasprintf("unknown option -%c", optopt);
	return xasprintf("unknown option %s", argv[optind - 1]);
}

/*
 * The message for a long option typed as the whole name of another row
 * that this command does not know, which getopt_long took for an
 * abbreviation ("proxy --header" for --header-timeout); NULL when the
 * option was typed as it is, or is an abbreviation of nothing else.
 */
static char *
options_not_abbreviation(const struct options_spec *spec, char **argv)
{
	const char	*text, *end;
	size_t		 i, len;

	/* The option's own word: before its value when that came apart. */
	if (optarg != NULL && optind >= 2 && optarg == argv[optind - 1])
		text = argv[optind - 2];
	else
		text = argv[optind - 1];
	if (strncmp(text, "--", 2) != 0)
		return NULL;
	text += 2;
	end = text + strcspn(text, "=");
	len = (size_t)(end - text);
	if (len == strlen(spec->name))
		return NULL;
	for (i = 0; options_table[i].name != NULL; i++)
		if (strlen(options_table[i].name) == len &&
		    strncmp(options_table[i].name, text, len) == 0)
			return xasprintf("unknown option --%s",
			    options_table[i].name);
	return NULL;
}

/*
 * A serving command's "-- CMD [ARGS...]": getopt stopped just after a
 * "--" that was not an option's value (last: where the last option
 * ended). Take what follows as the command; the port is then 0 unless
 * --listen was given. Return 0, or -1 with *cause for "--" alone.
 */
static int
options_command_split(struct options *o, int argc, char **argv, int last,
    char **cause)
{
	if (optind < 2 || optind > argc || optind - 1 < last ||
	    strcmp(argv[optind - 1], "--") != 0)
		return 0;
	if (optind == argc) {
		*cause = xasprintf("\"--\" must be followed by a command to "
		    "run: -- CMD [ARGS...]");
		return -1;
	}
	o->command = argv + optind;
	o->n_command = argc - optind;
	optind = argc;
	if (!o->listen_given)
		o->listen_port = 0;
	return 0;
}

/* Parse argv of a command. */
int
options_parse(struct options *o, int argc, char **argv, char **cause)
{
	const struct options_spec	*spec;
	struct option			 longopts[OPTIONS_MAX + 1];
	char				 shortopts[3 + 2 * OPTIONS_MAX], *only;
	unsigned			 known;
	int				 ch, serve, last = 1;

	*cause = NULL;
	known = options_commands[o->mode].known;
	/*
	 * The serving commands take no operands: they stop at the first
	 * word that is not an option ('+'), so nothing after "--" (CMD's
	 * own options) is ever taken for theirs.
	 */
	serve = (OPTIONS_CMD(o->mode) & OPTIONS_SERVE) != 0;
	shortopts[0] = '+';
	options_getopt_tables(known, longopts, shortopts + 1);
	optind = 0;	/* glibc: a full reset of getopt */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, serve ? shortopts : shortopts + 1,
	    longopts, NULL)) != -1) {
		last = optind;
		spec = options_lookup(ch, known);
		if (spec == NULL) {
			*cause = options_refused(ch, argv);
			return -1;
		}
		if (ch >= 256)
			*cause = options_not_abbreviation(spec, argv);
		if (*cause != NULL)
			return -1;
		if ((spec->commands & OPTIONS_CMD(o->mode)) == 0) {
			only = options_command_list(spec->commands & known);
			if (ch < 256)
				*cause = xasprintf("option -%c is for %s only",
				    ch, only);
			else
				*cause = xasprintf("option --%s is for %s only",
				    spec->name, only);
			free(only);
			return -1;
		}
		if (options_store(o, spec, optarg, cause) != 0)
			return -1;
		if (o->help && options_commands[o->mode].help_ends)
			return 0;
	}
	if (serve && options_command_split(o, argc, argv, last, cause) != 0)
		return -1;
	if (optind < argc && !options_commands[o->mode].operands) {
		*cause = xasprintf("unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	o->operands = argv + optind;
	o->n_operands = argc - optind;
	if ((o->mode == OPTIONS_RECORD || o->mode == OPTIONS_REPLAY) &&
	    o->cassette == NULL && !o->help) {
		*cause = xasprintf("missing -c FILE (the cassette to %s)",
		    o->mode == OPTIONS_RECORD ? "record to" : "replay");
		return -1;
	}
	return 0;
}

/* The name of a command. */
const char *
options_name(enum options_mode mode)
{
	return options_commands[mode].name;
}

/* The --help lines of the options a command takes, in table order. */
char *
options_usage(enum options_mode mode)
{
	const struct options_spec	*spec;
	struct buf			 b = { NULL, 0, 0 };
	const char			*help, *line, *end;
	size_t				 i, start;
	char				*s;

	for (i = 0; options_table[i].name != NULL; i++) {
		spec = &options_table[i];
		if ((spec->commands & OPTIONS_CMD(mode)) == 0)
			continue;
		start = b.len;
		if (spec->letter != 0)
			buf_printf(&b, "  -%c, --%s", spec->letter, spec->name);
		else
			buf_printf(&b, "      --%s", spec->name);
		/* A choice is shown attached, as DESIGN.md writes it. */
		if (spec->arg != NULL)
			buf_printf(&b, "%c%s", spec->kind == OPTIONS_CHOICE ?
			    '=' : ' ', spec->arg);
		if (b.len - start >= HELP_COLUMN) {
			buf_adds(&b, "\n");	/* the help on a line of its own */
			start = b.len;
		}
		help = (spec->alt_commands & OPTIONS_CMD(mode)) != 0 ?
		    spec->alt_help : spec->help;
		if ((spec->alt2_commands & OPTIONS_CMD(mode)) != 0)
			help = spec->alt2_help;
		for (line = help; *line != '\0'; line = end) {
			end = line + strcspn(line, "\n");
			buf_printf(&b, "%*s%.*s\n",
			    (int)(HELP_COLUMN - (b.len - start)), "",
			    (int)(end - line), line);
			start = b.len;
			if (*end == '\n')
				end++;
		}
	}
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}
