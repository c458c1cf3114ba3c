/*
 * test_print.c - `flowsift print`: table, JSON and CSV output, columns and
 * filters, from raw datagram files, archive files and a topic of the
 * embedded broker (build/bin/flowsift-broker).
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/alert_codec.h"
#include "archive/archive_writer.h"
#include "avro/flow_codec.h"
#include "core/flow.h"
#include "kafka/producer.h"
#include "support/process.h"
#include "support/text_file.h"
#include "support/wire.h"

#define OUTPUT_MAX (256 * 1024)

struct print_test {
	char dir[64];
	char v5_path[128];
	char output[OUTPUT_MAX];
	int status;
	pid_t broker;  /* stopped by teardown, so a failed test leaves none */
	pid_t capture;
};

struct v5_record {
	uint8_t src[4], dst[4];
	uint16_t sport, dport;
	uint8_t proto, flags, tos;
	uint32_t packets, bytes;
	uint16_t in_if;
};

static const struct v5_record v5_records[] = {
	{ { 10, 0, 0, 1 }, { 192, 0, 2, 25 }, 40000, 25, 6, 0x02, 0, 3, 180, 1 },
	{ { 10, 0, 0, 2 }, { 10, 0, 0, 3 }, 53, 5353, 17, 0, 0, 1, 80, 2 },
	{ { 10, 0, 0, 4 }, { 10, 0, 0, 5 }, 443, 50000, 6, 0x18, 184, 10, 15000, 1 },
};

/* Writes one NetFlow v5 export message with the records above as a raw datagram file. */
static void
write_v5_file(const char *path)
{
	uint8_t msg[24 + 3 * 48];
	FILE *f;

	memset(msg, 0, sizeof(msg));
	fs_test_put16(msg, 5);
	fs_test_put16(msg + 2, 3);
	fs_test_put32(msg + 4, 100000);      /* sysuptime, ms */
	fs_test_put32(msg + 8, 1700000000);  /* 2023-11-14T22:13:20Z */
	fs_test_put32(msg + 16, 1);
	for (int i = 0; i < 3; i++) {
		const struct v5_record *r = &v5_records[i];
		uint8_t *p = msg + 24 + 48 * i;

		memcpy(p, r->src, 4);
		memcpy(p + 4, r->dst, 4);
		fs_test_put16(p + 12, r->in_if);
		fs_test_put16(p + 14, 9);
		fs_test_put32(p + 16, r->packets);
		fs_test_put32(p + 20, r->bytes);
		fs_test_put32(p + 24, 98500);    /* first: 1.5 s before export */
		fs_test_put32(p + 28, 100000);
		fs_test_put16(p + 32, r->sport);
		fs_test_put16(p + 34, r->dport);
		p[37] = r->flags;
		p[38] = r->proto;
		p[39] = r->tos;
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(msg, 1, sizeof(msg), f), sizeof(msg));
	fclose(f);
}

/* Runs `flowsift ARGS` with stdout in t->output and stderr in DIR/stderr; stores the exit status. */
static void
run_print(struct print_test *t, const char *args)
{
	char bin[256], cmd[2048];
	size_t n;
	FILE *p;

	fs_test_bin_path("flowsift", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s %s 2>%s/stderr", bin, args, t->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(t->output, 1, sizeof(t->output) - 1, p);
	t->output[n] = '\0';
	t->status = WEXITSTATUS(pclose(p));
}

static void
read_stderr(const struct print_test *t, char *buf, size_t len)
{
	char path[128];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stderr", t->dir);
	f = fopen(path, "r");
	if (f != NULL) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
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
	struct print_test *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/fstest-print-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->v5_path, sizeof(t->v5_path), "%s/export.v5", t->dir);
	write_v5_file(t->v5_path);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct print_test *t = *state;
	char cmd[128];

	if (t->capture > 0)
		fs_test_stop(t->capture, 10000);
	if (t->broker > 0)
		fs_test_stop(t->broker, 5000);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	free(t);
	return 0;
}

static void
table_is_aligned(void **state)
{
	struct print_test *t = *state;
	char args[256];

	snprintf(args, sizeof(args), "print %s", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output,
		"start                    duration proto src addr:port         dst addr:port           packets       bytes flags    tos\n"
		"2023-11-14 22:13:18.500     1.500 TCP   10.0.0.1:40000        192.0.2.25:25                 3         180 ......S.   0\n"
		"2023-11-14 22:13:18.500     1.500 UDP   10.0.0.2:53           10.0.0.3:5353                 1          80 ........   0\n"
		"2023-11-14 22:13:18.500     1.500 TCP   10.0.0.4:443          10.0.0.5:50000               10       15000 ...AP... 184\n");
}

/* With --no-scale, print's JSON lines are decode's; scaling would add exported_bytes and the rest. */
static void
json_matches_decode(void **state)
{
	struct print_test *t = *state;
	char args[256], *decoded;

	snprintf(args, sizeof(args), "decode %s", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	decoded = strdup(t->output);
	assert_non_null(decoded);
	snprintf(args, sizeof(args), "print --no-scale --format json %s", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 3);
	/* The times received are the read times of a raw file, so compare around them. */
	char *save_a = NULL, *save_b = NULL;
	char *a = strtok_r(decoded, "\n", &save_a), *b = strtok_r(t->output, "\n", &save_b);
	int lines = 0;

	for (; a != NULL && b != NULL; a = strtok_r(NULL, "\n", &save_a), b = strtok_r(NULL, "\n", &save_b)) {
		char *ta = strstr(a, "\"time_received_ns\":"), *tb = strstr(b, "\"time_received_ns\":");

		assert_non_null(ta);
		assert_non_null(tb);
		assert_int_equal(ta - a, tb - b);
		assert_memory_equal(a, b, (size_t)(ta - a));
		assert_non_null(strchr(ta, ','));
		assert_string_equal(strchr(ta, ','), strchr(tb, ','));
		lines++;
	}
	assert_null(a);
	assert_null(b);
	assert_int_equal(lines, 3);
	free(decoded);
}

static void
csv_with_header_and_fields(void **state)
{
	struct print_test *t = *state;
	char args[256];

	snprintf(args, sizeof(args), "print --format csv --fields 'src_addr, dst_port,proto,bytes,flags,tcp_flags' %s",
		 t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output,
		"src_addr,dst_port,proto,bytes,flags,tcp_flags\n"
		"10.0.0.1,25,TCP,180,......S.,2\n"
		"10.0.0.2,5353,UDP,80,........,0\n"
		"10.0.0.4,50000,TCP,15000,...AP...,24\n");

	snprintf(args, sizeof(args), "print --format csv --no-header --fields start,end,type %s",
		 t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 3);
	assert_non_null(strstr(t->output,
			       "2023-11-14T22:13:18.500Z,2023-11-14T22:13:20.000Z,netflow_v5\n"));
}

static void
unknown_field_rejected(void **state)
{
	struct print_test *t = *state;
	char args[256], err[4096];

	snprintf(args, sizeof(args), "print --fields src,colour %s", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 2);
	read_stderr(t, err, sizeof(err));
	assert_non_null(strstr(err, "unknown column 'colour'"));
	assert_non_null(strstr(err, "dst_port"));
	assert_non_null(strstr(err, "time_flow_start_ns=start"));
}

/* Each schema field name picks the column that shows that field. */
static void
schema_field_names_accepted(void **state)
{
	struct print_test *t = *state;
	static char by_column[OUTPUT_MAX];
	char args[512];

	snprintf(args, sizeof(args),
		 "print --format csv --fields time_flow_start_ns,time_flow_end_ns,"
		 "TIME_RECEIVED_NS,event_time_ns,flow_type,src_addr %s", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_true(strncmp(t->output, "start,end,received,event,flow_type,src_addr\n", 44) == 0);
	assert_non_null(strstr(t->output, "\n2023-11-14T22:13:18.500Z,2023-11-14T22:13:20.000Z,"));

	/* The alias gives the same rows as the column name. */
	snprintf(args, sizeof(args), "print --format csv --no-header --fields start,end %s",
		 t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	memcpy(by_column, t->output, sizeof(by_column));
	snprintf(args, sizeof(args),
		 "print --format csv --no-header --fields time_flow_start_ns,time_flow_end_ns %s",
		 t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output, by_column);
}

static void
filter_selects_flows(void **state)
{
	static const struct {
		const char *filter;
		const char *output;
	} cases[] = {
		{ "proto tcp and not dst port 25", "src_addr\n10.0.0.4\n" },
		{ "flags S and not flags A", "src_addr\n10.0.0.1\n" },
		{ "net 10.0.0.0/30 or tos 184", "src_addr\n10.0.0.1\n10.0.0.2\n10.0.0.4\n" },
	};
	struct print_test *t = *state;
	char args[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(args, sizeof(args), "print --format csv --fields src_addr -f '%s' %s",
			 cases[i].filter, t->v5_path);
		run_print(t, args);
		assert_int_equal(t->status, 0);
		assert_string_equal(t->output, cases[i].output);
	}
}

static void
invalid_filter_shows_caret(void **state)
{
	struct print_test *t = *state;
	char args[256], err[4096];

	snprintf(args, sizeof(args), "print -f 'dst port smtp' %s", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 2);
	assert_string_equal(t->output, "");
	read_stderr(t, err, sizeof(err));
	assert_non_null(strstr(err, "line 1, column 10"));
	assert_non_null(strstr(err, "  dst port smtp\n           ^"));
}

/* A capture cut short prints the flows before the cut and exits 1, for print and report. */
static void
cut_capture_fails(void **state)
{
	struct print_test *t = *state;
	char bench[256], cmd[1024], args[512], err[4096];
	int flows;

	fs_test_bin_path("flowsift-bench", bench, sizeof(bench));
	snprintf(cmd, sizeof(cmd),
		 "%s gen --format v5 --flows 300 --out %s/full.pcap >/dev/null && "
		 "head -c 5000 %s/full.pcap >%s/cut.pcap", bench, t->dir, t->dir, t->dir);
	assert_int_equal(system(cmd), 0);

	snprintf(args, sizeof(args), "print --format json %s/full.pcap", t->dir);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 300);

	snprintf(args, sizeof(args), "print --format json %s/cut.pcap", t->dir);
	run_print(t, args);
	assert_int_equal(t->status, 1);
	flows = count_lines(t->output);
	assert_true(flows > 0);
	assert_true(flows < 300);
	read_stderr(t, err, sizeof(err));
	assert_non_null(strstr(err, "cut.pcap"));

	snprintf(args, sizeof(args), "report src --format json %s/cut.pcap", t->dir);
	run_print(t, args);
	assert_int_equal(t->status, 1);
	assert_non_null(strstr(t->output, "10.0."));
}

static void
missing_file_fails(void **state)
{
	struct print_test *t = *state;
	char args[256], err[4096];

	snprintf(args, sizeof(args), "print %s/missing.pcap", t->dir);
	run_print(t, args);
	assert_int_equal(t->status, 1);
	/* No table header on stdout after the error. */
	assert_string_equal(t->output, "");
	read_stderr(t, err, sizeof(err));
	assert_non_null(strstr(err, "missing.pcap"));
	run_print(t, "print");
	assert_int_equal(t->status, 2);
}

static void
make_flow(struct fs_flow *f, unsigned i)
{
	uint8_t src[4] = { 10, 1, 0, (uint8_t)i };
	uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	fs_flow_clear(f);
	f->flow_type = FS_FLOW_IPFIX;
	f->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_DST_PORT | FS_F_PROTO | FS_F_BYTES |
		     FS_F_PACKETS;
	fs_addr_set_v4(&f->src_addr, src);
	fs_addr_set_v6(&f->dst_addr, dst);
	f->dst_port = (uint16_t)(i % 2 ? 53 : 443);
	f->proto = (uint8_t)(i % 2 ? 17 : 6);
	f->bytes = 100 * i;
	f->packets = i;
	f->time_received_ns = 1700000000000000000LL;
}

static void
reads_archive_files(void **state)
{
	struct print_test *t = *state;
	struct fs_archive_options opt = { .rotate_bytes = 200 };
	struct fs_archive_writer *w;
	struct fs_flow_codec *codec;
	char args[256], err[256], *by_file;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];

	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	opt.dir = t->dir;
	assert_int_equal(fs_archive_writer_new(&w, &opt, err, sizeof(err)), 0);
	for (unsigned i = 1; i <= 10; i++) {
		struct fs_flow f;
		size_t len;

		make_flow(&f, i);
		assert_int_equal(fs_flow_codec_encode(codec, &f, buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_archive_writer_append(w, buf, len, 1700000000000000000LL), 0);
	}
	assert_int_equal(fs_archive_writer_close(w), 0);
	assert_true(fs_archive_writer_stats(w)->files_closed > 1);
	fs_archive_writer_free(w);
	fs_flow_codec_free(codec);

	/* The folder stands for its files in time order. */
	snprintf(args, sizeof(args), "print --format csv --fields src,dst,bytes -f 'udp' %s", t->dir);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output,
		"src,dst,bytes\n"
		"10.1.0.1,[2001:db8::1]:53,100\n"
		"10.1.0.3,[2001:db8::1]:53,300\n"
		"10.1.0.5,[2001:db8::1]:53,500\n"
		"10.1.0.7,[2001:db8::1]:53,700\n"
		"10.1.0.9,[2001:db8::1]:53,900\n");
	by_file = strdup(t->output);
	assert_non_null(by_file);
	snprintf(args, sizeof(args), "print --format csv --fields src,dst,bytes -f 'udp' %s/flows-*.avro",
		 t->dir);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output, by_file);
	free(by_file);

	/* `flowsift report` reads a folder the same way. */
	snprintf(args, sizeof(args), "report ports --format csv %s/flows-*.avro", t->dir);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	if (strstr(t->output, "53") == NULL)
		fail_msg("report of the files printed: %s", t->output);
	by_file = strdup(t->output);
	assert_non_null(by_file);
	snprintf(args, sizeof(args), "report ports --format csv %s", t->dir);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output, by_file);
	free(by_file);
}

/* Options after the file names apply, as GNU getopt permutes argv. */
static void
options_after_files(void **state)
{
	struct print_test *t = *state;
	char args[256], err[4096], path[128], *before;
	FILE *f;

	snprintf(args, sizeof(args), "print --format csv --fields src,dst,bytes %s", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 4);
	before = strdup(t->output);
	assert_non_null(before);
	snprintf(args, sizeof(args), "print %s --format csv --fields src,dst,bytes", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output, before);
	free(before);

	snprintf(args, sizeof(args), "decode %s --stats", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 3);
	read_stderr(t, err, sizeof(err));
	assert_non_null(strstr(err, "files=1 "));
	if (strstr(err, "files_failed") != NULL)
		fail_msg("decode printed: %s", err);
	assert_non_null(strstr(err, "netflow_v5"));

	snprintf(args, sizeof(args), "decode %s --no-such-option", t->v5_path);
	run_print(t, args);
	assert_int_equal(t->status, 2);
	read_stderr(t, err, sizeof(err));
	assert_non_null(strstr(err, "unknown option '--no-such-option'"));

	/* A file without flow exports is an error, as it is for flowsift-ingest --pcap. */
	snprintf(path, sizeof(path), "%s/request.raw", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "decode %s", path);
	run_print(t, args);
	assert_int_equal(t->status, 1);
	read_stderr(t, err, sizeof(err));
	assert_non_null(strstr(err, "flows=0 invalid=1"));
	assert_non_null(strstr(err, "the input gave no flow and no sFlow counter sample"));
}

/* `print --fields help` lists the columns without any input. */
static void
fields_help_needs_no_input(void **state)
{
	struct print_test *t = *state;

	run_print(t, "print --fields help");
	assert_int_equal(t->status, 0);
	assert_true(strncmp(t->output, "columns: ", 9) == 0);
	assert_non_null(strstr(t->output, ",src_addr,"));
	assert_non_null(strstr(t->output, "\naliases: time_flow_start_ns=start,"));
}

/* Starts the embedded broker with topic flows.print of the given number of partitions. */
static pid_t
start_broker(struct print_test *t, const char *partitions, char *bootstrap, size_t len)
{
	char addr_file[128], log_path[128];
	pid_t pid;
	FILE *f;

	snprintf(addr_file, sizeof(addr_file), "%s/broker.addr", t->dir);
	snprintf(log_path, sizeof(log_path), "%s/broker.log", t->dir);
	char *argv[] = { "flowsift-broker", "--addr-file", addr_file, "--partitions", (char *)partitions,
			 "--topic", "flows.print", NULL };
	pid = fs_test_spawn("flowsift-broker", argv, NULL, log_path);
	assert_true(pid > 0);
	t->broker = pid;
	assert_int_equal(fs_test_wait_file(addr_file, 10000), 0);
	f = fopen(addr_file, "r");
	assert_non_null(f);
	assert_non_null(fgets(bootstrap, (int)len, f));
	fclose(f);
	bootstrap[strcspn(bootstrap, "\r\n")] = '\0';
	return pid;
}

static void
produce_flows(struct fs_producer *producer, struct fs_flow_codec *codec, unsigned first,
	      unsigned count)
{
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];

	for (unsigned i = first; i < first + count; i++) {
		struct fs_flow f;
		size_t len;

		make_flow(&f, i);
		assert_int_equal(fs_flow_codec_encode(codec, &f, buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_producer_send(producer, "flows.print", NULL, 0, buf, len), 0);
	}
	assert_int_equal(fs_producer_flush(producer, 10000), 0);
}

/* Produces one alert record to flows.print, as if the topic mixed alerts with flows. */
static void
produce_alert(struct fs_producer *producer)
{
	struct fs_alert_codec *codec;
	struct fs_alert a;
	uint8_t msg[FS_ALERT_CODEC_MAX_LEN];
	char err[256];
	int n;

	codec = fs_alert_codec_new(err, sizeof(err));
	assert_non_null(codec);
	memset(&a, 0, sizeof(a));
	a.rule = FS_RULE_FANOUT;
	snprintf(a.message, sizeof(a.message), "fan-out");
	n = fs_alert_codec_encode(codec, &a, msg, sizeof(msg));
	assert_true(n > 0);
	assert_int_equal(fs_producer_send(producer, "flows.print", NULL, 0, msg, (size_t)n), 0);
	assert_int_equal(fs_producer_flush(producer, 10000), 0);
	fs_alert_codec_free(codec);
}

static void
reads_topic_range(void **state)
{
	struct print_test *t = *state;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	char bootstrap[256], args[512], err[256];
	struct timespec now;
	pid_t broker;

	broker = start_broker(t, "4", bootstrap, sizeof(bootstrap));
	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	producer = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	assert_non_null(producer);
	produce_flows(producer, codec, 1, 40);
	usleep(1500 * 1000);
	clock_gettime(CLOCK_REALTIME, &now);
	usleep(1500 * 1000);
	produce_flows(producer, codec, 41, 20);

	/* The whole topic, then the end of the range stops the read. */
	snprintf(args, sizeof(args),
		 "print --config /dev/null --topic flows.print --format csv --no-header --fields src_addr");
	setenv("FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS", bootstrap, 1);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 60);

	/* From a time: only the second batch. */
	snprintf(args, sizeof(args),
		 "print --config /dev/null --topic flows.print --format csv --no-header "
		 "--fields bytes --from %lld -f 'bytes >= 4100'", (long long)now.tv_sec);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 20);
	snprintf(args, sizeof(args),
		 "print --config /dev/null --topic flows.print --format csv --no-header "
		 "--fields bytes --from %lld", (long long)now.tv_sec);
	run_print(t, args);
	assert_int_equal(count_lines(t->output), 20);

	/* Up to a time: only the first batch. */
	snprintf(args, sizeof(args),
		 "print --config /dev/null --topic flows.print --format csv --no-header "
		 "--fields bytes --to %lld", (long long)now.tv_sec);
	run_print(t, args);
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 40);

	/* Offsets are clamped to what each partition holds. */
	run_print(t, "print --config /dev/null --topic flows.print --format json --offset -100000");
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 60);
	run_print(t, "print --config /dev/null --topic flows.print --format json --offset 100000");
	assert_int_equal(t->status, 0);
	assert_int_equal(count_lines(t->output), 0);

	/* A range after the last message is empty. */
	run_print(t, "print --config /dev/null --topic flows.print --format csv --no-header "
		     "--from 2100-01-01T00:00:00Z");
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output, "");

	run_print(t, "print --config /dev/null --topic flows.print --from yesterday");
	assert_int_equal(t->status, 2);
	unsetenv("FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS");

	fs_producer_close(producer, 5000, NULL);
	fs_flow_codec_free(codec);
	assert_int_equal(fs_test_stop(broker, 5000), 0);
	t->broker = 0;
}


static void
reads_topic_offsets(void **state)
{
	struct print_test *t = *state;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	char bootstrap[256], err[256];
	pid_t broker;

	broker = start_broker(t, "1", bootstrap, sizeof(bootstrap));
	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	producer = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	assert_non_null(producer);
	produce_flows(producer, codec, 1, 10);
	setenv("FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS", bootstrap, 1);

	run_print(t, "print --config /dev/null --topic flows.print --format csv --no-header "
		     "--fields bytes --offset -2");
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output, "900\n1000\n");
	run_print(t, "print --config /dev/null --topic flows.print --format csv --no-header "
		     "--fields bytes --offset 7");
	assert_int_equal(t->status, 0);
	assert_string_equal(t->output, "800\n900\n1000\n");
	run_print(t, "print --config /dev/null --topic flows.print --offset x");
	assert_int_equal(t->status, 2);

	/* A mistyped topic is an error, not an empty topic, and is not created. */
	for (int i = 0; i < 2; i++) {
		char text[1024];

		run_print(t, "print --config /dev/null --topic flows.prnit");
		assert_int_equal(t->status, 1);
		read_stderr(t, text, sizeof(text));
		assert_non_null(strstr(text, "topic 'flows.prnit' not found"));
	}
	unsetenv("FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS");

	fs_producer_close(producer, 5000, NULL);
	fs_flow_codec_free(codec);
	assert_int_equal(fs_test_stop(broker, 5000), 0);
	t->broker = 0;
}

/* Runs `flowsift capture` on topic into DIR/archive until stopped by SIGTERM. */
static pid_t
start_capture_topic(struct print_test *t, const char *bootstrap_env, const char *topic)
{
	char dir[128], log_path[128];
	static char env_entry[300];
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/archive", t->dir);
	snprintf(log_path, sizeof(log_path), "%s/capture.log", t->dir);
	snprintf(env_entry, sizeof(env_entry), "%s", bootstrap_env);
	char *env[] = { env_entry, NULL };
	char config[128];
	FILE *f;

	/*
	 * The mock cluster delays a rejoin by the departed member's session
	 * timeout, so a short one keeps the restart quick.
	 */
	snprintf(config, sizeof(config), "%s/capture.conf", t->dir);
	f = fopen(config, "w");
	assert_non_null(f);
	fputs("kafka.session.timeout.ms = 6000\n", f);
	fclose(f);
	char *argv[] = { "flowsift", "capture", "--config", config, "--topic", (char *)topic,
			 "--dir", dir, "--sync-ms", "100", "--rotate-seconds", "1",
			 "--group", "fstest-capture", NULL };
	pid = fs_test_spawn("flowsift", argv, env, log_path);
	assert_true(pid > 0);
	t->capture = pid;
	return pid;
}

static pid_t
start_capture(struct print_test *t, const char *bootstrap_env)
{
	return start_capture_topic(t, bootstrap_env, "flows.print");
}

/* Waits until `flowsift print DIR/archive` shows want flows, or 30 s. */
static void
wait_archived(struct print_test *t, int want)
{
	char args[256];

	snprintf(args, sizeof(args), "print --format csv --no-header --fields src_addr %s/archive",
		 t->dir);
	for (int i = 0; i < 300; i++) {
		run_print(t, args);
		if (count_lines(t->output) >= want)
			break;
		usleep(100 * 1000);
	}
	if (count_lines(t->output) != want) {
		char log[8192];

		snprintf(args, sizeof(args), "%s/capture.log", t->dir);
		FILE *f = fopen(args, "r");
		size_t n = f ? fread(log, 1, sizeof(log) - 1, f) : 0;

		log[n] = '\0';
		if (f)
			fclose(f);
		fprintf(stderr, "--- capture.log\n%s", log);
	}
	assert_int_equal(count_lines(t->output), want);
}

static void
capture_keeps_topic(void **state)
{
	struct print_test *t = *state;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	char bootstrap[256], env[300], err[256], path[128];
	pid_t broker, capture;

	snprintf(path, sizeof(path), "%s/archive", t->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	broker = start_broker(t, "4", bootstrap, sizeof(bootstrap));
	snprintf(env, sizeof(env), "FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS=%s", bootstrap);
	codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(codec);
	producer = fs_producer_new(bootstrap, NULL, err, sizeof(err));
	assert_non_null(producer);
	produce_flows(producer, codec, 1, 50);
	produce_alert(producer);

	/* Files appear once closed, every second here.  The alert is skipped, counted and named. */
	capture = start_capture(t, env);
	wait_archived(t, 50);
	assert_int_equal(fs_test_stop(capture, 10000), 0);
	t->capture = 0;
	snprintf(path, sizeof(path), "%s/capture.log", t->dir);
	assert_false(fs_test_file_contains(path, "not found"));
	assert_true(fs_test_file_contains(path, "topic flows.print carries alerts, which are not "
						"flows"));
	assert_true(fs_test_file_contains(path, "rejected=0 unknown_schema=0 skipped_alerts=1 "));

	/* A restart resumes after the committed offsets: no flow twice. */
	produce_flows(producer, codec, 51, 10);
	capture = start_capture(t, env);
	wait_archived(t, 60);
	usleep(2000 * 1000);
	assert_int_equal(fs_test_stop(capture, 10000), 0);
	t->capture = 0;
	wait_archived(t, 60);

	fs_producer_close(producer, 5000, NULL);
	fs_flow_codec_free(codec);
	assert_int_equal(fs_test_stop(broker, 5000), 0);
	t->broker = 0;
}

/*
 * A topic that does not exist gets one warning that names it and the Kafka
 * servers, and capture keeps waiting for it until SIGTERM.
 */
static void
capture_warns_missing_topic(void **state)
{
	struct print_test *t = *state;
	char bootstrap[256], env[300], log_path[128], warning[512];
	pid_t capture;

	start_broker(t, "1", bootstrap, sizeof(bootstrap));
	snprintf(env, sizeof(env), "FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS=%s", bootstrap);
	snprintf(log_path, sizeof(log_path), "%s/capture.log", t->dir);
	snprintf(warning, sizeof(warning), "topic flows.missing not found on Kafka servers %s",
		 bootstrap);
	capture = start_capture_topic(t, env, "flows.missing");
	assert_true(fs_test_wait_file_contains(log_path, warning, 30000));
	assert_true(fs_test_wait_file_contains(log_path, "keeping topic flows.missing", 30000));
	assert_int_equal(kill(capture, 0), 0);
	assert_int_equal(fs_test_stop(capture, 10000), 0);
	t->capture = 0;
	assert_true(fs_test_file_contains(log_path, "level=warning"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(table_is_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(json_matches_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(csv_with_header_and_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_field_names_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_field_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(filter_selects_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_filter_shows_caret, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(cut_capture_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(reads_archive_files, setup, teardown),
		cmocka_unit_test_setup_teardown(options_after_files, setup, teardown),
		cmocka_unit_test_setup_teardown(fields_help_needs_no_input, setup, teardown),
		cmocka_unit_test_setup_teardown(reads_topic_range, setup, teardown),
		cmocka_unit_test_setup_teardown(reads_topic_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(capture_keeps_topic, setup, teardown),
		cmocka_unit_test_setup_teardown(capture_warns_missing_topic, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
