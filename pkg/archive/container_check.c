/* container_check.c - bounds the block sizes of Avro container files. */
#include "archive/container_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/result.h"
#include "decode/cursor.h"

#define SYNC_LEN 16

/* Reads one zigzag varint long; fails the cursor after 10 bytes. */
static int64_t
get_long(struct fs_cursor *cur)
{
	uint64_t value = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t byte = fs_cursor_get_u8(cur);

		if (!fs_cursor_ok(cur))
			return 0;
		value |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
	}
	fs_cursor_fail(cur, FS_ERR_INVALID);
	return 0;
}

static int
fail_at(const struct fs_cursor *cur, const uint8_t *data, int code, const char *what,
	char *err, size_t err_len)
{
	snprintf(err, err_len, "%s at byte %zu", what, (size_t)(cur->p - data));
	return code;
}

/* Skips one Avro string or bytes value of at most max bytes. */
static void
skip_bytes(struct fs_cursor *cur, uint64_t max)
{
	int64_t n = get_long(cur);

	if (n < 0 || (uint64_t)n > max) {
		fs_cursor_fail(cur, FS_ERR_INVALID);
		return;
	}
	fs_cursor_skip(cur, (size_t)n);
}

int
fs_archive_check_container(const uint8_t *data, size_t len, char *err, size_t err_len)
{
	struct fs_cursor cur;
	const uint8_t *sync;
	int entries = 0;

	fs_cursor_init(&cur, data, len);
	if (len < 4 || memcmp(data, "Obj\x01", 4) != 0)
		return fail_at(&cur, data, FS_ERR_INVALID, "not an Avro container file (no Obj\\x01 magic)",
			       err, err_len);
	fs_cursor_skip(&cur, 4);

	/* The metadata map: blocks of entries ending with a count of 0. */
	for (;;) {
		int64_t count = get_long(&cur);

		if (!fs_cursor_ok(&cur) || count == 0)
			break;
		if (count < 0) {
			count = count < -FS_ARCHIVE_MAX_META_ENTRIES ? -FS_ARCHIVE_MAX_META_ENTRIES - 1 : -count;
			(void)get_long(&cur);
		}
		entries += count > FS_ARCHIVE_MAX_META_ENTRIES ? FS_ARCHIVE_MAX_META_ENTRIES + 1 : (int)count;
		if (entries > FS_ARCHIVE_MAX_META_ENTRIES)
			return fail_at(&cur, data, FS_ERR_INVALID, "metadata map too large", err, err_len);
		for (int64_t i = 0; i < count && fs_cursor_ok(&cur); i++) {
			skip_bytes(&cur, FS_ARCHIVE_MAX_META_VALUE);
			skip_bytes(&cur, FS_ARCHIVE_MAX_META_VALUE);
		}
	}
	sync = fs_cursor_get_bytes(&cur, SYNC_LEN);
	if (!fs_cursor_ok(&cur) || sync == NULL)
		return fail_at(&cur, data, fs_cursor_remaining(&cur) ? FS_ERR_INVALID : FS_ERR_TRUNCATED,
			       "damaged file header", err, err_len);

	/* The blocks, to the end of the file. */
	while (fs_cursor_remaining(&cur) > 0) {
		int64_t count = get_long(&cur);
		int64_t size = get_long(&cur);
		const uint8_t *marker;

		/*
		 * A file cut short in its last block is left to the reader, which
		 * returns the whole blocks before it and then reports the damage:
		 * what matters here is only that no declared size is huge.
		 */
		if (!fs_cursor_ok(&cur))
			return 0;
		if (count < 0 || size < 0 || (uint64_t)size > FS_ARCHIVE_MAX_BLOCK)
			return fail_at(&cur, data, FS_ERR_INVALID,
				       "block with a negative count or a size above the 64 MiB limit",
				       err, err_len);
		if ((uint64_t)size + SYNC_LEN > fs_cursor_remaining(&cur))
			return 0;
		fs_cursor_skip(&cur, (size_t)size);
		marker = fs_cursor_get_bytes(&cur, SYNC_LEN);
		if (memcmp(marker, sync, SYNC_LEN) != 0)
			return fail_at(&cur, data, FS_ERR_INVALID,
				       "block not followed by the file's sync marker", err, err_len);
	}
	return 0;
}

int
fs_archive_check_file(const char *path, char *err, size_t err_len)
{
	struct stat st;
	void *map;
	char reason[200];
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, err_len, "cannot read '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return FS_ERR_SYSTEM;
	}
	if (st.st_size == 0) {
		close(fd);
		snprintf(err, err_len, "'%s' is empty", path);
		return FS_ERR_TRUNCATED;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, err_len, "cannot map '%s': %s", path, strerror(errno));
		return FS_ERR_SYSTEM;
	}
	rc = fs_archive_check_container(map, (size_t)st.st_size, reason, sizeof(reason));
	munmap(map, (size_t)st.st_size);
	if (rc < 0)
		snprintf(err, err_len, "'%s' is not a valid flow archive: %s", path, reason);
	return rc;
}
