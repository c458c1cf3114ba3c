/*
 * flow_batch.h - flows of one exporter gathered into one Kafka message.
 *
 * A batch contains up to max_flows flows of one exporter address, encoded back
 * to back in the single-object encoding (avro/flow_codec.h), in at most
 * FS_FLOW_BATCH_MAX_LEN bytes.  Producers send a batch as one message with
 * fs_producer_send_records(), keyed by the exporter address, and readers
 * take it apart with fs_flow_codec_decode_next().
 *
 * One message per flow cost ingest about half of its CPU in librdkafka's
 * per-message path and lz4 framing (BENCHMARKS.md, section 2).  One message
 * per export datagram divides that part by the flows of a datagram.
 *
 * Usage, for each flow:
 *
 *   if (!fs_flow_batch_fits(&b, &flow)) { send b; fs_flow_batch_clear(&b); }
 *   fs_flow_batch_add(&b, codec, &flow);
 *
 * and send what is left at the end of each datagram or input message, so a
 * batch never waits for later traffic.
 *
 * Memory: the struct contains its buffer (about 64 KiB) and allocates nothing;
 * embed it in a heap object rather than on a thread's stack.
 * Thread safety: none; one batch per thread.
 */
#ifndef FS_AVRO_FLOW_BATCH_H
#define FS_AVRO_FLOW_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "avro/flow_codec.h"
#include "core/flow.h"

/* Upper bound of one message's length, far below Kafka's message.max.bytes (1 MB). */
#define FS_FLOW_BATCH_MAX_LEN 65536

/* Default of kafka.message.flows.max: four NetFlow v9 datagrams of 30 flows fit. */
#define FS_FLOW_BATCH_DEFAULT_FLOWS 128

struct fs_flow_batch {
	size_t len;                /* bytes used in buf */
	uint32_t count;            /* flows in buf */
	uint32_t max_flows;        /* at least 1 */
	struct fs_addr exporter;   /* exporter address of every flow in buf */
	uint8_t buf[FS_FLOW_BATCH_MAX_LEN];
};

/* Empties b and sets its flow limit; max_flows 0 is taken as 1. */
void fs_flow_batch_init(struct fs_flow_batch *b, uint32_t max_flows);

/* Empties b and keeps its limit. */
void fs_flow_batch_clear(struct fs_flow_batch *b);

/*
 * Returns true when flow can join b: b is empty, or it has room for another
 * flow of FS_FLOW_CODEC_MAX_LEN bytes, fewer than max_flows flows, and the
 * same exporter address.
 */
bool fs_flow_batch_fits(const struct fs_flow_batch *b, const struct fs_flow *flow);

/*
 * Encodes flow at the end of b.  Returns 0, FS_ERR_FULL when flow does not
 * fit (send b first), or the error of fs_flow_codec_encode(); b is unchanged
 * on failure.
 */
int fs_flow_batch_add(struct fs_flow_batch *b, struct fs_flow_codec *codec,
		      const struct fs_flow *flow);

/*
 * Returns true when a flow already encoded in len bytes can join b: b is
 * empty, or it has len bytes of room, fewer than max_flows flows and the
 * same exporter address.  A flow passed on as received may be longer than
 * FS_FLOW_CODEC_MAX_LEN, because readers accept varints in more bytes than
 * needed, so fs_flow_batch_fits() does not apply to it.
 */
bool fs_flow_batch_fits_encoded(const struct fs_flow_batch *b, const struct fs_flow *flow,
				size_t len);

/*
 * Appends flow, already encoded as the single-object message msg of len
 * bytes (a flow read with fs_flow_codec_decode_next(), passed on as it
 * came), to b.  Returns 0, or FS_ERR_FULL when it does not fit, which for
 * an empty b means that len exceeds FS_FLOW_BATCH_MAX_LEN.
 */
int fs_flow_batch_add_encoded(struct fs_flow_batch *b, const struct fs_flow *flow,
			      const uint8_t *msg, size_t len);

/* Returns the message key of b, the exporter address (4 or 16 bytes), in *key_len. */
const uint8_t *fs_flow_batch_key(const struct fs_flow_batch *b, size_t *key_len);

#endif
