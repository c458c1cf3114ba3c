/*
 * packet.c - parser for the first bytes of a sampled packet.
 *
 * References: IEEE 802.3 and 802.1Q (Ethernet, VLAN tags), RFC 3032 (MPLS
 * label stack), RFC 4385 (pseudowire control word), RFC 791 (IPv4),
 * RFC 8200 (IPv6 and its extension headers), RFC 8754 (segment routing
 * header), RFC 4302 (AH), RFC 793, 768, 4960, 792 and 4443 (TCP, UDP, SCTP,
 * ICMP, ICMPv6).
 *
 * Every header is read into locals through a child cursor over its fixed
 * part, and the flow is only written once the whole fixed part was there, so
 * a header cut short leaves no half-read value behind.
 */
#include "decode/packet.h"

#include <stdbool.h>

#include "core/result.h"
#include "decode/cursor.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MULTICAST 0x8848

#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_IPV4 4
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_IPV6 41
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132
#define PROTO_UDPLITE 136

#define ROUTING_TYPE_SRH 4

struct parse_state {
	struct fs_cursor cur;
	struct fs_flow *flow;
	struct fs_packet_info *info;
	int depth;          /* encapsulations entered */
	bool vlan_set;      /* the outermost tag is already in flow->vlan_id */
	unsigned flags;     /* enum fs_packet_flag */
};

static int parse_ethernet(struct parse_state *s);
static int parse_ipv4(struct parse_state *s);
static int parse_ipv6(struct parse_state *s);

/* Returns the cursor's fault, FS_ERR_TRUNCATED when it ran short. */
static int
cursor_result(const struct fs_cursor *cur)
{
	return cur->err != 0 ? cur->err : FS_ERR_TRUNCATED;
}

static int
parse_transport(struct parse_state *s, uint8_t proto)
{
	struct fs_flow *flow = s->flow;
	struct fs_cursor hdr;
	uint16_t src_port, dst_port;
	uint8_t type, code, flags;

	switch (proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
	case PROTO_UDPLITE:
		hdr = fs_cursor_child(&s->cur, 4);
		src_port = fs_cursor_get_u16(&hdr);
		dst_port = fs_cursor_get_u16(&hdr);
		if (!fs_cursor_ok(&hdr))
			return cursor_result(&hdr);
		flow->src_port = src_port;
		flow->dst_port = dst_port;
		flow->present |= FS_F_SRC_PORT | FS_F_DST_PORT;
		if (proto != PROTO_TCP)
			return 0;
		/* The flags byte is byte 13 of the TCP header, 9 past the ports. */
		hdr = fs_cursor_child(&s->cur, 10);
		fs_cursor_skip(&hdr, 9);
		flags = fs_cursor_get_u8(&hdr);
		if (!fs_cursor_ok(&hdr))
			return cursor_result(&hdr);
		flow->tcp_flags = flags;
		flow->present |= FS_F_TCP_FLAGS;
		return 0;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		hdr = fs_cursor_child(&s->cur, 2);
		type = fs_cursor_get_u8(&hdr);
		code = fs_cursor_get_u8(&hdr);
		if (!fs_cursor_ok(&hdr))
			return cursor_result(&hdr);
		flow->icmp_type = type;
		flow->icmp_code = code;
		flow->present |= FS_F_ICMP_TYPE | FS_F_ICMP_CODE;
		return 0;
	default:
		return 0;
	}
}

static int
parse_ipv4(struct parse_state *s)
{
	struct fs_flow *flow = s->flow;
	struct fs_cursor hdr = fs_cursor_child(&s->cur, 20);
	uint8_t version_ihl = fs_cursor_get_u8(&hdr);
	uint8_t tos = fs_cursor_get_u8(&hdr);
	uint16_t total_length = fs_cursor_get_u16(&hdr);
	uint16_t fragment;
	uint8_t ttl, proto;
	uint8_t src[4], dst[4];
	size_t header_len;

	fs_cursor_skip(&hdr, 2); /* identification */
	fragment = fs_cursor_get_u16(&hdr);
	ttl = fs_cursor_get_u8(&hdr);
	proto = fs_cursor_get_u8(&hdr);
	fs_cursor_skip(&hdr, 2); /* checksum */
	fs_cursor_copy(&hdr, src, sizeof(src));
	fs_cursor_copy(&hdr, dst, sizeof(dst));
	if (!fs_cursor_ok(&hdr))
		return cursor_result(&hdr);
	header_len = (size_t)(version_ihl & 0x0f) * 4;
	if (version_ihl >> 4 != 4 || header_len < 20)
		return FS_ERR_INVALID;

	fs_addr_set_v4(&flow->src_addr, src);
	fs_addr_set_v4(&flow->dst_addr, dst);
	flow->proto = proto;
	flow->tos = tos;
	flow->present |= FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_PROTO | FS_F_TOS;
	s->info->ethertype = ETHERTYPE_IPV4;
	s->info->ip_length = total_length;
	s->info->ttl = ttl;

	fs_cursor_skip(&s->cur, header_len - 20); /* options */
	if (!fs_cursor_ok(&s->cur))
		return cursor_result(&s->cur);
	if ((fragment & 0x1fff) != 0) {
		/* Only the first fragment carries the transport header. */
		s->info->fragment = 1;
		return 0;
	}
	return parse_transport(s, proto);
}

/*
 * Skips one IPv6 extension header of type *next and stores the header that
 * follows it in *next.  Sets *srh for a segment routing header and *later_fragment
 * for a fragment header with a non-zero offset.
 */
static int
skip_ipv6_ext_header(struct parse_state *s, uint8_t *next, bool *srh,
		     bool *later_fragment)
{
	struct fs_cursor hdr = fs_cursor_child(&s->cur, 8);
	uint8_t next_header = fs_cursor_get_u8(&hdr);
	uint8_t ext_len = fs_cursor_get_u8(&hdr);
	/* Routing type in the high byte, or the fragment offset in the top 13 bits. */
	uint16_t word = fs_cursor_get_u16(&hdr);
	size_t total;

	if (!fs_cursor_ok(&hdr))
		return cursor_result(&hdr);

	switch (*next) {
	case PROTO_FRAGMENT:
		/* A fragment header has a fixed size of 8 bytes. */
		*later_fragment = (word >> 3) != 0;
		total = 8;
		break;
	case PROTO_AH:
		total = ((size_t)ext_len + 2) * 4;
		break;
	default:
		if (*next == PROTO_ROUTING && word >> 8 == ROUTING_TYPE_SRH)
			*srh = true;
		total = ((size_t)ext_len + 1) * 8;
		break;
	}
	fs_cursor_skip(&s->cur, total - 8);
	if (!fs_cursor_ok(&s->cur))
		return cursor_result(&s->cur);
	*next = next_header;
	return 0;
}

static bool
is_ipv6_ext_header(uint8_t proto)
{
	return proto == PROTO_HOPOPTS || proto == PROTO_ROUTING ||
	       proto == PROTO_FRAGMENT || proto == PROTO_DSTOPTS || proto == PROTO_AH;
}

static int
parse_ipv6(struct parse_state *s)
{
	struct fs_flow *flow = s->flow;
	struct fs_cursor hdr = fs_cursor_child(&s->cur, 40);
	uint32_t version_class_label = fs_cursor_get_u32(&hdr);
	uint16_t payload_length = fs_cursor_get_u16(&hdr);
	uint8_t next = fs_cursor_get_u8(&hdr);
	uint8_t hop_limit = fs_cursor_get_u8(&hdr);
	uint8_t src[16], dst[16];
	bool srh = false, later_fragment = false;
	int rc = 0;

	fs_cursor_copy(&hdr, src, sizeof(src));
	fs_cursor_copy(&hdr, dst, sizeof(dst));
	if (!fs_cursor_ok(&hdr))
		return cursor_result(&hdr);
	if (version_class_label >> 28 != 6)
		return FS_ERR_INVALID;

	fs_addr_set_v6(&flow->src_addr, src);
	fs_addr_set_v6(&flow->dst_addr, dst);
	flow->tos = (uint8_t)(version_class_label >> 20);
	flow->present |= FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_TOS;
	s->info->ethertype = ETHERTYPE_IPV6;
	s->info->ip_length = (uint32_t)payload_length + 40;
	s->info->ttl = hop_limit;

	while (is_ipv6_ext_header(next) && !later_fragment) {
		if (s->info->ipv6_ext_headers == FS_PACKET_MAX_IPV6_EXT_HEADERS) {
			rc = FS_ERR_UNSUPPORTED;
			break;
		}
		s->info->ipv6_ext_headers++;
		rc = skip_ipv6_ext_header(s, &next, &srh, &later_fragment);
		if (rc != 0)
			break;
	}
	/* The protocol is only known once every extension header is skipped. */
	if (rc != 0)
		return rc;
	flow->proto = next;
	flow->present |= FS_F_PROTO;
	if (later_fragment) {
		s->info->fragment = 1;
		return 0;
	}
	if ((srh || (s->flags & FS_PACKET_DECAP_SRV6)) &&
	    (next == PROTO_IPV4 || next == PROTO_IPV6)) {
		if (s->depth == FS_PACKET_MAX_ENCAP_DEPTH)
			return FS_ERR_UNSUPPORTED;
		s->depth++;
		return next == PROTO_IPV4 ? parse_ipv4(s) : parse_ipv6(s);
	}
	return parse_transport(s, next);
}

/*
 * Skips the MPLS label stack and parses what follows the bottom label: IPv4
 * or IPv6 by the first nibble, or an Ethernet frame after a pseudowire
 * control word, whose first nibble is 0.
 */
static int
parse_mpls(struct parse_state *s)
{
	struct fs_cursor peek;
	uint32_t label;
	uint8_t first;

	do {
		if (s->info->mpls_labels == FS_PACKET_MAX_MPLS_LABELS)
			return FS_ERR_UNSUPPORTED;
		label = fs_cursor_get_u32(&s->cur);
		if (!fs_cursor_ok(&s->cur))
			return cursor_result(&s->cur);
		s->info->mpls_labels++;
	} while ((label & 0x100) == 0);

	peek = s->cur;
	first = fs_cursor_get_u8(&peek);
	if (!fs_cursor_ok(&peek))
		return cursor_result(&peek);
	switch (first >> 4) {
	case 4:
		return parse_ipv4(s);
	case 6:
		return parse_ipv6(s);
	case 0:
		if (s->depth == FS_PACKET_MAX_ENCAP_DEPTH)
			return FS_ERR_UNSUPPORTED;
		s->depth++;
		fs_cursor_skip(&s->cur, 4);
		if (!fs_cursor_ok(&s->cur))
			return cursor_result(&s->cur);
		return parse_ethernet(s);
	default:
		return FS_ERR_UNSUPPORTED;
	}
}

static bool
is_vlan_tag(uint16_t ethertype)
{
	return ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ ||
	       ethertype == ETHERTYPE_QINQ_OLD;
}

static int
parse_ethernet(struct parse_state *s)
{
	struct fs_flow *flow = s->flow;
	struct fs_cursor hdr = fs_cursor_child(&s->cur, 14);
	uint8_t dst[6], src[6];
	uint16_t ethertype;

	fs_cursor_copy(&hdr, dst, sizeof(dst));
	fs_cursor_copy(&hdr, src, sizeof(src));
	ethertype = fs_cursor_get_u16(&hdr);
	if (!fs_cursor_ok(&hdr))
		return cursor_result(&hdr);
	memcpy(flow->dst_mac, dst, sizeof(dst));
	memcpy(flow->src_mac, src, sizeof(src));
	flow->present |= FS_F_SRC_MAC | FS_F_DST_MAC;

	while (is_vlan_tag(ethertype)) {
		uint16_t tci;

		if (s->info->vlan_tags == FS_PACKET_MAX_VLAN_TAGS)
			return FS_ERR_UNSUPPORTED;
		hdr = fs_cursor_child(&s->cur, 4);
		tci = fs_cursor_get_u16(&hdr);
		ethertype = fs_cursor_get_u16(&hdr);
		if (!fs_cursor_ok(&hdr))
			return cursor_result(&hdr);
		s->info->vlan_tags++;
		if (!s->vlan_set) {
			flow->vlan_id = tci & 0x0fff;
			flow->present |= FS_F_VLAN_ID;
			s->vlan_set = true;
		}
	}

	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return parse_ipv4(s);
	case ETHERTYPE_IPV6:
		return parse_ipv6(s);
	case ETHERTYPE_MPLS:
	case ETHERTYPE_MPLS_MULTICAST:
		return parse_mpls(s);
	default:
		return FS_ERR_UNSUPPORTED;
	}
}

int
fs_packet_parse(const uint8_t *data, size_t len, enum fs_packet_start start,
		size_t max_bytes, struct fs_flow *flow, struct fs_packet_info *info)
{
	return fs_packet_parse_flags(data, len, start, max_bytes, 0, flow, info);
}

int
fs_packet_parse_flags(const uint8_t *data, size_t len, enum fs_packet_start start,
		      size_t max_bytes, unsigned flags, struct fs_flow *flow,
		      struct fs_packet_info *info)
{
	static const uint8_t empty[1];
	struct fs_packet_info scratch;
	struct parse_state s;

	if (max_bytes == 0)
		max_bytes = FS_PACKET_DEFAULT_MAX_HEADER_BYTES;
	if (len > max_bytes)
		len = max_bytes;
	if (info == NULL)
		info = &scratch;
	memset(info, 0, sizeof(*info));
	fs_cursor_init(&s.cur, data != NULL ? data : empty, data != NULL ? len : 0);
	s.flow = flow;
	s.info = info;
	s.depth = 0;
	s.vlan_set = false;
	s.flags = flags;

	switch (start) {
	case FS_PACKET_ETHERNET:
		return parse_ethernet(&s);
	case FS_PACKET_IPV4:
		return parse_ipv4(&s);
	case FS_PACKET_IPV6:
		return parse_ipv6(&s);
	}
	return FS_ERR_INVALID;
}
