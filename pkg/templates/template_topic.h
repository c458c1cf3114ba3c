/*
 * template_topic.h - reads the shared-templates topic from its beginning,
 * then follows it.
 *
 * The reader assigns itself every partition of the topic at the earliest
 * offset, without joining a consumer group or committing offsets, so every
 * ingest replica reads every record.  fs_template_topic_load() reads until
 * each partition reaches the high watermark it had at the call, or until
 * max_records or max_bytes were read, or the timeout passed.
 * fs_template_topic_follow() then starts a thread that reads on from there
 * until fs_template_topic_free().  A topic that does not exist yet is looked
 * up again every FS_TEMPLATE_TOPIC_RETRY_S seconds by the thread and read
 * from its beginning once it appears.
 *
 * NOTE: partitions added to the topic after it was found are not read.
 *
 * Thread safety: load runs on the caller's thread; afterwards the callback
 * runs on the follow thread only.  Stats may be read from any thread.
 */
#ifndef FS_TEMPLATES_TEMPLATE_TOPIC_H
#define FS_TEMPLATES_TEMPLATE_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#include "kafka/kafka_conf.h"

#define FS_TEMPLATE_TOPIC_RETRY_S 5

/*
 * Receives one record: key (key_len bytes) and value (len bytes; NULL for
 * a tombstone) are borrowed for the call.
 */
typedef void fs_template_topic_fn(const void *key, size_t key_len, const void *value,
				  size_t len, void *opaque);

struct fs_template_topic_options {
	const char *topic;     /* copied */
	uint64_t max_records;  /* load stops after this many records */
	uint64_t max_bytes;    /* load stops after this many key and value bytes */
	int timeout_ms;        /* load stops after this long */
};

struct fs_template_topic_stats {
	uint64_t loaded_records; /* read by fs_template_topic_load() */
	uint64_t loaded_bytes;
	uint64_t followed_records; /* read by the follow thread */
	uint64_t errors;           /* consumer errors other than end of partition */
};

struct fs_template_topic;

/*
 * Creates the reader for bootstrap (borrowed) with the pass-through props
 * (borrowed, may be NULL), calling fn with opaque for every record.
 * Returns 0 and stores the reader in *out, or a negative fs_result with the
 * reason in err.  Free with fs_template_topic_free().
 */
int fs_template_topic_new(struct fs_template_topic **out, const char *bootstrap,
			  const struct fs_kafka_props *props,
			  const struct fs_template_topic_options *options,
			  fs_template_topic_fn *fn, void *opaque, char *err, size_t err_len);

/*
 * Reads the topic from its beginning up to the high watermarks, within the
 * bounds of the options.  Returns 0 when every record up to the watermarks
 * was read (or the topic does not exist yet), 1 when a bound stopped the
 * load first (the follow thread reads the rest), or FS_ERR_SYSTEM with err
 * set when a metadata or offset request to the cluster fails or times out.
 */
int fs_template_topic_load(struct fs_template_topic *t, char *err, size_t err_len);

/* Starts the follow thread.  Returns 0, or FS_ERR_SYSTEM with err set. */
int fs_template_topic_follow(struct fs_template_topic *t, char *err, size_t err_len);

void fs_template_topic_stats(const struct fs_template_topic *t,
			     struct fs_template_topic_stats *out);

/* Stops the follow thread, closes the consumer and frees t; NULL is ignored. */
void fs_template_topic_free(struct fs_template_topic *t);

#endif
