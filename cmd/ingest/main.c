/*
 * flowsift-ingest - receives NetFlow v5/v9 and IPFIX datagrams over UDP, or
 * replays them from captures, decodes them and produces one Avro message per
 * flow to the raw-flows topic (kafka.topic.raw, default flows.raw).
 *
 * The message key is the exporter's address, so the flows of one exporter
 * stay in one partition and in order.  Every datagram or flow that does not
 * reach the broker lands in a counter, logged every ingest.stats.interval
 * seconds and at exit, and served as Prometheus metrics on
 * ingest.metrics.listen (telemetry.h).  Datagrams from sources outside
 * ingest.exporters.allow are counted and dropped before decoding.
 *
 * SIGTERM or SIGINT stops intake at once (the sockets are closed, /readyz
 * turns 503), then waits up to ingest.shutdown.timeout.ms for the broker to
 * acknowledge the queued flows, counts the rest as lost and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avro/flow_codec.h"
#include "config/config.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/capture.h"
#include "decode/decoder.h"
#include "decode/decoder_config.h"
#include "kafka/producer.h"
#include "avro/counters_codec.h"
#include "core/counters.h"
#include "net/cidr.h"
#include "net/udp_receiver.h"
#include "ipfix_tcp.h"
#include "metrics/metrics.h"
#include "telemetry.h"

#define ENCODE_BUFFER 2048

static volatile sig_atomic_t stop_requested;

struct ingest {
	struct fs_decoder *decoder;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	const char *topic;
	struct fs_counters_codec *counters_codec;
	const char *counters_topic;
	uint64_t counters_produced;
	uint64_t counters_errors;
	struct fs_decoder_limits limits;
	struct fs_udp_stats last_udp;   /* kept for the final stats line, after the sockets close */
	struct ingest_telemetry *telemetry;
	struct ingest_counters counters;
	struct fs_cidr_list allow;      /* empty: every exporter is allowed */
	struct fs_ratelimit encode_limit;
	struct fs_ratelimit queue_limit;
	uint64_t replay_queue_bound;    /* replay waits while this many messages are queued */
	struct fs_ratelimit allow_limit;
	uint8_t buffer[ENCODE_BUFFER];
	/* Replay pacing for --realtime: capture time and clock at the first datagram. */
	int realtime;
	int64_t replay_first_ns;
	int64_t replay_start_ns;
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t
now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Encodes one flow and queues it; called by the decoder for every record. */
static void
produce_flow(const struct fs_flow *flow, void *opaque)
{
	struct ingest *ingest = opaque;
	size_t len = 0;
	size_t key_len = flow->exporter_addr.family == 6 ? 16 : 4;
	int rc;

	rc = fs_flow_codec_encode(ingest->codec, flow, ingest->buffer,
				  sizeof(ingest->buffer), &len);
	if (rc < 0) {
		fs_counter_add(ingest->counters.encode_errors, 1);
		fs_log_limited(&ingest->encode_limit, FS_LOG_ERR, "ingest",
			       "cannot encode a flow as Avro: %s", fs_result_name(rc));
		return;
	}
	rc = fs_producer_send(ingest->producer, ingest->topic,
			      flow->exporter_addr.bytes, key_len, ingest->buffer, len);
	if (rc == FS_ERR_FULL)
		fs_log_limited(&ingest->queue_limit, FS_LOG_WARNING, "ingest",
			       "dropped a flow: the Kafka producer queue is full "
			       "(kafka.queue.max.messages); is the broker reachable?");
	else if (rc < 0)
		fs_counter_add(ingest->counters.produce_errors, 1);
}

/* Encodes one sFlow counter sample and queues it on kafka.topic.counters. */
static void
produce_counters(const struct fs_counters *counters, void *opaque)
{
	struct ingest *ingest = opaque;
	uint8_t buffer[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0;
	size_t key_len = counters->exporter_addr.family == 6 ? 16 : 4;

	if (fs_counters_codec_encode(ingest->counters_codec, counters, buffer,
				     sizeof(buffer), &len) < 0) {
		ingest->counters_errors++;
		fs_log_limited(&ingest->encode_limit, FS_LOG_ERR, "ingest",
			       "cannot encode an sFlow counter sample as Avro");
		return;
	}
	if (fs_producer_send(ingest->producer, ingest->counters_topic,
			     counters->exporter_addr.bytes, key_len, buffer, len) == 0)
		ingest->counters_produced++;
	else
		ingest->counters_errors++;
}

static void
decode_datagram(const uint8_t *data, size_t len, const struct fs_addr *exporter,
		uint16_t exporter_port, int64_t time_received_ns, void *opaque)
{
	struct ingest *ingest = opaque;
	int64_t start;

	if (ingest->allow.count > 0 && !fs_cidr_list_match(&ingest->allow, exporter)) {
		char text[FS_ADDR_STRLEN];

		fs_counter_add(ingest->counters.exporter_not_allowed, 1);
		fs_log_limited(&ingest->allow_limit, FS_LOG_WARNING, "ingest",
			       "dropped a datagram from %s: not in ingest.exporters.allow",
			       fs_addr_format(exporter, text));
		return;
	}
	start = now_ns(CLOCK_MONOTONIC);
	fs_decoder_decode(ingest->decoder, data, len, exporter, exporter_port,
			  time_received_ns, produce_flow, ingest);
	fs_histogram_observe(ingest->counters.latency,
			     (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9);
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
	int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)REPLAY_QUEUE_WAIT_MS * 1000000;
	struct fs_producer_stats p;

	for (;;) {
		fs_producer_stats(ingest->producer, &p);
		if (p.queue_depth < ingest->replay_queue_bound || stop_requested ||
		    now_ns(CLOCK_MONOTONIC) >= deadline)
			return;
		fs_producer_poll(ingest->producer, 100);
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
			ingest->replay_start_ns = now_ns(CLOCK_MONOTONIC);
		}
		due = ingest->replay_start_ns + (datagram->time_ns - ingest->replay_first_ns);
		wait = due - now_ns(CLOCK_MONOTONIC);
		if (wait > 0) {
			struct timespec ts = { wait / 1000000000, wait % 1000000000 };

			nanosleep(&ts, NULL);
		}
	}
	wait_for_queue_room(ingest);
	decode_datagram(datagram->data, datagram->len, &datagram->exporter,
			datagram->exporter_port, now_ns(CLOCK_REALTIME), ingest);
	fs_producer_poll(ingest->producer, 0);
	return 0;
}

static void
log_stats(struct ingest *ingest, const struct fs_udp_receiver *receiver,
	  const struct fs_producer_stats *final)
{
	const struct fs_decoder_stats *d = fs_decoder_stats(ingest->decoder);
	struct fs_producer_stats p;
	struct fs_udp_stats u = { 0 };

	if (final)
		p = *final;
	else
		fs_producer_stats(ingest->producer, &p);
	if (receiver)
		ingest->last_udp = *fs_udp_receiver_stats(receiver);
	u = ingest->last_udp;
	ingest_telemetry_publish(ingest->telemetry, d, receiver ? &u : NULL, &p);
	fs_log(FS_LOG_INFO, "stats",
	       "udp_datagrams=%llu udp_truncated=%llu udp_errors=%llu "
	       "udp_kernel_drops=%llu not_allowed=%llu "
	       "datagrams=%llu flows=%llu unsupported=%llu truncated=%llu invalid=%llu "
	       "no_template=%llu no_template_records=%llu templates_active=%llu "
	       "encode_errors=%llu produce_errors=%llu sent=%llu delivered=%llu "
	       "failed=%llu dropped_queue_full=%llu lost=%llu queue_depth=%llu "
	       "templates_added=%llu templates_rejected=%llu options_records=%llu "
	       "sflow_flow_samples=%llu sflow_counter_samples=%llu sflow_records_dropped=%llu "
	       "counters_produced=%llu counters_errors=%llu templates_evicted=%llu "
	       "template_bytes=%llu options_evicted=%llu length_mismatch=%llu "
	       "sampling_invalid=%llu reverse_flows=%llu no_template_held=%llu "
	       "no_template_decoded=%llu no_template_dropped=%llu exporters_untracked=%llu "
	       "sflow_unknown_samples=%llu sflow_unknown_records=%llu",
	       (unsigned long long)u.datagrams, (unsigned long long)u.truncated,
	       (unsigned long long)u.errors, (unsigned long long)u.kernel_drops,
	       (unsigned long long)fs_counter_value(ingest->counters.exporter_not_allowed),
	       (unsigned long long)d->datagrams,
	       (unsigned long long)d->flows, (unsigned long long)d->unsupported,
	       (unsigned long long)d->truncated, (unsigned long long)d->invalid,
	       (unsigned long long)d->no_template,
	       (unsigned long long)d->no_template_records,
	       (unsigned long long)d->templates_active,
	       (unsigned long long)fs_counter_value(ingest->counters.encode_errors),
	       (unsigned long long)fs_counter_value(ingest->counters.produce_errors),
	       (unsigned long long)p.sent, (unsigned long long)p.delivered,
	       (unsigned long long)p.failed, (unsigned long long)p.dropped_queue_full,
	       (unsigned long long)p.lost, (unsigned long long)p.queue_depth,
	       (unsigned long long)d->templates_added,
	       (unsigned long long)d->templates_rejected,
	       (unsigned long long)d->options_records,
	       (unsigned long long)d->sflow_flow_samples,
	       (unsigned long long)d->sflow_counter_samples,
	       (unsigned long long)d->sflow_records_dropped,
	       (unsigned long long)ingest->counters_produced,
	       (unsigned long long)ingest->counters_errors,
	       (unsigned long long)d->templates_evicted, (unsigned long long)d->template_bytes,
	       (unsigned long long)d->options_evicted, (unsigned long long)d->length_mismatch,
	       (unsigned long long)d->sampling_invalid, (unsigned long long)d->reverse_flows,
	       (unsigned long long)d->no_template_held, (unsigned long long)d->no_template_decoded,
	       (unsigned long long)d->no_template_dropped,
	       (unsigned long long)d->exporters_untracked,
	       (unsigned long long)d->sflow_unknown_samples,
	       (unsigned long long)d->sflow_unknown_records);
}

static int
run_live(struct ingest *ingest, const struct fs_config *config)
{
	struct fs_udp_receiver *receiver = NULL;
	struct ipfix_tcp *tcp = NULL;
	const char *tcp_listen = fs_config_str(config, "ingest.listen.tcp");
	int64_t interval_ns = fs_config_int(config, "ingest.stats.interval") * 1000000000;
	int64_t next_stats;
	char err[512];

	if (fs_udp_receiver_new(&receiver, fs_config_str(config, "ingest.listen"),
				(int)fs_config_int(config, "ingest.socket.rcvbuf"),
				err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "%s", err);
		return 1;
	}
	if (tcp_listen[0] != '\0' &&
	    ipfix_tcp_start(&tcp, tcp_listen, &ingest->limits, ingest->producer, ingest->topic,
			    err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "%s", err);
		fs_udp_receiver_free(receiver);
		return 1;
	}
	fs_log(FS_LOG_INFO, "ingest", "listening on UDP %s and TCP %s, producing to topic %s",
	       fs_config_str(config, "ingest.listen"), tcp_listen[0] ? tcp_listen : "(off)",
	       ingest->topic);
	ingest_telemetry_set_listening(ingest->telemetry, 1);
	next_stats = now_ns(CLOCK_MONOTONIC) + interval_ns;
	while (!stop_requested) {
		struct fs_producer_stats p;

		if (fs_udp_receiver_poll(receiver, 100, decode_datagram, ingest) < 0) {
			fs_log(FS_LOG_ERR, "ingest", "poll failed: %s", strerror(errno));
			break;
		}
		fs_producer_poll(ingest->producer, 0);
		fs_producer_stats(ingest->producer, &p);
		ingest_telemetry_publish(ingest->telemetry, fs_decoder_stats(ingest->decoder),
					 fs_udp_receiver_stats(receiver), &p);
		if (interval_ns > 0 && now_ns(CLOCK_MONOTONIC) >= next_stats) {
			log_stats(ingest, receiver, NULL);
			next_stats += interval_ns;
		}
	}
	/* Stops intake first: datagrams that arrive from now on stay in the kernel and are lost with the socket. */
	ingest_telemetry_set_stopping(ingest->telemetry);
	ingest_telemetry_set_listening(ingest->telemetry, 0);
	ipfix_tcp_stop(tcp);
	log_stats(ingest, receiver, NULL);
	fs_udp_receiver_free(receiver);
	return 0;
}

static int
run_replay(struct ingest *ingest, char **files, int nfiles)
{
	char err[512];

	for (int i = 0; i < nfiles && !stop_requested; i++) {
		int rc = fs_capture_read_file(files[i], replay_datagram, ingest, err, sizeof(err));

		if (rc < 0) {
			fs_log(FS_LOG_ERR, "ingest", "%s", err);
			return 1;
		}
		fs_log(FS_LOG_INFO, "ingest", "replayed '%s'", files[i]);
	}
	return 0;
}

/* Applies log.level and log.format; returns -1 with a message for an invalid value. */
static int
configure_logging(const struct fs_config *config)
{
	enum fs_log_level level;
	enum fs_log_format format;

	if (fs_log_level_parse(fs_config_str(config, "log.level"), &level) < 0) {
		fprintf(stderr, "flowsift-ingest: invalid log.level '%s': expected error, "
			"warning, notice, info or debug\n", fs_config_str(config, "log.level"));
		return -1;
	}
	if (fs_log_format_parse(fs_config_str(config, "log.format"), &format) < 0) {
		fprintf(stderr, "flowsift-ingest: invalid log.format '%s': expected logfmt or json\n",
			fs_config_str(config, "log.format"));
		return -1;
	}
	fs_log_set_level(level);
	fs_log_set_format(format);
	return 0;
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
	ingest->telemetry = ingest_telemetry_new(listen, bootstrap, &ingest->counters,
						 err, sizeof(err));
	if (!ingest->telemetry) {
		fs_log(FS_LOG_ERR, "ingest", "%s", err);
		return -1;
	}
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-ingest [--config FILE]\n"
		"       flowsift-ingest [--config FILE] --pcap [--realtime] FILE...\n"
		"\n"
		"Without --pcap, receives export datagrams on the UDP addresses of\n"
		"ingest.listen until SIGINT or SIGTERM.  With --pcap, replays the UDP\n"
		"payloads of the captures (pcap, pcapng or raw datagram files) into the\n"
		"pipeline as fast as possible, or at capture pace with --realtime, then exits.\n"
		"Flows go to the topic of kafka.topic.raw.  Settings: docs/CONFIGURATION.md.\n");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pcap", no_argument, NULL, 'p' },
		{ "realtime", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ingest *ingest = NULL;
	struct fs_config *config = NULL;
	struct fs_producer_stats final = { 0 };
	struct fs_decoder_limits limits;
	const char *config_path = NULL;
	int replay = 0, realtime = 0, opt, status = 1, shutdown_ms = 10000;
	char err[512];

	while ((opt = getopt_long(argc, argv, "c:prh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'p': replay = 1; break;
		case 'r': realtime = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (replay && optind >= argc) {
		fprintf(stderr, "flowsift-ingest: --pcap needs at least one capture FILE\n");
		usage(stderr);
		return 2;
	}
	if (!replay && (optind < argc || realtime)) {
		fprintf(stderr, "flowsift-ingest: %s is only valid with --pcap\n",
			realtime ? "--realtime" : "a FILE argument");
		usage(stderr);
		return 2;
	}
	if (fs_config_load(&config, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift-ingest: %s\n", err);
		return 1;
	}
	if (configure_logging(config) < 0) {
		fs_config_free(config);
		return 1;
	}
	shutdown_ms = (int)fs_config_int(config, "ingest.shutdown.timeout.ms");
	/* An interrupt ignored at start (a background job of `make run`) stays
	 * ignored, so Ctrl-C reaches the script, which stops workers in order. */
	if (signal(SIGINT, SIG_IGN) != SIG_IGN)
		signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	ingest = calloc(1, sizeof(*ingest));
	if (!ingest)
		goto out;
	ingest->encode_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	ingest->queue_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 3);
	/* Leaves room for the largest datagram's flows (a few hundred). */
	ingest->replay_queue_bound = (uint64_t)fs_config_int(config, "kafka.queue.max.messages") * 9 / 10;
	ingest->allow_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	ingest->realtime = realtime;
	ingest->topic = fs_config_str(config, "kafka.topic.raw");
	ingest->counters_topic = fs_config_str(config, "kafka.topic.counters");
	if (fs_decoder_limits_from_config(config, &limits) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "invalid decoder limits in the configuration");
		goto out;
	}
	ingest->limits = limits;
	ingest->decoder = fs_decoder_new(&limits);
	ingest->codec = fs_flow_codec_new(err, sizeof(err));
	if (ingest->codec)
		ingest->counters_codec = fs_counters_codec_new(err, sizeof(err));
	if (!ingest->decoder || !ingest->codec || !ingest->counters_codec) {
		fs_log(FS_LOG_ERR, "ingest", "cannot start: %s",
		       ingest->codec ? "out of memory" : err);
		goto out;
	}
	if (fs_cidr_list_parse(&ingest->allow, fs_config_str(config, "ingest.exporters.allow"),
			       err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "ingest.exporters.allow: %s", err);
		goto out;
	}
	ingest->producer = fs_producer_new_config(config, err, sizeof(err));
	if (!ingest->producer) {
		fs_log(FS_LOG_ERR, "ingest", "cannot create the Kafka producer: %s", err);
		goto out;
	}
	if (fs_producer_prepare_topic(ingest->producer, ingest->topic, PREPARE_TOPIC_MS, err,
				      sizeof(err)) < 0)
		fs_log(FS_LOG_WARNING, "ingest", "starting anyway: %s", err);
	fs_decoder_set_counters_sink(ingest->decoder, produce_counters, ingest);
	if (start_telemetry(ingest, config, replay) < 0)
		goto out;
	status = replay ? run_replay(ingest, argv + optind, argc - optind)
			: run_live(ingest, config);

	fs_log(FS_LOG_INFO, "ingest", "stopping: flushing the producer for up to %d ms",
	       shutdown_ms);
	if (fs_producer_close(ingest->producer, shutdown_ms, &final) < 0 && replay)
		status = 1;
	ingest->producer = NULL;
	log_stats(ingest, NULL, &final);
	if (replay && (final.failed || final.dropped_queue_full))
		status = 1;
	fs_log(FS_LOG_INFO, "ingest", "stopped");
out:
	if (ingest) {
		fs_producer_close(ingest->producer, shutdown_ms, NULL);
		ingest_telemetry_free(ingest->telemetry);
		fs_cidr_list_release(&ingest->allow);
		fs_flow_codec_free(ingest->codec);
		fs_counters_codec_free(ingest->counters_codec);
		fs_decoder_free(ingest->decoder);
		free(ingest);
	}
	fs_config_free(config);
	return status;
}
