/*
 * test_ingest_exporters.c - per-exporter loss accounting of flowsift-ingest:
 * the loss lines of the ingest log and the per-exporter series on /metrics.
 * NetFlow v5, v9 and IPFIX datagrams with deliberate sequence gaps come
 * from 127.0.0.1 and 127.0.0.2 to a real ingest process.
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

#include "support/ingest_harness.h"
#include "support/wire.h"

#define WAIT_MS 30000
#define MAX_LOG_LINES 64

/* A datagram under construction. */
struct datagram {
	uint8_t bytes[1400];
	size_t len;
	size_t set_start;
};

/* sourceIPv4Address, destinationIPv4Address, octetDeltaCount: 12-byte records. */
static const uint16_t fields[][2] = { { 8, 4 }, { 12, 4 }, { 1, 4 } };
#define FIELD_COUNT 3
#define TEMPLATE_ID 256

/* Binds a UDP socket to 127.0.0.last on a free port; stores the port in *port. */
static int
socket_from(uint8_t last, uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(0x7f000000u | last);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
set_begin(struct datagram *d, uint16_t set_id)
{
	d->set_start = d->len;
	fs_test_put16(d->bytes + d->len, set_id);
	d->len += 4;
}

/* Closes the set; header_length_at is where the datagram's own length goes (IPFIX), or 0. */
static void
set_end(struct datagram *d, size_t header_length_at)
{
	fs_test_put16(d->bytes + d->set_start + 2, (uint16_t)(d->len - d->set_start));
	if (header_length_at)
		fs_test_put16(d->bytes + header_length_at, (uint16_t)d->len);
}

static void
add_template(struct datagram *d, uint16_t set_id, size_t header_length_at)
{
	set_begin(d, set_id);
	fs_test_put16(d->bytes + d->len, TEMPLATE_ID);
	fs_test_put16(d->bytes + d->len + 2, FIELD_COUNT);
	d->len += 4;
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		fs_test_put16(d->bytes + d->len, fields[i][0]);
		fs_test_put16(d->bytes + d->len + 2, fields[i][1]);
		d->len += 4;
	}
	set_end(d, header_length_at);
}

/* Adds a data set of records 12-byte records: 10.0.0.r -> 10.0.1.r, 100 * r octets. */
static void
add_data(struct datagram *d, size_t records, size_t header_length_at)
{
	set_begin(d, TEMPLATE_ID);
	for (size_t r = 1; r <= records; r++) {
		fs_test_put32(d->bytes + d->len, 0x0a000000u | (uint32_t)r);
		fs_test_put32(d->bytes + d->len + 4, 0x0a000100u | (uint32_t)r);
		fs_test_put32(d->bytes + d->len + 8, 100u * (uint32_t)r);
		d->len += 12;
	}
	set_end(d, header_length_at);
}

/* Sends an IPFIX message of domain with sequence number sequence and records data records. */
static void
send_ipfix(int fd, uint16_t port, uint32_t domain, uint32_t sequence, int with_template,
	   size_t records)
{
	struct datagram d;

	memset(&d, 0, sizeof(d));
	fs_test_put16(d.bytes, 10);
	fs_test_put32(d.bytes + 4, (uint32_t)time(NULL));
	fs_test_put32(d.bytes + 8, sequence);
	fs_test_put32(d.bytes + 12, domain);
	d.len = 16;
	if (with_template)
		add_template(&d, 2, 2);
	add_data(&d, records, 2);
	fstest_send(fd, port, d.bytes, d.len);
}

/* Sends a NetFlow v9 packet of source_id with sequence number sequence (packets before it). */
static void
send_v9(int fd, uint16_t port, uint32_t source_id, uint32_t sequence, int with_template,
	size_t records)
{
	struct datagram d;

	memset(&d, 0, sizeof(d));
	fs_test_put16(d.bytes, 9);
	fs_test_put16(d.bytes + 2, (uint16_t)(records + (with_template ? 1 : 0)));
	fs_test_put32(d.bytes + 4, 100000);
	fs_test_put32(d.bytes + 8, (uint32_t)time(NULL));
	fs_test_put32(d.bytes + 12, sequence);
	fs_test_put32(d.bytes + 16, source_id);
	d.len = 20;
	if (with_template)
		add_template(&d, 0, 0);
	add_data(&d, records, 0);
	fstest_send(fd, port, d.bytes, d.len);
}

/* Sends a NetFlow v5 datagram with flow_sequence sequence (flows before it) and count flows. */
static void
send_v5(int fd, uint16_t port, uint32_t sequence, uint16_t count)
{
	struct datagram d;

	memset(&d, 0, sizeof(d));
	fs_test_put16(d.bytes, 5);
	fs_test_put16(d.bytes + 2, count);
	fs_test_put32(d.bytes + 4, 100000);
	fs_test_put32(d.bytes + 8, (uint32_t)time(NULL));
	fs_test_put32(d.bytes + 16, sequence);
	d.len = 24;
	for (uint16_t r = 1; r <= count; r++) {
		uint8_t *rec = d.bytes + d.len;

		fs_test_put32(rec, 0x0a000000u | r);       /* srcaddr */
		fs_test_put32(rec + 4, 0x0a000100u | r);   /* dstaddr */
		fs_test_put32(rec + 16, 1);                /* dPkts */
		fs_test_put32(rec + 20, 100u * r);         /* dOctets */
		fs_test_put32(rec + 24, 99000);            /* first */
		fs_test_put32(rec + 28, 99500);            /* last */
		fs_test_put16(rec + 32, 1000);             /* srcport */
		fs_test_put16(rec + 34, 80);               /* dstport */
		rec[38] = 6;                              /* prot */
		d.len += 48;
	}
	fstest_send(fd, port, d.bytes, d.len);
}

/*
 * Sends an sFlow v5 datagram of sub-agent 3 (agent 127.0.0.2) with datagram
 * sequence number sequence, one flow sample of source 0:7 numbered
 * flow_sequence and one counter sample of source 0:7 numbered
 * counter_sequence, neither with records.
 */
static void
send_sflow(int fd, uint16_t port, uint32_t sequence, uint32_t flow_sequence,
	   uint32_t counter_sequence)
{
	struct datagram d;
	uint8_t *p = d.bytes;

	memset(&d, 0, sizeof(d));
	fs_test_put32(p, 5);
	fs_test_put32(p + 4, 1);                   /* agent address type: IPv4 */
	fs_test_put32(p + 8, 0x7f000002u);
	fs_test_put32(p + 12, 3);                  /* sub_agent_id */
	fs_test_put32(p + 16, sequence);
	fs_test_put32(p + 20, 100000);             /* uptime */
	fs_test_put32(p + 24, 2);                  /* num_samples */
	p += 28;
	fs_test_put32(p, 1);                       /* flow sample */
	fs_test_put32(p + 4, 32);
	fs_test_put32(p + 8, flow_sequence);
	fs_test_put32(p + 12, 7);                  /* source_id 0:7 */
	fs_test_put32(p + 16, 100);                /* sampling_rate */
	fs_test_put32(p + 20, 1000);               /* sample_pool */
	fs_test_put32(p + 24, 0);                  /* drops */
	fs_test_put32(p + 28, 7);                  /* input */
	fs_test_put32(p + 32, 8);                  /* output */
	fs_test_put32(p + 36, 0);                  /* num_records */
	p += 40;
	fs_test_put32(p, 2);                       /* counter sample */
	fs_test_put32(p + 4, 12);
	fs_test_put32(p + 8, counter_sequence);
	fs_test_put32(p + 12, 7);
	fs_test_put32(p + 16, 0);                  /* num_records */
	p += 20;
	d.len = (size_t)(p - d.bytes);
	fstest_send(fd, port, d.bytes, d.len);
}

/* The lines of a log file that contain "sequence loss:", in order. */
struct loss_lines {
	char lines[MAX_LOG_LINES][1024];
	size_t count;
};

static void
read_loss_lines(const char *path, struct loss_lines *out)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	out->count = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && out->count < MAX_LOG_LINES) {
		if (strstr(line, "sequence loss:"))
			snprintf(out->lines[out->count++], sizeof(out->lines[0]), "%s", line);
	}
	fclose(f);
}

/* Returns the index of the first loss line that contains text, or -1. */
static int
find_line(const struct loss_lines *log, const char *text)
{
	for (size_t i = 0; i < log->count; i++) {
		if (strstr(log->lines[i], text))
			return (int)i;
	}
	return -1;
}

struct exporters {
	int a;          /* 127.0.0.1 */
	int b;          /* 127.0.0.2 */
	uint16_t a_port;
	uint16_t b_port;
};

/*
 * Sends 14 datagrams.  The label sets are first seen in this order:
 *
 *   127.0.0.1 IPFIX domain 1      6 records, 7 records lost in one gap
 *   127.0.0.2 IPFIX domain 1      5 records, 3 records lost in one gap
 *   127.0.0.1 v9 source id 5      3 packets, 2 packets lost in one gap
 *   127.0.0.2 v5 engine 0/0       4 flows, 10 flows lost in one gap
 *   127.0.0.2 v9 source id 7      3 packets, no gap
 */
static void
send_gaps(const struct exporters *e, uint16_t port)
{
	send_ipfix(e->a, port, 1, 0, 1, 3);
	send_ipfix(e->a, port, 1, 3, 0, 2);
	send_ipfix(e->a, port, 1, 12, 0, 1);

	send_ipfix(e->b, port, 1, 100, 1, 2);
	send_ipfix(e->b, port, 1, 102, 0, 2);
	send_ipfix(e->b, port, 1, 107, 0, 1);

	send_v9(e->a, port, 5, 0, 1, 2);
	send_v9(e->a, port, 5, 1, 0, 2);
	send_v9(e->a, port, 5, 4, 0, 1);

	send_v5(e->b, port, 0, 2);
	send_v5(e->b, port, 12, 2);

	send_v9(e->b, port, 7, 0, 1, 1);
	send_v9(e->b, port, 7, 1, 0, 1);
	send_v9(e->b, port, 7, 2, 0, 1);
}

#define SERIES(name, labels) "flowsift_ingest_exporter_" name "{" labels "}"
#define A_IPFIX "exporter=\"127.0.0.1\",domain=\"1\",protocol=\"ipfix\""
#define B_IPFIX "exporter=\"127.0.0.2\",domain=\"1\",protocol=\"ipfix\""
#define A_V9 "exporter=\"127.0.0.1\",domain=\"5\",protocol=\"netflow_v9\""
#define OTHER_V5 "exporter=\"other\",domain=\"other\",protocol=\"netflow_v5\""
#define OTHER_V9 "exporter=\"other\",domain=\"other\",protocol=\"netflow_v9\""

/* Per-exporter series with values and units, and the cap on label sets. */
static void
metrics_per_exporter_capped(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(
		c, "ingest", "ingest.metrics.exporters.max = 3\ningest.session.key = address_port\n"
		"kafka.topic.templates = \"\"\n");
	uint16_t m = in->metrics_port;
	struct exporters e;

	(void)state;
	e.a = socket_from(1, &e.a_port);
	e.b = socket_from(2, &e.b_port);
	send_gaps(&e, in->udp_port);

	/* The last label set sent is one of the two beyond the cap. */
	if (fstest_wait_metric(m, SERIES("datagrams_total", OTHER_V9), 3, WAIT_MS) != 3)
		fstest_print_log(c, "ingest");
	assert_int_equal(fstest_metric(m, SERIES("datagrams_total", OTHER_V9)), 3);
	assert_int_equal(fstest_metric(m, SERIES("records_total", OTHER_V9)), 3);
	assert_int_equal(fstest_metric(m, SERIES("sequence_gaps_total", OTHER_V9 ",unit=\"packets\"")), 0);

	/* The first three label sets have series of their own. */
	assert_int_equal(fstest_metric(m, SERIES("datagrams_total", A_IPFIX)), 3);
	assert_int_equal(fstest_metric(m, SERIES("records_total", A_IPFIX)), 6);
	assert_int_equal(fstest_metric(m, SERIES("sequence_gaps_total", A_IPFIX ",unit=\"records\"")), 1);
	assert_int_equal(fstest_metric(m, SERIES("sequence_lost_total", A_IPFIX ",unit=\"records\"")), 7);
	assert_int_equal(fstest_metric(m, SERIES("records_total", B_IPFIX)), 5);
	assert_int_equal(fstest_metric(m, SERIES("sequence_lost_total", B_IPFIX ",unit=\"records\"")), 3);
	assert_int_equal(fstest_metric(m, SERIES("datagrams_total", A_V9)), 3);
	assert_int_equal(fstest_metric(m, SERIES("sequence_gaps_total", A_V9 ",unit=\"packets\"")), 1);
	assert_int_equal(fstest_metric(m, SERIES("sequence_lost_total", A_V9 ",unit=\"packets\"")), 2);

	/* v5 from 127.0.0.2 came fourth: summed into other, in flows. */
	assert_int_equal(fstest_metric(m, SERIES("datagrams_total", OTHER_V5)), 2);
	assert_int_equal(fstest_metric(m, SERIES("records_total", OTHER_V5)), 4);
	assert_int_equal(fstest_metric(m, SERIES("sequence_gaps_total", OTHER_V5 ",unit=\"flows\"")), 1);
	assert_int_equal(fstest_metric(m, SERIES("sequence_lost_total", OTHER_V5 ",unit=\"flows\"")), 10);
	assert_int_equal(fstest_metric(m, SERIES("datagrams_total",
						 "exporter=\"127.0.0.2\",domain=\"0\",protocol=\"netflow_v5\"")), -1);
	assert_int_equal(fstest_metric(m, SERIES("datagrams_total",
						 "exporter=\"127.0.0.2\",domain=\"7\",protocol=\"netflow_v9\"")), -1);
	/* No other series for a protocol that stayed under the cap. */
	assert_int_equal(fstest_metric(m, SERIES("datagrams_total",
						 "exporter=\"other\",domain=\"other\",protocol=\"ipfix\"")), -1);

	/* The totals agree with the per-exporter series: 7 + 3 + 2 + 10 units in 4 gaps. */
	assert_int_equal(fstest_metric(m, "flowsift_ingest_sequence_gaps_total"), 4);
	assert_int_equal(fstest_metric(m, "flowsift_ingest_sequence_lost_total"), 22);
	close(e.a);
	close(e.b);
	fstest_cluster_stop(c);
}

/* The loss lines at exit: largest new loss first, capped, with the rest counted. */
static void
log_lines_ranked_and_capped(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(
		c, "ingest", "ingest.stats.interval = 0\ningest.stats.exporters.max = 3\n"
		"ingest.session.key = address_port\nkafka.topic.templates = \"\"\n");
	struct loss_lines log;
	struct exporters e;
	char path[128], expected[256];

	(void)state;
	e.a = socket_from(1, &e.a_port);
	e.b = socket_from(2, &e.b_port);
	send_gaps(&e, in->udp_port);
	assert_int_equal(fstest_wait_metric(in->metrics_port, "flowsift_ingest_datagrams_decoded_total",
					    14, WAIT_MS), 14);
	assert_int_equal(fstest_ingest_stop(in), 0);
	read_loss_lines(fstest_log_path(c, "ingest", path, sizeof(path)), &log);
	if (log.count != 4)
		fstest_print_log(c, "ingest");
	assert_int_equal(log.count, 4);

	snprintf(expected, sizeof(expected),
		 "exporter=127.0.0.2 port=%u domain=0 protocol=netflow_v5 new_gaps=1 new_lost=10 "
		 "unit=flows gaps=1 lost=10", e.b_port);
	assert_int_equal(find_line(&log, expected), 0);
	snprintf(expected, sizeof(expected),
		 "exporter=127.0.0.1 port=%u domain=1 protocol=ipfix new_gaps=1 new_lost=7 "
		 "unit=records gaps=1 lost=7", e.a_port);
	assert_int_equal(find_line(&log, expected), 1);
	snprintf(expected, sizeof(expected),
		 "exporter=127.0.0.2 port=%u domain=1 protocol=ipfix new_gaps=1 new_lost=3 "
		 "unit=records gaps=1 lost=3", e.b_port);
	assert_int_equal(find_line(&log, expected), 2);
	/* The v9 exporter with 2 packets lost is left out, and the one without a gap has no line. */
	assert_int_equal(find_line(&log, "sequence loss: exporters_not_listed=1 "
				   "(ingest.stats.exporters.max = 3)"), 3);
	assert_int_equal(find_line(&log, "protocol=netflow_v9"), -1);
	close(e.a);
	close(e.b);
	fstest_cluster_stop(c);
}

#define B_SFLOW "exporter=\"127.0.0.2\",domain=\"3\",protocol=\"sflow_v5\""

/* sFlow loss in datagrams and in per-source flow and counter samples, in the series and the log. */
static void
sflow_datagrams_and_samples(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(
		c, "ingest", "ingest.stats.interval = 0\nkafka.topic.templates = \"\"\n");
	uint16_t m = in->metrics_port;
	struct loss_lines log;
	uint16_t b_port;
	int b = socket_from(2, &b_port);
	char path[128], expected[512];

	(void)state;
	/* Datagrams 0, 1, 5: 3 lost.  Flow samples 10, 11, 16: 4 lost.  Counter samples 20, 23, 24: 2 lost. */
	send_sflow(b, in->udp_port, 0, 10, 20);
	send_sflow(b, in->udp_port, 1, 11, 23);
	send_sflow(b, in->udp_port, 5, 16, 24);
	if (fstest_wait_metric(m, SERIES("datagrams_total", B_SFLOW), 3, WAIT_MS) != 3)
		fstest_print_log(c, "ingest");
	assert_int_equal(fstest_metric(m, SERIES("datagrams_total", B_SFLOW)), 3);
	assert_int_equal(fstest_metric(m, SERIES("sequence_gaps_total", B_SFLOW ",unit=\"datagrams\"")), 1);
	assert_int_equal(fstest_metric(m, SERIES("sequence_lost_total", B_SFLOW ",unit=\"datagrams\"")), 3);
	assert_int_equal(fstest_metric(m, SERIES("sequence_gaps_total", B_SFLOW ",unit=\"flow_samples\"")), 1);
	assert_int_equal(fstest_metric(m, SERIES("sequence_lost_total", B_SFLOW ",unit=\"flow_samples\"")), 4);
	assert_int_equal(fstest_metric(m, SERIES("sequence_gaps_total", B_SFLOW ",unit=\"counter_samples\"")), 1);
	assert_int_equal(fstest_metric(m, SERIES("sequence_lost_total", B_SFLOW ",unit=\"counter_samples\"")), 2);

	assert_int_equal(fstest_ingest_stop(in), 0);
	read_loss_lines(fstest_log_path(c, "ingest", path, sizeof(path)), &log);
	if (log.count != 1)
		fstest_print_log(c, "ingest");
	assert_int_equal(log.count, 1);
	snprintf(expected, sizeof(expected),
		 "exporter=127.0.0.2 port=%u domain=3 protocol=sflow_v5 new_gaps=1 new_lost=3 "
		 "unit=datagrams gaps=1 lost=3 new_flow_sample_gaps=1 new_flow_samples_lost=4 "
		 "new_counter_sample_gaps=1 new_counter_samples_lost=2 flow_sample_gaps=1 "
		 "flow_samples_lost=4 counter_sample_gaps=1 counter_samples_lost=2", b_port);
	assert_int_equal(find_line(&log, expected), 0);
	close(b);
	fstest_cluster_stop(c);
}

/* Waits until a loss line contains text; returns its index or -1 after WAIT_MS. */
static int
wait_for_line(const char *path, const char *text, struct loss_lines *log)
{
	for (int waited = 0; waited < WAIT_MS; waited += 100) {
		int i;

		read_loss_lines(path, log);
		i = find_line(log, text);
		if (i >= 0)
			return i;
		usleep(100000);
	}
	return -1;
}

/*
 * With several receive threads and a stats interval, each interval logs only
 * the loss that is new since the previous one.
 */
static void
log_lines_every_interval(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(
		c, "ingest", "ingest.stats.interval = 1\ningest.threads = 2\n"
		"ingest.session.key = address_port\nkafka.topic.templates = \"\"\n");
	struct loss_lines log;
	struct exporters e;
	char path[128], expected[256];
	size_t lines_of_b = 0;

	(void)state;
	fstest_log_path(c, "ingest", path, sizeof(path));
	e.a = socket_from(1, &e.a_port);
	e.b = socket_from(2, &e.b_port);
	send_v9(e.a, in->udp_port, 9, 0, 1, 1);
	send_v9(e.a, in->udp_port, 9, 3, 0, 1);
	send_ipfix(e.b, in->udp_port, 4, 0, 1, 2);
	send_ipfix(e.b, in->udp_port, 4, 6, 0, 1);
	snprintf(expected, sizeof(expected),
		 "exporter=127.0.0.1 port=%u domain=9 protocol=netflow_v9 new_gaps=1 new_lost=2 "
		 "unit=packets gaps=1 lost=2", e.a_port);
	if (wait_for_line(path, expected, &log) < 0)
		fstest_print_log(c, "ingest");
	assert_true(find_line(&log, expected) >= 0);
	snprintf(expected, sizeof(expected),
		 "exporter=127.0.0.2 port=%u domain=4 protocol=ipfix new_gaps=1 new_lost=4 "
		 "unit=records gaps=1 lost=4", e.b_port);
	assert_true(wait_for_line(path, expected, &log) >= 0);

	/* A second gap of 127.0.0.1 is logged as new in a later interval, with the totals. */
	send_v9(e.a, in->udp_port, 9, 10, 0, 1);
	snprintf(expected, sizeof(expected),
		 "exporter=127.0.0.1 port=%u domain=9 protocol=netflow_v9 new_gaps=1 new_lost=6 "
		 "unit=packets gaps=2 lost=8", e.a_port);
	if (wait_for_line(path, expected, &log) < 0)
		fstest_print_log(c, "ingest");
	assert_true(find_line(&log, expected) >= 0);
	/* 127.0.0.2 had no new gap, so it has only its first line. */
	snprintf(expected, sizeof(expected), "exporter=127.0.0.2 port=%u", e.b_port);
	for (size_t i = 0; i < log.count; i++)
		lines_of_b += strstr(log.lines[i], expected) != NULL;
	assert_int_equal(lines_of_b, 1);
	close(e.a);
	close(e.b);
	fstest_cluster_stop(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metrics_per_exporter_capped),
		cmocka_unit_test(log_lines_ranked_and_capped),
		cmocka_unit_test(log_lines_every_interval),
		cmocka_unit_test(sflow_datagrams_and_samples),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
