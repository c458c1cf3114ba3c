/* test_topn.c - Redis URLs and top-N counters against a real redis-server. */
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/flow.h"
#include "core/result.h"
#include "redis/redis_url.h"
#include "redis/topn.h"
#include "redis/topn_rollup.h"
#include "support/redis_commands.h"
#include "support/redis_server.h"

/* A Unix time divisible by 3600, so it starts a bucket at every resolution. */
#define BASE INT64_C(1699999200)

static struct fs_test_redis server;
static redisContext *ctx;
/* The server that test_retry_after_sigstop_counts_once stops; group_teardown() ends it after a failure. */
static struct fs_test_redis paused;

/* ---- helpers ---- */

static struct fs_flow
make_flow(const char *src, const char *dst, int dst_port, uint64_t bytes,
	  uint64_t packets)
{
	struct fs_flow flow;

	fs_flow_clear(&flow);
	if (src != NULL) {
		assert_int_equal(fs_addr_parse(&flow.src_addr, src), 0);
		flow.present |= FS_F_SRC_ADDR;
	}
	if (dst != NULL) {
		assert_int_equal(fs_addr_parse(&flow.dst_addr, dst), 0);
		flow.present |= FS_F_DST_ADDR;
	}
	if (dst_port >= 0) {
		flow.dst_port = (uint16_t)dst_port;
		flow.present |= FS_F_DST_PORT;
	}
	flow.bytes = bytes;
	flow.packets = packets;
	flow.present |= FS_F_BYTES | FS_F_PACKETS;
	return flow;
}

static void
add_flow(struct fs_topn_batch *batch, const char *src, const char *dst, int dst_port,
	 uint64_t bytes, uint64_t packets)
{
	struct fs_flow flow = make_flow(src, dst, dst_port, bytes, packets);

	assert_int_equal(fs_topn_batch_add(batch, &flow), 0);
}

/* Returns the member's score in the bucket key of (dim, metric, window) at at_s, or -1 when absent. */
static double
bucket_score(enum fs_topn_dim dim, enum fs_topn_metric metric,
	     enum fs_topn_window window, int64_t at_s, const char *member)
{
	char key[128];
	redisReply *reply;
	double score = -1;

	fs_topn_bucket_key(dim, metric, window, at_s, key, sizeof(key));
	reply = redisCommand(ctx, "ZSCORE %s %s", key, member);
	assert_non_null(reply);
	if (reply->type == REDIS_REPLY_STRING)
		score = strtod(reply->str, NULL);
	else
		assert_int_equal(reply->type, REDIS_REPLY_NIL);
	freeReplyObject(reply);
	return score;
}

static void
flush_at(struct fs_topn_batch *batch, int64_t now_s)
{
	assert_int_equal(fs_topn_flush(batch, ctx, now_s), 0);
	assert_int_equal(fs_topn_batch_count(batch), 0);
}

static int
query(enum fs_topn_dim dim, enum fs_topn_metric metric, enum fs_topn_window window,
      int n, int64_t now_s, struct fs_topn_row *rows)
{
	int nrows = -1;

	assert_int_equal(fs_topn_query(ctx, dim, metric, window, n, now_s, rows, &nrows), 0);
	return nrows;
}

static void
assert_row(const struct fs_topn_row *row, const char *key, uint64_t bytes,
	   uint64_t packets, uint64_t flows)
{
	assert_string_equal(row->key, key);
	assert_int_equal(row->bytes, bytes);
	assert_int_equal(row->packets, packets);
	assert_int_equal(row->flows, flows);
}

static int
flush_db(void **state)
{
	(void)state;
	return fs_test_redis_flushdb(ctx);
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
	if (paused.pid > 0) {
		kill(paused.pid, SIGCONT);
		fs_test_redis_stop(&paused);
	}
	return 0;
}

/* ---- URL parsing ---- */

static void
test_url_parse_valid(void **state)
{
	struct fs_redis_url url;
	char err[256] = "";

	(void)state;
	assert_int_equal(fs_redis_url_parse(&url, "redis://127.0.0.1:6380", err, sizeof(err)), 0);
	assert_int_equal(url.transport, FS_REDIS_TCP);
	assert_string_equal(url.host, "127.0.0.1");
	assert_int_equal(url.port, 6380);
	assert_int_equal(url.db, 0);
	assert_string_equal(url.password, "");

	assert_int_equal(fs_redis_url_parse(&url, "redis://localhost", err, sizeof(err)), 0);
	assert_string_equal(url.host, "localhost");
	assert_int_equal(url.port, 6379);

	assert_int_equal(fs_redis_url_parse(&url, "redis://[::1]:7000/4", err, sizeof(err)), 0);
	assert_string_equal(url.host, "::1");
	assert_int_equal(url.port, 7000);
	assert_int_equal(url.db, 4);

	assert_int_equal(fs_redis_url_parse(&url, "redis://:s%40cret@h:1/", err, sizeof(err)), 0);
	assert_string_equal(url.user, "");
	assert_string_equal(url.password, "s@cret");
	assert_int_equal(url.db, 0);

	assert_int_equal(fs_redis_url_parse(&url, "redis://alice:pw@db.example:6379/2",
					    err, sizeof(err)), 0);
	assert_string_equal(url.user, "alice");
	assert_string_equal(url.password, "pw");
	assert_string_equal(url.host, "db.example");
	assert_int_equal(url.db, 2);

	assert_int_equal(fs_redis_url_parse(&url, "unix:///run/redis/redis.sock", err,
					    sizeof(err)), 0);
	assert_int_equal(url.transport, FS_REDIS_UNIX);
	assert_string_equal(url.path, "/run/redis/redis.sock");
}

static void
test_url_parse_invalid(void **state)
{
	static const struct {
		const char *url;
		const char *message;   /* a part the error message must contain */
	} cases[] = {
		{ "", "empty URL" },
		{ "http://127.0.0.1", "expected redis://" },
		{ "rediss://127.0.0.1", "TLS" },
		{ "redis://", "missing host" },
		{ "redis://:6379", "missing host" },
		{ "redis://127.0.0.1:0", "port '0'" },
		{ "redis://127.0.0.1:65536", "port '65536'" },
		{ "redis://127.0.0.1:http", "port 'http'" },
		{ "redis://127.0.0.1/x", "database 'x'" },
		{ "redis://127.0.0.1/-1", "database '-1'" },
		{ "redis://127.0.0.1?db=1", "query strings" },
		{ "redis://[::1:6379", "missing ']'" },
		{ "redis://[::1]6379", "expected ':'" },
		{ "redis://secret@127.0.0.1", "missing ':'" },
		{ "redis://:@127.0.0.1", "empty password" },
		{ "redis://:%zz@127.0.0.1", "invalid %XX" },
		{ "unix://relative.sock", "absolute socket path" },
	};
	struct fs_redis_url url;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(fs_redis_url_parse(&url, cases[i].url, err, sizeof(err)),
				 FS_ERR_INVALID);
		if (strstr(err, cases[i].message) == NULL)
			fail_msg("URL '%s': message '%s' lacks '%s'", cases[i].url, err,
				 cases[i].message);
	}
}

static void
test_url_format_hides_password(void **state)
{
	struct fs_redis_url url;
	char err[256];
	char text[512];

	(void)state;
	assert_int_equal(fs_redis_url_parse(&url, "redis://bob:hunter2@[::1]:7/1", err,
					    sizeof(err)), 0);
	fs_redis_url_format_safe(&url, text, sizeof(text));
	assert_string_equal(text, "redis://bob:***@[::1]:7/1");
	assert_int_equal(fs_redis_url_parse(&url, "redis://bob:hunter2@h:x", err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(fs_redis_url_parse(&url, "http://bob:hunter2@h", err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_null(strstr(err, "hunter2"));
}

/* ---- connecting ---- */

static void
test_connect_auth_and_select(void **state)
{
	static const char *const args[] = {
		"--requirepass", "top secret", "--user", "alice", "on", ">pw2", "~*", "&*", "+@all",
		NULL,
	};
	struct fs_test_redis secured;
	struct fs_redis_url url;
	redisContext *c = NULL;
	redisReply *reply;
	char text[256];
	char err[256] = "";

	(void)state;
	assert_int_equal(fs_test_redis_spawn(&secured, args), 0);

	snprintf(text, sizeof(text), "redis://:top%%20secret@127.0.0.1:%d/3", secured.port);
	assert_int_equal(fs_redis_url_parse(&url, text, err, sizeof(err)), 0);
	assert_int_equal(fs_redis_connect(&url, 2000, &c, err, sizeof(err)), 0);
	reply = redisCommand(c, "CLIENT INFO");
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_STRING);
	assert_non_null(strstr(reply->str, " db=3 "));
	freeReplyObject(reply);
	redisFree(c);

	snprintf(text, sizeof(text), "redis://alice:pw2@127.0.0.1:%d", secured.port);
	assert_int_equal(fs_redis_url_parse(&url, text, err, sizeof(err)), 0);
	assert_int_equal(fs_redis_connect(&url, 2000, &c, err, sizeof(err)), 0);
	reply = redisCommand(c, "ACL WHOAMI");
	assert_non_null(reply);
	assert_string_equal(reply->str, "alice");
	freeReplyObject(reply);
	redisFree(c);

	snprintf(text, sizeof(text), "redis://:wrong@127.0.0.1:%d", secured.port);
	assert_int_equal(fs_redis_url_parse(&url, text, err, sizeof(err)), 0);
	assert_int_equal(fs_redis_connect(&url, 2000, &c, err, sizeof(err)), FS_ERR_SYSTEM);
	assert_null(c);
	assert_non_null(strstr(err, "AUTH rejected"));

	fs_test_redis_stop(&secured);
	assert_int_equal(fs_redis_connect(&url, 500, &c, err, sizeof(err)), FS_ERR_SYSTEM);
	assert_null(c);
	assert_non_null(strstr(err, "cannot connect to Redis at redis://:***@127.0.0.1"));
}

/* ---- batch ---- */

static void
test_batch_full_keeps_flow_whole(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(5);
	struct fs_flow first = make_flow("10.0.0.1", "10.0.0.2", 80, 1, 1);
	struct fs_flow other = make_flow("10.0.0.3", "10.0.0.4", 443, 1, 1);
	struct fs_flow one_new = make_flow("10.0.0.1", "10.0.0.2", 22, 1, 1);
	struct fs_topn_stats stats;

	(void)state;
	assert_non_null(batch);
	assert_null(fs_topn_batch_new(0));
	/* Source, destination, port and conversation. */
	assert_int_equal(fs_topn_batch_add(batch, &first), 0);
	assert_int_equal(fs_topn_batch_count(batch), 4);
	assert_int_equal(fs_topn_batch_add(batch, &other), FS_ERR_FULL);
	assert_int_equal(fs_topn_batch_count(batch), 4);
	assert_int_equal(fs_topn_batch_add(batch, &first), 0);
	assert_int_equal(fs_topn_batch_add(batch, &one_new), 0);
	assert_int_equal(fs_topn_batch_count(batch), 5);
	assert_int_equal(fs_topn_batch_add(batch, &other), FS_ERR_FULL);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.full, 2);

	fs_topn_batch_reset(batch);
	assert_int_equal(fs_topn_batch_count(batch), 0);
	assert_int_equal(fs_topn_batch_add(batch, &other), 0);
	assert_int_equal(fs_topn_batch_count(batch), 4);
	fs_topn_batch_free(batch);
}

/* ---- flush ---- */

/* Runs the roll-ups due at now_s, as an idle report worker's flush does. */
static void
rollup_at(struct fs_topn_batch *batch, int64_t now_s)
{
	struct fs_topn_stats stats;

	flush_at(batch, now_s);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.rollup_errors, 0);
}

static void
test_flush_aggregates_scores(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	const int64_t now = BASE + 5;
	struct fs_topn_stats before, stats;

	(void)state;
	/* The first flush also runs the roll-ups due at start; count them apart. */
	rollup_at(batch, now);
	fs_topn_batch_stats(batch, &before);
	add_flow(batch, "10.0.0.1", "10.0.0.2", 443, 1000, 10);
	add_flow(batch, "10.0.0.1", "10.0.0.3", 443, 500, 5);
	add_flow(batch, "10.0.0.4", "10.0.0.2", 80, 200, 2);
	assert_int_equal(fs_topn_batch_count(batch), 9);
	flush_at(batch, now);

	/* Only the 10 s bucket is written; the coarser ones come from roll-ups. */
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, now, "10.0.0.1") == 1500);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_PACKETS, FS_TOPN_1M, now, "10.0.0.1") == 15);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_1M, now, "10.0.0.1") == 2);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, now, "10.0.0.4") == 200);
	assert_true(bucket_score(FS_TOPN_DST_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, now, "10.0.0.2") == 1200);
	assert_true(bucket_score(FS_TOPN_DST_ADDR, FS_TOPN_FLOWS, FS_TOPN_1M, now, "10.0.0.3") == 1);
	assert_true(bucket_score(FS_TOPN_DST_PORT, FS_TOPN_BYTES, FS_TOPN_1M, now, "443") == 1500);
	assert_true(bucket_score(FS_TOPN_DST_PORT, FS_TOPN_PACKETS, FS_TOPN_1M, now, "80") == 2);
	assert_true(bucket_score(FS_TOPN_DST_PORT, FS_TOPN_FLOWS, FS_TOPN_1M, now, "443") == 2);
	assert_true(bucket_score(FS_TOPN_DST_PORT, FS_TOPN_FLOWS, FS_TOPN_1M, now, "22") == -1);
	assert_true(bucket_score(FS_TOPN_CONVERSATION, FS_TOPN_BYTES, FS_TOPN_1M, now,
				 "10.0.0.1>10.0.0.3") == 500);
	for (int w = FS_TOPN_5M; w < FS_TOPN_WINDOW_COUNT; w++)
		assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, w, now, "10.0.0.1") == -1);

	fs_topn_batch_stats(batch, &stats);
	/* SCRIPT LOAD, MULTI, one script per dimension (4), EXEC. */
	assert_int_equal(stats.commands - before.commands, 1 + 1 + 4 + 1);
	/* 9 entries x 3 metrics, one level each. */
	assert_int_equal(stats.updates, 27);

	/* A second flush adds to the same bucket. */
	add_flow(batch, "10.0.0.1", "10.0.0.2", 443, 1, 1);
	flush_at(batch, now + 4);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, now, "10.0.0.1") == 1501);

	/* Once closed, the 60 s bucket contains the sums of its 10 s buckets. */
	rollup_at(batch, BASE + 60 + FS_TOPN_ROLLUP_GRACE_S);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, now, "10.0.0.1") == 1501);
	assert_true(bucket_score(FS_TOPN_DST_PORT, FS_TOPN_FLOWS, FS_TOPN_5M, now, "443") == 3);

	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.flushes, 2);
	assert_int_equal(stats.errors, 0);
	assert_true(stats.rollups >= 1);
	fs_topn_batch_free(batch);
}

/* Returns the expiry that keys of the resolution named in key get, or -1. */
static long long
expected_ttl(const char *key)
{
	for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++) {
		char resolution[16];

		snprintf(resolution, sizeof(resolution), ":%llds:",
			 (long long)fs_topn_window_resolution(w));
		if (strstr(key, resolution) != NULL)
			return fs_topn_level_ttl(w);
	}
	return -1;
}

/* Checks the TTL of every key matching pattern; returns how many matched. */
static size_t
check_ttls(const char *pattern)
{
	redisReply *keys = redisCommand(ctx, "KEYS %s", pattern);
	size_t count;

	assert_non_null(keys);
	assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
	count = keys->elements;
	for (size_t i = 0; i < keys->elements; i++) {
		const char *key = keys->element[i]->str;
		redisReply *ttl = redisCommand(ctx, "TTL %s", key);
		long long expected = expected_ttl(key);

		assert_non_null(ttl);
		assert_int_equal(ttl->type, REDIS_REPLY_INTEGER);
		if (ttl->integer > expected || ttl->integer < expected - 10)
			fail_msg("key %s: TTL %lld, expected about %lld", key, ttl->integer,
				 expected);
		freeReplyObject(ttl);
	}
	freeReplyObject(keys);
	return count;
}

static void
test_flush_sets_ttl_on_every_key(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);

	(void)state;
	add_flow(batch, "192.0.2.1", "2001:db8::2", 53, 100, 1);
	flush_at(batch, BASE);
	/* 4 dimensions x 3 metrics, at 10 s only. */
	assert_int_equal(check_ttls(FS_TOPN_KEY_PREFIX "*:*:10s:*"), 12);
	assert_int_equal(check_ttls(FS_TOPN_KEY_PREFIX "*:*:60s:*"), 0);

	/* The roll-up gives the 60 s bucket and its marker the 60 s expiry. */
	rollup_at(batch, BASE + 60 + FS_TOPN_ROLLUP_GRACE_S);
	assert_int_equal(check_ttls(FS_TOPN_KEY_PREFIX "src_addr:*:60s:*"), 3);
	assert_true(check_ttls(FS_TOPN_KEY_PREFIX "rollup:*") > 0);
	assert_int_equal(check_ttls(FS_TOPN_KEY_PREFIX "*:*:10s:*"), 12);
	fs_topn_batch_free(batch);
}

static void
test_flush_empty_batch_only_rolls_up(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);
	struct fs_topn_stats first, stats;

	(void)state;
	/* The first flush rolls up the buckets whose children may still exist. */
	flush_at(batch, BASE);
	fs_topn_batch_stats(batch, &first);
	assert_int_equal(first.flushes, 0);
	assert_true(first.rollups > 0);
	/* Nothing is due a second later, so nothing is sent. */
	flush_at(batch, BASE + 1);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.commands, first.commands);
	assert_int_equal(stats.rollups, first.rollups);
	fs_topn_batch_free(batch);
}

static void
test_flush_stopped_server_keeps_batch(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);
	struct fs_topn_row rows[2];
	struct fs_test_redis doomed;
	struct fs_topn_stats stats;
	redisContext *doomed_ctx;

	(void)state;
	assert_int_equal(fs_test_redis_spawn(&doomed, NULL), 0);
	doomed_ctx = fs_test_redis_connect(&doomed);
	assert_non_null(doomed_ctx);
	add_flow(batch, "10.9.9.9", "10.8.8.8", 8080, 4000, 4);
	fs_test_redis_stop(&doomed);

	assert_int_equal(fs_topn_flush(batch, doomed_ctx, BASE), FS_ERR_SYSTEM);
	assert_int_equal(fs_topn_batch_count(batch), 4);
	/* The context is now unusable: a retry on it fails at once. */
	assert_int_equal(fs_topn_flush(batch, doomed_ctx, BASE), FS_ERR_SYSTEM);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.errors, 2);
	assert_int_equal(stats.flushes, 0);
	redisFree(doomed_ctx);

	/* The kept entries reach a working server intact. */
	flush_at(batch, BASE);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "10.9.9.9") == 4000);
	assert_int_equal(query(FS_TOPN_DST_PORT, FS_TOPN_PACKETS, FS_TOPN_1H, 2, BASE, rows), 1);
	assert_row(&rows[0], "8080", 4000, 4, 1);
	fs_topn_batch_free(batch);
}

static void
test_flush_wrongtype_is_reported(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);
	char key[128];
	redisReply *reply;

	(void)state;
	fs_topn_bucket_key(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, key, sizeof(key));
	reply = redisCommand(ctx, "SET %s not-a-zset", key);
	assert_non_null(reply);
	freeReplyObject(reply);

	add_flow(batch, "10.0.0.1", NULL, -1, 10, 1);
	assert_int_equal(fs_topn_flush(batch, ctx, BASE), FS_ERR_INVALID);
	assert_int_equal(fs_topn_batch_count(batch), 1);
	/* The connection stays in step: the next command gets its own reply. */
	reply = redisCommand(ctx, "PING");
	assert_non_null(reply);
	assert_string_equal(reply->str, "PONG");
	freeReplyObject(reply);
	fs_topn_batch_free(batch);
}

/* ---- queries ---- */

static void
test_query_orders_by_each_metric(void **state)
{
	enum { A, B, C };
	/* The totals of each source over the flows added below. */
	static const struct {
		const char *key;
		uint64_t bytes, packets, flows;
	} sources[] = {
		[A] = { "10.1.0.1", 9000, 3, 1 },
		[B] = { "10.1.0.2", 300, 150, 3 },
		[C] = { "10.1.0.3", 2000, 2, 2 },
	};
	static const struct {
		enum fs_topn_metric metric;
		enum fs_topn_window window;
		int n;          /* rows requested */
		int count;      /* rows returned */
		int order[3];   /* the sources of the rows, in order */
	} rankings[] = {
		{ FS_TOPN_BYTES, FS_TOPN_1M, 5, 3, { A, C, B } },
		{ FS_TOPN_PACKETS, FS_TOPN_1M, 5, 3, { B, A, C } },
		{ FS_TOPN_FLOWS, FS_TOPN_24H, 5, 3, { B, C, A } },
		{ FS_TOPN_BYTES, FS_TOPN_5M, 2, 2, { A, C } },
	};
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	struct fs_topn_row rows[5];

	(void)state;
	add_flow(batch, sources[A].key, NULL, -1, 9000, 3);
	for (int i = 0; i < 3; i++)
		add_flow(batch, sources[B].key, NULL, -1, 100, 50);
	add_flow(batch, sources[C].key, NULL, -1, 1000, 1);
	flush_at(batch, BASE + 1);
	add_flow(batch, sources[C].key, NULL, -1, 1000, 1);
	flush_at(batch, BASE + 20);   /* another 10 s bucket of the same window */

	for (size_t r = 0; r < sizeof(rankings) / sizeof(rankings[0]); r++) {
		assert_int_equal(query(FS_TOPN_SRC_ADDR, rankings[r].metric, rankings[r].window,
				       rankings[r].n, BASE + 30, rows), rankings[r].count);
		for (int i = 0; i < rankings[r].count; i++) {
			int s = rankings[r].order[i];

			assert_row(&rows[i], sources[s].key, sources[s].bytes, sources[s].packets,
				   sources[s].flows);
		}
	}

	/* Nothing was counted for destinations, and the temporary keys are gone. */
	assert_int_equal(query(FS_TOPN_DST_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, 5, BASE + 30, rows), 0);
	{
		redisReply *tmp = redisCommand(ctx, "KEYS %stmp:*", FS_TOPN_KEY_PREFIX);

		assert_non_null(tmp);
		assert_int_equal(tmp->elements, 0);
		freeReplyObject(tmp);
	}
	fs_topn_batch_free(batch);
}

static void
test_query_ties_ordered_by_key(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	struct fs_topn_row rows[4];

	(void)state;
	add_flow(batch, "10.0.0.9", NULL, -1, 500, 1);
	add_flow(batch, "10.0.0.5", NULL, -1, 100, 1);
	add_flow(batch, "10.0.0.7", NULL, -1, 100, 1);
	add_flow(batch, "10.0.0.3", NULL, -1, 100, 1);
	flush_at(batch, BASE);

	assert_int_equal(query(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, 3, BASE, rows), 3);
	assert_row(&rows[0], "10.0.0.9", 500, 1, 1);
	assert_row(&rows[1], "10.0.0.3", 100, 1, 1);
	assert_row(&rows[2], "10.0.0.5", 100, 1, 1);

	/* All four tie on flows. */
	assert_int_equal(query(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_1M, 2, BASE, rows), 2);
	assert_string_equal(rows[0].key, "10.0.0.3");
	assert_string_equal(rows[1].key, "10.0.0.5");
	assert_int_equal(query(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_1M, 4, BASE, rows), 4);
	assert_string_equal(rows[3].key, "10.0.0.9");
	fs_topn_batch_free(batch);
}

/* One writer on a simulated clock that runs roll-ups as time passes, like a report worker. */
struct timeline {
	struct fs_topn_batch *batch;
	int64_t now;
};

/* Moves the clock to t, running the roll-ups of every minute on the way. */
static void
advance(struct timeline *tl, int64_t t)
{
	while (tl->now + 60 < t) {
		tl->now += 60;
		rollup_at(tl->batch, tl->now);
	}
	tl->now = t;
	rollup_at(tl->batch, t);
}

/* Flushes one flow from source src at time at_s. */
static void
flush_one(struct timeline *tl, const char *src, int64_t at_s)
{
	advance(tl, at_s);
	add_flow(tl->batch, src, NULL, -1, 10, 1);
	flush_at(tl->batch, at_s);
}

/* Returns whether key is among rows[0..nrows). */
static int
has_key(const struct fs_topn_row *rows, int nrows, const char *key)
{
	for (int i = 0; i < nrows; i++) {
		if (strcmp(rows[i].key, key) == 0)
			return 1;
	}
	return 0;
}

static void
assert_same_rows(const struct fs_topn_row *a, int na, const struct fs_topn_row *b, int nb)
{
	assert_int_equal(na, nb);
	for (int i = 0; i < na; i++)
		assert_row(&b[i], a[i].key, a[i].bytes, a[i].packets, a[i].flows);
}

static void
test_query_window_boundaries(void **state)
{
	struct timeline tl = { fs_topn_batch_new(4), BASE - 82801 };
	const int64_t now = BASE + 59;
	struct fs_topn_row rows[10], before[FS_TOPN_WINDOW_COUNT][10];
	int n, nbefore[FS_TOPN_WINDOW_COUNT];

	(void)state;
	assert_non_null(tl.batch);
	flush_one(&tl, "10.5.0.1", BASE - 82801);
	flush_one(&tl, "10.5.0.2", BASE - 82800);
	flush_one(&tl, "10.4.0.1", BASE - 3301);
	flush_one(&tl, "10.4.0.2", BASE - 3300);
	flush_one(&tl, "10.3.0.1", BASE - 241);
	flush_one(&tl, "10.3.0.2", BASE - 240);
	flush_one(&tl, "10.2.0.1", BASE - 1);
	flush_one(&tl, "10.2.0.2", BASE);
	flush_one(&tl, "10.2.0.3", BASE + 59);

	/* 1m reads six 10 s buckets, which at BASE+59 span BASE .. BASE+59. */
	n = query(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_1M, 10, now, rows);
	assert_int_equal(n, 2);
	assert_true(has_key(rows, n, "10.2.0.2"));
	assert_true(has_key(rows, n, "10.2.0.3"));

	/* 5m reads five 60 s buckets, which span BASE-240 .. BASE+59. */
	n = query(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_5M, 10, now, rows);
	assert_int_equal(n, 4);
	assert_true(has_key(rows, n, "10.3.0.2"));
	assert_false(has_key(rows, n, "10.3.0.1"));
	assert_true(has_key(rows, n, "10.2.0.1"));

	/* 1h reads twelve 5 min buckets, which span BASE-3300 .. BASE+299. */
	n = query(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_1H, 10, now, rows);
	assert_int_equal(n, 6);
	assert_true(has_key(rows, n, "10.4.0.2"));
	assert_false(has_key(rows, n, "10.4.0.1"));

	/* 24h reads twenty-four 1 h buckets, which span BASE-23h .. BASE+3599. */
	n = query(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_24H, 10, now, rows);
	assert_int_equal(n, 8);
	assert_true(has_key(rows, n, "10.5.0.2"));
	assert_false(has_key(rows, n, "10.5.0.1"));
	assert_true(has_key(rows, n, "10.4.0.1"));

	/* Once every bucket holding now is rolled up, the same windows read the same rows. */
	for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++)
		nbefore[w] = query(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, w, 10, now, before[w]);
	advance(&tl, BASE + 3600 + FS_TOPN_ROLLUP_GRACE_S);
	for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++) {
		char key[128];

		fs_topn_rollup_key(w, now, key, sizeof(key));
		n = query(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, w, 10, now, rows);
		assert_same_rows(before[w], nbefore[w], rows, n);
		if (w > 0)
			assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, w, now,
						 "10.2.0.3") == 1);
	}
	fs_topn_batch_free(tl.batch);
}

static void
test_query_ipv6_and_port_keys(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);
	struct fs_topn_row rows[4];
	struct fs_flow no_dst;

	(void)state;
	add_flow(batch, "2001:db8:0:0:0:0:0:1", "2001:0db8:0:0:1:0:0:1", 53, 700, 7);
	/* A flow without destination address or port counts only for its source. */
	no_dst = make_flow("2001:db8::1", NULL, -1, 300, 3);
	assert_int_equal(fs_topn_batch_add(batch, &no_dst), 0);
	flush_at(batch, BASE);

	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "2001:db8::1") == 1000);
	assert_true(bucket_score(FS_TOPN_DST_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE,
				 "2001:db8::1:0:0:1") == 700);
	assert_true(bucket_score(FS_TOPN_DST_PORT, FS_TOPN_FLOWS, FS_TOPN_1M, BASE, "53") == 1);

	assert_int_equal(query(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, 4, BASE, rows), 1);
	assert_row(&rows[0], "2001:db8::1", 1000, 10, 2);
	assert_int_equal(query(FS_TOPN_DST_ADDR, FS_TOPN_PACKETS, FS_TOPN_5M, 4, BASE, rows), 1);
	assert_row(&rows[0], "2001:db8::1:0:0:1", 700, 7, 1);
	assert_int_equal(query(FS_TOPN_DST_PORT, FS_TOPN_FLOWS, FS_TOPN_5M, 4, BASE, rows), 1);
	assert_row(&rows[0], "53", 700, 7, 1);
	fs_topn_batch_free(batch);
}

static void
test_query_rejects_bad_arguments(void **state)
{
	struct fs_topn_row rows[1];
	int nrows = -1;

	(void)state;
	assert_int_equal(fs_topn_query(ctx, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, 0,
				       BASE, rows, &nrows), FS_ERR_INVALID);
	assert_int_equal(nrows, 0);
	assert_int_equal(fs_topn_query(ctx, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M,
				       FS_TOPN_MAX_N + 1, BASE, rows, &nrows), FS_ERR_INVALID);
	assert_int_equal(fs_topn_query(ctx, FS_TOPN_DIM_COUNT, FS_TOPN_BYTES, FS_TOPN_1M, 1,
				       BASE, rows, &nrows), FS_ERR_INVALID);
}

static void
test_names_parse_and_print(void **state)
{
	enum fs_topn_dim dim;
	enum fs_topn_metric metric;
	enum fs_topn_window window;

	(void)state;
	assert_int_equal(fs_topn_dim_parse("dst_port", &dim), 0);
	assert_int_equal(dim, FS_TOPN_DST_PORT);
	assert_int_equal(fs_topn_dim_parse("port", &dim), FS_ERR_INVALID);
	/* Every dimension's name parses back to it. */
	for (int d = 0; d < FS_TOPN_DIM_COUNT; d++) {
		assert_int_equal(fs_topn_dim_parse(fs_topn_dim_name(d), &dim), 0);
		assert_int_equal(dim, d);
	}
	assert_string_equal(fs_topn_dim_name(FS_TOPN_CONVERSATION), "conversation");
	assert_string_equal(fs_topn_dim_name(FS_TOPN_EXPORTER), "exporter");
	assert_int_equal(fs_topn_metric_parse("packets", &metric), 0);
	assert_int_equal(metric, FS_TOPN_PACKETS);
	assert_int_equal(fs_topn_window_parse("24h", &window), 0);
	assert_int_equal(window, FS_TOPN_24H);
	assert_int_equal(fs_topn_window_parse("2h", &window), FS_ERR_INVALID);
	assert_string_equal(fs_topn_window_name(FS_TOPN_1H), "1h");
	assert_int_equal(fs_topn_window_buckets(FS_TOPN_1H), 12);
}

/*
 * Fills flow with every field that the top-N counters read: flow i of a
 * steady mix of 200 sources, 400 destinations, 20 ports, 3 protocols,
 * 2 exporters with 8 interfaces each, 40 AS numbers and 10 countries.
 */
static void
make_mixed_flow(struct fs_flow *flow, int i)
{
	static const char *const countries[] = { "FR", "DE", "US", "GB", "NL",
						  "JP", "BR", "IN", "CA", "SE" };
	static const uint8_t protos[] = { 6, 17, 1 };
	char src[32], dst[32], exporter[32];

	snprintf(src, sizeof(src), "10.1.%d.%d", i % 200 / 100, i % 200);
	snprintf(dst, sizeof(dst), "10.2.%d.%d", i % 400 / 200, i % 200);
	snprintf(exporter, sizeof(exporter), "192.0.2.%d", 1 + i % 2);
	*flow = make_flow(src, dst, 1000 + i % 20, 1000 + (uint64_t)i, 1 + (uint64_t)i % 7);
	assert_int_equal(fs_addr_parse(&flow->exporter_addr, exporter), 0);
	flow->proto = protos[i % 3];
	flow->in_if = 1 + (uint32_t)(i % 8);
	flow->out_if = 1 + (uint32_t)(i % 5);
	flow->src_as = 64500 + (uint32_t)(i % 40);
	flow->dst_as = 64600 + (uint32_t)(i % 30);
	memcpy(flow->src_country, countries[i % 10], 3);
	memcpy(flow->dst_country, countries[(i / 10) % 10], 3);
	flow->present |= FS_F_PROTO | FS_F_IN_IF | FS_F_OUT_IF | FS_F_SRC_AS | FS_F_DST_AS |
			 FS_F_SRC_COUNTRY | FS_F_DST_COUNTRY;
}

/* Checks and prints the Redis commands that one flush of 1,000 mixed flows sends. */
static void
test_flush_commands_per_1000_flows(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16384);
	struct fs_topn_stats before, stats;
	struct fs_flow flow;
	size_t entries;

	(void)state;
	/* The first flush runs the roll-ups due at start; count them apart. */
	flush_at(batch, BASE);
	fs_topn_batch_stats(batch, &before);
	for (int i = 0; i < 1000; i++) {
		make_mixed_flow(&flow, i);
		assert_int_equal(fs_topn_batch_add(batch, &flow), 0);
	}
	entries = fs_topn_batch_count(batch);
	print_message("top-N: 1000 flows, %zu batch entries\n", entries);
	flush_at(batch, BASE);
	fs_topn_batch_stats(batch, &stats);
	print_message("top-N: 1000 flows, %llu Redis commands and %llu sorted-set updates in one flush\n",
		      (unsigned long long)(stats.commands - before.commands),
		      (unsigned long long)stats.updates);
	/* SCRIPT LOAD, MULTI, one script per dimension (each has under 512 members), EXEC. */
	assert_int_equal(stats.commands - before.commands, 1 + 1 + FS_TOPN_DIM_COUNT + 1);
	/* Every entry has non-zero bytes, packets and flows. */
	assert_int_equal(stats.updates, 3 * entries);
	fs_topn_batch_free(batch);
}

/* Returns the key's TTL in seconds. */
static long long
key_ttl(const char *key)
{
	redisReply *reply = redisCommand(ctx, "TTL %s", key);
	long long ttl;

	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
	ttl = reply->integer;
	freeReplyObject(reply);
	return ttl;
}

static void
test_flush_enriched_dimensions(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	struct fs_topn_row rows[4];
	struct fs_flow a, b, bare;
	char key[128];

	(void)state;
	make_mixed_flow(&a, 0);   /* tcp, AS64500 -> AS64600, FR -> FR, 192.0.2.1 if 1 -> 1 */
	make_mixed_flow(&b, 30);  /* tcp, AS64530 -> AS64600, FR -> GB, 192.0.2.1 if 7 -> 1 */
	/* The same interface index on another exporter is another interface. */
	make_mixed_flow(&bare, 30);
	assert_int_equal(fs_addr_parse(&bare.exporter_addr, "2001:db8::fe"), 0);
	bare.present &= ~(uint64_t)(FS_F_PROTO | FS_F_SRC_AS | FS_F_DST_AS | FS_F_SRC_COUNTRY |
				    FS_F_OUT_IF);
	bare.dst_country[0] = '\0';
	assert_int_equal(fs_topn_batch_add(batch, &a), 0);
	assert_int_equal(fs_topn_batch_add(batch, &b), 0);
	assert_int_equal(fs_topn_batch_add(batch, &bare), 0);
	flush_at(batch, BASE + 7);
	/* Roll up every bucket holding BASE, so that each resolution has its own keys. */
	advance(&(struct timeline){ batch, BASE + 7 }, BASE + 3600 + FS_TOPN_ROLLUP_GRACE_S);

	for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++) {
		assert_true(bucket_score(FS_TOPN_PROTO, FS_TOPN_BYTES, w, BASE, "6") == 2030);
		assert_true(bucket_score(FS_TOPN_PROTO, FS_TOPN_PACKETS, w, BASE, "6") == 4);
		assert_true(bucket_score(FS_TOPN_PROTO, FS_TOPN_FLOWS, w, BASE, "6") == 2);
		assert_true(bucket_score(FS_TOPN_CONVERSATION, FS_TOPN_FLOWS, w, BASE,
					 "10.1.0.30>10.2.0.30") == 2);
		assert_true(bucket_score(FS_TOPN_SRC_AS, FS_TOPN_BYTES, w, BASE, "64530") == 1030);
		assert_true(bucket_score(FS_TOPN_DST_AS, FS_TOPN_BYTES, w, BASE, "64600") == 2030);
		assert_true(bucket_score(FS_TOPN_SRC_COUNTRY, FS_TOPN_FLOWS, w, BASE, "FR") == 2);
		assert_true(bucket_score(FS_TOPN_DST_COUNTRY, FS_TOPN_BYTES, w, BASE, "GB") == 1030);
		assert_true(bucket_score(FS_TOPN_IN_IF, FS_TOPN_BYTES, w, BASE, "192.0.2.1/7") == 1030);
		assert_true(bucket_score(FS_TOPN_IN_IF, FS_TOPN_BYTES, w, BASE, "2001:db8::fe/7") == 1030);
		assert_true(bucket_score(FS_TOPN_OUT_IF, FS_TOPN_PACKETS, w, BASE, "192.0.2.1/1") == 4);
		assert_true(bucket_score(FS_TOPN_OUT_IF, FS_TOPN_PACKETS, w, BASE, "2001:db8::fe/1") == -1);
		assert_true(bucket_score(FS_TOPN_EXPORTER, FS_TOPN_FLOWS, w, BASE, "192.0.2.1") == 2);
		assert_true(bucket_score(FS_TOPN_EXPORTER, FS_TOPN_FLOWS, w, BASE, "2001:db8::fe") == 1);

		/* Every new key expires like the old ones. */
		for (int d = FS_TOPN_CONVERSATION; d < FS_TOPN_DIM_COUNT; d++) {
			long long expected = fs_topn_level_ttl(w);
			long long ttl;

			fs_topn_bucket_key(d, FS_TOPN_BYTES, w, BASE, key, sizeof(key));
			ttl = key_ttl(key);
			if (ttl > expected || ttl < expected - 10)
				fail_msg("key %s: TTL %lld, expected about %lld", key, ttl, expected);
		}
	}
	/* The flow lacking proto, AS numbers and countries added nothing there. */
	assert_int_equal(query(FS_TOPN_PROTO, FS_TOPN_FLOWS, FS_TOPN_1M, 4, BASE + 7, rows), 1);
	assert_row(&rows[0], "6", 2030, 4, 2);
	assert_int_equal(query(FS_TOPN_SRC_AS, FS_TOPN_BYTES, FS_TOPN_5M, 4, BASE + 7, rows), 2);
	assert_row(&rows[0], "64530", 1030, 3, 1);
	assert_row(&rows[1], "64500", 1000, 1, 1);
	assert_int_equal(query(FS_TOPN_DST_COUNTRY, FS_TOPN_FLOWS, FS_TOPN_1H, 4, BASE + 7, rows), 2);
	assert_row(&rows[0], "FR", 1000, 1, 1);
	assert_row(&rows[1], "GB", 1030, 3, 1);
	assert_int_equal(query(FS_TOPN_IN_IF, FS_TOPN_BYTES, FS_TOPN_24H, 4, BASE + 7, rows), 3);
	assert_row(&rows[0], "192.0.2.1/7", 1030, 3, 1);
	assert_row(&rows[1], "2001:db8::fe/7", 1030, 3, 1);
	assert_row(&rows[2], "192.0.2.1/1", 1000, 1, 1);
	fs_topn_batch_free(batch);
}

static void
test_query_long_conversation_member(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);
	struct fs_topn_row rows[1];
	struct fs_flow flow;

	(void)state;
	/* Two addresses of 39 characters, longer together than one address. */
	flow = make_flow("fd00:1111:2222:3333:4444:5555:6666:7777",
			 "fd00:aaaa:bbbb:cccc:dddd:eeee:ffff:1234", 80, 10, 1);
	assert_int_equal(fs_topn_batch_add(batch, &flow), 0);
	flush_at(batch, BASE);
	assert_int_equal(query(FS_TOPN_CONVERSATION, FS_TOPN_BYTES, FS_TOPN_1M, 1, BASE, rows), 1);
	assert_row(&rows[0], "fd00:1111:2222:3333:4444:5555:6666:7777>"
			     "fd00:aaaa:bbbb:cccc:dddd:eeee:ffff:1234", 10, 1, 1);
	fs_topn_batch_free(batch);
}

/* ---- roll-up ---- */

/* Returns 1 when key exists, else 0. */
static int
key_exists(const char *key)
{
	redisReply *reply = redisCommand(ctx, "EXISTS %s", key);
	int exists;

	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
	exists = reply->integer == 1;
	freeReplyObject(reply);
	return exists;
}

static void
test_rollup_late_write_reaches_parent(void **state)
{
	struct fs_topn_batch *writer = fs_topn_batch_new(16);
	struct fs_topn_batch *late = fs_topn_batch_new(16);
	struct fs_topn_stats stats;
	struct fs_topn_row rows[2];
	char marker[128];

	(void)state;
	add_flow(writer, "10.7.0.1", NULL, -1, 100, 1);
	flush_at(writer, BASE + 5);
	rollup_at(writer, BASE + 60 + FS_TOPN_ROLLUP_GRACE_S);
	fs_topn_rollup_key(FS_TOPN_5M, BASE, marker, sizeof(marker));
	assert_true(key_exists(marker));
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, BASE, "10.7.0.1") == 100);

	/* A writer whose clock lags writes into the rolled-up minute. */
	add_flow(late, "10.7.0.1", NULL, -1, 50, 1);
	flush_at(late, BASE + 6);
	fs_topn_batch_stats(late, &stats);
	/* 3 metrics at 10 s and at 60 s. */
	assert_int_equal(stats.updates, 6);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "10.7.0.1") == 150);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, BASE, "10.7.0.1") == 150);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_5M, BASE, "10.7.0.1") == 2);
	assert_int_equal(query(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, 2, BASE + 70, rows), 1);
	assert_row(&rows[0], "10.7.0.1", 150, 2, 2);
	fs_topn_batch_free(writer);
	fs_topn_batch_free(late);
}

static void
test_rollup_retried_after_error(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);
	struct fs_topn_batch *other = fs_topn_batch_new(16);
	struct fs_topn_batch *late = fs_topn_batch_new(16);
	struct fs_topn_stats stats;
	struct fs_topn_row rows[2];
	redisReply *reply;
	char marker[128], source[128], staged[128], command[300];

	(void)state;
	add_flow(batch, "10.8.0.1", NULL, -1, 10, 1);
	flush_at(batch, BASE + 5);

	/* A source key of the wrong type makes the roll-up script fail half-way. */
	fs_topn_bucket_key(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_1M, BASE + 20, source,
			   sizeof(source));
	snprintf(command, sizeof(command), "SET %s not-a-zset", source);
	fs_test_redis_run(ctx, command);
	assert_int_equal(fs_topn_flush(batch, ctx, BASE + 70), 0);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.rollup_errors, 1);
	fs_topn_rollup_key(FS_TOPN_5M, BASE, marker, sizeof(marker));
	assert_false(key_exists(marker));
	/* Nothing reached the 60 s bucket: the roll-up stopped before its commit. */
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, BASE, "10.8.0.1") == -1);

	/* A late write meanwhile also adds to the staging key that a union has filled. */
	add_flow(late, "10.8.0.1", NULL, -1, 5, 1);
	flush_at(late, BASE + 6);
	fs_topn_rollup_staging_key(FS_TOPN_5M, BASE, FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, staged,
				   sizeof(staged));
	reply = redisCommand(ctx, "ZSCORE %s 10.8.0.1", staged);
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_STRING);
	assert_string_equal(reply->str, "15");
	freeReplyObject(reply);

	/* The next flush retries the same bucket; nothing counts twice. */
	snprintf(command, sizeof(command), "DEL %s", source);
	fs_test_redis_run(ctx, command);
	assert_int_equal(fs_topn_flush(batch, ctx, BASE + 71), 0);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.rollup_errors, 1);
	assert_true(key_exists(marker));
	assert_false(key_exists(staged));
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, BASE, "10.8.0.1") == 15);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_5M, BASE, "10.8.0.1") == 2);

	/* A second writer reaching the same bucket finds the marker and leaves it. */
	rollup_at(other, BASE + 72);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, BASE, "10.8.0.1") == 15);
	assert_int_equal(query(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_24H, 2, BASE + 72, rows), 1);
	assert_row(&rows[0], "10.8.0.1", 15, 2, 2);
	fs_topn_batch_free(batch);
	fs_topn_batch_free(late);
	fs_topn_batch_free(other);
}

static void
test_flush_reloads_flushed_scripts(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);
	struct fs_topn_stats stats;

	(void)state;
	add_flow(batch, "10.6.0.1", NULL, -1, 10, 1);
	flush_at(batch, BASE + 1);
	/* Redis discards its scripts on restart and on SCRIPT FLUSH. */
	fs_test_redis_run(ctx, "SCRIPT FLUSH");
	add_flow(batch, "10.6.0.1", NULL, -1, 10, 1);
	flush_at(batch, BASE + 2);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "10.6.0.1") == 20);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_1M, BASE, "10.6.0.1") == 2);

	fs_test_redis_run(ctx, "SCRIPT FLUSH");
	rollup_at(batch, BASE + 70);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_5M, BASE, "10.6.0.1") == 20);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.errors, 0);
	assert_int_equal(stats.flushes, 2);
	fs_topn_batch_free(batch);
}

static void
test_rollup_skips_after_clock_jump(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(16);
	struct fs_topn_stats first, jumped, stats;

	(void)state;
	rollup_at(batch, BASE);
	fs_topn_batch_stats(batch, &first);
	/* A day later only the buckets whose children may still exist are due. */
	rollup_at(batch, BASE + 86400);
	fs_topn_batch_stats(batch, &jumped);
	assert_int_equal(jumped.rollups - first.rollups, first.rollups);
	rollup_at(batch, BASE + 86401);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.rollups, jumped.rollups);
	fs_topn_batch_free(batch);
}

#define TIMELINE_SOURCES 5
#define TIMELINE_MAX_EVENTS 2048

/* Flows that two writers added, to compute what each window must return. */
struct flow_log {
	int count;
	struct {
		int64_t at;
		int source;
		uint64_t bytes;
	} events[TIMELINE_MAX_EVENTS];
};

static void
source_name(int source, char *buf, size_t len)
{
	snprintf(buf, len, "10.9.0.%d", source + 1);
}

/* Adds one flow of source to batch and to the log, and flushes it at at_s. */
static void
log_flow(struct flow_log *log, struct fs_topn_batch *batch, redisContext *c, int source,
	 uint64_t bytes, int64_t at_s)
{
	char src[32];

	assert_true(log->count < TIMELINE_MAX_EVENTS);
	source_name(source, src, sizeof(src));
	add_flow(batch, src, NULL, -1, bytes, 1);
	assert_int_equal(fs_topn_flush(batch, c, at_s), 0);
	log->events[log->count].at = at_s;
	log->events[log->count].source = source;
	log->events[log->count].bytes = bytes;
	log->count++;
}

/* Checks every window at now against the sums of the log. */
static void
check_windows(const struct flow_log *log, int64_t now)
{
	for (int w = 0; w < FS_TOPN_WINDOW_COUNT; w++) {
		int64_t resolution = fs_topn_window_resolution(w);
		int64_t last = now - (now % resolution);
		int64_t first = last - (fs_topn_window_buckets(w) - 1) * resolution;
		uint64_t flows[TIMELINE_SOURCES] = { 0 }, bytes[TIMELINE_SOURCES] = { 0 };
		struct fs_topn_row rows[TIMELINE_SOURCES + 1];
		int expected_rows = 0;
		int n;

		for (int i = 0; i < log->count; i++) {
			if (log->events[i].at < first || log->events[i].at >= last + resolution)
				continue;
			flows[log->events[i].source]++;
			bytes[log->events[i].source] += log->events[i].bytes;
		}
		for (int s = 0; s < TIMELINE_SOURCES; s++)
			expected_rows += flows[s] > 0;
		n = query(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, w, TIMELINE_SOURCES + 1, now, rows);
		if (n != expected_rows)
			fail_msg("window %s at %lld: %d rows, expected %d", fs_topn_window_name(w),
				 (long long)now, n, expected_rows);
		for (int i = 0; i < n; i++) {
			int s = atoi(strrchr(rows[i].key, '.') + 1) - 1;

			assert_true(s >= 0 && s < TIMELINE_SOURCES);
			if (rows[i].flows != flows[s] || rows[i].bytes != bytes[s])
				fail_msg("window %s at %lld, %s: %llu flows and %llu bytes, "
					 "expected %llu and %llu", fs_topn_window_name(w),
					 (long long)now, rows[i].key,
					 (unsigned long long)rows[i].flows,
					 (unsigned long long)rows[i].bytes,
					 (unsigned long long)flows[s], (unsigned long long)bytes[s]);
		}
	}
}

/* Returns the number of roll-up markers in Redis. */
static size_t
count_markers(void)
{
	redisReply *keys = redisCommand(ctx, "KEYS %srollup:*", FS_TOPN_KEY_PREFIX);
	size_t count;

	assert_non_null(keys);
	count = keys->elements;
	freeReplyObject(keys);
	return count;
}

/* Closes c's connection from the server side, as a network failure would. */
static void
kill_connection(redisContext *c)
{
	redisReply *id = redisCommand(c, "CLIENT ID");
	char command[64];

	assert_non_null(id);
	assert_int_equal(id->type, REDIS_REPLY_INTEGER);
	snprintf(command, sizeof(command), "CLIENT KILL ID %lld", id->integer);
	freeReplyObject(id);
	fs_test_redis_run(ctx, command);
}

/*
 * Two writers flush the same buckets for 2 hours of simulated time: a
 * every 7 s, b every 21 s with a clock 15 s behind, so b often writes into
 * minutes that a has already rolled up.  Both run roll-ups of the same
 * buckets.  Every window is checked against the flows added, and each
 * bucket must be rolled up once.
 */
static void
test_rollup_two_writers_exact(void **state)
{
	struct flow_log *log = calloc(1, sizeof(*log));
	struct fs_topn_batch *a = fs_topn_batch_new(64);
	struct fs_topn_batch *b = fs_topn_batch_new(64);
	redisContext *ctx_a = fs_test_redis_connect(&server);
	redisContext *ctx_b = fs_test_redis_connect(&server);
	const int64_t start = BASE - 7200 - 17;
	struct fs_topn_stats stats_a, stats_b;
	char src[32];
	int step = 0;

	(void)state;
	assert_non_null(log);
	assert_non_null(ctx_a);
	assert_non_null(ctx_b);
	for (int64_t t = start; t < BASE + 700; t += 7, step++) {
		log_flow(log, a, ctx_a, step % TIMELINE_SOURCES, 100 + (uint64_t)step, t);
		if (step % 3 == 0)
			log_flow(log, b, ctx_b, (step / 3) % TIMELINE_SOURCES, 7, t - 15);
		if (step == 400) {
			/* a loses its connection: the flush fails and keeps the flow. */
			kill_connection(ctx_a);
			source_name(4, src, sizeof(src));
			add_flow(a, src, NULL, -1, 1, 1);
			assert_int_equal(fs_topn_flush(a, ctx_a, t), FS_ERR_SYSTEM);
			assert_int_equal(fs_topn_batch_count(a), 1);
			/* The retry on a new connection writes it once. */
			redisFree(ctx_a);
			ctx_a = fs_test_redis_connect(&server);
			assert_non_null(ctx_a);
			fs_topn_batch_reset(a);
			log_flow(log, a, ctx_a, 4, 1, t);
		}
		if (step % 97 == 0)
			check_windows(log, t);
	}
	check_windows(log, BASE + 700);

	fs_topn_batch_stats(a, &stats_a);
	fs_topn_batch_stats(b, &stats_b);
	assert_int_equal(stats_a.rollup_errors + stats_b.rollup_errors, 0);
	assert_int_equal(stats_a.errors, 1);
	/* Every marker was set by exactly one roll-up of one writer. */
	assert_int_equal(stats_a.rollups + stats_b.rollups, count_markers());
	/* b wrote into rolled-up minutes, so it updated more than the 10 s buckets. */
	assert_true(stats_b.updates > 3 * stats_b.flushes);
	print_message("two writers: %d flows, %llu + %llu roll-ups, %llu + %llu commands\n",
		      log->count, (unsigned long long)stats_a.rollups,
		      (unsigned long long)stats_b.rollups, (unsigned long long)stats_a.commands,
		      (unsigned long long)stats_b.commands);
	redisFree(ctx_a);
	redisFree(ctx_b);
	fs_topn_batch_free(a);
	fs_topn_batch_free(b);
	free(log);
}

/* ---- retries of a flush whose reply timed out ---- */

/*
 * Sends a flush on a new connection that is blocked in BLPOP, so its reply
 * times out (after the 2 s of fs_test_redis_connect()) while its MULTI/EXEC
 * waits in Redis behind the BLPOP.  LPUSH to `list` releases it.  Returns
 * that connection, which the caller frees after the EXEC ran.
 */
static redisContext *
flush_times_out(struct fs_topn_batch *batch, const char *list, long long *id)
{
	redisContext *stale = fs_test_redis_connect(&server);

	assert_non_null(stale);
	*id = fs_test_redis_client_id(stale);
	assert_int_equal(redisAppendCommand(stale, "BLPOP %s 0", list), REDIS_OK);
	assert_int_equal(fs_topn_flush(batch, stale, BASE), FS_ERR_SYSTEM);
	assert_int_not_equal(stale->err, 0);
	return stale;
}

/* Flushes batch once on ctx so that its write script is loaded. */
static void
load_write_script(struct fs_topn_batch *batch)
{
	add_flow(batch, "10.1.1.1", NULL, -1, 1, 1);
	flush_at(batch, BASE);
}

/*
 * The attempt whose reply timed out runs first; the retry then finds its
 * flush applied and writes only the flow added after the failure.
 */
static void
test_retry_after_timeout_applied_first(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	struct fs_topn_stats stats;
	redisContext *stale;
	long long stale_id;
	struct fs_topn_row rows[2];

	(void)state;
	load_write_script(batch);
	add_flow(batch, "10.2.2.2", "10.3.3.3", 445, 1000, 10);
	stale = flush_times_out(batch, "release-first", &stale_id);
	assert_int_equal(fs_topn_batch_count(batch), 4);
	add_flow(batch, "10.2.2.2", "10.3.3.3", 445, 7, 1);

	fs_test_redis_run(ctx, "LPUSH release-first x");
	fs_test_redis_wait_client_ran(ctx, stale_id, "exec");
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "10.2.2.2") == 1000);

	flush_at(batch, BASE);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.skipped, 1);
	assert_int_equal(stats.errors, 1);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "10.2.2.2") == 1007);
	assert_int_equal(query(FS_TOPN_CONVERSATION, FS_TOPN_BYTES, FS_TOPN_1M, 2, BASE, rows), 1);
	assert_row(&rows[0], "10.2.2.2>10.3.3.3", 1007, 11, 2);
	redisFree(stale);
	fs_topn_batch_free(batch);
}

/*
 * The retry runs first and the attempt whose reply timed out runs after
 * it, once the next flush has run too: that late attempt writes nothing.
 */
static void
test_retry_after_timeout_applied_late(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	struct fs_topn_stats stats;
	redisContext *stale;
	long long stale_id;
	struct fs_topn_row rows[2];

	(void)state;
	load_write_script(batch);
	add_flow(batch, "10.4.4.4", "10.5.5.5", 22, 500, 5);
	stale = flush_times_out(batch, "release-late", &stale_id);
	add_flow(batch, "10.4.4.4", "10.5.5.5", 22, 20, 2);

	flush_at(batch, BASE);
	fs_topn_batch_stats(batch, &stats);
	assert_int_equal(stats.skipped, 0);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "10.4.4.4") == 520);
	add_flow(batch, "10.4.4.4", "10.5.5.5", 22, 3, 1);
	flush_at(batch, BASE);

	fs_test_redis_run(ctx, "LPUSH release-late x");
	fs_test_redis_wait_client_ran(ctx, stale_id, "exec");
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "10.4.4.4") == 523);
	assert_int_equal(query(FS_TOPN_DST_PORT, FS_TOPN_PACKETS, FS_TOPN_1M, 2, BASE, rows), 1);
	assert_row(&rows[0], "22", 523, 8, 3);
	redisFree(stale);
	fs_topn_batch_free(batch);
}

/*
 * A retry that fails too keeps its flush pending: the third attempt still
 * counts the first flows once, whichever attempts Redis ran.
 */
static void
test_retry_fails_twice_counts_once(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	redisContext *stale1, *stale2;
	long long id1, id2;

	(void)state;
	load_write_script(batch);
	add_flow(batch, "10.6.6.6", NULL, -1, 300, 3);
	stale1 = flush_times_out(batch, "release-twice", &id1);
	add_flow(batch, "10.6.6.6", NULL, -1, 40, 4);
	stale2 = flush_times_out(batch, "release-twice", &id2);
	add_flow(batch, "10.6.6.6", NULL, -1, 5, 5);

	/* Each LPUSH releases one BLPOP, the longest waiting first. */
	fs_test_redis_run(ctx, "LPUSH release-twice x");
	fs_test_redis_wait_client_ran(ctx, id1, "exec");
	flush_at(batch, BASE);
	fs_test_redis_run(ctx, "LPUSH release-twice x");
	fs_test_redis_wait_client_ran(ctx, id2, "exec");
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, "10.6.6.6") == 345);
	assert_true(bucket_score(FS_TOPN_SRC_ADDR, FS_TOPN_FLOWS, FS_TOPN_1M, BASE, "10.6.6.6") == 3);
	redisFree(stale1);
	redisFree(stale2);
	fs_topn_batch_free(batch);
}

/*
 * The case as seen in operation: redis-server stopped with SIGSTOP while a
 * flush waits for its reply, flows added meanwhile, then SIGCONT and a
 * retry on a new connection.  Every flow counts once.
 */
static void
test_retry_after_sigstop_counts_once(void **state)
{
	struct fs_topn_batch *batch = fs_topn_batch_new(64);
	redisContext *first, *second, *check;
	redisReply *reply;
	long long first_id;
	char key[128];
	bool gone = false;

	(void)state;
	assert_int_equal(fs_test_redis_spawn(&paused, NULL), 0);
	first = fs_test_redis_connect(&paused);
	assert_non_null(first);
	first_id = fs_test_redis_client_id(first);
	add_flow(batch, "10.1.1.1", NULL, -1, 1, 1);
	assert_int_equal(fs_topn_flush(batch, first, BASE), 0);

	add_flow(batch, "10.7.7.7", NULL, -1, 900, 9);
	assert_int_equal(kill(paused.pid, SIGSTOP), 0);
	assert_int_equal(fs_topn_flush(batch, first, BASE), FS_ERR_SYSTEM);
	add_flow(batch, "10.7.7.7", NULL, -1, 60, 6);
	redisFree(first);
	assert_int_equal(kill(paused.pid, SIGCONT), 0);

	second = fs_test_redis_connect(&paused);
	assert_non_null(second);
	assert_int_equal(fs_topn_flush(batch, second, BASE), 0);

	/* Redis runs the closed connection's input, then drops the client. */
	check = fs_test_redis_connect(&paused);
	assert_non_null(check);
	for (int i = 0; i < 6000 && !gone; i++) {
		reply = redisCommand(check, "CLIENT LIST ID %lld", first_id);
		assert_non_null(reply);
		assert_int_equal(reply->type, REDIS_REPLY_STRING);
		gone = reply->len == 0;
		freeReplyObject(reply);
		if (!gone)
			usleep(10000);
	}
	assert_true(gone);
	fs_topn_bucket_key(FS_TOPN_SRC_ADDR, FS_TOPN_BYTES, FS_TOPN_1M, BASE, key, sizeof(key));
	reply = redisCommand(check, "ZSCORE %s 10.7.7.7", key);
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_STRING);
	assert_string_equal(reply->str, "960");
	freeReplyObject(reply);
	redisFree(second);
	redisFree(check);
	fs_test_redis_stop(&paused);
	fs_topn_batch_free(batch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_parse_valid),
		cmocka_unit_test(test_url_parse_invalid),
		cmocka_unit_test(test_url_format_hides_password),
		cmocka_unit_test(test_connect_auth_and_select),
		cmocka_unit_test(test_batch_full_keeps_flow_whole),
		cmocka_unit_test(test_names_parse_and_print),
		cmocka_unit_test_setup(test_flush_aggregates_scores, flush_db),
		cmocka_unit_test_setup(test_flush_sets_ttl_on_every_key, flush_db),
		cmocka_unit_test_setup(test_flush_empty_batch_only_rolls_up, flush_db),
		cmocka_unit_test_setup(test_flush_stopped_server_keeps_batch, flush_db),
		cmocka_unit_test_setup(test_flush_wrongtype_is_reported, flush_db),
		cmocka_unit_test_setup(test_query_orders_by_each_metric, flush_db),
		cmocka_unit_test_setup(test_query_ties_ordered_by_key, flush_db),
		cmocka_unit_test_setup(test_query_window_boundaries, flush_db),
		cmocka_unit_test_setup(test_query_ipv6_and_port_keys, flush_db),
		cmocka_unit_test_setup(test_query_rejects_bad_arguments, flush_db),
		cmocka_unit_test_setup(test_flush_commands_per_1000_flows, flush_db),
		cmocka_unit_test_setup(test_flush_enriched_dimensions, flush_db),
		cmocka_unit_test_setup(test_query_long_conversation_member, flush_db),
		cmocka_unit_test_setup(test_rollup_late_write_reaches_parent, flush_db),
		cmocka_unit_test_setup(test_rollup_retried_after_error, flush_db),
		cmocka_unit_test_setup(test_flush_reloads_flushed_scripts, flush_db),
		cmocka_unit_test_setup(test_rollup_skips_after_clock_jump, flush_db),
		cmocka_unit_test_setup(test_rollup_two_writers_exact, flush_db),
		cmocka_unit_test_setup(test_retry_after_timeout_applied_first, flush_db),
		cmocka_unit_test_setup(test_retry_after_timeout_applied_late, flush_db),
		cmocka_unit_test_setup(test_retry_fails_twice_counts_once, flush_db),
		cmocka_unit_test(test_retry_after_sigstop_counts_once),
	};

	/* hiredis sends with write(2), so SIGPIPE from a stopped server must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
