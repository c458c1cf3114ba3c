/*
 * netflow_v9.c - NetFlow v9 decoder (RFC 3954).
 *
 * Header (20 bytes):
 *
 *   +-------------------------------+-------------------------------+
 *   |          version = 9          |             count             |
 *   +-------------------------------+-------------------------------+
 *   |                    sys_uptime (ms since boot)                 |
 *   |                    unix_secs                                  |
 *   |                    sequence                                   |
 *   |                    source id                                  |
 *   +---------------------------------------------------------------+
 *
 * Flowset:  flowset id (2) | length (2, header included) | body, padded to 4.
 *
 * Template record:          template id (2) | field count (2) |
 *                           field count x { type (2) | length (2) }
 * Options template record:  template id (2) | scope length (2, bytes) |
 *                           option length (2, bytes) | scope fields | option fields
 */
#include "decode/netflow_v9.h"

#include "core/result.h"

#define FACILITY "netflow_v9"

#define V9_SET_TEMPLATE 0
#define V9_SET_OPTIONS_TEMPLATE 1
#define V9_FIRST_DATA_SET 256

/* Bytes of one field specifier (type, length). */
#define V9_FIELD_SPEC_LEN 4

void
fs_template_key_init(struct fs_template_key *key, const struct fs_decode_ctx *ctx,
		     uint8_t flow_type, uint32_t domain, uint16_t template_id)
{
	memset(key, 0, sizeof(*key));
	key->exporter = *ctx->exporter;
	key->exporter_port = ctx->exporter_port;
	key->flow_type = flow_type;
	key->domain = domain;
	key->template_id = template_id;
}

void
fs_template_learn(struct fs_decode_ctx *ctx, const char *facility,
		  const struct fs_template_key *key, const struct fs_template_spec *spec)
{
	char reason[160];
	int rc;

	rc = fs_template_cache_learn(fs_decode_templates(ctx), key, spec, reason,
				     sizeof(reason));
	if (rc == FS_TEMPLATE_ADDED)
		fs_decode_stats(ctx)->templates_added++;
	else if (rc < 0)
		fs_decode_reject_template(ctx, facility, key->domain, key->template_id,
					  reason);
}

/*
 * Keeps the sampling rate an options record announced for its exporter.
 * NOTE: the rate is kept per exporter and domain, not per sampler id (IE 48
 * or 302), so an exporter running samplers at different rates gets the last
 * rate announced applied to all its records.
 */
static void
learn_options_record(struct fs_decode_ctx *ctx, const struct fs_template *tpl,
		     const struct fs_flow *flow)
{
	fs_decode_stats(ctx)->options_records++;
	if (fs_flow_has(flow, FS_F_SAMPLING_RATE))
		fs_template_cache_set_sampling(fs_decode_templates(ctx), &tpl->key,
					       flow->sampling_rate);
}

/* Decodes the records of a data set body laid out by tpl. */
static void
decode_records(struct fs_decode_ctx *ctx, const struct fs_data_set_header *hdr,
	       const struct fs_template *tpl, struct fs_cursor *set)
{
	const char *facility = hdr->flow_type == FS_FLOW_IPFIX ? "ipfix" : FACILITY;
	struct fs_field_deferred times;
	struct fs_flow flow;
	uint32_t index = 0;

	/*
	 * min_record_len >= 1 (templates of 0 bytes are rejected), so this ends.
	 * NOTE: padding is told from records only by being shorter than one, so
	 * padding as long as a tiny record (2 or 3 bytes) decodes as a record.
	 */
	while (fs_cursor_remaining(set) >= tpl->min_record_len) {
		uint32_t rate;

		fs_flow_clear(&flow);
		memset(&times, 0, sizeof(times));
		index++;
		if (fs_template_decode_record(tpl, set, &flow, &times) < 0) {
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, facility,
					"domain %u: record %u of template %u runs past the end of its set",
					hdr->domain, index, tpl->key.template_id);
			return;
		}
		fs_field_finish(&times, &hdr->clock, &flow);
		if (tpl->options) {
			learn_options_record(ctx, tpl, &flow);
			continue;
		}

		flow.flow_type = hdr->flow_type;
		flow.exporter_addr = *ctx->exporter;
		flow.exporter_port = ctx->exporter_port;
		flow.time_received_ns = ctx->time_received_ns;
		flow.observation_domain_id = hdr->domain;
		flow.sequence = hdr->sequence;
		flow.present |= FS_F_OBSERVATION_DOMAIN | FS_F_SEQUENCE;
		if (!fs_flow_has(&flow, FS_F_SAMPLING_RATE)) {
			rate = fs_template_cache_sampling(fs_decode_templates(ctx), &tpl->key);
			if (rate > 1) {
				flow.sampling_rate = rate;
				flow.present |= FS_F_SAMPLING_RATE;
			}
		}
		fs_decode_emit(ctx, &flow);
	}
}

/* Learns the template records of one template flowset body. */
static void
template_set(struct fs_decode_ctx *ctx, uint32_t source_id, struct fs_cursor *set)
{
	while (fs_cursor_remaining(set) >= 4) {
		struct fs_template_spec spec = { 0 };
		struct fs_template_key key;
		uint16_t template_id = fs_cursor_get_u16(set);
		struct fs_cursor fields;

		spec.field_count = fs_cursor_get_u16(set);
		if (template_id == 0 && spec.field_count == 0)
			return; /* padding */
		fields = fs_cursor_child(set, (size_t)spec.field_count * V9_FIELD_SPEC_LEN);
		if (!fs_cursor_ok(&fields)) {
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
					"source id %u: template %u declares %u fields but its flowset ends first",
					source_id, template_id, spec.field_count);
			return;
		}
		fs_template_key_init(&key, ctx, FS_FLOW_NETFLOW_V9, source_id, template_id);
		if (template_id < V9_FIRST_DATA_SET) {
			fs_decode_reject_template(ctx, FACILITY, source_id, template_id,
						  "template ids below 256 are reserved");
			continue;
		}
		spec.wire = fields.p;
		spec.wire_len = fs_cursor_remaining(&fields);
		fs_template_learn(ctx, FACILITY, &key, &spec);
	}
}

/* Learns the options template records of one options template flowset body. */
static void
options_template_set(struct fs_decode_ctx *ctx, uint32_t source_id,
		     struct fs_cursor *set)
{
	while (fs_cursor_remaining(set) >= 6) {
		struct fs_template_spec spec = { .options = true };
		struct fs_template_key key;
		uint16_t template_id = fs_cursor_get_u16(set);
		uint16_t scope_len = fs_cursor_get_u16(set);
		uint16_t option_len = fs_cursor_get_u16(set);
		struct fs_cursor fields;

		if (template_id == 0 && scope_len == 0 && option_len == 0)
			return; /* padding */
		if (scope_len % V9_FIELD_SPEC_LEN || option_len % V9_FIELD_SPEC_LEN) {
			fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
					"source id %u: options template %u has scope length %u and option length %u, not multiples of 4",
					source_id, template_id, scope_len, option_len);
			return;
		}
		fields = fs_cursor_child(set, (size_t)scope_len + option_len);
		if (!fs_cursor_ok(&fields)) {
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
					"source id %u: options template %u declares %u bytes of fields but its flowset ends first",
					source_id, template_id, scope_len + option_len);
			return;
		}
		fs_template_key_init(&key, ctx, FS_FLOW_NETFLOW_V9, source_id, template_id);
		if (template_id < V9_FIRST_DATA_SET) {
			fs_decode_reject_template(ctx, FACILITY, source_id, template_id,
						  "template ids below 256 are reserved");
			continue;
		}
		spec.field_count = (uint16_t)((scope_len + option_len) / V9_FIELD_SPEC_LEN);
		spec.scope_count = (uint16_t)(scope_len / V9_FIELD_SPEC_LEN);
		spec.wire = fields.p;
		spec.wire_len = fs_cursor_remaining(&fields);
		fs_template_learn(ctx, FACILITY, &key, &spec);
	}
}

void
fs_data_set_decode(struct fs_decode_ctx *ctx, const struct fs_data_set_header *hdr,
		   uint16_t set_id, struct fs_cursor *set)
{
	struct fs_template_key key;
	const struct fs_template *tpl;

	fs_template_key_init(&key, ctx, hdr->flow_type, hdr->domain, set_id);
	tpl = fs_template_cache_find(fs_decode_templates(ctx), &key);
	if (!tpl) {
		/* The record length is unknown, so count the least possible: one. */
		fs_decode_stats(ctx)->no_template_records++;
		fs_decode_fault(ctx, FS_ERR_NO_TEMPLATE,
				hdr->flow_type == FS_FLOW_IPFIX ? "ipfix" : FACILITY,
				"domain %u: no template %u yet; data set of %zu bytes dropped",
				hdr->domain, set_id, fs_cursor_remaining(set));
		return;
	}
	decode_records(ctx, hdr, tpl, set);
}

int
fs_netflow_v9_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len)
{
	struct fs_data_set_header hdr = { .flow_type = FS_FLOW_NETFLOW_V9 };
	struct fs_cursor cur;
	uint32_t unix_secs;

	fs_cursor_init(&cur, data, len);
	fs_cursor_skip(&cur, 4); /* version, checked by the caller; count, not trusted */
	hdr.clock.sys_uptime_ms = fs_cursor_get_u32(&cur);
	unix_secs = fs_cursor_get_u32(&cur);
	hdr.sequence = fs_cursor_get_u32(&cur);
	hdr.domain = fs_cursor_get_u32(&cur);
	if (!fs_cursor_ok(&cur)) {
		fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
				"datagram of %zu bytes is shorter than the %d-byte header",
				len, FS_NETFLOW_V9_HEADER_LEN);
		return ctx->result;
	}
	hdr.clock.export_ns = (int64_t)unix_secs * 1000000000;
	hdr.clock.has_uptime = true;

	/* Fewer than 4 trailing bytes cannot hold a flowset header: padding. */
	while (fs_cursor_remaining(&cur) >= 4) {
		uint16_t set_id = fs_cursor_get_u16(&cur);
		uint16_t set_len = fs_cursor_get_u16(&cur);
		struct fs_cursor set;

		if (set_len < 4) {
			fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
					"source id %u: flowset %u has length %u, shorter than its header; rest of datagram dropped",
					hdr.domain, set_id, set_len);
			break;
		}
		set = fs_cursor_child(&cur, set_len - 4u);
		if (!fs_cursor_ok(&set)) {
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
					"source id %u: flowset %u declares %u bytes but the datagram ends first",
					hdr.domain, set_id, set_len);
			break;
		}

		if (set_id == V9_SET_TEMPLATE)
			template_set(ctx, hdr.domain, &set);
		else if (set_id == V9_SET_OPTIONS_TEMPLATE)
			options_template_set(ctx, hdr.domain, &set);
		else if (set_id >= V9_FIRST_DATA_SET)
			fs_data_set_decode(ctx, &hdr, set_id, &set);
		else
			fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
					"source id %u: reserved flowset id %u skipped",
					hdr.domain, set_id);
	}
	return ctx->result;
}
