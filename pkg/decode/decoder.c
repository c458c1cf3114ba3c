/*
 * decoder.c - protocol detection, counters and fault reporting.
 *
 * The first bytes of a datagram select the decoder:
 *
 *   u16 version = 5   NetFlow v5        -> netflow_v5.c
 *   u16 version = 9   NetFlow v9        -> netflow_v9.c
 *   u16 version = 10  IPFIX             -> ipfix.c
 *   u16 version = 1/7 NetFlow v1/v7     -> counted unsupported
 *   u32 version = 5 and u32 agent address type 1 (IPv4) or 2 (IPv6)
 *                     sFlow v5          -> counted unsupported
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
	FAULT_KIND_COUNT
};

struct fs_decoder {
	struct fs_decoder_limits limits;
	struct fs_decoder_stats stats;
	struct fs_template_cache *templates;
	struct fs_ratelimit ratelimits[FAULT_KIND_COUNT];
};

struct fs_decoder *
fs_decoder_new(const struct fs_decoder_limits *limits)
{
	struct fs_decoder *decoder = calloc(1, sizeof(*decoder));

	if (!decoder)
		return NULL;
	decoder->limits.max_templates = FS_DECODER_DEFAULT_MAX_TEMPLATES;
	decoder->limits.max_template_fields = FS_DECODER_DEFAULT_MAX_TEMPLATE_FIELDS;
	if (limits) {
		if (limits->max_templates)
			decoder->limits.max_templates = limits->max_templates;
		if (limits->max_template_fields)
			decoder->limits.max_template_fields = limits->max_template_fields;
	}
	decoder->templates = fs_template_cache_new(decoder->limits.max_templates,
						   decoder->limits.max_template_fields);
	if (!decoder->templates) {
		free(decoder);
		return NULL;
	}
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
	free(decoder);
}

const struct fs_decoder_stats *
fs_decoder_stats(const struct fs_decoder *decoder)
{
	return &decoder->stats;
}

void
fs_decode_emit(struct fs_decode_ctx *ctx, const struct fs_flow *flow)
{
	ctx->decoder->stats.flows++;
	if (ctx->sink)
		ctx->sink(flow, ctx->opaque);
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
		break;
	case FS_ERR_UNSUPPORTED:
		stats->unsupported++;
		kind = FAULT_UNSUPPORTED;
		level = FS_LOG_NOTICE;
		break;
	case FS_ERR_NO_TEMPLATE:
		/* Expected until the exporter's next template refresh. */
		stats->no_template++;
		kind = FAULT_NO_TEMPLATE;
		level = FS_LOG_INFO;
		break;
	default:
		result = FS_ERR_INVALID;
		stats->invalid++;
		kind = FAULT_INVALID;
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
fs_decode_reject_template(struct fs_decode_ctx *ctx, const char *facility,
			  uint32_t domain, uint16_t template_id, const char *reason)
{
	char message[256];

	ctx->decoder->stats.templates_rejected++;
	if (ctx->result == 0)
		ctx->result = FS_ERR_INVALID;
	snprintf(message, sizeof(message), "domain %u: template %u rejected: %s",
		 domain, template_id, reason);
	log_fault(ctx, FAULT_TEMPLATE_REJECTED, FS_LOG_WARNING, facility, message);
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
		fs_decode_fault(ctx, FS_ERR_UNSUPPORTED, "decode",
				"NetFlow v%u is not decoded; datagram dropped", version);
		return ctx->result;
	default:
		break;
	}
	if (looks_like_sflow_v5(data, len)) {
		stats->datagrams_by_type[FS_FLOW_SFLOW_V5]++;
		fs_decode_fault(ctx, FS_ERR_UNSUPPORTED, "decode",
				"sFlow v5 is not decoded yet; datagram dropped");
		return ctx->result;
	}
	fs_decode_fault(ctx, FS_ERR_INVALID, "decode",
			"unknown export version %u in the first 2 bytes; datagram dropped",
			version);
	return ctx->result;
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
	if (!data)
		len = 0;
	rc = dispatch(&ctx, data, len);
	decoder->stats.templates_active = fs_template_cache_count(decoder->templates);
	/* The protocol decoders return ctx.result; prefer it so the first fault wins. */
	return ctx.result ? ctx.result : rc;
}
