/*
 * fuzz_netflow_v9.c - libFuzzer target for the NetFlow v9 decoder: every input is
 * decoded as a datagram whose version field is 9, so every mutation
 * reaches that decoder.  See decoder_target.h.
 */
#include "decoder_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decode_datagram(data, size, 9);
}
