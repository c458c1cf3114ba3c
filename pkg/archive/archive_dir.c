/* archive_dir.c - names and lists the files of a flow archive folder. */
#include "archive/archive_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "core/result.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL

/* "flows-" + "YYYYmmddTHHMMSS" + ".mmmZ-" + "nnnnnn" + ".avro" */
#define NAME_LEN (sizeof(FS_ARCHIVE_PREFIX) - 1 + 15 + 6 + 6 + sizeof(FS_ARCHIVE_SUFFIX) - 1)

void
fs_archive_file_name(char *buf, int64_t time_ns, unsigned seq)
{
	time_t secs = (time_t)(time_ns / NS_PER_S);
	int ms = (int)((time_ns % NS_PER_S) / NS_PER_MS);
	struct tm tm;

	if (time_ns < 0) {
		secs = 0;
		ms = 0;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, FS_ARCHIVE_NAME_MAX,
		 FS_ARCHIVE_PREFIX "%04d%02d%02dT%02d%02d%02d.%03dZ-%06u" FS_ARCHIVE_SUFFIX,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ms, seq % 1000000u);
}

/* Parses n decimal digits at s; returns -1 when one is not a digit. */
static int
parse_digits(const char *s, int n)
{
	int value = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		value = value * 10 + (s[i] - '0');
	}
	return value;
}

int
fs_archive_parse_name(const char *name, int64_t *time_ns)
{
	const char *p = name + sizeof(FS_ARCHIVE_PREFIX) - 1;
	struct tm tm;
	int ms;

	if (strlen(name) != NAME_LEN ||
	    strncmp(name, FS_ARCHIVE_PREFIX, sizeof(FS_ARCHIVE_PREFIX) - 1) != 0 ||
	    strcmp(name + NAME_LEN - (sizeof(FS_ARCHIVE_SUFFIX) - 1), FS_ARCHIVE_SUFFIX) != 0)
		return FS_ERR_INVALID;
	/* YYYYmmddTHHMMSS.mmmZ-nnnnnn */
	if (p[8] != 'T' || p[15] != '.' || p[19] != 'Z' || p[20] != '-' ||
	    parse_digits(p + 21, 6) < 0)
		return FS_ERR_INVALID;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = parse_digits(p, 4) - 1900;
	tm.tm_mon = parse_digits(p + 4, 2) - 1;
	tm.tm_mday = parse_digits(p + 6, 2);
	tm.tm_hour = parse_digits(p + 9, 2);
	tm.tm_min = parse_digits(p + 11, 2);
	tm.tm_sec = parse_digits(p + 13, 2);
	ms = parse_digits(p + 16, 3);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60 || ms < 0)
		return FS_ERR_INVALID;
	*time_ns = (int64_t)timegm(&tm) * NS_PER_S + (int64_t)ms * NS_PER_MS;
	return 0;
}

static int
compare_files(const void *a, const void *b)
{
	const struct fs_archive_file *fa = a, *fb = b;

	return strcmp(fa->name, fb->name);
}

int
fs_archive_list(const char *dir, struct fs_archive_file **out, size_t *count,
		char *err, size_t err_len)
{
	struct fs_archive_file *files = NULL;
	size_t n = 0, cap = 0;
	struct dirent *entry;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*count = 0;
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, err_len, "cannot read the archive folder '%s': %s", dir,
			 strerror(errno));
		return FS_ERR_SYSTEM;
	}
	while ((entry = readdir(d)) != NULL && n < FS_ARCHIVE_MAX_FILES) {
		char path[4096];
		struct stat st;
		int64_t start_ns;

		if (fs_archive_parse_name(entry->d_name, &start_ns) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t new_cap = cap ? cap * 2 : 64;
			struct fs_archive_file *grown = realloc(files, new_cap * sizeof(*files));

			if (grown == NULL) {
				snprintf(err, err_len, "out of memory listing '%s'", dir);
				rc = FS_ERR_SYSTEM;
				goto out;
			}
			files = grown;
			cap = new_cap;
		}
		/* parse_name accepted it, so it fits. */
		memcpy(files[n].name, entry->d_name, NAME_LEN + 1);
		files[n].size = (uint64_t)st.st_size;
		files[n].start_ns = start_ns;
		n++;
	}
	if (n > 0)
		qsort(files, n, sizeof(*files), compare_files);
	*out = files;
	*count = n;
	files = NULL;
out:
	free(files);
	closedir(d);
	return rc;
}

bool
fs_archive_file_gone(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 && errno == ENOENT;
}

bool
fs_archive_has_suffix(const char *path)
{
	size_t len = strlen(path);

	return len > 5 && strcasecmp(path + len - 5, ".avro") == 0;
}
