/*
 * server.c - HTTP routing, access token and assets of flowsift-console.
 */
#include "server.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "assets.h"
#include "console/form.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"
#include "metrics/http_server.h"

#define JSON_TYPE "application/json"
/* The page loads only its own files; uPlot sets inline styles on its elements. */
#define CSP "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " \
	    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

struct console_server {
	struct MHD_Daemon *daemon;
	const struct console_settings *settings;
	uint16_t port;
	pthread_mutex_t log_lock;          /* guards the rate limits: one thread per connection */
	struct fs_ratelimit error_limit;
	struct fs_ratelimit mhd_limit;     /* libmicrohttpd's messages */
};

/* State of one request across libmicrohttpd's calls: the body read so far. */
struct request {
	size_t len;
	bool too_large;
	char body[CONSOLE_BODY_MAX];
};

typedef int api_fn(const struct fs_console_env *env, const struct fs_console_form *form,
		   json_t **out);

static const struct {
	const char *path;
	api_fn *fn;
	bool redis;   /* the handler reads Redis */
	const char *const params[6]; /* the query parameters it takes, as docs/console.md lists */
	const char *params_text;
} api_routes[] = {
	{ "/api/top", fs_console_api_top, true, { "dim", "metric", "window", "n", "host", NULL },
	  "dim, metric, window, n and host" },
	{ "/api/series", fs_console_api_series, true, { "dim", "metric", "window", "n", NULL },
	  "dim, metric, window and n" },
	{ "/api/alerts", fs_console_api_alerts, true, { "limit", NULL }, "limit" },
	{ "/api/filter", fs_console_api_filter, false, { "filter", NULL }, "filter" },
	{ "/api/flows", fs_console_api_flows, false, { "filter", "limit", "minutes", NULL },
	  "filter, limit and minutes" },
	{ "/api/host", fs_console_api_host, false, { "addr", "limit", "minutes", NULL },
	  "addr, limit and minutes" },
};

/* Logs an error of a request, at most 10 lines a minute across all connections. */
static void log_request_error(struct console_server *server, enum fs_log_level level,
			      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
log_request_error(struct console_server *server, enum fs_log_level level, const char *fmt, ...)
{
	char message[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&server->log_lock);
	fs_log_limited(&server->error_limit, level, "console", "%s", message);
	pthread_mutex_unlock(&server->log_lock);
}

static void
add_security_headers(struct MHD_Response *response)
{
	MHD_add_response_header(response, "Content-Security-Policy", CSP);
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(response, "X-Frame-Options", "DENY");
}

/* Queues a response of len bytes of body (copied) and its headers. */
static enum MHD_Result
respond(struct MHD_Connection *connection, unsigned int status, const char *content_type,
	const void *body, size_t len, const char *cache_control)
{
	struct MHD_Response *response;
	enum MHD_Result rc;

	response = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
	add_security_headers(response);
	rc = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return rc;
}

static enum MHD_Result
respond_json(struct MHD_Connection *connection, unsigned int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	enum MHD_Result rc;

	if (!text)
		return respond(connection, 500, JSON_TYPE, "{\"error\":\"out of memory\"}", 25,
			       "no-store");
	rc = respond(connection, status, JSON_TYPE, text, strlen(text), "no-store");
	free(text);
	return rc;
}

static enum MHD_Result
respond_error(struct MHD_Connection *connection, unsigned int status, const char *message)
{
	json_t *body = json_pack("{s:s}", "error", message);
	enum MHD_Result rc = respond_json(connection, status, body);

	json_decref(body);
	return rc;
}

/* Queues a 303 redirect to location, with a Set-Cookie header when cookie is not NULL. */
static enum MHD_Result
redirect(struct MHD_Connection *connection, const char *location, const char *cookie)
{
	struct MHD_Response *response;
	enum MHD_Result rc;

	response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, MHD_HTTP_HEADER_LOCATION, location);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (cookie)
		MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	add_security_headers(response);
	rc = MHD_queue_response(connection, MHD_HTTP_SEE_OTHER, response);
	MHD_destroy_response(response);
	return rc;
}

/* Compares in a time that depends only on the configured token's length, so timing reveals no prefix. */
static bool
token_equal(const char *given, size_t given_len, const char *token)
{
	size_t len = strlen(token);
	unsigned char diff = given_len != len;

	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(token[i] ^ (i < given_len ? given[i] : 0));
	return diff == 0;
}

/* Returns true when the request carries the token, or no token is configured. */
static bool
authorized(const struct console_server *server, struct MHD_Connection *connection)
{
	const char *token = server->settings->token;
	const char *header, *cookie;

	if (!token || !token[0])
		return true;
	header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_AUTHORIZATION);
	if (header && strncasecmp(header, "Bearer ", 7) == 0 &&
	    token_equal(header + 7, strlen(header + 7), token))
		return true;
	cookie = MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, CONSOLE_COOKIE);
	return cookie && token_equal(cookie, strlen(cookie), token);
}

struct collect_state {
	struct fs_console_form *form;
	char err[256];
	int rc;
};

static enum MHD_Result
collect_argument(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
		 const char *value, size_t value_size)
{
	struct collect_state *state = cls;

	(void)kind;
	(void)key_size;
	if (state->rc < 0)
		return MHD_NO;
	state->rc = fs_console_form_add(state->form, key, value ? value : "",
					value ? value_size : 0, state->err, sizeof(state->err));
	return state->rc < 0 ? MHD_NO : MHD_YES;
}

static enum MHD_Result
serve_api(struct console_server *server, struct MHD_Connection *connection, const char *url)
{
	const struct console_settings *settings = server->settings;
	struct fs_console_form *form = NULL;
	struct collect_state collect = { 0 };
	struct fs_console_env env = {
		.bootstrap = settings->bootstrap,
		.props = settings->props,
		.topic = settings->topic,
		.limits = settings->limits,
		.now_ms = fs_clock_ms(CLOCK_REALTIME),
	};
	int64_t started = fs_monotonic_ms();
	json_t *body = NULL;
	const char *unknown;
	enum MHD_Result rc;
	char err[512];
	int status = 404;
	size_t i;

	for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		if (strcmp(url, api_routes[i].path) == 0)
			break;
	}
	if (i == sizeof(api_routes) / sizeof(api_routes[0]))
		return respond_error(connection, 404,
				     "not found: the API paths are /api/top, /api/series, /api/alerts, "
				     "/api/filter, /api/flows and /api/host");
	form = malloc(sizeof(*form));
	if (!form)
		return respond_error(connection, 500, "out of memory");
	fs_console_form_init(form);
	collect.form = form;
	MHD_get_connection_values_n(connection, MHD_GET_ARGUMENT_KIND, collect_argument, &collect);
	if (collect.rc < 0) {
		status = fs_console_api_error(&body, 400, collect.err);
		goto done;
	}
	unknown = fs_console_form_unknown(form, api_routes[i].params);
	if (unknown != NULL) {
		snprintf(err, sizeof(err), "invalid request: unknown parameter '%.64s'; %s takes %s",
			 unknown, api_routes[i].path, api_routes[i].params_text);
		status = fs_console_api_error(&body, 400, err);
		goto done;
	}
	if (api_routes[i].redis &&
	    fs_redis_connect(&settings->redis_url, settings->limits.timeout_ms, &env.redis, err,
			     sizeof(err)) < 0) {
		log_request_error(server, FS_LOG_WARNING, "%s: %s", url, err);
		status = fs_console_api_error(&body, 502, err);
		goto done;
	}
	status = api_routes[i].fn(&env, form, &body);
	if (status >= 500) {
		const char *message = json_string_value(json_object_get(body, "error"));

		log_request_error(server, FS_LOG_WARNING, "%s failed with status %d: %s", url,
				  status, message ? message : "(no message)");
	}
done:
	if (env.redis)
		redisFree(env.redis);
	fs_log(FS_LOG_DEBUG, "console", "GET %s %d %lld ms", url, status,
	       (long long)(fs_monotonic_ms() - started));
	rc = respond_json(connection, (unsigned)status, body);
	json_decref(body);
	free(form);
	return rc;
}

static enum MHD_Result
serve_asset(struct MHD_Connection *connection, const char *url)
{
	if (strcmp(url, "/") == 0)
		url = "/index.html";
	for (size_t i = 0; i < console_asset_count; i++) {
		const struct console_asset *asset = &console_assets[i];

		/* The file names carry no version, so browsers fetch them again after an upgrade. */
		if (strcmp(asset->path, url) == 0)
			return respond(connection, 200, asset->content_type, asset->data, asset->len,
				       "no-cache");
	}
	return respond(connection, 404, "text/plain; charset=utf-8", "not found\n", 10, "no-store");
}

/* Checks the token of the login form and sets the cookie. */
static enum MHD_Result
serve_login(struct console_server *server, struct MHD_Connection *connection,
	    const struct request *req)
{
	const char *token = server->settings->token;
	struct fs_console_form *form;
	const char *given;
	char cookie[CONSOLE_TOKEN_MAX + 128], err[256];
	enum MHD_Result rc;

	if (req->too_large)
		return respond_error(connection, 413, "request body too large");
	if (!token || !token[0])
		return redirect(connection, "/", NULL);
	form = malloc(sizeof(*form));
	if (!form)
		return respond_error(connection, 500, "out of memory");
	fs_console_form_init(form);
	if (fs_console_form_parse(form, req->body, req->len, err, sizeof(err)) < 0) {
		rc = respond_error(connection, 400, err);
		goto out;
	}
	given = fs_console_form_get(form, "token");
	if (!given || !token_equal(given, strlen(given), token)) {
		log_request_error(server, FS_LOG_NOTICE, "login rejected: wrong token");
		rc = redirect(connection, "/#login-failed", NULL);
		goto out;
	}
	snprintf(cookie, sizeof(cookie), CONSOLE_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict",
		 token);
	rc = redirect(connection, "/", cookie);
out:
	free(form);
	return rc;
}

static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *connection, const char *url,
	       const char *method, const char *version, const char *upload_data,
	       size_t *upload_data_size, void **con_cls)
{
	struct console_server *server = cls;
	struct request *req = *con_cls;
	bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		      strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	(void)version;
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
		/* The first call only announces the request; the body follows in pieces. */
		if (!req) {
			req = calloc(1, sizeof(*req));
			if (!req)
				return MHD_NO;
			*con_cls = req;
			return MHD_YES;
		}
		if (*upload_data_size > 0) {
			if (*upload_data_size > sizeof(req->body) - req->len)
				req->too_large = true;
			else
				memcpy(req->body + req->len, upload_data, *upload_data_size);
			if (!req->too_large)
				req->len += *upload_data_size;
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (strcmp(url, "/login") == 0)
			return serve_login(server, connection, req);
		if (strcmp(url, "/logout") == 0)
			return redirect(connection, "/",
					CONSOLE_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
		return respond_error(connection, 405, "method not allowed: POST is for /login and /logout");
	}
	if (!is_get)
		return respond_error(connection, 405, "method not allowed: use GET");
	if (strcmp(url, "/healthz") == 0)
		return respond(connection, 200, "text/plain; charset=utf-8", "ok\n", 3, "no-store");
	if (strncmp(url, "/api/", 5) == 0) {
		if (!authorized(server, connection))
			return respond_error(connection, 401,
					     "access token required: log in on the page or send "
					     "Authorization: Bearer <token>");
		return serve_api(server, connection, url);
	}
	return serve_asset(connection, url);
}

static void
request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
		  enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)connection;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static void
log_mhd(void *cls, const char *fmt, va_list ap)
{
	struct console_server *server = cls;
	const struct console_settings *settings = server->settings;
	char message[512];
	size_t n;

	vsnprintf(message, sizeof(message), fmt, ap);
	n = strlen(message);
	while (n > 0 && message[n - 1] == '\n')
		message[--n] = '\0';
	pthread_mutex_lock(&server->log_lock);
	/* libmicrohttpd 0.9.75 words the total and the per-address limit alike. */
	if (strstr(message, "connection limit") != NULL)
		fs_log_limited(&server->mhd_limit, FS_LOG_WARNING, "console",
			       "http server rejected a connection: at most %u connections "
			       "(console.connections.max), %u per client address "
			       "(console.connections.per_ip.max), idle ones closed after %u s",
			       settings->connections_max, settings->connections_per_ip_max,
			       settings->idle_timeout_s);
	else
		fs_log_limited(&server->mhd_limit, FS_LOG_WARNING, "console", "http server: %s",
			       message);
	pthread_mutex_unlock(&server->log_lock);
}

int
console_server_start(struct console_server **out, const struct console_settings *settings,
		     char *err, size_t err_len)
{
	struct console_server *server;
	struct sockaddr_storage addr = { 0 };
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_ERROR_LOG;
	char reason[512];
	int rc;

	*out = NULL;
	rc = fs_http_listen_resolve(settings->listen, &addr, reason, sizeof(reason));
	if (rc < 0) {
		snprintf(err, err_len, "console.listen: %s", reason);
		return rc;
	}
	server = calloc(1, sizeof(*server));
	if (!server) {
		snprintf(err, err_len, "out of memory for the console server");
		return FS_ERR_SYSTEM;
	}
	server->settings = settings;
	server->error_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 10);
	server->mhd_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	pthread_mutex_init(&server->log_lock, NULL);
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	server->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, handle_request, server,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, server,
		MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_CONNECTION_LIMIT, settings->connections_max,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, settings->connections_per_ip_max,
		MHD_OPTION_CONNECTION_TIMEOUT, settings->idle_timeout_s,
		MHD_OPTION_END);
	if (!server->daemon) {
		snprintf(err, err_len,
			 "cannot listen on console.listen '%s' (address in use or not local?): "
			 "set another address in console.listen",
			 settings->listen);
		pthread_mutex_destroy(&server->log_lock);
		free(server);
		return FS_ERR_SYSTEM;
	}
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	server->port = info ? info->port : 0;
	*out = server;
	return 0;
}

uint16_t
console_server_port(const struct console_server *server)
{
	return server->port;
}

void
console_server_stop(struct console_server *server)
{
	if (!server)
		return;
	MHD_stop_daemon(server->daemon);
	pthread_mutex_destroy(&server->log_lock);
	free(server);
}
