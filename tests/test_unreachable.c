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
#include "support/process.h"
#include "support/redis_server.h"

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
	char dir[64];
	char config_env[192];
	char log_path[128];
	struct fs_test_broker broker;
	struct fs_test_redis redis;
	int redis_port;
	pid_t pid;
	uint16_t metrics_port;
	uint16_t udp_port;
	unsigned counts[MAX_IDS];
};

static const char filter_rules[] = "rule all topic flows.filtered.all: proto tcp\n";

static void
print_file(const char *path)
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

static int
file_contains(const char *path, const char *text)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* Starts the broker and writes the configuration; Redis is left to each test. */
static struct outage_test *
setup_env(enum worker worker)
{
	static const char *const topics[] = { "flows.filtered.all", NULL };
	struct outage_test *t = calloc(1, sizeof(*t));
	char config_path[128], rules_path[128];
	FILE *f;

	assert_non_null(t);
	t->worker = worker;
	snprintf(t->dir, sizeof(t->dir), "/tmp/fstest-outage-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	assert_int_equal(fs_test_broker_start(&t->broker, t->dir, topics), 0);
	snprintf(rules_path, sizeof(rules_path), "%s/filter.rules", t->dir);
	f = fopen(rules_path, "w");
	assert_non_null(f);
	fputs(filter_rules, f);
	fclose(f);

	t->metrics_port = fs_test_free_port(SOCK_STREAM);
	t->udp_port = fs_test_free_port(SOCK_DGRAM);
	t->redis_port = fs_test_free_port(SOCK_STREAM);
	assert_true(t->metrics_port > 0 && t->udp_port > 0 && t->redis_port > 0);
	snprintf(config_path, sizeof(config_path), "%s/flowsift.conf", t->dir);
	f = fopen(config_path, "w");
	assert_non_null(f);
	/*
	 * Short backoffs and sessions keep reconnects and group joins within
	 * seconds.  One flow per message makes the queue bound a bound in flows,
	 * which the ingest test counts.
	 */
	fprintf(f,
		"run.dir = %s\n"
		"kafka.session.timeout.ms = 6000\nkafka.heartbeat.interval.ms = 500\n"
		"kafka.reconnect.backoff.max.ms = 1000\n"
		"kafka.queue.max.messages = %d\nkafka.message.flows.max = 1\n"
		"filter.rules = %s\nfilter.commit.interval.ms = 100\n"
		"report.flush.interval.ms = 200\n"
		"redis.url = redis://127.0.0.1:%d\n"
		"%s.metrics.listen = 127.0.0.1:%u\n"
		"ingest.listen = 127.0.0.1:%u\ningest.listen.tcp = \"\"\n",
		t->dir, QUEUE_MAX, rules_path, t->redis_port, worker_names[worker], t->metrics_port,
		t->udp_port);
	fclose(f);
	snprintf(t->config_env, sizeof(t->config_env), "FLOWSIFT_CONFIG=%s", config_path);
	snprintf(t->log_path, sizeof(t->log_path), "%s/%s.log", t->dir, worker_names[worker]);
	return t;
}

static void
start_worker(struct outage_test *t)
{
	char program[64];
	char *argv[] = { program, NULL };
	char *env[] = { t->config_env, NULL };

	snprintf(program, sizeof(program), "flowsift-%s", worker_names[t->worker]);
	t->pid = fs_test_spawn(program, argv, env, t->log_path);
	assert_true(t->pid > 0);
	if (fs_test_wait_status(t->metrics_port, "/healthz", 200, WAIT_MS) != 200) {
		print_file(t->log_path);
		fail_msg("flowsift-%s serves no /healthz", worker_names[t->worker]);
	}
}

static int
teardown_env(void **state)
{
	struct outage_test *t = *state;
	char cmd[128];
	int status = 0;

	if (t->pid > 0)
		status = fs_test_stop(t->pid, 15000);
	if (status != 0 || getenv("FSTEST_SHOW_LOGS")) {
		print_file(t->log_path);
		print_file(t->broker.log_path);
	}
	fs_test_broker_stop(&t->broker);
	fs_test_redis_stop(&t->redis);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	free(t);
	assert_int_equal(status, 0);
	return 0;
}

/* Waits for /readyz to return want; prints the worker's log when it does not. */
static void
expect_ready(const struct outage_test *t, int want)
{
	int status = fs_test_wait_status(t->metrics_port, "/readyz", want, WAIT_MS);

	if (status != want)
		print_file(t->log_path);
	assert_int_equal(status, want);
}

/*
 * Sums the flows scores of every flowsift:top:src_addr:flows:10s:* key (the
 * buckets every flush writes) by flow id into counts.  Returns how many ids of first .. first + count - 1
 * are still 0.
 */
static long
redis_missing(const struct outage_test *t, unsigned *counts, unsigned first, unsigned count)
{
	redisContext *redis = fs_test_redis_connect(&t->redis);
	redisReply *keys;
	long missing = 0;

	assert_non_null(redis);
	keys = redisCommand(redis, "KEYS flowsift:top:src_addr:flows:10s:*");
	assert_non_null(keys);
	memset(counts, 0, sizeof(unsigned) * MAX_IDS);
	for (size_t k = 0; k < keys->elements; k++) {
		redisReply *set = redisCommand(redis, "ZRANGE %s 0 -1 WITHSCORES",
					       keys->element[k]->str);

		assert_non_null(set);
		for (size_t i = 0; i + 1 < set->elements; i += 2) {
			struct fs_flow flow = { .present = FS_F_SRC_ADDR };
			long id = -1;

			if (fs_addr_parse(&flow.src_addr, set->element[i]->str) == 0)
				id = fs_test_flow_id(&flow);
			if (id >= 0 && id < MAX_IDS)
				counts[id] += (unsigned)strtoul(set->element[i + 1]->str, NULL, 10);
		}
		freeReplyObject(set);
	}
	freeReplyObject(keys);
	redisFree(redis);
	for (unsigned id = first; id < first + count; id++)
		missing += counts[id] == 0;
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
		while ((missing = redis_missing(t, t->counts, first, count)) > 0 &&
		       fs_test_now_ms() < deadline)
			usleep(200000);
		break;
	}
	if (missing != 0)
		print_file(t->log_path);
	printf("flowsift-%s: %ld of flows %u..%u missing after the outage\n",
	       worker_names[t->worker], missing, first, first + count - 1);
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
	char reachable[96];

	snprintf(reachable, sizeof(reachable), "flowsift_%s_broker_reachable",
		 worker_names[t->worker]);
	if (t->worker == REPORT)
		assert_int_equal(fs_test_redis_spawn_port(&t->redis, t->redis_port, NULL), 0);
	assert_int_equal(fs_test_broker_set_up(&t->broker, 0), 0);
	start_worker(t);
	expect_ready(t, 503);
	assert_int_equal(fs_test_metric(t->metrics_port, reachable), 0);
	assert_true(file_contains(t->log_path, "not ready: Kafka unreachable"));

	assert_int_equal(fs_test_broker_set_up(&t->broker, 1), 0);
	expect_ready(t, 200);
	pass_flows(t, input, 0, FLOWS);

	/* A second outage while running: no restart in between. */
	assert_int_equal(fs_test_broker_set_up(&t->broker, 0), 0);
	expect_ready(t, 503);
	assert_int_equal(fs_test_broker_set_up(&t->broker, 1), 0);
	expect_ready(t, 200);
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
	long long pending;

	start_worker(t);
	expect_ready(t, 503);
	assert_int_equal(fs_test_wait_metric(t->metrics_port, "flowsift_report_redis_errors_total", 1,
					     WAIT_MS) > 0, 1);
	assert_int_equal(fs_test_metric(t->metrics_port, "flowsift_report_redis_reachable"), 0);
	assert_true(file_contains(t->log_path, "cannot connect to Redis"));

	/* The flows wait in report's tables, their offsets uncommitted. */
	assert_int_equal(fs_test_flows_produce(t->broker.bootstrap, "flows.enriched", 0, FLOWS), 0);
	pending = fs_test_wait_metric(t->metrics_port, "flowsift_report_flows_pending", FLOWS,
				      WAIT_MS);
	assert_int_equal(pending, FLOWS);
	assert_int_equal(fs_test_metric(t->metrics_port, "flowsift_report_flows_written_total"), 0);

	assert_int_equal(fs_test_redis_spawn_port(&t->redis, t->redis_port, NULL), 0);
	expect_ready(t, 200);
	assert_int_equal(fs_test_wait_metric(t->metrics_port, "flowsift_report_flows_written_total",
					     FLOWS, WAIT_MS), FLOWS);
	assert_int_equal(redis_missing(t, t->counts, 0, FLOWS), 0);
	pass_flows(t, "flows.enriched", FLOWS, FLOWS);

	/* Redis goes away while report runs and comes back on the same port. */
	fs_test_redis_stop(&t->redis);
	expect_ready(t, 503);
	assert_int_equal(fs_test_flows_produce(t->broker.bootstrap, "flows.enriched", 2 * FLOWS,
					       FLOWS), 0);
	pending = fs_test_wait_metric(t->metrics_port, "flowsift_report_flows_pending", FLOWS,
				      WAIT_MS);
	assert_int_equal(pending, FLOWS);
	assert_int_equal(fs_test_redis_spawn_port(&t->redis, t->redis_port, NULL), 0);
	expect_ready(t, 200);
	assert_int_equal(fs_test_wait_metric(t->metrics_port, "flowsift_report_flows_written_total",
					     3 * FLOWS, WAIT_MS), 3 * FLOWS);
	/* The new server starts empty: only the flows written after its start are in it. */
	assert_int_equal(redis_missing(t, t->counts, 2 * FLOWS, FLOWS), 0);
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

/* Sends datagrams NetFlow v5 datagrams to ingest, flow ids from *next_id on. */
static void
send_v5(const struct outage_test *t, int datagrams, unsigned *next_id)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(t->udp_port) };
	uint8_t d[24 + 48 * V5_RECORDS];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	for (int n = 0; n < datagrams; n++) {
		memset(d, 0, sizeof(d));
		put16(d, 5);
		put16(d + 2, V5_RECORDS);
		put32(d + 8, (uint32_t)time(NULL));
		put32(d + 16, *next_id);
		for (int r = 0; r < V5_RECORDS; r++, (*next_id)++) {
			uint8_t *rec = d + 24 + 48 * r;

			put32(rec, 0x0a000000u + *next_id);
			put32(rec + 4, 0xcb007107);
			put32(rec + 16, 1);
			put32(rec + 20, FS_TEST_FLOW_BYTES_BASE + *next_id);
			put16(rec + 32, 40000);
			put16(rec + 34, 443);
			rec[38] = 6;
		}
		assert_int_equal(sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)sizeof(d));
		/* One datagram at a time, so the socket buffer never overflows. */
		assert_true(fs_test_wait_metric(t->metrics_port, "flowsift_ingest_flows_decoded_total",
						*next_id, WAIT_MS) >= *next_id);
	}
	close(fd);
}

static void
ingest_buffers_while_broker_down(void **state)
{
	struct outage_test *t = *state;
	const unsigned before = 1500, after = 300;
	long long queued, dropped;
	long missing, unknown = 0, kept = 0;
	unsigned next_id = 0;

	assert_int_equal(fs_test_broker_set_up(&t->broker, 0), 0);
	start_worker(t);
	expect_ready(t, 503);
	assert_int_equal(fs_test_metric(t->metrics_port, "flowsift_ingest_broker_reachable"), 0);

	/* 1500 flows against a queue of 1000: 1000 wait, 500 are dropped and counted. */
	send_v5(t, (int)(before / V5_RECORDS), &next_id);
	queued = fs_test_metric(t->metrics_port, "flowsift_ingest_flows_queued_total");
	dropped = fs_test_metric(t->metrics_port,
				 "flowsift_ingest_flows_dropped_total{reason=\"queue_full\"}");
	printf("ingest with the broker down: %lld flows queued, %lld dropped of %u\n", queued,
	       dropped, before);
	assert_int_equal(queued, QUEUE_MAX);
	assert_int_equal(dropped, before - QUEUE_MAX);
	assert_int_equal(fs_test_metric(t->metrics_port, "flowsift_ingest_producer_queue_depth"),
			 QUEUE_MAX);
	assert_true(file_contains(t->log_path, "the Kafka producer queue is full"));

	/* Back up: the queued flows are delivered and new ones pass, with no restart. */
	assert_int_equal(fs_test_broker_set_up(&t->broker, 1), 0);
	expect_ready(t, 200);
	send_v5(t, (int)(after / V5_RECORDS), &next_id);
	assert_int_equal(fs_test_wait_metric(t->metrics_port, "flowsift_ingest_flows_delivered_total",
					     QUEUE_MAX + after, WAIT_MS), QUEUE_MAX + after);
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

static int
setup_enrich(void **state)
{
	*state = setup_env(ENRICH);
	return 0;
}

static int
setup_filter(void **state)
{
	*state = setup_env(FILTER);
	return 0;
}

static int
setup_report(void **state)
{
	*state = setup_env(REPORT);
	return 0;
}

static int
setup_ingest(void **state)
{
	*state = setup_env(INGEST);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ingest_buffers_while_broker_down, setup_ingest,
						teardown_env),
		cmocka_unit_test_setup_teardown(enrich_rides_out_broker_outage, setup_enrich,
						teardown_env),
		cmocka_unit_test_setup_teardown(filter_rides_out_broker_outage, setup_filter,
						teardown_env),
		cmocka_unit_test_setup_teardown(report_rides_out_broker_outage, setup_report,
						teardown_env),
		cmocka_unit_test_setup_teardown(report_waits_for_redis, setup_report, teardown_env),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
