/*
 * metrics.h - counters, gauges and histograms in the Prometheus text format.
 *
 * A registry holds metric families, each with a name, help text, a type and
 * one series per distinct label set.  Registering returns a pointer to the
 * series, which the owner updates with atomic operations: an update takes no
 * lock and allocates nothing, so the hot paths of a worker can count every
 * record.  fs_metrics_render() writes the exposition format version 0.0.4
 * (the `text/plain; version=0.0.4` content type that Prometheus scrapes):
 *
 *   # HELP flowsift_ingest_drops_total Datagrams and flows dropped, by reason.
 *   # TYPE flowsift_ingest_drops_total counter
 *   flowsift_ingest_drops_total{reason="truncated"} 3
 *
 * Names follow the Prometheus rules: metric names match
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and may not
 * start with "__"; histograms may not use the label "le".  Label sets are given
 * as text, "name=value,name=value", with values free of ',' and '='; the
 * registry escapes '\', '"' and newlines in values when rendering.
 *
 * Registering a name again with the same type and label set returns the
 * series already registered; the same name with another type or help text is
 * rejected.  Series live as long as the registry.
 *
 * Thread safety: registration and rendering take the registry's mutex, so
 * they may run on any thread (a worker's main thread registers while the
 * HTTP server's thread renders).  Updates are lock-free atomics and may run
 * on any thread.
 */
#ifndef FS_METRICS_METRICS_H
#define FS_METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Upper bounds of a histogram, +Inf excluded (it is always added). */
#define FS_METRICS_MAX_BUCKETS 24

struct fs_metrics;
struct fs_counter;
struct fs_gauge;
struct fs_histogram;

/* Creates an empty registry, or returns NULL when memory runs out.  Free with fs_metrics_free(). */
struct fs_metrics *fs_metrics_new(void);

/* Frees the registry and every series in it; the series pointers become invalid.  m may be NULL. */
void fs_metrics_free(struct fs_metrics *m);

/*
 * Registers a counter series: name (by convention ending in _total), help
 * text and labels ("" or NULL for none) are copied.  Returns the series, or
 * NULL when a name or label is invalid, the name is registered with another
 * type or help text, or memory runs out; the reason is logged.
 */
struct fs_counter *fs_metrics_counter(struct fs_metrics *m, const char *name,
				      const char *help, const char *labels);

/* Registers a gauge series; same arguments and returns as fs_metrics_counter(). */
struct fs_gauge *fs_metrics_gauge(struct fs_metrics *m, const char *name,
				  const char *help, const char *labels);

/*
 * Registers a histogram series with count upper bounds (1..FS_METRICS_MAX_BUCKETS,
 * strictly increasing, borrowed) plus +Inf.  Every series of one family must
 * use the same bounds.  Returns as fs_metrics_counter().
 */
struct fs_histogram *fs_metrics_histogram(struct fs_metrics *m, const char *name,
					  const char *help, const char *labels,
					  const double *bounds, size_t count);

void fs_counter_add(struct fs_counter *c, uint64_t n);

/*
 * Sets the counter to value, for mirroring a monotonic counter that another
 * struct keeps (struct fs_decoder_stats, for one).  The caller keeps value
 * from going down, since a falling counter reads as a restart to Prometheus.
 */
void fs_counter_set(struct fs_counter *c, uint64_t value);

uint64_t fs_counter_value(const struct fs_counter *c);

void fs_gauge_set(struct fs_gauge *g, int64_t value);
void fs_gauge_add(struct fs_gauge *g, int64_t delta);
int64_t fs_gauge_value(const struct fs_gauge *g);

/* Counts one observation of value (seconds, for latencies) in its bucket and in the sum. */
void fs_histogram_observe(struct fs_histogram *h, double value);

/*
 * Renders every family in the text exposition format into a new
 * NUL-terminated buffer stored in *out (the caller frees it with free()) and
 * its length, without the NUL, in *len.  Returns 0, or FS_ERR_SYSTEM when
 * memory runs out.
 */
int fs_metrics_render(struct fs_metrics *m, char **out, size_t *len);

#endif
