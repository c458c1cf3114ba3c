/*
 * http_server.h - the HTTP endpoint every worker serves for Prometheus and
 * for Kubernetes probes, built on GNU libmicrohttpd.
 *
 *   GET /metrics  200, the registry in the text exposition format 0.0.4
 *   GET /healthz  200 "ok": the process is alive and its HTTP thread answers
 *   GET /readyz   200 "ready", or 503 "not ready: <reason>" when the
 *                 worker's readiness callback says so (broker or Redis
 *                 unreachable, shutting down)
 *
 * Any other path is 404 and any method other than GET or HEAD is 405.
 * The server keeps at most 64 connections, 8 of them per client address.
 * It closes a connection that is idle for 10 s and logs rejected
 * connections, rate-limited.
 * The server answers on one thread of its own, which libmicrohttpd starts;
 * the readiness callback and the rendering of the registry run there, so the
 * callback must be quick and thread-safe (read atomics the worker updates,
 * or do a short probe with its own timeout).
 */
#ifndef FS_METRICS_HTTP_SERVER_H
#define FS_METRICS_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct fs_metrics;
struct fs_metrics_server;

/*
 * Returns 1 when the worker is ready to receive traffic, or 0 with a short
 * reason written into reason (reason_len bytes).  Runs on the server's
 * thread; opaque is the pointer given to fs_metrics_server_start().
 */
typedef int fs_ready_fn(void *opaque, char *reason, size_t reason_len);

/*
 * Starts serving metrics (borrowed: it must outlive the server) on listen,
 * "host:port" or "[ipv6]:port"; port 0 picks a free port (see
 * fs_metrics_server_port()).  ready may be NULL, and then /readyz matches
 * /healthz.  Returns 0 and stores the server in *out, or a negative fs_result
 * with the address and reason in err.  Stop with fs_metrics_server_stop().
 */
int fs_metrics_server_start(struct fs_metrics_server **out, const char *listen,
			    struct fs_metrics *metrics, fs_ready_fn *ready,
			    void *opaque, char *err, size_t err_len);

/* Returns the bound TCP port. */
uint16_t fs_metrics_server_port(const struct fs_metrics_server *server);

/* Stops the server, waiting for a request in progress, and frees it.  server may be NULL. */
void fs_metrics_server_stop(struct fs_metrics_server *server);

/*
 * Parses "host:port" or "[ipv6]:port" into host (without brackets) and port.
 * Returns 0, or FS_ERR_INVALID when the text has no port, the port is not
 * 0..65535 or host does not fit host_len.  Shared by the readiness probes.
 */
int fs_hostport_parse(const char *text, char *host, size_t host_len,
		      uint16_t *port);

/*
 * Parses listen ("host:port" or "[ipv6]:port"; an empty host is every
 * address) with fs_hostport_parse() and resolves it for a listening TCP
 * socket into addr.  Shared by the metrics server, flowsift-console and
 * `flowsift config check`.  Returns 0, or FS_ERR_INVALID with the reason in
 * err, which quotes listen but not the key that contains it.
 */
int fs_http_listen_resolve(const char *listen, struct sockaddr_storage *addr, char *err,
			   size_t err_len);

#endif
