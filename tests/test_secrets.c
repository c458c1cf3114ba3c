/*
 * test_secrets.c - Kafka and Redis secrets from files and the environment,
 * kept out of every log and output.
 *
 * FLOWSIFT_<KEY>_FILE reads a setting from a file, as container platforms
 * hand over secrets.  The workers then run with a SASL password and a Redis
 * password, at debug level with librdkafka's security, broker and
 * configuration debug contexts on.  Their logs must not contain either
 * password, not even in the error lines of a failed authentication: the
 * embedded broker does not support SASL, so every SASL connection fails.
 * `flowsift config` must print the secrets as ***.  Redis AUTH with the
 * password from a file must work against a redis-server with requirepass, in
 * flowsift-report and flowsift-console.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "support/broker.h"
#include "support/flow_ids.h"
#include "support/http_probe.h"
#include "support/process.h"
#include "support/redis_server.h"
#include "support/text_file.h"

#define WAIT_MS 30000
#define SASL_PASSWORD "SaslPa55-7c1e9b"
#define REDIS_PASSWORD "RedisPa55-3f08d2"

struct secrets_test {
	char dir[64];
	char config_path[128];
	char config_env[192];
	char sasl_file_env[192];
	char redis_file_env[192];
	struct fs_test_broker broker;
	struct fs_test_redis redis;
	pid_t worker;   /* the worker of start_worker(), 0 when none runs */
};

/* Returns the whole file (caller frees), or an empty string when it cannot be read. */
static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	if (fread(text, 1, (size_t)len, f) != (size_t)len)
		text[0] = '\0';
	fclose(f);
	return text;
}

/* Fails the test when the file at path contains secret; prints the lines that do. */
static void
assert_no_secret(const char *path, const char *secret)
{
	char *text = read_file(path);
	const char *hit = strstr(text, secret);

	if (hit) {
		const char *line = hit;

		while (line > text && line[-1] != '\n')
			line--;
		fprintf(stderr, "%s shows a secret: %.*s\n", path, (int)strcspn(line, "\n"), line);
	}
	free(text);
	assert_null(hit);
}

static int
setup(void **state)
{
	struct secrets_test *t = calloc(1, sizeof(*t));
	char path[128];

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/fstest-secrets-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	/* Secret files as echo writes them (trailing newline) and as Kubernetes does (none). */
	snprintf(path, sizeof(path), "%s/kafka-sasl-password", t->dir);
	fs_test_write_file(path, SASL_PASSWORD "\n");
	snprintf(t->sasl_file_env, sizeof(t->sasl_file_env), "FLOWSIFT_KAFKA_SASL_PASSWORD_FILE=%s",
		 path);
	snprintf(path, sizeof(path), "%s/redis-password", t->dir);
	fs_test_write_file(path, REDIS_PASSWORD);
	snprintf(t->redis_file_env, sizeof(t->redis_file_env), "FLOWSIFT_REDIS_PASSWORD_FILE=%s",
		 path);
	snprintf(t->config_path, sizeof(t->config_path), "%s/flowsift.conf", t->dir);
	snprintf(t->config_env, sizeof(t->config_env), "FLOWSIFT_CONFIG=%s", t->config_path);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct secrets_test *t = *state;
	char cmd[128];

	unsetenv("FLOWSIFT_KAFKA_SASL_PASSWORD_FILE");
	unsetenv("FLOWSIFT_KAFKA_SASL_PASSWORD");
	unsetenv("FLOWSIFT_REDIS_PASSWORD_FILE");
	unsetenv("FLOWSIFT_NO_SUCH_KEY_FILE");
	if (t->worker > 0)
		fs_test_stop(t->worker, 15000);
	fs_test_broker_stop(&t->broker);
	fs_test_redis_stop(&t->redis);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	free(t);
	return 0;
}

struct prop_lookup {
	const char *name;
	const char *value;
};

static int
find_prop(const char *name, const char *value, void *opaque)
{
	struct prop_lookup *lookup = opaque;

	if (strcmp(name, lookup->name) == 0)
		lookup->value = value;
	return 0;
}

static void
file_variables_set_values(void **state)
{
	struct secrets_test *t = *state;
	struct prop_lookup sasl = { "sasl.password", NULL };
	struct fs_config *config = NULL;
	char err[512], shown[64];

	fs_test_write_file(t->config_path, "kafka.sasl.username = flows\n");
	putenv(t->sasl_file_env);
	putenv(t->redis_file_env);
	assert_int_equal(fs_config_load(&config, t->config_path, err, sizeof(err)), 0);
	fs_config_each_kafka(config, find_prop, &sasl);
	assert_non_null(sasl.value);
	/* The trailing newline of the file is not part of the password. */
	assert_string_equal(sasl.value, SASL_PASSWORD);
	assert_string_equal(fs_config_str(config, "redis.password"), REDIS_PASSWORD);
	assert_string_equal(fs_config_mask("redis.password", REDIS_PASSWORD, shown, sizeof(shown)),
			    "***");
	fs_config_free(config);
}

static void
file_variable_errors_hide_content(void **state)
{
	struct secrets_test *t = *state;
	struct fs_config *config = NULL;
	char err[512], path[160];

	fs_test_write_file(t->config_path, "");
	/* Both forms of one setting. */
	putenv(t->sasl_file_env);
	setenv("FLOWSIFT_KAFKA_SASL_PASSWORD", SASL_PASSWORD, 1);
	assert_true(fs_config_load(&config, t->config_path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not both"));
	assert_null(strstr(err, SASL_PASSWORD));
	unsetenv("FLOWSIFT_KAFKA_SASL_PASSWORD");

	/* A missing file is named, with the variable. */
	setenv("FLOWSIFT_KAFKA_SASL_PASSWORD_FILE", "/nonexistent/kafka-sasl-password", 1);
	assert_true(fs_config_load(&config, t->config_path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "FLOWSIFT_KAFKA_SASL_PASSWORD_FILE"));
	assert_non_null(strstr(err, "/nonexistent/kafka-sasl-password"));
	unsetenv("FLOWSIFT_KAFKA_SASL_PASSWORD_FILE");

	/* A file for a key that does not exist. */
	setenv("FLOWSIFT_NO_SUCH_KEY_FILE", "/dev/null", 1);
	assert_true(fs_config_load(&config, t->config_path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "FLOWSIFT_NO_SUCH_KEY"));
	unsetenv("FLOWSIFT_NO_SUCH_KEY_FILE");

	/* A secret file of two lines is rejected without showing either. */
	snprintf(path, sizeof(path), "%s/two-lines", t->dir);
	fs_test_write_file(path, SASL_PASSWORD "\nsecond line\n");
	setenv("FLOWSIFT_KAFKA_SASL_PASSWORD_FILE", path, 1);
	assert_true(fs_config_load(&config, t->config_path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "one line"));
	assert_null(strstr(err, SASL_PASSWORD));
	unsetenv("FLOWSIFT_KAFKA_SASL_PASSWORD_FILE");
	assert_null(config);
}

/* Runs `flowsift config ARGS...` with env and returns its exit status; output goes to out_path. */
static int
run_cli(char *const argv[], char *const env[], const char *out_path)
{
	pid_t pid = fs_test_spawn("flowsift", argv, env, out_path);

	assert_true(pid > 0);
	return fs_test_wait(pid, 20000);
}

static void
config_command_masks_secrets(void **state)
{
	struct secrets_test *t = *state;
	char out[160];
	char *env[] = { t->config_env, t->sasl_file_env, t->redis_file_env, NULL };
	char *get_sasl[] = { "flowsift", "config", "get", "kafka.sasl.password", NULL };
	char *get_redis[] = { "flowsift", "config", "get", "redis.password", NULL };
	char *get_url[] = { "flowsift", "config", "get", "redis.url", NULL };
	char *check[] = { "flowsift", "config", "check", NULL };
	char *text;

	fs_test_write_file(t->config_path, "redis.url = redis://:" REDIS_PASSWORD "@127.0.0.1:6390/0\n");
	snprintf(out, sizeof(out), "%s/config.out", t->dir);
	assert_int_equal(run_cli(get_sasl, env, out), 0);
	assert_int_equal(run_cli(get_redis, env, out), 0);
	assert_int_equal(run_cli(get_url, env, out), 0);
	assert_int_equal(run_cli(check, env, out), 0);
	text = read_file(out);
	assert_string_equal(text, "***\n***\nredis://***@127.0.0.1:6390/0\n");
	free(text);
}

/*
 * Starts program with the configuration and both secret files.  teardown()
 * stops it when a failed check ends the test before stop_worker() does.
 */
static void
start_worker(struct secrets_test *t, const char *program, const char *log_path)
{
	char *argv[] = { (char *)program, NULL };
	char *env[] = { (char *)t->config_env, (char *)t->sasl_file_env, (char *)t->redis_file_env,
			NULL };

	t->worker = fs_test_spawn(program, argv, env, log_path);
	assert_true(t->worker > 0);
}

/* Stops the worker of start_worker().  Returns its exit status as fs_test_stop() does. */
static int
stop_worker(struct secrets_test *t)
{
	int status = fs_test_stop(t->worker, 15000);

	t->worker = 0;
	return status;
}

static void
workers_keep_secrets_out_of_logs(void **state)
{
	static const char *const programs[] = {
		"flowsift-ingest", "flowsift-enrich", "flowsift-filter", "flowsift-report",
	};
	struct secrets_test *t = *state;
	char rules_path[160];
	FILE *f;

	assert_int_equal(fs_test_broker_start(&t->broker, t->dir, NULL), 0);
	snprintf(rules_path, sizeof(rules_path), "%s/filter.rules", t->dir);
	fs_test_write_file(rules_path, "rule all topic flows.filtered.all: any\n");
	f = fopen(t->config_path, "w");
	assert_non_null(f);
	fprintf(f,
		"run.dir = %s\nlog.level = debug\n"
		"kafka.security.protocol = SASL_PLAINTEXT\nkafka.sasl.mechanism = PLAIN\n"
		"kafka.sasl.username = flows\nkafka.debug = security,broker,conf\n"
		"redis.url = redis://127.0.0.1:%u/0\nfilter.rules = %s\n"
		"ingest.listen = 127.0.0.1:%u\ningest.listen.tcp = \"\"\n"
		"ingest.metrics.listen = 127.0.0.1:0\nenrich.metrics.listen = 127.0.0.1:0\n"
		"filter.metrics.listen = 127.0.0.1:0\nreport.metrics.listen = 127.0.0.1:0\n",
		t->dir, fs_test_free_port(SOCK_STREAM), rules_path, fs_test_free_port(SOCK_DGRAM));
	fclose(f);

	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		char log_path[160];
		int64_t deadline = fs_test_now_ms() + WAIT_MS;

		snprintf(log_path, sizeof(log_path), "%s/%s.log", t->dir, programs[i]);
		start_worker(t, programs[i], log_path);
		/* Wait for a failed SASL handshake: the error lines are written by then. */
		while (!fs_test_file_contains(log_path, "SASL authentication") &&
		       fs_test_now_ms() < deadline)
			usleep(100000);
		stop_worker(t);
		if (!fs_test_file_contains(log_path, "SASL authentication"))
			fprintf(stderr, "%s logged no SASL authentication attempt\n", programs[i]);
		assert_true(fs_test_file_contains(log_path, "SASL authentication"));
		/* librdkafka's configuration dump shows that the password was set. */
		assert_true(fs_test_file_contains(log_path, "sasl.password = [redacted]"));
		assert_no_secret(log_path, SASL_PASSWORD);
		assert_no_secret(log_path, REDIS_PASSWORD);
	}
}

static void
report_authenticates_with_file_password(void **state)
{
	static const char *const redis_args[] = { "--requirepass", REDIS_PASSWORD, NULL };
	struct secrets_test *t = *state;
	uint16_t metrics_port = fs_test_free_port(SOCK_STREAM);
	char log_path[160], top_out[160], wrong_env[96];
	redisContext *redis;
	redisReply *reply;
	FILE *f;

	assert_int_equal(fs_test_broker_start(&t->broker, t->dir, NULL), 0);
	assert_int_equal(fs_test_redis_spawn(&t->redis, redis_args), 0);
	f = fopen(t->config_path, "w");
	assert_non_null(f);
	fprintf(f,
		"run.dir = %s\nredis.url = redis://127.0.0.1:%d/0\n"
		"report.flush.interval.ms = 200\nreport.metrics.listen = 127.0.0.1:%u\n"
		"kafka.session.timeout.ms = 6000\nkafka.heartbeat.interval.ms = 500\n",
		t->dir, t->redis.port, metrics_port);
	fclose(f);
	snprintf(log_path, sizeof(log_path), "%s/report.log", t->dir);
	start_worker(t, "flowsift-report", log_path);
	assert_int_equal(fs_test_flows_produce(t->broker.bootstrap, "flows.enriched", 0, 10), 0);
	assert_int_equal(fs_test_wait_metric(metrics_port, "flowsift_report_flows_written_total", 10,
					     WAIT_MS), 10);
	assert_int_equal(fs_test_wait_status(metrics_port, "/readyz", 200, WAIT_MS), 200);
	assert_int_equal(stop_worker(t), 0);
	assert_no_secret(log_path, REDIS_PASSWORD);

	/* The counters are in the password-protected server. */
	redis = fs_test_redis_connect(&t->redis);
	assert_non_null(redis);
	reply = redisCommand(redis, "AUTH %s", REDIS_PASSWORD);
	assert_non_null(reply);
	assert_int_not_equal(reply->type, REDIS_REPLY_ERROR);
	freeReplyObject(reply);
	reply = redisCommand(redis, "KEYS flowsift:top:src_addr:flows:*");
	assert_non_null(reply);
	assert_true(reply->elements > 0);
	freeReplyObject(reply);
	redisFree(redis);

	/* A wrong password fails with a message that does not show it. */
	{
		char *argv[] = { "flowsift", "top", NULL };
		char *env[] = { t->config_env, wrong_env, NULL };

		snprintf(wrong_env, sizeof(wrong_env), "FLOWSIFT_REDIS_PASSWORD=Wr0ng-%s",
			 REDIS_PASSWORD);
		snprintf(top_out, sizeof(top_out), "%s/top.out", t->dir);
		assert_int_not_equal(run_cli(argv, env, top_out), 0);
		assert_true(fs_test_file_contains(top_out, "AUTH"));
		assert_no_secret(top_out, REDIS_PASSWORD);
	}
}

/* The console reads the counters with redis.password from a file, like report. */
static void
console_authenticates_with_file_password(void **state)
{
	static const char *const redis_args[] = { "--requirepass", REDIS_PASSWORD, NULL };
	struct secrets_test *t = *state;
	uint16_t port = fs_test_free_port(SOCK_STREAM);
	char log_path[160];
	FILE *f;

	assert_int_equal(fs_test_redis_spawn(&t->redis, redis_args), 0);
	f = fopen(t->config_path, "w");
	assert_non_null(f);
	/* Nothing listens on the Kafka address: /api/top needs only Redis. */
	fprintf(f,
		"run.dir = %s\nredis.url = redis://127.0.0.1:%d/0\nconsole.listen = 127.0.0.1:%u\n"
		"kafka.bootstrap.servers = 127.0.0.1:%u\n",
		t->dir, t->redis.port, port, fs_test_free_port(SOCK_STREAM));
	fclose(f);
	snprintf(log_path, sizeof(log_path), "%s/console.log", t->dir);
	start_worker(t, "flowsift-console", log_path);
	assert_int_equal(fs_test_wait_status(port, "/healthz", 200, WAIT_MS), 200);
	/* Without AUTH, Redis replies NOAUTH and the API returns 502. */
	assert_int_equal(fs_test_http_status(port, "/api/top"), 200);
	assert_int_equal(stop_worker(t), 0);
	assert_no_secret(log_path, REDIS_PASSWORD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(file_variables_set_values, setup, teardown),
		cmocka_unit_test_setup_teardown(file_variable_errors_hide_content, setup, teardown),
		cmocka_unit_test_setup_teardown(config_command_masks_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(workers_keep_secrets_out_of_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(report_authenticates_with_file_password, setup,
						teardown),
		cmocka_unit_test_setup_teardown(console_authenticates_with_file_password, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
