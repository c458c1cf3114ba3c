/* wire.c - big-endian writers for datagrams built in tests. */
#include "wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <string.h>

void
fs_test_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
fs_test_put32(uint8_t *p, uint32_t v)
{
	fs_test_put16(p, (uint16_t)(v >> 16));
	fs_test_put16(p + 2, (uint16_t)v);
}

void
fs_test_put64(uint8_t *p, uint64_t v)
{
	fs_test_put32(p, (uint32_t)(v >> 32));
	fs_test_put32(p + 4, (uint32_t)v);
}

void
fs_test_append_bytes(struct fs_test_packet *p, const void *data, size_t len)
{
	assert_true(len <= sizeof(p->bytes) - p->len);
	memcpy(p->bytes + p->len, data, len);
	p->len += len;
}

void
fs_test_append8(struct fs_test_packet *p, uint32_t v)
{
	uint8_t b = (uint8_t)v;

	fs_test_append_bytes(p, &b, 1);
}

void
fs_test_append16(struct fs_test_packet *p, uint32_t v)
{
	uint8_t b[2];

	fs_test_put16(b, (uint16_t)v);
	fs_test_append_bytes(p, b, sizeof(b));
}

void
fs_test_append32(struct fs_test_packet *p, uint32_t v)
{
	uint8_t b[4];

	fs_test_put32(b, v);
	fs_test_append_bytes(p, b, sizeof(b));
}

void
fs_test_append64(struct fs_test_packet *p, uint64_t v)
{
	uint8_t b[8];

	fs_test_put64(b, v);
	fs_test_append_bytes(p, b, sizeof(b));
}
