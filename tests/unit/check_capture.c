/*
 * Unit tests for capture: the exchange built as it runs and handed to its
 * sinks. Each test drives a capture in the order the connection code does
 * (conn.c, forward.c, replay_serve.c, response.c): capture_begin, the
 * request head, URL and headers, body bytes (cut at --max-body-buffer),
 * the end of the request, the response head and body or patchscope's own
 * answer, then capture_finish with what conn_exchange_done puts in info.
 * A test sink keeps a deep copy of what it is handed, so the tests look at
 * exactly what the log, the recorder and the replay index would see.
 *
 * The fixture gives every test a zeroed capture (a conn is calloc'd), a
 * redactor with the built-in lists and three sinks, and frees them all.
 * Two tests hold bugs this suite found (fixed): see "Was a bug".
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <zlib.h>

#include "body.h"
#include "buf.h"
#include "capture.h"
#include "diagnose.h"
#include "exchange.h"
#include "http.h"
#include "redact.h"
#include "xmalloc.h"
#include "unit.h"
#include "unit_zlib.h"

#define URL		"https://api.example.com/v1/profile"
#define MAX_BODY	1024

/* What one sink was handed, copied. */
struct got {
	int			 id;
	int			 calls;
	struct exchange		 x;
	struct capture_info	 info;
};

static struct capture		 cap;
static struct redactor		*r;
static struct got		 got[3];
static struct capture_sink	 sinks[3];
static int			 order[16];	/* sink ids, called */
static size_t			 norder;

/* The test sink: keep a deep copy of the exchange and of info. */
static void
copy_cb(void *arg, const struct exchange *x, const struct capture_info *info)
{
	struct got	*g = arg;

	exchange_free(&g->x);
	exchange_copy(&g->x, x);
	g->info = *info;
	g->calls++;
	if (norder < sizeof order / sizeof order[0])
		order[norder++] = g->id;
}

static void
setup(void)
{
	size_t	i;

	memset(&cap, 0, sizeof cap);
	r = redact_new();
	norder = 0;
	for (i = 0; i < 3; i++) {
		memset(&got[i], 0, sizeof got[i]);
		exchange_init(&got[i].x);
		got[i].id = (int)i + 1;
		sinks[i].exchange = copy_cb;
		sinks[i].arg = &got[i];
	}
	capture_begin(&cap, MAX_BODY);
}

static void
teardown(void)
{
	size_t	i;

	capture_free(&cap);
	redact_free(r);
	for (i = 0; i < 3; i++)
		exchange_free(&got[i].x);
}

static void
hadd(struct http_headers *h, const char *name, const char *value)
{
	http_headers_add(h, name, strlen(name), value, strlen(value));
}

/* The marker redaction gives s. */
static const char *
marker(const char *s, char out[REDACT_MARKER_LEN + 1])
{
	redact_marker(s, strlen(s), out);
	return out;
}

/* The request head is in: method, version, URL (request.c). */
static void
request(const char *method, const char *url)
{
	capture_request(&cap, method, 0);
	if (url != NULL)
		capture_request_url(&cap, url);
}

/* The recorder is on: keep both bodies and the headers (forward.c). */
static void
record_begin(const struct http_headers *h)
{
	cap.record = 1;
	cap.keep_req = 1;
	cap.keep_resp = 1;
	capture_request_headers(&cap, h);
}

/* Hand the exchange on as conn_exchange_done does, to nsinks sinks. */
static void
finish_n(struct capture_info *info, int status, const char *code,
    uint64_t req_bytes, uint64_t resp_bytes, const char *target,
    size_t nsinks)
{
	memset(info, 0, sizeof *info);
	info->conn_id = 7;
	info->status = status;
	info->code = code;
	info->message = code != NULL ? "what went wrong" : NULL;
	info->req_bytes = req_bytes;
	info->resp_bytes = resp_bytes;
	capture_finish(&cap, r, sinks, nsinks, info, target);
}

static void
finish(struct capture_info *info, int status, const char *code,
    uint64_t req_bytes, uint64_t resp_bytes, const char *target)
{
	finish_n(info, status, code, req_bytes, resp_bytes, target, 1);
}

/* Append a diagnosis as profile_check would. */
static void
add_diag(struct diag_list *l, const char *code, const char *message)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->cap = l->n + 1;
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	l->v[l->n].severity = DIAG_ERROR;
	l->v[l->n].code = xstrdup(code);
	l->v[l->n].path = xstrdup("/actions/0/anchor");
	l->v[l->n].message = xstrdup(message);
	l->n++;
}

/* Assert that h has exactly one Content-Length, of value want. */
static void
assert_length(const struct http_headers *h, size_t want)
{
	char	num[32];

	snprintf(num, sizeof num, "%zu", want);
	ck_assert_uint_eq(http_headers_count(h, "Content-Length"), 1);
	ck_assert_str_eq(http_headers_get(h, "Content-Length"), num);
}

/* Assert that no string of x contains s. */
static void
assert_nowhere(const struct exchange *x, const char *s)
{
	char	*d;
	size_t	 i;

	ck_assert_ptr_null(strstr(x->url != NULL ? x->url : "", s));
	for (i = 0; i < x->req_headers.n; i++)
		ck_assert_msg(strstr(x->req_headers.v[i].value, s) == NULL,
		    "%s: %s", x->req_headers.v[i].name,
		    x->req_headers.v[i].value);
	for (i = 0; i < x->resp_headers.n; i++)
		ck_assert_msg(strstr(x->resp_headers.v[i].value, s) == NULL,
		    "%s: %s", x->resp_headers.v[i].name,
		    x->resp_headers.v[i].value);
	if (x->req_body.data != NULL)
		ck_assert_msg(strstr(x->req_body.data, s) == NULL, "%s",
		    x->req_body.data);
	if (x->resp_body.data != NULL)
		ck_assert_msg(strstr(x->resp_body.data, s) == NULL, "%s",
		    x->resp_body.data);
	if (x->diagnoses != NULL) {
		d = json_dumps(x->diagnoses, JSON_COMPACT);
		ck_assert_ptr_nonnull(d);
		ck_assert_msg(strstr(d, s) == NULL, "%s", d);
		free(d);
	}
}

/* A recorded forwarded exchange: the request and response, whole. */
START_TEST(recorded_exchange_reaches_the_sink_whole)
{
	struct http_headers	 qh = { NULL, 0, 0 }, rh = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*req = "{\"name\":\"x\"}";
	const char		*resp = "{\"id\":\"p_1\",\"name\":\"x\"}";
	const struct exchange	*x = &got[0].x;

	request("PATCH", URL "?fields=actions");
	hadd(&qh, "Host", "api.example.com");
	hadd(&qh, "Content-Type", "application/json");
	hadd(&qh, "Content-Length", "999");
	hadd(&qh, "Via", "1.1 patchscope");
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 0, req, 5), 0);
	ck_assert_int_eq(capture_request_body(&cap, 0, req + 5,
	    strlen(req) - 5), 0);
	capture_request_done(&cap);
	cap.server_ip = xstrdup("192.0.2.7");
	hadd(&rh, "Content-Type", "application/json");
	hadd(&rh, "Transfer-Encoding", "chunked");
	capture_response(&cap, 200, "Fine", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, resp, strlen(resp)),
	    0);
	finish(&info, 200, NULL, strlen(req), strlen(resp), "/v1/profile");

	ck_assert_int_eq(got[0].calls, 1);
	ck_assert_int_eq(got[0].info.full, 1);
	ck_assert_int_eq(got[0].info.record, 1);
	ck_assert_int_eq(info.full, 1);
	ck_assert_int_eq(info.record, 1);
	ck_assert_uint_eq(got[0].info.conn_id, 7);
	ck_assert(got[0].info.ms >= 0);
	ck_assert_str_eq(x->method, "PATCH");
	ck_assert_str_eq(x->url, URL "?fields=actions");
	ck_assert_str_eq(x->http_version, "HTTP/1.1");
	ck_assert_str_eq(x->server_ip, "192.0.2.7");
	ck_assert_ptr_nonnull(x->started);
	/* The request as sent on: Via dropped, Content-Length true. */
	ck_assert_str_eq(http_headers_get(&x->req_headers, "Host"),
	    "api.example.com");
	ck_assert_ptr_null(http_headers_get(&x->req_headers, "Via"));
	assert_length(&x->req_headers, strlen(req));
	ck_assert_str_eq(x->req_body.data, req);
	ck_assert_uint_eq(x->req_body.len, strlen(req));
	ck_assert_uint_eq(x->req_body.size, strlen(req));
	ck_assert_int_eq(x->req_body.truncated, 0);
	ck_assert_ptr_null(x->req_body.decoded_from);
	ck_assert_uint_eq(x->req_wire_bytes, strlen(req));
	/* The response: Transfer-Encoding gone, Content-Length added. */
	ck_assert_int_eq(x->status, 200);
	ck_assert_str_eq(x->reason, "Fine");
	ck_assert_ptr_null(http_headers_get(&x->resp_headers,
	    "Transfer-Encoding"));
	assert_length(&x->resp_headers, strlen(resp));
	ck_assert_str_eq(x->resp_body.data, resp);
	ck_assert_uint_eq(x->resp_wire_bytes, strlen(resp));
	ck_assert_ptr_null(x->answered_by);
	ck_assert_ptr_null(x->error);
	ck_assert_ptr_null(x->diagnoses);
	http_headers_clear(&qh);
	http_headers_clear(&rh);
}
END_TEST

START_TEST(recorded_exchange_without_bodies_adds_no_content_length)
{
	struct http_headers	 qh = { NULL, 0, 0 }, rh = { NULL, 0, 0 };
	struct capture_info	 info;
	const struct exchange	*x = &got[0].x;

	capture_request(&cap, "GET", 1);
	capture_request_url(&cap, URL);
	hadd(&qh, "Host", "api.example.com");
	record_begin(&qh);
	capture_request_done(&cap);
	capture_response(&cap, 204, "No Content", &rh);
	finish(&info, 204, NULL, 0, 0, "/v1/profile");

	ck_assert_int_eq(got[0].info.record, 1);
	ck_assert_str_eq(x->http_version, "HTTP/1.0");
	ck_assert_ptr_null(x->req_body.data);
	ck_assert_ptr_null(x->resp_body.data);
	ck_assert_ptr_null(http_headers_get(&x->req_headers,
	    "Content-Length"));
	ck_assert_ptr_null(http_headers_get(&x->resp_headers,
	    "Content-Length"));
	ck_assert_str_eq(x->reason, "No Content");
	http_headers_clear(&qh);
}
END_TEST

START_TEST(response_headers_are_kept_only_when_recording)
{
	struct http_headers	rh = { NULL, 0, 0 };

	request("GET", URL);
	hadd(&rh, "Content-Type", "application/json");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_uint_eq(cap.resp_headers.n, 0);
	ck_assert_int_eq(cap.status, 200);
	ck_assert_str_eq(cap.reason, "OK");
	/* Nothing asked to keep the body: nothing is kept. */
	ck_assert_int_eq(capture_response_body(&cap, 0, "{}", 2), 0);
	ck_assert_uint_eq(cap.resp.raw.len, 0);
	http_headers_clear(&rh);
}
END_TEST

/* Run a recorded exchange whose two bodies are coded as coding (wbits). */
static void
coded_exchange(const char *coding, int wbits, const char *req,
    const char *resp)
{
	struct http_headers	 qh = { NULL, 0, 0 }, rh = { NULL, 0, 0 };
	struct capture_info	 info;
	unsigned char		 zq[512], zr[512];
	size_t			 nq, nr;
	char			 num[32];

	nq = unit_squeeze(wbits, req, zq, sizeof zq);
	nr = unit_squeeze(wbits, resp, zr, sizeof zr);
	request("PATCH", URL);
	hadd(&qh, "Content-Type", "application/json");
	hadd(&qh, "Content-Encoding", coding);
	snprintf(num, sizeof num, "%zu", nq);
	hadd(&qh, "Content-Length", num);
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 1, (char *)zq, nq), 0);
	capture_request_done(&cap);
	hadd(&rh, "Content-Type", "application/json");
	hadd(&rh, "Content-Encoding", coding);
	snprintf(num, sizeof num, "%zu", nr);
	hadd(&rh, "Content-Length", num);
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, (char *)zr, nr), 0);
	finish(&info, 200, NULL, nq, nr, "/v1/profile");
	ck_assert_uint_eq(got[0].x.req_wire_bytes, nq);
	ck_assert_uint_eq(got[0].x.resp_wire_bytes, nr);
	http_headers_clear(&qh);
	http_headers_clear(&rh);
}

/* Assert a body was stored decoded from coding, its headers to match. */
static void
assert_decoded(const struct exchange_body *b, const struct http_headers *h,
    const char *coding, const char *text)
{
	ck_assert_str_eq(b->data, text);
	ck_assert_uint_eq(b->len, strlen(text));
	ck_assert_uint_eq(b->size, strlen(text));
	ck_assert_int_eq(b->truncated, 0);
	ck_assert_ptr_nonnull(b->decoded_from);
	ck_assert_str_eq(b->decoded_from, coding);
	ck_assert_ptr_null(http_headers_get(h, "Content-Encoding"));
	assert_length(h, strlen(text));
}

START_TEST(gzip_bodies_are_stored_decoded)
{
	const char	*req = "{\"actions\":[{\"id\":\"act_1\"}]}";
	const char	*resp = "{\"id\":\"p_1\",\"actions\":[]}";

	coded_exchange("gzip", 31, req, resp);
	assert_decoded(&got[0].x.req_body, &got[0].x.req_headers, "gzip",
	    req);
	assert_decoded(&got[0].x.resp_body, &got[0].x.resp_headers, "gzip",
	    resp);
}
END_TEST

START_TEST(deflate_bodies_are_stored_decoded_zlib_or_raw)
{
	const char	*req = "{\"actions\":[{\"id\":\"act_2\"}]}";
	const char	*resp = "{\"id\":\"p_2\"}";

	coded_exchange("deflate", 15, req, resp);
	assert_decoded(&got[0].x.req_body, &got[0].x.req_headers, "deflate",
	    req);
	assert_decoded(&got[0].x.resp_body, &got[0].x.resp_headers,
	    "deflate", resp);
	exchange_free(&got[0].x);
	capture_begin(&cap, MAX_BODY);
	coded_exchange("deflate", -15, req, resp);
	assert_decoded(&got[0].x.req_body, &got[0].x.req_headers, "deflate",
	    req);
	assert_decoded(&got[0].x.resp_body, &got[0].x.resp_headers,
	    "deflate", resp);
}
END_TEST

START_TEST(stored_headers_lose_every_spelling_of_via_and_framing)
{
	struct http_headers	 qh = { NULL, 0, 0 }, rh = { NULL, 0, 0 };
	struct capture_info	 info;
	const struct exchange	*x = &got[0].x;

	request("POST", URL);
	hadd(&qh, "Via", "1.1 a");
	hadd(&qh, "via", "1.1 b");
	hadd(&qh, "content-length", "2");
	hadd(&qh, "Content-Length", "2");
	record_begin(&qh);
	ck_assert_uint_eq(http_headers_count(&cap.req_headers, "Via"), 0);
	ck_assert_int_eq(capture_request_body(&cap, 0, "ok", 2), 0);
	capture_request_done(&cap);
	hadd(&rh, "transfer-encoding", "chunked");
	hadd(&rh, "TRANSFER-ENCODING", "chunked");
	hadd(&rh, "content-length", "99");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, "fine", 4), 0);
	finish(&info, 200, NULL, 2, 4, "/v1/profile");
	assert_length(&x->req_headers, 2);
	assert_length(&x->resp_headers, 4);
	ck_assert_uint_eq(http_headers_count(&x->resp_headers,
	    "Transfer-Encoding"), 0);
	http_headers_clear(&qh);
	http_headers_clear(&rh);
}
END_TEST

START_TEST(gzip_of_an_empty_body_is_stored_empty_and_decoded)
{
	struct http_headers	 rh = { NULL, 0, 0 };
	struct capture_info	 info;
	unsigned char		 z[64];
	size_t			 n;
	const struct exchange	*x = &got[0].x;

	n = unit_squeeze(31, "", z, sizeof z);
	request("GET", URL);
	record_begin(&rh);
	capture_request_done(&cap);
	hadd(&rh, "Content-Encoding", "gzip");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, (char *)z, n), 0);
	finish(&info, 200, NULL, 0, n, "/v1/profile");
	ck_assert_ptr_nonnull(x->resp_body.data);
	ck_assert_uint_eq(x->resp_body.len, 0);
	ck_assert_str_eq(x->resp_body.decoded_from, "gzip");
	ck_assert_ptr_null(http_headers_get(&x->resp_headers,
	    "Content-Encoding"));
	assert_length(&x->resp_headers, 0);
	http_headers_clear(&rh);
}
END_TEST

START_TEST(corrupt_gzip_body_is_stored_raw_with_its_coding)
{
	struct http_headers	 qh = { NULL, 0, 0 }, rh = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*junk = "\x1f\x8b not gzip at all";
	const struct exchange	*x = &got[0].x;

	request("POST", URL);
	hadd(&qh, "Content-Encoding", "gzip");
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 0, junk, strlen(junk)),
	    0);
	capture_request_done(&cap);
	hadd(&rh, "Content-Encoding", "gzip");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, junk, strlen(junk)),
	    0);
	finish(&info, 200, NULL, strlen(junk), strlen(junk), "/v1/profile");

	ck_assert_int_eq(got[0].info.record, 1);
	ck_assert_str_eq(x->req_body.data, junk);
	ck_assert_ptr_null(x->req_body.decoded_from);
	ck_assert_str_eq(http_headers_get(&x->req_headers,
	    "Content-Encoding"), "gzip");
	assert_length(&x->req_headers, strlen(junk));
	ck_assert_str_eq(x->resp_body.data, junk);
	ck_assert_ptr_null(x->resp_body.decoded_from);
	ck_assert_str_eq(http_headers_get(&x->resp_headers,
	    "Content-Encoding"), "gzip");
	assert_length(&x->resp_headers, strlen(junk));
	http_headers_clear(&qh);
	http_headers_clear(&rh);
}
END_TEST

START_TEST(decoding_happens_once_and_gives_the_same_bytes)
{
	const char		*text = "{\"actions\":[]}";
	unsigned char		 z[256];
	const struct buf	*a, *b;
	const char		*cause = NULL;
	size_t			 n;

	n = unit_squeeze(31, text, z, sizeof z);
	request("PATCH", URL);
	ck_assert_int_eq(capture_request_body(&cap, 1, (char *)z, n), 0);
	capture_request_done(&cap);
	a = capture_request_decoded(&cap, "gzip", &cause);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(buf_str(a), text);
	ck_assert_int_eq(cap.req.decoded, 1);
	ck_assert_str_eq(cap.req.coding, "gzip");
	/* The second call decodes nothing: the same buffer comes back,
	 * whatever coding it names. */
	b = capture_request_decoded(&cap, "gzip", &cause);
	ck_assert_ptr_eq(a, b);
	b = capture_request_decoded(&cap, NULL, &cause);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_null(cause);

	/* The same for a response held to annotate (response.c). */
	cap.learn_resp = 1;
	ck_assert_int_eq(capture_response_body(&cap, 0, (char *)z, n), 0);
	a = capture_response_decoded(&cap, "gzip", &cause);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(buf_str(a), text);
	b = capture_response_decoded(&cap, "gzip", &cause);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_null(cause);
}
END_TEST

START_TEST(decoded_body_serves_the_cassette_without_a_second_decode)
{
	struct http_headers	 qh = { NULL, 0, 0 }, rh = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*text = "{\"actions\":[{\"id\":\"a\"}]}";
	unsigned char		 z[256];
	const struct buf	*a;
	const char		*cause = NULL;
	const char		*dec;
	size_t			 n;

	n = unit_squeeze(31, text, z, sizeof z);
	request("PATCH", URL);
	hadd(&qh, "Content-Encoding", "gzip");
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 1, (char *)z, n), 0);
	capture_request_done(&cap);
	/* conn_diagnose decodes it first. */
	a = capture_request_decoded(&cap, "gzip", &cause);
	ck_assert_ptr_nonnull(a);
	dec = a->data;
	capture_response(&cap, 200, "OK", &rh);
	finish(&info, 200, NULL, n, 0, "/v1/profile");
	ck_assert_str_eq(got[0].x.req_body.data, text);
	ck_assert_str_eq(got[0].x.req_body.decoded_from, "gzip");
	/* The cached bytes are the ones used, still in place. */
	ck_assert_ptr_eq(cap.req.dec.data, dec);
	ck_assert_ptr_eq(capture_request_decoded(&cap, "gzip", &cause), a);
	http_headers_clear(&qh);
}
END_TEST

START_TEST(failed_decoding_gives_a_cause_every_time)
{
	const char	*junk = "\x1f\x8b\x08 broken";
	const char	*cause = NULL, *again = NULL;

	request("PATCH", URL);
	ck_assert_int_eq(capture_request_body(&cap, 1, junk, strlen(junk)),
	    0);
	ck_assert_ptr_null(capture_request_decoded(&cap, "gzip", &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_int_gt(strlen(cause), 0);
	ck_assert_int_eq(cap.req.decoded, -1);
	ck_assert_ptr_null(capture_request_decoded(&cap, "gzip", &again));
	ck_assert_ptr_eq(again, cause);

	cause = NULL;
	cap.keep_resp = 1;
	ck_assert_int_eq(capture_response_body(&cap, 0, "abc", 3), 0);
	ck_assert_ptr_null(capture_response_decoded(&cap, "br", &cause));
	ck_assert_ptr_nonnull(cause);
}
END_TEST

START_TEST(unknown_coding_is_stored_raw_with_its_coding)
{
	struct http_headers	rh = { NULL, 0, 0 };
	struct capture_info	info;

	request("GET", URL);
	record_begin(&rh);
	capture_request_done(&cap);
	hadd(&rh, "Content-Encoding", "br");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, "\x0b\x01\x80", 3),
	    0);
	finish(&info, 200, NULL, 0, 3, "/v1/profile");
	ck_assert_uint_eq(got[0].x.resp_body.len, 3);
	ck_assert_mem_eq(got[0].x.resp_body.data, "\x0b\x01\x80", 3);
	ck_assert_ptr_null(got[0].x.resp_body.decoded_from);
	ck_assert_str_eq(http_headers_get(&got[0].x.resp_headers,
	    "Content-Encoding"), "br");
	assert_length(&got[0].x.resp_headers, 3);
	http_headers_clear(&rh);
}
END_TEST

START_TEST(identity_or_no_coding_decodes_to_the_raw_bytes)
{
	static const char	*codings[] = { NULL, "", "identity",
	    "IDENTITY" };
	const struct buf	*b;
	const char		*cause;
	size_t			 i;

	for (i = 0; i < sizeof codings / sizeof codings[0]; i++) {
		capture_begin(&cap, MAX_BODY);
		request("PATCH", URL);
		ck_assert_int_eq(capture_request_body(&cap, 1, "{\"a\":1}", 7),
		    0);
		cause = NULL;
		b = capture_request_decoded(&cap, codings[i], &cause);
		ck_assert_msg(b == &cap.req.raw, "coding %zu", i);
		ck_assert_str_eq(buf_str(b), "{\"a\":1}");
		ck_assert_ptr_null(cap.req.coding);
		/* No copy was made. */
		ck_assert_uint_eq(cap.req.dec.len, 0);
	}
}
END_TEST

START_TEST(identity_body_over_max_body_fails_with_a_cause)
{
	char		 big[MAX_BODY + 10];
	const char	*cause = NULL;

	memset(big, 'a', sizeof big);
	request("GET", URL);
	/* A replayed answer held to annotate is copied in whole
	 * (replay_serve.c), past the limit. */
	cap.learn_resp = 1;
	buf_add(&cap.resp.raw, big, sizeof big);
	ck_assert_ptr_null(capture_response_decoded(&cap, NULL, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_int_eq(cap.resp.decoded, -1);
	cause = NULL;
	ck_assert_ptr_null(capture_response_decoded(&cap, "identity",
	    &cause));
	ck_assert_ptr_nonnull(cause);
}
END_TEST

START_TEST(gzip_body_decoding_past_max_body_fails_with_a_cause)
{
	char		*text = xmalloc(MAX_BODY * 4 + 1);
	unsigned char	 z[1024];
	const char	*cause = NULL;
	size_t		 n;

	memset(text, 'a', MAX_BODY * 4);
	text[MAX_BODY * 4] = '\0';
	n = unit_squeeze(31, text, z, sizeof z);
	ck_assert_uint_lt(n, MAX_BODY);
	request("PATCH", URL);
	ck_assert_int_eq(capture_request_body(&cap, 1, (char *)z, n), 0);
	ck_assert_ptr_null(capture_request_decoded(&cap, "gzip", &cause));
	ck_assert_ptr_nonnull(cause);
	free(text);
}
END_TEST

START_TEST(request_body_past_max_body_is_refused_and_nothing_kept)
{
	char	big[MAX_BODY];

	memset(big, 'b', sizeof big);
	request("PATCH", URL);
	ck_assert_int_eq(capture_request_body(&cap, 1, big, 1000), 0);
	ck_assert_int_eq(capture_request_body(&cap, 1, big, 25), 1);
	ck_assert_uint_eq(cap.req.raw.len, 1000);
	ck_assert_int_eq(cap.req.truncated, 0);
	/* Exactly up to the limit fits. */
	ck_assert_int_eq(capture_request_body(&cap, 1, big, 24), 0);
	ck_assert_uint_eq(cap.req.raw.len, MAX_BODY);
	ck_assert_int_eq(capture_request_body(&cap, 1, big, 1), 1);
}
END_TEST

START_TEST(request_body_is_kept_only_when_asked)
{
	request("POST", URL);
	ck_assert_int_eq(capture_request_body(&cap, 0, "abc", 3), 0);
	ck_assert_uint_eq(cap.req.raw.len, 0);
	ck_assert_int_eq(capture_request_body(&cap, 1, "abc", 3), 0);
	ck_assert_uint_eq(cap.req.raw.len, 3);
	cap.keep_req = 1;
	ck_assert_int_eq(capture_request_body(&cap, 0, "de", 2), 0);
	ck_assert_str_eq(buf_str(&cap.req.raw), "abcde");
}
END_TEST

START_TEST(cut_keeps_the_part_that_fits_when_asked)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct capture_info	 info;
	char			 big[MAX_BODY];
	const struct exchange	*x = &got[0].x;

	memset(big, 'c', sizeof big);
	request("POST", URL);
	hadd(&qh, "Content-Type", "text/plain");
	hadd(&qh, "Content-Length", "3000");
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 0, big, 1000), 0);
	/* client_body: not held, so a recording keeps what fits. */
	ck_assert_int_eq(capture_request_body(&cap, 0, big, 1000), 1);
	capture_cut(&cap, &cap.req, big, 1000, 1);
	ck_assert_int_eq(cap.req.truncated, 1);
	ck_assert_uint_eq(cap.req.raw.len, MAX_BODY);
	/* Later bytes are not kept, and not refused. */
	ck_assert_int_eq(capture_request_body(&cap, 0, big, 1000), 0);
	ck_assert_uint_eq(cap.req.raw.len, MAX_BODY);
	capture_request_done(&cap);
	capture_response(&cap, 201, "Created", &qh);
	finish(&info, 201, NULL, 3000, 0, "/v1/profile");

	ck_assert_int_eq(x->req_body.truncated, 1);
	ck_assert_uint_eq(x->req_body.len, MAX_BODY);
	ck_assert_uint_eq(x->req_body.size, 3000);
	ck_assert_uint_eq(x->req_wire_bytes, 3000);
	assert_length(&x->req_headers, MAX_BODY);
	http_headers_clear(&qh);
}
END_TEST

START_TEST(cut_keeps_nothing_more_when_not_asked)
{
	char	big[MAX_BODY];

	memset(big, 'd', sizeof big);
	request("GET", URL);
	cap.learn_resp = 1;
	ck_assert_int_eq(capture_response_body(&cap, 0, big, 600), 0);
	ck_assert_int_eq(capture_response_body(&cap, 0, big, 600), 1);
	/* origin_body without keep_resp: nothing learned, nothing kept. */
	capture_cut(&cap, &cap.resp, big, 600, cap.keep_resp);
	cap.learn_resp = 0;
	ck_assert_int_eq(cap.resp.truncated, 1);
	ck_assert_uint_eq(cap.resp.raw.len, 600);
	/* A second cut changes nothing, even asked to keep. */
	capture_cut(&cap, &cap.resp, big, 600, 1);
	ck_assert_uint_eq(cap.resp.raw.len, 600);
}
END_TEST

START_TEST(cut_response_is_stored_truncated_with_its_wire_size)
{
	struct http_headers	 rh = { NULL, 0, 0 };
	struct capture_info	 info;
	char			 big[MAX_BODY];
	const struct exchange	*x = &got[0].x;

	memset(big, 'e', sizeof big);
	request("GET", URL);
	record_begin(&rh);
	capture_request_done(&cap);
	hadd(&rh, "Content-Type", "text/plain");
	hadd(&rh, "Content-Length", "5000");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, big, 700), 0);
	ck_assert_int_eq(capture_response_body(&cap, 0, big, 700), 1);
	capture_cut(&cap, &cap.resp, big, 700, cap.keep_resp);
	ck_assert_int_eq(capture_response_body(&cap, 0, big, 700), 0);
	finish(&info, 200, NULL, 0, 5000, "/v1/profile");

	ck_assert_int_eq(got[0].info.record, 1);
	ck_assert_int_eq(x->resp_body.truncated, 1);
	ck_assert_uint_eq(x->resp_body.len, MAX_BODY);
	ck_assert_uint_eq(x->resp_body.size, 5000);
	ck_assert_uint_eq(x->resp_wire_bytes, 5000);
	assert_length(&x->resp_headers, MAX_BODY);
	http_headers_clear(&rh);
}
END_TEST

START_TEST(truncated_gzip_body_is_stored_raw_not_decoded)
{
	struct http_headers	 rh = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*text = "{\"id\":\"p_1\",\"name\":\"a "
	    "profile\"}";
	unsigned char		 z[256];
	size_t			 n;
	const struct exchange	*x = &got[0].x;

	n = unit_squeeze(31, text, z, sizeof z);
	request("GET", URL);
	record_begin(&rh);
	capture_request_done(&cap);
	hadd(&rh, "Content-Encoding", "gzip");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, (char *)z, n / 2),
	    0);
	/* conn_fail: the origin went away mid-body; all that came is kept. */
	cap.resp.truncated = 1;
	finish(&info, 200, "upstream_reset", 0, n / 2, "/v1/profile");

	ck_assert_int_eq(x->resp_body.truncated, 1);
	ck_assert_uint_eq(x->resp_body.len, n / 2);
	ck_assert_mem_eq(x->resp_body.data, z, n / 2);
	/* Every byte that came is kept: the whole was more than that. */
	ck_assert_uint_gt(x->resp_body.size, n / 2);
	ck_assert_ptr_null(x->resp_body.decoded_from);
	ck_assert_str_eq(http_headers_get(&x->resp_headers,
	    "Content-Encoding"), "gzip");
	ck_assert_str_eq(x->error, "upstream_reset");
	ck_assert_int_eq(cap.resp.decoded, 0);
	http_headers_clear(&rh);
}
END_TEST

START_TEST(unrecorded_exchange_reaches_the_sink_light)
{
	struct http_headers	 rh = { NULL, 0, 0 };
	struct capture_info	 info;
	char			 m[REDACT_MARKER_LEN + 1], want[256];
	const struct exchange	*x = &got[0].x;

	request("GET", URL "?token=secret&fields=actions");
	capture_request_done(&cap);
	hadd(&rh, "Content-Type", "application/json");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, "{}", 2), 0);
	finish(&info, 200, NULL, 0, 42, "/v1/profile?token=secret");

	ck_assert_int_eq(got[0].calls, 1);
	ck_assert_int_eq(got[0].info.full, 0);
	ck_assert_int_eq(got[0].info.record, 0);
	ck_assert_str_eq(x->method, "GET");
	snprintf(want, sizeof want, "%s?token=%s&fields=actions", URL,
	    marker("secret", m));
	ck_assert_str_eq(x->url, want);
	ck_assert_int_eq(x->status, 200);
	ck_assert_uint_eq(x->req_wire_bytes, 0);
	ck_assert_uint_eq(x->resp_wire_bytes, 42);
	ck_assert(x->time_ms == got[0].info.ms);
	ck_assert_ptr_null(x->error);
	/* Nothing else is filled in. */
	ck_assert_uint_eq(x->req_headers.n, 0);
	ck_assert_uint_eq(x->resp_headers.n, 0);
	ck_assert_ptr_null(x->req_body.data);
	ck_assert_ptr_null(x->resp_body.data);
	ck_assert_ptr_null(x->started);
	ck_assert_ptr_null(x->http_version);
	ck_assert_ptr_null(x->reason);
	ck_assert_ptr_null(x->diagnoses);
	ck_assert_ptr_null(x->answered_by);
	assert_nowhere(x, "secret");
	http_headers_clear(&rh);
}
END_TEST

START_TEST(light_exchange_without_url_shows_the_path_without_query)
{
	struct capture_info	info;

	request("GET", NULL);
	finish(&info, 400, "bad_request", 0, 0, "/v1/profile?token=secret");
	ck_assert_int_eq(got[0].info.full, 0);
	ck_assert_str_eq(got[0].x.url, "/v1/profile");
	ck_assert_str_eq(got[0].x.error, "bad_request");
	ck_assert_int_eq(got[0].x.status, 400);
}
END_TEST

START_TEST(light_exchange_without_url_shows_a_dash_for_other_targets)
{
	static const char	*targets[] = { "http://api.example.com/?a=1",
	    "api.example.com:443", "*", "", NULL };
	struct capture_info	 info;
	char			 path[256];
	size_t			 i;

	for (i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		capture_begin(&cap, MAX_BODY);
		finish(&info, 400, "bad_request", 0, 0, targets[i]);
		ck_assert_msg(strcmp(got[0].x.url, "-") == 0, "%zu: %s", i,
		    got[0].x.url);
		/* No request head: no method. */
		ck_assert_ptr_null(got[0].x.method);
	}
	/* A path of 199 characters is shown; one of 200 or more is not. */
	memset(path, 'p', sizeof path);
	path[0] = '/';
	path[199] = '\0';
	capture_begin(&cap, MAX_BODY);
	finish(&info, 414, "uri_too_long", 0, 0, path);
	ck_assert_str_eq(got[0].x.url, path);
	path[199] = 'p';
	path[200] = '\0';
	capture_begin(&cap, MAX_BODY);
	finish(&info, 414, "uri_too_long", 0, 0, path);
	ck_assert_str_eq(got[0].x.url, "-");
	path[200] = 'p';
	path[255] = '\0';
	capture_begin(&cap, MAX_BODY);
	finish(&info, 414, "uri_too_long", 0, 0, path);
	ck_assert_str_eq(got[0].x.url, "-");
}
END_TEST

START_TEST(diagnosed_unrecorded_exchange_is_full_with_its_diagnoses)
{
	struct http_headers	 rh = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*body = "{\"password\":\"hunter2-pass\","
	    "\"actions\":[{\"anchor\":\"X\"}]}";
	const struct exchange	*x = &got[0].x;
	json_t			*d;

	request("PATCH", URL);
	ck_assert_int_eq(capture_request_body(&cap, 1, body, strlen(body)),
	    0);
	capture_request_done(&cap);
	cap.diagnosed = 1;
	add_diag(&cap.diags, "action.anchor.unknown",
	    "\"X\" is not a known anchor");
	capture_response(&cap, 400, "Bad Request", &rh);
	finish(&info, 400, NULL, strlen(body), 10, "/v1/profile");

	ck_assert_int_eq(got[0].info.full, 1);
	ck_assert_int_eq(got[0].info.record, 0);
	ck_assert_str_eq(x->method, "PATCH");
	ck_assert_str_eq(x->url, URL);
	ck_assert_int_eq(x->status, 400);
	ck_assert_ptr_nonnull(x->diagnoses);
	ck_assert_uint_eq(json_array_size(x->diagnoses), 1);
	d = json_array_get(x->diagnoses, 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "code")),
	    "action.anchor.unknown");
	ck_assert_str_eq(json_string_value(json_object_get(d, "path")),
	    "/actions/0/anchor");
	ck_assert_str_eq(json_string_value(json_object_get(d, "severity")),
	    "error");
	/* Not recorded: no response was kept to show. */
	ck_assert_uint_eq(x->resp_headers.n, 0);
	ck_assert_ptr_null(x->resp_body.data);
	/* The request body, kept to diagnose, is redacted like any. */
	ck_assert_ptr_nonnull(x->req_body.data);
	assert_nowhere(x, "hunter2-pass");
	http_headers_clear(&rh);
}
END_TEST

/*
 * Was a bug: a PATCH that was diagnosed but not recorded has no request
 * headers in the capture (capture_request_headers runs only when
 * recording or replaying: forward.c:145, replay_serve.c:77), so
 * capture_store_body (capture.c:290) finds no Content-Encoding and stores
 * the gzip bytes as they came (capture.c:299), unredacted, with no
 * decoded_from, though the body was decoded for the diagnoses and the
 * decoded bytes are cached (cap->req.coding). The sink gets a gzip stream
 * that inflates to the password, and a diagnosis quoting a secret of the
 * body is not scrubbed. It should store the cached decoding (use
 * b->coding when the headers name no coding), decoded and redacted.
 */
START_TEST(diagnosed_unrecorded_gzip_body_is_stored_decoded_and_redacted)
{
	struct capture_info	 info;
	const char		*req = "{\"password\":\"hunter2-pass\","
	    "\"actions\":[{\"anchor\":\"X\"}]}";
	unsigned char		 z[256];
	char			 m[REDACT_MARKER_LEN + 1], want[128];
	const char		*cause = NULL;
	struct buf		 inflated = { NULL, 0, 0 };
	const struct exchange	*x = &got[0].x;
	size_t			 n;

	n = unit_squeeze(31, req, z, sizeof z);
	/* No recorder: conn_diagnose decodes with the client's headers. */
	request("PATCH", URL);
	ck_assert_int_eq(capture_request_body(&cap, 1, (char *)z, n), 0);
	capture_request_done(&cap);
	cap.diagnosed = 1;
	ck_assert_ptr_nonnull(capture_request_decoded(&cap, "gzip", &cause));
	add_diag(&cap.diags, "action.anchor.unknown",
	    "\"X\" is not a known anchor");
	finish(&info, 200, NULL, n, 0, "/v1/profile");

	ck_assert_int_eq(got[0].info.full, 1);
	ck_assert_ptr_nonnull(x->req_body.data);
	/* What the sink holds does not inflate to the secret... */
	if (body_decode("gzip", x->req_body.data, x->req_body.len, 4096,
	    &inflated, &cause) == 0)
		ck_assert_msg(strstr(buf_str(&inflated), "hunter2-pass") ==
		    NULL, "the sink got the password gzip-coded");
	buf_free(&inflated);
	/* ...it is the decoded body, redacted. */
	snprintf(want, sizeof want, "{\"password\":\"%s\","
	    "\"actions\":[{\"anchor\":\"X\"}]}", marker("hunter2-pass", m));
	ck_assert_str_eq(x->req_body.data, want);
	ck_assert_str_eq(x->req_body.decoded_from, "gzip");
}
END_TEST

START_TEST(diagnosed_without_diagnoses_gives_an_empty_array)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct capture_info	 info;

	request("PATCH", URL);
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 1, "{}", 2), 0);
	capture_request_done(&cap);
	cap.diagnosed = 1;
	capture_response(&cap, 200, "OK", &qh);
	finish(&info, 200, NULL, 2, 0, "/v1/profile");
	ck_assert_int_eq(got[0].info.full, 1);
	ck_assert_ptr_nonnull(got[0].x.diagnoses);
	ck_assert(json_is_array(got[0].x.diagnoses));
	ck_assert_uint_eq(json_array_size(got[0].x.diagnoses), 0);

	/* Not diagnosed: no array at all. */
	capture_begin(&cap, MAX_BODY);
	request("PATCH", URL);
	record_begin(&qh);
	capture_response(&cap, 200, "OK", &qh);
	finish(&info, 200, NULL, 0, 0, "/v1/profile");
	ck_assert_int_eq(got[0].info.full, 1);
	ck_assert_ptr_null(got[0].x.diagnoses);
}
END_TEST

START_TEST(own_answer_is_recorded_as_patchscope_s)
{
	struct http_headers	 qh = { NULL, 0, 0 }, h = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*body = "{\"source\":\"patchscope\","
	    "\"status\":502,\"error\":\"upstream_connect\"}\n";
	const struct exchange	*x = &got[0].x;

	request("GET", URL);
	record_begin(&qh);
	capture_request_done(&cap);
	hadd(&h, "Content-Type", "application/json");
	hadd(&h, "X-Patchscope-Error", "upstream_connect");
	capture_own_answer(&cap, 502, &h, body, strlen(body), 0);
	finish(&info, 502, "upstream_connect", 0, 0, "/v1/profile");

	ck_assert_int_eq(got[0].info.record, 1);
	ck_assert_int_eq(got[0].info.full, 1);
	ck_assert_str_eq(x->answered_by, "patchscope");
	ck_assert_str_eq(x->error, "upstream_connect");
	ck_assert_int_eq(x->status, 502);
	ck_assert_str_eq(x->reason, "Bad Gateway");
	ck_assert_str_eq(x->resp_body.data, body);
	ck_assert_uint_eq(x->resp_wire_bytes, strlen(body));
	ck_assert_str_eq(http_headers_get(&x->resp_headers,
	    "X-Patchscope-Error"), "upstream_connect");
	assert_length(&x->resp_headers, strlen(body));
	http_headers_clear(&qh);
	http_headers_clear(&h);
}
END_TEST

START_TEST(guard_answer_is_recorded_with_error_patchscope_guard)
{
	struct http_headers	 h = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*body = "{\"errors\":[]}\n";
	const struct exchange	*x = &got[0].x;

	/* --guard without a recorder: the diagnoses make it full. */
	request("PATCH", URL);
	ck_assert_int_eq(capture_request_body(&cap, 1, "{}", 2), 0);
	capture_request_done(&cap);
	cap.diagnosed = 1;
	add_diag(&cap.diags, "action.type.unknown", "no such type");
	hadd(&h, "Content-Type", "application/json");
	capture_own_answer(&cap, 422, &h, body, strlen(body), 1);
	finish(&info, 422, NULL, 2, 0, "/v1/profile");

	ck_assert_int_eq(got[0].info.full, 1);
	ck_assert_int_eq(got[0].info.record, 0);
	ck_assert_str_eq(x->answered_by, "patchscope");
	ck_assert_str_eq(x->error, "patchscope_guard");
	ck_assert_int_eq(x->status, 422);
	ck_assert_str_eq(x->resp_body.data, body);
	ck_assert_uint_eq(json_array_size(x->diagnoses), 1);
	http_headers_clear(&h);
}
END_TEST

START_TEST(error_code_from_info_overrides_the_guard)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct capture_info	 info;

	request("PATCH", URL);
	record_begin(&qh);
	capture_own_answer(&cap, 422, &qh, "{}", 2, 1);
	finish(&info, 422, "client_closed", 0, 0, "/v1/profile");
	ck_assert_int_eq(got[0].info.record, 1);
	ck_assert_str_eq(got[0].x.answered_by, "patchscope");
	ck_assert_str_eq(got[0].x.error, "client_closed");
	http_headers_clear(&qh);
}
END_TEST

START_TEST(own_answer_replaces_a_response_already_begun)
{
	struct http_headers	 rh = { NULL, 0, 0 }, h = { NULL, 0, 0 };
	struct capture_info	 info;
	const struct exchange	*x = &got[0].x;

	request("GET", URL);
	record_begin(&rh);
	capture_request_done(&cap);
	hadd(&rh, "Content-Type", "text/html");
	hadd(&rh, "Content-Encoding", "gzip");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, "half", 4), 0);
	cap.resp.truncated = 1;
	/* conn_fail while the head was still corked: answer instead. */
	hadd(&h, "Content-Type", "application/json");
	capture_own_answer(&cap, 504, &h, "{}\n", 3, 0);
	finish(&info, 504, "upstream_timeout", 0, 4, "/v1/profile");

	ck_assert_str_eq(x->answered_by, "patchscope");
	ck_assert_int_eq(x->status, 504);
	ck_assert_str_eq(x->resp_body.data, "{}\n");
	ck_assert_int_eq(x->resp_body.truncated, 0);
	ck_assert_uint_eq(x->resp_wire_bytes, 3);
	ck_assert_ptr_null(http_headers_get(&x->resp_headers,
	    "Content-Encoding"));
	ck_assert_str_eq(http_headers_get(&x->resp_headers, "Content-Type"),
	    "application/json");
	http_headers_clear(&rh);
	http_headers_clear(&h);
}
END_TEST

START_TEST(client_that_left_before_a_response_is_not_recorded)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct capture_info	 info;

	request("PATCH", URL);
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 0, "{\"a\"", 4), 0);
	finish(&info, 499, "client_closed", 4, 0, "/v1/profile");
	ck_assert_int_eq(info.record, 0);
	ck_assert_int_eq(got[0].info.record, 0);
	ck_assert_int_eq(got[0].info.full, 0);
	ck_assert_int_eq(got[0].x.status, 499);
	ck_assert_str_eq(got[0].x.error, "client_closed");
	ck_assert_str_eq(got[0].x.url, URL);
	ck_assert_uint_eq(got[0].x.req_wire_bytes, 4);

	/* With diagnoses it is whole for the log, and still not kept. */
	capture_begin(&cap, MAX_BODY);
	request("PATCH", URL);
	record_begin(&qh);
	cap.diagnosed = 1;
	add_diag(&cap.diags, "json.syntax", "invalid JSON");
	finish(&info, 499, "client_closed", 4, 0, "/v1/profile");
	ck_assert_int_eq(got[0].info.record, 0);
	ck_assert_int_eq(got[0].info.full, 1);
	ck_assert_str_eq(got[0].x.error, "client_closed");
	ck_assert_uint_eq(json_array_size(got[0].x.diagnoses), 1);
	http_headers_clear(&qh);
}
END_TEST

START_TEST(recording_needs_a_url)
{
	struct http_headers	qh = { NULL, 0, 0 };
	struct capture_info	info;

	request("GET", NULL);
	record_begin(&qh);
	capture_response(&cap, 200, "OK", &qh);
	finish(&info, 200, NULL, 0, 0, "/x");
	ck_assert_int_eq(got[0].info.record, 0);
	ck_assert_int_eq(got[0].info.full, 0);
}
END_TEST

START_TEST(secrets_never_reach_a_sink)
{
	struct http_headers	 qh = { NULL, 0, 0 }, rh = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*req = "{\"user\":\"ann\","
	    "\"password\":\"hunter2-pass\"}";
	const char		*resp = "{\"echo\":\"got hunter2-pass and "
	    "sk-live-0123456789\"}";
	char			 m[REDACT_MARKER_LEN + 1];
	char			 want[256];
	const struct exchange	*x = &got[0].x;
	size_t			 i;

	request("POST", URL "?token=secret-in-url");
	hadd(&qh, "Authorization", "Bearer sk-live-0123456789");
	hadd(&qh, "Content-Type", "application/json");
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 0, req, strlen(req)), 0);
	capture_request_done(&cap);
	hadd(&rh, "Content-Type", "application/json");
	capture_response(&cap, 200, "OK", &rh);
	ck_assert_int_eq(capture_response_body(&cap, 0, resp, strlen(resp)),
	    0);
	finish_n(&info, 200, NULL, strlen(req), strlen(resp), "/v1/profile",
	    3);

	ck_assert_str_eq(http_headers_get(&x->req_headers, "Authorization"),
	    marker("Bearer sk-live-0123456789", m));
	snprintf(want, sizeof want, "{\"user\":\"ann\",\"password\":\"%s\"}",
	    marker("hunter2-pass", m));
	ck_assert_str_eq(x->req_body.data, want);
	/* The request's secrets are scrubbed from the response too. */
	ck_assert_ptr_null(strstr(x->resp_body.data, "hunter2-pass"));
	ck_assert_ptr_nonnull(strstr(x->resp_body.data,
	    marker("hunter2-pass", m)));
	ck_assert_ptr_nonnull(strstr(x->resp_body.data,
	    marker("sk-live-0123456789", m)));
	/* Lengths stay true to the redacted bodies. */
	assert_length(&x->req_headers, x->req_body.len);
	assert_length(&x->resp_headers, x->resp_body.len);
	for (i = 0; i < 3; i++) {
		assert_nowhere(&got[i].x, "hunter2-pass");
		assert_nowhere(&got[i].x, "sk-live-0123456789");
		assert_nowhere(&got[i].x, "secret-in-url");
	}
	http_headers_clear(&qh);
	http_headers_clear(&rh);
}
END_TEST

START_TEST(secret_in_a_gzip_body_is_redacted_once_decoded)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct capture_info	 info;
	const char		*req = "{\"password\":\"hunter2-pass\"}";
	unsigned char		 z[256];
	char			 m[REDACT_MARKER_LEN + 1], want[128];
	size_t			 n;

	n = unit_squeeze(31, req, z, sizeof z);
	request("PATCH", URL);
	hadd(&qh, "Content-Type", "application/json");
	hadd(&qh, "Content-Encoding", "gzip");
	record_begin(&qh);
	ck_assert_int_eq(capture_request_body(&cap, 1, (char *)z, n), 0);
	capture_request_done(&cap);
	capture_response(&cap, 204, "No Content", &qh);
	finish(&info, 204, NULL, n, 0, "/v1/profile");

	snprintf(want, sizeof want, "{\"password\":\"%s\"}",
	    marker("hunter2-pass", m));
	ck_assert_str_eq(got[0].x.req_body.data, want);
	ck_assert_str_eq(got[0].x.req_body.decoded_from, "gzip");
	assert_length(&got[0].x.req_headers, strlen(want));
	assert_nowhere(&got[0].x, "hunter2-pass");
	http_headers_clear(&qh);
}
END_TEST

START_TEST(request_exchange_is_decoded_and_redacted_for_replay)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct exchange		 x;
	const char		*req = "{\"password\":\"hunter2-pass\","
	    "\"n\":1}";
	unsigned char		 z[256];
	char			 m[REDACT_MARKER_LEN + 1], want[128];
	size_t			 n;

	n = unit_squeeze(31, req, z, sizeof z);
	/* replay_start: the request is held whole, headers kept. */
	request("PATCH", URL "?token=abc-secret");
	hadd(&qh, "Authorization", "Bearer sk-live-0123456789");
	hadd(&qh, "Content-Type", "application/json");
	hadd(&qh, "Content-Encoding", "gzip");
	hadd(&qh, "Via", "1.1 somewhere");
	cap.keep_req = 1;
	capture_request_headers(&cap, &qh);
	ck_assert_int_eq(capture_request_body(&cap, 0, (char *)z, n), 0);
	capture_request_done(&cap);
	exchange_init(&x);
	capture_request_exchange(&cap, r, &x);

	ck_assert_str_eq(x.method, "PATCH");
	snprintf(want, sizeof want, "%s?token=%s", URL,
	    marker("abc-secret", m));
	ck_assert_str_eq(x.url, want);
	ck_assert_str_eq(x.http_version, "HTTP/1.1");
	ck_assert_str_eq(http_headers_get(&x.req_headers, "Authorization"),
	    marker("Bearer sk-live-0123456789", m));
	ck_assert_ptr_null(http_headers_get(&x.req_headers, "Via"));
	ck_assert_ptr_null(http_headers_get(&x.req_headers,
	    "Content-Encoding"));
	ck_assert_str_eq(x.req_body.decoded_from, "gzip");
	snprintf(want, sizeof want, "{\"password\":\"%s\",\"n\":1}",
	    marker("hunter2-pass", m));
	ck_assert_str_eq(x.req_body.data, want);
	ck_assert_uint_eq(x.req_wire_bytes, n);
	/* Only the request: no response yet. */
	ck_assert_int_eq(x.status, 0);
	ck_assert_uint_eq(x.resp_headers.n, 0);
	ck_assert_ptr_null(x.resp_body.data);
	assert_nowhere(&x, "hunter2-pass");
	assert_nowhere(&x, "sk-live-0123456789");
	exchange_free(&x);

	/* The capture itself is untouched: a second one is the same. */
	exchange_init(&x);
	capture_request_exchange(&cap, r, &x);
	ck_assert_str_eq(x.req_body.data, want);
	exchange_free(&x);
	http_headers_clear(&qh);
}
END_TEST

/*
 * Was a bug: capture_request_exchange (capture.c:330-331) stores the body
 * with a Content-Length of its unredacted length (capture_store_body,
 * capture.c:307-308), then redacts the body, and, unlike capture_finish
 * (capture.c:412-414), does not fix the length afterwards: for
 * {"password":"hunter2"} (22 bytes) the body becomes 36 bytes and the
 * header still says 22. It should call exchange_fix_length after
 * redact_request. The recording of the same request has the true length,
 * so with --match-header Content-Length a request carrying a redacted
 * JSON secret never matches its own recording.
 */
START_TEST(request_exchange_keeps_content_length_true_to_the_redacted_body)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct exchange		 x;
	const char		*req = "{\"password\":\"hunter2\"}";

	request("PATCH", URL);
	hadd(&qh, "Content-Type", "application/json");
	hadd(&qh, "Content-Length", "22");
	cap.keep_req = 1;
	capture_request_headers(&cap, &qh);
	ck_assert_int_eq(capture_request_body(&cap, 0, req, strlen(req)), 0);
	capture_request_done(&cap);
	exchange_init(&x);
	capture_request_exchange(&cap, r, &x);
	ck_assert_ptr_null(strstr(x.req_body.data, "hunter2"));
	assert_length(&x.req_headers, x.req_body.len);
	exchange_free(&x);
	http_headers_clear(&qh);
}
END_TEST

START_TEST(request_exchange_then_finish_decodes_once)
{
	struct http_headers	 qh = { NULL, 0, 0 }, rh = { NULL, 0, 0 };
	struct capture_info	 info;
	struct exchange		 x;
	const char		*req = "{\"q\":\"value\"}";
	unsigned char		 z[256];
	const char		*dec;
	size_t			 n;

	n = unit_squeeze(31, req, z, sizeof z);
	request("POST", URL);
	hadd(&qh, "Content-Encoding", "gzip");
	cap.keep_req = 1;
	capture_request_headers(&cap, &qh);
	ck_assert_int_eq(capture_request_body(&cap, 0, (char *)z, n), 0);
	capture_request_done(&cap);
	exchange_init(&x);
	capture_request_exchange(&cap, r, &x);
	ck_assert_str_eq(x.req_body.data, req);
	exchange_free(&x);
	ck_assert_int_eq(cap.req.decoded, 1);
	dec = cap.req.dec.data;
	/* A miss forwarded with --fallback=proxy and recorded. */
	cap.record = cap.keep_resp = 1;
	capture_response(&cap, 200, "OK", &rh);
	finish(&info, 200, NULL, n, 0, "/x");
	ck_assert_ptr_eq(cap.req.dec.data, dec);
	ck_assert_str_eq(got[0].x.req_body.data, req);
	ck_assert_str_eq(got[0].x.req_body.decoded_from, "gzip");
	http_headers_clear(&qh);
}
END_TEST

START_TEST(sinks_are_called_in_order_once_each)
{
	struct http_headers	qh = { NULL, 0, 0 };
	struct capture_info	info;
	size_t			i;

	request("GET", URL);
	record_begin(&qh);
	capture_response(&cap, 200, "OK", &qh);
	finish_n(&info, 200, NULL, 0, 0, "/v1/profile", 3);
	ck_assert_uint_eq(norder, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(order[i], (int)i + 1);
		ck_assert_int_eq(got[i].calls, 1);
		ck_assert_int_eq(got[i].info.record, 1);
		ck_assert_str_eq(got[i].x.url, URL);
	}
	/* No sinks: nothing to call, nothing breaks. */
	capture_begin(&cap, MAX_BODY);
	request("GET", URL);
	finish_n(&info, 200, NULL, 0, 0, "/v1/profile", 0);
	ck_assert_uint_eq(norder, 3);
	http_headers_clear(&qh);
}
END_TEST

START_TEST(finish_clears_record_so_a_second_finish_does_not_record)
{
	struct http_headers	qh = { NULL, 0, 0 };
	struct capture_info	info;
	size_t			i;

	request("GET", URL);
	record_begin(&qh);
	capture_response(&cap, 200, "OK", &qh);
	finish_n(&info, 200, NULL, 0, 0, "/v1/profile", 3);
	ck_assert_int_eq(info.record, 1);
	ck_assert_int_eq(cap.record, 0);
	finish_n(&info, 200, NULL, 0, 0, "/v1/profile", 3);
	ck_assert_int_eq(info.record, 0);
	ck_assert_uint_eq(norder, 6);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(got[i].calls, 2);
		ck_assert_int_eq(got[i].info.record, 0);
		ck_assert_int_eq(got[i].info.full, 0);
		ck_assert_int_eq(order[3 + i], (int)i + 1);
	}
	http_headers_clear(&qh);
}
END_TEST

START_TEST(begin_clears_the_previous_exchange)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	const char		*text = "{\"a\":\"b\"}";
	unsigned char		 z[256];
	const char		*cause;
	size_t			 n;

	n = unit_squeeze(31, text, z, sizeof z);
	capture_request(&cap, "PATCH", 1);
	capture_request_url(&cap, URL);
	hadd(&qh, "Content-Encoding", "gzip");
	record_begin(&qh);
	cap.learn_resp = 1;
	ck_assert_int_eq(capture_request_body(&cap, 1, (char *)z, n), 0);
	ck_assert_ptr_nonnull(capture_request_decoded(&cap, "gzip", &cause));
	capture_request_done(&cap);
	cap.server_ip = xstrdup("192.0.2.1");
	capture_response(&cap, 200, "OK", &qh);
	ck_assert_int_eq(capture_response_body(&cap, 1, "x", 1), 0);
	cap.resp.truncated = 1;
	capture_own_answer(&cap, 422, &qh, "{}", 2, 1);
	cap.diagnosed = 1;
	add_diag(&cap.diags, "json.syntax", "invalid JSON");

	capture_begin(&cap, 77);
	ck_assert_int_eq(cap.record, 0);
	ck_assert_int_eq(cap.keep_req, 0);
	ck_assert_int_eq(cap.keep_resp, 0);
	ck_assert_int_eq(cap.learn_resp, 0);
	ck_assert_uint_eq(cap.max_body, 77);
	ck_assert_ptr_null(cap.method);
	ck_assert_ptr_null(cap.url);
	ck_assert_int_eq(cap.http10, 0);
	ck_assert_uint_eq(cap.req_headers.n, 0);
	ck_assert_uint_eq(cap.req.raw.len, 0);
	ck_assert_uint_eq(cap.req.dec.len, 0);
	ck_assert_int_eq(cap.req.decoded, 0);
	ck_assert_int_eq(cap.req.truncated, 0);
	ck_assert_ptr_null(cap.req.coding);
	ck_assert_ptr_null(cap.req.cause);
	ck_assert_int_eq(cap.status, 0);
	ck_assert_ptr_null(cap.reason);
	ck_assert_uint_eq(cap.resp_headers.n, 0);
	ck_assert_uint_eq(cap.resp.raw.len, 0);
	ck_assert_int_eq(cap.resp.truncated, 0);
	ck_assert_int_eq(cap.resp.decoded, 0);
	ck_assert_int_eq(cap.answered, 0);
	ck_assert_int_eq(cap.guard, 0);
	ck_assert_ptr_null(cap.server_ip);
	ck_assert_uint_eq(cap.diags.n, 0);
	ck_assert_int_eq(cap.diagnosed, 0);
	ck_assert(cap.t_start.tv_sec != 0 || cap.t_start.tv_nsec != 0);
	ck_assert(cap.t_wall.tv_sec != 0);
	ck_assert(cap.t_req_done.tv_sec == 0 && cap.t_req_done.tv_nsec == 0);
	ck_assert(cap.t_resp_head.tv_sec == 0 &&
	    cap.t_resp_head.tv_nsec == 0);
	http_headers_clear(&qh);
}
END_TEST

START_TEST(begin_keeps_small_buffers_and_gives_big_ones_back)
{
	char	*big = xmalloc(64 * 1024);

	memset(big, 'f', 64 * 1024);
	capture_begin(&cap, 128 * 1024);
	request("POST", URL);
	ck_assert_int_eq(capture_request_body(&cap, 1, "small", 5), 0);
	cap.keep_resp = 1;
	ck_assert_int_eq(capture_response_body(&cap, 0, big, 64 * 1024), 0);
	capture_begin(&cap, MAX_BODY);
	ck_assert_ptr_nonnull(cap.req.raw.data);
	ck_assert_uint_eq(cap.req.raw.len, 0);
	ck_assert_ptr_null(cap.resp.raw.data);
	ck_assert_uint_eq(cap.resp.raw.cap, 0);
	free(big);
}
END_TEST

START_TEST(one_capture_serves_exchange_after_exchange)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct capture_info	 info;
	char			 num[16];
	int			 i;

	hadd(&qh, "Content-Type", "application/json");
	for (i = 0; i < 6; i++) {
		/* conn_reset_exchange, then the next request. */
		capture_begin(&cap, MAX_BODY);
		snprintf(num, sizeof num, "%d", i);
		if (i % 2 == 0) {
			request("PATCH", URL);
			record_begin(&qh);
			ck_assert_int_eq(capture_request_body(&cap, 1, num,
			    strlen(num)), 0);
			capture_request_done(&cap);
			capture_response(&cap, 200, "OK", &qh);
			ck_assert_int_eq(capture_response_body(&cap, 0, num,
			    strlen(num)), 0);
			finish(&info, 200, NULL, 1, 1, "/v1/profile");
			ck_assert_int_eq(got[0].info.record, 1);
			ck_assert_str_eq(got[0].x.req_body.data, num);
			ck_assert_str_eq(got[0].x.resp_body.data, num);
		} else {
			request("GET", NULL);
			finish(&info, 404, NULL, 0, 0, "/other?x=1");
			ck_assert_int_eq(got[0].info.record, 0);
			ck_assert_int_eq(got[0].info.full, 0);
			ck_assert_str_eq(got[0].x.method, "GET");
			ck_assert_str_eq(got[0].x.url, "/other");
			ck_assert_int_eq(got[0].x.status, 404);
		}
	}
	ck_assert_int_eq(got[0].calls, 6);
	http_headers_clear(&qh);
}
END_TEST

START_TEST(free_twice_is_safe)
{
	request("GET", URL);
	capture_request_url(&cap, URL "/again");
	ck_assert_str_eq(cap.url, URL "/again");
	ck_assert_int_eq(capture_request_body(&cap, 1, "x", 1), 0);
	capture_free(&cap);
	capture_free(&cap);
	ck_assert_ptr_null(cap.url);
	ck_assert_ptr_null(cap.req.raw.data);
}
END_TEST

static void
pause_ms(long ms)
{
	struct timespec	ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

START_TEST(timings_follow_the_exchange)
{
	struct http_headers	 qh = { NULL, 0, 0 };
	struct capture_info	 info;
	const struct exchange	*x = &got[0].x;
	double			 t0;

	request("GET", URL);
	record_begin(&qh);
	pause_ms(3);
	capture_request_done(&cap);
	pause_ms(3);
	capture_response(&cap, 200, "OK", &qh);
	pause_ms(3);
	t0 = capture_elapsed_ms(&cap);
	ck_assert(t0 >= 9.0);
	finish(&info, 200, NULL, 0, 0, "/v1/profile");
	ck_assert(info.ms >= t0);
	ck_assert(x->send_ms >= 3.0);
	ck_assert(x->wait_ms >= 3.0);
	ck_assert(x->receive_ms >= 3.0);
	ck_assert(x->time_ms >= x->send_ms + x->wait_ms + x->receive_ms -
	    0.001);
	/* HAR's startedDateTime: 2026-01-02T03:04:05.678Z */
	ck_assert_uint_eq(strlen(x->started), 24);
	ck_assert_int_eq(x->started[4], '-');
	ck_assert_int_eq(x->started[10], 'T');
	ck_assert_int_eq(x->started[19], '.');
	ck_assert_int_eq(x->started[23], 'Z');
	http_headers_clear(&qh);
}
END_TEST

START_TEST(own_answer_has_no_wait_or_receive_time)
{
	struct http_headers	qh = { NULL, 0, 0 };
	struct capture_info	info;

	request("GET", URL);
	record_begin(&qh);
	capture_own_answer(&cap, 502, &qh, "{}", 2, 0);
	finish(&info, 502, "upstream_connect", 0, 0, "/v1/profile");
	ck_assert(got[0].x.send_ms == 0);
	ck_assert(got[0].x.wait_ms == 0);
	ck_assert(got[0].x.receive_ms == 0);
	http_headers_clear(&qh);
}
END_TEST

/* A sink that declines every exchange. */
static int
never_cb(void *arg, const struct capture_info *info)
{
	(void)arg;
	(void)info;
	return 0;
}

/* A sink that wants recorded exchanges only, as the recorder does. */
static int
recorded_cb(void *arg, const struct capture_info *info)
{
	(void)arg;
	return info->record;
}

START_TEST(sinks_get_only_what_they_want)
{
	struct capture_info	info;

	sinks[1].wants = never_cb;
	sinks[2].wants = recorded_cb;
	request("GET", URL);
	capture_response(&cap, 200, "OK", NULL);
	finish_n(&info, 200, NULL, 0, 0, NULL, 3);
	ck_assert_int_eq(got[0].calls, 1);
	ck_assert_int_eq(got[1].calls, 0);
	ck_assert_int_eq(got[2].calls, 0);
	ck_assert_int_eq(norder, 1);
}
END_TEST

START_TEST(no_sink_wanting_it_builds_nothing)
{
	struct capture_info	info;
	struct http_url		u;
	const char		*errstr;

	sinks[0].wants = never_cb;
	ck_assert_int_eq(http_url_parse(URL, &u, &errstr), 0);
	capture_request(&cap, "GET", 0);
	capture_request_target(&cap, &u);
	capture_response(&cap, 200, "OK", NULL);
	finish_n(&info, 200, NULL, 0, 0, NULL, 1);
	ck_assert_int_eq(got[0].calls, 0);
	/* The URL was never needed, so never formatted. */
	ck_assert_ptr_null(cap.url);
	http_url_free(&u);
}
END_TEST

START_TEST(target_is_formatted_only_when_a_sink_needs_it)
{
	struct capture_info	 info;
	struct http_url		 u;
	const char		*errstr;

	ck_assert_int_eq(http_url_parse("http://api.example:8080/v1/p?"
	    "token=s3cret&x=1", &u, &errstr), 0);
	capture_request(&cap, "GET", 0);
	capture_request_target(&cap, &u);
	ck_assert_ptr_null(cap.url);
	capture_response(&cap, 200, "OK", NULL);
	finish_n(&info, 200, NULL, 0, 0, NULL, 1);
	ck_assert_int_eq(got[0].calls, 1);
	/* Formatted from the target, then redacted for the log. */
	ck_assert_ptr_nonnull(cap.url);
	ck_assert_str_eq(cap.url, "http://api.example:8080/v1/p?token=s3cret"
	    "&x=1");
	ck_assert_ptr_null(strstr(got[0].x.url, "s3cret"));
	ck_assert_ptr_nonnull(strstr(got[0].x.url, "http://api.example:8080/"
	    "v1/p?token=redacted:"));
	capture_begin(&cap, MAX_BODY);
	ck_assert_ptr_null(cap.target);
	http_url_free(&u);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("capture");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, recorded_exchange_reaches_the_sink_whole);
	tcase_add_test(tc,
	    recorded_exchange_without_bodies_adds_no_content_length);
	tcase_add_test(tc, response_headers_are_kept_only_when_recording);
	tcase_add_test(tc, gzip_bodies_are_stored_decoded);
	tcase_add_test(tc, deflate_bodies_are_stored_decoded_zlib_or_raw);
	tcase_add_test(tc,
	    stored_headers_lose_every_spelling_of_via_and_framing);
	tcase_add_test(tc, gzip_of_an_empty_body_is_stored_empty_and_decoded);
	tcase_add_test(tc, corrupt_gzip_body_is_stored_raw_with_its_coding);
	tcase_add_test(tc, decoding_happens_once_and_gives_the_same_bytes);
	tcase_add_test(tc,
	    decoded_body_serves_the_cassette_without_a_second_decode);
	tcase_add_test(tc, failed_decoding_gives_a_cause_every_time);
	tcase_add_test(tc, unknown_coding_is_stored_raw_with_its_coding);
	tcase_add_test(tc, identity_or_no_coding_decodes_to_the_raw_bytes);
	tcase_add_test(tc, identity_body_over_max_body_fails_with_a_cause);
	tcase_add_test(tc, gzip_body_decoding_past_max_body_fails_with_a_cause);
	tcase_add_test(tc,
	    request_body_past_max_body_is_refused_and_nothing_kept);
	tcase_add_test(tc, request_body_is_kept_only_when_asked);
	tcase_add_test(tc, cut_keeps_the_part_that_fits_when_asked);
	tcase_add_test(tc, cut_keeps_nothing_more_when_not_asked);
	tcase_add_test(tc, cut_response_is_stored_truncated_with_its_wire_size);
	tcase_add_test(tc, truncated_gzip_body_is_stored_raw_not_decoded);
	tcase_add_test(tc, unrecorded_exchange_reaches_the_sink_light);
	tcase_add_test(tc,
	    light_exchange_without_url_shows_the_path_without_query);
	tcase_add_test(tc,
	    light_exchange_without_url_shows_a_dash_for_other_targets);
	tcase_add_test(tc,
	    diagnosed_unrecorded_exchange_is_full_with_its_diagnoses);
	tcase_add_test(tc,
	    diagnosed_unrecorded_gzip_body_is_stored_decoded_and_redacted);
	tcase_add_test(tc, diagnosed_without_diagnoses_gives_an_empty_array);
	tcase_add_test(tc, own_answer_is_recorded_as_patchscope_s);
	tcase_add_test(tc,
	    guard_answer_is_recorded_with_error_patchscope_guard);
	tcase_add_test(tc, error_code_from_info_overrides_the_guard);
	tcase_add_test(tc, own_answer_replaces_a_response_already_begun);
	tcase_add_test(tc, client_that_left_before_a_response_is_not_recorded);
	tcase_add_test(tc, recording_needs_a_url);
	tcase_add_test(tc, secrets_never_reach_a_sink);
	tcase_add_test(tc, secret_in_a_gzip_body_is_redacted_once_decoded);
	tcase_add_test(tc, request_exchange_is_decoded_and_redacted_for_replay);
	tcase_add_test(tc,
	    request_exchange_keeps_content_length_true_to_the_redacted_body);
	tcase_add_test(tc, request_exchange_then_finish_decodes_once);
	tcase_add_test(tc, sinks_are_called_in_order_once_each);
	tcase_add_test(tc,
	    finish_clears_record_so_a_second_finish_does_not_record);
	tcase_add_test(tc, begin_clears_the_previous_exchange);
	tcase_add_test(tc, begin_keeps_small_buffers_and_gives_big_ones_back);
	tcase_add_test(tc, one_capture_serves_exchange_after_exchange);
	tcase_add_test(tc, free_twice_is_safe);
	tcase_add_test(tc, timings_follow_the_exchange);
	tcase_add_test(tc, own_answer_has_no_wait_or_receive_time);
	tcase_add_test(tc, sinks_get_only_what_they_want);
	tcase_add_test(tc, no_sink_wanting_it_builds_nothing);
	tcase_add_test(tc, target_is_formatted_only_when_a_sink_needs_it);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
