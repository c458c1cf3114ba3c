/*
 * process.h - starts and stops the project's programs from tests.
 *
 * Binaries are looked up in $FSTEST_BIN_DIR (default build/bin), so the same
 * test runs against the plain and the sanitizer build.
 */
#ifndef FS_TEST_PROCESS_H
#define FS_TEST_PROCESS_H

#include <sys/types.h>

/*
 * Starts program (a name in the binary folder) with argv (NULL-terminated,
 * argv[0] included) and the extra environment entries in env ("NAME=value",
 * NULL-terminated, may be NULL), stdout and stderr appended to log_path,
 * which exists when this returns.  Returns the pid, or -1 with the reason
 * on stderr.
 */
pid_t fs_test_spawn(const char *program, char *const argv[],
		    char *const env[], const char *log_path);

/*
 * Sends SIGTERM, waits up to timeout_ms, then SIGKILL.  Returns the exit
 * status (0..255), 128 + the signal number when it was killed, or -1.
 */
int fs_test_stop(pid_t pid, int timeout_ms);

/* Waits up to timeout_ms for the process to exit; returns its status as fs_test_stop() or -2 on timeout. */
int fs_test_wait(pid_t pid, int timeout_ms);

/* Writes the binary folder's path for program into buf.  Returns buf. */
char *fs_test_bin_path(const char *program, char *buf, size_t len);

/* Waits up to timeout_ms for path to exist with content.  Returns 0 or -1. */
int fs_test_wait_file(const char *path, int timeout_ms);

/*
 * Prints the file at path (a program's log) to stderr after a line with its
 * path.  Prints nothing when the file cannot be opened.
 */
void fs_test_print_file(const char *path);

/* Prints the log dir/name.log of a program as fs_test_print_file() does. */
void fs_test_print_log(const char *dir, const char *name);

#endif
