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
	struct stat st;
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
	/* /dev/null is the usual name for "an empty file" and never blocks. */
	if (S_ISCHR(st.st_mode) && strcmp(path, "/dev/null") == 0) {
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
