/*
 * redis_commands.h - Redis commands that cmocka tests send to their server
 * (redis_server.h) to set it up and to watch other clients.
 *
 * fs_test_redis_open(), fs_test_redis_close() and fs_test_redis_flushdb()
 * do the work of a cmocka group setup, group teardown and per-test setup:
 * they return -1 (reason on stderr) and leave the verdict to cmocka.  The
 * other helpers fail the calling cmocka test themselves.
 */
#ifndef FS_TEST_REDIS_COMMANDS_H
#define FS_TEST_REDIS_COMMANDS_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "redis_server.h"

/*
 * Starts or attaches to a server with fs_test_redis_start() and connects
 * *ctx to it.  Returns 0 or -1.  Call fs_test_redis_close() in both cases.
 */
int fs_test_redis_open(struct fs_test_redis *srv, redisContext **ctx);

/* Frees ctx (may be NULL) and stops srv as fs_test_redis_stop() does. */
void fs_test_redis_close(struct fs_test_redis *srv, redisContext *ctx);

/* Empties the database of c with FLUSHDB.  Returns 0 or -1. */
int fs_test_redis_flushdb(redisContext *c);

/* Runs command, which has no arguments to format, on c and fails on an error reply. */
void fs_test_redis_run(redisContext *c, const char *command);

/* Returns the CLIENT ID of the connection c. */
long long fs_test_redis_client_id(redisContext *c);

/*
 * Returns true when the last command of client id, as CLIENT LIST on c
 * shows it, is command (lowercase, such as "exec").
 */
bool fs_test_redis_client_ran(redisContext *c, long long id, const char *command);

/*
 * Polls fs_test_redis_client_ran() every 10 ms and fails the test when
 * client id has not run command within 60 s.
 */
void fs_test_redis_wait_client_ran(redisContext *c, long long id, const char *command);

#endif
