/*
 * ca_local: what the three files of the ca module share, and nothing else
 * includes. ca.c is the CA itself (its directory, key and certificate);
 * ca_leaf.c mints and caches the leaf certificates for hosts; ca_tls.c is
 * the TLS server side of intercepted connections. Callers use ca.h.
 */
#ifndef PATCHSCOPE_CA_LOCAL_H
#define PATCHSCOPE_CA_LOCAL_H

#include <sys/types.h>

#include <stddef.h>

struct X509_name_st;
struct ca;
struct evp_pkey_st;
struct ssl_ctx_st;
struct ssl_st;
struct x509_st;

#define CA_NITEMS(a)	(sizeof (a) / sizeof (a)[0])
#define CA_CURVE	"P-256"	/* the CA key and the leaves' key */
#define CA_CN_MAX	64	/* ub-common-name, RFC 5280 */

/* One X509v3 extension in OpenSSL's configuration syntax. */
struct ca_ext {
	int		 nid;
	const char	*value;
};

/* ca.c */

/* Return the CA's directory; owned by the CA. */
const char	*ca_dir(const struct ca *);
/* Return the CA certificate; owned by the CA. */
struct x509_st	*ca_cert(const struct ca *);
/* Encode x as PEM into *pem (caller frees). Return 0, or -1. */
int		 ca_x509_pem(struct x509_st *x, char **pem);

/* Describe OpenSSL's latest error for a person, and clear the queue. */
const char	*ca_ssl_error(void);
/* Copy s into buf (size bytes) for a message: non-printables become '?'. */
void		 ca_printable(const char *s, char *buf, size_t size);
/*
 * Start a v3 certificate for pubkey: a random serial, subject, validity from
 * an hour ago for days, but never past the issuer's end (issuer NULL: the
 * certificate is self-issued). Return it (caller frees), or NULL.
 */
struct x509_st	*ca_cert_new(const struct X509_name_st *subject,
		    struct evp_pkey_st *pubkey, struct x509_st *issuer,
		    int days);
/*
 * Add the n extensions exts to x and sign it with key (issuer NULL: x signs
 * itself). Return 0, or -1 with the reason in OpenSSL's error queue.
 */
int		 ca_cert_sign(struct x509_st *x, struct x509_st *issuer,
		    struct evp_pkey_st *key, const struct ca_ext *exts,
		    size_t n);

/* ca_file.c */

/* The system trust stores looked for, for messages. */
#define CA_SYSTEM_STORES	"/etc/ssl/certs/ca-certificates.crt, " \
	"/etc/pki/tls/certs/ca-bundle.crt and /etc/ssl/cert.pem"

/*
 * Read the regular file open on fd (at most max bytes) into a new
 * NUL-terminated buffer (caller frees). Return 0, or -1 with *cause set.
 */
int		 ca_read_fd(int fd, const char *path, size_t max, char **data,
		    size_t *len, char **cause);
/*
 * Write data to path.tmp with exactly mode and sync it; ca_commit renames
 * it over path. Return 0, or -1 with *cause set (caller frees).
 */
int		 ca_write_tmp(const char *path, const void *data, size_t len,
		    mode_t mode, char **cause);
/* Rename path.tmp over path. Return 0, or -1 with *cause set. */
int		 ca_commit(const char *path, char **cause);
/* Sync the directory so that renames in it survive a crash. */
void		 ca_sync_dir(const char *dir);
/* Remove path.tmp, if any. */
void		 ca_unlink_tmp(const char *path);
/* Write data to path (in dir) crash-safely with mode; 0, or -1 and *cause. */
int		 ca_write_file(const char *dir, const char *path,
		    const void *data, size_t len, mode_t mode, char **cause);
/*
 * Read the first system trust store found (PEM) into *data (caller frees;
 * NULL and *len 0 when there is none) and return its path, or NULL. A
 * store that cannot be read is skipped with a warning.
 */
const char	*ca_system_store(char **data, size_t *len);

/* ca_leaf.c */

struct ca_leaf_cache;

/*
 * Make an empty cache of at most max leaves (0 is taken as 1), each signed
 * by issuer with issuer_key; the cache takes its own references to both.
 * Return it (free with ca_leaf_cache_free), or NULL with *cause set (caller
 * frees).
 */
struct ca_leaf_cache *ca_leaf_cache_new(struct x509_st *issuer,
		    struct evp_pkey_st *issuer_key, size_t max, char **cause);
/* Free the cache and its leaves (NULL is fine). */
void		 ca_leaf_cache_free(struct ca_leaf_cache *);
/*
 * Return the leaf for host from the cache, minting it on a miss; the cache
 * owns it, and it stays valid until the next call. NULL with *cause set
 * (caller frees), e.g. for an invalid host name.
 */
struct x509_st	*ca_leaf_get(struct ca_leaf_cache *, const char *host,
		    char **cause);
/*
 * Make ssl present host's leaf, its key and the CA as the chain; ssl keeps
 * its own references. Return 0, or -1 with *cause set (caller frees).
 */
int		 ca_leaf_use(struct ca_leaf_cache *, struct ssl_st *ssl,
		    const char *host, char **cause);
/* Return the number of leaves in the cache. */
size_t		 ca_leaf_count(const struct ca_leaf_cache *);

/* ca_tls.c */

/*
 * Allocate the SSL ex_data index of the fallback name, once. Return 0, or
 * -1 with *cause set (caller frees).
 */
int		 ca_tls_init(char **cause);
/*
 * Make the SSL_CTX for intercepted clients; its handshakes take their leaf
 * from leaves, which must outlive it. Return it (caller frees), or NULL with
 * *cause set (caller frees).
 */
struct ssl_ctx_st *ca_tls_ctx_new(struct ca_leaf_cache *leaves,
		    char **cause);

#endif
