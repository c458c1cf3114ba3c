/* test_enrich_sampling.c - sampling normalization, applied exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/count.h"
#include "core/result.h"
#include "enrich/sampling.h"

static void
make_flow(struct fs_flow *f, const char *exporter, enum fs_flow_type type)
{
	fs_flow_clear(f);
	f->flow_type = (uint8_t)type;
	assert_int_equal(fs_addr_parse(&f->exporter_addr, exporter), 0);
	f->bytes = 1500;
	f->packets = 3;
	f->present = FS_F_BYTES | FS_F_PACKETS;
}

static void
test_sources(void **state)
{
	struct fs_sampling s;
	struct fs_sampling_stats stats = { 0 };
	struct fs_flow f;
	char err[256] = "";

	(void)state;
	assert_int_equal(fs_sampling_init(&s, "192.0.2.9=1000, 2001:db8::9=512", err,
					  sizeof(err)), 0);
	assert_int_equal(s.count, 2);

	/* exporter: the rate in the flow */
	make_flow(&f, "192.0.2.1", FS_FLOW_NETFLOW_V9);
	f.sampling_rate = 100;
	f.present |= FS_F_SAMPLING_RATE;
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.bytes, 150000);
	assert_int_equal(f.packets, 300);
	assert_int_equal(f.exported_bytes, 1500);
	assert_int_equal(f.exported_packets, 3);
	assert_int_equal(f.sampling_rate, 100);
	assert_int_equal(f.sampling_source, FS_SAMPLING_EXPORTER);
	assert_true(fs_flow_has(&f, FS_F_EXPORTED_BYTES | FS_F_SAMPLING_SOURCE));

	/* applying again changes nothing */
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.bytes, 150000);
	assert_int_equal(f.exported_bytes, 1500);
	assert_int_equal(stats.already_scaled, 1);

	/* options: the decoder set sampling_source */
	make_flow(&f, "192.0.2.1", FS_FLOW_IPFIX);
	f.sampling_rate = 10;
	f.sampling_source = FS_SAMPLING_OPTIONS;
	f.present |= FS_F_SAMPLING_RATE | FS_F_SAMPLING_SOURCE;
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.bytes, 15000);
	assert_int_equal(f.sampling_source, FS_SAMPLING_OPTIONS);

	/* sflow */
	make_flow(&f, "192.0.2.1", FS_FLOW_SFLOW_V5);
	f.sampling_rate = 4096;
	f.present |= FS_F_SAMPLING_RATE;
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.packets, 3 * 4096);
	assert_int_equal(f.sampling_source, FS_SAMPLING_SFLOW);

	/* override wins over the exported rate, for IPv4 and IPv6 exporters */
	make_flow(&f, "192.0.2.9", FS_FLOW_NETFLOW_V5);
	f.sampling_rate = 10;
	f.present |= FS_F_SAMPLING_RATE;
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.bytes, 1500000);
	assert_int_equal(f.sampling_rate, 1000);
	assert_int_equal(f.sampling_source, FS_SAMPLING_OVERRIDE);
	make_flow(&f, "2001:db8::9", FS_FLOW_IPFIX);
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.packets, 3 * 512);
	assert_int_equal(f.sampling_source, FS_SAMPLING_OVERRIDE);
	assert_int_equal(stats.overridden, 2);

	/* none: unknown rate, counters as exported and flagged */
	make_flow(&f, "192.0.2.1", FS_FLOW_NETFLOW_V9);
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.bytes, 1500);
	assert_int_equal(f.exported_bytes, 1500);
	assert_false(fs_flow_has(&f, FS_F_SAMPLING_RATE));
	assert_int_equal(f.sampling_source, FS_SAMPLING_NONE);
	/* a rate of 0 is no rate */
	make_flow(&f, "192.0.2.1", FS_FLOW_NETFLOW_V5);
	f.present |= FS_F_SAMPLING_RATE;
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.sampling_source, FS_SAMPLING_NONE);
	assert_false(fs_flow_has(&f, FS_F_SAMPLING_RATE));
	assert_int_equal(stats.unknown_rate, 2);

	/* saturation at FS_COUNT_MAX, which every store of the counters keeps exactly */
	make_flow(&f, "192.0.2.1", FS_FLOW_NETFLOW_V9);
	f.bytes = FS_COUNT_MAX / 2;
	f.sampling_rate = 3;
	f.present |= FS_F_SAMPLING_RATE;
	fs_sampling_apply(&s, &f, &stats);
	assert_int_equal(f.bytes, FS_COUNT_MAX);
	assert_int_equal(stats.saturated, 1);
	fs_sampling_release(&s);
}

static void
test_override_errors(void **state)
{
	static const struct {
		const char *text;
		const char *reason;
	} cases[] = {
		{ "10.0.0.1", "is not ADDRESS=RATE" },
		{ "10.0.0.1=0", "rate is not a number from 1 to 4294967295" },
		{ "10.0.0.1=-5", "rate is not a number" },
		{ "10.0.0.1=4294967296", "rate is not a number" },
		{ "10.0.0.1=10x", "rate is not a number" },
		{ "edge1=10", "'edge1' is not an IP address" },
		{ "10.0.0.1=10,10.0.0.1=20", "is listed twice" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fs_sampling s;
		char err[256] = "";

		print_message("case: %s\n", cases[i].text);
		assert_int_equal(fs_sampling_init(&s, cases[i].text, err, sizeof(err)),
				 FS_ERR_INVALID);
		assert_non_null(strstr(err, cases[i].reason));
		assert_null(s.overrides);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_override_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
