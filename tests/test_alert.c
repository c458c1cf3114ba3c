/*
 * test_alert.c - the alert's JSON, CEF and Avro forms: round trips, escaping,
 * limits, and the Avro body read back by avro-c with schemas/alert.avsc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "alert/alert_codec.h"
#include "avro/schemas.h"
#include "core/result.h"

static void
sample(struct fs_alert *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "port_scan:10.0.0.8:2001:db8::20:1699999200");
	a->rule = FS_RULE_PORT_SCAN;
	a->state = FS_ALERT_UPDATED;
	a->severity = 6;
	fs_addr_parse(&a->subject, "10.0.0.8");
	fs_addr_parse(&a->peer, "2001:db8::20");
	a->proto = 6;
	snprintf(a->metric, sizeof(a->metric), "distinct_ports");
	a->threshold = 100;
	a->observed = 1234;
	a->window_s = 60;
	a->first_seen_ms = INT64_C(1699999200123);
	a->last_seen_ms = INT64_C(1699999260456);
	a->time_ms = a->last_seen_ms;
	a->updates = 3;
	a->flows = UINT64_C(9000000000);
	a->bytes = UINT64_MAX;
	a->packets = 7;
	a->ntop_addrs = 1;
	fs_addr_parse(&a->top_addrs[0].addr, "2001:db8::20");
	a->top_addrs[0].flows = 1234;
	a->ntop_ports = 2;
	a->top_ports[0] = (struct fs_alert_port_count){ 22, 3 };
	a->top_ports[1] = (struct fs_alert_port_count){ 65535, 1 };
	fs_addr_parse(&a->exporter, "192.0.2.1");
	snprintf(a->exporter_name, sizeof(a->exporter_name), "edge1.par");
	snprintf(a->exporter_site, sizeof(a->exporter_site), "par=1");
	a->has_interface = true;
	a->interface = UINT32_MAX;
	snprintf(a->interface_name, sizeof(a->interface_name), "xe-0/0/7");
	a->flows_first_ms = INT64_C(1699999140001);
	a->flows_last_ms = INT64_C(1699999259999);
	snprintf(a->message, sizeof(a->message), "a=b | c\\d\nnext");
}

static void
json_round_trip(void **state)
{
	struct fs_alert a, b;
	char json[FS_ALERT_JSON_MAX];
	int n;

	(void)state;
	sample(&a);
	n = fs_alert_format_json(&a, json, sizeof(json));
	assert_true(n > 0);
	assert_int_equal(fs_alert_parse_json(json, (size_t)n, &b), 0);
	/* The JSON keeps 64-bit counters as signed integers. */
	b.bytes = a.bytes;
	/* Text fields go through fs_flow_set_text(), which turns control characters into '?'. */
	assert_string_equal(b.message, "a=b | c\\d?next");
	memcpy(b.message, a.message, sizeof(a.message));
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(fs_alert_format_json(&a, json, 40), FS_ERR_FULL);
	assert_int_equal(fs_alert_parse_json("{\"rule\":\"nope\"}", 15, &b), FS_ERR_INVALID);
	assert_int_equal(fs_alert_parse_json("[1,2]", 5, &b), FS_ERR_INVALID);
}

static void
cef_escapes_and_keys(void **state)
{
	struct fs_alert a;
	char cef[FS_ALERT_CEF_MAX];

	(void)state;
	sample(&a);
	assert_true(fs_alert_format_cef(&a, "1|2", cef, sizeof(cef)) > 0);
	assert_non_null(strstr(cef, "CEF:0|flowsift|flowsift|1\\|2|port_scan|"
				    "Host probes many ports of one host|6|"));
	assert_non_null(strstr(cef, "externalId=port_scan:10.0.0.8:2001:db8::20:1699999200 act=updated"));
	assert_non_null(strstr(cef, " src=10.0.0.8 c6a3=2001:db8::20 proto=TCP cnt=9000000000 "));
	assert_non_null(strstr(cef, " cs2Label=topPorts cs2=22,65535 "));
	/* The exporter is the device the event refers to; the subject sends, so the interface is inbound. */
	assert_non_null(strstr(cef, " dvc=192.0.2.1 dvchost=edge1.par deviceInboundInterface=xe-0/0/7 "));
	assert_non_null(strstr(cef, " cs3Label=site cs3=par\\=1 "));
	/* start and end are the flows' own receive times, not when flowsift-report saw them. */
	assert_non_null(strstr(cef, " start=1699999140001 end=1699999259999 "));
	a.rule = FS_RULE_FANIN;
	a.interface_name[0] = '\0';
	fs_addr_parse(&a.exporter, "2001:db8::1");
	assert_true(fs_alert_format_cef(&a, "1", cef, sizeof(cef)) > 0);
	assert_non_null(strstr(cef, " c6a4=2001:db8::1 c6a4Label=exporter dvchost=edge1.par "
				    "deviceOutboundInterface=4294967295 "));
	sample(&a);
	/* In an extension value '=' and '\\' are escaped, a newline becomes \\n, '|' stays. */
	assert_non_null(strstr(cef, " msg=a\\=b | c\\\\d\\nnext"));
	assert_int_equal(fs_alert_format_cef(&a, "1", cef, 64), FS_ERR_FULL);
}

static void
avro_round_trip(void **state)
{
	struct fs_alert a, b;
	struct fs_alert_codec *codec;
	uint8_t msg[FS_ALERT_CODEC_MAX_LEN];
	char err[256];
	int n;

	(void)state;
	codec = fs_alert_codec_new(err, sizeof(err));
	assert_non_null(codec);
	sample(&a);
	n = fs_alert_codec_encode(codec, &a, msg, sizeof(msg));
	assert_true(n > FS_ALERT_CODEC_HEADER_LEN);
	assert_int_equal(fs_alert_codec_decode(codec, msg, (size_t)n, &b), 0);
	assert_string_equal(b.message, "a=b | c\\d?next");
	memcpy(b.message, a.message, sizeof(a.message));
	assert_memory_equal(&a, &b, sizeof(a));
	/* Every cut is truncated or invalid, never read past the end. */
	for (int len = 0; len < n; len++)
		assert_true(fs_alert_codec_decode(codec, msg, (size_t)len, &b) < 0);
	msg[5] ^= 1;
	assert_int_equal(fs_alert_codec_decode(codec, msg, (size_t)n, &b), FS_ERR_UNSUPPORTED);
	assert_int_equal(fs_alert_codec_encode(codec, &a, msg, 50), FS_ERR_FULL);
	fs_alert_codec_free(codec);
}

static void
avro_c_reads_the_body(void **state)
{
	const struct fs_embedded_schema *s = fs_embedded_schema_find("alert.avsc");
	struct fs_alert a;
	struct fs_alert_codec *codec;
	uint8_t msg[FS_ALERT_CODEC_MAX_LEN];
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value, field, item, sub;
	avro_reader_t reader;
	const char *text;
	size_t size, count;
	int64_t l;
	int n, i;
	char err[256];

	(void)state;
	assert_non_null(s);
	codec = fs_alert_codec_new(err, sizeof(err));
	assert_non_null(codec);
	sample(&a);
	n = fs_alert_codec_encode(codec, &a, msg, sizeof(msg));
	assert_int_equal(avro_schema_from_json_length(s->text, strlen(s->text), &schema), 0);
	iface = avro_generic_class_from_schema(schema);
	assert_int_equal(avro_generic_value_new(iface, &value), 0);
	reader = avro_reader_memory((const char *)msg + FS_ALERT_CODEC_HEADER_LEN,
				    (int64_t)n - FS_ALERT_CODEC_HEADER_LEN);
	assert_int_equal(avro_value_read(reader, &value), 0);

	assert_int_equal(avro_value_get_by_name(&value, "rule", &field, NULL), 0);
	assert_int_equal(avro_value_get_enum(&field, &i), 0);
	assert_int_equal(i, FS_RULE_PORT_SCAN);
	assert_int_equal(avro_value_get_by_name(&value, "peer", &field, NULL), 0);
	assert_int_equal(avro_value_get_discriminant(&field, &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(avro_value_get_by_name(&value, "bytes", &field, NULL), 0);
	assert_int_equal(avro_value_get_long(&field, &l), 0);
	assert_int_equal((uint64_t)l, UINT64_MAX);
	assert_int_equal(avro_value_get_by_name(&value, "top_ports", &field, NULL), 0);
	assert_int_equal(avro_value_get_size(&field, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(avro_value_get_by_index(&field, 1, &item, NULL), 0);
	assert_int_equal(avro_value_get_by_name(&item, "port", &sub, NULL), 0);
	assert_int_equal(avro_value_get_int(&sub, &i), 0);
	assert_int_equal(i, 65535);
	assert_int_equal(avro_value_get_by_name(&value, "interface", &field, NULL), 0);
	assert_int_equal(avro_value_get_discriminant(&field, &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(avro_value_get_current_branch(&field, &sub), 0);
	assert_int_equal(avro_value_get_long(&sub, &l), 0);
	assert_int_equal(l, UINT32_MAX);
	assert_int_equal(avro_value_get_by_name(&value, "exporter_site", &field, NULL), 0);
	assert_int_equal(avro_value_get_current_branch(&field, &sub), 0);
	assert_int_equal(avro_value_get_string(&sub, &text, &size), 0);
	assert_string_equal(text, "par=1");
	assert_int_equal(avro_value_get_by_name(&value, "message", &field, NULL), 0);
	assert_int_equal(avro_value_get_string(&field, &text, &size), 0);
	assert_string_equal(text, a.message);

	avro_reader_free(reader);
	avro_value_decref(&value);
	avro_value_iface_decref(iface);
	avro_schema_decref(schema);
	fs_alert_codec_free(codec);
}

/* Every text field at its longest, of characters that JSON and CEF escape, fits the _MAX sizes. */
static void
longest_alert_fits(void **state)
{
	struct fs_alert a;
	struct fs_alert_codec *codec;
	char text[FS_ALERT_JSON_MAX > FS_ALERT_CEF_MAX ? FS_ALERT_JSON_MAX : FS_ALERT_CEF_MAX];
	uint8_t msg[FS_ALERT_CODEC_MAX_LEN];
	char err[256];
	int n;

	(void)state;
	sample(&a);
	memset(a.id, '"', sizeof(a.id) - 1);
	memset(a.metric, '=', sizeof(a.metric) - 1);
	memset(a.message, '\\', sizeof(a.message) - 1);
	memset(a.exporter_name, '"', sizeof(a.exporter_name) - 1);
	memset(a.exporter_site, '=', sizeof(a.exporter_site) - 1);
	memset(a.interface_name, '\\', sizeof(a.interface_name) - 1);
	fs_addr_parse(&a.subject, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	a.peer = a.subject;
	a.exporter = a.subject;
	a.ntop_addrs = FS_ALERT_TOP;
	a.ntop_ports = FS_ALERT_TOP;
	for (int i = 0; i < FS_ALERT_TOP; i++) {
		a.top_addrs[i] = (struct fs_alert_addr_count){ a.subject, UINT64_MAX };
		a.top_ports[i] = (struct fs_alert_port_count){ 65535, UINT64_MAX };
	}
	a.threshold = a.observed = a.flows = a.bytes = a.packets = UINT64_MAX;
	a.window_s = a.first_seen_ms = a.last_seen_ms = a.time_ms = INT64_MIN;
	a.updates = UINT32_MAX;
	a.flows_first_ms = a.flows_last_ms = INT64_MAX;
	n = fs_alert_format_json(&a, text, FS_ALERT_JSON_MAX);
	assert_true(n > 0);
	print_message("longest JSON: %d bytes of %d\n", n, FS_ALERT_JSON_MAX);
	n = fs_alert_format_cef(&a, "0.1", text, FS_ALERT_CEF_MAX);
	assert_true(n > 0);
	print_message("longest CEF: %d bytes of %d\n", n, FS_ALERT_CEF_MAX);
	codec = fs_alert_codec_new(err, sizeof(err));
	assert_non_null(codec);
	n = fs_alert_codec_encode(codec, &a, msg, sizeof(msg));
	assert_true(n > 0);
	print_message("longest Avro: %d bytes of %d\n", n, FS_ALERT_CODEC_MAX_LEN);
	fs_alert_codec_free(codec);
}

/* Reads the fuzz seed named name of the alert decoder into msg (at most size bytes); returns its length. */
static size_t
read_seed(const char *name, uint8_t *msg, size_t size)
{
	char path[256];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "tests/fuzz/corpus/fuzz_alert_decode/%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(msg, 1, size, f);
	fclose(f);
	return len;
}

/* A message written with the first alert schema (schemas/alert.v1.avsc) still decodes. */
static void
avro_reads_version_1(void **state)
{
	struct fs_alert_codec *codec;
	struct fs_alert a;
	uint8_t msg[FS_ALERT_CODEC_MAX_LEN];
	char err[256], text[FS_ADDR_STRLEN];
	size_t len;

	(void)state;
	len = read_seed("fanout-v1", msg, sizeof(msg));
	codec = fs_alert_codec_new(err, sizeof(err));
	assert_non_null(codec);
	assert_true(fs_alert_codec_fingerprint_v1(codec) != fs_alert_codec_fingerprint(codec));
	assert_int_equal(fs_alert_codec_decode(codec, msg, len, &a), 0);
	assert_int_equal(a.rule, FS_RULE_FANOUT);
	assert_string_equal(fs_addr_format(&a.subject, text), "10.1.66.6");
	assert_int_equal(a.port, 445);
	assert_int_equal(a.exporter.family, 0);
	assert_false(a.has_interface);
	assert_non_null(strstr(a.message, "fanout"));
	fs_alert_codec_free(codec);
}

static void
names_parse(void **state)
{
	enum fs_alert_rule r;
	enum fs_alert_state st;

	(void)state;
	for (int i = 0; i < FS_RULE_COUNT; i++) {
		assert_int_equal(fs_alert_rule_parse(fs_alert_rule_name(i), &r), 0);
		assert_int_equal(r, i);
	}
	assert_int_equal(fs_alert_state_parse("cleared", &st), 0);
	assert_int_equal(st, FS_ALERT_CLEARED);
	assert_int_equal(fs_alert_rule_parse("worm", &r), FS_ERR_INVALID);
}

/* Regression: an array block count of INT64_MIN overflowed when negated and crashed the decoder. */
static void
avro_rejects_int64_min_array_count(void **state)
{
	struct fs_alert_codec *codec;
	struct fs_alert a;
	uint8_t msg[512];
	char err[256];
	size_t len;

	(void)state;
	len = read_seed("regression-array-count-int64-min", msg, sizeof(msg));
	codec = fs_alert_codec_new(err, sizeof(err));
	assert_non_null(codec);
	/* Invalid, not unsupported: the decoder read up to the array count. */
	assert_int_equal(fs_alert_codec_decode(codec, msg, len, &a), FS_ERR_INVALID);
	fs_alert_codec_free(codec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_round_trip),
		cmocka_unit_test(cef_escapes_and_keys),
		cmocka_unit_test(avro_round_trip),
		cmocka_unit_test(avro_c_reads_the_body),
		cmocka_unit_test(longest_alert_fits),
		cmocka_unit_test(avro_reads_version_1),
		cmocka_unit_test(names_parse),
		cmocka_unit_test(avro_rejects_int64_min_array_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
