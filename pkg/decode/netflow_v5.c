/*
 * netflow_v5.c - NetFlow v5 decoder.
 *
 * Header (24 bytes):
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
 * Record (48 bytes): srcaddr, dstaddr, nexthop (4 each); input, output (2
 * each); dPkts, dOctets, first, last (4 each, first/last in sys_uptime ms);
 * srcport, dstport (2 each); pad1, tcp_flags, prot, tos (1 each); src_as,
 * dst_as (2 each); src_mask, dst_mask (1 each); pad2 (2).
 */
#include "decode/netflow_v5.h"

#include "core/result.h"
#include "decode/cursor.h"
#include "decode/fields.h"

#define FACILITY "netflow_v5"

/* Presence bits of everything a v5 record carries. */
#define V5_PRESENT                                                             \
	(FS_F_OBSERVATION_DOMAIN | FS_F_SEQUENCE | FS_F_TIME_FLOW_START |          \
	 FS_F_TIME_FLOW_END | FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_NEXT_HOP |      \
	 FS_F_SRC_PORT | FS_F_DST_PORT | FS_F_PROTO | FS_F_TCP_FLAGS | FS_F_TOS |   \
	 FS_F_BYTES | FS_F_PACKETS | FS_F_IN_IF | FS_F_OUT_IF | FS_F_SRC_AS |      \
	 FS_F_DST_AS | FS_F_SRC_MASK | FS_F_DST_MASK)

struct v5_header {
	uint16_t count;
	uint32_t sys_uptime_ms;
	int64_t export_ns;
	uint32_t sequence;
	uint32_t domain;
	uint16_t sampling_interval;
};

static void
read_addr(struct fs_cursor *cur, struct fs_addr *addr)
{
	uint8_t bytes[4];

	fs_cursor_copy(cur, bytes, sizeof(bytes));
	fs_addr_set_v4(addr, bytes);
}

/* Reads one 48-byte record from rec into flow, whose header fields are set. */
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
	fs_cursor_skip(rec, 1); /* pad1 */
	flow->tcp_flags = fs_cursor_get_u8(rec);
	flow->proto = fs_cursor_get_u8(rec);
	flow->tos = fs_cursor_get_u8(rec);
	flow->src_as = fs_cursor_get_u16(rec);
	flow->dst_as = fs_cursor_get_u16(rec);
	flow->src_mask = fs_cursor_get_u8(rec);
	flow->dst_mask = fs_cursor_get_u8(rec);

	flow->time_flow_start_ns = fs_uptime_to_unix_ns(hdr->export_ns,
							hdr->sys_uptime_ms, first_ms);
	flow->time_flow_end_ns = fs_uptime_to_unix_ns(hdr->export_ns,
						      hdr->sys_uptime_ms, last_ms);
}

int
fs_netflow_v5_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len)
{
	struct fs_cursor cur;
	struct v5_header hdr;
	struct fs_flow flow;
	uint32_t unix_secs, unix_nsecs;
	uint8_t engine_type, engine_id;
	size_t present;

	fs_cursor_init(&cur, data, len);
	fs_cursor_skip(&cur, 2); /* version, checked by the caller */
	hdr.count = fs_cursor_get_u16(&cur);
	hdr.sys_uptime_ms = fs_cursor_get_u32(&cur);
	unix_secs = fs_cursor_get_u32(&cur);
	unix_nsecs = fs_cursor_get_u32(&cur);
	hdr.sequence = fs_cursor_get_u32(&cur);
	engine_type = fs_cursor_get_u8(&cur);
	engine_id = fs_cursor_get_u8(&cur);
	hdr.sampling_interval = fs_cursor_get_u16(&cur) & 0x3fff;
	if (!fs_cursor_ok(&cur)) {
		fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
				"datagram of %zu bytes is shorter than the %d-byte header",
				len, FS_NETFLOW_V5_HEADER_LEN);
		return ctx->result;
	}
	hdr.export_ns = (int64_t)unix_secs * 1000000000 + unix_nsecs;
	hdr.domain = (uint32_t)engine_type << 8 | engine_id;

	fs_flow_clear(&flow);
	flow.flow_type = FS_FLOW_NETFLOW_V5;
	flow.exporter_addr = *ctx->exporter;
	flow.exporter_port = ctx->exporter_port;
	flow.time_received_ns = ctx->time_received_ns;
	flow.observation_domain_id = hdr.domain;
	flow.sequence = hdr.sequence;
	flow.present = V5_PRESENT;
	/* The low 14 bits hold the interval; 0 and 1 both mean unsampled. */
	if (hdr.sampling_interval > 1) {
		flow.sampling_rate = hdr.sampling_interval;
		flow.present |= FS_F_SAMPLING_RATE;
	}

	present = fs_cursor_remaining(&cur) / FS_NETFLOW_V5_RECORD_LEN;
	for (size_t i = 0; i < hdr.count && i < present; i++) {
		struct fs_cursor rec = fs_cursor_child(&cur, FS_NETFLOW_V5_RECORD_LEN);

		read_record(&rec, &hdr, &flow);
		fs_decode_emit(ctx, &flow);
	}
	if (hdr.count > present) {
		fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
				"header count %u but only %zu whole records in %zu bytes",
				hdr.count, present, len);
	}
	return ctx->result;
}
