/* consumer.c - group consumer that stores offsets after the handler succeeds. */
#include "kafka/consumer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"

/* How long a seek back to a failed message may wait for the fetcher. */
#define SEEK_TIMEOUT_MS 5000
#define CLOSE_TIMEOUT_MS 10000
/* How often fs_consumer_poll() looks up the assignment, and how long none is quiet. */
#define ASSIGNMENT_CHECK_MS 1000
#define UNASSIGNED_WARN_MS 15000
/* Partitions whose next offset is followed.  Messages of further partitions are not checked. */
#define MAX_FOLLOWED 64

/* Offset resets seen in librdkafka's log and not yet matched by a message. */
#define MAX_RESETS 16

/* The offset expected next from one partition, to find the messages the broker deleted. */
struct followed {
	char topic[256];
	int32_t partition;
	int64_t next;
};

struct fs_consumer {
	rd_kafka_t *rk;
	struct fs_consumer_stats stats;
	/* Set during close, whose commit results are counted from the close queue. */
	bool closing;
	bool fatal;
	struct fs_ratelimit error_rl;
	struct fs_ratelimit commit_rl;
	struct fs_ratelimit store_rl;
	struct fs_ratelimit rewind_rl;
	/* Manual store mode: the next offset of every handled partition, stored by fs_consumer_store_pending(). */
	bool manual_store;
	rd_kafka_topic_partition_list_t *pending;
	/* Manual store mode: the first handled offset of each partition in pending, for fs_consumer_rewind_pending(). */
	rd_kafka_topic_partition_list_t *pending_first;
	/* The message being handled, for fs_consumer_current(). */
	const rd_kafka_message_t *current;
	int64_t assignment_checked_ms;  /* monotonic time of the last assignment lookup */
	int64_t unassigned_since_ms;    /* since when no partition is assigned; 0 while some are */
	bool unassigned_logged;         /* the warning of this unassigned stretch was logged */
	/* Emptied at each rebalance, because a partition assigned again starts at its committed offset. */
	struct followed followed[MAX_FOLLOWED];
	size_t nfollowed;
	struct fs_ratelimit lost_rl;
	/*
	 * The fetch positions that librdkafka reset because the broker no longer
	 * had them, from its log, which runs on librdkafka's threads.  Each gives
	 * the expected offset of a partition that had no message yet.
	 */
	pthread_mutex_t resets_lock;
	struct followed resets[MAX_RESETS];
	size_t nresets;
};

static const char *const consumer_defaults[] = {
	"auto.offset.reset", "earliest",
	NULL,
};

/* Runs inside rd_kafka_consumer_poll() and rd_kafka_consumer_close(). */
static void
commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
	  rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	struct fs_consumer *c = opaque;

	(void)rk;
	(void)offsets;
	/* _NO_OFFSET means there was nothing new to commit. */
	if (c->closing || !err || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
		return;
	c->stats.commit_failures++;
	fs_log_limited(&c->commit_rl, FS_LOG_WARNING, "kafka",
		       "offset commit failed: %s", rd_kafka_err2str(err));
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct fs_consumer *c = opaque;

	(void)rk;
	c->stats.errors++;
	if (err == RD_KAFKA_RESP_ERR__FATAL)
		c->fatal = true;
	fs_log_limited(&c->error_rl, FS_LOG_WARNING, "kafka",
		       "consumer error %s: %s",
		       rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/*
 * Applies an assignment change as librdkafka does without a rebalance
 * callback: err is RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, or another code to
 * give partitions up.
 */
static void
apply_rebalance(struct fs_consumer *c, rd_kafka_t *rk, rd_kafka_resp_err_t err,
		rd_kafka_topic_partition_list_t *partitions)
{
	bool assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;

	c->nfollowed = 0;
	pthread_mutex_lock(&c->resets_lock);
	c->nresets = 0;
	pthread_mutex_unlock(&c->resets_lock);
	if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0)
		error = assign ? rd_kafka_incremental_assign(rk, partitions)
			       : rd_kafka_incremental_unassign(rk, partitions);
	else
		kerr = rd_kafka_assign(rk, assign ? partitions : NULL);
	if (error) {
		kerr = rd_kafka_error_code(error);
		rd_kafka_error_destroy(error);
	}
	if (kerr) {
		c->stats.errors++;
		fs_log_limited(&c->error_rl, FS_LOG_WARNING, "kafka", "%s %d partitions failed: %s",
			       assign ? "assigning" : "revoking", partitions ? partitions->cnt : 0,
			       rd_kafka_err2str(kerr));
	}
}

/* Runs inside rd_kafka_consumer_poll() at each rebalance of the group. */
static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
	     rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
	apply_rebalance(opaque, rk, err, partitions);
}

/*
 * Logs like fs_kafka_log_cb() and remembers the position of an offset reset
 * that an error caused, from librdkafka 2.0.2's warning "TOPIC [PARTITION]:
 * offset reset (at offset N, broker B) to ...": a position that the broker
 * deleted.  Another wording is only logged.
 */
static void
consumer_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	static const char marker[] = "]: offset reset (at offset ";
	struct fs_consumer *c = rd_kafka_opaque(rk);
	const char *end = strstr(buf, marker), *open, *topic;
	char *after;
	long long offset, partition;

	fs_kafka_log_cb(rk, level, fac, buf);
	if (c == NULL || level > 4 || strcmp(fac, "OFFSET") != 0 || end == NULL)
		return;
	offset = strtoll(end + sizeof(marker) - 1, &after, 10);
	if (after == end + sizeof(marker) - 1 || *after != ',')
		return;
	for (open = end; open > buf && *open != '['; open--)
		;
	partition = strtoll(open + 1, &after, 10);
	if (open == buf || open - buf < 2 || open[-1] != ' ' || after != end || partition < 0)
		return;
	for (topic = open - 1; topic > buf && topic[-1] != ' '; topic--)
		;
	if (open - 1 - topic <= 0 || open - 1 - topic >= (long)sizeof(c->resets[0].topic))
		return;
	pthread_mutex_lock(&c->resets_lock);
	if (c->nresets < MAX_RESETS) {
		struct followed *r = &c->resets[c->nresets++];

		snprintf(r->topic, sizeof(r->topic), "%.*s", (int)(open - 1 - topic), topic);
		r->partition = (int32_t)partition;
		r->next = offset;
	}
	pthread_mutex_unlock(&c->resets_lock);
}

/*
 * Returns the position before an offset reset of topic partition and
 * removes it from the list, or returns msg_offset when librdkafka reset none.
 */
static int64_t
take_reset(struct fs_consumer *c, const char *topic, int32_t partition, int64_t msg_offset)
{
	int64_t next = msg_offset;

	pthread_mutex_lock(&c->resets_lock);
	for (size_t i = 0; i < c->nresets; i++) {
		if (c->resets[i].partition != partition || strcmp(c->resets[i].topic, topic) != 0)
			continue;
		next = c->resets[i].next;
		c->resets[i] = c->resets[--c->nresets];
		break;
	}
	pthread_mutex_unlock(&c->resets_lock);
	return next;
}

/*
 * Counts the messages between the offset expected from msg's partition and
 * msg's offset: the broker deleted them (retention) before they were read.
 * A topic read here has neither compaction nor transactions, which also
 * leave gaps.  An offset at or before the expected one (a seek back) is no loss.
 */
static void
check_offset(struct fs_consumer *c, const rd_kafka_message_t *msg)
{
	const char *topic = rd_kafka_topic_name(msg->rkt);
	struct followed *f = NULL;

	for (size_t i = 0; i < c->nfollowed && f == NULL; i++)
		if (c->followed[i].partition == msg->partition &&
		    strcmp(c->followed[i].topic, topic) == 0)
			f = &c->followed[i];
	if (f == NULL) {
		if (c->nfollowed == MAX_FOLLOWED || strlen(topic) >= sizeof(f->topic))
			return;
		f = &c->followed[c->nfollowed++];
		snprintf(f->topic, sizeof(f->topic), "%s", topic);
		f->partition = msg->partition;
		/* A partition's first message: a reset before it names where reading stood. */
		f->next = take_reset(c, topic, msg->partition, msg->offset);
	}
	if (msg->offset > f->next) {
		c->stats.lost += (uint64_t)(msg->offset - f->next);
		fs_log_limited(&c->lost_rl, FS_LOG_ERR, "kafka",
			       "%s partition %d: the broker deleted the messages at offsets %lld to "
			       "%lld before they were read (its retention is too short for this "
			       "consumer's lag); %lld messages lost",
			       topic, (int)msg->partition, (long long)f->next,
			       (long long)msg->offset - 1, (long long)(msg->offset - f->next));
	}
	f->next = msg->offset + 1;
}

static int
subscribe(rd_kafka_t *rk, const char *const *topics, size_t ntopics, char *err,
	  size_t err_len)
{
	rd_kafka_topic_partition_list_t *list;
	rd_kafka_resp_err_t kerr;

	list = rd_kafka_topic_partition_list_new((int)ntopics);
	if (!list) {
		snprintf(err, err_len, "out of memory for the topic list");
		return FS_ERR_SYSTEM;
	}
	for (size_t i = 0; i < ntopics; i++)
		rd_kafka_topic_partition_list_add(list, topics[i],
						  RD_KAFKA_PARTITION_UA);
	kerr = rd_kafka_subscribe(rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (kerr) {
		snprintf(err, err_len, "subscribing to %zu topics failed: %s",
			 ntopics, rd_kafka_err2str(kerr));
		return FS_ERR_INVALID;
	}
	return 0;
}

struct fs_consumer *
fs_consumer_new(const char *bootstrap, const char *group_id,
		const char *const *topics, size_t ntopics,
		const struct fs_kafka_props *props, char *err, size_t err_len)
{
	struct fs_consumer *c;
	rd_kafka_conf_t *conf = NULL;
	char reason[512];

	if (ntopics == 0 || !group_id || !group_id[0]) {
		snprintf(err, err_len, "a consumer needs a group id and at least one topic");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, err_len, "out of memory for a Kafka consumer");
		return NULL;
	}
	c->error_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(10, 5);
	c->commit_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(10, 5);
	c->store_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(10, 5);
	c->rewind_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 10);
	c->lost_rl = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	pthread_mutex_init(&c->resets_lock, NULL);

	if (fs_kafka_conf_new(&conf, bootstrap, consumer_defaults, props, err,
			      err_len) < 0)
		goto fail;
	/*
	 * Set after the caller's properties: storing offsets before the handler
	 * ran would commit messages that were never handled.
	 */
	if (fs_kafka_conf_set(conf, "group.id", group_id, err, err_len) < 0 ||
	    fs_kafka_conf_set(conf, "enable.auto.offset.store", "false", err,
			      err_len) < 0)
		goto fail;
	rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_log_cb(conf, consumer_log_cb);
	rd_kafka_conf_set_opaque(conf, c);

	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
	if (!c->rk) {
		snprintf(err, err_len, "creating the Kafka consumer failed: %s",
			 reason);
		goto fail;
	}
	conf = NULL; /* owned by c->rk now */

	/* Serve callbacks and messages from the one queue rd_kafka_consumer_poll() reads. */
	rd_kafka_poll_set_consumer(c->rk);
	c->unassigned_since_ms = fs_monotonic_ms();
	if (subscribe(c->rk, topics, ntopics, err, err_len) < 0)
		goto fail;
	return c;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (c->rk)
		rd_kafka_destroy(c->rk);
	pthread_mutex_destroy(&c->resets_lock);
	free(c);
	return NULL;
}

struct fs_consumer *
fs_consumer_new_config(const struct fs_config *config, const char *group_id,
		       const char *const *topics, size_t ntopics, char *err,
		       size_t err_len)
{
	char bootstrap[1024];
	struct fs_kafka_props props = fs_kafka_props_config(config);

	if (fs_config_bootstrap(config, bootstrap, sizeof(bootstrap), err,
				err_len) < 0)
		return NULL;
	return fs_consumer_new(bootstrap, group_id, topics, ntopics, &props,
			       err, err_len);
}

/* Counts and logs an error event; returns FS_ERR_SYSTEM only when it is fatal. */
static int
consume_error(struct fs_consumer *c, const rd_kafka_message_t *msg)
{
	if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		fs_log(FS_LOG_DEBUG, "kafka", "reached the end of %s partition %d",
		       rd_kafka_topic_name(msg->rkt), (int)msg->partition);
		return 0;
	}
	c->stats.errors++;
	fs_log_limited(&c->error_rl, FS_LOG_WARNING, "kafka",
		       "consumer error on %s: %s",
		       msg->rkt ? rd_kafka_topic_name(msg->rkt) : "the group",
		       rd_kafka_message_errstr(msg));
	if (msg->err == RD_KAFKA_RESP_ERR__FATAL)
		c->fatal = true;
	return c->fatal ? FS_ERR_SYSTEM : 0;
}

/* Rewinds msg's partition to msg, so the next poll delivers it again. */
static void
seek_back(struct fs_consumer *c, const rd_kafka_message_t *msg)
{
	rd_kafka_topic_partition_list_t *list;
	rd_kafka_error_t *error;

	list = rd_kafka_topic_partition_list_new(1);
	if (!list)
		return;
	rd_kafka_topic_partition_list_add(list, rd_kafka_topic_name(msg->rkt),
					  msg->partition)->offset = msg->offset;
	error = rd_kafka_seek_partitions(c->rk, list, SEEK_TIMEOUT_MS);
	if (!error && list->elems[0].err)
		fs_log_limited(&c->store_rl, FS_LOG_WARNING, "kafka",
			       "seeking %s partition %d back to offset %lld failed: %s",
			       rd_kafka_topic_name(msg->rkt), (int)msg->partition,
			       (long long)msg->offset,
			       rd_kafka_err2str(list->elems[0].err));
	if (error) {
		fs_log_limited(&c->store_rl, FS_LOG_WARNING, "kafka",
			       "seeking %s partition %d back to offset %lld failed: %s",
			       rd_kafka_topic_name(msg->rkt), (int)msg->partition,
			       (long long)msg->offset, rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
	rd_kafka_topic_partition_list_destroy(list);
}

/* Records msg's partition as handled up to msg; allocates only for a partition not seen since the last store. */
static void
remember_pending(struct fs_consumer *c, const rd_kafka_message_t *msg)
{
	rd_kafka_topic_partition_t *entry;
	const char *topic = rd_kafka_topic_name(msg->rkt);

	if (!c->pending)
		c->pending = rd_kafka_topic_partition_list_new(8);
	if (!c->pending_first)
		c->pending_first = rd_kafka_topic_partition_list_new(8);
	if (!c->pending || !c->pending_first)
		return;
	entry = rd_kafka_topic_partition_list_find(c->pending, topic, msg->partition);
	if (!entry) {
		entry = rd_kafka_topic_partition_list_add(c->pending, topic, msg->partition);
		rd_kafka_topic_partition_list_add(c->pending_first, topic,
						  msg->partition)->offset = msg->offset;
	}
	/* The committed offset names the next message to read. */
	entry->offset = msg->offset + 1;
}

void
fs_consumer_set_manual_store(struct fs_consumer *c, int on)
{
	c->manual_store = on != 0;
}

/* Discards the offsets remembered in manual store mode. */
static void
clear_pending(struct fs_consumer *c)
{
	if (c->pending)
		rd_kafka_topic_partition_list_destroy(c->pending);
	if (c->pending_first)
		rd_kafka_topic_partition_list_destroy(c->pending_first);
	c->pending = NULL;
	c->pending_first = NULL;
}

int
fs_consumer_store_pending(struct fs_consumer *c)
{
	rd_kafka_resp_err_t err;
	int rc = 0;

	if (!c->pending || c->pending->cnt == 0) {
		clear_pending(c);
		return 0;
	}
	err = rd_kafka_offsets_store(c->rk, c->pending);
	for (int i = 0; i < c->pending->cnt; i++) {
		const rd_kafka_topic_partition_t *entry = &c->pending->elems[i];

		if (!err && !entry->err)
			continue;
		/* A partition revoked by a rebalance is read again by its new owner. */
		c->stats.store_failures++;
		rc = FS_ERR_SYSTEM;
		fs_log_limited(&c->store_rl, FS_LOG_WARNING, "kafka",
			       "storing offset %lld of %s partition %d failed: %s",
			       (long long)entry->offset, entry->topic, (int)entry->partition,
			       rd_kafka_err2str(err ? err : entry->err));
	}
	clear_pending(c);
	return rc;
}

/* Returns true when topic partition is in the consumer's current assignment. */
static bool
is_assigned(rd_kafka_t *rk, const char *topic, int32_t partition)
{
	rd_kafka_topic_partition_list_t *assignment = NULL;
	bool found;

	if (rd_kafka_assignment(rk, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return true; /* unknown: try the seek, whose failure is reported */
	found = rd_kafka_topic_partition_list_find(assignment, topic, partition) != NULL;
	rd_kafka_topic_partition_list_destroy(assignment);
	return found;
}

int
fs_consumer_rewind_pending(struct fs_consumer *c)
{
	rd_kafka_topic_partition_list_t *seeks;
	rd_kafka_error_t *error;
	int rc = 0;

	if (!c->pending_first || c->pending_first->cnt == 0) {
		clear_pending(c);
		return 0;
	}
	seeks = rd_kafka_topic_partition_list_new(c->pending_first->cnt);
	if (!seeks)
		return FS_ERR_SYSTEM;
	for (int i = 0; i < c->pending_first->cnt; i++) {
		const rd_kafka_topic_partition_t *first = &c->pending_first->elems[i];
		const rd_kafka_topic_partition_t *last;

		/*
		 * A partition revoked since (for example after a session timeout
		 * in a long outage) restarts at its committed offset, which is
		 * at or before first, so it needs no seek.
		 */
		if (!is_assigned(c->rk, first->topic, first->partition))
			continue;
		rd_kafka_topic_partition_list_add(seeks, first->topic,
						  first->partition)->offset = first->offset;
		last = rd_kafka_topic_partition_list_find(c->pending, first->topic,
							  first->partition);
		if (last && last->offset > first->offset)
			c->stats.rewound += (uint64_t)(last->offset - first->offset);
	}
	error = seeks->cnt > 0 ? rd_kafka_seek_partitions(c->rk, seeks, SEEK_TIMEOUT_MS) : NULL;
	if (error) {
		fs_log(FS_LOG_ERR, "kafka", "rewinding %d partitions failed: %s", seeks->cnt,
		       rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		rc = FS_ERR_SYSTEM;
	}
	for (int i = 0; rc == 0 && i < seeks->cnt; i++) {
		const rd_kafka_topic_partition_t *entry = &seeks->elems[i];

		if (!entry->err) {
			fs_log_limited(&c->rewind_rl, FS_LOG_INFO, "kafka",
				       "rewound %s partition %d to offset %lld", entry->topic,
				       (int)entry->partition, (long long)entry->offset);
			continue;
		}
		fs_log(FS_LOG_ERR, "kafka", "rewinding %s partition %d to offset %lld failed: %s",
		       entry->topic, (int)entry->partition, (long long)entry->offset,
		       rd_kafka_err2str(entry->err));
		rc = FS_ERR_SYSTEM;
	}
	rd_kafka_topic_partition_list_destroy(seeks);
	clear_pending(c);
	return rc;
}

/* Passes msg to handler; returns 1 when handled, 0 when it failed. */
static int
consume_message(struct fs_consumer *c, const rd_kafka_message_t *msg,
		fs_consumer_handler_fn *handler, void *opaque)
{
	rd_kafka_timestamp_type_t ts_type;
	int64_t ts;
	rd_kafka_resp_err_t err;
	int rc;

	ts = rd_kafka_message_timestamp(msg, &ts_type);
	if (ts_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
		ts = -1;
	check_offset(c, msg);
	c->stats.consumed++;
	c->current = msg;
	rc = handler(msg->key, msg->key ? msg->key_len : 0, msg->payload, msg->len, ts, opaque);
	c->current = NULL;
	if (rc != 0) {
		c->stats.handler_failures++;
		seek_back(c, msg);
		return 0;
	}
	c->stats.handled++;
	if (c->manual_store) {
		remember_pending(c, msg);
		return 1;
	}

	/* rd_kafka_offset_store() stores offset + 1, the next message to read. */
	err = rd_kafka_offset_store(msg->rkt, msg->partition, msg->offset);
	if (err) {
		c->stats.store_failures++;
		fs_log_limited(&c->store_rl, FS_LOG_WARNING, "kafka",
			       "storing offset %lld of %s partition %d failed: %s",
			       (long long)msg->offset,
			       rd_kafka_topic_name(msg->rkt),
			       (int)msg->partition, rd_kafka_err2str(err));
	}
	return 1;
}

/*
 * Looks up how many partitions are assigned, at most once every
 * ASSIGNMENT_CHECK_MS, for fs_consumer_stats.partitions.  After
 * UNASSIGNED_WARN_MS without partitions it logs one warning with the usual
 * causes, and it logs again when partitions are assigned.
 */
static void
watch_assignment(struct fs_consumer *c)
{
	rd_kafka_topic_partition_list_t *assignment = NULL;
	int64_t now = fs_monotonic_ms();

	if (now - c->assignment_checked_ms < ASSIGNMENT_CHECK_MS)
		return;
	c->assignment_checked_ms = now;
	if (rd_kafka_assignment(c->rk, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	c->stats.partitions = (uint64_t)assignment->cnt;
	rd_kafka_topic_partition_list_destroy(assignment);
	if (c->stats.partitions > 0) {
		if (c->unassigned_logged)
			fs_log(FS_LOG_INFO, "kafka", "%llu partitions assigned; consuming",
			       (unsigned long long)c->stats.partitions);
		c->unassigned_since_ms = 0;
		c->unassigned_logged = false;
		return;
	}
	if (c->unassigned_since_ms == 0)
		c->unassigned_since_ms = now;
	if (!c->unassigned_logged && now - c->unassigned_since_ms >= UNASSIGNED_WARN_MS) {
		c->unassigned_logged = true;
		fs_log(FS_LOG_WARNING, "kafka",
		       "no partition assigned for %lld s, so nothing is consumed: the broker may be "
		       "unreachable, the topic may not exist, the group may be rebalancing (waiting up to session.timeout.ms, "
		       "45 s by default, for a member that stopped without leaving), or it may have "
		       "more members than the topic has partitions",
		       (long long)((now - c->unassigned_since_ms) / 1000));
	}
}

int
fs_consumer_poll(struct fs_consumer *c, int timeout_ms,
		 fs_consumer_handler_fn *handler, void *opaque,
		 int max_messages)
{
	int handled = 0;

	if (max_messages < 1)
		max_messages = 1;
	watch_assignment(c);
	/* Each pass takes one event, message or error, so the loop is bounded. */
	for (int i = 0; i < max_messages; i++) {
		rd_kafka_message_t *msg;
		int ok;

		msg = rd_kafka_consumer_poll(c->rk, i == 0 ? timeout_ms : 0);
		if (!msg)
			break;
		if (msg->err) {
			int rc = consume_error(c, msg);

			rd_kafka_message_destroy(msg);
			if (rc < 0)
				return rc;
			continue;
		}
		ok = consume_message(c, msg, handler, opaque);
		rd_kafka_message_destroy(msg);
		if (!ok)
			break;
		handled++;
	}
	if (c->fatal)
		return FS_ERR_SYSTEM;
	return handled;
}

void
fs_consumer_stats(const struct fs_consumer *c, struct fs_consumer_stats *out)
{
	*out = c->stats;
}

/*
 * Leaves the group within CLOSE_TIMEOUT_MS.  rd_kafka_consumer_close() waits
 * without limit for the group coordinator, so a consumer whose broker is gone
 * would never exit; the queue form lets close give up at the deadline.
 */
static int
close_bounded(struct fs_consumer *c)
{
	rd_kafka_queue_t *queue = rd_kafka_queue_new(c->rk);
	rd_kafka_error_t *error;
	int64_t deadline;
	int rc = 0;

	if (!queue)
		return FS_ERR_SYSTEM;
	error = rd_kafka_consumer_close_queue(c->rk, queue);
	if (error) {
		fs_log(FS_LOG_WARNING, "kafka", "leaving the consumer group failed: %s",
		       rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		rd_kafka_queue_destroy(queue);
		return FS_ERR_SYSTEM;
	}
	deadline = fs_monotonic_ms() + CLOSE_TIMEOUT_MS;
	while (!rd_kafka_consumer_closed(c->rk)) {
		rd_kafka_event_t *event;

		if (fs_monotonic_ms() >= deadline) {
			fs_log(FS_LOG_WARNING, "kafka",
			       "leaving the consumer group timed out after %d ms; "
			       "offsets not yet committed will be consumed again",
			       CLOSE_TIMEOUT_MS);
			rc = FS_ERR_SYSTEM;
			break;
		}
		event = rd_kafka_queue_poll(queue, 100);
		if (!event)
			continue;
		/* With a rebalance callback set, close hands the final revoke to this queue. */
		if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE)
			apply_rebalance(c, c->rk, rd_kafka_event_error(event),
					rd_kafka_event_topic_partition_list(event));
		if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT &&
		    rd_kafka_event_error(event) &&
		    rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR__NO_OFFSET) {
			c->stats.commit_failures++;
			fs_log(FS_LOG_ERR, "kafka",
			       "committing offsets on close failed: %s; messages since the last commit will be consumed again",
			       rd_kafka_event_error_string(event));
		}
		rd_kafka_event_destroy(event);
	}
	rd_kafka_queue_destroy(queue);
	return rc;
}

int
fs_consumer_close(struct fs_consumer *c, struct fs_consumer_stats *final)
{
	int rc;

	if (!c)
		return 0;
	c->closing = true;
	/* Closing commits the stored offsets; commit_cb counts a failure. */
	rc = close_bounded(c);
	if (c->stats.commit_failures)
		rc = FS_ERR_SYSTEM;
	rd_kafka_destroy_flags(c->rk, rc == 0 ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	if (final)
		*final = c->stats;
	/* Offsets still pending belong to messages whose effect was not written. */
	clear_pending(c);
	pthread_mutex_destroy(&c->resets_lock);
	free(c);
	return rc;
}

int
fs_consumer_current(const struct fs_consumer *c, int32_t *partition, int64_t *offset)
{
	if (c->current == NULL)
		return FS_ERR_NOT_FOUND;
	*partition = c->current->partition;
	*offset = c->current->offset;
	return 0;
}
