/* process.c - spawning and stopping programs for tests. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *
fs_test_bin_path(const char *program, char *buf, size_t len)
{
	const char *dir = getenv("FSTEST_BIN_DIR");

	snprintf(buf, len, "%s/%s", dir && *dir ? dir : "build/bin", program);
	return buf;
}

pid_t
fs_test_spawn(const char *program, char *const argv[], char *const env[],
	      const char *log_path)
{
	char path[512];
	pid_t pid;
	int log_fd;

	fs_test_bin_path(program, path, sizeof(path));
	/* Opened before the fork, so that the log exists when this returns. */
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		fprintf(stderr, "cannot open log file %s: %s\n", log_path, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fork failed: %s\n", strerror(errno));
		close(log_fd);
		return -1;
	}
	if (pid == 0) {
		dup2(log_fd, STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
		for (size_t i = 0; env && env[i]; i++)
			putenv(env[i]);
		execv(path, argv);
		fprintf(stderr, "cannot run '%s': %s\n", path, strerror(errno));
		_exit(127);
	}
	close(log_fd);
	return pid;
}

static int
decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int
fs_test_wait(pid_t pid, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return decode_status(status);
		if (r < 0)
			return -1;
		usleep(20000);
	}
	return -2;
}

int
fs_test_stop(pid_t pid, int timeout_ms)
{
	int status;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	status = fs_test_wait(pid, timeout_ms);
	if (status == -2) {
		kill(pid, SIGKILL);
		status = fs_test_wait(pid, 5000);
		return status < 0 ? status : 128 + SIGKILL;
	}
	return status;
}

int
fs_test_wait_file(const char *path, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		struct stat st;

		if (stat(path, &st) == 0 && st.st_size > 0)
			return 0;
		usleep(20000);
	}
	return -1;
}

void
fs_test_print_file(const char *path)
{
	char line[2048];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	fprintf(stderr, "--- %s\n", path);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

void
fs_test_print_log(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	fs_test_print_file(path);
}
