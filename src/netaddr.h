/*
 * netaddr: a socket address as the text of its IP address, for logs,
 * reports and HAR's serverIPAddress.
 */
#ifndef NETADDR_H
#define NETADDR_H

#include <sys/socket.h>

#include <stddef.h>

/* The longest text netaddr_ip writes, with its NUL (INET6_ADDRSTRLEN). */
#define NETADDR_IP_MAX	46

/*
 * Write the IP address of sa (IPv4 or IPv6, without the port) to out.
 * Return 0, or -1 with out set to "" for another family or a short sa.
 */
int	netaddr_ip(const struct sockaddr *sa, socklen_t salen, char *out,
	    size_t outlen);

/* The IP address of the peer of socket fd (caller frees), or NULL. */
char	*netaddr_peer_ip(int fd);

#endif /* NETADDR_H */
