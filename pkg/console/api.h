/*
 * api.h - the JSON API of flowsift-console, independent of HTTP.
 *
 * Each handler reads the fields of one request (form.h), does the bounded
 * work and stores a JSON object in *out (caller frees it with json_decref())
 * and returns an HTTP status code: 200, 400 with {"error": "..."} for a
 * request field out of range, 502 when Redis or Kafka failed, 500 when
 * memory ran out.  docs/console.md describes every field and response.
 *
 *   handler                 fields (defaults)                       reads
 *   fs_console_api_top      dim (src_addr) metric (bytes) window    Redis
 *                           (5m) n (10) host (none: with host and
 *                           dim=conversation, only that host's
 *                           conversations)
 *   fs_console_api_series   dim metric window (1h) n (5, max 20)    Redis
 *   fs_console_api_alerts   limit (100)                             Redis
 *   fs_console_api_filter   filter                                  nothing
 *   fs_console_api_flows    filter minutes (5) limit (100)          Kafka
 *   fs_console_api_host     addr minutes (5) limit (20)             Kafka
 *
 * Every count (n, limit) is capped by limits.rows_max and every time range
 * by limits.range_max_s; Kafka reads by limits.scan_max messages and
 * limits.timeout_ms.
 *
 * Thread safety: handlers share nothing; each call uses the Redis context
 * of its env, which belongs to the calling thread.
 */
#ifndef FS_CONSOLE_API_H
#define FS_CONSOLE_API_H

#include <stdint.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "console/form.h"
#include "kafka/kafka_conf.h"

/* Maximum length of a filter text in a request, in bytes. */
#define FS_CONSOLE_FILTER_MAX 4096

struct fs_console_limits {
	int64_t rows_max;       /* rows in one response */
	int64_t range_max_s;    /* maximum time range of a flow query, in seconds */
	int64_t scan_max;       /* Kafka messages read per request */
	int timeout_ms;         /* wall time of Kafka reads per request */
};

struct fs_console_env {
	redisContext *redis;                /* borrowed; NULL for the Kafka handlers */
	const char *bootstrap;              /* borrowed Kafka bootstrap servers */
	const struct fs_kafka_props *props; /* borrowed, may be NULL */
	const char *topic;                  /* borrowed: the topic of flow queries */
	struct fs_console_limits limits;
	int64_t now_ms;                     /* Unix ms: the end of every window and range */
};

int fs_console_api_top(const struct fs_console_env *env, const struct fs_console_form *form,
		       json_t **out);
int fs_console_api_series(const struct fs_console_env *env, const struct fs_console_form *form,
			  json_t **out);
int fs_console_api_alerts(const struct fs_console_env *env, const struct fs_console_form *form,
			  json_t **out);
int fs_console_api_filter(const struct fs_console_env *env, const struct fs_console_form *form,
			  json_t **out);
int fs_console_api_flows(const struct fs_console_env *env, const struct fs_console_form *form,
			 json_t **out);
int fs_console_api_host(const struct fs_console_env *env, const struct fs_console_form *form,
			json_t **out);

/* Stores {"error": message} in *out and returns status. */
int fs_console_api_error(json_t **out, int status, const char *message);

#endif
