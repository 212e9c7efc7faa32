/*
 * proxy: the listener and the client-connection state machine of the
 * forward proxy. One libevent loop drives every connection.
 */
#ifndef PATCHSCOPE_PROXY_H
#define PATCHSCOPE_PROXY_H

struct event_base;
struct json_t;
struct options;
struct proxy;
struct recorder;
struct redactor;
struct replay_index;

/*
 * Bind the listening socket and start accepting. Return the proxy, or NULL
 * with *cause set (caller frees) when the address cannot be used. The
 * options must outlive the proxy.
 */
struct proxy *proxy_new(struct event_base *, const struct options *,
	    char **cause);
/* Return the bound address as "ADDR:PORT" (the real port when 0 was asked). */
const char *proxy_address(const struct proxy *);
/*
 * Stop accepting, close idle connections, let in-flight exchanges finish
 * within the shutdown deadline, then make the event loop return.
 */
void	proxy_shutdown(struct proxy *);
/*
 * Return a new redactor with the built-in lists and the options' additions
 * (--redact-*, --no-redact), as the proxy uses for its log and cassettes.
 */
struct redactor *proxy_redactor_new(const struct options *);
/* Append every exchange to rec (the caller keeps and closes it). */
void	proxy_set_recorder(struct proxy *, struct recorder *);
/*
 * Answer every request from idx instead of an origin (the caller keeps and
 * frees it, after proxy_free). With a recorder too, misses are forwarded
 * when the options say --fallback=proxy, and appended.
 */
void	proxy_set_replay(struct proxy *, struct replay_index *);
/*
 * The run's findings on how clients reacted to failures, as JSON (see
 * client_watch_report; the caller owns the reference).
 */
struct json_t *proxy_client_report(const struct proxy *);
/* Close every connection and free the proxy (NULL is fine). */
void	proxy_free(struct proxy *);

#endif
