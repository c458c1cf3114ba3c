/*
 * flow_codec.h - struct fs_flow to and from Avro single-object encoding.
 *
 * A message contains one or more flows back to back, each in the Avro 1.11
 * single-object encoding:
 *
 *   offset  size  content
 *   0       2     marker C3 01
 *   2       8     CRC-64-AVRO fingerprint of the writer schema's Parsing
 *                 Canonical Form, little-endian
 *   10      n     the flow in Avro binary encoding (org.flowsift.Flow)
 *
 * Avro binary records carry no length, so the reader finds where one flow
 * ends by reading it, and the next flow's marker follows.  A message of one
 * flow is therefore also a valid message for readers that expect one flow,
 * and fs_flow_codec_decode_next() reads either kind.  Producers put the
 * flows of one export datagram into one message (avro/flow_batch.h),
 * because librdkafka's cost per message, not per byte, dominated ingest.
 *
 * The codec writes with the current schema, schemas/flow.avsc.  It reads
 * messages written with the current schema or any older version kept as
 * schemas/flow.v<N>.avsc (see schemas/README.md), looked up by
 * fingerprint, and resolves them into the current struct with Avro schema
 * resolution: fields the writer lacks keep their null default, so their
 * presence bit stays clear.  fs_flow_codec_add_schema() registers further
 * writer schemas, such as ones fetched from a schema registry.
 *
 * Messages written with the current schema are read straight into struct
 * fs_flow (avro/binary_reader.h) without allocating.  Older versions go
 * through avro-c's schema resolution, after a bounded check of the body.
 * Both paths read through a bounds-checked cursor, so hostile input gives an
 * error code and never a crash or a large allocation.
 *
 * Encoding writes the Avro binary encoding straight from struct fs_flow
 * (avro/binary_writer.h) and never allocates.  avro-c's generic value
 * interface produces the same bytes with about ten times the instructions
 * per flow; it remains available as fs_flow_codec_encode_generic() and
 * fs_flow_codec_decode_generic().
 *
 * Memory: the codec owns one Avro value per schema version and one memory
 * reader and writer, reused for every message.  Decoding a message of an
 * older schema version allocates two small blocks per non-null bytes field
 * (addresses, MACs), because avro-c 1.11 reads every bytes value into a
 * fresh buffer.
 *
 * Thread safety: a codec is not thread-safe; use one codec per thread.
 */
#ifndef FS_AVRO_FLOW_CODEC_H
#define FS_AVRO_FLOW_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Size of the marker and fingerprint in front of the Avro body. */
#define FS_FLOW_CODEC_HEADER_LEN 10

/*
 * Buffer size that fits any flow encoded with the current schema: the fixed
 * fields take at most about 500 bytes, the text fields at most their array
 * sizes plus a length prefix each, and the enterprise elements at most
 * FS_FLOW_ENTERPRISE_BYTES plus 17 bytes each.
 */
#define FS_FLOW_CODEC_MAX_LEN 2048

/* Maximum schema versions one codec accepts, the current one included. */
#define FS_FLOW_CODEC_MAX_VERSIONS 32

/* Maximum array and map items, summed over one message, that decode accepts. */
#define FS_FLOW_CODEC_MAX_ITEMS 4096

struct fs_flow_codec;

/*
 * Creates a codec from the schemas compiled into the library: flow.avsc is
 * the writer schema, and every flow.v<N>.avsc is also accepted for reading.
 * Returns NULL on failure with the reason in err (err_len bytes, may be
 * NULL).  The caller frees the codec with fs_flow_codec_free().
 */
struct fs_flow_codec *fs_flow_codec_new(char *err, size_t err_len);

/* Frees codec and everything it owns; NULL is allowed. */
void fs_flow_codec_free(struct fs_flow_codec *codec);

/*
 * Registers the writer schema json (len bytes, borrowed, no NUL needed) so
 * that decode accepts messages written with it.  Stores its fingerprint in
 * *fingerprint, which may be NULL.  The schema must be a record named Flow
 * that the current schema can read: each current field that it lacks needs
 * a null default.  Registering a schema with a known fingerprint does
 * nothing and returns 0.  Returns 0, FS_ERR_INVALID for a schema that is
 * not valid or not readable (reason in err), FS_ERR_FULL when
 * FS_FLOW_CODEC_MAX_VERSIONS are registered, or FS_ERR_SYSTEM.
 */
int fs_flow_codec_add_schema(struct fs_flow_codec *codec, const char *json,
			     size_t len, uint64_t *fingerprint, char *err,
			     size_t err_len);

/*
 * Encodes flow as one single-object message into buf (cap bytes) and
 * stores its length in *out_len.  Returns 0, FS_ERR_FULL when cap is too
 * small (FS_FLOW_CODEC_MAX_LEN always suffices), or FS_ERR_INVALID when an
 * enum member is out of range (logged, rate-limited).  Fields whose
 * presence bit is clear are written as null; an address with family 0 is
 * written as empty bytes.
 */
int fs_flow_codec_encode(struct fs_flow_codec *codec, const struct fs_flow *flow,
			 uint8_t *buf, size_t cap, size_t *out_len);

/*
 * Encodes flow like fs_flow_codec_encode(), to the same bytes, through
 * avro-c's generic value interface.  It is the reference that tests compare
 * the direct writer with, and the baseline of the benchmark.  Also returns
 * FS_ERR_SYSTEM when avro-c fails.
 */
int fs_flow_codec_encode_generic(struct fs_flow_codec *codec, const struct fs_flow *flow,
				 uint8_t *buf, size_t cap, size_t *out_len);

/*
 * Decodes the single-object message buf (len bytes, borrowed) into *out.
 * Returns 0, or:
 *   FS_ERR_INVALID      the marker is not C3 01, the body breaks its
 *                       schema, has bytes left over, or contains a value out of
 *                       range for struct fs_flow (a port above 65535, an
 *                       address that is not 0, 4 or 16 bytes long, a string
 *                       longer than its array or not valid UTF-8 or with
 *                       control characters, ...);
 *   FS_ERR_TRUNCATED    the message ends inside the header or the body;
 *   FS_ERR_UNSUPPORTED  the fingerprint names no registered schema.
 * On failure *out holds no useful data.
 */
int fs_flow_codec_decode(struct fs_flow_codec *codec, const uint8_t *buf,
			 size_t len, struct fs_flow *out);

/*
 * Decodes the flow that starts at buf + *pos in a message of len bytes
 * containing one or more flows, and advances *pos past it.  Returns the codes
 * of fs_flow_codec_decode(), except that bytes after the flow are the next
 * flow, not an error; FS_ERR_TRUNCATED when *pos is already at len.  On
 * failure *pos is past the flow when its end is known (a well-formed flow
 * with a value out of range).  Otherwise *pos is at the next header in the
 * message that carries C3 01 and the fingerprint of a registered schema, or
 * the broken flow's own unknown fingerprint, or at len when there is none.
 * Either way the caller counts one bad flow and goes on.  Read a message
 * with:
 *
 *   size_t pos = 0;
 *   do {
 *       rc = fs_flow_codec_decode_next(codec, value, len, &pos, &flow);
 *       ...
 *   } while (pos < len);
 */
int fs_flow_codec_decode_next(struct fs_flow_codec *codec, const uint8_t *buf, size_t len,
			      size_t *pos, struct fs_flow *out);

/* Receives one flow of a message; returns 0 to go on, nonzero to stop. */
typedef int fs_flow_codec_each_fn(const struct fs_flow *flow, void *opaque);

/*
 * Decodes every flow of the message buf (len bytes, borrowed) with
 * fs_flow_codec_decode_next() and passes each to fn; the flow is borrowed
 * for the call.  Flows that cannot be decoded are skipped and added to
 * *rejected (may be NULL).  Returns 0, or the first nonzero value of fn,
 * which ends the message early.
 */
int fs_flow_codec_decode_each(struct fs_flow_codec *codec, const uint8_t *buf, size_t len,
			      fs_flow_codec_each_fn *fn, void *opaque, uint64_t *rejected);

/*
 * Decodes like fs_flow_codec_decode(), with the same results, but reads
 * every schema version through avro-c.  It is the reference that tests
 * compare the direct reader with, and the baseline of the benchmark.
 */
int fs_flow_codec_decode_generic(struct fs_flow_codec *codec, const uint8_t *buf,
				 size_t len, struct fs_flow *out);

/* Returns the CRC-64-AVRO fingerprint of the writer schema. */
uint64_t fs_flow_codec_fingerprint(const struct fs_flow_codec *codec);

/* Returns the writer schema's JSON text, owned by the codec. */
const char *fs_flow_codec_schema_text(const struct fs_flow_codec *codec);

#endif
