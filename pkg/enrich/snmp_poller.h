/*
 * snmp_poller.h - interface names and speeds polled from exporters by SNMP.
 *
 * A poller thread reads, from each exporter it was asked about, sysName.0
 * and the ifTable and ifXTable columns (RFC 2863) that name an interface:
 *
 *   ifDescr     1.3.6.1.2.1.2.2.1.2      name, when ifName is absent
 *   ifSpeed     1.3.6.1.2.1.2.2.1.5      bits/s, when ifHighSpeed is absent
 *   ifName      1.3.6.1.2.1.31.1.1.1.1   name
 *   ifHighSpeed 1.3.6.1.2.1.31.1.1.1.15  Mbit/s
 *   ifAlias     1.3.6.1.2.1.31.1.1.1.18  description
 *
 * with SNMPv2c GETBULK through net-snmp's single-session API, at the
 * exporter's address and the configured port.  Results are cached and
 * polled again every refresh period.  A failed poll keeps the names of the
 * last successful one and is logged at most once per exporter per refresh
 * period.
 *
 * fs_snmp_poller_lookup() is what the enrich loop calls: it returns cached
 * names at once, and the first lookup of an exporter queues it for polling,
 * so the first flows of a new exporter go without names.
 *
 * Thread safety: every function may be called from any thread; the cache
 * is protected by one mutex, held for the copies of a lookup only.
 */
#ifndef FS_ENRICH_SNMP_POLLER_H
#define FS_ENRICH_SNMP_POLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"
#include "enrich/if_map.h"

/* Most exporters one poller polls; further ones are counted and ignored. */
#define FS_SNMP_MAX_EXPORTERS 4096

/* Most interfaces read from one exporter. */
#define FS_SNMP_MAX_INTERFACES 65536

struct fs_snmp_settings {
	const char *community;   /* SNMPv2c community, borrowed for the call */
	uint16_t port;           /* usually 161 */
	int refresh_s;           /* seconds between polls of one exporter */
	int timeout_ms;          /* per request */
	int retries;
};

struct fs_snmp_stats {
	uint64_t polls;          /* completed polls, each of one exporter */
	uint64_t poll_failures;  /* polls that timed out or failed */
	uint64_t exporters;      /* exporters being polled */
	uint64_t exporters_ignored; /* beyond FS_SNMP_MAX_EXPORTERS */
	uint64_t interfaces;     /* interfaces in the cache */
};

struct fs_snmp_poller;

/*
 * Starts a poller thread with settings.  Returns 0 with the poller in *out,
 * or a negative fs_result with the reason in err.  Free with
 * fs_snmp_poller_free(), which stops the thread.
 */
int fs_snmp_poller_new(const struct fs_snmp_settings *settings,
		       struct fs_snmp_poller **out, char *err, size_t err_len);

/* Stops the thread (waiting for a poll in progress) and frees p; NULL is allowed. */
void fs_snmp_poller_free(struct fs_snmp_poller *p);

/*
 * Copies the cached sysName of exporter into name (FS_FLOW_EXPORTER_NAME_LEN
 * bytes, "" when unknown) and the cached entries of interfaces in_if and
 * out_if into *in and *out (cleared when unknown; in_if or out_if 0 is
 * never looked up).  Queues exporter for polling when it is new.  Returns
 * true when the exporter was polled successfully at least once.
 */
bool fs_snmp_poller_lookup(struct fs_snmp_poller *p, const struct fs_addr *exporter,
			   uint32_t in_if, uint32_t out_if, char *name,
			   struct fs_if_info *in, struct fs_if_info *out);

/*
 * Waits up to timeout_ms until exporter has been polled (successfully or
 * not) at least once.  Returns true when it was.  For tests and start-up.
 */
bool fs_snmp_poller_wait(struct fs_snmp_poller *p, const struct fs_addr *exporter,
			 int timeout_ms);

void fs_snmp_poller_stats(struct fs_snmp_poller *p, struct fs_snmp_stats *out);

#endif
