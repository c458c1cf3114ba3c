/*
 * flowsift-console - the web console: a page with top talkers and their
 * drill-down, live graphs, alerts with evidence and a flow query form,
 * served with its JSON API on console.listen (docs/console.md).
 *
 * Counters and alerts come from Redis (pkg/redis/topn.h, pkg/detect), flows
 * from console.topic on Kafka.  Every request is bounded by the console.*
 * settings: rows, time range, messages read and wall time.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/regular_file.h"
#include "core/result.h"
#include "server.h"
#include "worker_start.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Returns true when c may appear in a token: it travels in a cookie and a header. */
static int
token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("-._~+/=", c) != NULL;
}

/*
 * Reads the first line of path into token (CONSOLE_TOKEN_MAX + 1 bytes).
 * Returns 0, or -1 with the reason logged (never the token itself).
 */
static int
load_token(const char *path, char *token)
{
	const char *reason;
	FILE *file = fs_regular_file_stream(path, &reason);
	size_t len;

	if (!file) {
		fs_log(FS_LOG_ERR, "console", "console.token.file: cannot open '%s': %s", path,
		       reason);
		return -1;
	}
	if (!fgets(token, CONSOLE_TOKEN_MAX + 2, file))
		token[0] = '\0';
	fclose(file);
	len = strcspn(token, "\r\n");
	token[len] = '\0';
	if (len < CONSOLE_TOKEN_MIN || len > CONSOLE_TOKEN_MAX) {
		fs_log(FS_LOG_ERR, "console",
		       "console.token.file '%s': the token must be %d to %d characters long", path,
		       CONSOLE_TOKEN_MIN, CONSOLE_TOKEN_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!token_char((unsigned char)token[i])) {
			fs_log(FS_LOG_ERR, "console",
			       "console.token.file '%s': the token may contain only letters, digits "
			       "and - . _ ~ + / =", path);
			return -1;
		}
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-console [--config FILE]\n"
		"       flowsift-console --help | --version\n"
		"\n"
		"Serves the web console and its JSON API on console.listen (default\n"
		"127.0.0.1:9190) until SIGINT or SIGTERM.  Counters and alerts are read from\n"
		"the Redis of redis.url, flows from console.topic.  With console.token.file set,\n"
		"the API needs that token.  Settings: docs/CONFIGURATION.md; API: docs/console.md.\n");
}

/* Returns whether listen ("host:port") names a loopback host. */
static bool
is_loopback_listen(const char *listen)
{
	return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]:", 6) == 0 ||
	       strncmp(listen, "localhost:", 10) == 0;
}

int
main(int argc, char **argv)
{
	static const struct worker_cli cli = {
		.program = "flowsift-console", .usage = usage, .on_stop = on_signal,
	};
	struct console_settings settings = { 0 };
	struct console_server *server = NULL;
	struct fs_config *config;
	struct fs_kafka_props props;
	const char *token_file;
	static char token[CONSOLE_TOKEN_MAX + 2];
	char err[512], bootstrap[1024];
	int status;

	status = worker_start(&cli, argc, argv, &config);
	if (status != WORKER_START_RUN)
		return status;
	status = 1;

	/* redis.password, when set, replaces the password of redis.url. */
	if (fs_redis_url_from_config(&settings.redis_url, config, err, sizeof(err)) < 0 ||
	    fs_config_bootstrap(config, bootstrap, sizeof(bootstrap), err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "console", "%s", err);
		goto out;
	}
	token_file = fs_config_str(config, "console.token.file");
	if (token_file[0] && load_token(token_file, token) < 0)
		goto out;
	props = fs_kafka_props_config(config);
	settings.listen = fs_config_str(config, "console.listen");
	settings.token = token;
	settings.bootstrap = bootstrap;
	settings.props = &props;
	settings.topic = fs_config_str(config, "console.topic");
	settings.limits.rows_max = fs_config_int(config, "console.rows.max");
	settings.limits.range_max_s = fs_config_int(config, "console.query.range.max");
	settings.limits.scan_max = fs_config_int(config, "console.query.scan.max");
	settings.limits.timeout_ms = (int)fs_config_int(config, "console.query.timeout.ms");
	settings.connections_max = (unsigned)fs_config_int(config, "console.connections.max");
	settings.connections_per_ip_max =
		(unsigned)fs_config_int(config, "console.connections.per_ip.max");
	settings.idle_timeout_s =
		(unsigned)((fs_config_int(config, "console.idle.timeout.ms") + 999) / 1000);
	if (console_server_start(&server, &settings, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "console", "%s", err);
		goto out;
	}
	fs_log(FS_LOG_INFO, "console", "serving http://%s (port %u), access token %s, flows from %s",
	       settings.listen, console_server_port(server), token[0] ? "required" : "not required",
	       settings.topic);
	if (token[0] == '\0' && !is_loopback_listen(settings.listen))
		fs_log(FS_LOG_WARNING, "console",
		       "console.listen %s is not a loopback address and no access token is set: "
		       "anyone who reaches the port reads the counters, alerts and flows; set "
		       "console.token.file", settings.listen);
	while (!stop_requested)
		pause();
	fs_log(FS_LOG_INFO, "console", "stopping");
	status = 0;
out:
	console_server_stop(server);
	fs_config_free(config);
	return status;
}
