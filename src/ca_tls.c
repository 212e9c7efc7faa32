/*
 * ca_tls: the TLS server side of intercepted connections.
 *
 * The CA's one server SSL_CTX (ca_tls_ctx_new) speaks TLS 1.2 and up,
 * selects ALPN "http/1.1" when the client offers it, and picks the name of
 * each handshake in its certificate callback: the client's SNI, else the
 * CONNECT host remembered with ca_set_fallback_name. The leaf for that name
 * comes from the CA's leaf cache (ca_leaf.c). ca_accept puts that TLS
 * between patchscope and a client's socket; ca_tls_error says why it
 * failed.
 *
 * Ownership: struct ca (ca.c) owns the SSL_CTX; its callback borrows the
 * leaf cache, which the CA frees after the SSL_CTX. The only global is the
 * SSL ex_data index of the fallback name, allocated once by ca_tls_init;
 * OpenSSL frees each SSL's copy of the name with the SSL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ca.h"
#include "ca_local.h"
#include "log.h"
#include "xmalloc.h"

#define CA_ALPN			"http/1.1"

/* Index of the fallback name in each SSL's ex_data; -1 until first used. */
static int ca_ssl_index = -1;

/* Free an SSL's fallback name along with the SSL. */
static void
ca_ex_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

/* Give a duplicated SSL (SSL_dup) its own copy of the fallback name. */
static int
ca_ex_dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d,
    int idx, long argl, void *argp)
{
	(void)to;
	(void)from;
	(void)idx;
	(void)argl;
	(void)argp;
	if (*from_d != NULL)
		*from_d = xstrdup(*from_d);
	return 1;
}

/* Return the ex_data index of the fallback name, allocating it once. */
static int
ca_ssl_index_get(void)
{
	if (ca_ssl_index == -1)
		ca_ssl_index = SSL_get_ex_new_index(0, NULL, NULL,
		    ca_ex_dup_cb, ca_ex_free_cb);
	return ca_ssl_index;
}

/*
 * Select "http/1.1" when the client offers it. Otherwise (a client that
 * offers only h2) go on without ALPN instead of failing the handshake: RFC
 * 7301 section 3.2 allows either, and this way such a client can still
 * fall back to HTTP/1.1.
 */
static int
ca_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int	i, n;

	(void)ssl;
	(void)arg;
	for (i = 0; i < inlen; i += 1 + n) {
		n = in[i];
		if (n > inlen - i - 1)
			break;
		if (n == sizeof CA_ALPN - 1 &&
		    memcmp(in + i + 1, CA_ALPN, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/*
 * During the handshake, present the leaf for the client's SNI name, else
 * for the fallback name; returning 0 fails the handshake.
 */
static int
ca_cert_cb(SSL *ssl, void *arg)
{
	struct ca_leaf_cache	*leaves = arg;
	const char		*name;
	char			*cause = NULL;

	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL && ca_ssl_index != -1)
		name = SSL_get_ex_data(ssl, ca_ssl_index);
	if (name == NULL) {
		log_warnx("TLS handshake refused: the client sent no server "
		    "name (SNI) and no CONNECT host is known");
		return 0;
	}
	if (ca_leaf_use(leaves, ssl, name, &cause) == -1) {
		log_warnx("TLS handshake refused: %s", cause);
		free(cause);
		return 0;
	}
	return 1;
}

/* Allocate the ex_data index of the fallback name, once. */
int
ca_tls_init(char **cause)
{
	if (ca_ssl_index_get() == -1) {
		*cause = xasprintf("cannot set up TLS interception: %s",
		    ca_ssl_error());
		return -1;
	}
	return 0;
}

/* Make the server SSL_CTX of intercepted connections. */
SSL_CTX *
ca_tls_ctx_new(struct ca_leaf_cache *leaves, char **cause)
{
	SSL_CTX	*ctx;

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		*cause = xasprintf("cannot set up TLS interception: %s",
		    ca_ssl_error());
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_alpn_select_cb(ctx, ca_alpn_cb, NULL);
	SSL_CTX_set_cert_cb(ctx, ca_cert_cb, leaves);
	return ctx;
}

/* Remember host as ssl's name when the client sends no SNI. */
int
ca_set_fallback_name(SSL *ssl, const char *host)
{
	char	*old, *copy = NULL;
	int	 idx;

	idx = ca_ssl_index_get();
	if (idx == -1)
		return -1;
	if (host != NULL)
		copy = xstrdup(host);
	old = SSL_get_ex_data(ssl, idx);
	if (SSL_set_ex_data(ssl, idx, copy) != 1) {
		free(copy);
		return -1;
	}
	free(old);
	return 0;
}

/* TLS server for a client, over its socket bufferevent. */
struct bufferevent *
ca_accept(struct ca *ca, struct event_base *base, struct bufferevent *under,
    const char *host)
{
	struct bufferevent	*bev;
	SSL			*ssl;
	evutil_socket_t		 fd;
	const int		 opts = BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS;

	ssl = SSL_new(ca_server_ctx(ca));
	if (ssl == NULL || ca_set_fallback_name(ssl, host) != 0) {
		SSL_free(ssl);
		return NULL;
	}
	/*
	 * With nothing buffered on either side, TLS goes straight on the
	 * socket: one layer fewer than a filter, which costs copies and
	 * callbacks on every record. Otherwise (a ClientHello already read,
	 * say) a filter over the socket bufferevent keeps those bytes.
	 * From here the bufferevent owns the SSL, even on failure.
	 */
	fd = bufferevent_getfd(under);
	if (fd >= 0 && evbuffer_get_length(bufferevent_get_input(under)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(under)) == 0) {
		bufferevent_setfd(under, -1);
		bufferevent_free(under);
		bev = bufferevent_openssl_socket_new(base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, opts);
		if (bev == NULL) {
			evutil_closesocket(fd);
			return NULL;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		return bev;
	}
	bev = bufferevent_openssl_filter_new(base, under, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, opts);
	if (bev == NULL)
		return NULL;
	/* Clients often close without a TLS close_notify; that is no error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* Why a TLS bufferevent failed. */
void
ca_tls_error(struct bufferevent *bev, char *out, size_t len)
{
	unsigned long	err = bufferevent_get_openssl_error(bev);
	int		sock = EVUTIL_SOCKET_ERROR();

	if (err != 0 && ERR_GET_LIB(err) != 0)
		ERR_error_string_n(err, out, len);
	else if (sock != 0)
		snprintf(out, len, "%s", evutil_socket_error_to_string(sock));
	else
		snprintf(out, len, "the client closed the connection");
}
