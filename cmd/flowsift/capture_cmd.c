/*
 * capture_cmd.c - `flowsift capture`: keeps a Kafka topic on disk as Avro
 * object container files, as flow-capture keeps NetFlow.
 *
 * Flows are consumed in a consumer group and appended to the archive
 * (archive/archive_writer.h), which rotates files by age and size and
 * deletes the oldest by the retention limits.  Delivery is at least once:
 * the consumer runs in manual store mode, and consumed offsets are stored
 * for commit only after the archive fsynced the flows before them (every
 * --sync-ms and at stop).  A crash therefore loses no flow, and the flows
 * after the last sync are consumed and written again at restart.
 *
 * A topic that does not exist yet is waited for: capture warns once, on
 * stderr, when the cluster's metadata shows no topic of that name, and
 * consumes it once it appears.
 *
 * Alerts and sFlow counter samples (flows.alerts, flows.counters) are not
 * flows: capture skips them, counts them in its statistics line and warns
 * once, naming the command that reads them.
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

#include "archive/archive_writer.h"
#include "commands.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/exit_deadline.h"
#include "core/log.h"
#include "core/result.h"
#include "kafka/consumer.h"
#include "kafka/kafka_conf.h"
#include "kafka/topic_range.h"
#include "topic_records.h"

#define POLL_MESSAGES 1000
#define POLL_TIMEOUT_MS 100
#define DEFAULT_ROTATE_SECONDS 300
#define DEFAULT_SYNC_MS 1000
#define STATS_INTERVAL_MS 60000
/* Maximum wait for the metadata that shows whether the topic exists. */
#define TOPIC_CHECK_MS 10000
/* Interval between checks while the cluster does not return that metadata. */
#define TOPIC_RECHECK_MS 30000

static volatile sig_atomic_t stop_requested;

struct capture_run {
	struct fs_archive_writer *writer;
	struct fs_consumer *consumer;
	bool failed; /* a file could not be written: stop without storing */
	const struct fs_config *config;
	const char *topic;
	bool topic_checked; /* the metadata showed the topic, or its absence was reported */
	struct topic_records records; /* alerts and counter samples, which are skipped */
};

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift capture --topic TOPIC --dir DIR [--rotate-seconds N]\n"
		"                        [--rotate-bytes N] [--retain-files N]\n"
		"                        [--retain-bytes N] [--retain-days N]\n"
		"                        [--codec deflate|null] [--group ID] [--sync-ms N]\n"
		"                        [--config FILE]\n"
		"\n"
		"Consumes TOPIC and keeps its flows in DIR as Avro object container files\n"
		"named flows-<UTC start time>-<sequence>.avro, until SIGINT or SIGTERM.\n"
		"The start time is when this program wrote the file's first flow, so\n"
		"flows read from a backlog are older than the name says.\n"
		"The file being written is named *.avro.tmp and renamed when closed.\n"
		"A TOPIC that does not exist yet is waited for, after one warning.\n"
		"Alerts and sFlow counter samples on TOPIC are skipped and counted.\n"
		"Read the files with 'flowsift print DIR' or any Avro tool.\n"
		"\n"
		"options:\n"
		"  --topic TOPIC         topic to keep (flows.raw, flows.enriched, ...)\n"
		"  --dir DIR             folder of the files, created when missing\n"
		"  --rotate-seconds N    start a new file every N seconds (default %d; 0: never)\n"
		"  --rotate-bytes N      start a new file after N bytes of flows, before\n"
		"                        compression; k, m, g suffixes are powers of 1024\n"
		"                        (default 0: no size limit)\n"
		"  --retain-files N      keep at most N closed files\n"
		"  --retain-bytes N      keep at most N bytes of closed files (k, m, g suffixes)\n"
		"  --retain-days N       delete files that started more than N days ago\n"
		"                        (the retention limits combine; the newest file is\n"
		"                        always kept; default: keep every file)\n"
		"  --codec NAME          Avro block compression: deflate (default) or null\n"
		"  --group ID            Kafka consumer group (default flowsift-capture.TOPIC)\n"
		"  --sync-ms N           fsync the open file and commit offsets every N ms\n"
		"                        (default %d)\n"
		"  --config FILE         read settings (Kafka servers, log level) from FILE\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Exit status: 0 after a signal, 1 when Kafka or a file fails, 2 on a\n"
		"usage error.\n",
		DEFAULT_ROTATE_SECONDS, DEFAULT_SYNC_MS);
}

/* Parses a count with an optional k, m, g or t suffix (powers of 1024). */
static int
parse_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long value;
	unsigned shift = 0;

	errno = 0;
	if (text[0] < '0' || text[0] > '9')
		return -1;
	value = strtoull(text, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (*end != '\0' || (shift != 0 && value > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)value << shift;
	return 0;
}

static int
handle_message(const void *key, size_t key_len, const void *value, size_t len,
	       int64_t timestamp_ms, void *opaque)
{
	struct capture_run *run = opaque;
	int rc;

	(void)key;
	(void)key_len;
	(void)timestamp_ms;
	if (topic_records_take(&run->records, value, len)) {
		if (run->records.alerts + run->records.counters == 1)
			fs_log(FS_LOG_WARNING, "capture",
			       "topic %s carries %s, which are not flows; capture keeps flows only and "
			       "counts what it skips in its statistics (read alerts with "
			       "'flowsift print --topic %s' or 'flowsift report alerts')",
			       run->topic, run->records.alerts ? "alerts" : "sFlow counter samples",
			       run->topic);
		return 0;
	}
	rc = fs_archive_writer_append(run->writer, value, len, wall_ns());
	if (rc == FS_ERR_SYSTEM) {
		run->failed = true;
		return 1;
	}
	/* A message that is not a flow is counted by the writer and skipped. */
	return 0;
}

/* Makes the flows on disk durable, then stores their offsets.  Returns 0 or FS_ERR_SYSTEM. */
static int
sync_and_store(struct capture_run *run)
{
	if (fs_archive_writer_sync(run->writer) < 0)
		return FS_ERR_SYSTEM;
	fs_consumer_store_pending(run->consumer);
	return 0;
}

static void
log_stats(const struct capture_run *run)
{
	const struct fs_archive_writer_stats *s = fs_archive_writer_stats(run->writer);

	fs_log(FS_LOG_INFO, "capture",
	       "flows=%" PRIu64 " rejected=%" PRIu64 " unknown_schema=%" PRIu64
	       " skipped_alerts=%" PRIu64 " skipped_counter_samples=%" PRIu64
	       " files_closed=%" PRIu64 " files_removed=%" PRIu64 " body_bytes=%" PRIu64,
	       s->appended, s->rejected, s->unknown_schema, run->records.alerts,
	       run->records.counters, s->files_closed, s->files_removed, s->body_bytes);
}

/*
 * Reads the metadata of every topic and warns once when run->topic is not
 * among them, naming the Kafka servers.  A request that names the topic
 * would make some brokers (librdkafka's mock cluster, and brokers older
 * than Kafka 0.11) create it, so this runs before the consumer
 * subscribes.  Sets run->topic_checked unless the cluster did not return
 * the metadata in time, so that the caller tries again later.
 */
static void
check_topic(struct capture_run *run)
{
	struct fs_topic_range_options opt = {
		.topic = run->topic, .from_ms = -1, .to_ms = -1, .timeout_ms = TOPIC_CHECK_MS,
	};
	struct fs_kafka_props props = fs_kafka_props_config(run->config);
	struct fs_topic_range *range = NULL;
	char bootstrap[1024], err[512];
	int rc;

	if (fs_config_bootstrap(run->config, bootstrap, sizeof(bootstrap), err, sizeof(err)) < 0) {
		run->topic_checked = true;
		return;
	}
	rc = fs_topic_range_open(&range, bootstrap, &props, &opt, err, sizeof(err));
	fs_topic_range_free(range);
	if (rc == FS_ERR_SYSTEM) {
		fs_log(FS_LOG_DEBUG, "capture", "cannot check whether topic %s exists: %s",
		       run->topic, err);
		return;
	}
	run->topic_checked = true;
	if (rc == FS_ERR_NOT_FOUND)
		fs_log(FS_LOG_WARNING, "capture",
		       "topic %s not found on Kafka servers %s; waiting until its first message "
		       "creates it (check the topic name if nothing produces to it)",
		       run->topic, bootstrap);
}

static int
run_capture(struct capture_run *run, int64_t sync_ms)
{
	int64_t next_sync = fs_monotonic_ms() + sync_ms;
	int64_t next_stats = fs_monotonic_ms() + STATS_INTERVAL_MS;
	int64_t next_topic_check = fs_monotonic_ms() + TOPIC_RECHECK_MS;
	int status = 0;

	while (!stop_requested) {
		int64_t now;
		int rc;

		rc = fs_consumer_poll(run->consumer, POLL_TIMEOUT_MS, handle_message, run,
				      POLL_MESSAGES);
		if (rc == FS_ERR_SYSTEM) {
			fs_log(FS_LOG_ERR, "capture", "fatal Kafka consumer error; stopping");
			status = 1;
			break;
		}
		if (run->failed || fs_archive_writer_tick(run->writer, wall_ns()) < 0) {
			fs_log(FS_LOG_ERR, "capture",
			       "cannot write the archive; stopping without committing the last flows");
			return 1;
		}
		now = fs_monotonic_ms();
		if (now >= next_sync) {
			if (sync_and_store(run) < 0)
				return 1;
			next_sync = now + sync_ms;
		}
		if (now >= next_stats) {
			log_stats(run);
			next_stats = now + STATS_INTERVAL_MS;
		}
		if (!run->topic_checked && now >= next_topic_check) {
			check_topic(run);
			next_topic_check = fs_monotonic_ms() + TOPIC_RECHECK_MS;
		}
	}
	if (fs_archive_writer_close(run->writer) < 0)
		return 1;
	fs_consumer_store_pending(run->consumer);
	return status;
}

struct capture_args {
	const char *topic, *dir, *group, *config_path;
	struct fs_archive_options opt;
	int64_t sync_ms;
};

/* Returns 0, 1 after --help, or 2 after a usage error (reported). */
static int
parse_args(int argc, char **argv, struct capture_args *a)
{
	static const struct option options[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "dir", required_argument, NULL, 'd' },
		{ "rotate-seconds", required_argument, NULL, 'R' },
		{ "rotate-bytes", required_argument, NULL, 'B' },
		{ "retain-files", required_argument, NULL, 'F' },
		{ "retain-bytes", required_argument, NULL, 'S' },
		{ "retain-days", required_argument, NULL, 'D' },
		{ "codec", required_argument, NULL, 'z' },
		{ "group", required_argument, NULL, 'g' },
		{ "sync-ms", required_argument, NULL, 'y' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t value;
	int opt, index = 0;

	a->opt.rotate_seconds = DEFAULT_ROTATE_SECONDS;
	a->sync_ms = DEFAULT_SYNC_MS;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, &index)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 1;
		}
		if (opt == '?')
			goto usage_error;
		switch (opt) {
		case 't':
			if (!fs_config_topic_name_ok(optarg)) {
				fprintf(stderr, "flowsift capture: '%s' is not a Kafka topic name: "
					"use 1 to 249 characters of A-Z, a-z, 0-9, '.', '_' and '-'\n",
					optarg);
				goto usage_error;
			}
			a->topic = optarg;
			continue;
		case 'd': a->dir = optarg; continue;
		case 'z': a->opt.codec = optarg; continue;
		case 'g': a->group = optarg; continue;
		case 'c': a->config_path = optarg; continue;
		default: break;
		}
		if (parse_size(optarg, &value) < 0) {
			fprintf(stderr, "flowsift capture: invalid number '%s' for --%s\n", optarg,
				options[index].name);
			goto usage_error;
		}
		switch (opt) {
		case 'R': a->opt.rotate_seconds = value; break;
		case 'B': a->opt.rotate_bytes = value; break;
		case 'F': a->opt.retain_files = value; break;
		case 'S': a->opt.retain_bytes = value; break;
		case 'D': a->opt.retain_seconds = value * 86400; break;
		case 'y': a->sync_ms = value == 0 ? 1 : (int64_t)value; break;
		default: break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flowsift capture: unexpected argument '%s'\n", argv[optind]);
		goto usage_error;
	}
	if (a->topic == NULL || a->dir == NULL) {
		fprintf(stderr, "flowsift capture: --topic and --dir are required\n");
		goto usage_error;
	}
	a->opt.dir = a->dir;
	return 0;
usage_error:
	usage_hint("capture");
	return 2;
}

int
cmd_capture(int argc, char **argv)
{
	struct capture_args args = { 0 };
	struct capture_run run = { 0 };
	struct fs_config *config = NULL;
	char group[300], err[512];
	int rc, status = 1;

	rc = parse_args(argc, argv, &args);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if (fs_config_load(&config, args.config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift capture: %s\n", err);
		return 1;
	}
	fs_config_apply_logging(config);
	if (topic_records_init(&run.records, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift capture: %s\n", err);
		goto out;
	}
	if (fs_archive_writer_new(&run.writer, &args.opt, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift capture: %s\n", err);
		goto out;
	}
	if (args.group == NULL) {
		snprintf(group, sizeof(group), "flowsift-capture.%s", args.topic);
		args.group = group;
	}
	run.config = config;
	run.topic = args.topic;
	check_topic(&run);
	run.consumer = fs_consumer_new_config(config, args.group, &args.topic, 1, err,
					      sizeof(err));
	if (run.consumer == NULL) {
		fprintf(stderr, "flowsift capture: cannot create the Kafka consumer: %s\n", err);
		goto out;
	}
	fs_consumer_set_manual_store(run.consumer, 1);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGPIPE, SIG_IGN);
	fs_log(FS_LOG_INFO, "capture", "keeping topic %s in %s (group %s)", args.topic,
	       args.dir, args.group);
	status = run_capture(&run, args.sync_ms);
	/* The archive is closed by now; leaving the group must not hang on a broker that is gone. */
	fs_exit_deadline_arm("capture", FS_EXIT_DEADLINE_S);
	log_stats(&run);
	fs_log(FS_LOG_INFO, "capture", "stopped");
out:
	if (run.consumer != NULL && fs_consumer_close(run.consumer, NULL) < 0)
		fs_log(FS_LOG_WARNING, "capture",
		       "the final offset commit failed; the last flows will be written again at restart");
	fs_archive_writer_free(run.writer);
	fs_config_free(config);
	return status;
}
