/*
 * fuzz_redis_url.c - libFuzzer target for the Redis URL parser and the
 * URL mask of configuration values.
 *
 * Each input is a URL.  The mask of the input and the safe form of a
 * parsed URL with a password must end their user info in "***".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "redis/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless the text between "://" and the last '@' of shown ends in "***". */
static void
check_userinfo_hidden(const char *shown)
{
	const char *scheme = strstr(shown, "://");
	const char *at = scheme ? strrchr(scheme + 3, '@') : NULL;

	if (at == NULL)
		return;
	if (at - (scheme + 3) < 3 || strncmp(at - 3, "***", 3) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs_redis_url url;
	char text[1024], err[512] = "", safe[512], shown[1100];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (memchr(data, '\0', size) != NULL)
		return 0;

	fs_config_mask("redis.url", text, shown, sizeof(shown));
	check_userinfo_hidden(shown);
	if (fs_redis_url_parse(&url, text, err, sizeof(err)) != 0 || url.password[0] == '\0')
		return 0;
	fs_redis_url_format_safe(&url, safe, sizeof(safe));
	check_userinfo_hidden(safe);
	return 0;
}
