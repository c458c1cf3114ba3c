/* time_range.c - the --from/--to range applied to topics and files. */
#include "time_range.h"

#include <stdio.h>
#include <string.h>
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

/* Returns whether every flow written before next_start_ns was received before r->from_ms. */
static bool
written_before_from(const struct time_range *r, int64_t next_start_ns)
{
	return r->from_ms >= 0 &&
	       next_start_ns <= (r->from_ms - TIME_RANGE_CLOCK_MARGIN_MS) * NS_PER_MS;
}

bool
time_range_skips_archive(const struct time_range *r, const struct fs_archive_file *files,
			 size_t count, size_t i)
{
	if (i + 1 >= count)
		return false;
	return written_before_from(r, files[i + 1].start_ns);
}

/* Returns the file name of path and stores the length of its folder part in *dir_len. */
static const char *
file_name(const char *path, size_t *dir_len)
{
	const char *slash = strrchr(path, '/');

	*dir_len = slash ? (size_t)(slash - path) : 0;
	return slash ? slash + 1 : path;
}

bool
time_range_skips_archive_path(const struct time_range *r, const char *path,
			      const char *next_path)
{
	size_t dir_len, next_dir_len;
	const char *name, *next_name;
	int64_t start_ns, next_start_ns;

	if (r->from_ms < 0 || next_path == NULL)
		return false;
	name = file_name(path, &dir_len);
	next_name = file_name(next_path, &next_dir_len);
	if (dir_len != next_dir_len || strncmp(path, next_path, dir_len) != 0)
		return false;
	if (fs_archive_parse_name(name, &start_ns) != 0 ||
	    fs_archive_parse_name(next_name, &next_start_ns) != 0 || next_start_ns <= start_ns)
		return false;
	return written_before_from(r, next_start_ns);
}
