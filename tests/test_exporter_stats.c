/* test_exporter_stats.c - pkg/decode/exporter_stats.h: per-exporter counters and sequence loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/flow.h"
#include "core/log.h"
#include "decode/decoder.h"
#include "decode/exporter_stats.h"

static struct fs_exporter_entry *
entry_for(struct fs_exporter_stats *stats, const char *addr, uint32_t domain)
{
	struct fs_addr exporter;

	fs_addr_parse(&exporter, addr);
	return fs_exporter_stats_get(stats, &exporter, 2055, FS_FLOW_NETFLOW_V9, domain);
}

static void
test_entries_by_exporter_and_domain(void **state)
{
	struct fs_exporter_stats *stats = fs_exporter_stats_new(8, 0);
	struct fs_exporter_entry *a = entry_for(stats, "192.0.2.1", 1);

	(void)state;
	assert_non_null(a);
	assert_ptr_equal(entry_for(stats, "192.0.2.1", 1), a);
	assert_ptr_not_equal(entry_for(stats, "192.0.2.1", 2), a);
	assert_ptr_not_equal(entry_for(stats, "2001:db8::1", 1), a);
	assert_int_equal(fs_exporter_stats_count(stats), 3);
	assert_ptr_equal(fs_exporter_stats_at(stats, 0), a);
	assert_null(fs_exporter_stats_at(stats, 3));
	fs_exporter_stats_free(stats);
}

static void
test_table_full_counts_untracked(void **state)
{
	struct fs_exporter_stats *stats = fs_exporter_stats_new(2, 0);

	(void)state;
	assert_non_null(entry_for(stats, "192.0.2.1", 0));
	assert_non_null(entry_for(stats, "192.0.2.2", 0));
	assert_null(entry_for(stats, "192.0.2.3", 0));
	assert_null(entry_for(stats, "192.0.2.4", 0));
	/* Known exporters still resolve when the table is full. */
	assert_non_null(entry_for(stats, "192.0.2.2", 0));
	assert_int_equal(fs_exporter_stats_untracked(stats), 2);
	fs_exporter_stats_free(stats);
}

static void
test_sequence_gap_and_wrap(void **state)
{
	struct fs_exporter_stats *stats = fs_exporter_stats_new(4, 0);
	struct fs_exporter_entry *e = entry_for(stats, "192.0.2.1", 0);

	(void)state;
	fs_exporter_stats_sequence(e, 100, 30, true);   /* first: no check */
	fs_exporter_stats_sequence(e, 130, 30, true);   /* as expected */
	assert_int_equal(e->sequence_gaps, 0);
	fs_exporter_stats_sequence(e, 200, 30, true);   /* 40 missing */
	assert_int_equal(e->sequence_gaps, 1);
	assert_int_equal(e->sequence_lost, 40);

	/* Across the 2^32 wrap: 0xfffffff0 + 0x20 expects 0x10. */
	e = entry_for(stats, "192.0.2.1", 1);
	fs_exporter_stats_sequence(e, 0xfffffff0u, 0x20, true);
	fs_exporter_stats_sequence(e, 0x10, 1, true);
	assert_int_equal(e->sequence_gaps, 0);
	assert_int_equal(e->sequence_resets, 0);
	fs_exporter_stats_sequence(e, 0x16, 1, true);
	assert_int_equal(e->sequence_gaps, 1);
	assert_int_equal(e->sequence_lost, 5);

	/* A restart goes backwards: counted as a reset, not as loss. */
	fs_exporter_stats_sequence(e, 5, 1, true);
	assert_int_equal(e->sequence_resets, 1);
	assert_int_equal(e->sequence_gaps, 1);

	/* Unknown units: the next number is not checked. */
	fs_exporter_stats_sequence(e, 6, 0, false);
	fs_exporter_stats_sequence(e, 900, 1, true);
	assert_int_equal(e->sequence_gaps, 1);
	fs_exporter_stats_free(stats);
}

/*
 * A late message counts a reset and leaves the expected number alone, so
 * the message after it is no gap.  Numbers that go on from a lower one are
 * a restart.
 */
static void
test_sequence_late_and_restart(void **state)
{
	struct fs_exporter_stats *stats = fs_exporter_stats_new(4, 0);
	struct fs_exporter_entry *e = entry_for(stats, "192.0.2.2", 0);

	(void)state;
	fs_exporter_stats_sequence(e, 0, 5, true);
	fs_exporter_stats_sequence(e, 10, 5, true);     /* 5 to 9 not here yet */
	fs_exporter_stats_sequence(e, 5, 5, true);      /* they come late */
	fs_exporter_stats_sequence(e, 15, 5, true);
	fs_exporter_stats_sequence(e, 20, 5, true);
	assert_int_equal(e->sequence_gaps, 1);
	assert_int_equal(e->sequence_lost, 5);
	assert_int_equal(e->sequence_resets, 1);

	/* The exporter restarts at 0 and goes on from there. */
	fs_exporter_stats_sequence(e, 0, 5, true);
	fs_exporter_stats_sequence(e, 5, 5, true);
	fs_exporter_stats_sequence(e, 10, 5, true);
	assert_int_equal(e->sequence_gaps, 1);
	assert_int_equal(e->sequence_lost, 5);
	assert_int_equal(e->sequence_resets, 2);
	fs_exporter_stats_free(stats);
}

/* v9 sequence numbers count datagrams: 3 datagrams numbered 7, 8 and 10 lose 1. */
static void
test_v9_gap_counts_datagrams(void **state)
{
	static const uint8_t v9_empty[20] = { 0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4 };
	const uint32_t sequences[] = { 7, 8, 10 };
	struct fs_decoder *dec = fs_decoder_new(NULL);
	const struct fs_exporter_entry *e;
	uint8_t dg[20];
	struct fs_addr exporter;

	(void)state;
	fs_addr_parse(&exporter, "192.0.2.50");
	for (size_t i = 0; i < 3; i++) {
		memcpy(dg, v9_empty, sizeof(dg));
		dg[15] = (uint8_t)sequences[i];
		assert_int_equal(fs_decoder_decode(dec, dg, sizeof(dg), &exporter, 2055, 0,
						   NULL, NULL), 0);
	}
	e = fs_exporter_stats_at(fs_decoder_exporter_stats(dec), 0);
	assert_non_null(e);
	assert_int_equal(e->domain, 4);
	assert_int_equal(e->packets, 3);
	assert_int_equal(e->sequence_gaps, 1);
	assert_int_equal(e->sequence_lost, 1);
	fs_decoder_free(dec);
}

static void
test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(fs_malformed_reason_name(FS_MALFORMED_LENGTH_MISMATCH),
			    "length_mismatch");
	assert_string_equal(fs_malformed_reason_name(FS_MALFORMED_REASON_COUNT), "unknown");
	assert_string_equal(fs_exporter_sequence_unit(FS_FLOW_NETFLOW_V5), "flows");
	assert_string_equal(fs_exporter_sequence_unit(FS_FLOW_IPFIX), "records");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_by_exporter_and_domain),
		cmocka_unit_test(test_table_full_counts_untracked),
		cmocka_unit_test(test_sequence_gap_and_wrap),
		cmocka_unit_test(test_sequence_late_and_restart),
		cmocka_unit_test(test_v9_gap_counts_datagrams),
		cmocka_unit_test(test_reason_names),
	};

	fs_log_set_level(FS_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
