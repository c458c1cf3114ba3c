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
 * memset and kept in arrays without ownership rules.  Text fields are
 * NUL-terminated UTF-8 in fixed arrays (FS_FLOW_*_LEN bytes, NUL included);
 * fs_flow_set_text() fills them so that they always hold valid UTF-8 without
 * control characters.
 *
 * Fields from FS_F_SRC_COUNTRY to FS_F_DST_SERVICE are set by
 * flowsift-enrich (docs/enrich.md) and are present only in flows.enriched,
 * except sampling_source, which a decoder may set to tell where
 * sampling_rate came from.  The firewall, NAT and enterprise fields after
 * them are set by the decoders again.
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
	/* Set by flowsift-enrich; bit values and names are part of the API. */
	FS_F_SRC_COUNTRY = 1ull << 27,
	FS_F_DST_COUNTRY = 1ull << 28,
	FS_F_SRC_CITY = 1ull << 29,
	FS_F_DST_CITY = 1ull << 30,
	FS_F_SRC_AS_ORG = 1ull << 31,
	FS_F_DST_AS_ORG = 1ull << 32,
	FS_F_EXPORTER_NAME = 1ull << 33,
	FS_F_EXPORTER_SITE = 1ull << 34,
	FS_F_IN_IF_NAME = 1ull << 35,
	FS_F_IN_IF_DESCRIPTION = 1ull << 36,
	FS_F_IN_IF_SPEED = 1ull << 37,
	FS_F_OUT_IF_NAME = 1ull << 38,
	FS_F_OUT_IF_DESCRIPTION = 1ull << 39,
	FS_F_OUT_IF_SPEED = 1ull << 40,
	FS_F_SRC_TAGS = 1ull << 41,
	FS_F_DST_TAGS = 1ull << 42,
	FS_F_TRAFFIC_DIRECTION = 1ull << 43,
	FS_F_EXPORTED_BYTES = 1ull << 44,
	FS_F_EXPORTED_PACKETS = 1ull << 45,
	FS_F_SAMPLING_SOURCE = 1ull << 46,
	FS_F_SRC_SERVICE = 1ull << 47,
	FS_F_DST_SERVICE = 1ull << 48,
	/* Firewall and NAT events (Cisco NSEL and NEL, IPFIX). */
	FS_F_FIREWALL_EVENT = 1ull << 49,
	FS_F_FIREWALL_EVENT_EXTENDED = 1ull << 50,
	FS_F_NAT_EVENT = 1ull << 51,
	FS_F_CONNECTION_ID = 1ull << 52,
	FS_F_POST_NAT_SRC_ADDR = 1ull << 53,
	FS_F_POST_NAT_DST_ADDR = 1ull << 54,
	FS_F_POST_NAT_SRC_PORT = 1ull << 55,
	FS_F_POST_NAT_DST_PORT = 1ull << 56,
	FS_F_EVENT_TIME = 1ull << 57,
	/* Set when enterprise_count > 0. */
	FS_F_ENTERPRISE_ELEMENTS = 1ull << 58,
};

/* Exporter's direction of observation (IPFIX IE 61 flowDirection). */
enum fs_flow_direction {
	FS_DIR_INGRESS = 0,
	FS_DIR_EGRESS = 1,
};

/*
 * Direction of a flow relative to the home networks (enrich.home.networks);
 * the names match the Avro enum TrafficDirection.
 */
enum fs_traffic_direction {
	FS_TRAFFIC_INBOUND = 0,  /* from outside to a home network */
	FS_TRAFFIC_OUTBOUND = 1, /* from a home network to outside */
	FS_TRAFFIC_INTERNAL = 2, /* both ends in home networks */
	FS_TRAFFIC_EXTERNAL = 3, /* neither end in a home network */
	FS_TRAFFIC_DIRECTION_COUNT
};

/*
 * Source of sampling_rate.  The names match the Avro enum
 * SamplingSource.  FS_SAMPLING_NONE means the rate is unknown: the counters
 * are as exported and sampling_rate is absent.
 */
enum fs_sampling_source {
	FS_SAMPLING_EXPORTER = 0, /* the flow record or packet header */
	FS_SAMPLING_OPTIONS = 1,  /* a NetFlow v9 or IPFIX options record */
	FS_SAMPLING_SFLOW = 2,    /* the sFlow flow sample */
	FS_SAMPLING_OVERRIDE = 3, /* enrich.sampling.override for the exporter */
	FS_SAMPLING_NONE = 4,     /* unknown */
	FS_SAMPLING_SOURCE_COUNT
};

/* Array sizes of the text fields, terminating NUL included. */
#define FS_FLOW_COUNTRY_LEN 3         /* ISO 3166-1 alpha-2 code */
#define FS_FLOW_CITY_LEN 48
#define FS_FLOW_AS_ORG_LEN 64
#define FS_FLOW_EXPORTER_NAME_LEN 48
#define FS_FLOW_SITE_LEN 32
#define FS_FLOW_IF_NAME_LEN 32
#define FS_FLOW_IF_DESCRIPTION_LEN 64
#define FS_FLOW_TAGS_LEN 96
#define FS_FLOW_SERVICE_LEN 16

/*
 * Enterprise elements a flow can keep, and the bytes their values share.
 * Ixia (enterprise 3054) IPFIX records carry 20 enterprise elements.  The
 * 32 entries and 512 bytes make struct fs_flow 1,920 bytes, 448 more than
 * 16 entries and 256 bytes; docs/decoding.md gives the measured cost.
 */
#define FS_FLOW_MAX_ENTERPRISE_ELEMENTS 32
#define FS_FLOW_ENTERPRISE_BYTES 512

/*
 * An element the decoder has no field for, kept with its raw value: an IPFIX
 * element with the enterprise bit set, or a NetFlow v9 field type of 32768
 * or more.  v9 has no enterprise numbers, so enterprise is 0 there and
 * element_id is the whole field type.  The value, as sent, is
 * enterprise_bytes[offset .. offset + length) of the same flow.
 */
struct fs_enterprise_element {
	uint32_t enterprise;    /* IANA private enterprise number */
	uint16_t element_id;    /* IPFIX: enterprise bit cleared */
	uint16_t offset;
	uint16_t length;
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
	uint32_t sampling_rate;           /* 1 in N packets; see sampling_source */
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
	/* As exported in flows.raw; in flows.enriched, exported x sampling_rate. */
	uint64_t bytes;
	uint64_t packets;
	uint32_t in_if;
	uint32_t out_if;
	uint32_t src_as;
	uint32_t dst_as;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];

	/*
	 * Enriched fields.  Text is "" and the presence bit clear when the
	 * source (database, map, poll) had no value.
	 */
	char src_country[FS_FLOW_COUNTRY_LEN];  /* ISO 3166-1 alpha-2, "FR" */
	char dst_country[FS_FLOW_COUNTRY_LEN];
	char src_city[FS_FLOW_CITY_LEN];        /* English name */
	char dst_city[FS_FLOW_CITY_LEN];
	char src_as_org[FS_FLOW_AS_ORG_LEN];    /* organisation of src_as */
	char dst_as_org[FS_FLOW_AS_ORG_LEN];
	char exporter_name[FS_FLOW_EXPORTER_NAME_LEN];
	char exporter_site[FS_FLOW_SITE_LEN];
	char in_if_name[FS_FLOW_IF_NAME_LEN];   /* ifName, "xe-0/0/1" */
	char in_if_description[FS_FLOW_IF_DESCRIPTION_LEN]; /* ifAlias */
	uint64_t in_if_speed;                   /* bits per second */
	char out_if_name[FS_FLOW_IF_NAME_LEN];
	char out_if_description[FS_FLOW_IF_DESCRIPTION_LEN];
	uint64_t out_if_speed;                  /* bits per second */
	/* Tags of the longest matching prefix: "site=par,role=core". */
	char src_tags[FS_FLOW_TAGS_LEN];
	char dst_tags[FS_FLOW_TAGS_LEN];
	uint8_t traffic_direction;              /* enum fs_traffic_direction */
	uint8_t sampling_source;                /* enum fs_sampling_source */
	uint64_t exported_bytes;                /* bytes before sampling scaling */
	uint64_t exported_packets;              /* packets before sampling scaling */
	char src_service[FS_FLOW_SERVICE_LEN];  /* services(5) name of src_port */
	char dst_service[FS_FLOW_SERVICE_LEN];  /* services(5) name of dst_port */

	/*
	 * Firewall and NAT events: Cisco ASA NSEL, Cisco NEL and the IPFIX
	 * elements they use.  Values as the exporter sent them.
	 */
	uint8_t firewall_event;           /* IE 233 firewallEvent, NSEL 40005: 1 created, 2 deleted, 3 denied, 4 alert, 5 update */
	uint16_t firewall_event_extended; /* NSEL 33002, Cisco's extended event code */
	uint8_t nat_event;                /* IE 230 natEvent */
	uint64_t connection_id;           /* IE 148 flowId, NSEL connection id */
	struct fs_addr post_nat_src_addr; /* IE 225 / 281, NSEL 40001 */
	struct fs_addr post_nat_dst_addr; /* IE 226 / 282, NSEL 40002 */
	uint16_t post_nat_src_port;       /* IE 227, NSEL 40003 */
	uint16_t post_nat_dst_port;       /* IE 228, NSEL 40004 */
	int64_t event_time_ns;            /* Unix ns; IE 322-325 observationTime*, NSEL event time */

	/* Elements without a field of their own; see struct fs_enterprise_element. */
	uint32_t enterprise_count;       /* uint32_t: the Avro writer reads array counts as such */
	uint16_t enterprise_bytes_used;
	struct fs_enterprise_element enterprise[FS_FLOW_MAX_ENTERPRISE_ELEMENTS];
	uint8_t enterprise_bytes[FS_FLOW_ENTERPRISE_BYTES];
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

/*
 * Sets the ICMP type and code of an ICMP or ICMPv6 flow that carries
 * neither from its destination port, where NetFlow v5 and many v9 and IPFIX
 * exporters put type * 256 + code.  The port is kept as exported.  Returns
 * true when it set them.
 */
static inline bool
fs_flow_icmp_from_port(struct fs_flow *flow)
{
	const uint64_t needed = FS_F_PROTO | FS_F_DST_PORT;

	if ((flow->present & needed) != needed ||
	    (flow->present & (FS_F_ICMP_TYPE | FS_F_ICMP_CODE)) != 0 ||
	    (flow->proto != 1 && flow->proto != 58))
		return false;
	flow->icmp_type = (uint8_t)(flow->dst_port >> 8);
	flow->icmp_code = (uint8_t)flow->dst_port;
	flow->present |= FS_F_ICMP_TYPE | FS_F_ICMP_CODE;
	return true;
}

/*
 * Appends an enterprise element with len bytes of value to flow.  Returns
 * false, changing nothing, when the flow already has max elements
 * (at most FS_FLOW_MAX_ENTERPRISE_ELEMENTS) or the value does not fit in
 * the bytes left.
 */
bool fs_flow_add_enterprise(struct fs_flow *flow, uint32_t enterprise, uint16_t element_id,
			    const uint8_t *value, size_t len, unsigned max);

/* Returns the schema name of a flow type ("netflow_v5", ...), or "unknown". */
const char *fs_flow_type_name(enum fs_flow_type type);

/* Returns the schema name of a traffic direction ("inbound", ...), or "unknown". */
const char *fs_traffic_direction_name(enum fs_traffic_direction direction);

/* Returns the schema name of a sampling source ("exporter", ...), or "unknown". */
const char *fs_sampling_source_name(enum fs_sampling_source source);

/*
 * Copies len bytes of text into dst (size bytes, at least 1) as valid UTF-8
 * without control characters, and NUL-terminates it: each control character
 * or byte of an invalid UTF-8 sequence becomes '?', and text that does not
 * fit is cut at a character boundary.  text may contain NUL bytes, which end
 * it.  Returns the length written, NUL excluded.
 */
size_t fs_flow_set_text(char *dst, size_t size, const char *text, size_t len);

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
