/*
 * web_auth: the web view's checks of a request (see web_auth.h). Every
 * string here comes from the network: each is read within its length,
 * and anything not understood is refused.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web_auth.h"
#include "xmalloc.h"

/* Hex of the token's bytes. */
void
web_auth_token_hex(const unsigned char *bytes, char hex[WEB_TOKEN_HEX + 1])
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < WEB_TOKEN_BYTES; i++) {
		hex[2 * i] = digits[bytes[i] >> 4];
		hex[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	hex[WEB_TOKEN_HEX] = '\0';
}

/* Compare every byte whatever the differences: no early exit. */
int
web_auth_token_eq(const char *given, size_t len, const char *token)
{
	unsigned char	diff = len != WEB_TOKEN_HEX;
	size_t		i;

	for (i = 0; i < WEB_TOKEN_HEX; i++)
		diff |= (unsigned char)((i < len ? given[i] : 0) ^ token[i]);
	return diff == 0;
}

/* Is one of the cookie header's patchscope_token values the token? */
static int
web_auth_cookie_ok(const char *s, const char *token)
{
	const size_t	 nlen = sizeof WEB_TOKEN_COOKIE - 1;
	const char	*end, *v;
	size_t		 vlen;
	int		 ok = 0;

	while (*s != '\0') {
		s += strspn(s, " \t");
		end = strchr(s, ';');
		if (end == NULL)
			end = s + strlen(s);
		if ((size_t)(end - s) > nlen && strncmp(s, WEB_TOKEN_COOKIE,
		    nlen) == 0 && s[nlen] == '=') {
			v = s + nlen + 1;
			vlen = (size_t)(end - v);
			while (vlen > 0 && (v[vlen - 1] == ' ' ||
			    v[vlen - 1] == '\t'))
				vlen--;
			ok |= web_auth_token_eq(v, vlen, token);
		}
		s = *end == ';' ? end + 1 : end;
	}
	return ok;
}

/* The token in a cookie or a Bearer header. */
int
web_auth_request_ok(const char *cookie, const char *authorization,
    const char *token)
{
	const char	*v;
	size_t		 len;

	if (cookie != NULL && web_auth_cookie_ok(cookie, token))
		return 1;
	if (authorization == NULL || strncasecmp(authorization, "Bearer ",
	    7) != 0)
		return 0;
	v = authorization + 7;
	v += strspn(v, " \t");
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return web_auth_token_eq(v, len, token);
}

/* A numeric address or localhost that is this machine's loopback. */
int
web_auth_is_loopback(const char *host)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* Is s the decimal port, as a browser writes it? */
static int
web_auth_port_is(const char *s, size_t len, int port)
{
	long	v = 0;
	size_t	i;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v == port;
}

/* Is the bound address a wildcard (every address of the machine)? */
static int
web_auth_wildcard(const char *bound)
{
	return strcmp(bound, "0.0.0.0") == 0 || strcmp(bound, "::") == 0;
}

/* Does a numeric host (no brackets) name the bound address? */
static int
web_auth_same_addr(const char *host, const char *bound)
{
	struct in_addr	h4, b4;
	struct in6_addr	h6, b6;

	if (inet_pton(AF_INET, host, &h4) == 1)
		return web_auth_wildcard(bound) ||
		    (inet_pton(AF_INET, bound, &b4) == 1 &&
		    h4.s_addr == b4.s_addr);
	if (inet_pton(AF_INET6, host, &h6) == 1)
		return web_auth_wildcard(bound) ||
		    (inet_pton(AF_INET6, bound, &b6) == 1 &&
		    memcmp(&h6, &b6, sizeof h6) == 0);
	return 0;
}

/* Does the Host header name the view? */
int
web_auth_host_ok(const char *h, const char *bound, int port)
{
	const char	*p, *colon;
	char		*host;
	size_t		 hlen;
	int		 ok;

	if (h == NULL || *h == '\0' || strlen(h) > 300)
		return 0;
	if (h[0] == '[') {
		p = strchr(h, ']');
		if (p == NULL)
			return 0;
		host = xstrndup(h + 1, (size_t)(p - h - 1));
		colon = p[1] == ':' ? p + 1 : NULL;
		if (colon == NULL && p[1] != '\0') {
			free(host);
			return 0;
		}
		/* Only an IPv6 address goes in brackets. */
		ok = strchr(host, ':') != NULL;
	} else {
		colon = strchr(h, ':');
		hlen = colon != NULL ? (size_t)(colon - h) : strlen(h);
		host = xstrndup(h, hlen);
		ok = strchr(host, ':') == NULL;
	}
	/* A browser leaves the port out only when it is 80. */
	if (colon != NULL)
		ok = ok && web_auth_port_is(colon + 1, strlen(colon + 1), port);
	else
		ok = ok && port == 80;
	if (ok)
		ok = strcasecmp(host, "localhost") == 0 ||
		    web_auth_same_addr(host, bound);
	free(host);
	return ok;
}

/* Is an IPv4 address (network order) the view's own? */
static int
web_auth_is_view4(struct in_addr a4, const char *bound)
{
	struct in_addr	b4;
	uint32_t	v = ntohl(a4.s_addr);

	if ((v >> 24) == 127 || v == 0 || web_auth_wildcard(bound))
		return 1;
	return inet_pton(AF_INET, bound, &b4) == 1 && b4.s_addr == a4.s_addr;
}

/* Would a request to host:port reach the view? */
int
web_auth_is_view(const char *host, int port, const char *bound,
    int bound_port)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	size_t		 len = strlen(host);
	char		*h;
	int		 yes = 0;

	if (port != bound_port)
		return 0;
	while (len > 0 && host[len - 1] == '.')
		len--;
	h = xstrndup(host, len);
	/* RFC 6761 6.3: localhost and every name under it are loopback. */
	if (strcasecmp(h, "localhost") == 0 || (len > 10 &&
	    strcasecmp(h + len - 10, ".localhost") == 0))
		yes = 1;
	/* inet_aton also reads 127.1, 2130706433 and 0x7f.1. */
	else if (inet_aton(h, &a4) == 1)
		yes = web_auth_is_view4(a4, bound);
	else if (inet_pton(AF_INET6, h, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6))
			yes = 1;
		else if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4.s_addr, &a6.s6_addr[12], 4);
			yes = web_auth_is_view4(a4, bound);
		} else
			yes = web_auth_same_addr(h, bound);
	}
	free(h);
	return yes;
}
