/*
 * enricher.h - adds names, places, tags and sampling estimates to flows.
 *
 * An enricher holds the sources of flowsift-enrich (docs/enrich.md) and
 * applies them to one flow at a time:
 *
 *   - GeoIP (enrich.geoip.city, enrich.geoip.asn): src_/dst_country,
 *     src_/dst_city, src_/dst_as_org, and src_as/dst_as where the exporter
 *     sent none, or always when enrich.as.prefer is geoip;
 *   - the interface map (enrich.interfaces.map) and SNMP: exporter_name,
 *     exporter_site, in_/out_if_name, _description and _speed; the map wins
 *     over SNMP field by field;
 *   - the prefix list (enrich.prefixes): src_tags, dst_tags;
 *   - the home networks (enrich.home.networks): traffic_direction;
 *   - sampling normalization (enrich/sampling.h);
 *   - the services database: src_service, dst_service.
 *
 * Files reload when fs_enricher_reload() finds one changed (device, inode,
 * size or modification time) or is forced (SIGHUP).  A new file is read
 * completely before it replaces the old one, so a flow is enriched with
 * either the old or the new version and never a mix.  A file that fails to
 * load keeps the previous version in use; the error is logged once per
 * version of the file.
 *
 * Hot path: fs_enricher_apply() allocates nothing and logs nothing.
 * Thread safety: one thread at a time per enricher; the SNMP poller it
 * borrows has its own thread.
 */
#ifndef FS_ENRICH_ENRICHER_H
#define FS_ENRICH_ENRICHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"
#include "enrich/sampling.h"

struct fs_snmp_poller;

/* Where the AS numbers of a flow come from when both sources have one. */
enum fs_as_prefer {
	FS_AS_PREFER_EXPORTER = 0,   /* keep the exporter's, fill only missing ones */
	FS_AS_PREFER_GEOIP = 1,      /* the ASN database wins */
};

/* Every string is borrowed for the call to fs_enricher_new() only. */
struct fs_enrich_settings {
	const char *geoip_city;      /* path or "" */
	const char *geoip_asn;       /* path or "" */
	enum fs_as_prefer as_prefer;
	const char *interfaces_map;  /* path or "" */
	const char *prefixes;        /* path or "" */
	const char *home_networks;   /* comma-separated prefixes or "" */
	const char *sampling_override; /* "ADDRESS=RATE,..." or "" */
	const char *services;        /* path, "" for /etc/services, "none" for no names */
	struct fs_snmp_poller *snmp; /* borrowed for the enricher's life; may be NULL */
};

struct fs_enrich_stats {
	uint64_t flows;
	uint64_t geoip_hits;         /* addresses found in a GeoIP database */
	uint64_t prefix_hits;        /* addresses that matched the prefix list */
	uint64_t interface_hits;     /* interfaces named by the map or SNMP */
	uint64_t reloads;            /* files reloaded */
	uint64_t reload_failures;    /* new file versions that failed to load */
	struct fs_sampling_stats sampling;
};

struct fs_enricher;

/*
 * Creates an enricher and loads every configured file.  Returns 0 with the
 * enricher in *out, or a negative fs_result with the setting, file and
 * reason in err (a broken file at start is an error, not a warning).
 */
int fs_enricher_new(const struct fs_enrich_settings *settings, struct fs_enricher **out,
		    char *err, size_t err_len);

/* Frees e and every source it loaded; NULL is allowed. */
void fs_enricher_free(struct fs_enricher *e);

/* Enriches flow in place; see the list above. */
void fs_enricher_apply(struct fs_enricher *e, struct fs_flow *flow);

/*
 * Reloads the files that changed since they were loaded, or all of them
 * when force is true.  Returns the number of files reloaded.  Failures are
 * logged and counted; the old version stays in use.
 */
int fs_enricher_reload(struct fs_enricher *e, bool force);

void fs_enricher_stats(const struct fs_enricher *e, struct fs_enrich_stats *out);

#endif
