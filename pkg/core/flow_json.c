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

/*
 * Writes text as a JSON string value: '"' and '\\' are escaped, control
 * characters become \u00XX, and other bytes (UTF-8) are copied.
 */
static void
put_escaped_field(struct json_out *out, const char *key, const char *text)
{
	static const char hex[] = "0123456789abcdef";

	put_key(out, key);
	put_bytes(out, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		char esc[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0x0f] };

		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			put_bytes(out, esc, 2);
		} else if (*p < 0x20) {
			put_bytes(out, esc, 6);
		} else {
			put_bytes(out, (const char *)p, 1);
		}
	}
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

/* Writes the fields flowsift-enrich adds, in schema order. */
static void
put_enriched(struct json_out *out, const struct fs_flow *f)
{
	const struct {
		enum fs_flow_field bit;
		const char *key;
		const char *text;
	} texts[] = {
		{ FS_F_SRC_COUNTRY, "src_country", f->src_country },
		{ FS_F_DST_COUNTRY, "dst_country", f->dst_country },
		{ FS_F_SRC_CITY, "src_city", f->src_city },
		{ FS_F_DST_CITY, "dst_city", f->dst_city },
		{ FS_F_SRC_AS_ORG, "src_as_org", f->src_as_org },
		{ FS_F_DST_AS_ORG, "dst_as_org", f->dst_as_org },
		{ FS_F_EXPORTER_NAME, "exporter_name", f->exporter_name },
		{ FS_F_EXPORTER_SITE, "exporter_site", f->exporter_site },
		{ FS_F_IN_IF_NAME, "in_if_name", f->in_if_name },
		{ FS_F_IN_IF_DESCRIPTION, "in_if_description", f->in_if_description },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (fs_flow_has(f, texts[i].bit))
			put_escaped_field(out, texts[i].key, texts[i].text);
	}
	if (fs_flow_has(f, FS_F_IN_IF_SPEED))
		put_u64_field(out, "in_if_speed", f->in_if_speed);
	if (fs_flow_has(f, FS_F_OUT_IF_NAME))
		put_escaped_field(out, "out_if_name", f->out_if_name);
	if (fs_flow_has(f, FS_F_OUT_IF_DESCRIPTION))
		put_escaped_field(out, "out_if_description", f->out_if_description);
	if (fs_flow_has(f, FS_F_OUT_IF_SPEED))
		put_u64_field(out, "out_if_speed", f->out_if_speed);
	if (fs_flow_has(f, FS_F_SRC_TAGS))
		put_escaped_field(out, "src_tags", f->src_tags);
	if (fs_flow_has(f, FS_F_DST_TAGS))
		put_escaped_field(out, "dst_tags", f->dst_tags);
	if (fs_flow_has(f, FS_F_TRAFFIC_DIRECTION))
		put_text_field(out, "traffic_direction",
			       fs_traffic_direction_name(f->traffic_direction));
	if (fs_flow_has(f, FS_F_EXPORTED_BYTES))
		put_u64_field(out, "exported_bytes", f->exported_bytes);
	if (fs_flow_has(f, FS_F_EXPORTED_PACKETS))
		put_u64_field(out, "exported_packets", f->exported_packets);
	if (fs_flow_has(f, FS_F_SAMPLING_SOURCE))
		put_text_field(out, "sampling_source", fs_sampling_source_name(f->sampling_source));
	if (fs_flow_has(f, FS_F_SRC_SERVICE))
		put_escaped_field(out, "src_service", f->src_service);
	if (fs_flow_has(f, FS_F_DST_SERVICE))
		put_escaped_field(out, "dst_service", f->dst_service);
}

/* Writes the enterprise elements as an array of {enterprise, element_id, value} objects. */
static void
put_enterprise(struct json_out *out, const struct fs_flow *f)
{
	static const char hex[] = "0123456789abcdef";
	unsigned count = f->enterprise_count;

	if (count > FS_FLOW_MAX_ENTERPRISE_ELEMENTS)
		count = FS_FLOW_MAX_ENTERPRISE_ELEMENTS;
	put_key(out, "enterprise_elements");
	put_bytes(out, "[", 1);
	for (unsigned i = 0; i < count; i++) {
		const struct fs_enterprise_element *e = &f->enterprise[i];
		size_t length = e->length;

		/* Never read past enterprise_bytes, even for an offset or length out of range. */
		if (e->offset >= FS_FLOW_ENTERPRISE_BYTES)
			length = 0;
		else if (length > (size_t)FS_FLOW_ENTERPRISE_BYTES - e->offset)
			length = (size_t)FS_FLOW_ENTERPRISE_BYTES - e->offset;
		put_bytes(out, i == 0 ? "{" : ",{", i == 0 ? 1 : 2);
		out->first = true;
		put_u64_field(out, "enterprise", e->enterprise);
		put_u64_field(out, "element_id", e->element_id);
		put_key(out, "value");
		put_bytes(out, "\"", 1);
		for (size_t j = 0; j < length; j++) {
			uint8_t byte = f->enterprise_bytes[e->offset + j];
			char pair[2] = { hex[byte >> 4], hex[byte & 0x0f] };

			put_bytes(out, pair, 2);
		}
		put_bytes(out, "\"}", 2);
	}
	put_bytes(out, "]", 1);
	out->first = false;
}

/* Writes the firewall, NAT and enterprise fields, in schema order. */
static void
put_events(struct json_out *out, const struct fs_flow *f)
{
	if (fs_flow_has(f, FS_F_FIREWALL_EVENT))
		put_u64_field(out, "firewall_event", f->firewall_event);
	if (fs_flow_has(f, FS_F_FIREWALL_EVENT_EXTENDED))
		put_u64_field(out, "firewall_event_extended", f->firewall_event_extended);
	if (fs_flow_has(f, FS_F_NAT_EVENT))
		put_u64_field(out, "nat_event", f->nat_event);
	if (fs_flow_has(f, FS_F_CONNECTION_ID))
		put_u64_field(out, "connection_id", f->connection_id);
	if (fs_flow_has(f, FS_F_POST_NAT_SRC_ADDR))
		put_addr_field(out, "post_nat_src_addr", &f->post_nat_src_addr);
	if (fs_flow_has(f, FS_F_POST_NAT_DST_ADDR))
		put_addr_field(out, "post_nat_dst_addr", &f->post_nat_dst_addr);
	if (fs_flow_has(f, FS_F_POST_NAT_SRC_PORT))
		put_u64_field(out, "post_nat_src_port", f->post_nat_src_port);
	if (fs_flow_has(f, FS_F_POST_NAT_DST_PORT))
		put_u64_field(out, "post_nat_dst_port", f->post_nat_dst_port);
	if (fs_flow_has(f, FS_F_EVENT_TIME))
		put_i64_field(out, "event_time_ns", f->event_time_ns);
	if (fs_flow_has(f, FS_F_ENTERPRISE_ELEMENTS))
		put_enterprise(out, f);
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
	put_enriched(&out, f);
	put_events(&out, f);
	put_bytes(&out, "}", 1);

	if (len > 0)
		buf[out.pos] = '\0';
	if (out.full)
		return FS_ERR_FULL;
	return (int)out.pos;
}
