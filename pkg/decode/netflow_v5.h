/*
 * netflow_v5.h - NetFlow v5 datagram decoder.
 *
 * Reference: Cisco "NetFlow Export Datagram Format", version 5.  A datagram
 * is a 24-byte header followed by `count` fixed 48-byte records; every record
 * carries every field, so all of them are marked present.
 *
 * observation_domain_id is set to engine_type * 256 + engine_id, the v5
 * header's only identification of the exporting engine.
 */
#ifndef FS_DECODE_NETFLOW_V5_H
#define FS_DECODE_NETFLOW_V5_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"

#define FS_NETFLOW_V5_HEADER_LEN 24
#define FS_NETFLOW_V5_RECORD_LEN 48

/*
 * Decodes one v5 datagram of len bytes, handing each record to ctx's sink.
 * When the header count promises more records than the datagram holds, the
 * whole records present are decoded and the datagram counts as truncated.
 * Returns 0 or the first fault (also kept in ctx->result).
 */
int fs_netflow_v5_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len);

#endif
