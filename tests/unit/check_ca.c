/*
 * Unit tests for ca: creating and loading the CA, refusing unsafe or broken
 * files, minting leaves (fields checked with OpenSSL), the leaf cache, the
 * trust bundle, whole handshakes over an in-memory BIO pair, and
 * ca_accept over a socket pair in an event loop.
 *
 * Every test works in its own directory under one root that main makes and
 * removes (kept, and named, when a test fails).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "log.h"

/* Parent of every test's directory, made by main. */
static char	*test_root;

/* Make a fresh directory for one test (caller frees the path). */
static char *
test_dir(void)
{
	char	*d;

	d = malloc(PATH_MAX);
	ck_assert_ptr_nonnull(d);
	snprintf(d, PATH_MAX, "%s/t.XXXXXX", test_root);
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a test directory and everything in it. */
static void
rm_tree(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Join dir and name (caller frees). */
static char *
path_in(const char *dir, const char *name)
{
	char	*p;

	p = malloc(PATH_MAX);
	ck_assert_ptr_nonnull(p);
	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

/* Read a whole file into a NUL-terminated string (caller frees). */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

/* Write a file with mode. */
static void
spew(const char *path, const char *data, mode_t mode)
{
	FILE	*f;

	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fputs(data, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static mode_t
mode_of(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Open a CA that must open. */
static struct ca *
open_ok(const char *dir, size_t max_leaves)
{
	struct ca	*ca;
	char		*cause = NULL;

	ca = ca_open(dir, max_leaves, &cause);
	ck_assert_msg(ca != NULL, "ca_open: %s", cause);
	ck_assert_ptr_null(cause);
	return ca;
}

/* Open a CA that must be refused; return the cause (caller frees). */
static char *
open_refused(const char *dir)
{
	struct ca	*ca;
	char		*cause = NULL;

	ca = ca_open(dir, 10, &cause);
	ck_assert_ptr_null(ca);
	ck_assert_ptr_nonnull(cause);
	return cause;
}

static X509 *
pem_to_x509(const char *pem)
{
	BIO	*bio;
	X509	*x;

	bio = BIO_new_mem_buf(pem, -1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ck_assert_ptr_nonnull(x);
	return x;
}

static X509 *
read_cert(const char *path)
{
	X509	*x;
	char	*pem;

	pem = slurp(path, NULL);
	x = pem_to_x509(pem);
	free(pem);
	return x;
}

/* Mint host's leaf and parse it. */
static X509 *
leaf(struct ca *ca, const char *host)
{
	char	*pem = NULL, *cause = NULL;
	X509	*x;

	ck_assert_msg(ca_leaf_pem(ca, host, &pem, &cause) == 0,
	    "ca_leaf_pem(%s): %s", host, cause);
	x = pem_to_x509(pem);
	free(pem);
	return x;
}

/* Verify x against ca as a TLS server for dns or ip; X509_V_OK if good. */
static int
verify(X509 *x, X509 *ca, const char *dns, const char *ip)
{
	X509_STORE		*store;
	X509_STORE_CTX		*ctx;
	X509_VERIFY_PARAM	*param;
	int			 err;

	store = X509_STORE_new();
	X509_STORE_add_cert(store, ca);
	ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, x, NULL);
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	if (dns != NULL)
		X509_VERIFY_PARAM_set1_host(param, dns, 0);
	if (ip != NULL)
		X509_VERIFY_PARAM_set1_ip_asc(param, ip);
	err = X509_verify_cert(ctx) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return err;
}

/* The only SAN entry of x, which must be of type. */
static const ASN1_STRING *
only_san(X509 *x, int type, GENERAL_NAMES **keep)
{
	GENERAL_NAMES	*san;
	GENERAL_NAME	*gn;

	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	ck_assert_ptr_nonnull(san);
	ck_assert_int_eq(sk_GENERAL_NAME_num(san), 1);
	gn = sk_GENERAL_NAME_value(san, 0);
	ck_assert_int_eq(gn->type, type);
	*keep = san;
	return type == GEN_DNS ? gn->d.dNSName : gn->d.iPAddress;
}

/* Write dir/ca.pem: a certificate for dir's CA key, not a CA or expired. */
static void
replace_cert(const char *dir, int is_ca, long valid_secs)
{
	X509		*x;
	X509_NAME	*name;
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;
	EVP_PKEY	*key;
	FILE		*f;
	char		*kpath, *cpath;

	kpath = path_in(dir, CA_KEY_FILE);
	cpath = path_in(dir, CA_CERT_FILE);
	f = fopen(kpath, "r");
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(key);
	x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"not the CA", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), -2 * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), valid_secs);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ck_assert_int_ne(X509_sign(x, key, EVP_sha256()), 0);
	f = fopen(cpath, "w");
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
	free(kpath);
	free(cpath);
}

START_TEST(open_creates_private_dir_key_and_ca_cert)
{
	char			*root, *dir, *kpath;
	struct ca		*ca;
	X509			*x;
	EVP_PKEY		*pub;
	BASIC_CONSTRAINTS	*bc;
	BIGNUM			*serial;
	char			 cn[128];
	int			 crit = -1, days, secs;
	mode_t			 old;

	root = test_dir();
	dir = path_in(root, "ca");
	/* The modes must not depend on the umask. */
	old = umask(0);
	ca = open_ok(dir, 10);
	umask(old);
	ck_assert_uint_eq(mode_of(dir), 0700);
	kpath = path_in(dir, CA_KEY_FILE);
	ck_assert_uint_eq(mode_of(kpath), 0600);
	ck_assert_str_eq(strrchr(ca_cert_path(ca), '/'), "/" CA_CERT_FILE);

	x = read_cert(ca_cert_path(ca));
	ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	ck_assert_ptr_nonnull(bc);
	ck_assert_int_ne(bc->ca, 0);
	ck_assert_int_eq(crit, 1);
	BASIC_CONSTRAINTS_free(bc);
	ck_assert_int_eq(X509_get_ext_by_critical(x, 1, -1) >= 0, 1);
	ck_assert(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
	ck_assert(X509_get_key_usage(x) & KU_CRL_SIGN);
	ck_assert_ptr_nonnull(X509_get0_subject_key_id(x));
	ck_assert_ptr_nonnull(X509_get0_authority_key_id(x));
	ck_assert_int_eq(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x),
	    X509_get0_authority_key_id(x)), 0);

	/* Self-signed with an ECDSA P-256 key and SHA-256. */
	pub = X509_get0_pubkey(x);
	ck_assert(EVP_PKEY_is_a(pub, "EC"));
	ck_assert_int_eq(EVP_PKEY_get_bits(pub), 256);
	ck_assert_int_eq(X509_verify(x, pub), 1);
	ck_assert_int_eq(X509_check_issued(x, x), X509_V_OK);
	ck_assert_int_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);

	/* A name that says what it is. */
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, sizeof cn);
	ck_assert_ptr_nonnull(strstr(cn, "patchscope"));
	ck_assert_uint_le(strlen(cn), 64);

	/* A positive 128-bit serial; valid from before now for ten years. */
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	ck_assert_int_eq(BN_num_bits(serial), 128);
	ck_assert(!BN_is_negative(serial));
	BN_free(serial);
	ck_assert_int_lt(X509_cmp_current_time(X509_get0_notBefore(x)), 0);
	ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x));
	ck_assert_int_ge(days, 3650);
	ck_assert_int_le(days, 3652);

	X509_free(x);
	ca_free(ca);
	rm_tree(root);
	free(kpath);
	free(dir);
	free(root);
}
END_TEST

START_TEST(open_leaves_no_temporary_files)
{
	char		*dir, *tmp, *tmp2;
	struct ca	*ca;

	dir = test_dir();
	/* As a crash during an earlier creation would have left it. */
	tmp = path_in(dir, CA_KEY_FILE ".tmp");
	spew(tmp, "half a key", 0600);
	ca = open_ok(dir, 10);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	tmp2 = path_in(dir, CA_CERT_FILE ".tmp");
	ck_assert_int_eq(access(tmp2, F_OK), -1);
	ca_free(ca);
	rm_tree(dir);
	free(tmp);
	free(tmp2);
	free(dir);
}
END_TEST

START_TEST(reopen_loads_the_same_ca)
{
	char		*dir, *before, *after, *kbefore, *kafter, *kpath;
	struct ca	*ca;
	X509		*first, *x;

	dir = test_dir();
	ca = open_ok(dir, 10);
	before = slurp(ca_cert_path(ca), NULL);
	kpath = path_in(dir, CA_KEY_FILE);
	kbefore = slurp(kpath, NULL);
	ca_free(ca);

	ca = open_ok(dir, 10);
	after = slurp(ca_cert_path(ca), NULL);
	kafter = slurp(kpath, NULL);
	ck_assert_str_eq(before, after);
	ck_assert_str_eq(kbefore, kafter);

	/* Leaves of the reopened CA verify against the first certificate. */
	first = pem_to_x509(before);
	x = leaf(ca, "again.example.test");
	ck_assert_int_eq(verify(x, first, "again.example.test", NULL),
	    X509_V_OK);
	X509_free(x);
	X509_free(first);
	ca_free(ca);
	rm_tree(dir);
	free(before);
	free(after);
	OPENSSL_cleanse(kbefore, strlen(kbefore));
	OPENSSL_cleanse(kafter, strlen(kafter));
	free(kbefore);
	free(kafter);
	free(kpath);
	free(dir);
}
END_TEST

START_TEST(open_refuses_key_readable_by_others)
{
	char		*dir, *kpath, *cause, want[PATH_MAX + 32];
	struct ca	*ca;

	dir = test_dir();
	ca = open_ok(dir, 10);
	ca_free(ca);
	kpath = path_in(dir, CA_KEY_FILE);
	ck_assert_int_eq(chmod(kpath, 0644), 0);
	cause = open_refused(dir);
	ck_assert_ptr_nonnull(strstr(cause, "readable by other users"));
	ck_assert_ptr_nonnull(strstr(cause, "0644"));
	snprintf(want, sizeof want, "chmod 600 %s", kpath);
	ck_assert_msg(strstr(cause, want) != NULL, "cause: %s", cause);
	free(cause);

	/* Group write is refused too. */
	ck_assert_int_eq(chmod(kpath, 0620), 0);
	cause = open_refused(dir);
	ck_assert_ptr_nonnull(strstr(cause, "chmod 600"));
	free(cause);

	ck_assert_int_eq(chmod(kpath, 0600), 0);
	ca = open_ok(dir, 10);
	ca_free(ca);
	rm_tree(dir);
	free(kpath);
	free(dir);
}
END_TEST

START_TEST(open_refuses_one_file_without_the_other)
{
	char		*dir, *kpath, *cpath, *cause, *key;
	struct ca	*ca;

	dir = test_dir();
	ca = open_ok(dir, 10);
	ca_free(ca);
	kpath = path_in(dir, CA_KEY_FILE);
	cpath = path_in(dir, CA_CERT_FILE);

	/* Key without certificate. */
	ck_assert_int_eq(unlink(cpath), 0);
	cause = open_refused(dir);
	ck_assert_msg(strstr(cause, CA_CERT_FILE " is missing") != NULL,
	    "cause: %s", cause);
	ck_assert_ptr_nonnull(strstr(cause, "delete"));
	ck_assert_ptr_nonnull(strstr(cause, kpath));
	free(cause);
	/* Nothing was created behind our back. */
	ck_assert_int_eq(access(cpath, F_OK), -1);

	/* Certificate without key. */
	key = slurp(kpath, NULL);
	ck_assert_int_eq(unlink(kpath), 0);
	spew(cpath, "-----BEGIN CERTIFICATE-----\n", 0644);
	cause = open_refused(dir);
	ck_assert_msg(strstr(cause, CA_KEY_FILE " is missing") != NULL,
	    "cause: %s", cause);
	ck_assert_ptr_nonnull(strstr(cause, cpath));
	free(cause);
	ck_assert_int_eq(access(kpath, F_OK), -1);

	OPENSSL_cleanse(key, strlen(key));
	free(key);
	rm_tree(dir);
	free(kpath);
	free(cpath);
	free(dir);
}
END_TEST

START_TEST(open_refuses_garbage_key_and_cert)
{
	char		*dir, *kpath, *cpath, *cause, *good;
	struct ca	*ca;

	dir = test_dir();
	ca = open_ok(dir, 10);
	ca_free(ca);
	kpath = path_in(dir, CA_KEY_FILE);
	cpath = path_in(dir, CA_CERT_FILE);

	good = slurp(kpath, NULL);
	spew(kpath, "this is not a key\n", 0600);
	cause = open_refused(dir);
	ck_assert_ptr_nonnull(strstr(cause, kpath));
	ck_assert_ptr_nonnull(strstr(cause, "PEM private key"));
	free(cause);

	spew(kpath, good, 0600);
	spew(cpath, "this is not a certificate\n", 0644);
	cause = open_refused(dir);
	ck_assert_ptr_nonnull(strstr(cause, cpath));
	ck_assert_ptr_nonnull(strstr(cause, "PEM certificate"));
	free(cause);

	OPENSSL_cleanse(good, strlen(good));
	free(good);
	rm_tree(dir);
	free(kpath);
	free(cpath);
	free(dir);
}
END_TEST

START_TEST(open_refuses_encrypted_key_without_prompting)
{
	char		*dir, *kpath, *cause;
	struct ca	*ca;
	EVP_PKEY	*key;
	FILE		*f;

	dir = test_dir();
	ca = open_ok(dir, 10);
	ca_free(ca);
	kpath = path_in(dir, CA_KEY_FILE);
	f = fopen(kpath, "r");
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(key);
	f = fopen(kpath, "w");
	ck_assert_int_eq(PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(),
	    (const unsigned char *)"secret", 6, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(key);

	cause = open_refused(dir);
	ck_assert_ptr_nonnull(strstr(cause, "unencrypted"));
	free(cause);
	rm_tree(dir);
	free(kpath);
	free(dir);
}
END_TEST

START_TEST(open_refuses_mismatched_pair)
{
	char		*d1, *d2, *k2, *cause, *key;
	struct ca	*ca;

	d1 = test_dir();
	d2 = test_dir();
	ca = open_ok(d1, 10);
	ca_free(ca);
	ca = open_ok(d2, 10);
	ca_free(ca);
	k2 = path_in(d2, CA_KEY_FILE);
	key = slurp(k2, NULL);
	free(k2);
	k2 = path_in(d1, CA_KEY_FILE);
	spew(k2, key, 0600);

	cause = open_refused(d1);
	ck_assert_msg(strstr(cause, "do not match") != NULL, "cause: %s",
	    cause);
	free(cause);
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	rm_tree(d1);
	rm_tree(d2);
	free(k2);
	free(d1);
	free(d2);
}
END_TEST

START_TEST(open_refuses_cert_that_is_no_ca_or_expired)
{
	char		*dir, *cause;
	struct ca	*ca;

	dir = test_dir();
	ca = open_ok(dir, 10);
	ca_free(ca);

	replace_cert(dir, 0, 86400);
	cause = open_refused(dir);
	ck_assert_msg(strstr(cause, "not a CA certificate") != NULL,
	    "cause: %s", cause);
	free(cause);

	replace_cert(dir, 1, -86400);
	cause = open_refused(dir);
	ck_assert_msg(strstr(cause, "expired") != NULL, "cause: %s", cause);
	free(cause);

	/* The same key with a valid CA certificate is accepted. */
	replace_cert(dir, 1, 86400);
	ca = open_ok(dir, 10);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(open_refuses_bad_directories)
{
	char	*root, *dir, *file, *cause;

	root = test_dir();
	dir = path_in(root, "no/such");
	cause = open_refused(dir);
	ck_assert_msg(strstr(cause, "no does not exist") != NULL, "cause: %s",
	    cause);
	free(cause);

	file = path_in(root, "file");
	spew(file, "x", 0600);
	cause = open_refused(file);
	ck_assert_ptr_nonnull(strstr(cause, "not a directory"));
	free(cause);

	cause = open_refused(NULL);
	ck_assert_ptr_nonnull(strstr(cause, "PATCHSCOPE_HOME"));
	free(cause);

	rm_tree(root);
	free(file);
	free(dir);
	free(root);
}
END_TEST

START_TEST(default_dir_prefers_argument_then_env_then_home)
{
	char		*d, want[PATH_MAX];
	struct passwd	*pw;

	setenv("PATCHSCOPE_HOME", "/tmp/ps-home", 1);
	setenv("HOME", "/tmp/user-home", 1);
	d = ca_default_dir("/given");
	ck_assert_str_eq(d, "/given");
	free(d);
	d = ca_default_dir(NULL);
	ck_assert_str_eq(d, "/tmp/ps-home");
	free(d);

	unsetenv("PATCHSCOPE_HOME");
	d = ca_default_dir(NULL);
	ck_assert_str_eq(d, "/tmp/user-home/.patchscope");
	free(d);

	unsetenv("HOME");
	pw = getpwuid(getuid());
	d = ca_default_dir(NULL);
	if (pw != NULL) {
		snprintf(want, sizeof want, "%s/.patchscope", pw->pw_dir);
		ck_assert_str_eq(d, want);
	}
	free(d);
}
END_TEST

START_TEST(leaf_for_dns_name_has_san_eku_and_short_validity)
{
	char			*dir, cn[128];
	struct ca		*ca;
	X509			*cacert, *x;
	GENERAL_NAMES		*keep;
	const ASN1_STRING	*s;
	BASIC_CONSTRAINTS	*bc;
	int			 days, secs, crit = -1;

	dir = test_dir();
	ca = open_ok(dir, 10);
	cacert = read_cert(ca_cert_path(ca));
	x = leaf(ca, "api.example.test");

	s = only_san(x, GEN_DNS, &keep);
	ck_assert_int_eq(ASN1_STRING_length(s), 16);
	ck_assert_int_eq(memcmp(ASN1_STRING_get0_data(s), "api.example.test",
	    16), 0);
	GENERAL_NAMES_free(keep);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, sizeof cn);
	ck_assert_str_eq(cn, "api.example.test");
	ck_assert_int_eq(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(cacert)), 0);

	ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
	ck_assert(X509_get_extension_flags(x) & EXFLAG_XKUSAGE);
	ck_assert(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	ck_assert(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	ck_assert(!(X509_get_key_usage(x) & KU_KEY_CERT_SIGN));
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	ck_assert_ptr_nonnull(bc);
	ck_assert_int_eq(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	ck_assert_int_eq(X509_check_ca(x), 0);
	ck_assert_ptr_nonnull(X509_get0_subject_key_id(x));
	ck_assert_int_eq(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(cacert)), 0);
	ck_assert_int_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	ck_assert(EVP_PKEY_is_a(X509_get0_pubkey(x), "EC"));

	/* Clients refuse leaves valid for more than 398 days. */
	ck_assert_int_lt(X509_cmp_current_time(X509_get0_notBefore(x)), 0);
	ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x));
	ck_assert_int_lt((long)days * 86400 + secs, 398L * 86400);
	ck_assert_int_ge(days, 390);

	ck_assert_int_eq(X509_verify(x, X509_get0_pubkey(cacert)), 1);
	ck_assert_int_eq(verify(x, cacert, "api.example.test", NULL),
	    X509_V_OK);
	ck_assert_int_eq(verify(x, cacert, "other.example.test", NULL),
	    X509_V_ERR_HOSTNAME_MISMATCH);

	X509_free(x);
	X509_free(cacert);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(leaf_serials_are_random_per_host)
{
	char		*dir;
	struct ca	*ca;
	X509		*a, *b;
	BIGNUM		*bn;

	dir = test_dir();
	ca = open_ok(dir, 10);
	a = leaf(ca, "a.example.test");
	b = leaf(ca, "b.example.test");
	ck_assert_int_ne(ASN1_INTEGER_cmp(X509_get0_serialNumber(a),
	    X509_get0_serialNumber(b)), 0);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(a), NULL);
	ck_assert_int_eq(BN_num_bits(bn), 128);
	ck_assert(!BN_is_negative(bn));
	BN_free(bn);
	X509_free(a);
	X509_free(b);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(leaf_for_ip_literals_has_ip_san)
{
	static const unsigned char	 v4[] = { 127, 0, 0, 1 };
	static const unsigned char	 v6[16] = { [15] = 1 };
	char				*dir;
	struct ca			*ca;
	X509				*cacert, *x, *y;
	GENERAL_NAMES			*keep;
	const ASN1_STRING		*s;

	dir = test_dir();
	ca = open_ok(dir, 10);
	cacert = read_cert(ca_cert_path(ca));

	x = leaf(ca, "127.0.0.1");
	s = only_san(x, GEN_IPADD, &keep);
	ck_assert_int_eq(ASN1_STRING_length(s), 4);
	ck_assert_int_eq(memcmp(ASN1_STRING_get0_data(s), v4, 4), 0);
	GENERAL_NAMES_free(keep);
	ck_assert_int_eq(verify(x, cacert, NULL, "127.0.0.1"), X509_V_OK);
	X509_free(x);

	x = leaf(ca, "::1");
	s = only_san(x, GEN_IPADD, &keep);
	ck_assert_int_eq(ASN1_STRING_length(s), 16);
	ck_assert_int_eq(memcmp(ASN1_STRING_get0_data(s), v6, 16), 0);
	GENERAL_NAMES_free(keep);
	ck_assert_int_eq(verify(x, cacert, NULL, "::1"), X509_V_OK);

	/* "[::1]" and "0:0::1" are the same address, and the same leaf. */
	y = leaf(ca, "[::1]");
	ck_assert_int_eq(X509_cmp(x, y), 0);
	X509_free(y);
	y = leaf(ca, "0:0::1");
	ck_assert_int_eq(X509_cmp(x, y), 0);
	X509_free(y);
	ck_assert_uint_eq(ca_cached_leaves(ca), 2);

	X509_free(x);
	X509_free(cacert);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(leaf_names_are_lower_cased_and_cut_to_64_in_cn)
{
	char			*dir, cn[300], longname[200];
	struct ca		*ca;
	X509			*x, *y;
	GENERAL_NAMES		*keep;
	const ASN1_STRING	*s;

	dir = test_dir();
	ca = open_ok(dir, 10);
	x = leaf(ca, "api.example.test");
	y = leaf(ca, "API.Example.TEST.");
	ck_assert_int_eq(X509_cmp(x, y), 0);
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	X509_free(x);
	X509_free(y);

	/* Three 60-letter labels: 182 characters. */
	memset(longname, 'a', 182);
	longname[60] = longname[121] = '.';
	longname[182] = '\0';
	x = leaf(ca, longname);
	s = only_san(x, GEN_DNS, &keep);
	ck_assert_int_eq(ASN1_STRING_length(s), 182);
	GENERAL_NAMES_free(keep);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, sizeof cn);
	ck_assert_uint_eq(strlen(cn), 64);
	ck_assert_int_eq(strncmp(cn, longname, 64), 0);
	X509_free(x);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(leaf_refuses_invalid_host_names)
{
	static const char	*bad[] = {
		"", "a b", "evil\nname", "*.example.test", "a..b", ".a",
		"a/b", "host:443", "fe80::1%eth0", "[127.0.0.1]", "[::1",
		"caf\xc3\xa9.test", "a,DNS:evil.test", "..",
	};
	char		 *dir, *pem, *cause, name[300];
	struct ca	 *ca;
	size_t		  i;

	dir = test_dir();
	ca = open_ok(dir, 10);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pem = NULL;
		cause = NULL;
		ck_assert_msg(ca_leaf_pem(ca, bad[i], &pem, &cause) == -1,
		    "accepted \"%s\"", bad[i]);
		ck_assert_ptr_null(pem);
		ck_assert_ptr_nonnull(cause);
		/* The name is shown, but never a control character. */
		ck_assert_ptr_null(strchr(cause, '\n'));
		free(cause);
	}
	ck_assert_int_eq(ca_leaf_pem(ca, NULL, &pem, &cause), -1);
	free(cause);

	/* 254 characters is one too many; so is a 64-character label. */
	memset(name, 'a', 254);
	for (i = 50; i < 254; i += 50)
		name[i] = '.';
	name[254] = '\0';
	ck_assert_int_eq(ca_leaf_pem(ca, name, &pem, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "253"));
	free(cause);
	name[253] = '\0';
	ck_assert_int_eq(ca_leaf_pem(ca, name, &pem, &cause), 0);
	free(pem);
	memset(name, 'b', 64);
	strcpy(name + 64, ".test");
	ck_assert_int_eq(ca_leaf_pem(ca, name, &pem, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "63"));
	free(cause);

	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

/* The serial of host's leaf, as a number to compare. */
static long
serial_of(struct ca *ca, const char *host)
{
	X509	*x;
	BIGNUM	*bn;
	long	 v;

	x = leaf(ca, host);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	/* 62 of the 128 random bits tell two leaves apart. */
	BN_mask_bits(bn, 62);
	v = (long)BN_get_word(bn);
	BN_free(bn);
	X509_free(x);
	return v;
}

START_TEST(cache_returns_same_leaf_and_evicts_least_recent)
{
	char		*dir;
	struct ca	*ca;
	long		 a, b, c;

	dir = test_dir();
	ca = open_ok(dir, 2);
	ck_assert_uint_eq(ca_cached_leaves(ca), 0);
	a = serial_of(ca, "a.test");
	ck_assert_int_eq(serial_of(ca, "a.test"), a);
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	b = serial_of(ca, "b.test");
	ck_assert_uint_eq(ca_cached_leaves(ca), 2);

	/* a is used again, so c pushes b out, not a. */
	ck_assert_int_eq(serial_of(ca, "a.test"), a);
	c = serial_of(ca, "c.test");
	ck_assert_uint_eq(ca_cached_leaves(ca), 2);
	ck_assert_int_eq(serial_of(ca, "a.test"), a);
	ck_assert_int_eq(serial_of(ca, "c.test"), c);
	ck_assert_int_ne(serial_of(ca, "b.test"), b);
	ck_assert_uint_eq(ca_cached_leaves(ca), 2);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cache_stays_bounded_under_many_hosts)
{
	char		*dir, *pem, *cause, host[64];
	struct ca	*ca;
	int		 i;

	dir = test_dir();
	ca = open_ok(dir, 50);
	for (i = 0; i < 300; i++) {
		snprintf(host, sizeof host, "h%d.test", i % 120);
		ck_assert_int_eq(ca_leaf_pem(ca, host, &pem, &cause), 0);
		free(pem);
		ck_assert_uint_le(ca_cached_leaves(ca), 50);
	}
	ck_assert_uint_eq(ca_cached_leaves(ca), 50);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(bundle_is_system_store_then_ca)
{
	static const char	*store = "/etc/ssl/certs/ca-certificates.crt";
	char			*dir, *cause = NULL, *bundle, *ca_pem, *sys;
	const char		*path;
	struct ca		*ca;
	size_t			 blen, clen, slen;
	mode_t			 old;

	dir = test_dir();
	ca = open_ok(dir, 10);
	old = umask(077);
	path = ca_write_bundle(ca, &cause);
	umask(old);
	ck_assert_msg(path != NULL, "ca_write_bundle: %s", cause);
	ck_assert_str_eq(strrchr(path, '/'), "/" CA_BUNDLE_FILE);
	ck_assert_uint_eq(mode_of(path), 0644);

	bundle = slurp(path, &blen);
	ca_pem = slurp(ca_cert_path(ca), &clen);
	ck_assert_uint_ge(blen, clen);
	ck_assert_str_eq(bundle + blen - clen, ca_pem);
	if (access(store, R_OK) == 0) {
		sys = slurp(store, &slen);
		ck_assert_uint_gt(blen, slen);
		ck_assert_int_eq(memcmp(bundle, sys, slen), 0);
		free(sys);
	}
	free(bundle);

	/* Writing again replaces the file. */
	ck_assert_ptr_nonnull(ca_write_bundle(ca, &cause));
	bundle = slurp(path, &slen);
	ck_assert_uint_eq(slen, blen);
	free(bundle);
	free(ca_pem);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(server_ctx_is_owned_by_the_ca)
{
	char		*dir;
	struct ca	*ca;
	SSL_CTX		*ctx;

	dir = test_dir();
	ca = open_ok(dir, 10);
	ctx = ca_server_ctx(ca);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_eq(ca_server_ctx(ca), ctx);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

/* What a client saw of one in-memory handshake. */
struct hs {
	const char		*sni;		/* the client's SNI */
	const char		*fallback;	/* the CONNECT host */
	const char		*check_host;	/* name to verify */
	const char		*check_ip;	/* IP to verify */
	const unsigned char	*alpn;		/* as on the wire */
	unsigned int		 alpn_len;

	int			 done;		/* both finished */
	long			 verify;
	char			 selected[32];	/* ALPN or "" */
	int			 chain_len;	/* certs sent */
};

static int
hs_step(SSL *ssl, int *done)
{
	int	r, e;

	if (*done)
		return 0;
	r = SSL_do_handshake(ssl);
	if (r == 1) {
		*done = 1;
		return 0;
	}
	e = SSL_get_error(ssl, r);
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Run a handshake between a client and ca's server SSL over a BIO pair. */
static void
handshake(struct ca *ca, struct hs *hs)
{
	SSL_CTX			*cctx;
	SSL			*c, *s;
	BIO			*cb, *sb;
	X509			*cacert;
	const unsigned char	*sel;
	unsigned int		 sellen;
	int			 cdone = 0, sdone = 0, i, failed = 0;

	cctx = SSL_CTX_new(TLS_client_method());
	cacert = read_cert(ca_cert_path(ca));
	X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), cacert);
	X509_free(cacert);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	c = SSL_new(cctx);
	s = SSL_new(ca_server_ctx(ca));
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(s);
	if (hs->sni != NULL)
		SSL_set_tlsext_host_name(c, hs->sni);
	if (hs->check_host != NULL)
		SSL_set1_host(c, hs->check_host);
	if (hs->check_ip != NULL)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c),
		    hs->check_ip);
	if (hs->alpn != NULL)
		ck_assert_int_eq(SSL_set_alpn_protos(c, hs->alpn,
		    hs->alpn_len), 0);
	if (hs->fallback != NULL) {
		/* Set twice: the first copy must be freed, not leaked. */
		ck_assert_int_eq(ca_set_fallback_name(s, "first.test"), 0);
		ck_assert_int_eq(ca_set_fallback_name(s, hs->fallback), 0);
	}
	ck_assert_int_eq(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);

	for (i = 0; i < 50 && !failed && !(cdone && sdone); i++)
		failed = hs_step(c, &cdone) == -1 || hs_step(s, &sdone) == -1;
	hs->done = cdone && sdone;
	hs->verify = SSL_get_verify_result(c);
	SSL_get0_alpn_selected(c, &sel, &sellen);
	ck_assert_uint_lt(sellen, sizeof hs->selected);
	if (sellen > 0)
		memcpy(hs->selected, sel, sellen);
	hs->selected[sellen] = '\0';
	hs->chain_len = SSL_get_peer_cert_chain(c) == NULL ? 0 :
	    sk_X509_num(SSL_get_peer_cert_chain(c));
	ERR_clear_error();
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
}

START_TEST(handshake_with_sni_verifies_and_selects_http11)
{
	static const unsigned char	 alpn[] = "\x02h2\x08http/1.1";
	struct hs			 hs = { 0 };
	char				*dir;
	struct ca			*ca;

	dir = test_dir();
	ca = open_ok(dir, 10);
	hs.sni = "svc.test";
	hs.check_host = "svc.test";
	hs.alpn = alpn;
	hs.alpn_len = sizeof alpn - 1;
	handshake(ca, &hs);
	ck_assert_int_eq(hs.done, 1);
	ck_assert_int_eq(hs.verify, X509_V_OK);
	ck_assert_str_eq(hs.selected, "http/1.1");
	/* The leaf and the CA. */
	ck_assert_int_eq(hs.chain_len, 2);
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);

	/* A second connection takes the leaf from the cache. */
	handshake(ca, &hs);
	ck_assert_int_eq(hs.done, 1);
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(handshake_without_sni_uses_fallback_ip)
{
	struct hs	 hs = { 0 };
	char		*dir;
	struct ca	*ca;

	dir = test_dir();
	ca = open_ok(dir, 10);
	hs.fallback = "127.0.0.1";
	hs.check_ip = "127.0.0.1";
	handshake(ca, &hs);
	ck_assert_int_eq(hs.done, 1);
	ck_assert_int_eq(hs.verify, X509_V_OK);
	/* The client offered no ALPN, so none is selected. */
	ck_assert_str_eq(hs.selected, "");

	hs.fallback = "[::1]";
	hs.check_ip = "::1";
	handshake(ca, &hs);
	ck_assert_int_eq(hs.done, 1);
	ck_assert_int_eq(hs.verify, X509_V_OK);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(handshake_offering_only_h2_completes_without_alpn)
{
	static const unsigned char	 alpn[] = "\x02h2";
	struct hs			 hs = { 0 };
	char				*dir;
	struct ca			*ca;

	dir = test_dir();
	ca = open_ok(dir, 10);
	hs.sni = "h2only.test";
	hs.check_host = "h2only.test";
	hs.alpn = alpn;
	hs.alpn_len = sizeof alpn - 1;
	handshake(ca, &hs);
	ck_assert_int_eq(hs.done, 1);
	ck_assert_int_eq(hs.verify, X509_V_OK);
	ck_assert_str_eq(hs.selected, "");
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(handshake_fails_without_a_usable_name)
{
	struct hs	 hs = { 0 };
	char		*dir;
	struct ca	*ca;

	dir = test_dir();
	ca = open_ok(dir, 10);
	/* Neither SNI nor a fallback name. */
	handshake(ca, &hs);
	ck_assert_int_eq(hs.done, 0);

	/* An SNI name that is not a host name. */
	hs.sni = "bad name!";
	handshake(ca, &hs);
	ck_assert_int_eq(hs.done, 0);
	ck_assert_uint_eq(ca_cached_leaves(ca), 0);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

/* One client of ca_accept over a socket pair, all in one event loop. */
struct acc {
	struct event_base	*base;
	SSL_CTX			*cctx;
	SSL			*c;		/* the client */
	struct event		*cev;		/* the client's socket */
	struct bufferevent	*bev;		/* from ca_accept */
	int			 cdone;		/* the client finished */
	int			 connected;	/* the server finished */
	int			 failed;	/* either side failed */
	char			 why[256];	/* ca_tls_error's words */
};

/* Move the client's handshake on; stop when both sides are done. */
static void
acc_client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct acc	*a = arg;

	(void)fd;
	(void)what;
	if (hs_step(a->c, &a->cdone) == -1)
		a->failed = 1;
	if (a->failed || (a->cdone && a->connected))
		event_base_loopbreak(a->base);
}

/* Note how the server side ended, in ca_tls_error's words on failure. */
static void
acc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct acc	*a = arg;

	if (what & BEV_EVENT_CONNECTED)
		a->connected = 1;
	else {
		a->failed = 1;
		ca_tls_error(bev, a->why, sizeof a->why);
	}
	if (a->failed || (a->cdone && a->connected))
		event_base_loopbreak(a->base);
}

/*
 * Make a socket pair and a client on fds[1] that trusts ca and checks
 * check_host, and send its ClientHello (with sni, when not NULL).
 */
static void
acc_start(struct acc *a, struct ca *ca, int fds[2], const char *sni,
    const char *check_host)
{
	X509	*cacert;

	memset(a, 0, sizeof *a);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_int_eq(evutil_make_socket_nonblocking(fds[0]), 0);
	ck_assert_int_eq(evutil_make_socket_nonblocking(fds[1]), 0);
	a->base = event_base_new();
	ck_assert_ptr_nonnull(a->base);
	a->cctx = SSL_CTX_new(TLS_client_method());
	cacert = read_cert(ca_cert_path(ca));
	X509_STORE_add_cert(SSL_CTX_get_cert_store(a->cctx), cacert);
	X509_free(cacert);
	SSL_CTX_set_verify(a->cctx, SSL_VERIFY_PEER, NULL);
	a->c = SSL_new(a->cctx);
	ck_assert_ptr_nonnull(a->c);
	ck_assert_int_eq(SSL_set_fd(a->c, fds[1]), 1);
	if (sni != NULL)
		SSL_set_tlsext_host_name(a->c, sni);
	SSL_set1_host(a->c, check_host);
	SSL_set_connect_state(a->c);
	a->cev = event_new(a->base, fds[1], EV_READ | EV_PERSIST,
	    acc_client_cb, a);
	event_add(a->cev, NULL);
	ck_assert_int_eq(hs_step(a->c, &a->cdone), 0);
}

/* Hand under to ca_accept as tunnel.c does, and run the loop (10 s at most). */
static void
acc_run(struct acc *a, struct ca *ca, struct bufferevent *under,
    const char *host)
{
	struct timeval	tv = { 10, 0 };

	a->bev = ca_accept(ca, a->base, under, host);
	ck_assert_ptr_nonnull(a->bev);
	bufferevent_setcb(a->bev, NULL, NULL, acc_event_cb, a);
	bufferevent_enable(a->bev, EV_READ | EV_WRITE);
	under = bufferevent_get_underlying(a->bev);
	if (under != NULL &&
	    evbuffer_get_length(bufferevent_get_input(under)) > 0)
		bufferevent_trigger(under, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS);
	event_base_loopexit(a->base, &tv);
	event_base_dispatch(a->base);
}

/* Stop reading once the socket bufferevent holds something. */
static void
acc_read_cb(struct bufferevent *bev, void *arg)
{
	bufferevent_disable(bev, EV_READ);
	event_base_loopbreak(arg);
}

/* Free the client and the server side; the loop runs their finalizers. */
static void
acc_end(struct acc *a, int cfd)
{
	bufferevent_free(a->bev);
	event_free(a->cev);
	SSL_free(a->c);
	SSL_CTX_free(a->cctx);
	close(cfd);
	event_base_free(a->base);
}

START_TEST(cache_of_zero_holds_one_leaf)
{
	char		*dir;
	struct ca	*ca;
	long		 a;

	dir = test_dir();
	ca = open_ok(dir, 0);
	a = serial_of(ca, "a.test");
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	ck_assert_int_eq(serial_of(ca, "a.test"), a);
	serial_of(ca, "b.test");
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	/* b pushed a out: a is minted again, with a new serial. */
	ck_assert_int_ne(serial_of(ca, "a.test"), a);
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(accept_on_a_bare_socket_presents_the_connect_host)
{
	struct acc		 a;
	struct bufferevent	*under;
	char			*dir, *pem = NULL, *cause = NULL;
	struct ca		*ca;
	X509			*x;
	int			 fds[2];

	dir = test_dir();
	ca = open_ok(dir, 1);
	/* No SNI: the CONNECT host given to ca_accept names the leaf. */
	acc_start(&a, ca, fds, NULL, "accept.test");
	under = bufferevent_socket_new(a.base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	ck_assert_ptr_nonnull(under);
	acc_run(&a, ca, under, "accept.test");
	ck_assert_msg(!a.failed, "handshake failed: %s", a.why);
	ck_assert_int_eq(a.cdone, 1);
	ck_assert_int_eq(a.connected, 1);
	ck_assert_int_eq(SSL_get_verify_result(a.c), X509_V_OK);
	/* Nothing was buffered, so TLS sits on the socket itself. */
	ck_assert_ptr_null(bufferevent_get_underlying(a.bev));

	/* A cache of one evicts the leaf; the SSL keeps its own copy. */
	ck_assert_int_eq(ca_leaf_pem(ca, "other.test", &pem, &cause), 0);
	free(pem);
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	x = SSL_get_certificate(bufferevent_openssl_get_ssl(a.bev));
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_check_host(x, "accept.test", 0, 0, NULL), 1);
	acc_end(&a, fds[1]);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(accept_keeps_a_client_hello_already_read)
{
	struct acc		 a;
	struct bufferevent	*under;
	struct timeval		 tv = { 10, 0 };
	char			*dir;
	struct ca		*ca;
	int			 fds[2];

	dir = test_dir();
	ca = open_ok(dir, 10);
	/* SNI, when sent, wins over the CONNECT host. */
	acc_start(&a, ca, fds, "hello.test", "hello.test");
	/*
	 * The ClientHello came right behind the CONNECT: the socket
	 * bufferevent has read it before ca_accept is called.
	 */
	under = bufferevent_socket_new(a.base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	ck_assert_ptr_nonnull(under);
	bufferevent_setcb(under, acc_read_cb, NULL, NULL, a.base);
	bufferevent_enable(under, EV_READ);
	event_base_loopexit(a.base, &tv);
	event_base_dispatch(a.base);
	ck_assert_uint_gt(evbuffer_get_length(bufferevent_get_input(under)),
	    0);
	acc_run(&a, ca, under, "connect.test");
	ck_assert_msg(!a.failed, "handshake failed: %s", a.why);
	ck_assert_int_eq(a.cdone, 1);
	ck_assert_int_eq(a.connected, 1);
	ck_assert_int_eq(SSL_get_verify_result(a.c), X509_V_OK);
	/* A filter over the socket bufferevent kept those bytes. */
	ck_assert_ptr_nonnull(bufferevent_get_underlying(a.bev));
	ck_assert_uint_eq(ca_cached_leaves(ca), 1);
	acc_end(&a, fds[1]);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

START_TEST(accept_reports_a_client_that_closes)
{
	struct acc		 a;
	struct bufferevent	*under;
	struct timeval		 tv = { 10, 0 };
	char			*dir;
	struct ca		*ca;
	int			 fds[2];

	/* As main does: writing to a closed socket fails instead of killing. */
	signal(SIGPIPE, SIG_IGN);
	dir = test_dir();
	ca = open_ok(dir, 10);
	memset(&a, 0, sizeof a);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_int_eq(evutil_make_socket_nonblocking(fds[0]), 0);
	/* The client goes before saying anything. */
	close(fds[1]);
	a.base = event_base_new();
	under = bufferevent_socket_new(a.base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	a.bev = ca_accept(ca, a.base, under, "gone.test");
	ck_assert_ptr_nonnull(a.bev);
	bufferevent_setcb(a.bev, NULL, NULL, acc_event_cb, &a);
	bufferevent_enable(a.bev, EV_READ | EV_WRITE);
	event_base_loopexit(a.base, &tv);
	event_base_dispatch(a.base);
	ck_assert_int_eq(a.failed, 1);
	ck_assert_int_eq(a.connected, 0);
	/* OpenSSL's "unexpected eof", or the fallback words. */
	ck_assert_msg(strstr(a.why, "eof") != NULL ||
	    strstr(a.why, "closed") != NULL, "ca_tls_error: \"%s\"", a.why);
	ck_assert_uint_eq(ca_cached_leaves(ca), 0);
	bufferevent_free(a.bev);
	event_base_free(a.base);
	ca_free(ca);
	rm_tree(dir);
	free(dir);
}
END_TEST

/* Remove the root directory, unless a failed test left something to see. */
static int
rm_root(int failed)
{
	if (failed != 0) {
		fprintf(stderr, "check_ca: test files kept in %s\n", test_root);
		return 0;
	}
	return nftw(test_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	Suite	*s = suite_create("ca");
	TCase	*tc_ca = tcase_create("ca");
	TCase	*tc_leaf = tcase_create("leaf");
	TCase	*tc_tls = tcase_create("tls");
	SRunner	*sr;
	char	 root[] = "/tmp/check_ca.XXXXXX";
	int	 failed;

	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	test_root = root;
	/* Only the warnings that the refusals under test produce. */
	log_init(LOG_LEVEL_WARN);

	tcase_add_test(tc_ca, open_creates_private_dir_key_and_ca_cert);
	tcase_add_test(tc_ca, open_leaves_no_temporary_files);
	tcase_add_test(tc_ca, reopen_loads_the_same_ca);
	tcase_add_test(tc_ca, open_refuses_key_readable_by_others);
	tcase_add_test(tc_ca, open_refuses_one_file_without_the_other);
	tcase_add_test(tc_ca, open_refuses_garbage_key_and_cert);
	tcase_add_test(tc_ca, open_refuses_encrypted_key_without_prompting);
	tcase_add_test(tc_ca, open_refuses_mismatched_pair);
	tcase_add_test(tc_ca, open_refuses_cert_that_is_no_ca_or_expired);
	tcase_add_test(tc_ca, open_refuses_bad_directories);
	tcase_add_test(tc_ca, default_dir_prefers_argument_then_env_then_home);
	tcase_add_test(tc_ca, bundle_is_system_store_then_ca);
	suite_add_tcase(s, tc_ca);

	tcase_add_test(tc_leaf,
	    leaf_for_dns_name_has_san_eku_and_short_validity);
	tcase_add_test(tc_leaf, leaf_serials_are_random_per_host);
	tcase_add_test(tc_leaf, leaf_for_ip_literals_has_ip_san);
	tcase_add_test(tc_leaf,
	    leaf_names_are_lower_cased_and_cut_to_64_in_cn);
	tcase_add_test(tc_leaf, leaf_refuses_invalid_host_names);
	tcase_add_test(tc_leaf,
	    cache_returns_same_leaf_and_evicts_least_recent);
	tcase_add_test(tc_leaf, cache_stays_bounded_under_many_hosts);
	tcase_add_test(tc_leaf, cache_of_zero_holds_one_leaf);
	suite_add_tcase(s, tc_leaf);

	tcase_add_test(tc_tls, server_ctx_is_owned_by_the_ca);
	tcase_add_test(tc_tls, handshake_with_sni_verifies_and_selects_http11);
	tcase_add_test(tc_tls, handshake_without_sni_uses_fallback_ip);
	tcase_add_test(tc_tls,
	    handshake_offering_only_h2_completes_without_alpn);
	tcase_add_test(tc_tls, handshake_fails_without_a_usable_name);
	tcase_add_test(tc_tls,
	    accept_on_a_bare_socket_presents_the_connect_host);
	tcase_add_test(tc_tls, accept_keeps_a_client_hello_already_read);
	tcase_add_test(tc_tls, accept_reports_a_client_that_closes);
	suite_add_tcase(s, tc_tls);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rm_root(failed);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
