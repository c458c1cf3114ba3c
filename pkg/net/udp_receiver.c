/* udp_receiver.c - batched UDP receive with recvmmsg(2). */
#include "net/udp_receiver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/result.h"

struct fs_udp_receiver {
	int fds[FS_UDP_MAX_SOCKETS];
	size_t nfds;
	struct fs_udp_stats stats;
	struct fs_ratelimit error_limit;
	/* The kernel's drop count (SO_RXQ_OVFL) last seen on each socket; it wraps at 2^32. */
	uint32_t kernel_drops_seen[FS_UDP_MAX_SOCKETS];
	/* One batch of buffers, reused by every socket in turn. */
	struct mmsghdr msgs[FS_UDP_BATCH];
	struct iovec iovs[FS_UDP_BATCH];
	struct sockaddr_storage peers[FS_UDP_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} controls[FS_UDP_BATCH];
	uint8_t buffers[FS_UDP_BATCH][FS_UDP_MAX_DATAGRAM + 1];
};

/* Splits "host:port" or "[v6]:port" into a socket address. */
static int
parse_address(const char *text, struct sockaddr_storage *ss, socklen_t *ss_len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	char *end;
	unsigned long port;
	size_t host_len;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -1;
		host_len = (size_t)(close - text - 1);
		if (host_len >= sizeof(host))
			return -1;
		memcpy(host, text + 1, host_len);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -1;
		host_len = (size_t)(colon - text);
		if (host_len >= sizeof(host))
			return -1;
		memcpy(host, text, host_len);
	}
	host[host_len] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end != '\0' || end == colon + 1 || port > 65535)
		return -1;

	memset(ss, 0, sizeof(*ss));
	if (host_len == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*ss_len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*ss_len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static int
open_socket(const char *text, int rcvbuf, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t ss_len;
	int fd, one = 1;

	if (parse_address(text, &ss, &ss_len) < 0) {
		snprintf(err, err_len,
			 "invalid listen address '%s': expected host:port or [ipv6]:port", text);
		return FS_ERR_INVALID;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "socket for '%s' failed: %s", text, strerror(errno));
		return FS_ERR_SYSTEM;
	}
	/* No SO_REUSEADDR: on Linux it lets a second process bind the same UDP
	 * port and take every datagram from the first without an error. */
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Asks the kernel to attach its count of datagrams dropped on a full buffer. */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
		fs_log(FS_LOG_WARNING, "udp", "cannot enable SO_RXQ_OVFL on %s: %s; "
		       "kernel drops will not be counted", text, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		fs_log(FS_LOG_WARNING, "udp", "cannot set SO_RCVBUF to %d on %s: %s",
		       rcvbuf, text, strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, ss_len) < 0) {
		snprintf(err, err_len, "bind to '%s' failed: %s", text, strerror(errno));
		close(fd);
		return FS_ERR_SYSTEM;
	}
	return fd;
}

int
fs_udp_receiver_new(struct fs_udp_receiver **out, const char *listen, int rcvbuf,
		    char *err, size_t err_len)
{
	struct fs_udp_receiver *receiver;
	char *list = NULL, *save = NULL;
	int rc = 0;

	*out = NULL;
	receiver = calloc(1, sizeof(*receiver));
	list = strdup(listen);
	if (!receiver || !list) {
		snprintf(err, err_len, "out of memory");
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	receiver->error_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	for (char *item = strtok_r(list, ", ", &save); item;
	     item = strtok_r(NULL, ", ", &save)) {
		int fd;

		if (receiver->nfds == FS_UDP_MAX_SOCKETS) {
			snprintf(err, err_len, "too many listen addresses (at most %d)",
				 FS_UDP_MAX_SOCKETS);
			rc = FS_ERR_INVALID;
			goto out;
		}
		fd = open_socket(item, rcvbuf, err, err_len);
		if (fd < 0) {
			rc = fd;
			goto out;
		}
		receiver->fds[receiver->nfds++] = fd;
	}
	if (receiver->nfds == 0) {
		snprintf(err, err_len, "no listen address given");
		rc = FS_ERR_INVALID;
	}
out:
	free(list);
	if (rc < 0) {
		fs_udp_receiver_free(receiver);
		return rc;
	}
	*out = receiver;
	return 0;
}

void
fs_udp_receiver_free(struct fs_udp_receiver *receiver)
{
	if (!receiver)
		return;
	for (size_t i = 0; i < receiver->nfds; i++)
		close(receiver->fds[i]);
	free(receiver);
}

static void
peer_to_addr(const struct sockaddr_storage *ss, struct fs_addr *addr, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		fs_addr_set_v4(addr, (const uint8_t *)&sin->sin_addr);
		*port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		/* IPv4-mapped senders on a dual-stack socket are reported as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			fs_addr_set_v4(addr, (const uint8_t *)&sin6->sin6_addr + 12);
		else
			fs_addr_set_v6(addr, (const uint8_t *)&sin6->sin6_addr);
		*port = ntohs(sin6->sin6_port);
	}
}

/* Adds the growth of the socket's kernel drop count carried by msg, if any, to the stats. */
static void
count_kernel_drops(struct fs_udp_receiver *receiver, size_t socket_index,
		   struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		uint32_t drops;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL ||
		    c->cmsg_len < CMSG_LEN(sizeof(drops)))
			continue;
		memcpy(&drops, CMSG_DATA(c), sizeof(drops));
		/* Unsigned subtraction handles the wrap at 2^32. */
		receiver->stats.kernel_drops += (uint32_t)(drops - receiver->kernel_drops_seen[socket_index]);
		receiver->kernel_drops_seen[socket_index] = drops;
	}
}

static int
read_batch(struct fs_udp_receiver *receiver, size_t socket_index,
	   fs_udp_datagram_fn *fn, void *opaque)
{
	int fd = receiver->fds[socket_index];
	struct timespec now;
	int64_t now_ns;
	int n;

	for (int i = 0; i < FS_UDP_BATCH; i++) {
		receiver->iovs[i].iov_base = receiver->buffers[i];
		receiver->iovs[i].iov_len = sizeof(receiver->buffers[i]);
		memset(&receiver->msgs[i].msg_hdr, 0, sizeof(receiver->msgs[i].msg_hdr));
		receiver->msgs[i].msg_hdr.msg_iov = &receiver->iovs[i];
		receiver->msgs[i].msg_hdr.msg_iovlen = 1;
		receiver->msgs[i].msg_hdr.msg_name = &receiver->peers[i];
		receiver->msgs[i].msg_hdr.msg_namelen = sizeof(receiver->peers[i]);
		receiver->msgs[i].msg_hdr.msg_control = receiver->controls[i].buf;
		receiver->msgs[i].msg_hdr.msg_controllen = sizeof(receiver->controls[i].buf);
	}
	n = recvmmsg(fd, receiver->msgs, FS_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			receiver->stats.errors++;
			fs_log_limited(&receiver->error_limit, FS_LOG_WARNING, "udp",
				       "recvmmsg failed: %s", strerror(errno));
		}
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	for (int i = 0; i < n; i++) {
		size_t len = receiver->msgs[i].msg_len;
		struct fs_addr exporter;
		uint16_t port;

		count_kernel_drops(receiver, socket_index, &receiver->msgs[i].msg_hdr);
		if (len > FS_UDP_MAX_DATAGRAM || (receiver->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
			receiver->stats.truncated++;
			continue;
		}
		peer_to_addr(&receiver->peers[i], &exporter, &port);
		receiver->stats.datagrams++;
		receiver->stats.bytes += len;
		fn(receiver->buffers[i], len, &exporter, port, now_ns, opaque);
	}
	return n;
}

int
fs_udp_receiver_poll(struct fs_udp_receiver *receiver, int timeout_ms,
		     fs_udp_datagram_fn *fn, void *opaque)
{
	struct pollfd pfds[FS_UDP_MAX_SOCKETS];
	int ready, total = 0;

	for (size_t i = 0; i < receiver->nfds; i++) {
		pfds[i].fd = receiver->fds[i];
		pfds[i].events = POLLIN;
		pfds[i].revents = 0;
	}
	ready = poll(pfds, receiver->nfds, timeout_ms);
	if (ready < 0)
		return errno == EINTR ? 0 : FS_ERR_SYSTEM;
	for (size_t i = 0; i < receiver->nfds && ready > 0; i++) {
		if (pfds[i].revents & POLLIN)
			total += read_batch(receiver, i, fn, opaque);
	}
	return total;
}

uint16_t
fs_udp_receiver_port(const struct fs_udp_receiver *receiver, size_t i)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (i >= receiver->nfds ||
	    getsockname(receiver->fds[i], (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

const struct fs_udp_stats *
fs_udp_receiver_stats(const struct fs_udp_receiver *receiver)
{
	return &receiver->stats;
}
