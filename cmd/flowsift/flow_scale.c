/* flow_scale.c - sampling-rate scaling of the flows that the CLI reads. */
#include "flow_scale.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int
flow_scale_init(struct flow_scale *s, bool enabled, const char *overrides, const char *command)
{
	char reason[256];

	memset(s, 0, sizeof(*s));
	s->enabled = enabled;
	if (!enabled)
		return 0;
	if (fs_sampling_init(&s->sampling, overrides ? overrides : "", reason,
			     sizeof(reason)) < 0) {
		fprintf(stderr, "%s: enrich.sampling.override: %s\n", command, reason);
		return -1;
	}
	return 0;
}

void
flow_scale_release(struct flow_scale *s)
{
	fs_sampling_release(&s->sampling);
}

/* Returns whether enrich (or an earlier fs_sampling_apply()) scaled flow. */
static bool
was_scaled(const struct fs_flow *flow)
{
	return fs_flow_has(flow, FS_F_EXPORTED_BYTES) || fs_flow_has(flow, FS_F_EXPORTED_PACKETS);
}

static bool
has_unknown_rate(const struct fs_flow *flow)
{
	return fs_flow_has(flow, FS_F_SAMPLING_SOURCE) && flow->sampling_source == FS_SAMPLING_NONE;
}

/* Sets bytes and packets of copy back to the exported values that enrich kept. */
static const struct fs_flow *
restore_exported(struct flow_scale *s, const struct fs_flow *flow, struct fs_flow *copy)
{
	*copy = *flow;
	if (fs_flow_has(flow, FS_F_EXPORTED_BYTES)) {
		copy->bytes = flow->exported_bytes;
		copy->present |= FS_F_BYTES;
	}
	if (fs_flow_has(flow, FS_F_EXPORTED_PACKETS)) {
		copy->packets = flow->exported_packets;
		copy->present |= FS_F_PACKETS;
	}
	s->restored++;
	return copy;
}

const struct fs_flow *
flow_scale_apply(struct flow_scale *s, const struct fs_flow *flow, struct fs_flow *copy)
{
	if (!s->enabled)
		return was_scaled(flow) ? restore_exported(s, flow, copy) : flow;
	if (was_scaled(flow)) {
		if (has_unknown_rate(flow))
			s->stats.unknown_rate++;
		else
			s->enriched++;
		return flow;
	}
	*copy = *flow;
	fs_sampling_apply(&s->sampling, copy, &s->stats);
	return copy;
}

void
flow_scale_describe(const struct flow_scale *s, char *buf, size_t len)
{
	if (!s->enabled && s->restored == 0) {
		snprintf(buf, len, "counters as exported, not scaled by the sampling rate "
				   "(--no-scale)");
		return;
	}
	if (!s->enabled) {
		snprintf(buf, len, "counters as exported, not scaled by the sampling rate "
				   "(--no-scale); exported counters restored in %" PRIu64
				   " enriched flows", s->restored);
		return;
	}
	snprintf(buf, len, "counters scaled by the sampling rate: %" PRIu64 " flows scaled, %"
			   PRIu64 " already scaled, %" PRIu64 " without a rate "
			   "(--no-scale shows exported counters)",
		 s->stats.scaled, s->enriched, s->stats.unknown_rate);
}
