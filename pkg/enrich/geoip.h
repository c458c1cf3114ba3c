/*
 * geoip.h - country, city and autonomous system of an address, from
 * MaxMind DB files read with libmaxminddb.
 *
 * Two optional databases: a city or country database (GeoLite2-City,
 * GeoLite2-Country, DB-IP City Lite, ...) for the country code and city, and
 * an ASN database (GeoLite2-ASN, ...) for the AS number and organisation.
 * One file may serve both: each lookup reads whichever keys the record has.
 *
 * Keys read, in the layout GeoLite2 defines and DB-IP follows:
 *   country.iso_code, or registered_country.iso_code when country is absent
 *   city.names.en
 *   autonomous_system_number, autonomous_system_organization
 * IPinfo's flat layout is read too: country (a string), asn ("AS64500")
 * and as_name.
 *
 * Memory: libmaxminddb maps each file into memory (MMDB_MODE_MMAP), and a
 * lookup allocates nothing.  A handle is read-only after opening, so several
 * threads may look up at once.
 */
#ifndef FS_ENRICH_GEOIP_H
#define FS_ENRICH_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

struct fs_geoip;

struct fs_geoip_result {
	char country[FS_FLOW_COUNTRY_LEN];   /* "" when unknown */
	char city[FS_FLOW_CITY_LEN];         /* "" when unknown */
	uint32_t asn;                        /* 0 when unknown */
	char as_org[FS_FLOW_AS_ORG_LEN];     /* "" when unknown */
};

/*
 * Opens the city database at city_path and the ASN database at asn_path;
 * either may be NULL or "" to go without.  Returns 0 with the handle in
 * *out, or a negative fs_result with the file and libmaxminddb's reason in
 * err.  The caller frees the handle with fs_geoip_free().
 */
int fs_geoip_open(const char *city_path, const char *asn_path, struct fs_geoip **out,
		  char *err, size_t err_len);

/* Closes both databases and frees g; NULL is allowed. */
void fs_geoip_free(struct fs_geoip *g);

/*
 * Looks addr up in both databases and fills *result (cleared first).
 * Returns true when any database had a record for addr.
 */
bool fs_geoip_lookup(const struct fs_geoip *g, const struct fs_addr *addr,
		     struct fs_geoip_result *result);

#endif
