/* topic_records.c - distinguishes alert and counter messages from flow messages. */
#include "topic_records.h"

#include <inttypes.h>
#include <stdio.h>

#include "alert/alert_codec.h"
#include "avro/counters_codec.h"

#define HEADER_LEN 10

int
topic_records_init(struct topic_records *r, char *err, size_t err_len)
{
	struct fs_alert_codec *alerts = fs_alert_codec_new(err, err_len);
	struct fs_counters_codec *counters = NULL;
	int rc = -1;

	*r = (struct topic_records){ 0 };
	if (!alerts)
		goto out;
	counters = fs_counters_codec_new(err, err_len);
	if (!counters)
		goto out;
	r->alert_fingerprints[0] = fs_alert_codec_fingerprint(alerts);
	r->alert_fingerprints[1] = fs_alert_codec_fingerprint_v1(alerts);
	r->counters_fingerprint = fs_counters_codec_fingerprint(counters);
	rc = 0;
out:
	fs_counters_codec_free(counters);
	fs_alert_codec_free(alerts);
	return rc;
}

enum topic_record_kind
topic_records_kind(const struct topic_records *r, const void *msg, size_t len)
{
	const uint8_t *b = msg;
	uint64_t fingerprint = 0;

	if (len < HEADER_LEN || b[0] != 0xc3 || b[1] != 0x01)
		return TOPIC_RECORD_FLOWS;
	for (int i = 9; i >= 2; i--)
		fingerprint = fingerprint << 8 | b[i];
	if (fingerprint == r->alert_fingerprints[0] || fingerprint == r->alert_fingerprints[1])
		return TOPIC_RECORD_ALERT;
	if (fingerprint == r->counters_fingerprint)
		return TOPIC_RECORD_COUNTERS;
	return TOPIC_RECORD_FLOWS;
}

int
topic_records_take(struct topic_records *r, const void *msg, size_t len)
{
	switch (topic_records_kind(r, msg, len)) {
	case TOPIC_RECORD_ALERT:
		r->alerts++;
		return 1;
	case TOPIC_RECORD_COUNTERS:
		r->counters++;
		return 1;
	default:
		return 0;
	}
}

int
topic_records_report(const struct topic_records *r, const char *command, const char *topic,
		     uint64_t flows)
{
	if (r->alerts)
		fprintf(stderr, "%s: topic '%s' contains %" PRIu64 " alerts, which are not flows; "
			"`flowsift report alerts` lists the alerts\n", command, topic, r->alerts);
	if (r->counters)
		fprintf(stderr, "%s: topic '%s' contains %" PRIu64 " sFlow counter samples, which "
			"are not flows; read flows from flows.raw or flows.enriched\n", command, topic,
			r->counters);
	return flows == 0 && (r->alerts || r->counters) ? -1 : 0;
}
