/*
 * binary_writer.h - Avro binary encoding written straight from a C struct.
 *
 * A record layout (struct fs_avro_record) lists the Avro fields of a record
 * in schema order.  Each entry names the C member that holds the value
 * (offset and size), how to write it (enum fs_avro_op) and, for an optional
 * field, the presence bit that selects the branch of its ["null", T] union.
 * fs_avro_write_record() walks the layout and writes the record's Avro binary
 * encoding (Avro 1.11 specification, "Binary Encoding") into a caller's
 * buffer:
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
 * Layouts are trusted program data: they are not validated at run time.
 */
#ifndef FS_AVRO_BINARY_WRITER_H
#define FS_AVRO_BINARY_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* How a member is written; the C type it reads is given for each. */
enum fs_avro_op {
	FS_AVRO_OP_INT_U8,      /* uint8_t as an Avro int */
	FS_AVRO_OP_INT_U16,     /* uint16_t as an Avro int */
	FS_AVRO_OP_LONG_U32,    /* uint32_t as an Avro long */
	FS_AVRO_OP_LONG_U64,    /* uint64_t as an Avro long with the same 64 bits */
	FS_AVRO_OP_LONG_I64,    /* int64_t as an Avro long */
	FS_AVRO_OP_ENUM_U8,     /* uint8_t symbol index, below size symbols */
	FS_AVRO_OP_STRING,      /* char[size], up to the first NUL or size bytes */
	FS_AVRO_OP_BYTES,       /* uint8_t[size] as bytes of length size */
	FS_AVRO_OP_ADDR,        /* struct fs_addr as bytes of 16, 4 or 0 (family 6, 4, other) */
	FS_AVRO_OP_ARRAY,       /* array of items records, see struct fs_avro_field */
};

struct fs_avro_record;

/* One field of a record layout. */
struct fs_avro_field {
	enum fs_avro_op op;
	/*
	 * Presence bit in the record's presence mask, or 0 for a field that is
	 * always written.  A field with a bit is the union ["null", T]: branch
	 * 1 and the value when the bit is set, branch 0 (null) when clear.
	 */
	uint64_t presence_bit;
	size_t offset;          /* of the member in the struct */
	/*
	 * FS_AVRO_OP_STRING and FS_AVRO_OP_BYTES: member size in bytes.
	 * FS_AVRO_OP_ENUM_U8: number of symbols.  FS_AVRO_OP_ARRAY: size of
	 * one item struct (the array stride).  Unused otherwise.
	 */
	size_t size;
	/* FS_AVRO_OP_ARRAY only: offset of the uint32_t item count. */
	size_t count_offset;
	/* FS_AVRO_OP_ARRAY only: capacity of the C array, the largest valid count. */
	uint32_t max_items;
	/* FS_AVRO_OP_ARRAY only: layout of one item (borrowed, static). */
	const struct fs_avro_record *items;
};

/* presence_offset of a record without optional fields. */
#define FS_AVRO_NO_PRESENCE SIZE_MAX

/* Layout of one Avro record: its fields in schema order. */
struct fs_avro_record {
	const struct fs_avro_field *fields;   /* borrowed */
	size_t field_count;
	/* Offset of the uint64_t presence mask, or FS_AVRO_NO_PRESENCE. */
	size_t presence_offset;
};

/*
 * Writes the Avro binary encoding of the struct at base, laid out as
 * record, into buf (cap bytes) and stores the byte count in *out_len.
 * Returns 0, FS_ERR_FULL when cap is too small (buf then holds a partial
 * encoding), or FS_ERR_INVALID when an enum index is not below its symbol
 * count or an array count exceeds max_items.
 */
int fs_avro_write_record(const struct fs_avro_record *record, const void *base,
			 uint8_t *buf, size_t cap, size_t *out_len);

#endif
