/* corpus.c - locating and reading corpus captures for tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "corpus.h"

#include <stdio.h>
#include <stdlib.h>

const char *
fs_test_corpus_dir(void)
{
	const char *dir = getenv("FLOWSIFT_CORPUS");

	return dir != NULL && dir[0] != '\0' ? dir : "../shared/corpus";
}

size_t
fs_test_corpus_read(const char *relative, uint8_t *buf, size_t size)
{
	char path[1024];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", fs_test_corpus_dir(), relative);
	fp = fopen(path, "rb");
	if (!fp) {
		print_message("corpus file %s not found (set FLOWSIFT_CORPUS); skipping\n", path);
		return 0;
	}
	n = fread(buf, 1, size, fp);
	fclose(fp);
	return n;
}
