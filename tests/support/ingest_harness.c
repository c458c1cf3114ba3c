/* ingest_harness.c - broker and ingest processes for integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "http_probe.h"
#include "process.h"

/*
 * Clusters not stopped yet.  A failed assertion leaves its test early, so
 * the processes of such a cluster are stopped when the test program exits.
 */
#define MAX_LIVE_CLUSTERS 8
static struct fstest_cluster *live[MAX_LIVE_CLUSTERS];

static void
stop_processes(struct fstest_cluster *c)
{
	for (size_t i = 0; i < c->count; i++) {
		if (c->ingests[i].pid > 0)
			fs_test_stop(c->ingests[i].pid, 15000);
		c->ingests[i].pid = 0;
	}
	if (c->broker > 0)
		fs_test_stop(c->broker, 10000);
	c->broker = 0;
}

static void
stop_live_clusters(void)
{
	for (size_t i = 0; i < MAX_LIVE_CLUSTERS; i++) {
		if (live[i])
			stop_processes(live[i]);
	}
}

static void
track(struct fstest_cluster *c, struct fstest_cluster *replace)
{
	static int registered;

	if (!registered) {
		atexit(stop_live_clusters);
		registered = 1;
	}
	for (size_t i = 0; i < MAX_LIVE_CLUSTERS; i++) {
		if (live[i] == replace) {
			live[i] = c;
			return;
		}
	}
}

uint16_t
fstest_free_port(int type)
{
	uint16_t port = fs_test_free_port(type);

	assert_true(port > 0);
	return port;
}

long long
fstest_metric(uint16_t port, const char *series)
{
	return fs_test_metric(port, series);
}

long long
fstest_wait_metric(uint16_t port, const char *series, long long expected, int timeout_ms)
{
	return fs_test_wait_metric(port, series, expected, timeout_ms);
}

void
fstest_print_log(const struct fstest_cluster *c, const char *name)
{
	fs_test_print_log(c->dir, name);
}

struct fstest_cluster *
fstest_cluster_start(void)
{
	struct fstest_cluster *c = calloc(1, sizeof(*c));
	char addr_file[128], log_path[128];

	assert_non_null(c);
	snprintf(c->dir, sizeof(c->dir), "/tmp/fstest-ingest-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(addr_file, sizeof(addr_file), "%s/broker.addr", c->dir);
	snprintf(log_path, sizeof(log_path), "%s/broker.log", c->dir);
	char *argv[] = { "flowsift-broker", "--addr-file", addr_file, NULL };
	c->broker = fs_test_spawn("flowsift-broker", argv, NULL, log_path);
	assert_true(c->broker > 0);
	track(c, NULL);
	assert_int_equal(fs_test_wait_file(addr_file, 10000), 0);
	return c;
}

struct fstest_ingest *
fstest_ingest_start(struct fstest_cluster *c, const char *name, const char *extra_config)
{
	struct fstest_ingest *in;
	char config_path[128], config_env[192], log_path[128];
	FILE *config;

	assert_true(c->count < FSTEST_MAX_INGESTS);
	in = &c->ingests[c->count++];
	snprintf(in->name, sizeof(in->name), "%s", name);
	in->udp_port = fstest_free_port(SOCK_DGRAM);
	in->tcp_port = fstest_free_port(SOCK_STREAM);
	in->metrics_port = fstest_free_port(SOCK_STREAM);
	snprintf(config_path, sizeof(config_path), "%s/%s.conf", c->dir, name);
	config = fopen(config_path, "w");
	assert_non_null(config);
	fprintf(config, "run.dir = %s\ningest.listen = 127.0.0.1:%u\n"
		"ingest.listen.tcp = 127.0.0.1:%u\ningest.metrics.listen = 127.0.0.1:%u\n%s",
		c->dir, in->udp_port, in->tcp_port, in->metrics_port, extra_config);
	fclose(config);
	snprintf(config_env, sizeof(config_env), "FLOWSIFT_CONFIG=%s", config_path);
	snprintf(log_path, sizeof(log_path), "%s/%s.log", c->dir, name);
	char *env[] = { config_env, NULL };
	char *argv[] = { "flowsift-ingest", NULL };

	in->pid = fs_test_spawn("flowsift-ingest", argv, env, log_path);
	assert_true(in->pid > 0);
	if (fs_test_wait_status(in->metrics_port, "/readyz", 200, 20000) != 200) {
		fstest_print_log(c, name);
		fail_msg("ingest %s did not become ready", name);
	}
	return in;
}

int
fstest_ingest_stop(struct fstest_ingest *in)
{
	int status = fs_test_stop(in->pid, 15000);

	in->pid = 0;
	return status;
}

char *
fstest_log_path(const struct fstest_cluster *c, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.log", c->dir, name);
	return buf;
}

void
fstest_cluster_stop(struct fstest_cluster *c)
{
	int failed = 0;
	char cmd[128];

	for (size_t i = 0; i < c->count; i++) {
		int status;

		if (c->ingests[i].pid <= 0)
			continue;
		status = fs_test_stop(c->ingests[i].pid, 15000);
		c->ingests[i].pid = 0;
		if (status != 0) {
			fprintf(stderr, "ingest %s exited with status %d\n", c->ingests[i].name, status);
			fstest_print_log(c, c->ingests[i].name);
			failed = 1;
		}
	}
	stop_processes(c);
	track(NULL, c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", c->dir);
	free(c);
	/* A crash, a sanitizer report or a failed shutdown of ingest fails the test. */
	assert_int_equal(failed, 0);
}

int
fstest_udp_socket(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

void
fstest_send(int fd, uint16_t port, const void *data, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
}
