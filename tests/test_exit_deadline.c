/*
 * test_exit_deadline.c - the stop deadline ends a process that hangs, logs
 * why, and does not hold back one that exits on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/exit_deadline.h"
#include "core/log.h"
#include "support/text_file.h"

/* Generous: the child's deadline is 1 s, and a loaded machine may be slow. */
#define WAIT_S 30

/*
 * Runs a child that arms a deadline of deadline_s, then sleeps sleep_s and
 * exits 0.  Returns its wait status; its stderr goes to log_path.
 */
static int
run_child(unsigned deadline_s, unsigned sleep_s, const char *log_path)
{
	pid_t pid = fork();
	int status = -1;

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(99);
		if (fs_exit_deadline_arm("test", deadline_s) != 0)
			_exit(98);
		sleep(sleep_s);
		_exit(0);
	}
	for (int i = 0; i < WAIT_S * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("the child still ran after %d s", WAIT_S);
	return status;
}

static void
deadline_ends_hung_process(void **state)
{
	char path[] = "/tmp/fstest-deadline-XXXXXX";
	int fd = mkstemp(path);
	int status;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	status = run_child(1, 3 * WAIT_S, path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true(fs_test_file_contains(path, "stopping took longer than 1 s"));
	unlink(path);
}

static void
deadline_lets_process_exit(void **state)
{
	char path[] = "/tmp/fstest-deadline-XXXXXX";
	int fd = mkstemp(path);
	int status;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	status = run_child(3 * WAIT_S, 0, path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(fs_test_file_contains(path, "stopping took longer"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deadline_ends_hung_process),
		cmocka_unit_test(deadline_lets_process_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
