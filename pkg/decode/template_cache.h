/*
 * template_cache.h - NetFlow v9 and IPFIX templates learned from exporters.
 *
 * A template is keyed by exporter address, exporter port, protocol,
 * observation domain (v9 source id) and template id, so two exporters, or two
 * domains of one exporter, never share a template.  A template learned again
 * under the same key replaces the old one; the cache keeps no history.
 *
 * Limits (struct fs_template_limits), all checked before allocating:
 *  - max_templates_per_exporter per exporter address, counted over all its
 *    ports, protocols and domains: a new template from a full address evicts
 *    that address's template learned or refreshed longest ago, so a sender
 *    that floods templates under many ports or domains pushes out only its
 *    own.  Other addresses lose templates only through the total limits;
 *  - max_templates and max_template_bytes (the memory the templates take)
 *    in total: the template learned or refreshed longest ago, of any
 *    exporter, is evicted to make room;
 *  - max_template_fields per template: a longer template is rejected, as is
 *    one that alone is over max_template_bytes.
 * Every eviction is counted (fs_template_cache_stats()).  Memory is
 * allocated only when a template is learned with new contents; a refresh
 * with identical bytes, a lookup and a record decode allocate nothing.
 *
 * Templates are also indexed by scope, so withdrawing all templates of a
 * domain (IPFIX template id 2 or 3) touches only that domain's templates,
 * and a withdrawal in an empty scope costs one hash lookup.
 *
 * The cache also keeps what options data announced, in a hash table of at
 * most max_options_entries entries (the entry set longest ago is evicted and
 * counted); an entry only ever answers for its own exporter:
 *  - per exporter and domain: a sampling rate and the exporter's boot time
 *    (systemInitTimeMilliseconds);
 *  - per exporter and sampler id (samplerId or selectorId): a sampling rate.
 *    A lookup prefers the entry of the record's own domain and falls back to
 *    the same sampler id under another domain of the same exporter and port
 *    (the one announced last), because some exporters send the sampler table
 *    under a different source id.
 *
 * Data sets that arrive before their template are held, copied, in a
 * bounded FIFO (limits in struct fs_pending_limits) until the template
 * arrives.  When an address reaches its own limit, its oldest held set is
 * dropped; when a total limit is reached, the oldest held set of any address.
 * A set that waited longer than the age limit is dropped too.
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
	uint8_t reverse;  /* 1: the value belongs to the reverse flow (RFC 5103) */
	/* Store of a fixed-length forward element; FS_FOP_GENERIC for the others. */
	struct fs_field_plan plan;
};

/* A learned template.  Owned by the cache; valid until the next learn or withdraw. */
struct fs_template {
	struct fs_template_key key;
	bool options;             /* options template: its records update state only */
	uint16_t field_count;
	uint16_t scope_count;     /* options templates: leading scope fields */
	uint32_t min_record_len;  /* fixed lengths plus 1 byte per variable-length field */
	bool has_reverse;         /* some field is a reverse element (biflow) */
	bool has_varlen;          /* some field has a variable length (IPFIX 65535) */
	bool has_extras;          /* some field is an enterprise element or a datalink frame */

	/* private to the cache */
	struct fs_template *hash_next;
	struct fs_template *older, *newer;             /* all templates, by learn time */
	struct fs_template_scope *scope;
	struct fs_template *scope_older, *scope_newer; /* the scope's templates, by learn time */
	struct fs_template_source *source;
	struct fs_template *source_older, *source_newer; /* the address's templates, by learn time */
	uint32_t hash;
	size_t size;              /* bytes allocated for this template */
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
struct fs_template_scope;
struct fs_template_source;

/* Default limits; a real exporter rarely has more than a few hundred templates. */
#define FS_TEMPLATE_DEFAULT_MAX_PER_EXPORTER 1024
#define FS_TEMPLATE_DEFAULT_MAX_BYTES (64u * 1024u * 1024u)
#define FS_TEMPLATE_DEFAULT_MAX_OPTIONS_ENTRIES 16384

/* Limits of a cache besides max_templates and max_template_fields; 0 means the default. */
struct fs_template_limits {
	uint32_t max_templates_per_exporter; /* per exporter address, over all ports, protocols and domains */
	uint32_t max_template_bytes;         /* memory of all templates together */
	uint32_t max_options_entries;        /* sampling rates and boot times remembered */
};

/* Counts of templates the cache dropped to stay within its limits. */
struct fs_template_cache_stats {
	uint64_t evicted_exporter_limit; /* templates evicted by max_templates_per_exporter */
	uint64_t evicted_total_limit;    /* templates evicted by max_templates or max_template_bytes */
	uint64_t options_evicted;        /* options entries evicted by max_options_entries */
	uint64_t bytes;                  /* memory the templates take now */
};

/*
 * Creates an empty cache with the default fs_template_limits; returns NULL
 * when memory runs out.  Free with fs_template_cache_free().
 */
struct fs_template_cache *fs_template_cache_new(uint32_t max_templates,
						uint32_t max_template_fields);

/*
 * Sets the limits in limits (0 keeps the default).  Lowering a limit takes
 * effect at the next learn or options update; nothing is evicted at once.
 */
void fs_template_cache_set_limits(struct fs_template_cache *cache,
				  const struct fs_template_limits *limits);

/* Returns the cache's counters; the pointer stays valid until free. */
const struct fs_template_cache_stats *fs_template_cache_stats(const struct fs_template_cache *cache);

void fs_template_cache_free(struct fs_template_cache *cache);

/* Returns the template stored under key, or NULL. */
const struct fs_template *fs_template_cache_find(const struct fs_template_cache *cache,
						 const struct fs_template_key *key);

/*
 * Validates spec and stores it under key, replacing any template there and
 * evicting older templates when a limit requires it (counted in
 * fs_template_cache_stats()).  Returns FS_TEMPLATE_ADDED,
 * FS_TEMPLATE_UNCHANGED, FS_ERR_INVALID when the template is rejected
 * (reason then contains why, without the key), or FS_ERR_SYSTEM when memory
 * runs out.  spec->wire is copied.
 */
int fs_template_cache_learn(struct fs_template_cache *cache,
			    const struct fs_template_key *key,
			    const struct fs_template_spec *spec,
			    char *reason, size_t reason_len);

/* Kind of template change that fs_template_cache_set_observer() reports. */
enum fs_template_change {
	FS_TEMPLATE_CHANGE_LEARNED = 1,   /* new key or new contents; not a refresh with the same bytes */
	FS_TEMPLATE_CHANGE_WITHDRAWN = 2, /* by fs_template_cache_withdraw() or withdraw_all() */
};

/* Receives one change; tpl is borrowed for the call and must not be changed. */
typedef void fs_template_observer_fn(const struct fs_template *tpl,
				     enum fs_template_change change, void *opaque);

/*
 * Installs observer (NULL removes it), called synchronously after a learn
 * stores a template and before a withdrawal removes one.  Evictions by a
 * limit and the end of a session (fs_template_cache_withdraw_session()) are
 * not reported, because they tell nothing about what the exporter sends.
 */
void fs_template_cache_set_observer(struct fs_template_cache *cache,
				    fs_template_observer_fn *observer, void *opaque);

/* Removes the template under key.  Returns 0, or FS_ERR_NOT_FOUND. */
int fs_template_cache_withdraw(struct fs_template_cache *cache,
			       const struct fs_template_key *key);

/*
 * Removes every template of key's exporter, port, protocol and domain whose
 * options flag equals options (key->template_id is ignored).  Returns how many
 * were removed.  Costs one lookup plus the templates of that scope.
 */
uint32_t fs_template_cache_withdraw_all(struct fs_template_cache *cache,
					const struct fs_template_key *key,
					bool options);

/*
 * Removes every template of key's exporter, port and protocol, in every
 * domain, as when a transport session (an IPFIX TCP connection) ends.
 * Returns how many were removed.
 */
uint32_t fs_template_cache_withdraw_session(struct fs_template_cache *cache,
					    const struct fs_template_key *key);

uint32_t fs_template_cache_count(const struct fs_template_cache *cache);

/*
 * Records the sampling rate announced for key's exporter and domain
 * (template_id ignored).  Allocates an entry the first time a key is seen,
 * until max_options_entries; after that the entry set longest ago is reused.
 */
void fs_template_cache_set_sampling(struct fs_template_cache *cache,
				    const struct fs_template_key *key,
				    uint32_t rate);

/* Returns the sampling rate recorded for key's exporter and domain, or 0. */
uint32_t fs_template_cache_sampling(const struct fs_template_cache *cache,
				    const struct fs_template_key *key);

/* Records the exporter's boot time (Unix ms) announced for key's exporter and domain. */
void fs_template_cache_set_sys_init(struct fs_template_cache *cache,
				    const struct fs_template_key *key,
				    uint64_t sys_init_ms);

/* Returns true and sets *sys_init_ms when a boot time is recorded for key's exporter and domain. */
bool fs_template_cache_sys_init(const struct fs_template_cache *cache,
				const struct fs_template_key *key,
				uint64_t *sys_init_ms);

/* Records the rate of sampler_id for key's exporter, port and domain (template_id ignored). */
void fs_template_cache_set_sampler(struct fs_template_cache *cache,
				   const struct fs_template_key *key,
				   uint64_t sampler_id, uint32_t rate);

/*
 * Returns the rate of sampler_id for key's exporter: the entry of key's
 * domain when there is one, else the rate announced last for sampler_id
 * under any domain of the same exporter and port, else 0.
 */
uint32_t fs_template_cache_sampler(const struct fs_template_cache *cache,
				   const struct fs_template_key *key,
				   uint64_t sampler_id);

/* Limits on data sets held while their template is unknown. */
struct fs_pending_limits {
	uint32_t max_sets;              /* in total */
	uint32_t max_bytes;             /* in total, set bodies */
	uint32_t max_sets_per_exporter; /* per exporter address, over all ports and domains */
	uint32_t max_bytes_per_exporter;
	uint32_t max_age_s;             /* seconds since receipt a set may wait; 0: no limit */
};

/* Context of a held data set: the header fields of the message that carried it. */
struct fs_pending_meta {
	uint32_t sequence;
	struct fs_export_clock clock;
	int64_t time_received_ns;
};

/* A held data set, owned by the caller after fs_template_cache_take_pending(). */
struct fs_pending_set {
	struct fs_pending_set *next; /* private to the cache */
	struct fs_template_key key;  /* template_id is the data set id */
	struct fs_pending_meta meta;
	size_t len;
	uint8_t body[];              /* the set body, set header excluded */
};

/* Sets the limits on held data sets; all zero (the default) holds none. */
void fs_template_cache_set_pending_limits(struct fs_template_cache *cache,
					  const struct fs_pending_limits *limits);

/*
 * Holds a copy of the data set body body[0..len) that key's template is
 * needed for.  Returns how many older held sets were dropped to make room
 * (0 or more), FS_ERR_FULL when the body alone is over the per-exporter byte
 * limit (nothing is held), or FS_ERR_SYSTEM when memory runs out.  The
 * per-exporter limits count the held sets of key's address, whatever their
 * port, protocol or domain.
 */
int fs_template_cache_hold(struct fs_template_cache *cache,
			   const struct fs_template_key *key,
			   const struct fs_pending_meta *meta,
			   const uint8_t *body, size_t len);

/*
 * Detaches the oldest held set whose key equals key, or returns NULL.  The
 * caller frees it with free().
 */
struct fs_pending_set *fs_template_cache_take_pending(struct fs_template_cache *cache,
						      const struct fs_template_key *key);

/*
 * Drops the held sets received more than max_age_s seconds before now_ns,
 * oldest first, and returns how many.  Sets are held in the order they
 * arrived, so this stops at the first set that is young enough.
 */
uint32_t fs_template_cache_expire_pending(struct fs_template_cache *cache, int64_t now_ns);

/* Returns how many data sets are held. */
uint32_t fs_template_cache_pending_count(const struct fs_template_cache *cache);

/*
 * One decoded data record: the forward flow and, for biflow templates
 * (RFC 5103), the values of the reverse elements.
 */
struct fs_record {
	struct fs_flow flow;
	struct fs_field_deferred times;
	struct fs_flow reverse;               /* only the reverse elements' values */
	struct fs_field_deferred reverse_times;
};

/*
 * Clears rec before a record of tpl is read into it.  The reverse half is
 * cleared only when tpl has reverse elements (tpl->has_reverse), because
 * nothing reads it otherwise: clearing both halves, about 4 KB, cost 515
 * instructions per NetFlow v9 flow (callgrind).
 */
void fs_record_clear(struct fs_record *rec, const struct fs_template *tpl);

/*
 * Clears what the decoder wrote into rec for the previous record of tpl,
 * where fs_record_clear() cleared rec before the first record of the set.
 * Templates with reverse elements, enterprise elements or a datalink frame
 * get fs_record_clear().  For the others, only the members of struct fs_flow
 * before src_country, sampling_source, the firewall and NAT members and the
 * deferred values are cleared.  That is about 360 of the 2,024 bytes of
 * fs_record_clear(), which cost 274 instructions per NetFlow v9 flow
 * (callgrind).
 */
void fs_record_reset(struct fs_record *rec, const struct fs_template *tpl);

/*
 * Reads one record laid out by tpl from cur into rec.  Fields are applied in
 * template order; unmapped ones are skipped.  Returns 0, or FS_ERR_TRUNCATED
 * when the record runs past the cursor (a variable-length field longer than
 * the data, or a short set).
 */
int fs_template_decode_record(const struct fs_template *tpl, struct fs_cursor *cur,
			      struct fs_record *rec);

#endif
