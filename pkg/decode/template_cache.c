/*
 * template_cache.c - a chained hash of templates with learn-order eviction.
 *
 * Templates live in a hash table for lookup and in a doubly linked list ordered
 * by when each was last learned or refreshed.  The list head is evicted first.
 */
#include "decode/template_cache.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"

/* Exporter/domain slots for sampling rates learned from options data. */
#define SAMPLING_SLOTS 1024

/* Bounds of the bucket array, sized from max_templates. */
#define MIN_BUCKETS 64u
#define MAX_BUCKETS (1u << 20)

struct sampling_slot {
	bool used;
	struct fs_template_key key; /* template_id is 0 */
	uint32_t rate;
};

struct fs_template_cache {
	uint32_t max_templates;
	uint32_t max_fields;
	uint32_t count;
	uint32_t bucket_mask;
	struct fs_template **buckets;
	struct fs_template *oldest, *newest;
	struct sampling_slot sampling[SAMPLING_SLOTS];
};

static uint32_t
fnv1a(uint32_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* Hashes the exporter part of key, plus the template id when with_id is set. */
static uint32_t
key_hash(const struct fs_template_key *key, bool with_id)
{
	uint32_t h = 2166136261u;
	size_t addr_len = key->exporter.family == 4 ? 4 : 16;

	h = fnv1a(h, &key->exporter.family, 1);
	h = fnv1a(h, key->exporter.bytes, addr_len);
	h = fnv1a(h, &key->exporter_port, sizeof(key->exporter_port));
	h = fnv1a(h, &key->flow_type, 1);
	h = fnv1a(h, &key->domain, sizeof(key->domain));
	if (with_id)
		h = fnv1a(h, &key->template_id, sizeof(key->template_id));
	return h;
}

static bool
same_exporter(const struct fs_template_key *a, const struct fs_template_key *b)
{
	return a->exporter_port == b->exporter_port && a->flow_type == b->flow_type &&
	       a->domain == b->domain && fs_addr_equal(&a->exporter, &b->exporter);
}

static bool
key_equal(const struct fs_template_key *a, const struct fs_template_key *b)
{
	return a->template_id == b->template_id && same_exporter(a, b);
}

struct fs_template_cache *
fs_template_cache_new(uint32_t max_templates, uint32_t max_template_fields)
{
	struct fs_template_cache *cache;
	uint32_t buckets = MIN_BUCKETS;

	while (buckets < max_templates / 2 && buckets < MAX_BUCKETS)
		buckets <<= 1;

	cache = calloc(1, sizeof(*cache));
	if (!cache)
		return NULL;
	cache->buckets = calloc(buckets, sizeof(*cache->buckets));
	if (!cache->buckets) {
		free(cache);
		return NULL;
	}
	cache->bucket_mask = buckets - 1;
	cache->max_templates = max_templates ? max_templates : 1;
	cache->max_fields = max_template_fields;
	return cache;
}

void
fs_template_cache_free(struct fs_template_cache *cache)
{
	struct fs_template *tpl, *next;

	if (!cache)
		return;
	for (tpl = cache->oldest; tpl; tpl = next) {
		next = tpl->newer;
		free(tpl);
	}
	free(cache->buckets);
	free(cache);
}

static struct fs_template *
find(const struct fs_template_cache *cache, const struct fs_template_key *key,
     uint32_t hash)
{
	struct fs_template *tpl = cache->buckets[hash & cache->bucket_mask];

	for (; tpl; tpl = tpl->hash_next) {
		if (tpl->hash == hash && key_equal(&tpl->key, key))
			return tpl;
	}
	return NULL;
}

const struct fs_template *
fs_template_cache_find(const struct fs_template_cache *cache,
		       const struct fs_template_key *key)
{
	return find(cache, key, key_hash(key, true));
}

static void
list_unlink(struct fs_template_cache *cache, struct fs_template *tpl)
{
	if (tpl->older)
		tpl->older->newer = tpl->newer;
	else
		cache->oldest = tpl->newer;
	if (tpl->newer)
		tpl->newer->older = tpl->older;
	else
		cache->newest = tpl->older;
	tpl->older = tpl->newer = NULL;
}

static void
list_append(struct fs_template_cache *cache, struct fs_template *tpl)
{
	tpl->older = cache->newest;
	tpl->newer = NULL;
	if (cache->newest)
		cache->newest->newer = tpl;
	else
		cache->oldest = tpl;
	cache->newest = tpl;
}

/* Unlinks tpl from its bucket and the list, and frees it. */
static void
remove_template(struct fs_template_cache *cache, struct fs_template *tpl)
{
	struct fs_template **link = &cache->buckets[tpl->hash & cache->bucket_mask];

	while (*link != tpl)
		link = &(*link)->hash_next;
	*link = tpl->hash_next;
	list_unlink(cache, tpl);
	cache->count--;
	free(tpl);
}

static void set_reason(char *reason, size_t reason_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_reason(char *reason, size_t reason_len, const char *fmt, ...)
{
	va_list ap;

	if (!reason || reason_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, reason_len, fmt, ap);
	va_end(ap);
}

/*
 * Walks spec's field specifiers into fields (when not NULL) and checks them.
 * Returns the minimum record length, or a negative fs_result with reason set.
 */
static int64_t
parse_fields(const struct fs_template_spec *spec, struct fs_template_field *fields,
	     char *reason, size_t reason_len)
{
	struct fs_cursor cur;
	int64_t min_len = 0;

	fs_cursor_init(&cur, spec->wire, spec->wire_len);
	for (uint16_t i = 0; i < spec->field_count; i++) {
		struct fs_template_field f = { 0 };
		const struct fs_field_def *def = NULL;

		f.id = fs_cursor_get_u16(&cur);
		f.length = fs_cursor_get_u16(&cur);
		if (spec->enterprise_bit && (f.id & 0x8000)) {
			f.id &= 0x7fff;
			f.pen = fs_cursor_get_u32(&cur);
		}
		if (!fs_cursor_ok(&cur)) {
			set_reason(reason, reason_len,
				   "field specifier %u of %u is cut short",
				   i + 1u, spec->field_count);
			return FS_ERR_INVALID;
		}

		/* Scope fields are skipped: v9 scope types reuse ids 1..5 for other meanings. */
		if (f.pen == 0 && f.length != 0 && i >= spec->scope_count)
			def = fs_field_lookup(f.id);
		if (def && f.length != FS_FIELD_VARLEN &&
		    !fs_field_length_ok((enum fs_field_kind)def->kind, f.length)) {
			set_reason(reason, reason_len,
				   "element %u has invalid length %u for its type (field %u)",
				   f.id, f.length, i + 1u);
			return FS_ERR_INVALID;
		}
		if (def)
			f.target = def->target;

		min_len += f.length == FS_FIELD_VARLEN ? 1 : f.length;
		if (fields)
			fields[i] = f;
	}
	if (fs_cursor_remaining(&cur) != 0) {
		set_reason(reason, reason_len,
			   "%u bytes follow the last field specifier",
			   (unsigned)fs_cursor_remaining(&cur));
		return FS_ERR_INVALID;
	}
	return min_len;
}

static int
check_spec(const struct fs_template_cache *cache, const struct fs_template_spec *spec,
	   char *reason, size_t reason_len)
{
	if (spec->field_count == 0) {
		set_reason(reason, reason_len, "template has no fields");
		return FS_ERR_INVALID;
	}
	if (spec->field_count > cache->max_fields) {
		set_reason(reason, reason_len,
			   "template has %u fields, more than the limit of %u",
			   spec->field_count, cache->max_fields);
		return FS_ERR_INVALID;
	}
	if (spec->scope_count > spec->field_count) {
		set_reason(reason, reason_len,
			   "scope field count %u exceeds field count %u",
			   spec->scope_count, spec->field_count);
		return FS_ERR_INVALID;
	}
	return 0;
}

int
fs_template_cache_learn(struct fs_template_cache *cache,
			const struct fs_template_key *key,
			const struct fs_template_spec *spec,
			char *reason, size_t reason_len)
{
	uint32_t hash = key_hash(key, true);
	struct fs_template *old = find(cache, key, hash);
	struct fs_template *tpl;
	struct fs_template **bucket;
	int64_t min_len;
	size_t size;
	uint8_t *wire_copy;
	int rc;

	/* A refresh with identical bytes only moves the template to the newest end. */
	if (old && old->options == spec->options && old->scope_count == spec->scope_count &&
	    old->field_count == spec->field_count && old->wire_len == spec->wire_len &&
	    memcmp(old->wire, spec->wire, spec->wire_len) == 0) {
		list_unlink(cache, old);
		list_append(cache, old);
		return FS_TEMPLATE_UNCHANGED;
	}

	rc = check_spec(cache, spec, reason, reason_len);
	if (rc < 0)
		return rc;
	min_len = parse_fields(spec, NULL, reason, reason_len);
	if (min_len < 0)
		return (int)min_len;
	if (min_len == 0) {
		set_reason(reason, reason_len,
			   "all %u fields have length 0, so records have no bytes",
			   spec->field_count);
		return FS_ERR_INVALID;
	}

	size = sizeof(*tpl) + (size_t)spec->field_count * sizeof(tpl->fields[0]) +
	       spec->wire_len;
	tpl = calloc(1, size);
	if (!tpl) {
		set_reason(reason, reason_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	tpl->key = *key;
	tpl->options = spec->options;
	tpl->field_count = spec->field_count;
	tpl->scope_count = spec->scope_count;
	tpl->min_record_len = (uint32_t)min_len;
	tpl->hash = hash;
	(void)parse_fields(spec, tpl->fields, NULL, 0);
	wire_copy = (uint8_t *)&tpl->fields[spec->field_count];
	if (spec->wire_len)
		memcpy(wire_copy, spec->wire, spec->wire_len);
	tpl->wire = wire_copy;
	tpl->wire_len = spec->wire_len;

	if (old)
		remove_template(cache, old);
	else if (cache->count >= cache->max_templates)
		remove_template(cache, cache->oldest);

	bucket = &cache->buckets[hash & cache->bucket_mask];
	tpl->hash_next = *bucket;
	*bucket = tpl;
	list_append(cache, tpl);
	cache->count++;
	return FS_TEMPLATE_ADDED;
}

int
fs_template_cache_withdraw(struct fs_template_cache *cache,
			   const struct fs_template_key *key)
{
	struct fs_template *tpl = find(cache, key, key_hash(key, true));

	if (!tpl)
		return FS_ERR_NOT_FOUND;
	remove_template(cache, tpl);
	return 0;
}

uint32_t
fs_template_cache_withdraw_all(struct fs_template_cache *cache,
			       const struct fs_template_key *key, bool options)
{
	struct fs_template *tpl, *next;
	uint32_t removed = 0;

	for (tpl = cache->oldest; tpl; tpl = next) {
		next = tpl->newer;
		if (tpl->options == options && same_exporter(&tpl->key, key)) {
			remove_template(cache, tpl);
			removed++;
		}
	}
	return removed;
}

uint32_t
fs_template_cache_count(const struct fs_template_cache *cache)
{
	return cache->count;
}

static uint32_t
sampling_slot(const struct fs_template_key *key)
{
	return key_hash(key, false) % SAMPLING_SLOTS;
}

void
fs_template_cache_set_sampling(struct fs_template_cache *cache,
			       const struct fs_template_key *key, uint32_t rate)
{
	struct sampling_slot *slot = &cache->sampling[sampling_slot(key)];

	slot->used = true;
	slot->key = *key;
	slot->key.template_id = 0;
	slot->rate = rate;
}

uint32_t
fs_template_cache_sampling(const struct fs_template_cache *cache,
			   const struct fs_template_key *key)
{
	const struct sampling_slot *slot = &cache->sampling[sampling_slot(key)];

	if (!slot->used || !same_exporter(&slot->key, key))
		return 0;
	return slot->rate;
}

int
fs_template_decode_record(const struct fs_template *tpl, struct fs_cursor *cur,
			  struct fs_flow *flow, struct fs_field_deferred *times)
{
	for (uint16_t i = 0; i < tpl->field_count; i++) {
		const struct fs_template_field *f = &tpl->fields[i];
		size_t len = f->length;
		const uint8_t *value;

		/* RFC 7011 section 7: a 1-byte length, or 255 then a 2-byte length. */
		if (f->length == FS_FIELD_VARLEN) {
			len = fs_cursor_get_u8(cur);
			if (len == 255)
				len = fs_cursor_get_u16(cur);
		}
		value = fs_cursor_get_bytes(cur, len);
		if (!value)
			return FS_ERR_TRUNCATED;
		if (f->target != FS_FT_NONE)
			fs_field_apply(flow, times, (enum fs_field_target)f->target,
				       value, len);
	}
	return 0;
}
