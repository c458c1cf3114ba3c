/* stats_mirror.c - counter series that copy the fields of a stats struct. */
#include "metrics/stats_mirror.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "metrics/metrics.h"

int
fs_stats_mirror_register(struct fs_metrics *m, const char *prefix,
			 const struct fs_stats_mirror *mirrors, size_t count,
			 struct fs_counter **out)
{
	char name[FS_STATS_MIRROR_NAME_MAX + 1];

	for (size_t i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "%s%s", prefix, mirrors[i].name);
		out[i] = fs_metrics_counter(m, name, mirrors[i].help, mirrors[i].labels);
		if (!out[i])
			return -1;
	}
	return 0;
}

void
fs_stats_mirror_publish(const struct fs_stats_mirror *mirrors, size_t count,
			struct fs_counter **counters, const void *stats)
{
	for (size_t i = 0; i < count; i++) {
		uint64_t value;

		memcpy(&value, (const char *)stats + mirrors[i].offset, sizeof(value));
		fs_counter_set(counters[i], value);
	}
}
