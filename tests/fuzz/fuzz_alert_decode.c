/*
 * fuzz_alert_decode.c - libFuzzer target for the alert Avro codec's decoder.
 *
 * Each input is decoded as one single-object message.  An alert that
 * decodes must encode again to a message that decodes to the same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fs_alert_codec *codec;
	struct fs_alert a, b;
	uint8_t again[FS_ALERT_CODEC_MAX_LEN];
	int n;

	if (codec == NULL) {
		codec = fs_alert_codec_new(NULL, 0);
		if (codec == NULL)
			abort();
	}
	if (fs_alert_codec_decode(codec, data, size, &a) != 0)
		return 0;
	n = fs_alert_codec_encode(codec, &a, again, sizeof(again));
	if (n < 0 || fs_alert_codec_decode(codec, again, (size_t)n, &b) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
