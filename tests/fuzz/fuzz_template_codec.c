/*
 * fuzz_template_codec.c - libFuzzer target for the shared-template key and
 * value decoders (decode/template_codec.h).
 *
 * The input's first byte, modulo 28, is the key length; the key follows and
 * the rest is the value.  A key and value that decode are learned into a
 * small template cache (or withdrawn from it), as ingest does with records
 * from the topic, and what was learned must encode back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "decode/template_cache.h"
#include "decode/template_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fs_template_cache *cache;
	static uint8_t encoded[FS_TEMPLATE_VALUE_MAX_LEN];
	struct fs_template_value value;
	struct fs_template_key key;
	const struct fs_template *tpl;
	uint8_t key_bytes[FS_TEMPLATE_KEY_MAX_LEN];
	size_t key_len;
	char reason[160];
	int n;

	if (size == 0)
		return 0;
	if (!cache) {
		fs_log_set_level(FS_LOG_ERR);
		cache = fs_template_cache_new(64, 64);
		if (!cache)
			abort();
	}
	key_len = data[0] % (FS_TEMPLATE_KEY_MAX_LEN + 1);
	if (key_len > size - 1)
		key_len = size - 1;
	if (fs_template_key_decode(data + 1, key_len, &key) < 0)
		return 0;
	n = fs_template_key_encode(&key, key_bytes, sizeof(key_bytes));
	if (n != (int)key_len || memcmp(key_bytes, data + 1, key_len) != 0)
		abort();
	if (fs_template_value_decode(data + 1 + key_len, size - 1 - key_len, key.flow_type,
				     &value) < 0)
		return 0;
	if (value.withdrawn) {
		n = fs_template_withdrawal_encode(value.origin, encoded, sizeof(encoded));
		if (n != (int)(size - 1 - key_len) || memcmp(encoded, data + 1 + key_len, (size_t)n) != 0)
			abort();
		(void)fs_template_cache_withdraw(cache, &key);
		return 0;
	}
	if (fs_template_cache_learn(cache, &key, &value.spec, reason, sizeof(reason)) < 0)
		return 0;
	tpl = fs_template_cache_find(cache, &key);
	if (!tpl)
		abort();
	n = fs_template_value_encode(tpl, value.origin, encoded, sizeof(encoded));
	if (n != (int)(size - 1 - key_len) || memcmp(encoded, data + 1 + key_len, (size_t)n) != 0)
		abort();
	return 0;
}
