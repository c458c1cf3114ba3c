/*
 * test_ingest_scale.c - flowsift-ingest at scale: several receive threads on
 * one port with per-exporter steering, templates shared between two ingest
 * processes through the embedded broker, and the IPFIX-over-TCP counters on
 * /metrics.  Runs the real binaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "net/udp_receiver.h"
#include "support/ingest_harness.h"
#include "support/process.h"
#include "support/wire.h"

#define WAIT_MS 20000

/* An IPFIX message under construction. */
struct message {
	uint8_t bytes[1400];
	size_t len;
	size_t set_start;
};

struct field {
	uint16_t id;
	uint16_t length;
};

/* sourceIPv4Address, destinationIPv4Address, octetDeltaCount: 12-byte records. */
static const struct field small_fields[] = { { 8, 4 }, { 12, 4 }, { 1, 4 } };
/* The same plus packetDeltaCount, ports, protocol and ToS: 22-byte records. */
static const struct field large_fields[] = {
	{ 8, 4 }, { 12, 4 }, { 1, 4 }, { 2, 4 }, { 7, 2 }, { 11, 2 }, { 4, 1 }, { 5, 1 },
};

static void
message_begin(struct message *m, uint32_t sequence, uint32_t domain)
{
	memset(m, 0, sizeof(*m));
	fs_test_put16(m->bytes, 10);
	fs_test_put32(m->bytes + 4, (uint32_t)time(NULL));
	fs_test_put32(m->bytes + 8, sequence);
	fs_test_put32(m->bytes + 12, domain);
	m->len = 16;
}

static void
set_begin(struct message *m, uint16_t set_id)
{
	m->set_start = m->len;
	fs_test_put16(m->bytes + m->len, set_id);
	m->len += 4;
}

static void
set_end(struct message *m)
{
	fs_test_put16(m->bytes + m->set_start + 2, (uint16_t)(m->len - m->set_start));
	fs_test_put16(m->bytes + 2, (uint16_t)m->len);
}

static void
add_template(struct message *m, uint16_t template_id, const struct field *fields, size_t count)
{
	set_begin(m, 2);
	fs_test_put16(m->bytes + m->len, template_id);
	fs_test_put16(m->bytes + m->len + 2, (uint16_t)count);
	m->len += 4;
	for (size_t i = 0; i < count; i++) {
		fs_test_put16(m->bytes + m->len, fields[i].id);
		fs_test_put16(m->bytes + m->len + 2, fields[i].length);
		m->len += 4;
	}
	set_end(m);
}

/* Adds a data set of records records laid out by fields, with nonzero values. */
static void
add_data(struct message *m, uint16_t template_id, const struct field *fields, size_t count,
	 size_t records)
{
	set_begin(m, template_id);
	for (size_t r = 0; r < records; r++) {
		for (size_t i = 0; i < count; i++) {
			memset(m->bytes + m->len, 0, fields[i].length);
			m->bytes[m->len] = 10;
			m->bytes[m->len + fields[i].length - 1] = (uint8_t)(r + 1);
			m->len += fields[i].length;
		}
	}
	set_end(m);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Sends a template-only message of template 256 from fd. */
static void
send_template(int fd, uint16_t port, uint32_t sequence, const struct field *fields, size_t count)
{
	struct message m;

	message_begin(&m, sequence, 1);
	add_template(&m, 256, fields, count);
	fstest_send(fd, port, m.bytes, m.len);
}

/* Sends a data message of template 256 with records records from fd. */
static void
send_data(int fd, uint16_t port, uint32_t sequence, const struct field *fields, size_t count,
	  size_t records)
{
	struct message m;

	message_begin(&m, sequence, 1);
	add_data(&m, 256, fields, count, records);
	fstest_send(fd, port, m.bytes, m.len);
}

/* Binds a UDP socket to 127.0.0.last:0. */
static int
socket_from(uint8_t last)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(0x7f000000u | last);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

struct arrival {
	size_t receiver;
	struct fs_addr exporter;
	int count;
};

static void
record_arrival(const uint8_t *data, size_t len, const struct fs_addr *exporter, uint16_t port,
	       int64_t time_received_ns, void *opaque)
{
	struct arrival *a = opaque;

	(void)data;
	(void)len;
	(void)port;
	(void)time_received_ns;
	a->exporter = *exporter;
	a->count++;
}

/* The kernel's steering program and fs_udp_steer_index() agree, source port aside. */
static void
steering_follows_source_address(void **state)
{
	struct fs_udp_receiver *receivers[4];
	char err[256];
	uint16_t port;

	(void)state;
	assert_int_equal(fs_udp_receiver_group_new(receivers, 4, "127.0.0.1:0", 1 << 20,
						   err, sizeof(err)), 0);
	port = fs_udp_receiver_port(receivers[0], 0);
	assert_int_not_equal(port, 0);
	for (size_t r = 1; r < 4; r++)
		assert_int_equal(fs_udp_receiver_port(receivers[r], 0), port);

	for (uint8_t last = 1; last <= 24; last++) {
		struct fs_addr source;
		uint8_t bytes[4] = { 127, 0, 0, last };
		size_t expected;

		fs_addr_set_v4(&source, bytes);
		expected = fs_udp_steer_index(&source, 4);
		/* Two source ports per address: both must reach the same receiver. */
		for (int k = 0; k < 2; k++) {
			int fd = socket_from(last);
			size_t got = 4;

			fstest_send(fd, port, "x", 1);
			for (int tries = 0; tries < 200 && got == 4; tries++) {
				for (size_t r = 0; r < 4 && got == 4; r++) {
					struct arrival a = { .receiver = r };

					if (fs_udp_receiver_poll(receivers[r], 10, record_arrival, &a) > 0) {
						assert_int_equal(a.count, 1);
						assert_memory_equal(a.exporter.bytes, bytes, 4);
						got = r;
					}
				}
			}
			close(fd);
			assert_int_equal(got, expected);
		}
	}
	for (size_t r = 0; r < 4; r++)
		fs_udp_receiver_free(receivers[r]);
}

/*
 * The IPv6 branch of the steering program: datagrams from ::1 reach the
 * receiver that fs_udp_steer_index() names.  Loopback has only the one IPv6
 * address, so this checks one hash value, not the spread.
 */
/* The last warning of the udp facility and the number of such warnings. */
struct udp_warnings {
	char last[512];
	int count;
};

static void
keep_udp_warning(enum fs_log_level level, const char *facility, const char *message,
		 void *opaque)
{
	struct udp_warnings *w = opaque;

	if (level == FS_LOG_WARNING && strcmp(facility, "udp") == 0) {
		snprintf(w->last, sizeof(w->last), "%s", message);
		w->count++;
	}
}

/*
 * A receive buffer that net.core.rmem_max caps is logged once for all the
 * sockets of a group and reported smaller.
 */
static void
capped_rcvbuf_is_reported(void **state)
{
	struct fs_udp_receiver *receiver = NULL, *group[2] = { NULL, NULL };
	struct udp_warnings warning = { .count = 0 };
	char err[256];
	long long rmem_max = 0;
	FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
	int scanned = f != NULL ? fscanf(f, "%lld", &rmem_max) : 0;

	(void)state;
	if (f != NULL)
		fclose(f);
	/* A request of 1 GiB is capped only where rmem_max is smaller. */
	if (scanned != 1 || rmem_max >= (1LL << 30))
		skip();
	fs_log_set_sink(keep_udp_warning, &warning);
	assert_int_equal(fs_udp_receiver_new(&receiver, "127.0.0.1:0", 1 << 30, err, sizeof(err)),
			 0);
	fs_log_set_sink(NULL, NULL);
	/* Linux doubles the capped request for its overhead per datagram. */
	assert_true(fs_udp_receiver_rcvbuf(receiver) > 0);
	assert_true((long long)fs_udp_receiver_rcvbuf(receiver) <= 2 * rmem_max);
	assert_int_equal(warning.count, 1);
	assert_non_null(strstr(warning.last, "not the 1073741824 requested"));
	assert_non_null(strstr(warning.last, "net.core.rmem_max"));
	fs_udp_receiver_free(receiver);

	/* Two receive threads on two addresses: four sockets, one warning naming both. */
	warning.count = 0;
	fs_log_set_sink(keep_udp_warning, &warning);
	assert_int_equal(fs_udp_receiver_group_new(group, 2, "127.0.0.1:0,[::1]:0", 1 << 30, err,
						   sizeof(err)), 0);
	fs_log_set_sink(NULL, NULL);
	assert_int_equal(warning.count, 1);
	assert_non_null(strstr(warning.last, "the receive buffers of 127.0.0.1:0,[::1]:0 hold"));
	fs_udp_receiver_free(group[0]);
	fs_udp_receiver_free(group[1]);
}

/* Counts the datagrams handed over by fs_udp_receiver_poll(). */
static void
count_datagram(const uint8_t *data, size_t len, const struct fs_addr *exporter,
	       uint16_t exporter_port, int64_t time_received_ns, void *opaque)
{
	(void)data;
	(void)len;
	(void)exporter;
	(void)exporter_port;
	(void)time_received_ns;
	(*(int *)opaque)++;
}

/*
 * A burst that overflows a small receive buffer, then silence: every
 * datagram is either received or counted as a kernel drop, although no
 * datagram arrives after the drops to carry their count.
 */
static void
kernel_drops_counted_after_burst(void **state)
{
	enum { SENT = 600 };
	struct fs_udp_receiver *receiver = NULL;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	uint8_t payload[1200] = { 0 };
	char err[256];
	int received = 0, fd;

	(void)state;
	assert_int_equal(fs_udp_receiver_new(&receiver, "127.0.0.1:0", 65536, err, sizeof(err)), 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(fs_udp_receiver_port(receiver, 0));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	for (int i = 0; i < SENT; i++)
		assert_int_equal(sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&addr,
					sizeof(addr)), (ssize_t)sizeof(payload));
	close(fd);

	/* Reads until a wait times out, the moment the drop count is read. */
	while (fs_udp_receiver_poll(receiver, 200, count_datagram, &received) > 0)
		;
	assert_true(received < SENT);
	assert_int_equal(received + (int)fs_udp_receiver_stats(receiver)->kernel_drops, SENT);
	fs_udp_receiver_free(receiver);
}

static void
steering_ipv6_loopback(void **state)
{
	struct fs_udp_receiver *receivers[4];
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct fs_addr source;
	char err[256];
	size_t expected;

	(void)state;
	assert_int_equal(fs_udp_receiver_group_new(receivers, 4, "[::1]:0", 1 << 20,
						   err, sizeof(err)), 0);
	to.sin6_port = htons(fs_udp_receiver_port(receivers[0], 0));
	fs_addr_set_v6(&source, (const uint8_t *)&in6addr_loopback);
	expected = fs_udp_steer_index(&source, 4);
	for (int k = 0; k < 3; k++) {
		int fd = socket(AF_INET6, SOCK_DGRAM, 0);
		size_t got = 4;

		assert_true(fd >= 0);
		assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
		for (int tries = 0; tries < 200 && got == 4; tries++) {
			for (size_t r = 0; r < 4 && got == 4; r++) {
				struct arrival a = { .receiver = r };

				if (fs_udp_receiver_poll(receivers[r], 10, record_arrival, &a) > 0)
					got = r;
			}
		}
		close(fd);
		assert_int_equal(got, expected);
	}
	for (size_t r = 0; r < 4; r++)
		fs_udp_receiver_free(receivers[r]);
}

/* Every source port of one exporter reaches the thread that has its template. */
static void
threads_keep_exporter_together(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(c, "ingest",
						       "ingest.threads = 4\ningest.session.key = address\n"
						       "kafka.topic.templates = \"\"\n");
	int fds[8];
	uint32_t sequence = 0;

	(void)state;
	for (size_t i = 0; i < COUNT(fds); i++)
		fds[i] = fstest_udp_socket();
	send_template(fds[0], in->udp_port, sequence, small_fields, COUNT(small_fields));
	for (size_t i = 0; i < COUNT(fds); i++) {
		send_data(fds[i], in->udp_port, sequence, small_fields, COUNT(small_fields), 3);
		sequence += 3;
	}
	if (fstest_wait_metric(in->metrics_port, "flowsift_ingest_flows_decoded_total", 24,
			       WAIT_MS) != 24)
		fstest_print_log(c, "ingest");
	assert_int_equal(fstest_metric(in->metrics_port, "flowsift_ingest_flows_decoded_total"), 24);
	assert_int_equal(fstest_metric(in->metrics_port,
				       "flowsift_ingest_decode_errors_total{reason=\"no_template\"}"), 0);
	assert_int_equal(fstest_metric(in->metrics_port, "flowsift_ingest_udp_datagrams_total"), 9);
	assert_int_equal(fstest_metric(in->metrics_port, "flowsift_ingest_sequence_gaps_total"), 0);

	/* A real gap of 5 records, sent from yet another port, is seen as exactly one gap. */
	send_data(fds[3], in->udp_port, sequence + 5, small_fields, COUNT(small_fields), 1);
	assert_int_equal(fstest_wait_metric(in->metrics_port, "flowsift_ingest_sequence_gaps_total",
					    1, WAIT_MS), 1);
	assert_int_equal(fstest_metric(in->metrics_port, "flowsift_ingest_sequence_lost_total"), 5);
	assert_int_equal(fstest_metric(in->metrics_port, "flowsift_ingest_flows_decoded_total"), 25);
	for (size_t i = 0; i < COUNT(fds); i++)
		close(fds[i]);
	fstest_cluster_stop(c);
}

/* Replica B, started after A, decodes data for a template only A received, and follows changes. */
static void
templates_shared_between_replicas(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *a = fstest_ingest_start(c, "a", "ingest.threads = 2\ningest.session.key = address\n");
	struct fstest_ingest *b;
	int fd = fstest_udp_socket();

	(void)state;
	send_template(fd, a->udp_port, 0, small_fields, COUNT(small_fields));
	send_data(fd, a->udp_port, 0, small_fields, COUNT(small_fields), 2);
	assert_int_equal(fstest_wait_metric(a->metrics_port, "flowsift_ingest_flows_decoded_total",
					    2, WAIT_MS), 2);
	assert_int_equal(fstest_metric(a->metrics_port, "flowsift_ingest_templates_published_total"), 1);
	assert_int_equal(fstest_wait_metric(a->metrics_port,
					    "flowsift_ingest_templates_delivered_total", 1, WAIT_MS), 1);

	/* B loads the template before it reads its socket. */
	b = fstest_ingest_start(c, "b", "ingest.threads = 3\ningest.session.key = address\n");
	assert_int_equal(fstest_metric(b->metrics_port, "flowsift_ingest_template_topic_loaded_total"), 1);
	assert_int_equal(fstest_wait_metric(b->metrics_port,
					    "flowsift_ingest_template_topic_records_total{result=\"applied\"}",
					    1, WAIT_MS), 1);
	send_data(fd, b->udp_port, 2, small_fields, COUNT(small_fields), 3);
	if (fstest_wait_metric(b->metrics_port, "flowsift_ingest_flows_decoded_total", 3, WAIT_MS) != 3)
		fstest_print_log(c, "b");
	assert_int_equal(fstest_metric(b->metrics_port, "flowsift_ingest_flows_decoded_total"), 3);
	assert_int_equal(fstest_metric(b->metrics_port,
				       "flowsift_ingest_decode_errors_total{reason=\"no_template\"}"), 0);
	/* B learned nothing itself, so it published nothing. */
	assert_int_equal(fstest_metric(b->metrics_port, "flowsift_ingest_templates_published_total"), 0);

	/* A changed template on A reaches B: 2 records of 22 bytes, which the old layout reads as 3. */
	send_template(fd, a->udp_port, 5, large_fields, COUNT(large_fields));
	assert_int_equal(fstest_wait_metric(a->metrics_port,
					    "flowsift_ingest_templates_published_total", 2, WAIT_MS), 2);
	assert_int_equal(fstest_wait_metric(b->metrics_port,
					    "flowsift_ingest_template_topic_records_total{result=\"applied\"}",
					    2, WAIT_MS), 2);
	send_data(fd, b->udp_port, 5, large_fields, COUNT(large_fields), 2);
	assert_int_equal(fstest_wait_metric(b->metrics_port, "flowsift_ingest_flows_decoded_total",
					    5, WAIT_MS), 5);
	/* Later datagrams of the new layout decode too, without a sequence gap. */
	send_data(fd, b->udp_port, 7, large_fields, COUNT(large_fields), 1);
	assert_int_equal(fstest_wait_metric(b->metrics_port, "flowsift_ingest_flows_decoded_total",
					    6, WAIT_MS), 6);
	assert_int_equal(fstest_metric(b->metrics_port, "flowsift_ingest_sequence_gaps_total"), 0);
	/* A withdrawal on A (a template record with no fields) reaches B. */
	send_template(fd, a->udp_port, 5, large_fields, 0);
	assert_int_equal(fstest_wait_metric(a->metrics_port,
					    "flowsift_ingest_templates_published_total", 3, WAIT_MS), 3);
	assert_int_equal(fstest_wait_metric(b->metrics_port,
					    "flowsift_ingest_template_topic_records_total{result=\"withdrawn\"}",
					    1, WAIT_MS), 1);
	send_data(fd, b->udp_port, 8, large_fields, COUNT(large_fields), 1);
	assert_int_equal(fstest_wait_metric(b->metrics_port,
					    "flowsift_ingest_decode_errors_total{reason=\"no_template\"}",
					    1, WAIT_MS), 1);
	assert_int_equal(fstest_metric(b->metrics_port, "flowsift_ingest_flows_decoded_total"), 6);

	/* A skipped its own records when they came back from the topic. */
	assert_int_equal(fstest_wait_metric(a->metrics_port,
					    "flowsift_ingest_template_topic_records_total{result=\"own\"}",
					    3, WAIT_MS), 3);
	assert_int_equal(fstest_metric(a->metrics_port,
				       "flowsift_ingest_template_topic_records_total{result=\"applied\"}"), 0);

	/* B held the data set of sequence 8; the template that A learns again decodes it on B. */
	assert_int_equal(fstest_metric(b->metrics_port,
				       "flowsift_ingest_held_data_sets_total{result=\"held\"}"), 1);
	send_template(fd, a->udp_port, 9, large_fields, COUNT(large_fields));
	assert_int_equal(fstest_wait_metric(b->metrics_port,
					    "flowsift_ingest_template_topic_records_total{result=\"applied\"}",
					    3, WAIT_MS), 3);
	assert_int_equal(fstest_wait_metric(b->metrics_port, "flowsift_ingest_flows_decoded_total",
					    7, WAIT_MS), 7);
	assert_int_equal(fstest_metric(b->metrics_port,
				       "flowsift_ingest_held_data_sets_total{result=\"decoded\"}"), 1);
	assert_int_equal(fstest_wait_metric(b->metrics_port, "flowsift_ingest_flows_delivered_total",
					    7, WAIT_MS), 7);
	close(fd);
	fstest_cluster_stop(c);
}

/* With ingest.session.key = address_port, another source port is another exporter. */
static void
session_key_address_port(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(
		c, "ingest", "ingest.session.key = address_port\nkafka.topic.templates = \"\"\n");
	int first = fstest_udp_socket(), second = fstest_udp_socket();

	(void)state;
	send_template(first, in->udp_port, 0, small_fields, COUNT(small_fields));
	send_data(first, in->udp_port, 0, small_fields, COUNT(small_fields), 2);
	send_data(second, in->udp_port, 2, small_fields, COUNT(small_fields), 3);
	assert_int_equal(fstest_wait_metric(in->metrics_port,
					    "flowsift_ingest_decode_errors_total{reason=\"no_template\"}",
					    1, WAIT_MS), 1);
	assert_int_equal(fstest_wait_metric(in->metrics_port, "flowsift_ingest_flows_decoded_total",
					    2, WAIT_MS), 2);
	close(first);
	close(second);
	fstest_cluster_stop(c);
}

/* An unknown ingest.session.key stops ingest at start with the key in the message. */
static void
session_key_invalid(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	char config_path[128], config_env[192], log_path[128], line[1024];
	int found = 0;
	FILE *f;

	(void)state;
	snprintf(config_path, sizeof(config_path), "%s/bad.conf", c->dir);
	f = fopen(config_path, "w");
	assert_non_null(f);
	fprintf(f, "run.dir = %s\ningest.listen = 127.0.0.1:%u\ningest.listen.tcp = \"\"\n"
		"ingest.metrics.listen = \"\"\ningest.session.key = port\n",
		c->dir, fstest_free_port(SOCK_DGRAM));
	fclose(f);
	snprintf(config_env, sizeof(config_env), "FLOWSIFT_CONFIG=%s", config_path);
	snprintf(log_path, sizeof(log_path), "%s/bad.log", c->dir);
	char *env[] = { config_env, NULL };
	char *argv[] = { "flowsift-ingest", NULL };
	pid_t pid = fs_test_spawn("flowsift-ingest", argv, env, log_path);

	assert_true(pid > 0);
	assert_int_equal(fs_test_wait(pid, WAIT_MS), 1);
	f = fopen(log_path, "r");
	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "invalid value 'port' for 'ingest.session.key'") != NULL;
	fclose(f);
	assert_true(found);
	fstest_cluster_stop(c);
}

/* Connects to 127.0.0.1:port over TCP. */
static int
tcp_connect(uint16_t port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

/* The IPFIX-over-TCP counters appear on /metrics. */
static void
tcp_counters_on_metrics(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(c, "ingest", "kafka.topic.templates = \"\"\n");
	uint16_t port = in->metrics_port;
	struct message m;
	int fd = tcp_connect(in->tcp_port);

	(void)state;
	message_begin(&m, 0, 1);
	add_template(&m, 256, small_fields, COUNT(small_fields));
	add_data(&m, 256, small_fields, COUNT(small_fields), 4);
	assert_int_equal(write(fd, m.bytes, m.len), (ssize_t)m.len);
	/* A data set for a template never sent counts as a no_template decode error. */
	message_begin(&m, 4, 1);
	add_data(&m, 300, small_fields, COUNT(small_fields), 2);
	assert_int_equal(write(fd, m.bytes, m.len), (ssize_t)m.len);

	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_messages_total", 2, WAIT_MS), 2);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections_opened_total"), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections"), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_flows_decoded_total"), 4);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_templates_learned_total"), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_templates"), 1);
	assert_int_equal(fstest_metric(port,
				       "flowsift_ingest_tcp_decode_errors_total{reason=\"no_template\"}"), 1);
	/* The UDP counters stay apart. */
	assert_int_equal(fstest_metric(port, "flowsift_ingest_flows_decoded_total"), 0);

	/* Bytes that are not an IPFIX header lose the framing: the connection is closed. */
	memset(m.bytes, 0xff, 16);
	assert_int_equal(write(fd, m.bytes, 16), 16);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_framing_lost_total", 1,
					    WAIT_MS), 1);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_connections_closed_total", 1,
					    WAIT_MS), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections"), 0);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_templates"), 0);
	close(fd);
	fstest_cluster_stop(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(steering_follows_source_address),
		cmocka_unit_test(steering_ipv6_loopback),
		cmocka_unit_test(capped_rcvbuf_is_reported),
		cmocka_unit_test(kernel_drops_counted_after_burst),
		cmocka_unit_test(threads_keep_exporter_together),
		cmocka_unit_test(templates_shared_between_replicas),
		cmocka_unit_test(session_key_address_port),
		cmocka_unit_test(session_key_invalid),
		cmocka_unit_test(tcp_counters_on_metrics),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
