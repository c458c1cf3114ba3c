/* worker.c - a UDP receive thread: decode, encode, produce. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avro/counters_codec.h"
#include "avro/flow_batch.h"
#include "avro/flow_codec.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"
#include "metrics/metrics.h"
#include "net/receive_pace.h"

#define POLL_MS 100

/*
 * The receive thread copies its per-exporter rows at most this often: a
 * full table is max_exporters rows of 96 bytes (4096 by default, 384 KiB),
 * too much to copy after every batch of datagrams.
 */
#define WORKER_EXPORTERS_COPY_MS 1000

struct ingest_worker {
	const struct ingest_shared *shared;
	size_t index;
	struct fs_decoder *decoder;
	struct fs_flow_codec *codec;
	struct fs_counters_codec *counters_codec;
	struct fs_udp_receiver *receiver;
	uint64_t counters_produced;
	uint64_t counters_errors;
	uint16_t datagram_port;   /* source port of the datagram being decoded */
	bool restore_port;        /* the decoder got port 0 in its place */
	struct fs_ratelimit encode_limit;
	struct fs_ratelimit queue_limit;
	struct fs_ratelimit allow_limit;

	pthread_t thread;
	bool started;
	atomic_int stop;
	atomic_int failed;
	pthread_mutex_t lock;
	struct ingest_worker_snapshot snapshot;
	struct exporter_counts *exporters; /* under lock: max_exporters rows */
	size_t exporter_count;             /* under lock */
	size_t max_exporters;
	int64_t exporters_copied_ns;       /* CLOCK_MONOTONIC of the last copy; the thread's own */
	uint64_t sequence_gaps;            /* summed at the last copy of the rows */
	uint64_t sequence_lost;

	struct fs_flow_batch batch;   /* flows of the datagram being decoded */
};

/* Queues the flows gathered in the batch as one message and empties it. */
static void
send_batch(struct ingest_worker *worker)
{
	const struct ingest_shared *shared = worker->shared;
	struct fs_flow_batch *batch = &worker->batch;
	const uint8_t *key;
	size_t key_len;
	int rc;

	if (batch->count == 0)
		return;
	key = fs_flow_batch_key(batch, &key_len);
	rc = fs_producer_send_records(shared->producer, shared->topic, key, key_len, batch->buf,
				      batch->len, batch->count);
	if (rc == FS_ERR_FULL)
		fs_log_limited(&worker->queue_limit, FS_LOG_WARNING, "ingest",
			       "dropped %u flows: the Kafka producer queue is full "
			       "(kafka.queue.max.messages); is the broker reachable?",
			       (unsigned)batch->count);
	else if (rc < 0)
		fs_counter_add(shared->counters.produce_errors, batch->count);
	fs_flow_batch_clear(batch);
}

/* Encodes one flow into the datagram's batch; called by the decoder for every record. */
static void
produce_flow(const struct fs_flow *decoded, void *opaque)
{
	struct ingest_worker *worker = opaque;
	const struct ingest_shared *shared = worker->shared;
	const struct fs_flow *flow = decoded;
	struct fs_flow restored;
	int rc;

	if (worker->restore_port) {
		restored = *decoded;
		restored.exporter_port = worker->datagram_port;
		flow = &restored;
	}
	if (!fs_flow_batch_fits(&worker->batch, flow))
		send_batch(worker);
	rc = fs_flow_batch_add(&worker->batch, worker->codec, flow);
	if (rc < 0) {
		fs_counter_add(shared->counters.encode_errors, 1);
		fs_log_limited(&worker->encode_limit, FS_LOG_ERR, "ingest",
			       "cannot encode a flow as Avro: %s", fs_result_name(rc));
	}
}

/* Encodes one sFlow counter sample and queues it on kafka.topic.counters. */
static void
produce_counters(const struct fs_counters *counters, void *opaque)
{
	struct ingest_worker *worker = opaque;
	const struct ingest_shared *shared = worker->shared;
	uint8_t buffer[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0;
	size_t key_len = counters->exporter_addr.family == 6 ? 16 : 4;

	if (fs_counters_codec_encode(worker->counters_codec, counters, buffer, sizeof(buffer),
				     &len) < 0) {
		worker->counters_errors++;
		fs_log_limited(&worker->encode_limit, FS_LOG_ERR, "ingest",
			       "cannot encode an sFlow counter sample as Avro");
		return;
	}
	if (fs_producer_send(shared->producer, shared->counters_topic,
			     counters->exporter_addr.bytes, key_len, buffer, len) == 0)
		worker->counters_produced++;
	else
		worker->counters_errors++;
}

/* Returns true for NetFlow v9 and IPFIX, whose templates and sequences are per session. */
static bool
has_templates(const uint8_t *data, size_t len)
{
	return len >= 2 && data[0] == 0 && (data[1] == 9 || data[1] == 10);
}

void
ingest_worker_decode(const uint8_t *data, size_t len, const struct fs_addr *exporter,
		     uint16_t exporter_port, int64_t time_received_ns, void *opaque)
{
	struct ingest_worker *worker = opaque;
	const struct ingest_shared *shared = worker->shared;
	uint16_t session_port = exporter_port;
	int64_t start;

	if (shared->allow.count > 0 && !fs_cidr_list_match(&shared->allow, exporter)) {
		char text[FS_ADDR_STRLEN];

		fs_counter_add(shared->counters.exporter_not_allowed, 1);
		fs_log_limited(&worker->allow_limit, FS_LOG_WARNING, "ingest",
			       "dropped a datagram from %s: not in ingest.exporters.allow",
			       fs_addr_format(exporter, text));
		return;
	}
	/* NOTE: a held data set decoded now, once its template came in this datagram,
	 * gets this datagram's source port, which may differ from the port it came from. */
	worker->datagram_port = exporter_port;
	worker->restore_port = shared->session_by_address && has_templates(data, len);
	if (worker->restore_port)
		session_port = 0;
	start = fs_monotonic_ns();
	fs_decoder_decode(worker->decoder, data, len, exporter, session_port, time_received_ns,
			  produce_flow, worker);
	send_batch(worker);
	fs_histogram_observe(shared->counters.latency,
			     (double)(fs_monotonic_ns() - start) / 1e9);
}

struct ingest_worker *
ingest_worker_new(const struct ingest_shared *shared, size_t index, char *err, size_t err_len)
{
	struct ingest_worker *worker = calloc(1, sizeof(*worker));

	if (!worker) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	worker->shared = shared;
	worker->index = index;
	worker->encode_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	worker->queue_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 3);
	worker->allow_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	fs_flow_batch_init(&worker->batch, shared->message_flows);
	pthread_mutex_init(&worker->lock, NULL);
	worker->max_exporters = ingest_worker_max_exporters(shared);
	worker->exporters = calloc(worker->max_exporters, sizeof(*worker->exporters));
	worker->decoder = fs_decoder_new(&shared->limits);
	worker->codec = fs_flow_codec_new(err, err_len);
	if (worker->codec)
		worker->counters_codec = fs_counters_codec_new(err, err_len);
	if (!worker->exporters || !worker->decoder || !worker->codec || !worker->counters_codec) {
		if (worker->codec && worker->counters_codec)
			snprintf(err, err_len, "out of memory");
		ingest_worker_free(worker);
		return NULL;
	}
	fs_decoder_set_counters_sink(worker->decoder, produce_counters, worker);
	if (shared->share)
		template_share_attach(shared->share, index, worker->decoder);
	return worker;
}

/* Sums the sequence accounting of every exporter the worker's decoder tracks. */
static void
sum_sequences(const struct fs_decoder *decoder, uint64_t *gaps, uint64_t *lost)
{
	const struct fs_exporter_stats *stats = fs_decoder_exporter_stats(decoder);
	uint32_t count = fs_exporter_stats_count(stats);

	*gaps = 0;
	*lost = 0;
	for (uint32_t i = 0; i < count; i++) {
		const struct fs_exporter_entry *e = fs_exporter_stats_at(stats, i);

		*gaps += e->sequence_gaps;
		*lost += e->sequence_lost;
	}
}

size_t
ingest_worker_max_exporters(const struct ingest_shared *shared)
{
	return shared->limits.max_exporters ? shared->limits.max_exporters
					    : FS_DECODER_DEFAULT_MAX_EXPORTERS;
}

/*
 * Copies the totals, and the per-exporter rows when with_exporters is set
 * or WORKER_EXPORTERS_COPY_MS passed since their last copy.
 */
static void
publish(struct ingest_worker *worker, bool with_exporters)
{
	struct ingest_worker_snapshot s;
	int64_t now = fs_monotonic_ns();

	memset(&s, 0, sizeof(s));
	s.decoder = *fs_decoder_stats(worker->decoder);
	if (worker->receiver)
		s.udp = *fs_udp_receiver_stats(worker->receiver);
	s.counters_produced = worker->counters_produced;
	s.counters_errors = worker->counters_errors;
	if (now - worker->exporters_copied_ns >= (int64_t)WORKER_EXPORTERS_COPY_MS * 1000000)
		with_exporters = true;
	/*
	 * The sequence totals are summed over every tracked exporter, so they
	 * are taken with the rows.  Summed after every read, at 10,000 exporters
	 * and 100,000 flows/s with ingest.receive.wait.us = 0, they took the
	 * receive thread from 0.45-0.58 to 0.70-0.90 CPU s per million flows.
	 */
	if (with_exporters)
		sum_sequences(worker->decoder, &worker->sequence_gaps, &worker->sequence_lost);
	s.sequence_gaps = worker->sequence_gaps;
	s.sequence_lost = worker->sequence_lost;
	pthread_mutex_lock(&worker->lock);
	worker->snapshot = s;
	if (with_exporters)
		worker->exporter_count = exporter_counts_copy(fs_decoder_exporter_stats(worker->decoder),
							      worker->exporters,
							      worker->max_exporters);
	pthread_mutex_unlock(&worker->lock);
	if (with_exporters)
		worker->exporters_copied_ns = now;
}

void
ingest_worker_publish(struct ingest_worker *worker)
{
	publish(worker, true);
}

size_t
ingest_worker_copy_exporters(struct ingest_worker *worker, struct exporter_counts *out,
			     size_t capacity)
{
	size_t n;

	pthread_mutex_lock(&worker->lock);
	n = worker->exporter_count < capacity ? worker->exporter_count : capacity;
	if (n > 0)
		memcpy(out, worker->exporters, n * sizeof(*out));
	pthread_mutex_unlock(&worker->lock);
	return n;
}

/* Adds the n uint64_t counters at from to those at to. */
static void
add_counters(void *to, const void *from, size_t size)
{
	for (size_t off = 0; off + sizeof(uint64_t) <= size; off += sizeof(uint64_t)) {
		uint64_t a, b;

		memcpy(&a, (char *)to + off, sizeof(a));
		memcpy(&b, (const char *)from + off, sizeof(b));
		a += b;
		memcpy((char *)to + off, &a, sizeof(a));
	}
}

/* Every field of these structs is a uint64_t counter or gauge, so they add up field by field. */
_Static_assert(sizeof(struct fs_decoder_stats) % sizeof(uint64_t) == 0,
	       "fs_decoder_stats must consist of uint64_t fields");
_Static_assert(sizeof(struct fs_udp_stats) % sizeof(uint64_t) == 0,
	       "fs_udp_stats must consist of uint64_t fields");

void
ingest_worker_add_snapshot(struct ingest_worker *worker, struct ingest_worker_snapshot *total)
{
	struct ingest_worker_snapshot s;

	pthread_mutex_lock(&worker->lock);
	s = worker->snapshot;
	pthread_mutex_unlock(&worker->lock);
	add_counters(&total->decoder, &s.decoder, sizeof(s.decoder));
	add_counters(&total->udp, &s.udp, sizeof(s.udp));
	total->counters_produced += s.counters_produced;
	total->counters_errors += s.counters_errors;
	total->sequence_gaps += s.sequence_gaps;
	total->sequence_lost += s.sequence_lost;
}

/* Sleeps for the time fs_receive_pace_after_read() returns after a read of got datagrams. */
static void
pace_receive(struct fs_receive_pace *pace, const struct fs_udp_receiver *receiver, int got)
{
	int64_t wait_ns = fs_receive_pace_after_read(pace, got,
						     fs_udp_receiver_stats(receiver)->kernel_drops,
						     fs_monotonic_ns());
	struct timespec ts = {
		.tv_sec = wait_ns / 1000000000,
		.tv_nsec = wait_ns % 1000000000,
	};

	if (wait_ns > 0)
		nanosleep(&ts, NULL);
}

static void *
run(void *arg)
{
	struct ingest_worker *worker = arg;
	const struct ingest_shared *shared = worker->shared;
	struct fs_receive_pace pace;
	int got;

	fs_receive_pace_init(&pace, shared->receive_wait_ns,
			     fs_udp_receiver_rcvbuf(worker->receiver), fs_monotonic_ns());
	if (worker->index == 0 && fs_receive_pace_max_wait(&pace) >= FS_RECEIVE_PACE_MIN_NS)
		fs_log(FS_LOG_INFO, "ingest", "receive threads sleep up to %.2f ms after a read "
		       "while datagrams arrive slowly (ingest.receive.wait.us, cut to half the "
		       "socket buffer at 1 Gbit/s)", (double)fs_receive_pace_max_wait(&pace) / 1e6);
	else if (worker->index == 0 && shared->receive_wait_ns > 0)
		fs_log(FS_LOG_INFO, "ingest", "receive threads do not sleep after a read: "
		       "ingest.receive.wait.us cut to half the socket buffer at 1 Gbit/s is "
		       "%.2f ms, under the 1 ms minimum",
		       (double)fs_receive_pace_max_wait(&pace) / 1e6);
	while (!atomic_load(&worker->stop)) {
		/*
		 * Templates from other replicas first, so the datagrams read next can
		 * use them.  Flows of held data sets that they complete keep the port
		 * of the template's key, as no datagram is at hand.
		 */
		if (shared->share) {
			worker->restore_port = false;
			template_share_apply(shared->share, worker->index, produce_flow, worker);
			send_batch(worker);
		}
		got = fs_udp_receiver_poll(worker->receiver, POLL_MS, ingest_worker_decode, worker);
		if (got < 0) {
			fs_log(FS_LOG_ERR, "ingest", "receive thread %zu: poll failed: %s",
			       worker->index, strerror(errno));
			atomic_store(&worker->failed, 1);
			break;
		}
		publish(worker, false);
		if (fs_receive_pace_max_wait(&pace) > 0)
			pace_receive(&pace, worker->receiver, got);
	}
	publish(worker, true);
	return NULL;
}

int
ingest_worker_start(struct ingest_worker *worker, struct fs_udp_receiver *receiver)
{
	worker->receiver = receiver;
	if (pthread_create(&worker->thread, NULL, run, worker) != 0)
		return -1;
	worker->started = true;
	return 0;
}

void
ingest_worker_stop(struct ingest_worker *worker)
{
	if (!worker || !worker->started)
		return;
	atomic_store(&worker->stop, 1);
	pthread_join(worker->thread, NULL);
	worker->started = false;
	/* Keeps the final UDP counters in the snapshot before the sockets go. */
	ingest_worker_publish(worker);
	fs_udp_receiver_free(worker->receiver);
	worker->receiver = NULL;
}

bool
ingest_worker_failed(const struct ingest_worker *worker)
{
	return atomic_load(&worker->failed) != 0;
}

void
ingest_worker_free(struct ingest_worker *worker)
{
	if (!worker)
		return;
	ingest_worker_stop(worker);
	fs_udp_receiver_free(worker->receiver);
	fs_flow_codec_free(worker->codec);
	fs_counters_codec_free(worker->counters_codec);
	fs_decoder_free(worker->decoder);
	free(worker->exporters);
	pthread_mutex_destroy(&worker->lock);
	free(worker);
}
