/*
 * exporter_stats.h - counters per exporter and observation domain, with loss
 * accounting from export sequence numbers.
 *
 * One entry is kept per (exporter address, exporter port, protocol,
 * observation domain).  The domain is the IPFIX observation domain, the v9
 * source id, or engine_type * 256 + engine_id for NetFlow v5.  The table is
 * allocated once with room for max_exporters entries; an exporter seen when
 * it is full is counted in `untracked` and gets no entry.  Lookups allocate
 * nothing.
 *
 * Sequence numbers count a different unit in each protocol:
 *
 *   NetFlow v5, v7   flows exported before this datagram
 *   NetFlow v9       export datagrams (packets) sent before this one
 *   IPFIX            data records sent before this message, per domain
 *   sFlow v5         datagrams sent by the agent (sub-agent)
 *
 * An sFlow entry's exporter is the agent address of the datagram header, not
 * the datagram's source, because a relay may forward several agents from one
 * source address and each agent numbers its own datagrams.
 *
 * sFlow flow and counter samples also carry a sequence number of their own,
 * counting the samples of one kind that one data source (source id type and
 * index) generated.  fs_exporter_stats_sample() checks it per (entry, agent
 * address, kind, source id) in a second table of at most max_sources
 * entries.  A sample from a new source when that table is full is counted
 * in fs_exporter_stats_sources_untracked().  Gaps and lost samples are
 * counted in the source's entry and summed in its exporter entry.
 *
 * fs_exporter_stats_sequence() is given the message's sequence number and how
 * many units the message carried.  The next sequence number expected is the
 * sum, modulo 2^32.  A message whose number is ahead by less than 2^31 counts
 * one gap and the units in between as lost.  A number behind the expected one
 * (by less than 2^31 the other way) counts a reorder or an exporter restart
 * in `sequence_resets`, without loss.
 *
 * Thread safety: none; the owning decoder serialises access.
 */
#ifndef FS_DECODE_EXPORTER_STATS_H
#define FS_DECODE_EXPORTER_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Why a datagram, set or template was not (fully) decoded. */
enum fs_malformed_reason {
	FS_MALFORMED_TRUNCATED = 0,     /* a length runs past the data */
	FS_MALFORMED_INVALID,           /* the bytes contradict their format */
	FS_MALFORMED_UNSUPPORTED,       /* a version or structure not decoded */
	FS_MALFORMED_TEMPLATE_REJECTED, /* a template that cannot be used */
	FS_MALFORMED_LENGTH_MISMATCH,   /* header length disagrees with the sets; decoded anyway */
	FS_MALFORMED_SAMPLING,          /* a sampling rate of 0 or absurd size, not applied */
	FS_MALFORMED_COUNTER,           /* a byte or packet count over FS_COUNT_MAX, clamped */
	FS_MALFORMED_REASON_COUNT
};

/* Returns the name of a reason ("truncated", "length_mismatch", ...). */
const char *fs_malformed_reason_name(enum fs_malformed_reason reason);
/*
 * Position in a sequence of export or sample numbers; private to
 * exporter_stats.c.  A number behind the expected one leaves the expected
 * number alone and is remembered.  The expected number moves back only when
 * the next number continues from it (an exporter that restarted), so a late
 * datagram does not make the one after it look like a gap.
 */
struct fs_sequence_state {
	bool known;         /* next is set */
	bool behind_known;  /* behind_next is set */
	uint32_t next;      /* expected number */
	uint32_t behind_next; /* number after the last one behind next */
};


/* Counters of one exporter and domain. */
struct fs_exporter_entry {
	struct fs_addr exporter;
	uint16_t exporter_port;
	uint8_t flow_type;               /* enum fs_flow_type */
	uint32_t domain;

	uint64_t packets;                /* datagrams, or IPFIX messages */
	uint64_t records;                /* flow records decoded */
	uint64_t templates;              /* templates learned */
	uint64_t unknown_templates;      /* data sets whose template was not known */
	uint64_t malformed[FS_MALFORMED_REASON_COUNT];
	uint64_t sequence_gaps;          /* messages that came after a gap */
	uint64_t sequence_lost;          /* units missing in those gaps */
	uint64_t sequence_resets;        /* numbers behind the expected one */
	/* sFlow per-source sample sequences, summed over the entry's sources */
	uint64_t flow_sample_gaps;       /* flow samples that came after a gap */
	uint64_t flow_samples_lost;      /* flow samples missing in those gaps */
	uint64_t counter_sample_gaps;    /* counter samples that came after a gap */
	uint64_t counter_samples_lost;   /* counter samples missing in those gaps */
	uint64_t sample_sequence_resets; /* sample numbers behind the expected one */

	/* private to exporter_stats.c */
	bool used;
	struct fs_sequence_state sequence;
};

/* Kind of sFlow sample whose sequence a source entry follows. */
enum fs_sflow_sample_kind {
	FS_SFLOW_FLOW_SAMPLES = 0,
	FS_SFLOW_COUNTER_SAMPLES = 1,
};

/* Counters of one sFlow data source and sample kind. */
struct fs_sflow_source_entry {
	const struct fs_exporter_entry *exporter; /* datagram source and sub-agent */
	struct fs_addr agent;            /* agent address of the sFlow header */
	uint8_t kind;                    /* enum fs_sflow_sample_kind */
	uint8_t source_type;             /* 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry */
	uint32_t source_index;
	uint64_t samples;                /* samples decoded */
	uint64_t sequence_gaps;          /* samples that came after a gap */
	uint64_t sequence_lost;          /* samples missing in those gaps */
	uint64_t sequence_resets;        /* numbers behind the expected one */

	/* private to exporter_stats.c */
	struct fs_sequence_state sequence;
};

struct fs_exporter_stats;

/* Default bounds of fs_exporter_stats_new(). */
#define FS_EXPORTER_STATS_DEFAULT_MAX 4096
#define FS_EXPORTER_STATS_DEFAULT_MAX_SOURCES 65536

/*
 * Creates a table with room for max_exporters entries and max_sources sFlow
 * source entries (0 means FS_EXPORTER_STATS_DEFAULT_MAX_SOURCES); NULL when
 * memory runs out.
 */
struct fs_exporter_stats *fs_exporter_stats_new(uint32_t max_exporters,
						uint32_t max_sources);

void fs_exporter_stats_free(struct fs_exporter_stats *stats);

/*
 * Returns the entry of (exporter, port, flow_type, domain), creating it when
 * there is room, or NULL when the table is full (counted in untracked).  The
 * pointer stays valid until the table is freed.
 */
struct fs_exporter_entry *fs_exporter_stats_get(struct fs_exporter_stats *stats,
						const struct fs_addr *exporter,
						uint16_t exporter_port,
						uint8_t flow_type, uint32_t domain);

/*
 * Checks sequence against the number expected for entry and sets the next
 * expected number to sequence + units.  With units_known false the next
 * message's number is not checked (used when a message held records that
 * could not be counted, such as data sets without a template).
 */
void fs_exporter_stats_sequence(struct fs_exporter_entry *entry, uint32_t sequence,
				uint32_t units, bool units_known);

/*
 * Checks the sequence number of one sFlow sample of kind from the data
 * source (source_type, source_index) of agent, under entry.  Each sample
 * advances the expected number by 1.  The source entry is created when
 * there is room, else the sample is only counted in sources_untracked.
 */
void fs_exporter_stats_sample(struct fs_exporter_stats *stats, struct fs_exporter_entry *entry,
			      const struct fs_addr *agent, enum fs_sflow_sample_kind kind,
			      uint8_t source_type, uint32_t source_index, uint32_t sequence);

/* Returns how many sFlow source entries are in use. */
uint32_t fs_exporter_stats_source_count(const struct fs_exporter_stats *stats);

/* Returns source entry index (0 <= index < fs_exporter_stats_source_count()). */
const struct fs_sflow_source_entry *fs_exporter_stats_source_at(const struct fs_exporter_stats *stats,
								uint32_t index);

/* Returns how many sFlow samples found the source table full. */
uint64_t fs_exporter_stats_sources_untracked(const struct fs_exporter_stats *stats);

/* Returns "flow" or "counter". */
const char *fs_sflow_sample_kind_name(enum fs_sflow_sample_kind kind);

/* Returns how many entries are in use; entries are numbered 0..count-1 in no set order. */
uint32_t fs_exporter_stats_count(const struct fs_exporter_stats *stats);

/* Returns entry index (0 <= index < fs_exporter_stats_count()). */
const struct fs_exporter_entry *fs_exporter_stats_at(const struct fs_exporter_stats *stats,
						     uint32_t index);

/* Returns how many lookups found the table full. */
uint64_t fs_exporter_stats_untracked(const struct fs_exporter_stats *stats);

/* Returns the unit of the sequence numbers of flow_type ("flows", "packets", ...). */
const char *fs_exporter_sequence_unit(uint8_t flow_type);

#endif
