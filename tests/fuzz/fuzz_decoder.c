/*
 * fuzz_decoder.c - libFuzzer target for fs_decoder_decode() with any
 * protocol: the version field of the input picks the decoder, as it does for
 * a datagram on the wire.  See decoder_target.h.
 */
#include "decoder_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decode_datagram(data, size, 0);
}
