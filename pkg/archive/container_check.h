/*
 * container_check.h - checks the framing of an Avro object container file
 * before avro-c reads it.
 *
 * avro-c 1.11 allocates each block's declared size before reading the block,
 * so a damaged or hostile file could make it allocate gigabytes.  This check
 * walks the file (Avro specification, "Object Container Files": magic
 * "Obj\x01", a metadata map, a 16-byte sync marker, then blocks of
 * object count, byte size, data and the sync marker) and rejects any block
 * larger than FS_ARCHIVE_MAX_BLOCK or than the bytes left in the file,
 * a negative count or size, and a block not followed by the file's sync
 * marker.  It reads the bytes only; it does not decode the objects.
 */
#ifndef FS_ARCHIVE_CONTAINER_CHECK_H
#define FS_ARCHIVE_CONTAINER_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Largest block accepted; flowsift's writer closes blocks far below it. */
#define FS_ARCHIVE_MAX_BLOCK (64u * 1024 * 1024)

/* Largest metadata map accepted, in entries and bytes per value. */
#define FS_ARCHIVE_MAX_META_ENTRIES 64
#define FS_ARCHIVE_MAX_META_VALUE (1024u * 1024)

/*
 * Checks the container framing of data (len bytes, borrowed).  Returns 0, or
 * FS_ERR_INVALID / FS_ERR_TRUNCATED with the reason and byte offset in err.
 */
int fs_archive_check_container(const uint8_t *data, size_t len, char *err,
			       size_t err_len);

/*
 * Maps the file at path and checks it as above.  Returns 0, a negative
 * fs_result with the reason in err (naming path), or FS_ERR_SYSTEM when the
 * file cannot be read.
 */
int fs_archive_check_file(const char *path, char *err, size_t err_len);

#endif
