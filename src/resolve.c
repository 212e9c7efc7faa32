/*
 * resolve: parsing and lookup of --resolve HOST:PORT=ADDR:PORT (see
 * resolve.h). Names are kept normalised (lower case, no final dot, IPv6
 * without brackets) so a lookup compares the origin as a request asked for
 * it with one string comparison.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resolve.h"
#include "xmalloc.h"

#define RESOLVE_HOST_MAX	253	/* RFC 1035 2.3.4, without the dot */
#define RESOLVE_LABEL_MAX	63

/* Is s an IPv4 or IPv6 address (no brackets)? */
static int
resolve_is_ip(const char *s)
{
	unsigned char	addr[16];

	return inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1;
}

/*
 * Check a DNS name (letters, digits, '-', '_' and dots, labels of 1 to 63
 * characters, 253 in all, an optional final dot) and lower-case it in
 * place, final dot removed. NULL when it is good, else why not.
 */
static const char *
resolve_check_name(char *s)
{
	size_t	len = strlen(s), i, label = 0;
	char	c;

	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len == 0)
		return "the host name is empty";
	if (len > RESOLVE_HOST_MAX)
		return "the host name is longer than 253 characters";
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c >= 'A' && c <= 'Z')
			s[i] = c = (char)(c + ('a' - 'A'));
		if (c == '.') {
			if (label == 0)
				return "the host name has an empty label";
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') {
			if (++label > RESOLVE_LABEL_MAX)
				return "the host name has a label longer than "
				    "63 characters";
		} else
			return "the host name may hold only letters, digits, "
			    "'-', '_' and '.'";
	}
	return NULL;
}

/* A port: 1 to 65535, digits only. -1 when it is not one. */
static int
resolve_port(const char *s)
{
	long	v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

/*
 * Split "HOST:PORT" or "[V6]:PORT" (s is changed) into its host (brackets
 * gone) and port; *bracketed says whether it was "[...]". NULL when it
 * is good, else why not.
 */
static const char *
resolve_split(char *s, char **host, int *port, int *bracketed)
{
	char	*colon, *end;

	*bracketed = 0;
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return "an IPv6 address has no closing ']'";
		if (end[1] != ':')
			return "expected ':PORT' after ']'";
		*end = '\0';
		*host = s + 1;
		colon = end + 1;
		*bracketed = 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return "a port is missing (expected HOST:PORT=ADDR:PORT)";
		*colon = '\0';
		*host = s;
		if (strchr(s, ':') != NULL)
			return "an IPv6 address must be in brackets "
			    "([::1]:PORT)";
	}
	if (**host == '\0')
		return "a host or address is missing before ':PORT'";
	if ((*port = resolve_port(colon + 1)) == -1)
		return "a port must be a number from 1 to 65535";
	return NULL;
}

/* Parse HOST:PORT=ADDR:PORT. */
int
resolve_parse(const char *spec, struct resolve_entry *e, char **cause)
{
	unsigned char	 addr[16];
	const char	*why = NULL;
	char		*copy, *eq, *host, *ip;
	int		 port, ip_port, br_host, br_ip;

	memset(e, 0, sizeof *e);
	if (strlen(spec) > RESOLVE_SPEC_MAX) {
		*cause = xasprintf("a --resolve value is longer than %d "
		    "bytes", RESOLVE_SPEC_MAX);
		return -1;
	}
	copy = xstrdup(spec);
	if ((eq = strchr(copy, '=')) == NULL) {
		why = "expected HOST:PORT=ADDR:PORT";
		goto bad;
	}
	*eq = '\0';
	if ((why = resolve_split(copy, &host, &port, &br_host)) != NULL ||
	    (why = resolve_split(eq + 1, &ip, &ip_port, &br_ip)) != NULL)
		goto bad;
	if (br_host) {
		if (inet_pton(AF_INET6, host, addr) != 1) {
			why = "HOST in brackets is not an IPv6 address";
			goto bad;
		}
	} else if (!resolve_is_ip(host) &&
	    (why = resolve_check_name(host)) != NULL)
		goto bad;
	if (br_ip ? inet_pton(AF_INET6, ip, addr) != 1 :
	    inet_pton(AF_INET, ip, addr) != 1) {
		why = br_ip ? "ADDR in brackets is not an IPv6 address" :
		    "ADDR must be a numeric IPv4 address or [IPv6] address, "
		    "not a name";
		goto bad;
	}
	e->host = xstrdup(host);
	e->port = port;
	e->addr = xstrdup(ip);
	e->addr_port = ip_port;
	free(copy);
	return 0;

bad:
	/* The user's own text, bounded above; controls shown as '?'. */
	strcpy(copy, spec);
	for (eq = copy; *eq != '\0'; eq++)
		if ((unsigned char)*eq < 0x20 || *eq == 0x7f)
			*eq = '?';
	*cause = xasprintf("'%s': %s", copy, why);
	free(copy);
	return -1;
}

/* Free an entry. */
void
resolve_entry_free(struct resolve_entry *e)
{
	free(e->host);
	free(e->addr);
	memset(e, 0, sizeof *e);
}

/* Find the entry for host:port. */
const struct resolve_entry *
resolve_find(const struct resolve_entry *v, size_t n, const char *host,
    int port)
{
	size_t	len, i;

	if (host == NULL)
		return NULL;
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len > 0 && host[len - 1] == '.')
		len--;
	for (i = 0; i < n; i++)
		if (v[i].port == port && strlen(v[i].host) == len &&
		    strncasecmp(v[i].host, host, len) == 0)
			return &v[i];
	return NULL;
}

/* Describe a mapping for the log. */
void
resolve_describe(const struct resolve_entry *e, char *out, size_t len)
{
	int	h6 = strchr(e->host, ':') != NULL;
	int	a6 = strchr(e->addr, ':') != NULL;

	snprintf(out, len, "%s%s%s:%d -> %s%s%s:%d", h6 ? "[" : "", e->host,
	    h6 ? "]" : "", e->port, a6 ? "[" : "", e->addr, a6 ? "]" : "",
	    e->addr_port);
}
