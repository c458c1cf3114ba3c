/*
 * clock.h - clock_gettime() readings as whole nanoseconds or milliseconds.
 *
 * CLOCK_MONOTONIC measures intervals and deadlines, and CLOCK_REALTIME gives
 * Unix time for timestamps.  The functions are thread-safe.  They ignore
 * clock_gettime()'s result, which fails only for an invalid clock id
 * (clock_gettime(2)), so pass CLOCK_MONOTONIC or CLOCK_REALTIME.
 */
#ifndef FS_CORE_CLOCK_H
#define FS_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Returns the time of clock in nanoseconds. */
int64_t fs_clock_ns(clockid_t clock);

/* Returns the time of clock in milliseconds, rounded down. */
int64_t fs_clock_ms(clockid_t clock);

/* Returns CLOCK_MONOTONIC in nanoseconds. */
int64_t fs_monotonic_ns(void);

/* Returns CLOCK_MONOTONIC in milliseconds. */
int64_t fs_monotonic_ms(void);

#endif
