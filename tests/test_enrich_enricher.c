/*
 * test_enrich_enricher.c - every enrich source applied to flows, against
 * real MaxMind DB files (built by tests/data/make-mmdb.pl with Debian's
 * libmaxmind-db-writer-perl), real map files, and reloads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/result.h"
#include "enrich/enricher.h"
#include "enrich/geoip.h"
#include "enrich/if_map.h"
#include "support/text_file.h"

struct fixture {
	char dir[64];
	char city[128], asn[128], map[128], prefixes[128], services[128];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char command[512];

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/fstest-enrich-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->city, sizeof(fx->city), "%s/city.mmdb", fx->dir);
	snprintf(fx->asn, sizeof(fx->asn), "%s/asn.mmdb", fx->dir);
	snprintf(fx->map, sizeof(fx->map), "%s/interfaces.map", fx->dir);
	snprintf(fx->prefixes, sizeof(fx->prefixes), "%s/prefixes", fx->dir);
	snprintf(fx->services, sizeof(fx->services), "%s/services", fx->dir);
	*state = fx;
	if (system("perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null") != 0) {
		print_message("skipped: needs Debian's libmaxmind-db-writer-perl\n");
		return 0;
	}
	snprintf(command, sizeof(command), "perl tests/data/make-mmdb.pl %s %s", fx->city,
		 fx->asn);
	assert_int_equal(system(command), 0);
	fs_test_write_file(fx->map,
		   "exporter 192.0.2.250 name=edge1.par site=par1\n"
		   "interface 192.0.2.250 3 name=xe-0/0/1 description=\"transit: example\" speed=10G\n"
		   "interface 192.0.2.250 4 name=ae0\n");
	fs_test_write_file(fx->prefixes,
		   "192.0.2.0/24 site=par role=dc\n"
		   "198.51.100.0/25 customer=acme\n");
	fs_test_write_file(fx->services,
		   "https 443/tcp\nhttps 443/udp http3\ndomain 53/udp\nhigh 50000/tcp\n");
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char command[128];

	snprintf(command, sizeof(command), "rm -rf %s", fx->dir);
	assert_int_equal(system(command), 0);
	free(fx);
	return 0;
}

static void
skip_without_mmdb(const struct fixture *fx)
{
	if (access(fx->city, R_OK) != 0)
		skip();
}

static void
make_settings(const struct fixture *fx, struct fs_enrich_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->geoip_city = fx->city;
	s->geoip_asn = fx->asn;
	s->interfaces_map = fx->map;
	s->prefixes = fx->prefixes;
	s->home_networks = "192.0.2.0/24,2001:db8:1::/48";
	s->sampling_override = "";
	s->services = fx->services;
}

static void
make_flow(struct fs_flow *f, const char *src, const char *dst)
{
	fs_flow_clear(f);
	f->flow_type = FS_FLOW_NETFLOW_V9;
	assert_int_equal(fs_addr_parse(&f->exporter_addr, "192.0.2.250"), 0);
	assert_int_equal(fs_addr_parse(&f->src_addr, src), 0);
	assert_int_equal(fs_addr_parse(&f->dst_addr, dst), 0);
	f->src_port = 443;
	f->dst_port = 50000;
	f->proto = 6;
	f->in_if = 3;
	f->out_if = 4;
	f->bytes = 1000;
	f->packets = 2;
	f->sampling_rate = 10;
	f->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_SRC_PORT | FS_F_DST_PORT | FS_F_PROTO |
		     FS_F_IN_IF | FS_F_OUT_IF | FS_F_BYTES | FS_F_PACKETS | FS_F_SAMPLING_RATE;
}

static void
test_geoip_lookup(void **state)
{
	struct fixture *fx = *state;
	struct fs_geoip *g = NULL;
	struct fs_geoip_result r;
	struct fs_addr addr;
	char err[256] = "";

	skip_without_mmdb(fx);
	assert_int_equal(fs_geoip_open(fx->city, fx->asn, &g, err, sizeof(err)), 0);
	assert_int_equal(fs_addr_parse(&addr, "198.51.100.7"), 0);
	assert_true(fs_geoip_lookup(g, &addr, &r));
	assert_string_equal(r.country, "DE");
	assert_string_equal(r.city, "M\xc3\xbcnchen");
	assert_int_equal(r.asn, 64501);
	assert_string_equal(r.as_org, "Beispiel \xc3\x9c" "bertragung GmbH");
	assert_int_equal(fs_addr_parse(&addr, "2001:db8:1::5"), 0);
	assert_true(fs_geoip_lookup(g, &addr, &r));
	assert_string_equal(r.country, "US");
	assert_int_equal(r.asn, 4200000001u);
	assert_int_equal(fs_addr_parse(&addr, "203.0.113.1"), 0);
	assert_true(fs_geoip_lookup(g, &addr, &r));
	assert_string_equal(r.country, "JP");
	assert_string_equal(r.city, "");
	assert_int_equal(r.asn, 0);
	assert_int_equal(fs_addr_parse(&addr, "10.0.0.1"), 0);
	assert_false(fs_geoip_lookup(g, &addr, &r));
	fs_geoip_free(g);

	/* A file that is not a MaxMind DB is rejected with its name. */
	assert_int_equal(fs_geoip_open(fx->map, NULL, &g, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, fx->map));
	assert_null(g);
}

static void
test_apply_every_field(void **state)
{
	struct fixture *fx = *state;
	struct fs_enrich_settings settings;
	struct fs_enricher *e = NULL;
	struct fs_enrich_stats stats;
	struct fs_flow f;
	char err[512] = "";

	skip_without_mmdb(fx);
	make_settings(fx, &settings);
	assert_int_equal(fs_enricher_new(&settings, &e, err, sizeof(err)), 0);

	make_flow(&f, "192.0.2.10", "198.51.100.7");
	fs_enricher_apply(e, &f);
	assert_string_equal(f.src_country, "FR");
	assert_string_equal(f.src_city, "Paris");
	assert_int_equal(f.src_as, 64500);
	assert_string_equal(f.src_as_org, "Example Paris Networks");
	assert_string_equal(f.dst_country, "DE");
	assert_string_equal(f.dst_city, "M\xc3\xbcnchen");
	assert_int_equal(f.dst_as, 64501);
	assert_string_equal(f.exporter_name, "edge1.par");
	assert_string_equal(f.exporter_site, "par1");
	assert_string_equal(f.in_if_name, "xe-0/0/1");
	assert_string_equal(f.in_if_description, "transit: example");
	assert_int_equal(f.in_if_speed, 10000000000ull);
	assert_string_equal(f.out_if_name, "ae0");
	assert_false(fs_flow_has(&f, FS_F_OUT_IF_DESCRIPTION));
	assert_false(fs_flow_has(&f, FS_F_OUT_IF_SPEED));
	assert_string_equal(f.src_tags, "site=par,role=dc");
	assert_string_equal(f.dst_tags, "customer=acme");
	assert_int_equal(f.traffic_direction, FS_TRAFFIC_OUTBOUND);
	assert_int_equal(f.bytes, 10000);
	assert_int_equal(f.exported_bytes, 1000);
	assert_int_equal(f.sampling_source, FS_SAMPLING_EXPORTER);
	assert_string_equal(f.src_service, "https");
	assert_false(fs_flow_has(&f, FS_F_DST_SERVICE));   /* 50000 is in the dynamic range */
	assert_true(fs_flow_has(&f, FS_F_SRC_COUNTRY | FS_F_DST_CITY | FS_F_SRC_AS | FS_F_DST_AS |
				    FS_F_EXPORTER_SITE | FS_F_TRAFFIC_DIRECTION));

	/* The other directions, and an address that no source contains. */
	make_flow(&f, "203.0.113.1", "192.0.2.11");
	fs_enricher_apply(e, &f);
	assert_int_equal(f.traffic_direction, FS_TRAFFIC_INBOUND);
	assert_false(fs_flow_has(&f, FS_F_SRC_CITY));
	assert_false(fs_flow_has(&f, FS_F_SRC_AS));
	assert_false(fs_flow_has(&f, FS_F_SRC_TAGS));
	make_flow(&f, "2001:db8:1::1", "192.0.2.11");
	fs_enricher_apply(e, &f);
	assert_int_equal(f.traffic_direction, FS_TRAFFIC_INTERNAL);
	assert_string_equal(f.src_as_org, "Example IPv6 Transit");
	make_flow(&f, "10.0.0.1", "10.0.0.2");
	f.proto = 17;
	f.src_port = 53;
	fs_enricher_apply(e, &f);
	assert_int_equal(f.traffic_direction, FS_TRAFFIC_EXTERNAL);
	assert_false(fs_flow_has(&f, FS_F_SRC_COUNTRY | FS_F_DST_COUNTRY | FS_F_SRC_TAGS));
	assert_string_equal(f.src_service, "domain");

	fs_enricher_stats(e, &stats);
	assert_int_equal(stats.flows, 4);
	assert_int_equal(stats.reloads, 0);
	fs_enricher_free(e);
}

static void
test_as_prefer(void **state)
{
	struct fixture *fx = *state;
	struct fs_enrich_settings settings;
	struct fs_enricher *e = NULL;
	struct fs_flow f;
	char err[512] = "";

	skip_without_mmdb(fx);
	make_settings(fx, &settings);
	assert_int_equal(fs_enricher_new(&settings, &e, err, sizeof(err)), 0);
	make_flow(&f, "192.0.2.10", "198.51.100.7");
	f.src_as = 65000;
	f.dst_as = 0;
	f.present |= FS_F_SRC_AS | FS_F_DST_AS;
	fs_enricher_apply(e, &f);
	assert_int_equal(f.src_as, 65000);                /* the exporter's is kept */
	assert_false(fs_flow_has(&f, FS_F_SRC_AS_ORG));   /* the org is of another AS */
	assert_int_equal(f.dst_as, 64501);                /* 0 means unknown */
	assert_string_equal(f.dst_as_org, "Beispiel \xc3\x9c" "bertragung GmbH");
	fs_enricher_free(e);

	settings.as_prefer = FS_AS_PREFER_GEOIP;
	assert_int_equal(fs_enricher_new(&settings, &e, err, sizeof(err)), 0);
	make_flow(&f, "192.0.2.10", "198.51.100.7");
	f.src_as = 65000;
	f.present |= FS_F_SRC_AS;
	fs_enricher_apply(e, &f);
	assert_int_equal(f.src_as, 64500);
	assert_string_equal(f.src_as_org, "Example Paris Networks");
	fs_enricher_free(e);
}

static void
test_reload_keeps_old_on_error(void **state)
{
	struct fixture *fx = *state;
	struct fs_enrich_settings settings;
	struct fs_enricher *e = NULL;
	struct fs_enrich_stats stats;
	struct fs_flow f;
	char err[512] = "";

	make_settings(fx, &settings);
	settings.geoip_city = "";
	settings.geoip_asn = "";
	assert_int_equal(fs_enricher_new(&settings, &e, err, sizeof(err)), 0);
	assert_int_equal(fs_enricher_reload(e, false), 0);

	/* A valid new version replaces the old one. */
	fs_test_write_file(fx->prefixes, "192.0.2.0/24 site=lyon\n");
	assert_int_equal(fs_enricher_reload(e, false), 1);
	make_flow(&f, "192.0.2.10", "198.51.100.7");
	fs_enricher_apply(e, &f);
	assert_string_equal(f.src_tags, "site=lyon");
	assert_false(fs_flow_has(&f, FS_F_DST_TAGS));

	/* A broken version keeps the old one, and is tried once. */
	fs_test_write_file(fx->prefixes, "192.0.2.0/24 site=nice\n192.0.2.1/24 broken=yes\n");
	fs_test_write_file(fx->map, "exporter 192.0.2.250 name=edge2 colour=red\n");
	assert_int_equal(fs_enricher_reload(e, false), 0);
	assert_int_equal(fs_enricher_reload(e, false), 0);
	fs_enricher_stats(e, &stats);
	assert_int_equal(stats.reload_failures, 2);
	make_flow(&f, "192.0.2.10", "198.51.100.7");
	fs_enricher_apply(e, &f);
	assert_string_equal(f.src_tags, "site=lyon");
	assert_string_equal(f.exporter_name, "edge1.par");

	/* A forced reload (SIGHUP) tries again; the fixed file then loads. */
	assert_int_equal(fs_enricher_reload(e, true), 0);
	fs_test_write_file(fx->map, "exporter 192.0.2.250 name=edge2\n");
	assert_int_equal(fs_enricher_reload(e, false), 1);
	make_flow(&f, "192.0.2.10", "198.51.100.7");
	fs_enricher_apply(e, &f);
	assert_string_equal(f.exporter_name, "edge2");
	assert_false(fs_flow_has(&f, FS_F_IN_IF_NAME));
	fs_enricher_stats(e, &stats);
	assert_int_equal(stats.reloads, 2);
	assert_int_equal(stats.reload_failures, 4);   /* the broken prefix list, not retried */
	fs_enricher_free(e);
}

static void
test_broken_file_at_start(void **state)
{
	struct fixture *fx = *state;
	struct fs_enrich_settings settings;
	struct fs_enricher *e = NULL;
	char err[512] = "";

	make_settings(fx, &settings);
	settings.geoip_city = "";
	settings.geoip_asn = "";
	fs_test_write_file(fx->map, "interface 192.0.2.250 x name=a\n");
	assert_int_equal(fs_enricher_new(&settings, &e, err, sizeof(err)), FS_ERR_INVALID);
	assert_null(e);
	print_message("error: %s\n", err);
	assert_non_null(strstr(err, "interface map"));
	assert_non_null(strstr(err, "line 1"));

	fs_test_write_file(fx->map, "exporter 192.0.2.250 name=a\n");
	settings.home_networks = "10.0.0.0/8,nonsense";
	assert_int_equal(fs_enricher_new(&settings, &e, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "enrich.home.networks: 'nonsense': not an IPv4 or IPv6 address"));
}

static void
test_if_map_parse(void **state)
{
	static const struct {
		const char *text;
		const char *reason;
	} errors[] = {
		{ "router 192.0.2.1 name=a\n", "unknown entry 'router'" },
		{ "exporter edge1 name=a\n", "expected 'exporter ADDRESS ...'" },
		{ "exporter 192.0.2.1 name=a\nexporter 192.0.2.1 name=b\n", "line 2: exporter 192.0.2.1 is listed twice" },
		{ "interface 192.0.2.1 name=a\n", "expected 'interface ADDRESS IFINDEX ...'" },
		{ "interface 192.0.2.1 4294967295 name=a\n", "is not a number below" },
		{ "interface 192.0.2.1 0 name=a\n", "interface index 0 means 'unknown'" },
		{ "interface 192.0.2.1 1 speed=fast\n", "speed 'fast' is not bits per second" },
		{ "interface 192.0.2.1 1 speed=99999999999999999999\n", "is not bits per second" },
		{ "interface 192.0.2.1 1 mtu=1500\n", "unknown interface attribute 'mtu'" },
		{ "interface 192.0.2.1 1 name=\"a\x01\"\n", "line 1: contains the control character 0x01" },
	};
	struct fs_if_map *map = fs_if_map_new();
	const struct fs_if_info *info;
	struct fs_addr addr;
	char err[256] = "";
	static const char good[] =
		"interface 2001:db8::1 7 name=\"very-long-interface-name-that-does-not-fit\" "
		"description=\"caf\xc3\xa9 \xff link\" speed=100M\n";

	(void)state;
	assert_int_equal(fs_if_map_parse(map, good, strlen(good), err, sizeof(err)), 0);
	assert_int_equal(fs_addr_parse(&addr, "2001:db8::1"), 0);
	info = fs_if_map_interface(map, &addr, 7);
	assert_non_null(info);
	assert_string_equal(info->name, "very-long-interface-name-that-d");
	assert_string_equal(info->description, "caf\xc3\xa9 ? link");
	assert_int_equal(info->speed, 100000000);
	assert_null(fs_if_map_interface(map, &addr, 8));
	assert_null(fs_if_map_exporter(map, &addr));
	fs_if_map_free(map);

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		map = fs_if_map_new();
		print_message("case: %s", errors[i].text);
		assert_int_equal(fs_if_map_parse(map, errors[i].text, strlen(errors[i].text), err,
						 sizeof(err)), FS_ERR_INVALID);
		print_message("  error: %s\n", err);
		assert_non_null(strstr(err, errors[i].reason));
		fs_if_map_free(map);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_geoip_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_as_prefer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_old_on_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_file_at_start, setup, teardown),
		cmocka_unit_test(test_if_map_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
