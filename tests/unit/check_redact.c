/*
 * Unit tests for redact and sha256: the digest against FIPS 180-4 vectors,
 * markers, every place a secret is found (headers, cookies, query, JSON,
 * webhook action headers, form and unparseable bodies), the scrub of a
 * whole exchange, the disabled redactor, and hostile input.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "exchange.h"
#include "http.h"
#include "redact.h"
#include "sha256.h"
#include "xmalloc.h"
#include "unit.h"

/* The expected marker of v, computed here from sha256 alone; the result
 * stays valid for the next 15 calls. */
static const char *
M(const char *v)
{
	static char	 ring[16][REDACT_MARKER_LEN + 1];
	static int	 next;
	unsigned char	 d[SHA256_DIGEST_LEN];
	char		*out = ring[next++ % 16];
	int		 i;

	sha256(v, strlen(v), d);
	strcpy(out, "redacted:");
	for (i = 0; i < 6; i++)
		sprintf(out + 9 + 2 * i, "%02x", d[i]);
	return out;
}

static void
hex(const unsigned char d[SHA256_DIGEST_LEN], char out[65])
{
	int	i;

	for (i = 0; i < SHA256_DIGEST_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void
add(struct http_headers *h, const char *name, const char *value)
{
	http_headers_add(h, name, strlen(name), value, strlen(value));
}

/* Redact one header alone and return its new value (caller frees). */
static char *
one_header(const struct redactor *r, const char *name, const char *value)
{
	struct http_headers	 h = { NULL, 0, 0 };
	char			*v;

	add(&h, name, value);
	redact_headers(r, &h);
	v = xstrdup(h.v[0].value);
	http_headers_clear(&h);
	return v;
}

static void
check_header(const struct redactor *r, const char *name, const char *value,
    const char *want)
{
	char	*got = one_header(r, name, value);

	ck_assert_msg(strcmp(got, want) == 0, "%s: %s: got \"%s\" want \"%s\"",
	    name, value, got, want);
	free(got);
}

static void
check_url(const struct redactor *r, const char *url, const char *want)
{
	char	*got = redact_url(r, url);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got \"%s\" want \"%s\"",
	    url, got, want);
	free(got);
}

/* Parse text, redact it, and compare its compact dump with want. */
static void
check_json(const struct redactor *r, const char *text, const char *want)
{
	json_error_t	 err;
	json_t		*v;
	char		*got;

	v = json_loads(text, 0, &err);
	ck_assert_msg(v != NULL, "%s", err.text);
	redact_json(r, v);
	got = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_msg(strcmp(got, want) == 0, "got %s want %s", got, want);
	free(got);
	json_decref(v);
}

/* Redact a body; want NULL means "unchanged". */
static void
check_body(const struct redactor *r, const char *ct, const char *body,
    const char *want)
{
	struct buf	out = { NULL, 0, 0 };
	int		rc;

	rc = redact_body(r, ct, body, strlen(body), &out);
	if (want == NULL) {
		ck_assert_msg(rc == 0, "%s: changed to %s", body,
		    buf_str(&out));
		ck_assert_uint_eq(out.len, 0);
	} else {
		ck_assert_msg(rc == 1, "%s: unchanged", body);
		ck_assert_msg(strcmp(buf_str(&out), want) == 0,
		    "got %s want %s", buf_str(&out), want);
	}
	buf_free(&out);
}

START_TEST(sha256_matches_fips_vectors)
{
	static const struct {
		const char	*in;
		const char	*want;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "248d6a61d20638b8e5c026930c3e6039"
		    "a33ce45964ff2167f6ecedd419db06c1" },
	};
	unsigned char		 d[SHA256_DIGEST_LEN];
	char			 h[65];
	size_t			 i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		sha256(v[i].in, strlen(v[i].in), d);
		hex(d, h);
		ck_assert_str_eq(h, v[i].want);
	}
}
END_TEST

START_TEST(sha256_million_a_in_one_go_and_in_pieces)
{
	static const char	 want[] = "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0";
	struct sha256_ctx	 c;
	unsigned char		 d[SHA256_DIGEST_LEN];
	char			 h[65], *a;
	size_t			 done, n;

	a = xmalloc(1000000);
	memset(a, 'a', 1000000);
	sha256(a, 1000000, d);
	hex(d, h);
	ck_assert_str_eq(h, want);
	/* Odd piece sizes cross block boundaries everywhere. */
	sha256_init(&c);
	for (done = 0, n = 1; done < 1000000; done += n, n = n % 131 + 7) {
		if (n > 1000000 - done)
			n = 1000000 - done;
		sha256_update(&c, a + done, n);
	}
	sha256_final(&c, d);
	hex(d, h);
	ck_assert_str_eq(h, want);
	free(a);
}
END_TEST

START_TEST(sha256_pieces_equal_whole_at_every_split)
{
	struct sha256_ctx	c;
	unsigned char		msg[200], whole[SHA256_DIGEST_LEN];
	unsigned char		part[SHA256_DIGEST_LEN];
	size_t			len, cut;

	for (cut = 0; cut < sizeof msg; cut++)
		msg[cut] = (unsigned char)(cut * 7 + 3);
	/* Lengths around the 55/56/64-byte padding edges. */
	for (len = 0; len < sizeof msg; len++) {
		sha256(msg, len, whole);
		for (cut = 0; cut <= len; cut++) {
			sha256_init(&c);
			sha256_update(&c, msg, cut);
			sha256_update(&c, msg + cut, len - cut);
			sha256_final(&c, part);
			ck_assert(memcmp(whole, part, sizeof whole) == 0);
		}
	}
}
END_TEST

START_TEST(marker_is_prefix_and_twelve_hex_digits)
{
	char	m[REDACT_MARKER_LEN + 1];

	ck_assert_uint_eq(REDACT_MARKER_LEN, 21);
	/* printf %s hunter2 | sha256sum */
	redact_marker("hunter2", 7, m);
	ck_assert_str_eq(m, "redacted:f52fbd32b2b3");
	redact_marker("abc", 3, m);
	ck_assert_str_eq(m, "redacted:ba7816bf8f01");
	ck_assert(redact_is_marker(m, strlen(m)));
	ck_assert(!redact_is_marker(m, strlen(m) - 1));
	ck_assert(!redact_is_marker("redacted:BA7816BF8F01", 21));
	ck_assert(!redact_is_marker("redacted:ba7816bf8f0g", 21));
	ck_assert(!redact_is_marker("redactex:ba7816bf8f01", 21));
	ck_assert(!redact_is_marker("redacted:ba7816bf8f012", 22));
	ck_assert(!redact_is_marker("", 0));
}
END_TEST

START_TEST(redact_keeps_hashes_distinct)
{
	struct redactor	*r = redact_new();
	char		*a, *b, *c;

	a = one_header(r, "Authorization", "Bearer alice-token");
	b = one_header(r, "Authorization", "Bearer bob-token");
	c = one_header(r, "authorization", "Bearer alice-token");
	ck_assert_str_ne(a, b);
	ck_assert_str_eq(a, c);
	ck_assert_str_eq(a, M("Bearer alice-token"));
	/* printf %s 'Bearer t0ps3cret' | sha256sum */
	check_header(r, "Authorization", "Bearer t0ps3cret",
	    "redacted:61b0395c2662");
	free(a);
	free(b);
	free(c);
	redact_free(r);
}
END_TEST

START_TEST(headers_builtin_are_marked_whole)
{
	struct redactor	*r = redact_new();
	char		*want;

	check_header(r, "Authorization", "Basic dXNlcjpwYXNz",
	    M("Basic dXNlcjpwYXNz"));
	check_header(r, "Proxy-Authorization", "Basic cHJveHk6cHc=",
	    M("Basic cHJveHk6cHc="));
	check_header(r, "X-Auth-Token", "tok-1", M("tok-1"));
	check_header(r, "x-api-key", "key-1", M("key-1"));
	check_header(r, "X-API-KEY", "key-1", M("key-1"));
	/* Blanks around a value stay where they were. */
	want = xasprintf(" %s ", M("key-2"));
	check_header(r, "X-Api-Key", " key-2 ", want);
	free(want);
	check_header(r, "Content-Type", "application/json",
	    "application/json");
	check_header(r, "Accept", "*/*", "*/*");
	/* Nothing to hide in an empty value. */
	check_header(r, "Authorization", "", "");
	ck_assert(redact_header_name(r, "PROXY-AUTHORIZATION"));
	ck_assert(!redact_header_name(r, "Host"));
	redact_free(r);
}
END_TEST

START_TEST(headers_cookie_marks_each_value)
{
	struct redactor	*r = redact_new();
	char		*want;

	want = xasprintf("a=%s; b=%s", M("1"), M("2"));
	check_header(r, "Cookie", "a=1; b=2", want);
	free(want);
	want = xasprintf("sid= %s ;theme=%s;%s", M("x y"), M("dark"),
	    M("lone"));
	check_header(r, "cookie", "sid= x y ;theme=dark;lone", want);
	free(want);
	/* Empty values stay; "=" inside a value belongs to it. */
	want = xasprintf("a=; b=%s", M("v=w"));
	check_header(r, "Cookie", "a=; b=v=w", want);
	free(want);
	redact_free(r);
}
END_TEST

START_TEST(headers_set_cookie_keeps_attributes)
{
	struct redactor	*r = redact_new();
	char		*want;

	want = xasprintf("sid=%s; Path=/; HttpOnly", M("abc"));
	check_header(r, "Set-Cookie", "sid=abc; Path=/; HttpOnly", want);
	free(want);
	want = xasprintf("id=%s; Expires=Wed, 21 Oct 2015 07:28:00 GMT; "
	    "Secure", M("\"q\""));
	check_header(r, "set-cookie", "id=\"q\"; Expires=Wed, 21 Oct 2015 "
	    "07:28:00 GMT; Secure", want);
	free(want);
	check_header(r, "Set-Cookie", "sid=; Max-Age=0", "sid=; Max-Age=0");
	redact_free(r);
}
END_TEST

START_TEST(headers_whose_names_look_secret_are_marked)
{
	static const char	*secret[] = {
		"X-Signature", "X-Hub-Signature-256", "X-CSRF-Token",
		"X-Client-Secret", "X-Session-Id", "X-Amz-Security-Token",
		"X-Password", "X-Passwd", "X-Credential", "X-Private-Key",
		"X-Cookie-Jar", "X-OAuth", "X-Auth", "X-Authorization-Hint",
	};
	static const char	*plain[] = {
		"Author", "X-Author-Name", "Content-Type", "X-Request-Id",
		"WWW-Authenticate", "Proxy-Authenticate",
		"Access-Control-Allow-Credentials", "Authority",
	};
	struct redactor		*r = redact_new();
	size_t			 i;

	for (i = 0; i < sizeof secret / sizeof secret[0]; i++)
		check_header(r, secret[i], "s3cr3t", M("s3cr3t"));
	for (i = 0; i < sizeof plain / sizeof plain[0]; i++)
		check_header(r, plain[i], "s3cr3t", "s3cr3t");
	redact_free(r);
}
END_TEST

START_TEST(headers_with_url_values_get_their_query_redacted)
{
	struct redactor	*r = redact_new();
	char		*want;

	want = xasprintf("https://app.example/cb?state=1&access_token=%s#f",
	    M("at-1"));
	check_header(r, "Location", "https://app.example/cb?state=1&"
	    "access_token=at-1#f", want);
	free(want);
	want = xasprintf("/cb?token=%s", M("t2"));
	check_header(r, "Content-Location", "/cb?token=t2", want);
	free(want);
	check_header(r, "Referer", "https://app.example/?q=1",
	    "https://app.example/?q=1");
	redact_free(r);
}
END_TEST

START_TEST(user_added_names_are_compared_whole)
{
	struct redactor	*r = redact_new();
	char		*want;

	redact_add_header(r, "X-Tenant");
	redact_add_query(r, "code");
	redact_add_json_key(r, "pin");
	check_header(r, "x-tenant", "acme", M("acme"));
	check_header(r, "X-Tenant-Id", "acme", "acme");
	want = xasprintf("/cb?CODE=%s&codes=1&zipcode=2", M("c1"));
	check_url(r, "/cb?CODE=c1&codes=1&zipcode=2", want);
	free(want);
	ck_assert(redact_query_name(r, "codex", 4));
	ck_assert(!redact_query_name(r, "codex", 5));
	want = xasprintf("{\"PIN\":\"%s\",\"pins\":\"1\",\"spin\":\"2\"}",
	    M("1234"));
	check_json(r, "{\"PIN\":\"1234\",\"pins\":\"1\",\"spin\":\"2\"}",
	    want);
	free(want);
	redact_free(r);
}
END_TEST

START_TEST(names_secret_words_and_author)
{
	static const char	*secret[] = {
		"token", "access_token", "client_secret", "password",
		"passwd", "api_key", "apiKey", "X-Api-Key", "auth",
		"authorization", "authToken", "oauth", "oauth_verifier",
		"signature", "credentials", "private_key", "PRIVATE-KEY",
		"sessionId", "session_id", "cookie", "author_token",
		"coauthor_auth", "authorize",
	};
	static const char	*plain[] = {
		"author", "authorName", "Author", "co-author", "authority",
		"authors", "name", "id", "session", "key", "private", "api",
		"", "pass",
	};
	struct redactor		*r = redact_new();
	char			 lng[300];
	size_t			 i;

	for (i = 0; i < sizeof secret / sizeof secret[0]; i++) {
		ck_assert_msg(redact_json_key(r, secret[i]), "%s", secret[i]);
		ck_assert_msg(redact_query_name(r, secret[i],
		    strlen(secret[i])), "%s", secret[i]);
	}
	for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		ck_assert_msg(!redact_json_key(r, plain[i]), "%s", plain[i]);
		ck_assert_msg(!redact_query_name(r, plain[i],
		    strlen(plain[i])), "%s", plain[i]);
	}
	check_json(r, "{\"author\":\"Ann\",\"authorName\":\"Ann\"}",
	    "{\"author\":\"Ann\",\"authorName\":\"Ann\"}");
	/* Long names are judged whole too. */
	memset(lng, 'x', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	ck_assert(!redact_json_key(r, lng));
	memcpy(lng + sizeof lng - 6, "token", 5);
	ck_assert(redact_json_key(r, lng));
	redact_free(r);
}
END_TEST

START_TEST(url_marks_secret_parameters_only)
{
	struct redactor	*r = redact_new();
	char		*want;

	want = xasprintf("https://api.example.com/v1/x?a=1&token=%s&b=2"
	    "#token=frag", M("abc"));
	check_url(r, "https://api.example.com/v1/x?a=1&token=abc&b=2"
	    "#token=frag", want);
	free(want);
	/* The marker is of the decoded value; "+" is not decoded. */
	want = xasprintf("/p?api_key=%s&password=%s", M("a/b c"), M("a+b"));
	check_url(r, "/p?api_key=a%2Fb%20c&password=a+b", want);
	free(want);
	/* An encoded name is decoded before it is judged. */
	want = xasprintf("/p?access%%5Ftoken=%s", M("xyz"));
	check_url(r, "/p?access%5Ftoken=xyz", want);
	free(want);
	/* A bad escape is kept as it is. */
	want = xasprintf("/p?secret=%s", M("%zz%4"));
	check_url(r, "/p?secret=%zz%4", want);
	free(want);
	/* Bare names, empty values, empty pairs stay. */
	check_url(r, "/p?token&token=&&x=1&", "/p?token&token=&&x=1&");
	check_url(r, "https://h.example/p", "https://h.example/p");
	check_url(r, "https://h.example/p?", "https://h.example/p?");
	/* A "?" in the fragment is no query. */
	check_url(r, "https://h.example/p#a?token=1",
	    "https://h.example/p#a?token=1");
	check_url(r, "", "");
	redact_free(r);
}
END_TEST

START_TEST(json_keys_at_any_depth_inside_arrays)
{
	struct redactor	*r = redact_new();
	char		*want;

	/* The object holding "password" is at depth 5. */
	want = xasprintf("{\"a\":[{\"b\":[{\"c\":{\"password\":\"%s\","
	    "\"name\":\"n\"}}]}],\"token\":\"%s\"}", M("p1"), M("t1"));
	check_json(r, "{\"a\":[{\"b\":[{\"c\":{\"password\":\"p1\","
	    "\"name\":\"n\"}}]}],\"token\":\"t1\"}", want);
	free(want);
	redact_free(r);
}
END_TEST

START_TEST(json_numbers_and_booleans_marked_null_kept)
{
	struct redactor	*r = redact_new();
	char		*want;

	/* printf %s 123 | sha256sum; printf %s true | sha256sum */
	check_json(r, "{\"token\":123,\"secret\":true}",
	    "{\"token\":\"redacted:a665a4592042\","
	    "\"secret\":\"redacted:b5bea41b6c62\"}");
	want = xasprintf("{\"apikey\":\"%s\",\"password\":null,"
	    "\"auth_ratio\":\"%s\",\"count\":3,\"token\":\"\"}",
	    M("false"), M("1.5"));
	check_json(r, "{\"apikey\":false,\"password\":null,\"auth_ratio\":1.5,"
	    "\"count\":3,\"token\":\"\"}", want);
	free(want);
	redact_free(r);
}
END_TEST

START_TEST(json_under_a_secret_key_every_scalar_is_marked)
{
	struct redactor	*r = redact_new();
	char		*want;

	want = xasprintf("{\"credentials\":{\"user\":\"%s\",\"list\":[\"%s\","
	    "{\"x\":\"%s\"}],\"z\":null},\"id\":7}", M("u"), M("1"), M("y"));
	check_json(r, "{\"credentials\":{\"user\":\"u\",\"list\":[1,"
	    "{\"x\":\"y\"}],\"z\":null},\"id\":7}", want);
	free(want);
	redact_free(r);
}
END_TEST

START_TEST(json_webhook_action_headers)
{
	struct redactor	*r = redact_new();
	char		*want;

	redact_add_header(r, "X-Tenant");
	want = xasprintf("{\"actions\":[{\"id\":\"a\",\"headers\":"
	    "{\"Content-Type\":\"application/json\"}},{\"id\":\"b\","
	    "\"to\":\"https://hooks.example/x\",\"headers\":{"
	    "\"Authorization\":\"%s\",\"X-Signature\":\"%s\","
	    "\"Content-Type\":\"application/json\",\"X-Tenant\":\"%s\","
	    "\"X-Api-Key\":\"%s\",\"X-Retry\":3}}],"
	    "\"headers\":{\"X-Tenant\":\"t2\"}}",
	    M("Bearer t0ps3cret"), M("sha256=9f"), M("t1"), M("12345"));
	/* X-Tenant is a secret header only where headers are: in an action,
	 * not in the root's own "headers". */
	check_json(r, "{\"actions\":[{\"id\":\"a\",\"headers\":"
	    "{\"Content-Type\":\"application/json\"}},{\"id\":\"b\","
	    "\"to\":\"https://hooks.example/x\",\"headers\":{"
	    "\"Authorization\":\"Bearer t0ps3cret\","
	    "\"X-Signature\":\"sha256=9f\","
	    "\"Content-Type\":\"application/json\",\"X-Tenant\":\"t1\","
	    "\"X-Api-Key\":12345,\"X-Retry\":3}}],"
	    "\"headers\":{\"X-Tenant\":\"t2\"}}", want);
	free(want);
	/* Odd shapes are walked past. */
	check_json(r, "{\"actions\":[1,{\"headers\":[\"X-Tenant\"]},"
	    "{\"headers\":null}]}", "{\"actions\":[1,{\"headers\":"
	    "[\"X-Tenant\"]},{\"headers\":null}]}");
	check_json(r, "{\"actions\":{\"headers\":{\"X-Tenant\":\"t\"}}}",
	    "{\"actions\":{\"headers\":{\"X-Tenant\":\"t\"}}}");
	redact_free(r);
}
END_TEST

START_TEST(json_url_strings_get_their_query_redacted)
{
	struct redactor	*r = redact_new();
	char		*want;

	want = xasprintf("{\"to\":\"https://hooks.example/x?token=%s&v=1\","
	    "\"list\":[\"http://h/?sig=1&signature=%s\"],"
	    "\"text\":\"see ?token=abc\"}", M("abc"), M("s"));
	check_json(r, "{\"to\":\"https://hooks.example/x?token=abc&v=1\","
	    "\"list\":[\"http://h/?sig=1&signature=s\"],"
	    "\"text\":\"see ?token=abc\"}", want);
	free(want);
	redact_free(r);
}
END_TEST

/* Wrap {"token":"x"} in depth arrays, as text. */
static char *
nested(size_t depth)
{
	struct buf	b = { NULL, 0, 0 };
	size_t		i;

	for (i = 0; i < depth; i++)
		buf_add(&b, "[", 1);
	buf_adds(&b, "{\"token\":\"x\"}");
	for (i = 0; i < depth; i++)
		buf_add(&b, "]", 1);
	return b.data;
}

START_TEST(json_depth_is_bounded_at_64)
{
	struct redactor	*r = redact_new();
	struct buf	 want = { NULL, 0, 0 };
	char		*in;
	int		 i;

	/* An object at depth 63 is looked into; at 64 it is left alone
	 * (documented: hostile nesting costs nothing). */
	for (i = 0; i < 63; i++)
		buf_add(&want, "[", 1);
	buf_printf(&want, "{\"token\":\"%s\"}", M("x"));
	for (i = 0; i < 63; i++)
		buf_add(&want, "]", 1);
	in = nested(63);
	check_body(r, "application/json", in, want.data);
	free(in);
	in = nested(64);
	check_body(r, "application/json", in, NULL);
	free(in);
	buf_free(&want);
	redact_free(r);
}
END_TEST

START_TEST(hostile_nesting_does_not_crash)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	struct buf		 out = { NULL, 0, 0 };
	char			*in, *want;
	size_t			 n = 1000000;

	/* Deeper than jansson parses: the lexical pass, linear. */
	in = xmalloc(n + 1);
	memset(in, '[', n);
	in[n] = '\0';
	ck_assert_int_eq(redact_body(r, "application/json", in, n, &out), 0);
	ck_assert_int_eq(redact_body(r, NULL, in, n, &out), 0);
	free(in);
	/* As deep as jansson parses, through the whole exchange. */
	in = nested(2000);
	exchange_init(&x);
	x.url = xstrdup("http://h/?token=secret-1");
	exchange_body_set(&x.req_body, in, strlen(in));
	add(&x.req_headers, "Content-Type", "application/json");
	redact_exchange(r, &x);
	ck_assert_str_eq(x.req_body.data, in);
	exchange_free(&x);
	free(in);
	/* Unterminated strings and escapes at the very end. */
	want = xasprintf("{\"token\":\"%s\"", M("abc\\"));
	check_body(r, "application/json", "{\"token\":\"abc\\", want);
	free(want);
	check_body(r, "application/json", "{\"token\":\"", NULL);
	check_body(r, "application/json", "{\"token\"", NULL);
	check_body(r, "application/json", "{\"token\":", NULL);
	check_body(r, "application/json", "\"", NULL);
	buf_free(&out);
	redact_free(r);
}
END_TEST

START_TEST(body_json_rewritten_only_when_changed)
{
	struct redactor	*r = redact_new();
	char		*want;

	check_body(r, "application/json", "{ \"name\" : \"x\" }", NULL);
	want = xasprintf("{\"b\":1,\"password\":\"%s\",\"a\":[]}",
	    M("hunter2"));
	check_body(r, "application/json; charset=utf-8",
	    "{ \"b\": 1, \"password\": \"hunter2\", \"a\": [ ] }", want);
	check_body(r, "Application/Problem+JSON",
	    "{\"b\":1,\"password\":\"hunter2\",\"a\":[]}", want);
	/* No Content-Type: JSON when it looks like it. */
	check_body(r, NULL, "\n {\"b\":1,\"password\":\"hunter2\",\"a\":[]}",
	    want);
	free(want);
	check_body(r, NULL, "password=hunter2", NULL);
	check_body(r, "text/plain", "{\"password\":\"hunter2\"}", NULL);
	check_body(r, "application/json", "", NULL);
	/* A body already redacted is left byte for byte. */
	want = xasprintf("{\"token\": \"%s\"}", M("t"));
	check_body(r, "application/json", want, NULL);
	free(want);
	redact_free(r);
}
END_TEST

START_TEST(body_form_urlencoded_like_a_query)
{
	struct redactor	*r = redact_new();
	char		*want;

	/* A body has no fragment: "#" is data. */
	want = xasprintf("user=bob&password=%s&remember=1#x", M("hunt er2#x"));
	check_body(r, "application/x-www-form-urlencoded",
	    "user=bob&password=hunt%20er2#x&remember=1#x", want);
	free(want);
	want = xasprintf("user=bob&password=%s", M("p+q"));
	check_body(r, " Application/X-WWW-Form-Urlencoded; charset=UTF-8",
	    "user=bob&password=p+q", want);
	free(want);
	check_body(r, "application/x-www-form-urlencoded", "user=bob&a=1",
	    NULL);
	check_body(r, "application/x-www-form-urlencodedx",
	    "password=p", NULL);
	check_body(r, "multipart/form-data; boundary=x", "password=p", NULL);
	redact_free(r);
}
END_TEST

START_TEST(body_that_does_not_parse_is_redacted_lexically)
{
	struct redactor	*r = redact_new();
	char		*want;

	/* Cut off by the body limit. */
	want = xasprintf("{\"user\":\"bob\",\"password\" : \"%s\",\"nested\":"
	    "{\"api_key\":\"%s\",\"token\":null,\"secret\":{\"a\":1}},"
	    "\"x\":\"y", M("hun\"ter2"), M("12345"));
	check_body(r, "application/json", "{\"user\":\"bob\",\"password\" : "
	    "\"hun\\\"ter2\",\"nested\":{\"api_key\":12345,\"token\":null,"
	    "\"secret\":{\"a\":1}},\"x\":\"y", want);
	free(want);
	/* A duplicate key would hide a value from the parsed tree. */
	want = xasprintf("{\"token\":\"%s\",\"token\":null}", M("a1"));
	check_body(r, "application/json", "{\"token\":\"a1\",\"token\":null}",
	    want);
	free(want);
	/* A secret value cut off is marked as far as it goes. */
	want = xasprintf("{\"a\":[1,2],\"X-Api-Key\":\"%s\"", M("ab\\"));
	check_body(r, NULL, "{\"a\":[1,2],\"X-Api-Key\":\"ab\\", want);
	free(want);
	check_body(r, "application/json", "{\"a\":\"token\",\"b\":", NULL);
	redact_free(r);
}
END_TEST

START_TEST(disabled_redactor_changes_nothing)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	struct buf		 out = { NULL, 0, 0 };
	char			 m[REDACT_MARKER_LEN + 1];
	static const char	 body[] = "{\"password\":\"hunter2\"}";

	ck_assert(!redact_disabled(r));
	redact_disable(r);
	ck_assert(redact_disabled(r));
	check_header(r, "Authorization", "Bearer x", "Bearer x");
	check_header(r, "Cookie", "a=1", "a=1");
	check_url(r, "/p?token=abc", "/p?token=abc");
	check_json(r, "{\"token\":\"t\"}", "{\"token\":\"t\"}");
	ck_assert_int_eq(redact_body(r, "application/json", body,
	    strlen(body), &out), 0);
	ck_assert_uint_eq(out.len, 0);
	exchange_init(&x);
	x.url = xstrdup("http://h/?token=abc");
	add(&x.req_headers, "Authorization", "Bearer x");
	add(&x.req_headers, "Content-Type", "application/json");
	exchange_body_set(&x.req_body, body, strlen(body));
	x.diagnoses = json_pack("[{s:s}]", "message", "Bearer x");
	redact_exchange(r, &x);
	ck_assert_str_eq(x.url, "http://h/?token=abc");
	ck_assert_str_eq(x.req_headers.v[0].value, "Bearer x");
	ck_assert_str_eq(x.req_body.data, body);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    x.diagnoses, 0), "message")), "Bearer x");
	exchange_free(&x);
	/* The marker itself still works. */
	redact_marker("hunter2", 7, m);
	ck_assert_str_eq(m, "redacted:f52fbd32b2b3");
	redact_free(r);
	redact_free(NULL);
}
END_TEST

START_TEST(markers_are_left_as_they_are)
{
	struct redactor	*r = redact_new();
	char		*once, *twice, *want;
	const char	*mk = M("hunter2");

	check_header(r, "Authorization", mk, mk);
	want = xasprintf("a=%s; b=%s", mk, M("2"));
	check_header(r, "Cookie", want, want);
	free(want);
	once = redact_url(r, "/p?token=a%20b&x=1");
	twice = redact_url(r, once);
	ck_assert_str_eq(once, twice);
	free(once);
	free(twice);
	want = xasprintf("{\"token\":\"%s\",\"list\":{\"secret\":[\"%s\"]}}",
	    mk, mk);
	check_json(r, want, want);
	free(want);
	redact_free(r);
}
END_TEST

/* Fail when needle occurs in any string of the exchange. */
static void
assert_absent(const struct exchange *x, const char *needle)
{
	const struct http_headers	*hs[2] = { &x->req_headers,
					    &x->resp_headers };
	const struct exchange_body	*bs[2] = { &x->req_body,
					    &x->resp_body };
	char				*d;
	size_t				 i, j;

	ck_assert_msg(strstr(x->url, needle) == NULL, "url: %s", x->url);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < hs[i]->n; j++)
			ck_assert_msg(strstr(hs[i]->v[j].value, needle) ==
			    NULL, "%s: %s", hs[i]->v[j].name,
			    hs[i]->v[j].value);
		if (bs[i]->data != NULL)
			ck_assert_msg(memmem(bs[i]->data, bs[i]->len, needle,
			    strlen(needle)) == NULL, "body: %s",
			    bs[i]->data);
	}
	if (x->diagnoses == NULL)
		return;
	d = json_dumps(x->diagnoses, JSON_COMPACT);
	ck_assert_msg(strstr(d, needle) == NULL, "diagnoses: %s", d);
	free(d);
}

START_TEST(exchange_redacted_and_scrubbed_everywhere)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	char			*want, *got;
	const char		*tok = "t0ps3cret";
	static const char	 req[] = "{\"actions\":[{\"id\":\"w\","
	    "\"to\":\"https://hooks.example/t0ps3cret/notify\","
	    "\"headers\":{\"Authorization\":\"Bearer t0ps3cret\"}}],"
	    "\"note\":\"pw hunter22 and s1d-abc\"}";
	static const char	 resp[] = "ok t0ps3cret and hunter22, "
	    "ab in ab";

	exchange_init(&x);
	x.url = xstrdup("https://api.example/v1/p?password=hunter22&q=1");
	x.reason = xstrdup("OK");
	add(&x.req_headers, "Authorization", "Bearer t0ps3cret");
	add(&x.req_headers, "Cookie", "sid=s1d-abc; k=ab");
	add(&x.req_headers, "Content-Type", "application/json");
	add(&x.req_headers, "X-Echo", "was t0ps3cret");
	exchange_body_set(&x.req_body, req, strlen(req));
	add(&x.resp_headers, "Content-Type", "text/plain");
	add(&x.resp_headers, "Set-Cookie", "sid=s1d-abc; Path=/");
	exchange_body_set(&x.resp_body, resp, strlen(resp));
	x.diagnoses = json_pack("[{s:s,s:s,s:s,s:[s]}]",
	    "message", "token t0ps3cret is sent to hooks.example",
	    "suggestion", "rotate hunter22", "path", "/actions/0",
	    "extra", "s1d-abc");
	redact_exchange(r, &x);

	want = xasprintf("https://api.example/v1/p?password=%s&q=1",
	    M("hunter22"));
	ck_assert_str_eq(x.url, want);
	free(want);
	ck_assert_str_eq(x.req_headers.v[0].value, M("Bearer t0ps3cret"));
	/* "ab" is too short to be scrubbed elsewhere, not to be marked. */
	want = xasprintf("sid=%s; k=%s", M("s1d-abc"), M("ab"));
	ck_assert_str_eq(x.req_headers.v[1].value, want);
	free(want);
	ck_assert_str_eq(x.req_headers.v[2].value, "application/json");
	want = xasprintf("was %s", M(tok));
	ck_assert_str_eq(x.req_headers.v[3].value, want);
	free(want);
	want = xasprintf("{\"actions\":[{\"id\":\"w\","
	    "\"to\":\"https://hooks.example/%s/notify\","
	    "\"headers\":{\"Authorization\":\"%s\"}}],"
	    "\"note\":\"pw %s and %s\"}", M(tok), M("Bearer t0ps3cret"),
	    M("hunter22"), M("s1d-abc"));
	ck_assert_str_eq(x.req_body.data, want);
	ck_assert_uint_eq(x.req_body.len, strlen(want));
	ck_assert_uint_eq(x.req_body.size, strlen(want));
	free(want);
	want = xasprintf("sid=%s; Path=/", M("s1d-abc"));
	ck_assert_str_eq(x.resp_headers.v[1].value, want);
	free(want);
	want = xasprintf("ok %s and %s, ab in ab", M(tok), M("hunter22"));
	ck_assert_str_eq(x.resp_body.data, want);
	ck_assert_uint_eq(x.resp_body.len, strlen(want));
	free(want);
	want = xasprintf("[{\"message\":\"token %s is sent to hooks.example\","
	    "\"suggestion\":\"rotate %s\",\"path\":\"/actions/0\","
	    "\"extra\":[\"%s\"]}]", M(tok), M("hunter22"), M("s1d-abc"));
	got = json_dumps(x.diagnoses, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	ck_assert_str_eq(x.reason, "OK");
	assert_absent(&x, tok);
	assert_absent(&x, "hunter22");
	assert_absent(&x, "s1d-abc");
	exchange_free(&x);
	redact_free(r);
}
END_TEST

START_TEST(exchange_scrubs_secrets_found_in_bodies_and_query)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	char			*want;
	static const char	 form[] = "grant=pw&client_secret=cs%2B99";
	static const char	 resp[] = "{\"access_token\":\"at-777\","
	    "\"echo\":\"cs+99 / cs%2B99\",\"n\":\"at-777!\"}";

	exchange_init(&x);
	x.url = xstrdup("https://auth.example/token?x=at-777");
	add(&x.req_headers, "Content-Type",
	    "application/x-www-form-urlencoded");
	exchange_body_set(&x.req_body, form, strlen(form));
	add(&x.resp_headers, "Content-Type", "application/json");
	add(&x.resp_headers, "Location", "/next?sessionid=at-777");
	exchange_body_set(&x.resp_body, resp, strlen(resp));
	x.diagnoses = json_array();
	redact_exchange(r, &x);
	want = xasprintf("https://auth.example/token?x=%s", M("at-777"));
	ck_assert_str_eq(x.url, want);
	free(want);
	want = xasprintf("grant=pw&client_secret=%s", M("cs+99"));
	ck_assert_str_eq(x.req_body.data, want);
	free(want);
	/* The encoded and the decoded form are both secrets. */
	want = xasprintf("{\"access_token\":\"%s\",\"echo\":\"%s / %s\","
	    "\"n\":\"%s!\"}", M("at-777"), M("cs+99"), M("cs%2B99"),
	    M("at-777"));
	ck_assert_str_eq(x.resp_body.data, want);
	free(want);
	want = xasprintf("/next?sessionid=%s", M("at-777"));
	ck_assert_str_eq(x.resp_headers.v[1].value, want);
	free(want);
	assert_absent(&x, "at-777");
	assert_absent(&x, "cs+99");
	exchange_free(&x);
	redact_free(r);
}
END_TEST

/* A secret that would overlap a marker already there is left alone there. */
START_TEST(exchange_scrub_never_cuts_a_marker)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	char			*want;
	static const char	 req[] = "{\"password\":\"d=red\"}";
	static const char	 resp[] = "id=redacted:0123456789ab and d=red.";

	exchange_init(&x);
	x.url = xstrdup("http://h/");
	add(&x.req_headers, "Content-Type", "application/json");
	exchange_body_set(&x.req_body, req, strlen(req));
	add(&x.resp_headers, "Content-Type", "text/plain");
	exchange_body_set(&x.resp_body, resp, strlen(resp));
	redact_exchange(r, &x);
	want = xasprintf("{\"password\":\"%s\"}", M("d=red"));
	ck_assert_str_eq(x.req_body.data, want);
	free(want);
	want = xasprintf("id=redacted:0123456789ab and %s.", M("d=red"));
	ck_assert_str_eq(x.resp_body.data, want);
	ck_assert_uint_eq(x.resp_body.len, strlen(want));
	free(want);
	exchange_free(&x);
	redact_free(r);
}
END_TEST

/* Replay redacts a recorded request alone: the response stays as recorded. */
START_TEST(request_alone_leaves_the_response_as_it_was)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	char			*want;
	static const char	 resp[] = "{\"access_token\":\"at-777\"}";

	exchange_init(&x);
	x.url = xstrdup("https://h.example/p?token=tk-1234");
	add(&x.req_headers, "Authorization", "Bearer abc");
	add(&x.resp_headers, "Set-Cookie", "sid=s-5678; Path=/");
	add(&x.resp_headers, "Content-Type", "application/json");
	exchange_body_set(&x.resp_body, resp, strlen(resp));
	redact_request(r, &x);
	want = xasprintf("https://h.example/p?token=%s", M("tk-1234"));
	ck_assert_str_eq(x.url, want);
	free(want);
	ck_assert_str_eq(x.req_headers.v[0].value, M("Bearer abc"));
	ck_assert_str_eq(x.resp_headers.v[0].value, "sid=s-5678; Path=/");
	ck_assert_str_eq(x.resp_body.data, resp);
	ck_assert_uint_eq(x.resp_body.len, strlen(resp));
	exchange_free(&x);
	redact_free(r);
}
END_TEST

/*
 * Check redact_request_nobody against redact_request for one URL and
 * header list: the same headers when it answers, NULL exactly when want
 * says the URL is not left alone.
 */
static void
check_nobody(const struct redactor *r, const char *url,
    const char *const *h, size_t nh, int want_shortcut)
{
	struct exchange			 x;
	const struct http_headers	*got;
	struct http_headers		 in = { NULL, 0, 0 };
	size_t				 i;

	for (i = 0; i + 1 < nh; i += 2)
		add(&in, h[i], h[i + 1]);
	exchange_init(&x);
	x.url = xstrdup(url);
	exchange_headers_copy(&x.req_headers, &in);
	redact_request(r, &x);
	got = redact_request_nobody(r, url, &in);
	if (!want_shortcut) {
		ck_assert_msg(got == NULL, "%s: shortcut taken", url);
		ck_assert_msg(strcmp(x.url, url) != 0, "%s: unchanged", url);
	} else {
		ck_assert_msg(got != NULL, "%s: no shortcut", url);
		ck_assert_str_eq(x.url, url);
		ck_assert_uint_eq(got->n, x.req_headers.n);
		for (i = 0; i < got->n; i++) {
			ck_assert_str_eq(got->v[i].name, x.req_headers.v[i].name);
			ck_assert_str_eq(got->v[i].value,
			    x.req_headers.v[i].value);
		}
	}
	http_headers_clear(&in);
	exchange_free(&x);
}

START_TEST(request_without_body_shortcut_is_redact_request)
{
	static const char *const h1[] = {
		"Host", "127.0.0.1:8080",
		"Authorization", "Basic YWNjMTpiZW5jaC1rZXk=",
		"Accept", "application/json",
	};
	static const char *const h2[] = {
		"Cookie", "sid=abc12345; theme=dark",
		"X-Forwarded-For", "abc12345",
		"X-Api-Key", "key-98765",
		"Referer", "https://h.example/p?token=tk-4444",
	};
	static const char *const h3[] = {
		"Authorization", "Bearer tok-5555",
		"X-Echo", "tok-5555",
	};
	struct redactor	*r = redact_new();
	int		 round;

	/* Twice: the second time from the memo. */
	for (round = 0; round < 2; round++) {
		check_nobody(r, "http://127.0.0.1:8080/v1/acc1/profiles/p1",
		    h1, sizeof h1 / sizeof h1[0], 1);
		check_nobody(r, "http://h.example/v1/a?x=1&y=2", h2,
		    sizeof h2 / sizeof h2[0], 1);
		check_nobody(r, "http://h.example/v1/a", h3,
		    sizeof h3 / sizeof h3[0], 1);
		check_nobody(r, "http://h.example/v1/a", NULL, 0, 1);
		/* A secret parameter in the URL: the whole way. */
		check_nobody(r, "http://h.example/v1/a?token=tk-1", h1,
		    sizeof h1 / sizeof h1[0], 0);
		/* A secret of the headers in the URL: scrubbed from it. */
		check_nobody(r, "http://h.example/v1/key-98765/x", h2,
		    sizeof h2 / sizeof h2[0], 0);
		check_nobody(r, "http://h.example/v1/tok-5555", h3,
		    sizeof h3 / sizeof h3[0], 0);
	}
	redact_free(r);
}
END_TEST

/* The memo is the redactor's as it is: a change to it is seen. */
START_TEST(request_without_body_shortcut_follows_the_redactor)
{
	static const char *const h[] = { "X-Session", "s-1234567" };
	struct redactor			*r = redact_new();
	struct http_headers		 in = { NULL, 0, 0 };
	const struct http_headers	*got;

	add(&in, h[0], h[1]);
	got = redact_request_nobody(r, "http://h.example/", &in);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got->v[0].value, "s-1234567");
	redact_add_header(r, "X-Session");
	check_nobody(r, "http://h.example/", h, 2, 1);
	got = redact_request_nobody(r, "http://h.example/", &in);
	ck_assert_str_eq(got->v[0].value, M("s-1234567"));
	redact_disable(r);
	ck_assert_ptr_eq(redact_request_nobody(r, "http://h.example/?token=1",
	    &in), &in);
	http_headers_clear(&in);
	redact_free(r);
}
END_TEST

START_TEST(exchange_scrub_prefers_longest_and_scales)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	struct buf		 body = { NULL, 0, 0 }, note = { NULL, 0, 0 };
	char			*want, *got;
	int			 i;

	exchange_init(&x);
	x.url = xstrdup("http://h/?token=abcd&secret=abcdef");
	/* Many secrets, many sharing their first bytes. */
	buf_adds(&body, "[");
	for (i = 0; i < 5000; i++)
		buf_printf(&body, "%s{\"api_key\":\"key-%d\"}", i ? "," : "",
		    i);
	buf_adds(&body, "]");
	add(&x.resp_headers, "Content-Type", "application/json");
	exchange_body_set(&x.resp_body, body.data, body.len);
	for (i = 0; i < 5000; i += 1000)
		buf_printf(&note, "key-%d,", i);
	x.diagnoses = json_pack("[{s:s,s:s}]", "message", "abcdefg abcdx",
	    "suggestion", note.data);
	redact_exchange(r, &x);
	want = xasprintf("[{\"message\":\"%s"
	    "g %sx\",\"suggestion\":\"%s,%s,%s,%s,%s,\"}]",
	    M("abcdef"), M("abcd"), M("key-0"), M("key-1000"),
	    M("key-2000"), M("key-3000"), M("key-4000"));
	got = json_dumps(x.diagnoses, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	ck_assert_ptr_null(strstr(x.resp_body.data, "key-"));
	ck_assert_ptr_nonnull(strstr(x.resp_body.data, M("key-4999")));
	buf_free(&body);
	buf_free(&note);
	exchange_free(&x);
	redact_free(r);
}
END_TEST

START_TEST(exchange_truncated_bodies)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	char			*want;
	static const char	 cut[] = "{\"user\":\"u\",\"token\":\"tk-42\","
	    "\"items\":[{\"a\":\"tk-42\"},{\"b\":";
	static const char	 text[] = "binary-ish \x01\x02 data";

	exchange_init(&x);
	x.url = xstrdup("http://h/");
	add(&x.resp_headers, "Content-Type", "application/json");
	exchange_body_set(&x.resp_body, cut, strlen(cut));
	x.resp_body.size = 1000;
	x.resp_body.truncated = 1;
	add(&x.req_headers, "Content-Type", "application/octet-stream");
	exchange_body_set(&x.req_body, text, strlen(text));
	x.req_body.size = 500;
	x.req_body.truncated = 1;
	redact_exchange(r, &x);
	want = xasprintf("{\"user\":\"u\",\"token\":\"%s\","
	    "\"items\":[{\"a\":\"%s\"},{\"b\":", M("tk-42"), M("tk-42"));
	ck_assert_str_eq(x.resp_body.data, want);
	ck_assert_uint_eq(x.resp_body.len, strlen(want));
	ck_assert(x.resp_body.truncated);
	ck_assert_uint_eq(x.resp_body.size, 1000 - strlen(cut) +
	    strlen(want));
	free(want);
	/* Nothing secret in it: kept as it is. */
	ck_assert_str_eq(x.req_body.data, text);
	ck_assert(x.req_body.truncated);
	ck_assert_uint_eq(x.req_body.size, 500);
	exchange_free(&x);
	redact_free(r);
}
END_TEST

START_TEST(exchange_without_secrets_is_untouched)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	static const char	 body[] = "{ \"name\" : \"x\",\n \"n\": 1.50 }";

	exchange_init(&x);
	x.url = xstrdup("http://h/p?q=1#f");
	add(&x.req_headers, "Content-Type", "application/json");
	add(&x.req_headers, "Host", "h");
	exchange_body_set(&x.req_body, body, strlen(body));
	add(&x.resp_headers, "Content-Type", "application/json");
	exchange_body_set(&x.resp_body, body, strlen(body));
	x.resp_body.size = 99;
	x.resp_body.truncated = 1;
	x.diagnoses = json_pack("[{s:s}]", "message", "fine");
	redact_exchange(r, &x);
	ck_assert_str_eq(x.url, "http://h/p?q=1#f");
	ck_assert_str_eq(x.req_body.data, body);
	ck_assert_str_eq(x.resp_body.data, body);
	ck_assert_uint_eq(x.resp_body.size, 99);
	ck_assert_str_eq(x.req_headers.v[1].value, "h");
	exchange_free(&x);
	/* An empty exchange is fine too. */
	exchange_init(&x);
	redact_exchange(r, &x);
	ck_assert_ptr_null(x.url);
	exchange_free(&x);
	redact_free(r);
}
END_TEST

START_TEST(exchange_redacted_twice_is_the_same)
{
	struct redactor		*r = redact_new();
	struct exchange		 x;
	char			*url, *body, *cookie, *diag, *got;
	static const char	 req[] = "{\"password\":\"pw-1234\","
	    "\"to\":\"http://h/?token=pw-1234\"}";

	exchange_init(&x);
	x.url = xstrdup("http://h/?token=pw-1234");
	add(&x.req_headers, "Cookie", "a=pw-1234; b=2");
	add(&x.req_headers, "Content-Type", "application/json");
	exchange_body_set(&x.req_body, req, strlen(req));
	x.diagnoses = json_pack("[{s:s}]", "message", "pw-1234");
	redact_exchange(r, &x);
	url = xstrdup(x.url);
	body = xstrdup(x.req_body.data);
	cookie = xstrdup(x.req_headers.v[0].value);
	diag = json_dumps(x.diagnoses, JSON_COMPACT);
	redact_exchange(r, &x);
	ck_assert_str_eq(x.url, url);
	ck_assert_str_eq(x.req_body.data, body);
	ck_assert_str_eq(x.req_headers.v[0].value, cookie);
	got = json_dumps(x.diagnoses, JSON_COMPACT);
	ck_assert_str_eq(got, diag);
	free(got);
	assert_absent(&x, "pw-1234");
	free(url);
	free(body);
	free(cookie);
	free(diag);
	exchange_free(&x);
	redact_free(r);
}
END_TEST

/* The marker sha256 gives, worked out here without redact_marker. */
static void
marker_by_hand(const char *v, size_t len, char out[REDACT_MARKER_LEN + 1])
{
	unsigned char	d[SHA256_DIGEST_LEN];
	int		i;

	sha256(v, len, d);
	strcpy(out, REDACT_PREFIX);
	for (i = 0; i < 6; i++)
		snprintf(out + strlen(REDACT_PREFIX) + 2 * i, 3, "%02x", d[i]);
}

/*
 * Markers of values just seen come from a small memory: whatever the
 * order, each is the one its own value gives (never a neighbour's, never
 * stale), for values of one length that differ in one byte, for a value
 * too long to be kept, and for the empty value.
 */
START_TEST(marker_of_a_value_seen_before_is_its_own)
{
	char	 want[REDACT_MARKER_LEN + 1], got[REDACT_MARKER_LEN + 1];
	char	 v[32], *big;
	size_t	 i, round, n = 5000;

	big = xmalloc(n);
	memset(big, 'k', n);
	for (round = 0; round < 3; round++)
		for (i = 0; i < 20; i++) {
			/* 20 values of one length, more than are remembered. */
			snprintf(v, sizeof v, "Bearer tok-%02zu-xyz",
			    (i * 7 + round) % 20);
			marker_by_hand(v, strlen(v), want);
			redact_marker(v, strlen(v), got);
			ck_assert_str_eq(got, want);
			redact_marker(v, strlen(v), got);
			ck_assert_str_eq(got, want);
			/* The same bytes, one shorter: another marker. */
			marker_by_hand(v, strlen(v) - 1, want);
			redact_marker(v, strlen(v) - 1, got);
			ck_assert_str_eq(got, want);
			big[i] = (char)('a' + round);
			marker_by_hand(big, n, want);
			redact_marker(big, n, got);
			ck_assert_str_eq(got, want);
		}
	marker_by_hand("", 0, want);
	redact_marker("", 0, got);
	ck_assert_str_eq(got, want);
	redact_marker("", 0, got);
	ck_assert_str_eq(got, want);
	free(big);
}
END_TEST

static Suite *
redact_suite(void)
{
	Suite	*s = suite_create("redact");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sha256_matches_fips_vectors);
	tcase_add_test(tc, sha256_million_a_in_one_go_and_in_pieces);
	tcase_add_test(tc, sha256_pieces_equal_whole_at_every_split);
	tcase_add_test(tc, marker_is_prefix_and_twelve_hex_digits);
	tcase_add_test(tc, marker_of_a_value_seen_before_is_its_own);
	tcase_add_test(tc, redact_keeps_hashes_distinct);
	tcase_add_test(tc, headers_builtin_are_marked_whole);
	tcase_add_test(tc, headers_cookie_marks_each_value);
	tcase_add_test(tc, headers_set_cookie_keeps_attributes);
	tcase_add_test(tc, headers_whose_names_look_secret_are_marked);
	tcase_add_test(tc, headers_with_url_values_get_their_query_redacted);
	tcase_add_test(tc, user_added_names_are_compared_whole);
	tcase_add_test(tc, names_secret_words_and_author);
	tcase_add_test(tc, url_marks_secret_parameters_only);
	tcase_add_test(tc, json_keys_at_any_depth_inside_arrays);
	tcase_add_test(tc, json_numbers_and_booleans_marked_null_kept);
	tcase_add_test(tc, json_under_a_secret_key_every_scalar_is_marked);
	tcase_add_test(tc, json_webhook_action_headers);
	tcase_add_test(tc, json_url_strings_get_their_query_redacted);
	tcase_add_test(tc, json_depth_is_bounded_at_64);
	tcase_add_test(tc, hostile_nesting_does_not_crash);
	tcase_add_test(tc, body_json_rewritten_only_when_changed);
	tcase_add_test(tc, body_form_urlencoded_like_a_query);
	tcase_add_test(tc, body_that_does_not_parse_is_redacted_lexically);
	tcase_add_test(tc, disabled_redactor_changes_nothing);
	tcase_add_test(tc, markers_are_left_as_they_are);
	tcase_add_test(tc, exchange_redacted_and_scrubbed_everywhere);
	tcase_add_test(tc, exchange_scrubs_secrets_found_in_bodies_and_query);
	tcase_add_test(tc, exchange_scrub_prefers_longest_and_scales);
	tcase_add_test(tc, exchange_scrub_never_cuts_a_marker);
	tcase_add_test(tc, request_alone_leaves_the_response_as_it_was);
	tcase_add_test(tc, request_without_body_shortcut_is_redact_request);
	tcase_add_test(tc, request_without_body_shortcut_follows_the_redactor);
	tcase_add_test(tc, exchange_truncated_bodies);
	tcase_add_test(tc, exchange_without_secrets_is_untouched);
	tcase_add_test(tc, exchange_redacted_twice_is_the_same);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(redact_suite());
}
