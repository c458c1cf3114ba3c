/*
 * test_report_cmd.c - `flowsift report` gives the same numbers from the
 * live Redis counters as from the flows of a capture, and those numbers are
 * the sums of the flows the decoder reads from it; `flowsift report alerts`
 * lists the alerts kept in Redis.  Runs build/bin/flowsift against a real
 * redis-server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decode/capture.h"
#include "decode/decoder.h"
#include "detect/detect.h"
#include "redis/topn.h"
#include "support/process.h"
#include "support/redis_commands.h"
#include "support/redis_server.h"
#include "support/wire.h"

#define MAX_KEYS 4096

struct fixture {
	struct fs_test_redis redis;
	redisContext *ctx;
	char dir[64];
	char capture[128];
};

struct expected {
	struct fs_topn_batch *batch;
	size_t nkeys;
	struct {
		char key[FS_ADDR_STRLEN];
		uint64_t bytes, packets, flows;
	} rows[MAX_KEYS];
};

/* Writes 5 NetFlow v5 messages of 30 records from 17 sources back to back. */
static void
write_raw_capture(const char *path)
{
	uint8_t msg[24 + 30 * 48];
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (uint32_t m = 0; m < 5; m++) {
		memset(msg, 0, sizeof(msg));
		fs_test_put16(msg, 5);
		fs_test_put16(msg + 2, 30);
		fs_test_put32(msg + 4, 3600000);
		fs_test_put32(msg + 8, 1700000000);
		fs_test_put32(msg + 16, m * 30);
		for (uint32_t r = 0; r < 30; r++) {
			uint8_t *rec = msg + 24 + r * 48;
			uint32_t i = m * 30 + r;

			fs_test_put32(rec, 0x0a000001 + i % 17);
			fs_test_put32(rec + 4, 0xc0000201 + i % 5);
			fs_test_put32(rec + 16, 1 + i % 7);
			/* Sources 1 and 2 tie on bytes, so the key order decides. */
			fs_test_put32(rec + 20, i % 17 < 2 ? 5000 : 100 * (i % 13 + 1));
			fs_test_put32(rec + 24, 3500000);
			fs_test_put32(rec + 28, 3590000);
			fs_test_put16(rec + 32, (uint16_t)(30000 + i));
			fs_test_put16(rec + 34, (uint16_t)(i % 4 == 0 ? 443 : 53));
			rec[38] = i % 4 == 0 ? 6 : 17;
		}
		assert_int_equal(fwrite(msg, sizeof(msg), 1, f), 1);
	}
	fclose(f);
}

static void
on_flow(const struct fs_flow *flow, void *opaque)
{
	struct expected *e = opaque;
	char key[FS_ADDR_STRLEN];
	size_t i;

	assert_int_equal(fs_topn_batch_add(e->batch, flow), 0);
	if (!fs_flow_has(flow, FS_F_SRC_ADDR))
		return;
	fs_addr_format(&flow->src_addr, key);
	for (i = 0; i < e->nkeys && strcmp(e->rows[i].key, key) != 0; i++)
		;
	if (i == e->nkeys) {
		assert_true(e->nkeys < MAX_KEYS);
		snprintf(e->rows[e->nkeys++].key, FS_ADDR_STRLEN, "%s", key);
	}
	e->rows[i].bytes += flow->bytes;
	e->rows[i].packets += flow->packets;
	e->rows[i].flows++;
}

struct reader {
	struct fs_decoder *decoder;
	struct expected *e;
};

static int
on_datagram(const struct fs_datagram *d, void *opaque)
{
	struct reader *r = opaque;

	fs_decoder_decode(r->decoder, d->data, d->len, &d->exporter, d->exporter_port, d->time_ns,
			  on_flow, r->e);
	return 0;
}

/* Decodes path independently of the command, into per-source sums and a top-N batch. */
static void
decode_expected(const char *path, struct expected *e)
{
	struct reader r = { .decoder = fs_decoder_new(NULL), .e = e };
	char err[256];

	assert_non_null(r.decoder);
	e->batch = fs_topn_batch_new(65536);
	assert_non_null(e->batch);
	assert_int_equal(fs_capture_read_file(path, on_datagram, &r, err, sizeof(err)), 0);
	fs_decoder_free(r.decoder);
}

/* Runs `flowsift COMMAND ARGS --format json` against the fixture's Redis. */
static json_t *
run_json(const struct fixture *f, const char *command, const char *args)
{
	char bin[256], cmd[1536];
	json_error_t error;
	json_t *out;
	FILE *p;

	fs_test_bin_path("flowsift", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "FLOWSIFT_CONFIG=/dev/null FLOWSIFT_REDIS_URL='%s' %s %s %s "
		 "--format json", f->redis.url, bin, command, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	out = json_loadf(p, 0, &error);
	assert_int_equal(pclose(p), 0);
	if (!out)
		fail_msg("flowsift %s %s printed no JSON: %s", command, args, error.text);
	return out;
}

/* Runs `flowsift report ARGS` and reads its output, at most len - 1 bytes, into out. */
static void
run_text(const struct fixture *f, const char *args, char *out, size_t len)
{
	char bin[256], cmd[1024];
	size_t n;
	FILE *p;

	fs_test_bin_path("flowsift", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "FLOWSIFT_CONFIG=/dev/null FLOWSIFT_REDIS_URL='%s' %s report %s",
		 f->redis.url, bin, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

static json_t *
run_report(const struct fixture *f, const char *args)
{
	return run_json(f, "report", args);
}

/* `flowsift top` names each key as `flowsift report` does: "a -> b", "tcp". */
static void
top_keys_match_report(const struct fixture *f)
{
	static const char *const pairs[][2] = {
		{ "--by conversation", "conversations" },
		{ "--by proto", "protocols" },
	};
	char args[256];

	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		json_t *top, *report;
		size_t i;
		json_t *row;

		snprintf(args, sizeof(args), "%s --top 1000 --window 5m", pairs[p][0]);
		top = run_json(f, "top", args);
		snprintf(args, sizeof(args), "%s --top 1000 --window 5m", pairs[p][1]);
		report = run_report(f, args);
		assert_true(json_array_size(top) > 0);
		assert_int_equal(json_array_size(top), json_array_size(report));
		json_array_foreach(top, i, row) {
			const char *a = json_string_value(json_object_get(row, "key"));
			const char *b = json_string_value(
				json_object_get(json_array_get(report, i), "key"));

			assert_non_null(a);
			assert_non_null(b);
			if (strcmp(a, b) != 0)
				fail_msg("top %s row %zu is '%s', report %s row %zu '%s'", pairs[p][0],
					 i, a, pairs[p][1], i, b);
		}
		json_decref(top);
		json_decref(report);
	}
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	/* The state is set first, so teardown also cleans up after a failed setup. */
	if (!f)
		return -1;
	*state = f;
	if (fs_test_redis_start(&f->redis) < 0)
		return -1;
	f->ctx = fs_test_redis_connect(&f->redis);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fstest-report-XXXXXX");
	if (!f->ctx || !mkdtemp(f->dir))
		return -1;
	snprintf(f->capture, sizeof(f->capture), "%s/v5.raw", f->dir);
	write_raw_capture(f->capture);
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (!f)
		return 0;
	redisFree(f->ctx);
	fs_test_redis_stop(&f->redis);
	/* No folder to remove when setup stopped before mkdtemp() made one. */
	if (strstr(f->dir, "XXXXXX") == NULL && f->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", f->dir);
	}
	free(f);
	return 0;
}

static int
flush_db(void **state)
{
	struct fixture *f = *state;

	return fs_test_redis_flushdb(f->ctx);
}

/* Checks rows (a report) against the sums in e, and the ranking by bytes. */
static void
check_against_expected(json_t *rows, const struct expected *e)
{
	uint64_t previous = UINT64_MAX;
	const char *previous_key = "";
	size_t i;
	json_t *row;

	assert_int_equal(json_array_size(rows), e->nkeys);
	json_array_foreach(rows, i, row) {
		const char *key = json_string_value(json_object_get(row, "key"));
		uint64_t bytes = (uint64_t)json_integer_value(json_object_get(row, "bytes"));
		size_t j;

		assert_non_null(key);
		assert_true(bytes < previous || (bytes == previous && strcmp(previous_key, key) < 0));
		previous = bytes;
		previous_key = key;
		for (j = 0; j < e->nkeys && strcmp(e->rows[j].key, key) != 0; j++)
			;
		if (j == e->nkeys)
			fail_msg("unexpected key %s", key);
		assert_int_equal(bytes, e->rows[j].bytes);
		assert_int_equal(json_integer_value(json_object_get(row, "packets")), e->rows[j].packets);
		assert_int_equal(json_integer_value(json_object_get(row, "flows")), e->rows[j].flows);
	}
}

static void
live_and_file_reports_agree(struct fixture *f, const char *path)
{
	struct expected *e = calloc(1, sizeof(*e));
	json_t *from_file, *live;
	char args[512];

	assert_non_null(e);
	decode_expected(path, e);
	assert_true(e->nkeys > 0);
	/* What flowsift-report writes for these flows. */
	assert_int_equal(fs_topn_flush(e->batch, f->ctx, (int64_t)time(NULL)), 0);

	snprintf(args, sizeof(args), "src --top 1000 '%s'", path);
	from_file = run_report(f, args);
	live = run_report(f, "src --top 1000 --window 5m");
	check_against_expected(from_file, e);
	if (!json_equal(from_file, live)) {
		char *a = json_dumps(from_file, JSON_COMPACT), *b = json_dumps(live, JSON_COMPACT);

		fail_msg("report from the file and from Redis differ:\n%s\n%s", a, b);
	}
	fprintf(stderr, "report: %zu sources equal from %s and from Redis\n", e->nkeys, path);
	json_decref(from_file);
	json_decref(live);

	/* The other types that both sources key alike, whole and cut to a few rows. */
	static const char *const others[] = {
		"protocols --top 1000", "conversations --top 1000", "conversations --top 3",
		"conversations --top 7 --metric packets", "protocols --top 1 --metric flows",
		"dst --top 1000", "ports --top 1000", "exporters --top 1000",
	};
	for (size_t t = 0; t < sizeof(others) / sizeof(others[0]); t++) {
		snprintf(args, sizeof(args), "%s '%s'", others[t], path);
		from_file = run_report(f, args);
		snprintf(args, sizeof(args), "%s --window 5m", others[t]);
		live = run_report(f, args);
		assert_true(json_array_size(from_file) > 0);
		if (!json_equal(from_file, live)) {
			char *a = json_dumps(from_file, JSON_COMPACT);
			char *b = json_dumps(live, JSON_COMPACT);

			fail_msg("report %s from the file and from Redis differ:\n%s\n%s", others[t],
				 a, b);
		}
		fprintf(stderr, "report: %s: %zu rows equal from the file and from Redis\n",
			others[t], json_array_size(live));
		json_decref(from_file);
		json_decref(live);
	}
	top_keys_match_report(f);
	fs_topn_batch_free(e->batch);
	free(e);
}

static long long
sum_flows(const json_t *rows)
{
	long long sum = 0;

	for (size_t i = 0; i < json_array_size(rows); i++)
		sum += json_integer_value(json_object_get(json_array_get(rows, i), "flows"));
	return sum;
}

static void
synthetic_capture(void **state)
{
	struct fixture *f = *state;
	json_t *rows;
	char args[512];

	live_and_file_reports_agree(f, f->capture);

	/* Per minute: of flow start from the file, of arrival from Redis; 150 flows both. */
	snprintf(args, sizeof(args), "timeseries '%s'", f->capture);
	rows = run_report(f, args);
	assert_int_equal(sum_flows(rows), 150);
	json_decref(rows);
	rows = run_report(f, "timeseries --window 5m");
	assert_int_equal(json_array_size(rows), 5);
	assert_int_equal(sum_flows(rows), 150);
	json_decref(rows);
}

static void
corpus_capture(void **state)
{
	struct fixture *f = *state;
	const char *corpus = getenv("FLOWSIFT_CORPUS");
	char path[512];

	if (!corpus || !*corpus || access(corpus, R_OK) != 0) {
		fprintf(stderr, "note: corpus folder absent ($FLOWSIFT_CORPUS); skipping the corpus report\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/ipfix/pmacct/100-IPFIXv10-CISCO__traffic-00.pcap", corpus);
	live_and_file_reports_agree(f, path);
}

static void
filter_and_types(void **state)
{
	struct fixture *f = *state;
	json_t *rows;
	char args[512];

	snprintf(args, sizeof(args), "ports --metric flows '%s'", f->capture);
	rows = run_report(f, args);
	/* 150 flows: every fourth to 443, the rest to 53. */
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "key")), "53");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "flows")), 112);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "flows")), 38);
	json_decref(rows);

	snprintf(args, sizeof(args), "protocols -f 'proto tcp' '%s'", f->capture);
	rows = run_report(f, args);
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "key")), "tcp");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "flows")), 38);
	json_decref(rows);

	/* A file without flow exports gives no rows and a warning with the reason. */
	{
		char bin[256], cmd[1024], text[1024] = "", path[] = "/tmp/fstest-notflows-XXXXXX";
		int fd = mkstemp(path);
		FILE *p;
		size_t n;

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "not a capture\n", 14), 14);
		close(fd);
		fs_test_bin_path("flowsift", bin, sizeof(bin));
		snprintf(cmd, sizeof(cmd), "FLOWSIFT_CONFIG=/dev/null %s report ports %s "
			 "--format json 2>&1 >/dev/null", bin, path);
		p = popen(cmd, "r");
		assert_non_null(p);
		n = fread(text, 1, sizeof(text) - 1, p);
		text[n] = '\0';
		assert_int_equal(pclose(p), 0);
		unlink(path);
		assert_non_null(strstr(text, "contains no NetFlow, IPFIX or sFlow datagram"));
	}

	snprintf(args, sizeof(args), "conversations --top 3 -f 'src host 10.0.0.1' '%s'", f->capture);
	rows = run_report(f, args);
	assert_true(json_array_size(rows) >= 1);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(rows, 0), "key")),
			       "10.0.0.1 -> 192.0.2."));
	json_decref(rows);
}

/*
 * Ties on the live side are ranked by the rewritten key, as from files:
 * "10.0.0.1 -> ..." comes before "10.0.0.10 -> ..." although the member
 * "10.0.0.1>..." sorts after "10.0.0.10>...".
 */
static void
live_ties_ranked_by_report_key(void **state)
{
	static const char *const sources[] = { "10.0.0.10", "10.0.0.1", "10.0.0.100" };
	struct fixture *f = *state;
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	json_t *rows;

	assert_non_null(batch);
	for (int i = 0; i < 3; i++) {
		struct fs_flow flow;

		fs_flow_clear(&flow);
		assert_int_equal(fs_addr_parse(&flow.src_addr, sources[i]), 0);
		assert_int_equal(fs_addr_parse(&flow.dst_addr, "192.0.2.1"), 0);
		flow.proto = (uint8_t)(i == 0 ? 6 : 17);
		flow.bytes = 700;
		flow.packets = 7;
		flow.present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_PROTO | FS_F_BYTES | FS_F_PACKETS;
		assert_int_equal(fs_topn_batch_add(batch, &flow), 0);
	}
	assert_int_equal(fs_topn_flush(batch, f->ctx, (int64_t)time(NULL)), 0);
	fs_topn_batch_free(batch);

	rows = run_report(f, "conversations --top 1");
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "key")),
			    "10.0.0.1 -> 192.0.2.1");
	json_decref(rows);
	/* Protocol numbers read as names. */
	rows = run_report(f, "protocols --metric flows");
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "key")), "udp");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "flows")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "key")), "tcp");
	json_decref(rows);
}

static void
alerts_are_listed(void **state)
{
	struct fixture *f = *state;
	struct fs_detect_settings s;
	struct fs_detect *det;
	json_t *rows, *row;
	char text[4096], received[32], expected[160];
	int64_t received_s;
	struct tm tm;

	fs_detect_settings_default(&s);
	s.capacity = 4096;
	det = fs_detect_new(&s, NULL, NULL);
	assert_non_null(det);
	/* Received 20 s ago, at a whole second, so the table shows that time. */
	received_s = (int64_t)time(NULL) - 20;
	gmtime_r(&(time_t){ (time_t)received_s }, &tm);
	strftime(received, sizeof(received), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (int i = 0; i < 150; i++) {
		struct fs_flow flow;
		char dst[32];

		fs_flow_clear(&flow);
		snprintf(dst, sizeof(dst), "172.16.%d.%d", i / 200, i % 200 + 1);
		fs_addr_parse(&flow.src_addr, "10.1.66.6");
		fs_addr_parse(&flow.dst_addr, dst);
		flow.dst_port = 445;
		flow.proto = 6;
		flow.present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_DST_PORT | FS_F_PROTO;
		fs_addr_parse(&flow.exporter_addr, "192.0.2.1");
		snprintf(flow.exporter_name, sizeof(flow.exporter_name), "edge \"1\", par");
		flow.in_if = 7;
		flow.present |= FS_F_EXPORTER_NAME | FS_F_IN_IF;
		flow.time_received_ns = received_s * 1000000000;
		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	assert_int_equal(fs_detect_flush(det, f->ctx, (int64_t)time(NULL) * 1000), 0);
	fs_detect_free(det);

	rows = run_report(f, "alerts");
	assert_int_equal(json_array_size(rows), 1);
	row = json_array_get(rows, 0);
	assert_string_equal(json_string_value(json_object_get(row, "rule")), "fanout");
	assert_string_equal(json_string_value(json_object_get(row, "subject")), "10.1.66.6");
	assert_true(json_is_true(json_object_get(row, "open")));
	assert_string_equal(json_string_value(json_object_get(row, "exporter")), "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(row, "interface")), 7);
	json_decref(rows);

	/* The table names where the flows were seen; CSV quotes text as RFC 4180 does. */
	run_text(f, "alerts", text, sizeof(text));
	assert_non_null(strstr(text, " edge \"1\", par/7 "));
	/* flows_last is the flows' receive time, not the flush time. */
	snprintf(expected, sizeof(expected), " %s edge", received);
	assert_non_null(strstr(text, expected));
	run_text(f, "alerts --format csv", text, sizeof(text));
	assert_non_null(strstr(text, ",exporter,exporter_name,exporter_site,interface,interface_name,"
				     "flows_first,flows_last\n"));
	snprintf(expected, sizeof(expected), ",\"192.0.2.1\",\"edge \"\"1\"\", par\",\"\",7,\"\",%s,%s\n",
		 received, received);
	assert_non_null(strstr(text, expected));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(synthetic_capture, flush_db),
		cmocka_unit_test_setup(corpus_capture, flush_db),
		cmocka_unit_test_setup(filter_and_types, flush_db),
		cmocka_unit_test_setup(live_ties_ranked_by_report_key, flush_db),
		cmocka_unit_test_setup(alerts_are_listed, flush_db),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
