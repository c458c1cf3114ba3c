/* archive_writer.c - flow messages to rotated Avro object container files. */
#include "archive/archive_writer.h"

#include <avro.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive_dir.h"
#include "avro/fingerprint.h"
#include "avro/flow_codec.h"
#include "avro/schemas.h"
#include "core/log.h"
#include "core/result.h"

#define NS_PER_S 1000000000LL
#define FLOW_SCHEMA_PREFIX "flow"

/* One flow schema version the writer can put in a file header. */
struct archive_schema {
	uint64_t fingerprint;
	avro_schema_t schema;
};

struct fs_archive_writer {
	struct fs_archive_options opt;
	char dir[PATH_MAX];
	char codec_name[16];
	struct archive_schema schemas[FS_FLOW_CODEC_MAX_VERSIONS];
	size_t schema_count;
	struct fs_flow_codec *codec; /* validates messages before they are written */
	struct fs_flow scratch;
	unsigned seq;                /* sequence number of the next file name */

	/* The open file; file is NULL when none is open. */
	avro_file_writer_t file;
	FILE *fp;                    /* owned by file */
	size_t file_schema;          /* index in schemas */
	char name[FS_ARCHIVE_NAME_MAX];
	int64_t opened_ns;
	uint64_t file_bytes;
	bool unsynced;

	struct fs_archive_writer_stats stats;
	struct fs_ratelimit reject_rl;
};

static bool
is_flow_schema_file(const char *name)
{
	size_t len = strlen(name);

	return strncmp(name, FLOW_SCHEMA_PREFIX, strlen(FLOW_SCHEMA_PREFIX)) == 0 &&
	       len > 5 && strcmp(name + len - 5, ".avsc") == 0 &&
	       (name[4] == '.');
}

/* Loads every embedded flow schema version with its fingerprint. */
static int
load_schemas(struct fs_archive_writer *w, char *err, size_t err_len)
{
	for (size_t i = 0; i < fs_embedded_schema_count; i++) {
		const struct fs_embedded_schema *s = &fs_embedded_schemas[i];
		struct archive_schema *as;
		char reason[256];

		if (!is_flow_schema_file(s->name))
			continue;
		if (w->schema_count == FS_FLOW_CODEC_MAX_VERSIONS)
			break;
		as = &w->schemas[w->schema_count];
		if (fs_avro_fingerprint(s->text, strlen(s->text), &as->fingerprint,
					reason, sizeof(reason)) < 0) {
			snprintf(err, err_len, "embedded schema %s: %s", s->name, reason);
			return FS_ERR_SYSTEM;
		}
		if (avro_schema_from_json_length(s->text, strlen(s->text), &as->schema) != 0) {
			snprintf(err, err_len, "embedded schema %s: %s", s->name, avro_strerror());
			return FS_ERR_SYSTEM;
		}
		w->schema_count++;
	}
	if (w->schema_count == 0) {
		snprintf(err, err_len, "no flow schema is compiled into the library");
		return FS_ERR_SYSTEM;
	}
	return 0;
}

static int
find_schema(const struct fs_archive_writer *w, uint64_t fingerprint, size_t *index)
{
	for (size_t i = 0; i < w->schema_count; i++) {
		if (w->schemas[i].fingerprint == fingerprint) {
			*index = i;
			return 0;
		}
	}
	return FS_ERR_NOT_FOUND;
}

static void
join_path(char *buf, size_t len, const char *dir, const char *name, const char *suffix)
{
	snprintf(buf, len, "%s/%s%s", dir, name, suffix);
}

/* Makes a rename in dir durable. */
static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rc = 0;

	if (fd < 0)
		return FS_ERR_SYSTEM;
	if (fsync(fd) != 0)
		rc = FS_ERR_SYSTEM;
	close(fd);
	return rc;
}

/* Picks a closed-file name for time_ns that does not exist yet. */
static void
choose_name(struct fs_archive_writer *w, int64_t time_ns, char *name)
{
	char path[PATH_MAX + FS_ARCHIVE_NAME_MAX + 8];

	for (unsigned tries = 0; tries < 1000000u; tries++) {
		struct stat st;

		fs_archive_file_name(name, time_ns, w->seq);
		w->seq = (w->seq + 1) % 1000000u;
		join_path(path, sizeof(path), w->dir, name, "");
		if (stat(path, &st) != 0)
			return;
		join_path(path, sizeof(path), w->dir, name, FS_ARCHIVE_TMP_SUFFIX);
		if (stat(path, &st) != 0)
			return;
	}
}

static int
open_file(struct fs_archive_writer *w, size_t schema_index, int64_t now_ns)
{
	char path[PATH_MAX + FS_ARCHIVE_NAME_MAX + 8];
	int rc;

	choose_name(w, now_ns, w->name);
	join_path(path, sizeof(path), w->dir, w->name, FS_ARCHIVE_TMP_SUFFIX);
	w->fp = fopen(path, "wbx");
	if (w->fp == NULL) {
		fs_log(FS_LOG_ERR, "archive", "cannot create %s: %s", path, strerror(errno));
		return FS_ERR_SYSTEM;
	}
	rc = avro_file_writer_create_with_codec_fp(w->fp, path, 1,
						   w->schemas[schema_index].schema,
						   &w->file, w->codec_name,
						   FS_ARCHIVE_BLOCK_SIZE);
	if (rc != 0) {
		fs_log(FS_LOG_ERR, "archive", "cannot start the Avro file %s: %s", path,
		       avro_strerror());
		fclose(w->fp);
		w->fp = NULL;
		w->file = NULL;
		unlink(path);
		return FS_ERR_SYSTEM;
	}
	w->file_schema = schema_index;
	w->opened_ns = now_ns;
	w->file_bytes = 0;
	w->unsynced = true;
	return 0;
}

int
fs_archive_writer_sync(struct fs_archive_writer *w)
{
	if (w->file == NULL || !w->unsynced)
		return 0;
	if (avro_file_writer_flush(w->file) != 0 || fflush(w->fp) != 0) {
		fs_log(FS_LOG_ERR, "archive", "cannot write %s/%s%s: %s", w->dir, w->name,
		       FS_ARCHIVE_TMP_SUFFIX, strerror(errno));
		return FS_ERR_SYSTEM;
	}
	if (fsync(fileno(w->fp)) != 0) {
		fs_log(FS_LOG_ERR, "archive", "fsync of %s/%s%s failed: %s", w->dir, w->name,
		       FS_ARCHIVE_TMP_SUFFIX, strerror(errno));
		return FS_ERR_SYSTEM;
	}
	w->unsynced = false;
	return 0;
}

/*
 * Applies the retention limits to the closed files, oldest first, always
 * keeping the newest one.
 */
static int
apply_retention(struct fs_archive_writer *w, int64_t now_ns)
{
	struct fs_archive_file *files;
	uint64_t total = 0;
	size_t count;
	char err[256];

	if (w->opt.retain_files == 0 && w->opt.retain_bytes == 0 && w->opt.retain_seconds == 0)
		return 0;
	if (fs_archive_list(w->dir, &files, &count, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "archive", "retention not applied: %s", err);
		return FS_ERR_SYSTEM;
	}
	for (size_t i = 0; i < count; i++)
		total += files[i].size;
	for (size_t i = 0; i + 1 < count; i++) {
		size_t left = count - i;
		bool too_many = w->opt.retain_files != 0 && left > w->opt.retain_files;
		bool too_big = w->opt.retain_bytes != 0 && total > w->opt.retain_bytes;
		bool too_old = w->opt.retain_seconds != 0 &&
			       files[i].start_ns < now_ns - (int64_t)w->opt.retain_seconds * NS_PER_S;
		char path[PATH_MAX + FS_ARCHIVE_NAME_MAX + 8];

		if (!too_many && !too_big && !too_old)
			break;
		join_path(path, sizeof(path), w->dir, files[i].name, "");
		if (unlink(path) != 0 && errno != ENOENT) {
			fs_log(FS_LOG_WARNING, "archive", "cannot delete %s: %s", path,
			       strerror(errno));
			continue;
		}
		fs_log(FS_LOG_INFO, "archive", "deleted %s (%llu bytes) by the retention limit",
		       path, (unsigned long long)files[i].size);
		w->stats.files_removed++;
		total -= files[i].size;
	}
	free(files);
	return 0;
}

/* Closes the open file: flush, fsync, rename to its final name, fsync the folder. */
static int
close_file(struct fs_archive_writer *w, int64_t now_ns)
{
	char tmp[PATH_MAX + FS_ARCHIVE_NAME_MAX + 8], path[PATH_MAX + FS_ARCHIVE_NAME_MAX + 8];
	int rc;

	if (w->file == NULL)
		return 0;
	w->unsynced = true;
	rc = fs_archive_writer_sync(w);
	if (avro_file_writer_close(w->file) != 0 && rc == 0) {
		fs_log(FS_LOG_ERR, "archive", "cannot close %s/%s: %s", w->dir, w->name,
		       avro_strerror());
		rc = FS_ERR_SYSTEM;
	}
	w->file = NULL;
	w->fp = NULL;
	if (rc < 0)
		return rc;
	join_path(tmp, sizeof(tmp), w->dir, w->name, FS_ARCHIVE_TMP_SUFFIX);
	join_path(path, sizeof(path), w->dir, w->name, "");
	if (rename(tmp, path) != 0) {
		fs_log(FS_LOG_ERR, "archive", "cannot rename %s to %s: %s", tmp, path,
		       strerror(errno));
		return FS_ERR_SYSTEM;
	}
	if (sync_dir(w->dir) < 0) {
		fs_log(FS_LOG_ERR, "archive", "fsync of the folder %s failed: %s", w->dir,
		       strerror(errno));
		return FS_ERR_SYSTEM;
	}
	w->stats.files_closed++;
	fs_log(FS_LOG_INFO, "archive", "closed %s (%llu body bytes)", path,
	       (unsigned long long)w->file_bytes);
	return apply_retention(w, now_ns);
}

static int64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Copies every readable record of the temporary file name (without suffix) to its closed name. */
static int
recover_file(struct fs_archive_writer *w, const char *name)
{
	char tmp[PATH_MAX + FS_ARCHIVE_NAME_MAX + 8], path[PATH_MAX + FS_ARCHIVE_NAME_MAX + 8];
	avro_file_reader_t reader = NULL;
	avro_file_writer_t writer = NULL;
	avro_value_iface_t *iface = NULL;
	avro_schema_t schema = NULL;
	avro_value_t value;
	bool have_value = false;
	uint64_t records = 0;
	int rc = 0;

	join_path(tmp, sizeof(tmp), w->dir, name, FS_ARCHIVE_TMP_SUFFIX);
	join_path(path, sizeof(path), w->dir, name, "");
	if (avro_file_reader(tmp, &reader) != 0) {
		/* Not even a complete header: nothing was synced into it. */
		fs_log(FS_LOG_WARNING, "archive", "deleting %s, which has no complete header: %s",
		       tmp, avro_strerror());
		reader = NULL;
		goto remove_tmp;
	}
	schema = avro_file_reader_get_writer_schema(reader); /* a new reference */
	iface = avro_generic_class_from_schema(schema);
	if (iface == NULL || avro_generic_value_new(iface, &value) != 0) {
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	have_value = true;
	if (avro_file_writer_create_with_codec(path, schema, &writer, w->codec_name,
					       FS_ARCHIVE_BLOCK_SIZE) != 0) {
		fs_log(FS_LOG_ERR, "archive", "cannot create %s: %s", path, avro_strerror());
		writer = NULL;
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	while (avro_file_reader_read_value(reader, &value) == 0) {
		if (avro_file_writer_append_value(writer, &value) != 0) {
			fs_log(FS_LOG_ERR, "archive", "cannot write %s: %s", path, avro_strerror());
			rc = FS_ERR_SYSTEM;
			goto out;
		}
		records++;
	}
	if (avro_file_writer_close(writer) != 0) {
		writer = NULL;
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	writer = NULL;
	fs_log(FS_LOG_WARNING, "archive", "recovered %llu flows of %s left by an earlier run into %s",
	       (unsigned long long)records, tmp, path);
	w->stats.files_recovered++;
remove_tmp:
	if (unlink(tmp) != 0) {
		fs_log(FS_LOG_ERR, "archive", "cannot delete %s: %s", tmp, strerror(errno));
		rc = FS_ERR_SYSTEM;
	}
out:
	if (writer != NULL)
		avro_file_writer_close(writer);
	if (have_value)
		avro_value_decref(&value);
	if (iface != NULL)
		avro_value_iface_decref(iface);
	if (schema != NULL)
		avro_schema_decref(schema);
	if (reader != NULL)
		avro_file_reader_close(reader);
	return rc;
}

static int
recover_temporary_files(struct fs_archive_writer *w, char *err, size_t err_len)
{
	size_t tmp_len = strlen(FS_ARCHIVE_TMP_SUFFIX);
	struct dirent *entry;
	int rc = 0;
	DIR *d;

	d = opendir(w->dir);
	if (d == NULL) {
		snprintf(err, err_len, "cannot read the archive folder '%s': %s", w->dir,
			 strerror(errno));
		return FS_ERR_SYSTEM;
	}
	while ((entry = readdir(d)) != NULL) {
		char name[FS_ARCHIVE_NAME_MAX];
		size_t len = strlen(entry->d_name);
		int64_t start_ns;

		if (len <= tmp_len || len - tmp_len >= sizeof(name) ||
		    strcmp(entry->d_name + len - tmp_len, FS_ARCHIVE_TMP_SUFFIX) != 0)
			continue;
		memcpy(name, entry->d_name, len - tmp_len);
		name[len - tmp_len] = '\0';
		if (fs_archive_parse_name(name, &start_ns) < 0)
			continue;
		if (recover_file(w, name) < 0) {
			snprintf(err, err_len, "cannot recover the temporary file %s/%s",
				 w->dir, entry->d_name);
			rc = FS_ERR_SYSTEM;
			break;
		}
	}
	closedir(d);
	if (rc == 0)
		sync_dir(w->dir);
	return rc;
}

/* Creates dir and its missing parents with mode 0755, as mkdir -p does. */
static int
make_folder(const char *dir, char *err, size_t err_len)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			snprintf(err, err_len, "cannot create the archive folder '%s': %s", path,
				 strerror(errno));
			return -1;
		}
		path[i] = dir[i];
	}
	return 0;
}

int
fs_archive_writer_new(struct fs_archive_writer **out, const struct fs_archive_options *opt,
		      char *err, size_t err_len)
{
	struct fs_archive_writer *w;
	struct stat st;
	int rc;

	*out = NULL;
	if (opt->dir == NULL || opt->dir[0] == '\0' || strlen(opt->dir) >= PATH_MAX) {
		snprintf(err, err_len, "the archive folder name is empty or too long");
		return FS_ERR_INVALID;
	}
	if (make_folder(opt->dir, err, err_len) < 0)
		return FS_ERR_INVALID;
	if (stat(opt->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, err_len, "the archive folder '%s' is not a folder", opt->dir);
		return FS_ERR_INVALID;
	}
	if (opt->codec != NULL && strcmp(opt->codec, "null") != 0 &&
	    strcmp(opt->codec, "deflate") != 0) {
		snprintf(err, err_len, "invalid Avro codec '%s': use null or deflate", opt->codec);
		return FS_ERR_INVALID;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		snprintf(err, err_len, "out of memory for the archive writer");
		return FS_ERR_SYSTEM;
	}
	w->opt = *opt;
	snprintf(w->dir, sizeof(w->dir), "%s", opt->dir);
	snprintf(w->codec_name, sizeof(w->codec_name), "%s", opt->codec ? opt->codec : "deflate");
	w->opt.dir = w->dir;
	w->opt.codec = w->codec_name;
	w->reject_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);

	rc = load_schemas(w, err, err_len);
	if (rc < 0)
		goto fail;
	w->codec = fs_flow_codec_new(err, err_len);
	if (w->codec == NULL) {
		rc = FS_ERR_SYSTEM;
		goto fail;
	}
	rc = recover_temporary_files(w, err, err_len);
	if (rc < 0)
		goto fail;
	apply_retention(w, wall_ns());
	*out = w;
	return 0;
fail:
	fs_archive_writer_free(w);
	return rc;
}

static uint64_t
read_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Appends one flow, the single-object encoding msg of len bytes, which
 * fs_flow_codec_decode_next() returned rc for.
 */
static int
append_flow(struct fs_archive_writer *w, const uint8_t *msg, size_t len, int64_t now_ns, int rc)
{
	size_t schema_index = 0;

	if (rc == 0 && find_schema(w, read_le64(msg + 2), &schema_index) < 0)
		rc = FS_ERR_UNSUPPORTED;
	if (rc < 0) {
		w->stats.rejected++;
		if (rc == FS_ERR_UNSUPPORTED)
			w->stats.unknown_schema++;
		fs_log_limited(&w->reject_rl, FS_LOG_WARNING, "archive",
			       "skipped a flow of %zu bytes that is not valid: %s", len,
			       rc == FS_ERR_UNSUPPORTED ? "unknown schema fingerprint"
							: fs_result_name(rc));
		return rc;
	}
	if (w->file != NULL && w->file_schema != schema_index) {
		rc = close_file(w, now_ns);
		if (rc < 0)
			return rc;
	}
	if (w->file == NULL) {
		rc = open_file(w, schema_index, now_ns);
		if (rc < 0)
			return rc;
	}
	if (avro_file_writer_append_encoded(w->file, msg + FS_FLOW_CODEC_HEADER_LEN,
					    (int64_t)(len - FS_FLOW_CODEC_HEADER_LEN)) != 0) {
		fs_log(FS_LOG_ERR, "archive", "cannot append to %s/%s%s: %s", w->dir, w->name,
		       FS_ARCHIVE_TMP_SUFFIX, avro_strerror());
		return FS_ERR_SYSTEM;
	}
	w->unsynced = true;
	w->file_bytes += len - FS_FLOW_CODEC_HEADER_LEN;
	w->stats.body_bytes += len - FS_FLOW_CODEC_HEADER_LEN;
	w->stats.appended++;
	if (w->opt.rotate_bytes != 0 && w->file_bytes >= w->opt.rotate_bytes)
		return close_file(w, now_ns);
	return 0;
}

int
fs_archive_writer_append(struct fs_archive_writer *w, const uint8_t *msg, size_t len,
			 int64_t now_ns)
{
	size_t pos = 0;
	int status = 0;

	do {
		size_t start = pos;
		int rc = fs_flow_codec_decode_next(w->codec, msg, len, &pos, &w->scratch);

		rc = append_flow(w, msg + start, pos - start, now_ns, rc);
		if (rc == FS_ERR_SYSTEM)
			return rc;
		if (rc < 0 && status == 0)
			status = rc;
	} while (pos < len);
	return status;
}

int
fs_archive_writer_tick(struct fs_archive_writer *w, int64_t now_ns)
{
	if (w->file == NULL || w->opt.rotate_seconds == 0)
		return 0;
	if (now_ns - w->opened_ns < (int64_t)w->opt.rotate_seconds * NS_PER_S)
		return 0;
	return close_file(w, now_ns);
}

int
fs_archive_writer_close(struct fs_archive_writer *w)
{
	return close_file(w, wall_ns());
}

const struct fs_archive_writer_stats *
fs_archive_writer_stats(const struct fs_archive_writer *w)
{
	return &w->stats;
}

void
fs_archive_writer_free(struct fs_archive_writer *w)
{
	if (w == NULL)
		return;
	if (w->file != NULL)
		close_file(w, wall_ns());
	for (size_t i = 0; i < w->schema_count; i++)
		avro_schema_decref(w->schemas[i].schema);
	fs_flow_codec_free(w->codec);
	free(w);
}
