/*
 * config.c - the key table, the file parser and environment overrides.
 *
 * The table below is the single list of settings: validation, defaults and
 * docs/CONFIGURATION.md all come from it.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/result.h"

extern char **environ;

enum key_type { KEY_STRING, KEY_INT };

struct key_def {
	const char *name;
	enum key_type type;
	int64_t min;
	int64_t max;
	const char *default_value;
	const char *doc;
};

static const struct key_def key_table[] = {
	{ "run.dir", KEY_STRING, 0, 0, "run",
	  "Folder for the state of `make run`: the embedded broker's address file, the Redis URL file, logs." },
	{ "log.level", KEY_STRING, 0, 0, "info",
	  "Lowest severity logged: error, warning, notice, info or debug." },
	{ "kafka.bootstrap.servers", KEY_STRING, 0, 0, "",
	  "Kafka bootstrap servers (host:port,...). Empty: use the embedded broker whose address is in <run.dir>/broker.addr." },
	{ "kafka.topic.raw", KEY_STRING, 0, 0, "flows.raw",
	  "Topic for decoded flows from flowsift-ingest." },
	{ "kafka.queue.max.messages", KEY_INT, 1000, 10000000, "200000",
	  "Producer queue bound in messages; a flow that finds the queue full is dropped and counted." },
	{ "redis.url", KEY_STRING, 0, 0, "",
	  "Redis URL (redis://[user:password@]host:port[/db] or unix:///path). Empty: use the URL in <run.dir>/redis.url." },
	{ "ingest.listen", KEY_STRING, 0, 0, "127.0.0.1:2055,127.0.0.1:4739,127.0.0.1:6343",
	  "UDP addresses to receive export datagrams on, comma-separated host:port ([v6addr]:port for IPv6). Every port accepts every protocol." },
	{ "ingest.socket.rcvbuf", KEY_INT, 65536, 1073741824, "8388608",
	  "Receive buffer size requested for each UDP socket, in bytes." },
	{ "ingest.stats.interval", KEY_INT, 0, 86400, "60",
	  "Seconds between counter summaries in the ingest log; 0 turns them off." },
	{ "report.topic", KEY_STRING, 0, 0, "flows.raw",
	  "Topic flowsift-report consumes." },
	{ "report.group.id", KEY_STRING, 0, 0, "flowsift-report",
	  "Kafka consumer group of flowsift-report." },
	{ "report.flush.interval.ms", KEY_INT, 10, 60000, "1000",
	  "How often flowsift-report writes its pre-aggregated counters to Redis, in milliseconds." },
	{ "report.stats.interval", KEY_INT, 0, 86400, "60",
	  "Seconds between counter summaries in the report log; 0 turns them off." },
};

#define KEY_COUNT (sizeof(key_table) / sizeof(key_table[0]))
#define VALUE_MAX 1024

struct kafka_prop {
	char *name;
	char *value;
};

struct fs_config {
	char *values[KEY_COUNT];
	int64_t ints[KEY_COUNT];
	struct kafka_prop *kafka;
	size_t kafka_count;
};

static int
fail(char *err, size_t err_len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return code;
}

static int
find_key(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (strcmp(key_table[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static int
set_kafka_prop(struct fs_config *config, const char *name, const char *value)
{
	struct kafka_prop *grown;

	for (size_t i = 0; i < config->kafka_count; i++) {
		if (strcmp(config->kafka[i].name, name) == 0) {
			char *copy = strdup(value);

			if (!copy)
				return FS_ERR_SYSTEM;
			free(config->kafka[i].value);
			config->kafka[i].value = copy;
			return 0;
		}
	}
	grown = realloc(config->kafka, (config->kafka_count + 1) * sizeof(*grown));
	if (!grown)
		return FS_ERR_SYSTEM;
	config->kafka = grown;
	grown[config->kafka_count].name = strdup(name);
	grown[config->kafka_count].value = strdup(value);
	if (!grown[config->kafka_count].name || !grown[config->kafka_count].value) {
		free(grown[config->kafka_count].name);
		free(grown[config->kafka_count].value);
		return FS_ERR_SYSTEM;
	}
	config->kafka_count++;
	return 0;
}

/* Validates and stores one value; origin names the file line or variable. */
static int
set_value(struct fs_config *config, const char *name, const char *value,
	  const char *origin, char *err, size_t err_len)
{
	int i = find_key(name);
	char *copy;

	if (i < 0) {
		if (strncmp(name, "kafka.", 6) == 0 && name[6] != '\0') {
			if (set_kafka_prop(config, name + 6, value) < 0)
				return fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
			return 0;
		}
		return fail(err, err_len, FS_ERR_INVALID,
			    "%s: unknown configuration key '%s' (see docs/CONFIGURATION.md)",
			    origin, name);
	}
	if (key_table[i].type == KEY_INT) {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno || end == value || *end != '\0')
			return fail(err, err_len, FS_ERR_INVALID,
				    "%s: invalid value '%s' for '%s': expected an integer",
				    origin, value, name);
		if (n < key_table[i].min || n > key_table[i].max)
			return fail(err, err_len, FS_ERR_INVALID,
				    "%s: value %lld for '%s' is out of range %lld..%lld",
				    origin, n, name, (long long)key_table[i].min,
				    (long long)key_table[i].max);
		config->ints[i] = n;
	}
	copy = strdup(value);
	if (!copy)
		return fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	free(config->values[i]);
	config->values[i] = copy;
	return 0;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Parses one `key = value` line in place; returns 0, or an error with err set. */
static int
parse_line(struct fs_config *config, char *line, const char *origin,
	   char *err, size_t err_len)
{
	char *eq, *key, *value;
	size_t vlen;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return fail(err, err_len, FS_ERR_INVALID,
			    "%s: expected 'key = value'", origin);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	if (*key == '\0')
		return fail(err, err_len, FS_ERR_INVALID, "%s: missing key", origin);
	return set_value(config, key, value, origin, err, err_len);
}

static int
load_file(struct fs_config *config, const char *path, char *err, size_t err_len)
{
	FILE *file = fopen(path, "r");
	char line[VALUE_MAX + 256];
	char origin[512];
	unsigned lineno = 0;
	int rc = 0;

	if (!file)
		return fail(err, err_len, FS_ERR_NOT_FOUND,
			    "cannot open configuration file '%s': %s", path,
			    strerror(errno));
	while (fgets(line, sizeof(line), file)) {
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		if (!strchr(line, '\n') && !feof(file)) {
			rc = fail(err, err_len, FS_ERR_INVALID,
				  "%s: line longer than %d bytes", origin, VALUE_MAX);
			break;
		}
		rc = parse_line(config, line, origin, err, err_len);
		if (rc < 0)
			break;
	}
	fclose(file);
	return rc;
}

/* Maps FLOWSIFT_REDIS_URL to redis.url; returns 0 when name maps to no table key. */
static int
env_name_to_key(const char *env_name, char *key, size_t key_len)
{
	char lowered[256];
	size_t n = strlen(env_name);

	if (n >= sizeof(lowered) || n >= key_len)
		return 0;
	for (size_t i = 0; i <= n; i++)
		lowered[i] = (char)tolower((unsigned char)env_name[i]);
	for (size_t i = 0; i < KEY_COUNT; i++) {
		char candidate[256];

		snprintf(candidate, sizeof(candidate), "%s", key_table[i].name);
		for (char *p = candidate; *p; p++) {
			if (*p == '.')
				*p = '_';
		}
		if (strcmp(candidate, lowered) == 0) {
			snprintf(key, key_len, "%s", key_table[i].name);
			return 1;
		}
	}
	if (strncmp(lowered, "kafka_", 6) == 0 && lowered[6] != '\0') {
		for (char *p = lowered; *p; p++) {
			if (*p == '_')
				*p = '.';
		}
		snprintf(key, key_len, "%s", lowered);
		return 1;
	}
	return 0;
}

static int
load_environment(struct fs_config *config, char *err, size_t err_len)
{
	for (char **env = environ; env && *env; env++) {
		const char *eq = strchr(*env, '=');
		char name[256], key[256], origin[300];
		size_t n;
		int rc;

		if (strncmp(*env, "FLOWSIFT_", 9) != 0 || !eq)
			continue;
		n = (size_t)(eq - *env);
		if (n >= sizeof(name))
			continue;
		memcpy(name, *env, n);
		name[n] = '\0';
		if (strcmp(name, "FLOWSIFT_CONFIG") == 0 || strcmp(name, "FLOWSIFT_CORPUS") == 0)
			continue;
		snprintf(origin, sizeof(origin), "environment variable %s", name);
		if (!env_name_to_key(name + 9, key, sizeof(key)))
			return fail(err, err_len, FS_ERR_INVALID,
				    "%s: no configuration key has this name", origin);
		rc = set_value(config, key, eq + 1, origin, err, err_len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
fs_config_load(struct fs_config **out, const char *path, char *err,
	       size_t err_len)
{
	struct fs_config *config = calloc(1, sizeof(*config));
	int rc = 0;

	*out = NULL;
	if (!config)
		return fail(err, err_len, FS_ERR_SYSTEM, "out of memory");
	for (size_t i = 0; i < KEY_COUNT; i++) {
		rc = set_value(config, key_table[i].name, key_table[i].default_value,
			       "default", err, err_len);
		if (rc < 0)
			goto out;
	}
	if (!path)
		path = getenv("FLOWSIFT_CONFIG");
	if (!path && access("flowsift.conf", F_OK) == 0)
		path = "flowsift.conf";
	if (path) {
		rc = load_file(config, path, err, err_len);
		if (rc < 0)
			goto out;
	}
	rc = load_environment(config, err, err_len);
out:
	if (rc < 0) {
		fs_config_free(config);
		return rc;
	}
	*out = config;
	return 0;
}

void
fs_config_free(struct fs_config *config)
{
	if (!config)
		return;
	for (size_t i = 0; i < KEY_COUNT; i++)
		free(config->values[i]);
	for (size_t i = 0; i < config->kafka_count; i++) {
		free(config->kafka[i].name);
		free(config->kafka[i].value);
	}
	free(config->kafka);
	free(config);
}

static int
require_key(const char *key)
{
	int i = find_key(key);

	if (i < 0) {
		/* A key missing from the table is a programming error, not input. */
		fs_log(FS_LOG_ERR, "config", "key '%s' is not in the configuration table", key);
		abort();
	}
	return i;
}

int
fs_config_has(const struct fs_config *config, const char *key)
{
	(void)config;
	return find_key(key) >= 0;
}

const char *
fs_config_str(const struct fs_config *config, const char *key)
{
	return config->values[require_key(key)];
}

int64_t
fs_config_int(const struct fs_config *config, const char *key)
{
	return config->ints[require_key(key)];
}

int
fs_config_each_kafka(const struct fs_config *config, fs_config_kafka_fn *fn,
		     void *opaque)
{
	for (size_t i = 0; i < config->kafka_count; i++) {
		int rc = fn(config->kafka[i].name, config->kafka[i].value, opaque);

		if (rc)
			return rc;
	}
	return 0;
}

/* Copies the first line of <run.dir>/<name> into buf. */
static int
read_run_file(const struct fs_config *config, const char *name, char *buf,
	      size_t len, char *err, size_t err_len)
{
	char path[1024];
	FILE *file;
	char *line;

	snprintf(path, sizeof(path), "%s/%s", fs_config_str(config, "run.dir"), name);
	file = fopen(path, "r");
	if (!file)
		return fail(err, err_len, FS_ERR_NOT_FOUND, "cannot read '%s': %s",
			    path, strerror(errno));
	line = fgets(buf, (int)len, file);
	fclose(file);
	if (!line)
		return fail(err, err_len, FS_ERR_NOT_FOUND, "'%s' is empty", path);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		return fail(err, err_len, FS_ERR_NOT_FOUND, "'%s' is empty", path);
	return 0;
}

int
fs_config_bootstrap(const struct fs_config *config, char *buf, size_t len,
		    char *err, size_t err_len)
{
	const char *servers = fs_config_str(config, "kafka.bootstrap.servers");
	int rc;

	if (servers[0] != '\0') {
		snprintf(buf, len, "%s", servers);
		return 0;
	}
	rc = read_run_file(config, "broker.addr", buf, len, err, err_len);
	if (rc < 0) {
		char reason[512];

		snprintf(reason, sizeof(reason), "%s", err);
		return fail(err, err_len, rc,
			    "no Kafka broker configured and no embedded broker running (%s): "
			    "start `make run` or set kafka.bootstrap.servers", reason);
	}
	return 0;
}

int
fs_config_redis_url(const struct fs_config *config, char *buf, size_t len,
		    char *err, size_t err_len)
{
	const char *url = fs_config_str(config, "redis.url");
	int rc;

	if (url[0] != '\0') {
		snprintf(buf, len, "%s", url);
		return 0;
	}
	rc = read_run_file(config, "redis.url", buf, len, err, err_len);
	if (rc < 0) {
		char reason[512];

		snprintf(reason, sizeof(reason), "%s", err);
		return fail(err, err_len, rc,
			    "no Redis configured and none started by `make run` (%s): "
			    "start `make run` or set redis.url", reason);
	}
	return 0;
}

void
fs_config_write_docs(int fd)
{
	FILE *out;
	int copy;

	if (fd < 0)
		fd = STDERR_FILENO;
	copy = dup(fd);
	if (copy < 0)
		return;
	out = fdopen(copy, "w");
	if (!out) {
		close(copy);
		return;
	}
	fprintf(out, "| key | type | default | range | meaning |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key_def *k = &key_table[i];
		char env[256];
		size_t j;

		for (j = 0; k->name[j] && j + 1 < sizeof(env); j++)
			env[j] = k->name[j] == '.' ? '_' : (char)toupper((unsigned char)k->name[j]);
		env[j] = '\0';
		if (k->type == KEY_INT)
			fprintf(out, "| `%s` (`FLOWSIFT_%s`) | integer | `%s` | %lld..%lld | %s |\n",
				k->name, env, k->default_value, (long long)k->min,
				(long long)k->max, k->doc);
		else
			fprintf(out, "| `%s` (`FLOWSIFT_%s`) | string | `%s` | | %s |\n",
				k->name, env, k->default_value, k->doc);
	}
	fclose(out);
}
