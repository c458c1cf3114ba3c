/*
 * alert.h - one detection alert and its text forms: JSON and CEF.
 *
 * An alert is raised by a rule of pkg/detect about one host (the subject):
 * the source of a fan-out, a scan or outbound SMTP, the destination of a
 * fan-in or a flood.  It has a lifecycle:
 *
 *   raised   the first time the rule's threshold is met;
 *   updated  while the rule keeps matching, at most once per cooldown;
 *   cleared  once the rule has not matched for the quiet period.
 *
 * All three carry the same id, so a SIEM can join them.  Every alert carries
 * its evidence: the rule, the metric and threshold, the value observed over
 * the window, first and last seen, flows/bytes/packets of the subject seen
 * in the last interval, and the top destinations and ports of that interval.
 * It also names where those flows were seen: the exporter that reported most
 * of them, with its name and site when flowsift-enrich added them, and that
 * exporter's interface on the subject's side (the input interface when the
 * subject sends, the output interface when it receives).  With private
 * addresses used at several sites, the exporter tells which host is meant.
 *
 * The struct is plain data without pointers, like struct fs_flow.
 *
 * Text forms
 * ----------
 * fs_alert_format_json() writes one JSON object (a JSON line without the
 * newline), fs_alert_parse_json() reads it back.  fs_alert_format_cef()
 * writes ArcSight Common Event Format:
 *
 *   CEF:0|flowsift|flowsift|<version>|<rule>|<title>|<severity>|<extension>
 *
 * with the standard keys src, dst, dpt, proto, cnt, in, out, start, end
 * (milliseconds since the Unix epoch: the receive times of the interval's
 * earliest and latest flows, else first and last seen), msg, act (raised, updated, cleared),
 * externalId (the alert id), cat (the rule), and cs1..cs3 / cn1..cn3 with
 * their labels for the metric, window, threshold and observed value.  The
 * exporter is dvc (c6a4 for IPv6) and dvchost, its interface
 * deviceInboundInterface or deviceOutboundInterface, its site cs3.
 */
#ifndef FS_ALERT_ALERT_H
#define FS_ALERT_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

#define FS_ALERT_TOP 5             /* top destinations and ports kept as evidence */
#define FS_ALERT_ID_LEN 144
#define FS_ALERT_MESSAGE_LEN 192
#define FS_ALERT_JSON_MAX 4096     /* fits any alert formatted as JSON */
#define FS_ALERT_CEF_MAX 4096      /* fits any alert formatted as CEF */

enum fs_alert_rule {
	FS_RULE_FANOUT = 0,       /* one source, many destinations on a watched port */
	FS_RULE_SYN_SCAN = 1,     /* one source, many SYN-only TCP flows */
	FS_RULE_PORT_SCAN = 2,    /* one source, many ports on one destination */
	FS_RULE_SMTP = 3,         /* outbound SMTP from a host that is no mail server */
	FS_RULE_VOLUME_SRC = 4,   /* a host sends above a rate (flood source) */
	FS_RULE_VOLUME_DST = 5,   /* a host receives above a rate (flood target) */
	FS_RULE_FANIN = 6,        /* one destination, many distinct sources */
	FS_RULE_COUNT
};

enum fs_alert_state {
	FS_ALERT_RAISED = 0,
	FS_ALERT_UPDATED = 1,
	FS_ALERT_CLEARED = 2,
	FS_ALERT_STATE_COUNT
};

struct fs_alert_addr_count {
	struct fs_addr addr;
	uint64_t flows;
};

struct fs_alert_port_count {
	uint16_t port;
	uint64_t flows;
};

struct fs_alert {
	char id[FS_ALERT_ID_LEN];     /* "<rule>:<subject>[:<port or peer>]:<first seen s>" */
	uint8_t rule;                 /* enum fs_alert_rule */
	uint8_t state;                /* enum fs_alert_state */
	uint8_t severity;             /* CEF severity 0..10 */
	struct fs_addr subject;       /* the host the alert is about */
	struct fs_addr peer;          /* port scan: the scanned host; else unset */
	uint16_t port;                /* fan-out: the watched port; SMTP: 25; else 0 */
	uint8_t proto;                /* IP protocol of the evidence, 0 when mixed */
	char metric[24];              /* "distinct_destinations", "bytes_per_s", ... */
	uint64_t threshold;
	uint64_t observed;            /* value over the window at last_seen */
	int64_t window_s;
	int64_t first_seen_ms;        /* Unix ms, arrival time */
	int64_t last_seen_ms;
	int64_t time_ms;              /* when this state was emitted */
	int64_t flows_first_ms;       /* ingest's receive time of the earliest flow of the interval; 0 unknown */
	int64_t flows_last_ms;        /* and of the latest */
	uint32_t updates;             /* number of updates sent so far */
	uint64_t flows;               /* subject's matching flows in the last interval */
	uint64_t bytes;
	uint64_t packets;
	struct fs_addr exporter;      /* reported most of those flows; family 0 when unknown */
	char exporter_name[FS_FLOW_EXPORTER_NAME_LEN];  /* "" when unknown */
	char exporter_site[FS_FLOW_SITE_LEN];
	bool has_interface;
	uint32_t interface;           /* the exporter's SNMP index on the subject's side */
	char interface_name[FS_FLOW_IF_NAME_LEN];
	uint8_t ntop_addrs;
	uint8_t ntop_ports;
	struct fs_alert_addr_count top_addrs[FS_ALERT_TOP];
	struct fs_alert_port_count top_ports[FS_ALERT_TOP];
	char message[FS_ALERT_MESSAGE_LEN];
};

/* Names used in keys, JSON, CEF and the configuration: "fanout", "raised". */
const char *fs_alert_rule_name(enum fs_alert_rule rule);
const char *fs_alert_state_name(enum fs_alert_state state);

/* Parses a name above.  Returns 0, or FS_ERR_INVALID for an unknown name. */
int fs_alert_rule_parse(const char *name, enum fs_alert_rule *rule);
int fs_alert_state_parse(const char *name, enum fs_alert_state *state);

/*
 * Returns true when the subject of rule's alerts receives the traffic
 * (fanin, volume_dst), false when it sends.
 */
bool fs_alert_rule_subject_receives(enum fs_alert_rule rule);

/* Returns the CEF severity (0..10) of alerts of rule. */
uint8_t fs_alert_rule_severity(enum fs_alert_rule rule);

/* Writes a one-line human summary of the alert into alert->message. */
void fs_alert_describe(struct fs_alert *alert);

/*
 * Writes alert as one JSON object without a newline into buf (len bytes,
 * FS_ALERT_JSON_MAX is enough).  Returns the length, or FS_ERR_FULL when
 * buf is too small (buf then holds a cut string).
 */
int fs_alert_format_json(const struct fs_alert *alert, char *buf, size_t len);

/*
 * Reads an object written by fs_alert_format_json() (len bytes, no NUL
 * needed) into *alert.  Unknown members are ignored; missing ones stay zero.
 * Returns 0, or FS_ERR_INVALID when the text is not such an object.
 */
int fs_alert_parse_json(const char *text, size_t len, struct fs_alert *alert);

/*
 * Writes alert as a CEF record into buf (len bytes, FS_ALERT_CEF_MAX is
 * enough), with version as the device version.  Returns the length, or
 * FS_ERR_FULL when buf is too small.
 */
int fs_alert_format_cef(const struct fs_alert *alert, const char *version,
			char *buf, size_t len);

#endif
