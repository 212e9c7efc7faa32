/*
 * ca: patchscope's own certificate authority, and the leaf certificates it
 * mints on the fly for the hosts whose TLS it intercepts. All OpenSSL code
 * outside upstream.c lives here: ca.c (the CA, its files, the bundle),
 * ca_leaf.c (leaves and their cache) and ca_tls.c (the TLS server side:
 * SNI, ALPN, ca_accept, ca_tls_error). This header is the whole module's
 * API; ca_local.h is what those files share among themselves.
 */
#ifndef PATCHSCOPE_CA_H
#define PATCHSCOPE_CA_H

#include <stddef.h>

struct ca;
struct ssl_ctx_st;
struct ssl_st;

#define CA_CERT_FILE	"ca.pem"
#define CA_KEY_FILE	"ca-key.pem"
#define CA_BUNDLE_FILE	"bundle.pem"
#define CA_JKS_FILE	"truststore.jks"
/* Java's own default for trust stores; it guards integrity, not secrets. */
#define CA_JKS_PASSWORD	"changeit"

/*
 * Return the CA directory to use: dir when not NULL, else $PATCHSCOPE_HOME,
 * else ~/.patchscope ($HOME, or the password database). The caller frees
 * the string. NULL only when no home directory can be found.
 */
char	*ca_default_dir(const char *dir);
/*
 * Load the CA from dir, creating the directory (0700), the key (0600) and
 * the certificate when both files are missing. Refuse a key file that group
 * or others can access, a directory that is not a directory, one file
 * without the other, and files that do not parse or do not match. Return
 * the CA, or NULL with *cause set (caller frees; dir NULL is such an
 * error). max_leaves bounds the cache of minted leaf certificates (0 is
 * taken as 1).
 */
struct ca *ca_open(const char *dir, size_t max_leaves, char **cause);
/*
 * Free the CA, its cache and its SSL_CTX (NULL is fine). Free every SSL made
 * from ca_server_ctx first: their handshakes call back into the CA.
 */
void	ca_free(struct ca *);
/* Return the path of the CA certificate (ca.pem); owned by the CA. */
const char *ca_cert_path(const struct ca *);
/*
 * Write DIR/bundle.pem (mode 0644): the system trust store (when found,
 * else a warning is logged) followed by the CA certificate, for tools that
 * take one bundle file. Return its path (owned by the CA) or NULL with
 * *cause set (caller frees).
 */
const char *ca_write_bundle(struct ca *, char **cause);
/*
 * Write DIR/truststore.jks (mode 0644), a JKS trust store that Java reads:
 * the certificates of the system trust store and the CA (alias
 * "patchscope-ca"), password CA_JKS_PASSWORD; only when it is missing or
 * older than the system store or ca.pem, crash-safely. Return its path
 * (caller frees), or NULL with *cause set (caller frees).
 */
char	*ca_write_truststore(struct ca *, char **cause);
/* One certificate of a JKS trust store: its alias (ASCII) and DER. */
struct ca_jks_cert {
	const char		*alias;
	const unsigned char	*der;
	size_t			 len;
};
/*
 * Encode n certificates as a JKS trust store (version 2) into out (reset
 * first), each entry stamped when_ms (milliseconds since 1970), sealed
 * with password (ASCII). Return 0, or -1 with *cause set (caller frees).
 */
struct buf;
int	ca_jks_encode(const struct ca_jks_cert *certs, size_t n,
	    const char *password, unsigned long long when_ms, struct buf *out,
	    char **cause);
/*
 * Append the certificates of a PEM text to *certs (*n of them, growing to
 * at most max; aliases "system-N", DER from OPENSSL_malloc); blocks that
 * are not certificates are skipped and counted in *skipped. Return 0, or
 * -1 with *cause set (caller frees).
 */
int	ca_jks_read_pem(const char *pem, size_t len, size_t max,
	    struct ca_jks_cert **certs, size_t *n, size_t *skipped,
	    char **cause);
/*
 * Return an SSL_CTX for the server side of intercepted connections: TLS 1.2
 * and up, ALPN "http/1.1" (no ALPN when the client does not offer it), and,
 * during each handshake, a leaf for the client's SNI name, or for the name
 * set with ca_set_fallback_name when the client sends none; without either,
 * or for an invalid name, the handshake fails with a warning logged. Owned
 * by the CA.
 */
struct ssl_ctx_st *ca_server_ctx(struct ca *);
/*
 * Remember the CONNECT target's host (a name, an IP address, or "[IPv6]")
 * for one handshake of the SSL object, used when the client sends no SNI.
 * The SSL keeps a copy, freed with it; NULL clears it. Return 0, or -1 on
 * failure.
 */
int	ca_set_fallback_name(struct ssl_st *, const char *host);
/*
 * Mint (or take from the cache) the leaf certificate for host, a DNS name
 * or an IP address literal (any case; "[::1]" too). Return 0 and set *pem to
 * a PEM string of the certificate (caller frees), or -1 with *cause set
 * (caller frees), e.g. for an invalid host name. For tests and tools.
 */
int	ca_leaf_pem(struct ca *, const char *host, char **pem, char **cause);
/* Number of leaf certificates in the cache. */
size_t	ca_cached_leaves(const struct ca *);
/*
 * Put TLS between patchscope and a client: return a new bufferevent that
 * is the TLS server for host over under's socket, or NULL. under is owned
 * (and maybe freed) by it from then on, even on failure. The handshake's
 * end is reported as BEV_EVENT_CONNECTED.
 */
struct bufferevent;
struct event_base;
struct bufferevent *ca_accept(struct ca *, struct event_base *,
	    struct bufferevent *under, const char *host);
/* Write why a TLS bufferevent failed into out, for a log line. */
void	ca_tls_error(struct bufferevent *, char *out, size_t len);

#endif
