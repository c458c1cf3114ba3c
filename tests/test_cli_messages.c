/*
 * test_cli_messages.c - how `flowsift` commands respond to mistakes: report
 * type aliases, one-line usage hints, the Redis hint only for a Redis that
 * cannot be reached, a topic of alerts given to print or report, and a
 * topic that does not exist.
 * Runs build/bin/flowsift against a real redis-server and the embedded
 * broker (build/bin/flowsift-broker).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/alert_codec.h"
#include "kafka/producer.h"
#include "support/process.h"
#include "support/redis_server.h"

#define OUTPUT_MAX (64 * 1024)

struct fixture {
	char dir[64];
	char v5_path[128];    /* 3 NetFlow v5 records */
	char out[OUTPUT_MAX];
	char err[OUTPUT_MAX];
	int status;
	struct fs_test_redis redis;
	bool redis_started;
	pid_t broker;         /* 0 when none */
};

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

/* Writes one NetFlow v5 message with flows from 10.0.0.1, .2 and .3 to 192.0.2.1 port 53, 443, 443. */
static void
write_v5(const char *path)
{
	uint8_t msg[24 + 3 * 48];
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	memset(msg, 0, sizeof(msg));
	put16(msg, 5);
	put16(msg + 2, 3);
	put32(msg + 4, 3600000);
	put32(msg + 8, 1700000000);
	for (uint32_t r = 0; r < 3; r++) {
		uint8_t *rec = msg + 24 + r * 48;

		put32(rec, 0x0a000001 + r);
		put32(rec + 4, 0xc0000201);
		put32(rec + 16, 2 + r);
		put32(rec + 20, 100 * (r + 1));
		put16(rec + 32, 40000);
		put16(rec + 34, r == 0 ? 53 : 443);
		rec[38] = 17;
	}
	assert_int_equal(fwrite(msg, sizeof(msg), 1, f), 1);
	fclose(f);
}

static void
read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Runs `env flowsift ARGS` without a settings file; keeps stdout, stderr and the exit status. */
static void
run_flowsift(struct fixture *f, const char *env, const char *args)
{
	char bin[256], cmd[2048], out_path[128], err_path[128];
	int rc;

	fs_test_bin_path("flowsift", bin, sizeof(bin));
	snprintf(out_path, sizeof(out_path), "%s/stdout", f->dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", f->dir);
	snprintf(cmd, sizeof(cmd), "FLOWSIFT_CONFIG=/dev/null %s %s %s </dev/null >%s 2>%s",
		 env ? env : "", bin, args, out_path, err_path);
	rc = system(cmd);
	assert_true(rc != -1 && WIFEXITED(rc));
	f->status = WEXITSTATUS(rc);
	read_file(out_path, f->out, sizeof(f->out));
	read_file(err_path, f->err, sizeof(f->err));
}

static int
count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/fstest-cli-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->v5_path, sizeof(f->v5_path), "%s/export.v5", f->dir);
	write_v5(f->v5_path);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->broker > 0)
		(void)fs_test_stop(f->broker, 5000);
	if (f->redis_started)
		fs_test_redis_stop(&f->redis);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

/* The dimension names of `top --by` name the same report types. */
static void
report_accepts_top_names(void **state)
{
	static const char *const pairs[][2] = {
		{ "src_addr", "src" }, { "dst_addr", "dst" }, { "dst_port", "ports" },
		{ "proto", "protocols" }, { "conversation", "conversations" },
		{ "exporter", "exporters" },
	};
	struct fixture *f = *state;
	char args[512], expected[OUTPUT_MAX];

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		snprintf(args, sizeof(args), "report %s --format csv %s", pairs[i][1], f->v5_path);
		run_flowsift(f, NULL, args);
		assert_int_equal(f->status, 0);
		memcpy(expected, f->out, sizeof(expected));

		snprintf(args, sizeof(args), "report %s --format csv %s", pairs[i][0], f->v5_path);
		run_flowsift(f, NULL, args);
		if (f->status != 0)
			fail_msg("flowsift %s exited with %d: %s", args, f->status, f->err);
		assert_string_equal(f->out, expected);
	}
	run_flowsift(f, NULL, "report src_port");
	assert_int_equal(f->status, 2);
	assert_non_null(strstr(f->err, "unknown report type 'src_port'"));
}

/* A usage error prints its message and a one-line hint, not the whole help. */
static void
usage_error_prints_hint(void **state)
{
	static const char *const cases[][2] = {
		{ "top --by nosuch", "top" },
		{ "top --no-such-option", "top" },
		{ "top extra", "top" },
		{ "graph --no-such-option", "graph" },
		{ "report src --no-such-option", "report" },
		{ "print --no-such-option /dev/null", "print" },
		{ "capture --no-such-option", "capture" },
		{ "capture --topic bad,name", "capture" },
		{ "config", "config" },
		{ "config nosuch", "config" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char hint[128];

		snprintf(hint, sizeof(hint), "run 'flowsift %s --help' for the options\n", cases[i][1]);
		run_flowsift(f, NULL, cases[i][0]);
		if (f->status != 2)
			fail_msg("flowsift %s exited with %d, not 2", cases[i][0], f->status);
		if (!strstr(f->err, hint) || strstr(f->err, "usage:") || count_lines(f->err) > 2)
			fail_msg("flowsift %s printed: %s", cases[i][0], f->err);
		/* The message itself names the command as the user typed it. */
		snprintf(hint, sizeof(hint), "flowsift %s: ", cases[i][1]);
		if (strncmp(f->err, hint, strlen(hint)) != 0)
			fail_msg("flowsift %s printed: %s", cases[i][0], f->err);
	}
	run_flowsift(f, NULL, "top --by nosuch");
	assert_non_null(strstr(f->err, "invalid --by 'nosuch'"));
	run_flowsift(f, NULL, "capture --topic bad,name");
	assert_non_null(strstr(f->err, "'bad,name' is not a Kafka topic name"));

	run_flowsift(f, NULL, "report");
	assert_int_equal(f->status, 2);
	assert_non_null(strstr(f->err, "no report TYPE"));
	assert_null(strstr(f->err, "usage:"));
}

/* report alerts lists what Redis keeps, so options for flows are rejected, not ignored. */
static void
report_alerts_rejects_flow_options(void **state)
{
	static const char *const cases[][2] = {
		{ "report alerts --top 1", "not --top" },
		{ "report alerts -f 'src port 1'", "not --filter" },
		{ "report alerts --window 1h", "not --window" },
		{ "report alerts /dev/null", "not FILE arguments" },
		{ "report alerts --topic flows.alerts", "not --topic" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_flowsift(f, NULL, cases[i][0]);
		if (f->status != 2 || !strstr(f->err, cases[i][1]) ||
		    !strstr(f->err, "takes only --format and --config"))
			fail_msg("flowsift %s exited with %d: %s", cases[i][0], f->status, f->err);
	}
	run_flowsift(f, NULL, "report alerts --from -5m");
	assert_int_equal(f->status, 2);
	assert_non_null(strstr(f->err, "takes no --from or --to"));
}

/* A refused connection gets the hint on how to start or find Redis. */
static void
redis_unreachable_gets_hint(void **state)
{
	static const char *const commands[] = { "top", "report src", "report alerts", "graph" };
	struct fixture *f = *state;

	/* Nothing listens on port 1 of the loopback address, so the connection is refused. */
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		run_flowsift(f, "FLOWSIFT_REDIS_URL=redis://127.0.0.1:1", commands[i]);
		if (f->status != 1 || !strstr(f->err, "cannot connect to Redis") ||
		    !strstr(f->err, "start `make run`"))
			fail_msg("flowsift %s exited with %d: %s", commands[i], f->status, f->err);
	}
}

/* A server that responds but rejects AUTH or a query gets the reason and no hint. */
static void
redis_errors_get_no_hint(void **state)
{
	static const char *const commands[] = { "top", "report src", "report alerts", "graph" };
	static const char *const server_args[] = {
		"--requirepass", "right-password",
		"--rename-command", "ZUNIONSTORE", "zunionstore-disabled",
		"--rename-command", "ZREVRANGE", "zrevrange-disabled",
		NULL,
	};
	struct fixture *f = *state;
	char env[768];

	assert_int_equal(fs_test_redis_spawn(&f->redis, server_args), 0);
	f->redis_started = true;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		snprintf(env, sizeof(env), "FLOWSIFT_REDIS_URL='%s' FLOWSIFT_REDIS_PASSWORD=wrong",
			 f->redis.url);
		run_flowsift(f, env, commands[i]);
		if (f->status != 1 || !strstr(f->err, "AUTH") || strstr(f->err, "make run"))
			fail_msg("flowsift %s with a wrong password exited with %d: %s", commands[i],
				 f->status, f->err);

		snprintf(env, sizeof(env),
			 "FLOWSIFT_REDIS_URL='%s' FLOWSIFT_REDIS_PASSWORD=right-password", f->redis.url);
		run_flowsift(f, env, commands[i]);
		if (f->status != 1 || strstr(f->err, "make run") ||
		    !(strstr(f->err, "from Redis failed") || strstr(f->err, "query failed")))
			fail_msg("flowsift %s with a failing query exited with %d: %s", commands[i],
				 f->status, f->err);
	}
}

/* Starts the embedded broker; stores its address in bootstrap. */
static void
start_broker(struct fixture *f, char *bootstrap, size_t len)
{
	char addr_file[128], log_path[128];
	FILE *addr;

	snprintf(addr_file, sizeof(addr_file), "%s/broker.addr", f->dir);
	snprintf(log_path, sizeof(log_path), "%s/broker.log", f->dir);
	/* The broker creates flows.alerts among its default topics. */
	char *argv[] = { "flowsift-broker", "--addr-file", addr_file, "--partitions", "1", NULL };
	f->broker = fs_test_spawn("flowsift-broker", argv, NULL, log_path);
	assert_true(f->broker > 0);
	if (fs_test_wait_file(addr_file, 10000) != 0) {
		fs_test_print_file(log_path);
		fail_msg("flowsift-broker wrote no address to %s", addr_file);
	}
	addr = fopen(addr_file, "r");
	assert_non_null(addr);
	assert_non_null(fgets(bootstrap, (int)len, addr));
	fclose(addr);
	bootstrap[strcspn(bootstrap, "\r\n")] = '\0';
}

/*
 * print shows the alert records of a topic with the columns of `report
 * alerts`, or as JSON lines.  report, which sums flows, names the topic as
 * one of alerts, with the command that lists them, and fails.
 */
static void
alerts_topic_is_not_flows(void **state)
{
	struct fixture *f = *state;
	struct fs_alert_codec *codec;
	struct fs_producer *producer;
	uint8_t buf[FS_ALERT_CODEC_MAX_LEN];
	char bootstrap[256], env[320], err[256];
	uint8_t subject[4] = { 192, 0, 2, 9 };

	start_broker(f, bootstrap, sizeof(bootstrap));
	codec = fs_alert_codec_new(err, sizeof(err));
	assert_non_null(codec);
	producer = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	assert_non_null(producer);
	for (int i = 0; i < 3; i++) {
		struct fs_alert alert;
		int len;

		memset(&alert, 0, sizeof(alert));
		snprintf(alert.id, sizeof(alert.id), "fanout:192.0.2.9:%d", 1700000000 + i);
		fs_addr_set_v4(&alert.subject, subject);
		snprintf(alert.metric, sizeof(alert.metric), "distinct_destinations");
		alert.first_seen_ms = alert.last_seen_ms = alert.time_ms = 1700000000000LL;
		len = fs_alert_codec_encode(codec, &alert, buf, sizeof(buf));
		assert_true(len > 0);
		assert_int_equal(fs_producer_send(producer, "flows.alerts", NULL, 0, buf, (size_t)len),
				 0);
	}
	assert_int_equal(fs_producer_flush(producer, 10000), 0);
	fs_producer_close(producer, 5000, NULL);
	fs_alert_codec_free(codec);

	snprintf(env, sizeof(env), "FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS='%s'", bootstrap);
	run_flowsift(f, env, "print --topic flows.alerts");
	assert_int_equal(f->status, 0);
	assert_string_equal(f->err, "");
	assert_int_equal(count_lines(f->out), 4);
	assert_non_null(strstr(f->out, "state    rule       subject"));
	assert_non_null(strstr(f->out, "seen_by"));
	assert_non_null(strstr(f->out, "fanout     192.0.2.9"));
	for (int i = 0; i < 3; i++) {
		char id[64];

		snprintf(id, sizeof(id), "fanout:192.0.2.9:%d\n", 1700000000 + i);
		assert_non_null(strstr(f->out, id));
	}
	/* The flow table's header is not printed after the alerts. */
	assert_null(strstr(f->out, "src addr:port"));

	run_flowsift(f, env, "print --format json --topic flows.alerts");
	assert_int_equal(f->status, 0);
	assert_int_equal(count_lines(f->out), 3);
	assert_non_null(strstr(f->out, "\"id\":\"fanout:192.0.2.9:1700000002\""));
	assert_non_null(strstr(f->out, "\"metric\":\"distinct_destinations\""));

	run_flowsift(f, env, "print --format csv --topic flows.alerts");
	assert_int_equal(f->status, 0);
	assert_int_equal(count_lines(f->out), 4);
	assert_non_null(strstr(f->out, "state,rule,subject,port,peer,observed,threshold,window_s,"));
	assert_non_null(strstr(f->out, ",\"fanout:192.0.2.9:1700000001\","));

	run_flowsift(f, env, "print -f 'src host 192.0.2.9' --topic flows.alerts");
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "left out 3 alerts, because -f applies to flows only"));

	run_flowsift(f, env, "report src --topic flows.alerts");
	assert_int_equal(f->status, 1);
	assert_non_null(strstr(f->err, "contains 3 alerts"));
	assert_null(strstr(f->err, "could not be decoded"));

	assert_int_equal(fs_test_stop(f->broker, 5000), 0);
	f->broker = 0;
}

/* print and report name a missing topic and the Kafka servers they query, and fail. */
static void
missing_topic_names_servers(void **state)
{
	struct fixture *f = *state;
	char bootstrap[256], env[320], servers[300];

	start_broker(f, bootstrap, sizeof(bootstrap));
	snprintf(env, sizeof(env), "FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS='%s'", bootstrap);
	snprintf(servers, sizeof(servers), "(Kafka servers: %s)", bootstrap);

	run_flowsift(f, env, "print --topic flows.missing");
	assert_int_equal(f->status, 1);
	assert_non_null(strstr(f->err, "topic 'flows.missing' not found"));
	assert_non_null(strstr(f->err, servers));

	run_flowsift(f, env, "report src --topic flows.missing");
	assert_int_equal(f->status, 1);
	assert_non_null(strstr(f->err, "topic 'flows.missing' not found"));
	assert_non_null(strstr(f->err, servers));

	assert_int_equal(fs_test_stop(f->broker, 5000), 0);
	f->broker = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(report_accepts_top_names, setup, teardown),
		cmocka_unit_test_setup_teardown(usage_error_prints_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(report_alerts_rejects_flow_options, setup, teardown),
		cmocka_unit_test_setup_teardown(redis_unreachable_gets_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(redis_errors_get_no_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(alerts_topic_is_not_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_topic_names_servers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
