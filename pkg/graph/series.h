/*
 * series.h - bucketed time series for graphs: the top members of one
 * dimension plus "other", per traffic direction.
 *
 * A series set covers npoints buckets of step_s seconds each, from start_s.
 * Each bucket contains the SUM of the metric over the bucket (bits, packets
 * or flows), not a rate, and the renderer divides it by step_s.  Every sum is kept
 * three times, by enum fs_graph_direction:: inbound and outbound (the
 * traffic_direction of enriched flows) and undirected (internal, external,
 * or no direction at all).
 *
 * Series come from two places:
 *  - flows, through struct fs_graph_acc: each flow counts in the bucket of
 *    its start time (time_flow_start_ns, else time_received_ns), so a long
 *    flow counts whole in the bucket where it started;
 *  - the live Redis counters, through fs_graph_series_from_topn(), which
 *    have no direction, so every value is undirected.
 *
 * Memory is bounded by the named limits below: an accumulator tracks at most
 * FS_GRAPH_MAX_KEYS distinct members bucket by bucket (about 7 MB at
 * FS_GRAPH_MAX_POINTS), and the flows of members found after that count in
 * the totals, so in "other", and in fs_graph_acc_stats.untracked.
 */
#ifndef FS_GRAPH_SERIES_H
#define FS_GRAPH_SERIES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/flow.h"
#include "enrich/services.h"
#include "redis/topn_series.h"

#define FS_GRAPH_MAX_SERIES 20     /* largest number of named series (--top) */
#define FS_GRAPH_MAX_POINTS 300    /* largest number of buckets of one graph */
#define FS_GRAPH_MAX_KEYS 1024     /* members tracked bucket by bucket per accumulator */
#define FS_GRAPH_NAME_LEN 96       /* series name, NUL included; longer names are cut */
#define FS_GRAPH_OTHER_NAME "other"

enum fs_graph_by {
	FS_GRAPH_BY_PROTO,
	FS_GRAPH_BY_SERVICE,
	FS_GRAPH_BY_EXPORTER,
	FS_GRAPH_BY_INTERFACE,
	FS_GRAPH_BY_SRC_ADDR,
	FS_GRAPH_BY_DST_ADDR,
	FS_GRAPH_BY_COUNT
};

enum fs_graph_metric {
	FS_GRAPH_BITS,
	FS_GRAPH_PACKETS,
	FS_GRAPH_FLOWS,
	FS_GRAPH_METRIC_COUNT
};

enum fs_graph_direction {
	FS_GRAPH_INBOUND,
	FS_GRAPH_OUTBOUND,
	FS_GRAPH_UNDIRECTED,
	FS_GRAPH_DIRECTION_COUNT
};

/*
 * One graph's data.  Series 0 .. nseries-1 are the named members, largest
 * first over the whole range, with ties in ascending name order.  When
 * has_other is set, series nseries is FS_GRAPH_OTHER_NAME, which contains
 * the part of each bucket that the named series do not.  A fixed-size value of about 150 kB (3 x 21 x 300 sums),
 * so callers allocate it on the heap.
 */
struct fs_graph_series {
	enum fs_graph_by by;
	enum fs_graph_metric metric;
	int64_t start_s;          /* start of the first bucket, Unix s */
	int64_t step_s;           /* bucket width, s */
	int npoints;
	bool directional;         /* some value is inbound or outbound */
	int nseries;
	bool has_other;
	char names[FS_GRAPH_MAX_SERIES + 1][FS_GRAPH_NAME_LEN];
	uint64_t sum[FS_GRAPH_DIRECTION_COUNT][FS_GRAPH_MAX_SERIES + 1][FS_GRAPH_MAX_POINTS];
};

/* Command-line names ("proto", "bits") and phrases for titles ("protocol", "bits per second"). */
const char *fs_graph_by_name(enum fs_graph_by by);
const char *fs_graph_by_title(enum fs_graph_by by);
const char *fs_graph_metric_name(enum fs_graph_metric metric);
const char *fs_graph_metric_title(enum fs_graph_metric metric);
/* Unit of the metric's rate: "bit/s", "packets/s", "flows/s". */
const char *fs_graph_metric_unit(enum fs_graph_metric metric);

/* Parses a command-line name.  Returns 0, or FS_ERR_INVALID for an unknown name. */
int fs_graph_by_parse(const char *text, enum fs_graph_by *by);
int fs_graph_metric_parse(const char *text, enum fs_graph_metric *metric);

#define FS_GRAPH_MIN_WINDOW_S 600               /* 10 min */
#define FS_GRAPH_MAX_WINDOW_S (FS_GRAPH_MAX_POINTS * INT64_C(86400)) /* one-day buckets */

/*
 * Parses a window length: a positive number and a unit m, h or d (1h, 24h,
 * 7d, 90m) from FS_GRAPH_MIN_WINDOW_S to FS_GRAPH_MAX_WINDOW_S, into
 * seconds.  Returns 0, or FS_ERR_INVALID.
 */
int fs_graph_window_parse(const char *text, int64_t *seconds);

/*
 * Returns the bucket width for a graph of range_s seconds: the smallest of
 * 1, 5, 15, 30 min, 1, 3, 6, 12 h and 1 day that gives at most
 * FS_GRAPH_MAX_POINTS buckets (1 min for 1 h, 5 min for 24 h, 1 h for 7 days),
 * or FS_ERR_INVALID when range_s is not positive or even 1-day buckets are
 * too many.
 */
int64_t fs_graph_step_for_range(int64_t range_s);

/* Statistics of an accumulator, for the command's summary line. */
struct fs_graph_acc_stats {
	uint64_t added;       /* flows counted in a bucket */
	uint64_t outside;     /* flows before the range (or after a fixed end) */
	uint64_t no_key;      /* flows counted only in "other": they lack the dimension */
	uint64_t untracked;   /* flows counted only in "other": FS_GRAPH_MAX_KEYS was reached */
};

struct fs_graph_acc;

/*
 * Creates an accumulator of npoints (1 to FS_GRAPH_MAX_POINTS) buckets of
 * step_s seconds.  With end_s >= 0 the range is fixed and ends at end_s
 * (exclusive, rounded up to a bucket boundary).  With end_s -1 it ends with
 * the bucket of the latest flow added, and older flows that fall out of it
 * are dropped from every sum.  services (borrowed, may be NULL) names ports
 * of flows without a service name, for FS_GRAPH_BY_SERVICE.  Returns NULL
 * on a bad argument or when memory is short.
 */
struct fs_graph_acc *fs_graph_acc_new(enum fs_graph_by by, enum fs_graph_metric metric,
				      int64_t step_s, int npoints, int64_t end_s,
				      const struct fs_services *services);

/* Frees acc; NULL is ignored. */
void fs_graph_acc_free(struct fs_graph_acc *acc);

/*
 * Adds flow (borrowed) to its bucket.  Returns 0, or FS_ERR_SYSTEM when
 * memory for a new member is short (nothing of the flow is counted then).
 */
int fs_graph_acc_add(struct fs_graph_acc *acc, const struct fs_flow *flow);

void fs_graph_acc_stats(const struct fs_graph_acc *acc, struct fs_graph_acc_stats *stats);

/*
 * Fills *out with the n (1 to FS_GRAPH_MAX_SERIES) largest members over the
 * range and "other".  With no flow added and no fixed end, *out has no
 * points.  Returns 0, or FS_ERR_INVALID for a bad n.
 */
int fs_graph_acc_finish(const struct fs_graph_acc *acc, int n, struct fs_graph_series *out);

/*
 * Fills *out from a series of the live counters, for by.  Members become
 * the names that flows give: protocol numbers become names (6 -> tcp),
 * ports of a dst_port series become service names through services
 * (borrowed, may be NULL; TCP first, then UDP).  metric must match
 * in->metric (bits read bytes and multiply by 8).  Returns 0, or
 * FS_ERR_INVALID when in does not fit.
 */
int fs_graph_series_from_topn(const struct fs_topn_series *in, enum fs_graph_by by,
			      enum fs_graph_metric metric, const struct fs_services *services,
			      struct fs_graph_series *out);

/*
 * Returns the live dimension that serves by: proto, dst_port (for service),
 * exporter, in_if (for interface), src_addr or dst_addr.
 */
enum fs_topn_dim fs_graph_by_topn_dim(enum fs_graph_by by);

/* Returns the live metric that serves metric (bytes for bits). */
enum fs_topn_metric fs_graph_metric_topn(enum fs_graph_metric metric);

#endif
