/*
 * bench_filter.c - filter evaluations per second on one core, for a simple
 * and a complex expression.
 *
 *   make build/tests/bench_filter && build/tests/bench_filter [SECONDS]
 *
 * Each filter is compiled once and tested against a rotating set of 4096
 * varied flows (IPv4 and IPv6, TCP, UDP and ICMP, spread ports, sizes and
 * flags) for SECONDS (default 2) of CPU time on the calling thread.  Prints
 * one line per filter: instructions, evaluations per second and the share of
 * flows that matched.  It is a measurement, not a test: it never fails on
 * speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/flow.h"
#include "filter/filter.h"

#define FLOW_COUNT 4096

static const char *const filters[][2] = {
	{ "simple", "dst port 25" },
	{ "complex",
	  "(src net 10.0.0.0/8 or src net 2001:db8::/32) and proto tcp "
	  "and dst port in [25 80 443 465 587 993 8080-8090] and not flags R "
	  "and (bytes > 10k or packets >= 20) and not dst net 192.168.0.0/16 "
	  "and duration < 60000 and tos != 46" },
};

static void
make_flows(struct fs_flow *flows)
{
	static const uint16_t ports[] = { 25, 53, 80, 123, 443, 587, 993, 8081, 22, 3389 };
	static const uint8_t protos[] = { 6, 6, 6, 17, 17, 1 };
	uint32_t seed = 12345;

	for (int i = 0; i < FLOW_COUNT; i++) {
		struct fs_flow *f = &flows[i];

		seed = seed * 1103515245u + 12345u;
		fs_flow_clear(f);
		f->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_SRC_PORT | FS_F_DST_PORT |
			     FS_F_PROTO | FS_F_TCP_FLAGS | FS_F_BYTES | FS_F_PACKETS | FS_F_TOS |
			     FS_F_TIME_FLOW_START | FS_F_TIME_FLOW_END;
		if (i % 4 == 3) {
			uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = (uint8_t)(seed >> 8),
					   [15] = (uint8_t)seed };

			fs_addr_set_v6(&f->src_addr, v6);
			v6[0] = 0x2a;
			fs_addr_set_v6(&f->dst_addr, v6);
		} else {
			uint8_t src[4] = { (uint8_t)(i % 3 ? 10 : 172), (uint8_t)(seed >> 16),
					   (uint8_t)(seed >> 8), (uint8_t)seed };
			uint8_t dst[4] = { (uint8_t)(i % 5 ? 198 : 192), (uint8_t)(i % 5 ? 51 : 168),
					   (uint8_t)(seed >> 4), (uint8_t)(seed >> 12) };

			fs_addr_set_v4(&f->src_addr, src);
			fs_addr_set_v4(&f->dst_addr, dst);
		}
		f->proto = protos[(seed >> 3) % 6];
		f->src_port = (uint16_t)(1024 + (seed >> 5) % 60000);
		f->dst_port = ports[(seed >> 7) % 10];
		f->tcp_flags = (uint8_t)((seed >> 9) & 0x3f);
		f->bytes = (seed >> 11) % 100000;
		f->packets = 1 + (seed >> 13) % 50;
		f->tos = (uint8_t)((seed >> 17) % 4 == 0 ? 184 : 0);
		f->time_flow_start_ns = 1700000000000000000LL;
		f->time_flow_end_ns = f->time_flow_start_ns + (int64_t)((seed >> 19) % 120000) * 1000000;
	}
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	struct fs_flow *flows = calloc(FLOW_COUNT, sizeof(*flows));

	if (flows == NULL || seconds <= 0) {
		fprintf(stderr, "usage: bench_filter [SECONDS]\n");
		return 2;
	}
	make_flows(flows);
	printf("%-8s %12s %16s %8s  %s\n", "filter", "instructions", "evaluations/s", "matched",
	       "expression");
	for (size_t k = 0; k < sizeof(filters) / sizeof(filters[0]); k++) {
		struct fs_filter_error err;
		struct fs_filter *filter;
		unsigned long long evaluations = 0, matched = 0;
		double start, elapsed;

		if (fs_filter_compile(&filter, filters[k][1], NULL, &err) != 0) {
			fprintf(stderr, "bench_filter: %s\n", err.text);
			free(flows);
			return 1;
		}
		start = cpu_seconds();
		do {
			for (int i = 0; i < FLOW_COUNT; i++)
				matched += fs_filter_match(filter, &flows[i]);
			evaluations += FLOW_COUNT;
			elapsed = cpu_seconds() - start;
		} while (elapsed < seconds);
		printf("%-8s %12zu %16.0f %7.1f%%  %s\n", filters[k][0], fs_filter_size(filter),
		       (double)evaluations / elapsed, 100.0 * (double)matched / (double)evaluations,
		       filters[k][1]);
		fs_filter_free(filter);
	}
	free(flows);
	return 0;
}
