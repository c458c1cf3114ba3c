/*
 * ipfix_tcp.h - receives IPFIX over TCP (RFC 7011 section 10.4) in ingest.
 *
 * One thread accepts connections on the ingest.listen.tcp addresses and
 * reads every connection as one IPFIX message stream.  Templates belong to
 * the connection: they are dropped when it closes.  The thread has its own
 * decoder and Avro codec and shares the caller's producer, whose send is
 * thread-safe.  A connection whose framing is lost (a message header that is
 * not IPFIX) is closed and counted.  A message that a closing connection
 * cuts short is decoded as far as its whole sets go and counted truncated.
 *
 * Admission happens at accept, before any byte is read: a peer outside
 * ingest.exporters.allow, a connection beyond ingest.tcp.connections.max, or
 * one beyond ingest.tcp.connections.per.address.max from the same address
 * is closed at once.  A connection that sends no byte for
 * ingest.tcp.idle.timeout seconds is closed.  Each case is counted and
 * logged (rate-limited).
 */
#ifndef FS_INGEST_IPFIX_TCP_H
#define FS_INGEST_IPFIX_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "decode/decoder.h"
#include "kafka/producer.h"
#include "net/cidr.h"

struct ipfix_tcp_stats {
	uint64_t connections;          /* accepted */
	uint64_t rejected_not_allowed; /* peer address outside ingest.exporters.allow */
	uint64_t rejected_limit;       /* ingest.tcp.connections.max already open */
	uint64_t rejected_per_address; /* ingest.tcp.connections.per.address.max open from the peer */
	uint64_t rejected_no_memory;   /* no memory for the stream buffer */
	uint64_t accept_errors;        /* accept() failures, such as the open-files limit */
	uint64_t idle_timeouts;        /* closed after ingest.tcp.idle.timeout without a byte */
	uint64_t framing_lost;         /* connections closed because a header was not IPFIX */
	uint64_t closed;               /* accepted connections closed for any reason */
	uint64_t open;                 /* connections open now */
	uint64_t messages;
	uint64_t flows;
	uint64_t encode_errors;
	uint64_t produce_errors;
	struct fs_decoder_stats decoder; /* the TCP decoder's counters */
};

struct ipfix_tcp;

/*
 * Binds every address of listen (comma-separated host:port) and starts the
 * thread, whose decoder gets limits (copied).  The connection limits and the
 * idle timeout come from the ingest.tcp.* keys of config, read once here.
 * An empty allow list accepts every peer.  allow, producer and topic are
 * borrowed and must outlive the listener.  Returns 0 and the listener in
 * *out, or a negative fs_result with err set.
 */
int ipfix_tcp_start(struct ipfix_tcp **out, const char *listen,
		    const struct fs_config *config, const struct fs_cidr_list *allow,
		    const struct fs_decoder_limits *limits,
		    struct fs_producer *producer, const char *topic,
		    char *err, size_t err_len);

/*
 * Copies the counters as of the thread's last poll (at most
 * POLL_INTERVAL_MS old) into *out; safe from any thread.
 */
void ipfix_tcp_stats(struct ipfix_tcp *tcp, struct ipfix_tcp_stats *out);

/* Stops the thread, closes every connection, logs the counters and frees. NULL is ignored. */
void ipfix_tcp_stop(struct ipfix_tcp *tcp);

#endif
