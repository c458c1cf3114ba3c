/*
 * ipfix_tcp.h - receives IPFIX over TCP (RFC 7011 section 10.4) in ingest.
 *
 * One thread accepts connections on the ingest.listen.tcp addresses and
 * reads every connection as one IPFIX message stream.  Templates belong to
 * the connection: they are dropped when it closes.  The thread has its own
 * decoder and Avro codec and shares the caller's producer, whose send is
 * thread-safe.  A connection whose framing is lost (a message header that is
 * not IPFIX) is closed and counted.
 */
#ifndef FS_INGEST_IPFIX_TCP_H
#define FS_INGEST_IPFIX_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"
#include "kafka/producer.h"

#define IPFIX_TCP_MAX_CONNECTIONS 256

struct ipfix_tcp_stats {
	uint64_t connections;      /* accepted */
	uint64_t rejected;         /* refused: IPFIX_TCP_MAX_CONNECTIONS open, or no memory */
	uint64_t framing_lost;     /* connections closed because a header was not IPFIX */
	uint64_t closed;           /* connections closed for any reason, framing_lost included */
	uint64_t open;             /* connections open now */
	uint64_t messages;
	uint64_t flows;
	uint64_t encode_errors;
	uint64_t produce_errors;
	struct fs_decoder_stats decoder; /* the TCP decoder's counters */
};

struct ipfix_tcp;

/*
 * Binds every address of listen (comma-separated host:port) and starts the
 * thread, whose decoder gets limits (copied).  producer and topic are borrowed and must outlive the listener.
 * Returns 0 and the listener in *out, or a negative fs_result with err set.
 */
int ipfix_tcp_start(struct ipfix_tcp **out, const char *listen,
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
