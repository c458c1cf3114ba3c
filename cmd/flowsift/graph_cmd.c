/*
 * graph_cmd.c - `flowsift graph`: a stacked time series of the top members
 * of one dimension, drawn to PNG or SVG (pkg/graph/render.h).
 *
 * The data comes from the live Redis counters (pkg/redis/topn_series.h)
 * when no filter, no FILE and no --topic is given and the window is 1h or
 * 24h, the windows those counters keep at 5 min and 1 h resolution.
 * Otherwise it comes from the flows of capture and archive files or of a
 * topic range (flow_source.h), bucketed by pkg/graph/series.h at the width
 * that fs_graph_step_for_range() picks for the window.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_redis.h"
#include "commands.h"
#include "config/config.h"
#include "core/log.h"
#include "core/result.h"
#include "enrich/services.h"
#include "flow_source.h"
#include "graph/render.h"
#include "graph/series.h"
#include "graph/zone.h"
#include "redis/redis_url.h"
#include "redis/topn_series.h"
#include "time_range.h"

#define DEFAULT_OUT "flowsift-graph.png"
#define DEFAULT_TOP 8
#define DEFAULT_WIDTH 1000
#define DEFAULT_HEIGHT 560

struct options {
	enum fs_graph_by by;
	enum fs_graph_metric metric;
	int64_t window_s;
	int n;
	const char *zone;
	const char *out;
	enum fs_graph_format format;
	int width, height;
	const char *filter_text;
	const char *config_path;
	const char *topic;
	int64_t from_ms;        /* -1: --to minus the window */
	int64_t to_ms;          /* -1: now */
	bool no_scale;          /* draw counters as exported, not scaled by the sampling rate */
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift graph [-f FILTER] [--by DIMENSION] [--metric METRIC]\n"
		"                      [--window LENGTH] [--top N] [--tz ZONE] [--out FILE]\n"
		"                      [--size WIDTHxHEIGHT] [--config FILE]\n"
		"                      [FILE... | --topic TOPIC] [--from TIME] [--to TIME]\n"
		"\n"
		"Draws the top N members of a dimension and the rest (\"other\") as a\n"
		"stacked time series.  Flows with a traffic direction (enriched flows)\n"
		"draw inbound above the axis and outbound below it.\n"
		"\n"
		"Without FILE, --topic and -f, and with a window of 1h or 24h, the graph\n"
		"comes from the live counters in Redis.  Otherwise it comes from the flows\n"
		"of FILE arguments (pcap, pcapng, raw datagrams, Avro archive files) over\n"
		"the window before the latest flow, or from --from to --to, or of a topic\n"
		"from --from to --to.\n"
		"\n"
		"options:\n"
		"  --by DIMENSION   proto, service, exporter, interface (input), src_addr or\n"
		"                   dst_addr (default proto)\n"
		"  --metric METRIC  bits, packets or flows, drawn per second (default bits)\n"
		"  --window LENGTH  time range: 1h, 24h, 7d or any number of m, h or d from\n"
		"                   10m to 300d (default 1h); buckets are 1 min up to 1h,\n"
		"                   5 min up to 24h, 1 h up to 12 days, wider beyond\n"
		"  --top N          named series, 1 to %d (default %d)\n"
		"  --tz ZONE        time zone of the time axis: UTC (default) or a name such\n"
		"                   as Europe/Paris\n"
		"  --out FILE       output file, .png or .svg (default %s)\n"
		"  --size WxH       image size in pixels, %dx%d to %dx%d (default %dx%d)\n"
		"  -f, --filter EXPR  keep only the flows that match EXPR (docs/filter.md)\n"
		"  --topic TOPIC    read the flows of TOPIC (flows.enriched, ...)\n"
		"  --from TIME      start of the range: Unix seconds, 2026-01-31T12:00:00Z,\n"
		"                   2026-01-31, now or an age such as -2h\n"
		"                   (default: --to minus the window); a topic is read from\n"
		"                   the first message with this timestamp, files keep the\n"
		"                   flows received (time_received_ns) in the range\n"
		"  --to TIME        end of the range, exclusive (default: now)\n"
		"  --no-scale       files and topics: draw bytes and packets as exported,\n"
		"                   also for flows that flowsift-enrich scaled; by\n"
		"                   default sampled counters are multiplied by the sampling\n"
		"                   rate as flowsift-enrich does, and a line on stderr\n"
		"                   states which applies\n"
		"  --config FILE    read settings (Redis, Kafka) from FILE\n"
		"  -h, --help       print this help and exit\n"
		"\n"
		"examples:\n"
		"  flowsift graph --by service --window 24h --out services.png\n"
		"  flowsift graph --by src_addr --metric flows -f 'dst port 445' capture.pcap\n"
		"  flowsift graph --window 7d --topic flows.enriched --out week.svg\n",
		FS_GRAPH_MAX_SERIES, DEFAULT_TOP, DEFAULT_OUT, FS_GRAPH_MIN_WIDTH,
		FS_GRAPH_MIN_HEIGHT, FS_GRAPH_MAX_WIDTH, FS_GRAPH_MAX_HEIGHT, DEFAULT_WIDTH,
		DEFAULT_HEIGHT);
}

static int
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option options[] = {
		{ "by", required_argument, NULL, 'B' },
		{ "metric", required_argument, NULL, 'm' },
		{ "window", required_argument, NULL, 'w' },
		{ "top", required_argument, NULL, 'n' },
		{ "tz", required_argument, NULL, 'z' },
		{ "out", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "filter", required_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "topic", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 'b' },
		{ "no-scale", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t now_s = (int64_t)time(NULL);
	char *end;
	long n;
	int c, rc;

	while ((c = getopt_long(argc, argv, "f:o:h", options, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (fs_graph_by_parse(optarg, &opt->by) < 0) {
				fprintf(stderr, "flowsift graph: invalid --by '%s'; use proto, service, "
						"exporter, interface, src_addr or dst_addr\n", optarg);
				return 2;
			}
			break;
		case 'm':
			if (fs_graph_metric_parse(optarg, &opt->metric) < 0) {
				fprintf(stderr, "flowsift graph: invalid --metric '%s'; use bits, packets "
						"or flows\n", optarg);
				return 2;
			}
			break;
		case 'w':
			if (fs_graph_window_parse(optarg, &opt->window_s) < 0) {
				fprintf(stderr, "flowsift graph: invalid --window '%s'; use a length such "
						"as 1h, 24h or 7d, from 10m to 300d\n", optarg);
				return 2;
			}
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > FS_GRAPH_MAX_SERIES) {
				fprintf(stderr, "flowsift graph: --top takes a number from 1 to %d, not "
						"'%s'\n", FS_GRAPH_MAX_SERIES, optarg);
				return 2;
			}
			opt->n = (int)n;
			break;
		case 'z':
			rc = fs_graph_zone_check(optarg);
			if (rc < 0) {
				fprintf(stderr, "flowsift graph: %s time zone '%s'; use UTC or a name "
						"under %s such as Europe/Paris\n",
					rc == FS_ERR_NOT_FOUND ? "unknown" : "invalid", optarg,
					FS_GRAPH_ZONE_DIR);
				return 2;
			}
			opt->zone = optarg;
			break;
		case 'o':
			if (fs_graph_format_of_path(optarg, &opt->format) < 0) {
				fprintf(stderr, "flowsift graph: --out '%s' must end in .png or .svg\n",
					optarg);
				return 2;
			}
			opt->out = optarg;
			break;
		case 's':
			if (fs_graph_size_parse(optarg, &opt->width, &opt->height) < 0) {
				fprintf(stderr, "flowsift graph: invalid --size '%s'; use WIDTHxHEIGHT "
						"from %dx%d to %dx%d\n", optarg, FS_GRAPH_MIN_WIDTH,
					FS_GRAPH_MIN_HEIGHT, FS_GRAPH_MAX_WIDTH, FS_GRAPH_MAX_HEIGHT);
				return 2;
			}
			break;
		case 'f': opt->filter_text = optarg; break;
		case 'c': opt->config_path = optarg; break;
		case 't': opt->topic = optarg; break;
		case 'S': opt->no_scale = true; break;
		case 'a':
		case 'b':
			if (flow_source_parse_time(optarg, now_s,
						   c == 'a' ? &opt->from_ms : &opt->to_ms) < 0) {
				fprintf(stderr, "flowsift graph: invalid time '%s' for --%s; use Unix "
						"seconds, 2026-01-31T12:00:00Z or an age such as -2h\n",
					optarg, c == 'a' ? "from" : "to");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 1;
		default: usage_hint("graph"); return 2;
		}
	}
	return 0;
}

/* ---- titles ---- */

static void
format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* Writes a duration as "7 d", "24 h", "5 min" or "90 s". */
static void
format_span(int64_t seconds, char *buf, size_t len)
{
	if (seconds >= 86400 * 2 && seconds % 86400 == 0)
		snprintf(buf, len, "%" PRId64 " d", seconds / 86400);
	else if (seconds >= 3600 && seconds % 3600 == 0)
		snprintf(buf, len, "%" PRId64 " h", seconds / 3600);
	else if (seconds % 60 == 0)
		snprintf(buf, len, "%" PRId64 " min", seconds / 60);
	else
		snprintf(buf, len, "%" PRId64 " s", seconds);
}

/* Writes the title (what) and subtitle (range, source, filter) into style. */
static void
set_titles(const struct options *opt, const struct fs_graph_series *s, const char *source,
	   struct fs_graph_style *style)
{
	const char *metric = fs_graph_metric_title(opt->metric);
	char from[32] = "", to[32] = "", step[32], span[32];

	format_span(s->step_s * s->npoints, span, sizeof(span));
	snprintf(style->title, sizeof(style->title), "%c%s by %s, top %d, over %s",
		 metric[0] - 'a' + 'A', metric + 1, fs_graph_by_title(opt->by), opt->n, span);
	if (s->npoints > 0) {
		format_time(s->start_s, from, sizeof(from));
		format_time(s->start_s + s->step_s * s->npoints, to, sizeof(to));
	}
	format_span(s->step_s, step, sizeof(step));
	snprintf(style->subtitle, sizeof(style->subtitle), "%s to %s %s, %s buckets; source: %s%s%s",
		 from, to, opt->zone, step, source, opt->filter_text ? "; filter: " : "",
		 opt->filter_text ? opt->filter_text : "");
	snprintf(style->zone, sizeof(style->zone), "%s", opt->zone);
}

/* ---- live ---- */

static int
read_live(const struct options *opt, const struct fs_services *services,
	  struct fs_graph_series *out)
{
	enum fs_topn_window window = opt->window_s == 3600 ? FS_TOPN_1H : FS_TOPN_24H;
	struct fs_topn_series *live = calloc(1, sizeof(*live));
	redisContext *ctx = NULL;
	int status = 1;

	if (!live)
		return 1;
	ctx = cli_redis_open(opt->config_path, "flowsift graph");
	if (!ctx)
		goto out;
	if (fs_topn_series_query(ctx, fs_graph_by_topn_dim(opt->by), fs_graph_metric_topn(opt->metric),
				 window, opt->n, (int64_t)time(NULL), live) < 0) {
		cli_redis_query_failed("flowsift graph", "the counters", ctx, NULL);
		goto out;
	}
	if (fs_graph_series_from_topn(live, opt->by, opt->metric, services, out) < 0) {
		fprintf(stderr, "flowsift graph: the counters in Redis have an unexpected shape\n");
		goto out;
	}
	status = 0;
out:
	if (ctx)
		redisFree(ctx);
	free(live);
	return status;
}

/* ---- flows ---- */

static int
add_flow(const struct fs_flow *flow, void *opaque)
{
	if (fs_graph_acc_add(opaque, flow) < 0) {
		fprintf(stderr, "flowsift graph: out of memory\n");
		return -1;
	}
	return 0;
}

/*
 * Sums the flows of the files or topic into out.  Returns 0 when there is
 * something to draw, and sets *damaged when a file was read only up to
 * damage; else returns the exit status.
 */
static int
read_flows(struct options *opt, int nfiles, char **files, const struct fs_services *services,
	   struct fs_graph_series *out, bool *damaged)
{
	struct flow_source_options source = {
		.command = "flowsift graph", .filter_text = opt->filter_text,
		.config_path = opt->config_path, .topic = opt->topic,
		.from_ms = opt->from_ms, .to_ms = opt->to_ms, .no_scale = opt->no_scale,
	};
	int64_t range_s = opt->window_s, end_s = -1, step_s, npoints;
	struct flow_source_stats stats;
	struct fs_graph_acc_stats acc_stats;
	struct fs_graph_acc *acc;
	int status;

	if (opt->topic || opt->from_ms >= 0 || opt->to_ms >= 0) {
		/*
		 * A topic range, and a range of files given with --from or --to, is
		 * fixed: --to back to --from (default the window).  Without --to
		 * the graph ends with the current second.
		 */
		end_s = opt->to_ms >= 0 ? opt->to_ms / 1000 : (int64_t)time(NULL) + 1;
		if (opt->from_ms >= 0)
			range_s = end_s - opt->from_ms / 1000;
		source.from_ms = (end_s - range_s) * 1000;
	}
	step_s = fs_graph_step_for_range(range_s);
	if (step_s <= 0) {
		fprintf(stderr, "flowsift graph: the range from --from to --to must be positive and at "
				"most %d days\n", FS_GRAPH_MAX_POINTS);
		return 2;
	}
	npoints = (range_s + step_s - 1) / step_s;
	if (end_s >= 0) {
		/* An unaligned range touches one more bucket; the first bucket must contain --from. */
		npoints = (end_s + step_s - 1) / step_s - (end_s - range_s) / step_s;
		if (npoints > FS_GRAPH_MAX_POINTS)
			npoints = FS_GRAPH_MAX_POINTS;
	}
	acc = fs_graph_acc_new(opt->by, opt->metric, step_s, (int)npoints, end_s, services);
	if (!acc) {
		fprintf(stderr, "flowsift graph: out of memory\n");
		return 1;
	}
	status = flow_source_read(&source, nfiles, files, add_flow, acc, &stats);
	if (status == 0 && fs_graph_acc_finish(acc, opt->n, out) < 0) {
		fprintf(stderr, "flowsift graph: out of memory\n");
		status = 1;
	}
	fs_graph_acc_stats(acc, &acc_stats);
	fs_graph_acc_free(acc);
	if (status != 0)
		return status;
	fprintf(stderr, "%" PRIu64 " flows read, %" PRIu64 " matched%s, %" PRIu64
		" outside the range, %" PRIu64 " drawn\n", stats.flows, stats.matched,
		opt->filter_text ? " the filter" : "", stats.outside + acc_stats.outside,
		acc_stats.added);
	fprintf(stderr, "%s\n", stats.scaling);
	if (acc_stats.untracked)
		fprintf(stderr, "flowsift graph: %" PRIu64 " flows of members beyond the first %d "
				"are drawn in \"other\"\n", acc_stats.untracked, FS_GRAPH_MAX_KEYS);
	if (out->npoints == 0) {
		fprintf(stderr, "flowsift graph: no flows to draw%s\n",
			opt->filter_text ? " (none matched the filter)" : "");
		return 1;
	}
	*damaged = stats.damaged > 0;
	return 0;
}

/* ---- main ---- */

static void
describe_source(const struct options *opt, int nfiles, char **files, bool live, char *buf,
		size_t len)
{
	if (live)
		snprintf(buf, len, "live counters in Redis");
	else if (opt->topic)
		snprintf(buf, len, "topic %s", opt->topic);
	else if (nfiles == 1)
		snprintf(buf, len, "%s", strrchr(files[0], '/') ? strrchr(files[0], '/') + 1 : files[0]);
	else
		snprintf(buf, len, "%d files", nfiles);
}

int
cmd_graph(int argc, char **argv)
{
	struct options opt = {
		.by = FS_GRAPH_BY_PROTO, .metric = FS_GRAPH_BITS, .window_s = 3600,
		.n = DEFAULT_TOP, .zone = "UTC", .out = DEFAULT_OUT,
		.format = FS_GRAPH_PNG, .width = DEFAULT_WIDTH, .height = DEFAULT_HEIGHT,
		.from_ms = -1, .to_ms = -1,
	};
	struct fs_graph_series *series = NULL;
	bool damaged = false;
	struct fs_services *services = NULL;
	struct fs_graph_style style = { 0 };
	char err[512], source[96];
	int nfiles, rc;
	bool live;

	rc = parse_options(argc, argv, &opt);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	nfiles = argc - optind;
	/* Libraries log to stderr; only errors matter to a one-shot command. */
	fs_log_set_level(FS_LOG_ERR);
	if (opt.topic && nfiles > 0) {
		fprintf(stderr, "flowsift graph: give FILE arguments or --topic, not both\n");
		return 2;
	}
	live = nfiles == 0 && !opt.topic;
	if (time_range_check(&(struct time_range){ opt.from_ms, opt.to_ms }, "flowsift graph") < 0)
		return 2;
	if ((opt.from_ms >= 0 || opt.to_ms >= 0) && live) {
		fprintf(stderr, "flowsift graph: --from and --to select flows of FILE arguments or "
				"--topic; the live counters use --window\n");
		return 2;
	}
	if (live && opt.no_scale) {
		fprintf(stderr, "flowsift graph: --no-scale needs FILE arguments or --topic; the live "
				"counters are already scaled by the sampling rate\n");
		return 2;
	}
	if (live && (opt.filter_text || (opt.window_s != 3600 && opt.window_s != 86400))) {
		fprintf(stderr, "flowsift graph: the live counters serve --window 1h and 24h without "
				"-f; give FILE arguments or --topic for %s\n",
			opt.filter_text ? "a filter" : "other windows");
		return 2;
	}
	if (fs_graph_zone_apply(opt.zone) < 0) {
		fprintf(stderr, "flowsift graph: setting the time zone '%s' failed\n", opt.zone);
		return 1;
	}
	series = calloc(1, sizeof(*series));
	if (!series)
		return 1;
	if (opt.by == FS_GRAPH_BY_SERVICE && fs_services_load(NULL, &services, err, sizeof(err)) < 0)
		fprintf(stderr, "flowsift graph: %s; ports stay unnamed\n", err);
	if (live)
		rc = read_live(&opt, services, series);
	else
		rc = read_flows(&opt, nfiles, argv + optind, services, series, &damaged);
	if (rc != 0)
		goto out;
	describe_source(&opt, nfiles, argv + optind, live, source, sizeof(source));
	style.width = opt.width;
	style.height = opt.height;
	set_titles(&opt, series, source, &style);
	if (fs_graph_render(series, &style, opt.format, opt.out, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift graph: %s\n", err);
		rc = 1;
		goto out;
	}
	fprintf(stderr, "wrote %s (%dx%d)\n", opt.out, opt.width, opt.height);
	/* The graph shows what was read, and exit status 1 shows a script that a file was cut short. */
	rc = damaged ? 1 : 0;
out:
	fs_graph_render_release_caches();
	fs_services_free(services);
	free(series);
	return rc;
}
