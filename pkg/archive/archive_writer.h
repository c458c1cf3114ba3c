/*
 * archive_writer.h - keeps flow messages on disk as Avro object container
 * files, rotated by time and size and pruned by a retention limit.
 *
 * Each message appended is one flow in the Avro single-object encoding
 * (avro/flow_codec.h): marker C3 01, the 8-byte fingerprint of its writer
 * schema, then the body.  The writer checks the message with the flow codec,
 * looks the fingerprint up among the flow schemas compiled into the library
 * (schemas/flow*.avsc) and appends the body unchanged to the current file,
 * whose header carries that schema.  A message written with another schema
 * version closes the file and starts a new one, because a container file has
 * one schema.
 *
 * Files: archive_dir.h describes the names.  The current file is written
 * under a temporary name; closing it flushes, fsyncs, renames it and fsyncs
 * the folder.  A file is closed when it is rotate_seconds old (checked by
 * fs_archive_writer_tick()), when rotate_bytes of flow bodies (counted
 * before block compression) were appended to it, on a schema change and by
 * fs_archive_writer_close().  After each close, the oldest closed files are
 * deleted while any retention limit is exceeded; the newest file is always
 * kept.
 *
 * Durability: after fs_archive_writer_sync() returns 0, every message
 * appended before it is on disk, in a closed file or in the temporary file.
 * A temporary file left by a crash is recovered when the next writer opens
 * the folder: its complete blocks are copied to a closed file, and a block
 * cut short by the crash is dropped (its messages were appended after the
 * last sync, so an at-least-once consumer reads them again).
 *
 * Thread safety: one thread at a time per writer.
 */
#ifndef FS_ARCHIVE_ARCHIVE_WRITER_H
#define FS_ARCHIVE_ARCHIVE_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of flow bodies avro-c collects before it writes (and compresses) a block. */
#define FS_ARCHIVE_BLOCK_SIZE (64u * 1024u)

struct fs_archive_options {
	const char *dir;          /* folder of the files, created with its parents when missing (borrowed) */
	const char *codec;        /* block compression: "null" or "deflate"; NULL means deflate */
	uint64_t rotate_seconds;  /* close a file this old; 0 = no time limit */
	uint64_t rotate_bytes;    /* close a file after this many body bytes; 0 = no size limit */
	uint64_t retain_files;    /* keep at most this many closed files; 0 = no limit */
	uint64_t retain_bytes;    /* keep at most this many bytes of closed files; 0 = no limit */
	uint64_t retain_seconds;  /* delete files that started longer ago; 0 = no limit */
};

struct fs_archive_writer_stats {
	uint64_t appended;        /* messages written */
	uint64_t rejected;        /* messages that are not valid flows */
	uint64_t unknown_schema;  /* of rejected: fingerprint of no known flow schema */
	uint64_t files_closed;
	uint64_t files_removed;   /* deleted by the retention limits */
	uint64_t files_recovered; /* temporary files of a previous run closed at open */
	uint64_t body_bytes;      /* bytes of flow bodies appended */
};

struct fs_archive_writer;

/*
 * Creates a writer for opt (copied), recovers temporary files left in
 * opt->dir, and applies the retention limits.  No file is created before
 * the first append.  Returns 0 and stores the writer, which the caller frees
 * with fs_archive_writer_free(), in *out; or FS_ERR_INVALID for an invalid
 * option or FS_ERR_SYSTEM, with the reason in err.
 */
int fs_archive_writer_new(struct fs_archive_writer **out,
			  const struct fs_archive_options *opt, char *err,
			  size_t err_len);

/*
 * Appends every flow of the message msg (len bytes, borrowed), which contains
 * one or more single-object flows (avro/flow_codec.h), at now_ns (Unix ns,
 * which names the file when one is opened).  Flows that are not valid are
 * counted and not written, and the valid ones are.  Returns 0, the first
 * of FS_ERR_INVALID, FS_ERR_TRUNCATED or FS_ERR_UNSUPPORTED (unknown
 * fingerprint) met, or FS_ERR_SYSTEM when a file cannot be written (logged;
 * the caller should stop without storing offsets).
 */
int fs_archive_writer_append(struct fs_archive_writer *w, const uint8_t *msg,
			     size_t len, int64_t now_ns);

/*
 * Closes the current file when it is rotate_seconds old at now_ns.  Returns
 * 0 or FS_ERR_SYSTEM.
 */
int fs_archive_writer_tick(struct fs_archive_writer *w, int64_t now_ns);

/*
 * Writes every appended message to disk: flushes the current block and
 * fsyncs the temporary file.  Returns 0 or FS_ERR_SYSTEM (logged).
 */
int fs_archive_writer_sync(struct fs_archive_writer *w);

/* Closes the current file, if any, and applies retention.  Returns 0 or FS_ERR_SYSTEM. */
int fs_archive_writer_close(struct fs_archive_writer *w);

/* Returns the writer's counters; the pointer stays valid until free. */
const struct fs_archive_writer_stats *
fs_archive_writer_stats(const struct fs_archive_writer *w);

/*
 * Frees the writer.  A file still open is closed first (errors are logged);
 * call fs_archive_writer_close() before to learn whether that worked.
 * NULL is allowed.
 */
void fs_archive_writer_free(struct fs_archive_writer *w);

#endif
