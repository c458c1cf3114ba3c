/* probe.c - TCP reachability probes with a timeout. */
#include "metrics/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/result.h"
#include "metrics/http_server.h"

/* Connects to one resolved address without blocking past timeout_ms; returns 0 or an errno value. */
static int
connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, error = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		error = errno;
		goto out;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, timeout_ms) <= 0) {
		error = ETIMEDOUT;
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
		error = errno;
out:
	close(fd);
	return error;
}

static int
probe_one(const char *address, int timeout_ms, char *reason, size_t reason_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *found = NULL;
	char host[256], service[8];
	uint16_t port;
	int rc, error = ENOENT;

	if (fs_hostport_parse(address, host, sizeof(host), &port) < 0 || host[0] == '\0') {
		snprintf(reason, reason_len, "invalid address '%s': expected host:port", address);
		return FS_ERR_INVALID;
	}
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &found);
	if (rc != 0) {
		snprintf(reason, reason_len, "cannot resolve '%s': %s", address, gai_strerror(rc));
		return FS_ERR_NOT_FOUND;
	}
	for (const struct addrinfo *ai = found; ai; ai = ai->ai_next) {
		error = connect_one(ai, timeout_ms);
		if (error == 0)
			break;
	}
	freeaddrinfo(found);
	if (error == 0)
		return 0;
	if (error == ETIMEDOUT)
		snprintf(reason, reason_len, "cannot connect to '%s': timed out after %d ms", address,
			 timeout_ms);
	else
		snprintf(reason, reason_len, "cannot connect to '%s': %s", address, strerror(error));
	return FS_ERR_NOT_FOUND;
}

int
fs_probe_tcp(const char *addresses, int timeout_ms, char *reason, size_t reason_len)
{
	const char *p = addresses;
	int rc = FS_ERR_INVALID;

	snprintf(reason, reason_len, "no address to probe");
	while (*p) {
		char address[300];
		size_t n = strcspn(p, ",");

		while (n > 0 && *p == ' ') {
			p++;
			n--;
		}
		if (n >= sizeof(address)) {
			snprintf(reason, reason_len, "address longer than %zu bytes", sizeof(address) - 1);
			return FS_ERR_INVALID;
		}
		memcpy(address, p, n);
		address[n] = '\0';
		if (n > 0) {
			/* librdkafka accepts "SASL_SSL://host:port"; the probe needs host:port. */
			const char *scheme_end = strstr(address, "://");

			rc = probe_one(scheme_end ? scheme_end + 3 : address, timeout_ms,
				       reason, reason_len);
			if (rc == 0)
				return 0;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return rc;
}
