/*
 * flow_source.h - the flows of capture files, Avro archive files or a time
 * range of a Kafka topic, filtered, for the commands that sum flows
 * (`flowsift report`, `flowsift graph`).
 *
 * Captures (pcap, pcapng, raw NetFlow/IPFIX/sFlow datagrams) go through one
 * decoder whose template cache spans all files.  A file that starts with
 * the Avro container magic is read as an archive of `flowsift capture`, and
 * a folder stands for every closed archive file in it, oldest first.
 * Topic messages that are not flow records are counted and reported on
 * stderr.  Errors are printed on stderr prefixed with the command name.
 *
 * opt->from_ms and opt->to_ms select messages of the topic by their
 * timestamp and flows of files by their receive time (time_range.h).
 * Archive files that hold only flows received before from_ms are not
 * read, in a folder and among FILE arguments.
 *
 * A file that cannot be read, or only up to damage, is reported on stderr
 * and counted in stats.damaged.  The other files are still read, so a
 * caller prints what was read and then fails.
 *
 * Unless opt->no_scale is set, sampled counters are scaled by the sampling
 * rate before the filter is applied, as flowsift-enrich does (flow_scale.h),
 * so flows.raw, captures and flows.enriched give the same numbers.
 */
#ifndef FS_CMD_FLOW_SOURCE_H
#define FS_CMD_FLOW_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/flow.h"

struct flow_source_options {
	const char *command;     /* "flowsift report": prefix of error messages */
	const char *filter_text; /* filter language (docs/filter.md), or NULL for all */
	const char *config_path; /* settings for the Kafka bootstrap, or NULL */
	const char *topic;       /* read this topic before the files, or NULL */
	int64_t from_ms;         /* first message or receive time, Unix ms; -1: the oldest */
	int64_t to_ms;           /* end of the range, exclusive; -1: topic: the newest at start, files: none */
	bool no_scale;           /* pass counters as exported, not scaled by the sampling rate */
};

struct flow_source_stats {
	uint64_t flows;          /* flows read */
	uint64_t outside;        /* flows of files received outside --from/--to, not passed on */
	uint64_t files_skipped;  /* archive files not read: all their flows were before --from */
	uint64_t matched;        /* flows that matched the filter and went to the callback */
	uint64_t damaged;        /* files read only up to damage, such as a cut-off end, or not at all */
	uint64_t files_removed;  /* archive files of a folder removed (retention) before they were read */
	char scaling[256];       /* one line on whether and how counters were scaled (flow_scale_describe()) */
};

/*
 * Called once per matching flow (borrowed, valid during the call).  Returns
 * 0, or a negative value to stop passing flows and fail.
 */
typedef int (*flow_source_fn)(const struct fs_flow *flow, void *opaque);

/*
 * Reads opt->topic (when set) and then files[0..nfiles), and calls fn for
 * each flow that matches opt->filter_text.  Returns 0; 1 when reading
 * failed or fn failed; 2 when the filter is invalid.  stats may be NULL.
 */
int flow_source_read(const struct flow_source_options *opt, int nfiles, char **files,
		     flow_source_fn fn, void *opaque, struct flow_source_stats *stats);

/*
 * Parses TIME as "now" (now_s), Unix seconds, a UTC date or date and time
 * (2026-01-31, 2026-01-31T12:00, 2026-01-31 12:00:00.250Z) or an age before
 * now_s (-15m, -2h, -1d, -30s), and stores Unix milliseconds in *ms.
 * Returns 0, or -1 for invalid text.
 */
int flow_source_parse_time(const char *text, int64_t now_s, int64_t *ms);

#endif
