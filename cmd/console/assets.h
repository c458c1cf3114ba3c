/*
 * assets.h - the web page's files, embedded at build time.
 *
 * scripts/embed-assets.sh generates the table from the esbuild output in
 * build/web/ (web/build.mjs), so the binary serves the page without any
 * file beside it and without network access.
 */
#ifndef FS_CONSOLE_ASSETS_H
#define FS_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
	const char *path;          /* URL path, "/index.html" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

extern const struct console_asset console_assets[];
extern const size_t console_asset_count;

#endif
