/*
 * record_layout.h - where the fields of an Avro record live in a C struct.
 *
 * A record layout (struct fs_avro_record) lists the Avro fields of a record
 * in schema order.  Each entry names the C member that contains the value
 * (offset and size), its Avro type and C type (enum fs_avro_op) and, for an
 * optional field, the presence bit that selects the branch of its
 * ["null", T] union.  avro/binary_writer.h and avro/binary_reader.h walk a
 * layout to write and read the Avro binary encoding without avro-c.
 *
 * Layouts are trusted program data, built by the program (see
 * flow_codec.c): they are not validated at run time.
 */
#ifndef FS_AVRO_RECORD_LAYOUT_H
#define FS_AVRO_RECORD_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Avro type of a field and the C type of its member.  The reader rejects a
 * value that does not fit the member, such as an int above 255 for a
 * uint8_t.
 */
enum fs_avro_op {
	FS_AVRO_OP_INT_U8,      /* uint8_t as an Avro int */
	FS_AVRO_OP_INT_U16,     /* uint16_t as an Avro int */
	FS_AVRO_OP_LONG_U32,    /* uint32_t as an Avro long */
	FS_AVRO_OP_LONG_U64,    /* uint64_t as an Avro long with the same 64 bits */
	FS_AVRO_OP_LONG_I64,    /* int64_t as an Avro long */
	FS_AVRO_OP_ENUM_U8,     /* uint8_t symbol index, below size symbols */
	/*
	 * char[size], written up to the first NUL or size bytes.  Read back
	 * only when shorter than size and valid UTF-8 without control
	 * characters (the text fs_flow_set_text() keeps unchanged).
	 */
	FS_AVRO_OP_STRING,
	FS_AVRO_OP_BYTES,       /* uint8_t[size] as bytes of length size */
	/* struct fs_addr as bytes of 16, 4 or 0 (family 6, 4, other); 0 reads as cleared */
	FS_AVRO_OP_ADDR,
	FS_AVRO_OP_ARRAY,       /* array of items records, see struct fs_avro_field */
	/*
	 * bytes kept in the heap of the outermost record (struct
	 * fs_avro_record): the uint16_t member at offset is the start in the
	 * heap and the uint16_t member at count_offset the length.  The reader
	 * appends the value to the heap; a value that does not fit is invalid.
	 */
	FS_AVRO_OP_HEAP_BYTES,
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
	/*
	 * FS_AVRO_OP_ARRAY: offset of the uint32_t item count.
	 * FS_AVRO_OP_HEAP_BYTES: offset of the uint16_t length.
	 */
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
	/*
	 * Byte heap of FS_AVRO_OP_HEAP_BYTES values in nested records: heap_size
	 * bytes at heap_offset, of which the uint16_t at heap_used_offset are
	 * taken.  Only the outermost record's heap counts; heap_size 0 means
	 * none, and then every heap value must be empty.
	 */
	size_t heap_offset;
	size_t heap_size;
	size_t heap_used_offset;
};

#endif
