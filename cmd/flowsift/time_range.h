/*
 * time_range.h - the --from/--to range of `flowsift print`, `report` and
 * `graph`.
 *
 * A topic range selects messages by their Kafka timestamp, which the
 * producer sets when it sends (flowsift-ingest for flows.raw, enrich for
 * flows.enriched).  Flows of files (captures and the archive files of
 * `flowsift capture`) are kept by their receive time, time_received_ns,
 * which ingest set for flows.raw and the decoder sets from the capture's
 * packet time.
 */
#ifndef FS_CMD_TIME_RANGE_H
#define FS_CMD_TIME_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/archive_dir.h"

/*
 * Margin for clocks that differ between the host of ingest and the host of
 * `flowsift capture` when whole archive files are skipped.  A guess: hosts
 * kept in sync by NTP differ by far less.
 */
#define TIME_RANGE_CLOCK_MARGIN_MS (60 * 1000)

struct time_range {
	int64_t from_ms;   /* Unix ms, first time kept; -1: no lower bound */
	int64_t to_ms;     /* Unix ms, end of the range, exclusive; -1: no upper bound */
};

/*
 * Returns 0, or -1 after printing "command: --from ... is not before --to
 * ..." on stderr when both bounds are set and the range is empty.
 */
int time_range_check(const struct time_range *r, const char *command);

/* Returns whether Unix time time_ns falls in r. */
bool time_range_contains(const struct time_range *r, int64_t time_ns);

/*
 * Returns whether files[i] of an archive listing (count files, oldest
 * first) holds only flows received before r->from_ms, so it need not be
 * read.  A file's name gives the time `flowsift capture` wrote its first
 * flow, and every flow in it was written, so received, before the next
 * file started.  The newest file is never skipped.
 */
bool time_range_skips_archive(const struct time_range *r, const struct fs_archive_file *files,
			      size_t count, size_t i);

/*
 * Returns whether the archive file at path holds only flows received before
 * r->from_ms, as above, when next_path (NULL for none) is a later archive
 * file of the same folder, as in the sorted names of a shell glob such as
 * archive/flows-*.avro.  Paths that are not archive file names are never
 * skipped.
 */
bool time_range_skips_archive_path(const struct time_range *r, const char *path,
				   const char *next_path);

#endif
