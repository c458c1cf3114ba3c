/*
 * test_restart.c - at-least-once delivery across kill -9, worker by worker.
 *
 * For flowsift-enrich, flowsift-filter and flowsift-report a stream of
 * numbered flows (flow i has the source address 10.0.0.0 + i, so every flow
 * can be recognised at the end) goes through the embedded broker.  The worker
 * is killed with SIGKILL once it has consumed a random share of the stream,
 * then restarted with the same configuration.  Every input flow must reach
 * the end: the output topic (enrich, filter) or the Redis counters (report).
 * Duplicates are allowed, counted and printed.
 *
 * flowsift-ingest has no upstream to consume again, so only what it had in
 * memory may be lost.  The test sends NetFlow v5 over UDP on loopback, kills
 * ingest right after one burst and checks the loss on flows.raw against what
 * the broker had not yet acknowledged.
 *
 * The kill point comes from a seeded generator; the seed is printed, and
 * FSTEST_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_codec.h"
#include "core/flow.h"
#include "kafka/producer.h"
#include "support/broker.h"
#include "support/http_probe.h"
#include "support/process.h"
#include "support/redis_server.h"
#include "support/topic_reader.h"

#define STREAM_FLOWS 6000
#define CHUNK_FLOWS 200
#define WAIT_MS 40000
#define BYTES_BASE 100

/* NetFlow v5 for the ingest case: RECORDS per datagram, BURST datagrams at a time. */
#define V5_RECORDS 30
#define V5_BURST 10
#define V5_BURSTS 20
#define INGEST_QUEUE_MAX 1000

enum worker { ENRICH, FILTER, REPORT, INGEST };

static const char *const worker_names[] = { "enrich", "filter", "report", "ingest" };

struct restart_test {
	enum worker worker;
	char dir[64];
	char config_env[192];
	char log_path[128];
	struct fs_test_broker broker;
	struct fs_test_redis redis;
	int redis_started;
	pid_t pid;
	uint16_t metrics_port;
	uint16_t udp_port;
	/* How often each flow id reached the end. */
	unsigned counts[STREAM_FLOWS];
};

static uint64_t rng_state;

/* Returns the seed of this run: FSTEST_SEED when set, else the clock and pid. */
static uint64_t
pick_seed(void)
{
	const char *text = getenv("FSTEST_SEED");

	if (text && *text)
		return strtoull(text, NULL, 10);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
}

/* xorshift64*: enough spread for choosing kill points. */
static uint64_t
next_random(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Returns a value in [low, high]. */
static long
random_between(long low, long high)
{
	return low + (long)(next_random() % (uint64_t)(high - low + 1));
}

static void
print_log(const char *path)
{
	char line[2048];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	fprintf(stderr, "--- %s\n", path);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

/* Writes the source address of flow id: 10.0.0.0 + id. */
static void
set_flow_id(struct fs_flow *flow, unsigned id)
{
	uint32_t addr = 0x0a000000u + id;

	flow->src_addr.family = 4;
	flow->src_addr.bytes[0] = (uint8_t)(addr >> 24);
	flow->src_addr.bytes[1] = (uint8_t)(addr >> 16);
	flow->src_addr.bytes[2] = (uint8_t)(addr >> 8);
	flow->src_addr.bytes[3] = (uint8_t)addr;
}

/* Returns the id of a flow written by set_flow_id() or the v5 sender, or -1. */
static long
flow_id(const struct fs_flow *flow)
{
	uint32_t addr;

	if (!(flow->present & FS_F_SRC_ADDR) || flow->src_addr.family != 4)
		return -1;
	addr = (uint32_t)flow->src_addr.bytes[0] << 24 | (uint32_t)flow->src_addr.bytes[1] << 16 |
	       (uint32_t)flow->src_addr.bytes[2] << 8 | flow->src_addr.bytes[3];
	if (addr < 0x0a000000u || addr - 0x0a000000u >= STREAM_FLOWS)
		return -1;
	return (long)(addr - 0x0a000000u);
}

static const char filter_rules[] = "rule all topic flows.filtered.all: proto tcp\n";

/* Starts the broker (and Redis for report) and writes the worker's configuration. */
static struct restart_test *
setup_env(enum worker worker, const char *extra_config)
{
	static const char *const topics[] = { "flows.filtered.all", NULL };
	struct restart_test *t = calloc(1, sizeof(*t));
	char config_path[128], rules_path[128];
	FILE *f;

	assert_non_null(t);
	t->worker = worker;
	snprintf(t->dir, sizeof(t->dir), "/tmp/fstest-restart-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	assert_int_equal(fs_test_broker_start(&t->broker, t->dir, topics), 0);
	if (worker == REPORT) {
		assert_int_equal(fs_test_redis_start(&t->redis), 0);
		t->redis_started = 1;
	}
	snprintf(rules_path, sizeof(rules_path), "%s/filter.rules", t->dir);
	f = fopen(rules_path, "w");
	assert_non_null(f);
	fputs(filter_rules, f);
	fclose(f);

	t->metrics_port = fs_test_free_port(SOCK_STREAM);
	t->udp_port = fs_test_free_port(SOCK_DGRAM);
	assert_true(t->metrics_port > 0 && t->udp_port > 0);
	snprintf(config_path, sizeof(config_path), "%s/flowsift.conf", t->dir);
	f = fopen(config_path, "w");
	assert_non_null(f);
	/*
	 * The mock broker keeps a departed member's partitions until its
	 * session times out, so a short session lets the restarted worker
	 * rejoin within seconds.
	 */
	fprintf(f,
		"run.dir = %s\n"
		"kafka.session.timeout.ms = 6000\nkafka.heartbeat.interval.ms = 500\n"
		"kafka.auto.commit.interval.ms = 1000\n"
		"enrich.group.id = fstest-restart-enrich\nfilter.group.id = fstest-restart-filter\n"
		"report.group.id = fstest-restart-report\n"
		"filter.rules = %s\nfilter.commit.interval.ms = 100\n"
		"report.flush.interval.ms = 200\n"
		"%s.metrics.listen = 127.0.0.1:%u\n"
		"ingest.listen = 127.0.0.1:%u\ningest.listen.tcp = \"\"\n"
		"%s",
		t->dir, rules_path, worker_names[worker], t->metrics_port, t->udp_port,
		extra_config);
	if (t->redis_started)
		fprintf(f, "redis.url = %s\n", t->redis.url);
	fclose(f);
	snprintf(t->config_env, sizeof(t->config_env), "FLOWSIFT_CONFIG=%s", config_path);
	snprintf(t->log_path, sizeof(t->log_path), "%s/%s.log", t->dir, worker_names[worker]);
	return t;
}

static void
start_worker(struct restart_test *t)
{
	char program[64];
	char *argv[] = { program, NULL };
	char *env[] = { t->config_env, NULL };

	snprintf(program, sizeof(program), "flowsift-%s", worker_names[t->worker]);
	t->pid = fs_test_spawn(program, argv, env, t->log_path);
	assert_true(t->pid > 0);
	if (fs_test_wait_status(t->metrics_port, "/healthz", 200, WAIT_MS) != 200) {
		print_log(t->log_path);
		fail_msg("flowsift-%s serves no /healthz", worker_names[t->worker]);
	}
}

static void
kill_worker(struct restart_test *t)
{
	assert_int_equal(kill(t->pid, SIGKILL), 0);
	assert_int_equal(fs_test_wait(t->pid, 10000), 128 + SIGKILL);
	t->pid = 0;
}

static int
teardown_env(void **state)
{
	struct restart_test *t = *state;
	char cmd[128];
	int status = 0;

	if (t->pid > 0)
		status = fs_test_stop(t->pid, 15000);
	if (status != 0 || getenv("FSTEST_SHOW_LOGS")) {
		print_log(t->log_path);
		print_log(t->broker.log_path);
	}
	fs_test_broker_stop(&t->broker);
	if (t->redis_started)
		fs_test_redis_stop(&t->redis);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	free(t);
	assert_int_equal(status, 0);
	return 0;
}

/* Encodes flow id as the Avro message of a TCP flow of BYTES_BASE + id bytes. */
static size_t
encode_flow(struct fs_flow_codec *codec, unsigned id, uint8_t *buf, size_t cap)
{
	struct fs_flow flow;
	size_t len = 0;

	fs_flow_clear(&flow);
	flow.present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_PROTO | FS_F_DST_PORT |
		       FS_F_SRC_PORT | FS_F_BYTES | FS_F_PACKETS;
	set_flow_id(&flow, id);
	assert_int_equal(fs_addr_parse(&flow.dst_addr, "203.0.113.7"), 0);
	assert_int_equal(fs_addr_parse(&flow.exporter_addr, "127.0.0.1"), 0);
	flow.proto = 6;
	flow.src_port = 40000;
	flow.dst_port = 443;
	flow.bytes = BYTES_BASE + id;
	flow.packets = 1;
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, cap, &len), 0);
	return len;
}

/*
 * Produces STREAM_FLOWS flows to topic in chunks and kills the worker with
 * SIGKILL once its consumed counter reaches kill_at, then starts it again.
 * The worker is kept at most about one chunk behind the stream, so the kill
 * lands mid-stream with flows produced but not yet consumed, consumed but
 * not yet delivered or written, and written but not yet committed.
 */
static void
stream_and_kill(struct restart_test *t, const char *topic, long kill_at)
{
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	char err[256], consumed_name[96];
	long long consumed = -1;
	unsigned sent = 0;

	snprintf(consumed_name, sizeof(consumed_name), "flowsift_%s_messages_consumed_total",
		 worker_names[t->worker]);
	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	producer = fs_producer_new(t->broker.bootstrap, NULL, err, sizeof(err));
	assert_non_null(producer);
	while (sent < STREAM_FLOWS) {
		for (int i = 0; i < CHUNK_FLOWS && sent < STREAM_FLOWS; i++, sent++) {
			size_t len = encode_flow(codec, sent, buf, sizeof(buf));

			assert_int_equal(fs_producer_send(producer, topic, "k", 1, buf, len), 0);
		}
		assert_int_equal(fs_producer_flush(producer, 10000), 0);
		if (t->pid <= 0)
			continue;
		/* The first chunk waits for the group join; later ones rarely wait. */
		consumed = fs_test_wait_metric(t->metrics_port, consumed_name,
					       (long long)sent - CHUNK_FLOWS, WAIT_MS);
		if (consumed < (long long)sent - CHUNK_FLOWS)
			print_log(t->log_path);
		assert_true(consumed >= (long long)sent - CHUNK_FLOWS);
		if (consumed >= kill_at) {
			printf("killed flowsift-%s after it consumed %lld flows, %u of %d sent\n",
			       worker_names[t->worker], consumed, sent, STREAM_FLOWS);
			kill_worker(t);
		}
	}
	assert_int_equal(fs_producer_close(producer, 1000, NULL), 0);
	fs_flow_codec_free(codec);
	if (t->pid > 0) {
		consumed = fs_test_wait_metric(t->metrics_port, consumed_name, kill_at, WAIT_MS);
		assert_true(consumed >= kill_at);
		printf("killed flowsift-%s after it consumed %lld flows, all %d sent\n",
		       worker_names[t->worker], consumed, STREAM_FLOWS);
		kill_worker(t);
	}
	start_worker(t);
}

struct tally {
	struct fs_flow_codec *codec;
	unsigned *counts;
	long unknown;
};

static int
count_flow(const struct fs_flow *flow, void *opaque)
{
	struct tally *tally = opaque;
	long id = flow_id(flow);

	if (id < 0)
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

/* Returns how many ids in [0, n) have a count of zero. */
static long
missing_ids(const unsigned *counts, long n)
{
	long missing = 0;

	for (long i = 0; i < n; i++)
		missing += counts[i] == 0;
	return missing;
}

/* Prints the seen, duplicate and missing counts of ids [0, n), with the first missing ids. */
static void
print_tally(const char *what, const unsigned *counts, long n)
{
	long total = 0, duplicates = 0, shown = 0;

	for (long i = 0; i < n; i++) {
		total += counts[i];
		if (counts[i] > 1)
			duplicates += counts[i] - 1;
	}
	printf("%s: %ld flows, %ld ids of %ld seen, %ld duplicates\n", what, total,
	       n - missing_ids(counts, n), n, duplicates);
	for (long i = 0; i < n && shown < 10; i++) {
		if (counts[i] == 0) {
			printf("  missing flow id %ld\n", i);
			shown++;
		}
	}
}

/* Reads topic until every id in [0, STREAM_FLOWS) was seen or WAIT_MS passes. */
static void
read_until_complete(struct restart_test *t, const char *topic)
{
	struct fs_test_topic_reader *reader = fs_test_topic_reader_new(t->broker.bootstrap, topic);
	struct tally tally = { .counts = t->counts };
	int64_t deadline = fs_test_now_ms() + WAIT_MS;
	char err[256];

	assert_non_null(reader);
	tally.codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(tally.codec);
	while (missing_ids(t->counts, STREAM_FLOWS) > 0 && fs_test_now_ms() < deadline) {
		assert_true(fs_test_topic_reader_drain(reader, count_message, &tally, WAIT_MS) >= 0);
		if (missing_ids(t->counts, STREAM_FLOWS) > 0)
			usleep(200000);
	}
	/* Whatever the worker produced after the last missing id arrived is read too. */
	assert_true(fs_test_topic_reader_drain(reader, count_message, &tally, WAIT_MS) >= 0);
	print_tally(topic, t->counts, STREAM_FLOWS);
	fs_flow_codec_free(tally.codec);
	fs_test_topic_reader_free(reader);
	assert_int_equal(tally.unknown, 0);
	if (missing_ids(t->counts, STREAM_FLOWS) > 0)
		print_log(t->log_path);
	assert_int_equal(missing_ids(t->counts, STREAM_FLOWS), 0);
}

/* Seeds the generator for one test and prints the seed. */
static void
seed_random(enum worker worker)
{
	uint64_t seed = pick_seed();

	rng_state = seed ? seed : 1;
	printf("flowsift-%s: seed %llu (FSTEST_SEED=%llu repeats the run)\n", worker_names[worker],
	       (unsigned long long)seed, (unsigned long long)seed);
}

/* Returns a kill point between a tenth and nine tenths of the stream. */
static long
pick_kill_point(enum worker worker)
{
	long kill_at;

	seed_random(worker);
	kill_at = random_between(STREAM_FLOWS / 10, STREAM_FLOWS * 9 / 10);
	printf("flowsift-%s: kill once %ld flows are consumed\n", worker_names[worker], kill_at);
	return kill_at;
}

static void
enrich_kill9_loses_nothing(void **state)
{
	struct restart_test *t = *state;

	start_worker(t);
	stream_and_kill(t, "flows.raw", pick_kill_point(ENRICH));
	read_until_complete(t, "flows.enriched");
}

static void
filter_kill9_loses_nothing(void **state)
{
	struct restart_test *t = *state;

	start_worker(t);
	stream_and_kill(t, "flows.enriched", pick_kill_point(FILTER));
	read_until_complete(t, "flows.filtered.all");
}

/*
 * Adds the scores of every flowsift:top:src_addr:<metric>:10s:* key into
 * sums by flow id.  Every flush writes the 10 s buckets (coarser ones are
 * built later by roll-up), so their sum is every count written.  Returns
 * the number of members that are not stream flows.
 */
static long
sum_redis_scores(redisContext *redis, const char *metric, unsigned long long *sums)
{
	redisReply *keys = redisCommand(redis, "KEYS flowsift:top:src_addr:%s:10s:*", metric);
	long unknown = 0;

	assert_non_null(keys);
	assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
	memset(sums, 0, sizeof(*sums) * STREAM_FLOWS);
	for (size_t k = 0; k < keys->elements; k++) {
		redisReply *set = redisCommand(redis, "ZRANGE %s 0 -1 WITHSCORES",
					       keys->element[k]->str);

		assert_non_null(set);
		assert_int_equal(set->type, REDIS_REPLY_ARRAY);
		for (size_t i = 0; i + 1 < set->elements; i += 2) {
			struct fs_flow flow = { .present = FS_F_SRC_ADDR };
			long id = -1;

			if (fs_addr_parse(&flow.src_addr, set->element[i]->str) == 0)
				id = flow_id(&flow);
			if (id < 0)
				unknown++;
			else
				sums[id] += strtoull(set->element[i + 1]->str, NULL, 10);
		}
		freeReplyObject(set);
	}
	freeReplyObject(keys);
	return unknown;
}

static void
report_kill9_loses_nothing(void **state)
{
	struct restart_test *t = *state;
	static unsigned long long flows[STREAM_FLOWS], bytes[STREAM_FLOWS];
	int64_t deadline;
	redisContext *redis;
	long short_bytes = 0, duplicates = 0;

	start_worker(t);
	stream_and_kill(t, "flows.enriched", pick_kill_point(REPORT));
	redis = fs_test_redis_connect(&t->redis);
	assert_non_null(redis);

	/* Every flow counts once in flows and BYTES_BASE + id in bytes; a duplicate counts again. */
	deadline = fs_test_now_ms() + WAIT_MS;
	for (;;) {
		assert_int_equal(sum_redis_scores(redis, "flows", flows), 0);
		for (long i = 0; i < STREAM_FLOWS; i++)
			t->counts[i] = (unsigned)flows[i];
		if (missing_ids(t->counts, STREAM_FLOWS) == 0 || fs_test_now_ms() >= deadline)
			break;
		usleep(200000);
	}
	assert_int_equal(sum_redis_scores(redis, "bytes", bytes), 0);
	print_tally("redis src_addr flows", t->counts, STREAM_FLOWS);
	for (long i = 0; i < STREAM_FLOWS; i++) {
		/* A flow counted twice shows as a flows score of 2 and twice its bytes. */
		if (bytes[i] < (unsigned long long)(BYTES_BASE + i))
			short_bytes++;
		if (flows[i] > 1)
			duplicates++;
	}
	printf("redis: %ld flows counted more than once; their bytes are counted as often\n",
	       duplicates);
	redisFree(redis);
	if (missing_ids(t->counts, STREAM_FLOWS) > 0)
		print_log(t->log_path);
	assert_int_equal(missing_ids(t->counts, STREAM_FLOWS), 0);
	assert_int_equal(short_bytes, 0);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Sends V5_BURST NetFlow v5 datagrams of V5_RECORDS flows each, ids from *next_id on. */
static void
send_v5_burst(int fd, uint16_t port, unsigned *next_id, uint32_t *sequence)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint8_t d[24 + 48 * V5_RECORDS];

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int n = 0; n < V5_BURST; n++) {
		memset(d, 0, sizeof(d));
		put16(d, 5);
		put16(d + 2, V5_RECORDS);
		put32(d + 8, (uint32_t)time(NULL));
		put32(d + 16, *sequence);
		for (int r = 0; r < V5_RECORDS; r++) {
			uint8_t *rec = d + 24 + 48 * r;

			put32(rec, 0x0a000000u + *next_id);  /* srcaddr: the flow id */
			put32(rec + 4, 0xcb007107);           /* dstaddr 203.0.113.7 */
			put32(rec + 16, 1);                   /* packets */
			put32(rec + 20, BYTES_BASE + *next_id);
			put16(rec + 32, 40000);
			put16(rec + 34, 443);
			rec[38] = 6;
			(*next_id)++;
		}
		*sequence += V5_RECORDS;
		assert_int_equal(sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)sizeof(d));
	}
}

/*
 * Ingest is killed right after a burst.  Every flow the broker acknowledged
 * before that burst must be on flows.raw.  The loss may only be what ingest
 * held unacknowledged in memory.  That is its producer queue, which contains
 * at most kafka.queue.max.messages flows (more would be dropped and counted,
 * and the test checks that none was), plus the last burst, which was in its
 * socket buffer or being decoded.
 */
static void
ingest_kill9_loses_only_memory(void **state)
{
	struct restart_test *t = *state;
	struct fs_test_topic_reader *reader;
	struct tally tally = { .counts = t->counts };
	long long delivered = 0, dropped = 0;
	unsigned next_id = 0;
	uint32_t sequence = 0;
	long kill_burst, on_topic, lost, bound;
	char err[256];
	int fd;

	start_worker(t);
	assert_int_equal(fs_test_wait_status(t->metrics_port, "/readyz", 200, WAIT_MS), 200);
	/* From the fifth burst on, some flows must have been acknowledged before the last. */
	seed_random(INGEST);
	kill_burst = random_between(4, V5_BURSTS - 1);
	printf("flowsift-ingest: kill right after burst %ld of %d\n", kill_burst + 1, V5_BURSTS);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	for (long burst = 0; burst <= kill_burst; burst++) {
		/*
		 * Each burst is queued before the next is sent, so the kernel
		 * drops nothing, and at most two bursts wait for the broker, so
		 * the producer queue never fills.
		 */
		assert_true(fs_test_wait_metric(t->metrics_port, "flowsift_ingest_flows_queued_total",
						next_id, WAIT_MS) >= next_id);
		delivered = fs_test_wait_metric(t->metrics_port,
						"flowsift_ingest_flows_delivered_total",
						(long long)next_id - 2 * V5_BURST * V5_RECORDS, WAIT_MS);
		assert_true(delivered >= (long long)next_id - 2 * V5_BURST * V5_RECORDS);
		dropped = fs_test_metric(t->metrics_port,
					 "flowsift_ingest_flows_dropped_total{reason=\"queue_full\"}");
		send_v5_burst(fd, t->udp_port, &next_id, &sequence);
	}
	kill_worker(t);
	close(fd);
	assert_true(delivered > 0);
	assert_int_equal(dropped, 0);

	reader = fs_test_topic_reader_new(t->broker.bootstrap, "flows.raw");
	assert_non_null(reader);
	tally.codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(tally.codec);
	assert_true(fs_test_topic_reader_drain(reader, count_message, &tally, WAIT_MS) >= 0);
	fs_flow_codec_free(tally.codec);
	fs_test_topic_reader_free(reader);

	on_topic = (long)next_id - missing_ids(t->counts, (long)next_id);
	lost = (long)next_id - on_topic;
	bound = INGEST_QUEUE_MAX + V5_BURST * V5_RECORDS;
	print_tally("flows.raw", t->counts, (long)next_id);
	printf("ingest: sent %u flows in %ld bursts, %ld on flows.raw, %ld lost (at most %ld "
	       "allowed); %lld were acknowledged before the last burst\n",
	       next_id, kill_burst + 1, on_topic, lost, bound, delivered);
	assert_int_equal(tally.unknown, 0);
	assert_true(on_topic >= delivered);
	assert_true(lost <= bound);
}

static int
setup_enrich(void **state)
{
	*state = setup_env(ENRICH, "");
	return 0;
}

static int
setup_filter(void **state)
{
	*state = setup_env(FILTER, "");
	return 0;
}

static int
setup_report(void **state)
{
	*state = setup_env(REPORT, "");
	return 0;
}

/* A small producer queue with batches held 200 ms, so the kill finds flows in memory. */
static int
setup_ingest(void **state)
{
	*state = setup_env(INGEST, "kafka.linger.ms = 200\n"
			   "kafka.queue.max.messages = 1000\n"
			   "ingest.socket.rcvbuf = 1048576\n");
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(enrich_kill9_loses_nothing, setup_enrich,
						teardown_env),
		cmocka_unit_test_setup_teardown(filter_kill9_loses_nothing, setup_filter,
						teardown_env),
		cmocka_unit_test_setup_teardown(report_kill9_loses_nothing, setup_report,
						teardown_env),
		cmocka_unit_test_setup_teardown(ingest_kill9_loses_only_memory, setup_ingest,
						teardown_env),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
