/*
 * report_cmd.c - `flowsift report`: flow-report style reports from the live
 * Redis counters or from flows in capture and archive files, and the list
 * of alerts.
 *
 * Without FILE arguments or --topic the report reads the rolling counters
 * that flowsift-report keeps in Redis (pkg/redis/topn.h), which contain
 * every type but alerts.  Their members are rewritten into the keys that
 * files give (tcp, AS64500, "a -> b").  An interface stays exporter/ifIndex
 * because the counters keep no interface names.  Otherwise it decodes every flow of the files
 * (pcap, pcapng, raw datagrams, or Avro archive files) or of a time range
 * of a Kafka topic, keeps those that match the -f filter, and sums them per
 * key, so any type is available.  Both rank the same way: by the chosen metric, largest first,
 * ties in ascending key order.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alert/alert.h"
#include "alert_rows.h"
#include "cli_redis.h"
#include "commands.h"
#include "config/config.h"
#include "core/count.h"
#include "core/log.h"
#include "core/result.h"
#include "detect/detect.h"
#include "flow_source.h"
#include "member_text.h"
#include "redis/redis_url.h"
#include "redis/topn.h"
#include "redis/topn_rollup.h"
#include "time_range.h"

#define KEY_MAX 112
#define MAX_ROWS 100000
#define MAX_ALERT_ROWS 1000

enum report_type {
	TYPE_SRC,
	TYPE_DST,
	TYPE_CONVERSATIONS,
	TYPE_PORTS,
	TYPE_PROTOCOLS,
	TYPE_SRC_AS,
	TYPE_DST_AS,
	TYPE_SRC_COUNTRY,
	TYPE_DST_COUNTRY,
	TYPE_IN_IF,
	TYPE_OUT_IF,
	TYPE_EXPORTERS,
	TYPE_TIMESERIES,
	TYPE_ALERTS,
	TYPE_COUNT
};

struct type_info {
	const char *name;
	const char *column;
	int live_dim;           /* enum fs_topn_dim, or -1 when only flows have it */
	const char *summary;
};

static const struct type_info types[TYPE_COUNT] = {
	[TYPE_SRC] = { "src", "src_addr", FS_TOPN_SRC_ADDR, "top source addresses" },
	[TYPE_DST] = { "dst", "dst_addr", FS_TOPN_DST_ADDR, "top destination addresses" },
	[TYPE_CONVERSATIONS] = { "conversations", "conversation", FS_TOPN_CONVERSATION,
				 "top source -> destination pairs" },
	[TYPE_PORTS] = { "ports", "dst_port", FS_TOPN_DST_PORT, "top destination ports" },
	[TYPE_PROTOCOLS] = { "protocols", "proto", FS_TOPN_PROTO, "IP protocols" },
	[TYPE_SRC_AS] = { "src_as", "src_as", FS_TOPN_SRC_AS, "top source AS numbers" },
	[TYPE_DST_AS] = { "dst_as", "dst_as", FS_TOPN_DST_AS, "top destination AS numbers" },
	[TYPE_SRC_COUNTRY] = { "src_country", "src_country", FS_TOPN_SRC_COUNTRY,
			       "top source countries of enriched flows" },
	[TYPE_DST_COUNTRY] = { "dst_country", "dst_country", FS_TOPN_DST_COUNTRY,
			       "top destination countries of enriched flows" },
	[TYPE_IN_IF] = { "in_if", "exporter/in_if", FS_TOPN_IN_IF,
			 "top input interfaces per exporter (live: by ifIndex)" },
	[TYPE_OUT_IF] = { "out_if", "exporter/out_if", FS_TOPN_OUT_IF,
			  "top output interfaces per exporter (live: by ifIndex)" },
	[TYPE_EXPORTERS] = { "exporters", "exporter", FS_TOPN_EXPORTER, "top exporters" },
	[TYPE_TIMESERIES] = { "timeseries", "time", -1,
			      "totals per minute of flow start (live: per bucket of arrival), in time order" },
	[TYPE_ALERTS] = { "alerts", "alert", -1, "open and recently cleared alerts" },
};

enum output_format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

struct row {
	char key[KEY_MAX];
	uint64_t bytes;
	uint64_t packets;
	uint64_t flows;
};

/* Sums per key in an open-addressing table that doubles when half full. */
struct table {
	struct row *rows;
	size_t size;       /* slots, a power of two */
	size_t count;
};

struct options {
	enum report_type type;
	enum fs_topn_metric metric;
	enum fs_topn_window window;
	int n;
	enum output_format format;
	const char *filter_text;
	const char *config_path;
	const char *topic;       /* read flows from this topic instead of files */
	int64_t from_ms;         /* -1: the start of the topic */
	int64_t to_ms;           /* -1: the end of the topic at start */
	bool no_scale;           /* sum counters as exported, not scaled by the sampling rate */
	const char *counter_option; /* the last option given that only counter reports take */
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift report TYPE [--metric METRIC] [--window WINDOW] [--top N]\n"
		"                       [--format table|csv|json] [-f FILTER] [--config FILE]\n"
		"                       [FILE... | --topic TOPIC] [--from TIME] [--to TIME]\n"
		"\n"
		"Without FILE or --topic, reports from the live counters in Redis (every\n"
		"type) or lists the alerts (type alerts).  With FILE arguments\n"
		"(pcap, pcapng, raw NetFlow/IPFIX datagrams, or Avro archive files) or a\n"
		"Kafka topic of flows, reports from those flows, for any type.\n"
		"\n"
		"types:\n");
	for (int t = 0; t < TYPE_COUNT; t++)
		fprintf(out, "  %-13s %s%s\n", types[t].name, types[t].summary,
			types[t].live_dim >= 0 || t == TYPE_TIMESERIES ? " (live or flows)"
			: t == TYPE_ALERTS ? " (live)" : " (flows)");
	fprintf(out, "\nThe dimension names of 'flowsift top --by' name the same types:\n");
	for (int t = 0; t < TYPE_COUNT; t++) {
		const char *dim = types[t].live_dim >= 0 ? fs_topn_dim_name(types[t].live_dim) : NULL;

		if (dim && strcmp(dim, types[t].name) != 0)
			fprintf(out, "  %-13s same as %s\n", dim, types[t].name);
	}
	fprintf(out,
		"\n"
		"options:\n"
		"  --metric METRIC  rank by bytes, packets or flows (default bytes)\n"
		"  --window WINDOW  live window: 1m, 5m, 1h or 24h (default 5m)\n"
		"  --top N          number of rows, 1 to %d (default 10; timeseries: all)\n"
		"  --format FORMAT  table, csv, or json (an array of objects)\n"
		"  -f, --filter EXPR  keep only the flows that match EXPR (docs/filter.md);\n"
		"                   files and topics only\n"
		"  --topic TOPIC    read the flows of TOPIC (flows.raw, flows.enriched, ...)\n"
		"  --from TIME      files and topics: Unix seconds, 2026-01-31T12:00:00Z,\n"
		"                   2026-01-31, now, or an age such as -15m, -2h, -1d\n"
		"                   (default: the oldest);\n"
		"                   a topic is read from the first message with this\n"
		"                   timestamp, files keep the flows received\n"
		"                   (time_received_ns) at or after it, and archive files\n"
		"                   that hold only older flows are not read\n"
		"  --to TIME        end of the range, exclusive (default: the newest message\n"
		"                   at start; for files, no end)\n"
		"  --no-scale       files and topics: sum bytes and packets as exported, also\n"
		"                   for flows that flowsift-enrich scaled; by default sampled\n"
		"                   counters are multiplied by the sampling rate as enrich\n"
		"                   does (flows it scaled stay as they are), and the table\n"
		"                   output says which applies\n"
		"  --config FILE    read settings from FILE\n"
		"  -h, --help       print this help and exit\n"
		"\n"
		"examples:\n"
		"  flowsift report src --window 1h --top 20\n"
		"  flowsift report conversations -f 'dst port 445' capture.pcap\n"
		"  flowsift report timeseries --format csv archive/*.avro\n"
		"  flowsift report ports --topic flows.enriched --from -15m\n"
		"  flowsift report src archive/ --from -5m\n"
		"  flowsift report alerts\n", FS_TOPN_MAX_N);
}

/* ---- key table ---- */

static uint64_t
hash_text(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	while (*s)
		h = (h ^ (uint8_t)*s++) * UINT64_C(1099511628211);
	return h;
}

static struct row *
table_slot(struct row *rows, size_t size, const char *key)
{
	size_t i = (size_t)hash_text(key) & (size - 1);

	while (rows[i].key[0] && strcmp(rows[i].key, key) != 0)
		i = (i + 1) & (size - 1);
	return &rows[i];
}

static int
table_grow(struct table *t)
{
	size_t size = t->size ? t->size * 2 : 1024;
	struct row *rows = calloc(size, sizeof(*rows));

	if (!rows)
		return -1;
	for (size_t i = 0; i < t->size; i++) {
		if (t->rows[i].key[0])
			*table_slot(rows, size, t->rows[i].key) = t->rows[i];
	}
	free(t->rows);
	t->rows = rows;
	t->size = size;
	return 0;
}

static int
table_add(struct table *t, const char *key, const struct fs_flow *flow)
{
	struct row *r;

	if ((t->count + 1) * 2 > t->size && table_grow(t) < 0)
		return -1;
	r = table_slot(t->rows, t->size, key);
	if (!r->key[0]) {
		snprintf(r->key, sizeof(r->key), "%s", key);
		t->count++;
	}
	r->bytes = fs_count_add(r->bytes, fs_flow_has(flow, FS_F_BYTES) ? flow->bytes : 0);
	r->packets = fs_count_add(r->packets, fs_flow_has(flow, FS_F_PACKETS) ? flow->packets : 0);
	r->flows++;
	return 0;
}

/* ---- keys of one flow ---- */

static void
interface_key(const struct fs_flow *flow, bool in, char *key, size_t len)
{
	char exporter[FS_ADDR_STRLEN];
	const char *name = in ? flow->in_if_name : flow->out_if_name;
	bool named = fs_flow_has(flow, in ? FS_F_IN_IF_NAME : FS_F_OUT_IF_NAME);

	fs_addr_format(&flow->exporter_addr, exporter);
	if (named)
		snprintf(key, len, "%s/%s", exporter, name);
	else
		snprintf(key, len, "%s/%u", exporter, in ? flow->in_if : flow->out_if);
}

/* Writes the key of flow for type into key; returns false when the flow has none. */
static bool
flow_key(enum report_type type, const struct fs_flow *flow, char *key, size_t len)
{
	char a[FS_ADDR_STRLEN], b[FS_ADDR_STRLEN], num[16];
	int64_t t;
	time_t minute;
	struct tm tm;

	switch (type) {
	case TYPE_SRC:
		if (!fs_flow_has(flow, FS_F_SRC_ADDR))
			return false;
		fs_addr_format(&flow->src_addr, key);
		return true;
	case TYPE_DST:
		if (!fs_flow_has(flow, FS_F_DST_ADDR))
			return false;
		fs_addr_format(&flow->dst_addr, key);
		return true;
	case TYPE_CONVERSATIONS:
		if (!fs_flow_has(flow, FS_F_SRC_ADDR) || !fs_flow_has(flow, FS_F_DST_ADDR))
			return false;
		snprintf(key, len, "%s -> %s", fs_addr_format(&flow->src_addr, a),
			 fs_addr_format(&flow->dst_addr, b));
		return true;
	case TYPE_PORTS:
		if (!fs_flow_has(flow, FS_F_DST_PORT))
			return false;
		snprintf(key, len, "%u", flow->dst_port);
		return true;
	case TYPE_PROTOCOLS:
		if (!fs_flow_has(flow, FS_F_PROTO))
			return false;
		snprintf(key, len, "%s", member_proto_text(flow->proto, num, sizeof(num)));
		return true;
	case TYPE_SRC_AS:
	case TYPE_DST_AS:
		if (!fs_flow_has(flow, type == TYPE_SRC_AS ? FS_F_SRC_AS : FS_F_DST_AS))
			return false;
		snprintf(key, len, "AS%" PRIu32, type == TYPE_SRC_AS ? flow->src_as : flow->dst_as);
		return true;
	case TYPE_SRC_COUNTRY:
	case TYPE_DST_COUNTRY:
		if (!fs_flow_has(flow, type == TYPE_SRC_COUNTRY ? FS_F_SRC_COUNTRY : FS_F_DST_COUNTRY))
			return false;
		snprintf(key, len, "%s", type == TYPE_SRC_COUNTRY ? flow->src_country : flow->dst_country);
		return true;
	case TYPE_IN_IF:
	case TYPE_OUT_IF:
		if (!fs_flow_has(flow, type == TYPE_IN_IF ? FS_F_IN_IF : FS_F_OUT_IF))
			return false;
		interface_key(flow, type == TYPE_IN_IF, key, len);
		return true;
	case TYPE_EXPORTERS:
		fs_addr_format(&flow->exporter_addr, key);
		return true;
	case TYPE_TIMESERIES:
		t = fs_flow_has(flow, FS_F_TIME_FLOW_START) ? flow->time_flow_start_ns
							     : flow->time_received_ns;
		minute = (time_t)(t / INT64_C(60000000000) * 60);
		gmtime_r(&minute, &tm);
		strftime(key, len, "%Y-%m-%dT%H:%MZ", &tm);
		return true;
	default:
		return false;
	}
}

/* ---- ranking and output ---- */

static enum fs_topn_metric sort_metric;

static uint64_t
row_value(const struct row *r, enum fs_topn_metric m)
{
	if (m == FS_TOPN_BYTES)
		return r->bytes;
	if (m == FS_TOPN_PACKETS)
		return r->packets;
	return r->flows;
}

static int
compare_rank(const void *a, const void *b)
{
	uint64_t x = row_value(a, sort_metric), y = row_value(b, sort_metric);

	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(((const struct row *)a)->key, ((const struct row *)b)->key);
}

static int
compare_key(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->key, ((const struct row *)b)->key);
}

/* Prints text as one quoted CSV field (RFC 4180): quotes inside are doubled. */
static void
print_csv_text(const char *text)
{
	putchar('"');
	for (const char *c = text; *c; c++) {
		if (*c == '"')
			putchar('"');
		putchar(*c);
	}
	putchar('"');
}

static void
print_rows(const struct options *opt, const struct row *rows, size_t n)
{
	const char *column = types[opt->type].column;

	if (opt->format == FORMAT_JSON) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I}", "key", rows[i].key,
							     "bytes", (json_int_t)rows[i].bytes,
							     "packets", (json_int_t)rows[i].packets,
							     "flows", (json_int_t)rows[i].flows));
		json_dumpf(arr, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(arr);
		return;
	}
	if (opt->format == FORMAT_CSV) {
		printf("%s,bytes,packets,flows\n", column);
		for (size_t i = 0; i < n; i++) {
			print_csv_text(rows[i].key);
			printf(",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", rows[i].bytes, rows[i].packets,
			       rows[i].flows);
		}
		return;
	}
	printf("%-40s %16s %14s %12s\n", column, "bytes", "packets", "flows");
	for (size_t i = 0; i < n; i++)
		printf("%-40s %16" PRIu64 " %14" PRIu64 " %12" PRIu64 "\n", rows[i].key, rows[i].bytes,
		       rows[i].packets, rows[i].flows);
}

struct flow_sums {
	enum report_type type;
	struct table table;
	bool out_of_memory;
};

static int
add_flow(const struct fs_flow *flow, void *opaque)
{
	struct flow_sums *sums = opaque;
	char key[KEY_MAX];

	if (!flow_key(sums->type, flow, key, sizeof(key)))
		return 0;
	if (table_add(&sums->table, key, flow) < 0) {
		sums->out_of_memory = true;
		return -1;
	}
	return 0;
}

/* Prints how many flows were read, outside --from/--to and matched, on stderr. */
static void
print_read_stats(const struct options *opt, const struct flow_source_stats *stats)
{
	fprintf(stderr, "%" PRIu64 " flows read", stats->flows);
	if (stats->outside || stats->files_skipped)
		fprintf(stderr, ", %" PRIu64 " received outside --from/--to", stats->outside);
	if (stats->files_skipped)
		fprintf(stderr, " (%" PRIu64 " archive files before --from not read)",
			stats->files_skipped);
	fprintf(stderr, ", %" PRIu64 " matched%s\n", stats->matched,
		opt->filter_text ? " the filter" : "");
}

static int
report_files(const struct options *opt, int nfiles, char **files)
{
	struct flow_source_options source = {
		.command = "flowsift report", .filter_text = opt->filter_text,
		.config_path = opt->config_path, .topic = opt->topic,
		.from_ms = opt->from_ms, .to_ms = opt->to_ms, .no_scale = opt->no_scale,
	};
	struct flow_sums sums = { .type = opt->type };
	struct flow_source_stats stats;
	struct row *rows = NULL;
	size_t n = 0;
	int status;

	status = flow_source_read(&source, nfiles, files, add_flow, &sums, &stats);
	if (sums.out_of_memory)
		fprintf(stderr, "flowsift report: out of memory\n");
	if (status != 0)
		goto out;
	status = 1;
	rows = calloc(sums.table.count ? sums.table.count : 1, sizeof(*rows));
	if (!rows)
		goto out;
	for (size_t i = 0; i < sums.table.size; i++) {
		if (sums.table.rows[i].key[0])
			rows[n++] = sums.table.rows[i];
	}
	sort_metric = opt->metric;
	if (opt->type == TYPE_TIMESERIES) {
		qsort(rows, n, sizeof(*rows), compare_key);
	} else {
		qsort(rows, n, sizeof(*rows), compare_rank);
		if (n > (size_t)opt->n)
			n = (size_t)opt->n;
	}
	print_rows(opt, rows, n);
	fflush(stdout);
	if (opt->format == FORMAT_TABLE) {
		print_read_stats(opt, &stats);
		fprintf(stderr, "%s\n", stats.scaling);
	}
	/* The report covers what was read, and exit status 1 shows a script that a file was cut short. */
	status = stats.damaged ? 1 : 0;
out:
	free(rows);
	free(sums.table.rows);
	return status;
}

/* ---- live ---- */

/* Sums the scores of the sorted sets KEYS on the server; returns a decimal string. */
static const char sum_script[] =
	"local t = 0\n"
	"for _, key in ipairs(KEYS) do\n"
	"  local r = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')\n"
	"  for i = 2, #r, 2 do t = t + tonumber(r[i]) end\n"
	"end\n"
	"return string.format('%.0f', t)\n";

/*
 * Sums one metric of the source addresses over the bucket of the window's
 * resolution that starts at start: the bucket itself once rolled up, else
 * its finer buckets (pkg/redis/topn_rollup.h).  Returns 0, or -1 (printed).
 */
static int
sum_bucket(redisContext *ctx, const struct options *opt, int64_t start, int64_t now,
	   enum fs_topn_metric metric, uint64_t *sum)
{
	struct fs_topn_sources *sources = malloc(sizeof(*sources));
	const char **argv = NULL;
	char (*keys)[128] = NULL;
	char nkeys[16];
	redisReply *r = NULL;
	int rc = -1;

	if (!sources ||
	    fs_topn_sources_resolve(ctx, (int)opt->window, &start, 1, now, sources) < 0)
		goto out;
	keys = malloc(sizeof(*keys) * (size_t)sources->count);
	argv = malloc(sizeof(*argv) * (size_t)(sources->count + 3));
	if (!keys || !argv)
		goto out;
	snprintf(nkeys, sizeof(nkeys), "%d", sources->count);
	argv[0] = "EVAL";
	argv[1] = sum_script;
	argv[2] = nkeys;
	for (int i = 0; i < sources->count; i++) {
		fs_topn_span_key(&sources->spans[i], FS_TOPN_SRC_ADDR, metric, keys[i],
				 sizeof(keys[i]));
		argv[3 + i] = keys[i];
	}
	r = redisCommandArgv(ctx, sources->count + 3, argv, NULL);
	if (r && r->type == REDIS_REPLY_STRING) {
		*sum = fs_count_clamp(strtoull(r->str, NULL, 10));
		rc = 0;
	}
out:
	if (rc < 0) {
		char what[64];

		snprintf(what, sizeof(what), "the %s bucket at %lld", fs_topn_window_name(opt->window),
			 (long long)start);
		cli_redis_query_failed("flowsift report", what, ctx,
				       r && r->type == REDIS_REPLY_ERROR ? r->str : NULL);
	}
	if (r)
		freeReplyObject(r);
	free(argv);
	free(keys);
	free(sources);
	return rc;
}

/*
 * Prints the live totals per bucket of the window's resolution (1 min for
 * 5m), summed over the source addresses, oldest first.
 */
static int
report_live_timeseries(const struct options *opt, redisContext *ctx)
{
	int nbuckets = fs_topn_window_buckets(opt->window);
	int64_t resolution = fs_topn_window_resolution(opt->window);
	int64_t now = (int64_t)time(NULL);
	struct row rows[24];

	for (int b = 0; b < nbuckets && b < 24; b++) {
		int64_t at = now - (int64_t)(nbuckets - 1 - b) * resolution;
		time_t start = (time_t)(at - at % resolution);
		struct tm tm;
		uint64_t *sums[FS_TOPN_METRIC_COUNT] = { &rows[b].bytes, &rows[b].packets,
							  &rows[b].flows };

		gmtime_r(&start, &tm);
		strftime(rows[b].key, sizeof(rows[b].key), "%Y-%m-%dT%H:%MZ", &tm);
		for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++) {
			if (sum_bucket(ctx, opt, (int64_t)start, now, (enum fs_topn_metric)m,
				       sums[m]) < 0)
				return 1;
		}
	}
	print_rows(opt, rows, (size_t)(nbuckets < 24 ? nbuckets : 24));
	return 0;
}

static int
report_live(const struct options *opt)
{
	struct fs_topn_row *trows = NULL;
	struct row *rows = NULL;
	redisContext *ctx;
	int nrows = 0, status = 1, rc;
	/*
	 * Rewritten keys sort differently from the members among ties, so
	 * conversations and protocols read FS_TOPN_MAX_N rows, rank them by
	 * the new keys and keep the first n.
	 */
	int fetch = opt->type == TYPE_CONVERSATIONS || opt->type == TYPE_PROTOCOLS ? FS_TOPN_MAX_N
										 : opt->n;

	if (types[opt->type].live_dim < 0 && opt->type != TYPE_TIMESERIES) {
		fprintf(stderr, "flowsift report: the live counters in Redis have no type '%s'; "
				"give capture or archive files, or --topic\n", types[opt->type].name);
		return 2;
	}
	if (opt->filter_text) {
		fprintf(stderr, "flowsift report: -f applies to flows in files or a topic; the live "
				"counters are already summed\n");
		return 2;
	}
	ctx = cli_redis_open(opt->config_path, "flowsift report");
	if (!ctx)
		return 1;
	if (opt->type == TYPE_TIMESERIES) {
		status = report_live_timeseries(opt, ctx);
		redisFree(ctx);
		return status;
	}
	trows = calloc((size_t)fetch, sizeof(*trows));
	rows = calloc((size_t)fetch, sizeof(*rows));
	if (!trows || !rows)
		goto out;
	rc = fs_topn_query(ctx, (enum fs_topn_dim)types[opt->type].live_dim, opt->metric,
			   opt->window, fetch, (int64_t)time(NULL), trows, &nrows);
	if (rc < 0) {
		cli_redis_query_failed("flowsift report", "the counters", ctx, NULL);
		goto out;
	}
	for (int i = 0; i < nrows; i++) {
		member_text((enum fs_topn_dim)types[opt->type].live_dim, trows[i].key, rows[i].key,
			    sizeof(rows[i].key));
		rows[i].bytes = trows[i].bytes;
		rows[i].packets = trows[i].packets;
		rows[i].flows = trows[i].flows;
	}
	sort_metric = opt->metric;
	qsort(rows, (size_t)nrows, sizeof(*rows), compare_rank);
	if (nrows > opt->n)
		nrows = opt->n;
	print_rows(opt, rows, (size_t)nrows);
	status = 0;
out:
	free(trows);
	free(rows);
	redisFree(ctx);
	return status;
}

/* ---- alerts ---- */

/* Appends the alert JSON strings of reply to alerts (an array). */
static void
collect_json(const redisReply *reply, json_t *alerts, int open)
{
	for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		const redisReply *r = reply->element[i];
		struct fs_alert a;
		char text[FS_ALERT_JSON_MAX];
		json_t *obj;

		if (r->type != REDIS_REPLY_STRING || fs_alert_parse_json(r->str, r->len, &a) < 0)
			continue;
		if (fs_alert_format_json(&a, text, sizeof(text)) < 0)
			continue;
		obj = json_loads(text, 0, NULL);
		if (!obj)
			continue;
		json_object_set_new(obj, "open", json_boolean(open));
		json_array_append_new(alerts, obj);
	}
}

static int
report_alerts(const struct options *opt)
{
	redisContext *ctx = cli_redis_open(opt->config_path, "flowsift report");
	redisReply *keys = NULL, *recent = NULL, *open = NULL;
	json_t *alerts = json_array();
	size_t i;
	json_t *a;
	int status = 1;

	if (!ctx) {
		json_decref(alerts);
		return 1;
	}
	keys = redisCommand(ctx, "ZREVRANGE " FS_DETECT_OPEN_KEY " 0 %d", MAX_ALERT_ROWS - 1);
	recent = redisCommand(ctx, "ZREVRANGE " FS_DETECT_RECENT_KEY " 0 %d", MAX_ALERT_ROWS - 1);
	if (!keys || !recent || keys->type != REDIS_REPLY_ARRAY) {
		const redisReply *bad = keys && keys->type == REDIS_REPLY_ERROR ? keys : recent;

		cli_redis_query_failed("flowsift report", "the alerts", ctx,
				       bad && bad->type == REDIS_REPLY_ERROR ? bad->str : NULL);
		goto out;
	}
	for (i = 0; i < keys->elements; i++)
		redisAppendCommand(ctx, "HGET %s json", keys->element[i]->str);
	open = calloc(1, sizeof(*open));
	if (!open)
		goto out;
	open->type = REDIS_REPLY_ARRAY;
	open->element = calloc(keys->elements ? keys->elements : 1, sizeof(*open->element));
	if (!open->element)
		goto out;
	for (i = 0; i < keys->elements; i++) {
		void *r = NULL;

		if (redisGetReply(ctx, &r) != REDIS_OK || !r)
			goto out;
		open->element[open->elements++] = r;
	}
	collect_json(open, alerts, 1);
	collect_json(recent, alerts, 0);

	if (opt->format == FORMAT_JSON) {
		json_dumpf(alerts, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		enum alert_rows_format rows_format = opt->format == FORMAT_CSV ? ALERT_ROWS_CSV
									       : ALERT_ROWS_TABLE;

		alert_rows_header(rows_format);
		json_array_foreach(alerts, i, a) {
			alert_rows_print(a, json_is_true(json_object_get(a, "open")) ? "open" : "cleared",
					 rows_format);
		}
		if (opt->format == FORMAT_TABLE && json_array_size(alerts) == 0)
			printf("no open or recently cleared alerts\n");
	}
	status = 0;
out:
	if (open)
		freeReplyObject(open);
	if (keys)
		freeReplyObject(keys);
	if (recent)
		freeReplyObject(recent);
	json_decref(alerts);
	redisFree(ctx);
	return status;
}

/* ---- main ---- */

/*
 * Returns the report type named name, or whose live dimension `flowsift
 * top --by` names name (src_addr for src, dst_port for ports), or -1.
 */
static int
find_type(const char *name)
{
	enum fs_topn_dim dim;

	for (int t = 0; t < TYPE_COUNT; t++) {
		if (strcmp(name, types[t].name) == 0)
			return t;
	}
	if (fs_topn_dim_parse(name, &dim) < 0)
		return -1;
	for (int t = 0; t < TYPE_COUNT; t++) {
		if (types[t].live_dim == (int)dim)
			return t;
	}
	return -1;
}

static int
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option options[] = {
		{ "metric", required_argument, NULL, 'm' },
		{ "window", required_argument, NULL, 'w' },
		{ "top", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'F' },
		{ "filter", required_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "topic", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 'b' },
		{ "no-scale", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	long n;

	while ((c = getopt_long(argc, argv, "m:w:n:F:f:c:h", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			opt->counter_option = "--metric";
			if (fs_topn_metric_parse(optarg, &opt->metric) < 0) {
				fprintf(stderr, "flowsift report: unknown metric '%s'; use bytes, packets or flows\n",
					optarg);
				return 2;
			}
			break;
		case 'w':
			opt->counter_option = "--window";
			if (fs_topn_window_parse(optarg, &opt->window) < 0) {
				fprintf(stderr, "flowsift report: unknown window '%s'; use 1m, 5m, 1h or 24h\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			opt->counter_option = "--top";
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > FS_TOPN_MAX_N) {
				fprintf(stderr, "flowsift report: --top takes a number from 1 to %d, not '%s'\n",
					FS_TOPN_MAX_N, optarg);
				return 2;
			}
			opt->n = (int)n;
			break;
		case 'F':
			if (strcmp(optarg, "table") == 0)
				opt->format = FORMAT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				opt->format = FORMAT_CSV;
			else if (strcmp(optarg, "json") == 0)
				opt->format = FORMAT_JSON;
			else {
				fprintf(stderr, "flowsift report: unknown format '%s'; use table, csv or json\n",
					optarg);
				return 2;
			}
			break;
		case 'f': opt->filter_text = optarg; opt->counter_option = "--filter"; break;
		case 'c': opt->config_path = optarg; break;
		case 't': opt->topic = optarg; break;
		case 'S': opt->no_scale = true; opt->counter_option = "--no-scale"; break;
		case 'a':
		case 'b':
			if (flow_source_parse_time(optarg, (int64_t)time(NULL),
						   c == 'a' ? &opt->from_ms : &opt->to_ms) < 0) {
				fprintf(stderr, "flowsift report: invalid time '%s' for --%s; use Unix "
						"seconds, 2026-01-31T12:00:00Z or an age such as -15m\n",
					optarg, c == 'a' ? "from" : "to");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 1;
		default: usage_hint("report"); return 2;
		}
	}
	return 0;
}

int
cmd_report(int argc, char **argv)
{
	struct options opt = {
		.metric = FS_TOPN_BYTES, .window = FS_TOPN_5M, .n = 10, .from_ms = -1, .to_ms = -1,
	};
	bool has_flows;
	int rc, t;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "flowsift report: no report TYPE; give one of the types that "
				"'flowsift report --help' lists, such as src\n");
		return 2;
	}
	t = find_type(argv[1]);
	if (t < 0) {
		fprintf(stderr, "flowsift report: unknown report type '%s'; run 'flowsift report --help' "
				"for the list\n", argv[1]);
		return 2;
	}
	opt.type = (enum report_type)t;
	/*
	 * getopt starts after the type; it permutes options and files freely.
	 * The type's slot takes the program name, which getopt's messages show.
	 */
	argv[1] = argv[0];
	optind = 1;
	rc = parse_options(argc - 1, argv + 1, &opt);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	/* Libraries log to stderr; only errors matter to a one-shot command. */
	fs_log_set_level(FS_LOG_ERR);
	if (time_range_check(&(struct time_range){ opt.from_ms, opt.to_ms }, "flowsift report") < 0)
		return 2;
	has_flows = optind + 1 < argc || opt.topic;
	if ((opt.from_ms >= 0 || opt.to_ms >= 0) && opt.type == TYPE_ALERTS) {
		fprintf(stderr, "flowsift report: alerts lists the open alerts and those cleared in "
				"the last 24 hours, and takes no --from or --to\n");
		return 2;
	}
	if ((opt.from_ms >= 0 || opt.to_ms >= 0) && !has_flows) {
		fprintf(stderr, "flowsift report: --from and --to select flows of FILE arguments or "
				"--topic; the live counters use --window\n");
		return 2;
	}
	if (opt.type == TYPE_ALERTS) {
		/* Alerts are kept in Redis, and flows.alerts contains Avro alert records, not flows. */
		const char *rejected = opt.counter_option;

		if (opt.topic)
			rejected = "--topic";
		else if (has_flows)
			rejected = "FILE arguments";
		if (rejected) {
			fprintf(stderr, "flowsift report: alerts lists the open and recently cleared "
					"alerts kept in Redis and takes only --format and --config, not %s\n",
				rejected);
			return 2;
		}
		return report_alerts(&opt);
	}
	if (has_flows)
		return report_files(&opt, argc - 1 - optind, argv + 1 + optind);
	if (opt.no_scale) {
		fprintf(stderr, "flowsift report: --no-scale needs FILE arguments or --topic; the live "
				"counters are already scaled by the sampling rate\n");
		return 2;
	}
	return report_live(&opt);
}
