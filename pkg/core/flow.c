/* flow.c - helpers for struct fs_flow and struct fs_addr. */
#include "core/flow.h"

#include <arpa/inet.h>

static const char *const type_names[FS_FLOW_TYPE_COUNT] = {
	"netflow_v5", "netflow_v9", "ipfix", "sflow_v5",
};

const char *
fs_flow_type_name(enum fs_flow_type type)
{
	if ((unsigned)type >= FS_FLOW_TYPE_COUNT)
		return "unknown";
	return type_names[type];
}

void
fs_addr_set_v4(struct fs_addr *addr, const uint8_t bytes[4])
{
	memset(addr, 0, sizeof(*addr));
	addr->family = 4;
	memcpy(addr->bytes, bytes, 4);
}

void
fs_addr_set_v6(struct fs_addr *addr, const uint8_t bytes[16])
{
	addr->family = 6;
	memcpy(addr->bytes, bytes, 16);
}

char *
fs_addr_format(const struct fs_addr *addr, char *buf)
{
	buf[0] = '\0';
	if (addr->family == 4)
		inet_ntop(AF_INET, addr->bytes, buf, FS_ADDR_STRLEN);
	else if (addr->family == 6)
		inet_ntop(AF_INET6, addr->bytes, buf, FS_ADDR_STRLEN);
	return buf;
}

int
fs_addr_parse(struct fs_addr *addr, const char *text)
{
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, text, addr->bytes) == 1) {
		addr->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr->bytes) == 1) {
		addr->family = 6;
		return 0;
	}
	return -1;
}

bool
fs_addr_equal(const struct fs_addr *a, const struct fs_addr *b)
{
	size_t len = a->family == 4 ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, len) == 0;
}
