/*
 * worker.h - one UDP receive thread of flowsift-ingest.
 *
 * Each worker owns a decoder (with its template cache and per-exporter
 * sequence accounting), its Avro codecs and its sockets, one per listen
 * address in the reuseport group of that address.  The producer, the
 * allowlist, the metric counters and the template sharing are shared by
 * all workers (struct ingest_shared, read-only while they run).  The
 * steering program keeps every exporter on one worker.
 *
 * Replays use a worker without a thread: the caller decodes through
 * ingest_worker_decode() and publishes its snapshot itself.
 */
#ifndef FS_INGEST_WORKER_H
#define FS_INGEST_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"
#include "exporter_loss.h"
#include "kafka/producer.h"
#include "net/cidr.h"
#include "net/udp_receiver.h"
#include "telemetry.h"
#include "template_share.h"

/* The state every worker reads; owned by main. */
struct ingest_shared {
	struct fs_producer *producer;
	const char *topic;
	const char *counters_topic;
	struct fs_cidr_list allow;        /* empty: every exporter is allowed */
	struct ingest_counters counters;  /* atomic metric counters */
	struct fs_decoder_limits limits;
	/*
	 * NetFlow v9 and IPFIX templates and sequence numbers are kept per
	 * exporter address (ingest.session.key = address), not per address and
	 * source port, so an exporter that sends from several ports is one
	 * exporter.  The flows keep their real source port.
	 */
	bool session_by_address;
	struct template_share *share;     /* NULL when templates are not shared */
	uint32_t message_flows;           /* kafka.message.flows.max */
	int64_t receive_wait_ns;          /* ingest.receive.wait.us, in ns; 0: none */
};

/* The counters of one worker, copied out under its lock. */
struct ingest_worker_snapshot {
	struct fs_decoder_stats decoder;
	struct fs_udp_stats udp;
	uint64_t counters_produced;
	uint64_t counters_errors;
	uint64_t sequence_gaps;   /* summed over the worker's exporters */
	uint64_t sequence_lost;
};

struct ingest_worker;

/*
 * Creates worker index of shared (borrowed, must outlive the worker).
 * Returns NULL with the reason in err.
 */
struct ingest_worker *ingest_worker_new(const struct ingest_shared *shared, size_t index,
					char *err, size_t err_len);

/* Starts the receive thread on receiver, which the worker then owns.  Returns 0 or -1. */
int ingest_worker_start(struct ingest_worker *worker, struct fs_udp_receiver *receiver);

/* Asks the thread to stop and waits for it; the sockets are closed on return. */
void ingest_worker_stop(struct ingest_worker *worker);

/* Returns true when the thread ended on an error (poll failed). */
bool ingest_worker_failed(const struct ingest_worker *worker);

void ingest_worker_free(struct ingest_worker *worker);

/* Decodes one datagram; an fs_udp_datagram_fn with the worker as opaque. */
void ingest_worker_decode(const uint8_t *data, size_t len, const struct fs_addr *exporter,
			  uint16_t exporter_port, int64_t time_received_ns, void *opaque);

/*
 * Copies the worker's counters, per-exporter rows included, into its
 * snapshot; called by the thread that decodes.  The receive thread itself
 * copies the totals after every poll, and the per-exporter rows with the
 * sequence totals summed over them at most every WORKER_EXPORTERS_COPY_MS
 * (worker.c).
 */
void ingest_worker_publish(struct ingest_worker *worker);

/* Returns the number of per-exporter rows a worker of shared can hold. */
size_t ingest_worker_max_exporters(const struct ingest_shared *shared);

/*
 * Copies at most capacity rows of the worker's last per-exporter snapshot
 * into out and returns how many; safe from any thread.
 */
size_t ingest_worker_copy_exporters(struct ingest_worker *worker, struct exporter_counts *out,
				    size_t capacity);

/* Adds the worker's last snapshot to *total, field by field. */
void ingest_worker_add_snapshot(struct ingest_worker *worker,
				struct ingest_worker_snapshot *total);

#endif
