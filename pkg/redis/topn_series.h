/*
 * topn_series.h - time series of the top-N counters, bucket by bucket.
 *
 * A series shows "how did the biggest members of one dimension move over
 * a window": the n members with the largest metric over the whole window
 * (as fs_topn_query() ranks them), each with its value in every bucket of
 * the window's resolution, plus the bucket's total and the rest ("other").
 * Graphs and the web console draw from it.
 *
 *   window  points  point width
 *   1m      6       10 s
 *   5m      5       60 s
 *   1h      12      5 min
 *   24h     24      1 h
 *
 * Points are ordered oldest first; the last one is the bucket containing now_s,
 * still filling.  A bucket's total is the sum of the metric over the proto
 * dimension's bucket, so it counts every flow that has a protocol number;
 * other is the total minus the listed members, never below 0.  A flow that
 * lacks the series' dimension (a flow without AS numbers in an src_as
 * series) therefore counts in other.
 *
 * A coarse bucket that is not rolled up yet is read through its finer
 * buckets (fs_topn_sources_resolve() in redis/topn_rollup.h), so points
 * are the same before and after a roll-up.
 *
 * Cost: one fs_topn_query(), the EXISTS lookups of the resolution, then per
 * bucket read one ZMSCORE of the members and one ZRANGE of the proto
 * bucket (at most 256 members), pipelined.
 *
 * Memory: struct fs_topn_series is a fixed-size value owned by the caller.
 * A query allocates about 100 KB of working space and frees it.
 */
#ifndef FS_REDIS_TOPN_SERIES_H
#define FS_REDIS_TOPN_SERIES_H

#include <stdint.h>

#include <hiredis/hiredis.h>

#include "redis/topn.h"

#define FS_TOPN_SERIES_MAX_MEMBERS 20   /* largest n fs_topn_series_query() takes */
#define FS_TOPN_SERIES_MAX_POINTS 24    /* buckets of the longest window */

struct fs_topn_series {
	enum fs_topn_dim dim;
	enum fs_topn_metric metric;
	enum fs_topn_window window;
	int64_t resolution_s;                  /* width of one point */
	int npoints;
	int64_t start_s[FS_TOPN_SERIES_MAX_POINTS]; /* bucket starts, Unix s */
	uint64_t total[FS_TOPN_SERIES_MAX_POINTS];
	uint64_t other[FS_TOPN_SERIES_MAX_POINTS];
	int nmembers;                          /* largest first over the window */
	char members[FS_TOPN_SERIES_MAX_MEMBERS][FS_TOPN_KEY_STRLEN];
	uint64_t values[FS_TOPN_SERIES_MAX_MEMBERS][FS_TOPN_SERIES_MAX_POINTS];
};

/*
 * Fills *out with the series of the n (0 to FS_TOPN_SERIES_MAX_MEMBERS)
 * largest members of dim by metric over window ending at now_s.  With n 0
 * only the totals are read.  Returns 0; FS_ERR_INVALID for a bad argument
 * or an unexpected reply; FS_ERR_SYSTEM when the connection failed.  Errors
 * are logged.  On error *out has no points.
 */
int fs_topn_series_query(redisContext *ctx, enum fs_topn_dim dim,
			 enum fs_topn_metric metric, enum fs_topn_window window,
			 int n, int64_t now_s, struct fs_topn_series *out);

#endif
