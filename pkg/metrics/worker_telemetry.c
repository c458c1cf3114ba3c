/* worker_telemetry.c - the consumer workers' metrics registry, HTTP server, broker probe and lag. */
#include "metrics/worker_telemetry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "core/log.h"
#include "metrics/broker_probe.h"
#include "metrics/http_server.h"
#include "metrics/metrics.h"
#include "metrics/stats_mirror.h"

#define KAFKA_TIMEOUT_MS 2000
#define NAME_MAX_LEN 128

#define CONSUMER_ERRORS_HELP "Consumer failures, by kind."
#define DELIVERY_ERRORS_HELP "Records (flows or alerts) the broker did not acknowledge, by cause."
#define PRODUCE_DROPPED_HELP "Records (flows or alerts) that never reached the broker, by reason."

static const struct fs_stats_mirror consumer_mirrors[] = {
	{ "messages_consumed_total",
	  "Kafka messages passed to the handler; each contains one or more flows.", NULL,
	  offsetof(struct fs_consumer_stats, consumed) },
	{ "messages_lost_total",
	  "Kafka messages the broker deleted before this worker read them (retention shorter than "
	  "the lag), from gaps in the offsets.", NULL,
	  offsetof(struct fs_consumer_stats, lost) },
	{ "messages_retried_total",
	  "Messages the handler could not handle now, consumed again after a seek back.", NULL,
	  offsetof(struct fs_consumer_stats, handler_failures) },
	{ "consumer_errors_total", CONSUMER_ERRORS_HELP, "kind=offset_store",
	  offsetof(struct fs_consumer_stats, store_failures) },
	{ "consumer_errors_total", CONSUMER_ERRORS_HELP, "kind=commit",
	  offsetof(struct fs_consumer_stats, commit_failures) },
	{ "consumer_errors_total", CONSUMER_ERRORS_HELP, "kind=client",
	  offsetof(struct fs_consumer_stats, errors) },
};

static const struct fs_stats_mirror producer_mirrors[] = {
	{ "records_queued_total",
	  "Records (flows or alerts) accepted into the producer queue.", NULL,
	  offsetof(struct fs_producer_stats, sent) },
	{ "records_delivered_total",
	  "Records (flows or alerts) acknowledged by the broker (records out).", NULL,
	  offsetof(struct fs_producer_stats, delivered) },
	{ "delivery_errors_total", DELIVERY_ERRORS_HELP, "cause=timed_out",
	  offsetof(struct fs_producer_stats, failed_timed_out) },
	{ "delivery_errors_total", DELIVERY_ERRORS_HELP, "cause=broker",
	  offsetof(struct fs_producer_stats, failed_broker) },
	{ "delivery_errors_total", DELIVERY_ERRORS_HELP, "cause=local",
	  offsetof(struct fs_producer_stats, failed_local) },
	{ "produce_dropped_total", PRODUCE_DROPPED_HELP, "reason=queue_full",
	  offsetof(struct fs_producer_stats, dropped_queue_full) },
	{ "produce_dropped_total", PRODUCE_DROPPED_HELP, "reason=lost_at_exit",
	  offsetof(struct fs_producer_stats, lost) },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* From 100 us to 10 s: a batch is up to 1000 flows plus a producer flush. */
static const double batch_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

struct worker_telemetry {
	char worker[32];
	struct fs_metrics *metrics;
	struct fs_metrics_server *server;
	struct fs_counter *consumer[COUNT(consumer_mirrors)];
	struct fs_counter *producer[COUNT(producer_mirrors)];
	struct fs_gauge *queue_depth;        /* NULL without a producer */
	struct fs_gauge *broker_reachable;
	struct fs_gauge *lag;
	struct fs_gauge *partitions;
	struct fs_histogram *batch;

	atomic_int stopping;
	atomic_int dependency_down;
	struct fs_broker_probe *probe;       /* NULL without a metrics listener */
	rd_kafka_t *lag_client;                  /* the probe thread's own handle */
	char topic[256];
	pthread_mutex_t reason_lock;
	char dependency_reason[320];         /* why the dependency is down */
};

/* Writes flowsift_<worker>_<suffix> into buf. */
static const char *
metric_name(const struct worker_telemetry *t, const char *suffix, char *buf, size_t len)
{
	snprintf(buf, len, "flowsift_%s_%s", t->worker, suffix);
	return buf;
}

static int
register_all(struct worker_telemetry *t, int has_producer)
{
	char name[NAME_MAX_LEN];

	char prefix[64];

	snprintf(prefix, sizeof(prefix), "flowsift_%s_", t->worker);
	if (fs_stats_mirror_register(t->metrics, prefix, consumer_mirrors, COUNT(consumer_mirrors),
				     t->consumer) < 0)
		return -1;
	if (has_producer) {
		if (fs_stats_mirror_register(t->metrics, prefix, producer_mirrors,
					     COUNT(producer_mirrors), t->producer) < 0)
			return -1;
		t->queue_depth = fs_metrics_gauge(
			t->metrics, metric_name(t, "producer_queue_depth", name, sizeof(name)),
			"Records (flows or alerts) queued in the producer or in flight.", NULL);
		if (!t->queue_depth)
			return -1;
	}
	t->broker_reachable = fs_metrics_gauge(
		t->metrics, metric_name(t, "broker_reachable", name, sizeof(name)),
		"1 when the last probe of the bootstrap servers (TCP, then a metadata request) succeeded, else 0.",
		NULL);
	t->lag = fs_metrics_gauge(
		t->metrics, metric_name(t, "consumer_lag", name, sizeof(name)),
		"Messages of the input topic after the group's committed offsets, all partitions.",
		NULL);
	t->partitions = fs_metrics_gauge(
		t->metrics, metric_name(t, "partitions_assigned", name, sizeof(name)),
		"Partitions of the input topic assigned to this worker now; 0 means it consumes nothing.",
		NULL);
	t->batch = fs_metrics_histogram(
		t->metrics, metric_name(t, "batch_processing_seconds", name, sizeof(name)),
		"Time to handle one poll batch, from the poll to the last flow handled.", NULL,
		batch_bounds, COUNT(batch_bounds));
	if (!t->broker_reachable || !t->lag || !t->partitions || !t->batch)
		return -1;
	return 0;
}

/* Creates the handle that reads committed and end offsets.  Returns it or NULL (logged). */
static rd_kafka_t *
lag_handle_new(const struct worker_telemetry *t, const char *bootstrap, const char *group_id,
	       const struct fs_kafka_props *props)
{
	char client_id[64], err[512];
	const char *const defaults[] = {
		"group.id", group_id,
		"client.id", client_id,
		"enable.auto.commit", "false",
		NULL,
	};
	rd_kafka_conf_t *conf = NULL;
	rd_kafka_t *rk;

	snprintf(client_id, sizeof(client_id), "flowsift-%s-lag", t->worker);
	if (fs_kafka_conf_new(&conf, bootstrap, defaults, props, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_WARNING, t->worker, "consumer lag not measured: %s", err);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		fs_log(FS_LOG_WARNING, t->worker, "consumer lag not measured: %s", err);
		return NULL;
	}
	return rk;
}

/*
 * Sums, over the partitions of the topic, the messages between the group's
 * committed offset (the log start when none) and the end.  Returns 0, or -1
 * when a request to the broker failed or timed out.
 */
static int
query_lag(struct worker_telemetry *t, int64_t *lag)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_partition_list_t *parts = NULL;
	rd_kafka_topic_t *rkt;
	int64_t sum = 0;
	int rc = -1;

	rkt = rd_kafka_topic_new(t->lag_client, t->topic, NULL);
	if (!rkt)
		return -1;
	if (rd_kafka_metadata(t->lag_client, 0, rkt, &md, KAFKA_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
		goto done;
	if (md->topic_cnt != 1 || md->topics[0].err) {
		rc = 0; /* the topic does not exist yet: nothing to consume */
		goto done;
	}
	parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
	if (!parts)
		goto done;
	for (int i = 0; i < md->topics[0].partition_cnt; i++)
		rd_kafka_topic_partition_list_add(parts, t->topic, md->topics[0].partitions[i].id);
	if (rd_kafka_committed(t->lag_client, parts, KAFKA_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
		goto done;
	for (int i = 0; i < parts->cnt; i++) {
		int64_t low = 0, high = 0, at = parts->elems[i].offset;

		if (rd_kafka_query_watermark_offsets(t->lag_client, t->topic, parts->elems[i].partition,
						     &low, &high, KAFKA_TIMEOUT_MS) != 0)
			goto done;
		if (at < low)
			at = low;
		if (high > at)
			sum += high - at;
	}
	*lag = sum;
	rc = 0;
done:
	if (parts)
		rd_kafka_topic_partition_list_destroy(parts);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return rc;
}

/*
 * Requests the input topic's metadata through the probe's own handle.  A
 * reply needs a working Kafka connection, authenticated when SASL is set,
 * so a broker that accepts TCP but rejects the client fails here.  Returns 0
 * or -1 with the reason.
 */
static int
probe_metadata(void *ctx, char *reason, size_t reason_len)
{
	struct worker_telemetry *t = ctx;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(t->lag_client, t->topic, NULL);
	rd_kafka_resp_err_t err;

	if (!rkt) {
		snprintf(reason, reason_len, "cannot create a handle for the input topic");
		return -1;
	}
	err = rd_kafka_metadata(t->lag_client, 0, rkt, &md, KAFKA_TIMEOUT_MS);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(reason, reason_len, "metadata request failed: %s", rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

/* Updates the lag gauge after a successful probe; runs on the probe thread. */
static void
measure_lag(void *ctx, int reachable)
{
	struct worker_telemetry *t = ctx;
	int64_t lag = 0;

	if (reachable && query_lag(t, &lag) == 0)
		fs_gauge_set(t->lag, lag);
}

static int
ready(void *opaque, char *reason, size_t reason_len)
{
	struct worker_telemetry *t = opaque;

	if (atomic_load(&t->stopping)) {
		snprintf(reason, reason_len, "shutting down");
		return 0;
	}
	if (!fs_broker_probe_ready(t->probe, reason, reason_len))
		return 0;
	if (atomic_load(&t->dependency_down)) {
		pthread_mutex_lock(&t->reason_lock);
		snprintf(reason, reason_len, "%s", t->dependency_reason);
		pthread_mutex_unlock(&t->reason_lock);
		return 0;
	}
	return 1;
}

struct worker_telemetry *
worker_telemetry_new(const struct worker_telemetry_settings *settings, char *err,
		     size_t err_len)
{
	struct worker_telemetry *t = calloc(1, sizeof(*t));
	struct fs_broker_probe_settings probe = {
		.facility = settings->worker,
		.bootstrap = settings->bootstrap,
		.ctx = t,
	};

	if (!t) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&t->reason_lock, NULL);
	snprintf(t->worker, sizeof(t->worker), "%s", settings->worker);
	snprintf(t->topic, sizeof(t->topic), "%s", settings->topic);
	t->metrics = fs_metrics_new();
	if (!t->metrics || register_all(t, settings->has_producer) < 0) {
		snprintf(err, err_len, "cannot register the metrics (see the log above)");
		goto fail;
	}
	if (settings->listen[0] == '\0')
		return t;
	if (settings->bootstrap[0] != '\0')
		t->lag_client = lag_handle_new(t, settings->bootstrap, settings->group_id,
					       settings->props);
	/* Without the handle (it failed to start, logged) readiness rests on TCP alone. */
	if (t->lag_client) {
		probe.check = probe_metadata;
		probe.after = measure_lag;
	}
	probe.reachable = t->broker_reachable;
	t->probe = fs_broker_probe_start(&probe, err, err_len);
	if (!t->probe)
		goto fail;
	if (fs_metrics_server_start(&t->server, settings->listen, t->metrics, ready, t, err,
				    err_len) < 0) {
		size_t used = strnlen(err, err_len);

		snprintf(err + used, err_len - used, "; set another address in %s.metrics.listen",
			 t->worker);
		goto fail;
	}
	fs_log(FS_LOG_INFO, t->worker, "serving /metrics, /healthz and /readyz on %s (port %u)",
	       settings->listen, fs_metrics_server_port(t->server));
	return t;
fail:
	worker_telemetry_free(t);
	return NULL;
}

struct worker_telemetry *
worker_telemetry_from_config(const struct fs_config *config, const char *worker,
			     const char *topic, int has_producer)
{
	struct fs_kafka_props props = fs_kafka_props_config(config);
	char listen_key[64], group_key[64], bootstrap[1024], err[512];
	struct worker_telemetry_settings settings = {
		.worker = worker,
		.bootstrap = bootstrap,
		.topic = topic,
		.props = &props,
		.has_producer = has_producer,
	};
	struct worker_telemetry *t;

	snprintf(listen_key, sizeof(listen_key), "%s.metrics.listen", worker);
	snprintf(group_key, sizeof(group_key), "%s.group.id", worker);
	settings.listen = fs_config_str(config, listen_key);
	settings.group_id = fs_config_str(config, group_key);
	if (fs_config_bootstrap(config, bootstrap, sizeof(bootstrap), err, sizeof(err)) < 0)
		bootstrap[0] = '\0';
	t = worker_telemetry_new(&settings, err, sizeof(err));
	if (!t)
		fs_log(FS_LOG_ERR, worker, "%s", err);
	return t;
}

void
worker_telemetry_free(struct worker_telemetry *t)
{
	if (!t)
		return;
	fs_metrics_server_stop(t->server);
	fs_broker_probe_stop(t->probe);
	if (t->lag_client)
		rd_kafka_destroy(t->lag_client);
	fs_metrics_free(t->metrics);
	pthread_mutex_destroy(&t->reason_lock);
	free(t);
}

struct fs_metrics *
worker_telemetry_metrics(struct worker_telemetry *t)
{
	return t->metrics;
}

struct fs_counter *
worker_telemetry_counter(struct worker_telemetry *t, const char *suffix, const char *help,
			 const char *labels)
{
	char name[NAME_MAX_LEN];

	return fs_metrics_counter(t->metrics, metric_name(t, suffix, name, sizeof(name)), help,
				  labels);
}

void
worker_telemetry_publish(struct worker_telemetry *t, const struct fs_consumer_stats *consumer,
			 const struct fs_producer_stats *producer)
{
	fs_stats_mirror_publish(consumer_mirrors, COUNT(consumer_mirrors), t->consumer, consumer);
	fs_gauge_set(t->partitions, (int64_t)consumer->partitions);
	if (producer && t->queue_depth) {
		fs_stats_mirror_publish(producer_mirrors, COUNT(producer_mirrors), t->producer,
					producer);
		fs_gauge_set(t->queue_depth, (int64_t)producer->queue_depth);
	}
}

void
worker_telemetry_observe_batch(struct worker_telemetry *t, double seconds)
{
	fs_histogram_observe(t->batch, seconds);
}

void
worker_telemetry_set_dependency(struct worker_telemetry *t, int ok, const char *reason)
{
	if (!ok) {
		pthread_mutex_lock(&t->reason_lock);
		snprintf(t->dependency_reason, sizeof(t->dependency_reason), "%s", reason);
		pthread_mutex_unlock(&t->reason_lock);
	}
	atomic_store(&t->dependency_down, !ok);
}

void
worker_telemetry_set_stopping(struct worker_telemetry *t)
{
	atomic_store(&t->stopping, 1);
}
