/* series.c - bucketed time series of the top members of one dimension. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/count.h"
#include "core/proto_name.h"
#include "core/result.h"
#include "graph/series.h"

_Static_assert(FS_ADDR_STRLEN <= FS_FLOW_EXPORTER_NAME_LEN, "an exporter address fits the name buffer");

/* Twice FS_GRAPH_MAX_KEYS, a power of two, so probes stay short. */
#define KEY_SLOTS 2048

struct key_entry {
	char name[FS_GRAPH_NAME_LEN];       /* "" for a free slot */
	uint64_t *sums;                     /* [direction][ring slot] */
};

struct fs_graph_acc {
	enum fs_graph_by by;
	enum fs_graph_metric metric;
	int64_t step_s;
	int npoints;
	bool fixed_end;
	bool started;                       /* last_bucket is set */
	int64_t last_bucket;                /* bucket index (time / step_s) of the newest bucket */
	const struct fs_services *services;
	uint64_t totals[FS_GRAPH_DIRECTION_COUNT][FS_GRAPH_MAX_POINTS];
	struct key_entry keys[KEY_SLOTS];
	int nkeys;
	struct fs_graph_acc_stats stats;
};

static const char *const by_names[FS_GRAPH_BY_COUNT] = {
	"proto", "service", "exporter", "interface", "src_addr", "dst_addr",
};
static const char *const by_titles[FS_GRAPH_BY_COUNT] = {
	"protocol", "service", "exporter", "input interface", "source address",
	"destination address",
};
static const char *const metric_names[FS_GRAPH_METRIC_COUNT] = { "bits", "packets", "flows" };
static const char *const metric_titles[FS_GRAPH_METRIC_COUNT] = {
	"bits per second", "packets per second", "flows per second",
};
static const char *const metric_units[FS_GRAPH_METRIC_COUNT] = { "bit/s", "packets/s", "flows/s" };

const char *
fs_graph_by_name(enum fs_graph_by by)
{
	return by < FS_GRAPH_BY_COUNT ? by_names[by] : "unknown";
}

const char *
fs_graph_by_title(enum fs_graph_by by)
{
	return by < FS_GRAPH_BY_COUNT ? by_titles[by] : "unknown";
}

const char *
fs_graph_metric_name(enum fs_graph_metric metric)
{
	return metric < FS_GRAPH_METRIC_COUNT ? metric_names[metric] : "unknown";
}

const char *
fs_graph_metric_title(enum fs_graph_metric metric)
{
	return metric < FS_GRAPH_METRIC_COUNT ? metric_titles[metric] : "unknown";
}

const char *
fs_graph_metric_unit(enum fs_graph_metric metric)
{
	return metric < FS_GRAPH_METRIC_COUNT ? metric_units[metric] : "";
}

int
fs_graph_by_parse(const char *text, enum fs_graph_by *by)
{
	for (int i = 0; i < FS_GRAPH_BY_COUNT; i++) {
		if (strcmp(text, by_names[i]) == 0) {
			*by = (enum fs_graph_by)i;
			return 0;
		}
	}
	return FS_ERR_INVALID;
}

int
fs_graph_metric_parse(const char *text, enum fs_graph_metric *metric)
{
	for (int i = 0; i < FS_GRAPH_METRIC_COUNT; i++) {
		if (strcmp(text, metric_names[i]) == 0) {
			*metric = (enum fs_graph_metric)i;
			return 0;
		}
	}
	return FS_ERR_INVALID;
}

int
fs_graph_window_parse(const char *text, int64_t *seconds)
{
	char *end;
	long long v;
	int64_t unit;

	if (text[0] < '0' || text[0] > '9')
		return FS_ERR_INVALID;
	v = strtoll(text, &end, 10);
	if (end[0] == '\0' || end[1] != '\0')
		return FS_ERR_INVALID;
	switch (end[0]) {
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return FS_ERR_INVALID;
	}
	if (v < 1 || v > FS_GRAPH_MAX_WINDOW_S / unit || v * unit < FS_GRAPH_MIN_WINDOW_S)
		return FS_ERR_INVALID;
	*seconds = (int64_t)v * unit;
	return 0;
}

int64_t
fs_graph_step_for_range(int64_t range_s)
{
	static const int64_t steps[] = { 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400 };

	if (range_s <= 0)
		return FS_ERR_INVALID;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((range_s + steps[i] - 1) / steps[i] <= FS_GRAPH_MAX_POINTS)
			return steps[i];
	}
	return FS_ERR_INVALID;
}

enum fs_topn_dim
fs_graph_by_topn_dim(enum fs_graph_by by)
{
	switch (by) {
	case FS_GRAPH_BY_PROTO: return FS_TOPN_PROTO;
	case FS_GRAPH_BY_SERVICE: return FS_TOPN_DST_PORT;
	case FS_GRAPH_BY_EXPORTER: return FS_TOPN_EXPORTER;
	case FS_GRAPH_BY_INTERFACE: return FS_TOPN_IN_IF;
	case FS_GRAPH_BY_SRC_ADDR: return FS_TOPN_SRC_ADDR;
	default: return FS_TOPN_DST_ADDR;
	}
}

enum fs_topn_metric
fs_graph_metric_topn(enum fs_graph_metric metric)
{
	if (metric == FS_GRAPH_PACKETS)
		return FS_TOPN_PACKETS;
	if (metric == FS_GRAPH_FLOWS)
		return FS_TOPN_FLOWS;
	return FS_TOPN_BYTES;
}

/* ---- names of members ---- */

static void
proto_name(uint8_t proto, char *buf, size_t len)
{
	const char *name = fs_proto_name(proto);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "proto %u", proto);
}

/*
 * Names the service of a flow: the destination port's name, else the
 * source port's (the reply of a server), else "tcp/8081".  Flows without
 * ports are named by protocol.
 */
static void
service_key(const struct fs_graph_acc *acc, const struct fs_flow *flow, char *key, size_t len)
{
	char proto[24];
	const char *name = NULL;

	proto_name(flow->proto, proto, sizeof(proto));
	if (fs_flow_has(flow, FS_F_DST_SERVICE) && flow->dst_service[0]) {
		snprintf(key, len, "%s", flow->dst_service);
		return;
	}
	if (fs_flow_has(flow, FS_F_SRC_SERVICE) && flow->src_service[0]) {
		snprintf(key, len, "%s", flow->src_service);
		return;
	}
	if (!fs_flow_has(flow, FS_F_DST_PORT) || !fs_flow_has(flow, FS_F_SRC_PORT)) {
		snprintf(key, len, "%s", proto);
		return;
	}
	if (acc->services) {
		name = fs_services_name(acc->services, flow->proto, flow->dst_port);
		if (!name)
			name = fs_services_name(acc->services, flow->proto, flow->src_port);
	}
	if (name)
		snprintf(key, len, "%s", name);
	else
		snprintf(key, len, "%s/%u", proto, flow->dst_port);
}

/* Writes the member of flow into key; returns false when the flow lacks the dimension. */
static bool
flow_key(const struct fs_graph_acc *acc, const struct fs_flow *flow, char *key, size_t len)
{
	char owner[FS_FLOW_EXPORTER_NAME_LEN];

	switch (acc->by) {
	case FS_GRAPH_BY_PROTO:
		if (!fs_flow_has(flow, FS_F_PROTO))
			return false;
		proto_name(flow->proto, key, len);
		return true;
	case FS_GRAPH_BY_SERVICE:
		if (!fs_flow_has(flow, FS_F_PROTO))
			return false;
		service_key(acc, flow, key, len);
		return true;
	case FS_GRAPH_BY_EXPORTER:
		if (fs_flow_has(flow, FS_F_EXPORTER_NAME) && flow->exporter_name[0])
			snprintf(key, len, "%s", flow->exporter_name);
		else
			fs_addr_format(&flow->exporter_addr, key);
		return true;
	case FS_GRAPH_BY_INTERFACE:
		if (!fs_flow_has(flow, FS_F_IN_IF))
			return false;
		if (fs_flow_has(flow, FS_F_EXPORTER_NAME) && flow->exporter_name[0])
			snprintf(owner, sizeof(owner), "%s", flow->exporter_name);
		else
			fs_addr_format(&flow->exporter_addr, owner);
		if (fs_flow_has(flow, FS_F_IN_IF_NAME) && flow->in_if_name[0])
			snprintf(key, len, "%s %s", owner, flow->in_if_name);
		else
			snprintf(key, len, "%s/%u", owner, flow->in_if);
		return true;
	case FS_GRAPH_BY_SRC_ADDR:
		if (!fs_flow_has(flow, FS_F_SRC_ADDR) || flow->src_addr.family == 0)
			return false;
		fs_addr_format(&flow->src_addr, key);
		return true;
	case FS_GRAPH_BY_DST_ADDR:
		if (!fs_flow_has(flow, FS_F_DST_ADDR) || flow->dst_addr.family == 0)
			return false;
		fs_addr_format(&flow->dst_addr, key);
		return true;
	default:
		return false;
	}
}

/* ---- accumulator ---- */

struct fs_graph_acc *
fs_graph_acc_new(enum fs_graph_by by, enum fs_graph_metric metric, int64_t step_s, int npoints,
		 int64_t end_s, const struct fs_services *services)
{
	struct fs_graph_acc *acc;

	if (by >= FS_GRAPH_BY_COUNT || metric >= FS_GRAPH_METRIC_COUNT || step_s <= 0 ||
	    npoints < 1 || npoints > FS_GRAPH_MAX_POINTS)
		return NULL;
	acc = calloc(1, sizeof(*acc));
	if (!acc)
		return NULL;
	acc->by = by;
	acc->metric = metric;
	acc->step_s = step_s;
	acc->npoints = npoints;
	acc->services = services;
	if (end_s >= 0) {
		acc->fixed_end = true;
		acc->started = true;
		acc->last_bucket = (end_s + step_s - 1) / step_s - 1;
	}
	return acc;
}

void
fs_graph_acc_free(struct fs_graph_acc *acc)
{
	if (!acc)
		return;
	for (int i = 0; i < KEY_SLOTS; i++)
		free(acc->keys[i].sums);
	free(acc);
}

static int
ring_slot(const struct fs_graph_acc *acc, int64_t bucket)
{
	int64_t slot = bucket % acc->npoints;

	return (int)(slot < 0 ? slot + acc->npoints : slot);
}

/* Moves the newest bucket forward to bucket, clearing the buckets it reuses. */
static void
advance(struct fs_graph_acc *acc, int64_t bucket)
{
	int64_t clear = bucket - acc->last_bucket;

	if (clear > acc->npoints)
		clear = acc->npoints;
	for (int64_t b = bucket - clear + 1; b <= bucket; b++) {
		int slot = ring_slot(acc, b);

		for (int d = 0; d < FS_GRAPH_DIRECTION_COUNT; d++) {
			acc->totals[d][slot] = 0;
			for (int k = 0; k < KEY_SLOTS; k++) {
				if (acc->keys[k].sums)
					acc->keys[k].sums[d * acc->npoints + slot] = 0;
			}
		}
	}
	acc->last_bucket = bucket;
}

static uint64_t
hash_text(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	while (*s)
		h = (h ^ (uint8_t)*s++) * UINT64_C(1099511628211);
	return h;
}

/*
 * Finds or adds the entry of key.  Returns it, NULL when FS_GRAPH_MAX_KEYS
 * members are tracked already (*full set), or NULL when memory is short.
 */
static struct key_entry *
find_key(struct fs_graph_acc *acc, const char *key, bool *full)
{
	size_t i = (size_t)hash_text(key) & (KEY_SLOTS - 1);

	*full = false;
	while (acc->keys[i].name[0] && strcmp(acc->keys[i].name, key) != 0)
		i = (i + 1) & (KEY_SLOTS - 1);
	if (acc->keys[i].name[0])
		return &acc->keys[i];
	if (acc->nkeys >= FS_GRAPH_MAX_KEYS) {
		*full = true;
		return NULL;
	}
	acc->keys[i].sums = calloc((size_t)FS_GRAPH_DIRECTION_COUNT * (size_t)acc->npoints,
				   sizeof(uint64_t));
	if (!acc->keys[i].sums)
		return NULL;
	snprintf(acc->keys[i].name, sizeof(acc->keys[i].name), "%s", key);
	acc->nkeys++;
	return &acc->keys[i];
}

static uint64_t
flow_value(enum fs_graph_metric metric, const struct fs_flow *flow)
{
	if (metric == FS_GRAPH_FLOWS)
		return 1;
	if (metric == FS_GRAPH_PACKETS)
		return fs_flow_has(flow, FS_F_PACKETS) ? flow->packets : 0;
	return fs_flow_has(flow, FS_F_BYTES) ? flow->bytes * 8 : 0;
}

static enum fs_graph_direction
flow_direction(const struct fs_flow *flow)
{
	if (!fs_flow_has(flow, FS_F_TRAFFIC_DIRECTION))
		return FS_GRAPH_UNDIRECTED;
	if (flow->traffic_direction == FS_TRAFFIC_INBOUND)
		return FS_GRAPH_INBOUND;
	if (flow->traffic_direction == FS_TRAFFIC_OUTBOUND)
		return FS_GRAPH_OUTBOUND;
	return FS_GRAPH_UNDIRECTED;
}

int
fs_graph_acc_add(struct fs_graph_acc *acc, const struct fs_flow *flow)
{
	int64_t t_ns = fs_flow_has(flow, FS_F_TIME_FLOW_START) ? flow->time_flow_start_ns
							       : flow->time_received_ns;
	int64_t bucket = t_ns < 0 ? -1 : t_ns / INT64_C(1000000000) / acc->step_s;
	enum fs_graph_direction dir = flow_direction(flow);
	uint64_t value = flow_value(acc->metric, flow);
	struct key_entry *entry = NULL;
	char key[FS_GRAPH_NAME_LEN];
	bool has_key, full = false;
	int slot;

	if (bucket < 0 || (acc->started && bucket <= acc->last_bucket - acc->npoints) ||
	    (acc->fixed_end && bucket > acc->last_bucket)) {
		acc->stats.outside++;
		return 0;
	}
	has_key = flow_key(acc, flow, key, sizeof(key));
	if (has_key) {
		entry = find_key(acc, key, &full);
		if (!entry && !full)
			return FS_ERR_SYSTEM;
	}
	if (!acc->started) {
		acc->started = true;
		acc->last_bucket = bucket;
	} else if (bucket > acc->last_bucket) {
		advance(acc, bucket);
	}
	slot = ring_slot(acc, bucket);
	acc->totals[dir][slot] = fs_count_add(acc->totals[dir][slot], value);
	if (entry)
		entry->sums[dir * acc->npoints + slot] =
			fs_count_add(entry->sums[dir * acc->npoints + slot], value);
	else if (full)
		acc->stats.untracked++;
	else
		acc->stats.no_key++;
	acc->stats.added++;
	return 0;
}

void
fs_graph_acc_stats(const struct fs_graph_acc *acc, struct fs_graph_acc_stats *stats)
{
	*stats = acc->stats;
}

struct ranked {
	const struct key_entry *entry;
	uint64_t total;
};

static int
compare_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->entry->name, y->entry->name);
}

static void
finish_other(struct fs_graph_series *out, const uint64_t totals[][FS_GRAPH_MAX_POINTS],
	     const int *slot_of_point)
{
	int o = out->nseries;

	snprintf(out->names[o], sizeof(out->names[o]), "%s", FS_GRAPH_OTHER_NAME);
	for (int d = 0; d < FS_GRAPH_DIRECTION_COUNT; d++) {
		for (int p = 0; p < out->npoints; p++) {
			uint64_t named = 0, total = totals[d][slot_of_point[p]];

			for (int s = 0; s < out->nseries; s++)
				named = fs_count_add(named, out->sum[d][s][p]);
			out->sum[d][o][p] = total > named ? total - named : 0;
			if (out->sum[d][o][p])
				out->has_other = true;
			if (total && d != FS_GRAPH_UNDIRECTED)
				out->directional = true;
		}
	}
}

int
fs_graph_acc_finish(const struct fs_graph_acc *acc, int n, struct fs_graph_series *out)
{
	struct ranked *ranked;
	int slot_of_point[FS_GRAPH_MAX_POINTS];
	int64_t first;
	int nranked = 0;

	if (n < 1 || n > FS_GRAPH_MAX_SERIES)
		return FS_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	out->by = acc->by;
	out->metric = acc->metric;
	out->step_s = acc->step_s;
	if (!acc->started)
		return 0;
	ranked = calloc(KEY_SLOTS, sizeof(*ranked));
	if (!ranked)
		return FS_ERR_SYSTEM;
	first = acc->last_bucket - acc->npoints + 1;
	out->start_s = first * acc->step_s;
	out->npoints = acc->npoints;
	for (int p = 0; p < acc->npoints; p++)
		slot_of_point[p] = ring_slot(acc, first + p);

	for (int k = 0; k < KEY_SLOTS; k++) {
		const struct key_entry *e = &acc->keys[k];
		uint64_t total = 0;

		if (!e->sums)
			continue;
		for (int i = 0; i < FS_GRAPH_DIRECTION_COUNT * acc->npoints; i++)
			total = fs_count_add(total, e->sums[i]);
		if (total == 0)
			continue;
		ranked[nranked].entry = e;
		ranked[nranked].total = total;
		nranked++;
	}
	qsort(ranked, (size_t)nranked, sizeof(*ranked), compare_ranked);
	out->nseries = nranked < n ? nranked : n;
	for (int s = 0; s < out->nseries; s++) {
		snprintf(out->names[s], sizeof(out->names[s]), "%s", ranked[s].entry->name);
		for (int d = 0; d < FS_GRAPH_DIRECTION_COUNT; d++) {
			for (int p = 0; p < out->npoints; p++)
				out->sum[d][s][p] =
					ranked[s].entry->sums[d * acc->npoints + slot_of_point[p]];
		}
	}
	finish_other(out, (const uint64_t (*)[FS_GRAPH_MAX_POINTS])acc->totals, slot_of_point);
	free(ranked);
	return 0;
}

/* ---- live counters ---- */

static void
live_name(enum fs_graph_by by, const char *member, const struct fs_services *services,
	  char *name, size_t len)
{
	char *end;
	unsigned long v = strtoul(member, &end, 10);
	const char *service = NULL;

	if (by == FS_GRAPH_BY_PROTO && end != member && !*end && v <= 255) {
		proto_name((uint8_t)v, name, len);
		return;
	}
	if (by == FS_GRAPH_BY_SERVICE && end != member && !*end && v <= 65535) {
		if (services) {
			service = fs_services_name(services, 6, (uint16_t)v);
			if (!service)
				service = fs_services_name(services, 17, (uint16_t)v);
		}
		if (service)
			snprintf(name, len, "%s", service);
		else
			snprintf(name, len, "port %lu", v);
		return;
	}
	snprintf(name, len, "%s", member);
}

int
fs_graph_series_from_topn(const struct fs_topn_series *in, enum fs_graph_by by,
			  enum fs_graph_metric metric, const struct fs_services *services,
			  struct fs_graph_series *out)
{
	uint64_t scale = metric == FS_GRAPH_BITS ? 8 : 1;
	const int u = FS_GRAPH_UNDIRECTED;

	if (by >= FS_GRAPH_BY_COUNT || in->metric != fs_graph_metric_topn(metric) ||
	    in->npoints < 0 || in->npoints > FS_GRAPH_MAX_POINTS ||
	    in->nmembers < 0 || in->nmembers > FS_GRAPH_MAX_SERIES)
		return FS_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	out->by = by;
	out->metric = metric;
	out->step_s = in->resolution_s;
	out->npoints = in->npoints;
	out->start_s = in->npoints > 0 ? in->start_s[0] : 0;
	out->nseries = in->nmembers;
	for (int s = 0; s < in->nmembers; s++) {
		live_name(by, in->members[s], services, out->names[s], sizeof(out->names[s]));
		for (int p = 0; p < in->npoints; p++)
			out->sum[u][s][p] = in->values[s][p] * scale;
	}
	snprintf(out->names[out->nseries], sizeof(out->names[0]), "%s", FS_GRAPH_OTHER_NAME);
	for (int p = 0; p < in->npoints; p++) {
		out->sum[u][out->nseries][p] = in->other[p] * scale;
		if (in->other[p])
			out->has_other = true;
	}
	return 0;
}
