/*
 * test_detect_event_time.c - detection windows follow the flows' receive
 * times (time_received_ns) under a watermark, not the time of the flush,
 * against a real redis-server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alert/alert.h"
#include "core/clock.h"
#include "core/flow.h"
#include "core/result.h"
#include "detect/detect.h"
#include "support/alert_collector.h"
#include "support/redis_commands.h"
#include "support/redis_server.h"
#include "support/tcp_flow.h"

/* A Unix time in the past divisible by 600, so it starts a bucket of every window used here. */
#define BASE_S INT64_C(1699999200)
#define BASE_MS (BASE_S * 1000)

static struct fs_test_redis server;
static redisContext *ctx;

/* Settings with every rule off, so that each test turns on the rules it checks. */
static void
rules_off(struct fs_detect_settings *s)
{
	fs_detect_settings_default(s);
	for (int r = 0; r < FS_RULE_COUNT; r++)
		s->rules[r].threshold = 0;
	s->capacity = 4096;
}

static struct fs_detect *
new_detector(const struct fs_detect_settings *s, struct fs_test_alerts *c)
{
	struct fs_detect *det;

	memset(c, 0, sizeof(*c));
	det = fs_detect_new(s, fs_test_alerts_collect, c);
	assert_non_null(det);
	return det;
}

/* The wall clock of the flushes that add_syn_at() runs, as when a backlog is read later. */
#define CATCH_UP_MS (BASE_MS + 300000)

/*
 * Adds a SYN flow from src to dst:445 received at received_ms (Unix ms; 0:
 * no receive time).  When the flow starts a new bucket, flushes at
 * CATCH_UP_MS and adds it again, as flowsift-report does.
 */
static void
add_syn_at(struct fs_detect *det, const char *src, const char *dst, int64_t received_ms)
{
	struct fs_flow flow = fs_test_tcp_flow(src, dst, 445, 0x02, 52, 1);
	int rc;

	flow.time_received_ns = received_ms * 1000000;
	rc = fs_detect_add(det, &flow);
	if (rc == FS_ERR_FULL) {
		assert_int_equal(fs_detect_flush(det, ctx, CATCH_UP_MS), 0);
		rc = fs_detect_add(det, &flow);
	}
	assert_int_equal(rc, 0);
}

/*
 * A detector whose only rule is volume_src at 10 flows per second over
 * 60 s, so that 600 flows within one window reach it.
 */
static struct fs_detect *
new_volume_detector(struct fs_test_alerts *c)
{
	struct fs_detect_settings s;

	rules_off(&s);
	s.rules[FS_RULE_VOLUME_SRC] = (struct fs_detect_rule_settings){ 10, 60 };
	s.volume_metric = FS_DETECT_FLOWS;
	return new_detector(&s, c);
}

/* Adds count flows from 10.0.0.1, received step_ms apart and the last one step_ms before BASE_MS. */
static void
add_spread(struct fs_detect *det, int count, int64_t step_ms)
{
	for (int i = 0; i < count; i++)
		add_syn_at(det, "10.0.0.1", "10.0.0.2", BASE_MS - (count - i) * step_ms);
}

/* Returns the counter of volume_src for 10.0.0.1 in the bucket that starts at bucket_s. */
static long long
volume_counter(int64_t bucket_s)
{
	char key[160];
	redisReply *reply;
	long long value = 0;

	snprintf(key, sizeof(key), FS_DETECT_KEY_PREFIX "volume_src:10.0.0.1:%lld",
		 (long long)bucket_s);
	reply = redisCommand(ctx, "GET %s", key);
	assert_non_null(reply);
	if (reply->type == REDIS_REPLY_STRING)
		value = strtoll(reply->str, NULL, 10);
	else
		assert_int_equal(reply->type, REDIS_REPLY_NIL);
	freeReplyObject(reply);
	return value;
}

/* Returns the TTL in seconds of volume_src's key for 10.0.0.1 in the bucket at bucket_s. */
static long long
volume_ttl(int64_t bucket_s)
{
	char key[160];
	redisReply *reply;
	long long ttl;

	snprintf(key, sizeof(key), FS_DETECT_KEY_PREFIX "volume_src:10.0.0.1:%lld",
		 (long long)bucket_s);
	reply = redisCommand(ctx, "TTL %s", key);
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
	ttl = reply->integer;
	freeReplyObject(reply);
	return ttl;
}

/*
 * 1500 flows received over 5 minutes (5 per second, half the threshold)
 * reach flowsift-report in one flush, as after an outage.  The window at
 * the watermark contains only its own 300 flows, so no alert is raised.
 */
static void
backlog_under_rate_raises_nothing(void **state)
{
	struct fs_test_alerts c;
	struct fs_detect *det = new_volume_detector(&c);
	struct fs_detect_stats st;

	(void)state;
	add_spread(det, 1500, 200);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS + 300000), 0);
	assert_int_equal(c.n, 0);

	fs_detect_stats(det, &st);
	assert_int_equal(st.flows, 1500);
	assert_int_equal(st.late_flows, 0);
	assert_int_equal(st.future_flows, 0);
	assert_int_equal(st.watermark_ms, BASE_MS - 200);
	/* Each 10 s bucket contains the 50 flows received in it. */
	assert_int_equal(volume_counter(BASE_S - 300), 50);
	assert_int_equal(volume_counter(BASE_S - 10), 50);
	assert_int_equal(volume_counter(BASE_S + 290), 0);
	/* Buckets of 2023 still expire a window plus a bucket (70 s) after their write. */
	assert_true(volume_ttl(BASE_S - 300) > 0);
	assert_true(volume_ttl(BASE_S - 300) <= 70);
	fs_detect_free(det);
}

/*
 * The same 1500 flows received within 30 s, 500 in each of three buckets.
 * The window at the second bucket contains 1000 flows, 16 per second, so the
 * flush that reaches the third bucket raises the alert with the second
 * bucket's flows.  The last flush finds the alert open within its cooldown.
 */
static void
burst_in_one_window_raises(void **state)
{
	struct fs_test_alerts c;
	struct fs_detect *det = new_volume_detector(&c);
	struct fs_detect_stats st;

	(void)state;
	add_spread(det, 1500, 20);
	assert_int_equal(c.n, 1);
	assert_int_equal(fs_detect_flush(det, ctx, CATCH_UP_MS), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].rule, FS_RULE_VOLUME_SRC);
	assert_int_equal(c.alerts[0].observed, 16);
	assert_int_equal(c.alerts[0].flows, 500);
	assert_int_equal(c.alerts[0].flows_first_ms, BASE_MS - 20000);
	assert_int_equal(c.alerts[0].flows_last_ms, BASE_MS - 10020);
	/* The alert lifecycle keeps the wall clock of the flush. */
	assert_int_equal(c.alerts[0].first_seen_ms, CATCH_UP_MS);
	assert_int_equal(c.alerts[0].time_ms, CATCH_UP_MS);
	fs_detect_stats(det, &st);
	assert_int_equal(st.bucket_flushes, 2);
	fs_detect_free(det);
}

/*
 * A backlog of 5 minutes read in one go: 700 flows in its first 10 s, then
 * 5 per second.  The window at the backlog's end contains only the quiet part,
 * but the windows at each bucket are evaluated on the way, so the burst
 * raises its alert with the burst's own receive times.
 */
static void
burst_early_in_backlog_raises(void **state)
{
	struct fs_test_alerts c;
	struct fs_detect *det = new_volume_detector(&c);
	int64_t start = BASE_MS - 300000;

	(void)state;
	for (int i = 0; i < 700; i++)
		add_syn_at(det, "10.0.0.1", "10.0.0.2", start + i * 10);
	for (int64_t t = start + 10000; t < BASE_MS; t += 200)
		add_syn_at(det, "10.0.0.1", "10.0.0.2", t);
	assert_int_equal(fs_detect_flush(det, ctx, CATCH_UP_MS), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].rule, FS_RULE_VOLUME_SRC);
	assert_int_equal(c.alerts[0].observed, 11);
	assert_int_equal(c.alerts[0].flows_first_ms, start);
	assert_int_equal(c.alerts[0].flows_last_ms, start + 6990);
	fs_detect_free(det);
}

/*
 * With the watermark at BASE_MS, the 60 s window's oldest bucket starts 50 s
 * earlier: a flow received before it is late, one received in it counts.
 */
static void
late_flows_counted_not_added(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	struct fs_detect_stats st;

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_SYN_SCAN] = (struct fs_detect_rule_settings){ 2, 60 };
	det = new_detector(&s, &c);
	add_syn_at(det, "10.0.0.1", "10.0.0.2", BASE_MS);
	add_syn_at(det, "10.0.0.1", "10.0.0.3", BASE_MS - 120000);
	add_syn_at(det, "10.0.0.1", "10.0.0.4", BASE_MS - 50001);
	fs_detect_stats(det, &st);
	assert_int_equal(st.flows, 3);
	assert_int_equal(st.late_flows, 2);
	assert_int_equal(fs_detect_count(det), 1);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 0);

	add_syn_at(det, "10.0.0.1", "10.0.0.5", BASE_MS - 50000);
	fs_detect_stats(det, &st);
	assert_int_equal(st.late_flows, 2);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS + 1000), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].observed, 2);
	fs_detect_free(det);
}

/* A flow too old for the 60 s rule still counts for the 600 s one. */
static void
late_flows_per_rule_window(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	struct fs_detect_stats st;

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_SYN_SCAN] = (struct fs_detect_rule_settings){ 1000, 60 };
	s.rules[FS_RULE_VOLUME_SRC] = (struct fs_detect_rule_settings){ 1000000, 600 };
	det = new_detector(&s, &c);
	add_syn_at(det, "10.0.0.1", "10.0.0.2", BASE_MS);
	assert_int_equal(fs_detect_count(det), 2);
	add_syn_at(det, "10.0.0.1", "10.0.0.3", BASE_MS - 120000);
	fs_detect_stats(det, &st);
	assert_int_equal(st.late_flows, 1);
	/* Only volume_src's entry for the bucket 200 s earlier is new. */
	assert_int_equal(fs_detect_count(det), 3);
	fs_detect_free(det);
}

/*
 * A receive time an hour past the clock is clamped to the clock plus
 * FS_DETECT_MAX_SKEW_MS; afterwards flows received in 2023 are late.
 */
static void
future_times_clamped(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	struct fs_detect_stats st;
	int64_t before, after;

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_SYN_SCAN] = (struct fs_detect_rule_settings){ 1000, 60 };
	det = new_detector(&s, &c);
	before = fs_clock_ms(CLOCK_REALTIME);
	add_syn_at(det, "10.0.0.1", "10.0.0.2", before + 3600000);
	after = fs_clock_ms(CLOCK_REALTIME);
	fs_detect_stats(det, &st);
	assert_int_equal(st.future_flows, 1);
	assert_true(st.watermark_ms >= before + FS_DETECT_MAX_SKEW_MS);
	assert_true(st.watermark_ms <= after + FS_DETECT_MAX_SKEW_MS);

	add_syn_at(det, "10.0.0.1", "10.0.0.3", after);
	add_syn_at(det, "10.0.0.1", "10.0.0.4", BASE_MS);
	fs_detect_stats(det, &st);
	assert_int_equal(st.future_flows, 1);
	assert_int_equal(st.late_flows, 1);
	assert_int_equal(st.flows, 3);
	fs_detect_free(det);
}

/* A flow rejected as FS_ERR_FULL and added again after the flush is counted once. */
static void
issues_counted_once_after_full(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	struct fs_detect_stats st;
	struct fs_flow odd;

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_SYN_SCAN] = (struct fs_detect_rule_settings){ 1000, 60 };
	s.capacity = 1;
	det = new_detector(&s, &c);
	add_syn_at(det, "10.0.0.1", "10.0.0.2", BASE_MS);
	/* An unspecified destination, received an hour past the clock. */
	odd = fs_test_tcp_flow("10.0.0.1", "0.0.0.0", 445, 0x02, 52, 1);
	odd.time_received_ns = (fs_clock_ms(CLOCK_REALTIME) + 3600000) * 1000000;
	assert_int_equal(fs_detect_add(det, &odd), FS_ERR_FULL);
	fs_detect_stats(det, &st);
	assert_int_equal(st.future_flows, 0);
	assert_int_equal(st.odd_addresses, 0);
	assert_int_equal(st.watermark_ms, BASE_MS);

	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(fs_detect_add(det, &odd), 0);
	fs_detect_stats(det, &st);
	assert_int_equal(st.future_flows, 1);
	assert_int_equal(st.odd_addresses, 1);
	assert_int_equal(st.flows, 2);
	fs_detect_free(det);
}

/* A flow without a receive time counts in the window that ends at the watermark. */
static void
untimed_flow_joins_watermark_window(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_SYN_SCAN] = (struct fs_detect_rule_settings){ 2, 60 };
	det = new_detector(&s, &c);
	add_syn_at(det, "10.0.0.1", "10.0.0.2", BASE_MS - 30000);
	add_syn_at(det, "10.0.0.1", "10.0.0.3", 0);
	/* The flush runs an hour of wall clock later, as in a replay. */
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS + 3600000), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].observed, 2);
	fs_detect_free(det);
}

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(backlog_under_rate_raises_nothing, flush_db),
		cmocka_unit_test_setup(burst_in_one_window_raises, flush_db),
		cmocka_unit_test_setup(burst_early_in_backlog_raises, flush_db),
		cmocka_unit_test_setup(late_flows_counted_not_added, flush_db),
		cmocka_unit_test_setup(late_flows_per_rule_window, flush_db),
		cmocka_unit_test_setup(future_times_clamped, flush_db),
		cmocka_unit_test_setup(issues_counted_once_after_full, flush_db),
		cmocka_unit_test_setup(untimed_flow_joins_watermark_window, flush_db),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
