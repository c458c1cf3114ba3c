/*
 * exporter_metrics.c - per-exporter series with a cap on label sets.
 *
 * Label sets live in one array in the order they were first seen.  An
 * open-addressing index of at least twice the capacity, probed linearly,
 * maps a key hash to its set.  Sets are never removed.
 */
#include "exporter_metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

#define EMPTY UINT32_MAX

#define DATAGRAMS "flowsift_ingest_exporter_datagrams_total"
#define DATAGRAMS_HELP "Datagrams (IPFIX messages) decoded, by exporter, observation domain and protocol."
#define RECORDS "flowsift_ingest_exporter_records_total"
#define RECORDS_HELP "Flow records decoded, by exporter, observation domain and protocol."
#define GAPS "flowsift_ingest_exporter_sequence_gaps_total"
#define GAPS_HELP "Messages or sFlow samples that followed a gap in their sequence numbers; unit names what the numbers count."
#define LOST "flowsift_ingest_exporter_sequence_lost_total"
#define LOST_HELP "Units missing in sequence gaps, by exporter, observation domain, protocol and unit."

/* Indexes of the gap and loss series of one label set. */
enum sequence_kind {
	SEQUENCE_EXPORT = 0,    /* the export header's sequence */
	SEQUENCE_FLOW_SAMPLES,  /* sFlow only */
	SEQUENCE_COUNTER_SAMPLES,
	SEQUENCE_KIND_COUNT
};

/* The series of one label set and the sums of the current publish. */
struct series_set {
	struct fs_addr exporter;
	uint8_t flow_type;
	uint32_t domain;
	bool registered;
	struct fs_counter *datagrams;
	struct fs_counter *records;
	struct fs_counter *gaps[SEQUENCE_KIND_COUNT];  /* NULL for the sample kinds outside sFlow */
	struct fs_counter *lost[SEQUENCE_KIND_COUNT];
	uint64_t sum_datagrams;
	uint64_t sum_records;
	uint64_t sum_gaps[SEQUENCE_KIND_COUNT];
	uint64_t sum_lost[SEQUENCE_KIND_COUNT];
};

struct exporter_metrics {
	struct fs_metrics *metrics;
	uint32_t capacity;
	uint32_t count;
	uint32_t index_mask;
	uint32_t *index;            /* set numbers, EMPTY when free */
	struct series_set *sets;    /* capacity sets */
	struct series_set other[FS_FLOW_TYPE_COUNT];
};

struct exporter_metrics *
exporter_metrics_new(struct fs_metrics *m, uint32_t max_exporters)
{
	struct exporter_metrics *em = calloc(1, sizeof(*em));
	uint32_t slots = 16;

	if (!em)
		return NULL;
	while (slots < max_exporters * 2u && slots < (1u << 30))
		slots <<= 1;
	em->metrics = m;
	em->capacity = max_exporters;
	em->index_mask = slots - 1;
	em->index = malloc((size_t)slots * sizeof(*em->index));
	em->sets = calloc(max_exporters ? max_exporters : 1, sizeof(*em->sets));
	if (!em->index || !em->sets) {
		exporter_metrics_free(em);
		return NULL;
	}
	memset(em->index, 0xff, (size_t)slots * sizeof(*em->index));
	for (int t = 0; t < FS_FLOW_TYPE_COUNT; t++)
		em->other[t].flow_type = (uint8_t)t;
	return em;
}

void
exporter_metrics_free(struct exporter_metrics *em)
{
	if (!em)
		return;
	free(em->index);
	free(em->sets);
	free(em);
}

static uint32_t
hash_key(const struct exporter_counts *row)
{
	uint32_t h = 2166136261u;
	size_t len = row->exporter.family == 4 ? 4 : sizeof(row->exporter.bytes);
	uint8_t tail[6] = {
		row->exporter.family, row->flow_type,
		(uint8_t)(row->domain >> 24), (uint8_t)(row->domain >> 16),
		(uint8_t)(row->domain >> 8), (uint8_t)row->domain,
	};

	for (size_t i = 0; i < len; i++)
		h = (h ^ row->exporter.bytes[i]) * 16777619u;
	for (size_t i = 0; i < sizeof(tail); i++)
		h = (h ^ tail[i]) * 16777619u;
	return h;
}

static bool
set_is(const struct series_set *set, const struct exporter_counts *row)
{
	return set->flow_type == row->flow_type && set->domain == row->domain &&
	       fs_addr_equal(&set->exporter, &row->exporter);
}

/* Returns the label set of row, taking a free one when there is room, or NULL. */
static struct series_set *
find_set(struct exporter_metrics *em, const struct exporter_counts *row)
{
	uint32_t slot = hash_key(row) & em->index_mask;
	struct series_set *set;

	/* The index is at least twice the capacity, so an empty slot is always found. */
	for (;; slot = (slot + 1) & em->index_mask) {
		uint32_t n = em->index[slot];

		if (n == EMPTY)
			break;
		if (set_is(&em->sets[n], row))
			return &em->sets[n];
	}
	if (em->count >= em->capacity)
		return NULL;
	set = &em->sets[em->count];
	set->exporter = row->exporter;
	set->flow_type = row->flow_type;
	set->domain = row->domain;
	em->index[slot] = em->count++;
	return set;
}

static const char *
sequence_unit(uint8_t flow_type, enum sequence_kind kind)
{
	switch (kind) {
	case SEQUENCE_FLOW_SAMPLES: return "flow_samples";
	case SEQUENCE_COUNTER_SAMPLES: return "counter_samples";
	default: return fs_exporter_sequence_unit(flow_type);
	}
}

/*
 * Registers the series of set, whose label values are exporter and domain.
 * A series the registry rejects (logged there) stays NULL and is skipped.
 */
static void
register_set(struct exporter_metrics *em, struct series_set *set, const char *exporter,
	     const char *domain)
{
	const char *protocol = fs_flow_type_name((enum fs_flow_type)set->flow_type);
	int kinds = set->flow_type == FS_FLOW_SFLOW_V5 ? SEQUENCE_KIND_COUNT : 1;
	char labels[160];

	snprintf(labels, sizeof(labels), "exporter=%s,domain=%s,protocol=%s", exporter, domain,
		 protocol);
	set->datagrams = fs_metrics_counter(em->metrics, DATAGRAMS, DATAGRAMS_HELP, labels);
	set->records = fs_metrics_counter(em->metrics, RECORDS, RECORDS_HELP, labels);
	for (int k = 0; k < kinds; k++) {
		snprintf(labels, sizeof(labels), "exporter=%s,domain=%s,protocol=%s,unit=%s",
			 exporter, domain, protocol,
			 sequence_unit(set->flow_type, (enum sequence_kind)k));
		set->gaps[k] = fs_metrics_counter(em->metrics, GAPS, GAPS_HELP, labels);
		set->lost[k] = fs_metrics_counter(em->metrics, LOST, LOST_HELP, labels);
	}
	set->registered = true;
}

static void
register_exporter_set(struct exporter_metrics *em, struct series_set *set)
{
	char addr[FS_ADDR_STRLEN], domain[16];

	fs_addr_format(&set->exporter, addr);
	snprintf(domain, sizeof(domain), "%lu", (unsigned long)set->domain);
	register_set(em, set, addr[0] ? addr : "unknown", domain);
}

static void
add_row(struct series_set *set, const struct exporter_counts *row)
{
	set->sum_datagrams += row->packets;
	set->sum_records += row->records;
	set->sum_gaps[SEQUENCE_EXPORT] += row->sequence_gaps;
	set->sum_lost[SEQUENCE_EXPORT] += row->sequence_lost;
	set->sum_gaps[SEQUENCE_FLOW_SAMPLES] += row->flow_sample_gaps;
	set->sum_lost[SEQUENCE_FLOW_SAMPLES] += row->flow_samples_lost;
	set->sum_gaps[SEQUENCE_COUNTER_SAMPLES] += row->counter_sample_gaps;
	set->sum_lost[SEQUENCE_COUNTER_SAMPLES] += row->counter_samples_lost;
}

static void
clear_sums(struct series_set *set)
{
	set->sum_datagrams = 0;
	set->sum_records = 0;
	memset(set->sum_gaps, 0, sizeof(set->sum_gaps));
	memset(set->sum_lost, 0, sizeof(set->sum_lost));
}

static void
set_counter(struct fs_counter *counter, uint64_t value)
{
	if (counter)
		fs_counter_set(counter, value);
}

static void
write_sums(const struct series_set *set)
{
	if (!set->registered)
		return;
	set_counter(set->datagrams, set->sum_datagrams);
	set_counter(set->records, set->sum_records);
	for (int k = 0; k < SEQUENCE_KIND_COUNT; k++) {
		set_counter(set->gaps[k], set->sum_gaps[k]);
		set_counter(set->lost[k], set->sum_lost[k]);
	}
}

void
exporter_metrics_publish(struct exporter_metrics *em, const struct exporter_counts *rows,
			 size_t count)
{
	for (uint32_t i = 0; i < em->count; i++)
		clear_sums(&em->sets[i]);
	for (int t = 0; t < FS_FLOW_TYPE_COUNT; t++)
		clear_sums(&em->other[t]);

	for (size_t i = 0; i < count; i++) {
		struct series_set *set;

		if (rows[i].flow_type >= FS_FLOW_TYPE_COUNT)
			continue;
		set = find_set(em, &rows[i]);
		if (!set) {
			set = &em->other[rows[i].flow_type];
			if (!set->registered)
				register_set(em, set, "other", "other");
		} else if (!set->registered) {
			register_exporter_set(em, set);
		}
		add_row(set, &rows[i]);
	}

	for (uint32_t i = 0; i < em->count; i++)
		write_sums(&em->sets[i]);
	for (int t = 0; t < FS_FLOW_TYPE_COUNT; t++)
		write_sums(&em->other[t]);
}
