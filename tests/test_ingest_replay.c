/*
 * test_ingest_replay.c - `flowsift-ingest --pcap`: the exit status and the
 * summary line of a replay, and stopping a replay that waits on a named pipe.
 * Runs build/bin/flowsift-ingest against the embedded broker
 * (build/bin/flowsift-broker).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/broker.h"
#include "support/process.h"
#include "support/text_file.h"

/* Maximum time of every wait, in ms.  No check depends on a wait being short. */
#define WAIT_MS 30000

struct fixture {
	char dir[64];
	char config_env[160];
	char log_path[128];
	struct fs_test_broker broker;
};

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

/* Fills msg (24 + 3 * 48 bytes) with one NetFlow v5 message of 3 flows. */
static size_t
build_v5(uint8_t *msg)
{
	memset(msg, 0, 24 + 3 * 48);
	put16(msg, 5);
	put16(msg + 2, 3);
	put32(msg + 4, 3600000);
	put32(msg + 8, 1700000000);
	for (uint32_t r = 0; r < 3; r++) {
		uint8_t *rec = msg + 24 + r * 48;

		put32(rec, 0x0a000001 + r);
		put32(rec + 4, 0xc0000201);
		put32(rec + 16, 2);
		put32(rec + 20, 100);
		put16(rec + 34, 443);
		rec[38] = 6;
	}
	return 24 + 3 * 48;
}

static void
write_bytes(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * Writes a pcap file of one Ethernet frame: IPv4 UDP from 192.0.2.1:5353
 * to 192.0.2.2:53 with a payload that is no export format (its first two
 * bytes, 0x1234, are no known version).
 */
static void
write_dns_pcap(const char *path)
{
	uint8_t frame[14 + 20 + 8 + 12] = { 0 };
	uint8_t *ip = frame + 14, *udp = ip + 20, *payload = udp + 8;
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	struct pcap_pkthdr hdr = { .caplen = sizeof(frame), .len = sizeof(frame) };
	pcap_dumper_t *dumper;

	assert_non_null(dead);
	put16(frame + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + 12);
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, 0xc0000201);
	put32(ip + 16, 0xc0000202);
	put16(udp, 5353);
	put16(udp + 2, 53);
	put16(udp + 4, 8 + 12);
	put16(payload, 0x1234);
	hdr.ts.tv_sec = 1700000000;
	dumper = pcap_dump_open(dead, path);
	assert_non_null(dumper);
	pcap_dump((u_char *)dumper, &hdr, frame);
	pcap_dump_close(dumper);
	pcap_close(dead);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];
	FILE *config;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fstest-replay-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(fs_test_broker_start(&f->broker, f->dir, NULL), 0);
	snprintf(path, sizeof(path), "%s/flowsift.conf", f->dir);
	config = fopen(path, "w");
	assert_non_null(config);
	fprintf(config, "run.dir = %s\n", f->dir);
	assert_int_equal(fclose(config), 0);
	snprintf(f->config_env, sizeof(f->config_env), "FLOWSIFT_CONFIG=%s", path);
	snprintf(f->log_path, sizeof(f->log_path), "%s/ingest.log", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	fs_test_broker_stop(&f->broker);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "note: could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* Starts `flowsift-ingest --pcap FILES...`; its output goes to f->log_path. */
static pid_t
spawn_replay(struct fixture *f, const char *file1, const char *file2)
{
	char *argv[] = { "flowsift-ingest", "--pcap", (char *)file1, (char *)file2, NULL };
	char *env[] = { f->config_env, NULL };
	pid_t pid;

	unlink(f->log_path);
	pid = fs_test_spawn("flowsift-ingest", argv, env, f->log_path);
	assert_true(pid > 0);
	return pid;
}

/*
 * Waits for a replay to end and returns its exit status, or -2 after
 * killing it when it did not end within WAIT_MS, so that no test leaves it
 * running.
 */
static int
wait_replay(pid_t pid)
{
	int status = fs_test_wait(pid, WAIT_MS);

	if (status == -2) {
		fprintf(stderr, "flowsift-ingest did not end within %d ms\n", WAIT_MS);
		kill(pid, SIGKILL);
		(void)fs_test_wait(pid, WAIT_MS);
	}
	return status;
}

/* Runs a replay to its end and returns its exit status. */
static int
run_replay(struct fixture *f, const char *file1, const char *file2)
{
	int status = wait_replay(spawn_replay(f, file1, file2));

	fs_test_print_file(f->log_path);
	return status;
}

static void
replay_without_flows_fails(void **state)
{
	struct fixture *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/dns.pcap", f->dir);
	write_dns_pcap(path);
	assert_int_equal(run_replay(f, path, NULL), 1);
	assert_true(fs_test_file_contains(f->log_path, "level=error"));
	assert_true(fs_test_file_contains(f->log_path,
					  "no flow in 1 of 1 capture files: 1 packets read, "
					  "1 UDP datagrams"));
	assert_true(fs_test_file_contains(f->log_path, "0 flows and 0 sFlow counter samples"));
	assert_true(fs_test_file_contains(f->log_path, "invalid=1 "));
	assert_true(fs_test_file_contains(f->log_path, "nothing was sent"));
}

static void
replay_with_some_flows_succeeds(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[24 + 3 * 48];
	char v5_path[128], bad_path[128];
	static const uint8_t garbage[] = { 0x00, 0x63, 0xde, 0xad, 0xbe, 0xef };
	size_t len = build_v5(msg);

	snprintf(v5_path, sizeof(v5_path), "%s/v5.bin", f->dir);
	snprintf(bad_path, sizeof(bad_path), "%s/garbage.bin", f->dir);
	write_bytes(v5_path, msg, len);
	write_bytes(bad_path, garbage, sizeof(garbage));
	assert_int_equal(run_replay(f, v5_path, bad_path), 0);
	assert_true(fs_test_file_contains(f->log_path, "replayed 2 of 2 capture files"));
	assert_true(fs_test_file_contains(f->log_path, "3 flows and 0 sFlow counter samples"));
	assert_true(fs_test_file_contains(f->log_path, "invalid=1 "));
	assert_false(fs_test_file_contains(f->log_path, "nothing was sent"));
}

/*
 * Opens the write end of fifo once a reader has opened it.  Returns the
 * descriptor, or -1 when no reader came within WAIT_MS.
 */
static int
open_writer(const char *fifo)
{
	for (int waited = 0; waited < WAIT_MS; waited += 50) {
		int fd = open(fifo, O_WRONLY | O_NONBLOCK);

		if (fd >= 0 || errno != ENXIO)
			return fd;
		usleep(50000);
	}
	return -1;
}

/*
 * Sends SIGTERM to a replay that waits on fifo, once it logged that it reads
 * it, and checks that it stops with status 0.  With writer set, the test
 * first opens the write end and writes nothing.
 */
static void
check_stop_on_fifo(struct fixture *f, int writer)
{
	char fifo[128], reading[160];
	pid_t pid;
	int fd = -1, status;

	snprintf(fifo, sizeof(fifo), "%s/capture.fifo", f->dir);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid = spawn_replay(f, fifo, NULL);
	snprintf(reading, sizeof(reading), "reading '%s'", fifo);
	if (fs_test_wait_file_contains(f->log_path, reading, WAIT_MS) && writer)
		fd = open_writer(fifo);
	kill(pid, SIGTERM);
	status = wait_replay(pid);
	if (fd >= 0)
		close(fd);
	fs_test_print_file(f->log_path);
	assert_true(fs_test_file_contains(f->log_path, reading));
	assert_true(!writer || fd >= 0);
	assert_int_equal(status, 0);
	assert_true(fs_test_file_contains(f->log_path, "stop requested while reading"));
}

static void
fifo_without_writer_stops(void **state)
{
	check_stop_on_fifo(*state, 0);
}

static void
fifo_silent_writer_stops(void **state)
{
	check_stop_on_fifo(*state, 1);
}

/* A capture written into a named pipe, as `tcpdump -w - |` does, is replayed. */
static void
fifo_capture_replayed(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[24 + 3 * 48];
	size_t len = build_v5(msg);
	char fifo[128];
	pid_t pid;
	int fd, status;

	snprintf(fifo, sizeof(fifo), "%s/capture.fifo", f->dir);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid = spawn_replay(f, fifo, NULL);
	fd = open_writer(fifo);
	if (fd >= 0) {
		assert_int_equal(write(fd, msg, len), (ssize_t)len);
		close(fd);
	}
	status = wait_replay(pid);
	fs_test_print_file(f->log_path);
	assert_true(fd >= 0);
	assert_int_equal(status, 0);
	assert_true(fs_test_file_contains(f->log_path, "3 flows and 0 sFlow counter samples"));
}

/* "-" reads the capture from standard input, as tcpdump -r - does. */
static void
dash_reads_standard_input(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[24 + 3 * 48];
	size_t len = build_v5(msg);
	char path[128];
	int saved, in, status;

	snprintf(path, sizeof(path), "%s/v5.bin", f->dir);
	write_bytes(path, msg, len);
	in = open(path, O_RDONLY);
	assert_true(in >= 0);
	saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(in, STDIN_FILENO), STDIN_FILENO);
	close(in);
	status = run_replay(f, "-", NULL);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	assert_int_equal(status, 0);
	assert_true(fs_test_file_contains(f->log_path, "reading '/dev/stdin'"));
	assert_true(fs_test_file_contains(f->log_path, "3 flows and 0 sFlow counter samples"));
}

/* A file that cannot be opened stops the replay with status 1, and the log names it. */
static void
unreadable_file_named(void **state)
{
	struct fixture *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/missing.pcap", f->dir);
	assert_int_equal(run_replay(f, path, NULL), 1);
	assert_true(fs_test_file_contains(f->log_path, "missing.pcap"));
	assert_true(fs_test_file_contains(f->log_path,
					  "stopped at a file that could not be read, after 0 of 1 "
					  "capture files"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(replay_without_flows_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(replay_with_some_flows_succeeds, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_without_writer_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_silent_writer_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_capture_replayed, setup, teardown),
		cmocka_unit_test_setup_teardown(dash_reads_standard_input, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_file_named, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
