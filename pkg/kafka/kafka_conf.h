/*
 * kafka_conf.h - builds librdkafka configurations for flowsift's clients.
 *
 * A client configuration is assembled in three layers, each overriding the
 * one before: bootstrap.servers, then the client's built-in defaults (for
 * example the producer's batching settings), then the caller's pass-through
 * properties.  So any default can be changed by passing the same property.
 *
 * Pass-through properties come from a NULL-terminated array of name/value
 * pairs, from an iterator, or both.  Neither form depends on the configuration
 * module, so tests can use them alone.  fs_kafka_props_config() adapts a
 * flowsift configuration (its `kafka.` keys) to the iterator form.
 *
 * Every rd_kafka_conf_t built here sends librdkafka's own log lines to
 * fs_log() with facility "kafka".
 */
#ifndef FS_KAFKA_KAFKA_CONF_H
#define FS_KAFKA_KAFKA_CONF_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

struct fs_config;

/* Receives one property; returns 0 to go on or nonzero to stop. */
typedef int fs_kafka_prop_fn(const char *name, const char *value, void *opaque);

/*
 * Calls fn(name, value, opaque) for every property of source; stops at the
 * first nonzero return of fn and returns it, else returns 0.
 */
typedef int fs_kafka_props_each_fn(const void *source, fs_kafka_prop_fn *fn,
				   void *opaque);

/*
 * Pass-through librdkafka properties.  Both members may be set: pairs are
 * applied first, then the iterator's properties.  A zeroed struct, or a NULL
 * pointer where one is accepted, means no properties.  Everything is borrowed
 * and only read while a client is being created.
 */
struct fs_kafka_props {
	/* name, value, name, value, ..., NULL; or NULL */
	const char *const *pairs;
	/* iterator over source; or NULL */
	fs_kafka_props_each_fn *each;
	const void *source;
};

/*
 * Returns properties that iterate over the `kafka.` pass-through keys of
 * config (borrowed: config must outlive every use of the result).
 */
struct fs_kafka_props fs_kafka_props_config(const struct fs_config *config);

/*
 * Sets one property on conf.  On failure writes
 * `kafka property "NAME": REASON` into err and returns FS_ERR_INVALID.
 */
int fs_kafka_conf_set(rd_kafka_conf_t *conf, const char *name,
		      const char *value, char *err, size_t err_len);

/*
 * Builds a new configuration: bootstrap.servers = bootstrap (NULL leaves it
 * unset), then defaults (a NULL-terminated name/value array, or NULL), then
 * props (or NULL), and installs the fs_log log callback.  On success stores
 * the configuration in *out, which the caller passes to rd_kafka_new() or
 * frees with rd_kafka_conf_destroy(), and returns 0.  On failure returns
 * FS_ERR_INVALID (or FS_ERR_SYSTEM when out of memory) with err naming the
 * rejected property, and *out is NULL.
 */
int fs_kafka_conf_new(rd_kafka_conf_t **out, const char *bootstrap,
		      const char *const *defaults,
		      const struct fs_kafka_props *props, char *err,
		      size_t err_len);

/* The log callback that fs_kafka_conf_new() installs, for configurations built elsewhere. */
void fs_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
		     const char *buf);

#endif
