/* topn_rollup.c - roll-up of closed top-N buckets and resolution of a bucket's content. */
#include "redis/topn_rollup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/result.h"

#define KEY_LEN 96   /* fits the prefix, names and a 20-digit bucket start */
#define DEST_COUNT (FS_TOPN_DIM_COUNT * FS_TOPN_METRIC_COUNT)
#define MAX_CHILDREN 12   /* the largest ratio of two neighbouring resolutions */

/*
 * Expiry per level.  Levels 0 to 2 feed the roll-up of their parent, so they
 * stay about 15 minutes past the time their parent is due, which lets
 * roll-ups stall that long (no report worker running) without losing data.
 * Level 3 stays for its window, 24h, plus FS_TOPN_EXPIRE_MARGIN_S.
 */
static const int64_t level_ttl[FS_TOPN_WINDOW_COUNT] = { 900, 1200, 4500,
							  86400 + FS_TOPN_EXPIRE_MARGIN_S };

/*
 * Sums the children into each destination, then sets the marker, unless the
 * marker already exists.  ZUNIONSTORE overwrites, so a run cut short by an
 * error reply leaves no double count behind, and a later run redoes it.
 *   KEYS[1]                the roll-up marker
 *   KEYS[2 .. ndest + 1]   the destination buckets
 *   then nsrc source keys per destination, in the same order
 *   ARGV[1] expiry in seconds, ARGV[2] ndest, ARGV[3] nsrc
 * Returns 1 when it rolled up, 0 when the marker existed.
 */
static const char rollup_script[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"local ndest = tonumber(ARGV[2])\n"
	"local nsrc = tonumber(ARGV[3])\n"
	"local at = ndest + 2\n"
	"for d = 2, ndest + 1 do\n"
	"  if nsrc > 0 then\n"
	"    local sources = {}\n"
	"    for s = 1, nsrc do sources[s] = KEYS[at + s - 1] end\n"
	"    if redis.call('ZUNIONSTORE', KEYS[d], nsrc, unpack(sources)) > 0 then\n"
	"      redis.call('EXPIRE', KEYS[d], ARGV[1])\n"
	"    end\n"
	"  end\n"
	"  at = at + nsrc\n"
	"end\n"
	"redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])\n"
	"return 1\n";

int64_t
fs_topn_level_ttl(int level)
{
	return level_ttl[level];
}

/* Returns the start of the bucket of size resolution that contains t, rounding down for negative t. */
static int64_t
span_start(int64_t t, int64_t resolution)
{
	int64_t rem = t % resolution;

	if (rem < 0)
		rem += resolution;
	return t - rem;
}

char *
fs_topn_rollup_key(int level, int64_t at_s, char *buf, size_t len)
{
	int64_t resolution = fs_topn_window_resolution((enum fs_topn_window)level);

	snprintf(buf, len, FS_TOPN_KEY_PREFIX "rollup:%" PRId64 "s:%" PRId64, resolution,
		 span_start(at_s, resolution));
	return buf;
}

char *
fs_topn_span_key(const struct fs_topn_span *span, enum fs_topn_dim dim,
		 enum fs_topn_metric metric, char *buf, size_t len)
{
	return fs_topn_bucket_key(dim, metric, (enum fs_topn_window)span->level, span->start, buf,
				  len);
}

int
fs_topn_script_load(redisContext *ctx, const char *text, char sha[41])
{
	redisReply *reply = redisCommand(ctx, "SCRIPT LOAD %s", text);
	int rc = 0;

	if (reply == NULL) {
		fs_log(FS_LOG_ERR, "redis", "top-N: SCRIPT LOAD failed: %s", ctx->errstr);
		return FS_ERR_SYSTEM;
	}
	if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
		fs_log(FS_LOG_ERR, "redis", "top-N: SCRIPT LOAD rejected: %s",
		       reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply type");
		rc = FS_ERR_INVALID;
	} else {
		memcpy(sha, reply->str, 41);
	}
	freeReplyObject(reply);
	return rc;
}

/* Appends span to list (capacity FS_TOPN_MAX_SOURCES).  Returns 0 or FS_ERR_INVALID when full. */
static int
push_span(struct fs_topn_span *list, int *count, int level, int64_t start)
{
	if (*count >= FS_TOPN_MAX_SOURCES) {
		fs_log(FS_LOG_ERR, "redis", "top-N: more than %d buckets to read; not resolved",
		       FS_TOPN_MAX_SOURCES);
		return FS_ERR_INVALID;
	}
	list[*count].level = level;
	list[*count].start = start;
	(*count)++;
	return 0;
}

/* Sends EXISTS for the marker of each span and stores the results in claimed[]. */
static int
read_markers(redisContext *ctx, const struct fs_topn_span *spans, int count, int *claimed)
{
	char key[KEY_LEN];
	int rc = 0;

	for (int i = 0; i < count; i++) {
		fs_topn_rollup_key(spans[i].level, spans[i].start, key, sizeof(key));
		if (redisAppendCommand(ctx, "EXISTS %s", key) != REDIS_OK) {
			/* Out of memory with part of a pipeline buffered: no later reply would match. */
			ctx->err = REDIS_ERR_OOM;
			snprintf(ctx->errstr, sizeof(ctx->errstr), "out of memory");
			return FS_ERR_SYSTEM;
		}
	}
	for (int i = 0; i < count; i++) {
		void *raw = NULL;
		redisReply *reply;

		if (redisGetReply(ctx, &raw) != REDIS_OK) {
			fs_log(FS_LOG_ERR, "redis", "top-N: reading roll-up markers failed: %s",
			       ctx->errstr);
			return FS_ERR_SYSTEM;
		}
		reply = raw;
		if (reply->type != REDIS_REPLY_INTEGER) {
			if (rc == 0)
				fs_log(FS_LOG_ERR, "redis", "top-N: EXISTS of a roll-up marker: %s",
				       reply->type == REDIS_REPLY_ERROR ? reply->str
									: "unexpected reply type");
			rc = FS_ERR_INVALID;
		} else {
			claimed[i] = reply->integer == 1;
		}
		freeReplyObject(reply);
	}
	return rc;
}

int
fs_topn_sources_resolve(redisContext *ctx, int level, const int64_t *starts, int count,
			int64_t now_s, struct fs_topn_sources *out)
{
	struct fs_topn_span frontier[FS_TOPN_MAX_SOURCES];
	struct fs_topn_span next[FS_TOPN_MAX_SOURCES];
	int claimed[FS_TOPN_MAX_SOURCES];
	int nfrontier = 0;
	int rc;

	out->count = 0;
	out->lookups = 0;
	for (int i = 0; i < count; i++) {
		rc = push_span(frontier, &nfrontier, level, starts[i]);
		if (rc < 0)
			return rc;
	}
	/* Breadth first: every span of the frontier has the same level. */
	for (; nfrontier > 0; level--) {
		int64_t resolution = fs_topn_window_resolution((enum fs_topn_window)level);
		int nnext = 0;

		if (level == 0) {
			for (int i = 0; i < nfrontier; i++) {
				rc = push_span(out->spans, &out->count, 0, frontier[i].start);
				if (rc < 0)
					return rc;
			}
			break;
		}
		out->lookups += nfrontier;
		rc = read_markers(ctx, frontier, nfrontier, claimed);
		if (rc < 0)
			return rc;
		for (int i = 0; i < nfrontier; i++) {
			const struct fs_topn_span *span = &frontier[i];
			int64_t child_res = fs_topn_window_resolution((enum fs_topn_window)(level - 1));
			int64_t end = span->start + resolution;

			/*
			 * A bucket rolled up is read as it is.  So is one left
			 * unrolled past the life of its children, because nothing
			 * of them remains.  Its own key is then normally absent,
			 * unless an earlier release wrote it directly.
			 */
			if (claimed[i] || end + level_ttl[level - 1] <= now_s) {
				rc = push_span(out->spans, &out->count, level, span->start);
			} else {
				for (int64_t t = span->start; t < end && t <= now_s && rc == 0;
				     t += child_res)
					rc = push_span(next, &nnext, level - 1, t);
			}
			if (rc < 0)
				return rc;
		}
		memcpy(frontier, next, sizeof(next[0]) * (size_t)nnext);
		nfrontier = nnext;
	}
	return 0;
}

/* Key storage and argument vector of one roll-up call. */
struct rollup_call {
	char (*keys)[KEY_LEN];
	const char **argv;
	int argc;
};

/* Fills call with EVALSHA, the keys and the arguments of the roll-up of (level, start). */
static int
build_call(struct rollup_call *call, const char *sha, int level, int64_t start,
	   const struct fs_topn_sources *sources, char numbers[4][24])
{
	size_t nkeys = 1 + DEST_COUNT + (size_t)DEST_COUNT * (size_t)sources->count;
	struct fs_topn_span dest = { level, start };
	size_t k = 0;

	call->keys = malloc(nkeys * sizeof(*call->keys));
	call->argv = malloc((nkeys + 6) * sizeof(*call->argv));
	if (call->keys == NULL || call->argv == NULL)
		return FS_ERR_SYSTEM;

	fs_topn_rollup_key(level, start, call->keys[k++], KEY_LEN);
	for (int d = 0; d < FS_TOPN_DIM_COUNT; d++)
		for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++)
			fs_topn_span_key(&dest, d, m, call->keys[k++], KEY_LEN);
	for (int d = 0; d < FS_TOPN_DIM_COUNT; d++)
		for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++)
			for (int s = 0; s < sources->count; s++)
				fs_topn_span_key(&sources->spans[s], d, m, call->keys[k++], KEY_LEN);

	snprintf(numbers[0], 24, "%zu", nkeys);
	snprintf(numbers[1], 24, "%" PRId64, level_ttl[level]);
	snprintf(numbers[2], 24, "%d", DEST_COUNT);
	snprintf(numbers[3], 24, "%d", sources->count);
	call->argc = 0;
	call->argv[call->argc++] = "EVALSHA";
	call->argv[call->argc++] = sha;
	call->argv[call->argc++] = numbers[0];
	for (size_t i = 0; i < nkeys; i++)
		call->argv[call->argc++] = call->keys[i];
	call->argv[call->argc++] = numbers[1];
	call->argv[call->argc++] = numbers[2];
	call->argv[call->argc++] = numbers[3];
	return 0;
}

/*
 * Rolls up the bucket of `level` starting at start.  Returns 0, or a
 * negative fs_result (logged).  *rolled counts a roll-up that this call did.
 */
static int
rollup_one(struct fs_topn_rollup *rollup, redisContext *ctx, int level, int64_t start,
	   int64_t now_s, uint64_t *commands, uint64_t *rolled, struct fs_ratelimit *log_limit)
{
	int64_t child_res = fs_topn_window_resolution((enum fs_topn_window)(level - 1));
	int64_t resolution = fs_topn_window_resolution((enum fs_topn_window)level);
	struct fs_topn_sources *sources = malloc(sizeof(*sources));
	int64_t children[MAX_CHILDREN];
	struct rollup_call call = { NULL, NULL, 0 };
	char numbers[4][24];
	int nchildren = 0;
	int rc;

	if (sources == NULL)
		return FS_ERR_SYSTEM;
	for (int64_t t = start; t < start + resolution; t += child_res)
		children[nchildren++] = t;
	rc = fs_topn_sources_resolve(ctx, level - 1, children, nchildren, now_s, sources);
	*commands += (uint64_t)sources->lookups;
	if (rc < 0)
		goto out;
	if (rollup->script_sha[0] == '\0') {
		(*commands)++;
		rc = fs_topn_script_load(ctx, rollup_script, rollup->script_sha);
		if (rc < 0)
			goto out;
	}
	rc = build_call(&call, rollup->script_sha, level, start, sources, numbers);
	if (rc < 0)
		goto out;

	for (int attempt = 0; attempt < 2; attempt++) {
		redisReply *reply = redisCommandArgv(ctx, call.argc, call.argv, NULL);

		(*commands)++;
		if (reply == NULL) {
			fs_log_limited(log_limit, FS_LOG_ERR, "redis", "top-N roll-up failed: %s",
				       ctx->errstr);
			rc = FS_ERR_SYSTEM;
			break;
		}
		if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0 &&
		    attempt == 0) {
			/* The server lost its scripts (a restart or SCRIPT FLUSH): load it again. */
			freeReplyObject(reply);
			(*commands)++;
			rc = fs_topn_script_load(ctx, rollup_script, rollup->script_sha);
			if (rc < 0)
				break;
			continue;
		}
		if (reply->type == REDIS_REPLY_INTEGER) {
			*rolled += reply->integer == 1;
			rc = 0;
		} else {
			fs_log_limited(log_limit, FS_LOG_ERR, "redis",
				       "top-N roll-up of %s bucket %" PRId64 " rejected: %s",
				       fs_topn_window_name((enum fs_topn_window)level), start,
				       reply->type == REDIS_REPLY_ERROR ? reply->str
									: "unexpected reply type");
			rc = FS_ERR_INVALID;
		}
		freeReplyObject(reply);
		break;
	}

out:
	free(call.keys);
	free(call.argv);
	free(sources);
	return rc;
}

int
fs_topn_rollup_run(struct fs_topn_rollup *rollup, redisContext *ctx, int64_t now_s,
		   uint64_t *commands, uint64_t *rolled, struct fs_ratelimit *log_limit)
{
	int sent = 0;

	for (int level = 1; level < FS_TOPN_WINDOW_COUNT; level++) {
		int64_t resolution = fs_topn_window_resolution((enum fs_topn_window)level);
		int64_t oldest = span_start(now_s - level_ttl[level - 1], resolution);
		int64_t *next = &rollup->next_start[level];

		/*
		 * Start with the oldest bucket whose children may still exist:
		 * on the first run, and after the clock jumped forward.  Readers
		 * take older unbuilt buckets as they are (fs_topn_sources_resolve()).
		 */
		if (*next < oldest)
			*next = oldest;
		while (*next + resolution + FS_TOPN_ROLLUP_GRACE_S <= now_s &&
		       sent < FS_TOPN_ROLLUPS_PER_PASS) {
			int rc = rollup_one(rollup, ctx, level, *next, now_s, commands, rolled,
					    log_limit);

			if (rc < 0)
				return rc;
			*next += resolution;
			sent++;
		}
	}
	return 0;
}
