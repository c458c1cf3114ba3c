/* test_enrich_prefix_table.c - longest-prefix match and the prefix list parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"
#include "enrich/prefix_table.h"

static const char *
lookup(const struct fs_prefix_table *t, const char *text)
{
	struct fs_addr addr;

	assert_int_equal(fs_addr_parse(&addr, text), 0);
	return fs_prefix_table_lookup(t, &addr);
}

static void
test_longest_match_wins(void **state)
{
	static const char list[] =
		"# site prefixes\n"
		"10.0.0.0/8        site=par role=core\n"
		"10.1.0.0/16       site=par role=office customer=acme  # office\r\n"
		"\n"
		"10.1.2.3          role=resolver\n"
		"0.0.0.0/0         scope=internet\n"
		"2001:db8::/32     site=ams\n"
		"2001:db8:1::/48   customer=\"acme\"\n";
	struct fs_prefix_table *t = fs_prefix_table_new();
	char err[256] = "";

	(void)state;
	assert_non_null(t);
	assert_int_equal(fs_prefix_table_parse(t, list, strlen(list), err, sizeof(err)), 0);
	assert_int_equal(fs_prefix_table_count(t), 6);
	assert_string_equal(lookup(t, "10.200.0.1"), "site=par,role=core");
	assert_string_equal(lookup(t, "10.1.9.9"), "site=par,role=office,customer=acme");
	assert_string_equal(lookup(t, "10.1.2.3"), "role=resolver");
	assert_string_equal(lookup(t, "10.1.2.4"), "site=par,role=office,customer=acme");
	assert_string_equal(lookup(t, "192.0.2.1"), "scope=internet");
	assert_string_equal(lookup(t, "2001:db8:2::1"), "site=ams");
	assert_string_equal(lookup(t, "2001:db8:1:ffff::1"), "customer=acme");
	assert_null(lookup(t, "2001:db9::1"));
	/* An IPv4-mapped IPv6 address is IPv6 and misses the IPv4 prefixes. */
	assert_null(lookup(t, "::ffff:10.1.2.3"));
	fs_prefix_table_free(t);
}

static void
test_parse_errors_name_line(void **state)
{
	static const struct {
		const char *text;
		const char *reason;
	} cases[] = {
		{ "10.0.0.0/8 site=par\n10.0.0.1/8 site=x\n", "line 2: '10.0.0.1/8': host bits set; did you mean 10.0.0.0/8?" },
		{ "10.0.0.0/8 site=par\n10.0.0.0/8 site=x\n", "line 2: '10.0.0.0/8': listed twice" },
		{ "10.0.0.0/33 site=par\n", "line 1: '10.0.0.0/33': invalid prefix length; expected 0..32" },
		{ "2001:db8::/129 site=par\n", "line 1: '2001:db8::/129': invalid prefix length; expected 0..128" },
		{ "10.0.0.0/8\n", "line 1: prefix without tags" },
		{ "10.0.0.0/8 site\n", "line 1: 'site' is not a key=value tag" },
		{ "10.0.0.0/8 site=a,b\n", "line 1: tag 'site=a,b' has" },
		{ "10.0.0.0/8 site=\n", "line 1: tag 'site=' has" },
		{ "10.0.0.0/8 =x\n", "line 1: '=' without a key" },
		{ "10.0.0.0/8 site=\"par\n", "line 1: quote opened for 'site' is not closed" },
		{ "10.0.0.0/8 site=\"par\"x\n", "line 1: text right after the closing quote" },
		{ "host site=x\n", "line 1: 'host': not an IPv4 or IPv6 address or prefix" },
		{ "10.0.0.0/8 a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11 l=12 m=13 n=14 o=15 p=16\n",
		  "line 1: more than 16 words" },
		{ "10.0.0.0/8 customer=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		  "line 1: tags longer than 95 bytes" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fs_prefix_table *t = fs_prefix_table_new();
		char err[256] = "";

		print_message("case: %s", cases[i].text);
		assert_int_not_equal(fs_prefix_table_parse(t, cases[i].text, strlen(cases[i].text),
							   err, sizeof(err)), 0);
		print_message("  error: %s\n", err);
		assert_non_null(strstr(err, cases[i].reason));
		fs_prefix_table_free(t);
	}
}

static void
test_long_line_and_nul_rejected(void **state)
{
	char text[2100];
	struct fs_prefix_table *t = fs_prefix_table_new();
	char err[256] = "";

	(void)state;
	memset(text, 'a', sizeof(text));
	assert_int_equal(fs_prefix_table_parse(t, text, sizeof(text), err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "longer than 1024 bytes"));
	assert_int_equal(fs_prefix_table_parse(t, "10.0.0.0/8 a=b\0c", 16, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "control character 0x00"));
	assert_int_equal(fs_prefix_table_parse(t, "10.0.0.0/8 a=\033[2J", 14, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "line 1: contains the control character 0x1b"));
	fs_prefix_table_free(t);
}

static void
test_home_list(void **state)
{
	struct fs_prefix_table *t = fs_prefix_table_new();
	char err[256] = "";

	(void)state;
	assert_int_equal(fs_prefix_table_add_list(t, " 10.0.0.0/8 ,2001:db8::/32,\t192.0.2.1",
						  err, sizeof(err)), 0);
	assert_int_equal(fs_prefix_table_count(t), 3);
	assert_non_null(lookup(t, "10.9.9.9"));
	assert_non_null(lookup(t, "192.0.2.1"));
	assert_null(lookup(t, "192.0.2.2"));
	assert_non_null(lookup(t, "2001:db8::9"));
	assert_int_equal(fs_prefix_table_add_list(t, "10.0.0.0/8x", err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_string_equal(err, "'10.0.0.0/8x': invalid prefix length; expected 0..32 in decimal "
			    "without leading zeros after '/'");
	/* An empty item is an error, as in every other prefix list. */
	assert_int_equal(fs_prefix_table_add_list(t, "10.64.0.0/10,,", err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_string_equal(err, "empty item after '10.64.0.0/10'; remove the extra comma");
	/* A prefix the table already contains is listed twice. */
	assert_int_equal(fs_prefix_table_add_list(t, "10.0.0.0/8", err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_string_equal(err, "'10.0.0.0/8': listed twice");
	fs_prefix_table_free(t);
}

static void
test_load_missing_file(void **state)
{
	struct fs_prefix_table *t = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(fs_prefix_table_load("/nonexistent/prefixes", &t, err, sizeof(err)),
			 FS_ERR_SYSTEM);
	assert_null(t);
	assert_non_null(strstr(err, "cannot open '/nonexistent/prefixes'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_match_wins),
		cmocka_unit_test(test_parse_errors_name_line),
		cmocka_unit_test(test_long_line_and_nul_rejected),
		cmocka_unit_test(test_home_list),
		cmocka_unit_test(test_load_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
