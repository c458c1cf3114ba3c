/* avro_pad.c - re-encodes an Avro single-object message with the longest varints. */
#include "avro_pad.h"

#include <stdbool.h>
#include <string.h>

#include <avro.h>

/* Header of the single-object encoding: marker and fingerprint. */
#define HEADER_LEN 10

struct pad {
	const uint8_t *in;
	const uint8_t *in_end;
	uint8_t *out;
	uint8_t *out_end;
};

/* Reads one varint's raw 7-bit groups into *value. */
static bool
read_varint(struct pad *p, uint64_t *value)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		uint8_t b;

		if (p->in == p->in_end)
			return false;
		b = *p->in++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* Writes value as a varint of exactly width bytes. */
static bool
write_varint(struct pad *p, uint64_t value, int width)
{
	if (p->out_end - p->out < width)
		return false;
	for (int i = 0; i < width - 1; i++) {
		*p->out++ = (uint8_t)((value & 0x7f) | 0x80);
		value >>= 7;
	}
	*p->out++ = (uint8_t)(value & 0x7f);
	return true;
}

/* Copies one varint, padded to width bytes; stores its zigzag-decoded value in *decoded. */
static bool
pad_varint(struct pad *p, int width, int64_t *decoded)
{
	uint64_t v;

	if (!read_varint(p, &v) || !write_varint(p, v, width))
		return false;
	if (decoded)
		*decoded = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
	return true;
}

static bool
copy_bytes(struct pad *p, size_t n)
{
	if ((size_t)(p->in_end - p->in) < n || (size_t)(p->out_end - p->out) < n)
		return false;
	memcpy(p->out, p->in, n);
	p->in += n;
	p->out += n;
	return true;
}

static bool
pad_datum(struct pad *p, avro_schema_t schema)
{
	int64_t n;

	switch (avro_typeof(schema)) {
	case AVRO_NULL:
		return true;
	case AVRO_BOOLEAN:
		return copy_bytes(p, 1);
	case AVRO_FLOAT:
		return copy_bytes(p, 4);
	case AVRO_DOUBLE:
		return copy_bytes(p, 8);
	case AVRO_FIXED:
		return copy_bytes(p, (size_t)avro_schema_fixed_size(schema));
	case AVRO_INT32:
	case AVRO_ENUM:
		return pad_varint(p, 5, NULL);
	case AVRO_INT64:
		return pad_varint(p, 10, NULL);
	case AVRO_STRING:
	case AVRO_BYTES:
		return pad_varint(p, 10, &n) && n >= 0 && copy_bytes(p, (size_t)n);
	case AVRO_RECORD:
		for (size_t i = 0; i < avro_schema_record_size(schema); i++) {
			if (!pad_datum(p, avro_schema_record_field_get_by_index(schema, (int)i)))
				return false;
		}
		return true;
	case AVRO_UNION:
		if (!pad_varint(p, 5, &n) || n < 0 || (size_t)n >= avro_schema_union_size(schema))
			return false;
		return pad_datum(p, avro_schema_union_branch(schema, (int)n));
	case AVRO_ARRAY:
		/* Blocks of items until a count of 0; a negative count is followed by a byte size. */
		for (;;) {
			if (!pad_varint(p, 5, &n))
				return false;
			if (n == 0)
				return true;
			if (n < 0) {
				n = -n;
				if (!pad_varint(p, 10, NULL))
					return false;
			}
			for (int64_t i = 0; i < n; i++) {
				if (!pad_datum(p, avro_schema_array_items(schema)))
					return false;
			}
		}
	case AVRO_LINK:
		return pad_datum(p, avro_schema_link_target(schema));
	default:
		return false;
	}
}

size_t
fs_test_avro_pad(const char *schema_json, const uint8_t *in, size_t in_len, uint8_t *out,
		 size_t cap)
{
	struct pad p = { in + HEADER_LEN, in + in_len, out + HEADER_LEN, out + cap };
	avro_schema_t schema;
	bool ok;

	if (in_len < HEADER_LEN || cap < HEADER_LEN ||
	    avro_schema_from_json_length(schema_json, strlen(schema_json), &schema) != 0)
		return 0;
	memcpy(out, in, HEADER_LEN);
	ok = pad_datum(&p, schema) && p.in == p.in_end;
	avro_schema_decref(schema);
	return ok ? (size_t)(p.out - out) : 0;
}
