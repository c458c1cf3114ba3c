/*
 * sampling.h - scales flow counters by the sampling rate, exactly once.
 *
 * In flows.raw, bytes and packets are what the exporter counted in the
 * sampled packets.  fs_sampling_apply() turns them into estimates of the
 * real traffic, bytes = exported_bytes x rate, keeps the exported values in
 * exported_bytes and exported_packets, and records the rate in
 * sampling_rate and its origin in sampling_source:
 *
 *   override  enrich.sampling.override has a rate for the exporter; it wins
 *             over the rate in the flow
 *   options   the decoder took the rate from an options record (it set
 *             sampling_source itself)
 *   sflow     an sFlow flow sample (flow_type sflow_v5)
 *   exporter  any other rate in the flow (record field or v5 header)
 *   none      no rate known: counters stay as exported, sampling_rate is
 *             absent; these flows are counted in unknown_rate
 *
 * A flow that already has exported_bytes or exported_packets was scaled
 * before and is left unchanged, so applying twice never scales twice.
 * Products above FS_COUNT_MAX (2^53 - 1, core/count.h) saturate there and
 * are counted.
 */
#ifndef FS_ENRICH_SAMPLING_H
#define FS_ENRICH_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Most exporters enrich.sampling.override may list. */
#define FS_SAMPLING_MAX_OVERRIDES 4096

struct fs_sampling_override {
	struct fs_addr exporter;
	uint32_t rate;
};

struct fs_sampling {
	struct fs_sampling_override *overrides; /* owned */
	size_t count;
};

struct fs_sampling_stats {
	uint64_t scaled;             /* counters multiplied by a rate above 1 */
	uint64_t overridden;         /* rate taken from enrich.sampling.override */
	uint64_t unknown_rate;       /* sampling_source none */
	uint64_t already_scaled;     /* left unchanged: exported_* present */
	uint64_t saturated;          /* a product above FS_COUNT_MAX */
};

/*
 * Parses "ADDRESS=RATE,..." (for example "10.0.0.1=1000,2001:db8::1=512")
 * into s, which it initialises.  An empty list is allowed.  Returns 0, or
 * FS_ERR_INVALID with the item and reason in err.  Release s with
 * fs_sampling_release().
 */
int fs_sampling_init(struct fs_sampling *s, const char *overrides, char *err,
		     size_t err_len);

void fs_sampling_release(struct fs_sampling *s);

/* Returns the override rate for exporter, or 0 when it has none. */
uint32_t fs_sampling_override_rate(const struct fs_sampling *s, const struct fs_addr *exporter);

/* Normalizes flow's counters as described above and counts the outcome in stats. */
void fs_sampling_apply(const struct fs_sampling *s, struct fs_flow *flow,
		       struct fs_sampling_stats *stats);

#endif
