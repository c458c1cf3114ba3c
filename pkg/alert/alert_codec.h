/*
 * alert_codec.h - struct fs_alert to and from Avro single-object encoding.
 *
 * Messages on flows.alerts have the layout of the flow messages
 * (pkg/avro/flow_codec.h): the marker C3 01, the 8-byte little-endian
 * CRC-64-AVRO fingerprint of the Parsing Canonical Form of
 * schemas/alert.avsc (record org.flowsift.Alert), then the Avro binary body.
 *
 * The body is written and read by code that follows the schema field by
 * field; fs_alert_codec_new() checks that the embedded schema still has the
 * fields in that order, so a schema edit without a codec change fails at
 * start.  Decoding reads every byte through the bounds-checked cursor of
 * pkg/decode/cursor.h and allocates nothing: strings longer than their
 * struct field, more than FS_ALERT_TOP array items and enum indexes out of
 * range are rejected as FS_ERR_INVALID.
 *
 * Thread safety: a codec is read-only after creation and may be shared.
 */
#ifndef FS_ALERT_ALERT_CODEC_H
#define FS_ALERT_ALERT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "alert/alert.h"

#define FS_ALERT_CODEC_HEADER_LEN 10
/* Buffer size that fits any encoded alert. */
#define FS_ALERT_CODEC_MAX_LEN 1536

struct fs_alert_codec;

/*
 * Creates a codec from the embedded schemas/alert.avsc.  Returns NULL with
 * the reason in err (err_len bytes).  Free it with fs_alert_codec_free().
 */
struct fs_alert_codec *fs_alert_codec_new(char *err, size_t err_len);

/* Frees codec; NULL is allowed. */
void fs_alert_codec_free(struct fs_alert_codec *codec);

/* Returns the fingerprint written in front of every message. */
uint64_t fs_alert_codec_fingerprint(const struct fs_alert_codec *codec);

/*
 * Returns the fingerprint of schemas/alert.v1.avsc, the first alert schema.
 * fs_alert_codec_decode() reads its messages too, with the fields it lacks
 * (exporter to flows_last_ms) left unset.
 */
uint64_t fs_alert_codec_fingerprint_v1(const struct fs_alert_codec *codec);

/*
 * Encodes alert (borrowed) into buf (len bytes).  Returns the message
 * length, or FS_ERR_FULL when buf is too small.
 */
int fs_alert_codec_encode(const struct fs_alert_codec *codec,
			  const struct fs_alert *alert, uint8_t *buf, size_t len);

/*
 * Decodes one message of len bytes, written with the current or an earlier
 * schema, into *alert.  Returns 0,
 * FS_ERR_TRUNCATED, FS_ERR_INVALID, or FS_ERR_UNSUPPORTED for a missing
 * marker or an unknown fingerprint.
 */
int fs_alert_codec_decode(const struct fs_alert_codec *codec, const uint8_t *data,
			  size_t len, struct fs_alert *alert);

#endif
