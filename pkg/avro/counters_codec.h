/*
 * counters_codec.h - struct fs_counters to and from Avro single-object encoding.
 *
 * One message contains one sFlow counter sample, in the same layout as the
 * flow messages (pkg/avro/flow_codec.h):
 *
 *   offset  size  content
 *   0       2     marker C3 01
 *   2       8     CRC-64-AVRO fingerprint of schemas/counters.avsc's Parsing
 *                 Canonical Form, little-endian
 *   10      n     the sample in Avro binary encoding (org.flowsift.Counters)
 *
 * Encoding goes through avro-c with the embedded schemas/counters.avsc.
 * Decoding reads the body with a bounded cursor against the codec's field
 * table, so hostile input gives an error code and never a crash or an
 * allocation.  A group of counters (generic, Ethernet) is null as a whole
 * or present as a whole.
 *
 * NOTE: decoding accepts only messages written with the current schema;
 * there are no older counters schema versions to resolve yet.
 *
 * Memory: the codec owns one Avro value and one memory writer, reused for
 * every message.  Thread safety: use one codec per thread.
 */
#ifndef FS_AVRO_COUNTERS_CODEC_H
#define FS_AVRO_COUNTERS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"

/* Size of the marker and fingerprint in front of the Avro body. */
#define FS_COUNTERS_CODEC_HEADER_LEN 10

/* Buffer size that fits any counter sample encoded with the current schema. */
#define FS_COUNTERS_CODEC_MAX_LEN 2048

struct fs_counters_codec;

/*
 * Creates a codec from the embedded schemas/counters.avsc, checking that the
 * schema has exactly the fields the codec maps.  Returns NULL on failure
 * with the reason in err (err_len bytes, may be NULL).  The caller frees the
 * codec with fs_counters_codec_free().
 */
struct fs_counters_codec *fs_counters_codec_new(char *err, size_t err_len);

/* Frees codec and everything it owns; NULL is allowed. */
void fs_counters_codec_free(struct fs_counters_codec *codec);

/*
 * Encodes counters as one single-object message into buf (cap bytes) and
 * stores its length in *out_len.  Returns 0, FS_ERR_FULL when cap is too
 * small (FS_COUNTERS_CODEC_MAX_LEN always suffices), FS_ERR_INVALID when
 * other_count exceeds FS_COUNTERS_MAX_OTHER_RECORDS or an entry's format
 * exceeds 12 bits, or FS_ERR_SYSTEM when avro-c fails.
 */
int fs_counters_codec_encode(struct fs_counters_codec *codec,
			     const struct fs_counters *counters, uint8_t *buf,
			     size_t cap, size_t *out_len);

/*
 * Decodes the single-object message buf (len bytes, borrowed) into *out.
 * Returns 0, or:
 *   FS_ERR_INVALID      the marker is not C3 01, the body breaks the schema,
 *                       has bytes left over, contains a value out of range for
 *                       struct fs_counters, a group that is partly null, or
 *                       more than FS_COUNTERS_MAX_OTHER_RECORDS other records;
 *   FS_ERR_TRUNCATED    the message ends inside the header or the body;
 *   FS_ERR_UNSUPPORTED  the fingerprint is not the current schema's.
 * On failure *out holds no useful data.
 */
int fs_counters_codec_decode(struct fs_counters_codec *codec, const uint8_t *buf,
			     size_t len, struct fs_counters *out);

/* Returns the CRC-64-AVRO fingerprint of schemas/counters.avsc. */
uint64_t fs_counters_codec_fingerprint(const struct fs_counters_codec *codec);

#endif
