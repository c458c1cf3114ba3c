/*
 * cli_redis.h - the Redis connection of `flowsift top`, `report` and
 * `graph`, and their error messages.
 *
 * The hint on how to get a Redis ("start `make run`, or set redis.url ...")
 * follows only a failed connection.  A server that responds but rejects
 * AUTH, SELECT or a query gets its own reason and no hint, because the
 * server was found.
 */
#ifndef FS_CMD_CLI_REDIS_H
#define FS_CMD_CLI_REDIS_H

#include <hiredis/hiredis.h>

#include "redis/redis_url.h"

/* Timeout of the connection and of each reply, in milliseconds. */
#define CLI_REDIS_TIMEOUT_MS 3000

/*
 * Connects to url as fs_redis_connect() does.  Returns the context, which
 * the caller frees with redisFree(), or NULL after printing "command:
 * reason" on stderr, with the hint when no connection was made.
 */
redisContext *cli_redis_connect(const struct fs_redis_url *url, const char *command);

/*
 * Loads the settings (config_path, or NULL for the default file), takes the
 * URL and password of Redis from them and connects.  Returns the context
 * or NULL after printing the reason on stderr.
 */
redisContext *cli_redis_open(const char *config_path, const char *command);

/*
 * Prints "command: reading WHAT from Redis failed: reason" on stderr.  The
 * reason is the connection's error when ctx has one, else text (an error
 * reply, for example), else a pointer to the error logged above.
 */
void cli_redis_query_failed(const char *command, const char *what, const redisContext *ctx,
			    const char *text);

#endif
