/*
 * ca_java: the trust store for Java clients. Java 17 reads a JKS file as a
 * trust store; a PKCS12 file written without Oracle's trusted-key-usage
 * attribute (OpenSSL 3.0 has no way to add it) shows Java no certificate
 * at all. So patchscope writes JKS itself: the system roots plus its CA,
 * from the same sources as bundle.pem, next to it.
 *
 * The format (sun.security.provider.JavaKeyStore, version 2), all integers
 * big-endian: magic 0xFEEDFEED, version 2, the entry count; per entry the
 * tag 2 (a trusted certificate), the alias (Java's writeUTF: a 16-bit
 * length and the bytes), the creation time in milliseconds (64 bits),
 * the type "X.509" (writeUTF), the DER length (32 bits) and the DER; then
 * SHA-1 over the password as UTF-16BE, the bytes "Mighty Aphrodite" and
 * everything before. The password only guards integrity: a trust store
 * holds nothing secret.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "ca.h"
#include "ca_local.h"
#include "log.h"
#include "xmalloc.h"

#define JKS_MAGIC	0xFEEDFEEDu
#define JKS_VERSION	2u
#define JKS_TRUSTED	2u		/* tag of a trusted certificate entry */
#define JKS_WHITENER	"Mighty Aphrodite"
#define JKS_MAX_CERTS	10000		/* a system store holds ~150 */
#define JKS_ALIAS_MAX	64

static void
jks_u16(struct buf *b, unsigned v)
{
	unsigned char	x[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	buf_add(b, x, sizeof x);
}

static void
jks_u32(struct buf *b, uint32_t v)
{
	unsigned char	x[4];

	x[0] = (unsigned char)(v >> 24);
	x[1] = (unsigned char)(v >> 16);
	x[2] = (unsigned char)(v >> 8);
	x[3] = (unsigned char)v;
	buf_add(b, x, sizeof x);
}

/* Java's DataOutput.writeUTF for ASCII text (all we write). */
static void
jks_utf(struct buf *b, const char *s)
{
	size_t	len = strlen(s);

	jks_u16(b, (unsigned)len);
	buf_add(b, s, len);
}

/* Encode the trust store. */
int
ca_jks_encode(const struct ca_jks_cert *certs, size_t n,
    const char *password, unsigned long long when_ms, struct buf *out,
    char **cause)
{
	unsigned char	 md[EVP_MAX_MD_SIZE], pw[2];
	unsigned int	 mdlen = 0;
	EVP_MD_CTX	*ctx;
	const char	*p;
	size_t		 i;
	int		 ok;

	if (n > JKS_MAX_CERTS) {
		*cause = xasprintf("too many certificates for a trust store "
		    "(%zu, at most %d)", n, JKS_MAX_CERTS);
		return -1;
	}
	buf_reset(out);
	jks_u32(out, JKS_MAGIC);
	jks_u32(out, JKS_VERSION);
	jks_u32(out, (uint32_t)n);
	for (i = 0; i < n; i++) {
		if (strlen(certs[i].alias) > JKS_ALIAS_MAX ||
		    certs[i].len > INT32_MAX) {
			*cause = xasprintf("certificate %zu cannot go into a "
			    "trust store", i);
			return -1;
		}
		jks_u32(out, JKS_TRUSTED);
		jks_utf(out, certs[i].alias);
		jks_u32(out, (uint32_t)(when_ms >> 32));
		jks_u32(out, (uint32_t)when_ms);
		jks_utf(out, "X.509");
		jks_u32(out, (uint32_t)certs[i].len);
		buf_add(out, certs[i].der, certs[i].len);
	}

	/* SHA-1(password as UTF-16BE || "Mighty Aphrodite" || the store) */
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		*cause = xasprintf("cannot digest the trust store: %s",
		    ca_ssl_error());
		return -1;
	}
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1;
	for (p = password; ok && *p != '\0'; p++) {
		pw[0] = 0;
		pw[1] = (unsigned char)*p;
		ok = EVP_DigestUpdate(ctx, pw, sizeof pw) == 1;
	}
	ok = ok && EVP_DigestUpdate(ctx, JKS_WHITENER,
	    strlen(JKS_WHITENER)) == 1;
	ok = ok && EVP_DigestUpdate(ctx, out->data, out->len) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		*cause = xasprintf("cannot digest the trust store: %s",
		    ca_ssl_error());
		return -1;
	}
	buf_add(out, md, mdlen);
	return 0;
}

/*
 * Is path at least as new as every file in srcs (NULL entries skipped)?
 * A file that cannot be examined counts as changed.
 */
static int
jks_fresh(const char *path, const char *const *srcs, size_t n)
{
	struct stat	st, sst;
	size_t		i;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	for (i = 0; i < n; i++) {
		if (srcs[i] == NULL)
			continue;
		if (stat(srcs[i], &sst) == -1)
			return 0;
		if (sst.st_mtim.tv_sec > st.st_mtim.tv_sec ||
		    (sst.st_mtim.tv_sec == st.st_mtim.tv_sec &&
		    sst.st_mtim.tv_nsec > st.st_mtim.tv_nsec))
			return 0;
	}
	return 1;
}

/*
 * The DER of each certificate in a PEM text, appended to certs while *n is
 * below max; a block that is not a certificate (damaged, a key) is
 * skipped and counted in *skipped, so one bad block costs only itself.
 */
int
ca_jks_read_pem(const char *pem, size_t len, size_t max,
    struct ca_jks_cert **certs, size_t *n, size_t *skipped, char **cause)
{
	BIO		*bio;
	X509		*x;
	unsigned char	*der;
	unsigned long	 err;
	size_t		 left;
	int		 dlen;

	if (len > INT32_MAX) {
		*cause = xstrdup("the system trust store is too large");
		return -1;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		*cause = xasprintf("cannot read the trust store: %s",
		    ca_ssl_error());
		return -1;
	}
	while (*n < max) {
		left = (size_t)BIO_pending(bio);
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
			/* The end of the text is "no start line". */
			err = ERR_peek_last_error();
			if ((ERR_GET_LIB(err) == ERR_LIB_PEM &&
			    ERR_GET_REASON(err) == PEM_R_NO_START_LINE) ||
			    (size_t)BIO_pending(bio) >= left)
				break;
			ERR_clear_error();
			(*skipped)++;
			continue;
		}
		der = NULL;
		dlen = i2d_X509(x, &der);
		X509_free(x);
		if (dlen <= 0) {
			(*skipped)++;
			continue;
		}
		*certs = xreallocarray(*certs, *n + 1, sizeof **certs);
		(*certs)[*n].alias = xasprintf("system-%zu", *n + 1);
		(*certs)[*n].der = der;
		(*certs)[*n].len = (size_t)dlen;
		(*n)++;
	}
	ERR_clear_error();
	BIO_free(bio);
	return 0;
}

/* Write DIR/truststore.jks when it is missing or older than its sources. */
char *
ca_write_truststore(struct ca *ca, char **cause)
{
	struct ca_jks_cert	*certs = NULL;
	struct buf		 out = { NULL, 0, 0 };
	const char		*srcs[2];
	char			*path, *store = NULL, *pem = NULL, *rv = NULL;
	size_t			 len = 0, n = 0, nsys, i, skipped = 0;
	struct timespec		 now;

	*cause = NULL;
	path = xasprintf("%s/%s", ca_dir(ca), CA_JKS_FILE);
	srcs[0] = ca_system_store(&store, &len);
	srcs[1] = ca_cert_path(ca);
	if (jks_fresh(path, srcs, 2)) {
		rv = path;
		path = NULL;
		goto out;
	}
	/* The system's certificates leave room for the CA. */
	if (store != NULL && ca_jks_read_pem(store, len, JKS_MAX_CERTS - 1,
	    &certs, &n, &skipped, cause) == -1)
		goto out;
	if (skipped > 0)
		log_warnx("%s: %zu block(s) that are not certificates are "
		    "left out of %s", srcs[0], skipped, path);
	nsys = n;
	if (ca_x509_pem(ca_cert(ca), &pem) == -1 ||
	    ca_jks_read_pem(pem, strlen(pem), JKS_MAX_CERTS, &certs, &n,
	    &skipped, cause) == -1 || n != nsys + 1) {
		if (*cause == NULL)
			*cause = xasprintf("cannot encode %s: %s",
			    ca_cert_path(ca), ca_ssl_error());
		goto out;
	}
	free((char *)certs[n - 1].alias);
	certs[n - 1].alias = xstrdup("patchscope-ca");
	clock_gettime(CLOCK_REALTIME, &now);
	if (ca_jks_encode(certs, n, CA_JKS_PASSWORD,
	    (unsigned long long)now.tv_sec * 1000 +
	    (unsigned long long)now.tv_nsec / 1000000,
	    &out, cause) == -1 ||
	    ca_write_file(ca_dir(ca), path, out.data, out.len, 0644,
	    cause) == -1)
		goto out;
	log_debug("wrote %s: %zu certificates from %s and %s", path, n,
	    srcs[0] != NULL ? srcs[0] : "no system store", srcs[1]);
	rv = path;
	path = NULL;

out:
	for (i = 0; i < n; i++) {
		free((char *)certs[i].alias);
		OPENSSL_free((unsigned char *)certs[i].der);
	}
	free(certs);
	buf_free(&out);
	free(store);
	free(pem);
	free(path);
	return rv;
}
