/*
 * test_unreachable.c - workers that start or run while Kafka or Redis is down.
 *
 * The embedded broker is taken down before a worker starts (its address
 * refuses connections, with the port kept) and brought up again later, then
 * taken down and up once more while the worker runs.  Every worker must start
 * anyway, return 503 on /readyz while the broker is down, turn ready when it
 * is back, and pass flows sent after the recovery, without a restart.
 *
 * Ingest buffers flows in its producer queue while the broker is down, up to
 * kafka.queue.max.messages (one flow per message here); the flows beyond are dropped, counted in
 * /metrics and logged.  The consumer workers buffer nothing of their own in
 * an outage: what they have not consumed stays in Kafka.
 *
 * flowsift-report is also started with no Redis on its port: it consumes
 * into its local tables, reports not ready, and writes the counters once a
 * Redis server appears on that port.  The same happens when Redis stops
 * while report runs and starts again on the same port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support/broker.h"
#include "support/flow_ids.h"
#include "support/http_probe.h"
#include "support/redis_server.h"
#include "support/worker_process.h"

#define WAIT_MS 40000
#define FLOWS 100
#define MAX_IDS 4096

/* Ingest: NetFlow v5 datagrams of V5_RECORDS flows, and its producer queue bound. */
#define V5_RECORDS 30
#define QUEUE_MAX 1000

enum worker { ENRICH, FILTER, REPORT, INGEST };

static const char *const worker_names[] = { "enrich", "filter", "report", "ingest" };

struct outage_test {
	enum worker worker;
	struct fs_test_worker process;
	struct fs_test_broker broker;
	struct fs_test_redis redis;
	int redis_port;
	uint16_t udp_port;
	unsigned counts[MAX_IDS];
};

static const char filter_rules[] = "rule all topic flows.filtered.all: proto tcp\n";

/* The initial states of the tests: the worker that setup_env() prepares. */
static enum worker enrich_worker = ENRICH;
static enum worker filter_worker = FILTER;
static enum worker report_worker = REPORT;
static enum worker ingest_worker = INGEST;

/*
 * Starts the broker and writes the configuration of the worker in *state,
 * which it replaces with the test's struct outage_test.  Redis is left to
 * each test.
 */
static int
setup_env(void **state)
{
	static const char *const topics[] = { "flows.filtered.all", NULL };
	const enum worker *worker = *state;
	struct outage_test *t = calloc(1, sizeof(*t));
	char rules_path[128];

	assert_non_null(t);
	t->worker = *worker;
	fs_test_worker_init(&t->process, "outage", worker_names[t->worker], WAIT_MS);
	assert_int_equal(fs_test_broker_start(&t->broker, t->process.dir, topics), 0);
	fs_test_worker_write_file(&t->process, "filter.rules", rules_path, sizeof(rules_path), "%s",
				  filter_rules);

	t->udp_port = fs_test_free_port(SOCK_DGRAM);
	t->redis_port = fs_test_free_port(SOCK_STREAM);
	assert_true(t->udp_port > 0 && t->redis_port > 0);
	/*
	 * Short backoffs and sessions keep reconnects and group joins within
	 * seconds.  One flow per message makes the queue bound a bound in flows,
	 * which the ingest test counts.
	 */
	fs_test_worker_write_config(&t->process,
		"kafka.session.timeout.ms = 6000\nkafka.heartbeat.interval.ms = 500\n"
		"kafka.reconnect.backoff.max.ms = 1000\n"
		"kafka.queue.max.messages = %d\nkafka.message.flows.max = 1\n"
		"filter.rules = %s\nfilter.commit.interval.ms = 100\n"
		"report.flush.interval.ms = 200\n"
		"redis.url = redis://127.0.0.1:%d\n"
		"ingest.listen = 127.0.0.1:%u\ningest.listen.tcp = \"\"\n",
		QUEUE_MAX, rules_path, t->redis_port, t->udp_port);
	*state = t;
	return 0;
}

static int
teardown_env(void **state)
{
	struct outage_test *t = *state;
	int status = fs_test_worker_stop(&t->process, 15000, t->broker.log_path);

	fs_test_broker_stop(&t->broker);
	fs_test_redis_stop(&t->redis);
	fs_test_worker_release(&t->process);
	free(t);
	assert_int_equal(status, 0);
	return 0;
}

/*
 * Reads report's flows counters from Redis by flow id.  Returns how many ids
 * of first .. first + count - 1 have no count.
 */
static long
redis_missing(const struct outage_test *t, unsigned first, unsigned count)
{
	static unsigned long long flows[MAX_IDS];
	redisContext *redis = fs_test_redis_connect(&t->redis);
	long missing = 0;

	assert_non_null(redis);
	/* Members that are no flow of [0, MAX_IDS) do not matter here. */
	assert_true(fs_test_flows_redis_scores(redis, "flows", flows, MAX_IDS) >= 0);
	redisFree(redis);
	for (unsigned id = first; id < first + count; id++)
		missing += flows[id] == 0;
	return missing;
}

/* Produces flows first .. first + count - 1 and waits until all reached the worker's output. */
static void
pass_flows(struct outage_test *t, const char *input, unsigned first, unsigned count)
{
	int64_t deadline = fs_test_now_ms() + WAIT_MS;
	long missing = -1, unknown = 0;

	assert_int_equal(fs_test_flows_produce(t->broker.bootstrap, input, first, count), 0);
	switch (t->worker) {
	case ENRICH:
		missing = fs_test_flows_await(t->broker.bootstrap, "flows.enriched", t->counts,
					      MAX_IDS, first, count, &unknown, WAIT_MS);
		break;
	case FILTER:
		missing = fs_test_flows_await(t->broker.bootstrap, "flows.filtered.all", t->counts,
					      MAX_IDS, first, count, &unknown, WAIT_MS);
		break;
	default:
		while ((missing = redis_missing(t, first, count)) > 0 &&
		       fs_test_now_ms() < deadline)
			usleep(200000);
		break;
	}
	if (missing != 0)
		fs_test_worker_print_log(&t->process);
	printf("flowsift-%s: %ld of flows %u..%u missing after the outage\n", t->process.name,
	       missing, first, first + count - 1);
	assert_int_equal(missing, 0);
	assert_int_equal(unknown, 0);
}

/*
 * A consumer worker starts with the broker down, turns ready when it comes
 * up, passes flows, goes unready in a second outage and passes flows again.
 */
static void
consumer_outage(struct outage_test *t, const char *input)
{
	struct fs_test_worker *w = &t->process;

	if (t->worker == REPORT)
		assert_int_equal(fs_test_redis_spawn_port(&t->redis, t->redis_port, NULL), 0);
	assert_int_equal(fs_test_broker_set_up(&t->broker, 0), 0);
	fs_test_worker_start(w);
	fs_test_worker_expect_ready(w, 503);
	assert_int_equal(fs_test_worker_metric(w, "broker_reachable"), 0);
	assert_true(fs_test_worker_log_contains(w, "not ready: Kafka unreachable"));

	assert_int_equal(fs_test_broker_set_up(&t->broker, 1), 0);
	fs_test_worker_expect_ready(w, 200);
	pass_flows(t, input, 0, FLOWS);

	/* A second outage while running: no restart in between. */
	assert_int_equal(fs_test_broker_set_up(&t->broker, 0), 0);
	fs_test_worker_expect_ready(w, 503);
	assert_int_equal(fs_test_broker_set_up(&t->broker, 1), 0);
	fs_test_worker_expect_ready(w, 200);
	pass_flows(t, input, FLOWS, FLOWS);
}

static void
enrich_rides_out_broker_outage(void **state)
{
	consumer_outage(*state, "flows.raw");
}

static void
filter_rides_out_broker_outage(void **state)
{
	consumer_outage(*state, "flows.enriched");
}

static void
report_rides_out_broker_outage(void **state)
{
	consumer_outage(*state, "flows.enriched");
}

static void
report_waits_for_redis(void **state)
{
	struct outage_test *t = *state;
	struct fs_test_worker *w = &t->process;
	long long pending;

	fs_test_worker_start(w);
	fs_test_worker_expect_ready(w, 503);
	assert_int_equal(fs_test_worker_wait_metric(w, "redis_errors_total", 1) > 0, 1);
	assert_int_equal(fs_test_worker_metric(w, "redis_reachable"), 0);
	assert_true(fs_test_worker_log_contains(w, "cannot connect to Redis"));

	/* The flows wait in report's tables, their offsets uncommitted. */
	assert_int_equal(fs_test_flows_produce(t->broker.bootstrap, "flows.enriched", 0, FLOWS), 0);
	pending = fs_test_worker_wait_metric(w, "flows_pending", FLOWS);
	assert_int_equal(pending, FLOWS);
	assert_int_equal(fs_test_worker_metric(w, "flows_written_total"), 0);

	assert_int_equal(fs_test_redis_spawn_port(&t->redis, t->redis_port, NULL), 0);
	fs_test_worker_expect_ready(w, 200);
	assert_int_equal(fs_test_worker_wait_metric(w, "flows_written_total", FLOWS), FLOWS);
	assert_int_equal(redis_missing(t, 0, FLOWS), 0);
	pass_flows(t, "flows.enriched", FLOWS, FLOWS);

	/* Redis goes away while report runs and comes back on the same port. */
	fs_test_redis_stop(&t->redis);
	fs_test_worker_expect_ready(w, 503);
	assert_int_equal(fs_test_flows_produce(t->broker.bootstrap, "flows.enriched", 2 * FLOWS,
					       FLOWS), 0);
	pending = fs_test_worker_wait_metric(w, "flows_pending", FLOWS);
	assert_int_equal(pending, FLOWS);
	assert_int_equal(fs_test_redis_spawn_port(&t->redis, t->redis_port, NULL), 0);
	fs_test_worker_expect_ready(w, 200);
	assert_int_equal(fs_test_worker_wait_metric(w, "flows_written_total", 3 * FLOWS), 3 * FLOWS);
	/* The new server starts empty: only the flows written after its start are in it. */
	assert_int_equal(redis_missing(t, 2 * FLOWS, FLOWS), 0);
}

/* Sends datagrams NetFlow v5 datagrams to ingest, flow ids from *next_id on. */
static void
send_v5(const struct outage_test *t, int datagrams, unsigned *next_id)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(t->udp_port) };
	uint8_t d[FS_TEST_FLOW_V5_LEN(V5_RECORDS)];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	for (int n = 0; n < datagrams; n++) {
		assert_int_equal(fs_test_flows_v5_datagram(d, sizeof(d), *next_id, V5_RECORDS),
				 sizeof(d));
		*next_id += V5_RECORDS;
		assert_int_equal(sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)sizeof(d));
		/* One datagram at a time, so the socket buffer never overflows. */
		assert_true(fs_test_worker_wait_metric(&t->process, "flows_decoded_total", *next_id) >=
			    *next_id);
	}
	close(fd);
}

static void
ingest_buffers_while_broker_down(void **state)
{
	struct outage_test *t = *state;
	struct fs_test_worker *w = &t->process;
	const unsigned before = 1500, after = 300;
	long long queued, dropped;
	long missing, unknown = 0, kept = 0;
	unsigned next_id = 0;

	assert_int_equal(fs_test_broker_set_up(&t->broker, 0), 0);
	fs_test_worker_start(w);
	fs_test_worker_expect_ready(w, 503);
	assert_int_equal(fs_test_worker_metric(w, "broker_reachable"), 0);

	/* 1500 flows against a queue of 1000: 1000 wait, 500 are dropped and counted. */
	send_v5(t, (int)(before / V5_RECORDS), &next_id);
	queued = fs_test_worker_metric(w, "flows_queued_total");
	dropped = fs_test_worker_metric(w, "flows_dropped_total{reason=\"queue_full\"}");
	printf("ingest with the broker down: %lld flows queued, %lld dropped of %u\n", queued,
	       dropped, before);
	assert_int_equal(queued, QUEUE_MAX);
	assert_int_equal(dropped, before - QUEUE_MAX);
	assert_int_equal(fs_test_worker_metric(w, "producer_queue_depth"), QUEUE_MAX);
	assert_true(fs_test_worker_log_contains(w, "the Kafka producer queue is full"));

	/* Back up: the queued flows are delivered and new ones pass, with no restart. */
	assert_int_equal(fs_test_broker_set_up(&t->broker, 1), 0);
	fs_test_worker_expect_ready(w, 200);
	send_v5(t, (int)(after / V5_RECORDS), &next_id);
	assert_int_equal(fs_test_worker_wait_metric(w, "flows_delivered_total", QUEUE_MAX + after),
			 QUEUE_MAX + after);
	missing = fs_test_flows_await(t->broker.bootstrap, "flows.raw", t->counts, MAX_IDS, before,
				      after, &unknown, WAIT_MS);
	assert_int_equal(missing, 0);
	assert_int_equal(unknown, 0);
	for (unsigned id = 0; id < before; id++)
		kept += t->counts[id] > 0;
	printf("ingest after the outage: %ld of the %u flows sent while down reached flows.raw\n",
	       kept, before);
	assert_int_equal(kept, QUEUE_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(ingest_buffers_while_broker_down, setup_env,
							 teardown_env, &ingest_worker),
		cmocka_unit_test_prestate_setup_teardown(enrich_rides_out_broker_outage, setup_env,
							 teardown_env, &enrich_worker),
		cmocka_unit_test_prestate_setup_teardown(filter_rides_out_broker_outage, setup_env,
							 teardown_env, &filter_worker),
		cmocka_unit_test_prestate_setup_teardown(report_rides_out_broker_outage, setup_env,
							 teardown_env, &report_worker),
		cmocka_unit_test_prestate_setup_teardown(report_waits_for_redis, setup_env,
							 teardown_env, &report_worker),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
