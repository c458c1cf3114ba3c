/*
 * flow.h - the decoded flow record shared by every stage.
 *
 * One struct fs_flow holds one flow record as decoders produce it and as the
 * Avro codec reads and writes it (schemas/flow.avsc).  Optional fields carry a
 * bit in fs_flow.present: a field whose bit is clear was not sent by the
 * exporter, and writers omit it (JSON) or write null (Avro).  Fields that are
 * always known (flow_type, exporter, time received) have no bit.
 *
 * The struct is plain data with no pointers, so it can be copied, zeroed with
 * memset and kept in arrays without ownership rules.
 */
#ifndef FS_CORE_FLOW_H
#define FS_CORE_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Export protocol that carried the record; the names match the Avro enum. */
enum fs_flow_type {
	FS_FLOW_NETFLOW_V5 = 0,
	FS_FLOW_NETFLOW_V9 = 1,
	FS_FLOW_IPFIX = 2,
	FS_FLOW_SFLOW_V5 = 3,
	FS_FLOW_TYPE_COUNT
};

/* An IPv4 or IPv6 address.  family is 0 (unset), 4 or 6; IPv4 uses bytes[0..3]. */
struct fs_addr {
	uint8_t family;
	uint8_t bytes[16];
};

/* Presence bits for the optional fields of struct fs_flow. */
enum fs_flow_field {
	FS_F_OBSERVATION_DOMAIN = 1ull << 0,
	FS_F_SEQUENCE = 1ull << 1,
	FS_F_TIME_FLOW_START = 1ull << 2,
	FS_F_TIME_FLOW_END = 1ull << 3,
	FS_F_SAMPLING_RATE = 1ull << 4,
	FS_F_SRC_ADDR = 1ull << 5,
	FS_F_DST_ADDR = 1ull << 6,
	FS_F_NEXT_HOP = 1ull << 7,
	FS_F_SRC_PORT = 1ull << 8,
	FS_F_DST_PORT = 1ull << 9,
	FS_F_PROTO = 1ull << 10,
	FS_F_TCP_FLAGS = 1ull << 11,
	FS_F_TOS = 1ull << 12,
	FS_F_BYTES = 1ull << 13,
	FS_F_PACKETS = 1ull << 14,
	FS_F_IN_IF = 1ull << 15,
	FS_F_OUT_IF = 1ull << 16,
	FS_F_SRC_AS = 1ull << 17,
	FS_F_DST_AS = 1ull << 18,
	FS_F_SRC_MASK = 1ull << 19,
	FS_F_DST_MASK = 1ull << 20,
	FS_F_VLAN_ID = 1ull << 21,
	FS_F_SRC_MAC = 1ull << 22,
	FS_F_DST_MAC = 1ull << 23,
	FS_F_ICMP_TYPE = 1ull << 24,
	FS_F_ICMP_CODE = 1ull << 25,
	FS_F_FLOW_DIRECTION = 1ull << 26,
};

/* Exporter's direction of observation (IPFIX IE 61 flowDirection). */
enum fs_flow_direction {
	FS_DIR_INGRESS = 0,
	FS_DIR_EGRESS = 1,
};

struct fs_flow {
	uint64_t present;                 /* OR of enum fs_flow_field */
	uint8_t flow_type;                /* enum fs_flow_type */
	struct fs_addr exporter_addr;     /* source address of the datagram */
	uint16_t exporter_port;           /* source port of the datagram */
	uint32_t observation_domain_id;   /* v9 source id or IPFIX domain */
	uint32_t sequence;                /* header sequence number */
	int64_t time_received_ns;         /* Unix ns, when the collector got it */
	int64_t time_flow_start_ns;       /* Unix ns */
	int64_t time_flow_end_ns;         /* Unix ns */
	uint32_t sampling_rate;           /* 1 in N packets; as exported */
	struct fs_addr src_addr;
	struct fs_addr dst_addr;
	struct fs_addr next_hop;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t proto;
	uint8_t tcp_flags;
	uint8_t tos;
	uint8_t src_mask;
	uint8_t dst_mask;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t flow_direction;           /* enum fs_flow_direction */
	uint16_t vlan_id;
	uint64_t bytes;                   /* as exported, not scaled by sampling */
	uint64_t packets;                 /* as exported, not scaled by sampling */
	uint32_t in_if;
	uint32_t out_if;
	uint32_t src_as;
	uint32_t dst_as;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
};

/* Clears every field and presence bit. */
static inline void
fs_flow_clear(struct fs_flow *flow)
{
	memset(flow, 0, sizeof(*flow));
}

static inline bool
fs_flow_has(const struct fs_flow *flow, enum fs_flow_field field)
{
	return (flow->present & (uint64_t)field) != 0;
}

/* Returns the schema name of a flow type ("netflow_v5", ...), or "unknown". */
const char *fs_flow_type_name(enum fs_flow_type type);

/* Sets addr from 4 bytes in network order. */
void fs_addr_set_v4(struct fs_addr *addr, const uint8_t bytes[4]);

/* Sets addr from 16 bytes in network order. */
void fs_addr_set_v6(struct fs_addr *addr, const uint8_t bytes[16]);

/*
 * Writes addr as text (dotted quad or RFC 5952 IPv6) into buf, which must
 * hold FS_ADDR_STRLEN bytes.  An unset address gives "".  Returns buf.
 */
#define FS_ADDR_STRLEN 46
char *fs_addr_format(const struct fs_addr *addr, char *buf);

/* Parses dotted-quad or IPv6 text.  Returns 0, or -1 when text is not an address. */
int fs_addr_parse(struct fs_addr *addr, const char *text);

/* Returns true when both addresses have the same family and bytes. */
bool fs_addr_equal(const struct fs_addr *a, const struct fs_addr *b);

#endif
