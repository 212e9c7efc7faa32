/*
 * half: one side of a proxied connection (the client or the origin): its
 * bufferevent, its llhttp parser and the message in progress, corked
 * writes and back-pressure. A half reports what it parses (a message
 * begins, a head is complete, body bytes, the message is complete, an
 * error) through a small ops table and never calls up into the code that
 * decides what a request becomes.
 */
#ifndef PATCHSCOPE_HALF_H
#define PATCHSCOPE_HALF_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "buf.h"
#include "http.h"

#define HALF_RELAY_HIGH	(256 * 1024)	/* stop reading the source */
#define HALF_RELAY_LOW	(64 * 1024)	/* resume reading */
#define HALF_SINGLE_IO	(64 * 1024)	/* bytes per read or write call */
#define HALF_TLS_SINGLE_READ (16 * 1024) /* per read under TLS: a record */

struct bufferevent;
struct half;

/* Why parsing stopped with an error. */
enum half_error {
	HALF_ERR_REJECTED,	/* a rule refused the head: detail says why */
	HALF_ERR_HEAD_TOO_LARGE,/* over the head size or header count limit */
	HALF_ERR_BODY_REFUSED,	/* the body op refused more bytes */
	HALF_ERR_MALFORMED	/* llhttp's own error: detail says what */
};

/*
 * What a half reports. Each op gets the half; h->arg is the owner's. The
 * head and done ops run after llhttp has returned, so they may answer,
 * close or free anything; begin and body run inside the parser and must
 * not.
 */
struct half_ops {
	/* A request begins (request halves only). */
	void	(*begin)(struct half *);
	/* The head is complete. Return 0 to go on parsing, -1 to stop. */
	int	(*head)(struct half *);
	/* Body bytes (before they are relayed). Return 0, or -1 to refuse. */
	int	(*body)(struct half *, const char *, size_t);
	/* The message is complete; the parser stays paused until resumed. */
	void	(*done)(struct half *);
	/* Parsing failed. */
	void	(*error)(struct half *, enum half_error, const char *detail);
	/* Return nonzero when nothing more is to be parsed. */
	int	(*stopped)(struct half *);
};

struct half {
	void			*arg;		/* the owner's (the conn) */
	const struct half_ops	*ops;
	struct half		*peer;
	int			 request;	/* parses requests */
	size_t			 max_head;	/* --max-header-bytes */
	struct bufferevent	*bev;
	llhttp_t		 parser;
	int			 paused;	/* parser stopped at message end */
	int			 throttled;	/* reading off for backpressure */
	int			 chunked_out;	/* re-chunk body sent to peer */
	int			 hold;		/* body kept by the owner, not
						   relayed */
	int			 plain;		/* a TCP socket, no TLS layer */
	int			 corked;	/* collect writes in cork */
	struct buf		 cork;		/* writes held during a parse */
	int			 cork_head;	/* the cork holds a message's
						   head (set by the owner) */
	int			 connected;	/* the socket may be written */
	int64_t			 out_left;	/* bytes still let through to
						   the socket, the rest dropped
						   (--fault); -1: no limit */
	uint64_t		 body_bytes;	/* body bytes parsed this message */
	/* The message being parsed. */
	int			 method;	/* request method (llhttp) */
	struct buf		 url;		/* request target as sent */
	struct buf		 reason;	/* response reason phrase */
	struct http_headers	 headers;
	int			 interim;	/* parsing a 1xx response */
	struct buf		 field;
	struct buf		 value;
	int			 in_value;
	size_t			 head_bytes;	/* head bytes seen by callbacks */
	size_t			 raw_head_bytes;/* head bytes fed to llhttp */
	int			 head_done;
	int			 msg_done;
	int			 body_refused;	/* the body op said no */
	const char		*reject;	/* why a callback stopped llhttp */
	const char		*exec_start;	/* input given to llhttp_execute */
	char			 exec_prev;	/* last byte of the input before
						   that is not a blank */
};

/* Set up a half owned by arg, reporting through ops. */
void	half_init(struct half *, void *arg, const struct half_ops *,
	    struct half *peer, int request, size_t max_head);
/* Start a new parser (at the start of a connection or a TLS layer). */
void	half_parser_init(struct half *);
/* Forget the head and counters of the last message. */
void	half_reset_message(struct half *);
/* Free the half's buffers (not its bufferevent). */
void	half_free_buffers(struct half *);
/*
 * Feed the half's input to its parser until paused, empty, stopped or
 * failed. What the pass sends to the peer goes out in one write at the end.
 */
void	half_parse(struct half *);
/* Resume a parser paused at the end of a message. */
void	half_resume(struct half *);
/*
 * Go on parsing a message whose head op returned 0 but whose pass was
 * stopped (ops->stopped) until now: the parser runs once even with no
 * input, so a message without a body completes.
 */
void	half_parse_after_head(struct half *);
/*
 * The peer closed the connection: end a body delimited by the close.
 * Return nonzero when that completed the message (the parser is paused).
 */
int	half_eof(struct half *);
/* Read more than libevent's 4 KiB at once from a plain socket. */
void	half_fill(struct half *);
/* Send bytes (queued behind the cork during a parse pass). */
void	half_write(struct half *, const void *, size_t);
/* Send what was held while corked. */
void	half_uncork(struct half *);
/* Drop what was held while corked. */
void	half_discard_cork(struct half *);
/* Write body bytes parsed on h to its peer in the peer's framing. */
void	half_relay_out(struct half *, const char *, size_t);
/* Let a throttled half read again. */
void	half_throttle(struct half *);
void	half_unthrottle(struct half *);
/* Stop reading h when its peer's output is over the high mark. */
void	half_throttle_check(struct half *h);
/* Return the bytes queued to leave on the half's socket. */
size_t	half_output_len(const struct half *);
/* Return the bytes waiting in the half's input. */
size_t	half_input_len(const struct half *);

#endif
