/* cli_redis.c - the Redis connection of the CLI and its error messages. */
#include "cli_redis.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

#define REDIS_HINT "start `make run`, or set redis.url in the configuration or FLOWSIFT_REDIS_URL"

/*
 * fs_redis_connect() returns FS_ERR_SYSTEM for every failure, so the
 * message distinguishes a failed connection from a rejected AUTH or SELECT.
 * NOTE: this depends on the wording of pkg/redis/redis_url.c; a distinct
 * result code there would be sturdier.
 */
static bool
is_connection_failure(const char *err)
{
	return strncmp(err, "cannot connect to Redis", strlen("cannot connect to Redis")) == 0;
}

redisContext *
cli_redis_connect(const struct fs_redis_url *url, const char *command)
{
	redisContext *ctx = NULL;
	char err[512];

	if (fs_redis_connect(url, CLI_REDIS_TIMEOUT_MS, &ctx, err, sizeof(err)) == 0)
		return ctx;
	if (is_connection_failure(err))
		fprintf(stderr, "%s: %s; %s\n", command, err, REDIS_HINT);
	else
		fprintf(stderr, "%s: %s\n", command, err);
	return NULL;
}

redisContext *
cli_redis_open(const char *config_path, const char *command)
{
	struct fs_config *config = NULL;
	struct fs_redis_url url;
	redisContext *ctx = NULL;
	char err[512];

	if (fs_config_load(&config, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", command, err);
		return NULL;
	}
	/* The configuration's error message already states how to get a Redis, so no hint is added. */
	if (fs_redis_url_from_config(&url, config, err, sizeof(err)) < 0)
		fprintf(stderr, "%s: %s\n", command, err);
	else
		ctx = cli_redis_connect(&url, command);
	memset(&url, 0, sizeof(url));
	fs_config_free(config);
	return ctx;
}

void
cli_redis_query_failed(const char *command, const char *what, const redisContext *ctx,
		       const char *text)
{
	char why[256];

	if (ctx && ctx->err)
		text = fs_redis_error_text(ctx, why, sizeof(why));
	fprintf(stderr, "%s: reading %s from Redis failed: %s\n", command, what,
		text && text[0] ? text : "see the error logged above");
}
