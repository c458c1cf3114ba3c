/*
 * topn_rollup.h - server-side roll-up of top-N buckets, and the bucket keys
 * whose union contains a bucket's content.
 *
 * fs_topn_flush() writes only the 10 s buckets (level 0).  Each coarser
 * bucket (level 1 = 60 s, 2 = 5 min, 3 = 1 h; the level is the enum
 * fs_topn_window of the window that reads it) is built once, when it has
 * closed: a Lua script sums its children with ZUNIONSTORE into it and then
 * sets its roll-up marker
 *
 *   flowsift:top:rollup:<resolution>:<bucket_start_unix>
 *
 * with the same expiry as the bucket.  The script is atomic, checks the
 * marker first and sets it last, and ZUNIONSTORE overwrites its destination,
 * so running it again (a second report replica, a retry after a lost reply)
 * never counts twice.  A write that arrives for a bucket whose parents are
 * already rolled up adds to those parents too, in the same script, so a
 * rolled-up bucket equals the sum of its 10 s buckets at every moment.
 *
 * Until its marker exists, a coarse bucket's content is the union of its
 * children, each resolved the same way down to the 10 s buckets.
 * fs_topn_sources_resolve() returns that list of keys, which queries and any
 * other reader of coarse buckets union instead of the bucket itself.
 *
 * A bucket at level k >= 1 still without a marker fs_topn_level_ttl(k - 1)
 * seconds after its end is read as it is (normally absent, so as empty),
 * because its children may have expired, and roll-up no longer builds it.
 * That happens only when no report worker ran a roll-up for about 15
 * minutes; those buckets' counts are then lost for the coarse windows.
 */
#ifndef FS_REDIS_TOPN_ROLLUP_H
#define FS_REDIS_TOPN_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "core/log.h"
#include "redis/topn.h"

#define FS_TOPN_ROLLUP_GRACE_S 10   /* after a bucket's end, before its roll-up */
#define FS_TOPN_MAX_SOURCES 256     /* a 24h window needs 157 at most */
#define FS_TOPN_ROLLUPS_PER_PASS 32 /* roll-ups that one fs_topn_rollup_run() sends at most */

/* One bucket: its level (enum fs_topn_window) and its start in Unix seconds. */
struct fs_topn_span {
	int level;
	int64_t start;
};

/* Buckets whose union contains the content of the requested buckets. */
struct fs_topn_sources {
	int count;
	int lookups;   /* EXISTS commands that the resolution sent */
	struct fs_topn_span spans[FS_TOPN_MAX_SOURCES];
};

/* Roll-up progress of one writer: the next bucket start to roll, per level, 0 before the first run. */
struct fs_topn_rollup {
	int64_t next_start[FS_TOPN_WINDOW_COUNT];
	char script_sha[41];   /* SHA1 of the roll-up script, "" until loaded */
};

/* Returns the expiry in seconds set on buckets of `level` (and on their roll-up markers). */
int64_t fs_topn_level_ttl(int level);

/* Writes the roll-up marker key of the bucket of `level` that contains at_s into buf. */
char *fs_topn_rollup_key(int level, int64_t at_s, char *buf, size_t len);

/* Writes the key of span for (dim, metric) into buf (size len).  Returns buf. */
char *fs_topn_span_key(const struct fs_topn_span *span, enum fs_topn_dim dim,
		       enum fs_topn_metric metric, char *buf, size_t len);

/*
 * Fills out with the buckets whose union contains the content of the count
 * buckets of `level` starting at starts[] (all of one level), as seen at
 * now_s: a bucket of level 0 or with a roll-up marker stands for itself,
 * any other for its children that start at or before now_s.  Later
 * children are empty unless a writer's clock runs ahead of now_s.  Marker look-ups are
 * pipelined, one round trip per level.  Returns 0, FS_ERR_SYSTEM when the
 * connection failed, FS_ERR_INVALID for an error reply or more than
 * FS_TOPN_MAX_SOURCES buckets.  Errors are logged.
 */
int fs_topn_sources_resolve(redisContext *ctx, int level, const int64_t *starts, int count,
			    int64_t now_s, struct fs_topn_sources *out);

/*
 * Rolls up, in order of level, every bucket that closed more than
 * FS_TOPN_ROLLUP_GRACE_S before now_s and that rollup has not handled yet,
 * FS_TOPN_ROLLUPS_PER_PASS at most.  It starts no earlier than the oldest
 * bucket whose children may still exist, so the first run (and a run after
 * the clock jumped forward) also builds those.  *commands counts the Redis commands sent.
 * Returns 0, or FS_ERR_SYSTEM / FS_ERR_INVALID (logged through log_limit)
 * with the failed bucket left for the next run.
 */
int fs_topn_rollup_run(struct fs_topn_rollup *rollup, redisContext *ctx, int64_t now_s,
		       uint64_t *commands, uint64_t *rolled, struct fs_ratelimit *log_limit);

/*
 * Sends SCRIPT LOAD for text and stores its SHA1 in sha (41 bytes).
 * Returns 0, FS_ERR_SYSTEM or FS_ERR_INVALID.  Shared by the two scripts.
 */
int fs_topn_script_load(redisContext *ctx, const char *text, char sha[41]);

#endif
