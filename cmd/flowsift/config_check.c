/* config_check.c - checks configured values with the parsers the programs use. */
#include "config_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "alert/syslog.h"
#include "config/config.h"
#include "core/result.h"
#include "detect/detect.h"
#include "enrich/geoip.h"
#include "enrich/if_map.h"
#include "enrich/prefix_table.h"
#include "enrich/sampling.h"
#include "enrich/services.h"
#include "filter/rules_file.h"
#include "kafka/kafka_conf.h"
#include "metrics/http_server.h"
#include "net/cidr.h"
#include "net/udp_receiver.h"
#include "redis/redis_url.h"

/* Keys that contain one TCP address of an HTTP server.  An empty value turns the server off. */
static const char *const http_listen_keys[] = {
	"ingest.metrics.listen", "enrich.metrics.listen", "filter.metrics.listen",
	"report.metrics.listen", "console.listen",
};

static int
check_listen(const struct fs_config *config, char *err, size_t err_len)
{
	char reason[512];
	int rc;

	rc = fs_udp_listen_check(fs_config_str(config, "ingest.listen"), reason, sizeof(reason));
	if (rc < 0) {
		snprintf(err, err_len, "ingest.listen: %s", reason);
		return rc;
	}
	for (size_t i = 0; i < sizeof(http_listen_keys) / sizeof(http_listen_keys[0]); i++) {
		const char *value = fs_config_str(config, http_listen_keys[i]);
		struct sockaddr_storage addr;

		if (value[0] == '\0')
			continue;
		rc = fs_http_listen_resolve(value, &addr, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(err, err_len, "%s: %s", http_listen_keys[i], reason);
			return rc;
		}
	}
	return 0;
}

/* redis.url when set; an empty one names the URL file of `make run`, which may not exist yet. */
static int
check_redis(const struct fs_config *config, char *err, size_t err_len)
{
	struct fs_redis_url url;
	int rc;

	if (fs_config_str(config, "redis.url")[0] == '\0')
		return 0;
	rc = fs_redis_url_from_config(&url, config, err, err_len);
	memset(&url, 0, sizeof(url));
	return rc;
}

static int
check_detect(const struct fs_config *config, char *err, size_t err_len)
{
	struct fs_detect_settings settings;
	char shorter[64] = "";
	int rc, shorter_more = 0;

	rc = fs_detect_settings_load(&settings, config, err, err_len);
	/*
	 * Clearing looks at when a rule last matched, but the window still
	 * contains the flows.  So with a shorter quiet period, an alert can clear
	 * and be raised again, under a new id, from the same flows.
	 */
	for (int r = 0; rc == 0 && r < FS_RULE_COUNT; r++) {
		bool on = settings.rules[r].threshold > 0 &&
			  (r != FS_RULE_SMTP || settings.mail_servers.count > 0);

		if (!on || settings.quiet_s >= settings.rules[r].window_s)
			continue;
		if (shorter[0] == '\0')
			snprintf(shorter, sizeof(shorter), "detect.%s.window",
				 fs_alert_rule_name((enum fs_alert_rule)r));
		else
			shorter_more++;
	}
	if (shorter[0])
		fprintf(stderr, "flowsift config: note: alert.quiet (%lld s) is shorter than %s%s: "
			"an alert can clear and be raised again from flows its window still holds\n",
			(long long)settings.quiet_s, shorter,
			shorter_more ? " and the windows of other rules" : "");
	/* A /0 is valid, but in these lists it covers a whole address family. */
	for (size_t i = 0; rc == 0 && i < settings.allowlist.count; i++) {
		if (settings.allowlist.items[i].len == 0)
			fprintf(stderr, "flowsift config: note: detect.allowlist has a /0, so no rule "
				"counts any IPv%d flow\n",
				settings.allowlist.items[i].addr.family == 6 ? 6 : 4);
	}
	for (size_t i = 0; rc == 0 && i < settings.mail_servers.count; i++) {
		if (settings.mail_servers.items[i].len == 0)
			fprintf(stderr, "flowsift config: note: detect.smtp.mail.servers has a /0, so "
				"the smtp rule treats every IPv%d host as a mail server\n",
				settings.mail_servers.items[i].addr.family == 6 ? 6 : 4);
	}
	fs_detect_settings_release(&settings);
	return rc;
}

/* Parses the exporter allowlist and the sampling overrides as ingest and enrich do. */
static int
check_exporter_lists(const struct fs_config *config, char *err, size_t err_len)
{
	struct fs_cidr_list allow;
	struct fs_sampling sampling;
	char reason[512];
	int rc;

	rc = fs_cidr_list_parse(&allow, fs_config_str(config, "ingest.exporters.allow"), reason,
				sizeof(reason));
	if (rc < 0) {
		snprintf(err, err_len, "ingest.exporters.allow: %s", reason);
		return rc;
	}
	fs_cidr_list_release(&allow);
	rc = fs_sampling_init(&sampling, fs_config_str(config, "enrich.sampling.override"), reason,
			      sizeof(reason));
	if (rc < 0) {
		snprintf(err, err_len, "enrich.sampling.override: %s", reason);
		return rc;
	}
	fs_sampling_release(&sampling);
	return 0;
}

static int
check_syslog(const struct fs_config *config, char *err, size_t err_len)
{
	const char *target = fs_config_str(config, "alert.syslog.target");
	struct fs_syslog *sender;
	char reason[512];

	if (target[0] == '\0')
		return 0;
	sender = fs_syslog_new(target, (int)fs_config_int(config, "alert.syslog.facility"),
			       "flowsift-config", reason, sizeof(reason));
	if (!sender) {
		snprintf(err, err_len, "alert.syslog.target: %s", reason);
		return FS_ERR_INVALID;
	}
	fs_syslog_free(sender);
	return 0;
}

struct kafka_check {
	rd_kafka_conf_t *conf;
	char *err;
	size_t err_len;
};

static int
check_one_property(const char *name, const char *value, void *opaque)
{
	struct kafka_check *check = opaque;
	char reason[512];
	int rc;

	rc = fs_kafka_conf_set(check->conf, name, value, reason, sizeof(reason));
	if (rc < 0)
		snprintf(check->err, check->err_len, "kafka.%s: %s", name, reason);
	return rc;
}

/* Sets every kafka.* property on a scratch librdkafka configuration, as each client does. */
static int
check_kafka(const struct fs_config *config, char *err, size_t err_len)
{
	struct kafka_check check = { rd_kafka_conf_new(), err, err_len };
	int rc;

	if (!check.conf) {
		snprintf(err, err_len, "out of memory for a Kafka configuration");
		return FS_ERR_SYSTEM;
	}
	rc = fs_config_each_kafka(config, check_one_property, &check);
	rd_kafka_conf_destroy(check.conf);
	return rc;
}

/* Rejects a default route that would send flowsift-filter's flows back to its input. */
static int
check_filter(const struct fs_config *config, char *err, size_t err_len)
{
	const char *route = fs_config_str(config, "filter.default.route");
	const char *loop = route[0] ? fs_config_filter_loop(config, route) : NULL;

	if (loop == NULL)
		return 0;
	snprintf(err, err_len,
		 "filter.default.route '%s' is also %s, so unmatched flows would come back "
		 "to flowsift-filter without end; route them to another topic",
		 route, loop);
	return FS_ERR_INVALID;
}

/*
 * Returns true when path does not exist on this machine, after a note on
 * stderr unless quiet.  Each worker loads only its own files, and in a
 * cluster they lie in that worker's pod, so a file that is missing here is
 * no error: the worker itself stops at start when its file is missing.
 */
static bool
absent_here(const char *key, const char *path, bool quiet)
{
	if (access(path, F_OK) == 0 || errno != ENOENT)
		return false;
	if (!quiet)
		fprintf(stderr, "flowsift config: note: %s: '%s' is not on this machine, so it was "
			"not checked; the program that loads it stops at start without it\n",
			key, path);
	return true;
}

/*
 * Loads filter.rules as flowsift-filter does at start, when the file is on
 * this machine.  An empty value turns the check off.  A missing file at the
 * default path gets no note, because `make run` then starts no
 * flowsift-filter.
 */
static int
check_filter_rules(const struct fs_config *config, char *err, size_t err_len)
{
	const char *path = fs_config_str(config, "filter.rules");
	struct fs_filter_error error;
	struct fs_ruleset *rules;
	int rc;

	if (path[0] == '\0' ||
	    absent_here("filter.rules", path, !fs_config_is_set(config, "filter.rules")))
		return 0;
	rc = fs_rules_file_load(&rules, path, config, &error);
	fs_ruleset_free(rules);
	if (rc < 0)
		snprintf(err, err_len, "filter.rules: %s: %s",
			 rc == FS_ERR_NOT_FOUND ? "rules file not loaded" : "invalid rules file",
			 error.text);
	return rc;
}

/*
 * Loads the files and lists flowsift-enrich loads at start, with the same
 * functions: the GeoIP databases, the interface map and the prefix list
 * when set and on this machine, the home networks, and the services
 * database unless it is "none" or not on this machine.
 */
static int
check_enrich_files(const struct fs_config *config, char *err, size_t err_len)
{
	const char *city = fs_config_str(config, "enrich.geoip.city");
	const char *asn = fs_config_str(config, "enrich.geoip.asn");
	const char *if_map_path = fs_config_str(config, "enrich.interfaces.map");
	const char *prefixes_path = fs_config_str(config, "enrich.prefixes");
	const char *services_path = fs_config_str(config, "enrich.services");
	struct fs_geoip *geoip;
	struct fs_if_map *if_map;
	struct fs_prefix_table *prefixes;
	struct fs_services *services;
	char reason[768];
	int rc;

	/* The databases are opened one at a time, so the message names the key of the bad one. */
	if (city[0] != '\0' && !absent_here("enrich.geoip.city", city, false)) {
		rc = fs_geoip_open(city, NULL, &geoip, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(err, err_len, "enrich.geoip.city: %s", reason);
			return rc;
		}
		fs_geoip_free(geoip);
	}
	if (asn[0] != '\0' && !absent_here("enrich.geoip.asn", asn, false)) {
		rc = fs_geoip_open(NULL, asn, &geoip, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(err, err_len, "enrich.geoip.asn: %s", reason);
			return rc;
		}
		fs_geoip_free(geoip);
	}
	if (if_map_path[0] != '\0' && !absent_here("enrich.interfaces.map", if_map_path, false)) {
		rc = fs_if_map_load(if_map_path, &if_map, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(err, err_len, "enrich.interfaces.map: %s", reason);
			return rc;
		}
		fs_if_map_free(if_map);
	}
	if (prefixes_path[0] != '\0' && !absent_here("enrich.prefixes", prefixes_path, false)) {
		rc = fs_prefix_table_load(prefixes_path, &prefixes, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(err, err_len, "enrich.prefixes: %s", reason);
			return rc;
		}
		fs_prefix_table_free(prefixes);
	}
	prefixes = fs_prefix_table_new();
	if (prefixes == NULL) {
		snprintf(err, err_len, "out of memory for the home networks");
		return FS_ERR_SYSTEM;
	}
	rc = fs_prefix_table_add_list(prefixes, fs_config_str(config, "enrich.home.networks"),
				      reason, sizeof(reason));
	fs_prefix_table_free(prefixes);
	if (rc < 0) {
		snprintf(err, err_len, "enrich.home.networks: %s", reason);
		return rc;
	}
	/* An empty value names the system's services file. */
	if (strcmp(services_path, "none") != 0 &&
	    !absent_here("enrich.services", services_path[0] ? services_path : FS_SERVICES_DEFAULT_PATH,
			 false)) {
		rc = fs_services_load(services_path, &services, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(err, err_len, "enrich.services: %s", reason);
			return rc;
		}
		fs_services_free(services);
	}
	return 0;
}

/*
 * Checks where flowsift-report appends its JSON lines (alert.json.output):
 * a folder there is an error, and a folder that is not on this machine
 * gets a note, as flowsift-report stops at start when it cannot open the
 * file.  Empty (off) and "-" (standard output) need no check.
 */
static int
check_alert_output(const struct fs_config *config, char *err, size_t err_len)
{
	const char *path = fs_config_str(config, "alert.json.output");
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct stat st;

	if (path[0] == '\0' || strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "alert.json.output: '%s' is %s; name a file, or - for standard "
			 "output", path, S_ISDIR(st.st_mode) ? "a folder" : "not a regular file");
		return FS_ERR_INVALID;
	}
	if (slash == NULL || slash == path || (size_t)(slash - path) >= sizeof(dir))
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		snprintf(err, err_len, "alert.json.output: '%s' is not a folder, so '%s' cannot be "
			 "created", dir, path);
		return FS_ERR_INVALID;
	}
	absent_here("alert.json.output", dir, false);
	return 0;
}

int
config_check_values(const struct fs_config *config, char *err, size_t err_len)
{
	int rc;

	rc = check_listen(config, err, err_len);
	if (rc == 0)
		rc = check_filter(config, err, err_len);
	if (rc == 0)
		rc = check_filter_rules(config, err, err_len);
	if (rc == 0)
		rc = check_redis(config, err, err_len);
	if (rc == 0)
		rc = check_detect(config, err, err_len);
	if (rc == 0)
		rc = check_exporter_lists(config, err, err_len);
	if (rc == 0)
		rc = check_enrich_files(config, err, err_len);
	if (rc == 0)
		rc = check_syslog(config, err, err_len);
	if (rc == 0)
		rc = check_alert_output(config, err, err_len);
	if (rc == 0)
		rc = check_kafka(config, err, err_len);
	return rc;
}
