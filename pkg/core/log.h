/*
 * log.h - leveled logging through a caller-installed sink, with rate limits.
 *
 * Libraries in pkg/ never write to stdout or stderr themselves: they call
 * fs_log(), which formats one line and hands it to the sink installed with
 * fs_log_set_sink().  The default sink writes one line per message to stderr,
 * which is what programs in cmd/ want, in logfmt or as JSON (the log.format
 * setting):
 *
 *   ts=2024-05-01T12:00:00.000Z level=info facility=ingest msg="listening"
 *   {"ts":"2024-05-01T12:00:00.000Z","level":"info","facility":"ingest","msg":"listening"}
 *
 * Messages below the configured level are not formatted at all.
 *
 * Every message carries a facility, a short lowercase word naming the
 * subsystem ("ipfix", "kafka", "redis").
 *
 * Thread safety: the level and sink are process-wide and meant to be set once
 * at start; fs_log() itself may be called from any thread.
 */
#ifndef FS_CORE_LOG_H
#define FS_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* syslog severities */
enum fs_log_level {
	FS_LOG_ERR = 3,
	FS_LOG_WARNING = 4,
	FS_LOG_NOTICE = 5,
	FS_LOG_INFO = 6,
	FS_LOG_DEBUG = 7,
};

/* Receives one formatted message without a trailing newline. */
typedef void fs_log_sink_fn(enum fs_log_level level, const char *facility,
			    const char *message, void *opaque);

/* Installs sink (NULL restores the stderr sink); opaque is passed back to it. */
void fs_log_set_sink(fs_log_sink_fn *sink, void *opaque);

/* Sets the lowest severity that is logged (default FS_LOG_INFO). */
void fs_log_set_level(enum fs_log_level level);

enum fs_log_format {
	FS_LOG_FORMAT_LOGFMT = 0,
	FS_LOG_FORMAT_JSON = 1,
};

/* Sets the line format of the stderr sink (default FS_LOG_FORMAT_LOGFMT). */
void fs_log_set_format(enum fs_log_format format);

/* Parses "logfmt" or "json".  Returns 0 or -1. */
int fs_log_format_parse(const char *name, enum fs_log_format *format);

/*
 * Writes one line for message to out in format, with the current UTC time.
 * Control characters are escaped in both formats, and bytes that are not
 * UTF-8 become U+FFFD in JSON, so every line parses.  Exposed for tests.
 */
void fs_log_write_line(FILE *out, enum fs_log_format format,
		       enum fs_log_level level, const char *facility,
		       const char *message);

/* Parses "error", "warning", "notice", "info" or "debug".  Returns 0 or -1. */
int fs_log_level_parse(const char *name, enum fs_log_level *level);

void fs_log(enum fs_log_level level, const char *facility, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A rate limiter for a group of repeated messages: at most `burst` lines per
 * `interval_s` seconds.  The lines suppressed meanwhile are counted and
 * reported on the next line that passes, whatever its text, because one
 * limiter may serve several messages (every decode error of a worker, say).
 * Zero-initialise, then set the two limits (FS_RATELIMIT_INIT does both).
 */
struct fs_ratelimit {
	uint32_t interval_s;
	uint32_t burst;
	int64_t window_start;
	uint32_t printed;
	uint64_t suppressed;
};

#define FS_RATELIMIT_INIT(interval, burst_count) \
	{ .interval_s = (interval), .burst = (burst_count) }

/* Logs like fs_log() unless rl has used its burst in the current interval. */
void fs_log_limited(struct fs_ratelimit *rl, enum fs_log_level level,
		    const char *facility, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Writes a printable copy of untrusted bytes into out (size out_len): bytes
 * outside 0x20..0x7e become '.', and at most out_len - 1 bytes are copied.
 * Returns out.
 */
char *fs_log_mask(const void *bytes, size_t len, char *out, size_t out_len);

#endif
