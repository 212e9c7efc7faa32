/*
 * resolve: --resolve HOST:PORT=ADDR:PORT, the table that sends the
 * connections for an origin to another address (a local fake answering for
 * a real API name). Pure: parsing and lookup, no sockets, no printing.
 * The TLS name and the Host header stay HOST; only where patchscope
 * connects changes.
 */
#ifndef PATCHSCOPE_RESOLVE_H
#define PATCHSCOPE_RESOLVE_H

#include <stddef.h>

#define RESOLVE_SPEC_MAX	600	/* bytes of one HOST:PORT=ADDR:PORT */

/* One mapping: connections to host:port go to addr:addr_port. */
struct resolve_entry {
	char	*host;		/* lower case, no final dot, IPv6 unbracketed */
	int	 port;		/* 1-65535 */
	char	*addr;		/* numeric IPv4 or IPv6 (unbracketed) */
	int	 addr_port;	/* 1-65535 */
};

/*
 * Parse spec ("api.example.com:443=127.0.0.1:8443", "[::1]" for IPv6 on
 * either side) into e. HOST is a DNS name or an IP address, ADDR an IP
 * address (no name), both ports 1-65535. Return 0 (free e with
 * resolve_entry_free), or -1 with *cause set to one line naming what is
 * wrong (caller frees); e is then empty.
 */
int	resolve_parse(const char *spec, struct resolve_entry *e, char **cause);
/* Free what e holds (an empty e is fine). */
void	resolve_entry_free(struct resolve_entry *e);
/*
 * Return the first of the n entries v that maps host:port (host in any
 * case, with or without brackets or a final dot), or NULL.
 */
const struct resolve_entry *resolve_find(const struct resolve_entry *v,
	    size_t n, const char *host, int port);
/*
 * Write "host:port -> addr:port" (IPv6 bracketed) into out, for a log
 * line; cut to len.
 */
void	resolve_describe(const struct resolve_entry *e, char *out, size_t len);

#endif
