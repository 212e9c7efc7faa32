/*
 * Unit tests for json_out: its text is json_dumps(JSON_INDENT(2) |
 * JSON_PRESERVE_ORDER) with a margin, byte for byte, for real cassettes,
 * entries the encoder makes, and values chosen to be awkward (every
 * control byte, NUL inside a string, reals of every shape, deep nesting);
 * and the recorder's entry text (cassette_entry_write, on json_out's
 * writer) is what jansson itself prints of the entry (the encoded entry is
 * that text parsed) for every exchange of the test cassettes and for
 * exchanges chosen to be awkward.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "http.h"
#include "json_out.h"
#include "unit.h"
#include "xmalloc.h"

static const char *
srcdir(void)
{
	const char	*d = getenv("PATCHSCOPE_SRCDIR");

	return d != NULL ? d : ".";
}

/* What json_dumps writes, with margin spaces after every newline. */
static char *
reference(const json_t *v, size_t margin)
{
	struct buf	 out = { NULL, 0, 0 };
	char		*text, *p;
	size_t		 i;

	text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);
	ck_assert_ptr_nonnull(text);
	for (p = text; *p != '\0'; p++) {
		buf_add(&out, p, 1);
		if (*p == '\n')
			for (i = 0; i < margin; i++)
				buf_add(&out, " ", 1);
	}
	free(text);
	buf_add(&out, "", 1);
	return out.data;
}

static void
assert_same(const json_t *v, size_t margin)
{
	struct buf	 out = { NULL, 0, 0 };
	char		*want;

	want = reference(v, margin);
	json_out_indented(&out, v, margin);
	ck_assert_uint_eq(out.len, strlen(want));
	ck_assert_msg(memcmp(out.data, want, out.len) == 0,
	    "json_out wrote\n%.*s\njson_dumps wrote\n%s", (int)out.len,
	    out.data, want);
	free(want);
	buf_free(&out);
}

static void
assert_same_file(const char *path)
{
	json_error_t	 err;
	json_t		*doc;

	doc = json_load_file(path, 0, &err);
	ck_assert_msg(doc != NULL, "%s: %s", path, err.text);
	assert_same(doc, 0);
	assert_same(doc, 6);
	json_decref(doc);
}

START_TEST(same_as_json_dumps_for_the_seed_cassette)
{
	char	*path;

	path = xasprintf("%s/cassettes/seed-story.har", srcdir());
	assert_same_file(path);
	free(path);
}
END_TEST

START_TEST(same_as_json_dumps_for_every_test_data_file)
{
	static const char	*dirs[] = { "tests/data/cassette",
	    "tests/data/diagnose" };
	struct dirent		*de;
	DIR			*d;
	char			*dir, *path;
	size_t			 i, n = 0;

	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		dir = xasprintf("%s/%s", srcdir(), dirs[i]);
		d = opendir(dir);
		ck_assert_msg(d != NULL, "cannot open %s", dir);
		while ((de = readdir(d)) != NULL) {
			size_t len = strlen(de->d_name);

			if (len < 5 || (strcmp(de->d_name + len - 5,
			    ".json") != 0 && strcmp(de->d_name + len - 4,
			    ".har") != 0))
				continue;
			path = xasprintf("%s/%s", dir, de->d_name);
			assert_same_file(path);
			free(path);
			n++;
		}
		closedir(d);
		free(dir);
	}
	ck_assert_uint_ge(n, 5);
}
END_TEST

START_TEST(same_as_json_dumps_for_an_encoded_entry)
{
	struct exchange	 x;
	json_t		*entry;
	static const char body[] = "{\"actions\":[{\"anchor\":\"CANCELED\"}],"
	    "\"note\":\"tab\\there \\u0001 \\u00e9\"}";

	exchange_init(&x);
	x.started = xstrdup("2026-12-02T10:00:00.123Z");
	x.time_ms = 12.5;
	x.send_ms = 0.25;
	x.wait_ms = 1e-7;
	x.receive_ms = 3;
	x.method = xstrdup("PATCH");
	x.url = xstrdup("https://api.example.test/v1/acc1/profiles/p1?a=b&c");
	x.http_version = xstrdup("HTTP/1.1");
	http_headers_add(&x.req_headers, "Content-Type", 12,
	    "application/json", 16);
	http_headers_add(&x.req_headers, "X-Odd", 5, "quote \" back \\", 14);
	exchange_body_set(&x.req_body, body, sizeof body - 1);
	x.status = 400;
	x.reason = xstrdup("Bad Request");
	http_headers_add(&x.resp_headers, "Content-Type", 12,
	    "application/json", 16);
	exchange_body_set(&x.resp_body, "{\"errors\":[]}", 13);
	entry = cassette_entry_encode(&x);
	ck_assert_ptr_nonnull(entry);
	assert_same(entry, 6);
	json_decref(entry);
	exchange_free(&x);
}
END_TEST

START_TEST(strings_escape_as_jansson_does)
{
	char	 all[256];
	json_t	*v;
	int	 i;

	/* Every byte below 0x80, NUL included, then a multi-byte one. */
	for (i = 0; i < 128; i++)
		all[i] = (char)i;
	memcpy(all + 128, "\xc3\xa9\xe2\x82\xac/\xf0\x9f\x98\x80", 11);
	v = json_stringn(all, 139);
	ck_assert_ptr_nonnull(v);
	assert_same(v, 0);
	json_decref(v);
	v = json_pack("{s:s, s:s, s:[s,s]}", "", "", "\"key\\\n", "x",
	    "a/b", "\x7f", "</script>");
	ck_assert_ptr_nonnull(v);
	assert_same(v, 4);
	json_decref(v);
}
END_TEST

START_TEST(reals_print_as_jansson_prints_them)
{
	static const double	 values[] = { 0.0, -0.0, 1.0, -1.0, 0.5, 5.0,
	    12.5, 0.1, 1.0 / 3.0, 1e-7, 1.5e-300, 1e20, 1e21, 1e22,
	    123456789012345678.0, 1e308, -2.5e-5, 4.9e-324, 1e16, 1e17,
	    9007199254740993.0, 100.0, 1234.5678 };
	json_t			*v;
	size_t			 i;
	int			 k;
	uint64_t		 bits = 0x9e3779b97f4a7c15ULL;
	double			 d;

	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		v = json_real(values[i]);
		assert_same(v, 0);
		json_decref(v);
	}
	/* Many more: finite doubles from a fixed pseudo-random sequence. */
	for (k = 0; k < 20000; k++) {
		bits ^= bits << 13;
		bits ^= bits >> 7;
		bits ^= bits << 17;
		memcpy(&d, &bits, sizeof d);
		if (!isfinite(d))
			continue;
		v = json_real(d);
		assert_same(v, 0);
		json_decref(v);
		v = json_real((double)(int64_t)(bits >> 20) / 1000.0);
		assert_same(v, 0);
		json_decref(v);
	}
}
END_TEST

START_TEST(nesting_empty_containers_and_scalars)
{
	json_t	*v, *inner;
	int	 i;

	v = json_pack("{s:{}, s:[], s:[[], {}, [i, [i, {s:n}]]], s:b, "
	    "s:b, s:I, s:I}", "o", "a", "n", 1, 2, "x", "t", 1, "f", 0, "big",
	    (json_int_t)INT64_MAX, "small", (json_int_t)INT64_MIN);
	ck_assert_ptr_nonnull(v);
	assert_same(v, 0);
	assert_same(v, 6);
	json_decref(v);
	/* Deep: 200 levels of arrays and objects. */
	v = json_integer(7);
	for (i = 0; i < 200; i++) {
		inner = v;
		v = i % 2 ? json_pack("{s:o}", "k", inner) :
		    json_pack("[o]", inner);
	}
	assert_same(v, 2);
	json_decref(v);
}
END_TEST

START_TEST(keys_keep_their_insertion_order)
{
	json_t	*v = json_object();
	char	 key[16];
	int	 i;

	for (i = 0; i < 64; i++) {
		snprintf(key, sizeof key, "k%d", (i * 7919) % 97);
		json_object_set_new(v, key, json_integer(i));
	}
	/* Replacing a value keeps its key's place. */
	json_object_set_new(v, "k0", json_string("again"));
	json_object_del(v, "k19");
	assert_same(v, 6);
	json_decref(v);
}
END_TEST


/* cassette_entry_write(x) is cassette_entry_text(cassette_entry_encode(x)). */
static void
assert_entry_same(const struct exchange *x)
{
	struct buf	 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	json_t		*entry;
	int		 first;

	for (first = 0; first < 2; first++) {
		entry = cassette_entry_encode(x);
		ck_assert_ptr_nonnull(entry);
		cassette_entry_text(entry, first, &a);
		json_decref(entry);
		cassette_entry_write(x, first, &b);
		ck_assert_uint_eq(a.len, b.len);
		ck_assert_msg(memcmp(a.data, b.data, a.len) == 0,
		    "written\n%.*s\nencoded\n%.*s", (int)b.len, b.data,
		    (int)a.len, a.data);
		buf_reset(&a);
		buf_reset(&b);
	}
	buf_free(&a);
	buf_free(&b);
}

static int
entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	(void)index;
	(void)cause;
	assert_entry_same(x);
	(*(size_t *)arg)++;
	exchange_free(x);
	return 0;
}

static void
assert_cassette_entries_same(const char *name, size_t at_least)
{
	char	*path, *data, *cause = NULL;
	FILE	*f;
	long	 len;
	size_t	 n = 0;

	path = xasprintf("%s/%s", srcdir(), name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	data = xmalloc((size_t)len + 1);
	ck_assert_uint_eq(fread(data, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	ck_assert_msg(cassette_parse(data, (size_t)len, entry_cb, &n, NULL,
	    &cause) == 0, "%s: %s", path, cause);
	ck_assert_uint_ge(n, at_least);
	free(data);
	free(path);
}

START_TEST(entry_written_as_encoded_for_recorded_cassettes)
{
	assert_cassette_entries_same("cassettes/seed-story.har", 4);
	assert_cassette_entries_same(
	    "tests/data/cassette/chrome-two-entries.har", 2);
}
END_TEST

START_TEST(entry_written_as_encoded_for_awkward_exchanges)
{
	static const char	*urls[] = {
	    "http://h/p?a=1&b=%41%42&c&=x&d=&e=%ff%fe&f=a+b&&g=%00&h=%e2%82",
	    "https://h:8443/v1/acc1/profiles/p1",
	    "http://h/?%C3%A9=%E2%82%AC#frag", "not a url", NULL };
	static const double	 times[] = { 0, 12.5, -3, 1e300, 5,
	    0.1 + 0.2, 9007199254740993.0 };
	struct exchange		 x;
	json_error_t		 err;
	size_t			 i, k;
	char			 bin[6] = { 'a', 0, (char)0xff, 'b', 'c', 'd' };

	for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		exchange_init(&x);
		if (i != 3) {
			x.started = xstrdup("2026-12-02T10:00:00.000Z");
			x.method = xstrdup(i == 1 ? "PATCH" : "GET");
			x.http_version = i == 2 ? xstrdup("HTTP/1.0") : NULL;
			x.reason = xstrdup(i == 0 ? "Bad \xff Request" : "OK");
			x.server_ip = xstrdup("127.0.0.1");
		}
		if (urls[i] != NULL)
			x.url = xstrdup(urls[i]);
		x.time_ms = times[i % 7];
		x.send_ms = times[(i + 1) % 7];
		x.wait_ms = times[(i + 2) % 7];
		x.receive_ms = 0.0 / 0.0;
		x.req_wire_bytes = i == 0 ? UINT64_MAX : 42;
		x.resp_wire_bytes = (uint64_t)INT64_MAX + i;
		x.status = i == 4 ? 0 : 200 + (int)i;
		http_headers_add(&x.req_headers, "Cookie", 6,
		    " a=1; b = 2 ;c; =d; e=\"x y\" ; ;f=", 33);
		http_headers_add(&x.req_headers, "X-Bad", 5, "\xc3(\x01", 3);
		http_headers_add(&x.req_headers, "Content-Type", 12,
		    "application/json", 16);
		http_headers_add(&x.resp_headers, "Set-Cookie", 10,
		    "sid=abc; Path=/; HttpOnly", 25);
		http_headers_add(&x.resp_headers, "Set-Cookie", 10, "=x", 2);
		if (i == 1)
			http_headers_add(&x.resp_headers, "Location", 8,
			    "/elsewhere", 10);
		if (i != 2)
			http_headers_add(&x.resp_headers, "Content-Type", 12,
			    "text/plain; charset=\"\xe9\"", 23);
		/* Bodies: binary of each length mod 3 (base64 padding),
		 * text with escapes, absent, empty, truncated, decoded. */
		if (i < 4) {
			exchange_body_set(&x.req_body, bin, i + 2);
			exchange_body_set(&x.resp_body,
			    "{\"q\":\"tab\\t \u00e9 </x>\"}\n", 22);
		}
		if (i == 1) {
			x.resp_body.truncated = 1;
			x.resp_body.size = 1u << 30;
			x.resp_body.decoded_from = xstrdup("gzip");
			x.req_body.decoded_from = xstrdup("deflate");
		}
		if (i == 4)
			exchange_body_set(&x.resp_body, "", 0);
		if (i == 0) {
			x.diagnoses = json_loads("[{\"code\":\"actions."
			    "partial\",\"path\":\"/actions\",\"n\":1.5,"
			    "\"more\":{\"a\":[],\"b\":{}}}]", 0, &err);
			ck_assert_ptr_nonnull(x.diagnoses);
			/* NUL inside a string of patchscope's own data (a
			 * loaded cassette may hold one: found by fuzzing). */
			json_array_append_new(x.diagnoses,
			    json_stringn("a\0b", 3));
			x.answered_by = xstrdup("patchscope");
			x.error = xstrdup("upstream_tls");
			x.fault = xstrdup("status:429:retry-after=30");
		}
		if (i == 4)
			x.fault = xstrdup("reset \"odd\" \xff text");
		assert_entry_same(&x);
		exchange_free(&x);
	}
	/* A large binary body: base64 written in chunks. */
	exchange_init(&x);
	x.method = xstrdup("PUT");
	x.url = xstrdup("http://h/upload");
	x.req_body.data = xmalloc(100003);
	for (k = 0; k < 100003; k++)
		x.req_body.data[k] = (char)(k * 7 + 3);
	x.req_body.data[100002] = '\0';
	x.req_body.len = x.req_body.size = 100002;
	assert_entry_same(&x);
	exchange_free(&x);
}
END_TEST

static Suite *
json_out_suite(void)
{
	Suite	*s = suite_create("json_out");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, same_as_json_dumps_for_the_seed_cassette);
	tcase_add_test(tc, same_as_json_dumps_for_every_test_data_file);
	tcase_add_test(tc, same_as_json_dumps_for_an_encoded_entry);
	tcase_add_test(tc, strings_escape_as_jansson_does);
	tcase_add_test(tc, reals_print_as_jansson_prints_them);
	tcase_add_test(tc, nesting_empty_containers_and_scalars);
	tcase_add_test(tc, keys_keep_their_insertion_order);
	tcase_add_test(tc, entry_written_as_encoded_for_recorded_cassettes);
	tcase_add_test(tc, entry_written_as_encoded_for_awkward_exchanges);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(json_out_suite());
}
