/* test_topn_series.c - per-bucket series of the top-N counters, against a real redis-server. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/flow.h"
#include "core/result.h"
#include "redis/topn.h"
#include "redis/topn_series.h"
#include "support/redis_commands.h"
#include "support/redis_server.h"

/* A Unix time divisible by 3600, so it starts a bucket at every resolution. */
#define BASE INT64_C(1699999200)

static struct fs_test_redis server;
static redisContext *ctx;
static struct fs_topn_batch *batch;

/* Adds one flow; src NULL leaves the source address out. */
static void
add(const char *src, uint8_t proto, uint64_t bytes)
{
	struct fs_flow flow;

	fs_flow_clear(&flow);
	if (src != NULL) {
		assert_int_equal(fs_addr_parse(&flow.src_addr, src), 0);
		flow.present |= FS_F_SRC_ADDR;
	}
	flow.proto = proto;
	flow.bytes = bytes;
	flow.packets = 1;
	flow.present |= FS_F_PROTO | FS_F_BYTES | FS_F_PACKETS;
	assert_int_equal(fs_topn_batch_add(batch, &flow), 0);
}

static void
flush_at(int64_t now_s)
{
	assert_int_equal(fs_topn_flush(batch, ctx, now_s), 0);
}

/*
 * Three flushes inside the 1m window ending at BASE (buckets BASE-50 ...
 * BASE, 10 s each): bucket 0 gets A 1000; bucket 3 gets A 500 and B 300;
 * bucket 5 gets C 200 and a 50-byte flow without a source address.
 */
static int
fill(void **state)
{
	(void)state;
	if (fs_test_redis_flushdb(ctx) < 0)
		return -1;
	add("192.0.2.1", 6, 1000);
	flush_at(BASE - 50);
	add("192.0.2.1", 6, 500);
	add("192.0.2.2", 17, 300);
	flush_at(BASE - 20);
	add("192.0.2.3", 6, 200);
	add(NULL, 1, 50);
	flush_at(BASE);
	return 0;
}

static void
test_series_lists_top_members_per_bucket(void **state)
{
	static const uint64_t a[6] = { 1000, 0, 0, 500, 0, 0 };
	static const uint64_t b[6] = { 0, 0, 0, 300, 0, 0 };
	static const uint64_t total[6] = { 1000, 0, 0, 800, 0, 250 };
	static const uint64_t other[6] = { 0, 0, 0, 0, 0, 250 };
	struct fs_topn_series s;

	(void)state;
	assert_int_equal(fs_topn_series_query(ctx, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M,
					      2, BASE + 5, &s), 0);
	assert_int_equal(s.resolution_s, 10);
	assert_int_equal(s.npoints, 6);
	assert_int_equal(s.nmembers, 2);
	assert_string_equal(s.members[0], "192.0.2.1");
	assert_string_equal(s.members[1], "192.0.2.2");
	for (int p = 0; p < 6; p++) {
		assert_int_equal(s.start_s[p], BASE - 50 + 10 * p);
		assert_int_equal(s.values[0][p], a[p]);
		assert_int_equal(s.values[1][p], b[p]);
		assert_int_equal(s.total[p], total[p]);
		assert_int_equal(s.other[p], other[p]);
	}
}

static void
test_series_without_members_reads_totals(void **state)
{
	struct fs_topn_series s;

	(void)state;
	assert_int_equal(fs_topn_series_query(ctx, FS_TOPN_PROTO, FS_TOPN_FLOWS, FS_TOPN_1M,
					      0, BASE, &s), 0);
	assert_int_equal(s.nmembers, 0);
	assert_int_equal(s.total[0], 1);
	assert_int_equal(s.total[3], 2);
	assert_int_equal(s.total[5], 2);
	assert_int_equal(s.other[5], 2);
}

static void
test_series_longest_window_holds_every_flow(void **state)
{
	struct fs_topn_series s;

	(void)state;
	assert_int_equal(fs_topn_series_query(ctx, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_24H,
					      3, BASE, &s), 0);
	assert_int_equal(s.npoints, 24);
	assert_int_equal(s.resolution_s, 3600);
	assert_int_equal(s.start_s[23], BASE);
	assert_int_equal(s.start_s[0], BASE - 23 * 3600);
	/* BASE - 50 and BASE - 20 fall into the hour before BASE. */
	assert_int_equal(s.total[22], 1800);
	assert_int_equal(s.total[23], 250);
	assert_int_equal(s.nmembers, 3);
	assert_string_equal(s.members[2], "192.0.2.3");
	assert_int_equal(s.values[2][23], 200);
	assert_int_equal(s.other[23], 50);
}

static void
test_series_same_after_rollup(void **state)
{
	struct fs_topn_series s;
	char key[128];
	redisReply *reply;
	bool built = false;

	(void)state;
	/* An idle writer flushing every 10 s for an hour rolls up the closed buckets. */
	for (int64_t t = BASE + 10; t <= BASE + 3700; t += 10)
		flush_at(t);
	fs_topn_bucket_key(FS_TOPN_PROTO, FS_TOPN_BYTES, FS_TOPN_24H, BASE - 1, key, sizeof(key));
	reply = redisCommand(ctx, "EXISTS %s", key);
	assert_non_null(reply);
	built = reply->integer == 1;
	freeReplyObject(reply);
	assert_true(built);

	assert_int_equal(fs_topn_series_query(ctx, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_24H,
					      3, BASE + 3700, &s), 0);
	assert_int_equal(s.start_s[23], BASE + 3600);
	assert_int_equal(s.total[21], 1800);
	assert_int_equal(s.total[22], 250);
	assert_int_equal(s.total[23], 0);
	assert_string_equal(s.members[0], "192.0.2.1");
	assert_int_equal(s.values[0][21], 1500);
}

static void
test_series_of_empty_window_has_zero_points(void **state)
{
	struct fs_topn_series s;

	(void)state;
	assert_int_equal(fs_topn_series_query(ctx, FS_TOPN_DST_PORT, FS_TOPN_PACKETS, FS_TOPN_5M,
					      5, BASE + 86400 * 10, &s), 0);
	assert_int_equal(s.npoints, 5);
	assert_int_equal(s.nmembers, 0);
	for (int p = 0; p < s.npoints; p++)
		assert_int_equal(s.total[p], 0);
}

static void
test_series_rejects_bad_arguments(void **state)
{
	struct fs_topn_series s;

	(void)state;
	assert_int_equal(fs_topn_series_query(ctx, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M,
					      FS_TOPN_SERIES_MAX_MEMBERS + 1, BASE, &s),
			 FS_ERR_INVALID);
	assert_int_equal(s.npoints, 0);
	assert_int_equal(fs_topn_series_query(ctx, FS_TOPN_DIM_COUNT, FS_TOPN_BYTES, FS_TOPN_1M,
					      1, BASE, &s),
			 FS_ERR_INVALID);
	assert_int_equal(fs_topn_series_query(ctx, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M,
					      -1, BASE, &s),
			 FS_ERR_INVALID);
}

static int
group_setup(void **state)
{
	(void)state;
	batch = fs_topn_batch_new(1024);
	if (batch == NULL || fs_test_redis_start(&server) < 0)
		return -1;
	ctx = fs_test_redis_connect(&server);
	return ctx != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (ctx != NULL)
		redisFree(ctx);
	fs_test_redis_stop(&server);
	fs_topn_batch_free(batch);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_series_lists_top_members_per_bucket, fill),
		cmocka_unit_test_setup(test_series_without_members_reads_totals, fill),
		cmocka_unit_test_setup(test_series_longest_window_holds_every_flow, fill),
		cmocka_unit_test_setup(test_series_same_after_rollup, fill),
		cmocka_unit_test_setup(test_series_of_empty_window_has_zero_points, fill),
		cmocka_unit_test(test_series_rejects_bad_arguments),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
