/* udp_receiver.c - batched UDP receive with recvmmsg(2). */
#include "net/udp_receiver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"

struct fs_udp_receiver {
	int fds[FS_UDP_MAX_SOCKETS];
	size_t nfds;
	struct fs_udp_stats stats;
	struct fs_ratelimit error_limit;
	int rcvbuf;                /* smallest receive buffer of the sockets, as the kernel reports it */
	/* The kernel's drop count (SO_RXQ_OVFL, SO_MEMINFO) last seen on each socket, wrapping at 2^32. */
	uint32_t kernel_drops_seen[FS_UDP_MAX_SOCKETS];
	int64_t drops_read_ns;     /* monotonic time of the last read_idle_drops() */
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

/*
 * The steering hash: the source address folded to 32 bits (IPv6: the XOR
 * of its four words), multiplied by the 32-bit golden-ratio constant, the
 * upper 16 bits kept, modulo the group size.  Classic BPF arithmetic is
 * 32-bit, so the user-space copy uses uint32_t throughout.
 */
#define STEER_MULTIPLIER 0x9E3779B1u
/* How often a busy receiver reads the drop counts of all its sockets. */
#define DROPS_READ_INTERVAL_NS 1000000000LL

static uint32_t
steer_hash(uint32_t folded, uint32_t count)
{
	return ((folded * STEER_MULTIPLIER) >> 16) % count;
}

static uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t
fs_udp_steer_index(const struct fs_addr *exporter, size_t count)
{
	uint32_t folded;

	if (count <= 1)
		return 0;
	if (exporter->family == 4) {
		folded = load_be32(exporter->bytes);
	} else {
		folded = load_be32(exporter->bytes) ^ load_be32(exporter->bytes + 4) ^
			 load_be32(exporter->bytes + 8) ^ load_be32(exporter->bytes + 12);
	}
	return steer_hash(folded, (uint32_t)count);
}

/*
 * Attaches the steering program to fd's reuseport group.  The program reads
 * the source address relative to the network header (SKF_NET_OFF), because
 * for UDP the kernel runs it with the data pointer at the UDP payload.  It
 * returns the socket's index in the group, which is the order the sockets
 * were bound in.
 */
static int
attach_steering(int fd, uint32_t count)
{
	struct sock_filter code[] = {
		/* 0: A = IP version */
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 2, 0),
		/* 3: IPv4 source address at offset 12 */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
		BPF_JUMP(BPF_JMP | BPF_JA, 10, 0, 0),
		/* 5: IPv6 source address at offset 8, four words XORed */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 8),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 16),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 20),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		/* 15: the hash of steer_hash() */
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, STEER_MULTIPLIER),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, count),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

/*
 * Sets the receive buffer of fd to rcvbuf bytes and returns the size the
 * kernel reports.  Linux caps the request at net.core.rmem_max, then doubles
 * it for its overhead per datagram.
 */
static int
set_rcvbuf(int fd, const char *text, int rcvbuf)
{
	int got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		fs_log(FS_LOG_WARNING, "udp", "cannot set SO_RCVBUF to %d on %s: %s",
		       rcvbuf, text, strerror(errno));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
		return 0;
	return got;
}

/*
 * Logs one warning when the smallest receive buffer of the group is smaller
 * than requested, because a burst then fills it sooner.  One line covers
 * every socket: net.core.rmem_max caps them all alike.
 */
static void
warn_small_rcvbuf(struct fs_udp_receiver **receivers, size_t count, const char *listen,
		  int rcvbuf)
{
	int smallest = 0;

	for (size_t i = 0; i < count; i++)
		if (smallest == 0 || receivers[i]->rcvbuf < smallest)
			smallest = receivers[i]->rcvbuf;
	if (smallest > 0 && (long long)smallest < 2LL * rcvbuf)
		fs_log(FS_LOG_WARNING, "udp",
		       "the receive buffers of %s hold %d bytes, not the %d requested "
		       "(ingest.socket.rcvbuf): the kernel caps them at net.core.rmem_max; "
		       "raise that to %d or more so that bursts of datagrams are not dropped",
		       listen, smallest / 2, rcvbuf, rcvbuf);
}

/* Binds one socket to the address ss; reuseport joins it to the port's reuseport group. */
static int
open_socket(const char *text, struct sockaddr_storage *ss, socklen_t ss_len, int rcvbuf,
	    int reuseport, int *rcvbuf_got, char *err, size_t err_len)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "socket for '%s' failed: %s", text, strerror(errno));
		return FS_ERR_SYSTEM;
	}
	/* No SO_REUSEADDR: on Linux it lets a second process bind the same UDP
	 * port and take every datagram from the first without an error.
	 * SO_REUSEPORT, set only for several receive threads, admits sockets of
	 * the same user only. */
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		snprintf(err, err_len, "cannot set SO_REUSEPORT on '%s': %s", text, strerror(errno));
		close(fd);
		return FS_ERR_SYSTEM;
	}
	/* Asks the kernel to attach its count of datagrams dropped on a full buffer. */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
		fs_log(FS_LOG_WARNING, "udp", "cannot enable SO_RXQ_OVFL on %s: %s; "
		       "kernel drops will not be counted", text, strerror(errno));
	*rcvbuf_got = set_rcvbuf(fd, text, rcvbuf);
	if (bind(fd, (struct sockaddr *)ss, ss_len) < 0) {
		snprintf(err, err_len, "bind to '%s' failed: %s", text, strerror(errno));
		close(fd);
		return FS_ERR_SYSTEM;
	}
	return fd;
}

/* Replaces a port of 0 in ss by the port fd was bound to, so the next sockets join its group. */
static void
fix_port(int fd, struct sockaddr_storage *ss)
{
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);

	if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0)
		return;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = ((struct sockaddr_in *)&bound)->sin_port;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = ((struct sockaddr_in6 *)&bound)->sin6_port;
}

static int
invalid_address(const char *text, char *err, size_t err_len)
{
	snprintf(err, err_len,
		 "invalid listen address '%s': expected ADDRESS:PORT or [IPV6]:PORT with a numeric "
		 "address (no host name) and a port of 0..65535", text);
	return FS_ERR_INVALID;
}

/* Opens one socket on the address text in each of the count receivers, in receiver order. */
static int
open_address(struct fs_udp_receiver **receivers, size_t count, const char *text, int rcvbuf,
	     char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	socklen_t ss_len;

	if (parse_address(text, &ss, &ss_len) < 0)
		return invalid_address(text, err, err_len);
	for (size_t i = 0; i < count; i++) {
		struct fs_udp_receiver *receiver = receivers[i];
		int got = 0;
		int fd = open_socket(text, &ss, ss_len, rcvbuf, count > 1, &got, err, err_len);

		if (fd < 0)
			return fd;
		receiver->fds[receiver->nfds++] = fd;
		if (receiver->rcvbuf == 0 || got < receiver->rcvbuf)
			receiver->rcvbuf = got;
		if (i == 0)
			fix_port(fd, &ss);
	}
	if (count > 1 && attach_steering(receivers[0]->fds[receivers[0]->nfds - 1],
					 (uint32_t)count) < 0) {
		snprintf(err, err_len, "cannot attach the reuseport steering program on '%s': %s",
			 text, strerror(errno));
		return FS_ERR_SYSTEM;
	}
	return 0;
}

int
fs_udp_receiver_group_new(struct fs_udp_receiver **out, size_t count, const char *listen,
			  int rcvbuf, char *err, size_t err_len)
{
	struct fs_udp_receiver *receivers[FS_UDP_MAX_GROUP] = { NULL };
	char *list = NULL, *save = NULL;
	size_t naddresses = 0;
	int rc = 0;

	if (count < 1 || count > FS_UDP_MAX_GROUP) {
		snprintf(err, err_len, "invalid receiver count %zu: expected 1 to %d", count,
			 FS_UDP_MAX_GROUP);
		return FS_ERR_INVALID;
	}
	list = strdup(listen);
	if (!list) {
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	for (size_t i = 0; i < count; i++) {
		receivers[i] = calloc(1, sizeof(*receivers[i]));
		if (!receivers[i]) {
			snprintf(err, err_len, "out of memory");
			rc = FS_ERR_SYSTEM;
			goto out;
		}
		receivers[i]->error_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	}
	for (char *item = strtok_r(list, ", ", &save); item;
	     item = strtok_r(NULL, ", ", &save)) {
		if (naddresses == FS_UDP_MAX_SOCKETS) {
			snprintf(err, err_len, "too many listen addresses (at most %d)",
				 FS_UDP_MAX_SOCKETS);
			rc = FS_ERR_INVALID;
			goto out;
		}
		rc = open_address(receivers, count, item, rcvbuf, err, err_len);
		if (rc < 0)
			goto out;
		naddresses++;
	}
	if (naddresses == 0) {
		snprintf(err, err_len, "no listen address given");
		rc = FS_ERR_INVALID;
	} else {
		warn_small_rcvbuf(receivers, count, listen, rcvbuf);
	}
out:
	free(list);
	for (size_t i = 0; i < count; i++) {
		if (rc < 0)
			fs_udp_receiver_free(receivers[i]);
		else
			out[i] = receivers[i];
	}
	return rc;
}

int
fs_udp_listen_check(const char *listen, char *err, size_t err_len)
{
	char *list = strdup(listen), *save = NULL;
	size_t naddresses = 0;
	int rc = 0;

	if (!list) {
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	for (char *item = strtok_r(list, ", ", &save); item && rc == 0;
	     item = strtok_r(NULL, ", ", &save)) {
		struct sockaddr_storage ss;
		socklen_t ss_len;

		if (naddresses == FS_UDP_MAX_SOCKETS) {
			snprintf(err, err_len, "too many listen addresses (at most %d)",
				 FS_UDP_MAX_SOCKETS);
			rc = FS_ERR_INVALID;
		} else if (parse_address(item, &ss, &ss_len) < 0) {
			rc = invalid_address(item, err, err_len);
		}
		naddresses++;
	}
	if (rc == 0 && naddresses == 0) {
		snprintf(err, err_len, "no listen address given");
		rc = FS_ERR_INVALID;
	}
	free(list);
	return rc;
}

int
fs_udp_receiver_new(struct fs_udp_receiver **out, const char *listen, int rcvbuf,
		    char *err, size_t err_len)
{
	*out = NULL;
	return fs_udp_receiver_group_new(out, 1, listen, rcvbuf, err, err_len);
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

/*
 * Adds the growth of a socket's kernel drop count to the stats.  A datagram
 * carries the count of when it was queued, which may be older than the one
 * SO_MEMINFO read since, so only growth counts.
 */
static void
add_kernel_drops(struct fs_udp_receiver *receiver, size_t socket_index, uint32_t drops)
{
	/* Unsigned subtraction handles the wrap at 2^32. */
	uint32_t growth = drops - receiver->kernel_drops_seen[socket_index];

	if (growth == 0 || growth > UINT32_MAX / 2)
		return;
	receiver->stats.kernel_drops += growth;
	receiver->kernel_drops_seen[socket_index] = drops;
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
		add_kernel_drops(receiver, socket_index, drops);
	}
}

/*
 * Reads every socket's drop count with SO_MEMINFO, so that drops show up
 * when no datagram follows them to carry the count (an exporter that went
 * quiet after a burst).  Kernels without the drop field are skipped.
 */
static void
read_idle_drops(struct fs_udp_receiver *receiver, int64_t now_ns)
{
	receiver->drops_read_ns = now_ns;
	for (size_t i = 0; i < receiver->nfds; i++) {
		uint32_t meminfo[SK_MEMINFO_VARS] = { 0 };
		socklen_t len = sizeof(meminfo);

		if (getsockopt(receiver->fds[i], SOL_SOCKET, SO_MEMINFO, meminfo, &len) == 0 &&
		    len > SK_MEMINFO_DROPS * sizeof(uint32_t))
			add_kernel_drops(receiver, i, meminfo[SK_MEMINFO_DROPS]);
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
	int64_t now_ns;
	int ready, total = 0;

	for (size_t i = 0; i < receiver->nfds; i++) {
		pfds[i].fd = receiver->fds[i];
		pfds[i].events = POLLIN;
		pfds[i].revents = 0;
	}
	ready = poll(pfds, receiver->nfds, timeout_ms);
	if (ready < 0)
		return errno == EINTR ? 0 : FS_ERR_SYSTEM;
	now_ns = fs_monotonic_ns();
	if (ready == 0 || now_ns - receiver->drops_read_ns >= DROPS_READ_INTERVAL_NS)
		read_idle_drops(receiver, now_ns);
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

int
fs_udp_receiver_rcvbuf(const struct fs_udp_receiver *receiver)
{
	return receiver->rcvbuf;
}

const struct fs_udp_stats *
fs_udp_receiver_stats(const struct fs_udp_receiver *receiver)
{
	return &receiver->stats;
}
