/*
 * test_hostile_flows.c - flows that a broken or hostile exporter may send,
 * against a real redis-server:
 *  - byte or packet counts near 2^64: the top-N and detection sums stop at
 *    FS_COUNT_MAX, the other hosts stay listed, and the volume rule still
 *    raises its alert;
 *  - sources such as 0.0.0.0 or multicast addresses: no rule blames them;
 *  - many hosts matching at once: at most max_alerts_per_minute alert events
 *    a minute reach the outputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alert/alert.h"
#include "core/count.h"
#include "core/flow.h"
#include "detect/detect.h"
#include "redis/topn.h"
#include "support/alert_collector.h"
#include "support/redis_commands.h"
#include "support/redis_server.h"
#include "support/tcp_flow.h"

/* A Unix time divisible by 60, so it starts a bucket of every window used here. */
#define BASE_S INT64_C(1699999200)

static struct fs_test_redis server;
static redisContext *ctx;

static int
group_setup(void **state)
{
	(void)state;
	return fs_test_redis_open(&server, &ctx);
}

static int
group_teardown(void **state)
{
	(void)state;
	fs_test_redis_close(&server, ctx);
	return 0;
}

static int
flush_db(void **state)
{
	(void)state;
	return fs_test_redis_flushdb(ctx);
}

/* Settings with only volume_src on: 1000 bytes per second over 10 s. */
static void
volume_src_only(struct fs_detect_settings *s)
{
	fs_detect_settings_default(s);
	for (int r = 0; r < FS_RULE_COUNT; r++)
		s->rules[r].threshold = 0;
	s->capacity = 4096;
	s->rules[FS_RULE_VOLUME_SRC] = (struct fs_detect_rule_settings){ 1000, 10 };
}

static void
topn_sum_stops_at_count_max(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	struct fs_topn_row rows[8];
	int nrows = 0;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	assert_non_null(batch);
	struct fs_flow huge = fs_test_tcp_flow("10.9.9.1", "10.9.9.2", 443, 0x18, UINT64_MAX,
					       UINT64_C(1) << 63);
	struct fs_flow plain = fs_test_tcp_flow("10.9.9.3", "10.9.9.2", 443, 0x18, 1000, 10);

	/* Two flushes, so that Redis adds a second huge count to the first. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fs_topn_batch_add(batch, &huge), 0);
		assert_int_equal(fs_topn_batch_add(batch, &huge), 0);
		assert_int_equal(fs_topn_batch_add(batch, &plain), 0);
		assert_int_equal(fs_topn_flush(batch, ctx, now), 0);
	}
	assert_int_equal(fs_topn_query(ctx, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, 8, now,
				       rows, &nrows), 0);
	assert_int_equal(nrows, 2);
	assert_string_equal(rows[0].key, "10.9.9.1");
	assert_int_equal(rows[0].bytes, FS_COUNT_MAX);
	assert_int_equal(rows[0].packets, FS_COUNT_MAX);
	assert_int_equal(rows[0].flows, 4);
	assert_string_equal(rows[1].key, "10.9.9.3");
	assert_int_equal(rows[1].bytes, 2000);
	assert_int_equal(rows[1].packets, 20);
	fs_topn_batch_free(batch);
}

static void
detect_volume_alert_with_huge_bytes(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c = { 0 };
	struct fs_detect *det;
	char subject[FS_ADDR_STRLEN];

	(void)state;
	volume_src_only(&s);
	det = fs_detect_new(&s, fs_test_alerts_collect, &c);
	assert_non_null(det);

	struct fs_flow huge = fs_test_tcp_flow("10.9.9.1", "10.9.9.2", 443, 0x18, UINT64_MAX, 1);
	struct fs_flow other = fs_test_tcp_flow("10.9.9.3", "10.9.9.2", 443, 0x18, 20000, 1);

	/* Past 2^63 - 1 in Redis, INCRBY fails; the sum must stop at FS_COUNT_MAX instead. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fs_detect_add(det, &huge), 0);
		assert_int_equal(fs_detect_add(det, &huge), 0);
		assert_int_equal(fs_detect_flush(det, ctx, BASE_S * 1000 + i * 1000), 0);
	}
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].rule, FS_RULE_VOLUME_SRC);
	assert_string_equal(fs_addr_format(&c.alerts[0].subject, subject), "10.9.9.1");

	/* The detection counters of another host still reach Redis afterwards. */
	assert_int_equal(fs_detect_add(det, &other), 0);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_S * 1000 + 3000), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(fs_addr_format(&c.alerts[1].subject, subject), "10.9.9.3");
	fs_detect_free(det);
}

static void
odd_sources_raise_nothing(void **state)
{
	static const char *const odd[] = { "0.0.0.0", "224.0.0.5", "255.255.255.255", "::",
					   "ff02::1" };
	struct fs_detect_settings s;
	struct fs_detect_stats stats;
	struct fs_test_alerts c = { 0 };
	struct fs_detect *det;
	char subject[FS_ADDR_STRLEN];

	(void)state;
	volume_src_only(&s);
	det = fs_detect_new(&s, fs_test_alerts_collect, &c);
	assert_non_null(det);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct fs_flow flow = fs_test_tcp_flow(odd[i], strchr(odd[i], ':') ? "2001:db8::1"
										  : "10.9.9.2",
						       443, 0x18, 1000000, 1000);

		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	struct fs_flow plain = fs_test_tcp_flow("10.9.9.1", "10.9.9.2", 443, 0x18, 1000000, 1000);

	assert_int_equal(fs_detect_add(det, &plain), 0);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_S * 1000), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(fs_addr_format(&c.alerts[0].subject, subject), "10.9.9.1");
	fs_detect_stats(det, &stats);
	assert_int_equal(stats.odd_addresses, 5);
	fs_detect_free(det);
}

static void
alert_events_limited_per_minute(void **state)
{
	struct fs_detect_settings s;
	struct fs_detect_stats stats;
	struct fs_test_alerts c = { 0 };
	struct fs_detect *det;

	(void)state;
	volume_src_only(&s);
	s.max_alerts_per_minute = 3;
	det = fs_detect_new(&s, fs_test_alerts_collect, &c);
	assert_non_null(det);
	for (int i = 1; i <= 5; i++) {
		char src[32];

		snprintf(src, sizeof(src), "10.8.0.%d", i);
		struct fs_flow flow = fs_test_tcp_flow(src, "10.9.9.2", 443, 0x18, 1000000, 1000);

		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	assert_int_equal(fs_detect_flush(det, ctx, BASE_S * 1000), 0);
	fs_detect_stats(det, &stats);
	assert_int_equal(stats.raised, 5);
	assert_int_equal(stats.suppressed, 2);
	assert_int_equal(c.n, 3);

	/* A minute later the outputs take events again. */
	struct fs_flow late = fs_test_tcp_flow("10.8.1.1", "10.9.9.2", 443, 0x18, 1000000, 1000);

	assert_int_equal(fs_detect_add(det, &late), 0);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_S * 1000 + 61000), 0);
	assert_int_equal(c.n, 4);
	fs_detect_stats(det, &stats);
	assert_int_equal(stats.suppressed, 2);
	fs_detect_free(det);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(topn_sum_stops_at_count_max, flush_db),
		cmocka_unit_test_setup(detect_volume_alert_with_huge_bytes, flush_db),
		cmocka_unit_test_setup(odd_sources_raise_nothing, flush_db),
		cmocka_unit_test_setup(alert_events_limited_per_minute, flush_db),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
