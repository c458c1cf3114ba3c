/*
 * config.h - the one configuration format shared by every flowsift program.
 *
 * A configuration file holds `key = value` lines; `#` starts a comment, blank
 * lines are ignored, and values may be quoted with double quotes.  Every key
 * is listed, with its type, limits, default and documentation, in one table
 * (config.c), which also generates docs/CONFIGURATION.md.  Each key can be
 * overridden from the environment: FLOWSIFT_ followed by the key in upper case
 * with dots turned into underscores (redis.url -> FLOWSIFT_REDIS_URL).  A
 * variable with _FILE appended names a file that contains the value instead
 * (FLOWSIFT_REDIS_PASSWORD_FILE=/run/secrets/redis-password), which is how
 * container platforms hand over secrets.  Setting both forms is an error.
 *
 * Keys under `kafka.` that are not in the table are librdkafka properties and
 * are passed to it unchanged without the prefix (kafka.security.protocol ->
 * security.protocol); librdkafka validates them when a client is created.  In
 * the environment, FLOWSIFT_KAFKA_SASL_PASSWORD names kafka.sasl.password.
 *
 * Unknown keys, unknown FLOWSIFT_ variables and invalid values are rejected
 * with the key's name and the reason.
 *
 * Lookup order for the file: the path given to fs_config_load(), else
 * $FLOWSIFT_CONFIG, else ./flowsift.conf when it exists, else defaults only.
 */
#ifndef FS_CONFIG_CONFIG_H
#define FS_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fs_config;

/*
 * Loads the configuration.  path may be NULL (see the lookup order above).
 * On success stores a new config in *out, which the caller frees with
 * fs_config_free(), and returns 0.  On failure returns a negative fs_result
 * and writes the reason, naming the key or file, into err.
 */
int fs_config_load(struct fs_config **out, const char *path, char *err,
		   size_t err_len);

void fs_config_free(struct fs_config *config);

/*
 * Sets the level and format of this process's log (core/log.h) from
 * log.level and log.format, which fs_config_load() has checked.
 */
void fs_config_apply_logging(const struct fs_config *config);

/* Returns 1 when key is in the table, else 0. */
int fs_config_has(const struct fs_config *config, const char *key);

/*
 * Returns 1 when the configuration file or the environment set key, and 0
 * when key has its default value.  Aborts on a key not in the table.
 */
int fs_config_is_set(const struct fs_config *config, const char *key);

/* Returns the value of a table key as text (never NULL); aborts on a key not in the table. */
const char *fs_config_str(const struct fs_config *config, const char *key);

/* Returns the value of an integer key; aborts on a key not in the table. */
int64_t fs_config_int(const struct fs_config *config, const char *key);

/*
 * Returns whether name is a valid Kafka topic name: 1 to 249 characters of
 * A-Z, a-z, 0-9, '.', '_' and '-', and not "." or "..".
 */
bool fs_config_topic_name_ok(const char *name);

/* Receives one librdkafka property; name is without the "kafka." prefix. */
typedef int fs_config_kafka_fn(const char *name, const char *value, void *opaque);

/* Calls fn for every librdkafka pass-through property; stops at a nonzero return and returns it. */
int fs_config_each_kafka(const struct fs_config *config, fs_config_kafka_fn *fn,
			 void *opaque);

/*
 * Resolves the Kafka bootstrap servers: kafka.bootstrap.servers when set,
 * else the address the embedded broker wrote to <run.dir>/broker.addr.
 * Writes it into buf and returns 0, or returns FS_ERR_NOT_FOUND with err set.
 */
int fs_config_bootstrap(const struct fs_config *config, char *buf, size_t len,
			char *err, size_t err_len);

/*
 * Resolves the Redis URL: redis.url when set, else the URL `make run` wrote to
 * <run.dir>/redis.url.  Same returns as fs_config_bootstrap().
 */
int fs_config_redis_url(const struct fs_config *config, char *buf, size_t len,
			char *err, size_t err_len);

/*
 * Returns the key (filter.topic, kafka.topic.enriched or kafka.topic.raw)
 * whose topic is topic, when flows that flowsift-filter produces to topic
 * would come back to its input, directly or through flowsift-enrich, and
 * be routed again without end.  Returns NULL for any other topic.
 */
const char *fs_config_filter_loop(const struct fs_config *config, const char *topic);

/*
 * Returns 1 when key names a secret, which is never printed or logged: its
 * name contains "password", "secret" or "sasl" (kafka.sasl.password,
 * kafka.ssl.key.password, kafka.sasl.jaas.config), else 0.
 */
int fs_config_is_secret(const char *key);

/*
 * Writes value, the value of key, into buf (len bytes) in a form fit for
 * printing: "***" for a secret key, and for a URL with a password
 * (redis://user:password@host) the same URL with the password as "***".
 * Returns buf.
 */
char *fs_config_mask(const char *key, const char *value, char *buf, size_t len);

/* Writes the key table as Markdown to fd (used to generate docs). */
void fs_config_write_docs(int fd);

#endif
