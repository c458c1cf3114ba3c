/*
 * flowsift-report - consumes flows, keeps rolling top-N counters in Redis and
 * detects misbehaving hosts.
 *
 * Flows from report.topic are summed locally (pkg/redis/topn.h) and added to
 * the detection table (pkg/detect/detect.h); both are written to Redis every
 * report.flush.interval.ms, or sooner when a local table fills.  Alerts that
 * a write raises, updates or clears go to alert.topic (Avro,
 * schemas/alert.avsc), to the syslog receiver of alert.syslog.target (RFC 5424
 * with CEF) and to alert.json.output (JSON lines).
 *
 * A message's offset is stored for commit only after the write that contains
 * it succeeded, so a crash or a Redis outage loses no flow: the flows since
 * the last successful write are consumed again (at-least-once, so a crash
 * may count some flows twice; alert states live in Redis, so an open alert
 * is not raised again).  While Redis is unreachable the worker keeps
 * consuming into its local tables until one is full, retries the write with
 * a backoff from 1 s doubling up to 30 s, and logs the outage once a minute.
 * A write whose reply timed out (REDIS_TIMEOUT_MS) may still run in Redis
 * after its retry; both tables make such a retry count once (see
 * fs_topn_flush() and fs_detect_flush()).
 *
 * Every counter of the stats lines is also served as a Prometheus metric on
 * report.metrics.listen, with /healthz and /readyz; /readyz turns 503 when
 * the last write to Redis (or its PING, when there was nothing to write)
 * failed (docs/metrics.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/alert_codec.h"
#include "alert/syslog.h"
#include "avro/flow_codec.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/exit_deadline.h"
#include "core/log.h"
#include "core/result.h"
#include "core/version.h"
#include "detect/detect.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "metrics/metrics.h"
#include "metrics/worker_telemetry.h"
#include "redis/redis_url.h"
#include "redis/topn.h"
#include "worker_start.h"

#define BATCH_ENTRIES 65536
#define POLL_MESSAGES 1000
#define REDIS_TIMEOUT_MS 2000
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000
#define CEF_VERSION FS_VERSION

static volatile sig_atomic_t stop_requested;

struct report {
	struct fs_flow_codec *codec;
	struct fs_alert_codec *alert_codec;
	struct fs_consumer *consumer;
	struct fs_producer *producer;     /* alerts; NULL when alert.topic is empty */
	struct fs_syslog *syslog;         /* NULL when alert.syslog.target is empty */
	FILE *json_out;                   /* NULL, stdout or an owned file */
	const char *alert_topic;
	struct fs_topn_batch *batch;
	struct fs_detect *detect;
	struct fs_redis_url redis_url;
	redisContext *redis;
	int64_t next_flush_ms;
	int64_t flush_interval_ms;
	/* While Redis is down: when to retry, and the current backoff. */
	int64_t retry_at_ms;
	int64_t retry_delay_ms;
	int last_redis_failure;    /* fs_result of the last failed write: FS_ERR_SYSTEM is an outage */
	/* A table is full and Redis is down: consume nothing until the retry. */
	int blocked;
	uint64_t alerts;
	uint64_t alert_failures;
	/* flows in the batch whose offsets wait for the next successful flush */
	uint64_t pending_flows;
	uint64_t flows;
	uint64_t written;                 /* flows in successful writes to Redis */
	uint64_t rejected;
	uint64_t rejected_schema;         /* of rejected: unknown schema fingerprint */
	/*
	 * A message whose handler stopped halfway for lack of room: its
	 * partition, offset and the flows already counted, skipped when the
	 * message comes again.  resume_flows 0: none.
	 */
	int32_t resume_partition;
	int64_t resume_offset;
	size_t resume_flows;
	uint64_t redis_errors;
	int64_t batch_start_ns;           /* first message of the poll batch, 0 before it */
	struct worker_telemetry *telemetry;
	struct report_metrics *metrics;
	struct fs_ratelimit reject_limit;
	struct fs_ratelimit redis_limit;
	struct fs_ratelimit alert_limit;
};

/* The counters of the stats lines as metrics. */
struct report_metrics {
	struct fs_counter *flows;
	struct fs_counter *written;
	struct fs_counter *rejected_schema;
	struct fs_counter *rejected_malformed;
	struct fs_gauge *pending;
	struct fs_counter *flushes;
	struct fs_counter *commands_topn;
	struct fs_counter *commands_detect;
	struct fs_counter *redis_errors;
	struct fs_counter *write_errors_topn;
	struct fs_counter *write_errors_detect;
	struct fs_counter *rollups;
	struct fs_counter *rollup_errors;
	struct fs_gauge *redis_reachable;
	struct fs_histogram *flush_seconds;
	struct fs_counter *detect_flows;
	struct fs_counter *allowlisted;
	struct fs_counter *odd_addresses;
	struct fs_counter *places_full;
	struct fs_counter *late_flows;
	struct fs_counter *future_flows;
	struct fs_gauge *watermark;
	struct fs_counter *suppressed;
	struct fs_counter *alert_failures;
	struct fs_counter *alerts[FS_RULE_COUNT][FS_ALERT_STATE_COUNT]; /* updated in on_alert */
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Connects when there is no usable connection.  Returns 0 or a negative fs_result. */
static int
ensure_redis(struct report *report)
{
	char err[512];
	int rc;

	if (report->redis && !report->redis->err)
		return 0;
	if (report->redis) {
		redisFree(report->redis);
		report->redis = NULL;
	}
	rc = fs_redis_connect(&report->redis_url, REDIS_TIMEOUT_MS, &report->redis,
			      err, sizeof(err));
	if (rc < 0) {
		report->redis_errors++;
		fs_log_limited(&report->redis_limit, FS_LOG_WARNING, "report",
			       "cannot connect to Redis: %s; retrying", err);
	}
	return rc;
}

/* Delivers one alert to every configured output; failures are counted and logged. */
static void
on_alert(const struct fs_alert *alert, void *opaque)
{
	struct report *report = opaque;
	char text[FS_ALERT_JSON_MAX > FS_ALERT_CEF_MAX ? FS_ALERT_JSON_MAX : FS_ALERT_CEF_MAX];
	uint8_t message[FS_ALERT_CODEC_MAX_LEN];
	char subject[FS_ADDR_STRLEN];
	int n, failed = 0;

	report->alerts++;
	if (alert->rule < FS_RULE_COUNT && alert->state < FS_ALERT_STATE_COUNT)
		fs_counter_add(report->metrics->alerts[alert->rule][alert->state], 1);
	fs_log(FS_LOG_NOTICE, "alert", "%s", alert->message);
	if (report->json_out) {
		n = fs_alert_format_json(alert, text, sizeof(text));
		if (n < 0 || fprintf(report->json_out, "%s\n", text) < 0 ||
		    fflush(report->json_out) != 0)
			failed = 1;
	}
	if (report->syslog) {
		n = fs_alert_format_cef(alert, CEF_VERSION, text, sizeof(text));
		if (n < 0 ||
		    fs_syslog_send(report->syslog,
				   alert->state == FS_ALERT_CLEARED ? FS_SYSLOG_NOTICE : FS_SYSLOG_WARNING,
				   fs_alert_rule_name(alert->rule), text) < 0)
			failed = 1;
	}
	if (report->producer) {
		fs_addr_format(&alert->subject, subject);
		n = fs_alert_codec_encode(report->alert_codec, alert, message, sizeof(message));
		if (n < 0 || fs_producer_send(report->producer, report->alert_topic, subject,
					      strlen(subject), message, (size_t)n) < 0)
			failed = 1;
	}
	if (failed) {
		report->alert_failures++;
		fs_log_limited(&report->alert_limit, FS_LOG_WARNING, "report",
			       "alert %s could not be delivered to every output", alert->id);
	}
}

static void
redis_failed(struct report *report, const char *what, int rc)
{
	int64_t now = fs_monotonic_ms();
	char detail[160];

	/* The connection's own error (a time-out, a reset) is more precise than the result code. */
	if (report->redis != NULL && report->redis->err != 0)
		fs_redis_error_text(report->redis, detail, sizeof(detail));
	else
		snprintf(detail, sizeof(detail), "%s", fs_result_name(rc));
	report->redis_errors++;
	report->last_redis_failure = rc;
	if (report->retry_delay_ms == 0)
		report->retry_delay_ms = RETRY_MIN_MS;
	else if (report->retry_delay_ms < RETRY_MAX_MS)
		report->retry_delay_ms = report->retry_delay_ms * 2 > RETRY_MAX_MS
						 ? RETRY_MAX_MS : report->retry_delay_ms * 2;
	report->retry_at_ms = now + report->retry_delay_ms;
	if (report->telemetry) {
		char reason[256];

		snprintf(reason, sizeof(reason), "Redis %s: %s failed (%s)",
			 rc == FS_ERR_SYSTEM ? "unreachable" : "rejected a write", what, detail);
		worker_telemetry_set_dependency(report->telemetry, 0, reason);
		fs_gauge_set(report->metrics->redis_reachable, 0);
	}
	fs_log_limited(&report->redis_limit, FS_LOG_WARNING, "report",
		       "%s failed (%s); still consuming, %llu flows wait in memory, retrying in %lld ms",
		       what, detail, (unsigned long long)report->pending_flows,
		       (long long)report->retry_delay_ms);
}

/*
 * Writes the top-N batch and the detection table to Redis, then stores the
 * offsets of the flows in them.  Returns 0, or a negative fs_result with the
 * unwritten part kept for a retry.
 */
static int
flush(struct report *report)
{
	int64_t start = fs_monotonic_ns();
	int rc;

	rc = ensure_redis(report);
	if (rc < 0) {
		redis_failed(report, "connecting to Redis", rc);
		return rc;
	}
	if (report->pending_flows == 0) {
		/* Nothing to write: a PING keeps /readyz honest while idle. */
		redisReply *reply = redisCommand(report->redis, "PING");

		rc = reply && reply->type != REDIS_REPLY_ERROR ? 0 : FS_ERR_SYSTEM;
		if (reply)
			freeReplyObject(reply);
		if (rc < 0) {
			redis_failed(report, "pinging Redis", rc);
			return rc;
		}
	}
	rc = fs_topn_flush(report->batch, report->redis, fs_clock_ms(CLOCK_REALTIME) / 1000);
	if (rc < 0) {
		redis_failed(report, "writing counters to Redis", rc);
		return rc;
	}
	rc = fs_detect_flush(report->detect, report->redis, fs_clock_ms(CLOCK_REALTIME));
	if (rc < 0) {
		redis_failed(report, "writing detection counters to Redis", rc);
		return rc;
	}
	if (report->retry_delay_ms != 0)
		fs_log(FS_LOG_NOTICE, "report", "%s; counters written",
		       report->last_redis_failure == FS_ERR_SYSTEM ? "Redis is reachable again"
								   : "Redis accepts the writes again");
	report->retry_delay_ms = 0;
	report->retry_at_ms = 0;
	report->blocked = 0;
	fs_consumer_store_pending(report->consumer);
	report->written += report->pending_flows;
	report->pending_flows = 0;
	if (report->telemetry) {
		worker_telemetry_set_dependency(report->telemetry, 1, NULL);
		fs_gauge_set(report->metrics->redis_reachable, 1);
		fs_histogram_observe(report->metrics->flush_seconds,
				     (double)(fs_monotonic_ns() - start) / 1e9);
	}
	return 0;
}

/* Returns true while a failed write waits for its retry time. */
static int
redis_waiting(const struct report *report)
{
	return report->retry_at_ms != 0 && fs_monotonic_ms() < report->retry_at_ms;
}

/* Makes room after a full table: flushes now unless Redis is waiting for a retry. */
static int
make_room(struct report *report)
{
	if (redis_waiting(report) || flush(report) < 0) {
		report->blocked = 1;
		return -1;
	}
	return 0;
}

/* Adds one flow to the detection and top-N tables.  Returns 0, or 1 when there is no room. */
static int
add_flow(struct report *report, const struct fs_flow *flow)
{
	/*
	 * The detection table first: when the top-N batch is full afterwards,
	 * the flush writes this flow's detection entries and only the top-N
	 * part is added again, so nothing counts twice.
	 */
	if (fs_detect_add(report->detect, flow) == FS_ERR_FULL) {
		if (make_room(report) < 0 || fs_detect_add(report->detect, flow) < 0)
			return 1;
	}
	if (fs_topn_batch_add(report->batch, flow) == FS_ERR_FULL) {
		if (make_room(report) < 0 || fs_topn_batch_add(report->batch, flow) < 0)
			return 1;
	}
	report->flows++;
	report->pending_flows++;
	return 0;
}

/*
 * Counts every flow of one message.  When the tables have no room, returns
 * 1 so that the message is delivered again, and remembers how many of its
 * flows were counted, so that they are skipped then and count once.
 */
static int
handle_message(const void *key, size_t key_len, const void *value, size_t len,
	       int64_t timestamp_ms, void *opaque)
{
	struct report *report = opaque;
	struct fs_flow flow;
	size_t pos = 0, index = 0, skip = 0;
	int32_t partition = -1;
	int64_t offset = -1;
	int rc;

	(void)key;
	(void)key_len;
	(void)timestamp_ms;
	if (report->batch_start_ns == 0)
		report->batch_start_ns = fs_monotonic_ns();
	/*
	 * Messages of other partitions may come first after the seek back, so
	 * the remembered count stays until its own message comes again.
	 */
	if (fs_consumer_current(report->consumer, &partition, &offset) == 0 &&
	    report->resume_flows > 0 && partition == report->resume_partition &&
	    offset == report->resume_offset) {
		skip = report->resume_flows;
		report->resume_flows = 0;
	}
	do {
		rc = fs_flow_codec_decode_next(report->codec, value, len, &pos, &flow);
		if (index++ < skip)
			continue;
		if (rc < 0) {
			/* A flow that can never be decoded is counted and skipped. */
			report->rejected++;
			if (rc == FS_ERR_UNSUPPORTED)
				report->rejected_schema++;
			fs_log_limited(&report->reject_limit, FS_LOG_WARNING, "report",
				       "rejected a flow in a message of %zu bytes: %s", len,
				       rc == FS_ERR_UNSUPPORTED ? "unknown schema fingerprint"
								: fs_result_name(rc));
			continue;
		}
		if (add_flow(report, &flow) != 0) {
			report->resume_partition = partition;
			report->resume_offset = offset;
			report->resume_flows = index - 1;
			return 1;
		}
	} while (pos < len);
	return 0;
}

#define DROPPED_HELP "Flows consumed and not counted, by reason."
#define COMMANDS_HELP "Redis commands sent, MULTI, EXEC and scripts included, by table."
#define WRITE_ERRORS_HELP "Writes of a table to Redis that failed, by table."

/* Registers the counters of struct report_metrics.  Returns 0 or -1 (logged). */
static int
register_metrics(struct worker_telemetry *t, struct report_metrics *m)
{
	static const double flush_bounds[] = {
		0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
	};
	struct fs_metrics *registry = worker_telemetry_metrics(t);

	m->flows = worker_telemetry_counter(t, "flows_total",
					    "Flows added to the local tables (records in).", NULL);
	m->written = worker_telemetry_counter(t, "flows_written_total",
					      "Flows in successful writes to Redis (records out).",
					      NULL);
	m->rejected_schema = worker_telemetry_counter(t, "flows_dropped_total", DROPPED_HELP,
						      "reason=unknown_schema");
	m->rejected_malformed = worker_telemetry_counter(t, "flows_dropped_total", DROPPED_HELP,
							 "reason=malformed");
	m->pending = fs_metrics_gauge(registry, "flowsift_report_flows_pending",
				      "Flows in memory waiting for the next write to Redis.", NULL);
	m->flushes = worker_telemetry_counter(t, "redis_flushes_total",
					      "Successful writes of a non-empty top-N batch.", NULL);
	m->commands_topn = worker_telemetry_counter(t, "redis_commands_total", COMMANDS_HELP,
						    "table=topn");
	m->commands_detect = worker_telemetry_counter(t, "redis_commands_total", COMMANDS_HELP,
						      "table=detect");
	m->redis_errors = worker_telemetry_counter(
		t, "redis_errors_total", "Failed connections, PINGs and writes to Redis.", NULL);
	m->write_errors_topn = worker_telemetry_counter(t, "redis_write_errors_total",
							WRITE_ERRORS_HELP, "table=topn");
	m->write_errors_detect = worker_telemetry_counter(t, "redis_write_errors_total",
							  WRITE_ERRORS_HELP, "table=detect");
	m->rollups = worker_telemetry_counter(
		t, "redis_rollups_total", "Coarse top-N buckets that this worker built by roll-up.", NULL);
	m->rollup_errors = worker_telemetry_counter(
		t, "redis_rollup_errors_total",
		"Top-N roll-up runs that failed; the next flush retries them.", NULL);
	m->redis_reachable = fs_metrics_gauge(
		registry, "flowsift_report_redis_reachable",
		"1 when the last write or PING to Redis succeeded, else 0.", NULL);
	m->flush_seconds = fs_metrics_histogram(
		registry, "flowsift_report_redis_flush_seconds",
		"Time of one successful flush: connection check, top-N and detection writes.", NULL,
		flush_bounds, sizeof(flush_bounds) / sizeof(flush_bounds[0]));
	m->detect_flows = worker_telemetry_counter(t, "detect_flows_total",
						   "Flows added to the detection table.", NULL);
	m->allowlisted = worker_telemetry_counter(
		t, "detect_allowlisted_total", "Flows the detection allowlist ignored.", NULL);
	m->odd_addresses = worker_telemetry_counter(
		t, "detect_odd_addresses_total",
		"Flows whose source (unspecified, multicast, broadcast) or destination (unspecified) "
		"no detection rule counts.", NULL);
	m->places_full = worker_telemetry_counter(
		t, "detect_places_full_total",
		"Flows from exporter interfaces past the 16,384 noted per flush interval; alerts on "
		"them name no exporter.", NULL);
	m->late_flows = worker_telemetry_counter(
		t, "detect_late_flows_total",
		"Flows received before the window of a rule at the detection watermark; that rule "
		"did not count them.", NULL);
	_Static_assert(FS_DETECT_MAX_SKEW_MS == 5000, "the help text below names the skew");
	m->future_flows = worker_telemetry_counter(
		t, "detect_future_flows_total",
		"Flows received more than 5 s past this host's clock, counted as received at that "
		"limit.", NULL);
	m->watermark = fs_metrics_gauge(
		registry, "flowsift_report_detect_watermark_seconds",
		"Highest receive time of the flows added to detection, Unix seconds; the detection "
		"windows end there.  0 before the first flow with a receive time.", NULL);
	m->suppressed = worker_telemetry_counter(
		t, "alerts_suppressed_total",
		"Alert events over alert.rate.max per minute, not sent to the outputs.", NULL);
	m->alert_failures = worker_telemetry_counter(
		t, "alert_delivery_failures_total",
		"Alerts that could not be delivered to every configured output.", NULL);
	if (!m->flows || !m->written || !m->rejected_schema || !m->rejected_malformed ||
	    !m->pending || !m->flushes || !m->commands_topn || !m->commands_detect ||
	    !m->redis_errors || !m->write_errors_topn || !m->write_errors_detect ||
	    !m->rollups || !m->rollup_errors || !m->redis_reachable || !m->flush_seconds || !m->detect_flows || !m->allowlisted ||
	    !m->odd_addresses || !m->places_full || !m->late_flows || !m->future_flows ||
	    !m->watermark || !m->suppressed || !m->alert_failures)
		return -1;
	for (int r = 0; r < FS_RULE_COUNT; r++) {
		for (int st = 0; st < FS_ALERT_STATE_COUNT; st++) {
			char labels[96];

			snprintf(labels, sizeof(labels), "rule=%s,state=%s",
				 fs_alert_rule_name((enum fs_alert_rule)r),
				 fs_alert_state_name((enum fs_alert_state)st));
			m->alerts[r][st] = worker_telemetry_counter(
				t, "alerts_total", "Alerts raised, updated and cleared, by rule and state.",
				labels);
			if (!m->alerts[r][st])
				return -1;
		}
	}
	return 0;
}

/* Mirrors the stats structs into the metrics; runs after each poll. */
static void
publish_metrics(struct report *report)
{
	struct report_metrics *m = report->metrics;
	struct fs_consumer_stats c = { 0 };
	struct fs_producer_stats p = { 0 };
	struct fs_topn_stats t;
	struct fs_detect_stats d;

	fs_consumer_stats(report->consumer, &c);
	if (report->producer)
		fs_producer_stats(report->producer, &p);
	worker_telemetry_publish(report->telemetry, &c, report->producer ? &p : NULL);
	fs_topn_batch_stats(report->batch, &t);
	fs_detect_stats(report->detect, &d);
	fs_counter_set(m->flows, report->flows);
	fs_counter_set(m->written, report->written);
	fs_counter_set(m->rejected_schema, report->rejected_schema);
	fs_counter_set(m->rejected_malformed, report->rejected - report->rejected_schema);
	fs_gauge_set(m->pending, (int64_t)report->pending_flows);
	fs_counter_set(m->flushes, t.flushes);
	fs_counter_set(m->commands_topn, t.commands);
	fs_counter_set(m->commands_detect, d.commands);
	fs_counter_set(m->redis_errors, report->redis_errors);
	fs_counter_set(m->write_errors_topn, t.errors);
	fs_counter_set(m->write_errors_detect, d.errors);
	fs_counter_set(m->rollups, t.rollups);
	fs_counter_set(m->rollup_errors, t.rollup_errors);
	fs_counter_set(m->detect_flows, d.flows);
	fs_counter_set(m->allowlisted, d.allowlisted);
	fs_counter_set(m->odd_addresses, d.odd_addresses);
	fs_counter_set(m->places_full, d.places_full);
	fs_counter_set(m->late_flows, d.late_flows);
	fs_counter_set(m->future_flows, d.future_flows);
	fs_gauge_set(m->watermark, d.watermark_ms / 1000);
	fs_counter_set(m->suppressed, d.suppressed);
	fs_counter_set(m->alert_failures, report->alert_failures);
}

static void
log_stats(const struct report *report)
{
	struct fs_consumer_stats c = { 0 };
	struct fs_topn_stats t;
	struct fs_detect_stats d;

	if (report->consumer)
		fs_consumer_stats(report->consumer, &c);
	fs_topn_batch_stats(report->batch, &t);
	fs_detect_stats(report->detect, &d);
	fs_log(FS_LOG_INFO, "stats",
	       "detect_flows=%llu allowlisted=%llu detect_commands=%llu detect_errors=%llu "
	       "raised=%llu updated=%llu cleared=%llu suppressed=%llu odd_addresses=%llu "
	       "late_flows=%llu future_flows=%llu alerts=%llu alert_failures=%llu",
	       (unsigned long long)d.flows, (unsigned long long)d.allowlisted,
	       (unsigned long long)d.commands, (unsigned long long)d.errors,
	       (unsigned long long)d.raised, (unsigned long long)d.updated,
	       (unsigned long long)d.cleared, (unsigned long long)d.suppressed,
	       (unsigned long long)d.odd_addresses, (unsigned long long)d.late_flows,
	       (unsigned long long)d.future_flows, (unsigned long long)report->alerts,
	       (unsigned long long)report->alert_failures);
	fs_log(FS_LOG_INFO, "stats",
	       "consumed=%llu flows=%llu written=%llu rejected=%llu pending=%llu flushes=%llu "
	       "redis_commands=%llu redis_errors=%llu consumer_errors=%llu "
	       "commit_failures=%llu",
	       (unsigned long long)c.consumed, (unsigned long long)report->flows,
	       (unsigned long long)report->written,
	       (unsigned long long)report->rejected,
	       (unsigned long long)report->pending_flows,
	       (unsigned long long)t.flushes, (unsigned long long)t.commands,
	       (unsigned long long)report->redis_errors,
	       (unsigned long long)c.errors, (unsigned long long)c.commit_failures);
}

static void
run(struct report *report, const struct fs_config *config)
{
	int64_t stats_interval_ms = fs_config_int(config, "report.stats.interval") * 1000;
	int64_t next_stats = fs_monotonic_ms() + stats_interval_ms;

	report->next_flush_ms = fs_monotonic_ms() + report->flush_interval_ms;
	while (!stop_requested) {
		int64_t now = fs_monotonic_ms();

		if (now >= report->next_flush_ms && !redis_waiting(report)) {
			flush(report);
			report->next_flush_ms = now + report->flush_interval_ms;
		}
		if (report->producer)
			fs_producer_poll(report->producer, 0);
		if (report->blocked) {
			/* A table is full and Redis is down: wait for the retry. */
			usleep(100 * 1000);
			if (!redis_waiting(report))
				flush(report);
			publish_metrics(report);
			continue;
		}
		if (fs_consumer_poll(report->consumer, 100, handle_message, report,
				     POLL_MESSAGES) == FS_ERR_SYSTEM) {
			fs_log(FS_LOG_ERR, "report", "fatal Kafka consumer error; stopping");
			break;
		}
		if (report->batch_start_ns != 0) {
			worker_telemetry_observe_batch(report->telemetry,
						       (double)(fs_monotonic_ns() - report->batch_start_ns) / 1e9);
			report->batch_start_ns = 0;
		}
		publish_metrics(report);
		if (stats_interval_ms > 0 && now >= next_stats) {
			log_stats(report);
			next_stats = now + stats_interval_ms;
		}
	}
	worker_telemetry_set_stopping(report->telemetry);
	fs_exit_deadline_arm("report", FS_EXIT_DEADLINE_S);
	if (flush(report) < 0 && report->pending_flows > 0)
		fs_log(FS_LOG_WARNING, "report",
		       "%llu flows were not written to Redis; they will be consumed again at restart",
		       (unsigned long long)report->pending_flows);
	publish_metrics(report);
	log_stats(report);
}

/*
 * Opens path to append JSON lines, creating it.  Only a regular file is
 * taken: opening a FIFO without a reader would block the worker before its
 * health endpoint is up, where SIGTERM cannot stop it.  Returns the stream,
 * or NULL with the reason in err.
 */
static FILE *
open_json_output(const char *path, char *err, size_t err_len)
{
	struct stat st;
	FILE *out;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENXIO) {
		snprintf(err, err_len, "'%s' is a FIFO that no process reads; name a regular file, or "
			 "- for standard output", path);
		return NULL;
	}
	if (fd < 0) {
		snprintf(err, err_len, "cannot open '%s' for appending: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "'%s' is not a regular file; name a file, or - for standard "
			 "output", path);
		close(fd);
		return NULL;
	}
	/* Regular files ignore O_NONBLOCK; clearing it keeps the writes plain. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	out = fdopen(fd, "a");
	if (!out) {
		snprintf(err, err_len, "cannot open '%s' for appending: %s", path, strerror(errno));
		close(fd);
	}
	return out;
}

/* Opens the alert outputs that the configuration names.  Returns 0 or -1 (logged). */
static int
open_alert_outputs(struct report *report, const struct fs_config *config)
{
	const char *json = fs_config_str(config, "alert.json.output");
	const char *target = fs_config_str(config, "alert.syslog.target");
	char err[512];

	report->alert_topic = fs_config_str(config, "alert.topic");
	report->alert_codec = fs_alert_codec_new(err, sizeof(err));
	if (!report->alert_codec) {
		fs_log(FS_LOG_ERR, "report", "cannot start the alert codec: %s", err);
		return -1;
	}
	if (report->alert_topic[0]) {
		report->producer = fs_producer_new_config(config, err, sizeof(err));
		if (!report->producer) {
			fs_log(FS_LOG_ERR, "report", "cannot create the Kafka producer for %s: %s",
			       report->alert_topic, err);
			return -1;
		}
	}
	if (target[0]) {
		report->syslog = fs_syslog_new(target, (int)fs_config_int(config, "alert.syslog.facility"),
					       "flowsift-report", err, sizeof(err));
		if (!report->syslog) {
			fs_log(FS_LOG_ERR, "report", "alert.syslog.target: %s", err);
			return -1;
		}
	}
	if (strcmp(json, "-") == 0) {
		report->json_out = stdout;
	} else if (json[0]) {
		report->json_out = open_json_output(json, err, sizeof(err));
		if (!report->json_out) {
			fs_log(FS_LOG_ERR, "report", "alert.json.output: %s", err);
			return -1;
		}
	}
	fs_log(FS_LOG_INFO, "report", "alerts go to topic %s, syslog %s, JSON lines %s",
	       report->alert_topic[0] ? report->alert_topic : "(none)",
	       target[0] ? target : "(none)", json[0] ? json : "(none)");
	return 0;
}

/* Registers the metrics and serves them on report.metrics.listen.  Returns 0 or -1 (logged). */
static int
start_telemetry(struct report *report, const struct fs_config *config)
{
	report->metrics = calloc(1, sizeof(*report->metrics));
	if (!report->metrics) {
		fs_log(FS_LOG_ERR, "report", "cannot start: out of memory");
		return -1;
	}
	report->telemetry = worker_telemetry_from_config(config, "report",
							 fs_config_str(config, "report.topic"),
							 report->producer != NULL);
	if (!report->telemetry)
		return -1;
	if (register_metrics(report->telemetry, report->metrics) < 0) {
		fs_log(FS_LOG_ERR, "report", "cannot register the metrics (see the log above)");
		return -1;
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-report [--config FILE]\n"
		"       flowsift-report --help | --version\n"
		"\n"
		"Consumes flows from report.topic in consumer group report.group.id, keeps\n"
		"rolling top-N counters in the Redis of redis.url and raises alerts for\n"
		"misbehaving hosts (detect.* settings) to alert.topic, alert.syslog.target\n"
		"and alert.json.output, until SIGINT or SIGTERM.  Read the counters with\n"
		"`flowsift top` or `flowsift report`, the alerts with `flowsift report alerts`.\n"
		"Settings: docs/CONFIGURATION.md; rules: docs/alerts.md.\n");
}

int
main(int argc, char **argv)
{
	static const struct worker_cli cli = {
		.program = "flowsift-report", .usage = usage, .on_stop = on_signal,
	};
	struct report report = {
		.reject_limit = FS_RATELIMIT_INIT(60, 5),
		.redis_limit = FS_RATELIMIT_INIT(60, 1),
		.alert_limit = FS_RATELIMIT_INIT(60, 3),
	};
	struct fs_detect_settings settings = { 0 };
	struct fs_producer_stats producer_stats;
	struct fs_config *config;
	const char *topic;
	char err[512], safe[1024];
	int status;

	status = worker_start(&cli, argc, argv, &config);
	if (status != WORKER_START_RUN)
		return status;
	status = 1;
	if (fs_redis_url_from_config(&report.redis_url, config, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "report", "%s", err);
		goto out;
	}
	report.flush_interval_ms = fs_config_int(config, "report.flush.interval.ms");
	report.batch = fs_topn_batch_new(BATCH_ENTRIES);
	report.codec = fs_flow_codec_new(err, sizeof(err));
	if (!report.batch || !report.codec) {
		fs_log(FS_LOG_ERR, "report", "cannot start: %s",
		       report.codec ? "out of memory" : err);
		goto out;
	}
	if (fs_detect_settings_load(&settings, config, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "report", "%s", err);
		goto out;
	}
	if (open_alert_outputs(&report, config) < 0 || start_telemetry(&report, config) < 0)
		goto out;
	report.detect = fs_detect_new(&settings, on_alert, &report);
	if (!report.detect) {
		fs_log(FS_LOG_ERR, "report", "cannot start: out of memory for the detection table");
		goto out;
	}
	topic = fs_config_str(config, "report.topic");
	report.consumer = fs_consumer_new_config(config,
						 fs_config_str(config, "report.group.id"),
						 &topic, 1, err, sizeof(err));
	if (!report.consumer) {
		fs_log(FS_LOG_ERR, "report", "cannot create the Kafka consumer: %s", err);
		goto out;
	}
	fs_consumer_set_manual_store(report.consumer, 1);
	fs_log(FS_LOG_INFO, "report", "consuming %s, writing counters to %s", topic,
	       fs_redis_url_format_safe(&report.redis_url, safe, sizeof(safe)));
	run(&report, config);
	fs_log(FS_LOG_INFO, "report", "stopped");
	status = 0;
out:
	fs_consumer_close(report.consumer, NULL);
	if (report.producer &&
	    fs_producer_close(report.producer, 5000, &producer_stats) < 0)
		fs_log(FS_LOG_WARNING, "report", "%llu alerts were not delivered to %s",
		       (unsigned long long)producer_stats.lost, report.alert_topic);
	fs_syslog_free(report.syslog);
	if (report.json_out && report.json_out != stdout)
		fclose(report.json_out);
	if (report.redis)
		redisFree(report.redis);
	fs_detect_free(report.detect);
	/* After the detection table, whose alert callback counts into the metrics. */
	worker_telemetry_free(report.telemetry);
	free(report.metrics);
	fs_detect_settings_release(&settings);
	fs_alert_codec_free(report.alert_codec);
	fs_topn_batch_free(report.batch);
	fs_flow_codec_free(report.codec);
	fs_config_free(config);
	return status;
}
