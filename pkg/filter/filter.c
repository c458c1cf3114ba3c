/* filter.c - evaluates compiled filters against flows. */
#include "filter/filter.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter/fields.h"
#include "filter/program.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/*
 * Reads an address field; an IPv4-mapped IPv6 address is returned as IPv4.
 * Returns NULL when the field is absent or unset.
 */
static const uint8_t *
read_addr(const struct fs_flow *flow, const struct fs_filter_field *field, uint8_t *family)
{
	const struct fs_addr *addr = (const struct fs_addr *)((const uint8_t *)flow + field->offset);

	if (field->present_bit != 0 && (flow->present & field->present_bit) == 0)
		return NULL;
	if (addr->family == 6 && memcmp(addr->bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
		*family = 4;
		return addr->bytes + 12;
	}
	if (addr->family != 4 && addr->family != 6)
		return NULL;
	*family = addr->family;
	return addr->bytes;
}

static bool
prefix_match(const struct fs_filter_value *prefix, uint8_t family, const uint8_t *bytes)
{
	unsigned whole = prefix->bits / 8u, rest = prefix->bits % 8u;

	if (prefix->family != family)
		return false;
	if (memcmp(prefix->bytes, bytes, whole) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xffu << (8u - rest));

		return ((prefix->bytes[whole] ^ bytes[whole]) & mask) == 0;
	}
	return true;
}

static bool
test_range(const struct fs_filter *f, const struct fs_filter_insn *insn,
	   const struct fs_flow *flow)
{
	const struct fs_filter_range *r = f->ranges + insn->a;
	uint64_t value;

	if (!fs_filter_field_uint(flow, insn->field, &value))
		return false;
	for (uint32_t i = 0; i < insn->b; i++) {
		if (value >= r[i].lo && value <= r[i].hi)
			return !insn->negate;
	}
	return insn->negate;
}

static bool
test_prefix(const struct fs_filter *f, const struct fs_filter_insn *insn,
	    const struct fs_flow *flow)
{
	const struct fs_filter_value *v = f->values + insn->a;
	const uint8_t *bytes;
	uint8_t family;

	bytes = read_addr(flow, &fs_filter_fields[insn->field], &family);
	if (bytes == NULL)
		return false;
	for (uint32_t i = 0; i < insn->b; i++) {
		if (prefix_match(&v[i], family, bytes))
			return !insn->negate;
	}
	return insn->negate;
}

/*
 * Returns true when the comma-separated list tags contains value: an item
 * equal to it, or, for a value without '=', an item whose key is value.
 */
static bool
tags_contain(const char *tags, size_t size, const struct fs_filter_value *value)
{
	const char *want = (const char *)value->bytes;
	bool key_only = memchr(want, '=', value->bits) == NULL;
	size_t pos = 0;

	while (pos < size && tags[pos] != '\0') {
		size_t end = pos, key_end;

		while (end < size && tags[end] != '\0' && tags[end] != ',')
			end++;
		key_end = pos;
		while (key_end < end && tags[key_end] != '=')
			key_end++;
		if ((end - pos == value->bits && strncasecmp(tags + pos, want, value->bits) == 0) ||
		    (key_only && key_end - pos == value->bits &&
		     strncasecmp(tags + pos, want, value->bits) == 0))
			return true;
		pos = end < size && tags[end] == ',' ? end + 1 : end;
	}
	return false;
}

static bool
test_bytes(const struct fs_filter *f, const struct fs_filter_insn *insn,
	   const struct fs_flow *flow)
{
	const struct fs_filter_field *field = &fs_filter_fields[insn->field];
	const char *data = (const char *)flow + field->offset;
	const struct fs_filter_value *v = f->values + insn->a;

	if (field->present_bit != 0 && (flow->present & field->present_bit) == 0)
		return false;
	for (uint32_t i = 0; i < insn->b; i++) {
		bool equal;

		if (insn->op == FS_OP_MAC) {
			equal = memcmp(data, v[i].bytes, 6) == 0;
		} else if (insn->op == FS_OP_TAG) {
			equal = tags_contain(data, field->size, &v[i]);
		} else {
			/* The field is NUL-padded; the value must fill it up to a NUL or its end. */
			equal = strncasecmp(data, (const char *)v[i].bytes, v[i].bits) == 0 &&
				(v[i].bits == field->size || data[v[i].bits] == '\0');
		}
		if (equal)
			return !insn->negate;
	}
	return insn->negate;
}

static bool
test_leaf(const struct fs_filter *f, const struct fs_filter_insn *insn,
	  const struct fs_flow *flow)
{
	uint64_t value;
	uint8_t family;

	switch (insn->op) {
	case FS_OP_TRUE:
		return true;
	case FS_OP_FALSE:
		return false;
	case FS_OP_RANGE:
		return test_range(f, insn, flow);
	case FS_OP_MASK:
		return fs_filter_field_uint(flow, insn->field, &value) &&
		       (value & insn->mask) == insn->mask;
	case FS_OP_PREFIX:
		return test_prefix(f, insn, flow);
	case FS_OP_MAC:
	case FS_OP_STRING:
	case FS_OP_TAG:
		return test_bytes(f, insn, flow);
	case FS_OP_FAMILY:
		return read_addr(flow, &fs_filter_fields[insn->field], &family) != NULL &&
		       family == insn->mask;
	default:
		return false;
	}
}

bool
fs_filter_match(const struct fs_filter *filter, const struct fs_flow *flow)
{
	bool result = false;

	for (size_t pc = 0; pc < filter->code_len; pc++) {
		const struct fs_filter_insn *insn = &filter->code[pc];

		switch (insn->op) {
		case FS_OP_JUMP_TRUE:
			if (result)
				pc = insn->a - 1u;
			break;
		case FS_OP_JUMP_FALSE:
			if (!result)
				pc = insn->a - 1u;
			break;
		case FS_OP_NOT:
			result = !result;
			break;
		default:
			result = test_leaf(filter, insn, flow);
			break;
		}
	}
	return result;
}

size_t
fs_filter_size(const struct fs_filter *filter)
{
	return filter->code_len;
}

void
fs_filter_free(struct fs_filter *filter)
{
	if (filter == NULL)
		return;
	free(filter->code);
	free(filter->ranges);
	free(filter->values);
	free(filter);
}
