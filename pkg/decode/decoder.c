/*
 * decoder.c - protocol detection, counters and fault reporting.
 *
 * The first bytes of a datagram select the decoder:
 *
 *   u16 version = 5   NetFlow v5        -> netflow_v5.c
 *   u16 version = 9   NetFlow v9        -> netflow_v9.c
 *   u16 version = 10  IPFIX             -> ipfix.c
 *   u16 version = 1/7 NetFlow v1/v7     -> netflow_v5.c
 *   u32 version = 5 and u32 agent address type 1 (IPv4) or 2 (IPv6)
 *                     sFlow v5          -> sflow.c
 *   anything else                       -> counted invalid
 */
#include "decode/decoder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/result.h"
#include "decode/cursor.h"
#include "decode/ipfix.h"
#include "decode/netflow_v5.h"
#include "decode/netflow_v9.h"
#include "decode/packet.h"
#include "decode/sflow.h"
#include "decode/template_cache.h"

/* Fault log limits: per kind of fault, at most this many lines per interval. */
#define FAULT_LOG_INTERVAL_S 10
#define FAULT_LOG_BURST 5

enum fault_kind {
	FAULT_TRUNCATED,
	FAULT_INVALID,
	FAULT_UNSUPPORTED,
	FAULT_NO_TEMPLATE,
	FAULT_TEMPLATE_REJECTED,
	FAULT_TEMPLATE_EVICTED,
	FAULT_WARNING,
	FAULT_RECORD_DROPPED,
	FAULT_KIND_COUNT
};

struct fs_decoder {
	struct fs_decoder_limits limits;
	struct fs_decoder_stats stats;
	struct fs_template_cache *templates;
	struct fs_exporter_stats *exporters;
	struct fs_ratelimit ratelimits[FAULT_KIND_COUNT];
	fs_counters_sink_fn *counters_sink;
	void *counters_opaque;
	int64_t last_received_ns;   /* receive time of the last datagram, for the held-set age */
};

/*
 * Sets the exporter, sFlow source and held-set limits: the value in limits,
 * or the default where it is 0.
 */
static void
set_pending_limits(struct fs_decoder *decoder, const struct fs_decoder_limits *limits)
{
	struct fs_decoder_limits *l = &decoder->limits;

	l->max_exporters = FS_DECODER_DEFAULT_MAX_EXPORTERS;
	l->max_sflow_sources = FS_EXPORTER_STATS_DEFAULT_MAX_SOURCES;
	l->max_pending_sets = FS_DECODER_DEFAULT_MAX_PENDING_SETS;
	l->max_pending_bytes = FS_DECODER_DEFAULT_MAX_PENDING_BYTES;
	l->max_pending_sets_per_exporter = FS_DECODER_DEFAULT_MAX_PENDING_SETS_PER_EXPORTER;
	l->max_pending_bytes_per_exporter = FS_DECODER_DEFAULT_MAX_PENDING_BYTES_PER_EXPORTER;
	l->max_pending_age_s = FS_DECODER_DEFAULT_MAX_PENDING_AGE_S;
	if (!limits)
		return;
	if (limits->max_exporters)
		l->max_exporters = limits->max_exporters;
	if (limits->max_sflow_sources)
		l->max_sflow_sources = limits->max_sflow_sources;
	if (limits->max_pending_sets)
		l->max_pending_sets = limits->max_pending_sets;
	if (limits->max_pending_bytes)
		l->max_pending_bytes = limits->max_pending_bytes;
	if (limits->max_pending_sets_per_exporter)
		l->max_pending_sets_per_exporter = limits->max_pending_sets_per_exporter;
	if (limits->max_pending_bytes_per_exporter)
		l->max_pending_bytes_per_exporter = limits->max_pending_bytes_per_exporter;
	if (limits->max_pending_age_s)
		l->max_pending_age_s = limits->max_pending_age_s;
}

struct fs_decoder *
fs_decoder_new(const struct fs_decoder_limits *limits)
{
	struct fs_decoder *decoder = calloc(1, sizeof(*decoder));

	if (!decoder)
		return NULL;
	decoder->limits.max_templates = FS_DECODER_DEFAULT_MAX_TEMPLATES;
	decoder->limits.max_templates_per_exporter = FS_DECODER_DEFAULT_MAX_TEMPLATES_PER_EXPORTER;
	decoder->limits.max_template_bytes = FS_DECODER_DEFAULT_MAX_TEMPLATE_BYTES;
	decoder->limits.max_options_entries = FS_DECODER_DEFAULT_MAX_OPTIONS_ENTRIES;
	decoder->limits.max_template_fields = FS_DECODER_DEFAULT_MAX_TEMPLATE_FIELDS;
	decoder->limits.max_sflow_samples = FS_DECODER_DEFAULT_MAX_SFLOW_SAMPLES;
	decoder->limits.max_sflow_records = FS_DECODER_DEFAULT_MAX_SFLOW_RECORDS;
	decoder->limits.max_header_bytes = FS_DECODER_DEFAULT_MAX_HEADER_BYTES;
	decoder->limits.max_enterprise_elements = FS_FLOW_MAX_ENTERPRISE_ELEMENTS;
	if (limits) {
		if (limits->max_enterprise_elements == FS_DECODER_NO_ENTERPRISE_ELEMENTS)
			decoder->limits.max_enterprise_elements = 0;
		else if (limits->max_enterprise_elements > 0 &&
			 limits->max_enterprise_elements < FS_FLOW_MAX_ENTERPRISE_ELEMENTS)
			decoder->limits.max_enterprise_elements = limits->max_enterprise_elements;
		decoder->limits.decap_srv6 = limits->decap_srv6;
		if (limits->max_templates)
			decoder->limits.max_templates = limits->max_templates;
		if (limits->max_templates_per_exporter)
			decoder->limits.max_templates_per_exporter = limits->max_templates_per_exporter;
		if (limits->max_template_bytes)
			decoder->limits.max_template_bytes = limits->max_template_bytes;
		if (limits->max_options_entries)
			decoder->limits.max_options_entries = limits->max_options_entries;
		if (limits->max_template_fields)
			decoder->limits.max_template_fields = limits->max_template_fields;
		if (limits->max_sflow_samples)
			decoder->limits.max_sflow_samples = limits->max_sflow_samples;
		if (limits->max_sflow_records)
			decoder->limits.max_sflow_records = limits->max_sflow_records;
		if (limits->max_header_bytes)
			decoder->limits.max_header_bytes = limits->max_header_bytes;
	}
	set_pending_limits(decoder, limits);
	decoder->templates = fs_template_cache_new(decoder->limits.max_templates,
						   decoder->limits.max_template_fields);
	decoder->exporters = fs_exporter_stats_new(decoder->limits.max_exporters,
						   decoder->limits.max_sflow_sources);
	if (!decoder->templates || !decoder->exporters) {
		fs_decoder_free(decoder);
		return NULL;
	}
	fs_template_cache_set_limits(decoder->templates, &(struct fs_template_limits){
		.max_templates_per_exporter = decoder->limits.max_templates_per_exporter,
		.max_template_bytes = decoder->limits.max_template_bytes,
		.max_options_entries = decoder->limits.max_options_entries,
	});
	fs_template_cache_set_pending_limits(decoder->templates, &(struct fs_pending_limits){
		.max_sets = decoder->limits.max_pending_sets,
		.max_bytes = decoder->limits.max_pending_bytes,
		.max_sets_per_exporter = decoder->limits.max_pending_sets_per_exporter,
		.max_bytes_per_exporter = decoder->limits.max_pending_bytes_per_exporter,
		.max_age_s = decoder->limits.max_pending_age_s,
	});
	for (int i = 0; i < FAULT_KIND_COUNT; i++) {
		decoder->ratelimits[i].interval_s = FAULT_LOG_INTERVAL_S;
		decoder->ratelimits[i].burst = FAULT_LOG_BURST;
	}
	return decoder;
}

void
fs_decoder_free(struct fs_decoder *decoder)
{
	if (!decoder)
		return;
	fs_template_cache_free(decoder->templates);
	fs_exporter_stats_free(decoder->exporters);
	free(decoder);
}

const struct fs_decoder_stats *
fs_decoder_stats(const struct fs_decoder *decoder)
{
	return &decoder->stats;
}

void
fs_decoder_set_counters_sink(struct fs_decoder *decoder, fs_counters_sink_fn *sink,
			     void *opaque)
{
	decoder->counters_sink = sink;
	decoder->counters_opaque = opaque;
}

const struct fs_exporter_stats *
fs_decoder_exporter_stats(const struct fs_decoder *decoder)
{
	return decoder->exporters;
}

/* Copies the template cache's gauges and eviction counters into the decoder's stats. */
static void
update_cache_stats(struct fs_decoder *decoder)
{
	const struct fs_template_cache_stats *cs = fs_template_cache_stats(decoder->templates);

	decoder->stats.templates_active = fs_template_cache_count(decoder->templates);
	decoder->stats.template_bytes = cs->bytes;
	decoder->stats.templates_evicted = cs->evicted_exporter_limit + cs->evicted_total_limit;
	decoder->stats.options_evicted = cs->options_evicted;
}

void
fs_decoder_end_session(struct fs_decoder *decoder, const struct fs_addr *exporter,
		       uint16_t exporter_port, uint8_t flow_type)
{
	struct fs_template_key key = { .exporter_port = exporter_port, .flow_type = flow_type };

	key.exporter = *exporter;
	(void)fs_template_cache_withdraw_session(decoder->templates, &key);
	update_cache_stats(decoder);
}

struct fs_template_cache *
fs_decoder_templates(struct fs_decoder *decoder)
{
	return decoder->templates;
}

void
fs_decode_begin_message(struct fs_decode_ctx *ctx, uint8_t flow_type, uint32_t domain)
{
	fs_decode_begin_message_of(ctx, ctx->exporter, flow_type, domain);
}

void
fs_decode_begin_message_of(struct fs_decode_ctx *ctx, const struct fs_addr *exporter,
			   uint8_t flow_type, uint32_t domain)
{
	ctx->entry = fs_exporter_stats_get(ctx->decoder->exporters, exporter,
					   ctx->exporter_port, flow_type, domain);
	ctx->message_records = 0;
	ctx->message_records_unknown = false;
	if (ctx->entry)
		ctx->entry->packets++;
	else
		ctx->decoder->stats.exporters_untracked++;
}

void
fs_decode_begin_headerless(struct fs_decode_ctx *ctx, uint8_t flow_type)
{
	if (ctx->entry == NULL)
		fs_decode_begin_message(ctx, flow_type, 0);
}

void
fs_decode_sample_sequence(struct fs_decode_ctx *ctx, const struct fs_addr *agent,
			  enum fs_sflow_sample_kind kind, uint8_t source_type,
			  uint32_t source_index, uint32_t sequence)
{
	if (ctx->entry)
		fs_exporter_stats_sample(ctx->decoder->exporters, ctx->entry, agent, kind,
					 source_type, source_index, sequence);
}

void
fs_decode_emit(struct fs_decode_ctx *ctx, const struct fs_flow *flow)
{
	ctx->decoder->stats.flows++;
	if (ctx->entry)
		ctx->entry->records++;
	if (ctx->sink)
		ctx->sink(flow, ctx->opaque);
}

void
fs_decode_emit_counters(struct fs_decode_ctx *ctx, const struct fs_counters *counters)
{
	if (ctx->decoder->counters_sink)
		ctx->decoder->counters_sink(counters, ctx->decoder->counters_opaque);
}

const struct fs_decoder_limits *
fs_decode_limits(struct fs_decode_ctx *ctx)
{
	return &ctx->decoder->limits;
}

unsigned
fs_packet_flags_of(const struct fs_decoder_limits *limits)
{
	return limits->decap_srv6 ? FS_PACKET_DECAP_SRV6 : 0;
}

struct fs_template_cache *
fs_decode_templates(struct fs_decode_ctx *ctx)
{
	return ctx->decoder->templates;
}

struct fs_decoder_stats *
fs_decode_stats(struct fs_decode_ctx *ctx)
{
	return &ctx->decoder->stats;
}

static void
log_fault(struct fs_decode_ctx *ctx, enum fault_kind kind, enum fs_log_level level,
	  const char *facility, const char *message)
{
	char addr[FS_ADDR_STRLEN];

	fs_addr_format(ctx->exporter, addr);
	fs_log_limited(&ctx->decoder->ratelimits[kind], level, facility,
		       "exporter %s port %u: %s", addr[0] ? addr : "unknown",
		       ctx->exporter_port, message);
}

void
fs_decode_fault(struct fs_decode_ctx *ctx, int result, const char *facility,
		const char *fmt, ...)
{
	struct fs_decoder_stats *stats = &ctx->decoder->stats;
	enum fault_kind kind;
	enum fs_log_level level = FS_LOG_WARNING;
	char message[256];
	va_list ap;

	switch (result) {
	case FS_ERR_TRUNCATED:
		stats->truncated++;
		kind = FAULT_TRUNCATED;
		if (ctx->entry)
			ctx->entry->malformed[FS_MALFORMED_TRUNCATED]++;
		break;
	case FS_ERR_UNSUPPORTED:
		stats->unsupported++;
		kind = FAULT_UNSUPPORTED;
		level = FS_LOG_NOTICE;
		if (ctx->entry)
			ctx->entry->malformed[FS_MALFORMED_UNSUPPORTED]++;
		break;
	case FS_ERR_NO_TEMPLATE:
		/* Expected until the exporter's next template refresh. */
		stats->no_template++;
		kind = FAULT_NO_TEMPLATE;
		level = FS_LOG_INFO;
		if (ctx->entry)
			ctx->entry->unknown_templates++;
		break;
	default:
		result = FS_ERR_INVALID;
		stats->invalid++;
		kind = FAULT_INVALID;
		if (ctx->entry)
			ctx->entry->malformed[FS_MALFORMED_INVALID]++;
		break;
	}
	if (ctx->result == 0)
		ctx->result = result;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	log_fault(ctx, kind, level, facility, message);
}

void
fs_decode_held_expired(struct fs_decode_ctx *ctx, const char *facility, uint32_t expired)
{
	struct fs_decoder_stats *stats = &ctx->decoder->stats;

	if (expired == 0)
		return;
	stats->no_template_dropped += expired;
	stats->no_template_records += expired;
	fs_log_limited(&ctx->decoder->ratelimits[FAULT_NO_TEMPLATE], FS_LOG_NOTICE, facility,
		       "dropped %u held data sets whose template did not come within "
		       "decode.held.age.max (%u s)", expired, ctx->decoder->limits.max_pending_age_s);
}

void
fs_decode_reject_template(struct fs_decode_ctx *ctx, const char *facility,
			  uint32_t domain, uint16_t template_id, const char *reason)
{
	char message[256];

	ctx->decoder->stats.templates_rejected++;
	if (ctx->entry)
		ctx->entry->malformed[FS_MALFORMED_TEMPLATE_REJECTED]++;
	if (ctx->result == 0)
		ctx->result = FS_ERR_INVALID;
	snprintf(message, sizeof(message), "domain %u: template %u rejected: %s",
		 domain, template_id, reason);
	log_fault(ctx, FAULT_TEMPLATE_REJECTED, FS_LOG_WARNING, facility, message);
}

void
fs_decode_templates_evicted(struct fs_decode_ctx *ctx, const struct fs_template_key *key,
			    uint64_t evicted_exporter, uint64_t evicted_total)
{
	const struct fs_decoder_limits *l = &ctx->decoder->limits;
	char message[256];

	if (evicted_exporter)
		snprintf(message, sizeof(message),
			 "domain %u: template %u learned; %llu older templates of this exporter evicted to stay within max_templates_per_exporter (%u)",
			 key->domain, key->template_id, (unsigned long long)evicted_exporter,
			 l->max_templates_per_exporter);
	else
		snprintf(message, sizeof(message),
			 "domain %u: template %u learned; %llu templates of any exporter evicted to stay within max_templates (%u) or max_template_bytes (%u)",
			 key->domain, key->template_id, (unsigned long long)evicted_total,
			 l->max_templates, l->max_template_bytes);
	log_fault(ctx, FAULT_TEMPLATE_EVICTED, FS_LOG_WARNING,
		  key->flow_type == FS_FLOW_IPFIX ? "ipfix" : "netflow_v9", message);
}

void
fs_decode_warn(struct fs_decode_ctx *ctx, int reason, const char *facility,
	       const char *fmt, ...)
{
	char message[256];
	va_list ap;

	if (reason == FS_MALFORMED_LENGTH_MISMATCH)
		ctx->decoder->stats.length_mismatch++;
	else if (reason == FS_MALFORMED_SAMPLING)
		ctx->decoder->stats.sampling_invalid++;
	else if (reason == FS_MALFORMED_COUNTER)
		ctx->decoder->stats.counters_clamped++;
	if (ctx->entry && reason >= 0 && reason < FS_MALFORMED_REASON_COUNT)
		ctx->entry->malformed[reason]++;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	log_fault(ctx, FAULT_WARNING, FS_LOG_NOTICE, facility, message);
}

void
fs_decode_note(struct fs_decode_ctx *ctx, const char *facility, const char *fmt, ...)
{
	char message[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	log_fault(ctx, FAULT_RECORD_DROPPED, FS_LOG_WARNING, facility, message);
}

/* sFlow v5 starts with u32 version 5 and u32 agent address type 1 or 2. */
static bool
looks_like_sflow_v5(const uint8_t *data, size_t len)
{
	struct fs_cursor cur;
	uint32_t version, addr_type;

	fs_cursor_init(&cur, data, len);
	version = fs_cursor_get_u32(&cur);
	addr_type = fs_cursor_get_u32(&cur);
	return fs_cursor_ok(&cur) && version == 5 && (addr_type == 1 || addr_type == 2);
}

static int
dispatch(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len)
{
	struct fs_decoder_stats *stats = &ctx->decoder->stats;
	uint16_t version;

	if (len < 4) {
		fs_decode_fault(ctx, FS_ERR_INVALID, "decode",
				"datagram of %zu bytes is too short for any export header",
				len);
		return ctx->result;
	}
	version = (uint16_t)(data[0] << 8 | data[1]);
	switch (version) {
	case 5:
		stats->datagrams_by_type[FS_FLOW_NETFLOW_V5]++;
		return fs_netflow_v5_decode(ctx, data, len);
	case 9:
		stats->datagrams_by_type[FS_FLOW_NETFLOW_V9]++;
		return fs_netflow_v9_decode(ctx, data, len);
	case 10:
		stats->datagrams_by_type[FS_FLOW_IPFIX]++;
		return fs_ipfix_decode(ctx, data, len);
	case 1:
	case 7:
		stats->datagrams_by_type[FS_FLOW_NETFLOW_V5]++;
		return fs_netflow_v5_decode(ctx, data, len);
	default:
		break;
	}
	if (looks_like_sflow_v5(data, len)) {
		stats->datagrams_by_type[FS_FLOW_SFLOW_V5]++;
		return fs_sflow_decode(ctx, data, len);
	}
	fs_decode_fault(ctx, FS_ERR_INVALID, "decode",
			"unknown export version %u in the first 2 bytes; datagram dropped",
			version);
	return ctx->result;
}

int
fs_decoder_learn_template(struct fs_decoder *decoder, const struct fs_template_key *key,
			  const struct fs_template_spec *spec, fs_flow_sink_fn *sink, void *opaque,
			  char *reason, size_t reason_len)
{
	struct fs_decode_ctx ctx = {
		.decoder = decoder,
		.exporter = &key->exporter,
		.exporter_port = key->exporter_port,
		.time_received_ns = decoder->last_received_ns,
		.sink = sink,
		.opaque = opaque,
	};
	int rc = fs_template_cache_learn(decoder->templates, key, spec, reason, reason_len);

	if (rc >= 0 && fs_template_cache_pending_count(decoder->templates) > 0) {
		ctx.entry = fs_exporter_stats_get(decoder->exporters, &key->exporter,
						  key->exporter_port, key->flow_type, key->domain);
		fs_template_decode_held(&ctx, key);
	}
	update_cache_stats(decoder);
	return rc;
}

int
fs_decoder_decode(struct fs_decoder *decoder, const uint8_t *data, size_t len,
		  const struct fs_addr *exporter, uint16_t exporter_port,
		  int64_t time_received_ns, fs_flow_sink_fn *sink, void *opaque)
{
	static const struct fs_addr unknown_exporter;
	struct fs_decode_ctx ctx = {
		.decoder = decoder,
		.exporter = exporter ? exporter : &unknown_exporter,
		.exporter_port = exporter_port,
		.time_received_ns = time_received_ns,
		.sink = sink,
		.opaque = opaque,
	};
	int rc;

	decoder->stats.datagrams++;
	decoder->last_received_ns = time_received_ns;
	if (!data)
		len = 0;
	rc = dispatch(&ctx, data, len);
	update_cache_stats(decoder);
	/* The protocol decoders return ctx.result; prefer it so the first fault wins. */
	return ctx.result ? ctx.result : rc;
}
