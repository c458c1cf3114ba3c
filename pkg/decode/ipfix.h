/*
 * ipfix.h - IPFIX message decoder.
 *
 * Reference: RFC 7011.  A message is a 16-byte header followed by sets: id 2
 * contains templates, id 3 options templates, ids 256 and up data records laid
 * out by the template of that id.  Templates are learned into the decoder's
 * template cache under (exporter, port, observation domain, template id); a
 * template record with field count 0 withdraws one template, and template id
 * 2 (or 3 in an options template set) withdraws all of that kind.
 *
 * Enterprise-specific fields (id bit 15 set, followed by a 4-byte enterprise
 * number) and variable-length fields are parsed and skipped unless mapped.
 *
 * Options data records only update state, as in NetFlow v9 (netflow_v9.h).
 */
#ifndef FS_DECODE_IPFIX_H
#define FS_DECODE_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"

#define FS_IPFIX_HEADER_LEN 16

/*
 * Decodes the IPFIX messages in a datagram of len bytes, handing each data
 * record to ctx's sink.  A message length shorter than the datagram ends that
 * message, and the bytes after it are decoded as further messages when they
 * start with an IPFIX header.  Otherwise they are a tail: a set that starts
 * inside the message and ends in the tail is decoded and counted as a length
 * mismatch (an exporter bug seen in the field), zero bytes are padding, and
 * anything else is counted invalid.  A message length longer than the
 * datagram is counted truncated; the whole sets that are present are still
 * decoded.  Returns 0 or the first fault (also kept in ctx->result).
 */
int fs_ipfix_decode(struct fs_decode_ctx *ctx, const uint8_t *data, size_t len);

#endif
