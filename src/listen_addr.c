/*
 * listen_addr: patchscope's own address as its clients name it (see
 * listen_addr.h). Addresses are compared as bytes (inet_pton), so
 * "::ffff:127.0.0.1" and "127.0.0.1" are one address.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "listen_addr.h"
#include "xmalloc.h"

/* An address as bytes: IPv4 (4 bytes) or IPv6 (16). */
struct listen_ip {
	int		family;		/* AF_INET, AF_INET6, or 0: not one */
	unsigned char	b[16];
};

/* Split "ADDR:PORT" or "[V6]:PORT" as written; -1 if it is neither. */
static int
listen_addr_split(const char *address, char *host, size_t len, int *port)
{
	const char	*colon, *h, *hend;
	char		*end;
	long		 p;

	if (*address == '[') {
		hend = strchr(address, ']');
		if (hend == NULL || hend[1] != ':')
			return -1;
		h = address + 1;
		colon = hend + 1;
	} else {
		colon = strrchr(address, ':');
		if (colon == NULL)
			return -1;
		h = address;
		hend = colon;
	}
	if (hend == h || (size_t)(hend - h) >= len)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 ||
	    p > 65535)
		return -1;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	*port = (int)p;
	return 0;
}

/* Read a numeric address; an IPv4-mapped IPv6 address becomes IPv4. */
static void
listen_ip_parse(const char *host, struct listen_ip *ip)
{
	static const unsigned char	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	memset(ip, 0, sizeof *ip);
	if (inet_pton(AF_INET, host, ip->b) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, host, ip->b) == 1) {
		ip->family = AF_INET6;
		if (memcmp(ip->b, mapped, sizeof mapped) == 0) {
			memmove(ip->b, ip->b + 12, 4);
			memset(ip->b + 4, 0, 12);
			ip->family = AF_INET;
		}
	}
}

/* 0.0.0.0 or ::. */
static int
listen_ip_wildcard(const struct listen_ip *ip)
{
	static const unsigned char	zero[16];

	return ip->family != 0 && memcmp(ip->b, zero,
	    ip->family == AF_INET ? 4 : 16) == 0;
}

/* 127.0.0.0/8 or ::1. */
static int
listen_ip_loopback(const struct listen_ip *ip)
{
	static const unsigned char	one[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};

	if (ip->family == AF_INET)
		return ip->b[0] == 127;
	return ip->family == AF_INET6 && memcmp(ip->b, one, 16) == 0;
}

/* The host and port a client on this machine connects to. */
int
listen_addr_client(const char *address, char *host, size_t len, int *port)
{
	struct listen_ip	ip;

	if (listen_addr_split(address, host, len, port) != 0)
		return -1;
	listen_ip_parse(host, &ip);
	if (listen_ip_wildcard(&ip)) {
		if (len < sizeof "127.0.0.1")
			return -1;
		strcpy(host, ip.family == AF_INET ? "127.0.0.1" : "::1");
	}
	return 0;
}

/* http://HOST:PORT for a client on this machine. */
char *
listen_addr_base_url(const char *address)
{
	char	host[64];
	int	port;

	if (listen_addr_client(address, host, sizeof host, &port) != 0)
		return NULL;
	if (strchr(host, ':') != NULL)
		return xasprintf("http://[%s]:%d", host, port);
	return xasprintf("http://%s:%d", host, port);
}

/* Does host:port reach the listener bound to address? */
int
listen_addr_is_self(const char *address, const char *host, int port)
{
	struct listen_ip	bound, ip;
	char			bhost[64];
	int			bport;

	if (listen_addr_split(address, bhost, sizeof bhost, &bport) != 0 ||
	    port != bport)
		return 0;
	listen_ip_parse(bhost, &bound);
	if (strcmp(host, "localhost") == 0 || strcmp(host, "localhost.") == 0)
		/* What "localhost" resolves to: 127.0.0.1, ::1. */
		return listen_ip_wildcard(&bound) || (listen_ip_loopback(
		    &bound) && (bound.family == AF_INET6 ||
		    memcmp(bound.b, "\177\0\0\1", 4) == 0));
	listen_ip_parse(host, &ip);
	if (ip.family == 0 || bound.family == 0)
		return 0;
	if (ip.family == bound.family && memcmp(ip.b, bound.b,
	    ip.family == AF_INET ? 4 : 16) == 0)
		return 1;
	/* "0.0.0.0" takes IPv4 connections; "::" both families. */
	return listen_ip_wildcard(&bound) && listen_ip_loopback(&ip) &&
	    (bound.family == AF_INET6 || ip.family == AF_INET);
}
