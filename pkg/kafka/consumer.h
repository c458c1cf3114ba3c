/*
 * consumer.h - a Kafka group consumer that commits only handled messages.
 *
 * The consumer joins a consumer group, subscribes to one or more topics and
 * hands each message to a caller's handler.  A message's offset is stored for
 * commit only after its handler returned 0 (enable.auto.offset.store=false),
 * and librdkafka commits the stored offsets every auto.commit.interval.ms
 * (unless enable.auto.commit is set to false) and on close.  So after a crash
 * or restart, consumption resumes at the first message that was not handled:
 * a message may be delivered twice, and is skipped only when its handler
 * returned 0 or it left the topic's retention before being read.
 *
 * A handler that returns nonzero marks its message as not handled: the
 * consumer seeks that partition back to the message, so the next poll
 * delivers it again, and no offset past it is stored.  A handler should
 * therefore return 0 for a message that can never be handled (malformed
 * input), after counting it, and nonzero only for a failure worth retrying,
 * such as its own downstream being unavailable.
 *
 * Messages the broker deletes before they are read (retention shorter than
 * the consumer's lag) leave a gap in a partition's offsets.  The consumer
 * counts the gap in lost and logs it, at most 5 lines a minute.  Before a
 * partition's first message of an assignment, the position comes from
 * librdkafka's log line of the offset reset that the deletion caused
 * (librdkafka 2.0.2's wording).  NOTE: another wording of that line leaves
 * such a loss uncounted, though librdkafka still logs it as a warning.
 *
 * Defaults, each replaced by passing the same librdkafka property:
 *   auto.offset.reset   earliest (a new group starts at the oldest message)
 *
 * Thread safety: one thread at a time per consumer.
 */
#ifndef FS_KAFKA_CONSUMER_H
#define FS_KAFKA_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "kafka/kafka_conf.h"

struct fs_config;
struct fs_consumer;

/*
 * Handles one message.  key is NULL when the message has none.  key and value
 * are borrowed until the handler returns.  timestamp_ms is the message's
 * create or log-append time in milliseconds since the Unix epoch, or -1 when
 * the broker has none.  Returns 0 when handled, nonzero to have the message
 * delivered again.
 */
typedef int fs_consumer_handler_fn(const void *key, size_t key_len,
				   const void *value, size_t len,
				   int64_t timestamp_ms, void *opaque);

struct fs_consumer_stats {
	uint64_t consumed;         /* messages passed to the handler */
	uint64_t handled;          /* of consumed: the handler returned 0 */
	uint64_t handler_failures; /* of consumed: the handler returned nonzero */
	uint64_t store_failures;   /* offsets that could not be stored */
	uint64_t commit_failures;  /* offset commits the broker rejected */
	uint64_t errors;           /* consumer errors reported by librdkafka */
	uint64_t rewound;          /* handled messages to be consumed again by fs_consumer_rewind_pending() */
	uint64_t partitions;       /* partitions assigned now, looked up at most once a second */
	uint64_t lost;             /* messages the broker deleted before they were read: gaps in a
				    * partition's offsets while it stayed assigned */
};

/*
 * Creates a consumer in group group_id subscribed to topics[0..ntopics-1].
 * All strings and props (may be NULL) are borrowed for the call only.
 * Returns the consumer, or NULL with the reason in err; a rejected property is
 * named.  The group is joined during the first polls.
 */
struct fs_consumer *fs_consumer_new(const char *bootstrap, const char *group_id,
				    const char *const *topics, size_t ntopics,
				    const struct fs_kafka_props *props,
				    char *err, size_t err_len);

/*
 * Creates a consumer from a flowsift configuration: the bootstrap servers from
 * fs_config_bootstrap() and every `kafka.` pass-through property.
 */
struct fs_consumer *fs_consumer_new_config(const struct fs_config *config,
					   const char *group_id,
					   const char *const *topics,
					   size_t ntopics, char *err,
					   size_t err_len);

/*
 * Consumes up to max_messages (at least 1), waiting up to timeout_ms for the
 * first and taking the rest only if already fetched, and calls handler for
 * each.  Stops early after a handler failure.  Partition EOF and transient
 * errors are counted and logged rate-limited, not returned.
 *
 * Returns the number of messages handled (0 when none arrived in time), or
 * FS_ERR_SYSTEM on a fatal client error, after which the consumer should be
 * closed.
 */
int fs_consumer_poll(struct fs_consumer *c, int timeout_ms,
		     fs_consumer_handler_fn *handler, void *opaque,
		     int max_messages);

/*
 * Switches manual store mode on (on != 0) or off.  In manual mode a handled
 * message's offset is not stored at once but remembered, and stored only by
 * the next fs_consumer_store_pending().  A caller that batches its output
 * (for example, sums flows and writes them to Redis once a second) calls
 * fs_consumer_store_pending() after each successful write, so no offset is
 * committed for a message whose effect was not yet written.
 */
void fs_consumer_set_manual_store(struct fs_consumer *c, int on);

/*
 * Stores the offsets remembered in manual mode for the next commit.  Returns
 * 0, or FS_ERR_SYSTEM when some could not be stored (counted in
 * store_failures and logged; their messages will be consumed again).
 */
int fs_consumer_store_pending(struct fs_consumer *c);

/*
 * Seeks every partition with offsets remembered in manual store mode back to
 * the first message handled since the last fs_consumer_store_pending(), and
 * discards those offsets, so the next polls deliver those messages again.  A
 * caller whose output for them failed, for example a delivery that timed out
 * in a broker outage, calls this in place of fs_consumer_store_pending() and
 * keeps running.  Its output stays at-least-once, because the messages whose
 * output had been acknowledged are produced twice.  A partition that is no
 * longer assigned is skipped, because it restarts at its committed offset.
 * NOTE: the tests rewind only while the input partitions' leader is up.
 * Whether the seek completes while every broker is down is untested, and a
 * failed seek makes the caller stop (below), which loses nothing.
 *
 * Returns 0, or FS_ERR_SYSTEM when a seek failed (logged).  The consumer's
 * position is then unknown, and the caller must stop without storing
 * offsets, so a restart consumes the messages again.
 */
int fs_consumer_rewind_pending(struct fs_consumer *c);

/*
 * Stores the partition and offset of the message whose handler is running
 * in *partition and *offset.  A handler that returns nonzero after acting on
 * part of a message (some of its flows) uses them to recognise the message
 * when it is delivered again and to skip that part.  Returns 0, or
 * FS_ERR_NOT_FOUND outside a handler.
 */
int fs_consumer_current(const struct fs_consumer *c, int32_t *partition, int64_t *offset);

void fs_consumer_stats(const struct fs_consumer *c,
		       struct fs_consumer_stats *out);

/*
 * Commits the stored offsets, leaves the group and destroys the consumer.
 * Stores the final counters in *final when it is not NULL.  Returns 0, or
 * FS_ERR_SYSTEM when the final commit failed (the offsets of the last
 * auto.commit.interval.ms may then be consumed again).  c may be NULL.
 */
int fs_consumer_close(struct fs_consumer *c, struct fs_consumer_stats *final);

#endif
