/* test_counters_codec.c - sFlow counter samples to and from Avro single-object messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <avro.h>

#include "avro/counters_codec.h"
#include "avro/fingerprint.h"
#include "avro/schemas.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/result.h"

static struct fs_counters_codec *
new_codec(void)
{
	char err[256] = "";
	struct fs_counters_codec *codec = fs_counters_codec_new(err, sizeof(err));

	if (codec == NULL)
		fail_msg("fs_counters_codec_new failed: %s", err);
	return codec;
}

/* A sample with both groups, an IPv6 agent and every counter at a distinct value. */
static void
fill_full(struct fs_counters *c)
{
	static const uint8_t exporter[4] = { 192, 0, 2, 1 };
	static const uint8_t agent[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	uint32_t *generic32[] = {
		&c->generic.if_index, &c->generic.if_type, &c->generic.if_direction,
		&c->generic.if_status, &c->generic.in_ucast_pkts, &c->generic.in_mcast_pkts,
		&c->generic.in_bcast_pkts, &c->generic.in_discards, &c->generic.in_errors,
		&c->generic.in_unknown_protos, &c->generic.out_ucast_pkts,
		&c->generic.out_mcast_pkts, &c->generic.out_bcast_pkts,
		&c->generic.out_discards, &c->generic.out_errors, &c->generic.promiscuous,
	};
	uint32_t *ethernet = &c->ethernet.alignment_errors;

	fs_counters_clear(c);
	c->present = FS_C_GENERIC | FS_C_ETHERNET;
	fs_addr_set_v4(&c->exporter_addr, exporter);
	c->exporter_port = 6343;
	fs_addr_set_v6(&c->agent_addr, agent);
	c->sub_agent_id = 4000000000u;
	c->datagram_sequence = 17;
	c->sequence = 18;
	c->uptime_ms = 123456;
	c->source_id_type = 2;
	c->source_id_index = 77;
	c->time_received_ns = 1700000000123456789;
	for (size_t i = 0; i < sizeof(generic32) / sizeof(generic32[0]); i++)
		*generic32[i] = 4294967295u - (uint32_t)i;
	c->generic.if_speed = 100000000000ull;
	c->generic.in_octets = 18446744073709551615ull; /* above INT64_MAX */
	c->generic.out_octets = 59347538341644ull;
	for (size_t i = 0; i < sizeof(c->ethernet) / sizeof(uint32_t); i++) {
		uint32_t v = 1000 + (uint32_t)i;

		memcpy(ethernet + i, &v, sizeof(v));
	}
	fs_counters_add_other(c, 0, 1005, 8);
	fs_counters_add_other(c, 4413, 7, 120);
	c->other_omitted = 3;
}

static void
assert_counters_equal(const struct fs_counters *a, const struct fs_counters *b)
{
	assert_int_equal(a->present, b->present);
	assert_memory_equal(&a->exporter_addr, &b->exporter_addr, sizeof(a->exporter_addr));
	assert_int_equal(a->exporter_port, b->exporter_port);
	assert_memory_equal(&a->agent_addr, &b->agent_addr, sizeof(a->agent_addr));
	assert_int_equal(a->sub_agent_id, b->sub_agent_id);
	assert_int_equal(a->datagram_sequence, b->datagram_sequence);
	assert_int_equal(a->sequence, b->sequence);
	assert_int_equal(a->uptime_ms, b->uptime_ms);
	assert_int_equal(a->source_id_type, b->source_id_type);
	assert_int_equal(a->source_id_index, b->source_id_index);
	assert_int_equal(a->time_received_ns, b->time_received_ns);
	assert_memory_equal(&a->generic, &b->generic, sizeof(a->generic));
	assert_memory_equal(&a->ethernet, &b->ethernet, sizeof(a->ethernet));
	assert_int_equal(a->other_count, b->other_count);
	assert_int_equal(a->other_omitted, b->other_omitted);
	assert_memory_equal(a->other, b->other, a->other_count * sizeof(a->other[0]));
}

static void
round_trip_full(void **state)
{
	struct fs_counters_codec *codec = new_codec();
	struct fs_counters in, out;
	uint8_t buf[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0;

	(void)state;
	fill_full(&in);
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[0], 0xc3);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(fs_counters_codec_decode(codec, buf, len, &out), 0);
	assert_counters_equal(&in, &out);
	fs_counters_codec_free(codec);
}

static void
round_trip_groups_absent(void **state)
{
	struct fs_counters_codec *codec = new_codec();
	struct fs_counters in, out;
	uint8_t buf[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0;

	(void)state;
	fs_counters_clear(&in);
	in.sequence = 5;
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	assert_int_equal(fs_counters_codec_decode(codec, buf, len, &out), 0);
	assert_counters_equal(&in, &out);

	/* Reusing the codec clears the other records of the previous message. */
	fill_full(&in);
	in.present = FS_C_ETHERNET;
	memset(&in.generic, 0, sizeof(in.generic));
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	fs_counters_clear(&in);
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	assert_int_equal(fs_counters_codec_decode(codec, buf, len, &out), 0);
	assert_int_equal(out.other_count, 0);
	assert_int_equal(out.present, 0);
	fs_counters_codec_free(codec);
}

static void
max_len_fits_worst_case(void **state)
{
	struct fs_counters_codec *codec = new_codec();
	struct fs_counters in;
	uint8_t buf[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0;

	(void)state;
	fill_full(&in);
	memset(&in.generic, 0xff, sizeof(in.generic));
	memset(&in.ethernet, 0xff, sizeof(in.ethernet));
	in.time_received_ns = INT64_MIN;
	in.other_count = 0;
	while (in.other_count < FS_COUNTERS_MAX_OTHER_RECORDS)
		fs_counters_add_other(&in, UINT32_MAX >> 12, 0xfff, UINT32_MAX);
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	assert_true(len <= FS_COUNTERS_CODEC_MAX_LEN);
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, 40, &len), FS_ERR_FULL);
	fs_counters_codec_free(codec);
}

/* avro-c itself reads what the codec writes, with the embedded schema. */
static void
avro_c_reads_encoding(void **state)
{
	const struct fs_embedded_schema *embedded = fs_embedded_schema_find("counters.avsc");
	struct fs_counters_codec *codec = new_codec();
	struct fs_counters in;
	uint8_t buf[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0, items = 0;
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value, field, branch;
	avro_reader_t reader;
	int64_t octets = 0;

	(void)state;
	assert_non_null(embedded);
	fill_full(&in);
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);

	assert_int_equal(avro_schema_from_json_length(embedded->text, strlen(embedded->text),
						      &schema), 0);
	iface = avro_generic_class_from_schema(schema);
	assert_non_null(iface);
	assert_int_equal(avro_generic_value_new(iface, &value), 0);
	reader = avro_reader_memory((const char *)buf + FS_COUNTERS_CODEC_HEADER_LEN,
				    (int64_t)(len - FS_COUNTERS_CODEC_HEADER_LEN));
	assert_int_equal(avro_value_read(reader, &value), 0);
	assert_int_equal(avro_value_get_by_name(&value, "out_octets", &field, NULL), 0);
	assert_int_equal(avro_value_get_current_branch(&field, &branch), 0);
	assert_int_equal(avro_value_get_long(&branch, &octets), 0);
	assert_int_equal(octets, 59347538341644);
	assert_int_equal(avro_value_get_by_name(&value, "other_records", &field, NULL), 0);
	assert_int_equal(avro_value_get_size(&field, &items), 0);
	assert_int_equal(items, 2);

	avro_reader_free(reader);
	avro_value_decref(&value);
	avro_value_iface_decref(iface);
	avro_schema_decref(schema);
	fs_counters_codec_free(codec);
}

static void
fingerprint_matches_schema(void **state)
{
	const struct fs_embedded_schema *embedded = fs_embedded_schema_find("counters.avsc");
	struct fs_counters_codec *codec = new_codec();
	uint64_t fp = 0;

	(void)state;
	assert_int_equal(fs_avro_fingerprint(embedded->text, strlen(embedded->text), &fp,
					     NULL, 0), 0);
	assert_int_equal(fs_counters_codec_fingerprint(codec), fp);
	fs_counters_codec_free(codec);
}

static void
truncated_messages_rejected(void **state)
{
	struct fs_counters_codec *codec = new_codec();
	struct fs_counters in, out;
	uint8_t buf[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0;

	(void)state;
	fill_full(&in);
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	for (size_t cut = 0; cut < len; cut++) {
		int rc = fs_counters_codec_decode(codec, buf, cut, &out);

		if (rc != FS_ERR_TRUNCATED && rc != FS_ERR_INVALID)
			fail_msg("message cut at %zu of %zu bytes: got %s", cut, len,
				 fs_result_name(rc));
	}
	fs_counters_codec_free(codec);
}

static void
bad_header_rejected(void **state)
{
	struct fs_counters_codec *codec = new_codec();
	struct fs_counters in, out;
	uint8_t buf[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0;

	(void)state;
	fill_full(&in);
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	buf[len] = 0;
	assert_int_equal(fs_counters_codec_decode(codec, buf, len + 1, &out), FS_ERR_INVALID);
	buf[5] ^= 0xff;
	assert_int_equal(fs_counters_codec_decode(codec, buf, len, &out), FS_ERR_UNSUPPORTED);
	buf[0] = 0xc2;
	assert_int_equal(fs_counters_codec_decode(codec, buf, len, &out), FS_ERR_INVALID);
	fs_counters_codec_free(codec);
}

/* A body whose generic group is null for its first field and set for the second. */
static void
partial_group_rejected(void **state)
{
	struct fs_counters_codec *codec = new_codec();
	struct fs_counters in, out;
	uint8_t buf[FS_COUNTERS_CODEC_MAX_LEN];
	uint8_t edited[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0, at, n;

	(void)state;
	fs_counters_clear(&in);
	in.present = FS_C_GENERIC;
	in.generic.if_index = 1;
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	/*
	 * Mandatory part: exporter_addr and agent_addr empty (1 byte each), the
	 * others 0 (1 byte each): 10 bytes.  Then if_index is branch 1, value 1
	 * (zigzag 02 02); replace both bytes with a null branch 00.
	 */
	at = FS_COUNTERS_CODEC_HEADER_LEN + 10;
	assert_int_equal(buf[at], 0x02);
	assert_int_equal(buf[at + 1], 0x02);
	memcpy(edited, buf, at);
	edited[at] = 0x00;
	n = len - at - 2;
	memcpy(edited + at + 1, buf + at + 2, n);
	assert_int_equal(fs_counters_codec_decode(codec, edited, at + 1 + n, &out),
			 FS_ERR_INVALID);
	fs_counters_codec_free(codec);
}

static void
other_records_limit(void **state)
{
	struct fs_counters_codec *codec = new_codec();
	struct fs_counters in;
	uint8_t buf[FS_COUNTERS_CODEC_MAX_LEN];
	size_t len = 0;

	(void)state;
	fs_counters_clear(&in);
	for (int i = 0; i < FS_COUNTERS_MAX_OTHER_RECORDS + 3; i++)
		fs_counters_add_other(&in, 0, 2000, 4);
	assert_int_equal(in.other_count, FS_COUNTERS_MAX_OTHER_RECORDS);
	assert_int_equal(in.other_omitted, 3);
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len), 0);
	in.other[0].format = 0x1000;
	assert_int_equal(fs_counters_codec_encode(codec, &in, buf, sizeof(buf), &len),
			 FS_ERR_INVALID);
	fs_counters_codec_free(codec);
}

static int
quiet_logs(void **state)
{
	(void)state;
	fs_log_set_level(FS_LOG_ERR);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_full),
		cmocka_unit_test(round_trip_groups_absent),
		cmocka_unit_test(max_len_fits_worst_case),
		cmocka_unit_test(avro_c_reads_encoding),
		cmocka_unit_test(fingerprint_matches_schema),
		cmocka_unit_test(truncated_messages_rejected),
		cmocka_unit_test(bad_header_rejected),
		cmocka_unit_test(partial_group_rejected),
		cmocka_unit_test(other_records_limit),
	};

	return cmocka_run_group_tests(tests, quiet_logs, NULL);
}
