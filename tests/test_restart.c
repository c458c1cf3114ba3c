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

#include "core/flow.h"
#include "support/broker.h"
#include "support/flow_ids.h"
#include "support/http_probe.h"
#include "support/redis_server.h"
#include "support/worker_process.h"

#define STREAM_FLOWS 6000
#define CHUNK_FLOWS 200
#define WAIT_MS 40000

/* NetFlow v5 for the ingest case: RECORDS per datagram, BURST datagrams at a time. */
#define V5_RECORDS 30
#define V5_BURST 10
#define V5_BURSTS 20
#define INGEST_QUEUE_MAX 1000

enum worker { ENRICH, FILTER, REPORT, INGEST };

static const char *const worker_names[] = { "enrich", "filter", "report", "ingest" };

struct restart_test {
	enum worker worker;
	struct fs_test_worker process;
	struct fs_test_broker broker;
	struct fs_test_redis redis;
	int redis_started;
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

static const char filter_rules[] = "rule all topic flows.filtered.all: proto tcp\n";

/* The initial state of a test: its worker and the configuration lines that it adds. */
struct restart_case {
	enum worker worker;
	const char *extra_config;
};

static struct restart_case enrich_case = { ENRICH, "" };
static struct restart_case filter_case = { FILTER, "" };
static struct restart_case report_case = { REPORT, "" };
/* A small producer queue with batches held 200 ms, so the kill finds flows in memory. */
static struct restart_case ingest_case = {
	INGEST, "kafka.linger.ms = 200\n"
		"kafka.queue.max.messages = 1000\n"
		"ingest.socket.rcvbuf = 1048576\n"
};

/*
 * Starts the broker (and Redis for report) and writes the configuration of
 * the worker of the struct restart_case in *state, which it replaces with
 * the test's struct restart_test.
 */
static int
setup_env(void **state)
{
	static const char *const topics[] = { "flows.filtered.all", NULL };
	const struct restart_case *c = *state;
	struct restart_test *t = calloc(1, sizeof(*t));
	char rules_path[128], redis_line[600] = "";

	assert_non_null(t);
	t->worker = c->worker;
	fs_test_worker_init(&t->process, "restart", worker_names[t->worker], WAIT_MS);
	assert_int_equal(fs_test_broker_start(&t->broker, t->process.dir, topics), 0);
	if (t->worker == REPORT) {
		/* A failed setup gets no teardown, so the broker is stopped here. */
		if (fs_test_redis_start(&t->redis) != 0) {
			fs_test_broker_stop(&t->broker);
			fail_msg("cannot start or reach Redis for flowsift-report");
		}
		t->redis_started = 1;
		snprintf(redis_line, sizeof(redis_line), "redis.url = %s\n", t->redis.url);
	}
	fs_test_worker_write_file(&t->process, "filter.rules", rules_path, sizeof(rules_path), "%s",
				  filter_rules);

	t->udp_port = fs_test_free_port(SOCK_DGRAM);
	assert_true(t->udp_port > 0);
	/*
	 * The mock broker keeps a departed member's partitions until its
	 * session times out, so a short session lets the restarted worker
	 * rejoin within seconds.
	 */
	fs_test_worker_write_config(&t->process,
		"kafka.session.timeout.ms = 6000\nkafka.heartbeat.interval.ms = 500\n"
		"kafka.auto.commit.interval.ms = 1000\n"
		"enrich.group.id = fstest-restart-enrich\nfilter.group.id = fstest-restart-filter\n"
		"report.group.id = fstest-restart-report\n"
		"filter.rules = %s\nfilter.commit.interval.ms = 100\n"
		"report.flush.interval.ms = 200\n"
		"ingest.listen = 127.0.0.1:%u\ningest.listen.tcp = \"\"\n"
		"%s%s",
		rules_path, t->udp_port, c->extra_config, redis_line);
	*state = t;
	return 0;
}

static int
teardown_env(void **state)
{
	struct restart_test *t = *state;
	int status = fs_test_worker_stop(&t->process, 15000, t->broker.log_path);

	fs_test_broker_stop(&t->broker);
	if (t->redis_started)
		fs_test_redis_stop(&t->redis);
	fs_test_worker_release(&t->process);
	free(t);
	assert_int_equal(status, 0);
	return 0;
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
	struct fs_test_worker *w = &t->process;
	long long consumed = -1;
	unsigned sent = 0;

	while (sent < STREAM_FLOWS) {
		unsigned chunk = STREAM_FLOWS - sent < CHUNK_FLOWS ? STREAM_FLOWS - sent : CHUNK_FLOWS;

		assert_int_equal(fs_test_flows_produce(t->broker.bootstrap, topic, sent, chunk), 0);
		sent += chunk;
		if (w->pid <= 0)
			continue;
		/* The first chunk waits for the group join; later ones rarely wait. */
		consumed = fs_test_worker_wait_metric(w, "messages_consumed_total",
						      (long long)sent - CHUNK_FLOWS);
		assert_true(consumed >= (long long)sent - CHUNK_FLOWS);
		if (consumed >= kill_at) {
			printf("killed flowsift-%s after it consumed %lld flows, %u of %d sent\n",
			       w->name, consumed, sent, STREAM_FLOWS);
			fs_test_worker_kill(w);
		}
	}
	if (w->pid > 0) {
		consumed = fs_test_worker_wait_metric(w, "messages_consumed_total", kill_at);
		assert_true(consumed >= kill_at);
		printf("killed flowsift-%s after it consumed %lld flows, all %d sent\n", w->name,
		       consumed, STREAM_FLOWS);
		fs_test_worker_kill(w);
	}
	fs_test_worker_start(w);
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
	       n - fs_test_flows_missing(counts, 0, (unsigned)n), n, duplicates);
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
	long unknown = 0;

	fs_test_flows_await(t->broker.bootstrap, topic, t->counts, STREAM_FLOWS, 0, STREAM_FLOWS,
			    NULL, WAIT_MS);
	/*
	 * The whole topic is counted once more, so whatever the worker produced
	 * after the last missing id arrived is counted too.
	 */
	memset(t->counts, 0, sizeof(t->counts));
	assert_true(fs_test_flows_count(t->broker.bootstrap, topic, t->counts, STREAM_FLOWS,
					&unknown, WAIT_MS) >= 0);
	print_tally(topic, t->counts, STREAM_FLOWS);
	assert_int_equal(unknown, 0);
	if (fs_test_flows_missing(t->counts, 0, STREAM_FLOWS) > 0)
		fs_test_worker_print_log(&t->process);
	assert_int_equal(fs_test_flows_missing(t->counts, 0, STREAM_FLOWS), 0);
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

	fs_test_worker_start(&t->process);
	stream_and_kill(t, "flows.raw", pick_kill_point(ENRICH));
	read_until_complete(t, "flows.enriched");
}

static void
filter_kill9_loses_nothing(void **state)
{
	struct restart_test *t = *state;

	fs_test_worker_start(&t->process);
	stream_and_kill(t, "flows.enriched", pick_kill_point(FILTER));
	read_until_complete(t, "flows.filtered.all");
}

static void
report_kill9_loses_nothing(void **state)
{
	struct restart_test *t = *state;
	static unsigned long long flows[STREAM_FLOWS], bytes[STREAM_FLOWS];
	int64_t deadline;
	redisContext *redis;
	long short_bytes = 0, duplicates = 0;

	fs_test_worker_start(&t->process);
	stream_and_kill(t, "flows.enriched", pick_kill_point(REPORT));
	redis = fs_test_redis_connect(&t->redis);
	assert_non_null(redis);

	/* Every flow counts once in flows and FS_TEST_FLOW_BYTES_BASE + id in bytes; a duplicate counts again. */
	deadline = fs_test_now_ms() + WAIT_MS;
	for (;;) {
		assert_int_equal(fs_test_flows_redis_scores(redis, "flows", flows, STREAM_FLOWS), 0);
		for (long i = 0; i < STREAM_FLOWS; i++)
			t->counts[i] = (unsigned)flows[i];
		if (fs_test_flows_missing(t->counts, 0, STREAM_FLOWS) == 0 ||
		    fs_test_now_ms() >= deadline)
			break;
		usleep(200000);
	}
	assert_int_equal(fs_test_flows_redis_scores(redis, "bytes", bytes, STREAM_FLOWS), 0);
	print_tally("redis src_addr flows", t->counts, STREAM_FLOWS);
	for (long i = 0; i < STREAM_FLOWS; i++) {
		/* A flow counted twice shows as a flows score of 2 and twice its bytes. */
		if (bytes[i] < (unsigned long long)(FS_TEST_FLOW_BYTES_BASE + i))
			short_bytes++;
		if (flows[i] > 1)
			duplicates++;
	}
	printf("redis: %ld flows counted more than once; their bytes are counted as often\n",
	       duplicates);
	redisFree(redis);
	if (fs_test_flows_missing(t->counts, 0, STREAM_FLOWS) > 0)
		fs_test_worker_print_log(&t->process);
	assert_int_equal(fs_test_flows_missing(t->counts, 0, STREAM_FLOWS), 0);
	assert_int_equal(short_bytes, 0);
}

/* Sends V5_BURST NetFlow v5 datagrams of V5_RECORDS flows each, ids from *next_id on. */
static void
send_v5_burst(int fd, uint16_t port, unsigned *next_id)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint8_t d[FS_TEST_FLOW_V5_LEN(V5_RECORDS)];

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int n = 0; n < V5_BURST; n++) {
		assert_int_equal(fs_test_flows_v5_datagram(d, sizeof(d), *next_id, V5_RECORDS),
				 sizeof(d));
		*next_id += V5_RECORDS;
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
	struct fs_test_worker *w = &t->process;
	long long delivered = 0, dropped = 0;
	unsigned next_id = 0;
	long kill_burst, on_topic, lost, bound, unknown = 0;
	int fd;

	fs_test_worker_start(w);
	fs_test_worker_expect_ready(w, 200);
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
		assert_true(fs_test_worker_wait_metric(w, "flows_queued_total", next_id) >= next_id);
		delivered = fs_test_worker_wait_metric(w, "flows_delivered_total",
						       (long long)next_id - 2 * V5_BURST * V5_RECORDS);
		assert_true(delivered >= (long long)next_id - 2 * V5_BURST * V5_RECORDS);
		dropped = fs_test_worker_metric(w, "flows_dropped_total{reason=\"queue_full\"}");
		send_v5_burst(fd, t->udp_port, &next_id);
	}
	fs_test_worker_kill(w);
	close(fd);
	assert_true(delivered > 0);
	assert_int_equal(dropped, 0);

	assert_true(fs_test_flows_count(t->broker.bootstrap, "flows.raw", t->counts, STREAM_FLOWS,
					&unknown, WAIT_MS) >= 0);

	on_topic = (long)next_id - fs_test_flows_missing(t->counts, 0, next_id);
	lost = (long)next_id - on_topic;
	bound = INGEST_QUEUE_MAX + V5_BURST * V5_RECORDS;
	print_tally("flows.raw", t->counts, (long)next_id);
	printf("ingest: sent %u flows in %ld bursts, %ld on flows.raw, %ld lost (at most %ld "
	       "allowed); %lld were acknowledged before the last burst\n",
	       next_id, kill_burst + 1, on_topic, lost, bound, delivered);
	assert_int_equal(unknown, 0);
	assert_true(on_topic >= delivered);
	assert_true(lost <= bound);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(enrich_kill9_loses_nothing, setup_env,
							 teardown_env, &enrich_case),
		cmocka_unit_test_prestate_setup_teardown(filter_kill9_loses_nothing, setup_env,
							 teardown_env, &filter_case),
		cmocka_unit_test_prestate_setup_teardown(report_kill9_loses_nothing, setup_env,
							 teardown_env, &report_case),
		cmocka_unit_test_prestate_setup_teardown(ingest_kill9_loses_only_memory, setup_env,
							 teardown_env, &ingest_case),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
