/*
 * test_cidr.c - the shared prefix list parser: every rule of net/cidr.h,
 * the same verdict from each list's own storage, and matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/result.h"
#include "detect/detect.h"
#include "enrich/prefix_table.h"
#include "net/cidr.h"

static int
matches(const struct fs_cidr_list *list, const char *text)
{
	struct fs_addr addr;

	assert_int_equal(fs_addr_parse(&addr, text), 0);
	return fs_cidr_list_match(list, &addr);
}

/*
 * One list text and the expected verdict: count items and, for a bare
 * first item, its length; or an error containing message.
 */
struct list_case {
	const char *text;
	size_t count;          /* items when valid */
	int first_length;      /* length of the first item; -1: not checked */
	const char *message;   /* NULL: valid */
};

static const struct list_case list_cases[] = {
	/* Empty text and blanks only: an empty list. */
	{ "", 0, -1, NULL },
	{ " \t ", 0, -1, NULL },
	/* Spaces and tabs around items. */
	{ " 192.0.2.0/24 ,\t2001:db8::/32 ", 2, 24, NULL },
	/* A bare address is a /32 or /128. */
	{ "192.0.2.7", 1, 32, NULL },
	{ "2001:db8::1", 1, 128, NULL },
	/* /0, the whole family. */
	{ "0.0.0.0/0", 1, 0, NULL },
	{ "::/0", 1, 0, NULL },
	/* Leading zeros in an IPv6 group are ordinary IPv6 text. */
	{ "2001:0db8::/32", 1, 32, NULL },
	/* Overlapping prefixes are different prefixes. */
	{ "10.0.0.0/8,10.0.0.0/16", 2, 8, NULL },
	{ "255.255.255.255/32,ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", 2, 32, NULL },

	/* Empty items: leading, doubled, trailing, blank between commas. */
	{ ",10.0.0.0/8", 0, -1, "empty item at the start of the list; remove the leading comma" },
	{ "10.0.0.0/8,,", 0, -1, "empty item after '10.0.0.0/8'; remove the extra comma" },
	{ "10.0.0.0/8,", 0, -1, "empty item after '10.0.0.0/8'; remove the extra comma" },
	{ "10.0.0.0/8, ,10.1.0.0/16", 0, -1, "empty item after '10.0.0.0/8'" },
	{ ",", 0, -1, "empty item at the start of the list" },
	/* Host bits past the length. */
	{ "10.1.2.3/8", 0, -1, "'10.1.2.3/8': host bits set; did you mean 10.0.0.0/8?" },
	{ "192.0.2.77/24", 0, -1, "'192.0.2.77/24': host bits set; did you mean 192.0.2.0/24?" },
	{ "2001:db8::1/32", 0, -1, "'2001:db8::1/32': host bits set; did you mean 2001:db8::/32?" },
	{ "10.0.0.0/0", 0, -1, "'10.0.0.0/0': host bits set; did you mean 0.0.0.0/0?" },
	/* IPv4-mapped IPv6. */
	{ "::ffff:192.0.2.0/120", 0, -1,
	  "'::ffff:192.0.2.0/120': IPv4-mapped IPv6 prefix, which never matches an IPv4 address; "
	  "write it as 192.0.2.0/24" },
	{ "::ffff:192.0.2.7", 0, -1, "'::ffff:192.0.2.7': IPv4-mapped IPv6 address, which never "
	  "matches an IPv4 address; write it as 192.0.2.7" },
	{ "::ffff:0:0/96", 0, -1, "write it as 0.0.0.0/0" },
	/* Lengths past the family's, and length syntax. */
	{ "10.0.0.0/33", 0, -1, "'10.0.0.0/33': invalid prefix length; expected 0..32 in decimal "
	  "without leading zeros after '/'" },
	{ "2001:db8::/129", 0, -1, "'2001:db8::/129': invalid prefix length; expected 0..128" },
	{ "10.0.0.0/", 0, -1, "'10.0.0.0/': invalid prefix length" },
	{ "10.0.0.0/08", 0, -1, "'10.0.0.0/08': invalid prefix length" },
	{ "10.0.0.0/-1", 0, -1, "'10.0.0.0/-1': invalid prefix length" },
	{ "10.0.0.0/+8", 0, -1, "'10.0.0.0/+8': invalid prefix length" },
	{ "10.0.0.0/8x", 0, -1, "'10.0.0.0/8x': invalid prefix length" },
	{ "10.0.0.0/8/8", 0, -1, "'10.0.0.0/8/8': invalid prefix length" },
	{ "10.0.0.0/0008", 0, -1, "'10.0.0.0/0008': invalid prefix length" },
	{ "10.0.0.0/4294967304", 0, -1, "invalid prefix length" },
	/* Leading zeros in an IPv4 octet. */
	{ "010.0.0.0/8", 0, -1, "'010.0.0.0/8': an IPv4 octet has a leading zero, which some "
	  "tools read as octal" },
	{ "10.0.0.01", 0, -1, "'10.0.0.01': an IPv4 octet has a leading zero" },
	/* Not an address at all. */
	{ "host.example", 0, -1, "'host.example': not an IPv4 or IPv6 address or prefix" },
	{ "/8", 0, -1, "'/8': not an IPv4 or IPv6 address" },
	{ "10.0.0", 0, -1, "'10.0.0': not an IPv4 or IPv6 address" },
	{ "300.1.1.1", 0, -1, "'300.1.1.1': not an IPv4 or IPv6 address" },
	{ "fe80::1%eth0", 0, -1, "'fe80::1%eth0': has a zone index ('%'), which a prefix "
	  "cannot have" },
	/* A blank inside an item: the list was meant to have commas. */
	{ "10.0.0.0/8 10.1.0.0/16", 0, -1, "'10.0.0.0/8 10.1.0.0/16': contains a space or tab; "
	  "separate items with commas" },
	{ "10.0.0.0 /8", 0, -1, "'10.0.0.0 /8': contains a space or tab" },
	{ "10.0.0.0/8;192.0.2.0/24", 0, -1,
	  "'10.0.0.0/8;192.0.2.0/24': contains ';'; separate items with commas" },
	{ "2001:db8::/32%eth0", 0, -1, "'2001:db8::/32%eth0': has a zone index ('%')" },
	/* The same prefix twice, also in another spelling. */
	{ "10.0.0.0/8, 10.0.0.0/8", 0, -1, "'10.0.0.0/8': listed twice" },
	{ "2001:db8::/32,2001:0db8::/32", 0, -1, "'2001:0db8::/32': listed twice" },
	/* The bad item is named, whatever its place. */
	{ "192.0.2.0/24,300.1.1.1", 0, -1, "'300.1.1.1': not an IPv4 or IPv6 address" },
	/* Quoting: a long item is cut, control characters are masked. */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  0, -1, "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': not an" },
	{ "10.0.0.0/8\x1b[2J", 0, -1, "'10.0.0.0/8?[2J': invalid prefix length" },
};

/* Each case through fs_cidr_list_parse(): count, first length or the exact reason. */
static void
list_rules_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		const struct list_case *c = &list_cases[i];
		struct fs_cidr_list list;
		char err[256] = "";
		int rc;

		print_message("case '%s'\n", c->text);
		rc = fs_cidr_list_parse(&list, c->text, err, sizeof(err));
		if (c->message == NULL) {
			if (rc != 0)
				fail_msg("'%s' was rejected: %s", c->text, err);
			assert_int_equal(list.count, c->count);
			if (c->first_length >= 0)
				assert_int_equal(list.prefixes[0].length, c->first_length);
			fs_cidr_list_release(&list);
			continue;
		}
		assert_int_equal(rc, FS_ERR_INVALID);
		if (strstr(err, c->message) == NULL)
			fail_msg("'%s' gave '%s', expected '%s'", c->text, err, c->message);
		assert_null(list.prefixes);
		assert_int_equal(list.count, 0);
	}
}

/*
 * The detection lists and the home networks store items their own way;
 * each must give the verdict and message of fs_cidr_list_parse().
 */
static void
every_list_agrees(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		const struct list_case *c = &list_cases[i];
		struct fs_cidr_list list;
		struct fs_detect_prefixes detect;
		struct fs_prefix_table *table = fs_prefix_table_new();
		char cidr_err[256] = "", detect_err[256] = "", table_err[256] = "";
		int cidr_rc, detect_rc, table_rc;

		assert_non_null(table);
		print_message("case '%s'\n", c->text);
		cidr_rc = fs_cidr_list_parse(&list, c->text, cidr_err, sizeof(cidr_err));
		detect_rc = fs_detect_prefixes_parse(&detect, c->text, detect_err, sizeof(detect_err));
		table_rc = fs_prefix_table_add_list(table, c->text, table_err, sizeof(table_err));

		assert_int_equal(detect_rc, cidr_rc);
		assert_string_equal(detect_err, cidr_err);
		if (cidr_rc == 0) {
			assert_int_equal(table_rc, 0);
			assert_int_equal(detect.count, list.count);
			assert_int_equal(fs_prefix_table_count(table), list.count);
			for (size_t k = 0; k < list.count; k++) {
				assert_int_equal(detect.items[k].len, list.prefixes[k].length);
				assert_memory_equal(&detect.items[k].addr, &list.prefixes[k].prefix,
						    sizeof(struct fs_addr));
			}
		} else {
			assert_int_equal(table_rc, cidr_rc);
			assert_string_equal(table_err, cidr_err);
			assert_int_equal(detect.count, 0);
		}
		fs_cidr_list_release(&list);
		fs_prefix_table_free(table);
	}
}

/* Each list's own limit on the number of items, named in the message. */
static void
item_limits(void **state)
{
	static char text[(FS_CIDR_MAX_PREFIXES + 1) * 16];
	struct fs_cidr_list list;
	struct fs_detect_prefixes detect;
	char err[256] = "";
	size_t used = 0;

	(void)state;
	for (unsigned i = 0; i <= FS_CIDR_MAX_PREFIXES; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s10.%u.%u.0/24",
					 i > 0 ? "," : "", i / 256, i % 256);
	assert_int_equal(fs_cidr_list_parse(&list, text, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "'10.4.0.0/24': more than 1024 prefixes in the list"));
	assert_null(list.prefixes);

	assert_int_equal(fs_detect_prefixes_parse(&detect, text, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "'10.1.0.0/24': more than 256 prefixes in the list"));
	assert_int_equal(detect.count, 0);

	/* Exactly at the limit passes. */
	text[strlen(text) - strlen(",10.4.0.0/24")] = '\0';
	assert_int_equal(fs_cidr_list_parse(&list, text, err, sizeof(err)), 0);
	assert_int_equal(list.count, FS_CIDR_MAX_PREFIXES);
	fs_cidr_list_release(&list);
}

/* fs_cidr_parse() reads exactly len bytes: no NUL needed, none allowed inside. */
static void
item_bounded_by_length(void **state)
{
	struct fs_cidr prefix;
	char err[256] = "";

	(void)state;
	assert_int_equal(fs_cidr_parse(&prefix, "192.0.2.0/24,junk", 12, err, sizeof(err)), 0);
	assert_int_equal(prefix.length, 24);
	assert_int_equal(fs_cidr_parse(&prefix, "10.0.0.1\0/8", 11, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "not an IPv4 or IPv6 address"));
	assert_int_equal(fs_cidr_parse(&prefix, "10.0.0.0/8\0", 11, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "'10.0.0.0/8?': invalid prefix length"));
}

static void
ipv4_and_ipv6_prefixes(void **state)
{
	struct fs_cidr_list list;
	char err[256];

	(void)state;
	assert_int_equal(fs_cidr_list_parse(&list, "192.0.2.0/24, 2001:db8::/32, 198.51.100.7",
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_rules_table),
		cmocka_unit_test(every_list_agrees),
		cmocka_unit_test(item_limits),
		cmocka_unit_test(item_bounded_by_length),
		cmocka_unit_test(ipv4_and_ipv6_prefixes),
		cmocka_unit_test(odd_lengths_and_extremes),
		cmocka_unit_test(empty_list_matches_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
