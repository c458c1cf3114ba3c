/* conn_limit.c - idle connections and requests from chosen loopback addresses. */
#include "conn_limit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int
fs_test_connect_from(const char *source, uint16_t port)
{
	struct sockaddr_in local = { .sin_family = AF_INET };
	struct sockaddr_in remote = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd;

	if (inet_pton(AF_INET, source, &local.sin_addr) != 1)
		return -1;
	remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0 ||
	    connect(fd, (struct sockaddr *)&remote, sizeof(remote)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
fs_test_status_from(const char *source, uint16_t port, const char *path)
{
	struct timeval timeout = { .tv_sec = 30 };
	char request[256], response[256];
	size_t len = 0;
	int status = 0;
	int fd = fs_test_connect_from(source, port);

	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	/* A write to a connection the server already closed may fail: that is a status of 0. */
	if (write(fd, request, strlen(request)) == (ssize_t)strlen(request)) {
		while (len < sizeof(response) - 1) {
			ssize_t n = read(fd, response + len, sizeof(response) - 1 - len);

			if (n <= 0)
				break;
			len += (size_t)n;
		}
	}
	close(fd);
	response[len] = '\0';
	if (sscanf(response, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	return status;
}

int
fs_test_status_within(const char *source, uint16_t port, const char *path, int want,
		      int timeout_ms)
{
	int status = fs_test_status_from(source, port, path);

	for (int waited = 0; status != want && waited < timeout_ms; waited += 50) {
		usleep(50 * 1000);
		status = fs_test_status_from(source, port, path);
	}
	return status;
}

int
fs_test_wait_closed(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char byte;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	return read(fd, &byte, 1) > 0 ? -1 : 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
fs_test_status_over_limit(const char *source, uint16_t port, const char *path, int *idle,
			  int n, int idle_timeout_ms)
{
	for (int round = 0; round < 5; round++) {
		long long start = now_ms();
		int opened = 0, status;

		while (opened < n && (idle[opened] = fs_test_connect_from(source, port)) >= 0)
			opened++;
		status = opened == n ? fs_test_status_from(source, port, path) : -1;
		if (status != -1 && now_ms() - start < idle_timeout_ms)
			return status;
		for (int i = 0; i < opened; i++)
			close(idle[i]);
		if (status == -1)
			return -1;
		/* The server frees the closed slots on a later turn of its event loop. */
		if (fs_test_status_within(source, port, path, 200, 30000) != 200)
			return -1;
	}
	return -1;
}
