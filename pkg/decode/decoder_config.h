/*
 * decoder_config.h - the decoder limits (struct fs_decoder_limits) read from
 * the decode.* keys of a configuration (pkg/config/config.h), so that
 * flowsift-ingest and `flowsift decode` apply the same limits.
 */
#ifndef FS_DECODE_DECODER_CONFIG_H
#define FS_DECODE_DECODER_CONFIG_H

#include "config/config.h"
#include "decode/decoder.h"

/*
 * Fills limits from config (borrowed): every limit and setting of struct
 * fs_decoder_limits has a decode.* key, whose default is the decoder's
 * default.  decode.enterprise.elements.max = 0 becomes
 * FS_DECODER_NO_ENTERPRISE_ELEMENTS.  Returns 0, or FS_ERR_INVALID when a value does not fit its
 * field (the key table's ranges keep them in range, so this means the
 * table and this function disagree).
 */
int fs_decoder_limits_from_config(const struct fs_config *config,
				  struct fs_decoder_limits *limits);

#endif
