/*
 * flowsift-ingest - receives NetFlow v5/v9 and IPFIX datagrams over UDP, or
 * replays them from captures, decodes them and produces one Avro message per
 * flow to the raw-flows topic (kafka.topic.raw, default flows.raw).
 *
 * The message key is the exporter's address, so the flows of one exporter
 * stay in one partition and in order.  Every datagram or flow that does not
 * reach the broker lands in a counter, logged every ingest.stats.interval
 * seconds and at exit, and served as Prometheus metrics on
 * ingest.metrics.listen (telemetry.h).  Sequence gaps per exporter get
 * log lines and series of their own (exporter_loss.h, exporter_metrics.h).
 * Datagrams from sources outside ingest.exporters.allow are counted and
 * dropped before decoding.
 *
 * ingest.threads receive threads share each UDP port through SO_REUSEPORT;
 * a steering program keeps every exporter on one thread (worker.h).  With
 * kafka.topic.templates set, learned templates are shared with the other
 * replicas through that topic (template_share.h).
 *
 * SIGTERM or SIGINT stops intake at once (the sockets are closed, /readyz
 * turns 503), then waits up to ingest.shutdown.timeout.ms for the broker to
 * acknowledge the queued flows, counts the rest as lost and exits 0.
 *
 * A replay (--pcap) may read a named pipe (tcpdump -w - | ...), where open()
 * waits for a writer and read() for data.  So during a replay the stop
 * signals interrupt system calls instead of restarting them, and a stop
 * request interrupts any blocking call once a second (SIGALRM) until the
 * reading ends.  A replay that ends without producing any flow or counter
 * sample exits 1 after a line that counts what the captures contained.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/capture.h"
#include "decode/decoder.h"
#include "decode/decoder_config.h"
#include "kafka/producer.h"
#include "net/cidr.h"
#include "net/udp_receiver.h"
#include "exporter_loss.h"
#include "exporter_metrics.h"
#include "ipfix_tcp.h"
#include "metrics/metrics.h"
#include "telemetry.h"
#include "template_share.h"
#include "worker.h"
#include "worker_start.h"

static volatile sig_atomic_t stop_requested;
/* Set while a replay reads its captures, so that a stop request also arms SIGALRM. */
static volatile sig_atomic_t replay_reading;

struct ingest {
	struct ingest_shared shared;
	struct ingest_worker *workers[FS_UDP_MAX_GROUP];
	size_t nworkers;
	struct ipfix_tcp *tcp;
	struct ingest_telemetry *telemetry;
	/* Per-exporter rows of every worker, gathered by the main thread. */
	struct exporter_counts *exporter_rows;
	size_t exporter_rows_capacity;
	struct exporter_loss *loss;
	struct exporter_metrics *exporter_metrics;
	int64_t exporters_published_ns;
	uint64_t replay_queue_bound;    /* replay waits while this many flows are queued */
	/* Replay pacing for --realtime: capture time and clock at the first datagram. */
	int realtime;
	int64_t replay_first_ns;
	int64_t replay_start_ns;
	struct fs_capture_stats capture;  /* what the replayed captures contained */
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	/*
	 * A signal that lands just before a blocking read would not interrupt
	 * it, so SIGALRM interrupts whatever blocks a second later.
	 */
	if (replay_reading)
		alarm(1);
}

/* Interrupts a blocking call of the replay again, once a second, until reading ends. */
static void
on_replay_alarm(int sig)
{
	(void)sig;
	if (stop_requested && replay_reading)
		alarm(1);
}

/*
 * Makes SIGTERM, SIGINT (unless it was ignored at start) and SIGALRM
 * interrupt the system call they land in, with EINTR, instead of restarting
 * it, so that a stop request ends an open() or read() of a named pipe.
 */
static void
install_replay_signals(void)
{
	struct sigaction stop = { .sa_handler = on_signal };
	struct sigaction alarm_action = { .sa_handler = on_replay_alarm };
	struct sigaction old;

	sigemptyset(&stop.sa_mask);
	sigemptyset(&alarm_action.sa_mask);
	sigaction(SIGTERM, &stop, NULL);
	if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		sigaction(SIGINT, &stop, NULL);
	sigaction(SIGALRM, &alarm_action, NULL);
}

/*
 * Replay reads as fast as the broker takes flows: before each datagram it
 * waits, up to REPLAY_QUEUE_WAIT_MS, while the producer queue is nearly
 * full, so a replay is not dropped by its own speed.  A broker that stays
 * away still ends in counted drops.
 */
#define REPLAY_QUEUE_WAIT_MS 30000

/*
 * Maximum wait at start for the raw topic's metadata, so that the first
 * flows go out at once.  A broker that is still away only delays the start.
 */
#define PREPARE_TOPIC_MS 5000

static void
wait_for_queue_room(struct ingest *ingest)
{
	int64_t deadline = fs_monotonic_ns() + (int64_t)REPLAY_QUEUE_WAIT_MS * 1000000;
	struct fs_producer_stats p;

	for (;;) {
		fs_producer_stats(ingest->shared.producer, &p);
		if (p.queue_depth < ingest->replay_queue_bound || stop_requested ||
		    fs_monotonic_ns() >= deadline)
			return;
		fs_producer_poll(ingest->shared.producer, 100);
	}
}

/* Replays one datagram from a capture; arrival time is now, as for live traffic. */
static int
replay_datagram(const struct fs_datagram *datagram, void *opaque)
{
	struct ingest *ingest = opaque;

	if (stop_requested)
		return 1;
	if (ingest->realtime) {
		int64_t due, wait;

		if (ingest->replay_first_ns == 0) {
			ingest->replay_first_ns = datagram->time_ns;
			ingest->replay_start_ns = fs_monotonic_ns();
		}
		due = ingest->replay_start_ns + (datagram->time_ns - ingest->replay_first_ns);
		wait = due - fs_monotonic_ns();
		if (wait > 0) {
			struct timespec ts = { wait / 1000000000, wait % 1000000000 };

			nanosleep(&ts, NULL);
		}
	}
	wait_for_queue_room(ingest);
	ingest_worker_decode(datagram->data, datagram->len, &datagram->exporter,
			     datagram->exporter_port, fs_clock_ns(CLOCK_REALTIME), ingest->workers[0]);
	fs_producer_poll(ingest->shared.producer, 0);
	return 0;
}

/* Sums the snapshots of every worker. */
static void
sum_workers(struct ingest *ingest, struct ingest_worker_snapshot *total)
{
	memset(total, 0, sizeof(*total));
	for (size_t i = 0; i < ingest->nworkers; i++)
		ingest_worker_add_snapshot(ingest->workers[i], total);
}

/*
 * The per-exporter series are set at most this often: the workers copy
 * their rows about once a second (worker.c), so more often finds nothing new.
 */
#define EXPORTER_METRICS_MS 1000

/* Copies the per-exporter rows of every worker into ingest->exporter_rows; returns the count. */
static size_t
gather_exporters(struct ingest *ingest)
{
	size_t count = 0;

	for (size_t i = 0; i < ingest->nworkers; i++)
		count += ingest_worker_copy_exporters(ingest->workers[i], ingest->exporter_rows + count,
						      ingest->exporter_rows_capacity - count);
	return count;
}

/* Sets the per-exporter series from the workers' rows; returns the row count. */
static size_t
publish_exporters(struct ingest *ingest)
{
	size_t count = gather_exporters(ingest);

	exporter_metrics_publish(ingest->exporter_metrics, ingest->exporter_rows, count);
	ingest->exporters_published_ns = fs_monotonic_ns();
	return count;
}

/* Mirrors the summed counters of the workers, the TCP listener and the template sharing. */
static void
publish_telemetry(struct ingest *ingest, const struct fs_producer_stats *p,
		  const struct ingest_worker_snapshot *w)
{
	ingest_telemetry_publish(ingest->telemetry, &w->decoder, &w->udp, p);
	ingest_telemetry_publish_sequences(ingest->telemetry, w->sequence_gaps, w->sequence_lost);
	if (ingest->tcp) {
		struct ipfix_tcp_stats tcp;

		ipfix_tcp_stats(ingest->tcp, &tcp);
		ingest_telemetry_publish_tcp(ingest->telemetry, &tcp);
	}
	if (ingest->shared.share) {
		struct template_share_stats share;

		template_share_stats(ingest->shared.share, &share);
		ingest_telemetry_publish_share(ingest->telemetry, &share);
	}
}

static void
publish_now(struct ingest *ingest)
{
	struct ingest_worker_snapshot w;
	struct fs_producer_stats p;

	fs_producer_stats(ingest->shared.producer, &p);
	sum_workers(ingest, &w);
	publish_telemetry(ingest, &p, &w);
	if (fs_monotonic_ns() - ingest->exporters_published_ns >=
	    (int64_t)EXPORTER_METRICS_MS * 1000000)
		publish_exporters(ingest);
}

static void
log_stats(struct ingest *ingest, const struct fs_producer_stats *final)
{
	struct ingest_worker_snapshot w;
	const struct fs_decoder_stats *d = &w.decoder;
	struct fs_producer_stats p;
	const struct fs_udp_stats *u = &w.udp;

	if (final)
		p = *final;
	else
		fs_producer_stats(ingest->shared.producer, &p);
	sum_workers(ingest, &w);
	publish_telemetry(ingest, &p, &w);
	fs_log(FS_LOG_INFO, "stats",
	       "udp_datagrams=%llu udp_truncated=%llu udp_errors=%llu "
	       "udp_kernel_drops=%llu not_allowed=%llu "
	       "datagrams=%llu flows=%llu unsupported=%llu truncated=%llu invalid=%llu "
	       "no_template=%llu no_template_records=%llu templates_active=%llu "
	       "encode_errors=%llu produce_errors=%llu sent=%llu delivered=%llu "
	       "failed=%llu dropped_queue_full=%llu lost=%llu queue_depth=%llu "
	       "templates_added=%llu templates_rejected=%llu options_records=%llu "
	       "sflow_flow_samples=%llu sflow_counter_samples=%llu sflow_records_dropped=%llu "
	       "sflow_flows_dropped=%llu empty_records=%llu "
	       "counters_produced=%llu counters_errors=%llu templates_evicted=%llu "
	       "template_bytes=%llu options_evicted=%llu length_mismatch=%llu "
	       "sampling_invalid=%llu counters_clamped=%llu reverse_flows=%llu no_template_held=%llu "
	       "no_template_decoded=%llu no_template_dropped=%llu exporters_untracked=%llu "
	       "sflow_unknown_samples=%llu sflow_unknown_records=%llu "
	       "sequence_gaps=%llu sequence_lost=%llu threads=%zu",
	       (unsigned long long)u->datagrams, (unsigned long long)u->truncated,
	       (unsigned long long)u->errors, (unsigned long long)u->kernel_drops,
	       (unsigned long long)fs_counter_value(ingest->shared.counters.exporter_not_allowed),
	       (unsigned long long)d->datagrams,
	       (unsigned long long)d->flows, (unsigned long long)d->unsupported,
	       (unsigned long long)d->truncated, (unsigned long long)d->invalid,
	       (unsigned long long)d->no_template,
	       (unsigned long long)d->no_template_records,
	       (unsigned long long)d->templates_active,
	       (unsigned long long)fs_counter_value(ingest->shared.counters.encode_errors),
	       (unsigned long long)fs_counter_value(ingest->shared.counters.produce_errors),
	       (unsigned long long)p.sent, (unsigned long long)p.delivered,
	       (unsigned long long)p.failed, (unsigned long long)p.dropped_queue_full,
	       (unsigned long long)p.lost, (unsigned long long)p.queue_depth,
	       (unsigned long long)d->templates_added,
	       (unsigned long long)d->templates_rejected,
	       (unsigned long long)d->options_records,
	       (unsigned long long)d->sflow_flow_samples,
	       (unsigned long long)d->sflow_counter_samples,
	       (unsigned long long)d->sflow_records_dropped,
	       (unsigned long long)d->sflow_flows_dropped,
	       (unsigned long long)d->empty_records,
	       (unsigned long long)w.counters_produced,
	       (unsigned long long)w.counters_errors,
	       (unsigned long long)d->templates_evicted, (unsigned long long)d->template_bytes,
	       (unsigned long long)d->options_evicted, (unsigned long long)d->length_mismatch,
	       (unsigned long long)d->sampling_invalid, (unsigned long long)d->counters_clamped,
	       (unsigned long long)d->reverse_flows,
	       (unsigned long long)d->no_template_held, (unsigned long long)d->no_template_decoded,
	       (unsigned long long)d->no_template_dropped,
	       (unsigned long long)d->exporters_untracked,
	       (unsigned long long)d->sflow_unknown_samples,
	       (unsigned long long)d->sflow_unknown_records,
	       (unsigned long long)w.sequence_gaps, (unsigned long long)w.sequence_lost,
	       ingest->nworkers);
	exporter_loss_log(ingest->loss, ingest->exporter_rows, publish_exporters(ingest));
}

/*
 * Binds the UDP sockets of every worker and starts the TCP listener, then
 * loads the shared templates, then starts the receive threads.  Datagrams
 * that arrive during the load wait in the socket buffers.
 */
static int
start_intake(struct ingest *ingest, const struct fs_config *config)
{
	struct fs_udp_receiver *receivers[FS_UDP_MAX_GROUP] = { NULL };
	const char *tcp_listen = fs_config_str(config, "ingest.listen.tcp");
	uint16_t udp_port;
	char err[512];

	if (fs_udp_receiver_group_new(receivers, ingest->nworkers,
				      fs_config_str(config, "ingest.listen"),
				      (int)fs_config_int(config, "ingest.socket.rcvbuf"),
				      err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "ingest.listen: %s", err);
		return -1;
	}
	if (tcp_listen[0] != '\0' &&
	    ipfix_tcp_start(&ingest->tcp, tcp_listen, config, &ingest->shared.allow,
			    &ingest->shared.limits, ingest->shared.producer, ingest->shared.topic,
			    err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "%s", err);
		for (size_t i = 0; i < ingest->nworkers; i++)
			fs_udp_receiver_free(receivers[i]);
		return -1;
	}
	/*
	 * The sockets are bound, so the kernel keeps datagrams while the
	 * producer learns where the raw topic lives.  Without this wait the
	 * first second of a fast stream piles up in the producer queue.
	 */
	if (fs_producer_prepare_topic(ingest->shared.producer, ingest->shared.topic,
				      PREPARE_TOPIC_MS, err, sizeof(err)) < 0)
		fs_log(FS_LOG_WARNING, "ingest", "starting anyway: %s", err);
	/* Read before the receive threads own the receivers. */
	udp_port = fs_udp_receiver_port(receivers[0], 0);
	/* The receive threads start after the load, so their first datagrams find the shared templates. */
	if (ingest->shared.share && template_share_start(ingest->shared.share, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "cannot read topic %s: %s",
		       fs_config_str(config, "kafka.topic.templates"), err);
		for (size_t i = 0; i < ingest->nworkers; i++)
			fs_udp_receiver_free(receivers[i]);
		return -1;
	}
	for (size_t i = 0; i < ingest->nworkers; i++) {
		if (ingest_worker_start(ingest->workers[i], receivers[i]) < 0) {
			fs_log(FS_LOG_ERR, "ingest", "cannot start receive thread %zu", i);
			for (size_t j = i + 1; j < ingest->nworkers; j++)
				fs_udp_receiver_free(receivers[j]);
			return -1;
		}
	}
	/* The bound port shows what a port of 0 in ingest.listen became. */
	fs_log(FS_LOG_INFO, "ingest",
	       "listening on UDP %s (first socket on port %u) with %zu receive threads and TCP %s, producing to topic %s",
	       fs_config_str(config, "ingest.listen"), udp_port,
	       ingest->nworkers, tcp_listen[0] ? tcp_listen : "(off)", ingest->shared.topic);
	return 0;
}

/* Stops the TCP listener and every receive thread; their sockets close. */
static void
stop_intake(struct ingest *ingest)
{
	ipfix_tcp_stop(ingest->tcp);
	ingest->tcp = NULL;
	for (size_t i = 0; i < ingest->nworkers; i++)
		ingest_worker_stop(ingest->workers[i]);
}

static int
run_live(struct ingest *ingest, const struct fs_config *config)
{
	int64_t interval_ns = fs_config_int(config, "ingest.stats.interval") * 1000000000;
	int64_t next_stats;
	int status = 0;

	if (start_intake(ingest, config) < 0) {
		stop_intake(ingest);
		return 1;
	}
	/* The metrics show the templates loaded at start before /readyz turns 200. */
	publish_now(ingest);
	ingest_telemetry_set_listening(ingest->telemetry, 1);
	next_stats = fs_monotonic_ns() + interval_ns;
	while (!stop_requested) {
		fs_producer_poll(ingest->shared.producer, 100);
		if (ingest->shared.share)
			template_share_poll(ingest->shared.share);
		publish_now(ingest);
		if (interval_ns > 0 && fs_monotonic_ns() >= next_stats) {
			log_stats(ingest, NULL);
			next_stats += interval_ns;
		}
		for (size_t i = 0; i < ingest->nworkers; i++) {
			if (ingest_worker_failed(ingest->workers[i]))
				status = 1;
		}
		if (status)
			break;
	}
	/* Stops intake first: datagrams that arrive from now on stay in the kernel and are lost with the sockets. */
	ingest_telemetry_set_stopping(ingest->telemetry);
	ingest_telemetry_set_listening(ingest->telemetry, 0);
	stop_intake(ingest);
	log_stats(ingest, NULL);
	return status;
}

static int
run_replay(struct ingest *ingest, char **files, int nfiles)
{
	char err[512];
	int status = 0;

	replay_reading = 1;
	for (int i = 0; i < nfiles && !stop_requested; i++) {
		/* "-" is standard input, as for tcpdump -r and nfdump -r. */
		const char *path = strcmp(files[i], "-") == 0 ? "/dev/stdin" : files[i];
		int rc;

		fs_log(FS_LOG_INFO, "ingest", "reading '%s'", path);
		rc = fs_capture_read_file_stats(path, replay_datagram, ingest, &ingest->capture,
						err, sizeof(err));
		/* A stop request interrupts the open or read of a pipe: that is a stop, not an error. */
		if (rc < 0 && stop_requested) {
			fs_log(FS_LOG_INFO, "ingest", "stop requested while reading '%s'", files[i]);
			break;
		}
		if (rc < 0) {
			fs_log(FS_LOG_ERR, "ingest", "%s", err);
			status = 1;
			break;
		}
		fs_log(FS_LOG_INFO, "ingest", "%s '%s'", stop_requested ? "stopped replaying" : "replayed",
		       files[i]);
	}
	replay_reading = 0;
	alarm(0);
	signal(SIGALRM, SIG_IGN);
	ingest_worker_publish(ingest->workers[0]);
	return status;
}

/*
 * Logs what the replayed captures contained and what the decoder made of
 * them.  Returns 1 when the replay read every capture and produced neither
 * a flow nor an sFlow counter sample, so nothing was sent, else 0.
 */
static int
report_replay(struct ingest *ingest, int nfiles)
{
	const struct fs_capture_stats *c = &ingest->capture;
	struct ingest_worker_snapshot w;
	const struct fs_decoder_stats *d = &w.decoder;
	const char *outcome = "replayed";
	int nothing_sent;

	sum_workers(ingest, &w);
	nothing_sent = !stop_requested && d->flows == 0 && w.counters_produced == 0;
	if (stop_requested)
		outcome = "stopped after";
	else if (c->files < (uint64_t)nfiles)
		outcome = "stopped at a file that could not be read, after";
	else if (nothing_sent)
		outcome = "no flow in";
	fs_log(nothing_sent ? FS_LOG_ERR : FS_LOG_INFO, "ingest",
	       "%s %llu of %d capture files: %llu packets read, %llu UDP datagrams (every port is "
	       "decoded), %llu flows and %llu sFlow counter samples produced; not decoded "
	       "(datagrams or sets): unsupported=%llu truncated=%llu invalid=%llu no_template=%llu%s",
	       outcome, (unsigned long long)c->files, nfiles,
	       (unsigned long long)c->packets, (unsigned long long)c->datagrams,
	       (unsigned long long)d->flows, (unsigned long long)w.counters_produced,
	       (unsigned long long)d->unsupported, (unsigned long long)d->truncated,
	       (unsigned long long)d->invalid, (unsigned long long)d->no_template,
	       nothing_sent ? "; nothing was sent" : "");
	return nothing_sent;
}

/*
 * Registers the metrics and, for live intake, serves them on
 * ingest.metrics.listen with readiness probing the bootstrap servers.
 * Replays register the metrics but serve none, so a replay can run next to
 * a live ingest.  Returns 0 or -1 after logging the reason.
 */
static int
start_telemetry(struct ingest *ingest, const struct fs_config *config, int replay)
{
	const char *listen = replay ? "" : fs_config_str(config, "ingest.metrics.listen");
	char bootstrap[1024], err[512];

	if (fs_config_bootstrap(config, bootstrap, sizeof(bootstrap), err, sizeof(err)) < 0)
		bootstrap[0] = '\0';
	ingest->telemetry = ingest_telemetry_new(listen, bootstrap, &ingest->shared.counters,
						 err, sizeof(err));
	if (!ingest->telemetry) {
		fs_log(FS_LOG_ERR, "ingest", "%s", err);
		return -1;
	}
	return 0;
}

/*
 * Allocates the per-exporter rows, the loss log (ingest.stats.exporters.max
 * lines per interval) and the per-exporter series
 * (ingest.metrics.exporters.max label sets).  Returns 0 or -1 after logging.
 */
static int
setup_exporter_accounting(struct ingest *ingest, const struct fs_config *config)
{
	ingest->exporter_rows_capacity = ingest->nworkers *
					 ingest_worker_max_exporters(&ingest->shared);
	ingest->exporter_rows = calloc(ingest->exporter_rows_capacity,
				       sizeof(*ingest->exporter_rows));
	ingest->loss = exporter_loss_new(ingest->exporter_rows_capacity,
					 (uint32_t)fs_config_int(config, "ingest.stats.exporters.max"));
	ingest->exporter_metrics = exporter_metrics_new(
		ingest_telemetry_metrics(ingest->telemetry),
		(uint32_t)fs_config_int(config, "ingest.metrics.exporters.max"));
	if (!ingest->exporter_rows || !ingest->loss || !ingest->exporter_metrics) {
		fs_log(FS_LOG_ERR, "ingest", "cannot start: out of memory for %zu exporter rows",
		       ingest->exporter_rows_capacity);
		return -1;
	}
	return 0;
}

/*
 * Returns the receive thread count of ingest.threads (0: one per online
 * CPU), capped at FS_UDP_MAX_GROUP.
 */
static size_t
thread_count(const struct fs_config *config)
{
	int64_t threads = fs_config_int(config, "ingest.threads");

	if (threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		threads = cpus > 0 ? cpus : 1;
	}
	return threads > FS_UDP_MAX_GROUP ? FS_UDP_MAX_GROUP : (size_t)threads;
}

/* Fills what the workers share: topics, limits, allowlist, session key and producer. */
static int
setup_shared(struct ingest *ingest, const struct fs_config *config, int replay)
{
	struct ingest_shared *shared = &ingest->shared;
	const char *session_key = fs_config_str(config, "ingest.session.key");
	char err[512];

	shared->topic = fs_config_str(config, "kafka.topic.raw");
	shared->counters_topic = fs_config_str(config, "kafka.topic.counters");
	/* The key table bounds it to 1..512. */
	shared->message_flows = (uint32_t)fs_config_int(config, "kafka.message.flows.max");
	shared->receive_wait_ns = fs_config_int(config, "ingest.receive.wait.us") * 1000;
	/* The configuration accepts only address and address_port. */
	shared->session_by_address = strcmp(session_key, "address") == 0;
	if (fs_decoder_limits_from_config(config, &shared->limits) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "invalid decoder limits in the configuration");
		return -1;
	}
	if (fs_cidr_list_parse(&shared->allow, fs_config_str(config, "ingest.exporters.allow"),
			       err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "ingest.exporters.allow: %s", err);
		return -1;
	}
	shared->producer = fs_producer_new_config(config, err, sizeof(err));
	if (!shared->producer) {
		fs_log(FS_LOG_ERR, "ingest", "cannot create the Kafka producer: %s", err);
		return -1;
	}
	ingest->nworkers = replay ? 1 : thread_count(config);
	/* A replay neither publishes nor reads shared templates: its captures bring their own. */
	if (!replay && template_share_new(&shared->share, config, ingest->nworkers,
					  err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "cannot share templates: %s", err);
		return -1;
	}
	return 0;
}

/* Creates the workers; their threads start with the sockets in run_live(). */
static int
create_workers(struct ingest *ingest)
{
	char err[512];

	for (size_t i = 0; i < ingest->nworkers; i++) {
		ingest->workers[i] = ingest_worker_new(&ingest->shared, i, err, sizeof(err));
		if (!ingest->workers[i]) {
			fs_log(FS_LOG_ERR, "ingest", "cannot start: %s", err);
			return -1;
		}
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-ingest [--config FILE]\n"
		"       flowsift-ingest [--config FILE] --pcap [--realtime] FILE...\n"
		"       flowsift-ingest --help | --version\n"
		"\n"
		"Without --pcap, receives export datagrams on the UDP addresses of\n"
		"ingest.listen until SIGINT or SIGTERM.  With --pcap, replays the UDP\n"
		"payloads of the captures (pcap, pcapng or raw datagram files) into the\n"
		"pipeline as fast as possible, or at capture pace with --realtime, then exits.\n"
		"A FILE may be a named pipe, or - or /dev/stdin (tcpdump -w - | ...).  A replay\n"
		"exits 1 when the captures gave no flow at all, after a line that counts\n"
		"their packets, UDP datagrams and the datagrams that could not be decoded.\n"
		"Flows go to the topic of kafka.topic.raw.  Settings: docs/CONFIGURATION.md.\n");
}

/* The mode the command line selects: live, or a replay of capture files. */
struct ingest_mode {
	int replay;                     /* --pcap */
	int realtime;                   /* --realtime */
	char **files;                   /* the captures of a replay, borrowed from argv */
	int nfiles;
};

static void
set_option(void *ctx, int opt, const char *arg)
{
	struct ingest_mode *mode = ctx;

	(void)arg;
	if (opt == 'p')
		mode->replay = 1;
	else if (opt == 'r')
		mode->realtime = 1;
}

/* Takes capture files with --pcap, and nothing else without it. */
static int
check_operands(void *ctx, int count, char **operands)
{
	struct ingest_mode *mode = ctx;

	if (mode->replay && count == 0) {
		fprintf(stderr, "flowsift-ingest: --pcap needs at least one capture FILE\n");
		usage(stderr);
		return 2;
	}
	if (!mode->replay && (count > 0 || mode->realtime)) {
		fprintf(stderr, "flowsift-ingest: %s is only valid with --pcap\n",
			mode->realtime ? "--realtime" : "a FILE argument");
		usage(stderr);
		return 2;
	}
	mode->files = operands;
	mode->nfiles = count;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option mode_options[] = {
		{ "pcap", no_argument, NULL, 'p' },
		{ "realtime", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct ingest_mode mode = { 0 };
	const struct worker_cli cli = {
		.program = "flowsift-ingest", .usage = usage, .on_stop = on_signal,
		.letters = "pr", .options = mode_options, .set_option = set_option,
		.check_operands = check_operands, .ctx = &mode,
	};
	struct ingest *ingest = NULL;
	struct fs_config *config;
	struct fs_producer_stats final = { 0 };
	int replay, status, shutdown_ms;

	status = worker_start(&cli, argc, argv, &config);
	if (status != WORKER_START_RUN)
		return status;
	status = 1;
	replay = mode.replay;
	shutdown_ms = (int)fs_config_int(config, "ingest.shutdown.timeout.ms");

	ingest = calloc(1, sizeof(*ingest));
	if (!ingest)
		goto out;
	/*
	 * The producer counts queued flows, and librdkafka bounds messages of
	 * one flow or more, so this bound in flows keeps the message count
	 * below kafka.queue.max.messages with room for a datagram's messages.
	 */
	ingest->replay_queue_bound = (uint64_t)fs_config_int(config, "kafka.queue.max.messages") * 9 / 10;
	ingest->realtime = mode.realtime;
	if (replay)
		install_replay_signals();
	if (setup_shared(ingest, config, replay) < 0 || start_telemetry(ingest, config, replay) < 0 ||
	    create_workers(ingest) < 0 || setup_exporter_accounting(ingest, config) < 0)
		goto out;
	status = replay ? run_replay(ingest, mode.files, mode.nfiles)
			: run_live(ingest, config);

	fs_log(FS_LOG_INFO, "ingest", "stopping: flushing the producer for up to %d ms",
	       shutdown_ms);
	if (fs_producer_close(ingest->shared.producer, shutdown_ms, &final) < 0 && replay)
		status = 1;
	ingest->shared.producer = NULL;
	log_stats(ingest, &final);
	if (replay && (final.failed || final.dropped_queue_full))
		status = 1;
	if (replay && report_replay(ingest, mode.nfiles))
		status = 1;
	fs_log(FS_LOG_INFO, "ingest", "stopped");
out:
	if (ingest) {
		stop_intake(ingest);
		for (size_t i = 0; i < ingest->nworkers; i++)
			ingest_worker_free(ingest->workers[i]);
		template_share_free(ingest->shared.share, shutdown_ms);
		fs_producer_close(ingest->shared.producer, shutdown_ms, NULL);
		exporter_metrics_free(ingest->exporter_metrics);
		exporter_loss_free(ingest->loss);
		free(ingest->exporter_rows);
		ingest_telemetry_free(ingest->telemetry);
		fs_cidr_list_release(&ingest->shared.allow);
		free(ingest);
	}
	fs_config_free(config);
	return status;
}
