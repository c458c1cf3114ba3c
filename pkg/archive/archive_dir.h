/*
 * archive_dir.h - names and lists the files of a flow archive folder.
 *
 * `flowsift capture` keeps a topic as Avro object container files in one
 * folder.  A closed file is named after the time its first flow was written,
 * in UTC, so sorting the names sorts the files by time:
 *
 *   flows-20240102T130405.123Z-000001.avro
 *
 * The six-digit number keeps names unique when several files start in the
 * same millisecond.  A file being written carries the suffix ".tmp" after
 * that name and is renamed once it is closed and synced, so a reader that
 * lists `*.avro` files never sees a partial file.
 */
#ifndef FS_ARCHIVE_ARCHIVE_DIR_H
#define FS_ARCHIVE_ARCHIVE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FS_ARCHIVE_PREFIX "flows-"
#define FS_ARCHIVE_SUFFIX ".avro"
#define FS_ARCHIVE_TMP_SUFFIX ".tmp"

/* Buffer size that fits a file name (without the folder), NUL included. */
#define FS_ARCHIVE_NAME_MAX 64

/* Maximum files one listing returns; files beyond it are left out. */
#define FS_ARCHIVE_MAX_FILES 1000000u

/* One closed archive file. */
struct fs_archive_file {
	char name[FS_ARCHIVE_NAME_MAX]; /* without the folder */
	uint64_t size;                  /* bytes */
	int64_t start_ns;               /* time in the name, Unix ns */
};

/*
 * Writes the name of a closed file that starts at time_ns (Unix ns) with
 * sequence number seq (0..999999) into buf (FS_ARCHIVE_NAME_MAX bytes).
 */
void fs_archive_file_name(char *buf, int64_t time_ns, unsigned seq);

/*
 * Parses a closed file's name.  Stores its start time in *time_ns and
 * returns 0, or returns FS_ERR_INVALID when name is not an archive file's
 * name (a temporary file's name included).
 */
int fs_archive_parse_name(const char *name, int64_t *time_ns);

/*
 * Lists the closed archive files in dir (borrowed), oldest first.  Stores a
 * malloc'ed array, which the caller frees with free(), in *out and its
 * length in *count (*out is NULL when count is 0).  Returns 0, or
 * FS_ERR_SYSTEM with the reason in err when dir cannot be read or memory
 * runs out.
 */
int fs_archive_list(const char *dir, struct fs_archive_file **out,
		    size_t *count, char *err, size_t err_len);

/*
 * Returns true when path (borrowed) no longer exists.  A file listed by
 * fs_archive_list() and gone when it is opened was removed in between,
 * normally by the writer's retention, which deletes the oldest files.
 */
bool fs_archive_file_gone(const char *path);

/*
 * Returns true when path (borrowed) ends in ".avro", in any case, as
 * archive files do.
 * A file so named is read as an archive even when its first bytes are not
 * the container's magic, so damage there is reported as such rather than
 * read as a capture of no datagrams.
 */
bool fs_archive_has_suffix(const char *path);

#endif
