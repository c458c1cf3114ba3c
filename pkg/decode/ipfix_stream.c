/*
 * ipfix_stream.c - message framing for IPFIX over TCP.
 *
 * Complete messages inside a fed chunk are decoded in place; only the bytes
 * of a message split across reads are copied into the buffer.
 */
#include "decode/ipfix_stream.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/result.h"
#include "decode/cursor.h"

#define IPFIX_VERSION 10
#define IPFIX_HEADER_LEN 16

struct fs_ipfix_stream {
	struct fs_addr exporter;
	uint16_t exporter_port;
	struct fs_ipfix_stream_stats stats;
	size_t have;                          /* bytes in buf */
	uint8_t buf[FS_IPFIX_STREAM_BUFFER];
};

struct fs_ipfix_stream *
fs_ipfix_stream_new(const struct fs_addr *exporter, uint16_t exporter_port)
{
	struct fs_ipfix_stream *stream = malloc(sizeof(*stream));

	if (!stream)
		return NULL;
	memset(&stream->stats, 0, sizeof(stream->stats));
	stream->exporter = *exporter;
	stream->exporter_port = exporter_port;
	stream->have = 0;
	return stream;
}

void
fs_ipfix_stream_free(struct fs_ipfix_stream *stream)
{
	free(stream);
}

size_t
fs_ipfix_stream_pending(const struct fs_ipfix_stream *stream)
{
	return stream->have;
}

const struct fs_ipfix_stream_stats *
fs_ipfix_stream_stats(const struct fs_ipfix_stream *stream)
{
	return &stream->stats;
}

/*
 * Reads the message length from a header of at least 4 bytes.  Returns it,
 * or 0 and marks the framing lost when the header cannot start a message.
 */
static size_t
message_length(struct fs_ipfix_stream *stream, const uint8_t *header)
{
	struct fs_cursor cur;
	uint16_t version, length;
	char addr[FS_ADDR_STRLEN];

	fs_cursor_init(&cur, header, 4);
	version = fs_cursor_get_u16(&cur);
	length = fs_cursor_get_u16(&cur);
	if (version == IPFIX_VERSION && length >= IPFIX_HEADER_LEN)
		return length;
	stream->stats.framing_lost = 1;
	fs_log(FS_LOG_WARNING, "ipfix_stream",
	       "exporter %s port %u: version %u, length %u where a message should start; framing lost, close the connection",
	       fs_addr_format(&stream->exporter, addr), stream->exporter_port,
	       version, length);
	return 0;
}

static void
decode_message(struct fs_ipfix_stream *stream, const uint8_t *msg, size_t len,
	       struct fs_decoder *decoder, int64_t time_received_ns,
	       fs_flow_sink_fn *sink, void *opaque)
{
	stream->stats.messages++;
	if (fs_decoder_decode(decoder, msg, len, &stream->exporter, stream->exporter_port,
			      time_received_ns, sink, opaque) != 0)
		stream->stats.faults++;
}

size_t
fs_ipfix_stream_finish(struct fs_ipfix_stream *stream, struct fs_decoder *decoder,
		       int64_t time_received_ns, fs_flow_sink_fn *sink, void *opaque)
{
	size_t cut = stream->have;

	if (cut == 0 || stream->stats.framing_lost)
		return 0;
	stream->stats.cut = 1;
	stream->have = 0;
	if (fs_decoder_decode(decoder, stream->buf, cut, &stream->exporter,
			      stream->exporter_port, time_received_ns, sink, opaque) != 0)
		stream->stats.faults++;
	return cut;
}

/* Moves up to want - have bytes from *data into the buffer. */
static void
fill(struct fs_ipfix_stream *stream, const uint8_t **data, size_t *len, size_t want)
{
	size_t take = want - stream->have;

	if (take > *len)
		take = *len;
	memcpy(stream->buf + stream->have, *data, take);
	stream->have += take;
	*data += take;
	*len -= take;
}

int
fs_ipfix_stream_feed(struct fs_ipfix_stream *stream, const uint8_t *data,
		     size_t len, struct fs_decoder *decoder,
		     int64_t time_received_ns, fs_flow_sink_fn *sink, void *opaque)
{
	size_t msg_len;

	if (stream->stats.framing_lost)
		return FS_ERR_INVALID;
	stream->stats.bytes += len;

	/* First complete the message started by an earlier read. */
	if (stream->have > 0) {
		if (stream->have < 4)
			fill(stream, &data, &len, 4);
		if (stream->have < 4)
			return 0;
		msg_len = message_length(stream, stream->buf);
		if (msg_len == 0)
			return FS_ERR_INVALID;
		fill(stream, &data, &len, msg_len);
		if (stream->have < msg_len)
			return 0;
		decode_message(stream, stream->buf, msg_len, decoder, time_received_ns,
			       sink, opaque);
		stream->have = 0;
	}

	/* Then decode whole messages in place and keep the partial tail. */
	while (len >= 4) {
		msg_len = message_length(stream, data);
		if (msg_len == 0)
			return FS_ERR_INVALID;
		if (len < msg_len)
			break;
		decode_message(stream, data, msg_len, decoder, time_received_ns, sink,
			       opaque);
		data += msg_len;
		len -= msg_len;
	}
	if (len > 0) {
		memcpy(stream->buf, data, len);
		stream->have = len;
	}
	return 0;
}
