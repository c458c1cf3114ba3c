/* test_packet.c - parsing sampled packet headers with fs_packet_parse(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/flow.h"
#include "core/result.h"
#include "decode/packet.h"
#include "support/wire.h"

static const uint8_t dst_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t v4_src[4] = { 192, 0, 2, 1 };
static const uint8_t v4_dst[4] = { 198, 51, 100, 2 };
static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void
put_ethernet(struct fs_test_packet *p, uint16_t ethertype)
{
	fs_test_append_bytes(p, dst_mac, 6);
	fs_test_append_bytes(p, src_mac, 6);
	fs_test_append16(p, ethertype);
}

/* IPv4 header with ihl 32-bit words (options zero-filled). */
static void
put_ipv4(struct fs_test_packet *p, uint8_t proto, uint16_t total_length, uint16_t fragment,
	 uint8_t ihl)
{
	fs_test_append8(p, 0x40 | ihl);
	fs_test_append8(p, 0x28);             /* TOS */
	fs_test_append16(p, total_length);
	fs_test_append16(p, 0x1234);          /* identification */
	fs_test_append16(p, fragment);
	fs_test_append8(p, 64);               /* TTL */
	fs_test_append8(p, proto);
	fs_test_append16(p, 0);               /* checksum */
	fs_test_append_bytes(p, v4_src, 4);
	fs_test_append_bytes(p, v4_dst, 4);
	for (int i = 5; i < ihl; i++)
		fs_test_append32(p, 0x01010101);  /* NOP options */
}

static void
put_ipv6(struct fs_test_packet *p, uint8_t next, uint16_t payload_length)
{
	fs_test_append32(p, 6u << 28 | 0xb8u << 20 | 0x12345); /* traffic class 0xb8 */
	fs_test_append16(p, payload_length);
	fs_test_append8(p, next);
	fs_test_append8(p, 255);
	fs_test_append_bytes(p, v6_src, 16);
	fs_test_append_bytes(p, v6_dst, 16);
}

static void
put_tcp(struct fs_test_packet *p, uint16_t src_port, uint16_t dst_port, uint8_t flags)
{
	fs_test_append16(p, src_port);
	fs_test_append16(p, dst_port);
	fs_test_append32(p, 1);               /* sequence */
	fs_test_append32(p, 0);               /* acknowledgment */
	fs_test_append8(p, 5 << 4);           /* data offset */
	fs_test_append8(p, flags);
	fs_test_append16(p, 65535);           /* window */
	fs_test_append32(p, 0);               /* checksum, urgent pointer */
}

static void
put_udp(struct fs_test_packet *p, uint16_t src_port, uint16_t dst_port)
{
	fs_test_append16(p, src_port);
	fs_test_append16(p, dst_port);
	fs_test_append16(p, 8);
	fs_test_append16(p, 0);
}

static int
parse(const struct fs_test_packet *p, enum fs_packet_start start, struct fs_flow *flow,
      struct fs_packet_info *info)
{
	fs_flow_clear(flow);
	return fs_packet_parse(p->bytes, p->len, start, 0, flow, info);
}

static void
assert_addr(const struct fs_addr *addr, int family, const uint8_t *bytes)
{
	assert_int_equal(addr->family, family);
	assert_memory_equal(addr->bytes, bytes, family == 4 ? 4 : 16);
}

static void
ethernet_ipv4_tcp(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x0800);
	put_ipv4(&p, 6, 1500, 0x4000, 5);  /* don't fragment */
	put_tcp(&p, 443, 51000, 0x18);

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, &info), 0);
	assert_memory_equal(flow.src_mac, src_mac, 6);
	assert_memory_equal(flow.dst_mac, dst_mac, 6);
	assert_addr(&flow.src_addr, 4, v4_src);
	assert_addr(&flow.dst_addr, 4, v4_dst);
	assert_int_equal(flow.proto, 6);
	assert_int_equal(flow.tos, 0x28);
	assert_int_equal(flow.src_port, 443);
	assert_int_equal(flow.dst_port, 51000);
	assert_int_equal(flow.tcp_flags, 0x18);
	assert_false(fs_flow_has(&flow, FS_F_VLAN_ID));
	assert_true(fs_flow_has(&flow, FS_F_TCP_FLAGS));
	assert_int_equal(info.ethertype, 0x0800);
	assert_int_equal(info.ip_length, 1500);
	assert_int_equal(info.ttl, 64);
}

static void
qinq_ipv6_udp(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x88a8);
	fs_test_append16(&p, 0x2000 | 100);   /* priority 1, VLAN 100 (service tag) */
	fs_test_append16(&p, 0x8100);
	fs_test_append16(&p, 200);            /* customer tag */
	fs_test_append16(&p, 0x86dd);
	put_ipv6(&p, 17, 8);
	put_udp(&p, 53, 33000);

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, &info), 0);
	assert_int_equal(flow.vlan_id, 100);
	assert_int_equal(info.vlan_tags, 2);
	assert_addr(&flow.src_addr, 6, v6_src);
	assert_addr(&flow.dst_addr, 6, v6_dst);
	assert_int_equal(flow.proto, 17);
	assert_int_equal(flow.tos, 0xb8);
	assert_int_equal(flow.src_port, 53);
	assert_int_equal(flow.dst_port, 33000);
	assert_false(fs_flow_has(&flow, FS_F_TCP_FLAGS));
	assert_int_equal(info.ip_length, 48);
}

static void
mpls_stack_ipv4_udp(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x8847);
	fs_test_append32(&p, 16000u << 12 | 64);          /* label 16000, not bottom */
	fs_test_append32(&p, 24000u << 12 | 0x100 | 64);  /* label 24000, bottom of stack */
	put_ipv4(&p, 17, 28, 0, 5);
	put_udp(&p, 4789, 4789);

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, &info), 0);
	assert_int_equal(info.mpls_labels, 2);
	assert_addr(&flow.src_addr, 4, v4_src);
	assert_int_equal(flow.dst_port, 4789);
}

static void
mpls_pseudowire_ethernet(void **state)
{
	static const uint8_t inner_src_mac[6] = { 0x02, 0, 0, 0, 0, 0x22 };
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x8847);
	fs_test_append32(&p, 100u << 12 | 0x100 | 255);
	fs_test_append32(&p, 0);              /* pseudowire control word */
	fs_test_append_bytes(&p, dst_mac, 6);
	fs_test_append_bytes(&p, inner_src_mac, 6);
	fs_test_append16(&p, 0x0800);
	put_ipv4(&p, 1, 84, 0, 5);
	fs_test_append8(&p, 8);               /* echo request */
	fs_test_append8(&p, 0);

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, &info), 0);
	assert_memory_equal(flow.src_mac, inner_src_mac, 6);
	assert_int_equal(flow.proto, 1);
	assert_int_equal(flow.icmp_type, 8);
	assert_int_equal(flow.icmp_code, 0);
	assert_true(fs_flow_has(&flow, FS_F_ICMP_TYPE));
	assert_false(fs_flow_has(&flow, FS_F_SRC_PORT));
}

static void
ipv4_options_skipped(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ipv4(&p, 17, 36, 0, 7);    /* 8 bytes of options */
	put_udp(&p, 1000, 2000);

	assert_int_equal(parse(&p, FS_PACKET_IPV4, &flow, NULL), 0);
	assert_false(fs_flow_has(&flow, FS_F_SRC_MAC));
	assert_int_equal(flow.src_port, 1000);
	assert_int_equal(flow.dst_port, 2000);
}

static void
ipv4_later_fragment_no_ports(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ipv4(&p, 17, 100, 185, 5);  /* offset 185 * 8 */
	put_udp(&p, 1000, 2000);         /* payload bytes that look like UDP */

	assert_int_equal(parse(&p, FS_PACKET_IPV4, &flow, &info), 0);
	assert_int_equal(info.fragment, 1);
	assert_int_equal(flow.proto, 17);
	assert_false(fs_flow_has(&flow, FS_F_SRC_PORT));
}

static void
ipv4_first_fragment_has_ports(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ipv4(&p, 17, 1500, 0x2000, 5);  /* more fragments, offset 0 */
	put_udp(&p, 1000, 2000);

	assert_int_equal(parse(&p, FS_PACKET_IPV4, &flow, &info), 0);
	assert_int_equal(info.fragment, 0);
	assert_int_equal(flow.src_port, 1000);
}

static void
ipv6_extension_headers(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ipv6(&p, 0, 60);
	fs_test_append8(&p, 60);              /* hop-by-hop, then destination options */
	fs_test_append8(&p, 0);
	fs_test_append16(&p, 0x0104);         /* PadN of 4 bytes */
	fs_test_append32(&p, 0);
	fs_test_append8(&p, 44);              /* destination options (16 bytes), then fragment */
	fs_test_append8(&p, 1);
	fs_test_append16(&p, 0x010c);
	fs_test_append32(&p, 0);
	fs_test_append32(&p, 0);
	fs_test_append32(&p, 0);
	fs_test_append8(&p, 6);               /* fragment, offset 0, then TCP */
	fs_test_append8(&p, 0);
	fs_test_append16(&p, 1);              /* more fragments */
	fs_test_append32(&p, 77);
	put_tcp(&p, 22, 40000, 0x02);

	assert_int_equal(parse(&p, FS_PACKET_IPV6, &flow, &info), 0);
	assert_int_equal(info.ipv6_ext_headers, 3);
	assert_int_equal(flow.proto, 6);
	assert_int_equal(flow.src_port, 22);
	assert_int_equal(flow.tcp_flags, 0x02);
}

static void
ipv6_later_fragment_no_ports(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ipv6(&p, 44, 100);
	fs_test_append8(&p, 17);
	fs_test_append8(&p, 0);
	fs_test_append16(&p, 100u << 3);      /* offset 100 * 8 */
	fs_test_append32(&p, 77);
	put_udp(&p, 1, 2);

	assert_int_equal(parse(&p, FS_PACKET_IPV6, &flow, &info), 0);
	assert_int_equal(info.fragment, 1);
	assert_int_equal(flow.proto, 17);
	assert_false(fs_flow_has(&flow, FS_F_SRC_PORT));
}

static void
ipv6_srh_inner_ipv4(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ipv6(&p, 43, 24 + 28);
	fs_test_append8(&p, 4);               /* segment routing header, then IPv4 */
	fs_test_append8(&p, 2);               /* 24 bytes: one segment */
	fs_test_append8(&p, 4);               /* routing type 4 */
	fs_test_append8(&p, 0);               /* segments left */
	fs_test_append32(&p, 0);              /* last entry, flags, tag */
	fs_test_append_bytes(&p, v6_dst, 16);
	put_ipv4(&p, 1, 28, 0, 5);
	fs_test_append8(&p, 0);               /* echo reply */
	fs_test_append8(&p, 0);

	assert_int_equal(parse(&p, FS_PACKET_IPV6, &flow, NULL), 0);
	assert_addr(&flow.src_addr, 4, v4_src);
	assert_addr(&flow.dst_addr, 4, v4_dst);
	assert_int_equal(flow.proto, 1);
	assert_true(fs_flow_has(&flow, FS_F_ICMP_TYPE));
}

static void
decap_srv6_inner_ipv4(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	/* Reduced SRv6 encapsulation: IPv4 right after the IPv6 header. */
	put_ethernet(&p, 0x86dd);
	put_ipv6(&p, 4, 28);
	put_ipv4(&p, 1, 28, 0, 5);
	fs_test_append8(&p, 8);               /* echo request */
	fs_test_append8(&p, 0);

	fs_flow_clear(&flow);
	assert_int_equal(fs_packet_parse_flags(p.bytes, p.len, FS_PACKET_ETHERNET, 0,
					       FS_PACKET_DECAP_SRV6, &flow, &info), 0);
	assert_addr(&flow.src_addr, 4, v4_src);
	assert_addr(&flow.dst_addr, 4, v4_dst);
	assert_int_equal(flow.proto, 1);
	assert_int_equal(flow.tos, 0x28);
	assert_int_equal(flow.icmp_type, 8);
	assert_int_equal(info.ip_length, 28);
	assert_int_equal(info.ethertype, 0x0800);
}

static void
decap_srv6_inner_ipv6_tcp(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ipv6(&p, 41, 40 + 20);
	put_ipv6(&p, 6, 20);
	put_tcp(&p, 443, 51000, 0x12);

	fs_flow_clear(&flow);
	assert_int_equal(fs_packet_parse_flags(p.bytes, p.len, FS_PACKET_IPV6, 0,
					       FS_PACKET_DECAP_SRV6, &flow, NULL), 0);
	assert_int_equal(flow.proto, 6);
	assert_int_equal(flow.src_port, 443);
	assert_int_equal(flow.dst_port, 51000);
	assert_int_equal(flow.tcp_flags, 0x12);
}

static void
decap_srv6_depth_limited(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	/* More nested IPv6 headers than FS_PACKET_MAX_ENCAP_DEPTH allows. */
	for (int i = 0; i <= FS_PACKET_MAX_ENCAP_DEPTH; i++)
		put_ipv6(&p, 41, 40);
	put_ipv6(&p, 59, 0);

	fs_flow_clear(&flow);
	assert_int_equal(fs_packet_parse_flags(p.bytes, p.len, FS_PACKET_IPV6, 0,
					       FS_PACKET_DECAP_SRV6, &flow, NULL),
			 FS_ERR_UNSUPPORTED);
	assert_int_equal(flow.proto, 41);
}

static void
ipv6_ip_in_ip_not_entered(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	/* Without a segment routing header, IPv4 in IPv6 stays protocol 4. */
	put_ipv6(&p, 4, 28);
	put_ipv4(&p, 1, 28, 0, 5);

	assert_int_equal(parse(&p, FS_PACKET_IPV6, &flow, NULL), 0);
	assert_addr(&flow.src_addr, 6, v6_src);
	assert_int_equal(flow.proto, 4);
}

static void
ipv6_extension_limit(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ipv6(&p, 60, 200);
	for (int i = 0; i <= FS_PACKET_MAX_IPV6_EXT_HEADERS; i++) {
		fs_test_append8(&p, 60);
		fs_test_append8(&p, 0);
		fs_test_append16(&p, 0x0104);
		fs_test_append32(&p, 0);
	}

	assert_int_equal(parse(&p, FS_PACKET_IPV6, &flow, NULL), FS_ERR_UNSUPPORTED);
	assert_true(fs_flow_has(&flow, FS_F_SRC_ADDR));
	assert_false(fs_flow_has(&flow, FS_F_PROTO));
}

static void
vlan_tag_limit(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x8100);
	for (int i = 0; i <= FS_PACKET_MAX_VLAN_TAGS; i++) {
		fs_test_append16(&p, 10 + i);
		fs_test_append16(&p, 0x8100);
	}
	put_ipv4(&p, 17, 28, 0, 5);

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, NULL), FS_ERR_UNSUPPORTED);
	assert_int_equal(flow.vlan_id, 10);
	assert_false(fs_flow_has(&flow, FS_F_SRC_ADDR));
}

static void
mpls_label_limit(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x8847);
	for (int i = 0; i <= FS_PACKET_MAX_MPLS_LABELS; i++)
		fs_test_append32(&p, 16u << 12);      /* never bottom of stack */

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, NULL), FS_ERR_UNSUPPORTED);
}

static void
truncated_keeps_outer_fields(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x0800);
	put_ipv4(&p, 6, 1500, 0, 5);
	fs_test_append16(&p, 443);            /* only half of the TCP ports */

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, NULL), FS_ERR_TRUNCATED);
	assert_true(fs_flow_has(&flow, FS_F_SRC_MAC));
	assert_true(fs_flow_has(&flow, FS_F_SRC_ADDR));
	assert_int_equal(flow.proto, 6);
	assert_false(fs_flow_has(&flow, FS_F_SRC_PORT));
	assert_false(fs_flow_has(&flow, FS_F_TCP_FLAGS));
}

static void
tcp_ports_without_flags(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ipv4(&p, 6, 40, 0, 5);
	fs_test_append32(&p, 80u << 16 | 8080);   /* ports, then the header ends */

	assert_int_equal(parse(&p, FS_PACKET_IPV4, &flow, NULL), FS_ERR_TRUNCATED);
	assert_int_equal(flow.src_port, 80);
	assert_int_equal(flow.dst_port, 8080);
	assert_false(fs_flow_has(&flow, FS_F_TCP_FLAGS));
}

static void
max_bytes_limits_parse(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x0800);
	put_ipv4(&p, 17, 28, 0, 5);
	put_udp(&p, 1, 2);

	fs_flow_clear(&flow);
	assert_int_equal(fs_packet_parse(p.bytes, p.len, FS_PACKET_ETHERNET, 30, &flow, NULL),
			 FS_ERR_TRUNCATED);
	assert_true(fs_flow_has(&flow, FS_F_SRC_MAC));
	assert_false(fs_flow_has(&flow, FS_F_SRC_ADDR));
}

static void
arp_unsupported(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_packet_info info;
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x0806);
	fs_test_append32(&p, 0x00010800);

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, &info), FS_ERR_UNSUPPORTED);
	assert_true(fs_flow_has(&flow, FS_F_DST_MAC));
	assert_int_equal(info.ethertype, 0);
	assert_int_equal(info.ip_length, 0);
}

static void
ipv4_header_length_invalid(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ipv4(&p, 17, 28, 0, 5);
	p.bytes[0] = 0x44;         /* IHL 4: 16 bytes, below the minimum */

	assert_int_equal(parse(&p, FS_PACKET_IPV4, &flow, NULL), FS_ERR_INVALID);
	assert_false(fs_flow_has(&flow, FS_F_SRC_ADDR));
}

static void
ip_version_mismatch_invalid(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ethernet(&p, 0x86dd);
	put_ipv4(&p, 17, 48, 0, 5);
	put_udp(&p, 1, 2);
	put_udp(&p, 3, 4);
	fs_test_append32(&p, 0);              /* 40 bytes: as long as an IPv6 header */

	assert_int_equal(parse(&p, FS_PACKET_ETHERNET, &flow, NULL), FS_ERR_INVALID);
	assert_false(fs_flow_has(&flow, FS_F_SRC_ADDR));
}

static void
icmpv6_type_code(void **state)
{
	struct fs_test_packet p = { .len = 0 };
	struct fs_flow flow;

	(void)state;
	put_ipv6(&p, 58, 32);
	fs_test_append8(&p, 135);             /* neighbor solicitation */
	fs_test_append8(&p, 0);

	assert_int_equal(parse(&p, FS_PACKET_IPV6, &flow, NULL), 0);
	assert_int_equal(flow.proto, 58);
	assert_int_equal(flow.icmp_type, 135);
	assert_int_equal(flow.icmp_code, 0);
}

static void
empty_and_null_input(void **state)
{
	struct fs_flow flow;

	(void)state;
	fs_flow_clear(&flow);
	assert_int_equal(fs_packet_parse(NULL, 0, FS_PACKET_ETHERNET, 0, &flow, NULL),
			 FS_ERR_TRUNCATED);
	assert_int_equal(flow.present, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ethernet_ipv4_tcp),
		cmocka_unit_test(qinq_ipv6_udp),
		cmocka_unit_test(mpls_stack_ipv4_udp),
		cmocka_unit_test(mpls_pseudowire_ethernet),
		cmocka_unit_test(ipv4_options_skipped),
		cmocka_unit_test(ipv4_later_fragment_no_ports),
		cmocka_unit_test(ipv4_first_fragment_has_ports),
		cmocka_unit_test(ipv6_extension_headers),
		cmocka_unit_test(ipv6_later_fragment_no_ports),
		cmocka_unit_test(ipv6_srh_inner_ipv4),
		cmocka_unit_test(decap_srv6_inner_ipv4),
		cmocka_unit_test(decap_srv6_inner_ipv6_tcp),
		cmocka_unit_test(decap_srv6_depth_limited),
		cmocka_unit_test(ipv6_ip_in_ip_not_entered),
		cmocka_unit_test(ipv6_extension_limit),
		cmocka_unit_test(vlan_tag_limit),
		cmocka_unit_test(mpls_label_limit),
		cmocka_unit_test(truncated_keeps_outer_fields),
		cmocka_unit_test(tcp_ports_without_flags),
		cmocka_unit_test(max_bytes_limits_parse),
		cmocka_unit_test(arp_unsupported),
		cmocka_unit_test(ipv4_header_length_invalid),
		cmocka_unit_test(ip_version_mismatch_invalid),
		cmocka_unit_test(icmpv6_type_code),
		cmocka_unit_test(empty_and_null_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
