/*
 * test_enrich_pipeline.c - flowsift-enrich as a process between two topics
 * of the embedded broker (build/bin/flowsift-broker).
 *
 * Raw flows are produced to flows.raw with the Avro codec, and the enriched
 * flows read back from flows.enriched must carry every enriched field.  A
 * prefix list rewritten and reloaded with SIGHUP in the middle of the stream
 * must change the tags of the flows produced after the reload.  While
 * nothing fails, every flow arrives exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_codec.h"
#include "core/result.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "support/broker.h"
#include "support/process.h"
#include "support/text_file.h"

#define FLOWS_PER_PHASE 200
#define WAIT_MS 30000

struct pipeline {
	char dir[64];
	struct fs_test_broker broker;
	char prefixes[128];
	char config_env[160];
	char log_path[128];
	pid_t enrich;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	struct fs_consumer *consumer;
	/* flows read back, indexed by sequence */
	struct fs_flow *seen;
	unsigned seen_count[2 * FLOWS_PER_PHASE];
	unsigned received;
	bool have_mmdb;
};

static int
setup(void **state)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	char path[128], command[512], err[512];
	const char *enriched_topic = "flows.enriched";
	FILE *config;

	assert_non_null(p);
	*state = p;
	snprintf(p->dir, sizeof(p->dir), "/tmp/fstest-enrichp-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	p->seen = calloc(2 * FLOWS_PER_PHASE, sizeof(*p->seen));
	assert_non_null(p->seen);

	snprintf(path, sizeof(path), "%s/city.mmdb", p->dir);
	snprintf(command, sizeof(command),
		 "perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null && "
		 "perl tests/data/make-mmdb.pl %s/city.mmdb %s/asn.mmdb", p->dir, p->dir);
	p->have_mmdb = system(command) == 0;
	if (!p->have_mmdb)
		print_message("note: no libmaxmind-db-writer-perl; GeoIP fields are not checked\n");

	assert_int_equal(fs_test_broker_start(&p->broker, p->dir, NULL), 0);

	snprintf(p->prefixes, sizeof(p->prefixes), "%s/prefixes", p->dir);
	fs_test_write_file(p->prefixes, "192.0.2.0/24 site=par role=dc\n");
	snprintf(path, sizeof(path), "%s/interfaces.map", p->dir);
	fs_test_write_file(path,
		   "exporter 127.0.0.1 name=edge1.par site=par1\n"
		   "interface 127.0.0.1 3 name=xe-0/0/1 description=\"transit: example\" speed=10G\n"
		   "interface 127.0.0.1 4 name=ae0 description=customers speed=40G\n");

	snprintf(path, sizeof(path), "%s/flowsift.conf", p->dir);
	config = fopen(path, "w");
	assert_non_null(config);
	fprintf(config,
		"run.dir = %s\n"
		"kafka.bootstrap.servers = %s\n"
		"enrich.group.id = fstest-enrich-%d\n"
		"enrich.interfaces.map = %s/interfaces.map\n"
		"enrich.prefixes = %s\n"
		"enrich.home.networks = 192.0.2.0/24\n"
		"enrich.sampling.override = 127.0.0.2=50\n"
		"enrich.reload.interval = 0\n"
		"enrich.stats.interval = 1\n"
		"enrich.metrics.listen =\n",
		p->dir, p->broker.bootstrap, (int)getpid(), p->dir, p->prefixes);
	if (p->have_mmdb)
		fprintf(config, "enrich.geoip.city = %s/city.mmdb\nenrich.geoip.asn = %s/asn.mmdb\n",
			p->dir, p->dir);
	fclose(config);
	snprintf(p->config_env, sizeof(p->config_env), "FLOWSIFT_CONFIG=%s", path);
	snprintf(p->log_path, sizeof(p->log_path), "%s/enrich.log", p->dir);

	char *env[] = { p->config_env, NULL };
	char *enrich_argv[] = { "flowsift-enrich", NULL };
	p->enrich = fs_test_spawn("flowsift-enrich", enrich_argv, env, p->log_path);
	assert_true(p->enrich > 0);

	p->codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(p->codec);
	p->producer = fs_producer_new(p->broker.bootstrap, NULL, err, sizeof(err));
	assert_non_null(p->producer);
	p->consumer = fs_consumer_new(p->broker.bootstrap, "fstest-enriched-reader", &enriched_topic, 1,
				      NULL, err, sizeof(err));
	assert_non_null(p->consumer);
	return 0;
}

static int
teardown(void **state)
{
	struct pipeline *p = *state;
	char command[128];
	int status;

	fs_consumer_close(p->consumer, NULL);
	fs_producer_close(p->producer, 5000, NULL);
	fs_flow_codec_free(p->codec);
	status = p->enrich > 0 ? fs_test_stop(p->enrich, 15000) : 0;
	fs_test_broker_stop(&p->broker);
	if (status != 0)
		fs_test_print_file(p->log_path);
	snprintf(command, sizeof(command), "rm -rf %s", p->dir);
	if (system(command) != 0)
		print_message("cannot remove %s\n", p->dir);
	free(p->seen);
	free(p);
	assert_int_equal(status, 0);
	return 0;
}

/* Raw flow number seq: alternating exporters, sampling and addresses. */
static void
make_raw_flow(struct fs_flow *f, unsigned seq)
{
	fs_flow_clear(f);
	f->flow_type = FS_FLOW_NETFLOW_V9;
	assert_int_equal(fs_addr_parse(&f->exporter_addr, seq % 2 ? "127.0.0.2" : "127.0.0.1"), 0);
	f->exporter_port = 2055;
	f->time_received_ns = 1700000000000000000LL + seq;
	f->sequence = seq;
	assert_int_equal(fs_addr_parse(&f->src_addr, "192.0.2.10"), 0);
	assert_int_equal(fs_addr_parse(&f->dst_addr, "198.51.100.7"), 0);
	f->src_port = 443;
	f->dst_port = 40000;
	f->proto = 6;
	f->in_if = 3;
	f->out_if = 4;
	f->bytes = 1000 + seq;
	f->packets = 2;
	f->present = FS_F_SEQUENCE | FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_SRC_PORT |
		     FS_F_DST_PORT | FS_F_PROTO | FS_F_IN_IF | FS_F_OUT_IF | FS_F_BYTES |
		     FS_F_PACKETS;
	if (seq % 2 == 0) {
		f->sampling_rate = 10;
		f->present |= FS_F_SAMPLING_RATE;
	}
}

static void
produce_phase(struct pipeline *p, unsigned first)
{
	for (unsigned seq = first; seq < first + FLOWS_PER_PHASE; seq++) {
		struct fs_flow flow;
		uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
		size_t len = 0;

		make_raw_flow(&flow, seq);
		assert_int_equal(fs_flow_codec_encode(p->codec, &flow, buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_producer_send(p->producer, "flows.raw", flow.exporter_addr.bytes,
						  4, buf, len), 0);
	}
	assert_int_equal(fs_producer_flush(p->producer, 10000), 0);
}

static int
collect(const void *key, size_t key_len, const void *value, size_t len,
	int64_t timestamp_ms, void *opaque)
{
	struct pipeline *p = opaque;
	struct fs_flow flow;
	size_t pos = 0;

	(void)key;
	(void)key_len;
	(void)timestamp_ms;
	do {
		assert_int_equal(fs_flow_codec_decode_next(p->codec, value, len, &pos, &flow), 0);
		assert_true(flow.sequence < 2 * FLOWS_PER_PHASE);
		p->seen[flow.sequence] = flow;
		p->seen_count[flow.sequence]++;
		p->received++;
	} while (pos < len);
	return 0;
}

static void
wait_for(struct pipeline *p, unsigned count)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (p->received < count) {
		assert_true(fs_consumer_poll(p->consumer, 200, collect, p, 1000) >= 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 > WAIT_MS) {
			print_message("received %u of %u enriched flows\n", p->received, count);
			fs_test_print_file(p->log_path);
			fail();
		}
	}
}

static void
check_flow(const struct pipeline *p, unsigned seq, const char *src_tags)
{
	const struct fs_flow *f = &p->seen[seq];
	struct fs_flow raw;

	make_raw_flow(&raw, seq);
	print_message("flow %u\n", seq);
	assert_int_equal(p->seen_count[seq], 1);
	/* The raw fields pass unchanged, except the counters. */
	assert_int_equal(f->flow_type, raw.flow_type);
	assert_true(fs_addr_equal(&f->exporter_addr, &raw.exporter_addr));
	assert_int_equal(f->time_received_ns, raw.time_received_ns);
	assert_true(fs_addr_equal(&f->src_addr, &raw.src_addr));
	assert_int_equal(f->dst_port, 40000);
	assert_int_equal(f->exported_bytes, raw.bytes);
	assert_int_equal(f->exported_packets, raw.packets);
	if (seq % 2 == 0) {
		assert_int_equal(f->sampling_source, FS_SAMPLING_EXPORTER);
		assert_int_equal(f->sampling_rate, 10);
		assert_int_equal(f->bytes, raw.bytes * 10);
		assert_int_equal(f->packets, 20);
		assert_string_equal(f->exporter_name, "edge1.par");
		assert_string_equal(f->exporter_site, "par1");
		assert_string_equal(f->in_if_name, "xe-0/0/1");
		assert_string_equal(f->in_if_description, "transit: example");
		assert_int_equal(f->in_if_speed, 10000000000ull);
		assert_string_equal(f->out_if_name, "ae0");
		assert_string_equal(f->out_if_description, "customers");
		assert_int_equal(f->out_if_speed, 40000000000ull);
	} else {
		assert_int_equal(f->sampling_source, FS_SAMPLING_OVERRIDE);
		assert_int_equal(f->sampling_rate, 50);
		assert_int_equal(f->bytes, raw.bytes * 50);
		assert_false(fs_flow_has(f, FS_F_EXPORTER_NAME | FS_F_IN_IF_NAME | FS_F_OUT_IF_NAME));
	}
	assert_string_equal(f->src_tags, src_tags);
	assert_false(fs_flow_has(f, FS_F_DST_TAGS));
	assert_true(fs_flow_has(f, FS_F_TRAFFIC_DIRECTION));
	assert_int_equal(f->traffic_direction, FS_TRAFFIC_OUTBOUND);
	assert_true(fs_flow_has(f, FS_F_SRC_SERVICE));
	assert_string_equal(f->src_service, "https");
	assert_false(fs_flow_has(f, FS_F_DST_SERVICE));
	if (p->have_mmdb) {
		assert_string_equal(f->src_country, "FR");
		assert_string_equal(f->src_city, "Paris");
		assert_int_equal(f->src_as, 64500);
		assert_string_equal(f->src_as_org, "Example Paris Networks");
		assert_string_equal(f->dst_country, "DE");
		assert_string_equal(f->dst_city, "M\xc3\xbcnchen");
		assert_int_equal(f->dst_as, 64501);
		assert_string_equal(f->dst_as_org, "Beispiel \xc3\x9c" "bertragung GmbH");
	}
}

static void
test_enrich_and_reload_mid_stream(void **state)
{
	struct pipeline *p = *state;
	struct timespec start, now;

	produce_phase(p, 0);
	wait_for(p, FLOWS_PER_PHASE);
	for (unsigned seq = 0; seq < FLOWS_PER_PHASE; seq++)
		check_flow(p, seq, "site=par,role=dc");

	/* A broken file keeps the old tags, and the error is logged. */
	fs_test_write_file(p->prefixes, "192.0.2.0/24 site=lyon\n192.0.2.0/24 site=twice\n");
	assert_int_equal(kill(p->enrich, SIGHUP), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!fs_test_file_contains(p->log_path, "reloading the prefix list failed")) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		assert_true(now.tv_sec - start.tv_sec < 10);
		usleep(50000);
	}

	fs_test_write_file(p->prefixes, "192.0.2.0/24 site=lyon role=office\n");
	assert_int_equal(kill(p->enrich, SIGHUP), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!fs_test_file_contains(p->log_path, "reloaded the prefix list")) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		assert_true(now.tv_sec - start.tv_sec < 10);
		usleep(50000);
	}
	produce_phase(p, FLOWS_PER_PHASE);
	wait_for(p, 2 * FLOWS_PER_PHASE);
	for (unsigned seq = FLOWS_PER_PHASE; seq < 2 * FLOWS_PER_PHASE; seq++)
		check_flow(p, seq, "site=lyon,role=office");

	/* Nothing more arrives: no flow was produced twice. */
	assert_int_equal(fs_consumer_poll(p->consumer, 1000, collect, p, 1000), 0);
	assert_int_equal(p->received, 2 * FLOWS_PER_PHASE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enrich_and_reload_mid_stream, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
