/*
 * test_enrich_snmp.c - the SNMP poller against a real snmpd on loopback.
 *
 * The test writes an snmpd configuration (community fstest, sysName
 * fstest-agent, 127.0.0.1 on a free port) and starts Debian's snmpd with
 * it, reading the host's own ifTable: ifIndex 1 is "lo" on Linux.
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
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "enrich/snmp_poller.h"
#include "support/ingest_harness.h"

#define SNMPD "/usr/sbin/snmpd"

struct fixture {
	char dir[64];
	char conf[128];
	uint16_t port;
	pid_t snmpd;
};

static unsigned failure_lines;

static void
count_failures(enum fs_log_level level, const char *facility, const char *message, void *opaque)
{
	(void)opaque;
	fprintf(stderr, "log: %s %s\n", facility, message);
	if (level == FS_LOG_WARNING && strcmp(facility, "snmp") == 0 &&
	    strstr(message, "keeping the names of the last successful poll") != NULL)
		failure_lines++;
}

static void
start_snmpd(struct fixture *fx)
{
	char log_path[128];

	snprintf(log_path, sizeof(log_path), "%s/snmpd.log", fx->dir);
	fx->snmpd = fork();
	assert_true(fx->snmpd >= 0);
	if (fx->snmpd == 0) {
		char pid_path[128];

		snprintf(pid_path, sizeof(pid_path), "%s/snmpd.pid", fx->dir);
		if (freopen(log_path, "a", stdout) == NULL || freopen(log_path, "a", stderr) == NULL)
			_exit(126);
		/* -C: only this configuration; -f: foreground; -Lo: log to stdout. */
		execl(SNMPD, "snmpd", "-f", "-Lo", "-C", "-c", fx->conf, "-p", pid_path,
		      (char *)NULL);
		_exit(127);
	}
}

static void
stop_snmpd(struct fixture *fx)
{
	if (fx->snmpd > 0) {
		kill(fx->snmpd, SIGTERM);
		waitpid(fx->snmpd, NULL, 0);
		fx->snmpd = 0;
	}
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	FILE *f;

	assert_non_null(fx);
	*state = fx;
	if (access(SNMPD, X_OK) != 0) {
		print_message("skipped: needs %s (Debian package snmpd)\n", SNMPD);
		return 0;
	}
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/fstest-snmp-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->conf, sizeof(fx->conf), "%s/snmpd.conf", fx->dir);
	fx->port = fstest_free_port(SOCK_DGRAM);
	f = fopen(fx->conf, "w");
	assert_non_null(f);
	fprintf(f, "agentaddress udp:127.0.0.1:%u\nrocommunity fstest 127.0.0.1\n"
		   "sysName fstest-agent\n", fx->port);
	fclose(f);
	start_snmpd(fx);
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char command[128];

	stop_snmpd(fx);
	if (fx->dir[0] != '\0') {
		snprintf(command, sizeof(command), "rm -rf %s", fx->dir);
		if (system(command) != 0)
			print_message("cannot remove %s\n", fx->dir);
	}
	fs_log_set_sink(NULL, NULL);
	free(fx);
	return 0;
}

static void
test_poll_names_and_keep_them(void **state)
{
	struct fixture *fx = *state;
	struct fs_snmp_settings settings = {
		.community = "fstest", .port = fx->port, .refresh_s = 1,
		.timeout_ms = 200, .retries = 0,
	};
	struct fs_snmp_poller *p = NULL;
	struct fs_snmp_stats stats;
	struct fs_if_info in, out;
	struct fs_addr exporter;
	char name[FS_FLOW_EXPORTER_NAME_LEN];
	char err[256] = "";
	bool named = false;

	if (fx->snmpd <= 0)
		skip();
	fs_log_set_sink(count_failures, NULL);
	assert_int_equal(fs_addr_parse(&exporter, "127.0.0.1"), 0);
	assert_int_equal(fs_snmp_poller_new(&settings, &p, err, sizeof(err)), 0);

	/* snmpd takes a moment to bind: poll until the names arrive. */
	for (int i = 0; i < 100 && !named; i++) {
		fs_snmp_poller_wait(p, &exporter, 2000);
		named = fs_snmp_poller_lookup(p, &exporter, 1, 0, name, &in, &out);
		if (!named)
			usleep(100000);
	}
	assert_true(named);
	assert_string_equal(name, "fstest-agent");
	assert_string_equal(in.name, "lo");
	assert_true(in.has_speed);
	assert_int_equal(in.speed, 10000000);
	assert_string_equal(out.name, "");
	fs_snmp_poller_stats(p, &stats);
	assert_int_equal(stats.exporters, 1);
	assert_true(stats.interfaces >= 1);

	/* With the agent gone, polls fail: the names stay and one line per period is logged. */
	stop_snmpd(fx);
	failure_lines = 0;
	sleep(3);
	fs_snmp_poller_stats(p, &stats);
	assert_true(stats.poll_failures >= 1);
	assert_true(failure_lines >= 1);
	assert_true(failure_lines <= stats.poll_failures);
	assert_true(fs_snmp_poller_lookup(p, &exporter, 1, 0, name, &in, &out));
	assert_string_equal(name, "fstest-agent");
	assert_string_equal(in.name, "lo");

	/* An exporter without an agent: unknown names and a logged failure. */
	assert_int_equal(fs_addr_parse(&exporter, "127.0.0.3"), 0);
	assert_false(fs_snmp_poller_lookup(p, &exporter, 1, 2, name, &in, &out));
	assert_true(fs_snmp_poller_wait(p, &exporter, 5000));
	assert_false(fs_snmp_poller_lookup(p, &exporter, 1, 2, name, &in, &out));
	fs_snmp_poller_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poll_names_and_keep_them, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
