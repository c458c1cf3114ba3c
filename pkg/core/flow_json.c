/* flow_json.c - writes struct fs_flow as a JSON object without allocating. */
#include "core/flow_json.h"

#include <stdbool.h>
#include <stdint.h>

#include "core/result.h"

/* An append-only writer over a caller buffer; full sticks once set. */
struct json_out {
	char *buf;
	size_t cap;
	size_t pos;
	bool full;
	bool first;
};

static void
put_bytes(struct json_out *out, const char *s, size_t n)
{
	if (out->full)
		return;
	/* Keep one byte for the terminating NUL. */
	if (out->cap - out->pos <= n) {
		out->full = true;
		return;
	}
	memcpy(out->buf + out->pos, s, n);
	out->pos += n;
}

static void
put_str(struct json_out *out, const char *s)
{
	put_bytes(out, s, strlen(s));
}

static void
put_u64(struct json_out *out, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[sizeof(digits) - 1 - n] = (char)('0' + v % 10);
		v /= 10;
		n++;
	} while (v != 0);
	put_bytes(out, digits + sizeof(digits) - n, n);
}

static void
put_i64(struct json_out *out, int64_t v)
{
	if (v < 0) {
		put_bytes(out, "-", 1);
		put_u64(out, (uint64_t)0 - (uint64_t)v);
		return;
	}
	put_u64(out, (uint64_t)v);
}

static void
put_key(struct json_out *out, const char *key)
{
	if (!out->first)
		put_bytes(out, ",", 1);
	out->first = false;
	put_bytes(out, "\"", 1);
	put_str(out, key);
	put_bytes(out, "\":", 2);
}

static void
put_text_field(struct json_out *out, const char *key, const char *text)
{
	put_key(out, key);
	put_bytes(out, "\"", 1);
	put_str(out, text);
	put_bytes(out, "\"", 1);
}

static void
put_u64_field(struct json_out *out, const char *key, uint64_t v)
{
	put_key(out, key);
	put_u64(out, v);
}

static void
put_i64_field(struct json_out *out, const char *key, int64_t v)
{
	put_key(out, key);
	put_i64(out, v);
}

static void
put_addr_field(struct json_out *out, const char *key, const struct fs_addr *addr)
{
	char text[FS_ADDR_STRLEN];

	put_text_field(out, key, fs_addr_format(addr, text));
}

static void
put_mac_field(struct json_out *out, const char *key, const uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	char text[18];

	for (int i = 0; i < 6; i++) {
		text[i * 3] = hex[mac[i] >> 4];
		text[i * 3 + 1] = hex[mac[i] & 0x0f];
		text[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	put_text_field(out, key, text);
}

/* Writes the optional numeric fields that follow the addresses, in schema order. */
static void
put_numbers(struct json_out *out, const struct fs_flow *f)
{
	const struct {
		enum fs_flow_field bit;
		const char *key;
		uint64_t value;
	} fields[] = {
		{ FS_F_SRC_PORT, "src_port", f->src_port },
		{ FS_F_DST_PORT, "dst_port", f->dst_port },
		{ FS_F_PROTO, "proto", f->proto },
		{ FS_F_TCP_FLAGS, "tcp_flags", f->tcp_flags },
		{ FS_F_TOS, "tos", f->tos },
		{ FS_F_BYTES, "bytes", f->bytes },
		{ FS_F_PACKETS, "packets", f->packets },
		{ FS_F_IN_IF, "in_if", f->in_if },
		{ FS_F_OUT_IF, "out_if", f->out_if },
		{ FS_F_SRC_AS, "src_as", f->src_as },
		{ FS_F_DST_AS, "dst_as", f->dst_as },
		{ FS_F_SRC_MASK, "src_mask", f->src_mask },
		{ FS_F_DST_MASK, "dst_mask", f->dst_mask },
		{ FS_F_VLAN_ID, "vlan_id", f->vlan_id },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fs_flow_has(f, fields[i].bit))
			put_u64_field(out, fields[i].key, fields[i].value);
	}
}

int
fs_flow_json_write(const struct fs_flow *f, char *buf, size_t len)
{
	struct json_out out = { buf, len, 0, len == 0, true };

	put_bytes(&out, "{", 1);
	put_text_field(&out, "flow_type", fs_flow_type_name(f->flow_type));
	put_addr_field(&out, "exporter_addr", &f->exporter_addr);
	put_u64_field(&out, "exporter_port", f->exporter_port);
	if (fs_flow_has(f, FS_F_OBSERVATION_DOMAIN))
		put_u64_field(&out, "observation_domain_id", f->observation_domain_id);
	if (fs_flow_has(f, FS_F_SEQUENCE))
		put_u64_field(&out, "sequence", f->sequence);
	put_i64_field(&out, "time_received_ns", f->time_received_ns);
	if (fs_flow_has(f, FS_F_TIME_FLOW_START))
		put_i64_field(&out, "time_flow_start_ns", f->time_flow_start_ns);
	if (fs_flow_has(f, FS_F_TIME_FLOW_END))
		put_i64_field(&out, "time_flow_end_ns", f->time_flow_end_ns);
	if (fs_flow_has(f, FS_F_SAMPLING_RATE))
		put_u64_field(&out, "sampling_rate", f->sampling_rate);
	if (fs_flow_has(f, FS_F_SRC_ADDR))
		put_addr_field(&out, "src_addr", &f->src_addr);
	if (fs_flow_has(f, FS_F_DST_ADDR))
		put_addr_field(&out, "dst_addr", &f->dst_addr);
	if (fs_flow_has(f, FS_F_NEXT_HOP))
		put_addr_field(&out, "next_hop", &f->next_hop);
	put_numbers(&out, f);
	if (fs_flow_has(f, FS_F_SRC_MAC))
		put_mac_field(&out, "src_mac", f->src_mac);
	if (fs_flow_has(f, FS_F_DST_MAC))
		put_mac_field(&out, "dst_mac", f->dst_mac);
	if (fs_flow_has(f, FS_F_ICMP_TYPE))
		put_u64_field(&out, "icmp_type", f->icmp_type);
	if (fs_flow_has(f, FS_F_ICMP_CODE))
		put_u64_field(&out, "icmp_code", f->icmp_code);
	if (fs_flow_has(f, FS_F_FLOW_DIRECTION))
		put_text_field(&out, "flow_direction",
			       f->flow_direction == FS_DIR_EGRESS ? "egress" : "ingress");
	put_bytes(&out, "}", 1);

	if (len > 0)
		buf[out.pos] = '\0';
	if (out.full)
		return FS_ERR_FULL;
	return (int)out.pos;
}
