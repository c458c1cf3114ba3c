/*
 * render.h - drawing a struct fs_graph_series with cairo, to PNG or SVG.
 *
 * The graph is a stacked area chart, one step per bucket: the named series
 * from the bottom up, largest first, then "other" in grey.  When the series
 * are directional, inbound and undirected values stack above the zero line
 * and outbound values below it, mirrored.  Values are rates: the bucket
 * sum divided by the bucket width.  The y axis has round ticks labelled
 * with SI prefixes (k, M, G, T).  The x axis has time ticks in the local time
 * of the process, which zone.h sets.  Above the plot stand the title and
 * subtitle, below it the legend.
 *
 * The renderer reports where it put things in struct fs_graph_layout, so
 * that tests can check the picture without guessing coordinates.
 */
#ifndef FS_GRAPH_RENDER_H
#define FS_GRAPH_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "graph/series.h"

#define FS_GRAPH_MIN_WIDTH 480
#define FS_GRAPH_MAX_WIDTH 4000
#define FS_GRAPH_MIN_HEIGHT 320
#define FS_GRAPH_MAX_HEIGHT 4000
#define FS_GRAPH_TITLE_LEN 256

enum fs_graph_format { FS_GRAPH_PNG, FS_GRAPH_SVG };

struct fs_graph_style {
	int width, height;                  /* pixels (PNG) or points (SVG) */
	char title[FS_GRAPH_TITLE_LEN];
	char subtitle[FS_GRAPH_TITLE_LEN];
	char zone[64];                      /* name of the time zone for the x axis caption */
};

struct fs_graph_box {
	double x, y, width, height;
};

struct fs_graph_legend_entry {
	char name[FS_GRAPH_NAME_LEN];
	uint8_t rgb[3];                     /* fill colour of the series, opaque */
	struct fs_graph_box swatch;         /* the colour sample */
	struct fs_graph_box box;            /* swatch and text */
};

struct fs_graph_layout {
	struct fs_graph_box plot;           /* the data area inside the axes */
	double zero_y;                      /* y of the zero line */
	double max_above, max_below;        /* axis ranges, in rate units */
	int nlegend;
	struct fs_graph_legend_entry legend[FS_GRAPH_MAX_SERIES + 1];
};

/*
 * Returns the fill colour of series index (0 .. FS_GRAPH_MAX_SERIES - 1),
 * or of "other" when other is nonzero.
 */
void fs_graph_series_colour(int index, int other, uint8_t rgb[3]);

/*
 * Formats value with an SI prefix and unit into buf: 0 -> "0 bit/s",
 * 1500 -> "1.5 kbit/s", 2e9 -> "2 Gbit/s".  Returns buf.
 */
char *fs_graph_format_si(double value, const char *unit, char *buf, size_t len);

/*
 * Parses "WIDTHxHEIGHT" (800x450) within the limits above.  Returns 0, or
 * FS_ERR_INVALID.
 */
int fs_graph_size_parse(const char *text, int *width, int *height);

/* Picks the format from the file name: .png or .svg.  Returns 0 or FS_ERR_INVALID. */
int fs_graph_format_of_path(const char *path, enum fs_graph_format *format);

/*
 * Draws series (borrowed) with style into the file at path in format, and
 * stores the layout in *layout (may be NULL).  A series set without points
 * draws empty axes.  Returns 0, or FS_ERR_INVALID for a bad size or
 * FS_ERR_SYSTEM when cairo failed (writing the file, out of memory), with
 * the reason in err.
 */
int fs_graph_render(const struct fs_graph_series *series, const struct fs_graph_style *style,
		    enum fs_graph_format format, const char *path,
		    struct fs_graph_layout *layout, char *err, size_t err_len);

/*
 * Frees the fonts and patterns that cairo keeps between calls, so that leak
 * checkers see a clean exit.  Call once after the last fs_graph_render(),
 * when no other cairo object is alive (cairo_debug_reset_static_data()).
 */
void fs_graph_render_release_caches(void);

#endif
