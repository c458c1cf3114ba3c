/*
 * test_filter_nfdump.c - the filter language against nfdump: runs
 * scripts/compare-nfdump-filters.sh, which replays softflowd exports into
 * nfcapd and checks that `flowsift print -f` and nfdump select the same
 * flows for each of 35 pairs of equivalent filters, and for 8 pairs of ICMP
 * filters on NetFlow v5 and v9 exports of ICMP packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#define SCRIPT "scripts/compare-nfdump-filters.sh"
#define SKIP_STATUS 77

static void
filters_match_nfdump(void **state)
{
	const char *bin = getenv("FSTEST_BIN_DIR");
	char cmd[512];
	int status;

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s %s", SCRIPT, bin && *bin ? bin : "build/bin");
	status = system(cmd);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP_STATUS) {
		fprintf(stderr, "skipped: nfdump, nfcapd, softflowd or python3 is not installed "
				"(scripts/deps.sh installs them)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filters_match_nfdump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
