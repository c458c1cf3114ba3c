/* topic_reader.c - reads a topic's partitions up to their end offsets for tests. */
#include "topic_reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "core/clock.h"

#define REQUEST_TIMEOUT_MS 5000
#define MAX_PARTITIONS 256

struct fs_test_topic_reader {
	rd_kafka_t *rk;
	char topic[256];
	int partitions;
	int64_t next[MAX_PARTITIONS];   /* offset of the next message to read, per partition */
};

/* Finds the partition count and assigns every partition from its start.  Returns 0 or -1. */
static int
assign_all(struct fs_test_topic_reader *r)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *list;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, r->topic, NULL);
	rd_kafka_resp_err_t err;

	if (!rkt)
		return -1;
	err = rd_kafka_metadata(r->rk, 0, rkt, &md, REQUEST_TIMEOUT_MS);
	rd_kafka_topic_destroy(rkt);
	if (err) {
		fprintf(stderr, "no metadata for topic %s: %s\n", r->topic, rd_kafka_err2str(err));
		return -1;
	}
	if (md->topic_cnt != 1 || md->topics[0].err ||
	    md->topics[0].partition_cnt > MAX_PARTITIONS) {
		fprintf(stderr, "topic %s is missing or has more than %d partitions\n", r->topic,
			MAX_PARTITIONS);
		rd_kafka_metadata_destroy(md);
		return -1;
	}
	r->partitions = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	list = rd_kafka_topic_partition_list_new(r->partitions);
	for (int p = 0; p < r->partitions; p++)
		rd_kafka_topic_partition_list_add(list, r->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	err = rd_kafka_assign(r->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (err) {
		fprintf(stderr, "assigning %s failed: %s\n", r->topic, rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

struct fs_test_topic_reader *
fs_test_topic_reader_new(const char *bootstrap, const char *topic)
{
	struct fs_test_topic_reader *r = calloc(1, sizeof(*r));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];

	if (!r || !conf)
		goto fail;
	snprintf(r->topic, sizeof(r->topic), "%s", topic);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "group.id", "fstest-topic-reader", err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err))) {
		fprintf(stderr, "topic reader configuration: %s\n", err);
		goto fail;
	}
	r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!r->rk) {
		fprintf(stderr, "creating the topic reader failed: %s\n", err);
		goto fail;
	}
	conf = NULL;
	if (assign_all(r) < 0)
		goto fail;
	return r;
fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	fs_test_topic_reader_free(r);
	return NULL;
}

long
fs_test_topic_reader_drain(struct fs_test_topic_reader *r, fs_test_message_fn *fn, void *opaque,
			   int timeout_ms)
{
	int64_t end[MAX_PARTITIONS];
	int64_t deadline = fs_monotonic_ms() + timeout_ms;
	long count = 0;

	for (int p = 0; p < r->partitions; p++) {
		int64_t low = 0;
		rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
			r->rk, r->topic, p, &low, &end[p], REQUEST_TIMEOUT_MS);

		if (err) {
			fprintf(stderr, "end offset of %s partition %d: %s\n", r->topic, p,
				rd_kafka_err2str(err));
			return -1;
		}
		if (r->next[p] < low)
			r->next[p] = low;
	}
	for (;;) {
		rd_kafka_message_t *msg;
		int done = 1;

		for (int p = 0; p < r->partitions; p++)
			done &= r->next[p] >= end[p];
		if (done)
			return count;
		if (fs_monotonic_ms() >= deadline) {
			fprintf(stderr, "reading %s to its end offsets timed out after %d ms\n",
				r->topic, timeout_ms);
			return -1;
		}
		msg = rd_kafka_consumer_poll(r->rk, 100);
		if (!msg)
			continue;
		if (!msg->err && msg->partition >= 0 && msg->partition < r->partitions &&
		    msg->offset >= r->next[msg->partition]) {
			fn(msg->payload, msg->len, opaque);
			r->next[msg->partition] = msg->offset + 1;
			count++;
		}
		rd_kafka_message_destroy(msg);
	}
}

void
fs_test_topic_reader_free(struct fs_test_topic_reader *r)
{
	if (!r)
		return;
	if (r->rk) {
		rd_kafka_consumer_close(r->rk);
		rd_kafka_destroy(r->rk);
	}
	free(r);
}
