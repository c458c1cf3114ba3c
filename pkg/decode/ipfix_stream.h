/*
 * ipfix_stream.h - IPFIX over TCP: splits a byte stream into messages.
 *
 * RFC 7011 section 10.4: over TCP, IPFIX messages follow each other with no
 * other framing, so each message's length field (bytes 2-3 of its header)
 * gives where the next one starts.  One struct fs_ipfix_stream is kept per
 * TCP connection (one exporter transport session).  The caller feeds it the
 * bytes of each read, in any pieces; every complete message goes to
 * fs_decoder_decode() with the connection's exporter address and port, and a
 * partial message is kept until the rest arrives.  When the connection
 * closes, fs_ipfix_stream_finish() reports a message the close cut short.
 *
 * The buffer is allocated once, FS_IPFIX_STREAM_BUFFER bytes: the largest
 * message the 16-bit length field can describe.  Nothing else is allocated
 * per read or per message.
 *
 * A header that is not IPFIX version 10, or a length below the 16-byte
 * header, means the stream lost its framing: no later byte can be trusted to
 * start a message.  The stream then returns FS_ERR_INVALID from every feed,
 * and the caller closes the connection (and calls fs_decoder_end_session()
 * to drop the session's templates).
 *
 * Thread safety: a stream, like the decoder it feeds, is used by one thread
 * at a time.
 */
#ifndef FS_DECODE_IPFIX_STREAM_H
#define FS_DECODE_IPFIX_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"
#include "decode/decoder.h"

#define FS_IPFIX_STREAM_BUFFER 65535

/* Counters of one stream. */
struct fs_ipfix_stream_stats {
	uint64_t bytes;        /* bytes fed */
	uint64_t messages;     /* complete messages handed to the decoder */
	uint64_t faults;       /* messages whose decode returned a fault */
	uint64_t framing_lost; /* 1 once the framing was lost */
	uint64_t cut;          /* 1 when the stream ended inside a message */
};

struct fs_ipfix_stream;

/*
 * Creates a stream for the connection from exporter:port (exporter is
 * copied).  Returns NULL when memory runs out.  Free with
 * fs_ipfix_stream_free().
 */
struct fs_ipfix_stream *fs_ipfix_stream_new(const struct fs_addr *exporter,
					    uint16_t exporter_port);

void fs_ipfix_stream_free(struct fs_ipfix_stream *stream);

/*
 * Feeds len bytes read from the connection at time_received_ns (Unix ns).
 * Each complete message is decoded by decoder, which calls sink per flow
 * record.  data is borrowed for the call.  Returns 0 (decode faults are
 * counted by the decoder and in stats.faults), or FS_ERR_INVALID once the
 * framing is lost (sticky).
 */
int fs_ipfix_stream_feed(struct fs_ipfix_stream *stream, const uint8_t *data,
			 size_t len, struct fs_decoder *decoder,
			 int64_t time_received_ns, fs_flow_sink_fn *sink, void *opaque);

/*
 * Ends the stream when its connection closes.  A partial message still
 * buffered was cut short by the close, so it is decoded like a datagram
 * shorter than its message length.  Its whole sets are kept.  The decoder
 * counts it truncated and logs it, rate-limited, with the exporter address
 * and port.  Fewer than 4 bytes are counted invalid instead, as for any
 * datagram too short for an export header.  Returns the bytes of the cut
 * message, or 0 when the stream ended between messages or had lost its
 * framing (already counted).
 */
size_t fs_ipfix_stream_finish(struct fs_ipfix_stream *stream, struct fs_decoder *decoder,
			      int64_t time_received_ns, fs_flow_sink_fn *sink, void *opaque);

/* Returns how many bytes of a partial message are buffered. */
size_t fs_ipfix_stream_pending(const struct fs_ipfix_stream *stream);

const struct fs_ipfix_stream_stats *fs_ipfix_stream_stats(const struct fs_ipfix_stream *stream);

#endif
