/* test_netflow_v9.c - NetFlow v9 decoding through fs_decoder_decode(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/result.h"
#include "decode/decoder.h"
#include "support/corpus.h"
#include "support/flow_collector.h"
#include "support/wire.h"

#define UPTIME_MS 600000u
#define UNIX_SECS 1700000000u
#define SOURCE_ID 77u

static void
put_header(struct fs_test_packet *p, uint32_t source_id)
{
	fs_test_append16(p, 9);
	fs_test_append16(p, 0); /* count: not trusted by the decoder */
	fs_test_append32(p, UPTIME_MS);
	fs_test_append32(p, UNIX_SECS);
	fs_test_append32(p, 31337);
	fs_test_append32(p, source_id);
}

/* Starts a flowset; returns the offset that end_set() patches. */
static size_t
begin_set(struct fs_test_packet *p, uint16_t id)
{
	size_t start = p->len;

	fs_test_append16(p, id);
	fs_test_append16(p, 0);
	return start;
}

/* Pads the flowset to 4 bytes and writes its length. */
static void
end_set(struct fs_test_packet *p, size_t start)
{
	while ((p->len - start) % 4)
		fs_test_append8(p, 0);
	fs_test_put16(p->bytes + start + 2, (uint16_t)(p->len - start));
}

/* Template 256: src/dst IPv4, ports, proto, bytes (reduced to 4), packets, first, last. */
static void
put_template_256(struct fs_test_packet *p)
{
	size_t set = begin_set(p, 0);

	fs_test_append16(p, 256);
	fs_test_append16(p, 9);
	fs_test_append16(p, 8);  fs_test_append16(p, 4);
	fs_test_append16(p, 12); fs_test_append16(p, 4);
	fs_test_append16(p, 7);  fs_test_append16(p, 2);
	fs_test_append16(p, 11); fs_test_append16(p, 2);
	fs_test_append16(p, 4);  fs_test_append16(p, 1);
	fs_test_append16(p, 1);  fs_test_append16(p, 4);
	fs_test_append16(p, 2);  fs_test_append16(p, 8);
	fs_test_append16(p, 22); fs_test_append16(p, 4);
	fs_test_append16(p, 21); fs_test_append16(p, 4);
	end_set(p, set);
}

static void
put_record_256(struct fs_test_packet *p, uint8_t n)
{
	fs_test_append32(p, 0x0a000000u | n);
	fs_test_append32(p, 0x0a010000u | n);
	fs_test_append16(p, 1000u + n);
	fs_test_append16(p, 53);
	fs_test_append8(p, 17);
	fs_test_append32(p, 500u + n);
	fs_test_append32(p, 0);
	fs_test_append32(p, 5u + n);
	fs_test_append32(p, UPTIME_MS - 4000);
	fs_test_append32(p, UPTIME_MS - 1000);
}

/* Appends a data flowset of template 256 that contains record n. */
static void
put_data_set_256(struct fs_test_packet *p, uint8_t n)
{
	size_t set = begin_set(p, 256);

	put_record_256(p, n);
	end_set(p, set);
}

/* Appends a template flowset that defines template id with one field of type and length. */
static void
put_one_field_template(struct fs_test_packet *p, uint16_t id, uint16_t type, uint16_t length)
{
	size_t set = begin_set(p, 0);

	fs_test_append16(p, id);
	fs_test_append16(p, 1);
	fs_test_append16(p, type);
	fs_test_append16(p, length);
	end_set(p, set);
}

static int
decode_from(struct fs_decoder *dec, const struct fs_test_packet *p, struct fs_test_flows *c,
	    const char *exporter_text)
{
	struct fs_addr exporter;

	fs_addr_parse(&exporter, exporter_text);
	return fs_decoder_decode(dec, p->bytes, p->len, &exporter, 9995,
				 1700000002000000000ll, fs_test_flows_collect, c);
}

static int
decode(struct fs_decoder *dec, const struct fs_test_packet *p, struct fs_test_flows *c)
{
	return decode_from(dec, p, c, "198.51.100.1");
}

static void
test_v9_template_then_data(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	const struct fs_flow *f = &c.flows[0];
	char text[FS_ADDR_STRLEN];
	size_t set;

	(void)state;
	put_header(&p, SOURCE_ID);
	put_template_256(&p);
	set = begin_set(&p, 256);
	put_record_256(&p, 1);
	put_record_256(&p, 2);
	end_set(&p, set);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 2);
	assert_int_equal(f->flow_type, FS_FLOW_NETFLOW_V9);
	assert_string_equal(fs_addr_format(&f->src_addr, text), "10.0.0.1");
	assert_string_equal(fs_addr_format(&f->dst_addr, text), "10.1.0.1");
	assert_int_equal(f->src_port, 1001);
	assert_int_equal(f->dst_port, 53);
	assert_int_equal(f->proto, 17);
	assert_int_equal(f->bytes, 501);
	assert_int_equal(f->packets, 6);
	assert_int_equal(f->observation_domain_id, SOURCE_ID);
	assert_int_equal(f->sequence, 31337);
	assert_int_equal(f->exporter_port, 9995);
	assert_true(f->time_flow_start_ns == (int64_t)UNIX_SECS * 1000000000 - 4000 * 1000000ll);
	assert_true(f->time_flow_end_ns == (int64_t)UNIX_SECS * 1000000000 - 1000 * 1000000ll);
	assert_false(fs_flow_has(f, FS_F_IN_IF));
	assert_false(fs_flow_has(f, FS_F_NEXT_HOP));
	assert_false(fs_flow_has(f, FS_F_TCP_FLAGS));
	assert_false(fs_flow_has(f, FS_F_SAMPLING_RATE));
	assert_int_equal(c.flows[1].bytes, 502);
	assert_int_equal(fs_decoder_stats(dec)->templates_added, 1);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 1);
	fs_decoder_free(dec);
}

/* Template 300: src IPv4, flowDirection, vlanId, source MAC, TCP flags. */
static void
put_template_300(struct fs_test_packet *p)
{
	size_t set = begin_set(p, 0);

	fs_test_append16(p, 300);
	fs_test_append16(p, 5);
	fs_test_append16(p, 8);  fs_test_append16(p, 4);
	fs_test_append16(p, 61); fs_test_append16(p, 1);
	fs_test_append16(p, 58); fs_test_append16(p, 2);
	fs_test_append16(p, 56); fs_test_append16(p, 6);
	fs_test_append16(p, 6);  fs_test_append16(p, 1);
	end_set(p, set);
}

static void
put_record_300(struct fs_test_packet *p, uint8_t n, uint8_t direction, uint16_t vlan, uint8_t flags)
{
	fs_test_append32(p, 0x0a000000u | n);
	fs_test_append8(p, direction);
	fs_test_append16(p, vlan);
	for (int i = 0; i < 5; i++)
		fs_test_append8(p, 0x02);
	fs_test_append8(p, n);
	fs_test_append8(p, flags);
}

/*
 * The second record of a set decodes as it does alone: nothing the first
 * one set (a direction, a VLAN, flags) is left in it.
 */
static void
test_v9_record_after_first_starts_clean(void **state)
{
	struct fs_decoder *both_dec = fs_decoder_new(NULL);
	struct fs_decoder *alone_dec = fs_decoder_new(NULL);
	struct fs_test_flows both = { .count = 0 };
	struct fs_test_flows alone = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	size_t set;

	(void)state;
	put_header(&p, SOURCE_ID);
	put_template_300(&p);
	set = begin_set(&p, 300);
	put_record_300(&p, 1, 1, 100, 0x12);
	put_record_300(&p, 2, 9, 0, 0);
	end_set(&p, set);
	assert_int_equal(decode(both_dec, &p, &both), 0);

	p.len = 0;
	put_header(&p, SOURCE_ID);
	put_template_300(&p);
	set = begin_set(&p, 300);
	put_record_300(&p, 2, 9, 0, 0);
	end_set(&p, set);
	assert_int_equal(decode(alone_dec, &p, &alone), 0);

	assert_int_equal(both.count, 2);
	assert_int_equal(alone.count, 1);
	assert_true(fs_flow_has(&both.flows[0], FS_F_FLOW_DIRECTION));
	assert_int_equal(both.flows[0].vlan_id, 100);
	assert_false(fs_flow_has(&both.flows[1], FS_F_FLOW_DIRECTION));
	assert_int_equal(both.flows[1].flow_direction, 0);
	assert_int_equal(both.flows[1].tcp_flags, 0);
	assert_memory_equal(&both.flows[1], &alone.flows[0], sizeof(struct fs_flow));
	fs_decoder_free(both_dec);
	fs_decoder_free(alone_dec);
}

static void
test_v9_data_before_template(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, SOURCE_ID);
	put_data_set_256(&p, 1);
	put_template_256(&p);
	put_data_set_256(&p, 2);

	/* The first set is held and decoded once the template arrives. */
	assert_int_equal(decode(dec, &p, &c), FS_ERR_NO_TEMPLATE);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.flows[0].bytes, 501);
	assert_int_equal(c.flows[1].bytes, 502);
	assert_int_equal(fs_decoder_stats(dec)->no_template, 1);
	assert_int_equal(fs_decoder_stats(dec)->no_template_held, 1);
	assert_int_equal(fs_decoder_stats(dec)->no_template_decoded, 1);
	assert_int_equal(fs_decoder_stats(dec)->no_template_records, 0);
	fs_decoder_free(dec);
}

/* A data set held longer than decode.held.age.max is dropped when its template comes. */
static void
test_v9_held_set_expires(void **state)
{
	struct fs_decoder_limits limits = { .max_pending_age_s = 60 };
	struct fs_decoder *dec = fs_decoder_new(&limits);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet data = { .len = 0 }, tpl = { .len = 0 };
	struct fs_addr exporter;
	const int64_t t0 = 1700000002000000000ll;

	(void)state;
	fs_addr_parse(&exporter, "198.51.100.1");
	put_header(&data, SOURCE_ID);
	put_data_set_256(&data, 1);
	put_header(&tpl, SOURCE_ID);
	put_template_256(&tpl);

	assert_int_equal(fs_decoder_decode(dec, data.bytes, data.len, &exporter, 9995, t0,
					   fs_test_flows_collect, &c), FS_ERR_NO_TEMPLATE);
	assert_int_equal(fs_decoder_decode(dec, data.bytes, data.len, &exporter, 9995,
					   t0 + 30000000000ll, fs_test_flows_collect, &c),
			 FS_ERR_NO_TEMPLATE);
	/* 61 s after the first set and 31 s after the second: only the first is too old. */
	assert_int_equal(fs_decoder_decode(dec, tpl.bytes, tpl.len, &exporter, 9995,
					   t0 + 61000000000ll, fs_test_flows_collect, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.flows[0].time_received_ns, t0 + 30000000000ll);
	assert_int_equal(fs_decoder_stats(dec)->no_template_held, 2);
	assert_int_equal(fs_decoder_stats(dec)->no_template_decoded, 1);
	assert_int_equal(fs_decoder_stats(dec)->no_template_dropped, 1);
	assert_int_equal(fs_decoder_stats(dec)->no_template_records, 1);
	fs_decoder_free(dec);
}

static void
test_v9_templates_keyed_by_exporter(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet tpl = { .len = 0 }, data = { .len = 0 };
	size_t set;

	(void)state;
	put_header(&tpl, SOURCE_ID);
	put_template_256(&tpl);
	assert_int_equal(decode(dec, &tpl, &c), 0);

	put_header(&data, SOURCE_ID);
	set = begin_set(&data, 256);
	put_record_256(&data, 1);
	end_set(&data, set);
	/* Same source id from another exporter: no template. */
	assert_int_equal(decode_from(dec, &data, &c, "198.51.100.2"), FS_ERR_NO_TEMPLATE);
	assert_int_equal(c.count, 0);
	/* Another source id from the same exporter: no template either. */
	data.bytes[19] = SOURCE_ID + 1;
	assert_int_equal(decode(dec, &data, &c), FS_ERR_NO_TEMPLATE);
	data.bytes[19] = SOURCE_ID;
	assert_int_equal(decode(dec, &data, &c), 0);
	assert_int_equal(c.count, 1);
	fs_decoder_free(dec);
}

static void
test_v9_options_sampling(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	size_t set;

	(void)state;
	put_header(&p, SOURCE_ID);
	put_template_256(&p);
	/* Options template 300: scope System (4 bytes), option samplingInterval (4). */
	set = begin_set(&p, 1);
	fs_test_append16(&p, 300);
	fs_test_append16(&p, 4);
	fs_test_append16(&p, 4);
	fs_test_append16(&p, 1); fs_test_append16(&p, 4);
	fs_test_append16(&p, 34); fs_test_append16(&p, 4);
	end_set(&p, set);
	set = begin_set(&p, 300);
	fs_test_append32(&p, 0);
	fs_test_append32(&p, 512);
	end_set(&p, set);
	put_data_set_256(&p, 1);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(fs_decoder_stats(dec)->options_records, 1);
	assert_true(fs_flow_has(&c.flows[0], FS_F_SAMPLING_RATE));
	assert_int_equal(c.flows[0].sampling_rate, 512);
	/* The scope field (type 1 = System) must not be read as octetDeltaCount. */
	assert_int_equal(c.flows[0].bytes, 501);
	fs_decoder_free(dec);
}

static void
test_v9_zero_length_flowset(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, SOURCE_ID);
	put_template_256(&p);
	put_data_set_256(&p, 1);
	for (int i = 0; i < 64; i++)
		fs_test_append8(&p, 0);

	/* A zero-filled tail is padding. */
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 0);

	/* A zero flowset length followed by other bytes is invalid. */
	fs_test_append8(&p, 1);
	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(c.count, 2);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
	fs_decoder_free(dec);
}

static void
test_v9_flowset_past_end(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, SOURCE_ID);
	put_template_256(&p);
	put_data_set_256(&p, 1);
	put_data_set_256(&p, 2);
	p.len -= 3;

	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.count, 1);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	fs_decoder_free(dec);
}

static void
test_v9_zero_length_field(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	char text[FS_ADDR_STRLEN];
	size_t set;

	(void)state;
	put_header(&p, SOURCE_ID);
	set = begin_set(&p, 0);
	fs_test_append16(&p, 260);
	fs_test_append16(&p, 3);
	fs_test_append16(&p, 8); fs_test_append16(&p, 4);
	fs_test_append16(&p, 12); fs_test_append16(&p, 0); /* length 0: nothing to read */
	fs_test_append16(&p, 1); fs_test_append16(&p, 2);
	end_set(&p, set);
	set = begin_set(&p, 260);
	fs_test_append32(&p, 0x01020304);
	fs_test_append16(&p, 77);
	end_set(&p, set);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_string_equal(fs_addr_format(&c.flows[0].src_addr, text), "1.2.3.4");
	assert_false(fs_flow_has(&c.flows[0], FS_F_DST_ADDR));
	assert_int_equal(c.flows[0].bytes, 77);
	fs_decoder_free(dec);
}

static void
test_v9_all_zero_length_template(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	size_t set;

	(void)state;
	put_header(&p, SOURCE_ID);
	set = begin_set(&p, 0);
	fs_test_append16(&p, 261);
	fs_test_append16(&p, 2);
	fs_test_append16(&p, 8); fs_test_append16(&p, 0);
	fs_test_append16(&p, 12); fs_test_append16(&p, 0);
	end_set(&p, set);
	set = begin_set(&p, 261);
	fs_test_append32(&p, 0);
	end_set(&p, set);

	/* A template of 0-byte records would never advance: it is rejected. */
	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->templates_rejected, 1);
	assert_int_equal(fs_decoder_stats(dec)->no_template, 1);
	assert_int_equal(c.count, 0);
	fs_decoder_free(dec);
}

static void
test_v9_bad_address_length(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, SOURCE_ID);
	put_one_field_template(&p, 262, 8, 6); /* IPv4 source address in 6 bytes */

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->templates_rejected, 1);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 0);
	fs_decoder_free(dec);
}

static void
test_v9_reserved_template_id(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, SOURCE_ID);
	put_one_field_template(&p, 255, 8, 4);
	put_template_256(&p);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->templates_rejected, 1);
	/* The good template after the rejected one is still learned. */
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 1);
	fs_decoder_free(dec);
}

static void
test_v9_template_replaced(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	size_t set;

	(void)state;
	put_header(&p, SOURCE_ID);
	put_template_256(&p);
	put_template_256(&p); /* identical refresh */
	put_one_field_template(&p, 256, 2, 4);
	set = begin_set(&p, 256);
	fs_test_append32(&p, 9);
	end_set(&p, set);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(fs_decoder_stats(dec)->templates_added, 2);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 1);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.flows[0].packets, 9);
	assert_false(fs_flow_has(&c.flows[0], FS_F_SRC_ADDR));
	fs_decoder_free(dec);
}

static void
test_v9_corpus_softflowd(void **state)
{
	static uint8_t buf[65536];
	struct fs_decoder *dec;
	struct fs_test_flows c = { .count = 0 };
	size_t len = fs_test_corpus_read(
		"netflow-v9/logstash-codec-netflow/netflow9_test_valid01.dat", buf, sizeof(buf));
	char text[FS_ADDR_STRLEN];
	const struct fs_flow *found = NULL;

	(void)state;
	if (len == 0)
		skip();
	dec = fs_decoder_new(NULL);
	assert_int_equal(fs_decoder_decode(dec, buf, len, NULL, 0, 0, fs_test_flows_collect,
					   &c), 0);
	assert_int_equal(c.count, 7);
	for (size_t i = 0; i < c.count && i < FS_TEST_FLOWS_MAX; i++) {
		if (strcmp(fs_addr_format(&c.flows[i].src_addr, text), "172.16.32.100") == 0 &&
		    c.flows[i].src_port == 123) {
			found = &c.flows[i];
			break;
		}
	}
	assert_non_null(found);
	assert_string_equal(fs_addr_format(&found->dst_addr, text), "172.16.32.248");
	assert_int_equal(found->proto, 17);
	assert_int_equal(found->bytes, 76);
	assert_int_equal(found->packets, 1);
	/* unix_secs 1444331070, uptime 45076 ms, first switched 1216 ms. */
	assert_true(found->time_flow_start_ns == 1444331026140000000ll);
	assert_true(found->time_flow_end_ns == 1444331026141000000ll);
	fs_decoder_free(dec);
}

/* Decodes the Cisco ASA NSEL capture of the corpus with limits into c. */
static struct fs_decoder *
decode_asa_capture(const struct fs_decoder_limits *limits, struct fs_test_flows *c)
{
	static uint8_t tpl[4096], data[4096];
	size_t tpl_len = fs_test_corpus_read(
		"netflow-v9/logstash-codec-netflow/netflow9_test_cisco_asa_1_tpl.dat", tpl, sizeof(tpl));
	size_t data_len = fs_test_corpus_read(
		"netflow-v9/logstash-codec-netflow/netflow9_test_cisco_asa_1_data.dat", data, sizeof(data));
	struct fs_decoder *dec;

	if (tpl_len == 0 || data_len == 0)
		return NULL;
	dec = fs_decoder_new(limits);
	assert_non_null(dec);
	assert_int_equal(fs_decoder_decode(dec, tpl, tpl_len, NULL, 0, 0, fs_test_flows_collect,
					   c), 0);
	assert_int_equal(fs_decoder_decode(dec, data, data_len, NULL, 0, 0, fs_test_flows_collect,
					   c), 0);
	return dec;
}

/*
 * Template 265 of the capture: NSEL 40001-40005 (ASA 8.4 ids), 33002, 323,
 * 148 and octetTotalCount, plus the vendor types 33000, 33001 (ACL ids) and
 * 40000 (user name), which have no flow field and stay raw.
 */
static void
test_v9_corpus_asa_nsel(void **state)
{
	static const uint8_t ingress_acl[12] = { 0x0f, 0x8e, 0x7f, 0xf3, 0xfc, 0x1a, 0x03, 0x0f };
	struct fs_test_flows c = { .count = 0 };
	struct fs_decoder *dec = decode_asa_capture(NULL, &c);
	const struct fs_flow *f = &c.flows[0];
	char text[FS_ADDR_STRLEN];

	(void)state;
	if (dec == NULL)
		skip();
	assert_int_equal(c.count, 14);
	assert_string_equal(fs_addr_format(&f->src_addr, text), "192.168.14.1");
	assert_int_equal(f->bytes, 56);
	assert_true(fs_flow_has(f, FS_F_FIREWALL_EVENT));
	assert_int_equal(f->firewall_event, 2);            /* flow deleted */
	assert_int_equal(f->firewall_event_extended, 2025);
	assert_int_equal(f->connection_id, 8500);
	assert_string_equal(fs_addr_format(&f->post_nat_src_addr, text), "192.168.14.1");
	assert_string_equal(fs_addr_format(&f->post_nat_dst_addr, text), "2.2.2.11");
	assert_true(fs_flow_has(f, FS_F_POST_NAT_SRC_PORT));
	assert_int_equal(f->post_nat_src_port, 0);
	assert_int_equal(f->post_nat_dst_port, 17549);
	assert_true(fs_flow_has(f, FS_F_EVENT_TIME));
	assert_true(f->event_time_ns == 1444384069599000000ll);
	assert_false(fs_flow_has(f, FS_F_NAT_EVENT));

	assert_true(fs_flow_has(f, FS_F_ENTERPRISE_ELEMENTS));
	assert_int_equal(f->enterprise_count, 3);
	assert_int_equal(f->enterprise[0].enterprise, 0);
	assert_int_equal(f->enterprise[0].element_id, 33000);
	assert_int_equal(f->enterprise[0].length, 12);
	assert_memory_equal(f->enterprise_bytes + f->enterprise[0].offset, ingress_acl, 12);
	assert_int_equal(f->enterprise[1].element_id, 33001);
	assert_int_equal(f->enterprise[2].element_id, 40000);
	assert_int_equal(f->enterprise[2].length, 20);
	assert_int_equal(f->enterprise_bytes_used, 44);
	assert_int_equal(fs_decoder_stats(dec)->enterprise_elements_dropped, 0);
	fs_decoder_free(dec);
}

static void
test_v9_enterprise_limit_counts_dropped(void **state)
{
	struct fs_decoder_limits limits = { .max_enterprise_elements = 1 };
	struct fs_test_flows c = { .count = 0 };
	struct fs_decoder *dec = decode_asa_capture(&limits, &c);

	(void)state;
	if (dec == NULL)
		skip();
	assert_int_equal(c.count, 14);
	assert_int_equal(c.flows[13].enterprise_count, 1);
	assert_int_equal(c.flows[13].enterprise[0].element_id, 33000);
	assert_int_equal(c.flows[13].enterprise_bytes_used, 12);
	assert_int_equal(fs_decoder_stats(dec)->enterprise_elements_dropped, 14 * 2);
	fs_decoder_free(dec);

	limits.max_enterprise_elements = FS_DECODER_NO_ENTERPRISE_ELEMENTS;
	c.count = 0;
	dec = decode_asa_capture(&limits, &c);
	assert_int_equal(c.count, 14);
	assert_int_equal(c.flows[0].enterprise_count, 0);
	assert_false(fs_flow_has(&c.flows[0], FS_F_ENTERPRISE_ELEMENTS));
	assert_int_equal(fs_decoder_stats(dec)->enterprise_elements_dropped, 14 * 3);
	fs_decoder_free(dec);
}

/*
 * Regression: a set ending with 19 bytes of a 33-byte record was taken for
 * padding, so the lost record left no trace.  v9 padding is at most 3 bytes.
 */
static void
test_v9_short_remainder_counted_truncated(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	size_t set;

	(void)state;
	put_header(&p, SOURCE_ID);
	put_template_256(&p);
	set = begin_set(&p, 256);
	put_record_256(&p, 1);
	for (int i = 0; i < 19; i++)
		fs_test_append8(&p, 0xaa);
	end_set(&p, set);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.count, 1);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	fs_decoder_free(dec);
}

/* Up to 3 bytes after the last record are alignment padding, whatever their value. */
static void
test_v9_three_padding_bytes_not_counted(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	size_t set;

	(void)state;
	put_header(&p, SOURCE_ID);
	put_template_256(&p);
	set = begin_set(&p, 256);
	put_record_256(&p, 1);
	fs_test_append8(&p, 1);
	fs_test_append8(&p, 2);
	fs_test_append8(&p, 3);
	end_set(&p, set);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 0);
	fs_decoder_free(dec);
}

/* Puts a template flowset of count templates (ids from first) of 2 fields each. */
static void
put_templates(struct fs_test_packet *p, uint16_t first, int count)
{
	size_t set = begin_set(p, 0);

	for (int i = 0; i < count; i++) {
		fs_test_append16(p, (uint32_t)(first + i));
		fs_test_append16(p, 2);
		fs_test_append16(p, 8); fs_test_append16(p, 4);
		fs_test_append16(p, 1); fs_test_append16(p, 4);
	}
	end_set(p, set);
}

/*
 * Regression: a flood of templates from one exporter grew the cache to its
 * global limit and evicted another exporter's template without a trace.
 * Now the flood evicts only its own oldest templates, and says so.
 */
static void
test_v9_template_flood_keeps_other_exporter(void **state)
{
	struct fs_decoder_limits limits = { .max_templates_per_exporter = 8 };
	struct fs_decoder *dec = fs_decoder_new(&limits);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet tpl = { .len = 0 }, data = { .len = 0 };
	size_t set;

	(void)state;
	put_header(&tpl, SOURCE_ID);
	put_template_256(&tpl);
	assert_int_equal(decode(dec, &tpl, &c), 0);
	for (int round = 0; round < 10; round++) {
		struct fs_test_packet flood = { .len = 0 };

		put_header(&flood, SOURCE_ID);
		put_templates(&flood, (uint16_t)(300 + round * 10), 10);
		assert_int_equal(decode_from(dec, &flood, &c, "203.0.113.9"), 0);
	}
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 1 + 8);
	assert_int_equal(fs_decoder_stats(dec)->templates_evicted, 100 - 8);
	assert_true(fs_decoder_stats(dec)->template_bytes > 0);

	put_header(&data, SOURCE_ID);
	set = begin_set(&data, 256);
	put_record_256(&data, 1);
	end_set(&data, set);
	assert_int_equal(decode(dec, &data, &c), 0);
	assert_int_equal(c.count, 1);
	fs_decoder_free(dec);
}

/*
 * Regression: options sampling rates lived in 1024 hash slots, so with 1500
 * exporters colliding ones lost or swapped their rates (the tester's
 * sampling.py).  Every exporter must get its own rate.
 */
static void
test_v9_sampling_rates_of_many_exporters(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	enum { EXPORTERS = 1500 };
	int wrong = 0;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < EXPORTERS; i++) {
			struct fs_test_flows c = { .count = 0 };
			struct fs_test_packet p = { .len = 0 };
			char exporter[32];
			size_t set;

			snprintf(exporter, sizeof(exporter), "10.0.%d.%d", i / 250, i % 250 + 1);
			put_header(&p, SOURCE_ID);
			if (pass == 0) {
				put_template_256(&p);
				set = begin_set(&p, 1);
				fs_test_append16(&p, 300);
				fs_test_append16(&p, 4);
				fs_test_append16(&p, 4);
				fs_test_append16(&p, 1); fs_test_append16(&p, 4);
				fs_test_append16(&p, 34); fs_test_append16(&p, 4);
				end_set(&p, set);
				set = begin_set(&p, 300);
				fs_test_append32(&p, 0);
				fs_test_append32(&p, 100u + (uint32_t)i);
				end_set(&p, set);
			} else {
				put_data_set_256(&p, 1);
			}
			assert_int_equal(decode_from(dec, &p, &c, exporter), 0);
			if (pass == 1 && (c.count != 1 ||
					  c.flows[0].sampling_rate != 100u + (uint32_t)i))
				wrong++;
		}
	}
	assert_int_equal(wrong, 0);
	assert_int_equal(fs_decoder_stats(dec)->options_evicted, 0);
	fs_decoder_free(dec);
}

/* At max_options_entries, the rate set longest ago is evicted and counted, never reused for another exporter. */
static void
test_v9_sampling_entries_limit(void **state)
{
	struct fs_decoder_limits limits = { .max_options_entries = 4 };
	struct fs_decoder *dec = fs_decoder_new(&limits);
	struct fs_test_flows c = { .count = 0 };

	(void)state;
	for (int i = 0; i < 6; i++) {
		struct fs_test_packet p = { .len = 0 };
		char exporter[32];
		size_t set;

		snprintf(exporter, sizeof(exporter), "10.9.0.%d", i + 1);
		put_header(&p, SOURCE_ID);
		put_template_256(&p);
		set = begin_set(&p, 1);
		fs_test_append16(&p, 300);
		fs_test_append16(&p, 4);
		fs_test_append16(&p, 4);
		fs_test_append16(&p, 1); fs_test_append16(&p, 4);
		fs_test_append16(&p, 34); fs_test_append16(&p, 4);
		end_set(&p, set);
		set = begin_set(&p, 300);
		fs_test_append32(&p, 0);
		fs_test_append32(&p, 1000u + (uint32_t)i);
		end_set(&p, set);
		put_data_set_256(&p, 1);
		assert_int_equal(decode_from(dec, &p, &c, exporter), 0);
	}
	assert_int_equal(fs_decoder_stats(dec)->options_evicted, 2);
	/* The first exporter's rate is gone: its next record has none. */
	{
		struct fs_test_packet p = { .len = 0 };

		c.count = 0;
		put_header(&p, SOURCE_ID);
		put_data_set_256(&p, 1);
		assert_int_equal(decode_from(dec, &p, &c, "10.9.0.1"), 0);
		assert_int_equal(c.count, 1);
		assert_false(fs_flow_has(&c.flows[0], FS_F_SAMPLING_RATE));
		c.count = 0;
		assert_int_equal(decode_from(dec, &p, &c, "10.9.0.6"), 0);
		assert_int_equal(c.flows[0].sampling_rate, 1005);
	}
	fs_decoder_free(dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v9_template_then_data),
		cmocka_unit_test(test_v9_data_before_template),
		cmocka_unit_test(test_v9_held_set_expires),
		cmocka_unit_test(test_v9_record_after_first_starts_clean),
		cmocka_unit_test(test_v9_templates_keyed_by_exporter),
		cmocka_unit_test(test_v9_options_sampling),
		cmocka_unit_test(test_v9_zero_length_flowset),
		cmocka_unit_test(test_v9_flowset_past_end),
		cmocka_unit_test(test_v9_zero_length_field),
		cmocka_unit_test(test_v9_all_zero_length_template),
		cmocka_unit_test(test_v9_bad_address_length),
		cmocka_unit_test(test_v9_reserved_template_id),
		cmocka_unit_test(test_v9_template_replaced),
		cmocka_unit_test(test_v9_corpus_softflowd),
		cmocka_unit_test(test_v9_short_remainder_counted_truncated),
		cmocka_unit_test(test_v9_three_padding_bytes_not_counted),
		cmocka_unit_test(test_v9_template_flood_keeps_other_exporter),
		cmocka_unit_test(test_v9_sampling_rates_of_many_exporters),
		cmocka_unit_test(test_v9_sampling_entries_limit),
		cmocka_unit_test(test_v9_corpus_asa_nsel),
		cmocka_unit_test(test_v9_enterprise_limit_counts_dropped),
	};

	fs_log_set_level(FS_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
