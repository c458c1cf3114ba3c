/*
 * single_object.h - the Avro single-object encoding that frames each flow
 * and each counter sample on Kafka.
 *
 * An encoded record is the marker bytes C3 01, the 8-byte CRC-64-AVRO
 * fingerprint of the writer schema's parsing canonical form
 * (little-endian), then the Avro binary body.
 */
#ifndef FS_AVRO_SINGLE_OBJECT_H
#define FS_AVRO_SINGLE_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>

/* Size of the marker and fingerprint in front of the body. */
#define FS_AVRO_SINGLE_OBJECT_HEADER_LEN 10

/* The two bytes every single-object record starts with. */
extern const uint8_t fs_avro_single_object_marker[2];

/* Writes the marker and fingerprint into header (FS_AVRO_SINGLE_OBJECT_HEADER_LEN bytes). */
void fs_avro_single_object_header(uint8_t *header, uint64_t fingerprint);

/*
 * Returns the fingerprint of the header at buf, which must hold
 * FS_AVRO_SINGLE_OBJECT_HEADER_LEN bytes.  The marker is not checked.
 */
uint64_t fs_avro_single_object_fingerprint(const uint8_t *buf);

/*
 * Checks the header of buf (len bytes) and stores its fingerprint in
 * *fingerprint.  Returns 0, FS_ERR_TRUNCATED when buf ends inside the
 * header, or FS_ERR_INVALID when the marker is wrong.
 */
int fs_avro_single_object_read_header(const uint8_t *buf, size_t len, uint64_t *fingerprint);

/*
 * Writes the Avro binary encoding of value into buf after the header, with
 * writer (an avro-c memory writer, pointed at buf here).  cap is the size of
 * buf and at least FS_AVRO_SINGLE_OBJECT_HEADER_LEN.  Returns 0 with the
 * length of header and body in *len, FS_ERR_FULL when the body does not fit,
 * or FS_ERR_SYSTEM when avro-c fails (avro_strerror() returns the reason).
 */
int fs_avro_single_object_write_body(avro_writer_t writer, avro_value_t *value, uint8_t *buf,
				     size_t cap, size_t *len);

#endif
