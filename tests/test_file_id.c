/*
 * test_file_id.c - core/file_id.h: a file's identity changes with every
 * way a new version is put in place, and stays while the file is unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_id.h"

static char dir[64];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
path_in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fstest-file-id-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
unchanged_file_keeps_identity(void **state)
{
	struct fs_file_id a, b;
	char path[128];

	(void)state;
	path_in_dir(path, sizeof(path), "same");
	write_file(path, "rule a: any\n");
	fs_file_id_read(path, &a);
	fs_file_id_read(path, &b);
	assert_true(a.exists);
	assert_true(fs_file_id_equal(&a, &b));
}

static void
missing_file_has_no_identity(void **state)
{
	struct fs_file_id a, b;
	char path[128];

	(void)state;
	path_in_dir(path, sizeof(path), "missing");
	fs_file_id_read(path, &a);
	fs_file_id_read("", &b);
	assert_false(a.exists);
	assert_false(b.exists);
	assert_true(fs_file_id_equal(&a, &b));

	write_file(path, "x");
	fs_file_id_read(path, &b);
	assert_false(fs_file_id_equal(&a, &b));
}

static void
rename_over_changes_identity(void **state)
{
	struct fs_file_id before, after;
	char path[128], tmp[128];

	(void)state;
	path_in_dir(path, sizeof(path), "renamed");
	path_in_dir(tmp, sizeof(tmp), "renamed.tmp");
	write_file(path, "rule a: any\n");
	fs_file_id_read(path, &before);
	/* The same content, so the same size. */
	write_file(tmp, "rule a: any\n");
	assert_int_equal(rename(tmp, path), 0);
	fs_file_id_read(path, &after);
	assert_false(fs_file_id_equal(&before, &after));
}

static void
edit_in_place_changes_identity(void **state)
{
	struct fs_file_id before, after;
	char path[128];

	(void)state;
	path_in_dir(path, sizeof(path), "edited");
	write_file(path, "rule a: any\n");
	fs_file_id_read(path, &before);
	write_file(path, "rule a: any\nrule b: any\n");
	fs_file_id_read(path, &after);
	assert_int_equal(before.ino, after.ino);
	assert_false(fs_file_id_equal(&before, &after));
}

/* The kubelet's ConfigMap update: the path stays, the ..data link moves to a new folder. */
static void
configmap_update_changes_identity(void **state)
{
	struct fs_file_id before, after;
	char path[128], v1[128], v2[128], file[160], data[128], data_tmp[128];

	(void)state;
	path_in_dir(v1, sizeof(v1), "..v1");
	path_in_dir(v2, sizeof(v2), "..v2");
	path_in_dir(data, sizeof(data), "..data");
	path_in_dir(data_tmp, sizeof(data_tmp), "..data_tmp");
	path_in_dir(path, sizeof(path), "filter.rules");
	assert_int_equal(mkdir(v1, 0700), 0);
	assert_int_equal(mkdir(v2, 0700), 0);
	snprintf(file, sizeof(file), "%s/filter.rules", v1);
	write_file(file, "rule a: any\n");
	snprintf(file, sizeof(file), "%s/filter.rules", v2);
	write_file(file, "rule a: any\n");
	assert_int_equal(symlink("..v1", data), 0);
	assert_int_equal(symlink("..data/filter.rules", path), 0);
	fs_file_id_read(path, &before);
	assert_true(before.exists);

	assert_int_equal(symlink("..v2", data_tmp), 0);
	assert_int_equal(rename(data_tmp, data), 0);
	fs_file_id_read(path, &after);
	assert_true(after.exists);
	assert_false(fs_file_id_equal(&before, &after));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unchanged_file_keeps_identity),
		cmocka_unit_test(missing_file_has_no_identity),
		cmocka_unit_test(rename_over_changes_identity),
		cmocka_unit_test(edit_in_place_changes_identity),
		cmocka_unit_test(configmap_update_changes_identity),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
