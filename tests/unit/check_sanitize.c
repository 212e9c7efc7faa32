/*
 * Unit tests for sanitize: every place of a HAR entry (headers and
 * cookies on both sides, the URL and queryString, postData.params and
 * text as JSON and as a form, response content as JSON and base64,
 * redirectURL, WebSocket frames), the scrub of found values elsewhere,
 * the bytes kept (layout, numbers, unknown fields), idempotence, the
 * summary's counts, the --redact-* names, and documents of the wrong
 * shape or hostile ones.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "redact.h"
#include "sanitize.h"
#include "sanitize_local.h"
#include "sha256.h"
#include "xmalloc.h"
#include "unit.h"

/* The expected marker of v, from sha256 alone; valid for 15 more calls. */
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

/* s with each ' made " (HAR text is easier to read that way); the
 * result stays valid for 7 more calls. */
static const char *
Q(const char *s)
{
	static char	*ring[8];
	static int	 next;
	char		*out, *p;

	free(ring[next % 8]);
	out = ring[next++ % 8] = xstrdup(s);
	for (p = out; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return out;
}

/* The result of one run. */
struct run {
	int			 rc;
	struct buf		 out;
	struct sanitize_report	 rep;
	char			*cause;
	struct buf		 line;
};

static void
run_with(struct run *x, const struct redactor *r, const char *text)
{
	memset(x, 0, sizeof *x);
	x->rc = sanitize_har(r, text, strlen(text), &x->out, &x->rep,
	    &x->cause);
	if (x->rc == 0)
		sanitize_report_text(&x->rep, "redacted", &x->line);
}

static void
run(struct run *x, const char *text)
{
	struct redactor	*r = redact_new();

	run_with(x, r, text);
	redact_free(r);
}

static void
run_free(struct run *x)
{
	buf_free(&x->out);
	buf_free(&x->line);
	free(x->cause);
	sanitize_report_free(&x->rep);
}

static void
has(const struct run *x, const char *s)
{
	ck_assert_msg(x->rc == 0, "failed: %s", x->cause);
	ck_assert_msg(strstr(buf_str(&x->out), s) != NULL,
	    "\"%s\" not in %s", s, buf_str(&x->out));
}

static void
lacks(const struct run *x, const char *s)
{
	ck_assert_msg(strstr(buf_str(&x->out), s) == NULL,
	    "\"%s\" still in %s", s, buf_str(&x->out));
}

static void
summary(const struct run *x, const char *want)
{
	ck_assert_msg(strcmp(buf_str(&x->line), want) == 0,
	    "summary: got \"%s\"\nwant \"%s\"", buf_str(&x->line), want);
}

/* A document of one entry: the request's and the response's members. */
static const char *
entry(const char *req, const char *resp)
{
	static char	*doc;

	free(doc);
	doc = xasprintf("{\"log\": {\"version\": \"1.2\", \"entries\": [\n"
	    "  {\"request\": {%s},\n   \"response\": {%s}}\n]}}\n", Q(req),
	    Q(resp));
	return doc;
}

/* Run text, then run the output again: it must come back unchanged. */
static void
check_idempotent(const struct run *x)
{
	struct run	again;

	run(&again, buf_str(&x->out));
	ck_assert_msg(again.rc == 0, "%s", again.cause);
	ck_assert_str_eq(buf_str(&again.out), buf_str(&x->out));
	ck_assert_uint_eq(sanitize_report_total(&again.rep), 0);
	run_free(&again);
}

START_TEST(headers_both_sides)
{
	struct run	x;

	run(&x, entry("'url': 'http://h/a', 'headers': ["
	    "{'name': 'Authorization', 'value': 'Bearer tok_AAAA1111'},"
	    "{'name': 'cookie', 'value': 'sid=s1s1s1; theme=dark'},"
	    "{'name': 'X-Api-Key', 'value': 'key_BBBB2222'},"
	    "{'name': 'Accept', 'value': 'application/json'}]",
	    "'status': 200, 'headers': ["
	    "{'name': 'Set-Cookie', 'value': 'sid=s2s2s2; Path=/; HttpOnly'},"
	    "{'name': 'WWW-Authenticate', 'value': 'Bearer realm=x'}]"));
	has(&x, M("Bearer tok_AAAA1111"));
	lacks(&x, "tok_AAAA1111");
	has(&x, Q("'sid=")); has(&x, M("s1s1s1"));
	has(&x, M("dark"));
	has(&x, M("key_BBBB2222"));
	has(&x, Q("'value': 'application/json'"));
	has(&x, "; Path=/; HttpOnly");
	has(&x, M("s2s2s2"));
	has(&x, "Bearer realm=x");
	summary(&x, "redacted 3 request headers (Authorization, cookie, "
	    "X-Api-Key) and 1 response header (Set-Cookie), in 1 of 1 entry");
	check_idempotent(&x);
	run_free(&x);
}
END_TEST

START_TEST(cookies_both_sides)
{
	struct run	x;

	run(&x, entry("'url': 'http://h/', 'cookies': ["
	    "{'name': 'sid', 'value': 'abc123', 'path': '/', 'domain': 'h',"
	    " 'expires': null, 'httpOnly': true, 'secure': false},"
	    "{'name': 'empty', 'value': ''}]",
	    "'status': 200, 'cookies': [{'name': 'sid', 'value': 'def456',"
	    " 'path': '/', 'httpOnly': true, 'sameSite': 'Lax'}]"));
	has(&x, Q("{'name': 'sid', 'value': '"));
	has(&x, M("abc123"));
	has(&x, M("def456"));
	has(&x, Q("'path': '/', 'domain': 'h', 'expires': null, "
	    "'httpOnly': true, 'secure': false}"));
	has(&x, Q("{'name': 'empty', 'value': ''}"));
	has(&x, Q("'sameSite': 'Lax'"));
	summary(&x, "redacted 2 cookies (sid x2), in 1 of 1 entry");
	check_idempotent(&x);
	run_free(&x);
}
END_TEST

START_TEST(query_in_url_and_query_string_counted_once)
{
	struct run	x;

	run(&x, entry("'url': 'https://h/p?api_key=k%2F1&page=2&access_token="
	    "t%201#frag', 'queryString': [{'name': 'api_key', 'value': "
	    "'k%2F1'}, {'name': 'page', 'value': '2'}, {'name': "
	    "'access_token', 'value': 't 1'}]", "'status': 200"));
	/* The marker of the decoded value, in the URL and the list. */
	has(&x, Q("'https://h/p?api_key="));
	has(&x, M("k/1"));
	has(&x, M("t 1"));
	has(&x, "&page=2&access_token=");
	has(&x, Q("#frag'"));
	has(&x, Q("{'name': 'page', 'value': '2'}"));
	lacks(&x, "k%2F1");
	lacks(&x, "t%201");
	summary(&x, "redacted 2 query parameters (api_key, access_token), in "
	    "1 of 1 entry");
	check_idempotent(&x);
	run_free(&x);
}
END_TEST

START_TEST(post_params_and_form_text)
{
	struct run	x;

	run(&x, entry("'method': 'POST', 'url': 'http://h/login', 'postData': "
	    "{'mimeType': 'application/x-www-form-urlencoded', 'text': "
	    "'user=bob&password=hunter2%21&csrf_token=ct99', 'params': ["
	    "{'name': 'user', 'value': 'bob'}, {'name': 'password', 'value': "
	    "'hunter2%21'}, {'name': 'csrf_token', 'value': 'ct99'},"
	    "{'name': 'avatar_secret', 'fileName': 'a.png', 'contentType': "
	    "'image/png'}]}", "'status': 302, 'redirectURL': "
	    "'https://h/home?session_id=sess777'"));
	has(&x, "user=bob&password=");
	has(&x, M("hunter2!"));
	has(&x, M("ct99"));
	lacks(&x, "hunter2");
	has(&x, Q("{'name': 'user', 'value': 'bob'}"));
	has(&x, Q("{'name': 'avatar_secret', 'fileName': 'a.png', "
	    "'contentType': 'image/png'}"));
	has(&x, M("sess777"));
	summary(&x, "redacted 1 query parameter (session_id) and 2 form "
	    "fields (password, csrf_token), in 1 of 1 entry");
	check_idempotent(&x);
	run_free(&x);
}
END_TEST

START_TEST(json_bodies_keep_their_layout)
{
	struct run	x;

	run(&x, entry("'method': 'POST', 'url': 'http://h/', 'postData': "
	    "{'mimeType': 'application/json', 'text': '{\\n  \\'user\\': "
	    "\\'b\\\\u00f6b\\',\\n  \\'password\\' : \\'pw-12345\\',\\n  "
	    "\\'pin_secret\\': 1234, \\'n\\': 1.50,\\n  \\'auth\\': "
	    "{\\'a\\': [true, null, \\'xyzw\\']}\\n}'}",
	    "'status': 200, 'content': {'size': 10, 'mimeType': "
	    "'application/problem+json', 'text': '[{\\'refresh_token\\':"
	    "\\'rt-0001\\'}]'}"));
	/* Spacing, escapes and numbers of the body as they were. */
	has(&x, "{\\n  \\\"user\\\": \\\"b\\\\u00f6b\\\",\\n  \\\"password\\\""
	    " : \\\"");
	has(&x, M("pw-12345"));
	has(&x, M("1234"));
	has(&x, "\\\"n\\\": 1.50,");
	has(&x, M("true"));
	has(&x, "null, \\\"");
	has(&x, M("xyzw"));
	has(&x, M("rt-0001"));
	lacks(&x, "pw-12345");
	summary(&x, "redacted 4 JSON keys (password, pin_secret, auth, "
	    "refresh_token), in 1 of 1 entry");
	check_idempotent(&x);
	run_free(&x);
}
END_TEST

START_TEST(base64_content)
{
	struct run	 x;
	struct buf	 b64 = { NULL, 0, 0 }, want = { NULL, 0, 0 };
	char		*body, *doc, *resp;
	const char	*secret = "{\"token\": \"b64-SECRET-42\"}";

	sanitize_b64_encode((const unsigned char *)secret, strlen(secret),
	    &b64);
	body = xasprintf("{\"token\": \"%s\"}", M("b64-SECRET-42"));
	sanitize_b64_encode((const unsigned char *)body, strlen(body), &want);
	doc = xasprintf("'url': 'http://h/', 'headers': [{'name': "
	    "'X-Copy', 'value': 'b64-SECRET-42 again'}]");
	/* The secret found in the base64 body is scrubbed elsewhere too. */
	resp = xasprintf("'status': 200, 'content': {'mimeType': "
	    "'application/json', 'encoding': 'base64', 'text': '%s'}",
	    b64.data);
	run(&x, entry(doc, resp));
	has(&x, want.data);
	has(&x, M("b64-SECRET-42"));
	lacks(&x, "b64-SECRET-42 again");
	lacks(&x, b64.data);
	summary(&x, "redacted 1 JSON key (token) and 1 other copy of those "
	    "values, in 1 of 1 entry");
	check_idempotent(&x);
	run_free(&x);
	free(body);
	free(doc);
	free(resp);
	buf_free(&b64);
	buf_free(&want);
}
END_TEST

START_TEST(not_base64_is_left_alone)
{
	struct run	x;

	run(&x, entry("'url': 'http://h/'", "'status': 200, 'content': {"
	    "'mimeType': 'application/json', 'encoding': 'base64', 'text': "
	    "'{not base64}'}"));
	has(&x, "{not base64}");
	summary(&x, "nothing to redact in 1 entry");
	run_free(&x);
}
END_TEST

START_TEST(found_values_scrubbed_everywhere)
{
	struct run	x;
	const char	*doc = Q("{'log': {'pages': [{'id': 'p', 'title': "
	    "'http://h/app?token=tok-PAGE-1'}], 'comment': "
	    "'key was key_XYZ_999', 'entries': [\n"
	    "{'_initiator': {'type': 'script', 'stack': {'callFrames': "
	    "[{'url': 'http://h/app.js?signature=abc'}]}}, 'request': {'url': "
	    "'http://h/a', 'headers': [{'name': 'X-Api-Key', 'value': "
	    "'key_XYZ_999'}]}, 'response': {'status': 200, 'content': "
	    "{'mimeType': 'text/html', 'text': '<p>key_XYZ_999</p>'}}},\n"
	    "{'request': {'url': 'http://h/b?token=tok-PAGE-1'}, "
	    "'response': {'status': 200}},\n"
	    "{'request': {'url': 'http://h/c'}}]}}");

	run(&x, doc);
	lacks(&x, "key_XYZ_999");
	lacks(&x, "tok-PAGE-1");
	has(&x, Q("'comment': 'key was "));
	has(&x, Q("'<p>redacted:"));
	has(&x, M("abc"));
	summary(&x, "redacted 1 request header (X-Api-Key), 3 query "
	    "parameters (token x2, signature) and 2 other copies of those "
	    "values, in 2 of 3 entries");
	check_idempotent(&x);
	run_free(&x);
}
END_TEST

START_TEST(other_bytes_stay)
{
	struct run	 x;
	const char	*doc = Q("{\n\t'log' : {\n\t\t'creator': {'name': "
	    "'Firefox', 'version': '120.0'},\n\t\t'entries' : [ {\n"
	    "\t\t\t'startedDateTime': '2026-01-01T00:00:00.000+01:00',\n"
	    "\t\t\t'time' : 0.62100000000000044, 'big': 1E+300, "
	    "'neg': -0.0,\n\t\t\t'request': {'url': 'http://h/\\u00e9?x=1',"
	    " 'headers': [{'name': 'Authorization', 'value': 'Basic QQ=='}],"
	    " '_x': [1, 2, {'a': null, 'b': [[], {}]}]},\n"
	    "\t\t\t'cache': {'afterRequest': null}, 'timings': {'send': "
	    "1.0e-3},\n\t\t\t'_securityDetails': {'protocol': 'TLS 1.3'}\n"
	    "\t\t} ]\n\t}\n}\n");
	const char	*at;
	char		*want;

	run(&x, doc);
	/* Byte for byte but the one value. */
	at = strstr(doc, "Basic QQ==");
	ck_assert_ptr_nonnull(at);
	want = xasprintf("%.*s%s%s", (int)(at - doc), doc, M("Basic QQ=="),
	    at + strlen("Basic QQ=="));
	ck_assert_str_eq(buf_str(&x.out), want);
	free(want);
	check_idempotent(&x);
	run_free(&x);
}
END_TEST

START_TEST(clean_file_is_returned_as_it_is)
{
	struct run	x;
	char		*want;
	const char	*doc = Q("{'log': {'entries': [{'request': {'url': "
	    "'http://h/a?x=1', 'headers': [{'name': 'Authorization', "
	    "'value': 'redacted:0123456789ab'}], 'cookies': [{'name': 'sid',"
	    " 'value': 'redacted:aaaaaaaaaaaa'}]}, 'response': {'status': 0"
	    "}}]}}   ");

	run(&x, doc);
	ck_assert_str_eq(buf_str(&x.out), doc);
	summary(&x, "nothing to redact in 1 entry");
	ck_assert_uint_eq(x.rep.entries_changed, 0);
	run_free(&x);
	run(&x, Q("{'log': {'entries': []}}"));
	summary(&x, "nothing to redact in 0 entries");
	run_free(&x);
	/* A byte order mark stays where it was. */
	run(&x, "\xef\xbb\xbf{\"log\": {\"entries\": [{\"request\": "
	    "{\"url\": \"u?token=bom-tok\"}}]}}");
	want = xasprintf("\xef\xbb\xbf{\"log\": {\"entries\": [{\"request\": "
	    "{\"url\": \"u?token=%s\"}}]}}", M("bom-tok"));
	ck_assert_str_eq(buf_str(&x.out), want);
	free(want);
	check_idempotent(&x);
	run_free(&x);
	/* Null where a tool had nothing to say: as if absent. */
	run(&x, entry("'url': 'http://h/', 'headers': null, 'cookies': null, "
	    "'queryString': null, 'postData': null", "'status': 0, "
	    "'content': {'size': 0, 'text': null}, 'redirectURL': null"));
	summary(&x, "nothing to redact in 1 entry");
	run_free(&x);
}
END_TEST

START_TEST(web_socket_frames)
{
	struct run	x;

	run(&x, Q("{'log': {'entries': [{'request': {'url': 'ws://h/'}, "
	    "'_webSocketMessages': [{'type': 'send', 'opcode': 1, 'data': "
	    "'{\\'auth_token\\': \\'ws-TOKEN-1\\'}'}, {'type': 'receive', "
	    "'data': 'plain text'}, 7, {'data': 9}]}]}}"));
	has(&x, M("ws-TOKEN-1"));
	has(&x, "plain text");
	summary(&x, "redacted 1 JSON key (auth_token), in 1 of 1 entry");
	run_free(&x);
}
END_TEST

START_TEST(names_of_the_command_line)
{
	struct run	 x;
	struct redactor	*r = redact_new();

	redact_add_header(r, "X-Tenant");
	redact_add_query(r, "sig2");
	redact_add_json_key(r, "pin");
	run_with(&x, r, entry("'method': 'POST', 'url': 'http://h/?sig2=s-1',"
	    " 'headers': [{'name': 'x-tenant', 'value': 'acme'}], "
	    "'postData': {'mimeType': 'application/json', 'text': "
	    "'{\\'pin\\': \\'0000\\'}'}", "'status': 200"));
	has(&x, M("acme"));
	has(&x, M("s-1"));
	has(&x, M("0000"));
	summary(&x, "redacted 1 request header (x-tenant), 1 query parameter "
	    "(sig2) and 1 JSON key (pin), in 1 of 1 entry");
	run_free(&x);
	redact_free(r);
}
END_TEST

START_TEST(summary_escapes_and_bounds_names)
{
	struct run	 x;
	struct buf	 doc = { NULL, 0, 0 };
	int		 i;

	buf_adds(&doc, "{\"log\": {\"entries\": [{\"request\": {\"url\": "
	    "\"http://h/?a%01token=v1v1\", \"headers\": [");
	for (i = 0; i < 20; i++)
		buf_printf(&doc, "%s{\"name\": \"X-Token-%02d\", \"value\": "
		    "\"value-%d\"}", i > 0 ? ", " : "", i, i);
	buf_adds(&doc, "]}}]}}");
	run(&x, doc.data);
	ck_assert_uint_eq(x.rep.places[SANITIZE_REQUEST_HEADER].total, 20);
	ck_assert_uint_eq(x.rep.places[SANITIZE_REQUEST_HEADER].n,
	    SANITIZE_MAX_NAMES);
	ck_assert_msg(strstr(buf_str(&x.line), "X-Token-15, 4 more)") !=
	    NULL, "%s", buf_str(&x.line));
	ck_assert_msg(strstr(buf_str(&x.line), "(a\\x01token)") != NULL,
	    "%s", buf_str(&x.line));
	ck_assert_msg(strstr(buf_str(&x.line), "value-") == NULL, "%s",
	    buf_str(&x.line));
	run_free(&x);
	buf_free(&doc);
}
END_TEST

/* A document that is refused: rc -1, this cause, nothing out. */
static void
refused(const char *doc, const char *want)
{
	struct run	x;

	run(&x, doc);
	ck_assert_msg(x.rc == -1, "accepted: %s", doc);
	ck_assert_msg(x.cause != NULL && strcmp(x.cause, want) == 0,
	    "cause: got \"%s\" want \"%s\"", x.cause, want);
	ck_assert_uint_eq(x.out.len, 0);
	run_free(&x);
}

START_TEST(not_json_or_not_a_har)
{
	refused("", "not JSON: line 1, column 0: '[' or '{' expected near "
	    "end of file");
	refused("{\"log\": {\"entries\": [}", "not JSON: line 1, column 22: "
	    "unexpected token near '}'");
	refused("{\"a\": 1, \"a\": 2}", "not JSON: line 1, column 12: "
	    "duplicate object key near '\"a\"'");
	refused("[]", "not a HAR file: the document is not a JSON object");
	refused("{}", "not a HAR file: no \"log\" member");
	refused("{\"log\": []}", "not a HAR file: \"log\" is not an object");
	refused("{\"log\": {}}", "not a HAR file: no \"log.entries\" array");
	refused("{\"log\": {\"entries\": {}}}",
	    "not a HAR file: \"log.entries\" is not an array");
}
END_TEST

START_TEST(entries_of_the_wrong_shape)
{
	refused(Q("{'log': {'entries': [{'request': {'url': 'x'}}, 3]}}"),
	    "entry 1 is not an object");
	refused(Q("{'log': {'entries': [{}]}}"), "entry 0: request is missing");
	refused(Q("{'log': {'entries': [{'request': []}]}}"),
	    "entry 0: request is not an object");
	refused(Q("{'log': {'entries': [{'request': {}}]}}"),
	    "entry 0: request.url is missing");
	refused(Q("{'log': {'entries': [{'request': {'url': 5}}]}}"),
	    "entry 0: request.url is not a string");
	refused(Q("{'log': {'entries': [{'request': {'url': null}}]}}"),
	    "entry 0: request.url is missing");
	refused(entry("'url': 'x', 'headers': {}", "'status': 1"),
	    "entry 0: request.headers is not an array");
	refused(entry("'url': 'x', 'headers': ['Authorization: x']",
	    "'status': 1"), "entry 0: request.headers[0] is not an object");
	refused(entry("'url': 'x', 'headers': [{'value': 'x'}]",
	    "'status': 1"), "entry 0: request.headers[0].name is missing");
	refused(entry("'url': 'x', 'headers': [{'name': 'A', 'value': 'b'},"
	    "{'name': 'Authorization', 'value': 12}]", "'status': 1"),
	    "entry 0: request.headers[1].value is not a string");
	refused(entry("'url': 'x', 'cookies': [{'name': 'a', 'value': null}]",
	    "'status': 1"), "entry 0: request.cookies[0].value is not a "
	    "string");
	refused(entry("'url': 'x', 'queryString': [{'name': ['a'], "
	    "'value': 'b'}]", "'status': 1"),
	    "entry 0: request.queryString[0].name is not a string");
	refused(entry("'url': 'x', 'postData': 'a=b'", "'status': 1"),
	    "entry 0: request.postData is not an object");
	refused(entry("'url': 'x', 'postData': {'text': {'a': 1}}",
	    "'status': 1"), "entry 0: request.postData.text is not a string");
	refused(entry("'url': 'x', 'postData': {'params': [{'value': 'v'}]}",
	    "'status': 1"),
	    "entry 0: request.postData.params[0].name is missing");
	refused(Q("{'log': {'entries': [{'request': {'url': 'x'}, "
	    "'response': 'ok'}]}}"), "entry 0: response is not an object");
	refused(entry("'url': 'x'", "'cookies': [{'name': 'a'}]"),
	    "entry 0: response.cookies[0].value is missing");
	refused(entry("'url': 'x'", "'content': []"),
	    "entry 0: response.content is not an object");
	refused(entry("'url': 'x'", "'content': {'text': 1}"),
	    "entry 0: response.content.text is not a string");
	refused(entry("'url': 'x'", "'redirectURL': false"),
	    "entry 0: response.redirectURL is not a string");
}
END_TEST

START_TEST(hostile_documents)
{
	struct run	 x;
	struct buf	 doc = { NULL, 0, 0 };
	int		 i;

	/* Nesting past jansson's limit is refused, not followed. */
	buf_adds(&doc, "{\"log\": {\"entries\": [{\"request\": {\"url\": \"u\","
	    " \"_deep\": ");
	for (i = 0; i < 5000; i++)
		buf_adds(&doc, "[");
	run(&x, doc.data);
	ck_assert_int_eq(x.rc, -1);
	ck_assert_msg(strstr(x.cause, "not JSON") != NULL, "%s", x.cause);
	run_free(&x);
	buf_free(&doc);

	/* Deep but allowed garbage in an extension: kept, scrubbed. */
	buf_adds(&doc, "{\"log\": {\"entries\": [{\"request\": {\"url\": "
	    "\"u\", \"headers\": [{\"name\": \"Authorization\", \"value\": "
	    "\"deep-SECRET\"}]}, \"_deep\": ");
	for (i = 0; i < 1000; i++)
		buf_adds(&doc, "[");
	buf_adds(&doc, "\"x deep-SECRET\"");
	for (i = 0; i < 1000; i++)
		buf_adds(&doc, "]");
	buf_adds(&doc, "}]}}");
	run(&x, doc.data);
	lacks(&x, "deep-SECRET");
	ck_assert_uint_eq(x.rep.places[SANITIZE_OTHER].total, 1);
	run_free(&x);
	buf_free(&doc);

	/* A NUL in a string is not JSON patchscope takes. */
	refused("{\"log\": {\"entries\": [{\"request\": {\"url\": \"a\\u0000\"}"
	    "}]}}", "not JSON: line 1, column 50: a string holds \\u0000 "
	    "(a NUL character), which patchscope does not take");

	/* Bodies that claim JSON and are not, or are binary. */
	run(&x, entry("'method': 'POST', 'url': 'u', 'postData': {'mimeType': "
	    "'application/json', 'text': '{\\'token\\': \\'cut-off-tok'}",
	    "'status': 200, 'content': {'mimeType': 'application/json', "
	    "'encoding': 'base64', 'text': '//79AAE='}"));
	has(&x, M("cut-off-tok"));
	has(&x, "//79AAE=");
	summary(&x, "redacted 1 JSON key, in 1 of 1 entry");
	run_free(&x);
}
END_TEST

START_TEST(base64_round_trip)
{
	struct buf	 enc = { NULL, 0, 0 }, dec = { NULL, 0, 0 };
	const char	*in[] = { "", "f", "fo", "foo", "foob", "fooba",
	    "foobar" };
	const char	*out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
	    "Zm9vYmE=", "Zm9vYmFy" };
	size_t		 i;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		buf_reset(&enc);
		buf_reset(&dec);
		sanitize_b64_encode((const unsigned char *)in[i],
		    strlen(in[i]), &enc);
		ck_assert_str_eq(buf_str(&enc), out[i]);
		ck_assert_int_eq(sanitize_b64_decode(out[i], strlen(out[i]),
		    &dec), 0);
		ck_assert_str_eq(buf_str(&dec), in[i]);
	}
	ck_assert_int_eq(sanitize_b64_decode("Zm9", 3, &dec), -1);
	ck_assert_int_eq(sanitize_b64_decode("Zm=v", 4, &dec), -1);
	ck_assert_int_eq(sanitize_b64_decode("Zg==Zg==", 8, &dec), -1);
	ck_assert_int_eq(sanitize_b64_decode("Z m9", 4, &dec), -1);
	buf_free(&enc);
	buf_free(&dec);
}
END_TEST

static Suite *
sanitize_suite(void)
{
	Suite	*s = suite_create("sanitize");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, headers_both_sides);
	tcase_add_test(tc, cookies_both_sides);
	tcase_add_test(tc, query_in_url_and_query_string_counted_once);
	tcase_add_test(tc, post_params_and_form_text);
	tcase_add_test(tc, json_bodies_keep_their_layout);
	tcase_add_test(tc, base64_content);
	tcase_add_test(tc, not_base64_is_left_alone);
	tcase_add_test(tc, found_values_scrubbed_everywhere);
	tcase_add_test(tc, other_bytes_stay);
	tcase_add_test(tc, clean_file_is_returned_as_it_is);
	tcase_add_test(tc, web_socket_frames);
	tcase_add_test(tc, names_of_the_command_line);
	tcase_add_test(tc, summary_escapes_and_bounds_names);
	tcase_add_test(tc, not_json_or_not_a_har);
	tcase_add_test(tc, entries_of_the_wrong_shape);
	tcase_add_test(tc, hostile_documents);
	tcase_add_test(tc, base64_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(sanitize_suite());
}
