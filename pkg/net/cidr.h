/*
 * cidr.h - address prefixes (CIDR) and comma-separated lists of them.
 *
 * This is the one parser behind every prefix setting: ingest.exporters.allow
 * (struct fs_cidr_list below), enrich.home.networks and the lines of the
 * enrich.prefixes file (enrich/prefix_table.h), detect.allowlist and
 * detect.smtp.mail.servers (detect/detect.h).  Each caller keeps its own
 * storage and passes a function that stores one parsed item.
 *
 * One item is ADDRESS or ADDRESS/LENGTH:
 * - ADDRESS is a dotted-quad IPv4 address without leading zeros in an octet
 *   (some tools read 010 as octal 8), or IPv6 text as RFC 4291 section 2.2
 *   writes it.
 * - LENGTH is 0..32 for IPv4 and 0..128 for IPv6, in decimal without a sign
 *   or leading zeros.  A bare address is a /32 or /128.  /0 is allowed.
 * - The bits past LENGTH must be zero.  "10.1.2.3/8" is rejected with the
 *   prefix it would mean, 10.0.0.0/8, because masking it silently would
 *   widen an allowlist that was meant for one host.
 * - A prefix inside ::ffff:0:0/96 with a length of 96 or more (an
 *   IPv4-mapped IPv6 prefix) is rejected with its IPv4 form.  The UDP
 *   receiver reports IPv4-mapped senders as IPv4, and an IPv4 prefix never
 *   matches an IPv6 address or the reverse, so the mapped form would look
 *   like IPv4 yet never match an IPv4 address.
 *
 * A list separates items with commas.  Spaces and tabs around an item are
 * ignored, and a space or tab inside one is an error.  An empty item (a
 * leading, doubled or trailing comma) is an error.  Text that is empty or
 * only blanks is an empty list.  Listing the same prefix twice is an error.
 *
 * Every error quotes the whole item first (items longer than
 * FS_CIDR_QUOTE_MAX bytes are cut there and end in "..."), then the reason:
 * "'10.1.2.3/8': host bits set; did you mean 10.0.0.0/8?".  Callers put
 * the setting's name in front ("detect.allowlist: ...").
 */
#ifndef FS_NET_CIDR_H
#define FS_NET_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

/* Maximum number of prefixes in one fs_cidr_list; a longer list is rejected when parsed. */
#define FS_CIDR_MAX_PREFIXES 1024

/* Maximum bytes of an item that an error message quotes. */
#define FS_CIDR_QUOTE_MAX 64

struct fs_cidr {
	struct fs_addr prefix; /* host bits zero */
	uint8_t length;        /* 0..32 for IPv4, 0..128 for IPv6 */
};

struct fs_cidr_list {
	struct fs_cidr *prefixes; /* owned */
	size_t count;
};

/*
 * Parses one item, the len bytes at text (borrowed, no NUL needed, without
 * surrounding blanks), into out.  Returns 0, or FS_ERR_INVALID with the
 * quoted item and the reason in err.
 */
int fs_cidr_parse(struct fs_cidr *out, const char *text, size_t len, char *err,
		  size_t err_len);

/*
 * Stores one parsed item of a list.  item and item_len are its text
 * (borrowed for the call, no NUL) for messages.  Returns 0 to go on, or a
 * negative fs_result with the reason in err (fs_cidr_item_fail() writes it
 * in the common form), which stops the walk.
 */
typedef int fs_cidr_item_fn(void *opaque, const struct fs_cidr *prefix, const char *item,
			    size_t item_len, char *err, size_t err_len);

/*
 * Parses the comma-separated list text (borrowed, NUL-terminated) and
 * passes each item in order to store with opaque.  Returns 0, the first
 * negative result of store, or FS_ERR_INVALID with the reason in err.  On
 * failure store has seen the items before the bad one.  Allocates nothing.
 */
int fs_cidr_list_walk(const char *text, fs_cidr_item_fn *store, void *opaque, char *err,
		      size_t err_len);

/*
 * Writes "'ITEM': REASON" into err, with the item quoted as every message
 * of this module quotes it, and returns rc.
 */
int fs_cidr_item_fail(char *err, size_t err_len, int rc, const char *item, size_t item_len,
		      const char *reason_fmt, ...) __attribute__((format(printf, 6, 7)));

/* Returns 1 when a and b are the same prefix (family, length and bits), else 0. */
int fs_cidr_equal(const struct fs_cidr *a, const struct fs_cidr *b);

/*
 * Parses text as fs_cidr_list_walk() does into list, which the caller
 * releases with fs_cidr_list_release().  Returns 0, FS_ERR_INVALID with the
 * reason in err (also for more than FS_CIDR_MAX_PREFIXES items), or
 * FS_ERR_SYSTEM when memory runs out.  After a failure list is empty.
 */
int fs_cidr_list_parse(struct fs_cidr_list *list, const char *text, char *err,
		       size_t err_len);

void fs_cidr_list_release(struct fs_cidr_list *list);

/* Returns 1 when addr falls in one of the prefixes of list, else 0 (also for an empty list). */
int fs_cidr_list_match(const struct fs_cidr_list *list, const struct fs_addr *addr);

#endif
