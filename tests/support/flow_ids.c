/* flow_ids.c - producing and recognising numbered test flows. */
#include "flow_ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "avro/flow_codec.h"
#include "core/clock.h"
#include "kafka/producer.h"
#include "ingest_harness.h"
#include "topic_reader.h"
#include "wire.h"

#define FLOW_ADDR_BASE 0x0a000000u

void
fs_test_flow_make(struct fs_flow *flow, unsigned id)
{
	uint32_t addr = FLOW_ADDR_BASE + id;

	fs_flow_clear(flow);
	flow->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_PROTO | FS_F_DST_PORT |
			FS_F_SRC_PORT | FS_F_BYTES | FS_F_PACKETS;
	flow->src_addr.family = 4;
	flow->src_addr.bytes[0] = (uint8_t)(addr >> 24);
	flow->src_addr.bytes[1] = (uint8_t)(addr >> 16);
	flow->src_addr.bytes[2] = (uint8_t)(addr >> 8);
	flow->src_addr.bytes[3] = (uint8_t)addr;
	fs_addr_parse(&flow->dst_addr, "203.0.113.7");
	fs_addr_parse(&flow->exporter_addr, "127.0.0.1");
	flow->proto = 6;
	flow->src_port = 40000;
	flow->dst_port = 443;
	flow->bytes = FS_TEST_FLOW_BYTES_BASE + id;
	flow->packets = 1;
}

long
fs_test_flow_id(const struct fs_flow *flow)
{
	uint32_t addr;

	if (!(flow->present & FS_F_SRC_ADDR) || flow->src_addr.family != 4)
		return -1;
	addr = (uint32_t)flow->src_addr.bytes[0] << 24 | (uint32_t)flow->src_addr.bytes[1] << 16 |
	       (uint32_t)flow->src_addr.bytes[2] << 8 | flow->src_addr.bytes[3];
	if (addr < FLOW_ADDR_BASE || addr - FLOW_ADDR_BASE >= FS_TEST_FLOW_ID_MAX)
		return -1;
	return (long)(addr - FLOW_ADDR_BASE);
}

int
fs_test_flows_produce(const char *bootstrap, const char *topic, unsigned first, unsigned count)
{
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	struct fs_flow_codec *codec;
	struct fs_producer *producer = NULL;
	char err[256];
	int rc = -1;

	codec = fs_flow_codec_new(err, sizeof(err));
	if (codec)
		producer = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	if (!producer) {
		fprintf(stderr, "test producer: %s\n", err);
		goto out;
	}
	for (unsigned id = first; id < first + count; id++) {
		struct fs_flow flow;
		size_t len = 0;

		fs_test_flow_make(&flow, id);
		if (fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len) < 0 ||
		    fs_producer_send(producer, topic, "k", 1, buf, len) < 0) {
			fprintf(stderr, "test producer: cannot queue flow %u for %s\n", id, topic);
			goto out;
		}
	}
	if (fs_producer_flush(producer, 10000) < 0) {
		fprintf(stderr, "test producer: %s did not acknowledge within 10 s\n", topic);
		goto out;
	}
	rc = 0;
out:
	if (fs_producer_close(producer, 1000, NULL) < 0)
		rc = -1;
	fs_flow_codec_free(codec);
	return rc;
}

struct tally {
	struct fs_flow_codec *codec;
	unsigned *counts;
	size_t n;
	long unknown;
};

static int
count_flow(const struct fs_flow *flow, void *opaque)
{
	struct tally *tally = opaque;
	long id = fs_test_flow_id(flow);

	if (id < 0 || (size_t)id >= tally->n)
		tally->unknown++;
	else
		tally->counts[id]++;
	return 0;
}

/* Counts every flow of a message; flows that do not decode count as unknown. */
static void
count_message(const void *value, size_t len, void *opaque)
{
	struct tally *tally = opaque;
	uint64_t rejected = 0;

	fs_flow_codec_decode_each(tally->codec, value, len, count_flow, tally, &rejected);
	tally->unknown += (long)rejected;
}

long
fs_test_flows_missing(const unsigned *counts, unsigned first, unsigned count)
{
	long n = 0;

	for (unsigned id = first; id < first + count; id++)
		n += counts[id] == 0;
	return n;
}

long
fs_test_flows_await(const char *bootstrap, const char *topic, unsigned *counts, size_t n,
		    unsigned first, unsigned count, long *unknown, int timeout_ms)
{
	struct tally tally = { .counts = counts, .n = n };
	struct fs_test_topic_reader *reader;
	int64_t deadline = fs_monotonic_ms() + timeout_ms;
	char err[256];
	long left = -1;

	if ((size_t)first + count > n) {
		fprintf(stderr, "flow ids up to %u do not fit %zu counts\n", first + count, n);
		return -1;
	}
	tally.codec = fs_flow_codec_new(err, sizeof(err));
	if (!tally.codec) {
		fprintf(stderr, "test reader: %s\n", err);
		return -1;
	}
	reader = fs_test_topic_reader_new(bootstrap, topic);
	while (reader) {
		if (fs_test_topic_reader_drain(reader, count_message, &tally, timeout_ms) < 0)
			break;
		left = fs_test_flows_missing(counts, first, count);
		if (left == 0 || fs_monotonic_ms() >= deadline)
			break;
		usleep(200000);
	}
	fs_test_topic_reader_free(reader);
	fs_flow_codec_free(tally.codec);
	if (unknown)
		*unknown = tally.unknown;
	return left;
}

long
fs_test_flows_count(const char *bootstrap, const char *topic, unsigned *counts, size_t n,
		    long *unknown, int timeout_ms)
{
	struct tally tally = { .counts = counts, .n = n };
	struct fs_test_topic_reader *reader;
	char err[256];
	long read = -1;

	tally.codec = fs_flow_codec_new(err, sizeof(err));
	if (!tally.codec) {
		fprintf(stderr, "test reader: %s\n", err);
		return -1;
	}
	reader = fs_test_topic_reader_new(bootstrap, topic);
	if (reader)
		read = fs_test_topic_reader_drain(reader, count_message, &tally, timeout_ms);
	fs_test_topic_reader_free(reader);
	fs_flow_codec_free(tally.codec);
	if (unknown)
		*unknown = tally.unknown;
	return read;
}

size_t
fs_test_flows_v5_datagram(uint8_t *buf, size_t cap, unsigned first, unsigned count)
{
	size_t len = FS_TEST_FLOW_V5_LEN(count);

	if (count == 0 || count > FS_TEST_FLOW_V5_RECORDS_MAX || len > cap)
		return 0;
	memset(buf, 0, len);
	fs_test_put16(buf, 5);
	fs_test_put16(buf + 2, (uint16_t)count);
	fs_test_put32(buf + 8, (uint32_t)time(NULL));
	fs_test_put32(buf + 16, first);
	for (unsigned r = 0; r < count; r++) {
		uint8_t *rec = buf + FS_TEST_FLOW_V5_LEN(r);  /* after the header and r records */
		unsigned id = first + r;

		fs_test_put32(rec, FLOW_ADDR_BASE + id);  /* srcaddr: the flow id */
		fs_test_put32(rec + 4, 0xcb007107);       /* dstaddr 203.0.113.7 */
		fs_test_put32(rec + 16, 1);               /* packets */
		fs_test_put32(rec + 20, FS_TEST_FLOW_BYTES_BASE + id);
		fs_test_put16(rec + 32, 40000);
		fs_test_put16(rec + 34, 443);
		rec[38] = 6;                             /* TCP */
	}
	return len;
}

long
fs_test_flows_redis_scores(struct redisContext *redis, const char *metric,
			   unsigned long long *sums, size_t n)
{
	redisReply *keys = redisCommand(redis, "KEYS flowsift:top:src_addr:%s:10s:*", metric);
	long unknown = 0;

	memset(sums, 0, sizeof(*sums) * n);
	if (!keys || keys->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "test redis: KEYS of the %s counters failed: %s\n", metric,
			keys && keys->type == REDIS_REPLY_ERROR ? keys->str : redis->errstr);
		freeReplyObject(keys);
		return -1;
	}
	for (size_t k = 0; k < keys->elements; k++) {
		redisReply *set = redisCommand(redis, "ZRANGE %s 0 -1 WITHSCORES",
					       keys->element[k]->str);

		if (!set || set->type != REDIS_REPLY_ARRAY) {
			fprintf(stderr, "test redis: ZRANGE %s failed: %s\n", keys->element[k]->str,
				set && set->type == REDIS_REPLY_ERROR ? set->str : redis->errstr);
			freeReplyObject(set);
			freeReplyObject(keys);
			return -1;
		}
		for (size_t i = 0; i + 1 < set->elements; i += 2) {
			struct fs_flow flow = { .present = FS_F_SRC_ADDR };
			long id = -1;

			if (fs_addr_parse(&flow.src_addr, set->element[i]->str) == 0)
				id = fs_test_flow_id(&flow);
			if (id < 0 || (size_t)id >= n)
				unknown++;
			else
				sums[id] += strtoull(set->element[i + 1]->str, NULL, 10);
		}
		freeReplyObject(set);
	}
	freeReplyObject(keys);
	return unknown;
}
