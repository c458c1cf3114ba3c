/*
 * fuzz_packet.c - libFuzzer target for fs_packet_parse().
 *
 * The first input byte selects where the header starts (its low 7 bits
 * modulo 3: Ethernet, IPv4, IPv6) and, with its top bit, FS_PACKET_DECAP_SRV6;
 * the rest is the packet header.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"
#include "decode/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fs_packet_start starts[] = {
		FS_PACKET_ETHERNET, FS_PACKET_IPV4, FS_PACKET_IPV6,
	};
	static volatile uint64_t sink;
	struct fs_packet_info info;
	struct fs_flow flow;

	if (size == 0)
		return 0;
	fs_flow_clear(&flow);
	(void)fs_packet_parse_flags(data + 1, size - 1, starts[(data[0] & 0x7f) % 3], 0,
				    (data[0] & 0x80) ? FS_PACKET_DECAP_SRV6 : 0, &flow, &info);
	sink += flow.present + flow.src_port + info.ip_length;
	return 0;
}
