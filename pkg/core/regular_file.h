/*
 * regular_file.h - opens a file that the settings name, only when it is a
 * regular file.
 *
 * Rules files, interface maps, prefix lists and GeoIP databases are named
 * by settings.  A FIFO, socket or device named by mistake would block
 * open() or read() for ever, and a folder reads as nothing or as a size of
 * 2^63 - 1 bytes.  fs_regular_file_open() opens without blocking and
 * refuses anything but a regular file, with a reason a person can act on.
 */
#ifndef FS_CORE_REGULAR_FILE_H
#define FS_CORE_REGULAR_FILE_H

#include <stdint.h>
#include <stdio.h>

/*
 * Opens path (borrowed) read-only when it is a regular file, or /dev/null,
 * read as an empty file, and stores its size in *size.  Returns the descriptor, which the caller closes, or -1
 * with *reason set to why: the system's error text, or that path is a
 * folder or not a regular file.  *reason is static text, valid until the
 * next call on this thread.
 */
int fs_regular_file_open(const char *path, uint64_t *size, const char **reason);

/*
 * The same as a stdio stream opened for reading, which the caller closes
 * with fclose().  Returns NULL with *reason set as above.
 */
FILE *fs_regular_file_stream(const char *path, const char **reason);

#endif
