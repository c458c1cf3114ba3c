/*
 * ingest_harness.h - runs flowsift-ingest processes against one embedded
 * broker for integration tests, and reads their metrics over HTTP.
 *
 * Failures inside these helpers fail the calling cmocka test.  The processes
 * of a cluster that a failed test did not stop are stopped at exit; its
 * folder is kept for the logs.
 */
#ifndef FS_TEST_INGEST_HARNESS_H
#define FS_TEST_INGEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FSTEST_MAX_INGESTS 4

struct fstest_ingest {
	pid_t pid;
	uint16_t udp_port, tcp_port, metrics_port;
	char name[32];
};

struct fstest_cluster {
	char dir[64];
	pid_t broker;
	struct fstest_ingest ingests[FSTEST_MAX_INGESTS];
	size_t count;
};

/* Creates a temporary folder and starts the embedded broker there. */
struct fstest_cluster *fstest_cluster_start(void);

/*
 * Starts an ingest named name with free UDP, TCP and metrics ports and the
 * extra configuration lines, and waits until /readyz returns 200.
 */
struct fstest_ingest *fstest_ingest_start(struct fstest_cluster *c, const char *name,
					  const char *extra_config);

/*
 * Stops ingest in with SIGTERM and waits for it, keeping its log for
 * fstest_log_path().  Returns its exit status as fs_test_stop() does.
 */
int fstest_ingest_stop(struct fstest_ingest *in);

/* Writes the log path of process name into buf.  Returns buf. */
char *fstest_log_path(const struct fstest_cluster *c, const char *name, char *buf, size_t len);

/* Stops every process and removes the folder; fails the test when an ingest exits nonzero. */
void fstest_cluster_stop(struct fstest_cluster *c);

/* Prints the log of process name (an ingest name or "broker") to stderr. */
void fstest_print_log(const struct fstest_cluster *c, const char *name);

/*
 * Returns a port of type (SOCK_DGRAM, SOCK_STREAM) free on 127.0.0.1 now,
 * as fs_test_free_port() does, and fails the test when there is none.
 */
uint16_t fstest_free_port(int type);

/* Returns the value of the sample series as fs_test_metric() does, or -1. */
long long fstest_metric(uint16_t port, const char *series);

/* Polls until series reaches at least expected or timeout_ms passes; returns the last value. */
long long fstest_wait_metric(uint16_t port, const char *series, long long expected,
			     int timeout_ms);

/* Returns a UDP socket bound to 127.0.0.1 on a free source port. */
int fstest_udp_socket(void);

/* Sends len bytes from fd to 127.0.0.1:port; fails the test when the send fails. */
void fstest_send(int fd, uint16_t port, const void *data, size_t len);

#endif
