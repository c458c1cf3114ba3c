/*
 * redis_server.h - a private Redis server for tests.
 *
 * fs_test_redis_start() uses the server named by $FSTEST_REDIS_URL when it
 * is set, flushing its database first (the URL's /db, else database 15, so
 * data in database 0 is left alone).  Otherwise it spawns `redis-server` on
 * a free 127.0.0.1 port with no persistence, in a new temporary directory
 * that holds only its log file.  fs_test_redis_spawn() always spawns, for
 * tests that stop the server or need extra server options.
 *
 * Both wait until the server answers PING (at most 10 s).  Call
 * fs_test_redis_stop() before the test program exits, also after a failed
 * start: it stops a spawned server, waits for it and removes its directory.
 */
#ifndef FS_TEST_REDIS_SERVER_H
#define FS_TEST_REDIS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

struct fs_test_redis {
	pid_t pid;              /* 0 when not spawned by us or already stopped */
	int port;
	bool external;          /* true when $FSTEST_REDIS_URL names the server */
	char dir[64];           /* the spawned server's --dir, "" when none */
	char url[512];          /* URL to pass to fs_redis_url_parse() */
};

/* Starts or attaches to a server as described above.  Returns 0 or -1 (reason on stderr). */
int fs_test_redis_start(struct fs_test_redis *srv);

/*
 * Spawns redis-server with extra_args (a NULL-terminated list of further
 * command-line arguments, or NULL) appended.  Returns 0 or -1.
 */
int fs_test_redis_spawn(struct fs_test_redis *srv, const char *const *extra_args);

/*
 * Spawns redis-server as fs_test_redis_spawn() does, but on port (a test
 * that starts Redis where a worker already expects it).  Returns 0 or -1;
 * call fs_test_redis_stop() in both cases.
 */
int fs_test_redis_spawn_port(struct fs_test_redis *srv, int port,
			     const char *const *extra_args);

/* Connects to srv->url; returns a context for redisFree(), or NULL (reason on stderr). */
redisContext *fs_test_redis_connect(const struct fs_test_redis *srv);

/* Stops a spawned server (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
void fs_test_redis_stop(struct fs_test_redis *srv);

#endif
