/*
 * flowsift-gentraffic - writes a synthetic packet capture for demos and tests.
 *
 * The capture holds ordinary traffic (web, DNS, mail between a few dozen
 * hosts) plus one infected host that sends TCP SYNs to hundreds of distinct
 * addresses on port 445, as a worm spreading over SMB does.  Feed it to a
 * flow sensor such as softflowd to get real exported flows without a router.
 * Output is classic pcap, Ethernet link type, microsecond timestamps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/version.h"

#define ETH_LEN 14
#define IP_LEN 20
#define TCP_LEN 20
#define UDP_LEN 8

struct generator {
	pcap_dumper_t *dumper;
	uint64_t now_us;
	uint32_t rng;
	uint64_t packets;
};

static uint32_t
next_random(struct generator *gen)
{
	/* xorshift32: reproducible captures for the same seed. */
	gen->rng ^= gen->rng << 13;
	gen->rng ^= gen->rng >> 17;
	gen->rng ^= gen->rng << 5;
	return gen->rng;
}

static uint16_t
ip_checksum(const uint8_t *hdr, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(hdr[i] << 8 | hdr[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Writes one Ethernet/IPv4 packet of ip_total bytes (headers included). */
static void
emit(struct generator *gen, uint32_t src, uint32_t dst, uint8_t proto,
     uint16_t sport, uint16_t dport, uint8_t tcp_flags, uint16_t ip_total)
{
	uint8_t frame[ETH_LEN + 1500];
	struct pcap_pkthdr hdr;
	uint8_t *ip = frame + ETH_LEN;
	uint8_t *l4 = ip + IP_LEN;
	size_t l4_min = proto == 6 ? TCP_LEN : UDP_LEN;

	if (ip_total < IP_LEN + l4_min)
		ip_total = (uint16_t)(IP_LEN + l4_min);
	if (ip_total > 1500)
		ip_total = 1500;
	memset(frame, 0, sizeof(frame));
	memcpy(frame, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", ETH_LEN);
	ip[0] = 0x45;
	put16(ip + 2, ip_total);
	put16(ip + 4, (uint16_t)gen->packets);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, ip_checksum(ip, IP_LEN));
	put16(l4, sport);
	put16(l4 + 2, dport);
	if (proto == 6) {
		put32(l4 + 4, next_random(gen));
		l4[12] = 5 << 4;
		l4[13] = tcp_flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)(ip_total - IP_LEN));
	}
	hdr.ts.tv_sec = (time_t)(gen->now_us / 1000000);
	hdr.ts.tv_usec = (suseconds_t)(gen->now_us % 1000000);
	hdr.caplen = hdr.len = (bpf_u_int32)(ETH_LEN + ip_total);
	pcap_dump((u_char *)gen->dumper, &hdr, frame);
	gen->packets++;
	gen->now_us += 200 + next_random(gen) % 800;
}

/* A short TCP conversation: handshake, data both ways, FIN. */
static void
tcp_session(struct generator *gen, uint32_t client, uint32_t server,
	    uint16_t dport, int data_packets, uint16_t size)
{
	uint16_t sport = (uint16_t)(32768 + next_random(gen) % 28000);

	emit(gen, client, server, 6, sport, dport, 0x02, 60);
	emit(gen, server, client, 6, dport, sport, 0x12, 60);
	emit(gen, client, server, 6, sport, dport, 0x10, 52);
	for (int i = 0; i < data_packets; i++) {
		emit(gen, client, server, 6, sport, dport, 0x18, 120);
		emit(gen, server, client, 6, dport, sport, 0x18, size);
	}
	emit(gen, client, server, 6, sport, dport, 0x11, 52);
	emit(gen, server, client, 6, dport, sport, 0x11, 52);
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-gentraffic --out FILE.pcap [--scan-targets N] [--hosts N] [--seed N]\n"
		"       flowsift-gentraffic --help | --version\n"
		"\n"
		"Writes a synthetic capture: --hosts ordinary hosts (default 40) in 10.1.0.0/16\n"
		"talking to web, DNS and mail servers, plus host 10.1.66.6 sending TCP SYNs to\n"
		"--scan-targets distinct addresses (default 300) on port 445.\n");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "scan-targets", required_argument, NULL, 's' },
		{ "hosts", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct generator gen = { .rng = 2463534242u };
	const char *out = NULL;
	long scan_targets = 300, hosts = 40;
	const uint32_t web = 0xc6336401, dns = 0x08080808, mail = 0xc0000219; /* 198.51.100.1, 8.8.8.8, 192.0.2.25 */
	const uint32_t infected = 0x0a014206;                                /* 10.1.66.6 */
	pcap_t *dead;
	int opt;

	while ((opt = getopt_long(argc, argv, "o:s:n:r:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 's': scan_targets = strtol(optarg, NULL, 10); break;
		case 'n': hosts = strtol(optarg, NULL, 10); break;
		case 'r': gen.rng = (uint32_t)strtoul(optarg, NULL, 10) | 1; break;
		case 'V': printf("flowsift-gentraffic %s\n", FS_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!out || scan_targets < 0 || scan_targets > 60000 || hosts < 1 || hosts > 60000) {
		usage(stderr);
		return 2;
	}
	gen.now_us = (uint64_t)time(NULL) * 1000000;
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	gen.dumper = pcap_dump_open(dead, out);
	if (!gen.dumper) {
		fprintf(stderr, "flowsift-gentraffic: cannot write '%s': %s\n", out, pcap_geterr(dead));
		pcap_close(dead);
		return 1;
	}
	for (long round = 0; round < 3; round++) {
		for (long h = 0; h < hosts; h++) {
			uint32_t client = 0x0a010000 + (uint32_t)(h / 250) * 256 + (uint32_t)(h % 250) + 10;

			emit(&gen, client, dns, 17, (uint16_t)(40000 + h), 53, 0, 70);
			emit(&gen, dns, client, 17, 53, (uint16_t)(40000 + h), 0, 180);
			tcp_session(&gen, client, web, 443, 2 + (int)(h % 7), (uint16_t)(400 + 25 * (h % 40)));
			if (h % 5 == 0)
				tcp_session(&gen, client, mail, 25, 3, 300);
		}
		for (long t = 0; t < scan_targets; t++) {
			uint32_t target = 0xac100000 + (uint32_t)(t * 7 % 65000) + 1; /* 172.16.0.0/16 */

			emit(&gen, infected, target, 6, (uint16_t)(50000 + t % 10000), 445, 0x02, 52);
		}
	}
	pcap_dump_close(gen.dumper);
	pcap_close(dead);
	fprintf(stderr, "flowsift-gentraffic: wrote %llu packets to %s\n",
		(unsigned long long)gen.packets, out);
	return 0;
}
