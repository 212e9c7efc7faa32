/*
 * proxy: the listener and the client-connection state machine of the
 * forward proxy. One libevent loop drives every connection.
 */
#ifndef PATCHSCOPE_PROXY_H
#define PATCHSCOPE_PROXY_H

struct capture_info;
struct event_base;
struct exchange;
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
/*
 * Hand every finished exchange, whole (headers and bodies kept as for a
 * cassette, redacted), to cb when wants says so: the web view (--web). A
 * request aimed at web_host:web_port (the view) is refused with 403
 * web_view_target. arg must outlive the proxy.
 */
void	proxy_add_viewer(struct proxy *, void (*cb)(void *,
	    const struct exchange *, const struct capture_info *),
	    int (*wants)(void *, const struct capture_info *), void *arg,
	    const char *web_host, int web_port);
/*
 * Return nonzero when a request to host:port would reach the web view
 * (see proxy_add_viewer).
 */
int	proxy_is_web_view(const struct proxy *, const char *host, int port);
/* Close every connection and free the proxy (NULL is fine). */
void	proxy_free(struct proxy *);

#endif
