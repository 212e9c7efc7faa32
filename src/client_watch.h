/*
 * client_watch: diagnoses of how a client reacts to a failure. Pure: fed
 * every finished exchange in the order they end, it remembers, per client
 * (its address) and request, the last answer that told the client to wait
 * (429 or 503 with Retry-After), and, per client and path, the last PATCH
 * that failed ambiguously (the client got no complete answer, or a 500,
 * 502 or 504) until a GET of that path shows the client looked. A request
 * that ignores either gets a diagnosis:
 *   client.retry.early   sent again before the Retry-After it was given
 *   client.retry.unsafe  a PATCH sent again after an ambiguous failure with
 *                        no GET of the profile in between
 * The findings of a run are kept (bounded) for its report.
 */
#ifndef PATCHSCOPE_CLIENT_WATCH_H
#define PATCHSCOPE_CLIENT_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct client_watch;
struct diag_list;
struct json_t;

/* Requests remembered at once; past it the oldest is forgotten. */
#define CLIENT_WATCH_MAX_PENDING	1024
/* Findings kept for the report; past it they are only counted. */
#define CLIENT_WATCH_MAX_FINDINGS	1000
/* A retry this close to its Retry-After is on time (clock granularity). */
#define CLIENT_WATCH_SLACK		0.010

/* One finished exchange, as the watch needs it. */
struct client_event {
	const char	*client;	/* the client's address */
	uint64_t	 conn_id;	/* its connection, for the report */
	const char	*method;	/* "PATCH" */
	const char	*url;		/* absolute, redacted */
	double		 start;		/* seconds, one monotonic clock */
	double		 end;
	int		 status;	/* the answer's status; 0: none */
	int		 complete;	/* the client got the whole answer */
	const char	*lost;		/* why not, for messages ("the
					   connection was reset"), or NULL */
	double		 retry_after;	/* seconds it was told to wait;
					   < 0: not told */
};

struct client_watch *client_watch_new(void);
void	client_watch_free(struct client_watch *);
/*
 * Judge ev against what came before it and append the diagnoses it earns
 * to out (path "" : the whole request); then remember its outcome. Return
 * the number of diagnoses appended.
 */
size_t	client_watch_exchange(struct client_watch *,
	    const struct client_event *ev, struct diag_list *out);
/*
 * Return nonzero when ev (its url not yet needed) could earn a diagnosis
 * or leave something to remember: when anything is pending, or ev is a
 * failure. Lets the caller skip formatting the URL of a plain success.
 */
int	client_watch_needs(const struct client_watch *,
	    const struct client_event *ev);
/*
 * Seconds a Retry-After value asks for (delta-seconds, or an HTTP-date
 * taken against now), or -1 when it is not one. A date in the past is 0.
 */
double	client_watch_retry_after(const char *value, time_t now);
/* Number of findings so far (kept or not). */
size_t	client_watch_count(const struct client_watch *);
/*
 * The run's findings as JSON: {"total": N, "findings": [{"code",
 * "severity", "client", "connection", "method", "url", "message"}...]}
 * (the first CLIENT_WATCH_MAX_FINDINGS). The caller owns the reference.
 */
struct json_t *client_watch_report(const struct client_watch *);

#endif
