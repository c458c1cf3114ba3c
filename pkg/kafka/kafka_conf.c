/* kafka_conf.c - layered librdkafka configuration and the fs_log bridge. */
#include "kafka/kafka_conf.h"

#include <stdio.h>

#include "config/config.h"
#include "core/log.h"
#include "core/result.h"

struct set_ctx {
	rd_kafka_conf_t *conf;
	char *err;
	size_t err_len;
};

static int
each_config(const void *source, fs_kafka_prop_fn *fn, void *opaque)
{
	return fs_config_each_kafka(source, fn, opaque);
}

struct fs_kafka_props
fs_kafka_props_config(const struct fs_config *config)
{
	struct fs_kafka_props props = {
		.each = each_config,
		.source = config,
	};

	return props;
}

int
fs_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
		  char *err, size_t err_len)
{
	char reason[256];

	if (rd_kafka_conf_set(conf, name, value, reason, sizeof(reason)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, err_len, "kafka property \"%s\": %s", name, reason);
	return FS_ERR_INVALID;
}

static int
set_one(const char *name, const char *value, void *opaque)
{
	struct set_ctx *ctx = opaque;

	return fs_kafka_conf_set(ctx->conf, name, value, ctx->err, ctx->err_len);
}

static int
set_pairs(struct set_ctx *ctx, const char *const *pairs)
{
	for (size_t i = 0; pairs && pairs[i]; i += 2) {
		int rc;

		if (!pairs[i + 1]) {
			snprintf(ctx->err, ctx->err_len,
				 "kafka property \"%s\": missing value", pairs[i]);
			return FS_ERR_INVALID;
		}
		rc = set_one(pairs[i], pairs[i + 1], ctx);
		if (rc)
			return rc;
	}
	return 0;
}

int
fs_kafka_conf_new(rd_kafka_conf_t **out, const char *bootstrap,
		  const char *const *defaults, const struct fs_kafka_props *props,
		  char *err, size_t err_len)
{
	struct set_ctx ctx = { .err = err, .err_len = err_len };
	int rc;

	*out = NULL;
	ctx.conf = rd_kafka_conf_new();
	if (!ctx.conf) {
		snprintf(err, err_len, "out of memory for a Kafka configuration");
		return FS_ERR_SYSTEM;
	}
	rd_kafka_conf_set_log_cb(ctx.conf, fs_kafka_log_cb);

	if (bootstrap) {
		rc = set_one("bootstrap.servers", bootstrap, &ctx);
		if (rc)
			goto fail;
	}
	rc = set_pairs(&ctx, defaults);
	if (rc)
		goto fail;
	if (props) {
		rc = set_pairs(&ctx, props->pairs);
		if (rc)
			goto fail;
		if (props->each) {
			rc = props->each(props->source, set_one, &ctx);
			if (rc)
				goto fail;
		}
	}
	*out = ctx.conf;
	return 0;

fail:
	rd_kafka_conf_destroy(ctx.conf);
	/* The iterator may stop with any nonzero value; keep the result a code. */
	return rc < 0 ? rc : FS_ERR_INVALID;
}

/* librdkafka uses syslog levels 0 (emergency) to 7 (debug). */
static enum fs_log_level
map_level(int level)
{
	if (level <= 3)
		return FS_LOG_ERR;
	if (level == 4)
		return FS_LOG_WARNING;
	if (level == 5)
		return FS_LOG_NOTICE;
	if (level == 6)
		return FS_LOG_INFO;
	return FS_LOG_DEBUG;
}

/* Called on librdkafka's internal threads; fs_log() is thread-safe. */
void
fs_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
		const char *buf)
{
	fs_log(map_level(level), "kafka", "%s: %s: %s",
	       rk ? rd_kafka_name(rk) : "-", fac, buf);
}
