/* regular_file.c - open only regular files, without blocking on a FIFO. */
#include "core/regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fs_regular_file_open(const char *path, uint64_t *size, const char **reason)
{
	struct stat st, null_st;
	int fd;

	/* O_NONBLOCK: opening a FIFO that no one writes to would otherwise wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*reason = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		*reason = strerror(errno);
		close(fd);
		return -1;
	}
	/* /dev/null, by any path to that device, is read as an empty file. */
	if (S_ISCHR(st.st_mode) && stat("/dev/null", &null_st) == 0 &&
	    st.st_rdev == null_st.st_rdev) {
		*size = 0;
		return fd;
	}
	if (!S_ISREG(st.st_mode)) {
		*reason = S_ISDIR(st.st_mode) ? "it is a folder, not a file"
			  : "it is not a regular file (a FIFO, socket or device)";
		close(fd);
		return -1;
	}
	/* Regular files ignore O_NONBLOCK; clearing it keeps later reads plain. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*size = (uint64_t)st.st_size;
	return fd;
}

FILE *
fs_regular_file_stream(const char *path, const char **reason)
{
	uint64_t size;
	FILE *file;
	int fd = fs_regular_file_open(path, &size, reason);

	if (fd < 0)
		return NULL;
	file = fdopen(fd, "r");
	if (file == NULL) {
		*reason = strerror(errno);
		close(fd);
	}
	return file;
}
