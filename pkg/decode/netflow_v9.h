/*
 * netflow_v9.h - NetFlow v9 datagram decoder, and the data set walker that
 * IPFIX shares with it.
 *
 * Reference: RFC 3954.  A datagram is a 20-byte header followed by flowsets:
 * id 0 contains templates, id 1 options templates, ids 256 and up data records
 * laid out by the template of that id.  Templates are learned into the
 * decoder's template cache under (exporter, port, source id, template id).
 *
 * Options data records only update state.  A sampling rate found in them
 * (elements 34, 50, 305/306 or 309/310) becomes the rate of later data
 * records that carry no rate of their own: by sampler id when the options
 * record has one (48 samplerId or 302 selectorId) and the data record names
 * it, else for every record of the same exporter and domain.  An options
 * record's systemInitTimeMilliseconds (160) anchors the IPFIX
 * flowStart/EndSysUpTime elements (22/21) of later records.
 *
 * Data sets that arrive before their template are held (template_cache.h)
 * and decoded when the template is learned, even later in the same datagram.
 *
 * Biflow records (RFC 5103 reverse elements, PEN 29305) and Cisco NSEL
 * records with responder counters (231/232, 298/299) become two flows; the
 * reverse one is omitted when its counters are zero.
 *
 * The header count is not trusted (some exporters count flowsets, some
 * records, some get it wrong); the flowset lengths drive the walk.
 */
#ifndef FS_DECODE_NETFLOW_V9_H
#define FS_DECODE_NETFLOW_V9_H

#include <stddef.h>
#include <stdint.h>

#include "decode/cursor.h"
#include "decode/decoder.h"
#include "decode/fields.h"
#include "decode/template_cache.h"

#define FS_NETFLOW_V9_HEADER_LEN 20

/*
 * Decodes one v9 datagram of len bytes, handing each data record to ctx's
 * sink.  Returns 0 or the first fault (also kept in ctx->result).
 */
int fs_netflow_v9_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len);

/* Returns true when every byte left in cur is zero (zero-filled datagram tails). */
bool fs_data_rest_is_zero(const struct fs_cursor *cur);

/* Message header values that a data set walk needs. */
struct fs_data_set_header {
	uint8_t flow_type;             /* FS_FLOW_NETFLOW_V9 or FS_FLOW_IPFIX */
	uint32_t domain;
	uint32_t sequence;
	struct fs_export_clock clock;
};

/*
 * Decodes the records of one data set body (set header already read) laid out
 * by the cached template set_id.  The rest of the set is padding when it is
 * shorter than the template's smallest record (RFC 7011 section 3.3.1), or
 * fewer than 4 bytes that are all zero.  Data records go to the sink; options
 * records update the sampling state.  An unknown template is counted
 * no_template and the set is held for it while the held-set limits allow;
 * a set that cannot be held counts one record lost, because the real
 * number cannot be known.  A record that runs past the set is counted
 * truncated and ends the walk.
 */
void fs_data_set_decode(struct fs_decode_ctx *ctx, const struct fs_data_set_header *hdr,
			uint16_t set_id, struct fs_cursor *set);

/* Fills key with ctx's exporter and the given protocol, domain and template id. */
void fs_template_key_init(struct fs_template_key *key, const struct fs_decode_ctx *ctx,
			  uint8_t flow_type, uint32_t domain, uint16_t template_id);

/*
 * Learns one template record into the cache and counts the outcome
 * (templates_added, or templates_rejected with a log line), then decodes the
 * data sets held for it.
 */
void fs_template_learn(struct fs_decode_ctx *ctx, const char *facility,
		       const struct fs_template_key *key,
		       const struct fs_template_spec *spec);

/*
 * Decodes the data sets held for key's template, which has just been
 * learned, oldest first.  Their flows go to ctx's sink with the receive
 * time, sequence number and export clock of the message that carried each.
 */
void fs_template_decode_held(struct fs_decode_ctx *ctx, const struct fs_template_key *key);

#endif
