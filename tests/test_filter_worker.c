/*
 * test_filter_worker.c - flowsift-filter routing flows between topics of the
 * embedded broker (build/bin/flowsift-broker).
 *
 * Every rule's topic must receive exactly the flows that match it, and drop
 * rules and the default route must work.  SIGHUP must reload the rules, but
 * keep them when the new file is invalid.  A second worker checks its rules
 * file every second, in the layout of a Kubernetes ConfigMap volume: it must
 * take a new version without SIGHUP and keep its rules when that is invalid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_batch.h"
#include "avro/flow_codec.h"
#include "core/clock.h"
#include "core/flow.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "support/avro_pad.h"
#include "support/broker.h"
#include "support/process.h"
#include "support/text_file.h"

#define WAIT_MS 30000
#define QUIET_MS 1500

struct worker_test {
	char dir[64];
	char rules_path[128];
	char config_env[160];
	struct fs_test_broker broker;
	pid_t filter;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	int group_seq;
	int rules_version;      /* folders of the ConfigMap layout created so far */
};

static const char rules_v1[] =
	"# test rules\n"
	"mailservers = net 192.0.2.8/29\n"
	"rule smtp: proto tcp and dst port 25\n"
	"    and not src mailservers\n"
	"rule scans topic siem.scans: flags S and not flags A\n"
	"rule dns drop: proto udp and port 53\n"
	"rule never: port 9\n";

static const char rules_invalid[] =
	"rule smtp: proto tcp and dst port smtp\n";

/* flows.enriched is the filter's own input, so this rule would loop. */
static const char rules_loop[] =
	"rule smtp: proto tcp and dst port 25\n"
	"rule loop topic flows.enriched: any\n";

static const char rules_v2[] =
	"rule late topic flows.filtered.late: any\n";

/* The watching worker's rules: smtp first, then v2, then an invalid file. */
static const char rules_smtp[] =
	"rule smtp: proto tcp and dst port 25\n";

/* Returns whether the log of worker name contains text, waiting up to WAIT_MS for it. */
static bool
log_contains(const struct worker_test *t, const char *name, const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s.log", t->dir, name);
	for (int i = 0; i < WAIT_MS / 100; i++) {
		if (fs_test_file_contains(path, text))
			return true;
		usleep(100000);
	}
	fs_test_print_log(t->dir, name);
	return false;
}

/*
 * Publishes text as the next version of the rules file, as the kubelet
 * updates a ConfigMap volume.  The file is a symbolic link through ..data,
 * and ..data is renamed to point at a new folder with the new file.
 */
static void
publish_rules(struct worker_test *t, const char *text)
{
	char version[160], file[192], link_tmp[160], data[160], target[64];

	t->rules_version++;
	snprintf(version, sizeof(version), "%s/cm/..v%d", t->dir, t->rules_version);
	assert_int_equal(mkdir(version, 0700), 0);
	snprintf(file, sizeof(file), "%s/filter.rules", version);
	fs_test_write_file(file, text);
	snprintf(target, sizeof(target), "..v%d", t->rules_version);
	snprintf(link_tmp, sizeof(link_tmp), "%s/cm/..data_tmp", t->dir);
	snprintf(data, sizeof(data), "%s/cm/..data", t->dir);
	assert_int_equal(symlink(target, link_tmp), 0);
	assert_int_equal(rename(link_tmp, data), 0);
}

/* Creates the ConfigMap layout of publish_rules() with text as its first version. */
static void
make_configmap_rules(struct worker_test *t, const char *text)
{
	char cm[96];

	snprintf(cm, sizeof(cm), "%s/cm", t->dir);
	assert_int_equal(mkdir(cm, 0700), 0);
	publish_rules(t, text);
	snprintf(t->rules_path, sizeof(t->rules_path), "%s/filter.rules", cm);
	assert_int_equal(symlink("..data/filter.rules", t->rules_path), 0);
}

/* Returns how many lines of the log of worker name contain text. */
static int
log_count(const struct worker_test *t, const char *name, const char *text)
{
	char path[160], line[1024];
	FILE *f;
	int count = 0;

	snprintf(path, sizeof(path), "%s/%s.log", t->dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		count += strstr(line, text) != NULL;
	fclose(f);
	return count;
}

/*
 * Starts a broker and a filter worker that checks its rules file every
 * reload_interval seconds (0: reloads on SIGHUP only).  With configmap set,
 * the rules file is a ConfigMap layout with rules_smtp, else a plain file
 * with rules_v1.
 */
static int
setup_worker(void **state, int reload_interval, bool configmap)
{
	struct worker_test *t = calloc(1, sizeof(*t));
	const char *topics[] = { "flows.filtered.smtp", "siem.scans", "flows.unmatched",
				 "flows.filtered.late", "flows.filtered.never", NULL };
	char log_path[128], config_path[128], err[256];
	FILE *f;

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/fstest-filter-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	assert_int_equal(fs_test_broker_start(&t->broker, t->dir, topics), 0);

	if (configmap) {
		make_configmap_rules(t, rules_smtp);
	} else {
		snprintf(t->rules_path, sizeof(t->rules_path), "%s/filter.rules", t->dir);
		fs_test_write_file(t->rules_path, rules_v1);
	}
	snprintf(config_path, sizeof(config_path), "%s/flowsift.conf", t->dir);
	f = fopen(config_path, "w");
	assert_non_null(f);
	/* Each worker has a consumer group of its own, so it reads every flow sent. */
	fprintf(f, "run.dir = %s\nfilter.rules = %s\nfilter.default.route = flows.unmatched\n"
		"filter.group.id = fstest-filter-%d-%d\nfilter.commit.interval.ms = 100\n"
		"filter.stats.interval = 1\nfilter.metrics.listen = \n"
		"filter.reload.interval = %d\n",
		t->dir, t->rules_path, (int)getpid(), configmap, reload_interval);
	fclose(f);
	snprintf(t->config_env, sizeof(t->config_env), "FLOWSIFT_CONFIG=%s", config_path);
	char *env[] = { t->config_env, NULL };
	char *filter_argv[] = { "flowsift-filter", NULL };

	snprintf(log_path, sizeof(log_path), "%s/filter.log", t->dir);
	t->filter = fs_test_spawn("flowsift-filter", filter_argv, env, log_path);
	assert_true(t->filter > 0);

	t->codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(t->codec);
	t->producer = fs_producer_new(t->broker.bootstrap, NULL, err, sizeof(err));
	assert_non_null(t->producer);
	*state = t;
	return 0;
}

/* The worker of the SIGHUP tests: a plain rules file, no reload check. */
static int
setup(void **state)
{
	return setup_worker(state, 0, false);
}

/* The worker of the reload check: a ConfigMap layout checked every second. */
static int
setup_watching(void **state)
{
	return setup_worker(state, 1, true);
}

static int
teardown(void **state)
{
	struct worker_test *t = *state;
	int filter_status, broker_status;

	fs_producer_close(t->producer, 5000, NULL);
	fs_flow_codec_free(t->codec);
	filter_status = fs_test_stop(t->filter, 15000);
	broker_status = fs_test_broker_stop(&t->broker);
	if (filter_status != 0 || broker_status != 0 || getenv("FSTEST_SHOW_LOGS")) {
		fs_test_print_log(t->dir, "filter");
		fs_test_print_log(t->dir, "broker");
	}
	assert_int_equal(filter_status, 0);
	assert_int_equal(broker_status, 0);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", t->dir);
	}
	free(t);
	return 0;
}

/* Produces one flow src -> dst with the given protocol, port and TCP flags. */
static void
make_flow(struct fs_flow *out, const char *src, const char *dst, uint8_t proto,
	  uint16_t dst_port, uint8_t flags)
{
	struct fs_flow flow;

	fs_flow_clear(&flow);
	flow.present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_PROTO | FS_F_DST_PORT |
		       FS_F_SRC_PORT | FS_F_TCP_FLAGS | FS_F_BYTES | FS_F_PACKETS;
	assert_int_equal(fs_addr_parse(&flow.src_addr, src), 0);
	assert_int_equal(fs_addr_parse(&flow.dst_addr, dst), 0);
	fs_addr_parse(&flow.exporter_addr, "127.0.0.1");
	flow.proto = proto;
	flow.src_port = 40000;
	flow.dst_port = dst_port;
	flow.tcp_flags = flags;
	flow.bytes = 100;
	flow.packets = 1;
	*out = flow;
}

/* Sends one flow as a message of its own. */
static void
send_flow(struct worker_test *t, const char *src, const char *dst, uint8_t proto,
	  uint16_t dst_port, uint8_t flags)
{
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	struct fs_flow flow;
	size_t len;

	make_flow(&flow, src, dst, proto, dst_port, flags);
	assert_int_equal(fs_flow_codec_encode(t->codec, &flow, buf, sizeof(buf), &len), 0);
	assert_int_equal(fs_producer_send(t->producer, "flows.enriched", "k", 1, buf, len), 0);
}

/* Adds one flow to a message of several. */
static void
add_flow(struct worker_test *t, struct fs_flow_batch *batch, const char *src, const char *dst,
	 uint8_t proto, uint16_t dst_port, uint8_t flags)
{
	struct fs_flow flow;

	make_flow(&flow, src, dst, proto, dst_port, flags);
	assert_int_equal(fs_flow_batch_add(batch, t->codec, &flow), 0);
}

struct topic_count {
	struct fs_flow_codec *codec;
	int count;
	char sources[64][FS_ADDR_STRLEN];
};

static int
count_flow(const void *key, size_t key_len, const void *value, size_t len,
	   int64_t timestamp_ms, void *opaque)
{
	struct topic_count *tc = opaque;
	struct fs_flow flow;
	size_t pos = 0;

	(void)timestamp_ms;
	assert_int_equal(key_len, 1);
	assert_memory_equal(key, "k", 1);
	do {
		assert_int_equal(fs_flow_codec_decode_next(tc->codec, value, len, &pos, &flow), 0);
		if (tc->count < 64)
			fs_addr_format(&flow.src_addr, tc->sources[tc->count]);
		tc->count++;
	} while (pos < len);
	return 0;
}

/* Reads topic from the start until want flows arrived, then a quiet period; returns the count. */
static int
read_topic(struct worker_test *t, const char *topic, int want, struct topic_count *tc)
{
	static const char *const props[] = { "session.timeout.ms", "6000",
					     "heartbeat.interval.ms", "500", NULL };
	struct fs_kafka_props kp = { .pairs = props };
	const char *topics[] = { topic };
	char group[64], err[256];
	struct fs_consumer *c;
	int64_t deadline = fs_monotonic_ms() + WAIT_MS, quiet_until = 0;

	memset(tc, 0, sizeof(*tc));
	tc->codec = t->codec;
	snprintf(group, sizeof(group), "fstest-read-%d-%d", (int)getpid(), t->group_seq++);
	c = fs_consumer_new(t->broker.bootstrap, group, topics, 1, &kp, err, sizeof(err));
	if (c == NULL)
		fail_msg("fs_consumer_new: %s", err);
	while (fs_monotonic_ms() < deadline) {
		fs_consumer_poll(c, 100, count_flow, tc, 100);
		if (tc->count >= want && quiet_until == 0)
			quiet_until = fs_monotonic_ms() + QUIET_MS;
		if (quiet_until != 0 && fs_monotonic_ms() >= quiet_until)
			break;
	}
	fs_consumer_close(c, NULL);
	return tc->count;
}

static bool
has_source(const struct topic_count *tc, const char *addr)
{
	for (int i = 0; i < tc->count && i < 64; i++) {
		if (strcmp(tc->sources[i], addr) == 0)
			return true;
	}
	return false;
}

static void
send_first_batch(struct worker_test *t)
{
	static struct fs_flow_batch batch;

	/* The first nine flows share one message, as ingest and enrich write them. */
	fs_flow_batch_init(&batch, 128);
	/* SMTP from a host that is not a mail server: smtp. */
	for (int i = 0; i < 3; i++)
		add_flow(t, &batch, "10.0.0.1", "203.0.113.25", 6, 25, 0x1b);
	/* SMTP from a mail server: no rule, so the default route. */
	add_flow(t, &batch, "192.0.2.10", "203.0.113.25", 6, 25, 0x1b);
	add_flow(t, &batch, "192.0.2.10", "203.0.113.26", 6, 25, 0x1b);
	/* DNS: dropped. */
	for (int i = 0; i < 4; i++)
		add_flow(t, &batch, "10.0.0.2", "10.0.0.53", 17, 53, 0);
	assert_int_equal(fs_producer_send_records(t->producer, "flows.enriched", "k", 1, batch.buf,
						  batch.len, batch.count), 0);
	/* A SYN to port 25 from an ordinary host: smtp and scans. */
	send_flow(t, "10.0.0.5", "198.51.100.1", 6, 25, 0x02);
	assert_int_equal(fs_producer_flush(t->producer, 10000), 0);
}

static void
rules_route_to_topics(void **state)
{
	struct worker_test *t = *state;
	struct topic_count tc;

	send_first_batch(t);
	assert_int_equal(read_topic(t, "flows.filtered.smtp", 4, &tc), 4);
	assert_true(has_source(&tc, "10.0.0.1"));
	assert_true(has_source(&tc, "10.0.0.5"));
	assert_false(has_source(&tc, "192.0.2.10"));
	assert_int_equal(read_topic(t, "siem.scans", 1, &tc), 1);
	assert_string_equal(tc.sources[0], "10.0.0.5");
	assert_int_equal(read_topic(t, "flows.unmatched", 2, &tc), 2);
	assert_string_equal(tc.sources[0], "192.0.2.10");
	assert_int_equal(read_topic(t, "flows.filtered.never", 0, &tc), 0);
}

/* Runs after rules_route_to_topics, on the same worker and topics. */
static void
reload_keeps_rules_on_error(void **state)
{
	struct worker_test *t = *state;
	struct topic_count tc;

	/* An invalid file: the old rules stay, so smtp keeps matching. */
	fs_test_write_file(t->rules_path, rules_invalid);
	assert_int_equal(kill(t->filter, SIGHUP), 0);
	assert_true(log_contains(t, "filter", "invalid rules file, keeping the previous rules"));
	send_flow(t, "10.0.0.7", "203.0.113.25", 6, 25, 0x1b);
	assert_int_equal(fs_producer_flush(t->producer, 10000), 0);
	/* Topics are read from their start: 4 flows of the first test, then this one. */
	assert_int_equal(read_topic(t, "flows.filtered.smtp", 5, &tc), 5);
	assert_true(has_source(&tc, "10.0.0.7"));

	/* A rule that routes to the filter's input is rejected like a syntax error. */
	fs_test_write_file(t->rules_path, rules_loop);
	assert_int_equal(kill(t->filter, SIGHUP), 0);
	assert_true(log_contains(t, "filter", "rule loop produces to flows.enriched, which is also "
				 "filter.topic"));
	send_flow(t, "10.0.0.9", "203.0.113.25", 6, 25, 0x1b);
	assert_int_equal(fs_producer_flush(t->producer, 10000), 0);
	assert_int_equal(read_topic(t, "flows.filtered.smtp", 6, &tc), 6);
	assert_true(has_source(&tc, "10.0.0.9"));

	/* A valid file replaces the rules. */
	fs_test_write_file(t->rules_path, rules_v2);
	assert_int_equal(kill(t->filter, SIGHUP), 0);
	assert_true(log_contains(t, "filter", "rule late (line 1)"));
	send_flow(t, "10.0.0.8", "203.0.113.25", 6, 25, 0x1b);
	assert_int_equal(fs_producer_flush(t->producer, 10000), 0);
	assert_int_equal(read_topic(t, "flows.filtered.late", 1, &tc), 1);
	assert_string_equal(tc.sources[0], "10.0.0.8");
	assert_int_equal(read_topic(t, "flows.filtered.smtp", 6, &tc), 6);
	assert_false(has_source(&tc, "10.0.0.8"));
}

/* Fills a text field with 'x' up to its last byte. */
#define FILL(field) memset((field), 'x', sizeof(field) - 1)

/*
 * A flow with every field present, every text full and 32 enterprise
 * elements, re-encoded with every varint in its longest form: over 2,048
 * bytes, longer than anything flowsift's own writer produces.
 */
static size_t
long_flow(struct worker_test *t, uint8_t *out, size_t cap)
{
	static const uint8_t value[16] = { 1, 2, 3 };
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	struct fs_flow flow;
	size_t len = 0, padded;

	make_flow(&flow, "10.0.0.9", "203.0.113.25", 6, 25, 0x18);
	flow.present = ((uint64_t)FS_F_ENTERPRISE_ELEMENTS << 1) - 1;
	FILL(flow.src_country);
	FILL(flow.dst_country);
	FILL(flow.src_city);
	FILL(flow.dst_city);
	FILL(flow.src_as_org);
	FILL(flow.dst_as_org);
	FILL(flow.exporter_name);
	FILL(flow.exporter_site);
	FILL(flow.in_if_name);
	FILL(flow.in_if_description);
	FILL(flow.out_if_name);
	FILL(flow.out_if_description);
	FILL(flow.src_tags);
	FILL(flow.dst_tags);
	FILL(flow.src_service);
	FILL(flow.dst_service);
	for (unsigned i = 0; i < FS_FLOW_MAX_ENTERPRISE_ELEMENTS; i++)
		assert_true(fs_flow_add_enterprise(&flow, 9, (uint16_t)(100 + i), value,
						   sizeof(value), FS_FLOW_MAX_ENTERPRISE_ELEMENTS));
	assert_int_equal(fs_flow_codec_encode(t->codec, &flow, buf, sizeof(buf), &len), 0);
	padded = fs_test_avro_pad(fs_flow_codec_schema_text(t->codec), buf, len, out, cap);
	assert_true(padded > FS_FLOW_CODEC_MAX_LEN);
	return padded;
}

/*
 * Runs last, on the rules of rules_v2.  Flows passed on as received may be
 * longer than FS_FLOW_CODEC_MAX_LEN; a message of 30 of them used to make
 * the filter consume it again forever, which stalled its partition.
 */
static void
long_flows_pass_through(void **state)
{
	struct worker_test *t = *state;
	static uint8_t message[40 * 4096];
	static uint8_t one[4096];
	struct topic_count tc;
	size_t used = 0, pos = 0;
	struct fs_flow flow;
	int before, n = 0;

	/* reload_keeps_rules_on_error left one flow on the topic. */
	before = read_topic(t, "flows.filtered.late", 1, &tc);
	assert_int_equal(before, 1);
	for (int i = 0; i < 30; i++) {
		size_t len = long_flow(t, one, sizeof(one));

		assert_true(used + len <= sizeof(message));
		memcpy(message + used, one, len);
		used += len;
	}
	print_message("30 flows of %zu bytes each in one message of %zu bytes\n", used / 30, used);
	do {
		assert_int_equal(fs_flow_codec_decode_next(t->codec, message, used, &pos, &flow), 0);
		n++;
	} while (pos < used);
	assert_int_equal(n, 30);
	assert_int_equal(fs_producer_send_records(t->producer, "flows.enriched", "k", 1, message,
						  used, 30), 0);
	/* A later message on the same partition must get through too. */
	send_flow(t, "10.0.0.10", "203.0.113.25", 6, 25, 0x18);
	assert_int_equal(fs_producer_flush(t->producer, 10000), 0);
	assert_int_equal(read_topic(t, "flows.filtered.late", before + 31, &tc), before + 31);
	assert_true(has_source(&tc, "10.0.0.9"));
	assert_true(has_source(&tc, "10.0.0.10"));
}

/*
 * Runs on the watching worker.  New versions of its rules file, published
 * as the kubelet updates a ConfigMap and without SIGHUP, replace the rules,
 * except a version with an error.
 */
static void
changed_file_reloads_without_sighup(void **state)
{
	struct worker_test *t = *state;
	struct topic_count tc;

	assert_true(log_contains(t, "filter", "rule smtp (line 1)"));
	publish_rules(t, rules_v2);
	assert_true(log_contains(t, "filter", "rule late (line 1)"));
	send_flow(t, "10.0.0.8", "203.0.113.25", 6, 25, 0x1b);
	assert_int_equal(fs_producer_flush(t->producer, 10000), 0);
	assert_int_equal(read_topic(t, "flows.filtered.late", 1, &tc), 1);
	assert_string_equal(tc.sources[0], "10.0.0.8");
	assert_int_equal(read_topic(t, "flows.filtered.smtp", 0, &tc), 0);

	/* An invalid version: the rules of v2 stay, and it is loaded only once. */
	publish_rules(t, rules_invalid);
	assert_true(log_contains(t, "filter", "invalid rules file, keeping the previous rules"));
	send_flow(t, "10.0.0.11", "203.0.113.25", 6, 25, 0x1b);
	assert_int_equal(fs_producer_flush(t->producer, 10000), 0);
	assert_int_equal(read_topic(t, "flows.filtered.late", 2, &tc), 2);
	assert_true(has_source(&tc, "10.0.0.11"));
	assert_int_equal(read_topic(t, "flows.filtered.smtp", 0, &tc), 0);
	/* Checks ran while the topics were read, and did not load the invalid version again. */
	assert_int_equal(log_count(t, "filter", "invalid rules file"), 1);
}

int
main(void)
{
	const struct CMUnitTest sighup_tests[] = {
		cmocka_unit_test(rules_route_to_topics),
		cmocka_unit_test(reload_keeps_rules_on_error),
		cmocka_unit_test(long_flows_pass_through),
	};
	const struct CMUnitTest watching_tests[] = {
		cmocka_unit_test(changed_file_reloads_without_sighup),
	};
	int failed = cmocka_run_group_tests_name("sighup", sighup_tests, setup, teardown);

	failed += cmocka_run_group_tests_name("reload check", watching_tests, setup_watching,
					      teardown);
	return failed;
}
