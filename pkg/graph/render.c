/* render.c - stacked time series graphs drawn with cairo. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cairo.h>
#include <cairo-svg.h>

#include "core/result.h"
#include "graph/render.h"

#define FONT "DejaVu Sans"
#define MARGIN_LEFT 84.0
#define MARGIN_RIGHT 24.0
#define TITLE_SIZE 17.0
#define TEXT_SIZE 12.0
#define SMALL_SIZE 11.0
#define LEGEND_ROW 20.0
#define SWATCH 12.0
#define Y_TICKS 6                 /* about this many y ticks over both halves */
#define X_TICKS_MAX 8             /* at most this many time ticks */

/* Fill colours of the named series: ten hues, then ten lighter or darker variants. */
static const uint8_t palette[FS_GRAPH_MAX_SERIES][3] = {
	{ 31, 119, 180 }, { 255, 127, 14 }, { 44, 160, 44 }, { 214, 39, 40 },
	{ 148, 103, 189 }, { 140, 86, 75 }, { 227, 119, 194 }, { 188, 189, 34 },
	{ 23, 190, 207 }, { 57, 59, 121 }, { 174, 199, 232 }, { 255, 187, 120 },
	{ 152, 223, 138 }, { 255, 152, 150 }, { 197, 176, 213 }, { 196, 156, 148 },
	{ 247, 182, 210 }, { 219, 219, 141 }, { 158, 218, 229 }, { 99, 121, 57 },
};
static const uint8_t other_colour[3] = { 176, 176, 176 };

struct frame {
	cairo_t *cr;
	const struct fs_graph_series *series;
	const struct fs_graph_style *style;
	struct fs_graph_layout *layout;
	double scale_step;                /* y tick step, rate units */
	double top, bottom;               /* rate at the top (positive) and bottom (negative side) */
};

void
fs_graph_series_colour(int index, int other, uint8_t rgb[3])
{
	const uint8_t *c = other ? other_colour : palette[index % FS_GRAPH_MAX_SERIES];

	memcpy(rgb, c, 3);
}

char *
fs_graph_format_si(double value, const char *unit, char *buf, size_t len)
{
	static const char prefixes[] = { ' ', 'k', 'M', 'G', 'T', 'P', 'E' };
	double mag = fabs(value);
	int p = 0;

	while (mag >= 1000.0 && p < (int)sizeof(prefixes) - 1) {
		mag /= 1000.0;
		value /= 1000.0;
		p++;
	}
	if (p == 0)
		snprintf(buf, len, "%.3g %s", value, unit);
	else
		snprintf(buf, len, "%.3g %c%s", value, prefixes[p], unit);
	return buf;
}

int
fs_graph_size_parse(const char *text, int *width, int *height)
{
	char *end;
	long w, h;

	if (text[0] < '0' || text[0] > '9')
		return FS_ERR_INVALID;
	w = strtol(text, &end, 10);
	if (*end != 'x' || end[1] < '0' || end[1] > '9')
		return FS_ERR_INVALID;
	h = strtol(end + 1, &end, 10);
	if (*end || w < FS_GRAPH_MIN_WIDTH || w > FS_GRAPH_MAX_WIDTH || h < FS_GRAPH_MIN_HEIGHT ||
	    h > FS_GRAPH_MAX_HEIGHT)
		return FS_ERR_INVALID;
	*width = (int)w;
	*height = (int)h;
	return 0;
}

int
fs_graph_format_of_path(const char *path, enum fs_graph_format *format)
{
	size_t len = strlen(path);

	if (len > 4 && strcasecmp(path + len - 4, ".png") == 0) {
		*format = FS_GRAPH_PNG;
		return 0;
	}
	if (len > 4 && strcasecmp(path + len - 4, ".svg") == 0) {
		*format = FS_GRAPH_SVG;
		return 0;
	}
	return FS_ERR_INVALID;
}

/* ---- data ---- */

static int
series_count(const struct fs_graph_series *s)
{
	return s->nseries + (s->has_other ? 1 : 0);
}

/* Returns the rate of series i at point p above (inbound and undirected) or below the axis. */
static double
rate(const struct fs_graph_series *s, int i, int p, int below)
{
	uint64_t sum;

	if (below)
		sum = s->sum[FS_GRAPH_OUTBOUND][i][p];
	else
		sum = s->sum[FS_GRAPH_INBOUND][i][p] + s->sum[FS_GRAPH_UNDIRECTED][i][p];
	return (double)sum / (double)s->step_s;
}

static double
stack_max(const struct fs_graph_series *s, int below)
{
	double max = 0;

	for (int p = 0; p < s->npoints; p++) {
		double total = 0;

		for (int i = 0; i < series_count(s); i++)
			total += rate(s, i, p, below);
		if (total > max)
			max = total;
	}
	return max;
}

/* Picks a 1-2-5 tick step and rounds the ranges above and below up to it. */
static void
scale_axis(struct frame *f)
{
	const struct fs_graph_series *s = f->series;
	double above = stack_max(s, 0), below = s->directional ? stack_max(s, 1) : 0;
	double raw = (above + below) / Y_TICKS, mag, step;

	if (raw <= 0)
		raw = 1.0 / Y_TICKS;
	mag = pow(10, floor(log10(raw)));
	step = mag;
	if (step < raw)
		step = 2 * mag;
	if (step < raw)
		step = 5 * mag;
	if (step < raw)
		step = 10 * mag;
	f->scale_step = step;
	f->top = fmax(ceil(above / step), 1) * step;
	f->bottom = s->directional ? fmax(ceil(below / step), 1) * step : 0;
	f->layout->max_above = f->top;
	f->layout->max_below = f->bottom;
}

/* ---- geometry ---- */

static double
x_of(const struct frame *f, int64_t t)
{
	const struct fs_graph_box *b = &f->layout->plot;
	int64_t span = f->series->step_s * (f->series->npoints ? f->series->npoints : 1);

	return b->x + b->width * (double)(t - f->series->start_s) / (double)span;
}

static double
y_of(const struct frame *f, double v)
{
	const struct fs_graph_box *b = &f->layout->plot;

	return b->y + b->height * (f->top - v) / (f->top + f->bottom);
}

static void
set_colour(cairo_t *cr, const uint8_t rgb[3])
{
	cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

static double
text_width(cairo_t *cr, const char *text)
{
	cairo_text_extents_t ext;

	cairo_text_extents(cr, text, &ext);
	return ext.x_advance;
}

/* Draws text with its reference point at x (aligned by align: 0 left, 0.5 centre, 1 right), y. */
static void
draw_text(cairo_t *cr, const char *text, double x, double y, double align)
{
	cairo_move_to(cr, x - align * text_width(cr, text), y);
	cairo_show_text(cr, text);
}

/* Draws a centred time label unless it would run past the left or right edge of the image. */
static void
draw_tick_label(struct frame *f, const char *text, double x, double y)
{
	double half = text_width(f->cr, text) / 2;

	if (x - half < 2 || x + half > f->style->width - 2)
		return;
	draw_text(f->cr, text, x, y, 0.5);
}

/* ---- legend ---- */

/* Places the legend entries in rows under the plot; returns the legend height. */
static double
place_legend(struct frame *f, double top)
{
	struct fs_graph_layout *l = f->layout;
	const struct fs_graph_series *s = f->series;
	double x = MARGIN_LEFT, y = top, column = 0;
	double right = f->style->width - MARGIN_RIGHT;

	cairo_set_font_size(f->cr, TEXT_SIZE);
	for (int i = 0; i < series_count(s); i++) {
		double w = SWATCH + 6 + text_width(f->cr, s->names[i]) + 18;

		if (w > column)
			column = w;
	}
	l->nlegend = series_count(s);
	for (int i = 0; i < l->nlegend; i++) {
		struct fs_graph_legend_entry *e = &l->legend[i];

		if (i > 0 && x + column > right) {
			x = MARGIN_LEFT;
			y += LEGEND_ROW;
		}
		snprintf(e->name, sizeof(e->name), "%s", s->names[i]);
		fs_graph_series_colour(i, s->has_other && i == s->nseries, e->rgb);
		e->swatch = (struct fs_graph_box){ x, y, SWATCH, SWATCH };
		e->box = (struct fs_graph_box){ x, y, column - 18, SWATCH };
		x += column;
	}
	return l->nlegend ? y - top + LEGEND_ROW : 0;
}

static void
draw_legend(struct frame *f)
{
	cairo_t *cr = f->cr;

	cairo_set_font_size(cr, TEXT_SIZE);
	for (int i = 0; i < f->layout->nlegend; i++) {
		const struct fs_graph_legend_entry *e = &f->layout->legend[i];

		set_colour(cr, e->rgb);
		cairo_rectangle(cr, e->swatch.x, e->swatch.y, e->swatch.width, e->swatch.height);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		draw_text(cr, e->name, e->swatch.x + SWATCH + 6, e->swatch.y + SWATCH - 1.5, 0);
	}
}

/* ---- axes ---- */

static void
draw_y_axis(struct frame *f)
{
	cairo_t *cr = f->cr;
	const struct fs_graph_box *b = &f->layout->plot;
	const char *unit = fs_graph_metric_unit(f->series->metric);
	char label[48];

	cairo_set_font_size(cr, SMALL_SIZE);
	cairo_set_line_width(cr, 1);
	for (double v = -f->bottom; v <= f->top + f->scale_step / 2; v += f->scale_step) {
		double y = floor(y_of(f, v)) + 0.5;

		cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
		cairo_move_to(cr, b->x, y);
		cairo_line_to(cr, b->x + b->width, y);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
		fs_graph_format_si(fabs(v) < f->scale_step / 2 ? 0 : fabs(v), unit, label,
				   sizeof(label));
		draw_text(cr, label, b->x - 6, y + 4, 1);
	}
}

/* Returns the tick interval for the time range: at most X_TICKS_MAX ticks. */
static int64_t
time_tick(int64_t span)
{
	static const int64_t ticks[] = { 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
					  21600, 43200, 86400, 172800, 604800 };
	size_t i;

	for (i = 0; i < sizeof(ticks) / sizeof(ticks[0]) - 1; i++) {
		if (span / ticks[i] <= X_TICKS_MAX)
			break;
	}
	return ticks[i];
}

static void
draw_x_axis(struct frame *f)
{
	cairo_t *cr = f->cr;
	const struct fs_graph_box *b = &f->layout->plot;
	const struct fs_graph_series *s = f->series;
	int64_t end = s->start_s + s->step_s * s->npoints;
	int64_t tick = time_tick(end - s->start_s);
	int last_day = -1;
	char caption[96];

	cairo_set_font_size(cr, SMALL_SIZE);
	cairo_set_line_width(cr, 1);
	for (int64_t t = s->start_s; s->npoints && t <= end; t++) {
		time_t tt = (time_t)t;
		struct tm tm;
		char hm[16], day[24];
		double x;

		localtime_r(&tt, &tm);
		if ((t + tm.tm_gmtoff) % tick != 0) {
			/* Jump close to the next tick instead of testing every second. */
			int64_t local = t + tm.tm_gmtoff;
			int64_t next = (local / tick + 1) * tick - tm.tm_gmtoff;

			t = (next > t + 1 ? next : t + 1) - 1;
			continue;
		}
		x = floor(x_of(f, t)) + 0.5;
		cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
		cairo_move_to(cr, x, b->y);
		cairo_line_to(cr, x, b->y + b->height);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
		strftime(hm, sizeof(hm), tick >= 86400 ? "%a" : "%H:%M", &tm);
		draw_tick_label(f, hm, x, b->y + b->height + 15);
		if (tm.tm_yday != last_day) {
			strftime(day, sizeof(day), "%d %b %Y", &tm);
			draw_tick_label(f, day, x, b->y + b->height + 29);
			last_day = tm.tm_yday;
		}
		t += tick - 1;
	}
	snprintf(caption, sizeof(caption), "time (%s)", f->style->zone[0] ? f->style->zone : "UTC");
	draw_text(cr, caption, b->x + b->width, b->y + b->height + 43, 1);
}

/* ---- data area ---- */

/* Fills series i as a band of steps between the stack below it and its own top. */
static void
draw_band(struct frame *f, int i, int below, const double *base, double *top)
{
	const struct fs_graph_series *s = f->series;
	double sign = below ? -1 : 1;
	uint8_t rgb[3];

	for (int p = 0; p < s->npoints; p++)
		top[p] = base[p] + rate(s, i, p, below);
	cairo_new_path(f->cr);
	for (int p = 0; p < s->npoints; p++) {
		int64_t t0 = s->start_s + p * s->step_s;

		cairo_line_to(f->cr, x_of(f, t0), y_of(f, sign * top[p]));
		cairo_line_to(f->cr, x_of(f, t0 + s->step_s), y_of(f, sign * top[p]));
	}
	for (int p = s->npoints - 1; p >= 0; p--) {
		int64_t t0 = s->start_s + p * s->step_s;

		cairo_line_to(f->cr, x_of(f, t0 + s->step_s), y_of(f, sign * base[p]));
		cairo_line_to(f->cr, x_of(f, t0), y_of(f, sign * base[p]));
	}
	cairo_close_path(f->cr);
	fs_graph_series_colour(i, s->has_other && i == s->nseries, rgb);
	set_colour(f->cr, rgb);
	cairo_fill(f->cr);
}

static void
draw_stack(struct frame *f, int below)
{
	double base[FS_GRAPH_MAX_POINTS] = { 0 }, top[FS_GRAPH_MAX_POINTS];

	for (int i = 0; i < series_count(f->series); i++) {
		draw_band(f, i, below, base, top);
		memcpy(base, top, sizeof(base));
	}
}

static void
draw_plot(struct frame *f)
{
	cairo_t *cr = f->cr;
	const struct fs_graph_box *b = &f->layout->plot;

	cairo_save(cr);
	cairo_rectangle(cr, b->x, b->y, b->width, b->height);
	cairo_clip(cr);
	draw_stack(f, 0);
	if (f->series->directional)
		draw_stack(f, 1);
	cairo_restore(cr);

	cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
	cairo_set_line_width(cr, 1);
	cairo_move_to(cr, b->x, floor(f->layout->zero_y) + 0.5);
	cairo_line_to(cr, b->x + b->width, floor(f->layout->zero_y) + 0.5);
	cairo_stroke(cr);
	cairo_rectangle(cr, floor(b->x) + 0.5, floor(b->y) + 0.5, floor(b->width),
			floor(b->height));
	cairo_stroke(cr);
	if (f->series->directional) {
		cairo_set_font_size(cr, SMALL_SIZE);
		cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
		draw_text(cr, "\u25b2 inbound (and undirected)", b->x + 6, b->y + 14, 0);
		draw_text(cr, "\u25bc outbound", b->x + 6, b->y + b->height - 6, 0);
	}
	if (f->series->npoints == 0) {
		cairo_set_font_size(cr, TEXT_SIZE);
		draw_text(cr, "no data", b->x + b->width / 2, b->y + b->height / 2, 0.5);
	}
}

static void
draw_titles(struct frame *f)
{
	cairo_t *cr = f->cr;

	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, TITLE_SIZE);
	draw_text(cr, f->style->title, MARGIN_LEFT, 28, 0);
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, TEXT_SIZE);
	cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
	draw_text(cr, f->style->subtitle, MARGIN_LEFT, 48, 0);
}

/* Lays out and draws the whole graph on cr. */
static void
draw(struct frame *f)
{
	struct fs_graph_layout *l = f->layout;
	double legend_height, plot_top = 66;

	cairo_set_source_rgb(f->cr, 1, 1, 1);
	cairo_paint(f->cr);
	cairo_select_font_face(f->cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	/* The legend's height depends on the names, so it is placed first. */
	legend_height = place_legend(f, 0);
	l->plot.x = MARGIN_LEFT;
	l->plot.y = plot_top;
	l->plot.width = f->style->width - MARGIN_LEFT - MARGIN_RIGHT;
	l->plot.height = f->style->height - plot_top - 58 - legend_height - 12;
	for (int i = 0; i < l->nlegend; i++) {
		l->legend[i].swatch.y += l->plot.y + l->plot.height + 58;
		l->legend[i].box.y += l->plot.y + l->plot.height + 58;
	}
	scale_axis(f);
	l->zero_y = y_of(f, 0);

	draw_titles(f);
	draw_y_axis(f);
	draw_x_axis(f);
	draw_plot(f);
	draw_legend(f);
}

void
fs_graph_render_release_caches(void)
{
	cairo_debug_reset_static_data();
}

int
fs_graph_render(const struct fs_graph_series *series, const struct fs_graph_style *style,
		enum fs_graph_format format, const char *path, struct fs_graph_layout *layout,
		char *err, size_t err_len)
{
	struct fs_graph_layout scratch = { 0 };
	struct frame f = { .series = series, .style = style, .layout = layout ? layout : &scratch };
	cairo_surface_t *surface;
	cairo_status_t status;

	if (style->width < FS_GRAPH_MIN_WIDTH || style->width > FS_GRAPH_MAX_WIDTH ||
	    style->height < FS_GRAPH_MIN_HEIGHT || style->height > FS_GRAPH_MAX_HEIGHT) {
		snprintf(err, err_len, "graph size %dx%d is outside %dx%d to %dx%d", style->width,
			 style->height, FS_GRAPH_MIN_WIDTH, FS_GRAPH_MIN_HEIGHT, FS_GRAPH_MAX_WIDTH,
			 FS_GRAPH_MAX_HEIGHT);
		return FS_ERR_INVALID;
	}
	memset(f.layout, 0, sizeof(*f.layout));
	if (format == FS_GRAPH_SVG)
		surface = cairo_svg_surface_create(path, style->width, style->height);
	else
		surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, style->width, style->height);
	f.cr = cairo_create(surface);
	draw(&f);
	cairo_destroy(f.cr);
	status = cairo_surface_status(surface);
	if (format == FS_GRAPH_PNG && status == CAIRO_STATUS_SUCCESS)
		status = cairo_surface_write_to_png(surface, path);
	if (format == FS_GRAPH_SVG) {
		/* The SVG surface writes the file when it is finished. */
		cairo_surface_finish(surface);
		status = cairo_surface_status(surface);
	}
	cairo_surface_destroy(surface);
	if (status != CAIRO_STATUS_SUCCESS) {
		snprintf(err, err_len, "writing %s failed: %s", path, cairo_status_to_string(status));
		return FS_ERR_SYSTEM;
	}
	return 0;
}
