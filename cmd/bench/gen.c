/*
 * gen.c - `flowsift-bench gen`: writes a capture of generated export
 * datagrams as pcap (Ethernet, IPv4, UDP), for the benchmarks.
 *
 * Formats and their records, sized the way exporters fill a 1500-byte MTU:
 *
 *   v5     NetFlow v5, 48-byte records, at most 30 per datagram (RFC-less
 *          Cisco format; 30 is the protocol's limit)
 *   v9     NetFlow v9 (RFC 3954), one IPv4 template of 18 fields, 45-byte
 *          records; 30 per datagram fills 1,374 bytes
 *   ipfix  IPFIX (RFC 7011), the same 18 information elements with 64-bit
 *          counters and millisecond timestamps, 70-byte records; 20 per
 *          message fills 1,420 bytes
 *   sflow  sFlow v5 flow samples, each with a 128-byte sampled header
 *          (Ethernet, IPv4, TCP or UDP) and an extended switch record,
 *          216 bytes; 6 per datagram fills 1,324 bytes
 *
 * Exporter i (0-based) sends from 127.1.0.0 + 1 + i, port 40000, so the
 * capture can be replayed from loopback source addresses (send.c).  Each
 * NetFlow v9 or IPFIX exporter announces --templates templates (ids 256
 * and up, same layout) before its first data, then again after every
 * --template-interval of its data datagrams; its data datagrams use its
 * templates in turn.  Datagrams go to the exporters in turn.
 *
 * Flow contents come from a seeded generator.  Sources are in 10.0.0.0/16
 * and destinations in 172.16.0.0/14, and half of each come from 256 hot
 * hosts, so that top-N lists have a head.  Flows are 80% TCP, 18% UDP and
 * 2% ICMP, and 65% go to destination port 443, 80 or 53.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define GEN_MAX_DATAGRAM 1472  /* 1500-byte MTU minus IPv4 and UDP headers */
#define GEN_FRAME_HEADERS (14 + 20 + 8)
#define GEN_MAX_EXPORTERS 100000u
#define GEN_MAX_TEMPLATES 60000u    /* ids 256..65535 per exporter */
#define GEN_EXPORTER_PORT 40000
#define GEN_SFLOW_HEADER_BYTES 128
#define GEN_SFLOW_SAMPLING_RATE 1000
#define GEN_START_UNIX_S 1700000000u
/* Interfaces of an exporter: flows come in on ifIndex 1 to GEN_MAX_IF. */
#define GEN_MAX_IF 48
/* The exporter's uptime at GEN_START_UNIX_S: it booted an hour before the first datagram. */
#define GEN_UPTIME_AT_START_MS 3600000u
/* Export time, in Unix seconds, of a datagram sent at uptime_ms. */
#define GEN_UNIX_S(uptime_ms) (GEN_START_UNIX_S + ((uptime_ms) - GEN_UPTIME_AT_START_MS) / 1000)

enum gen_format { GEN_V5, GEN_V9, GEN_IPFIX, GEN_SFLOW };

struct gen_options {
	enum gen_format format;
	uint64_t records_per_packet;
	uint64_t flows;
	uint64_t exporters;
	uint64_t templates;
	uint64_t template_interval;
	uint64_t seed;
	int unique_keys;
	const char *out;
};

struct gen_flow {
	uint32_t src, dst, next_hop;
	uint16_t src_port, dst_port, in_if, out_if;
	uint8_t proto, tcp_flags, tos, src_mask, dst_mask;
	uint32_t src_as, dst_as;
	uint32_t bytes, packets;
	uint32_t first_ms, last_ms;   /* system uptime at first and last packet */
};

struct gen_exporter {
	uint32_t sequence;          /* v9: datagrams; IPFIX: data records; sFlow: datagrams */
	uint32_t flow_sequence;     /* v5: flows */
	/* sFlow: flow samples of each data source (ifIndex), which sFlow v5 numbers apart */
	uint32_t sample_sequence[GEN_MAX_IF + 1];
	uint64_t data_datagrams;
	uint32_t next_template;
};

/* A big-endian writer over one datagram buffer.  Writes past cap are counted in len but dropped. */
struct gen_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

struct gen {
	struct gen_options opt;
	uint64_t rng;
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	uint8_t frame[GEN_FRAME_HEADERS + GEN_MAX_DATAGRAM];
	struct gen_exporter *exporters;
	uint64_t datagrams;
	uint64_t flows_written;
	uint64_t flows_made;
	uint32_t uptime_ms;
};

static uint64_t
gen_rand(struct gen *g)
{
	/* xorshift64* */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545F4914F6CDD1Dull;
}

static uint32_t
gen_below(struct gen *g, uint32_t n)
{
	return (uint32_t)((gen_rand(g) >> 32) % n);
}

static void
put8(struct gen_buf *b, uint8_t v)
{
	if (b->len + 1 <= b->cap)
		b->p[b->len] = v;
	b->len += 1;
}

static void
put16(struct gen_buf *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}

static void
put32(struct gen_buf *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static void
put64(struct gen_buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

static void
set16(struct gen_buf *b, size_t at, uint16_t v)
{
	b->p[at] = (uint8_t)(v >> 8);
	b->p[at + 1] = (uint8_t)v;
}

static void
gen_make_flow(struct gen *g, struct gen_flow *f)
{
	uint32_t r = gen_below(g, 100);

	memset(f, 0, sizeof(*f));
	f->src = gen_below(g, 2) ? 0x0a000000u + gen_below(g, 256)
				 : 0x0a000000u + gen_below(g, 65536);
	f->dst = gen_below(g, 2) ? 0xac100000u + gen_below(g, 256)
				 : 0xac100000u + gen_below(g, 262144);
	f->next_hop = 0xc0000201u + gen_below(g, 4);
	if (r < 80)
		f->proto = 6;
	else if (r < 98)
		f->proto = 17;
	else
		f->proto = 1;
	f->src_port = (uint16_t)(1024 + gen_below(g, 64512));
	r = gen_below(g, 100);
	if (r < 40)
		f->dst_port = 443;
	else if (r < 55)
		f->dst_port = 80;
	else if (r < 65)
		f->dst_port = 53;
	else
		f->dst_port = (uint16_t)(1024 + gen_below(g, 64512));
	if (f->proto == 1) {
		f->src_port = 0;
		f->dst_port = 0x0800; /* ICMP echo request, as v5 and v9 carry type and code */
	}
	f->tcp_flags = f->proto == 6 ? (uint8_t)(0x10 | gen_below(g, 0x20)) : 0;
	f->tos = gen_below(g, 10) == 0 ? 0xb8 : 0;
	f->in_if = (uint16_t)(1 + gen_below(g, GEN_MAX_IF));
	f->out_if = (uint16_t)(1 + gen_below(g, 48));
	f->src_as = 64512 + gen_below(g, 1000);
	f->dst_as = 64512 + gen_below(g, 1000);
	f->src_mask = 16;
	f->dst_mask = 24;
	f->packets = 1 + gen_below(g, 100);
	f->bytes = f->packets * (40 + gen_below(g, 1461));
	f->last_ms = g->uptime_ms - gen_below(g, 1000);
	f->first_ms = f->last_ms - gen_below(g, 60000);
	if (g->opt.unique_keys) {
		/* Source address and port from the flow's index: distinct for 4 * 10^9 flows. */
		if (f->proto == 1) {
			f->proto = 17;
			f->dst_port = 53;
		}
		f->src = 0x0a000000u + (uint32_t)(g->flows_made / 64512 % 65536);
		f->src_port = (uint16_t)(1024 + g->flows_made % 64512);
	}
	g->flows_made++;
}

static uint32_t
exporter_addr(uint64_t i)
{
	return 0x7f010000u + 1 + (uint32_t)i;
}

static uint16_t
ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Wraps the datagram in frame[GEN_FRAME_HEADERS..] in headers and writes it. */
static void
gen_write(struct gen *g, uint64_t exporter, size_t len)
{
	static const uint16_t ports[] = { 2055, 2055, 4739, 6343 };
	struct gen_buf h = { g->frame, 0, GEN_FRAME_HEADERS };
	struct pcap_pkthdr hdr;
	uint64_t usec = (uint64_t)g->datagrams * 100; /* 10,000 datagrams a second */

	if (len > GEN_MAX_DATAGRAM) {
		/* The option checks keep every datagram within the MTU. */
		fprintf(stderr, "flowsift-bench gen: datagram of %zu bytes exceeds %d\n",
			len, GEN_MAX_DATAGRAM);
		abort();
	}

	for (int i = 0; i < 5; i++)
		put8(&h, 0);
	put8(&h, 2);
	for (int i = 0; i < 5; i++)
		put8(&h, 0);
	put8(&h, 1);
	put16(&h, 0x0800);
	put8(&h, 0x45);
	put8(&h, 0);
	put16(&h, (uint16_t)(20 + 8 + len));
	put16(&h, (uint16_t)g->datagrams);
	put16(&h, 0x4000);
	put8(&h, 64);
	put8(&h, 17);
	put16(&h, 0);
	put32(&h, exporter_addr(exporter));
	put32(&h, 0x7f000001u);
	set16(&h, 14 + 10, ip_checksum(g->frame + 14, 20));
	put16(&h, GEN_EXPORTER_PORT);
	put16(&h, ports[g->opt.format]);
	put16(&h, (uint16_t)(8 + len));
	put16(&h, 0);

	hdr.ts.tv_sec = (time_t)(GEN_START_UNIX_S + usec / 1000000);
	hdr.ts.tv_usec = (suseconds_t)(usec % 1000000);
	hdr.caplen = hdr.len = (bpf_u_int32)(GEN_FRAME_HEADERS + len);
	pcap_dump((u_char *)g->dumper, &hdr, g->frame);
	g->datagrams++;
	g->uptime_ms = GEN_UPTIME_AT_START_MS + (uint32_t)(usec / 1000);
}

static struct gen_buf
gen_payload(struct gen *g)
{
	struct gen_buf b = { g->frame + GEN_FRAME_HEADERS, 0, GEN_MAX_DATAGRAM };

	return b;
}

static unsigned
gen_record_count(struct gen *g)
{
	uint64_t left = g->opt.flows - g->flows_written;

	return (unsigned)(left < g->opt.records_per_packet ? left : g->opt.records_per_packet);
}

/* ---- NetFlow v5 ---------------------------------------------------------- */

static void
gen_v5(struct gen *g, uint64_t e)
{
	struct gen_exporter *x = &g->exporters[e];
	struct gen_buf b = gen_payload(g);
	unsigned n = gen_record_count(g);
	struct gen_flow f;

	put16(&b, 5);
	put16(&b, (uint16_t)n);
	put32(&b, g->uptime_ms);
	put32(&b, GEN_UNIX_S(g->uptime_ms));
	put32(&b, (g->uptime_ms - GEN_UPTIME_AT_START_MS) % 1000 * 1000000u);
	put32(&b, x->flow_sequence);
	put8(&b, 0);
	put8(&b, 0);
	put16(&b, 0);
	for (unsigned i = 0; i < n; i++) {
		gen_make_flow(g, &f);
		put32(&b, f.src);
		put32(&b, f.dst);
		put32(&b, f.next_hop);
		put16(&b, f.in_if);
		put16(&b, f.out_if);
		put32(&b, f.packets);
		put32(&b, f.bytes);
		put32(&b, f.first_ms);
		put32(&b, f.last_ms);
		put16(&b, f.src_port);
		put16(&b, f.dst_port);
		put8(&b, 0);
		put8(&b, f.tcp_flags);
		put8(&b, f.proto);
		put8(&b, f.tos);
		put16(&b, (uint16_t)f.src_as);
		put16(&b, (uint16_t)f.dst_as);
		put8(&b, f.src_mask);
		put8(&b, f.dst_mask);
		put16(&b, 0);
	}
	x->flow_sequence += n;
	g->flows_written += n;
	gen_write(g, e, b.len);
}

/* ---- NetFlow v9 and IPFIX ------------------------------------------------ */

/* Field type and length of the template, for v9 and for IPFIX. */
struct gen_field {
	uint16_t type;
	uint16_t v9_len;
	uint16_t ipfix_type;
	uint16_t ipfix_len;
};

static const struct gen_field gen_fields[] = {
	{ 8, 4, 8, 4 },     /* source IPv4 address */
	{ 12, 4, 12, 4 },   /* destination IPv4 address */
	{ 7, 2, 7, 2 },     /* source port */
	{ 11, 2, 11, 2 },   /* destination port */
	{ 4, 1, 4, 1 },     /* protocol */
	{ 6, 1, 6, 2 },     /* TCP flags */
	{ 5, 1, 5, 1 },     /* type of service */
	{ 1, 4, 1, 8 },     /* bytes (IN_BYTES, octetDeltaCount) */
	{ 2, 4, 2, 8 },     /* packets */
	{ 10, 2, 10, 4 },   /* input interface */
	{ 14, 2, 14, 4 },   /* output interface */
	{ 22, 4, 152, 8 },  /* FIRST_SWITCHED, flowStartMilliseconds */
	{ 21, 4, 153, 8 },  /* LAST_SWITCHED, flowEndMilliseconds */
	{ 15, 4, 15, 4 },   /* next hop */
	{ 16, 2, 16, 4 },   /* source AS */
	{ 17, 2, 17, 4 },   /* destination AS */
	{ 9, 1, 9, 1 },     /* source mask */
	{ 13, 1, 13, 1 },   /* destination mask */
};

#define GEN_NFIELDS (sizeof(gen_fields) / sizeof(gen_fields[0]))

static void
gen_put_record(struct gen *g, struct gen_buf *b, int ipfix)
{
	struct gen_flow f;
	uint64_t boot_ms = (uint64_t)GEN_START_UNIX_S * 1000 - GEN_UPTIME_AT_START_MS;

	gen_make_flow(g, &f);
	put32(b, f.src);
	put32(b, f.dst);
	put16(b, f.src_port);
	put16(b, f.dst_port);
	put8(b, f.proto);
	if (ipfix)
		put16(b, f.tcp_flags);
	else
		put8(b, f.tcp_flags);
	put8(b, f.tos);
	if (ipfix) {
		put64(b, f.bytes);
		put64(b, f.packets);
		put32(b, f.in_if);
		put32(b, f.out_if);
		put64(b, boot_ms + f.first_ms);
		put64(b, boot_ms + f.last_ms);
		put32(b, f.next_hop);
		put32(b, f.src_as);
		put32(b, f.dst_as);
	} else {
		put32(b, f.bytes);
		put32(b, f.packets);
		put16(b, f.in_if);
		put16(b, f.out_if);
		put32(b, f.first_ms);
		put32(b, f.last_ms);
		put32(b, f.next_hop);
		put16(b, (uint16_t)f.src_as);
		put16(b, (uint16_t)f.dst_as);
	}
	put8(b, f.src_mask);
	put8(b, f.dst_mask);
}

/* Writes the message header; the length or count is patched in by gen_finish_message(). */
static void
gen_start_message(struct gen *g, struct gen_buf *b, uint64_t e, int ipfix)
{
	struct gen_exporter *x = &g->exporters[e];

	if (ipfix) {
		put16(b, 10);
		put16(b, 0);
		put32(b, GEN_UNIX_S(g->uptime_ms));
		put32(b, x->sequence);
		put32(b, 1);
	} else {
		put16(b, 9);
		put16(b, 0);
		put32(b, g->uptime_ms);
		put32(b, GEN_UNIX_S(g->uptime_ms));
		put32(b, x->sequence++);
		put32(b, 1);
	}
}

static void
gen_finish_message(struct gen *g, struct gen_buf *b, uint64_t e, int ipfix, unsigned records)
{
	set16(b, 2, ipfix ? (uint16_t)b->len : (uint16_t)records);
	gen_write(g, e, b->len);
}

/* Sends every template of exporter e, as many per datagram as fit. */
static void
gen_templates(struct gen *g, uint64_t e, int ipfix)
{
	size_t tlen = 4 + 4 * GEN_NFIELDS;
	size_t header = ipfix ? 16 : 20;
	uint64_t per_datagram = (GEN_MAX_DATAGRAM - header - 4) / tlen;
	uint64_t id = 0;

	while (id < g->opt.templates) {
		struct gen_buf b = gen_payload(g);
		uint64_t n = g->opt.templates - id < per_datagram ? g->opt.templates - id : per_datagram;
		size_t set_start;

		gen_start_message(g, &b, e, ipfix);
		set_start = b.len;
		put16(&b, ipfix ? 2 : 0);
		put16(&b, 0);
		for (uint64_t i = 0; i < n; i++, id++) {
			put16(&b, (uint16_t)(256 + id));
			put16(&b, (uint16_t)GEN_NFIELDS);
			for (size_t k = 0; k < GEN_NFIELDS; k++) {
				put16(&b, ipfix ? gen_fields[k].ipfix_type : gen_fields[k].type);
				put16(&b, ipfix ? gen_fields[k].ipfix_len : gen_fields[k].v9_len);
			}
		}
		set16(&b, set_start + 2, (uint16_t)(b.len - set_start));
		gen_finish_message(g, &b, e, ipfix, (unsigned)n);
	}
}

static void
gen_template_data(struct gen *g, uint64_t e, int ipfix)
{
	struct gen_exporter *x = &g->exporters[e];
	struct gen_buf b = gen_payload(g);
	unsigned n = gen_record_count(g);
	size_t set_start;

	if (x->data_datagrams == 0 ||
	    (g->opt.template_interval && x->data_datagrams % g->opt.template_interval == 0))
		gen_templates(g, e, ipfix);
	gen_start_message(g, &b, e, ipfix);
	set_start = b.len;
	put16(&b, (uint16_t)(256 + x->next_template));
	put16(&b, 0);
	for (unsigned i = 0; i < n; i++)
		gen_put_record(g, &b, ipfix);
	while ((b.len - set_start) % 4)
		put8(&b, 0);
	set16(&b, set_start + 2, (uint16_t)(b.len - set_start));
	x->next_template = (uint32_t)((x->next_template + 1) % g->opt.templates);
	x->data_datagrams++;
	if (ipfix)
		x->sequence += n;
	g->flows_written += n;
	gen_finish_message(g, &b, e, ipfix, n);
}

/* ---- sFlow v5 ------------------------------------------------------------ */

static void
gen_sampled_header(struct gen_buf *b, const struct gen_flow *f)
{
	size_t start = b->len;
	uint16_t ip_len = (uint16_t)(f->bytes / f->packets);

	put16(b, 0x0200);            /* destination MAC 02:00:00:00:00:02 */
	put32(b, 0x00000002);
	put16(b, 0x0200);            /* source MAC 02:00:00:00:00:01 */
	put32(b, 0x00000001);
	put16(b, 0x0800);
	put8(b, 0x45);
	put8(b, f->tos);
	put16(b, ip_len);
	put16(b, 0);
	put16(b, 0x4000);
	put8(b, 64);
	put8(b, f->proto);
	put16(b, 0);
	put32(b, f->src);
	put32(b, f->dst);
	if (f->proto == 6) {
		put16(b, f->src_port);
		put16(b, f->dst_port);
		put32(b, 1);
		put32(b, 1);
		put16(b, (uint16_t)(0x5000 | f->tcp_flags));
		put16(b, 65535);
		put32(b, 0);
	} else if (f->proto == 17) {
		put16(b, f->src_port);
		put16(b, f->dst_port);
		put16(b, (uint16_t)(ip_len - 20));
		put16(b, 0);
	} else {
		put16(b, 0x0800);
		put16(b, 0);
		put32(b, 0);
	}
	while (b->len - start < GEN_SFLOW_HEADER_BYTES)
		put8(b, 0);
}

static void
gen_sflow(struct gen *g, uint64_t e)
{
	struct gen_exporter *x = &g->exporters[e];
	struct gen_buf b = gen_payload(g);
	unsigned n = gen_record_count(g);
	struct gen_flow f;

	put32(&b, 5);
	put32(&b, 1);                      /* agent address type IPv4 */
	put32(&b, exporter_addr(e));
	put32(&b, 0);                      /* sub-agent id */
	put32(&b, x->sequence++);
	put32(&b, g->uptime_ms);
	put32(&b, n);
	for (unsigned i = 0; i < n; i++) {
		size_t sample_start;

		gen_make_flow(g, &f);
		put32(&b, 1);              /* enterprise 0, format 1: flow sample */
		put32(&b, 0);
		sample_start = b.len;
		put32(&b, ++x->sample_sequence[f.in_if]);
		put32(&b, f.in_if);        /* source id class 0, ifIndex */
		put32(&b, GEN_SFLOW_SAMPLING_RATE);
		put32(&b, x->sample_sequence[f.in_if] * GEN_SFLOW_SAMPLING_RATE);
		put32(&b, 0);              /* drops */
		put32(&b, f.in_if);
		put32(&b, f.out_if);
		put32(&b, 2);              /* records */
		put32(&b, 1);              /* raw packet header */
		put32(&b, 16 + GEN_SFLOW_HEADER_BYTES);
		put32(&b, 1);              /* header protocol Ethernet */
		put32(&b, 14u + f.bytes / f.packets + 4);
		put32(&b, 4);              /* FCS stripped */
		put32(&b, GEN_SFLOW_HEADER_BYTES);
		gen_sampled_header(&b, &f);
		put32(&b, 1001);           /* extended switch */
		put32(&b, 16);
		put32(&b, 10);
		put32(&b, 0);
		put32(&b, 10);
		put32(&b, 0);
		b.p[sample_start - 4] = (uint8_t)((b.len - sample_start) >> 24);
		b.p[sample_start - 3] = (uint8_t)((b.len - sample_start) >> 16);
		set16(&b, sample_start - 2, (uint16_t)(b.len - sample_start));
	}
	g->flows_written += n;
	gen_write(g, e, b.len);
}

/* ---- command ------------------------------------------------------------- */

static void
gen_usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-bench gen --format v5|v9|ipfix|sflow --out FILE [options]\n"
		"\n"
		"Writes a pcap capture of generated export datagrams.  Exporter i sends from\n"
		"127.1.0.0 + 1 + i, port 40000, so `flowsift-bench send` can replay it on loopback.\n"
		"\n"
		"options (k, m and g multiply by 1000, 10^6 and 10^9):\n"
		"  --records-per-packet N  flow records or sFlow samples per datagram\n"
		"                          (default: v5 30, v9 30, ipfix 20, sflow 6)\n"
		"  --flows N               records in all (default 100k)\n"
		"  --exporters N           exporters, 1 to %u; datagrams go to each in turn (default 1)\n"
		"  --templates N           v9 and IPFIX templates per exporter, 1 to %u (default 1)\n"
		"  --template-interval N   data datagrams between template resends (default 100, 0: only at start)\n"
		"  --seed N                seed of the flow contents (default 1)\n"
		"  --unique-keys           source address and port from the flow's index, and UDP in\n"
		"                          place of ICMP, so no two flows of the capture share a 5-tuple\n",
		GEN_MAX_EXPORTERS, GEN_MAX_TEMPLATES);
}

static int
gen_parse(int argc, char **argv, struct gen_options *o)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "records-per-packet", required_argument, NULL, 'r' },
		{ "flows", required_argument, NULL, 'n' },
		{ "exporters", required_argument, NULL, 'e' },
		{ "templates", required_argument, NULL, 't' },
		{ "template-interval", required_argument, NULL, 'i' },
		{ "seed", required_argument, NULL, 's' },
		{ "unique-keys", no_argument, NULL, 'u' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint64_t max_records[] = { 30, 31, 20, 6 };
	static const char *const names[] = { "v5", "v9", "ipfix", "sflow" };
	const char *format = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->flows = 100000;
	o->exporters = 1;
	o->templates = 1;
	o->template_interval = 100;
	o->seed = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 'f': format = optarg; break;
		case 'r': rc = bench_parse_count("--records-per-packet", optarg, 1000, &o->records_per_packet); break;
		case 'n': rc = bench_parse_count("--flows", optarg, UINT64_C(1) << 40, &o->flows); break;
		case 'e': rc = bench_parse_count("--exporters", optarg, GEN_MAX_EXPORTERS, &o->exporters); break;
		case 't': rc = bench_parse_count("--templates", optarg, GEN_MAX_TEMPLATES, &o->templates); break;
		case 'i': rc = bench_parse_count("--template-interval", optarg, UINT32_MAX, &o->template_interval); break;
		case 's': rc = bench_parse_count("--seed", optarg, UINT64_MAX, &o->seed); break;
		case 'u': o->unique_keys = 1; break;
		case 'o': o->out = optarg; break;
		case 'h': gen_usage(stdout); exit(0);
		default: gen_usage(stderr); return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (!format || !o->out || optind != argc) {
		fprintf(stderr, "flowsift-bench gen: --format and --out are required, and nothing else\n");
		gen_usage(stderr);
		return -1;
	}
	for (o->format = GEN_V5; o->format <= GEN_SFLOW; o->format++)
		if (strcmp(format, names[o->format]) == 0)
			break;
	if (o->format > GEN_SFLOW) {
		fprintf(stderr, "flowsift-bench gen: unknown --format '%s'; use v5, v9, ipfix or sflow\n", format);
		return -1;
	}
	if (o->records_per_packet == 0)
		o->records_per_packet = o->format == GEN_SFLOW ? 6 : o->format == GEN_IPFIX ? 20 : 30;
	if (o->records_per_packet > max_records[o->format]) {
		fprintf(stderr, "flowsift-bench gen: --records-per-packet %" PRIu64 " does not fit one "
			"1500-byte datagram of %s; use at most %" PRIu64 "\n",
			o->records_per_packet, names[o->format], max_records[o->format]);
		return -1;
	}
	if (o->exporters == 0 || o->templates == 0 || o->flows == 0) {
		fprintf(stderr, "flowsift-bench gen: --flows, --exporters and --templates must be at least 1\n");
		return -1;
	}
	if (o->seed == 0)
		o->seed = 1;  /* xorshift stays at zero from zero */
	return 0;
}

int
bench_gen_main(int argc, char **argv)
{
	struct gen g;
	uint64_t e = 0;
	int rc = 1;

	memset(&g, 0, sizeof(g));
	if (gen_parse(argc, argv, &g.opt) < 0)
		return 2;
	g.rng = g.opt.seed;
	g.uptime_ms = GEN_UPTIME_AT_START_MS;
	g.exporters = calloc(g.opt.exporters, sizeof(*g.exporters));
	g.pcap = pcap_open_dead(DLT_EN10MB, 65535);
	if (!g.exporters || !g.pcap) {
		fprintf(stderr, "flowsift-bench gen: out of memory\n");
		goto out;
	}
	g.dumper = pcap_dump_open(g.pcap, g.opt.out);
	if (!g.dumper) {
		fprintf(stderr, "flowsift-bench gen: cannot write '%s': %s\n", g.opt.out,
			pcap_geterr(g.pcap));
		goto out;
	}
	while (g.flows_written < g.opt.flows) {
		switch (g.opt.format) {
		case GEN_V5: gen_v5(&g, e); break;
		case GEN_V9: gen_template_data(&g, e, 0); break;
		case GEN_IPFIX: gen_template_data(&g, e, 1); break;
		case GEN_SFLOW: gen_sflow(&g, e); break;
		}
		e = (e + 1) % g.opt.exporters;
	}
	if (pcap_dump_flush(g.dumper) != 0) {
		fprintf(stderr, "flowsift-bench gen: cannot write '%s'\n", g.opt.out);
		goto out;
	}
	printf("wrote %s: datagrams=%" PRIu64 " flows=%" PRIu64 " exporters=%" PRIu64
	       " templates_per_exporter=%" PRIu64 "\n", g.opt.out, g.datagrams,
	       g.flows_written, g.opt.exporters, g.opt.templates);
	rc = 0;
out:
	if (g.dumper)
		pcap_dump_close(g.dumper);
	if (g.pcap)
		pcap_close(g.pcap);
	free(g.exporters);
	return rc;
}
