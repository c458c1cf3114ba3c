/*
 * fuzz_sflow.c - libFuzzer target for sFlow v5 datagrams through fs_decoder_decode().
 *
 * The input is the datagram itself, so raw captures replay unchanged.
 * Inputs whose first 8 bytes do not select sFlow are given an sFlow v5
 * header with an IPv4 agent in front, so that every input reaches the sFlow
 * decoder.  Small limits make the sample and record limits easy to reach.
 * Both sinks touch every record, so the sanitizers see a bad write into it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "decode/decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 65536

static const struct fs_decoder_limits fuzz_limits = {
	.max_sflow_samples = 8,
	.max_sflow_records = 8,
	.max_header_bytes = 128,
	.max_sflow_sources = 4,
	.decap_srv6 = true,
};

static void
touch_flow(const struct fs_flow *flow, void *opaque)
{
	uint64_t *sum = opaque;

	*sum += flow->bytes + flow->packets + flow->present + flow->src_port;
}

static void
touch_counters(const struct fs_counters *counters, void *opaque)
{
	uint64_t *sum = opaque;

	*sum += counters->present + counters->generic.in_octets + counters->other_count;
	for (uint32_t i = 0; i < counters->other_count; i++)
		*sum += counters->other[i].length;
}

static int
looks_like_sflow(const uint8_t *data, size_t size)
{
	return size >= 8 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 5 &&
	       data[4] == 0 && data[5] == 0 && data[6] == 0 && (data[7] == 1 || data[7] == 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t header[] = {
		0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 1, /* version 5, agent 192.0.2.1 */
		0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 100, /* sub-agent, sequence, uptime */
	};
	static uint8_t buf[sizeof(header) + MAX_INPUT];
	static struct fs_decoder *decoder;
	static uint64_t sum;
	struct fs_addr exporter;
	uint8_t addr[4] = { 192, 0, 2, 1 };

	if (!decoder) {
		fs_log_set_level(FS_LOG_ERR);
		decoder = fs_decoder_new(&fuzz_limits);
		if (!decoder)
			return 0;
		fs_decoder_set_counters_sink(decoder, touch_counters, &sum);
	}
	fs_addr_set_v4(&exporter, addr);
	if (!looks_like_sflow(data, size)) {
		/* The input starts at num_samples. */
		if (size > MAX_INPUT)
			size = MAX_INPUT;
		memcpy(buf, header, sizeof(header));
		if (size > 0)
			memcpy(buf + sizeof(header), data, size);
		data = buf;
		size += sizeof(header);
	}
	(void)fs_decoder_decode(decoder, data, size, &exporter, 6343, 0, touch_flow, &sum);
	return 0;
}
