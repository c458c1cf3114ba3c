/*
 * packet.h - parser for the first bytes of a sampled packet.
 *
 * Exporters send the start of a packet as they saw it on the wire: sFlow's
 * raw packet header record, IPFIX dataLinkFrameSection (IE 315).  The parser
 * walks those bytes from the Ethernet header, or from an IPv4 or IPv6 header
 * when the exporter strips layer 2, and fills the flow fields it finds:
 *
 *   Ethernet II          src_mac, dst_mac
 *   802.1Q, 802.1ad      vlan_id of the outermost tag (tags 0x8100, 0x88a8, 0x9100)
 *   MPLS label stack     skipped to the bottom label; the payload is IPv4 or IPv6
 *                        by its first nibble, or, after a pseudowire control
 *                        word (first nibble 0), an Ethernet frame
 *   IPv4                 src_addr, dst_addr, proto, tos; options skipped;
 *                        no ports from a fragment other than the first
 *   IPv6                 src_addr, dst_addr, proto, tos (traffic class);
 *                        hop-by-hop, routing, fragment, destination options
 *                        and AH extension headers skipped.  After a segment
 *                        routing header (routing type 4), an inner IPv4 or
 *                        IPv6 packet is parsed in place of the outer one,
 *                        because the SRv6 outer header only carries it.
 *                        With FS_PACKET_DECAP_SRV6, so is an inner packet
 *                        without a segment routing header (SRv6 reduced
 *                        encapsulation, RFC 8986 H.Encaps.Red).
 *   TCP                  src_port, dst_port, tcp_flags
 *   UDP, SCTP            src_port, dst_port
 *   ICMP, ICMPv6         icmp_type, icmp_code
 *
 * Each field gets its presence bit when it is set; fields already present
 * in the flow are overwritten.  The parser reads only through a bounded
 * cursor, never allocates and never logs, so it is safe on any input.
 */
#ifndef FS_DECODE_PACKET_H
#define FS_DECODE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Header bytes parsed by default; bytes past the limit are ignored. */
#define FS_PACKET_DEFAULT_MAX_HEADER_BYTES 512

/* 802.1Q or 802.1ad tags followed before giving up. */
#define FS_PACKET_MAX_VLAN_TAGS 4

/* MPLS labels followed before giving up. */
#define FS_PACKET_MAX_MPLS_LABELS 16

/* IPv6 extension headers followed before giving up. */
#define FS_PACKET_MAX_IPV6_EXT_HEADERS 8

/* Encapsulations (MPLS pseudowire, SRv6) entered before giving up. */
#define FS_PACKET_MAX_ENCAP_DEPTH 4

/* First header in the bytes. */
enum fs_packet_start {
	FS_PACKET_ETHERNET,
	FS_PACKET_IPV4,
	FS_PACKET_IPV6,
};

/* Facts about the parsed header that struct fs_flow has no field for. */
struct fs_packet_info {
	uint16_t ethertype;     /* of the layer 3 header parsed, 0 when none */
	uint32_t ip_length;     /* IPv4 total length or IPv6 payload length + 40;
				   0 when no IP header was reached */
	uint8_t ttl;            /* IPv4 TTL or IPv6 hop limit */
	uint8_t vlan_tags;      /* 802.1Q and 802.1ad tags seen */
	uint8_t mpls_labels;    /* MPLS labels seen */
	uint8_t ipv6_ext_headers; /* IPv6 extension headers skipped */
	uint8_t fragment;       /* 1 for an IP fragment other than the first */
};

/* Options of fs_packet_parse_flags(), ORed together. */
enum fs_packet_flag {
	/*
	 * Parse the inner packet of an IPv6 header whose next header (after
	 * the extension headers) is IPv4 or IPv6, also without a segment
	 * routing header.  Without this flag such a packet reports the outer
	 * header, as plain IP-in-IPv6 tunnels should.
	 */
	FS_PACKET_DECAP_SRV6 = 1u << 0,
};

/*
 * Parses the packet start of len bytes at data (borrowed), beginning with
 * the header named by start, and sets the fields found in flow.  At most
 * max_bytes bytes are read (0 means FS_PACKET_DEFAULT_MAX_HEADER_BYTES).
 * info may be NULL.
 *
 * Returns 0 when the parse reached the transport header or a payload it does
 * not go into (an unknown IP protocol, a later fragment), or:
 *   FS_ERR_TRUNCATED    the bytes end inside a header, which is normal for a
 *                       sampled header cut at a fixed size;
 *   FS_ERR_INVALID      a header contradicts its format (IPv4 header length
 *                       below 20, IP version not matching its ethertype);
 *   FS_ERR_UNSUPPORTED  an ethertype other than IPv4, IPv6, MPLS or a VLAN
 *                       tag (ARP, LLC), or a limit above was reached.
 * Fields found before the fault stay set in every case.
 */
int fs_packet_parse(const uint8_t *data, size_t len, enum fs_packet_start start,
		    size_t max_bytes, struct fs_flow *flow, struct fs_packet_info *info);

/* Parses like fs_packet_parse(), with flags (enum fs_packet_flag) applied. */
int fs_packet_parse_flags(const uint8_t *data, size_t len, enum fs_packet_start start,
			  size_t max_bytes, unsigned flags, struct fs_flow *flow,
			  struct fs_packet_info *info);

#endif
