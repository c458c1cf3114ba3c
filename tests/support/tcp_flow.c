/* tcp_flow.c - TCP flow records for tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcp_flow.h"

struct fs_flow
fs_test_tcp_flow(const char *src, const char *dst, uint16_t dst_port, uint8_t flags,
		 uint64_t bytes, uint64_t packets)
{
	struct fs_flow flow;

	fs_flow_clear(&flow);
	assert_int_equal(fs_addr_parse(&flow.src_addr, src), 0);
	assert_int_equal(fs_addr_parse(&flow.dst_addr, dst), 0);
	flow.dst_port = dst_port;
	flow.src_port = 40000;
	flow.proto = 6;
	flow.tcp_flags = flags;
	flow.bytes = bytes;
	flow.packets = packets;
	flow.present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_DST_PORT | FS_F_SRC_PORT | FS_F_PROTO |
		       FS_F_TCP_FLAGS | FS_F_BYTES | FS_F_PACKETS;
	return flow;
}
