/*
 * test_sflow.c - sFlow v5 decoding through fs_decoder_decode(): flow and
 * counter samples built here byte by byte, hostile datagrams, and the
 * counter samples of the capture corpus ($FLOWSIFT_CORPUS, else
 * ../shared/corpus; those tests skip when it is absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "core/counters.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/capture.h"
#include "decode/decoder.h"
#include "decode/exporter_stats.h"
#include "support/corpus.h"
#include "support/wire.h"

#define MAX_FLOWS 16
#define MAX_COUNTERS 160

struct collected {
	struct fs_flow flows[MAX_FLOWS];
	size_t flow_count;
	struct fs_counters counters[MAX_COUNTERS];
	size_t counters_count;
};

static const uint8_t agent[4] = { 192, 0, 2, 10 };
static const uint8_t host_a[4] = { 203, 0, 113, 1 };
static const uint8_t host_b[4] = { 198, 51, 100, 7 };
static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xaa };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0xbb };

#define DATAGRAM_SEQUENCE 777u
#define SUB_AGENT 3u

/* Writes the 32-bit length word reserved at offset at, covering everything after it. */
static void
patch_length(struct fs_test_packet *p, size_t at)
{
	fs_test_put32(p->bytes + at, (uint32_t)(p->len - at - 4));
}

/* Starts an element: writes its format word and reserves its length word. */
static size_t
begin(struct fs_test_packet *p, uint32_t format)
{
	size_t at;

	fs_test_append32(p, format);
	at = p->len;
	fs_test_append32(p, 0);
	return at;
}

static void
put_datagram_header(struct fs_test_packet *p, uint32_t num_samples)
{
	fs_test_append32(p, 5);
	fs_test_append32(p, 1);
	fs_test_append_bytes(p, agent, 4);
	fs_test_append32(p, SUB_AGENT);
	fs_test_append32(p, DATAGRAM_SEQUENCE);
	fs_test_append32(p, 123456);          /* uptime ms */
	fs_test_append32(p, num_samples);
}

/* Overwrites the sequence number of the datagram that put_datagram_header() started. */
static void
set_datagram_sequence(struct fs_test_packet *p, uint32_t sequence)
{
	fs_test_put32(p->bytes + 16, sequence);
}

/* Compact flow sample header (format 1) without its records. */
static void
put_flow_sample_header(struct fs_test_packet *p, uint32_t rate, uint32_t input,
		       uint32_t output, uint32_t num_records)
{
	fs_test_append32(p, 42);              /* sample sequence */
	fs_test_append32(p, 7);               /* source id: ifIndex 7 */
	fs_test_append32(p, rate);
	fs_test_append32(p, 100000);          /* sample pool */
	fs_test_append32(p, 0);               /* drops */
	fs_test_append32(p, input);
	fs_test_append32(p, output);
	fs_test_append32(p, num_records);
}

/* Raw packet header record: Ethernet, 802.1Q VLAN 30, IPv4, TCP. */
static void
put_raw_header_record(struct fs_test_packet *p)
{
	size_t rec = begin(p, 1);
	size_t start;

	fs_test_append32(p, 1);               /* header protocol: Ethernet */
	fs_test_append32(p, 1522);            /* frame length, FCS included */
	fs_test_append32(p, 4);               /* stripped: the FCS */
	start = p->len;
	fs_test_append32(p, 0);               /* header length, patched below */
	fs_test_append_bytes(p, mac_b, 6);
	fs_test_append_bytes(p, mac_a, 6);
	fs_test_append16(p, 0x8100);
	fs_test_append16(p, 30);
	fs_test_append16(p, 0x0800);
	fs_test_append8(p, 0x45);
	fs_test_append8(p, 0x10);             /* TOS */
	fs_test_append16(p, 1500);            /* total length */
	fs_test_append32(p, 0);
	fs_test_append8(p, 64);
	fs_test_append8(p, 6);
	fs_test_append16(p, 0);
	fs_test_append_bytes(p, host_a, 4);
	fs_test_append_bytes(p, host_b, 4);
	fs_test_append16(p, 51000);
	fs_test_append16(p, 443);
	fs_test_append32(p, 1);
	fs_test_append32(p, 0);
	fs_test_append8(p, 0x50);
	fs_test_append8(p, 0x10);             /* ACK */
	fs_test_append16(p, 1000);
	fs_test_append32(p, 0);
	patch_length(p, start);
	fs_test_append16(p, 0);               /* pad the 58-byte header to 60 */
	patch_length(p, rec);
}

static void
put_ext_switch_record(struct fs_test_packet *p, uint32_t src_vlan)
{
	size_t rec = begin(p, 1001);

	fs_test_append32(p, src_vlan);
	fs_test_append32(p, 0);
	fs_test_append32(p, src_vlan);
	fs_test_append32(p, 0);
	patch_length(p, rec);
}

static void
put_ext_router_record(struct fs_test_packet *p)
{
	size_t rec = begin(p, 1002);

	fs_test_append32(p, 1);
	fs_test_append_bytes(p, host_b, 4);
	fs_test_append32(p, 24);
	fs_test_append32(p, 16);
	patch_length(p, rec);
}

/* Extended gateway with own AS 65000, src_as src_as and the path given. */
static void
put_ext_gateway_record(struct fs_test_packet *p, uint32_t src_as, const uint32_t *path,
		       uint32_t path_len)
{
	size_t rec = begin(p, 1003);

	fs_test_append32(p, 1);
	fs_test_append_bytes(p, agent, 4);    /* BGP next hop */
	fs_test_append32(p, 65000);
	fs_test_append32(p, src_as);
	fs_test_append32(p, 65001);           /* src peer AS */
	fs_test_append32(p, path_len > 0 ? 1 : 0);
	if (path_len > 0) {
		fs_test_append32(p, 2);       /* AS_SEQUENCE */
		fs_test_append32(p, path_len);
		for (uint32_t i = 0; i < path_len; i++)
			fs_test_append32(p, path[i]);
	}
	fs_test_append32(p, 1);               /* communities */
	fs_test_append32(p, 65000u << 16 | 100);
	fs_test_append32(p, 100);             /* local preference */
	patch_length(p, rec);
}

/* IPv4 data record (0:3) for a UDP packet of 200 bytes. */
static void
put_ipv4_data_record(struct fs_test_packet *p)
{
	size_t rec = begin(p, 3);

	fs_test_append32(p, 200);
	fs_test_append32(p, 17);
	fs_test_append_bytes(p, host_b, 4);
	fs_test_append_bytes(p, host_a, 4);
	fs_test_append32(p, 53);
	fs_test_append32(p, 40000);
	fs_test_append32(p, 0);
	fs_test_append32(p, 0x20);
	patch_length(p, rec);
}

/* Extended MPLS record: next hop host_a, input stack of 1 label, output stack of 2. */
static void
put_ext_mpls_record(struct fs_test_packet *p)
{
	size_t rec = begin(p, 1006);

	fs_test_append32(p, 1);
	fs_test_append_bytes(p, host_a, 4);
	fs_test_append32(p, 1);
	fs_test_append32(p, 16000u << 12 | 1 << 8 | 64);
	fs_test_append32(p, 2);
	fs_test_append32(p, 17000u << 12 | 64);
	fs_test_append32(p, 18000u << 12 | 1 << 8 | 64);
	patch_length(p, rec);
}

/* Extended NAT record: source translated to host_b, destination address unknown (type 0). */
static void
put_ext_nat_record(struct fs_test_packet *p)
{
	size_t rec = begin(p, 1007);

	fs_test_append32(p, 1);
	fs_test_append_bytes(p, host_b, 4);
	fs_test_append32(p, 0);
	patch_length(p, rec);
}

static void
put_ext_nat_port_record(struct fs_test_packet *p, uint32_t src_port, uint32_t dst_port)
{
	size_t rec = begin(p, 1020);

	fs_test_append32(p, src_port);
	fs_test_append32(p, dst_port);
	patch_length(p, rec);
}

/* A whole flow sample (format 1) with one IPv4 data record. */
static void
put_simple_flow_sample(struct fs_test_packet *p)
{
	size_t sample = begin(p, 1);

	put_flow_sample_header(p, 512, 1, 2, 1);
	put_ipv4_data_record(p);
	patch_length(p, sample);
}

static void
collect_flow(const struct fs_flow *flow, void *opaque)
{
	struct collected *c = opaque;

	if (c->flow_count < MAX_FLOWS)
		c->flows[c->flow_count] = *flow;
	c->flow_count++;
}

static void
collect_counters(const struct fs_counters *counters, void *opaque)
{
	struct collected *c = opaque;

	if (c->counters_count < MAX_COUNTERS)
		c->counters[c->counters_count] = *counters;
	c->counters_count++;
}

static struct fs_decoder *
new_decoder(const struct fs_decoder_limits *limits, struct collected *c)
{
	struct fs_decoder *dec = fs_decoder_new(limits);

	assert_non_null(dec);
	memset(c, 0, sizeof(*c));
	fs_decoder_set_counters_sink(dec, collect_counters, c);
	return dec;
}

static int
decode(struct fs_decoder *dec, const struct fs_test_packet *p, struct collected *c)
{
	struct fs_addr exporter;
	uint8_t addr[4] = { 127, 0, 0, 1 };

	fs_addr_set_v4(&exporter, addr);
	return fs_decoder_decode(dec, p->bytes, p->len, &exporter, 6343, 1000, collect_flow, c);
}

static void
flow_sample_all_records(void **state)
{
	static const uint32_t path[] = { 64500, 64501, 64502 };
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	const struct fs_flow *f = &c.flows[0];
	size_t sample;

	(void)state;
	put_datagram_header(&p, 1);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 1024, 5, 6, 4);
	put_raw_header_record(&p);
	put_ext_switch_record(&p, 99);
	put_ext_router_record(&p);
	put_ext_gateway_record(&p, 64999, path, 3);
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 1);
	assert_int_equal(f->flow_type, FS_FLOW_SFLOW_V5);
	assert_int_equal(f->sequence, DATAGRAM_SEQUENCE);
	assert_int_equal(f->observation_domain_id, SUB_AGENT);
	assert_int_equal(f->sampling_rate, 1024);
	assert_int_equal(f->in_if, 5);
	assert_int_equal(f->out_if, 6);
	assert_int_equal(f->packets, 1);
	assert_int_equal(f->bytes, 1500);      /* the IPv4 total length */
	assert_memory_equal(f->src_mac, mac_a, 6);
	assert_memory_equal(f->dst_mac, mac_b, 6);
	assert_int_equal(f->vlan_id, 30);      /* the header's tag wins over 99 */
	assert_memory_equal(f->src_addr.bytes, host_a, 4);
	assert_memory_equal(f->dst_addr.bytes, host_b, 4);
	assert_int_equal(f->proto, 6);
	assert_int_equal(f->tos, 0x10);
	assert_int_equal(f->src_port, 51000);
	assert_int_equal(f->dst_port, 443);
	assert_int_equal(f->tcp_flags, 0x10);
	assert_memory_equal(f->next_hop.bytes, host_b, 4); /* the router's, not the gateway's */
	assert_int_equal(f->src_mask, 24);
	assert_int_equal(f->dst_mask, 16);
	assert_int_equal(f->src_as, 64999);
	assert_int_equal(f->dst_as, 64502);
	assert_int_equal(fs_decoder_stats(dec)->sflow_flow_samples, 1);
	assert_int_equal(fs_decoder_stats(dec)->datagrams_by_type[FS_FLOW_SFLOW_V5], 1);
	fs_decoder_free(dec);
}

static void
gateway_local_as(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 1);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 1, 5, 6, 1);
	put_ext_gateway_record(&p, 0, NULL, 0);
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 1);
	/* Source AS 0 and an empty path: both ends are in the gateway's AS. */
	assert_int_equal(c.flows[0].src_as, 65000);
	assert_int_equal(c.flows[0].dst_as, 65000);
	assert_memory_equal(c.flows[0].next_hop.bytes, agent, 4);
	/* A rate of 1 (every packet sampled) is a known rate, so enrich scales by 1. */
	assert_true(fs_flow_has(&c.flows[0], FS_F_SAMPLING_RATE));
	assert_int_equal(c.flows[0].sampling_rate, 1);
	fs_decoder_free(dec);
}

static void
ipv4_data_record_only(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	const struct fs_flow *f = &c.flows[0];

	(void)state;
	put_datagram_header(&p, 1);
	put_simple_flow_sample(&p);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 1);
	assert_int_equal(f->bytes, 200);
	assert_int_equal(f->proto, 17);
	assert_int_equal(f->src_port, 53);
	assert_int_equal(f->dst_port, 40000);
	assert_int_equal(f->tos, 0x20);
	assert_false(fs_flow_has(f, FS_F_TCP_FLAGS));
	assert_false(fs_flow_has(f, FS_F_SRC_MAC));
	fs_decoder_free(dec);
}

static void
mpls_and_nat_records(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	const struct fs_flow *f = &c.flows[0];
	size_t sample;

	(void)state;
	put_datagram_header(&p, 1);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 256, 1, 2, 4);
	put_ipv4_data_record(&p);
	put_ext_mpls_record(&p);
	put_ext_nat_record(&p);
	put_ext_nat_port_record(&p, 61000, 53);
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 1);
	assert_true(fs_flow_has(f, FS_F_NEXT_HOP));
	assert_memory_equal(f->next_hop.bytes, host_a, 4);
	assert_true(fs_flow_has(f, FS_F_POST_NAT_SRC_ADDR));
	assert_int_equal(f->post_nat_src_addr.family, 4);
	assert_memory_equal(f->post_nat_src_addr.bytes, host_b, 4);
	assert_false(fs_flow_has(f, FS_F_POST_NAT_DST_ADDR));
	assert_true(fs_flow_has(f, FS_F_POST_NAT_SRC_PORT));
	assert_int_equal(f->post_nat_src_port, 61000);
	assert_int_equal(f->post_nat_dst_port, 53);
	assert_int_equal(fs_decoder_stats(dec)->sflow_unknown_records, 0);
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 0);
	fs_decoder_free(dec);
}

static void
next_hop_rank_order(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 2);
	/* Gateway (next hop agent) before MPLS (host_a): MPLS wins. */
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 256, 1, 2, 2);
	put_ext_gateway_record(&p, 0, NULL, 0);
	put_ext_mpls_record(&p);
	patch_length(&p, sample);
	/* MPLS (host_a) before router (host_b), then gateway: the router wins. */
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 256, 1, 2, 3);
	put_ext_mpls_record(&p);
	put_ext_router_record(&p);
	put_ext_gateway_record(&p, 0, NULL, 0);
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 2);
	assert_memory_equal(c.flows[0].next_hop.bytes, host_a, 4);
	assert_memory_equal(c.flows[1].next_hop.bytes, host_b, 4);
	fs_decoder_free(dec);
}

static void
nat_port_out_of_range(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 1);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 256, 1, 2, 2);
	put_ext_nat_port_record(&p, 70000, 53);
	put_ipv4_data_record(&p);
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	/* The bad record is dropped, and the IPv4 data record after it is kept. */
	assert_int_equal(c.flow_count, 1);
	assert_false(fs_flow_has(&c.flows[0], FS_F_POST_NAT_SRC_PORT));
	assert_int_equal(c.flows[0].src_port, 53);
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 1);
	fs_decoder_free(dec);
}

static void
expanded_special_interfaces(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 2);
	sample = begin(&p, 3);
	fs_test_append32(&p, 1);              /* sequence */
	fs_test_append32(&p, 0);              /* source id type */
	fs_test_append32(&p, 70000);          /* source id index, above 24 bits */
	fs_test_append32(&p, 4096);
	fs_test_append32(&p, 0);
	fs_test_append32(&p, 0);
	fs_test_append32(&p, 0);              /* input: ifIndex 70000 */
	fs_test_append32(&p, 70000);
	fs_test_append32(&p, 1);              /* output: discarded, reason 258 */
	fs_test_append32(&p, 258);
	fs_test_append32(&p, 0);              /* no records */
	patch_length(&p, sample);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 4096, 0x3fffffff, 2u << 30 | 3, 0); /* internal, multiple */
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 2);
	assert_int_equal(c.flows[0].in_if, 70000);
	assert_int_equal(c.flows[0].out_if, 0);
	assert_true(fs_flow_has(&c.flows[0], FS_F_OUT_IF));
	assert_int_equal(c.flows[1].in_if, 0);
	assert_int_equal(c.flows[1].out_if, 0);
	assert_int_equal(c.flows[1].sampling_rate, 4096);
	fs_decoder_free(dec);
}

static void
counter_sample_records(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	const struct fs_counters *k = &c.counters[0];
	size_t sample, rec;

	(void)state;
	put_datagram_header(&p, 1);
	sample = begin(&p, 2);
	fs_test_append32(&p, 9);              /* sequence */
	fs_test_append32(&p, 1u << 24 | 42);  /* source: VLAN 42 */
	fs_test_append32(&p, 3);
	rec = begin(&p, 1);        /* generic interface */
	fs_test_append32(&p, 42);
	fs_test_append32(&p, 6);
	fs_test_append64(&p, 10000000000ull);
	fs_test_append32(&p, 1);
	fs_test_append32(&p, 3);
	fs_test_append64(&p, 5000000000ull);
	for (uint32_t i = 1; i <= 6; i++)
		fs_test_append32(&p, i);
	fs_test_append64(&p, 7000000000ull);
	for (uint32_t i = 11; i <= 15; i++)
		fs_test_append32(&p, i);
	fs_test_append32(&p, 1);
	patch_length(&p, rec);
	rec = begin(&p, 2);        /* Ethernet */
	for (uint32_t i = 101; i <= 113; i++)
		fs_test_append32(&p, i);
	patch_length(&p, rec);
	rec = begin(&p, 1005);     /* port name, listed only */
	fs_test_append32(&p, 4);
	fs_test_append32(&p, 0x65746830);     /* "eth0" */
	patch_length(&p, rec);
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 0);
	assert_int_equal(c.counters_count, 1);
	assert_int_equal(k->present, FS_C_GENERIC | FS_C_ETHERNET);
	assert_memory_equal(k->agent_addr.bytes, agent, 4);
	assert_int_equal(k->sub_agent_id, SUB_AGENT);
	assert_int_equal(k->datagram_sequence, DATAGRAM_SEQUENCE);
	assert_int_equal(k->sequence, 9);
	assert_int_equal(k->uptime_ms, 123456);
	assert_int_equal(k->source_id_type, 1);
	assert_int_equal(k->source_id_index, 42);
	assert_int_equal(k->time_received_ns, 1000);
	assert_int_equal(k->exporter_port, 6343);
	assert_int_equal(k->generic.if_index, 42);
	assert_int_equal(k->generic.if_speed, 10000000000ull);
	assert_int_equal(k->generic.if_status, 3);
	assert_int_equal(k->generic.in_octets, 5000000000ull);
	assert_int_equal(k->generic.in_ucast_pkts, 1);
	assert_int_equal(k->generic.in_unknown_protos, 6);
	assert_int_equal(k->generic.out_octets, 7000000000ull);
	assert_int_equal(k->generic.out_errors, 15);
	assert_int_equal(k->generic.promiscuous, 1);
	assert_int_equal(k->ethernet.alignment_errors, 101);
	assert_int_equal(k->ethernet.symbol_errors, 113);
	assert_int_equal(k->other_count, 1);
	assert_int_equal(k->other[0].enterprise, 0);
	assert_int_equal(k->other[0].format, 1005);
	assert_int_equal(k->other[0].length, 8);
	assert_int_equal(fs_decoder_stats(dec)->sflow_counter_samples, 1);
	assert_int_equal(fs_decoder_stats(dec)->sflow_unknown_records, 1);
	fs_decoder_free(dec);
}

static void
short_datagrams_counted(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_datagram_header(&p, 1);
	p.len = 12;
	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	p.len = 8;
	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.flow_count, 0);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 2);
	assert_int_equal(fs_decoder_stats(dec)->datagrams_by_type[FS_FLOW_SFLOW_V5], 2);
	fs_decoder_free(dec);
}

/*
 * A 12-byte datagram between two valid ones: it is counted truncated under
 * the exporter's domain 0 (the sub-agent id is past its end), and the flows
 * of the datagrams before and after it are kept.
 */
static void
twelve_byte_datagram_between_valid(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	struct fs_test_packet tiny;
	const struct fs_exporter_stats *stats;
	const struct fs_exporter_entry *entry;
	const struct fs_exporter_entry *headerless = NULL;
	uint32_t i;

	(void)state;
	put_datagram_header(&p, 1);
	put_simple_flow_sample(&p);
	tiny = p;
	tiny.len = 12;

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(decode(dec, &tiny, &c), FS_ERR_TRUNCATED);
	set_datagram_sequence(&p, DATAGRAM_SEQUENCE + 1);
	assert_int_equal(decode(dec, &p, &c), 0);

	assert_int_equal(c.flow_count, 2);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	stats = fs_decoder_exporter_stats(dec);
	assert_int_equal(fs_exporter_stats_count(stats), 2);
	for (i = 0; i < fs_exporter_stats_count(stats); i++) {
		entry = fs_exporter_stats_at(stats, i);
		if (entry->domain == 0)
			headerless = entry;
	}
	assert_non_null(headerless);
	assert_int_equal(headerless->flow_type, FS_FLOW_SFLOW_V5);
	assert_int_equal(headerless->exporter_port, 6343);
	assert_int_equal(headerless->packets, 1);
	assert_int_equal(headerless->records, 0);
	assert_int_equal(headerless->malformed[FS_MALFORMED_TRUNCATED], 1);
	fs_decoder_free(dec);
}

static void
zero_length_record_skipped(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 1);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 10, 1, 2, 3);
	put_ext_router_record(&p);
	fs_test_append32(&p, 1);              /* raw header record of length 0 */
	fs_test_append32(&p, 0);
	put_ipv4_data_record(&p);
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(c.flow_count, 1);
	assert_int_equal(c.flows[0].src_mask, 24);
	assert_int_equal(c.flows[0].src_port, 53);
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 1);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
	fs_decoder_free(dec);
}

static void
records_overrun_sample(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 3);
	put_simple_flow_sample(&p);
	sample = begin(&p, 1);     /* claims 1000 records, holds 1 */
	put_flow_sample_header(&p, 10, 1, 2, 1000);
	put_ext_router_record(&p);
	patch_length(&p, sample);
	put_simple_flow_sample(&p);

	/* The cut sample gave only a router record, no packet: its flow is dropped. */
	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.flow_count, 2);
	assert_int_equal(c.flows[0].src_port, 53);
	assert_int_equal(c.flows[1].src_port, 53);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
	assert_int_equal(fs_decoder_stats(dec)->sflow_flows_dropped, 1);
	assert_int_equal(fs_decoder_stats(dec)->flows, 2);
	fs_decoder_free(dec);
}

/* Starts a raw packet header record (Ethernet) whose header_length claims header_length bytes. */
static size_t
begin_raw_header_record(struct fs_test_packet *p, uint32_t record_length, uint32_t header_length)
{
	size_t rec;

	fs_test_append32(p, 1);
	rec = p->len;
	fs_test_append32(p, record_length);
	fs_test_append32(p, 1);               /* header protocol: Ethernet */
	fs_test_append32(p, 1518);
	fs_test_append32(p, 4);
	fs_test_append32(p, header_length);
	return rec;
}

/*
 * A flow sample whose only packet record is malformed gives no flow: one
 * raw header record's length runs past the sample, another declares 1000
 * header bytes and holds 54.  Each counts one flow dropped and none
 * decoded, and the good samples around them are kept.
 */
static void
malformed_raw_header_drops_flow(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample, rec;

	(void)state;
	put_datagram_header(&p, 4);
	put_simple_flow_sample(&p);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 512, 1, 2, 1);
	(void)begin_raw_header_record(&p, 0xfffffff0u, 54);
	for (int i = 0; i < 54; i++)
		fs_test_append8(&p, 0xab);
	fs_test_append16(&p, 0);
	patch_length(&p, sample);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 512, 1, 2, 1);
	rec = begin_raw_header_record(&p, 0, 1000);
	for (int i = 0; i < 54; i++)
		fs_test_append8(&p, 0xab);
	fs_test_append16(&p, 0);
	patch_length(&p, rec);
	patch_length(&p, sample);
	put_simple_flow_sample(&p);

	assert_int_not_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 2);
	assert_int_equal(c.flows[0].src_port, 53);
	assert_int_equal(c.flows[1].src_port, 53);
	assert_int_equal(fs_decoder_stats(dec)->flows, 2);
	assert_int_equal(fs_decoder_stats(dec)->sflow_flows_dropped, 2);
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 2);
	assert_int_equal(fs_decoder_stats(dec)->sflow_flow_samples, 4);
	fs_decoder_free(dec);
}

/*
 * A malformed raw header next to a good IPv4 data record: the flow is
 * published from the IPv4 data, and only the record counts as dropped.
 */
static void
malformed_raw_header_ipv4_kept(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample, rec;

	(void)state;
	put_datagram_header(&p, 1);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 512, 1, 2, 2);
	rec = begin_raw_header_record(&p, 0, 1000);
	for (int i = 0; i < 56; i++)
		fs_test_append8(&p, 0xab);
	patch_length(&p, rec);
	put_ipv4_data_record(&p);
	patch_length(&p, sample);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(c.flow_count, 1);
	assert_memory_equal(c.flows[0].src_addr.bytes, host_b, 4);
	assert_int_equal(c.flows[0].bytes, 200);
	assert_int_equal(fs_decoder_stats(dec)->sflow_flows_dropped, 0);
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 1);
	fs_decoder_free(dec);
}

static void
record_length_overruns_sample(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 2);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 10, 1, 2, 2);
	put_ipv4_data_record(&p);
	fs_test_append32(&p, 1002);           /* record claiming 4000 bytes */
	fs_test_append32(&p, 4000);
	fs_test_append32(&p, 0);
	patch_length(&p, sample);
	put_simple_flow_sample(&p);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.flow_count, 2);
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 1);
	fs_decoder_free(dec);
}

static void
sample_overruns_datagram(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_datagram_header(&p, 3);
	put_simple_flow_sample(&p);
	fs_test_append32(&p, 1);              /* flow sample claiming 100000 bytes */
	fs_test_append32(&p, 100000);
	fs_test_append32(&p, 0);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.flow_count, 1);
	fs_decoder_free(dec);
}

static void
zero_length_sample_skipped(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_datagram_header(&p, 3);
	put_simple_flow_sample(&p);
	fs_test_append32(&p, 1);
	fs_test_append32(&p, 0);
	put_simple_flow_sample(&p);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(c.flow_count, 2);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
	fs_decoder_free(dec);
}

static void
more_samples_than_sent(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_datagram_header(&p, 0xffffffffu);
	put_simple_flow_sample(&p);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_TRUNCATED);
	assert_int_equal(c.flow_count, 1);
	fs_decoder_free(dec);
}

static void
sample_and_record_limits(void **state)
{
	const struct fs_decoder_limits limits = {
		.max_sflow_samples = 2,
		.max_sflow_records = 1,
	};
	struct collected c;
	struct fs_decoder *dec = new_decoder(&limits, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 3);
	sample = begin(&p, 1);
	put_flow_sample_header(&p, 10, 1, 2, 3);
	put_ipv4_data_record(&p);
	put_ext_router_record(&p);
	put_ext_switch_record(&p, 5);
	patch_length(&p, sample);
	put_simple_flow_sample(&p);
	put_simple_flow_sample(&p);

	assert_int_equal(decode(dec, &p, &c), FS_ERR_INVALID);
	assert_int_equal(c.flow_count, 2);
	assert_int_equal(c.flows[0].src_port, 53);
	assert_false(fs_flow_has(&c.flows[0], FS_F_SRC_MASK));
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 2);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 2);
	fs_decoder_free(dec);
}

static void
unknown_samples_counted(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	size_t sample;

	(void)state;
	put_datagram_header(&p, 3);
	sample = begin(&p, 5);     /* drop notification */
	fs_test_append32(&p, 1);
	patch_length(&p, sample);
	sample = begin(&p, 4413u << 12 | 1); /* enterprise sample */
	fs_test_append32(&p, 1);
	patch_length(&p, sample);
	put_simple_flow_sample(&p);

	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 1);
	assert_int_equal(fs_decoder_stats(dec)->sflow_unknown_samples, 2);
	fs_decoder_free(dec);
}

static void
datagram_sequence_gap(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	const struct fs_exporter_entry *entry;

	(void)state;
	put_datagram_header(&p, 1);
	put_simple_flow_sample(&p);
	assert_int_equal(decode(dec, &p, &c), 0);
	/* The next datagram skips sequence numbers 778 and 779. */
	set_datagram_sequence(&p, DATAGRAM_SEQUENCE + 3);
	assert_int_equal(decode(dec, &p, &c), 0);

	assert_int_equal(fs_exporter_stats_count(fs_decoder_exporter_stats(dec)), 1);
	entry = fs_exporter_stats_at(fs_decoder_exporter_stats(dec), 0);
	assert_int_equal(entry->sequence_gaps, 1);
	assert_int_equal(entry->sequence_lost, 2);
	fs_decoder_free(dec);
}

/* Two agents relayed from one source address keep their own datagram sequences. */
static void
datagram_sequence_per_agent(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	const struct fs_exporter_stats *es;

	(void)state;
	put_datagram_header(&p, 1);
	put_simple_flow_sample(&p);
	for (uint32_t i = 0; i < 3; i++) {
		/* Agent 192.0.2.10 counts from DATAGRAM_SEQUENCE, agent 192.0.2.11 from 1000. */
		p.bytes[11] = agent[3];
		set_datagram_sequence(&p, DATAGRAM_SEQUENCE + i);
		assert_int_equal(decode(dec, &p, &c), 0);
		p.bytes[11] = (uint8_t)(agent[3] + 1);
		set_datagram_sequence(&p, 1000 + i);
		assert_int_equal(decode(dec, &p, &c), 0);
	}
	es = fs_decoder_exporter_stats(dec);
	assert_int_equal(fs_exporter_stats_count(es), 2);
	for (uint32_t i = 0; i < 2; i++) {
		const struct fs_exporter_entry *entry = fs_exporter_stats_at(es, i);

		/* The counters are each agent's, not the source's. */
		assert_true(entry->exporter.bytes[3] == agent[3] ||
			    entry->exporter.bytes[3] == agent[3] + 1);
		assert_int_equal(entry->packets, 3);
		assert_int_equal(entry->sequence_gaps, 0);
		assert_int_equal(entry->sequence_resets, 0);
	}
	fs_decoder_free(dec);
}

/* Flow sample (format 1) from source id source with sample sequence, no records. */
static void
put_empty_flow_sample(struct fs_test_packet *p, uint32_t sequence, uint32_t source)
{
	size_t sample = begin(p, 1);

	fs_test_append32(p, sequence);
	fs_test_append32(p, source);
	fs_test_append32(p, 256);             /* sampling rate */
	fs_test_append32(p, 1000);            /* sample pool */
	fs_test_append32(p, 0);               /* drops */
	fs_test_append32(p, 1);
	fs_test_append32(p, 2);
	fs_test_append32(p, 0);               /* no records */
	patch_length(p, sample);
}

/* Expanded counter sample (format 4) from source (type, index), no records. */
static void
put_empty_counter_sample(struct fs_test_packet *p, uint32_t sequence, uint32_t type, uint32_t index)
{
	size_t sample = begin(p, 4);

	fs_test_append32(p, sequence);
	fs_test_append32(p, type);
	fs_test_append32(p, index);
	fs_test_append32(p, 0);
	patch_length(p, sample);
}

/* Returns the source entry of kind and source index, failing the test when absent. */
static const struct fs_sflow_source_entry *
find_source(const struct fs_decoder *dec, enum fs_sflow_sample_kind kind, uint32_t index)
{
	const struct fs_exporter_stats *es = fs_decoder_exporter_stats(dec);

	for (uint32_t i = 0; i < fs_exporter_stats_source_count(es); i++) {
		const struct fs_sflow_source_entry *s = fs_exporter_stats_source_at(es, i);

		if (s->kind == kind && s->source_index == index)
			return s;
	}
	fail_msg("no %s source with index %u", fs_sflow_sample_kind_name(kind), index);
	return NULL;
}

static void
sample_sequence_gaps_per_source(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	struct fs_test_packet p = { .len = 0 };
	const struct fs_exporter_entry *entry;
	const struct fs_sflow_source_entry *s;

	(void)state;
	put_datagram_header(&p, 3);
	put_empty_flow_sample(&p, 42, 7);
	put_empty_flow_sample(&p, 0xffffffffu, 8);
	put_empty_counter_sample(&p, 9, 1, 42);
	assert_int_equal(decode(dec, &p, &c), 0);

	/*
	 * Next datagram, no datagram gap: source 7 skips samples 43 and 44,
	 * source 8 wraps to 0 without a gap, the counter source goes on.
	 */
	p.len = 0;
	put_datagram_header(&p, 3);
	set_datagram_sequence(&p, DATAGRAM_SEQUENCE + 1);
	put_empty_flow_sample(&p, 45, 7);
	put_empty_flow_sample(&p, 0, 8);
	put_empty_counter_sample(&p, 10, 1, 42);
	assert_int_equal(decode(dec, &p, &c), 0);

	/* Then the counter source restarts at 1. */
	p.len = 0;
	put_datagram_header(&p, 1);
	set_datagram_sequence(&p, DATAGRAM_SEQUENCE + 2);
	put_empty_counter_sample(&p, 1, 1, 42);
	assert_int_equal(decode(dec, &p, &c), 0);

	entry = fs_exporter_stats_at(fs_decoder_exporter_stats(dec), 0);
	assert_int_equal(entry->sequence_gaps, 0);
	assert_int_equal(entry->flow_sample_gaps, 1);
	assert_int_equal(entry->flow_samples_lost, 2);
	assert_int_equal(entry->counter_sample_gaps, 0);
	assert_int_equal(entry->counter_samples_lost, 0);
	assert_int_equal(entry->sample_sequence_resets, 1);
	assert_int_equal(fs_exporter_stats_source_count(fs_decoder_exporter_stats(dec)), 3);

	s = find_source(dec, FS_SFLOW_FLOW_SAMPLES, 7);
	assert_int_equal(s->source_type, 0);
	assert_int_equal(s->samples, 2);
	assert_int_equal(s->sequence_gaps, 1);
	assert_int_equal(s->sequence_lost, 2);
	assert_memory_equal(s->agent.bytes, agent, 4);
	assert_ptr_equal(s->exporter, entry);
	s = find_source(dec, FS_SFLOW_FLOW_SAMPLES, 8);
	assert_int_equal(s->sequence_gaps, 0);
	assert_int_equal(s->sequence_resets, 0);
	s = find_source(dec, FS_SFLOW_COUNTER_SAMPLES, 42);
	assert_int_equal(s->source_type, 1);
	assert_int_equal(s->samples, 3);
	assert_int_equal(s->sequence_gaps, 0);
	assert_int_equal(s->sequence_resets, 1);
	fs_decoder_free(dec);
}

static void
sample_sources_limit_counted(void **state)
{
	const struct fs_decoder_limits limits = { .max_sflow_sources = 2 };
	struct collected c;
	struct fs_decoder *dec = new_decoder(&limits, &c);
	struct fs_test_packet p = { .len = 0 };

	(void)state;
	put_datagram_header(&p, 3);
	put_empty_flow_sample(&p, 1, 1);
	put_empty_flow_sample(&p, 1, 2);
	put_empty_flow_sample(&p, 1, 3);
	assert_int_equal(decode(dec, &p, &c), 0);
	assert_int_equal(c.flow_count, 3);
	assert_int_equal(fs_exporter_stats_source_count(fs_decoder_exporter_stats(dec)), 2);
	assert_int_equal(fs_exporter_stats_sources_untracked(fs_decoder_exporter_stats(dec)), 1);
	fs_decoder_free(dec);
}

/* ---- corpus ---- */

struct corpus_run {
	struct fs_decoder *decoder;
	struct collected *collected;
	int faults;
};

static int
decode_corpus_datagram(const struct fs_datagram *dg, void *opaque)
{
	struct corpus_run *run = opaque;

	if (fs_decoder_decode(run->decoder, dg->data, dg->len, &dg->exporter,
			      dg->exporter_port, dg->time_ns, collect_flow,
			      run->collected) != 0)
		run->faults++;
	return 0;
}

/* Decodes a corpus file into c; skips the test when the corpus is absent. */
static int
decode_corpus_file(const char *name, struct fs_decoder *dec, struct collected *c)
{
	struct corpus_run run = { dec, c, 0 };
	char path[1024], err[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", fs_test_corpus_dir(), name);
	if (stat(path, &st) != 0) {
		print_message("corpus file %s not found (set FLOWSIFT_CORPUS); skipping\n", path);
		skip();
	}
	if (fs_capture_read_file(path, decode_corpus_datagram, &run, err, sizeof(err)) != 0)
		fail_msg("failed to read %s: %s", path, err);
	return run.faults;
}

/*
 * Two captures of the same agent (akvorado's ICMPv4 and ICMPv6 samples):
 * the second starts 4 datagrams and 6 flow samples of source 0:1 after
 * the first.
 */
static void
corpus_sample_gap_across_captures(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	const struct fs_exporter_entry *entry;
	const struct fs_sflow_source_entry *s;

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/akvorado/data-icmpv4.pcap", dec, &c), 0);
	assert_int_equal(decode_corpus_file("sflow-v5/akvorado/data-icmpv6.pcap", dec, &c), 0);
	entry = fs_exporter_stats_at(fs_decoder_exporter_stats(dec), 0);
	assert_int_equal(entry->domain, 1402);
	assert_int_equal(entry->sequence_gaps, 1);
	assert_int_equal(entry->sequence_lost, 3);
	assert_int_equal(entry->flow_sample_gaps, 1);
	assert_int_equal(entry->flow_samples_lost, 5);
	s = find_source(dec, FS_SFLOW_FLOW_SAMPLES, 1);
	assert_int_equal(s->samples, 2);
	assert_int_equal(s->sequence_lost, 5);
	fs_decoder_free(dec);
}

static void
corpus_generic_and_port_name(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	const struct fs_counters *k = &c.counters[0];
	static const uint8_t telegraf_agent[4] = { 192, 168, 119, 184 };

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/telegraf/sflow_v5_example__sflow_v5.bin",
					    dec, &c), 0);
	assert_int_equal(c.counters_count, 1);
	assert_memory_equal(k->agent_addr.bytes, telegraf_agent, 4);
	assert_int_equal(k->sub_agent_id, 100000);
	assert_int_equal(k->sequence, 2);
	assert_int_equal(k->uptime_ms, 12414);
	assert_int_equal(k->present, FS_C_GENERIC);
	assert_int_equal(k->generic.if_index, 3);
	assert_int_equal(k->generic.if_type, 6);
	assert_int_equal(k->generic.if_speed, 1000000000ull);
	assert_int_equal(k->generic.if_status, 3);
	assert_int_equal(k->generic.in_octets, 3910);
	assert_int_equal(k->generic.in_ucast_pkts, 28);
	assert_int_equal(k->generic.in_mcast_pkts, 4294967295u);
	assert_int_equal(k->generic.out_octets, 3946);
	assert_int_equal(k->generic.out_ucast_pkts, 29);
	assert_int_equal(k->generic.promiscuous, 0);
	assert_int_equal(k->other_count, 1);
	assert_int_equal(k->other[0].format, 1005);
	fs_decoder_free(dec);
}

static void
corpus_expanded_counters(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	const struct fs_counters *k = &c.counters[0];

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/telegraf/sflow_issue_18876__message.bin",
					    dec, &c), 0);
	assert_int_equal(c.counters_count, 1);
	assert_int_equal(k->present, FS_C_GENERIC | FS_C_ETHERNET);
	assert_int_equal(k->sequence, 17628);
	assert_int_equal(k->uptime_ms, 1405480336);
	assert_int_equal(k->generic.if_index, 1258293248);
	assert_int_equal(k->generic.if_speed, 10000000000ull);
	assert_int_equal(k->generic.in_octets, 59347538341644ull);
	assert_int_equal(k->generic.in_errors, 58690);
	assert_int_equal(k->generic.out_octets, 89572325677612ull);
	assert_int_equal(k->generic.out_mcast_pkts, 4095509374u);
	assert_int_equal(k->generic.promiscuous, 1);
	assert_int_equal(k->ethernet.fcs_errors, 58690);
	assert_int_equal(k->ethernet.alignment_errors, 0);
	fs_decoder_free(dec);
}

static void
corpus_drop_sample_skipped(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/telegraf/sflow_issue_15375__sflow_drop_1036.bin",
					    dec, &c), 0);
	assert_int_equal(c.flow_count, 0);
	assert_int_equal(fs_decoder_stats(dec)->sflow_unknown_samples, 1);
	fs_decoder_free(dec);
}

static void
corpus_ipv6_agent(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	const struct fs_counters *k = &c.counters[0];

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/tcpdump/sflow-print-v6.pcap", dec, &c), 0);
	assert_true(c.counters_count > 1);
	/* The first datagram: agent 30::1:1:1, sequence 109, ifIndex 23001. */
	assert_int_equal(k->agent_addr.family, 6);
	assert_int_equal(k->agent_addr.bytes[0], 0x00);
	assert_int_equal(k->agent_addr.bytes[1], 0x30);
	assert_int_equal(k->datagram_sequence, 109);
	assert_int_equal(k->sequence, 28);
	assert_int_equal(k->source_id_index, 23001);
	assert_int_equal(k->generic.if_index, 23001);
	assert_int_equal(k->generic.if_speed, 400000000000ull);
	assert_int_equal(k->generic.out_octets, 9717);
	assert_int_equal(k->generic.out_mcast_pkts, 79);
	assert_true(c.flow_count > 0);
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 0);
	fs_decoder_free(dec);
}

static void
corpus_mixed_with_netflow(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	const struct fs_decoder_stats *stats;

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/tcpdump/sflow_multiple_counter_30_pdus.pcap",
					    dec, &c), 0);
	stats = fs_decoder_stats(dec);
	assert_int_equal(stats->datagrams_by_type[FS_FLOW_SFLOW_V5], 25);
	assert_int_equal(stats->datagrams_by_type[FS_FLOW_NETFLOW_V5], 5);
	assert_int_equal(stats->sflow_counter_samples, c.counters_count);
	assert_true(c.counters_count >= 25);
	fs_decoder_free(dec);
}

/*
 * The Host sFlow counter records of this capture (host description 2000,
 * adapters 2001, CPU 2003, memory 2004, disk I/O 2005, network I/O 2006)
 * have no field in the counters schema, so they are listed and counted.
 */
static void
corpus_host_counters_listed(void **state)
{
	static const uint32_t host_formats[] = { 2000, 2001, 2003, 2004, 2005, 2006 };
	enum { HOST_FORMATS = sizeof(host_formats) / sizeof(host_formats[0]) };
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);
	/* One count per host format, and a last one for any other format. */
	unsigned listed[HOST_FORMATS + 1] = { 0 };
	unsigned other_total = 0;

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/tcpdump/sflow_multiple_counter_30_pdus.pcap",
					    dec, &c), 0);
	assert_true(c.counters_count <= MAX_COUNTERS);
	for (size_t i = 0; i < c.counters_count; i++) {
		const struct fs_counters *k = &c.counters[i];

		assert_int_equal(k->other_omitted, 0);
		for (uint32_t j = 0; j < k->other_count; j++) {
			size_t n;

			assert_int_equal(k->other[j].enterprise, 0);
			for (n = 0; n < HOST_FORMATS; n++)
				if (k->other[j].format == host_formats[n])
					break;
			listed[n]++;
			other_total++;
		}
	}
	/* Two datagrams of host 15.184.1.195 carry one record of each format. */
	for (size_t n = 0; n < HOST_FORMATS; n++)
		assert_int_equal(listed[n], 2);
	assert_int_equal(listed[HOST_FORMATS], 0);
	assert_int_equal(other_total, 12);
	assert_int_equal(fs_decoder_stats(dec)->sflow_unknown_records, 12);
	assert_int_equal(fs_decoder_stats(dec)->sflow_unknown_samples, 0);
	assert_int_equal(fs_decoder_stats(dec)->sflow_records_dropped, 0);
	fs_decoder_free(dec);
}

static void
corpus_truncated_capture(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/tcpdump/sflow_print-segv.pcap", dec, &c), 1);
	assert_int_equal(c.flow_count, 0);
	assert_int_equal(c.counters_count, 0);
	fs_decoder_free(dec);
}

static void
corpus_trailing_bytes_ignored(void **state)
{
	struct collected c;
	struct fs_decoder *dec = new_decoder(NULL, &c);

	(void)state;
	assert_int_equal(decode_corpus_file("sflow-v5/goflow2/sflow_expanded_5samples.bin",
					    dec, &c), 0);
	assert_int_equal(c.flow_count, 5);
	fs_decoder_free(dec);
}

static int
quiet_logs(void **state)
{
	(void)state;
	fs_log_set_level(FS_LOG_ERR);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flow_sample_all_records),
		cmocka_unit_test(gateway_local_as),
		cmocka_unit_test(ipv4_data_record_only),
		cmocka_unit_test(mpls_and_nat_records),
		cmocka_unit_test(next_hop_rank_order),
		cmocka_unit_test(nat_port_out_of_range),
		cmocka_unit_test(expanded_special_interfaces),
		cmocka_unit_test(counter_sample_records),
		cmocka_unit_test(short_datagrams_counted),
		cmocka_unit_test(twelve_byte_datagram_between_valid),
		cmocka_unit_test(zero_length_record_skipped),
		cmocka_unit_test(records_overrun_sample),
		cmocka_unit_test(malformed_raw_header_drops_flow),
		cmocka_unit_test(malformed_raw_header_ipv4_kept),
		cmocka_unit_test(record_length_overruns_sample),
		cmocka_unit_test(sample_overruns_datagram),
		cmocka_unit_test(zero_length_sample_skipped),
		cmocka_unit_test(more_samples_than_sent),
		cmocka_unit_test(sample_and_record_limits),
		cmocka_unit_test(unknown_samples_counted),
		cmocka_unit_test(datagram_sequence_gap),
		cmocka_unit_test(datagram_sequence_per_agent),
		cmocka_unit_test(sample_sequence_gaps_per_source),
		cmocka_unit_test(sample_sources_limit_counted),
		cmocka_unit_test(corpus_sample_gap_across_captures),
		cmocka_unit_test(corpus_generic_and_port_name),
		cmocka_unit_test(corpus_expanded_counters),
		cmocka_unit_test(corpus_drop_sample_skipped),
		cmocka_unit_test(corpus_ipv6_agent),
		cmocka_unit_test(corpus_mixed_with_netflow),
		cmocka_unit_test(corpus_host_counters_listed),
		cmocka_unit_test(corpus_truncated_capture),
		cmocka_unit_test(corpus_trailing_bytes_ignored),
	};

	return cmocka_run_group_tests(tests, quiet_logs, NULL);
}
