/*
 * test_redis_url_secrets.c - passwords in Redis URLs stay out of error
 * messages and masked values, whatever characters they contain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/result.h"
#include "redis/redis_url.h"

/* A marker that no message may contain; each password below includes it. */
#define MARK "Zq7"

/* Passwords with every character that ends a URL part somewhere: / @ : % ? #. */
static const char *const raw_passwords[] = {
	MARK "a/b",
	MARK "/",
	"/" MARK "/x/0",
	MARK "a@b",
	MARK "a:b:c",
	MARK "a%b",
	MARK "a?b",
	MARK "a#b",
	"p/" MARK "@q:r%s",
};

static void
assert_no_marker(const char *text)
{
	if (strstr(text, MARK) != NULL)
		fail_msg("password text leaked into '%s'", text);
	if (strstr(text, "a/b") != NULL || strstr(text, "x/0") != NULL)
		fail_msg("part of a password leaked into '%s'", text);
}

/* Unescaped passwords parse, or fail without quoting any of the URL before the host. */
static void
url_errors_hide_password(void **state)
{
	static const char *const tails[] = {
		"@127.0.0.1:6379/0", "@127.0.0.1:http", "@127.0.0.1/x", "@[::1", "@",
		"@127.0.0.1?db=1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(raw_passwords) / sizeof(raw_passwords[0]); i++) {
		for (size_t j = 0; j < sizeof(tails) / sizeof(tails[0]); j++) {
			struct fs_redis_url url;
			char text[256];
			char err[512] = "";
			char safe[512];
			int rc;

			snprintf(text, sizeof(text), "redis://user:%s%s", raw_passwords[i], tails[j]);
			rc = fs_redis_url_parse(&url, text, err, sizeof(err));
			assert_no_marker(err);
			if (rc == 0) {
				assert_no_marker(fs_redis_url_format_safe(&url, safe, sizeof(safe)));
				assert_non_null(strstr(url.password, MARK));
			}
		}
	}
}

/* A password with a raw '/' is no longer cut into a database number. */
static void
url_password_with_slash_parses(void **state)
{
	struct fs_redis_url url;
	char err[512] = "";

	(void)state;
	assert_int_equal(fs_redis_url_parse(&url, "redis://:pa/ss@127.0.0.1:6380/3", err,
					    sizeof(err)), 0);
	assert_string_equal(url.password, "pa/ss");
	assert_string_equal(url.host, "127.0.0.1");
	assert_int_equal(url.port, 6380);
	assert_int_equal(url.db, 3);

	assert_int_equal(fs_redis_url_parse(&url, "redis://u:a@b:c%25d@h", err, sizeof(err)), 0);
	assert_string_equal(url.user, "u");
	assert_string_equal(url.password, "a@b:c%d");
	assert_string_equal(url.host, "h");
}

/* An unsupported scheme is named, and nothing after it is quoted. */
static void
url_wrong_scheme_quotes_scheme_only(void **state)
{
	struct fs_redis_url url;
	char err[512] = "";

	(void)state;
	assert_int_equal(fs_redis_url_parse(&url, "http://u:" MARK "/x@h", err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(err, "scheme 'http'"));
	assert_no_marker(err);

	assert_int_equal(fs_redis_url_parse(&url, "http://x", err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "scheme 'http'"));
}

/* fs_config_mask hides the whole user info up to the last '@'. */
static void
mask_hides_whole_userinfo(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(raw_passwords) / sizeof(raw_passwords[0]); i++) {
		char text[256];
		char shown[256];

		snprintf(text, sizeof(text), "redis://user:%s@redis:6379/1", raw_passwords[i]);
		fs_config_mask("redis.url", text, shown, sizeof(shown));
		assert_no_marker(shown);
		assert_string_equal(shown, "redis://***@redis:6379/1");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(url_errors_hide_password),
		cmocka_unit_test(url_password_with_slash_parses),
		cmocka_unit_test(url_wrong_scheme_quotes_scheme_only),
		cmocka_unit_test(mask_hides_whole_userinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
