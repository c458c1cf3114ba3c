/*
 * test_detect_retry.c - detection counters written once when a flush's
 * reply times out and the flush is retried, against a real redis-server.
 *
 * A flush sent on a connection that is blocked in BLPOP waits in Redis
 * behind the BLPOP, so its reply times out (after the 2 s of
 * fs_test_redis_connect()) while its MULTI/EXEC stays queued.  An LPUSH
 * then runs it at a point the test chooses: before or after the retry.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/flow.h"
#include "core/result.h"
#include "detect/detect.h"
#include "support/redis_commands.h"
#include "support/redis_server.h"
#include "support/tcp_flow.h"

/* A Unix time divisible by 60, so it starts a bucket of the 60 s windows used here. */
#define BASE_S INT64_C(1699999200)
#define BASE_MS (BASE_S * 1000)

static struct fs_test_redis server;
static redisContext *ctx;

static void
add_syn(struct fs_detect *det, const char *src, const char *dst, uint64_t bytes)
{
	struct fs_flow flow = fs_test_tcp_flow(src, dst, 445, 0x02, bytes, 1);

	assert_int_equal(fs_detect_add(det, &flow), 0);
}

/* Adds a SYN flow received at received_ms (Unix ms). */
static void
add_syn_at(struct fs_detect *det, const char *src, const char *dst, uint64_t bytes,
	   int64_t received_ms)
{
	struct fs_flow flow = fs_test_tcp_flow(src, dst, 445, 0x02, bytes, 1);

	flow.time_received_ns = received_ms * 1000000;
	assert_int_equal(fs_detect_add(det, &flow), 0);
}

/*
 * A detector with the counter rules syn_scan and volume_src (bytes) and
 * the distinct count fanout on, all with thresholds that no test reaches.
 */
static struct fs_detect *
new_detector(void)
{
	struct fs_detect_settings s;
	struct fs_detect *det;

	fs_detect_settings_default(&s);
	for (int r = 0; r < FS_RULE_COUNT; r++)
		s.rules[r].threshold = 0;
	s.rules[FS_RULE_SYN_SCAN] = (struct fs_detect_rule_settings){ 1000000, 60 };
	s.rules[FS_RULE_VOLUME_SRC] = (struct fs_detect_rule_settings){ 1000000000, 60 };
	s.rules[FS_RULE_FANOUT] = (struct fs_detect_rule_settings){ 1000000, 60 };
	s.volume_metric = FS_DETECT_BYTES;
	s.capacity = 256;
	det = fs_detect_new(&s, NULL, NULL);
	assert_non_null(det);
	return det;
}

/* Returns the integer value of key on c, 0 when absent. */
static long long
counter_on(redisContext *c, const char *key)
{
	redisReply *reply = redisCommand(c, "GET %s", key);
	long long value = 0;

	assert_non_null(reply);
	if (reply->type == REDIS_REPLY_STRING)
		value = strtoll(reply->str, NULL, 10);
	else
		assert_int_equal(reply->type, REDIS_REPLY_NIL);
	freeReplyObject(reply);
	return value;
}

/* Returns the counter of rule (a name such as "syn_scan") for src in the 10 s bucket at bucket_s. */
static long long
counter_in(const char *rule, const char *src, int64_t bucket_s)
{
	char key[160];

	snprintf(key, sizeof(key), FS_DETECT_KEY_PREFIX "%s:%s:%lld", rule, src, (long long)bucket_s);
	return counter_on(ctx, key);
}

/* Returns the counter of rule for src in the 10 s bucket of BASE_S. */
static long long
counter(const char *rule, const char *src)
{
	return counter_in(rule, src, BASE_S);
}

/* Returns the distinct destinations that fanout counted for src on port 445. */
static long long
fanout_count(const char *src)
{
	char key[160];
	redisReply *reply;
	long long value;

	snprintf(key, sizeof(key), FS_DETECT_KEY_PREFIX "fanout:%s:445:%lld", src, (long long)BASE_S);
	reply = redisCommand(ctx, "PFCOUNT %s", key);
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
	value = reply->integer;
	freeReplyObject(reply);
	return value;
}

/*
 * Flushes det on a new connection blocked in BLPOP of list, so that the
 * reply times out.  Returns that connection, to free after its EXEC ran.
 */
static redisContext *
flush_times_out(struct fs_detect *det, const char *list, long long *id)
{
	redisContext *stale = fs_test_redis_connect(&server);

	assert_non_null(stale);
	*id = fs_test_redis_client_id(stale);
	assert_int_equal(redisAppendCommand(stale, "BLPOP %s 0", list), REDIS_OK);
	assert_int_equal(fs_detect_flush(det, stale, BASE_MS), FS_ERR_SYSTEM);
	assert_int_not_equal(stale->err, 0);
	return stale;
}

/* The timed-out attempt runs first; the retry adds only the flows added since. */
static void
counters_retry_after_applied_attempt(void **state)
{
	struct fs_detect *det = new_detector();
	redisContext *stale;
	long long id;

	(void)state;
	add_syn(det, "10.0.0.1", "172.17.0.1", 100);
	add_syn(det, "10.0.0.1", "172.17.0.2", 200);
	stale = flush_times_out(det, "release-first", &id);
	add_syn(det, "10.0.0.1", "172.17.0.3", 40);

	fs_test_redis_run(ctx, "LPUSH release-first x");
	fs_test_redis_wait_client_ran(ctx, id, "exec");
	assert_int_equal(counter("syn_scan", "10.0.0.1"), 2);
	assert_int_equal(counter("volume_src", "10.0.0.1"), 300);

	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(fs_detect_count(det), 0);
	assert_int_equal(counter("syn_scan", "10.0.0.1"), 3);
	assert_int_equal(counter("volume_src", "10.0.0.1"), 340);
	assert_int_equal(fanout_count("10.0.0.1"), 3);
	redisFree(stale);
	fs_detect_free(det);
}

/* The retry runs first; the timed-out attempt, run after a later flush, adds nothing. */
static void
counters_late_attempt_adds_nothing(void **state)
{
	struct fs_detect *det = new_detector();
	redisContext *stale;
	long long id;

	(void)state;
	add_syn(det, "10.0.0.2", "172.17.0.1", 1000);
	stale = flush_times_out(det, "release-late", &id);
	add_syn(det, "10.0.0.2", "172.17.0.1", 1);

	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(counter("syn_scan", "10.0.0.2"), 2);
	assert_int_equal(counter("volume_src", "10.0.0.2"), 1001);
	add_syn(det, "10.0.0.2", "172.17.0.4", 10);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);

	fs_test_redis_run(ctx, "LPUSH release-late x");
	fs_test_redis_wait_client_ran(ctx, id, "exec");
	assert_int_equal(counter("syn_scan", "10.0.0.2"), 3);
	assert_int_equal(counter("volume_src", "10.0.0.2"), 1011);
	assert_int_equal(fanout_count("10.0.0.2"), 2);
	redisFree(stale);
	fs_detect_free(det);
}

/* Two timed-out attempts of one flush and the retry: the counters still count each flow once. */
static void
counters_two_timeouts_count_once(void **state)
{
	struct fs_detect *det = new_detector();
	redisContext *stale1, *stale2;
	long long id1, id2;

	(void)state;
	add_syn(det, "10.0.0.3", "172.17.0.1", 500);
	stale1 = flush_times_out(det, "release-twice", &id1);
	add_syn(det, "10.0.0.3", "172.17.0.2", 60);
	stale2 = flush_times_out(det, "release-twice", &id2);
	add_syn(det, "10.0.0.3", "172.17.0.3", 7);

	/* Each LPUSH releases one BLPOP, the longest waiting first. */
	fs_test_redis_run(ctx, "LPUSH release-twice x");
	fs_test_redis_wait_client_ran(ctx, id1, "exec");
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	fs_test_redis_run(ctx, "LPUSH release-twice x");
	fs_test_redis_wait_client_ran(ctx, id2, "exec");
	assert_int_equal(counter("syn_scan", "10.0.0.3"), 3);
	assert_int_equal(counter("volume_src", "10.0.0.3"), 567);
	redisFree(stale1);
	redisFree(stale2);
	fs_detect_free(det);
}

/*
 * Flows received in two buckets: the timed-out attempt and the retry each
 * write both bucket keys, and every flow counts once in its own bucket.
 */
static void
counters_retry_keeps_receive_buckets(void **state)
{
	struct fs_detect *det = new_detector();
	redisContext *stale;
	long long id;

	(void)state;
	/* The newer flow first: a flow that moves the watermark to a new bucket is flushed first. */
	add_syn_at(det, "10.0.0.4", "172.17.0.2", 200, BASE_MS + 1000);
	add_syn_at(det, "10.0.0.4", "172.17.0.1", 100, BASE_MS - 5000);
	stale = flush_times_out(det, "release-buckets", &id);
	add_syn_at(det, "10.0.0.4", "172.17.0.3", 40, BASE_MS - 4000);

	fs_test_redis_run(ctx, "LPUSH release-buckets x");
	fs_test_redis_wait_client_ran(ctx, id, "exec");
	assert_int_equal(counter_in("volume_src", "10.0.0.4", BASE_S - 10), 100);
	assert_int_equal(counter_in("volume_src", "10.0.0.4", BASE_S), 200);

	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(counter_in("volume_src", "10.0.0.4", BASE_S - 10), 140);
	assert_int_equal(counter_in("volume_src", "10.0.0.4", BASE_S), 200);
	assert_int_equal(counter_in("syn_scan", "10.0.0.4", BASE_S - 10), 2);
	assert_int_equal(counter_in("syn_scan", "10.0.0.4", BASE_S), 1);
	redisFree(stale);
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
		cmocka_unit_test_setup(counters_retry_after_applied_attempt, flush_db),
		cmocka_unit_test_setup(counters_late_attempt_adds_nothing, flush_db),
		cmocka_unit_test_setup(counters_two_timeouts_count_once, flush_db),
		cmocka_unit_test_setup(counters_retry_keeps_receive_buckets, flush_db),
	};

	/* hiredis sends with write(2), so SIGPIPE from a closed connection must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
