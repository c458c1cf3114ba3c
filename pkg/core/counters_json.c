/* counters_json.c - writes struct fs_counters as a JSON object without allocating. */
#include "core/counters_json.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/result.h"

/* An append-only writer over a caller buffer; full sticks once set. */
struct json_out {
	char *buf;
	size_t cap;
	size_t pos;
	bool full;
};

static void
put_format(struct json_out *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (out->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out->buf + out->pos, out->cap - out->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= out->cap - out->pos) {
		out->full = true;
		return;
	}
	out->pos += (size_t)n;
}

static void
put_u64(struct json_out *out, const char *key, uint64_t value)
{
	put_format(out, ",\"%s\":%" PRIu64, key, value);
}

static void
put_addr(struct json_out *out, const char *key, const struct fs_addr *addr)
{
	char text[FS_ADDR_STRLEN];

	put_format(out, ",\"%s\":\"%s\"", key, fs_addr_format(addr, text));
}

static void
put_generic(struct json_out *out, const struct fs_counters_generic *g)
{
	put_u64(out, "if_index", g->if_index);
	put_u64(out, "if_type", g->if_type);
	put_u64(out, "if_speed", g->if_speed);
	put_u64(out, "if_direction", g->if_direction);
	put_u64(out, "if_status", g->if_status);
	put_u64(out, "in_octets", g->in_octets);
	put_u64(out, "in_ucast_pkts", g->in_ucast_pkts);
	put_u64(out, "in_mcast_pkts", g->in_mcast_pkts);
	put_u64(out, "in_bcast_pkts", g->in_bcast_pkts);
	put_u64(out, "in_discards", g->in_discards);
	put_u64(out, "in_errors", g->in_errors);
	put_u64(out, "in_unknown_protos", g->in_unknown_protos);
	put_u64(out, "out_octets", g->out_octets);
	put_u64(out, "out_ucast_pkts", g->out_ucast_pkts);
	put_u64(out, "out_mcast_pkts", g->out_mcast_pkts);
	put_u64(out, "out_bcast_pkts", g->out_bcast_pkts);
	put_u64(out, "out_discards", g->out_discards);
	put_u64(out, "out_errors", g->out_errors);
	put_u64(out, "promiscuous", g->promiscuous);
}

static void
put_ethernet(struct json_out *out, const struct fs_counters_ethernet *e)
{
	put_u64(out, "alignment_errors", e->alignment_errors);
	put_u64(out, "fcs_errors", e->fcs_errors);
	put_u64(out, "single_collision_frames", e->single_collision_frames);
	put_u64(out, "multiple_collision_frames", e->multiple_collision_frames);
	put_u64(out, "sqe_test_errors", e->sqe_test_errors);
	put_u64(out, "deferred_transmissions", e->deferred_transmissions);
	put_u64(out, "late_collisions", e->late_collisions);
	put_u64(out, "excessive_collisions", e->excessive_collisions);
	put_u64(out, "internal_mac_transmit_errors", e->internal_mac_transmit_errors);
	put_u64(out, "carrier_sense_errors", e->carrier_sense_errors);
	put_u64(out, "frame_too_longs", e->frame_too_longs);
	put_u64(out, "internal_mac_receive_errors", e->internal_mac_receive_errors);
	put_u64(out, "symbol_errors", e->symbol_errors);
}

int
fs_counters_json_write(const struct fs_counters *c, char *buf, size_t len)
{
	struct json_out out = { buf, len, 0, len == 0 };
	uint32_t count = c->other_count;

	put_format(&out, "{\"schema\":\"counters\"");
	put_addr(&out, "exporter_addr", &c->exporter_addr);
	put_u64(&out, "exporter_port", c->exporter_port);
	put_addr(&out, "agent_addr", &c->agent_addr);
	put_u64(&out, "sub_agent_id", c->sub_agent_id);
	put_u64(&out, "datagram_sequence", c->datagram_sequence);
	put_u64(&out, "sequence", c->sequence);
	put_u64(&out, "uptime_ms", c->uptime_ms);
	put_u64(&out, "source_id_type", c->source_id_type);
	put_u64(&out, "source_id_index", c->source_id_index);
	put_format(&out, ",\"time_received_ns\":%" PRId64, c->time_received_ns);
	if (c->present & FS_C_GENERIC)
		put_generic(&out, &c->generic);
	if (c->present & FS_C_ETHERNET)
		put_ethernet(&out, &c->ethernet);

	put_format(&out, ",\"other_records\":[");
	if (count > FS_COUNTERS_MAX_OTHER_RECORDS)
		count = FS_COUNTERS_MAX_OTHER_RECORDS;
	for (uint32_t i = 0; i < count; i++) {
		const struct fs_counters_other *o = &c->other[i];

		put_format(&out, "%s{\"enterprise\":%" PRIu32 ",\"format\":%" PRIu32
			   ",\"length\":%" PRIu32 "}",
			   i > 0 ? "," : "", o->enterprise, o->format, o->length);
	}
	put_format(&out, "],\"other_records_omitted\":%" PRIu32 "}", c->other_omitted);

	if (out.full) {
		if (len > 0)
			buf[out.pos < len ? out.pos : len - 1] = '\0';
		return FS_ERR_FULL;
	}
	return (int)out.pos;
}
