/*
 * test_alerts_pipeline.c - a worm-like host found through the whole
 * pipeline: flowsift-broker, a real redis-server, a real rsyslogd,
 * flowsift-ingest and flowsift-report as processes.
 *
 * NetFlow v5 datagrams built here carry 40 ordinary hosts (web, DNS and mail
 * traffic) and 10.1.66.6 sending SYNs to 300 addresses on TCP 445.  Exactly
 * one fan-out alert for 10.1.66.6 must reach flows.alerts, and its CEF line
 * must reach rsyslogd, within 10 s of the last datagram; no ordinary host
 * may raise one.  After a restart of flowsift-report and a second round of
 * the same traffic, the alert is not raised again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/alert_codec.h"
#include "core/clock.h"
#include "kafka/consumer.h"
#include "support/broker.h"
#include "support/ingest_harness.h"
#include "support/process.h"
#include "support/text_file.h"
#include "support/redis_server.h"
#include "support/wire.h"

#define V5_HEADER 24
#define V5_RECORD 48
#define V5_MAX_RECORDS 30
#define MAX_ALERTS 64
#define DEADLINE_MS 10000

extern char **environ;

struct pipeline {
	char dir[64];
	char config_env[160];
	char syslog_out[128];
	char redis_socket[128];  /* set for the outage test, whose Redis restarts */
	struct fs_test_redis redis;
	struct fs_test_broker broker;
	pid_t ingest, report, rsyslog;
	uint16_t ingest_port, syslog_port;
	uint32_t sequence;
	struct fs_alert_codec *codec;
	struct fs_consumer *consumer;
	size_t nalerts;
	struct fs_alert alerts[MAX_ALERTS];
};

static bool
tcp_open(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* ---- NetFlow v5 ---- */

struct v5_builder {
	struct pipeline *p;
	int fd;
	struct sockaddr_in to;
	uint8_t dgram[V5_HEADER + V5_MAX_RECORDS * V5_RECORD];
	int count;
};

static void
v5_send(struct v5_builder *b)
{
	size_t len = V5_HEADER + (size_t)b->count * V5_RECORD;

	if (b->count == 0)
		return;
	fs_test_put16(b->dgram, 5);
	fs_test_put16(b->dgram + 2, (uint16_t)b->count);
	fs_test_put32(b->dgram + 4, 3600000);
	fs_test_put32(b->dgram + 8, (uint32_t)time(NULL));
	fs_test_put32(b->dgram + 16, b->p->sequence);
	b->p->sequence += (uint32_t)b->count;
	assert_int_equal(sendto(b->fd, b->dgram, len, 0, (struct sockaddr *)&b->to, sizeof(b->to)),
			 (ssize_t)len);
	b->count = 0;
	usleep(1000);
}

static void
v5_add(struct v5_builder *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
       uint8_t proto, uint8_t flags, uint32_t packets, uint32_t bytes)
{
	uint8_t *rec = b->dgram + V5_HEADER + (size_t)b->count * V5_RECORD;

	memset(rec, 0, V5_RECORD);
	fs_test_put32(rec, src);
	fs_test_put32(rec + 4, dst);
	fs_test_put16(rec + 12, 3);   /* input interface */
	fs_test_put32(rec + 16, packets);
	fs_test_put32(rec + 20, bytes);
	fs_test_put32(rec + 24, 3500000);
	fs_test_put32(rec + 28, 3590000);
	fs_test_put16(rec + 32, sport);
	fs_test_put16(rec + 34, dport);
	rec[37] = flags;
	rec[38] = proto;
	if (++b->count == V5_MAX_RECORDS)
		v5_send(b);
}

/* Sends ordinary traffic and the spewing host's 300 SYN flows to TCP 445. */
static void
send_traffic(struct pipeline *p)
{
	const uint32_t web = 0xc6336401, dns = 0x08080808, mail = 0xc0000219;
	const uint32_t infected = 0x0a014206; /* 10.1.66.6 */
	struct v5_builder b = { .p = p };

	b.fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(b.fd >= 0);
	b.to.sin_family = AF_INET;
	b.to.sin_port = htons(p->ingest_port);
	b.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (uint32_t h = 0; h < 40; h++) {
		uint32_t client = 0x0a010000 + h + 10;

		v5_add(&b, client, dns, (uint16_t)(40000 + h), 53, 17, 0, 1, 70);
		v5_add(&b, dns, client, 53, (uint16_t)(40000 + h), 17, 0, 1, 180);
		v5_add(&b, client, web, (uint16_t)(41000 + h), 443, 6, 0x1b, 12, 4000);
		v5_add(&b, web, client, 443, (uint16_t)(41000 + h), 6, 0x1b, 14, 90000);
		if (h % 5 == 0)
			v5_add(&b, client, mail, (uint16_t)(42000 + h), 25, 6, 0x1b, 10, 3000);
	}
	for (uint32_t t = 0; t < 300; t++)
		v5_add(&b, infected, 0xac100000 + t * 7 % 65000 + 1, (uint16_t)(50000 + t), 445, 6,
		       0x02, 1, 52);
	v5_send(&b);
	close(b.fd);
}

/* ---- processes ---- */

static void
start_report(struct pipeline *p)
{
	char log_path[128];
	char *env[] = { p->config_env, NULL };
	char *argv[] = { "flowsift-report", NULL };

	snprintf(log_path, sizeof(log_path), "%s/report.log", p->dir);
	p->report = fs_test_spawn("flowsift-report", argv, env, log_path);
	assert_true(p->report > 0);
}

static void
start_rsyslog(struct pipeline *p)
{
	char conf[128], pidfile[128];
	char *argv[] = { "rsyslogd", "-n", "-f", conf, "-i", pidfile, NULL };
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", p->dir);
	snprintf(pidfile, sizeof(pidfile), "%s/rsyslogd.pid", p->dir);
	snprintf(p->syslog_out, sizeof(p->syslog_out), "%s/syslog.log", p->dir);
	p->syslog_port = fstest_free_port(SOCK_STREAM);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f,
		"global(workDirectory=\"%s\")\n"
		"module(load=\"imtcp\")\n"
		"input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%u\")\n"
		"*.* action(type=\"omfile\" file=\"%s\")\n",
		p->dir, p->syslog_port, p->syslog_out);
	fclose(f);
	assert_int_equal(posix_spawnp(&p->rsyslog, "/usr/sbin/rsyslogd", NULL, NULL, argv, environ), 0);
	for (int i = 0; i < 100 && !tcp_open(p->syslog_port); i++)
		usleep(100000);
	assert_true(tcp_open(p->syslog_port));
}

static int
setup_pipeline(void **state, bool unix_socket)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	char redis_url[600];
	char log_path[128], config_path[128], err[256];
	const char *topic = "flows.alerts";
	FILE *config;

	assert_non_null(p);
	if (access("/usr/sbin/rsyslogd", X_OK) != 0) {
		fprintf(stderr, "test_alerts_pipeline: rsyslogd is missing; install the rsyslog "
				"package (scripts/deps.sh does)\n");
		free(p);
		return -1;
	}
	snprintf(p->dir, sizeof(p->dir), "/tmp/fstest-alerts-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	if (unix_socket) {
		const char *args[] = { "--unixsocket", p->redis_socket, "--unixsocketperm", "700", NULL };

		snprintf(p->redis_socket, sizeof(p->redis_socket), "%s/redis.sock", p->dir);
		assert_int_equal(fs_test_redis_spawn(&p->redis, args), 0);
		snprintf(redis_url, sizeof(redis_url), "unix://%s", p->redis_socket);
	} else {
		assert_int_equal(fs_test_redis_start(&p->redis), 0);
		snprintf(redis_url, sizeof(redis_url), "%s", p->redis.url);
	}
	start_rsyslog(p);

	assert_int_equal(fs_test_broker_start(&p->broker, p->dir, NULL), 0);

	p->ingest_port = fstest_free_port(SOCK_DGRAM);
	snprintf(config_path, sizeof(config_path), "%s/flowsift.conf", p->dir);
	config = fopen(config_path, "w");
	assert_non_null(config);
	fprintf(config,
		"run.dir = %s\nredis.url = %s\ningest.listen = 127.0.0.1:%u\ningest.listen.tcp = \"\"\n"
		"ingest.metrics.listen =\nreport.metrics.listen =\n"
		"report.topic = flows.raw\nreport.flush.interval.ms = 200\n"
		"report.group.id = fstest-alerts-%d\nreport.stats.interval = 1\n"
		/* The restarted worker rejoins its group without waiting 45 s for the old member. */
		"kafka.session.timeout.ms = 6000\n"
		"alert.syslog.target = tcp://127.0.0.1:%u\nalert.json.output = %s/alerts.jsonl\n",
		p->dir, redis_url, p->ingest_port, (int)getpid(), p->syslog_port, p->dir);
	fclose(config);
	snprintf(p->config_env, sizeof(p->config_env), "FLOWSIFT_CONFIG=%s", config_path);

	char *env[] = { p->config_env, NULL };
	char *ingest_argv[] = { "flowsift-ingest", NULL };

	snprintf(log_path, sizeof(log_path), "%s/ingest.log", p->dir);
	p->ingest = fs_test_spawn("flowsift-ingest", ingest_argv, env, log_path);
	assert_true(p->ingest > 0);
	start_report(p);

	p->codec = fs_alert_codec_new(err, sizeof(err));
	assert_non_null(p->codec);
	p->consumer = fs_consumer_new(p->broker.bootstrap, "fstest-alerts-reader", &topic, 1, NULL, err,
				      sizeof(err));
	assert_non_null(p->consumer);
	/*
	 * The first datagram is sent once ingest has bound its sockets.  Report
	 * and the alert reader start from the earliest offsets of their new
	 * groups, so joining late loses nothing.
	 */
	snprintf(log_path, sizeof(log_path), "%s/ingest.log", p->dir);
	if (!fs_test_wait_file_contains(log_path, "listening on UDP", 30000)) {
		fs_test_print_file(log_path);
		fail_msg("ingest did not start listening");
	}
	*state = p;
	return 0;
}

static int
setup(void **state)
{
	return setup_pipeline(state, false);
}

static int
setup_outage(void **state)
{
	return setup_pipeline(state, true);
}

static int
teardown(void **state)
{
	struct pipeline *p = *state;
	int ingest_status = fs_test_stop(p->ingest, 15000);
	int report_status = fs_test_stop(p->report, 15000);
	int broker_status;
	char cmd[128];

	fs_consumer_close(p->consumer, NULL);
	broker_status = fs_test_broker_stop(&p->broker);
	if (p->rsyslog > 0) {
		kill(p->rsyslog, SIGTERM);
		waitpid(p->rsyslog, NULL, 0);
	}
	if (ingest_status || report_status || broker_status) {
		fs_test_print_log(p->dir, "ingest");
		fs_test_print_log(p->dir, "report");
	}
	fs_test_redis_stop(&p->redis);
	fs_alert_codec_free(p->codec);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", p->dir);
	free(p);
	assert_int_equal(ingest_status, 0);
	assert_int_equal(report_status, 0);
	assert_int_equal(broker_status, 0);
	return 0;
}

/* ---- checks ---- */

static int
take_alert(const void *key, size_t key_len, const void *value, size_t len, int64_t ts,
	   void *opaque)
{
	struct pipeline *p = opaque;

	(void)key;
	(void)key_len;
	(void)ts;
	assert_true(p->nalerts < MAX_ALERTS);
	assert_int_equal(fs_alert_codec_decode(p->codec, value, len, &p->alerts[p->nalerts]), 0);
	p->nalerts++;
	return 0;
}

static size_t
count_alerts(const struct pipeline *p, enum fs_alert_rule rule, enum fs_alert_state state)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nalerts; i++)
		n += p->alerts[i].rule == rule && p->alerts[i].state == state;
	return n;
}

/* Polls flows.alerts until deadline_ms (monotonic) or until a fan-out alert arrived. */
static void
poll_alerts(struct pipeline *p, int64_t deadline_ms, bool stop_at_fanout)
{
	while (fs_monotonic_ms() < deadline_ms) {
		fs_consumer_poll(p->consumer, 100, take_alert, p, 100);
		if (stop_at_fanout && count_alerts(p, FS_RULE_FANOUT, FS_ALERT_RAISED) > 0)
			return;
	}
}

static bool
syslog_has(const struct pipeline *p, const char *a, const char *b)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen(p->syslog_out, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, a) && strstr(line, b);
	fclose(f);
	return found;
}

/* Runs `flowsift report ARGS --format json --top 1000` with the pipeline's configuration. */
static json_t *
run_report(const struct pipeline *p, const char *args)
{
	char bin[256], cmd[768];
	json_error_t error;
	json_t *rows;
	FILE *out;

	fs_test_bin_path("flowsift", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s %s report %s --format json --top 1000", p->config_env, bin, args);
	out = popen(cmd, "r");
	assert_non_null(out);
	rows = json_loadf(out, 0, &error);
	assert_int_equal(pclose(out), 0);
	if (!rows)
		fail_msg("flowsift report %s printed no JSON: %s", args, error.text);
	return rows;
}

/* Returns the flows of key in a report, 0 when it is not listed. */
static long long
flows_of(const json_t *rows, const char *key)
{
	for (size_t i = 0; i < json_array_size(rows); i++) {
		const json_t *row = json_array_get(rows, i);

		if (strcmp(json_string_value(json_object_get(row, "key")), key) == 0)
			return json_integer_value(json_object_get(row, "flows"));
	}
	return 0;
}

/* Both rounds of traffic: the report of flows.raw equals the live counters that report wrote. */
static void
topic_report_equals_live(struct pipeline *p)
{
	json_t *from_topic = NULL, *live = NULL;
	const json_t *first;

	for (int i = 0; i < 150; i++) {
		json_decref(from_topic);
		json_decref(live);
		from_topic = run_report(p, "src --topic flows.raw --from -10m");
		live = run_report(p, "src --window 5m");
		if (json_equal(from_topic, live) && flows_of(live, "10.1.66.6") == 600)
			break;
		usleep(200000);
	}
	if (!json_equal(from_topic, live)) {
		json_dump_file(from_topic, "/tmp/fstest-alerts-topic.json", JSON_INDENT(1));
		json_dump_file(live, "/tmp/fstest-alerts-live.json", JSON_INDENT(1));
		fail_msg("report of flows.raw and of Redis differ; see /tmp/fstest-alerts-topic.json "
			 "and /tmp/fstest-alerts-live.json");
	}
	/* 40 clients, the DNS, web and mail servers, and the spewing host */
	assert_int_equal(json_array_size(from_topic), 43);
	first = json_array_get(from_topic, 0);
	assert_string_equal(json_string_value(json_object_get(first, "key")), "198.51.100.1");
	assert_int_equal(flows_of(from_topic, "10.1.66.6"), 600);
	json_decref(from_topic);
	json_decref(live);
}

static void
spewing_host_raises_one_fanout_alert(void **state)
{
	struct pipeline *p = *state;
	int64_t sent_at, deadline;
	char subject[FS_ADDR_STRLEN];

	send_traffic(p);
	sent_at = fs_monotonic_ms();
	deadline = sent_at + DEADLINE_MS;
	poll_alerts(p, deadline, true);
	if (count_alerts(p, FS_RULE_FANOUT, FS_ALERT_RAISED) == 0) {
		fs_test_print_log(p->dir, "ingest");
		fs_test_print_log(p->dir, "report");
		fail_msg("no fan-out alert on flows.alerts within %d ms", DEADLINE_MS);
	}
	fprintf(stderr, "alerts pipeline: fan-out alert on flows.alerts %lld ms after the last datagram\n",
		(long long)(fs_monotonic_ms() - sent_at));
	while (fs_monotonic_ms() < deadline && !syslog_has(p, "cat=fanout", "src=10.1.66.6"))
		usleep(100000);
	assert_true(syslog_has(p, "cat=fanout", "src=10.1.66.6"));
	assert_true(syslog_has(p, "CEF:0|flowsift|flowsift|", "dpt=445"));
	/* The alert names the exporter and its input interface, where the host's flows came in. */
	assert_true(syslog_has(p, "cat=fanout", "dvc=127.0.0.1 deviceInboundInterface=3"));

	/* Later flushes must not raise it again, nor anything for the ordinary hosts. */
	poll_alerts(p, fs_monotonic_ms() + 2000, false);
	assert_int_equal(count_alerts(p, FS_RULE_FANOUT, FS_ALERT_RAISED), 1);
	for (size_t i = 0; i < p->nalerts; i++) {
		assert_string_equal(fs_addr_format(&p->alerts[i].subject, subject), "10.1.66.6");
		if (p->alerts[i].rule == FS_RULE_FANOUT) {
			assert_int_equal(p->alerts[i].port, 445);
			assert_in_range(p->alerts[i].observed, 297, 303);
			assert_int_equal(p->alerts[i].threshold, 100);
			assert_string_equal(fs_addr_format(&p->alerts[i].exporter, subject), "127.0.0.1");
			assert_true(p->alerts[i].has_interface);
			assert_int_equal(p->alerts[i].interface, 3);
			/* Ingest received the flows before report saw them. */
			assert_true(p->alerts[i].flows_first_ms > 0);
			assert_true(p->alerts[i].flows_first_ms <= p->alerts[i].flows_last_ms);
			assert_true(p->alerts[i].flows_last_ms <= p->alerts[i].time_ms);
		}
	}

	/* A restarted report worker sees the same host again: no second raise. */
	assert_int_equal(fs_test_stop(p->report, 15000), 0);
	start_report(p);
	usleep(1500000);
	send_traffic(p);
	/* Returns once the restarted worker wrote the second round to Redis. */
	topic_report_equals_live(p);
	poll_alerts(p, fs_monotonic_ms() + 2000, false);
	assert_int_equal(count_alerts(p, FS_RULE_FANOUT, FS_ALERT_RAISED), 1);
	assert_int_equal(count_alerts(p, FS_RULE_FANOUT, FS_ALERT_UPDATED), 0);
}

/* Returns how many lines of the report log contain text. */
static int
report_log_count(const struct pipeline *p, const char *text)
{
	char path[160], line[4096];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/report.log", p->dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

/*
 * Redis stops before the traffic arrives: the worker keeps running, logs the
 * outage once, and raises the alert once Redis is back.
 */
static void
redis_outage_then_recovery(void **state)
{
	struct pipeline *p = *state;
	const char *args[] = { "--unixsocket", p->redis_socket, "--unixsocketperm", "700", NULL };

	fs_test_redis_stop(&p->redis);
	send_traffic(p);
	usleep(3000000);
	assert_int_equal(kill(p->report, 0), 0);
	assert_int_equal(count_alerts(p, FS_RULE_FANOUT, FS_ALERT_RAISED), 0);

	assert_int_equal(fs_test_redis_spawn(&p->redis, args), 0);
	poll_alerts(p, fs_monotonic_ms() + 30000, true);
	if (count_alerts(p, FS_RULE_FANOUT, FS_ALERT_RAISED) != 1) {
		fs_test_print_log(p->dir, "report");
		fail_msg("no fan-out alert within 30 s of Redis coming back");
	}
	assert_int_equal(report_log_count(p, "level=warning facility=report"), 1);
	assert_int_equal(report_log_count(p, "Redis is reachable again"), 1);
}

/* Returns the connected_clients field of Redis's INFO clients, read on c. */
static long long
redis_clients(redisContext *c)
{
	redisReply *reply = redisCommand(c, "INFO clients");
	const char *field;
	long long n;

	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_STRING);
	field = strstr(reply->str, "connected_clients:");
	assert_non_null(field);
	n = strtoll(field + strlen("connected_clients:"), NULL, 10);
	freeReplyObject(reply);
	return n;
}

/*
 * redis-server is paused (SIGSTOP) while the second round of traffic
 * arrives, so the worker's writes time out and are retried on new
 * connections while the earlier ones wait in Redis.  After SIGCONT every
 * flow must count once in the live counters.
 */
static void
redis_paused_write_counts_once(void **state)
{
	struct pipeline *p = *state;
	redisContext *c = fs_test_redis_connect(&p->redis);
	bool drained = false;

	assert_non_null(c);
	send_traffic(p);
	poll_alerts(p, fs_monotonic_ms() + DEADLINE_MS, true);
	assert_int_equal(count_alerts(p, FS_RULE_FANOUT, FS_ALERT_RAISED), 1);

	assert_int_equal(kill(p->redis.pid, SIGSTOP), 0);
	send_traffic(p);
	/* Long enough for a write to time out (2 s) and to be retried once. */
	usleep(6000000);
	assert_int_equal(kill(p->redis.pid, SIGCONT), 0);

	/* The worker's retry succeeded: it resent the write whose reply timed out. */
	for (int i = 0; i < 600 && report_log_count(p, "Redis is reachable again") == 0; i++)
		usleep(100000);
	assert_int_equal(report_log_count(p, "Redis is reachable again"), 1);
	/* Every connection the worker gave up on is closed once Redis has run its input. */
	for (int i = 0; i < 600 && !drained; i++) {
		drained = redis_clients(c) <= 2;
		if (!drained)
			usleep(100000);
	}
	assert_true(drained);
	redisFree(c);
	topic_report_equals_live(p);
	assert_true(report_log_count(p, "level=warning facility=report") >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(spewing_host_raises_one_fanout_alert, setup, teardown),
		cmocka_unit_test_setup_teardown(redis_outage_then_recovery, setup_outage, teardown),
		cmocka_unit_test_setup_teardown(redis_paused_write_counts_once, setup_outage, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
