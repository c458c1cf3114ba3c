/*
 * fuzz_avro_reader.c - libFuzzer target that compares the direct Avro
 * reader with avro-c.
 *
 * Each input is the body of a message: the target puts the current flow
 * schema's single-object header in front, so every input reaches the
 * direct reader (avro/binary_reader.h).  fs_flow_codec_decode() and
 * fs_flow_codec_decode_generic(), which reads through avro-c, must return
 * the same result code and, on success, the same flow.  A flow that
 * decodes must also encode and decode again to the same flow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avro/flow_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Maximum body length tried; a valid flow body is far shorter. */
#define MAX_BODY_LEN 4096

static struct fs_flow_codec *
get_codec(void)
{
	static struct fs_flow_codec *codec;

	if (codec == NULL) {
		codec = fs_flow_codec_new(NULL, 0);
		if (codec == NULL)
			abort();
	}
	return codec;
}

/* Creates the codec before the first input, so libFuzzer's per-input leak check does not see it. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	get_codec();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t message[FS_FLOW_CODEC_HEADER_LEN + MAX_BODY_LEN];
	struct fs_flow_codec *codec = get_codec();
	uint64_t fp = fs_flow_codec_fingerprint(codec);
	struct fs_flow direct, generic;
	uint8_t again[FS_FLOW_CODEC_MAX_LEN];
	size_t len = 0;
	int rc_direct, rc_generic;

	if (size > MAX_BODY_LEN)
		return 0;
	message[0] = 0xc3;
	message[1] = 0x01;
	for (int i = 0; i < 8; i++)
		message[2 + i] = (uint8_t)(fp >> (8 * i));
	memcpy(message + FS_FLOW_CODEC_HEADER_LEN, data, size);

	rc_direct = fs_flow_codec_decode(codec, message, FS_FLOW_CODEC_HEADER_LEN + size, &direct);
	rc_generic = fs_flow_codec_decode_generic(codec, message, FS_FLOW_CODEC_HEADER_LEN + size,
						  &generic);
	if (rc_direct != rc_generic)
		abort();
	if (rc_direct != 0)
		return 0;
	if (memcmp(&direct, &generic, sizeof(direct)) != 0)
		abort();

	/*
	 * The input may hold overlong varints, which both readers accept, so the
	 * encoding is compared by decoding it again rather than byte for byte.
	 */
	if (fs_flow_codec_encode(codec, &direct, again, sizeof(again), &len) != 0)
		abort();
	if (fs_flow_codec_decode(codec, again, len, &generic) != 0 ||
	    memcmp(&direct, &generic, sizeof(direct)) != 0)
		abort();
	return 0;
}
