/*
 * netflow_v5.h - NetFlow v1, v5 and v7 datagram decoder.
 *
 * Reference: Cisco "NetFlow Export Datagram Format", versions 1, 5 and 7.
 * A datagram is a fixed header followed by `count` fixed records; every
 * record carries every field, so all of them are marked present.
 *
 *   version  header  record  sequence  engine ids  sampling
 *   1        16      48      none      none        none
 *   5        24      48      flows     yes         header bits
 *   7        24      52      flows     none        none
 *
 * The records are emitted with flow_type FS_FLOW_NETFLOW_V5, because the
 * flow schema has no separate v1 and v7 types.  The v7 router_sc field (the
 * router that a Catalyst shortcut bypassed) has no place in the schema and is
 * skipped.
 *
 * observation_domain_id is set to engine_type * 256 + engine_id, the v5
 * header's only identification of the exporting engine (0 for v1 and v7).
 *
 * v5 sampling: the top 2 bits of the last header field are the mode (0 none,
 * 1 deterministic, 2 random) and the low 14 bits the interval.  An interval
 * above 1 becomes sampling_rate whatever the mode, as some exporters leave the
 * mode 0.  A mode other than 0 with an interval of 0 is counted as an invalid
 * sampling rate and nothing is applied.
 */
#ifndef FS_DECODE_NETFLOW_V5_H
#define FS_DECODE_NETFLOW_V5_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"

#define FS_NETFLOW_V1_HEADER_LEN 16
#define FS_NETFLOW_V5_HEADER_LEN 24
#define FS_NETFLOW_V7_HEADER_LEN 24
#define FS_NETFLOW_V5_RECORD_LEN 48
#define FS_NETFLOW_V7_RECORD_LEN 52

/*
 * Decodes one v1, v5 or v7 datagram (the version is read from its first 2
 * bytes) of len bytes, handing each record to ctx's sink.  When the header
 * count promises more records than the datagram holds, the whole records
 * present are decoded and the datagram counts as truncated.  Returns 0 or
 * the first fault (also kept in ctx->result).
 */
int fs_netflow_v5_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len);

#endif
