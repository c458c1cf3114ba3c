/* http_server.c - /metrics, /healthz and /readyz over libmicrohttpd. */
#include "metrics/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/log.h"
#include "core/result.h"
#include "metrics/metrics.h"

#define EXPOSITION_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Connection limits.  A scraper or probe needs one or two connections, so
 * a few idle clients of one address cannot take all of them, and an idle
 * connection is closed after IDLE_TIMEOUT_S so that the slots come back.
 */
#define CONNECTIONS_MAX 64
#define CONNECTIONS_PER_IP_MAX 8
#define IDLE_TIMEOUT_S 10

struct fs_metrics_server {
	struct MHD_Daemon *daemon;
	struct fs_metrics *metrics;
	fs_ready_fn *ready;
	void *opaque;
	uint16_t port;
	/* Used only on the server's thread (and by start before it runs). */
	struct fs_ratelimit log_limit;
};

int
fs_hostport_parse(const char *text, char *host, size_t host_len, uint16_t *port)
{
	const char *colon, *host_start = text, *host_end;
	char *end;
	unsigned long n;

	if (text[0] == '[') {
		host_end = strchr(text, ']');
		if (!host_end || host_end[1] != ':')
			return FS_ERR_INVALID;
		host_start = text + 1;
		colon = host_end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return FS_ERR_INVALID;
		host_end = colon;
	}
	if ((size_t)(host_end - host_start) >= host_len || colon[1] == '\0')
		return FS_ERR_INVALID;
	n = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || n > 65535 || colon[1] == '-' || colon[1] == '+')
		return FS_ERR_INVALID;
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';
	*port = (uint16_t)n;
	return 0;
}

static enum MHD_Result
respond(struct MHD_Connection *connection, unsigned int status,
	const char *content_type, char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *response;
	enum MHD_Result rc;

	response = MHD_create_response_from_buffer(len, body, mode);
	if (!response) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	rc = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return rc;
}

static enum MHD_Result
respond_text(struct MHD_Connection *connection, unsigned int status, const char *text)
{
	return respond(connection, status, "text/plain; charset=utf-8", (char *)text,
		       strlen(text), MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result
serve_ready(struct fs_metrics_server *server, struct MHD_Connection *connection)
{
	char reason[256] = "";
	char body[300];

	if (!server->ready || server->ready(server->opaque, reason, sizeof(reason)))
		return respond_text(connection, MHD_HTTP_OK, "ready\n");
	snprintf(body, sizeof(body), "not ready: %s\n", reason[0] ? reason : "unknown");
	return respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *connection, const char *url,
	       const char *method, const char *version, const char *upload_data,
	       size_t *upload_data_size, void **request_state)
{
	struct fs_metrics_server *server = cls;
	char *body;
	size_t len;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)request_state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "only GET and HEAD are served\n");
	if (strcmp(url, "/metrics") == 0) {
		if (fs_metrics_render(server->metrics, &body, &len) < 0)
			return respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
					    "out of memory\n");
		return respond(connection, MHD_HTTP_OK, EXPOSITION_TYPE, body, len,
			       MHD_RESPMEM_MUST_FREE);
	}
	if (strcmp(url, "/healthz") == 0)
		return respond_text(connection, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/readyz") == 0)
		return serve_ready(server, connection);
	return respond_text(connection, MHD_HTTP_NOT_FOUND,
			    "not found: the paths are /metrics, /healthz and /readyz\n");
}

/*
 * Routes libmicrohttpd's own messages (bind failures, broken clients,
 * connections rejected by a limit) to fs_log, rate-limited because a client
 * that opens connections in a loop produces one message per connection.
 */
static void
log_mhd(void *cls, const char *fmt, va_list ap)
{
	struct fs_metrics_server *server = cls;
	char message[512];
	size_t n;

	vsnprintf(message, sizeof(message), fmt, ap);
	n = strlen(message);
	while (n > 0 && message[n - 1] == '\n')
		message[--n] = '\0';
	/* libmicrohttpd 0.9.75 words the total and the per-address limit alike. */
	if (strstr(message, "connection limit") != NULL)
		fs_log_limited(&server->log_limit, FS_LOG_WARNING, "metrics",
			       "http server rejected a connection: at most %d connections, %d per client address, idle ones closed after %d s",
			       CONNECTIONS_MAX, CONNECTIONS_PER_IP_MAX, IDLE_TIMEOUT_S);
	else
		fs_log_limited(&server->log_limit, FS_LOG_WARNING, "metrics", "http server: %s",
			       message);
}

int
fs_http_listen_resolve(const char *listen, struct sockaddr_storage *addr, char *err,
		       size_t err_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *found = NULL;
	char host[256], service[8];
	uint16_t port;
	int rc;

	if (fs_hostport_parse(listen, host, sizeof(host), &port) < 0) {
		snprintf(err, err_len, "'%s' is not host:port or [ipv6]:port with a port of 0..65535",
			 listen);
		return FS_ERR_INVALID;
	}
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host[0] ? host : NULL, service, &hints, &found);
	if (rc != 0) {
		snprintf(err, err_len, "cannot resolve '%s': %s", listen, gai_strerror(rc));
		return FS_ERR_INVALID;
	}
	memcpy(addr, found->ai_addr, found->ai_addrlen);
	freeaddrinfo(found);
	return 0;
}

int
fs_metrics_server_start(struct fs_metrics_server **out, const char *listen,
			struct fs_metrics *metrics, fs_ready_fn *ready, void *opaque,
			char *err, size_t err_len)
{
	struct fs_metrics_server *server;
	struct sockaddr_storage addr = { 0 };
	const union MHD_DaemonInfo *info;
	/*
	 * Uses poll() because select(), the libmicrohttpd default, cannot watch
	 * descriptors at or above FD_SETSIZE (1024).  With select(), requests on
	 * such descriptors were reset, for example in an ingest with more than
	 * 1000 IPFIX-over-TCP connections open.
	 */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	char reason[512];
	int rc;

	*out = NULL;
	rc = fs_http_listen_resolve(listen, &addr, reason, sizeof(reason));
	if (rc < 0) {
		snprintf(err, err_len, "invalid metrics listen address (the worker's *.metrics.listen key): %s",
			 reason);
		return rc;
	}
	server = calloc(1, sizeof(*server));
	if (!server) {
		snprintf(err, err_len, "out of memory for the metrics server");
		return FS_ERR_SYSTEM;
	}
	server->metrics = metrics;
	server->ready = ready;
	server->opaque = opaque;
	server->log_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* With MHD_OPTION_SOCK_ADDR the port argument is ignored. */
	server->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, handle_request, server,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, server,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTIONS_MAX,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)CONNECTIONS_PER_IP_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
		MHD_OPTION_END);
	if (!server->daemon) {
		snprintf(err, err_len,
			 "cannot serve metrics on '%s' (address in use or not local?)", listen);
		free(server);
		return FS_ERR_SYSTEM;
	}
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	server->port = info ? info->port : 0;
	*out = server;
	return 0;
}

uint16_t
fs_metrics_server_port(const struct fs_metrics_server *server)
{
	return server->port;
}

void
fs_metrics_server_stop(struct fs_metrics_server *server)
{
	if (!server)
		return;
	MHD_stop_daemon(server->daemon);
	free(server);
}
