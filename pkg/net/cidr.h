/*
 * cidr.h - lists of address prefixes (CIDR), for the exporter allowlist.
 *
 * A list is parsed once from text such as "192.0.2.0/24, 2001:db8::/32,
 * 198.51.100.7" (an address without a length is a /32 or /128) and matched
 * against each datagram's source address, which allocates nothing.  An IPv4
 * prefix never matches an IPv6 address and the reverse; the UDP receiver
 * already reports IPv4-mapped IPv6 senders as IPv4.
 */
#ifndef FS_NET_CIDR_H
#define FS_NET_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Most prefixes one list holds; a longer list is rejected when parsed. */
#define FS_CIDR_MAX_PREFIXES 1024

struct fs_cidr {
	struct fs_addr prefix; /* host bits cleared */
	uint8_t length;        /* 0..32 for IPv4, 0..128 for IPv6 */
};

struct fs_cidr_list {
	struct fs_cidr *prefixes; /* owned */
	size_t count;
};

/*
 * Parses text, comma- or space-separated prefixes, into list (which the
 * caller releases with fs_cidr_list_release()).  Empty text gives an empty
 * list.  Returns 0, or FS_ERR_INVALID with the offending prefix in err, or
 * FS_ERR_SYSTEM when memory runs out.
 */
int fs_cidr_list_parse(struct fs_cidr_list *list, const char *text, char *err,
		       size_t err_len);

void fs_cidr_list_release(struct fs_cidr_list *list);

/* Returns 1 when addr falls in one of the prefixes of list, else 0 (also for an empty list). */
int fs_cidr_list_match(const struct fs_cidr_list *list, const struct fs_addr *addr);

#endif
