/*
 * ipfix.c - IPFIX decoder (RFC 7011).
 *
 * Message header (16 bytes):
 *
 *   +-------------------------------+-------------------------------+
 *   |         version = 10          |     length (header included)  |
 *   +-------------------------------+-------------------------------+
 *   |                   export time (Unix seconds)                  |
 *   |                   sequence number                             |
 *   |                   observation domain id                       |
 *   +---------------------------------------------------------------+
 *
 * Set:  set id (2) | length (2, header included) | body.
 *
 * Template record:          template id (2) | field count (2) | fields
 * Options template record:  template id (2) | field count (2) |
 *                           scope field count (2) | fields
 * Field specifier:          E | element id (15 bits) | length (2) |
 *                           [enterprise number (4) when E is set]
 */
#include "decode/ipfix.h"

#include "core/result.h"
#include "decode/cursor.h"
#include "decode/netflow_v9.h"
#include "decode/template_cache.h"

#define FACILITY "ipfix"

#define IPFIX_VERSION 10
#define IPFIX_SET_TEMPLATE 2
#define IPFIX_SET_OPTIONS_TEMPLATE 3
#define IPFIX_FIRST_DATA_SET 256
#define IPFIX_ENTERPRISE_BIT 0x8000

/*
 * Measures the field specifiers of one template record without storing them.
 * Returns their byte length, or -1 when the set ends first.
 */
static ptrdiff_t
measure_fields(const struct fs_cursor *set, uint16_t field_count)
{
	struct fs_cursor cur = *set;

	for (uint16_t i = 0; i < field_count; i++) {
		uint16_t id = fs_cursor_get_u16(&cur);

		fs_cursor_skip(&cur, 2); /* length */
		if (id & IPFIX_ENTERPRISE_BIT)
			fs_cursor_skip(&cur, 4);
	}
	if (!fs_cursor_ok(&cur))
		return -1;
	return cur.p - set->p;
}

static void
withdraw(struct fs_decode_ctx *ctx, const struct fs_template_key *key, bool options)
{
	struct fs_template_cache *cache = fs_decode_templates(ctx);
	uint16_t all_id = options ? IPFIX_SET_OPTIONS_TEMPLATE : IPFIX_SET_TEMPLATE;

	/* RFC 7011 section 8.1: the set id as template id withdraws every template of the set's kind. */
	if (key->template_id == all_id)
		fs_template_cache_withdraw_all(cache, key, options);
	else
		(void)fs_template_cache_withdraw(cache, key);
}

/* Learns or withdraws the template records of one (options) template set body. */
static void
template_set(struct fs_decode_ctx *ctx, uint32_t domain, bool options,
	     struct fs_cursor *set)
{
	while (fs_cursor_remaining(set) >= 4) {
		struct fs_template_spec spec = { .options = options, .enterprise_bit = true };
		struct fs_template_key key;
		uint16_t template_id = fs_cursor_get_u16(set);
		ptrdiff_t wire_len;

		spec.field_count = fs_cursor_get_u16(set);
		fs_template_key_init(&key, ctx, FS_FLOW_IPFIX, domain, template_id);
		if (spec.field_count == 0) {
			if (template_id == 0)
				return; /* padding */
			withdraw(ctx, &key, options);
			continue;
		}
		if (options)
			spec.scope_count = fs_cursor_get_u16(set);
		wire_len = measure_fields(set, spec.field_count);
		if (!fs_cursor_ok(set) || wire_len < 0) {
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
					"domain %u: template %u declares %u fields but its set ends first",
					domain, template_id, spec.field_count);
			return;
		}
		spec.wire = fs_cursor_get_bytes(set, (size_t)wire_len);
		spec.wire_len = (size_t)wire_len;

		if (template_id < IPFIX_FIRST_DATA_SET) {
			fs_decode_reject_template(ctx, FACILITY, domain, template_id,
						  "template ids below 256 are reserved");
			continue;
		}
		if (options && spec.scope_count == 0) {
			fs_decode_reject_template(ctx, FACILITY, domain, template_id,
						  "options template has a scope field count of 0");
			continue;
		}
		fs_template_learn(ctx, FACILITY, &key, &spec);
	}
}

/*
 * Decodes one set whose header has been read, with its body in set.  A set
 * that runs past the message length (at msg_end) but ends inside the
 * datagram is decoded, and counted as a length mismatch.
 */
static void
decode_set(struct fs_decode_ctx *ctx, const struct fs_data_set_header *hdr,
	   uint16_t set_id, struct fs_cursor *set, const uint8_t *msg_end)
{
	if (set->end > msg_end)
		fs_decode_warn(ctx, FS_MALFORMED_LENGTH_MISMATCH, FACILITY,
			       "domain %u: set %u ends %zu bytes past the message length; decoded because the datagram contains it",
			       hdr->domain, set_id, (size_t)(set->end - msg_end));

	if (set_id == IPFIX_SET_TEMPLATE)
		template_set(ctx, hdr->domain, false, set);
	else if (set_id == IPFIX_SET_OPTIONS_TEMPLATE)
		template_set(ctx, hdr->domain, true, set);
	else if (set_id >= IPFIX_FIRST_DATA_SET)
		fs_data_set_decode(ctx, hdr, set_id, set);
	else
		fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
				"domain %u: reserved set id %u skipped",
				hdr->domain, set_id);
}

/*
 * Decodes the sets of one message body.  body may extend past msg_end into
 * bytes that follow the message in the datagram without being a message of
 * their own; only a set that starts before msg_end may use them.  When cut
 * is set, the message was already counted truncated, so a set cut short by
 * the same cause is not counted again.
 */
static void
decode_sets(struct fs_decode_ctx *ctx, const struct fs_data_set_header *hdr,
	    struct fs_cursor *body, const uint8_t *msg_end, bool cut)
{
	while (body->p < msg_end) {
		struct fs_cursor in_message = { body->p, msg_end, 0 };
		uint16_t set_id, set_len;
		struct fs_cursor set;

		/* Zero-filled tails are padding, not a set of length 0. */
		if (fs_data_rest_is_zero(&in_message))
			return;
		set_id = fs_cursor_get_u16(body);
		set_len = fs_cursor_get_u16(body);
		if (!fs_cursor_ok(body) || body->p > msg_end) {
			if (!cut)
				fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
						"domain %u: message ends inside a set header",
						hdr->domain);
			return;
		}
		if (set_len < 4) {
			fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
					"domain %u: set %u has length %u, shorter than its header; rest of message dropped",
					hdr->domain, set_id, set_len);
			return;
		}
		set = fs_cursor_child(body, set_len - 4u);
		if (!fs_cursor_ok(&set)) {
			if (!cut)
				fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
						"domain %u: set %u declares %u bytes but the message ends first",
						hdr->domain, set_id, set_len);
			return;
		}
		decode_set(ctx, hdr, set_id, &set, msg_end);
	}
}

/* Returns true when cur starts with what can be an IPFIX message header. */
static bool
looks_like_message(const struct fs_cursor *cur)
{
	struct fs_cursor peek = *cur;
	uint16_t version = fs_cursor_get_u16(&peek);
	uint16_t length = fs_cursor_get_u16(&peek);

	return fs_cursor_ok(&peek) && version == IPFIX_VERSION &&
	       length >= FS_IPFIX_HEADER_LEN;
}

/*
 * Decodes the message at the start of cur and moves cur past it.  Returns
 * false when the rest of the datagram cannot be split into messages.
 *
 * A message length shorter than the datagram normally leaves room for the
 * next message.  When the bytes after the message are not a message, a set
 * that starts inside the message may end in them: some exporters write a
 * message length short by a few bytes while sending the whole set, so the
 * set is decoded and counted as a length mismatch.
 */
static bool
decode_message(struct fs_decode_ctx *ctx, struct fs_cursor *cur)
{
	struct fs_data_set_header hdr = { .flow_type = FS_FLOW_IPFIX };
	size_t available = fs_cursor_remaining(cur);
	uint16_t version, msg_len;
	uint32_t export_secs;
	struct fs_cursor body, after;
	const uint8_t *msg_end;
	bool cut = false, tail = false;

	version = fs_cursor_get_u16(cur);
	msg_len = fs_cursor_get_u16(cur);
	export_secs = fs_cursor_get_u32(cur);
	hdr.sequence = fs_cursor_get_u32(cur);
	hdr.domain = fs_cursor_get_u32(cur);
	if (!fs_cursor_ok(cur)) {
		fs_decode_begin_headerless(ctx, FS_FLOW_IPFIX);
		fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
				"%zu bytes are too short for a %d-byte message header",
				available, FS_IPFIX_HEADER_LEN);
		return false;
	}
	if (version != IPFIX_VERSION) {
		fs_decode_begin_headerless(ctx, FS_FLOW_IPFIX);
		fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
				"version %u where the next message should start; rest of datagram dropped",
				version);
		return false;
	}
	fs_decode_begin_message(ctx, FS_FLOW_IPFIX, hdr.domain);
	if (msg_len < FS_IPFIX_HEADER_LEN) {
		fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
				"domain %u: message length %u is shorter than the header; rest of datagram dropped",
				hdr.domain, msg_len);
		return false;
	}
	if (msg_len > available) {
		fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
				"domain %u: message length %u but only %zu bytes received; decoding the whole sets present",
				hdr.domain, msg_len, available);
		cut = true;
		body = fs_cursor_child(cur, fs_cursor_remaining(cur));
		msg_end = body.end;
	} else {
		size_t body_len = msg_len - (size_t)FS_IPFIX_HEADER_LEN;

		after = *cur;
		fs_cursor_skip(&after, body_len);
		if (fs_cursor_remaining(&after) > 0 && !looks_like_message(&after)) {
			/* The tail is no message: let the last set use it. */
			tail = true;
			body = fs_cursor_child(cur, fs_cursor_remaining(cur));
		} else {
			body = fs_cursor_child(cur, body_len);
		}
		msg_end = body.p + body_len;
	}

	hdr.clock.export_ns = (int64_t)export_secs * 1000000000;
	hdr.clock.has_uptime = false;
	decode_sets(ctx, &hdr, &body, msg_end, cut);
	/* A walk that stopped inside the message has counted its fault already. */
	if (tail && body.p >= msg_end && !fs_data_rest_is_zero(&body))
		fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
				"domain %u: %zu bytes after the message are not an IPFIX message; dropped",
				hdr.domain, fs_cursor_remaining(&body));
	/* IPFIX sequence numbers count data records, options records included. */
	if (ctx->entry)
		fs_exporter_stats_sequence(ctx->entry, hdr.sequence, ctx->message_records,
					   !ctx->message_records_unknown && !cut);
	return !cut && !tail;
}

int
fs_ipfix_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len)
{
	struct fs_cursor cur;

	fs_cursor_init(&cur, data, len);
	while (fs_cursor_remaining(&cur) > 0) {
		if (!decode_message(ctx, &cur))
			break;
	}
	return ctx->result;
}
