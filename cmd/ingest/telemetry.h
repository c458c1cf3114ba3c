/*
 * telemetry.h - flowsift-ingest's Prometheus metrics and readiness.
 *
 * The decoders, the UDP receivers and the producer keep their own stats
 * structs.  ingest_telemetry_publish() mirrors every field, summed over the
 * receive threads, into the registry.  The main loop calls it about every
 * 100 ms, and each thread copies its counters after each 100 ms poll of its
 * sockets, so a scrape is at most about two poll intervals behind.  Counters that only ingest
 * keeps (exporters not allowed, encode errors) and the latency histogram are
 * updated in place.
 *
 * Readiness: a thread probes the bootstrap servers over TCP every
 * FS_BROKER_PROBE_INTERVAL_S seconds (metrics/broker_probe.h); /readyz is
 * 200 while the UDP sockets are bound, the last probe succeeded and no
 * shutdown has begun.
 */
#ifndef FS_INGEST_TELEMETRY_H
#define FS_INGEST_TELEMETRY_H

#include <stdint.h>

#include "decode/decoder.h"
#include "ipfix_tcp.h"
#include "kafka/producer.h"
#include "net/udp_receiver.h"
#include "template_share.h"

struct fs_counter;
struct fs_histogram;
struct fs_metrics;
struct ingest_telemetry;

/* The counters ingest updates itself, on the receive threads. */
struct ingest_counters {
	struct fs_counter *exporter_not_allowed; /* datagrams dropped by the allowlist */
	struct fs_counter *encode_errors;        /* flows that could not be encoded */
	struct fs_counter *produce_errors;       /* flows the producer refused, queue full aside */
	struct fs_histogram *latency;            /* seconds from receive to queued, per datagram */
};

/*
 * Creates the registry and registers every metric; when listen is not empty,
 * starts the HTTP server there and the probe thread for bootstrap (borrowed,
 * copied).  Returns the telemetry and fills *counters, or NULL with the reason
 * in err.
 */
struct ingest_telemetry *ingest_telemetry_new(const char *listen, const char *bootstrap,
					      struct ingest_counters *counters,
					      char *err, size_t err_len);

/* Stops the server and the probe thread and frees everything.  t may be NULL. */
void ingest_telemetry_free(struct ingest_telemetry *t);

/* Returns the registry, for series registered elsewhere (exporter_metrics.h); owned by t. */
struct fs_metrics *ingest_telemetry_metrics(struct ingest_telemetry *t);

/* Marks the UDP sockets as bound (1) or closed (0), for /readyz. */
void ingest_telemetry_set_listening(struct ingest_telemetry *t, int listening);

/* Marks the start of shutdown: /readyz answers 503 from now on. */
void ingest_telemetry_set_stopping(struct ingest_telemetry *t);

/* Mirrors the stats structs into the registry.  udp and producer may be NULL. */
void ingest_telemetry_publish(struct ingest_telemetry *t,
			      const struct fs_decoder_stats *decoder,
			      const struct fs_udp_stats *udp,
			      const struct fs_producer_stats *producer);

/* Sets the sequence gap counters, summed over every exporter of every receive thread. */
void ingest_telemetry_publish_sequences(struct ingest_telemetry *t, uint64_t gaps,
					uint64_t lost);

/* Mirrors the IPFIX-over-TCP listener's counters, its decoder's included. */
void ingest_telemetry_publish_tcp(struct ingest_telemetry *t, const struct ipfix_tcp_stats *tcp);

/* Mirrors the counters of the shared-templates topic. */
void ingest_telemetry_publish_share(struct ingest_telemetry *t,
				    const struct template_share_stats *share);

#endif
