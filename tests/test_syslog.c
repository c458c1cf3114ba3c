/*
 * test_syslog.c - alerts as RFC 5424 messages with a CEF payload reach a
 * real rsyslogd (Debian's rsyslog) over UDP and TCP on loopback, and rsyslog
 * parses their header fields as sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/syslog.h"
#include "core/result.h"
#include "support/ingest_harness.h"
#include "support/process.h"

extern char **environ;

struct rsyslog {
	char dir[64];
	char out[128];
	pid_t pid;
	uint16_t udp_port, tcp_port;
};

static bool
tcp_open(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static int
setup(void **state)
{
	struct rsyslog *r = calloc(1, sizeof(*r));
	char conf[160], pidfile[160];
	char *argv[] = { "rsyslogd", "-n", "-f", conf, "-i", pidfile, NULL };
	FILE *f;

	if (!r)
		return -1;
	if (access("/usr/sbin/rsyslogd", X_OK) != 0) {
		fprintf(stderr, "test_syslog: rsyslogd is missing; install the rsyslog package "
				"(scripts/deps.sh does)\n");
		free(r);
		return -1;
	}
	snprintf(r->dir, sizeof(r->dir), "/tmp/fstest-syslog-XXXXXX");
	*state = r;
	if (!mkdtemp(r->dir))
		return -1;
	snprintf(r->out, sizeof(r->out), "%s/received.log", r->dir);
	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", r->dir);
	snprintf(pidfile, sizeof(pidfile), "%s/rsyslogd.pid", r->dir);
	r->udp_port = fstest_free_port(SOCK_DGRAM);
	r->tcp_port = fstest_free_port(SOCK_STREAM);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f,
		"global(workDirectory=\"%s\")\n"
		"module(load=\"imudp\")\n"
		"module(load=\"imtcp\")\n"
		"input(type=\"imudp\" address=\"127.0.0.1\" port=\"%u\")\n"
		"input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%u\")\n"
		"template(name=\"fields\" type=\"string\" string=\"%%inputname%%|%%syslogfacility-text%%|"
		"%%syslogseverity-text%%|%%protocol-version%%|%%app-name%%|%%msgid%%|%%structured-data%%|%%msg%%\\n\")\n"
		"*.* action(type=\"omfile\" file=\"%s\" template=\"fields\")\n",
		r->dir, r->udp_port, r->tcp_port, r->out);
	fclose(f);
	if (posix_spawnp(&r->pid, "/usr/sbin/rsyslogd", NULL, NULL, argv, environ) != 0)
		return -1;
	for (int i = 0; i < 100 && !tcp_open(r->tcp_port); i++)
		usleep(100000);
	if (!tcp_open(r->tcp_port)) {
		fprintf(stderr, "test_syslog: rsyslogd did not open TCP port %u\n", r->tcp_port);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct rsyslog *r = *state;
	char cmd[128];

	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", r->dir);
	free(r);
	return 0;
}

/*
 * Waits up to 10 s for a line of the output that starts with input (the
 * rsyslog input that received it) and contains text; copies it into line.
 */
static bool
wait_line(const struct rsyslog *r, const char *input, const char *text, char *line, size_t len)
{
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(r->out, "r");

		if (f) {
			while (fgets(line, (int)len, f)) {
				if (strncmp(line, input, strlen(input)) == 0 && strstr(line, text)) {
					fclose(f);
					return true;
				}
			}
			fclose(f);
		}
		usleep(100000);
	}
	return false;
}

static void
sample_alert(struct fs_alert *a, enum fs_alert_state state)
{
	memset(a, 0, sizeof(*a));
	a->rule = FS_RULE_FANOUT;
	a->state = (uint8_t)state;
	a->severity = fs_alert_rule_severity(FS_RULE_FANOUT);
	fs_addr_parse(&a->subject, "10.1.66.6");
	a->port = 445;
	a->proto = 6;
	snprintf(a->metric, sizeof(a->metric), "distinct_destinations");
	a->threshold = 100;
	a->observed = 300;
	a->window_s = 60;
	a->first_seen_ms = INT64_C(1699999200000);
	a->last_seen_ms = INT64_C(1699999201000);
	a->time_ms = a->last_seen_ms;
	a->flows = 300;
	a->bytes = 15600;
	a->ntop_addrs = 2;
	fs_addr_parse(&a->top_addrs[0].addr, "172.16.0.1");
	a->top_addrs[0].flows = 3;
	fs_addr_parse(&a->top_addrs[1].addr, "172.16.0.8");
	a->top_addrs[1].flows = 3;
	a->ntop_ports = 1;
	a->top_ports[0].port = 445;
	a->top_ports[0].flows = 300;
	snprintf(a->id, sizeof(a->id), "fanout:10.1.66.6:445:1699999200");
	fs_alert_describe(a);
}

static void
send_and_check(struct rsyslog *r, const char *scheme, uint16_t port, const char *input)
{
	struct fs_syslog *s;
	struct fs_syslog_stats st;
	struct fs_alert a;
	char target[64], cef[FS_ALERT_CEF_MAX], line[4096], expect[256];

	snprintf(target, sizeof(target), "%s://127.0.0.1:%u", scheme, port);
	s = fs_syslog_new(target, 16, "flowsift-report", line, sizeof(line));
	assert_non_null(s);
	sample_alert(&a, FS_ALERT_RAISED);
	assert_true(fs_alert_format_cef(&a, "0.1", cef, sizeof(cef)) > 0);
	assert_int_equal(fs_syslog_send(s, FS_SYSLOG_WARNING, "fanout", cef), 0);
	sample_alert(&a, FS_ALERT_CLEARED);
	assert_true(fs_alert_format_cef(&a, "0.1", cef, sizeof(cef)) > 0);
	assert_int_equal(fs_syslog_send(s, FS_SYSLOG_NOTICE, "fanout", cef), 0);
	fs_syslog_stats(s, &st);
	assert_int_equal(st.sent, 2);
	fs_syslog_free(s);

	snprintf(expect, sizeof(expect), "%s|local0|warning|1|flowsift-report|fanout|-|", input);
	if (!wait_line(r, input, "act=raised", line, sizeof(line)))
		fail_msg("rsyslogd did not receive the raised alert over %s within 10 s", scheme);
	assert_non_null(strstr(line, expect));
	assert_non_null(strstr(line, "CEF:0|flowsift|flowsift|0.1|fanout|"
				     "Host contacts many destinations on one port|8|"));
	/* 300 destinations: none is named as dst, cs1 lists the top ones. */
	assert_non_null(strstr(line, " src=10.1.66.6 dpt=445 proto=TCP cnt=300 "));
	assert_null(strstr(line, " dst="));
	assert_non_null(strstr(line, "start=1699999200000 end=1699999201000"));
	assert_non_null(strstr(line, "cn1Label=distinct_destinations cn1=300 cn2Label=threshold cn2=100"));
	assert_non_null(strstr(line, "cs1Label=topDestinations cs1=172.16.0.1,172.16.0.8"));
	if (!wait_line(r, input, "act=cleared", line, sizeof(line)))
		fail_msg("rsyslogd did not receive the cleared alert over %s within 10 s", scheme);
	assert_non_null(strstr(line, "|local0|notice|"));
}

static void
udp_alert_reaches_rsyslog(void **state)
{
	struct rsyslog *r = *state;

	send_and_check(r, "udp", r->udp_port, "imudp");
}

static void
tcp_alert_reaches_rsyslog(void **state)
{
	struct rsyslog *r = *state;

	send_and_check(r, "tcp", r->tcp_port, "imtcp");
}

/* A TCP receiver that is down makes send fail at once, counted, not block. */
static void
tcp_receiver_down_is_counted(void **state)
{
	struct fs_syslog *s;
	struct fs_syslog_stats st;
	char target[64], err[128];
	time_t start = time(NULL);

	(void)state;
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%u", fstest_free_port(SOCK_STREAM));
	s = fs_syslog_new(target, 16, "flowsift-report", err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(fs_syslog_send(s, FS_SYSLOG_WARNING, "fanout", "CEF:0|x"), FS_ERR_SYSTEM);
	assert_int_equal(fs_syslog_send(s, FS_SYSLOG_WARNING, "fanout", "CEF:0|x"), FS_ERR_SYSTEM);
	fs_syslog_stats(s, &st);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.sent, 0);
	assert_true(time(NULL) - start <= 2);
	fs_syslog_free(s);
}

static void
bad_targets_are_rejected(void **state)
{
	char err[256];

	(void)state;
	assert_null(fs_syslog_new("127.0.0.1:514", 16, "x", err, sizeof(err)));
	assert_non_null(strstr(err, "udp://"));
	assert_null(fs_syslog_new("udp://127.0.0.1", 16, "x", err, sizeof(err)));
	assert_null(fs_syslog_new("udp://127.0.0.1:514", 24, "x", err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_alert_reaches_rsyslog),
		cmocka_unit_test(tcp_alert_reaches_rsyslog),
		cmocka_unit_test(tcp_receiver_down_is_counted),
		cmocka_unit_test(bad_targets_are_rejected),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
