/*
 * test_archive.c - flow archive files: write, rotate, retain, recover and
 * read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive/archive_dir.h"
#include "archive/archive_reader.h"
#include "archive/container_check.h"
#include "archive/archive_writer.h"
#include "avro/flow_codec.h"
#include "core/flow.h"
#include "core/flow_json.h"
#include "core/result.h"

#define NS_PER_S 1000000000LL
#define T0 1700000000000000000LL /* 2023-11-14T22:13:20Z */

struct archive_test {
	char dir[64];
	struct fs_flow_codec *codec;
};

static void
make_flow(struct fs_flow *f, unsigned i)
{
	uint8_t src[4] = { 10, 0, (uint8_t)(i >> 8), (uint8_t)i };
	uint8_t dst[4] = { 192, 0, 2, 80 };
	uint8_t exporter[4] = { 127, 0, 0, 1 };

	fs_flow_clear(f);
	f->flow_type = FS_FLOW_NETFLOW_V9;
	fs_addr_set_v4(&f->exporter_addr, exporter);
	f->exporter_port = 2055;
	f->time_received_ns = T0 + i;
	f->present = FS_F_SRC_ADDR | FS_F_DST_ADDR | FS_F_SRC_PORT | FS_F_DST_PORT |
		     FS_F_PROTO | FS_F_BYTES | FS_F_PACKETS | FS_F_TIME_FLOW_START |
		     FS_F_TIME_FLOW_END;
	fs_addr_set_v4(&f->src_addr, src);
	fs_addr_set_v4(&f->dst_addr, dst);
	f->src_port = (uint16_t)(1024 + i);
	f->dst_port = 443;
	f->proto = 6;
	f->bytes = 1000 + i;
	f->packets = 1 + i % 7;
	f->time_flow_start_ns = T0 - NS_PER_S;
	f->time_flow_end_ns = T0;
}

static size_t
encode(struct archive_test *t, unsigned i, uint8_t *buf)
{
	struct fs_flow f;
	size_t len;

	make_flow(&f, i);
	assert_int_equal(fs_flow_codec_encode(t->codec, &f, buf, FS_FLOW_CODEC_MAX_LEN, &len), 0);
	return len;
}

static void
append_flows(struct archive_test *t, struct fs_archive_writer *w, unsigned first,
	     unsigned count, int64_t now_ns)
{
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];

	for (unsigned i = first; i < first + count; i++) {
		size_t len = encode(t, i, buf);

		assert_int_equal(fs_archive_writer_append(w, buf, len, now_ns), 0);
	}
}

/* Reads every flow of dir's closed files in name order and checks they are flows first.. in order. */
static unsigned
read_back(struct archive_test *t, unsigned first)
{
	struct fs_archive_file *files;
	unsigned expected = first;
	size_t count;
	char err[512];

	assert_int_equal(fs_archive_list(t->dir, &files, &count, err, sizeof(err)), 0);
	for (size_t i = 0; i < count; i++) {
		struct fs_archive_reader *r;
		char path[160];
		struct fs_flow got, want;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", t->dir, files[i].name);
		assert_int_equal(fs_archive_reader_open(&r, path, t->codec, err, sizeof(err)), 0);
		while ((rc = fs_archive_reader_next(r, &got, err, sizeof(err))) == 1) {
			char got_json[FS_FLOW_JSON_MAX], want_json[FS_FLOW_JSON_MAX];

			make_flow(&want, expected++);
			assert_true(fs_flow_json_write(&got, got_json, sizeof(got_json)) > 0);
			assert_true(fs_flow_json_write(&want, want_json, sizeof(want_json)) > 0);
			assert_string_equal(got_json, want_json);
		}
		assert_int_equal(rc, 0);
		fs_archive_reader_free(r);
	}
	free(files);
	return expected - first;
}

static size_t
count_files(struct archive_test *t)
{
	struct fs_archive_file *files;
	size_t count;
	char err[512];

	assert_int_equal(fs_archive_list(t->dir, &files, &count, err, sizeof(err)), 0);
	free(files);
	return count;
}

static size_t
count_temporary(struct archive_test *t)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(t->dir);

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)
			n++;
	}
	closedir(d);
	return n;
}

static struct fs_archive_writer *
new_writer(struct archive_test *t, struct fs_archive_options *opt)
{
	struct fs_archive_writer *w;
	char err[512];

	opt->dir = t->dir;
	if (fs_archive_writer_new(&w, opt, err, sizeof(err)) != 0)
		fail_msg("fs_archive_writer_new: %s", err);
	return w;
}

static int
setup(void **state)
{
	struct archive_test *t = calloc(1, sizeof(*t));
	char err[256];

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/fstest-archive-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->codec = fs_flow_codec_new(err, sizeof(err));
	assert_non_null(t->codec);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct archive_test *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	fs_flow_codec_free(t->codec);
	free(t);
	return 0;
}

static void
file_names_sort_by_time(void **state)
{
	char a[FS_ARCHIVE_NAME_MAX], b[FS_ARCHIVE_NAME_MAX], c[FS_ARCHIVE_NAME_MAX];
	int64_t ns;

	(void)state;
	fs_archive_file_name(a, T0 + 123456789, 7);
	assert_string_equal(a, "flows-20231114T221320.123Z-000007.avro");
	fs_archive_file_name(b, T0 + 123456789, 8);
	fs_archive_file_name(c, T0 + NS_PER_S, 0);
	assert_true(strcmp(a, b) < 0);
	assert_true(strcmp(b, c) < 0);
	assert_int_equal(fs_archive_parse_name(a, &ns), 0);
	assert_int_equal(ns, T0 + 123000000);
	assert_int_equal(fs_archive_parse_name("flows-20231114T221320.123Z-000007.avro.tmp", &ns),
			 FS_ERR_INVALID);
	assert_int_equal(fs_archive_parse_name("flows-2023x114T221320.123Z-000007.avro", &ns),
			 FS_ERR_INVALID);
	assert_int_equal(fs_archive_parse_name("notes.avro", &ns), FS_ERR_INVALID);
}

static void
write_close_read_back(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .codec = "deflate" };
	struct fs_archive_writer *w = new_writer(t, &opt);

	append_flows(t, w, 0, 500, T0);
	/* The open file is temporary, so no reader lists it yet. */
	assert_int_equal(fs_archive_writer_sync(w), 0);
	assert_int_equal(count_files(t), 0);
	assert_int_equal(count_temporary(t), 1);
	assert_int_equal(fs_archive_writer_close(w), 0);
	assert_int_equal(count_temporary(t), 0);
	assert_int_equal(count_files(t), 1);
	assert_int_equal(fs_archive_writer_stats(w)->appended, 500);
	assert_int_equal(fs_archive_writer_stats(w)->files_closed, 1);
	fs_archive_writer_free(w);
	assert_int_equal(read_back(t, 0), 500);
}

static void
write_uncompressed(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .codec = "null" };
	struct fs_archive_writer *w = new_writer(t, &opt);

	append_flows(t, w, 0, 100, T0);
	fs_archive_writer_free(w);
	assert_int_equal(read_back(t, 0), 100);
}

static void
rotate_by_size(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .rotate_bytes = 4096 };
	struct fs_archive_writer *w = new_writer(t, &opt);
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t body = encode(t, 0, buf) - FS_FLOW_CODEC_HEADER_LEN;
	size_t per_file = (4096 + body - 1) / body;

	append_flows(t, w, 0, (unsigned)(per_file * 3), T0);
	/* The third file reached the limit on its last flow and is closed too. */
	assert_int_equal(count_temporary(t), 0);
	assert_int_equal(count_files(t), 3);
	append_flows(t, w, (unsigned)(per_file * 3), 5, T0);
	assert_int_equal(fs_archive_writer_close(w), 0);
	assert_int_equal(count_files(t), 4);
	fs_archive_writer_free(w);
	assert_int_equal(read_back(t, 0), per_file * 3 + 5);
}

static void
rotate_by_time(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .rotate_seconds = 60 };
	struct fs_archive_writer *w = new_writer(t, &opt);

	append_flows(t, w, 0, 10, T0);
	assert_int_equal(fs_archive_writer_tick(w, T0 + 59 * NS_PER_S), 0);
	assert_int_equal(count_files(t), 0);
	assert_int_equal(fs_archive_writer_tick(w, T0 + 60 * NS_PER_S), 0);
	assert_int_equal(count_files(t), 1);
	append_flows(t, w, 10, 10, T0 + 61 * NS_PER_S);
	assert_int_equal(fs_archive_writer_tick(w, T0 + 121 * NS_PER_S), 0);
	assert_int_equal(count_files(t), 2);
	fs_archive_writer_free(w);
	assert_int_equal(read_back(t, 0), 20);
}

static void
retain_files_limit(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .rotate_seconds = 60, .retain_files = 2 };
	struct fs_archive_writer *w = new_writer(t, &opt);

	for (unsigned i = 0; i < 5; i++) {
		int64_t start = T0 + (int64_t)i * 60 * NS_PER_S;

		append_flows(t, w, i * 10, 10, start);
		assert_int_equal(fs_archive_writer_tick(w, start + 60 * NS_PER_S), 0);
	}
	assert_int_equal(count_files(t), 2);
	assert_int_equal(fs_archive_writer_stats(w)->files_removed, 3);
	fs_archive_writer_free(w);
	/* The two newest files remain: flows 30..49. */
	assert_int_equal(read_back(t, 30), 20);
}

static void
retain_bytes_limit(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .rotate_seconds = 60, .codec = "null" };
	struct fs_archive_writer *w = new_writer(t, &opt);
	struct fs_archive_file *files;
	size_t count;
	char err[256];

	append_flows(t, w, 0, 10, T0);
	assert_int_equal(fs_archive_writer_tick(w, T0 + 60 * NS_PER_S), 0);
	fs_archive_writer_free(w);
	assert_int_equal(fs_archive_list(t->dir, &files, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 1);
	/* Room for two files of this size but not three. */
	opt.retain_bytes = files[0].size * 2 + files[0].size / 2;
	free(files);

	w = new_writer(t, &opt);
	for (unsigned i = 1; i < 4; i++) {
		int64_t start = T0 + (int64_t)i * 60 * NS_PER_S;

		append_flows(t, w, i * 10, 10, start);
		assert_int_equal(fs_archive_writer_tick(w, start + 60 * NS_PER_S), 0);
	}
	assert_int_equal(count_files(t), 2);
	fs_archive_writer_free(w);
	assert_int_equal(read_back(t, 20), 20);
}

static void
retain_age_limit(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .rotate_seconds = 3600, .retain_seconds = 86400 };
	struct fs_archive_writer *w = new_writer(t, &opt);

	/* Files named two days and one hour ago, closed now. */
	append_flows(t, w, 0, 10, T0 - 2 * 86400 * NS_PER_S);
	assert_int_equal(fs_archive_writer_tick(w, T0), 0);
	append_flows(t, w, 10, 10, T0 - 3600 * NS_PER_S);
	assert_int_equal(fs_archive_writer_tick(w, T0), 0);
	assert_int_equal(count_files(t), 1);
	fs_archive_writer_free(w);
	assert_int_equal(read_back(t, 10), 10);
}

static void
recover_after_crash(void **state)
{
	struct archive_test *t = *state;
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fs_archive_options opt = { 0 };
		struct fs_archive_writer *w;
		char err[256];

		opt.dir = t->dir;
		if (fs_archive_writer_new(&w, &opt, err, sizeof(err)) != 0)
			_exit(2);
		append_flows(t, w, 0, 300, T0);
		if (fs_archive_writer_sync(w) != 0)
			_exit(3);
		/* Dies without closing, like a crash after the last sync. */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(count_temporary(t), 1);

	{
		/* A block cut short by the crash follows the synced data. */
		struct dirent *e;
		DIR *d = opendir(t->dir);
		char path[400];
		FILE *f;

		assert_non_null(d);
		while ((e = readdir(d)) != NULL && strstr(e->d_name, ".tmp") == NULL)
			;
		assert_non_null(e);
		snprintf(path, sizeof(path), "%s/%s", t->dir, e->d_name);
		closedir(d);
		f = fopen(path, "ab");
		assert_non_null(f);
		fputs("\x14\xe0\x05partial", f);
		fclose(f);
	}

	struct fs_archive_options opt = { 0 };
	struct fs_archive_writer *w = new_writer(t, &opt);

	assert_int_equal(fs_archive_writer_stats(w)->files_recovered, 1);
	assert_int_equal(count_temporary(t), 0);
	assert_int_equal(count_files(t), 1);
	fs_archive_writer_free(w);
	assert_int_equal(read_back(t, 0), 300);
}

static void
invalid_messages_skipped(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { 0 };
	struct fs_archive_writer *w = new_writer(t, &opt);
	uint8_t buf[FS_FLOW_CODEC_MAX_LEN];
	size_t len = encode(t, 0, buf);

	buf[5] ^= 0xff; /* another fingerprint */
	assert_int_equal(fs_archive_writer_append(w, buf, len, T0), FS_ERR_UNSUPPORTED);
	buf[5] ^= 0xff;
	assert_int_equal(fs_archive_writer_append(w, buf, len - 3, T0), FS_ERR_TRUNCATED);
	assert_int_equal(fs_archive_writer_append(w, (const uint8_t *)"hello", 5, T0),
			 FS_ERR_INVALID);
	assert_int_equal(fs_archive_writer_stats(w)->rejected, 3);
	assert_int_equal(fs_archive_writer_stats(w)->unknown_schema, 1);
	assert_int_equal(count_temporary(t), 0);
	fs_archive_writer_free(w);
	assert_int_equal(count_files(t), 0);
}

static void
reader_rejects_damage(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .codec = "null" };
	struct fs_archive_writer *w = new_writer(t, &opt);
	struct fs_archive_file *files;
	struct fs_archive_reader *r;
	struct fs_flow flow;
	char path[160], err[512];
	size_t count;
	struct stat st;
	int rc, n = 0;
	FILE *f;

	append_flows(t, w, 0, 2000, T0);
	fs_archive_writer_free(w);
	assert_int_equal(fs_archive_list(t->dir, &files, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 1);
	snprintf(path, sizeof(path), "%s/%s", t->dir, files[0].name);
	free(files);
	/* Cut the file in the middle of its last block. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 100), 0);
	assert_int_equal(fs_archive_reader_open(&r, path, t->codec, err, sizeof(err)), 0);
	while ((rc = fs_archive_reader_next(r, &flow, err, sizeof(err))) == 1)
		n++;
	assert_int_equal(rc, FS_ERR_INVALID);
	assert_true(n > 0 && n < 2000);
	assert_non_null(strstr(err, "damaged"));
	fs_archive_reader_free(r);

	snprintf(path, sizeof(path), "%s/not-avro.bin", t->dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("Obj", f);
	fclose(f);
	assert_int_equal(fs_archive_reader_open(&r, path, t->codec, err, sizeof(err)),
			 FS_ERR_INVALID);
	assert_null(r);
	snprintf(path, sizeof(path), "%s/missing.avro", t->dir);
	assert_int_equal(fs_archive_reader_open(&r, path, t->codec, err, sizeof(err)),
			 FS_ERR_NOT_FOUND);
}

/* A block declaring 2^40 bytes would make avro-c allocate that much: rejected before it reads. */
static void
container_check_rejects_huge_block(void **state)
{
	uint8_t file[64] = { 'O', 'b', 'j', 1, 0 }; /* magic, empty metadata map */
	size_t len = 5;
	char err[256];

	(void)state;
	memset(file + len, 0xab, 16);                 /* sync marker */
	len += 16;
	file[len++] = 0x02;                           /* 1 object */
	/* zigzag varint of 2^40: 2^41 in 7-bit groups */
	memcpy(file + len, "\x80\x80\x80\x80\x80\x80\x40", 7);
	len += 7;
	memset(file + len, 0, 8);
	len += 8;
	assert_int_equal(fs_archive_check_container(file, len, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "64 MiB"));
	/* The same header with no block at all is a valid, empty file. */
	assert_int_equal(fs_archive_check_container(file, 21, err, sizeof(err)), 0);
}

/* A missing archive folder is created with its parents. */
static void
writer_creates_folder(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .dir = NULL };
	struct fs_archive_writer *w;
	char err[256], nested[300];
	struct stat st;

	snprintf(nested, sizeof(nested), "%s/a/b/", t->dir);
	opt.dir = nested;
	assert_int_equal(fs_archive_writer_new(&w, &opt, err, sizeof(err)), 0);
	assert_int_equal(stat(nested, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	fs_archive_writer_free(w);
}

static void
writer_rejects_bad_options(void **state)
{
	struct archive_test *t = *state;
	struct fs_archive_options opt = { .dir = NULL };
	struct fs_archive_writer *w;
	char err[256], file[300], under_file[320];
	FILE *f;

	/* A folder cannot be made below a regular file. */
	snprintf(file, sizeof(file), "%s/file", t->dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(under_file, sizeof(under_file), "%s/sub", file);
	opt.dir = under_file;
	assert_int_equal(fs_archive_writer_new(&w, &opt, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, file));
	opt.dir = file;
	assert_int_equal(fs_archive_writer_new(&w, &opt, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "not a folder"));
	opt.dir = t->dir;
	opt.codec = "zstd";
	assert_int_equal(fs_archive_writer_new(&w, &opt, err, sizeof(err)), FS_ERR_INVALID);
	assert_non_null(strstr(err, "zstd"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(container_check_rejects_huge_block, NULL, NULL),
		cmocka_unit_test(file_names_sort_by_time),
		cmocka_unit_test_setup_teardown(write_close_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(write_uncompressed, setup, teardown),
		cmocka_unit_test_setup_teardown(rotate_by_size, setup, teardown),
		cmocka_unit_test_setup_teardown(rotate_by_time, setup, teardown),
		cmocka_unit_test_setup_teardown(retain_files_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(retain_bytes_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(retain_age_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(recover_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_messages_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(reader_rejects_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(writer_rejects_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(writer_creates_folder, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
