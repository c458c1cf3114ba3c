/*
 * template_share.h - shares the NetFlow v9 and IPFIX templates of the UDP
 * receive threads with other ingest replicas through a Kafka topic
 * (kafka.topic.templates; pkg/decode/template_codec.h has the encoding).
 *
 * Publishing: an observer on each receive thread's template cache produces
 * a record when the thread learns a template or a template's contents
 * change, and a withdrawal record when the exporter withdraws one.  A refresh with
 * the same bytes produces nothing.  Records go through a producer of their
 * own, so the flow counters of the main producer count flows only.
 *
 * Receiving: at start, before the sockets are read, the topic is loaded from
 * its beginning within the ingest.templates.load.* bounds.  A thread then
 * follows it.  Each record is queued for the receive thread that the
 * reuseport steering program sends the exporter to (fs_udp_steer_index()).
 * That thread applies it before its next read, so only the owning thread
 * touches its decoder.  Records this process published
 * itself (same origin id) are skipped, so a late echo never replaces a
 * newer template.
 *
 * Templates of IPFIX over TCP belong to their connection and are not shared.
 *
 * "The exporter" across replicas: a template is stored under the exporter's
 * source address, observation domain and template id, plus the source port
 * when ingest.session.key is address_port.  So replicas agree on an
 * exporter only when each sees its real source address: a load balancer in
 * front of the replicas must not rewrite it (Kubernetes:
 * externalTrafficPolicy: Local).
 *
 * Data sets that a thread holds for a missing template (decode.held.*) are
 * decoded when that template arrives through the topic, as when it arrives
 * from the exporter.  Their flows carry the exporter port of the template's
 * key: 0 when ingest.session.key is address.
 */
#ifndef FS_INGEST_TEMPLATE_SHARE_H
#define FS_INGEST_TEMPLATE_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"

struct fs_config;
struct template_share;

struct template_share_stats {
	uint64_t published;          /* templates and withdrawals queued for the topic */
	uint64_t delivered;          /* of those, acknowledged by the broker */
	uint64_t publish_errors;     /* not queued, or not acknowledged by the broker */
	uint64_t applied;            /* templates from the topic learned by a thread */
	uint64_t withdrawn;          /* withdrawals (or tombstones) from the topic applied */
	uint64_t own;                /* records of this process, skipped */
	uint64_t rejected;           /* templates the cache rejected (invalid field specifiers) */
	uint64_t invalid;            /* keys or values that do not decode */
	uint64_t unsupported;        /* records of another codec version, skipped */
	uint64_t consumer_errors;    /* errors reading the topic */
	uint64_t loaded;             /* records read at start */
};

/*
 * Creates the sharing for threads receive threads from config, or stores
 * NULL in *out when kafka.topic.templates is empty.  Returns 0, or -1 with
 * the reason in err.
 */
int template_share_new(struct template_share **out, const struct fs_config *config,
		       size_t threads, char *err, size_t err_len);

/* Installs the publishing observer on thread's decoder; call before the thread starts. */
void template_share_attach(struct template_share *share, size_t thread,
			   struct fs_decoder *decoder);

/*
 * Loads the topic into the threads' queues, then starts following it.  A
 * load that fails is logged and left to the follow thread.  Returns 0, or
 * -1 with the reason in err when the thread cannot start.
 */
int template_share_start(struct template_share *share, char *err, size_t err_len);

/*
 * Applies the records queued for thread; called by that thread only.  Data
 * sets the thread's decoder held for a template that arrives here are
 * decoded, and their flows go to sink with opaque.
 */
void template_share_apply(struct template_share *share, size_t thread, fs_flow_sink_fn *sink,
			  void *opaque);

/* Runs the delivery reports of the publishing producer; called by one thread. */
void template_share_poll(struct template_share *share);

void template_share_stats(struct template_share *share, struct template_share_stats *out);

/* Stops following, flushes the producer for up to timeout_ms and frees; NULL is ignored. */
void template_share_free(struct template_share *share, int timeout_ms);

#endif
