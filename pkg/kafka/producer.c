/* producer.c - non-blocking Kafka producer with delivery accounting. */
#include "kafka/producer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "core/log.h"
#include "core/result.h"

struct fs_producer {
	rd_kafka_t *rk;
	atomic_uint_fast64_t sent;
	atomic_uint_fast64_t delivered;
	atomic_uint_fast64_t failed_timed_out;
	atomic_uint_fast64_t failed_broker;
	atomic_uint_fast64_t failed_local;
	atomic_uint_fast64_t dropped_queue_full;
	uint64_t lost;
	/* Set while closing, so the messages already counted as lost are not also counted as failed. */
	bool closing;
	/* Used on the polling thread only. */
	struct fs_ratelimit delivery_rl;
	struct fs_ratelimit error_rl;
	/* Senders may be several threads, so this limiter has a lock. */
	pthread_mutex_t send_rl_lock;
	struct fs_ratelimit send_rl;
};

static const char *const producer_defaults[] = {
	"linger.ms", "50",
	"batch.num.messages", "10000",
	"compression.codec", "lz4",
	"queue.buffering.max.messages", "100000",
	/* librdkafka's default is 1 GiB; 64 MiB fits 200,000 one-flow messages or
	 * about 15,000 messages of 30 flows. */
	"queue.buffering.max.kbytes", "65536",
	NULL,
};

/* Room for the built-in defaults and those a constructor adds, as pairs plus NULL. */
#define MAX_DEFAULTS 21

/*
 * Fills out (size cap) with producer_defaults followed by extra (NULL or
 * NULL-terminated pairs), so a later pair overrides an earlier one.
 */
static int
merge_defaults(const char **out, size_t cap, const char *const *extra)
{
	size_t n = 0;

	for (size_t i = 0; producer_defaults[i]; i++) {
		if (n + 1 >= cap)
			return -1;
		out[n++] = producer_defaults[i];
	}
	for (size_t i = 0; extra && extra[i]; i++) {
		if (n + 1 >= cap)
			return -1;
		out[n++] = extra[i];
	}
	out[n] = NULL;
	return 0;
}

static uint64_t
load(atomic_uint_fast64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

static void
bump(atomic_uint_fast64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* Runs inside fs_producer_poll() and fs_producer_flush(). */
static void
delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct fs_producer *p = opaque;
	/* The message's opaque is its record count, set by fs_producer_send_records(). */
	uint64_t records = (uintptr_t)msg->_private;

	(void)rk;
	if (p->closing)
		return;
	if (!msg->err) {
		bump(&p->delivered, records);
		return;
	}
	if (msg->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
		bump(&p->failed_timed_out, records);
	else if (msg->err > 0)
		bump(&p->failed_broker, records);
	else
		bump(&p->failed_local, records);
	fs_log_limited(&p->delivery_rl, FS_LOG_WARNING, "kafka",
		       "delivery to topic %s partition %d failed: %s",
		       msg->rkt ? rd_kafka_topic_name(msg->rkt) : "-",
		       (int)msg->partition, rd_kafka_err2str(msg->err));
}

/* Client-wide errors, such as every broker being down; librdkafka retries them. */
static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct fs_producer *p = opaque;

	(void)rk;
	fs_log_limited(&p->error_rl, FS_LOG_WARNING, "kafka",
		       "producer error %s: %s",
		       rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static struct fs_producer *
producer_create(const char *bootstrap, const char *const *extra_defaults,
		const struct fs_kafka_props *props, char *err, size_t err_len)
{
	struct fs_producer *p;
	rd_kafka_conf_t *conf = NULL;
	const char *defaults[MAX_DEFAULTS];
	char reason[512];

	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, err_len, "out of memory for a Kafka producer");
		return NULL;
	}
	p->delivery_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(10, 5);
	p->error_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(10, 5);
	p->send_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(10, 5);
	pthread_mutex_init(&p->send_rl_lock, NULL);

	if (merge_defaults(defaults, MAX_DEFAULTS, extra_defaults) < 0) {
		snprintf(err, err_len, "too many default Kafka properties");
		goto fail;
	}
	if (fs_kafka_conf_new(&conf, bootstrap, defaults, props, err, err_len) < 0)
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(conf, delivery_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_opaque(conf, p);

	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
	if (!p->rk) {
		snprintf(err, err_len, "creating the Kafka producer failed: %s",
			 reason);
		goto fail;
	}
	/* rd_kafka_new() took ownership of conf. */
	return p;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	pthread_mutex_destroy(&p->send_rl_lock);
	free(p);
	return NULL;
}

struct fs_producer *
fs_producer_new(const char *bootstrap, const struct fs_kafka_props *props,
		char *err, size_t err_len)
{
	return producer_create(bootstrap, NULL, props, err, err_len);
}

struct fs_producer *
fs_producer_new_config(const struct fs_config *config, char *err,
		       size_t err_len)
{
	char bootstrap[1024];
	char queue_max[32];
	const char *extra[3];
	struct fs_kafka_props props = fs_kafka_props_config(config);

	if (fs_config_bootstrap(config, bootstrap, sizeof(bootstrap), err,
				err_len) < 0)
		return NULL;
	snprintf(queue_max, sizeof(queue_max), "%lld",
		 (long long)fs_config_int(config, "kafka.queue.max.messages"));
	extra[0] = "queue.buffering.max.messages";
	extra[1] = queue_max;
	extra[2] = NULL;
	return producer_create(bootstrap, extra, &props, err, err_len);
}

int
fs_producer_send(struct fs_producer *p, const char *topic, const void *key,
		 size_t key_len, const void *value, size_t len)
{
	return fs_producer_send_records(p, topic, key, key_len, value, len, 1);
}

int
fs_producer_send_records(struct fs_producer *p, const char *topic, const void *key,
			 size_t key_len, const void *value, size_t len, uint32_t records)
{
	rd_kafka_resp_err_t err;

	/* The casts drop const only for the varargs; F_COPY never writes. */
	err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				RD_KAFKA_V_KEY((void *)key, key ? key_len : 0),
				RD_KAFKA_V_VALUE((void *)value, len),
				RD_KAFKA_V_OPAQUE((void *)(uintptr_t)records), RD_KAFKA_V_END);
	if (!err) {
		bump(&p->sent, records);
		return 0;
	}
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		bump(&p->dropped_queue_full, records);
		return FS_ERR_FULL;
	}
	pthread_mutex_lock(&p->send_rl_lock);
	fs_log_limited(&p->send_rl, FS_LOG_ERR, "kafka",
		       "queueing a message for topic %s failed: %s", topic,
		       rd_kafka_err2str(err));
	pthread_mutex_unlock(&p->send_rl_lock);
	return FS_ERR_SYSTEM;
}

int
fs_producer_prepare_topic(struct fs_producer *p, const char *topic, int timeout_ms,
			  char *err, size_t err_len)
{
	const struct rd_kafka_metadata *metadata = NULL;
	rd_kafka_topic_t *rkt;
	rd_kafka_resp_err_t rc;
	int status = 0;

	rkt = rd_kafka_topic_new(p->rk, topic, NULL);
	if (!rkt) {
		snprintf(err, err_len, "creating a handle for topic %s failed: %s", topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		return FS_ERR_SYSTEM;
	}
	rc = rd_kafka_metadata(p->rk, 0, rkt, &metadata, timeout_ms);
	if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, err_len, "fetching the metadata of topic %s failed: %s", topic,
			 rd_kafka_err2str(rc));
		status = FS_ERR_SYSTEM;
	} else if (metadata->topic_cnt != 1 || metadata->topics[0].err) {
		snprintf(err, err_len, "the broker returned no metadata for topic %s: %s", topic,
			 metadata->topic_cnt == 1 ? rd_kafka_err2str(metadata->topics[0].err) :
						    "no topic in the reply");
		status = FS_ERR_SYSTEM;
	}
	if (metadata)
		rd_kafka_metadata_destroy(metadata);
	rd_kafka_topic_destroy(rkt);
	return status;
}

int
fs_producer_poll(struct fs_producer *p, int timeout_ms)
{
	return rd_kafka_poll(p->rk, timeout_ms);
}

int
fs_producer_flush(struct fs_producer *p, int timeout_ms)
{
	if (rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	return FS_ERR_FULL;
}

void
fs_producer_stats(struct fs_producer *p, struct fs_producer_stats *out)
{
	out->sent = load(&p->sent);
	out->delivered = load(&p->delivered);
	out->failed_timed_out = load(&p->failed_timed_out);
	out->failed_broker = load(&p->failed_broker);
	out->failed_local = load(&p->failed_local);
	out->failed = out->failed_timed_out + out->failed_broker +
		      out->failed_local;
	out->dropped_queue_full = load(&p->dropped_queue_full);
	out->lost = p->lost;
	/* Accepted records whose delivery report has not run yet. */
	out->queue_depth = out->sent - out->delivered - out->failed - out->lost;
}

int
fs_producer_close(struct fs_producer *p, int timeout_ms,
		  struct fs_producer_stats *final)
{
	struct fs_producer_stats stats;
	int rc = 0;

	if (!p)
		return 0;
	fs_producer_flush(p, timeout_ms);
	fs_producer_stats(p, &stats);
	if (stats.queue_depth > 0) {
		p->lost = stats.queue_depth;
		fs_log(FS_LOG_ERR, "kafka",
		       "closing the producer with %llu records undelivered after %d ms; they are lost",
		       (unsigned long long)p->lost, timeout_ms);
		rc = FS_ERR_FULL;
	}
	p->closing = true;
	rd_kafka_destroy(p->rk);
	if (final)
		fs_producer_stats(p, final);
	pthread_mutex_destroy(&p->send_rl_lock);
	free(p);
	return rc;
}
