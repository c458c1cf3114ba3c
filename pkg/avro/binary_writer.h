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
 * fs_avro_write_record_planned() writes the same bytes faster with a plan
 * that the caller keeps, one per thread.
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

/* Records with more fields than this are written without a plan. */
#define FS_AVRO_PLAN_MAX_STEPS 128

/* One field to write, after a run of null union branches. */
struct fs_avro_plan_step {
	/*
	 * The bytes written before the value, the null branches and branch 1,
	 * when they are 16 or fewer (prefix_len), zero-padded to 16 bytes.
	 */
	uint8_t prefix[16];
	uint8_t prefix_len; /* nulls + branch */
	uint32_t offset;  /* of the field's member, copied from record->fields[field] */
	uint16_t field;   /* index in record->fields */
	uint16_t nulls;   /* null branches (one 0 byte each) written before the field */
	uint8_t branch;   /* 1: the field is a union, write branch 1 before its value */
	uint8_t op;       /* enum fs_avro_op, copied from record->fields[field] */
	uint16_t size;    /* copied from record->fields[field]; used when value_max_len() bounds it */
};

/*
 * The writes of one presence mask: which fields carry a value and how many
 * null branches lie before each.  Most flows of an exporter share one mask,
 * so the plan is built once and reused.  Walking every field cost about
 * 1,000 of the writer's 2,130 instructions per NetFlow v9 flow (callgrind),
 * most of them on the 40-odd null fields.  The caller owns the plan and
 * zero-initialises it; a zeroed plan is built at first use.
 */
struct fs_avro_plan {
	const struct fs_avro_record *record;  /* the layout it was built for, NULL: none */
	uint64_t mask;
	uint16_t step_count;
	uint16_t trailing_nulls;
	/*
	 * Free bytes at which every step is written without a check: the
	 * largest encoding plus the slack of the 8- and 16-byte stores.  0 when
	 * a field has no small bound (an array, heap bytes).
	 */
	uint32_t unchecked_room;
	struct fs_avro_plan_step steps[FS_AVRO_PLAN_MAX_STEPS];
};

/*
 * Writes like fs_avro_write_record(), to the same bytes and with the same
 * results, and rebuilds *plan when record or its presence mask differs from
 * the plan's.  plan is not thread-safe.
 */
int fs_avro_write_record_planned(const struct fs_avro_record *record, struct fs_avro_plan *plan,
				 const void *base, uint8_t *buf, size_t cap, size_t *out_len);

#endif
