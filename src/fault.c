/*
 * fault: the --fault specs and the choice of a request's fault.
 *
 * A spec is 'MATCH=KIND[:ARG][,MODIFIER]': MATCH is '[METHOD ]GLOB' and
 * ends at the first '='; KIND[:ARG] ends at the first ','; one modifier
 * may follow. Every error names its column (1-based) in the spec as
 * given. Parsed specs own their strings; a set owns its specs.
 *
 * Choosing: the first spec whose method and glob match a request decides
 * (later specs are not asked), and its counter of matched requests moves
 * on whether or not its selection takes this one. rate draws from the
 * spec's own splitmix64 stream, seeded from the set's seed and the spec's
 * place, so the choices of one spec do not depend on the traffic another
 * spec sees, and a run with the same --seed and the same requests makes
 * the same choices.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "fault.h"
#include "xmalloc.h"

#define KNOWN_KINDS	"latency, status, reset, truncate, hang, drop-response"

static const struct {
	const char	*name;
	enum fault_kind	 kind;
	int		 arg;		/* takes ":ARG" */
} fault_kinds[] = {
	{ "latency",		FAULT_LATENCY,		1 },
	{ "status",		FAULT_STATUS,		1 },
	{ "reset",		FAULT_RESET,		0 },
	{ "truncate",		FAULT_TRUNCATE,		0 },
	{ "hang",		FAULT_HANG,		0 },
	{ "drop-response",	FAULT_DROP_RESPONSE,	0 },
};

/* Status codes: the API's name of each in its errors' "status". */
static const struct {
	int		 status;
	const char	*name;
} fault_statuses[] = {
	{ 200, "OK" },
	{ 201, "CREATED" },
	{ 202, "ACCEPTED" },
	{ 301, "MOVED_PERMANENTLY" },
	{ 302, "FOUND" },
	{ 303, "SEE_OTHER" },
	{ 307, "TEMPORARY_REDIRECT" },
	{ 308, "PERMANENT_REDIRECT" },
	{ 400, "BAD_REQUEST" },
	{ 401, "UNAUTHORIZED" },
	{ 403, "FORBIDDEN" },
	{ 404, "NOT_FOUND" },
	{ 405, "METHOD_NOT_ALLOWED" },
	{ 408, "REQUEST_TIMEOUT" },
	{ 409, "CONFLICT" },
	{ 410, "GONE" },
	{ 412, "PRECONDITION_FAILED" },
	{ 413, "PAYLOAD_TOO_LARGE" },
	{ 422, "UNPROCESSABLE_ENTITY" },
	{ 423, "LOCKED" },
	{ 425, "TOO_EARLY" },
	{ 429, "TOO_MANY_REQUESTS" },
	{ 500, "INTERNAL_SERVER_ERROR" },
	{ 501, "NOT_IMPLEMENTED" },
	{ 502, "BAD_GATEWAY" },
	{ 503, "SERVICE_UNAVAILABLE" },
	{ 504, "GATEWAY_TIMEOUT" },
};

/* The text being parsed, for errors that name a column. */
struct fault_parse {
	const char	*text;
	char		**cause;
};

static int	fault_error(struct fault_parse *, const char *at,
		    const char *tail, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

/*
 * Set *cause to the message, " at column N" (where at points) and tail;
 * return -1.
 */
static int
fault_error(struct fault_parse *fp, const char *at, const char *tail,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	*fp->cause = xasprintf("%s at column %zu%s", msg != NULL ? msg :
	    "bad spec", (size_t)(at - fp->text) + 1, tail);
	free(msg);
	return -1;
}

/*
 * Read a whole number in [lo, hi] from the len bytes at s (digits only).
 * Return 0, or -1 when it is not one.
 */
static int
fault_number(const char *s, size_t len, uint64_t lo, uint64_t hi,
    uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/*
 * Read a probability: digits with at most one '.', no sign, no exponent
 * (strtod alone would take "inf", "nan" and hex). Return 0 or -1.
 */
static int
fault_rate(const char *s, size_t len, double *out)
{
	char	buf[32], *end;
	size_t	i, dots = 0, digits = 0;
	double	v;

	if (len == 0 || len >= sizeof buf)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (isdigit((unsigned char)s[i]))
			digits++;
		else
			return -1;
	}
	if (dots > 1 || digits == 0)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (*end != '\0' || errno != 0 || v < 0 || v > 1)
		return -1;
	*out = v;
	return 0;
}

/* MATCH, the len bytes at s: '[METHOD ]GLOB'. */
static int
fault_parse_match(struct fault_parse *fp, struct fault_spec *spec,
    const char *s, size_t len)
{
	const char	*sp, *g, *p;
	size_t		 glen;

	if (len == 0)
		return fault_error(fp, s, " (write '*' for every request, or "
		    "a path glob such as '/v1/*', optionally after a method: "
		    "'PATCH /v1/*')", "empty MATCH before \"=\"");
	sp = memchr(s, ' ', len);
	g = s;
	glen = len;
	if (sp != NULL) {
		for (p = s; p < sp; p++)
			if (!isupper((unsigned char)*p))
				return fault_error(fp, p, " (methods match as "
				    "sent, e.g. PATCH)", "the method \"%.*s\" "
				    "is not in upper case letters",
				    (int)(sp - s), s);
		if (sp == s)
			return fault_error(fp, s, "", "MATCH starts with a space");
		spec->method = xstrndup(s, (size_t)(sp - s));
		g = sp + 1;
		glen = len - (size_t)(g - s);
	}
	if (glen == 0)
		return fault_error(fp, g, " (write '* ' after the method for "
		    "every such request)", "no path glob after the method");
	if (g[0] != '/' && g[0] != '*')
		return fault_error(fp, g, " (it is matched against the "
		    "request's path, e.g. /v1/*/profiles/*; a method goes "
		    "before it: 'PATCH /v1/*')", "the path glob \"%.*s\" does "
		    "not start with / or *", (int)glen, g);
	sp = memchr(g, ' ', glen);
	if (sp != NULL)
		return fault_error(fp, sp, "", "a space in the path glob");
	spec->glob = xstrndup(g, glen);
	return 0;
}

/* latency:MS */
static int
fault_parse_latency(struct fault_parse *fp, struct fault_spec *spec,
    const char *arg, size_t len)
{
	uint64_t	v;

	if (fault_number(arg, len, 1, FAULT_MAX_MS, &v) != 0)
		return fault_error(fp, arg, "", "latency needs a whole number of "
		    "milliseconds from 1 to %u, not \"%.*s\"", FAULT_MAX_MS,
		    (int)len, arg);
	spec->ms = (unsigned)v;
	spec->canon = xasprintf("latency:%u", spec->ms);
	return 0;
}

/* status:CODE[:retry-after=S] */
static int
fault_parse_status(struct fault_parse *fp, struct fault_spec *spec,
    const char *arg, size_t len)
{
	const char	*colon, *ra;
	size_t		 clen;
	uint64_t	 v;

	colon = memchr(arg, ':', len);
	clen = colon != NULL ? (size_t)(colon - arg) : len;
	if (fault_number(arg, clen, 100, 599, &v) != 0)
		return fault_error(fp, arg, "", "status needs a code from 100 to "
		    "599, not \"%.*s\"", (int)clen, arg);
	if (v < 200)
		return fault_error(fp, arg, ": give a code from 200 to 599",
		    "status %d is an interim answer, not a final one",
		    (int)v);
	if (v == 204 || v == 304)
		return fault_error(fp, arg, ": give another code", "status %d "
		    "has no body to carry the API's error", (int)v);
	spec->status = (int)v;
	spec->retry_after = -1;
	if (colon != NULL) {
		ra = colon + 1;
		if ((size_t)(arg + len - ra) < 12 ||
		    strncmp(ra, "retry-after=", 12) != 0)
			return fault_error(fp, ra, "", "after status:%d only "
			    "\":retry-after=SECONDS\" may follow, not \"%.*s\"",
			    spec->status, (int)(arg + len - ra), ra);
		if (fault_number(ra + 12, (size_t)(arg + len - ra - 12), 0,
		    FAULT_MAX_RETRY_AFTER, &v) != 0)
			return fault_error(fp, ra + 12, "", "retry-after needs a "
			    "whole number of seconds from 0 to %u, not "
			    "\"%.*s\"", FAULT_MAX_RETRY_AFTER,
			    (int)(arg + len - ra - 12), ra + 12);
		spec->retry_after = (long)v;
		spec->canon = xasprintf("status:%d:retry-after=%ld",
		    spec->status, spec->retry_after);
	} else
		spec->canon = xasprintf("status:%d", spec->status);
	return 0;
}

/* KIND[:ARG], the len bytes at s. */
static int
fault_parse_kind(struct fault_parse *fp, struct fault_spec *spec,
    const char *s, size_t len)
{
	const char	*colon, *arg;
	size_t		 nlen, alen, i;

	colon = memchr(s, ':', len);
	nlen = colon != NULL ? (size_t)(colon - s) : len;
	for (i = 0; i < sizeof fault_kinds / sizeof fault_kinds[0]; i++)
		if (strlen(fault_kinds[i].name) == nlen &&
		    strncmp(fault_kinds[i].name, s, nlen) == 0)
			break;
	if (i == sizeof fault_kinds / sizeof fault_kinds[0]) {
		if (nlen == 0)
			return fault_error(fp, s, " (known: " KNOWN_KINDS ")",
			    "no KIND after \"=\"");
		return fault_error(fp, s, " (known: " KNOWN_KINDS ")",
		    "unknown kind \"%.*s\"", (int)nlen, s);
	}
	spec->kind = fault_kinds[i].kind;
	arg = colon != NULL ? colon + 1 : s + len;
	alen = (size_t)(s + len - arg);
	if (!fault_kinds[i].arg) {
		if (colon != NULL)
			return fault_error(fp, colon, "", "%s takes no argument, "
			    "but \":%.*s\" follows it", fault_kinds[i].name,
			    (int)alen, arg);
		spec->canon = xstrdup(fault_kinds[i].name);
		return 0;
	}
	if (colon == NULL)
		return fault_error(fp, s + len, spec->kind == FAULT_LATENCY ?
		    " (latency:MS, e.g. latency:200)" : " (status:CODE, e.g. "
		    "status:503 or status:429:retry-after=2)",
		    "%s needs an argument", fault_kinds[i].name);
	if (spec->kind == FAULT_LATENCY)
		return fault_parse_latency(fp, spec, arg, alen);
	return fault_parse_status(fp, spec, arg, alen);
}

/* The modifier, the len bytes at s: times=N, every=N or rate=P. */
static int
fault_parse_modifier(struct fault_parse *fp, struct fault_spec *spec,
    const char *s, size_t len)
{
	const char	*eq, *v;
	size_t		 nlen, vlen;

	eq = memchr(s, '=', len);
	nlen = eq != NULL ? (size_t)(eq - s) : len;
	v = eq != NULL ? eq + 1 : s + len;
	vlen = (size_t)(s + len - v);
	if (nlen == 5 && strncmp(s, "times", 5) == 0 && eq != NULL) {
		spec->select = FAULT_TIMES;
		if (fault_number(v, vlen, 1, UINT64_MAX, &spec->n) != 0)
			return fault_error(fp, v, "", "times needs a whole "
			    "number from 1 up, not \"%.*s\"", (int)vlen, v);
		return 0;
	}
	if (nlen == 5 && strncmp(s, "every", 5) == 0 && eq != NULL) {
		spec->select = FAULT_EVERY;
		if (fault_number(v, vlen, 1, UINT64_MAX, &spec->n) != 0)
			return fault_error(fp, v, "", "every needs a whole "
			    "number from 1 up, not \"%.*s\"", (int)vlen, v);
		return 0;
	}
	if (nlen == 4 && strncmp(s, "rate", 4) == 0 && eq != NULL) {
		spec->select = FAULT_RATE;
		if (fault_rate(v, vlen, &spec->rate) != 0)
			return fault_error(fp, v, "", "rate needs a probability "
			    "from 0 to 1 such as 0.25, not \"%.*s\"", (int)vlen,
			    v);
		return 0;
	}
	return fault_error(fp, s, " (known: times=N, every=N, rate=P)",
	    "unknown modifier \"%.*s\"", (int)len, s);
}

/* Parse one spec. */
int
fault_spec_parse(const char *text, struct fault_spec *spec, char **cause)
{
	struct fault_parse	 fp;
	const char		*p, *eq, *kind, *comma, *end;
	size_t			 len;

	memset(spec, 0, sizeof *spec);
	spec->retry_after = -1;
	*cause = NULL;
	fp.text = text;
	fp.cause = cause;
	len = strlen(text);
	if (len > FAULT_SPEC_MAX) {
		*cause = xasprintf("the spec is longer than %d characters",
		    FAULT_SPEC_MAX);
		return -1;
	}
	for (p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return fault_error(&fp, p, " (write other bytes of a "
			    "path percent-encoded, as they are sent)", "a byte "
			    "that is not printable ASCII");
	end = text + len;
	eq = strchr(text, '=');
	if (eq == NULL) {
		*cause = xasprintf("expected MATCH=KIND, e.g. 'PATCH "
		    "/v1/*=status:503' or '*=latency:200'");
		return -1;
	}
	if (fault_parse_match(&fp, spec, text, (size_t)(eq - text)) != 0)
		goto fail;
	kind = eq + 1;
	comma = memchr(kind, ',', (size_t)(end - kind));
	if (fault_parse_kind(&fp, spec, kind, (size_t)((comma != NULL ?
	    comma : end) - kind)) != 0)
		goto fail;
	if (comma != NULL) {
		p = comma + 1;
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma != NULL) {
			fault_error(&fp, comma, " (give one of times=N, "
			    "every=N or rate=P)", "a second modifier");
			goto fail;
		}
		if (fault_parse_modifier(&fp, spec, p, (size_t)(end - p)) != 0)
			goto fail;
	}
	spec->text = xstrdup(text);
	return 0;
fail:
	fault_spec_free(spec);
	return -1;
}

/* Free what a parsed spec holds. */
void
fault_spec_free(struct fault_spec *spec)
{
	free(spec->text);
	free(spec->method);
	free(spec->glob);
	free(spec->canon);
	memset(spec, 0, sizeof *spec);
}

/* Start an empty set whose rate choices follow seed. */
void
fault_set_init(struct fault_set *set, uint64_t seed)
{
	memset(set, 0, sizeof *set);
	set->seed = seed;
}

/* Parse and append a spec. */
int
fault_set_add(struct fault_set *set, const char *text, char **cause)
{
	struct fault_spec	spec;

	if (fault_spec_parse(text, &spec, cause) != 0)
		return -1;
	/* Each spec its own stream: its place mixed into the seed. */
	spec.rng = set->seed ^ (0x9e3779b97f4a7c15ULL * (set->n + 1));
	set->v = xreallocarray(set->v, set->n + 1, sizeof *set->v);
	set->v[set->n++] = spec;
	return 0;
}

/* Free every spec of the set. */
void
fault_set_free(struct fault_set *set)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		fault_spec_free(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/* Step a splitmix64 generator. */
uint64_t
fault_rng_next(uint64_t *state)
{
	uint64_t	z;

	*state += 0x9e3779b97f4a7c15ULL;
	z = *state;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Does glob match the len bytes of s? '*' is any run of bytes ('/'
 * included), '?' one byte, anything else itself. On a mismatch after a
 * '*', that '*' takes one more byte: O(len * glob) at worst, no recursion.
 */
int
fault_glob_match(const char *glob, const char *s, size_t len)
{
	const char	*star = NULL;
	size_t		 i = 0, mark = 0;

	while (i < len) {
		if (*glob == '*') {
			star = glob++;
			mark = i;
		} else if (*glob != '\0' && (*glob == '?' || *glob == s[i])) {
			glob++;
			i++;
		} else if (star != NULL) {
			glob = star + 1;
			i = ++mark;
		} else
			return 0;
	}
	while (*glob == '*')
		glob++;
	return *glob == '\0';
}

/* Does the selection of a spec that matched take this request? */
static int
fault_selected(struct fault_spec *spec)
{
	double	draw;

	spec->matched++;
	switch (spec->select) {
	case FAULT_ALL:
		return 1;
	case FAULT_TIMES:
		return spec->matched <= spec->n;
	case FAULT_EVERY:
		return spec->matched % spec->n == 0;
	case FAULT_RATE:
		/* 53 bits of the draw: a double in [0, 1). */
		draw = (double)(fault_rng_next(&spec->rng) >> 11) *
		    (1.0 / 9007199254740992.0);
		return draw < spec->rate;
	}
	return 0;
}

/* Choose the fault of a request. */
const struct fault_spec *
fault_set_pick(struct fault_set *set, const char *method, const char *target)
{
	struct fault_spec	*spec;
	size_t			 i, len;

	len = strcspn(target, "?");
	for (i = 0; i < set->n; i++) {
		spec = &set->v[i];
		if (spec->method != NULL && strcmp(spec->method, method) != 0)
			continue;
		if (!fault_glob_match(spec->glob, target, len))
			continue;
		return fault_selected(spec) ? spec : NULL;
	}
	return NULL;
}

/* Append the body of a status fault's answer, in the API's error shape. */
void
fault_status_body(const struct fault_spec *spec, struct buf *out)
{
	const char	*name = NULL;
	char		 other[32], *msg, *text;
	json_t		*doc;
	size_t		 i;

	for (i = 0; i < sizeof fault_statuses / sizeof fault_statuses[0]; i++)
		if (fault_statuses[i].status == spec->status)
			name = fault_statuses[i].name;
	if (name == NULL) {
		snprintf(other, sizeof other, "STATUS_%d", spec->status);
		name = other;
	}
	msg = xasprintf("patchscope answered this request itself "
	    "(--fault '%s'); it was not sent on", spec->text);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:[], s:i}", "type",
	    "PatchscopeFault", "code", "patchscope_fault", "message", msg,
	    "status", name, "errors", "httpStatusCode", spec->status);
	free(msg);
	text = doc != NULL ? json_dumps(doc, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	buf_adds(out, text != NULL ? text : "{}");
	buf_add(out, "\n", 1);
	free(text);
}
