/* file_id.c - the identity of one version of a file. */
#include "core/file_id.h"

#include <string.h>
#include <sys/stat.h>

void
fs_file_id_read(const char *path, struct fs_file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (path[0] == '\0' || stat(path, &st) != 0)
		return;
	id->exists = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
}

bool
fs_file_id_equal(const struct fs_file_id *a, const struct fs_file_id *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}
