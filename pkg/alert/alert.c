/* alert.c - alert names, summary text, JSON and CEF forms. */
#include "alert/alert.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/result.h"

struct rule_info {
	const char *name;
	const char *title;
	uint8_t severity;
	bool subject_is_dst;   /* the subject receives (fan-in, flood target) */
};

static const struct rule_info rule_table[FS_RULE_COUNT] = {
	[FS_RULE_FANOUT] = { "fanout", "Host contacts many destinations on one port", 8, false },
	[FS_RULE_SYN_SCAN] = { "syn_scan", "Host sends many SYN-only flows", 6, false },
	[FS_RULE_PORT_SCAN] = { "port_scan", "Host probes many ports of one host", 6, false },
	[FS_RULE_SMTP] = { "smtp", "Outbound SMTP from a host that is not a mail server", 7, false },
	[FS_RULE_VOLUME_SRC] = { "volume_src", "Host sends above the volume threshold", 5, false },
	[FS_RULE_VOLUME_DST] = { "volume_dst", "Host receives above the volume threshold", 5, true },
	[FS_RULE_FANIN] = { "fanin", "Host is contacted by many sources", 5, true },
};

static const char *const state_names[FS_ALERT_STATE_COUNT] = {
	"raised", "updated", "cleared",
};

const char *
fs_alert_rule_name(enum fs_alert_rule rule)
{
	return (unsigned)rule < FS_RULE_COUNT ? rule_table[rule].name : "unknown";
}

const char *
fs_alert_state_name(enum fs_alert_state state)
{
	return (unsigned)state < FS_ALERT_STATE_COUNT ? state_names[state] : "unknown";
}

uint8_t
fs_alert_rule_severity(enum fs_alert_rule rule)
{
	return (unsigned)rule < FS_RULE_COUNT ? rule_table[rule].severity : 5;
}

int
fs_alert_rule_parse(const char *name, enum fs_alert_rule *rule)
{
	for (int i = 0; i < FS_RULE_COUNT; i++) {
		if (strcmp(name, rule_table[i].name) == 0) {
			*rule = (enum fs_alert_rule)i;
			return 0;
		}
	}
	return FS_ERR_INVALID;
}

int
fs_alert_state_parse(const char *name, enum fs_alert_state *state)
{
	for (int i = 0; i < FS_ALERT_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*state = (enum fs_alert_state)i;
			return 0;
		}
	}
	return FS_ERR_INVALID;
}

bool
fs_alert_rule_subject_receives(enum fs_alert_rule rule)
{
	return (unsigned)rule < FS_RULE_COUNT && rule_table[rule].subject_is_dst;
}

static bool
subject_is_dst(const struct fs_alert *alert)
{
	return fs_alert_rule_subject_receives((enum fs_alert_rule)alert->rule);
}

void
fs_alert_describe(struct fs_alert *alert)
{
	char subject[FS_ADDR_STRLEN], peer[FS_ADDR_STRLEN];
	const char *rule = fs_alert_rule_name(alert->rule);

	fs_addr_format(&alert->subject, subject);
	fs_addr_format(&alert->peer, peer);
	if (alert->rule == FS_RULE_PORT_SCAN)
		snprintf(alert->message, sizeof(alert->message),
			 "%s %s: %s reached %" PRIu64 " %s of %s in %" PRId64 " s (threshold %" PRIu64 ")",
			 rule, fs_alert_state_name(alert->state), subject, alert->observed,
			 alert->metric, peer, alert->window_s, alert->threshold);
	else if (alert->port != 0)
		snprintf(alert->message, sizeof(alert->message),
			 "%s %s: %s reached %" PRIu64 " %s on port %u in %" PRId64 " s (threshold %" PRIu64 ")",
			 rule, fs_alert_state_name(alert->state), subject, alert->observed,
			 alert->metric, alert->port, alert->window_s, alert->threshold);
	else
		snprintf(alert->message, sizeof(alert->message),
			 "%s %s: %s reached %" PRIu64 " %s in %" PRId64 " s (threshold %" PRIu64 ")",
			 rule, fs_alert_state_name(alert->state), subject, alert->observed,
			 alert->metric, alert->window_s, alert->threshold);
}

/* ---- JSON ---- */

/* Sets member name to text unless text is empty. */
static void
set_text(json_t *obj, const char *name, const char *text)
{
	if (text[0])
		json_object_set_new(obj, name, json_string(text));
}

static json_t *
alert_to_json(const struct fs_alert *alert)
{
	char subject[FS_ADDR_STRLEN], peer[FS_ADDR_STRLEN], addr[FS_ADDR_STRLEN];
	json_t *obj, *addrs, *ports;

	obj = json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:I, s:I, s:I, s:s}",
			"id", alert->id,
			"rule", fs_alert_rule_name(alert->rule),
			"state", fs_alert_state_name(alert->state),
			"severity", (int)alert->severity,
			"subject", fs_addr_format(&alert->subject, subject),
			"port", (int)alert->port,
			"proto", (int)alert->proto,
			"metric", alert->metric,
			"threshold", (json_int_t)alert->threshold,
			"observed", (json_int_t)alert->observed,
			"window_s", (json_int_t)alert->window_s,
			"first_seen_ms", (json_int_t)alert->first_seen_ms,
			"last_seen_ms", (json_int_t)alert->last_seen_ms,
			"time_ms", (json_int_t)alert->time_ms,
			"updates", (int)alert->updates,
			"flows", (json_int_t)alert->flows,
			"bytes", (json_int_t)alert->bytes,
			"packets", (json_int_t)alert->packets,
			"message", alert->message);
	if (obj == NULL)
		return NULL;
	if (alert->peer.family != 0)
		json_object_set_new(obj, "peer", json_string(fs_addr_format(&alert->peer, peer)));
	if (alert->exporter.family != 0)
		json_object_set_new(obj, "exporter", json_string(fs_addr_format(&alert->exporter, addr)));
	set_text(obj, "exporter_name", alert->exporter_name);
	set_text(obj, "exporter_site", alert->exporter_site);
	if (alert->has_interface)
		json_object_set_new(obj, "interface", json_integer(alert->interface));
	set_text(obj, "interface_name", alert->interface_name);
	if (alert->flows_first_ms > 0)
		json_object_set_new(obj, "flows_first_ms", json_integer(alert->flows_first_ms));
	if (alert->flows_last_ms > 0)
		json_object_set_new(obj, "flows_last_ms", json_integer(alert->flows_last_ms));
	addrs = json_array();
	ports = json_array();
	for (int i = 0; i < alert->ntop_addrs && i < FS_ALERT_TOP; i++)
		json_array_append_new(addrs, json_pack("{s:s, s:I}", "addr",
				      fs_addr_format(&alert->top_addrs[i].addr, addr), "flows",
				      (json_int_t)alert->top_addrs[i].flows));
	for (int i = 0; i < alert->ntop_ports && i < FS_ALERT_TOP; i++)
		json_array_append_new(ports, json_pack("{s:i, s:I}", "port",
				      (int)alert->top_ports[i].port, "flows",
				      (json_int_t)alert->top_ports[i].flows));
	json_object_set_new(obj, subject_is_dst(alert) ? "top_sources" : "top_destinations", addrs);
	json_object_set_new(obj, "top_ports", ports);
	return obj;
}

int
fs_alert_format_json(const struct fs_alert *alert, char *buf, size_t len)
{
	json_t *obj = alert_to_json(alert);
	size_t n;

	if (obj == NULL || len == 0) {
		json_decref(obj);
		return FS_ERR_SYSTEM;
	}
	n = json_dumpb(obj, buf, len - 1, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (n == 0 || n > len - 1) {
		buf[0] = '\0';
		return FS_ERR_FULL;
	}
	buf[n] = '\0';
	return (int)n;
}

static void
copy_string(json_t *obj, const char *name, char *dst, size_t size)
{
	const char *s = json_string_value(json_object_get(obj, name));

	if (s)
		fs_flow_set_text(dst, size, s, strlen(s));
}

static int64_t
get_int(json_t *obj, const char *name)
{
	return (int64_t)json_integer_value(json_object_get(obj, name));
}

int
fs_alert_parse_json(const char *text, size_t len, struct fs_alert *alert)
{
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	const char *s;
	enum fs_alert_rule rule;
	enum fs_alert_state state;
	json_t *arr, *item;
	size_t i;
	int rc = FS_ERR_INVALID;

	memset(alert, 0, sizeof(*alert));
	if (!json_is_object(obj))
		goto out;
	s = json_string_value(json_object_get(obj, "rule"));
	if (!s || fs_alert_rule_parse(s, &rule) < 0)
		goto out;
	s = json_string_value(json_object_get(obj, "state"));
	if (!s || fs_alert_state_parse(s, &state) < 0)
		goto out;
	s = json_string_value(json_object_get(obj, "subject"));
	if (!s || fs_addr_parse(&alert->subject, s) < 0)
		goto out;
	s = json_string_value(json_object_get(obj, "peer"));
	if (s && fs_addr_parse(&alert->peer, s) < 0)
		goto out;
	s = json_string_value(json_object_get(obj, "exporter"));
	if (s && fs_addr_parse(&alert->exporter, s) < 0)
		goto out;
	item = json_object_get(obj, "interface");
	if (json_is_integer(item) && json_integer_value(item) >= 0 &&
	    json_integer_value(item) <= UINT32_MAX) {
		alert->has_interface = true;
		alert->interface = (uint32_t)json_integer_value(item);
	}
	alert->rule = (uint8_t)rule;
	alert->state = (uint8_t)state;
	copy_string(obj, "id", alert->id, sizeof(alert->id));
	copy_string(obj, "metric", alert->metric, sizeof(alert->metric));
	copy_string(obj, "message", alert->message, sizeof(alert->message));
	copy_string(obj, "exporter_name", alert->exporter_name, sizeof(alert->exporter_name));
	copy_string(obj, "exporter_site", alert->exporter_site, sizeof(alert->exporter_site));
	copy_string(obj, "interface_name", alert->interface_name, sizeof(alert->interface_name));
	alert->severity = (uint8_t)get_int(obj, "severity");
	alert->port = (uint16_t)get_int(obj, "port");
	alert->proto = (uint8_t)get_int(obj, "proto");
	alert->threshold = (uint64_t)get_int(obj, "threshold");
	alert->observed = (uint64_t)get_int(obj, "observed");
	alert->window_s = get_int(obj, "window_s");
	alert->first_seen_ms = get_int(obj, "first_seen_ms");
	alert->last_seen_ms = get_int(obj, "last_seen_ms");
	alert->time_ms = get_int(obj, "time_ms");
	alert->flows_first_ms = get_int(obj, "flows_first_ms");
	alert->flows_last_ms = get_int(obj, "flows_last_ms");
	alert->updates = (uint32_t)get_int(obj, "updates");
	alert->flows = (uint64_t)get_int(obj, "flows");
	alert->bytes = (uint64_t)get_int(obj, "bytes");
	alert->packets = (uint64_t)get_int(obj, "packets");
	arr = json_object_get(obj, subject_is_dst(alert) ? "top_sources" : "top_destinations");
	json_array_foreach(arr, i, item) {
		s = json_string_value(json_object_get(item, "addr"));
		if (alert->ntop_addrs >= FS_ALERT_TOP || !s ||
		    fs_addr_parse(&alert->top_addrs[alert->ntop_addrs].addr, s) < 0)
			break;
		alert->top_addrs[alert->ntop_addrs++].flows = (uint64_t)get_int(item, "flows");
	}
	arr = json_object_get(obj, "top_ports");
	json_array_foreach(arr, i, item) {
		if (alert->ntop_ports >= FS_ALERT_TOP)
			break;
		alert->top_ports[alert->ntop_ports].port = (uint16_t)get_int(item, "port");
		alert->top_ports[alert->ntop_ports++].flows = (uint64_t)get_int(item, "flows");
	}
	rc = 0;
out:
	json_decref(obj);
	return rc;
}

/* ---- CEF ---- */

struct out {
	char *buf;
	size_t len;
	size_t pos;
	bool full;
};

static void
out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->pos) {
		o->full = true;
		return;
	}
	o->pos += (size_t)n;
}

/* Appends text escaped for a CEF header field (header) or an extension value. */
static void
out_escaped(struct out *o, const char *text, bool header)
{
	for (const char *p = text; *p && !o->full; p++) {
		if (*p == '\\')
			out_printf(o, "\\\\");
		else if (header && *p == '|')
			out_printf(o, "\\|");
		else if (!header && *p == '=')
			out_printf(o, "\\=");
		else if (*p == '\n')
			out_printf(o, header ? " " : "\\n");
		else if (*p == '\r')
			out_printf(o, header ? " " : "\\r");
		else
			out_printf(o, "%c", *p);
	}
}

/* Appends " key=value" with the value escaped. */
static void
out_ext(struct out *o, const char *key, const char *value)
{
	out_printf(o, " %s=", key);
	out_escaped(o, value, false);
}

static void
out_ext_addr(struct out *o, const char *v4_key, const char *v6_key, const struct fs_addr *addr)
{
	char text[FS_ADDR_STRLEN];

	if (addr->family == 4)
		out_ext(o, v4_key, fs_addr_format(addr, text));
	else if (addr->family == 6)
		out_ext(o, v6_key, fs_addr_format(addr, text));
}

static const char *
proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1: return "ICMP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 58: return "ICMPv6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

int
fs_alert_format_cef(const struct fs_alert *alert, const char *version, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	const struct fs_addr *src, *dst;
	/*
	 * The other end is named only when there is one: the scanned host, or a
	 * single top peer.  A SIEM reads dst as the target, which the first of a
	 * fan-out's many destinations is not, so cs1 lists them instead.
	 */
	const struct fs_addr *other = alert->peer.family ? &alert->peer
				    : alert->ntop_addrs == 1 ? &alert->top_addrs[0].addr : NULL;
	char text[FS_ADDR_STRLEN + 24], list[6 * (FS_ADDR_STRLEN + 1)];
	const char *title = alert->rule < FS_RULE_COUNT ? rule_table[alert->rule].title : "Alert";

	if (len == 0)
		return FS_ERR_FULL;
	buf[0] = '\0';
	if (subject_is_dst(alert)) {
		dst = &alert->subject;
		src = other;
	} else {
		src = &alert->subject;
		dst = other;
	}
	out_printf(&o, "CEF:0|flowsift|flowsift|");
	out_escaped(&o, version, true);
	out_printf(&o, "|%s|", fs_alert_rule_name(alert->rule));
	out_escaped(&o, title, true);
	out_printf(&o, "|%u|", alert->severity);
	out_printf(&o, "externalId=");
	out_escaped(&o, alert->id, false);
	out_ext(&o, "act", fs_alert_state_name(alert->state));
	out_ext(&o, "cat", fs_alert_rule_name(alert->rule));
	if (src)
		out_ext_addr(&o, "src", "c6a2", src);
	if (dst)
		out_ext_addr(&o, "dst", "c6a3", dst);
	if (alert->port)
		out_printf(&o, " dpt=%u", alert->port);
	if (alert->proto)
		out_ext(&o, "proto", proto_name(alert->proto, text, sizeof(text)));
	out_printf(&o, " cnt=%" PRIu64, alert->flows);
	if (alert->bytes)
		out_printf(&o, " %s=%" PRIu64, subject_is_dst(alert) ? "in" : "out", alert->bytes);
	/* The activity's own times where the flows carried them, else when flowsift-report saw it. */
	out_printf(&o, " start=%" PRId64 " end=%" PRId64,
		   alert->flows_first_ms > 0 ? alert->flows_first_ms : alert->first_seen_ms,
		   alert->flows_last_ms > 0 ? alert->flows_last_ms : alert->last_seen_ms);
	out_ext_addr(&o, "dvc", "c6a4", &alert->exporter);
	if (alert->exporter.family == 6)
		out_printf(&o, " c6a4Label=exporter");
	if (alert->exporter_name[0])
		out_ext(&o, "dvchost", alert->exporter_name);
	if (alert->interface_name[0] || alert->has_interface) {
		snprintf(text, sizeof(text), "%" PRIu32, alert->interface);
		out_ext(&o, subject_is_dst(alert) ? "deviceOutboundInterface" : "deviceInboundInterface",
			alert->interface_name[0] ? alert->interface_name : text);
	}
	out_printf(&o, " cn1Label=");
	out_escaped(&o, alert->metric, false);
	out_printf(&o, " cn1=%" PRIu64 " cn2Label=threshold cn2=%" PRIu64
		   " cn3Label=windowSeconds cn3=%" PRId64, alert->observed, alert->threshold,
		   alert->window_s);
	list[0] = '\0';
	for (int i = 0, pos = 0; i < alert->ntop_addrs && i < FS_ALERT_TOP; i++) {
		char addr[FS_ADDR_STRLEN];

		pos += snprintf(list + pos, sizeof(list) - (size_t)pos, "%s%s", i ? "," : "",
				fs_addr_format(&alert->top_addrs[i].addr, addr));
	}
	if (list[0]) {
		out_printf(&o, " cs1Label=%s", subject_is_dst(alert) ? "topSources" : "topDestinations");
		out_ext(&o, "cs1", list);
	}
	list[0] = '\0';
	for (int i = 0, pos = 0; i < alert->ntop_ports && i < FS_ALERT_TOP; i++)
		pos += snprintf(list + pos, sizeof(list) - (size_t)pos, "%s%u", i ? "," : "",
				alert->top_ports[i].port);
	if (list[0]) {
		out_printf(&o, " cs2Label=topPorts");
		out_ext(&o, "cs2", list);
	}
	if (alert->exporter_site[0]) {
		out_printf(&o, " cs3Label=site");
		out_ext(&o, "cs3", alert->exporter_site);
	}
	out_ext(&o, "msg", alert->message);
	return o.full ? FS_ERR_FULL : (int)o.pos;
}
