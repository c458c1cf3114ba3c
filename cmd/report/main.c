/*
 * flowsift-report - consumes flows and keeps rolling top-N counters in Redis.
 *
 * Flows from report.topic are summed locally and written to Redis every
 * report.flush.interval.ms (or sooner when the local table fills).  A
 * message's offset is stored for commit only after the write that contains
 * it succeeded, so a crash or a Redis outage loses no flow: the flows since
 * the last successful write are consumed again (at-least-once, so a crash
 * may count some flows twice).  While Redis is unreachable the worker stops
 * consuming and retries the write once a second.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avro/flow_codec.h"
#include "config/config.h"
#include "core/log.h"
#include "core/result.h"
#include "kafka/consumer.h"
#include "redis/redis_url.h"
#include "redis/topn.h"

#define BATCH_ENTRIES 65536
#define POLL_MESSAGES 1000
#define REDIS_TIMEOUT_MS 2000
#define RETRY_INTERVAL_MS 1000

static volatile sig_atomic_t stop_requested;

struct report {
	struct fs_flow_codec *codec;
	struct fs_consumer *consumer;
	struct fs_topn_batch *batch;
	struct fs_redis_url redis_url;
	redisContext *redis;
	int64_t next_flush_ms;
	int64_t flush_interval_ms;
	/* flows in the batch whose offsets wait for the next successful flush */
	uint64_t pending_flows;
	uint64_t flows;
	uint64_t rejected;
	uint64_t redis_errors;
	struct fs_ratelimit reject_limit;
	struct fs_ratelimit redis_limit;
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t
now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects when there is no usable connection.  Returns 0 or a negative fs_result. */
static int
ensure_redis(struct report *report)
{
	char err[512];
	int rc;

	if (report->redis && !report->redis->err)
		return 0;
	if (report->redis) {
		redisFree(report->redis);
		report->redis = NULL;
	}
	rc = fs_redis_connect(&report->redis_url, REDIS_TIMEOUT_MS, &report->redis,
			      err, sizeof(err));
	if (rc < 0) {
		report->redis_errors++;
		fs_log_limited(&report->redis_limit, FS_LOG_WARNING, "report",
			       "cannot connect to Redis: %s; retrying", err);
	}
	return rc;
}

/*
 * Writes the batch to Redis and then stores the offsets of the flows in it.
 * Returns 0, or a negative fs_result with the batch kept for a retry.
 */
static int
flush(struct report *report)
{
	int rc;

	if (fs_topn_batch_count(report->batch) == 0 && report->pending_flows == 0)
		return 0;
	rc = ensure_redis(report);
	if (rc < 0)
		return rc;
	rc = fs_topn_flush(report->batch, report->redis, now_ms(CLOCK_REALTIME) / 1000);
	if (rc < 0) {
		report->redis_errors++;
		fs_log_limited(&report->redis_limit, FS_LOG_WARNING, "report",
			       "writing counters to Redis failed (%s); retrying",
			       fs_result_name(rc));
		return rc;
	}
	fs_consumer_store_pending(report->consumer);
	report->pending_flows = 0;
	return 0;
}

static int
handle_message(const void *key, size_t key_len, const void *value, size_t len,
	       int64_t timestamp_ms, void *opaque)
{
	struct report *report = opaque;
	struct fs_flow flow;
	int rc;

	(void)key;
	(void)key_len;
	(void)timestamp_ms;
	rc = fs_flow_codec_decode(report->codec, value, len, &flow);
	if (rc < 0) {
		/* A message that can never be decoded is counted and skipped. */
		report->rejected++;
		fs_log_limited(&report->reject_limit, FS_LOG_WARNING, "report",
			       "rejected a message of %zu bytes: %s", len,
			       rc == FS_ERR_UNSUPPORTED ? "unknown schema fingerprint"
							: fs_result_name(rc));
		return 0;
	}
	if (fs_topn_batch_add(report->batch, &flow) == FS_ERR_FULL) {
		if (flush(report) < 0)
			return 1;
		if (fs_topn_batch_add(report->batch, &flow) < 0)
			return 1;
	}
	report->flows++;
	report->pending_flows++;
	return 0;
}

static void
log_stats(const struct report *report)
{
	struct fs_consumer_stats c = { 0 };
	struct fs_topn_stats t;

	if (report->consumer)
		fs_consumer_stats(report->consumer, &c);
	fs_topn_batch_stats(report->batch, &t);
	fs_log(FS_LOG_INFO, "stats",
	       "consumed=%llu flows=%llu rejected=%llu pending=%llu flushes=%llu "
	       "redis_commands=%llu redis_errors=%llu consumer_errors=%llu "
	       "commit_failures=%llu",
	       (unsigned long long)c.consumed, (unsigned long long)report->flows,
	       (unsigned long long)report->rejected,
	       (unsigned long long)report->pending_flows,
	       (unsigned long long)t.flushes, (unsigned long long)t.commands,
	       (unsigned long long)report->redis_errors,
	       (unsigned long long)c.errors, (unsigned long long)c.commit_failures);
}

static void
run(struct report *report, const struct fs_config *config)
{
	int64_t stats_interval_ms = fs_config_int(config, "report.stats.interval") * 1000;
	int64_t next_stats = now_ms(CLOCK_MONOTONIC) + stats_interval_ms;

	report->next_flush_ms = now_ms(CLOCK_MONOTONIC) + report->flush_interval_ms;
	while (!stop_requested) {
		int64_t now = now_ms(CLOCK_MONOTONIC);

		if (now >= report->next_flush_ms) {
			if (flush(report) < 0) {
				/* Redis is down: consume nothing more until it is back. */
				usleep(RETRY_INTERVAL_MS * 1000);
				continue;
			}
			report->next_flush_ms = now + report->flush_interval_ms;
		}
		if (fs_consumer_poll(report->consumer, 100, handle_message, report,
				     POLL_MESSAGES) == FS_ERR_SYSTEM) {
			fs_log(FS_LOG_ERR, "report", "fatal Kafka consumer error; stopping");
			break;
		}
		if (stats_interval_ms > 0 && now >= next_stats) {
			log_stats(report);
			next_stats = now + stats_interval_ms;
		}
	}
	if (flush(report) < 0)
		fs_log(FS_LOG_WARNING, "report",
		       "%llu flows were not written to Redis; they will be consumed again at restart",
		       (unsigned long long)report->pending_flows);
	log_stats(report);
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: flowsift-report [--config FILE]\n"
		"\n"
		"Consumes flows from report.topic (default flows.raw) in consumer group\n"
		"report.group.id and keeps rolling top-N counters in the Redis of redis.url,\n"
		"until SIGINT or SIGTERM.  Read them with `flowsift top`.\n"
		"Settings: docs/CONFIGURATION.md.\n");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report report = {
		.reject_limit = FS_RATELIMIT_INIT(60, 5),
		.redis_limit = FS_RATELIMIT_INIT(60, 3),
	};
	struct fs_config *config = NULL;
	const char *config_path = NULL;
	const char *topic;
	enum fs_log_level level;
	char err[512], url[1024], safe[1024];
	int opt, status = 1;

	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (fs_config_load(&config, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "flowsift-report: %s\n", err);
		return 1;
	}
	if (fs_log_level_parse(fs_config_str(config, "log.level"), &level) == 0)
		fs_log_set_level(level);
	/* An interrupt ignored at start (a background job of `make run`) stays
	 * ignored, so Ctrl-C reaches the script, which stops workers in order. */
	if (signal(SIGINT, SIG_IGN) != SIG_IGN)
		signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if (fs_config_redis_url(config, url, sizeof(url), err, sizeof(err)) < 0 ||
	    fs_redis_url_parse(&report.redis_url, url, err, sizeof(err)) < 0) {
		fs_log(FS_LOG_ERR, "report", "%s", err);
		goto out;
	}
	report.flush_interval_ms = fs_config_int(config, "report.flush.interval.ms");
	report.batch = fs_topn_batch_new(BATCH_ENTRIES);
	report.codec = fs_flow_codec_new(err, sizeof(err));
	if (!report.batch || !report.codec) {
		fs_log(FS_LOG_ERR, "report", "cannot start: %s",
		       report.codec ? "out of memory" : err);
		goto out;
	}
	topic = fs_config_str(config, "report.topic");
	report.consumer = fs_consumer_new_config(config,
						 fs_config_str(config, "report.group.id"),
						 &topic, 1, err, sizeof(err));
	if (!report.consumer) {
		fs_log(FS_LOG_ERR, "report", "cannot create the Kafka consumer: %s", err);
		goto out;
	}
	fs_consumer_set_manual_store(report.consumer, 1);
	fs_log(FS_LOG_INFO, "report", "consuming %s, writing counters to %s", topic,
	       fs_redis_url_format_safe(&report.redis_url, safe, sizeof(safe)));
	run(&report, config);
	status = 0;
out:
	fs_consumer_close(report.consumer, NULL);
	if (report.redis)
		redisFree(report.redis);
	fs_topn_batch_free(report.batch);
	fs_flow_codec_free(report.codec);
	fs_config_free(config);
	return status;
}
