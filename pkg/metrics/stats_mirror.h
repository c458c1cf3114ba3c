/*
 * stats_mirror.h - counter series that copy the uint64_t fields of a stats
 * struct (decoder, producer, consumer and so on).
 *
 * A module that keeps its own stats struct stays free of metrics: its owner
 * describes each field once in a table of struct fs_stats_mirror, registers
 * one counter per row and, after each poll, copies the struct's fields into
 * them.
 */
#ifndef FS_METRICS_STATS_MIRROR_H
#define FS_METRICS_STATS_MIRROR_H

#include <stddef.h>

struct fs_counter;
struct fs_metrics;

/* Maximum length of a series name with its prefix; fs_stats_mirror_register() cuts longer ones. */
#define FS_STATS_MIRROR_NAME_MAX 127

/* One uint64_t field of a stats struct and the counter series it is copied into. */
struct fs_stats_mirror {
	const char *name;     /* the series name after the prefix given at registration */
	const char *help;
	const char *labels;   /* "name=value,...", or NULL for none */
	size_t offset;        /* of the uint64_t field in the stats struct */
};

/*
 * Registers in m a counter named prefix + name for each of the count rows
 * and stores them in out[0..count).  prefix may be "".  Returns 0, or -1
 * when a registration failed (fs_metrics_counter() logs the reason).
 */
int fs_stats_mirror_register(struct fs_metrics *m, const char *prefix,
			     const struct fs_stats_mirror *mirrors, size_t count,
			     struct fs_counter **out);

/* Sets counters[i] to the field of stats that row i of mirrors names. */
void fs_stats_mirror_publish(const struct fs_stats_mirror *mirrors, size_t count,
			     struct fs_counter **counters, const void *stats);

#endif
