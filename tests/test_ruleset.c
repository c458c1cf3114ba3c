/*
 * test_ruleset.c - rules files of flowsift-filter: statements, definitions,
 * topics, drop rules, and errors that name the line with a caret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/flow.h"
#include "core/result.h"
#include "filter/filter.h"
#include "filter/ruleset.h"

static struct fs_ruleset *
parse_ok(const char *text)
{
	struct fs_filter_error err = { 0 };
	struct fs_ruleset *rules = NULL;
	int rc = fs_ruleset_parse(&rules, text, strlen(text), "test.rules", &err);

	if (rc != 0)
		fail_msg("unexpected error: %s", err.text);
	assert_non_null(rules);
	return rules;
}

static void
parse_error(const char *text, struct fs_filter_error *err)
{
	struct fs_ruleset *rules = NULL;

	assert_int_equal(fs_ruleset_parse(&rules, text, strlen(text), "test.rules", err),
			 FS_ERR_INVALID);
	assert_null(rules);
}

static void
make_flow(struct fs_flow *f, const char *src, const char *dst, uint8_t proto,
	  uint16_t dst_port, uint8_t flags)
{
	fs_flow_clear(f);
	f->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_PROTO | FS_F_SRC_PORT |
		     FS_F_DST_PORT | FS_F_TCP_FLAGS;
	assert_int_equal(fs_addr_parse(&f->src_addr, src), 0);
	assert_int_equal(fs_addr_parse(&f->dst_addr, dst), 0);
	f->proto = proto;
	f->src_port = 40000;
	f->dst_port = dst_port;
	f->tcp_flags = flags;
}

/* Returns the names of the rules flow matches, in file order, stopping at a drop rule. */
static void
route(const struct fs_ruleset *rules, const struct fs_flow *flow, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < rules->count; i++) {
		const struct fs_filter_rule *r = &rules->rules[i];

		if (!fs_filter_match(r->filter, flow))
			continue;
		if (out[0] != '\0')
			strncat(out, " ", len - strlen(out) - 1);
		strncat(out, r->drop ? "drop:" : "", len - strlen(out) - 1);
		strncat(out, r->name, len - strlen(out) - 1);
		if (r->drop)
			return;
	}
}

static const char example[] =
	"# mail and scans\n"
	"mailservers = host 192.0.2.10 or host 192.0.2.11\n"
	"\n"
	"rule smtp-not-mail: proto tcp and dst port 25\n"
	"\tand not src mailservers   # continued\n"
	"rule noise drop: proto udp and port 53\n"
	"rule scans topic siem.scans: flags S and not flags A\n"
	"rule all_tcp: tcp\n";

static void
rules_and_definitions(void **state)
{
	struct fs_ruleset *rules = parse_ok(example);

	(void)state;
	assert_int_equal(rules->count, 4);
	assert_int_equal(rules->definitions, 1);
	assert_string_equal(rules->rules[0].name, "smtp-not-mail");
	assert_string_equal(rules->rules[0].topic, "flows.filtered.smtp-not-mail");
	assert_false(rules->rules[0].drop);
	assert_int_equal(rules->rules[0].line, 4);
	assert_string_equal(rules->rules[1].name, "noise");
	assert_true(rules->rules[1].drop);
	assert_string_equal(rules->rules[1].topic, "");
	assert_string_equal(rules->rules[2].topic, "siem.scans");
	assert_int_equal(rules->rules[2].line, 7);
	assert_int_equal(fs_ruleset_find(rules, "scans"), 2);
	assert_int_equal(fs_ruleset_find(rules, "mailservers"), -1);
	fs_ruleset_free(rules);
}

static void
routes_follow_file_order(void **state)
{
	struct fs_ruleset *rules = parse_ok(example);
	struct fs_flow flow;
	char got[256];

	(void)state;
	/* A client sending mail: not a mail server, SYN and ACK. */
	make_flow(&flow, "10.0.0.5", "198.51.100.7", 6, 25, 0x12);
	route(rules, &flow, got, sizeof(got));
	assert_string_equal(got, "smtp-not-mail all_tcp");

	/* A mail server sending mail: the definition applies to src. */
	make_flow(&flow, "192.0.2.11", "198.51.100.7", 6, 25, 0x12);
	route(rules, &flow, got, sizeof(got));
	assert_string_equal(got, "all_tcp");

	/* A SYN-only probe to port 25 matches both mail and scan rules. */
	make_flow(&flow, "10.0.0.5", "198.51.100.7", 6, 25, 0x02);
	route(rules, &flow, got, sizeof(got));
	assert_string_equal(got, "smtp-not-mail scans all_tcp");

	/* DNS is dropped, and no rule after the drop rule sees it. */
	make_flow(&flow, "10.0.0.5", "198.51.100.53", 17, 53, 0);
	route(rules, &flow, got, sizeof(got));
	assert_string_equal(got, "drop:noise");

	/* A flow no rule matches goes to the default route, if the worker has one. */
	make_flow(&flow, "10.0.0.5", "198.51.100.53", 17, 123, 0);
	route(rules, &flow, got, sizeof(got));
	assert_string_equal(got, "");
	fs_ruleset_free(rules);
}

static void
definitions_chain(void **state)
{
	struct fs_ruleset *rules = parse_ok(
		"web = port in [80 443]\n"
		"inside = net 10.0.0.0/8\n"
		"web_inside = web and dst inside\n"
		"rule w: web_inside and not src inside\n");
	struct fs_flow flow;

	(void)state;
	assert_int_equal(rules->definitions, 3);
	make_flow(&flow, "203.0.113.9", "10.1.2.3", 6, 443, 0x18);
	assert_true(fs_filter_match(rules->rules[0].filter, &flow));
	make_flow(&flow, "10.9.9.9", "10.1.2.3", 6, 443, 0x18);
	assert_false(fs_filter_match(rules->rules[0].filter, &flow));
	make_flow(&flow, "203.0.113.9", "10.1.2.3", 6, 22, 0x18);
	assert_false(fs_filter_match(rules->rules[0].filter, &flow));
	fs_ruleset_free(rules);
}

static void
syntax_error_has_line_and_caret(void **state)
{
	struct fs_filter_error err = { 0 };

	(void)state;
	parse_error("# header\n"
		    "rule ok: tcp\n"
		    "rule smtp: proto tcp and dst port smtp\n", &err);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 35);
	assert_non_null(strstr(err.text, "test.rules"));
	assert_non_null(strstr(err.text, "line 3, column 35"));
	assert_non_null(strstr(err.text, "'smtp'"));
	assert_non_null(strstr(err.text,
			       "  rule smtp: proto tcp and dst port smtp\n"
			       "                                    ^"));
}

static void
error_in_continuation_line(void **state)
{
	struct fs_filter_error err = { 0 };

	(void)state;
	parse_error("rule a: proto tcp\n"
		    "    and (port 25\n"
		    "rule b: udp\n", &err);
	assert_true(err.line == 2 || err.line == 3);
	assert_non_null(strstr(err.text, "^"));
	assert_non_null(strstr(err.text, ")"));
}

static void
statement_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *words;
	} cases[] = {
		{ "rule : tcp\n", 1, "name" },
		{ "rule a tcp\n", 1, ":" },
		{ "rule a: tcp\nrule a: udp\n", 2, "a" },
		{ "rule a topic: tcp\n", 1, "topic" },
		{ "rule a topic bad/topic: tcp\n", 1, "topic" },
		{ "x = tcp\nx = udp\n", 2, "x" },
		{ "rule a: undefined_name\n", 1, "undefined_name" },
		{ "tcp = udp\n", 1, "tcp" },
		{ "\n\n  rule a: tcp\n", 3, "" },
		/*
		 * NOTE: a missing expression is reported at the end of the
		 * statement, which is the start of the next line, so the
		 * excerpt is that (empty) line rather than the rule.
		 */
		{ "rule a:\n", 2, "expected an expression" },
		{ "garbage here\n", 1, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fs_filter_error err;
		struct fs_ruleset *rules = NULL;
		int rc;

		memset(&err, 0, sizeof(err));
		rc = fs_ruleset_parse(&rules, cases[i].text, strlen(cases[i].text), "r", &err);
		if (rc != FS_ERR_INVALID) {
			fs_ruleset_free(rules);
			fail_msg("case %zu '%s' was accepted", i, cases[i].text);
		}
		if (err.line != cases[i].line)
			fail_msg("case %zu: line %u, expected %u: %s", i, err.line, cases[i].line,
				 err.text);
		assert_non_null(strstr(err.text, cases[i].words));
		assert_non_null(strstr(err.text, "^"));
	}
}

static void
load_from_file(void **state)
{
	char path[] = "/tmp/fstest-rules-XXXXXX";
	struct fs_filter_error err = { 0 };
	struct fs_ruleset *rules = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, example, strlen(example)), (ssize_t)strlen(example));
	close(fd);
	assert_int_equal(fs_ruleset_load(&rules, path, &err), 0);
	assert_int_equal(rules->count, 4);
	fs_ruleset_free(rules);
	unlink(path);
	assert_int_equal(fs_ruleset_load(&rules, path, &err), FS_ERR_NOT_FOUND);
	assert_non_null(strstr(err.text, path));
}

static void
empty_file_has_no_rules(void **state)
{
	struct fs_ruleset *rules = parse_ok("# nothing yet\n\n");

	(void)state;
	assert_int_equal(rules->count, 0);
	fs_ruleset_free(rules);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rules_and_definitions),
		cmocka_unit_test(routes_follow_file_order),
		cmocka_unit_test(definitions_chain),
		cmocka_unit_test(syntax_error_has_line_and_caret),
		cmocka_unit_test(error_in_continuation_line),
		cmocka_unit_test(statement_errors),
		cmocka_unit_test(load_from_file),
		cmocka_unit_test(empty_file_has_no_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
