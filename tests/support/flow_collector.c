/* flow_collector.c - the flow sink of decoder tests. */
#include "flow_collector.h"

void
fs_test_flows_collect(const struct fs_flow *flow, void *opaque)
{
	struct fs_test_flows *c = opaque;

	if (c->count < FS_TEST_FLOWS_MAX)
		c->flows[c->count] = *flow;
	c->count++;
}
