/* flow.c - helpers for struct fs_flow and struct fs_addr. */
#include "core/flow.h"

#include <arpa/inet.h>

static const char *const type_names[FS_FLOW_TYPE_COUNT] = {
	"netflow_v5", "netflow_v9", "ipfix", "sflow_v5",
};

const char *
fs_flow_type_name(enum fs_flow_type type)
{
	if ((unsigned)type >= FS_FLOW_TYPE_COUNT)
		return "unknown";
	return type_names[type];
}

static const char *const traffic_direction_names[FS_TRAFFIC_DIRECTION_COUNT] = {
	"inbound", "outbound", "internal", "external",
};

static const char *const sampling_source_names[FS_SAMPLING_SOURCE_COUNT] = {
	"exporter", "options", "sflow", "override", "none",
};

const char *
fs_traffic_direction_name(enum fs_traffic_direction direction)
{
	if ((unsigned)direction >= FS_TRAFFIC_DIRECTION_COUNT)
		return "unknown";
	return traffic_direction_names[direction];
}

const char *
fs_sampling_source_name(enum fs_sampling_source source)
{
	if ((unsigned)source >= FS_SAMPLING_SOURCE_COUNT)
		return "unknown";
	return sampling_source_names[source];
}

/*
 * Returns the length of the valid UTF-8 sequence at s (n bytes available),
 * or 0 when it is invalid: overlong forms, surrogates and code points above
 * U+10FFFF are invalid (RFC 3629, section 4).
 */
static size_t
utf8_sequence_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

size_t
fs_flow_set_text(char *dst, size_t size, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t in = 0;
	size_t out = 0;

	while (in < len && s[in] != '\0') {
		size_t n = utf8_sequence_len(s + in, len - in);

		if (n == 0 || (n == 1 && (s[in] < 0x20 || s[in] == 0x7f))) {
			if (out + 1 >= size)
				break;
			dst[out++] = '?';
			in += n == 0 ? 1 : n;
			continue;
		}
		if (out + n >= size)
			break;
		memcpy(dst + out, s + in, n);
		out += n;
		in += n;
	}
	dst[out] = '\0';
	return out;
}

void
fs_addr_set_v4(struct fs_addr *addr, const uint8_t bytes[4])
{
	memset(addr, 0, sizeof(*addr));
	addr->family = 4;
	memcpy(addr->bytes, bytes, 4);
}

void
fs_addr_set_v6(struct fs_addr *addr, const uint8_t bytes[16])
{
	addr->family = 6;
	memcpy(addr->bytes, bytes, 16);
}

/* Appends the decimal digits of v (0 to 255) at p and returns the end. */
static char *
put_octet(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

char *
fs_addr_format(const struct fs_addr *addr, char *buf)
{
	buf[0] = '\0';
	if (addr->family == 4) {
		/*
		 * Written by hand: glibc's inet_ntop() formats IPv4 with sprintf,
		 * and flowsift-report formats one address per top-N member, where
		 * printf-family calls took about a fifth of its CPU (perf).
		 */
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			if (i > 0)
				*p++ = '.';
			p = put_octet(p, addr->bytes[i]);
		}
		*p = '\0';
	} else if (addr->family == 6)
		inet_ntop(AF_INET6, addr->bytes, buf, FS_ADDR_STRLEN);
	return buf;
}

int
fs_addr_parse(struct fs_addr *addr, const char *text)
{
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, text, addr->bytes) == 1) {
		addr->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr->bytes) == 1) {
		addr->family = 6;
		return 0;
	}
	return -1;
}

bool
fs_addr_equal(const struct fs_addr *a, const struct fs_addr *b)
{
	size_t len = a->family == 4 ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, len) == 0;
}

bool
fs_flow_add_enterprise(struct fs_flow *flow, uint32_t enterprise, uint16_t element_id,
		       const uint8_t *value, size_t len, unsigned max)
{
	struct fs_enterprise_element *e;

	if (max > FS_FLOW_MAX_ENTERPRISE_ELEMENTS)
		max = FS_FLOW_MAX_ENTERPRISE_ELEMENTS;
	if (flow->enterprise_count >= max ||
	    len > (size_t)FS_FLOW_ENTERPRISE_BYTES - flow->enterprise_bytes_used)
		return false;

	e = &flow->enterprise[flow->enterprise_count++];
	e->enterprise = enterprise;
	e->element_id = element_id;
	e->offset = flow->enterprise_bytes_used;
	e->length = (uint16_t)len;
	if (len > 0)
		memcpy(flow->enterprise_bytes + e->offset, value, len);
	flow->enterprise_bytes_used = (uint16_t)(flow->enterprise_bytes_used + len);
	flow->present |= FS_F_ENTERPRISE_ELEMENTS;
	return true;
}
