/* redis_commands.c - Redis commands for cmocka tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "redis_commands.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CLIENT_WAIT_POLLS 6000
#define CLIENT_POLL_US 10000

int
fs_test_redis_open(struct fs_test_redis *srv, redisContext **ctx)
{
	*ctx = NULL;
	if (fs_test_redis_start(srv) < 0)
		return -1;
	*ctx = fs_test_redis_connect(srv);
	return *ctx ? 0 : -1;
}

void
fs_test_redis_close(struct fs_test_redis *srv, redisContext *ctx)
{
	if (ctx)
		redisFree(ctx);
	fs_test_redis_stop(srv);
}

int
fs_test_redis_flushdb(redisContext *c)
{
	redisReply *reply = redisCommand(c, "FLUSHDB");
	int rc = 0;

	if (!reply || reply->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "FLUSHDB failed: %s\n", reply ? reply->str : c->errstr);
		rc = -1;
	}
	freeReplyObject(reply);
	return rc;
}

void
fs_test_redis_run(redisContext *c, const char *command)
{
	redisReply *reply = redisCommand(c, command);

	assert_non_null(reply);
	if (reply->type == REDIS_REPLY_ERROR)
		fail_msg("%s: %s", command, reply->str);
	freeReplyObject(reply);
}

long long
fs_test_redis_client_id(redisContext *c)
{
	redisReply *reply = redisCommand(c, "CLIENT ID");
	long long id;

	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
	id = reply->integer;
	freeReplyObject(reply);
	return id;
}

bool
fs_test_redis_client_ran(redisContext *c, long long id, const char *command)
{
	char field[32];
	redisReply *reply = redisCommand(c, "CLIENT LIST ID %lld", id);
	bool found;

	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_STRING);
	snprintf(field, sizeof(field), " cmd=%s ", command);
	found = strstr(reply->str, field) != NULL;
	freeReplyObject(reply);
	return found;
}

void
fs_test_redis_wait_client_ran(redisContext *c, long long id, const char *command)
{
	for (int i = 0; i < CLIENT_WAIT_POLLS; i++) {
		if (fs_test_redis_client_ran(c, id, command))
			return;
		usleep(CLIENT_POLL_US);
	}
	fail_msg("client %lld did not run %s within 60 s", id, command);
}
