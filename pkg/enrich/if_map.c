/* if_map.c - a hash table of exporter and interface names, and its file parser. */
#include "enrich/if_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_text.h"
#include "core/result.h"
#include "enrich/textfile.h"

/* ifIndex value that marks an exporter entry; SNMP indexes stop at 2^31 - 1. */
#define EXPORTER_INDEX UINT32_MAX

struct entry {
	bool used;
	struct fs_addr addr;
	uint32_t ifindex;
	union {
		struct fs_exporter_info exporter;
		struct fs_if_info interface;
	} u;
};

struct fs_if_map {
	struct entry *slots;
	size_t cap;            /* power of two */
	size_t count;
};

/* FNV-1a over the address and the index. */
static size_t
hash_key(const struct fs_addr *addr, uint32_t ifindex)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t n = addr->family == 4 ? 4 : 16;

	h = (h ^ addr->family) * 0x100000001b3ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ addr->bytes[i]) * 0x100000001b3ull;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((ifindex >> (8 * i)) & 0xff)) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 32));
}

static struct entry *
find_slot(struct entry *slots, size_t cap, const struct fs_addr *addr, uint32_t ifindex)
{
	size_t i = hash_key(addr, ifindex) & (cap - 1);

	while (slots[i].used &&
	       !(slots[i].ifindex == ifindex && fs_addr_equal(&slots[i].addr, addr)))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

struct fs_if_map *
fs_if_map_new(void)
{
	struct fs_if_map *map = calloc(1, sizeof(*map));

	if (map == NULL)
		return NULL;
	map->cap = 64;
	map->slots = calloc(map->cap, sizeof(*map->slots));
	if (map->slots == NULL) {
		free(map);
		return NULL;
	}
	return map;
}

void
fs_if_map_free(struct fs_if_map *map)
{
	if (map == NULL)
		return;
	free(map->slots);
	free(map);
}

size_t
fs_if_map_count(const struct fs_if_map *map)
{
	return map->count;
}

static int
grow(struct fs_if_map *map)
{
	size_t cap = map->cap * 2;
	struct entry *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return FS_ERR_SYSTEM;
	for (size_t i = 0; i < map->cap; i++) {
		if (map->slots[i].used)
			*find_slot(slots, cap, &map->slots[i].addr, map->slots[i].ifindex) =
				map->slots[i];
	}
	free(map->slots);
	map->slots = slots;
	map->cap = cap;
	return 0;
}

/* Returns the entry for the key, created empty when missing, or NULL with *rc set. */
static struct entry *
upsert(struct fs_if_map *map, const struct fs_addr *addr, uint32_t ifindex, int *rc)
{
	struct entry *e;

	if (addr->family != 4 && addr->family != 6) {
		*rc = FS_ERR_INVALID;
		return NULL;
	}
	e = find_slot(map->slots, map->cap, addr, ifindex);
	if (e->used)
		return e;
	if (map->count >= FS_IF_MAP_MAX_ENTRIES) {
		*rc = FS_ERR_FULL;
		return NULL;
	}
	/* Keep the load factor at or below one half. */
	if ((map->count + 1) * 2 > map->cap) {
		*rc = grow(map);
		if (*rc < 0)
			return NULL;
		e = find_slot(map->slots, map->cap, addr, ifindex);
	}
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->addr = *addr;
	e->ifindex = ifindex;
	map->count++;
	return e;
}

int
fs_if_map_set_exporter(struct fs_if_map *map, const struct fs_addr *exporter,
		       const struct fs_exporter_info *info)
{
	int rc = 0;
	struct entry *e = upsert(map, exporter, EXPORTER_INDEX, &rc);

	if (e == NULL)
		return rc;
	e->u.exporter = *info;
	return 0;
}

int
fs_if_map_set_interface(struct fs_if_map *map, const struct fs_addr *exporter,
			uint32_t ifindex, const struct fs_if_info *info)
{
	int rc = 0;
	struct entry *e;

	if (ifindex == EXPORTER_INDEX)
		return FS_ERR_INVALID;
	e = upsert(map, exporter, ifindex, &rc);
	if (e == NULL)
		return rc;
	e->u.interface = *info;
	return 0;
}

const struct fs_exporter_info *
fs_if_map_exporter(const struct fs_if_map *map, const struct fs_addr *exporter)
{
	const struct entry *e = find_slot(map->slots, map->cap, exporter, EXPORTER_INDEX);

	return e->used ? &e->u.exporter : NULL;
}

const struct fs_if_info *
fs_if_map_interface(const struct fs_if_map *map, const struct fs_addr *exporter,
		    uint32_t ifindex)
{
	const struct entry *e;

	if (ifindex == EXPORTER_INDEX)
		return NULL;
	e = find_slot(map->slots, map->cap, exporter, ifindex);
	return e->used ? &e->u.interface : NULL;
}

int
fs_if_map_parse_speed(const char *text, uint64_t *speed)
{
	uint64_t value = 0;
	uint64_t scale = 1;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return FS_ERR_INVALID;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (value > (UINT64_MAX - 9) / 10)
			return FS_ERR_INVALID;
		value = value * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0': break;
	case 'k': scale = 1000ull; p++; break;
	case 'M': scale = 1000000ull; p++; break;
	case 'G': scale = 1000000000ull; p++; break;
	case 'T': scale = 1000000000000ull; p++; break;
	default: return FS_ERR_INVALID;
	}
	if (*p != '\0' || (value != 0 && value > UINT64_MAX / scale))
		return FS_ERR_INVALID;
	*speed = value * scale;
	return 0;
}

static int
parse_exporter_line(struct fs_if_map *map, const struct fs_text_line *line,
		    const struct fs_addr *addr, char *err, size_t err_len)
{
	struct fs_exporter_info info;
	int rc;

	memset(&info, 0, sizeof(info));
	for (size_t i = 2; i < line->count; i++) {
		const struct fs_text_word *w = &line->words[i];

		if (w->key != NULL && strcmp(w->key, "name") == 0)
			fs_flow_set_text(info.name, sizeof(info.name), w->value, strlen(w->value));
		else if (w->key != NULL && strcmp(w->key, "site") == 0)
			fs_flow_set_text(info.site, sizeof(info.site), w->value, strlen(w->value));
		else
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "line %u: unknown exporter attribute '%s'; expected name= or site=",
				       line->number, w->key != NULL ? w->key : w->value);
	}
	if (fs_if_map_exporter(map, addr) != NULL)
		return fs_fail(err, err_len, FS_ERR_INVALID, "line %u: exporter %s is listed twice",
			       line->number, line->words[1].value);
	rc = fs_if_map_set_exporter(map, addr, &info);
	if (rc < 0)
		return fs_fail(err, err_len, rc, "line %u: cannot store the exporter (%s)",
			       line->number, fs_result_name(rc));
	return 0;
}

static int
parse_interface_line(struct fs_if_map *map, const struct fs_text_line *line,
		     const struct fs_addr *addr, char *err, size_t err_len)
{
	const char *index_text = line->count > 2 ? line->words[2].value : "";
	struct fs_if_info info;
	unsigned long long ifindex = 0;
	char *end;
	int rc;

	if (line->count < 3 || line->words[2].key != NULL || index_text[0] < '0' ||
	    index_text[0] > '9')
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "line %u: expected 'interface ADDRESS IFINDEX ...'", line->number);
	ifindex = strtoull(index_text, &end, 10);
	if (*end != '\0' || ifindex >= EXPORTER_INDEX)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "line %u: interface index '%s' is not a number below %u",
			       line->number, index_text, EXPORTER_INDEX);
	if (ifindex == 0)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "line %u: interface index 0 means 'unknown' in flow records and is "
			       "never looked up; remove the line", line->number);

	memset(&info, 0, sizeof(info));
	for (size_t i = 3; i < line->count; i++) {
		const struct fs_text_word *w = &line->words[i];

		if (w->key != NULL && strcmp(w->key, "name") == 0) {
			fs_flow_set_text(info.name, sizeof(info.name), w->value, strlen(w->value));
		} else if (w->key != NULL && strcmp(w->key, "description") == 0) {
			fs_flow_set_text(info.description, sizeof(info.description), w->value,
					 strlen(w->value));
		} else if (w->key != NULL && strcmp(w->key, "speed") == 0) {
			if (fs_if_map_parse_speed(w->value, &info.speed) != 0)
				return fs_fail(err, err_len, FS_ERR_INVALID,
					       "line %u: speed '%s' is not bits per second such as "
					       "10000000000 or 10G", line->number, w->value);
			info.has_speed = true;
		} else {
			return fs_fail(err, err_len, FS_ERR_INVALID,
				       "line %u: unknown interface attribute '%s'; expected name=, "
				       "description= or speed=",
				       line->number, w->key != NULL ? w->key : w->value);
		}
	}
	if (fs_if_map_interface(map, addr, (uint32_t)ifindex) != NULL)
		return fs_fail(err, err_len, FS_ERR_INVALID,
			       "line %u: interface %llu of %s is listed twice", line->number,
			       ifindex, line->words[1].value);
	rc = fs_if_map_set_interface(map, addr, (uint32_t)ifindex, &info);
	if (rc < 0)
		return fs_fail(err, err_len, rc, "line %u: cannot store the interface (%s)",
			       line->number, fs_result_name(rc));
	return 0;
}

int
fs_if_map_parse(struct fs_if_map *map, const char *text, size_t len, char *err,
		size_t err_len)
{
	struct fs_text_reader reader = { .data = text, .len = len };
	struct fs_text_line *line = malloc(sizeof(*line));
	int rc;

	if (line == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	while ((rc = fs_text_next_line(&reader, line, err, err_len)) > 0) {
		const struct fs_text_word *kind = &line->words[0];
		struct fs_addr addr;

		if (line->count < 2 || kind->key != NULL || line->words[1].key != NULL ||
		    fs_addr_parse(&addr, line->words[1].value) != 0) {
			rc = fs_fail(err, err_len, FS_ERR_INVALID,
				     "line %u: expected 'exporter ADDRESS ...' or "
				     "'interface ADDRESS IFINDEX ...'", line->number);
			break;
		}
		if (strcmp(kind->value, "exporter") == 0)
			rc = parse_exporter_line(map, line, &addr, err, err_len);
		else if (strcmp(kind->value, "interface") == 0)
			rc = parse_interface_line(map, line, &addr, err, err_len);
		else
			rc = fs_fail(err, err_len, FS_ERR_INVALID,
				     "line %u: unknown entry '%s'; expected exporter or interface",
				     line->number, kind->value);
		if (rc < 0)
			break;
	}
	free(line);
	return rc < 0 ? rc : 0;
}

/* fs_if_map_parse() in the form fs_text_parse_file() calls. */
static int
parse_text(void *map, const char *text, size_t len, char *err, size_t err_len)
{
	return fs_if_map_parse(map, text, len, err, err_len);
}

int
fs_if_map_load(const char *path, struct fs_if_map **out, char *err, size_t err_len)
{
	struct fs_if_map *map;
	int rc;

	*out = NULL;
	map = fs_if_map_new();
	if (map == NULL)
		return fs_fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	rc = fs_text_parse_file(path, parse_text, map, err, err_len);
	if (rc < 0) {
		fs_if_map_free(map);
		return rc;
	}
	*out = map;
	return 0;
}
