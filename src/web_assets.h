/*
 * web_assets: the page's files (src/web/), built into the binary by make
 * as byte arrays (src/web-data.c, generated). Each array ends with a NUL
 * that its length does not count.
 */
#ifndef PATCHSCOPE_WEB_ASSETS_H
#define PATCHSCOPE_WEB_ASSETS_H

#include <stddef.h>

extern const unsigned char	web_index_html[];
extern const size_t		web_index_html_len;
extern const unsigned char	web_app_js[];
extern const size_t		web_app_js_len;
extern const unsigned char	web_app_css[];
extern const size_t		web_app_css_len;

#endif
