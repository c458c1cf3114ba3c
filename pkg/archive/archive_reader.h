/*
 * archive_reader.h - reads flows back from the Avro object container files
 * that archive_writer.h writes.
 *
 * The file header names the writer schema.  The reader registers that schema
 * with the caller's flow codec (fs_flow_codec_add_schema()), so a file
 * written with any flow schema version that the current one can read is
 * resolved into the current struct fs_flow, exactly as a Kafka message would
 * be.  Container parsing (header, blocks, sync markers, deflate) is avro-c's
 * avro_file_reader; each record is encoded again as a single-object message
 * and decoded by the codec, which checks every value.
 *
 * avro-c 1.11 allocates each block's declared size before reading it, so
 * the reader first checks the file's framing (container_check.h): no block
 * may exceed FS_ARCHIVE_MAX_BLOCK or the rest of the file.
 *
 * Thread safety: one thread at a time per reader.
 */
#ifndef FS_ARCHIVE_ARCHIVE_READER_H
#define FS_ARCHIVE_ARCHIVE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flow.h"

struct fs_flow_codec;
struct fs_archive_reader;

/* The first four bytes of every Avro object container file: "Obj" and 1. */
#define FS_ARCHIVE_MAGIC "Obj\x01"
#define FS_ARCHIVE_MAGIC_LEN 4

/* Largest record body the reader re-encodes, in bytes. */
#define FS_ARCHIVE_MAX_RECORD (64u * 1024u)

/* Returns true when head (len bytes) starts with the container magic. */
bool fs_archive_is_container(const void *head, size_t len);

/*
 * Opens the container file at path and registers its schema with codec
 * (borrowed; must outlive the reader).  Returns 0 and stores the reader,
 * which the caller frees with fs_archive_reader_free(), in *out; or
 * FS_ERR_NOT_FOUND when the file cannot be opened, FS_ERR_INVALID when it is
 * not a container file or its schema is not a flow schema, FS_ERR_SYSTEM
 * otherwise, with the reason, naming path, in err.
 */
int fs_archive_reader_open(struct fs_archive_reader **out, const char *path,
			   struct fs_flow_codec *codec, char *err,
			   size_t err_len);

/*
 * Reads the next flow into *flow.  Returns 1 when a flow was read, 0 at the
 * end of the file, or FS_ERR_INVALID when the file is damaged from this
 * point (a block cut short, a wrong sync marker, a record the codec
 * rejects), with the reason in err.  After an error, further calls return
 * the same error.
 */
int fs_archive_reader_next(struct fs_archive_reader *r, struct fs_flow *flow,
			   char *err, size_t err_len);

/* Returns the number of flows read so far. */
uint64_t fs_archive_reader_count(const struct fs_archive_reader *r);

/* Closes the file and frees the reader; NULL is allowed. */
void fs_archive_reader_free(struct fs_archive_reader *r);

#endif
