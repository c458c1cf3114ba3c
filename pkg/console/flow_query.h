/*
 * flow_query.h - flows of a Kafka topic over a time range that match a
 * filter, bounded in flows read, rows returned and wall time.
 *
 * The range is read with pkg/kafka/topic_range.h (by message timestamp,
 * without a consumer group), every flow of each message is decoded with the
 * flow codec (pkg/avro/flow_codec.h) and tested with the compiled filter.  The query
 * stops at the first of: the end of the range, max_rows matches (the
 * callback may also stop it), max_scanned flows read, or timeout_ms
 * elapsed.  The result records which limit ended it, so a caller can tell a
 * complete result from a partial one.
 *
 * Flows that do not decode are counted in rejected and skipped.
 */
#ifndef FS_CONSOLE_FLOW_QUERY_H
#define FS_CONSOLE_FLOW_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"
#include "kafka/kafka_conf.h"

struct fs_filter;

/*
 * Receives one matching flow (borrowed for the call).  A nonzero return
 * stops the query, which then returns 0 with stopped set.
 */
typedef int fs_flow_query_fn(const struct fs_flow *flow, int64_t timestamp_ms, void *opaque);

struct fs_flow_query {
	const char *bootstrap;             /* borrowed */
	const struct fs_kafka_props *props; /* borrowed, may be NULL */
	const char *topic;                 /* borrowed */
	const struct fs_filter *filter;    /* borrowed; NULL matches every flow */
	int64_t from_ms;                   /* Unix ms, inclusive */
	int64_t to_ms;                     /* Unix ms, exclusive */
	uint64_t max_rows;                 /* matches passed to fn at most */
	uint64_t max_scanned;              /* flows read at most */
	int timeout_ms;                    /* wall time for the whole query */
	fs_flow_query_fn *fn;
	void *opaque;
};

struct fs_flow_query_result {
	uint64_t scanned;      /* flows read */
	uint64_t matched;      /* flows passed to fn */
	uint64_t rejected;     /* flows that did not decode */
	bool complete;         /* the whole range was read */
	bool row_limit;        /* stopped at max_rows */
	bool scan_limit;       /* stopped at max_scanned */
	bool timed_out;        /* stopped at timeout_ms */
	bool stopped;          /* fn returned nonzero */
};

/*
 * Runs the query.  Returns 0 with *result filled (complete or stopped by a
 * limit), FS_ERR_NOT_FOUND when the topic does not exist, or another
 * negative fs_result when the cluster or the codec failed, with the reason
 * in err.
 */
int fs_flow_query_run(const struct fs_flow_query *query, struct fs_flow_query_result *result,
		      char *err, size_t err_len);

#endif
