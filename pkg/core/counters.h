/*
 * counters.h - one sFlow counter sample as decoders produce it.
 *
 * An sFlow counter sample reports the counters of one data source (an
 * interface, a VLAN, a host) at one moment.  struct fs_counters contains the
 * records flowsift decodes, the generic interface counters and the Ethernet
 * interface counters.  It also lists the format and length of every other
 * record the sample carried, so a consumer sees what was left out.  The Avro codec
 * (pkg/avro/counters_codec.h) writes it as schemas/counters.avsc.
 *
 * The struct is plain data with no pointers, so it can be copied and zeroed
 * with memset.  Field meanings follow the sFlow v5 specification
 * (sflow.org/sflow_version_5.txt), whose counters follow RFC 2863 (ifTable)
 * and RFC 3635 (dot3StatsTable).
 */
#ifndef FS_CORE_COUNTERS_H
#define FS_CORE_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/flow.h"

/* Records of other formats listed per sample; further ones are only counted. */
#define FS_COUNTERS_MAX_OTHER_RECORDS 16

/* Presence bits of the record groups in struct fs_counters. */
enum fs_counters_group {
	FS_C_GENERIC = 1u << 0,   /* generic interface counters, format 0:1 */
	FS_C_ETHERNET = 1u << 1,  /* Ethernet interface counters, format 0:2 */
};

/* Generic interface counters (sFlow counter record 0:1, 88 bytes). */
struct fs_counters_generic {
	uint32_t if_index;
	uint32_t if_type;            /* IANAifType */
	uint64_t if_speed;           /* bits per second */
	uint32_t if_direction;       /* 0 unknown, 1 full duplex, 2 half, 3 in, 4 out */
	uint32_t if_status;          /* bit 0 admin up, bit 1 operational up */
	uint64_t in_octets;
	uint32_t in_ucast_pkts;
	uint32_t in_mcast_pkts;
	uint32_t in_bcast_pkts;
	uint32_t in_discards;
	uint32_t in_errors;
	uint32_t in_unknown_protos;
	uint64_t out_octets;
	uint32_t out_ucast_pkts;
	uint32_t out_mcast_pkts;
	uint32_t out_bcast_pkts;
	uint32_t out_discards;
	uint32_t out_errors;
	uint32_t promiscuous;        /* 1 when the interface is in promiscuous mode */
};

/* Ethernet interface counters (sFlow counter record 0:2, 52 bytes). */
struct fs_counters_ethernet {
	uint32_t alignment_errors;
	uint32_t fcs_errors;
	uint32_t single_collision_frames;
	uint32_t multiple_collision_frames;
	uint32_t sqe_test_errors;
	uint32_t deferred_transmissions;
	uint32_t late_collisions;
	uint32_t excessive_collisions;
	uint32_t internal_mac_transmit_errors;
	uint32_t carrier_sense_errors;
	uint32_t frame_too_longs;
	uint32_t internal_mac_receive_errors;
	uint32_t symbol_errors;
};

/* A counter record of a format not decoded. */
struct fs_counters_other {
	uint32_t enterprise;         /* 20 bits; 0 is sFlow.org */
	uint32_t format;             /* 12 bits */
	uint32_t length;             /* record length in bytes */
};

struct fs_counters {
	uint32_t present;                  /* OR of enum fs_counters_group */
	struct fs_addr exporter_addr;      /* source address of the datagram */
	uint16_t exporter_port;            /* source port of the datagram */
	struct fs_addr agent_addr;         /* agent address in the datagram header */
	uint32_t sub_agent_id;
	uint32_t datagram_sequence;        /* sequence number of the datagram */
	uint32_t sequence;                 /* sequence number of the sample */
	uint32_t uptime_ms;                /* agent uptime in the datagram header */
	uint8_t source_id_type;            /* 0 ifIndex, 1 VLAN, 2 physical entity */
	uint32_t source_id_index;
	int64_t time_received_ns;          /* Unix ns, when the collector got it */
	struct fs_counters_generic generic;
	struct fs_counters_ethernet ethernet;
	uint32_t other_count;              /* entries used in other[] */
	uint32_t other_omitted;            /* records of other formats beyond other[] */
	struct fs_counters_other other[FS_COUNTERS_MAX_OTHER_RECORDS];
};

/* Clears every field and presence bit. */
static inline void
fs_counters_clear(struct fs_counters *counters)
{
	memset(counters, 0, sizeof(*counters));
}

/*
 * Lists one record of another format: appends it to other[] while there is
 * room, otherwise counts it in other_omitted.
 */
void fs_counters_add_other(struct fs_counters *counters, uint32_t enterprise,
			   uint32_t format, uint32_t length);

#endif
