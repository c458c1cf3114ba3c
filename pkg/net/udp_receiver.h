/*
 * udp_receiver.h - receives export datagrams on a set of UDP sockets.
 *
 * The receiver binds one socket per listen address and reads them in batches
 * with recvmmsg(2), so one system call returns up to FS_UDP_BATCH datagrams.
 * Buffers are allocated once at creation; receiving allocates nothing.
 * A datagram longer than FS_UDP_MAX_DATAGRAM bytes is cut by the kernel; it
 * is counted as truncated and not handed over.
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

struct fs_udp_stats {
	uint64_t datagrams; /* handed to the callback */
	uint64_t bytes;
	uint64_t truncated; /* longer than FS_UDP_MAX_DATAGRAM, dropped */
	uint64_t errors;    /* failed receive calls other than EAGAIN/EINTR */
	/*
	 * Datagrams the kernel dropped because a socket's receive buffer was
	 * full (SO_RXQ_OVFL), summed over the sockets.  The kernel reports its
	 * count with the next datagram received, so drops show up only once
	 * traffic reaches the receiver again.
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
 * Returns 0 and stores the receiver in *out, or a negative fs_result with
 * the failing address and reason in err.  Free with fs_udp_receiver_free().
 */
int fs_udp_receiver_new(struct fs_udp_receiver **out, const char *listen,
			int rcvbuf, char *err, size_t err_len);

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

const struct fs_udp_stats *fs_udp_receiver_stats(const struct fs_udp_receiver *receiver);

#endif
