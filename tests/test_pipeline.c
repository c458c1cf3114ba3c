/*
 * test_pipeline.c - the whole pipeline on one machine: the embedded broker,
 * a real redis-server, flowsift-ingest and flowsift-report as processes.
 *
 * Datagrams are sent over UDP to ingest; the counters that report writes to
 * Redis, and the output of `flowsift top --format json`, must match totals
 * computed by decoding the same datagrams in this test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_codec.h"
#include "decode/capture.h"
#include "decode/decoder.h"
#include "redis/topn.h"
#include "redis/topn_rollup.h"
#include "support/broker.h"
#include "support/ingest_harness.h"
#include "support/process.h"
#include "support/text_file.h"
#include "support/topic_reader.h"
#include "support/redis_server.h"
#include "support/wire.h"

#define MAX_SOURCES 4096
#define WAIT_MS 40000

/* Expected per-source totals, summed from decoding the sent datagrams. */
struct source_total {
	char key[FS_ADDR_STRLEN];
	uint64_t bytes, packets, flows;
};

struct pipeline {
	char dir[64];
	char config_path[128];
	char config_env[160];
	struct fs_test_redis redis;
	struct fs_test_broker broker;
	pid_t ingest, enrich, report;
	uint16_t ingest_port;
	uint16_t ingest_tcp_port;
	struct source_total totals[MAX_SOURCES];
	size_t ntotals;
	uint64_t total_flows;
	uint64_t datagrams_sent;
	uint64_t tcp_messages_sent;
};

static const char *corpus_captures[] = {
	"netflow-v5/akvorado/nfv5.pcap",
	"netflow-v9/pmacct/101-NFv9-CISCO-cust_primitives__traffic-00.pcap",
	"ipfix/pmacct/100-IPFIXv10-CISCO__traffic-00.pcap",
};

static void
add_expected(const struct fs_flow *flow, void *opaque)
{
	struct pipeline *p = opaque;
	char key[FS_ADDR_STRLEN];
	size_t i;

	if (!fs_flow_has(flow, FS_F_SRC_ADDR))
		return;
	p->total_flows++;
	fs_addr_format(&flow->src_addr, key);
	for (i = 0; i < p->ntotals; i++) {
		if (strcmp(p->totals[i].key, key) == 0)
			break;
	}
	if (i == p->ntotals) {
		assert_true(p->ntotals < MAX_SOURCES);
		snprintf(p->totals[i].key, sizeof(p->totals[i].key), "%s", key);
		p->ntotals++;
	}
	/* flowsift-enrich scales sampled counters to estimate the real traffic. */
	uint64_t rate = fs_flow_has(flow, FS_F_SAMPLING_RATE) && flow->sampling_rate > 1
		? flow->sampling_rate : 1;

	p->totals[i].bytes += flow->bytes * rate;
	p->totals[i].packets += flow->packets * rate;
	p->totals[i].flows++;
}

/* One sending socket and one expectation decoder per capture, as one exporter each. */
struct sender {
	struct pipeline *p;
	int fd;
	struct fs_decoder *decoder;
	struct sockaddr_in to;
};

static int
send_datagram(const struct fs_datagram *datagram, void *opaque)
{
	struct sender *s = opaque;

	fs_decoder_decode(s->decoder, datagram->data, datagram->len, &datagram->exporter,
			  datagram->exporter_port, 0, add_expected, s->p);
	assert_int_equal(sendto(s->fd, datagram->data, datagram->len, 0,
				(struct sockaddr *)&s->to, sizeof(s->to)),
			 (ssize_t)datagram->len);
	if (++s->p->datagrams_sent % 20 == 0)
		usleep(2000);
	return 0;
}

static void
sender_open(struct sender *s, struct pipeline *p)
{
	memset(s, 0, sizeof(*s));
	s->p = p;
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s->fd >= 0);
	s->decoder = fs_decoder_new(NULL);
	assert_non_null(s->decoder);
	s->to.sin_family = AF_INET;
	s->to.sin_port = htons(p->ingest_port);
	s->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void
sender_close(struct sender *s)
{
	close(s->fd);
	fs_decoder_free(s->decoder);
}

/* Sends three NetFlow v5 datagrams of 30 records from ten sources. */
static void
send_synthetic_v5(struct pipeline *p)
{
	uint8_t dgram[24 + 30 * 48];
	struct fs_datagram d = { .data = dgram, .len = sizeof(dgram) };
	struct sender s;

	sender_open(&s, p);
	for (uint32_t n = 0; n < 3; n++) {
		memset(dgram, 0, sizeof(dgram));
		fs_test_put16(dgram, 5);
		fs_test_put16(dgram + 2, 30);
		fs_test_put32(dgram + 4, 3600000);
		fs_test_put32(dgram + 8, (uint32_t)time(NULL));
		fs_test_put32(dgram + 16, n * 30);
		for (uint32_t r = 0; r < 30; r++) {
			uint8_t *rec = dgram + 24 + r * 48;

			fs_test_put32(rec, 0xc0a80001 + r % 10);      /* 192.168.0.1 .. .10 */
			fs_test_put32(rec + 4, 0x0a000001 + r);
			fs_test_put32(rec + 16, 1 + r);              /* packets */
			fs_test_put32(rec + 20, 1000 * (r % 10 + 1) + n); /* bytes */
			fs_test_put32(rec + 24, 3500000);
			fs_test_put32(rec + 28, 3590000);
			fs_test_put16(rec + 32, (uint16_t)(40000 + r));
			fs_test_put16(rec + 34, 443);
			rec[38] = 6;
		}
		send_datagram(&d, &s);
	}
	sender_close(&s);
}

/* Writes each IPFIX message of a capture to one TCP connection, as an exporter does. */
struct tcp_sender {
	struct pipeline *p;
	int fd;
	struct fs_decoder *decoder;
};

static int
send_tcp_message(const struct fs_datagram *datagram, void *opaque)
{
	struct tcp_sender *s = opaque;

	fs_decoder_decode(s->decoder, datagram->data, datagram->len, &datagram->exporter,
			  datagram->exporter_port, 0, add_expected, s->p);
	assert_int_equal(write(s->fd, datagram->data, datagram->len), (ssize_t)datagram->len);
	s->p->tcp_messages_sent++;
	return 0;
}

static void
send_ipfix_over_tcp(struct pipeline *p, const char *path)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct tcp_sender s = { .p = p };
	char err[256];

	to.sin_port = htons(p->ingest_tcp_port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s.fd >= 0);
	assert_int_equal(connect(s.fd, (struct sockaddr *)&to, sizeof(to)), 0);
	s.decoder = fs_decoder_new(NULL);
	assert_non_null(s.decoder);
	assert_int_equal(fs_capture_read_file(path, send_tcp_message, &s, err, sizeof(err)), 0);
	fs_decoder_free(s.decoder);
	/* Closing ends the session; the flows read before it are kept. */
	usleep(300000);
	close(s.fd);
}

/* Sends one datagram of no known export protocol, which ingest counts as invalid. */
static void
send_garbage(struct pipeline *p)
{
	uint8_t dgram[32];
	struct sender s;

	memset(dgram, 0x42, sizeof(dgram));
	sender_open(&s, p);
	assert_int_equal(sendto(s.fd, dgram, sizeof(dgram), 0, (struct sockaddr *)&s.to,
				sizeof(s.to)), (ssize_t)sizeof(dgram));
	sender_close(&s);
}

/* Returns true when the ingest log has a stats line containing text. */
static bool
ingest_log_has(const struct pipeline *p, const char *text)
{
	char path[160], line[2048];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/ingest.log", p->dir);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "facility=stats") && strstr(line, text);
	fclose(f);
	return found;
}

static int
setup(void **state)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	char log_path[128];
	FILE *config;

	assert_non_null(p);
	snprintf(p->dir, sizeof(p->dir), "/tmp/fstest-pipeline-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	assert_int_equal(fs_test_redis_start(&p->redis), 0);

	assert_int_equal(fs_test_broker_start(&p->broker, p->dir, NULL), 0);

	p->ingest_port = fstest_free_port(SOCK_DGRAM);
	p->ingest_tcp_port = fstest_free_port(SOCK_STREAM);
	snprintf(p->config_path, sizeof(p->config_path), "%s/flowsift.conf", p->dir);
	config = fopen(p->config_path, "w");
	assert_non_null(config);
	fprintf(config,
		"run.dir = %s\nredis.url = %s\ningest.listen = 127.0.0.1:%u\n"
		"ingest.listen.tcp = 127.0.0.1:%u\n"
		"report.flush.interval.ms = 200\nreport.group.id = fstest-%d\n"
		"ingest.stats.interval = 1\nreport.stats.interval = 1\n"
		"ingest.metrics.listen = \"\"\nenrich.metrics.listen = \"\"\n"
		"report.metrics.listen = \"\"\nenrich.group.id = fstest-enrich-%d\n",
		p->dir, p->redis.url, p->ingest_port, p->ingest_tcp_port, (int)getpid(),
		(int)getpid());
	fclose(config);
	snprintf(p->config_env, sizeof(p->config_env), "FLOWSIFT_CONFIG=%s", p->config_path);

	char *env[] = { p->config_env, NULL };
	char *ingest_argv[] = { "flowsift-ingest", NULL };
	char *report_argv[] = { "flowsift-report", NULL };
	char *enrich_argv[] = { "flowsift-enrich", NULL };

	snprintf(log_path, sizeof(log_path), "%s/ingest.log", p->dir);
	p->ingest = fs_test_spawn("flowsift-ingest", ingest_argv, env, log_path);
	snprintf(log_path, sizeof(log_path), "%s/enrich.log", p->dir);
	p->enrich = fs_test_spawn("flowsift-enrich", enrich_argv, env, log_path);
	snprintf(log_path, sizeof(log_path), "%s/report.log", p->dir);
	p->report = fs_test_spawn("flowsift-report", report_argv, env, log_path);
	assert_true(p->ingest > 0 && p->enrich > 0 && p->report > 0);
	/* The first datagram is sent once ingest has bound its sockets. */
	snprintf(log_path, sizeof(log_path), "%s/ingest.log", p->dir);
	if (!fs_test_wait_file_contains(log_path, "listening on UDP", 30000)) {
		fs_test_print_file(log_path);
		fail_msg("ingest did not start listening");
	}
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pipeline *p = *state;
	int ingest_status = fs_test_stop(p->ingest, 15000);
	int enrich_status = fs_test_stop(p->enrich, 15000);
	int report_status = fs_test_stop(p->report, 15000);
	int broker_status = fs_test_broker_stop(&p->broker);
	char cmd[128];

	if (ingest_status || enrich_status || report_status || broker_status) {
		fs_test_print_log(p->dir, "ingest");
		fs_test_print_log(p->dir, "enrich");
		fs_test_print_log(p->dir, "report");
		fs_test_print_log(p->dir, "broker");
	}
	fs_test_redis_stop(&p->redis);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", p->dir);
	free(p);
	assert_int_equal(ingest_status, 0);
	assert_int_equal(enrich_status, 0);
	assert_int_equal(report_status, 0);
	assert_int_equal(broker_status, 0);
	return 0;
}

/* Runs `flowsift top --format json` and parses its output; NULL when it fails. */
static json_t *
run_top(const struct pipeline *p)
{
	char bin[256], cmd[768];
	json_error_t error;
	json_t *rows;
	FILE *out;

	fs_test_bin_path("flowsift", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd),
		 "%s %s top --by src_addr --metric bytes --window 5m --top 1000 --format json",
		 p->config_env, bin);
	out = popen(cmd, "r");
	if (!out)
		return NULL;
	rows = json_loadf(out, 0, &error);
	if (pclose(out) != 0) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

static uint64_t
json_flow_sum(json_t *rows)
{
	uint64_t sum = 0;
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row)
		sum += (uint64_t)json_integer_value(json_object_get(row, "flows"));
	return sum;
}

static void
check_top_against_totals(struct pipeline *p, json_t *rows)
{
	uint64_t previous = UINT64_MAX;
	size_t i;
	json_t *row;

	assert_int_equal(json_array_size(rows), p->ntotals);
	json_array_foreach(rows, i, row) {
		const char *key = json_string_value(json_object_get(row, "key"));
		uint64_t bytes = (uint64_t)json_integer_value(json_object_get(row, "bytes"));
		size_t j;

		assert_non_null(key);
		assert_true(bytes <= previous);
		previous = bytes;
		for (j = 0; j < p->ntotals; j++) {
			if (strcmp(p->totals[j].key, key) == 0)
				break;
		}
		if (j == p->ntotals)
			fail_msg("unexpected source %s in flowsift top", key);
		assert_int_equal(bytes, p->totals[j].bytes);
		assert_int_equal(json_integer_value(json_object_get(row, "packets")),
				 p->totals[j].packets);
		assert_int_equal(json_integer_value(json_object_get(row, "flows")),
				 p->totals[j].flows);
	}
}

/*
 * Sums one source's flow count over the 5m window's buckets straight from
 * Redis: each 60 s bucket, or its 10 s buckets until it is rolled up.
 */
static uint64_t
redis_flows_of(const struct pipeline *p, const char *source)
{
	redisContext *ctx = fs_test_redis_connect(&p->redis);
	struct fs_topn_sources sources;
	int64_t now = time(NULL);
	int64_t starts[5];
	uint64_t sum = 0;
	char key[256];

	assert_non_null(ctx);
	for (int b = 0; b < fs_topn_window_buckets(FS_TOPN_5M); b++) {
		int64_t at = now - b * fs_topn_window_resolution(FS_TOPN_5M);

		starts[b] = at - at % fs_topn_window_resolution(FS_TOPN_5M);
	}
	assert_int_equal(fs_topn_sources_resolve(ctx, FS_TOPN_5M, starts, 5, now, &sources), 0);
	for (int b = 0; b < sources.count; b++) {
		redisReply *reply;

		fs_topn_span_key(&sources.spans[b], FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, key,
				 sizeof(key));
		reply = redisCommand(ctx, "ZSCORE %s %s", key, source);
		assert_non_null(reply);
		if (reply->type == REDIS_REPLY_STRING)
			sum += strtoull(reply->str, NULL, 10);
		freeReplyObject(reply);
		reply = redisCommand(ctx, "TTL %s", key);
		assert_non_null(reply);
		assert_true(reply->type == REDIS_REPLY_INTEGER);
		assert_true(reply->integer == -2 || reply->integer > 0);
		freeReplyObject(reply);
	}
	redisFree(ctx);
	return sum;
}

struct message_tally {
	struct fs_flow_codec *codec;
	uint64_t flows;
	uint64_t rejected;
};

static int
count_flow(const struct fs_flow *flow, void *opaque)
{
	(void)flow;
	((struct message_tally *)opaque)->flows++;
	return 0;
}

static void
tally_message(const void *value, size_t len, void *opaque)
{
	struct message_tally *t = opaque;

	fs_flow_codec_decode_each(t->codec, value, len, count_flow, t, &t->rejected);
}

/*
 * Reads topic to its end and checks that it contains every flow sent, in at
 * most one message per datagram or IPFIX-over-TCP message: ingest and
 * enrich put the flows of one datagram into one message.
 */
static void
check_messages(struct pipeline *p, const char *topic)
{
	char err[256];
	struct message_tally t = { 0 };
	struct fs_test_topic_reader *reader;
	long messages;

	t.codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(t.codec);
	reader = fs_test_topic_reader_new(p->broker.bootstrap, topic);
	assert_non_null(reader);
	messages = fs_test_topic_reader_drain(reader, tally_message, &t, WAIT_MS);
	fs_test_topic_reader_free(reader);
	fs_flow_codec_free(t.codec);
	fprintf(stderr, "pipeline: %s holds %llu flows in %ld messages\n", topic,
		(unsigned long long)t.flows, messages);
	assert_true(messages > 0);
	assert_int_equal(t.rejected, 0);
	assert_int_equal(t.flows, p->total_flows);
	assert_true((uint64_t)messages <= p->datagrams_sent + p->tcp_messages_sent);
	assert_true((uint64_t)messages * 2 <= t.flows);
}

static void
replayed_captures_reach_top(void **state)
{
	struct pipeline *p = *state;
	const char *corpus = getenv("FLOWSIFT_CORPUS");
	json_t *rows = NULL;
	char err[256], path[512];

	send_synthetic_v5(p);
	send_garbage(p);
	if (corpus && *corpus && access(corpus, R_OK) == 0) {
		for (size_t i = 0; i < sizeof(corpus_captures) / sizeof(corpus_captures[0]); i++) {
			struct sender s;

			snprintf(path, sizeof(path), "%s/%s", corpus, corpus_captures[i]);
			sender_open(&s, p);
			assert_int_equal(fs_capture_read_file(path, send_datagram, &s, err,
							      sizeof(err)), 0);
			sender_close(&s);
		}
		snprintf(path, sizeof(path), "%s/%s", corpus,
			 "ipfix/pmacct/100-IPFIXv10-CISCO__traffic-00.pcap");
		send_ipfix_over_tcp(p, path);
	} else {
		fprintf(stderr, "note: corpus folder absent; sending synthetic NetFlow v5 only\n");
	}
	assert_true(p->total_flows >= 90);

	for (int waited = 0; waited < WAIT_MS; waited += 500) {
		json_decref(rows);
		rows = run_top(p);
		if (rows && json_flow_sum(rows) >= p->total_flows)
			break;
		usleep(500000);
	}
	if (!rows || json_flow_sum(rows) != p->total_flows) {
		fs_test_print_log(p->dir, "ingest");
		fs_test_print_log(p->dir, "enrich");
		fs_test_print_log(p->dir, "report");
	}
	assert_non_null(rows);
	assert_int_equal(json_flow_sum(rows), p->total_flows);
	check_top_against_totals(p, rows);
	assert_int_equal(redis_flows_of(p, "192.168.0.1"), 9);
	json_decref(rows);
	fprintf(stderr, "pipeline: %llu flows from %llu datagrams matched in Redis and flowsift top\n",
		(unsigned long long)p->total_flows, (unsigned long long)p->datagrams_sent);

	check_messages(p, "flows.raw");
	check_messages(p, "flows.enriched");

	/* Ingest logs its counters every second; the garbage datagram is counted. */
	for (int waited = 0; waited < 5000 && !ingest_log_has(p, " invalid=1 "); waited += 200)
		usleep(200000);
	assert_true(ingest_log_has(p, " invalid=1 "));
	assert_true(ingest_log_has(p, " dropped_queue_full=0 "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(replayed_captures_reach_top, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
