/*
 * exchange: one HTTP exchange as the cassette core sees it -- a plain struct
 * of strings, header lists and decoded bodies. The proxy fills one in for
 * every exchange it records; the cassette module turns it into a HAR entry
 * and back; redact rewrites it in place; replay indexes and matches it.
 * Everything in it is owned by the struct; exchange_free releases it all.
 */
#ifndef PATCHSCOPE_EXCHANGE_H
#define PATCHSCOPE_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct arena;
struct json_t;

/* A message body as stored: decoded from its Content-Encoding. */
struct exchange_body {
	char		*data;		/* NULL when there is no body; else
					   len bytes plus a NUL (not counted) */
	size_t		 len;
	uint64_t	 size;		/* decoded size of the whole body; more
					   than len when truncated */
	int		 truncated;	/* only the first len bytes are kept */
	char		*decoded_from;	/* "gzip", "deflate": the coding it had
					   on the wire; NULL when none */
};

struct exchange {
	/* When and how long (HAR startedDateTime, time, timings). */
	char			*started;	/* ISO 8601 UTC, milliseconds */
	double			 time_ms;	/* whole exchange */
	double			 send_ms;	/* request out */
	double			 wait_ms;	/* until the response head */
	double			 receive_ms;	/* response body */
	char			*server_ip;	/* NULL when unknown */

	/* Request. */
	char			*method;	/* "PATCH" */
	char			*url;		/* absolute: scheme://host[:port]
						   /path?query */
	char			*http_version;	/* "HTTP/1.1" */
	struct http_headers	 req_headers;
	struct exchange_body	 req_body;
	uint64_t		 req_wire_bytes;/* body bytes on the wire */

	/* Response (status 0: none). */
	int			 status;
	char			*reason;	/* "Bad Request" */
	struct http_headers	 resp_headers;
	struct exchange_body	 resp_body;
	uint64_t		 resp_wire_bytes;

	/* patchscope's own data (HAR "_" fields). */
	struct json_t		*diagnoses;	/* array of diagnosis objects, or
						   NULL when none were made */
	char			*answered_by;	/* NULL: the origin answered;
						   "patchscope": patchscope's own
						   answer (error, guard) */
	char			*error;		/* patchscope's error code
						   (upstream_tls ...), or NULL */
	char			*fault;		/* the --fault applied, as
						   KIND[:ARG] ("status:503",
						   "drop-response"), or NULL */
};

/* Zero an exchange so that it is empty and may be freed. */
void	exchange_init(struct exchange *);
/* Free everything an exchange owns; it is empty and reusable afterwards. */
void	exchange_free(struct exchange *);
/* Copy src into dst, an initialized empty exchange (deep: dst owns all). */
void	exchange_copy(struct exchange *dst, const struct exchange *src);
/* Copy len bytes into a body (replacing what it held); size becomes len. */
void	exchange_body_set(struct exchange_body *, const char *data, size_t len);
/* Free a body's members; it is empty afterwards. */
void	exchange_body_free(struct exchange_body *);
/*
 * When h has a Content-Length and body holds bytes, make the header give
 * the body's length (after the body was decoded, cut or redacted).
 */
void	exchange_fix_length(struct http_headers *h,
	    const struct exchange_body *body);
/*
 * Copy src into dst (whose contents are overwritten) with every string,
 * header list and body in the arena; the diagnoses are shared (a new
 * reference). Free such a copy with exchange_free_arena, never
 * exchange_free.
 */
void	exchange_copy_arena(struct exchange *dst, const struct exchange *src,
	    struct arena *);
/* Drop what an arena copy holds outside its arena (the diagnoses). */
void	exchange_free_arena(struct exchange *);
/* Append copies of every header of src to dst. */
void	exchange_headers_copy(struct http_headers *dst,
	    const struct http_headers *src);

#endif
