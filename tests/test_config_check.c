/*
 * test_config_check.c - `flowsift config check` rejects each value and
 * file that would stop a program at start, naming the key, and accepts the
 * defaults.
 * Runs the built binary; nothing is contacted (host names are resolved).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/process.h"

struct check_test {
	char dir[64];
	char config_path[128];
	char out_path[128];
};

static int
setup(void **state)
{
	struct check_test *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/fstest-config-check-XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->config_path, sizeof(t->config_path), "%s/flowsift.conf", t->dir);
	snprintf(t->out_path, sizeof(t->out_path), "%s/out", t->dir);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct check_test *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	free(t);
	return 0;
}

/* Runs `flowsift config --config path check`; returns the exit status, output in t->out_path. */
static int
run_check(const struct check_test *t, const char *path)
{
	char *argv[] = { "flowsift", "config", "--config", (char *)path, "check", NULL };
	char *env[] = { NULL };
	pid_t pid = fs_test_spawn("flowsift", argv, env, t->out_path);

	assert_true(pid > 0);
	return fs_test_wait(pid, 30000);
}

static char *
read_output(const struct check_test *t)
{
	static char text[8192];
	FILE *f = fopen(t->out_path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static void
write_config(const struct check_test *t, const char *line)
{
	FILE *f = fopen(t->config_path, "w");

	assert_non_null(f);
	fprintf(f, "%s\n", line);
	fclose(f);
}

static void
defaults_pass(void **state)
{
	struct check_test *t = *state;

	write_config(t, "# only defaults");
	assert_int_equal(run_check(t, t->config_path), 0);

	/* --config may also follow the subcommand. */
	{
		char *argv[] = { "flowsift", "config", "check", "--config", t->config_path, NULL };
		char *env[] = { NULL };
		pid_t pid = fs_test_spawn("flowsift", argv, env, t->out_path);

		assert_true(pid > 0);
		assert_int_equal(fs_test_wait(pid, 30000), 0);
	}
	assert_string_equal(read_output(t), "");

	/* A quiet period shorter than a window passes, with a note. */
	write_config(t, "alert.quiet = 30");
	assert_int_equal(run_check(t, t->config_path), 0);
	assert_non_null(strstr(read_output(t), "note: alert.quiet (30 s) is shorter than "
					       "detect.fanout.window"));

	/* A /0 in a detect list passes, with a note on what it covers. */
	write_config(t, "detect.allowlist = 192.0.2.0/24, ::/0");
	assert_int_equal(run_check(t, t->config_path), 0);
	assert_non_null(strstr(read_output(t), "note: detect.allowlist has a /0, so no rule "
					       "counts any IPv6 flow"));
	write_config(t, "detect.smtp.mail.servers = 0.0.0.0/0");
	assert_int_equal(run_check(t, t->config_path), 0);
	assert_non_null(strstr(read_output(t), "note: detect.smtp.mail.servers has a /0"));
}

/* Checks that the configuration of line alone fails the check with a message containing expected. */
static void
assert_check_fails(const struct check_test *t, const char *line, const char *expected)
{
	const char *out;

	write_config(t, line);
	assert_int_equal(run_check(t, t->config_path), 1);
	out = read_output(t);
	if (strstr(out, expected) == NULL)
		fail_msg("'%s' gave '%s', expected '%s'", line, out, expected);
}

/* Each line would stop a program; the check names its key. */
static void
invalid_values_name_key(void **state)
{
	static const struct {
		const char *line;
		const char *key;
	} cases[] = {
		{ "ingest.listen = 127.0.0.1:99999", "ingest.listen: " },
		{ "ingest.listen = notahost:2055", "ingest.listen: " },
		{ "redis.url = http://x", "redis.url: " },
		{ "detect.fanout.ports = 445,99999", "detect.fanout.ports: " },
		{ "detect.fanout.ports = 22,,23", "detect.fanout.ports: " },
		{ "detect.fanout.ports = \"\"", "detect.fanout.ports: " },
		{ "detect.fanout.ports = 22,", "detect.fanout.ports: " },
		{ "detect.allowlist = 10.0.0.0/33", "detect.allowlist: " },
		{ "detect.allowlist.filter = 'dst port smtp'", "detect.allowlist.filter: " },
		{ "detect.allowlist.filter = dst port smtp", "detect.allowlist.filter: " },
		{ "alert.syslog.target = ftp://x", "alert.syslog.target: " },
		{ "alert.syslog.target = tcp://127.0.0.1:99999", "alert.syslog.target: " },
		{ "alert.syslog.target = udp://127.0.0.1:0", "alert.syslog.target: " },
		{ "kafka.nosuch.property = 1", "kafka.nosuch.property: " },
		{ "console.listen = 127.0.0.1", "console.listen: " },
		{ "report.metrics.listen = 127.0.0.1:70000", "report.metrics.listen: " },
		{ "ingest.exporters.allow = 1.2.3.4/40", "ingest.exporters.allow: " },
		{ "enrich.sampling.override = 10.0.0.1=0", "enrich.sampling.override: " },
		{ "enrich.sampling.override = host=5", "enrich.sampling.override: " },
		{ "ingest.session.key = foo", "'ingest.session.key'" },
	};
	struct check_test *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_check_fails(t, cases[i].line, cases[i].key);
}

/*
 * The four prefix list settings share one parser, so one item gets one
 * verdict and one message, whichever setting contains it.
 */
static void
prefix_lists_agree(void **state)
{
	static const char *const keys[] = {
		"ingest.exporters.allow", "enrich.home.networks", "detect.allowlist",
		"detect.smtp.mail.servers",
	};
	static const struct {
		const char *value;
		const char *message; /* NULL: the check passes */
	} cases[] = {
		{ " 10.0.0.0/8 , 2001:db8::/32,\t192.0.2.7", NULL },
		{ "10.1.2.3/8", "'10.1.2.3/8': host bits set; did you mean 10.0.0.0/8?" },
		{ "10.0.0.0/8,,", "empty item after '10.0.0.0/8'; remove the extra comma" },
		{ "::ffff:192.0.2.7", "'::ffff:192.0.2.7': IPv4-mapped IPv6 address" },
		{ "10.0.0.0/8 10.1.0.0/16", "'10.0.0.0/8 10.1.0.0/16': contains a space or tab" },
	};
	struct check_test *t = *state;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char line[256], expected[256];

			snprintf(line, sizeof(line), "%s = %s", keys[k], cases[i].value);
			if (cases[i].message == NULL) {
				write_config(t, line);
				if (run_check(t, t->config_path) != 0)
					fail_msg("'%s' failed: %s", line, read_output(t));
				continue;
			}
			snprintf(expected, sizeof(expected), "%s: %s", keys[k], cases[i].message);
			assert_check_fails(t, line, expected);
		}
	}
}

/* Topic names that Kafka rejects, and routes that would loop flows back to the filter. */
static void
topic_values_rejected(void **state)
{
	static const struct {
		const char *line;
		const char *expected;
	} cases[] = {
		{ "kafka.topic.raw = \"\"", "invalid topic name '' for 'kafka.topic.raw'" },
		{ "report.topic = \"bad topic\"", "invalid topic name 'bad topic' for 'report.topic'" },
		{ "filter.default.route = flows/x", "invalid topic name 'flows/x'" },
		{ "alert.topic = .", "invalid topic name '.'" },
		{ "report.topic = ..", "invalid topic name '..'" },
		{ "filter.default.route = flows.enriched", "is also filter.topic" },
		{ "filter.default.route = flows.raw", "is also kafka.topic.raw" },
	};
	struct check_test *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_check_fails(t, cases[i].line, cases[i].expected);
	/* An empty default route and templates topic turn those features off. */
	write_config(t, "filter.default.route = \"\"\nkafka.topic.templates = \"\"");
	assert_int_equal(run_check(t, t->config_path), 0);
}

/* A password in redis.url never appears in the message about it. */
static void
invalid_redis_url_hides_password(void **state)
{
	struct check_test *t = *state;
	const char *out;

	write_config(t, "redis.url = redis://user:Zq7/secret@127.0.0.1:6379/x");
	assert_int_equal(run_check(t, t->config_path), 1);
	out = read_output(t);
	assert_non_null(strstr(out, "redis.url: "));
	assert_null(strstr(out, "Zq7"));
	assert_null(strstr(out, "secret"));
}

/* Writes text into the file name in the test's folder and returns its path. */
static const char *
write_file(const struct check_test *t, const char *name, const char *text)
{
	static char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/*
 * Writes text into the file name (unless text is NULL), checks the
 * configuration "key = path of that file" and returns the exit status.
 */
static int
check_file_value(const struct check_test *t, const char *key, const char *name,
		 const char *text)
{
	char line[320];

	if (text != NULL)
		write_file(t, name, text);
	snprintf(line, sizeof(line), "%s = %s/%s", key, t->dir, name);
	write_config(t, line);
	return run_check(t, t->config_path);
}

/* filter.rules is loaded as flowsift-filter loads it, and its error reads as the worker logs it. */
static void
rules_file_checked(void **state)
{
	struct check_test *t = *state;
	const char *out;

	assert_int_equal(check_file_value(t, "filter.rules", "good.rules",
					  "mail = net 192.0.2.0 255.255.255.0\n"
					  "rule smtp: dst port 25 and not src mail\n"
					  "rule ping drop: icmp-type 8\n"), 0);
	assert_string_equal(read_output(t), "");

	assert_int_equal(check_file_value(t, "filter.rules", "bad.rules",
					  "rule smtp: proto tcp\n"
					  "rule mail: dst port smtp\n"), 1);
	out = read_output(t);
	assert_non_null(strstr(out, "filter.rules: invalid rules file: "));
	assert_non_null(strstr(out, "bad.rules: line 2, column 21: expected a number 0..65535"));
	assert_non_null(strstr(out, "\n  rule mail: dst port smtp\n                      ^"));

	assert_int_equal(check_file_value(t, "filter.rules", "mask.rules",
					  "rule lan: net 10.0.0.0 255.0.255.0\n"), 1);
	assert_non_null(strstr(read_output(t), "the netmask 255.0.255.0 is not contiguous"));

	/* A rule whose flows would come back to flowsift-filter. */
	assert_int_equal(check_file_value(t, "filter.rules", "loop.rules",
					  "rule back topic flows.enriched: port 25\n"), 1);
	assert_non_null(strstr(read_output(t), "loop.rules:1: rule back produces to flows.enriched, "
					       "which is also filter.topic"));

	/* A file that is not on this machine may be in the filter's pod: a note, no error. */
	assert_int_equal(check_file_value(t, "filter.rules", "missing.rules", NULL), 0);
	assert_non_null(strstr(read_output(t), "note: filter.rules: '"));
	assert_non_null(strstr(read_output(t), "missing.rules' is not on this machine"));

	/* An empty value turns the check off, as `make run` then starts no flowsift-filter. */
	write_config(t, "filter.rules = \"\"");
	assert_int_equal(run_check(t, t->config_path), 0);
}

/* The files and lists that flowsift-enrich loads at start. */
static void
enrich_files_checked(void **state)
{
	struct check_test *t = *state;

	assert_int_equal(check_file_value(t, "enrich.interfaces.map", "good.map",
					  "exporter 192.0.2.1 name=edge1 site=par1\n"
					  "interface 192.0.2.1 17 name=xe-0/0/1 speed=10G\n"), 0);
	assert_int_equal(check_file_value(t, "enrich.interfaces.map", "bad.map",
					  "exporter 192.0.2.1 name=edge1\n"
					  "interface 192.0.2.1 x name=xe-0/0/1\n"), 1);
	assert_non_null(strstr(read_output(t), "enrich.interfaces.map: "));
	assert_non_null(strstr(read_output(t), "bad.map: line 2"));
	assert_int_equal(check_file_value(t, "enrich.interfaces.map", "missing.map", NULL), 0);
	assert_non_null(strstr(read_output(t), "note: enrich.interfaces.map: '"));

	assert_int_equal(check_file_value(t, "enrich.prefixes", "good.prefixes",
					  "10.0.0.0/8 site=par role=core\n"), 0);
	assert_int_equal(check_file_value(t, "enrich.prefixes", "bad.prefixes",
					  "10.0.0.0/8 site=par\n10.0.0.1/8 role=core\n"), 1);
	assert_non_null(strstr(read_output(t), "enrich.prefixes: "));
	assert_non_null(strstr(read_output(t), "bad.prefixes: line 2"));
	assert_int_equal(check_file_value(t, "enrich.prefixes", "missing.prefixes", NULL), 0);
	assert_non_null(strstr(read_output(t), "note: enrich.prefixes: '"));

	assert_int_equal(check_file_value(t, "enrich.geoip.asn", "missing.mmdb", NULL), 0);
	assert_non_null(strstr(read_output(t), "note: enrich.geoip.asn: '"));
	assert_int_equal(check_file_value(t, "enrich.geoip.asn", "bad.mmdb", "not a database\n"), 1);
	assert_non_null(strstr(read_output(t), "enrich.geoip.asn: "));
	assert_int_equal(check_file_value(t, "enrich.services", "missing.services", NULL), 0);
	assert_non_null(strstr(read_output(t), "note: enrich.services: '"));

	assert_check_fails(t, "enrich.home.networks = 10.0.0.0/33", "enrich.home.networks: ");
	write_config(t, "enrich.home.networks = 10.0.0.0/8,2001:db8::/32\nenrich.services = none");
	assert_int_equal(run_check(t, t->config_path), 0);
}

/*
 * A FIFO named by mistake would block the check for ever.  So a FIFO and a
 * folder are rejected as not regular files, in every key that names a file.
 */
static void
special_files_rejected(void **state)
{
	static const char *const keys[] = {
		"filter.rules", "enrich.interfaces.map", "enrich.prefixes", "enrich.geoip.city",
		"enrich.services",
	};
	struct check_test *t = *state;
	char fifo[96], line[192];

	snprintf(fifo, sizeof(fifo), "%s/fifo", t->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(line, sizeof(line), "%s = %s", keys[i], fifo);
		assert_check_fails(t, line, "it is not a regular file (a FIFO, socket or device)");
		snprintf(line, sizeof(line), "%s = %s", keys[i], t->dir);
		assert_check_fails(t, line, "it is a folder, not a file");
	}
	/* flowsift-report appends alerts to alert.json.output, which must name a file. */
	snprintf(line, sizeof(line), "alert.json.output = %s", t->dir);
	assert_check_fails(t, line, "alert.json.output: '");
	snprintf(line, sizeof(line), "alert.json.output = %s", fifo);
	assert_check_fails(t, line, "is not a regular file");
	snprintf(line, sizeof(line), "alert.json.output = %s/x", t->config_path);
	assert_check_fails(t, line, "is not a folder");
	snprintf(line, sizeof(line), "alert.json.output = %s/no/such/alerts.jsonl", t->dir);
	write_config(t, line);
	assert_int_equal(run_check(t, t->config_path), 0);
	assert_non_null(strstr(read_output(t), "note: alert.json.output: '"));
}

static void
folder_as_config_rejected(void **state)
{
	struct check_test *t = *state;

	assert_int_equal(run_check(t, t->dir), 1);
	assert_non_null(strstr(read_output(t), "is a folder"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_values_name_key, setup, teardown),
		cmocka_unit_test_setup_teardown(prefix_lists_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(topic_values_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_redis_url_hides_password, setup, teardown),
		cmocka_unit_test_setup_teardown(rules_file_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(enrich_files_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(special_files_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(folder_as_config_rejected, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
