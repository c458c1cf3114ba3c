/*
 * test_detect_rules.c - every detection rule just under and just at its
 * threshold, and at the edges of its window, against a real redis-server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alert/alert.h"
#include "core/flow.h"
#include "core/result.h"
#include "detect/detect.h"
#include "filter/filter.h"
#include "support/alert_collector.h"
#include "support/redis_commands.h"
#include "support/redis_server.h"
#include "support/tcp_flow.h"

/* A Unix time divisible by 60, so it starts a bucket of every window used here. */
#define BASE_S INT64_C(1699999200)
#define BASE_MS (BASE_S * 1000)

static struct fs_test_redis server;
static redisContext *ctx;

/*
 * Adds count SYN flows from src to distinct 172.17.x.y addresses, starting
 * at index first.  Redis's HyperLogLog counts the first 99 and 100 of these
 * exactly (it counts 100 addresses of 172.16.0.0/16 as 99).
 */
static void
add_fanout(struct fs_detect *det, const char *src, uint16_t port, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		char dst[32];
		struct fs_flow flow;

		snprintf(dst, sizeof(dst), "172.17.%d.%d", i / 250, i % 250 + 1);
		flow = fs_test_tcp_flow(src, dst, port, 0x02, 52, 1);
		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
}

/* Settings with every rule off, so that each test turns on the rule it checks. */
static void
rules_off(struct fs_detect_settings *s)
{
	fs_detect_settings_default(s);
	for (int r = 0; r < FS_RULE_COUNT; r++)
		s->rules[r].threshold = 0;
	s->capacity = 4096;
}

static void
fanout_only(struct fs_detect_settings *s)
{
	rules_off(s);
	s->rules[FS_RULE_FANOUT] = (struct fs_detect_rule_settings){ 100, 60 };
}

static struct fs_detect *
new_detector(const struct fs_detect_settings *s, struct fs_test_alerts *c)
{
	struct fs_detect *det;

	memset(c, 0, sizeof(*c));
	det = fs_detect_new(s, fs_test_alerts_collect, c);
	assert_non_null(det);
	return det;
}

/*
 * Flushes at BASE_MS and checks that no alert came out.  Then adds last, the
 * flow that brings a rule to its threshold, flushes at at_ms and checks that
 * exactly one alert of rule with the observed value came out.  Returns that
 * alert for the checks that differ by rule.
 */
static const struct fs_alert *
cross_threshold(struct fs_detect *det, const struct fs_test_alerts *c, struct fs_flow last,
		int64_t at_ms, int rule, uint64_t observed)
{
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c->n, 0);

	assert_int_equal(fs_detect_add(det, &last), 0);
	assert_int_equal(fs_detect_flush(det, ctx, at_ms), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->alerts[0].rule, rule);
	assert_int_equal(c->alerts[0].observed, observed);
	return &c->alerts[0];
}

static int
group_setup(void **state)
{
	(void)state;
	return fs_test_redis_open(&server, &ctx);
}

static int
group_teardown(void **state)
{
	(void)state;
	fs_test_redis_close(&server, ctx);
	return 0;
}

static int
flush_db(void **state)
{
	(void)state;
	return fs_test_redis_flushdb(ctx);
}

/* ---- fan-out ---- */

static void
fanout_just_under_threshold(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;

	(void)state;
	fs_detect_settings_default(&s);
	det = new_detector(&s, &c);
	add_fanout(det, "10.1.66.6", 445, 0, 99);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 0);
	fs_detect_free(det);
}

static void
fanout_at_threshold_raises_one_alert(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	char subject[FS_ADDR_STRLEN];

	(void)state;
	fs_detect_settings_default(&s);
	det = new_detector(&s, &c);
	add_fanout(det, "10.1.66.6", 445, 0, 100);
	/* A second flow to a known destination adds nothing distinct. */
	add_fanout(det, "10.1.66.6", 445, 0, 1);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].rule, FS_RULE_FANOUT);
	assert_int_equal(c.alerts[0].state, FS_ALERT_RAISED);
	assert_string_equal(fs_addr_format(&c.alerts[0].subject, subject), "10.1.66.6");
	assert_int_equal(c.alerts[0].port, 445);
	assert_int_equal(c.alerts[0].observed, 100);
	assert_int_equal(c.alerts[0].threshold, 100);
	assert_int_equal(c.alerts[0].window_s, 60);
	assert_int_equal(c.alerts[0].flows, 101);
	assert_int_equal(c.alerts[0].proto, 6);
	assert_int_equal(c.alerts[0].first_seen_ms, BASE_MS);
	assert_int_equal(c.alerts[0].ntop_addrs, FS_ALERT_TOP);
	/* 172.17.0.1 got two flows, so it leads the evidence. */
	assert_string_equal(fs_addr_format(&c.alerts[0].top_addrs[0].addr, subject), "172.17.0.1");
	assert_int_equal(c.alerts[0].top_addrs[0].flows, 2);
	assert_int_equal(c.alerts[0].ntop_ports, 1);
	assert_int_equal(c.alerts[0].top_ports[0].port, 445);
	assert_string_equal(c.alerts[0].id, "fanout:10.1.66.6:445:1699999200");
	fs_detect_free(det);
}

/*
 * A fan-out seen by two exporters: the alert names the one that reported
 * most of the flows, with its names and input interface.  A fan-in names
 * the output interface, the side of the host that receives.
 */
static void
alerts_name_where_flows_were_seen(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	char text[FS_ADDR_STRLEN];

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_FANOUT] = (struct fs_detect_rule_settings){ 100, 60 };
	s.rules[FS_RULE_FANIN] = (struct fs_detect_rule_settings){ 100, 60 };
	det = new_detector(&s, &c);
	for (int i = 0; i < 150; i++) {
		char addr[32];
		struct fs_flow out, in;

		snprintf(addr, sizeof(addr), "172.17.%d.%d", i / 250, i % 250 + 1);
		out = fs_test_tcp_flow("10.1.66.6", addr, 445, 0x02, 52, 1);
		/* 100 flows come through edge1 interface 7, 50 through 192.0.2.2 without names. */
		assert_int_equal(fs_addr_parse(&out.exporter_addr, i < 100 ? "192.0.2.1" : "192.0.2.2"), 0);
		out.in_if = i < 100 ? 7 : 9;
		out.out_if = 3;
		/* Received within one 10 s bucket, read in one flush as a backlog after a restart. */
		out.time_received_ns = (BASE_MS + i * 60) * 1000000;
		out.present |= FS_F_IN_IF | FS_F_OUT_IF;
		if (i < 100) {
			snprintf(out.exporter_name, sizeof(out.exporter_name), "edge1.par");
			snprintf(out.exporter_site, sizeof(out.exporter_site), "par1");
			snprintf(out.in_if_name, sizeof(out.in_if_name), "xe-0/0/7");
			out.present |= FS_F_EXPORTER_NAME | FS_F_EXPORTER_SITE | FS_F_IN_IF_NAME;
		}
		assert_int_equal(fs_detect_add(det, &out), 0);
		in = fs_test_tcp_flow(addr, "10.9.9.9", 80, 0x1a, 520, 5);
		assert_int_equal(fs_addr_parse(&in.exporter_addr, "2001:db8::1"), 0);
		in.in_if = 1;
		in.out_if = 12;
		in.present |= FS_F_IN_IF | FS_F_OUT_IF;
		assert_int_equal(fs_detect_add(det, &in), 0);
	}
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 2);
	for (int i = 0; i < 2; i++) {
		const struct fs_alert *a = &c.alerts[i];

		if (a->rule == FS_RULE_FANOUT) {
			assert_string_equal(fs_addr_format(&a->exporter, text), "192.0.2.1");
			assert_string_equal(a->exporter_name, "edge1.par");
			assert_string_equal(a->exporter_site, "par1");
			assert_true(a->has_interface);
			assert_int_equal(a->interface, 7);
			assert_string_equal(a->interface_name, "xe-0/0/7");
			assert_int_equal(a->flows_first_ms, BASE_MS);
			assert_int_equal(a->flows_last_ms, BASE_MS + 149 * 60);
		} else {
			assert_int_equal(a->rule, FS_RULE_FANIN);
			assert_string_equal(fs_addr_format(&a->exporter, text), "2001:db8::1");
			assert_string_equal(a->exporter_name, "");
			assert_true(a->has_interface);
			assert_int_equal(a->interface, 12);
			/* These flows carry no receive time. */
			assert_int_equal(a->flows_first_ms, 0);
		}
	}
	fs_detect_free(det);
}

/* Adds a SYN flow from 10.1.66.9 to each of count addresses from first on, reported by exporter via ifindex. */
static void
add_fanout_via(struct fs_detect *det, const char *exporter, uint32_t ifindex, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		char dst[32];
		struct fs_flow flow;

		snprintf(dst, sizeof(dst), "172.17.%d.%d", i / 250, i % 250 + 1);
		flow = fs_test_tcp_flow("10.1.66.9", dst, 445, 0x02, 52, 1);
		assert_int_equal(fs_addr_parse(&flow.exporter_addr, exporter), 0);
		flow.in_if = ifindex;
		flow.present |= FS_F_IN_IF;
		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
}

/*
 * One exporter reports 150 destinations first; a second reports the same
 * 150 and 150 more, 300 of the 450 flows.  The alert names the second, as
 * it does for 400 flows to 20 destinations against 220 to 220.
 * Past the table of places, flows are counted and their alerts name none.
 */
static void
alert_names_exporter_of_most_flows(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	struct fs_detect_stats st;
	char text[FS_ADDR_STRLEN];

	(void)state;
	fanout_only(&s);
	s.capacity = 65536;
	det = new_detector(&s, &c);
	add_fanout_via(det, "192.0.2.2", 3, 0, 150);
	add_fanout_via(det, "192.0.2.3", 3, 0, 300);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(fs_addr_format(&c.alerts[0].exporter, text), "192.0.2.3");
	fs_detect_free(det);

	/* 220 destinations one flow each by one exporter, 20 destinations 20 flows each by another. */
	assert_int_equal(fs_test_redis_flushdb(ctx), 0);
	det = new_detector(&s, &c);
	add_fanout_via(det, "192.0.2.5", 3, 1000, 220);
	for (int i = 0; i < 20; i++)
		add_fanout_via(det, "192.0.2.6", 3, 2000, 20);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(fs_addr_format(&c.alerts[0].exporter, text), "192.0.2.6");

	/* 20,000 interfaces of one exporter, one flow each, fill the table of places. */
	for (uint32_t i = 1; i <= 20000; i++)
		add_fanout_via(det, "192.0.2.4", i, 400 + (int)(i % 100), 1);
	fs_detect_stats(det, &st);
	assert_true(st.places_full > 0);
	fs_detect_free(det);
}

static void
fanout_counts_each_port_alone(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;

	(void)state;
	fanout_only(&s);
	det = new_detector(&s, &c);
	add_fanout(det, "10.1.66.6", 445, 0, 60);
	add_fanout(det, "10.1.66.6", 139, 0, 60);
	add_fanout(det, "10.1.66.6", 80, 0, 500);   /* not a watched port */
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 0);
	fs_detect_free(det);
}

/* 60 destinations now and 40 more 50 s later are in one 60 s window. */
static void
fanout_window_last_bucket_counts(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;

	(void)state;
	fs_detect_settings_default(&s);
	det = new_detector(&s, &c);
	add_fanout(det, "10.1.66.6", 445, 0, 60);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	add_fanout(det, "10.1.66.6", 445, 60, 40);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS + 59999), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].observed, 100);
	assert_int_equal(c.alerts[0].first_seen_ms, BASE_MS + 59999);
	fs_detect_free(det);
}

/* 60 s later the first bucket has left the window. */
static void
fanout_window_edge_drops_old_bucket(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;

	(void)state;
	fs_detect_settings_default(&s);
	det = new_detector(&s, &c);
	add_fanout(det, "10.1.66.6", 445, 0, 60);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	add_fanout(det, "10.1.66.6", 445, 60, 40);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS + 60000), 0);
	assert_int_equal(c.n, 0);
	fs_detect_free(det);
}

static void
fanout_allowlisted_source_is_ignored(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	struct fs_detect_stats st;
	char err[128];

	(void)state;
	fs_detect_settings_default(&s);
	assert_int_equal(fs_detect_prefixes_parse(&s.allowlist, "192.0.2.1, 10.1.64.0/22", err,
						  sizeof(err)), 0);
	det = new_detector(&s, &c);
	add_fanout(det, "10.1.66.6", 445, 0, 150);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 0);
	fs_detect_stats(det, &st);
	assert_int_equal(st.allowlisted, 150);
	fs_detect_free(det);
}

static void
fanout_allowlist_filter(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	struct fs_detect_stats st;
	struct fs_filter_error ferr;

	(void)state;
	fanout_only(&s);
	assert_int_equal(fs_filter_compile(&s.allowlist_filter, "src host 10.1.66.6 and dst port 139",
					   NULL, &ferr), 0);
	det = new_detector(&s, &c);
	add_fanout(det, "10.1.66.6", 139, 0, 150);
	add_fanout(det, "10.1.66.7", 139, 0, 150);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	/* Only the host the filter does not name is reported. */
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].subject.bytes[3], 7);
	fs_detect_stats(det, &st);
	assert_int_equal(st.allowlisted, 150);
	fs_detect_free(det);
	fs_detect_settings_release(&s);
}

/* ---- scans ---- */

static void
syn_scan_threshold_edges(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	const struct fs_alert *alert;

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_SYN_SCAN].threshold = 200;
	det = new_detector(&s, &c);
	for (int i = 0; i < 199; i++) {
		struct fs_flow flow = fs_test_tcp_flow("10.0.0.7", "198.51.100.9",
						       (uint16_t)(1000 + i % 3), 0x02, 40, 1);

		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	/* SYN+ACK, RST and SYN+FIN flows are no probes. */
	for (int flags = 0x12; flags <= 0x16; flags += 2) {
		struct fs_flow flow = fs_test_tcp_flow("10.0.0.7", "198.51.100.9", 80,
						       (uint8_t)flags, 40, 1);

		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	alert = cross_threshold(det, &c,
				fs_test_tcp_flow("10.0.0.7", "198.51.100.9", 1000, 0x02, 40, 1),
				BASE_MS + 1000, FS_RULE_SYN_SCAN, 200);
	assert_string_equal(alert->metric, "syn_only_flows");
	fs_detect_free(det);
}

static void
port_scan_threshold_edges(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	const struct fs_alert *alert;
	char peer[FS_ADDR_STRLEN];

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_PORT_SCAN].threshold = 100;
	det = new_detector(&s, &c);
	for (int p = 1; p <= 99; p++) {
		struct fs_flow flow = fs_test_tcp_flow("10.0.0.8", "198.51.100.20", (uint16_t)p,
						       0x02, 40, 1);

		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	/* Flows of 3 packets and more are no probes. */
	for (int p = 200; p < 300; p++) {
		struct fs_flow flow = fs_test_tcp_flow("10.0.0.8", "198.51.100.20", (uint16_t)p,
						       0x1b, 400, 3);

		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	alert = cross_threshold(det, &c,
				fs_test_tcp_flow("10.0.0.8", "198.51.100.20", 100, 0x02, 40, 2),
				BASE_MS + 1000, FS_RULE_PORT_SCAN, 100);
	assert_string_equal(fs_addr_format(&alert->peer, peer), "198.51.100.20");
	fs_detect_free(det);
}

/* ---- outbound SMTP ---- */

static void
smtp_from_non_mail_server(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	const struct fs_alert *alert;
	char err[128];

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_SMTP].threshold = 10;
	s.rules[FS_RULE_SMTP].window_s = 300;
	assert_int_equal(fs_detect_prefixes_parse(&s.mail_servers, "192.0.2.25", err, sizeof(err)), 0);
	assert_int_equal(fs_detect_prefixes_parse(&s.home_networks, "10.0.0.0/8,192.0.2.0/24", err,
						  sizeof(err)), 0);
	det = new_detector(&s, &c);
	for (int i = 0; i < 9; i++) {
		struct fs_flow flow = fs_test_tcp_flow("10.0.0.5", "203.0.113.7", 25, 0x1b, 900, 8);

		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	for (int i = 0; i < 50; i++) {
		/* the mail server itself, and a host sending to an internal relay */
		struct fs_flow a = fs_test_tcp_flow("192.0.2.25", "203.0.113.7", 25, 0x1b, 900, 8);
		struct fs_flow b = fs_test_tcp_flow("10.0.0.6", "192.0.2.25", 25, 0x1b, 900, 8);

		assert_int_equal(fs_detect_add(det, &a), 0);
		assert_int_equal(fs_detect_add(det, &b), 0);
	}
	alert = cross_threshold(det, &c,
				fs_test_tcp_flow("10.0.0.5", "203.0.113.8", 25, 0x1b, 900, 8),
				BASE_MS + 299000, FS_RULE_SMTP, 10);
	assert_int_equal(alert->port, 25);
	fs_detect_free(det);
}

static void
smtp_off_without_mail_servers(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_SMTP].threshold = 1;
	det = new_detector(&s, &c);
	for (int i = 0; i < 20; i++) {
		struct fs_flow flow = fs_test_tcp_flow("10.0.0.5", "203.0.113.7", 25, 0x1b, 900, 8);

		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 0);
	fs_detect_free(det);
}

/* ---- volume and fan-in ---- */

static void
volume_both_directions(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	char subject[FS_ADDR_STRLEN];

	(void)state;
	rules_off(&s);
	/* 1000 bytes per second over 10 s: 9999 bytes stay under, 10000 reach it. */
	s.rules[FS_RULE_VOLUME_SRC] = (struct fs_detect_rule_settings){ 1000, 10 };
	s.rules[FS_RULE_VOLUME_DST] = (struct fs_detect_rule_settings){ 1000, 10 };
	det = new_detector(&s, &c);
	struct fs_flow a = fs_test_tcp_flow("10.0.0.1", "10.0.0.2", 443, 0x1b, 9999, 10);

	assert_int_equal(fs_detect_add(det, &a), 0);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(c.n, 0);

	struct fs_flow b = fs_test_tcp_flow("10.0.0.1", "10.0.0.3", 443, 0x1b, 1, 1);

	assert_int_equal(fs_detect_add(det, &b), 0);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS + 9000), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.alerts[0].rule, FS_RULE_VOLUME_SRC);
	assert_int_equal(c.alerts[0].observed, 1000);
	assert_string_equal(c.alerts[0].metric, "bytes_per_s");
	assert_string_equal(fs_addr_format(&c.alerts[0].subject, subject), "10.0.0.1");

	struct fs_flow d = fs_test_tcp_flow("10.0.0.9", "10.0.0.2", 443, 0x1b, 1, 1);

	assert_int_equal(fs_detect_add(det, &d), 0);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS + 9500), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.alerts[1].rule, FS_RULE_VOLUME_DST);
	assert_string_equal(fs_addr_format(&c.alerts[1].subject, subject), "10.0.0.2");
	fs_detect_free(det);
}

static void
fanin_threshold_edges(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	const struct fs_alert *alert;

	(void)state;
	rules_off(&s);
	s.rules[FS_RULE_FANIN].threshold = 50;
	det = new_detector(&s, &c);
	for (int i = 1; i <= 49; i++) {
		char src[32];
		struct fs_flow flow;

		snprintf(src, sizeof(src), "203.0.113.%d", i);
		flow = fs_test_tcp_flow(src, "10.0.0.80", 80, 0x02, 40, 1);
		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	alert = cross_threshold(det, &c,
				fs_test_tcp_flow("203.0.113.50", "10.0.0.80", 80, 0x02, 40, 1),
				BASE_MS + 100, FS_RULE_FANIN, 50);
	assert_string_equal(alert->metric, "distinct_sources");
	fs_detect_free(det);
}

/* ---- settings, table, Redis commands ---- */

static void
prefixes_parse_and_match(void **state)
{
	struct fs_detect_prefixes p;
	struct fs_addr a;
	char err[128];

	(void)state;
	assert_int_equal(fs_detect_prefixes_parse(&p, "10.1.0.0/20, 2001:db8::/33,192.0.2.1", err,
						  sizeof(err)), 0);
	assert_int_equal(p.count, 3);
	fs_addr_parse(&a, "10.1.15.255");
	assert_true(fs_detect_prefixes_match(&p, &a));
	fs_addr_parse(&a, "10.1.16.0");
	assert_false(fs_detect_prefixes_match(&p, &a));
	fs_addr_parse(&a, "2001:db8:7fff::1");
	assert_true(fs_detect_prefixes_match(&p, &a));
	fs_addr_parse(&a, "2001:db8:8000::1");
	assert_false(fs_detect_prefixes_match(&p, &a));
	fs_addr_parse(&a, "192.0.2.1");
	assert_true(fs_detect_prefixes_match(&p, &a));
	assert_int_equal(fs_detect_prefixes_parse(&p, "10.0.0.0/33", err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "10.0.0.0"));
	assert_int_equal(fs_detect_prefixes_parse(&p, "mail.example", err, sizeof(err)), FS_ERR_INVALID);
	/* Host bits past the length are an error naming the prefix meant, not masked. */
	assert_int_equal(fs_detect_prefixes_parse(&p, "10.1.2.3/20", err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_string_equal(err, "'10.1.2.3/20': host bits set; did you mean 10.1.0.0/20?");
	assert_int_equal(p.count, 0);
}

static void
full_table_rejects_whole_flow(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;

	(void)state;
	fs_detect_settings_default(&s);
	s.capacity = 10;
	det = new_detector(&s, &c);
	/* Each flow to a new host on 445 takes fanout, syn_scan, port_scan, two volume and fanin entries. */
	add_fanout(det, "10.1.66.6", 445, 0, 1);
	assert_int_equal(fs_detect_count(det), 6);
	struct fs_flow flow = fs_test_tcp_flow("10.1.66.6", "172.17.9.9", 445, 0x02, 52, 1);

	assert_int_equal(fs_detect_add(det, &flow), FS_ERR_FULL);
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	assert_int_equal(fs_detect_count(det), 0);
	assert_int_equal(fs_detect_add(det, &flow), 0);
	fs_detect_free(det);
}

/*
 * 10,000 flows between 100 clients and 20 servers on port 443 with every
 * default rule on: the command count follows the busy hosts, not the flows.
 */
static void
commands_per_thousand_flows(void **state)
{
	struct fs_detect_settings s;
	struct fs_test_alerts c;
	struct fs_detect *det;
	struct fs_detect_stats st;
	double per_thousand;

	(void)state;
	fs_detect_settings_default(&s);
	det = new_detector(&s, &c);
	for (int i = 0; i < 10000; i++) {
		char src[32], dst[32];
		struct fs_flow flow;

		snprintf(src, sizeof(src), "10.2.0.%d", i % 100 + 1);
		snprintf(dst, sizeof(dst), "198.51.100.%d", i % 20 + 1);
		flow = fs_test_tcp_flow(src, dst, 443, 0x1b, 1500, 5);
		assert_int_equal(fs_detect_add(det, &flow), 0);
	}
	assert_int_equal(fs_detect_flush(det, ctx, BASE_MS), 0);
	fs_detect_stats(det, &st);
	per_thousand = (double)st.commands * 1000.0 / 10000.0;
	printf("detect: %llu Redis commands for 10000 flows (%.1f per 1,000 flows)\n",
	       (unsigned long long)st.commands, per_thousand);
	/* 100 volume_src + 20 volume_dst + 20 fanin groups, 3 commands each, MULTI, EXEC, clear. */
	assert_int_equal(st.commands, 140 * 3 + 3);
	assert_int_equal(c.n, 0);
	fs_detect_free(det);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(fanout_just_under_threshold, flush_db),
		cmocka_unit_test_setup(fanout_at_threshold_raises_one_alert, flush_db),
		cmocka_unit_test_setup(fanout_counts_each_port_alone, flush_db),
		cmocka_unit_test_setup(fanout_window_last_bucket_counts, flush_db),
		cmocka_unit_test_setup(fanout_window_edge_drops_old_bucket, flush_db),
		cmocka_unit_test_setup(fanout_allowlisted_source_is_ignored, flush_db),
		cmocka_unit_test_setup(fanout_allowlist_filter, flush_db),
		cmocka_unit_test_setup(syn_scan_threshold_edges, flush_db),
		cmocka_unit_test_setup(port_scan_threshold_edges, flush_db),
		cmocka_unit_test_setup(smtp_from_non_mail_server, flush_db),
		cmocka_unit_test_setup(smtp_off_without_mail_servers, flush_db),
		cmocka_unit_test_setup(volume_both_directions, flush_db),
		cmocka_unit_test_setup(fanin_threshold_edges, flush_db),
		cmocka_unit_test(prefixes_parse_and_match),
		cmocka_unit_test_setup(alerts_name_where_flows_were_seen, flush_db),
		cmocka_unit_test_setup(alert_names_exporter_of_most_flows, flush_db),
		cmocka_unit_test_setup(full_table_rejects_whole_flow, flush_db),
		cmocka_unit_test_setup(commands_per_thousand_flows, flush_db),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
