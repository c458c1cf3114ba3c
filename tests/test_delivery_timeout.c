/*
 * test_delivery_timeout.c - enrich and filter outlive a delivery timeout.
 *
 * The test runs librdkafka's mock cluster in its own process with two
 * brokers: broker 1 leads every partition of the worker's input topic and
 * is the group coordinator, broker 2 leads every partition of its output
 * topic.  With kafka.message.timeout.ms = 2000, broker 2 is taken down and
 * flows are produced to the input.  The worker consumes them, cannot deliver
 * its output, and must see the deliveries time out, rewind its consumer and
 * keep running.  When broker 2 is back, every flow must reach the output
 * topic, the worker must still run and then exit 0 on SIGTERM, and the
 * output copies beyond the first must not exceed the duplicates it counted.
 *
 * filter also routes every flow to a second topic led by broker 1, which
 * stays up.  Its deliveries there succeed in each round before the rewind,
 * so that topic must hold duplicates, all of them counted.
 *
 * Readiness needs more than a TCP connection: a worker whose bootstrap
 * server accepts connections but never replies to a Kafka request must return
 * 503 on /readyz.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/flow_ids.h"
#include "support/http_probe.h"
#include "support/process.h"
#include "support/worker_process.h"

#define WAIT_MS 60000
#define FLOWS 100
#define MAX_IDS 1024
#define PARTITIONS 4
#define INPUT_BROKER 1
#define OUTPUT_BROKER 2
#define MESSAGE_TIMEOUT_MS 2000

struct timeout_test {
	struct fs_test_worker process; /* flowsift-enrich or flowsift-filter */
	const char *input;
	const char *output;
	const char *second_output; /* led by INPUT_BROKER; NULL for enrich */
	rd_kafka_t *mock_handle;
	rd_kafka_mock_cluster_t *mock;
	const char *bootstrap;    /* owned by mock */
	int silent_fd;            /* listening socket that never replies, or -1 */
	unsigned counts[MAX_IDS];
};

/* Creates topic with every partition led by broker_id. */
static void
create_topic(struct timeout_test *t, const char *topic, int32_t broker_id)
{
	assert_int_equal(rd_kafka_mock_topic_create(t->mock, topic, PARTITIONS, 1), 0);
	for (int32_t p = 0; p < PARTITIONS; p++)
		assert_int_equal(rd_kafka_mock_partition_set_leader(t->mock, topic, p, broker_id),
				 0);
}

static void
start_mock(struct timeout_test *t)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	char group[64];

	assert_int_equal(rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)),
			 RD_KAFKA_CONF_OK);
	t->mock_handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	assert_non_null(t->mock_handle);
	t->mock = rd_kafka_mock_cluster_new(t->mock_handle, 2);
	assert_non_null(t->mock);
	t->bootstrap = rd_kafka_mock_cluster_bootstraps(t->mock);
	create_topic(t, t->input, INPUT_BROKER);
	create_topic(t, t->output, OUTPUT_BROKER);
	if (t->second_output)
		create_topic(t, t->second_output, INPUT_BROKER);
	snprintf(group, sizeof(group), "outage-%s", t->process.name);
	assert_int_equal(rd_kafka_mock_coordinator_set(t->mock, "group", group, INPUT_BROKER), 0);
}

/*
 * Listens on a free loopback port and never accepts: the kernel completes
 * the TCP handshakes, and no Kafka reply ever comes.  Returns "127.0.0.1:port".
 */
static const char *
start_silent_listener(struct timeout_test *t)
{
	static char address[32];
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->silent_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(t->silent_fd >= 0);
	assert_int_equal(bind(t->silent_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(t->silent_fd, 64), 0);
	assert_int_equal(getsockname(t->silent_fd, (struct sockaddr *)&addr, &len), 0);
	snprintf(address, sizeof(address), "127.0.0.1:%u", ntohs(addr.sin_port));
	return address;
}

/* The initial state of a test: its worker, topics and bootstrap server. */
struct timeout_case {
	const char *worker;         /* "enrich" or "filter" */
	const char *input;
	const char *output;
	const char *second_output;  /* led by INPUT_BROKER, or NULL */
	int silent_broker;          /* 1: the bootstrap server is a listener that never replies */
};

static struct timeout_case enrich_case = { "enrich", "outage.raw", "outage.enriched", NULL, 0 };
static struct timeout_case enrich_silent_case = { "enrich", "outage.raw", "outage.enriched", NULL,
						  1 };
static struct timeout_case filter_case = { "filter", "outage.enriched", "outage.filtered",
					   "outage.copied", 0 };

/*
 * Starts the mock cluster and writes the configuration of the struct
 * timeout_case in *state, which it replaces with the test's struct
 * timeout_test.
 */
static int
setup_env(void **state)
{
	const struct timeout_case *c = *state;
	const char *input = c->input, *output = c->output, *second_output = c->second_output;
	struct timeout_test *t = calloc(1, sizeof(*t));
	char rules_path[128], copy_rule[128] = "";
	const char *bootstrap;
	int enrich = strcmp(c->worker, "enrich") == 0;

	assert_non_null(t);
	t->input = input;
	t->output = output;
	t->second_output = second_output;
	t->silent_fd = -1;
	fs_test_worker_init(&t->process, "timeout", c->worker, WAIT_MS);
	start_mock(t);
	bootstrap = c->silent_broker ? start_silent_listener(t) : t->bootstrap;

	if (second_output)
		snprintf(copy_rule, sizeof(copy_rule), "rule copy topic %s: proto tcp\n", second_output);
	fs_test_worker_write_file(&t->process, "filter.rules", rules_path, sizeof(rules_path),
				  "rule all topic %s: proto tcp\n%s", output, copy_rule);

	/* Short backoffs and sessions keep reconnects and group joins within seconds. */
	fs_test_worker_write_config(&t->process,
		"kafka.bootstrap.servers = %s\n"
		"kafka.message.timeout.ms = %d\n"
		"kafka.session.timeout.ms = 6000\nkafka.heartbeat.interval.ms = 500\n"
		"kafka.reconnect.backoff.max.ms = 1000\n"
		"kafka.topic.raw = %s\nkafka.topic.enriched = %s\n"
		"enrich.group.id = outage-enrich\nfilter.group.id = outage-filter\n"
		"filter.topic = %s\nfilter.rules = %s\nfilter.commit.interval.ms = 100\n",
		bootstrap, MESSAGE_TIMEOUT_MS, enrich ? input : "flows.raw", enrich ? output : input,
		input, rules_path);
	*state = t;
	return 0;
}

static int
teardown_env(void **state)
{
	struct timeout_test *t = *state;
	/* A worker whose broker never replies waits 10 s to leave its group, more under ASan. */
	int status = fs_test_worker_stop(&t->process, 30000, NULL);

	if (t->silent_fd >= 0)
		close(t->silent_fd);
	if (t->mock)
		rd_kafka_mock_cluster_destroy(t->mock);
	if (t->mock_handle)
		rd_kafka_destroy(t->mock_handle);
	fs_test_worker_release(&t->process);
	free(t);
	assert_int_equal(status, 0);
	return 0;
}

/*
 * Waits until flows first .. first + count - 1 are all in topic.  Returns
 * the copies of every flow beyond its first one.
 */
static long
expect_flows_pass(struct timeout_test *t, const char *topic, unsigned first, unsigned count)
{
	long missing, unknown = 0, extra = 0;

	/* The reader counts the topic from its start into counts, which must start at 0. */
	memset(t->counts, 0, sizeof(t->counts));
	missing = fs_test_flows_await(t->bootstrap, topic, t->counts, MAX_IDS, first, count,
				      &unknown, WAIT_MS);
	if (missing != 0)
		fs_test_worker_print_log(&t->process);
	assert_int_equal(missing, 0);
	assert_int_equal(unknown, 0);
	for (unsigned id = 0; id < MAX_IDS; id++)
		extra += t->counts[id] > 1 ? (long)t->counts[id] - 1 : 0;
	return extra;
}

static void
worker_outlives_delivery_timeout(struct timeout_test *t)
{
	struct fs_test_worker *w = &t->process;
	long long timed_out, rewound, duplicated;
	long extra, extra_second = 0;

	fs_test_worker_spawn(w);
	fs_test_worker_expect_ready(w, 200);
	assert_int_equal(fs_test_flows_produce(t->bootstrap, t->input, 0, FLOWS), 0);
	assert_int_equal(expect_flows_pass(t, t->output, 0, FLOWS), 0);

	/* The output's leader goes down; the input stays readable. */
	assert_int_equal(rd_kafka_mock_broker_set_down(t->mock, OUTPUT_BROKER), 0);
	assert_int_equal(fs_test_flows_produce(t->bootstrap, t->input, FLOWS, FLOWS), 0);

	/* Two rounds of timed-out output and rewinds, each after MESSAGE_TIMEOUT_MS. */
	timed_out = fs_test_worker_wait_metric(w, "delivery_errors_total{cause=\"timed_out\"}",
					       2 * FLOWS);
	assert_true(timed_out >= 2 * FLOWS);
	rewound = fs_test_worker_wait_metric(w, "messages_rewound_total", 2 * FLOWS);
	assert_true(rewound >= 2 * FLOWS);
	assert_int_equal(fs_test_wait(w->pid, 0), -2);

	assert_int_equal(rd_kafka_mock_broker_set_up(t->mock, OUTPUT_BROKER), 0);
	extra = expect_flows_pass(t, t->output, FLOWS, FLOWS);
	/* Each rewound round delivered the flows once more to the second topic. */
	if (t->second_output) {
		extra_second = expect_flows_pass(t, t->second_output, FLOWS, FLOWS);
		assert_true(extra_second >= FLOWS);
	}
	assert_int_equal(fs_test_wait(w->pid, 0), -2);

	/* Every output copy beyond the first is a counted duplicate. */
	duplicated = fs_test_worker_metric(w, "flows_duplicated_total");
	printf("flowsift-%s: %lld deliveries timed out, %lld messages rewound, "
	       "%lld flows counted as duplicated, %ld + %ld extra copies seen\n",
	       w->name, timed_out, rewound, duplicated, extra, extra_second);
	assert_true(duplicated >= 0);
	assert_true(extra + extra_second <= duplicated);
}

static void
enrich_not_ready_when_broker_silent(void **state)
{
	struct timeout_test *t = *state;
	struct fs_test_worker *w = &t->process;
	const char *expected = "not ready: Kafka unreachable: metadata request failed";
	int64_t deadline = fs_test_now_ms() + WAIT_MS;
	int status;

	fs_test_worker_spawn(w);
	status = fs_test_wait_status(w->metrics_port, "/healthz", 200, WAIT_MS);
	assert_int_equal(status, 200);
	/* The first probe's outcome is logged: reachable, or this reason. */
	while (!fs_test_worker_log_contains(w, expected) && fs_test_now_ms() < deadline)
		usleep(200000);
	if (!fs_test_worker_log_contains(w, expected))
		fs_test_worker_print_log(w);
	assert_true(fs_test_worker_log_contains(w, expected));
	assert_int_equal(fs_test_http_status(w->metrics_port, "/readyz"), 503);
	assert_int_equal(fs_test_worker_metric(w, "broker_reachable"), 0);
}

static void
enrich_outlives_delivery_timeout(void **state)
{
	worker_outlives_delivery_timeout(*state);
}

static void
filter_outlives_delivery_timeout(void **state)
{
	worker_outlives_delivery_timeout(*state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(enrich_outlives_delivery_timeout, setup_env,
							 teardown_env, &enrich_case),
		cmocka_unit_test_prestate_setup_teardown(filter_outlives_delivery_timeout, setup_env,
							 teardown_env, &filter_case),
		cmocka_unit_test_prestate_setup_teardown(enrich_not_ready_when_broker_silent, setup_env,
							 teardown_env, &enrich_silent_case),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
