/*
 * fuzz_interface_map.c - libFuzzer target for the interface map parser.
 *
 * Each input is parsed as an interface map file.  Every text the map stores
 * must be NUL-terminated within its array and free of control characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/if_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *text, size_t size)
{
	size_t len = strnlen(text, size);

	if (len == size)
		abort();
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs_if_map *map = fs_if_map_new();
	const struct fs_exporter_info *exporter;
	const struct fs_if_info *info;
	struct fs_addr addr;
	char err[256] = "";

	if (map == NULL)
		return 0;
	fs_if_map_parse(map, (const char *)data, size, err, sizeof(err));
	check_text(err, sizeof(err));

	/* The seeds use these addresses and indexes. */
	fs_addr_parse(&addr, "192.0.2.1");
	exporter = fs_if_map_exporter(map, &addr);
	if (exporter != NULL) {
		check_text(exporter->name, sizeof(exporter->name));
		check_text(exporter->site, sizeof(exporter->site));
	}
	for (uint32_t ifindex = 0; ifindex < 32; ifindex++) {
		info = fs_if_map_interface(map, &addr, ifindex);
		if (info != NULL) {
			check_text(info->name, sizeof(info->name));
			check_text(info->description, sizeof(info->description));
		}
	}
	fs_if_map_free(map);
	return 0;
}
