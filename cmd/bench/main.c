/*
 * main.c - flowsift-bench: generators, a paced sender and stage timings for
 * the benchmarks in BENCHMARKS.md.  bench.h lists the subcommands.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/capture.h"
#include "decode/decoder.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-bench COMMAND [options]\n"
		"\n"
		"commands:\n"
		"  gen    write a NetFlow v5, v9, IPFIX or sFlow capture (pcap) of generated flows\n"
		"  send   replay a capture over UDP to 127.0.0.1 at a set flow rate\n"
		"  stage  time one pipeline stage (decode, encode, filter, topn, enrich) on one core\n"
		"  count  count the messages of a Kafka topic and sum a JSON counter in them\n"
		"  wakeups  time a thread's CPU per wake-up by a timer and by a datagram\n"
		"\n"
		"`flowsift-bench COMMAND --help` describes the options of each command.\n"
		"scripts/bench.sh (`make bench`) runs them all and writes the results.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* Decoders log faults rate-limited; benchmarks only want warnings. */
	fs_log_set_level(FS_LOG_WARNING);
	if (strcmp(argv[1], "gen") == 0)
		return bench_gen_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "send") == 0)
		return bench_send_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "stage") == 0)
		return bench_stage_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "count") == 0)
		return bench_count_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "wakeups") == 0)
		return bench_wakeups_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "flowsift-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

int64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
bench_parse_count(const char *option, const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t scale = 1;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (end == text || text[0] == '-' || errno != 0)
		goto invalid;
	if (*end == 'k' || *end == 'K')
		scale = 1000;
	else if (*end == 'm' || *end == 'M')
		scale = 1000000;
	else if (*end == 'g' || *end == 'G')
		scale = 1000000000;
	if (scale != 1)
		end++;
	if (*end != '\0' || v > max / scale)
		goto invalid;
	*out = v * scale;
	return 0;
invalid:
	fprintf(stderr, "flowsift-bench: %s '%s' is not a whole number from 0 to %" PRIu64
		" (k, m and g suffixes allowed)\n", option, text, max);
	return -1;
}

struct load_ctx {
	struct bench_datagram_set *set;
	int failed;
};

static int
grow(void **buf, size_t *cap, size_t need, size_t item)
{
	size_t n = *cap ? *cap : 1024;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n * item);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

static int
load_datagram(const struct fs_datagram *datagram, void *opaque)
{
	struct load_ctx *ctx = opaque;
	struct bench_datagram_set *set = ctx->set;
	struct bench_datagram *d;

	if (grow((void **)&set->bytes, &set->bytes_cap, set->bytes_len + datagram->len, 1) < 0 ||
	    grow((void **)&set->items, &set->cap, set->count + 1, sizeof(*set->items)) < 0) {
		ctx->failed = 1;
		return 1;
	}
	d = &set->items[set->count++];
	memset(d, 0, sizeof(*d));
	d->offset = set->bytes_len;
	d->len = (uint32_t)datagram->len;
	d->exporter = datagram->exporter;
	d->exporter_port = datagram->exporter_port;
	memcpy(set->bytes + set->bytes_len, datagram->data, datagram->len);
	set->bytes_len += datagram->len;
	return 0;
}

static void
count_flow(const struct fs_flow *flow, void *opaque)
{
	struct bench_datagram *d = opaque;

	d->flows++;
	d->packets += flow->packets;
}

int
bench_datagram_set_load(struct bench_datagram_set *set, char **paths, int npaths)
{
	struct load_ctx ctx = { .set = set, .failed = 0 };
	struct fs_decoder *decoder = NULL;
	char err[512];
	int rc = FS_ERR_SYSTEM;

	for (int i = 0; i < npaths; i++) {
		if (fs_capture_read_file(paths[i], load_datagram, &ctx, err, sizeof(err)) != 0) {
			if (ctx.failed)
				fprintf(stderr, "flowsift-bench: out of memory reading '%s'\n", paths[i]);
			else
				fprintf(stderr, "flowsift-bench: %s\n", err);
			goto out;
		}
	}
	if (set->count == 0) {
		fprintf(stderr, "flowsift-bench: no UDP datagrams in the input files\n");
		goto out;
	}
	decoder = fs_decoder_new(NULL);
	if (!decoder) {
		fprintf(stderr, "flowsift-bench: out of memory creating a decoder\n");
		goto out;
	}
	for (size_t i = 0; i < set->count; i++) {
		struct bench_datagram *d = &set->items[i];

		fs_decoder_decode(decoder, bench_datagram_data(set, d), d->len, &d->exporter,
				  d->exporter_port, 0, count_flow, d);
		set->flows += d->flows;
		set->packets += d->packets;
	}
	rc = 0;
out:
	fs_decoder_free(decoder);
	return rc;
}

void
bench_datagram_set_release(struct bench_datagram_set *set)
{
	free(set->bytes);
	free(set->items);
	memset(set, 0, sizeof(*set));
}
