/*
 * test_filter_lang.c - the filter language: every primitive and operator,
 * values at the edges, definitions and error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/flow.h"
#include "core/result.h"
#include "filter/filter.h"

/* A TCP flow 10.0.0.1:40000 -> 192.0.2.25:25 with most fields set. */
static void
make_flow(struct fs_flow *flow)
{
	static const uint8_t src_mac[6] = { 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e };

	fs_flow_clear(flow);
	flow->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_SRC_PORT | FS_F_DST_PORT |
			FS_F_PROTO | FS_F_TCP_FLAGS | FS_F_TOS | FS_F_BYTES | FS_F_PACKETS |
			FS_F_IN_IF | FS_F_OUT_IF | FS_F_SRC_AS | FS_F_DST_AS | FS_F_VLAN_ID |
			FS_F_SRC_MAC | FS_F_TIME_FLOW_START | FS_F_TIME_FLOW_END |
			FS_F_SRC_MASK | FS_F_NEXT_HOP | FS_F_FLOW_DIRECTION;
	flow->flow_type = FS_FLOW_IPFIX;
	fs_addr_parse(&flow->exporter_addr, "198.51.100.1");
	fs_addr_parse(&flow->src_addr, "10.0.0.1");
	fs_addr_parse(&flow->dst_addr, "192.0.2.25");
	fs_addr_parse(&flow->next_hop, "10.255.0.1");
	flow->src_port = 40000;
	flow->dst_port = 25;
	flow->proto = 6;
	flow->tcp_flags = 0x1b; /* FSPA */
	flow->tos = 0xb8;       /* DSCP 46 */
	flow->bytes = 2000000;
	flow->packets = 2000;
	flow->in_if = 3;
	flow->out_if = 7;
	flow->src_as = 64512;
	flow->dst_as = 65535;
	flow->vlan_id = 100;
	flow->src_mask = 24;
	flow->flow_direction = FS_DIR_EGRESS;
	memcpy(flow->src_mac, src_mac, 6);
	flow->time_flow_start_ns = 1700000000000000000;
	flow->time_flow_end_ns = 1700000010000000000; /* 10 s */
}

static bool
matches(const char *expr, const struct fs_flow *flow)
{
	struct fs_filter_error err;
	struct fs_filter *filter;
	bool result;

	if (fs_filter_compile(&filter, expr, NULL, &err) != 0)
		fail_msg("'%s' does not compile:\n%s", expr, err.text);
	result = fs_filter_match(filter, flow);
	fs_filter_free(filter);
	return result;
}

static void
check(const char *expr, bool expected, const struct fs_flow *flow)
{
	bool got = matches(expr, flow);

	if (got != expected)
		fail_msg("'%s' gave %s, expected %s", expr, got ? "match" : "no match",
			 expected ? "match" : "no match");
}

static void
addresses_and_prefixes(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	check("host 10.0.0.1", true, &flow);
	check("src host 10.0.0.1", true, &flow);
	check("dst host 10.0.0.1", false, &flow);
	check("ip 192.0.2.25", true, &flow);
	check("net 10.0.0.0/8", true, &flow);
	check("src net 10.0.0.0/8", true, &flow);
	check("dst net 10.0.0.0/8", false, &flow);
	check("net 0.0.0.0/0", true, &flow);
	check("net 10.0.0.1/32", true, &flow);
	check("net 10.0.0.2/32", false, &flow);
	check("net 10.0.0.0/31", true, &flow);
	check("net 10.0.0.2/31", false, &flow);
	check("net ::/0", false, &flow);
	check("src and dst net 10.0.0.0/8", false, &flow);
	check("src or dst net 192.0.2.0/24", true, &flow);
	check("any host 192.0.2.25", true, &flow);
	check("host in [198.51.100.7 192.0.2.25]", true, &flow);
	check("host != 10.0.0.1", true, &flow);
	check("src host != 10.0.0.1", false, &flow);
	check("exporter 198.51.100.1", true, &flow);
	check("nexthop 10.255.0.0/16", true, &flow);
	check("src_addr = 10.0.0.1", true, &flow);
	check("ipv4", true, &flow);
	check("ipv6", false, &flow);
}

/* nfdump's netmask and abbreviated forms of `net`, as nfdump 1.7.1 reads them. */
static void
net_netmask_and_abbreviated(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	check("net 10.0.0.0 255.255.255.0", true, &flow);
	check("net 10.0.1.0 255.255.255.0", false, &flow);
	check("src net 10.0.0.0 255.0.0.0", true, &flow);
	check("dst net 10.0.0.0 255.0.0.0", false, &flow);
	check("dst net 192.0.2.0 255.255.255.128", true, &flow);
	check("dst net 192.0.2.128 255.255.255.128", false, &flow);
	/* As with /length, the mask applies to the address, so host bits do not matter. */
	check("net 10.0.0.77 255.255.255.0", true, &flow);
	check("net 10.0.0.1 255.255.255.255", true, &flow);
	check("net 10.0.0.2 255.255.255.255", false, &flow);
	check("net 99.0.0.0 0.0.0.0", true, &flow);
	check("net != 10.0.0.0 255.0.0.0", true, &flow);
	check("src net != 10.0.0.0 255.0.0.0", false, &flow);
	check("net 10.0.0.0 255.0.0.0 and port 25", true, &flow);
	check("(src net 10.0.0.0 255.255.0.0)", true, &flow);

	/* Missing octets are 0. */
	check("src net 10.0.0/24", true, &flow);
	check("src net 10.0.1/24", false, &flow);
	check("dst net 192.0.2/24", true, &flow);
	check("src net 10.0/16", true, &flow);
	check("src net 10.1/16", false, &flow);
	check("src net 10.1/8", true, &flow);
	check("dst net 172.16/12", false, &flow);
	fs_addr_parse(&flow.dst_addr, "172.31.255.1");
	check("dst net 172.16/12", true, &flow);
	fs_addr_parse(&flow.dst_addr, "172.32.0.1");
	check("dst net 172.16/12", false, &flow);
}

/* icmp-type and icmp-code imply proto icmp or icmp6, as in nfdump 1.7.1. */
static void
icmp_type_and_code(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	/* A TCP flow has no ICMP type, even with dst port 8 * 256. */
	flow.dst_port = 8 * 256;
	check("icmp-type 8", false, &flow);
	check("icmp-type != 8", false, &flow);
	check("icmp-code 0", false, &flow);

	flow.proto = 1;
	flow.icmp_type = 3;
	flow.icmp_code = 13;
	flow.present |= FS_F_ICMP_TYPE | FS_F_ICMP_CODE;
	flow.present &= ~(uint64_t)FS_F_DST_PORT;
	check("icmp-type 3", true, &flow);
	check("icmp-type 8", false, &flow);
	check("icmp-code 13", true, &flow);
	check("icmp-code 0", false, &flow);
	check("icmp-type 3 and icmp-code 13", true, &flow);
	check("icmp-type in [0 3 8]", true, &flow);
	check("icmp-type != 3", false, &flow);
	check("icmp_type 3", true, &flow);

	flow.proto = 58;
	flow.icmp_type = 128;
	flow.icmp_code = 0;
	check("icmp-type 128", true, &flow);
	check("icmp-code 0", true, &flow);

	/* NetFlow v5 carries type * 256 + code in the destination port. */
	flow.proto = 1;
	flow.present &= ~(uint64_t)(FS_F_ICMP_TYPE | FS_F_ICMP_CODE);
	flow.present |= FS_F_DST_PORT;
	flow.dst_port = 11 * 256 + 1;
	check("icmp-type 11", true, &flow);
	check("icmp-code 1", true, &flow);
	check("icmp-type 0", false, &flow);
	check("icmp_type 11", false, &flow);

	/* Without a type and a port there is nothing to compare. */
	flow.present &= ~(uint64_t)FS_F_DST_PORT;
	check("icmp-type 11", false, &flow);
	check("not icmp-type 11", true, &flow);
}

static void
ipv6_and_mapped(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	fs_addr_parse(&flow.src_addr, "2001:db8::1");
	fs_addr_parse(&flow.dst_addr, "::ffff:192.0.2.25");
	check("src host 2001:db8::1", true, &flow);
	check("src net 2001:db8::/32", true, &flow);
	check("src net 2001:db8::1/128", true, &flow);
	check("src net 2001:db8::2/128", false, &flow);
	check("src net ::/0", true, &flow);
	check("src net 0.0.0.0/0", false, &flow);
	/* An IPv4-mapped address matches IPv4 filters, and the other way round. */
	check("dst host 192.0.2.25", true, &flow);
	check("dst net 192.0.2.0/24", true, &flow);
	check("dst host ::ffff:192.0.2.25", true, &flow);
	check("dst net ::ffff:192.0.2.0/120", true, &flow);
	check("inet6", true, &flow);
	fs_addr_parse(&flow.dst_addr, "192.0.2.25");
	check("dst host ::ffff:192.0.2.25", true, &flow);
	check("dst host ::ffff:192.0.2.26", false, &flow);
}

static void
ports_ranges_lists(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	check("port 25", true, &flow);
	check("dst port 25", true, &flow);
	check("src port 25", false, &flow);
	check("port in [25 465 587]", true, &flow);
	check("dst port in [465, 587]", false, &flow);
	check("src port 1024-65535", true, &flow);
	check("src port in [1-1023 40000]", true, &flow);
	check("dst port < 1024", true, &flow);
	check("dst port > 25", false, &flow);
	check("dst port >= 25", true, &flow);
	check("dst port <= 24", false, &flow);
	check("dst port != 25", false, &flow);
	check("dst port gt 24", true, &flow);
	check("dst_port == 25", true, &flow);
	flow.dst_port = 0;
	check("dst port 0", true, &flow);
	check("dst port < 0", false, &flow);
	check("dst port <= 0", true, &flow);
	flow.dst_port = 65535;
	check("dst port 65535", true, &flow);
	check("dst port > 65535", false, &flow);
	check("dst port >= 65535", true, &flow);
	check("dst port 0-65535", true, &flow);
	/* An absent field matches no comparison, != included. */
	flow.present &= ~(uint64_t)FS_F_DST_PORT;
	check("dst port 65535", false, &flow);
	check("dst port != 1", false, &flow);
	check("not dst port 1", true, &flow);
}

static void
proto_flags_numbers(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	check("proto tcp", true, &flow);
	check("proto 6", true, &flow);
	check("proto udp", false, &flow);
	check("tcp", true, &flow);
	check("proto in [udp tcp]", true, &flow);
	check("flags S", true, &flow);
	check("flags SA", true, &flow);
	check("flags R", false, &flow);
	check("flags S and not flags A", false, &flow);
	check("tcp flags = FSPA", true, &flow);
	check("tcp flags = S", false, &flow);
	check("tcp_flags = 0x1b", true, &flow);
	flow.tcp_flags = 0x02;
	check("flags S and not flags A", true, &flow);
	check("tcp flags = S", true, &flow);
	flow.proto = 17;
	check("flags S", false, &flow);
	check("tos 0xb8", true, &flow);
	check("dscp 46", true, &flow);
	check("bytes > 1m", true, &flow);
	check("bytes 2m", true, &flow);
	check("bytes > 2m", false, &flow);
	check("packets >= 2k", true, &flow);
	check("duration 10000", true, &flow);
	check("duration > 10000", false, &flow);
	check("bps 1600000", true, &flow);
	check("pps 200", true, &flow);
	check("bpp 1000", true, &flow);
	check("as 65535", true, &flow);
	check("src as 64512 and dst as 65535", true, &flow);
	check("dst as 64512", false, &flow);
	check("in if 3", true, &flow);
	check("out if 3", false, &flow);
	check("if 7", true, &flow);
	check("vlan 100", true, &flow);
	check("src mask 24", true, &flow);
	check("src mac 00:1b:21:3c:4d:5e", true, &flow);
	check("dst mac 00:1b:21:3c:4d:5e", false, &flow);
	check("flow_direction egress", true, &flow);
	check("type ipfix", true, &flow);
	check("time_flow_start_ns >= 1700000000000000000", true, &flow);
	check("time_flow_start_ns > 1700000000000000000", false, &flow);
	check("in_if_speed 1", false, &flow);
}

static void
enriched_fields(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	flow.present |= FS_F_SRC_COUNTRY | FS_F_DST_TAGS | FS_F_TRAFFIC_DIRECTION |
			FS_F_IN_IF_NAME | FS_F_SRC_AS_ORG;
	strcpy(flow.src_country, "FR");
	strcpy(flow.dst_tags, "site=par,role=core");
	strcpy(flow.in_if_name, "xe-0/0/1");
	strcpy(flow.src_as_org, "Example Networks");
	flow.traffic_direction = FS_TRAFFIC_OUTBOUND;
	check("src country FR", true, &flow);
	check("country fr", true, &flow);
	check("dst country FR", false, &flow);
	check("country in [DE US]", false, &flow);
	check("dst tag role=core", true, &flow);
	check("tag role", true, &flow);
	check("tag role=edge", false, &flow);
	check("tag \"site=par\"", true, &flow);
	check("tag site=pa", false, &flow);
	check("direction outbound", true, &flow);
	check("direction inbound", false, &flow);
	check("in ifname xe-0/0/1", true, &flow);
	check("src org \"Example Networks\"", true, &flow);
	check("dst org \"Example Networks\"", false, &flow);
}

static void
firewall_and_nat_fields(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	check("firewall_event = 3", false, &flow);
	flow.present |= FS_F_FIREWALL_EVENT | FS_F_POST_NAT_SRC_ADDR | FS_F_POST_NAT_SRC_PORT |
			FS_F_CONNECTION_ID;
	flow.firewall_event = 3;
	assert_int_equal(fs_addr_parse(&flow.post_nat_src_addr, "203.0.113.9"), 0);
	flow.post_nat_src_port = 1024;
	flow.connection_id = 8500;
	check("firewall_event = 3", true, &flow);
	check("post_nat_src_addr = 203.0.113.0/24", true, &flow);
	check("post_nat_src_port > 1023 and connection_id = 8500", true, &flow);
	check("nat_event = 1", false, &flow);
}

static void
logic_and_precedence(void **state)
{
	struct fs_flow flow;

	(void)state;
	make_flow(&flow);
	check("any", true, &flow);
	check("not any", false, &flow);
	check("port 25 and proto udp or proto tcp", true, &flow);
	check("port 26 and (proto udp or proto tcp)", false, &flow);
	check("not port 26 and not port 27", true, &flow);
	check("!(port 25) || port 26", false, &flow);
	check("port 25 && proto tcp", true, &flow);
	check("not not port 25", true, &flow);
	check("((((port 25))))", true, &flow);
	check("PORT 25 AND Proto TCP", true, &flow);
	check("src host 10.0.0.1 and dst port 25 # mail from the test host", true, &flow);
}

static void
definitions_with_direction(void **state)
{
	struct fs_filter_defs *defs = fs_filter_defs_new();
	struct fs_filter_error err;
	struct fs_filter *filter;
	struct fs_filter_source src;
	struct fs_flow flow;
	const char *def = "net 192.0.2.0/28 or host 198.51.100.9";

	(void)state;
	make_flow(&flow);
	assert_non_null(defs);
	src = (struct fs_filter_source){ def, 0, strlen(def), NULL };
	assert_int_equal(fs_filter_defs_add(defs, "mailservers", 11, &src, &err), 0);
	assert_true(fs_filter_defs_has(defs, "mailservers", 11));

	assert_int_equal(fs_filter_compile(&filter, "dst mailservers", defs, &err), 0);
	assert_false(fs_filter_match(filter, &flow));
	fs_filter_free(filter);
	flow.dst_addr.bytes[3] = 9;
	assert_int_equal(fs_filter_compile(&filter, "dst mailservers and port 25", defs, &err), 0);
	assert_true(fs_filter_match(filter, &flow));
	fs_filter_free(filter);
	assert_int_equal(fs_filter_compile(&filter, "src mailservers", defs, &err), 0);
	assert_false(fs_filter_match(filter, &flow));
	fs_filter_free(filter);
	assert_int_equal(fs_filter_compile(&filter, "mailservers", defs, &err), 0);
	assert_true(fs_filter_match(filter, &flow));
	fs_filter_free(filter);

	/* Names that are words of the language, or taken, are rejected. */
	src = (struct fs_filter_source){ "proto tcp", 0, 9, NULL };
	assert_int_equal(fs_filter_defs_add(defs, "port", 4, &src, &err), FS_ERR_INVALID);
	assert_int_equal(fs_filter_defs_add(defs, "mailservers", 11, &src, &err), FS_ERR_INVALID);
	assert_int_equal(fs_filter_defs_add(defs, "tcponly", 7, &src, &err), 0);
	/* A direction applied to a definition without directional primitives is an error. */
	assert_int_equal(fs_filter_compile(&filter, "src tcponly", defs, &err), FS_ERR_INVALID);
	assert_non_null(strstr(err.text, "does not apply to definition 'tcponly'"));
	fs_filter_defs_free(defs);
}

static void
expect_error(const char *expr, unsigned column, const char *needle)
{
	struct fs_filter_error err;
	struct fs_filter *filter = NULL;

	if (fs_filter_compile(&filter, expr, NULL, &err) != FS_ERR_INVALID)
		fail_msg("'%s' compiled, expected an error", expr);
	assert_null(filter);
	if (err.line != 1 || err.column != column || strstr(err.text, needle) == NULL)
		fail_msg("'%s': expected column %u and '%s' in:\n%s (column %u)", expr, column,
			 needle, err.text, err.column);
}

static void
errors_name_position(void **state)
{
	struct fs_filter_error err;
	struct fs_filter *filter;
	char deep[300];

	(void)state;
	expect_error("dst port smtp", 10, "expected a number 0..65535 or a range such as 10-20 after 'port'");
	expect_error("dst port 65536", 10, "found '65536'");
	expect_error("port 2000-1000", 6, "is empty");
	expect_error("net 10.0.0.0/33", 14, "prefix length 0..32");
	expect_error("host 10.0.0.0/8", 6, "use 'net 10.0.0.0/8'");
	expect_error("host 1.2.3.4/33", 14, "prefix length 0..32");
	expect_error("port 25 and", 12, "found the end of the expression");
	expect_error("(port 25", 9, "')'");
	expect_error("port 25)", 8, "no '('");
	expect_error("src proto tcp", 1, "direction does not apply to 'proto'");
	expect_error("frobnicate 3", 1, "expected a primitive");
	expect_error("host < 10.0.0.1", 8, "compared only with =, != or in");
	expect_error("port in [", 10, "']'");
	expect_error("port in []", 10, "at least one value");
	expect_error("bytes > 1-5", 9, "range cannot be compared");
	expect_error("port 25 @", 9, "found '@'");
	expect_error("", 1, "expected an expression");
	expect_error("country FRA", 9, "more than the 2 bytes");
	expect_error("net 10.0/33", 10, "prefix length 0..32, found '33'");
	expect_error("net 10.0.0", 5, "'10.0.0' needs a prefix length, such as 10.0.0/24");
	expect_error("net 10/8", 5, "expected an IPv4 or IPv6 prefix such as 10.0.0.0/8");
	expect_error("host 10.0.0/24", 6, "expected an IPv4 or IPv6 address");
	expect_error("net 10.0.0.0.0/8", 5, "found '10.0.0.0.0/8'");
	expect_error("net 10.0.0.0 255.0.255.0", 14, "the netmask 255.0.255.0 is not contiguous");
	expect_error("net 10.0.0.0 0.255.255.255", 14, "is not contiguous");
	expect_error("net 10.0.0.0 255.255.255.1", 14, "is not contiguous");
	expect_error("net 10.0.0.0 255.255", 14, "expected a netmask such as 255.255.255.0");
	expect_error("net 10.0.0.0 256.0.0.0", 14, "expected a netmask");
	expect_error("net 10.0.0.0/8 255.0.0.0", 16, "already has a /prefix length");
	expect_error("net 10.0/16 255.255.0.0", 13, "already has a /prefix length");
	expect_error("net 2001:db8:: 255.255.0.0", 16, "only an IPv4 address");
	expect_error("host 10.0.0.0 255.0.0.0", 15, "expected 'and', 'or' or the end");
	expect_error("icmp-type 256", 11, "expected a number 0..255");
	expect_error("icmp-code 256", 11, "expected a number 0..255");
	expect_error("icmp-type echo", 11, "after 'icmp-type', found 'echo'");
	expect_error("src icmp-type 8", 1, "direction does not apply to the field name 'icmp-type'");

	/* Multi-line text: the line and its excerpt with a caret. */
	assert_int_equal(fs_filter_compile(&filter, "proto tcp and\n  dst port x", NULL, &err),
			 FS_ERR_INVALID);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 12);
	assert_non_null(strstr(err.text, "\n    dst port x\n             ^"));

	memset(deep, '(', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(fs_filter_compile(&filter, deep, NULL, &err), FS_ERR_INVALID);
	assert_non_null(strstr(err.text, "nest deeper than 64"));
}

static void
long_chains_compile(void **state)
{
	static char text[64 * 1024];
	struct fs_filter_error err;
	struct fs_filter *filter;
	struct fs_flow flow;
	size_t len = 0;

	(void)state;
	make_flow(&flow);
	/* 1000 alternatives: the code stays linear and the last one matches. */
	for (int i = 0; i < 999; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "port %d or ", 30000 + i);
	snprintf(text + len, sizeof(text) - len, "port 25");
	assert_int_equal(fs_filter_compile(&filter, text, NULL, &err), 0);
	assert_true(fs_filter_match(filter, &flow));
	fs_filter_free(filter);

	len = 0;
	for (int i = 0; i < 5000; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "port %d or ", i);
	snprintf(text + len, sizeof(text) - len, "port 25");
	assert_int_equal(fs_filter_compile(&filter, text, NULL, &err), FS_ERR_INVALID);
	assert_non_null(strstr(err.text, "more than 4096"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addresses_and_prefixes),
		cmocka_unit_test(net_netmask_and_abbreviated),
		cmocka_unit_test(icmp_type_and_code),
		cmocka_unit_test(ipv6_and_mapped),
		cmocka_unit_test(ports_ranges_lists),
		cmocka_unit_test(proto_flags_numbers),
		cmocka_unit_test(enriched_fields),
		cmocka_unit_test(firewall_and_nat_fields),
		cmocka_unit_test(logic_and_precedence),
		cmocka_unit_test(definitions_with_direction),
		cmocka_unit_test(errors_name_position),
		cmocka_unit_test(long_chains_compile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
