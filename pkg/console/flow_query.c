/*
 * flow_query.c - filtered flows of a topic range.
 */
#include "console/flow_query.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "avro/flow_codec.h"
#include "core/clock.h"
#include "core/result.h"
#include "filter/filter.h"
#include "kafka/topic_range.h"

/* Maximum single wait for messages, so the limits are checked at least this often. */
#define POLL_MS 200

struct run_state {
	const struct fs_flow_query *query;
	struct fs_flow_query_result *result;
	struct fs_flow_codec *codec;
	int64_t timestamp_ms;   /* of the message being read */
};

/* Return values of on_message that end the read; 1 means "more to read" to fs_topic_range_read(). */
enum { STOP_ROWS = 101, STOP_SCAN = 102, STOP_FN = 103 };

/* Passes one flow of the message being read through the query. */
static int
on_flow(const struct fs_flow *flow, void *opaque)
{
	struct run_state *state = opaque;
	const struct fs_flow_query *query = state->query;
	struct fs_flow_query_result *result = state->result;

	if (result->scanned >= query->max_scanned)
		return STOP_SCAN;
	result->scanned++;
	if (query->filter && !fs_filter_match(query->filter, flow))
		return 0;
	result->matched++;
	if (query->fn(flow, state->timestamp_ms, query->opaque) != 0)
		return STOP_FN;
	if (result->matched >= query->max_rows)
		return STOP_ROWS;
	return 0;
}

static int
on_message(const void *value, size_t len, int64_t timestamp_ms, int32_t partition,
	   int64_t offset, void *opaque)
{
	struct run_state *state = opaque;

	(void)partition;
	(void)offset;
	if (state->result->scanned >= state->query->max_scanned)
		return STOP_SCAN;
	state->timestamp_ms = timestamp_ms;
	return fs_flow_codec_decode_each(state->codec, value, len, on_flow, state,
					 &state->result->rejected);
}

/* Reads until the range ends, a limit stops it or the deadline (monotonic ms) passes. */
static int
read_range(struct fs_topic_range *range, struct run_state *state, int64_t deadline, char *err,
	   size_t err_len)
{
	struct fs_flow_query_result *result = state->result;

	for (;;) {
		int64_t left = deadline - fs_monotonic_ms();
		int rc;

		if (left <= 0) {
			result->timed_out = true;
			return 0;
		}
		rc = fs_topic_range_read(range, left < POLL_MS ? (int)left : POLL_MS, on_message,
					 state, err, err_len);
		switch (rc) {
		case 0: result->complete = true; return 0;
		case 1: continue;
		case STOP_ROWS: result->row_limit = true; return 0;
		case STOP_SCAN: result->scan_limit = true; return 0;
		case STOP_FN: result->stopped = true; return 0;
		default: return rc;
		}
	}
}

int
fs_flow_query_run(const struct fs_flow_query *query, struct fs_flow_query_result *result,
		  char *err, size_t err_len)
{
	struct fs_topic_range_options options = {
		.topic = query->topic,
		.from_ms = query->from_ms,
		.to_ms = query->to_ms,
		.timeout_ms = query->timeout_ms,
	};
	struct run_state state = { .query = query, .result = result };
	struct fs_topic_range *range = NULL;
	/* Opening the range counts against the same time budget as reading it. */
	int64_t deadline = fs_monotonic_ms() + query->timeout_ms;
	int rc;

	memset(result, 0, sizeof(*result));
	if (query->max_rows == 0 || query->max_scanned == 0) {
		result->complete = true;
		return 0;
	}
	state.codec = fs_flow_codec_new(err, err_len);
	if (!state.codec)
		return FS_ERR_SYSTEM;
	rc = fs_topic_range_open(&range, query->bootstrap, query->props, &options, err, err_len);
	if (rc < 0)
		goto out;
	rc = read_range(range, &state, deadline, err, err_len);
out:
	fs_topic_range_free(range);
	fs_flow_codec_free(state.codec);
	return rc;
}
