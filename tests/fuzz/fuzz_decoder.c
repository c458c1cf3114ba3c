/*
 * fuzz_decoder.c - libFuzzer target for fs_decoder_decode().
 *
 * One decoder lives for the whole run, so templates learned from one input
 * shape the decoding of later ones, as with a real exporter.  The input is
 * the datagram itself, so raw captures replay unchanged.  Its length modulo 4
 * picks one of four exporter addresses, which exercises the per-exporter
 * template keys.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "decode/decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
discard(const struct fs_flow *flow, void *opaque)
{
	uint64_t *sum = opaque;

	/* Touch the record so a bad write into it is seen by the sanitizers. */
	*sum += flow->bytes + flow->packets + flow->present;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fs_decoder *decoder;
	struct fs_addr exporter;
	uint8_t addr[4] = { 192, 0, 2, 0 };
	uint64_t sum = 0;

	if (!decoder) {
		fs_log_set_level(FS_LOG_ERR);
		decoder = fs_decoder_new(&fuzz_limits);
		if (!decoder)
			return 0;
	}
	addr[3] = (uint8_t)(size & 3);
	fs_addr_set_v4(&exporter, addr);
	(void)fs_decoder_decode(decoder, data, size, &exporter, 2055, 0, discard, &sum);
	return 0;
}
