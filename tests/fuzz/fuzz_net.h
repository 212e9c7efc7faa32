/*
 * fuzz_net: what the network fuzz targets (fuzz_http, fuzz_response) share:
 * a scratch home for patchscope's CA, the log level, one client connection
 * driven on the proxy's own event loop, and a loopback "origin" that answers
 * every connection with the bytes it is given. Everything runs on one
 * thread and one event_base, and each call is bounded in time.
 */
#ifndef PATCHSCOPE_FUZZ_NET_H
#define PATCHSCOPE_FUZZ_NET_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct event_base;
struct fuzz_origin;

/* Bytes written one loop pass apart at most this far into a message. */
#define FUZZ_CHUNKED_MAX	256
/* A connection still open this long after the client's last byte is a
 * hang: the target aborts. */
#define FUZZ_DEADLINE_S		10

/* How to send a message: the size of each write and when to half-close. */
struct fuzz_plan {
	size_t	chunk;		/* 0: one write; else bytes per write,
				   a loop pass apart, up to
				   FUZZ_CHUNKED_MAX */
	int	late_shutdown;	/* half-close once the answer stops */
	int	wait_answer;	/* late: wait for an answer byte (up
				   to 2 s), not just a quiet moment */
};

/* Decode a plan from a selector byte (its low three bits; wait_answer
 * is left 0). */
void	fuzz_plan_from_byte(uint8_t, struct fuzz_plan *);

/*
 * Call first: ignore SIGPIPE, keep a copy of stderr for fuzz_say (libFuzzer's
 * -close_fd_mask=2 then silences patchscope's log alone) and start the log
 * at the level PATCHSCOPE_FUZZ_LOG asks for (warn, info, debug; default
 * warn, so that the fuzzer's own output stays readable).
 */
void	fuzz_net_init(void);
/* Print a line about a finding on the stderr saved by fuzz_net_init. */
void	fuzz_say(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Make a private directory for PATCHSCOPE_HOME (patchscope's CA), removed
 * at exit. Return its path (static storage).
 */
const char *fuzz_home(void);
/* The log level asked for in PATCHSCOPE_FUZZ_LOG. */
enum log_level fuzz_log_level(void);

/*
 * Connect to addr ("127.0.0.1:PORT"), send len bytes of data as plan says,
 * read until the peer closes, and return the number of bytes received
 * (discarded, but for a check that an answer starts like one). Aborts when
 * the connection outlives FUZZ_DEADLINE_S or when the answer does not start
 * with "HTTP/1.".
 */
size_t	fuzz_client(struct event_base *, const char *addr,
	    const uint8_t *data, size_t len, const struct fuzz_plan *);

/*
 * Listen on 127.0.0.1 (a free port) on base. Every connection reads a
 * request (its head and Content-Length body, or a chunked body), then is
 * answered with the bytes set by fuzz_origin_set, then half-closed.
 */
struct fuzz_origin *fuzz_origin_new(struct event_base *);
/* The port it listens on. */
int	fuzz_origin_port(const struct fuzz_origin *);
/* Answer the next connections with a copy of these bytes, written so. */
void	fuzz_origin_set(struct fuzz_origin *, const uint8_t *, size_t,
	    const struct fuzz_plan *);
/* Close every connection still open (at the end of each input). */
void	fuzz_origin_reset(struct fuzz_origin *);

#endif
