/*
 * redis_url.h - Redis connection URLs and connecting with hiredis.
 *
 * Two URL forms are accepted:
 *
 *   redis://[[user]:password@]host[:port][/db]
 *   unix:///absolute/path/to/redis.sock
 *
 * host is a name, an IPv4 address or an IPv6 address in brackets
 * (redis://[::1]:6380).  port defaults to 6379 and db to 0.  user and
 * password may contain %XX escapes, which are decoded.  A password without
 * a user ("redis://:secret@host") authenticates as the default user with
 * the one-argument AUTH; a user and password use the two-argument AUTH of
 * Redis 6 ACLs.  rediss:// (TLS) is rejected because hiredis 0.14, the
 * version this builds against, has no TLS support.
 *
 * A struct fs_redis_url is plain data with fixed-size buffers and no
 * pointers, so it can be copied and zeroed freely.
 */
#ifndef FS_REDIS_REDIS_URL_H
#define FS_REDIS_REDIS_URL_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define FS_REDIS_DEFAULT_PORT 6379

enum fs_redis_transport {
	FS_REDIS_TCP = 0,
	FS_REDIS_UNIX = 1,
};

struct fs_redis_url {
	enum fs_redis_transport transport;
	char host[256];        /* TCP: name or address, without brackets */
	uint16_t port;         /* TCP: 1..65535 */
	char path[108];        /* UNIX: socket path (the size of sun_path) */
	char user[128];        /* "" when none */
	char password[256];    /* "" when none; never logged */
	int db;                /* SELECTed after connecting when nonzero */
};

/*
 * Parses text into url.  Returns 0, or FS_ERR_INVALID with a message that
 * quotes the offending part written into err (err_len bytes, may be 0).
 * The message never contains the password.
 */
int fs_redis_url_parse(struct fs_redis_url *url, const char *text, char *err,
		       size_t err_len);

/*
 * Parses the Redis URL of config (fs_config_redis_url(): redis.url, else the
 * URL file of `make run`) into url, then replaces its password with
 * redis.password when that is set.  Returns 0, or a negative fs_result with
 * the reason in err, which never contains the password.
 */
struct fs_config;
int fs_redis_url_from_config(struct fs_redis_url *url, const struct fs_config *config,
			     char *err, size_t err_len);

/*
 * Writes url back as text into buf without the password (shown as "***"),
 * for messages and logs.  Returns buf.
 */
char *fs_redis_url_format_safe(const struct fs_redis_url *url, char *buf,
			       size_t len);

/*
 * Connects to url, waiting at most timeout_ms for the connection and for
 * each later command reply, then sends AUTH when a password is set and
 * SELECT when db is nonzero.  On success stores a connected context in *out,
 * which the caller frees with redisFree(), and returns 0.  On failure
 * returns FS_ERR_SYSTEM (connection refused, timed out, AUTH or SELECT
 * rejected) with the reason in err.
 */
int fs_redis_connect(const struct fs_redis_url *url, int timeout_ms,
		     redisContext **out, char *err, size_t err_len);

/*
 * Writes the error of ctx into buf (len bytes) and returns buf.  A read or
 * connect timeout, which hiredis 0.14 reports as the errno text "Resource
 * temporarily unavailable" or "Connection timed out", reads "timed out
 * after N ms", N being the connect timeout of ctx.  fs_redis_connect() sets
 * the command timeout to the same value.
 */
const char *fs_redis_error_text(const redisContext *ctx, char *buf, size_t len);

#endif
