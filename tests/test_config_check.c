/*
 * test_config_check.c - `flowsift config check` rejects each value that
 * would stop a program at start, naming the key, and accepts the defaults.
 * Runs the built binary; nothing is contacted (host names are resolved).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		cmocka_unit_test_setup_teardown(topic_values_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_redis_url_hides_password, setup, teardown),
		cmocka_unit_test_setup_teardown(folder_as_config_rejected, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
