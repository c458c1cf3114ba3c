/*
 * program.h - the compiled form of a filter, shared by the parser
 * (parser.c), which builds it, and the evaluator (filter.c).
 *
 * Internal to pkg/filter.  The parser first builds a tree in a flat array
 * of struct fs_filter_insn (children are indices, value lists are offset and
 * count into the pools).  Code generation then turns that tree into a
 * linear program of the same structs: leaf tests set a result register,
 * FS_OP_NOT inverts it, and FS_OP_JUMP_TRUE / FS_OP_JUMP_FALSE skip forward
 * to short-circuit `or` and `and`.  Jumps only go forward, so evaluation
 * always ends.
 */
#ifndef FS_FILTER_PROGRAM_H
#define FS_FILTER_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "filter/filter.h"

enum fs_filter_op {
	/* tree only */
	FS_OP_AND,
	FS_OP_OR,
	/* tree and program */
	FS_OP_NOT,
	FS_OP_TRUE,
	FS_OP_FALSE,
	FS_OP_RANGE,     /* numeric field within one of ranges[a..a+b) */
	FS_OP_MASK,      /* numeric field has every bit of mask set */
	FS_OP_PREFIX,    /* address field within one of values[a..a+b) */
	FS_OP_MAC,       /* MAC field equal to one of values[a..a+b) */
	FS_OP_FAMILY,    /* address field of address family mask (4 or 6) */
	FS_OP_STRING,    /* string field equal to one of values[a..a+b) */
	FS_OP_TAG,       /* tag list field containing one of values[a..a+b) */
	/* program only */
	FS_OP_JUMP_TRUE, /* a: target index */
	FS_OP_JUMP_FALSE,
};

/* Direction of a primitive in the tree; code generation expands it. */
enum fs_filter_dir {
	FS_DIR_NONE,    /* single-field primitive */
	FS_DIR_UNSPEC,  /* directional keyword written without src or dst: either */
	FS_DIR_SRC,
	FS_DIR_DST,
	FS_DIR_EITHER,  /* any, or `src or dst` */
	FS_DIR_BOTH,    /* `src and dst` */
};

struct fs_filter_insn {
	uint8_t op;       /* enum fs_filter_op */
	uint8_t negate;   /* leaf: invert the result when the field is present */
	uint8_t dir;      /* tree only: enum fs_filter_dir */
	uint8_t pad;
	int16_t field;    /* index into fs_filter_fields (source field) */
	int16_t field_dst;/* tree only: destination field, or -1 */
	uint32_t a;       /* children: left; leaves: pool offset; jumps: target */
	uint32_t b;       /* children: right; leaves: pool count */
	uint64_t mask;    /* FS_OP_MASK bits, FS_OP_FAMILY family */
};

struct fs_filter_range {
	uint64_t lo;
	uint64_t hi;
};

/* Longest string value, in bytes; the longest text field of struct fs_flow fits. */
#define FS_FILTER_STRING_MAX 96u

/* An address prefix, a MAC address or a string. */
struct fs_filter_value {
	uint8_t family;   /* 4 or 6 for prefixes */
	uint8_t bits;     /* prefix length; string length */
	uint8_t bytes[FS_FILTER_STRING_MAX];
};

struct fs_filter {
	struct fs_filter_insn *code;
	size_t code_len;
	struct fs_filter_range *ranges;
	size_t range_count;
	struct fs_filter_value *values;
	size_t value_count;
};

#endif
