/*
 * worker_process.h - runs one flowsift worker (flowsift-enrich, -filter,
 * -report or -ingest) as a process of its own for integration tests.
 *
 * The lifecycle: fs_test_worker_init() creates a temporary folder and picks
 * a free metrics port.  fs_test_worker_write_config() writes the worker's
 * configuration there.  fs_test_worker_start() spawns the worker and waits
 * for its /healthz; fs_test_worker_kill() or fs_test_worker_stop() ends it.
 * fs_test_worker_release() removes the folder.  The broker, Redis and any
 * other server that the worker talks to belong to the test.
 *
 * Failures inside these helpers fail the calling cmocka test.  Where the
 * worker's log can explain a failure, the helper prints it to stderr first.
 */
#ifndef FS_TEST_WORKER_PROCESS_H
#define FS_TEST_WORKER_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fs_test_worker {
	char name[16];          /* "enrich", "filter", "report" or "ingest" */
	char dir[64];           /* the worker's run.dir, removed by fs_test_worker_release() */
	char config_env[192];   /* "FLOWSIFT_CONFIG=<dir>/flowsift.conf" */
	char log_path[128];     /* <dir>/<name>.log: the worker's stdout and stderr */
	pid_t pid;              /* 0 when not running */
	uint16_t metrics_port;  /* serves /metrics, /healthz and /readyz */
	int wait_ms;            /* maximum time of each wait in these helpers */
};

/*
 * Sets up w for the program flowsift-<name>: creates the folder
 * /tmp/fstest-<label>-XXXXXX and picks a free 127.0.0.1 port for the
 * metrics listener.  wait_ms bounds every later wait for the worker.
 */
void fs_test_worker_init(struct fs_test_worker *w, const char *label, const char *name,
			 int wait_ms);

/*
 * Writes the formatted text to the file name in w's folder and its path
 * into path (path_len bytes).
 */
void fs_test_worker_write_file(const struct fs_test_worker *w, const char *name, char *path,
			       size_t path_len, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Writes w's configuration file: the lines run.dir = <dir> and
 * <name>.metrics.listen = 127.0.0.1:<metrics_port>, then the formatted
 * text, which contains every other setting.
 */
void fs_test_worker_write_config(const struct fs_test_worker *w, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Spawns the worker with FLOWSIFT_CONFIG set and its output appended to
 * log_path, and returns without waiting for it.
 */
void fs_test_worker_spawn(struct fs_test_worker *w);

/* Spawns the worker and waits until its /healthz returns 200. */
void fs_test_worker_start(struct fs_test_worker *w);

/* Waits until the worker's /readyz returns want (200 or 503). */
void fs_test_worker_expect_ready(const struct fs_test_worker *w, int want);

/*
 * Returns the value of the worker's sample flowsift_<name>_<series>, such
 * as "broker_reachable" or "delivery_errors_total{cause=\"timed_out\"}",
 * or -1 when it cannot be read.
 */
long long fs_test_worker_metric(const struct fs_test_worker *w, const char *series);

/*
 * Polls the sample as fs_test_worker_metric() reads it until it is at
 * least min or wait_ms passes.  Returns the last value read and prints the
 * log when that value is below min.  It does not fail the test, so that
 * the caller can print the value first.
 */
long long fs_test_worker_wait_metric(const struct fs_test_worker *w, const char *series,
				     long long min);

/*
 * Returns 1 when the worker's log contains text, else 0.  Fails the test
 * when the log cannot be read.
 */
int fs_test_worker_log_contains(const struct fs_test_worker *w, const char *text);

/* Prints the worker's log to stderr. */
void fs_test_worker_print_log(const struct fs_test_worker *w);

/* Kills the worker with SIGKILL and checks that it died of that signal. */
void fs_test_worker_kill(struct fs_test_worker *w);

/*
 * Stops the worker when it runs (SIGTERM, then SIGKILL after timeout_ms).
 * When it exits with a status other than 0, or FSTEST_SHOW_LOGS is set,
 * prints its log and then other_log (another process's log, or NULL).
 * Returns the exit status as fs_test_stop() does, or 0 when it was not
 * running.  It does not fail the test, so that a teardown can clean up
 * before it checks the status.
 */
int fs_test_worker_stop(struct fs_test_worker *w, int timeout_ms, const char *other_log);

/* Stops the worker if it still runs, then removes its folder with everything in it. */
void fs_test_worker_release(struct fs_test_worker *w);

#endif
