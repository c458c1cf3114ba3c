/*
 * test_bad_input.c - hostile and unexpected datagrams: protocol detection,
 * fault counting, and byte-level mutations of valid datagrams that must never
 * crash, loop or leak (run under SANITIZE=1 to check the memory side).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/result.h"
#include "decode/decoder.h"
#include "decode/exporter_stats.h"

struct counter {
	size_t flows;
};

static void
count_flow(const struct fs_flow *flow, void *opaque)
{
	struct counter *c = opaque;

	assert_true(flow->flow_type < FS_FLOW_TYPE_COUNT);
	c->flows++;
}

static int
decode(struct fs_decoder *dec, const uint8_t *data, size_t len, struct counter *c)
{
	struct fs_addr exporter;

	fs_addr_parse(&exporter, "203.0.113.9");
	return fs_decoder_decode(dec, data, len, &exporter, 2055, 0, count_flow, c);
}

static void
test_empty_and_tiny(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct counter c = { 0 };
	static const uint8_t three[] = { 0, 9, 0 };

	(void)state;
	assert_int_equal(decode(dec, NULL, 0, &c), FS_ERR_INVALID);
	assert_int_equal(decode(dec, three, sizeof(three), &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 2);
	assert_int_equal(fs_decoder_stats(dec)->datagrams, 2);
	assert_int_equal(c.flows, 0);
	fs_decoder_free(dec);
}

/*
 * Datagrams that end inside the header, before the domain: each is counted
 * truncated under domain 0 of its exporter, so --stats shows it per exporter.
 */
static void
test_short_headers_counted_per_exporter(void **state)
{
	static const struct {
		uint8_t flow_type;
		uint8_t bytes[12];
	} cases[] = {
		/* v9: version, count, uptime, export time; sequence and source id missing */
		{ FS_FLOW_NETFLOW_V9, { 0, 9, 0, 1, 0, 0, 0, 1, 0x65, 0, 0, 0 } },
		/* IPFIX: version, length 16, export time; sequence and domain missing */
		{ FS_FLOW_IPFIX, { 0, 10, 0, 16, 0x65, 0, 0, 0, 0, 0, 0, 1 } },
		/* sFlow: version 5, IPv4 agent 192.0.2.1; sub-agent id missing */
		{ FS_FLOW_SFLOW_V5, { 0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 1 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fs_decoder *dec = fs_decoder_new(NULL);
		struct counter c = { 0 };
		const struct fs_exporter_stats *stats;
		const struct fs_exporter_entry *entry;

		print_message("case %zu\n", i);
		assert_int_equal(decode(dec, cases[i].bytes, sizeof(cases[i].bytes), &c),
				 FS_ERR_TRUNCATED);
		assert_int_equal(fs_decoder_stats(dec)->truncated, 1);
		stats = fs_decoder_exporter_stats(dec);
		assert_int_equal(fs_exporter_stats_count(stats), 1);
		entry = fs_exporter_stats_at(stats, 0);
		assert_int_equal(entry->flow_type, cases[i].flow_type);
		assert_int_equal(entry->domain, 0);
		assert_int_equal(entry->packets, 1);
		assert_int_equal(entry->malformed[FS_MALFORMED_TRUNCATED], 1);
		fs_decoder_free(dec);
	}
}

static void
test_unknown_version(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct counter c = { 0 };
	static const uint8_t v11[32] = { 0, 11 };
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";

	(void)state;
	assert_int_equal(decode(dec, v11, sizeof(v11), &c), FS_ERR_INVALID);
	assert_int_equal(decode(dec, http, sizeof(http) - 1, &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 2);
	fs_decoder_free(dec);
}

static void
test_sflow_detected_by_header(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct counter c = { 0 };
	/* version 5, agent address type 1 (IPv4), agent 192.0.2.1 ... */
	static const uint8_t sflow[28] = { 0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 1 };
	/* version 5 but agent address type 7: not sFlow. */
	static const uint8_t not_sflow[28] = { 0, 0, 0, 5, 0, 0, 0, 7 };

	(void)state;
	(void)decode(dec, sflow, sizeof(sflow), &c);
	assert_int_equal(fs_decoder_stats(dec)->datagrams_by_type[FS_FLOW_SFLOW_V5], 1);
	assert_int_equal(decode(dec, not_sflow, sizeof(not_sflow), &c), FS_ERR_INVALID);
	fs_decoder_free(dec);
}

static void
test_netflow_v1_v7_count_past_end(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct counter c = { 0 };
	static const uint8_t v1[16] = { 0, 1, 0, 1 };
	static const uint8_t v7[24] = { 0, 7, 0, 1 };
	static const uint8_t v7_short_header[20] = { 0, 7, 0, 0 };

	(void)state;
	assert_int_equal(decode(dec, v1, sizeof(v1), &c), FS_ERR_TRUNCATED);
	assert_int_equal(decode(dec, v7, sizeof(v7), &c), FS_ERR_TRUNCATED);
	assert_int_equal(decode(dec, v7_short_header, sizeof(v7_short_header), &c),
			 FS_ERR_TRUNCATED);
	assert_int_equal(fs_decoder_stats(dec)->truncated, 3);
	assert_int_equal(c.flows, 0);
	fs_decoder_free(dec);
}

static void
test_ipfix_length_below_header(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct counter c = { 0 };
	static const uint8_t msg[20] = { 0, 10, 0, 8 };

	(void)state;
	assert_int_equal(decode(dec, msg, sizeof(msg), &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
	fs_decoder_free(dec);
}

static void
test_ipfix_trailing_garbage(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct counter c = { 0 };
	/* An empty 16-byte message followed by 2 stray bytes. */
	static const uint8_t msg[18] = { 0, 10, 0, 16, [16] = 0xab, [17] = 0xcd };

	(void)state;
	assert_int_equal(decode(dec, msg, sizeof(msg), &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->invalid, 1);
	fs_decoder_free(dec);
}

/* A v9 datagram: template 256 (srcIPv4/4, octets/4) and one data record. */
static const uint8_t v9_datagram[] = {
	0, 9, 0, 2, 0, 0, 0x10, 0, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 1, 0, 0, 0, 3,
	0, 0, 0, 16, 1, 0, 0, 2, 0, 8, 0, 4, 0, 1, 0, 4,
	1, 0, 0, 12, 10, 0, 0, 1, 0, 0, 1, 0,
};

/* An IPFIX message: template 300 (srcIPv4/4, variable-length PEN field) and data. */
static const uint8_t ipfix_message[] = {
	0, 10, 0, 54, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 1, 0, 0, 0, 7,
	0, 2, 0, 20, 1, 0x2c, 0, 2, 0, 8, 0, 4, 0x80, 1, 0xff, 0xff, 0, 0, 0, 9,
	1, 0x2c, 0, 18, 10, 0, 0, 2, 3, 'a', 'b', 'c', 10, 0, 0, 3, 0, 0,
};

/* A one-record v5 datagram. */
static const uint8_t v5_datagram[72] = {
	0, 5, 0, 1, 0, 0, 0x10, 0, 0x65, 0x53, 0xf1, 0,
};

/* Feeds every single-byte mutation of base: each byte set to a few edge values. */
static void
mutate_and_decode(const uint8_t *base, size_t len)
{
	static const uint8_t values[] = { 0x00, 0x01, 0x03, 0x04, 0x7f, 0x80, 0xfe, 0xff };
	struct fs_decoder *dec = fs_decoder_new(NULL);
	uint8_t buf[256];
	struct counter c = { 0 };

	assert_true(len <= sizeof(buf));
	assert_int_equal(decode(dec, base, len, &c), 0);
	for (size_t i = 0; i < len; i++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			memcpy(buf, base, len);
			buf[i] = values[v];
			(void)decode(dec, buf, len, &c);
			/* Every prefix too: cuts at every offset. */
			(void)decode(dec, buf, i, &c);
		}
	}
	assert_true(fs_decoder_stats(dec)->datagrams > len);
	fs_decoder_free(dec);
}

static void
test_mutated_v9(void **state)
{
	(void)state;
	mutate_and_decode(v9_datagram, sizeof(v9_datagram));
}

static void
test_mutated_ipfix(void **state)
{
	(void)state;
	mutate_and_decode(ipfix_message, sizeof(ipfix_message));
}

static void
test_mutated_v5(void **state)
{
	(void)state;
	mutate_and_decode(v5_datagram, sizeof(v5_datagram));
}

/* Deterministic pseudo-random datagrams after each valid header. */
static void
test_random_bodies(void **state)
{
	struct fs_decoder *dec = fs_decoder_new(NULL);
	struct counter c = { 0 };
	uint8_t buf[512];
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = 16 + (size_t)(round % 400);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
		}
		/* Mostly small set ids and lengths, so sets and templates parse. */
		buf[0] = 0;
		buf[1] = (uint8_t)(round % 3 == 0 ? 9 : 10);
		if (buf[1] == 10) {
			buf[2] = (uint8_t)(len >> 8);
			buf[3] = (uint8_t)len;
			buf[16] = 0;
			buf[17] = (uint8_t)(2 + round % 2);
		} else {
			buf[20] = 0;
			buf[21] = (uint8_t)(round % 2);
		}
		(void)decode(dec, buf, len, &c);
	}
	assert_int_equal(fs_decoder_stats(dec)->datagrams, 20000);
	fs_decoder_free(dec);
}

static void
test_template_limits(void **state)
{
	const struct fs_decoder_limits limits = { .max_templates = 2, .max_template_fields = 1 };
	struct fs_decoder *dec = fs_decoder_new(&limits);
	struct counter c = { 0 };
	uint8_t buf[sizeof(v9_datagram)];

	(void)state;
	/* v9_datagram's template has 2 fields: over the limit of 1. */
	assert_int_equal(decode(dec, v9_datagram, sizeof(v9_datagram), &c), FS_ERR_INVALID);
	assert_int_equal(fs_decoder_stats(dec)->templates_rejected, 1);
	assert_int_equal(fs_decoder_stats(dec)->no_template, 1);
	fs_decoder_free(dec);

	dec = fs_decoder_new(&limits);
	memcpy(buf, v9_datagram, sizeof(buf));
	/* Keep only the template flowset, cut to its first field (12 bytes). */
	buf[23] = 12;
	buf[27] = 1;
	for (uint8_t id = 0; id < 4; id++) {
		buf[25] = id; /* template ids 256..259 */
		assert_int_equal(decode(dec, buf, 32, &c), 0);
	}
	assert_int_equal(fs_decoder_stats(dec)->templates_added, 4);
	assert_int_equal(fs_decoder_stats(dec)->templates_active, 2);
	fs_decoder_free(dec);
}

/* Replays the regression inputs kept beside the fuzz seeds, when run from the repository root. */
static void
test_fuzz_regressions(void **state)
{
	const char *dir_path = "tests/fuzz/corpus/fuzz_decoder";
	struct fs_decoder *dec;
	DIR *dir = opendir(dir_path);
	struct dirent *entry;
	struct counter c = { 0 };
	size_t files = 0;

	(void)state;
	if (!dir) {
		print_message("%s not found (run from the repository root); skipping\n",
			      dir_path);
		skip();
	}
	dec = fs_decoder_new(NULL);
	while ((entry = readdir(dir)) != NULL) {
		static uint8_t buf[65536];
		char path[1024];
		FILE *fp;
		size_t n;

		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir_path, entry->d_name);
		fp = fopen(path, "rb");
		if (!fp)
			continue;
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		(void)decode(dec, buf, n, &c);
		files++;
	}
	closedir(dir);
	assert_true(files > 0);
	assert_int_equal(fs_decoder_stats(dec)->datagrams, files);
	fs_decoder_free(dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_tiny),
		cmocka_unit_test(test_short_headers_counted_per_exporter),
		cmocka_unit_test(test_unknown_version),
		cmocka_unit_test(test_sflow_detected_by_header),
		cmocka_unit_test(test_netflow_v1_v7_count_past_end),
		cmocka_unit_test(test_ipfix_length_below_header),
		cmocka_unit_test(test_ipfix_trailing_garbage),
		cmocka_unit_test(test_mutated_v9),
		cmocka_unit_test(test_mutated_ipfix),
		cmocka_unit_test(test_mutated_v5),
		cmocka_unit_test(test_random_bodies),
		cmocka_unit_test(test_template_limits),
		cmocka_unit_test(test_fuzz_regressions),
	};

	fs_log_set_level(FS_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
