/*
 * doctor: reading a probe's output and judging a client's row (see
 * doctor.h). Everything read comes from a child process that any program
 * on PATH could be: lines are bounded, words compared exactly, and text
 * kept for the table is cut and made printable.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

/* Copy len bytes of s into out (size bytes) with non-printables as '?'. */
static void
doctor_copy(char *out, size_t size, const char *s, size_t len)
{
	size_t	i;

	if (len >= size)
		len = size - 1;
	for (i = 0; i < len; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[len] = '\0';
}

/* Keep the first failure's text. */
void
doctor_note(struct doctor_result *r, const char *text, size_t len)
{
	if (r->detail[0] == '\0')
		doctor_copy(r->detail, sizeof r->detail, text, len);
}

/* The outcome word at s (len bytes), or -1. */
static int
doctor_word(const char *s, size_t len)
{
	static const struct {
		const char		*word;
		enum doctor_outcome	 outcome;
	} words[] = {
		{ "ok", DOCTOR_OK }, { "dns", DOCTOR_DNS },
		{ "tls", DOCTOR_TLS }, { "error", DOCTOR_ERROR },
	};
	size_t	i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strlen(words[i].word) == len &&
		    memcmp(words[i].word, s, len) == 0)
			return (int)words[i].outcome;
	return -1;
}

/* One line of a probe's output. */
static void
doctor_line(const char *s, size_t len, struct doctor_result *r)
{
	enum doctor_outcome	*slot = NULL;
	const char		*sp, *rest;
	size_t			 klen, wlen;
	int			 w;

	sp = memchr(s, ' ', len);
	klen = sp != NULL ? (size_t)(sp - s) : len;
	rest = sp != NULL ? sp + 1 : s + len;
	if (klen == 7 && memcmp(s, "version", 7) == 0) {
		doctor_copy(r->version, sizeof r->version, rest,
		    (size_t)(s + len - rest));
		return;
	}
	if (klen == 7 && memcmp(s, "missing", 7) == 0) {
		r->installed = 0;
		return;
	}
	if (klen == 5 && memcmp(s, "https", 5) == 0)
		slot = &r->https;
	else if (klen == 4 && memcmp(s, "http", 4) == 0)
		slot = &r->http;
	else if (klen == 6 && memcmp(s, "tunnel", 6) == 0)
		slot = &r->tunnel;
	if (slot == NULL || *slot != DOCTOR_NOT_RUN)
		return;
	sp = memchr(rest, ' ', (size_t)(s + len - rest));
	wlen = sp != NULL ? (size_t)(sp - rest) : (size_t)(s + len - rest);
	if ((w = doctor_word(rest, wlen)) == -1)
		return;
	*slot = (enum doctor_outcome)w;
	if (*slot != DOCTOR_OK && slot != &r->tunnel)
		doctor_note(r, s, len);
}

/* Read a probe's output. */
void
doctor_parse(const char *out, size_t len, struct doctor_result *r)
{
	const char	*p = out, *end = out + len, *nl;
	size_t		 n, step;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		step = nl != NULL ? n + 1 : n;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		doctor_line(p, n, r);
		p += step;
	}
}

/* curl's exit status for one request (curl(1), "EXIT CODES"). */
enum doctor_outcome
doctor_curl_outcome(int status)
{
	switch (status) {
	case 0:
		return DOCTOR_OK;
	case 6:			/* could not resolve host */
		return DOCTOR_DNS;
	case 35:		/* TLS handshake failed */
	case 51:		/* the peer's certificate name */
	case 58:		/* local certificate */
	case 60:		/* peer certificate not trusted */
	case 77:		/* the CA bundle could not be read */
	case 83:		/* issuer check failed */
	case 90:		/* pinned key */
	case 91:		/* certificate status */
		return DOCTOR_TLS;
	}
	return DOCTOR_ERROR;
}

/* git ls-remote: its status and what libcurl told it. */
enum doctor_outcome
doctor_git_outcome(int status, const char *out)
{
	if (status == 0)
		return DOCTOR_OK;
	if (strstr(out, "Could not resolve host") != NULL)
		return DOCTOR_DNS;
	if (strstr(out, "SSL certificate problem") != NULL ||
	    strstr(out, "server certificate verification failed") != NULL ||
	    strstr(out, "certificate") != NULL)
		return DOCTOR_TLS;
	return DOCTOR_ERROR;
}

/* Does Node of version v honour NODE_USE_ENV_PROXY for fetch()? */
int
doctor_node_env_proxy(const char *v)
{
	long	major, minor = 0;
	char	*end;

	if (*v == 'v')
		v++;
	major = strtol(v, &end, 10);
	if (end == v)
		return 0;
	if (*end == '.')
		minor = strtol(end + 1, NULL, 10);
	/* Node's docs: fetch() from v22.21.0 and v24.0.0 on. */
	return major >= 24 || (major == 22 && minor >= 21);
}

/* Append text to the row's advice, "; " between parts. */
static void
doctor_fix(struct doctor_row *row, const char *text)
{
	size_t	len = strlen(row->fix);

	snprintf(row->fix + len, sizeof row->fix - len, "%s%s",
	    len > 0 ? "; " : "", text);
}

/* Judge a row. */
void
doctor_verdict(const struct doctor_client *c, const struct doctor_result *r,
    struct doctor_row *row)
{
	int	via_https, via_http;

	memset(row, 0, sizeof *row);
	row->proxy = row->trust = "-";
	if (!r->installed)
		return;
	if (r->timed_out) {
		snprintf(row->fix, sizeof row->fix, "it did not finish within "
		    "%u s", c->timeout_s);
		return;
	}
	/* A TLS failure can only be patchscope's interception. */
	via_https = r->https == DOCTOR_OK || r->https == DOCTOR_TLS;
	via_http = r->http == DOCTOR_OK;
	row->proxy = via_https && via_http ? "yes" : via_https ? "https only" :
	    via_http ? "http only" : r->https == DOCTOR_DNS ||
	    r->http == DOCTOR_DNS ? "no" : "?";
	if (r->https == DOCTOR_OK)
		row->trust = "yes";
	else if (r->https == DOCTOR_TLS)
		row->trust = "no";
	else if (r->tunnel == DOCTOR_OK)
		row->trust = "yes (by hand)";
	else if (r->tunnel == DOCTOR_TLS)
		row->trust = "no";
	row->pass = r->https == DOCTOR_OK && r->http == DOCTOR_OK;
	if (row->pass)
		return;
	if (!via_https || !via_http) {
		if (c->fix_proxy != NULL)
			doctor_fix(row, c->fix_proxy);
		else if (doctor_node_env_proxy(r->version))
			doctor_fix(row, "set NODE_USE_ENV_PROXY=1 with "
			    "HTTPS_PROXY and HTTP_PROXY");
		else
			doctor_fix(row, "this Node ignores NODE_USE_ENV_PROXY "
			    "(fetch() honours it from 22.21 and 24.0): use "
			    "undici's EnvHttpProxyAgent with "
			    "setGlobalDispatcher, or give the client "
			    "patchscope's address as its base URL");
	}
	if (r->https == DOCTOR_TLS || r->tunnel == DOCTOR_TLS)
		doctor_fix(row, c->fix_trust);
	if (r->https == DOCTOR_ERROR || r->http == DOCTOR_ERROR ||
	    (r->https == DOCTOR_NOT_RUN && r->http == DOCTOR_NOT_RUN))
		doctor_fix(row, r->detail[0] != '\0' ? r->detail :
		    "it printed no result");
}
