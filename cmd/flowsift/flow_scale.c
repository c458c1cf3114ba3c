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

const struct fs_flow *
flow_scale_apply(struct flow_scale *s, const struct fs_flow *flow, struct fs_flow *copy)
{
	if (!s->enabled)
		return flow;
	*copy = *flow;
	fs_sampling_apply(&s->sampling, copy, &s->stats);
	return copy;
}

void
flow_scale_describe(const struct flow_scale *s, char *buf, size_t len)
{
	if (!s->enabled) {
		snprintf(buf, len, "counters as exported, not scaled by the sampling rate "
				   "(--no-scale)");
		return;
	}
	snprintf(buf, len, "counters scaled by the sampling rate: %" PRIu64 " flows scaled, %"
			   PRIu64 " already scaled, %" PRIu64 " without a rate "
			   "(--no-scale shows exported counters)",
		 s->stats.scaled, s->stats.already_scaled, s->stats.unknown_rate);
}
