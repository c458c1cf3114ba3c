/*
 * test_kafka.c - producer, consumer and flowsift-broker against a Kafka
 * protocol implementation on loopback.
 *
 * Each test starts librdkafka's mock cluster in-process (real Kafka protocol
 * over 127.0.0.1 TCP), except the last, which runs build/bin/flowsift-broker
 * ($FSTEST_BIN_DIR overrides the folder).  FSTEST_LOG_DEBUG=1 logs debug lines,
 * including librdkafka's consumer group and fetch debug contexts.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"
#include "kafka/consumer.h"
#include "kafka/kafka_conf.h"
#include "kafka/producer.h"

#define TOPIC_MULTI "test.multi"   /* 4 partitions */
#define TOPIC_SINGLE "test.single" /* 1 partition: one total order */
#define MAX_RECORDED 1024
/* Upper bound for any wait on the cluster, which usually responds within milliseconds. */
#define DEADLINE_MS 30000

struct cluster {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mock;
	const char *bootstrap;
};

/* What a handler saw: message indexes parsed from "msg-<index>" values. */
struct recorder {
	int indexes[MAX_RECORDED];
	int count;
	int fail_index;        /* the handler fails on this index, -1 never */
	int failures;
	int bad_payloads;      /* values not of the form msg-<index>, or key mismatch */
	int missing_timestamp;
};

static int
setup_cluster(void **state)
{
	struct cluster *c = calloc(1, sizeof(*c));
	rd_kafka_conf_t *conf;
	char err[256];

	assert_non_null(c);
	assert_int_equal(fs_kafka_conf_new(&conf, NULL, NULL, NULL, err, sizeof(err)), 0);
	c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(c->rk);
	c->mock = rd_kafka_mock_cluster_new(c->rk, 1);
	assert_non_null(c->mock);
	assert_int_equal(rd_kafka_mock_topic_create(c->mock, TOPIC_MULTI, 4, 1), 0);
	assert_int_equal(rd_kafka_mock_topic_create(c->mock, TOPIC_SINGLE, 1, 1), 0);
	c->bootstrap = rd_kafka_mock_cluster_bootstraps(c->mock);
	*state = c;
	return 0;
}

static int
teardown_cluster(void **state)
{
	struct cluster *c = *state;

	rd_kafka_mock_cluster_destroy(c->mock);
	rd_kafka_destroy(c->rk);
	free(c);
	return 0;
}

static int
record_handler(const void *key, size_t key_len, const void *value, size_t len,
	       int64_t timestamp_ms, void *opaque)
{
	struct recorder *r = opaque;
	char text[64];
	char expected_key[64];
	int index;

	if (len >= sizeof(text)) {
		r->bad_payloads++;
		return 0;
	}
	memcpy(text, value, len);
	text[len] = '\0';
	if (sscanf(text, "msg-%d", &index) != 1) {
		r->bad_payloads++;
		return 0;
	}
	snprintf(expected_key, sizeof(expected_key), "key-%d", index);
	if (!key || key_len != strlen(expected_key) ||
	    memcmp(key, expected_key, key_len) != 0)
		r->bad_payloads++;
	if (timestamp_ms <= 0)
		r->missing_timestamp++;
	if (index == r->fail_index) {
		r->failures++;
		return -1;
	}
	if (r->count < MAX_RECORDED)
		r->indexes[r->count++] = index;
	return 0;
}

static void
produce_range(struct fs_producer *p, const char *topic, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		char key[32];
		char value[32];
		int key_len = snprintf(key, sizeof(key), "key-%d", i);
		int len = snprintf(value, sizeof(value), "msg-%d", i);

		assert_int_equal(fs_producer_send(p, topic, key, (size_t)key_len,
						  value, (size_t)len), 0);
	}
}

/* Produces messages first..first+count-1 and waits until all are delivered. */
static void
produce_all(const char *bootstrap, const char *topic, int first, int count)
{
	char err[256] = "";
	struct fs_producer *p = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	struct fs_producer_stats stats;

	assert_non_null(p);
	produce_range(p, topic, first, count);
	assert_int_equal(fs_producer_flush(p, DEADLINE_MS), 0);
	assert_int_equal(fs_producer_close(p, 1000, &stats), 0);
	assert_int_equal(stats.sent, (uint64_t)count);
	assert_int_equal(stats.delivered, (uint64_t)count);
	assert_int_equal(stats.failed, 0);
	assert_int_equal(stats.lost, 0);
}

/*
 * NOTE: after a member leaves, librdkafka 2.0.2's mock cluster delays the next
 * JoinGroup of that group by the departed member's session timeout (45 s by
 * default), so test consumers use a short session.timeout.ms to keep the
 * reopen tests fast.  A Kafka broker does not wait for a member that sent
 * LeaveGroup.
 */
static struct fs_consumer *
open_consumer(const char *bootstrap, const char *group, const char *topic)
{
	static const char *const props[] = {
		"session.timeout.ms", "4000", "heartbeat.interval.ms", "500", NULL,
	};
	static const char *const debug_props[] = {
		"session.timeout.ms", "4000", "heartbeat.interval.ms", "500",
		"debug", "cgrp,fetch", NULL,
	};
	const char *topics[] = { topic };
	struct fs_kafka_props kp = {
		.pairs = getenv("FSTEST_LOG_DEBUG") ? debug_props : props,
	};
	char err[256] = "";
	struct fs_consumer *c = fs_consumer_new(bootstrap, group, topics, 1, &kp,
						err, sizeof(err));

	if (!c)
		fail_msg("fs_consumer_new: %s", err);
	return c;
}

/* Polls until r->count reaches want, a handler failure, or the deadline. */
static void
consume_until(struct fs_consumer *c, struct recorder *r, int want)
{
	int64_t deadline = fs_monotonic_ms() + DEADLINE_MS;

	while (r->count < want && r->failures == 0 && fs_monotonic_ms() < deadline) {
		int rc = fs_consumer_poll(c, 100, record_handler, r, 64);

		assert_true(rc >= 0);
	}
}

static void
test_roundtrip_multi_partition(void **state)
{
	struct cluster *cl = *state;
	struct recorder r = { .fail_index = -1 };
	struct fs_consumer_stats stats;
	static unsigned char seen[500];
	struct fs_consumer *c;
	const int n = 500;

	produce_all(cl->bootstrap, TOPIC_MULTI, 0, n);
	c = open_consumer(cl->bootstrap, "roundtrip", TOPIC_MULTI);
	consume_until(c, &r, n);
	assert_int_equal(fs_consumer_close(c, &stats), 0);

	assert_int_equal(r.count, n);
	assert_int_equal(r.bad_payloads, 0);
	assert_int_equal(r.missing_timestamp, 0);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < r.count; i++) {
		assert_in_range(r.indexes[i], 0, n - 1);
		seen[r.indexes[i]]++;
	}
	for (int i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(stats.consumed, (uint64_t)n);
	assert_int_equal(stats.handled, (uint64_t)n);
	assert_int_equal(stats.handler_failures, 0);
	assert_int_equal(stats.commit_failures, 0);
}

static void
test_failed_message_redelivered(void **state)
{
	struct cluster *cl = *state;
	struct recorder r = { .fail_index = 7 };
	struct fs_consumer *c;

	produce_all(cl->bootstrap, TOPIC_SINGLE, 0, 20);
	c = open_consumer(cl->bootstrap, "redeliver", TOPIC_SINGLE);
	consume_until(c, &r, 20);
	assert_int_equal(r.failures, 1);
	assert_int_equal(r.count, 7);

	/* The next poll starts again at the failed message. */
	r.fail_index = -1;
	r.failures = 0;
	r.count = 0;
	consume_until(c, &r, 13);
	assert_int_equal(r.count, 13);
	assert_int_equal(r.indexes[0], 7);
	assert_int_equal(r.indexes[12], 19);
	assert_int_equal(fs_consumer_close(c, NULL), 0);
}

static void
test_commit_stops_at_failed(void **state)
{
	struct cluster *cl = *state;
	struct recorder r = { .fail_index = 7 };
	struct fs_consumer_stats stats;
	struct fs_consumer *c;

	produce_all(cl->bootstrap, TOPIC_SINGLE, 0, 20);
	c = open_consumer(cl->bootstrap, "resume", TOPIC_SINGLE);
	consume_until(c, &r, 20);
	assert_int_equal(fs_consumer_close(c, &stats), 0);
	assert_int_equal(r.count, 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(r.indexes[i], i);
	assert_int_equal(stats.handler_failures, 1);
	assert_int_equal(stats.handled, 7);

	/* A new member of the same group resumes at the failed message. */
	memset(&r, 0, sizeof(r));
	r.fail_index = -1;
	c = open_consumer(cl->bootstrap, "resume", TOPIC_SINGLE);
	consume_until(c, &r, 13);
	assert_int_equal(fs_consumer_close(c, NULL), 0);
	assert_int_equal(r.count, 13);
	for (int i = 0; i < 13; i++)
		assert_int_equal(r.indexes[i], 7 + i);
}

static void
test_manual_store_waits_for_store(void **state)
{
	struct cluster *cl = *state;
	struct recorder r = { .fail_index = -1 };
	struct fs_consumer *c;

	produce_all(cl->bootstrap, TOPIC_SINGLE, 0, 10);

	/* Handled but never stored: a new member reads everything again. */
	c = open_consumer(cl->bootstrap, "manual", TOPIC_SINGLE);
	fs_consumer_set_manual_store(c, 1);
	consume_until(c, &r, 10);
	assert_int_equal(r.count, 10);
	assert_int_equal(fs_consumer_close(c, NULL), 0);

	/* Stored after the first 10, not after the next 4: the next member starts at 10. */
	memset(&r, 0, sizeof(r));
	r.fail_index = -1;
	c = open_consumer(cl->bootstrap, "manual", TOPIC_SINGLE);
	fs_consumer_set_manual_store(c, 1);
	consume_until(c, &r, 10);
	assert_int_equal(r.count, 10);
	assert_int_equal(fs_consumer_store_pending(c), 0);
	produce_all(cl->bootstrap, TOPIC_SINGLE, 10, 4);
	consume_until(c, &r, 14);
	assert_int_equal(r.count, 14);
	assert_int_equal(fs_consumer_close(c, NULL), 0);

	memset(&r, 0, sizeof(r));
	r.fail_index = -1;
	c = open_consumer(cl->bootstrap, "manual", TOPIC_SINGLE);
	consume_until(c, &r, 4);
	assert_int_equal(fs_consumer_close(c, NULL), 0);
	assert_int_equal(r.count, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r.indexes[i], 10 + i);
}

/* Produces count messages of 100 KiB of random bytes, so that compression keeps their size. */
static void
produce_big(const char *bootstrap, const char *topic, int count)
{
	static unsigned char big[100 * 1024];
	struct fs_producer *p;
	char err[256] = "";
	unsigned seed = 12345;

	p = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	assert_non_null(p);
	for (int i = 0; i < count; i++) {
		for (size_t j = 0; j < sizeof(big); j++)
			big[j] = (unsigned char)rand_r(&seed);
		assert_int_equal(fs_producer_send(p, topic, NULL, 0, big, sizeof(big)), 0);
	}
	assert_int_equal(fs_producer_flush(p, DEADLINE_MS), 0);
	assert_int_equal(fs_producer_close(p, 1000, NULL), 0);
}

/* Polls c until want messages are consumed or counted as lost, or the deadline. */
static void
consume_or_lose(struct fs_consumer *c, struct recorder *r, uint64_t want,
		struct fs_consumer_stats *stats)
{
	int64_t deadline = fs_monotonic_ms() + DEADLINE_MS;

	memset(stats, 0, sizeof(*stats));
	while (stats->consumed + stats->lost < want && fs_monotonic_ms() < deadline) {
		assert_true(fs_consumer_poll(c, 100, record_handler, r, 64) >= 0);
		fs_consumer_stats(c, stats);
	}
}

/*
 * Messages that the broker deletes while the consumer lags are counted as
 * lost.  The mock cluster keeps about 5 MiB per partition.  The consumer
 * reads 10 small messages and prefetches at most about 1 MiB, then 120
 * messages of 100 KiB arrive.  The broker deletes the oldest before the
 * consumer reads them, and every message is either consumed or lost.
 */
static void
test_deleted_messages_counted(void **state)
{
	static const char *const props[] = {
		"session.timeout.ms", "4000", "heartbeat.interval.ms", "500",
		"queued.max.messages.kbytes", "1", NULL,
	};
	struct cluster *cl = *state;
	struct fs_kafka_props kp = { .pairs = props };
	struct recorder r = { .fail_index = -1 };
	const char *topics[] = { "test.retention" };
	struct fs_consumer_stats stats;
	struct fs_consumer *c;
	char err[256] = "";

	assert_int_equal(rd_kafka_mock_topic_create(cl->mock, "test.retention", 1, 1), 0);
	produce_all(cl->bootstrap, "test.retention", 0, 10);
	c = fs_consumer_new(cl->bootstrap, "retention", topics, 1, &kp, err, sizeof(err));
	assert_non_null(c);
	consume_until(c, &r, 10);
	assert_int_equal(r.count, 10);

	produce_big(cl->bootstrap, "test.retention", 120);
	consume_or_lose(c, &r, 130, &stats);
	assert_true(stats.lost > 0);
	assert_int_equal(stats.consumed + stats.lost, 130);
	assert_int_equal(fs_consumer_close(c, NULL), 0);
}

/*
 * A member that joins at a committed offset the broker has deleted counts
 * the messages from there to the first one it reads, which librdkafka's
 * offset reset skipped.
 */
static void
test_deleted_before_first_read_counted(void **state)
{
	struct cluster *cl = *state;
	struct recorder r = { .fail_index = -1 };
	struct fs_consumer_stats stats;
	struct fs_consumer *c;

	assert_int_equal(rd_kafka_mock_topic_create(cl->mock, "test.reset", 1, 1), 0);
	produce_all(cl->bootstrap, "test.reset", 0, 10);
	c = open_consumer(cl->bootstrap, "reset", "test.reset");
	consume_until(c, &r, 10);
	assert_int_equal(r.count, 10);
	assert_int_equal(fs_consumer_close(c, NULL), 0);

	/* The commit at offset 10 now names a message the broker deleted. */
	produce_big(cl->bootstrap, "test.reset", 120);
	c = open_consumer(cl->bootstrap, "reset", "test.reset");
	consume_or_lose(c, &r, 120, &stats);
	assert_true(stats.lost > 0);
	assert_int_equal(stats.consumed + stats.lost, 120);
	assert_int_equal(fs_consumer_close(c, NULL), 0);
}

static void
test_full_queue_counted(void **state)
{
	struct cluster *cl = *state;
	static const char *const props[] = {
		"queue.buffering.max.messages", "5", NULL,
	};
	struct fs_kafka_props kp = { .pairs = props };
	struct fs_producer_stats stats;
	char err[256] = "";
	struct fs_producer *p;
	int full = 0;

	assert_int_equal(rd_kafka_mock_broker_set_down(cl->mock, 1), 0);
	p = fs_producer_new(cl->bootstrap, &kp, err, sizeof(err));
	assert_non_null(p);
	for (int i = 0; i < 20; i++) {
		int rc = fs_producer_send(p, TOPIC_MULTI, NULL, 0, "x", 1);

		if (rc == FS_ERR_FULL)
			full++;
		else
			assert_int_equal(rc, 0);
	}
	assert_int_equal(full, 15);
	fs_producer_stats(p, &stats);
	assert_int_equal(stats.sent, 5);
	assert_int_equal(stats.dropped_queue_full, 15);
	assert_int_equal(stats.queue_depth, 5);

	/* Once the broker is back the queued messages are delivered. */
	assert_int_equal(rd_kafka_mock_broker_set_up(cl->mock, 1), 0);
	assert_int_equal(fs_producer_flush(p, DEADLINE_MS), 0);
	assert_int_equal(fs_producer_close(p, 1000, &stats), 0);
	assert_int_equal(stats.delivered, 5);
	assert_int_equal(stats.queue_depth, 0);
}

/* Messages of several records count every record, whatever their outcome. */
static void
test_records_counted_per_message(void **state)
{
	struct cluster *cl = *state;
	/*
	 * The first messages must be delivered before they time out, also under
	 * ASan on a loaded machine, where 300 ms was too short.  The last one
	 * times out with the broker down.
	 */
	static const char *const props[] = {
		"queue.buffering.max.messages", "2", "message.timeout.ms", "3000",
		"linger.ms", "5", NULL,
	};
	struct fs_kafka_props kp = { .pairs = props };
	struct fs_producer_stats stats;
	char err[256] = "";
	struct fs_producer *p;

	p = fs_producer_new(cl->bootstrap, &kp, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(fs_producer_send_records(p, TOPIC_MULTI, NULL, 0, "abc", 3, 30), 0);
	assert_int_equal(fs_producer_send(p, TOPIC_MULTI, NULL, 0, "d", 1), 0);
	assert_int_equal(fs_producer_send_records(p, TOPIC_MULTI, NULL, 0, "ef", 2, 7),
			 FS_ERR_FULL);
	fs_producer_stats(p, &stats);
	assert_int_equal(stats.sent, 31);
	assert_int_equal(stats.dropped_queue_full, 7);
	assert_int_equal(stats.queue_depth, 31);
	assert_int_equal(fs_producer_flush(p, DEADLINE_MS), 0);
	fs_producer_stats(p, &stats);
	assert_int_equal(stats.delivered, 31);
	assert_int_equal(stats.queue_depth, 0);

	/* With the broker down, a message of 12 records fails as 12. */
	assert_int_equal(rd_kafka_mock_broker_set_down(cl->mock, 1), 0);
	assert_int_equal(fs_producer_send_records(p, TOPIC_MULTI, NULL, 0, "g", 1, 12), 0);
	assert_int_equal(fs_producer_flush(p, DEADLINE_MS), 0);
	assert_int_equal(fs_producer_close(p, 0, &stats), 0);
	assert_int_equal(stats.sent, 43);
	assert_int_equal(stats.delivered, 31);
	assert_int_equal(stats.failed_timed_out, 12);
	assert_int_equal(stats.lost, 0);
}

static void
test_delivery_timeout_counted(void **state)
{
	struct cluster *cl = *state;
	static const char *const props[] = {
		"message.timeout.ms", "300", "linger.ms", "5", NULL,
	};
	struct fs_kafka_props kp = { .pairs = props };
	struct fs_producer_stats stats;
	char err[256] = "";
	struct fs_producer *p;

	assert_int_equal(rd_kafka_mock_broker_set_down(cl->mock, 1), 0);
	p = fs_producer_new(cl->bootstrap, &kp, err, sizeof(err));
	assert_non_null(p);
	produce_range(p, TOPIC_MULTI, 0, 3);
	assert_int_equal(fs_producer_flush(p, DEADLINE_MS), 0);
	assert_int_equal(fs_producer_close(p, 0, &stats), 0);
	assert_int_equal(stats.sent, 3);
	assert_int_equal(stats.delivered, 0);
	assert_int_equal(stats.failed, 3);
	assert_int_equal(stats.failed_timed_out, 3);
	assert_int_equal(stats.lost, 0);
}

/* The topic's metadata arrives from a live broker; a broker that is down gives an error. */
static void
test_prepare_topic_metadata(void **state)
{
	struct cluster *cl = *state;
	struct fs_producer_stats stats;
	char err[256] = "";
	struct fs_producer *p;

	p = fs_producer_new(cl->bootstrap, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(fs_producer_prepare_topic(p, TOPIC_MULTI, DEADLINE_MS, err, sizeof(err)), 0);
	assert_int_equal(fs_producer_close(p, 1000, &stats), 0);

	assert_int_equal(rd_kafka_mock_broker_set_down(cl->mock, 1), 0);
	p = fs_producer_new(cl->bootstrap, NULL, err, sizeof(err));
	assert_non_null(p);
	err[0] = '\0';
	assert_int_equal(fs_producer_prepare_topic(p, TOPIC_MULTI, 300, err, sizeof(err)),
			 FS_ERR_SYSTEM);
	assert_non_null(strstr(err, TOPIC_MULTI));

	/* The producer still works once the broker is back. */
	assert_int_equal(rd_kafka_mock_broker_set_up(cl->mock, 1), 0);
	produce_range(p, TOPIC_MULTI, 0, 3);
	assert_int_equal(fs_producer_flush(p, DEADLINE_MS), 0);
	assert_int_equal(fs_producer_close(p, 1000, &stats), 0);
	assert_int_equal(stats.delivered, 3);
}

static void
test_undelivered_lost_on_close(void **state)
{
	struct cluster *cl = *state;
	struct fs_producer_stats stats;
	char err[256] = "";
	struct fs_producer *p;

	assert_int_equal(rd_kafka_mock_broker_set_down(cl->mock, 1), 0);
	p = fs_producer_new(cl->bootstrap, NULL, err, sizeof(err));
	assert_non_null(p);
	produce_range(p, TOPIC_MULTI, 0, 3);
	assert_int_equal(fs_producer_flush(p, 100), FS_ERR_FULL);
	assert_int_equal(fs_producer_close(p, 100, &stats), FS_ERR_FULL);
	assert_int_equal(stats.sent, 3);
	assert_int_equal(stats.lost, 3);
	assert_int_equal(stats.failed, 0);
}

static void
test_bad_property_named(void **state)
{
	struct cluster *cl = *state;
	static const char *const unknown[] = { "no.such.property", "1", NULL };
	static const char *const invalid[] = { "linger.ms", "soon", NULL };
	struct fs_kafka_props kp = { .pairs = unknown };
	const char *topics[] = { TOPIC_MULTI };
	char err[256] = "";

	assert_null(fs_producer_new(cl->bootstrap, &kp, err, sizeof(err)));
	assert_non_null(strstr(err, "\"no.such.property\""));

	err[0] = '\0';
	assert_null(fs_consumer_new(cl->bootstrap, "g", topics, 1, &kp, err,
				    sizeof(err)));
	assert_non_null(strstr(err, "\"no.such.property\""));

	err[0] = '\0';
	kp.pairs = invalid;
	assert_null(fs_producer_new(cl->bootstrap, &kp, err, sizeof(err)));
	assert_non_null(strstr(err, "\"linger.ms\""));
}

struct prop_list {
	const char *const *pairs;
};

static int
each_pair(const void *source, fs_kafka_prop_fn *fn, void *opaque)
{
	const struct prop_list *list = source;

	for (size_t i = 0; list->pairs[i]; i += 2) {
		int rc = fn(list->pairs[i], list->pairs[i + 1], opaque);

		if (rc)
			return rc;
	}
	return 0;
}

static void
test_iterator_props_applied(void **state)
{
	struct cluster *cl = *state;
	static const char *const good[] = { "client.id", "iter-test", NULL };
	static const char *const bad[] = { "client.id", "x", "bogus.name", "1", NULL };
	struct prop_list list = { .pairs = good };
	struct fs_kafka_props kp = { .each = each_pair, .source = &list };
	char err[256] = "";
	struct fs_producer *p;

	p = fs_producer_new(cl->bootstrap, &kp, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(fs_producer_close(p, 0, NULL), 0);

	list.pairs = bad;
	assert_null(fs_producer_new(cl->bootstrap, &kp, err, sizeof(err)));
	assert_non_null(strstr(err, "\"bogus.name\""));
}

/* Waits up to DEADLINE_MS for path to hold a line; returns 0 with it in buf. */
static int
wait_for_line(const char *path, char *buf, size_t len)
{
	int64_t deadline = fs_monotonic_ms() + DEADLINE_MS;

	while (fs_monotonic_ms() < deadline) {
		FILE *file = fopen(path, "r");

		if (file) {
			char *line = fgets(buf, (int)len, file);

			fclose(file);
			if (line) {
				buf[strcspn(buf, "\n")] = '\0';
				return 0;
			}
		}
		usleep(20 * 1000);
	}
	return -1;
}

/* The broker process of the running test; its teardown stops it if an assert fired first. */
static pid_t broker_pid;
static char broker_dir[64];

static int
teardown_broker(void **state)
{
	char path[128];

	(void)state;
	if (broker_pid > 0) {
		kill(broker_pid, SIGKILL);
		waitpid(broker_pid, NULL, 0);
		broker_pid = 0;
	}
	if (broker_dir[0]) {
		snprintf(path, sizeof(path), "%s/broker.addr", broker_dir);
		unlink(path);
		rmdir(broker_dir);
		broker_dir[0] = '\0';
	}
	return 0;
}

static void
test_broker_process_lifecycle(void **state)
{
	const char *bin_dir = getenv("FSTEST_BIN_DIR");
	char program[1024];
	char addr_file[1100];
	char bootstrap[256];
	struct recorder r = { .fail_index = -1 };
	struct fs_consumer *c;
	int status;
	pid_t pid;

	(void)state;
	snprintf(program, sizeof(program), "%s/flowsift-broker",
		 bin_dir ? bin_dir : "build/bin");
	if (access(program, X_OK) != 0)
		fail_msg("%s is not built: %s", program, strerror(errno));
	snprintf(broker_dir, sizeof(broker_dir), "/tmp/fstest-broker-XXXXXX");
	assert_non_null(mkdtemp(broker_dir));
	snprintf(addr_file, sizeof(addr_file), "%s/broker.addr", broker_dir);

	pid = fork();
	assert_true(pid >= 0);
	broker_pid = pid;
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execl(program, program, "--addr-file", addr_file, "--partitions",
		      "2", "--topic", "test.extra", (char *)NULL);
		_exit(127);
	}
	if (wait_for_line(addr_file, bootstrap, sizeof(bootstrap)) != 0)
		fail_msg("%s wrote no address to %s", program, addr_file);
	assert_non_null(strstr(bootstrap, "127.0.0.1:"));

	produce_all(bootstrap, "flows.raw", 0, 10);
	produce_all(bootstrap, "test.extra", 10, 5);
	c = open_consumer(bootstrap, "broker-test", "flows.raw");
	consume_until(c, &r, 10);
	assert_int_equal(fs_consumer_close(c, NULL), 0);
	assert_int_equal(r.count, 10);
	assert_int_equal(r.bad_payloads, 0);

	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	broker_pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(access(addr_file, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rmdir(broker_dir), 0);
	broker_dir[0] = '\0';
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_multi_partition, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_failed_message_redelivered, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_commit_stops_at_failed, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_manual_store_waits_for_store, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_deleted_messages_counted, setup_cluster,
						teardown_cluster),
		cmocka_unit_test_setup_teardown(test_deleted_before_first_read_counted,
						setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_full_queue_counted, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_records_counted_per_message, setup_cluster,
						teardown_cluster),
		cmocka_unit_test_setup_teardown(test_delivery_timeout_counted, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_undelivered_lost_on_close, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_prepare_topic_metadata, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_bad_property_named, setup_cluster, teardown_cluster),
		cmocka_unit_test_setup_teardown(test_iterator_props_applied, setup_cluster, teardown_cluster),
		cmocka_unit_test_teardown(test_broker_process_lifecycle, teardown_broker),
	};

	/* librdkafka's info lines would bury cmocka's report. */
	fs_log_set_level(getenv("FSTEST_LOG_DEBUG") ? FS_LOG_DEBUG : FS_LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
