/*
 * fields.h - the flow fields a filter expression can test.
 *
 * One table row per field of struct fs_flow (pkg/core/flow.h), named as in
 * the Avro schema (src_port, in_if, ...), plus computed fields (duration,
 * bps, pps, bpp, dscp, and nfdump's icmp-type and icmp-code).  A row gives the field's kind, which decides how its
 * values are written in a filter and how it is compared, its offset and
 * size in struct fs_flow and its presence bit.  Adding a field to the flow
 * record takes one row in fields.c.
 *
 * A second table maps the nfdump-style keywords (port, host, net, as, if,
 * mask, mac, proto, ...) to one field, or to a source and a destination
 * field for the keywords that take a direction (`src port 25`).
 *
 * Values absent from a flow (presence bit clear, or a computed field whose
 * inputs are absent) make every comparison on that field false.
 */
#ifndef FS_FILTER_FIELDS_H
#define FS_FILTER_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

enum fs_filter_kind {
	FS_FK_UINT,     /* unsigned integer of size 1, 2, 4 or 8 bytes */
	FS_FK_INT64,    /* signed 64-bit integer (times in Unix ns) */
	FS_FK_FLAGS,    /* TCP flags: letters or a number */
	FS_FK_ADDR,     /* struct fs_addr: address or CIDR prefix */
	FS_FK_MAC,      /* 6-byte MAC address */
	FS_FK_COMPUTED, /* unsigned value computed from other fields, size bytes wide */
	FS_FK_STRING,   /* NUL-terminated char array, compared case-insensitively */
	FS_FK_TAGS,     /* comma-separated key=value tags in a char array */
};

/* A symbolic value of a numeric field ("tcp" for proto 6). */
struct fs_filter_name {
	const char *name;
	uint64_t value;
};

/* Computes a value from flow; returns false when its inputs are absent. */
typedef bool fs_filter_compute_fn(const struct fs_flow *flow, uint64_t *value);

struct fs_filter_field {
	const char *name;            /* schema name, as written in filters */
	enum fs_filter_kind kind;
	uint16_t offset;             /* in struct fs_flow */
	uint16_t size;               /* bytes */
	uint64_t present_bit;        /* enum fs_flow_field bit; 0: always present */
	const struct fs_filter_name *names; /* symbolic values, NULL-terminated; or NULL */
	fs_filter_compute_fn *compute;      /* FS_FK_COMPUTED only */
	const char *doc;             /* one line for docs and error messages */
};

/*
 * A keyword primitive.  Directional keywords name a source and a
 * destination field; without `src` or `dst` they match either.  Others name
 * only src_field, and dst_field is NULL.
 */
struct fs_filter_keyword {
	const char *keyword;
	const char *src_field;
	const char *dst_field;
};

extern const struct fs_filter_field fs_filter_fields[];
extern const size_t fs_filter_field_count;
extern const struct fs_filter_keyword fs_filter_keywords[];
extern const size_t fs_filter_keyword_count;

/* Returns the index of the field named name (len bytes, case-insensitive), or -1. */
int fs_filter_field_find(const char *name, size_t len);

/* Returns the keyword row for name (len bytes, case-insensitive), or NULL. */
const struct fs_filter_keyword *fs_filter_keyword_find(const char *name, size_t len);

/*
 * Reads field index from flow as an unsigned number (FS_FK_UINT, FS_FK_FLAGS,
 * FS_FK_COMPUTED; FS_FK_INT64 with the sign bit flipped so that the order is
 * kept).  Returns false when the field is absent.
 */
bool fs_filter_field_uint(const struct fs_flow *flow, int index, uint64_t *value);

#endif
