/* text_file.c - writing and searching text files from tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
fs_test_write_file(const char *path, const char *text)
{
	char tmp[512];
	FILE *f;

	assert_true((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) < sizeof(tmp));
	f = fopen(tmp, "w");
	if (!f)
		fail_msg("cannot create %s", tmp);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

bool
fs_test_file_contains(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	char *content = NULL;
	size_t len = 0, cap = 0;
	bool found;

	if (!f)
		fail_msg("cannot read %s", path);
	for (;;) {
		size_t n;

		if (cap - len < 4096 + 1) {
			char *grown;

			cap = cap ? cap * 2 : 16384;
			grown = realloc(content, cap);
			assert_non_null(grown);
			content = grown;
		}
		n = fread(content + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	assert_int_equal(ferror(f), 0);
	fclose(f);
	content[len] = '\0';
	found = strstr(content, text) != NULL;
	free(content);
	return found;
}

bool
fs_test_wait_file_contains(const char *path, const char *text, int timeout_ms)
{
	for (int waited = 0;; waited += 100) {
		if (fs_test_file_contains(path, text))
			return true;
		if (waited >= timeout_ms)
			return false;
		usleep(100 * 1000);
	}
}
