/*
 * stage.c - `flowsift-bench stage`: times one pipeline stage in this process,
 * on one thread, over captures held in memory.  The broker is not involved.
 *
 *   decode          fs_decoder_decode() of every datagram, a fresh decoder per
 *                   run (so templates are learned inside the timing)
 *   encode          decode, then fs_flow_codec_encode() of each flow
 *   encode-avro-c   decode, then fs_flow_codec_encode_generic() of each flow:
 *                   the same bytes through avro-c's generic value interface
 *   avro-decode     fs_flow_codec_decode() of each flow's Avro message, as
 *                   enrich, filter and report read flows.raw
 *   avro-decode-avro-c  the same through fs_flow_codec_decode_generic()
 *                   Both write the messages they read to --avro-out FILE too,
 *                   back to back as a Kafka message carries them, so that a
 *                   compressor's own benchmark (lz4 -b1) can time them.
 *   enrich          fs_enricher_apply() on a copy of each flow (the copy, as
 *                   the enrich worker makes one per flow, is timed too)
 *   filter          fs_filter_match() of --filter on each flow
 *   topn            fs_topn_batch_add() of each flow into a batch of the size
 *                   flowsift-report uses, emptied when full
 *   topn-redis      the same, flushed with fs_topn_flush() into --redis every
 *                   --flush-every flows and when the batch is full.  The
 *                   clock passed to each flush advances by --flush-seconds
 *                   (default 1), so roll-ups of closed buckets run as in
 *                   flowsift-report.  Redis's own CPU is not counted.
 *
 * The stages after decode run over up to STAGE_MAX_FLOWS flows decoded once
 * before timing.  Each run covers at least --min-flows flows, repeating the
 * input as needed; the median of --runs runs is printed as one line of
 * key=value pairs.  The timed loops are the functions named stage_loop_*,
 * so `valgrind --tool=callgrind --toggle-collect='stage_loop_*'` counts the
 * instructions of the stage alone.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "avro/flow_codec.h"
#include "bench.h"
#include "core/result.h"
#include "decode/decoder.h"
#include "enrich/enricher.h"
#include "filter/filter.h"
#include "redis/redis_url.h"
#include "redis/topn.h"

#define STAGE_MAX_RUNS 100
#define STAGE_MAX_FLOWS 65536
#define STAGE_TOPN_ENTRIES 65536   /* BATCH_ENTRIES of flowsift-report */

#define STAGE_NOINLINE __attribute__((noinline))

enum stage_kind { STAGE_DECODE, STAGE_ENCODE, STAGE_ENCODE_AVRO_C, STAGE_AVRO_DECODE,
		  STAGE_AVRO_DECODE_AVRO_C, STAGE_ENRICH, STAGE_FILTER, STAGE_TOPN,
		  STAGE_TOPN_REDIS };

static const char *const stage_names[] = { "decode", "encode", "encode-avro-c", "avro-decode",
					   "avro-decode-avro-c", "enrich", "filter", "topn",
					   "topn-redis" };

/* True for the stages that decode Avro messages made before timing. */
#define STAGE_READS_AVRO(kind) ((kind) == STAGE_AVRO_DECODE || (kind) == STAGE_AVRO_DECODE_AVRO_C)

/* True for the stages that decode the captures inside the timed loop. */
#define STAGE_DECODES(kind) \
	((kind) == STAGE_DECODE || (kind) == STAGE_ENCODE || (kind) == STAGE_ENCODE_AVRO_C)

struct stage_options {
	enum stage_kind kind;
	uint64_t runs;
	uint64_t min_flows;
	uint64_t flush_every;
	uint64_t flush_seconds;
	const char *filter;
	const char *redis;
	const char *avro_out;        /* avro-decode: where to write the messages, or NULL */
	struct fs_enrich_settings enrich;
	char **files;
	int nfiles;
};

struct stage_ctx {
	const struct stage_options *opt;
	struct bench_datagram_set set;
	struct fs_flow_codec *codec;
	struct fs_flow *flows;       /* decoded once, for the later stages */
	size_t nflows;
	uint8_t *messages;           /* avro-decode: each flow's message, back to back */
	size_t *message_offsets;     /* avro-decode: nflows + 1 offsets into messages */
	struct fs_enricher *enricher;
	struct fs_filter *filter;
	struct fs_topn_batch *batch;
	redisContext *redis;
	uint64_t sink_flows;
	uint64_t sink_bytes;
	uint64_t matches;
	int64_t topn_start_s;        /* wall clock when topn-redis starts */
	int64_t topn_now_s;          /* simulated clock of the topn-redis flushes */
	uint64_t errors;
};

static void
sink_count(const struct fs_flow *flow, void *opaque)
{
	struct stage_ctx *ctx = opaque;

	ctx->sink_flows++;
	ctx->sink_bytes += flow->bytes;
}

static void
sink_encode(const struct fs_flow *flow, void *opaque)
{
	struct stage_ctx *ctx = opaque;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	ctx->sink_flows++;
	if (fs_flow_codec_encode(ctx->codec, flow, buf, sizeof(buf), &len) != 0)
		ctx->errors++;
	ctx->sink_bytes += len;
}

static void
sink_encode_avro_c(const struct fs_flow *flow, void *opaque)
{
	struct stage_ctx *ctx = opaque;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	ctx->sink_flows++;
	if (fs_flow_codec_encode_generic(ctx->codec, flow, buf, sizeof(buf), &len) != 0)
		ctx->errors++;
	ctx->sink_bytes += len;
}

static void
sink_keep(const struct fs_flow *flow, void *opaque)
{
	struct stage_ctx *ctx = opaque;

	if (ctx->nflows < STAGE_MAX_FLOWS)
		ctx->flows[ctx->nflows++] = *flow;
}

/* Decodes every datagram loops times; outside the stage_loop_* names, callgrind skips it. */
static STAGE_NOINLINE void
decode_all(struct stage_ctx *ctx, struct fs_decoder *decoder, uint64_t loops, fs_flow_sink_fn *sink)
{
	const struct bench_datagram_set *set = &ctx->set;
	int64_t received = (int64_t)time(NULL) * 1000000000;

	for (uint64_t l = 0; l < loops; l++)
		for (size_t i = 0; i < set->count; i++) {
			const struct bench_datagram *d = &set->items[i];

			fs_decoder_decode(decoder, bench_datagram_data(set, d), d->len, &d->exporter,
					  d->exporter_port, received, sink, ctx);
		}
}

static STAGE_NOINLINE void
stage_loop_decode(struct stage_ctx *ctx, struct fs_decoder *decoder, uint64_t loops,
		  fs_flow_sink_fn *sink)
{
	decode_all(ctx, decoder, loops, sink);
}

static STAGE_NOINLINE void
stage_loop_avro_decode(struct stage_ctx *ctx, uint64_t count, bool avro_c)
{
	struct fs_flow out;

	for (uint64_t i = 0; i < count; i++) {
		size_t k = i % ctx->nflows;
		size_t start = ctx->message_offsets[k];
		size_t len = ctx->message_offsets[k + 1] - start;
		int rc;

		if (avro_c)
			rc = fs_flow_codec_decode_generic(ctx->codec, ctx->messages + start, len, &out);
		else
			rc = fs_flow_codec_decode(ctx->codec, ctx->messages + start, len, &out);
		if (rc != 0)
			ctx->errors++;
	}
}

static STAGE_NOINLINE void
stage_loop_enrich(struct stage_ctx *ctx, uint64_t count)
{
	struct fs_flow copy;

	for (uint64_t i = 0; i < count; i++) {
		copy = ctx->flows[i % ctx->nflows];
		fs_enricher_apply(ctx->enricher, &copy);
		ctx->sink_bytes += copy.bytes;
	}
}

static STAGE_NOINLINE void
stage_loop_filter(struct stage_ctx *ctx, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++)
		ctx->matches += fs_filter_match(ctx->filter, &ctx->flows[i % ctx->nflows]);
}

static STAGE_NOINLINE void
stage_loop_topn(struct stage_ctx *ctx, uint64_t count, uint64_t flush_every)
{
	for (uint64_t i = 0; i < count; i++) {
		const struct fs_flow *flow = &ctx->flows[i % ctx->nflows];
		int full = fs_topn_batch_add(ctx->batch, flow) == FS_ERR_FULL;

		if (full || (flush_every && (i + 1) % flush_every == 0)) {
			if (ctx->redis) {
				ctx->topn_now_s += (int64_t)ctx->opt->flush_seconds;
				if (fs_topn_flush(ctx->batch, ctx->redis, ctx->topn_now_s) != 0) {
					ctx->errors++;
					fs_topn_batch_reset(ctx->batch);
				}
			} else {
				fs_topn_batch_reset(ctx->batch);
			}
			if (full && fs_topn_batch_add(ctx->batch, flow) != 0)
				ctx->errors++;
		}
	}
	ctx->topn_now_s += (int64_t)ctx->opt->flush_seconds;
	if (ctx->redis && fs_topn_flush(ctx->batch, ctx->redis, ctx->topn_now_s) != 0)
		ctx->errors++;
	fs_topn_batch_reset(ctx->batch);
}

/* Runs the stage once over at least min_flows flows; returns the flows processed. */
static uint64_t
stage_run_once(struct stage_ctx *ctx)
{
	const struct stage_options *o = ctx->opt;
	uint64_t count;

	if (STAGE_DECODES(o->kind)) {
		uint64_t loops = (o->min_flows + ctx->set.flows - 1) / ctx->set.flows;
		struct fs_decoder *decoder = fs_decoder_new(NULL);
		fs_flow_sink_fn *sink = o->kind == STAGE_DECODE ? sink_count :
					o->kind == STAGE_ENCODE ? sink_encode : sink_encode_avro_c;

		if (!decoder)
			return 0;
		ctx->sink_flows = 0;
		ctx->sink_bytes = 0;
		stage_loop_decode(ctx, decoder, loops ? loops : 1, sink);
		fs_decoder_free(decoder);
		return ctx->sink_flows;
	}
	count = o->min_flows > ctx->nflows ? o->min_flows : ctx->nflows;
	switch (o->kind) {
	case STAGE_AVRO_DECODE: stage_loop_avro_decode(ctx, count, false); break;
	case STAGE_AVRO_DECODE_AVRO_C: stage_loop_avro_decode(ctx, count, true); break;
	case STAGE_ENRICH: stage_loop_enrich(ctx, count); break;
	case STAGE_FILTER: stage_loop_filter(ctx, count); break;
	case STAGE_TOPN: stage_loop_topn(ctx, count, 0); break;
	default: stage_loop_topn(ctx, count, o->flush_every); break;
	}
	return count;
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Encodes every kept flow into ctx->messages for the avro-decode stage. */
static int
stage_encode_messages(struct stage_ctx *ctx)
{
	size_t used = 0;

	ctx->messages = malloc(ctx->nflows * FS_FLOW_CODEC_MAX_LEN);
	ctx->message_offsets = malloc((ctx->nflows + 1) * sizeof(*ctx->message_offsets));
	if (!ctx->messages || !ctx->message_offsets) {
		fprintf(stderr, "flowsift-bench stage: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < ctx->nflows; i++) {
		size_t len = 0;

		if (fs_flow_codec_encode(ctx->codec, &ctx->flows[i], ctx->messages + used,
					 FS_FLOW_CODEC_MAX_LEN, &len) != 0) {
			fprintf(stderr, "flowsift-bench stage: cannot encode flow %zu\n", i);
			return -1;
		}
		ctx->message_offsets[i] = used;
		used += len;
	}
	ctx->message_offsets[ctx->nflows] = used;
	ctx->sink_bytes = used;
	return 0;
}

/* Writes the messages of stage_encode_messages() to --avro-out. */
static int
stage_write_messages(const struct stage_ctx *ctx, const char *path)
{
	FILE *f = fopen(path, "wb");
	size_t len = ctx->message_offsets[ctx->nflows];

	if (!f || fwrite(ctx->messages, 1, len, f) != len) {
		fprintf(stderr, "flowsift-bench stage: cannot write %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "flowsift-bench stage: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
stage_prepare(struct stage_ctx *ctx)
{
	const struct stage_options *o = ctx->opt;
	struct fs_decoder *decoder;
	char err[1024];

	ctx->codec = fs_flow_codec_new(err, sizeof(err));
	if (!ctx->codec) {
		fprintf(stderr, "flowsift-bench stage: cannot create the Avro codec: %s\n", err);
		return -1;
	}
	if (STAGE_DECODES(o->kind))
		return 0;
	ctx->flows = calloc(STAGE_MAX_FLOWS, sizeof(*ctx->flows));
	decoder = fs_decoder_new(NULL);
	if (!ctx->flows || !decoder) {
		fs_decoder_free(decoder);
		fprintf(stderr, "flowsift-bench stage: out of memory\n");
		return -1;
	}
	/* Not a stage_loop_* function, so callgrind does not count this setup. */
	decode_all(ctx, decoder, 1, sink_keep);
	fs_decoder_free(decoder);
	if (ctx->nflows == 0) {
		fprintf(stderr, "flowsift-bench stage: the input decodes to no flows\n");
		return -1;
	}
	if (STAGE_READS_AVRO(o->kind) && stage_encode_messages(ctx) != 0)
		return -1;
	if (o->avro_out && stage_write_messages(ctx, o->avro_out) != 0)
		return -1;
	if (o->kind == STAGE_ENRICH &&
	    fs_enricher_new(&o->enrich, &ctx->enricher, err, sizeof(err)) != 0) {
		fprintf(stderr, "flowsift-bench stage: cannot set up enrichment: %s\n", err);
		return -1;
	}
	if (o->kind == STAGE_FILTER) {
		struct fs_filter_error ferr;

		if (fs_filter_compile(&ctx->filter, o->filter, NULL, &ferr) != 0) {
			fprintf(stderr, "flowsift-bench stage: --filter: %s\n", ferr.text);
			return -1;
		}
	}
	if (o->kind == STAGE_TOPN || o->kind == STAGE_TOPN_REDIS) {
		ctx->batch = fs_topn_batch_new(STAGE_TOPN_ENTRIES);
		if (!ctx->batch) {
			fprintf(stderr, "flowsift-bench stage: out of memory\n");
			return -1;
		}
	}
	if (o->kind == STAGE_TOPN_REDIS) {
		struct fs_redis_url url;

		if (fs_redis_url_parse(&url, o->redis, err, sizeof(err)) != 0 ||
		    fs_redis_connect(&url, 120000, &ctx->redis, err, sizeof(err)) != 0) {
			fprintf(stderr, "flowsift-bench stage: --redis: %s\n", err);
			return -1;
		}
		ctx->topn_start_s = (int64_t)time(NULL);
		ctx->topn_now_s = ctx->topn_start_s;
	}
	return 0;
}

static void
stage_release(struct stage_ctx *ctx)
{
	if (ctx->redis)
		redisFree(ctx->redis);
	fs_topn_batch_free(ctx->batch);
	fs_filter_free(ctx->filter);
	fs_enricher_free(ctx->enricher);
	fs_flow_codec_free(ctx->codec);
	free(ctx->flows);
	free(ctx->messages);
	free(ctx->message_offsets);
	bench_datagram_set_release(&ctx->set);
}

static void
stage_report(struct stage_ctx *ctx, const double *rates, uint64_t flows_per_run)
{
	const struct stage_options *o = ctx->opt;
	size_t n = (size_t)o->runs;
	double sorted[STAGE_MAX_RUNS];
	double median;

	memcpy(sorted, rates, n * sizeof(*rates));
	qsort(sorted, n, sizeof(*sorted), compare_double);
	median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	printf("stage=%s runs=%zu flows_per_run=%" PRIu64 " median_rate=%.0f min_rate=%.0f "
	       "max_rate=%.0f", stage_names[o->kind], n, flows_per_run, median, sorted[0],
	       sorted[n - 1]);
	if (o->kind == STAGE_ENCODE || o->kind == STAGE_ENCODE_AVRO_C)
		printf(" avro_bytes_per_flow=%.1f", (double)ctx->sink_bytes /
		       (double)(ctx->sink_flows ? ctx->sink_flows : 1));
	if (STAGE_READS_AVRO(o->kind))
		printf(" avro_bytes_per_flow=%.1f", (double)ctx->sink_bytes / (double)ctx->nflows);
	if (o->kind == STAGE_FILTER)
		printf(" instructions=%zu matched=%.3f", fs_filter_size(ctx->filter),
		       (double)ctx->matches / (double)(flows_per_run * n));
	if (o->kind == STAGE_TOPN_REDIS) {
		struct fs_topn_stats s;

		fs_topn_batch_stats(ctx->batch, &s);
		printf(" flush_every=%" PRIu64 " flushes=%" PRIu64 " redis_commands=%" PRIu64
		       " commands_per_1000_flows=%.1f zset_updates_per_1000_flows=%.1f"
		       " rollups=%" PRIu64 " rollup_errors=%" PRIu64 " simulated_seconds=%" PRIu64,
		       o->flush_every, s.flushes, s.commands,
		       (double)s.commands * 1000.0 / (double)(flows_per_run * n),
		       (double)s.updates * 1000.0 / (double)(flows_per_run * n), s.rollups,
		       s.rollup_errors, (uint64_t)(ctx->topn_now_s - ctx->topn_start_s));
	}
	if (o->kind == STAGE_ENRICH) {
		struct fs_enrich_stats s;

		fs_enricher_stats(ctx->enricher, &s);
		printf(" geoip_hits_per_flow=%.3f prefix_hits_per_flow=%.3f",
		       (double)s.geoip_hits / (double)(s.flows ? s.flows : 1),
		       (double)s.prefix_hits / (double)(s.flows ? s.flows : 1));
	}
	printf(" errors=%" PRIu64 " runs_rate=", ctx->errors);
	for (size_t i = 0; i < n; i++)
		printf("%s%.0f", i ? "," : "", rates[i]);
	printf("\n");
}

static void
stage_usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-bench stage --stage NAME [options] FILE...\n"
		"\n"
		"Times one stage over the flows of the captures, in this process on one thread,\n"
		"and prints the median rate in flows per second.  NAME is one of decode, encode\n"
		"(decode + Avro encode), encode-avro-c (the same through avro-c's generic\n"
		"writer), avro-decode (Avro messages to flows), avro-decode-avro-c (the same\n"
		"through avro-c), enrich, filter, topn, topn-redis.\n"
		"\n"
		"  --runs N            timed runs (default 5, at most %d)\n"
		"  --min-flows N       flows per run at least, input repeated (default 1m)\n"
		"  --filter EXPR       filter stage: the expression (docs/filter.md)\n"
		"  --redis URL         topn-redis: the Redis server to flush into\n"
		"  --flush-every N     topn-redis: flows between flushes (default 100k)\n"
		"  --flush-seconds N   topn-redis: seconds the clock advances per flush (default 1)\n"
		"  --avro-out FILE     avro-decode stages: also write the Avro messages, back to\n"
		"                      back, to FILE (at most %d flows)\n"
		"  --geoip-city FILE, --geoip-asn FILE, --prefixes FILE, --home-networks LIST\n"
		"                      enrich: the sources, as the enrich.* keys of\n"
		"                      docs/CONFIGURATION.md (service names always)\n",
		STAGE_MAX_RUNS, STAGE_MAX_FLOWS);
}

static int
stage_parse(int argc, char **argv, struct stage_options *o)
{
	static const struct option longopts[] = {
		{ "stage", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "min-flows", required_argument, NULL, 'n' },
		{ "filter", required_argument, NULL, 'f' },
		{ "redis", required_argument, NULL, 'R' },
		{ "flush-every", required_argument, NULL, 'F' },
		{ "flush-seconds", required_argument, NULL, 'S' },
		{ "geoip-city", required_argument, NULL, 'c' },
		{ "geoip-asn", required_argument, NULL, 'a' },
		{ "prefixes", required_argument, NULL, 'p' },
		{ "home-networks", required_argument, NULL, 'H' },
		{ "avro-out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	size_t k;
	int c;

	memset(o, 0, sizeof(*o));
	o->runs = 5;
	o->min_flows = 1000000;
	o->flush_every = 100000;
	o->flush_seconds = 1;
	o->enrich.geoip_city = o->enrich.geoip_asn = o->enrich.interfaces_map = "";
	o->enrich.prefixes = o->enrich.home_networks = o->enrich.sampling_override = "";
	o->enrich.services = "";
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 's': name = optarg; break;
		case 'r': rc = bench_parse_count("--runs", optarg, STAGE_MAX_RUNS, &o->runs); break;
		case 'n': rc = bench_parse_count("--min-flows", optarg, UINT64_C(1) << 40, &o->min_flows); break;
		case 'f': o->filter = optarg; break;
		case 'R': o->redis = optarg; break;
		case 'F': rc = bench_parse_count("--flush-every", optarg, UINT64_C(1) << 40, &o->flush_every); break;
		case 'S': rc = bench_parse_count("--flush-seconds", optarg, 86400, &o->flush_seconds); break;
		case 'c': o->enrich.geoip_city = optarg; break;
		case 'a': o->enrich.geoip_asn = optarg; break;
		case 'p': o->enrich.prefixes = optarg; break;
		case 'H': o->enrich.home_networks = optarg; break;
		case 'o': o->avro_out = optarg; break;
		case 'h': stage_usage(stdout); exit(0);
		default: stage_usage(stderr); return -1;
		}
		if (rc < 0)
			return -1;
	}
	for (k = 0; name && k < sizeof(stage_names) / sizeof(stage_names[0]); k++)
		if (strcmp(name, stage_names[k]) == 0)
			break;
	if (!name || k == sizeof(stage_names) / sizeof(stage_names[0])) {
		fprintf(stderr, "flowsift-bench stage: --stage must be one of decode, encode, "
			"encode-avro-c, avro-decode, avro-decode-avro-c, enrich, filter, topn, "
			"topn-redis\n");
		return -1;
	}
	o->kind = (enum stage_kind)k;
	if (optind >= argc || o->runs == 0) {
		fprintf(stderr, "flowsift-bench stage: give at least one capture file and --runs of 1 or more\n");
		return -1;
	}
	if (o->kind == STAGE_FILTER && !o->filter) {
		fprintf(stderr, "flowsift-bench stage: the filter stage needs --filter EXPR\n");
		return -1;
	}
	if (o->kind == STAGE_TOPN_REDIS && (!o->redis || o->flush_every == 0)) {
		fprintf(stderr, "flowsift-bench stage: topn-redis needs --redis URL and a --flush-every above 0\n");
		return -1;
	}
	if (o->avro_out && !STAGE_READS_AVRO(o->kind)) {
		fprintf(stderr, "flowsift-bench stage: --avro-out needs --stage avro-decode or avro-decode-avro-c\n");
		return -1;
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	return 0;
}

int
bench_stage_main(int argc, char **argv)
{
	struct stage_options o;
	struct stage_ctx ctx;
	double rates[STAGE_MAX_RUNS];
	uint64_t flows = 0;
	int rc = 1;

	if (stage_parse(argc, argv, &o) < 0)
		return 2;
	memset(&ctx, 0, sizeof(ctx));
	ctx.opt = &o;
	if (bench_datagram_set_load(&ctx.set, o.files, o.nfiles) < 0)
		goto out;
	if (ctx.set.flows == 0) {
		fprintf(stderr, "flowsift-bench stage: the input decodes to no flows\n");
		goto out;
	}
	if (stage_prepare(&ctx) < 0)
		goto out;
	for (uint64_t r = 0; r < o.runs; r++) {
		int64_t start = bench_now_ns();
		int64_t elapsed;

		flows = stage_run_once(&ctx);
		elapsed = bench_now_ns() - start;
		rates[r] = (double)flows * 1e9 / (double)(elapsed > 0 ? elapsed : 1);
	}
	stage_report(&ctx, rates, flows);
	rc = ctx.errors ? 1 : 0;
out:
	stage_release(&ctx);
	return rc;
}
