/* proto_name.c - names of common IP protocol numbers. */
#include "core/proto_name.h"

#include <stddef.h>

const char *
fs_proto_name(uint8_t proto)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 47: return "gre";
	case 50: return "esp";
	case 58: return "ipv6-icmp";
	case 132: return "sctp";
	}
	return NULL;
}
