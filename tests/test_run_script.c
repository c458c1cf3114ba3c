/*
 * test_run_script.c - scripts/run.sh (`make run`): how it stops and the
 * status it ends with.
 *
 * Each test runs the real script from the repository root with a private
 * run.dir, every listener on port 0 and its own Redis port.  So it starts
 * the embedded broker, redis-server and every worker of build/bin, the
 * script's fixed binary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/http_probe.h"
#include "support/process.h"
#include "support/text_file.h"

/* Maximum time of every wait, in ms.  No check depends on a wait being short. */
#define WAIT_MS 90000

/* Maximum size kept of the terminal output of the pty test. */
#define PTY_OUTPUT_MAX (256 * 1024)

struct fixture {
	char dir[64];
	char config_env[160];
	char redis_port_env[40];
	char log_path[128];
	pid_t script;          /* scripts/run.sh, 0 when not running */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint16_t redis_port = fs_test_free_port(SOCK_STREAM);
	char path[128];
	FILE *config;

	assert_non_null(f);
	assert_true(redis_port > 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/fstest-run-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/flowsift.conf", f->dir);
	config = fopen(path, "w");
	assert_non_null(config);
	fprintf(config,
		"run.dir = %s\n"
		"ingest.listen = 127.0.0.1:0\n"
		"ingest.listen.tcp = 127.0.0.1:0\n"
		"ingest.metrics.listen = 127.0.0.1:0\n"
		"enrich.metrics.listen = 127.0.0.1:0\n"
		"report.metrics.listen = 127.0.0.1:0\n"
		"filter.metrics.listen = 127.0.0.1:0\n"
		"console.listen = 127.0.0.1:0\n",
		f->dir);
	assert_int_equal(fclose(config), 0);
	snprintf(f->config_env, sizeof(f->config_env), "FLOWSIFT_CONFIG=%s", path);
	snprintf(f->redis_port_env, sizeof(f->redis_port_env), "RUN_REDIS_PORT=%u", redis_port);
	snprintf(f->log_path, sizeof(f->log_path), "%s/run.out", f->dir);
	/* Exists from the start, because the waits below fail on a log that cannot be read. */
	config = fopen(f->log_path, "w");
	assert_non_null(config);
	assert_int_equal(fclose(config), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	/* The script stops every process it started when it gets SIGTERM. */
	if (f->script > 0 && fs_test_stop(f->script, WAIT_MS) != 0)
		fs_test_print_file(f->log_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "note: could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* Starts scripts/run.sh with its output in f->log_path and stdin from /dev/null. */
static void
start_script(struct fixture *f)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int out = open(f->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int in = open("/dev/null", O_RDONLY);

		if (out < 0 || in < 0)
			_exit(127);
		dup2(in, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
		putenv(f->config_env);
		putenv(f->redis_port_env);
		execl("/bin/sh", "sh", "scripts/run.sh", (char *)NULL);
		_exit(127);
	}
	f->script = pid;
	if (!fs_test_wait_file_contains(f->log_path, "run: press Ctrl-C to stop", WAIT_MS)) {
		fs_test_print_file(f->log_path);
		fail_msg("scripts/run.sh did not finish starting");
	}
}

/* Returns the pid that the script's output gives for process name, or 0. */
static pid_t
started_pid(const char *text, const char *name)
{
	char marker[64];
	const char *at;

	snprintf(marker, sizeof(marker), "run: started %s (pid ", name);
	at = strstr(text, marker);
	return at ? (pid_t)atoi(at + strlen(marker)) : 0;
}

static void
read_text(const char *path, char *buf, size_t len)
{
	FILE *in = fopen(path, "r");
	size_t n;

	assert_non_null(in);
	n = fread(buf, 1, len - 1, in);
	buf[n] = '\0';
	fclose(in);
}

static int
path_exists(const char *dir, const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* SIGTERM stops every process, removes the address files and ends with status 0. */
static void
sigterm_stops_everything(void **state)
{
	static const char *const names[] = { "broker", "ingest", "enrich", "report", "console",
					     "capture" };
	struct fixture *f = *state;
	static char output[64 * 1024];
	pid_t pids[sizeof(names) / sizeof(names[0])];
	int status;

	start_script(f);
	assert_true(path_exists(f->dir, "redis.url"));
	assert_true(path_exists(f->dir, "broker.addr"));
	read_text(f->log_path, output, sizeof(output));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pids[i] = started_pid(output, names[i]);
		assert_true(pids[i] > 0);
	}

	status = fs_test_stop(f->script, WAIT_MS);
	f->script = 0;
	fs_test_print_file(f->log_path);
	assert_int_equal(status, 0);
	assert_true(fs_test_file_contains(f->log_path, "run: stopped"));
	assert_false(fs_test_file_contains(f->log_path, "exited with status"));
	assert_false(path_exists(f->dir, "redis.url"));
	assert_false(path_exists(f->dir, "broker.addr"));
	/* The script waited for each of them, so none is left, not even as a zombie. */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(kill(pids[i], 0), -1);
		assert_int_equal(errno, ESRCH);
	}
}

/* A worker that dies ends the run with status 1 and a line that names it. */
static void
failed_worker_is_named(void **state)
{
	struct fixture *f = *state;
	static char output[64 * 1024];
	char expected[96];
	pid_t ingest;
	int status;

	start_script(f);
	read_text(f->log_path, output, sizeof(output));
	ingest = started_pid(output, "ingest");
	assert_true(ingest > 0);
	assert_int_equal(kill(ingest, SIGKILL), 0);

	status = fs_test_wait(f->script, WAIT_MS);
	if (status == -2) {
		fs_test_print_file(f->log_path);
		fail_msg("scripts/run.sh did not exit after its ingest was killed");
	}
	f->script = 0;
	fs_test_print_file(f->log_path);
	assert_int_equal(status, 1);
	snprintf(expected, sizeof(expected), "run: ingest (pid %d) exited unexpectedly", (int)ingest);
	assert_true(fs_test_file_contains(f->log_path, expected));
	snprintf(expected, sizeof(expected), "run: ingest (pid %d) exited with status 137",
		 (int)ingest);
	assert_true(fs_test_file_contains(f->log_path, expected));
	assert_false(path_exists(f->dir, "redis.url"));
	assert_false(path_exists(f->dir, "broker.addr"));
}

/*
 * Reads the pty master into out (appending, NUL-terminated) for up to
 * timeout_ms or until it contains want (NULL: until the other side closes).
 * Returns 1 when want was found or the other side closed, else 0.
 */
static int
read_pty(int master, char *out, size_t cap, const char *want, int timeout_ms)
{
	size_t len = strlen(out);
	int64_t deadline = fs_test_now_ms() + timeout_ms;

	while (fs_test_now_ms() < deadline) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		ssize_t n;

		if (want && strstr(out, want))
			return 1;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = read(master, out + len, cap - 1 - len > 4096 ? 4096 : cap - 1 - len);
		if (n <= 0)
			return want == NULL;
		len += (size_t)n;
		out[len] = '\0';
		/* Keeps the tail when the live view fills the buffer. */
		if (len > cap - 8192) {
			memmove(out, out + len - 4096, 4096);
			len = 4096;
			out[len] = '\0';
		}
	}
	return want && strstr(out, want) != NULL;
}

/*
 * A Ctrl-C on the terminal reaches the script, which stops with status 0,
 * and not the program that started it, as make would be under `make run`.
 * The parent here is a shell that reports a SIGINT.
 */
static void
ctrl_c_reaches_only_script(void **state)
{
	struct fixture *f = *state;
	static char output[PTY_OUTPUT_MAX];
	int master, status;
	pid_t pid;

	output[0] = '\0';
	pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0) {
		putenv(f->config_env);
		putenv(f->redis_port_env);
		/*
		 * A shell started in the background by a non-interactive shell
		 * ignores SIGINT, and a non-interactive shell cannot trap a signal
		 * that was ignored when it started.  A terminal's shell has the
		 * default action, so the test gives the script that.
		 */
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		char command[512];

		snprintf(command, sizeof(command),
			 "trap 'echo parent got SIGINT' INT; sh scripts/run.sh >'%s' 2>&1; "
			 "echo \"run.sh exited with status $?\"", f->log_path);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	/* The terminal is stdin only, so the script's output is in its log. */
	if (!fs_test_wait_file_contains(f->log_path, "run: press Ctrl-C to stop", WAIT_MS)) {
		fs_test_print_file(f->log_path);
		close(master);
		(void)fs_test_wait(pid, WAIT_MS);
		fail_msg("scripts/run.sh did not finish starting");
	}
	assert_int_equal(write(master, "\x03", 1), 1);
	read_pty(master, output, sizeof(output), NULL, WAIT_MS);
	close(master);
	status = fs_test_wait(pid, WAIT_MS);
	fprintf(stderr, "terminal output:\n%s\n", output);
	fs_test_print_file(f->log_path);
	assert_int_equal(status, 0);
	assert_non_null(strstr(output, "run.sh exited with status 0"));
	assert_null(strstr(output, "parent got SIGINT"));
	assert_false(path_exists(f->dir, "redis.url"));
	assert_false(path_exists(f->dir, "broker.addr"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sigterm_stops_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_worker_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(ctrl_c_reaches_only_script, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
