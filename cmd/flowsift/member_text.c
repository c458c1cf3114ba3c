/* member_text.c - shown text of top-N keys for the command-line tool. */
#include "member_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto_name.h"

const char *
member_proto_text(uint8_t proto, char *buf, size_t len)
{
	const char *name = fs_proto_name(proto);

	if (name)
		return name;
	snprintf(buf, len, "%u", proto);
	return buf;
}

void
member_text(enum fs_topn_dim dim, const char *member, char *out, size_t len)
{
	const char *sep = strchr(member, '>');
	char num[16];
	char *end;
	unsigned long v;

	switch (dim) {
	case FS_TOPN_CONVERSATION:
		if (!sep)
			break;
		snprintf(out, len, "%.*s -> %s", (int)(sep - member), member, sep + 1);
		return;
	case FS_TOPN_PROTO:
		v = strtoul(member, &end, 10);
		if (member[0] == '\0' || *end || v > 255)
			break;
		snprintf(out, len, "%s", member_proto_text((uint8_t)v, num, sizeof(num)));
		return;
	case FS_TOPN_SRC_AS:
	case FS_TOPN_DST_AS:
		snprintf(out, len, "AS%s", member);
		return;
	default:
		break;
	}
	snprintf(out, len, "%s", member);
}
