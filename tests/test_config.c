/* test_config.c - configuration file parsing, environment overrides, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/result.h"

static char path[64];

static void
write_config(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/fstest-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int
teardown(void **state)
{
	(void)state;
	if (path[0])
		unlink(path);
	path[0] = '\0';
	unsetenv("FLOWSIFT_REDIS_URL");
	unsetenv("FLOWSIFT_INGEST_SOCKET_RCVBUF");
	unsetenv("FLOWSIFT_NO_SUCH_KEY");
	unsetenv("FLOWSIFT_KAFKA_SASL_USERNAME");
	unsetenv("FLOWSIFT_CONSOLE_TOKEN_FILE");
	return 0;
}

static void
defaults_without_file(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("");
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), 0);
	assert_string_equal(fs_config_str(config, "kafka.topic.raw"), "flows.raw");
	assert_string_equal(fs_config_str(config, "run.dir"), "run");
	assert_int_equal(fs_config_int(config, "ingest.socket.rcvbuf"), 8388608);
	fs_config_free(config);
}

static void
file_values_and_quotes(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("# comment\n\nredis.url = \"redis://10.0.0.1:6379/2\"\n"
		     "ingest.socket.rcvbuf=1048576\n  report.topic = flows.enriched  \n");
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), 0);
	assert_string_equal(fs_config_str(config, "redis.url"), "redis://10.0.0.1:6379/2");
	assert_int_equal(fs_config_int(config, "ingest.socket.rcvbuf"), 1048576);
	assert_string_equal(fs_config_str(config, "report.topic"), "flows.enriched");
	fs_config_free(config);
}

static void
environment_overrides_file(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("redis.url = redis://file:1\n");
	setenv("FLOWSIFT_REDIS_URL", "redis://env:2", 1);
	setenv("FLOWSIFT_INGEST_SOCKET_RCVBUF", "65536", 1);
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), 0);
	assert_string_equal(fs_config_str(config, "redis.url"), "redis://env:2");
	assert_int_equal(fs_config_int(config, "ingest.socket.rcvbuf"), 65536);
	fs_config_free(config);
}

/* A key named *.file is set by its own variable, not read from a file. */
static void
environment_sets_key_ending_in_file(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	setenv("FLOWSIFT_CONSOLE_TOKEN_FILE", "/run/secrets/console-token", 1);
	assert_int_equal(fs_config_load(&config, NULL, err, sizeof(err)), 0);
	assert_string_equal(fs_config_str(config, "console.token.file"),
			    "/run/secrets/console-token");
	fs_config_free(config);
}

static void
unknown_key_names_key_and_line(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("run.dir = run\nreport.topics = x\n");
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), FS_ERR_INVALID);
	assert_null(config);
	assert_non_null(strstr(err, "'report.topics'"));
	assert_non_null(strstr(err, ":2"));
}

static void
invalid_integer_rejected(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("ingest.socket.rcvbuf = lots\n");
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "ingest.socket.rcvbuf"));
	teardown(NULL);
	write_config("ingest.socket.rcvbuf = 12\n");
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "out of range"));
}

static void
duplicate_key_rejected(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("log.level = info\nlog.format = json\nlog.level = debug\n");
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, ":3: 'log.level' is set again; line 1 set it first"));
}

static void
enumerated_value_rejected(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("log.level = verbose\n");
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "'verbose'"));
	assert_non_null(strstr(err, "error|warning|notice|info|debug"));
}

static void
trailing_comment_ignored(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("log.level = debug   # more detail\nrun.dir = \"a # b\"\n");
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), 0);
	assert_string_equal(fs_config_str(config, "log.level"), "debug");
	assert_string_equal(fs_config_str(config, "run.dir"), "a # b");
	fs_config_free(config);
}

static void
unknown_environment_variable_rejected(void **state)
{
	struct fs_config *config;
	char err[256];

	(void)state;
	write_config("");
	setenv("FLOWSIFT_NO_SUCH_KEY", "1", 1);
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "FLOWSIFT_NO_SUCH_KEY"));
}

static int
collect_kafka(const char *name, const char *value, void *opaque)
{
	char *out = opaque;

	strcat(out, name);
	strcat(out, "=");
	strcat(out, value);
	strcat(out, ";");
	return 0;
}

static void
kafka_properties_pass_through(void **state)
{
	struct fs_config *config;
	char err[256], seen[256] = "";

	(void)state;
	write_config("kafka.security.protocol = SASL_SSL\n");
	setenv("FLOWSIFT_KAFKA_SASL_USERNAME", "flows", 1);
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), 0);
	fs_config_each_kafka(config, collect_kafka, seen);
	assert_non_null(strstr(seen, "security.protocol=SASL_SSL;"));
	assert_non_null(strstr(seen, "sasl.username=flows;"));
	fs_config_free(config);
}

static void
bootstrap_from_run_dir(void **state)
{
	struct fs_config *config;
	char err[256], dir[64] = "/tmp/fstest-run-XXXXXX", text[128], file[128];
	char servers[256];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text), "run.dir = %s\n", dir);
	write_config(text);
	assert_int_equal(fs_config_load(&config, path, err, sizeof(err)), 0);
	assert_int_equal(fs_config_bootstrap(config, servers, sizeof(servers), err, sizeof(err)),
			 FS_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "make run"));
	snprintf(file, sizeof(file), "%s/broker.addr", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("127.0.0.1:39092\n", f);
	fclose(f);
	assert_int_equal(fs_config_bootstrap(config, servers, sizeof(servers), err, sizeof(err)), 0);
	assert_string_equal(servers, "127.0.0.1:39092");
	fs_config_free(config);
	unlink(file);
	rmdir(dir);
}

static void
secrets_masked_for_printing(void **state)
{
	char shown[256];

	(void)state;
	assert_true(fs_config_is_secret("kafka.sasl.password"));
	assert_true(fs_config_is_secret("kafka.ssl.key.password"));
	assert_true(fs_config_is_secret("kafka.sasl.jaas.config"));
	assert_true(fs_config_is_secret("some.client.SECRET"));
	assert_false(fs_config_is_secret("redis.url"));
	assert_string_equal(fs_config_mask("kafka.sasl.password", "hunter2", shown, sizeof(shown)),
			    "***");
	assert_string_equal(fs_config_mask("redis.url", "redis://app:hunter2@redis:6379/1",
					   shown, sizeof(shown)),
			    "redis://***@redis:6379/1");
	assert_string_equal(fs_config_mask("redis.url", "redis://:p@ss@redis", shown, sizeof(shown)),
			    "redis://***@redis");
	assert_string_equal(fs_config_mask("redis.url", "redis://redis:6379/0", shown, sizeof(shown)),
			    "redis://redis:6379/0");
	assert_string_equal(fs_config_mask("kafka.topic.raw", "flows.raw", shown, sizeof(shown)),
			    "flows.raw");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(defaults_without_file, teardown),
		cmocka_unit_test_teardown(file_values_and_quotes, teardown),
		cmocka_unit_test_teardown(environment_overrides_file, teardown),
		cmocka_unit_test_teardown(environment_sets_key_ending_in_file, teardown),
		cmocka_unit_test_teardown(unknown_key_names_key_and_line, teardown),
		cmocka_unit_test_teardown(invalid_integer_rejected, teardown),
		cmocka_unit_test_teardown(duplicate_key_rejected, teardown),
		cmocka_unit_test_teardown(enumerated_value_rejected, teardown),
		cmocka_unit_test_teardown(trailing_comment_ignored, teardown),
		cmocka_unit_test_teardown(unknown_environment_variable_rejected, teardown),
		cmocka_unit_test_teardown(kafka_properties_pass_through, teardown),
		cmocka_unit_test_teardown(bootstrap_from_run_dir, teardown),
		cmocka_unit_test(secrets_masked_for_printing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
