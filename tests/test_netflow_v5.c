/* test_netflow_v5.c - NetFlow v5 decoding through fs_decoder_decode(). */
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

/* Header fields of the test datagrams. */
#define UPTIME_MS 100000u
#define UNIX_SECS 1700000000u
#define UNIX_NSECS 500000u
#define SEQUENCE 4242u

static void
put_header(struct fs_test_packet *p, uint16_t count, uint16_t sampling)
{
	fs_test_append16(p, 5);
	fs_test_append16(p, count);
	fs_test_append32(p, UPTIME_MS);
	fs_test_append32(p, UNIX_SECS);
	fs_test_append32(p, UNIX_NSECS);
	fs_test_append32(p, SEQUENCE);
	fs_test_append8(p, 1);  /* engine type */
	fs_test_append8(p, 2);  /* engine id */
	fs_test_append16(p, sampling);
}

/* Appends one record; n makes addresses and counters differ per record. */
static void
put_record(struct fs_test_packet *p, uint8_t n, uint32_t first_ms, uint32_t last_ms)
{
	fs_test_append32(p, 0x0a000000u | n);      /* 10.0.0.n */
	fs_test_append32(p, 0xc0a80000u | n);      /* 192.168.0.n */
	fs_test_append32(p, 0xac100001u);          /* next hop 172.16.0.1 */
	fs_test_append16(p, 3);                    /* input */
	fs_test_append16(p, 4);                    /* output */
	fs_test_append32(p, 10u + n);              /* packets */
	fs_test_append32(p, 1000u + n);            /* bytes */
	fs_test_append32(p, first_ms);
	fs_test_append32(p, last_ms);
	fs_test_append16(p, 40000u + n);           /* src port */
	fs_test_append16(p, 443);                  /* dst port */
	fs_test_append8(p, 0);                     /* pad1 */
	fs_test_append8(p, 0x1b);                  /* tcp flags */
	fs_test_append8(p, 6);                     /* proto */
	fs_test_append8(p, 0x20);                  /* tos */
	fs_test_append16(p, 64500);                /* src as */
	fs_test_append16(p, 64501);                /* dst as */
	fs_test_append8(p, 24);                    /* src mask */
	fs_test_append8(p, 16);                    /* dst mask */
	fs_test_append16(p, 0);                    /* pad2 */
}

static int
decode(struct fs_decoder *dec, const struct fs_test_packet *p, struct fs_test_flows *c)
{
	struct fs_addr exporter;

	fs_addr_parse(&exporter, "192.0.2.7");
	return fs_decoder_decode(dec, p->bytes, p->len, &exporter, 2055,
				 1700000001000000000ll, fs_test_flows_collect, c);
}

static int64_t
export_ns(void)
{
	return (int64_t)UNIX_SECS * 1000000000 + UNIX_NSECS;
}

static void
test_v5_two_records(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	const struct fs_flow *f = &c.flows[0];
	char text[FS_ADDR_STRLEN];

	(void)state;
	put_header(&p, 2, 0);
	put_record(&p, 1, UPTIME_MS - 5000, UPTIME_MS - 1000);
	put_record(&p, 2, UPTIME_MS - 3000, UPTIME_MS);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 2);
	assert_int_equal(f->flow_type, FS_FLOW_NETFLOW_V5);
	assert_string_equal(fs_addr_format(&f->exporter_addr, text), "192.0.2.7");
	assert_int_equal(f->exporter_port, 2055);
	assert_true(f->time_received_ns == 1700000001000000000ll);
	assert_string_equal(fs_addr_format(&f->src_addr, text), "10.0.0.1");
	assert_string_equal(fs_addr_format(&f->dst_addr, text), "192.168.0.1");
	assert_string_equal(fs_addr_format(&f->next_hop, text), "172.16.0.1");
	assert_int_equal(f->in_if, 3);
	assert_int_equal(f->out_if, 4);
	assert_int_equal(f->packets, 11);
	assert_int_equal(f->bytes, 1001);
	assert_int_equal(f->src_port, 40001);
	assert_int_equal(f->dst_port, 443);
	assert_int_equal(f->tcp_flags, 0x1b);
	assert_int_equal(f->proto, 6);
	assert_int_equal(f->tos, 0x20);
	assert_int_equal(f->src_as, 64500);
	assert_int_equal(f->dst_as, 64501);
	assert_int_equal(f->src_mask, 24);
	assert_int_equal(f->dst_mask, 16);
	assert_int_equal(f->sequence, SEQUENCE);
	assert_int_equal(f->observation_domain_id, 0x0102);
	assert_true(f->time_flow_start_ns == export_ns() - 5000 * 1000000ll);
	assert_true(f->time_flow_end_ns == export_ns() - 1000 * 1000000ll);
	assert_true(fs_flow_has(f, FS_F_TIME_FLOW_START));
	assert_true(fs_flow_has(f, FS_F_BYTES));
	assert_false(fs_flow_has(f, FS_F_SAMPLING_RATE));
	assert_false(fs_flow_has(f, FS_F_VLAN_ID));
	assert_false(fs_flow_has(f, FS_F_SRC_MAC));
	assert_string_equal(fs_addr_format(&c.flows[1].src_addr, text), "10.0.0.2");
	assert_true(c.flows[1].time_flow_end_ns == export_ns());

	assert_int_equal(fs_decoder_stats(dec)->datagrams, 1);
	assert_int_equal(fs_decoder_stats(dec)->datagrams_by_type[FS_FLOW_NETFLOW_V5], 1);
	assert_int_equal(fs_decoder_stats(dec)->flows, 2);
	fs_decoder_free(dec);
}

/* Sets the destination port and protocol of record i of a datagram from put_header(). */
static void
set_port_proto(struct fs_test_packet *p, size_t i, uint16_t dst_port, uint8_t proto)
{
	uint8_t *rec = p->bytes + 24 + 48 * i;

	rec[34] = (uint8_t)(dst_port >> 8);
	rec[35] = (uint8_t)dst_port;
	rec[38] = proto;
}

/* v5 has no ICMP fields: type and code come from the destination port, for ICMP only. */
static void
test_v5_icmp_type_from_port(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, 3, 0);
	put_record(&p, 1, UPTIME_MS - 5000, UPTIME_MS - 1000);
	put_record(&p, 2, UPTIME_MS - 5000, UPTIME_MS - 1000);
	put_record(&p, 3, UPTIME_MS - 5000, UPTIME_MS - 1000);
	set_port_proto(&p, 0, 0x0803, 1);   /* ICMP type 8, code 3 */
	set_port_proto(&p, 1, 0x0800, 6);   /* TCP to port 2048 */
	set_port_proto(&p, 2, 0x8000, 58);  /* ICMPv6 echo request */

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 3);
	assert_true(fs_flow_has(&c.flows[0], FS_F_ICMP_TYPE));
	assert_true(fs_flow_has(&c.flows[0], FS_F_ICMP_CODE));
	assert_int_equal(c.flows[0].icmp_type, 8);
	assert_int_equal(c.flows[0].icmp_code, 3);
	assert_int_equal(c.flows[0].dst_port, 0x0803);
	assert_false(fs_flow_has(&c.flows[1], FS_F_ICMP_TYPE));
	assert_false(fs_flow_has(&c.flows[1], FS_F_ICMP_CODE));
	assert_int_equal(c.flows[2].icmp_type, 128);
	assert_int_equal(c.flows[2].icmp_code, 0);
	fs_decoder_free(dec);
}

static void
test_v5_sampling_interval(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	/* Mode 01 (deterministic) in the top 2 bits, interval 100. */
	put_header(&p, 1, 0x4000 | 100);
	put_record(&p, 1, UPTIME_MS, UPTIME_MS);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_true(fs_flow_has(&c.flows[0], FS_F_SAMPLING_RATE));
	assert_int_equal(c.flows[0].sampling_rate, 100);

	/* Interval 1 means every packet: no rate. */
	c.count = 0;
	p.len = 0;
	put_header(&p, 1, 0x4000 | 1);
	put_record(&p, 1, UPTIME_MS, UPTIME_MS);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_false(fs_flow_has(&c.flows[0], FS_F_SAMPLING_RATE));
	fs_decoder_free(dec);
}

static void
test_v5_uptime_wrap(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, 2, 0);
	/* Switched 2 s before a header uptime of 100 s ... */
	put_record(&p, 1, UPTIME_MS - 2000, UPTIME_MS + 250);
	/* ... and 1 s before boot + 2^32 ms wrap: the stamp is near UINT32_MAX. */
	put_record(&p, 2, (uint32_t)(UPTIME_MS - 101000u), UPTIME_MS);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 2);
	/* A stamp 250 ms after the header uptime lies 250 ms after the export time. */
	assert_true(c.flows[0].time_flow_end_ns == export_ns() + 250 * 1000000ll);
	assert_true(c.flows[1].time_flow_start_ns == export_ns() - 101000 * 1000000ll);
	fs_decoder_free(dec);
}

static void
test_v5_count_exceeds_data(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, 30, 0);
	put_record(&p, 1, UPTIME_MS, UPTIME_MS);
	put_record(&p, 2, UPTIME_MS, UPTIME_MS);
	put_record(&p, 3, UPTIME_MS, UPTIME_MS);
	p.len -= 10; /* the third record is cut */

	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.count, 2);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	assert_int_equal(fs_decoder_stats(dec)->flows, 2);
	fs_decoder_free(dec);
}

static void
test_v5_short_header(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, 1, 0);
	p.len = 20;
	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.count, 0);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	fs_decoder_free(dec);
}

static void
test_v5_zero_count(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, 0, 0);
	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(c.count, 0);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
	fs_decoder_free(dec);
}

/*
 * A count above the version's maximum (v1 24, v5 30, v7 27) drops the whole
 * datagram, even when its bytes would hold that many records.
 */
static void
test_count_above_version_max(void **state)
{
	static const struct {
		uint16_t version;
		uint16_t count;
		size_t record_len;
	} cases[] = {
		{ 5, 31, 48 }, { 5, 65535, 48 }, { 7, 28, 52 }, { 1, 25, 48 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct fs_test_packet p;
		struct fs_decoder *dec = fs_decoder_new(NULL);
		struct fs_test_flows c = { .count = 0 };
		size_t records = cases[i].count < 40 ? cases[i].count : 40;

		p.len = 0;
		put_header(&p, cases[i].count, 0);
		p.bytes[1] = (uint8_t)cases[i].version;
		if (cases[i].version == 1)
			p.len = 16;
		memset(p.bytes + p.len, 0x11, records * cases[i].record_len);
		p.len += records * cases[i].record_len;

		assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
		assert_int_equal(c.count, 0);
		assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
		assert_int_equal(fs_decoder_stats(dec)->flows, 0);
		fs_decoder_free(dec);
	}
}

/* The maximum counts themselves are accepted. */
static void
test_count_at_version_max(void **state)
{
	static const struct {
		uint16_t version;
		uint16_t count;
		size_t record_len;
	} cases[] = {
		{ 5, 30, 48 }, { 7, 27, 52 }, { 1, 24, 48 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct fs_test_packet p;
		struct fs_decoder *dec = fs_decoder_new(NULL);
		struct fs_test_flows c = { .count = 0 };

		p.len = 0;
		put_header(&p, cases[i].count, 0);
		p.bytes[1] = (uint8_t)cases[i].version;
		if (cases[i].version == 1)
			p.len = 16;
		memset(p.bytes + p.len, 0, cases[i].count * cases[i].record_len);
		p.len += cases[i].count * cases[i].record_len;

		assert_int_equal(decode(dec, &p, &c), 0);
		assert_int_equal(c.count, cases[i].count);
		assert_int_equal(fs_decoder_stats(dec)->invalid, 0);
		fs_decoder_free(dec);
	}
}

/* Bytes after the counted records, such as zero padding, are ignored. */
static void
test_v5_trailing_bytes_ignored(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, 1, 0);
	put_record(&p, 1, UPTIME_MS, UPTIME_MS);
	put_record(&p, 2, UPTIME_MS, UPTIME_MS);
	memset(p.bytes + p.len, 0, 100);
	p.len += 100;

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.flows[0].bytes, 1001);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 0);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 0);
	fs_decoder_free(dec);
}

static void
test_v5_corpus_juniper_mx80(void **state)
{
	static uint8_t buf[65536];
	struct fs_decoder *dec;
	struct fs_test_flows c = { .count = 0 };
	size_t len = fs_test_corpus_read(
		"netflow-v5/logstash-codec-netflow/netflow5_test_juniper_mx80.dat", buf, sizeof(buf));
	char text[FS_ADDR_STRLEN];
	const struct fs_flow *found = NULL;

	(void)state;
	if (len == 0)
		skip();
	dec = fs_decoder_new(NULL);
	assert_int_equal(fs_decoder_decode(dec, buf, len, NULL, 0, 0, fs_test_flows_collect,
					   &c), 0);
	assert_int_equal(c.count, 29);
	for (size_t i = 0; i < c.count && i < FS_TEST_FLOWS_MAX; i++) {
		if (strcmp(fs_addr_format(&c.flows[i].src_addr, text), "66.249.92.75") == 0)
			found = &c.flows[i];
	}
	assert_non_null(found);
	assert_string_equal(fs_addr_format(&found->dst_addr, text), "192.168.0.1");
	assert_int_equal(found->src_port, 37387);
	assert_int_equal(found->dst_port, 80);
	assert_int_equal(found->bytes, 104);
	assert_int_equal(found->packets, 2);
	assert_int_equal(found->in_if, 542);
	assert_int_equal(found->out_if, 536);
	assert_int_equal(found->src_as, 15169);
	assert_int_equal(found->dst_as, 64496);
	assert_int_equal(found->sampling_rate, 1000);
	/* unix_secs 1469109172, uptime 190649064, first 190631000: 18.064 s earlier. */
	assert_true(found->time_flow_start_ns == 1469109153936000000ll);
	fs_decoder_free(dec);
}

/*
 * Both corpus captures hold 1464 bytes (30 whole records) under a header
 * count of 55582 and 163, above the v5 maximum of 30, so nothing is decoded.
 */
static void
test_v5_corpus_invalid_counts(void **state)
{
	static const char *const files[] = {
		"netflow-v5/logstash-codec-netflow/netflow5_test_invalid01.dat",
		"netflow-v5/logstash-codec-netflow/netflow5_test_invalid02.dat",
	};
	static uint8_t buf[65536];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct fs_decoder *dec = fs_decoder_new(NULL);
		struct fs_test_flows c = { .count = 0 };
		struct fs_addr exporter;
		size_t len = fs_test_corpus_read(files[i], buf, sizeof(buf));

		if (len == 0) {
			fs_decoder_free(dec);
			skip();
		}
		assert_int_equal(len, 1464);
		fs_addr_parse(&exporter, "192.0.2.7");
		assert_int_equal(fs_decoder_decode(dec, buf, len, &exporter, 2055,
						   1700000001000000000ll, fs_test_flows_collect, &c),
				 FS_ERR_INVALID);
		assert_int_equal(c.count, 0);
		assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
		fs_decoder_free(dec);
	}
}

/* A v7 datagram: the v5 header layout, 52-byte records ending in router_sc. */
static void
test_v7_records(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	char text[FS_ADDR_STRLEN];

	(void)state;
	put_header(&p, 2, 0);
	p.bytes[1] = 7;
	for (uint8_t n = 1; n <= 2; n++) {
		put_record(&p, n, UPTIME_MS - 3000, UPTIME_MS - 1000);
		fs_test_append32(&p, 0xc0000201u);         /* router_sc 192.0.2.1 */
	}

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 2);
	assert_string_equal(fs_addr_format(&c.flows[1].src_addr, text), "10.0.0.2");
	assert_int_equal(c.flows[1].bytes, 1002);
	assert_int_equal(c.flows[1].src_as, 64500);
	assert_int_equal(c.flows[1].dst_mask, 16);
	assert_int_equal(c.flows[1].proto, 6);
	assert_int_equal(c.flows[1].tcp_flags, 0x1b);
	assert_int_equal(c.flows[0].time_flow_end_ns, export_ns() - 1000000000ll);
	/* v7 has no engine fields: the reserved bytes are not a domain. */
	assert_int_equal(c.flows[0].observation_domain_id, 0);
	fs_decoder_free(dec);
}

/* A v1 datagram: 16-byte header, 48-byte records without AS numbers or masks. */
static void
test_v1_records(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	char text[FS_ADDR_STRLEN];

	(void)state;
	fs_test_append16(&p, 1);
	fs_test_append16(&p, 1);
	fs_test_append32(&p, UPTIME_MS);
	fs_test_append32(&p, UNIX_SECS);
	fs_test_append32(&p, UNIX_NSECS);
	fs_test_append32(&p, 0x0a000001u);
	fs_test_append32(&p, 0xc0a80001u);
	fs_test_append32(&p, 0);
	fs_test_append16(&p, 3);
	fs_test_append16(&p, 4);
	fs_test_append32(&p, 5);
	fs_test_append32(&p, 700);
	fs_test_append32(&p, UPTIME_MS - 2000);
	fs_test_append32(&p, UPTIME_MS);
	fs_test_append16(&p, 53);
	fs_test_append16(&p, 33000);
	fs_test_append16(&p, 0);                   /* pad */
	fs_test_append8(&p, 17);                   /* proto */
	fs_test_append8(&p, 0x10);                 /* tos */
	fs_test_append8(&p, 0);                    /* tcp flags */
	for (int i = 0; i < 7; i++)
		fs_test_append8(&p, 0);

	assert_int_equal(p.len, 16 + 48);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_string_equal(fs_addr_format(&c.flows[0].dst_addr, text), "192.168.0.1");
	assert_int_equal(c.flows[0].proto, 17);
	assert_int_equal(c.flows[0].tos, 0x10);
	assert_int_equal(c.flows[0].bytes, 700);
	assert_int_equal(c.flows[0].time_flow_start_ns, export_ns() - 2000000000ll);
	assert_false(fs_flow_has(&c.flows[0], FS_F_SRC_AS));
	assert_false(fs_flow_has(&c.flows[0], FS_F_SEQUENCE));
	fs_decoder_free(dec);
}

/* v5 sequence numbers count flows: 2 records at 4242, then 4250 loses 6. */
static void
test_v5_sequence_gap_in_flows(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };
	const struct fs_exporter_entry *e;

	(void)state;
	put_header(&p, 2, 0);
	put_record(&p, 1, UPTIME_MS, UPTIME_MS);
	put_record(&p, 2, UPTIME_MS, UPTIME_MS);
	assert_int_equal(decode(dec, &p, &c), 0);
	p.bytes[19] = (uint8_t)((SEQUENCE + 8) & 0xff);
	assert_int_equal(decode(dec, &p, &c), 0);

	e = fs_exporter_stats_at(fs_decoder_exporter_stats(dec), 0);
	assert_non_null(e);
	assert_int_equal(e->domain, 1 * 256 + 2);
	assert_int_equal(e->records, 4);
	assert_int_equal(e->sequence_gaps, 1);
	assert_int_equal(e->sequence_lost, 6);
	fs_decoder_free(dec);
}

/* Mode bits without an interval are flagged, and no rate is set. */
static void
test_v5_sampling_mode_without_interval(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, 1, 0x4000);
	put_record(&p, 1, UPTIME_MS, UPTIME_MS);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_false(fs_flow_has(&c.flows[0], FS_F_SAMPLING_RATE));
	assert_int_equal(fs_decoder_stats(dec)->sampling_invalid, 1);
	fs_decoder_free(dec);
}

/* The reserved mode 3 is flagged, and its interval is not applied. */
static void
test_v5_sampling_mode_reserved(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct fs_test_flows c = { .count = 0 };
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_header(&p, 1, 0xffff);
	put_record(&p, 1, UPTIME_MS, UPTIME_MS);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.count, 1);
	assert_false(fs_flow_has(&c.flows[0], FS_F_SAMPLING_RATE));
	assert_int_equal(fs_decoder_stats(dec)->sampling_invalid, 1);
	fs_decoder_free(dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v5_two_records),
		cmocka_unit_test(test_v5_icmp_type_from_port),
		cmocka_unit_test(test_v5_sampling_interval),
		cmocka_unit_test(test_v5_uptime_wrap),
		cmocka_unit_test(test_v5_count_exceeds_data),
		cmocka_unit_test(test_v5_short_header),
		cmocka_unit_test(test_v5_zero_count),
		cmocka_unit_test(test_count_above_version_max),
		cmocka_unit_test(test_count_at_version_max),
		cmocka_unit_test(test_v5_trailing_bytes_ignored),
		cmocka_unit_test(test_v5_corpus_invalid_counts),
		cmocka_unit_test(test_v5_corpus_juniper_mx80),
		cmocka_unit_test(test_v7_records),
		cmocka_unit_test(test_v1_records),
		cmocka_unit_test(test_v5_sequence_gap_in_flows),
		cmocka_unit_test(test_v5_sampling_mode_without_interval),
		cmocka_unit_test(test_v5_sampling_mode_reserved),
	};

	fs_log_set_level(FS_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
