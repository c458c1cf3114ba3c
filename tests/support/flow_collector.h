/*
 * flow_collector.h - a flow sink for decoder tests that keeps what the
 * decoder emits.
 *
 * Pass fs_test_flows_collect as the decoder's fs_flow_sink_fn and a
 * zeroed struct fs_test_flows as its opaque argument.
 */
#ifndef FS_TEST_FLOW_COLLECTOR_H
#define FS_TEST_FLOW_COLLECTOR_H

#include <stddef.h>

#include "core/flow.h"

#define FS_TEST_FLOWS_MAX 64

struct fs_test_flows {
	struct fs_flow flows[FS_TEST_FLOWS_MAX];   /* the first flows, in order */
	size_t count;                              /* every flow, also those not kept */
};

/*
 * Copies flow into the struct fs_test_flows at opaque, which keeps the
 * first FS_TEST_FLOWS_MAX flows, and counts it.
 */
void fs_test_flows_collect(const struct fs_flow *flow, void *opaque);

#endif
