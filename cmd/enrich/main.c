/*
 * flowsift-enrich - consumes raw flows, adds names, places, tags and sampling
 * estimates, and produces enriched flows.
 *
 * Flows from kafka.topic.raw are decoded, enriched (pkg/enrich/enricher.h)
 * and produced to kafka.topic.enriched, keyed by exporter address like the
 * raw flows.  Delivery is at-least-once: after each poll batch the producer
 * is flushed, and the consumed offsets are stored for commit only when every
 * flow of the batch was delivered.  A delivery fails, for example, when
 * kafka.message.timeout.ms expires during a broker outage.  The worker then
 * rewinds the consumer to the first flow of the batch in each partition,
 * waits REWIND_BACKOFF_MS and enriches the batch again.  So an outage of any
 * length loses no flow and needs no restart.  The flows of the batch that were
 * delivered before the failure are then produced twice, counted in
 * flowsift_enrich_flows_duplicated_total.  Only when the rewind itself fails
 * does the worker stop with status 1 without storing, so a restart consumes
 * the batch again.
 *
 * Files reload between batches, on SIGHUP and when enrich.reload.interval
 * finds one changed, so each flow is enriched with one whole version of
 * each file.
 *
 * Every counter of the stats line is also served as a Prometheus metric on
 * enrich.metrics.listen, with /healthz and /readyz (telemetry.h,
 * docs/metrics.md).
 */
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
#include "core/log.h"
#include "core/result.h"
#include "enrich/enricher.h"
#include "enrich/snmp_poller.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "metrics/metrics.h"
#include "metrics/worker_telemetry.h"
#include "worker_start.h"

#define FACILITY "enrich"
#define POLL_MESSAGES 1000
#define POLL_TIMEOUT_MS 100
#define FLUSH_STEP_MS 1000
#define QUEUE_FULL_WAIT_MS 100
/* Pause after a rewind, so a broker that rejects every message is not retried in a busy loop. */
#define REWIND_BACKOFF_MS 1000

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

struct enrich {
	struct fs_flow_codec *codec;
	struct fs_consumer *consumer;
	struct fs_producer *producer;
	struct fs_enricher *enricher;
	struct fs_snmp_poller *snmp;
	const char *topic_out;
	struct fs_flow_batch out;     /* enriched flows of the input message */
	uint64_t batch_flows;         /* produced since the last offset store */
	uint64_t flows;
	uint64_t rejected;
	uint64_t rejected_schema;     /* of rejected: unknown schema fingerprint */
	uint64_t encode_errors;
	uint64_t duplicated;          /* delivered flows produced again after a rewind */
	int64_t batch_start_ns;       /* first message of the batch, 0 before it */
	struct fs_ratelimit reject_limit;
	struct fs_ratelimit encode_limit;
	/* The flush is retried every second while the broker is unreachable, so the wait is logged once a minute. */
	struct fs_ratelimit wait_limit;
	/* A long outage fails a batch every kafka.message.timeout.ms, each one logged. */
	struct fs_ratelimit rewind_limit;
	struct worker_telemetry *telemetry;
	struct enrich_metrics *metrics;
};

/* The counters that only flowsift-enrich keeps, mirrored after each batch. */
struct enrich_metrics {
	struct fs_counter *flows;
	struct fs_counter *rejected_schema;
	struct fs_counter *rejected_malformed;
	struct fs_counter *encode_errors;
	struct fs_counter *geoip_hits;
	struct fs_counter *prefix_hits;
	struct fs_counter *interface_hits;
	struct fs_counter *sampling[5];
	struct fs_counter *reloads;
	struct fs_counter *reload_failures;
	struct fs_counter *rewound;
	struct fs_counter *duplicated;
};

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

/*
 * Queues the enriched flows gathered in enrich->out as one message, waiting
 * while the local queue is full, and empties the batch.  Returns 0 or nonzero.
 */
static int
send_batch(struct enrich *enrich)
{
	const uint8_t *key;
	size_t key_len;
	uint32_t count = enrich->out.count;

	if (count == 0)
		return 0;
	key = fs_flow_batch_key(&enrich->out, &key_len);
	for (;;) {
		int rc = fs_producer_send_records(enrich->producer, enrich->topic_out, key, key_len,
						  enrich->out.buf, enrich->out.len, count);

		if (rc == 0)
			break;
		if (rc != FS_ERR_FULL || stop_requested) {
			fs_flow_batch_clear(&enrich->out);
			return 1;
		}
		fs_producer_poll(enrich->producer, QUEUE_FULL_WAIT_MS);
	}
	fs_flow_batch_clear(&enrich->out);
	enrich->flows += count;
	enrich->batch_flows += count;
	return 0;
}

/* Counts and logs a flow that cannot be decoded. */
static void
reject_flow(struct enrich *enrich, int rc, size_t len)
{
	enrich->rejected++;
	if (rc == FS_ERR_UNSUPPORTED)
		enrich->rejected_schema++;
	fs_log_limited(&enrich->reject_limit, FS_LOG_WARNING, FACILITY,
		       "rejected a flow in a message of %zu bytes: %s", len,
		       rc == FS_ERR_UNSUPPORTED ? "unknown schema fingerprint" : fs_result_name(rc));
}

/* Enriches every flow of one message and produces them as one message. */
static int
handle_message(const void *key, size_t key_len, const void *value, size_t len,
	       int64_t timestamp_ms, void *opaque)
{
	struct enrich *enrich = opaque;
	struct fs_flow flow;
	size_t pos = 0;
	int rc;

	(void)key;
	(void)key_len;
	(void)timestamp_ms;
	if (enrich->batch_start_ns == 0)
		enrich->batch_start_ns = fs_monotonic_ns();
	do {
		rc = fs_flow_codec_decode_next(enrich->codec, value, len, &pos, &flow);
		if (rc < 0) {
			/* A flow that can never be decoded is counted and skipped. */
			reject_flow(enrich, rc, len);
			continue;
		}
		fs_enricher_apply(enrich->enricher, &flow);
		if (!fs_flow_batch_fits(&enrich->out, &flow) && send_batch(enrich) != 0)
			return 1;       /* consumed again after the seek back */
		rc = fs_flow_batch_add(&enrich->out, enrich->codec, &flow);
		if (rc < 0) {
			enrich->encode_errors++;
			fs_log_limited(&enrich->encode_limit, FS_LOG_ERR, FACILITY,
				       "cannot encode an enriched flow: %s; flow skipped",
				       fs_result_name(rc));
		}
	} while (pos < len);
	return send_batch(enrich);
}

/* Waits up to REWIND_BACKOFF_MS, serving delivery reports, unless a stop is requested. */
static void
rewind_backoff(struct enrich *enrich)
{
	int64_t until = fs_monotonic_ms() + REWIND_BACKOFF_MS;

	while (!stop_requested && fs_monotonic_ms() < until)
		fs_producer_poll(enrich->producer, QUEUE_FULL_WAIT_MS);
}

/*
 * Waits until every queued flow was delivered, then stores the consumed
 * offsets.  When a delivery failed, rewinds the consumer to the batch's first
 * flows instead, so they are enriched again.  Returns 0 when the offsets
 * were stored or the consumer rewound, 1 when stopping before the queue
 * drained, or -1 when the rewind failed and the worker must stop.  Nothing
 * is stored in the last two cases.
 */
static int
commit_batch(struct enrich *enrich, const struct fs_producer_stats *before)
{
	struct fs_producer_stats stats;
	uint64_t failed, duplicated;

	while (fs_producer_flush(enrich->producer, FLUSH_STEP_MS) != 0) {
		if (stop_requested)
			return 1;
		fs_log_limited(&enrich->wait_limit, FS_LOG_WARNING, FACILITY,
			       "waiting for the broker to acknowledge %llu enriched flows; "
			       "consuming nothing until it does",
			       (unsigned long long)enrich->batch_flows);
	}
	fs_producer_stats(enrich->producer, &stats);
	if (stats.failed == before->failed) {
		fs_consumer_store_pending(enrich->consumer);
		enrich->batch_flows = 0;
		return 0;
	}

	failed = stats.failed - before->failed;
	duplicated = stats.delivered - before->delivered;
	fs_log_limited(&enrich->rewind_limit, FS_LOG_WARNING, FACILITY,
		       "%llu of %llu enriched flows were not delivered; rewinding the consumer to "
		       "enrich the batch again in %d ms (%llu delivered flows will be produced twice)",
		       (unsigned long long)failed, (unsigned long long)enrich->batch_flows,
		       REWIND_BACKOFF_MS, (unsigned long long)duplicated);
	enrich->batch_flows = 0;
	if (fs_consumer_rewind_pending(enrich->consumer) < 0) {
		fs_log(FS_LOG_ERR, FACILITY,
		       "cannot rewind the consumer; stopping without committing, so a restart "
		       "consumes the batch again");
		return -1;
	}
	enrich->duplicated += duplicated;
	rewind_backoff(enrich);
	return 0;
}

#define DROPPED_HELP "Flows consumed but not produced, by reason."
#define HITS_HELP "Lookups that found an entry, by source."
#define SAMPLING_HELP "Flows by what sampling correction did to their counters."

/* Registers the counters of struct enrich_metrics.  Returns 0 or -1 (logged). */
static int
register_metrics(struct worker_telemetry *t, struct enrich_metrics *m)
{
	static const char *const sampling[] = {
		"outcome=scaled", "outcome=overridden", "outcome=unknown_rate",
		"outcome=already_scaled", "outcome=saturated",
	};

	m->flows = worker_telemetry_counter(t, "flows_enriched_total",
					    "Flows enriched and queued for the output topic.", NULL);
	m->rejected_schema = worker_telemetry_counter(t, "flows_dropped_total", DROPPED_HELP,
						      "reason=unknown_schema");
	m->rejected_malformed = worker_telemetry_counter(t, "flows_dropped_total", DROPPED_HELP,
							 "reason=malformed");
	m->encode_errors = worker_telemetry_counter(t, "flows_dropped_total", DROPPED_HELP,
						    "reason=encode_error");
	m->geoip_hits = worker_telemetry_counter(t, "lookup_hits_total", HITS_HELP, "source=geoip");
	m->prefix_hits = worker_telemetry_counter(t, "lookup_hits_total", HITS_HELP,
						  "source=prefix");
	m->interface_hits = worker_telemetry_counter(t, "lookup_hits_total", HITS_HELP,
						     "source=interface");
	m->reloads = worker_telemetry_counter(t, "reloads_total", "Files reloaded.", NULL);
	m->reload_failures = worker_telemetry_counter(
		t, "reload_failures_total", "New file versions that failed to load.", NULL);
	m->rewound = worker_telemetry_counter(
		t, "messages_rewound_total",
		"Messages consumed again because the output of their batch failed delivery.", NULL);
	m->duplicated = worker_telemetry_counter(
		t, "flows_duplicated_total",
		"Flows delivered, then produced again after their batch was rewound.", NULL);
	if (!m->rewound || !m->duplicated)
		return -1;
	if (!m->flows || !m->rejected_schema || !m->rejected_malformed || !m->encode_errors ||
	    !m->geoip_hits || !m->prefix_hits || !m->interface_hits || !m->reloads ||
	    !m->reload_failures)
		return -1;
	for (size_t i = 0; i < 5; i++) {
		m->sampling[i] = worker_telemetry_counter(t, "sampling_total", SAMPLING_HELP,
							  sampling[i]);
		if (!m->sampling[i])
			return -1;
	}
	return 0;
}

/* Mirrors every stats struct into the metrics; runs after each batch. */
static void
publish_metrics(struct enrich *enrich)
{
	struct enrich_metrics *m = enrich->metrics;
	struct fs_consumer_stats c = { 0 };
	struct fs_producer_stats p = { 0 };
	struct fs_enrich_stats e;

	fs_consumer_stats(enrich->consumer, &c);
	fs_producer_stats(enrich->producer, &p);
	fs_enricher_stats(enrich->enricher, &e);
	worker_telemetry_publish(enrich->telemetry, &c, &p);
	fs_counter_set(m->flows, enrich->flows);
	fs_counter_set(m->rejected_schema, enrich->rejected_schema);
	fs_counter_set(m->rejected_malformed, enrich->rejected - enrich->rejected_schema);
	fs_counter_set(m->encode_errors, enrich->encode_errors);
	fs_counter_set(m->geoip_hits, e.geoip_hits);
	fs_counter_set(m->prefix_hits, e.prefix_hits);
	fs_counter_set(m->interface_hits, e.interface_hits);
	fs_counter_set(m->sampling[0], e.sampling.scaled);
	fs_counter_set(m->sampling[1], e.sampling.overridden);
	fs_counter_set(m->sampling[2], e.sampling.unknown_rate);
	fs_counter_set(m->sampling[3], e.sampling.already_scaled);
	fs_counter_set(m->sampling[4], e.sampling.saturated);
	fs_counter_set(m->reloads, e.reloads);
	fs_counter_set(m->reload_failures, e.reload_failures);
	fs_counter_set(m->rewound, c.rewound);
	fs_counter_set(m->duplicated, enrich->duplicated);
}

static void
log_stats(struct enrich *enrich)
{
	struct fs_consumer_stats c = { 0 };
	struct fs_producer_stats p = { 0 };
	struct fs_enrich_stats e;

	fs_consumer_stats(enrich->consumer, &c);
	fs_producer_stats(enrich->producer, &p);
	fs_enricher_stats(enrich->enricher, &e);
	fs_log(FS_LOG_INFO, "stats",
	       "consumed=%llu flows=%llu rejected=%llu encode_errors=%llu delivered=%llu "
	       "failed=%llu geoip_hits=%llu prefix_hits=%llu interface_hits=%llu "
	       "sampling_scaled=%llu sampling_overridden=%llu sampling_unknown=%llu "
	       "sampling_already_scaled=%llu sampling_saturated=%llu reloads=%llu "
	       "reload_failures=%llu rewound=%llu duplicated=%llu",
	       (unsigned long long)c.consumed, (unsigned long long)enrich->flows,
	       (unsigned long long)enrich->rejected, (unsigned long long)enrich->encode_errors,
	       (unsigned long long)p.delivered, (unsigned long long)p.failed,
	       (unsigned long long)e.geoip_hits, (unsigned long long)e.prefix_hits,
	       (unsigned long long)e.interface_hits, (unsigned long long)e.sampling.scaled,
	       (unsigned long long)e.sampling.overridden,
	       (unsigned long long)e.sampling.unknown_rate,
	       (unsigned long long)e.sampling.already_scaled,
	       (unsigned long long)e.sampling.saturated, (unsigned long long)e.reloads,
	       (unsigned long long)e.reload_failures, (unsigned long long)c.rewound,
	       (unsigned long long)enrich->duplicated);
}

/* Returns the exit status. */
static int
run(struct enrich *enrich, const struct fs_config *config)
{
	int64_t stats_interval_ms = fs_config_int(config, "enrich.stats.interval") * 1000;
	int64_t reload_interval_ms = fs_config_int(config, "enrich.reload.interval") * 1000;
	int64_t next_stats = fs_monotonic_ms() + stats_interval_ms;
	int64_t next_reload = fs_monotonic_ms() + reload_interval_ms;
	int status = 0;

	while (!stop_requested) {
		struct fs_producer_stats before;
		int64_t now = fs_monotonic_ms();
		int rc;

		if (reload_requested) {
			reload_requested = 0;
			fs_log(FS_LOG_INFO, FACILITY, "SIGHUP: reloading every file");
			fs_enricher_reload(enrich->enricher, true);
		} else if (reload_interval_ms > 0 && now >= next_reload) {
			fs_enricher_reload(enrich->enricher, false);
			next_reload = now + reload_interval_ms;
		}

		fs_producer_stats(enrich->producer, &before);
		rc = fs_consumer_poll(enrich->consumer, POLL_TIMEOUT_MS, handle_message, enrich,
				      POLL_MESSAGES);
		if (rc == FS_ERR_SYSTEM) {
			fs_log(FS_LOG_ERR, FACILITY, "fatal Kafka consumer error; stopping");
			status = 1;
			break;
		}
		rc = commit_batch(enrich, &before);
		if (enrich->batch_start_ns != 0) {
			worker_telemetry_observe_batch(enrich->telemetry,
						       (double)(fs_monotonic_ns() - enrich->batch_start_ns) / 1e9);
			enrich->batch_start_ns = 0;
		}
		if (rc < 0) {
			status = 1;
			break;
		}
		fs_producer_poll(enrich->producer, 0);
		publish_metrics(enrich);
		if (stats_interval_ms > 0 && now >= next_stats) {
			log_stats(enrich);
			next_stats = now + stats_interval_ms;
		}
	}
	worker_telemetry_set_stopping(enrich->telemetry);
	fs_exit_deadline_arm(FACILITY, FS_EXIT_DEADLINE_S);
	publish_metrics(enrich);
	log_stats(enrich);
	return status;
}

/* Registers the metrics and serves them on enrich.metrics.listen.  Returns 0 or -1 (logged). */
static int
start_telemetry(struct enrich *enrich, const struct fs_config *config, const char *topic_in)
{
	enrich->metrics = calloc(1, sizeof(*enrich->metrics));
	if (!enrich->metrics) {
		fs_log(FS_LOG_ERR, FACILITY, "cannot start: out of memory");
		return -1;
	}
	enrich->telemetry = worker_telemetry_from_config(config, FACILITY, topic_in, 1);
	if (!enrich->telemetry)
		return -1;
	if (register_metrics(enrich->telemetry, enrich->metrics) < 0) {
		fs_log(FS_LOG_ERR, FACILITY, "cannot register the metrics (see the log above)");
		return -1;
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-enrich [--config FILE]\n"
		"       flowsift-enrich --help | --version\n"
		"\n"
		"Consumes flows from kafka.topic.raw (default flows.raw) in consumer group\n"
		"enrich.group.id, adds GeoIP, interface, prefix-tag, traffic-direction,\n"
		"sampling and service fields, and produces them to kafka.topic.enriched\n"
		"(default flows.enriched), until SIGINT or SIGTERM.  SIGHUP reloads the\n"
		"GeoIP databases, the interface map and the prefix list.\n"
		"Settings: docs/CONFIGURATION.md; fields and file formats: docs/enrich.md.\n");
}

/* Creates the SNMP poller when a community is configured.  Returns 0 or -1. */
static int
start_snmp(struct enrich *enrich, const struct fs_config *config)
{
	struct fs_snmp_settings settings = {
		.community = fs_config_str(config, "enrich.snmp.community"),
		.port = (uint16_t)fs_config_int(config, "enrich.snmp.port"),
		.refresh_s = (int)fs_config_int(config, "enrich.snmp.refresh"),
		.timeout_ms = (int)fs_config_int(config, "enrich.snmp.timeout.ms"),
		.retries = 1,
	};
	char err[512];

	if (settings.community[0] == '\0')
		return 0;
	if (fs_snmp_poller_new(&settings, &enrich->snmp, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, FACILITY, "cannot start SNMP polling: %s", err);
		return -1;
	}
	fs_log(FS_LOG_INFO, FACILITY, "polling exporters by SNMP on port %u every %d s",
	       settings.port, settings.refresh_s);
	return 0;
}

static int
start_enricher(struct enrich *enrich, const struct fs_config *config)
{
	const char *prefer = fs_config_str(config, "enrich.as.prefer");
	struct fs_enrich_settings settings = {
		.geoip_city = fs_config_str(config, "enrich.geoip.city"),
		.geoip_asn = fs_config_str(config, "enrich.geoip.asn"),
		.interfaces_map = fs_config_str(config, "enrich.interfaces.map"),
		.prefixes = fs_config_str(config, "enrich.prefixes"),
		.home_networks = fs_config_str(config, "enrich.home.networks"),
		.sampling_override = fs_config_str(config, "enrich.sampling.override"),
		.services = fs_config_str(config, "enrich.services"),
		.snmp = enrich->snmp,
	};
	char err[1024];

	if (strcmp(prefer, "exporter") == 0) {
		settings.as_prefer = FS_AS_PREFER_EXPORTER;
	} else if (strcmp(prefer, "geoip") == 0) {
		settings.as_prefer = FS_AS_PREFER_GEOIP;
	} else {
		fs_log(FS_LOG_ERR, FACILITY,
		       "invalid value '%s' for 'enrich.as.prefer': expected exporter or geoip",
		       prefer);
		return -1;
	}
	if (fs_enricher_new(&settings, &enrich->enricher, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, FACILITY, "cannot start: %s", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct worker_cli cli = {
		.program = "flowsift-enrich", .usage = usage, .on_stop = on_signal,
	};
	struct enrich *enrich;
	struct fs_config *config;
	const char *topic_in;
	char err[512];
	int status;

	status = worker_start(&cli, argc, argv, &config);
	if (status != WORKER_START_RUN)
		return status;
	signal(SIGHUP, on_signal);
	enrich = calloc(1, sizeof(*enrich));
	if (enrich == NULL) {
		fprintf(stderr, "flowsift-enrich: out of memory\n");
		fs_config_free(config);
		return 1;
	}
	status = 1;
	enrich->reject_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	enrich->encode_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	enrich->wait_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 1);
	enrich->rewind_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);

	if (start_snmp(enrich, config) < 0 || start_enricher(enrich, config) < 0)
		goto out;
	enrich->codec = fs_flow_codec_new(err, sizeof(err));
	if (enrich->codec == NULL) {
		fs_log(FS_LOG_ERR, FACILITY, "cannot start: %s", err);
		goto out;
	}
	/* The key table bounds it to 1..512. */
	fs_flow_batch_init(&enrich->out,
			   (uint32_t)fs_config_int(config, "kafka.message.flows.max"));
	enrich->producer = fs_producer_new_config(config, err, sizeof(err));
	if (enrich->producer == NULL) {
		fs_log(FS_LOG_ERR, FACILITY, "cannot create the Kafka producer: %s", err);
		goto out;
	}
	topic_in = fs_config_str(config, "kafka.topic.raw");
	enrich->topic_out = fs_config_str(config, "kafka.topic.enriched");
	enrich->consumer = fs_consumer_new_config(config, fs_config_str(config, "enrich.group.id"),
						  &topic_in, 1, err, sizeof(err));
	if (enrich->consumer == NULL) {
		fs_log(FS_LOG_ERR, FACILITY, "cannot create the Kafka consumer: %s", err);
		goto out;
	}
	fs_consumer_set_manual_store(enrich->consumer, 1);
	if (start_telemetry(enrich, config, topic_in) < 0)
		goto out;
	fs_log(FS_LOG_INFO, FACILITY, "consuming %s, producing %s", topic_in, enrich->topic_out);
	status = run(enrich, config);
	fs_log(FS_LOG_INFO, FACILITY, "stopped");
out:
	/* The consumer closes first: it commits only offsets stored after delivery. */
	fs_consumer_close(enrich->consumer, NULL);
	fs_producer_close(enrich->producer, 10000, NULL);
	worker_telemetry_free(enrich->telemetry);
	free(enrich->metrics);
	fs_flow_codec_free(enrich->codec);
	fs_enricher_free(enrich->enricher);
	fs_snmp_poller_free(enrich->snmp);
	fs_config_free(config);
	free(enrich);
	return status;
}
