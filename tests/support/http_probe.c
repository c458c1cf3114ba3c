/* http_probe.c - HTTP requests to the workers' metrics servers for tests. */
#include "http_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Returns port when a 127.0.0.1 socket of type can bind it now, else 0. */
static uint16_t
try_port(int type, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0);
	uint16_t got = 0;

	if (fd < 0)
		return 0;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		got = ntohs(sin.sin_port);
	close(fd);
	return got;
}

/* Returns the first port of the kernel's ephemeral range, or 0 when unknown. */
static unsigned
ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned low = 0, high = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%u %u", &low, &high) != 2)
		low = 0;
	fclose(f);
	return low;
}

/*
 * A port that the kernel hands out (bind to port 0) comes from its
 * ephemeral range, from which outgoing connections also take their local
 * ports: a Kafka client connecting between this check and the tested
 * program's bind took such a port, and the program failed with "Address
 * already in use".  So ports come from the 10,000 below that range, in an
 * order that differs per process, and the kernel's choice is the fallback.
 */
uint16_t
fs_test_free_port(int type)
{
	static unsigned next;
	unsigned low = ephemeral_low();

	if (next == 0)
		next = (unsigned)getpid() * 7919u + (unsigned)time(NULL);
	if (low > 11024) {
		for (int tries = 0; tries < 1000; tries++) {
			uint16_t port = (uint16_t)(low - 10000 + next++ % 10000);

			if (try_port(type, port) == port)
				return port;
		}
	}
	return try_port(type, 0);
}

int64_t
fs_test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
fs_test_http_get(uint16_t port, const char *path)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval timeout = { .tv_sec = 10 };
	char request[256];
	char *response = NULL;
	size_t len = 0, cap = 0;
	int fd;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		goto fail;
	snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, request, strlen(request)) != (ssize_t)strlen(request))
		goto fail;
	for (;;) {
		ssize_t n;

		if (len + 4096 + 1 > cap) {
			char *grown;

			cap = cap ? cap * 2 : 16384;
			grown = realloc(response, cap);
			if (!grown)
				goto fail;
			response = grown;
		}
		n = read(fd, response + len, cap - len - 1);
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!response)
		return NULL;
	response[len] = '\0';
	return response;
fail:
	close(fd);
	free(response);
	return NULL;
}

int
fs_test_http_status(uint16_t port, const char *path)
{
	char *response = fs_test_http_get(port, path);
	int status = 0;

	if (response && sscanf(response, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	free(response);
	return status;
}

int
fs_test_wait_status(uint16_t port, const char *path, int want, int timeout_ms)
{
	int64_t deadline = fs_test_now_ms() + timeout_ms;
	int status;

	while ((status = fs_test_http_status(port, path)) != want &&
	       fs_test_now_ms() < deadline)
		usleep(100000);
	return status;
}

long long
fs_test_metric(uint16_t port, const char *series)
{
	char *response = fs_test_http_get(port, "/metrics");
	char prefix[256];
	const char *line;
	long long value = -1;

	if (!response)
		return -1;
	/* Every sample line follows a newline: the headers or a HELP/TYPE line come first. */
	snprintf(prefix, sizeof(prefix), "\n%s ", series);
	line = strstr(response, prefix);
	if (line)
		value = strtoll(line + strlen(prefix), NULL, 10);
	free(response);
	return value;
}

long long
fs_test_wait_metric(uint16_t port, const char *series, long long min, int timeout_ms)
{
	int64_t deadline = fs_test_now_ms() + timeout_ms;
	long long value;

	while ((value = fs_test_metric(port, series)) < min && fs_test_now_ms() < deadline)
		usleep(100000);
	return value;
}
