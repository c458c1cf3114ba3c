/* zone.c - checked time zone names for graph labels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/result.h"
#include "graph/zone.h"

int
fs_graph_zone_check(const char *zone)
{
	char path[sizeof(FS_GRAPH_ZONE_DIR) + FS_GRAPH_ZONE_MAX + 2];
	char magic[4];
	size_t len = strlen(zone);
	FILE *f;
	int ok;

	if (strcmp(zone, "UTC") == 0)
		return 0;
	if (len == 0 || len > FS_GRAPH_ZONE_MAX || zone[0] == '/' || strstr(zone, ".."))
		return FS_ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		char c = zone[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '+' || c == '/'))
			return FS_ERR_INVALID;
	}
	snprintf(path, sizeof(path), "%s/%s", FS_GRAPH_ZONE_DIR, zone);
	f = fopen(path, "rb");
	if (!f)
		return FS_ERR_NOT_FOUND;
	ok = fread(magic, 1, sizeof(magic), f) == sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok ? 0 : FS_ERR_NOT_FOUND;
}

int
fs_graph_zone_apply(const char *zone)
{
	int rc = fs_graph_zone_check(zone);

	if (rc < 0)
		return rc;
	if (setenv("TZ", zone, 1) < 0)
		return FS_ERR_SYSTEM;
	tzset();
	return 0;
}
