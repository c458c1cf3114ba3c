/*
 * capture.c - reads export datagrams from pcap, pcapng and raw datagram files.
 *
 * Framing handled down to UDP (all fields big-endian unless noted):
 *   Ethernet   dst(6) src(6) type(2), then 0..8 tags 0x8100/0x88a8/0x9100
 *              of tci(2) type(2)
 *   Linux SLL  packet type(2) arphrd(2) addr len(2) addr(8) protocol(2)
 *   Linux SLL2 protocol(2) reserved(2) ifindex(4) arphrd(2) packet type(1)
 *              addr len(1) addr(8)
 *   NULL/LOOP  address family(4), host order of the capturing machine for
 *              NULL, network order for LOOP
 *   raw IP     the IP header, version in the first nibble
 *   IPv4       RFC 791, header length in 32-bit words; IPv6 RFC 8200
 *   UDP        src port(2) dst port(2) length(2) checksum(2), RFC 768
 */
#include "decode/capture.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define MAX_VLAN_TAGS 8
#define MAX_IPV6_EXT_HEADERS 8
#define IPPROTO_NUM_UDP 17

/* A bounds-checked reader over captured bytes. */
struct cap_cursor {
	const uint8_t *p;
	size_t left;
};

static bool
cur_skip(struct cap_cursor *c, size_t n)
{
	if (c->left < n)
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

static bool
cur_u8(struct cap_cursor *c, uint8_t *v)
{
	if (c->left < 1)
		return false;
	*v = c->p[0];
	return cur_skip(c, 1);
}

static bool
cur_u16(struct cap_cursor *c, uint16_t *v)
{
	if (c->left < 2)
		return false;
	*v = (uint16_t)((c->p[0] << 8) | c->p[1]);
	return cur_skip(c, 2);
}

static bool
cur_u32(struct cap_cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return false;
	*v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) |
	     ((uint32_t)c->p[2] << 8) | c->p[3];
	return cur_skip(c, 4);
}

static uint16_t
peek_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/*
 * Reads the UDP header at c and sets out to its payload, bounded by the UDP
 * length and by the bytes left in c.
 */
static int
parse_udp(struct cap_cursor *c, struct fs_datagram *out)
{
	uint16_t udp_len;

	if (!cur_u16(c, &out->exporter_port) || !cur_skip(c, 2) ||
	    !cur_u16(c, &udp_len) || !cur_skip(c, 2))
		return FS_ERR_TRUNCATED;
	if (udp_len < 8)
		return FS_ERR_INVALID;

	out->data = c->p;
	out->len = udp_len - 8u;
	if (out->len > c->left) {
		out->len = c->left;
		return FS_ERR_TRUNCATED;
	}
	return 0;
}

static int
parse_ipv4(struct cap_cursor *c, struct fs_datagram *out)
{
	struct cap_cursor ip = *c;
	uint8_t version_ihl, proto;
	uint16_t total_len, frag;
	size_t header_len;

	if (!cur_u8(&ip, &version_ihl) || !cur_skip(&ip, 1) ||
	    !cur_u16(&ip, &total_len) || !cur_skip(&ip, 2) ||
	    !cur_u16(&ip, &frag) || !cur_skip(&ip, 1) || !cur_u8(&ip, &proto) ||
	    !cur_skip(&ip, 2) || ip.left < 8)
		return FS_ERR_TRUNCATED;
	if ((version_ihl >> 4) != 4)
		return FS_ERR_INVALID;
	header_len = (size_t)(version_ihl & 0x0f) * 4;
	if (header_len < 20)
		return FS_ERR_INVALID;
	if (total_len != 0 && total_len < header_len)
		return FS_ERR_INVALID;
	if (proto != IPPROTO_NUM_UDP || (frag & 0x1fff) != 0)
		return FS_ERR_UNSUPPORTED;

	fs_addr_set_v4(&out->exporter, ip.p);
	/* Bytes past the IP total length are link-layer padding.  A total
	 * length of 0 (seen with segmentation offload) means "use the capture". */
	if (total_len != 0 && c->left > total_len)
		c->left = total_len;
	if (!cur_skip(c, header_len))
		return FS_ERR_TRUNCATED;
	return parse_udp(c, out);
}

static int
parse_ipv6(struct cap_cursor *c, struct fs_datagram *out)
{
	uint32_t version_class_label;
	uint16_t payload_len;
	uint8_t next;

	if (!cur_u32(c, &version_class_label) || !cur_u16(c, &payload_len) ||
	    !cur_u8(c, &next) || !cur_skip(c, 1) || c->left < 32)
		return FS_ERR_TRUNCATED;
	if ((version_class_label >> 28) != 6)
		return FS_ERR_INVALID;
	fs_addr_set_v6(&out->exporter, c->p);
	cur_skip(c, 32);
	/* A payload length of 0 is a jumbogram or offload: use the capture. */
	if (payload_len != 0 && c->left > payload_len)
		c->left = payload_len;

	for (int i = 0; i <= MAX_IPV6_EXT_HEADERS; i++) {
		uint8_t following, ext_len;
		uint16_t frag;
		size_t skip;

		switch (next) {
		case IPPROTO_NUM_UDP:
			return parse_udp(c, out);
		case 0:  /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
		case 51: /* authentication header, length in 32-bit words */
			if (c->left < 2)
				return FS_ERR_TRUNCATED;
			following = c->p[0];
			ext_len = c->p[1];
			skip = next == 51 ? ((size_t)ext_len + 2) * 4
					  : ((size_t)ext_len + 1) * 8;
			break;
		case 44: /* fragment */
			if (c->left < 8)
				return FS_ERR_TRUNCATED;
			following = c->p[0];
			frag = peek_u16(c->p + 2);
			if ((frag & 0xfff8) != 0)
				return FS_ERR_UNSUPPORTED;
			skip = 8;
			break;
		default:
			return FS_ERR_UNSUPPORTED;
		}
		if (!cur_skip(c, skip))
			return FS_ERR_TRUNCATED;
		next = following;
	}
	return FS_ERR_UNSUPPORTED;
}

static int
parse_ip_by_version(struct cap_cursor *c, struct fs_datagram *out)
{
	if (c->left < 1)
		return FS_ERR_TRUNCATED;
	switch (c->p[0] >> 4) {
	case 4:
		return parse_ipv4(c, out);
	case 6:
		return parse_ipv6(c, out);
	}
	return FS_ERR_UNSUPPORTED;
}

static int
parse_ip_by_ethertype(struct cap_cursor *c, uint16_t ethertype,
		      struct fs_datagram *out)
{
	if (ethertype == ETHERTYPE_IPV4)
		return parse_ipv4(c, out);
	if (ethertype == ETHERTYPE_IPV6)
		return parse_ipv6(c, out);
	return FS_ERR_UNSUPPORTED;
}

static int
parse_ethernet(struct cap_cursor *c, struct fs_datagram *out)
{
	uint16_t ethertype;

	if (!cur_skip(c, 12) || !cur_u16(c, &ethertype))
		return FS_ERR_TRUNCATED;
	for (int tags = 0; ethertype == 0x8100 || ethertype == 0x88a8 ||
			   ethertype == 0x9100; tags++) {
		if (tags == MAX_VLAN_TAGS)
			return FS_ERR_UNSUPPORTED;
		if (!cur_skip(c, 2) || !cur_u16(c, &ethertype))
			return FS_ERR_TRUNCATED;
	}
	return parse_ip_by_ethertype(c, ethertype, out);
}

/*
 * BSD loopback families: AF_INET is 2 everywhere, AF_INET6 is 24 (NetBSD,
 * OpenBSD), 28 (FreeBSD) or 30 (macOS).  The byte order of NULL headers is
 * the capturing machine's, so both orders are tried.
 */
static int
parse_loopback(struct cap_cursor *c, struct fs_datagram *out)
{
	uint32_t family, swapped;

	if (!cur_u32(c, &family))
		return FS_ERR_TRUNCATED;
	swapped = __builtin_bswap32(family);
	if (family == 2 || swapped == 2)
		return parse_ipv4(c, out);
	if (family == 24 || family == 28 || family == 30 || swapped == 24 ||
	    swapped == 28 || swapped == 30)
		return parse_ipv6(c, out);
	return FS_ERR_UNSUPPORTED;
}

int
fs_capture_parse_frame(int linktype, const uint8_t *frame, size_t caplen,
		       struct fs_datagram *out)
{
	struct cap_cursor c = { frame, caplen };
	uint16_t protocol;

	out->data = NULL;
	out->len = 0;
	memset(&out->exporter, 0, sizeof(out->exporter));
	out->exporter_port = 0;

	switch (linktype) {
	case DLT_EN10MB:
		return parse_ethernet(&c, out);
	case DLT_LINUX_SLL:
		if (!cur_skip(&c, 14) || !cur_u16(&c, &protocol))
			return FS_ERR_TRUNCATED;
		return parse_ip_by_ethertype(&c, protocol, out);
	case DLT_LINUX_SLL2:
		if (!cur_u16(&c, &protocol) || !cur_skip(&c, 18))
			return FS_ERR_TRUNCATED;
		return parse_ip_by_ethertype(&c, protocol, out);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return parse_ip_by_version(&c, out);
	case DLT_NULL:
	case DLT_LOOP:
		return parse_loopback(&c, out);
	}
	return FS_ERR_UNSUPPORTED;
}

static void
format_error(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
format_error(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* Returns the length of a v1, v5 or v7 message of count records, or 0 for other versions. */
static size_t
fixed_record_message_len(uint16_t version, uint16_t count)
{
	switch (version) {
	case 1:
		return 16 + (size_t)count * 48;
	case 5:
		return 24 + (size_t)count * 48;
	case 7:
		return 24 + (size_t)count * 52;
	}
	return 0;
}

/* Returns true when a message header of a known version fits in p[0..left). */
static bool
looks_like_header(const uint8_t *p, size_t left)
{
	uint16_t version;

	if (left < 4)
		return false;
	version = peek_u16(p);
	switch (version) {
	case 1:
		return left >= 16;
	case 5:
	case 7:
		return left >= 24;
	case 9:
		return left >= 20;
	case 10:
		return left >= 16 && peek_u16(p + 2) >= 16;
	}
	return false;
}

/* Returns the length of the v9 message at p by the flowset walk in capture.h. */
static size_t
v9_message_len(const uint8_t *p, size_t left)
{
	size_t off = 20;

	if (left < off)
		return left;
	while (left - off >= 4) {
		uint16_t id = peek_u16(p + off);
		uint16_t set_len = peek_u16(p + off + 2);

		if (id >= 2 && id <= 255) {
			if (looks_like_header(p + off, left - off))
				return off;
			return left;
		}
		if (set_len < 4 || set_len > left - off)
			return left;
		off += set_len;
	}
	return left;
}

/* Returns true when p[0..left) starts with an IPFIX header whose length fits in left. */
static bool
looks_like_ipfix(const uint8_t *p, size_t left)
{
	uint16_t msg_len;

	if (left < 16 || peek_u16(p) != 10)
		return false;
	msg_len = peek_u16(p + 2);
	return msg_len >= 16 && msg_len <= left;
}

/*
 * Returns the length of the IPFIX message at p whose header says msg_len.
 * Bytes after it that are no IPFIX message (fewer than 16, or not version
 * 10) stay with it up to the next IPFIX header, because some exporters
 * write a length short by a few bytes while sending the whole last set
 * (telegraf issue 14370); the decoder then sorts out the length mismatch.
 */
static size_t
ipfix_message_len(const uint8_t *p, size_t left, uint16_t msg_len)
{
	size_t len = msg_len;

	if (len >= left || looks_like_ipfix(p + len, left - len))
		return len;
	while (len < left && !looks_like_ipfix(p + len, left - len))
		len++;
	return len;
}

/* Returns the length of the message at the start of p[0..left), never 0 when left > 0. */
static size_t
raw_message_len(const uint8_t *p, size_t left)
{
	uint16_t version, second;
	size_t len;

	if (left < 4)
		return left;
	version = peek_u16(p);
	second = peek_u16(p + 2);
	switch (version) {
	case 1:
	case 5:
	case 7:
		len = fixed_record_message_len(version, second);
		break;
	case 9:
		len = v9_message_len(p, left);
		break;
	case 10:
		len = second < 16 ? left : ipfix_message_len(p, left, second);
		break;
	default:
		len = left;
		break;
	}
	return len > left ? left : len;
}

int
fs_capture_split_raw(const uint8_t *buf, size_t len, int64_t time_ns,
		     fs_datagram_fn *fn, void *opaque)
{
	struct fs_datagram dg;
	size_t off = 0;

	memset(&dg, 0, sizeof(dg));
	dg.exporter.family = 4;
	dg.time_ns = time_ns;
	while (off < len) {
		size_t msg_len = raw_message_len(buf + off, len - off);
		int rc;

		dg.data = buf + off;
		dg.len = msg_len;
		rc = fn(&dg, opaque);
		if (rc != 0)
			return rc;
		off += msg_len;
	}
	return 0;
}

struct split_counter {
	fs_datagram_fn *fn;
	void *opaque;
	struct fs_capture_stats *stats;
};

static int
count_raw_datagram(const struct fs_datagram *dg, void *opaque)
{
	struct split_counter *counter = opaque;

	counter->stats->packets++;
	counter->stats->datagrams++;
	return counter->fn(dg, counter->opaque);
}

/* Reads all of fp into a new buffer that the caller frees. */
static int
read_whole_file(FILE *fp, const char *path, uint8_t **out, size_t *out_len,
		char *err, size_t err_len)
{
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	int rc = 0;

	for (;;) {
		size_t got;

		if (len == cap) {
			size_t new_cap = cap == 0 ? 65536 : cap * 2;
			uint8_t *grown;

			if (cap >= FS_CAPTURE_MAX_RAW_FILE) {
				format_error(err, err_len,
					     "failed to read '%s': larger than %u bytes",
					     path, FS_CAPTURE_MAX_RAW_FILE);
				rc = FS_ERR_UNSUPPORTED;
				goto out;
			}
			grown = realloc(buf, new_cap);
			if (grown == NULL) {
				format_error(err, err_len,
					     "failed to read '%s': out of memory", path);
				rc = FS_ERR_SYSTEM;
				goto out;
			}
			buf = grown;
			cap = new_cap;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		format_error(err, err_len, "failed to read '%s': %s", path,
			     strerror(errno));
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	free(buf);
	return rc;
}

static int
read_raw(FILE *fp, const char *path, fs_datagram_fn *fn, void *opaque,
	 struct fs_capture_stats *stats, char *err, size_t err_len)
{
	struct split_counter counter = { fn, opaque, stats };
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = read_whole_file(fp, path, &buf, &len, err, err_len);
	if (rc != 0)
		return rc;
	rc = fs_capture_split_raw(buf, len, fs_clock_ns(CLOCK_REALTIME), count_raw_datagram, &counter);
	free(buf);
	return rc;
}

static struct fs_ratelimit cut_short_log = FS_RATELIMIT_INIT(10, 5);
static struct fs_ratelimit invalid_log = FS_RATELIMIT_INIT(10, 5);

/* Handles one capture record: counts it and hands its datagram to fn. */
static int
handle_packet(const char *path, uint64_t index, int linktype,
	      const struct pcap_pkthdr *hdr, const uint8_t *frame,
	      fs_datagram_fn *fn, void *opaque, struct fs_capture_stats *stats)
{
	struct fs_datagram dg;
	int rc;

	stats->packets++;
	rc = fs_capture_parse_frame(linktype, frame, hdr->caplen, &dg);
	switch (rc) {
	case 0:
		break;
	case FS_ERR_TRUNCATED:
		stats->truncated++;
		fs_log_limited(&cut_short_log, FS_LOG_NOTICE, "pcap",
			       "packet %" PRIu64 " of '%s' ends before its UDP payload does (%u of %u bytes captured)%s",
			       index, path, hdr->caplen, hdr->len,
			       dg.data != NULL ? ": datagram passed on short"
					       : ": skipped");
		if (dg.data == NULL)
			return 0;
		break;
	case FS_ERR_INVALID:
		stats->invalid++;
		fs_log_limited(&invalid_log, FS_LOG_NOTICE, "pcap",
			       "packet %" PRIu64 " of '%s' skipped: invalid IP or UDP header",
			       index, path);
		return 0;
	default:
		stats->skipped++;
		return 0;
	}
	dg.time_ns = (int64_t)hdr->ts.tv_sec * 1000000000 + hdr->ts.tv_usec;
	stats->datagrams++;
	return fn(&dg, opaque);
}

/* Reads a capture through libpcap; takes ownership of fp. */
static int
read_pcap(FILE *fp, const char *path, fs_datagram_fn *fn, void *opaque,
	  struct fs_capture_stats *stats, char *err, size_t err_len)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *hdr;
	const u_char *frame;
	pcap_t *pcap;
	uint64_t index = 0;
	int linktype, next, rc = 0;

	/* Nanosecond precision makes libpcap put nanoseconds in ts.tv_usec
	 * whatever the file stores. */
	pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO,
							 pcap_err);
	if (pcap == NULL) {
		fclose(fp);
		format_error(err, err_len, "failed to read capture '%s': %s", path,
			     pcap_err);
		return FS_ERR_INVALID;
	}
	linktype = pcap_datalink(pcap);

	while ((next = pcap_next_ex(pcap, &hdr, &frame)) == 1) {
		index++;
		rc = handle_packet(path, index, linktype, hdr, frame, fn, opaque,
				   stats);
		if (rc != 0)
			goto out;
	}
	if (next == PCAP_ERROR) {
		stats->read_errors++;
		fs_log(FS_LOG_WARNING, "pcap",
		       "stopped reading '%s' after %" PRIu64 " packets: %s", path,
		       index, pcap_geterr(pcap));
	}
out:
	pcap_close(pcap); /* also closes fp */
	return rc;
}

static bool
is_capture_magic(const uint8_t magic[4])
{
	static const uint8_t magics[][4] = {
		{ 0xa1, 0xb2, 0xc3, 0xd4 }, /* pcap, microseconds */
		{ 0xd4, 0xc3, 0xb2, 0xa1 },
		{ 0xa1, 0xb2, 0x3c, 0x4d }, /* pcap, nanoseconds */
		{ 0x4d, 0x3c, 0xb2, 0xa1 },
		{ 0x0a, 0x0d, 0x0d, 0x0a }, /* pcapng section header block */
	};

	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		if (memcmp(magic, magics[i], 4) == 0)
			return true;
	}
	return false;
}

/*
 * A stream over a pipe whose first bytes were already read to find the file
 * type: it returns those bytes again, then the rest of the pipe.  A pipe
 * cannot be rewound, and libpcap reads the magic number itself.
 */
struct replayed_prefix {
	FILE *fp;
	uint8_t bytes[4];
	size_t len, pos;
};

static ssize_t
replayed_prefix_read(void *cookie, char *buf, size_t size)
{
	struct replayed_prefix *r = cookie;
	size_t got;

	if (r->pos < r->len) {
		size_t n = r->len - r->pos < size ? r->len - r->pos : size;

		memcpy(buf, r->bytes + r->pos, n);
		r->pos += n;
		return (ssize_t)n;
	}
	got = fread(buf, 1, size, r->fp);
	if (got == 0 && ferror(r->fp))
		return -1;
	return (ssize_t)got;
}

static int
replayed_prefix_close(void *cookie)
{
	struct replayed_prefix *r = cookie;
	int rc = fclose(r->fp);

	free(r);
	return rc;
}

/*
 * Returns a stream that reads magic[0..len) and then the rest of fp, and
 * that owns fp.  Returns NULL when out of memory, and fp stays the caller's.
 */
static FILE *
replay_prefix(FILE *fp, const uint8_t *magic, size_t len)
{
	static const cookie_io_functions_t io = {
		.read = replayed_prefix_read, .close = replayed_prefix_close,
	};
	struct replayed_prefix *r = calloc(1, sizeof(*r));
	FILE *stream;

	if (r == NULL)
		return NULL;
	r->fp = fp;
	memcpy(r->bytes, magic, len);
	r->len = len;
	stream = fopencookie(r, "rb", io);
	if (stream == NULL)
		free(r);
	return stream;
}

int
fs_capture_read_file_stats(const char *path, fs_datagram_fn *fn, void *opaque,
			   struct fs_capture_stats *stats, char *err,
			   size_t err_len)
{
	struct fs_capture_stats local;
	uint8_t magic[4];
	size_t got;
	FILE *fp;
	int rc;

	if (stats == NULL) {
		memset(&local, 0, sizeof(local));
		stats = &local;
	}
	fp = fopen(path, "rb");
	if (fp == NULL) {
		format_error(err, err_len, "failed to open '%s': %s", path,
			     strerror(errno));
		return FS_ERR_SYSTEM;
	}
	got = fread(magic, 1, sizeof(magic), fp);
	if (got < sizeof(magic) && ferror(fp)) {
		format_error(err, err_len, "failed to read '%s': %s", path,
			     strerror(errno));
		rc = FS_ERR_SYSTEM;
		goto close;
	}
	if (fseek(fp, 0, SEEK_SET) != 0) {
		FILE *replayed = errno == ESPIPE ? replay_prefix(fp, magic, got) : NULL;

		if (replayed == NULL) {
			format_error(err, err_len, "failed to rewind '%s': %s", path,
				     strerror(errno));
			rc = FS_ERR_SYSTEM;
			goto close;
		}
		fp = replayed;
	}
	stats->files++;
	if (got == sizeof(magic) && is_capture_magic(magic))
		return read_pcap(fp, path, fn, opaque, stats, err, err_len);
	rc = read_raw(fp, path, fn, opaque, stats, err, err_len);
close:
	fclose(fp);
	return rc;
}

int
fs_capture_read_file(const char *path, fs_datagram_fn *fn, void *opaque,
		     char *err, size_t err_len)
{
	return fs_capture_read_file_stats(path, fn, opaque, NULL, err, err_len);
}
