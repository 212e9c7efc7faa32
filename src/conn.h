/*
 * conn: one client connection of the proxy, shared by the server modules
 * (proxy, conn, forward, tunnel, replay_serve). Code outside the server
 * uses proxy.h and never sees these structures.
 */
#ifndef PATCHSCOPE_CONN_H
#define PATCHSCOPE_CONN_H

#include <sys/queue.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "capture.h"
#include "half.h"
#include "http.h"
#include "netaddr.h"
#include "profile.h"

struct client_watch;
struct conn;
struct event;
struct sockaddr;
struct event_base;
struct evconnlistener;
struct evdns_base;
struct fault_set;
struct fault_spec;
struct http_headers;
struct options;
struct profile_seed;
struct replay_index;
struct snapshot;

#define PROXY_MAX_SINKS		8

/* What the proxy does with requests, chosen once at start-up. */
enum proxy_mode {
	PROXY_FORWARD,		/* forward (proxy, record) */
	PROXY_REPLAY		/* answer from a cassette (replay) */
};

/* The server: listener, shared state, the connections. */
struct proxy {
	struct event_base	*base;
	struct evdns_base	*dns;
	const struct options	*opts;
	enum proxy_mode		 mode;
	struct evconnlistener	*listener;
	struct upstream_pool	*pool;
	struct ca		*ca;
	struct rules		*rules;
	struct snapshot_store	*snapshots;
	struct redactor		*redactor;	/* for the log and cassettes */
	struct recorder		*recorder;	/* record; replay --fallback */
	struct replay_index	*replay;	/* replay: answer from it */
	struct profile_seed	*seed;		/* replay: each profile's first
						   answer in the cassette */
	struct fault_set	*faults;	/* --fault; NULL: none */
	struct client_watch	*watch;		/* the clients' retries */
	struct capture_sink	 sinks[PROXY_MAX_SINKS];
	size_t			 nsinks;
	int			 color;		/* stderr is a terminal */
	struct ssl_ctx_st	*upstream_tls;
	struct event		*accept_retry;
	struct event		*shutdown_timer;
	struct event		*reaper;
	TAILQ_HEAD(, conn)	 conns;
	TAILQ_HEAD(, conn)	 dead;
	unsigned		 nconns;
	uint64_t		 next_id;
	int			 draining;
	char			*address;
	/* --web: exchanges are kept whole for the view; its address. */
	int			 view;
	char			*web_host;
	int			 web_port;
};

enum conn_state {
	CONN_WAIT_REQUEST,	/* keep-alive: no byte of a request yet */
	CONN_HANDSHAKE,		/* after CONNECT: TLS with the client */
	CONN_READ_HEAD,		/* reading the request head */
	CONN_READ_HELD,		/* reading a body that is held whole before
				   anything is sent (--guard, replay) */
	CONN_CONNECT,		/* connecting to the origin */
	CONN_WAIT_RESPONSE,	/* request going out, no response byte yet */
	CONN_RELAY_RESPONSE,	/* response head sent on, body streaming */
	CONN_DRAIN,		/* flushing a last answer, then close */
	CONN_LINGER,		/* answer sent; discard input until EOF */
	CONN_TUNNEL,		/* CONNECT without interception: raw bytes */
	CONN_FAULT,		/* a --fault holds the request: latency's
				   wait, or hang (no answer, no timer) */
	CONN_CLOSED		/* closed; freed from the loop soon */
};

/* What the connection's one timer waits for. */
enum conn_timer {
	TIMER_HEADER,		/* --header-timeout: a request head */
	TIMER_IDLE,		/* --idle-timeout: any progress */
	TIMER_CONNECT,		/* --connect-timeout: the origin's socket */
	TIMER_RESPONSE,		/* --response-timeout: the response head */
	TIMER_LINGER,		/* the client's EOF after the last answer */
	TIMER_FLUSH,		/* TLS bytes of the last answer to leave */
	TIMER_FAULT		/* --fault latency: the wait before the
				   request goes on */
};

/*
 * What a request becomes, chosen once when its head is in. start: the
 * target is known; send the request on or hold it. Return 0, 1 when the
 * client's bytes are no longer HTTP to parse (a tunnel), or -1 after
 * answering. request_done: the whole request is in (may be NULL).
 */
struct handler {
	const char	*name;
	int		(*start)(struct conn *);
	void		(*request_done)(struct conn *);
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct proxy		*proxy;
	uint64_t		 id;
	enum conn_state		 state;
	struct half		 client;
	struct half		 origin;
	struct event		*timer;
	enum conn_timer		 timer_kind;
	struct timespec		 last_activity;
	struct timespec		 fault_at;	/* --fault latency: the wait began */
	char			 peer[NETADDR_IP_MAX]; /* the client's address */
	struct event		*resume;	/* parse pipelined input later */
	int			 exchanges;

	/* The exchange in progress. */
	const struct handler	*handler;
	struct capture		 cap;
	int			 method;	/* llhttp method, -1: none yet */
	struct http_url		 target;
	int			 have_target;
	int			 origin_form;	/* replay: GET /path, no URL */
	struct buf		 upstream_head;	/* kept for one retry */
	int			 client_keepalive;
	int			 client_http10;
	int			 req_has_body;
	int			 resp_status;
	int			 resp_started;	/* a response head went out */
	int			 interims;	/* 1xx responses so far */
	int			 close_after;	/* close once the answer is out */
	const struct fault_spec	*fault;		/* its --fault, or NULL (the
						   proxy's faults own it) */

	/* The origin of the exchange in progress (forward). */
	char			*origin_host;	/* where to connect */
	char			*origin_name;	/* TLS name: SNI, certificate */
	int			 origin_port;
	int			 origin_tls;
	int			 origin_reused;
	int			 retried;

	/* After CONNECT: where the tunnel goes. */
	struct http_url		 tunnel;
	int			 have_tunnel;	/* intercepting TLS */
	int			 raw_tunnel;	/* --no-intercept: bytes only */

	/* Profile API inspection of the exchange in progress. */
	int			 api;		/* a profile URL */
	struct profile_ref	 ref;		/* which profile */
	int			 inspect_req;	/* keep the PATCH body */
	int			 hold_resp;	/* keep it all to annotate */
	uint64_t		 learned_hash;	/* last profile body learned */
};

/* Stop the loop once a draining proxy has no connection left. */
void	proxy_maybe_done(struct proxy *);
/* Set up a connection on an accepted socket; NULL when it cannot be. */
struct conn *conn_new(struct proxy *, int fd);
/* Free a closed connection (from the loop, never up a callback stack). */
void	conn_free(struct conn *);
/* Move to a state; logs old -> new at debug level. */
void	conn_set_state(struct conn *, enum conn_state);
/* Arm the one timer for what it waits for, counting from now. */
void	conn_arm(struct conn *, enum conn_timer);
/* Note progress on a transfer; the idle timer is pushed back lazily. */
void	conn_touch(struct conn *);
/* Return nonzero once the last answer is given (or the conn is gone). */
int	conn_finishing(const struct conn *);
/* Close once, logging why: the one way out. */
void	conn_close(struct conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Stop parsing the client, flush what is queued, then close. */
void	conn_drain(struct conn *);
/*
 * Answer the client with patchscope's own message (headers and body; the
 * body is left out for HEAD) and write it. Content-Length (unless the
 * caller set it) and, when the connection is to close, Connection: close
 * are added here.
 */
void	conn_answer(struct conn *, int status, struct http_headers *,
	    const char *body, size_t len);
/*
 * Answer with a JSON error and close, or just close when a response is
 * already under way (nothing else can be said then).
 */
void	conn_fail(struct conn *, int status, const char *code,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
/* Both messages are done (or the response ended the exchange early). */
void	conn_exchange_finish(struct conn *);
/* Hand the exchange to the sinks (code/message: patchscope's error). */
void	conn_exchange_done(struct conn *, int status, const char *code,
	    const char *message);
/* The origin took bytes: note progress, let the client read again. */
void	conn_origin_drained(struct conn *);
/* Give the origin connection back to the pool (reusable) or close it. */
void	conn_origin_release(struct conn *, int reusable);
/* The key of a profile's snapshot: host:port, or "replay". */
void	conn_profile_key(struct conn *, struct buf *);
/* Set the client's bufferevent callbacks (after a TLS layer is added). */
void	conn_client_setcb(struct conn *);

/* conn_watch.c: note the client's address (from accept). */
void	conn_watch_peer(struct conn *, const struct sockaddr *, int salen);
/*
 * Judge how the client reacted to earlier failures (client_watch), just
 * before the exchange goes to the sinks: diagnoses join the exchange's.
 */
void	conn_watch_exchange(struct conn *, const struct capture_info *);

/* The handlers (forward.c, tunnel.c, replay_serve.c, fault_serve.c). */
extern const struct handler	forward_handler;
extern const struct handler	tunnel_handler;
extern const struct handler	replay_handler;
extern const struct handler	fault_handler;

#endif
