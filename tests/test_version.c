/*
 * test_version.c - every program prints its name and the release of
 * core/version.h on stdout for --version and exits 0, and --help names
 * --version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/version.h"
#include "support/process.h"

static const char *const programs[] = {
	"flowsift",		"flowsift-broker", "flowsift-console", "flowsift-enrich",
	"flowsift-filter",	"flowsift-ingest", "flowsift-report",  "flowsift-gentraffic",
};

/* Runs program with one argument and returns its exit status; its output goes to log_path. */
static int
run_one(const char *program, const char *arg, const char *log_path)
{
	char *argv[] = { (char *)program, (char *)arg, NULL };
	pid_t pid;

	unlink(log_path);
	pid = fs_test_spawn(program, argv, NULL, log_path);
	assert_true(pid > 0);
	return fs_test_wait(pid, 30000);
}

static char *
read_log(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 8192);
	size_t n;

	assert_non_null(f);
	assert_non_null(text);
	n = fread(text, 1, 8191, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void
version_names_program_and_release(void **state)
{
	char log_path[] = "/tmp/fstest-version-XXXXXX";
	int fd = mkstemp(log_path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		char want[128];
		char *text;

		assert_int_equal(run_one(programs[i], "--version", log_path), 0);
		text = read_log(log_path);
		snprintf(want, sizeof(want), "%s %s\n", programs[i], FS_VERSION);
		if (strcmp(text, want) != 0)
			fail_msg("%s --version printed '%s', not '%s'", programs[i], text, want);
		free(text);

		assert_int_equal(run_one(programs[i], "--help", log_path), 0);
		text = read_log(log_path);
		if (!strstr(text, "--version"))
			fail_msg("%s --help does not name --version:\n%s", programs[i], text);
		free(text);
	}
	unlink(log_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version_names_program_and_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
