/*
 * services.h - service names of TCP, UDP and SCTP ports, from services(5).
 *
 * The table is read once from the system services database (/etc/services,
 * Debian package netbase) and then answers lookups without locking or
 * allocating.  Each line is "name port/protocol [aliases...]"; the first
 * name listed for a port and protocol wins, as getservbyport(3) does.
 * Ports from 49152 up (the dynamic range of RFC 6335) are not named,
 * because there a name says nothing about the traffic.
 */
#ifndef FS_ENRICH_SERVICES_H
#define FS_ENRICH_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* The services file read when enrich.services is empty. */
#define FS_SERVICES_DEFAULT_PATH "/etc/services"

/* First port of the dynamic range, which the table never names. */
#define FS_SERVICES_DYNAMIC_PORT 49152

struct fs_services;

/*
 * Reads the services file at path (NULL for /etc/services) into a new table
 * stored in *out.  Malformed lines are skipped.  Returns 0, or a negative
 * fs_result with the reason in err.
 */
int fs_services_load(const char *path, struct fs_services **out, char *err,
		     size_t err_len);

/* Frees the table; NULL is allowed. */
void fs_services_free(struct fs_services *s);

/* Returns the name of port for IP protocol proto (6, 17 or 132), or NULL. */
const char *fs_services_name(const struct fs_services *s, uint8_t proto, uint16_t port);

/* Returns the number of named (protocol, port) pairs. */
size_t fs_services_count(const struct fs_services *s);

#endif
