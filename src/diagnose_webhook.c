/*
 * diagnose_webhook: the checks of a WEBHOOK action's own keys. A webhook's
 * "subject" is its HTTP method, "to" an absolute http(s) URL, and "body" a
 * template: JSON text with placeholders ("{ID}") that the API fills in.
 *
 * A template is checked by filling its placeholders with values of the
 * same length (so that jansson's line and column are the template's own)
 * and parsing the result, after the same nesting scan as a PATCH body.
 * The API fills every placeholder in with text: one outside the
 * template's JSON strings is an error of its own, named with where it is.
 * Unknown placeholders are named once per string.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diagnose.h"
#include "diagnose_local.h"
#include "rules.h"
#include "snapshot.h"
#include "uri.h"
#include "utf8.h"
#include "xmalloc.h"

/* Unknown placeholders, each named once per string. */
struct diag_placeholder_walk {
	struct diag_ctx	*c;
	json_t		*seen;		/* created on the first unknown one */
};

static void
diag_placeholder_cb(const char *name, size_t namelen, size_t off, void *arg)
{
	struct diag_placeholder_walk	*w = arg;
	struct diag_ctx			*c = w->c;
	const char			*sug;
	char				*n, *braced = NULL;

	(void)off;
	n = xstrndup(name, namelen);
	if (rules_placeholder(c->rules, n) != RULES_UNKNOWN ||
	    snapshot_knows(c->snap, "placeholder", n))
		goto out;
	if (w->seen == NULL)
		w->seen = json_object();
	if (json_object_get(w->seen, n) != NULL)
		goto out;
	json_object_set_new(w->seen, n, json_true());
	sug = diag_suggest(c, "placeholder", NULL, n);
	if (sug != NULL) {
		braced = xasprintf("{%s}", sug);
		diag_emit(c, DC_WEBHOOK_PLACEHOLDER, braced, "{%s} is not a "
		    "known placeholder", n);
	} else
		diag_emit(c, DC_WEBHOOK_PLACEHOLDER, NULL, "{%s} is not a "
		    "known placeholder (%s; accounts can define their own)",
		    n, diag_unseen);
out:
	free(braced);
	free(n);
}

/* Name each unknown placeholder of len bytes of s, once. */
static void
diag_placeholders(struct diag_ctx *c, const char *s, size_t len)
{
	struct diag_placeholder_walk	w = { c, NULL };

	rules_placeholders(s, len, diag_placeholder_cb, &w);
	json_decref(w.seen);
}

/* action.webhook.method: a webhook's subject is its HTTP method. */
void
diag_webhook_method(struct diag_ctx *c, const json_t *v)
{
	const char	*m = json_string_value(v), *sug;
	struct buf	 known = { NULL, 0, 0 };

	if (m == NULL || rules_method(c->rules, m) != RULES_UNKNOWN ||
	    diag_skip(c))
		return;
	sug = diag_suggest(c, "method", NULL, m);
	rules_each(c->rules, "method", NULL, diag_join_cb, &known);
	diag_emit(c, DC_WEBHOOK_METHOD, sug, "a webhook's subject is its HTTP "
	    "method, one of %s; %s is not one", buf_str(&known),
	    diag_q(c, 0, m, DIAG_QUOTE_MAX));
	buf_free(&known);
}

/*
 * Is s an absolute http(s) URL: scheme, "://", a non-empty host, an
 * optional numeric port, and no spaces or control characters? Placeholders
 * ("https://example.com/{ID}") are fine anywhere.
 */
static int
diag_is_http_url(const char *s)
{
	struct uri_parts	 u;
	const char		*p, *colon, *end;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	uri_split(s, &u);
	if (uri_default_port(u.scheme.p, u.scheme.len) == 0 ||
	    u.host.p == NULL)
		return 0;
	/* "[v6" with no ']' is no host; an empty one is none either. */
	if (!u.ipv6 && (u.host.len == 0 || u.host.p[0] == '['))
		return 0;
	/* Only digits after the port's ':', if any. */
	end = u.port.p + u.port.len;
	colon = memchr(u.port.p, ':', u.port.len);
	for (p = colon != NULL ? colon + 1 : end; p < end; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* action.webhook.url, and placeholders in the URL. */
void
diag_webhook_url(struct diag_ctx *c, const json_t *v)
{
	const char	*to = json_string_value(v), *start;
	char		*trimmed, *sug = NULL;
	size_t		 end;

	if (to == NULL)
		return;
	diag_placeholders(c, to, json_string_length(v));
	if (diag_is_http_url(to))
		return;
	/* A space or a line break pasted with the URL, at either end. */
	for (start = to; diag_is_space(*start); start++)
		;
	end = strlen(start);
	while (end > 0 && diag_is_space(start[end - 1]))
		end--;
	trimmed = xstrndup(start, end);
	if (diag_is_http_url(trimmed))
		sug = xstrdup(trimmed);
	/* "webhookURL.com" most likely wants a scheme in front. */
	else if (strstr(trimmed, "://") == NULL &&
	    strchr(trimmed, '.') != NULL &&
	    strcspn(trimmed, " \t\r\n") == strlen(trimmed) &&
	    trimmed[0] != '/')
		sug = xasprintf("https://%s", trimmed);
	if (sug != NULL && !diag_is_http_url(sug)) {
		free(sug);
		sug = NULL;
	}
	diag_emit(c, DC_WEBHOOK_URL, sug, "a webhook's \"to\" must be an "
	    "absolute http:// or https:// URL; %s is not%s",
	    diag_q(c, 0, to, DIAG_QUOTE_MAX), strlen(trimmed) != strlen(to) ?
	    " (it starts or ends with a space or a line break)" : "");
	free(trimmed);
	free(sug);
}

/* Unquoted placeholders named in one message, the first included. */
#define DIAG_BARE_NAMED	5

/* The placeholders of a template that are outside its JSON strings. */
struct diag_bare {
	size_t	n;			/* how many in all */
	size_t	off[DIAG_BARE_NAMED];	/* where the first ones' '{' is */
	size_t	len[DIAG_BARE_NAMED];	/* and their length, braces too */
};

/*
 * Fill a webhook template's placeholders so that it can be parsed: inside
 * a JSON string with zeros ("{ID}" -> "0000"); outside one with a string
 * of zeros in place of the braces ({ID} -> "00"), as if it were quoted,
 * and note it in bare: the API fills every placeholder in with text, so
 * an unquoted one is an error of its own, and what the parse says after
 * it is what is left once it is quoted. Same length, so jansson's line
 * and column are the template's own.
 */
static void
diag_fill(const char *s, size_t len, struct buf *out, struct diag_bare *bare)
{
	char	*f;
	size_t	 i, n;
	int	 in_str = 0;

	buf_add(out, s, len);
	f = out->data + out->len - len;
	for (i = 0; i < len; i++) {
		if (in_str && s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == '"')
			in_str = !in_str;
		if (s[i] != '{')
			continue;
		n = rules_placeholder_len(s + i, len - i);
		if (n == 0)
			continue;
		memset(f + i, '0', n);
		/* '{ID}' is quoted, with the wrong quotes: the parse says so. */
		if (!in_str && !(i > 0 && s[i - 1] == '\'' && i + n < len &&
		    s[i + n] == '\'')) {
			f[i] = f[i + n - 1] = '"';
			if (bare->n < DIAG_BARE_NAMED) {
				bare->off[bare->n] = i;
				bare->len[bare->n] = n;
			}
			bare->n++;
		}
		i += n - 1;
	}
}

/*
 * Advance the line and column (as jansson counts them: code points from
 * 1) of s from byte *at to byte to, the column being that of byte to.
 */
static void
diag_text_pos(const char *s, size_t *at, size_t to, size_t *line,
    size_t *col)
{
	for (; *at <= to; (*at)++) {
		if (s[*at] == '\n') {
			(*line)++;
			*col = 0;
		} else if (!UTF8_IS_CONT(s[*at]))
			(*col)++;
	}
}

/* action.webhook.body: name the unquoted placeholders of a template. */
static void
diag_bare_placeholders(struct diag_ctx *c, const char *s,
    const struct diag_bare *bare)
{
	struct buf	 msg = { NULL, 0, 0 };
	char		*quoted;
	size_t		 i, named, at = 0, line = 1, col = 0;

	if (bare->n == 0 || diag_skip(c))
		return;
	named = bare->n < DIAG_BARE_NAMED ? bare->n : DIAG_BARE_NAMED;
	for (i = 0; i < named; i++) {
		diag_text_pos(s, &at, bare->off[i], &line, &col);
		if (i == 1)
			buf_printf(&msg, " (%zu more %s not quoted either: ",
			    bare->n - 1, bare->n == 2 ? "is" : "are");
		else if (i > 1)
			buf_adds(&msg, ", ");
		buf_printf(&msg, "%.*s at line %zu, column %zu",
		    (int)bare->len[i], s + bare->off[i], line, col);
		if (i == 0)
			buf_adds(&msg, " of the template is not inside quotes, "
			    "but the API fills it in with text (a date, a name, "
			    "a link), so the webhook body would not be JSON: "
			    "quote it");
	}
	if (bare->n > named)
		buf_printf(&msg, ", and %zu more", bare->n - named);
	if (bare->n > 1)
		buf_adds(&msg, ")");
	/* Placeholders are ASCII letters, digits, '-' and '_': no escaping. */
	quoted = xasprintf("\"%.*s\"", (int)bare->len[0], s + bare->off[0]);
	diag_emit(c, DC_WEBHOOK_BODY, quoted, "placeholder %s", buf_str(&msg));
	free(quoted);
	buf_free(&msg);
}

/* action.webhook.body (+ placeholders): the body is a JSON text. */
void
diag_webhook_body(struct diag_ctx *c, const json_t *v)
{
	const char	*body = json_string_value(v);
	size_t		 len = json_string_length(v), i;
	struct buf	 filled = { NULL, 0, 0 };
	struct diag_bare bare;
	json_error_t	 err;
	json_t		*doc;
	char		*text;
	int		 line, col;

	if (body == NULL)
		return;
	diag_placeholders(c, body, len);
	/* An empty body (a GET webhook, say) has nothing to parse. */
	for (i = 0; i < len && diag_is_space(body[i]); i++)
		;
	if (i == len)
		return;
	memset(&bare, 0, sizeof bare);
	diag_fill(body, len, &filled, &bare);
	diag_bare_placeholders(c, body, &bare);
	if (diag_too_deep(filled.data, filled.len, &line, &col)) {
		diag_emit(c, DC_WEBHOOK_BODY, NULL, "the webhook body nests "
		    "arrays and objects more than %d deep (line %d, column "
		    "%d of the template)", DIAG_MAX_DEPTH, line, col);
		goto out;
	}
	doc = json_loadb(filled.data, filled.len, JSON_DECODE_ANY, &err);
	if (doc == NULL) {
		text = diag_error_text(&err);
		diag_emit(c, DC_WEBHOOK_BODY, NULL, "the webhook body is not "
		    "JSON once its placeholders are filled in: line %d, column "
		    "%d of the template: %s%s", err.line, err.column, text,
		    diag_syntax_hint(filled.data, filled.len, &err));
		free(text);
	}
	json_decref(doc);
out:
	buf_free(&filled);
}
