/* decoder_config.c - reads the decode.* configuration keys into decoder limits. */
#include "decode/decoder_config.h"

#include <stddef.h>
#include <string.h>

#include "core/log.h"
#include "core/result.h"

/* A configuration key and the limit it sets. */
struct limit_key {
	const char *key;
	size_t offset; /* of a uint32_t in struct fs_decoder_limits */
};

#define LIMIT(key, field) { key, offsetof(struct fs_decoder_limits, field) }

static const struct limit_key limit_keys[] = {
	LIMIT("decode.templates.max", max_templates),
	LIMIT("decode.templates.per.exporter.max", max_templates_per_exporter),
	LIMIT("decode.templates.bytes.max", max_template_bytes),
	LIMIT("decode.template.fields.max", max_template_fields),
	LIMIT("decode.exporters.max", max_exporters),
	LIMIT("decode.sflow.sources.max", max_sflow_sources),
	LIMIT("decode.options.entries.max", max_options_entries),
	LIMIT("decode.held.sets.max", max_pending_sets),
	LIMIT("decode.held.bytes.max", max_pending_bytes),
	LIMIT("decode.held.sets.per.exporter.max", max_pending_sets_per_exporter),
	LIMIT("decode.held.bytes.per.exporter.max", max_pending_bytes_per_exporter),
	LIMIT("decode.held.age.max", max_pending_age_s),
	LIMIT("decode.sflow.samples.max", max_sflow_samples),
	LIMIT("decode.sflow.records.max", max_sflow_records),
	LIMIT("decode.sflow.header.bytes.max", max_header_bytes),
};

int
fs_decoder_limits_from_config(const struct fs_config *config,
			      struct fs_decoder_limits *limits)
{
	int64_t v;

	memset(limits, 0, sizeof(*limits));
	for (size_t i = 0; i < sizeof(limit_keys) / sizeof(limit_keys[0]); i++) {
		uint32_t u;

		v = fs_config_int(config, limit_keys[i].key);
		if (v < 1 || v > (int64_t)UINT32_MAX) {
			fs_log(FS_LOG_ERR, "config", "%s = %lld does not fit a decoder limit (1 to %u)",
			       limit_keys[i].key, (long long)v, UINT32_MAX);
			return FS_ERR_INVALID;
		}
		u = (uint32_t)v;
		memcpy((char *)limits + limit_keys[i].offset, &u, sizeof(u));
	}

	/* 0 is a valid count here but means "default" in struct fs_decoder_limits. */
	v = fs_config_int(config, "decode.enterprise.elements.max");
	if (v < 0 || v > FS_FLOW_MAX_ENTERPRISE_ELEMENTS) {
		fs_log(FS_LOG_ERR, "config", "decode.enterprise.elements.max = %lld is out of range (0 to %d)",
		       (long long)v, FS_FLOW_MAX_ENTERPRISE_ELEMENTS);
		return FS_ERR_INVALID;
	}
	limits->max_enterprise_elements = v == 0 ? FS_DECODER_NO_ENTERPRISE_ELEMENTS : (uint32_t)v;
	limits->decap_srv6 = fs_config_int(config, "decode.decap.srv6") != 0;
	return 0;
}
