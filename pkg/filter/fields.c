/*
 * fields.c - the field and keyword tables of the filter language.
 *
 * To make a new struct fs_flow field filterable, add one row to
 * fs_filter_fields[] with FIELD(); to give it an nfdump-style keyword, add a
 * row to fs_filter_keywords[].
 */
#include "filter/fields.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#define FIELD(member, kind, bit, names, doc) \
	{ #member, kind, offsetof(struct fs_flow, member), \
	  sizeof(((struct fs_flow *)0)->member), bit, names, NULL, doc }

#define COMPUTED(name, fn, doc) \
	{ name, FS_FK_COMPUTED, 0, 8, 0, NULL, fn, doc }

/* A computed field whose values are 0..255. */
#define COMPUTED_BYTE(name, fn, doc) \
	{ name, FS_FK_COMPUTED, 0, 1, 0, NULL, fn, doc }

/* IANA protocol numbers that have a common name. */
static const struct fs_filter_name proto_names[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "ipip", 4 }, { "tcp", 6 }, { "egp", 8 },
	{ "udp", 17 }, { "ipv6", 41 }, { "rsvp", 46 }, { "gre", 47 },
	{ "esp", 50 }, { "ah", 51 }, { "icmp6", 58 }, { "ipv6-icmp", 58 },
	{ "eigrp", 88 }, { "ospf", 89 }, { "pim", 103 }, { "vrrp", 112 },
	{ "l2tp", 115 }, { "sctp", 132 }, { NULL, 0 },
};

static const struct fs_filter_name flow_type_names[] = {
	{ "netflow_v5", FS_FLOW_NETFLOW_V5 }, { "netflow_v9", FS_FLOW_NETFLOW_V9 },
	{ "ipfix", FS_FLOW_IPFIX }, { "sflow_v5", FS_FLOW_SFLOW_V5 }, { NULL, 0 },
};

static const struct fs_filter_name flow_direction_names[] = {
	{ "ingress", FS_DIR_INGRESS }, { "egress", FS_DIR_EGRESS }, { NULL, 0 },
};

static const struct fs_filter_name traffic_direction_names[] = {
	{ "inbound", FS_TRAFFIC_INBOUND }, { "outbound", FS_TRAFFIC_OUTBOUND },
	{ "internal", FS_TRAFFIC_INTERNAL }, { "external", FS_TRAFFIC_EXTERNAL },
	{ NULL, 0 },
};

static const struct fs_filter_name sampling_source_names[] = {
	{ "exporter", FS_SAMPLING_EXPORTER }, { "options", FS_SAMPLING_OPTIONS },
	{ "sflow", FS_SAMPLING_SFLOW }, { "override", FS_SAMPLING_OVERRIDE },
	{ "none", FS_SAMPLING_NONE }, { NULL, 0 },
};

static bool
compute_duration(const struct fs_flow *flow, uint64_t *value)
{
	int64_t ns;

	if (!fs_flow_has(flow, FS_F_TIME_FLOW_START) || !fs_flow_has(flow, FS_F_TIME_FLOW_END))
		return false;
	ns = flow->time_flow_end_ns - flow->time_flow_start_ns;
	*value = ns > 0 ? (uint64_t)ns / 1000000u : 0;
	return true;
}

/* Scales count per millisecond of duration to per second; a zero duration gives 0, as nfdump does. */
static bool
rate_per_second(const struct fs_flow *flow, uint64_t count, uint64_t *value)
{
	uint64_t ms;

	if (!compute_duration(flow, &ms))
		return false;
	*value = ms == 0 ? 0 : (uint64_t)((double)count * 1000.0 / (double)ms);
	return true;
}

static bool
compute_bps(const struct fs_flow *flow, uint64_t *value)
{
	if (!fs_flow_has(flow, FS_F_BYTES))
		return false;
	return rate_per_second(flow, flow->bytes * 8u, value);
}

static bool
compute_pps(const struct fs_flow *flow, uint64_t *value)
{
	if (!fs_flow_has(flow, FS_F_PACKETS))
		return false;
	return rate_per_second(flow, flow->packets, value);
}

static bool
compute_bpp(const struct fs_flow *flow, uint64_t *value)
{
	if (!fs_flow_has(flow, FS_F_BYTES) || !fs_flow_has(flow, FS_F_PACKETS))
		return false;
	*value = flow->packets == 0 ? 0 : flow->bytes / flow->packets;
	return true;
}

static bool
compute_dscp(const struct fs_flow *flow, uint64_t *value)
{
	if (!fs_flow_has(flow, FS_F_TOS))
		return false;
	*value = flow->tos >> 2;
	return true;
}

static bool
is_icmp(const struct fs_flow *flow)
{
	return fs_flow_has(flow, FS_F_PROTO) && (flow->proto == 1 || flow->proto == 58);
}

/*
 * The ICMP type of an ICMP or ICMPv6 flow, as nfdump 1.7.1 reads it for
 * `icmp-type`.  Exporters without ICMP fields, such as NetFlow v5, put
 * type * 256 + code in the destination port, so that is the fallback.  A
 * flow of another protocol has no ICMP type.
 */
static bool
compute_icmp_type(const struct fs_flow *flow, uint64_t *value)
{
	if (!is_icmp(flow))
		return false;
	if (fs_flow_has(flow, FS_F_ICMP_TYPE)) {
		*value = flow->icmp_type;
		return true;
	}
	if (!fs_flow_has(flow, FS_F_DST_PORT))
		return false;
	*value = flow->dst_port >> 8;
	return true;
}

/* The ICMP code of an ICMP or ICMPv6 flow, with the fallback of compute_icmp_type(). */
static bool
compute_icmp_code(const struct fs_flow *flow, uint64_t *value)
{
	if (!is_icmp(flow))
		return false;
	if (fs_flow_has(flow, FS_F_ICMP_CODE)) {
		*value = flow->icmp_code;
		return true;
	}
	if (!fs_flow_has(flow, FS_F_DST_PORT))
		return false;
	*value = flow->dst_port & 0xffu;
	return true;
}

const struct fs_filter_field fs_filter_fields[] = {
	FIELD(flow_type, FS_FK_UINT, 0, flow_type_names, "export protocol"),
	FIELD(exporter_addr, FS_FK_ADDR, 0, NULL, "exporter address"),
	FIELD(exporter_port, FS_FK_UINT, 0, NULL, "exporter UDP source port"),
	FIELD(observation_domain_id, FS_FK_UINT, FS_F_OBSERVATION_DOMAIN, NULL,
	      "v9 source id or IPFIX observation domain"),
	FIELD(sequence, FS_FK_UINT, FS_F_SEQUENCE, NULL, "export header sequence number"),
	FIELD(time_received_ns, FS_FK_INT64, 0, NULL, "arrival time, Unix ns"),
	FIELD(time_flow_start_ns, FS_FK_INT64, FS_F_TIME_FLOW_START, NULL, "flow start, Unix ns"),
	FIELD(time_flow_end_ns, FS_FK_INT64, FS_F_TIME_FLOW_END, NULL, "flow end, Unix ns"),
	FIELD(sampling_rate, FS_FK_UINT, FS_F_SAMPLING_RATE, NULL, "1 in N packets sampled"),
	FIELD(src_addr, FS_FK_ADDR, FS_F_SRC_ADDR, NULL, "source address"),
	FIELD(dst_addr, FS_FK_ADDR, FS_F_DST_ADDR, NULL, "destination address"),
	FIELD(next_hop, FS_FK_ADDR, FS_F_NEXT_HOP, NULL, "next-hop address"),
	FIELD(src_port, FS_FK_UINT, FS_F_SRC_PORT, NULL, "source port"),
	FIELD(dst_port, FS_FK_UINT, FS_F_DST_PORT, NULL, "destination port"),
	FIELD(proto, FS_FK_UINT, FS_F_PROTO, proto_names, "IP protocol"),
	FIELD(tcp_flags, FS_FK_FLAGS, FS_F_TCP_FLAGS, NULL, "TCP flags seen in the flow"),
	FIELD(tos, FS_FK_UINT, FS_F_TOS, NULL, "IP type of service byte"),
	FIELD(src_mask, FS_FK_UINT, FS_F_SRC_MASK, NULL, "source prefix length"),
	FIELD(dst_mask, FS_FK_UINT, FS_F_DST_MASK, NULL, "destination prefix length"),
	FIELD(icmp_type, FS_FK_UINT, FS_F_ICMP_TYPE, NULL, "ICMP type"),
	FIELD(icmp_code, FS_FK_UINT, FS_F_ICMP_CODE, NULL, "ICMP code"),
	FIELD(flow_direction, FS_FK_UINT, FS_F_FLOW_DIRECTION, flow_direction_names,
	      "direction the exporter observed the flow in"),
	FIELD(vlan_id, FS_FK_UINT, FS_F_VLAN_ID, NULL, "VLAN id"),
	FIELD(bytes, FS_FK_UINT, FS_F_BYTES, NULL, "bytes, as exported"),
	FIELD(packets, FS_FK_UINT, FS_F_PACKETS, NULL, "packets, as exported"),
	FIELD(in_if, FS_FK_UINT, FS_F_IN_IF, NULL, "input interface index"),
	FIELD(out_if, FS_FK_UINT, FS_F_OUT_IF, NULL, "output interface index"),
	FIELD(src_as, FS_FK_UINT, FS_F_SRC_AS, NULL, "source AS number"),
	FIELD(dst_as, FS_FK_UINT, FS_F_DST_AS, NULL, "destination AS number"),
	FIELD(src_mac, FS_FK_MAC, FS_F_SRC_MAC, NULL, "source MAC address"),
	FIELD(dst_mac, FS_FK_MAC, FS_F_DST_MAC, NULL, "destination MAC address"),
	FIELD(src_country, FS_FK_STRING, FS_F_SRC_COUNTRY, NULL, "source country, ISO 3166-1 alpha-2"),
	FIELD(dst_country, FS_FK_STRING, FS_F_DST_COUNTRY, NULL, "destination country, ISO 3166-1 alpha-2"),
	FIELD(src_city, FS_FK_STRING, FS_F_SRC_CITY, NULL, "source city"),
	FIELD(dst_city, FS_FK_STRING, FS_F_DST_CITY, NULL, "destination city"),
	FIELD(src_as_org, FS_FK_STRING, FS_F_SRC_AS_ORG, NULL, "organisation of the source AS"),
	FIELD(dst_as_org, FS_FK_STRING, FS_F_DST_AS_ORG, NULL, "organisation of the destination AS"),
	FIELD(exporter_name, FS_FK_STRING, FS_F_EXPORTER_NAME, NULL, "exporter name"),
	FIELD(exporter_site, FS_FK_STRING, FS_F_EXPORTER_SITE, NULL, "exporter site"),
	FIELD(in_if_name, FS_FK_STRING, FS_F_IN_IF_NAME, NULL, "input interface name (ifName)"),
	FIELD(in_if_description, FS_FK_STRING, FS_F_IN_IF_DESCRIPTION, NULL,
	      "input interface description (ifAlias)"),
	FIELD(in_if_speed, FS_FK_UINT, FS_F_IN_IF_SPEED, NULL, "input interface speed, bit/s"),
	FIELD(out_if_name, FS_FK_STRING, FS_F_OUT_IF_NAME, NULL, "output interface name (ifName)"),
	FIELD(out_if_description, FS_FK_STRING, FS_F_OUT_IF_DESCRIPTION, NULL,
	      "output interface description (ifAlias)"),
	FIELD(out_if_speed, FS_FK_UINT, FS_F_OUT_IF_SPEED, NULL, "output interface speed, bit/s"),
	FIELD(src_tags, FS_FK_TAGS, FS_F_SRC_TAGS, NULL, "tags of the source prefix"),
	FIELD(dst_tags, FS_FK_TAGS, FS_F_DST_TAGS, NULL, "tags of the destination prefix"),
	FIELD(traffic_direction, FS_FK_UINT, FS_F_TRAFFIC_DIRECTION, traffic_direction_names,
	      "direction relative to the home networks"),
	FIELD(sampling_source, FS_FK_UINT, FS_F_SAMPLING_SOURCE, sampling_source_names,
	      "where sampling_rate came from"),
	FIELD(exported_bytes, FS_FK_UINT, FS_F_EXPORTED_BYTES, NULL, "bytes before sampling scaling"),
	FIELD(exported_packets, FS_FK_UINT, FS_F_EXPORTED_PACKETS, NULL,
	      "packets before sampling scaling"),
	FIELD(src_service, FS_FK_STRING, FS_F_SRC_SERVICE, NULL, "service name of src_port"),
	FIELD(dst_service, FS_FK_STRING, FS_F_DST_SERVICE, NULL, "service name of dst_port"),
	FIELD(firewall_event, FS_FK_UINT, FS_F_FIREWALL_EVENT, NULL,
	      "firewall event: 1 created, 2 deleted, 3 denied, 4 alert, 5 update"),
	FIELD(firewall_event_extended, FS_FK_UINT, FS_F_FIREWALL_EVENT_EXTENDED, NULL,
	      "Cisco ASA extended firewall event code"),
	FIELD(nat_event, FS_FK_UINT, FS_F_NAT_EVENT, NULL, "NAT event code (IPFIX natEvent)"),
	FIELD(connection_id, FS_FK_UINT, FS_F_CONNECTION_ID, NULL, "connection or flow id of the exporter"),
	FIELD(post_nat_src_addr, FS_FK_ADDR, FS_F_POST_NAT_SRC_ADDR, NULL, "source address after NAT"),
	FIELD(post_nat_dst_addr, FS_FK_ADDR, FS_F_POST_NAT_DST_ADDR, NULL,
	      "destination address after NAT"),
	FIELD(post_nat_src_port, FS_FK_UINT, FS_F_POST_NAT_SRC_PORT, NULL, "source port after NAPT"),
	FIELD(post_nat_dst_port, FS_FK_UINT, FS_F_POST_NAT_DST_PORT, NULL,
	      "destination port after NAPT"),
	FIELD(event_time_ns, FS_FK_INT64, FS_F_EVENT_TIME, NULL, "time of the reported event, Unix ns"),
	COMPUTED("duration", compute_duration, "flow end minus flow start, ms"),
	COMPUTED("bps", compute_bps, "bits per second over the flow's duration"),
	COMPUTED("pps", compute_pps, "packets per second over the flow's duration"),
	COMPUTED("bpp", compute_bpp, "bytes per packet"),
	COMPUTED("dscp", compute_dscp, "DSCP, the upper 6 bits of tos"),
	COMPUTED_BYTE("icmp-type", compute_icmp_type,
		      "ICMP type of an ICMP or ICMPv6 flow (dst_port / 256 without icmp_type)"),
	COMPUTED_BYTE("icmp-code", compute_icmp_code,
		      "ICMP code of an ICMP or ICMPv6 flow (dst_port % 256 without icmp_code)"),
};

const size_t fs_filter_field_count = sizeof(fs_filter_fields) / sizeof(fs_filter_fields[0]);

const struct fs_filter_keyword fs_filter_keywords[] = {
	{ "host", "src_addr", "dst_addr" },
	{ "ip", "src_addr", "dst_addr" },
	{ "net", "src_addr", "dst_addr" },
	{ "port", "src_port", "dst_port" },
	{ "as", "src_as", "dst_as" },
	{ "mask", "src_mask", "dst_mask" },
	{ "mac", "src_mac", "dst_mac" },
	{ "if", "in_if", "out_if" },
	{ "proto", "proto", NULL },
	{ "tos", "tos", NULL },
	{ "vlan", "vlan_id", NULL },
	{ "exporter", "exporter_addr", NULL },
	{ "nexthop", "next_hop", NULL },
	{ "packets", "packets", NULL },
	{ "bytes", "bytes", NULL },
	{ "flags", "tcp_flags", NULL },
	{ "sampling", "sampling_rate", NULL },
	{ "type", "flow_type", NULL },
	{ "country", "src_country", "dst_country" },
	{ "city", "src_city", "dst_city" },
	{ "org", "src_as_org", "dst_as_org" },
	{ "tag", "src_tags", "dst_tags" },
	{ "service", "src_service", "dst_service" },
	{ "ifname", "in_if_name", "out_if_name" },
	{ "ifdesc", "in_if_description", "out_if_description" },
	{ "ifspeed", "in_if_speed", "out_if_speed" },
	{ "site", "exporter_site", NULL },
	{ "direction", "traffic_direction", NULL },
};

const size_t fs_filter_keyword_count = sizeof(fs_filter_keywords) / sizeof(fs_filter_keywords[0]);

int
fs_filter_field_find(const char *name, size_t len)
{
	for (size_t i = 0; i < fs_filter_field_count; i++) {
		const char *candidate = fs_filter_fields[i].name;

		if (strlen(candidate) == len && strncasecmp(candidate, name, len) == 0)
			return (int)i;
	}
	return -1;
}

const struct fs_filter_keyword *
fs_filter_keyword_find(const char *name, size_t len)
{
	for (size_t i = 0; i < fs_filter_keyword_count; i++) {
		const char *candidate = fs_filter_keywords[i].keyword;

		if (strlen(candidate) == len && strncasecmp(candidate, name, len) == 0)
			return &fs_filter_keywords[i];
	}
	return NULL;
}

bool
fs_filter_field_uint(const struct fs_flow *flow, int index, uint64_t *value)
{
	const struct fs_filter_field *field = &fs_filter_fields[index];
	const uint8_t *p = (const uint8_t *)flow + field->offset;

	if (field->kind == FS_FK_COMPUTED)
		return field->compute(flow, value);
	if (field->present_bit != 0 && (flow->present & field->present_bit) == 0)
		return false;
	switch (field->size) {
	case 1:
		*value = *p;
		break;
	case 2: {
		uint16_t v;

		memcpy(&v, p, sizeof(v));
		*value = v;
		break;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		*value = v;
		break;
	}
	default: {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		/* Flipping the sign bit maps int64 order onto uint64 order. */
		*value = field->kind == FS_FK_INT64 ? v ^ (1ull << 63) : v;
		break;
	}
	}
	return true;
}
