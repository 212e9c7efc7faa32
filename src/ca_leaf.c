/*
 * ca_leaf: the leaf certificates that the CA mints for the hosts whose TLS
 * it intercepts, and the cache that keeps them.
 *
 * A host name is checked and normalised before anything else (a DNS name
 * in lower case without a final dot, an IP literal in its canonical text),
 * so "Example.COM." and "example.com" share one leaf and a name that is no
 * host name never reaches OpenSSL.
 *
 * Ownership: struct ca_leaf_cache holds its own references to the issuer
 * (the CA certificate and key), one ECDSA P-256 key shared by all leaves
 * (key generation is the slow part of minting; signing is fast), the chain
 * sent after each leaf (the CA), and the leaves. It maps a normalised host
 * name to its X509 through a hash table whose entries are also on an LRU
 * list; when full, the least recently used leaf goes. An SSL presenting a
 * leaf holds its own reference, so eviction never pulls a certificate out
 * from under a handshake.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ca_local.h"
#include "hash.h"
#include "log.h"
#include "xmalloc.h"

#define CA_LEAF_VALID_DAYS	397	/* clients refuse > 398 days */
#define CA_HOST_MAX		253	/* RFC 1035, no final dot */
#define CA_LABEL_MAX		63
#define CA_BUCKETS_MIN		16
#define CA_BUCKETS_MAX		65536

/*
 * A leaf's extensions, besides its subjectAltName. The key is ECDSA, so
 * digitalSignature is the only usage that applies (RFC 5480 section 3).
 */
static const struct ca_ext ca_leaf_exts[] = {
	{ NID_basic_constraints,	"CA:FALSE" },
	{ NID_key_usage,		"critical,digitalSignature" },
	{ NID_ext_key_usage,		"serverAuth" },
	{ NID_subject_key_identifier,	"hash" },
	{ NID_authority_key_identifier,	"keyid:always" },
};

/* A host name checked and normalised for the cache and the certificate. */
struct ca_host {
	char		name[CA_HOST_MAX + 1]; /* lower case, or IP */
	unsigned char	ip[16];
	size_t		iplen;	/* 0 for a DNS name, 4 or 16 */
};

/* A cached leaf: in one hash bucket and on the LRU list. */
struct ca_leaf {
	char		*host;
	X509		*cert;
	struct ca_leaf	*hnext;		/* in the same bucket */
	struct ca_leaf	*prev;		/* LRU list, recent first */
	struct ca_leaf	*next;
};

/* The leaves by normalised host name, and the issuer that signs them. */
struct ca_leaf_cache {
	X509		 *issuer;	/* the CA */
	EVP_PKEY	 *issuer_key;
	EVP_PKEY	 *key;		/* shared by every leaf */
	STACK_OF(X509)	 *chain;	/* the CA, sent after each leaf */

	struct ca_leaf	**buckets;
	size_t		  nbuckets;	/* a power of two */
	struct ca_leaf	 *lru_head;
	struct ca_leaf	 *lru_tail;
	size_t		  nleaves;
	size_t		  max_leaves;
};

/* Is c allowed in a DNS name (already lower case)? */
static int
ca_host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/*
 * Check host and normalise it into h: an IPv4 or IPv6 literal (bracketed
 * or not) becomes its canonical text, a DNS name goes to lower case without
 * a final dot. Anything else is refused with *cause set.
 */
static int
ca_host_parse(const char *host, struct ca_host *h, char **cause)
{
	char		 buf[INET6_ADDRSTRLEN + 1], shown[CA_CN_MAX + 1];
	const char	*why = NULL;
	size_t		 len, i, label = 0;
	int		 c;

	memset(h, 0, sizeof *h);
	if (host == NULL || *host == '\0') {
		*cause = xstrdup("empty host name");
		return -1;
	}
	len = strlen(host);

	/* "[::1]" is how a CONNECT line writes an IPv6 address. */
	if (host[0] == '[') {
		if (host[len - 1] != ']' || len - 2 >= sizeof buf) {
			why = "expected [IPV6-ADDRESS]";
			goto bad;
		}
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, h->ip) != 1) {
			why = "not an IPv6 address";
			goto bad;
		}
		h->iplen = 16;
	} else if (inet_pton(AF_INET, host, h->ip) == 1)
		h->iplen = 4;
	else if (strchr(host, ':') != NULL) {
		if (inet_pton(AF_INET6, host, h->ip) != 1) {
			why = "not an IPv6 address";
			goto bad;
		}
		h->iplen = 16;
	}
	if (h->iplen != 0) {
		inet_ntop(h->iplen == 4 ? AF_INET : AF_INET6, h->ip, h->name,
		    sizeof h->name);
		return 0;
	}

	/* A DNS name; "example.com." is the same name, absolute. */
	if (host[len - 1] == '.')
		len--;
	if (len > CA_HOST_MAX) {
		why = "longer than 253 characters";
		goto bad;
	}
	for (i = 0; i < len; i++) {
		c = host[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c == '.') {
			if (label == 0) {
				why = "empty label";
				goto bad;
			}
			label = 0;
		} else if (ca_host_char(c)) {
			label++;
			if (label > CA_LABEL_MAX) {
				why = "a label longer than 63 characters";
				goto bad;
			}
		} else {
			why = "only letters, digits, '-', '_' and '.' are "
			    "allowed";
			goto bad;
		}
		h->name[i] = (char)c;
	}
	if (label == 0) {
		why = "empty label";
		goto bad;
	}
	h->name[len] = '\0';
	return 0;

bad:
	ca_printable(host, shown, sizeof shown);
	*cause = xasprintf("invalid host name \"%s\": %s", shown, why);
	return -1;
}

/* Hash a normalised host name (FNV-1a). */
static size_t
ca_hash(const char *s)
{
	return (size_t)hash_str(HASH_FNV_OFFSET, s);
}

/* Take leaf off the LRU list. */
static void
ca_lru_unlink(struct ca_leaf_cache *lc, struct ca_leaf *leaf)
{
	if (leaf->prev != NULL)
		leaf->prev->next = leaf->next;
	else
		lc->lru_head = leaf->next;
	if (leaf->next != NULL)
		leaf->next->prev = leaf->prev;
	else
		lc->lru_tail = leaf->prev;
	leaf->prev = leaf->next = NULL;
}

/* Put leaf at the front of the LRU list. */
static void
ca_lru_push(struct ca_leaf_cache *lc, struct ca_leaf *leaf)
{
	leaf->prev = NULL;
	leaf->next = lc->lru_head;
	if (lc->lru_head != NULL)
		lc->lru_head->prev = leaf;
	else
		lc->lru_tail = leaf;
	lc->lru_head = leaf;
}

/* Drop leaf from the cache and free it. */
static void
ca_evict(struct ca_leaf_cache *lc, struct ca_leaf *leaf)
{
	struct ca_leaf	**pp;

	pp = &lc->buckets[ca_hash(leaf->host) & (lc->nbuckets - 1)];
	while (*pp != leaf)
		pp = &(*pp)->hnext;
	*pp = leaf->hnext;
	ca_lru_unlink(lc, leaf);
	lc->nleaves--;
	log_debug("evicted the certificate for %s", leaf->host);
	X509_free(leaf->cert);
	free(leaf->host);
	free(leaf);
}

/* Mint the leaf for h, signed by the CA. */
static X509 *
ca_mint(struct ca_leaf_cache *lc, const struct ca_host *h, char **cause)
{
	X509		*x = NULL;
	X509_NAME	*subject;
	GENERAL_NAMES	*san;
	GENERAL_NAME	*gn = NULL;
	char		 cn[CA_CN_MAX + 1];
	size_t		 len;
	int		 ok = 0;

	subject = X509_NAME_new();
	san = sk_GENERAL_NAME_new_null();
	if (subject == NULL || san == NULL)
		goto out;

	/* The SAN carries the full name; the CN is informational only. */
	len = strlen(h->name);
	if (len > CA_CN_MAX)
		len = CA_CN_MAX;
	memcpy(cn, h->name, len);
	cn[len] = '\0';
	if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1)
		goto out;
	x = ca_cert_new(subject, lc->key, lc->issuer, CA_LEAF_VALID_DAYS);
	if (x == NULL)
		goto out;

	gn = a2i_GENERAL_NAME(NULL, NULL, NULL,
	    h->iplen != 0 ? GEN_IPADD : GEN_DNS, h->name, 0);
	if (gn == NULL || sk_GENERAL_NAME_push(san, gn) == 0)
		goto out;
	gn = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	if (ca_cert_sign(x, lc->issuer, lc->issuer_key, ca_leaf_exts,
	    CA_NITEMS(ca_leaf_exts)) == -1)
		goto out;
	ok = 1;

out:
	if (!ok) {
		*cause = xasprintf("cannot make a certificate for %s: %s",
		    h->name, ca_ssl_error());
		X509_free(x);
		x = NULL;
	}
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(san);
	X509_NAME_free(subject);
	return x;
}

/*
 * Return the leaf for host from the cache, minting it on a miss. The cache
 * owns it; it stays valid until the next call.
 */
X509 *
ca_leaf_get(struct ca_leaf_cache *lc, const char *host, char **cause)
{
	struct ca_host	 h;
	struct ca_leaf	*leaf;
	X509		*x;
	size_t		 b;

	if (ca_host_parse(host, &h, cause) == -1)
		return NULL;
	b = ca_hash(h.name) & (lc->nbuckets - 1);
	for (leaf = lc->buckets[b]; leaf != NULL; leaf = leaf->hnext) {
		if (strcmp(leaf->host, h.name) == 0) {
			ca_lru_unlink(lc, leaf);
			ca_lru_push(lc, leaf);
			return leaf->cert;
		}
	}

	x = ca_mint(lc, &h, cause);
	if (x == NULL)
		return NULL;
	if (lc->nleaves >= lc->max_leaves)
		ca_evict(lc, lc->lru_tail);
	leaf = xcalloc(1, sizeof *leaf);
	leaf->host = xstrdup(h.name);
	leaf->cert = x;
	leaf->hnext = lc->buckets[b];
	lc->buckets[b] = leaf;
	ca_lru_push(lc, leaf);
	lc->nleaves++;
	log_debug("minted a certificate for %s (%zu cached)", h.name,
	    lc->nleaves);
	return x;
}

/* Make an empty cache of at most max leaves, signed by issuer. */
struct ca_leaf_cache *
ca_leaf_cache_new(X509 *issuer, EVP_PKEY *issuer_key, size_t max,
    char **cause)
{
	struct ca_leaf_cache	*lc;

	lc = xcalloc(1, sizeof *lc);
	lc->max_leaves = max == 0 ? 1 : max;
	lc->nbuckets = CA_BUCKETS_MIN;
	while (lc->nbuckets < lc->max_leaves &&
	    lc->nbuckets < CA_BUCKETS_MAX)
		lc->nbuckets <<= 1;
	lc->buckets = xcalloc(lc->nbuckets, sizeof *lc->buckets);
	X509_up_ref(issuer);
	lc->issuer = issuer;
	EVP_PKEY_up_ref(issuer_key);
	lc->issuer_key = issuer_key;

	lc->key = EVP_EC_gen(CA_CURVE);
	lc->chain = sk_X509_new_null();
	if (lc->key == NULL || lc->chain == NULL ||
	    sk_X509_push(lc->chain, issuer) == 0) {
		*cause = xasprintf("cannot set up TLS interception: %s",
		    ca_ssl_error());
		ca_leaf_cache_free(lc);
		return NULL;
	}
	X509_up_ref(issuer);
	return lc;
}

/* Free the cache and its leaves. */
void
ca_leaf_cache_free(struct ca_leaf_cache *lc)
{
	struct ca_leaf	*leaf;

	if (lc == NULL)
		return;
	while (lc->lru_head != NULL) {
		leaf = lc->lru_head;
		lc->lru_head = leaf->next;
		X509_free(leaf->cert);
		free(leaf->host);
		free(leaf);
	}
	free(lc->buckets);
	sk_X509_pop_free(lc->chain, X509_free);
	EVP_PKEY_free(lc->key);
	EVP_PKEY_free(lc->issuer_key);
	X509_free(lc->issuer);
	free(lc);
}

/* Make ssl present host's leaf, with the CA as its chain. */
int
ca_leaf_use(struct ca_leaf_cache *lc, SSL *ssl, const char *host,
    char **cause)
{
	X509	*x;

	x = ca_leaf_get(lc, host, cause);
	if (x == NULL)
		return -1;
	/* The CA goes along as the chain, for clients that want it sent. */
	if (SSL_use_cert_and_key(ssl, x, lc->key, lc->chain, 1) != 1) {
		*cause = xasprintf("cannot use the certificate for %s: %s",
		    host, ca_ssl_error());
		return -1;
	}
	return 0;
}

/* Return the number of cached leaves. */
size_t
ca_leaf_count(const struct ca_leaf_cache *lc)
{
	return lc->nleaves;
}
