/*
 * test_console_api.c - the web console's JSON handlers (pkg/console/api.h)
 * against a real redis-server and the embedded Kafka broker.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_codec.h"
#include "console/api.h"
#include "core/flow.h"
#include "detect/alert_list.h"
#include "detect/detect.h"
#include "kafka/producer.h"
#include "redis/topn.h"
#include "support/broker.h"
#include "support/process.h"
#include "support/redis_server.h"

#define TOPIC "flows.console"

static struct fs_test_redis server;
static redisContext *ctx;
static struct fs_test_broker broker;
static char dir[64];
/* The time the counters and alerts were written, and a time after every produced flow. */
static int64_t counters_ms;
static int64_t flows_ms;

/* Returns the environment of a handler; Kafka handlers get a range that contains every flow. */
static struct fs_console_env
make_env(int64_t now_ms)
{
	struct fs_console_env env = {
		.redis = ctx,
		.bootstrap = broker.bootstrap,
		.topic = TOPIC,
		.limits = { .rows_max = 50, .range_max_s = 3600, .scan_max = 100000,
			    .timeout_ms = 20000 },
		.now_ms = now_ms,
	};

	return env;
}

/* Parses the urlencoded text into a form the caller frees. */
static struct fs_console_form *
form_of(const char *text)
{
	struct fs_console_form *form = malloc(sizeof(*form));
	char err[256];

	assert_non_null(form);
	fs_console_form_init(form);
	assert_int_equal(fs_console_form_parse(form, text, strlen(text), err, sizeof(err)), 0);
	return form;
}

/* Calls handler with the fields of text and checks the status. */
static json_t *
call(int (*handler)(const struct fs_console_env *, const struct fs_console_form *, json_t **),
     const char *text, int expected_status)
{
	int kafka = handler == fs_console_api_flows || handler == fs_console_api_host;
	struct fs_console_env env = make_env(kafka ? flows_ms : counters_ms);
	struct fs_console_form *form = form_of(text);
	json_t *out = NULL;
	int status = handler(&env, form, &out);

	free(form);
	if (status != expected_status) {
		char *dump = json_dumps(out, 0);

		fail_msg("%s: status %d, expected %d: %s", text, status, expected_status,
			 dump ? dump : "(null)");
	}
	assert_non_null(out);
	return out;
}

static void
make_flow(struct fs_flow *f, const char *src, const char *dst, uint16_t port, uint64_t bytes)
{
	fs_flow_clear(f);
	f->flow_type = FS_FLOW_IPFIX;
	f->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_DST_PORT | FS_F_PROTO | FS_F_BYTES |
		     FS_F_PACKETS | FS_F_TCP_FLAGS;
	assert_int_equal(fs_addr_parse(&f->src_addr, src), 0);
	assert_int_equal(fs_addr_parse(&f->dst_addr, dst), 0);
	f->dst_port = port;
	f->proto = 6;
	f->tcp_flags = 0x02;
	f->bytes = bytes;
	f->packets = 1;
	f->time_received_ns = counters_ms * 1000000;
}

/*
 * The traffic of every test: 192.0.2.1 sends 10 large flows to 198.51.100.1
 * on port 443; 10.1.66.6 sends one SYN to each of 150 addresses on port 445.
 */
static void
for_each_flow(void (*fn)(const struct fs_flow *, void *), void *opaque)
{
	struct fs_flow f;

	for (int i = 0; i < 10; i++) {
		make_flow(&f, "192.0.2.1", "198.51.100.1", 443, 100000);
		fn(&f, opaque);
	}
	for (int i = 0; i < 150; i++) {
		char dst[32];

		snprintf(dst, sizeof(dst), "172.16.%d.%d", i / 200, i % 200 + 1);
		make_flow(&f, "10.1.66.6", dst, 445, 52);
		fn(&f, opaque);
	}
}

static void
add_counters(const struct fs_flow *f, void *opaque)
{
	assert_int_equal(fs_topn_batch_add(opaque, f), 0);
}

static void
add_detect(const struct fs_flow *f, void *opaque)
{
	assert_int_equal(fs_detect_add(opaque, f), 0);
}

static void
ignore_alert(const struct fs_alert *alert, void *opaque)
{
	(void)alert;
	(void)opaque;
}

struct producing {
	struct fs_producer *producer;
	struct fs_flow_codec *codec;
};

static void
produce(const struct fs_flow *f, void *opaque)
{
	struct producing *p = opaque;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len;

	assert_int_equal(fs_flow_codec_encode(p->codec, f, buf, sizeof(buf), &len), 0);
	assert_int_equal(fs_producer_send(p->producer, TOPIC, NULL, 0, buf, len), 0);
}

static int
group_setup(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(4096);
	struct fs_detect_settings settings;
	struct fs_detect *det;
	struct producing p = { 0 };
	char err[256];

	(void)state;
	counters_ms = (int64_t)time(NULL) * 1000;
	snprintf(dir, sizeof(dir), "/tmp/fstest-console-XXXXXX");
	if (!batch || !mkdtemp(dir) || fs_test_redis_start(&server) < 0)
		return -1;
	ctx = fs_test_redis_connect(&server);
	if (!ctx)
		return -1;
	for_each_flow(add_counters, batch);
	if (fs_topn_flush(batch, ctx, counters_ms / 1000) < 0)
		return -1;
	fs_topn_batch_free(batch);

	fs_detect_settings_default(&settings);
	det = fs_detect_new(&settings, ignore_alert, NULL);
	if (!det)
		return -1;
	for_each_flow(add_detect, det);
	if (fs_detect_flush(det, ctx, counters_ms) < 0)
		return -1;
	fs_detect_free(det);
	fs_detect_settings_release(&settings);

	if (fs_test_broker_start(&broker, dir, (const char *const[]){ TOPIC, NULL }) < 0)
		return -1;
	p.codec = fs_flow_codec_new(err, sizeof(err));
	p.producer = fs_producer_new(broker.bootstrap, NULL, err, sizeof(err));
	if (!p.codec || !p.producer)
		return -1;
	for_each_flow(produce, &p);
	if (fs_producer_flush(p.producer, 10000) < 0)
		return -1;
	fs_producer_close(p.producer, 5000, NULL);
	fs_flow_codec_free(p.codec);
	/* The messages carry their produce time, after counters_ms. */
	flows_ms = (int64_t)time(NULL) * 1000 + 1000;
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (ctx)
		redisFree(ctx);
	fs_test_redis_stop(&server);
	fs_test_broker_stop(&broker);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

static void
top_lists_largest_first(void **state)
{
	json_t *out = call(fs_console_api_top, "dim=src_addr&metric=bytes&window=5m&n=5", 200);
	json_t *rows = json_object_get(out, "rows");

	(void)state;
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "key")),
			    "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "bytes")),
			 1000000);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "flows")), 150);
	assert_string_equal(json_string_value(json_object_get(out, "window")), "5m");
	json_decref(out);
}

static void
top_filters_host_conversations(void **state)
{
	json_t *out = call(fs_console_api_top, "dim=conversation&host=192.0.2.1&n=50", 200);
	json_t *rows = json_object_get(out, "rows");

	(void)state;
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "key")),
			    "192.0.2.1>198.51.100.1");
	json_decref(out);

	out = call(fs_console_api_top, "dim=conversation&host=10.1.66.6&n=50", 200);
	assert_int_equal(json_array_size(json_object_get(out, "rows")), 50);
	json_decref(out);
}

static void
top_rejects_bad_fields(void **state)
{
	json_t *out;

	(void)state;
	out = call(fs_console_api_top, "n=51", 400);
	assert_non_null(strstr(json_string_value(json_object_get(out, "error")), "from 1 to 50"));
	json_decref(out);
	json_decref(call(fs_console_api_top, "dim=nope", 400));
	json_decref(call(fs_console_api_top, "window=2m", 400));
	json_decref(call(fs_console_api_top, "dim=src_addr&host=192.0.2.1", 400));
	json_decref(call(fs_console_api_top, "dim=conversation&host=not-an-address", 400));
}

static void
series_has_points_and_members(void **state)
{
	json_t *out = call(fs_console_api_series, "dim=src_addr&window=1m&n=1", 200);
	json_t *members = json_object_get(out, "members");
	json_t *total = json_object_get(out, "total");
	json_t *values;

	(void)state;
	assert_int_equal(json_array_size(json_object_get(out, "start_s")), 6);
	assert_int_equal(json_integer_value(json_object_get(out, "resolution_s")), 10);
	assert_int_equal(json_array_size(members), 1);
	values = json_object_get(json_array_get(members, 0), "values");
	assert_int_equal(json_integer_value(json_array_get(values, 5)), 1000000);
	assert_int_equal(json_integer_value(json_array_get(total, 5)), 1000000 + 150 * 52);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(out, "other"), 5)),
			 150 * 52);
	json_decref(out);
	json_decref(call(fs_console_api_series, "n=21", 400));
}

static void
alerts_include_evidence(void **state)
{
	json_t *out = call(fs_console_api_alerts, "limit=10", 200);
	json_t *alerts = json_object_get(out, "alerts");
	json_t *fanout = NULL, *alert;
	size_t i;

	(void)state;
	json_array_foreach(alerts, i, alert) {
		if (strcmp(json_string_value(json_object_get(alert, "rule")), "fanout") == 0)
			fanout = alert;
	}
	assert_non_null(fanout);
	assert_string_equal(json_string_value(json_object_get(fanout, "subject")), "10.1.66.6");
	assert_true(json_is_true(json_object_get(fanout, "open")));
	assert_int_equal(json_integer_value(json_object_get(fanout, "port")), 445);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(fanout, "top_ports"), 0), "port")),
			 445);
	assert_int_equal(json_array_size(json_object_get(fanout, "top_destinations")), FS_ALERT_TOP);
	json_decref(out);

	out = call(fs_console_api_alerts, "limit=1", 200);
	assert_int_equal(json_array_size(json_object_get(out, "alerts")), 1);
	json_decref(out);
}

static void
alert_list_reads_open_alerts(void **state)
{
	struct fs_alert_entry entries[8];
	size_t count, skipped;
	char err[256];

	(void)state;
	assert_int_equal(fs_alert_list_read(ctx, 8, entries, &count, &skipped, err, sizeof(err)), 0);
	assert_true(count >= 1);
	assert_int_equal(skipped, 0);
	for (size_t i = 0; i < count; i++)
		assert_true(entries[i].open);
	assert_int_equal(fs_alert_list_read(ctx, 0, entries, &count, &skipped, err, sizeof(err)), 0);
	assert_int_equal(count, 0);
}

static void
filter_check_reports_position(void **state)
{
	json_t *out = call(fs_console_api_filter, "filter=src+host+10.0.0.1+and%0Adst+port+smtp", 200);

	(void)state;
	assert_false(json_is_true(json_object_get(out, "valid")));
	assert_int_equal(json_integer_value(json_object_get(out, "line")), 2);
	assert_int_equal(json_integer_value(json_object_get(out, "column")), 10);
	/* "src host 10.0.0.1 and\n" is 22 bytes, then 9 more to 'smtp'. */
	assert_int_equal(json_integer_value(json_object_get(out, "offset")), 31);
	assert_null(strchr(json_string_value(json_object_get(out, "message")), '\n'));
	assert_non_null(strstr(json_string_value(json_object_get(out, "error")), "^"));
	json_decref(out);

	out = call(fs_console_api_filter, "filter=dst+port+25", 200);
	assert_true(json_is_true(json_object_get(out, "valid")));
	json_decref(out);
	/* Empty, as /api/flows takes it: every flow. */
	out = call(fs_console_api_filter, "filter=", 200);
	assert_true(json_is_true(json_object_get(out, "valid")));
	json_decref(out);
	json_decref(call(fs_console_api_filter, "filter=%FF", 400));
}

static void
flows_match_filter(void **state)
{
	json_t *out = call(fs_console_api_flows, "filter=dst+port+443&minutes=5&limit=50", 200);
	json_t *flows = json_object_get(out, "flows");

	(void)state;
	assert_int_equal(json_array_size(flows), 10);
	assert_int_equal(json_integer_value(json_object_get(out, "matched")), 10);
	assert_int_equal(json_integer_value(json_object_get(out, "scanned")), 160);
	assert_true(json_is_true(json_object_get(out, "complete")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(flows, 0), "src_addr")),
			    "192.0.2.1");
	json_decref(out);
}

static void
flows_stop_at_limits(void **state)
{
	struct fs_console_env env = make_env(flows_ms);
	struct fs_console_form *form = form_of("filter=&limit=7");
	json_t *out = NULL;

	(void)state;
	assert_int_equal(fs_console_api_flows(&env, form, &out), 200);
	assert_int_equal(json_array_size(json_object_get(out, "flows")), 7);
	assert_true(json_is_true(json_object_get(out, "row_limit")));
	assert_false(json_is_true(json_object_get(out, "complete")));
	json_decref(out);

	env.limits.scan_max = 20;
	assert_int_equal(fs_console_api_flows(&env, form, &out), 200);
	json_decref(out);
	free(form);
	form = form_of("filter=dst+port+445&limit=50");
	assert_int_equal(fs_console_api_flows(&env, form, &out), 200);
	assert_true(json_is_true(json_object_get(out, "scan_limit")));
	assert_int_equal(json_integer_value(json_object_get(out, "scanned")), 20);
	json_decref(out);
	free(form);

	json_decref(call(fs_console_api_flows, "filter=dst+port+smtp", 400));
	json_decref(call(fs_console_api_flows, "minutes=61", 400));
}

static void
flows_of_unreachable_broker_is_502(void **state)
{
	struct fs_console_env env = make_env(flows_ms);
	struct fs_console_form *form = form_of("limit=1");
	json_t *out = NULL;

	(void)state;
	/* Nothing listens on loopback port 1. */
	env.bootstrap = "127.0.0.1:1";
	env.limits.timeout_ms = 1000;
	assert_int_equal(fs_console_api_flows(&env, form, &out), 502);
	assert_non_null(strstr(json_string_value(json_object_get(out, "error")), TOPIC));
	json_decref(out);
	free(form);
}

static void
host_sums_peers_and_ports(void **state)
{
	json_t *out = call(fs_console_api_host, "addr=10.1.66.6&limit=5", 200);
	json_t *ports = json_object_get(out, "ports");
	json_t *peers = json_object_get(out, "peers");

	(void)state;
	assert_int_equal(json_integer_value(json_object_get(out, "matched")), 150);
	assert_int_equal(json_array_size(ports), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ports, 0), "port")), 445);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ports, 0), "flows")), 150);
	assert_int_equal(json_array_size(peers), 5);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(peers, 0), "bytes_out")), 52);
	assert_int_equal(json_array_size(json_object_get(out, "flows")), 5);
	json_decref(out);

	/* The receiving side: bytes come in. */
	out = call(fs_console_api_host, "addr=198.51.100.1", 200);
	peers = json_object_get(out, "peers");
	assert_int_equal(json_array_size(peers), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(peers, 0), "bytes_in")),
			 1000000);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(peers, 0), "bytes_out")), 0);
	json_decref(out);

	json_decref(call(fs_console_api_host, "limit=5", 400));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(top_lists_largest_first),
		cmocka_unit_test(top_filters_host_conversations),
		cmocka_unit_test(top_rejects_bad_fields),
		cmocka_unit_test(series_has_points_and_members),
		cmocka_unit_test(alerts_include_evidence),
		cmocka_unit_test(alert_list_reads_open_alerts),
		cmocka_unit_test(filter_check_reports_position),
		cmocka_unit_test(flows_match_filter),
		cmocka_unit_test(flows_stop_at_limits),
		cmocka_unit_test(flows_of_unreachable_broker_is_502),
		cmocka_unit_test(host_sums_peers_and_ports),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
