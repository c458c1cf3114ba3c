/*
 * topn.h - rolling top-N counters in Redis sorted sets.
 *
 * Model
 * -----
 * Twelve dimensions (enum fs_topn_dim, listed with their members below)
 * are counted by three metrics (bytes, packets, flows) over four windows
 * (1m, 5m, 1h, 24h).  Time is the ARRIVAL time that the caller passes to
 * fs_topn_flush(), not the flow's own timestamps, so a replayed old capture
 * counts as traffic seen now.
 *
 * Each window is read from one resolution of time buckets:
 *
 *   window  resolution  buckets  key expiry (EXPIRE)
 *   1m      10 s        6        900 s   (15 min)
 *   5m      60 s        5        1200 s  (20 min)
 *   1h      5 min       12       4500 s  (75 min)
 *   24h     1 h         24       86460 s (24h + 60 s)
 *
 * A 10 s bucket's expiry is set on each write, a coarser bucket's when it
 * is rolled up (see below).  The three finer resolutions outlive their
 * window so that their parent can still be built when roll-ups stall for
 * up to about 15 minutes.
 *
 * A window is made of the most recent buckets at its resolution, the bucket
 * holding now_s included.  So "5m" covers the current partial minute plus
 * the 4 minutes before it.  A bucket's sorted set is stored under
 *
 *   flowsift:top:<dim>:<metric>:<resolution>:<bucket_start_unix>
 *
 * for example flowsift:top:src_addr:bytes:60s:1700000040.  The metric is
 * bytes, packets or flows, and the resolution 10s, 60s, 300s or 3600s.
 * The dim is one of these, listed with the flow fields (pkg/core/flow.h)
 * it needs and the form of its members:
 *
 *   dim           needs                      member
 *   src_addr      src_addr                   192.0.2.1
 *   dst_addr      dst_addr                   2001:db8::1
 *   dst_port      dst_port                   443
 *   conversation  src_addr and dst_addr      192.0.2.1>198.51.100.7
 *   proto         proto                      6
 *   src_as        src_as                     64500
 *   dst_as        dst_as                     64501
 *   src_country   src_country (enriched)     FR
 *   dst_country   dst_country (enriched)     DE
 *   in_if         in_if and exporter_addr    192.0.2.254/3
 *   out_if        out_if and exporter_addr   192.0.2.254/7
 *   exporter      exporter_addr              192.0.2.254
 *
 * Addresses are text (dotted quad, or RFC 5952 IPv6 as inet_ntop writes it)
 * and numbers are decimal; an interface is its exporter's address and its
 * ifIndex, so the interfaces of different exporters stay apart.  The keys
 * of src_addr, dst_addr and dst_port are those of earlier releases, so
 * their counts survive an upgrade.  Scores are the sums.  Redis scores are
 * doubles, so sums are exact up to 2^53 (about 9 PB per bucket).  A flow
 * lacking a field a dimension needs (its presence bit clear, an address of
 * family 0, or an empty country) contributes nothing to that dimension.  A
 * flow without bytes or packets counts 0 for them.
 *
 * Writing
 * -------
 * Records are summed in a struct fs_topn_batch, a fixed-size open-addressing
 * table keyed by (dimension, value), so adding a flow never allocates; a
 * flow takes one entry per dimension it has, so up to FS_TOPN_DIM_COUNT.
 * fs_topn_flush() then adds every entry's sums to the 10 s buckets holding
 * now_s and refreshes their expiry, with a Lua script (EVALSHA) per
 * dimension and up to 512 members, all inside one MULTI/EXEC.  A retried
 * flush counts once (see fs_topn_flush()).  The caller
 * flushes at least every few seconds so that counts land in the right 10 s
 * bucket.
 *
 * Roll-up: when the buckets are complete
 * --------------------------------------
 * Only the 10 s buckets are written per flush.  A 60 s, 5 min or 1 h bucket
 * is written once, by the first flush (of any writer) that runs at least
 * FS_TOPN_ROLLUP_GRACE_S (10 s) after the bucket's end: it becomes the sum
 * of its 10 s buckets (through the 60 s and 5 min buckets already built),
 * and the key flowsift:top:rollup:<resolution>:<bucket_start_unix> marks it
 * as built.  Until then the coarse key is absent.  A flush whose now_s falls
 * into a bucket already built, because its clock lags, adds to that bucket
 * as well, so a built bucket always contains the sum of its 10 s buckets.
 * Other keys under flowsift:top:rollup: are working state of roll-ups.
 * pkg/redis/topn_rollup.h has the details, and fs_topn_sources_resolve()
 * lists the keys that hold a bucket's content whether it is built or not.
 * So a complete coarse bucket contains the same sums as before, but it
 * appears only after its roll-up.
 *
 * Reading
 * -------
 * fs_topn_query() replaces each of the window's buckets that is not built
 * yet by its finer buckets (fs_topn_sources_resolve()).  It sums those
 * buckets with ZUNIONSTORE into a private temporary key (expiring after
 * FS_TOPN_TMP_TTL_S, deleted when done) and takes the top n.  Then it sums
 * the other two metrics for those members with ZMSCORE on each of those
 * buckets.  The result is the same before and after a roll-up.  Rows are
 * ordered by the chosen metric, largest first, with ties ordered by key
 * text in ascending byte order.
 *
 * Thread safety: a batch and a redisContext belong to one thread at a time.
 * hiredis 0.14 sends with write(2), so a process that loses its Redis
 * connection gets SIGPIPE unless it ignores that signal.
 *
 * NOTE: a query's ZUNIONSTORE and the scripts span several keys, which
 * Redis Cluster only accepts when they hash to one slot; these keys carry
 * no hash tag, so a single Redis server (or a replica set) is expected.
 *
 * NOTE: after an upgrade from a release that wrote every resolution on each
 * flush, the coarse buckets of the last 15 to 75 minutes are rebuilt from
 * their 10 s buckets, which that release kept for 2 minutes only, so those
 * windows undercount until the old buckets have left them.
 */
#ifndef FS_REDIS_TOPN_H
#define FS_REDIS_TOPN_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "core/flow.h"

#define FS_TOPN_KEY_PREFIX "flowsift:top:"
#define FS_TOPN_EXPIRE_MARGIN_S 60   /* added to 24h for the expiry of 1 h buckets */
#define FS_TOPN_TMP_TTL_S 30         /* expiry of the query's temporary keys */
#define FS_TOPN_MAX_N 1000           /* largest n that fs_topn_query() accepts */
/* Fits the longest member: two IPv6 addresses, '>' and the NUL. */
#define FS_TOPN_KEY_STRLEN (2 * FS_ADDR_STRLEN)

enum fs_topn_dim {
	FS_TOPN_SRC_ADDR = 0,
	FS_TOPN_DST_ADDR = 1,
	FS_TOPN_DST_PORT = 2,
	FS_TOPN_CONVERSATION = 3,
	FS_TOPN_PROTO = 4,
	FS_TOPN_SRC_AS = 5,
	FS_TOPN_DST_AS = 6,
	FS_TOPN_SRC_COUNTRY = 7,
	FS_TOPN_DST_COUNTRY = 8,
	FS_TOPN_IN_IF = 9,
	FS_TOPN_OUT_IF = 10,
	FS_TOPN_EXPORTER = 11,
	FS_TOPN_DIM_COUNT
};

enum fs_topn_metric {
	FS_TOPN_BYTES = 0,
	FS_TOPN_PACKETS = 1,
	FS_TOPN_FLOWS = 2,
	FS_TOPN_METRIC_COUNT
};

enum fs_topn_window {
	FS_TOPN_1M = 0,
	FS_TOPN_5M = 1,
	FS_TOPN_1H = 2,
	FS_TOPN_24H = 3,
	FS_TOPN_WINDOW_COUNT
};

/* Names used in keys and on the command line: "src_addr", "bytes", "5m". */
const char *fs_topn_dim_name(enum fs_topn_dim dim);
const char *fs_topn_metric_name(enum fs_topn_metric metric);
const char *fs_topn_window_name(enum fs_topn_window window);

/* Parses a name above.  Returns 0, or FS_ERR_INVALID for an unknown name. */
int fs_topn_dim_parse(const char *name, enum fs_topn_dim *dim);
int fs_topn_metric_parse(const char *name, enum fs_topn_metric *metric);
int fs_topn_window_parse(const char *name, enum fs_topn_window *window);

/* Returns the window's length in seconds, bucket size in seconds and bucket count. */
int64_t fs_topn_window_seconds(enum fs_topn_window window);
int64_t fs_topn_window_resolution(enum fs_topn_window window);
int fs_topn_window_buckets(enum fs_topn_window window);

/*
 * Writes the key of the bucket of `window`'s resolution that contains time
 * at_s into buf (size len).  Returns buf.  For tests and tools.
 */
char *fs_topn_bucket_key(enum fs_topn_dim dim, enum fs_topn_metric metric,
			 enum fs_topn_window window, int64_t at_s, char *buf,
			 size_t len);

/* Counters of one batch; read them with fs_topn_batch_stats(). */
struct fs_topn_stats {
	uint64_t flushes;   /* successful flushes of a non-empty batch */
	uint64_t commands;  /* Redis commands sent: MULTI, EXEC, scripts, roll-up look-ups */
	uint64_t updates;   /* sorted-set increments (ZINCRBY) that the write scripts applied */
	uint64_t errors;    /* flushes that failed */
	uint64_t full;      /* fs_topn_batch_add() calls rejected as full */
	uint64_t rollups;   /* coarse buckets that this batch's roll-ups built */
	uint64_t rollup_errors; /* roll-up runs that failed (retried by the next flush) */
	uint64_t skipped;   /* resent flushes that Redis had applied already, so wrote nothing */
};

struct fs_topn_batch;

/*
 * Creates a batch holding up to `capacity` distinct (dimension, value)
 * entries; each flow takes up to FS_TOPN_DIM_COUNT.  Returns NULL when capacity is 0 or
 * memory is short.  The caller frees the batch with fs_topn_batch_free().
 */
struct fs_topn_batch *fs_topn_batch_new(size_t capacity);

/* Frees batch and everything it holds; NULL is ignored. */
void fs_topn_batch_free(struct fs_topn_batch *batch);

/*
 * Adds flow (borrowed) to the batch without allocating.  Returns 0, or
 * FS_ERR_FULL when the flow needs more new entries than are free.  Then
 * nothing of the flow is added, so the caller flushes and adds it again.
 */
int fs_topn_batch_add(struct fs_topn_batch *batch, const struct fs_flow *flow);

/* Returns the number of entries in the batch. */
size_t fs_topn_batch_count(const struct fs_topn_batch *batch);

/* Drops every entry, for example after giving up on a failed flush. */
void fs_topn_batch_reset(struct fs_topn_batch *batch);

void fs_topn_batch_stats(const struct fs_topn_batch *batch,
			 struct fs_topn_stats *stats);

/*
 * Writes the batch to Redis into the 10 s buckets that hold now_s (Unix
 * seconds) and empties it, then runs the roll-ups due at now_s
 * (fs_topn_rollup_run()).  An empty batch only runs the roll-ups, so an
 * idle writer keeps building coarse buckets; nothing is sent when none is
 * due.  A failed roll-up is logged and counted in rollup_errors, and the
 * next flush retries it; it does not change the return value.
 *
 * On failure it logs the reason, KEEPS the batch and returns FS_ERR_SYSTEM
 * or FS_ERR_INVALID.  FS_ERR_SYSTEM is a connection or protocol error, after
 * which hiredis marks ctx unusable and the caller reconnects.  FS_ERR_INVALID
 * means Redis rejected a command, for example WRONGTYPE on a key.  The caller
 * then retries, or calls fs_topn_batch_reset() and counts the entries as
 * dropped.  Flows may be added between the failure and the retry.
 *
 * Retries count once.  A failed flush may still be applied: a reply that
 * timed out, or a connection lost after EXEC was sent, leaves its EXEC in
 * Redis's input, which it may run at any later time.  So each flush has a
 * writer id (random per batch) and a sequence number, and its MULTI/EXEC
 * first claims the sequence number in the key
 * flowsift:top:flush:<writer id> (expiring after 86,460 s like the 1 h
 * buckets).  After a failure the batch remembers the increments of the
 * failed flush.  The next fs_topn_flush() sends those increments again
 * with the same sequence number, and then the flows added since as the
 * next flush.  Of the attempts of one flush, the EXEC that Redis runs first
 * applies all its writes and every other attempt applies none, and an
 * attempt run after a later flush of the writer applies none either.
 * stats.skipped counts resent flushes that found their flush applied.
 * When Redis lost the script (a restart, SCRIPT FLUSH), every call in the
 * EXEC fails with NOSCRIPT and applies nothing, so the flush loads the
 * script and sends the transaction once more.
 *
 * Limits: a script failing inside EXEC (such as WRONGTYPE on a key) undoes
 * neither the other scripts nor its own earlier writes, and a retry of
 * that flush then writes nothing, so part of it is lost.  A batch reset
 * after a failure drops the failed flush, which Redis may still apply
 * unless a later flush of the writer runs first.  A claim that expired
 * (86,460 s after the writer's last flush) no longer stops a late attempt,
 * but that attempt then writes only buckets older than every window.
 */
int fs_topn_flush(struct fs_topn_batch *batch, redisContext *ctx, int64_t now_s);

/* One result row of fs_topn_query(). */
struct fs_topn_row {
	char key[FS_TOPN_KEY_STRLEN];   /* the member, as listed above */
	uint64_t bytes;
	uint64_t packets;
	uint64_t flows;
};

/*
 * Finds the n members of `dim` with the largest `metric` over `window`
 * ending at now_s, and fills rows[0..*nrows) (the caller provides n rows)
 * with all three metrics of each, over the same window.  n is 1 to
 * FS_TOPN_MAX_N.  Returns 0, with *nrows 0 when nothing was counted.
 * Returns FS_ERR_INVALID for a bad argument or an unexpected reply, and
 * FS_ERR_SYSTEM when the connection failed.  Both errors are logged.
 */
int fs_topn_query(redisContext *ctx, enum fs_topn_dim dim,
		  enum fs_topn_metric metric, enum fs_topn_window window, int n,
		  int64_t now_s, struct fs_topn_row *rows, int *nrows);

#endif
