/*
 * conn_limit.h - opens idle TCP connections and sends requests from a chosen
 * loopback source address, for tests of per-address connection limits.
 *
 * Every address here is a loopback address (127.0.0.0/8), so a client can
 * bind 127.0.0.2 as its source and reach a server on 127.0.0.1.  Nothing
 * here asserts: the callers decide what a failure means.
 */
#ifndef FS_TEST_CONN_LIMIT_H
#define FS_TEST_CONN_LIMIT_H

#include <stdint.h>

/*
 * Connects from source (a 127.x.y.z address) to 127.0.0.1:port and returns
 * the socket, or -1.  The connection sends nothing until the caller does.
 */
int fs_test_connect_from(const char *source, uint16_t port);

/*
 * Sends GET path over HTTP/1.0 from source to 127.0.0.1:port and returns the
 * response status, or 0 when the server closed the connection without a
 * response (as a server does when a connection limit rejects it) or the
 * connection failed.  Reads wait at most 30 s.
 */
int fs_test_status_from(const char *source, uint16_t port, const char *path);

/*
 * Sends the request of fs_test_status_from() every 50 ms until the status is
 * want, at most timeout_ms.  Returns the last status.  A server may give a
 * connection slot back a moment after it closed the connection (its cleanup
 * runs on a later turn of its event loop), so a test that expects a freed
 * slot sends its request more than once.
 */
int fs_test_status_within(const char *source, uint16_t port, const char *path, int want,
			  int timeout_ms);

/*
 * Waits until the server closes the connection fd (a read returns 0 or an
 * error), at most timeout_ms.  Returns 0 when it closed, -1 on time-out.
 */
int fs_test_wait_closed(int fd, int timeout_ms);

/*
 * Opens n idle connections from source into idle[] and returns the status of
 * one more request from source, as fs_test_status_from() gives it.  A round
 * that takes idle_timeout_ms or longer proves nothing, because the server may
 * have closed an idle connection before the extra request arrived (a loaded
 * machine can stall a test for seconds).  Such a round is repeated, after the
 * idle connections are closed and the server serves source again, up to five
 * times.  Returns -1 when every round was that slow or a connection failed;
 * the caller owns the idle[] sockets only when the return is not -1.
 */
int fs_test_status_over_limit(const char *source, uint16_t port, const char *path, int *idle,
			      int n, int idle_timeout_ms);

#endif
