/*
 * exporter_metrics.h - per-exporter series of flowsift-ingest's /metrics.
 *
 * Each (exporter address, observation domain, protocol) gets its own
 * series of datagrams, records, sequence gaps and units lost, with the
 * labels exporter, domain and protocol.  The gap and loss series add the
 * label unit, which names what the sequence numbers count
 * (fs_exporter_sequence_unit(), or flow_samples and counter_samples for
 * sFlow's per-source sequences).  Rows of one exporter that differ only in
 * source port share the series.
 *
 * Cardinality: the first max_exporters label sets seen get series of their
 * own and keep them for the life of the process.  Every later one is summed
 * into the series with exporter="other" and domain="other" of its protocol,
 * so a series never mixes units.
 *
 * NOTE: the rows come from the UDP receive threads only, so exporters that
 * send IPFIX over TCP (ipfix_tcp.h) have no series here and no loss lines.
 *
 * Thread safety: one thread publishes; the registry serves the values to
 * the HTTP thread.
 */
#ifndef FS_INGEST_EXPORTER_METRICS_H
#define FS_INGEST_EXPORTER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "exporter_loss.h"

struct fs_metrics;
struct exporter_metrics;

/*
 * Creates the per-exporter series set for registry m (borrowed, must
 * outlive the result), with at most max_exporters label sets of their own.
 * Returns NULL when memory runs out.
 */
struct exporter_metrics *exporter_metrics_new(struct fs_metrics *m, uint32_t max_exporters);

void exporter_metrics_free(struct exporter_metrics *em);

/*
 * Sets every series to the sum of rows[0..count), the cumulative counters
 * of every exporter entry of every receive thread.  Registers the series of
 * label sets seen for the first time (this allocates, once per label set).
 */
void exporter_metrics_publish(struct exporter_metrics *em, const struct exporter_counts *rows,
			      size_t count);

#endif
