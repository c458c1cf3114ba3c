/*
 * decoder_target.h - the body shared by the libFuzzer targets that feed
 * datagrams to fs_decoder_decode(): fuzz_decoder (any protocol) and the
 * per-protocol targets, which overwrite the version field so that every
 * mutation reaches one decoder.
 *
 * One decoder lives for the whole run, so templates learned from one input
 * shape the decoding of later ones, as with a real exporter.  The input
 * length modulo 4 picks one of four exporter addresses, which exercises the
 * per-exporter template keys.
 */
#ifndef FS_FUZZ_DECODER_TARGET_H
#define FS_FUZZ_DECODER_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "decode/decoder.h"

/* Largest datagram a target copies to set its version: the UDP maximum. */
#define FUZZ_DATAGRAM_MAX 65535

/*
 * Small limits so eviction, the field limit and the enterprise element limit
 * are reached quickly; SRv6 decapsulation on to reach that path too.
 */
static const struct fs_decoder_limits fuzz_limits = {
	.max_templates = 64,
	.max_template_fields = 64,
	.max_enterprise_elements = 2,
	.decap_srv6 = true,
};

static void
fuzz_discard(const struct fs_flow *flow, void *opaque)
{
	uint64_t *sum = opaque;

	/* Touch the record so a bad write into it is seen by the sanitizers. */
	*sum += flow->bytes + flow->packets + flow->present;
}

/*
 * Decodes data as one datagram.  version 0 leaves the input as it is;
 * otherwise the first two bytes become version (big-endian), and an input
 * shorter than 2 bytes is skipped.
 */
static int
fuzz_decode_datagram(const uint8_t *data, size_t size, uint16_t version)
{
	static struct fs_decoder *decoder;
	static uint8_t copy[FUZZ_DATAGRAM_MAX];
	struct fs_addr exporter;
	uint8_t addr[4] = { 192, 0, 2, 0 };
	uint64_t sum = 0;

	if (!decoder) {
		fs_log_set_level(FS_LOG_ERR);
		decoder = fs_decoder_new(&fuzz_limits);
		if (!decoder)
			return 0;
	}
	if (version != 0) {
		if (size < 2 || size > sizeof(copy))
			return 0;
		memcpy(copy, data, size);
		copy[0] = (uint8_t)(version >> 8);
		copy[1] = (uint8_t)version;
		data = copy;
	}
	addr[3] = (uint8_t)(size & 3);
	fs_addr_set_v4(&exporter, addr);
	(void)fs_decoder_decode(decoder, data, size, &exporter, 2055, 0, fuzz_discard, &sum);
	return 0;
}

#endif
