/*
 * test_template_codec.c - pkg/decode/template_codec.h (the shared-template
 * key and value encoding) and the template cache observer that feeds it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/result.h"
#include "decode/template_cache.h"
#include "decode/template_codec.h"

/* Field specifiers: sourceIPv4Address/4, octetDeltaCount/8, enterprise 7/2 (PEN 9). */
static const uint8_t wire_ipfix[] = {
	0x00, 0x08, 0x00, 0x04,
	0x00, 0x01, 0x00, 0x08,
	0x80, 0x07, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09,
};

static struct fs_template_key
make_key(const char *exporter, uint16_t port, uint16_t template_id)
{
	struct fs_template_key key;

	memset(&key, 0, sizeof(key));
	assert_int_equal(fs_addr_parse(&key.exporter, exporter), 0);
	key.exporter_port = port;
	key.flow_type = FS_FLOW_IPFIX;
	key.domain = 70000;
	key.template_id = template_id;
	return key;
}

static const struct fs_template *
learn(struct fs_template_cache *cache, const struct fs_template_key *key)
{
	struct fs_template_spec spec = {
		.enterprise_bit = true,
		.field_count = 3,
		.wire = wire_ipfix,
		.wire_len = sizeof(wire_ipfix),
	};
	char reason[128];

	assert_int_equal(fs_template_cache_learn(cache, key, &spec, reason, sizeof(reason)),
			 FS_TEMPLATE_ADDED);
	return fs_template_cache_find(cache, key);
}

static void
key_round_trip_v4_and_v6(void **state)
{
	const char *addresses[] = { "192.0.2.1", "2001:db8::17" };
	const size_t lengths[] = { 15, 27 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct fs_template_key key = make_key(addresses[i], 4739, 300), back;
		uint8_t bytes[FS_TEMPLATE_KEY_MAX_LEN + 1];
		int n = fs_template_key_encode(&key, bytes, sizeof(bytes));

		assert_int_equal(n, (int)lengths[i]);
		assert_int_equal(fs_template_key_decode(bytes, (size_t)n, &back), 0);
		assert_true(fs_addr_equal(&back.exporter, &key.exporter));
		assert_int_equal(back.exporter_port, 4739);
		assert_int_equal(back.flow_type, FS_FLOW_IPFIX);
		assert_int_equal(back.domain, 70000);
		assert_int_equal(back.template_id, 300);
		/* Every shorter prefix is truncated, one more byte is invalid. */
		for (int len = 0; len < n; len++)
			assert_int_equal(fs_template_key_decode(bytes, (size_t)len, &back),
					 FS_ERR_TRUNCATED);
		bytes[n] = 0;
		assert_int_equal(fs_template_key_decode(bytes, (size_t)n + 1, &back), FS_ERR_INVALID);
	}
}

static void
key_rejects_bad_fields(void **state)
{
	struct fs_template_key key = make_key("192.0.2.1", 0, 256), back;
	uint8_t bytes[FS_TEMPLATE_KEY_MAX_LEN];
	int n = fs_template_key_encode(&key, bytes, sizeof(bytes));

	(void)state;
	bytes[0] = 2;
	assert_int_equal(fs_template_key_decode(bytes, (size_t)n, &back), FS_ERR_UNSUPPORTED);
	bytes[0] = 1;
	bytes[1] = 0; /* NetFlow v5 has no templates */
	assert_int_equal(fs_template_key_decode(bytes, (size_t)n, &back), FS_ERR_INVALID);
	bytes[1] = FS_FLOW_IPFIX;
	bytes[2] = 5;
	assert_int_equal(fs_template_key_decode(bytes, (size_t)n, &back), FS_ERR_INVALID);
}

static void
value_round_trip_through_cache(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_cache *other = fs_template_cache_new(16, 64);
	struct fs_template_key key = make_key("192.0.2.1", 0, 300);
	const struct fs_template *tpl = learn(cache, &key);
	uint8_t bytes[FS_TEMPLATE_VALUE_MAX_LEN];
	struct fs_template_value value;
	char reason[128];
	int n;

	(void)state;
	n = fs_template_value_encode(tpl, 0x0102030405060708ull, bytes, sizeof(bytes));
	assert_int_equal(n, FS_TEMPLATE_VALUE_HEADER_LEN + (int)sizeof(wire_ipfix));
	assert_int_equal(fs_template_value_decode(bytes, (size_t)n, FS_FLOW_IPFIX, &value), 0);
	assert_int_equal(value.origin, 0x0102030405060708ull);
	assert_int_equal(value.spec.field_count, 3);
	assert_false(value.spec.options);
	assert_true(value.spec.enterprise_bit);
	assert_int_equal(value.spec.wire_len, sizeof(wire_ipfix));
	assert_memory_equal(value.spec.wire, wire_ipfix, sizeof(wire_ipfix));

	/* Another cache learns the same template from the value. */
	assert_int_equal(fs_template_cache_learn(other, &key, &value.spec, reason, sizeof(reason)),
			 FS_TEMPLATE_ADDED);
	tpl = fs_template_cache_find(other, &key);
	assert_non_null(tpl);
	assert_int_equal(tpl->min_record_len, 14);

	/* Too small an output buffer is rejected, not overrun. */
	assert_int_equal(fs_template_value_encode(tpl, 1, bytes, (size_t)n - 1), FS_ERR_FULL);
	fs_template_cache_free(cache);
	fs_template_cache_free(other);
}

static void
value_rejects_damage(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(16, 64);
	struct fs_template_key key = make_key("192.0.2.1", 0, 300);
	uint8_t bytes[FS_TEMPLATE_VALUE_MAX_LEN + 1];
	struct fs_template_value value;
	int n = fs_template_value_encode(learn(cache, &key), 1, bytes, sizeof(bytes));

	(void)state;
	for (int len = 0; len < n; len++)
		assert_int_equal(fs_template_value_decode(bytes, (size_t)len, FS_FLOW_IPFIX, &value),
				 FS_ERR_TRUNCATED);
	bytes[n] = 0;
	assert_int_equal(fs_template_value_decode(bytes, (size_t)n + 1, FS_FLOW_IPFIX, &value),
			 FS_ERR_INVALID);
	bytes[1] = 0x04; /* unknown flag */
	assert_int_equal(fs_template_value_decode(bytes, (size_t)n, FS_FLOW_IPFIX, &value),
			 FS_ERR_INVALID);
	bytes[1] = 0;
	bytes[5] = 4;    /* four scope fields of three */
	assert_int_equal(fs_template_value_decode(bytes, (size_t)n, FS_FLOW_IPFIX, &value),
			 FS_ERR_INVALID);
	bytes[5] = 0;
	bytes[0] = 9;
	assert_int_equal(fs_template_value_decode(bytes, (size_t)n, FS_FLOW_IPFIX, &value),
			 FS_ERR_UNSUPPORTED);
	fs_template_cache_free(cache);
}

static void
withdrawal_round_trip(void **state)
{
	uint8_t bytes[FS_TEMPLATE_VALUE_HEADER_LEN + 4];
	struct fs_template_value value;
	int n = fs_template_withdrawal_encode(42, bytes, sizeof(bytes));

	(void)state;
	assert_int_equal(n, FS_TEMPLATE_VALUE_HEADER_LEN);
	assert_int_equal(fs_template_value_decode(bytes, (size_t)n, FS_FLOW_IPFIX, &value), 0);
	assert_true(value.withdrawn);
	assert_int_equal(value.origin, 42);
	assert_int_equal(value.spec.field_count, 0);
	/* A withdrawal that declares fields contradicts itself. */
	bytes[3] = 1;
	assert_int_equal(fs_template_value_decode(bytes, (size_t)n, FS_FLOW_IPFIX, &value),
			 FS_ERR_INVALID);
	bytes[3] = 0;
	/* The options flag on a withdrawal would give it a second encoding (found by fuzzing). */
	bytes[1] = 0x03;
	assert_int_equal(fs_template_value_decode(bytes, (size_t)n, FS_FLOW_IPFIX, &value),
			 FS_ERR_INVALID);
	assert_int_equal(fs_template_withdrawal_encode(42, bytes, FS_TEMPLATE_VALUE_HEADER_LEN - 1),
			 FS_ERR_FULL);
}

struct change_log {
	int learned;
	int withdrawn;
	uint16_t last_id;
};

static void
note_change(const struct fs_template *tpl, enum fs_template_change change, void *opaque)
{
	struct change_log *log = opaque;

	if (change == FS_TEMPLATE_CHANGE_LEARNED)
		log->learned++;
	else
		log->withdrawn++;
	log->last_id = tpl->key.template_id;
}

static void
observer_sees_learn_and_withdraw(void **state)
{
	struct fs_template_cache *cache = fs_template_cache_new(2, 64);
	struct fs_template_key a = make_key("192.0.2.1", 0, 300);
	struct fs_template_key b = make_key("192.0.2.1", 0, 301);
	struct fs_template_key c = make_key("192.0.2.1", 0, 302);
	struct fs_template_spec spec = {
		.enterprise_bit = true,
		.field_count = 3,
		.wire = wire_ipfix,
		.wire_len = sizeof(wire_ipfix),
	};
	struct change_log log = { 0 };
	char reason[128];

	(void)state;
	fs_template_cache_set_observer(cache, note_change, &log);
	learn(cache, &a);
	assert_int_equal(log.learned, 1);
	assert_int_equal(log.last_id, 300);
	/* A refresh with the same bytes is no change. */
	assert_int_equal(fs_template_cache_learn(cache, &a, &spec, reason, sizeof(reason)),
			 FS_TEMPLATE_UNCHANGED);
	assert_int_equal(log.learned, 1);
	learn(cache, &b);
	/* The cache keeps at most two: learning a third evicts one, which is not a withdrawal. */
	learn(cache, &c);
	assert_int_equal(log.learned, 3);
	assert_int_equal(log.withdrawn, 0);

	assert_int_equal(fs_template_cache_withdraw(cache, &c), 0);
	assert_int_equal(log.withdrawn, 1);
	assert_int_equal(log.last_id, 302);
	learn(cache, &a);
	assert_int_equal(fs_template_cache_withdraw_all(cache, &a, false), 2);
	assert_int_equal(log.withdrawn, 3);
	fs_template_cache_free(cache);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_round_trip_v4_and_v6),
		cmocka_unit_test(key_rejects_bad_fields),
		cmocka_unit_test(value_round_trip_through_cache),
		cmocka_unit_test(value_rejects_damage),
		cmocka_unit_test(withdrawal_round_trip),
		cmocka_unit_test(observer_sees_learn_and_withdraw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
