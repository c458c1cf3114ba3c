/*
 * flowsift-filter - routes flows to topics by filter rules.
 *
 * Consumes filter.topic (default flows.enriched), evaluates the rules of
 * filter.rules in file order (docs/filter.md) and produces each flow, as the
 * unchanged message with its key, to the topic of every rule it matches.  A
 * matching drop rule ends the evaluation; a flow that matches no rule and
 * was not dropped goes to filter.default.route when that is set.
 *
 * Delivery is at least once: consumed offsets are stored for commit only
 * after the producer flushed every message produced before them with no
 * delivery failure, every filter.commit.interval.ms.  A delivery fails, for
 * example, when kafka.message.timeout.ms expires during a broker outage.  The
 * worker then rewinds the consumer to the first flow consumed since the last
 * store in each partition, waits REWIND_BACKOFF_MS and filters those flows
 * again.  So an outage of any length loses no flow and needs no restart.
 * The flows delivered before the failure are then produced twice, counted in
 * flowsift_filter_flows_duplicated_total.  Only when the rewind itself fails
 * does the worker stop with status 1 without storing, so a restart consumes
 * those flows again.
 *
 * The rules file reloads between two polls on SIGHUP, and when a check
 * every filter.reload.interval seconds finds that the file changed
 * (core/file_id.h).  That check detects a Kubernetes ConfigMap update, so a
 * pod needs no restart for new rules.  A file with an error is logged with
 * its line and column and the rules in use stay.  The check does not load
 * that version again, and a later change or SIGHUP does.  Per-rule
 * counters are kept by rule name across reloads and logged every
 * filter.stats.interval seconds.
 *
 * Every counter of the stats lines is also served as a Prometheus metric on
 * filter.metrics.listen, the rule counters with a `rule` label registered as
 * rule names appear, with /healthz and /readyz (docs/metrics.md).
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_batch.h"
#include "avro/flow_codec.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/exit_deadline.h"
#include "core/file_id.h"
#include "core/log.h"
#include "core/result.h"
#include "filter/filter.h"
#include "filter/rules_file.h"
#include "filter/ruleset.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "metrics/metrics.h"
#include "metrics/worker_telemetry.h"
#include "worker_start.h"

#define POLL_MESSAGES 1000
#define FLUSH_TIMEOUT_MS 30000
#define SEND_RETRIES 50
#define CLOSE_TIMEOUT_MS 10000
/* Pause after a rewind, so a broker that rejects every message is not retried in a busy loop. */
#define REWIND_BACKOFF_MS 1000

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

/* Counters of one rule, kept by name across reloads. */
struct rule_stats {
	char name[FS_FILTER_NAME_MAX];
	uint64_t matched;
	uint64_t produced;
	uint64_t produce_failed; /* sends the producer rejected (queue full after retries) */
	/* The same counts as metrics, shared by every rule of this name since start. */
	struct fs_counter *matched_metric;
	struct fs_counter *produced_metric;
	struct fs_counter *produce_failed_metric;
};

/* Counters of the worker as a whole. */
struct filter_stats {
	uint64_t flows;          /* flows decoded */
	uint64_t rejected;       /* flows that could not be decoded */
	uint64_t rejected_schema; /* of rejected: unknown schema fingerprint */
	uint64_t dropped;        /* flows a drop rule matched */
	uint64_t unmatched;      /* flows no rule matched */
	uint64_t default_routed; /* of unmatched: produced to the default route */
	uint64_t reloads;
	uint64_t reload_failures;
	uint64_t duplicated;     /* delivered flows produced again after a rewind */
};

struct filter_worker {
	const struct fs_config *config;
	const char *rules_path;
	const char *default_route;
	struct fs_flow_codec *codec;
	struct fs_consumer *consumer;
	struct fs_producer *producer;
	struct fs_ruleset *rules;
	struct rule_stats *rule_stats; /* one per rule, same order */
	struct fs_file_id rules_loaded; /* version of the rules file in use */
	struct fs_file_id rules_failed; /* the last version that failed to load */
	bool rules_has_failed;          /* rules_failed is set and newer than rules_loaded */
	/* Output of the message being handled: one batch per rule, then the default route. */
	struct fs_flow_batch *out;
	uint32_t message_flows;        /* kafka.message.flows.max */
	const void *key;               /* of the message being handled, passed on */
	size_t key_len;
	struct filter_stats stats;
	uint64_t failed_at_store;      /* producer failures counted at the last store or rewind */
	uint64_t delivered_at_store;   /* producer acknowledgements counted at the same time */
	int64_t batch_start_ns;        /* first message of the batch, 0 before it */
	struct worker_telemetry *telemetry;
	struct filter_metrics *metrics;
	struct fs_ratelimit reject_limit;
	struct fs_ratelimit send_limit;
	/* A long outage fails deliveries every kafka.message.timeout.ms, each one logged. */
	struct fs_ratelimit rewind_limit;
};

/* The counters of struct filter_stats as metrics, mirrored after each batch. */
struct filter_metrics {
	struct fs_counter *flows;
	struct fs_counter *rejected_schema;
	struct fs_counter *rejected_malformed;
	struct fs_counter *dropped;
	struct fs_counter *unmatched;
	struct fs_counter *default_routed;
	struct fs_counter *reloads;
	struct fs_counter *reload_failures;
	struct fs_counter *rewound;
	struct fs_counter *duplicated;
	struct fs_gauge *rules;
};

#define DROPPED_HELP "Flows consumed and produced nowhere, by reason."

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* Registers the rule counters of stats[0..count-1] (a name seen before gets its series back).  Returns 0 or -1. */
static int
register_rule_metrics(struct worker_telemetry *t, struct rule_stats *stats, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		char labels[FS_FILTER_NAME_MAX + 8];

		snprintf(labels, sizeof(labels), "rule=%s", stats[i].name);
		stats[i].matched_metric = worker_telemetry_counter(
			t, "rule_matches_total", "Flows a rule matched, by rule name.", labels);
		stats[i].produced_metric = worker_telemetry_counter(
			t, "rule_produced_total", "Flows queued for a rule's topic, by rule name.",
			labels);
		stats[i].produce_failed_metric = worker_telemetry_counter(
			t, "rule_produce_failures_total",
			"Flows the producer refused for a rule's topic (consumed again), by rule name.",
			labels);
		if (!stats[i].matched_metric || !stats[i].produced_metric ||
		    !stats[i].produce_failed_metric)
			return -1;
	}
	return 0;
}

/* Builds the counters of rules, taking over those of old rules with the same name. */
static struct rule_stats *
adopt_stats(const struct fs_ruleset *rules, const struct rule_stats *old, size_t old_count)
{
	struct rule_stats *stats = calloc(rules->count + 1, sizeof(*stats));

	if (stats == NULL)
		return NULL;
	for (size_t i = 0; i < rules->count; i++) {
		snprintf(stats[i].name, sizeof(stats[i].name), "%s", rules->rules[i].name);
		for (size_t j = 0; j < old_count; j++) {
			if (strcmp(old[j].name, stats[i].name) == 0)
				stats[i] = old[j];
		}
	}
	return stats;
}

static void
log_rules(const struct fs_ruleset *rules, const char *path)
{
	fs_log(FS_LOG_INFO, "filter", "loaded %zu rules and %zu definitions from %s",
	       rules->count, rules->definitions, path);
	for (size_t i = 0; i < rules->count; i++) {
		const struct fs_filter_rule *r = &rules->rules[i];

		fs_log(FS_LOG_INFO, "filter", "rule %s (line %u): %s%s", r->name, r->line,
		       r->drop ? "drop" : "produce to ", r->drop ? "" : r->topic);
	}
}

/*
 * Loads the rules file, or logs its error and keeps the rules in use.
 * Records which version of the file loaded or failed.  Returns 0 or a
 * negative fs_result.
 */
static int
load_rules(struct filter_worker *w)
{
	struct fs_filter_error err;
	struct fs_ruleset *rules;
	struct rule_stats *stats;
	struct fs_flow_batch *out;
	struct fs_file_id id;
	int rc;

	/* The identity is read first, so a change during the load is seen by the next check. */
	fs_file_id_read(w->rules_path, &id);
	rc = fs_rules_file_load(&rules, w->rules_path, w->config, &err);
	if (rc < 0) {
		fs_log(FS_LOG_ERR, "filter", "%s, %s rules: %s",
		       rc == FS_ERR_NOT_FOUND ? "rules file not loaded" : "invalid rules file",
		       w->rules ? "keeping the previous" : "no", err.text);
		w->rules_failed = id;
		w->rules_has_failed = true;
		return rc;
	}
	stats = adopt_stats(rules, w->rule_stats, w->rules ? w->rules->count : 0);
	out = calloc(rules->count + 1, sizeof(*out));
	if (stats == NULL || out == NULL ||
	    register_rule_metrics(w->telemetry, stats, rules->count) < 0) {
		free(stats);
		free(out);
		fs_ruleset_free(rules);
		fs_log(FS_LOG_ERR, "filter", "out of memory loading %s", w->rules_path);
		return FS_ERR_SYSTEM;
	}
	fs_ruleset_free(w->rules);
	free(w->rule_stats);
	free(w->out);
	for (size_t i = 0; i <= rules->count; i++)
		fs_flow_batch_init(&out[i], w->message_flows);
	w->rules = rules;
	w->rule_stats = stats;
	w->out = out;
	w->rules_loaded = id;
	w->rules_has_failed = false;
	fs_gauge_set(w->metrics->rules, (int64_t)rules->count);
	log_rules(rules, w->rules_path);
	return 0;
}

/*
 * Reloads the rules file on SIGHUP (force) or when it is not the version in
 * use, and counts the reload or the failure.  Without force, a version that
 * failed to load is not loaded again, so its error is logged once.
 */
static void
reload_rules(struct filter_worker *w, bool force)
{
	struct fs_file_id now;

	if (!force) {
		fs_file_id_read(w->rules_path, &now);
		if (fs_file_id_equal(&now, &w->rules_loaded))
			return;
		if (w->rules_has_failed && fs_file_id_equal(&now, &w->rules_failed))
			return;
		fs_log(FS_LOG_INFO, "filter", "the rules file %s changed; reloading it",
		       w->rules_path);
	}
	if (load_rules(w) == 0)
		w->stats.reloads++;
	else
		w->stats.reload_failures++;
}

/*
 * Queues the flows of batch as one message for topic, with the key of the
 * message they came in, serving delivery reports while the queue is full,
 * and empties the batch.  Returns how many
 * flows were queued, or a negative fs_result.
 */
static int
send_batch(struct filter_worker *w, const char *topic, struct fs_flow_batch *batch)
{
	int count = (int)batch->count;
	int rc = FS_ERR_FULL;

	if (count == 0)
		return 0;
	for (int attempt = 0; attempt < SEND_RETRIES && rc == FS_ERR_FULL; attempt++) {
		rc = fs_producer_send_records(w->producer, topic, w->key, w->key_len, batch->buf,
					      batch->len, batch->count);
		if (rc == FS_ERR_FULL)
			fs_producer_poll(w->producer, 100);
	}
	fs_flow_batch_clear(batch);
	if (rc < 0) {
		fs_log_limited(&w->send_limit, FS_LOG_WARNING, "filter",
			       "cannot queue %d flows for topic %s (%s); they will be consumed again",
			       count, topic, fs_result_name(rc));
		return rc;
	}
	return count;
}

/*
 * Sends output batch i (a rule's, or the default route's when i is the rule
 * count) and counts the result.  Returns 0 or a negative fs_result.
 */
static int
send_output(struct filter_worker *w, size_t i)
{
	bool is_default = i == w->rules->count;
	const char *topic = is_default ? w->default_route : w->rules->rules[i].topic;
	uint32_t count = w->out[i].count;
	int rc = send_batch(w, topic, &w->out[i]);

	if (is_default) {
		if (rc > 0)
			w->stats.default_routed += (uint64_t)rc;
		return rc < 0 ? rc : 0;
	}
	if (rc < 0) {
		w->rule_stats[i].produce_failed += count;
		fs_counter_add(w->rule_stats[i].produce_failed_metric, count);
		return rc;
	}
	w->rule_stats[i].produced += (uint64_t)rc;
	fs_counter_add(w->rule_stats[i].produced_metric, (uint64_t)rc);
	return 0;
}

/*
 * Adds one flow (encoded in msg, len bytes) to output batch i, sending the
 * batch first when the flow does not fit.  Returns 0 or a negative
 * fs_result.
 */
static int
add_output(struct filter_worker *w, size_t i, const struct fs_flow *flow, const uint8_t *msg,
	   size_t len)
{
	if (!fs_flow_batch_fits_encoded(&w->out[i], flow, len) && send_output(w, i) < 0)
		return FS_ERR_FULL;
	if (fs_flow_batch_add_encoded(&w->out[i], flow, msg, len) == 0)
		return 0;
	/* Only a flow longer than a whole batch (FS_FLOW_BATCH_MAX_LEN) gets here. */
	w->stats.rejected++;
	fs_log_limited(&w->reject_limit, FS_LOG_WARNING, "filter",
		       "rejected a flow of %zu bytes: longer than a message may be (%d bytes)", len,
		       FS_FLOW_BATCH_MAX_LEN);
	return 0;
}

/*
 * Routes one flow to the batches of the rules it matches, in rule order,
 * until a drop rule matches.  Returns 0 or a negative fs_result.
 */
static int
route_flow(struct filter_worker *w, const struct fs_flow *flow, const uint8_t *msg, size_t len)
{
	bool matched = false;

	for (size_t i = 0; i < w->rules->count; i++) {
		const struct fs_filter_rule *rule = &w->rules->rules[i];
		struct rule_stats *stats = &w->rule_stats[i];

		if (!fs_filter_match(rule->filter, flow))
			continue;
		stats->matched++;
		fs_counter_add(stats->matched_metric, 1);
		matched = true;
		if (rule->drop) {
			w->stats.dropped++;
			return 0;
		}
		if (add_output(w, i, flow, msg, len) < 0)
			return FS_ERR_FULL;
	}
	if (!matched) {
		w->stats.unmatched++;
		if (w->default_route[0] != '\0' && add_output(w, w->rules->count, flow, msg, len) < 0)
			return FS_ERR_FULL;
	}
	return 0;
}

/*
 * Routes every flow of one message, passing each on in the bytes it came
 * in, and sends what each rule gathered.  Returns 0, or 1 to have the
 * message consumed again when a send failed.
 */
static int
handle_message(const void *key, size_t key_len, const void *value, size_t len,
	       int64_t timestamp_ms, void *opaque)
{
	struct filter_worker *w = opaque;
	const uint8_t *bytes = value;
	struct fs_flow flow;
	size_t pos = 0;
	int status = 0;

	(void)timestamp_ms;
	if (w->batch_start_ns == 0)
		w->batch_start_ns = fs_monotonic_ns();
	w->key = key;
	w->key_len = key_len;
	do {
		size_t start = pos;
		int rc = fs_flow_codec_decode_next(w->codec, bytes, len, &pos, &flow);

		if (rc < 0) {
			w->stats.rejected++;
			if (rc == FS_ERR_UNSUPPORTED)
				w->stats.rejected_schema++;
			fs_log_limited(&w->reject_limit, FS_LOG_WARNING, "filter",
				       "rejected a flow in a message of %zu bytes: %s", len,
				       rc == FS_ERR_UNSUPPORTED ? "unknown schema fingerprint"
								: fs_result_name(rc));
			continue;
		}
		w->stats.flows++;
		if (route_flow(w, &flow, bytes + start, pos - start) < 0) {
			status = 1;
			break;
		}
	} while (pos < len);
	for (size_t i = 0; i <= w->rules->count; i++) {
		if (status != 0)
			fs_flow_batch_clear(&w->out[i]);
		else if (send_output(w, i) < 0)
			status = 1;
	}
	return status;
}

/* Waits up to REWIND_BACKOFF_MS, serving delivery reports, unless a stop is requested. */
static void
rewind_backoff(struct filter_worker *w)
{
	int64_t until = fs_monotonic_ms() + REWIND_BACKOFF_MS;

	while (!stop_requested && fs_monotonic_ms() < until)
		fs_producer_poll(w->producer, 100);
}

/*
 * Rewinds the consumer to the first flows consumed since the last store,
 * because some of their output failed delivery.  Returns 0, or FS_ERR_SYSTEM
 * when the rewind failed (offsets are then not stored, and the worker should
 * stop).
 */
static int
rewind_undelivered(struct filter_worker *w, const struct fs_producer_stats *ps)
{
	uint64_t duplicated = ps->delivered - w->delivered_at_store;

	fs_log_limited(&w->rewind_limit, FS_LOG_WARNING, "filter",
		       "%llu produced flows failed delivery; rewinding the consumer to filter "
		       "them again in %d ms (%llu delivered flows will be produced twice)",
		       (unsigned long long)(ps->failed - w->failed_at_store), REWIND_BACKOFF_MS,
		       (unsigned long long)duplicated);
	w->failed_at_store = ps->failed;
	w->delivered_at_store = ps->delivered;
	if (fs_consumer_rewind_pending(w->consumer) < 0) {
		fs_log(FS_LOG_ERR, "filter",
		       "cannot rewind the consumer; stopping without storing offsets, so a "
		       "restart consumes those flows again");
		return FS_ERR_SYSTEM;
	}
	w->stats.duplicated += duplicated;
	rewind_backoff(w);
	return 0;
}

/*
 * Waits until every produced flow is delivered, then stores the consumed
 * offsets, or rewinds the consumer when a delivery failed.  Returns 0,
 * FS_ERR_FULL when flows are still undelivered (nothing stored), or
 * FS_ERR_SYSTEM when the rewind failed (the worker should stop).
 */
static int
commit_delivered(struct filter_worker *w)
{
	struct fs_producer_stats ps;

	if (fs_producer_flush(w->producer, FLUSH_TIMEOUT_MS) < 0) {
		fs_log(FS_LOG_WARNING, "filter",
		       "produced flows are not delivered after %d ms; offsets are not stored yet",
		       FLUSH_TIMEOUT_MS);
		return FS_ERR_FULL;
	}
	fs_producer_stats(w->producer, &ps);
	if (ps.failed != w->failed_at_store)
		return rewind_undelivered(w, &ps);
	fs_consumer_store_pending(w->consumer);
	w->delivered_at_store = ps.delivered;
	return 0;
}

/* Registers the counters of struct filter_metrics.  Returns 0 or -1 (logged). */
static int
register_metrics(struct worker_telemetry *t, struct filter_metrics *m)
{
	m->flows = worker_telemetry_counter(t, "flows_total", "Flows decoded and evaluated.", NULL);
	m->rejected_schema = worker_telemetry_counter(t, "flows_dropped_total", DROPPED_HELP,
						      "reason=unknown_schema");
	m->rejected_malformed = worker_telemetry_counter(t, "flows_dropped_total", DROPPED_HELP,
							 "reason=malformed");
	m->dropped = worker_telemetry_counter(t, "flows_dropped_total", DROPPED_HELP,
					      "reason=drop_rule");
	m->unmatched = worker_telemetry_counter(t, "flows_unmatched_total",
						"Flows no rule matched.", NULL);
	m->default_routed = worker_telemetry_counter(
		t, "flows_default_routed_total",
		"Flows no rule matched, queued for filter.default.route.", NULL);
	m->reloads = worker_telemetry_counter(t, "reloads_total", "Rules files reloaded.", NULL);
	m->reload_failures = worker_telemetry_counter(
		t, "reload_failures_total", "Rules files that failed to load; the rules in use stay.",
		NULL);
	m->rules = fs_metrics_gauge(worker_telemetry_metrics(t), "flowsift_filter_rules",
				    "Rules in use.", NULL);
	m->rewound = worker_telemetry_counter(
		t, "messages_rewound_total",
		"Messages consumed again because output produced for them failed delivery.", NULL);
	m->duplicated = worker_telemetry_counter(
		t, "flows_duplicated_total",
		"Flows delivered, then produced again after the consumer was rewound.", NULL);
	if (!m->rewound || !m->duplicated)
		return -1;
	if (!m->flows || !m->rejected_schema || !m->rejected_malformed || !m->dropped ||
	    !m->unmatched || !m->default_routed || !m->reloads || !m->reload_failures ||
	    !m->rules)
		return -1;
	return 0;
}

/* Mirrors the stats structs into the metrics; runs after each batch. */
static void
publish_metrics(struct filter_worker *w)
{
	struct filter_metrics *m = w->metrics;
	struct fs_consumer_stats c = { 0 };
	struct fs_producer_stats p = { 0 };

	fs_consumer_stats(w->consumer, &c);
	fs_producer_stats(w->producer, &p);
	worker_telemetry_publish(w->telemetry, &c, &p);
	fs_counter_set(m->flows, w->stats.flows);
	fs_counter_set(m->rejected_schema, w->stats.rejected_schema);
	fs_counter_set(m->rejected_malformed, w->stats.rejected - w->stats.rejected_schema);
	fs_counter_set(m->dropped, w->stats.dropped);
	fs_counter_set(m->unmatched, w->stats.unmatched);
	fs_counter_set(m->default_routed, w->stats.default_routed);
	fs_counter_set(m->reloads, w->stats.reloads);
	fs_counter_set(m->reload_failures, w->stats.reload_failures);
	fs_counter_set(m->rewound, c.rewound);
	fs_counter_set(m->duplicated, w->stats.duplicated);
}

static void
log_stats(const struct filter_worker *w)
{
	fs_log(FS_LOG_INFO, "stats",
	       "flows=%llu rejected=%llu dropped=%llu unmatched=%llu default_routed=%llu "
	       "reloads=%llu reload_failures=%llu duplicated=%llu",
	       (unsigned long long)w->stats.flows, (unsigned long long)w->stats.rejected,
	       (unsigned long long)w->stats.dropped, (unsigned long long)w->stats.unmatched,
	       (unsigned long long)w->stats.default_routed, (unsigned long long)w->stats.reloads,
	       (unsigned long long)w->stats.reload_failures,
	       (unsigned long long)w->stats.duplicated);
	for (size_t i = 0; i < w->rules->count; i++) {
		const struct rule_stats *s = &w->rule_stats[i];

		fs_log(FS_LOG_INFO, "stats", "rule=%s matched=%llu produced=%llu produce_failed=%llu",
		       s->name, (unsigned long long)s->matched, (unsigned long long)s->produced,
		       (unsigned long long)s->produce_failed);
	}
}

/* The intervals of run(), in milliseconds; 0 turns the stats lines or the reload check off. */
struct run_intervals {
	int64_t commit_ms;
	int64_t stats_ms;
	int64_t reload_ms;
};

/* Runs until a stop signal or a failed rewind.  Returns the exit status. */
static int
run(struct filter_worker *w, const struct run_intervals *every)
{
	int64_t next_commit = fs_monotonic_ms() + every->commit_ms;
	int64_t next_stats = fs_monotonic_ms() + every->stats_ms;
	int64_t next_reload = fs_monotonic_ms() + every->reload_ms;
	int status = 0;

	while (!stop_requested) {
		int64_t now = fs_monotonic_ms();
		int rc;

		if (reload_requested) {
			reload_requested = 0;
			fs_log(FS_LOG_INFO, "filter", "SIGHUP: reloading the rules file");
			reload_rules(w, true);
		} else if (every->reload_ms > 0 && now >= next_reload) {
			reload_rules(w, false);
			next_reload = now + every->reload_ms;
		}
		rc = fs_consumer_poll(w->consumer, 100, handle_message, w, POLL_MESSAGES);
		if (rc == FS_ERR_SYSTEM) {
			fs_log(FS_LOG_ERR, "filter", "fatal Kafka consumer error; stopping");
			status = 1;
			break;
		}
		fs_producer_poll(w->producer, 0);
		if (w->batch_start_ns != 0) {
			worker_telemetry_observe_batch(w->telemetry,
						       (double)(fs_monotonic_ns() - w->batch_start_ns) / 1e9);
			w->batch_start_ns = 0;
		}
		publish_metrics(w);
		now = fs_monotonic_ms();
		if (now >= next_commit) {
			rc = commit_delivered(w);
			if (rc == FS_ERR_SYSTEM) {
				status = 1;
				break;
			}
			next_commit = now + every->commit_ms;
		}
		if (every->stats_ms > 0 && now >= next_stats) {
			log_stats(w);
			next_stats = now + every->stats_ms;
		}
	}
	worker_telemetry_set_stopping(w->telemetry);
	fs_exit_deadline_arm("filter", FS_EXIT_DEADLINE_S);
	if (status == 0 && commit_delivered(w) < 0)
		fs_log(FS_LOG_WARNING, "filter",
		       "the last flows were not all delivered; they will be consumed again at restart");
	publish_metrics(w);
	log_stats(w);
	return status;
}

/* Registers the metrics and serves them on filter.metrics.listen.  Returns 0 or -1 (logged). */
static int
start_telemetry(struct filter_worker *w, const struct fs_config *config)
{
	w->metrics = calloc(1, sizeof(*w->metrics));
	if (!w->metrics) {
		fs_log(FS_LOG_ERR, "filter", "cannot start: out of memory");
		return -1;
	}
	w->telemetry = worker_telemetry_from_config(config, "filter",
						    fs_config_str(config, "filter.topic"), 1);
	if (!w->telemetry)
		return -1;
	if (register_metrics(w->telemetry, w->metrics) < 0) {
		fs_log(FS_LOG_ERR, "filter", "cannot register the metrics (see the log above)");
		return -1;
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-filter [--config FILE] [--rules FILE]\n"
		"       flowsift-filter --help | --version\n"
		"\n"
		"Consumes flows from filter.topic (default flows.enriched) in consumer group\n"
		"filter.group.id, evaluates the rules of filter.rules (or --rules FILE) and\n"
		"produces each flow to the topic of every rule it matches, until SIGINT or\n"
		"SIGTERM.  The rules file reloads on SIGHUP and when it changes (checked every\n"
		"filter.reload.interval seconds); a new file with an error leaves the rules in\n"
		"use.  Rules: docs/filter.md.  Settings: docs/CONFIGURATION.md.\n");
}

/* Stores --rules FILE, the only option that the filter adds. */
static void
set_option(void *ctx, int opt, const char *arg)
{
	const char **rules_path = ctx;

	if (opt == 'r')
		*rules_path = arg;
}

int
main(int argc, char **argv)
{
	static const struct option rules_option[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules_path = NULL;
	const struct worker_cli cli = {
		.program = "flowsift-filter", .usage = usage, .on_stop = on_stop,
		.letters = "r:", .options = rules_option, .set_option = set_option,
		.ctx = &rules_path,
	};
	struct filter_worker w = {
		.reject_limit = FS_RATELIMIT_INIT(60, 5),
		.send_limit = FS_RATELIMIT_INIT(60, 5),
		.rewind_limit = FS_RATELIMIT_INIT(60, 5),
	};
	struct fs_config *config;
	const char *topic, *loop;
	struct sigaction hup = { .sa_handler = on_hup };
	struct run_intervals intervals;
	char err[512];
	int status;

	status = worker_start(&cli, argc, argv, &config);
	if (status != WORKER_START_RUN)
		return status;
	status = 1;
	sigemptyset(&hup.sa_mask);
	sigaction(SIGHUP, &hup, NULL);

	w.config = config;
	w.rules_path = rules_path ? rules_path : fs_config_str(config, "filter.rules");
	w.default_route = fs_config_str(config, "filter.default.route");
	loop = w.default_route[0] ? fs_config_filter_loop(config, w.default_route) : NULL;
	if (loop != NULL) {
		fs_log(FS_LOG_ERR, "filter",
		       "cannot start: filter.default.route %s is also %s, so unmatched flows "
		       "would come back to the filter without end", w.default_route, loop);
		goto out;
	}
	/* The key table bounds it to 1..512. */
	w.message_flows = (uint32_t)fs_config_int(config, "kafka.message.flows.max");
	if (start_telemetry(&w, config) < 0 || load_rules(&w) < 0)
		goto out;
	w.codec = fs_flow_codec_new(err, sizeof(err));
	if (w.codec == NULL) {
		fs_log(FS_LOG_ERR, "filter", "cannot start: %s", err);
		goto out;
	}
	w.producer = fs_producer_new_config(config, err, sizeof(err));
	if (w.producer == NULL) {
		fs_log(FS_LOG_ERR, "filter", "cannot create the Kafka producer: %s", err);
		goto out;
	}
	topic = fs_config_str(config, "filter.topic");
	w.consumer = fs_consumer_new_config(config, fs_config_str(config, "filter.group.id"),
					    &topic, 1, err, sizeof(err));
	if (w.consumer == NULL) {
		fs_log(FS_LOG_ERR, "filter", "cannot create the Kafka consumer: %s", err);
		goto out;
	}
	fs_consumer_set_manual_store(w.consumer, 1);
	fs_log(FS_LOG_INFO, "filter", "consuming %s; default route %s", topic,
	       w.default_route[0] ? w.default_route : "none");
	intervals.commit_ms = fs_config_int(config, "filter.commit.interval.ms");
	intervals.stats_ms = fs_config_int(config, "filter.stats.interval") * 1000;
	intervals.reload_ms = fs_config_int(config, "filter.reload.interval") * 1000;
	status = run(&w, &intervals);
	fs_log(FS_LOG_INFO, "filter", "stopped");
out:
	fs_consumer_close(w.consumer, NULL);
	fs_producer_close(w.producer, CLOSE_TIMEOUT_MS, NULL);
	worker_telemetry_free(w.telemetry);
	free(w.metrics);
	fs_flow_codec_free(w.codec);
	fs_ruleset_free(w.rules);
	free(w.rule_stats);
	free(w.out);
	fs_config_free(config);
	return status;
}
