/*
 * count.h - saturating sums of flow counters.
 *
 * An exporter may send any 64-bit byte or packet count, up to 2^64 - 1, and
 * a hostile one will.  Sums of such counts must neither wrap nor break the
 * stores they reach: Redis keeps top-N sums as double scores and the
 * detection counters as 64-bit signed integers updated from Lua, whose
 * numbers are doubles.  Every integer up to 2^53 is exact in a double, so
 * sums stop at FS_COUNT_MAX (about 9 * 10^15, 9 PB of bytes): a sum that
 * reaches it stays there.
 */
#ifndef FS_CORE_COUNT_H
#define FS_CORE_COUNT_H

#include <stdint.h>

#define FS_COUNT_MAX ((UINT64_C(1) << 53) - 1)

/* Returns value, or FS_COUNT_MAX when it is larger. */
static inline uint64_t
fs_count_clamp(uint64_t value)
{
	return value > FS_COUNT_MAX ? FS_COUNT_MAX : value;
}

/* Returns sum + value, stopping at FS_COUNT_MAX; sum may be any value. */
static inline uint64_t
fs_count_add(uint64_t sum, uint64_t value)
{
	sum = fs_count_clamp(sum);
	value = fs_count_clamp(value);
	return value > FS_COUNT_MAX - sum ? FS_COUNT_MAX : sum + value;
}

#endif
