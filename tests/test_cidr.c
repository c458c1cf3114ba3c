/* test_cidr.c - exporter allowlist prefixes: parsing, host bits, matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/result.h"
#include "net/cidr.h"

static int
matches(const struct fs_cidr_list *list, const char *text)
{
	struct fs_addr addr;

	assert_int_equal(fs_addr_parse(&addr, text), 0);
	return fs_cidr_list_match(list, &addr);
}

static void
ipv4_and_ipv6_prefixes(void **state)
{
	struct fs_cidr_list list;
	char err[256];

	(void)state;
	assert_int_equal(fs_cidr_list_parse(&list, "192.0.2.77/24, 2001:db8::/32 198.51.100.7",
					    err, sizeof(err)), 0);
	assert_int_equal(list.count, 3);
	assert_true(matches(&list, "192.0.2.0"));
	assert_true(matches(&list, "192.0.2.255"));
	assert_false(matches(&list, "192.0.3.1"));
	assert_true(matches(&list, "198.51.100.7"));
	assert_false(matches(&list, "198.51.100.8"));
	assert_true(matches(&list, "2001:db8:ffff::1"));
	assert_false(matches(&list, "2001:db9::1"));
	/* An IPv4 prefix never matches an IPv6 address with the same leading bytes. */
	assert_false(matches(&list, "c000:0200::"));
	fs_cidr_list_release(&list);
}

static void
odd_lengths_and_extremes(void **state)
{
	struct fs_cidr_list list;
	char err[256];

	(void)state;
	assert_int_equal(fs_cidr_list_parse(&list, "10.0.0.0/9,0.0.0.0/0", err, sizeof(err)), 0);
	assert_true(matches(&list, "10.127.255.255"));
	assert_true(matches(&list, "203.0.113.1"));
	assert_false(matches(&list, "::1"));
	fs_cidr_list_release(&list);

	assert_int_equal(fs_cidr_list_parse(&list, "10.0.0.0/9", err, sizeof(err)), 0);
	assert_true(matches(&list, "10.127.0.1"));
	assert_false(matches(&list, "10.128.0.1"));
	fs_cidr_list_release(&list);
}

static void
empty_list_matches_nothing(void **state)
{
	struct fs_cidr_list list;
	char err[256];

	(void)state;
	assert_int_equal(fs_cidr_list_parse(&list, "", err, sizeof(err)), 0);
	assert_int_equal(list.count, 0);
	assert_false(matches(&list, "192.0.2.1"));
	fs_cidr_list_release(&list);
}

static void
invalid_prefixes_named(void **state)
{
	static const char *const bad[] = {
		"192.0.2.0/33", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/-1",
		"192.0.2.0/8x", "host.example", "192.0.2.0/24,300.1.1.1",
	};
	struct fs_cidr_list list;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fs_cidr_list_parse(&list, bad[i], err, sizeof(err)), FS_ERR_INVALID);
		assert_non_null(strstr(err, "invalid prefix"));
		assert_null(list.prefixes);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_and_ipv6_prefixes),
		cmocka_unit_test(odd_lengths_and_extremes),
		cmocka_unit_test(empty_list_matches_nothing),
		cmocka_unit_test(invalid_prefixes_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
