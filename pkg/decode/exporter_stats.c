/*
 * exporter_stats.c - an open-addressing table of per-exporter counters.
 *
 * Entries are stored in insertion order in one array; a separate index of
 * twice the capacity, probed linearly, maps a key hash to the entry.  Entries
 * are never removed, so the index needs no tombstones.
 */
#include "decode/exporter_stats.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX

struct fs_exporter_stats {
	uint32_t capacity;
	uint32_t count;
	uint32_t index_mask;
	uint64_t untracked;
	uint32_t *index;                   /* entry numbers, EMPTY when free */
	struct fs_exporter_entry *entries; /* capacity entries */
};

static const char *const reason_names[FS_MALFORMED_REASON_COUNT] = {
	[FS_MALFORMED_TRUNCATED] = "truncated",
	[FS_MALFORMED_INVALID] = "invalid",
	[FS_MALFORMED_UNSUPPORTED] = "unsupported",
	[FS_MALFORMED_TEMPLATE_REJECTED] = "template_rejected",
	[FS_MALFORMED_LENGTH_MISMATCH] = "length_mismatch",
	[FS_MALFORMED_SAMPLING] = "sampling_invalid",
};

const char *
fs_malformed_reason_name(enum fs_malformed_reason reason)
{
	if ((unsigned)reason >= FS_MALFORMED_REASON_COUNT)
		return "unknown";
	return reason_names[reason];
}

const char *
fs_exporter_sequence_unit(uint8_t flow_type)
{
	switch (flow_type) {
	case FS_FLOW_NETFLOW_V5: return "flows";
	case FS_FLOW_NETFLOW_V9: return "packets";
	case FS_FLOW_IPFIX: return "records";
	case FS_FLOW_SFLOW_V5: return "datagrams";
	default: return "units";
	}
}

struct fs_exporter_stats *
fs_exporter_stats_new(uint32_t max_exporters)
{
	struct fs_exporter_stats *stats;
	uint32_t slots = 16;

	if (max_exporters == 0)
		max_exporters = 1;
	if (max_exporters > (1u << 24))
		max_exporters = 1u << 24;
	while (slots < max_exporters * 2u)
		slots <<= 1;

	stats = calloc(1, sizeof(*stats));
	if (!stats)
		return NULL;
	stats->index = malloc((size_t)slots * sizeof(*stats->index));
	stats->entries = calloc(max_exporters, sizeof(*stats->entries));
	if (!stats->index || !stats->entries) {
		fs_exporter_stats_free(stats);
		return NULL;
	}
	memset(stats->index, 0xff, (size_t)slots * sizeof(*stats->index));
	stats->capacity = max_exporters;
	stats->index_mask = slots - 1;
	return stats;
}

void
fs_exporter_stats_free(struct fs_exporter_stats *stats)
{
	if (!stats)
		return;
	free(stats->index);
	free(stats->entries);
	free(stats);
}

static uint32_t
hash_key(const struct fs_addr *exporter, uint16_t port, uint8_t flow_type,
	 uint32_t domain)
{
	uint32_t h = 2166136261u;
	size_t len = exporter->family == 4 ? 4 : 16;
	uint8_t tail[7] = {
		exporter->family, (uint8_t)(port >> 8), (uint8_t)port, flow_type,
		(uint8_t)(domain >> 24), (uint8_t)(domain >> 16), (uint8_t)(domain >> 8),
	};

	for (size_t i = 0; i < len; i++)
		h = (h ^ exporter->bytes[i]) * 16777619u;
	for (size_t i = 0; i < sizeof(tail); i++)
		h = (h ^ tail[i]) * 16777619u;
	return (h ^ (uint8_t)domain) * 16777619u;
}

static bool
entry_is(const struct fs_exporter_entry *e, const struct fs_addr *exporter,
	 uint16_t port, uint8_t flow_type, uint32_t domain)
{
	return e->exporter_port == port && e->flow_type == flow_type &&
	       e->domain == domain && fs_addr_equal(&e->exporter, exporter);
}

struct fs_exporter_entry *
fs_exporter_stats_get(struct fs_exporter_stats *stats, const struct fs_addr *exporter,
		      uint16_t exporter_port, uint8_t flow_type, uint32_t domain)
{
	uint32_t slot = hash_key(exporter, exporter_port, flow_type, domain) &
			stats->index_mask;
	struct fs_exporter_entry *e;

	/* The index is at least twice the capacity, so an empty slot is always found. */
	for (;; slot = (slot + 1) & stats->index_mask) {
		uint32_t n = stats->index[slot];

		if (n == EMPTY)
			break;
		if (entry_is(&stats->entries[n], exporter, exporter_port, flow_type, domain))
			return &stats->entries[n];
	}
	if (stats->count >= stats->capacity) {
		stats->untracked++;
		return NULL;
	}
	e = &stats->entries[stats->count];
	e->used = true;
	e->exporter = *exporter;
	e->exporter_port = exporter_port;
	e->flow_type = flow_type;
	e->domain = domain;
	stats->index[slot] = stats->count++;
	return e;
}

void
fs_exporter_stats_sequence(struct fs_exporter_entry *entry, uint32_t sequence,
			   uint32_t units, bool units_known)
{
	if (entry->sequence_known && sequence != entry->next_sequence) {
		/* Unsigned difference: correct across the 2^32 wrap. */
		uint32_t ahead = sequence - entry->next_sequence;

		if (ahead < (1u << 31)) {
			entry->sequence_gaps++;
			entry->sequence_lost += ahead;
		} else {
			entry->sequence_resets++;
		}
	}
	entry->sequence_known = units_known;
	entry->next_sequence = sequence + units;
}

uint32_t
fs_exporter_stats_count(const struct fs_exporter_stats *stats)
{
	return stats->count;
}

const struct fs_exporter_entry *
fs_exporter_stats_at(const struct fs_exporter_stats *stats, uint32_t index)
{
	return index < stats->count ? &stats->entries[index] : NULL;
}

uint64_t
fs_exporter_stats_untracked(const struct fs_exporter_stats *stats)
{
	return stats->untracked;
}
