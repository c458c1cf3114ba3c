/* sampling.c - sampling-rate normalization of flow counters. */
#include "enrich/sampling.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/count.h"
#include "core/result.h"

static int
fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return FS_ERR_INVALID;
}

/* Parses one "ADDRESS=RATE" item of n bytes into *o. */
static int
parse_item(const char *item, size_t n, struct fs_sampling_override *o, char *err,
	   size_t err_len)
{
	char text[80];
	char *eq, *end;
	unsigned long long rate;

	if (n >= sizeof(text))
		return fail(err, err_len, "override '%.40s...' is too long", item);
	memcpy(text, item, n);
	text[n] = '\0';
	eq = strchr(text, '=');
	if (eq == NULL)
		return fail(err, err_len, "override '%s' is not ADDRESS=RATE", text);
	*eq = '\0';
	if (fs_addr_parse(&o->exporter, text) != 0)
		return fail(err, err_len, "override '%s=%s': '%s' is not an IP address", text,
			    eq + 1, text);
	rate = strtoull(eq + 1, &end, 10);
	if (end == eq + 1 || *end != '\0' || eq[1] == '-' || rate < 1 || rate > UINT32_MAX)
		return fail(err, err_len,
			    "override '%s=%s': rate is not a number from 1 to 4294967295",
			    text, eq + 1);
	o->rate = (uint32_t)rate;
	return 0;
}

int
fs_sampling_init(struct fs_sampling *s, const char *overrides, char *err, size_t err_len)
{
	const char *p = overrides;

	memset(s, 0, sizeof(s[0]));
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		size_t start = 0;

		while (start < n && (p[start] == ' ' || p[start] == '\t'))
			start++;
		while (n > start && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > start) {
			struct fs_sampling_override o;
			struct fs_sampling_override *grown;

			if (parse_item(p + start, n - start, &o, err, err_len) < 0)
				goto fail;
			if (fs_sampling_override_rate(s, &o.exporter) != 0) {
				fail(err, err_len, "override for '%.*s' is listed twice",
				     (int)(n - start), p + start);
				goto fail;
			}
			if (s->count == FS_SAMPLING_MAX_OVERRIDES) {
				fail(err, err_len, "more than %d overrides",
				     FS_SAMPLING_MAX_OVERRIDES);
				goto fail;
			}
			grown = realloc(s->overrides, (s->count + 1) * sizeof(*grown));
			if (grown == NULL) {
				fail(err, err_len, "out of memory");
				goto fail;
			}
			s->overrides = grown;
			s->overrides[s->count++] = o;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return 0;
fail:
	fs_sampling_release(s);
	return FS_ERR_INVALID;
}

void
fs_sampling_release(struct fs_sampling *s)
{
	free(s->overrides);
	memset(s, 0, sizeof(s[0]));
}

uint32_t
fs_sampling_override_rate(const struct fs_sampling *s, const struct fs_addr *exporter)
{
	for (size_t i = 0; i < s->count; i++) {
		if (fs_addr_equal(&s->overrides[i].exporter, exporter))
			return s->overrides[i].rate;
	}
	return 0;
}

static uint64_t
scale(uint64_t value, uint32_t rate, struct fs_sampling_stats *stats)
{
	if (rate != 0 && value > FS_COUNT_MAX / rate) {
		stats->saturated++;
		return FS_COUNT_MAX;
	}
	return value * rate;
}

void
fs_sampling_apply(const struct fs_sampling *s, struct fs_flow *flow,
		  struct fs_sampling_stats *stats)
{
	uint32_t rate = fs_sampling_override_rate(s, &flow->exporter_addr);
	enum fs_sampling_source source;

	if (fs_flow_has(flow, FS_F_EXPORTED_BYTES) || fs_flow_has(flow, FS_F_EXPORTED_PACKETS)) {
		stats->already_scaled++;
		return;
	}
	if (rate != 0) {
		source = FS_SAMPLING_OVERRIDE;
		stats->overridden++;
	} else if (fs_flow_has(flow, FS_F_SAMPLING_RATE) && flow->sampling_rate >= 1) {
		rate = flow->sampling_rate;
		if (fs_flow_has(flow, FS_F_SAMPLING_SOURCE) &&
		    flow->sampling_source == FS_SAMPLING_OPTIONS)
			source = FS_SAMPLING_OPTIONS;
		else if (flow->flow_type == FS_FLOW_SFLOW_V5)
			source = FS_SAMPLING_SFLOW;
		else
			source = FS_SAMPLING_EXPORTER;
	} else {
		source = FS_SAMPLING_NONE;
		stats->unknown_rate++;
	}

	if (fs_flow_has(flow, FS_F_BYTES)) {
		flow->exported_bytes = flow->bytes;
		flow->present |= FS_F_EXPORTED_BYTES;
	}
	if (fs_flow_has(flow, FS_F_PACKETS)) {
		flow->exported_packets = flow->packets;
		flow->present |= FS_F_EXPORTED_PACKETS;
	}
	if (rate != 0) {
		flow->bytes = scale(flow->bytes, rate, stats);
		flow->packets = scale(flow->packets, rate, stats);
		flow->sampling_rate = rate;
		flow->present |= FS_F_SAMPLING_RATE;
		if (rate > 1)
			stats->scaled++;
	} else {
		flow->sampling_rate = 0;
		flow->present &= ~(uint64_t)FS_F_SAMPLING_RATE;
	}
	flow->sampling_source = (uint8_t)source;
	flow->present |= FS_F_SAMPLING_SOURCE;
}
