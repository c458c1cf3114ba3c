/*
 * netflow_v5.c - NetFlow v1, v5 and v7 decoder.
 *
 * v5 header (24 bytes):
 *
 *   0                   1                   2                   3
 *   +-------------------------------+-------------------------------+
 *   |          version = 5          |             count             |
 *   +-------------------------------+-------------------------------+
 *   |                    sys_uptime (ms since boot)                 |
 *   |                    unix_secs                                  |
 *   |                    unix_nsecs                                 |
 *   |                    flow_sequence                              |
 *   +---------------+---------------+---+---------------------------+
 *   |  engine_type  |   engine_id   |mode|   sampling interval      |
 *   +---------------+---------------+---+---------------------------+
 *
 * v1 header (16 bytes): version, count, sys_uptime, unix_secs, unix_nsecs.
 * v7 header (24 bytes): as v5, with the last 4 bytes reserved.
 *
 * v5 record (48 bytes): srcaddr, dstaddr, nexthop (4 each); input, output (2
 * each); dPkts, dOctets, first, last (4 each, first/last in sys_uptime ms);
 * srcport, dstport (2 each); pad1, tcp_flags, prot, tos (1 each); src_as,
 * dst_as (2 each); src_mask, dst_mask (1 each); pad2 (2).
 *
 * v7 record (52 bytes): as v5, with flags1 in place of pad1, flags2 in place
 * of pad2, then router_sc (4).
 *
 * v1 record (48 bytes): srcaddr, dstaddr, nexthop; input, output; dPkts,
 * dOctets, first, last; srcport, dstport; pad (2); prot, tos, tcp_flags (1
 * each); then 7 bytes of padding and reserved fields.  No AS numbers or masks.
 */
#include "decode/netflow_v5.h"

#include "core/result.h"
#include "decode/cursor.h"
#include "decode/fields.h"

#define FACILITY "netflow_v5"

/* Presence bits of everything a v1 record carries. */
#define V1_PRESENT                                                             \
	(FS_F_OBSERVATION_DOMAIN | FS_F_TIME_FLOW_START | FS_F_TIME_FLOW_END |     \
	 FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_NEXT_HOP | FS_F_SRC_PORT |           \
	 FS_F_DST_PORT | FS_F_PROTO | FS_F_TCP_FLAGS | FS_F_TOS | FS_F_BYTES |     \
	 FS_F_PACKETS | FS_F_IN_IF | FS_F_OUT_IF)

/* Presence bits of everything a v5 or v7 record carries. */
#define V5_PRESENT                                                             \
	(V1_PRESENT | FS_F_SEQUENCE | FS_F_SRC_AS | FS_F_DST_AS | FS_F_SRC_MASK |  \
	 FS_F_DST_MASK)

/*
 * Maximum records per datagram that Cisco's NetFlow export format documents
 * for v1, v5 and v7.  A larger count, or 0, marks a datagram that is not
 * NetFlow (nfcapd rejects these too), so nothing of it is decoded.
 */
#define V1_MAX_COUNT 24
#define V5_MAX_COUNT 30
#define V7_MAX_COUNT 27

/* v5 sampling modes in the top 2 bits of the sampling field. */
#define V5_SAMPLING_MODE_NONE 0
#define V5_SAMPLING_MODE_RESERVED 3

struct v5_header {
	uint16_t version;
	uint16_t count;
	uint32_t sys_uptime_ms;
	int64_t export_ns;
	uint32_t sequence;
	uint32_t domain;
	uint16_t sampling_interval;
	uint8_t sampling_mode;
	size_t header_len;
	size_t record_len;
};

static void
read_addr(struct fs_cursor *cur, struct fs_addr *addr)
{
	uint8_t bytes[4];

	fs_cursor_copy(cur, bytes, sizeof(bytes));
	fs_addr_set_v4(addr, bytes);
}

/* Reads the v1 fields after srcport and dstport. */
static void
read_v1_tail(struct fs_cursor *rec, struct fs_flow *flow)
{
	fs_cursor_skip(rec, 2); /* pad */
	flow->proto = fs_cursor_get_u8(rec);
	flow->tos = fs_cursor_get_u8(rec);
	flow->tcp_flags = fs_cursor_get_u8(rec);
}

/* Reads the v5 and v7 fields after srcport and dstport. */
static void
read_v5_tail(struct fs_cursor *rec, struct fs_flow *flow)
{
	fs_cursor_skip(rec, 1); /* pad1 (v5), flags1 (v7) */
	flow->tcp_flags = fs_cursor_get_u8(rec);
	flow->proto = fs_cursor_get_u8(rec);
	flow->tos = fs_cursor_get_u8(rec);
	flow->src_as = fs_cursor_get_u16(rec);
	flow->dst_as = fs_cursor_get_u16(rec);
	flow->src_mask = fs_cursor_get_u8(rec);
	flow->dst_mask = fs_cursor_get_u8(rec);
}

/* Reads one record from rec into flow, whose header fields are set. */
static void
read_record(struct fs_cursor *rec, const struct v5_header *hdr, struct fs_flow *flow)
{
	uint32_t first_ms, last_ms;

	read_addr(rec, &flow->src_addr);
	read_addr(rec, &flow->dst_addr);
	read_addr(rec, &flow->next_hop);
	flow->in_if = fs_cursor_get_u16(rec);
	flow->out_if = fs_cursor_get_u16(rec);
	flow->packets = fs_cursor_get_u32(rec);
	flow->bytes = fs_cursor_get_u32(rec);
	first_ms = fs_cursor_get_u32(rec);
	last_ms = fs_cursor_get_u32(rec);
	flow->src_port = fs_cursor_get_u16(rec);
	flow->dst_port = fs_cursor_get_u16(rec);
	if (hdr->version == 1)
		read_v1_tail(rec, flow);
	else
		read_v5_tail(rec, flow);

	flow->time_flow_start_ns = fs_uptime_to_unix_ns(hdr->export_ns,
							hdr->sys_uptime_ms, first_ms);
	flow->time_flow_end_ns = fs_uptime_to_unix_ns(hdr->export_ns,
						      hdr->sys_uptime_ms, last_ms);
}

/* Reads the header; returns false when the datagram is shorter than it. */
static bool
read_header(struct fs_cursor *cur, struct v5_header *hdr)
{
	uint32_t unix_secs, unix_nsecs;
	uint16_t sampling;

	memset(hdr, 0, sizeof(*hdr));
	hdr->version = fs_cursor_get_u16(cur);
	hdr->count = fs_cursor_get_u16(cur);
	hdr->sys_uptime_ms = fs_cursor_get_u32(cur);
	unix_secs = fs_cursor_get_u32(cur);
	unix_nsecs = fs_cursor_get_u32(cur);
	hdr->header_len = FS_NETFLOW_V1_HEADER_LEN;
	hdr->record_len = FS_NETFLOW_V5_RECORD_LEN;
	if (hdr->version != 1) {
		hdr->header_len = FS_NETFLOW_V5_HEADER_LEN;
		hdr->sequence = fs_cursor_get_u32(cur);
		hdr->domain = (uint32_t)fs_cursor_get_u8(cur) << 8;
		hdr->domain |= fs_cursor_get_u8(cur);
		sampling = fs_cursor_get_u16(cur);
		if (hdr->version == 5) {
			hdr->sampling_mode = (uint8_t)(sampling >> 14);
			hdr->sampling_interval = sampling & 0x3fff;
		} else {
			hdr->domain = 0; /* reserved in v7 */
			hdr->record_len = FS_NETFLOW_V7_RECORD_LEN;
		}
	}
	hdr->export_ns = (int64_t)unix_secs * 1000000000 + unix_nsecs;
	return fs_cursor_ok(cur);
}

/* Returns the maximum record count of a datagram of version. */
static unsigned
max_count(uint16_t version)
{
	if (version == 1)
		return V1_MAX_COUNT;
	if (version == 7)
		return V7_MAX_COUNT;
	return V5_MAX_COUNT;
}

/* Fills the fields that every record of the datagram shares. */
static void
init_flow(struct fs_decode_ctx *ctx, const struct v5_header *hdr, struct fs_flow *flow)
{
	fs_flow_clear(flow);
	flow->flow_type = FS_FLOW_NETFLOW_V5;
	flow->exporter_addr = *ctx->exporter;
	flow->exporter_port = ctx->exporter_port;
	flow->time_received_ns = ctx->time_received_ns;
	flow->observation_domain_id = hdr->domain;
	flow->sequence = hdr->sequence;
	flow->present = hdr->version == 1 ? V1_PRESENT : V5_PRESENT;
	/*
	 * 0 and 1 both mean unsampled; mode bits without an interval, and the
	 * reserved mode 3, are flagged and no rate is applied.
	 */
	if (hdr->sampling_mode == V5_SAMPLING_MODE_RESERVED) {
		fs_decode_warn(ctx, FS_MALFORMED_SAMPLING, FACILITY,
			       "reserved sampling mode 3 with an interval of %u; no rate applied",
			       hdr->sampling_interval);
	} else if (hdr->sampling_interval > 1) {
		flow->sampling_rate = hdr->sampling_interval;
		flow->sampling_source = FS_SAMPLING_EXPORTER;
		flow->present |= FS_F_SAMPLING_RATE | FS_F_SAMPLING_SOURCE;
	} else if (hdr->sampling_mode != V5_SAMPLING_MODE_NONE && hdr->sampling_interval == 0) {
		fs_decode_warn(ctx, FS_MALFORMED_SAMPLING, FACILITY,
			       "sampling mode %u with an interval of 0; no rate applied",
			       hdr->sampling_mode);
	}
}

int
fs_netflow_v5_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len)
{
	struct fs_cursor cur;
	struct v5_header hdr;
	struct fs_flow flow;
	size_t present;
	bool ok;

	fs_cursor_init(&cur, data, len);
	ok = read_header(&cur, &hdr);
	fs_decode_begin_message(ctx, FS_FLOW_NETFLOW_V5, hdr.domain);
	if (!ok) {
		fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
				"NetFlow v%u datagram of %zu bytes is shorter than the %zu-byte header",
				hdr.version, len, hdr.header_len);
		return ctx->result;
	}
	if (hdr.count == 0 || hdr.count > max_count(hdr.version)) {
		fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
				"NetFlow v%u header count %u is outside 1..%u; datagram of %zu bytes dropped",
				hdr.version, hdr.count, max_count(hdr.version), len);
		return ctx->result;
	}
	init_flow(ctx, &hdr, &flow);

	/*
	 * Bytes after the counted records are ignored, because some exporters
	 * pad datagrams with zeros.  A datagram shorter than its count keeps
	 * its whole records and is counted as truncated below.
	 */
	present = fs_cursor_remaining(&cur) / hdr.record_len;
	for (size_t i = 0; i < hdr.count && i < present; i++) {
		struct fs_cursor rec = fs_cursor_child(&cur, hdr.record_len);

		read_record(&rec, &hdr, &flow);
		flow.present &= ~(uint64_t)(FS_F_ICMP_TYPE | FS_F_ICMP_CODE);
		(void)fs_flow_icmp_from_port(&flow);
		fs_decode_emit(ctx, &flow);
	}
	/* v5 and v7 sequence numbers count flows; v1 has none. */
	if (hdr.version != 1 && ctx->entry)
		fs_exporter_stats_sequence(ctx->entry, hdr.sequence, hdr.count, true);
	if (hdr.count > present) {
		fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
				"NetFlow v%u header count %u but only %zu whole records in %zu bytes",
				hdr.version, hdr.count, present, len);
	}
	return ctx->result;
}
