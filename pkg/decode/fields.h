/*
 * fields.h - maps IPFIX / NetFlow v9 information elements to struct fs_flow.
 *
 * Reference: IANA "IP Flow Information Export (IPFIX) Entities" registry
 * (RFC 7012).  NetFlow v9 (RFC 3954) field types 1..127 use the same numbers,
 * so one table serves both protocols.  Only elements without an enterprise
 * number (PEN 0) are mapped.  Unmapped IPFIX enterprise elements and v9
 * field types of 32768 or more are kept raw (fs_field_keep_enterprise());
 * every other unmapped element is skipped.
 *
 * The table is looked up once per template field when a template is learned.
 * The resulting target is stored in the template, so decoding a record is a
 * switch on the target, with no search.
 *
 * Values use reduced-size encoding (RFC 7011 section 6.2): an integer element
 * of 1 to 8 bytes is read as a big-endian unsigned number of that size.
 * Addresses must be exactly 4 (IPv4), 16 (IPv6) or 6 (MAC) bytes.  An
 * all-zero address never replaces an address already set in the record, so a
 * template carrying both IPv4 and IPv6 fields yields the family that is set.
 *
 * Some targets are fallbacks (octetTotalCount for bytes, bgpNextHop for the
 * next hop, postVlanId for the VLAN, ...): a fallback fills its flow field only
 * while the field is unset, and the primary element overwrites it whatever the
 * order of the two in the template.
 */
#ifndef FS_DECODE_FIELDS_H
#define FS_DECODE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "core/flow.h"
#include "decode/cursor.h"

/* Length that marks a variable-length field in a template (RFC 7011 section 7). */
#define FS_FIELD_VARLEN 65535

/* Destination of a mapped element's value in struct fs_flow. */
enum fs_field_target {
	FS_FT_NONE = 0,
	FS_FT_BYTES,
	FS_FT_BYTES_TOTAL,       /* fallback for bytes */
	FS_FT_PACKETS,
	FS_FT_PACKETS_TOTAL,     /* fallback for packets */
	FS_FT_PROTO,
	FS_FT_TOS,
	FS_FT_TCP_FLAGS,
	FS_FT_SRC_PORT,
	FS_FT_DST_PORT,
	FS_FT_SRC_PORT_ALT,      /* udp/tcpSourcePort, fallback */
	FS_FT_DST_PORT_ALT,      /* udp/tcpDestinationPort, fallback */
	FS_FT_SRC_V4,
	FS_FT_DST_V4,
	FS_FT_SRC_V6,
	FS_FT_DST_V6,
	FS_FT_SRC_MASK,
	FS_FT_DST_MASK,
	FS_FT_IN_IF,
	FS_FT_OUT_IF,
	FS_FT_NEXT_HOP_V4,
	FS_FT_NEXT_HOP_V6,
	FS_FT_BGP_NEXT_HOP_V4,   /* fallback for next_hop */
	FS_FT_BGP_NEXT_HOP_V6,   /* fallback for next_hop */
	FS_FT_SRC_AS,
	FS_FT_DST_AS,
	FS_FT_SRC_MAC,
	FS_FT_DST_MAC,
	FS_FT_POST_SRC_MAC,      /* fallback for src_mac */
	FS_FT_POST_DST_MAC,      /* fallback for dst_mac */
	FS_FT_VLAN,
	FS_FT_VLAN_ALT,          /* postVlanId, dot1qVlanId: fallback */
	FS_FT_ICMP_TYPE_CODE,    /* type * 256 + code */
	FS_FT_ICMP_TYPE,
	FS_FT_ICMP_CODE,
	FS_FT_DIRECTION,
	FS_FT_SAMPLING,          /* 1 in N packets */
	FS_FT_UPTIME_START,      /* ms of exporter uptime */
	FS_FT_UPTIME_END,
	FS_FT_SECONDS_START,     /* Unix seconds */
	FS_FT_SECONDS_END,
	FS_FT_MILLIS_START,      /* Unix ms */
	FS_FT_MILLIS_END,
	FS_FT_NTP_START,         /* NTP 64-bit timestamp (micro or nano) */
	FS_FT_NTP_END,
	FS_FT_DELTA_US_START,    /* µs before the export time */
	FS_FT_DELTA_US_END,
	FS_FT_SYS_INIT_MS,       /* Unix ms of exporter boot */
	FS_FT_PACKET_INTERVAL,   /* packets selected in a row (PSAMP) */
	FS_FT_PACKET_SPACE,      /* packets skipped after them (PSAMP) */
	FS_FT_SAMPLER_ID,        /* samplerId (48) or selectorId (302) */
	FS_FT_SAMPLING_SIZE,     /* samplingSize: n of N random sampling */
	FS_FT_SAMPLING_POPULATION, /* samplingPopulation: the N */
	FS_FT_RESPONDER_OCTETS,  /* NSEL responderOctets: reverse flow bytes */
	FS_FT_RESPONDER_PACKETS, /* NSEL responderPackets: reverse flow packets */
	FS_FT_DATALINK_FRAME,    /* start of the packet, from its layer 2 header (IE 315, v9 104) */
	FS_FT_FIREWALL_EVENT,    /* firewallEvent 233, NSEL 40005 */
	FS_FT_FIREWALL_EVENT_EXTENDED, /* NSEL 33002 */
	FS_FT_NAT_EVENT,         /* natEvent 230 */
	FS_FT_CONNECTION_ID,     /* flowId 148, NSEL connection id */
	FS_FT_POST_NAT_SRC_V4,   /* 225, NSEL 40001 */
	FS_FT_POST_NAT_DST_V4,   /* 226, NSEL 40002 */
	FS_FT_POST_NAT_SRC_V6,   /* 281 */
	FS_FT_POST_NAT_DST_V6,   /* 282 */
	FS_FT_POST_NAT_SRC_PORT, /* 227, NSEL 40003 */
	FS_FT_POST_NAT_DST_PORT, /* 228, NSEL 40004 */
	FS_FT_EVENT_SECONDS,     /* observationTimeSeconds 322, Unix seconds */
	FS_FT_EVENT_MILLIS,      /* observationTimeMilliseconds 323, Unix ms */
	FS_FT_EVENT_NTP,         /* observationTimeMicro/Nanoseconds 324/325, NTP format */
	FS_FT_ENTERPRISE,        /* kept raw in fs_flow.enterprise (fs_field_keep_enterprise()) */
	FS_FT_COUNT
};

/* Wire encoding of a mapped element. */
enum fs_field_kind {
	FS_FK_UINT = 0, /* 1..8 bytes, big-endian */
	FS_FK_ADDR4,    /* exactly 4 bytes */
	FS_FK_ADDR6,    /* exactly 16 bytes */
	FS_FK_MAC,      /* exactly 6 bytes */
	FS_FK_NTP,      /* exactly 8 bytes */
	FS_FK_BYTES,    /* any length of 1 or more: kept as a pointer into the record */
};

/* One row of the element table. */
struct fs_field_def {
	uint16_t id;    /* IANA element id, enterprise bit clear */
	uint8_t target; /* enum fs_field_target */
	uint8_t kind;   /* enum fs_field_kind */
	const char *name;
};

/* Returns the table row for element id (PEN 0), or NULL when it is not mapped. */
const struct fs_field_def *fs_field_lookup(uint16_t id);

/* Enterprise number of the RFC 5103 reverse information elements. */
#define FS_PEN_REVERSE 29305

/*
 * Largest sampling rate taken as sane.  A rate of 0, or above this, is
 * counted as invalid and never applied to a record.
 */
#define FS_FIELD_MAX_SAMPLING_RATE (1u << 24)

/* Returns true when len bytes is a valid encoding for kind. */
bool fs_field_length_ok(enum fs_field_kind kind, size_t len);

/*
 * Values of one record that are resolved only after the whole record is read.
 * An uptime value needs the exporter's boot time, which may come later in the
 * same record.  The PSAMP interval and space together give the sampling rate.
 */
struct fs_field_deferred {
	uint32_t seen;              /* bits: 1 << (target - FS_FT_UPTIME_START) */
	int64_t start_ns, end_ns;   /* from absolute elements */
	uint32_t uptime_start_ms, uptime_end_ms;
	uint64_t delta_start_us, delta_end_us;
	uint64_t sys_init_ms;
	uint32_t packet_interval, packet_space;
	uint32_t sampling_size, sampling_population;
	uint64_t sampler_id;
	const uint8_t *frame;       /* dataLinkFrameSection bytes, borrowed from the datagram; NULL when absent */
	size_t frame_len;
	bool sampling_invalid;      /* a rate of 0 or above FS_FIELD_MAX_SAMPLING_RATE was seen */
	uint16_t enterprise_dropped; /* enterprise elements that did not fit the flow */
};

/* The clock of the message that carried a record. */
struct fs_export_clock {
	int64_t export_ns;      /* header export time, Unix ns */
	bool has_uptime;        /* false for IPFIX, which has no uptime in its header */
	uint32_t sys_uptime_ms; /* header uptime (v5, v9) */
	bool has_sys_init;      /* IPFIX: systemInitTimeMilliseconds from options data */
	uint64_t sys_init_ms;   /* Unix ms of exporter boot */
};

/*
 * Stores one element value of len bytes into flow or times.  A value whose
 * length does not fit its kind (possible only for variable-length fields) is
 * ignored.  A datalink frame is kept in times as a pointer to value, so value
 * must outlive the use of times.  Never allocates.
 */
void fs_field_apply(struct fs_flow *flow, struct fs_field_deferred *times,
		    enum fs_field_target target, const uint8_t *value, size_t len);

/*
 * Store operation of a fixed-length element, chosen once per template field
 * by fs_field_plan(), so that a record is decoded without the switches of
 * fs_field_apply().  Only targets stored by a plain assignment get an op of
 * their own.  Every other target is FS_FOP_GENERIC.  For the 18 fields of a
 * NetFlow v9 template, this took the field loop from about 1,100 to 610
 * instructions per flow (callgrind of `flowsift-bench stage --stage encode`).
 */
enum fs_field_op {
	FS_FOP_GENERIC = 0, /* fs_field_apply() */
	FS_FOP_U8,          /* any width: the last byte into a uint8_t member */
	FS_FOP_U16_FROM2,   /* 2 bytes into a uint16_t member */
	FS_FOP_U32_FROM2,   /* 2 bytes into a uint32_t member */
	FS_FOP_U32_FROM4,   /* 4 bytes into a uint32_t member */
	FS_FOP_U64_FROM4,   /* 4 bytes into a uint64_t member */
	FS_FOP_U64_FROM8,   /* 8 bytes into a uint64_t member */
	FS_FOP_ADDR4,       /* 4 bytes into a struct fs_addr, unless the address is set already */
	FS_FOP_UPTIME4,     /* 4 bytes into a uint32_t member of struct fs_field_deferred */
	FS_FOP_DEFERRED,    /* fs_field_apply_deferred(): the other deferred values */
};

/* A field's store, precomputed by fs_field_plan(). */
struct fs_field_plan {
	uint8_t op;      /* enum fs_field_op */
	/*
	 * Offset of the member in struct fs_flow (U8 to ADDR4) or in struct
	 * fs_field_deferred (UPTIME4).
	 */
	uint16_t member;
	/* Presence bit of struct fs_flow, or for UPTIME4 the bit of fs_field_deferred.seen. */
	uint64_t bit;
};

/*
 * Fills *plan with the store of target for a fixed length of len bytes,
 * which fs_field_length_ok() accepted.  The plan stores into the forward
 * flow, so reverse (RFC 5103) and enterprise elements have no plan.
 */
void fs_field_plan(enum fs_field_target target, size_t len, struct fs_field_plan *plan);

/* Stores a deferred value (targets FS_FT_UPTIME_START to FS_FT_SAMPLING_POPULATION). */
void fs_field_apply_deferred(struct fs_field_deferred *times, enum fs_field_target target,
			     uint64_t v);

/*
 * Big-endian reads of a value of at least 2, 4 or 8 bytes.  gcc 12 -O2
 * compiles the shifts into one load and a byte swap.
 */
static inline uint32_t
fs_field_be16(const uint8_t *value)
{
	return (uint32_t)value[0] << 8 | value[1];
}

static inline uint32_t
fs_field_be32(const uint8_t *value)
{
	return (uint32_t)value[0] << 24 | (uint32_t)value[1] << 16 | (uint32_t)value[2] << 8 |
	       value[3];
}

static inline uint64_t
fs_field_be64(const uint8_t *value)
{
	return (uint64_t)fs_field_be32(value) << 32 | fs_field_be32(value + 4);
}

/*
 * Stores the value of len bytes at value with the store of plan.  The result
 * is that of fs_field_apply(flow, times, target, value, len).
 */
static inline void
fs_field_apply_planned(struct fs_flow *flow, struct fs_field_deferred *times,
		       const struct fs_field_plan *plan, enum fs_field_target target,
		       const uint8_t *value, size_t len)
{
	uint8_t *member = (uint8_t *)flow + plan->member;
	struct fs_addr *addr;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (plan->op) {
	case FS_FOP_U8:
		*member = value[len - 1];
		break;
	case FS_FOP_U16_FROM2:
		u16 = (uint16_t)fs_field_be16(value);
		memcpy(member, &u16, sizeof(u16));
		break;
	case FS_FOP_U32_FROM2:
		u32 = fs_field_be16(value);
		memcpy(member, &u32, sizeof(u32));
		break;
	case FS_FOP_U32_FROM4:
		u32 = fs_field_be32(value);
		memcpy(member, &u32, sizeof(u32));
		break;
	case FS_FOP_U64_FROM4:
		u64 = fs_field_be32(value);
		memcpy(member, &u64, sizeof(u64));
		break;
	case FS_FOP_U64_FROM8:
		u64 = fs_field_be64(value);
		memcpy(member, &u64, sizeof(u64));
		break;
	case FS_FOP_ADDR4:
		/* An address set already goes through the all-zero rule of fs_field_apply(). */
		if ((flow->present & plan->bit) != 0) {
			fs_field_apply(flow, times, target, value, len);
			return;
		}
		addr = (struct fs_addr *)member;
		memset(addr, 0, sizeof(*addr));
		addr->family = 4;
		memcpy(addr->bytes, value, 4);
		break;
	case FS_FOP_UPTIME4:
		u32 = fs_field_be32(value);
		memcpy((uint8_t *)times + plan->member, &u32, sizeof(u32));
		times->seen |= (uint32_t)plan->bit;
		return;
	case FS_FOP_DEFERRED:
		fs_field_apply_deferred(times, target, fs_be_uint(value, len));
		return;
	default:
		fs_field_apply(flow, times, target, value, len);
		return;
	}
	flow->present |= plan->bit;
}

/*
 * Returns true when a template field that the element table does not map is
 * kept as a raw enterprise element.  With ipfix true, that is an element with
 * an enterprise number other than the RFC 5103 reverse one.  Otherwise it is
 * a NetFlow v9 field type of 32768 or more, the range of the IPFIX
 * enterprise bit.
 */
bool fs_field_is_enterprise(bool ipfix, uint32_t pen, uint16_t id);

/*
 * Appends an enterprise element's value of len bytes to flow's enterprise
 * elements, or counts it in times->enterprise_dropped when the flow has
 * FS_FLOW_MAX_ENTERPRISE_ELEMENTS already or its bytes are full.  The
 * decoder trims the list to its configured limit afterwards.
 */
void fs_field_keep_enterprise(struct fs_flow *flow, struct fs_field_deferred *times,
			      uint32_t pen, uint16_t id, const uint8_t *value, size_t len);

/*
 * Returns true when the deferred values hold element target.  Inline,
 * because the decoder checks once per record and the call took about 10
 * instructions per flow (callgrind).
 */
static inline bool
fs_field_seen(const struct fs_field_deferred *times, enum fs_field_target target)
{
	return (times->seen & (1u << (target - FS_FT_UPTIME_START))) != 0;
}

/*
 * Resolves the deferred values of one record into flow: start and end times,
 * and the sampling rate (interval + space) / interval, or population / size,
 * unless the record gave a rate of its own.  A rate of 0 or above
 * FS_FIELD_MAX_SAMPLING_RATE is not applied and sets times->sampling_invalid.
 */
void fs_field_finish(struct fs_field_deferred *times,
		     const struct fs_export_clock *clock, struct fs_flow *flow);

/*
 * Converts an uptime stamp to Unix ns given the header's export time and
 * uptime.  The difference is taken as signed 32-bit, so a stamp slightly after
 * the header uptime and an uptime that wrapped around 2^32 ms both work.
 */
int64_t fs_uptime_to_unix_ns(int64_t export_ns, uint32_t sys_uptime_ms,
			     uint32_t stamp_ms);

#endif
