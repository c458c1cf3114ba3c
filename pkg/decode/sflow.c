/*
 * sflow.c - sFlow version 5 datagram decoder.
 *
 * Datagram (sflow_version_5.txt, "sample_datagram_v5"):
 *
 *   u32 version = 5
 *   u32 agent address type (1 IPv4, 2 IPv6), then 4 or 16 address bytes
 *   u32 sub_agent_id
 *   u32 sequence_number
 *   u32 uptime (ms)
 *   u32 num_samples, then per sample:
 *       u32 data_format (enterprise << 12 | format), u32 length, length bytes
 *
 * Flow sample (0:1)                     Expanded flow sample (0:3)
 *   u32 sequence_number                   u32 sequence_number
 *   u32 source_id (type << 24 | index)    u32 source_id_type, u32 source_id_index
 *   u32 sampling_rate                     u32 sampling_rate
 *   u32 sample_pool                       u32 sample_pool
 *   u32 drops                             u32 drops
 *   u32 input (format << 30 | value)      u32 input format, u32 input value
 *   u32 output (format << 30 | value)     u32 output format, u32 output value
 *   u32 num_records                       u32 num_records
 *
 * The sample sequence_number counts the samples of its kind that its data
 * source generated; fs_decode_sample_sequence() checks it for gaps.
 *
 * Counter sample (0:2)                  Expanded counter sample (0:4)
 *   u32 sequence_number                   u32 sequence_number
 *   u32 source_id (type << 24 | index)    u32 source_id_type, u32 source_id_index
 *   u32 num_records                       u32 num_records
 *
 * Each record: u32 data_format (enterprise << 12 | format), u32 length,
 * length bytes.  Record layouts are given above each record decoder.
 */
#include "decode/sflow.h"

#include <stdbool.h>

#include "core/counters.h"
#include "core/result.h"
#include "decode/cursor.h"
#include "decode/exporter_stats.h"
#include "decode/packet.h"

#define FACILITY "sflow"

/* Sample formats of enterprise 0. */
#define SAMPLE_FLOW 1
#define SAMPLE_COUNTERS 2
#define SAMPLE_FLOW_EXPANDED 3
#define SAMPLE_COUNTERS_EXPANDED 4

/* Flow record formats of enterprise 0. */
#define FLOW_RAW_HEADER 1
#define FLOW_ETHERNET 2
#define FLOW_IPV4 3
#define FLOW_IPV6 4
#define FLOW_EXT_SWITCH 1001
#define FLOW_EXT_ROUTER 1002
#define FLOW_EXT_GATEWAY 1003
#define FLOW_EXT_MPLS 1006
#define FLOW_EXT_NAT 1007
#define FLOW_EXT_NAT_PORT 1020

/* Counter record formats of enterprise 0. */
#define COUNTERS_GENERIC 1
#define COUNTERS_ETHERNET 2

/* Header protocols of the raw packet header record. */
#define HEADER_ETHERNET 1
#define HEADER_IPV4 11
#define HEADER_IPV6 12

/* Interface formats: the top 2 bits of a compact interface, or the expanded format word. */
#define IF_FORMAT_INDEX 0
/* The value of format 0 that names the agent itself ("internal" interface). */
#define IF_INTERNAL 0x3fffffffu

/* Reasons a record handler gives back besides 0 and a cursor fault. */
#define RECORD_UNKNOWN 1

struct datagram {
	struct fs_addr agent;
	uint32_t sub_agent_id;
	uint32_t sequence;
	uint32_t uptime_ms;
};

/*
 * Records that can give the next hop, by rank: the router's own next hop
 * (extended router) is the most specific, then the MPLS next hop, then the
 * BGP next hop of the extended gateway.
 */
enum next_hop_rank {
	NEXT_HOP_NONE = 0,
	NEXT_HOP_GATEWAY,
	NEXT_HOP_MPLS,
	NEXT_HOP_ROUTER,
};

/* A flow sample being assembled from its records. */
struct flow_sample {
	struct fs_flow flow;
	size_t max_header_bytes;
	unsigned packet_flags;     /* enum fs_packet_flag, from the decoder limits */
	bool packet_described;    /* a raw header, Ethernet, IPv4 or IPv6 record was decoded */
	bool bytes_from_header;   /* flow.bytes came from a raw header record */
	uint8_t next_hop_rank;    /* enum next_hop_rank of flow.next_hop */
	bool have_gateway;
	uint32_t gateway_as;      /* AS of the gateway itself */
	uint32_t gateway_src_as;
	uint32_t gateway_dst_as;  /* last AS of the destination path, 0 when empty */
};

/* Handles one record; returns 0, RECORD_UNKNOWN or a negative fs_result. */
typedef int record_fn(void *sample, uint32_t enterprise, uint32_t format,
		      struct fs_cursor *rec);

/* Returns the cursor's fault, FS_ERR_TRUNCATED when it ran short. */
static int
cursor_result(const struct fs_cursor *cur)
{
	return cur->err != 0 ? cur->err : FS_ERR_TRUNCATED;
}

/* Reads an sFlow address: u32 type (0 unknown, 1 IPv4, 2 IPv6), then its bytes. */
static void
read_address(struct fs_cursor *cur, struct fs_addr *addr)
{
	uint8_t bytes[16];
	uint32_t type = fs_cursor_get_u32(cur);

	memset(addr, 0, sizeof(*addr));
	if (type == 1) {
		fs_cursor_copy(cur, bytes, 4);
		if (fs_cursor_ok(cur))
			fs_addr_set_v4(addr, bytes);
	} else if (type == 2) {
		fs_cursor_copy(cur, bytes, 16);
		if (fs_cursor_ok(cur))
			fs_addr_set_v6(addr, bytes);
	} else if (type != 0) {
		fs_cursor_fail(cur, FS_ERR_INVALID);
	}
}

/* Sets the flow's next hop unless a record of higher rank has set it.  An unset address changes nothing. */
static void
set_next_hop(struct flow_sample *s, const struct fs_addr *next_hop, enum next_hop_rank rank)
{
	if (next_hop->family == 0 || s->next_hop_rank >= rank)
		return;
	s->flow.next_hop = *next_hop;
	s->flow.present |= FS_F_NEXT_HOP;
	s->next_hop_rank = (uint8_t)rank;
}

/* Returns the interface index of an sFlow interface, 0 for the special ones. */
static uint32_t
interface_index(uint32_t format, uint32_t value)
{
	if (format != IF_FORMAT_INDEX || value == IF_INTERNAL)
		return 0;
	return value;
}

/* ---- flow records ---- */

/*
 * Raw packet header (0:1): u32 header_protocol, u32 frame_length,
 * u32 stripped, u32 header_length, header bytes padded to 4.
 */
static int
read_raw_header(struct flow_sample *s, struct fs_cursor *rec)
{
	struct fs_packet_info info;
	uint32_t protocol = fs_cursor_get_u32(rec);
	uint32_t frame_length = fs_cursor_get_u32(rec);
	uint32_t stripped = fs_cursor_get_u32(rec);
	uint32_t header_length = fs_cursor_get_u32(rec);
	const uint8_t *header = fs_cursor_get_bytes(rec, header_length);
	enum fs_packet_start start;

	if (!fs_cursor_ok(rec))
		return cursor_result(rec);

	s->flow.bytes = frame_length > stripped ? frame_length - stripped : 0;
	s->flow.present |= FS_F_BYTES;
	s->bytes_from_header = true;
	s->packet_described = true;
	switch (protocol) {
	case HEADER_ETHERNET:
		start = FS_PACKET_ETHERNET;
		break;
	case HEADER_IPV4:
		start = FS_PACKET_IPV4;
		break;
	case HEADER_IPV6:
		start = FS_PACKET_IPV6;
		break;
	default:
		return 0;   /* FDDI, token ring, ...: only the length is used */
	}
	/* A header cut inside a layer is normal for sampling; keep what was parsed. */
	(void)fs_packet_parse_flags(header, header_length, start, s->max_header_bytes,
				    s->packet_flags, &s->flow, &info);
	if (info.ip_length > 0)
		s->flow.bytes = info.ip_length;
	return 0;
}

/*
 * Ethernet frame data (0:2): u32 length, source MAC, destination MAC (each
 * 6 bytes padded to 8), u32 ethertype.
 */
static int
read_ethernet(struct flow_sample *s, struct fs_cursor *rec)
{
	uint8_t src[8], dst[8];
	uint32_t length = fs_cursor_get_u32(rec);

	fs_cursor_copy(rec, src, sizeof(src));
	fs_cursor_copy(rec, dst, sizeof(dst));
	(void)fs_cursor_get_u32(rec);
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	s->packet_described = true;
	if (!fs_flow_has(&s->flow, FS_F_SRC_MAC)) {
		memcpy(s->flow.src_mac, src, 6);
		memcpy(s->flow.dst_mac, dst, 6);
		s->flow.present |= FS_F_SRC_MAC | FS_F_DST_MAC;
	}
	if (!fs_flow_has(&s->flow, FS_F_BYTES)) {
		s->flow.bytes = length;
		s->flow.present |= FS_F_BYTES;
	}
	return 0;
}

/*
 * IPv4 data (0:3) and IPv6 data (0:4): u32 length, u32 protocol, source and
 * destination address (4 or 16 bytes each), u32 src_port, u32 dst_port,
 * u32 tcp_flags, u32 tos (IPv4) or priority (IPv6).
 */
static int
read_ip_data(struct flow_sample *s, struct fs_cursor *rec, size_t addr_len)
{
	struct fs_flow *flow = &s->flow;
	uint8_t src[16], dst[16];
	uint32_t length = fs_cursor_get_u32(rec);
	uint32_t proto = fs_cursor_get_u32(rec);
	uint32_t src_port, dst_port, tcp_flags, tos;

	fs_cursor_copy(rec, src, addr_len);
	fs_cursor_copy(rec, dst, addr_len);
	src_port = fs_cursor_get_u32(rec);
	dst_port = fs_cursor_get_u32(rec);
	tcp_flags = fs_cursor_get_u32(rec);
	tos = fs_cursor_get_u32(rec);
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	s->packet_described = true;

	/* A raw header of the same packet has already set these, and wins. */
	if (fs_flow_has(flow, FS_F_SRC_ADDR))
		return 0;
	if (addr_len == 4) {
		fs_addr_set_v4(&flow->src_addr, src);
		fs_addr_set_v4(&flow->dst_addr, dst);
	} else {
		fs_addr_set_v6(&flow->src_addr, src);
		fs_addr_set_v6(&flow->dst_addr, dst);
	}
	flow->proto = (uint8_t)proto;
	flow->tos = (uint8_t)tos;
	flow->present |= FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_PROTO | FS_F_TOS;
	if (proto == 6 || proto == 17 || proto == 132) {
		flow->src_port = (uint16_t)src_port;
		flow->dst_port = (uint16_t)dst_port;
		flow->present |= FS_F_SRC_PORT | FS_F_DST_PORT;
	}
	if (proto == 6) {
		flow->tcp_flags = (uint8_t)tcp_flags;
		flow->present |= FS_F_TCP_FLAGS;
	}
	if (!s->bytes_from_header) {
		flow->bytes = length;
		flow->present |= FS_F_BYTES;
	}
	return 0;
}

/* Extended switch (0:1001): u32 src_vlan, u32 src_priority, u32 dst_vlan, u32 dst_priority. */
static int
read_ext_switch(struct flow_sample *s, struct fs_cursor *rec)
{
	uint32_t src_vlan = fs_cursor_get_u32(rec);

	fs_cursor_skip(rec, 12);
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	/* A VLAN tag in the raw header wins; 0 means the packet had no VLAN. */
	if (!fs_flow_has(&s->flow, FS_F_VLAN_ID) && src_vlan > 0 && src_vlan < 4096) {
		s->flow.vlan_id = (uint16_t)src_vlan;
		s->flow.present |= FS_F_VLAN_ID;
	}
	return 0;
}

/* Extended router (0:1002): next-hop address, u32 src_mask_len, u32 dst_mask_len. */
static int
read_ext_router(struct flow_sample *s, struct fs_cursor *rec)
{
	struct fs_addr next_hop;
	uint32_t src_mask, dst_mask;

	read_address(rec, &next_hop);
	src_mask = fs_cursor_get_u32(rec);
	dst_mask = fs_cursor_get_u32(rec);
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	if (src_mask > 128 || dst_mask > 128)
		return FS_ERR_INVALID;
	set_next_hop(s, &next_hop, NEXT_HOP_ROUTER);
	s->flow.src_mask = (uint8_t)src_mask;
	s->flow.dst_mask = (uint8_t)dst_mask;
	s->flow.present |= FS_F_SRC_MASK | FS_F_DST_MASK;
	return 0;
}

/*
 * Extended gateway (0:1003): next-hop address, u32 as, u32 src_as,
 * u32 src_peer_as, u32 segment count, then per AS path segment u32 type,
 * u32 count and count u32 AS numbers.  The communities and local preference
 * that follow are not read.
 */
static int
read_ext_gateway(struct flow_sample *s, struct fs_cursor *rec)
{
	struct fs_addr next_hop;
	uint32_t own_as, src_as, segments;
	uint32_t last_as = 0;

	read_address(rec, &next_hop);
	own_as = fs_cursor_get_u32(rec);
	src_as = fs_cursor_get_u32(rec);
	(void)fs_cursor_get_u32(rec); /* src_peer_as */
	segments = fs_cursor_get_u32(rec);
	/* Each segment takes at least 8 bytes, so a false count ends the loop early. */
	for (uint32_t i = 0; i < segments && fs_cursor_ok(rec); i++) {
		uint32_t count;

		(void)fs_cursor_get_u32(rec); /* AS_SET or AS_SEQUENCE */
		count = fs_cursor_get_u32(rec);
		if (count == 0)
			continue;
		fs_cursor_skip(rec, ((size_t)count - 1) * 4);
		last_as = fs_cursor_get_u32(rec);
	}
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);

	set_next_hop(s, &next_hop, NEXT_HOP_GATEWAY);
	s->have_gateway = true;
	s->gateway_as = own_as;
	s->gateway_src_as = src_as;
	s->gateway_dst_as = last_as;
	return 0;
}

/* Skips an MPLS label stack: u32 count, then count u32 label entries. */
static void
skip_label_stack(struct fs_cursor *rec)
{
	uint32_t count = fs_cursor_get_u32(rec);

	/* A false count overruns the record and fails the cursor. */
	fs_cursor_skip(rec, (size_t)count * 4);
}

/*
 * Extended MPLS (0:1006): next-hop address, then the input and the output
 * label stacks.  The flow schema has no field for labels, so only the next
 * hop is kept.
 */
static int
read_ext_mpls(struct flow_sample *s, struct fs_cursor *rec)
{
	struct fs_addr next_hop;

	read_address(rec, &next_hop);
	skip_label_stack(rec);
	skip_label_stack(rec);
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	set_next_hop(s, &next_hop, NEXT_HOP_MPLS);
	return 0;
}

/* Extended NAT (0:1007): the source and destination addresses after translation. */
static int
read_ext_nat(struct flow_sample *s, struct fs_cursor *rec)
{
	struct fs_addr src, dst;

	read_address(rec, &src);
	read_address(rec, &dst);
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	/* Address type 0 means the agent did not report that address. */
	if (src.family != 0) {
		s->flow.post_nat_src_addr = src;
		s->flow.present |= FS_F_POST_NAT_SRC_ADDR;
	}
	if (dst.family != 0) {
		s->flow.post_nat_dst_addr = dst;
		s->flow.present |= FS_F_POST_NAT_DST_ADDR;
	}
	return 0;
}

/* Extended NAT port (0:1020): u32 source port, u32 destination port after translation. */
static int
read_ext_nat_port(struct flow_sample *s, struct fs_cursor *rec)
{
	uint32_t src_port = fs_cursor_get_u32(rec);
	uint32_t dst_port = fs_cursor_get_u32(rec);

	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	if (src_port > 0xffff || dst_port > 0xffff)
		return FS_ERR_INVALID;
	s->flow.post_nat_src_port = (uint16_t)src_port;
	s->flow.post_nat_dst_port = (uint16_t)dst_port;
	s->flow.present |= FS_F_POST_NAT_SRC_PORT | FS_F_POST_NAT_DST_PORT;
	return 0;
}

static int
read_flow_record(void *sample, uint32_t enterprise, uint32_t format,
		 struct fs_cursor *rec)
{
	struct flow_sample *s = sample;

	if (enterprise != 0)
		return RECORD_UNKNOWN;
	switch (format) {
	case FLOW_RAW_HEADER:
		return read_raw_header(s, rec);
	case FLOW_ETHERNET:
		return read_ethernet(s, rec);
	case FLOW_IPV4:
		return read_ip_data(s, rec, 4);
	case FLOW_IPV6:
		return read_ip_data(s, rec, 16);
	case FLOW_EXT_SWITCH:
		return read_ext_switch(s, rec);
	case FLOW_EXT_ROUTER:
		return read_ext_router(s, rec);
	case FLOW_EXT_GATEWAY:
		return read_ext_gateway(s, rec);
	case FLOW_EXT_MPLS:
		return read_ext_mpls(s, rec);
	case FLOW_EXT_NAT:
		return read_ext_nat(s, rec);
	case FLOW_EXT_NAT_PORT:
		return read_ext_nat_port(s, rec);
	default:
		return RECORD_UNKNOWN;
	}
}

/* ---- counter records ---- */

/* Generic interface counters (0:1), 88 bytes in the order of struct fs_counters_generic. */
static int
read_generic(struct fs_counters *c, struct fs_cursor *rec)
{
	struct fs_counters_generic g;

	g.if_index = fs_cursor_get_u32(rec);
	g.if_type = fs_cursor_get_u32(rec);
	g.if_speed = fs_cursor_get_u64(rec);
	g.if_direction = fs_cursor_get_u32(rec);
	g.if_status = fs_cursor_get_u32(rec);
	g.in_octets = fs_cursor_get_u64(rec);
	g.in_ucast_pkts = fs_cursor_get_u32(rec);
	g.in_mcast_pkts = fs_cursor_get_u32(rec);
	g.in_bcast_pkts = fs_cursor_get_u32(rec);
	g.in_discards = fs_cursor_get_u32(rec);
	g.in_errors = fs_cursor_get_u32(rec);
	g.in_unknown_protos = fs_cursor_get_u32(rec);
	g.out_octets = fs_cursor_get_u64(rec);
	g.out_ucast_pkts = fs_cursor_get_u32(rec);
	g.out_mcast_pkts = fs_cursor_get_u32(rec);
	g.out_bcast_pkts = fs_cursor_get_u32(rec);
	g.out_discards = fs_cursor_get_u32(rec);
	g.out_errors = fs_cursor_get_u32(rec);
	g.promiscuous = fs_cursor_get_u32(rec);
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	c->generic = g;
	c->present |= FS_C_GENERIC;
	return 0;
}

/* Ethernet interface counters (0:2), 13 u32 in the order of struct fs_counters_ethernet. */
static int
read_ethernet_counters(struct fs_counters *c, struct fs_cursor *rec)
{
	struct fs_counters_ethernet e;

	e.alignment_errors = fs_cursor_get_u32(rec);
	e.fcs_errors = fs_cursor_get_u32(rec);
	e.single_collision_frames = fs_cursor_get_u32(rec);
	e.multiple_collision_frames = fs_cursor_get_u32(rec);
	e.sqe_test_errors = fs_cursor_get_u32(rec);
	e.deferred_transmissions = fs_cursor_get_u32(rec);
	e.late_collisions = fs_cursor_get_u32(rec);
	e.excessive_collisions = fs_cursor_get_u32(rec);
	e.internal_mac_transmit_errors = fs_cursor_get_u32(rec);
	e.carrier_sense_errors = fs_cursor_get_u32(rec);
	e.frame_too_longs = fs_cursor_get_u32(rec);
	e.internal_mac_receive_errors = fs_cursor_get_u32(rec);
	e.symbol_errors = fs_cursor_get_u32(rec);
	if (!fs_cursor_ok(rec))
		return cursor_result(rec);
	c->ethernet = e;
	c->present |= FS_C_ETHERNET;
	return 0;
}

static int
read_counter_record(void *sample, uint32_t enterprise, uint32_t format,
		    struct fs_cursor *rec)
{
	struct fs_counters *c = sample;

	if (enterprise == 0 && format == COUNTERS_GENERIC)
		return read_generic(c, rec);
	if (enterprise == 0 && format == COUNTERS_ETHERNET)
		return read_ethernet_counters(c, rec);
	fs_counters_add_other(c, enterprise, format, (uint32_t)fs_cursor_remaining(rec));
	return RECORD_UNKNOWN;
}

/* ---- samples ---- */

/*
 * Reads num_records records from the sample cursor cur, handing each to fn.
 * A malformed record is counted and skipped; records past the limit are
 * counted as dropped.  Returns true when a record was malformed or missing:
 * a handler rejected it, its length overran the sample, or the sample ended
 * before num_records.
 */
static bool
read_records(struct fs_decode_ctx *ctx, struct fs_cursor *cur, uint32_t num_records,
	     record_fn *fn, void *sample, uint32_t sample_sequence)
{
	struct fs_decoder_stats *stats = fs_decode_stats(ctx);
	uint32_t max_records = fs_decode_limits(ctx)->max_sflow_records;
	bool faulted = false;
	uint32_t i;

	for (i = 0; i < num_records; i++) {
		struct fs_cursor rec;
		uint32_t data_format, length;
		int rc;

		if (fs_cursor_remaining(cur) < 8) {
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
					"sample %u ends after %u of its %u records",
					sample_sequence, i, num_records);
			return true;
		}
		data_format = fs_cursor_get_u32(cur);
		length = fs_cursor_get_u32(cur);
		rec = fs_cursor_child(cur, length);
		if (!fs_cursor_ok(&rec)) {
			stats->sflow_records_dropped++;
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
					"sample %u record %u: length %u overruns the sample",
					sample_sequence, i, length);
			return true;
		}
		if (i >= max_records) {
			stats->sflow_records_dropped++;
			continue;
		}
		rc = fn(sample, data_format >> 12, data_format & 0xfff, &rec);
		if (rc == RECORD_UNKNOWN) {
			stats->sflow_unknown_records++;
		} else if (rc != 0) {
			faulted = true;
			stats->sflow_records_dropped++;
			fs_decode_fault(ctx, rc == FS_ERR_TRUNCATED ? FS_ERR_INVALID : rc,
					FACILITY,
					"sample %u record %u (format %u:%u, %u bytes) is malformed; record dropped",
					sample_sequence, i, data_format >> 12,
					data_format & 0xfff, length);
		}
	}
	if (num_records > max_records)
		fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
				"sample %u has %u records, more than the limit of %u; the rest were dropped",
				sample_sequence, num_records, max_records);
	return faulted;
}

static void
finish_flow(struct flow_sample *s)
{
	struct fs_flow *flow = &s->flow;

	if (!s->have_gateway)
		return;
	/* An AS of 0 or an empty path means the address is in the gateway's own AS. */
	flow->src_as = s->gateway_src_as != 0 ? s->gateway_src_as : s->gateway_as;
	flow->dst_as = s->gateway_dst_as != 0 ? s->gateway_dst_as : s->gateway_as;
	flow->present |= FS_F_SRC_AS | FS_F_DST_AS;
}

static int
read_flow_sample(struct fs_decode_ctx *ctx, const struct datagram *dg,
		 struct fs_cursor *cur, bool expanded)
{
	struct flow_sample s;
	struct fs_flow *flow = &s.flow;
	uint32_t sequence, rate, in_format, in_value, out_format, out_value;
	uint32_t source_type, source_index, num_records;
	bool faulted;

	sequence = fs_cursor_get_u32(cur);
	if (expanded) {
		source_type = fs_cursor_get_u32(cur);
		source_index = fs_cursor_get_u32(cur);
	} else {
		source_index = fs_cursor_get_u32(cur);
		source_type = source_index >> 24;
		source_index &= 0x00ffffff;
	}
	rate = fs_cursor_get_u32(cur);
	fs_cursor_skip(cur, 8);                     /* sample_pool, drops */
	if (expanded) {
		in_format = fs_cursor_get_u32(cur);
		in_value = fs_cursor_get_u32(cur);
		out_format = fs_cursor_get_u32(cur);
		out_value = fs_cursor_get_u32(cur);
	} else {
		in_value = fs_cursor_get_u32(cur);
		out_value = fs_cursor_get_u32(cur);
		in_format = in_value >> 30;
		out_format = out_value >> 30;
		in_value &= 0x3fffffff;
		out_value &= 0x3fffffff;
	}
	num_records = fs_cursor_get_u32(cur);
	if (!fs_cursor_ok(cur))
		return cursor_result(cur);

	/* Source types are 0 to 2; a larger one cannot name a source, so it has no sequence check. */
	if (source_type <= 0xff)
		fs_decode_sample_sequence(ctx, &dg->agent, FS_SFLOW_FLOW_SAMPLES,
					  (uint8_t)source_type, source_index, sequence);
	memset(&s, 0, sizeof(s));
	s.max_header_bytes = fs_decode_limits(ctx)->max_header_bytes;
	s.packet_flags = fs_packet_flags_of(fs_decode_limits(ctx));
	flow->flow_type = FS_FLOW_SFLOW_V5;
	flow->exporter_addr = *ctx->exporter;
	flow->exporter_port = ctx->exporter_port;
	flow->time_received_ns = ctx->time_received_ns;
	flow->observation_domain_id = dg->sub_agent_id;
	flow->sequence = dg->sequence;
	flow->in_if = interface_index(in_format, in_value);
	flow->out_if = interface_index(out_format, out_value);
	flow->packets = 1;
	flow->present = FS_F_OBSERVATION_DOMAIN | FS_F_SEQUENCE | FS_F_IN_IF |
			FS_F_OUT_IF | FS_F_PACKETS;
	/* Rate 1 is a known rate (every packet sampled), so enrich counts it as the exporter's. */
	if (rate >= 1) {
		flow->sampling_rate = rate;
		flow->present |= FS_F_SAMPLING_RATE;
	}

	faulted = read_records(ctx, cur, num_records, read_flow_record, &s, sequence);
	fs_decode_stats(ctx)->sflow_flow_samples++;
	/*
	 * Each record has its own length, so a malformed one spoils only itself
	 * and the flow keeps what the others gave.  But when no record that
	 * describes the sampled packet survived, the flow would carry a packet
	 * count and no traffic to attribute it to.
	 */
	if (faulted && !s.packet_described) {
		fs_decode_stats(ctx)->sflow_flows_dropped++;
		fs_decode_note(ctx, FACILITY,
			       "datagram %u sample %u: no raw header, Ethernet, IPv4 or IPv6 record "
			       "decoded besides the malformed ones; flow dropped",
			       dg->sequence, sequence);
		return 0;
	}
	finish_flow(&s);
	fs_decode_emit(ctx, flow);
	return 0;
}

static int
read_counter_sample(struct fs_decode_ctx *ctx, const struct datagram *dg,
		    struct fs_cursor *cur, bool expanded)
{
	struct fs_counters c;
	uint32_t sequence, source_type, source_index, num_records;

	sequence = fs_cursor_get_u32(cur);
	if (expanded) {
		source_type = fs_cursor_get_u32(cur);
		source_index = fs_cursor_get_u32(cur);
	} else {
		source_index = fs_cursor_get_u32(cur);
		source_type = source_index >> 24;
		source_index &= 0x00ffffff;
	}
	num_records = fs_cursor_get_u32(cur);
	if (!fs_cursor_ok(cur))
		return cursor_result(cur);
	if (source_type > 0xff)
		return FS_ERR_INVALID;

	fs_counters_clear(&c);
	c.exporter_addr = *ctx->exporter;
	c.exporter_port = ctx->exporter_port;
	c.agent_addr = dg->agent;
	c.sub_agent_id = dg->sub_agent_id;
	c.datagram_sequence = dg->sequence;
	c.sequence = sequence;
	c.uptime_ms = dg->uptime_ms;
	c.source_id_type = (uint8_t)source_type;
	c.source_id_index = source_index;
	c.time_received_ns = ctx->time_received_ns;

	fs_decode_sample_sequence(ctx, &dg->agent, FS_SFLOW_COUNTER_SAMPLES, (uint8_t)source_type,
				  source_index, sequence);
	(void)read_records(ctx, cur, num_records, read_counter_record, &c, sequence);
	fs_decode_stats(ctx)->sflow_counter_samples++;
	fs_decode_emit_counters(ctx, &c);
	return 0;
}

/* Decodes one sample; an unknown format is counted, not a fault. */
static void
read_sample(struct fs_decode_ctx *ctx, const struct datagram *dg, uint32_t index,
	    uint32_t data_format, uint32_t length, struct fs_cursor *sample)
{
	uint32_t enterprise = data_format >> 12;
	uint32_t format = data_format & 0xfff;
	int rc;

	if (enterprise != 0) {
		fs_decode_stats(ctx)->sflow_unknown_samples++;
		return;
	}
	switch (format) {
	case SAMPLE_FLOW:
	case SAMPLE_FLOW_EXPANDED:
		rc = read_flow_sample(ctx, dg, sample, format == SAMPLE_FLOW_EXPANDED);
		break;
	case SAMPLE_COUNTERS:
	case SAMPLE_COUNTERS_EXPANDED:
		rc = read_counter_sample(ctx, dg, sample, format == SAMPLE_COUNTERS_EXPANDED);
		break;
	default:
		fs_decode_stats(ctx)->sflow_unknown_samples++;
		return;
	}
	if (rc != 0)
		fs_decode_fault(ctx, rc == FS_ERR_TRUNCATED ? FS_ERR_INVALID : rc, FACILITY,
				"datagram %u sample %u (format %u, %u bytes) is shorter than its header; sample dropped",
				dg->sequence, index, format, length);
}

int
fs_sflow_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len)
{
	uint32_t max_samples = fs_decode_limits(ctx)->max_sflow_samples;
	struct fs_cursor cur;
	struct datagram dg;
	uint32_t version, num_samples, i;

	fs_cursor_init(&cur, data, len);
	version = fs_cursor_get_u32(&cur);
	read_address(&cur, &dg.agent);
	dg.sub_agent_id = fs_cursor_get_u32(&cur);
	dg.sequence = fs_cursor_get_u32(&cur);
	dg.uptime_ms = fs_cursor_get_u32(&cur);
	num_samples = fs_cursor_get_u32(&cur);
	if (!fs_cursor_ok(&cur) || version != 5) {
		fs_decode_begin_headerless(ctx, FS_FLOW_SFLOW_V5);
		fs_decode_fault(ctx, version != 5 ? FS_ERR_INVALID : cursor_result(&cur),
				FACILITY,
				"datagram of %zu bytes has no valid sFlow v5 header "
				"(28 bytes with an IPv4 agent, 40 with IPv6); datagram dropped",
				len);
		return ctx->result;
	}
	/*
	 * Datagram sequence numbers count datagrams per agent and sub-agent, so
	 * the counters are the agent's: a relay may forward several agents from
	 * one source address.
	 */
	fs_decode_begin_message_of(ctx, &dg.agent, FS_FLOW_SFLOW_V5, dg.sub_agent_id);
	if (ctx->entry)
		fs_exporter_stats_sequence(ctx->entry, dg.sequence, 1, true);

	for (i = 0; i < num_samples; i++) {
		struct fs_cursor sample;
		uint32_t data_format, length;

		if (i == max_samples) {
			fs_decode_fault(ctx, FS_ERR_INVALID, FACILITY,
					"datagram %u has %u samples, more than the limit of %u; the rest were dropped",
					dg.sequence, num_samples, max_samples);
			break;
		}
		if (fs_cursor_remaining(&cur) < 8) {
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
					"datagram %u ends after %u of its %u samples",
					dg.sequence, i, num_samples);
			break;
		}
		data_format = fs_cursor_get_u32(&cur);
		length = fs_cursor_get_u32(&cur);
		sample = fs_cursor_child(&cur, length);
		if (!fs_cursor_ok(&sample)) {
			fs_decode_fault(ctx, FS_ERR_TRUNCATED, FACILITY,
					"datagram %u sample %u: length %u overruns the datagram",
					dg.sequence, i, length);
			break;
		}
		read_sample(ctx, &dg, i, data_format, length, &sample);
	}
	return ctx->result;
}
