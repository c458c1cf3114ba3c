/*
 * fuzz_ipfix.c - libFuzzer target for the IPFIX decoder: every input is
 * decoded as a datagram whose version field is 10, so every mutation
 * reaches that decoder.  See decoder_target.h.
 */
#include "decoder_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decode_datagram(data, size, 10);
}
