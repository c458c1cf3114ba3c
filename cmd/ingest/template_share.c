/* template_share.c - publishes learned templates and applies those of other replicas. */
#include "template_share.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config/config.h"
#include "core/log.h"
#include "core/result.h"
#include "decode/template_codec.h"
#include "kafka/producer.h"
#include "net/udp_receiver.h"
#include "templates/template_topic.h"

/* A record from the topic waiting for its receive thread. */
struct queued_template {
	struct queued_template *next;
	struct fs_template_key key;
	bool withdrawn;
	bool options;
	bool enterprise_bit;
	uint16_t field_count;
	uint16_t scope_count;
	size_t wire_len;
	uint8_t wire[];
};

/* The share's state for one receive thread. */
struct thread_port {
	struct template_share *share;
	struct fs_decoder *decoder;
	struct fs_template_cache *cache;
	bool applying;                 /* the thread is applying a record from the topic */
	pthread_mutex_t lock;
	struct queued_template *head, *tail;
	struct fs_ratelimit limit;
	uint8_t key[FS_TEMPLATE_KEY_MAX_LEN];
	uint8_t value[FS_TEMPLATE_VALUE_MAX_LEN];
};

struct template_share {
	char topic[256];
	uint64_t origin;
	struct fs_producer *producer;
	struct fs_template_topic *reader;
	size_t threads;
	struct thread_port *ports;
	struct fs_ratelimit topic_limit;  /* used by the reading thread only */
	atomic_uint_fast64_t published, send_errors, applied, withdrawn, own, rejected,
		invalid, unsupported;
};

/* Publishes one change; runs on the receive thread inside a decode. */
static void
observe(const struct fs_template *tpl, enum fs_template_change change, void *opaque)
{
	struct thread_port *port = opaque;
	struct template_share *share = port->share;
	int key_len, value_len = 0;

	if (port->applying)
		return;
	key_len = fs_template_key_encode(&tpl->key, port->key, sizeof(port->key));
	if (change == FS_TEMPLATE_CHANGE_LEARNED)
		value_len = fs_template_value_encode(tpl, share->origin, port->value,
						     sizeof(port->value));
	else
		value_len = fs_template_withdrawal_encode(share->origin, port->value,
							  sizeof(port->value));
	if (key_len < 0 || value_len < 0 ||
	    fs_producer_send(share->producer, share->topic, port->key, (size_t)key_len,
			     port->value, (size_t)value_len) < 0) {
		atomic_fetch_add(&share->send_errors, 1);
		fs_log_limited(&port->limit, FS_LOG_WARNING, "templates",
			       "cannot publish template %u to topic %s; other replicas "
			       "learn it from the exporter's next refresh",
			       tpl->key.template_id, share->topic);
		return;
	}
	atomic_fetch_add(&share->published, 1);
}

/* Decodes one record of the topic and queues it for its thread; runs on the reading thread. */
static void
receive_record(const void *key_bytes, size_t key_len, const void *value_bytes, size_t len,
	       void *opaque)
{
	struct template_share *share = opaque;
	struct fs_template_value value = { 0 };
	struct fs_template_key key;
	struct queued_template *q;
	struct thread_port *port;
	int rc;

	rc = fs_template_key_decode(key_bytes, key_bytes ? key_len : 0, &key);
	if (rc == 0 && value_bytes)
		rc = fs_template_value_decode(value_bytes, len, key.flow_type, &value);
	if (rc == FS_ERR_UNSUPPORTED) {
		atomic_fetch_add(&share->unsupported, 1);
		fs_log_limited(&share->topic_limit, FS_LOG_WARNING, "templates",
			       "skipped a record of topic %s written in another format version",
			       share->topic);
		return;
	}
	if (rc < 0) {
		atomic_fetch_add(&share->invalid, 1);
		fs_log_limited(&share->topic_limit, FS_LOG_WARNING, "templates",
			       "skipped a record of topic %s: %s key or value", share->topic,
			       fs_result_name(rc));
		return;
	}
	if (value_bytes && value.origin == share->origin) {
		atomic_fetch_add(&share->own, 1);
		return;
	}
	q = malloc(sizeof(*q) + value.spec.wire_len);
	if (!q) {
		atomic_fetch_add(&share->rejected, 1);
		fs_log_limited(&share->topic_limit, FS_LOG_ERR, "templates",
			       "skipped a template of topic %s: out of memory", share->topic);
		return;
	}
	q->next = NULL;
	q->key = key;
	q->withdrawn = value_bytes == NULL || value.withdrawn;
	q->options = value.spec.options;
	q->enterprise_bit = value.spec.enterprise_bit;
	q->field_count = value.spec.field_count;
	q->scope_count = value.spec.scope_count;
	q->wire_len = value.spec.wire_len;
	if (q->wire_len)
		memcpy(q->wire, value.spec.wire, q->wire_len);

	port = &share->ports[fs_udp_steer_index(&key.exporter, share->threads)];
	pthread_mutex_lock(&port->lock);
	if (port->tail)
		port->tail->next = q;
	else
		port->head = q;
	port->tail = q;
	pthread_mutex_unlock(&port->lock);
}

static void
apply_one(struct template_share *share, struct thread_port *port, const struct queued_template *q,
	  fs_flow_sink_fn *sink, void *opaque)
{
	struct fs_template_spec spec = {
		.options = q->options,
		.enterprise_bit = q->enterprise_bit,
		.field_count = q->field_count,
		.scope_count = q->scope_count,
		.wire = q->wire,
		.wire_len = q->wire_len,
	};
	char reason[160];
	int rc;

	port->applying = true;
	if (q->withdrawn) {
		(void)fs_template_cache_withdraw(port->cache, &q->key);
		atomic_fetch_add(&share->withdrawn, 1);
		port->applying = false;
		return;
	}
	rc = fs_decoder_learn_template(port->decoder, &q->key, &spec, sink, opaque, reason,
				       sizeof(reason));
	port->applying = false;
	if (rc >= 0) {
		atomic_fetch_add(&share->applied, 1);
		return;
	}
	atomic_fetch_add(&share->rejected, 1);
	fs_log_limited(&port->limit, FS_LOG_WARNING, "templates",
		       "rejected template %u of domain %u from topic %s: %s", q->key.template_id,
		       q->key.domain, share->topic, reason);
}

void
template_share_apply(struct template_share *share, size_t thread, fs_flow_sink_fn *sink,
		     void *opaque)
{
	struct thread_port *port = &share->ports[thread];
	struct queued_template *q, *next;

	pthread_mutex_lock(&port->lock);
	q = port->head;
	port->head = port->tail = NULL;
	pthread_mutex_unlock(&port->lock);
	for (; q; q = next) {
		next = q->next;
		apply_one(share, port, q, sink, opaque);
		free(q);
	}
}

int
template_share_new(struct template_share **out, const struct fs_config *config, size_t threads,
		   char *err, size_t err_len)
{
	const char *topic = fs_config_str(config, "kafka.topic.templates");
	struct template_share *share;
	char bootstrap[1024];
	struct fs_kafka_props props = fs_kafka_props_config(config);
	struct fs_template_topic_options options = {
		.topic = topic,
		.max_records = (uint64_t)fs_config_int(config, "ingest.templates.load.max.records"),
		.max_bytes = (uint64_t)fs_config_int(config, "ingest.templates.load.max.bytes"),
		.timeout_ms = (int)fs_config_int(config, "ingest.templates.load.timeout.ms"),
	};

	*out = NULL;
	if (topic[0] == '\0')
		return 0;
	if (strlen(topic) >= sizeof(share->topic)) {
		snprintf(err, err_len, "kafka.topic.templates is longer than 255 bytes");
		return -1;
	}
	if (fs_config_bootstrap(config, bootstrap, sizeof(bootstrap), err, err_len) < 0)
		return -1;
	share = calloc(1, sizeof(*share));
	if (share)
		share->ports = calloc(threads, sizeof(*share->ports));
	if (!share || !share->ports) {
		free(share);
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	snprintf(share->topic, sizeof(share->topic), "%s", topic);
	share->threads = threads;
	share->topic_limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
	for (size_t i = 0; i < threads; i++) {
		share->ports[i].share = share;
		share->ports[i].limit = (struct fs_ratelimit)FS_RATELIMIT_INIT(60, 5);
		pthread_mutex_init(&share->ports[i].lock, NULL);
	}
	if (getrandom(&share->origin, sizeof(share->origin), 0) != sizeof(share->origin)) {
		snprintf(err, err_len, "cannot draw a random origin id");
		goto fail;
	}
	share->producer = fs_producer_new_config(config, err, err_len);
	if (!share->producer)
		goto fail;
	if (fs_template_topic_new(&share->reader, bootstrap, &props, &options, receive_record,
				  share, err, err_len) < 0)
		goto fail;
	*out = share;
	return 0;
fail:
	template_share_free(share, 0);
	return -1;
}

void
template_share_attach(struct template_share *share, size_t thread, struct fs_decoder *decoder)
{
	struct thread_port *port = &share->ports[thread];

	port->decoder = decoder;
	port->cache = fs_decoder_templates(decoder);
	fs_template_cache_set_observer(port->cache, observe, port);
}

int
template_share_start(struct template_share *share, char *err, size_t err_len)
{
	/* A cluster that is away at start delays templates, not intake: the follow thread retries. */
	if (fs_template_topic_load(share->reader, err, err_len) < 0)
		fs_log(FS_LOG_WARNING, "templates", "cannot load topic %s at start: %s; "
		       "reading it in the background", share->topic, err);
	return fs_template_topic_follow(share->reader, err, err_len) < 0 ? -1 : 0;
}

void
template_share_poll(struct template_share *share)
{
	fs_producer_poll(share->producer, 0);
}

void
template_share_stats(struct template_share *share, struct template_share_stats *out)
{
	struct fs_template_topic_stats topic;
	struct fs_producer_stats p;

	fs_template_topic_stats(share->reader, &topic);
	fs_producer_stats(share->producer, &p);
	out->published = atomic_load(&share->published);
	out->delivered = p.delivered;
	out->publish_errors = atomic_load(&share->send_errors) + p.failed;
	out->applied = atomic_load(&share->applied);
	out->withdrawn = atomic_load(&share->withdrawn);
	out->own = atomic_load(&share->own);
	out->rejected = atomic_load(&share->rejected);
	out->invalid = atomic_load(&share->invalid);
	out->unsupported = atomic_load(&share->unsupported);
	out->consumer_errors = topic.errors;
	out->loaded = topic.loaded_records;
}

void
template_share_free(struct template_share *share, int timeout_ms)
{
	if (!share)
		return;
	fs_template_topic_free(share->reader);
	fs_producer_close(share->producer, timeout_ms, NULL);
	for (size_t i = 0; i < share->threads; i++) {
		struct queued_template *q = share->ports[i].head, *next;

		for (; q; q = next) {
			next = q->next;
			free(q);
		}
		pthread_mutex_destroy(&share->ports[i].lock);
	}
	free(share->ports);
	free(share);
}
