/*
 * worker_telemetry.h - Prometheus metrics and readiness of the consumer workers
 * (flowsift-enrich, flowsift-filter and flowsift-report).
 *
 * Every consumer worker serves the same core: its consumer and producer
 * stats structs mirrored into counters, a latency histogram per poll batch,
 * the consumer lag and the broker's reachability, all named
 * flowsift_<worker>_...  The worker registers its own metrics in the
 * registry that worker_telemetry_metrics() returns and updates them itself.
 *
 * Two threads of its own keep the requests that cost a network round trip
 * off the worker's loop: every FS_BROKER_PROBE_INTERVAL_S seconds one opens a TCP
 * connection to the bootstrap servers and, when that succeeds, requests the
 * input topic's metadata and reads the consumer group's committed offsets
 * and the partitions' end offsets through a librdkafka handle of its own (it
 * joins no group);
 * the HTTP server serves requests on the other.  The lag is therefore the group's
 * lag as of its last commit, summed over every partition of the topic.
 *
 * /readyz is 503 when shutdown has begun, when the last broker probe (TCP
 * connect or metadata request) failed,
 * or when the worker reported a dependency as down
 * (worker_telemetry_set_dependency(), Redis for flowsift-report).
 *
 * Thread safety: publish, observe and the setters run on the worker's
 * thread; they update atomics and allocate nothing.
 *
 * flowsift-filter and flowsift-report compile this file through a one-line
 * telemetry.c of their own.
 */
#ifndef FS_WORKER_TELEMETRY_H
#define FS_WORKER_TELEMETRY_H

#include <stddef.h>

#include "kafka/consumer.h"
#include "kafka/kafka_conf.h"
#include "kafka/producer.h"

struct fs_config;
struct fs_metrics;
struct worker_telemetry;

struct worker_telemetry_settings {
	const char *worker;      /* "enrich": metric names start flowsift_enrich_ */
	const char *listen;      /* host:port of the HTTP server; "" serves nothing */
	const char *bootstrap;   /* bootstrap servers to probe; "" when unknown */
	const char *group_id;    /* consumer group whose lag is measured */
	const char *topic;       /* the topic it consumes */
	const struct fs_kafka_props *props; /* kafka. pass-through properties, or NULL */
	int has_producer;        /* register the producer metrics */
};

/*
 * Creates the registry with the common metrics and, when settings->listen
 * is not empty, starts the HTTP server and the probe thread.  Everything in
 * settings is copied or only read during the call.  Returns the telemetry,
 * or NULL with the reason (the listen address included) in err.
 */
struct worker_telemetry *worker_telemetry_new(const struct worker_telemetry_settings *settings,
					      char *err, size_t err_len);

/*
 * Creates the telemetry of worker ("enrich") as worker_telemetry_new() does,
 * with the settings that config gives every consumer worker: the HTTP server
 * on <worker>.metrics.listen, the lag of group <worker>.group.id on topic,
 * the bootstrap servers and the kafka. properties.  Returns the telemetry,
 * or NULL after logging the reason.
 */
struct worker_telemetry *worker_telemetry_from_config(const struct fs_config *config,
						      const char *worker, const char *topic,
						      int has_producer);

/* Stops the server and the probe thread and frees everything.  t may be NULL. */
void worker_telemetry_free(struct worker_telemetry *t);

/* The registry, for the worker's own metrics; owned by t. */
struct fs_metrics *worker_telemetry_metrics(struct worker_telemetry *t);

/*
 * Registers a counter named flowsift_<worker>_<suffix> in the registry.
 * Returns it, or NULL (logged) as fs_metrics_counter().
 */
struct fs_counter *worker_telemetry_counter(struct worker_telemetry *t, const char *suffix,
					    const char *help, const char *labels);

/* Mirrors the consumer and producer stats into the registry.  producer may be NULL. */
void worker_telemetry_publish(struct worker_telemetry *t, const struct fs_consumer_stats *consumer,
			      const struct fs_producer_stats *producer);

/* Counts one poll batch that took seconds, from the poll to the last flow handled. */
void worker_telemetry_observe_batch(struct worker_telemetry *t, double seconds);

/*
 * Reports a dependency of the worker as up (ok = 1) or down (ok = 0, with
 * reason, copied, for /readyz).  Before the first call the dependency counts
 * as up.
 */
void worker_telemetry_set_dependency(struct worker_telemetry *t, int ok, const char *reason);

/* Marks the start of shutdown: /readyz returns 503 from now on. */
void worker_telemetry_set_stopping(struct worker_telemetry *t);

#endif
