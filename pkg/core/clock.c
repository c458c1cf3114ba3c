/* clock.c - clock_gettime() readings as whole units. */
#include "core/clock.h"

int64_t
fs_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
fs_clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
fs_monotonic_ns(void)
{
	return fs_clock_ns(CLOCK_MONOTONIC);
}

int64_t
fs_monotonic_ms(void)
{
	return fs_clock_ms(CLOCK_MONOTONIC);
}
