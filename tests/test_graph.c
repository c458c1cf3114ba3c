/*
 * test_graph.c - time series for graphs (pkg/graph/series.h) from flows and
 * from the live counters of a real redis-server.  Rendered graphs
 * (pkg/graph/render.h) are read back from PNG and SVG files.  The option
 * parsers get bad input, and `flowsift graph` runs end to end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cairo.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_codec.h"
#include "core/flow.h"
#include "core/result.h"
#include "graph/render.h"
#include "graph/series.h"
#include "graph/zone.h"
#include "kafka/producer.h"
#include "redis/topn.h"
#include "redis/topn_series.h"
#include "support/process.h"
#include "support/redis_commands.h"
#include "support/redis_server.h"
#include "support/wire.h"

/* A Unix time divisible by 3600, so it starts a bucket at every resolution. */
#define BASE INT64_C(1699999200)
#define STEP 60
#define POINTS 60
#define NFLOWS 400

struct fixture {
	struct fs_test_redis redis;
	redisContext *ctx;
	pid_t broker;           /* stopped by teardown, so a failed test leaves none */
	char dir[64];
};

static struct fixture fx;

/* ---- known flows ---- */

struct flow_spec {
	const char *src;
	uint8_t proto;
	uint64_t bytes, packets;
	int64_t start_s;
	int direction;              /* enum fs_traffic_direction, or -1 for none */
};

static void
make_flow(const struct flow_spec *spec, struct fs_flow *flow)
{
	fs_flow_clear(flow);
	assert_int_equal(fs_addr_parse(&flow->src_addr, spec->src), 0);
	assert_int_equal(fs_addr_parse(&flow->exporter_addr, "192.0.2.254"), 0);
	flow->proto = spec->proto;
	flow->bytes = spec->bytes;
	flow->packets = spec->packets;
	flow->time_flow_start_ns = spec->start_s * INT64_C(1000000000);
	flow->present = FS_F_SRC_ADDR | FS_F_PROTO | FS_F_BYTES | FS_F_PACKETS |
			FS_F_TIME_FLOW_START;
	if (spec->direction >= 0) {
		flow->traffic_direction = (uint8_t)spec->direction;
		flow->present |= FS_F_TRAFFIC_DIRECTION;
	}
}

/* A reproducible set of flows over the hour before BASE, some a little outside it. */
static void
make_specs(struct flow_spec *specs, int n)
{
	static const char *const sources[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4",
					       "10.0.0.5", "10.0.0.6", "10.0.0.7" };
	static const uint8_t protos[] = { 6, 17, 6, 1, 6, 47, 17 };
	uint32_t rng = 12345;

	for (int i = 0; i < n; i++) {
		rng = rng * 1103515245u + 12345u;
		specs[i].src = sources[(rng >> 8) % 7 < 3 ? (rng >> 8) % 3 : (rng >> 12) % 7];
		specs[i].proto = protos[(rng >> 16) % 7];
		specs[i].bytes = 40 + (rng >> 4) % 100000;
		specs[i].packets = 1 + (rng >> 6) % 90;
		specs[i].start_s = BASE - 3700 + (int64_t)((rng >> 3) % 3800);
		specs[i].direction = (int)((rng >> 20) % 5) - 1;
	}
}

static enum fs_graph_direction
expected_direction(int direction)
{
	if (direction == FS_TRAFFIC_INBOUND)
		return FS_GRAPH_INBOUND;
	if (direction == FS_TRAFFIC_OUTBOUND)
		return FS_GRAPH_OUTBOUND;
	return FS_GRAPH_UNDIRECTED;
}

static uint64_t
metric_value(enum fs_graph_metric metric, const struct flow_spec *spec)
{
	if (metric == FS_GRAPH_BITS)
		return spec->bytes * 8;
	if (metric == FS_GRAPH_PACKETS)
		return spec->packets;
	return 1;
}

/* Sums the flows of name (NULL: all) in bucket p and direction d directly from the specs. */
static uint64_t
direct_sum(const struct flow_spec *specs, int n, enum fs_graph_metric metric, const char *name,
	   int p, enum fs_graph_direction d)
{
	int64_t start = BASE - POINTS * STEP + (int64_t)p * STEP;
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		if (specs[i].start_s < start || specs[i].start_s >= start + STEP)
			continue;
		if (expected_direction(specs[i].direction) != d)
			continue;
		if (name && strcmp(specs[i].src, name) != 0)
			continue;
		sum += metric_value(metric, &specs[i]);
	}
	return sum;
}

static struct fs_graph_series *
series_from_specs(const struct flow_spec *specs, int n, enum fs_graph_metric metric, int top,
		  int64_t end_s, struct fs_graph_acc_stats *stats)
{
	struct fs_graph_series *s = calloc(1, sizeof(*s));
	struct fs_graph_acc *acc = fs_graph_acc_new(FS_GRAPH_BY_SRC_ADDR, metric, STEP, POINTS,
						    end_s, NULL);
	struct fs_flow flow;

	assert_non_null(s);
	assert_non_null(acc);
	for (int i = 0; i < n; i++) {
		make_flow(&specs[i], &flow);
		assert_int_equal(fs_graph_acc_add(acc, &flow), 0);
	}
	assert_int_equal(fs_graph_acc_finish(acc, top, s), 0);
	fs_graph_acc_stats(acc, stats);
	fs_graph_acc_free(acc);
	return s;
}

static void
test_flow_series_equal_direct_sums(void **state)
{
	static struct flow_spec specs[NFLOWS];
	struct fs_graph_acc_stats stats;
	uint64_t inside = 0;

	(void)state;
	make_specs(specs, NFLOWS);
	for (int i = 0; i < NFLOWS; i++)
		inside += specs[i].start_s >= BASE - POINTS * STEP && specs[i].start_s < BASE;
	for (int m = 0; m < FS_GRAPH_METRIC_COUNT; m++) {
		struct fs_graph_series *s = series_from_specs(specs, NFLOWS, (enum fs_graph_metric)m,
							      3, BASE, &stats);

		assert_int_equal(s->npoints, POINTS);
		assert_int_equal(s->start_s, BASE - POINTS * STEP);
		assert_int_equal(s->step_s, STEP);
		assert_int_equal(s->nseries, 3);
		assert_true(s->has_other);
		assert_true(s->directional);
		assert_string_equal(s->names[3], FS_GRAPH_OTHER_NAME);
		assert_int_equal(stats.added, inside);
		assert_int_equal(stats.outside, NFLOWS - inside);
		for (int d = 0; d < FS_GRAPH_DIRECTION_COUNT; d++) {
			for (int p = 0; p < POINTS; p++) {
				uint64_t named = 0, all = direct_sum(specs, NFLOWS, (enum fs_graph_metric)m,
								     NULL, p, (enum fs_graph_direction)d);

				for (int i = 0; i < 3; i++) {
					assert_int_equal(s->sum[d][i][p],
							 direct_sum(specs, NFLOWS, (enum fs_graph_metric)m,
								    s->names[i], p,
								    (enum fs_graph_direction)d));
					named += s->sum[d][i][p];
				}
				assert_int_equal(s->sum[d][3][p], all - named);
			}
		}
		free(s);
	}
}

/* The three most frequent sources of make_specs() rank first, by total bits. */
static void
test_flow_series_rank_largest_first(void **state)
{
	static struct flow_spec specs[NFLOWS];
	struct fs_graph_acc_stats stats;
	struct fs_graph_series *s;
	uint64_t totals[4] = { 0 };

	(void)state;
	make_specs(specs, NFLOWS);
	s = series_from_specs(specs, NFLOWS, FS_GRAPH_BITS, 3, BASE, &stats);
	for (int i = 0; i < 4; i++) {
		for (int d = 0; d < FS_GRAPH_DIRECTION_COUNT; d++) {
			for (int p = 0; p < POINTS; p++)
				totals[i] += s->sum[d][i][p];
		}
	}
	assert_true(totals[0] >= totals[1]);
	assert_true(totals[1] >= totals[2]);
	assert_true(totals[0] > 0);
	free(s);
}

/* Without a fixed end, the range ends with the newest flow and older buckets are dropped. */
static void
test_floating_end_drops_old_buckets(void **state)
{
	struct flow_spec specs[] = {
		{ "10.0.0.1", 6, 1000, 1, BASE - 10000, -1 },  /* falls out later */
		{ "10.0.0.1", 6, 2000, 1, BASE - 3000, -1 },
		{ "10.0.0.2", 17, 300, 1, BASE - 30, FS_TRAFFIC_OUTBOUND },
		{ "10.0.0.1", 6, 500, 1, BASE - 20000, -1 },   /* already outside */
	};
	struct fs_graph_acc_stats stats;
	struct fs_graph_series *s;

	(void)state;
	s = series_from_specs(specs, 4, FS_GRAPH_BITS, 5, -1, &stats);
	assert_int_equal(s->npoints, POINTS);
	assert_int_equal(s->start_s, BASE - POINTS * STEP);
	assert_int_equal(s->nseries, 2);
	assert_false(s->has_other);
	assert_true(s->directional);
	assert_string_equal(s->names[0], "10.0.0.1");
	assert_int_equal(s->sum[FS_GRAPH_UNDIRECTED][0][10], 16000);
	assert_int_equal(s->sum[FS_GRAPH_OUTBOUND][1][59], 2400);
	for (int p = 0; p < POINTS; p++) {
		if (p != 10)
			assert_int_equal(s->sum[FS_GRAPH_UNDIRECTED][0][p], 0);
	}
	assert_int_equal(stats.added, 3);
	assert_int_equal(stats.outside, 1);
	free(s);
}

/* Members beyond FS_GRAPH_MAX_KEYS count in "other" and in stats.untracked, never lost. */
static void
test_untracked_members_count_in_other(void **state)
{
	struct fs_graph_acc *acc = fs_graph_acc_new(FS_GRAPH_BY_SRC_ADDR, FS_GRAPH_FLOWS, STEP,
						    POINTS, BASE, NULL);
	struct fs_graph_series *s = calloc(1, sizeof(*s));
	struct fs_graph_acc_stats stats;
	uint64_t drawn = 0;
	char addr[32];

	(void)state;
	assert_non_null(acc);
	assert_non_null(s);
	for (int i = 0; i < FS_GRAPH_MAX_KEYS + 10; i++) {
		struct flow_spec spec = { addr, 6, 100, 1, BASE - 100, -1 };
		struct fs_flow flow;

		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 250, i % 250 + 1);
		make_flow(&spec, &flow);
		assert_int_equal(fs_graph_acc_add(acc, &flow), 0);
	}
	fs_graph_acc_stats(acc, &stats);
	assert_int_equal(stats.untracked, 10);
	assert_int_equal(fs_graph_acc_finish(acc, 5, s), 0);
	for (int i = 0; i <= s->nseries; i++)
		drawn += s->sum[FS_GRAPH_UNDIRECTED][i][58];
	assert_int_equal(drawn, FS_GRAPH_MAX_KEYS + 10);
	assert_int_equal(s->sum[FS_GRAPH_UNDIRECTED][5][58], FS_GRAPH_MAX_KEYS + 5);
	fs_graph_acc_free(acc);
	free(s);
}

/* Flows without the dimension count in "other" only. */
static void
test_flows_without_key_count_in_other(void **state)
{
	struct fs_graph_acc *acc = fs_graph_acc_new(FS_GRAPH_BY_DST_ADDR, FS_GRAPH_PACKETS, STEP,
						    POINTS, BASE, NULL);
	struct fs_graph_series *s = calloc(1, sizeof(*s));
	struct flow_spec spec = { "10.0.0.1", 6, 100, 7, BASE - 1, -1 };
	struct fs_graph_acc_stats stats;
	struct fs_flow flow;

	(void)state;
	assert_non_null(acc);
	make_flow(&spec, &flow);
	assert_int_equal(fs_graph_acc_add(acc, &flow), 0);
	fs_graph_acc_stats(acc, &stats);
	assert_int_equal(stats.no_key, 1);
	assert_int_equal(fs_graph_acc_finish(acc, 5, s), 0);
	assert_int_equal(s->nseries, 0);
	assert_true(s->has_other);
	assert_int_equal(s->sum[FS_GRAPH_UNDIRECTED][0][POINTS - 1], 7);
	fs_graph_acc_free(acc);
	free(s);
}

static void
test_protocol_and_service_names(void **state)
{
	struct fs_graph_acc *acc = fs_graph_acc_new(FS_GRAPH_BY_SERVICE, FS_GRAPH_FLOWS, STEP,
						    POINTS, BASE, NULL);
	struct fs_graph_series *s = calloc(1, sizeof(*s));
	struct flow_spec spec = { "10.0.0.1", 6, 100, 1, BASE - 1, -1 };
	struct fs_flow flow;

	(void)state;
	assert_non_null(acc);
	make_flow(&spec, &flow);
	flow.src_port = 40000;
	flow.dst_port = 8081;
	flow.present |= FS_F_SRC_PORT | FS_F_DST_PORT;
	assert_int_equal(fs_graph_acc_add(acc, &flow), 0);
	snprintf(flow.src_service, sizeof(flow.src_service), "https");
	flow.present |= FS_F_SRC_SERVICE;
	assert_int_equal(fs_graph_acc_add(acc, &flow), 0);
	assert_int_equal(fs_graph_acc_add(acc, &flow), 0);
	assert_int_equal(fs_graph_acc_finish(acc, 5, s), 0);
	assert_int_equal(s->nseries, 2);
	assert_string_equal(s->names[0], "https");
	assert_string_equal(s->names[1], "tcp/8081");
	fs_graph_acc_free(acc);
	free(s);
}

/* ---- live counters ---- */

/*
 * Writes flows into the 5-minute buckets of the hour before BASE with
 * fs_topn_flush() at explicit times, reads the 1h series back and compares
 * it with the sums of the flows per bucket.
 */
static void
test_live_series_equal_flushed_sums(void **state)
{
	static const struct { uint8_t proto; uint64_t bytes; int bucket; } writes[] = {
		{ 6, 1000, 0 }, { 17, 200, 0 }, { 6, 3000, 4 }, { 1, 64, 4 },
		{ 17, 900, 7 }, { 6, 5000, 11 }, { 47, 10, 11 }, { 1, 128, 11 },
	};
	struct fs_topn_batch *batch = fs_topn_batch_new(1024);
	struct fs_topn_series *live = calloc(1, sizeof(*live));
	struct fs_graph_series *s = calloc(1, sizeof(*s));
	uint64_t expected[3][12] = { { 0 } };   /* tcp, udp, rest */
	int64_t now = BASE - 3600;

	(void)state;
	assert_int_equal(fs_test_redis_flushdb(fx.ctx), 0);
	assert_non_null(batch);
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		struct flow_spec spec = { "10.0.0.1", writes[i].proto, writes[i].bytes, 1, 0, -1 };
		struct fs_flow flow;
		int64_t at = BASE - 3600 + writes[i].bucket * 300 + 7;
		int row = 2;   /* tcp, udp, then the rest */

		if (writes[i].proto == 6)
			row = 0;
		else if (writes[i].proto == 17)
			row = 1;

		/* Idle flushes every 10 s, as the report worker runs them, build the roll-ups. */
		for (; now < at; now += 10)
			assert_int_equal(fs_topn_flush(batch, fx.ctx, now), 0);
		make_flow(&spec, &flow);
		assert_int_equal(fs_topn_batch_add(batch, &flow), 0);
		assert_int_equal(fs_topn_flush(batch, fx.ctx, at), 0);
		expected[row][writes[i].bucket] += writes[i].bytes * 8;
	}
	for (; now < BASE; now += 10)
		assert_int_equal(fs_topn_flush(batch, fx.ctx, now), 0);
	assert_int_equal(fs_topn_series_query(fx.ctx, FS_TOPN_PROTO, FS_TOPN_BYTES, FS_TOPN_1H, 2,
					      BASE - 1, live), 0);
	assert_int_equal(fs_graph_series_from_topn(live, FS_GRAPH_BY_PROTO, FS_GRAPH_BITS, NULL, s), 0);
	assert_int_equal(s->npoints, 12);
	assert_int_equal(s->step_s, 300);
	assert_int_equal(s->start_s, BASE - 3600);
	assert_false(s->directional);
	assert_int_equal(s->nseries, 2);
	assert_string_equal(s->names[0], "tcp");
	assert_string_equal(s->names[1], "udp");
	assert_true(s->has_other);
	for (int p = 0; p < 12; p++) {
		for (int r = 0; r < 3; r++)
			assert_int_equal(s->sum[FS_GRAPH_UNDIRECTED][r][p], expected[r][p]);
		assert_int_equal(s->sum[FS_GRAPH_INBOUND][0][p], 0);
	}
	assert_int_equal(fs_graph_series_from_topn(live, FS_GRAPH_BY_PROTO, FS_GRAPH_FLOWS, NULL, s),
			 FS_ERR_INVALID);
	fs_topn_batch_free(batch);
	free(live);
	free(s);
}

/* ---- rendering ---- */

static struct fs_graph_series *
render_input(bool directional)
{
	static struct flow_spec specs[NFLOWS];
	struct fs_graph_acc_stats stats;

	make_specs(specs, NFLOWS);
	if (!directional) {
		for (int i = 0; i < NFLOWS; i++)
			specs[i].direction = -1;
	}
	return series_from_specs(specs, NFLOWS, FS_GRAPH_BITS, 4, BASE, &stats);
}

static void
style_init(struct fs_graph_style *style, int width, int height)
{
	memset(style, 0, sizeof(*style));
	style->width = width;
	style->height = height;
	snprintf(style->title, sizeof(style->title), "Bits per second by source address");
	snprintf(style->subtitle, sizeof(style->subtitle), "test flows");
	snprintf(style->zone, sizeof(style->zone), "UTC");
}

/* Counts the pixels of colour rgb inside box, from y0 to y1 only. */
static int
count_colour(cairo_surface_t *img, const struct fs_graph_box *box, double y0, double y1,
	     const uint8_t rgb[3])
{
	unsigned char *data = cairo_image_surface_get_data(img);
	int stride = cairo_image_surface_get_stride(img);
	uint32_t want = 0xff000000u | (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
	int count = 0;

	for (int y = (int)y0 + 1; y < (int)y1 - 1; y++) {
		for (int x = (int)box->x + 1; x < (int)(box->x + box->width) - 1; x++) {
			uint32_t px;

			memcpy(&px, data + (size_t)y * (size_t)stride + (size_t)x * 4, sizeof(px));
			count += px == want;
		}
	}
	return count;
}

static bool
box_inside(const struct fs_graph_box *inner, double x, double y, double w, double h)
{
	return inner->x >= x && inner->y >= y && inner->x + inner->width <= x + w &&
	       inner->y + inner->height <= y + h;
}

static void
test_png_size_plot_and_legend(void **state)
{
	struct fs_graph_series *s = render_input(false);
	struct fs_graph_layout layout;
	struct fs_graph_style style;
	cairo_surface_t *img;
	char path[128], err[256];

	(void)state;
	assert_int_equal(fs_graph_zone_apply("UTC"), 0);
	snprintf(path, sizeof(path), "%s/plain.png", fx.dir);
	style_init(&style, 820, 470);
	assert_int_equal(fs_graph_render(s, &style, FS_GRAPH_PNG, path, &layout, err, sizeof(err)),
			 0);
	img = cairo_image_surface_create_from_png(path);
	assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
	assert_int_equal(cairo_image_surface_get_width(img), 820);
	assert_int_equal(cairo_image_surface_get_height(img), 470);
	assert_true(box_inside(&layout.plot, 0, 0, 820, 470));
	assert_true(layout.plot.width > 400);
	assert_true(layout.plot.height > 150);

	assert_int_equal(layout.nlegend, 5);
	for (int i = 0; i < 4; i++)
		assert_string_equal(layout.legend[i].name, s->names[i]);
	assert_string_equal(layout.legend[4].name, FS_GRAPH_OTHER_NAME);
	for (int i = 0; i < layout.nlegend; i++) {
		const struct fs_graph_legend_entry *e = &layout.legend[i];

		assert_true(box_inside(&e->box, 0, 0, 820, 470));
		assert_true(e->box.y > layout.plot.y + layout.plot.height);
		/* Each series and "other" fills pixels of its colour in the plot, above the axis. */
		assert_true(count_colour(img, &layout.plot, layout.plot.y, layout.zero_y, e->rgb) > 0);
		assert_true(count_colour(img, &e->swatch, e->swatch.y, e->swatch.y + e->swatch.height,
					 e->rgb) > 0);
	}
	assert_true(layout.zero_y >= layout.plot.y + layout.plot.height - 1);
	cairo_surface_destroy(img);
	free(s);
}

static void
test_png_outbound_below_axis(void **state)
{
	struct fs_graph_series *s = render_input(true);
	struct fs_graph_layout layout;
	struct fs_graph_style style;
	cairo_surface_t *img;
	char path[128], err[256];
	int above = 0, below = 0;

	(void)state;
	assert_int_equal(fs_graph_zone_apply("UTC"), 0);
	snprintf(path, sizeof(path), "%s/directional.png", fx.dir);
	style_init(&style, 900, 600);
	assert_int_equal(fs_graph_render(s, &style, FS_GRAPH_PNG, path, &layout, err, sizeof(err)),
			 0);
	img = cairo_image_surface_create_from_png(path);
	assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
	assert_true(layout.zero_y > layout.plot.y + 10);
	assert_true(layout.zero_y < layout.plot.y + layout.plot.height - 10);
	assert_true(layout.max_below > 0);
	for (int i = 0; i < layout.nlegend; i++) {
		above += count_colour(img, &layout.plot, layout.plot.y, layout.zero_y,
				      layout.legend[i].rgb);
		below += count_colour(img, &layout.plot, layout.zero_y + 1,
				      layout.plot.y + layout.plot.height, layout.legend[i].rgb);
	}
	assert_true(above > 0);
	assert_true(below > 0);
	cairo_surface_destroy(img);
	free(s);
}

static void
test_svg_is_well_formed_xml(void **state)
{
	struct fs_graph_series *s = render_input(true);
	struct fs_graph_style style;
	char path[128], err[256], cmd[512];
	int status;

	(void)state;
	snprintf(path, sizeof(path), "%s/graph.svg", fx.dir);
	style_init(&style, 800, 450);
	assert_int_equal(fs_graph_render(s, &style, FS_GRAPH_SVG, path, NULL, err, sizeof(err)), 0);
	/* Python's expat-based parser rejects any XML that is not well-formed. */
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; "
		 "r = E.parse(sys.argv[1]).getroot(); "
		 "sys.exit(0 if r.tag.endswith(\"svg\") and r.get(\"width\").startswith(\"800\") "
		 "else 3)' '%s'", path);
	status = system(cmd);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(s);
}

static void
test_empty_series_draws_axes(void **state)
{
	struct fs_graph_series *s = calloc(1, sizeof(*s));
	struct fs_graph_layout layout;
	struct fs_graph_style style;
	char path[128], err[256];

	(void)state;
	assert_non_null(s);
	s->step_s = 60;
	snprintf(path, sizeof(path), "%s/empty.png", fx.dir);
	style_init(&style, 640, 400);
	assert_int_equal(fs_graph_render(s, &style, FS_GRAPH_PNG, path, &layout, err, sizeof(err)),
			 0);
	assert_int_equal(layout.nlegend, 0);
	style.width = 100;
	assert_int_equal(fs_graph_render(s, &style, FS_GRAPH_PNG, path, &layout, err, sizeof(err)),
			 FS_ERR_INVALID);
	style.width = 640;
	assert_int_equal(fs_graph_render(s, &style, FS_GRAPH_PNG, "/nonexistent/dir/x.png", &layout,
					 err, sizeof(err)), FS_ERR_SYSTEM);
	assert_non_null(strstr(err, "/nonexistent/dir/x.png"));
	free(s);
}

/* ---- parsers ---- */

static void
test_window_parse_rejects_bad_input(void **state)
{
	static const char *const bad[] = {
		"", "h", "0h", "-1h", "1x", "1h5", "9m", "301d", "1 h", " 1h", "1H", "1hh",
		"99999999999999999999d", "0x10h", "+1h",
	};
	int64_t s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fs_graph_window_parse(bad[i], &s) != FS_ERR_INVALID)
			fail_msg("window '%s' was accepted", bad[i]);
	}
	assert_int_equal(fs_graph_window_parse("1h", &s), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(fs_graph_window_parse("24h", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(fs_graph_window_parse("7d", &s), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(fs_graph_window_parse("10m", &s), 0);
	assert_int_equal(s, 600);
}

static void
test_size_parse_rejects_bad_input(void **state)
{
	static const char *const bad[] = {
		"", "800", "x600", "800x", "800x600x", "10x10", "5000x600", "800x9000", "-800x600",
		" 800x600", "800 x600", "800X600", "800x+600", "800x-600", "99999999999999999999x600",
	};
	int w, h;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fs_graph_size_parse(bad[i], &w, &h) != FS_ERR_INVALID)
			fail_msg("size '%s' was accepted", bad[i]);
	}
	assert_int_equal(fs_graph_size_parse("1200x675", &w, &h), 0);
	assert_int_equal(w, 1200);
	assert_int_equal(h, 675);
}

static void
test_zone_check_rejects_bad_names(void **state)
{
	static const char *const invalid[] = {
		"", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd", "a b", "Europe/Paris\n",
		"UTC;rm", "%s%s", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (fs_graph_zone_check(invalid[i]) != FS_ERR_INVALID)
			fail_msg("zone '%s' was not rejected as invalid", invalid[i]);
	}
	assert_int_equal(fs_graph_zone_check("Nowhere/Atlantis"), FS_ERR_NOT_FOUND);
	assert_int_equal(fs_graph_zone_check("UTC"), 0);
	if (access(FS_GRAPH_ZONE_DIR "/Europe/Paris", R_OK) == 0) {
		assert_int_equal(fs_graph_zone_check("Europe"), FS_ERR_NOT_FOUND);
		assert_int_equal(fs_graph_zone_check("Europe/Paris"), 0);
	}
}

static void
test_names_and_units(void **state)
{
	enum fs_graph_by by;
	enum fs_graph_metric metric;
	enum fs_graph_format format;
	char buf[64];

	(void)state;
	assert_int_equal(fs_graph_by_parse("service", &by), 0);
	assert_int_equal(by, FS_GRAPH_BY_SERVICE);
	assert_int_equal(fs_graph_by_parse("Service", &by), FS_ERR_INVALID);
	assert_int_equal(fs_graph_by_parse("", &by), FS_ERR_INVALID);
	assert_int_equal(fs_graph_metric_parse("packets", &metric), 0);
	assert_int_equal(metric, FS_GRAPH_PACKETS);
	assert_int_equal(fs_graph_metric_parse("bytes", &metric), FS_ERR_INVALID);
	assert_int_equal(fs_graph_format_of_path("a.PNG", &format), 0);
	assert_int_equal(format, FS_GRAPH_PNG);
	assert_int_equal(fs_graph_format_of_path("a.svg", &format), 0);
	assert_int_equal(format, FS_GRAPH_SVG);
	assert_int_equal(fs_graph_format_of_path(".svg", &format), FS_ERR_INVALID);
	assert_int_equal(fs_graph_format_of_path("a.jpg", &format), FS_ERR_INVALID);
	assert_string_equal(fs_graph_format_si(0, "bit/s", buf, sizeof(buf)), "0 bit/s");
	assert_string_equal(fs_graph_format_si(999, "bit/s", buf, sizeof(buf)), "999 bit/s");
	assert_string_equal(fs_graph_format_si(1500, "bit/s", buf, sizeof(buf)), "1.5 kbit/s");
	assert_string_equal(fs_graph_format_si(2e9, "bit/s", buf, sizeof(buf)), "2 Gbit/s");
	assert_string_equal(fs_graph_format_si(250e6, "packets/s", buf, sizeof(buf)),
			    "250 Mpackets/s");
	assert_int_equal(fs_graph_step_for_range(3600), 60);
	assert_int_equal(fs_graph_step_for_range(86400), 300);
	assert_int_equal(fs_graph_step_for_range(7 * 86400), 3600);
	assert_int_equal(fs_graph_step_for_range(0), FS_ERR_INVALID);
	assert_int_equal(fs_graph_step_for_range(400 * INT64_C(86400)), FS_ERR_INVALID);
}

/* ---- the command ---- */

/* Writes 6 NetFlow v5 messages, 10 minutes apart, of 20 TCP and UDP records each. */
static void
write_raw_capture(const char *path)
{
	uint8_t msg[24 + 20 * 48];
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (uint32_t m = 0; m < 6; m++) {
		memset(msg, 0, sizeof(msg));
		fs_test_put16(msg, 5);
		fs_test_put16(msg + 2, 20);
		fs_test_put32(msg + 4, 3600000);
		fs_test_put32(msg + 8, 1700000000 + m * 600);
		for (uint32_t r = 0; r < 20; r++) {
			uint8_t *rec = msg + 24 + r * 48;

			fs_test_put32(rec, 0x0a000001 + r % 5);
			fs_test_put32(rec + 4, 0xc0000201);
			fs_test_put32(rec + 16, 10);
			fs_test_put32(rec + 20, 1000 * (r + 1));
			fs_test_put32(rec + 24, 3500000);
			fs_test_put32(rec + 28, 3590000);
			fs_test_put16(rec + 32, (uint16_t)(30000 + r));
			fs_test_put16(rec + 34, r % 2 ? 443 : 53);
			rec[38] = r % 2 ? 6 : 17;
		}
		assert_int_equal(fwrite(msg, sizeof(msg), 1, f), 1);
	}
	fclose(f);
}

/* Runs `flowsift graph ARGS` with the test's Redis, output appended to log; returns its exit status. */
static int
run_graph_log(const char *args, const char *log)
{
	char bin[256], cmd[2048], *abs_bin;
	int status;

	/* The command runs in the test folder, so the binary needs an absolute path. */
	abs_bin = realpath(fs_test_bin_path("flowsift", bin, sizeof(bin)), NULL);
	assert_non_null(abs_bin);
	snprintf(bin, sizeof(bin), "%s", abs_bin);
	free(abs_bin);
	snprintf(cmd, sizeof(cmd), "cd '%s' && FLOWSIFT_CONFIG=/dev/null FLOWSIFT_REDIS_URL='%s' "
		 "'%s' graph %s >>'%s' 2>&1", fx.dir, fx.redis.url, bin, args, log);
	status = system(cmd);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int
run_graph(const char *args)
{
	return run_graph_log(args, "graph.log");
}

static void
assert_png_size(const char *name, int width, int height)
{
	char path[256];
	cairo_surface_t *img;

	snprintf(path, sizeof(path), "%s/%s", fx.dir, name);
	img = cairo_image_surface_create_from_png(path);
	assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
	assert_int_equal(cairo_image_surface_get_width(img), width);
	assert_int_equal(cairo_image_surface_get_height(img), height);
	cairo_surface_destroy(img);
}

static void
test_command_draws_files_and_live(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	struct flow_spec spec = { "10.0.0.1", 6, 5000, 3, 0, -1 };
	struct fs_flow flow;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/v5.raw", fx.dir);
	write_raw_capture(path);
	assert_int_equal(run_graph("--by service --size 640x400 --out files.png v5.raw"), 0);
	assert_png_size("files.png", 640, 400);
	assert_int_equal(run_graph("--by src_addr --metric flows --tz UTC -f 'proto tcp' "
				   "--out files.svg v5.raw"), 0);
	assert_int_equal(run_graph("--window 7d --out week.png v5.raw"), 0);
	assert_png_size("week.png", 1000, 560);

	/* The live counters, written now so that they fall in the 1h window. */
	assert_non_null(batch);
	make_flow(&spec, &flow);
	assert_int_equal(fs_topn_batch_add(batch, &flow), 0);
	assert_int_equal(fs_topn_flush(batch, fx.ctx, (int64_t)time(NULL)), 0);
	assert_int_equal(run_graph("--out live.png --size 700x420"), 0);
	assert_png_size("live.png", 700, 420);
	fs_topn_batch_free(batch);
}

/* Reads the whole file at path into a new string. */
static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	assert_non_null(text);
	n = fread(text, 1, 65535, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/*
 * Enriched flows with inbound and outbound directions, produced to a topic
 * of the embedded broker, are read back over the last hour and drawn.
 */
static void
test_command_draws_topic_range(void **state)
{
	char addr_file[128], log_path[128], bootstrap[256], err[256], *log;
	char *argv[] = { "flowsift-broker", "--addr-file", addr_file, "--partitions", "2",
			 "--topic", "flows.graph", NULL };
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	int64_t now = (int64_t)time(NULL);
	FILE *f;

	(void)state;
	snprintf(addr_file, sizeof(addr_file), "%s/broker.addr", fx.dir);
	snprintf(log_path, sizeof(log_path), "%s/broker.log", fx.dir);
	fx.broker = fs_test_spawn("flowsift-broker", argv, NULL, log_path);
	assert_true(fx.broker > 0);
	assert_int_equal(fs_test_wait_file(addr_file, 10000), 0);
	f = fopen(addr_file, "r");
	assert_non_null(f);
	assert_non_null(fgets(bootstrap, sizeof(bootstrap), f));
	fclose(f);
	bootstrap[strcspn(bootstrap, "\r\n")] = '\0';

	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	producer = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	assert_non_null(producer);
	for (int i = 0; i < 30; i++) {
		struct flow_spec spec = { i % 2 ? "10.0.0.1" : "10.0.0.2", 6, 1000, 2,
					  now - 3000 + i * 60, i % 3 == 0 ? FS_TRAFFIC_OUTBOUND
									  : FS_TRAFFIC_INBOUND };
		struct fs_flow flow;
		size_t len;

		make_flow(&spec, &flow);
		assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_producer_send(producer, "flows.graph", NULL, 0, buf, len), 0);
	}
	assert_int_equal(fs_producer_flush(producer, 10000), 0);
	fs_producer_close(producer, 5000, NULL);
	fs_flow_codec_free(codec);

	setenv("FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS", bootstrap, 1);
	assert_int_equal(run_graph_log("--topic flows.graph --by src_addr --size 600x400 "
				       "--out topic.png", "topic.log"), 0);
	unsetenv("FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS");
	assert_png_size("topic.png", 600, 400);
	snprintf(log_path, sizeof(log_path), "%s/topic.log", fx.dir);
	log = read_text(log_path);
	if (!strstr(log, "30 flows read, 30 matched, 0 outside the range, 30 drawn"))
		fail_msg("unexpected output of flowsift graph --topic: %s", log);
	free(log);
	assert_int_equal(fs_test_stop(fx.broker, 5000), 0);
	fx.broker = 0;
}

static void
test_command_rejects_bad_options(void **state)
{
	static const char *const bad[] = {
		"--tz Mars/Olympus --out x.png v5.raw",
		"--tz ../../etc/passwd --out x.png v5.raw",
		"--window 0h --out x.png v5.raw",
		"--window 7d --out x.png",
		"--size 10x10 --out x.png v5.raw",
		"--out x.gif v5.raw",
		"--top 0 --out x.png v5.raw",
		"--top 21 --out x.png v5.raw",
		"--by port --out x.png v5.raw",
		"--metric bytes --out x.png v5.raw",
		"--from yesterday --topic flows.raw --out x.png",
		"--from -99999999999999d --topic flows.raw --out x.png",
		"--from -1h --to -2h --out x.png v5.raw",
		"--from -1h --out x.png",
		"-f 'proto tcp' --out x.png",
		"-f 'proto' --out x.png v5.raw",
		"--topic flows.raw --out x.png v5.raw",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int status = run_graph(bad[i]);

		if (status != 2)
			fail_msg("flowsift graph %s exited with %d, not 2", bad[i], status);
	}
	assert_int_equal(run_graph("--out x.png /nonexistent/capture.pcap"), 1);
	assert_int_equal(run_graph("--help"), 0);
}

static int
setup(void **state)
{
	(void)state;
	if (fs_test_redis_start(&fx.redis) < 0)
		return -1;
	fx.ctx = fs_test_redis_connect(&fx.redis);
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/fstest-graph-XXXXXX");
	if (!fx.ctx || !mkdtemp(fx.dir))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	fs_graph_render_release_caches();
	if (fx.broker > 0)
		fs_test_stop(fx.broker, 5000);
	if (fx.ctx)
		redisFree(fx.ctx);
	fs_test_redis_stop(&fx.redis);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
	if (fx.dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fx.dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_series_equal_direct_sums),
		cmocka_unit_test(test_flow_series_rank_largest_first),
		cmocka_unit_test(test_floating_end_drops_old_buckets),
		cmocka_unit_test(test_untracked_members_count_in_other),
		cmocka_unit_test(test_flows_without_key_count_in_other),
		cmocka_unit_test(test_protocol_and_service_names),
		cmocka_unit_test(test_live_series_equal_flushed_sums),
		cmocka_unit_test(test_png_size_plot_and_legend),
		cmocka_unit_test(test_png_outbound_below_axis),
		cmocka_unit_test(test_svg_is_well_formed_xml),
		cmocka_unit_test(test_empty_series_draws_axes),
		cmocka_unit_test(test_window_parse_rejects_bad_input),
		cmocka_unit_test(test_size_parse_rejects_bad_input),
		cmocka_unit_test(test_zone_check_rejects_bad_names),
		cmocka_unit_test(test_names_and_units),
		cmocka_unit_test(test_command_draws_files_and_live),
		cmocka_unit_test(test_command_draws_topic_range),
		cmocka_unit_test(test_command_rejects_bad_options),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
