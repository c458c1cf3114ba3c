/* topn_rollup.c - roll-up of closed top-N buckets and resolution of a bucket's content. */
#include "redis/topn_rollup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/result.h"
#include "redis/redis_url.h"

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
 * One step of a roll-up, chosen by ARGV[1]; every step does nothing and
 * returns 0 once the bucket's marker KEYS[1] exists.  ARGV[2] is the expiry.
 * The stage marker is a hash: field "begun", plus one field per staging
 * key that a union has filled.
 *   begin   KEYS[2] the stage marker: from now on writes into the bucket's
 *           time also add to the staging keys.  Fields of an earlier,
 *           interrupted roll-up stay valid, because those writes went on.
 *   union   KEYS[2] the stage marker, KEYS[3] a staging key, KEYS[4 ..]
 *           its sources: ZUNIONSTORE, which overwrites, so a repeated union
 *           counts nothing twice.
 *   commit  KEYS[2] the stage marker, then ARGV[3] staging keys and as many
 *           destination buckets.  Unless a union is missing (an error), it
 *           renames each staging key to its bucket (deleting the bucket when
 *           the sum was empty), sets the marker and removes the stage marker.
 * Returns 1 when it did its step, 0 when the bucket was already built.
 */
static const char rollup_script[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"local mode = ARGV[1]\n"
	"if mode == 'begin' then\n"
	"  redis.call('HSET', KEYS[2], 'begun', '1')\n"
	"  redis.call('EXPIRE', KEYS[2], ARGV[2])\n"
	"elseif mode == 'union' then\n"
	"  if redis.call('HEXISTS', KEYS[2], 'begun') == 0 then\n"
	"    return redis.error_reply('roll-up union before begin')\n"
	"  end\n"
	"  if #KEYS > 3 and redis.call('ZUNIONSTORE', KEYS[3], #KEYS - 3, unpack(KEYS, 4)) > 0 then\n"
	"    redis.call('EXPIRE', KEYS[3], ARGV[2])\n"
	"  elseif #KEYS == 3 then\n"
	"    redis.call('DEL', KEYS[3])\n"
	"  end\n"
	"  redis.call('HSET', KEYS[2], KEYS[3], '1')\n"
	"elseif mode == 'commit' then\n"
	"  local n = tonumber(ARGV[3])\n"
	"  for i = 1, n do\n"
	"    if redis.call('HEXISTS', KEYS[2], KEYS[2 + i]) == 0 then\n"
	"      return redis.error_reply('roll-up commit without the union of ' .. KEYS[2 + i])\n"
	"    end\n"
	"  end\n"
	"  for i = 1, n do\n"
	"    local staged, dest = KEYS[2 + i], KEYS[2 + n + i]\n"
	"    if redis.call('EXISTS', staged) == 1 then\n"
	"      redis.call('RENAME', staged, dest)\n"
	"      redis.call('EXPIRE', dest, ARGV[2])\n"
	"    else\n"
	"      redis.call('DEL', dest)\n"
	"    end\n"
	"  end\n"
	"  redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])\n"
	"  redis.call('DEL', KEYS[2])\n"
	"else\n"
	"  return redis.error_reply('unknown roll-up step ' .. tostring(mode))\n"
	"end\n"
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
fs_topn_rollup_stage_key(int level, int64_t at_s, char *buf, size_t len)
{
	int64_t resolution = fs_topn_window_resolution((enum fs_topn_window)level);

	snprintf(buf, len, FS_TOPN_KEY_PREFIX "rollup:%" PRId64 "s:%" PRId64 ":stage", resolution,
		 span_start(at_s, resolution));
	return buf;
}

char *
fs_topn_rollup_staging_key(int level, int64_t at_s, enum fs_topn_dim dim,
			   enum fs_topn_metric metric, char *buf, size_t len)
{
	int64_t resolution = fs_topn_window_resolution((enum fs_topn_window)level);

	snprintf(buf, len, FS_TOPN_KEY_PREFIX "rollup:%" PRId64 "s:%" PRId64 ":%s:%s", resolution,
		 span_start(at_s, resolution), fs_topn_dim_name(dim), fs_topn_metric_name(metric));
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
	char errtext[160];
	redisReply *reply = redisCommand(ctx, "SCRIPT LOAD %s", text);
	int rc = 0;

	if (reply == NULL) {
		fs_log(FS_LOG_ERR, "redis", "top-N: SCRIPT LOAD failed: %s",
		       fs_redis_error_text(ctx, errtext, sizeof(errtext)));
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
	char errtext[160];
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
			       fs_redis_error_text(ctx, errtext, sizeof(errtext)));
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

/* The calls of one roll-up after begin: one union per destination, then commit. */
#define STEP_CALLS (DEST_COUNT + 1)

/* Keys and argument vectors of those calls, back to back in argv. */
struct rollup_calls {
	char (*keys)[KEY_LEN];
	const char **argv;
	int argc[STEP_CALLS];
	char numbers[5][24];
};

static void
rollup_calls_release(struct rollup_calls *calls)
{
	free(calls->keys);
	free(calls->argv);
}

/*
 * Fills calls with the union and commit calls of the roll-up of the bucket
 * (level, start) from sources.  Keys: the marker, the stage marker,
 * DEST_COUNT staging keys, DEST_COUNT buckets, then the sources of each.
 */
static int
build_calls(struct rollup_calls *calls, const char *sha, int level, int64_t start,
	    const struct fs_topn_sources *sources)
{
	size_t nsrc = (size_t)sources->count;
	size_t nkeys = 2 + 2 * (size_t)DEST_COUNT + DEST_COUNT * nsrc;
	size_t nargs = DEST_COUNT * (8 + nsrc) + 8 + 2 * (size_t)DEST_COUNT;
	struct fs_topn_span dest = { level, start };
	char (*staging)[KEY_LEN], (*dests)[KEY_LEN], (*srcs)[KEY_LEN];
	const char **arg;

	calls->keys = malloc(nkeys * sizeof(*calls->keys));
	calls->argv = malloc(nargs * sizeof(*calls->argv));
	if (calls->keys == NULL || calls->argv == NULL)
		return FS_ERR_SYSTEM;
	staging = calls->keys + 2;
	dests = staging + DEST_COUNT;
	srcs = dests + DEST_COUNT;
	fs_topn_rollup_key(level, start, calls->keys[0], KEY_LEN);
	fs_topn_rollup_stage_key(level, start, calls->keys[1], KEY_LEN);
	for (int d = 0; d < FS_TOPN_DIM_COUNT; d++) {
		for (int m = 0; m < FS_TOPN_METRIC_COUNT; m++) {
			size_t i = (size_t)d * FS_TOPN_METRIC_COUNT + (size_t)m;

			fs_topn_rollup_staging_key(level, start, d, m, staging[i], KEY_LEN);
			fs_topn_span_key(&dest, d, m, dests[i], KEY_LEN);
			for (size_t s = 0; s < nsrc; s++)
				fs_topn_span_key(&sources->spans[s], d, m, srcs[i * nsrc + s], KEY_LEN);
		}
	}
	snprintf(calls->numbers[0], 24, "%" PRId64, level_ttl[level]);
	snprintf(calls->numbers[1], 24, "%zu", 3 + nsrc);
	snprintf(calls->numbers[2], 24, "%d", 2 + 2 * DEST_COUNT);
	snprintf(calls->numbers[3], 24, "%d", DEST_COUNT);

	arg = calls->argv;
	for (size_t i = 0; i < DEST_COUNT; i++) {
		const char **first = arg;

		*arg++ = "EVALSHA";
		*arg++ = sha;
		*arg++ = calls->numbers[1];
		*arg++ = calls->keys[0];
		*arg++ = calls->keys[1];
		*arg++ = staging[i];
		for (size_t s = 0; s < nsrc; s++)
			*arg++ = srcs[i * nsrc + s];
		*arg++ = "union";
		*arg++ = calls->numbers[0];
		calls->argc[i] = (int)(arg - first);
	}
	{
		const char **first = arg;

		*arg++ = "EVALSHA";
		*arg++ = sha;
		*arg++ = calls->numbers[2];
		*arg++ = calls->keys[0];
		*arg++ = calls->keys[1];
		for (size_t i = 0; i < DEST_COUNT; i++)
			*arg++ = staging[i];
		for (size_t i = 0; i < DEST_COUNT; i++)
			*arg++ = dests[i];
		*arg++ = "commit";
		*arg++ = calls->numbers[0];
		*arg++ = calls->numbers[3];
		calls->argc[DEST_COUNT] = (int)(arg - first);
	}
	return 0;
}

/*
 * Sends the begin step of the roll-up of (level, start) and returns its
 * reply: 1 when the roll-up is to be done, 0 when the bucket is built.
 * Returns a negative fs_result on failure, FS_ERR_NOT_FOUND for NOSCRIPT.
 */
static int
send_begin(struct fs_topn_rollup *rollup, redisContext *ctx, int level, int64_t start,
	   struct fs_ratelimit *log_limit)
{
	char errtext[160];
	char marker[KEY_LEN], stage[KEY_LEN], ttl[24];
	const char *argv[7] = { "EVALSHA", rollup->script_sha, "2", marker, stage, "begin", ttl };
	redisReply *reply;
	int rc;

	fs_topn_rollup_key(level, start, marker, sizeof(marker));
	fs_topn_rollup_stage_key(level, start, stage, sizeof(stage));
	snprintf(ttl, sizeof(ttl), "%" PRId64, level_ttl[level]);
	reply = redisCommandArgv(ctx, 7, argv, NULL);
	if (reply == NULL) {
		fs_log_limited(log_limit, FS_LOG_ERR, "redis", "top-N roll-up failed: %s",
			       fs_redis_error_text(ctx, errtext, sizeof(errtext)));
		return FS_ERR_SYSTEM;
	}
	if (reply->type == REDIS_REPLY_INTEGER)
		rc = reply->integer == 1;
	else if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0)
		rc = FS_ERR_NOT_FOUND;
	else
		rc = FS_ERR_INVALID;
	if (rc == FS_ERR_INVALID)
		fs_log_limited(log_limit, FS_LOG_ERR, "redis",
			       "top-N roll-up of %s bucket %" PRId64 " rejected: %s",
			       fs_topn_window_name((enum fs_topn_window)level), start,
			       reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply type");
	freeReplyObject(reply);
	return rc;
}

/*
 * Pipelines the union and commit calls and reads every reply.  Returns 0
 * with *committed set, FS_ERR_NOT_FOUND when a call met NOSCRIPT, or
 * another negative fs_result (logged).
 */
static int
send_steps(redisContext *ctx, const struct rollup_calls *calls, int level, int64_t start,
	   int *committed, struct fs_ratelimit *log_limit)
{
	char errtext[160];
	const char **argv = calls->argv;
	int noscript = 0;
	int rc = 0;

	for (int i = 0; i < STEP_CALLS; i++) {
		if (redisAppendCommandArgv(ctx, calls->argc[i], argv, NULL) != REDIS_OK) {
			/* Part of a pipeline is buffered: no later reply would match. */
			ctx->err = REDIS_ERR_OOM;
			snprintf(ctx->errstr, sizeof(ctx->errstr), "out of memory");
			return FS_ERR_SYSTEM;
		}
		argv += calls->argc[i];
	}
	for (int i = 0; i < STEP_CALLS; i++) {
		void *raw = NULL;
		redisReply *reply;

		if (redisGetReply(ctx, &raw) != REDIS_OK) {
			fs_log_limited(log_limit, FS_LOG_ERR, "redis", "top-N roll-up failed: %s",
				       fs_redis_error_text(ctx, errtext, sizeof(errtext)));
			return FS_ERR_SYSTEM;
		}
		reply = raw;
		if (reply->type == REDIS_REPLY_INTEGER) {
			if (i == STEP_CALLS - 1)
				*committed = reply->integer == 1;
		} else if (reply->type == REDIS_REPLY_ERROR &&
			   strncmp(reply->str, "NOSCRIPT", 8) == 0) {
			noscript = 1;
		} else if (rc == 0) {
			fs_log_limited(log_limit, FS_LOG_ERR, "redis",
				       "top-N roll-up of %s bucket %" PRId64 " rejected: %s",
				       fs_topn_window_name((enum fs_topn_window)level), start,
				       reply->type == REDIS_REPLY_ERROR ? reply->str
									: "unexpected reply type");
			rc = FS_ERR_INVALID;
		}
		freeReplyObject(reply);
	}
	return rc == 0 && noscript ? FS_ERR_NOT_FOUND : rc;
}

/*
 * Rolls up the bucket of `level` starting at start: begin, then one union
 * per destination and commit, pipelined.  Each call is atomic on its own,
 * so Redis serves other clients between the unions.  Every step may run
 * again after a failure or in another writer without counting twice.
 * Returns 0, or a negative fs_result (logged).  *rolled counts a commit
 * that this call did.
 */
static int
rollup_one(struct fs_topn_rollup *rollup, redisContext *ctx, int level, int64_t start,
	   int64_t now_s, uint64_t *commands, uint64_t *rolled, struct fs_ratelimit *log_limit)
{
	int64_t child_res = fs_topn_window_resolution((enum fs_topn_window)(level - 1));
	int64_t resolution = fs_topn_window_resolution((enum fs_topn_window)level);
	struct fs_topn_sources *sources = malloc(sizeof(*sources));
	struct rollup_calls calls = { .keys = NULL, .argv = NULL };
	int64_t children[MAX_CHILDREN];
	int nchildren = 0;
	int committed = 0;
	int rc;

	if (sources == NULL)
		return FS_ERR_SYSTEM;
	if (rollup->script_sha[0] == '\0') {
		(*commands)++;
		rc = fs_topn_script_load(ctx, rollup_script, rollup->script_sha);
		if (rc < 0)
			goto out;
	}
	/* A second attempt follows a NOSCRIPT: Redis lost its scripts (a restart or SCRIPT FLUSH). */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt == 1) {
			(*commands)++;
			rc = fs_topn_script_load(ctx, rollup_script, rollup->script_sha);
			if (rc < 0)
				goto out;
		}
		(*commands)++;
		rc = send_begin(rollup, ctx, level, start, log_limit);
		if (rc == FS_ERR_NOT_FOUND)
			continue;
		if (rc <= 0)
			break;

		nchildren = 0;
		for (int64_t t = start; t < start + resolution; t += child_res)
			children[nchildren++] = t;
		rc = fs_topn_sources_resolve(ctx, level - 1, children, nchildren, now_s, sources);
		*commands += (uint64_t)sources->lookups;
		if (rc < 0)
			break;
		rollup_calls_release(&calls);
		calls.keys = NULL;
		calls.argv = NULL;
		rc = build_calls(&calls, rollup->script_sha, level, start, sources);
		if (rc < 0)
			break;
		*commands += STEP_CALLS;
		rc = send_steps(ctx, &calls, level, start, &committed, log_limit);
		if (rc != FS_ERR_NOT_FOUND)
			break;
	}
	if (rc == FS_ERR_NOT_FOUND) {
		fs_log_limited(log_limit, FS_LOG_ERR, "redis",
			       "top-N roll-up: the script is still missing after SCRIPT LOAD");
		rc = FS_ERR_INVALID;
	}
	if (rc > 0)
		rc = 0;
	*rolled += (uint64_t)committed;

out:
	rollup_calls_release(&calls);
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
