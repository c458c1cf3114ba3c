#include "redis/reply.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/count.h"
#include "core/log.h"
#include "core/result.h"
#include "redis/redis_url.h"

int
fs_redis_append(redisContext *ctx, int argc, const char **argv, const char *what)
{
	if (redisAppendCommandArgv(ctx, argc, argv, NULL) == REDIS_OK)
		return 0;
	ctx->err = REDIS_ERR_OOM;
	snprintf(ctx->errstr, sizeof(ctx->errstr), "out of memory");
	fs_log(FS_LOG_ERR, "redis", "%s failed: out of memory while buffering commands", what);
	return FS_ERR_SYSTEM;
}

int
fs_redis_read_replies(redisContext *ctx, redisReply **replies, int count, const char *what)
{
	int rc = 0;

	memset(replies, 0, sizeof(*replies) * (size_t)count);
	for (int i = 0; i < count; i++) {
		void *raw = NULL;

		if (redisGetReply(ctx, &raw) != REDIS_OK) {
			char why[160];

			fs_log(FS_LOG_ERR, "redis", "%s failed: %s", what,
			       fs_redis_error_text(ctx, why, sizeof(why)));
			return FS_ERR_SYSTEM;
		}
		replies[i] = raw;
		if (replies[i]->type == REDIS_REPLY_ERROR && rc == 0) {
			fs_log(FS_LOG_ERR, "redis", "%s rejected: %s", what, replies[i]->str);
			rc = FS_ERR_INVALID;
		}
	}
	return rc;
}

void
fs_redis_free_replies(redisReply **replies, int count)
{
	for (int i = 0; i < count; i++) {
		if (replies[i] != NULL)
			freeReplyObject(replies[i]);
		replies[i] = NULL;
	}
}

int
fs_redis_parse_score(const redisReply *reply, uint64_t *value)
{
	char *end;
	double d;

	if (reply->type == REDIS_REPLY_NIL) {
		*value = 0;
		return 0;
	}
	if (reply->type != REDIS_REPLY_STRING)
		return FS_ERR_INVALID;
	d = strtod(reply->str, &end);
	if (end == reply->str || *end != '\0' || isnan(d) || d < 0)
		return FS_ERR_INVALID;
	/* A sum past FS_COUNT_MAX (a hostile exporter's counts) reads as FS_COUNT_MAX. */
	*value = d >= (double)FS_COUNT_MAX ? FS_COUNT_MAX : (uint64_t)d;
	return 0;
}
