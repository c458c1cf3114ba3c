/* redis_server.c - spawns and stops a private redis-server for tests. */
#include "redis_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis/redis_url.h"

extern char **environ;

#define EXTERNAL_DEFAULT_DB "15"
#define START_ATTEMPTS 3
#define READY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000

static void
sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Returns a loopback TCP port that was free a moment ago, or -1. */
static int
free_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

redisContext *
fs_test_redis_connect(const struct fs_test_redis *srv)
{
	struct fs_redis_url url;
	redisContext *ctx = NULL;
	char err[256];

	if (fs_redis_url_parse(&url, srv->url, err, sizeof(err)) < 0 ||
	    fs_redis_connect(&url, 2000, &ctx, err, sizeof(err)) < 0) {
		fprintf(stderr, "test redis: %s\n", err);
		return NULL;
	}
	return ctx;
}

/* Waits until the server replies to PING.  A NOAUTH error reply counts as ready. */
static int
wait_ready(struct fs_test_redis *srv)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };

	for (int waited = 0; waited < READY_TIMEOUT_MS; waited += 50) {
		redisContext *ctx;
		int status;

		if (srv->pid > 0 && waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = 0;
			return -1;
		}
		ctx = redisConnectWithTimeout("127.0.0.1", srv->port, tv);
		if (ctx != NULL && ctx->err == 0) {
			redisReply *reply = redisCommand(ctx, "PING");

			if (reply != NULL) {
				freeReplyObject(reply);
				redisFree(ctx);
				return 0;
			}
		}
		if (ctx != NULL)
			redisFree(ctx);
		sleep_ms(50);
	}
	return -1;
}

static void
print_log(const struct fs_test_redis *srv)
{
	char path[sizeof(srv->dir) + 16];
	char line[512];
	FILE *log;

	snprintf(path, sizeof(path), "%s/redis.log", srv->dir);
	log = fopen(path, "r");
	if (log == NULL)
		return;
	while (fgets(line, sizeof(line), log) != NULL)
		fprintf(stderr, "  redis.log: %s", line);
	fclose(log);
}

/* Spawns on port, or on a free port when port is 0. */
static int
spawn_once(struct fs_test_redis *srv, int port, const char *const *extra_args)
{
	const char *fixed[] = {
		"redis-server", "--port", NULL, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", srv->dir, "--logfile", "redis.log",
		"--daemonize", "no",
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const char *argv[64];
	size_t argc = 0;
	posix_spawn_file_actions_t actions;
	char port_text[16];
	int rc;

	srv->port = port > 0 ? port : free_port();
	if (srv->port < 0)
		return -1;
	snprintf(port_text, sizeof(port_text), "%d", srv->port);
	fixed[2] = port_text;
	for (size_t i = 0; i < nfixed; i++)
		argv[argc++] = fixed[i];
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL; i++) {
		if (argc + 1 >= sizeof(argv) / sizeof(argv[0]))
			return -1;
		argv[argc++] = extra_args[i];
	}
	argv[argc] = NULL;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&srv->pid, "redis-server", &actions, NULL, (char *const *)argv,
			  environ);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0) {
		fprintf(stderr, "test redis: cannot run redis-server: %s\n", strerror(rc));
		srv->pid = 0;
		return -1;
	}
	snprintf(srv->url, sizeof(srv->url), "redis://127.0.0.1:%d", srv->port);
	if (wait_ready(srv) == 0)
		return 0;
	fprintf(stderr, "test redis: redis-server on port %d did not start within 10 s\n", srv->port);
	print_log(srv);
	return -1;
}

int
fs_test_redis_spawn(struct fs_test_redis *srv, const char *const *extra_args)
{
	memset(srv, 0, sizeof(*srv));
	for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
		snprintf(srv->dir, sizeof(srv->dir), "/tmp/fstest-redis-XXXXXX");
		if (mkdtemp(srv->dir) == NULL) {
			fprintf(stderr, "test redis: mkdtemp failed: %s\n", strerror(errno));
			srv->dir[0] = '\0';
			return -1;
		}
		/* A lost race for the port fails here, so try another port. */
		if (spawn_once(srv, 0, extra_args) == 0)
			return 0;
		fs_test_redis_stop(srv);
	}
	return -1;
}

int
fs_test_redis_spawn_port(struct fs_test_redis *srv, int port, const char *const *extra_args)
{
	memset(srv, 0, sizeof(*srv));
	snprintf(srv->dir, sizeof(srv->dir), "/tmp/fstest-redis-XXXXXX");
	if (mkdtemp(srv->dir) == NULL) {
		fprintf(stderr, "test redis: mkdtemp failed: %s\n", strerror(errno));
		srv->dir[0] = '\0';
		return -1;
	}
	return spawn_once(srv, port, extra_args);
}

static int
attach_external(struct fs_test_redis *srv, const char *env_url)
{
	struct fs_redis_url url;
	redisContext *ctx;
	redisReply *reply;
	char err[256];
	const char *authority = env_url + strlen("redis://");

	if (fs_redis_url_parse(&url, env_url, err, sizeof(err)) < 0 ||
	    url.transport != FS_REDIS_TCP) {
		fprintf(stderr, "test redis: FSTEST_REDIS_URL must be a valid redis:// URL\n");
		return -1;
	}
	srv->external = true;
	/* Without an explicit /db, use a database that normal use leaves alone. */
	if (strchr(authority, '/') == NULL)
		snprintf(srv->url, sizeof(srv->url), "%s/%s", env_url, EXTERNAL_DEFAULT_DB);
	else
		snprintf(srv->url, sizeof(srv->url), "%s", env_url);

	ctx = fs_test_redis_connect(srv);
	if (ctx == NULL)
		return -1;
	reply = redisCommand(ctx, "FLUSHDB");
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "test redis: FLUSHDB failed: %s\n",
			reply != NULL ? reply->str : ctx->errstr);
		if (reply != NULL)
			freeReplyObject(reply);
		redisFree(ctx);
		return -1;
	}
	freeReplyObject(reply);
	redisFree(ctx);
	return 0;
}

int
fs_test_redis_start(struct fs_test_redis *srv)
{
	const char *env_url = getenv("FSTEST_REDIS_URL");

	memset(srv, 0, sizeof(*srv));
	if (env_url != NULL && env_url[0] != '\0')
		return attach_external(srv, env_url);
	return fs_test_redis_spawn(srv, NULL);
}

void
fs_test_redis_stop(struct fs_test_redis *srv)
{
	char path[sizeof(srv->dir) + 16];
	int status;

	if (srv->pid > 0) {
		int waited = 0;

		kill(srv->pid, SIGTERM);
		while (waitpid(srv->pid, &status, WNOHANG) == 0) {
			if (waited >= STOP_TIMEOUT_MS) {
				kill(srv->pid, SIGKILL);
				waitpid(srv->pid, &status, 0);
				break;
			}
			sleep_ms(20);
			waited += 20;
		}
		srv->pid = 0;
	}
	if (srv->dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/redis.log", srv->dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/dump.rdb", srv->dir);
		unlink(path);
		rmdir(srv->dir);
		srv->dir[0] = '\0';
	}
}
