/*
 * top.c - `flowsift top`: prints the top talkers from the rolling counters
 * that flowsift-report keeps in Redis (see pkg/redis/topn.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_redis.h"
#include "commands.h"
#include "config/config.h"
#include "core/log.h"
#include "core/result.h"
#include "member_text.h"
#include "redis/redis_url.h"
#include "redis/topn.h"

#define DEFAULT_INTERVAL_S 2
#define MAX_INTERVAL_S 3600
#define CLEAR_SCREEN "\033[H\033[2J"

enum output_format {
	FORMAT_TABLE,
	FORMAT_JSON,
};

struct top_options {
	enum fs_topn_dim dim;
	enum fs_topn_metric metric;
	enum fs_topn_window window;
	int n;
	enum output_format format;
	bool watch;
	int interval_s;
	const char *config_path;
};

static volatile sig_atomic_t stop_requested;

/* The last error the libraries logged, shown in place of their logfmt line. */
static char last_error[512];

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift top [--by DIM] [--metric METRIC] [--window WINDOW]\n"
		"                    [--top N] [--format table|json] [--watch]\n"
		"                    [--interval SECONDS] [--config FILE]\n"
		"\n"
		"Prints the busiest source addresses, destination addresses,\n"
		"destination ports or other dimension over a recent time window, read\n"
		"from the rolling counters in Redis.\n"
		"\n"
		"options:\n"
		"  --by DIM           src_addr, dst_addr, dst_port, conversation, proto,\n"
		"                     src_as, dst_as, src_country, dst_country, in_if,\n"
		"                     out_if or exporter (default src_addr)\n"
		"  --metric METRIC    rank by bytes, packets or flows (default bytes)\n"
		"  --window WINDOW    1m, 5m, 1h or 24h (default 5m)\n"
		"  --top N            number of rows, 1 to %d (default 10)\n"
		"  --format FORMAT    table, or json for an array of {key, bytes,\n"
		"                     packets, flows} objects (default table)\n"
		"  --watch            refresh until interrupted with Ctrl-C\n"
		"  --interval SECONDS seconds between refreshes with --watch, 1 to %d\n"
		"                     (default %d)\n"
		"  --config FILE      read settings from FILE (default: $FLOWSIFT_CONFIG,\n"
		"                     else ./flowsift.conf when it exists)\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Redis is found through redis.url (or FLOWSIFT_REDIS_URL), else the\n"
		"server that `make run` started.\n"
		"\n"
		"Exit status: 0 on success, 1 when Redis cannot be reached or queried,\n"
		"2 on a usage error.\n",
		FS_TOPN_MAX_N, MAX_INTERVAL_S, DEFAULT_INTERVAL_S);
}

static void
keep_error(enum fs_log_level level, const char *facility, const char *message,
	   void *opaque)
{
	(void)opaque;
	if (level <= FS_LOG_ERR)
		snprintf(last_error, sizeof(last_error), "%s: %s", facility, message);
}

static void
on_signal(int signo)
{
	(void)signo;
	stop_requested = 1;
}

static int
parse_int(const char *text, int min, int max, int *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return -1;
	*value = (int)v;
	return 0;
}

static int
bad_option(const char *option, const char *value, const char *expected)
{
	fprintf(stderr, "flowsift top: invalid %s '%s': expected %s\n", option, value,
		expected);
	usage_hint("top");
	return 2;
}

/* Parses argv into opts.  Returns -1 when the command should run, else the exit status. */
static int
parse_options(int argc, char **argv, struct top_options *opts)
{
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "metric", required_argument, NULL, 'm' },
		{ "window", required_argument, NULL, 'w' },
		{ "top", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "watch", no_argument, NULL, 'W' },
		{ "interval", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opts = (struct top_options){
		.dim = FS_TOPN_SRC_ADDR,
		.metric = FS_TOPN_BYTES,
		.window = FS_TOPN_5M,
		.n = 10,
		.format = FORMAT_TABLE,
		.interval_s = DEFAULT_INTERVAL_S,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (fs_topn_dim_parse(optarg, &opts->dim) < 0)
				return bad_option("--by", optarg,
						  "src_addr, dst_addr, dst_port, conversation, proto, "
						  "src_as, dst_as, src_country, dst_country, in_if, "
						  "out_if or exporter");
			break;
		case 'm':
			if (fs_topn_metric_parse(optarg, &opts->metric) < 0)
				return bad_option("--metric", optarg, "bytes, packets or flows");
			break;
		case 'w':
			if (fs_topn_window_parse(optarg, &opts->window) < 0)
				return bad_option("--window", optarg, "1m, 5m, 1h or 24h");
			break;
		case 'n':
			if (parse_int(optarg, 1, FS_TOPN_MAX_N, &opts->n) < 0)
				return bad_option("--top", optarg, "a number from 1 to 1000");
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				opts->format = FORMAT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				opts->format = FORMAT_JSON;
			else
				return bad_option("--format", optarg, "table or json");
			break;
		case 'W':
			opts->watch = true;
			break;
		case 'i':
			if (parse_int(optarg, 1, MAX_INTERVAL_S, &opts->interval_s) < 0)
				return bad_option("--interval", optarg, "seconds from 1 to 3600");
			break;
		case 'c':
			opts->config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage_hint("top");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flowsift top: unexpected argument '%s'\n", argv[optind]);
		usage_hint("top");
		return 2;
	}
	return -1;
}

/* Writes value as a decimal-prefix byte count ("999 B", "1.2 MB") into buf. */
static void
format_bytes(uint64_t value, char *buf, size_t len)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB", "PB", "EB" };
	double scaled = (double)value;
	size_t unit = 0;

	if (value < 1000) {
		snprintf(buf, len, "%" PRIu64 " B", value);
		return;
	}
	scaled /= 1000.0;
	while (scaled >= 999.95 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		scaled /= 1000.0;
		unit++;
	}
	snprintf(buf, len, "%.1f %s", scaled, units[unit]);
}

static void
print_table(const struct top_options *opts, const struct fs_topn_row *rows, int nrows,
	    time_t now)
{
	const char *dim_name = fs_topn_dim_name(opts->dim);
	char when[64];
	char bytes[32];
	char key[MEMBER_TEXT_MAX];
	int key_width = (int)strlen(dim_name);

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
	printf("top %d %s by %s over the last %s, at %s\n\n", opts->n, dim_name,
	       fs_topn_metric_name(opts->metric), fs_topn_window_name(opts->window), when);
	for (int i = 0; i < nrows; i++) {
		int len;

		member_text(opts->dim, rows[i].key, key, sizeof(key));
		len = (int)strlen(key);
		if (len > key_width)
			key_width = len;
	}
	printf("%-*s %10s %14s %12s\n", key_width, dim_name, "bytes", "packets", "flows");
	for (int i = 0; i < nrows; i++) {
		member_text(opts->dim, rows[i].key, key, sizeof(key));
		format_bytes(rows[i].bytes, bytes, sizeof(bytes));
		printf("%-*s %10s %14" PRIu64 " %12" PRIu64 "\n", key_width, key, bytes,
		       rows[i].packets, rows[i].flows);
	}
	if (nrows == 0)
		printf("(no flows counted in this window)\n");
}

static int
print_json(enum fs_topn_dim dim, const struct fs_topn_row *rows, int nrows)
{
	json_t *array = json_array();
	char key[MEMBER_TEXT_MAX];
	int rc = 0;

	if (array == NULL)
		return -1;
	for (int i = 0; i < nrows && rc == 0; i++) {
		json_t *row;

		member_text(dim, rows[i].key, key, sizeof(key));
		/* Sums stay below 2^53, where Redis scores are exact, so they fit json_int_t. */
		row = json_pack("{s:s, s:I, s:I, s:I}", "key", key,
					"bytes", (json_int_t)rows[i].bytes,
					"packets", (json_int_t)rows[i].packets,
					"flows", (json_int_t)rows[i].flows);

		if (row == NULL || json_array_append_new(array, row) < 0)
			rc = -1;
	}
	if (rc == 0 && json_dumpf(array, stdout, JSON_INDENT(2)) < 0)
		rc = -1;
	if (rc == 0)
		putchar('\n');
	json_decref(array);
	return rc;
}

/* Resolves and parses the Redis URL.  Returns 0 or prints the reason and returns -1. */
static int
find_redis(const struct top_options *opts, struct fs_redis_url *url)
{
	struct fs_config *config = NULL;
	char err[1024];
	const char *hint = "";
	int rc;

	rc = fs_config_load(&config, opts->config_path, err, sizeof(err));
	if (rc == 0) {
		rc = fs_redis_url_from_config(url, config, err, sizeof(err));
		if (rc < 0)
			hint = " (or FLOWSIFT_REDIS_URL)";
	}
	fs_config_free(config);
	if (rc < 0) {
		fprintf(stderr, "flowsift top: %s%s\n", err, hint);
		return -1;
	}
	return 0;
}

/* Connects when not connected.  Returns 0, or prints the reason and returns -1. */
static int
ensure_connected(const struct fs_redis_url *url, redisContext **ctx)
{
	if (*ctx != NULL && (*ctx)->err == 0)
		return 0;
	if (*ctx != NULL) {
		redisFree(*ctx);
		*ctx = NULL;
	}
	*ctx = cli_redis_connect(url, "flowsift top");
	return *ctx != NULL ? 0 : -1;
}

/* Queries and prints once.  Returns 0 or -1 after printing the reason. */
static int
show_once(const struct top_options *opts, const struct fs_redis_url *url,
	  redisContext **ctx, struct fs_topn_row *rows)
{
	time_t now = time(NULL);
	int nrows = 0;
	int rc;

	if (ensure_connected(url, ctx) < 0)
		return -1;
	last_error[0] = '\0';
	rc = fs_topn_query(*ctx, opts->dim, opts->metric, opts->window, opts->n,
			   (int64_t)now, rows, &nrows);
	if (rc < 0) {
		fprintf(stderr, "flowsift top: query failed: %s\n",
			last_error[0] != '\0' ? last_error : fs_result_name(rc));
		return -1;
	}
	if (opts->format == FORMAT_JSON)
		rc = print_json(opts->dim, rows, nrows);
	else
		print_table(opts, rows, nrows, now);
	fflush(stdout);
	return rc;
}

/* Sleeps interval_s seconds, or less when SIGINT or SIGTERM arrives. */
static void
wait_interval(int interval_s)
{
	struct timespec left = { .tv_sec = interval_s };

	while (!stop_requested && nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

static void
install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART, so SIGINT cuts the sleep short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
cmd_top(int argc, char **argv)
{
	struct top_options opts;
	struct fs_redis_url url;
	struct fs_topn_row *rows = NULL;
	redisContext *ctx = NULL;
	bool clear = false;
	int status;

	status = parse_options(argc, argv, &opts);
	if (status >= 0)
		return status;
	if (find_redis(&opts, &url) < 0)
		return 1;
	rows = calloc((size_t)opts.n, sizeof(*rows));
	if (rows == NULL) {
		fprintf(stderr, "flowsift top: out of memory\n");
		return 1;
	}
	fs_log_set_sink(keep_error, NULL);
	install_handlers();

	if (!opts.watch) {
		status = show_once(&opts, &url, &ctx, rows) < 0 ? 1 : 0;
		goto out;
	}

	/* --watch: errors are shown and retried at the next refresh. */
	clear = isatty(STDOUT_FILENO);
	while (!stop_requested) {
		if (clear)
			fputs(CLEAR_SCREEN, stdout);
		(void)show_once(&opts, &url, &ctx, rows);
		wait_interval(opts.interval_s);
	}
	status = 0;

out:
	fs_log_set_sink(NULL, NULL);
	if (ctx != NULL)
		redisFree(ctx);
	free(rows);
	return status;
}
