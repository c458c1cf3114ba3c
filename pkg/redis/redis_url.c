/* redis_url.c - parsing Redis URLs and connecting with hiredis. */
#include "redis/redis_url.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "config/config.h"
#include "core/error_text.h"
#include "core/result.h"

static const char scheme_tcp[] = "redis://";
static const char scheme_tls[] = "rediss://";
static const char scheme_unix[] = "unix://";

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copies src[0..len) into dst (size dst_len), decoding %XX escapes.  Returns 0 or -1. */
static int
percent_decode(char *dst, size_t dst_len, const char *src, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hex_value(src[i + 1]);
			lo = hex_value(src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (out + 1 >= dst_len)
			return -1;
		dst[out++] = c;
	}
	dst[out] = '\0';
	return 0;
}

/* Parses a decimal number of 1 to 10 digits in [min, max].  Returns 0 or -1. */
static int
parse_number(const char *text, size_t len, long min, long max, long *value)
{
	long v = 0;

	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*value = v;
	return 0;
}

static int
parse_unix(struct fs_redis_url *url, const char *path, char *err, size_t err_len)
{
	size_t len = strlen(path);

	if (path[0] != '/')
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: unix:// needs an absolute socket path, as in unix:///run/redis.sock");
	if (len >= sizeof(url->path))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: socket path is %zu bytes, the maximum is %zu",
			       len, sizeof(url->path) - 1);
	url->transport = FS_REDIS_UNIX;
	memcpy(url->path, path, len + 1);
	return 0;
}

static int
parse_userinfo(struct fs_redis_url *url, const char *info, size_t len, char *err,
	       size_t err_len)
{
	const char *colon = memchr(info, ':', len);
	size_t user_len;

	if (colon == NULL)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: missing ':' before the password; write redis://:PASSWORD@HOST or redis://USER:PASSWORD@HOST");
	user_len = (size_t)(colon - info);
	if (percent_decode(url->user, sizeof(url->user), info, user_len) < 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: user name is too long or has an invalid %%XX escape");
	if (percent_decode(url->password, sizeof(url->password), colon + 1,
			   len - user_len - 1) < 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: password is too long or has an invalid %%XX escape");
	if (url->password[0] == '\0')
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: empty password after ':'");
	return 0;
}

/* Parses "host", "host:port", "[v6]" or "[v6]:port" from hostport[0..len). */
static int
parse_hostport(struct fs_redis_url *url, const char *hostport, size_t len,
	       char *err, size_t err_len)
{
	const char *host = hostport;
	const char *port = NULL;
	size_t host_len;
	long value;

	if (len > 0 && hostport[0] == '[') {
		const char *close = memchr(hostport, ']', len);

		if (close == NULL)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "invalid Redis URL: missing ']' after the IPv6 address");
		host = hostport + 1;
		host_len = (size_t)(close - host);
		if (close + 1 < hostport + len) {
			if (close[1] != ':')
				return fs_fail(err, err_len, FS_ERR_INVALID,
					       "invalid Redis URL: expected ':' and a port "
					       "after ']'");
			port = close + 2;
		}
	} else {
		const char *colon = memchr(hostport, ':', len);

		host_len = colon != NULL ? (size_t)(colon - hostport) : len;
		if (colon != NULL)
			port = colon + 1;
	}
	if (host_len == 0)
		return fs_fail(err, err_len, FS_ERR_INVALID, "invalid Redis URL: missing host");
	if (host_len >= sizeof(url->host))
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: host name is %zu bytes, the maximum is %zu",
			       host_len, sizeof(url->host) - 1);
	memcpy(url->host, host, host_len);
	url->host[host_len] = '\0';

	url->port = FS_REDIS_DEFAULT_PORT;
	if (port != NULL) {
		size_t port_len = (size_t)(hostport + len - port);

		if (parse_number(port, port_len, 1, 65535, &value) < 0)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "invalid Redis URL: port '%.*s' is not a number from 1 to 65535",
				       (int)port_len, port);
		url->port = (uint16_t)value;
	}
	return 0;
}

static int
parse_tcp(struct fs_redis_url *url, const char *rest, char *err, size_t err_len)
{
	/*
	 * The last '@' of the URL ends the user info, because host, port and
	 * database never contain one while a password may contain an unescaped
	 * '/', '?', '#' or '@'.  Messages below quote only text after it.
	 */
	const char *at = strrchr(rest, '@');
	const char *hostport = at != NULL ? at + 1 : rest;
	size_t hostport_len = strcspn(hostport, "/?#");
	const char *db_text = hostport + hostport_len;
	long value;
	int rc;

	if (*db_text == '?' || *db_text == '#')
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: query strings and fragments are not supported");

	if (at != NULL) {
		rc = parse_userinfo(url, rest, (size_t)(at - rest), err, err_len);
		if (rc < 0)
			return rc;
	}
	rc = parse_hostport(url, hostport, hostport_len, err, err_len);
	if (rc < 0)
		return rc;

	if (*db_text == '/' && db_text[1] != '\0') {
		size_t db_len = strlen(db_text + 1);

		if (parse_number(db_text + 1, db_len, 0, INT_MAX, &value) < 0)
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "invalid Redis URL: database '%.*s' is not a non-negative number",
				       (int)db_len, db_text + 1);
		url->db = (int)value;
	}
	url->transport = FS_REDIS_TCP;
	return 0;
}

int
fs_redis_url_parse(struct fs_redis_url *url, const char *text, char *err,
		   size_t err_len)
{
	memset(url, 0, sizeof(*url));
	if (text == NULL || text[0] == '\0')
		return fs_fail(err, err_len, FS_ERR_INVALID, "invalid Redis URL: empty URL");
	if (strncmp(text, scheme_unix, sizeof(scheme_unix) - 1) == 0)
		return parse_unix(url, text + sizeof(scheme_unix) - 1, err, err_len);
	if (strncmp(text, scheme_tcp, sizeof(scheme_tcp) - 1) == 0)
		return parse_tcp(url, text + sizeof(scheme_tcp) - 1, err, err_len);
	if (strncmp(text, scheme_tls, sizeof(scheme_tls) - 1) == 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "invalid Redis URL: rediss:// (TLS) is not supported by this build; use redis:// or unix://");
	/* Only the scheme is quoted, because the rest may contain a password. */
	return fs_fail(err, err_len, FS_ERR_INVALID,
		       "invalid Redis URL: scheme '%.*s' is not supported; expected redis://HOST[:PORT][/DB] or unix:///PATH",
		       (int)(strstr(text, "://") != NULL ? strcspn(text, ":") : 0), text);
}

char *
fs_redis_url_format_safe(const struct fs_redis_url *url, char *buf, size_t len)
{
	const char *open = strchr(url->host, ':') != NULL ? "[" : "";
	const char *close = open[0] != '\0' ? "]" : "";

	if (url->transport == FS_REDIS_UNIX) {
		snprintf(buf, len, "unix://%s", url->path);
		return buf;
	}
	snprintf(buf, len, "redis://%s%s%s%s%s%s:%u/%d", url->user,
		 url->password[0] != '\0' ? ":***" : "",
		 url->user[0] != '\0' || url->password[0] != '\0' ? "@" : "",
		 open, url->host, close, url->port, url->db);
	return buf;
}

/* Sends one command and checks that the reply is not an error. */
static int
run_command(redisContext *ctx, int argc, const char **argv, const char *what,
	    char *err, size_t err_len)
{
	redisReply *reply = redisCommandArgv(ctx, argc, argv, NULL);
	char why[160];
	int rc = 0;

	if (reply == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "redis %s failed: %s", what,
			       fs_redis_error_text(ctx, why, sizeof(why)));
	if (reply->type == REDIS_REPLY_ERROR)
		rc = fs_fail(err, err_len, FS_ERR_SYSTEM, "redis %s rejected: %s", what,
			     reply->str);
	freeReplyObject(reply);
	return rc;
}

const char *
fs_redis_error_text(const redisContext *ctx, char *buf, size_t len)
{
	bool timed_out = ctx->err == REDIS_ERR_IO &&
			 (strcmp(ctx->errstr, strerror(EAGAIN)) == 0 ||
			  strcmp(ctx->errstr, strerror(ETIMEDOUT)) == 0);

	if (!timed_out) {
		snprintf(buf, len, "%s", ctx->err != 0 ? ctx->errstr : "no error");
		return buf;
	}
	if (ctx->timeout != NULL)
		snprintf(buf, len, "timed out after %lld ms",
			 (long long)ctx->timeout->tv_sec * 1000 + ctx->timeout->tv_usec / 1000);
	else
		snprintf(buf, len, "timed out");
	return buf;
}

int
fs_redis_connect(const struct fs_redis_url *url, int timeout_ms,
		 redisContext **out, char *err, size_t err_len)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	char where[sizeof(url->host) + 64];
	char db_text[16];
	redisContext *ctx;
	int rc = 0;

	*out = NULL;
	fs_redis_url_format_safe(url, where, sizeof(where));
	if (url->transport == FS_REDIS_UNIX)
		ctx = redisConnectUnixWithTimeout(url->path, tv);
	else
		ctx = redisConnectWithTimeout(url->host, url->port, tv);
	if (ctx == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM,
			       "cannot connect to Redis at %s: out of memory", where);
	if (ctx->err != 0) {
		char why[160];

		rc = fs_fail(err, err_len, FS_ERR_SYSTEM, "cannot connect to Redis at %s: %s",
			     where,
			     fs_redis_error_text(ctx, why, sizeof(why)));
		goto out;
	}
	if (redisSetTimeout(ctx, tv) != REDIS_OK) {
		rc = fs_fail(err, err_len, FS_ERR_SYSTEM,
			     "cannot set the Redis command timeout: %s", strerror(errno));
		goto out;
	}

	if (url->password[0] != '\0') {
		const char *argv[3] = { "AUTH", url->user, url->password };

		if (url->user[0] != '\0')
			rc = run_command(ctx, 3, argv, "AUTH", err, err_len);
		else
			rc = run_command(ctx, 2, (const char *[]){ "AUTH", url->password },
					 "AUTH", err, err_len);
		if (rc < 0)
			goto out;
	}
	if (url->db != 0) {
		const char *argv[2] = { "SELECT", db_text };

		snprintf(db_text, sizeof(db_text), "%d", url->db);
		rc = run_command(ctx, 2, argv, "SELECT", err, err_len);
		if (rc < 0)
			goto out;
	}

out:
	if (rc < 0)
		redisFree(ctx);
	else
		*out = ctx;
	return rc;
}

int
fs_redis_url_from_config(struct fs_redis_url *url, const struct fs_config *config, char *err,
			 size_t err_len)
{
	const char *password = fs_config_str(config, "redis.password");
	char text[1024];
	int rc;

	rc = fs_config_redis_url(config, text, sizeof(text), err, err_len);
	if (rc == 0) {
		char reason[512];

		/* Parse errors name the key that contains the URL. */
		rc = fs_redis_url_parse(url, text, reason, sizeof(reason));
		if (rc < 0)
			snprintf(err, err_len, "%s: %s",
				 fs_config_str(config, "redis.url")[0] != '\0'
					 ? "redis.url" : "the URL file of the run folder (run.dir/redis.url)",
				 reason);
	}
	memset(text, 0, sizeof(text));
	if (rc < 0 || password[0] == '\0')
		return rc;
	if (strlen(password) >= sizeof(url->password)) {
		snprintf(err, err_len, "redis.password is longer than %zu bytes",
			 sizeof(url->password) - 1);
		return FS_ERR_INVALID;
	}
	snprintf(url->password, sizeof(url->password), "%s", password);
	return 0;
}
