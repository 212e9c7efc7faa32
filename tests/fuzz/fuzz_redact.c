/*
 * fuzz_redact: the redaction pass over a whole exchange built from the
 * input, with a redactor that has names of its own besides the built-in
 * lists.
 *
 * Input: one selector byte, then five parts separated by NUL bytes (the
 * last one keeps any further NULs):
 *   the URL's query, a secret header value, a Cookie header value, the
 *   request body, the response body.
 * Selector bits 0-1 pick the request's Content-Type (JSON, form, none,
 * text), bits 2-3 the response's.
 *
 * Checked: redaction is idempotent (a second pass changes nothing), and the
 * secret header's value (X-Fuzz-Secret, 4 bytes or more, no blanks, not
 * already a marker) is left nowhere in the exchange outside a marker: not
 * in the URL, a header value, the reason, a diagnosis, a string of a JSON
 * body or the text of any other body.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "body.h"
#include "cassette.h"
#include "exchange.h"
#include "http.h"
#include "redact.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * As REDACT_MAX_DEPTH (redact_local.h): deeper JSON containers are not
 * looked into.
 */
#define JSON_DEPTH	64

static const char *ctypes[] = {
	"application/json; charset=utf-8",
	"application/x-www-form-urlencoded",
	NULL,
	"text/plain",
};

static struct redactor	*redactor;

static void
add(struct http_headers *h, const char *name, const char *value)
{
	http_headers_add(h, name, strlen(name), value, strlen(value));
}

/* Split off the part before the next NUL (the last takes the rest). */
static char *
next_part(const uint8_t **p, const uint8_t *end, size_t *len, int last)
{
	const uint8_t	*z = NULL;
	char		*s;

	if (*p == NULL) {
		*len = 0;
		return xstrdup("");
	}
	if (!last)
		z = memchr(*p, 0, (size_t)(end - *p));
	*len = (size_t)((z != NULL ? z : end) - *p);
	s = xmalloc(*len + 1);
	memcpy(s, *p, *len);
	s[*len] = '\0';
	*p = z != NULL ? z + 1 : NULL;
	return s;
}

/* Nonzero when v occurs in s (len bytes) outside the markers in it. */
static int
occurs(const char *s, size_t len, const char *v, size_t vlen)
{
	size_t	i = 0, start = 0;

	if (s == NULL)
		return 0;
	/* Look between markers: s[start, i) holds none. */
	for (;;) {
		while (i < len && !(len - i >= REDACT_MARKER_LEN &&
		    redact_is_marker(s + i, REDACT_MARKER_LEN)))
			i++;
		if (memmem(s + start, i - start, v, vlen) != NULL)
			return 1;
		if (i >= len)
			return 0;
		i += REDACT_MARKER_LEN;
		start = i;
	}
}

static int
json_occurs(const json_t *j, const char *v, size_t vlen, int depth)
{
	const char	*key;
	json_t		*e;
	size_t		 i;

	if (json_is_string(j))
		return occurs(json_string_value(j), json_string_length(j), v,
		    vlen);
	if (depth >= JSON_DEPTH)
		return 0;
	json_object_foreach((json_t *)j, key, e)
		if (json_occurs(e, v, vlen, depth + 1))
			return 1;
	json_array_foreach(j, i, e)
		if (json_occurs(e, v, vlen, depth + 1))
			return 1;
	return 0;
}

/* Redaction reads a body as JSON when its type says so (or it has none
 * and looks like JSON) and it parses without duplicate keys. */
static int
body_is_doc(const char *ct, const char *s, size_t len)
{
	json_t	*doc;
	size_t	 i = 0;

	if (len == 0)
		return 0;
	if (ct == NULL) {
		while (i < len && strchr(" \t\r\n", s[i]) != NULL && s[i])
			i++;
		if (i == len || (s[i] != '{' && s[i] != '['))
			return 0;
	} else if (!body_is_json(ct))
		return 0;
	doc = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
	json_decref(doc);
	return doc != NULL;
}

static int
body_occurs(const struct exchange_body *b, int doc, const char *v,
    size_t vlen)
{
	json_t	*j;
	int	 found;

	if (b->data == NULL)
		return 0;
	if (!doc)
		return occurs(b->data, b->len, v, vlen);
	j = json_loadb(b->data, b->len, JSON_DECODE_ANY, NULL);
	found = j != NULL && json_occurs(j, v, vlen, 0);
	json_decref(j);
	return found;
}

static int
headers_occur(const struct http_headers *h, const char *v, size_t vlen)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		if (occurs(h->v[i].value, strlen(h->v[i].value), v, vlen))
			return 1;
	return 0;
}

static void
leak(const char *where, const char *v)
{
	fprintf(stderr, "fuzz_redact: the secret \"%s\" survives in %s\n", v,
	    where);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t	*p, *end = data + len;
	struct exchange	 x;
	char		*query, *secret, *cookie, *reqb, *respb, *v;
	size_t		 qlen, slen, clen, reqlen, resplen, vlen;
	const char	*reqct, *respct;
	int		 reqdoc, respdoc;
	json_t		*e1, *e2, *d, *m;
	char		*s1, *s2;

	if (len < 1)
		return 0;
	if (redactor == NULL) {
		redactor = redact_new();
		redact_add_header(redactor, "X-Fuzz-Secret");
		redact_add_query(redactor, "sig2");
		redact_add_json_key(redactor, "pin");
	}
	reqct = ctypes[data[0] & 3];
	respct = ctypes[(data[0] >> 2) & 3];
	p = data + 1;
	query = next_part(&p, end, &qlen, 0);
	secret = next_part(&p, end, &slen, 0);
	cookie = next_part(&p, end, &clen, 0);
	reqb = next_part(&p, end, &reqlen, 0);
	respb = next_part(&p, end, &resplen, 1);

	exchange_init(&x);
	x.started = xstrdup("2026-01-01T00:00:00.000Z");
	x.method = xstrdup("PATCH");
	x.url = xasprintf("http://api.example.com/v1/acc1/profiles/p1?%s",
	    query);
	x.http_version = xstrdup("HTTP/1.1");
	add(&x.req_headers, "Host", "api.example.com");
	add(&x.req_headers, "X-Fuzz-Secret", secret);
	v = xasprintf("Bearer %s", secret);
	add(&x.req_headers, "Authorization", v);
	free(v);
	add(&x.req_headers, "Cookie", cookie);
	if (reqct != NULL)
		add(&x.req_headers, "Content-Type", reqct);
	exchange_body_set(&x.req_body, reqb, reqlen);
	x.status = 400;
	x.reason = xstrdup("Bad Request");
	if (respct != NULL)
		add(&x.resp_headers, "Content-Type", respct);
	v = xasprintf("sid=%s; Path=/; HttpOnly", cookie);
	add(&x.resp_headers, "Set-Cookie", v);
	free(v);
	exchange_body_set(&x.resp_body, respb, resplen);
	/* A diagnosis that quotes the secret, as one quoting a body may. */
	x.diagnoses = json_array();
	d = json_pack("{s:s, s:s, s:s, s:s}", "source", "patchscope",
	    "severity", "error", "code", "fuzz.quote", "path", "/token");
	if ((m = json_string(secret)) != NULL)
		json_object_set_new(d, "message", json_sprintf("got \"%s\"",
		    secret));
	json_decref(m);
	json_array_append_new(x.diagnoses, d);

	reqdoc = body_is_doc(reqct, reqb, reqlen);
	respdoc = body_is_doc(respct, respb, resplen);
	redact_exchange(redactor, &x);
	e1 = cassette_entry_encode(&x);

	/* The secret header's value is nowhere outside a marker. */
	v = secret + strspn(secret, " \t");
	vlen = strlen(v);
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (vlen >= 4 && vlen == strcspn(v, " \t\r\n") &&
	    !redact_is_marker(v, vlen)) {
		v = xstrndup(v, vlen);
		if (occurs(x.url, strlen(x.url), v, vlen))
			leak("the URL", v);
		if (headers_occur(&x.req_headers, v, vlen) ||
		    headers_occur(&x.resp_headers, v, vlen))
			leak("a header value", v);
		if (occurs(x.reason, strlen(x.reason), v, vlen))
			leak("the reason phrase", v);
		if (json_occurs(x.diagnoses, v, vlen, 0))
			leak("a diagnosis", v);
		if (body_occurs(&x.req_body, reqdoc, v, vlen))
			leak("the request body", v);
		if (body_occurs(&x.resp_body, respdoc, v, vlen))
			leak("the response body", v);
		free(v);
	}

	/* A second pass changes nothing. */
	redact_exchange(redactor, &x);
	e2 = cassette_entry_encode(&x);
	if (!json_equal(e1, e2)) {
		s1 = json_dumps(e1, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		s2 = json_dumps(e2, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		fprintf(stderr, "fuzz_redact: a second pass changed the "
		    "exchange\n--- once\n%s\n--- twice\n%s\n", s1, s2);
		abort();
	}
	json_decref(e1);
	json_decref(e2);
	exchange_free(&x);
	free(query);
	free(secret);
	free(cookie);
	free(reqb);
	free(respb);
	return 0;
}
