/*
 * worker_start.h - the start-up that the flowsift workers share (ingest,
 * enrich, report, filter and console): command-line options, the
 * configuration, logging and the stop signals.
 *
 * Every worker takes --config FILE (-c FILE), --help (-h) and --version
 * (long form only: -V is a usage error), plus options of its own.  --help
 * prints the usage to stdout and --version prints "PROGRAM VERSION"; both
 * exit 0.  An unknown option, a missing option argument or an operand the
 * worker does not take prints the usage to stderr and exits 2.  A
 * configuration that cannot be loaded prints "PROGRAM: REASON" to stderr
 * and exits 1.
 *
 * Then the log level and format of the configuration apply, SIGINT and
 * SIGTERM go to the worker's stop handler and SIGPIPE is ignored.  A SIGINT
 * that was ignored at start (a background job of `make run`) stays ignored,
 * so Ctrl-C reaches the script, which stops the workers in order.  Other
 * signals (SIGHUP for a reload) are the worker's to install.
 */
#ifndef FS_CMD_WORKER_START_H
#define FS_CMD_WORKER_START_H

#include <getopt.h>
#include <stdio.h>

struct fs_config;

/* Returned by worker_start() when the worker goes on to run. */
#define WORKER_START_RUN (-1)

/* Maximum number of options a worker adds to --config, --help and --version. */
#define WORKER_START_OPTIONS_MAX 8

/* The command line of one worker.  Every pointer is borrowed. */
struct worker_cli {
	const char *program;            /* "flowsift-report": starts errors and the version line */
	void (*usage)(FILE *out);       /* prints the usage text */
	/*
	 * The worker's own options as getopt letters ("r:" for one that takes
	 * an argument) and their long forms, ending with a zero row.  Both
	 * are NULL when the worker has none.
	 */
	const char *letters;
	const struct option *options;
	/* Stores one of the worker's own options (opt is its letter); NULL when it has none. */
	void (*set_option)(void *ctx, int opt, const char *arg);
	/*
	 * Checks the operands left after the options.  Returns 0, or 2 after
	 * printing the reason and the usage to stderr.  NULL: any operand is
	 * a usage error.
	 */
	int (*check_operands)(void *ctx, int count, char **operands);
	void *ctx;                      /* passed to set_option and check_operands */
	void (*on_stop)(int sig);       /* the handler of SIGINT and SIGTERM */
};

/*
 * Parses argv, loads the configuration, applies its logging settings and
 * installs the signal handlers, as the top of this file describes.  Returns
 * WORKER_START_RUN with the configuration in *config (the caller frees it
 * with fs_config_free()), or the status the worker exits with: 0 after
 * --help or --version, 2 on a usage error and 1 when the configuration
 * cannot be loaded, with *config NULL.
 */
int worker_start(const struct worker_cli *cli, int argc, char **argv,
		 struct fs_config **config);

#endif
