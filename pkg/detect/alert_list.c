/*
 * alert_list.c - open and recently cleared alerts from Redis.
 */
#include "detect/alert_list.h"

#include <stdio.h>

#include "core/result.h"
#include "detect/detect.h"
#include "redis/redis_url.h"

/* Parses a JSON alert string reply into out[*count] when it parses. */
static void
add_entry(const redisReply *r, bool open, struct fs_alert_entry *out, size_t *count,
	  size_t *skipped)
{
	if (!r || r->type != REDIS_REPLY_STRING ||
	    fs_alert_parse_json(r->str, r->len, &out[*count].alert) < 0) {
		(*skipped)++;
		return;
	}
	out[*count].open = open;
	(*count)++;
}

static int
redis_failed(redisContext *ctx, char *err, size_t err_len, const char *what)
{
	char why[160];

	snprintf(err, err_len, "reading the %s from Redis failed: %s", what,
		 ctx->err ? fs_redis_error_text(ctx, why, sizeof(why)) : "unexpected reply");
	return FS_ERR_SYSTEM;
}

/* Reads the open alerts: the keys, then the JSON of each, pipelined. */
static int
read_open(redisContext *ctx, size_t max, struct fs_alert_entry *out, size_t *count,
	  size_t *skipped, char *err, size_t err_len)
{
	redisReply *keys = redisCommand(ctx, "ZREVRANGE " FS_DETECT_OPEN_KEY " 0 %lld",
					(long long)max - 1);
	size_t sent = 0;
	int rc = 0;

	if (!keys || keys->type != REDIS_REPLY_ARRAY) {
		rc = redis_failed(ctx, err, err_len, "open alerts");
		goto out;
	}
	for (size_t i = 0; i < keys->elements && i < max; i++) {
		const redisReply *key = keys->element[i];

		if (key->type != REDIS_REPLY_STRING)
			continue;
		redisAppendCommand(ctx, "HGET %b json", key->str, key->len);
		sent++;
	}
	for (size_t i = 0; i < sent; i++) {
		void *reply = NULL;

		if (redisGetReply(ctx, &reply) != REDIS_OK || !reply) {
			rc = redis_failed(ctx, err, err_len, "open alerts");
			goto out;
		}
		add_entry(reply, true, out, count, skipped);
		freeReplyObject(reply);
	}
out:
	if (keys)
		freeReplyObject(keys);
	return rc;
}

int
fs_alert_list_read(redisContext *ctx, size_t max, struct fs_alert_entry *out, size_t *count,
		   size_t *skipped, char *err, size_t err_len)
{
	redisReply *recent = NULL;
	int rc;

	*count = 0;
	*skipped = 0;
	if (max == 0)
		return 0;
	rc = read_open(ctx, max, out, count, skipped, err, err_len);
	if (rc < 0 || *count >= max)
		return rc;
	recent = redisCommand(ctx, "ZREVRANGE " FS_DETECT_RECENT_KEY " 0 %lld",
			      (long long)(max - *count) - 1);
	if (!recent || recent->type != REDIS_REPLY_ARRAY) {
		rc = redis_failed(ctx, err, err_len, "cleared alerts");
		goto out;
	}
	for (size_t i = 0; i < recent->elements && *count < max; i++)
		add_entry(recent->element[i], false, out, count, skipped);
out:
	if (recent)
		freeReplyObject(recent);
	return rc;
}
