/*
 * template_cache.h - NetFlow v9 and IPFIX templates learned from exporters.
 *
 * A template is keyed by exporter address, exporter port, protocol,
 * observation domain (v9 source id) and template id, so two exporters, or two
 * domains of one exporter, never share a template.  A template learned again
 * under the same key replaces the old one; the cache keeps no history.
 *
 * Limits: at most max_templates templates in total (the one learned or
 * refreshed longest ago is evicted to make room) and at most
 * max_template_fields fields per template.  Memory is allocated only when a
 * template is learned with new contents; a refresh with identical bytes, a
 * lookup and a record decode allocate nothing.
 *
 * The cache also keeps the sampling rate that options data announced per
 * exporter and domain, in a fixed table allocated with the cache (a collision
 * overwrites the older entry, so this is best effort).
 *
 * Thread safety: none; the owning decoder serialises access.
 */
#ifndef FS_DECODE_TEMPLATE_CACHE_H
#define FS_DECODE_TEMPLATE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"
#include "decode/cursor.h"
#include "decode/fields.h"

struct fs_template_key {
	struct fs_addr exporter;
	uint16_t exporter_port;
	uint8_t flow_type;      /* FS_FLOW_NETFLOW_V9 or FS_FLOW_IPFIX */
	uint32_t domain;        /* IPFIX observation domain or v9 source id */
	uint16_t template_id;
};

/* One field specifier of a template. */
struct fs_template_field {
	uint16_t id;      /* element id, enterprise bit cleared */
	uint16_t length;  /* bytes, or FS_FIELD_VARLEN */
	uint32_t pen;     /* enterprise number, 0 for IANA elements */
	uint8_t target;   /* enum fs_field_target; FS_FT_NONE when skipped */
};

/* A learned template.  Owned by the cache; valid until the next learn or withdraw. */
struct fs_template {
	struct fs_template_key key;
	bool options;             /* options template: its records update state only */
	uint16_t field_count;
	uint16_t scope_count;     /* options templates: leading scope fields */
	uint32_t min_record_len;  /* fixed lengths plus 1 byte per variable-length field */

	/* private to the cache */
	struct fs_template *hash_next;
	struct fs_template *older, *newer;
	uint32_t hash;
	size_t wire_len;
	const uint8_t *wire;      /* copy of the field specifiers as received */
	struct fs_template_field fields[];
};

/* A template record as received, before validation. */
struct fs_template_spec {
	bool options;
	bool enterprise_bit;      /* IPFIX: id bit 15 means a 4-byte PEN follows */
	uint16_t field_count;
	uint16_t scope_count;
	const uint8_t *wire;      /* field specifiers; borrowed */
	size_t wire_len;
};

/* Results of fs_template_cache_learn() besides the negative fs_result codes. */
enum fs_template_learned {
	FS_TEMPLATE_ADDED = 0,     /* new key or new contents */
	FS_TEMPLATE_UNCHANGED = 1, /* same bytes as the cached one */
};

struct fs_template_cache;

/* Creates an empty cache; returns NULL when memory runs out.  Free with fs_template_cache_free(). */
struct fs_template_cache *fs_template_cache_new(uint32_t max_templates,
						uint32_t max_template_fields);

void fs_template_cache_free(struct fs_template_cache *cache);

/* Returns the template stored under key, or NULL. */
const struct fs_template *fs_template_cache_find(const struct fs_template_cache *cache,
						 const struct fs_template_key *key);

/*
 * Validates spec and stores it under key, replacing any template there.
 * Returns FS_TEMPLATE_ADDED, FS_TEMPLATE_UNCHANGED, FS_ERR_INVALID when the
 * template is rejected (reason then contains why, without the key), or
 * FS_ERR_SYSTEM when memory runs out.  spec->wire is copied.
 */
int fs_template_cache_learn(struct fs_template_cache *cache,
			    const struct fs_template_key *key,
			    const struct fs_template_spec *spec,
			    char *reason, size_t reason_len);

/* Removes the template under key.  Returns 0, or FS_ERR_NOT_FOUND. */
int fs_template_cache_withdraw(struct fs_template_cache *cache,
			       const struct fs_template_key *key);

/*
 * Removes every template of key's exporter, port, protocol and domain whose
 * options flag equals options (key->template_id is ignored).  Returns how many
 * were removed.
 */
uint32_t fs_template_cache_withdraw_all(struct fs_template_cache *cache,
					const struct fs_template_key *key,
					bool options);

uint32_t fs_template_cache_count(const struct fs_template_cache *cache);

/* Records the sampling rate announced for key's exporter and domain (template_id ignored). */
void fs_template_cache_set_sampling(struct fs_template_cache *cache,
				    const struct fs_template_key *key,
				    uint32_t rate);

/* Returns the sampling rate recorded for key's exporter and domain, or 0. */
uint32_t fs_template_cache_sampling(const struct fs_template_cache *cache,
				    const struct fs_template_key *key);

/*
 * Reads one record laid out by tpl from cur into flow and times.  Fields are
 * applied in template order; unmapped ones are skipped.  Returns 0, or
 * FS_ERR_TRUNCATED when the record runs past the cursor (a variable-length
 * field longer than the data, or a short set).
 */
int fs_template_decode_record(const struct fs_template *tpl, struct fs_cursor *cur,
			      struct fs_flow *flow, struct fs_field_deferred *times);

#endif
