/*
 * topic_range.h - reads a bounded range of one Kafka topic, without a
 * consumer group.
 *
 * At open, the reader fixes a range for every partition of the topic:
 *   - start: the earliest offset by default; with from_ms, the first
 *     message whose timestamp is at or after from_ms; with an offset, that
 *     offset (clamped to the offsets the partition contains), or, when negative, that
 *     many messages before the end;
 *   - end (exclusive): the high watermark at open, or with to_ms, the first
 *     message whose timestamp is at or after to_ms, when that comes first.
 * Reading stops when every partition reached its end, so messages produced
 * after the open are not read.  Inside the range, messages whose timestamp
 * is before from_ms or at or after to_ms are skipped, because timestamps
 * within a partition need not increase.
 *
 * Offsets by time come from rd_kafka_offsets_for_times().  A broker that
 * does not look up by time (librdkafka 2.0's mock cluster answers "no such
 * message" to every lookup) is detected from the partition's last message,
 * whose timestamp contradicts that answer; such a partition is then read
 * from its oldest message and filtered by timestamp alone.  The reader assigns the partitions itself,
 * never joins a group and commits nothing.
 *
 * Thread safety: one thread at a time per reader.
 */
#ifndef FS_KAFKA_TOPIC_RANGE_H
#define FS_KAFKA_TOPIC_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka/kafka_conf.h"

/* Maximum partitions of a topic the reader accepts. */
#define FS_TOPIC_RANGE_MAX_PARTITIONS 4096

struct fs_topic_range_options {
	const char *topic;  /* borrowed for the open call */
	int64_t from_ms;    /* Unix ms, or -1 for the start of the topic */
	int64_t to_ms;      /* Unix ms, or -1 for the high watermark at open */
	bool has_offset;    /* start at offset instead of from_ms */
	int64_t offset;     /* start offset in every partition; negative: from the end */
	int timeout_ms;     /* for metadata and offset queries at open */
};

/*
 * Receives one message: value (len bytes) is borrowed for the call.
 * timestamp_ms is -1 when the message has none.  A nonzero return stops
 * the read and is returned by fs_topic_range_read().
 */
typedef int fs_topic_range_fn(const void *value, size_t len, int64_t timestamp_ms,
			      int32_t partition, int64_t offset, void *opaque);

struct fs_topic_range;

/*
 * Connects to bootstrap (borrowed) with props (borrowed, may be NULL),
 * finds the topic's partitions and fixes the range of each.  Returns 0 and
 * stores the reader, which the caller frees with fs_topic_range_free(), in
 * *out; or FS_ERR_NOT_FOUND when the topic does not exist, FS_ERR_INVALID
 * for a rejected property, or FS_ERR_SYSTEM when the cluster does not answer
 * in time, with the reason in err.
 */
int fs_topic_range_open(struct fs_topic_range **out, const char *bootstrap,
			const struct fs_kafka_props *props,
			const struct fs_topic_range_options *opt, char *err,
			size_t err_len);

/*
 * Waits up to timeout_ms for messages and calls fn for each message inside
 * the range.  Returns 1 while some partition has not reached its end, 0 when
 * the whole range was read, fn's nonzero return, or FS_ERR_SYSTEM on a fatal
 * client error (reason in err).
 */
int fs_topic_range_read(struct fs_topic_range *r, int timeout_ms, fs_topic_range_fn *fn,
			void *opaque, char *err, size_t err_len);

/* Stores the messages read so far and the size of the range, for progress. */
void fs_topic_range_progress(const struct fs_topic_range *r, uint64_t *done,
			     uint64_t *total);

/* Closes the connection and frees the reader; NULL is allowed. */
void fs_topic_range_free(struct fs_topic_range *r);

#endif
