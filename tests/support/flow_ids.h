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

/* NetFlow v5 carries at most this many records per datagram. */
#define FS_TEST_FLOW_V5_RECORDS_MAX 30
#define FS_TEST_FLOW_V5_LEN(records) (24 + 48 * (size_t)(records))

struct fs_flow_codec;
struct redisContext;

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

/*
 * Counts the test flows that topic contains now by id into counts[0 .. n-1],
 * adding to what counts contains, in one read from the start of the topic.
 * Returns the number of messages read, or -1 when the topic could not be
 * read within timeout_ms.  *unknown, when not NULL, receives the number of
 * flows that were no test flow of [0, n) or did not decode.
 */
long fs_test_flows_count(const char *bootstrap, const char *topic, unsigned *counts, size_t n,
			 long *unknown, int timeout_ms);

/* Returns how many ids in [first, first + count) have a count of 0. */
long fs_test_flows_missing(const unsigned *counts, unsigned first, unsigned count);

/*
 * Writes a NetFlow v5 datagram of the flows first .. first + count - 1
 * into buf, with the current time and first as its flow sequence number.
 * Returns its length, FS_TEST_FLOW_V5_LEN(count), or 0 when count is 0 or
 * above FS_TEST_FLOW_V5_RECORDS_MAX or the datagram does not fit cap.
 */
size_t fs_test_flows_v5_datagram(uint8_t *buf, size_t cap, unsigned first, unsigned count);

/*
 * Sums the scores of flowsift-report's counters
 * flowsift:top:src_addr:<metric>:10s:* on redis by flow id into
 * sums[0 .. n-1], which it sets to 0 first.  Every flush writes these 10 s
 * buckets (coarser ones are rolled up from them later), so the sums contain
 * every count written.  Returns the number of members that are no test flow
 * of [0, n), or -1 when a reply is missing or no array (reason on stderr).
 */
long fs_test_flows_redis_scores(struct redisContext *redis, const char *metric,
				unsigned long long *sums, size_t n);

#endif
