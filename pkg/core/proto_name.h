/*
 * proto_name.h - lowercase names of common IP protocol numbers, as reports,
 * graphs and top-N keys show them ("tcp", "ipv6-icmp").  The names are the
 * keywords of the IANA protocol numbers registry.
 */
#ifndef FS_CORE_PROTO_NAME_H
#define FS_CORE_PROTO_NAME_H

#include <stdint.h>

/* Returns the name of protocol proto, or NULL when it has none here. */
const char *fs_proto_name(uint8_t proto);

#endif
