/*
 * udp_receiver.h - receives export datagrams on a set of UDP sockets.
 *
 * The receiver binds one socket per listen address and reads them in batches
 * with recvmmsg(2), so one system call returns up to FS_UDP_BATCH datagrams.
 * Buffers are allocated once at creation; receiving allocates nothing.
 * A datagram longer than FS_UDP_MAX_DATAGRAM bytes is cut by the kernel; it
 * is counted as truncated and not handed over.
 *
 * Several receive threads on one port: fs_udp_receiver_group_new() creates
 * one receiver per thread, each with its own socket on every listen address,
 * joined into one SO_REUSEPORT group per address.  A classic BPF program
 * attached to each group (SO_ATTACH_REUSEPORT_CBPF) picks the socket from a
 * hash of the datagram's source address only, so every datagram of one
 * exporter reaches the same receiver whatever its source port.
 * fs_udp_steer_index() computes the same hash in user space.
 *
 * Thread safety: one receiver is used by one thread.
 */
#ifndef FS_NET_UDP_RECEIVER_H
#define FS_NET_UDP_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

#define FS_UDP_BATCH 64
#define FS_UDP_MAX_DATAGRAM 65535
#define FS_UDP_MAX_SOCKETS 16
#define FS_UDP_MAX_GROUP 64

struct fs_udp_stats {
	uint64_t datagrams; /* handed to the callback */
	uint64_t bytes;
	uint64_t truncated; /* longer than FS_UDP_MAX_DATAGRAM, dropped */
	uint64_t errors;    /* failed receive calls other than EAGAIN/EINTR */
	/*
	 * Datagrams the kernel dropped because a socket's receive buffer was
	 * full, summed over the sockets.  The kernel reports its count with each
	 * datagram (SO_RXQ_OVFL), and fs_udp_receiver_poll() also reads it
	 * (SO_MEMINFO) when the wait times out and at least once a second, so
	 * drops show up when no datagram follows them.
	 */
	uint64_t kernel_drops;
};

/* Receives one datagram; data and exporter are borrowed for the call only. */
typedef void fs_udp_datagram_fn(const uint8_t *data, size_t len,
				const struct fs_addr *exporter,
				uint16_t exporter_port, int64_t time_received_ns,
				void *opaque);

struct fs_udp_receiver;

/*
 * Binds a socket to each address of listen, a comma-separated list of
 * host:port or [ipv6]:port, requesting rcvbuf bytes of receive buffer.
 * A socket whose buffer the kernel caps below the request (at
 * net.core.rmem_max) is logged as a warning.
 * Returns 0 and stores the receiver in *out, or a negative fs_result with
 * the failing address and reason in err.  Free with fs_udp_receiver_free().
 */
int fs_udp_receiver_new(struct fs_udp_receiver **out, const char *listen,
			int rcvbuf, char *err, size_t err_len);

/*
 * Creates count receivers (1 to FS_UDP_MAX_GROUP) on the same addresses, as
 * fs_udp_receiver_new() does for one.  With count > 1 every socket has
 * SO_REUSEPORT and each address's group gets the steering program, so
 * receiver i gets the datagrams of exporters whose fs_udp_steer_index() is i.
 * A listen port of 0 is resolved by the first receiver and reused by the
 * others.  Stores the receivers in out[0..count) and returns 0, or returns a
 * negative fs_result with err set and nothing stored.
 */
int fs_udp_receiver_group_new(struct fs_udp_receiver **out, size_t count, const char *listen,
			      int rcvbuf, char *err, size_t err_len);

/*
 * Returns the receiver (0 to count - 1) of a group of count that the
 * steering program sends exporter's datagrams to.  IPv4-mapped IPv6
 * addresses must be given as IPv4, as the receivers report them.
 */
size_t fs_udp_steer_index(const struct fs_addr *exporter, size_t count);

/*
 * Checks listen as fs_udp_receiver_group_new() reads it (a list of
 * "host:port" or "[v6]:port" separated by commas or spaces, numeric hosts
 * only) without opening a socket.  Returns 0, or FS_ERR_INVALID with the
 * same message in err.
 */
int fs_udp_listen_check(const char *listen, char *err, size_t err_len);

void fs_udp_receiver_free(struct fs_udp_receiver *receiver);

/*
 * Waits up to timeout_ms for datagrams on any socket and hands each to fn,
 * reading at most one batch per socket.  Returns the number of datagrams
 * handed over (0 on timeout or signal), or FS_ERR_SYSTEM when poll fails.
 */
int fs_udp_receiver_poll(struct fs_udp_receiver *receiver, int timeout_ms,
			 fs_udp_datagram_fn *fn, void *opaque);

/* Returns the local port of socket i (in listen order), or 0 if none; for tests using port 0. */
uint16_t fs_udp_receiver_port(const struct fs_udp_receiver *receiver, size_t i);

/*
 * Returns the smallest receive buffer of the receiver's sockets in bytes, as
 * the kernel reports it (about twice the request, for its overhead per
 * datagram), or 0 when it could not be read.
 */
int fs_udp_receiver_rcvbuf(const struct fs_udp_receiver *receiver);

const struct fs_udp_stats *fs_udp_receiver_stats(const struct fs_udp_receiver *receiver);

#endif
