#include "redis/topn_series.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/result.h"
#include "redis/reply.h"

#define WHAT "top-N series"
#define KEY_LEN 96
/* Per bucket: one ZMSCORE of the members and one ZRANGE of the proto bucket. */
#define MAX_REPLIES (2 * FS_TOPN_SERIES_MAX_POINTS)

static int64_t
floor_to(int64_t t, int64_t step)
{
	int64_t r = t % step;

	return r < 0 ? t - r - step : t - r;
}

static int
append_bucket(redisContext *ctx, const struct fs_topn_series *s, int point, int64_t now_s)
{
	char key[KEY_LEN];
	const char *argv[2 + FS_TOPN_SERIES_MAX_MEMBERS];
	int64_t at = now_s - (int64_t)(s->npoints - 1 - point) * s->resolution_s;
	int rc;

	if (s->nmembers > 0) {
		fs_topn_bucket_key(s->dim, s->metric, s->window, at, key, sizeof(key));
		argv[0] = "ZMSCORE";
		argv[1] = key;
		for (int m = 0; m < s->nmembers; m++)
			argv[2 + m] = s->members[m];
		rc = fs_redis_append(ctx, 2 + s->nmembers, argv, WHAT);
		if (rc < 0)
			return rc;
	}
	fs_topn_bucket_key(FS_TOPN_PROTO, s->metric, s->window, at, key, sizeof(key));
	return fs_redis_append(ctx, 5,
			       (const char *[]){ "ZRANGE", key, "0", "-1", "WITHSCORES" }, WHAT);
}

static int
take_values(struct fs_topn_series *s, int point, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != (size_t)s->nmembers)
		return FS_ERR_INVALID;
	for (int m = 0; m < s->nmembers; m++) {
		if (fs_redis_parse_score(reply->element[m], &s->values[m][point]) < 0)
			return FS_ERR_INVALID;
	}
	return 0;
}

static int
take_total(struct fs_topn_series *s, int point, const redisReply *reply)
{
	uint64_t listed = 0;

	if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0)
		return FS_ERR_INVALID;
	for (size_t i = 1; i < reply->elements; i += 2) {
		uint64_t v;

		if (fs_redis_parse_score(reply->element[i], &v) < 0)
			return FS_ERR_INVALID;
		s->total[point] += v;
	}
	for (int m = 0; m < s->nmembers; m++)
		listed += s->values[m][point];
	s->other[point] = s->total[point] > listed ? s->total[point] - listed : 0;
	return 0;
}

static int
read_buckets(redisContext *ctx, struct fs_topn_series *s)
{
	redisReply *replies[MAX_REPLIES];
	int per_point = s->nmembers > 0 ? 2 : 1;
	int count = per_point * s->npoints;
	int rc = fs_redis_read_replies(ctx, replies, count, WHAT);

	for (int p = 0; rc == 0 && p < s->npoints; p++) {
		const redisReply *const *r = (const redisReply *const *)&replies[p * per_point];

		if (per_point == 2)
			rc = take_values(s, p, r[0]);
		if (rc == 0)
			rc = take_total(s, p, r[per_point - 1]);
		if (rc < 0)
			fs_log(FS_LOG_ERR, "redis", WHAT ": unexpected reply for bucket %lld",
			       (long long)s->start_s[p]);
	}
	fs_redis_free_replies(replies, count);
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
		rc = append_bucket(ctx, out, p, now_s);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = read_buckets(ctx, out);
	if (rc < 0) {
		out->npoints = 0;
		out->nmembers = 0;
	}
	return rc;
}
