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
	FS_MALFORMED_REASON_COUNT
};

/* Returns the name of a reason ("truncated", "length_mismatch", ...). */
const char *fs_malformed_reason_name(enum fs_malformed_reason reason);

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

	/* private to exporter_stats.c */
	bool used;
	bool sequence_known;
	uint32_t next_sequence;
};

struct fs_exporter_stats;

/* Default bound of fs_exporter_stats_new(). */
#define FS_EXPORTER_STATS_DEFAULT_MAX 4096

/* Creates a table with room for max_exporters entries; NULL when memory runs out. */
struct fs_exporter_stats *fs_exporter_stats_new(uint32_t max_exporters);

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
