/*
 * member_text.h - the text that `flowsift top` and `flowsift report` show
 * for a key, so that both name a conversation, a protocol or an AS number
 * the same way whether it was counted live in Redis or from flow files.
 *
 * Redis stores a conversation as "a>b", a protocol as its number and an AS
 * as its number.  The commands show "a -> b", "tcp" (or the number when it
 * has no common name) and "AS64500".  Other keys pass unchanged.
 */
#ifndef FS_CMD_MEMBER_TEXT_H
#define FS_CMD_MEMBER_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "redis/topn.h"

/* Room for the longest shown key: two IPv6 addresses and " -> ". */
#define MEMBER_TEXT_MAX (FS_TOPN_KEY_STRLEN + 8)

/*
 * Returns the name of IP protocol proto ("tcp"), or writes its number into
 * buf[0..len) and returns buf.
 */
const char *member_proto_text(uint8_t proto, char *buf, size_t len);

/*
 * Writes the shown text of the live member of dim into out[0..len),
 * truncated to fit.  A member that does not parse (a conversation without
 * '>', a protocol over 255) is written unchanged.
 */
void member_text(enum fs_topn_dim dim, const char *member, char *out, size_t len);

#endif
