/* test_template_cache.c - pkg/decode/template_cache.h: learn, replace, evict, withdraw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/result.h"
#include "decode/template_cache.h"

/* Field specifiers: sourceIPv4Address/4, octetDeltaCount/8, enterprise 7/2 (PEN 9). */
static const uint8_t wire_ipfix[] = {
	0x00, 0x08, 0x00, 0x04,
	0x00, 0x01, 0x00, 0x08,
	0x80, 0x07, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09,
};

static struct fs_template_spec
spec_ipfix(void)
{
	struct fs_template_spec spec = {
		.enterprise_bit = true,
		.field_count = 3,
		.wire = wire_ipfix,
		.wire_len = sizeof(wire_ipfix),
	};

	return spec;
}

static struct fs_template_key
make_key(const char *exporter, uint32_t domain, uint16_t template_id)
{
	struct fs_template_key key;

	memset(&key, 0, sizeof(key));
	fs_addr_parse(&key.exporter, exporter);
	key.exporter_port = 4739;
	key.flow_type = FS_FLOW_IPFIX;
	key.domain = domain;
	key.template_id = template_id;
	return key;
}

static void
test_learn_and_find(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_key key = make_key("192.0.2.1", 1, 300);
	struct fs_template_spec spec = spec_ipfix();
	const struct fs_template *tpl;
	char reason[128];

	(void)state;
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, reason, sizeof(reason)),
			 FS_TEMPLATE_ADDED);
	tpl = fs_template_cache_find(cache, &key);
	assert_non_null(tpl);
	assert_int_equal(tpl->field_count, 3);
	assert_int_equal(tpl->min_record_len, 14);
	assert_int_equal(tpl->fields[0].target, FS_FT_SRC_V4);
	assert_int_equal(tpl->fields[1].target, FS_FT_BYTES);
	assert_int_equal(tpl->fields[2].id, 7);
	assert_int_equal(tpl->fields[2].pen, 9);
	/* An enterprise element is never mapped, even with an IANA-looking id: it stays raw. */
	assert_int_equal(tpl->fields[2].target, FS_FT_ENTERPRISE);

	key.template_id = 301;
	assert_null(fs_template_cache_find(cache, &key));
	key = make_key("192.0.2.2", 1, 300);
	assert_null(fs_template_cache_find(cache, &key));
	key = make_key("192.0.2.1", 2, 300);
	assert_null(fs_template_cache_find(cache, &key));
	fs_template_cache_free(cache);
}

static void
test_refresh_unchanged(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_key key = make_key("192.0.2.1", 1, 300);
	struct fs_template_spec spec = spec_ipfix();
	const struct fs_template *first;

	(void)state;
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	first = fs_template_cache_find(cache, &key);
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
			 FS_TEMPLATE_UNCHANGED);
	/* Same object: a refresh allocates nothing. */
	assert_ptr_equal(fs_template_cache_find(cache, &key), first);
	assert_int_equal(fs_template_cache_count(cache), 1);
	fs_template_cache_free(cache);
}

static void
test_replace_with_new_layout(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_key key = make_key("192.0.2.1", 1, 300);
	struct fs_template_spec spec = spec_ipfix();
	const struct fs_template *tpl;

	(void)state;
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	spec.field_count = 2;
	spec.wire_len = 8;
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	tpl = fs_template_cache_find(cache, &key);
	assert_non_null(tpl);
	assert_int_equal(tpl->field_count, 2);
	assert_int_equal(fs_template_cache_count(cache), 1);
	fs_template_cache_free(cache);
}

static void
test_oldest_evicted(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(3, 64);
	struct fs_template_spec spec = spec_ipfix();
	struct fs_template_key key;

	(void)state;
	for (uint16_t id = 256; id < 259; id++) {
		key = make_key("192.0.2.1", 1, id);
		assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
				 FS_TEMPLATE_ADDED);
	}
	/* Refreshing 256 makes 257 the oldest. */
	key = make_key("192.0.2.1", 1, 256);
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
			 FS_TEMPLATE_UNCHANGED);
	key = make_key("192.0.2.1", 1, 259);
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	assert_int_equal(fs_template_cache_count(cache), 3);
	key = make_key("192.0.2.1", 1, 257);
	assert_null(fs_template_cache_find(cache, &key));
	key = make_key("192.0.2.1", 1, 256);
	assert_non_null(fs_template_cache_find(cache, &key));
	fs_template_cache_free(cache);
}

static void
test_rejects(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 2);
	struct fs_template_key key = make_key("192.0.2.1", 1, 300);
	struct fs_template_spec spec = spec_ipfix();
	static const uint8_t bad_mac[] = { 0x00, 0x38, 0x00, 0x04 }; /* sourceMacAddress/4 */
	char reason[128];

	(void)state;
	/* 3 fields over a limit of 2. */
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, reason, sizeof(reason)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(reason, "limit"));

	spec.field_count = 1;
	spec.wire = bad_mac;
	spec.wire_len = sizeof(bad_mac);
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, reason, sizeof(reason)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(reason, "element 56"));

	/* Declared fields longer than the bytes given. */
	spec = spec_ipfix();
	spec.field_count = 2;
	spec.wire_len = 6;
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, reason, sizeof(reason)),
			 FS_ERR_INVALID);
	assert_int_equal(fs_template_cache_count(cache), 0);
	fs_template_cache_free(cache);
}

static void
test_withdraw(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_spec spec = spec_ipfix();
	struct fs_template_key key;

	(void)state;
	for (uint16_t id = 256; id < 260; id++) {
		key = make_key("192.0.2.1", 1, id);
		spec.options = id >= 258;
		assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
				 FS_TEMPLATE_ADDED);
	}
	key = make_key("192.0.2.9", 1, 256);
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);

	key = make_key("192.0.2.1", 1, 256);
	assert_int_equal(fs_template_cache_withdraw(cache, &key), 0);
	assert_int_equal(fs_template_cache_withdraw(cache, &key), FS_ERR_NOT_FOUND);
	/* Options templates only: 258 and 259 go, 257 and the other exporter stay. */
	assert_int_equal(fs_template_cache_withdraw_all(cache, &key, true), 2);
	assert_int_equal(fs_template_cache_count(cache), 2);
	key.template_id = 257;
	assert_non_null(fs_template_cache_find(cache, &key));
	fs_template_cache_free(cache);
}

static void
test_sampling_store(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_key key = make_key("192.0.2.1", 1, 300);
	struct fs_template_key other = make_key("192.0.2.1", 2, 300);

	(void)state;
	assert_int_equal(fs_template_cache_sampling(cache, &key), 0);
	fs_template_cache_set_sampling(cache, &key, 1000);
	key.template_id = 400;
	assert_int_equal(fs_template_cache_sampling(cache, &key), 1000);
	assert_int_equal(fs_template_cache_sampling(cache, &other), 0);
	fs_template_cache_free(cache);
}

static void
test_decode_record_varlen(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_key key = make_key("192.0.2.1", 1, 300);
	static const uint8_t wire[] = {
		0x00, 0x08, 0x00, 0x04,  /* sourceIPv4Address/4 */
		0x00, 0x52, 0xff, 0xff,  /* interfaceName, variable length */
		0x00, 0x04, 0x00, 0x01,  /* protocolIdentifier/1 */
	};
	struct fs_template_spec spec = { .field_count = 3, .wire = wire, .wire_len = sizeof(wire) };
	static const uint8_t record[] = { 10, 0, 0, 1, 2, 'e', 't', 17, 0xaa };
	const struct fs_template *tpl;
	struct fs_record rec;
	struct fs_cursor cur;

	(void)state;
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	tpl = fs_template_cache_find(cache, &key);
	assert_int_equal(tpl->min_record_len, 6);
	fs_record_clear(&rec, tpl);
	fs_cursor_init(&cur, record, sizeof(record));
	assert_int_equal(fs_template_decode_record(tpl, &cur, &rec), 0);
	assert_int_equal(rec.flow.proto, 17);
	assert_int_equal(fs_cursor_remaining(&cur), 1);
	/* The next record's variable length (0xaa) runs past the data. */
	assert_int_equal(fs_template_decode_record(tpl, &cur, &rec), FS_ERR_TRUNCATED);
	fs_template_cache_free(cache);
}

/* A new template in a full scope evicts that scope's oldest, never another exporter's. */
static void
test_per_exporter_limit(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(1000, 64);
	struct fs_template_limits limits = { .max_templates_per_exporter = 4 };
	struct fs_template_key other = make_key("192.0.2.1", 1, 300);
	struct fs_template_spec spec = spec_ipfix();

	(void)state;
	fs_template_cache_set_limits(cache, &limits);
	assert_int_equal(fs_template_cache_learn(cache, &other, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	for (uint16_t id = 256; id < 266; id++) {
		struct fs_template_key key = make_key("192.0.2.66", 1, id);

		assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
				 FS_TEMPLATE_ADDED);
	}
	assert_int_equal(fs_template_cache_count(cache), 1 + 4);
	assert_int_equal(fs_template_cache_stats(cache)->evicted_exporter_limit, 6);
	assert_int_equal(fs_template_cache_stats(cache)->evicted_total_limit, 0);
	assert_non_null(fs_template_cache_find(cache, &other));
	/* The newest four of the flooding scope stay. */
	for (uint16_t id = 256; id < 266; id++) {
		struct fs_template_key key = make_key("192.0.2.66", 1, id);

		assert_true((fs_template_cache_find(cache, &key) != NULL) == (id >= 262));
	}
	fs_template_cache_free(cache);
}

/*
 * The per-exporter limit counts an address over all its ports and domains:
 * a flood under a new domain per template evicts only that address's own.
 */
static void
test_per_exporter_limit_spans_domains(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(100000, 64);
	struct fs_template_limits limits = { .max_templates_per_exporter = 8 };
	struct fs_template_key legit = make_key("192.0.2.1", 1, 256);
	struct fs_template_key key;
	struct fs_template_spec spec = spec_ipfix();

	(void)state;
	fs_template_cache_set_limits(cache, &limits);
	assert_int_equal(fs_template_cache_learn(cache, &legit, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	for (uint32_t domain = 0; domain < 1000; domain++) {
		key = make_key("192.0.2.66", domain, 256);
		key.exporter_port = (uint16_t)(1024 + domain % 7);
		assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
				 FS_TEMPLATE_ADDED);
	}
	assert_non_null(fs_template_cache_find(cache, &legit));
	assert_int_equal(fs_template_cache_count(cache), 1 + 8);
	assert_int_equal(fs_template_cache_stats(cache)->evicted_exporter_limit, 1000 - 8);
	assert_int_equal(fs_template_cache_stats(cache)->evicted_total_limit, 0);
	/* The flooding address keeps its newest eight. */
	key = make_key("192.0.2.66", 999, 256);
	key.exporter_port = (uint16_t)(1024 + 999 % 7);
	assert_non_null(fs_template_cache_find(cache, &key));
	key = make_key("192.0.2.66", 991, 256);
	key.exporter_port = (uint16_t)(1024 + 991 % 7);
	assert_null(fs_template_cache_find(cache, &key));

	/* A refresh moves a template to the newest end of its address too. */
	key = make_key("192.0.2.66", 992, 256);
	key.exporter_port = (uint16_t)(1024 + 992 % 7);
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
			 FS_TEMPLATE_UNCHANGED);
	legit.template_id = 257;
	assert_int_equal(fs_template_cache_learn(cache, &legit, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	key.template_id = 300;
	key.domain = 5000;
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	key = make_key("192.0.2.66", 992, 256);
	key.exporter_port = (uint16_t)(1024 + 992 % 7);
	assert_non_null(fs_template_cache_find(cache, &key));
	key = make_key("192.0.2.66", 993, 256);
	key.exporter_port = (uint16_t)(1024 + 993 % 7);
	assert_null(fs_template_cache_find(cache, &key));
	assert_int_equal(fs_template_cache_count(cache), 2 + 8);

	/* Ending one session leaves the address's other sessions counted correctly. */
	key = make_key("192.0.2.66", 0, 0);
	key.exporter_port = (uint16_t)(1024 + 999 % 7);
	assert_true(fs_template_cache_withdraw_session(cache, &key) >= 1);
	for (uint32_t domain = 2000; domain < 2020; domain++) {
		key = make_key("192.0.2.66", domain, 256);
		assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
				 FS_TEMPLATE_ADDED);
	}
	assert_int_equal(fs_template_cache_count(cache), 2 + 8);
	assert_non_null(fs_template_cache_find(cache, &legit));
	fs_template_cache_free(cache);
}

/* Held data sets count per address, so new ports and domains do not widen the share. */
static void
test_pending_limit_per_address(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(64, 64);
	struct fs_pending_limits limits = {
		.max_sets = 100, .max_bytes = 100000,
		.max_sets_per_exporter = 4, .max_bytes_per_exporter = 10000,
	};
	struct fs_pending_meta meta = { .sequence = 1 };
	struct fs_template_key legit = make_key("192.0.2.1", 1, 256);
	struct fs_template_key key;
	struct fs_pending_set *set;
	const uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	fs_template_cache_set_pending_limits(cache, &limits);
	assert_int_equal(fs_template_cache_hold(cache, &legit, &meta, body, sizeof(body)), 0);
	for (uint32_t domain = 0; domain < 50; domain++) {
		key = make_key("192.0.2.66", domain, 256);
		key.exporter_port = (uint16_t)(2000 + domain);
		assert_true(fs_template_cache_hold(cache, &key, &meta, body, sizeof(body)) >= 0);
	}
	assert_int_equal(fs_template_cache_pending_count(cache), 1 + 4);
	set = fs_template_cache_take_pending(cache, &legit);
	assert_non_null(set);
	free(set);
	key = make_key("192.0.2.66", 49, 256);
	key.exporter_port = 2049;
	set = fs_template_cache_take_pending(cache, &key);
	assert_non_null(set);
	free(set);
	key = make_key("192.0.2.66", 45, 256);
	key.exporter_port = 2045;
	assert_null(fs_template_cache_take_pending(cache, &key));
	fs_template_cache_free(cache);
}

/* The byte limit evicts the oldest templates; a template alone over it is rejected. */
static void
test_byte_limit(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(1000, 64);
	struct fs_template_spec spec = spec_ipfix();
	struct fs_template_key first = make_key("192.0.2.1", 1, 256);
	struct fs_template_key key;
	struct fs_template_limits limits;
	uint64_t one;
	char reason[128];

	(void)state;
	assert_int_equal(fs_template_cache_learn(cache, &first, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	one = fs_template_cache_stats(cache)->bytes;
	assert_true(one > 0);
	limits = (struct fs_template_limits){ .max_template_bytes = (uint32_t)(3 * one) };
	fs_template_cache_set_limits(cache, &limits);
	for (uint16_t id = 257; id < 262; id++) {
		key = make_key("192.0.2.1", 1, id);
		assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
				 FS_TEMPLATE_ADDED);
	}
	assert_int_equal(fs_template_cache_count(cache), 3);
	assert_int_equal(fs_template_cache_stats(cache)->bytes, 3 * one);
	assert_int_equal(fs_template_cache_stats(cache)->evicted_total_limit, 3);
	assert_null(fs_template_cache_find(cache, &first));

	limits.max_template_bytes = (uint32_t)one - 1;
	fs_template_cache_set_limits(cache, &limits);
	key = make_key("192.0.2.1", 1, 300);
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, reason, sizeof(reason)),
			 FS_ERR_INVALID);
	assert_non_null(strstr(reason, "max_template_bytes"));
	fs_template_cache_free(cache);
}

/* Withdrawals by scope and by session leave other scopes alone and free what they empty. */
static void
test_withdraw_scopes(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(64, 64);
	struct fs_template_spec spec = spec_ipfix();
	struct fs_template_key key;

	(void)state;
	for (uint32_t domain = 1; domain <= 3; domain++) {
		for (uint16_t id = 256; id < 260; id++) {
			key = make_key("192.0.2.1", domain, id);
			assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0),
					 FS_TEMPLATE_ADDED);
		}
	}
	key = make_key("192.0.2.2", 1, 256);
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	key = make_key("192.0.2.1", 2, 0);
	assert_int_equal(fs_template_cache_withdraw_all(cache, &key, false), 4);
	assert_int_equal(fs_template_cache_withdraw_all(cache, &key, false), 0);
	assert_int_equal(fs_template_cache_count(cache), 9);
	/* The emptied scope can fill again. */
	key.template_id = 256;
	assert_int_equal(fs_template_cache_learn(cache, &key, &spec, NULL, 0), FS_TEMPLATE_ADDED);
	assert_int_equal(fs_template_cache_withdraw_session(cache, &key), 9);
	assert_int_equal(fs_template_cache_count(cache), 1);
	key = make_key("192.0.2.2", 1, 256);
	assert_non_null(fs_template_cache_find(cache, &key));
	fs_template_cache_free(cache);
}

/* Sampler rates: own domain first, then the last one of the same session, never another exporter's. */
static void
test_sampler_lookup(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_key d1 = make_key("192.0.2.1", 1, 0);
	struct fs_template_key d2 = make_key("192.0.2.1", 2, 0);
	struct fs_template_key other = make_key("192.0.2.9", 1, 0);

	(void)state;
	fs_template_cache_set_sampler(cache, &d1, 7, 100);
	assert_int_equal(fs_template_cache_sampler(cache, &d1, 7), 100);
	assert_int_equal(fs_template_cache_sampler(cache, &d2, 7), 100);
	assert_int_equal(fs_template_cache_sampler(cache, &other, 7), 0);
	assert_int_equal(fs_template_cache_sampler(cache, &d1, 8), 0);
	fs_template_cache_set_sampler(cache, &d2, 7, 200);
	assert_int_equal(fs_template_cache_sampler(cache, &d1, 7), 100);
	assert_int_equal(fs_template_cache_sampler(cache, &d2, 7), 200);
	fs_template_cache_free(cache);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_and_find),
		cmocka_unit_test(test_refresh_unchanged),
		cmocka_unit_test(test_replace_with_new_layout),
		cmocka_unit_test(test_oldest_evicted),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_withdraw),
		cmocka_unit_test(test_sampling_store),
		cmocka_unit_test(test_decode_record_varlen),
		cmocka_unit_test(test_per_exporter_limit),
		cmocka_unit_test(test_per_exporter_limit_spans_domains),
		cmocka_unit_test(test_pending_limit_per_address),
		cmocka_unit_test(test_byte_limit),
		cmocka_unit_test(test_withdraw_scopes),
		cmocka_unit_test(test_sampler_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
