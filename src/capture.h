/*
 * capture: the exchange in progress, filled in as the request and the
 * response arrive (heads, bodies decoded once, timings, diagnoses, error),
 * and handed once, redacted, to its sinks when it ends.
 */
#ifndef PATCHSCOPE_CAPTURE_H
#define PATCHSCOPE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "diagnose.h"
#include "http.h"

struct exchange;
struct redactor;

/* What a sink learns of an exchange beside the exchange itself. */
struct capture_info {
	uint64_t	 conn_id;
	int		 status;	/* what the client got (499: nothing) */
	const char	*code;		/* patchscope's error code, or NULL */
	const char	*message;	/* what went wrong, with code */
	uint64_t	 req_bytes;	/* body bytes read from the client */
	uint64_t	 resp_bytes;	/* body bytes read from the origin */
	double		 ms;		/* from the start of the exchange */
	int		 record;	/* the exchange goes to the cassette */
	int		 full;		/* headers and bodies are filled in */
	const char	*replay;	/* replay: "hit" or "miss", or NULL */
};

/*
 * A consumer of finished exchanges (the log, the recorder, the replay
 * index, ...). It gets the redacted exchange once and keeps no pointer
 * into it. Without info->full only the method, URL, status, error, byte
 * counts, time and diagnoses are set.
 */
struct capture_sink {
	void	(*exchange)(void *arg, const struct exchange *,
		    const struct capture_info *);
	/* Return nonzero when this exchange is wanted (NULL: always). */
	int	(*wants)(void *arg, const struct capture_info *);
	void	*arg;
};

/* A decoded body: the bytes as the API meant them. */
struct capture_body {
	struct buf	 raw;		/* as on the wire, de-chunked */
	int		 truncated;	/* raw holds the first part only */
	struct buf	 dec;		/* decoded from Content-Encoding */
	int		 decoded;	/* 0 not yet, 1 dec is valid, -1 failed */
	const char	*cause;		/* why decoding failed (static) */
	char		*coding;	/* the coding decoded from, or NULL */
};

struct capture {
	/* Chosen when the request head is in. */
	int			 record;	/* goes to the cassette */
	int			 keep_req;	/* keep the request body */
	int			 keep_resp;	/* keep the response body */
	int			 learn_resp;	/* keep it to learn a profile */
	size_t			 max_body;	/* --max-body-buffer */
	/* Request. */
	const char		*method;	/* NULL before a request head */
	const struct http_url	*target;	/* borrowed: valid until the
						   exchange ends */
	char			*url;		/* absolute, made from target
						   when first needed, or set */
	int			 http10;
	struct http_headers	 req_headers;	/* as sent on, when recorded */
	struct capture_body	 req;
	/* Response. */
	int			 status;
	char			*reason;
	struct http_headers	 resp_headers;	/* as the origin sent them */
	struct capture_body	 resp;
	int			 answered;	/* patchscope answered itself */
	int			 guard;		/* ... with --guard's 422 */
	char			*server_ip;
	/* Diagnoses of a profile PATCH. */
	struct diag_list	 diags;
	int			 diagnosed;
	/* The --fault applied, KIND[:ARG] ("status:503"), or NULL. */
	char			*fault;
	/* The web view (--web) wants it whole, as a recorded one. */
	int			 view;
	/* Replay: "hit" or "miss" (static), or NULL. */
	const char		*replay;
	/* Clocks. */
	struct timespec		 t_start;
	struct timespec		 t_wall;	/* t_start on the calendar */
	struct timespec		 t_req_done;	/* request fully read */
	struct timespec		 t_resp_head;	/* response head in */
};

/* Start a new exchange now (clears the last one, keeps small buffers). */
void	capture_begin(struct capture *, size_t max_body);
/* Free everything the capture holds. */
void	capture_free(struct capture *);
/* Return milliseconds since the exchange began. */
double	capture_elapsed_ms(const struct capture *);
/* Note the request's method (a static string) and version. */
void	capture_request(struct capture *, const char *method, int http10);
/*
 * Note the request's target once it is known (borrowed until the exchange
 * ends; its URL is only formatted if a sink needs it).
 */
void	capture_request_target(struct capture *, const struct http_url *);
/* Note the request's absolute URL (a copy is kept). */
void	capture_request_url(struct capture *, const char *url);
/* The request's absolute URL (formatted once, when first asked), or NULL. */
const char *capture_url(struct capture *);
/* Record the request's headers as they are sent on (Via dropped). */
void	capture_request_headers(struct capture *, const struct http_headers *);
/*
 * Keep request body bytes when asked to (keep_req or inspect). Return 0,
 * or 1 when they would take the body past --max-body-buffer: nothing is
 * kept then, and the caller acts, then calls capture_cut().
 */
int	capture_request_body(struct capture *, int inspect, const char *,
	    size_t);
/* Mark a body cut at the limit, keeping the part of data that fits. */
void	capture_cut(struct capture *, struct capture_body *, const char *,
	    size_t, int keep_part);
/* The request is complete. */
void	capture_request_done(struct capture *);
/*
 * Return the request body decoded from encoding (decoded once, then
 * remembered), or NULL with *cause set when it cannot be.
 */
const struct buf *capture_request_decoded(struct capture *,
	    const char *encoding, const char **cause);
/* Note the final response head (status, reason, headers as sent). */
void	capture_response(struct capture *, int status, const char *reason,
	    const struct http_headers *);
/* Keep response body bytes when asked to; 1 as for the request. */
int	capture_response_body(struct capture *, int hold, const char *,
	    size_t);
/* Return the response body decoded from encoding, or NULL with *cause. */
const struct buf *capture_response_decoded(struct capture *,
	    const char *encoding, const char **cause);
/*
 * patchscope answered itself with status, headers and body; guard: the
 * answer is --guard's (recorded as error "patchscope_guard").
 */
void	capture_own_answer(struct capture *, int status,
	    const struct http_headers *, const char *body, size_t len,
	    int guard);
/* Note the --fault applied to the exchange (its KIND[:ARG]; copied). */
void	capture_fault(struct capture *, const char *fault);
/*
 * The exchange is over: fill in an exchange, redact it, and hand it to
 * each sink once. The caller fills info's conn_id, status, code, message
 * and byte counts; the rest is set here. target: the request target as
 * sent, shown in the log when no URL is known.
 */
void	capture_finish(struct capture *, const struct redactor *,
	    const struct capture_sink *, size_t nsinks, struct capture_info *,
	    const char *target);
/*
 * Keep this exchange whole for the web view (--web): both bodies and the
 * headers as sent on (h; NULL: not known yet), as for a recorded one,
 * without recording it.
 */
void	capture_view_begin(struct capture *, const struct http_headers *);
/* Fill x with the request as replay matches it: decoded and redacted. */
void	capture_request_exchange(struct capture *, const struct redactor *,
	    struct exchange *x);

#endif
