/*
 * ca: patchscope's certificate authority itself: its directory, its key and
 * its certificate, the trust bundle made from them, and the struct ca that
 * the rest of the module hangs from. The leaves it mints live in ca_leaf.c,
 * the TLS server side of intercepted connections in ca_tls.c.
 *
 * The CA lives in one directory (0700): ca-key.pem (PKCS#8 PEM, 0600) and
 * ca.pem. ca_open loads the pair, or creates both when neither exists; it
 * never pairs an old file with a new one, and never uses a key that other
 * users can read. Every file is written as FILE.tmp, synced and renamed, so
 * a crash leaves the old file or the new one, never half of one.
 *
 * Ownership: struct ca owns the CA certificate and key, the leaf cache
 * (which holds its own references to both) and the server SSL_CTX, whose
 * handshakes borrow the cache; ca_free frees the SSL_CTX before the cache.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "ca_local.h"
#include "log.h"
#include "xmalloc.h"

#define CA_VALID_DAYS		3650	/* ten years */
#define CA_BACKDATE_SECS	3600	/* for clocks that are behind */
#define CA_SERIAL_BITS		128
#define CA_CN_PREFIX		"patchscope interception CA ("
#define CA_KEY_FILE_MAX		(64 * 1024)

/* The CA certificate's extensions; SKI before AKI, which copies it. */
static const struct ca_ext ca_root_exts[] = {
	{ NID_basic_constraints,	"critical,CA:TRUE" },
	{ NID_key_usage,		"critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier,	"hash" },
	{ NID_authority_key_identifier,	"keyid:always" },
};

/* The CA: its files, its key pair, and what it lends the other files. */
struct ca {
	char			*dir;
	char			*cert_path;
	char			*key_path;
	char			*bundle_path;
	X509			*cert;
	EVP_PKEY		*key;
	struct ca_leaf_cache	*leaves;
	SSL_CTX			*server_ctx;
};

/* Describe OpenSSL's latest error for a person, and clear the queue. */
const char *
ca_ssl_error(void)
{
	unsigned long	 e;
	const char	*reason;

	e = ERR_peek_last_error();
	ERR_clear_error();
	reason = e == 0 ? NULL : ERR_reason_error_string(e);
	return reason != NULL ? reason : "unknown OpenSSL error";
}

/* Copy s into buf for a message: non-printable bytes become '?'. */
void
ca_printable(const char *s, char *buf, size_t size)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"')
			buf[i] = '?';
		else
			buf[i] = s[i];
	}
	buf[i] = '\0';
	/* Show that a long name was cut. */
	if (s[i] != '\0' && size > 4)
		memcpy(buf + size - 4, "...", 4);
}

/*
 * Start a v3 certificate for pubkey: a random serial, subject, validity from
 * an hour ago for days, but never past the issuer's end. With issuer NULL
 * the certificate is self-issued.
 */
X509 *
ca_cert_new(const X509_NAME *subject, EVP_PKEY *pubkey, X509 *issuer,
    int days)
{
	X509		*x;
	BIGNUM		*bn;
	const X509_NAME	*iname;
	int		 ok = 0;

	x = X509_new();
	bn = BN_new();
	if (x == NULL || bn == NULL)
		goto out;
	iname = issuer == NULL ? subject : X509_get_subject_name(issuer);

	/* 128 random bits, the top one set: positive, never zero. */
	if (BN_rand(bn, CA_SERIAL_BITS, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, iname) != 1 ||
	    X509_set_pubkey(x, pubkey) != 1)
		goto out;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -CA_BACKDATE_SECS) ==
	    NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL)
		goto out;
	if (issuer != NULL && ASN1_TIME_compare(X509_get0_notAfter(x),
	    X509_get0_notAfter(issuer)) > 0 &&
	    X509_set1_notAfter(x, X509_get0_notAfter(issuer)) != 1)
		goto out;
	ok = 1;

out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* Add exts to x and sign it with key (issuer NULL: x signs itself). */
int
ca_cert_sign(X509 *x, X509 *issuer, EVP_PKEY *key, const struct ca_ext *exts,
    size_t n)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	size_t		 i;
	int		 added;

	X509V3_set_ctx(&ctx, issuer == NULL ? x : issuer, x, NULL, NULL, 0);
	for (i = 0; i < n; i++) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid,
		    exts[i].value);
		if (ext == NULL)
			return -1;
		added = X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		if (added != 1)
			return -1;
	}
	if (X509_sign(x, key, EVP_sha256()) == 0)
		return -1;
	return 0;
}

/* Encode x as a PEM string (caller frees). */
int
ca_x509_pem(X509 *x, char **pem)
{
	BIO	*bio;
	char	*data;
	long	 len;
	int	 rc = -1;

	*pem = NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
		goto out;
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0)
		goto out;
	*pem = xstrndup(data, (size_t)len);
	rc = 0;

out:
	BIO_free(bio);
	return rc;
}

/* Answer OpenSSL's question for a passphrase: there is none. */
static int
ca_no_password_cb(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* Load the CA key; refuse one that other users may read or change. */
static EVP_PKEY *
ca_load_key(struct ca *ca, char **cause)
{
	struct stat	 st;
	EVP_PKEY	*key = NULL;
	BIO		*bio = NULL;
	char		*data = NULL;
	size_t		 len = 0;
	int		 fd;

	fd = open(ca->key_path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		*cause = xasprintf("cannot open %s: %s", ca->key_path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("cannot read %s: %s", ca->key_path,
		    strerror(errno));
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		*cause = xasprintf("%s is %s by other users (mode %04o); "
		    "run chmod 600 %s", ca->key_path,
		    (st.st_mode & (S_IRGRP | S_IROTH)) != 0 ? "readable" :
		    "accessible", (unsigned)(st.st_mode & 07777),
		    ca->key_path);
		goto out;
	}
	if (ca_read_fd(fd, ca->key_path, CA_KEY_FILE_MAX, &data, &len,
	    cause) == -1)
		goto out;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, ca_no_password_cb,
		    NULL);
	if (key == NULL)
		*cause = xasprintf("cannot load the CA key %s (%s): it must be "
		    "an unencrypted PEM private key; restore it, or delete it "
		    "and %s to make a new CA", ca->key_path, ca_ssl_error(),
		    ca->cert_path);

out:
	BIO_free(bio);
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	if (fd != -1)
		close(fd);
	return key;
}

/* Load ca.pem and ca-key.pem and check that they make a usable CA. */
static int
ca_load(struct ca *ca, char **cause)
{
	BIO	*bio;

	ca->key = ca_load_key(ca, cause);
	if (ca->key == NULL)
		return -1;
	bio = BIO_new_file(ca->cert_path, "r");
	if (bio == NULL) {
		*cause = xasprintf("cannot open %s: %s", ca->cert_path,
		    strerror(errno));
		ERR_clear_error();
		return -1;
	}
	ca->cert = PEM_read_bio_X509(bio, NULL, ca_no_password_cb, NULL);
	BIO_free(bio);
	if (ca->cert == NULL) {
		*cause = xasprintf("cannot load the CA certificate %s (%s): "
		    "it must be a PEM certificate; restore it, or delete it "
		    "and %s to make a new CA", ca->cert_path, ca_ssl_error(),
		    ca->key_path);
		return -1;
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		*cause = xasprintf("%s and %s do not match (the key is not "
		    "the certificate's); restore the right pair, or delete "
		    "both to make a new CA", ca->cert_path, ca->key_path);
		return -1;
	}
	if (X509_check_ca(ca->cert) == 0) {
		*cause = xasprintf("%s is not a CA certificate; delete it and "
		    "%s to make a new CA", ca->cert_path, ca->key_path);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(ca->cert)) < 0) {
		*cause = xasprintf("the CA certificate %s has expired; delete "
		    "it and %s to make a new CA, then trust the new one",
		    ca->cert_path, ca->key_path);
		return -1;
	}
	return 0;
}

/* Write "user@host" into buf, printable ASCII only, for the CA's name. */
static void
ca_who(char *buf, size_t size)
{
	struct passwd	*pw;
	const char	*user;
	char		 host[256], raw[512];

	pw = getpwuid(getuid());
	user = pw != NULL ? pw->pw_name : getenv("USER");
	if (user == NULL || *user == '\0')
		user = "unknown";
	if (gethostname(host, sizeof host) == -1)
		strcpy(host, "unknown");
	host[sizeof host - 1] = '\0';
	snprintf(raw, sizeof raw, "%s@%s", user, host);
	ca_printable(raw, buf, size);
}


/* Generate the CA key and its self-signed certificate, in memory. */
static int
ca_make(struct ca *ca, char **cause)
{
	X509_NAME	*name;
	char		 cn[CA_CN_MAX + 1];
	char		 who[CA_CN_MAX + 1 - (sizeof CA_CN_PREFIX - 1) - 1];
	int		 rc = -1;

	ca->key = EVP_EC_gen(CA_CURVE);
	name = X509_NAME_new();
	if (ca->key == NULL || name == NULL)
		goto out;

	/* A name that tells a person what this is and where it came from. */
	ca_who(who, sizeof who);
	snprintf(cn, sizeof cn, "%s%s)", CA_CN_PREFIX, who);
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_organizationName,
	    MBSTRING_ASC, (const unsigned char *)"patchscope", -1, -1, 0) != 1)
		goto out;
	ca->cert = ca_cert_new(name, ca->key, NULL, CA_VALID_DAYS);
	if (ca->cert == NULL || ca_cert_sign(ca->cert, NULL, ca->key,
	    ca_root_exts, CA_NITEMS(ca_root_exts)) == -1)
		goto out;
	rc = 0;

out:
	if (rc == -1)
		*cause = xasprintf("cannot make a CA: %s", ca_ssl_error());
	X509_NAME_free(name);
	return rc;
}

/*
 * Write the new CA's key (0600) and certificate. Both are complete on disk
 * before either is renamed into place, and a failure removes what this call
 * wrote, so the directory ends with both files or neither (short of a crash
 * between the two renames).
 */
static int
ca_save(struct ca *ca, char **cause)
{
	BIO	*kbio;
	char	*kdata = NULL, *cpem = NULL;
	long	 klen = 0;
	int	 rc = -1, committed = 0;

	/* A secure-heap BIO: OpenSSL wipes its buffer when it is freed. */
	kbio = BIO_new(BIO_s_secmem());
	if (kbio == NULL || PEM_write_bio_PrivateKey(kbio, ca->key, NULL,
	    NULL, 0, NULL, NULL) != 1 || ca_x509_pem(ca->cert, &cpem) == -1) {
		*cause = xasprintf("cannot encode the new CA: %s",
		    ca_ssl_error());
		goto out;
	}
	klen = BIO_get_mem_data(kbio, &kdata);
	if (ca_write_tmp(ca->key_path, kdata, (size_t)klen, 0600,
	    cause) == -1 ||
	    ca_write_tmp(ca->cert_path, cpem, strlen(cpem), 0644,
	    cause) == -1 ||
	    ca_commit(ca->key_path, cause) == -1)
		goto out;
	committed = 1;
	if (ca_commit(ca->cert_path, cause) == -1)
		goto out;
	ca_sync_dir(ca->dir);
	rc = 0;

out:
	if (rc == -1) {
		ca_unlink_tmp(ca->key_path);
		ca_unlink_tmp(ca->cert_path);
		if (committed)
			unlink(ca->key_path);
	}
	if (kdata != NULL && klen > 0)
		OPENSSL_cleanse(kdata, (size_t)klen);
	BIO_free(kbio);
	free(cpem);
	return rc;
}

/*
 * Create dir (0700, whatever the umask) when it is missing; its parent must
 * exist. Refuse a path that exists but is not a directory.
 */
static int
ca_mkdir(const char *dir, char **cause)
{
	struct stat	 st;
	char		*copy;
	int		 saved;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			*cause = xasprintf("%s is not a directory; choose "
			    "another CA directory (--ca-dir)", dir);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		*cause = xasprintf("cannot use CA directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (mkdir(dir, 0700) == -1) {
		saved = errno;
		copy = xstrdup(dir);
		if (saved == ENOENT)
			*cause = xasprintf("cannot create CA directory %s: "
			    "%s does not exist; create it first or choose "
			    "another directory", dir, dirname(copy));
		else
			*cause = xasprintf("cannot create CA directory %s: %s",
			    dir, strerror(saved));
		free(copy);
		return -1;
	}
	if (chmod(dir, 0700) == -1) {
		*cause = xasprintf("cannot set the mode of %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Does path exist? 1 or 0, or -1 with *cause set when stat fails. */
static int
ca_exists(const char *path, char **cause)
{
	struct stat	st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	*cause = xasprintf("cannot use %s: %s", path, strerror(errno));
	return -1;
}

/* Return the CA directory: dir, $PATCHSCOPE_HOME or ~/.patchscope. */
char *
ca_default_dir(const char *dir)
{
	const char	*home;
	struct passwd	*pw;

	if (dir != NULL)
		return xstrdup(dir);
	home = getenv("PATCHSCOPE_HOME");
	if (home != NULL && *home != '\0')
		return xstrdup(home);
	home = getenv("HOME");
	if (home == NULL || *home == '\0') {
		pw = getpwuid(getuid());
		if (pw == NULL || pw->pw_dir == NULL || *pw->pw_dir == '\0')
			return NULL;
		home = pw->pw_dir;
	}
	return xasprintf("%s/.patchscope", home);
}

/* Load or create the CA in dir. */
struct ca *
ca_open(const char *dir, size_t max_leaves, char **cause)
{
	struct ca	*ca;
	int		 dfd = -1, have_key, have_cert;

	*cause = NULL;
	if (dir == NULL || *dir == '\0') {
		*cause = xstrdup("no CA directory: set PATCHSCOPE_HOME or "
		    "HOME, or pass --ca-dir DIR");
		return NULL;
	}
	if (ca_tls_init(cause) == -1)
		return NULL;
	ca = xcalloc(1, sizeof *ca);
	ca->dir = xstrdup(dir);
	ca->cert_path = xasprintf("%s/%s", dir, CA_CERT_FILE);
	ca->key_path = xasprintf("%s/%s", dir, CA_KEY_FILE);
	ca->bundle_path = xasprintf("%s/%s", dir, CA_BUNDLE_FILE);

	if (ca_mkdir(dir, cause) == -1)
		goto fail;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		*cause = xasprintf("cannot open CA directory %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	/*
	 * Another patchscope may be creating this CA right now: take turns.
	 * A file system without locks only loses that protection.
	 */
	if (flock(dfd, LOCK_EX) == -1)
		log_debug("cannot lock %s: %s", dir, strerror(errno));

	have_key = ca_exists(ca->key_path, cause);
	if (have_key == -1)
		goto fail;
	have_cert = ca_exists(ca->cert_path, cause);
	if (have_cert == -1)
		goto fail;
	if (have_key && have_cert) {
		if (ca_load(ca, cause) == -1)
			goto fail;
	} else if (!have_key && !have_cert) {
		if (ca_make(ca, cause) == -1 || ca_save(ca, cause) == -1)
			goto fail;
		log_info("created a new CA: %s (clients must trust it to "
		    "accept patchscope's certificates)", ca->cert_path);
	} else {
		*cause = xasprintf("%s exists but %s is missing: restore it, "
		    "or delete %s to make a new CA (clients must then trust "
		    "the new %s)", have_key ? ca->key_path : ca->cert_path,
		    have_key ? ca->cert_path : ca->key_path,
		    have_key ? ca->key_path : ca->cert_path, CA_CERT_FILE);
		goto fail;
	}
	ca->leaves = ca_leaf_cache_new(ca->cert, ca->key, max_leaves, cause);
	if (ca->leaves == NULL)
		goto fail;
	ca->server_ctx = ca_tls_ctx_new(ca->leaves, cause);
	if (ca->server_ctx == NULL)
		goto fail;
	close(dfd);
	return ca;

fail:
	if (dfd != -1)
		close(dfd);
	ca_free(ca);
	return NULL;
}

/* Free the CA, its cache and its SSL_CTX. */
void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	/* The SSL_CTX's handshakes use the cache: it goes first. */
	SSL_CTX_free(ca->server_ctx);
	ca_leaf_cache_free(ca->leaves);
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->bundle_path);
	free(ca->key_path);
	free(ca->cert_path);
	free(ca->dir);
	free(ca);
}

/* Return the CA's directory. */
const char *
ca_dir(const struct ca *ca)
{
	return ca->dir;
}

/* Return the CA certificate. */
X509 *
ca_cert(const struct ca *ca)
{
	return ca->cert;
}

/* Return the path of ca.pem. */
const char *
ca_cert_path(const struct ca *ca)
{
	return ca->cert_path;
}

/* Write DIR/bundle.pem: the system trust store, then the CA. */
const char *
ca_write_bundle(struct ca *ca, char **cause)
{
	const char	*found = NULL, *rv = NULL;
	char		*store = NULL, *pem = NULL, *all;
	size_t		 len = 0, plen;
	int		 r;

	*cause = NULL;
	found = ca_system_store(&store, &len);
	if (ca_x509_pem(ca->cert, &pem) == -1) {
		*cause = xasprintf("cannot encode %s: %s", ca->cert_path,
		    ca_ssl_error());
		goto out;
	}

	/* The store, a newline if it lacks one, then the CA. */
	plen = strlen(pem);
	all = xmalloc(len + 1 + plen + 1);
	if (len > 0)
		memcpy(all, store, len);
	if (len > 0 && store[len - 1] != '\n')
		all[len++] = '\n';
	memcpy(all + len, pem, plen + 1);
	r = ca_write_file(ca->dir, ca->bundle_path, all, len + plen, 0644,
	    cause);
	free(all);
	if (r == -1)
		goto out;
	if (found == NULL)
		log_warnx("no system trust store found (looked for %s): %s "
		    "holds only the patchscope CA, so tools given it trust no "
		    "other site", CA_SYSTEM_STORES, ca->bundle_path);
	else
		log_debug("wrote %s from %s and %s", ca->bundle_path, found,
		    ca->cert_path);
	rv = ca->bundle_path;

out:
	free(store);
	free(pem);
	return rv;
}

/* Return the server SSL_CTX of intercepted connections. */
SSL_CTX *
ca_server_ctx(struct ca *ca)
{
	return ca->server_ctx;
}

/* Return the PEM of host's leaf, minting it if needed. */
int
ca_leaf_pem(struct ca *ca, const char *host, char **pem, char **cause)
{
	X509	*x;

	*pem = NULL;
	x = ca_leaf_get(ca->leaves, host, cause);
	if (x == NULL)
		return -1;
	if (ca_x509_pem(x, pem) == -1) {
		*cause = xasprintf("cannot encode the certificate for %s: %s",
		    host, ca_ssl_error());
		return -1;
	}
	return 0;
}

/* Return the number of cached leaves. */
size_t
ca_cached_leaves(const struct ca *ca)
{
	return ca_leaf_count(ca->leaves);
}
