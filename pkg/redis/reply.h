/*
 * reply.h - reading pipelined hiredis replies and sorted-set scores.
 *
 * Helpers shared by the modules that pipeline several commands and then read
 * the replies in order.  `what` names the operation in log lines, such as
 * "top-N series".
 */
#ifndef FS_REDIS_REPLY_H
#define FS_REDIS_REPLY_H

#include <stdint.h>

#include <hiredis/hiredis.h>

/*
 * Appends one command (argv borrowed) to ctx's output buffer.  On failure
 * (out of memory) marks ctx failed, because later replies would no longer
 * match their commands, logs, and returns FS_ERR_SYSTEM; else 0.
 */
int fs_redis_append(redisContext *ctx, int argc, const char **argv, const char *what);

/*
 * Reads count replies into replies[] (owned by the caller afterwards: free
 * them with fs_redis_free_replies()).  Returns FS_ERR_SYSTEM when the
 * connection failed (the slots past the failure stay NULL), FS_ERR_INVALID
 * when a reply is an error, else 0.  Both are logged once.
 */
int fs_redis_read_replies(redisContext *ctx, redisReply **replies, int count,
			  const char *what);

/* Frees every non-NULL reply of replies[0..count) and sets it to NULL. */
void fs_redis_free_replies(redisReply **replies, int count);

/*
 * Parses a score: a bulk string in RESP2, or nil, which reads as 0.  A score
 * of FS_COUNT_MAX (core/count.h) or more reads as FS_COUNT_MAX.  Returns 0,
 * or FS_ERR_INVALID for anything else, a negative score or NaN.
 */
int fs_redis_parse_score(const redisReply *reply, uint64_t *value);

#endif
