/*
 * count.c - `flowsift-bench count`: reads a Kafka topic from its start and
 * counts its messages, summing one integer field of JSON messages, so the
 * benchmark can tell how many flows a peer collector (nfacctd with its kafka
 * plugin) delivered.
 *
 * By default it assigns every partition of the topic at the beginning
 * offset and commits no offsets.  It stops once it has read as many
 * messages as the partitions' watermarks contained when it started, so the
 * producer should have stopped, or after --idle-ms without a message.
 *
 * librdkafka's mock cluster (flowsift-broker) keeps only the newest messages
 * of each partition and drops older ones, even while a consumer reads them,
 * so a large run cannot be read back.  --offsets prints instead the sum of
 * the partitions' high watermarks, which counts every message ever appended,
 * and reads nothing.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "bench.h"

struct count_options {
	const char *brokers;
	const char *topic;
	const char *sum_field;
	uint64_t idle_ms;
	int offsets;
};

static void
count_usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-bench count --brokers HOST:PORT --topic NAME [--sum FIELD]\n"
		"                            [--idle-ms MS]\n"
		"\n"
		"Reads the topic from its first offset and prints the message count, and with\n"
		"--sum the sum of the integer field FIELD of JSON messages, as key=value pairs.\n"
		"Stops after reading the messages the partitions held at start, or after MS\n"
		"milliseconds without a message (default 5000).  With --offsets it reads nothing\n"
		"and prints the sum of the partitions' high watermarks as appended=N.\n");
}

static int
count_parse(int argc, char **argv, struct count_options *o)
{
	static const struct option longopts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "sum", required_argument, NULL, 's' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "offsets", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->idle_ms = 5000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o->brokers = optarg; break;
		case 't': o->topic = optarg; break;
		case 's': o->sum_field = optarg; break;
		case 'i':
			if (bench_parse_count("--idle-ms", optarg, 3600000, &o->idle_ms) < 0)
				return -1;
			break;
		case 'o': o->offsets = 1; break;
		case 'h': count_usage(stdout); exit(0);
		default: count_usage(stderr); return -1;
		}
	}
	if (!o->brokers || !o->topic || optind != argc) {
		fprintf(stderr, "flowsift-bench count: --brokers and --topic are required\n");
		count_usage(stderr);
		return -1;
	}
	return 0;
}

static int64_t
json_field(const rd_kafka_message_t *m, const char *field)
{
	json_error_t jerr;
	json_t *root = json_loadb(m->payload, m->len, 0, &jerr);
	json_t *v;
	int64_t n = 0;

	if (!root)
		return 0;
	v = json_object_get(root, field);
	if (json_is_integer(v))
		n = json_integer_value(v);
	json_decref(root);
	return n;
}

/*
 * Assigns every partition of the topic from its beginning and adds the
 * messages they hold now to *expected; returns the partition count or -1.
 */
static int
count_assign(rd_kafka_t *rk, const char *topic, int64_t *expected, int64_t *appended)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_topic_partition_list_t *list;
	int n = -1;

	if (!rkt)
		return -1;
	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    md->topic_cnt != 1 || md->topics[0].err) {
		fprintf(stderr, "flowsift-bench count: no metadata for topic '%s'\n", topic);
		goto out;
	}
	n = md->topics[0].partition_cnt;
	list = rd_kafka_topic_partition_list_new(n);
	for (int i = 0; i < n; i++) {
		int32_t id = md->topics[0].partitions[i].id;
		int64_t low = 0, high = 0;

		rd_kafka_topic_partition_list_add(list, topic, id)->offset = RD_KAFKA_OFFSET_BEGINNING;
		if (rd_kafka_query_watermark_offsets(rk, topic, id, &low, &high, 10000) ==
		    RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			*expected += high - low;
			*appended += high;
		}
	}
	if (rd_kafka_assign(rk, list) != RD_KAFKA_RESP_ERR_NO_ERROR)
		n = -1;
	rd_kafka_topic_partition_list_destroy(list);
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return n;
}

int
bench_count_main(int argc, char **argv)
{
	struct count_options o;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char err[512], group[64];
	uint64_t messages = 0;
	int64_t sum = 0, expected = 0, appended = 0, last = bench_now_ns();
	int partitions;

	if (count_parse(argc, argv, &o) < 0)
		return 2;
	snprintf(group, sizeof(group), "flowsift-bench-count-%ld", (long)getpid());
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", o.brokers, err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err))) {
		fprintf(stderr, "flowsift-bench count: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "flowsift-bench count: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_poll_set_consumer(rk);
	partitions = count_assign(rk, o.topic, &expected, &appended);
	if (partitions < 0) {
		rd_kafka_destroy(rk);
		return 1;
	}
	if (o.offsets) {
		printf("count topic=%s appended=%" PRId64 " partitions=%d\n", o.topic, appended,
		       partitions);
		rd_kafka_destroy(rk);
		return 0;
	}
	while ((int64_t)messages < expected &&
	       bench_now_ns() - last < (int64_t)o.idle_ms * 1000000) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

		if (!m)
			continue;
		if (!m->err) {
			messages++;
			if (o.sum_field)
				sum += json_field(m, o.sum_field);
			last = bench_now_ns();
		}
		rd_kafka_message_destroy(m);
	}
	printf("count topic=%s messages=%" PRIu64, o.topic, messages);
	if (o.sum_field)
		printf(" sum_%s=%" PRId64, o.sum_field, sum);
	printf(" expected=%" PRId64 " partitions=%d complete=%s\n", expected, partitions,
	       (int64_t)messages >= expected ? "yes" : "no");
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
}
