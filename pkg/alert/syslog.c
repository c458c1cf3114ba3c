/* syslog.c - RFC 5424 messages over UDP datagrams or octet-counted TCP. */
#include "alert/syslog.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/result.h"

#define HOST_MAX 256
#define APP_MAX 48

struct fs_syslog {
	bool tcp;
	int fd;
	int facility;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int64_t next_connect_s;
	char hostname[HOST_MAX];
	char app_name[APP_MAX];
	char target[HOST_MAX + 16];
	struct fs_syslog_stats stats;
	struct fs_ratelimit limit;
	char buf[FS_SYSLOG_MAX_MESSAGE + 512];
};

/* Splits "HOST:PORT" or "[V6]:PORT" into host and port. */
static int
split_host_port(const char *text, char *host, size_t host_len, const char **port)
{
	const char *colon;
	size_t n;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return FS_ERR_INVALID;
		n = (size_t)(close - text - 1);
		text++;
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return FS_ERR_INVALID;
		n = (size_t)(colon - text);
	}
	if (n == 0 || n >= host_len || colon[1] == '\0')
		return FS_ERR_INVALID;
	memcpy(host, text, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

/* Returns true when port is a decimal number 1..65535 (getaddrinfo() would wrap 99999). */
static bool
port_ok(const char *port)
{
	char *end;
	long v = strtol(port, &end, 10);

	return end != port && *end == '\0' && port[0] >= '0' && port[0] <= '9' && v >= 1 &&
	       v <= 65535;
}

struct fs_syslog *
fs_syslog_new(const char *target, int facility, const char *app_name, char *err, size_t err_len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res = NULL;
	struct fs_syslog *s;
	char host[HOST_MAX];
	const char *port;
	bool tcp;
	int rc;

	if (strncmp(target, "udp://", 6) == 0) {
		tcp = false;
	} else if (strncmp(target, "tcp://", 6) == 0) {
		tcp = true;
	} else {
		snprintf(err, err_len, "syslog target '%s' must start with udp:// or tcp://, "
			 "for example udp://siem.example:514", target);
		return NULL;
	}
	if (split_host_port(target + 6, host, sizeof(host), &port) < 0 || !port_ok(port)) {
		snprintf(err, err_len, "syslog target '%s' is not udp://HOST:PORT or tcp://HOST:PORT "
			 "with a port of 1 to 65535", target);
		return NULL;
	}
	if (facility < 0 || facility > 23) {
		snprintf(err, err_len, "syslog facility %d is out of range 0..23", facility);
		return NULL;
	}
	hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, err_len, "cannot resolve syslog target '%s': %s", target,
			 gai_strerror(rc));
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		freeaddrinfo(res);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	s->tcp = tcp;
	s->fd = -1;
	s->facility = facility;
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	if (gethostname(s->hostname, sizeof(s->hostname)) != 0 || s->hostname[0] == '\0')
		snprintf(s->hostname, sizeof(s->hostname), "-");
	s->hostname[sizeof(s->hostname) - 1] = '\0';
	snprintf(s->app_name, sizeof(s->app_name), "%s", app_name[0] ? app_name : "-");
	snprintf(s->target, sizeof(s->target), "%s", target);
	s->limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 3);
	return s;
}

void
fs_syslog_free(struct fs_syslog *sender)
{
	if (!sender)
		return;
	if (sender->fd >= 0)
		close(sender->fd);
	free(sender);
}

static void
drop_connection(struct fs_syslog *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Opens the socket (and for TCP the connection) when there is none. */
static int
ensure_socket(struct fs_syslog *s)
{
	struct pollfd pfd;
	int fd, soerr = 0;
	socklen_t len = sizeof(soerr);
	time_t now = time(NULL);

	if (s->fd >= 0)
		return 0;
	if (now < s->next_connect_s)
		return FS_ERR_SYSTEM;
	s->next_connect_s = now + FS_SYSLOG_RETRY_S;
	fd = socket(s->addr.ss_family, (s->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return FS_ERR_SYSTEM;
	if (!s->tcp) {
		s->fd = fd;
		return 0;
	}
	/* A non-blocking connect bounded by the timeout, then blocking sends. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len) != 0 && errno != EINPROGRESS)
		goto fail;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, FS_SYSLOG_TIMEOUT_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
		errno = soerr ? soerr : ETIMEDOUT;
		goto fail;
	}
	fcntl(fd, F_SETFL, 0);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO,
		   &(struct timeval){ .tv_sec = FS_SYSLOG_TIMEOUT_MS / 1000,
				      .tv_usec = FS_SYSLOG_TIMEOUT_MS % 1000 * 1000 },
		   sizeof(struct timeval));
	s->fd = fd;
	s->stats.connects++;
	return 0;
fail:
	fs_log_limited(&s->limit, FS_LOG_WARNING, "syslog", "cannot connect to %s: %s; retrying in %d s",
		       s->target, strerror(errno), FS_SYSLOG_RETRY_S);
	close(fd);
	return FS_ERR_SYSTEM;
}

/* Writes the whole buffer; returns 0 or -1. */
static int
send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fs_syslog_send(struct fs_syslog *s, enum fs_syslog_severity severity, const char *msgid,
	       const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char stamp[40], frame[24];
	size_t msg_len = strnlen(msg, FS_SYSLOG_MAX_MESSAGE);
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(s->buf, sizeof(s->buf), "<%d>1 %s.%03ldZ %s %s %d %s - %.*s",
		     s->facility * 8 + (int)severity, stamp, ts.tv_nsec / 1000000, s->hostname,
		     s->app_name, (int)getpid(), msgid, (int)msg_len, msg);
	if (n < 0 || (size_t)n >= sizeof(s->buf))
		n = (int)sizeof(s->buf) - 1;
	if (ensure_socket(s) < 0)
		goto dropped;
	if (!s->tcp) {
		if (sendto(s->fd, s->buf, (size_t)n, 0, (struct sockaddr *)&s->addr, s->addr_len) != n)
			goto failed;
	} else {
		int flen = snprintf(frame, sizeof(frame), "%d ", n);

		if (send_all(s->fd, frame, (size_t)flen) < 0 || send_all(s->fd, s->buf, (size_t)n) < 0)
			goto failed;
	}
	s->stats.sent++;
	return 0;
failed:
	fs_log_limited(&s->limit, FS_LOG_WARNING, "syslog", "sending to %s failed: %s",
		       s->target, strerror(errno));
	drop_connection(s);
	/* A broken TCP connection is retried at the next message. */
	s->next_connect_s = 0;
dropped:
	s->stats.dropped++;
	return FS_ERR_SYSTEM;
}

void
fs_syslog_stats(const struct fs_syslog *sender, struct fs_syslog_stats *out)
{
	*out = sender->stats;
}
