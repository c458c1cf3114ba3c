/*
 * decoder.h - turns export datagrams (NetFlow v5, v9, IPFIX, sFlow v5) into
 * flow records and sFlow counter samples.
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

#include "core/counters.h"
#include "core/flow.h"
#include "decode/exporter_stats.h"
#include "decode/template_cache.h"

/* Receives one decoded record; flow is borrowed for the duration of the call. */
typedef void fs_flow_sink_fn(const struct fs_flow *flow, void *opaque);

/* Receives one sFlow counter sample; counters is borrowed for the duration of the call. */
typedef void fs_counters_sink_fn(const struct fs_counters *counters, void *opaque);

/* Counters kept by a decoder; every dropped record or datagram lands in one. */
struct fs_decoder_stats {
	uint64_t datagrams;           /* datagrams passed to fs_decoder_decode() */
	uint64_t datagrams_by_type[FS_FLOW_TYPE_COUNT];
	uint64_t flows;               /* records handed to the sink */
	uint64_t unsupported;         /* datagrams or sets of a kind not decoded */
	uint64_t truncated;           /* datagrams or sets cut short */
	uint64_t invalid;             /* datagrams or sets that contradict their format */
	uint64_t no_template;         /* data sets whose template was not known */
	uint64_t no_template_records; /* estimate of records lost in those sets */
	uint64_t templates_added;     /* templates learned, replaced ones included */
	uint64_t templates_rejected;  /* templates refused (bad length, too many fields, reserved id) */
	uint64_t templates_evicted;   /* templates dropped to stay within a template limit */
	uint64_t templates_active;    /* templates in the cache now */
	uint64_t template_bytes;      /* memory the cached templates take now */
	uint64_t options_evicted;     /* sampling rates or boot times dropped for max_options_entries */
	uint64_t options_records;     /* options data records consumed */
	uint64_t reverse_flows;       /* reverse flows emitted from biflow or NSEL responder counters */
	uint64_t sampling_invalid;    /* sampling rates of 0 or absurd size, not applied */
	uint64_t counters_clamped;    /* data sets with a byte or packet count over FS_COUNT_MAX, clamped */
	uint64_t length_mismatch;     /* messages whose header length disagrees with their sets, decoded anyway */
	uint64_t no_template_held;    /* data sets held until their template arrives */
	uint64_t no_template_decoded; /* held data sets decoded once their template arrived */
	uint64_t no_template_dropped; /* held data sets dropped to stay within the limits, the age limit included */
	uint64_t exporters_untracked; /* datagrams from exporters beyond max_exporters */
	uint64_t sflow_flow_samples;  /* sFlow flow samples decoded, expanded ones included */
	uint64_t sflow_counter_samples; /* sFlow counter samples decoded, expanded ones included */
	uint64_t sflow_unknown_samples; /* sFlow samples of a format not decoded, skipped */
	uint64_t sflow_unknown_records; /* sFlow flow or counter records of a format not decoded */
	uint64_t sflow_records_dropped; /* sFlow records malformed or over the per-sample limit */
	uint64_t empty_records; /* NetFlow v9 and IPFIX data records that set no flow field (only unknown elements or empty values), not emitted */
	uint64_t sflow_flows_dropped; /* sFlow flow samples not emitted: a record was malformed and no raw header, Ethernet, IPv4 or IPv6 record was decoded */
	uint64_t enterprise_elements_dropped; /* enterprise elements not kept: over max_enterprise_elements or FS_FLOW_ENTERPRISE_BYTES */
};

/* Limits on what hostile input can make the decoder hold. */
struct fs_decoder_limits {
	uint32_t max_templates;       /* total across exporters; oldest evicted */
	uint32_t max_templates_per_exporter; /* per exporter address over all ports and domains; its oldest evicted */
	uint32_t max_template_bytes;  /* memory of all templates; oldest evicted */
	uint32_t max_template_fields; /* per template */
	uint32_t max_options_entries; /* sampling rates and boot times from options data; oldest evicted */
	uint32_t max_sflow_samples;   /* sFlow samples decoded per datagram */
	uint32_t max_sflow_records;   /* sFlow records decoded per sample */
	uint32_t max_header_bytes;    /* bytes of a sampled packet header parsed */
	uint32_t max_exporters;       /* exporter and domain pairs with their own counters */
	uint32_t max_sflow_sources;   /* sFlow data sources and sample kinds with their own sequence check */
	uint32_t max_pending_sets;    /* data sets held for a template, in total */
	uint32_t max_pending_bytes;   /* bytes of those sets, in total */
	uint32_t max_pending_sets_per_exporter;
	uint32_t max_pending_bytes_per_exporter;
	uint32_t max_pending_age_s;   /* seconds a data set stays held after its datagram arrived */
	/*
	 * Enterprise elements kept per flow, at most
	 * FS_FLOW_MAX_ENTERPRISE_ELEMENTS; FS_DECODER_NO_ENTERPRISE_ELEMENTS
	 * keeps none.
	 */
	uint32_t max_enterprise_elements;
	/*
	 * Parse the inner packet of a sampled IPv6 packet whose next header is
	 * IPv4 or IPv6 (SRv6 encapsulation without a segment routing header).
	 * Off, only a packet with a segment routing header is decapsulated.
	 */
	bool decap_srv6;
};

/* Value of max_enterprise_elements that keeps no enterprise element (0 means the default). */
#define FS_DECODER_NO_ENTERPRISE_ELEMENTS UINT32_MAX

#define FS_DECODER_DEFAULT_MAX_TEMPLATES 65536
#define FS_DECODER_DEFAULT_MAX_TEMPLATES_PER_EXPORTER FS_TEMPLATE_DEFAULT_MAX_PER_EXPORTER
#define FS_DECODER_DEFAULT_MAX_TEMPLATE_BYTES FS_TEMPLATE_DEFAULT_MAX_BYTES
#define FS_DECODER_DEFAULT_MAX_OPTIONS_ENTRIES FS_TEMPLATE_DEFAULT_MAX_OPTIONS_ENTRIES
#define FS_DECODER_DEFAULT_MAX_TEMPLATE_FIELDS 512
/* A 1500-byte datagram contains at most 1500 / 8 = 187 empty samples or records. */
#define FS_DECODER_DEFAULT_MAX_SFLOW_SAMPLES 256
#define FS_DECODER_DEFAULT_MAX_SFLOW_RECORDS 256
#define FS_DECODER_DEFAULT_MAX_HEADER_BYTES 512
#define FS_DECODER_DEFAULT_MAX_EXPORTERS 4096
/* Enough for a template refresh interval of a few busy exporters; 1 MiB in all. */
#define FS_DECODER_DEFAULT_MAX_PENDING_SETS 1024
#define FS_DECODER_DEFAULT_MAX_PENDING_BYTES (1024u * 1024u)
#define FS_DECODER_DEFAULT_MAX_PENDING_SETS_PER_EXPORTER 64
#define FS_DECODER_DEFAULT_MAX_PENDING_BYTES_PER_EXPORTER (128u * 1024u)
#define FS_DECODER_DEFAULT_MAX_PENDING_AGE_S 1800

struct fs_decoder;

/*
 * Creates a decoder.  limits may be NULL for the defaults.  Returns NULL when
 * memory runs out.  The caller frees it with fs_decoder_free().
 */
struct fs_decoder *fs_decoder_new(const struct fs_decoder_limits *limits);

void fs_decoder_free(struct fs_decoder *decoder);

/*
 * Installs sink to receive every sFlow counter sample, with opaque passed
 * back; NULL sink (the default) only counts them.  Flow records still go
 * to the sink given to fs_decoder_decode().
 */
void fs_decoder_set_counters_sink(struct fs_decoder *decoder,
				  fs_counters_sink_fn *sink, void *opaque);

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
 * Returns the per-exporter counters and loss accounting (exporter_stats.h);
 * the pointer stays valid until free.
 */
const struct fs_exporter_stats *fs_decoder_exporter_stats(const struct fs_decoder *decoder);

/*
 * Removes every template learned from exporter:port under flow_type, as when
 * an IPFIX TCP connection closes (the templates belong to the session).
 */
void fs_decoder_end_session(struct fs_decoder *decoder, const struct fs_addr *exporter,
			    uint16_t exporter_port, uint8_t flow_type);

/*
 * Returns the decoder's template cache, for callers that share templates
 * between decoders (fs_template_cache_set_observer(), learn, withdraw).
 * Same thread rules as the decoder.
 */
struct fs_template_cache *fs_decoder_templates(struct fs_decoder *decoder);

/*
 * Learns a template that came from elsewhere than its exporter (another
 * ingest replica, through the templates topic) and decodes the data sets
 * held for it, calling sink once per flow record.  Flows of a held set carry
 * the exporter address and port of key, and the receive time, sequence
 * number and export clock of the message that carried the set.  Returns
 * fs_template_cache_learn()'s result, with the reason of a rejection in
 * reason.  Same thread rules as the decoder.
 */
int fs_decoder_learn_template(struct fs_decoder *decoder, const struct fs_template_key *key,
			      const struct fs_template_spec *spec, fs_flow_sink_fn *sink,
			      void *opaque, char *reason, size_t reason_len);

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
	struct fs_exporter_entry *entry; /* counters of the current message; NULL until known or when untracked */
	uint32_t message_records;       /* data records of the current message (sequence unit of IPFIX) */
	bool message_records_unknown;   /* some set of the message could not be counted */
};

/*
 * As fs_decode_begin_message(), with the counters of exporter in place of
 * the datagram's source (the agent address of an sFlow datagram that a
 * relay forwarded).
 */
void fs_decode_begin_message_of(struct fs_decode_ctx *ctx, const struct fs_addr *exporter,
				uint8_t flow_type, uint32_t domain);

/*
 * Selects the counters of exporter and domain for the message that starts
 * now, counts one packet there and resets the message record count.
 */
void fs_decode_begin_message(struct fs_decode_ctx *ctx, uint8_t flow_type,
			     uint32_t domain);

/*
 * Selects the counters for a datagram whose header ends before its domain
 * (v9 source id, IPFIX observation domain, sFlow sub-agent id): those of
 * the exporter's domain 0, so the fault that follows is counted per
 * exporter.  Keeps the counters an earlier message of the same datagram
 * selected.
 */
void fs_decode_begin_headerless(struct fs_decode_ctx *ctx, uint8_t flow_type);

/*
 * Counts a recoverable oddity of the input under reason in the current
 * exporter's counters (FS_MALFORMED_LENGTH_MISMATCH or FS_MALFORMED_SAMPLING)
 * and logs it rate-limited.  The datagram's result is not changed.
 */
void fs_decode_warn(struct fs_decode_ctx *ctx, int reason, const char *facility,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Logs, rate-limited, a record that the decoder did not emit.  Counts
 * nothing and leaves the datagram's result as it is, so the caller counts
 * the record.
 */
void fs_decode_note(struct fs_decode_ctx *ctx, const char *facility, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Returns the fs_packet_parse_flags() flags (enum fs_packet_flag) that limits ask for. */
unsigned fs_packet_flags_of(const struct fs_decoder_limits *limits);

/*
 * Checks the sequence number of an sFlow sample of kind from data source
 * (source_type, source_index) of agent, under the current message's
 * exporter entry (see fs_exporter_stats_sample()).  Does nothing when the
 * exporter is untracked.
 */
void fs_decode_sample_sequence(struct fs_decode_ctx *ctx, const struct fs_addr *agent,
			       enum fs_sflow_sample_kind kind, uint8_t source_type,
			       uint32_t source_index, uint32_t sequence);

/* Counts flow and hands it to the sink. */
void fs_decode_emit(struct fs_decode_ctx *ctx, const struct fs_flow *flow);

/* Hands counters to the counters sink, when one is installed. */
void fs_decode_emit_counters(struct fs_decode_ctx *ctx,
			     const struct fs_counters *counters);

/*
 * Returns the decoder's limits, defaults filled in; max_enterprise_elements
 * there is the number kept per flow (0 keeps none).
 */
const struct fs_decoder_limits *fs_decode_limits(struct fs_decode_ctx *ctx);

/*
 * Records a fault: counts it under result (FS_ERR_TRUNCATED, FS_ERR_INVALID,
 * FS_ERR_UNSUPPORTED or FS_ERR_NO_TEMPLATE), keeps it as the datagram's result
 * when it is the first, and logs the message with the exporter prepended,
 * rate-limited per kind of fault.
 */
void fs_decode_fault(struct fs_decode_ctx *ctx, int result, const char *facility,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Counts and logs, rate-limited, templates the cache evicted to make room for
 * key's template: evicted_exporter by max_templates_per_exporter,
 * evicted_total by max_templates or max_template_bytes.
 */
void fs_decode_templates_evicted(struct fs_decode_ctx *ctx, const struct fs_template_key *key,
				 uint64_t evicted_exporter, uint64_t evicted_total);

/*
 * Counts expired held data sets (which waited longer than
 * max_pending_age_s for their template) as dropped for want of a template,
 * one record each as their record length is unknown, and logs them,
 * rate-limited.  The sets may come from any exporter, so the log line names
 * none.
 */
void fs_decode_held_expired(struct fs_decode_ctx *ctx, const char *facility, uint32_t expired);

/* Counts and logs a rejected template; the datagram's result becomes FS_ERR_INVALID. */
void fs_decode_reject_template(struct fs_decode_ctx *ctx, const char *facility,
			       uint32_t domain, uint16_t template_id,
			       const char *reason);

struct fs_template_cache *fs_decode_templates(struct fs_decode_ctx *ctx);

struct fs_decoder_stats *fs_decode_stats(struct fs_decode_ctx *ctx);

#endif
