/*
 * fuzz_http: bytes from a client through the real proxy code (llhttp glue,
 * request head checks, header handling, CONNECT and TLS interception,
 * replay matching, patchscope's own answers), in replay mode so that
 * nothing is ever sent to an origin.
 *
 * Input: one selector byte, then the bytes the client sends.
 *   bits 0-1  write size (all, 1, 7 or 64 bytes per write)
 *   bit 2     half-close only once the proxy's answer has stopped
 *   bit 3     --log-json
 *   bit 4     --no-annotate
 *   bit 5     --guard
 * The replay index holds cassettes/seed-story.har, so requests for its
 * URLs (http://127.0.0.1:41581/v1/acc1/profiles/p1...) are hits.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "buf.h"
#include "cassette.h"
#include "exchange.h"
#include "log.h"
#include "options.h"
#include "proxy.h"
#include "redact.h"
#include "replay.h"
#include "xmalloc.h"
#include "fuzz_net.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct event_base	*base;
static struct options		 opts;
static struct proxy		*proxy;
static struct replay_index	*idx;

static int
load_entry_cb(struct exchange *x, size_t index, void *arg, char **cause)
{
	struct redactor	*r = arg;

	(void)index;
	(void)cause;
	redact_exchange(r, x);
	replay_add(idx, x);
	exchange_free(x);
	return 0;
}

/* The seed story as the replay index (empty when it cannot be read). */
static void
load_cassette(void)
{
	struct redactor	*r;
	struct buf	 text = { NULL, 0, 0 };
	char		 chunk[65536], *cause = NULL;
	size_t		 n;
	FILE		*f;

	idx = replay_new(NULL, 0);
	f = fopen(FUZZ_SRCDIR "/cassettes/seed-story.har", "rb");
	if (f == NULL) {
		fuzz_say("no seed cassette; replaying an empty "
		    "one");
		return;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&text, chunk, n);
	fclose(f);
	r = proxy_redactor_new(&opts);
	if (cassette_parse(buf_str(&text), text.len, load_entry_cb, r, NULL,
	    &cause) != 0) {
		fuzz_say("seed cassette: %s", cause);
		free(cause);
	}
	redact_free(r);
	buf_free(&text);
}

/*
 * Fill the index's list of misses (it keeps the first 1000; later ones are
 * only counted), so that a miss costs no memory that lives on after its
 * run: libFuzzer then checks every run for leaks without false alarms.
 */
static void
fill_misses(void)
{
	struct exchange		q;
	struct replay_hit	hit;
	int			i;

	exchange_init(&q);
	q.method = xstrdup("GET");
	q.url = xstrdup("http://fuzz.invalid/fill");
	q.http_version = xstrdup("HTTP/1.1");
	for (i = 0; i < 1100; i++)
		(void)replay_match(idx, &q, 0, &hit);
	exchange_free(&q);
}

/* Start the proxy once, in replay mode, with short timeouts. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	*cause = NULL;

	(void)argc;
	(void)argv;
	fuzz_net_init();
	base = event_base_new();
	options_defaults(&opts);
	opts.mode = OPTIONS_REPLAY;
	opts.listen_port = 0;
	opts.connect_timeout_ms = 200;
	opts.response_timeout_ms = 300;
	opts.idle_timeout_ms = 200;
	opts.header_timeout_ms = 200;
	opts.max_header_bytes = 8192;
	opts.max_body_buffer = 256 * 1024;
	opts.log_level = fuzz_log_level();
	opts.ca_dir = xstrdup(fuzz_home());
	load_cassette();
	fill_misses();
	proxy = proxy_new(base, &opts, &cause);
	if (proxy == NULL) {
		fuzz_say("%s", cause);
		abort();
	}
	proxy_set_replay(proxy, idx);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_plan	plan;

	if (len < 1)
		return 0;
	fuzz_plan_from_byte(data[0], &plan);
	opts.log_json = (data[0] >> 3) & 1;
	opts.no_annotate = (data[0] >> 4) & 1;
	opts.guard = (data[0] >> 5) & 1;
	fuzz_client(base, proxy_address(proxy), data + 1, len - 1, &plan);
	return 0;
}
