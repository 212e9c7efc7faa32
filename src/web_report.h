/*
 * web_report: report's single HTML file, made from the page's files and
 * the data. Pure: text in, text out.
 *
 * The contract with the page (src/web/index.html says it too): index.html
 * holds, each exactly once,
 *   <link rel="stylesheet" href="app.css">     replaced by the CSP meta,
 *                                               a data: icon and
 *                                               <style>app.css</style>
 *   <script src="app.js" defer></script>        removed
 *   </body>                                     preceded by the data
 *                                               block and <script>app.js
 *                                               </script>
 * The data block is <script type="application/json" id="patchscope-data">
 * holding the exchanges document (web_json.h) escaped by
 * web_json_script_escape. The Content-Security-Policy allows the inline
 * script and style by their SHA-256 (base64) only, so nothing else runs
 * and nothing is fetched.
 */
#ifndef PATCHSCOPE_WEB_REPORT_H
#define PATCHSCOPE_WEB_REPORT_H

#include <stddef.h>

struct buf;

#define WEB_REPORT_CSS_MARK	"<link rel=\"stylesheet\" href=\"app.css\">"
#define WEB_REPORT_JS_MARK	"<script src=\"app.js\" defer></script>"
#define WEB_REPORT_BODY_MARK	"</body>"

/* One of the page's files. */
struct web_report_file {
	const char	*data;
	size_t		 len;
};

/*
 * Append the report to out: html with css, js and the exchanges document
 * (data, plain JSON text) inlined. Return 0, or -1 with *cause set (caller
 * frees) when a marker is missing or repeated, or when css or js hold text
 * that would end their element early ("</style", "</script", "<!--").
 */
int	web_report_build(struct buf *out, const struct web_report_file *html,
	    const struct web_report_file *css, const struct web_report_file *js,
	    const char *data, size_t len, char **cause);
/* Write the base64 of SHA-256 of len bytes (44 characters and a NUL). */
void	web_report_sha256_b64(const char *data, size_t len, char out[45]);

#endif
