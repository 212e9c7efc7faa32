/*
 * diagnose_local: what the files of the diagnose module share, and nothing
 * else includes. Callers use diagnose.h.
 *
 *   diagnose.c		the walk of a PATCH body: parsing, the tables of
 *			top-level and per-action checks, the action checks
 *   diagnose_body.c	a body that is JSON but not an object: what it is,
 *			and what was likely meant
 *   diagnose_webhook.c	the checks of a webhook action (method, URL, body
 *			template, placeholders)
 *   diagnose_suggest.c	what is known: the nearest known value, the list of
 *			known values
 *   diagnose_text.c	text safe to show: escaping and quoting values for
 *			messages, JSON Pointers, scanning JSON text
 *   diagnose_list.c	the diagnoses themselves: the code table, recording
 *			one (at most DIAG_MAX), their order and their forms
 *			(the compiler-style line, the JSON object)
 */
#ifndef PATCHSCOPE_DIAGNOSE_LOCAL_H
#define PATCHSCOPE_DIAGNOSE_LOCAL_H

#include <stddef.h>

#include "buf.h"

struct diag_list;
struct json_error_t;
struct json_t;
struct rules;
struct snapshot;

#define DIAG_NITEMS(a)		(sizeof (a) / sizeof (a)[0])
#define DIAG_QUOTE_MAX		64	/* code points of a quoted value */
#define DIAG_ID_QUOTE_MAX	256	/* ... of an id named in a message */
#define DIAG_SUGGEST_MAX	128	/* longest value worth a suggestion */
#define DIAG_SUGGEST_DUMP	200	/* longest body offered as its string */

/* Every code diagnose_patch() reports; diagnose_list.c names them. */
enum diag_code_id {
	DC_JSON_SYNTAX,
	DC_BODY_NOT_OBJECT,
	DC_ACTIONS_TYPE,
	DC_ACTIONS_PARTIAL,
	DC_ACTIONS_PROJECTION,
	DC_ANCHOR_UNKNOWN,
	DC_TYPE_UNKNOWN,
	DC_FIELD_MISSING,
	DC_FIELD_TYPE,
	DC_FIELD_UNKNOWN,
	DC_ID_UNKNOWN,
	DC_ID_DUPLICATE,
	DC_WEBHOOK_METHOD,
	DC_WEBHOOK_URL,
	DC_WEBHOOK_BODY,
	DC_WEBHOOK_PLACEHOLDER,
	DC_HEADERS_TYPE,
	DC_PROFILE_HEADERS,
	DC_QUERY_FIELDS,
	DC_CLIENT_RETRY_EARLY,
	DC_CLIENT_RETRY_UNSAFE,
	DC_TRUNCATED,
	DC_COUNT
};

/* The walk's state. */
struct diag_ctx {
	const struct rules	*rules;
	const struct snapshot	*snap;
	struct diag_list	*out;
	size_t			 found;		/* kept or not */
	struct buf		 path;		/* where the walk is */
	struct buf		 q[3];		/* values quoted for messages */
	struct json_t		*ids;		/* PATCH action id -> index */
	size_t			 index;		/* of the action in hand */
	const struct json_t	*action;	/* the action in hand */
	const char		*type;		/* its "type", when a string */
	int			 type_known;
};

/* diagnose_webhook.c: checks of a WEBHOOK action's keys, at the path of
 * the key (see the field checks table in diagnose.c). */

/* action.webhook.method: the "subject" v is an HTTP method. */
void		 diag_webhook_method(struct diag_ctx *, const struct json_t *v);
/* action.webhook.url: the "to" v is an absolute http(s) URL; and its
 * placeholders. */
void		 diag_webhook_url(struct diag_ctx *, const struct json_t *v);
/* action.webhook.body: the "body" v is JSON text once its placeholders
 * are filled in; and its placeholders. */
void		 diag_webhook_body(struct diag_ctx *, const struct json_t *v);

/* diagnose_body.c */

/* body.not-object: root, the parsed body, is not an object; name what it
 * is and, when it is plain, what was meant (the actions array sent bare,
 * say). */
void		 diag_body_not_object(struct diag_ctx *,
		    const struct json_t *root);
/* Return nonzero when the string v holds the JSON text of an object or an
 * array (a value encoded twice). Linear in its length. */
int		 diag_holds_json(const struct json_t *v);

/* diagnose_suggest.c */

/* What a message says of a value neither built in nor seen. */
extern const char diag_unseen[];
/*
 * Return the known value of kind (for actions of type, or any when NULL)
 * nearest to value, or NULL when none is near or there is no room for
 * another diagnosis. The string is the rules' own.
 */
const char	*diag_suggest(struct diag_ctx *, const char *kind,
		    const char *type, const char *value);
/* rules_each callback: append value to the struct buf arg, ", " between. */
void		 diag_join_cb(const char *value, void *arg);

/* diagnose_text.c */

/*
 * Append len bytes of s escaped for a message: control characters (and,
 * when quotes is set, quotes and backslashes) escaped as in JSON, invalid
 * UTF-8 as U+FFFD, at most max code points (then "...").
 */
void		 diag_escape(struct buf *, const char *s, size_t len,
		    size_t max, int quotes);
/* Return s quoted and escaped (at most max code points) in scratch slot
 * (0 to 2) of the walk; valid until the slot is reused. */
const char	*diag_q(struct diag_ctx *, int slot, const char *s,
		    size_t max);
/* Return a known value (a type, say) escaped in slot, without quotes. */
const char	*diag_bare(struct diag_ctx *, int slot, const char *s);
/* Take msg (allocated) over and return it as one line, control characters
 * escaped (allocated; caller frees). */
char		*diag_one_line(char *msg);
/* Return nonzero for JSON's whitespace: space, tab, CR, LF (not NUL). */
int		 diag_is_space(char);
/* Return jansson's error text made safe to show (caller frees). */
char		*diag_error_text(const struct json_error_t *);
/*
 * Return advice for the slips jansson names poorly in len bytes of JSON
 * text s that failed to parse with err (a trailing comma, single quotes),
 * starting with "; ", or "" when there is none. Static text.
 */
const char	*diag_syntax_hint(const char *s, size_t len,
		    const struct json_error_t *err);
/*
 * Return nonzero when len bytes of JSON text nest arrays and objects
 * deeper than DIAG_MAX_DEPTH (brackets in strings do not count), with the
 * line and column of the bracket that goes too deep, as jansson counts.
 */
int		 diag_too_deep(const char *s, size_t len, int *line, int *col);
/* Append a key (RFC 6901 escaped) to the walk's path; return the old
 * length, for diag_path_pop(). */
size_t		 diag_path_key(struct diag_ctx *, const char *key);
/* Append an array index to the walk's path; return the old length. */
size_t		 diag_path_index(struct diag_ctx *, size_t i);
/* Cut the walk's path back to old bytes. */
void		 diag_path_pop(struct diag_ctx *, size_t old);
/* Compare two paths: "" first, then pointers (segment by segment, array
 * indices numerically), then other paths ("query:..."). */
int		 diag_path_cmp(const char *a, const char *b);
/* Return "an object", "a string", ... for messages. */
const char	*diag_json_kind(const struct json_t *);

/* diagnose_list.c */

/* Return nonzero when there is room for one more diagnosis; checks that
 * compute a suggestion ask first, so that past DIAG_MAX nothing costly is
 * done. */
int		 diag_room(const struct diag_ctx *);
/* Past DIAG_MAX, count a diagnosis that is due without building it and
 * return nonzero: for checks whose message costs more than a few bytes. */
int		 diag_skip(struct diag_ctx *);
/* Record a diagnosis of code at the walk's path (suggestion may be NULL);
 * past DIAG_MAX it is only counted. */
void		 diag_emit(struct diag_ctx *, enum diag_code_id,
		    const char *suggestion, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* The same at path, with no suggestion; DC_TRUNCATED is never counted. */
void		 diag_emit_at(struct diag_ctx *, enum diag_code_id,
		    const char *path, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* Sort the diagnoses of l from index first on: by path, code, message. */
void		 diag_list_sort(struct diag_list *l, size_t first);

#endif
