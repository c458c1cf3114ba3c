/* template_topic.c - load and follow the shared-templates topic by assignment. */
#include "templates/template_topic.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"

#define MAX_PARTITIONS 4096
#define METADATA_TIMEOUT_MS 5000
#define POLL_MS 200

struct fs_template_topic {
	rd_kafka_t *rk;
	char topic[256];
	struct fs_template_topic_options options;
	fs_template_topic_fn *fn;
	void *opaque;

	int32_t partitions;   /* 0 until the topic was found and assigned */
	int64_t *high;        /* load: high watermark of each partition at the load */
	bool *done;           /* load: partition read up to high */

	pthread_t thread;
	bool thread_started;
	atomic_int stop;
	atomic_uint_fast64_t loaded_records, loaded_bytes, followed_records, errors;
	struct fs_ratelimit error_limit;
};

static const char *const topic_defaults[] = {
	/* An assignment without commits: the group id is never joined. */
	"group.id", "flowsift-template-topic",
	"enable.auto.commit", "false",
	"enable.auto.offset.store", "false",
	"enable.partition.eof", "true",
	NULL,
};

/* Returns the partition count of the topic, 0 when it does not exist, or FS_ERR_SYSTEM. */
static int
find_partitions(struct fs_template_topic *t, char *err, size_t err_len)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(t->rk, t->topic, NULL);
	rd_kafka_resp_err_t kerr;
	int count = 0;

	if (!rkt) {
		snprintf(err, err_len, "invalid topic name '%s'", t->topic);
		return FS_ERR_SYSTEM;
	}
	kerr = rd_kafka_metadata(t->rk, 0, rkt, &md, METADATA_TIMEOUT_MS);
	rd_kafka_topic_destroy(rkt);
	if (kerr) {
		snprintf(err, err_len, "cannot read the metadata of topic '%s': %s", t->topic,
			 rd_kafka_err2str(kerr));
		return FS_ERR_SYSTEM;
	}
	if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
		count = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	if (count > MAX_PARTITIONS) {
		snprintf(err, err_len, "topic '%s' has %d partitions, more than the %d supported",
			 t->topic, count, MAX_PARTITIONS);
		return FS_ERR_SYSTEM;
	}
	return count;
}

/* Assigns every partition at its earliest offset and sizes the load arrays. */
static int
assign_all(struct fs_template_topic *t, int32_t count, char *err, size_t err_len)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(count);
	rd_kafka_resp_err_t kerr;

	free(t->high);
	free(t->done);
	t->high = calloc((size_t)count, sizeof(*t->high));
	t->done = calloc((size_t)count, sizeof(*t->done));
	if (!list || !t->high || !t->done) {
		if (list)
			rd_kafka_topic_partition_list_destroy(list);
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	for (int32_t p = 0; p < count; p++)
		rd_kafka_topic_partition_list_add(list, t->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	kerr = rd_kafka_assign(t->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (kerr) {
		snprintf(err, err_len, "cannot assign the partitions of '%s': %s", t->topic,
			 rd_kafka_err2str(kerr));
		return FS_ERR_SYSTEM;
	}
	t->partitions = count;
	return 0;
}

/* Looks the topic up and assigns it; returns 1 when assigned, 0 when it does not exist yet. */
static int
try_assign(struct fs_template_topic *t, char *err, size_t err_len)
{
	int count = find_partitions(t, err, err_len);

	if (count <= 0)
		return count;
	if (assign_all(t, count, err, err_len) < 0)
		return FS_ERR_SYSTEM;
	fs_log(FS_LOG_INFO, "templates", "reading shared templates from topic %s (%d partitions)",
	       t->topic, count);
	return 1;
}

int
fs_template_topic_new(struct fs_template_topic **out, const char *bootstrap,
		      const struct fs_kafka_props *props,
		      const struct fs_template_topic_options *options,
		      fs_template_topic_fn *fn, void *opaque, char *err, size_t err_len)
{
	struct fs_template_topic *t;
	rd_kafka_conf_t *conf = NULL;
	char reason[512];
	int rc;

	*out = NULL;
	if (!options->topic || options->topic[0] == '\0' || strlen(options->topic) >= 256) {
		snprintf(err, err_len, "the templates topic name is empty or longer than 255 bytes");
		return FS_ERR_INVALID;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	snprintf(t->topic, sizeof(t->topic), "%s", options->topic);
	t->options = *options;
	t->options.topic = t->topic;
	t->fn = fn;
	t->opaque = opaque;
	t->error_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	rc = fs_kafka_conf_new(&conf, bootstrap, topic_defaults, props, err, err_len);
	if (rc < 0) {
		free(t);
		return rc;
	}
	t->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
	if (!t->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, err_len, "creating the Kafka consumer for '%s' failed: %s",
			 t->topic, reason);
		free(t);
		return FS_ERR_SYSTEM;
	}
	rd_kafka_poll_set_consumer(t->rk);
	*out = t;
	return 0;
}

/* Hands one message to the callback, or counts its error. */
static void
handle_message(struct fs_template_topic *t, const rd_kafka_message_t *m)
{
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		return;
	if (m->err) {
		atomic_fetch_add(&t->errors, 1);
		fs_log_limited(&t->error_limit, FS_LOG_WARNING, "templates",
			       "reading topic %s failed: %s", t->topic, rd_kafka_message_errstr(m));
		return;
	}
	t->fn(m->key, m->key_len, m->payload, m->payload ? m->len : 0, t->opaque);
}

/* Fetches the high watermarks; returns how many partitions have records to load. */
static int
plan_load(struct fs_template_topic *t, char *err, size_t err_len)
{
	int pending = 0;

	for (int32_t p = 0; p < t->partitions; p++) {
		int64_t low = 0, high = 0;
		rd_kafka_resp_err_t kerr = rd_kafka_query_watermark_offsets(
			t->rk, t->topic, p, &low, &high, METADATA_TIMEOUT_MS);

		if (kerr) {
			snprintf(err, err_len, "cannot read the offsets of '%s' partition %d: %s",
				 t->topic, (int)p, rd_kafka_err2str(kerr));
			return FS_ERR_SYSTEM;
		}
		t->high[p] = high;
		t->done[p] = high <= low;
		if (!t->done[p])
			pending++;
	}
	return pending;
}

int
fs_template_topic_load(struct fs_template_topic *t, char *err, size_t err_len)
{
	int64_t deadline = fs_monotonic_ms() + t->options.timeout_ms;
	int pending, rc;

	rc = try_assign(t, err, err_len);
	if (rc <= 0)
		return rc;
	pending = plan_load(t, err, err_len);
	if (pending < 0)
		return pending;
	while (pending > 0) {
		uint64_t records = atomic_load(&t->loaded_records);
		uint64_t bytes = atomic_load(&t->loaded_bytes);
		rd_kafka_message_t *m;

		if (records >= t->options.max_records || bytes >= t->options.max_bytes ||
		    fs_monotonic_ms() >= deadline) {
			fs_log(FS_LOG_WARNING, "templates",
			       "loading topic %s stopped after %llu records and %llu bytes "
			       "(ingest.templates.load.max.records, .max.bytes or "
			       ".timeout.ms); the rest is read in the background",
			       t->topic, (unsigned long long)records, (unsigned long long)bytes);
			return 1;
		}
		m = rd_kafka_consumer_poll(t->rk, POLL_MS);
		if (!m)
			continue;
		if (m->partition >= 0 && m->partition < t->partitions && !t->done[m->partition] &&
		    (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || m->offset + 1 >= t->high[m->partition])) {
			t->done[m->partition] = true;
			pending--;
		}
		if (!m->err) {
			atomic_fetch_add(&t->loaded_records, 1);
			atomic_fetch_add(&t->loaded_bytes, m->key_len + m->len);
		}
		handle_message(t, m);
		rd_kafka_message_destroy(m);
	}
	fs_log(FS_LOG_INFO, "templates", "loaded %llu records (%llu bytes) from topic %s",
	       (unsigned long long)atomic_load(&t->loaded_records),
	       (unsigned long long)atomic_load(&t->loaded_bytes), t->topic);
	return 0;
}

static void *
follow_run(void *arg)
{
	struct fs_template_topic *t = arg;
	int64_t next_lookup = 0;
	char err[512];

	while (!atomic_load(&t->stop)) {
		rd_kafka_message_t *m;

		if (t->partitions == 0) {
			if (fs_monotonic_ms() < next_lookup) {
				struct timespec tick = { 0, POLL_MS * 1000000L };

				nanosleep(&tick, NULL);
				continue;
			}
			next_lookup = fs_monotonic_ms() + FS_TEMPLATE_TOPIC_RETRY_S * 1000;
			if (try_assign(t, err, sizeof(err)) < 0)
				fs_log_limited(&t->error_limit, FS_LOG_WARNING, "templates", "%s", err);
			continue;
		}
		m = rd_kafka_consumer_poll(t->rk, POLL_MS);
		if (!m)
			continue;
		if (!m->err)
			atomic_fetch_add(&t->followed_records, 1);
		handle_message(t, m);
		rd_kafka_message_destroy(m);
	}
	return NULL;
}

int
fs_template_topic_follow(struct fs_template_topic *t, char *err, size_t err_len)
{
	if (pthread_create(&t->thread, NULL, follow_run, t) != 0) {
		snprintf(err, err_len, "cannot start the template topic thread");
		return FS_ERR_SYSTEM;
	}
	t->thread_started = true;
	return 0;
}

void
fs_template_topic_stats(const struct fs_template_topic *t, struct fs_template_topic_stats *out)
{
	out->loaded_records = atomic_load(&t->loaded_records);
	out->loaded_bytes = atomic_load(&t->loaded_bytes);
	out->followed_records = atomic_load(&t->followed_records);
	out->errors = atomic_load(&t->errors);
}

void
fs_template_topic_free(struct fs_template_topic *t)
{
	if (!t)
		return;
	if (t->thread_started) {
		atomic_store(&t->stop, 1);
		pthread_join(t->thread, NULL);
	}
	rd_kafka_consumer_close(t->rk);
	rd_kafka_destroy(t->rk);
	free(t->high);
	free(t->done);
	free(t);
}
