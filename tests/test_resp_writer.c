/*
 * test_resp_writer.c - RESP commands formatted by fs_resp_writer reach a
 * real redis-server intact, and the decimal formatters match printf.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/result.h"
#include "redis/resp_writer.h"
#include "support/redis_commands.h"

struct fixture {
	struct fs_test_redis redis;
	redisContext *ctx;
};

static int
setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	*state = &f;
	return fs_test_redis_open(&f.redis, &f.ctx);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fs_test_redis_close(&f->redis, f->ctx);
	return 0;
}

/* Reads one reply and checks that it is a bulk string equal to want (len bytes). */
static void
assert_bulk_reply(redisContext *ctx, const char *want, size_t len)
{
	redisReply *reply = NULL;

	assert_int_equal(redisGetReply(ctx, (void **)&reply), REDIS_OK);
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_STRING);
	assert_int_equal(reply->len, len);
	assert_memory_equal(reply->str, want, len);
	freeReplyObject(reply);
}

/* Reads one reply and checks that it is the status or integer the command gives. */
static void
assert_ok_reply(redisContext *ctx)
{
	redisReply *reply = NULL;

	assert_int_equal(redisGetReply(ctx, (void **)&reply), REDIS_OK);
	assert_non_null(reply);
	assert_true(reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_INTEGER);
	freeReplyObject(reply);
}

static void
test_binary_arguments_arrive_intact(void **state)
{
	struct fixture *f = *state;
	static const char value[] = { 'a', '\r', '\n', '\0', '$', '*', '2', '\r' };
	const char *argv[] = { "SET", "resp:binary", value };
	const size_t lens[] = { 3, 11, sizeof(value) };
	struct fs_resp_writer w;

	fs_resp_writer_init(&w);
	assert_int_equal(fs_resp_writer_append(&w, f->ctx, 3, argv, lens), 0);
	assert_int_equal(fs_resp_writer_append(&w, f->ctx, 2,
					       (const char *[]){ "GET", "resp:binary" }, NULL), 0);
	assert_int_equal(w.commands, 2);
	assert_ok_reply(f->ctx);
	assert_bulk_reply(f->ctx, value, sizeof(value));
	fs_resp_writer_free(&w);
}

/* A long command after a short one grows the buffer; an empty argument stays empty. */
static void
test_buffer_grows_for_long_commands(void **state)
{
	struct fixture *f = *state;
	static char big[100000];
	struct fs_resp_writer w;

	memset(big, 'x', sizeof(big) - 1);
	fs_resp_writer_init(&w);
	assert_int_equal(fs_resp_writer_append(&w, f->ctx, 3,
					       (const char *[]){ "SET", "resp:empty", "" }, NULL),
			 0);
	assert_int_equal(fs_resp_writer_append(&w, f->ctx, 3,
					       (const char *[]){ "SET", "resp:big", big }, NULL),
			 0);
	assert_true(w.cap > sizeof(big));
	assert_int_equal(fs_resp_writer_append(&w, f->ctx, 2,
					       (const char *[]){ "GET", "resp:empty" }, NULL), 0);
	assert_int_equal(fs_resp_writer_append(&w, f->ctx, 2,
					       (const char *[]){ "STRLEN", "resp:big" }, NULL), 0);
	assert_ok_reply(f->ctx);
	assert_ok_reply(f->ctx);
	assert_bulk_reply(f->ctx, "", 0);
	{
		redisReply *reply = NULL;

		assert_int_equal(redisGetReply(f->ctx, (void **)&reply), REDIS_OK);
		assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
		assert_int_equal(reply->integer, (long long)sizeof(big) - 1);
		freeReplyObject(reply);
	}
	fs_resp_writer_free(&w);
	assert_null(w.buf);
}

static void
test_decimal_matches_printf(void **state)
{
	static const int64_t cases[] = { 0, 1, -1, 9, 10, -10, 1234567890, INT64_MAX, INT64_MIN };
	char got[FS_RESP_DECIMAL_LEN], want[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = fs_resp_format_i64(got, cases[i]);

		snprintf(want, sizeof(want), "%" PRId64, cases[i]);
		assert_string_equal(got, want);
		assert_int_equal(len, strlen(want));
	}
	assert_int_equal(fs_resp_format_u64(got, UINT64_MAX), 20);
	assert_string_equal(got, "18446744073709551615");
}

int
main(void)
{
	const struct CMUnitTest redis_tests[] = {
		cmocka_unit_test(test_binary_arguments_arrive_intact),
		cmocka_unit_test(test_buffer_grows_for_long_commands),
	};
	const struct CMUnitTest format_tests[] = {
		cmocka_unit_test(test_decimal_matches_printf),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("resp_writer_redis", redis_tests, setup, teardown);
	failed += cmocka_run_group_tests_name("resp_writer_format", format_tests, NULL, NULL);
	return failed == 0 ? 0 : 1;
}
