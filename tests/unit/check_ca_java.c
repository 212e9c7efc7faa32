/*
 * Unit tests for the Java trust store and the client environment: the JKS
 * bytes (header, entries, the SHA-1 seal over a known input), the
 * truststore.jks written from the system store and the CA (the CA last,
 * the seal right, kept while fresh, written again when ca.pem is newer),
 * and the variables client_env_build sets (every CA variable a bundle but
 * NODE_EXTRA_CA_CERTS, JAVA_TOOL_OPTIONS and its quoting).
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "ca.h"
#include "client_env.h"
#include "log.h"
#include "unit.h"
#include "xmalloc.h"

/* A fresh directory for one test (the CA makes its own inside). */
static char *
test_dir(void)
{
	char	tmpl[] = "/tmp/check_ca_java.XXXXXX", *d;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	d = xasprintf("%s/ca", tmpl);
	return d;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Remove the test directory (the parent of the CA's). */
static void
rm_dir(char *dir)
{
	*strrchr(dir, '/') = '\0';
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE		*f = fopen(path, "rb");
	unsigned char	*d;
	long		 n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	d = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(d, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return d;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

START_TEST(jks_bytes_and_seal_over_a_known_input)
{
	static const unsigned char	der1[] = { 'a', 'b', 'c' };
	static const unsigned char	der2[] = { 0x30, 0x00 };
	static const unsigned char	head[] = {
		0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 2,
		0, 0, 0, 2, 0, 1, 'a', 1, 2, 3, 4, 5, 6, 7, 8,
		0, 5, 'X', '.', '5', '0', '9', 0, 0, 0, 3, 'a', 'b', 'c'
	};
	/* Python: hashlib.sha1(password UTF-16BE + whitener + body) */
	static const char	*seal = "946b11cdf784fadf4eb4a25fcc93c8d78a3e115d";
	struct ca_jks_cert	 certs[2] = {
		{ "a", der1, sizeof der1 },
		{ "patchscope-ca", der2, sizeof der2 },
	};
	struct buf		 out = { NULL, 0, 0 };
	char			*cause = NULL, hex[41];
	size_t			 i;

	ck_assert_int_eq(ca_jks_encode(certs, 2, "changeit",
	    0x0102030405060708ULL, &out, &cause), 0);
	ck_assert_uint_eq(out.len, 81 + 20);
	ck_assert_int_eq(memcmp(out.data, head, sizeof head), 0);
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x",
		    (unsigned char)out.data[81 + i]);
	ck_assert_str_eq(hex, seal);

	/* Another password, another seal; the same body. */
	ck_assert_int_eq(ca_jks_encode(certs, 2, "other",
	    0x0102030405060708ULL, &out, &cause), 0);
	ck_assert_uint_eq(out.len, 101);
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x",
		    (unsigned char)out.data[81 + i]);
	ck_assert_str_ne(hex, seal);

	/* An alias Java would not take is refused, not written. */
	certs[0].alias = "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789";
	ck_assert_int_eq(ca_jks_encode(certs, 2, "changeit", 0, &out,
	    &cause), -1);
	ck_assert_str_eq(cause, "certificate 0 cannot go into a trust store");
	free(cause);
	buf_free(&out);
}
END_TEST

/* Check the seal of a JKS file and return its entry count. */
static uint32_t
jks_check(const unsigned char *d, size_t len, unsigned char **ca_der,
    size_t *ca_len)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen;
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	const char	*p;
	unsigned char	pw[2];
	size_t		off = 12, alen, dlen;
	uint32_t	n, i;

	ck_assert_uint_gt(len, 32);
	ck_assert_uint_eq(be32(d), 0xfeedfeed);
	ck_assert_uint_eq(be32(d + 4), 2);
	n = be32(d + 8);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(be32(d + off), 2);
		alen = (size_t)d[off + 4] << 8 | d[off + 5];
		off += 6 + alen + 8;
		ck_assert_int_eq(memcmp(d + off, "\0\5X.509", 7), 0);
		off += 7;
		dlen = be32(d + off);
		off += 4;
		if (i == n - 1) {
			ck_assert_int_eq(memcmp(d + off - 4 - 7 - 8 - 13,
			    "patchscope-ca", 13), 0);
			*ca_der = xmalloc(dlen);
			memcpy(*ca_der, d + off, dlen);
			*ca_len = dlen;
		}
		off += dlen;
		ck_assert_uint_le(off, len - 20);
	}
	ck_assert_uint_eq(off, len - 20);
	EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
	for (p = CA_JKS_PASSWORD; *p != '\0'; p++) {
		pw[0] = 0;
		pw[1] = (unsigned char)*p;
		EVP_DigestUpdate(ctx, pw, 2);
	}
	EVP_DigestUpdate(ctx, "Mighty Aphrodite", 16);
	EVP_DigestUpdate(ctx, d, off);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	ck_assert_int_eq(memcmp(md, d + off, 20), 0);
	return n;
}

START_TEST(truststore_holds_the_system_store_and_the_ca)
{
	struct timespec	 later[2];
	struct stat	 st1, st2;
	struct ca	*ca;
	X509		*x;
	FILE		*f;
	unsigned char	*d, *der = NULL, *ca_der = NULL;
	char		*dir, *path, *path2, *cause = NULL;
	size_t		 len, ca_len = 0;
	uint32_t	 n;
	int		 dlen;

	dir = test_dir();
	ca = ca_open(dir, 4, &cause);
	ck_assert_msg(ca != NULL, "ca_open: %s", cause);
	path = ca_write_truststore(ca, &cause);
	ck_assert_msg(path != NULL, "ca_write_truststore: %s", cause);
	ck_assert_str_eq(strrchr(path, '/'), "/" CA_JKS_FILE);
	d = slurp(path, &len);
	n = jks_check(d, len, &ca_der, &ca_len);
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
		ck_assert_uint_gt(n, 10);
	else
		ck_assert_uint_ge(n, 1);
	f = fopen(ca_cert_path(ca), "r");
	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	dlen = i2d_X509(x, &der);
	ck_assert_int_gt(dlen, 0);
	ck_assert_uint_eq(ca_len, (size_t)dlen);
	ck_assert_int_eq(memcmp(ca_der, der, ca_len), 0);
	OPENSSL_free(der);
	X509_free(x);
	free(ca_der);
	free(d);

	/* Fresh: not written again. */
	ck_assert_int_eq(stat(path, &st1), 0);
	path2 = ca_write_truststore(ca, &cause);
	ck_assert_ptr_nonnull(path2);
	ck_assert_int_eq(stat(path2, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);
	free(path2);

	/* ca.pem newer than the store: written again (a new file). */
	clock_gettime(CLOCK_REALTIME, &later[0]);
	later[0].tv_sec += 100;
	later[1] = later[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, ca_cert_path(ca), later, 0), 0);
	path2 = ca_write_truststore(ca, &cause);
	ck_assert_ptr_nonnull(path2);
	ck_assert_int_eq(stat(path2, &st2), 0);
	ck_assert_uint_ne(st1.st_ino, st2.st_ino);
	free(path2);
	free(path);
	ca_free(ca);
	rm_dir(dir);
}
END_TEST

START_TEST(client_env_points_every_client_at_the_proxy_and_bundles)
{
	static const char *const bundle_vars[] = { "CURL_CA_BUNDLE",
	    "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO" };
	static const char *const proxy_vars[] = { "HTTP_PROXY",
	    "HTTPS_PROXY", "http_proxy", "https_proxy" };
	struct client_env	 env;
	struct ca		*ca;
	char			*dir, *cause = NULL, *want, *s;
	size_t			 i;

	dir = test_dir();
	ca = ca_open(dir, 4, &cause);
	ck_assert_ptr_nonnull(ca);
	ck_assert_int_eq(client_env_build(&env, "127.0.0.1", 8123, ca,
	    &cause), 0);
	ck_assert_uint_eq(env.n, 11);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(client_env_get(&env, proxy_vars[i]),
		    "http://127.0.0.1:8123");
	want = xasprintf("%s/bundle.pem", dir);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(client_env_get(&env, bundle_vars[i]), want);
	free(want);
	ck_assert_str_eq(client_env_get(&env, "NODE_EXTRA_CA_CERTS"),
	    ca_cert_path(ca));
	ck_assert_str_eq(client_env_get(&env, "NODE_USE_ENV_PROXY"), "1");
	want = xasprintf("-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=8123 "
	    "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=8123 "
	    "-Djavax.net.ssl.trustStore=%s/truststore.jks "
	    "-Djavax.net.ssl.trustStorePassword=changeit "
	    "-Djavax.net.ssl.trustStoreType=JKS", dir);
	ck_assert_str_eq(client_env_get(&env, "JAVA_TOOL_OPTIONS"), want);
	free(want);
	ck_assert_ptr_null(client_env_get(&env, "NO_PROXY"));
	client_env_free(&env);
	ck_assert_uint_eq(env.n, 0);

	/* IPv6 proxies are bracketed in URLs, not for Java. */
	ck_assert_int_eq(client_env_build(&env, "::1", 8, ca, &cause), 0);
	ck_assert_str_eq(client_env_get(&env, "https_proxy"),
	    "http://[::1]:8");
	ck_assert_ptr_nonnull(strstr(client_env_get(&env,
	    "JAVA_TOOL_OPTIONS"), "-Dhttps.proxyHost=::1 "));
	client_env_free(&env);
	ca_free(ca);
	rm_dir(dir);

	/* A path with a space is quoted for the JVM's splitting. */
	s = client_env_java("127.0.0.1", 1, "/a b/t.jks");
	ck_assert_ptr_nonnull(strstr(s,
	    " \"-Djavax.net.ssl.trustStore=/a b/t.jks\" "));
	free(s);
	s = client_env_java("127.0.0.1", 1, "/a \"b\"/t.jks");
	ck_assert_ptr_nonnull(strstr(s,
	    " '-Djavax.net.ssl.trustStore=/a \"b\"/t.jks' "));
	free(s);
}
END_TEST

/*
 * A damaged certificate block in the system store costs only itself: the
 * certificates after it are read; a key block is passed over; max holds.
 */
START_TEST(pem_reading_skips_a_damaged_block)
{
	static const char	 bad[] = "-----BEGIN CERTIFICATE-----\n"
	    "!!!! not base64 !!!!\n-----END CERTIFICATE-----\n";
	static const char	 key[] = "-----BEGIN PRIVATE KEY-----\n"
	    "AAAA\n-----END PRIVATE KEY-----\n";
	struct ca_jks_cert	*certs = NULL;
	struct ca		*ca;
	struct buf		 text = { NULL, 0, 0 };
	unsigned char		*pem;
	char			*dir, *cause = NULL;
	size_t			 len, n = 0, skipped = 0, i;

	dir = test_dir();
	ca = ca_open(dir, 4, &cause);
	ck_assert_msg(ca != NULL, "ca_open: %s", cause);
	pem = slurp(ca_cert_path(ca), &len);
	buf_add(&text, pem, len);
	buf_adds(&text, bad);
	buf_adds(&text, key);
	buf_add(&text, pem, len);
	buf_adds(&text, "trailing garbage\n");
	ck_assert_int_eq(ca_jks_read_pem(text.data, text.len, 100, &certs,
	    &n, &skipped, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(skipped, 1);
	ck_assert_uint_eq(certs[1].len, certs[0].len);
	ck_assert_int_eq(memcmp(certs[0].der, certs[1].der, certs[0].len), 0);
	/* At most max, whatever follows. */
	ck_assert_int_eq(ca_jks_read_pem(text.data, text.len, 3, &certs,
	    &n, &skipped, &cause), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		free((char *)certs[i].alias);
		OPENSSL_free((unsigned char *)certs[i].der);
	}
	free(certs);
	/* Nothing but garbage: nothing, and an end. */
	certs = NULL;
	n = skipped = 0;
	ck_assert_int_eq(ca_jks_read_pem(bad, strlen(bad), 100, &certs, &n,
	    &skipped, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(skipped, 1);
	free(certs);
	buf_free(&text);
	free(pem);
	ca_free(ca);
	rm_dir(dir);
}
END_TEST

static Suite *
ca_java_suite(void)
{
	Suite	*s = suite_create("ca_java");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, jks_bytes_and_seal_over_a_known_input);
	tcase_add_test(tc, truststore_holds_the_system_store_and_the_ca);
	tcase_add_test(tc,
	    client_env_points_every_client_at_the_proxy_and_bundles);
	tcase_add_test(tc, pem_reading_skips_a_damaged_block);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_init(LOG_LEVEL_WARN);
	return unit_run(ca_java_suite());
}
