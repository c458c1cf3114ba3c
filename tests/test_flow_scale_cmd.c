/*
 * test_flow_scale_cmd.c - `flowsift report`, `print` and `graph` scale the
 * sampled counters of captures, archives and topics by the sampling rate as
 * flowsift-enrich does, never scale a flow twice, and show exported counters
 * with --no-scale.  Runs build/bin/flowsift on captures written here and on
 * the sampled captures of the shared corpus ($FLOWSIFT_CORPUS; those cases
 * are skipped when it is absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive/archive_writer.h"
#include "avro/flow_codec.h"
#include "core/flow.h"
#include "kafka/producer.h"
#include "support/corpus.h"
#include "support/process.h"
#include "support/wire.h"

#define OUTPUT_MAX (256 * 1024)

struct fixture {
	char dir[64];
	char v5_path[128];   /* 3 NetFlow v5 records, header sampling interval 100 */
	char *out;           /* stdout of the last run */
	char *err;           /* stderr of the last run */
	int status;          /* exit status of the last run */
	pid_t broker;        /* flowsift-broker of the topic test, or 0 */
};

struct totals {
	uint64_t bytes, packets, flows;
};

/*
 * Writes one NetFlow v5 message whose header says 1 in 100 packet sampling
 * (mode 1, interval 100), with records of 2, 3 and 4 packets and 100, 200
 * and 300 bytes from 10.0.0.1, 10.0.0.2 and 10.0.0.3.
 */
static void
write_sampled_v5(const char *path)
{
	uint8_t msg[24 + 3 * 48];
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	memset(msg, 0, sizeof(msg));
	fs_test_put16(msg, 5);
	fs_test_put16(msg + 2, 3);
	fs_test_put32(msg + 4, 3600000);
	fs_test_put32(msg + 8, 1700000000);
	fs_test_put16(msg + 22, (uint16_t)((1u << 14) | 100));
	for (uint32_t r = 0; r < 3; r++) {
		uint8_t *rec = msg + 24 + r * 48;

		fs_test_put32(rec, 0x0a000001 + r);
		fs_test_put32(rec + 4, 0xc0000201);
		fs_test_put32(rec + 16, 2 + r);
		fs_test_put32(rec + 20, 100 * (r + 1));
		fs_test_put32(rec + 24, 3500000);
		fs_test_put32(rec + 28, 3590000);
		fs_test_put16(rec + 32, 40000);
		fs_test_put16(rec + 34, 53);
		rec[38] = 17;
	}
	assert_int_equal(fwrite(msg, sizeof(msg), 1, f), 1);
	fclose(f);
}

static char *
read_text(const char *path)
{
	char *text = calloc(1, OUTPUT_MAX + 1);
	FILE *f = fopen(path, "rb");

	assert_non_null(text);
	if (f) {
		size_t n = fread(text, 1, OUTPUT_MAX, f);

		text[n] = '\0';
		fclose(f);
	}
	return text;
}

/* Runs `env flowsift ARGS` with no settings file, keeping stdout and stderr in f. */
static void
run_flowsift(struct fixture *f, const char *env, const char *args)
{
	char bin[256], cmd[2048], out_path[128], err_path[128];
	int rc;

	fs_test_bin_path("flowsift", bin, sizeof(bin));
	snprintf(out_path, sizeof(out_path), "%s/stdout", f->dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", f->dir);
	snprintf(cmd, sizeof(cmd), "FLOWSIFT_CONFIG=/dev/null %s %s %s >%s 2>%s", env ? env : "",
		 bin, args, out_path, err_path);
	rc = system(cmd);
	assert_true(rc != -1 && WIFEXITED(rc));
	f->status = WEXITSTATUS(rc);
	free(f->out);
	free(f->err);
	f->out = read_text(out_path);
	f->err = read_text(err_path);
}

/* Runs `flowsift report ARGS --format json` and sums its rows. */
static struct totals
report_totals(struct fixture *f, const char *env, const char *args)
{
	struct totals t = { 0, 0, 0 };
	char full[1024];
	json_error_t error;
	json_t *rows, *row;
	size_t i;

	snprintf(full, sizeof(full), "report %s --format json", args);
	run_flowsift(f, env, full);
	if (f->status != 0)
		fail_msg("flowsift %s exited with %d: %s", full, f->status, f->err);
	rows = json_loads(f->out, 0, &error);
	if (!rows)
		fail_msg("flowsift %s printed no JSON: %s", full, error.text);
	json_array_foreach(rows, i, row) {
		t.bytes += (uint64_t)json_integer_value(json_object_get(row, "bytes"));
		t.packets += (uint64_t)json_integer_value(json_object_get(row, "packets"));
		t.flows += (uint64_t)json_integer_value(json_object_get(row, "flows"));
	}
	json_decref(rows);
	return t;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/fstest-scale-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->v5_path, sizeof(f->v5_path), "%s/sampled-v5.raw", f->dir);
	write_sampled_v5(f->v5_path);
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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f->out);
	free(f->err);
	free(f);
	return 0;
}

/* The v5 header rate multiplies bytes and packets; --no-scale keeps them as exported. */
static void
report_scales_v5_header_rate(void **state)
{
	struct fixture *f = *state;
	char args[256];
	struct totals t;

	snprintf(args, sizeof(args), "src %s", f->v5_path);
	t = report_totals(f, NULL, args);
	assert_int_equal(t.flows, 3);
	assert_int_equal(t.packets, 900);
	assert_int_equal(t.bytes, 60000);

	snprintf(args, sizeof(args), "src --no-scale %s", f->v5_path);
	t = report_totals(f, NULL, args);
	assert_int_equal(t.flows, 3);
	assert_int_equal(t.packets, 9);
	assert_int_equal(t.bytes, 600);
}

/* The table output states on stderr which counters it shows. */
static void
report_table_names_scaling(void **state)
{
	struct fixture *f = *state;
	char args[256];

	snprintf(args, sizeof(args), "report src %s", f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->out, "30000"));
	assert_non_null(strstr(f->err, "counters scaled by the sampling rate: 3 flows scaled"));

	snprintf(args, sizeof(args), "report src --no-scale %s", f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_null(strstr(f->out, "30000"));
	assert_non_null(strstr(f->err, "counters as exported"));
}

/* A filter on packets matches the scaled numbers that the report sums. */
static void
report_filter_sees_scaled(void **state)
{
	struct fixture *f = *state;
	char args[256];

	snprintf(args, sizeof(args), "report src -f 'packets > 250' %s", f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "3 flows read, 2 matched the filter"));

	snprintf(args, sizeof(args), "report src --no-scale -f 'packets > 250' %s", f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "3 flows read, 0 matched the filter"));
}

/* enrich.sampling.override wins over the exported rate, as in flowsift-enrich. */
static void
report_uses_rate_override(void **state)
{
	struct fixture *f = *state;
	char args[256];
	struct totals t;

	snprintf(args, sizeof(args), "src %s", f->v5_path);
	t = report_totals(f, "FLOWSIFT_ENRICH_SAMPLING_OVERRIDE=0.0.0.0=10", args);
	assert_int_equal(t.packets, 90);
	assert_int_equal(t.bytes, 6000);

	snprintf(args, sizeof(args), "report src %s", f->v5_path);
	run_flowsift(f, "FLOWSIFT_ENRICH_SAMPLING_OVERRIDE=not-an-address=10", args);
	assert_int_equal(f->status, 1);
	assert_non_null(strstr(f->err, "enrich.sampling.override"));
}

/* Live counters are scaled by enrich already, so --no-scale without flows is a usage error. */
static void
report_live_rejects_no_scale(void **state)
{
	struct fixture *f = *state;

	run_flowsift(f, NULL, "report src --no-scale");
	assert_int_equal(f->status, 2);
	assert_non_null(strstr(f->err, "--no-scale needs FILE arguments or --topic"));
	run_flowsift(f, NULL, "graph --no-scale");
	assert_int_equal(f->status, 2);
	assert_non_null(strstr(f->err, "--no-scale needs FILE arguments or --topic"));
}

static void
make_archive_flow(struct fs_flow *flow, uint8_t last_octet)
{
	uint8_t src[4] = { 10, 9, 0, last_octet };
	uint8_t dst[4] = { 192, 0, 2, 1 };

	fs_flow_clear(flow);
	flow->flow_type = FS_FLOW_IPFIX;
	flow->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_BYTES | FS_F_PACKETS |
			FS_F_SAMPLING_RATE;
	fs_addr_set_v4(&flow->src_addr, src);
	fs_addr_set_v4(&flow->dst_addr, dst);
	flow->sampling_rate = 100;
	flow->time_received_ns = 1700000000000000000LL;
}

/*
 * Fills flows[0] as enrich leaves a flow of 10.9.0.1 (5000 bytes and 100
 * packets scaled from 50 and 1 at rate 100) and flows[1] as the decoder
 * leaves one of 10.9.0.2 (70 bytes, 2 packets, rate 100, not scaled).
 */
static void
make_scaled_and_raw(struct fs_flow flows[2])
{
	make_archive_flow(&flows[0], 1);
	flows[0].present |= FS_F_EXPORTED_BYTES | FS_F_EXPORTED_PACKETS | FS_F_SAMPLING_SOURCE;
	flows[0].bytes = 5000;
	flows[0].packets = 100;
	flows[0].exported_bytes = 50;
	flows[0].exported_packets = 1;
	flows[0].sampling_source = FS_SAMPLING_EXPORTER;
	make_archive_flow(&flows[1], 2);
	flows[1].bytes = 70;
	flows[1].packets = 2;
}

/* Checks that the report JSON in text has 10.9.0.1 unchanged and 10.9.0.2 scaled by 100. */
static void
check_scaled_once(const char *text)
{
	json_error_t error;
	json_t *rows, *row;
	size_t i;

	rows = json_loads(text, 0, &error);
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 2);
	json_array_foreach(rows, i, row) {
		const char *key = json_string_value(json_object_get(row, "key"));
		json_int_t bytes = json_integer_value(json_object_get(row, "bytes"));
		json_int_t packets = json_integer_value(json_object_get(row, "packets"));

		assert_non_null(key);
		if (strcmp(key, "10.9.0.1") == 0) {
			assert_int_equal(bytes, 5000);
			assert_int_equal(packets, 100);
		} else {
			assert_string_equal(key, "10.9.0.2");
			assert_int_equal(bytes, 7000);
			assert_int_equal(packets, 200);
		}
	}
	json_decref(rows);
}

/* Writes flows[0..n) into one closed archive file in folder dir, which it creates. */
static void
write_archive(const char *dir, const struct fs_flow *flows, size_t n)
{
	struct fs_archive_options opt = { .rotate_bytes = 1 << 20 };
	struct fs_archive_writer *w;
	struct fs_flow_codec *codec;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	char err[256];

	assert_int_equal(mkdir(dir, 0700), 0);
	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	opt.dir = dir;
	assert_int_equal(fs_archive_writer_new(&w, &opt, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		size_t len;

		assert_int_equal(fs_flow_codec_encode(codec, &flows[i], buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_archive_writer_append(w, buf, len, 1700000000000000000LL), 0);
	}
	assert_int_equal(fs_archive_writer_close(w), 0);
	fs_archive_writer_free(w);
	fs_flow_codec_free(codec);
}

/*
 * An archive with one flow that enrich scaled (exported counters present)
 * and one raw sampled flow: only the raw one is scaled.
 */
static void
report_archive_scales_once(void **state)
{
	struct fixture *f = *state;
	struct fs_flow flows[2];
	char dir[128], args[256];

	snprintf(dir, sizeof(dir), "%s/archive", f->dir);
	make_scaled_and_raw(flows);
	write_archive(dir, flows, 2);

	snprintf(args, sizeof(args), "report src --format json %s/flows-*.avro", dir);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	check_scaled_once(f->out);

	snprintf(args, sizeof(args), "report src %s/flows-*.avro", dir);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "1 flows scaled, 1 already scaled"));
}

/* Returns the value of member name in the report row whose key is key, or -1. */
static json_int_t
row_value(const char *text, const char *key, const char *name)
{
	json_t *rows = json_loads(text, 0, NULL), *row;
	json_int_t value = -1;
	size_t i;

	json_array_foreach(rows, i, row) {
		const char *k = json_string_value(json_object_get(row, "key"));

		if (k && strcmp(k, key) == 0)
			value = json_integer_value(json_object_get(row, name));
	}
	json_decref(rows);
	return value;
}

/*
 * Adds to make_scaled_and_raw() a flow of 10.9.0.3 that enrich wrote without
 * a known rate: 30 bytes and 3 packets, exported counters equal, sampling
 * source none.
 */
static void
make_enriched_mix(struct fs_flow flows[3])
{
	make_scaled_and_raw(flows);
	make_archive_flow(&flows[2], 3);
	flows[2].present &= ~(uint64_t)FS_F_SAMPLING_RATE;
	flows[2].present |= FS_F_EXPORTED_BYTES | FS_F_EXPORTED_PACKETS | FS_F_SAMPLING_SOURCE;
	flows[2].sampling_rate = 0;
	flows[2].bytes = 30;
	flows[2].packets = 3;
	flows[2].exported_bytes = 30;
	flows[2].exported_packets = 3;
	flows[2].sampling_source = FS_SAMPLING_NONE;
}

/* --no-scale shows the exported counters of flows that enrich scaled. */
static void
no_scale_restores_enriched(void **state)
{
	struct fixture *f = *state;
	struct fs_flow flows[3];
	char dir[128], args[256];

	snprintf(dir, sizeof(dir), "%s/enriched", f->dir);
	make_enriched_mix(flows);
	write_archive(dir, flows, 3);

	snprintf(args, sizeof(args), "report src --no-scale --format json %s", dir);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_int_equal(row_value(f->out, "10.9.0.1", "bytes"), 50);
	assert_int_equal(row_value(f->out, "10.9.0.1", "packets"), 1);
	assert_int_equal(row_value(f->out, "10.9.0.2", "bytes"), 70);
	assert_int_equal(row_value(f->out, "10.9.0.3", "bytes"), 30);

	snprintf(args, sizeof(args), "report src --no-scale %s", dir);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "exported counters restored in 2 enriched flows"));

	snprintf(args, sizeof(args), "print --no-scale --format json -f 'src host 10.9.0.1' %s", dir);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->out, "\"bytes\":50,\"packets\":1"));
	assert_null(strstr(f->out, "\"bytes\":5000"));
}

/* The scaling line counts an enriched flow with sampling source none as without a rate. */
static void
scaling_line_counts_unknown_rate(void **state)
{
	struct fixture *f = *state;
	struct fs_flow flows[3];
	char dir[128], args[256];

	snprintf(dir, sizeof(dir), "%s/enriched-rate", f->dir);
	make_enriched_mix(flows);
	write_archive(dir, flows, 3);

	snprintf(args, sizeof(args), "report src %s", dir);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "1 flows scaled, 1 already scaled, 1 without a rate"));
}

/* The same two flows from a topic of the embedded broker: only the raw one is scaled. */
static void
report_topic_scales_once(void **state)
{
	struct fixture *f = *state;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	struct fs_flow flows[2];
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	char addr_file[128], log_path[128], bootstrap[256], env[320], err[256];
	FILE *addr;

	snprintf(addr_file, sizeof(addr_file), "%s/broker.addr", f->dir);
	snprintf(log_path, sizeof(log_path), "%s/broker.log", f->dir);
	char *argv[] = { "flowsift-broker", "--addr-file", addr_file, "--partitions", "1",
			 "--topic", "flows.scale", NULL };
	f->broker = fs_test_spawn("flowsift-broker", argv, NULL, log_path);
	assert_true(f->broker > 0);
	assert_int_equal(fs_test_wait_file(addr_file, 10000), 0);
	addr = fopen(addr_file, "r");
	assert_non_null(addr);
	assert_non_null(fgets(bootstrap, (int)sizeof(bootstrap), addr));
	fclose(addr);
	bootstrap[strcspn(bootstrap, "\r\n")] = '\0';

	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	producer = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	assert_non_null(producer);
	make_scaled_and_raw(flows);
	for (size_t i = 0; i < 2; i++) {
		size_t len;

		assert_int_equal(fs_flow_codec_encode(codec, &flows[i], buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_producer_send(producer, "flows.scale", NULL, 0, buf, len), 0);
	}
	assert_int_equal(fs_producer_flush(producer, 10000), 0);
	fs_producer_close(producer, 5000, NULL);
	fs_flow_codec_free(codec);

	snprintf(env, sizeof(env), "FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS='%s'", bootstrap);
	run_flowsift(f, env, "report src --format json --topic flows.scale");
	if (f->status != 0)
		fail_msg("flowsift report --topic exited with %d: %s", f->status, f->err);
	check_scaled_once(f->out);

	run_flowsift(f, env, "report src --no-scale --format json --topic flows.scale");
	assert_int_equal(f->status, 0);
	assert_int_equal(row_value(f->out, "10.9.0.2", "bytes"), 70);
	assert_int_equal(row_value(f->out, "10.9.0.1", "bytes"), 50);
	assert_int_equal(row_value(f->out, "10.9.0.1", "packets"), 1);

	assert_int_equal(fs_test_stop(f->broker, 5000), 0);
	f->broker = 0;
}

/* print shows scaled counters next to the exported ones, or only the exported ones. */
static void
print_shows_both_counters(void **state)
{
	struct fixture *f = *state;
	char args[256];

	snprintf(args, sizeof(args), "print --format json %s", f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->out, "\"bytes\":10000,\"packets\":200"));
	assert_non_null(strstr(f->out, "\"exported_bytes\":100,\"exported_packets\":2"));
	assert_non_null(strstr(f->out, "\"sampling_rate\":100"));

	snprintf(args, sizeof(args), "print --format csv --fields src,packets,exported_packets %s",
		 f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_string_equal(f->out,
		"src,packets,exported_packets\n"
		"10.0.0.1:40000,200,2\n"
		"10.0.0.2:40000,300,3\n"
		"10.0.0.3:40000,400,4\n");

	snprintf(args, sizeof(args), "print --no-scale --format json %s", f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->out, "\"bytes\":100,\"packets\":2"));
	assert_null(strstr(f->out, "exported_bytes"));
}

/* graph draws scaled counters and reports that on stderr. */
static void
graph_names_scaling(void **state)
{
	struct fixture *f = *state;
	char args[256];

	snprintf(args, sizeof(args), "graph --out %s/g.svg %s", f->dir, f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "counters scaled by the sampling rate: 3 flows scaled"));

	snprintf(args, sizeof(args), "graph --no-scale --out %s/g.svg %s", f->dir, f->v5_path);
	run_flowsift(f, NULL, args);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->err, "counters as exported"));
}

/* Builds "DIR/a DIR/b ..." from corpus paths; skips the test when one is missing. */
static void
corpus_args(const char *const *paths, size_t n, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", fs_test_corpus_dir(), paths[i]);
		if (access(path, R_OK) != 0) {
			fprintf(stderr, "corpus file %s is missing; skipped\n", path);
			skip();
		}
		used += (size_t)snprintf(out + used, len - used, " %s", path);
		assert_true(used < len);
	}
}

/* Juniper MX80 NetFlow v5 with 1 in 1000 sampling in its header: 31 exported packets are 31000. */
static void
corpus_v5_juniper_scaled(void **state)
{
	static const char *const files[] = {
		"netflow-v5/logstash-codec-netflow/netflow5_test_juniper_mx80.dat",
	};
	struct fixture *f = *state;
	char paths[1024], args[1200];
	struct totals t;

	corpus_args(files, 1, paths, sizeof(paths));
	snprintf(args, sizeof(args), "timeseries%s", paths);
	t = report_totals(f, NULL, args);
	assert_int_equal(t.packets, 31000);
	assert_int_equal(t.flows, 29);
	snprintf(args, sizeof(args), "timeseries --no-scale%s", paths);
	t = report_totals(f, NULL, args);
	assert_int_equal(t.packets, 31);
}

/* NetFlow v9 whose rate 30000 comes from a sampler options record. */
static void
corpus_v9_options_sampler_scaled(void **state)
{
	static const char *const files[] = {
		"netflow-v9/akvorado/options-template.pcap",
		"netflow-v9/akvorado/options-data.pcap",
		"netflow-v9/akvorado/template.pcap",
		"netflow-v9/akvorado/data.pcap",
	};
	struct fixture *f = *state;
	char paths[2048], args[2100];
	struct totals raw, scaled;

	corpus_args(files, 4, paths, sizeof(paths));
	snprintf(args, sizeof(args), "timeseries --no-scale%s", paths);
	raw = report_totals(f, NULL, args);
	snprintf(args, sizeof(args), "timeseries%s", paths);
	scaled = report_totals(f, NULL, args);
	assert_int_equal(raw.flows, 4);
	assert_int_equal(scaled.flows, 4);
	assert_int_equal(scaled.packets, raw.packets * 30000);
	assert_int_equal(scaled.bytes, raw.bytes * 30000);
}

/* sFlow flow samples carry their own rate; the five samples of data-1140 all use 1024. */
static void
corpus_sflow_scaled(void **state)
{
	static const char *const files[] = { "sflow-v5/akvorado/data-1140.pcap" };
	struct fixture *f = *state;
	char paths[1024], args[1200];
	struct totals raw, scaled;

	corpus_args(files, 1, paths, sizeof(paths));
	snprintf(args, sizeof(args), "timeseries --no-scale%s", paths);
	raw = report_totals(f, NULL, args);
	snprintf(args, sizeof(args), "timeseries%s", paths);
	scaled = report_totals(f, NULL, args);
	assert_int_equal(raw.flows, 5);
	assert_int_equal(raw.packets, 5);
	assert_int_equal(scaled.packets, raw.packets * 1024);
	assert_int_equal(scaled.bytes, raw.bytes * 1024);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(report_scales_v5_header_rate),
		cmocka_unit_test(report_table_names_scaling),
		cmocka_unit_test(report_filter_sees_scaled),
		cmocka_unit_test(report_uses_rate_override),
		cmocka_unit_test(report_live_rejects_no_scale),
		cmocka_unit_test(report_archive_scales_once),
		cmocka_unit_test(report_topic_scales_once),
		cmocka_unit_test(no_scale_restores_enriched),
		cmocka_unit_test(scaling_line_counts_unknown_rate),
		cmocka_unit_test(print_shows_both_counters),
		cmocka_unit_test(graph_names_scaling),
		cmocka_unit_test(corpus_v5_juniper_scaled),
		cmocka_unit_test(corpus_v9_options_sampler_scaled),
		cmocka_unit_test(corpus_sflow_scaled),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
