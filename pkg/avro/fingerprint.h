/*
 * fingerprint.h - Avro Parsing Canonical Form and CRC-64-AVRO fingerprints.
 *
 * Two schemas that read and write data the same way have the same Parsing
 * Canonical Form, so a fingerprint of that form identifies a writer schema
 * in single-object encoded messages.  Both follow the Avro 1.11
 * specification, section "Parsing Canonical Form for Schemas":
 *
 *   - primitive schemas become their bare name ("int", not {"type":"int"});
 *   - named types (record, error, enum, fixed) get their full name, and
 *     references to them become full names too;
 *   - only name, type, fields, symbols, items, values and size are kept,
 *     in that order, so doc, aliases, default, namespace, order and every
 *     other attribute are dropped;
 *   - strings are written as UTF-8 without escapes except those JSON needs,
 *     size has no quotes or leading zeros, and there is no whitespace.
 *
 * The fingerprint is CRC-64-AVRO, the 64-bit Rabin fingerprint with the
 * polynomial 0xc15d213aa4d7a795 that the specification defines.
 */
#ifndef FS_AVRO_FINGERPRINT_H
#define FS_AVRO_FINGERPRINT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-64-AVRO of the empty input; also the polynomial of the fingerprint. */
#define FS_AVRO_CRC64_EMPTY 0xc15d213aa4d7a795ULL

/* Nesting depth above which a schema is rejected as invalid. */
#define FS_AVRO_MAX_SCHEMA_DEPTH 64

/* Computes the CRC-64-AVRO fingerprint of len bytes at data. */
uint64_t fs_avro_crc64(const void *data, size_t len);

/*
 * Writes the Parsing Canonical Form of the schema JSON text (len bytes, no
 * NUL needed) to *out as a NUL-terminated string that the caller frees with
 * free().  Returns 0, FS_ERR_INVALID when the text is not JSON or not an
 * Avro schema, or FS_ERR_SYSTEM when out of memory.  On failure *out is
 * NULL and err (err_len bytes, may be NULL) contains the reason.
 */
int fs_avro_canonical_form(const char *json, size_t len, char **out,
			   char *err, size_t err_len);

/* Like fs_avro_canonical_form() for a schema already parsed; schema is borrowed. */
int fs_avro_canonical_form_json(const json_t *schema, char **out,
				char *err, size_t err_len);

/*
 * Computes the CRC-64-AVRO fingerprint of the Parsing Canonical Form of the
 * schema JSON text.  Returns 0 or the codes of fs_avro_canonical_form().
 */
int fs_avro_fingerprint(const char *json, size_t len, uint64_t *fingerprint,
			char *err, size_t err_len);

#endif
