/* worker_process.c - one flowsift worker process for integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "worker_process.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_probe.h"
#include "process.h"
#include "text_file.h"

/* Time that a worker gets to exit after SIGKILL, or after SIGTERM in fs_test_worker_release(). */
#define EXIT_WAIT_MS 10000

void
fs_test_worker_init(struct fs_test_worker *w, const char *label, const char *name, int wait_ms)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->wait_ms = wait_ms;
	snprintf(w->dir, sizeof(w->dir), "/tmp/fstest-%s-XXXXXX", label);
	assert_non_null(mkdtemp(w->dir));
	snprintf(w->log_path, sizeof(w->log_path), "%s/%s.log", w->dir, name);
	snprintf(w->config_env, sizeof(w->config_env), "FLOWSIFT_CONFIG=%s/flowsift.conf", w->dir);
	w->metrics_port = fs_test_free_port(SOCK_STREAM);
	assert_true(w->metrics_port > 0);
}

/* Opens the file name in w's folder for writing and writes its path into path. */
static FILE *
create_file(const struct fs_test_worker *w, const char *name, char *path, size_t path_len)
{
	FILE *f;

	snprintf(path, path_len, "%s/%s", w->dir, name);
	f = fopen(path, "w");
	if (!f)
		fail_msg("cannot create %s", path);
	return f;
}

void
fs_test_worker_write_file(const struct fs_test_worker *w, const char *name, char *path,
			  size_t path_len, const char *format, ...)
{
	FILE *f = create_file(w, name, path, path_len);
	va_list ap;

	va_start(ap, format);
	vfprintf(f, format, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

void
fs_test_worker_write_config(const struct fs_test_worker *w, const char *format, ...)
{
	char path[128];
	FILE *f = create_file(w, "flowsift.conf", path, sizeof(path));
	va_list ap;

	fprintf(f, "run.dir = %s\n%s.metrics.listen = 127.0.0.1:%u\n", w->dir, w->name,
		w->metrics_port);
	va_start(ap, format);
	vfprintf(f, format, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

void
fs_test_worker_spawn(struct fs_test_worker *w)
{
	char program[64];
	char *argv[] = { program, NULL };
	char *env[] = { w->config_env, NULL };

	snprintf(program, sizeof(program), "flowsift-%s", w->name);
	w->pid = fs_test_spawn(program, argv, env, w->log_path);
	assert_true(w->pid > 0);
}

void
fs_test_worker_start(struct fs_test_worker *w)
{
	fs_test_worker_spawn(w);
	if (fs_test_wait_status(w->metrics_port, "/healthz", 200, w->wait_ms) != 200) {
		fs_test_print_file(w->log_path);
		fail_msg("flowsift-%s serves no /healthz", w->name);
	}
}

void
fs_test_worker_expect_ready(const struct fs_test_worker *w, int want)
{
	int status = fs_test_wait_status(w->metrics_port, "/readyz", want, w->wait_ms);

	if (status != want)
		fs_test_print_file(w->log_path);
	assert_int_equal(status, want);
}

/* Writes the full sample name flowsift_<worker name>_<series> into buf. */
static void
worker_series(const struct fs_test_worker *w, const char *series, char *buf, size_t len)
{
	snprintf(buf, len, "flowsift_%s_%s", w->name, series);
}

long long
fs_test_worker_metric(const struct fs_test_worker *w, const char *series)
{
	char full[160];

	worker_series(w, series, full, sizeof(full));
	return fs_test_metric(w->metrics_port, full);
}

long long
fs_test_worker_wait_metric(const struct fs_test_worker *w, const char *series, long long min)
{
	char full[160];
	long long value;

	worker_series(w, series, full, sizeof(full));
	value = fs_test_wait_metric(w->metrics_port, full, min, w->wait_ms);
	if (value < min)
		fs_test_print_file(w->log_path);
	return value;
}

int
fs_test_worker_log_contains(const struct fs_test_worker *w, const char *text)
{
	return fs_test_file_contains(w->log_path, text);
}

void
fs_test_worker_print_log(const struct fs_test_worker *w)
{
	fs_test_print_file(w->log_path);
}

void
fs_test_worker_kill(struct fs_test_worker *w)
{
	assert_int_equal(kill(w->pid, SIGKILL), 0);
	assert_int_equal(fs_test_wait(w->pid, EXIT_WAIT_MS), 128 + SIGKILL);
	w->pid = 0;
}

int
fs_test_worker_stop(struct fs_test_worker *w, int timeout_ms, const char *other_log)
{
	int status = 0;

	if (w->pid > 0)
		status = fs_test_stop(w->pid, timeout_ms);
	w->pid = 0;
	if (status != 0 || getenv("FSTEST_SHOW_LOGS")) {
		fs_test_print_file(w->log_path);
		if (other_log)
			fs_test_print_file(other_log);
	}
	return status;
}

void
fs_test_worker_release(struct fs_test_worker *w)
{
	char command[128];

	if (w->pid > 0)
		fs_test_stop(w->pid, EXIT_WAIT_MS);
	w->pid = 0;
	snprintf(command, sizeof(command), "rm -rf '%s'", w->dir);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", w->dir);
}
