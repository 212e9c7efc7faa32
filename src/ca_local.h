/*
 * ca_local: what the three files of the ca module share, and nothing else
 * includes. ca.c is the CA itself (its directory, key and certificate);
 * ca_leaf.c mints and caches the leaf certificates for hosts; ca_tls.c is
 * the TLS server side of intercepted connections. Callers use ca.h.
 */
#ifndef PATCHSCOPE_CA_LOCAL_H
#define PATCHSCOPE_CA_LOCAL_H

#include <stddef.h>

struct X509_name_st;
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
