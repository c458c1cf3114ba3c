/*
 * probe.h - reachability probes behind the workers' /readyz answers.
 *
 * A probe opens a TCP connection and closes it at once: it shows that the
 * broker or Redis accepts connections, not that authentication or a topic
 * works.  Workers run it at most every few seconds and keep the answer in an
 * atomic flag that their readiness callback reads (see docs/metrics.md).
 */
#ifndef FS_METRICS_PROBE_H
#define FS_METRICS_PROBE_H

#include <stddef.h>

/*
 * Tries each "host:port" or "[ipv6]:port" of the comma-separated list in
 * turn until one accepts a TCP connection within timeout_ms.  A leading
 * "scheme://" (as in librdkafka's "SASL_SSL://host:9093") is skipped.  Returns 0 on
 * the first success, or FS_ERR_NOT_FOUND with the last failure (address and
 * reason) in reason (reason_len bytes), or FS_ERR_INVALID for a malformed
 * list.  Blocks for at most timeout_ms per address.
 */
int fs_probe_tcp(const char *addresses, int timeout_ms, char *reason,
		 size_t reason_len);

#endif
