/* test_flow_json.c - JSON output of flow records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/flow.h"
#include "core/flow_json.h"
#include "core/result.h"

static void
fill_full_ipv4_flow(struct fs_flow *f)
{
	static const uint8_t exporter[4] = { 192, 0, 2, 1 };
	static const uint8_t src[4] = { 10, 0, 0, 1 };
	static const uint8_t dst[4] = { 10, 0, 0, 2 };
	static const uint8_t hop[4] = { 10, 0, 0, 254 };
	static const uint8_t src_mac[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc };
	static const uint8_t dst_mac[6] = { 0xf0, 0x0d, 0xfe, 0xed, 0x01, 0x02 };

	fs_flow_clear(f);
	f->present = (uint64_t)FS_F_FLOW_DIRECTION * 2 - 1;   /* every field of flows.raw */
	f->flow_type = FS_FLOW_NETFLOW_V9;
	fs_addr_set_v4(&f->exporter_addr, exporter);
	f->exporter_port = 2055;
	f->observation_domain_id = 7;
	f->sequence = 4294967295u;
	f->time_received_ns = 1700000000123456789;
	f->time_flow_start_ns = 1699999990000000000;
	f->time_flow_end_ns = 1699999999000000000;
	f->sampling_rate = 1000;
	fs_addr_set_v4(&f->src_addr, src);
	fs_addr_set_v4(&f->dst_addr, dst);
	fs_addr_set_v4(&f->next_hop, hop);
	f->src_port = 53211;
	f->dst_port = 443;
	f->proto = 6;
	f->tcp_flags = 0x1b;
	f->tos = 184;
	f->bytes = 18446744073709551615ull;
	f->packets = 12;
	f->in_if = 3;
	f->out_if = 4;
	f->src_as = 64512;
	f->dst_as = 4200000000u;
	f->src_mask = 24;
	f->dst_mask = 32;
	f->vlan_id = 4094;
	memcpy(f->src_mac, src_mac, 6);
	memcpy(f->dst_mac, dst_mac, 6);
	f->icmp_type = 8;
	f->icmp_code = 0;
	f->flow_direction = FS_DIR_EGRESS;
}

static const char full_ipv4_json[] =
	"{\"flow_type\":\"netflow_v9\",\"exporter_addr\":\"192.0.2.1\","
	"\"exporter_port\":2055,\"observation_domain_id\":7,"
	"\"sequence\":4294967295,\"time_received_ns\":1700000000123456789,"
	"\"time_flow_start_ns\":1699999990000000000,"
	"\"time_flow_end_ns\":1699999999000000000,\"sampling_rate\":1000,"
	"\"src_addr\":\"10.0.0.1\",\"dst_addr\":\"10.0.0.2\","
	"\"next_hop\":\"10.0.0.254\",\"src_port\":53211,\"dst_port\":443,"
	"\"proto\":6,\"tcp_flags\":27,\"tos\":184,"
	"\"bytes\":18446744073709551615,\"packets\":12,\"in_if\":3,"
	"\"out_if\":4,\"src_as\":64512,\"dst_as\":4200000000,\"src_mask\":24,"
	"\"dst_mask\":32,\"vlan_id\":4094,\"src_mac\":\"00:1b:21:aa:bb:cc\","
	"\"dst_mac\":\"f0:0d:fe:ed:01:02\",\"icmp_type\":8,\"icmp_code\":0,"
	"\"flow_direction\":\"egress\"}";

static void
full_ipv4_flow_exact(void **state)
{
	struct fs_flow f;
	char buf[FS_FLOW_JSON_MAX];
	int len;

	(void)state;
	fill_full_ipv4_flow(&f);
	len = fs_flow_json_write(&f, buf, sizeof(buf));
	assert_string_equal(buf, full_ipv4_json);
	assert_int_equal(len, (int)strlen(full_ipv4_json));
}

static void
ipv6_flow_exact(void **state)
{
	struct fs_flow f;
	char buf[FS_FLOW_JSON_MAX];
	int len;

	(void)state;
	fs_flow_clear(&f);
	f.flow_type = FS_FLOW_IPFIX;
	assert_int_equal(fs_addr_parse(&f.exporter_addr, "2001:db8::1"), 0);
	f.exporter_port = 4739;
	f.time_received_ns = -5;
	f.present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_NEXT_HOP | FS_F_PROTO |
		    FS_F_BYTES | FS_F_FLOW_DIRECTION;
	assert_int_equal(fs_addr_parse(&f.src_addr, "2001:db8:0:1::10"), 0);
	assert_int_equal(fs_addr_parse(&f.dst_addr, "fe80::1:0:0:0"), 0);
	assert_int_equal(fs_addr_parse(&f.next_hop, "::ffff:192.0.2.9"), 0);
	f.proto = 17;
	f.bytes = 0;
	f.flow_direction = FS_DIR_INGRESS;

	len = fs_flow_json_write(&f, buf, sizeof(buf));
	assert_string_equal(buf,
		"{\"flow_type\":\"ipfix\",\"exporter_addr\":\"2001:db8::1\","
		"\"exporter_port\":4739,\"time_received_ns\":-5,"
		"\"src_addr\":\"2001:db8:0:1::10\",\"dst_addr\":\"fe80::1:0:0:0\","
		"\"next_hop\":\"::ffff:192.0.2.9\",\"proto\":17,\"bytes\":0,"
		"\"flow_direction\":\"ingress\"}");
	assert_int_equal(len, (int)strlen(buf));
}

static void
absent_fields_omitted(void **state)
{
	struct fs_flow f;
	char buf[FS_FLOW_JSON_MAX];

	(void)state;
	/* Values without their presence bit must not be written. */
	fill_full_ipv4_flow(&f);
	f.present = FS_F_PACKETS;
	f.flow_type = FS_FLOW_NETFLOW_V5;
	assert_true(fs_flow_json_write(&f, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
		"{\"flow_type\":\"netflow_v5\",\"exporter_addr\":\"192.0.2.1\","
		"\"exporter_port\":2055,\"time_received_ns\":1700000000123456789,"
		"\"packets\":12}");

	/* An unset exporter address is written as empty text. */
	fs_flow_clear(&f);
	assert_true(fs_flow_json_write(&f, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
		"{\"flow_type\":\"netflow_v5\",\"exporter_addr\":\"\","
		"\"exporter_port\":0,\"time_received_ns\":0}");
}

static void
buffer_too_small_full(void **state)
{
	struct fs_flow f;
	char buf[FS_FLOW_JSON_MAX];
	size_t need = strlen(full_ipv4_json) + 1;

	(void)state;
	fill_full_ipv4_flow(&f);

	/* Exactly the JSON plus its NUL fits. */
	assert_int_equal(fs_flow_json_write(&f, buf, need), (int)need - 1);
	assert_string_equal(buf, full_ipv4_json);

	/* One byte less does not, and the buffer stays NUL-terminated. */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(fs_flow_json_write(&f, buf, need - 1), FS_ERR_FULL);
	assert_true(strlen(buf) < need - 1);
	assert_memory_equal(buf, full_ipv4_json, strlen(buf));

	assert_int_equal(fs_flow_json_write(&f, buf, 1), FS_ERR_FULL);
	assert_string_equal(buf, "");
	assert_int_equal(fs_flow_json_write(&f, NULL, 0), FS_ERR_FULL);
}

static void
max_flow_fits_bound(void **state)
{
	struct fs_flow f;
	char buf[FS_FLOW_JSON_MAX];

	(void)state;
	/* The longest values: every field set, IPv6 addresses of maximum text length. */
	fill_full_ipv4_flow(&f);
	assert_int_equal(fs_addr_parse(&f.exporter_addr,
				       "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"), 0);
	f.src_addr = f.exporter_addr;
	f.dst_addr = f.exporter_addr;
	f.next_hop = f.exporter_addr;
	f.time_received_ns = INT64_MIN;
	f.time_flow_start_ns = INT64_MIN;
	f.time_flow_end_ns = INT64_MIN;
	f.observation_domain_id = UINT32_MAX;
	f.flow_type = FS_FLOW_TYPE_COUNT;
	/* Every text field full of control characters, each escaped to 6 bytes. */
	f.present = ~0ull;
#define FILL(member) \
	do { \
		memset(f.member, 0x01, sizeof(f.member) - 1); \
		f.member[sizeof(f.member) - 1] = '\0'; \
	} while (0)
	FILL(src_country); FILL(dst_country); FILL(src_city); FILL(dst_city);
	FILL(src_as_org); FILL(dst_as_org); FILL(exporter_name); FILL(exporter_site);
	FILL(in_if_name); FILL(in_if_description); FILL(out_if_name);
	FILL(out_if_description); FILL(src_tags); FILL(dst_tags); FILL(src_service);
	FILL(dst_service);
#undef FILL
	f.in_if_speed = UINT64_MAX;
	f.out_if_speed = UINT64_MAX;
	f.exported_bytes = UINT64_MAX;
	f.exported_packets = UINT64_MAX;
	f.traffic_direction = 200;
	f.sampling_source = 200;
	f.firewall_event = UINT8_MAX;
	f.firewall_event_extended = UINT16_MAX;
	f.nat_event = UINT8_MAX;
	f.connection_id = UINT64_MAX;
	f.post_nat_src_addr = f.exporter_addr;
	f.post_nat_dst_addr = f.exporter_addr;
	f.post_nat_src_port = UINT16_MAX;
	f.post_nat_dst_port = UINT16_MAX;
	f.event_time_ns = INT64_MIN;
	/* The maximum element count and numbers, with every value byte used. */
	for (int i = 0; i < FS_FLOW_MAX_ENTERPRISE_ELEMENTS; i++) {
		uint8_t value[FS_FLOW_ENTERPRISE_BYTES / FS_FLOW_MAX_ENTERPRISE_ELEMENTS];

		memset(value, 0xff, sizeof(value));
		assert_true(fs_flow_add_enterprise(&f, UINT32_MAX, UINT16_MAX, value,
						   sizeof(value), FS_FLOW_MAX_ENTERPRISE_ELEMENTS));
	}
	assert_int_equal(f.enterprise_bytes_used, FS_FLOW_ENTERPRISE_BYTES);
	assert_true(fs_flow_json_write(&f, buf, sizeof(buf)) > 0);
	print_message("longest JSON: %zu bytes of %d\n", strlen(buf), FS_FLOW_JSON_MAX);
	assert_non_null(strstr(buf, "\"traffic_direction\":\"unknown\""));
	assert_non_null(strstr(buf, "\"time_received_ns\":-9223372036854775808,"));
	assert_non_null(strstr(buf, "\"flow_type\":\"unknown\""));
}

static void
enriched_fields_exact(void **state)
{
	struct fs_flow f;
	char buf[FS_FLOW_JSON_MAX];

	(void)state;
	fs_flow_clear(&f);
	f.flow_type = FS_FLOW_IPFIX;
	f.present = FS_F_SRC_COUNTRY | FS_F_DST_COUNTRY | FS_F_SRC_CITY | FS_F_DST_CITY |
		    FS_F_SRC_AS_ORG | FS_F_DST_AS_ORG | FS_F_EXPORTER_NAME | FS_F_EXPORTER_SITE |
		    FS_F_IN_IF_NAME | FS_F_IN_IF_DESCRIPTION | FS_F_IN_IF_SPEED |
		    FS_F_OUT_IF_NAME | FS_F_OUT_IF_DESCRIPTION | FS_F_OUT_IF_SPEED |
		    FS_F_SRC_TAGS | FS_F_DST_TAGS | FS_F_TRAFFIC_DIRECTION |
		    FS_F_EXPORTED_BYTES | FS_F_EXPORTED_PACKETS | FS_F_SAMPLING_SOURCE |
		    FS_F_SRC_SERVICE | FS_F_DST_SERVICE;
	strcpy(f.src_country, "FR");
	strcpy(f.dst_country, "DE");
	strcpy(f.src_city, "Paris");
	strcpy(f.dst_city, "M\xc3\xbcnchen");
	strcpy(f.src_as_org, "Example \"Quoted\" Org");
	strcpy(f.dst_as_org, "Back\\slash");
	strcpy(f.exporter_name, "edge1");
	strcpy(f.exporter_site, "par1");
	strcpy(f.in_if_name, "xe-0/0/1");
	strcpy(f.in_if_description, "tab\there");
	f.in_if_speed = 10000000000ull;
	strcpy(f.out_if_name, "ae0");
	strcpy(f.out_if_description, "");
	f.out_if_speed = 0;
	strcpy(f.src_tags, "site=par,role=dc");
	strcpy(f.dst_tags, "customer=acme");
	f.traffic_direction = FS_TRAFFIC_INBOUND;
	f.exported_bytes = 100;
	f.exported_packets = 1;
	f.sampling_source = FS_SAMPLING_OVERRIDE;
	strcpy(f.src_service, "https");
	strcpy(f.dst_service, "domain");
	assert_true(fs_flow_json_write(&f, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
		"{\"flow_type\":\"ipfix\",\"exporter_addr\":\"\",\"exporter_port\":0,"
		"\"time_received_ns\":0,\"src_country\":\"FR\",\"dst_country\":\"DE\","
		"\"src_city\":\"Paris\",\"dst_city\":\"M\xc3\xbcnchen\","
		"\"src_as_org\":\"Example \\\"Quoted\\\" Org\",\"dst_as_org\":\"Back\\\\slash\","
		"\"exporter_name\":\"edge1\",\"exporter_site\":\"par1\","
		"\"in_if_name\":\"xe-0/0/1\",\"in_if_description\":\"tab\\u0009here\","
		"\"in_if_speed\":10000000000,\"out_if_name\":\"ae0\",\"out_if_description\":\"\","
		"\"out_if_speed\":0,\"src_tags\":\"site=par,role=dc\",\"dst_tags\":\"customer=acme\","
		"\"traffic_direction\":\"inbound\",\"exported_bytes\":100,\"exported_packets\":1,"
		"\"sampling_source\":\"override\",\"src_service\":\"https\",\"dst_service\":\"domain\"}");
}

static void
event_fields_exact(void **state)
{
	static const uint8_t acl[4] = { 0x00, 0x0a, 0xff, 0x10 };
	struct fs_flow f;
	char buf[FS_FLOW_JSON_MAX];

	(void)state;
	fs_flow_clear(&f);
	f.flow_type = FS_FLOW_NETFLOW_V9;
	f.present = FS_F_FIREWALL_EVENT | FS_F_FIREWALL_EVENT_EXTENDED | FS_F_NAT_EVENT |
		    FS_F_CONNECTION_ID | FS_F_POST_NAT_SRC_ADDR | FS_F_POST_NAT_DST_ADDR |
		    FS_F_POST_NAT_SRC_PORT | FS_F_POST_NAT_DST_PORT | FS_F_EVENT_TIME;
	f.firewall_event = 2;
	f.firewall_event_extended = 2030;
	f.nat_event = 1;
	f.connection_id = 4294967296ull;
	assert_int_equal(fs_addr_parse(&f.post_nat_src_addr, "203.0.113.9"), 0);
	assert_int_equal(fs_addr_parse(&f.post_nat_dst_addr, "2001:db8::1"), 0);
	f.post_nat_src_port = 40000;
	f.post_nat_dst_port = 443;
	f.event_time_ns = 1444384068169000000LL;
	assert_true(fs_flow_add_enterprise(&f, 0, 33000, acl, sizeof(acl), 8));
	assert_true(fs_flow_add_enterprise(&f, 9, 12, NULL, 0, 8));
	assert_true(fs_flow_json_write(&f, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
		"{\"flow_type\":\"netflow_v9\",\"exporter_addr\":\"\",\"exporter_port\":0,"
		"\"time_received_ns\":0,\"firewall_event\":2,\"firewall_event_extended\":2030,"
		"\"nat_event\":1,\"connection_id\":4294967296,"
		"\"post_nat_src_addr\":\"203.0.113.9\",\"post_nat_dst_addr\":\"2001:db8::1\","
		"\"post_nat_src_port\":40000,\"post_nat_dst_port\":443,"
		"\"event_time_ns\":1444384068169000000,"
		"\"enterprise_elements\":[{\"enterprise\":0,\"element_id\":33000,\"value\":\"000aff10\"},"
		"{\"enterprise\":9,\"element_id\":12,\"value\":\"\"}]}");
}

static void
enterprise_add_limits(void **state)
{
	uint8_t big[FS_FLOW_ENTERPRISE_BYTES];
	struct fs_flow f;

	(void)state;
	memset(big, 0x5a, sizeof(big));
	fs_flow_clear(&f);
	assert_false(fs_flow_add_enterprise(&f, 1, 1, big, 1, 0));
	assert_int_equal(f.present, 0);
	assert_true(fs_flow_add_enterprise(&f, 1, 1, big, 2, 2));
	assert_true(fs_flow_add_enterprise(&f, 1, 2, big, 3, 2));
	assert_false(fs_flow_add_enterprise(&f, 1, 3, big, 1, 2));
	assert_int_equal(f.enterprise_count, 2);
	assert_int_equal(f.enterprise[1].offset, 2);
	assert_int_equal(f.enterprise_bytes_used, 5);
	/* Values share FS_FLOW_ENTERPRISE_BYTES: one that does not fit changes nothing. */
	assert_false(fs_flow_add_enterprise(&f, 1, 4, big, FS_FLOW_ENTERPRISE_BYTES - 4, 8));
	assert_int_equal(f.enterprise_count, 2);
	assert_true(fs_flow_add_enterprise(&f, 1, 4, big, FS_FLOW_ENTERPRISE_BYTES - 5, 8));
	assert_int_equal(f.enterprise_bytes_used, FS_FLOW_ENTERPRISE_BYTES);
	assert_true(fs_flow_add_enterprise(&f, 1, 5, big, 0, 8));
	assert_true(fs_flow_has(&f, FS_F_ENTERPRISE_ELEMENTS));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_ipv4_flow_exact),
		cmocka_unit_test(ipv6_flow_exact),
		cmocka_unit_test(absent_fields_omitted),
		cmocka_unit_test(buffer_too_small_full),
		cmocka_unit_test(max_flow_fits_bound),
		cmocka_unit_test(enriched_fields_exact),
		cmocka_unit_test(event_fields_exact),
		cmocka_unit_test(enterprise_add_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
