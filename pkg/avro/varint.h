/*
 * varint.h - reading the zigzag varints of the Avro binary encoding.
 *
 * Avro writes int and long values, lengths, union branches and enum
 * indexes as zigzag varints: 7 bits per byte, least significant first, the
 * high bit set on every byte but the last.  An int takes at most 5 bytes
 * and a long at most 10.
 */
#ifndef FS_AVRO_VARINT_H
#define FS_AVRO_VARINT_H

#include <stdint.h>

#include "core/result.h"

/* Maximum varint length in bytes of an Avro int (32 bits) and of a long (64 bits). */
#define FS_AVRO_INT_VARINT_MAX 5
#define FS_AVRO_LONG_VARINT_MAX 10

/*
 * Reads one zigzag varint of at most max_bytes bytes from *p, which must
 * not lie past end, into *out and moves *p past it.  Returns 0,
 * FS_ERR_TRUNCATED when the input ends inside the varint, or FS_ERR_INVALID
 * when it runs longer than max_bytes; *p has then moved past the bytes
 * read and *out is unchanged.
 */
static inline int
fs_avro_varint_read(const uint8_t **p, const uint8_t *end, int max_bytes, int64_t *out)
{
	uint64_t value = 0;

	for (int i = 0; i < max_bytes; i++) {
		uint8_t byte;

		if (*p == end)
			return FS_ERR_TRUNCATED;
		byte = *(*p)++;
		value |= (uint64_t)(byte & 0x7f) << (7 * i);
		if ((byte & 0x80) == 0) {
			*out = (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
			return 0;
		}
	}
	return FS_ERR_INVALID;
}

#endif
