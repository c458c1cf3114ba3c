/*
 * test_ingest.c - flowsift-ingest as a deployed process: metrics and probes
 * over HTTP, the exporter allowlist, and a bounded SIGTERM shutdown with the
 * broker up and with the broker gone.  Runs the real binaries with the
 * embedded broker.
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

#include "core/clock.h"
#include "support/http_probe.h"
#include "support/broker.h"
#include "support/process.h"
#include "support/text_file.h"
#include "support/wire.h"

struct ingest_env {
	char dir[64];
	char config_env[160];
	struct fs_test_broker broker;
	pid_t ingest;
	uint16_t udp_port, metrics_port;
};

/* Sends count NetFlow v5 datagrams of one record each to the ingest port. */
static void
send_netflow_v5(uint16_t port, int count)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint8_t d[24 + 48];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	for (int i = 0; i < count; i++) {
		memset(d, 0, sizeof(d));
		fs_test_put16(d, 5);                       /* version */
		fs_test_put16(d + 2, 1);                   /* record count */
		fs_test_put32(d + 8, (uint32_t)time(NULL)); /* unix_secs */
		fs_test_put32(d + 16, (uint32_t)i);        /* flow_sequence */
		fs_test_put32(d + 24, 0xc0000201);         /* srcaddr 192.0.2.1 */
		fs_test_put32(d + 28, 0xc6336401);         /* dstaddr 198.51.100.1 */
		fs_test_put32(d + 40, 3);                  /* packets */
		fs_test_put32(d + 44, 1500);               /* bytes */
		fs_test_put16(d + 56, 40000);              /* srcport */
		fs_test_put16(d + 58, 443);                /* dstport */
		d[62] = 6;                         /* protocol TCP */
		assert_int_equal(sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)sizeof(d));
	}
	close(fd);
}

static int
log_contains(const struct ingest_env *e, const char *name, const char *text)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s.log", e->dir, name);
	return fs_test_file_contains(path, text);
}

/*
 * Writes the configuration of e (its folder and ports) plus the extra
 * config lines, and starts flowsift-ingest with it, its log in the folder.
 */
static void
spawn_ingest(struct ingest_env *e, const char *extra_config)
{
	char log_path[128], config_path[128];
	FILE *config;

	snprintf(config_path, sizeof(config_path), "%s/flowsift.conf", e->dir);
	config = fopen(config_path, "w");
	assert_non_null(config);
	fprintf(config, "run.dir = %s\ningest.listen = 127.0.0.1:%u\ningest.listen.tcp = \"\"\n"
		"ingest.metrics.listen = 127.0.0.1:%u\nlog.format = json\n%s",
		e->dir, e->udp_port, e->metrics_port, extra_config);
	fclose(config);
	snprintf(e->config_env, sizeof(e->config_env), "FLOWSIFT_CONFIG=%s", config_path);
	char *env[] = { e->config_env, NULL };
	char *ingest_argv[] = { "flowsift-ingest", NULL };

	snprintf(log_path, sizeof(log_path), "%s/ingest.log", e->dir);
	e->ingest = fs_test_spawn("flowsift-ingest", ingest_argv, env, log_path);
	assert_true(e->ingest > 0);
}

/*
 * Starts the broker and ingest with the extra config lines and waits for
 * /readyz.  The environment goes into *state first, so teardown() stops
 * whatever started even when an assertion fails on the way.
 */
static struct ingest_env *
start(void **state, const char *extra_config)
{
	struct ingest_env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	*state = e;
	snprintf(e->dir, sizeof(e->dir), "/tmp/fstest-ingest-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(fs_test_broker_start(&e->broker, e->dir, NULL), 0);

	e->udp_port = fs_test_free_port(SOCK_DGRAM);
	e->metrics_port = fs_test_free_port(SOCK_STREAM);
	assert_true(e->udp_port > 0 && e->metrics_port > 0);
	spawn_ingest(e, extra_config);
	if (fs_test_wait_status(e->metrics_port, "/readyz", 200, 10000) != 200) {
		fs_test_print_log(e->dir, "ingest");
		fail_msg("ingest did not become ready");
	}
	return e;
}

/* Stops what start() started and removes its folder. */
static int
teardown(void **state)
{
	struct ingest_env *e = *state;
	char cmd[128];

	if (!e)
		return 0;
	*state = NULL;
	if (e->ingest > 0)
		fs_test_stop(e->ingest, 15000);
	fs_test_broker_stop(&e->broker);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", e->dir);
	free(e);
	return 0;
}

static void
metrics_count_flows_and_probes(void **state)
{
	struct ingest_env *e = start(state, "");
	int64_t begin;
	int status;

	assert_int_equal(fs_test_http_status(e->metrics_port, "/healthz"), 200);
	send_netflow_v5(e->udp_port, 20);
	assert_int_equal(fs_test_wait_metric(e->metrics_port,
					     "flowsift_ingest_flows_delivered_total", 20, 10000),
			 20);
	assert_int_equal(fs_test_metric(e->metrics_port, "flowsift_ingest_flows_decoded_total"),
			 20);
	assert_int_equal(fs_test_metric(e->metrics_port,
		"flowsift_ingest_datagrams_by_protocol_total{protocol=\"netflow_v5\"}"), 20);
	assert_int_equal(fs_test_metric(e->metrics_port,
					"flowsift_ingest_datagram_processing_seconds_count"), 20);
	assert_int_equal(fs_test_metric(e->metrics_port, "flowsift_ingest_producer_queue_depth"),
			 0);

	begin = fs_monotonic_ms();
	status = fs_test_stop(e->ingest, 15000);
	e->ingest = 0;
	if (status != 0)
		fs_test_print_log(e->dir, "ingest");
	assert_int_equal(status, 0);
	assert_true(fs_monotonic_ms() - begin < 5000);
	/* The JSON log format was applied. */
	assert_true(log_contains(e, "ingest", "{\"ts\":"));
	assert_true(log_contains(e, "ingest", "\"msg\":\"stopped\""));
}

static void
allowlist_drops_other_exporters(void **state)
{
	struct ingest_env *e = start(state, "ingest.exporters.allow = 10.0.0.0/8, 2001:db8::/32\n");

	send_netflow_v5(e->udp_port, 7);
	assert_int_equal(fs_test_wait_metric(e->metrics_port,
		"flowsift_ingest_datagrams_dropped_total{reason=\"exporter_not_allowed\"}", 7,
		10000), 7);
	/* The receive counters reach /metrics a poll interval after the allowlist counter. */
	assert_int_equal(fs_test_wait_metric(e->metrics_port, "flowsift_ingest_udp_datagrams_total",
					     7, 10000), 7);
	assert_int_equal(fs_test_metric(e->metrics_port, "flowsift_ingest_datagrams_decoded_total"),
			 0);
	assert_true(log_contains(e, "ingest", "not in ingest.exporters.allow"));
}

/*
 * A bad ingest.exporters.allow stops flowsift-ingest at start with the
 * message every prefix list gives.  The allowlist is read before the
 * broker is needed, so no broker runs.
 */
static void
bad_allowlist_stops_start(void **state)
{
	struct ingest_env *e = calloc(1, sizeof(*e));
	const char *expected = "ingest.exporters.allow: '10.1.2.3/8': host bits set; "
			       "did you mean 10.0.0.0/8?";
	int status;

	assert_non_null(e);
	*state = e;
	snprintf(e->dir, sizeof(e->dir), "/tmp/fstest-ingest-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->udp_port = fs_test_free_port(SOCK_DGRAM);
	e->metrics_port = fs_test_free_port(SOCK_STREAM);
	assert_true(e->udp_port > 0 && e->metrics_port > 0);
	spawn_ingest(e, "ingest.exporters.allow = 192.0.2.0/24, 10.1.2.3/8\n");

	status = fs_test_wait(e->ingest, 30000);
	if (status != -2)
		e->ingest = 0;
	if (!log_contains(e, "ingest", expected))
		fs_test_print_log(e->dir, "ingest");
	assert_int_not_equal(status, -2);
	assert_int_not_equal(status, 0);
	assert_true(log_contains(e, "ingest", expected));
}

static void
sigterm_bounded_with_broker_gone(void **state)
{
	struct ingest_env *e = start(state, "ingest.shutdown.timeout.ms = 1500\n"
				     "kafka.message.timeout.ms = 600000\n");
	int64_t begin;
	int status;

	assert_int_equal(fs_test_broker_stop(&e->broker), 0);
	/* The probe runs every 5 s; readiness must turn 503 within two periods. */
	assert_int_equal(fs_test_wait_status(e->metrics_port, "/readyz", 503, 12000), 503);
	send_netflow_v5(e->udp_port, 10);
	assert_int_equal(fs_test_wait_metric(e->metrics_port, "flowsift_ingest_flows_queued_total",
					     10, 10000), 10);
	assert_int_equal(fs_test_metric(e->metrics_port, "flowsift_ingest_broker_reachable"), 0);

	begin = fs_monotonic_ms();
	status = fs_test_stop(e->ingest, 15000);
	e->ingest = 0;
	if (status != 0 || fs_monotonic_ms() - begin >= 1500 + 8000)
		fs_test_print_log(e->dir, "ingest");
	assert_int_equal(status, 0);
	/*
	 * The flush waits out its 1.5 s, then destroying the client takes a
	 * moment: far less than the 600 s message timeout that an unbounded
	 * shutdown would wait, with room for a loaded machine.
	 */
	assert_true(fs_monotonic_ms() - begin >= 1500);
	assert_true(fs_monotonic_ms() - begin < 1500 + 8000);
	assert_true(log_contains(e, "ingest", "lost=10"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(metrics_count_flows_and_probes, teardown),
		cmocka_unit_test_teardown(allowlist_drops_other_exporters, teardown),
		cmocka_unit_test_teardown(bad_allowlist_stops_start, teardown),
		cmocka_unit_test_teardown(sigterm_bounded_with_broker_gone, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
