/*
 * fuzz_cidr_list.c - libFuzzer target for the prefix list parser of
 * net/cidr.h and the three lists built on it.
 *
 * Each input is a list text.  The exporter allowlist, a detection list and
 * the home networks table must give the same result and the same message.
 * Every accepted prefix must have zero host bits and contain its own
 * address.  The whole input is also parsed as one item without a NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "enrich/prefix_table.h"
#include "net/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless prefix has no bit set past its length and matches its own address. */
static void
check_prefix(const struct fs_cidr *prefix)
{
	unsigned bits = prefix->prefix.family == 4 ? 32 : 128;
	struct fs_cidr copy = *prefix;
	struct fs_cidr_list one = { &copy, 1 };

	if (prefix->prefix.family != 4 && prefix->prefix.family != 6)
		abort();
	if (prefix->length > bits)
		abort();
	for (unsigned bit = prefix->length; bit < bits; bit++) {
		if (prefix->prefix.bytes[bit / 8] & (0x80 >> (bit % 8)))
			abort();
	}
	if (!fs_cidr_list_match(&one, &prefix->prefix))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fs_detect_prefixes detect;
	struct fs_cidr_list list;
	struct fs_prefix_table *table;
	struct fs_cidr item;
	char text[4096];
	char cidr_err[256] = "", detect_err[256] = "", table_err[256] = "", item_err[256] = "";
	int cidr_rc, detect_rc, table_rc;
	size_t items = 1;

	if (fs_cidr_parse(&item, (const char *)data, size, item_err, sizeof(item_err)) == 0)
		check_prefix(&item);

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < size; i++)
		items += text[i] == ',';
	table = fs_prefix_table_new();
	if (table == NULL)
		return 0;

	cidr_rc = fs_cidr_list_parse(&list, text, cidr_err, sizeof(cidr_err));
	detect_rc = fs_detect_prefixes_parse(&detect, text, detect_err, sizeof(detect_err));
	table_rc = fs_prefix_table_add_list(table, text, table_err, sizeof(table_err));

	/* Each list has its own limit on items, so all must agree only below the smallest. */
	if (items <= FS_DETECT_MAX_PREFIXES &&
	    (detect_rc != cidr_rc || strcmp(detect_err, cidr_err) != 0))
		abort();
	if (items <= FS_CIDR_MAX_PREFIXES && (table_rc != cidr_rc || strcmp(table_err, cidr_err) != 0))
		abort();
	if (cidr_rc == 0) {
		if (table_rc == 0 && fs_prefix_table_count(table) != list.count)
			abort();
		for (size_t i = 0; i < list.count; i++) {
			check_prefix(&list.prefixes[i]);
			if (fs_prefix_table_lookup(table, &list.prefixes[i].prefix) == NULL)
				abort();
		}
	}
	fs_cidr_list_release(&list);
	fs_prefix_table_free(table);
	return 0;
}
