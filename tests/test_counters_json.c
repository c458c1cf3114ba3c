/*
 * test_counters_json.c - fs_counters_json_write(): keys of
 * schemas/counters.avsc, record groups only when present, and the size bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/counters.h"
#include "core/counters_json.h"
#include "core/result.h"

static void
fill_header(struct fs_counters *c)
{
	static const uint8_t exporter[4] = { 127, 0, 0, 1 };
	static const uint8_t agent[4] = { 192, 0, 2, 10 };

	fs_counters_clear(c);
	fs_addr_set_v4(&c->exporter_addr, exporter);
	c->exporter_port = 6343;
	fs_addr_set_v4(&c->agent_addr, agent);
	c->sub_agent_id = 3;
	c->datagram_sequence = 777;
	c->sequence = 42;
	c->uptime_ms = 123456;
	c->source_id_type = 0;
	c->source_id_index = 7;
	c->time_received_ns = 1700000000000000000ll;
}

static void
generic_only_exact(void **state)
{
	struct fs_counters c;
	char buf[FS_COUNTERS_JSON_MAX];
	int len;

	(void)state;
	fill_header(&c);
	c.present = FS_C_GENERIC;
	c.generic.if_index = 7;
	c.generic.if_speed = 10000000000ull;
	c.generic.in_octets = 59347538341644ull;
	fs_counters_add_other(&c, 0, 1005, 8);

	len = fs_counters_json_write(&c, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal((size_t)len, strlen(buf));
	assert_string_equal(buf,
		"{\"schema\":\"counters\",\"exporter_addr\":\"127.0.0.1\",\"exporter_port\":6343,"
		"\"agent_addr\":\"192.0.2.10\",\"sub_agent_id\":3,\"datagram_sequence\":777,"
		"\"sequence\":42,\"uptime_ms\":123456,\"source_id_type\":0,\"source_id_index\":7,"
		"\"time_received_ns\":1700000000000000000,"
		"\"if_index\":7,\"if_type\":0,\"if_speed\":10000000000,\"if_direction\":0,"
		"\"if_status\":0,\"in_octets\":59347538341644,\"in_ucast_pkts\":0,"
		"\"in_mcast_pkts\":0,\"in_bcast_pkts\":0,\"in_discards\":0,\"in_errors\":0,"
		"\"in_unknown_protos\":0,\"out_octets\":0,\"out_ucast_pkts\":0,"
		"\"out_mcast_pkts\":0,\"out_bcast_pkts\":0,\"out_discards\":0,\"out_errors\":0,"
		"\"promiscuous\":0,"
		"\"other_records\":[{\"enterprise\":0,\"format\":1005,\"length\":8}],"
		"\"other_records_omitted\":0}");
	/* No Ethernet record, so no Ethernet keys. */
	assert_null(strstr(buf, "fcs_errors"));
}

static void
max_sample_fits_bound(void **state)
{
	struct fs_counters c;
	char buf[FS_COUNTERS_JSON_MAX];
	static const uint8_t v6[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	(void)state;
	memset(&c, 0xff, sizeof(c));
	fs_addr_set_v6(&c.exporter_addr, v6);
	fs_addr_set_v6(&c.agent_addr, v6);
	c.time_received_ns = INT64_MIN;
	c.present = FS_C_GENERIC | FS_C_ETHERNET;
	c.other_count = FS_COUNTERS_MAX_OTHER_RECORDS;

	assert_true(fs_counters_json_write(&c, buf, sizeof(buf)) > 0);
	print_message("longest JSON: %zu bytes of %d\n", strlen(buf), FS_COUNTERS_JSON_MAX);
	assert_non_null(strstr(buf, "\"time_received_ns\":-9223372036854775808,"));
	assert_non_null(strstr(buf, "\"symbol_errors\":4294967295,"));
	assert_non_null(strstr(buf, "\"other_records_omitted\":4294967295}"));
}

static void
buffer_too_small_full(void **state)
{
	struct fs_counters c;
	char buf[64];

	(void)state;
	fill_header(&c);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(fs_counters_json_write(&c, buf, sizeof(buf)), FS_ERR_FULL);
	assert_non_null(memchr(buf, '\0', sizeof(buf)));
	assert_int_equal(fs_counters_json_write(&c, buf, 0), FS_ERR_FULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generic_only_exact),
		cmocka_unit_test(max_sample_fits_bound),
		cmocka_unit_test(buffer_too_small_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
