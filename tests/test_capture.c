/* test_capture.c - reading datagrams from pcap, pcapng and raw datagram files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "core/flow.h"
#include "core/result.h"
#include "decode/capture.h"
#include "support/corpus.h"
#include "support/wire.h"

#define MAX_SEEN 64
#define MAX_SEEN_BYTES 2048

/* Copies of the datagrams a read handed over, in order. */
struct seen {
	size_t count;
	struct fs_datagram dg[MAX_SEEN];
	uint8_t bytes[MAX_SEEN][MAX_SEEN_BYTES];
	size_t total_len;
	int stop_after; /* return 1 after this many datagrams; 0 never */
};

static int
collect(const struct fs_datagram *dg, void *opaque)
{
	struct seen *seen = opaque;
	size_t i = seen->count;

	assert_true(i < MAX_SEEN);
	seen->dg[i] = *dg;
	memcpy(seen->bytes[i], dg->data, dg->len < MAX_SEEN_BYTES ? dg->len : MAX_SEEN_BYTES);
	seen->dg[i].data = seen->bytes[i];
	seen->total_len += dg->len;
	seen->count++;
	if (seen->stop_after != 0 && (int)seen->count == seen->stop_after)
		return 1;
	return 0;
}

static char *
temp_path(const char *suffix)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	path = malloc(strlen(dir) + 64);
	assert_non_null(path);
	sprintf(path, "%s/test_capture_XXXXXX%s", dir, suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	close(fd);
	return path;
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Builders of test frames; each returns the bytes written at p. */

static size_t
put_ethernet(uint8_t *p, const uint16_t *tags, size_t ntags, uint16_t ethertype)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	size_t off = 12;

	memcpy(p, macs, 12);
	for (size_t i = 0; i < ntags; i++) {
		fs_test_put16(p + off, tags[i]);
		fs_test_put16(p + off + 2, (uint16_t)(100 + i)); /* VLAN id */
		off += 4;
	}
	fs_test_put16(p + off, ethertype);
	return off + 2;
}

/* IPv4 header with option_words 32-bit words of options (NOPs). */
static size_t
put_ipv4(uint8_t *p, const uint8_t src[4], uint8_t proto, size_t option_words,
	 uint16_t frag, size_t payload_len)
{
	size_t header_len = 20 + option_words * 4;

	memset(p, 0, header_len);
	p[0] = (uint8_t)(0x40 | (header_len / 4));
	fs_test_put16(p + 2, (uint16_t)(header_len + payload_len));
	fs_test_put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, "\xc6\x33\x64\x02", 4); /* 198.51.100.2 */
	memset(p + 20, 1, option_words * 4);
	return header_len;
}

static size_t
put_ipv6(uint8_t *p, const uint8_t src[16], uint8_t next, size_t payload_len)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	fs_test_put16(p + 4, (uint16_t)payload_len);
	p[6] = next;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, "\x20\x01\x0d\xb8", 4); /* 2001:db8::2 */
	p[39] = 2;
	return 40;
}

static size_t
put_udp(uint8_t *p, uint16_t sport, const char *payload, size_t payload_len)
{
	fs_test_put16(p, sport);
	fs_test_put16(p + 2, 2055);
	fs_test_put16(p + 4, (uint16_t)(8 + payload_len));
	fs_test_put16(p + 6, 0);
	memcpy(p + 8, payload, payload_len);
	return 8 + payload_len;
}

static const uint8_t exporter_v4[4] = { 192, 0, 2, 1 };
static const uint8_t exporter_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
static const char v4_payload[] = "first datagram over VLAN tags";
static const char v6_payload[] = "second datagram over IPv6";
static const char short_payload[] = "abcd";
#define BASE_SEC 1700000000

static void
dump(pcap_dumper_t *dumper, const uint8_t *frame, size_t caplen, size_t wirelen,
     long sec_offset, long nsec)
{
	struct pcap_pkthdr hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.ts.tv_sec = BASE_SEC + sec_offset;
	hdr.ts.tv_usec = nsec; /* nanoseconds: the dumper was opened with nano precision */
	hdr.caplen = (bpf_u_int32)caplen;
	hdr.len = (bpf_u_int32)wirelen;
	pcap_dump((u_char *)dumper, &hdr, frame);
}

/*
 * Writes an Ethernet capture of six packets.  They are a UDP datagram over
 * two VLAN tags and IPv4 options, one over IPv6 with a hop-by-hop header, a
 * TCP segment, a UDP datagram cut by the snap length, a non-first fragment,
 * and a short UDP datagram in a padded frame.
 */
static void
write_test_pcap(const char *path)
{
	static const uint16_t tags[2] = { 0x88a8, 0x8100 };
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
							    PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *dumper;
	uint8_t frame[600];
	size_t n, udp_len;

	assert_non_null(dead);
	dumper = pcap_dump_open(dead, path);
	assert_non_null(dumper);

	udp_len = 8 + strlen(v4_payload);
	n = put_ethernet(frame, tags, 2, 0x0800);
	n += put_ipv4(frame + n, exporter_v4, 17, 1, 0x4000, udp_len);
	n += put_udp(frame + n, 50000, v4_payload, strlen(v4_payload));
	dump(dumper, frame, n, n, 0, 123456789);

	udp_len = 8 + strlen(v6_payload);
	n = put_ethernet(frame, NULL, 0, 0x86dd);
	n += put_ipv6(frame + n, exporter_v6, 0, 8 + udp_len);
	memset(frame + n, 0, 8);
	frame[n] = 17; /* hop-by-hop: next header UDP, length 0 (8 bytes), PadN */
	frame[n + 2] = 1;
	frame[n + 3] = 4;
	n += 8;
	n += put_udp(frame + n, 4739, v6_payload, strlen(v6_payload));
	dump(dumper, frame, n, n, 1, 5);

	n = put_ethernet(frame, NULL, 0, 0x0800);
	n += put_ipv4(frame + n, exporter_v4, 6, 0, 0, 20);
	memset(frame + n, 0, 20);
	n += 20;
	dump(dumper, frame, n, n, 2, 0);

	memset(frame, 'z', sizeof(frame));
	n = put_ethernet(frame, NULL, 0, 0x0800);
	n += put_ipv4(frame + n, exporter_v4, 17, 0, 0, 8 + 200);
	fs_test_put16(frame + n, 9995);
	fs_test_put16(frame + n + 4, 8 + 200);
	dump(dumper, frame, n + 8 + 10, n + 8 + 200, 3, 0);

	n = put_ethernet(frame, NULL, 0, 0x0800);
	n += put_ipv4(frame + n, exporter_v4, 17, 0, 185, 40);
	memset(frame + n, 'f', 40);
	dump(dumper, frame, n + 40, n + 40, 4, 0);

	memset(frame, 0, sizeof(frame));
	n = put_ethernet(frame, NULL, 0, 0x0800);
	n += put_ipv4(frame + n, exporter_v4, 17, 0, 0, 8 + strlen(short_payload));
	n += put_udp(frame + n, 2056, short_payload, strlen(short_payload));
	assert_true(n < 60);
	dump(dumper, frame, 60, 60, 5, 999999999);

	pcap_dump_close(dumper);
	pcap_close(dead);
}

static void
assert_exporter(const struct fs_datagram *dg, const char *addr, uint16_t port)
{
	char text[FS_ADDR_STRLEN];

	assert_string_equal(fs_addr_format(&dg->exporter, text), addr);
	assert_int_equal(dg->exporter_port, port);
}

static void
assert_payload(const struct fs_datagram *dg, const char *payload)
{
	assert_int_equal(dg->len, strlen(payload));
	assert_memory_equal(dg->data, payload, dg->len);
}

static void
pcap_payloads_exporters_times(void **state)
{
	struct fs_capture_stats stats;
	struct seen *seen = calloc(1, sizeof(*seen));
	char *path = temp_path(".pcap");
	char err[256] = "";

	(void)state;
	assert_non_null(seen);
	write_test_pcap(path);
	memset(&stats, 0, sizeof(stats));
	assert_int_equal(fs_capture_read_file_stats(path, collect, seen, &stats,
						    err, sizeof(err)), 0);

	assert_int_equal(seen->count, 4);
	assert_payload(&seen->dg[0], v4_payload);
	assert_exporter(&seen->dg[0], "192.0.2.1", 50000);
	assert_int_equal(seen->dg[0].time_ns, BASE_SEC * 1000000000ll + 123456789);

	assert_payload(&seen->dg[1], v6_payload);
	assert_exporter(&seen->dg[1], "2001:db8::5", 4739);
	assert_int_equal(seen->dg[1].time_ns, (BASE_SEC + 1) * 1000000000ll + 5);

	/* Cut by the snap length: the 10 captured payload bytes are handed over. */
	assert_int_equal(seen->dg[2].len, 10);
	assert_memory_equal(seen->dg[2].data, "zzzzzzzzzz", 10);
	assert_exporter(&seen->dg[2], "192.0.2.1", 9995);

	/* The UDP length, not the padded frame, bounds the payload. */
	assert_payload(&seen->dg[3], short_payload);
	assert_exporter(&seen->dg[3], "192.0.2.1", 2056);
	assert_int_equal(seen->dg[3].time_ns, (BASE_SEC + 5) * 1000000000ll + 999999999);

	assert_int_equal(stats.files, 1);
	assert_int_equal(stats.packets, 6);
	assert_int_equal(stats.datagrams, 4);
	assert_int_equal(stats.skipped, 2);
	assert_int_equal(stats.truncated, 1);
	assert_int_equal(stats.invalid, 0);
	assert_int_equal(stats.read_errors, 0);

	unlink(path);
	free(path);
	free(seen);
}

static void
pcap_cut_mid_record_kept(void **state)
{
	struct fs_capture_stats stats;
	struct seen *seen = calloc(1, sizeof(*seen));
	char *path = temp_path(".pcap");
	char err[256] = "";
	struct stat st;

	(void)state;
	assert_non_null(seen);
	write_test_pcap(path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 30), 0);

	memset(&stats, 0, sizeof(stats));
	assert_int_equal(fs_capture_read_file_stats(path, collect, seen, &stats,
						    err, sizeof(err)), 0);
	assert_int_equal(seen->count, 3);
	assert_int_equal(stats.read_errors, 1);

	unlink(path);
	free(path);
	free(seen);
}

/* A little-endian pcapng file: section header, Ethernet interface, one enhanced packet. */
static void
pcapng_read(void **state)
{
	uint8_t file[256], frame[128];
	struct seen *seen = calloc(1, sizeof(*seen));
	char *path = temp_path(".pcapng");
	char err[256] = "";
	size_t n, off = 0, block;
	uint32_t word;
	uint64_t ts_us = (uint64_t)BASE_SEC * 1000000 + 250000;

	(void)state;
	assert_non_null(seen);
	n = put_ethernet(frame, NULL, 0, 0x0800);
	n += put_ipv4(frame + n, exporter_v4, 17, 0, 0, 8 + strlen(short_payload));
	n += put_udp(frame + n, 4739, short_payload, strlen(short_payload));

#define PUT32(v) (word = (uint32_t)(v), memcpy(file + off, &word, 4), off += 4)
	PUT32(0x0a0d0d0a); PUT32(28); PUT32(0x1a2b3c4d); PUT32(0x00000001);
	PUT32(0xffffffff); PUT32(0xffffffff); PUT32(28);
	PUT32(1); PUT32(20); PUT32(1); PUT32(65535); PUT32(20);
	block = 32 + ((n + 3) & ~(size_t)3);
	PUT32(6); PUT32(block); PUT32(0); PUT32(ts_us >> 32); PUT32(ts_us);
	PUT32(n); PUT32(n);
	memset(file + off, 0, (n + 3) & ~(size_t)3);
	memcpy(file + off, frame, n);
	off += (n + 3) & ~(size_t)3;
	PUT32(block);
#undef PUT32
	write_file(path, file, off);

	assert_int_equal(fs_capture_read_file(path, collect, seen, err, sizeof(err)), 0);
	assert_int_equal(seen->count, 1);
	assert_payload(&seen->dg[0], short_payload);
	assert_exporter(&seen->dg[0], "192.0.2.1", 4739);
	assert_int_equal(seen->dg[0].time_ns, BASE_SEC * 1000000000ll + 250000000);

	unlink(path);
	free(path);
	free(seen);
}

/* One IPv4 UDP packet of 4 payload bytes from 192.0.2.1:2055, at p. */
static size_t
put_ipv4_udp(uint8_t *p)
{
	size_t n = put_ipv4(p, exporter_v4, 17, 0, 0, 8 + strlen(short_payload));

	return n + put_udp(p + n, 2055, short_payload, strlen(short_payload));
}

static void
frame_link_types(void **state)
{
	uint8_t frame[256];
	struct fs_datagram dg;
	size_t n;

	(void)state;
	/* Linux cooked capture v1: protocol at offset 14. */
	memset(frame, 0, sizeof(frame));
	fs_test_put16(frame + 14, 0x0800);
	n = 16 + put_ipv4_udp(frame + 16);
	assert_int_equal(fs_capture_parse_frame(DLT_LINUX_SLL, frame, n, &dg), 0);
	assert_payload(&dg, short_payload);

	/* Linux cooked capture v2: protocol first, 20-byte header. */
	memset(frame, 0, sizeof(frame));
	fs_test_put16(frame, 0x0800);
	n = 20 + put_ipv4_udp(frame + 20);
	assert_int_equal(fs_capture_parse_frame(DLT_LINUX_SLL2, frame, n, &dg), 0);
	assert_payload(&dg, short_payload);
	assert_exporter(&dg, "192.0.2.1", 2055);

	/* Raw IP, version from the first nibble. */
	n = put_ipv4_udp(frame);
	assert_int_equal(fs_capture_parse_frame(DLT_RAW, frame, n, &dg), 0);
	assert_payload(&dg, short_payload);
	assert_int_equal(fs_capture_parse_frame(DLT_IPV4, frame, n, &dg), 0);
	n = put_ipv6(frame, exporter_v6, 17, 8 + strlen(short_payload));
	n += put_udp(frame + n, 9996, short_payload, strlen(short_payload));
	assert_int_equal(fs_capture_parse_frame(DLT_RAW, frame, n, &dg), 0);
	assert_exporter(&dg, "2001:db8::5", 9996);
	assert_int_equal(fs_capture_parse_frame(DLT_IPV6, frame, n, &dg), 0);
	assert_payload(&dg, short_payload);

	/* BSD loopback: family in either byte order; LOOP is network order. */
	memset(frame, 0, 4);
	frame[0] = 2; /* AF_INET, little-endian capture */
	n = 4 + put_ipv4_udp(frame + 4);
	assert_int_equal(fs_capture_parse_frame(DLT_NULL, frame, n, &dg), 0);
	assert_payload(&dg, short_payload);
	memset(frame, 0, 4);
	frame[3] = 30; /* AF_INET6 of macOS, network order */
	n = put_ipv6(frame + 4, exporter_v6, 17, 8 + strlen(short_payload)) + 4;
	n += put_udp(frame + n, 9996, short_payload, strlen(short_payload));
	assert_int_equal(fs_capture_parse_frame(DLT_LOOP, frame, n, &dg), 0);
	assert_exporter(&dg, "2001:db8::5", 9996);
	frame[3] = 99;
	assert_int_equal(fs_capture_parse_frame(DLT_LOOP, frame, n, &dg),
			 FS_ERR_UNSUPPORTED);

	assert_int_equal(fs_capture_parse_frame(DLT_IEEE802_11, frame, n, &dg),
			 FS_ERR_UNSUPPORTED);
}

static void
frame_faults_classified(void **state)
{
	static const uint16_t nine_tags[9] = { 0x8100, 0x8100, 0x8100, 0x8100, 0x8100,
					       0x8100, 0x8100, 0x8100, 0x8100 };
	uint8_t frame[256];
	struct fs_datagram dg;
	size_t n, ip;

	(void)state;
	/* Headers cut before the UDP header: nothing to hand over. */
	n = put_ethernet(frame, NULL, 0, 0x0800);
	ip = n;
	n += put_ipv4_udp(frame + n);
	assert_int_equal(fs_capture_parse_frame(DLT_EN10MB, frame, ip + 24, &dg),
			 FS_ERR_TRUNCATED);
	assert_null(dg.data);
	assert_int_equal(fs_capture_parse_frame(DLT_EN10MB, frame, 13, &dg),
			 FS_ERR_TRUNCATED);

	/* UDP length below its own header. */
	fs_test_put16(frame + ip + 20 + 4, 7);
	assert_int_equal(fs_capture_parse_frame(DLT_EN10MB, frame, n, &dg),
			 FS_ERR_INVALID);

	/* IPv4 header length below 20 bytes. */
	put_ipv4_udp(frame + ip);
	frame[ip] = 0x44;
	assert_int_equal(fs_capture_parse_frame(DLT_EN10MB, frame, n, &dg),
			 FS_ERR_INVALID);

	/* More VLAN tags than the reader walks. */
	n = put_ethernet(frame, nine_tags, 9, 0x0800);
	n += put_ipv4_udp(frame + n);
	assert_int_equal(fs_capture_parse_frame(DLT_EN10MB, frame, n, &dg),
			 FS_ERR_UNSUPPORTED);
	n = put_ethernet(frame, nine_tags, 8, 0x0800);
	n += put_ipv4_udp(frame + n);
	assert_int_equal(fs_capture_parse_frame(DLT_EN10MB, frame, n, &dg), 0);
	assert_payload(&dg, short_payload);

	/* IPv6 non-first fragment and IPv6 ESP are not UDP datagrams. */
	n = put_ipv6(frame, exporter_v6, 44, 16);
	memset(frame + n, 0, 16);
	frame[n] = 17;
	fs_test_put16(frame + n + 2, 0x0008);
	assert_int_equal(fs_capture_parse_frame(DLT_IPV6, frame, n + 16, &dg),
			 FS_ERR_UNSUPPORTED);
	frame[6] = 50;
	assert_int_equal(fs_capture_parse_frame(DLT_IPV6, frame, n + 16, &dg),
			 FS_ERR_UNSUPPORTED);
}

static void
put_v9_header(uint8_t *p, uint16_t count)
{
	memset(p, 0, 20);
	fs_test_put16(p, 9);
	fs_test_put16(p + 2, count);
	p[19] = 1; /* source id */
}

static void
put_set(uint8_t *p, uint16_t id, uint16_t len)
{
	memset(p, 0xee, len);
	fs_test_put16(p, id);
	fs_test_put16(p + 2, len);
}

static void
split_v9_messages(void **state)
{
	uint8_t buf[256];
	struct seen *seen = calloc(1, sizeof(*seen));
	size_t n;

	(void)state;
	assert_non_null(seen);

	/* Two v9 messages back to back: the second version ends the first. */
	put_v9_header(buf, 2);
	put_set(buf + 20, 0, 12);
	put_set(buf + 32, 256, 8);
	put_v9_header(buf + 40, 1);
	put_set(buf + 60, 256, 8);
	n = 68;
	/* Then an IPFIX message. */
	memset(buf + n, 0, 16);
	fs_test_put16(buf + n, 10);
	fs_test_put16(buf + n + 2, 16);
	n += 16;
	assert_int_equal(fs_capture_split_raw(buf, n, 42, collect, seen), 0);
	assert_int_equal(seen->count, 3);
	assert_int_equal(seen->dg[0].len, 40);
	assert_int_equal(seen->dg[1].len, 28);
	assert_int_equal(seen->dg[2].len, 16);
	assert_exporter(&seen->dg[0], "0.0.0.0", 0);
	assert_int_equal(seen->dg[0].time_ns, 42);

	/* Zero padding after a flowset stays in the message. */
	memset(seen, 0, sizeof(*seen));
	put_v9_header(buf, 1);
	put_set(buf + 20, 256, 8);
	memset(buf + 28, 0, 40);
	assert_int_equal(fs_capture_split_raw(buf, 68, 0, collect, seen), 0);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->dg[0].len, 68);

	/* A flowset length past the end: the rest is one message. */
	memset(seen, 0, sizeof(*seen));
	put_set(buf + 20, 256, 200);
	assert_int_equal(fs_capture_split_raw(buf, 68, 0, collect, seen), 0);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->dg[0].len, 68);

	/* A reserved set id that is no plausible header ends the walk. */
	memset(seen, 0, sizeof(*seen));
	put_set(buf + 20, 256, 8);
	put_set(buf + 28, 9, 8); /* "version 9" with only 8 bytes left */
	assert_int_equal(fs_capture_split_raw(buf, 36, 0, collect, seen), 0);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->dg[0].len, 36);
	free(seen);
}

/*
 * telegraf issue 14370: an IPFIX message length 2 bytes short.  The 2 bytes
 * stay with their message, and the next message is split off as usual;
 * fewer than 16 bytes at the end of the file stay with the last message.
 */
static void
split_ipfix_short_length_keeps_tail(void **state)
{
	uint8_t buf[128];
	struct seen *seen = calloc(1, sizeof(*seen));

	(void)state;
	assert_non_null(seen);
	memset(buf, 0, sizeof(buf));
	fs_test_put16(buf, 10);
	fs_test_put16(buf + 2, 30);      /* 32 bytes belong to the message */
	fs_test_put16(buf + 32, 10);
	fs_test_put16(buf + 34, 20);     /* the next message, then 3 stray bytes */
	assert_int_equal(fs_capture_split_raw(buf, 55, 0, collect, seen), 0);
	assert_int_equal(seen->count, 2);
	assert_int_equal(seen->dg[0].len, 32);
	assert_int_equal(seen->dg[1].len, 23);
	free(seen);
}

static void
split_faults_rest_last(void **state)
{
	uint8_t buf[256];
	struct seen *seen = calloc(1, sizeof(*seen));

	(void)state;
	assert_non_null(seen);
	memset(buf, 0, sizeof(buf));

	/* A v5 count that overruns the buffer: the rest is the last datagram. */
	fs_test_put16(buf, 5);
	fs_test_put16(buf + 2, 2);
	assert_int_equal(fs_capture_split_raw(buf, 50, 0, collect, seen), 0);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->dg[0].len, 50);

	/* Bytes after an IPFIX message that are no message stay with it. */
	memset(seen, 0, sizeof(*seen));
	fs_test_put16(buf, 10);
	fs_test_put16(buf + 2, 16);
	fs_test_put16(buf + 16, 99);
	assert_int_equal(fs_capture_split_raw(buf, 100, 0, collect, seen), 0);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->dg[0].len, 100);
	memset(buf + 16, 0, 84);

	/* An IPFIX length below its header cannot be walked past. */
	memset(seen, 0, sizeof(*seen));
	fs_test_put16(buf + 2, 0);
	assert_int_equal(fs_capture_split_raw(buf, 100, 0, collect, seen), 0);
	assert_int_equal(seen->count, 1);
	assert_int_equal(seen->dg[0].len, 100);

	/* v1 and v7 sizes, then one trailing byte as a datagram of its own. */
	memset(seen, 0, sizeof(*seen));
	memset(buf, 0, sizeof(buf));
	fs_test_put16(buf, 1);
	fs_test_put16(buf + 2, 1);
	fs_test_put16(buf + 64, 7);
	fs_test_put16(buf + 66, 1);
	assert_int_equal(fs_capture_split_raw(buf, 64 + 76 + 1, 0, collect, seen), 0);
	assert_int_equal(seen->count, 3);
	assert_int_equal(seen->dg[0].len, 64);
	assert_int_equal(seen->dg[1].len, 76);
	assert_int_equal(seen->dg[2].len, 1);

	/* The callback's nonzero return stops the split and is returned. */
	memset(seen, 0, sizeof(*seen));
	seen->stop_after = 2;
	assert_int_equal(fs_capture_split_raw(buf, 64 + 76 + 1, 0, collect, seen), 1);
	assert_int_equal(seen->count, 2);

	memset(seen, 0, sizeof(*seen));
	assert_int_equal(fs_capture_split_raw(buf, 0, 0, collect, seen), 0);
	assert_int_equal(seen->count, 0);
	free(seen);
}

/* Reads a corpus file, or skips the test when the corpus is absent. */
static void
read_corpus_file(const char *rel, struct seen *seen, long *file_size)
{
	char path[1024], err[256] = "";
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", fs_test_corpus_dir(), rel);
	if (stat(path, &st) != 0) {
		print_message("corpus file %s not found (set FLOWSIFT_CORPUS); skipping\n", path);
		skip();
	}
	*file_size = (long)st.st_size;
	assert_int_equal(fs_capture_read_file(path, collect, seen, err, sizeof(err)), 0);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
raw_v5_file_twelve(void **state)
{
	struct seen *seen = calloc(1, sizeof(*seen));
	int64_t before = (int64_t)time(NULL) * 1000000000;
	long size;

	(void)state;
	assert_non_null(seen);
	read_corpus_file("netflow-v5/logstash-codec-netflow/netflow5.dat", seen, &size);
	assert_int_equal(seen->count, 12);
	for (size_t i = 0; i < seen->count; i++) {
		const struct fs_datagram *dg = &seen->dg[i];

		assert_true(dg->len >= 24);
		assert_int_equal(get16(dg->data), 5);
		assert_int_equal(dg->len, 24 + get16(dg->data + 2) * 48u);
		assert_exporter(dg, "0.0.0.0", 0);
		assert_true(dg->time_ns >= before);
	}
	assert_int_equal(seen->total_len, (size_t)size);
	free(seen);
}

static void
raw_ipfix_file_three(void **state)
{
	struct seen *seen = calloc(1, sizeof(*seen));
	long size;

	(void)state;
	assert_non_null(seen);
	read_corpus_file("ipfix/logstash-codec-netflow/ipfix.dat", seen, &size);
	assert_int_equal(seen->count, 3);
	assert_int_equal(seen->dg[0].len, 484);
	assert_int_equal(seen->dg[1].len, 64);
	assert_int_equal(seen->dg[2].len, 240);
	for (size_t i = 0; i < seen->count; i++)
		assert_int_equal(get16(seen->dg[i].data), 10);
	assert_int_equal(seen->total_len, (size_t)size);
	free(seen);
}

static void
unreadable_file_named(void **state)
{
	struct seen *seen = calloc(1, sizeof(*seen));
	char *path = temp_path(".pcap");
	char err[512] = "";
	int rc;

	(void)state;
	assert_non_null(seen);

	rc = fs_capture_read_file("/nonexistent/flows.pcap", collect, seen, err, sizeof(err));
	assert_true(rc < 0);
	assert_non_null(strstr(err, "'/nonexistent/flows.pcap'"));
	assert_non_null(strstr(err, "No such file"));

	err[0] = '\0';
	rc = fs_capture_read_file("/", collect, seen, err, sizeof(err));
	assert_true(rc < 0);
	assert_non_null(strstr(err, "'/'"));

	/* A pcap magic followed by a damaged file header. */
	write_file(path, "\xd4\xc3\xb2\xa1\x02\x00", 6);
	err[0] = '\0';
	rc = fs_capture_read_file(path, collect, seen, err, sizeof(err));
	assert_true(rc < 0);
	assert_non_null(strstr(err, path));
	assert_int_equal(seen->count, 0);

	unlink(path);
	free(path);
	free(seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcap_payloads_exporters_times),
		cmocka_unit_test(pcap_cut_mid_record_kept),
		cmocka_unit_test(pcapng_read),
		cmocka_unit_test(frame_link_types),
		cmocka_unit_test(frame_faults_classified),
		cmocka_unit_test(split_v9_messages),
		cmocka_unit_test(split_faults_rest_last),
		cmocka_unit_test(split_ipfix_short_length_keeps_tail),
		cmocka_unit_test(raw_v5_file_twelve),
		cmocka_unit_test(raw_ipfix_file_three),
		cmocka_unit_test(unreadable_file_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
