/*
 * test_worker_metrics.c - /metrics, /healthz and /readyz of flowsift-enrich,
 * flowsift-filter and flowsift-report, run as processes next to the
 * embedded broker (build/bin/flowsift-broker) and a private redis-server.
 *
 * Flows produced to flows.raw pass enrich, then filter and report; the flow
 * counters each worker serves must match what was sent, the exposition must
 * be well formed, and report's /readyz must turn 503 once Redis stops.
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

#include "avro/flow_codec.h"
#include "core/clock.h"
#include "core/flow.h"
#include "kafka/producer.h"
#include "support/broker.h"
#include "support/http_probe.h"
#include "support/ingest_harness.h"
#include "support/process.h"
#include "support/redis_server.h"

#define WAIT_MS 30000
#define WEB_FLOWS 12
#define OTHER_FLOWS 8
#define MAX_FAMILIES 128

enum { ENRICH, FILTER, REPORT, WORKER_COUNT };

static const char *const worker_names[WORKER_COUNT] = { "enrich", "filter", "report" };

struct metrics_test {
	char dir[64];
	char config_env[160];
	struct fs_test_redis redis;
	struct fs_test_broker broker;
	pid_t workers[WORKER_COUNT];
	uint16_t ports[WORKER_COUNT];
};

static const char rules[] =
	"rule web topic flows.filtered.web: proto tcp and dst port 80\n"
	"rule never: port 9\n";

/* Returns the body of GET /metrics (caller frees), or NULL. */
static char *
scrape(uint16_t port)
{
	char *response = fs_test_http_get(port, "/metrics");
	const char *body;
	char *copy;

	if (!response)
		return NULL;
	body = strstr(response, "\r\n\r\n");
	copy = body ? strdup(body + 4) : NULL;
	free(response);
	return copy;
}

/*
 * Returns the value of the sample whose name and labels are exactly sample
 * (as `name` or `name{label="value"}`), or -1 when the exposition has none.
 */
static long long
sample_value(const char *text, const char *sample)
{
	size_t n = strlen(sample);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, sample, n) == 0 && line[n] == ' ')
			return strtoll(line + n + 1, NULL, 10);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

struct family_seen {
	char name[128];
	char type[16];
};

/* Maps a sample name to its family: histogram samples drop _bucket, _sum or _count. */
static const struct family_seen *
family_of(const struct family_seen *seen, size_t count, const char *sample)
{
	static const char *const suffixes[] = { "", "_bucket", "_sum", "_count" };

	for (size_t s = 0; s < 4; s++) {
		size_t n = strlen(sample), k = strlen(suffixes[s]);

		if (n <= k || strcmp(sample + n - k, suffixes[s]) != 0)
			continue;
		for (size_t i = 0; i < count; i++) {
			if (strlen(seen[i].name) == n - k && strncmp(seen[i].name, sample, n - k) == 0 &&
			    (s == 0 || strcmp(seen[i].type, "histogram") == 0))
				return &seen[i];
		}
	}
	return NULL;
}

/*
 * Checks that every sample follows the HELP and TYPE lines of its family,
 * that each family appears once, and that every value parses.  Returns NULL
 * or the first line at fault (static storage).
 */
static const char *
check_exposition(const char *text)
{
	static char why[256];
	struct family_seen seen[MAX_FAMILIES];
	size_t count = 0;
	char *copy = strdup(text), *line, *save = NULL;
	const char *result = NULL;

	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line && !result;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[16], *end;
		const char *value;

		if (sscanf(line, "# HELP %127s", name) == 1) {
			if (family_of(seen, count, name) || count == MAX_FAMILIES) {
				snprintf(why, sizeof(why), "family repeated: %s", line);
				result = why;
				break;
			}
			snprintf(seen[count].name, sizeof(seen[count].name), "%s", name);
			seen[count].type[0] = '\0';
			count++;
			continue;
		}
		if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			if (count == 0 || strcmp(seen[count - 1].name, name) != 0) {
				snprintf(why, sizeof(why), "TYPE without its HELP: %s", line);
				result = why;
				break;
			}
			snprintf(seen[count - 1].type, sizeof(seen[count - 1].type), "%s", type);
			continue;
		}
		if (sscanf(line, "%127[^{ ]", name) != 1 || !family_of(seen, count, name) ||
		    !family_of(seen, count, name)->type[0]) {
			snprintf(why, sizeof(why), "sample without HELP and TYPE: %s", line);
			result = why;
			break;
		}
		value = strrchr(line, ' ');
		if (!value || value[1] == '\0' ||
		    (strtod(value + 1, &end), *end != '\0' && strcmp(value + 1, "+Inf") != 0)) {
			snprintf(why, sizeof(why), "sample without a number: %s", line);
			result = why;
		}
	}
	free(copy);
	return result;
}

/* Waits until worker's sample reaches want.  Returns the last value seen. */
static long long
wait_sample(const struct metrics_test *t, int worker, const char *sample, long long want)
{
	int64_t deadline = fs_monotonic_ms() + WAIT_MS;
	long long value = -1;

	while (fs_monotonic_ms() < deadline) {
		char *text = scrape(t->ports[worker]);

		value = text ? sample_value(text, sample) : -1;
		free(text);
		if (value == want)
			break;
		usleep(200000);
	}
	if (value != want)
		fprintf(stderr, "%s: %s is %lld, expected %lld\n", worker_names[worker], sample,
			value, want);
	return value;
}

/* Checks that every line of the worker's log is a JSON object, as log.format = json requests. */
static void
check_json_log(const struct metrics_test *t, const char *name)
{
	char path[160], line[4096];
	int lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", t->dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		if (line[0] != '{' || !strstr(line, "\"msg\":"))
			fail_msg("%s logged a line that is not JSON: %s", name, line);
	}
	fclose(f);
	assert_true(lines > 0);
}

static int
setup(void **state)
{
	struct metrics_test *t = calloc(1, sizeof(*t));
	const char *topics[] = { "flows.filtered.web", "flows.filtered.never", NULL };
	char log_path[128], config_path[128], rules_path[128];
	FILE *f;

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/fstest-wmetrics-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	assert_int_equal(fs_test_redis_spawn(&t->redis, NULL), 0);

	assert_int_equal(fs_test_broker_start(&t->broker, t->dir, topics), 0);

	snprintf(rules_path, sizeof(rules_path), "%s/filter.rules", t->dir);
	f = fopen(rules_path, "w");
	assert_non_null(f);
	fputs(rules, f);
	fclose(f);
	for (int i = 0; i < WORKER_COUNT; i++)
		t->ports[i] = fstest_free_port(SOCK_STREAM);
	snprintf(config_path, sizeof(config_path), "%s/flowsift.conf", t->dir);
	f = fopen(config_path, "w");
	assert_non_null(f);
	fprintf(f,
		"run.dir = %s\nredis.url = %s\nfilter.rules = %s\n"
		"enrich.group.id = fstest-enrich-%d\nfilter.group.id = fstest-filter-%d\n"
		"report.group.id = fstest-report-%d\n"
		"filter.commit.interval.ms = 100\nreport.flush.interval.ms = 200\n"
		"enrich.metrics.listen = 127.0.0.1:%u\nfilter.metrics.listen = 127.0.0.1:%u\n"
		"report.metrics.listen = 127.0.0.1:%u\nlog.format = json\n",
		t->dir, t->redis.url, rules_path, (int)getpid(), (int)getpid(), (int)getpid(),
		t->ports[ENRICH], t->ports[FILTER], t->ports[REPORT]);
	fclose(f);
	snprintf(t->config_env, sizeof(t->config_env), "FLOWSIFT_CONFIG=%s", config_path);

	char *env[] = { t->config_env, NULL };

	for (int i = 0; i < WORKER_COUNT; i++) {
		char program[64];
		char *argv[] = { program, NULL };

		snprintf(program, sizeof(program), "flowsift-%s", worker_names[i]);
		snprintf(log_path, sizeof(log_path), "%s/%s.log", t->dir, worker_names[i]);
		t->workers[i] = fs_test_spawn(program, argv, env, log_path);
		assert_true(t->workers[i] > 0);
	}
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct metrics_test *t = *state;
	int status[WORKER_COUNT], broker_status, failed = 0;
	char cmd[128];

	for (int i = 0; i < WORKER_COUNT; i++) {
		status[i] = t->workers[i] > 0 ? fs_test_stop(t->workers[i], 15000) : 0;
		failed |= status[i] != 0;
	}
	broker_status = fs_test_broker_stop(&t->broker);
	if (failed || broker_status != 0 || getenv("FSTEST_SHOW_LOGS")) {
		for (int i = 0; i < WORKER_COUNT; i++)
			fs_test_print_log(t->dir, worker_names[i]);
		fs_test_print_log(t->dir, "broker");
	}
	fs_test_redis_stop(&t->redis);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	free(t);
	for (int i = 0; i < WORKER_COUNT; i++)
		assert_int_equal(status[i], 0);
	assert_int_equal(broker_status, 0);
	return 0;
}

/* Produces WEB_FLOWS flows to TCP port 80 and OTHER_FLOWS to UDP port 443 on flows.raw. */
static void
produce_flows(const struct metrics_test *t)
{
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	char err[256];

	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	producer = fs_producer_new(t->broker.bootstrap, NULL, err, sizeof(err));
	assert_non_null(producer);
	for (int i = 0; i < WEB_FLOWS + OTHER_FLOWS; i++) {
		struct fs_flow flow;
		char src[32];
		size_t len;

		fs_flow_clear(&flow);
		flow.present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_PROTO | FS_F_DST_PORT |
			       FS_F_SRC_PORT | FS_F_BYTES | FS_F_PACKETS;
		snprintf(src, sizeof(src), "198.51.100.%d", i + 1);
		assert_int_equal(fs_addr_parse(&flow.src_addr, src), 0);
		assert_int_equal(fs_addr_parse(&flow.dst_addr, "203.0.113.7"), 0);
		assert_int_equal(fs_addr_parse(&flow.exporter_addr, "127.0.0.1"), 0);
		flow.proto = i < WEB_FLOWS ? 6 : 17;
		flow.src_port = 40000;
		flow.dst_port = i < WEB_FLOWS ? 80 : 443;
		flow.bytes = 1000;
		flow.packets = 2;
		/* Received now, but the last flow an hour ago, which detection counts as late. */
		flow.time_received_ns = fs_clock_ms(CLOCK_REALTIME) * 1000000;
		if (i == WEB_FLOWS + OTHER_FLOWS - 1)
			flow.time_received_ns -= INT64_C(3600000) * 1000000;
		assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_producer_send(producer, "flows.raw", "k", 1, buf, len), 0);
	}
	assert_int_equal(fs_producer_flush(producer, 10000), 0);
	assert_int_equal(fs_producer_close(producer, 1000, NULL), 0);
	fs_flow_codec_free(codec);
}

/* Scrapes worker and checks the exposition and that every family in names has HELP and TYPE. */
static void
check_worker_exposition(const struct metrics_test *t, int worker, const char *const *names)
{
	char *text = scrape(t->ports[worker]);
	const char *why;

	assert_non_null(text);
	why = check_exposition(text);
	if (why)
		fprintf(stderr, "%s: %s\n", worker_names[worker], why);
	assert_null(why);
	for (const char *const *name = names; *name; name++) {
		char help[160], type[160];

		snprintf(help, sizeof(help), "# HELP %s ", *name);
		snprintf(type, sizeof(type), "# TYPE %s ", *name);
		if (!strstr(text, help) || !strstr(text, type))
			fprintf(stderr, "%s: no HELP or TYPE for %s\n", worker_names[worker], *name);
		assert_non_null(strstr(text, help));
		assert_non_null(strstr(text, type));
	}
	free(text);
}

static void
counters_match_and_readiness_follows_redis(void **state)
{
	struct metrics_test *t = *state;
	const long long total = WEB_FLOWS + OTHER_FLOWS;
	static const char *const enrich_families[] = {
		"flowsift_enrich_messages_consumed_total", "flowsift_enrich_flows_enriched_total",
		"flowsift_enrich_flows_dropped_total", "flowsift_enrich_records_delivered_total",
		"flowsift_enrich_delivery_errors_total", "flowsift_enrich_producer_queue_depth",
		"flowsift_enrich_consumer_lag", "flowsift_enrich_broker_reachable",
		"flowsift_enrich_batch_processing_seconds", NULL,
	};
	static const char *const filter_families[] = {
		"flowsift_filter_flows_total", "flowsift_filter_rule_matches_total",
		"flowsift_filter_rule_produced_total", "flowsift_filter_flows_unmatched_total",
		"flowsift_filter_flows_dropped_total", "flowsift_filter_delivery_errors_total",
		"flowsift_filter_consumer_lag", "flowsift_filter_batch_processing_seconds", NULL,
	};
	static const char *const report_families[] = {
		"flowsift_report_flows_total", "flowsift_report_flows_written_total",
		"flowsift_report_redis_errors_total", "flowsift_report_redis_flush_seconds",
		"flowsift_report_alerts_total", "flowsift_report_redis_reachable",
		"flowsift_report_consumer_lag", "flowsift_report_batch_processing_seconds",
		"flowsift_report_detect_late_flows_total", "flowsift_report_detect_future_flows_total",
		"flowsift_report_detect_watermark_seconds", NULL,
	};

	for (int i = 0; i < WORKER_COUNT; i++) {
		assert_int_equal(fs_test_wait_status(t->ports[i], "/healthz", 200, WAIT_MS), 200);
		assert_int_equal(fs_test_wait_status(t->ports[i], "/readyz", 200, WAIT_MS), 200);
	}
	produce_flows(t);

	assert_int_equal(wait_sample(t, ENRICH, "flowsift_enrich_flows_enriched_total", total),
			 total);
	assert_int_equal(wait_sample(t, ENRICH, "flowsift_enrich_records_delivered_total", total),
			 total);
	assert_int_equal(wait_sample(t, ENRICH, "flowsift_enrich_messages_consumed_total", total),
			 total);
	assert_int_equal(wait_sample(t, FILTER, "flowsift_filter_flows_total", total), total);
	assert_int_equal(wait_sample(t, FILTER, "flowsift_filter_rule_matches_total{rule=\"web\"}",
				     WEB_FLOWS), WEB_FLOWS);
	assert_int_equal(wait_sample(t, FILTER,
				     "flowsift_filter_rule_produced_total{rule=\"web\"}", WEB_FLOWS),
			 WEB_FLOWS);
	assert_int_equal(wait_sample(t, FILTER, "flowsift_filter_rule_matches_total{rule=\"never\"}",
				     0), 0);
	assert_int_equal(wait_sample(t, FILTER, "flowsift_filter_flows_unmatched_total",
				     OTHER_FLOWS), OTHER_FLOWS);
	assert_int_equal(wait_sample(t, FILTER, "flowsift_filter_records_delivered_total",
				     WEB_FLOWS), WEB_FLOWS);
	assert_int_equal(wait_sample(t, REPORT, "flowsift_report_flows_total", total), total);
	assert_int_equal(wait_sample(t, REPORT, "flowsift_report_flows_written_total", total),
			 total);
	assert_int_equal(wait_sample(t, REPORT, "flowsift_report_redis_reachable", 1), 1);
	assert_int_equal(wait_sample(t, REPORT, "flowsift_report_redis_errors_total", 0), 0);
	assert_int_equal(wait_sample(t, REPORT, "flowsift_report_detect_late_flows_total", 1), 1);
	assert_int_equal(wait_sample(t, REPORT, "flowsift_report_detect_future_flows_total", 0), 0);
	/* The lag follows the committed offsets, within a commit and a probe interval. */
	for (int i = 0; i < WORKER_COUNT; i++) {
		char name[64];

		snprintf(name, sizeof(name), "flowsift_%s_consumer_lag", worker_names[i]);
		assert_int_equal(wait_sample(t, i, name, 0), 0);
		snprintf(name, sizeof(name), "flowsift_%s_broker_reachable", worker_names[i]);
		assert_int_equal(wait_sample(t, i, name, 1), 1);
		/* Each worker is its group's only member, so it is assigned all 4 partitions of the broker's topics. */
		snprintf(name, sizeof(name), "flowsift_%s_partitions_assigned", worker_names[i]);
		assert_int_equal(wait_sample(t, i, name, 4), 4);
	}
	check_worker_exposition(t, ENRICH, enrich_families);
	check_worker_exposition(t, FILTER, filter_families);
	check_worker_exposition(t, REPORT, report_families);
	for (int i = 0; i < WORKER_COUNT; i++)
		check_json_log(t, worker_names[i]);

	/* Redis stops: report's next write or PING fails and /readyz turns 503. */
	fs_test_redis_stop(&t->redis);
	assert_int_equal(fs_test_wait_status(t->ports[REPORT], "/readyz", 503, 5000), 503);
	assert_true(wait_sample(t, REPORT, "flowsift_report_redis_reachable", 0) == 0);
	assert_int_equal(fs_test_http_status(t->ports[REPORT], "/healthz"), 200);
	assert_int_equal(fs_test_http_status(t->ports[ENRICH], "/readyz"), 200);
	assert_int_equal(fs_test_http_status(t->ports[FILTER], "/readyz"), 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(counters_match_and_readiness_follows_redis, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
