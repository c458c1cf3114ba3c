/*
 * binary_reader.h - Avro binary encoding read straight into a C struct.
 *
 * fs_avro_read_record() is the inverse of fs_avro_write_record(): it walks a
 * record layout (avro/record_layout.h) and reads one record written with
 * exactly that schema.  It does no schema resolution, so callers use it only
 * for messages whose writer schema is the one the layout describes (the
 * flow codec checks the fingerprint) and fall back to avro-c otherwise.
 *
 * Every read goes through a bounds-checked cursor, so hostile input gives
 * an error code and never a read past len, a crash or an allocation.  Error
 * codes follow the precedence of a full structural check first: input that
 * is cut short gives FS_ERR_TRUNCATED even when an earlier value is also
 * out of range.
 *
 * The reader allocates nothing and keeps no state; one layout may be used
 * by any number of threads.
 */
#ifndef FS_AVRO_BINARY_READER_H
#define FS_AVRO_BINARY_READER_H

#include <stddef.h>
#include <stdint.h>

#include "avro/record_layout.h"

/*
 * Array items, summed over all arrays of one record, that the reader
 * accepts; more is FS_ERR_INVALID at once.  The same bound as the
 * structural check of the avro-c path (FS_FLOW_CODEC_MAX_ITEMS), so both
 * readers give the same result.
 */
#define FS_AVRO_READ_MAX_ITEMS 4096

/*
 * Reads the Avro binary record buf (len bytes, borrowed) into the struct at
 * base, laid out as record.  The caller clears the struct first: the
 * reader sets the members and presence bits of the fields that are not
 * null and leaves the rest untouched.  Returns 0, or:
 *   FS_ERR_TRUNCATED  the input ends inside the record.
 *   FS_ERR_INVALID    one of: a varint longer than its type allows; a union
 *                     branch or enum index out of range; a negative length;
 *                     a value that does not fit its member (see enum
 *                     fs_avro_op); an array with more items than max_items, or more than
 *                     FS_AVRO_READ_MAX_ITEMS items in all;
 *                     bytes left over after the record.
 * On failure the struct holds no useful data.
 */
int fs_avro_read_record(const struct fs_avro_record *record, const uint8_t *buf, size_t len,
			void *base);

/*
 * Reads one record from the start of buf like fs_avro_read_record(), but
 * bytes after the record are allowed: they are the next record of a
 * message that contains several.  Stores the record's length in *used on
 * success.  Returns the same codes, except that bytes left over are not an
 * error.
 */
int fs_avro_read_record_prefix(const struct fs_avro_record *record, const uint8_t *buf,
			       size_t len, void *base, size_t *used);

#endif
