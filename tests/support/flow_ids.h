/*
 * flow_ids.h - numbered test flows that can be recognised at the end of a pipeline.
 *
 * Flow id i is a TCP flow from 10.0.0.0 + i to 203.0.113.7 port 443 of
 * FS_TEST_FLOW_BYTES_BASE + i bytes and one packet, exported by 127.0.0.1.
 * Every worker keeps the source address, so the id survives enrich, filter
 * and the src_addr counters of report.
 */
#ifndef FS_TEST_FLOW_IDS_H
#define FS_TEST_FLOW_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

#define FS_TEST_FLOW_BYTES_BASE 100
/* Ids are below this bound, so the address stays inside 10.0.0.0/8. */
#define FS_TEST_FLOW_ID_MAX 1000000

struct fs_flow_codec;

/* Fills flow with flow id. */
void fs_test_flow_make(struct fs_flow *flow, unsigned id);

/* Returns the id of flow, or -1 when it is no numbered test flow. */
long fs_test_flow_id(const struct fs_flow *flow);

/*
 * Produces the flows first .. first + count - 1 to topic on bootstrap and
 * waits up to 10 s for the broker to acknowledge them.  Returns 0 or -1
 * (reason on stderr).
 */
int fs_test_flows_produce(const char *bootstrap, const char *topic, unsigned first,
			  unsigned count);

/*
 * Counts the test flows of topic by id into counts[0 .. n-1] (ids at or past
 * n are counted as unknown) until every id in [first, first + count) was
 * seen or timeout_ms passes.  Returns the number of ids of that range still
 * missing, or -1 when the topic could not be read.  *unknown, when not NULL,
 * receives the number of messages that were no test flow of [0, n).
 */
long fs_test_flows_await(const char *bootstrap, const char *topic, unsigned *counts, size_t n,
			 unsigned first, unsigned count, long *unknown, int timeout_ms);

#endif
