/* time_range.c - the --from/--to range applied to topics and files. */
#include "time_range.h"

#include <stdio.h>
#include <time.h>

#define NS_PER_MS INT64_C(1000000)

static void
format_ms(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
time_range_check(const struct time_range *r, const char *command)
{
	char from[32], to[32];

	if (r->from_ms < 0 || r->to_ms < 0 || r->from_ms < r->to_ms)
		return 0;
	format_ms(r->from_ms, from, sizeof(from));
	format_ms(r->to_ms, to, sizeof(to));
	fprintf(stderr, "%s: --from (%s) is not before --to (%s), so the range is empty; "
		"give the earlier time to --from\n", command, from, to);
	return -1;
}

bool
time_range_contains(const struct time_range *r, int64_t time_ns)
{
	if (r->from_ms >= 0 && time_ns < r->from_ms * NS_PER_MS)
		return false;
	if (r->to_ms >= 0 && time_ns >= r->to_ms * NS_PER_MS)
		return false;
	return true;
}

bool
time_range_skips_archive(const struct time_range *r, const struct fs_archive_file *files,
			 size_t count, size_t i)
{
	if (r->from_ms < 0 || i + 1 >= count)
		return false;
	return files[i + 1].start_ns <= (r->from_ms - TIME_RANGE_CLOCK_MARGIN_MS) * NS_PER_MS;
}
