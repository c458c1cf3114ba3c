/*
 * exporter_stats.c - open-addressing tables of per-exporter and per-sFlow
 * source counters.
 *
 * Entries of each table are stored in insertion order in one array.  A
 * separate index of twice the capacity, probed linearly, maps a key hash to
 * the entry.  Entries are never removed, so the index needs no tombstones.
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

	/* sFlow sources, the same layout */
	uint32_t source_capacity;
	uint32_t source_count;
	uint32_t source_index_mask;
	uint64_t sources_untracked;
	uint32_t *source_index;
	struct fs_sflow_source_entry *sources;
};

static const char *const reason_names[FS_MALFORMED_REASON_COUNT] = {
	[FS_MALFORMED_TRUNCATED] = "truncated",
	[FS_MALFORMED_INVALID] = "invalid",
	[FS_MALFORMED_UNSUPPORTED] = "unsupported",
	[FS_MALFORMED_TEMPLATE_REJECTED] = "template_rejected",
	[FS_MALFORMED_LENGTH_MISMATCH] = "length_mismatch",
	[FS_MALFORMED_SAMPLING] = "sampling_invalid",
	[FS_MALFORMED_COUNTER] = "counter_clamped",
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

const char *
fs_sflow_sample_kind_name(enum fs_sflow_sample_kind kind)
{
	return kind == FS_SFLOW_COUNTER_SAMPLES ? "counter" : "flow";
}

/* Clamps a capacity to 1 .. 2^24 and returns the index slots for it. */
static uint32_t
index_slots(uint32_t *capacity)
{
	uint32_t slots = 16;

	if (*capacity == 0)
		*capacity = 1;
	if (*capacity > (1u << 24))
		*capacity = 1u << 24;
	while (slots < *capacity * 2u)
		slots <<= 1;
	return slots;
}

struct fs_exporter_stats *
fs_exporter_stats_new(uint32_t max_exporters, uint32_t max_sources)
{
	struct fs_exporter_stats *stats;
	uint32_t slots = index_slots(&max_exporters);
	uint32_t source_slots;

	if (max_sources == 0)
		max_sources = FS_EXPORTER_STATS_DEFAULT_MAX_SOURCES;
	source_slots = index_slots(&max_sources);

	stats = calloc(1, sizeof(*stats));
	if (!stats)
		return NULL;
	stats->index = malloc((size_t)slots * sizeof(*stats->index));
	stats->entries = calloc(max_exporters, sizeof(*stats->entries));
	stats->source_index = malloc((size_t)source_slots * sizeof(*stats->source_index));
	stats->sources = calloc(max_sources, sizeof(*stats->sources));
	if (!stats->index || !stats->entries || !stats->source_index || !stats->sources) {
		fs_exporter_stats_free(stats);
		return NULL;
	}
	memset(stats->index, 0xff, (size_t)slots * sizeof(*stats->index));
	stats->capacity = max_exporters;
	stats->index_mask = slots - 1;
	memset(stats->source_index, 0xff, (size_t)source_slots * sizeof(*stats->source_index));
	stats->source_capacity = max_sources;
	stats->source_index_mask = source_slots - 1;
	return stats;
}

void
fs_exporter_stats_free(struct fs_exporter_stats *stats)
{
	if (!stats)
		return;
	free(stats->index);
	free(stats->entries);
	free(stats->source_index);
	free(stats->sources);
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

/* Sequence state and the counters a check adds to. */
struct sequence_check {
	struct fs_sequence_state *state;
	uint64_t *gaps;
	uint64_t *lost;
	uint64_t *resets;
};

/*
 * Compares sequence with the expected number and counts a gap with the units
 * lost, or a reset.  Returns the units lost, 0 when none were or on a reset.
 * units_known is false when the message's units could not all be counted,
 * which leaves the next number unchecked.
 */
static uint32_t
check_sequence(const struct sequence_check *c, uint32_t sequence, uint32_t units,
	       bool units_known)
{
	struct fs_sequence_state *st = c->state;
	uint32_t lost = 0;

	if (st->known && sequence != st->next) {
		/* Unsigned difference: correct across the 2^32 wrap. */
		uint32_t ahead = sequence - st->next;

		if (ahead < (1u << 31)) {
			(*c->gaps)++;
			*c->lost += ahead;
			lost = ahead;
		} else if (st->behind_known && sequence == st->behind_next) {
			/* The numbers go on from the one behind: a restart, already counted. */
		} else {
			/* Behind: a late datagram or a restart, which the next number decides. */
			(*c->resets)++;
			st->behind_known = units_known;
			st->behind_next = sequence + units;
			return 0;
		}
	}
	st->behind_known = false;
	st->known = units_known;
	st->next = sequence + units;
	return lost;
}

void
fs_exporter_stats_sequence(struct fs_exporter_entry *entry, uint32_t sequence,
			   uint32_t units, bool units_known)
{
	struct sequence_check c = {
		&entry->sequence, &entry->sequence_gaps, &entry->sequence_lost,
		&entry->sequence_resets,
	};

	(void)check_sequence(&c, sequence, units, units_known);
}

static uint32_t
hash_source(uint32_t exporter_index, const struct fs_addr *agent, uint8_t kind,
	    uint8_t source_type, uint32_t source_index)
{
	uint8_t key[14] = {
		(uint8_t)(exporter_index >> 24), (uint8_t)(exporter_index >> 16),
		(uint8_t)(exporter_index >> 8), (uint8_t)exporter_index,
		agent->family, kind, source_type,
		(uint8_t)(source_index >> 24), (uint8_t)(source_index >> 16),
		(uint8_t)(source_index >> 8), (uint8_t)source_index,
	};
	size_t len = agent->family == 4 ? 4 : 16;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ agent->bytes[i]) * 16777619u;
	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* Returns the source entry of the key, creating it when there is room, or NULL. */
static struct fs_sflow_source_entry *
find_source(struct fs_exporter_stats *stats, const struct fs_exporter_entry *entry,
	    const struct fs_addr *agent, uint8_t kind, uint8_t source_type,
	    uint32_t source_index)
{
	uint32_t exporter_index = (uint32_t)(entry - stats->entries);
	uint32_t slot = hash_source(exporter_index, agent, kind, source_type, source_index) &
			stats->source_index_mask;
	struct fs_sflow_source_entry *s;

	/* The index is at least twice the capacity, so an empty slot is always found. */
	for (;; slot = (slot + 1) & stats->source_index_mask) {
		uint32_t n = stats->source_index[slot];

		if (n == EMPTY)
			break;
		s = &stats->sources[n];
		if (s->exporter == entry && s->kind == kind && s->source_type == source_type &&
		    s->source_index == source_index && fs_addr_equal(&s->agent, agent))
			return s;
	}
	if (stats->source_count >= stats->source_capacity)
		return NULL;
	s = &stats->sources[stats->source_count];
	s->exporter = entry;
	s->agent = *agent;
	s->kind = kind;
	s->source_type = source_type;
	s->source_index = source_index;
	stats->source_index[slot] = stats->source_count++;
	return s;
}

void
fs_exporter_stats_sample(struct fs_exporter_stats *stats, struct fs_exporter_entry *entry,
			 const struct fs_addr *agent, enum fs_sflow_sample_kind kind,
			 uint8_t source_type, uint32_t source_index, uint32_t sequence)
{
	struct fs_sflow_source_entry *s = find_source(stats, entry, agent, (uint8_t)kind,
						      source_type, source_index);
	uint64_t gaps_before, resets_before;
	struct sequence_check c;
	uint32_t lost;

	if (s == NULL) {
		stats->sources_untracked++;
		return;
	}
	s->samples++;
	c = (struct sequence_check){
		&s->sequence, &s->sequence_gaps, &s->sequence_lost, &s->sequence_resets,
	};
	gaps_before = s->sequence_gaps;
	resets_before = s->sequence_resets;
	lost = check_sequence(&c, sequence, 1, true);

	if (s->sequence_resets != resets_before)
		entry->sample_sequence_resets++;
	if (s->sequence_gaps == gaps_before)
		return;
	if (kind == FS_SFLOW_COUNTER_SAMPLES) {
		entry->counter_sample_gaps++;
		entry->counter_samples_lost += lost;
	} else {
		entry->flow_sample_gaps++;
		entry->flow_samples_lost += lost;
	}
}

uint32_t
fs_exporter_stats_source_count(const struct fs_exporter_stats *stats)
{
	return stats->source_count;
}

const struct fs_sflow_source_entry *
fs_exporter_stats_source_at(const struct fs_exporter_stats *stats, uint32_t index)
{
	return index < stats->source_count ? &stats->sources[index] : NULL;
}

uint64_t
fs_exporter_stats_sources_untracked(const struct fs_exporter_stats *stats)
{
	return stats->sources_untracked;
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
