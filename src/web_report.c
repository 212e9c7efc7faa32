/*
 * web_report: the single-file HTML report (see web_report.h for the
 * markers it replaces in index.html).
 *
 * What the browser runs is exactly the inlined app.js and app.css text,
 * allowed by their hashes; the data is JSON in a block that is never run,
 * escaped so that no byte of the traffic can end it.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "sha256.h"
#include "web_json.h"
#include "web_report.h"
#include "xmalloc.h"

/* Base64 (RFC 4648 4, with padding) of the 32-byte digest. */
void
web_report_sha256_b64(const char *data, size_t len, char out[45])
{
	static const char	abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char		d[SHA256_DIGEST_LEN];
	unsigned		v;
	size_t			i, o = 0;

	sha256(data, len, d);
	for (i = 0; i + 3 <= SHA256_DIGEST_LEN; i += 3) {
		v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	/* 32 = 30 + 2: the last two bytes and one '='. */
	v = (unsigned)d[30] << 16 | (unsigned)d[31] << 8;
	out[o++] = abc[v >> 18 & 63];
	out[o++] = abc[v >> 12 & 63];
	out[o++] = abc[v >> 6 & 63];
	out[o++] = '=';
	out[o] = '\0';
}

/* Does s (len bytes) hold needle, in any case? */
static int
web_report_has(const char *s, size_t len, const char *needle)
{
	size_t	n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Where mark is in html, when it is there exactly once; else NULL. */
static const char *
web_report_mark(const struct web_report_file *html, const char *mark)
{
	const char	*p, *end = html->data + html->len, *found = NULL;
	size_t		 n = strlen(mark);

	for (p = html->data; p + n <= end; p++) {
		if (memcmp(p, mark, n) != 0)
			continue;
		if (found != NULL)
			return NULL;
		found = p;
	}
	return found;
}

/* Append html from p up to q. */
static void
web_report_copy(struct buf *out, const char *p, const char *q)
{
	buf_add(out, p, (size_t)(q - p));
}

/* Build the report. */
int
web_report_build(struct buf *out, const struct web_report_file *html,
    const struct web_report_file *css, const struct web_report_file *js,
    const char *data, size_t len, char **cause)
{
	const char	*mcss, *mjs, *mbody, *p;
	char		 hcss[45], hjs[45];

	mcss = web_report_mark(html, WEB_REPORT_CSS_MARK);
	mjs = web_report_mark(html, WEB_REPORT_JS_MARK);
	mbody = web_report_mark(html, WEB_REPORT_BODY_MARK);
	if (mcss == NULL || mjs == NULL || mbody == NULL || mjs < mcss ||
	    mbody < mjs) {
		*cause = xasprintf("the page (index.html) must hold %s, %s "
		    "and %s once each, in that order", WEB_REPORT_CSS_MARK,
		    WEB_REPORT_JS_MARK, WEB_REPORT_BODY_MARK);
		return -1;
	}
	/* HTML ends a raw text element at "</NAME", in any case. */
	if (web_report_has(css->data, css->len, "</style")) {
		*cause = xasprintf("the page's app.css holds \"</style\" and "
		    "cannot be inlined");
		return -1;
	}
	if (web_report_has(js->data, js->len, "</script") ||
	    web_report_has(js->data, js->len, "<!--")) {
		*cause = xasprintf("the page's app.js holds \"</script\" or "
		    "\"<!--\" and cannot be inlined");
		return -1;
	}
	web_report_sha256_b64(css->data, css->len, hcss);
	web_report_sha256_b64(js->data, js->len, hjs);
	p = html->data;
	web_report_copy(out, p, mcss);
	buf_printf(out, "<meta http-equiv=\"Content-Security-Policy\" "
	    "content=\"default-src 'none'; script-src 'sha256-%s'; "
	    "style-src 'sha256-%s'; img-src data:; base-uri 'none'; "
	    "form-action 'none'\">\n<link rel=\"icon\" href=\"data:,\">\n"
	    "<style>", hjs, hcss);
	buf_add(out, css->data, css->len);
	buf_adds(out, "</style>");
	p = mcss + strlen(WEB_REPORT_CSS_MARK);
	web_report_copy(out, p, mjs);
	p = mjs + strlen(WEB_REPORT_JS_MARK);
	web_report_copy(out, p, mbody);
	buf_adds(out, "<script type=\"application/json\" "
	    "id=\"patchscope-data\">");
	web_json_script_escape(out, data, len);
	buf_adds(out, "</script>\n<script>");
	buf_add(out, js->data, js->len);
	buf_adds(out, "</script>\n");
	web_report_copy(out, mbody, html->data + html->len);
	return 0;
}
