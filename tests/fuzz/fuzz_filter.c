/*
 * fuzz_filter.c - libFuzzer target for the filter compiler and rules files.
 *
 * The input is compiled as one expression and parsed as a rules file; every
 * compiled filter is then run on a few flows, so the code generator's jump
 * targets and pool offsets are exercised as well as the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/flow.h"
#include "filter/filter.h"
#include "filter/ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run_on_flows(const struct fs_filter *filter)
{
	struct fs_flow flow;

	fs_flow_clear(&flow);
	(void)fs_filter_match(filter, &flow);
	memset(&flow, 0xff, sizeof(flow));
	flow.src_addr.family = 4;
	flow.dst_addr.family = 6;
	flow.src_country[2] = '\0';
	(void)fs_filter_match(filter, &flow);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fs_filter_source src = { (const char *)data, 0, size, "fuzz" };
	struct fs_filter_error err;
	struct fs_ruleset *rules = NULL;
	struct fs_filter *filter = NULL;

	if (size > FS_FILTER_MAX_TEXT)
		return 0;
	if (fs_filter_compile_source(&filter, &src, NULL, &err) == 0) {
		run_on_flows(filter);
		fs_filter_free(filter);
	}
	if (fs_ruleset_parse(&rules, (const char *)data, size, "fuzz", &err) == 0) {
		for (size_t i = 0; i < rules->count; i++)
			run_on_flows(rules->rules[i].filter);
		fs_ruleset_free(rules);
	}
	return 0;
}
