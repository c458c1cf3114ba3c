/*
 * topn_rollup.h - server-side roll-up of top-N buckets, and the bucket keys
 * whose union contains a bucket's content.
 *
 * fs_topn_flush() writes only the 10 s buckets (level 0).  Each coarser
 * bucket (level 1 = 60 s, 2 = 5 min, 3 = 1 h; the level is the enum
 * fs_topn_window of the window that reads it) is built once, when it has
 * closed, by three steps of one Lua script:
 *
 *   begin   creates the stage marker  flowsift:top:rollup:<res>:<start>:stage
 *   union   per dimension and metric: ZUNIONSTORE of the children into the
 *           staging key  flowsift:top:rollup:<res>:<start>:<dim>:<metric>
 *   commit  renames every staging key to its bucket and sets the marker
 *           flowsift:top:rollup:<res>:<start>
 *
 * The 36 unions are separate calls, so Redis serves other clients between
 * them.  Each step first checks the marker, and a union overwrites its
 * staging key.  Commit refuses to run unless every union has run since
 * begin.  So any step may run again (a second report replica, a retry
 * after an error or a lost reply) without counting twice.  A write whose time falls
 * into a bucket whose roll-up has begun adds to the staging keys too, and
 * once the bucket is built, to the bucket itself.  So a built bucket
 * equals the sum of its 10 s buckets at every moment.  Markers and staging
 * keys expire with the bucket.
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

/* Roll-up progress of one writer: the next bucket start to roll up, per level. */
struct fs_topn_rollup {
	int64_t next_start[FS_TOPN_WINDOW_COUNT];
	char script_sha[41];   /* SHA1 of the roll-up script, "" until loaded */
};

/* Returns the expiry in seconds of buckets of `level`, and of their markers and staging keys. */
int64_t fs_topn_level_ttl(int level);

/* Writes the roll-up marker key of the bucket of `level` that contains at_s into buf. */
char *fs_topn_rollup_key(int level, int64_t at_s, char *buf, size_t len);

/*
 * Writes the key that marks the roll-up of the bucket of `level` holding
 * at_s as started (see fs_topn_rollup_run()) into buf.  Returns buf.
 */
char *fs_topn_rollup_stage_key(int level, int64_t at_s, char *buf, size_t len);

/* Writes the key in which that roll-up sums (dim, metric) before it is renamed to the bucket. */
char *fs_topn_rollup_staging_key(int level, int64_t at_s, enum fs_topn_dim dim,
				 enum fs_topn_metric metric, char *buf, size_t len);

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
