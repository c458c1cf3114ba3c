/*
 * binary_writer.h - Avro binary encoding written straight from a C struct.
 *
 * fs_avro_write_record() walks a record layout (avro/record_layout.h) and
 * writes the record's Avro binary encoding (Avro 1.11 specification,
 * "Binary Encoding") into a caller's buffer:
 *
 *   int, long, enum index, union branch   zigzag varint, 1 to 10 bytes
 *   bytes, string                         long length, then the raw bytes
 *   array                                 long item count, the items, then a
 *                                         0 count (no block when empty)
 *   record                                its fields in order, no framing
 *
 * The output is byte for byte what avro-c 1.11's avro_value_write() writes
 * for the same values (tests/test_avro_writer.c and tests/test_avro.c
 * compare both).  New fields of an existing kind need only a new table
 * entry; a field that is an array of records points to the layout of its
 * items.
 *
 * The writer reads the struct through the layout only, allocates nothing
 * and keeps no state, so one layout may be used by any number of threads.
 */
#ifndef FS_AVRO_BINARY_WRITER_H
#define FS_AVRO_BINARY_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "avro/record_layout.h"

/*
 * Writes the Avro binary encoding of the struct at base, laid out as
 * record, into buf (cap bytes) and stores the byte count in *out_len.
 * Returns 0, FS_ERR_FULL when cap is too small (buf then contains a partial
 * encoding), or FS_ERR_INVALID when an enum index is not below its symbol
 * count or an array count exceeds max_items.
 */
int fs_avro_write_record(const struct fs_avro_record *record, const void *base,
			 uint8_t *buf, size_t cap, size_t *out_len);

#endif
