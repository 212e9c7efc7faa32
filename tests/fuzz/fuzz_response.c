/*
 * fuzz_response: bytes from an origin through the real proxy code (the
 * response parser, header handling, body decoding, snapshots learned from
 * GETs, diagnoses and annotation of PATCH answers, --guard holds). A
 * loopback origin on the proxy's own event loop answers every connection
 * with the input; a fixed client request goes through the proxy to it.
 *
 * Input: one selector byte, then the origin's answer.
 *   bits 0-1  the request: GET of a profile with "fields", PATCH with a
 *             body that has errors, PATCH with a clean body, HEAD
 *   bit 2     --guard
 *   bit 3     --no-annotate
 *   bit 4     --log-json
 *   bit 5     the client half-closes right after its request (the proxy
 *             then gives the exchange up, as a client that closes has);
 *             else only once the answer has stopped
 *   bits 6-7  origin write size (all, 1, 7 or 64 bytes per write)
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "options.h"
#include "proxy.h"
#include "xmalloc.h"
#include "fuzz_net.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct event_base	*base;
static struct options		 opts;
static struct proxy		*proxy;
static struct fuzz_origin	*origin;
static char			*requests[4];

#define PROFILE	"/v1/acc1/profiles/p1"

/* A PATCH that diagnose finds errors in (unknown anchor, missing id). */
static const char patch_bad[] =
    "{\"actions\":[{\"type\":\"WEBHOOK\",\"anchor\":\"BOOKING_CANCELED\","
    "\"to\":\"https://hooks.example.com/x\",\"subject\":\"POST\","
    "\"body\":\"{\\\"id\\\": \\\"{ID}\\\"}\",\"headers\":{\"X-Auth-Token\":"
    "\"s3cr3t-token-value\"}}]}";
/* A PATCH with nothing wrong in it. */
static const char patch_good[] =
    "{\"actions\":[{\"id\":\"act_1\",\"type\":\"EMAIL\",\"anchor\":"
    "\"BOOKING_CREATED\",\"to\":\"{EMAIL}\",\"body\":\"Hi {FNAME}\"}]}";

/* A request without a body for the profile, through the proxy. */
static char *
request_text(const char *method, const char *query)
{
	int	port = fuzz_origin_port(origin);

	return xasprintf("%s http://127.0.0.1:%d" PROFILE "%s HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n"
	    "Authorization: Bearer fuzz-credential-0123456789\r\n"
	    "Accept-Encoding: gzip, deflate\r\n"
	    "Connection: close\r\n\r\n", method, port, query, port);
}

/* A PATCH of body for the profile, through the proxy. */
static char *
patch_text(const char *query, const char *body)
{
	int	port = fuzz_origin_port(origin);

	return xasprintf("PATCH http://127.0.0.1:%d" PROFILE "%s HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n"
	    "Authorization: Bearer fuzz-credential-0123456789\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", port, query, port, strlen(body),
	    body);
}

/* The four client requests, with the origin's port in them. */
static void
make_requests(void)
{
	requests[0] = request_text("GET",
	    "?fields=id%2Cactions%2Cactions.id%2Cactions.type%2C"
	    "actions.anchor%2Cactions.headers");
	requests[1] = patch_text("?fields=actions", patch_bad);
	requests[2] = patch_text("", patch_good);
	requests[3] = request_text("HEAD", "");
}

/* Start the origin and the proxy once, with short timeouts. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	*cause = NULL;

	(void)argc;
	(void)argv;
	fuzz_net_init();
	base = event_base_new();
	origin = fuzz_origin_new(base);
	make_requests();
	options_defaults(&opts);
	opts.mode = OPTIONS_PROXY;
	opts.listen_port = 0;
	opts.connect_timeout_ms = 500;
	opts.response_timeout_ms = 500;
	opts.idle_timeout_ms = 500;
	opts.header_timeout_ms = 500;
	opts.max_header_bytes = 8192;
	opts.max_body_buffer = 256 * 1024;
	opts.log_level = fuzz_log_level();
	opts.ca_dir = xstrdup(fuzz_home());
	proxy = proxy_new(base, &opts, &cause);
	if (proxy == NULL) {
		fuzz_say("%s", cause);
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const size_t	 chunks[] = { 0, 1, 7, 64 };
	struct fuzz_plan	 client = { 0, 0, 1 }, answer = { 0, 0, 0 };
	const char		*req;

	if (len < 1)
		return 0;
	req = requests[data[0] & 3];
	opts.guard = (data[0] >> 2) & 1;
	opts.no_annotate = (data[0] >> 3) & 1;
	opts.log_json = (data[0] >> 4) & 1;
	client.late_shutdown = !((data[0] >> 5) & 1);
	answer.chunk = chunks[(data[0] >> 6) & 3];
	fuzz_origin_set(origin, data + 1, len - 1, &answer);
	fuzz_client(base, proxy_address(proxy), (const uint8_t *)req,
	    strlen(req), &client);
	fuzz_origin_reset(origin);
	return 0;
}
