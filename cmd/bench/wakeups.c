/*
 * wakeups.c - `flowsift-bench wakeups`: the CPU time a thread spends per
 * wake-up, woken by a timer and woken by a datagram.  On some virtual
 * machines a wake-up costs more than decoding a datagram, which is why the
 * receive thread of flowsift-ingest sleeps after a read (net/receive_pace.h).
 * This measures that cost on the machine at hand.
 *
 * Timer: the thread sleeps --sleep-us with nanosleep(2), then polls and reads
 * an empty UDP socket, as ingest's receive thread does after a sleep.
 * Datagram: a child process sends one-byte datagrams to 127.0.0.1 every
 * --gap-us, and the thread blocks in poll(2) and reads each one.  The CPU
 * time is the thread's own (RUSAGE_THREAD), so the sender's is not in it.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct wakeup_options {
	uint64_t count;
	uint64_t sleep_us;
	uint64_t gap_us;
};

static void
wakeups_usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-bench wakeups [--count N] [--sleep-us SLEEP] [--gap-us GAP]\n"
		"\n"
		"Prints the CPU time of this thread per wake-up, in microseconds, for N\n"
		"wake-ups by a timer (a nanosleep of SLEEP microseconds, 1 to 1000000,\n"
		"default 2000) and N wake-ups by a datagram on 127.0.0.1 (one every GAP\n"
		"microseconds from a child process, default 600).  N is 1 to 10000000,\n"
		"default 3000; the default run takes about 8 s.  Output, one line:\n"
		"timer_wakeups=N timer_cpu_us=US datagram_wakeups=N datagram_cpu_us=US\n"
		"(datagram_wakeups counts the polls that returned, fewer than N when\n"
		"several datagrams arrived together).\n");
}

static int
wakeups_parse(int argc, char **argv, struct wakeup_options *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "sleep-us", required_argument, NULL, 's' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (bench_parse_count("--count", optarg, 10000000, &o->count) < 0)
				return 2;
			break;
		case 's':
			if (bench_parse_count("--sleep-us", optarg, 1000000, &o->sleep_us) < 0)
				return 2;
			break;
		case 'g':
			if (bench_parse_count("--gap-us", optarg, 1000000, &o->gap_us) < 0)
				return 2;
			break;
		case 'h':
			wakeups_usage(stdout);
			return 0;
		default:
			wakeups_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		wakeups_usage(stderr);
		return 2;
	}
	if (o->count == 0 || o->sleep_us == 0) {
		fprintf(stderr, "flowsift-bench wakeups: --count and --sleep-us must be at least 1\n");
		return 2;
	}
	return -1;
}

/* Returns the calling thread's CPU time (user and system) in ns. */
static int64_t
thread_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static double
timer_wakeups(int fd, const struct wakeup_options *o)
{
	struct timespec ts = {
		.tv_sec = (time_t)(o->sleep_us / 1000000),
		.tv_nsec = (long)(o->sleep_us % 1000000) * 1000,
	};
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[64];
	int64_t start = thread_cpu_ns();

	for (uint64_t i = 0; i < o->count; i++) {
		nanosleep(&ts, NULL);
		if (poll(&pfd, 1, 0) > 0)
			(void)recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	}
	return (double)(thread_cpu_ns() - start) / 1000.0 / (double)o->count;
}

/* Sends count one-byte datagrams to addr, one every gap_us; runs in the child. */
static void
send_datagrams(const struct sockaddr_in *addr, const struct wakeup_options *o)
{
	int sock = socket(AF_INET, SOCK_DGRAM, 0);
	struct timespec ts = {
		.tv_sec = (time_t)(o->gap_us / 1000000),
		.tv_nsec = (long)(o->gap_us % 1000000) * 1000,
	};

	if (sock < 0)
		_exit(1);
	for (uint64_t i = 0; i < o->count; i++) {
		(void)sendto(sock, "x", 1, 0, (const struct sockaddr *)addr, sizeof(*addr));
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

/* Returns the CPU per wake-up, or -1 when the child failed or no datagram came. */
static double
datagram_wakeups(int fd, const struct sockaddr_in *addr, const struct wakeup_options *o,
		 uint64_t *woken)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[64];
	uint64_t got = 0;
	int64_t start, used;
	int status = 0;
	pid_t child = fork();

	if (child < 0)
		return -1;
	if (child == 0)
		send_datagrams(addr, o);
	start = thread_cpu_ns();
	*woken = 0;
	/* A datagram lost on the way ends the loop at the poll timeout. */
	while (got < o->count && poll(&pfd, 1, 1000) > 0) {
		(*woken)++;
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			got++;
	}
	used = thread_cpu_ns() - start;
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    *woken == 0)
		return -1;
	return (double)used / 1000.0 / (double)*woken;
}

int
bench_wakeups_main(int argc, char **argv)
{
	struct wakeup_options o = { .count = 3000, .sleep_us = 2000, .gap_us = 600 };
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	uint64_t woken = 0;
	double timer_us, datagram_us;
	int rc = wakeups_parse(argc, argv, &o);
	int fd;

	if (rc >= 0)
		return rc;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
		perror("flowsift-bench wakeups: UDP socket on 127.0.0.1");
		if (fd >= 0)
			close(fd);
		return 1;
	}
	timer_us = timer_wakeups(fd, &o);
	datagram_us = datagram_wakeups(fd, &addr, &o, &woken);
	close(fd);
	if (datagram_us < 0) {
		fprintf(stderr, "flowsift-bench wakeups: no datagram wake-up measured: the sending "
			"child could not start, open its socket or send to 127.0.0.1:%u\n",
			(unsigned)ntohs(addr.sin_port));
		return 1;
	}
	printf("timer_wakeups=%" PRIu64 " timer_cpu_us=%.2f datagram_wakeups=%" PRIu64
	       " datagram_cpu_us=%.2f\n", o.count, timer_us, woken, datagram_us);
	return 0;
}
