/*
 * http_probe.h - reads the /metrics, /healthz and /readyz of a worker from tests.
 *
 * Every request goes to 127.0.0.1:port over HTTP/1.0 and reads the whole
 * response.  Nothing here asserts: the callers decide what a missing response
 * means.
 */
#ifndef FS_TEST_HTTP_PROBE_H
#define FS_TEST_HTTP_PROBE_H

#include <stdint.h>

/* Returns a free 127.0.0.1 port of socket type (SOCK_STREAM or SOCK_DGRAM), or 0. */
uint16_t fs_test_free_port(int type);

/* Returns the monotonic clock in milliseconds. */
int64_t fs_test_now_ms(void);

/*
 * Sends GET path to 127.0.0.1:port.  Returns the whole response, headers
 * included (caller frees), or NULL when nothing accepts the connection.
 */
char *fs_test_http_get(uint16_t port, const char *path);

/* Returns the HTTP status of GET path, or 0 when no server accepts the connection. */
int fs_test_http_status(uint16_t port, const char *path);

/* Polls GET path every 100 ms until it returns want or timeout_ms passes.  Returns the last status. */
int fs_test_wait_status(uint16_t port, const char *path, int want, int timeout_ms);

/*
 * Returns the value of the /metrics sample whose name and labels are exactly
 * series (`name` or `name{label="value"}`), or -1 when the server does not
 * respond or has no such sample.
 */
long long fs_test_metric(uint16_t port, const char *series);

/*
 * Polls the sample every 100 ms until it is at least min or timeout_ms
 * passes.  Returns the last value read (-1 when none).
 */
long long fs_test_wait_metric(uint16_t port, const char *series, long long min,
			      int timeout_ms);

#endif
