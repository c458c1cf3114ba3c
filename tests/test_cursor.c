/* test_cursor.c - the bounds-checked reader in pkg/decode/cursor.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decode/cursor.h"

static const uint8_t bytes[] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

static void
test_reads_big_endian(void **state)
{
	struct fs_cursor cur;

	(void)state;
	fs_cursor_init(&cur, bytes, sizeof(bytes));
	assert_int_equal(fs_cursor_get_u8(&cur), 0x01);
	assert_int_equal(fs_cursor_get_u16(&cur), 0x0203);
	assert_int_equal(fs_cursor_get_u32(&cur), 0x04050607);
	assert_true(fs_cursor_get_u64(&cur) == 0x08090a0b0c0d0e0full);
	assert_int_equal(fs_cursor_remaining(&cur), 1);
	assert_true(fs_cursor_ok(&cur));
}

static void
test_short_read_is_sticky(void **state)
{
	struct fs_cursor cur;

	(void)state;
	fs_cursor_init(&cur, bytes, 3);
	assert_int_equal(fs_cursor_get_u16(&cur), 0x0102);
	assert_int_equal(fs_cursor_get_u16(&cur), 0);
	assert_int_equal(cur.err, FS_ERR_TRUNCATED);
	assert_int_equal(fs_cursor_remaining(&cur), 0);
	/* The byte left before the failed read is not readable afterwards. */
	assert_int_equal(fs_cursor_get_u8(&cur), 0);
	assert_false(fs_cursor_ok(&cur));
}

static void
test_get_bytes_and_skip(void **state)
{
	struct fs_cursor cur;
	const uint8_t *p;
	uint8_t out[4];

	(void)state;
	fs_cursor_init(&cur, bytes, sizeof(bytes));
	fs_cursor_skip(&cur, 2);
	p = fs_cursor_get_bytes(&cur, 3);
	assert_non_null(p);
	assert_int_equal(p[0], 0x03);
	fs_cursor_copy(&cur, out, sizeof(out));
	assert_int_equal(out[0], 0x06);
	assert_int_equal(out[3], 0x09);
	assert_null(fs_cursor_get_bytes(&cur, 100));
	assert_int_equal(cur.err, FS_ERR_TRUNCATED);
	fs_cursor_copy(&cur, out, sizeof(out));
	assert_int_equal(out[0], 0);
}

static void
test_child_limits_reads(void **state)
{
	struct fs_cursor parent, child;

	(void)state;
	fs_cursor_init(&parent, bytes, sizeof(bytes));
	child = fs_cursor_child(&parent, 4);
	assert_int_equal(fs_cursor_remaining(&child), 4);
	assert_int_equal(fs_cursor_get_u16(&child), 0x0102);
	assert_int_equal(fs_cursor_get_u32(&child), 0);
	assert_false(fs_cursor_ok(&child));
	/* The parent moved past the whole child and is unaffected by its error. */
	assert_true(fs_cursor_ok(&parent));
	assert_int_equal(fs_cursor_get_u8(&parent), 0x05);
}

static void
test_child_longer_than_parent(void **state)
{
	struct fs_cursor parent, child;

	(void)state;
	fs_cursor_init(&parent, bytes, 4);
	child = fs_cursor_child(&parent, 5);
	assert_int_equal(child.err, FS_ERR_TRUNCATED);
	assert_int_equal(parent.err, FS_ERR_TRUNCATED);
	assert_int_equal(fs_cursor_remaining(&child), 0);
	assert_int_equal(fs_cursor_get_u8(&child), 0);
}

static void
test_reduced_size_uint(void **state)
{
	(void)state;
	assert_true(fs_be_uint(bytes, 1) == 0x01);
	assert_true(fs_be_uint(bytes, 3) == 0x010203);
	assert_true(fs_be_uint(bytes, 8) == 0x0102030405060708ull);
	assert_true(fs_be_uint(bytes, 0) == 0);
}

static void
test_empty_buffer(void **state)
{
	struct fs_cursor cur;

	(void)state;
	fs_cursor_init(&cur, bytes, 0);
	assert_non_null(fs_cursor_get_bytes(&cur, 0));
	assert_int_equal(fs_cursor_get_u8(&cur), 0);
	assert_int_equal(cur.err, FS_ERR_TRUNCATED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_big_endian),
		cmocka_unit_test(test_short_read_is_sticky),
		cmocka_unit_test(test_get_bytes_and_skip),
		cmocka_unit_test(test_child_limits_reads),
		cmocka_unit_test(test_child_longer_than_parent),
		cmocka_unit_test(test_reduced_size_uint),
		cmocka_unit_test(test_empty_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
