/*
 * receive_pace.h - how long a receive thread sleeps after a read.
 *
 * A thread that blocks in poll(2) wakes once per datagram while datagrams
 * arrive slower than it handles them, and each wake-up costs CPU time.  On
 * the 2-core VM of BENCHMARKS.md, `flowsift-bench wakeups` measured 4 to 8 us
 * for a wake-up by a datagram and 20 to 31 us for one by a timer.  Either
 * costs more than decoding a NetFlow v9 datagram of 30 flows.  So
 * after a read that emptied the socket the thread sleeps until several
 * datagrams should have arrived, and then reads them in one recvmmsg(2).
 *
 * The rule, applied by fs_receive_pace_after_read():
 * - No sleep after a read that returned nothing (poll timed out) or a full
 *   batch of FS_UDP_BATCH datagrams (the socket may hold more).
 * - No sleep for FS_RECEIVE_PACE_PAUSE_NS after the kernel dropped
 *   datagrams on the socket.
 * - Otherwise the sleep lasts until FS_RECEIVE_PACE_TARGET datagrams should
 *   have arrived, at the higher of two rates: that of the last full window
 *   of FS_RECEIVE_PACE_WINDOW_NS and that since the previous read.  The
 *   window keeps a sender that writes in bursts, with idle gaps between
 *   them, from looking slow.
 * - The sleep is at most the configured maximum, cut to the time a
 *   burst at 1 Gbit/s takes to fill half the socket buffer, because a burst
 *   that starts during a sleep fills the buffer for all of it.
 *   NOTE: 1 Gbit/s is an assumption.  Bursts on loopback ran at 5 to 7
 *   Gbit/s, and in those too large for the buffer a 10 ms maximum about
 *   doubled the kernel drops against no sleep (BENCHMARKS.md, runs K to M).
 * - A sleep shorter than FS_RECEIVE_PACE_MIN_NS is skipped: at that rate the
 *   thread hardly blocks, and a timer wake-up would cost more than it saves.
 *   With 32 datagrams and 1 ms, the thread stops sleeping above 32,000
 *   datagrams a second.
 * - A sleep during which fewer than FS_RECEIVE_PACE_MIN_DATAGRAMS should
 *   arrive is skipped too, because one timer wake-up costs as much as about
 *   four wake-ups by a datagram.  With a maximum sleep of 10 ms, the thread
 *   does not sleep below 400 datagrams a second.
 *
 * Thread safety: one pace per receive thread.  It allocates nothing and
 * makes no system call; the caller reads the clock and sleeps.
 */
#ifndef FS_NET_RECEIVE_PACE_H
#define FS_NET_RECEIVE_PACE_H

#include <stdint.h>

#define FS_RECEIVE_PACE_TARGET 32
#define FS_RECEIVE_PACE_WINDOW_NS 10000000
#define FS_RECEIVE_PACE_MIN_NS 1000000
#define FS_RECEIVE_PACE_MIN_DATAGRAMS 4
#define FS_RECEIVE_PACE_PAUSE_NS 1000000000

/*
 * Socket buffer bytes that a burst at 1 Gbit/s fills per microsecond: the
 * kernel counts about twice a datagram's length against the buffer (an
 * estimate for loopback).  The buffer is the size getsockopt(SO_RCVBUF)
 * reports, twice the size set.  With Linux's default net.core.rmem_max of
 * 212,992 bytes, half the buffer lasts 0.85 ms.  That is under
 * FS_RECEIVE_PACE_MIN_NS, so the thread does not sleep.  With 4 MiB it lasts
 * 16.8 ms.
 */
#define FS_RECEIVE_PACE_BUFFER_BYTES_PER_US 250

/* The arrival rate of one receive thread; fields are private. */
struct fs_receive_pace {
	int64_t last_read_ns;     /* the caller's clock, CLOCK_MONOTONIC */
	int64_t window_start_ns;
	uint64_t window_datagrams;
	double window_rate;       /* datagrams per ns in the last full window */
	int64_t max_wait_ns;      /* the maximum sleep, cut to the socket buffer */
	uint64_t drops_seen;      /* the kernel drops at the last read */
	int64_t awake_until_ns;   /* no sleep before this, after kernel drops */
};

/*
 * Starts a pace at now_ns.  max_wait_ns is the maximum sleep (0: never
 * sleep), and rcvbuf is the socket buffer in bytes as getsockopt(SO_RCVBUF)
 * reports it (0 or less: unknown, no cut).
 */
void fs_receive_pace_init(struct fs_receive_pace *pace, int64_t max_wait_ns, int rcvbuf,
			  int64_t now_ns);

/* Returns the maximum sleep after the cut to the socket buffer, in ns (0: never sleeps). */
int64_t fs_receive_pace_max_wait(const struct fs_receive_pace *pace);

/*
 * Counts a read at now_ns that returned got datagrams, with kernel_drops
 * the receiver's running count of kernel drops.  Returns how long to sleep
 * before the next read, in ns; 0 means read again at once.
 */
int64_t fs_receive_pace_after_read(struct fs_receive_pace *pace, int got, uint64_t kernel_drops,
				   int64_t now_ns);

#endif
