/* flow_text.c - flow records as aligned table rows or CSV lines. */
#include "core/flow_text.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "core/result.h"

/* Cell buffer size; see FS_FLOW_TEXT_CELL_MAX. */
#define CELL_MAX FS_FLOW_TEXT_CELL_MAX
#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL

enum column_kind {
	K_UINT,        /* unsigned integer field of size bytes */
	K_TIME,        /* int64 Unix ns */
	K_DURATION,
	K_PROTO,
	K_SRC,         /* src_addr:src_port */
	K_DST,
	K_EXPORTER,
	K_ADDR,        /* struct fs_addr */
	K_FLAGS,       /* tcp_flags as letters */
	K_BPS,
	K_PPS,
	K_BPP,
	K_MAC,
	K_TEXT,        /* char array */
	K_FLOW_TYPE,
	K_FLOW_DIRECTION,
	K_TRAFFIC_DIRECTION,
	K_SAMPLING_SOURCE,
	K_ENTERPRISE,  /* enterprise elements as "enterprise/id=hex" words */
};

struct column {
	const char *name;
	const char *title;   /* table header */
	uint8_t width;       /* table width */
	bool right;          /* right-aligned in tables */
	enum column_kind kind;
	uint64_t presence;   /* presence bit, 0 for fields always known */
	size_t offset;       /* of the field in struct fs_flow */
	uint8_t size;        /* of an integer field */
};

#define F(field) offsetof(struct fs_flow, field), (uint8_t)sizeof(((struct fs_flow *)0)->field)
#define NONE 0, 0

static const struct column columns[] = {
	{ "start", "start", 23, false, K_TIME, FS_F_TIME_FLOW_START, F(time_flow_start_ns) },
	{ "end", "end", 23, false, K_TIME, FS_F_TIME_FLOW_END, F(time_flow_end_ns) },
	{ "received", "received", 23, false, K_TIME, 0, F(time_received_ns) },
	{ "duration", "duration", 9, true, K_DURATION, 0, NONE },
	{ "proto", "proto", 5, false, K_PROTO, FS_F_PROTO, NONE },
	{ "src", "src addr:port", 21, false, K_SRC, FS_F_SRC_ADDR, NONE },
	{ "dst", "dst addr:port", 21, false, K_DST, FS_F_DST_ADDR, NONE },
	{ "src_addr", "src addr", 15, false, K_ADDR, FS_F_SRC_ADDR, F(src_addr) },
	{ "src_port", "sport", 5, true, K_UINT, FS_F_SRC_PORT, F(src_port) },
	{ "dst_addr", "dst addr", 15, false, K_ADDR, FS_F_DST_ADDR, F(dst_addr) },
	{ "dst_port", "dport", 5, true, K_UINT, FS_F_DST_PORT, F(dst_port) },
	{ "packets", "packets", 9, true, K_UINT, FS_F_PACKETS, F(packets) },
	{ "bytes", "bytes", 11, true, K_UINT, FS_F_BYTES, F(bytes) },
	{ "flags", "flags", 8, false, K_FLAGS, FS_F_TCP_FLAGS, NONE },
	{ "tcp_flags", "tcp_flags", 9, true, K_UINT, FS_F_TCP_FLAGS, F(tcp_flags) },
	{ "tos", "tos", 3, true, K_UINT, FS_F_TOS, F(tos) },
	{ "bps", "bps", 11, true, K_BPS, 0, NONE },
	{ "pps", "pps", 9, true, K_PPS, 0, NONE },
	{ "bpp", "bpp", 6, true, K_BPP, 0, NONE },
	{ "in_if", "in", 5, true, K_UINT, FS_F_IN_IF, F(in_if) },
	{ "out_if", "out", 5, true, K_UINT, FS_F_OUT_IF, F(out_if) },
	{ "src_as", "src as", 10, true, K_UINT, FS_F_SRC_AS, F(src_as) },
	{ "dst_as", "dst as", 10, true, K_UINT, FS_F_DST_AS, F(dst_as) },
	{ "src_mask", "smask", 5, true, K_UINT, FS_F_SRC_MASK, F(src_mask) },
	{ "dst_mask", "dmask", 5, true, K_UINT, FS_F_DST_MASK, F(dst_mask) },
	{ "next_hop", "next hop", 15, false, K_ADDR, FS_F_NEXT_HOP, F(next_hop) },
	{ "exporter", "exporter", 21, false, K_EXPORTER, 0, NONE },
	{ "exporter_addr", "exporter addr", 15, false, K_ADDR, 0, F(exporter_addr) },
	{ "exporter_port", "eport", 5, true, K_UINT, 0, F(exporter_port) },
	{ "flow_type", "type", 10, false, K_FLOW_TYPE, 0, NONE },
	{ "observation_domain_id", "domain", 10, true, K_UINT, FS_F_OBSERVATION_DOMAIN, F(observation_domain_id) },
	{ "sequence", "sequence", 10, true, K_UINT, FS_F_SEQUENCE, F(sequence) },
	{ "sampling_rate", "sampling", 8, true, K_UINT, FS_F_SAMPLING_RATE, F(sampling_rate) },
	{ "sampling_source", "sampled by", 10, false, K_SAMPLING_SOURCE, FS_F_SAMPLING_SOURCE, NONE },
	{ "vlan_id", "vlan", 4, true, K_UINT, FS_F_VLAN_ID, F(vlan_id) },
	{ "src_mac", "src mac", 17, false, K_MAC, FS_F_SRC_MAC, F(src_mac) },
	{ "dst_mac", "dst mac", 17, false, K_MAC, FS_F_DST_MAC, F(dst_mac) },
	{ "icmp_type", "itype", 5, true, K_UINT, FS_F_ICMP_TYPE, F(icmp_type) },
	{ "icmp_code", "icode", 5, true, K_UINT, FS_F_ICMP_CODE, F(icmp_code) },
	{ "flow_direction", "dir", 7, false, K_FLOW_DIRECTION, FS_F_FLOW_DIRECTION, NONE },
	{ "src_country", "sc", 2, false, K_TEXT, FS_F_SRC_COUNTRY, F(src_country) },
	{ "dst_country", "dc", 2, false, K_TEXT, FS_F_DST_COUNTRY, F(dst_country) },
	{ "src_city", "src city", 16, false, K_TEXT, FS_F_SRC_CITY, F(src_city) },
	{ "dst_city", "dst city", 16, false, K_TEXT, FS_F_DST_CITY, F(dst_city) },
	{ "src_as_org", "src org", 20, false, K_TEXT, FS_F_SRC_AS_ORG, F(src_as_org) },
	{ "dst_as_org", "dst org", 20, false, K_TEXT, FS_F_DST_AS_ORG, F(dst_as_org) },
	{ "exporter_name", "exporter name", 16, false, K_TEXT, FS_F_EXPORTER_NAME, F(exporter_name) },
	{ "exporter_site", "site", 10, false, K_TEXT, FS_F_EXPORTER_SITE, F(exporter_site) },
	{ "in_if_name", "in name", 12, false, K_TEXT, FS_F_IN_IF_NAME, F(in_if_name) },
	{ "in_if_description", "in description", 20, false, K_TEXT, FS_F_IN_IF_DESCRIPTION, F(in_if_description) },
	{ "in_if_speed", "in speed", 12, true, K_UINT, FS_F_IN_IF_SPEED, F(in_if_speed) },
	{ "out_if_name", "out name", 12, false, K_TEXT, FS_F_OUT_IF_NAME, F(out_if_name) },
	{ "out_if_description", "out description", 20, false, K_TEXT, FS_F_OUT_IF_DESCRIPTION, F(out_if_description) },
	{ "out_if_speed", "out speed", 12, true, K_UINT, FS_F_OUT_IF_SPEED, F(out_if_speed) },
	{ "src_tags", "src tags", 16, false, K_TEXT, FS_F_SRC_TAGS, F(src_tags) },
	{ "dst_tags", "dst tags", 16, false, K_TEXT, FS_F_DST_TAGS, F(dst_tags) },
	{ "traffic_direction", "traffic", 8, false, K_TRAFFIC_DIRECTION, FS_F_TRAFFIC_DIRECTION, NONE },
	{ "exported_bytes", "exp bytes", 11, true, K_UINT, FS_F_EXPORTED_BYTES, F(exported_bytes) },
	{ "exported_packets", "exp packets", 11, true, K_UINT, FS_F_EXPORTED_PACKETS, F(exported_packets) },
	{ "src_service", "src svc", 8, false, K_TEXT, FS_F_SRC_SERVICE, F(src_service) },
	{ "dst_service", "dst svc", 8, false, K_TEXT, FS_F_DST_SERVICE, F(dst_service) },
	{ "firewall_event", "fw event", 8, true, K_UINT, FS_F_FIREWALL_EVENT, F(firewall_event) },
	{ "firewall_event_extended", "fw ext", 6, true, K_UINT, FS_F_FIREWALL_EVENT_EXTENDED, F(firewall_event_extended) },
	{ "nat_event", "nat event", 9, true, K_UINT, FS_F_NAT_EVENT, F(nat_event) },
	{ "connection_id", "conn id", 10, true, K_UINT, FS_F_CONNECTION_ID, F(connection_id) },
	{ "post_nat_src_addr", "nat src addr", 15, false, K_ADDR, FS_F_POST_NAT_SRC_ADDR, F(post_nat_src_addr) },
	{ "post_nat_src_port", "nat sport", 9, true, K_UINT, FS_F_POST_NAT_SRC_PORT, F(post_nat_src_port) },
	{ "post_nat_dst_addr", "nat dst addr", 15, false, K_ADDR, FS_F_POST_NAT_DST_ADDR, F(post_nat_dst_addr) },
	{ "post_nat_dst_port", "nat dport", 9, true, K_UINT, FS_F_POST_NAT_DST_PORT, F(post_nat_dst_port) },
	{ "event", "event", 23, false, K_TIME, FS_F_EVENT_TIME, F(event_time_ns) },
	{ "enterprise_elements", "enterprise elements", 20, false, K_ENTERPRISE, FS_F_ENTERPRISE_ELEMENTS, NONE },
};

#define COLUMN_COUNT (sizeof(columns) / sizeof(columns[0]))

_Static_assert(COLUMN_COUNT <= FS_FLOW_TEXT_MAX_COLUMNS, "\"all\" must fit one column list");

/* An append-only writer over a caller buffer; full sticks once set. */
struct line_out {
	char *buf;
	size_t cap;
	size_t pos;
	bool full;
};

static void
put_bytes(struct line_out *out, const char *s, size_t n)
{
	if (out->full || out->cap - out->pos <= n) {
		out->full = true;
		return;
	}
	memcpy(out->buf + out->pos, s, n);
	out->pos += n;
}

static void
put_padding(struct line_out *out, size_t n)
{
	static const char spaces[] = "                                ";

	while (n > 0 && !out->full) {
		size_t chunk = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		put_bytes(out, spaces, chunk);
		n -= chunk;
	}
}

/* Counts the characters (not bytes) of UTF-8 text, for alignment. */
static size_t
text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/*
 * Other names of columns: the Avro schema field (schemas/flow.avsc) that a
 * column shows when the column has a shorter name, and "type".
 */
static const struct {
	const char *alias;
	const char *column;
} column_aliases[] = {
	{ "time_flow_start_ns", "start" },
	{ "time_flow_end_ns", "end" },
	{ "time_received_ns", "received" },
	{ "event_time_ns", "event" },
	{ "type", "flow_type" },
};

#define ALIAS_COUNT (sizeof(column_aliases) / sizeof(column_aliases[0]))

static int
find_column(const char *name, size_t len)
{
	for (size_t i = 0; i < ALIAS_COUNT; i++) {
		if (strlen(column_aliases[i].alias) == len &&
		    strncasecmp(column_aliases[i].alias, name, len) == 0) {
			name = column_aliases[i].column;
			len = strlen(name);
			break;
		}
	}
	for (size_t i = 0; i < COLUMN_COUNT; i++) {
		if (strlen(columns[i].name) == len && strncasecmp(columns[i].name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

void
fs_flow_columns_names(char *buf, size_t len)
{
	struct line_out out = { buf, len, 0, false };

	for (size_t i = 0; i < COLUMN_COUNT; i++) {
		if (i > 0)
			put_bytes(&out, ",", 1);
		put_bytes(&out, columns[i].name, strlen(columns[i].name));
	}
	if (len > 0)
		buf[out.pos] = '\0';
}

void
fs_flow_columns_aliases(char *buf, size_t len)
{
	struct line_out out = { buf, len, 0, false };

	for (size_t i = 0; i < ALIAS_COUNT; i++) {
		if (i > 0)
			put_bytes(&out, ",", 1);
		put_bytes(&out, column_aliases[i].alias, strlen(column_aliases[i].alias));
		put_bytes(&out, "=", 1);
		put_bytes(&out, column_aliases[i].column, strlen(column_aliases[i].column));
	}
	if (len > 0)
		buf[out.pos] = '\0';
}

int
fs_flow_columns_parse(struct fs_flow_columns *out, const char *list, char *err, size_t err_len)
{
	const char *p = list;

	out->count = 0;
	while (*p) {
		const char *start, *end;
		int id;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (*p == ',')
			p++;
		if (end == start)
			continue;
		if ((size_t)(end - start) == 3 && strncasecmp(start, "all", 3) == 0) {
			for (size_t i = 0; i < COLUMN_COUNT && out->count < FS_FLOW_TEXT_MAX_COLUMNS; i++)
				out->ids[out->count++] = (uint8_t)i;
			continue;
		}
		id = find_column(start, (size_t)(end - start));
		if (id < 0) {
			char names[2048], aliases[512];

			fs_flow_columns_names(names, sizeof(names));
			fs_flow_columns_aliases(aliases, sizeof(aliases));
			snprintf(err, err_len, "unknown column '%.*s'; the columns are all,%s "
				 "and the aliases %s",
				 (int)(end - start), start, names, aliases);
			return FS_ERR_INVALID;
		}
		if (out->count == FS_FLOW_TEXT_MAX_COLUMNS) {
			snprintf(err, err_len, "more than %d columns", FS_FLOW_TEXT_MAX_COLUMNS);
			return FS_ERR_INVALID;
		}
		out->ids[out->count++] = (uint8_t)id;
	}
	if (out->count == 0) {
		snprintf(err, err_len, "the column list '%s' names no column", list);
		return FS_ERR_INVALID;
	}
	return 0;
}

static uint64_t
read_uint(const struct fs_flow *flow, size_t offset, uint8_t size)
{
	const unsigned char *p = (const unsigned char *)flow + offset;

	switch (size) {
	case 1: return *p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

static void
format_time(int64_t ns, enum fs_flow_text_format format, char *cell, size_t cap)
{
	time_t secs = (time_t)(ns / NS_PER_S);
	long ms = (long)((ns % NS_PER_S) / NS_PER_MS);
	struct tm tm;

	if (ns < 0 && ns % NS_PER_S != 0) {
		secs--;
		ms += 1000;
	}
	gmtime_r(&secs, &tm);
	snprintf(cell, cap, "%04d-%02d-%02d%c%02d:%02d:%02d.%03ld%s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, format == FS_FLOW_TEXT_CSV ? 'T' : ' ',
		 tm.tm_hour, tm.tm_min, tm.tm_sec, ms, format == FS_FLOW_TEXT_CSV ? "Z" : "");
}

static const char *
proto_name(uint8_t proto)
{
	switch (proto) {
	case 1: return "ICMP";
	case 2: return "IGMP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 41: return "IPv6";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 58: return "ICMP6";
	case 89: return "OSPF";
	case 112: return "VRRP";
	case 132: return "SCTP";
	default: return NULL;
	}
}

static void
format_endpoint(const struct fs_addr *addr, bool has_port, uint16_t port, char *cell, size_t cap)
{
	char text[FS_ADDR_STRLEN];

	fs_addr_format(addr, text);
	if (!has_port)
		snprintf(cell, cap, "%s", text);
	else if (addr->family == 6)
		snprintf(cell, cap, "[%s]:%u", text, port);
	else
		snprintf(cell, cap, "%s:%u", text, port);
}

/* Milliseconds between start and end, or -1 when either is absent. */
static int64_t
duration_ms(const struct fs_flow *f)
{
	if (!fs_flow_has(f, FS_F_TIME_FLOW_START) || !fs_flow_has(f, FS_F_TIME_FLOW_END) ||
	    f->time_flow_end_ns < f->time_flow_start_ns)
		return -1;
	return (f->time_flow_end_ns - f->time_flow_start_ns) / NS_PER_MS;
}

/* Writes the enterprise elements as "enterprise/id=hex" words separated by spaces. */
static void
format_enterprise(const struct fs_flow *f, char *cell, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	unsigned count = f->enterprise_count;
	size_t pos = 0;

	if (count > FS_FLOW_MAX_ENTERPRISE_ELEMENTS)
		count = FS_FLOW_MAX_ENTERPRISE_ELEMENTS;
	cell[0] = '\0';
	for (unsigned i = 0; i < count; i++) {
		const struct fs_enterprise_element *e = &f->enterprise[i];
		int n = snprintf(cell + pos, cap - pos, "%s%" PRIu32 "/%u=", i > 0 ? " " : "",
				 e->enterprise, e->element_id);

		if (n < 0 || (size_t)n >= cap - pos)
			return;
		pos += (size_t)n;
		for (size_t j = 0; j < e->length && (size_t)e->offset + j < FS_FLOW_ENTERPRISE_BYTES; j++) {
			uint8_t byte = f->enterprise_bytes[e->offset + j];

			if (cap - pos < 3)
				return;
			cell[pos++] = hex[byte >> 4];
			cell[pos++] = hex[byte & 0x0f];
			cell[pos] = '\0';
		}
	}
}

/* Writes one cell into cell (CELL_MAX bytes); "" when the flow lacks the field. */
static void
format_cell(const struct column *c, const struct fs_flow *f, enum fs_flow_text_format format,
	    char *cell)
{
	int64_t ms;

	cell[0] = '\0';
	if (c->presence != 0 && !fs_flow_has(f, (enum fs_flow_field)c->presence))
		return;
	switch (c->kind) {
	case K_UINT:
		snprintf(cell, CELL_MAX, "%" PRIu64, read_uint(f, c->offset, c->size));
		break;
	case K_TIME: {
		int64_t ns;

		memcpy(&ns, (const unsigned char *)f + c->offset, sizeof(ns));
		format_time(ns, format, cell, CELL_MAX);
		break;
	}
	case K_DURATION:
		ms = duration_ms(f);
		if (ms >= 0)
			snprintf(cell, CELL_MAX, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
		break;
	case K_PROTO:
		if (proto_name(f->proto) != NULL)
			snprintf(cell, CELL_MAX, "%s", proto_name(f->proto));
		else
			snprintf(cell, CELL_MAX, "%u", f->proto);
		break;
	case K_SRC:
		format_endpoint(&f->src_addr, fs_flow_has(f, FS_F_SRC_PORT), f->src_port, cell, CELL_MAX);
		break;
	case K_DST:
		format_endpoint(&f->dst_addr, fs_flow_has(f, FS_F_DST_PORT), f->dst_port, cell, CELL_MAX);
		break;
	case K_EXPORTER:
		format_endpoint(&f->exporter_addr, true, f->exporter_port, cell, CELL_MAX);
		break;
	case K_ADDR: {
		char text[FS_ADDR_STRLEN];

		snprintf(cell, CELL_MAX, "%s",
			 fs_addr_format((const struct fs_addr *)((const unsigned char *)f + c->offset), text));
		break;
	}
	case K_FLAGS: {
		static const char letters[] = "CEUAPRSF";

		for (int i = 0; i < 8; i++)
			cell[i] = (f->tcp_flags & (0x80 >> i)) ? letters[i] : '.';
		cell[8] = '\0';
		break;
	}
	case K_BPS:
	case K_PPS:
		ms = duration_ms(f);
		if (ms > 0 && fs_flow_has(f, c->kind == K_BPS ? FS_F_BYTES : FS_F_PACKETS)) {
			double count = c->kind == K_BPS ? (double)f->bytes * 8 : (double)f->packets;

			snprintf(cell, CELL_MAX, "%.0f", count * 1000.0 / (double)ms);
		}
		break;
	case K_BPP:
		if (fs_flow_has(f, FS_F_BYTES) && fs_flow_has(f, FS_F_PACKETS) && f->packets > 0)
			snprintf(cell, CELL_MAX, "%" PRIu64, f->bytes / f->packets);
		break;
	case K_MAC: {
		const uint8_t *m = (const uint8_t *)f + c->offset;

		snprintf(cell, CELL_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		break;
	}
	case K_TEXT:
		snprintf(cell, CELL_MAX, "%s", (const char *)f + c->offset);
		break;
	case K_FLOW_TYPE:
		snprintf(cell, CELL_MAX, "%s", fs_flow_type_name((enum fs_flow_type)f->flow_type));
		break;
	case K_FLOW_DIRECTION:
		snprintf(cell, CELL_MAX, "%s", f->flow_direction == FS_DIR_EGRESS ? "egress" : "ingress");
		break;
	case K_TRAFFIC_DIRECTION:
		snprintf(cell, CELL_MAX, "%s",
			 fs_traffic_direction_name((enum fs_traffic_direction)f->traffic_direction));
		break;
	case K_SAMPLING_SOURCE:
		snprintf(cell, CELL_MAX, "%s",
			 fs_sampling_source_name((enum fs_sampling_source)f->sampling_source));
		break;
	case K_ENTERPRISE:
		format_enterprise(f, cell, CELL_MAX);
		break;
	}
}

static void
put_csv(struct line_out *out, const char *value)
{
	if (strpbrk(value, ",\"\r\n") == NULL) {
		put_bytes(out, value, strlen(value));
		return;
	}
	put_bytes(out, "\"", 1);
	for (const char *p = value; *p; p++) {
		if (*p == '"')
			put_bytes(out, "\"", 1);
		put_bytes(out, p, 1);
	}
	put_bytes(out, "\"", 1);
}

/* Appends one table cell: padded to the column width except in the last column. */
static void
put_table_cell(struct line_out *out, const struct column *c, const char *value, bool last)
{
	size_t width = text_width(value);
	size_t pad = width < c->width ? c->width - width : 0;

	if (c->right)
		put_padding(out, pad);
	put_bytes(out, value, strlen(value));
	if (!c->right && !last)
		put_padding(out, pad);
}

static int
finish(struct line_out *out)
{
	if (out->cap > 0)
		out->buf[out->full ? out->cap - 1 : out->pos] = '\0';
	return out->full ? FS_ERR_FULL : (int)out->pos;
}

int
fs_flow_text_header(const struct fs_flow_columns *cols, enum fs_flow_text_format format,
		    char *buf, size_t len)
{
	struct line_out out = { buf, len, 0, false };

	for (size_t i = 0; i < cols->count; i++) {
		const struct column *c = &columns[cols->ids[i]];

		if (format == FS_FLOW_TEXT_CSV) {
			if (i > 0)
				put_bytes(&out, ",", 1);
			put_bytes(&out, c->name, strlen(c->name));
		} else {
			if (i > 0)
				put_bytes(&out, " ", 1);
			put_table_cell(&out, c, c->title, i + 1 == cols->count);
		}
	}
	return finish(&out);
}

int
fs_flow_text_row(const struct fs_flow_columns *cols, enum fs_flow_text_format format,
		 const struct fs_flow *flow, char *buf, size_t len)
{
	struct line_out out = { buf, len, 0, false };
	char cell[CELL_MAX];

	for (size_t i = 0; i < cols->count; i++) {
		const struct column *c = &columns[cols->ids[i]];

		format_cell(c, flow, format, cell);
		if (format == FS_FLOW_TEXT_CSV) {
			if (i > 0)
				put_bytes(&out, ",", 1);
			put_csv(&out, cell);
		} else {
			if (i > 0)
				put_bytes(&out, " ", 1);
			put_table_cell(&out, c, cell[0] ? cell : "-", i + 1 == cols->count);
		}
	}
	return finish(&out);
}
