/*
 * detect.h - rules that spot misbehaving hosts in the flow stream, with
 * distinct counts and counters in Redis and the alert lifecycle kept there.
 *
 * Rules (enum fs_alert_rule; thresholds and windows in struct
 * fs_detect_settings, from the detect.* configuration keys):
 *
 *   fanout     one source reaches >= threshold distinct destinations on one
 *              watched port (TCP or UDP) within the window
 *   syn_scan   one source sends >= threshold TCP flows whose flags are SYN
 *              without ACK, FIN or RST
 *   port_scan  one source probes >= threshold distinct ports (TCP or UDP) of
 *              one destination with flows of at most 2 packets
 *   smtp       a host that is not in the mail servers sends >= threshold
 *              flows to TCP port 25 outward (see below); off while the mail
 *              server list is empty
 *   volume_src a host sends more than threshold bytes, packets or flows per
 *              second (detect.volume.metric), averaged over the window
 *   volume_dst the same for a host that receives
 *   fanin      one destination is reached by >= threshold distinct sources
 *
 * No rule counts a source that is unspecified, multicast, reserved or
 * broadcast (0.0.0.0, ::, 224.0.0.0 and up, ff00::/8) or an unspecified
 * destination: such flows come from broken or hostile exporters, and each
 * is counted in odd_addresses.  At most max_alerts_per_minute alert events
 * per minute reach the callback; the rest are counted as suppressed and
 * kept in Redis like the others.
 *
 * A threshold of 0 turns a rule off.  Flows whose source or destination is
 * in the allowlist prefixes, or that match the allowlist filter expression
 * (pkg/filter/filter.h), are ignored by every rule.  "Outward" means: the flow's
 * traffic_direction is outbound when flowsift-enrich set it; else, when home
 * networks are configured, the source is in them and the destination is
 * not; else every flow counts.
 *
 * Windows
 * -------
 * A rule's window of W seconds is made of N = ceil(W / R) time buckets of
 * R = ceil(W / 6) seconds, by receive time: each flow's time_received_ns,
 * which flowsift-ingest sets on receipt (for a capture replayed with
 * flowsift-ingest --pcap, the time of the replay).  The detector's clock
 * is a watermark: the highest receive time added so far.  A receive time
 * more than FS_DETECT_MAX_SKEW_MS past this host's wall clock is clamped to that
 * limit and counted in future_flows, so that one host with a fast clock
 * cannot push the watermark ahead and make every other flow late.
 * fs_detect_flush() evaluates the windows that end at the watermark (at its
 * now_ms while no flow had a receive time).  Such a window contains the
 * watermark's bucket and the N - 1 buckets before it.  So a flow counts for
 * at least N * R - R and less than N * R seconds of receive time (50 to
 * 60 s for W = 60), however late it reaches flowsift-report:
 * a backlog after an outage or a replayed capture is judged by its own
 * times, not squeezed into the buckets of its arrival.  A flow without a
 * receive time counts in the watermark's bucket.
 *
 * fs_detect_add() leaves a flow out of a rule when its bucket is older
 * than the first bucket of the window at the watermark, because no window
 * still to be evaluated contains it.  Such a flow is counted in late_flows
 * (once, however many rules left it out) and logged at most once a minute.
 * A flush evaluates only at the watermark, so fs_detect_add() keeps the
 * table within one bucket of the smallest bucket size of the rules that are
 * on.  A flow whose receive time moves the watermark into a later bucket
 * makes it return FS_ERR_FULL, and the caller flushes first.  A backlog
 * after an outage or a fast replay is therefore evaluated at every bucket
 * of its receive time, as live traffic is.  The price is one flush per
 * bucket: every 10 s of receive time with the default 60 s windows.
 *
 * Distinct counts are HyperLogLogs (PFADD, then PFCOUNT of the union of the
 * window's buckets), whose estimate has a standard error of 0.81 %: near a
 * threshold of 100 the count may be one lower than the true number, so a
 * host must reach a little more than the threshold to be sure to match.
 * Counters are INCRBY, run by a Lua script that makes a retried flush
 * count once (see Writing), and MGET reads the window.  Every key expires
 * on its own W + R seconds after its last write on Redis's clock.  The
 * bucket's start plays no part, so the keys of a replayed old capture live
 * as long as those of live traffic:
 *
 *   flowsift:detect:<rule>:<subject>[:<port or peer>]:<bucket start>
 *
 * NOTE: the expiry assumes that flowsift-report keeps up with real time.
 * A consumer that falls behind by more than R seconds per window may see a
 * bucket expire before the last window that reads it.
 *
 * Writing
 * -------
 * fs_detect_add() pre-aggregates flows in a fixed-size local table without
 * allocating, keyed by (rule, subject, scope, bucket, element).
 * fs_detect_flush() writes the table in one pipelined MULTI/EXEC.  Per
 * (rule, subject, scope) and bucket, it contains one PFADD with every distinct
 * element or one counter script (EVAL), and one EXPIRE.  Per (rule,
 * subject, scope), one PFCOUNT or MGET then reads the window.  A flush of live
 * traffic spans one or two buckets, so the command count follows the
 * number of busy hosts per flush, not the number of flows.
 *
 * A flush whose reply timed out may still run later, after its retry.
 * PFADD counts an element once however often it is added, but INCRBY does
 * not, so the counter writes are made idempotent as the top-N writes are
 * (pkg/redis/topn.h, fs_topn_flush()).  Each detector has a random writer
 * id and numbers its flushes, and the counter script claims the number in
 * flowsift:detect:flush:<writer id> (expiring after 100,800 s, the longest
 * window plus its bucket).  Of the attempts of one flush, only the first
 * EXEC that Redis runs adds to the counters.  After a failure the detector
 * remembers the failed flush's increments and resends them with the same
 * number in a MULTI/EXEC of their own before the next flush.  A counter
 * script that skips returns the counter's current value.
 *
 * Alert lifecycle
 * ---------------
 * The lifecycle runs on the wall clock, the now_ms of fs_detect_flush():
 * an alert's first_seen_ms, last_seen_ms and time_ms are flush times, the
 * cooldown and quiet times are measured in it, and so is the limit of
 * max_alerts_per_minute.  Its flows_first_ms and flows_last_ms are the
 * receive times of the flows that the flush wrote for it.
 *
 * A (rule, subject, scope) whose observed value reaches the threshold is a
 * candidate.  A Lua script moves its state in Redis atomically
 * (flowsift:alert:<rule>:<subject>[:<scope>], a hash, and the sorted set
 * flowsift:alerts:open scored by last seen): the first candidate raises the
 * alert; later ones update last seen and send an update at most once per
 * cooldown_s.  fs_detect_flush() also clears every open alert whose last
 * seen is older than quiet_s, and keeps cleared alerts in
 * flowsift:alerts:recent for FS_DETECT_RECENT_S.  Because the state lives in
 * Redis, a restarted worker (or a second one) never raises an open alert
 * again.
 *
 * Every raised, updated and cleared alert goes to the caller's alert
 * function during fs_detect_flush(); see pkg/alert/alert.h for its fields.
 *
 * Thread safety: one thread at a time per detector and redisContext.
 */
#ifndef FS_DETECT_DETECT_H
#define FS_DETECT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "alert/alert.h"
#include "core/flow.h"

#define FS_DETECT_KEY_PREFIX "flowsift:detect:"
#define FS_DETECT_ALERT_PREFIX "flowsift:alert:"
#define FS_DETECT_OPEN_KEY "flowsift:alerts:open"
#define FS_DETECT_RECENT_KEY "flowsift:alerts:recent"
#define FS_DETECT_RECENT_S 86400       /* cleared alerts kept for report alerts */
#define FS_DETECT_MAX_PORTS 64         /* watched fan-out ports */
#define FS_DETECT_MAX_PREFIXES 256     /* entries of one address list */
#define FS_DETECT_MAX_WINDOW_S 86400
#define FS_DETECT_CLEAR_BATCH 100      /* alerts cleared per flush at most */
#define FS_DETECT_MAX_SKEW_MS 5000     /* receive times past the wall clock plus this are clamped */

/* An address prefix: addr/len, addr holding zero bits past len. */
struct fs_detect_prefix {
	struct fs_addr addr;
	uint8_t len;
};

struct fs_detect_prefixes {
	size_t count;
	struct fs_detect_prefix items[FS_DETECT_MAX_PREFIXES];
};

enum fs_detect_volume_metric {
	FS_DETECT_BYTES = 0,
	FS_DETECT_PACKETS = 1,
	FS_DETECT_FLOWS = 2,
};

struct fs_detect_rule_settings {
	uint64_t threshold;   /* 0: rule off */
	int64_t window_s;     /* 1..FS_DETECT_MAX_WINDOW_S */
};

struct fs_detect_settings {
	struct fs_detect_rule_settings rules[FS_RULE_COUNT];
	uint16_t fanout_ports[FS_DETECT_MAX_PORTS];
	size_t nfanout_ports;
	enum fs_detect_volume_metric volume_metric;
	struct fs_detect_prefixes allowlist;
	struct fs_filter *allowlist_filter; /* owned by the settings; NULL: none */
	struct fs_detect_prefixes mail_servers;
	struct fs_detect_prefixes home_networks;
	int64_t cooldown_s;   /* minimum time between two updates of one alert */
	int64_t quiet_s;      /* time without a match after which an alert clears */
	uint32_t max_alerts_per_minute; /* alert events passed on per minute; 0: no limit */
	size_t capacity;      /* local table entries; a flow takes up to 6 */
};

struct fs_detect_stats {
	uint64_t flows;         /* flows added */
	uint64_t allowlisted;   /* of flows: ignored by the allowlist */
	uint64_t flushes;       /* successful flushes */
	uint64_t commands;      /* Redis commands sent, MULTI, EXEC and scripts included */
	uint64_t errors;        /* failed flushes */
	uint64_t full;          /* fs_detect_add() calls rejected as full */
	uint64_t raised;
	uint64_t updated;
	uint64_t cleared;
	uint64_t suppressed;    /* of raised, updated and cleared: over max_alerts_per_minute */
	uint64_t odd_addresses; /* flows whose source (unspecified, multicast, broadcast) or
				 * destination (unspecified) no rule counts */
	uint64_t places_full;   /* flows whose exporter interface found no room in the table of
				 * places, so alerts on them name no exporter */
	uint64_t late_flows;    /* of flows: older than the window of a rule at the watermark,
				 * so that rule did not count them */
	uint64_t future_flows;  /* of flows: received more than FS_DETECT_MAX_SKEW_MS past the
				 * wall clock, counted as received at that limit */
	int64_t watermark_ms;   /* highest receive time added, Unix ms; 0: none yet */
	uint64_t bucket_flushes; /* of adds: refused because the flow's receive time starts a
				  * new bucket, so that the caller flushed first */
};

struct fs_config;
struct fs_detect;
struct fs_filter;

/* Receives one alert (borrowed for the call). */
typedef void fs_detect_alert_fn(const struct fs_alert *alert, void *opaque);

/*
 * Fills settings with the shipped defaults: fanout at 100 destinations on
 * ports 445, 135, 139, 25, 23, 22, 3389 within 60 s, and the defaults of
 * docs/CONFIGURATION.md for the other rules.
 */
void fs_detect_settings_default(struct fs_detect_settings *settings);

/*
 * Fills settings from the detect.* and alert.* keys of config (borrowed),
 * compiling detect.allowlist.filter.  Returns 0, or FS_ERR_INVALID with the
 * key and the reason in err (settings then hold nothing to release), or
 * FS_ERR_SYSTEM when memory is short.  Release the settings with
 * fs_detect_settings_release() after the last detector using them is freed.
 */
int fs_detect_settings_load(struct fs_detect_settings *settings,
			    const struct fs_config *config, char *err, size_t err_len);

/* Frees what settings own (the allowlist filter) and sets it to NULL. */
void fs_detect_settings_release(struct fs_detect_settings *settings);

/*
 * Parses a comma-separated list of addresses and prefixes ("10.0.0.0/8,
 * 2001:db8::/32, 192.0.2.25") into out, by the rules of net/cidr.h.
 * Returns 0, or FS_ERR_INVALID with the quoted item and the reason in err
 * (also for more than FS_DETECT_MAX_PREFIXES items); out is then empty.
 */
int fs_detect_prefixes_parse(struct fs_detect_prefixes *out, const char *text,
			     char *err, size_t err_len);

/* Returns true when addr is inside one of the prefixes. */
bool fs_detect_prefixes_match(const struct fs_detect_prefixes *prefixes,
			      const struct fs_addr *addr);

/*
 * Creates a detector with settings (copied; the allowlist filter is
 * borrowed and must outlive the detector).  alert_fn (may be NULL)
 * receives every alert with opaque.  Returns NULL when memory is short or
 * settings->capacity is 0.  Free with fs_detect_free().
 */
struct fs_detect *fs_detect_new(const struct fs_detect_settings *settings,
				fs_detect_alert_fn *alert_fn, void *opaque);

/* Frees det; NULL is allowed. */
void fs_detect_free(struct fs_detect *det);

/*
 * Adds flow (borrowed) to the local table without allocating, in the
 * buckets of its receive time, and moves the watermark (see Windows).
 * Returns 0, also when some or all rules left the flow out as late.
 * Returns FS_ERR_FULL when the flow needs more new entries than are free.
 * It also returns FS_ERR_FULL, counted in bucket_flushes, when the flow's
 * receive time moves the watermark out of the bucket of the table's flows
 * (see Windows).  Then nothing of it was added or counted, so the caller
 * flushes and adds it again.
 */
int fs_detect_add(struct fs_detect *det, const struct fs_flow *flow);

/* Returns the number of entries in the local table. */
size_t fs_detect_count(const struct fs_detect *det);

/*
 * Writes the local table to Redis and evaluates the rules over the windows
 * that end at the watermark, or at now_ms before any flow had a receive
 * time.  Then moves alert states as of now_ms (wall clock, Unix ms),
 * clears quiet alerts and calls the alert function for each.  On success
 * the table is emptied and 0 returned.  When the counters could not be
 * written, returns FS_ERR_SYSTEM (connection) or FS_ERR_INVALID
 * (unexpected reply) and keeps the table for
 * a retry, which counts every flow once even when Redis ran the failed
 * write after all; when only the alert step failed, the table is emptied and
 * FS_ERR_SYSTEM returned (a host that keeps matching is found again on the
 * next flush).
 */
int fs_detect_flush(struct fs_detect *det, redisContext *ctx, int64_t now_ms);

void fs_detect_stats(const struct fs_detect *det, struct fs_detect_stats *out);

/* Returns the bucket size in seconds of a window of window_s seconds. */
int64_t fs_detect_resolution(int64_t window_s);

#endif
