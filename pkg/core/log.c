/* log.c - leveled logging with a pluggable sink and rate limits. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum fs_log_level current_level = FS_LOG_INFO;
static fs_log_sink_fn *current_sink;
static void *current_opaque;

static const char *
level_name(enum fs_log_level level)
{
	switch (level) {
	case FS_LOG_ERR: return "error";
	case FS_LOG_WARNING: return "warning";
	case FS_LOG_NOTICE: return "notice";
	case FS_LOG_INFO: return "info";
	case FS_LOG_DEBUG: return "debug";
	}
	return "unknown";
}

/* Writes one logfmt line; the message is quoted with '"' and '\' escaped. */
static void
stderr_sink(enum fs_log_level level, const char *facility, const char *message,
	    void *opaque)
{
	char stamp[32];
	struct timespec now;
	struct tm tm;
	char quoted[1200];
	size_t o = 0;

	(void)opaque;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	for (const char *p = message; *p && o + 2 < sizeof(quoted); p++) {
		if (*p == '"' || *p == '\\')
			quoted[o++] = '\\';
		quoted[o++] = *p;
	}
	quoted[o] = '\0';
	fprintf(stderr, "ts=%s.%03ldZ level=%s facility=%s msg=\"%s\"\n", stamp,
		now.tv_nsec / 1000000, level_name(level), facility, quoted);
}

void
fs_log_set_sink(fs_log_sink_fn *sink, void *opaque)
{
	current_sink = sink;
	current_opaque = opaque;
}

void
fs_log_set_level(enum fs_log_level level)
{
	current_level = level;
}

int
fs_log_level_parse(const char *name, enum fs_log_level *level)
{
	static const enum fs_log_level all[] = {
		FS_LOG_ERR, FS_LOG_WARNING, FS_LOG_NOTICE, FS_LOG_INFO, FS_LOG_DEBUG,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, level_name(all[i])) == 0) {
			*level = all[i];
			return 0;
		}
	}
	return -1;
}

static void
log_va(enum fs_log_level level, const char *facility, const char *suffix,
       const char *fmt, va_list ap)
{
	char message[1024];
	int n;

	n = vsnprintf(message, sizeof(message), fmt, ap);
	if (n >= 0 && suffix && (size_t)n < sizeof(message))
		snprintf(message + n, sizeof(message) - (size_t)n, "%s", suffix);
	if (current_sink)
		current_sink(level, facility, message, current_opaque);
	else
		stderr_sink(level, facility, message, NULL);
}

void
fs_log(enum fs_log_level level, const char *facility, const char *fmt, ...)
{
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	log_va(level, facility, NULL, fmt, ap);
	va_end(ap);
}

void
fs_log_limited(struct fs_ratelimit *rl, enum fs_log_level level,
	       const char *facility, const char *fmt, ...)
{
	struct timespec now;
	char suffix[64] = "";
	va_list ap;

	if (level > current_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - rl->window_start >= (int64_t)rl->interval_s) {
		rl->window_start = now.tv_sec;
		rl->printed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	if (rl->suppressed) {
		snprintf(suffix, sizeof(suffix), " (%llu similar messages suppressed)",
			 (unsigned long long)rl->suppressed);
		rl->suppressed = 0;
	}
	va_start(ap, fmt);
	log_va(level, facility, suffix, fmt, ap);
	va_end(ap);
}

char *
fs_log_mask(const void *bytes, size_t len, char *out, size_t out_len)
{
	const unsigned char *in = bytes;
	size_t n = len < out_len - 1 ? len : out_len - 1;

	for (size_t i = 0; i < n; i++)
		out[i] = (in[i] >= 0x20 && in[i] <= 0x7e) ? (char)in[i] : '.';
	out[n] = '\0';
	return out;
}
