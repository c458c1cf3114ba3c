/*
 * bench.h - the parts of flowsift-bench shared by its subcommands.
 *
 * flowsift-bench is the benchmark harness behind `make bench`
 * (scripts/bench.sh, results in BENCHMARKS.md).  Each subcommand lives in
 * its own file:
 *
 *   gen.c    gen    writes NetFlow v5, v9, IPFIX or sFlow captures as pcap
 *   send.c   send   replays a capture over UDP to 127.0.0.1 at a set rate
 *   stage.c  stage  times one pipeline stage in this process, on one core
 *   count.c  count  counts the messages and summed counters of a Kafka topic
 *   wakeups.c  wakeups  times a thread's CPU per wake-up by a timer and a datagram
 *
 * Every subcommand returns the process exit status: 0, 1 for a failure
 * while running, 2 for a usage error.
 */
#ifndef FS_BENCH_BENCH_H
#define FS_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

int bench_gen_main(int argc, char **argv);
int bench_send_main(int argc, char **argv);
int bench_stage_main(int argc, char **argv);
int bench_count_main(int argc, char **argv);
int bench_wakeups_main(int argc, char **argv);

/* One datagram of a loaded capture; data points into the set's buffer. */
struct bench_datagram {
	size_t offset;           /* into bench_datagram_set.bytes */
	uint32_t len;
	struct fs_addr exporter;
	uint16_t exporter_port;
	uint32_t flows;          /* records a fresh decoder found, in file order */
	uint64_t packets;        /* sum of their packet counters */
};

/* Every datagram of one or more captures, in memory. */
struct bench_datagram_set {
	uint8_t *bytes;
	size_t bytes_len;
	size_t bytes_cap;
	struct bench_datagram *items;
	size_t count;
	size_t cap;
	uint64_t flows;          /* sum of items[].flows */
	uint64_t packets;        /* sum of items[].packets */
};

/*
 * Reads every datagram of the files paths[0..npaths) into set (zeroed by
 * the caller), and decodes them once, in order, with one decoder to fill in
 * the flow and packet counts.  Returns 0, or FS_ERR_SYSTEM with the reason
 * printed on stderr.  The caller frees set with bench_datagram_set_release().
 */
int bench_datagram_set_load(struct bench_datagram_set *set, char **paths,
			    int npaths);

void bench_datagram_set_release(struct bench_datagram_set *set);

static inline const uint8_t *
bench_datagram_data(const struct bench_datagram_set *set, const struct bench_datagram *d)
{
	return set->bytes + d->offset;
}

/* Monotonic time in nanoseconds. */
int64_t bench_now_ns(void);

/*
 * Parses text as an unsigned decimal with an optional k, m or g suffix
 * (powers of 1000) into *out.  Returns 0, or -1 when text is not such a
 * number or exceeds max, after printing an error that names option.
 */
int bench_parse_count(const char *option, const char *text, uint64_t max,
		      uint64_t *out);

#endif
