/*
 * fuzz_ipfix_stream.c - libFuzzer target for fs_ipfix_stream_feed().
 *
 * The input's first byte sets the size of the pieces (1 to 256 bytes) that
 * the rest of the input is fed in, so one input exercises messages split at
 * every offset.  Each input is a new connection: a fresh stream that is
 * finished at the end, decoding a message the input cut short, and whose
 * templates are then dropped, as when a TCP session closes.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "decode/decoder.h"
#include "decode/ipfix_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct fs_decoder_limits fuzz_limits = {
	.max_templates = 64,
	.max_template_fields = 64,
	.max_pending_sets = 8,
	.max_pending_bytes = 4096,
	.max_pending_sets_per_exporter = 4,
	.max_pending_bytes_per_exporter = 2048,
};

static void
discard(const struct fs_flow *flow, void *opaque)
{
	uint64_t *sum = opaque;

	*sum += flow->bytes + flow->packets + flow->present;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fs_decoder *decoder;
	struct fs_ipfix_stream *stream;
	struct fs_addr exporter;
	const uint8_t addr[4] = { 192, 0, 2, 1 };
	uint64_t sum = 0;
	size_t piece;

	if (size == 0)
		return 0;
	if (!decoder) {
		fs_log_set_level(FS_LOG_ERR);
		decoder = fs_decoder_new(&fuzz_limits);
		if (!decoder)
			return 0;
	}
	fs_addr_set_v4(&exporter, addr);
	stream = fs_ipfix_stream_new(&exporter, 40000);
	if (!stream)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;
	while (size > 0) {
		size_t n = size < piece ? size : piece;

		if (fs_ipfix_stream_feed(stream, data, n, decoder, 0, discard, &sum) != 0)
			break;
		data += n;
		size -= n;
	}
	(void)fs_ipfix_stream_finish(stream, decoder, 0, discard, &sum);
	fs_ipfix_stream_free(stream);
	fs_decoder_end_session(decoder, &exporter, 40000, FS_FLOW_IPFIX);
	return 0;
}
