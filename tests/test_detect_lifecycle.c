/*
 * test_detect_lifecycle.c - alerts are raised once, updated after the
 * cooldown, cleared after the quiet period, survive a restart of the
 * detector, and wait out a Redis outage, against a real redis-server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alert/alert.h"
#include "core/flow.h"
#include "core/result.h"
#include "detect/detect.h"
#include "support/alert_collector.h"
#include "support/redis_server.h"

#define BASE_MS (INT64_C(1699999200) * 1000)

struct fixture {
	struct fs_test_redis server;
	redisContext *ctx;
	struct fs_detect_settings settings;
	struct fs_test_alerts c;
};

/* Adds count SYN flows from src to 172.17.x.y on port 445, from index first. */
static void
add_fanout(struct fs_detect *det, const char *src, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		struct fs_flow flow;
		char dst[32];

		fs_flow_clear(&flow);
		snprintf(dst, sizeof(dst), "172.17.%d.%d", i / 250, i % 250 + 1);
		assert_int_equal(fs_addr_parse(&flow.src_addr, src), 0);
		assert_int_equal(fs_addr_parse(&flow.dst_addr, dst), 0);
		flow.dst_port = 445;
		flow.proto = 6;
		flow.tcp_flags = 0x02;
		flow.bytes = 52;
		flow.packets = 1;
		flow.present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_DST_PORT | FS_F_PROTO |
			       FS_F_TCP_FLAGS | FS_F_BYTES | FS_F_PACKETS;
		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || fs_test_redis_spawn(&f->server, NULL) < 0)
		return -1;
	f->ctx = fs_test_redis_connect(&f->server);
	if (!f->ctx)
		return -1;
	fs_detect_settings_default(&f->settings);
	for (int r = 0; r < FS_RULE_COUNT; r++)
		f->settings.rules[r].threshold = 0;
	f->settings.rules[FS_RULE_FANOUT].threshold = 100;
	f->settings.cooldown_s = 30;
	f->settings.quiet_s = 120;
	f->settings.capacity = 4096;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->ctx)
		redisFree(f->ctx);
	fs_test_redis_stop(&f->server);
	free(f);
	return 0;
}

static long long
redis_int(redisContext *ctx, const char *command)
{
	redisReply *r = redisCommand(ctx, command);
	long long v;

	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static void
raise_update_clear(void **state)
{
	struct fixture *f = *state;
	struct fs_detect *det = fs_detect_new(&f->settings, fs_test_alerts_collect, &f->c);
	struct fs_alert again;
	redisReply *r;

	assert_non_null(det);
	add_fanout(det, "10.1.66.6", 0, 150);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS), 0);
	assert_int_equal(f->c.n, 1);
	assert_int_equal(f->c.alerts[0].state, FS_ALERT_RAISED);
	assert_int_equal(redis_int(f->ctx, "ZCARD " FS_DETECT_OPEN_KEY), 1);

	/* Still spewing 29.999 s later: inside the cooldown, nothing is sent. */
	add_fanout(det, "10.1.66.6", 150, 10);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS + 29999), 0);
	assert_int_equal(f->c.n, 1);

	/* At the cooldown: one update with the same id and first seen. */
	add_fanout(det, "10.1.66.6", 160, 10);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS + 30000), 0);
	assert_int_equal(f->c.n, 2);
	assert_int_equal(f->c.alerts[1].state, FS_ALERT_UPDATED);
	assert_string_equal(f->c.alerts[1].id, f->c.alerts[0].id);
	assert_int_equal(f->c.alerts[1].first_seen_ms, BASE_MS);
	assert_int_equal(f->c.alerts[1].last_seen_ms, BASE_MS + 30000);
	assert_int_equal(f->c.alerts[1].updates, 1);
	/* HyperLogLog estimates: 170 destinations within its 0.81 % error */
	assert_in_range(f->c.alerts[1].observed, 168, 172);

	/* Quiet for just under 120 s: still open. */
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS + 30000 + 119999), 0);
	assert_int_equal(f->c.n, 2);
	/* At 120 s: cleared, with the evidence of the last match. */
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS + 30000 + 120000), 0);
	assert_int_equal(f->c.n, 3);
	assert_int_equal(f->c.alerts[2].state, FS_ALERT_CLEARED);
	assert_string_equal(f->c.alerts[2].id, f->c.alerts[0].id);
	assert_int_equal(f->c.alerts[2].last_seen_ms, BASE_MS + 30000);
	assert_int_equal(f->c.alerts[2].time_ms, BASE_MS + 150000);
	assert_int_equal(f->c.alerts[2].observed, f->c.alerts[1].observed);
	assert_int_equal(redis_int(f->ctx, "ZCARD " FS_DETECT_OPEN_KEY), 0);
	r = redisCommand(f->ctx, "ZRANGE " FS_DETECT_RECENT_KEY " 0 -1");
	assert_non_null(r);
	assert_int_equal(r->elements, 1);
	assert_int_equal(fs_alert_parse_json(r->element[0]->str, r->element[0]->len, &again), 0);
	assert_int_equal(again.state, FS_ALERT_CLEARED);
	assert_string_equal(again.id, f->c.alerts[0].id);
	freeReplyObject(r);

	/* A new episode 10 minutes later is a new alert with a new id. */
	add_fanout(det, "10.1.66.6", 0, 150);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS + 600000), 0);
	assert_int_equal(f->c.n, 4);
	assert_int_equal(f->c.alerts[3].state, FS_ALERT_RAISED);
	assert_string_not_equal(f->c.alerts[3].id, f->c.alerts[0].id);
	fs_detect_free(det);
}

/* A restarted detector (a new process in production) finds the open alert in Redis. */
static void
restart_does_not_raise_twice(void **state)
{
	struct fixture *f = *state;
	struct fs_detect *det = fs_detect_new(&f->settings, fs_test_alerts_collect, &f->c);

	assert_non_null(det);
	add_fanout(det, "10.1.66.6", 0, 150);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS), 0);
	assert_int_equal(f->c.n, 1);
	fs_detect_free(det);

	det = fs_detect_new(&f->settings, fs_test_alerts_collect, &f->c);
	assert_non_null(det);
	/* The same flows consumed again after the restart, then new ones. */
	add_fanout(det, "10.1.66.6", 0, 150);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS + 2000), 0);
	add_fanout(det, "10.1.66.6", 150, 50);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS + 3000), 0);
	assert_int_equal(f->c.n, 1);
	fs_detect_free(det);
}

/* Redis goes away: the flush fails and keeps its table; the next server gets it all. */
static void
redis_outage_keeps_table(void **state)
{
	struct fixture *f = *state;
	struct fs_detect *det = fs_detect_new(&f->settings, fs_test_alerts_collect, &f->c);
	struct fs_detect_stats st;

	assert_non_null(det);
	add_fanout(det, "10.1.66.6", 0, 150);
	fs_test_redis_stop(&f->server);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS), FS_ERR_SYSTEM);
	assert_int_equal(f->c.n, 0);
	assert_int_equal(fs_detect_count(det), 150);
	/* The table still takes flows while the write waits. */
	add_fanout(det, "10.1.66.6", 150, 10);

	redisFree(f->ctx);
	assert_int_equal(fs_test_redis_spawn(&f->server, NULL), 0);
	f->ctx = fs_test_redis_connect(&f->server);
	assert_non_null(f->ctx);
	assert_int_equal(fs_detect_flush(det, f->ctx, BASE_MS + 5000), 0);
	assert_int_equal(f->c.n, 1);
	assert_in_range(f->c.alerts[0].observed, 158, 162);
	fs_detect_stats(det, &st);
	assert_int_equal(st.errors, 1);
	fs_detect_free(det);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(raise_update_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_does_not_raise_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(redis_outage_keeps_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
