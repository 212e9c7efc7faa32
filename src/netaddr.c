/*
 * netaddr: a socket address as the text of its IP address.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "netaddr.h"
#include "xmalloc.h"

_Static_assert(NETADDR_IP_MAX >= INET6_ADDRSTRLEN,
    "NETADDR_IP_MAX holds an IPv6 address");

int
netaddr_ip(const struct sockaddr *sa, socklen_t salen, char *out,
    size_t outlen)
{
	const struct sockaddr_in	*s4 = (const void *)sa;
	const struct sockaddr_in6	*s6 = (const void *)sa;
	const char			*ok = NULL;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof *s4)
		ok = inet_ntop(AF_INET, &s4->sin_addr, out, outlen);
	else if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof *s6)
		ok = inet_ntop(AF_INET6, &s6->sin6_addr, out, outlen);
	if (ok == NULL) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

char *
netaddr_peer_ip(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	char			 ip[NETADDR_IP_MAX];

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return NULL;
	if (netaddr_ip((struct sockaddr *)&ss, len, ip, sizeof ip) != 0)
		return NULL;
	return xstrdup(ip);
}
