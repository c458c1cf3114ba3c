/*
 * flowsift-ingest - receives NetFlow v5/v9 and IPFIX datagrams over UDP, or
 * replays them from captures, decodes them and produces one Avro message per
 * flow to the raw-flows topic (kafka.topic.raw, default flows.raw).
 *
 * The message key is the exporter's address, so the flows of one exporter
 * stay in one partition and in order.  Every datagram or flow that does not
 * reach the broker lands in a counter, logged every ingest.stats.interval
 * seconds and at exit.
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
#include "kafka/producer.h"
#include "net/udp_receiver.h"

#define FLUSH_TIMEOUT_MS 10000
#define ENCODE_BUFFER 2048

static volatile sig_atomic_t stop_requested;

struct ingest {
	struct fs_decoder *decoder;
	struct fs_flow_codec *codec;
	struct fs_producer *producer;
	const char *topic;
	uint64_t encode_errors;
	uint64_t produce_errors;
	struct fs_ratelimit encode_limit;
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
		ingest->encode_errors++;
		fs_log_limited(&ingest->encode_limit, FS_LOG_ERR, "ingest",
			       "cannot encode a flow as Avro: %s", fs_result_name(rc));
		return;
	}
	rc = fs_producer_send(ingest->producer, ingest->topic,
			      flow->exporter_addr.bytes, key_len, ingest->buffer, len);
	if (rc < 0 && rc != FS_ERR_FULL)
		ingest->produce_errors++;
}

static void
decode_datagram(const uint8_t *data, size_t len, const struct fs_addr *exporter,
		uint16_t exporter_port, int64_t time_received_ns, void *opaque)
{
	struct ingest *ingest = opaque;

	fs_decoder_decode(ingest->decoder, data, len, exporter, exporter_port,
			  time_received_ns, produce_flow, ingest);
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
		u = *fs_udp_receiver_stats(receiver);
	fs_log(FS_LOG_INFO, "stats",
	       "udp_datagrams=%llu udp_truncated=%llu udp_errors=%llu "
	       "datagrams=%llu flows=%llu unsupported=%llu truncated=%llu invalid=%llu "
	       "no_template=%llu no_template_records=%llu templates_active=%llu "
	       "encode_errors=%llu produce_errors=%llu sent=%llu delivered=%llu "
	       "failed=%llu dropped_queue_full=%llu lost=%llu queue_depth=%llu",
	       (unsigned long long)u.datagrams, (unsigned long long)u.truncated,
	       (unsigned long long)u.errors, (unsigned long long)d->datagrams,
	       (unsigned long long)d->flows, (unsigned long long)d->unsupported,
	       (unsigned long long)d->truncated, (unsigned long long)d->invalid,
	       (unsigned long long)d->no_template,
	       (unsigned long long)d->no_template_records,
	       (unsigned long long)d->templates_active,
	       (unsigned long long)ingest->encode_errors,
	       (unsigned long long)ingest->produce_errors,
	       (unsigned long long)p.sent, (unsigned long long)p.delivered,
	       (unsigned long long)p.failed, (unsigned long long)p.dropped_queue_full,
	       (unsigned long long)p.lost, (unsigned long long)p.queue_depth);
}

static int
run_live(struct ingest *ingest, const struct fs_config *config)
{
	struct fs_udp_receiver *receiver = NULL;
	int64_t interval_ns = fs_config_int(config, "ingest.stats.interval") * 1000000000;
	int64_t next_stats;
	char err[512];

	if (fs_udp_receiver_new(&receiver, fs_config_str(config, "ingest.listen"),
				(int)fs_config_int(config, "ingest.socket.rcvbuf"),
				err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "ingest", "%s", err);
		return 1;
	}
	fs_log(FS_LOG_INFO, "ingest", "listening on %s, producing to topic %s",
	       fs_config_str(config, "ingest.listen"), ingest->topic);
	next_stats = now_ns(CLOCK_MONOTONIC) + interval_ns;
	while (!stop_requested) {
		if (fs_udp_receiver_poll(receiver, 100, decode_datagram, ingest) < 0) {
			fs_log(FS_LOG_ERR, "ingest", "poll failed: %s", strerror(errno));
			break;
		}
		fs_producer_poll(ingest->producer, 0);
		if (interval_ns > 0 && now_ns(CLOCK_MONOTONIC) >= next_stats) {
			log_stats(ingest, receiver, NULL);
			next_stats += interval_ns;
		}
	}
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
	const char *config_path = NULL;
	enum fs_log_level level;
	int replay = 0, realtime = 0, opt, status = 1;
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
	if ((replay && optind >= argc) || (!replay && (optind < argc || realtime))) {
		usage(stderr);
		return 2;
	}
	if (fs_config_load(&config, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift-ingest: %s\n", err);
		return 1;
	}
	if (fs_log_level_parse(fs_config_str(config, "log.level"), &level) == 0)
		fs_log_set_level(level);
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
	ingest->realtime = realtime;
	ingest->topic = fs_config_str(config, "kafka.topic.raw");
	ingest->decoder = fs_decoder_new(NULL);
	ingest->codec = fs_flow_codec_new(err, sizeof(err));
	if (!ingest->decoder || !ingest->codec) {
		fs_log(FS_LOG_ERR, "ingest", "cannot start: %s",
		       ingest->codec ? "out of memory" : err);
		goto out;
	}
	ingest->producer = fs_producer_new_config(config, err, sizeof(err));
	if (!ingest->producer) {
		fs_log(FS_LOG_ERR, "ingest", "cannot create the Kafka producer: %s", err);
		goto out;
	}
	status = replay ? run_replay(ingest, argv + optind, argc - optind)
			: run_live(ingest, config);

	fs_log(FS_LOG_INFO, "ingest", "stopping: flushing the producer");
	if (fs_producer_close(ingest->producer, FLUSH_TIMEOUT_MS, &final) < 0 && replay)
		status = 1;
	ingest->producer = NULL;
	log_stats(ingest, NULL, &final);
	if (replay && (final.failed || final.dropped_queue_full))
		status = 1;
out:
	if (ingest) {
		fs_producer_close(ingest->producer, FLUSH_TIMEOUT_MS, NULL);
		fs_flow_codec_free(ingest->codec);
		fs_decoder_free(ingest->decoder);
		free(ingest);
	}
	fs_config_free(config);
	return status;
}
