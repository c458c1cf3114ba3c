#include "redis/topn_series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/count.h"
#include "core/log.h"
#include "core/result.h"
#include "redis/reply.h"
#include "redis/topn_rollup.h"

#define WHAT "top-N series"
#define KEY_LEN 96

/* The buckets that hold each point's content (see fs_topn_sources_resolve()). */
struct point_sources {
	struct fs_topn_sources of[FS_TOPN_SERIES_MAX_POINTS];
	int replies;   /* replies expected for all points together */
};

static int64_t
floor_to(int64_t t, int64_t step)
{
	int64_t r = t % step;

	return r < 0 ? t - r - step : t - r;
}

/* Appends, for one bucket, a ZMSCORE of the members and a ZRANGE of its proto twin. */
static int
append_span(redisContext *ctx, const struct fs_topn_series *s, const struct fs_topn_span *span)
{
	char key[KEY_LEN];
	const char *argv[2 + FS_TOPN_SERIES_MAX_MEMBERS];
	int rc;

	if (s->nmembers > 0) {
		fs_topn_span_key(span, s->dim, s->metric, key, sizeof(key));
		argv[0] = "ZMSCORE";
		argv[1] = key;
		for (int m = 0; m < s->nmembers; m++)
			argv[2 + m] = s->members[m];
		rc = fs_redis_append(ctx, 2 + s->nmembers, argv, WHAT);
		if (rc < 0)
			return rc;
	}
	fs_topn_span_key(span, FS_TOPN_PROTO, s->metric, key, sizeof(key));
	return fs_redis_append(ctx, 5,
			       (const char *[]){ "ZRANGE", key, "0", "-1", "WITHSCORES" }, WHAT);
}

/* Adds a ZMSCORE reply to the point's member values. */
static int
add_values(struct fs_topn_series *s, int point, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != (size_t)s->nmembers)
		return FS_ERR_INVALID;
	for (int m = 0; m < s->nmembers; m++) {
		uint64_t v;

		if (fs_redis_parse_score(reply->element[m], &v) < 0)
			return FS_ERR_INVALID;
		s->values[m][point] = fs_count_add(s->values[m][point], v);
	}
	return 0;
}

/* Adds a ZRANGE WITHSCORES reply to the point's total. */
static int
add_total(struct fs_topn_series *s, int point, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0)
		return FS_ERR_INVALID;
	for (size_t i = 1; i < reply->elements; i += 2) {
		uint64_t v;

		if (fs_redis_parse_score(reply->element[i], &v) < 0)
			return FS_ERR_INVALID;
		s->total[point] = fs_count_add(s->total[point], v);
	}
	return 0;
}

static void
set_other(struct fs_topn_series *s, int point)
{
	uint64_t listed = 0;

	for (int m = 0; m < s->nmembers; m++)
		listed += s->values[m][point];
	s->other[point] = s->total[point] > listed ? s->total[point] - listed : 0;
}

static int
read_points(redisContext *ctx, struct fs_topn_series *s, const struct point_sources *ps)
{
	redisReply **replies = calloc((size_t)ps->replies, sizeof(*replies));
	int per_span = s->nmembers > 0 ? 2 : 1;
	int next = 0;
	int rc;

	if (replies == NULL) {
		fs_log(FS_LOG_ERR, "redis", WHAT " failed: out of memory");
		return FS_ERR_SYSTEM;
	}
	rc = fs_redis_read_replies(ctx, replies, ps->replies, WHAT);
	for (int p = 0; rc == 0 && p < s->npoints; p++) {
		for (int i = 0; rc == 0 && i < ps->of[p].count; i++, next += per_span) {
			if (per_span == 2)
				rc = add_values(s, p, replies[next]);
			if (rc == 0)
				rc = add_total(s, p, replies[next + per_span - 1]);
		}
		if (rc < 0)
			fs_log(FS_LOG_ERR, "redis", WHAT ": unexpected reply for bucket %lld",
			       (long long)s->start_s[p]);
		else
			set_other(s, p);
	}
	fs_redis_free_replies(replies, ps->replies);
	free(replies);
	return rc;
}

/* Finds the buckets of every point, then reads them in one pipeline. */
static int
read_series(redisContext *ctx, struct fs_topn_series *s, int64_t now_s)
{
	struct point_sources *ps = calloc(1, sizeof(*ps));
	int per_span = s->nmembers > 0 ? 2 : 1;
	int rc = 0;

	if (ps == NULL) {
		fs_log(FS_LOG_ERR, "redis", WHAT " failed: out of memory");
		return FS_ERR_SYSTEM;
	}
	for (int p = 0; rc == 0 && p < s->npoints; p++) {
		rc = fs_topn_sources_resolve(ctx, (int)s->window, &s->start_s[p], 1, now_s,
					     &ps->of[p]);
		ps->replies += per_span * ps->of[p].count;
	}
	for (int p = 0; rc == 0 && p < s->npoints; p++) {
		for (int i = 0; rc == 0 && i < ps->of[p].count; i++)
			rc = append_span(ctx, s, &ps->of[p].spans[i]);
	}
	if (rc == 0 && ps->replies > 0)
		rc = read_points(ctx, s, ps);
	free(ps);
	return rc;
}

static int
take_members(redisContext *ctx, struct fs_topn_series *s, int n, int64_t now_s)
{
	struct fs_topn_row rows[FS_TOPN_SERIES_MAX_MEMBERS];
	int nrows = 0;
	int rc;

	if (n == 0)
		return 0;
	rc = fs_topn_query(ctx, s->dim, s->metric, s->window, n, now_s, rows, &nrows);
	if (rc < 0)
		return rc;
	for (int i = 0; i < nrows; i++)
		memcpy(s->members[i], rows[i].key, sizeof(s->members[i]));
	s->nmembers = nrows;
	return 0;
}

int
fs_topn_series_query(redisContext *ctx, enum fs_topn_dim dim, enum fs_topn_metric metric,
		     enum fs_topn_window window, int n, int64_t now_s,
		     struct fs_topn_series *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((unsigned)dim >= FS_TOPN_DIM_COUNT || (unsigned)metric >= FS_TOPN_METRIC_COUNT ||
	    (unsigned)window >= FS_TOPN_WINDOW_COUNT || n < 0 ||
	    n > FS_TOPN_SERIES_MAX_MEMBERS || fs_topn_window_buckets(window) > FS_TOPN_SERIES_MAX_POINTS)
		return FS_ERR_INVALID;
	out->dim = dim;
	out->metric = metric;
	out->window = window;
	out->resolution_s = fs_topn_window_resolution(window);
	rc = take_members(ctx, out, n, now_s);
	if (rc < 0)
		return rc;
	out->npoints = fs_topn_window_buckets(window);
	for (int p = 0; p < out->npoints; p++) {
		int64_t at = now_s - (int64_t)(out->npoints - 1 - p) * out->resolution_s;

		out->start_s[p] = floor_to(at, out->resolution_s);
	}
	rc = read_series(ctx, out, now_s);
	if (rc < 0) {
		out->npoints = 0;
		out->nmembers = 0;
	}
	return rc;
}
