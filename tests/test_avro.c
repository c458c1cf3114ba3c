/*
 * test_avro.c - schema fingerprints and the flow Avro codec.
 *
 * The expected fingerprints of the small schemas come from Apache Avro's
 * share/test/data/schema-tests.txt, which lists them as signed 64-bit
 * numbers.  Avro's Java tests check those values against a direct Rabin
 * fingerprint implementation.  The cross-check test runs tests/avro_crosscheck.py
 * with /usr/bin/python3 (Debian's python3-avro) from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <avro.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "avro/fingerprint.h"
#include "avro/flow_batch.h"
#include "avro/flow_codec.h"
#include "avro/schemas.h"
#include "core/flow.h"
#include "core/result.h"

#define PYTHON "/usr/bin/python3"
#define CROSSCHECK_SCRIPT "tests/avro_crosscheck.py"

/* ---- canonical form and fingerprint ---- */

struct canonical_case {
	const char *input;
	const char *canonical;
	int64_t fingerprint;     /* as schema-tests.txt prints it, or 0 for none */
};

static const struct canonical_case canonical_cases[] = {
	{ "\"null\"", "\"null\"", 7195948357588979594LL },
	{ "{\"type\": \"null\"}", "\"null\"", 7195948357588979594LL },
	{ "\"boolean\"", "\"boolean\"", -6970731678124411036LL },
	{ "\"int\"", "\"int\"", 8247732601305521295LL },
	{ "{ \"type\" : \"int\" }", "\"int\"", 8247732601305521295LL },
	{ "\"long\"", "\"long\"", -3434872931120570953LL },
	{ "\"float\"", "\"float\"", 5583340709985441680LL },
	{ "\"double\"", "\"double\"", -8181574048448539266LL },
	{ "\"bytes\"", "\"bytes\"", 5746618253357095269LL },
	{ "\"string\"", "\"string\"", -8142146995180207161LL },
	{ "[ ]", "[]", -1241056759729112623LL },
	{ "[\"int\", {\"type\": \"boolean\"}]", "[\"int\",\"boolean\"]", 5392556393470105090LL },
	{ "{\"type\": \"record\", \"fields\": [], \"name\": \"foo\"}",
	  "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL },
	{ "{\"name\": \"foo\", \"namespace\": \"x.y\", \"type\": \"record\", \"fields\": []}",
	  "{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}", 5916914534497305771LL },
	{ "{\"namespace\": \"x.y\", \"name\": \"a.b.foo\", \"fields\": [], \"type\": \"record\"}",
	  "{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}", -4616218487480524110LL },
	{ "{\"doc\": \"about foo\", \"aliases\": [\"bar\"], \"name\": \"foo\", \"type\": \"record\", \"fields\": []}",
	  "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL },
	{ "{\"type\": \"record\", \"name\": \"foo\", \"fields\": [\n"
	  "  {\"name\": \"f1\", \"type\": \"boolean\", \"default\": true, \"aliases\": []},\n"
	  "  {\"type\": \"int\", \"order\": \"descending\", \"doc\": \"second\", \"name\": \"f2\"}]}",
	  "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"},"
	  "{\"name\":\"f2\",\"type\":\"int\"}]}", -4860222112080293046LL },
	{ "{\"symbols\": [\"A1\"], \"name\": \"foo\", \"type\": \"enum\"}",
	  "{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}", -6342190197741309591LL },
	{ "{\"type\": \"enum\", \"namespace\": \"x.y.z\", \"name\": \"foo\", \"doc\": \"d\", \"symbols\": [\"A1\", \"A2\"]}",
	  "{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\",\"A2\"]}", -4448647247586288245LL },
	{ "{\"size\": 15, \"type\": \"fixed\", \"name\": \"foo\"}",
	  "{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", 1756455273707447556LL },
	{ "{\"type\": \"array\", \"items\": {\"type\": \"null\"}}",
	  "{\"type\":\"array\",\"items\":\"null\"}", -589620603366471059LL },
	{ "{\"values\": \"string\", \"type\": \"map\"}",
	  "{\"type\":\"map\",\"values\":\"string\"}", -8732877298790414990LL },
	{ "{\"type\": \"record\", \"name\": \"PigValue\", \"fields\": [\n"
	  "  {\"name\": \"value\", \"type\": [\"null\", \"int\", \"long\", \"PigValue\"]}]}",
	  "{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":\"value\","
	  "\"type\":[\"null\",\"int\",\"long\",\"PigValue\"]}]}", -1759257747318642341LL },
	/* Cases without a published fingerprint: only the canonical form is checked. */
	{ "{\"type\": \"record\", \"name\": \"Outer\", \"namespace\": \"a.b\", \"fields\": [\n"
	  "  {\"name\": \"e\", \"type\": {\"type\": \"enum\", \"name\": \"E\", \"symbols\": [\"X\"]}},\n"
	  "  {\"name\": \"r\", \"type\": \"E\"},\n"
	  "  {\"name\": \"q\", \"type\": {\"type\": \"fixed\", \"name\": \"c.Q\", \"size\": \"016\"}},\n"
	  "  {\"name\": \"i\", \"type\": {\"type\": \"record\", \"name\": \"In\", \"namespace\": \"\",\n"
	  "                              \"fields\": [{\"name\": \"z\", \"type\": \"E\"}]}}]}",
	  "{\"name\":\"a.b.Outer\",\"type\":\"record\",\"fields\":["
	  "{\"name\":\"e\",\"type\":{\"name\":\"a.b.E\",\"type\":\"enum\",\"symbols\":[\"X\"]}},"
	  "{\"name\":\"r\",\"type\":\"a.b.E\"},"
	  "{\"name\":\"q\",\"type\":{\"name\":\"c.Q\",\"type\":\"fixed\",\"size\":16}},"
	  "{\"name\":\"i\",\"type\":{\"name\":\"In\",\"type\":\"record\",\"fields\":[{\"name\":\"z\",\"type\":\"E\"}]}}]}",
	  0 },
	{ "{\"type\": \"long\", \"logicalType\": \"timestamp-micros\"}", "\"long\"", 0 },
	{ "{\"type\": \"enum\", \"name\": \"n\\u00e9\", \"symbols\": [\"a\\\"b\"]}",
	  "{\"name\":\"n\xc3\xa9\",\"type\":\"enum\",\"symbols\":[\"a\\\"b\"]}", 0 },
};

static void
test_crc64_empty_input(void **state)
{
	(void)state;
	assert_int_equal(fs_avro_crc64("", 0), FS_AVRO_CRC64_EMPTY);
}

static void
test_canonical_form_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(canonical_cases) / sizeof(canonical_cases[0]); i++) {
		const struct canonical_case *c = &canonical_cases[i];
		char err[256] = "";
		char *canonical = NULL;
		uint64_t fp = 0;

		print_message("case %zu: %s\n", i, c->input);
		assert_int_equal(fs_avro_canonical_form(c->input, strlen(c->input), &canonical,
							err, sizeof(err)), 0);
		assert_string_equal(canonical, c->canonical);
		assert_int_equal(fs_avro_fingerprint(c->input, strlen(c->input), &fp,
						     err, sizeof(err)), 0);
		assert_int_equal(fp, fs_avro_crc64(canonical, strlen(canonical)));
		if (c->fingerprint != 0)
			assert_int_equal(fp, (uint64_t)c->fingerprint);
		free(canonical);
	}
}

static void
test_canonical_form_rejects_invalid(void **state)
{
	static const char *const inputs[] = {
		"not json",
		"{\"type\": \"record\", \"fields\": []}",
		"{\"type\": \"record\", \"name\": \"r\"}",
		"{\"type\": \"record\", \"name\": \"r\", \"fields\": [{\"type\": \"int\"}]}",
		"{\"type\": \"enum\", \"name\": \"e\", \"symbols\": [1]}",
		"{\"type\": \"fixed\", \"name\": \"f\", \"size\": -1}",
		"{\"type\": \"array\"}",
		"{\"name\": \"x\"}",
		"42",
		"\"\"",
	};
	char deep[2 * (FS_AVRO_MAX_SCHEMA_DEPTH + 10) + 8];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char err[256] = "";
		char *canonical = (char *)"unchanged";

		print_message("input: %s\n", inputs[i]);
		assert_int_equal(fs_avro_canonical_form(inputs[i], strlen(inputs[i]), &canonical,
							err, sizeof(err)), FS_ERR_INVALID);
		assert_null(canonical);
		assert_true(strlen(err) > 0);
	}

	/* Unions nested beyond the limit are rejected, not followed. */
	for (int i = 0; i < FS_AVRO_MAX_SCHEMA_DEPTH + 5; i++)
		deep[n++] = '[';
	deep[n++] = '1';
	for (int i = 0; i < FS_AVRO_MAX_SCHEMA_DEPTH + 5; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	{
		char *canonical;
		char err[256] = "";

		assert_int_equal(fs_avro_canonical_form(deep, n, &canonical, err, sizeof(err)),
				 FS_ERR_INVALID);
		assert_non_null(strstr(err, "deeper"));
	}
}

/* ---- codec fixtures and helpers ---- */

static int
codec_setup(void **state)
{
	char err[256] = "";
	struct fs_flow_codec *codec = fs_flow_codec_new(err, sizeof(err));

	if (codec == NULL) {
		print_error("fs_flow_codec_new: %s\n", err);
		return -1;
	}
	*state = codec;
	return 0;
}

static int
codec_teardown(void **state)
{
	fs_flow_codec_free(*state);
	return 0;
}

/* A flow with every optional field present and values near their limits. */
static void
make_full_flow(struct fs_flow *f)
{
	static const uint8_t v6_exporter[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
						 0, 0, 0, 0, 0, 0, 0, 0x01 };
	static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 1,
					    2, 3, 4, 5, 6, 7, 8, 9 };
	static const uint8_t v4_dst[4] = { 198, 51, 100, 7 };
	static const uint8_t v4_hop[4] = { 192, 0, 2, 254 };
	static const uint8_t src_mac[6] = { 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e };
	static const uint8_t dst_mac[6] = { 0xff, 0xfe, 0xfd, 0x00, 0x01, 0x02 };
	static const uint8_t v4_post_nat[4] = { 203, 0, 113, 9 };
	static const uint8_t v6_post_nat[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
						 0, 0, 0, 0, 0, 0, 0xab, 0xcd };
	static const uint8_t acl_id[12] = { 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0, 0, 0, 2 };

	fs_flow_clear(f);
	f->present = (uint64_t)FS_F_ENTERPRISE_ELEMENTS * 2 - 1;    /* bits 0..58 */
	f->flow_type = FS_FLOW_SFLOW_V5;
	fs_addr_set_v6(&f->exporter_addr, v6_exporter);
	f->exporter_port = 65535;
	f->observation_domain_id = UINT32_MAX;
	f->sequence = 4000000000u;
	f->time_received_ns = 1700000000123456789LL;
	f->time_flow_start_ns = -5;
	f->time_flow_end_ns = INT64_MAX;
	f->sampling_rate = 1024;
	fs_addr_set_v6(&f->src_addr, v6_src);
	fs_addr_set_v4(&f->dst_addr, v4_dst);
	fs_addr_set_v4(&f->next_hop, v4_hop);
	f->src_port = 443;
	f->dst_port = 51234;
	f->proto = 6;
	f->tcp_flags = 0x1b;
	f->tos = 255;
	f->bytes = UINT64_MAX;
	f->packets = (uint64_t)1 << 63;
	f->in_if = 3;
	f->out_if = 4294967294u;
	f->src_as = 64512;
	f->dst_as = 4200000000u;
	f->src_mask = 48;
	f->dst_mask = 32;
	f->vlan_id = 4095;
	memcpy(f->src_mac, src_mac, 6);
	memcpy(f->dst_mac, dst_mac, 6);
	f->icmp_type = 0;
	f->icmp_code = 255;
	f->flow_direction = FS_DIR_EGRESS;
	strcpy(f->src_country, "DE");
	strcpy(f->dst_country, "JP");
	strcpy(f->src_city, "M\xc3\xbcnchen");
	strcpy(f->dst_city, "\xe6\x9d\xb1\xe4\xba\xac");            /* Tokyo in kanji */
	strcpy(f->src_as_org, "Example Transit \"Backbone\" GmbH");
	strcpy(f->dst_as_org, "Example Cloud K.K.");
	strcpy(f->exporter_name, "edge1.fra");
	strcpy(f->exporter_site, "fra1");
	strcpy(f->in_if_name, "xe-0/0/1");
	strcpy(f->in_if_description, "transit: example \\ backbone");
	f->in_if_speed = 100000000000ull;
	strcpy(f->out_if_name, "ae0.100");
	strcpy(f->out_if_description, "customer 42");
	f->out_if_speed = UINT64_MAX;
	strcpy(f->src_tags, "site=fra,role=core");
	strcpy(f->dst_tags, "customer=acme");
	f->traffic_direction = FS_TRAFFIC_EXTERNAL;
	f->exported_bytes = 123456789;
	f->exported_packets = 98765;
	f->sampling_source = FS_SAMPLING_NONE;
	strcpy(f->src_service, "https");
	strcpy(f->dst_service, "x11-ssh-offset");
	f->firewall_event = 255;
	f->firewall_event_extended = 65535;
	f->nat_event = 3;
	f->connection_id = UINT64_MAX;
	fs_addr_set_v4(&f->post_nat_src_addr, v4_post_nat);
	fs_addr_set_v6(&f->post_nat_dst_addr, v6_post_nat);
	f->post_nat_src_port = 0;
	f->post_nat_dst_port = 65535;
	f->event_time_ns = 1444384068169000000LL;
	assert_true(fs_flow_add_enterprise(f, 0, 33000, acl_id, sizeof(acl_id), 8));
	assert_true(fs_flow_add_enterprise(f, UINT32_MAX, 32767, NULL, 0, 8));
	assert_true(fs_flow_add_enterprise(f, 9, 12235, (const uint8_t *)"user", 4, 8));
}

/* A flow with only the mandatory fields. */
static void
make_minimal_flow(struct fs_flow *f)
{
	static const uint8_t exporter[4] = { 192, 0, 2, 1 };

	fs_flow_clear(f);
	f->flow_type = FS_FLOW_IPFIX;
	fs_addr_set_v4(&f->exporter_addr, exporter);
	f->exporter_port = 2055;
	f->time_received_ns = 1000;
}

/*
 * Compares two flows field by field, so a failure names the field.  Members
 * whose presence bit is clear are not compared.
 */
static void
assert_flows_equal(const struct fs_flow *a, const struct fs_flow *b)
{
	assert_int_equal(a->present, b->present);
	assert_int_equal(a->flow_type, b->flow_type);
	assert_true(fs_addr_equal(&a->exporter_addr, &b->exporter_addr));
	assert_int_equal(a->exporter_port, b->exporter_port);
	assert_int_equal(a->time_received_ns, b->time_received_ns);

#define CHECK_SCALAR(bit, member) \
	do { \
		if (fs_flow_has(a, bit)) \
			assert_int_equal(a->member, b->member); \
	} while (0)
	CHECK_SCALAR(FS_F_OBSERVATION_DOMAIN, observation_domain_id);
	CHECK_SCALAR(FS_F_SEQUENCE, sequence);
	CHECK_SCALAR(FS_F_TIME_FLOW_START, time_flow_start_ns);
	CHECK_SCALAR(FS_F_TIME_FLOW_END, time_flow_end_ns);
	CHECK_SCALAR(FS_F_SAMPLING_RATE, sampling_rate);
	CHECK_SCALAR(FS_F_SRC_PORT, src_port);
	CHECK_SCALAR(FS_F_DST_PORT, dst_port);
	CHECK_SCALAR(FS_F_PROTO, proto);
	CHECK_SCALAR(FS_F_TCP_FLAGS, tcp_flags);
	CHECK_SCALAR(FS_F_TOS, tos);
	CHECK_SCALAR(FS_F_BYTES, bytes);
	CHECK_SCALAR(FS_F_PACKETS, packets);
	CHECK_SCALAR(FS_F_IN_IF, in_if);
	CHECK_SCALAR(FS_F_OUT_IF, out_if);
	CHECK_SCALAR(FS_F_SRC_AS, src_as);
	CHECK_SCALAR(FS_F_DST_AS, dst_as);
	CHECK_SCALAR(FS_F_SRC_MASK, src_mask);
	CHECK_SCALAR(FS_F_DST_MASK, dst_mask);
	CHECK_SCALAR(FS_F_VLAN_ID, vlan_id);
	CHECK_SCALAR(FS_F_ICMP_TYPE, icmp_type);
	CHECK_SCALAR(FS_F_ICMP_CODE, icmp_code);
	CHECK_SCALAR(FS_F_FLOW_DIRECTION, flow_direction);
	CHECK_SCALAR(FS_F_IN_IF_SPEED, in_if_speed);
	CHECK_SCALAR(FS_F_OUT_IF_SPEED, out_if_speed);
	CHECK_SCALAR(FS_F_TRAFFIC_DIRECTION, traffic_direction);
	CHECK_SCALAR(FS_F_EXPORTED_BYTES, exported_bytes);
	CHECK_SCALAR(FS_F_EXPORTED_PACKETS, exported_packets);
	CHECK_SCALAR(FS_F_SAMPLING_SOURCE, sampling_source);
	CHECK_SCALAR(FS_F_FIREWALL_EVENT, firewall_event);
	CHECK_SCALAR(FS_F_FIREWALL_EVENT_EXTENDED, firewall_event_extended);
	CHECK_SCALAR(FS_F_NAT_EVENT, nat_event);
	CHECK_SCALAR(FS_F_CONNECTION_ID, connection_id);
	CHECK_SCALAR(FS_F_POST_NAT_SRC_PORT, post_nat_src_port);
	CHECK_SCALAR(FS_F_POST_NAT_DST_PORT, post_nat_dst_port);
	CHECK_SCALAR(FS_F_EVENT_TIME, event_time_ns);
#undef CHECK_SCALAR

#define CHECK_TEXT(bit, member) \
	do { \
		if (fs_flow_has(a, bit)) \
			assert_string_equal(a->member, b->member); \
	} while (0)
	CHECK_TEXT(FS_F_SRC_COUNTRY, src_country);
	CHECK_TEXT(FS_F_DST_COUNTRY, dst_country);
	CHECK_TEXT(FS_F_SRC_CITY, src_city);
	CHECK_TEXT(FS_F_DST_CITY, dst_city);
	CHECK_TEXT(FS_F_SRC_AS_ORG, src_as_org);
	CHECK_TEXT(FS_F_DST_AS_ORG, dst_as_org);
	CHECK_TEXT(FS_F_EXPORTER_NAME, exporter_name);
	CHECK_TEXT(FS_F_EXPORTER_SITE, exporter_site);
	CHECK_TEXT(FS_F_IN_IF_NAME, in_if_name);
	CHECK_TEXT(FS_F_IN_IF_DESCRIPTION, in_if_description);
	CHECK_TEXT(FS_F_OUT_IF_NAME, out_if_name);
	CHECK_TEXT(FS_F_OUT_IF_DESCRIPTION, out_if_description);
	CHECK_TEXT(FS_F_SRC_TAGS, src_tags);
	CHECK_TEXT(FS_F_DST_TAGS, dst_tags);
	CHECK_TEXT(FS_F_SRC_SERVICE, src_service);
	CHECK_TEXT(FS_F_DST_SERVICE, dst_service);
#undef CHECK_TEXT

	if (fs_flow_has(a, FS_F_SRC_ADDR))
		assert_true(fs_addr_equal(&a->src_addr, &b->src_addr));
	if (fs_flow_has(a, FS_F_DST_ADDR))
		assert_true(fs_addr_equal(&a->dst_addr, &b->dst_addr));
	if (fs_flow_has(a, FS_F_NEXT_HOP))
		assert_true(fs_addr_equal(&a->next_hop, &b->next_hop));
	if (fs_flow_has(a, FS_F_SRC_MAC))
		assert_memory_equal(a->src_mac, b->src_mac, 6);
	if (fs_flow_has(a, FS_F_DST_MAC))
		assert_memory_equal(a->dst_mac, b->dst_mac, 6);
	if (fs_flow_has(a, FS_F_POST_NAT_SRC_ADDR))
		assert_true(fs_addr_equal(&a->post_nat_src_addr, &b->post_nat_src_addr));
	if (fs_flow_has(a, FS_F_POST_NAT_DST_ADDR))
		assert_true(fs_addr_equal(&a->post_nat_dst_addr, &b->post_nat_dst_addr));
	if (fs_flow_has(a, FS_F_ENTERPRISE_ELEMENTS)) {
		assert_int_equal(a->enterprise_count, b->enterprise_count);
		for (unsigned i = 0; i < a->enterprise_count; i++) {
			const struct fs_enterprise_element *ea = &a->enterprise[i];
			const struct fs_enterprise_element *eb = &b->enterprise[i];

			assert_int_equal(ea->enterprise, eb->enterprise);
			assert_int_equal(ea->element_id, eb->element_id);
			assert_int_equal(ea->length, eb->length);
			assert_memory_equal(a->enterprise_bytes + ea->offset,
					    b->enterprise_bytes + eb->offset, ea->length);
		}
	}
}

/* Writes the single-object header for fingerprint fp into buf. */
static void
put_header(uint8_t *buf, uint64_t fp)
{
	buf[0] = 0xc3;
	buf[1] = 0x01;
	for (int i = 0; i < 8; i++)
		buf[2 + i] = (uint8_t)(fp >> (8 * i));
}

/* Builds header + body into buf and returns the message length. */
static size_t
make_message(uint8_t *buf, uint64_t fp, const uint8_t *body, size_t body_len)
{
	put_header(buf, fp);
	memcpy(buf + FS_FLOW_CODEC_HEADER_LEN, body, body_len);
	return FS_FLOW_CODEC_HEADER_LEN + body_len;
}

/*
 * The Avro body of make_minimal_flow(), written out by hand from the
 * binary encoding rules: zigzag varints, bytes as length + data, union as
 * branch index + value.
 */
static const uint8_t minimal_body[] = {
	0x04,                           /* flow_type: enum index 2 (ipfix) */
	0x08, 192, 0, 2, 1,             /* exporter_addr: 4 bytes */
	0x8e, 0x20,                     /* exporter_port: 2055 */
	0x00,                           /* observation_domain_id: null */
	0x00,                           /* sequence: null */
	0xd0, 0x0f,                     /* time_received_ns: 1000 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* the 57 remaining optional fields: null */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0,
};

static void set_field_by_name(avro_value_t *record, const char *name, int branch,
			      avro_value_t *out);

/* ---- codec tests ---- */

static void
test_codec_uses_embedded_schema(void **state)
{
	struct fs_flow_codec *codec = *state;
	const struct fs_embedded_schema *schema = fs_embedded_schema_find("flow.avsc");
	uint64_t fp = 0;

	assert_non_null(schema);
	assert_string_equal(fs_flow_codec_schema_text(codec), schema->text);
	assert_int_equal(fs_avro_fingerprint(schema->text, strlen(schema->text), &fp, NULL, 0), 0);
	assert_int_equal(fs_flow_codec_fingerprint(codec), fp);
	print_message("flow.avsc fingerprint %016llx\n", (unsigned long long)fp);
}

static void
test_roundtrip_full_flow(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow in, out;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	make_full_flow(&in);
	assert_int_equal(fs_flow_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	print_message("full flow encodes to %zu bytes\n", len);
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(fs_flow_codec_decode(codec, buf, len, &out), 0);
	assert_flows_equal(&in, &out);
}

static void
test_roundtrip_minimal_flow(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow in, out;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	/* Encode a full flow first, so stale union branches would show. */
	make_full_flow(&in);
	assert_int_equal(fs_flow_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	assert_int_equal(fs_flow_codec_decode(codec, buf, len, &out), 0);

	make_minimal_flow(&in);
	assert_int_equal(fs_flow_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	assert_int_equal(fs_flow_codec_decode(codec, buf, len, &out), 0);
	assert_int_equal(out.present, 0);
	assert_flows_equal(&in, &out);
}

/* The longest encoding: every text field full, every number at its longest varint. */
static void
test_largest_flow_fits_max_len(void **state)
{
	struct fs_flow_codec *codec = *state;
	uint8_t value[FS_FLOW_ENTERPRISE_BYTES / FS_FLOW_MAX_ENTERPRISE_ELEMENTS];
	struct fs_flow in, out;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	make_full_flow(&in);
	in.enterprise_count = 0;
	in.enterprise_bytes_used = 0;
	memset(value, 0xff, sizeof(value));
	for (int i = 0; i < FS_FLOW_MAX_ENTERPRISE_ELEMENTS; i++)
		assert_true(fs_flow_add_enterprise(&in, UINT32_MAX, UINT16_MAX, value,
						   sizeof(value), FS_FLOW_MAX_ENTERPRISE_ELEMENTS));
#define FILL(member) \
	do { \
		memset(in.member, 'x', sizeof(in.member) - 1); \
		in.member[sizeof(in.member) - 1] = '\0'; \
	} while (0)
	FILL(src_country); FILL(dst_country); FILL(src_city); FILL(dst_city);
	FILL(src_as_org); FILL(dst_as_org); FILL(exporter_name); FILL(exporter_site);
	FILL(in_if_name); FILL(in_if_description); FILL(out_if_name);
	FILL(out_if_description); FILL(src_tags); FILL(dst_tags); FILL(src_service);
	FILL(dst_service);
#undef FILL
	fs_addr_set_v6(&in.dst_addr, in.src_addr.bytes);
	fs_addr_set_v6(&in.next_hop, in.src_addr.bytes);
	fs_addr_set_v6(&in.post_nat_src_addr, in.src_addr.bytes);
	in.time_received_ns = INT64_MIN;
	in.time_flow_start_ns = INT64_MIN;
	in.event_time_ns = INT64_MIN;
	in.in_if_speed = UINT64_MAX;
	in.exported_bytes = UINT64_MAX;
	in.exported_packets = UINT64_MAX;

	assert_int_equal(fs_flow_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	print_message("largest flow: %zu bytes of %d\n", len, FS_FLOW_CODEC_MAX_LEN);
	assert_int_equal(fs_flow_codec_decode(codec, buf, len, &out), 0);
	assert_flows_equal(&in, &out);
}

static void
test_roundtrip_each_field_alone(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow full, in, out;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	make_full_flow(&full);
	for (int bit = 0; bit <= 58; bit++) {
		in = full;
		in.present = (uint64_t)1 << bit;
		assert_int_equal(fs_flow_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_flow_codec_decode(codec, buf, len, &out), 0);
		assert_flows_equal(&in, &out);
	}
}

static void
test_encode_framing_bytes(void **state)
{
	struct fs_flow_codec *codec = *state;
	uint64_t fp = fs_flow_codec_fingerprint(codec);
	struct fs_flow flow;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	make_minimal_flow(&flow);
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, FS_FLOW_CODEC_HEADER_LEN + sizeof(minimal_body));
	assert_int_equal(buf[0], 0xc3);
	assert_int_equal(buf[1], 0x01);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[2 + i], (uint8_t)(fp >> (8 * i)));
	assert_memory_equal(buf + FS_FLOW_CODEC_HEADER_LEN, minimal_body, sizeof(minimal_body));
}

static void
test_encode_buffer_too_small(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow flow, out;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;
	size_t needed;

	make_full_flow(&flow);
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len), 0);
	needed = len;

	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, 0, &len), FS_ERR_FULL);
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, 9, &len), FS_ERR_FULL);
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, 10, &len), FS_ERR_FULL);
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, needed - 1, &len), FS_ERR_FULL);
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, needed, &len), 0);
	assert_int_equal(len, needed);
	assert_int_equal(fs_flow_codec_decode(codec, buf, len, &out), 0);
	assert_flows_equal(&flow, &out);
}

static void
test_encode_rejects_bad_enum(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow flow;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	make_minimal_flow(&flow);
	flow.flow_type = FS_FLOW_TYPE_COUNT;
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len),
			 FS_ERR_INVALID);

	make_minimal_flow(&flow);
	flow.present = FS_F_FLOW_DIRECTION;
	flow.flow_direction = 2;
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len),
			 FS_ERR_INVALID);

	make_minimal_flow(&flow);
	flow.present = FS_F_TRAFFIC_DIRECTION;
	flow.traffic_direction = FS_TRAFFIC_DIRECTION_COUNT;
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len),
			 FS_ERR_INVALID);

	make_minimal_flow(&flow);
	flow.present = FS_F_SAMPLING_SOURCE;
	flow.sampling_source = FS_SAMPLING_SOURCE_COUNT;
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len),
			 FS_ERR_INVALID);

	/* Out-of-range values are ignored while their presence bit is clear. */
	make_minimal_flow(&flow);
	flow.traffic_direction = 200;
	flow.sampling_source = 200;
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len), 0);
}

/*
 * Encodes, through avro-c and the current schema, a flow whose fields are
 * all null except the mandatory ones and the string field name set to the
 * len bytes of text, which need not fit struct fs_flow.
 */
static size_t
encode_current_with_string(struct fs_flow_codec *codec, uint8_t *msg, size_t cap,
			   const char *name, const char *text, size_t len)
{
	const char *schema_text = fs_flow_codec_schema_text(codec);
	static const uint8_t exporter[4] = { 192, 0, 2, 1 };
	avro_schema_t schema;
	avro_value_iface_t *klass;
	avro_value_t record, field, branch;
	avro_writer_t writer;
	size_t count, out_len;

	assert_int_equal(avro_schema_from_json_length(schema_text, strlen(schema_text),
						      &schema), 0);
	klass = avro_generic_class_from_schema(schema);
	assert_non_null(klass);
	assert_int_equal(avro_generic_value_new(klass, &record), 0);
	assert_int_equal(avro_value_get_size(&record, &count), 0);
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(avro_value_get_by_index(&record, i, &field, NULL), 0);
		if (avro_value_get_type(&field) == AVRO_UNION) {
			assert_int_equal(avro_value_set_branch(&field, 0, &branch), 0);
			assert_int_equal(avro_value_set_null(&branch), 0);
		}
	}
	set_field_by_name(&record, "flow_type", -1, &field);
	assert_int_equal(avro_value_set_enum(&field, 2), 0);
	set_field_by_name(&record, "exporter_addr", -1, &field);
	assert_int_equal(avro_value_set_bytes(&field, (void *)exporter, 4), 0);
	set_field_by_name(&record, "exporter_port", -1, &field);
	assert_int_equal(avro_value_set_int(&field, 2055), 0);
	set_field_by_name(&record, "time_received_ns", -1, &field);
	assert_int_equal(avro_value_set_long(&field, 1000), 0);
	set_field_by_name(&record, name, 1, &field);
	assert_int_equal(avro_value_set_string_len(&field, text, len + 1), 0);

	put_header(msg, fs_flow_codec_fingerprint(codec));
	writer = avro_writer_memory((const char *)msg + FS_FLOW_CODEC_HEADER_LEN,
				    (int64_t)(cap - FS_FLOW_CODEC_HEADER_LEN));
	assert_int_equal(avro_value_write(writer, &record), 0);
	out_len = FS_FLOW_CODEC_HEADER_LEN + (size_t)avro_writer_tell(writer);

	avro_writer_free(writer);
	avro_value_decref(&record);
	avro_value_iface_decref(klass);
	avro_schema_decref(schema);
	return out_len;
}

static void
test_decode_checks_strings(void **state)
{
	static const struct {
		const char *description;
		const char *field;
		const char *text;
		size_t len;
		int expected;
	} cases[] = {
		{ "two-letter country", "src_country", "FR", 2, 0 },
		{ "three-letter country is too long", "src_country", "FRA", 3, FS_ERR_INVALID },
		{ "empty city", "src_city", "", 0, 0 },
		{ "UTF-8 city", "dst_city", "S\xc3\xa3o Paulo", 10, 0 },
		{ "city of 47 bytes fits", "src_city",
		  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstu", 47, 0 },
		{ "city of 48 bytes is too long", "src_city",
		  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv", 48, FS_ERR_INVALID },
		{ "invalid UTF-8 byte", "exporter_name", "edge\xff", 5, FS_ERR_INVALID },
		{ "cut UTF-8 sequence", "exporter_name", "edge\xc3", 5, FS_ERR_INVALID },
		{ "overlong UTF-8", "exporter_name", "\xc0\xaf", 2, FS_ERR_INVALID },
		{ "control character", "in_if_description", "a\nb", 3, FS_ERR_INVALID },
		{ "NUL inside", "in_if_name", "a\0b", 3, FS_ERR_INVALID },
	};
	struct fs_flow_codec *codec = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t msg[FS_FLOW_CODEC_MAX_LEN];
		struct fs_flow out;
		size_t len;

		print_message("case: %s\n", cases[i].description);
		len = encode_current_with_string(codec, msg, sizeof(msg), cases[i].field,
						 cases[i].text, cases[i].len);
		assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), cases[i].expected);
	}
}

/* A message written with the published schema flow.v1.avsc decodes with the new fields null. */
static void
test_decode_schema_v1_message(void **state)
{
	const struct fs_embedded_schema *v1 = fs_embedded_schema_find("flow.v1.avsc");
	static const uint8_t exporter[4] = { 192, 0, 2, 9 };
	struct fs_flow_codec *codec = *state;
	avro_schema_t schema;
	avro_value_iface_t *klass;
	avro_value_t record, field, branch;
	avro_writer_t writer;
	struct fs_flow out;
	uint8_t msg[FS_FLOW_CODEC_MAX_LEN];
	uint64_t fp = 0;
	size_t count, len;

	assert_non_null(v1);
	assert_int_equal(fs_avro_fingerprint(v1->text, strlen(v1->text), &fp, NULL, 0), 0);
	assert_int_not_equal(fp, fs_flow_codec_fingerprint(codec));

	assert_int_equal(avro_schema_from_json_length(v1->text, strlen(v1->text), &schema), 0);
	klass = avro_generic_class_from_schema(schema);
	assert_non_null(klass);
	assert_int_equal(avro_generic_value_new(klass, &record), 0);
	assert_int_equal(avro_value_get_size(&record, &count), 0);
	assert_int_equal(count, 31);
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(avro_value_get_by_index(&record, i, &field, NULL), 0);
		if (avro_value_get_type(&field) == AVRO_UNION) {
			assert_int_equal(avro_value_set_branch(&field, 0, &branch), 0);
			assert_int_equal(avro_value_set_null(&branch), 0);
		}
	}
	set_field_by_name(&record, "flow_type", -1, &field);
	assert_int_equal(avro_value_set_enum(&field, 1), 0);
	set_field_by_name(&record, "exporter_addr", -1, &field);
	assert_int_equal(avro_value_set_bytes(&field, (void *)exporter, 4), 0);
	set_field_by_name(&record, "exporter_port", -1, &field);
	assert_int_equal(avro_value_set_int(&field, 2055), 0);
	set_field_by_name(&record, "time_received_ns", -1, &field);
	assert_int_equal(avro_value_set_long(&field, 42), 0);
	set_field_by_name(&record, "bytes", 1, &field);
	assert_int_equal(avro_value_set_long(&field, 1500), 0);
	set_field_by_name(&record, "flow_direction", 1, &field);
	assert_int_equal(avro_value_set_enum(&field, 1), 0);

	put_header(msg, fp);
	writer = avro_writer_memory((const char *)msg + FS_FLOW_CODEC_HEADER_LEN,
				    (int64_t)(sizeof(msg) - FS_FLOW_CODEC_HEADER_LEN));
	assert_int_equal(avro_value_write(writer, &record), 0);
	len = FS_FLOW_CODEC_HEADER_LEN + (size_t)avro_writer_tell(writer);
	avro_writer_free(writer);
	avro_value_decref(&record);
	avro_value_iface_decref(klass);
	avro_schema_decref(schema);

	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), 0);
	assert_int_equal(out.present, FS_F_BYTES | FS_F_FLOW_DIRECTION);
	assert_int_equal(out.flow_type, FS_FLOW_NETFLOW_V9);
	assert_int_equal(out.exporter_port, 2055);
	assert_int_equal(out.time_received_ns, 42);
	assert_int_equal(out.bytes, 1500);
	assert_int_equal(out.flow_direction, FS_DIR_EGRESS);
	assert_string_equal(out.src_country, "");
	assert_string_equal(out.exporter_name, "");
	assert_int_equal(out.exported_bytes, 0);
	assert_int_equal(out.traffic_direction, 0);
}

static void
test_decode_hand_written_body(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow expected, out;
	uint8_t msg[128];
	size_t len;

	make_minimal_flow(&expected);
	len = make_message(msg, fs_flow_codec_fingerprint(codec), minimal_body,
			   sizeof(minimal_body));
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), 0);
	assert_flows_equal(&expected, &out);
}

static void
test_decode_bad_header(void **state)
{
	struct fs_flow_codec *codec = *state;
	uint64_t fp = fs_flow_codec_fingerprint(codec);
	struct fs_flow out;
	uint8_t msg[128];
	size_t len;

	len = make_message(msg, fp, minimal_body, sizeof(minimal_body));

	assert_int_equal(fs_flow_codec_decode(codec, msg, 0, &out), FS_ERR_TRUNCATED);
	assert_int_equal(fs_flow_codec_decode(codec, msg, 1, &out), FS_ERR_TRUNCATED);
	for (size_t cut = 2; cut < FS_FLOW_CODEC_HEADER_LEN; cut++)
		assert_int_equal(fs_flow_codec_decode(codec, msg, cut, &out), FS_ERR_TRUNCATED);

	msg[0] = 0xc2;
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), FS_ERR_INVALID);
	assert_int_equal(fs_flow_codec_decode(codec, msg, 1, &out), FS_ERR_INVALID);
	msg[0] = 0xc3;
	msg[1] = 0x02;
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), FS_ERR_INVALID);

	/* The Avro object container magic is not a single-object marker. */
	memcpy(msg, "Obj\x01", 4);
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), FS_ERR_INVALID);
}

static void
test_decode_unknown_fingerprint(void **state)
{
	struct fs_flow_codec *codec = *state;
	uint64_t fp = fs_flow_codec_fingerprint(codec);
	struct fs_flow out;
	uint8_t msg[128];
	size_t len;

	len = make_message(msg, fp ^ 1, minimal_body, sizeof(minimal_body));
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), FS_ERR_UNSUPPORTED);

	/* Byte order matters: the big-endian fingerprint is another value. */
	len = make_message(msg, __builtin_bswap64(fp), minimal_body, sizeof(minimal_body));
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), FS_ERR_UNSUPPORTED);

	len = make_message(msg, 0, minimal_body, 0);
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), FS_ERR_UNSUPPORTED);
}

static void
test_decode_truncated_body(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow flow, out;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;

	make_full_flow(&flow);
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len), 0);
	for (size_t cut = FS_FLOW_CODEC_HEADER_LEN; cut < len; cut++) {
		print_message("cut at %zu of %zu\n", cut, len);
		assert_int_equal(fs_flow_codec_decode(codec, buf, cut, &out), FS_ERR_TRUNCATED);
	}

	/* A byte after the datum is not part of any flow. */
	buf[len] = 0;
	assert_int_equal(fs_flow_codec_decode(codec, buf, len + 1, &out), FS_ERR_INVALID);
}

struct body_case {
	const char *description;
	size_t offset;          /* where patch replaces drop bytes of minimal_body */
	size_t drop;
	uint8_t patch[12];
	size_t patch_len;
	int expected;
};

/* Offset in minimal_body of enterprise_elements, its last field. */
#define ENTERPRISE_OFFSET (sizeof(minimal_body) - 1)

static const struct body_case body_cases[] = {
	{ "flow_type enum index 4", 0, 1, { 0x08 }, 1, FS_ERR_INVALID },
	{ "flow_type enum index -1", 0, 1, { 0x01 }, 1, FS_ERR_INVALID },
	{ "exporter_addr of 5 bytes", 1, 5, { 0x0a, 1, 2, 3, 4, 5 }, 6, FS_ERR_INVALID },
	{ "exporter_addr of 0 bytes is accepted", 1, 5, { 0x00 }, 1, 0 },
	{ "exporter_addr length -1", 1, 5, { 0x01 }, 1, FS_ERR_INVALID },
	{ "exporter_addr length 2^31", 1, 5, { 0x80, 0x80, 0x80, 0x80, 0x10 }, 5,
	  FS_ERR_TRUNCATED },
	{ "exporter_port 70000", 6, 2, { 0xe0, 0xc5, 0x08 }, 3, FS_ERR_INVALID },
	{ "exporter_port -1", 6, 2, { 0x01 }, 1, FS_ERR_INVALID },
	{ "exporter_port int of 6 bytes", 6, 2, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, 6,
	  FS_ERR_INVALID },
	{ "exporter_port int above 2^31", 6, 2, { 0x80, 0x80, 0x80, 0x80, 0x10 }, 5,
	  FS_ERR_INVALID },
	{ "union branch 2", 8, 1, { 0x04 }, 1, FS_ERR_INVALID },
	{ "union branch -1", 8, 1, { 0x01 }, 1, FS_ERR_INVALID },
	{ "sequence 2^32", 9, 1, { 0x02, 0x80, 0x80, 0x80, 0x80, 0x20 }, 6, FS_ERR_INVALID },
	{ "time_received_ns varint of 11 bytes", 10, 2,
	  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 11,
	  FS_ERR_INVALID },
	{ "time_received_ns cut in its varint", 10, 59, { 0xd0 }, 1, FS_ERR_TRUNCATED },
	/* enterprise_elements, the last field: branch 1, then an array block. */
	{ "enterprise_elements of one item is accepted", ENTERPRISE_OFFSET, 1,
	  { 0x02, 0x02, 0x12, 0x80, 0xf4, 0x03, 0x02, 0xab, 0x00 }, 9, 0 },
	{ "enterprise_elements empty array is accepted", ENTERPRISE_OFFSET, 1,
	  { 0x02, 0x00 }, 2, 0 },
	{ "enterprise_elements enterprise -1", ENTERPRISE_OFFSET, 1,
	  { 0x02, 0x02, 0x01, 0x00, 0x00, 0x00 }, 6, FS_ERR_INVALID },
	{ "enterprise_elements element_id 70000", ENTERPRISE_OFFSET, 1,
	  { 0x02, 0x02, 0x00, 0xe0, 0xc5, 0x08, 0x00, 0x00 }, 8, FS_ERR_INVALID },
	{ "enterprise_elements value runs past the body", ENTERPRISE_OFFSET, 1,
	  { 0x02, 0x02, 0x00, 0x00, 0x10, 0xab }, 6, FS_ERR_TRUNCATED },
	{ "enterprise_elements array without its end", ENTERPRISE_OFFSET, 1,
	  { 0x02, 0x02, 0x00, 0x00, 0x00 }, 5, FS_ERR_TRUNCATED },
};

static void
test_decode_malformed_bodies(void **state)
{
	struct fs_flow_codec *codec = *state;
	uint64_t fp = fs_flow_codec_fingerprint(codec);

	for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		const struct body_case *c = &body_cases[i];
		uint8_t body[128];
		uint8_t msg[160];
		struct fs_flow out;
		size_t body_len = 0;
		size_t len;

		memcpy(body, minimal_body, c->offset);
		body_len = c->offset;
		memcpy(body + body_len, c->patch, c->patch_len);
		body_len += c->patch_len;
		memcpy(body + body_len, minimal_body + c->offset + c->drop,
		       sizeof(minimal_body) - c->offset - c->drop);
		body_len += sizeof(minimal_body) - c->offset - c->drop;

		print_message("case: %s\n", c->description);
		len = make_message(msg, fp, body, body_len);
		assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), c->expected);
	}
}

/*
 * A hypothetical older flow schema: fewer fields in another order, enums
 * whose symbols sit at other indexes (and one symbol the current schema
 * lacks), an int sampling rate, a union with null second, and a field the
 * current schema dropped.
 */
static const char old_schema[] =
	"{\"type\": \"record\", \"name\": \"Flow\", \"namespace\": \"org.flowsift\", \"fields\": [\n"
	"  {\"name\": \"flow_type\", \"type\": {\"type\": \"enum\", \"name\": \"FlowType\",\n"
	"    \"symbols\": [\"netflow_v9\", \"ipfix\", \"jflow\"]}},\n"
	"  {\"name\": \"time_received_ns\", \"type\": \"long\"},\n"
	"  {\"name\": \"exporter_addr\", \"type\": \"bytes\"},\n"
	"  {\"name\": \"exporter_port\", \"type\": \"int\"},\n"
	"  {\"name\": \"collector_name\", \"type\": \"string\"},\n"
	"  {\"name\": \"sampling_rate\", \"type\": [\"null\", \"int\"], \"default\": null},\n"
	"  {\"name\": \"src_addr\", \"type\": [\"null\", \"bytes\"], \"default\": null},\n"
	"  {\"name\": \"dst_addr\", \"type\": [\"null\", \"bytes\"], \"default\": null},\n"
	"  {\"name\": \"dst_port\", \"type\": [\"null\", \"int\"], \"default\": null},\n"
	"  {\"name\": \"bytes\", \"type\": [\"null\", \"long\"], \"default\": null},\n"
	"  {\"name\": \"packets\", \"type\": [\"long\", \"null\"]},\n"
	"  {\"name\": \"flow_direction\", \"type\": [\"null\", {\"type\": \"enum\",\n"
	"    \"name\": \"FlowDirection\", \"symbols\": [\"egress\", \"ingress\"]}], \"default\": null}\n"
	"]}";

static void
set_field_by_name(avro_value_t *record, const char *name, int branch, avro_value_t *out)
{
	avro_value_t field;

	assert_int_equal(avro_value_get_by_name(record, name, &field, NULL), 0);
	if (branch < 0)
		*out = field;
	else
		assert_int_equal(avro_value_set_branch(&field, branch, out), 0);
}

/*
 * Encodes one flow with old_schema through avro-c directly into msg.
 * flow_type is the writer's symbol index (0 netflow_v9, 1 ipfix, 2 jflow).
 */
static size_t
encode_with_old_schema(uint8_t *msg, size_t cap, uint64_t fp, int flow_type)
{
	static const uint8_t exporter[4] = { 10, 1, 2, 3 };
	static const uint8_t src[4] = { 10, 9, 8, 7 };
	avro_schema_t schema;
	avro_value_iface_t *klass;
	avro_value_t record, v;
	avro_writer_t writer;
	size_t len;

	assert_int_equal(avro_schema_from_json_length(old_schema, strlen(old_schema), &schema), 0);
	klass = avro_generic_class_from_schema(schema);
	assert_non_null(klass);
	assert_int_equal(avro_generic_value_new(klass, &record), 0);

	set_field_by_name(&record, "flow_type", -1, &v);
	assert_int_equal(avro_value_set_enum(&v, flow_type), 0);
	set_field_by_name(&record, "time_received_ns", -1, &v);
	assert_int_equal(avro_value_set_long(&v, 1600000000000000000LL), 0);
	set_field_by_name(&record, "exporter_addr", -1, &v);
	assert_int_equal(avro_value_set_bytes(&v, (void *)exporter, 4), 0);
	set_field_by_name(&record, "exporter_port", -1, &v);
	assert_int_equal(avro_value_set_int(&v, 9995), 0);
	set_field_by_name(&record, "collector_name", -1, &v);
	assert_int_equal(avro_value_set_string(&v, "edge-1"), 0);
	set_field_by_name(&record, "sampling_rate", 1, &v);
	assert_int_equal(avro_value_set_int(&v, 2147483647), 0);
	set_field_by_name(&record, "src_addr", 1, &v);
	assert_int_equal(avro_value_set_bytes(&v, (void *)src, 4), 0);
	set_field_by_name(&record, "dst_addr", 0, &v);
	assert_int_equal(avro_value_set_null(&v), 0);
	set_field_by_name(&record, "dst_port", 1, &v);
	assert_int_equal(avro_value_set_int(&v, 53), 0);
	set_field_by_name(&record, "bytes", 1, &v);
	assert_int_equal(avro_value_set_long(&v, 123456789012LL), 0);
	set_field_by_name(&record, "packets", 0, &v);
	assert_int_equal(avro_value_set_long(&v, 77), 0);
	set_field_by_name(&record, "flow_direction", 1, &v);
	assert_int_equal(avro_value_set_enum(&v, 0), 0);             /* egress */

	put_header(msg, fp);
	writer = avro_writer_memory((const char *)msg + FS_FLOW_CODEC_HEADER_LEN,
				    (int64_t)(cap - FS_FLOW_CODEC_HEADER_LEN));
	assert_int_equal(avro_value_write(writer, &record), 0);
	len = FS_FLOW_CODEC_HEADER_LEN + (size_t)avro_writer_tell(writer);

	avro_writer_free(writer);
	avro_value_decref(&record);
	avro_value_iface_decref(klass);
	avro_schema_decref(schema);
	return len;
}

static void
test_decode_older_schema_version(void **state)
{
	struct fs_flow_codec *codec = *state;
	static const uint8_t exporter[4] = { 10, 1, 2, 3 };
	static const uint8_t src[4] = { 10, 9, 8, 7 };
	struct fs_addr addr;
	struct fs_flow out;
	char err[256] = "";
	uint8_t msg[256];
	uint64_t fp = 0, again = 0;
	size_t len;

	len = encode_with_old_schema(msg, sizeof(msg), fs_avro_crc64("x", 1), 0);

	/* Unknown until registered. */
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), FS_ERR_UNSUPPORTED);

	assert_int_equal(fs_flow_codec_add_schema(codec, old_schema, strlen(old_schema), &fp,
						  err, sizeof(err)), 0);
	assert_int_not_equal(fp, fs_flow_codec_fingerprint(codec));
	assert_int_equal(fs_flow_codec_add_schema(codec, old_schema, strlen(old_schema), &again,
						  err, sizeof(err)), 0);
	assert_int_equal(again, fp);

	put_header(msg, fp);
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), 0);

	assert_int_equal(out.present, FS_F_SAMPLING_RATE | FS_F_SRC_ADDR | FS_F_DST_PORT |
				      FS_F_BYTES | FS_F_PACKETS | FS_F_FLOW_DIRECTION);
	assert_int_equal(out.flow_type, FS_FLOW_NETFLOW_V9);
	fs_addr_set_v4(&addr, exporter);
	assert_true(fs_addr_equal(&out.exporter_addr, &addr));
	assert_int_equal(out.exporter_port, 9995);
	assert_int_equal(out.time_received_ns, 1600000000000000000LL);
	assert_int_equal(out.sampling_rate, 2147483647);
	fs_addr_set_v4(&addr, src);
	assert_true(fs_addr_equal(&out.src_addr, &addr));
	assert_int_equal(out.dst_port, 53);
	assert_int_equal(out.bytes, 123456789012ULL);
	assert_int_equal(out.packets, 77);
	assert_int_equal(out.flow_direction, FS_DIR_EGRESS);

	/* Symbols are matched by name: writer index 1 is ipfix. */
	len = encode_with_old_schema(msg, sizeof(msg), fp, 1);
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), 0);
	assert_int_equal(out.flow_type, FS_FLOW_IPFIX);

	/* A symbol the current enum lacks cannot be read. */
	len = encode_with_old_schema(msg, sizeof(msg), fp, 2);
	assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), FS_ERR_INVALID);
	len = encode_with_old_schema(msg, sizeof(msg), fp, 0);

	/* The old body cut short is still caught with its own schema. */
	assert_int_equal(fs_flow_codec_decode(codec, msg, len - 1, &out), FS_ERR_TRUNCATED);

	/* Current messages still decode after the registration. */
	{
		struct fs_flow in;
		uint8_t buf[FS_FLOW_CODEC_MAX_LEN];

		make_full_flow(&in);
		assert_int_equal(fs_flow_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
		assert_int_equal(fs_flow_codec_decode(codec, buf, len, &out), 0);
		assert_flows_equal(&in, &out);
	}
}

/* Adds one to the size_t at opaque for every flow. */
static int
count_each_flow(const struct fs_flow *flow, void *opaque)
{
	(void)flow;
	(*(size_t *)opaque)++;
	return 0;
}

/* Appends the one-flow message src (len bytes) to msg at *used. */
static void
append_message(uint8_t *msg, size_t cap, size_t *used, const uint8_t *src, size_t len)
{
	assert_true(*used + len <= cap);
	memcpy(msg + *used, src, len);
	*used += len;
}

static void
test_decode_next_walks_a_message(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow a, b, out;
	uint8_t one[FS_FLOW_CODEC_MAX_LEN], old[256], msg[3 * FS_FLOW_CODEC_MAX_LEN];
	size_t a_len = 0, b_len = 0, old_len, used = 0, pos = 0, count = 0;
	uint64_t fp = 0, rejected = 0;
	char err[256] = "";

	assert_int_equal(fs_flow_codec_add_schema(codec, old_schema, strlen(old_schema), &fp,
						  err, sizeof(err)), 0);
	old_len = encode_with_old_schema(old, sizeof(old), fp, 1);
	make_full_flow(&a);
	make_minimal_flow(&b);
	b.dst_port = 4242;
	b.present |= FS_F_DST_PORT;

	/* A current flow, an older schema version's flow, a current flow. */
	assert_int_equal(fs_flow_codec_encode(codec, &a, one, sizeof(one), &a_len), 0);
	append_message(msg, sizeof(msg), &used, one, a_len);
	append_message(msg, sizeof(msg), &used, old, old_len);
	assert_int_equal(fs_flow_codec_encode(codec, &b, one, sizeof(one), &b_len), 0);
	append_message(msg, sizeof(msg), &used, one, b_len);

	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used, &pos, &out), 0);
	assert_int_equal(pos, a_len);
	assert_flows_equal(&a, &out);
	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used, &pos, &out), 0);
	assert_int_equal(pos, a_len + old_len);
	assert_int_equal(out.flow_type, FS_FLOW_IPFIX);
	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used, &pos, &out), 0);
	assert_int_equal(pos, used);
	assert_flows_equal(&b, &out);
	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used, &pos, &out), FS_ERR_TRUNCATED);

	/* The one-flow reader rejects the same bytes: they hold more than one flow. */
	assert_int_equal(fs_flow_codec_decode(codec, msg, used, &out), FS_ERR_INVALID);

	/* The last flow cut short: the first two are kept, the third is truncated. */
	pos = a_len + old_len;
	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used - 1, &pos, &out),
			 FS_ERR_TRUNCATED);
	assert_int_equal(pos, used - 1);

	/* An unknown fingerprint in the middle: the flow after it is found by its header. */
	put_header(msg + a_len, fs_avro_crc64("y", 1));
	pos = a_len;
	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used, &pos, &out),
			 FS_ERR_UNSUPPORTED);
	assert_int_equal(pos, a_len + old_len);
	rejected = 0;
	assert_int_equal(fs_flow_codec_decode_each(codec, msg, used, count_each_flow, &count,
						   &rejected), 0);
	assert_int_equal(count, 2);
	assert_int_equal(rejected, 1);

	/* An empty message contains no flow and counts as one rejected flow. */
	pos = 0;
	assert_int_equal(fs_flow_codec_decode_next(codec, msg, 0, &pos, &out), FS_ERR_TRUNCATED);
	assert_int_equal(pos, 0);
}

/*
 * A message whose flows cannot all be read: each broken flow counts once and
 * the good flows after it are kept.
 */
static void
test_decode_next_skips_a_broken_flow(void **state)
{
	struct fs_flow_codec *codec = *state;
	static const uint8_t c3_01[4] = { 0xc3, 0x01, 0xc3, 0x01 };
	struct fs_flow a, out;
	uint8_t one[FS_FLOW_CODEC_MAX_LEN], msg[8 * FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0, used = 0, pos = 0, count = 0;
	uint64_t unknown = fs_avro_crc64("newer", 5), rejected = 0;

	/* Addresses holding C3 01 put the marker inside the broken flow's bytes. */
	make_full_flow(&a);
	fs_addr_set_v4(&a.exporter_addr, c3_01);
	fs_addr_set_v4(&a.dst_addr, c3_01);
	assert_int_equal(fs_flow_codec_encode(codec, &a, one, sizeof(one), &len), 0);
	append_message(msg, sizeof(msg), &used, one, len);
	/* The same flow with a union branch the schema does not have. */
	append_message(msg, sizeof(msg), &used, one, len);
	msg[used - len + FS_FLOW_CODEC_HEADER_LEN] = 0x7f;
	append_message(msg, sizeof(msg), &used, one, len);

	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used, &pos, &out), 0);
	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used, &pos, &out), FS_ERR_INVALID);
	assert_int_equal(pos, 2 * len);
	assert_int_equal(fs_flow_codec_decode_next(codec, msg, used, &pos, &out), 0);
	assert_flows_equal(&a, &out);
	assert_int_equal(pos, used);

	/*
	 * Three flows of a schema this reader does not know, then a known one:
	 * each unknown flow is found by its own fingerprint and counts once.
	 */
	used = 0;
	for (int i = 0; i < 3; i++) {
		append_message(msg, sizeof(msg), &used, one, len);
		put_header(msg + used - len, unknown);
	}
	append_message(msg, sizeof(msg), &used, one, len);
	assert_int_equal(fs_flow_codec_decode_each(codec, msg, used, count_each_flow, &count,
						   &rejected), 0);
	assert_int_equal(count, 1);
	assert_int_equal(rejected, 3);

	/* Garbage with no header after it: the rest of the message counts once. */
	memcpy(msg, one, len);
	memset(msg + len, 0xc3, 64);
	count = 0;
	rejected = 0;
	assert_int_equal(fs_flow_codec_decode_each(codec, msg, len + 64, count_each_flow, &count,
						   &rejected), 0);
	assert_int_equal(count, 1);
	assert_int_equal(rejected, 1);
}

static void
test_flow_batch_groups_one_exporter(void **state)
{
	struct fs_flow_codec *codec = *state;
	static struct fs_flow_batch batch;
	static const uint8_t other[4] = { 192, 0, 2, 99 };
	struct fs_flow a, b, out;
	const uint8_t *key;
	size_t key_len = 0, pos = 0, count = 0;
	uint64_t rejected = 0;

	make_full_flow(&a);
	b = a;
	b.dst_port = 1234;
	fs_flow_batch_init(&batch, 3);
	assert_int_equal(fs_flow_batch_add(&batch, codec, &a), 0);
	assert_int_equal(fs_flow_batch_add(&batch, codec, &b), 0);
	key = fs_flow_batch_key(&batch, &key_len);
	assert_int_equal(key_len, 16);
	assert_memory_equal(key, a.exporter_addr.bytes, 16);

	/* Another exporter does not join; the limit of three flows holds. */
	fs_addr_set_v4(&b.exporter_addr, other);
	assert_false(fs_flow_batch_fits(&batch, &b));
	assert_int_equal(fs_flow_batch_add(&batch, codec, &b), FS_ERR_FULL);
	assert_int_equal(fs_flow_batch_add_encoded(&batch, &a, batch.buf, 10), 0);
	assert_int_equal(batch.count, 3);
	assert_false(fs_flow_batch_fits(&batch, &a));
	assert_int_equal(fs_flow_batch_add(&batch, codec, &a), FS_ERR_FULL);

	/* The first two flows read back; the 10 bytes appended above are a truncated third. */
	assert_int_equal(fs_flow_codec_decode_next(codec, batch.buf, batch.len, &pos, &out), 0);
	assert_flows_equal(&a, &out);
	assert_int_equal(fs_flow_codec_decode_each(codec, batch.buf, batch.len, count_each_flow,
						   &count, &rejected), 0);
	assert_int_equal(count, 2);
	assert_int_equal(rejected, 1);

	fs_flow_batch_clear(&batch);
	assert_int_equal(batch.count, 0);

	/*
	 * A flow passed on as received may be longer than the codec writes
	 * (varints in more bytes than needed): it fits by its own length.
	 */
	fs_flow_batch_init(&batch, 128);
	assert_int_equal(fs_flow_batch_add(&batch, codec, &a), 0);
	batch.len = sizeof(batch.buf) - 2378;
	assert_true(fs_flow_batch_fits(&batch, &a));
	assert_false(fs_flow_batch_fits_encoded(&batch, &a, 2746));
	assert_int_equal(fs_flow_batch_add_encoded(&batch, &a, batch.buf, 2746), FS_ERR_FULL);
	assert_true(fs_flow_batch_fits_encoded(&batch, &a, 2378));
	fs_flow_batch_clear(&batch);
	assert_true(fs_flow_batch_fits_encoded(&batch, &a, 2746));
	assert_false(fs_flow_batch_fits_encoded(&batch, &a, sizeof(batch.buf) + 1));
	fs_flow_batch_clear(&batch);
	assert_true(fs_flow_batch_fits(&batch, &b));
	assert_int_equal(fs_flow_batch_add(&batch, codec, &b), 0);
	key = fs_flow_batch_key(&batch, &key_len);
	assert_int_equal(key_len, 4);
	assert_memory_equal(key, other, 4);
}

static void
test_add_schema_rejects_unreadable(void **state)
{
	static const char *const schemas[] = {
		/* lacks time_received_ns, which has no default */
		"{\"type\": \"record\", \"name\": \"Flow\", \"namespace\": \"org.flowsift\", \"fields\": [\n"
		"  {\"name\": \"flow_type\", \"type\": {\"type\": \"enum\", \"name\": \"FlowType\",\n"
		"    \"symbols\": [\"ipfix\"]}},\n"
		"  {\"name\": \"exporter_addr\", \"type\": \"bytes\"},\n"
		"  {\"name\": \"exporter_port\", \"type\": \"int\"}]}",
		/* another record name */
		"{\"type\": \"record\", \"name\": \"Packet\", \"fields\": []}",
		/* exporter_port as a string cannot be read as int */
		"{\"type\": \"record\", \"name\": \"Flow\", \"namespace\": \"org.flowsift\", \"fields\": [\n"
		"  {\"name\": \"flow_type\", \"type\": {\"type\": \"enum\", \"name\": \"FlowType\",\n"
		"    \"symbols\": [\"ipfix\"]}},\n"
		"  {\"name\": \"exporter_addr\", \"type\": \"bytes\"},\n"
		"  {\"name\": \"exporter_port\", \"type\": \"string\"},\n"
		"  {\"name\": \"time_received_ns\", \"type\": \"long\"}]}",
		"\"long\"",
		"{\"type\": ",
	};
	struct fs_flow_codec *codec = *state;

	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		char err[256] = "";

		assert_int_equal(fs_flow_codec_add_schema(codec, schemas[i], strlen(schemas[i]),
							  NULL, err, sizeof(err)), FS_ERR_INVALID);
		print_message("rejected as expected: %s\n", err);
		assert_true(strlen(err) > 0);
	}
}

static void
test_decode_limits_array_items(void **state)
{
	static const char schema[] =
		"{\"type\": \"record\", \"name\": \"Flow\", \"namespace\": \"org.flowsift\", \"fields\": [\n"
		"  {\"name\": \"flow_type\", \"type\": {\"type\": \"enum\", \"name\": \"FlowType\",\n"
		"    \"symbols\": [\"netflow_v5\", \"netflow_v9\", \"ipfix\", \"sflow_v5\"]}},\n"
		"  {\"name\": \"exporter_addr\", \"type\": \"bytes\"},\n"
		"  {\"name\": \"exporter_port\", \"type\": \"int\"},\n"
		"  {\"name\": \"time_received_ns\", \"type\": \"long\"},\n"
		"  {\"name\": \"pad\", \"type\": {\"type\": \"array\", \"items\": \"null\"}}]}";
	static const uint8_t head[] = { 0x04, 0x08, 192, 0, 2, 1, 0x8e, 0x20, 0xd0, 0x0f };
	static const struct {
		const char *description;
		uint8_t tail[8];
		size_t tail_len;
		int expected;
	} cases[] = {
		{ "3 items", { 0x06, 0x00 }, 2, 0 },
		{ "3 items in a sized block", { 0x05, 0x00, 0x00 }, 3, 0 },
		{ "4096 items", { 0x80, 0x40, 0x00 }, 3, 0 },
		{ "4097 items", { 0x82, 0x40, 0x00 }, 3, FS_ERR_INVALID },
		{ "2 blocks of 2048 and 1", { 0x80, 0x20, 0x80, 0x20, 0x02, 0x00 }, 6, FS_ERR_INVALID },
		{ "2^55 - 1 items", { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, 8, FS_ERR_INVALID },
		{ "no end block", { 0x06 }, 1, FS_ERR_TRUNCATED },
	};
	struct fs_flow_codec *codec = *state;
	char err[256] = "";
	uint64_t fp = 0;

	assert_int_equal(fs_flow_codec_add_schema(codec, schema, strlen(schema), &fp,
						  err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t body[32];
		uint8_t msg[64];
		struct fs_flow out;
		size_t len;

		memcpy(body, head, sizeof(head));
		memcpy(body + sizeof(head), cases[i].tail, cases[i].tail_len);
		len = make_message(msg, fp, body, sizeof(head) + cases[i].tail_len);
		print_message("case: %s\n", cases[i].description);
		assert_int_equal(fs_flow_codec_decode(codec, msg, len, &out), cases[i].expected);
		if (cases[i].expected == 0)
			assert_int_equal(out.exporter_port, 2055);
	}
}

/* ---- python-avro cross-check ---- */

static char *
write_temp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/flowsift-test-avro-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Runs the cross-check script; returns its exit status and its stdout in *output. */
static int
run_crosscheck(const char *schema_path, const char *message_path, char *output, size_t cap)
{
	char command[512];
	size_t used = 0;
	FILE *pipe;
	int status;

	snprintf(command, sizeof(command), "%s %s %s %s", PYTHON, CROSSCHECK_SCRIPT,
		 schema_path, message_path);
	pipe = popen(command, "r");
	assert_non_null(pipe);
	while (used + 1 < cap) {
		size_t n = fread(output + used, 1, cap - 1 - used, pipe);

		if (n == 0)
			break;
		used += n;
	}
	output[used] = '\0';
	status = pclose(pipe);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
assert_json_string(json_t *object, const char *key, const char *expected)
{
	json_t *value = json_object_get(object, key);

	print_message("field %s\n", key);
	assert_true(json_is_string(value));
	assert_string_equal(json_string_value(value), expected);
}

static void
assert_json_integer(json_t *object, const char *key, long long expected)
{
	json_t *value = json_object_get(object, key);

	print_message("field %s\n", key);
	assert_true(json_is_integer(value));
	assert_int_equal(json_integer_value(value), expected);
}

static void
test_python_avro_crosscheck(void **state)
{
	struct fs_flow_codec *codec = *state;
	const char *schema_text = fs_flow_codec_schema_text(codec);
	char *schema_path, *message_path, *canonical = NULL;
	char output[8192];
	char expected_fp[17];
	struct fs_flow flow;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;
	json_error_t jerr;
	json_t *doc, *datum, *elements;
	int status;

	(void)state;
	if (access(PYTHON, X_OK) != 0 || access(CROSSCHECK_SCRIPT, R_OK) != 0) {
		print_message("skipped: needs %s and %s (run from the repository root)\n",
			      PYTHON, CROSSCHECK_SCRIPT);
		skip();
	}

	make_full_flow(&flow);
	flow.present &= ~(uint64_t)(FS_F_NEXT_HOP | FS_F_TOS);
	assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &len), 0);
	schema_path = write_temp_file(schema_text, strlen(schema_text));
	message_path = write_temp_file(buf, len);

	status = run_crosscheck(schema_path, message_path, output, sizeof(output));
	unlink(schema_path);
	unlink(message_path);
	free(schema_path);
	free(message_path);
	if (status == 77) {
		print_message("skipped: %s cannot import avro; install python3-avro\n", PYTHON);
		skip();
	}
	if (status != 0)
		print_message("%s exited with %d, output: %s\n", CROSSCHECK_SCRIPT, status, output);
	assert_int_equal(status, 0);

	doc = json_loads(output, 0, &jerr);
	assert_non_null(doc);

	snprintf(expected_fp, sizeof(expected_fp), "%016llx",
		 (unsigned long long)fs_flow_codec_fingerprint(codec));
	assert_json_string(doc, "fingerprint", expected_fp);
	assert_int_equal(fs_avro_canonical_form(schema_text, strlen(schema_text), &canonical,
						NULL, 0), 0);
	assert_json_string(doc, "canonical_form", canonical);
	free(canonical);

	datum = json_object_get(doc, "datum");
	assert_true(json_is_object(datum));
	assert_json_string(datum, "flow_type", "sflow_v5");
	assert_json_string(datum, "exporter_addr", "20010db8000000000000000000000001");
	assert_json_integer(datum, "exporter_port", 65535);
	assert_json_integer(datum, "observation_domain_id", 4294967295LL);
	assert_json_integer(datum, "sequence", 4000000000LL);
	assert_json_integer(datum, "time_received_ns", 1700000000123456789LL);
	assert_json_integer(datum, "time_flow_start_ns", -5);
	assert_json_integer(datum, "time_flow_end_ns", INT64_MAX);
	assert_json_integer(datum, "sampling_rate", 1024);
	assert_json_string(datum, "src_addr", "20010db8ffff00010203040506070809");
	assert_json_string(datum, "dst_addr", "c6336407");
	assert_true(json_is_null(json_object_get(datum, "next_hop")));
	assert_json_integer(datum, "src_port", 443);
	assert_json_integer(datum, "dst_port", 51234);
	assert_json_integer(datum, "proto", 6);
	assert_json_integer(datum, "tcp_flags", 0x1b);
	assert_true(json_is_null(json_object_get(datum, "tos")));
	assert_json_integer(datum, "bytes", -1);          /* UINT64_MAX as a signed long */
	assert_json_integer(datum, "packets", INT64_MIN);
	assert_json_integer(datum, "in_if", 3);
	assert_json_integer(datum, "out_if", 4294967294LL);
	assert_json_integer(datum, "src_as", 64512);
	assert_json_integer(datum, "dst_as", 4200000000LL);
	assert_json_integer(datum, "src_mask", 48);
	assert_json_integer(datum, "dst_mask", 32);
	assert_json_integer(datum, "vlan_id", 4095);
	assert_json_string(datum, "src_mac", "001b213c4d5e");
	assert_json_string(datum, "dst_mac", "fffefd000102");
	assert_json_integer(datum, "icmp_type", 0);
	assert_json_integer(datum, "icmp_code", 255);
	assert_json_string(datum, "flow_direction", "egress");
	assert_json_string(datum, "src_country", "DE");
	assert_json_string(datum, "dst_country", "JP");
	assert_json_string(datum, "src_city", "M\xc3\xbcnchen");
	assert_json_string(datum, "dst_city", "\xe6\x9d\xb1\xe4\xba\xac");
	assert_json_string(datum, "src_as_org", "Example Transit \"Backbone\" GmbH");
	assert_json_string(datum, "dst_as_org", "Example Cloud K.K.");
	assert_json_string(datum, "exporter_name", "edge1.fra");
	assert_json_string(datum, "exporter_site", "fra1");
	assert_json_string(datum, "in_if_name", "xe-0/0/1");
	assert_json_string(datum, "in_if_description", "transit: example \\ backbone");
	assert_json_integer(datum, "in_if_speed", 100000000000LL);
	assert_json_string(datum, "out_if_name", "ae0.100");
	assert_json_string(datum, "out_if_description", "customer 42");
	assert_json_integer(datum, "out_if_speed", -1);   /* UINT64_MAX as a signed long */
	assert_json_string(datum, "src_tags", "site=fra,role=core");
	assert_json_string(datum, "dst_tags", "customer=acme");
	assert_json_string(datum, "traffic_direction", "external");
	assert_json_integer(datum, "exported_bytes", 123456789);
	assert_json_integer(datum, "exported_packets", 98765);
	assert_json_string(datum, "sampling_source", "none");
	assert_json_string(datum, "src_service", "https");
	assert_json_string(datum, "dst_service", "x11-ssh-offset");
	assert_json_integer(datum, "firewall_event", 255);
	assert_json_integer(datum, "firewall_event_extended", 65535);
	assert_json_integer(datum, "nat_event", 3);
	assert_json_integer(datum, "connection_id", -1);  /* UINT64_MAX as a signed long */
	assert_json_string(datum, "post_nat_src_addr", "cb007109");
	assert_json_string(datum, "post_nat_dst_addr", "20010db800000000000000000000abcd");
	assert_json_integer(datum, "post_nat_src_port", 0);
	assert_json_integer(datum, "post_nat_dst_port", 65535);
	assert_json_integer(datum, "event_time_ns", 1444384068169000000LL);
	elements = json_object_get(datum, "enterprise_elements");
	assert_int_equal(json_array_size(elements), 3);
	assert_json_integer(json_array_get(elements, 0), "enterprise", 0);
	assert_json_integer(json_array_get(elements, 0), "element_id", 33000);
	assert_json_string(json_array_get(elements, 0), "value", "123456780000000100000002");
	assert_json_integer(json_array_get(elements, 1), "enterprise", 4294967295LL);
	assert_json_integer(json_array_get(elements, 1), "element_id", 32767);
	assert_json_string(json_array_get(elements, 1), "value", "");
	assert_json_integer(json_array_get(elements, 2), "enterprise", 9);
	assert_json_integer(json_array_get(elements, 2), "element_id", 12235);
	assert_json_string(json_array_get(elements, 2), "value", "75736572");
	assert_int_equal(json_object_size(datum), 63);
	json_decref(doc);
}

/* ---- direct writer against avro-c's generic writer ---- */

/* xorshift64*: a fixed seed, so a failure repeats. */
static uint64_t
next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ull;
}

/* Returns a random 64-bit value, one of the extremes a third of the time. */
static uint64_t
random_value(uint64_t *rng)
{
	static const uint64_t extremes[] = {
		0, 1, 63, 64, 127, 128, 0x7fffffffull, 0x80000000ull, 0xffffffffull,
		(uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX,
	};
	uint64_t r = next_random(rng);

	if (r % 3 == 0)
		return extremes[(r >> 8) % (sizeof(extremes) / sizeof(extremes[0]))];
	/* Spread the magnitudes, so every varint length occurs. */
	return next_random(rng) >> (r % 64);
}

/*
 * Fills text (size bytes) with valid UTF-8 of random length; a quarter of
 * the strings take the maximum size - 1 bytes.
 */
static void
random_text(uint64_t *rng, char *text, size_t size)
{
	static const char *const pieces[] = { "a", "Z", "0", " ", "\"", "\\", "/",
					      "\xc3\xa9", "\xe6\x9d\xb1", "\xf0\x9f\x98\x80" };
	uint64_t r = next_random(rng);
	size_t len = r % 4 == 0 ? size - 1 : (size_t)((r >> 8) % size);
	size_t n = 0;

	while (n < len) {
		const char *piece = pieces[next_random(rng) % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t piece_len = strlen(piece);

		if (piece_len > len - n)
			piece = "x", piece_len = 1;
		memcpy(text + n, piece, piece_len);
		n += piece_len;
	}
	text[n] = '\0';
}

static void
random_addr(uint64_t *rng, struct fs_addr *addr)
{
	uint8_t bytes[16];

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)next_random(rng);
	switch (next_random(rng) % 3) {
	case 0: memset(addr, 0, sizeof(*addr)); break;
	case 1: fs_addr_set_v4(addr, bytes); break;
	default: fs_addr_set_v6(addr, bytes); break;
	}
}

/* Adds 1 to FS_FLOW_MAX_ENTERPRISE_ELEMENTS elements of random lengths, as many as fit. */
static void
add_random_elements(uint64_t *rng, struct fs_flow *f)
{
	uint8_t value[64];
	unsigned count = 1 + (unsigned)(next_random(rng) % FS_FLOW_MAX_ENTERPRISE_ELEMENTS);

	for (size_t i = 0; i < sizeof(value); i++)
		value[i] = (uint8_t)next_random(rng);
	for (unsigned i = 0; i < count; i++) {
		size_t len = (size_t)(next_random(rng) % (sizeof(value) + 1));

		(void)fs_flow_add_enterprise(f, (uint32_t)random_value(rng),
					     (uint16_t)random_value(rng), value, len,
					     FS_FLOW_MAX_ENTERPRISE_ELEMENTS);
	}
}

/*
 * A flow with random values in every member and a random presence mask:
 * all fields null, all present, or each present with probability 1/2.
 */
static void
make_random_flow(uint64_t *rng, struct fs_flow *f)
{
	uint64_t all = (uint64_t)FS_F_ENTERPRISE_ELEMENTS * 2 - 1;
	uint64_t shape = next_random(rng) % 8;

	fs_flow_clear(f);
	if (shape == 0)
		f->present = 0;
	else if (shape == 1)
		f->present = all;
	else
		f->present = next_random(rng) & all;
	f->flow_type = (uint8_t)(next_random(rng) % FS_FLOW_TYPE_COUNT);
	random_addr(rng, &f->exporter_addr);
	f->exporter_port = (uint16_t)random_value(rng);
	f->observation_domain_id = (uint32_t)random_value(rng);
	f->sequence = (uint32_t)random_value(rng);
	f->time_received_ns = (int64_t)random_value(rng);
	f->time_flow_start_ns = (int64_t)random_value(rng);
	f->time_flow_end_ns = (int64_t)random_value(rng);
	f->sampling_rate = (uint32_t)random_value(rng);
	random_addr(rng, &f->src_addr);
	random_addr(rng, &f->dst_addr);
	random_addr(rng, &f->next_hop);
	f->src_port = (uint16_t)random_value(rng);
	f->dst_port = (uint16_t)random_value(rng);
	f->proto = (uint8_t)random_value(rng);
	f->tcp_flags = (uint8_t)random_value(rng);
	f->tos = (uint8_t)random_value(rng);
	f->src_mask = (uint8_t)random_value(rng);
	f->dst_mask = (uint8_t)random_value(rng);
	f->icmp_type = (uint8_t)random_value(rng);
	f->icmp_code = (uint8_t)random_value(rng);
	f->flow_direction = (uint8_t)(next_random(rng) % 2);
	f->vlan_id = (uint16_t)random_value(rng);
	f->bytes = random_value(rng);
	f->packets = random_value(rng);
	f->in_if = (uint32_t)random_value(rng);
	f->out_if = (uint32_t)random_value(rng);
	f->src_as = (uint32_t)random_value(rng);
	f->dst_as = (uint32_t)random_value(rng);
	for (size_t i = 0; i < 6; i++) {
		f->src_mac[i] = (uint8_t)next_random(rng);
		f->dst_mac[i] = (uint8_t)next_random(rng);
	}
	random_text(rng, f->src_country, sizeof(f->src_country));
	random_text(rng, f->dst_country, sizeof(f->dst_country));
	random_text(rng, f->src_city, sizeof(f->src_city));
	random_text(rng, f->dst_city, sizeof(f->dst_city));
	random_text(rng, f->src_as_org, sizeof(f->src_as_org));
	random_text(rng, f->dst_as_org, sizeof(f->dst_as_org));
	random_text(rng, f->exporter_name, sizeof(f->exporter_name));
	random_text(rng, f->exporter_site, sizeof(f->exporter_site));
	random_text(rng, f->in_if_name, sizeof(f->in_if_name));
	random_text(rng, f->in_if_description, sizeof(f->in_if_description));
	f->in_if_speed = random_value(rng);
	random_text(rng, f->out_if_name, sizeof(f->out_if_name));
	random_text(rng, f->out_if_description, sizeof(f->out_if_description));
	f->out_if_speed = random_value(rng);
	random_text(rng, f->src_tags, sizeof(f->src_tags));
	random_text(rng, f->dst_tags, sizeof(f->dst_tags));
	f->traffic_direction = (uint8_t)(next_random(rng) % FS_TRAFFIC_DIRECTION_COUNT);
	f->exported_bytes = random_value(rng);
	f->exported_packets = random_value(rng);
	f->sampling_source = (uint8_t)(next_random(rng) % FS_SAMPLING_SOURCE_COUNT);
	random_text(rng, f->src_service, sizeof(f->src_service));
	random_text(rng, f->dst_service, sizeof(f->dst_service));
	f->firewall_event = (uint8_t)random_value(rng);
	f->firewall_event_extended = (uint16_t)random_value(rng);
	f->nat_event = (uint8_t)random_value(rng);
	f->connection_id = random_value(rng);
	random_addr(rng, &f->post_nat_src_addr);
	random_addr(rng, &f->post_nat_dst_addr);
	f->post_nat_src_port = (uint16_t)random_value(rng);
	f->post_nat_dst_port = (uint16_t)random_value(rng);
	f->event_time_ns = (int64_t)random_value(rng);
	if (fs_flow_has(f, FS_F_ENTERPRISE_ELEMENTS))
		add_random_elements(rng, f);
}

/*
 * Encodes flow with the direct writer and with avro-c's generic writer,
 * checks that the bytes are identical, and decodes them back.
 */
static void
check_writers_agree(struct fs_flow_codec *codec, const struct fs_flow *flow, size_t index)
{
	uint8_t direct[FS_FLOW_CODEC_MAX_LEN];
	uint8_t generic[FS_FLOW_CODEC_MAX_LEN];
	size_t direct_len = 0, generic_len = 0;
	struct fs_flow out;

	assert_int_equal(fs_flow_codec_encode_generic(codec, flow, generic, sizeof(generic),
						      &generic_len), 0);
	assert_int_equal(fs_flow_codec_encode(codec, flow, direct, sizeof(direct), &direct_len), 0);
	if (direct_len != generic_len || memcmp(direct, generic, direct_len) != 0)
		print_message("flow %zu: present=%#llx, direct %zu bytes, avro-c %zu bytes\n", index,
			      (unsigned long long)flow->present, direct_len, generic_len);
	assert_int_equal(direct_len, generic_len);
	assert_memory_equal(direct, generic, direct_len);

	assert_int_equal(fs_flow_codec_decode(codec, direct, direct_len, &out), 0);
	assert_flows_equal(flow, &out);
}

static void
test_writer_matches_avro_c_random(void **state)
{
	struct fs_flow_codec *codec = *state;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	struct fs_flow flow;

	for (size_t i = 0; i < 20000; i++) {
		make_random_flow(&rng, &flow);
		check_writers_agree(codec, &flow, i);
	}
}

static void
test_writer_matches_avro_c_fixed(void **state)
{
	struct fs_flow_codec *codec = *state;
	struct fs_flow flow;

	make_full_flow(&flow);
	check_writers_agree(codec, &flow, 0);
	make_minimal_flow(&flow);
	check_writers_agree(codec, &flow, 1);

	/* Every text field at its maximum length, every other field at its maximum. */
	make_full_flow(&flow);
	memset(flow.src_city, 'c', sizeof(flow.src_city) - 1);
	memset(flow.dst_as_org, 'o', sizeof(flow.dst_as_org) - 1);
	memset(flow.src_tags, 't', sizeof(flow.src_tags) - 1);
	memset(flow.dst_tags, 't', sizeof(flow.dst_tags) - 1);
	memset(flow.in_if_description, 'd', sizeof(flow.in_if_description) - 1);
	memset(flow.out_if_description, 'd', sizeof(flow.out_if_description) - 1);
	flow.time_received_ns = INT64_MIN;
	flow.time_flow_start_ns = INT64_MIN;
	flow.sequence = UINT32_MAX;
	flow.exporter_port = UINT16_MAX;
	flow.sampling_rate = UINT32_MAX;
	check_writers_agree(codec, &flow, 2);

	/*
	 * One optional field at a time, so that runs of more than 16 null
	 * branches come before a value, and a value is the last field.
	 */
	for (int bit = 0; bit <= 58; bit++) {
		make_full_flow(&flow);
		flow.present = (uint64_t)1 << bit;
		check_writers_agree(codec, &flow, 3 + (size_t)bit);
	}
}

/* Both writers fail with FS_ERR_FULL at every cap below the encoded length. */
static void
test_writer_full_at_every_cap(void **state)
{
	struct fs_flow_codec *codec = *state;
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	uint64_t rng = 42;
	struct fs_flow flow;
	size_t needed = 0;
	size_t len = 0;

	for (int round = 0; round < 4; round++) {
		if (round == 0)
			make_full_flow(&flow);
		else
			make_random_flow(&rng, &flow);
		assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, sizeof(buf), &needed), 0);
		for (size_t cap = 0; cap < needed; cap++) {
			assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, cap, &len),
					 FS_ERR_FULL);
			assert_int_equal(fs_flow_codec_encode_generic(codec, &flow, buf, cap, &len),
					 FS_ERR_FULL);
		}
		assert_int_equal(fs_flow_codec_encode(codec, &flow, buf, needed, &len), 0);
		assert_int_equal(len, needed);
	}
}

/* ---- rate ---- */

int
main(void)
{
	const struct CMUnitTest fingerprint_tests[] = {
		cmocka_unit_test(test_crc64_empty_input),
		cmocka_unit_test(test_canonical_form_cases),
		cmocka_unit_test(test_canonical_form_rejects_invalid),
	};
	const struct CMUnitTest codec_tests[] = {
		cmocka_unit_test(test_codec_uses_embedded_schema),
		cmocka_unit_test(test_roundtrip_full_flow),
		cmocka_unit_test(test_roundtrip_minimal_flow),
		cmocka_unit_test(test_roundtrip_each_field_alone),
		cmocka_unit_test(test_largest_flow_fits_max_len),
		cmocka_unit_test(test_encode_framing_bytes),
		cmocka_unit_test(test_encode_buffer_too_small),
		cmocka_unit_test(test_encode_rejects_bad_enum),
		cmocka_unit_test(test_decode_hand_written_body),
		cmocka_unit_test(test_decode_bad_header),
		cmocka_unit_test(test_decode_unknown_fingerprint),
		cmocka_unit_test(test_decode_truncated_body),
		cmocka_unit_test(test_decode_malformed_bodies),
		cmocka_unit_test(test_decode_checks_strings),
		cmocka_unit_test(test_decode_schema_v1_message),
		cmocka_unit_test(test_decode_older_schema_version),
		cmocka_unit_test(test_add_schema_rejects_unreadable),
		cmocka_unit_test(test_decode_next_walks_a_message),
		cmocka_unit_test(test_decode_next_skips_a_broken_flow),
		cmocka_unit_test(test_flow_batch_groups_one_exporter),
		cmocka_unit_test(test_decode_limits_array_items),
		cmocka_unit_test(test_python_avro_crosscheck),
		cmocka_unit_test(test_writer_matches_avro_c_random),
		cmocka_unit_test(test_writer_matches_avro_c_fixed),
		cmocka_unit_test(test_writer_full_at_every_cap),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("fingerprint", fingerprint_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("flow_codec", codec_tests, codec_setup,
					      codec_teardown);
	return failed == 0 ? 0 : 1;
}
