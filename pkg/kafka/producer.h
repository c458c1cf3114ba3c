/*
 * producer.h - a non-blocking Kafka producer with counted outcomes.
 *
 * fs_producer_send() copies each message into librdkafka's local queue and
 * returns at once.  When that queue is full the message is dropped and counted
 * (dropped_queue_full), so a burst of flows never stalls the collector.
 * librdkafka batches, compresses and sends the queue on its own threads.  The
 * owner calls fs_producer_poll() regularly, and the delivery reports that run
 * there count each message as delivered or failed.
 *
 * The counters count records: a message from fs_producer_send() is one
 * record, and one from fs_producer_send_records() counts as many as it contains
 * (the flows of one export datagram, for example), so that flows stay
 * countable when several share a message.  Every record ends in exactly one
 * counter once the producer is closed:
 *   sent = delivered + failed + lost
 * and dropped_queue_full counts the records that were never queued.
 *
 * Defaults, each replaced by passing the same librdkafka property:
 *   linger.ms                      50
 *   batch.num.messages             10000
 *   compression.codec              lz4
 *   queue.buffering.max.messages   100000
 *   queue.buffering.max.kbytes     65536
 *   message.timeout.ms             300000 (librdkafka's own default)
 *
 * Thread safety: fs_producer_send() and fs_producer_stats() may be called from
 * several threads; fs_producer_poll() and fs_producer_flush() from one thread
 * at a time (the delivery reports run there).  The counters are atomic.
 */
#ifndef FS_KAFKA_PRODUCER_H
#define FS_KAFKA_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "kafka/kafka_conf.h"

struct fs_config;
struct fs_producer;

struct fs_producer_stats {
	uint64_t sent;               /* accepted into the local queue */
	uint64_t delivered;          /* acknowledged by the broker */
	uint64_t failed;             /* delivery failed, all causes */
	uint64_t failed_timed_out;   /* of failed: message.timeout.ms expired */
	uint64_t failed_broker;      /* of failed: the broker returned an error */
	uint64_t failed_local;       /* of failed: any other local error */
	uint64_t dropped_queue_full; /* rejected because the local queue was full */
	uint64_t lost;               /* still queued when the producer was closed */
	uint64_t queue_depth;        /* records queued or in flight right now */
};

/*
 * Creates a producer for bootstrap ("host:port,...", borrowed) with the
 * defaults above overridden by props (borrowed, may be NULL).  Returns the
 * producer, or NULL with the reason in err; a rejected property is named.
 */
struct fs_producer *fs_producer_new(const char *bootstrap,
				    const struct fs_kafka_props *props,
				    char *err, size_t err_len);

/*
 * Creates a producer from a flowsift configuration: the bootstrap servers from
 * fs_config_bootstrap(), queue.buffering.max.messages from
 * kafka.queue.max.messages, then every `kafka.` pass-through property.
 * config is borrowed and only read during the call.
 */
struct fs_producer *fs_producer_new_config(const struct fs_config *config,
					   char *err, size_t err_len);

/*
 * Queues one message for topic (created on first use and cached by
 * librdkafka).  key may be NULL.  key and value are copied, so the caller may
 * reuse them at once.  The partition is chosen by librdkafka's default
 * partitioner from the key (random when key is NULL).
 *
 * Returns 0 when queued, FS_ERR_FULL when the local queue is full (counted in
 * dropped_queue_full; never blocks), or FS_ERR_SYSTEM for any other error,
 * which is logged rate-limited.
 */
int fs_producer_send(struct fs_producer *p, const char *topic, const void *key,
		     size_t key_len, const void *value, size_t len);

/*
 * Queues one message like fs_producer_send() that contains records records (at
 * least 1); every counter counts them all.
 */
int fs_producer_send_records(struct fs_producer *p, const char *topic, const void *key,
			     size_t key_len, const void *value, size_t len, uint32_t records);

/*
 * Connects to the cluster and fetches the metadata of topic (borrowed), so
 * that the first messages sent to it go out at once.  Without this,
 * librdkafka learns a topic's partition leaders only on its first message,
 * and at 400,000 flows/s the local queue filled during that first second.
 * Waits up to timeout_ms.  Returns 0, or FS_ERR_SYSTEM with the reason in
 * err when the metadata did not arrive in time.  The producer works either
 * way, so the caller may log the error and go on.
 */
int fs_producer_prepare_topic(struct fs_producer *p, const char *topic, int timeout_ms,
			      char *err, size_t err_len);

/* Runs pending delivery reports, waiting up to timeout_ms for the first.  Returns how many ran. */
int fs_producer_poll(struct fs_producer *p, int timeout_ms);

/*
 * Waits up to timeout_ms for every queued message to be delivered or fail,
 * running delivery reports meanwhile.  Returns 0 when the queue is empty, or
 * FS_ERR_FULL when messages are still queued at the timeout.
 */
int fs_producer_flush(struct fs_producer *p, int timeout_ms);

/* Copies the counters into *out; queue_depth is read at the time of the call. */
void fs_producer_stats(struct fs_producer *p, struct fs_producer_stats *out);

/*
 * Flushes for up to timeout_ms, counts what is still queued as lost (and logs
 * it), stores the final counters in *final when it is not NULL, then destroys
 * the producer.  Returns 0, or FS_ERR_FULL when messages were lost.  p may be
 * NULL.
 */
int fs_producer_close(struct fs_producer *p, int timeout_ms,
		      struct fs_producer_stats *final);

#endif
