/*
 * topic_records.h - distinguishes the alert and counter messages of
 * flowsift's topics (flows.alerts, flows.counters) from flow messages.
 * `flowsift report` and `graph` given a topic without flows then name what
 * it contains, instead of counting every message as a flow that could not
 * be decoded.  `flowsift print` prints the alert records itself.
 *
 * Every flowsift message starts with the Avro single-object header: the
 * marker C3 01 and the 8-byte little-endian fingerprint of its schema
 * (alert/alert_codec.h, avro/counters_codec.h), which names the record.
 */
#ifndef FS_CMD_TOPIC_RECORDS_H
#define FS_CMD_TOPIC_RECORDS_H

#include <stddef.h>
#include <stdint.h>

struct topic_records {
	uint64_t alert_fingerprints[2];  /* the alert schema and its earlier version */
	uint64_t counters_fingerprint;
	uint64_t alerts;        /* alert messages seen */
	uint64_t counters;      /* counter sample messages seen */
};

enum topic_record_kind { TOPIC_RECORD_FLOWS, TOPIC_RECORD_ALERT, TOPIC_RECORD_COUNTERS };

/* Prepares r.  Returns 0, or -1 with the reason in err. */
int topic_records_init(struct topic_records *r, char *err, size_t err_len);

/*
 * Returns what msg (len bytes) contains by the fingerprint of its first
 * record: TOPIC_RECORD_FLOWS for anything that is not an alert or a
 * counter sample.  Counts nothing.
 */
enum topic_record_kind topic_records_kind(const struct topic_records *r, const void *msg,
					  size_t len);

/*
 * Returns 1 and counts the message when msg (len bytes) is an alert or a
 * counter sample, else 0, so the caller decodes it as flows.
 */
int topic_records_take(struct topic_records *r, const void *msg, size_t len);

/*
 * When alerts or counter samples were seen, prints on stderr what topic
 * contains and where to read it.  Returns -1 when the topic gave no flow
 * (flows is 0) but such records, so the command should fail, else 0.
 */
int topic_records_report(const struct topic_records *r, const char *command, const char *topic,
			 uint64_t flows);

#endif
