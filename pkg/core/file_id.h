/*
 * file_id.h - the identity of one version of a file, to see that it changed.
 *
 * The identity is the device, inode, size and modification time that
 * stat(2) returns, so symbolic links are followed.  A file renamed over the
 * old one (`mv`, geoipupdate) gets a new inode, and so does a file that
 * Kubernetes updates in a ConfigMap volume, where the path is a symbolic
 * link into a folder that the kubelet replaces.  An edit in place changes
 * the size or the modification time.
 *
 * NOTE: an edit in place that keeps the size, within one tick of the file
 * system's timestamp clock, keeps the identity too.  Replace files by
 * renaming to be sure the change is seen.
 */
#ifndef FS_CORE_FILE_ID_H
#define FS_CORE_FILE_ID_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

struct fs_file_id {
	bool exists;            /* false when stat(2) failed; the other members are then 0 */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* Reads the identity of path into id.  A missing file or an empty path gives exists = false. */
void fs_file_id_read(const char *path, struct fs_file_id *id);

/* Returns whether a and b are the same version of a file (two missing files are equal). */
bool fs_file_id_equal(const struct fs_file_id *a, const struct fs_file_id *b);

#endif
