/*
 * test_ingest_tcp.c - admission of IPFIX-over-TCP connections in a real
 * flowsift-ingest process: the exporter allowlist, the idle timeout, and the
 * total and per-address connection limits.  Clients bind their sockets to
 * other loopback addresses (127.0.0.2, 127.0.0.3) to act as other exporters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "support/ingest_harness.h"
#include "support/text_file.h"
#include "support/wire.h"

#define WAIT_MS 20000

#define REJECTED "flowsift_ingest_tcp_connections_refused_total"

/* Connects from source (an IPv4 loopback address) to 127.0.0.1:port. */
static int
connect_from(const char *source, uint16_t port)
{
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, source, &from.sin_addr), 1);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

/*
 * Waits up to WAIT_MS for the server to close fd.  Returns 1 when a read
 * ends the stream with end of file or a reset, else 0.
 */
static int
closed_by_server(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char byte;
	ssize_t n;

	if (poll(&pfd, 1, WAIT_MS) <= 0)
		return 0;
	n = read(fd, &byte, 1);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Returns 1 when the log of ingest name contains text. */
static int
log_contains(const struct fstest_cluster *c, const char *name, const char *text)
{
	char path[128];

	return fs_test_file_contains(fstest_log_path(c, name, path, sizeof(path)), text);
}

/* Writes one IPFIX message: a template of three 4-byte fields and a data set of 4 records. */
static void
send_message(int fd)
{
	uint8_t m[16 + 4 + 16 + 4 + 4 * 12];
	size_t len = 0, set;
	static const uint16_t fields[] = { 8, 12, 1 }; /* source and destination IPv4, octets */

	memset(m, 0, sizeof(m));
	fs_test_put16(m, 10);
	fs_test_put32(m + 4, (uint32_t)time(NULL));
	fs_test_put32(m + 12, 1);
	len = 16;
	set = len;
	fs_test_put16(m + len, 2);
	fs_test_put16(m + len + 4, 256);
	fs_test_put16(m + len + 6, 3);
	len += 8;
	for (size_t i = 0; i < 3; i++) {
		fs_test_put16(m + len, fields[i]);
		fs_test_put16(m + len + 2, 4);
		len += 4;
	}
	fs_test_put16(m + set + 2, (uint16_t)(len - set));
	set = len;
	fs_test_put16(m + len, 256);
	len += 4;
	for (size_t r = 0; r < 4; r++) {
		for (size_t i = 0; i < 3; i++) {
			m[len] = 10;
			m[len + 3] = (uint8_t)(r + 1);
			len += 4;
		}
	}
	fs_test_put16(m + set + 2, (uint16_t)(len - set));
	fs_test_put16(m + 2, (uint16_t)len);
	assert_int_equal(len, sizeof(m));
	assert_int_equal(write(fd, m, len), (ssize_t)len);
}

/* With an allowlist of 127.0.0.2/32, 127.0.0.1 is rejected at accept and 127.0.0.2 is decoded. */
static void
tcp_allowlist_rejects_others(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(c, "ingest",
		"kafka.topic.templates = \"\"\ningest.exporters.allow = 127.0.0.2/32\n");
	uint16_t port = in->metrics_port;
	int outside = connect_from("127.0.0.1", in->tcp_port);
	int inside;

	(void)state;
	assert_true(closed_by_server(outside));
	assert_int_equal(fstest_wait_metric(port, REJECTED "{reason=\"exporter_not_allowed\"}", 1,
					    WAIT_MS), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections_opened_total"), 0);
	assert_true(log_contains(c, "ingest", "rejected the connection from 127.0.0.1 port"));
	assert_true(log_contains(c, "ingest", "not in ingest.exporters.allow"));

	inside = connect_from("127.0.0.2", in->tcp_port);
	send_message(inside);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_flows_decoded_total", 4,
					    WAIT_MS), 4);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections_opened_total"), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections"), 1);
	assert_int_equal(fstest_metric(port, REJECTED "{reason=\"exporter_not_allowed\"}"), 1);
	/* The UDP counter of the allowlist stays apart. */
	assert_int_equal(fstest_metric(port,
		"flowsift_ingest_datagrams_dropped_total{reason=\"exporter_not_allowed\"}"), 0);
	close(outside);
	close(inside);
	fstest_cluster_stop(c);
}

/* A connection that sends nothing for ingest.tcp.idle.timeout seconds is closed and counted. */
static void
tcp_idle_timeout_closes(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(c, "ingest",
		"kafka.topic.templates = \"\"\ningest.tcp.idle.timeout = 1\n");
	uint16_t port = in->metrics_port;
	int fd = connect_from("127.0.0.1", in->tcp_port);

	(void)state;
	assert_true(closed_by_server(fd));
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_idle_timeouts_total", 1,
					    WAIT_MS), 1);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_connections_closed_total", 1,
					    WAIT_MS), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections_opened_total"), 1);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_connections", 0, WAIT_MS), 0);
	assert_true(log_contains(c, "ingest", "(ingest.tcp.idle.timeout)"));
	close(fd);
	fstest_cluster_stop(c);
}

/*
 * With at most 2 connections per address and 3 in total: a third from
 * 127.0.0.1 is rejected, one from 127.0.0.2 is accepted, and one from
 * 127.0.0.3 finds the total limit reached.
 */
static void
tcp_connection_limits(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(c, "ingest",
		"kafka.topic.templates = \"\"\ningest.tcp.connections.max = 3\n"
		"ingest.tcp.connections.per.address.max = 2\n");
	uint16_t port = in->metrics_port;
	int first = connect_from("127.0.0.1", in->tcp_port);
	int second = connect_from("127.0.0.1", in->tcp_port);
	int third, other, last;

	(void)state;
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_connections", 2, WAIT_MS), 2);
	third = connect_from("127.0.0.1", in->tcp_port);
	assert_true(closed_by_server(third));
	assert_int_equal(fstest_wait_metric(port, REJECTED "{reason=\"per_address_max\"}", 1,
					    WAIT_MS), 1);
	assert_true(log_contains(c, "ingest", "ingest.tcp.connections.per.address.max"));

	other = connect_from("127.0.0.2", in->tcp_port);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_connections", 3, WAIT_MS), 3);
	send_message(other);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_flows_decoded_total", 4,
					    WAIT_MS), 4);

	last = connect_from("127.0.0.3", in->tcp_port);
	assert_true(closed_by_server(last));
	assert_int_equal(fstest_wait_metric(port, REJECTED "{reason=\"connections_max\"}", 1,
					    WAIT_MS), 1);
	assert_int_equal(fstest_metric(port, REJECTED "{reason=\"per_address_max\"}"), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections_opened_total"), 3);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_connections"), 3);

	/* A closed connection frees its place for the same address. */
	close(first);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_connections_closed_total", 1,
					    WAIT_MS), 1);
	close(third);
	third = connect_from("127.0.0.1", in->tcp_port);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_connections_opened_total", 4,
					    WAIT_MS), 4);
	assert_int_equal(fstest_metric(port, REJECTED "{reason=\"per_address_max\"}"), 1);
	close(second);
	close(third);
	close(other);
	close(last);
	fstest_cluster_stop(c);
}

/*
 * A template message, then a data message 5 bytes short, then the close:
 * the cut message counts as a truncated decode error and is logged with
 * the peer address, and the complete message's flows are decoded.
 */
static void
tcp_message_cut_by_close(void **state)
{
	struct fstest_cluster *c = fstest_cluster_start();
	struct fstest_ingest *in = fstest_ingest_start(c, "ingest",
		"kafka.topic.templates = \"\"\n");
	uint16_t port = in->metrics_port;
	int fd = connect_from("127.0.0.2", in->tcp_port);
	uint8_t cut[16 + 4 + 24];

	(void)state;
	send_message(fd);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_flows_decoded_total", 4,
					    WAIT_MS), 4);
	/* A data message of template 256 declaring 2 records (44 bytes), sent without its last 5 bytes. */
	memset(cut, 0, sizeof(cut));
	fs_test_put16(cut, 10);
	fs_test_put16(cut + 2, 16 + 4 + 24);
	fs_test_put32(cut + 12, 1);
	fs_test_put16(cut + 16, 256);
	fs_test_put16(cut + 18, 4 + 24);
	assert_int_equal(write(fd, cut, 39), 39);
	close(fd);

	assert_int_equal(fstest_wait_metric(port,
		"flowsift_ingest_tcp_decode_errors_total{reason=\"truncated\"}", 1, WAIT_MS), 1);
	assert_int_equal(fstest_wait_metric(port, "flowsift_ingest_tcp_connections_closed_total", 1,
					    WAIT_MS), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_messages_total"), 1);
	assert_int_equal(fstest_metric(port, "flowsift_ingest_tcp_flows_decoded_total"), 4);
	assert_true(log_contains(c, "ingest", "exporter 127.0.0.2 port"));
	assert_true(log_contains(c, "ingest", "but only 39 bytes received"));
	fstest_cluster_stop(c);
}

/* Connections beyond FD_SETSIZE (1024), so that ingest has descriptors that select() cannot watch. */
#define MANY_CONNECTIONS 1100

/* With more than 1024 descriptors open, ingest still accepts them and still serves /metrics. */
static void
tcp_many_connections_metrics(void **state)
{
	static int fds[MANY_CONNECTIONS];
	struct rlimit limit;
	struct fstest_cluster *c;
	struct fstest_ingest *in;

	(void)state;
	/* This process keeps the client ends open, so it needs the descriptors too. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &limit), 0);
	if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < MANY_CONNECTIONS + 256) {
		fprintf(stderr, "skipped: the hard open-files limit %llu is below %d\n",
			(unsigned long long)limit.rlim_max, MANY_CONNECTIONS + 256);
		skip();
	}
	if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < MANY_CONNECTIONS + 256) {
		limit.rlim_cur = MANY_CONNECTIONS + 256;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &limit), 0);
	}
	c = fstest_cluster_start();
	in = fstest_ingest_start(c, "ingest",
		"kafka.topic.templates = \"\"\ningest.tcp.connections.max = 2000\n"
		"ingest.tcp.connections.per.address.max = 2000\n");
	for (size_t i = 0; i < MANY_CONNECTIONS; i++)
		fds[i] = connect_from("127.0.0.1", in->tcp_port);
	assert_int_equal(fstest_wait_metric(in->metrics_port, "flowsift_ingest_tcp_connections",
					    MANY_CONNECTIONS, WAIT_MS), MANY_CONNECTIONS);
	assert_int_equal(fstest_metric(in->metrics_port, "flowsift_ingest_tcp_accept_errors_total"), 0);
	for (size_t i = 0; i < MANY_CONNECTIONS; i++)
		close(fds[i]);
	fstest_cluster_stop(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_allowlist_rejects_others),
		cmocka_unit_test(tcp_idle_timeout_closes),
		cmocka_unit_test(tcp_connection_limits),
		cmocka_unit_test(tcp_message_cut_by_close),
		cmocka_unit_test(tcp_many_connections_metrics),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
