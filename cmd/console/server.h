/*
 * server.h - the HTTP side of flowsift-console: routing, access token,
 * static assets and the JSON API (pkg/console/api.h) on libmicrohttpd.
 *
 *   GET  /, /assets/...   the embedded page (assets.h)
 *   GET  /healthz         200 "ok", never needs the token
 *   GET  /api/<name>      JSON from the handler of that name
 *   POST /login           form field token; sets the session cookie
 *   POST /logout          clears the cookie
 *
 * With a token configured, every /api/ request needs it, either in
 * "Authorization: Bearer <token>" or in the HttpOnly cookie that /login
 * sets.  The token is never accepted in a URL and never logged.
 */
#ifndef FS_CONSOLE_SERVER_H
#define FS_CONSOLE_SERVER_H

#include <stdint.h>

#include "console/api.h"
#include "kafka/kafka_conf.h"
#include "redis/redis_url.h"

#define CONSOLE_TOKEN_MIN 16
#define CONSOLE_TOKEN_MAX 256
#define CONSOLE_COOKIE "flowsift_console"
/* Largest request body (the login form), in bytes. */
#define CONSOLE_BODY_MAX 4096

struct console_settings {
	const char *listen;                 /* host:port */
	const char *token;                  /* NULL or "": no token */
	struct fs_redis_url redis_url;
	const char *bootstrap;
	const struct fs_kafka_props *props;
	const char *topic;
	struct fs_console_limits limits;
	unsigned connections_max;
	unsigned connections_per_ip_max;
	unsigned idle_timeout_s;            /* idle connections are closed after this */
};

struct console_server;

/*
 * Starts serving.  settings and everything it points to are borrowed and
 * must outlive the server.  Returns 0 and stores the server in *out, or a
 * negative fs_result with the reason in err.
 */
int console_server_start(struct console_server **out, const struct console_settings *settings,
			 char *err, size_t err_len);

/* Returns the bound TCP port. */
uint16_t console_server_port(const struct console_server *server);

/* Stops the server, waiting for requests in progress, and frees it; NULL is allowed. */
void console_server_stop(struct console_server *server);

#endif
