/* telemetry.c - flowsift-ingest's metrics registry, HTTP server and broker probe. */
#include "telemetry.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/flow.h"
#include "core/log.h"
#include "metrics/broker_probe.h"
#include "metrics/http_server.h"
#include "metrics/metrics.h"
#include "metrics/stats_mirror.h"

#define DATAGRAMS_DROPPED "flowsift_ingest_datagrams_dropped_total"
#define DATAGRAMS_DROPPED_HELP "Datagrams dropped before decoding, by reason."
#define DECODE_ERRORS "flowsift_ingest_decode_errors_total"
#define DECODE_ERRORS_HELP "Datagrams or sets that failed to decode, by reason; records decoded before the fault are kept."
#define FLOWS_DROPPED "flowsift_ingest_flows_dropped_total"
#define FLOWS_DROPPED_HELP "Flow records that did not reach the broker, by reason."
#define HELD_SETS "flowsift_ingest_held_data_sets_total"
#define HELD_SETS_HELP "Data sets held until their template arrives, then decoded or dropped to stay within decode.held.*."
#define DELIVERY_ERRORS "flowsift_ingest_delivery_errors_total"
#define DELIVERY_ERRORS_HELP "Flows the broker did not acknowledge, by cause."

static const struct fs_stats_mirror udp_mirrors[] = {
	{ "flowsift_ingest_udp_datagrams_total", "Datagrams received on the UDP sockets.", NULL,
	  offsetof(struct fs_udp_stats, datagrams) },
	{ "flowsift_ingest_udp_bytes_total", "Bytes of the datagrams received.", NULL,
	  offsetof(struct fs_udp_stats, bytes) },
	{ "flowsift_ingest_udp_receive_errors_total", "Failed receive calls on the UDP sockets.",
	  NULL, offsetof(struct fs_udp_stats, errors) },
	{ DATAGRAMS_DROPPED, DATAGRAMS_DROPPED_HELP, "reason=oversize",
	  offsetof(struct fs_udp_stats, truncated) },
	{ DATAGRAMS_DROPPED, DATAGRAMS_DROPPED_HELP, "reason=socket_buffer_full",
	  offsetof(struct fs_udp_stats, kernel_drops) },
};

static const struct fs_stats_mirror decoder_mirrors[] = {
	{ "flowsift_ingest_datagrams_decoded_total", "Datagrams passed to the decoder.", NULL,
	  offsetof(struct fs_decoder_stats, datagrams) },
	{ "flowsift_ingest_flows_decoded_total", "Flow records decoded (records in).", NULL,
	  offsetof(struct fs_decoder_stats, flows) },
	{ DECODE_ERRORS, DECODE_ERRORS_HELP, "reason=unsupported",
	  offsetof(struct fs_decoder_stats, unsupported) },
	{ DECODE_ERRORS, DECODE_ERRORS_HELP, "reason=truncated",
	  offsetof(struct fs_decoder_stats, truncated) },
	{ DECODE_ERRORS, DECODE_ERRORS_HELP, "reason=invalid",
	  offsetof(struct fs_decoder_stats, invalid) },
	{ DECODE_ERRORS, DECODE_ERRORS_HELP, "reason=no_template",
	  offsetof(struct fs_decoder_stats, no_template) },
	{ FLOWS_DROPPED, FLOWS_DROPPED_HELP, "reason=no_template",
	  offsetof(struct fs_decoder_stats, no_template_records) },
	{ FLOWS_DROPPED, FLOWS_DROPPED_HELP, "reason=empty_record",
	  offsetof(struct fs_decoder_stats, empty_records) },
	{ FLOWS_DROPPED, FLOWS_DROPPED_HELP, "reason=sflow_record_malformed",
	  offsetof(struct fs_decoder_stats, sflow_flows_dropped) },
	{ "flowsift_ingest_sflow_records_dropped_total",
	  "sFlow flow or counter records malformed or over decode.sflow.records.max, skipped.", NULL,
	  offsetof(struct fs_decoder_stats, sflow_records_dropped) },
	{ "flowsift_ingest_counters_clamped_total",
	  "Data sets with a byte or packet count over 2^53 - 1, clamped to it.", NULL,
	  offsetof(struct fs_decoder_stats, counters_clamped) },
	{ HELD_SETS, HELD_SETS_HELP, "result=held", offsetof(struct fs_decoder_stats, no_template_held) },
	{ HELD_SETS, HELD_SETS_HELP, "result=decoded",
	  offsetof(struct fs_decoder_stats, no_template_decoded) },
	{ HELD_SETS, HELD_SETS_HELP, "result=dropped",
	  offsetof(struct fs_decoder_stats, no_template_dropped) },
	{ "flowsift_ingest_templates_learned_total", "Templates learned, replacements included.",
	  NULL, offsetof(struct fs_decoder_stats, templates_added) },
	{ "flowsift_ingest_templates_rejected_total",
	  "Templates rejected for a bad length or too many fields.", NULL,
	  offsetof(struct fs_decoder_stats, templates_rejected) },
	{ "flowsift_ingest_options_records_total", "Options data records consumed.", NULL,
	  offsetof(struct fs_decoder_stats, options_records) },
	{ "flowsift_ingest_sflow_samples_total", "sFlow samples, by kind.", "kind=flow",
	  offsetof(struct fs_decoder_stats, sflow_flow_samples) },
	{ "flowsift_ingest_sflow_samples_total", "sFlow samples, by kind.", "kind=counter",
	  offsetof(struct fs_decoder_stats, sflow_counter_samples) },
	{ "flowsift_ingest_sflow_samples_total", "sFlow samples, by kind.", "kind=unknown",
	  offsetof(struct fs_decoder_stats, sflow_unknown_samples) },
	{ "flowsift_ingest_sflow_unknown_records_total",
	  "sFlow flow or counter records of a format not decoded, skipped.", NULL,
	  offsetof(struct fs_decoder_stats, sflow_unknown_records) },
};

static const struct fs_stats_mirror producer_mirrors[] = {
	{ "flowsift_ingest_flows_queued_total",
	  "Flows and sFlow counter samples accepted into the producer queue.", NULL,
	  offsetof(struct fs_producer_stats, sent) },
	{ "flowsift_ingest_flows_delivered_total",
	  "Flows and sFlow counter samples acknowledged by the broker (records out).", NULL,
	  offsetof(struct fs_producer_stats, delivered) },
	{ DELIVERY_ERRORS, DELIVERY_ERRORS_HELP, "cause=timed_out",
	  offsetof(struct fs_producer_stats, failed_timed_out) },
	{ DELIVERY_ERRORS, DELIVERY_ERRORS_HELP, "cause=broker",
	  offsetof(struct fs_producer_stats, failed_broker) },
	{ DELIVERY_ERRORS, DELIVERY_ERRORS_HELP, "cause=local",
	  offsetof(struct fs_producer_stats, failed_local) },
	{ FLOWS_DROPPED, FLOWS_DROPPED_HELP, "reason=queue_full",
	  offsetof(struct fs_producer_stats, dropped_queue_full) },
	{ FLOWS_DROPPED, FLOWS_DROPPED_HELP, "reason=lost_at_exit",
	  offsetof(struct fs_producer_stats, lost) },
};

#define TCP_DECODE_ERRORS "flowsift_ingest_tcp_decode_errors_total"
#define TCP_DECODE_ERRORS_HELP "IPFIX-over-TCP messages or sets that failed to decode, by reason."
#define TCP_FLOWS_DROPPED "flowsift_ingest_tcp_flows_dropped_total"
#define TCP_FLOWS_DROPPED_HELP "IPFIX-over-TCP flow records that were not queued for the broker, by reason."
#define TCP_REJECTED "flowsift_ingest_tcp_connections_refused_total"
#define TCP_REJECTED_HELP "IPFIX-over-TCP connections rejected at accept, by reason."
#define TCP_DECODER(field) offsetof(struct ipfix_tcp_stats, decoder) + offsetof(struct fs_decoder_stats, field)

static const struct fs_stats_mirror tcp_mirrors[] = {
	{ "flowsift_ingest_tcp_connections_opened_total", "IPFIX-over-TCP connections accepted.",
	  NULL, offsetof(struct ipfix_tcp_stats, connections) },
	{ "flowsift_ingest_tcp_connections_closed_total",
	  "IPFIX-over-TCP connections closed, by the peer, after lost framing or at the idle timeout.",
	  NULL, offsetof(struct ipfix_tcp_stats, closed) },
	{ TCP_REJECTED, TCP_REJECTED_HELP, "reason=exporter_not_allowed",
	  offsetof(struct ipfix_tcp_stats, rejected_not_allowed) },
	{ TCP_REJECTED, TCP_REJECTED_HELP, "reason=connections_max",
	  offsetof(struct ipfix_tcp_stats, rejected_limit) },
	{ TCP_REJECTED, TCP_REJECTED_HELP, "reason=per_address_max",
	  offsetof(struct ipfix_tcp_stats, rejected_per_address) },
	{ TCP_REJECTED, TCP_REJECTED_HELP, "reason=no_memory",
	  offsetof(struct ipfix_tcp_stats, rejected_no_memory) },
	{ "flowsift_ingest_tcp_accept_errors_total",
	  "Failures to accept an IPFIX-over-TCP connection, such as the open-files limit.", NULL,
	  offsetof(struct ipfix_tcp_stats, accept_errors) },
	{ "flowsift_ingest_tcp_idle_timeouts_total",
	  "IPFIX-over-TCP connections closed after ingest.tcp.idle.timeout seconds without a byte.",
	  NULL, offsetof(struct ipfix_tcp_stats, idle_timeouts) },
	{ "flowsift_ingest_tcp_framing_lost_total",
	  "IPFIX-over-TCP connections closed because a message header was not IPFIX.", NULL,
	  offsetof(struct ipfix_tcp_stats, framing_lost) },
	{ "flowsift_ingest_tcp_messages_total", "IPFIX messages read from TCP connections.", NULL,
	  offsetof(struct ipfix_tcp_stats, messages) },
	{ "flowsift_ingest_tcp_flows_decoded_total", "Flow records decoded from TCP connections.",
	  NULL, TCP_DECODER(flows) },
	{ TCP_DECODE_ERRORS, TCP_DECODE_ERRORS_HELP, "reason=truncated", TCP_DECODER(truncated) },
	{ TCP_DECODE_ERRORS, TCP_DECODE_ERRORS_HELP, "reason=invalid", TCP_DECODER(invalid) },
	{ TCP_DECODE_ERRORS, TCP_DECODE_ERRORS_HELP, "reason=unsupported",
	  TCP_DECODER(unsupported) },
	{ TCP_DECODE_ERRORS, TCP_DECODE_ERRORS_HELP, "reason=no_template",
	  TCP_DECODER(no_template) },
	{ "flowsift_ingest_tcp_templates_learned_total",
	  "Templates learned on TCP connections, replacements included.", NULL,
	  TCP_DECODER(templates_added) },
	{ "flowsift_ingest_tcp_templates_rejected_total",
	  "Templates on TCP connections rejected for a bad length or too many fields.", NULL,
	  TCP_DECODER(templates_rejected) },
	{ TCP_FLOWS_DROPPED, TCP_FLOWS_DROPPED_HELP, "reason=no_template",
	  TCP_DECODER(no_template_records) },
	{ TCP_FLOWS_DROPPED, TCP_FLOWS_DROPPED_HELP, "reason=encode_error",
	  offsetof(struct ipfix_tcp_stats, encode_errors) },
	{ TCP_FLOWS_DROPPED, TCP_FLOWS_DROPPED_HELP, "reason=produce_error",
	  offsetof(struct ipfix_tcp_stats, produce_errors) },
};

#define SHARED_RECORDS "flowsift_ingest_template_topic_records_total"
#define SHARED_RECORDS_HELP "Records read from the shared-templates topic, by outcome."

static const struct fs_stats_mirror share_mirrors[] = {
	{ "flowsift_ingest_templates_published_total",
	  "Templates and withdrawals queued for the shared-templates topic.", NULL,
	  offsetof(struct template_share_stats, published) },
	{ "flowsift_ingest_templates_delivered_total",
	  "Templates and withdrawals the broker acknowledged on the shared-templates topic.", NULL,
	  offsetof(struct template_share_stats, delivered) },
	{ "flowsift_ingest_templates_publish_errors_total",
	  "Templates or withdrawals not queued for, or not acknowledged by, the shared-templates topic.",
	  NULL, offsetof(struct template_share_stats, publish_errors) },
	{ SHARED_RECORDS, SHARED_RECORDS_HELP, "result=applied",
	  offsetof(struct template_share_stats, applied) },
	{ SHARED_RECORDS, SHARED_RECORDS_HELP, "result=withdrawn",
	  offsetof(struct template_share_stats, withdrawn) },
	{ SHARED_RECORDS, SHARED_RECORDS_HELP, "result=own",
	  offsetof(struct template_share_stats, own) },
	{ SHARED_RECORDS, SHARED_RECORDS_HELP, "result=rejected",
	  offsetof(struct template_share_stats, rejected) },
	{ SHARED_RECORDS, SHARED_RECORDS_HELP, "result=invalid",
	  offsetof(struct template_share_stats, invalid) },
	{ SHARED_RECORDS, SHARED_RECORDS_HELP, "result=unsupported",
	  offsetof(struct template_share_stats, unsupported) },
	{ "flowsift_ingest_template_topic_errors_total",
	  "Errors reading the shared-templates topic.", NULL,
	  offsetof(struct template_share_stats, consumer_errors) },
	{ "flowsift_ingest_template_topic_loaded_total",
	  "Records of the shared-templates topic read at start, before the sockets were read.",
	  NULL, offsetof(struct template_share_stats, loaded) },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* From 10 us to 1 s: decoding one datagram normally takes tens of microseconds. */
static const double latency_bounds[] = {
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
	0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
};

struct ingest_telemetry {
	struct fs_metrics *metrics;
	struct fs_metrics_server *server;
	struct fs_counter *udp[COUNT(udp_mirrors)];
	struct fs_counter *decoder[COUNT(decoder_mirrors)];
	struct fs_counter *producer[COUNT(producer_mirrors)];
	struct fs_counter *tcp[COUNT(tcp_mirrors)];
	struct fs_counter *share[COUNT(share_mirrors)];
	struct fs_counter *sequence_gaps;
	struct fs_counter *sequence_lost;
	struct fs_gauge *tcp_open;
	struct fs_gauge *tcp_templates;
	struct fs_counter *by_protocol[FS_FLOW_TYPE_COUNT];
	struct fs_gauge *templates_active;
	struct fs_gauge *queue_depth;
	struct fs_gauge *broker_reachable;

	atomic_int listening;
	atomic_int stopping;
	struct fs_broker_probe *probe;   /* NULL without a metrics listener */
};

static int
register_all(struct ingest_telemetry *t, struct ingest_counters *counters)
{
	struct fs_metrics *m = t->metrics;
	char labels[64];

	/* The tables give whole series names, so they register with no prefix. */
	if (fs_stats_mirror_register(m, "", udp_mirrors, COUNT(udp_mirrors), t->udp) < 0 ||
	    fs_stats_mirror_register(m, "", decoder_mirrors, COUNT(decoder_mirrors),
				     t->decoder) < 0 ||
	    fs_stats_mirror_register(m, "", producer_mirrors, COUNT(producer_mirrors),
				     t->producer) < 0 ||
	    fs_stats_mirror_register(m, "", tcp_mirrors, COUNT(tcp_mirrors), t->tcp) < 0 ||
	    fs_stats_mirror_register(m, "", share_mirrors, COUNT(share_mirrors), t->share) < 0)
		return -1;
	t->sequence_gaps = fs_metrics_counter(
		m, "flowsift_ingest_sequence_gaps_total",
		"Export messages that followed a gap in their exporter's sequence numbers.", NULL);
	t->sequence_lost = fs_metrics_counter(
		m, "flowsift_ingest_sequence_lost_total",
		"Units missing in those gaps: flows (NetFlow v5), packets (v9), records (IPFIX) or datagrams (sFlow).",
		NULL);
	t->tcp_open = fs_metrics_gauge(m, "flowsift_ingest_tcp_connections",
				       "IPFIX-over-TCP connections open now.", NULL);
	t->tcp_templates = fs_metrics_gauge(m, "flowsift_ingest_tcp_templates",
					    "Templates of open TCP connections in the cache now.", NULL);
	if (!t->sequence_gaps || !t->sequence_lost || !t->tcp_open || !t->tcp_templates)
		return -1;
	for (int i = 0; i < FS_FLOW_TYPE_COUNT; i++) {
		snprintf(labels, sizeof(labels), "protocol=%s", fs_flow_type_name((enum fs_flow_type)i));
		t->by_protocol[i] = fs_metrics_counter(
			m, "flowsift_ingest_datagrams_by_protocol_total",
			"Datagrams decoded, by export protocol detected from the header.", labels);
		if (!t->by_protocol[i])
			return -1;
	}
	t->templates_active = fs_metrics_gauge(m, "flowsift_ingest_templates",
					       "Templates in the cache now.", NULL);
	t->queue_depth = fs_metrics_gauge(m, "flowsift_ingest_producer_queue_depth",
					  "Flows queued in the producer or in flight.", NULL);
	t->broker_reachable = fs_metrics_gauge(
		m, "flowsift_ingest_broker_reachable",
		"1 when the last TCP probe of the bootstrap servers succeeded, else 0.", NULL);
	counters->exporter_not_allowed = fs_metrics_counter(m, DATAGRAMS_DROPPED, DATAGRAMS_DROPPED_HELP,
							    "reason=exporter_not_allowed");
	counters->encode_errors = fs_metrics_counter(m, FLOWS_DROPPED, FLOWS_DROPPED_HELP,
						     "reason=encode_error");
	counters->produce_errors = fs_metrics_counter(m, FLOWS_DROPPED, FLOWS_DROPPED_HELP,
						      "reason=produce_error");
	counters->latency = fs_metrics_histogram(
		m, "flowsift_ingest_datagram_processing_seconds",
		"Time from receiving a datagram to queueing its last flow.", NULL,
		latency_bounds, COUNT(latency_bounds));
	if (!t->templates_active || !t->queue_depth || !t->broker_reachable ||
	    !counters->exporter_not_allowed || !counters->encode_errors ||
	    !counters->produce_errors || !counters->latency)
		return -1;
	return 0;
}

static int
ready(void *opaque, char *reason, size_t reason_len)
{
	struct ingest_telemetry *t = opaque;

	if (atomic_load(&t->stopping)) {
		snprintf(reason, reason_len, "shutting down");
		return 0;
	}
	if (!atomic_load(&t->listening)) {
		snprintf(reason, reason_len, "UDP sockets not bound");
		return 0;
	}
	return fs_broker_probe_ready(t->probe, reason, reason_len);
}

struct ingest_telemetry *
ingest_telemetry_new(const char *listen, const char *bootstrap,
		     struct ingest_counters *counters, char *err, size_t err_len)
{
	struct ingest_telemetry *t = calloc(1, sizeof(*t));
	struct fs_broker_probe_settings probe = { .facility = "ingest", .bootstrap = bootstrap };

	if (!t) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	t->metrics = fs_metrics_new();
	if (!t->metrics || register_all(t, counters) < 0) {
		snprintf(err, err_len, "cannot register the metrics (see the log above)");
		goto fail;
	}
	if (listen[0] == '\0')
		return t;
	probe.reachable = t->broker_reachable;
	t->probe = fs_broker_probe_start(&probe, err, err_len);
	if (!t->probe)
		goto fail;
	if (fs_metrics_server_start(&t->server, listen, t->metrics, ready, t, err, err_len) < 0) {
		size_t used = strnlen(err, err_len);

		snprintf(err + used, err_len - used, "; set another address in ingest.metrics.listen");
		goto fail;
	}
	fs_log(FS_LOG_INFO, "ingest", "serving /metrics, /healthz and /readyz on %s (port %u)",
	       listen, fs_metrics_server_port(t->server));
	return t;
fail:
	ingest_telemetry_free(t);
	return NULL;
}

void
ingest_telemetry_free(struct ingest_telemetry *t)
{
	if (!t)
		return;
	fs_metrics_server_stop(t->server);
	fs_broker_probe_stop(t->probe);
	fs_metrics_free(t->metrics);
	free(t);
}

struct fs_metrics *
ingest_telemetry_metrics(struct ingest_telemetry *t)
{
	return t->metrics;
}

void
ingest_telemetry_set_listening(struct ingest_telemetry *t, int listening)
{
	atomic_store(&t->listening, listening);
}

void
ingest_telemetry_set_stopping(struct ingest_telemetry *t)
{
	atomic_store(&t->stopping, 1);
}

void
ingest_telemetry_publish(struct ingest_telemetry *t, const struct fs_decoder_stats *decoder,
			 const struct fs_udp_stats *udp, const struct fs_producer_stats *producer)
{
	fs_stats_mirror_publish(decoder_mirrors, COUNT(decoder_mirrors), t->decoder, decoder);
	for (int i = 0; i < FS_FLOW_TYPE_COUNT; i++)
		fs_counter_set(t->by_protocol[i], decoder->datagrams_by_type[i]);
	fs_gauge_set(t->templates_active, (int64_t)decoder->templates_active);
	if (udp)
		fs_stats_mirror_publish(udp_mirrors, COUNT(udp_mirrors), t->udp, udp);
	if (producer) {
		fs_stats_mirror_publish(producer_mirrors, COUNT(producer_mirrors), t->producer,
					producer);
		fs_gauge_set(t->queue_depth, (int64_t)producer->queue_depth);
	}
}

void
ingest_telemetry_publish_sequences(struct ingest_telemetry *t, uint64_t gaps, uint64_t lost)
{
	fs_counter_set(t->sequence_gaps, gaps);
	fs_counter_set(t->sequence_lost, lost);
}

void
ingest_telemetry_publish_tcp(struct ingest_telemetry *t, const struct ipfix_tcp_stats *tcp)
{
	fs_stats_mirror_publish(tcp_mirrors, COUNT(tcp_mirrors), t->tcp, tcp);
	fs_gauge_set(t->tcp_open, (int64_t)tcp->open);
	fs_gauge_set(t->tcp_templates, (int64_t)tcp->decoder.templates_active);
}

void
ingest_telemetry_publish_share(struct ingest_telemetry *t,
			       const struct template_share_stats *share)
{
	fs_stats_mirror_publish(share_mirrors, COUNT(share_mirrors), t->share, share);
}
