/*
 * test_redis_url.c - passwords in Redis URLs stay out of error messages and
 * masked values, whatever characters they contain, and Redis timeouts are
 * reported as timeouts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

/*
 * Opens a listening TCP socket on 127.0.0.1 that never accepts: the kernel
 * completes the handshake from its backlog, and nothing is ever read or
 * sent back.  Returns the socket and stores its port.
 */
static int
listen_silent(uint16_t *port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t addr_len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &addr_len), 0);
	*port = ntohs(addr.sin_port);
	return fd;
}

/* A server that never replies gives "timed out after N ms", not an errno text. */
static void
timeout_named_as_timeout(void **state)
{
	struct fs_redis_url url;
	redisContext *ctx = NULL;
	redisReply *reply;
	char text[128], err[512] = "", why[160];
	uint16_t port;
	int fd = listen_silent(&port);

	(void)state;
	snprintf(text, sizeof(text), "redis://:secret@127.0.0.1:%u", port);
	assert_int_equal(fs_redis_url_parse(&url, text, err, sizeof(err)), 0);
	assert_int_equal(fs_redis_connect(&url, 300, &ctx, err, sizeof(err)), FS_ERR_SYSTEM);
	assert_null(ctx);
	if (strstr(err, "timed out after 300 ms") == NULL)
		fail_msg("AUTH without an answer gave '%s'", err);
	assert_null(strstr(err, "temporarily"));

	snprintf(text, sizeof(text), "redis://127.0.0.1:%u", port);
	assert_int_equal(fs_redis_url_parse(&url, text, err, sizeof(err)), 0);
	assert_int_equal(fs_redis_connect(&url, 300, &ctx, err, sizeof(err)), 0);
	reply = redisCommand(ctx, "PING");
	assert_null(reply);
	assert_string_equal(fs_redis_error_text(ctx, why, sizeof(why)), "timed out after 300 ms");
	redisFree(ctx);
	close(fd);
}

/* Other errors keep the text hiredis gives. */
static void
other_errors_keep_text(void **state)
{
	struct fs_redis_url url;
	redisContext *ctx = NULL;
	char text[128], err[512] = "";
	uint16_t port;
	int fd = listen_silent(&port);

	(void)state;
	close(fd);
	snprintf(text, sizeof(text), "redis://127.0.0.1:%u", port);
	assert_int_equal(fs_redis_url_parse(&url, text, err, sizeof(err)), 0);
	assert_int_equal(fs_redis_connect(&url, 300, &ctx, err, sizeof(err)), FS_ERR_SYSTEM);
	if (strstr(err, "Connection refused") == NULL)
		fail_msg("a closed port gave '%s'", err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(url_errors_hide_password),
		cmocka_unit_test(url_password_with_slash_parses),
		cmocka_unit_test(url_wrong_scheme_quotes_scheme_only),
		cmocka_unit_test(mask_hides_whole_userinfo),
		cmocka_unit_test(timeout_named_as_timeout),
		cmocka_unit_test(other_errors_keep_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
