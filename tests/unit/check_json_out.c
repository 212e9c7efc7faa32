/*
 * Unit tests for json_out: its text is json_dumps(JSON_INDENT(2) |
 * JSON_PRESERVE_ORDER) with a margin, byte for byte, for real cassettes,
 * entries the encoder makes, and values chosen to be awkward (every
 * control byte, NUL inside a string, reals of every shape, deep nesting).
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
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(json_out_suite());
}
