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

/*
 * Trailing null branches that the unchecked writer stores with one 64-byte
 * copy after the last step.  A NetFlow v9 or IPFIX flow ends with about 40,
 * most of them the fields that flowsift-enrich adds.  As 3 steps, they cost
 * 36 more instructions per flow (callgrind).
 */
#define FS_AVRO_PLAN_TAIL_MAX 64

/*
 * Steps of one plan: a step per field with a value, plus a step per 16 null
 * branches that do not fit the prefix of the next value's step or the
 * trailing nulls.
 */
#define FS_AVRO_PLAN_STEP_CAP (FS_AVRO_PLAN_MAX_STEPS + FS_AVRO_PLAN_MAX_STEPS / 16 + 1)

/* op of a step that writes only its prefix of null branches. */
#define FS_AVRO_PLAN_OP_NULLS 0xff

/* One field to write, after a run of null union branches. */
struct fs_avro_plan_step {
	/*
	 * The bytes written before the value, the null branches and branch 1
	 * (prefix_len, at most 16), zero-padded to 16 bytes.
	 */
	uint8_t prefix[16];
	uint8_t prefix_len; /* nulls + branch */
	uint32_t offset;  /* of the field's member, copied from record->fields[field] */
	uint16_t field;   /* index in record->fields; unused for FS_AVRO_PLAN_OP_NULLS */
	uint16_t nulls;   /* null branches (one 0 byte each) written before the field */
	uint8_t branch;   /* 1: the field is a union, write branch 1 before its value */
	/* enum fs_avro_op, copied from record->fields[field], or FS_AVRO_PLAN_OP_NULLS */
	uint8_t op;
	uint16_t size;    /* copied from record->fields[field]; used when value_max_len() bounds it */
};

/*
 * The writes of one presence mask: which fields carry a value and how many
 * null branches lie before each.  Walking every field cost about 1,000 of
 * the writer's 2,130 instructions per NetFlow v9 flow (callgrind), most of
 * them on the 40-odd null fields.
 */
struct fs_avro_plan_entry {
	uint64_t mask;
	uint16_t step_count;
	uint16_t trailing_nulls;  /* after the last step, at most FS_AVRO_PLAN_TAIL_MAX */
	/*
	 * Free bytes at which every step is written without a check: the
	 * largest encoding plus the slack of the 8-, 16- and 64-byte stores.  0 when
	 * a field has no small bound (an array, heap bytes).
	 */
	uint32_t unchecked_room;
	struct fs_avro_plan_step steps[FS_AVRO_PLAN_STEP_CAP];
};

/* Presence masks a plan keeps at once. */
#define FS_AVRO_PLAN_ENTRIES 4

/*
 * The entries of the presence masks written last, built once and reused.
 * Most flows of an exporter share a mask, but ICMP flows add the type and
 * code.  With one entry, the 2% ICMP flows of `flowsift-bench gen` rebuilt
 * it for 3.9% of NetFlow v9 flows, about 80 instructions per flow
 * (callgrind).  The caller owns the plan and zero-initialises it.  A zeroed
 * plan has no entries.
 */
struct fs_avro_plan {
	const struct fs_avro_record *record;  /* the layout the entries were built for, NULL: none */
	uint8_t entry_count;                  /* entries built, up to FS_AVRO_PLAN_ENTRIES */
	uint8_t last;                         /* entry used last, looked up first */
	uint8_t next_victim;                  /* entry rebuilt next when all are taken */
	struct fs_avro_plan_entry entries[FS_AVRO_PLAN_ENTRIES];
};

/*
 * Writes like fs_avro_write_record(), to the same bytes and with the same
 * results.  Builds an entry of *plan when none has the record's presence
 * mask, in place of the oldest when all are taken, and clears the entries
 * first when record is not the plan's layout.  plan is not thread-safe.
 */
int fs_avro_write_record_planned(const struct fs_avro_record *record, struct fs_avro_plan *plan,
				 const void *base, uint8_t *buf, size_t cap, size_t *out_len);

#endif
