/* topic_range.c - reads a bounded range of one Kafka topic by assignment. */
#include "kafka/topic_range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/result.h"

#define BATCH_MESSAGES 1000

struct partition_range {
	int64_t low;  /* low watermark at open */
	int64_t start;
	int64_t end;  /* exclusive */
	int64_t next; /* next offset expected */
	bool done;
	/*
	 * The broker found no message at or after from_ms, so only the last
	 * message is read, to check that result.
	 */
	bool probe;
};

struct fs_topic_range {
	rd_kafka_t *rk;
	char topic[256];
	struct partition_range *parts;
	int32_t count;
	int32_t remaining; /* partitions not done */
	uint64_t total;
	uint64_t read;
	int64_t from_ms;
	int64_t to_ms;
	bool fallback_logged;
};

static const char *const range_defaults[] = {
	/* An assignment without commits: the group id is never joined. */
	"group.id", "flowsift-topic-range",
	"enable.auto.commit", "false",
	"enable.auto.offset.store", "false",
	"enable.partition.eof", "true",
	NULL,
};

/*
 * Finds the partition count of r->topic in the metadata of every topic.  A
 * request that names the topic would make a broker that creates topics on
 * demand (librdkafka's mock cluster, and brokers older than 0.11) create a
 * mistyped one, which would then read as empty instead of not found.
 */
static int
partition_count(struct fs_topic_range *r, int timeout_ms, char *err, size_t err_len)
{
	const struct rd_kafka_metadata *md = NULL;
	const struct rd_kafka_metadata_topic *found = NULL;
	rd_kafka_resp_err_t kerr;
	int rc = 0;

	kerr = rd_kafka_metadata(r->rk, 1, NULL, &md, timeout_ms);
	if (kerr) {
		snprintf(err, err_len, "cannot read the metadata of topic '%s': %s", r->topic,
			 rd_kafka_err2str(kerr));
		return FS_ERR_SYSTEM;
	}
	for (int i = 0; i < md->topic_cnt && found == NULL; i++) {
		if (strcmp(md->topics[i].topic, r->topic) == 0)
			found = &md->topics[i];
	}
	if (found == NULL || found->err || found->partition_cnt <= 0) {
		snprintf(err, err_len, "topic '%s' not found: %s", r->topic,
			 found ? rd_kafka_err2str(found->err)
			       : "the cluster has no such topic (a topic appears with its "
				 "first message)");
		rc = FS_ERR_NOT_FOUND;
	} else if (found->partition_cnt > FS_TOPIC_RANGE_MAX_PARTITIONS) {
		snprintf(err, err_len, "topic '%s' has %d partitions, more than the %d supported",
			 r->topic, found->partition_cnt, FS_TOPIC_RANGE_MAX_PARTITIONS);
		rc = FS_ERR_INVALID;
	} else {
		r->count = found->partition_cnt;
	}
	rd_kafka_metadata_destroy(md);
	return rc;
}

/* Looks up, for every partition, the first offset at or after time_ms (-1 when none). */
static int
offsets_for_time(struct fs_topic_range *r, int64_t time_ms, int64_t *out, int timeout_ms, char *err, size_t err_len)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(r->count);
	rd_kafka_resp_err_t kerr;
	int rc = 0;

	if (list == NULL) {
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	for (int32_t p = 0; p < r->count; p++)
		rd_kafka_topic_partition_list_add(list, r->topic, p)->offset = time_ms;
	kerr = rd_kafka_offsets_for_times(r->rk, list, timeout_ms);
	if (kerr) {
		snprintf(err, err_len, "cannot look up offsets by time in '%s': %s", r->topic,
			 rd_kafka_err2str(kerr));
		rc = FS_ERR_SYSTEM;
		goto out;
	}
	for (int i = 0; i < list->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &list->elems[i];

		if (tp->partition < 0 || tp->partition >= r->count)
			continue;
		if (tp->err) {
			snprintf(err, err_len, "cannot look up offsets by time in '%s' partition %d: %s",
				 r->topic, (int)tp->partition, rd_kafka_err2str(tp->err));
			rc = FS_ERR_SYSTEM;
			goto out;
		}
		/* -1 (RD_KAFKA_OFFSET_END): no message at or after time_ms. */
		out[tp->partition] = tp->offset < 0 ? -1 : tp->offset;
	}
out:
	rd_kafka_topic_partition_list_destroy(list);
	return rc;
}

static int64_t
clamp(int64_t v, int64_t low, int64_t high)
{
	if (v < low)
		return low;
	if (v > high)
		return high;
	return v;
}

/* Fixes start and end of every partition. */
static int
plan_ranges(struct fs_topic_range *r, const struct fs_topic_range_options *opt, char *err,
	    size_t err_len)
{
	int64_t *low = calloc((size_t)r->count * 4, sizeof(int64_t));
	int64_t *high = low ? low + r->count : NULL;
	int64_t *from = low ? low + 2 * r->count : NULL;
	int64_t *to = low ? low + 3 * r->count : NULL;
	int rc = 0;

	if (low == NULL) {
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	for (int32_t p = 0; p < r->count; p++) {
		rd_kafka_resp_err_t kerr = rd_kafka_query_watermark_offsets(
			r->rk, r->topic, p, &low[p], &high[p], opt->timeout_ms);

		if (kerr) {
			snprintf(err, err_len, "cannot read the offsets of '%s' partition %d: %s",
				 r->topic, (int)p, rd_kafka_err2str(kerr));
			rc = FS_ERR_SYSTEM;
			goto out;
		}
		from[p] = low[p];
		to[p] = high[p];
	}
	if (!opt->has_offset && opt->from_ms >= 0)
		rc = offsets_for_time(r, opt->from_ms, from, opt->timeout_ms, err, err_len);
	if (rc == 0 && opt->to_ms >= 0)
		rc = offsets_for_time(r, opt->to_ms, to, opt->timeout_ms, err, err_len);
	if (rc < 0)
		goto out;
	for (int32_t p = 0; p < r->count; p++) {
		struct partition_range *pr = &r->parts[p];

		if (opt->has_offset) {
			from[p] = opt->offset >= 0 ? opt->offset : high[p] + opt->offset;
		} else if (from[p] < 0 && high[p] > low[p]) {
			from[p] = high[p] - 1;
			pr->probe = true;
		} else if (from[p] < 0) {
			from[p] = high[p];
		}
		if (to[p] < 0)
			to[p] = high[p];
		pr->low = low[p];
		pr->start = clamp(from[p], low[p], high[p]);
		pr->end = clamp(to[p], pr->start, high[p]);
		pr->next = pr->start;
		pr->done = pr->start >= pr->end;
		if (!pr->done) {
			r->remaining++;
			r->total += (uint64_t)(pr->end - pr->start);
		}
	}
out:
	free(low);
	return rc;
}

static int
assign_partitions(struct fs_topic_range *r, char *err, size_t err_len)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(r->count);
	rd_kafka_resp_err_t kerr;

	if (list == NULL) {
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	for (int32_t p = 0; p < r->count; p++) {
		if (!r->parts[p].done)
			rd_kafka_topic_partition_list_add(list, r->topic, p)->offset = r->parts[p].start;
	}
	kerr = rd_kafka_assign(r->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (kerr) {
		snprintf(err, err_len, "cannot assign the partitions of '%s': %s", r->topic,
			 rd_kafka_err2str(kerr));
		return FS_ERR_SYSTEM;
	}
	return 0;
}

int
fs_topic_range_open(struct fs_topic_range **out, const char *bootstrap,
		    const struct fs_kafka_props *props, const struct fs_topic_range_options *opt,
		    char *err, size_t err_len)
{
	struct fs_topic_range *r;
	rd_kafka_conf_t *conf = NULL;
	char reason[512];
	int rc;

	*out = NULL;
	if (opt->topic == NULL || opt->topic[0] == '\0' || strlen(opt->topic) >= 256) {
		snprintf(err, err_len, "the topic name is empty or longer than 255 bytes");
		return FS_ERR_INVALID;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, err_len, "out of memory");
		return FS_ERR_SYSTEM;
	}
	r->from_ms = opt->has_offset ? -1 : opt->from_ms;
	r->to_ms = opt->to_ms;
	snprintf(r->topic, sizeof(r->topic), "%s", opt->topic);
	rc = fs_kafka_conf_new(&conf, bootstrap, range_defaults, props, err, err_len);
	if (rc < 0)
		goto fail;
	r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
	if (r->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, err_len, "creating the Kafka consumer failed: %s", reason);
		rc = FS_ERR_SYSTEM;
		goto fail;
	}
	rd_kafka_poll_set_consumer(r->rk);
	rc = partition_count(r, opt->timeout_ms, err, err_len);
	if (rc < 0)
		goto fail;
	r->parts = calloc((size_t)r->count, sizeof(*r->parts));
	if (r->parts == NULL) {
		snprintf(err, err_len, "out of memory");
		rc = FS_ERR_SYSTEM;
		goto fail;
	}
	rc = plan_ranges(r, opt, err, err_len);
	if (rc == 0 && r->remaining > 0)
		rc = assign_partitions(r, err, err_len);
	if (rc < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	fs_topic_range_free(r);
	return rc;
}

static void
mark_done(struct fs_topic_range *r, struct partition_range *pr)
{
	if (!pr->done) {
		pr->done = true;
		r->remaining--;
	}
}

/*
 * Restarts a probed partition at its low watermark: the broker found no
 * message at or after from_ms, yet its last message is one, so the broker
 * did not look up by time (librdkafka 2.0's mock cluster returns "none" for
 * every such lookup).  The partition is then read from its start and
 * filtered by timestamp.
 */
static void
rescan_partition(struct fs_topic_range *r, int32_t partition)
{
	struct partition_range *pr = &r->parts[partition];
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_error_t *error;

	pr->probe = false;
	if (list == NULL)
		return;
	rd_kafka_topic_partition_list_add(list, r->topic, partition)->offset = pr->low;
	error = rd_kafka_seek_partitions(r->rk, list, 5000);
	rd_kafka_topic_partition_list_destroy(list);
	if (error != NULL) {
		fs_log(FS_LOG_WARNING, "kafka", "cannot rewind '%s' partition %d: %s; "
		       "its messages before the last are not read", r->topic, (int)partition,
		       rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		return;
	}
	r->total += (uint64_t)(pr->start - pr->low);
	pr->start = pr->low;
	pr->next = pr->low;
	if (!r->fallback_logged) {
		fs_log(FS_LOG_NOTICE, "kafka", "the broker did not look up '%s' offsets by time; "
		       "reading from the oldest message and filtering by timestamp", r->topic);
		r->fallback_logged = true;
	}
}

int
fs_topic_range_read(struct fs_topic_range *r, int timeout_ms, fs_topic_range_fn *fn,
		    void *opaque, char *err, size_t err_len)
{
	for (int i = 0; i < BATCH_MESSAGES && r->remaining > 0; i++) {
		rd_kafka_message_t *msg = rd_kafka_consumer_poll(r->rk, i == 0 ? timeout_ms : 0);
		struct partition_range *pr;
		int rc = 0;

		if (msg == NULL)
			break;
		if (msg->partition < 0 || msg->partition >= r->count) {
			rd_kafka_message_destroy(msg);
			continue;
		}
		pr = &r->parts[msg->partition];
		if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			/* Messages deleted or control records at the end: nothing more to read. */
			mark_done(r, pr);
		} else if (msg->err) {
			bool fatal = msg->err == RD_KAFKA_RESP_ERR__FATAL;

			snprintf(err, err_len, "reading '%s' partition %d failed: %s", r->topic,
				 (int)msg->partition, rd_kafka_message_errstr(msg));
			rd_kafka_message_destroy(msg);
			if (fatal)
				return FS_ERR_SYSTEM;
			fs_log(FS_LOG_WARNING, "kafka", "%s", err);
			continue;
		} else if (!pr->done && msg->offset < pr->end) {
			rd_kafka_timestamp_type_t type;
			int64_t ts = rd_kafka_message_timestamp(msg, &type);

			if (pr->probe && ts >= r->from_ms) {
				rescan_partition(r, msg->partition);
				rd_kafka_message_destroy(msg);
				continue;
			}
			r->read++;
			pr->next = msg->offset + 1;
			/* Exact bounds, also where the broker's time lookup is coarse. */
			if ((r->from_ms < 0 || ts < 0 || ts >= r->from_ms) &&
			    (r->to_ms < 0 || ts < 0 || ts < r->to_ms))
				rc = fn(msg->payload, msg->len, ts, msg->partition, msg->offset, opaque);
			if (pr->next >= pr->end)
				mark_done(r, pr);
		} else {
			mark_done(r, pr);
		}
		rd_kafka_message_destroy(msg);
		if (rc != 0)
			return rc;
	}
	return r->remaining > 0 ? 1 : 0;
}

void
fs_topic_range_progress(const struct fs_topic_range *r, uint64_t *done, uint64_t *total)
{
	*done = r->read;
	*total = r->total;
}

void
fs_topic_range_free(struct fs_topic_range *r)
{
	if (r == NULL)
		return;
	if (r->rk != NULL) {
		rd_kafka_consumer_close(r->rk);
		rd_kafka_destroy(r->rk);
	}
	free(r->parts);
	free(r);
}
