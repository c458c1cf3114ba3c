/*
 * template_codec.h - the binary encoding of templates shared between ingest
 * replicas through a Kafka topic (kafka.topic.templates).
 *
 * One message per template: the Kafka key names the template and the value
 * carries it, or marks it withdrawn.  A withdrawal is a value with the
 * withdrawn flag rather than a tombstone, so that it carries the origin.  A
 * process can then skip its own withdrawals when they come back.  Readers
 * treat a tombstone (no value) as a withdrawal too.  On a compacted topic the
 * last message of each key is the template's current state.  All integers
 * are big-endian.
 *
 * Key, version 1 (15 bytes for IPv4 exporters, 27 for IPv6):
 *
 *   u8  version = 1
 *   u8  flow type       FS_FLOW_NETFLOW_V9 or FS_FLOW_IPFIX
 *   u8  address family  4 or 6
 *   u16 exporter port   0 when templates are keyed by address only
 *   u32 observation domain (v9 source id)
 *   u16 template id
 *   4 or 16 bytes       exporter address
 *
 * Value, version 1 (16 bytes plus the field specifiers):
 *
 *   u8  version = 1
 *   u8  flags           bit 0: options template; bit 1: withdrawn (no
 *                       other flag, field count and length 0); other
 *                       bits must be 0
 *   u16 field count
 *   u16 scope field count (options templates)
 *   u64 origin          random id of the ingest process that learned it
 *   u16 length of the field specifiers
 *   ... field specifiers as the exporter sent them (template record minus
 *       its id and count words)
 *
 * Decoding checks every length and every value range through the cursor;
 * the field specifiers themselves are validated by fs_template_cache_learn()
 * like those of a template from the wire.  A version other than 1 is
 * FS_ERR_UNSUPPORTED, so a reader skips records of a newer writer.
 */
#ifndef FS_DECODE_TEMPLATE_CODEC_H
#define FS_DECODE_TEMPLATE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/template_cache.h"

#define FS_TEMPLATE_CODEC_VERSION 1
#define FS_TEMPLATE_KEY_MAX_LEN 27
#define FS_TEMPLATE_VALUE_HEADER_LEN 16
/* A template record sits in one set of at most 65535 bytes. */
#define FS_TEMPLATE_VALUE_MAX_LEN (FS_TEMPLATE_VALUE_HEADER_LEN + 65535)

/* A decoded value: the template's spec (wire borrowed from the value) and its origin. */
struct fs_template_value {
	struct fs_template_spec spec;
	uint64_t origin;
	bool withdrawn;  /* the template was withdrawn; spec is empty */
};

/*
 * Encodes key into out (at least FS_TEMPLATE_KEY_MAX_LEN bytes) and returns
 * the length, or FS_ERR_INVALID for an address family other than 4 or 6.
 */
int fs_template_key_encode(const struct fs_template_key *key, uint8_t *out, size_t out_len);

/*
 * Decodes a key of len bytes into *key.  Returns 0, FS_ERR_UNSUPPORTED for
 * another version, FS_ERR_TRUNCATED, or FS_ERR_INVALID (bad family or flow
 * type, trailing bytes).
 */
int fs_template_key_decode(const uint8_t *data, size_t len, struct fs_template_key *key);

/*
 * Encodes tpl with origin into out and returns the length, or FS_ERR_FULL
 * when out_len is too small.  FS_TEMPLATE_VALUE_MAX_LEN always suffices.
 */
int fs_template_value_encode(const struct fs_template *tpl, uint64_t origin,
			     uint8_t *out, size_t out_len);

/*
 * Encodes the withdrawal of a template by origin into out (at least
 * FS_TEMPLATE_VALUE_HEADER_LEN bytes) and returns the length, or FS_ERR_FULL.
 */
int fs_template_withdrawal_encode(uint64_t origin, uint8_t *out, size_t out_len);

/*
 * Decodes a value of len bytes for a template of flow_type into *value,
 * whose spec.wire points into data.  Returns 0, FS_ERR_UNSUPPORTED for
 * another version, FS_ERR_TRUNCATED, or FS_ERR_INVALID (unknown flags,
 * trailing bytes, more scope fields than fields, a withdrawal with fields
 * or the options flag).
 */
int fs_template_value_decode(const uint8_t *data, size_t len, uint8_t flow_type,
			     struct fs_template_value *value);

#endif
