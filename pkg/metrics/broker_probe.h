/*
 * broker_probe.h - the thread that checks the Kafka bootstrap servers for a
 * worker's /readyz.
 *
 * Every FS_BROKER_PROBE_INTERVAL_S seconds the thread opens a TCP connection
 * to the bootstrap servers (fs_probe_tcp(), at most
 * FS_BROKER_PROBE_TIMEOUT_MS per address) and, when that succeeds, runs the
 * caller's own check if there is one (the consumer workers request
 * metadata).  It sets the caller's gauge to 1 or 0 after each probe and
 * logs each change under the caller's facility: "Kafka bootstrap servers
 * ... reachable" at info, "not ready: Kafka unreachable: REASON" at warning.
 */
#ifndef FS_METRICS_BROKER_PROBE_H
#define FS_METRICS_BROKER_PROBE_H

#include <stddef.h>

#define FS_BROKER_PROBE_INTERVAL_S 5
#define FS_BROKER_PROBE_TIMEOUT_MS 2000

struct fs_gauge;
struct fs_broker_probe;

struct fs_broker_probe_settings {
	const char *facility;           /* log facility, the worker's name; copied */
	const char *bootstrap;          /* comma-separated host:port list; copied */
	struct fs_gauge *reachable;     /* set to 1 or 0 after each probe; borrowed */
	/*
	 * Optional check after a successful TCP probe, run on the probe
	 * thread.  Returns 0, or -1 with the reason in reason.
	 */
	int (*check)(void *ctx, char *reason, size_t reason_len);
	/* Optional call after each probe with its result (1 or 0), on the probe thread. */
	void (*after)(void *ctx, int reachable);
	void *ctx;                      /* passed to check and after; borrowed */
};

/*
 * Starts the probe thread.  Returns the probe, or NULL with the reason in
 * err.  Until the first probe ends, fs_broker_probe_ready() returns 0 with
 * "Kafka not probed yet".
 */
struct fs_broker_probe *fs_broker_probe_start(const struct fs_broker_probe_settings *settings,
					      char *err, size_t err_len);

/*
 * Returns 1 when the last probe succeeded, else 0 with the reason
 * ("Kafka unreachable: ...") in reason.  Safe from any thread.
 */
int fs_broker_probe_ready(struct fs_broker_probe *probe, char *reason, size_t reason_len);

/* Stops the thread, waiting for a probe under way, and frees the probe.  probe may be NULL. */
void fs_broker_probe_stop(struct fs_broker_probe *probe);

#endif
