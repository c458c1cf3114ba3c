/*
 * wire.h - big-endian writers that tests use to build datagrams and packet
 * headers byte by byte (NetFlow, IPFIX, sFlow, Ethernet, IP and UDP).
 *
 * fs_test_put16/32/64() store a value at a pointer into the caller's buffer,
 * which must have room for it.  The fs_test_append*() functions add to the
 * end of a struct fs_test_packet and fail the calling cmocka test when the
 * value does not fit, so a builder never writes past the packet.
 */
#ifndef FS_TEST_WIRE_H
#define FS_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define FS_TEST_PACKET_MAX 8192

/* A datagram under construction, of which bytes[0 .. len-1] are written. */
struct fs_test_packet {
	uint8_t bytes[FS_TEST_PACKET_MAX];
	size_t len;
};

/* Stores v at p in network byte order (2, 4 or 8 bytes). */
void fs_test_put16(uint8_t *p, uint16_t v);
void fs_test_put32(uint8_t *p, uint32_t v);
void fs_test_put64(uint8_t *p, uint64_t v);

/*
 * Appends the low 8, 16 or 32 bits of v, or all 64, in network byte order.
 * The 8- and 16-bit forms take a uint32_t so that callers can pass lengths
 * and flag expressions without a cast.
 */
void fs_test_append8(struct fs_test_packet *p, uint32_t v);
void fs_test_append16(struct fs_test_packet *p, uint32_t v);
void fs_test_append32(struct fs_test_packet *p, uint32_t v);
void fs_test_append64(struct fs_test_packet *p, uint64_t v);

/* Appends len bytes of data (borrowed for the call). */
void fs_test_append_bytes(struct fs_test_packet *p, const void *data, size_t len);

#endif
