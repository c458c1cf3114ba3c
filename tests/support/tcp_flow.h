/*
 * tcp_flow.h - TCP flow records for tests, built from address strings.
 *
 * A flow carries source and destination address, source port 40000,
 * destination port, protocol 6, TCP flags, bytes and packets, and no other
 * field.
 */
#ifndef FS_TEST_TCP_FLOW_H
#define FS_TEST_TCP_FLOW_H

#include <stdint.h>

#include "core/flow.h"

/*
 * Returns a TCP flow from src to dst:dst_port (IPv4 or IPv6 literals) with
 * the TCP flags, bytes and packets given.  Fails the calling cmocka test
 * when an address does not parse.
 */
struct fs_flow fs_test_tcp_flow(const char *src, const char *dst, uint16_t dst_port,
				uint8_t flags, uint64_t bytes, uint64_t packets);

#endif
