/*
 * prefix_table.h - IPv4 and IPv6 prefixes mapped to tags, longest match.
 *
 * A table holds CIDR prefixes of both families, each with a text value (the
 * tags of the prefix list, or "" for the home networks).  A lookup returns
 * the value of the longest prefix that contains the address.  IPv4 and IPv6
 * are separate: an IPv4 address never matches an IPv6 prefix, including
 * ::ffff:0:0/96.
 *
 * Prefix list file (enrich.prefixes), parsed by fs_prefix_table_parse():
 *
 *   # prefix          tags (key=value words, at least one)
 *   10.0.0.0/8        site=par role=core
 *   10.1.0.0/16       site=par role=office customer=acme
 *   2001:db8:1::/48   customer=acme
 *   192.0.2.7         role=resolver      # a host: /32 (or /128)
 *
 * Tags are stored as "site=par,role=core", in file order.  Keys and values
 * are letters, digits and any of "_.:/-@+"; each tag set fits
 * FS_FLOW_TAGS_LEN - 1 bytes.  The prefix follows the rules of net/cidr.h,
 * so a prefix with host bits set, or listed twice, is an error.
 *
 * Memory: a binary trie per family, one node per prefix bit, in arrays that
 * grow while the table is built; lookups allocate nothing.  A table is not
 * changed after it is built, so several threads may look up at once.
 */
#ifndef FS_ENRICH_PREFIX_TABLE_H
#define FS_ENRICH_PREFIX_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Most prefixes one table accepts. */
#define FS_PREFIX_TABLE_MAX_PREFIXES 1000000

struct fs_prefix_table;

/* Creates an empty table, or returns NULL when out of memory. */
struct fs_prefix_table *fs_prefix_table_new(void);

/* Frees table; NULL is allowed. */
void fs_prefix_table_free(struct fs_prefix_table *table);

/*
 * Adds prefix/len with value (copied).  Returns 0, FS_ERR_INVALID when len
 * is longer than the family allows or host bits are set, FS_ERR_FULL when
 * the prefix is already in the table or FS_PREFIX_TABLE_MAX_PREFIXES are,
 * or FS_ERR_SYSTEM when out of memory.
 */
int fs_prefix_table_add(struct fs_prefix_table *table, const struct fs_addr *prefix,
			unsigned len, const char *value);

/* Returns the value of the longest prefix containing addr, or NULL. */
const char *fs_prefix_table_lookup(const struct fs_prefix_table *table,
				   const struct fs_addr *addr);

/* Returns the number of prefixes in table. */
size_t fs_prefix_table_count(const struct fs_prefix_table *table);

/*
 * Adds every prefix of a prefix list text (len bytes, borrowed, no NUL
 * needed) to table.  Returns 0, or a negative fs_result with the line and
 * reason in err; the table then holds the lines before the error.
 */
int fs_prefix_table_parse(struct fs_prefix_table *table, const char *text, size_t len,
			  char *err, size_t err_len);

/*
 * Adds each prefix of a comma-separated list ("10.0.0.0/8, 2001:db8::/32"),
 * parsed by the rules of net/cidr.h, with value "".  Returns 0, or a
 * negative fs_result with the quoted item and the reason in err.  The table
 * then contains the items before the bad one.
 */
int fs_prefix_table_add_list(struct fs_prefix_table *table, const char *list,
			     char *err, size_t err_len);

/*
 * Reads and parses the prefix list file at path into a new table stored in
 * *out.  Returns 0, or a negative fs_result with the file, line and reason
 * in err and *out NULL.
 */
int fs_prefix_table_load(const char *path, struct fs_prefix_table **out, char *err,
			 size_t err_len);

#endif
