/*
 * replay_main.c - runs a libFuzzer target without libFuzzer.
 *
 * Usage: fuzz_xxx-replay PATH...
 * Each PATH is a file, or a folder walked recursively; every regular file is
 * passed once to LLVMFuzzerTestOneInput().  A crash aborts the program, so
 * a zero exit status means every input passed.  Exits 1 when a path cannot
 * be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are cut; the decoders see at most one datagram. */
#define REPLAY_MAX_INPUT (1u << 20)

static unsigned long replayed;

static int
replay_file(const char *path)
{
	static uint8_t buf[REPLAY_MAX_INPUT];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (!fp) {
		fprintf(stderr, "replay: cannot open '%s'\n", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, n);
	replayed++;
	return 0;
}

static int
replay_path(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *entry;
	int rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: '%s' not found\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? replay_file(path) : 0;

	dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "replay: cannot open folder '%s'\n", path);
		return -1;
	}
	while ((entry = readdir(dir)) != NULL) {
		char child[4096];

		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, entry->d_name);
		if (replay_path(child) != 0)
			rc = -1;
	}
	closedir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (replay_path(argv[i]) != 0)
			rc = 1;
	}
	printf("replayed %lu inputs\n", replayed);
	return rc;
}
