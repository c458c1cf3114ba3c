/*
 * if_map.h - exporter and interface names, from a static map file or SNMP.
 *
 * A map stores, per exporter address, the exporter's name and site, and per
 * exporter address and interface index (ifIndex, the in_if and out_if of a
 * flow), the interface's name, description and speed.
 *
 * Interface map file (enrich.interfaces.map), parsed by fs_if_map_parse():
 *
 *   # exporter ADDRESS name=NAME [site=SITE]
 *   exporter 192.0.2.1 name=edge1.par site=par1
 *   # interface ADDRESS IFINDEX [name=NAME] [description=TEXT] [speed=BPS]
 *   interface 192.0.2.1 17 name=xe-0/0/1 description="transit: example" speed=10G
 *
 * Speeds are bits per second, with an optional suffix k, M, G or T (powers
 * of 1000).  Text values are cut to the sizes of struct fs_flow's fields
 * (FS_FLOW_IF_NAME_LEN and the others) and made valid UTF-8.  An entry
 * listed twice is an error.
 *
 * Memory: one open-addressing hash table that grows while the map is built;
 * lookups allocate nothing.  A map is not thread-safe while it is changed.
 */
#ifndef FS_ENRICH_IF_MAP_H
#define FS_ENRICH_IF_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Most entries, exporters and interfaces together, of one map. */
#define FS_IF_MAP_MAX_ENTRIES 1000000

struct fs_exporter_info {
	char name[FS_FLOW_EXPORTER_NAME_LEN];  /* "" when unknown */
	char site[FS_FLOW_SITE_LEN];           /* "" when unknown */
};

struct fs_if_info {
	char name[FS_FLOW_IF_NAME_LEN];        /* "" when unknown */
	char description[FS_FLOW_IF_DESCRIPTION_LEN]; /* "" when unknown */
	uint64_t speed;                        /* bits per second */
	bool has_speed;
};

struct fs_if_map;

/* Creates an empty map, or returns NULL when out of memory. */
struct fs_if_map *fs_if_map_new(void);

/* Frees map; NULL is allowed. */
void fs_if_map_free(struct fs_if_map *map);

/* Returns the number of exporters and interfaces in map. */
size_t fs_if_map_count(const struct fs_if_map *map);

/*
 * Stores info (copied) for an exporter, replacing an earlier entry.
 * Returns 0, FS_ERR_FULL at FS_IF_MAP_MAX_ENTRIES, or FS_ERR_SYSTEM.
 */
int fs_if_map_set_exporter(struct fs_if_map *map, const struct fs_addr *exporter,
			   const struct fs_exporter_info *info);

/* Stores info (copied) for an interface, replacing an earlier entry; returns as above. */
int fs_if_map_set_interface(struct fs_if_map *map, const struct fs_addr *exporter,
			    uint32_t ifindex, const struct fs_if_info *info);

/* Returns the exporter's entry, or NULL; valid until the map changes. */
const struct fs_exporter_info *fs_if_map_exporter(const struct fs_if_map *map,
						  const struct fs_addr *exporter);

/* Returns the interface's entry, or NULL; valid until the map changes. */
const struct fs_if_info *fs_if_map_interface(const struct fs_if_map *map,
					     const struct fs_addr *exporter,
					     uint32_t ifindex);

/*
 * Adds the entries of an interface map text (len bytes, borrowed, no NUL
 * needed) to map.  Returns 0, or a negative fs_result with the line and
 * reason in err; the map then holds the lines before the error.
 */
int fs_if_map_parse(struct fs_if_map *map, const char *text, size_t len, char *err,
		    size_t err_len);

/*
 * Reads and parses the interface map file at path into a new map stored in
 * *out.  Returns 0, or a negative fs_result with the file, line and reason
 * in err and *out NULL.
 */
int fs_if_map_load(const char *path, struct fs_if_map **out, char *err, size_t err_len);

/*
 * Parses a speed in bits per second ("10000000000", "10G", "100M").
 * Returns 0, or FS_ERR_INVALID for text that is not a speed or overflows.
 */
int fs_if_map_parse_speed(const char *text, uint64_t *speed);

#endif
