/*
 * web: the web view's server (--web, view): libevent's HTTP server on the
 * serving command's event loop. It serves the page (built into the
 * binary from src/web/), the exchanges as JSON and as server-sent events,
 * to a browser that has the run's token, and keeps the last --web-keep
 * exchanges (web_ring) as their JSON text (web_json).
 */
#ifndef PATCHSCOPE_WEB_H
#define PATCHSCOPE_WEB_H

#include <stddef.h>

struct event_base;
struct exchange;
struct options;
struct proxy;
struct web;

/* Most bytes of exchange text the view keeps, whatever --web-keep says. */
#define WEB_MAX_BYTES		(256u * 1024 * 1024)
/* --web-keep's default. */
#define WEB_DEFAULT_KEEP	10000

/*
 * Return a new view that keeps opts->web_keep exchanges (0: the default)
 * but does not listen yet; mode is "live", "view" or "report".
 */
struct web *web_new(const struct options *, const char *mode);
/*
 * Bind it on opts->web (ADDR:PORT, default 127.0.0.1:0; a non-loopback
 * ADDR only with --web-allow-remote) with a new random token, and serve
 * on base. Return 0, or -1 with *cause set (caller frees).
 */
int	web_listen(struct web *, struct event_base *, char **cause);
/*
 * web_new and web_listen: bind the view on opts->web (ADDR:PORT; a non-loopback ADDR only with
 * --web-allow-remote) with a new random token; mode is "live" or "view".
 * Return the view, or NULL with *cause set (caller frees).
 */
struct web *web_open(struct event_base *, const struct options *,
	    const char *mode, char **cause);
/* The view's URL with its token: "http://127.0.0.1:PORT/#token=...". */
const char *web_url(const struct web *);
/*
 * Show every exchange the proxy finishes from now on, whole, and make the
 * proxy refuse requests aimed at the view. The web must outlive the proxy.
 */
void	web_attach(struct web *, struct proxy *);
/* Add an exchange (copied as text; replay: "hit", "miss" or NULL). */
void	web_add(struct web *, const struct exchange *, const char *replay);
/* How many exchanges the view was given, kept or not. */
size_t	web_added(const struct web *);
/* Close every connection and free the view (NULL is fine). */
void	web_free(struct web *);

#endif
