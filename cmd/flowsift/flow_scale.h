/*
 * flow_scale.h - scales the sampled counters of flows read from captures,
 * archives or a topic, as flowsift-enrich does, so that `flowsift report`,
 * `graph` and `print` show the same numbers as the live pipeline.
 *
 * Scaling is fs_sampling_apply() (enrich/sampling.h) with the rate
 * overrides of enrich.sampling.override: bytes and packets become
 * exported x rate, and the exported values stay in exported_bytes and
 * exported_packets.  A flow that enrich already scaled (exported_bytes or
 * exported_packets present, as in flows.enriched and its archives) passes
 * unchanged, so no flow is scaled twice.
 *
 * With scaling disabled (--no-scale), a flow that enrich scaled gets its
 * exported counters back in bytes and packets, so flows.enriched and
 * flows.raw show the same numbers.
 */
#ifndef FS_CMD_FLOW_SCALE_H
#define FS_CMD_FLOW_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"
#include "enrich/sampling.h"

struct flow_scale {
	bool enabled;                  /* false: counters as exported (--no-scale) */
	struct fs_sampling sampling;   /* rate overrides; owned */
	struct fs_sampling_stats stats; /* flows scaled here; unknown_rate also counts enriched ones */
	uint64_t enriched;             /* flows that enrich scaled, with a known rate */
	uint64_t restored;             /* --no-scale: enriched flows set back to exported counters */
};

/*
 * Prepares s; overrides is the text of enrich.sampling.override (NULL or ""
 * for none) and is only parsed when enabled.  Returns 0, or -1 after
 * printing "command: enrich.sampling.override: reason" on stderr.  Release
 * s with flow_scale_release(), also after a failure.
 */
int flow_scale_init(struct flow_scale *s, bool enabled, const char *overrides,
		    const char *command);

void flow_scale_release(struct flow_scale *s);

/*
 * Copies flow into *copy, scales the copy (or, when s is disabled, restores
 * the exported counters of a flow that enrich scaled) and returns it.
 * Returns flow itself when it needs no change.  The result is valid while
 * flow and copy are.  Allocates nothing.
 */
const struct fs_flow *flow_scale_apply(struct flow_scale *s, const struct fs_flow *flow,
				       struct fs_flow *copy);

/*
 * Writes one line, without a newline, that states whether the counters are
 * scaled and how many flows were scaled, already scaled by enrich or had
 * no known rate, for example "counters scaled by the sampling rate: 31
 * flows scaled, 0 already scaled, 0 without a rate (--no-scale shows
 * exported counters)".  A flow with sampling_source none counts as
 * without a rate, also when enrich wrote it.
 */
void flow_scale_describe(const struct flow_scale *s, char *buf, size_t len);

#endif
