/*
 * redact: secrets out of an exchange before it is written or logged.
 *
 * A secret is found by where it sits: the value of a header of a known or
 * secret-looking name (each cookie of Cookie, the pair of Set-Cookie), of a
 * query parameter or form field, of a JSON member whose key looks secret
 * (at any depth; everything under it), of a webhook action header. It is
 * replaced by its marker (see redact.h). redact_exchange then scrubs: each
 * secret value it replaced, wherever else it occurs in the exchange (URL,
 * headers, bodies, diagnoses), becomes its marker too.
 *
 * The module is three files; redact_local.h holds what they share:
 * - redact.c: the redactor, which names are secret, and markers;
 * - redact_walk.c: the walk over URLs, headers and bodies that finds
 *   secrets where they sit and replaces them;
 * - redact_scrub.c: the secrets found, the scrub of their other
 *   occurrences, and whole exchanges (redact_exchange, redact_request).
 *
 * The redactor owns copies of the names added to it. Nothing here keeps a
 * pointer into the caller's data.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "redact.h"
#include "redact_local.h"
#include "sha256.h"
#include "xmalloc.h"

/*
 * A name (header, parameter, field, key) looks secret when, lower-cased and
 * stripped to letters and digits, it contains one of these. "auth" is
 * checked apart (redact_auth_word). The log's URLs go through the same
 * lists (redact_url), so a log line and a cassette show the same markers.
 */
static const char *redact_words[] = {
	"token", "secret", "password", "passwd", "apikey", "signature",
	"credential", "privatekey", "sessionid", "cookie",
};

/* Headers whose names look secret but whose values are not credentials. */
static const char *redact_plain_headers[] = {
	"Access-Control-Allow-Credentials",	/* "true" */
	"WWW-Authenticate",			/* a challenge */
	"Proxy-Authenticate",			/* a challenge */
};

struct redact_names {
	char	**v;
	size_t	  n;
};

struct redactor {
	uint64_t		serial;		/* new with every change */
	int			disabled;
	struct redact_names	headers;
	struct redact_names	queries;
	struct redact_names	keys;
};

/*
 * "auth" counts, but not where it only begins "author" (author,
 * authorName, authority); "authoriz" (authorization) counts again.
 */
static int
redact_auth_word(const char *norm)
{
	const char	*p;

	for (p = strstr(norm, "auth"); p != NULL; p = strstr(p + 1, "auth"))
		if (strncmp(p, "author", 6) != 0 ||
		    strncmp(p, "authoriz", 8) == 0)
			return 1;
	return 0;
}

static int
redact_looks_secret(const char *name, size_t len)
{
	char	 small[64], *norm = small;
	size_t	 i, n = 0;
	int	 hit;

	/* Called for every JSON key of a body: no allocation when short. */
	if (len >= sizeof small)
		norm = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		if (isalnum((unsigned char)name[i]))
			norm[n++] = (char)tolower((unsigned char)name[i]);
	norm[n] = '\0';
	hit = redact_auth_word(norm);
	for (i = 0; !hit && i < sizeof redact_words / sizeof redact_words[0];
	    i++)
		hit = strstr(norm, redact_words[i]) != NULL;
	if (norm != small)
		free(norm);
	return hit;
}

static void
redact_names_add(struct redact_names *l, const char *name)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = xstrdup(name);
}

static int
redact_names_has(const struct redact_names *l, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == len &&
		    strncasecmp(l->v[i], name, len) == 0)
			return 1;
	return 0;
}

static void
redact_names_free(struct redact_names *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Each redactor, and each change to one, takes a new serial number, so a
 * memo of what a redactor did (redact_request_nobody) is never used for
 * another one, or for the same one after it changed.
 */
static uint64_t	redact_serials;

/* Return a redactor with the built-in lists only. */
struct redactor *
redact_new(void)
{
	struct redactor	*r;

	r = xcalloc(1, sizeof *r);
	r->serial = ++redact_serials;
	return r;
}

/* Return the redactor's serial number (never 0). */
uint64_t
redact_serial(const struct redactor *r)
{
	return r->serial;
}

/* Free a redactor (NULL is fine). */
void
redact_free(struct redactor *r)
{
	if (r == NULL)
		return;
	redact_names_free(&r->headers);
	redact_names_free(&r->queries);
	redact_names_free(&r->keys);
	free(r);
}

/* Redact headers of this name too. */
void
redact_add_header(struct redactor *r, const char *name)
{
	r->serial = ++redact_serials;
	redact_names_add(&r->headers, name);
}

/* Redact query parameters and form fields of this name too. */
void
redact_add_query(struct redactor *r, const char *name)
{
	r->serial = ++redact_serials;
	redact_names_add(&r->queries, name);
}

/* Redact JSON members of this key too. */
void
redact_add_json_key(struct redactor *r, const char *name)
{
	r->serial = ++redact_serials;
	redact_names_add(&r->keys, name);
}

/* Make every rewriting call a no-op. */
void
redact_disable(struct redactor *r)
{
	r->serial = ++redact_serials;
	r->disabled = 1;
}

/* Return nonzero when redaction is off. */
int
redact_disabled(const struct redactor *r)
{
	return r->disabled;
}

/*
 * The markers of the last few values: a client sends the same credential
 * with every request, and replay redacts every request it matches, so
 * most markers are ones just made. Values are compared whole (a hash
 * could be made to collide); a slot's old value is wiped when it is
 * reused. One thread only, as the whole program.
 */
#define MARKER_MEMO		8
#define MARKER_MEMO_MAX		4096	/* longer values are not kept */

static struct {
	char	*value;
	size_t	 len;
	char	 marker[REDACT_MARKER_LEN + 1];
} marker_memo[MARKER_MEMO];
static size_t	marker_memo_next;

/* Write the marker of a value. */
void
redact_marker(const char *value, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 d[SHA256_DIGEST_LEN];
	char			*p;
	size_t			 i, slot;

	for (i = 0; i < MARKER_MEMO; i++)
		if (marker_memo[i].value != NULL && marker_memo[i].len == len &&
		    memcmp(marker_memo[i].value, value, len) == 0) {
			memcpy(out, marker_memo[i].marker, REDACT_MARKER_LEN + 1);
			return;
		}
	sha256(value, len, d);
	memcpy(out, REDACT_PREFIX, sizeof REDACT_PREFIX - 1);
	p = out + sizeof REDACT_PREFIX - 1;
	for (i = 0; i < 6; i++) {
		*p++ = hex[d[i] >> 4];
		*p++ = hex[d[i] & 0xf];
	}
	*p = '\0';
	if (len > MARKER_MEMO_MAX)
		return;
	slot = marker_memo_next++ % MARKER_MEMO;
	if (marker_memo[slot].value != NULL) {
		explicit_bzero(marker_memo[slot].value, marker_memo[slot].len);
		free(marker_memo[slot].value);
	}
	marker_memo[slot].value = xmalloc(len + 1);
	memcpy(marker_memo[slot].value, value, len);
	marker_memo[slot].len = len;
	memcpy(marker_memo[slot].marker, out, REDACT_MARKER_LEN + 1);
}

/* Return nonzero when s is a marker. */
int
redact_is_marker(const char *s, size_t len)
{
	size_t	i;

	if (len != REDACT_MARKER_LEN ||
	    memcmp(s, REDACT_PREFIX, sizeof REDACT_PREFIX - 1) != 0)
		return 0;
	for (i = sizeof REDACT_PREFIX - 1; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return 0;
	return 1;
}

/* Return nonzero when a header of this name is redacted. */
int
redact_header_name(const struct redactor *r, const char *name)
{
	size_t	i, len = strlen(name);

	if (redact_names_has(&r->headers, name, len) ||
	    (http_header_flags(name) & HTTP_HDR_SECRET) != 0)
		return 1;
	for (i = 0; i < sizeof redact_plain_headers /
	    sizeof redact_plain_headers[0]; i++)
		if (strcasecmp(name, redact_plain_headers[i]) == 0)
			return 0;
	return redact_looks_secret(name, len);
}

/* Return nonzero when a query parameter or form field is redacted. */
int
redact_query_name(const struct redactor *r, const char *name, size_t len)
{
	return redact_names_has(&r->queries, name, len) ||
	    redact_looks_secret(name, len);
}

/* Return nonzero when a JSON member's value is redacted. */
int
redact_json_key(const struct redactor *r, const char *key)
{
	size_t	len = strlen(key);

	return redact_names_has(&r->keys, key, len) ||
	    redact_looks_secret(key, len);
}
