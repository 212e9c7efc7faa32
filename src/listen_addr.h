/*
 * listen_addr: patchscope's own listening address as clients see it: the
 * base URL `-- CMD` gives in PATCHSCOPE_URL, and whether a proxy request
 * names patchscope itself (so it is served, not forwarded in a loop).
 * Pure: no sockets.
 */
#ifndef PATCHSCOPE_LISTEN_ADDR_H
#define PATCHSCOPE_LISTEN_ADDR_H

#include <stddef.h>

/*
 * Split a bound address ("ADDR:PORT" or "[V6]:PORT", as proxy_address()
 * gives it) into the host a client on this machine connects to (a
 * wildcard address becomes the loopback of its family; IPv6 without
 * brackets) and the port. Return 0, or -1 when it is not such an
 * address. host has room for len bytes.
 */
int	listen_addr_client(const char *address, char *host, size_t len,
	    int *port);
/*
 * Return the base URL for a proxy bound to address
 * ("http://127.0.0.1:PORT", "http://[::1]:PORT"; the caller frees), or
 * NULL when address is not ADDR:PORT.
 */
char	*listen_addr_base_url(const char *address);
/*
 * Return nonzero when host:port (a URL's host, lower case, IPv6 without
 * brackets) names the listener bound to address: the bound address
 * itself, or, when it is a loopback or wildcard address, any loopback
 * address of the same family (IPv4 for a wildcard "::" too, which also
 * takes IPv4 connections) or "localhost", with the bound port.
 */
int	listen_addr_is_self(const char *address, const char *host, int port);

#endif
