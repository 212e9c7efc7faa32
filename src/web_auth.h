/*
 * web_auth: who may use the web view, decided from a request's headers.
 * Pure: strings in, yes or no out.
 *
 * - The token (WEB_TOKEN_HEX lowercase hex digits) rides in the cookie
 *   patchscope_token or in "Authorization: Bearer TOKEN"; it is compared
 *   in constant time.
 * - The Host header must name the view's own address (a page of another
 *   site whose name was rebound to 127.0.0.1 sends its own name).
 * - The proxy refuses to forward to the view's own address.
 */
#ifndef PATCHSCOPE_WEB_AUTH_H
#define PATCHSCOPE_WEB_AUTH_H

#include <stddef.h>

#define WEB_TOKEN_BYTES		16
#define WEB_TOKEN_HEX		(2 * WEB_TOKEN_BYTES)
#define WEB_TOKEN_COOKIE	"patchscope_token"

/* Write the hex of WEB_TOKEN_BYTES random bytes and a NUL into hex. */
void	web_auth_token_hex(const unsigned char *bytes,
	    char hex[WEB_TOKEN_HEX + 1]);
/*
 * Return nonzero when given (len bytes) is the token, in a time that does
 * not depend on where they differ.
 */
int	web_auth_token_eq(const char *given, size_t len, const char *token);
/*
 * Return nonzero when a request carries the token: in one of the Cookie
 * header's patchscope_token values, or as an Authorization Bearer token.
 * Either header may be NULL.
 */
int	web_auth_request_ok(const char *cookie, const char *authorization,
	    const char *token);
/*
 * Return nonzero when host (a numeric address without brackets, or
 * "localhost") is a loopback address.
 */
int	web_auth_is_loopback(const char *host);
/*
 * Return nonzero when a Host header names the view bound to bound_host
 * (numeric, IPv6 without brackets) and port: "localhost:PORT" or the
 * bound address with the port; bound to every address (0.0.0.0, ::),
 * any numeric address with the port.
 */
int	web_auth_host_ok(const char *host_header, const char *bound_host,
	    int port);
/*
 * Return nonzero when a request to host (as in a URL: a name, an IPv4
 * address in any form inet_aton reads, or an IPv6 address without
 * brackets) and port would reach the view bound to bound_host and
 * bound_port on this machine.
 */
int	web_auth_is_view(const char *host, int port, const char *bound_host,
	    int bound_port);

#endif
