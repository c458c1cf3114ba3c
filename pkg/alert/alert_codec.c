/* alert_codec.c - struct fs_alert to and from Avro single-object encoding. */
#include "alert/alert_codec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/fingerprint.h"
#include "avro/schemas.h"
#include "core/result.h"
#include "decode/cursor.h"

#define SCHEMA_FILE "alert.avsc"
/*
 * The first alert schema, frozen: the current one without the fields from
 * exporter to flows_last_ms.  Messages written with it are still read.
 */
#define SCHEMA_V1_FILE "alert.v1.avsc"

struct fs_alert_codec {
	uint64_t fingerprint;
	uint64_t fingerprint_v1;
};

/* The fields of schemas/alert.avsc in order; the code below follows this list. */
static const char *const field_names[] = {
	"id", "rule", "state", "severity", "subject", "peer", "port", "proto",
	"metric", "threshold", "observed", "window_s", "first_seen_ms",
	"last_seen_ms", "time_ms", "updates", "flows", "bytes", "packets",
	"top_addrs", "top_ports", "exporter", "exporter_name", "exporter_site",
	"interface", "interface_name", "flows_first_ms", "flows_last_ms", "message",
};

static const uint8_t marker[2] = { 0xc3, 0x01 };

static int
check_fields(const char *text, char *err, size_t err_len)
{
	json_t *schema = json_loads(text, 0, NULL);
	json_t *fields = json_object_get(schema, "fields");
	size_t count = sizeof(field_names) / sizeof(field_names[0]);
	int rc = FS_ERR_INVALID;

	if (!json_is_array(fields) || json_array_size(fields) != count) {
		snprintf(err, err_len, "%s does not have the %zu fields the alert codec writes",
			 SCHEMA_FILE, count);
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		const char *name = json_string_value(json_object_get(json_array_get(fields, i), "name"));

		if (!name || strcmp(name, field_names[i]) != 0) {
			snprintf(err, err_len, "%s: field %zu is '%s', the alert codec expects '%s'",
				 SCHEMA_FILE, i, name ? name : "", field_names[i]);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(schema);
	return rc;
}

struct fs_alert_codec *
fs_alert_codec_new(char *err, size_t err_len)
{
	const struct fs_embedded_schema *s = fs_embedded_schema_find(SCHEMA_FILE);
	const struct fs_embedded_schema *v1;
	struct fs_alert_codec *codec;
	uint64_t fp, fp_v1;

	if (s == NULL) {
		snprintf(err, err_len, "schema %s is not compiled in", SCHEMA_FILE);
		return NULL;
	}
	if (check_fields(s->text, err, err_len) < 0 ||
	    fs_avro_fingerprint(s->text, strlen(s->text), &fp, err, err_len) < 0)
		return NULL;
	v1 = fs_embedded_schema_find(SCHEMA_V1_FILE);
	if (v1 == NULL) {
		snprintf(err, err_len, "schema %s is not compiled in", SCHEMA_V1_FILE);
		return NULL;
	}
	if (fs_avro_fingerprint(v1->text, strlen(v1->text), &fp_v1, err, err_len) < 0)
		return NULL;
	codec = calloc(1, sizeof(*codec));
	if (codec == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	codec->fingerprint = fp;
	codec->fingerprint_v1 = fp_v1;
	return codec;
}

void
fs_alert_codec_free(struct fs_alert_codec *codec)
{
	free(codec);
}

uint64_t
fs_alert_codec_fingerprint(const struct fs_alert_codec *codec)
{
	return codec->fingerprint;
}

uint64_t
fs_alert_codec_fingerprint_v1(const struct fs_alert_codec *codec)
{
	return codec->fingerprint_v1;
}

/* ---- writing ---- */

struct writer {
	uint8_t *p;
	uint8_t *end;
	bool full;
};

static void
put_raw(struct writer *w, const void *data, size_t len)
{
	if (w->full || (size_t)(w->end - w->p) < len) {
		w->full = true;
		return;
	}
	memcpy(w->p, data, len);
	w->p += len;
}

/* Avro long: zigzag, then base-128 varint, low groups first. */
static void
put_long(struct writer *w, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
	uint8_t b[10];
	size_t n = 0;

	do {
		b[n] = (uint8_t)(z & 0x7f);
		z >>= 7;
		if (z)
			b[n] |= 0x80;
		n++;
	} while (z);
	put_raw(w, b, n);
}

static void
put_string(struct writer *w, const char *s)
{
	size_t len = strlen(s);

	put_long(w, (int64_t)len);
	put_raw(w, s, len);
}

static void
put_addr(struct writer *w, const struct fs_addr *addr)
{
	size_t len = addr->family == 4 ? 4 : addr->family == 6 ? 16 : 0;

	put_long(w, (int64_t)len);
	put_raw(w, addr->bytes, len);
}

/* Writes a ["null", "bytes"] address: null when addr is unset. */
static void
put_optional_addr(struct writer *w, const struct fs_addr *addr)
{
	put_long(w, addr->family ? 1 : 0);
	if (addr->family)
		put_addr(w, addr);
}

/* Writes a ["null", "long"] time: null when ms is 0 (unknown). */
static void
put_optional_time(struct writer *w, int64_t ms)
{
	put_long(w, ms > 0 ? 1 : 0);
	if (ms > 0)
		put_long(w, ms);
}

/* Writes a ["null", "string"]: null when s is empty. */
static void
put_optional_string(struct writer *w, const char *s)
{
	put_long(w, s[0] ? 1 : 0);
	if (s[0])
		put_string(w, s);
}

int
fs_alert_codec_encode(const struct fs_alert_codec *codec, const struct fs_alert *alert,
		      uint8_t *buf, size_t len)
{
	struct writer w = { .p = buf, .end = buf + len };
	uint8_t fp[8];

	for (int i = 0; i < 8; i++)
		fp[i] = (uint8_t)(codec->fingerprint >> (8 * i));
	put_raw(&w, marker, sizeof(marker));
	put_raw(&w, fp, sizeof(fp));
	put_string(&w, alert->id);
	put_long(&w, alert->rule);
	put_long(&w, alert->state);
	put_long(&w, alert->severity);
	put_addr(&w, &alert->subject);
	put_optional_addr(&w, &alert->peer);
	put_long(&w, alert->port);
	put_long(&w, alert->proto);
	put_string(&w, alert->metric);
	put_long(&w, (int64_t)alert->threshold);
	put_long(&w, (int64_t)alert->observed);
	put_long(&w, alert->window_s);
	put_long(&w, alert->first_seen_ms);
	put_long(&w, alert->last_seen_ms);
	put_long(&w, alert->time_ms);
	put_long(&w, (int64_t)alert->updates);
	put_long(&w, (int64_t)alert->flows);
	put_long(&w, (int64_t)alert->bytes);
	put_long(&w, (int64_t)alert->packets);
	if (alert->ntop_addrs) {
		put_long(&w, alert->ntop_addrs);
		for (int i = 0; i < alert->ntop_addrs && i < FS_ALERT_TOP; i++) {
			put_addr(&w, &alert->top_addrs[i].addr);
			put_long(&w, (int64_t)alert->top_addrs[i].flows);
		}
	}
	put_long(&w, 0);
	if (alert->ntop_ports) {
		put_long(&w, alert->ntop_ports);
		for (int i = 0; i < alert->ntop_ports && i < FS_ALERT_TOP; i++) {
			put_long(&w, alert->top_ports[i].port);
			put_long(&w, (int64_t)alert->top_ports[i].flows);
		}
	}
	put_long(&w, 0);
	put_optional_addr(&w, &alert->exporter);
	put_optional_string(&w, alert->exporter_name);
	put_optional_string(&w, alert->exporter_site);
	put_long(&w, alert->has_interface ? 1 : 0);
	if (alert->has_interface)
		put_long(&w, alert->interface);
	put_optional_string(&w, alert->interface_name);
	put_optional_time(&w, alert->flows_first_ms);
	put_optional_time(&w, alert->flows_last_ms);
	put_string(&w, alert->message);
	return w.full ? FS_ERR_FULL : (int)(w.p - buf);
}

/* ---- reading ---- */

static int64_t
get_long(struct fs_cursor *cur)
{
	uint64_t z = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		uint8_t b = fs_cursor_get_u8(cur);

		if (!fs_cursor_ok(cur))
			return 0;
		if (shift == 63 && (b & 0x7e)) {
			fs_cursor_fail(cur, FS_ERR_INVALID);
			return 0;
		}
		z |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	}
	fs_cursor_fail(cur, FS_ERR_INVALID);
	return 0;
}

/* Reads a long that must lie in min..max. */
static int64_t
get_bounded(struct fs_cursor *cur, int64_t min, int64_t max)
{
	int64_t v = get_long(cur);

	if (v < min || v > max) {
		fs_cursor_fail(cur, FS_ERR_INVALID);
		return 0;
	}
	return v;
}

static void
get_string(struct fs_cursor *cur, char *dst, size_t size)
{
	int64_t len = get_bounded(cur, 0, (int64_t)size - 1);
	const uint8_t *p = fs_cursor_get_bytes(cur, (size_t)len);

	if (p == NULL || !fs_cursor_ok(cur)) {
		dst[0] = '\0';
		return;
	}
	fs_flow_set_text(dst, size, (const char *)p, (size_t)len);
}

/* Reads a ["null", "string"]; null reads as "". */
static void
get_optional_string(struct fs_cursor *cur, char *dst, size_t size)
{
	dst[0] = '\0';
	if (get_bounded(cur, 0, 1) == 1)
		get_string(cur, dst, size);
}

static void
get_addr(struct fs_cursor *cur, struct fs_addr *addr)
{
	int64_t len = get_long(cur);
	const uint8_t *p;

	if (len != 0 && len != 4 && len != 16) {
		fs_cursor_fail(cur, FS_ERR_INVALID);
		return;
	}
	p = fs_cursor_get_bytes(cur, (size_t)len);
	if (p == NULL || !fs_cursor_ok(cur))
		return;
	if (len == 4)
		fs_addr_set_v4(addr, p);
	else if (len == 16)
		fs_addr_set_v6(addr, p);
}

/* Reads the item count of the next array block; have items were read before, FS_ALERT_TOP at most. */
static int
get_array_count(struct fs_cursor *cur, int have)
{
	int64_t n = get_long(cur);

	/* Compared before negating: -INT64_MIN overflows. */
	if (n < -(int64_t)FS_ALERT_TOP) {
		fs_cursor_fail(cur, FS_ERR_INVALID);
		return 0;
	}
	if (n < 0) {
		/* A negative count is followed by the block's size in bytes. */
		n = -n;
		(void)get_long(cur);
	}
	if (n > FS_ALERT_TOP - have) {
		fs_cursor_fail(cur, FS_ERR_INVALID);
		return 0;
	}
	return (int)n;
}

int
fs_alert_codec_decode(const struct fs_alert_codec *codec, const uint8_t *data, size_t len,
		      struct fs_alert *alert)
{
	struct fs_cursor cur;
	uint64_t fp = 0;
	int n;

	memset(alert, 0, sizeof(*alert));
	if (len < FS_ALERT_CODEC_HEADER_LEN)
		return FS_ERR_TRUNCATED;
	if (memcmp(data, marker, sizeof(marker)) != 0)
		return FS_ERR_UNSUPPORTED;
	for (int i = 0; i < 8; i++)
		fp |= (uint64_t)data[2 + i] << (8 * i);
	if (fp != codec->fingerprint && fp != codec->fingerprint_v1)
		return FS_ERR_UNSUPPORTED;
	fs_cursor_init(&cur, data + FS_ALERT_CODEC_HEADER_LEN, len - FS_ALERT_CODEC_HEADER_LEN);
	get_string(&cur, alert->id, sizeof(alert->id));
	alert->rule = (uint8_t)get_bounded(&cur, 0, FS_RULE_COUNT - 1);
	alert->state = (uint8_t)get_bounded(&cur, 0, FS_ALERT_STATE_COUNT - 1);
	alert->severity = (uint8_t)get_bounded(&cur, 0, 10);
	get_addr(&cur, &alert->subject);
	if (get_bounded(&cur, 0, 1) == 1)
		get_addr(&cur, &alert->peer);
	alert->port = (uint16_t)get_bounded(&cur, 0, 65535);
	alert->proto = (uint8_t)get_bounded(&cur, 0, 255);
	get_string(&cur, alert->metric, sizeof(alert->metric));
	alert->threshold = (uint64_t)get_long(&cur);
	alert->observed = (uint64_t)get_long(&cur);
	alert->window_s = get_long(&cur);
	alert->first_seen_ms = get_long(&cur);
	alert->last_seen_ms = get_long(&cur);
	alert->time_ms = get_long(&cur);
	alert->updates = (uint32_t)get_bounded(&cur, 0, INT32_MAX);
	alert->flows = (uint64_t)get_long(&cur);
	alert->bytes = (uint64_t)get_long(&cur);
	alert->packets = (uint64_t)get_long(&cur);
	while (fs_cursor_ok(&cur) && (n = get_array_count(&cur, alert->ntop_addrs)) > 0) {
		for (int i = 0; i < n; i++) {
			struct fs_alert_addr_count *item = &alert->top_addrs[alert->ntop_addrs++];

			get_addr(&cur, &item->addr);
			item->flows = (uint64_t)get_long(&cur);
		}
	}
	while (fs_cursor_ok(&cur) && (n = get_array_count(&cur, alert->ntop_ports)) > 0) {
		for (int i = 0; i < n; i++) {
			struct fs_alert_port_count *item = &alert->top_ports[alert->ntop_ports++];

			item->port = (uint16_t)get_bounded(&cur, 0, 65535);
			item->flows = (uint64_t)get_long(&cur);
		}
	}
	if (fp == codec->fingerprint) {
		if (get_bounded(&cur, 0, 1) == 1)
			get_addr(&cur, &alert->exporter);
		get_optional_string(&cur, alert->exporter_name, sizeof(alert->exporter_name));
		get_optional_string(&cur, alert->exporter_site, sizeof(alert->exporter_site));
		if (get_bounded(&cur, 0, 1) == 1) {
			alert->has_interface = true;
			alert->interface = (uint32_t)get_bounded(&cur, 0, UINT32_MAX);
		}
		get_optional_string(&cur, alert->interface_name, sizeof(alert->interface_name));
		if (get_bounded(&cur, 0, 1) == 1)
			alert->flows_first_ms = get_bounded(&cur, 1, INT64_MAX);
		if (get_bounded(&cur, 0, 1) == 1)
			alert->flows_last_ms = get_bounded(&cur, 1, INT64_MAX);
	}
	get_string(&cur, alert->message, sizeof(alert->message));
	if (fs_cursor_ok(&cur) && fs_cursor_remaining(&cur) != 0)
		fs_cursor_fail(&cur, FS_ERR_INVALID);
	return cur.err;
}
