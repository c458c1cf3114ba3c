/* log.c - leveled logging with a pluggable sink and rate limits. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum fs_log_level current_level = FS_LOG_INFO;
static fs_log_sink_fn *current_sink;
static void *current_opaque;
static enum fs_log_format current_format = FS_LOG_FORMAT_LOGFMT;

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

/* A fixed line buffer: one write per line keeps lines of several threads apart. */
struct line {
	char text[2600];
	size_t len;
	size_t limit; /* room for content; the closing characters use the rest */
};

/* Appends n bytes, or nothing when they do not fit, so no escape is ever cut in half. */
static void
put(struct line *l, const char *s, size_t n)
{
	if (n > l->limit - l->len) {
		l->limit = l->len; /* the message ends here, not after a gap */
		return;
	}
	memcpy(l->text + l->len, s, n);
	l->len += n;
}

static void
put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Returns the length of the valid UTF-8 sequence at p, or 0 when it is not one. */
static size_t
utf8_length(const unsigned char *p)
{
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

/* Appends s escaped for a double-quoted logfmt or JSON string. */
static void
put_quoted(struct line *l, const char *s, int json)
{
	const unsigned char *p = (const unsigned char *)s;
	char escaped[8];

	while (*p) {
		size_t n = 1;

		if (*p == '"' || *p == '\\') {
			escaped[0] = '\\';
			escaped[1] = (char)*p;
			put(l, escaped, 2);
		} else if (*p == '\n') {
			put_str(l, "\\n");
		} else if (*p == '\t') {
			put_str(l, "\\t");
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(escaped, sizeof(escaped), json ? "\\u%04x" : "\\x%02x", *p);
			put_str(l, escaped);
		} else if (json && *p >= 0x80) {
			n = utf8_length(p);
			if (n == 0) {
				put_str(l, "\\ufffd");
				n = 1;
			} else {
				put(l, (const char *)p, n);
			}
		} else {
			put(l, (const char *)p, 1);
		}
		p += n;
	}
}

void
fs_log_write_line(FILE *out, enum fs_log_format format, enum fs_log_level level,
		  const char *facility, const char *message)
{
	char stamp[48], date[32];
	struct timespec now;
	struct tm tm;
	struct line l = { .len = 0, .limit = sizeof(l.text) - 8 };
	int json = format == FS_LOG_FORMAT_JSON;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp, sizeof(stamp), "%s.%03ldZ", date, now.tv_nsec / 1000000);
	if (json) {
		put_str(&l, "{\"ts\":\"");
		put_str(&l, stamp);
		put_str(&l, "\",\"level\":\"");
		put_str(&l, level_name(level));
		put_str(&l, "\",\"facility\":\"");
		put_quoted(&l, facility, 1);
		put_str(&l, "\",\"msg\":\"");
		put_quoted(&l, message, 1);
		l.limit = sizeof(l.text);
		put_str(&l, "\"}");
	} else {
		put_str(&l, "ts=");
		put_str(&l, stamp);
		put_str(&l, " level=");
		put_str(&l, level_name(level));
		put_str(&l, " facility=");
		put_str(&l, facility);
		put_str(&l, " msg=\"");
		put_quoted(&l, message, 0);
		l.limit = sizeof(l.text);
		put_str(&l, "\"");
	}
	put_str(&l, "\n");
	fwrite(l.text, 1, l.len, out);
}

static void
stderr_sink(enum fs_log_level level, const char *facility, const char *message,
	    void *opaque)
{
	(void)opaque;
	fs_log_write_line(stderr, current_format, level, facility, message);
}

void
fs_log_set_format(enum fs_log_format format)
{
	current_format = format;
}

int
fs_log_format_parse(const char *name, enum fs_log_format *format)
{
	if (strcmp(name, "logfmt") == 0)
		*format = FS_LOG_FORMAT_LOGFMT;
	else if (strcmp(name, "json") == 0)
		*format = FS_LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
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
	char suffix[96] = "";
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
		snprintf(suffix, sizeof(suffix), " (%llu lines suppressed by its rate limit before this one)",
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
