/*
 * exporter_loss.h - per-exporter loss lines in the ingest log.
 *
 * The receive threads own their decoders, so the main thread never reads a
 * decoder's exporter table (decode/exporter_stats.h).  Each thread copies
 * the counters it needs into struct exporter_counts rows under its snapshot
 * lock (worker.h), and the main thread works on those copies.
 *
 * At each ingest.stats.interval, exporter_loss_log() compares the rows with
 * the totals it saw at the previous call.  It logs one line for each
 * exporter, port, protocol and domain whose sequence gaps grew, largest new
 * loss first.  After ingest.stats.exporters.max such lines, one more line
 * gives the number of exporters left out.
 *
 * Thread safety: one thread (ingest's main thread) uses an exporter_loss.
 */
#ifndef FS_INGEST_EXPORTER_LOSS_H
#define FS_INGEST_EXPORTER_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"
#include "decode/exporter_stats.h"

/* The counters of one exporter entry that ingest logs and serves as metrics. */
struct exporter_counts {
	struct fs_addr exporter;
	uint16_t port;
	uint8_t flow_type;               /* enum fs_flow_type */
	uint32_t domain;
	uint64_t packets;                /* datagrams, or IPFIX messages */
	uint64_t records;
	uint64_t sequence_gaps;          /* messages that came after a gap */
	uint64_t sequence_lost;          /* units missing, fs_exporter_sequence_unit() */
	uint64_t flow_sample_gaps;       /* sFlow only: per-source flow sample sequences */
	uint64_t flow_samples_lost;
	uint64_t counter_sample_gaps;    /* sFlow only: per-source counter sample sequences */
	uint64_t counter_samples_lost;
};

/*
 * Copies at most capacity entries of stats into out and returns how many it
 * copied.  Reads stats, so it runs on the thread that owns the decoder.
 */
size_t exporter_counts_copy(const struct fs_exporter_stats *stats, struct exporter_counts *out,
			    size_t capacity);

/* Orders rows by exporter, port, protocol and domain; a qsort() comparator. */
int exporter_counts_compare(const void *a, const void *b);

/*
 * Sorts rows[0..count) by key and sums rows with the same key into one (two
 * receive threads can hold the same exporter if steering moved it).
 * Returns the number of rows left.
 */
size_t exporter_counts_merge(struct exporter_counts *rows, size_t count);

struct exporter_loss;

/*
 * Creates the logger for up to capacity rows per call, logging at most
 * max_lines exporter lines per call.  Returns NULL when memory runs out.
 */
struct exporter_loss *exporter_loss_new(size_t capacity, uint32_t max_lines);

void exporter_loss_free(struct exporter_loss *loss);

/*
 * Logs the exporters whose loss counters grew since the previous call.
 * rows (count at most the capacity) are sorted and merged in place.  The
 * first call compares with zero counters.
 */
void exporter_loss_log(struct exporter_loss *loss, struct exporter_counts *rows, size_t count);

#endif
