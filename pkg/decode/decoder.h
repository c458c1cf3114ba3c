/*
 * decoder.h - turns export datagrams (NetFlow v5, v9, IPFIX) into flow records.
 *
 * One struct fs_decoder holds the state that outlives a datagram: the template
 * cache and the counters.  The protocol of each datagram is detected from its
 * header, never from the port it arrived on.  Decoded records are handed one
 * at a time to a caller-supplied sink; the decoder never prints, encodes or
 * sends, and does not allocate per datagram or per record.
 *
 * Options data records only update decoder state; they reach no sink.
 *
 * Thread safety: a decoder is used by one thread at a time.
 */
#ifndef FS_DECODE_DECODER_H
#define FS_DECODE_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Receives one decoded record; flow is borrowed for the duration of the call. */
typedef void fs_flow_sink_fn(const struct fs_flow *flow, void *opaque);

/* Counters kept by a decoder; every dropped record or datagram lands in one. */
struct fs_decoder_stats {
	uint64_t datagrams;           /* datagrams passed to fs_decoder_decode() */
	uint64_t datagrams_by_type[FS_FLOW_TYPE_COUNT];
	uint64_t flows;               /* records handed to the sink */
	uint64_t unsupported;         /* datagrams of a protocol not decoded (sFlow, unknown) */
	uint64_t truncated;           /* datagrams or sets cut short */
	uint64_t invalid;             /* datagrams or sets that contradict their format */
	uint64_t no_template;         /* data sets whose template was not known */
	uint64_t no_template_records; /* estimate of records lost in those sets */
	uint64_t templates_added;     /* templates learned, replaced ones included */
	uint64_t templates_rejected;  /* templates refused (bad length, too many fields) */
	uint64_t templates_active;    /* templates in the cache now */
	uint64_t options_records;     /* options data records consumed */
};

/* Limits on what hostile input can make the decoder hold. */
struct fs_decoder_limits {
	uint32_t max_templates;       /* total across exporters; oldest evicted */
	uint32_t max_template_fields; /* per template */
};

#define FS_DECODER_DEFAULT_MAX_TEMPLATES 65536
#define FS_DECODER_DEFAULT_MAX_TEMPLATE_FIELDS 512

struct fs_decoder;

/*
 * Creates a decoder.  limits may be NULL for the defaults.  Returns NULL when
 * memory runs out.  The caller frees it with fs_decoder_free().
 */
struct fs_decoder *fs_decoder_new(const struct fs_decoder_limits *limits);

void fs_decoder_free(struct fs_decoder *decoder);

/*
 * Decodes one datagram of len bytes from exporter:port received at
 * time_received_ns (Unix ns), calling sink once per flow record.  Records
 * decoded before a fault in the same datagram are kept.
 *
 * Returns 0 when the whole datagram was understood, or the first fault met:
 * FS_ERR_TRUNCATED, FS_ERR_INVALID, FS_ERR_UNSUPPORTED (protocol not decoded)
 * or FS_ERR_NO_TEMPLATE.  Every fault is also counted in the stats and logged
 * with a rate limit.
 */
int fs_decoder_decode(struct fs_decoder *decoder, const uint8_t *data,
		      size_t len, const struct fs_addr *exporter,
		      uint16_t exporter_port, int64_t time_received_ns,
		      fs_flow_sink_fn *sink, void *opaque);

/* Returns the decoder's counters; the pointer stays valid until free. */
const struct fs_decoder_stats *fs_decoder_stats(const struct fs_decoder *decoder);

/*
 * Internal to pkg/decode: the per-datagram state that decoder.c hands to the
 * protocol decoders (netflow_v5.c, netflow_v9.c, ipfix.c).  Callers outside
 * pkg/decode use fs_decoder_decode() instead.
 */
struct fs_template_cache;

struct fs_decode_ctx {
	struct fs_decoder *decoder;
	const struct fs_addr *exporter; /* borrowed */
	uint16_t exporter_port;
	int64_t time_received_ns;
	fs_flow_sink_fn *sink;          /* may be NULL: records are only counted */
	void *opaque;
	int result;                     /* first fault met, or 0 */
};

/* Counts flow and hands it to the sink. */
void fs_decode_emit(struct fs_decode_ctx *ctx, const struct fs_flow *flow);

/*
 * Records a fault: counts it under result (FS_ERR_TRUNCATED, FS_ERR_INVALID,
 * FS_ERR_UNSUPPORTED or FS_ERR_NO_TEMPLATE), keeps it as the datagram's result
 * when it is the first, and logs the message with the exporter prepended,
 * rate-limited per kind of fault.
 */
void fs_decode_fault(struct fs_decode_ctx *ctx, int result, const char *facility,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Counts and logs a rejected template; the datagram's result becomes FS_ERR_INVALID. */
void fs_decode_reject_template(struct fs_decode_ctx *ctx, const char *facility,
			       uint32_t domain, uint16_t template_id,
			       const char *reason);

struct fs_template_cache *fs_decode_templates(struct fs_decode_ctx *ctx);

struct fs_decoder_stats *fs_decode_stats(struct fs_decode_ctx *ctx);

#endif
